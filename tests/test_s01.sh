#!/bin/sh
# S01 (alibaba/nacos#15857) in the 2.5.1 model: the library scenario passes
# its own bounds, and this checks the harm it leaves unbounded.  Every run
# loses instances for good on every node (lost windows still open at the
# end of the run), and the same file with the default 30 s load retry loses
# nothing: the retry then comes long after every redo was synced.
# Usage: test_s01.sh DISTROSIM SOURCE_DIR SEEDS
set -eu
bin=$1
src=$2
seeds=$3
scn="$src/scenarios/v2-s01-full-restart-redo-loss.yaml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" run "$scn" --seeds "$seeds" --db "$tmp/short.db" --quiet > "$tmp/short.out" 2>&1 ||
    fail "3 s retry: $(grep -E 'FAIL|failed:|error' "$tmp/short.out" | head -5)"
"$bin" run "$scn" --seeds "$seeds" --set cluster.distro.v2.load_retry_delay=30s --db "$tmp/default.db" \
    --quiet > "$tmp/default.out" 2>&1 || fail "30 s retry: $(grep -E 'FAIL|failed:|error' "$tmp/default.out" | head -5)"
runs=$(sqlite3 "$tmp/short.db" "select count(*) from runs")
[ "$runs" -ge 1 ] || fail "no runs recorded"

sqlite3 "$tmp/short.db" "select r.seed,
        (select count(*) from windows w where w.run_id = r.id and w.kind = 'lost' and w.end_ns is null),
        (select count(distinct node) from windows w where w.run_id = r.id and w.kind = 'lost' and w.end_ns is null)
    from runs r" > "$tmp/short.rows"
while IFS='|' read -r seed open nodes; do
    [ "$open" -ge 10 ] || fail "3 s retry seed $seed: $open lost windows open at the end, expected at least 10"
    [ "$nodes" = 3 ] || fail "3 s retry seed $seed: instances lost for good on $nodes nodes, expected all 3"
done < "$tmp/short.rows"

[ "$(sqlite3 "$tmp/default.db" "select count(*) from runs")" = "$runs" ] || fail "30 s retry: not every run recorded"
lost=$(sqlite3 "$tmp/default.db" "select count(*) from windows where kind = 'lost'")
[ "$lost" = 0 ] || fail "30 s retry: $lost lost windows, expected none"
echo "test_s01: ok"
