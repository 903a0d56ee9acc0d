#!/bin/sh
# cluster.version as a sweep axis: one sweep runs the same scenario, faults
# and seeds under Nacos 1.4.2 and 2.5.1, the database says which run used
# which (run_params and effective_yaml, reports/SCHEMA.md), the runs of the
# two versions differ (the 2.x model really ran: its message types were
# sent), and the Markdown report shows both versions side by side.
# Usage: test_version_sweep.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
scn="$src/scenarios/v2-s26-node-crash-reconnect.yaml"
db="$tmp/runs.db"

"$bin" sweep "$scn" --set cluster.version=1.4.2,2.5.1 --seeds 1-2 --db "$db" --quiet > "$tmp/out" 2>&1 || true
[ "$(sqlite3 "$db" 'select count(*) from runs')" = 4 ] || fail "expected 4 runs: $(cat "$tmp/out")"
[ "$(sqlite3 "$db" "select group_concat(value, ',') from (select value from run_params
      where key = 'cluster.version' order by run_id)")" = "1.4.2,1.4.2,2.5.1,2.5.1" ] ||
    fail "run_params: $(sqlite3 "$db" 'select * from run_params')"
# The version on its own line of effective_yaml, as SCHEMA.md says to read it.
[ "$(sqlite3 "$db" "select group_concat(v, ',') from (select case when instr(effective_yaml, char(10) ||
      '  version: \"2.5.1\"' || char(10)) > 0 then '2.5.1' else '1.4.2' end as v from runs order by id)")" = \
  "1.4.2,1.4.2,2.5.1,2.5.1" ] || fail "effective_yaml does not carry the version"
# 2.x messages only in the 2.5.1 runs; 1.4.2's only in the 1.4.2 runs.
v2msgs=$(sqlite3 "$db" "select count(distinct run_id) from msgstats where type like 'v2_%'")
v1msgs=$(sqlite3 "$db" "select count(distinct run_id) from msgstats where type = 'sync_datum'")
[ "$v2msgs" = 2 ] && [ "$v1msgs" = 2 ] || fail "message types: v2 in $v2msgs runs, 1.4.2 in $v1msgs runs"
[ "$(sqlite3 "$db" "select count(*) from msgstats m join run_params p on p.run_id = m.run_id
      where p.key = 'cluster.version' and p.value = '1.4.2' and m.type like 'v2_%'")" = 0 ] || fail "a 1.4.2 run sent 2.x messages"
"$bin" report "$db" -o "$tmp/r.md" > /dev/null 2>&1 || fail "report failed"
grep -q '| cluster.version | 1.4.2 |' "$tmp/r.md" || fail "the report has no 1.4.2 row"
grep -q '| cluster.version | 2.5.1 |' "$tmp/r.md" || fail "the report has no 2.5.1 row"
echo "test_version_sweep: ok"
