#!/bin/sh
# Shards and merge:
#   1. a campaign of 201 runs (3 scenarios x 67 seeds, passing and failing
#      runs; SEEDS seeds instead of 67 when given: the sanitizer build), run
#      as 4 shards with GNU parallel (scripts/shard-parallel.sh)
#      and merged gives the same report and the same table contents (ids
#      aside; they match too) as one `check` over the same jobs; shard K
#      holds exactly jobs K, K+4, ...; both record the same plan;
#   2. the same for a sweep split 3 ways, merged from a shard list given
#      out of order, including its parameters table;
#   3. an empty shard (more shards than jobs) runs nothing and exits 0;
#      a missing or an interrupted shard is a warning;
#   4. bad input is refused with exit 2 and no output: --shard 0/4, 5/4,
#      4/0, x; replay --shard; merge of a missing file, a non-distrosim
#      file, the same file twice, the same shard twice, an existing -o,
#      different builds and an older schema (both merged with --force).
# Usage: test_shard_merge.sh DISTROSIM SOURCE_DIR [SEEDS]
set -eu
bin=$1
src=$2
seeds=${3:-67}
runs=$((3 * seeds))
sweep_seeds=$((seeds < 10 ? seeds : 10))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v parallel > /dev/null || fail "GNU parallel is not installed (.ci/setup installs it)"
good="$src/tests/scenarios-good"
scns="$good/minimal.yaml $good/partition-heal.yaml $src/tests/scenarios-fail/never-heals.yaml"

# dump, report_md, same: tests/shard_compare.sh
. "$src/tests/shard_compare.sh"

# 1. check: one machine, and 4 shards through the GNU parallel recipe.
mkdir -p "$tmp/one"
set +e
# shellcheck disable=SC2086
"$bin" check $scns --seeds "1-$seeds" --set expect.converge_within=21s -j 2 --quiet --db "$tmp/one/all.db" > /dev/null
s=$?
# shellcheck disable=SC2086
DISTROSIM=$bin "$src/scripts/shard-parallel.sh" -n 4 -P 2 "$tmp/par" \
    check $scns --seeds "1-$seeds" --set expect.converge_within=21s > "$tmp/par.log" 2>&1
p=$?
set -e
[ "$s" = 1 ] || fail "one check exited $s, want 1 (some runs fail)"
[ "$p" = 1 ] || { cat "$tmp/par.log"; fail "shard-parallel.sh exited $p, want 1"; }
[ "$(sqlite3 "$tmp/one/all.db" "select count(*), sum(verdict = 'pass') > 0, sum(verdict = 'fail') > 0 from runs")" = "$runs|1|1" ] ||
    fail "one machine: want $runs runs, passing and failing"
for k in 1 2 3 4; do
    got=$(sqlite3 "$tmp/par/shard-$k.db" "select count(*), sum((job - 1) % 4 <> $k - 1), min(job) from runs")
    want="$(( (runs - k) / 4 + 1 ))|0|$k"
    [ "$got" = "$want" ] || fail "shard $k/4 holds count|wrong|first $got, want $want"
    [ "$(sqlite3 "$tmp/par/shard-$k.db" "select shard_index || '/' || shard_count || ' ' || runs_planned from campaigns")" = \
      "$k/4 $(( (runs - k) / 4 + 1 ))" ] || fail "shard $k/4: campaign record"
done
dump "$tmp/one/all.db" > "$tmp/one.dump"
dump "$tmp/par/all.db" > "$tmp/par.dump"
same "table contents (check)" "$tmp/one.dump" "$tmp/par.dump"
[ "$(sqlite3 "$tmp/one/all.db" "select group_concat(id || ':' || job) from (select id, job from runs order by id)")" = \
  "$(sqlite3 "$tmp/par/all.db" "select group_concat(id || ':' || job) from (select id, job from runs order by id)")" ] ||
    fail "run ids differ"
report_md "$tmp/one/all.db" "$tmp/one/report.md" > "$tmp/one.md"
report_md "$tmp/par/all.db" "$tmp/par/report-again.md" > "$tmp/par.md"
same "Markdown reports (check)" "$tmp/one.md" "$tmp/par.md"
grep -q "^| never-heals | $seeds | $seeds | " "$tmp/par.md" || fail "merged report: overview row"
grep -q '^| run | scenario | seed |' "$tmp/par.md" || fail "merged report lists no failing run"
grep -q " | finished, shard 3/4 | $(( (runs - 3) / 4 + 1 )) |\$" "$tmp/par/report.md" || fail "merged report: shard 3/4 in the campaign list"
grep -q ", shard 3/4</td>" "$tmp/par/report.html" || fail "merged HTML report: shard 3/4 in the campaign list"
[ "$(sqlite3 "$tmp/one/all.db" "select plan from campaigns")" = \
  "$(sqlite3 "$tmp/par/all.db" "select distinct plan from campaigns")" ] || fail "plans differ"
[ "$(sqlite3 "$tmp/par/all.db" "select sum(runs_planned), sum(runs_done), sum(passed), sum(failed), sum(errors) from campaigns")" = \
  "$(sqlite3 "$tmp/one/all.db" "select runs_planned, runs_done, passed, failed, errors from campaigns")" ] ||
    fail "campaign counts differ"
echo "ok 1: $runs runs in 4 shards with GNU parallel, merged = one check (tables and report)"

# 2. sweep: 2 values x 10 seeds in 3 shards, merged from an out-of-order list.
ph="$good/partition-heal.yaml"
"$bin" sweep "$ph" --set cluster.distro.verify_interval=2s,5s --seeds "1-$sweep_seeds" -j 2 --quiet --db "$tmp/sw-one.db" > /dev/null
for k in 1 2 3; do
    "$bin" sweep "$ph" --set cluster.distro.verify_interval=2s,5s --seeds "1-$sweep_seeds" --shard "$k/3" --quiet \
        --db "$tmp/sw-$k.db" > /dev/null
done
"$bin" merge "$tmp/sw-3.db" "$tmp/sw-1.db" "$tmp/sw-2.db" -o "$tmp/sw-all.db" > /dev/null
dump "$tmp/sw-one.db" > "$tmp/sw-one.dump"
dump "$tmp/sw-all.db" > "$tmp/sw-all.dump"
same "table contents (sweep)" "$tmp/sw-one.dump" "$tmp/sw-all.dump"
grep -q "^1|cluster.distro.verify_interval|2s$" "$tmp/sw-all.dump" || fail "sweep dump has no parameter rows"
mkdir -p "$tmp/sw1" "$tmp/sw2"
cp "$tmp/sw-one.db" "$tmp/sw1/sweep.db"
cp "$tmp/sw-all.db" "$tmp/sw2/sweep.db"
report_md "$tmp/sw1/sweep.db" "$tmp/sw1/r.md" > "$tmp/sw1.md"
report_md "$tmp/sw2/sweep.db" "$tmp/sw2/r.md" > "$tmp/sw2.md"
same "Markdown reports (sweep)" "$tmp/sw1.md" "$tmp/sw2.md"
echo "ok 2: a sweep in 3 shards, merged out of order = one sweep"

# 3. More shards than jobs: the last is empty.  A missing shard warns.
"$bin" run "$good/minimal.yaml" --seeds 1-3 --shard 4/4 --db "$tmp/empty.db" > "$tmp/empty.out" 2>&1 ||
    fail "an empty shard exited $?"
[ "$(sqlite3 "$tmp/empty.db" "select count(*), (select runs_planned from campaigns) from runs")" = "0|0" ] ||
    fail "the empty shard wrote runs"
"$bin" merge "$tmp/par/shard-1.db" "$tmp/par/shard-3.db" -o "$tmp/part.db" > /dev/null 2> "$tmp/part.err" ||
    fail "merging 2 of 4 shards exited $?"
grep -q "has 2 of its 4 shards here; missing: 2/4 4/4" "$tmp/part.err" || { cat "$tmp/part.err"; fail "no missing-shard warning"; }
[ "$(sqlite3 "$tmp/part.db" "select group_concat(job) from (select job from runs order by id limit 4)")" = "1,3,5,7" ] ||
    fail "two shards merged out of job order"
cp "$tmp/par/shard-2.db" "$tmp/stopped.db"
sqlite3 "$tmp/stopped.db" "update campaigns set state = 'interrupted', signal = 'SIGINT', runs_done = 1"
"$bin" merge --quiet "$tmp/par/shard-1.db" "$tmp/stopped.db" -o "$tmp/part2.db" > "$tmp/part2.out" 2> "$tmp/part2.err" ||
    fail "merging an interrupted shard exited $?"
grep -q "stopped.db: shard 2/4 did not finish: 1 of its" "$tmp/part2.err" || { cat "$tmp/part2.err"; fail "no unfinished-shard warning"; }
[ ! -s "$tmp/part2.out" ] || fail "merge --quiet printed a summary"
echo "ok 3: an empty shard; a missing or unfinished shard is a warning"

# 4. Refusals: exit 2, a message, and no output file.
refuse() {  # refuse WHAT MESSAGE-PATTERN COMMAND...
    what=$1 pattern=$2
    shift 2
    set +e
    "$@" > "$tmp/r.out" 2> "$tmp/r.err"
    s=$?
    set -e
    [ "$s" = 2 ] || { cat "$tmp/r.err"; fail "$what: exit $s, want 2"; }
    grep -q -- "$pattern" "$tmp/r.err" || { cat "$tmp/r.err"; fail "$what: message"; }
}
for bad in 0/4 5/4 4/0 x 1/ /4 -1/4 1/1000001; do
    refuse "--shard $bad" "expected K/N with 1 <= K <= N" "$bin" check "$good/minimal.yaml" --shard "$bad" --db "$tmp/bad.db"
done
[ ! -e "$tmp/bad.db" ] || fail "a refused --shard created the database"
refuse "replay --shard" "option of run, check and sweep" "$bin" replay "$good/minimal.yaml" --seed 1 --shard 1/2
s1="$tmp/par/shard-1.db"
s2="$tmp/par/shard-2.db"
out="$tmp/out.db"
refuse "missing input" "nope.db: No such file" "$bin" merge "$s1" "$tmp/nope.db" -o "$out"
printf 'not a database\n' > "$tmp/text.db"
refuse "not a database" "text.db" "$bin" merge "$s1" "$tmp/text.db" -o "$out"
sqlite3 "$tmp/foreign.db" "create table notes (body text)"
refuse "foreign database" "not a distrosim database" "$bin" merge "$s1" "$tmp/foreign.db" -o "$out"
refuse "same file twice" "are the same file" "$bin" merge "$s1" "$tmp/par/../par/shard-1.db" -o "$out"
cp "$s1" "$tmp/copy1.db"
refuse "same shard twice" "holds shard 1/4 and .* shard 1/4 of the same campaign" "$bin" merge "$s1" "$tmp/copy1.db" -o "$out"
set +e
# shellcheck disable=SC2086
"$bin" check $scns --seeds "1-$seeds" --set expect.converge_within=21s --shard 1/2 --quiet --db "$tmp/half.db" > /dev/null
set -e
refuse "shards split differently" "holds shard 1/4 and .* shard 1/2 of the same campaign" "$bin" merge "$s1" "$tmp/half.db" -o "$out"
refuse "no output" "usage: distrosim merge" "$bin" merge "$s1"
refuse "no input" "usage: distrosim merge" "$bin" merge -o "$out"
refuse "unknown option" "unknown option --frobnicate" "$bin" merge "$s1" --frobnicate -o "$out"
[ ! -e "$out" ] || fail "a refused merge created its output"
cp "$s2" "$tmp/otherbuild.db"
sqlite3 "$tmp/otherbuild.db" "update runs set build = 'distrosim 0.0.9 feedbee'; update campaigns set build = 'distrosim 0.0.9 feedbee'"
refuse "different builds" "different builds" "$bin" merge "$s1" "$tmp/otherbuild.db" -o "$out"
[ ! -e "$out" ] || fail "a refused merge created its output"
"$bin" merge --force "$s1" "$tmp/otherbuild.db" -o "$out" > /dev/null 2>&1 || fail "merge --force of two builds exited $?"
[ "$(sqlite3 "$out" "select count(distinct build) from runs")" = 2 ] || fail "--force: both builds kept"
rm -f "$out"
# A version-5 file: the columns version 6 added dropped by hand.
cp "$s2" "$tmp/v5.db"
sqlite3 "$tmp/v5.db" "alter table runs drop column job; alter table campaigns drop column shard_count;
                      alter table campaigns drop column shard_index; alter table campaigns drop column plan;
                      pragma user_version = 5"
refuse "older schema" "schema version 5, this build writes 6" "$bin" merge "$s1" "$tmp/v5.db" -o "$out"
[ ! -e "$out" ] || fail "a refused merge created its output"
"$bin" merge --force "$s1" "$tmp/v5.db" -o "$out" > /dev/null 2>&1 || fail "merge --force of a version-5 file exited $?"
n1=$(sqlite3 "$s1" "select count(*) from runs")
n2=$(sqlite3 "$s2" "select count(*) from runs")
[ "$(sqlite3 "$out" "select count(*), count(job) from runs")" = "$((n1 + n2))|$n1" ] ||
    fail "--force: the version-5 file's runs (no job numbers) after the current file's"
# A version-4 file (no client tables either) merges with --force too.
rm -f "$out"
cp "$tmp/v5.db" "$tmp/v4.db"
sqlite3 "$tmp/v4.db" "drop table client_reads; drop table client_anomalies; pragma user_version = 4"
"$bin" merge --force "$s1" "$tmp/v4.db" -o "$out" > /dev/null 2>&1 || fail "merge --force of a version-4 file exited $?"
[ "$(sqlite3 "$out" "select count(*), count(job) from runs")" = "$((n1 + n2))|$n1" ] ||
    fail "--force: the version-4 file's runs"
touch "$tmp/exists.db"
refuse "existing output" "exists; merge writes a new file" "$bin" merge "$s1" -o "$tmp/exists.db"
[ ! -s "$tmp/exists.db" ] || fail "the existing output was written"
# Nothing left beside the outputs.
ls "$tmp" | grep -q 'merge-' && fail "temporary files left: $(ls "$tmp")"
echo "ok 4: bad --shard values and bad merges refused, exit 2, no output"
