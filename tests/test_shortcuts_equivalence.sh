#!/bin/sh
# The model's shortcuts (the receiver memo of model/distro_memo.c, the beat
# check's deadline in model/distro_health.c) only skip work whose outcome is
# already known, so turning them off must change nothing: every scenario of
# the library, over a few seeds, gives the same verdict, figures, event
# count and trace hash both ways.
# Usage: test_shortcuts_equivalence.sh PATH/TO/distrosim SOURCE_DIR [SEEDS]
# (SEEDS defaults to 1-4; every scenario must report a trace for each.)
set -eu
bin=$1
top=$2
seeds=${3:-1-4}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# `run` exits 1 when an expectation fails; the comparison is what matters.
"$bin" run "$top"/scenarios/*.yaml --seeds "$seeds" -j 2 >"$tmp/on" || true
"$bin" run "$top"/scenarios/*.yaml --seeds "$seeds" -j 2 --set cluster.distro.shortcuts=false \
    | sed 's/ --set cluster\.distro\.shortcuts=false//' >"$tmp/off" || true
runs=$(grep -c ' trace=' "$tmp/on" || true)
first=${seeds%-*}
last=${seeds#*-}
want=$(( $(ls "$top"/scenarios/*.yaml | wc -l) * (last - first + 1) ))
if [ "$runs" -lt "$want" ]; then
    echo "FAIL: only $runs runs reported a trace"; cat "$tmp/on"; exit 1
fi
if ! cmp -s "$tmp/on" "$tmp/off"; then
    echo "FAIL: runs differ with the shortcuts off (with, then without):"
    diff "$tmp/on" "$tmp/off" | head -40
    exit 1
fi
echo "test_shortcuts_equivalence: $runs runs identical with and without the shortcuts"
