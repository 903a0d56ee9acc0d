#!/bin/sh
# A readable replay (`distrosim replay --trace` and `--perfetto`):
#   1. every event is named: no `event kind=N` line, no unnamed kind;
#   2. each fault line says what it did to which node;
#   3. the model's happenings are trace lines: member changes (old->new,
#      never old = new), beat-check unhealthy and expired instances (an
#      instance expires only after it was marked unhealthy, or its line says
#      so), snapshot loads; each kind as often as the run's counter says;
#   4. --node and --from/--to apply to harness and model lines too;
#   5. the trace hash is the same with the trace, the Perfetto export, or
#      neither;
#   6. the Perfetto JSON parses, has counter tracks, fault slices on the
#      tracks of the nodes they hit and a harness track of its own.
# Usage: test_replay.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ph="$src/tests/scenarios-good/partition-heal.yaml"
ek="$src/tests/scenarios-good/every-key.yaml"
rr="$src/tests/scenarios-good/rolling-restart.yaml"

# 1. Named events, in a run with scripted faults, the nemesis and churn.
# every-key's expectations may fail (exit 1); a replay that cannot run exits 2.
replay() { rc=0; "$bin" replay "$@" || rc=$?; [ "$rc" -le 1 ] || fail "replay $* exited $rc"; }
replay "$ek" --seed 1 --trace > "$tmp/ek.out"
[ "$(grep -c ' seq=' "$tmp/ek.out")" -ge 1000 ] || fail "every-key: the trace is nearly empty"
if grep -q 'event kind' "$tmp/ek.out"; then
    grep 'event kind' "$tmp/ek.out" | head -3
    fail "a trace line names an event kind by number"
fi
grep -q ' event tick node=' "$tmp/ek.out" || fail "no model timer named (tick)"
grep -q ' event conn_net node=' "$tmp/ek.out" || fail "no connection event named (conn_net)"
grep -q ' event sample node=-1' "$tmp/ek.out" || fail "no observer sample named"
echo "ok 1: every event kind is named"

# 2. Fault lines: what, to which nodes.
for want in 'fault 0: partition {0,1}|{2}|{3,4}' 'fault 1: block 0->1' 'fault 2: isolate node 2' \
            'fault 3: heal all' 'fault 4: heal 0->1' 'fault 5: heal node 2' 'fault 6: crash node 1' \
            'fault 7: start node 1' 'fault 8: restart node 1, down 10.000 s' 'fault 9: pause node 3 for 20.000 s' \
            'fault 10: link 0<->4 changed for 30.000 s' 'fault 10: link 0<->4 restored' \
            'fault 11: clock node 1 offset -2.000 s drift 100 ppm' 'fault 12: members on {0,1}: add {3} remove {4}'; do
    grep -qF "$want" "$tmp/ek.out" || fail "every-key: no line \"$want\""
done
# Each at its scripted time: the crash at 70 s, the partition at 30 s.
grep -q '^70\.000000000 seq=[0-9]* fault 6: crash node 1$' "$tmp/ek.out" || fail "the crash line is not at 70 s"
grep -q '^30\.000000000 seq=[0-9]* fault 0: partition' "$tmp/ek.out" || fail "the partition line is not at 30 s"
grep -q ' nemesis: ' "$tmp/ek.out" || fail "no nemesis line"
grep -q ' churn: ' "$tmp/ek.out" || fail "no churn line"
if grep -q ' seq=[0-9r-]* event fault ' "$tmp/ek.out"; then fail "a bare fault event line is left"; fi
"$bin" replay "$ph" --seed 3 --trace > "$tmp/ph.out"
grep -qF 'fault 0: partition {0,1}|{2}' "$tmp/ph.out" || fail "partition-heal: no partition line"
grep -qF 'phases: heal everything' "$tmp/ph.out" || fail "partition-heal: no phases heal line"
echo "ok 2: fault lines say what and to whom"

# 3. Model lines.
states='(UP|SUSPICIOUS|DOWN|STARTING)'
grep -Eq " model member node=[0-9]+ peer=[0-9]+ $states->$states\$" "$tmp/ph.out" || fail "no member change line"
if grep -E " model member " "$tmp/ph.out" | grep -Eq " ([A-Z]+)->\1\$"; then fail "a member line changes nothing"; fi
# Node 2 is cut off from 30 s to 70 s: it marks its peers down meanwhile.
awk '/ model member node=2 peer=[01] .*->DOWN$/ { split($1, t, "."); if (t[1] >= 30 && t[1] < 70) ok = 1 }
     END { exit !ok }' "$tmp/ph.out" || fail "node 2 marks no peer DOWN during the partition"
awk '/ model unhealthy node=/ { split($1, t, "."); if (t[1] >= 30 && t[1] < 75) ok = 1 } END { exit !ok }' \
    "$tmp/ph.out" || fail "no instance marked unhealthy during the partition"
awk '/ model expired node=/ { split($1, t, "."); if (t[1] >= 30 && t[1] < 75) ok = 1 } END { exit !ok }' \
    "$tmp/ph.out" || fail "no instance expired during the partition"
# An instance expires only after some owner marked it unhealthy (15 s
# without beats, then 30 s; a new owner may find it marked already).
awk '/ model unhealthy / { u[$7] = 1 }
     / model expired / { if (!($7 in u)) { print; bad = 1 } }
     END { exit bad }' "$tmp/ph.out" || fail "an instance expired without being marked unhealthy first"
for n in 0 1 2; do
    grep -Eq " model snapshot node=$n from=[0-9]+ loaded\$" "$tmp/ph.out" || fail "node $n: no snapshot load line"
done
# As many lines as the counters count (the database of the same run).
"$bin" run "$ek" --seed 1 --db "$tmp/ek.db" --quiet > /dev/null || true
count() { sqlite3 "$tmp/ek.db" "select coalesce(sum(value), 0) from counters where name = '$1'"; }
lines() { grep -c " model $1 " "$tmp/ek.out" || true; }
for pair in unhealthy:instances_marked_unhealthy expired:instances_expired verify_abort:verify_discarded \
            verify_remove:verify_keys_removed 503:requests_503; do
    what=${pair%%:*}
    counter=${pair#*:}
    [ "$(lines "$what")" = "$(count "$counter")" ] ||
        fail "$(lines "$what") \"model $what\" lines, but $counter is $(count "$counter")"
done
[ "$(grep -Ec ' model snapshot .* loaded$' "$tmp/ek.out")" = "$(count snapshot_successes)" ] || fail "snapshot loaded lines != snapshot_successes"
[ "$(grep -Ec ' model snapshot .* failed$' "$tmp/ek.out")" = "$(count snapshot_failures)" ] || fail "snapshot failed lines != snapshot_failures"
[ "$(lines 503)" -ge 1 ] || fail "every-key: no 503 line (nodes restart while clients write)"
echo "ok 3: model lines (member, unhealthy, expired, verify, snapshot, 503)"

# 4. Filters apply to harness and model lines.
replay "$ek" --seed 1 --trace --node 3 > "$tmp/n3.out"
grep -q ' model ' "$tmp/n3.out" || fail "--node 3: no model line"
grep ' model ' "$tmp/n3.out" | grep -Evq '(node|peer|source|from)=3( |$)' && fail "--node 3 let another node's model line through"
grep -qF 'fault 9: pause node 3' "$tmp/n3.out" || fail "--node 3 hid a fault on node 3"
grep -qF 'fault 6: crash node 1' "$tmp/n3.out" && fail "--node 3 showed a fault on node 1"
grep -qF 'fault 0: partition' "$tmp/n3.out" || fail "--node 3 hid the partition that cuts node 3 off"
"$bin" replay "$ph" --seed 3 --trace --from 40s --to 50s > "$tmp/win.out"
grep -q ' model ' "$tmp/win.out" || fail "--from 40s --to 50s: no model line"
awk '/^[0-9]/ { if ($1 + 0 < 40 || $1 + 0 > 50) bad = 1 } END { exit bad }' "$tmp/win.out" ||
    fail "--from/--to let lines outside the window through"
"$bin" replay "$ph" --seed 3 --trace --type checksum > "$tmp/type.out"
grep -q ' model verify_' "$tmp/type.out" || fail "--type checksum hid the verify lines"
grep -Eq ' model (member|unhealthy|expired|snapshot)' "$tmp/type.out" && fail "--type checksum let other model lines through"
echo "ok 4: --node, --from/--to and --type apply to harness and model lines"

# 5. The same trace hash with or without the trace.
hash() { sed -n 's/.*trace=\([0-9a-f]*\).*/\1/p' | head -1; }
h_run=$({ "$bin" run "$ek" --seed 1 || true; } | hash)
h_trace=$(hash < "$tmp/ek.out")
h_perf=$(replay "$ek" --seed 1 --perfetto "$tmp/ek.json" | hash)
[ -n "$h_run" ] && [ "$h_run" = "$h_trace" ] && [ "$h_run" = "$h_perf" ] ||
    fail "trace hashes differ: run $h_run, --trace $h_trace, --perfetto $h_perf"
echo "ok 5: the trace does not change the run"

# 6. Perfetto.
replay "$rr" --seed 1 --perfetto "$tmp/rr.json" > /dev/null
"$bin" replay "$ph" --seed 3 --perfetto "$tmp/ph.json" > /dev/null
"$bin" run "$ph" --seed 3 --db "$tmp/ph.db" > /dev/null
lag=$(sqlite3 "$tmp/ph.db" "select lag_count || ' ' || lag_max_ns from runs")
python3 - "$tmp/rr.json" "$tmp/ph.json" "$tmp/ek.json" $lag <<'EOF' || fail "Perfetto export"
import json, sys

def load(path):
    with open(path) as f:
        return json.load(f)["traceEvents"]

def slices(events, prefix):
    return sorted({e["tid"] for e in events if e["ph"] == "X" and e.get("cat") == "fault"
                   and e["name"].startswith(prefix)})

def check(ok, what):
    if not ok:
        print("FAIL:", what)
        sys.exit(1)

rr, ph, ek = (load(p) for p in sys.argv[1:4])
for events, nodes in ((rr, 3), (ph, 3), (ek, 5)):
    counters = {e["name"] for e in events if e["ph"] == "C"}
    for n in range(nodes):
        check("instances node %d" % n in counters, "no counter track of instances on node %d" % n)
    check("divergent keys" in counters, "no divergent keys counter")
    check(all(isinstance(e["args"]["value"], int) for e in events if e["ph"] == "C"), "a counter has no value")
    harness = [e for e in events if e.get("pid") == 2]
    check(any(e["ph"] == "M" and e["name"] == "process_name" and e["args"]["name"] == "harness" for e in harness),
          "no harness process")
    check(any(e["ph"] == "i" for e in harness), "nothing on the harness track")
    check(any(e["ph"] == "i" and e.get("s") == "g" and e["name"] == "fault" for e in events),
          "no global fault mark (the report draws them)")
    check(any(e["ph"] == "i" and e.get("cat") == "model" for e in events), "no model instant")
# Tracks are node + 1; each fault on the nodes it hits.
check(slices(rr, "fault 6: crash node 1") == [2], "the crash of node 1 is not on node 1's track alone")
check(slices(rr, "fault 0: restart node 2") == [3], "the restart of node 2 is not on node 2's track alone")
check(slices(rr, "fault 3: pause node 0") == [1], "the pause of node 0 is not on node 0's track alone")
crash = [e for e in rr if e["ph"] == "X" and e["name"] == "fault 6: crash node 1"][0]
check(crash["ts"] == 240e6 and crash["dur"] == 5e6, "the crash slice does not last from 240 s to the start at 245 s")
check(slices(ph, "fault 0: partition") == [1, 2, 3], "the partition is not on every node's track")
check(slices(ek, "fault 1: block 0->1") == [1, 2], "the block 0->1 is not on nodes 0 and 1")
check(slices(ek, "fault 10: link 0<->4") == [1, 5], "the link fault is not on nodes 0 and 4")
check(any(e["ph"] == "i" and e.get("pid") == 2 and e["name"] == "fault 0: partition {0,1}|{2}" for e in ph),
      "no instant naming the partition on the harness track")
# The replication-lag counter: one value per registration that reached
# every up node, at the instant it did, as the run's lag_count and lag_max_ns.
lags = [e for e in ph if e["ph"] == "C" and e["name"] == "replication lag (us)"]
check(len(lags) == int(sys.argv[4]), "%d lag counter values, the run has %s lags" % (len(lags), sys.argv[4]))
check(max(e["args"]["value"] for e in lags) == int(sys.argv[5]) // 1000, "the lag counter's max is not lag_max_ns")
check(all(a["ts"] <= b["ts"] for a, b in zip(lags, lags[1:])), "lag values are not in time order")
EOF
echo "ok 6: Perfetto counters (instances, divergent keys, replication lag), fault slices per node, harness track"
echo "PASS"
