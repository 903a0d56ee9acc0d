#!/bin/sh
# FAULT-FAMILIES S05 (scenarios/v2-s05-snapshot-over-inbound-limit.yaml):
# at 2.5.1's fixed 10 MiB inbound limit of the cluster gRPC client, the
# restarted node of a 21,000-client registry never loads, and clients that
# connect to it are lost on its peers; with 3.0.3's
# cluster.distro.grpc.max_inbound_message_size raised, the same runs load
# and lose nothing.  The scenario's own bounds (an upper bound on the loss)
# would pass a model without the limit, so this checks the loss itself.
# Usage: test_inbound_limit.sh DISTROSIM SOURCE_DIR SEEDS
set -eu
bin=$1
scn=$2/scenarios/v2-s05-snapshot-over-inbound-limit.yaml
seeds=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" check "$scn" --seeds "$seeds" --quiet --db "$tmp/limit.db" > "$tmp/out" 2>&1 ||
    fail "the scenario: $(grep -E 'FAIL|failed:|error' "$tmp/out" | head -5)"
raised="--set cluster.version=3.0.3 --set cluster.distro.grpc.max_inbound_message_size=67108864"
# shellcheck disable=SC2086 # two --set pairs
"$bin" check "$scn" --seeds "$seeds" --quiet --db "$tmp/raised.db" $raised > "$tmp/out2" 2>&1 || true

q() { sqlite3 "$1" "$2"; }
runs=$(q "$tmp/limit.db" "select count(*) from runs")
[ "$runs" -gt 0 ] || fail "no runs recorded"
# At the limit: every run loses instances on nodes 0 and 1 only, the first
# window opening after the 180 s lease of a post-restart CHANGE (> 300 s),
# and node 2 never loads (3 successful loads in all: the first boot's).
lossy=$(q "$tmp/limit.db" "select count(distinct run_id) from windows where kind = 'lost' and node in (0, 1)
                          and start_ns > 300000000000")
[ "$lossy" = "$runs" ] || fail "at the limit, $lossy of $runs runs lose instances on the peers after 300 s"
other=$(q "$tmp/limit.db" "select count(*) from windows where kind = 'lost' and (node = 2 or start_ns <= 300000000000)")
[ "$other" = 0 ] || fail "at the limit, $other lost windows elsewhere than the peers' expiries"
loads=$(q "$tmp/limit.db" "select distinct sum(value) from counters where name = 'snapshot_successes' group by run_id")
[ "$loads" = 3 ] || fail "at the limit, snapshot_successes per run: $loads (expected 3: node 2 never loads)"
# Raised: the restarted node loads (4 successes) and nothing is lost.
raised_runs=$(q "$tmp/raised.db" "select count(*) from runs")
[ "$raised_runs" = "$runs" ] || fail "raised: $raised_runs runs recorded, expected $runs"
lost=$(q "$tmp/raised.db" "select count(*) from windows where kind = 'lost'")
[ "$lost" = 0 ] || fail "with the limit raised, $lost lost windows"
loads=$(q "$tmp/raised.db" "select distinct sum(value) from counters where name = 'snapshot_successes' group by run_id")
[ "$loads" = 4 ] || fail "with the limit raised, snapshot_successes per run: $loads (expected 4)"
echo "ok: $runs runs at the 10 MiB limit lose the restarted node's new clients on its peers; raised, none"
