#!/bin/sh
# What clients read (workload.reads; sim/harness/obs_reads.h):
#   1. scenarios/e-s21-partition-client-reads.yaml over seeds 1-20 with
#      push_empty_protection off (its setting) and on: subscribers' views
#      go empty with it off and never with it on, while the answers to
#      plain queries, which no HostReactor touches, are the same windows;
#   2. readers change nothing the servers do: the same runs without readers
#      have the same lost, zombie and divergence windows, convergences and
#      counters;
#   3. an empty-read bound below the longest empty window fails the run and
#      names it; the CLI, JUnit, the check and report Markdown and the HTML
#      report show what clients read.
# Usage: test_client_reads.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$src"
scn=scenarios/e-s21-partition-client-reads.yaml
q() { sqlite3 "$1" "$2"; }

# 1. Protection off vs on.
"$bin" check "$scn" --seeds 1-20 -j 2 --quiet --db "$tmp/off.db" > /dev/null || fail "the scenario failed with protection off"
"$bin" check "$scn" --seeds 1-20 -j 2 --quiet --db "$tmp/on.db" --set workload.reads.push_empty_protection=true \
    > /dev/null || fail "the scenario failed with protection on"
off_views=$(q "$tmp/off.db" "select count(*) from client_anomalies where source = 'view' and kind = 'empty'")
on_views=$(q "$tmp/on.db" "select count(*) from client_anomalies where source = 'view' and kind = 'empty'")
[ "$off_views" -gt 0 ] || fail "protection off: no subscriber saw an empty list"
[ "$on_views" -eq 0 ] || fail "protection on: $on_views empty views (the protection keeps the last list)"
# A view that kept its list is no longer empty but may still be short.
windows="select r.seed, a.kind, a.key, a.start_ns, a.end_ns from client_anomalies a join runs r on r.id = a.run_id
         where a.source = 'query' order by length(r.seed), r.seed, a.id"
[ "$(q "$tmp/off.db" "$windows")" = "$(q "$tmp/on.db" "$windows")" ] || fail "the protection changed the query answers"
[ "$(q "$tmp/off.db" "select count(*) from client_anomalies where source = 'query' and kind = 'empty'")" -gt 0 ] \
    || fail "no query was answered empty during the partition"
echo "ok 1: empty subscriber views with protection off: $off_views windows; on: 0; query answers unchanged"

# 2. Readers change nothing the servers do.
"$bin" check "$scn" --seeds 1-5 --quiet --db "$tmp/none.db" --set workload.reads.queriers=0 \
    --set workload.reads.subscribers=0 > /dev/null || fail "the scenario failed without readers"
"$bin" check "$scn" --seeds 1-5 --quiet --db "$tmp/with.db" > /dev/null || fail "seeds 1-5 failed"
for table in "windows: c.kind, c.node, c.key, c.start_ns, c.end_ns" \
    "convergences: c.fault_index, c.fault_end_ns, c.converged_ns" "counters: c.node, c.name, c.value"; do
    name=${table%%:*}
    cols=${table#*: }
    sql="select r.seed, $cols from $name c join runs r on r.id = c.run_id order by length(r.seed), r.seed, c.id"
    without=$(q "$tmp/none.db" "$sql") || fail "query $sql"
    with=$(q "$tmp/with.db" "$sql") || fail "query $sql"
    [ -n "$without" ] || fail "no $name rows"
    [ "$without" = "$with" ] || fail "readers changed the $name table"
done
[ "$(q "$tmp/none.db" "select count(*) from client_reads")" -eq 0 ] || fail "client_reads rows without readers"
[ "$(q "$tmp/with.db" "select count(distinct key) from client_reads where source = 'view'")" -eq 10 ] \
    || fail "not every service has its subscribers' totals"
echo "ok 2: readers leave the servers' windows, convergences and counters as they were"

# 3. Bounds and reports.
if "$bin" run "$scn" --seed 3 --set expect.client_empty_max=1ms > "$tmp/tight.out"; then
    fail "a 1ms empty-read bound passed"
fi
grep -q '^  failed: client_empty_max: observed [0-9.]*s, bound 0.001s$' "$tmp/tight.out" || fail "tight: $(cat "$tmp/tight.out")"
grep -q '^  client reads: empty [1-9][0-9]* (max [0-9.]*s), short [0-9]*' "$tmp/tight.out" \
    || fail "no client line under the failing run: $(cat "$tmp/tight.out")"
"$bin" run "$scn" --seed 3 > "$tmp/run.out" || fail "seed 3 failed"
grep -q '^  client reads: empty' "$tmp/run.out" || fail "run prints no client line"
"$bin" check "$scn" --seeds 1-2 --quiet --junit "$tmp/j.xml" --markdown "$tmp/m.md" > /dev/null || fail "check seeds 1-2"
grep -q 'client reads: empty [0-9]' "$tmp/j.xml" || fail "JUnit has no client line"
grep -q '^### What clients read' "$tmp/m.md" || fail "check --markdown has no client table"
grep -q '^| e-s21-partition-client-reads | 2 | [0-9]* | [0-9.]*s | ' "$tmp/m.md" || fail "check --markdown row: $(cat "$tmp/m.md")"
"$bin" report "$tmp/off.db" -o "$tmp/r.md" || fail "report md"
grep -q '^## What clients read' "$tmp/r.md" || fail "the report has no client section"
grep -q '^| e-s21-partition-client-reads | view | 20 | ' "$tmp/r.md" || fail "the report's view row: $(grep -A4 'What clients' "$tmp/r.md")"
"$bin" report "$tmp/off.db" -o "$tmp/r.html" || fail "report html"
grep -q '<h4>What clients read</h4>' "$tmp/r.html" || fail "the HTML report has no client card"
"$bin" report "$tmp/off.db" --format csv -o "$tmp/csv" || fail "report csv"
[ "$(wc -l < "$tmp/csv/client_anomalies.csv")" -gt 1 ] || fail "no client_anomalies.csv rows"
head -1 "$tmp/csv/client_reads.csv" | grep -q 'empty_reads' || fail "client_reads.csv header"
echo "ok 3: the bound fails by name; CLI, JUnit, Markdown, HTML and CSV show what clients read"
