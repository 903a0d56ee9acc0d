#!/bin/sh
# Faults injected into our own I/O, as SQLite tests itself: the N-th
# allocation (DISTROSIM_FAIL_ALLOC), the N-th xWrite, xSync or xLock under
# the database (DISTROSIM_FAIL_WRITE, _SYNC, _LOCK, and _BUSY for a lock
# held elsewhere) fails, for every N from 1 until the command makes fewer
# calls than N, over
#   - a 2-run `check` campaign writing a database and a JUnit file,
#   - `validate --print` of a scenario,
#   - `report DB -o FILE`.
# For every N: no crash (no signal; CI runs this in the ASan build too);
# exit 2 with a message (on stderr, or a run's ERROR line), or 0 with outputs identical to a clean
# run's (a lock that was busy once is waited for); a database that passes
# PRAGMA integrity_check and holds whole runs only, each equal to the clean
# run of its seed; no half-written output and no temporary file left.
# N goes one by one up to 50 and over the last calls, by a stride in
# between, so the test stays short.
# Usage: test_faultio.sh DISTROSIM SOURCE_DIR [DENSE]
# (DENSE, default 50: the first DENSE values of N are swept one by one.)
set -eu
bin=$1
src=$2
dense=${3:-50}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v sqlite3 > /dev/null || { echo "skip: no sqlite3 command"; exit 77; }
scn="$src/tests/scenarios-good/partition-heal.yaml"
full="$src/tests/scenarios-good/every-key.yaml"
cd "$tmp"

children="(SELECT count(*) FROM run_params p WHERE p.run_id = r.id) + (SELECT count(*) FROM windows p WHERE p.run_id = r.id)
 + (SELECT count(*) FROM convergences p WHERE p.run_id = r.id) + (SELECT count(*) FROM counters p WHERE p.run_id = r.id)
 + (SELECT count(*) FROM samples p WHERE p.run_id = r.id) + (SELECT count(*) FROM msgstats p WHERE p.run_id = r.id)
 + (SELECT count(*) FROM faults p WHERE p.run_id = r.id) + (SELECT count(*) FROM expects p WHERE p.run_id = r.id)"
# One line per run: what identifies its content, and its child rows counted.
runs_of() {
    # A new file whose schema was never committed holds no table at all.
    [ "$(sqlite3 "$1" "SELECT count(*) FROM sqlite_master WHERE name = 'runs'")" -eq 1 ] || return 0
    sqlite3 "$1" "SELECT seed, verdict, trace_hash, events, children_count, $children FROM runs r ORDER BY seed"
}

# The clean outputs every faulted one is compared with.
"$bin" check "$scn" --seeds 1-2 -j 1 --quiet --db clean.db --junit clean.xml > clean.out 2> clean.err \
    || { cat clean.err; fail "the clean campaign failed"; }
runs_of clean.db > clean.runs
[ "$(wc -l < clean.runs)" -eq 2 ] || fail "the clean campaign stored $(wc -l < clean.runs) runs, not 2"
"$bin" report clean.db -o clean.html 2> /dev/null || fail "the clean report failed"
"$bin" validate --print "$full" > clean.print 2> /dev/null || fail "the clean validate failed"
"$bin" report clean.db -o clean2.html 2> /dev/null && cmp -s clean.html clean2.html || fail "the report is not reproducible"

# The outcome of one faulted invocation: $1 its exit status, $2 its label.
# Sets `reached` (the fault was injected).
outcome() {
    st=$1
    label=$2
    [ "$st" -lt 128 ] || { cat err; fail "$label: killed by signal $((st - 128))"; }
    grep -q ': not reached (' err && reached=0 || reached=1
    grep -q ': injected (' err || [ "$reached" -eq 0 ] || fail "$label: the seam printed no count"
    if [ "$reached" -eq 0 ]; then
        [ "$st" -eq 0 ] || { cat err; fail "$label: exit $st with no fault injected"; }
        return 0
    fi
    case $st in
    0) ;;
    2) grep -q 'cannot create : ' err && fail "$label: the message names no file: $(cat err)"
       # A run that failed is a result: its ERROR line and message go to stdout.
       grep -v '^distrosim: DISTROSIM_FAIL_' err | grep -q . || grep -q '^ERROR ' out \
           || fail "$label: exit 2 with no message" ;;
    *) cat err; fail "$label: exit $st (want 0 or 2)" ;;
    esac
    leftovers=$(ls | grep -E '\.[A-Za-z0-9]{6}$' || true)
    [ -z "$leftovers" ] || fail "$label: temporary files left: $leftovers"
}

# The database and JUnit file of a faulted campaign.
check_campaign_outputs() {
    label=$1
    if [ -f f.db ]; then
        ic=$(sqlite3 f.db "PRAGMA integrity_check" 2>&1) || fail "$label: sqlite3 cannot read the database: $ic"
        [ "$ic" = ok ] || fail "$label: integrity_check: $ic"
        orphans=$(sqlite3 f.db "PRAGMA foreign_key_check" 2>&1)
        [ -z "$orphans" ] || fail "$label: rows without their run: $orphans"
        runs_of f.db > f.runs
        # Whole runs only, each the clean run of its seed (or an error).
        while IFS='|' read -r seed verdict hash events count actual; do
            [ "$count" = "$actual" ] || fail "$label: run seed $seed has $actual of its $count child rows"
            # A run stopped by the fault is recorded whole, as an error.
            [ "$verdict" = error ] && [ "$st" -eq 2 ] && continue
            grep -qxF "$seed|$verdict|$hash|$events|$count|$actual" clean.runs \
                || fail "$label: run seed $seed differs from the clean run: $seed|$verdict|$hash|$events|$count"
        done < f.runs
    fi
    if [ -f f.xml ]; then
        tail -n 1 f.xml | grep -qx '</testsuites>' || fail "$label: f.xml is half written"
    fi
    if [ "$st" -eq 0 ]; then
        cmp -s f.runs clean.runs || fail "$label: exit 0 but the database differs from the clean one"
        # The `time` attributes are wall-clock seconds: the only JUnit bytes two invocations may differ in.
        sed -E 's/ time="[0-9.]+"//g' f.xml > f.notime.xml
        sed -E 's/ time="[0-9.]+"//g' clean.xml > clean.notime.xml
        cmp -s f.notime.xml clean.notime.xml || fail "$label: exit 0 but the JUnit file differs from the clean one"
    fi
}

# Runs one command of the sweep with `$var=$1` and returns its exit status:
# KIND is campaign, validate or report.
invoke() {
    rm -f f.db f.db-wal f.db-shm f.xml f.notime.xml f.html f.runs
    case $kind in
    campaign) env "$var=$1" "$bin" check "$scn" --seeds 1-2 -j 1 --quiet --db f.db --junit f.xml > out 2> err ;;
    validate) env "$var=$1" "$bin" validate --print "$full" > out 2> err ;;
    report)   env "$var=$1" "$bin" report clean.db -o f.html > out 2> err ;;
    esac
}

# Sweeps N for one seam over one command: sweep SEAM KIND.
sweep() {
    var=$1
    kind=$2
    st=0
    invoke 999999999 || st=$?
    total=$(sed -n 's/.*: not reached (\([0-9]*\) calls)$/\1/p' err)
    [ "$st" -eq 0 ] && [ -n "$total" ] || { cat err; fail "$var $kind: no call count from a clean run"; }
    [ "$total" -gt 0 ] || [ "$kind" = report ] || fail "$var $kind: the seam counted no call"
    # One by one up to $dense and the last 6, a stride that covers the rest
    # in about 15 in between.
    stride=$(( (total - dense) / 15 ))
    [ "$stride" -ge 1 ] || stride=1
    n=1
    points=0
    while :; do
        label="$var=$n $kind"
        st=0
        invoke "$n" || st=$?
        outcome "$st" "$label"
        case $kind in
        campaign) check_campaign_outputs "$label" ;;
        report)
            if [ -f f.html ]; then cmp -s f.html clean.html || fail "$label: f.html is not the clean report"; fi
            [ "$st" -ne 0 ] || [ -f f.html ] || fail "$label: exit 0 but no report" ;;
        validate)
            [ "$st" -ne 0 ] || cmp -s out clean.print || fail "$label: exit 0 but not the clean effective scenario" ;;
        esac
        points=$((points + 1))
        if [ "$reached" -eq 0 ]; then
            [ "$n" -gt "$total" ] || fail "$label: not reached, but a clean run makes $total calls"
            break
        fi
        # The last calls one by one too: output files are created last.
        if [ "$n" -lt "$dense" ] || [ "$n" -ge $((total - 5)) ]; then n=$((n + 1))
        elif [ $((n + stride)) -gt $((total - 5)) ]; then n=$((total - 5))
        else n=$((n + stride)); fi
    done
    echo "ok: $var over $kind: $points values of N, $total calls"
}

for seam in ALLOC WRITE SYNC LOCK BUSY; do sweep "DISTROSIM_FAIL_$seam" campaign; done
sweep DISTROSIM_FAIL_ALLOC validate
for seam in ALLOC LOCK; do sweep "DISTROSIM_FAIL_$seam" report; done

# A seam's value must be a call number.
st=0
DISTROSIM_FAIL_ALLOC=x "$bin" validate "$full" > /dev/null 2> err || st=$?
[ "$st" -eq 2 ] && grep -q 'DISTROSIM_FAIL_ALLOC=x' err || fail "DISTROSIM_FAIL_ALLOC=x: exit $st"
echo "test_faultio: all passed"
