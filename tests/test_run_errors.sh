#!/bin/sh
# Runs that stop early are ERROR results that can be replayed:
#   1. a campaign with a scenario that hits a limit (the event budget,
#      engine.events_budget) and a passing one: the passing runs pass, the
#      limited runs are ERRORs naming the limit, with their repro command,
#      the campaign goes on to the end and exits 2;
#   2. the database holds the ERROR rows (verdict 'error', the message);
#   3. -j 1 and -j 2 agree, so an ERROR does not depend on the threads;
#   4. duration flags read the scenario grammar: a bare number and a value
#      finer than a nanosecond are rejected (exit 2, the loader's words),
#      as in a scenario file;
#   7. run refuses the scenarios that cannot run (timer floors, size,
#      event estimate, a clock before 0) before any run, with validate's
#      words and position, and --set refuses a value below a floor.
# Usage: test_run_errors.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
dir="$src/tests/scenarios-errors"

# 1. The campaign goes on past the ERRORs and exits 2.
set +e
"$bin" run "$dir/budget-spent.yaml" "$dir/steady.yaml" --seeds 1-3 -j 2 --db "$tmp/e.db" > "$tmp/j2.out" 2> "$tmp/j2.err"
rc=$?
set -e
cat "$tmp/j2.out"
[ "$rc" = 2 ] || fail "expected exit status 2 with ERROR runs, got $rc"
[ "$(grep -c '^PASS steady seed=' "$tmp/j2.out")" = 3 ] || fail "the passing scenario's 3 runs did not all pass"
[ "$(grep -c '^ERROR budget-spent seed=' "$tmp/j2.out")" = 3 ] || fail "expected 3 ERROR runs of budget-spent"
[ "$(grep -c 'error: .*event budget (engine.events_budget) of 500 events' "$tmp/j2.out")" = 3 ] ||
    fail "the ERROR does not name the limit"
grep -qF "repro:  $bin run " "$tmp/j2.out" && grep -q 'repro:  .* run .*budget-spent.yaml --seed 2$' "$tmp/j2.out" || fail "no repro command for the ERROR"
grep -q '^run: 6 runs, 3 passed, 0 failed, 3 errors$' "$tmp/j2.out" || fail "wrong summary line"
echo "ok 1: ERROR runs, the campaign goes on, exit 2"

# 2. The database holds every run, the ERRORs with their message.
[ "$(sqlite3 "$tmp/e.db" "select count(*) from runs")" = 6 ] || fail "expected 6 rows"
[ "$(sqlite3 "$tmp/e.db" "select count(*) from runs where verdict = 'pass' and scenario_name = 'steady'")" = 3 ] ||
    fail "expected 3 pass rows"
[ "$(sqlite3 "$tmp/e.db" "select count(*) from runs where verdict = 'error' and scenario_name = 'budget-spent'
     and failure like '%event budget (engine.events_budget)%' and events = 500")" = 3 ] || fail "expected 3 ERROR rows"
echo "ok 2: ERROR rows in the database"

# 3. -j 1 prints the same.
set +e
"$bin" run "$dir/budget-spent.yaml" "$dir/steady.yaml" --seeds 1-3 -j 1 > "$tmp/j1.out" 2>/dev/null
set -e
cmp -s "$tmp/j1.out" "$tmp/j2.out" || fail "-j 1 and -j 2 printed different results"
echo "ok 3: -j 1 and -j 2 agree"

# 4. Duration flags: the scenario grammar, the loader's words.
check_flag() {   # check_flag VALUE EXPECTED-MESSAGE
    set +e
    "$bin" run "$dir/steady.yaml" --seed 1 --trace --from "$1" > /dev/null 2> "$tmp/flag.err"
    frc=$?
    set -e
    [ "$frc" = 2 ] || fail "--from $1: expected exit 2, got $frc"
    grep -qF -- "--from: $2" "$tmp/flag.err" || { cat "$tmp/flag.err"; fail "--from $1: wrong message"; }
    printf 'name: x\nworkload: {register_spread: %s}\n' "$1" > "$tmp/flag.yaml"
    set +e
    "$bin" validate "$tmp/flag.yaml" > /dev/null 2> "$tmp/yaml.err"
    yrc=$?
    set -e
    [ "$yrc" = 2 ] || fail "register_spread: $1: expected exit 2, got $yrc"
    grep -qF -- "workload.register_spread: $2" "$tmp/yaml.err" || { cat "$tmp/yaml.err"; fail "yaml $1: wrong message"; }
}
check_flag 10 'expected a duration such as 250ms, 5s or 2m, got 10'
check_flag 10.0000000001s 'expected a whole number of nanoseconds, got "10.0000000001s"'
check_flag 8761h 'expected a duration of at most 8760h, got "8761h"'
check_flag -1s 'expected a duration such as 250ms, 5s or 2m, got "-1s"'
"$bin" run "$dir/steady.yaml" --seed 1 --trace --from 59.5s --to 1m > /dev/null || fail "--from 59.5s --to 1m rejected"
set +e
"$bin" bench distro --duration 10 > /dev/null 2> "$tmp/bench.err"
brc=$?
set -e
[ "$brc" = 2 ] || fail "bench distro --duration 10: expected exit 2, got $brc"
grep -qF 'expected a duration such as 250ms, 5s or 2m, got 10' "$tmp/bench.err" || fail "bench distro: wrong message"
echo "ok 4: duration flags and files share one grammar"

# 5. A command-line value too long for its buffer is rejected with the
#    limit, never cut short silently.
long=$(printf '%0120d' 7)
set +e
"$bin" run "$dir/steady.yaml" --seed 1 --set "workload.services=$long" > /dev/null 2> "$tmp/long.err"
lrc=$?
set -e
[ "$lrc" = 2 ] || fail "an over-long --set value: expected exit 2, got $lrc"
grep -qF 'a --set value is longer than the limit of 95 bytes' "$tmp/long.err" || { cat "$tmp/long.err"; fail "no limit named"; }
echo "ok 5: over-long values are rejected with their limit"

# 6. The report's --window reads the same grammar: FROM-TO needs units.
set +e
"$bin" report "$tmp/e.db" -o "$tmp/w.md" --format markdown --window 70-72 > /dev/null 2> "$tmp/w.err"
wrc=$?
set -e
[ "$wrc" = 2 ] || fail "--window 70-72: expected exit 2, got $wrc"
grep -qF 'expected a duration such as 250ms, 5s or 2m, got 70' "$tmp/w.err" || { cat "$tmp/w.err"; fail "--window: wrong message"; }
"$bin" report "$tmp/e.db" -o "$tmp/w.html" --format html --run 1 --window 1s-2.5s > /dev/null || fail "--window 1s-2.5s rejected"
echo "ok 6: the report's --window shares the grammar"

# 7. One validation: what validate refuses, run refuses before any run,
#    with the same line (file:line:column, key, what was expected).
bad="$src/tests/scenarios-bad"
for name in timer-task-tick-1ns size-instance-copies events-estimate-over-cap clock-offset-before-zero; do
    set +e
    "$bin" run "$bad/$name.yaml" --seed 1 > "$tmp/one.out" 2> "$tmp/one.err"
    orc=$?
    set -e
    [ "$orc" = 2 ] || fail "run $name: expected exit 2, got $orc"
    grep -q '^[A-Z]* .* seed=' "$tmp/one.out" && fail "run $name: a run started"
    want=$(sed "s|^tests/scenarios-bad/|$bad/|" "$bad/$name.expected")
    grep -qxF "$want" "$tmp/one.err" || { cat "$tmp/one.err"; fail "run $name: not validate's message"; }
done
set +e
"$bin" run "$dir/steady.yaml" --seed 1 --set cluster.distro.verify_interval=100us > /dev/null 2> "$tmp/floor.err"
frc=$?
set -e
[ "$frc" = 2 ] || fail "--set verify_interval=100us: expected exit 2, got $frc"
grep -qF 'cluster.distro.verify_interval: expected at least 1ms' "$tmp/floor.err" || { cat "$tmp/floor.err"; fail "--set: no floor named"; }
echo "ok 7: run refuses what validate refuses, with the same words"
