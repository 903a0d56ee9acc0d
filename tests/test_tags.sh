#!/bin/sh
# Scenario tags: the CI subset is the scenarios whose `tags:` list has `ci`,
# declared once in scenarios/, and `--tag` selects them on run, check and
# sweep.
#   1. `check scenarios --tag ci` runs exactly the files tagged ci, each once
#      per seed, and no other;
#   2. --tag takes a comma list and repeats (a scenario runs when it has any
#      of the tags); sweep and run select the same way;
#   3. a tag no scenario has selects nothing and says so, exit 2; a malformed
#      --tag and --tag on replay exit 2;
#   4. a bad `tags:` value is a loader error with file:line:col, exit 2.
# Usage: test_tags.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$src"

# The tagged files, found without distrosim: a `tags:` line naming ci.
grep -l -E '^tags: \[(.*, *)?ci(, *.*)?\]' scenarios/*.yaml | sort > "$tmp/tagged.files"
tagged=$(wc -l < "$tmp/tagged.files")
[ "$tagged" -eq 17 ] || fail "expected 17 scenarios tagged ci, found $tagged"
[ ! -e scenarios/ci ] || fail "scenarios/ci exists again: the subset is declared by tags"
# Their scenario names, as the runner prints them.
while read -r f; do sed -n 's/^name: *//p' "$f"; done < "$tmp/tagged.files" | sort > "$tmp/tagged.names"

# 1. Exactly the tagged scenarios, seeds 1-2 each.
"$bin" check scenarios --tag ci --seeds 1-2 -j 2 > "$tmp/check.out" || fail "check --tag ci failed"
[ "$(grep -c '^PASS ' "$tmp/check.out")" -eq $((tagged * 2)) ] || fail "expected $((tagged * 2)) runs"
grep -q "^check: $((tagged * 2)) runs, $((tagged * 2)) passed, 0 failed, 0 errors$" "$tmp/check.out" ||
    fail "summary line"
awk '/^PASS /{print $2}' "$tmp/check.out" | sort -u > "$tmp/ran.names"
cmp -s "$tmp/tagged.names" "$tmp/ran.names" || { diff "$tmp/tagged.names" "$tmp/ran.names"; fail "wrong selection"; }
all=$(ls scenarios/*.yaml | wc -l)
[ "$all" -gt "$tagged" ] || fail "every scenario is tagged ci: the test proves nothing"
echo "ok 1: check --tag ci ran the $tagged tagged scenarios, not the other $((all - tagged))"

# 2. Comma lists and repeats select the union; run and sweep filter too.
"$bin" check scenarios --tag nosuch,ci --seeds 1 > "$tmp/comma.out" || fail "--tag nosuch,ci"
[ "$(grep -c '^PASS ' "$tmp/comma.out")" -eq "$tagged" ] || fail "--tag nosuch,ci selected the wrong count"
"$bin" check scenarios --tag nosuch --tag ci --seeds 1 > "$tmp/repeat.out" || fail "--tag nosuch --tag ci"
cmp -s "$tmp/comma.out" "$tmp/repeat.out" || fail "a comma list and repeated --tag differ"
printf 'name: tagged-a\ntags: [alpha, shared]\nduration: 20s\nexpect: {lost_max: unchecked}\n' > "$tmp/a.yaml"
printf 'name: tagged-b\ntags: [beta, shared]\nduration: 20s\nexpect: {lost_max: unchecked}\n' > "$tmp/b.yaml"
printf 'name: untagged-c\nduration: 20s\nexpect: {lost_max: unchecked}\n' > "$tmp/c.yaml"
"$bin" run "$tmp/a.yaml" "$tmp/b.yaml" "$tmp/c.yaml" --tag beta --seeds 1 > "$tmp/run.out" || fail "run --tag beta"
[ "$(awk '{print $2}' "$tmp/run.out" | head -1)" = tagged-b ] && [ "$(grep -c '^PASS ' "$tmp/run.out")" -eq 1 ] ||
    fail "run --tag beta: $(cat "$tmp/run.out")"
"$bin" run "$tmp" --tag shared --seeds 1 > "$tmp/dir.out" || fail "run DIR --tag shared"
[ "$(grep -c '^PASS tagged-[ab] ' "$tmp/dir.out")" -eq 2 ] && ! grep -q untagged "$tmp/dir.out" ||
    fail "run DIR --tag shared: $(cat "$tmp/dir.out")"
"$bin" sweep "$tmp" --tag alpha --set workload.services=1,2 --seeds 1 > "$tmp/sweep.out" || fail "sweep --tag alpha"
[ "$(grep -c '^PASS tagged-a ' "$tmp/sweep.out")" -eq 2 ] && [ "$(grep -c '^PASS ' "$tmp/sweep.out")" -eq 2 ] ||
    fail "sweep --tag alpha: $(cat "$tmp/sweep.out")"
echo "ok 2: comma lists, repeats, run and sweep"

# 3. Nothing selected, a malformed tag, --tag on replay: exit 2.
if "$bin" check scenarios --tag nosuch --seeds 1 > "$tmp/none.out" 2> "$tmp/none.err"; then rc=0; else rc=$?; fi
[ "$rc" -eq 2 ] || fail "--tag nosuch exited $rc, expected 2"
grep -q 'no scenario has the tag nosuch' "$tmp/none.err" || fail "--tag nosuch: $(cat "$tmp/none.err")"
[ ! -s "$tmp/none.out" ] || fail "--tag nosuch ran something"
for bad in "Upper" "a,,b" "" "sp ace"; do
    if "$bin" check scenarios --tag "$bad" > /dev/null 2>&1; then rc=0; else rc=$?; fi
    [ "$rc" -eq 2 ] || fail "--tag \"$bad\" exited $rc, expected 2"
done
if "$bin" replay "$tmp/a.yaml" --seed 1 --tag alpha > /dev/null 2>&1; then rc=0; else rc=$?; fi
[ "$rc" -eq 2 ] || fail "replay --tag exited $rc, expected 2"
echo "ok 3: empty selections and malformed tags exit 2"

# 4. A bad tags: value is a loader error at its place, also under --tag.
printf 'name: bad\ntags: ci\n' > "$tmp/bad.yaml"
if "$bin" check "$tmp/bad.yaml" --tag ci > /dev/null 2> "$tmp/bad.err"; then rc=0; else rc=$?; fi
[ "$rc" -eq 2 ] || fail "bad tags: exited $rc, expected 2"
grep -qF "$tmp/bad.yaml:2:7: tags: expected a list of tags" "$tmp/bad.err" || fail "bad tags: $(cat "$tmp/bad.err")"
printf 'name: bad\ntags: [ci, Nightly]\n' > "$tmp/bad.yaml"
if "$bin" validate "$tmp/bad.yaml" 2> "$tmp/bad.err"; then rc=0; else rc=$?; fi
[ "$rc" -eq 2 ] || fail "tags: [ci, Nightly] exited $rc, expected 2"
grep -qF "$tmp/bad.yaml:2:12: tags[1]: expected a tag" "$tmp/bad.err" || fail "bad tag word: $(cat "$tmp/bad.err")"
echo "ok 4: bad tags: values are loader errors with file:line:col"
echo "test_tags: ok"
