#!/bin/sh
# distrosim shrink, on a seeded defect (tests/scenarios-shrink/tight-bound.yaml:
# a random nemesis of ten faults against a lost bound of zero):
#   1. the original run fails lost_max with ten nemesis faults;
#   2. shrink writes a scenario of at most two faults that `run` shows
#      failing lost_max again, with a comment naming the original and seed,
#      and prints every candidate it tried;
#   3. the same input shrinks to the same output (bytes and steps);
#   4. a passing run has nothing to shrink (exit 1); bad arguments exit 2;
#   5. a run that ends in an ERROR shrinks to one that ends in the same
#      error (whatever instant it names).
# Usage: test_shrink.sh DISTROSIM SOURCE_DIR [quick]
#   quick (the sanitizer build, where a shrink takes minutes): 1, 2 and 4
#   only; the Release pass checks 3 on the same tree.
set -eu
bin=$1
src=$2
mode=${3:-full}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$src"
scn=tests/scenarios-shrink/tight-bound.yaml

# 1. Ten faults, and the bound fails.
st=0
"$bin" run "$scn" --seed 1 > "$tmp/orig.out" 2>&1 || st=$?
[ "$st" -eq 1 ] || fail "the seeded defect does not fail (exit $st)"
grep -q '^  failed: lost_max: ' "$tmp/orig.out" || fail "the original does not fail lost_max"
[ "$(grep -cE '^  fault [0-9]+ (isolate|crash|pause) ' "$tmp/orig.out")" -eq 10 ] \
    || fail "the original run does not have ten nemesis faults"

# 2. Shrink to at most two faults that fail the same expectation.
"$bin" shrink "$scn" --seed 1 -o "$tmp/small.yaml" > "$tmp/steps1.out" 2>&1 || fail "shrink exited $?: $(tail -3 "$tmp/steps1.out")"
grep -q '^shrink: target: the run must keep failing lost_max$' "$tmp/steps1.out" || fail "no target line"
[ "$(grep -c '^  try ' "$tmp/steps1.out")" -ge 5 ] || fail "the steps are not printed"
head -1 "$tmp/small.yaml" | grep -qF "# Shrunk by \`distrosim shrink $scn --seed 1\`" || fail "no comment naming the original"
faults=$(grep -cE '^  - \{at: ' "$tmp/small.yaml" || true)
[ "$faults" -ge 1 ] && [ "$faults" -le 2 ] || fail "shrunk to $faults faults, not 1 or 2"
grep -q '^# nemesis: off' "$tmp/small.yaml" || fail "the shrunk scenario still has a nemesis"
st=0
"$bin" run "$tmp/small.yaml" > "$tmp/small.out" 2>&1 || st=$?
[ "$st" -eq 1 ] || fail "the shrunk scenario does not fail (exit $st)"
grep -q '^  failed: lost_max: ' "$tmp/small.out" || fail "the shrunk scenario fails another expectation: $(cat "$tmp/small.out")"
grep -q '^FAIL tight-bound-shrunk seed=1 ' "$tmp/small.out" || fail "the shrunk scenario does not run seed 1 by default"

# 3. Deterministic: the same steps and the same file (its own name aside).
if [ "$mode" != quick ]; then
"$bin" shrink "$scn" --seed 1 -o "$tmp/again.yaml" > "$tmp/steps2.out" 2>&1 || fail "second shrink exited $?"
sed "s#$tmp/again.yaml#OUT#" "$tmp/again.yaml" > "$tmp/a"
sed "s#$tmp/small.yaml#OUT#" "$tmp/small.yaml" > "$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "two shrinks of the same run differ: $(diff "$tmp/a" "$tmp/b")"
sed "s#$tmp/again.yaml#OUT#" "$tmp/steps2.out" > "$tmp/a"
sed "s#$tmp/small.yaml#OUT#" "$tmp/steps1.out" > "$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "two shrinks print different steps"
# Without -o the scenario goes to standard output and the steps to standard error.
"$bin" shrink "$scn" --seed 1 > "$tmp/stdout.yaml" 2> "$tmp/stderr.out" || fail "shrink to stdout exited $?"
sed "s#$tmp/small.yaml#FILE#" "$tmp/small.yaml" | cmp -s - "$tmp/stdout.yaml" || fail "stdout differs from -o"
fi

# 4. Nothing to shrink; bad arguments.
printf 'name: calm\nduration: 1m\ncluster: {nodes: 3}\nworkload: {services: 4}\nexpect: {converge_within: unchecked, lost_max: unchecked, zombie_max: unchecked}\n' > "$tmp/calm.yaml"
st=0
"$bin" shrink "$tmp/calm.yaml" --seed 1 -o "$tmp/none.yaml" > /dev/null 2>&1 || st=$?
[ "$st" -eq 1 ] || fail "shrinking a passing run exited $st"
[ ! -e "$tmp/none.yaml" ] || fail "a passing run wrote a file"
for args in "$scn" "--seed 1" "$scn --seed x" "$scn --seed 1 --bogus"; do
    st=0
    # shellcheck disable=SC2086
    "$bin" shrink $args > /dev/null 2>&1 || st=$?
    [ "$st" -eq 2 ] || fail "shrink $args exited $st, not 2"
done
# 5. An ERROR is a target too.
"$bin" shrink tests/scenarios-errors/budget-spent.yaml --seed 1 -o "$tmp/err.yaml" > "$tmp/err.out" 2>&1 \
    || fail "shrinking an ERROR run exited $?: $(tail -3 "$tmp/err.out")"
grep -q '^shrink: target: the run must keep failing error: the event budget (engine.events_budget) of N events is spent$' \
    "$tmp/err.out" || fail "the error is not the target: $(grep target "$tmp/err.out")"
st=0
"$bin" run "$tmp/err.yaml" > "$tmp/err.run" 2>&1 || st=$?
[ "$st" -eq 2 ] || fail "the shrunk ERROR run exited $st"
grep -q '^  error: the run stopped at .*: the event budget (engine.events_budget) of 500 events is spent$' "$tmp/err.run" \
    || fail "the shrunk run ends in another error: $(cat "$tmp/err.run")"
echo "test_shrink: ok"
