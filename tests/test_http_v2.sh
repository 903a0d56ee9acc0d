#!/bin/sh
# HTTP /v2/ns clients on a 2.x cluster (workload.clients: http-v2, README
# "Nacos 2.5.1"): DistroFilter does not route /v2/ns, so a client whose one
# server does not own its ip:port is listed on that server alone.  The
# library scenario passes its own bounds; this checks the harm it leaves
# unbounded and that the routed 1.x SDK does not show it, on the same file
# and seeds: lost windows still open at the end of the run (a live client
# missing on a node), and requests applied by a node that is not the owner.
# Usage: test_http_v2.sh DISTROSIM SOURCE_DIR SEEDS
set -eu
bin=$1
src=$2
seeds=$3
scn="$src/scenarios/v2-v1-http-v2-writes-not-routed.yaml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" run "$scn" --seeds "$seeds" --db "$tmp/v2.db" --quiet > "$tmp/v2.out" 2>&1 ||
    fail "http-v2: $(grep -E 'FAIL|failed:|error' "$tmp/v2.out" | head -5)"
"$bin" run "$scn" --seeds "$seeds" --set workload.clients=1.x-sdk --db "$tmp/v1.db" --quiet > "$tmp/v1.out" 2>&1 ||
    true   # its bounds are the http-v2 ones; only the figures below matter
runs=$(sqlite3 "$tmp/v2.db" "select count(*) from runs")
[ "$runs" -ge 1 ] || fail "no runs recorded"

# Every run: about two thirds of the 60 clients are strays, each missing on
# two nodes to the end.  At least 20 open lost windows per run, on every
# node at least once, and thousands of requests applied off-owner.
sqlite3 "$tmp/v2.db" "select r.seed, (select count(*) from windows w where w.run_id = r.id and w.kind = 'lost'
                             and w.end_ns is null),
                            (select count(distinct node) from windows w where w.run_id = r.id and w.kind = 'lost'
                             and w.end_ns is null),
                            (select sum(value) from counters c where c.run_id = r.id and c.name = 'v2_http_not_owner')
                      from runs r" > "$tmp/v2.rows"
while IFS='|' read -r seed open nodes off; do
    [ "$open" -ge 20 ] || fail "http-v2 seed $seed: $open lost windows open at the end, expected at least 20"
    [ "$nodes" = 3 ] || fail "http-v2 seed $seed: open lost windows on $nodes nodes, expected 3"
    [ "$off" -ge 1000 ] || fail "http-v2 seed $seed: v2_http_not_owner $off"
done < "$tmp/v2.rows"

# The same file with 1.x SDKs (routed by DistroFilter): nothing missing at
# the end, no lost window longer than a beat and a sync, nothing applied
# off-owner, and no zombie near the 180 s cleaner.
sqlite3 "$tmp/v1.db" "select r.seed, (select count(*) from windows w where w.run_id = r.id and w.kind = 'lost'
                             and w.end_ns is null),
                            coalesce((select max(end_ns - start_ns) from windows w where w.run_id = r.id
                                      and w.kind in ('lost', 'zombie')), 0),
                            coalesce((select sum(value) from counters c where c.run_id = r.id
                                      and c.name = 'v2_http_not_owner'), 0)
                      from runs r" > "$tmp/v1.rows"
[ "$(wc -l < "$tmp/v1.rows")" = "$runs" ] || fail "1.x-sdk: $(wc -l < "$tmp/v1.rows") runs recorded, expected $runs"
while IFS='|' read -r seed open longest off; do
    [ "$open" = 0 ] || fail "1.x-sdk seed $seed: $open lost windows open at the end"
    [ "$longest" -le 60000000000 ] || fail "1.x-sdk seed $seed: a window of $longest ns"
    [ "$off" = 0 ] || fail "1.x-sdk seed $seed: v2_http_not_owner $off"
done < "$tmp/v1.rows"

# 1.4.2 serves no /v2/ns: the kind is refused with its place.
rc=0
"$bin" run "$scn" --seeds 1-1 --set cluster.version=1.4.2 > "$tmp/v142" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "http-v2 on 1.4.2: exit $rc, expected 2"
grep -q 'workload.clients: http-v2 needs cluster.version "2.5.1"' "$tmp/v142" || fail "http-v2 on 1.4.2: $(cat "$tmp/v142")"
echo "test_http_v2: ok"
