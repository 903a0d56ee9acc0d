#!/bin/sh
# The heal that `phases` runs at the end of chaos is recorded as a fault row
# but is not a fault of its own: the time since the last fault counts from
# the last real fault's end.  partition-heal cuts node 2 off from 30 s to
# 70 s and chaos lasts 2 m, so last_fault_end must be 70 s, not 120 s.
# Usage: test_phases_heal.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$bin" run "$src/tests/scenarios-good/partition-heal.yaml" --seed 1 --db "$tmp/p.db" > /dev/null
heal=$(sqlite3 "$tmp/p.db" "select start_ns from faults where kind = 'heal' and description like 'phases:%'")
[ "$heal" = 120000000000 ] || fail "expected the phases heal recorded at 120 s, got '$heal'"
end=$(sqlite3 "$tmp/p.db" "select last_fault_end_ns from runs")
[ "$end" = 70000000000 ] || fail "last_fault_end_ns is $end, expected 70 s (the phases heal must not count)"
echo "test_phases_heal: ok"
