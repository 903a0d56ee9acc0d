#!/bin/sh
# Selectable 2.x defects (cluster.bugs, README "Selectable defects"): each
# defect's library scenario passes with the defect off and fails with it on,
# every seed, on the expectation that names its harm (not on some other
# bound); a defect of the 2.x model is refused on a 1.4.2 cluster; the
# effective scenario carries the list, so a run can be replayed.
# Usage: test_bugs.sh DISTROSIM SOURCE_DIR SEEDS
set -eu
bin=$1
src=$2
seeds=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# defect  scenario  the expectation its runs must fail
cat > "$tmp/table" <<'TABLE'
nacos-8099 v2-s08-dead-peer-backlog.yaml lost_max
nacos-8594 v2-s06-slow-snapshot.yaml lost_max
nacos-10056 v2-s11-reconnect-revision-blips.yaml converge_within
TABLE

while read -r bug file expectation; do
    scn="$src/scenarios/$file"
    "$bin" check "$scn" --seeds "$seeds" --quiet > "$tmp/off" 2>&1 ||
        fail "$file with the defects off: $(grep -E 'FAIL|failed:|error' "$tmp/off" | head -5)"
    rc=0
    "$bin" check "$scn" --seeds "$seeds" --set "cluster.bugs=[$bug]" --quiet > "$tmp/on" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "$file with $bug: exit $rc, expected 1 (failed runs): $(tail -3 "$tmp/on")"
    runs=$(grep -c '^FAIL ' "$tmp/on" || true)
    named=$(grep -c "^  failed: $expectation:" "$tmp/on" || true)
    total=$(sed -n 's/^check: \([0-9]*\) runs.*/\1/p' "$tmp/on")
    [ "$runs" = "$total" ] || fail "$file with $bug: $runs of $total runs failed"
    [ "$named" = "$total" ] || fail "$file with $bug: $named of $total runs failed $expectation: $(grep failed: "$tmp/on" | head -3)"
done < "$tmp/table"

# Deterministic with a defect on: the same seed twice, the same trace.
for file in $(cut -d' ' -f2 "$tmp/table"); do
    bug=$(grep " $file " "$tmp/table" | cut -d' ' -f1)
    for i in 1 2; do
        "$bin" check "$src/scenarios/$file" --seeds 7-7 --set "cluster.bugs=[$bug]" 2>&1 |
            sed -n 's/.* trace=\([0-9a-f]*\).*/\1/p' > "$tmp/trace$i"
    done
    [ -s "$tmp/trace1" ] && cmp -s "$tmp/trace1" "$tmp/trace2" || fail "$file with $bug: two runs of seed 7 differ"
done

# The effective scenario and run_params carry the list.
scn="$src/scenarios/v2-s08-dead-peer-backlog.yaml"
"$bin" run "$scn" --seeds 1-1 --set 'cluster.bugs=[nacos-8099, nacos-8594]' --db "$tmp/runs.db" > /dev/null 2>&1 || true
sqlite3 "$tmp/runs.db" "select effective_yaml from runs" | grep -q '^  bugs: \[nacos-8099, nacos-8594\]$' ||
    fail "effective_yaml does not list the defects"
"$bin" validate "$scn" --print > "$tmp/plain.yaml" 2>&1 || fail "validate --print failed"
grep -q 'bugs:' "$tmp/plain.yaml" && fail "a scenario without defects prints a bugs line"

# The printed scenario loads back with the same list.
printf 'name: x\ncluster: {version: "2.5.1", bugs: [nacos-8594, nacos-8099]}\n' > "$tmp/two.yaml"
"$bin" validate "$tmp/two.yaml" --print > "$tmp/two-printed.yaml" 2> /dev/null || fail "validate --print of two defects"
grep -q '^  bugs: \[nacos-8099, nacos-8594\]$' "$tmp/two-printed.yaml" || fail "printed: $(grep bugs "$tmp/two-printed.yaml")"
"$bin" validate "$tmp/two-printed.yaml" --print 2> /dev/null | cmp -s - "$tmp/two-printed.yaml" ||
    fail "the printed scenario does not load back the same"

# A defect of the 2.x model on a 1.4.2 cluster: a clear error, exit 2.
rc=0
"$bin" check "$scn" --seeds 1-1 --set cluster.version=1.4.2 --set 'cluster.bugs=[nacos-8099]' > "$tmp/v1" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "nacos-8099 on 1.4.2: exit $rc, expected 2: $(cat "$tmp/v1")"
grep -q 'cluster.bugs: nacos-8099 is a defect of Nacos 2.x and needs cluster.version "2.5.1"' "$tmp/v1" ||
    fail "nacos-8099 on 1.4.2: $(cat "$tmp/v1")"
# An unknown name lists the known ones.
rc=0
"$bin" check "$scn" --seeds 1-1 --set 'cluster.bugs=[nacos-1]' > "$tmp/unknown" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unknown defect: exit $rc, expected 2"
grep -q 'expected one of nacos-8099, nacos-8594, nacos-10056, got "nacos-1"' "$tmp/unknown" || fail "unknown defect: $(cat "$tmp/unknown")"
echo "test_bugs: ok"
