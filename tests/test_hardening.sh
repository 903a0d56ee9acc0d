#!/bin/sh
# Hostile-input checks of the command line: what a careless or unlucky user
# can do must not exhaust memory, destroy data, truncate silently or hide an
# error.
#   1. a campaign of 10^6 seeds starts at once and runs in bounded memory;
#      seeds are parsed whole (no truncation of long numbers);
#   2. an output that is an input is refused (exit 2, input unchanged);
#      unwritable outputs fail before the campaign; outputs appear whole;
#      the database opener leaves a future or foreign file untouched and
#      the report reads a database without changing it;
#   3. numbers and lists on the command line are parsed strictly (exit 2
#      with the limit named, never a silent cut);
#   4. a run whose results could not be stored is an error (summary, JUnit,
#      Markdown, exit 2), and a write error on standard output fails the
#      command.
# Usage: test_hardening.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
scn="$src/tests/scenarios-good/partition-heal.yaml"
sum() { cksum < "$1"; }

# 1a. 10^6 seeds under a 1 GB address-space limit: the old campaign listed
# every job first (2.5 KB each, 2.5 GB) and failed before the first run.
limit=1048576
if (ulimit -v "$limit" && "$bin" --help > /dev/null 2>&1); then
    (ulimit -v "$limit" && exec "$bin" check "$scn" --seeds 1-1000000 -j 2 > "$tmp/big.out" 2> "$tmp/big.err") &
    pid=$!
    i=0
    while [ "$i" -lt 600 ]; do
        [ "$(grep -c '^[A-Z]* partition-heal seed=' "$tmp/big.out" 2>/dev/null || true)" -ge 20 ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    rss=$(ps -o rss= -p "$pid" 2>/dev/null | tr -d ' ' || true)
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
    n=$(grep -c '^[A-Z]* partition-heal seed=' "$tmp/big.out" || true)
    [ "$n" -ge 20 ] || { cat "$tmp/big.err"; fail "10^6 seeds under ulimit -v $limit printed $n results"; }
    grep -q '^PASS partition-heal seed=1 ' "$tmp/big.out" || fail "the first result is not seed 1"
    [ -n "$rss" ] && [ "$rss" -lt 204800 ] || fail "resident memory ${rss:-?} KB with 10^6 seeds (limit 200 MB)"
    echo "ok 1a: 10^6 seeds under ulimit -v $limit: $n results, resident ${rss} KB"
else
    echo "skip 1a: this build cannot start under ulimit -v $limit (sanitizer build)"
fi

# 1b. Seeds parse whole: leading zeros are not a reason to cut the number.
zeros=000000000000000000000000000000000000000000000000000000000000
"$bin" run "$scn" --seeds "0-${zeros}3" --quiet > "$tmp/zeros.out"
grep -q '^run: 4 runs,' "$tmp/zeros.out" || { cat "$tmp/zeros.out"; fail "--seeds 0-<60 zeros>3 did not run seeds 0-3"; }
set +e
"$bin" run "$scn" --seeds 1-18446744073709551616 > /dev/null 2> "$tmp/seeds.err"
s_big=$?
"$bin" run "$scn" --seeds ' 5' > /dev/null 2>&1
s_space=$?
"$bin" run "$scn" --seeds +5 > /dev/null 2>&1
s_plus=$?
"$bin" run "$scn" --seeds 1-2000000 > /dev/null 2>&1
s_many=$?
set -e
[ "$s_big" = 2 ] && [ "$s_space" = 2 ] && [ "$s_plus" = 2 ] && [ "$s_many" = 2 ] ||
    fail "bad --seeds exit statuses: $s_big $s_space $s_plus $s_many (want 2 2 2 2)"
grep -q 18446744073709551615 "$tmp/seeds.err" || fail "the --seeds message does not name the largest seed"
echo "ok 1b: seeds parsed whole and strictly"

# 2a. An output that is an input is refused and the input is unchanged.
cp "$scn" "$tmp/t.yaml"
before=$(sum "$tmp/t.yaml")
"$bin" run "$scn" --seeds 1-2 --db "$tmp/x.db" --quiet > /dev/null
db_before=$(sum "$tmp/x.db")
set +e
"$bin" check "$tmp/t.yaml" --seeds 1 --junit "$tmp/t.yaml" > /dev/null 2>&1
s_junit=$?
"$bin" check "$tmp/t.yaml" --seeds 1 --markdown "$tmp/../$(basename "$tmp")/t.yaml" > /dev/null 2>&1
s_md=$?
"$bin" replay "$tmp/t.yaml" --seed 1 --perfetto "$tmp/t.yaml" > /dev/null 2>&1
s_perfetto=$?
"$bin" check "$tmp/t.yaml" --seeds 1 --db "$tmp/x.db" --junit "$tmp/x.db" > /dev/null 2>&1
s_dbjunit=$?
"$bin" report "$tmp/x.db" -o "$tmp/x.db" > /dev/null 2>&1
s_report=$?
"$bin" report "$tmp/x.db" -o "$tmp/x.db" --format markdown > /dev/null 2>&1
s_report_md=$?
set -e
[ "$s_junit $s_md $s_perfetto $s_dbjunit $s_report $s_report_md" = "2 2 2 2 2 2" ] ||
    fail "output = input exit statuses: $s_junit $s_md $s_perfetto $s_dbjunit $s_report $s_report_md (want all 2)"
[ "$(sum "$tmp/t.yaml")" = "$before" ] || fail "the scenario was overwritten"
[ "$(sum "$tmp/x.db")" = "$db_before" ] || fail "the database was overwritten"
echo "ok 2a: an output that is an input is refused, inputs unchanged"

# 2b. An unwritable output fails before any run; outputs appear whole,
# with no temporary file left beside them.
set +e
"$bin" check "$scn" --seeds 1-3 --junit "$tmp/no-such-dir/j.xml" > "$tmp/early.out" 2> "$tmp/early.err"
s_early=$?
"$bin" check "$scn" --seeds 1-3 --markdown "$tmp" > /dev/null 2>&1
s_dir=$?
set -e
[ "$s_early" = 2 ] && [ "$s_dir" = 2 ] || fail "unwritable --junit/--markdown exit $s_early $s_dir (want 2 2)"
[ ! -s "$tmp/early.out" ] || fail "runs started before the unwritable --junit was refused"
mkdir "$tmp/out"
"$bin" check "$scn" --seeds 1-3 -j 2 --junit "$tmp/out/j.xml" --markdown "$tmp/out/s.md" > /dev/null
"$bin" report "$tmp/x.db" -o "$tmp/out/r.html" > /dev/null
[ "$(ls "$tmp/out" | tr '\n' ' ')" = "j.xml r.html s.md " ] || fail "output directory holds: $(ls "$tmp/out")"
grep -Eq '<testsuite name="partition-heal" tests="3" failures="0" errors="0" time="[0-9]+\.[0-9]{3}">' "$tmp/out/j.xml" || fail "JUnit counts"
[ "$(grep -c '<testcase ' "$tmp/out/j.xml")" = 3 ] || fail "JUnit test cases"
tail -n 1 "$tmp/out/j.xml" | grep -q '^</testsuites>$' || fail "JUnit not closed"
grep -Eq '^\| partition-heal \| 3 \| 3 \| 0 \| 0 \| [0-9]+\.[0-9]{3}s \|$' "$tmp/out/s.md" || fail "Markdown table"
# The JUnit and Markdown files are written as the runs finish, through
# scratch files: the same with -j 1 and -j 3, failures included.  --quiet:
# the progress lines on stderr come every few seconds of wall time, so a
# slow (sanitizer, loaded) run prints one where a fast one does not.
for j in 1 3; do
    "$bin" check "$scn" "$src/tests/scenarios-fail/never-heals.yaml" --seeds 1-4 -j "$j" --quiet \
        --junit "$tmp/out/j$j.xml" --markdown "$tmp/out/s$j.md" > "$tmp/out/o$j.txt" 2>&1 || true
done
# JUnit's `time` attributes are wall-clock seconds, the one thing -j may change.
for j in 1 3; do sed -E 's/ time="[0-9.]+"//g' "$tmp/out/j$j.xml" > "$tmp/out/j$j.notime"; done
cmp -s "$tmp/out/j1.notime" "$tmp/out/j3.notime" && cmp -s "$tmp/out/s1.md" "$tmp/out/s3.md" &&
    cmp -s "$tmp/out/o1.txt" "$tmp/out/o3.txt" || fail "JUnit, Markdown or output differ between -j 1 and -j 3"
grep -Eq '<testsuite name="never-heals" tests="4" failures="4" errors="0" time="[0-9.]+">' "$tmp/out/j1.xml" || fail "JUnit failures"
[ "$(grep -c '^| never-heals | [1-4] | .* | `.*` |$' "$tmp/out/s1.md")" = 4 ] || fail "Markdown failing runs"
echo "ok 2b: unwritable outputs refused before the campaign; outputs whole and independent of -j"

# 2c. The database opener leaves a future or foreign SQLite file untouched
# (no WAL switch, no table added); the report reads without writing.
cp "$tmp/x.db" "$tmp/future.db"
sqlite3 "$tmp/future.db" 'PRAGMA journal_mode=DELETE; PRAGMA user_version=7;' > /dev/null
sqlite3 "$tmp/foreign.db" 'CREATE TABLE notes (body TEXT); PRAGMA user_version=-1;'
sqlite3 "$tmp/foreign0.db" 'CREATE TABLE notes (body TEXT);'
for f in future foreign foreign0; do
    b=$(sum "$tmp/$f.db")
    set +e
    "$bin" run "$scn" --db "$tmp/$f.db" > /dev/null 2>&1
    s_run=$?
    "$bin" report "$tmp/$f.db" -o "$tmp/$f.html" > /dev/null 2>&1
    s_rep=$?
    set -e
    [ "$s_run $s_rep" = "2 2" ] || fail "$f.db: run --db / report exit $s_run $s_rep (want 2 2)"
    [ "$(sum "$tmp/$f.db")" = "$b" ] || fail "$f.db was changed"
    [ ! -e "$tmp/$f.db-wal" ] || fail "$f.db-wal created"
done
cp "$tmp/x.db" "$tmp/ro.db"
b=$(sum "$tmp/ro.db")
"$bin" report "$tmp/ro.db" -o "$tmp/ro.md" > /dev/null
[ "$(sum "$tmp/ro.db")" = "$b" ] || fail "report changed the database"
[ ! -e "$tmp/ro.db-wal" ] && [ ! -e "$tmp/ro.db-shm" ] || fail "report created -wal or -shm"
if [ "$(id -u)" != 0 ]; then                     # root ignores permissions
    mkdir "$tmp/ro"
    cp "$tmp/x.db" "$tmp/ro/x.db"
    chmod a-w "$tmp/ro/x.db" "$tmp/ro"
    "$bin" report "$tmp/ro/x.db" -o "$tmp/ro.html" > /dev/null || { chmod u+w "$tmp/ro"; fail "report of a read-only database"; }
    chmod u+w "$tmp/ro"
fi
echo "ok 2c: future and foreign files untouched; report reads without writing"

# 3. Strict numbers and lists.
many=$(seq -s, 1 40)
long=$(printf '%0100d' 1)
set +e
"$bin" sweep "$scn" --set "cluster.distro.verify_interval=$many" --seeds 1 > /dev/null 2> "$tmp/sweep.err"
s_sweep=$?
"$bin" run "$scn" --set "cluster.distro.verify_interval=$long" > /dev/null 2> "$tmp/long.err"
s_long=$?
"$bin" demo abc > /dev/null 2> "$tmp/demo.err"
s_demo=$?
"$bin" run "$scn" -j 2x > /dev/null 2>&1
s_j=$?
# 2 scenarios x 5120 combinations: each sweep point is built before the
# first run, so their total is bounded too.
"$bin" sweep "$scn" "$src/tests/scenarios-fail/never-heals.yaml" --set "cluster.distro.verify_interval=$(seq -s, 1 32)" \
    --set "network.loss=$(seq -s, 1 32)" --set cluster.nodes=1,2,3,4,5 --seeds 1 > /dev/null 2> "$tmp/combos.err"
s_combos=$?
set -e
[ "$s_combos" = 2 ] && grep -q 'more than the limit of 10000' "$tmp/combos.err" ||
    fail "2 x 5120 sweep points: exit $s_combos, $(cat "$tmp/combos.err")"
[ "$s_sweep $s_long $s_demo $s_j" = "2 2 2 2" ] || fail "strict parsing exit statuses: $s_sweep $s_long $s_demo $s_j (want 2 2 2 2)"
grep -q 'limit of 32 values' "$tmp/sweep.err" || fail "the sweep message does not name the limit: $(cat "$tmp/sweep.err")"
grep -q 'limit of 95 bytes' "$tmp/long.err" || fail "the --set message does not name the limit: $(cat "$tmp/long.err")"
grep -q 'expected a decimal number' "$tmp/demo.err" || fail "demo abc: $(cat "$tmp/demo.err")"
echo "ok 3: numbers and lists parsed strictly"

# 4a. Results that cannot be stored are errors: summary, JUnit, Markdown and
# exit status.  The database exists already (schema and one run); a file
# size limit of 80 blocks (40 or 80 KB; the 32 KB -shm must fit) stops the write-ahead log
# before any run's log (more than 80 KB) is in it, so every COMMIT fails.
"$bin" run "$scn" --seed 100 --db "$tmp/full.db" > /dev/null
set +e
(trap '' XFSZ; ulimit -f 80; exec "$bin" check "$scn" --seeds 1-3 --db "$tmp/full.db" \
    --junit "$tmp/full.xml" --markdown "$tmp/full.md") > "$tmp/full.out" 2>&1
s_full=$?
set -e
[ "$s_full" = 2 ] || { cat "$tmp/full.out"; fail "unstored results: exit $s_full (want 2)"; }
grep -q '^check: 3 runs, 0 passed, 0 failed, 3 errors$' "$tmp/full.out" || { cat "$tmp/full.out"; fail "unstored results not counted as errors"; }
grep -q 'errors="3"' "$tmp/full.xml" || fail "JUnit does not count the unstored runs as errors"
grep -q '^| partition-heal | 3 | 0 | 0 | 3 | - |$' "$tmp/full.md" || fail "Markdown does not count the unstored runs as errors"
echo "ok 4a: results that could not be stored are errors"

# 4c. Markdown escapes what would break its tables or render as HTML: a
# --set value with a pipe and a tag, in a directory whose name has both.
mdir="$tmp/a|<i>b</i>"
mkdir -p "$mdir"
cp "$src/tests/scenarios-fail/never-heals.yaml" "$mdir/evil.yaml"
set +e
"$bin" check "$mdir/evil.yaml" --seeds 1-1 --set 'description=<b>x|y</b>' --markdown "$tmp/evil.md" > /dev/null 2>&1
s_md=$?
set -e
[ "$s_md" = 1 ] || fail "check on the escaping scenario exited $s_md (want 1)"
# Outside code spans no raw tag may remain.
sed 's/`` .* ``//' "$tmp/evil.md" | grep -qF '<b>' && fail "raw HTML outside a code span in the Markdown summary"
grep -qF 'description=&lt;b&gt;x\|y&lt;/b&gt;' "$tmp/evil.md" || fail "the --set value is not escaped in the Markdown summary"
grep -qF '`` ' "$tmp/evil.md" || fail "the repro command is not in a code span"
# Every table row keeps its column count once escaped pipes are set aside.
rows=0
while IFS= read -r line; do
    case "$line" in
    '|'*)
        rows=$((rows + 1))
        cols=$(printf '%s\n' "$line" | sed 's/\\|//g' | tr -cd '|' | wc -c)
        case "$line" in
        '| scenario | seed |'*|'|---|---:|---|---|'|'| never-heals | 1 |'*) want=5 ;;
        *) want=7 ;;
        esac
        [ "$cols" = "$want" ] || fail "Markdown row has $cols cell borders, want $want: $line"
        ;;
    esac
done < "$tmp/evil.md"
[ "$rows" = 6 ] || fail "the Markdown summary has $rows table rows, want 6"
echo "ok 4c: Markdown escapes pipes and HTML in --set values and repro commands"

# 4b. A write error on standard output fails the command.
if [ -w /dev/full ]; then
    set +e
    "$bin" check "$scn" --seeds 1-2 > /dev/full 2> "$tmp/devfull.err"
    s_check=$?
    "$bin" demo > /dev/full 2> /dev/null
    s_demo=$?
    "$bin" report "$tmp/x.db" -o - --format markdown > /dev/full 2> /dev/null
    s_report=$?
    set -e
    # Every other command too: main() checks standard output at exit.
    for cmd in "bench mesh 10 60" "counters" "--version" "--help" "bench conn 2 100"; do
        set +e
        # shellcheck disable=SC2086
        "$bin" $cmd > /dev/full 2> /dev/null
        s_other=$?
        set -e
        [ "$s_other" = 2 ] || fail "distrosim $cmd > /dev/full exited $s_other (want 2)"
    done
    [ "$s_check" != 0 ] && [ "$s_demo" != 0 ] && [ "$s_report" != 0 ] ||
        fail "writes to /dev/full exit $s_check $s_demo $s_report (want non-zero)"
    grep -q 'cannot write to standard output' "$tmp/devfull.err" || fail "no message for the stdout write error"
    echo "ok 4b: a write error on standard output fails the command"
else
    echo "skip 4b: no /dev/full"
fi
