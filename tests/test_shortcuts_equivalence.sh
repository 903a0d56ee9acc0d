#!/bin/sh
# The model's shortcuts (the receiver memo of model/distro_memo.c, the beat
# check's deadline in model/distro_health.c) only skip work whose outcome is
# already known, so turning them off must change nothing: every scenario of
# the library, over a few seeds, gives the same verdict, figures, event
# count and trace hash both ways.  Merged beats (model/distro_client.c: a
# 1.x beat's send run inside its arrival event) spare events, so with them
# off the runs must agree on everything but the event count and trace hash.
# Usage: test_shortcuts_equivalence.sh PATH/TO/distrosim SOURCE_DIR [SEEDS]
# (SEEDS defaults to 1-4; every scenario must report a trace for each.)
set -eu
bin=$1
top=$2
seeds=${3:-1-4}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# The shortcuts are 1.4.2 model code (distro_memo.c, distro_health.c): a
# 2.5.1 or 3.0.3 cluster never reads the key, so the scenarios that run
# one (cluster.version in the file) are left out; they are the costliest
# under the sanitizers (a 21,000-client registry among them).
files=
for f in "$top"/scenarios/*.yaml; do
    "$bin" validate "$f" --print 2>/dev/null | grep -q '^  version: "1\.4\.2"$' && files="$files $f"
done
[ -n "$files" ] || { echo "FAIL: no 1.4.2 scenario in $top/scenarios"; exit 1; }
# `run` exits 1 when an expectation fails; the comparison is what matters.
# shellcheck disable=SC2086 # one argument per file
"$bin" run $files --seeds "$seeds" -j 2 >"$tmp/on" || true
# shellcheck disable=SC2086
"$bin" run $files --seeds "$seeds" -j 2 --set cluster.distro.shortcuts=false \
    | sed 's/ --set cluster\.distro\.shortcuts=false//' >"$tmp/off" || true
runs=$(grep -c ' trace=' "$tmp/on" || true)
first=${seeds%-*}
last=${seeds#*-}
want=$(( $(echo "$files" | wc -w) * (last - first + 1) ))
if [ "$runs" -lt "$want" ]; then
    echo "FAIL: only $runs runs reported a trace"; cat "$tmp/on"; exit 1
fi
if ! cmp -s "$tmp/on" "$tmp/off"; then
    echo "FAIL: runs differ with the shortcuts off (with, then without):"
    diff "$tmp/on" "$tmp/off" | head -40
    exit 1
fi
# shellcheck disable=SC2086
"$bin" run $files --seeds "$seeds" -j 2 --set cluster.distro.merged_beats=false \
    | sed 's/ --set cluster\.distro\.merged_beats=false//' >"$tmp/unmerged" || true
sed -E 's/ events=[0-9]+ trace=[0-9a-f]+//' "$tmp/on" >"$tmp/on.outcomes"
sed -E 's/ events=[0-9]+ trace=[0-9a-f]+//' "$tmp/unmerged" >"$tmp/unmerged.outcomes"
if ! cmp -s "$tmp/on.outcomes" "$tmp/unmerged.outcomes"; then
    echo "FAIL: runs differ with merged beats off (with, then without):"
    diff "$tmp/on.outcomes" "$tmp/unmerged.outcomes" | head -40
    exit 1
fi
# ... and the merged runs did spare events.
fewer=$(paste -d' ' "$tmp/on" "$tmp/unmerged" | sed -nE 's/.* events=([0-9]+) .* events=([0-9]+) .*/\1 \2/p' |
        awk '$1 < $2 { n++ } END { print n + 0 }')
if [ "$fewer" -lt "$((runs / 2))" ]; then
    echo "FAIL: only $fewer of $runs runs had fewer events with merged beats"; exit 1
fi
echo "test_shortcuts_equivalence: $runs runs identical with and without the shortcuts," \
     "and with merged beats off but for events ($fewer runs had fewer with them)"
