#!/bin/sh
# Recovery bounds (expect.recover_within and a fault's own recover_within):
#   1. a bound tighter than a restart's recovery fails the run, naming the
#      fault (index, kind, node) and the observed recovery; a loose one
#      passes; a fault's own bound overrides the expect-wide one both ways;
#   2. "never": a crash the run never ends, and a restart whose recovery the
#      next fault pre-empts, fail any recover_within bound;
#   3. run prints one line per fault; JUnit carries them in the test case's
#      system-out; check --markdown lists the faults that missed their bound
#      (the HTML report's fault table is checked under 2);
#   4. a rolling restart runs one restart per node, `every` apart.
# Usage: test_recover.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$src"

base='name: rec
duration: 2m
cluster: {nodes: 3}
workload: {services: 10, instances_per_service: 2}
'
loose='expect: {converge_within: unchecked, lost_max: unchecked, zombie_max: unchecked, recover_within: 90s}'
tight='expect: {converge_within: unchecked, lost_max: unchecked, zombie_max: unchecked, recover_within: 1ms}'

# 1. Too tight fails naming the fault; loose passes; per-fault overrides.
printf '%sfaults: [{at: 30s, restart: {node: 1, after: 10s}}]\n%s\n' "$base" "$tight" > "$tmp/tight.yaml"
if "$bin" run "$tmp/tight.yaml" --seed 1 > "$tmp/tight.out"; then fail "a 1ms recovery bound passed"; fi
grep -q '^  failed: recover_within fault 0 (restart, node 1): observed [0-9.]*s, bound 0.001s$' "$tmp/tight.out" \
    || fail "tight bound: $(cat "$tmp/tight.out")"
printf '%sfaults: [{at: 30s, restart: {node: 1, after: 10s}}]\n%s\n' "$base" "$loose" > "$tmp/loose.yaml"
"$bin" run "$tmp/loose.yaml" --seed 1 > "$tmp/loose.out" || fail "a 90s recovery bound failed: $(cat "$tmp/loose.out")"
printf '%sfaults: [{at: 30s, restart: {node: 1, after: 10s}, recover_within: 90s}]\n%s\n' "$base" "$tight" > "$tmp/own-loose.yaml"
"$bin" run "$tmp/own-loose.yaml" --seed 1 > "$tmp/own-loose.out" \
    || fail "the fault's own 90s bound did not override 1ms: $(cat "$tmp/own-loose.out")"
printf '%sfaults: [{at: 30s, restart: {node: 1, after: 10s}, recover_within: 1ms}]\n%s\n' "$base" "$loose" > "$tmp/own-tight.yaml"
if "$bin" run "$tmp/own-tight.yaml" --seed 1 > "$tmp/own-tight.out"; then fail "the fault's own 1ms bound was ignored"; fi
grep -q 'failed: recover_within fault 0 (restart, node 1)' "$tmp/own-tight.out" || fail "own tight: $(cat "$tmp/own-tight.out")"
echo "ok 1: a tight recover_within fails naming the fault, a loose one passes, a fault's own bound overrides"

# 2. Never: a crash never ended, and a recovery pre-empted by the next fault.
printf '%sfaults: [{at: 60s, crash: 2}]\n%s\n' "$base" "$loose" > "$tmp/never.yaml"
if "$bin" run "$tmp/never.yaml" --seed 1 > "$tmp/never.out"; then fail "a crash never ended passed recover_within"; fi
grep -q 'failed: recover_within fault 0 (crash, node 2): observed never, bound 90.000s' "$tmp/never.out" \
    || fail "never ended: $(cat "$tmp/never.out")"
grep -q '^  fault 0 crash node 2 start=60.000s end=120.000s recovery=never' "$tmp/never.out" \
    || fail "never ended, fault line: $(cat "$tmp/never.out")"
printf '%sfaults:\n  - {at: 30s, restart: {node: 1, after: 10s}}\n  - {at: 40001ms, crash: 2, recover_within: unchecked}\n  - {at: 50s, start: 2}\n%s\n' \
    "$base" "$loose" > "$tmp/preempt.yaml"
if "$bin" run "$tmp/preempt.yaml" --seed 1 > "$tmp/preempt.out"; then fail "a pre-empted recovery passed"; fi
grep -q 'failed: recover_within fault 0 (restart, node 1): observed never' "$tmp/preempt.out" \
    || fail "pre-empted: $(cat "$tmp/preempt.out")"
grep -q '^  fault 2 start node 2 .* recovery=- ' "$tmp/preempt.out" || fail "a start has a recovery: $(cat "$tmp/preempt.out")"
# The report's fault table shows the same recovery: never, a time, none for a start.
"$bin" run "$tmp/preempt.yaml" --seed 1 --db "$tmp/pre.db" > /dev/null || true
"$bin" report "$tmp/pre.db" -o "$tmp/pre.html" --run 1 || fail "report of the pre-empted run"
grep -q '<tr><td>fault 0: restart node 1, down 10.000 s</td><td>restart</td><td class="n">30.000 s</td><td class="n">40.000 s</td><td class="n">never</td></tr>' \
    "$tmp/pre.html" || fail "the report does not show never for fault 0"
grep -q '<tr><td>fault 2: start node 2</td><td>start</td>.*<td class="n">-</td></tr>' "$tmp/pre.html" \
    || fail "the report shows a recovery for a start"
echo "ok 2: a fault that never recovers before the next fault or the end of the run fails its bound"

# 3. The per-fault table in JUnit and Markdown.
if "$bin" check "$tmp/tight.yaml" --seeds 1-2 --junit "$tmp/j.xml" --markdown "$tmp/m.md" > /dev/null; then
    fail "check passed the tight bound"
fi
grep -q '<system-out>fault 0 restart node 1 start=30.000s end=40.000s recovery=[0-9.]*s (bound 0.001s, NOT met)' "$tmp/j.xml" \
    || fail "JUnit has no fault line: $(cat "$tmp/j.xml")"
grep -q '^### Faults not recovered within their bound$' "$tmp/m.md" || fail "Markdown has no fault table"
grep -q '^| rec | 2 | 0 | restart | 1 | 30.000s | 40.000s | [0-9.]*s | 0.001s |' "$tmp/m.md" \
    || fail "Markdown fault row: $(cat "$tmp/m.md")"
echo "ok 3: run, JUnit and check --markdown show the per-fault table"

# 4. A rolling restart: one restart per listed node, every apart.
printf '%sfaults: [{at: 20s, rolling: {action: restart, nodes: [2, 0], every: 30s, down: 5s}}]\n%s\n' "$base" "$loose" > "$tmp/roll.yaml"
"$bin" run "$tmp/roll.yaml" --seed 1 > "$tmp/roll.out" || fail "rolling: $(cat "$tmp/roll.out")"
grep -q '^  fault 0 restart node 2 start=20.000s end=25.000s recovery=' "$tmp/roll.out" || fail "rolling step 0: $(cat "$tmp/roll.out")"
grep -q '^  fault 1 restart node 0 start=50.000s end=55.000s recovery=' "$tmp/roll.out" || fail "rolling step 1: $(cat "$tmp/roll.out")"
[ "$(grep -c '^  fault ' "$tmp/roll.out")" -eq 2 ] || fail "rolling: not two steps: $(cat "$tmp/roll.out")"
echo "ok 4: a rolling restart runs one restart per node, every apart"

# 5. wait_converged: step k + 1 starts `every` after the first instant the
# cluster converged once step k had ended (the database's convergences row
# of step k), not at a fixed `every`; and when the cluster never converges
# after a step (a node isolated for good), the steps after it never start.
cat > "$tmp/wait.yaml" <<'YAML'
name: rolling-wait
duration: 6m
cluster: {nodes: 3}
workload: {services: 20, instances_per_service: 2, start_at: 5s}
faults:
  - {at: 60s, rolling: {action: restart, every: 15s, down: 10s, wait_converged: true}}
expect: {lost_max: unchecked}
YAML
"$bin" validate --print "$tmp/wait.yaml" | grep -q 'wait_converged: true' || fail "wait: validate --print lost wait_converged"
"$bin" run "$tmp/wait.yaml" --seed 1 --db "$tmp/wait.db" > "$tmp/wait.out" || fail "wait: $(cat "$tmp/wait.out")"
[ "$(sqlite3 "$tmp/wait.db" "select count(*) from faults")" = 3 ] || fail "wait: not three steps"
bad=$(sqlite3 "$tmp/wait.db" "select f.fault_index from faults f join convergences c on c.fault_index = f.fault_index - 1
    where f.fault_index > 0 and (c.converged_ns is null or f.start_ns <> c.converged_ns + 15000000000
    or c.converged_ns < c.fault_end_ns) order by f.id")
[ -z "$bad" ] || fail "wait: steps $bad do not start 15 s after the step before converged: $(sqlite3 "$tmp/wait.db" 'select * from faults; select * from convergences')"
[ "$(sqlite3 "$tmp/wait.db" "select count(*) from faults where fault_index > 0 and start_ns > 60000000000 + fault_index * 15000000000 + fault_index * 10000000000")" = 2 ] ||
    fail "wait: the steps did not wait for the restarted node to come back (down) and converge"
printf 'name: rolling-stuck\nduration: 5m\ncluster: {nodes: 3}\nworkload: {services: 20, instances_per_service: 2}\nfaults:\n  - {at: 20s, isolate: 2}\n  - {at: 60s, rolling: {action: restart, nodes: [0, 1], every: 15s, down: 10s, wait_converged: true}}\nexpect: {lost_max: unchecked, converge_within: unchecked}\n' > "$tmp/stuck.yaml"
"$bin" run "$tmp/stuck.yaml" --seed 1 > "$tmp/stuck.out" || fail "stuck: $(cat "$tmp/stuck.out")"
grep -q '^  fault 1 restart node 0 start=60.000s end=70.000s recovery=never' "$tmp/stuck.out" || fail "stuck: step 0: $(cat "$tmp/stuck.out")"
grep -q '^  fault 2 restart node 1 start=300.000s end=300.000s recovery=not started' "$tmp/stuck.out" ||
    fail "stuck: step 1 started although the cluster never converged: $(cat "$tmp/stuck.out")"
"$bin" run "$tmp/stuck.yaml" --seed 1 --db "$tmp/stuck.db" > /dev/null
"$bin" report "$tmp/stuck.db" --run 1 -o "$tmp/stuck.html" || fail "stuck: report"
grep -q '<td class="n">not started</td>' "$tmp/stuck.html" || fail "stuck: the report does not say the step never started"
grep -q '<th>convergence</th><td class="n">never: fault 0 (isolate, node 2) never ends' "$tmp/stuck.html" ||
    fail "stuck: the report does not say why the convergence is never"
echo "ok 5: wait_converged starts each step every after the cluster converged; a step after no convergence never starts"
