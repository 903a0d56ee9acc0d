#!/bin/sh
# The engine benchmark's published checksums (workload MH, see the README's
# Performance section): MH(10, 60) and MH(100, 10) must print exactly these,
# with no late delivery, from the engine and from the bare reference loop.
# A changed checksum means the engine delivered or ordered events
# differently.  Speed is not checked (that is machine noise here).
# Usage: test_bench_mesh.sh DISTROSIM
set -eu
bin=$1
status=0
check() {   # N V CHECKSUM
    out=$("$bin" bench mesh --baseline "$1" "$2") || { echo "FAIL: bench mesh --baseline $1 $2 exited $?"; status=1; return; }
    echo "$out"
    for peer in distrosim bare-loop; do
        line=$(echo "$out" | grep "^RESULT peer=$peer N=$1 V=$2 ") ||
            { echo "FAIL: no RESULT line for $peer N=$1 V=$2"; status=1; continue; }
        echo "$line" | grep -q " checksum=$3 " || { echo "FAIL: $peer MH($1, $2): expected checksum=$3"; status=1; }
        echo "$line" | grep -q " late=0 " || { echo "FAIL: $peer MH($1, $2): late deliveries"; status=1; }
    done
    # The plain form (no --baseline) prints the same engine line.
    "$bin" bench mesh "$1" "$2" | grep -q "^RESULT peer=distrosim N=$1 V=$2 .* checksum=$3 late=0 " ||
        { echo "FAIL: bench mesh $1 $2: expected checksum=$3"; status=1; }
}
check 10 60 da62ebb7b49dcbc0
check 100 10 a74d5d5a94cce480
[ $status -eq 0 ] && echo "test_bench_mesh: ok"
exit $status
