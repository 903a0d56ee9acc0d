#!/bin/sh
# Swarm campaigns (scenarios/swarm-explore.yaml):
#   1. check --seeds random:N runs N distinct seeds, each with its own
#      drawn configuration (printed, and stored as the run's effective
#      scenario), and `run FILE --seed S` gives every run's trace hash again;
#   2. random:N@BASE gives the same seeds again; bad --seeds values exit 2;
#   3. --until-fail stops after the first run that did not pass; --budget
#      stops a campaign that never fails once its wall time is spent;
#   4. rerun --db --failed runs every failed run again from its stored
#      effective scenario, with the trace recorded;
#   5. a one-node cluster may draw a link nemesis (it once aborted the run);
#   6. --shard K/N with --seeds random:N@BASE: the merged shards hold the
#      runs one check makes; random seeds without @BASE are refused.
# Usage: test_swarm.sh DISTROSIM SOURCE_DIR [N]   (N random seeds, default 20)
set -eu
bin=$1
src=$2
n=${3:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$src"
swarm=scenarios/swarm-explore.yaml
# A scenario that always passes, for the options that need one.
printf 'name: calm\nduration: 1m\ncluster: {nodes: 3}\nworkload: {services: 4}\nexpect: {converge_within: unchecked, lost_max: unchecked, zombie_max: unchecked}\n' > "$tmp/calm.yaml"
calm=$tmp/calm.yaml

# 1. N fresh seeds, N configurations, each reproduced by its seed.
st=0
"$bin" check "$swarm" --seeds "random:$n" -j 2 --db "$tmp/s.db" > "$tmp/check.out" 2>/dev/null || st=$?
[ "$st" -le 1 ] || fail "check random:$n exited $st"
head -1 "$tmp/check.out" | grep -qE "^check: seeds random:$n@[0-9]+\$" || fail "the random seed base is not printed"
[ "$(grep -cE '^(PASS|FAIL) swarm-explore seed=' "$tmp/check.out")" -eq "$n" ] || fail "not $n runs printed"
[ "$(grep -c '^  swarm: cluster.nodes=' "$tmp/check.out")" -eq "$n" ] || fail "not $n drawn configurations printed"
[ "$(grep '^  swarm: ' "$tmp/check.out" | sort -u | wc -l)" -eq "$n" ] || fail "the $n drawn configurations are not distinct"
[ "$(sqlite3 "$tmp/s.db" 'select count(distinct seed) from runs')" -eq "$n" ] || fail "not $n distinct seeds stored"
[ "$(sqlite3 "$tmp/s.db" 'select count(distinct effective_yaml) from runs')" -eq "$n" ] || fail "not $n distinct effective scenarios stored"
[ "$(sqlite3 "$tmp/s.db" "select count(*) from runs where instr(effective_yaml, char(10) || 'swarm:') > 0")" -eq 0 ] \
    || fail "an effective scenario still holds its swarm block"
[ "$(sqlite3 "$tmp/s.db" "select count(*) from runs where effective_yaml like '# swarm: cluster.nodes=%'")" -eq "$n" ] \
    || fail "an effective scenario does not say what its seed drew"
sqlite3 "$tmp/s.db" 'select seed, trace_hash from runs order by id' > "$tmp/runs.txt"
while IFS='|' read -r seed hash; do
    "$bin" run "$swarm" --seed "$seed" > "$tmp/one.out" 2>/dev/null || true
    grep -q "^[A-Z]* swarm-explore seed=$seed .* trace=$hash\$" "$tmp/one.out" \
        || fail "run --seed $seed does not give trace $hash: $(head -1 "$tmp/one.out")"
    # The printed draw is the one the campaign printed for that seed.
    want=$(grep -A1 "^[A-Z]* swarm-explore seed=$seed " "$tmp/check.out" | grep '^  swarm: ')
    [ "$(grep '^  swarm: ' "$tmp/one.out")" = "$want" ] || fail "seed $seed draws another configuration"
done < "$tmp/runs.txt"
# The stored effective scenario reproduces the run on its own.
sqlite3 "$tmp/s.db" 'select effective_yaml from runs order by id limit 1' > "$tmp/eff.yaml"
seed=$(sqlite3 "$tmp/s.db" 'select seed from runs order by id limit 1')
hash=$(sqlite3 "$tmp/s.db" 'select trace_hash from runs order by id limit 1')
"$bin" run "$tmp/eff.yaml" > "$tmp/eff.out" 2>/dev/null || true
grep -q "seed=$seed .* trace=$hash\$" "$tmp/eff.out" || fail "the effective scenario does not reproduce seed $seed"

# 2. A base gives its seeds again; bad values are refused.
"$bin" check "$calm" --seeds random:3@12345 > "$tmp/a.out" 2>/dev/null || true
"$bin" check "$calm" --seeds random:3@12345 > "$tmp/b.out" 2>/dev/null || true
grep '^PASS\|^FAIL' "$tmp/a.out" | sed 's/ converged.*//' > "$tmp/a.seeds"
grep '^PASS\|^FAIL' "$tmp/b.out" | sed 's/ converged.*//' > "$tmp/b.seeds"
[ "$(wc -l < "$tmp/a.seeds")" -eq 3 ] && cmp -s "$tmp/a.seeds" "$tmp/b.seeds" || fail "random:3@12345 drew other seeds"
for bad in random:0 random:x random:3@ random:1000001 random:; do
    st=0
    "$bin" check "$swarm" --seeds "$bad" > /dev/null 2> "$tmp/err" || st=$?
    [ "$st" -eq 2 ] || fail "--seeds $bad exited $st, not 2"
    grep -q 'expected random:N' "$tmp/err" || fail "--seeds $bad: no message"
done

# 3. --until-fail and --budget.
st=0
"$bin" check tests/scenarios-shrink/tight-bound.yaml --until-fail -j 1 > "$tmp/uf.out" 2>/dev/null || st=$?
[ "$st" -eq 1 ] || fail "--until-fail on a failing scenario exited $st"
# It stops at the first run that did not pass; the runs already handed
# out (two slots per thread: one more with -j 1) finish and are kept.
grep -qE '^check: stopped because a run did not pass: [0-9]+ runs, [0-9]+ passed, [1-9][0-9]* failed, 0 errors$' "$tmp/uf.out" \
    || fail "--until-fail did not stop after a failure: $(tail -1 "$tmp/uf.out")"
runs=$(grep -cE '^(PASS|FAIL) tight-bound ' "$tmp/uf.out")
first=$(grep -nE '^(PASS|FAIL) tight-bound ' "$tmp/uf.out" | grep -n ':FAIL ' | head -1 | cut -d: -f1)
[ -n "$first" ] && [ $((runs - first)) -le 1 ] || fail "--until-fail ran $runs runs, the first failure was run $first"
st=0
"$bin" check "$calm" --until-fail --budget 2s -j 2 > "$tmp/bu.out" 2>/dev/null || st=$?
[ "$st" -eq 0 ] || fail "--budget on a passing scenario exited $st"
grep -qE '^check: stopped because the --budget was spent: [0-9]+ runs, [0-9]+ passed, 0 failed, 0 errors$' "$tmp/bu.out" \
    || fail "--budget did not stop the campaign: $(tail -1 "$tmp/bu.out")"
st=0
"$bin" check "$swarm" --budget soon > /dev/null 2>&1 || st=$?
[ "$st" -eq 2 ] || fail "--budget soon exited $st"

# 4. rerun --db --failed.
"$bin" check tests/scenarios-shrink/tight-bound.yaml --seeds 1-3 --db "$tmp/f.db" > /dev/null 2>&1 || true
"$bin" check "$calm" --seeds 1 --db "$tmp/f.db" > /dev/null 2>&1 || true
st=0
"$bin" rerun --db "$tmp/f.db" --failed > "$tmp/rr.out" 2>&1 || st=$?
[ "$st" -eq 1 ] || fail "rerun of failed runs exited $st"
[ "$(grep -c '^FAIL tight-bound seed=[123] .* recorded fail, trace the same)$' "$tmp/rr.out")" -eq 3 ] \
    || fail "rerun did not run the three failed runs with their traces: $(cat "$tmp/rr.out")"
grep -q 'calm' "$tmp/rr.out" && fail "rerun ran a passing run"
grep -q '^rerun: 3 runs, 0 passed, 3 failed, 0 errors; 3 with the trace recorded$' "$tmp/rr.out" || fail "rerun summary"
st=0
"$bin" rerun --db "$tmp/f.db" > /dev/null 2>&1 || st=$?
[ "$st" -eq 2 ] || fail "rerun without --failed exited $st"

# 5. A one-node cluster with a link nemesis.
printf 'name: one\ncluster: {nodes: 1}\nduration: 2m\nnemesis: {kinds: [link, pause], max_down: 1, interval: {min: 5s, max: 10s}}\n' > "$tmp/one.yaml"
st=0
"$bin" check "$tmp/one.yaml" --seeds 1-5 > "$tmp/one.out" 2>&1 || st=$?
[ "$st" -le 1 ] || fail "a one-node link nemesis ended in an error: $(cat "$tmp/one.out")"
# 6. Shards of a swarm campaign with random seeds.
"$bin" check "$swarm" --seeds random:4@7 --shard 1/2 --db "$tmp/sh1.db" --quiet > /dev/null 2>&1 || true
"$bin" check "$swarm" --seeds random:4@7 --shard 2/2 --db "$tmp/sh2.db" --quiet > /dev/null 2>&1 || true
"$bin" merge "$tmp/sh1.db" "$tmp/sh2.db" -o "$tmp/shm.db" --quiet > /dev/null 2>&1 || fail "merge of the swarm shards failed"
"$bin" check "$swarm" --seeds random:4@7 --db "$tmp/sh.db" --quiet > /dev/null 2>&1 || true
for db in shm sh; do
    sqlite3 "$tmp/$db.db" 'select seed, trace_hash, effective_yaml from runs order by id' > "$tmp/$db.rows"
done
[ "$(grep -c '^[0-9]*|[0-9a-f]*|# swarm: ' "$tmp/sh.rows")" -eq 4 ] || fail "the unsharded check did not store 4 swarm runs"
cmp -s "$tmp/shm.rows" "$tmp/sh.rows" || fail "the merged shards differ from one check"
st=0
"$bin" check "$swarm" --seeds random:4 --shard 1/2 > /dev/null 2> "$tmp/err" || st=$?
[ "$st" -eq 2 ] && grep -q 'needs --seeds random:N@BASE' "$tmp/err" || fail "--shard with random seeds without a base was not refused"
echo "test_swarm: ok"
