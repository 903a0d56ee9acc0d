#!/bin/sh
# Campaign-level checks of the command line (the `run`/`check`/`replay`
# contract of the scenario issue):
#   1. results do not depend on -j: -j 1 and -j 2 write identical databases;
#   2. a campaign killed with SIGKILL leaves a database that passes
#      PRAGMA integrity_check and holds only whole runs;
#   3. exit statuses: 0 all pass, 1 a failure (with its repro command), 2 bad input;
#   4. the same seed gives the same trace hash; replay --trace filters.
# Usage: test_campaign.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
scn="$src/tests/scenarios-good/partition-heal.yaml"

# 1. -j 1 and -j 2 give the same database, byte for byte in content.
"$bin" run "$scn" --seeds 1-6 -j 1 --db "$tmp/j1.db" --quiet > "$tmp/j1.out"
"$bin" run "$scn" --seeds 1-6 -j 2 --db "$tmp/j2.db" --quiet > "$tmp/j2.out"
cmp -s "$tmp/j1.out" "$tmp/j2.out" || fail "-j 1 and -j 2 printed different results"
# The campaign records differ only in what describes the invocation (its
# command line, with -j, and its wall-clock times): compare the rest.
sqlite3 "$tmp/j1.db" .dump | grep -v '^INSERT INTO campaigns ' > "$tmp/j1.sql"
sqlite3 "$tmp/j2.db" .dump | grep -v '^INSERT INTO campaigns ' > "$tmp/j2.sql"
cmp -s "$tmp/j1.sql" "$tmp/j2.sql" || { diff "$tmp/j1.sql" "$tmp/j2.sql" | head -5; fail "-j 1 and -j 2 wrote different databases"; }
rec="select id, build, state, signal, runs_planned, runs_done, passed, failed, errors from campaigns order by id"
[ "$(sqlite3 "$tmp/j1.db" "$rec")" = "$(sqlite3 "$tmp/j2.db" "$rec")" ] || fail "-j 1 and -j 2 recorded different campaigns"
[ "$(sqlite3 "$tmp/j1.db" 'select count(*) from campaigns')" = 1 ] || fail "expected one campaign record"
[ "$(sqlite3 "$tmp/j1.db" 'select count(*) from runs')" = 6 ] || fail "expected 6 runs"
echo "ok 1: -j 1 and -j 2 identical"

# 2. SIGKILL part-way through a campaign.
"$bin" run "$scn" --seeds 1-2000 -j 2 --db "$tmp/kill.db" --quiet > /dev/null 2>&1 &
pid=$!
n=0
i=0
while [ "$i" -lt 600 ]; do
    n=$(sqlite3 "$tmp/kill.db" 'select count(*) from runs' 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 8 ] && break
    sleep 0.05
    i=$((i + 1))
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ "${n:-0}" -ge 8 ] || fail "the campaign wrote no runs before the kill"
[ "$(sqlite3 "$tmp/kill.db" 'pragma integrity_check')" = ok ] || fail "integrity_check after SIGKILL"
partial=$(sqlite3 "$tmp/kill.db" "select count(*) from runs r where children_count !=
  (select count(*) from windows where run_id = r.id) + (select count(*) from convergences where run_id = r.id) +
  (select count(*) from counters where run_id = r.id) + (select count(*) from samples where run_id = r.id) +
  (select count(*) from msgstats where run_id = r.id) + (select count(*) from faults where run_id = r.id) +
  (select count(*) from expects where run_id = r.id) + (select count(*) from run_params where run_id = r.id)")
[ "$partial" = 0 ] || fail "$partial partial runs after SIGKILL"
echo "ok 2: SIGKILL left $(sqlite3 "$tmp/kill.db" 'select count(*) from runs') whole runs, integrity ok"

# 3. Exit statuses.
set +e
"$bin" check "$src/tests/scenarios-good/partition-heal.yaml" --seeds 1-2 > "$tmp/ok.out" 2>&1
s_ok=$?
"$bin" check "$src/tests/scenarios-fail/never-heals.yaml" --seeds 1-2 --junit "$tmp/junit.xml" --markdown "$tmp/sum.md" > "$tmp/fail.out" 2>&1
s_fail=$?
"$bin" check "$src/tests/scenarios-bad/loss-above-one.yaml" > "$tmp/bad.out" 2>&1
s_bad=$?
"$bin" run "$scn" --seeds 9-1 > /dev/null 2>&1
s_flag=$?
set -e
[ "$s_ok" = 0 ] || fail "check on a passing scenario exited $s_ok"
[ "$s_fail" = 1 ] || fail "check on a failing scenario exited $s_fail"
[ "$s_bad" = 2 ] || fail "check on a malformed scenario exited $s_bad"
[ "$s_flag" = 2 ] || fail "a bad --seeds range exited $s_flag"
grep -qF "repro:  $bin run " "$tmp/fail.out" && grep -q "repro:  .* run .*never-heals.yaml --seed 1" "$tmp/fail.out" || fail "no repro command printed"
# The repro names the binary as it was invoked, not a fixed build/distrosim.
ln -s "$bin" "$tmp/other-name"
set +e
"$tmp/other-name" run "$src/tests/scenarios-fail/never-heals.yaml" --seed 1 > "$tmp/fail2.out" 2>&1
set -e
grep -qF "repro:  $tmp/other-name run " "$tmp/fail2.out" || fail "repro does not name the invoked binary"
grep -q "loss-above-one.yaml:4:9: network.loss" "$tmp/bad.out" || fail "no file:line:col error"
# Every failed expectation, not only the first: the isolate never heals
# (convergence never) and the member probes go on.
grep -q '<failure message="converge_within: observed never (fault 0 (isolate, node 2) never ends)' "$tmp/junit.xml" ||
    fail "JUnit has no failure"
[ "$(grep -c '^failed: counter member_probes: observed [0-9]*, bound &lt;= 0$' "$tmp/junit.xml")" = 2 ] ||
    fail "JUnit does not list every failed expectation"
grep -q '<property name="convergence" value="never"/><property name="convergence_never" value="fault 0 (isolate, node 2) never ends"/>' "$tmp/junit.xml" ||
    fail "JUnit properties lack the convergence"
grep -qx "| never-heals | 2 | 0 | 2 | 0 | never (2 runs) |" "$tmp/sum.md" || fail "Markdown summary wrong: $(cat "$tmp/sum.md")"
echo "ok 3: exit statuses 0/1/2, repro, JUnit, Markdown"

# 4. Same seed, same trace hash; replay filters by type and time.
h1=$("$bin" run "$scn" --seed 3 | sed -n 's/.*trace=\([0-9a-f]*\).*/\1/p')
h2=$("$bin" run "$scn" --seed 3 | sed -n 's/.*trace=\([0-9a-f]*\).*/\1/p')
h3=$("$bin" run "$scn" --seed 4 | sed -n 's/.*trace=\([0-9a-f]*\).*/\1/p')
[ -n "$h1" ] && [ "$h1" = "$h2" ] || fail "same seed, different trace hashes ($h1, $h2)"
[ "$h1" != "$h3" ] || fail "different seeds, same trace hash"
"$bin" replay "$scn" --seed 3 --trace --type sync_datum --from 10s --to 20s > "$tmp/trace.out"
[ "$(grep -c "deliver sync_datum" "$tmp/trace.out")" -ge 1 ] || fail "replay printed no sync_datum deliveries"
if grep -v "deliver sync_datum" "$tmp/trace.out" | grep -q "^[0-9]"; then fail "replay --type let other events through"; fi
awk '/^[0-9]/ { split($1, t, "."); if (t[1] < 10 || t[1] >= 20) bad = 1 } END { exit bad }' "$tmp/trace.out" ||
    fail "replay --from/--to let events outside the window through"
echo "ok 4: deterministic trace hash, replay filters"

# 5. JUnit of a sweep: a test case per run, named after its seed and sweep
# point (two points, two seeds: four distinct names), with its wall-clock
# time and properties (seed, trace hash, convergence, the parameter).
"$bin" sweep "$src/tests/scenarios-good/partition-heal.yaml" --set cluster.distro.verify_interval=2s,5s --seeds 1-2 \
    -j 2 --quiet --junit "$tmp/sweep.xml" > "$tmp/sweep.out" 2>&1 || fail "sweep exited $?"
[ "$(grep -c '<testcase ' "$tmp/sweep.xml")" = 4 ] || fail "sweep JUnit: not one test case per run"
[ "$(grep -o '<testcase [^>]*name="[^"]*"' "$tmp/sweep.xml" | sort -u | wc -l)" = 4 ] ||
    fail "sweep JUnit: test case names repeat across sweep points"
grep -Eq '<testcase classname="distrosim.partition-heal" name="seed 2 \[cluster.distro.verify_interval=5s\]" time="[0-9]+\.[0-9]{3}">' \
    "$tmp/sweep.xml" || fail "sweep JUnit: no test case named after seed and point, with a time"
grep -q '<testsuite name="partition-heal \[cluster.distro.verify_interval=2s\]" tests="2"' "$tmp/sweep.xml" ||
    fail "sweep JUnit: suites not named after their point"
h=$("$bin" run "$src/tests/scenarios-good/partition-heal.yaml" --seed 2 --set cluster.distro.verify_interval=5s |
    sed -n 's/^PASS.* convergence=\([0-9.]*s\) .*trace=\([0-9a-f]*\).*/\2 \1/p')
want="<property name=\"seed\" value=\"2\"/><property name=\"trace_hash\" value=\"${h% *}\"/><property name=\"convergence\" value=\"${h#* }\"/>"
grep -qF "$want" "$tmp/sweep.xml" || fail "sweep JUnit: properties differ from the run's ($want)"
grep -qF '<property name="param cluster.distro.verify_interval" value="5s"/>' "$tmp/sweep.xml" ||
    fail "sweep JUnit: no parameter property"
echo "ok 5: JUnit of a sweep: names, times, properties"
