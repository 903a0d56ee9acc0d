#!/bin/sh
# `cmake --install` gives a working installation: bin/distrosim runs, and
# share/distrosim/scenarios holds the scenario library as it is in the
# source tree (every file, byte for byte, and nothing else), which the
# installed binary loads and runs from any directory.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
bin="$tmp/prefix/bin/distrosim"
lib="$tmp/prefix/share/distrosim/scenarios"
[ -x "$bin" ] || fail "no executable bin/distrosim"
"$bin" --help > "$tmp/help.out" || fail "bin/distrosim --help exited $?"
grep -q '^usage: distrosim COMMAND' "$tmp/help.out" || fail "bin/distrosim --help: $(head -1 "$tmp/help.out")"
echo "ok 1: bin/distrosim runs"

[ -d "$lib" ] || fail "no share/distrosim/scenarios"
diff -r "$src/scenarios" "$lib" > "$tmp/diff.out" || { head -5 "$tmp/diff.out"; fail "the installed library differs"; }
n=$(find "$lib" -name '*.yaml' | wc -l)
[ "$n" -gt 20 ] || fail "only $n scenarios installed"
echo "ok 2: share/distrosim/scenarios holds the $n library files"

# The installed binary reads installed scenarios, away from the source tree.
cd "$tmp"
"$bin" validate "$lib/control-steady-state.yaml" || fail "validate of an installed scenario exited $?"
"$bin" validate --print "$lib/control-steady-state.yaml" | grep -q '^name: "control-steady-state"$' ||
    fail "validate --print of an installed scenario"
"$bin" check "$lib" --tag ci --seeds 1 -j 2 > "$tmp/check.out" || { cat "$tmp/check.out"; fail "check --tag ci of the installed library"; }
ci=$(grep -l '^tags:.*[[ ,]ci[],]' "$lib"/*.yaml | wc -l)
[ "$ci" -ge 12 ] || fail "the installed library has only $ci scenarios tagged ci"
grep -q "^check: $ci runs, $ci passed, 0 failed, 0 errors\$" "$tmp/check.out" || fail "check: $(tail -1 "$tmp/check.out")"
echo "ok 3: the installed binary validates and runs installed scenarios"
echo "test_install: ok"
