#!/bin/sh
# A campaign stopped by SIGINT or SIGTERM part-way stops cleanly:
#   - exit status 128 + the signal (130, 143);
#   - the JUnit file parses and holds exactly the runs that completed;
#   - the database passes integrity_check, holds those runs whole (every
#     child row), and its campaign record says it was interrupted, by which
#     signal, with the same counts;
#   - the summary says it was interrupted and how many runs did not run;
#   - progress lines go to standard error when it is not a terminal, every
#     10 s, and --quiet turns them off; standard output has none.
# Usage: test_interrupt.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
scn="$src/tests/scenarios-good/partition-heal.yaml"

# One SQL answer, with the sqlite3 shell or else Python's sqlite3 module.
q() {
    if command -v sqlite3 > /dev/null 2>&1; then
        sqlite3 "$1" "$2"
    else
        python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))' "$1" "$2"
    fi
}

# Starts distrosim in the background with SIGINT and SIGTERM at their
# default action: a shell without job control starts background commands
# with SIGINT ignored, and distrosim leaves an ignored signal ignored.
start() {
    python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$@" &
    pid=$!
}

# interrupt SIGNAL STATUS MIN_SECONDS [--quiet]: runs a long check, sends
# SIGNAL once at least 3 runs are in the database and MIN_SECONDS have
# passed, and checks everything the signal promises.
interrupt() {
    sig=$1
    want=$2
    min_s=$3
    shift 3
    name=$(echo "$sig" | tr 'A-Z' 'a-z')
    signame=SIG$sig
    db="$tmp/$name.db"
    start "$bin" check "$scn" --seeds 1-100000 -j 2 --db "$db" --junit "$tmp/$name.xml" \
        --markdown "$tmp/$name.md" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
    n=0
    t0=$(date +%s)
    while [ $(($(date +%s) - t0)) -lt 120 ]; do
        n=$(q "$db" 'select count(*) from runs' 2>/dev/null || echo 0)
        [ "${n:-0}" -ge 3 ] && [ $(($(date +%s) - t0)) -ge "$min_s" ] && break
        sleep 0.1
    done
    [ "${n:-0}" -ge 3 ] || { kill -KILL "$pid"; fail "$sig: no runs written before the signal"; }
    kill -s "$sig" "$pid"
    set +e
    wait "$pid"
    status=$?
    set -e
    [ "$status" = "$want" ] || { cat "$tmp/$name.err"; fail "$sig: exit status $status, want $want"; }

    python3 -c 'import xml.dom.minidom, sys; xml.dom.minidom.parse(sys.argv[1])' "$tmp/$name.xml" ||
        fail "$sig: the JUnit file does not parse"
    [ "$(q "$db" 'pragma integrity_check')" = ok ] || fail "$sig: integrity_check"
    partial=$(q "$db" "select count(*) from runs r where children_count !=
      (select count(*) from windows where run_id = r.id) + (select count(*) from convergences where run_id = r.id) +
      (select count(*) from counters where run_id = r.id) + (select count(*) from samples where run_id = r.id) +
      (select count(*) from msgstats where run_id = r.id) + (select count(*) from faults where run_id = r.id) +
      (select count(*) from expects where run_id = r.id) + (select count(*) from run_params where run_id = r.id)")
    [ "$partial" = 0 ] || fail "$sig: $partial partial runs"
    runs=$(q "$db" 'select count(*) from runs')
    cases=$(grep -c '<testcase ' "$tmp/$name.xml" || true)
    [ "$cases" = "$runs" ] || fail "$sig: JUnit has $cases test cases, the database $runs runs"
    [ "$runs" -ge 3 ] && [ "$runs" -lt 100000 ] || fail "$sig: $runs runs stored"
    left=$((100000 - runs))
    grep -qx "check: interrupted by $signame: $runs of 100000 runs done, $runs passed, 0 failed, 0 errors; $left runs did not run" \
        "$tmp/$name.out" || { tail -3 "$tmp/$name.out"; fail "$sig: no summary line saying so"; }
    grep -q "Interrupted by $signame\*\*: $runs of 100000 runs done; $left did not run" "$tmp/$name.md" ||
        fail "$sig: the Markdown does not say it was interrupted"
    grep -q "| partition-heal | $runs | $runs | 0 | 0 |" "$tmp/$name.md" || fail "$sig: Markdown counts"
    rec=$(q "$db" "select state, signal, runs_planned, runs_done, passed, ended_unix_ms >= started_unix_ms,
                   (select count(*) from runs where campaign_id = c.id) from campaigns c")
    [ "$rec" = "interrupted|$signame|100000|$runs|$runs|1|$runs" ] || fail "$sig: campaign record $rec"
    if grep -q 'runs, .* simulated' "$tmp/$name.out"; then fail "$sig: progress on standard output"; fi
    echo "ok $sig: exit $status, $runs whole runs, JUnit and Markdown match, campaign record interrupted"
}

# SIGTERM after 13 s: a progress line (stderr is a file here) is due at 10 s.
interrupt TERM 143 13
grep -Eq '^distrosim check .*: [0-9]+/100000 runs, [0-9]+ passed, 0 failed, 0 errors; [0-9.]+s simulated; [0-9]+s elapsed, about [0-9hms]+ left$' \
    "$tmp/term.err" || { cat "$tmp/term.err"; fail "no progress line on standard error after 10 s"; }
echo "ok progress: a line on standard error after 10 s"

# SIGINT after 13 s with --quiet: no progress line.
interrupt INT 130 13 --quiet
if grep -q 'simulated' "$tmp/int.err"; then cat "$tmp/int.err"; fail "--quiet printed progress"; fi
echo "ok --quiet: no progress"

# A campaign that ends by itself is recorded as finished, with its command line.
"$bin" run "$scn" --seeds 1-3 --db "$tmp/done.db" --quiet > /dev/null
rec=$(q "$tmp/done.db" "select state, signal is null, runs_planned, runs_done, passed, command_line from campaigns")
[ "$rec" = "finished|1|3|3|3|$bin run $scn --seeds 1-3 --db $tmp/done.db --quiet" ] || fail "finished record: $rec"
echo "ok: a finished campaign's record"
