#!/bin/sh
# Verdicts that mean what they say.
#   1. the smallest scenario passes seeds 1-20 with the default, strict
#      bounds (lost_max 0s, zombie_max 0s): ordinary replication and expiry
#      are inside the protocol-derived allowances, not loss;
#   2. a fault-free run with churn (registrations while the servers boot,
#      deregistrations and client crashes) has no lost and no zombie window
#      over seeds 1-100, and records none in the database;
#   3. `none` as a bound is refused by validate and run alike, with its
#      place and both spellings; `unchecked` turns a check off;
#   4. validate and run refuse an unknown counter through the same loader,
#      with its place; `distrosim counters` lists every counter the loader
#      accepts; every file in tests/scenarios-good validates and runs;
#   5. `distrosim --version` prints the build id runs record.
# Usage: test_verdicts.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$src"

# 1. minimal.yaml, strict defaults.
"$bin" validate --print tests/scenarios-good/minimal.yaml > "$tmp/minimal.print" 2>/dev/null
grep -q '^  lost_max: 0s$' "$tmp/minimal.print" || fail "the default lost_max is not 0s"
grep -q '^  zombie_max: 0s$' "$tmp/minimal.print" || fail "the default zombie_max is not 0s"
"$bin" run tests/scenarios-good/minimal.yaml --seeds 1-20 -j 2 > "$tmp/minimal.out" \
    || fail "minimal.yaml failed with the default bounds: $(grep -m1 failed: "$tmp/minimal.out")"
grep -q '^run: 20 runs, 20 passed' "$tmp/minimal.out" || fail "minimal.yaml: $(tail -1 "$tmp/minimal.out")"
echo "ok 1: minimal.yaml passes seeds 1-20 with strict default bounds"

# 2. Fault-free churn: no lost or zombie window at all, over 100 seeds.
"$bin" run tests/scenarios-good/churn-fault-free.yaml --seeds 1-100 -j 2 --db "$tmp/churn.db" > "$tmp/churn.out" \
    || fail "churn-fault-free: $(grep -m1 failed: "$tmp/churn.out")"
if command -v sqlite3 > /dev/null; then
    n=$(sqlite3 "$tmp/churn.db" "select count(*) from windows where kind in ('lost', 'zombie')")
    [ "$n" -eq 0 ] || fail "churn-fault-free recorded $n lost or zombie windows"
    runs=$(sqlite3 "$tmp/churn.db" "select count(*) from runs where verdict = 'pass'")
    [ "$runs" -eq 100 ] || fail "churn-fault-free: $runs of 100 runs passed"
fi
echo "ok 2: a fault-free run with churn has no lost or zombie window over seeds 1-100"

# 3. Bound spellings.
printf 'name: x\nduration: 20s\nexpect:\n  lost_max: none\n' > "$tmp/none.yaml"
if "$bin" validate "$tmp/none.yaml" 2> "$tmp/none.err"; then fail "validate accepted lost_max: none"; fi
grep -q "none.yaml:4:13: expect.lost_max: \"none\" is ambiguous: write 0s to allow none, or unchecked" "$tmp/none.err" \
    || fail "validate, lost_max none: $(cat "$tmp/none.err")"
if "$bin" run "$tmp/none.yaml" --seeds 1 > "$tmp/none.out" 2> "$tmp/none.err"; then rc=0; else rc=$?; fi
[ "$rc" -eq 2 ] || fail "run with lost_max: none exited $rc, expected 2"
grep -q 'is ambiguous' "$tmp/none.err" || fail "run, lost_max none: $(cat "$tmp/none.err")"
printf 'name: x\nduration: 20s\nexpect:\n  lost_max: unchecked\n  zombie_max: unchecked\n' > "$tmp/off.yaml"
"$bin" validate --print "$tmp/off.yaml" 2>/dev/null | grep -q '^  lost_max: unchecked$' || fail "unchecked is not kept"
"$bin" run "$tmp/off.yaml" --seeds 1 > "$tmp/off.out" || fail "unchecked bounds: $(cat "$tmp/off.out")"
echo "ok 3: none is refused with both spellings; unchecked turns a check off"

# 4. Counters: one table for validate, run and `distrosim counters`.
"$bin" counters > "$tmp/counters.out" || fail "distrosim counters failed"
listed=$(grep -c '^  [a-z0-9_]* ' "$tmp/counters.out")
# The model's counter struct: every uint64_t field is one counter.
want=$(sed -n '/^typedef struct distro_counters {/,/^} distro_counters;/p' "$src/model/distro_cluster.h" | grep -c '^ *uint64_t ')
[ "$listed" -eq "$want" ] || fail "distrosim counters listed $listed counters, expected $want"
grep -q '^  sync_keys_retried  *keys queued again' "$tmp/counters.out" || fail "counters without descriptions"
sed -n 's/^  \([a-z0-9_]*\) .*/\1/p' "$tmp/counters.out" > "$tmp/names"
for name in $(cat "$tmp/names"); do
    printf 'name: x\nduration: 20s\nexpect:\n  counters: [{name: %s, min: 0}]\n' "$name" > "$tmp/c.yaml"
    "$bin" validate "$tmp/c.yaml" 2> "$tmp/c.err" || fail "validate refused listed counter $name: $(cat "$tmp/c.err")"
done
"$bin" run "$tmp/c.yaml" --seeds 1 > /dev/null || fail "run refused listed counter $name"
printf 'name: x\nduration: 20s\nexpect:\n  counters:\n    - {name: sync_retries, min: 1}\n' > "$tmp/bad.yaml"
if "$bin" validate "$tmp/bad.yaml" 2> "$tmp/bad.err"; then fail "validate accepted counter sync_retries"; fi
grep -q 'bad.yaml:5:14: expect.counters\[0\].name: unknown counter "sync_retries" (did you mean sync_keys_retried?' \
    "$tmp/bad.err" || fail "validate, unknown counter: $(cat "$tmp/bad.err")"
grep -q 'valid counters: sync_batches_sent, ' "$tmp/bad.err" || fail "validate did not list the valid counters"
if "$bin" run "$tmp/bad.yaml" --seeds 1 > /dev/null 2> "$tmp/badrun.err"; then rc=0; else rc=$?; fi
[ "$rc" -eq 2 ] || fail "run with an unknown counter exited $rc, expected 2"
grep -q 'bad.yaml:5:14: expect.counters\[0\].name: unknown counter "sync_retries"' "$tmp/badrun.err" \
    || fail "run, unknown counter: $(cat "$tmp/badrun.err")"
for f in tests/scenarios-good/*.yaml; do
    "$bin" validate "$f" 2> "$tmp/v.err" || fail "validate $f: $(cat "$tmp/v.err")"
    if "$bin" run "$f" --seeds 1 > "$tmp/r.out" 2> "$tmp/r.err"; then rc=0; else rc=$?; fi
    [ "$rc" -le 1 ] || fail "run $f exited $rc: $(cat "$tmp/r.err" "$tmp/r.out")"
done
echo "ok 4: validate and run refuse the same counters; every good file validates and runs"

# 5. --version.
v=$("$bin" --version) || fail "--version failed"
echo "$v" | grep -qE '^distrosim [0-9]+\.[0-9]+\.[0-9]+ [0-9a-f]+(-dirty)?$' || fail "--version printed '$v'"
echo "ok 5: --version prints $v"

# 6. Percentile and count bounds of windows (reports/SCHEMA.md): `lost:
# {p99, count}` bounds the nearest-rank 99th percentile of the lengths of
# the run's lost windows (an open one counting to the end) and their
# number.  The observed figures must be those the database's windows give.
cat > "$tmp/pct.yaml" <<'YAML'
name: pct
cluster: {nodes: 3}
workload: {services: 20, instances_per_service: 2}
faults:
  - {at: 30s, partition: [[0, 1], [2]]}
  - {at: 70s, heal: all}
phases: {chaos: 2m, quiet: 1m}
expect:
  lost: {max: 60s, p99: 1s, count: 3}
  zombie: {p99: 0s, count: 0}
YAML
if "$bin" run "$tmp/pct.yaml" --seed 1 --db "$tmp/pct.db" > "$tmp/pct.out"; then fail "pct: the tight p99 and count passed"; fi
n=$(sqlite3 "$tmp/pct.db" "select count(*) from windows where kind = 'lost'")
[ "$n" -gt 3 ] || fail "pct: only $n lost windows; the test needs more than 3"
# Nearest rank: the value at 1-based rank ceil(0.99 n) of the sorted lengths.
p99=$(sqlite3 "$tmp/pct.db" "select printf('%.3fs', (coalesce(end_ns, (select end_ns from runs)) - start_ns) / 1e9)
    from windows where kind = 'lost' order by coalesce(end_ns, (select end_ns from runs)) - start_ns, id
    limit 1 offset (($n * 99 + 99) / 100) - 1")
[ "$(sqlite3 "$tmp/pct.db" "select observed || '|' || bound || '|' || ok from expects where name = 'lost p99'")" = "$p99|1.000s|0" ] ||
    fail "pct: lost p99 is not the nearest-rank p99 of the windows ($p99): $(sqlite3 "$tmp/pct.db" 'select * from expects')"
[ "$(sqlite3 "$tmp/pct.db" "select observed || '|' || bound || '|' || ok from expects where name = 'lost count'")" = "$n|<= 3|0" ] ||
    fail "pct: lost count is not the number of windows"
[ "$(sqlite3 "$tmp/pct.db" "select observed || '|' || ok from expects where name in ('zombie p99', 'zombie count') order by id")" = "0.000s|1
0|1" ] || fail "pct: no zombie window must give p99 0 and count 0"
"$bin" run "$tmp/pct.yaml" --seed 1 --set "expect.lost.p99=$p99" --set "expect.lost.count=$n" > "$tmp/pct2.out" ||
    fail "pct: bounds equal to the observed figures failed: $(grep failed: "$tmp/pct2.out")"
echo "ok 6: lost p99 ($p99) and count ($n) are the windows' nearest-rank p99 and number"
