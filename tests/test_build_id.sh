#!/bin/sh
# The build id stamped by sim/harness/build_id.cmake: "distrosim VERSION
# COMMIT" for a clean tree, COMMIT-dirty once a tracked file differs from
# the commit (an untracked file does not count), "unknown" outside git, and
# the output file is rewritten only when the id changes.
# Usage: test_build_id.sh SOURCE_DIR
set -eu
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Git must not find a repository above the test's own (for the "outside
# git" case, and so a checkout around /tmp cannot leak in).
GIT_CEILING_DIRECTORIES=$tmp
export GIT_CEILING_DIRECTORIES
fail() { echo "FAIL: $*"; exit 1; }
stamp() { cmake -DSRC="$tmp/repo" -DOUT="$tmp/build_id.c" -DVERSION=x -P "$src/sim/harness/build_id.cmake"; }
id() { sed -n 's/.*return "\(.*\)";.*/\1/p' "$tmp/build_id.c"; }
g() { git -C "$tmp/repo" -c user.name=test -c user.email=test@example.invalid -c commit.gpgsign=false "$@"; }

mkdir "$tmp/repo"
g init -q
echo one > "$tmp/repo/file.txt"
g add file.txt
g commit -q -m one
commit=$(g rev-parse --short=12 HEAD)

stamp
[ "$(id)" = "distrosim x $commit" ] || fail "clean tree: got '$(id)', expected 'distrosim x $commit'"
grep -q 'const char \*run_build_id(void)' "$tmp/build_id.c" || fail "no run_build_id() in the output"
echo "ok 1: a clean tree gives the commit"

# Unchanged id: the file is left alone (nothing relinks).
touch -d '2000-01-01 00:00:00' "$tmp/build_id.c"
echo untracked > "$tmp/repo/new.txt"
stamp
[ "$(id)" = "distrosim x $commit" ] || fail "an untracked file made the tree dirty: '$(id)'"
[ "$(find "$tmp/build_id.c" -newermt '2000-01-02' | wc -l)" -eq 0 ] || fail "an unchanged id rewrote the file"
echo "ok 2: an untracked file is not dirty, and the file is not rewritten"

echo two > "$tmp/repo/file.txt"
stamp
[ "$(id)" = "distrosim x $commit-dirty" ] || fail "modified tree: got '$(id)', expected '$commit-dirty'"
echo "ok 3: a modified tracked file gives -dirty"

g commit -q -a -m two
commit2=$(g rev-parse --short=12 HEAD)
[ "$commit2" != "$commit" ] || fail "the second commit has the same id"
stamp
[ "$(id)" = "distrosim x $commit2" ] || fail "after committing: got '$(id)', expected 'distrosim x $commit2'"
echo "ok 4: committing the change gives the new commit, clean"

rm -rf "$tmp/repo/.git"
stamp
[ "$(id)" = "distrosim x unknown" ] || fail "outside git: got '$(id)'"
echo "ok 5: outside git the commit is unknown"
echo "test_build_id: ok"
