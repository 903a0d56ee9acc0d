#!/bin/sh
# Campaign records and the report's choice of runs and outputs:
#   1. every invocation that writes a database records a campaign, and its
#      runs point at it;
#   2. the default report lists the campaigns it pools (ids, command lines);
#      --campaign ID and --campaign latest keep one campaign's runs only;
#   3. report refuses an output name whose extension it cannot write, and
#      names the extensions it can;
#   4. report --trace refuses a trace whose trace hash is not the run's.
# Usage: test_campaign_records.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
good="$src/tests/scenarios-good/partition-heal.yaml"
bad="$src/tests/scenarios-fail/never-heals.yaml"
db="$tmp/runs.db"

# 1. Two campaigns into one file: 3 passing runs, then 2 failing ones.
"$bin" run "$good" --seeds 1-3 --db "$db" --quiet > /dev/null
set +e
"$bin" check "$bad" --seeds 1-2 --db "$db" > /dev/null 2>&1
s=$?
set -e
[ "$s" = 1 ] || fail "check of a failing scenario exited $s"
[ "$(sqlite3 "$db" 'select id, state, runs_planned, runs_done, passed, failed, errors from campaigns order by id')" = \
  "1|finished|3|3|3|0|0
2|finished|2|2|0|2|0" ] || fail "campaign records: $(sqlite3 "$db" 'select * from campaigns')"
[ "$(sqlite3 "$db" 'select campaign_id, count(*) from runs group by campaign_id order by campaign_id')" = "1|3
2|2" ] || fail "runs do not point at their campaigns"
[ "$(sqlite3 "$db" 'select count(*) from campaigns where started_unix_ms > 1600000000000 and ended_unix_ms >= started_unix_ms')" = 2 ] ||
    fail "wall-clock start and end not recorded"
[ "$(sqlite3 "$db" 'pragma user_version')" = 6 ] || fail "schema version"
echo "ok 1: two campaigns recorded, runs point at them"

# 2. The report pools both and says so; --campaign keeps one.
"$bin" report "$db" -o "$tmp/all.md"
grep -q "^Pools 2 campaigns\.$" "$tmp/all.md" || fail "the report does not say it pools 2 campaigns"
grep -qF "| 1 | \`\` $bin run $good --seeds 1-3 --db $db --quiet \`\` | finished | 3 |" "$tmp/all.md" ||
    fail "campaign 1 not listed with its command line"
grep -qF "| 2 | \`\` $bin check $bad --seeds 1-2 --db $db \`\` | finished | 2 |" "$tmp/all.md" ||
    fail "campaign 2 not listed with its command line"
grep -q "^5 runs of 2 scenarios" "$tmp/all.md" || fail "the pooled report does not count 5 runs"
"$bin" report "$db" --campaign 1 -o "$tmp/one.md"
grep -q "^Campaign 1 only\.$" "$tmp/one.md" || fail "--campaign 1 does not say so"
grep -q "^3 runs of 1 scenario: 3 passed" "$tmp/one.md" || fail "--campaign 1 does not keep its 3 runs"
if grep -q "never-heals" "$tmp/one.md"; then fail "--campaign 1 shows another campaign's runs"; fi
"$bin" report "$db" --campaign latest -o "$tmp/latest.md"
grep -q "^Campaign 2 only\.$" "$tmp/latest.md" || fail "--campaign latest is not campaign 2"
grep -q "^2 runs of 1 scenario: 0 passed, 2 failed" "$tmp/latest.md" || fail "--campaign latest: wrong runs"
"$bin" report "$db" --campaign 2 --format csv -o "$tmp/csv"
records() { python3 -c 'import csv, sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""))))' "$1"; }
[ "$(records "$tmp/csv/runs.csv")" = 3 ] || fail "csv --campaign 2: want a header and 2 runs"
[ "$(records "$tmp/csv/campaigns.csv")" = 2 ] || fail "csv --campaign 2: want a header and 1 campaign"
"$bin" report "$db" --campaign 1 -o "$tmp/one.html"
grep -q "Campaign 1 only" "$tmp/one.html" || fail "html --campaign 1 does not say so"
set +e
"$bin" report "$db" --campaign 9 -o "$tmp/none.md" 2> "$tmp/none.err"
s_none=$?
"$bin" report "$db" --campaign 0 -o "$tmp/zero.md" 2> /dev/null
s_zero=$?
set -e
[ "$s_none" = 2 ] && grep -q "no campaign with id 9" "$tmp/none.err" || fail "--campaign 9 accepted ($s_none)"
[ "$s_zero" = 2 ] || fail "--campaign 0 accepted"
[ ! -e "$tmp/none.md" ] || fail "a refused report left a file"
echo "ok 2: the report lists the campaigns it pools; --campaign ID and latest filter"

# 3. Output extensions.
for out in report.pdf report.txt report.csv; do
    set +e
    "$bin" report "$db" -o "$tmp/$out" 2> "$tmp/ext.err"
    s=$?
    set -e
    [ "$s" = 2 ] || fail "-o $out exited $s"
    grep -q "\.html.*\.md" "$tmp/ext.err" || fail "-o $out: the message does not name the extensions"
    [ ! -e "$tmp/$out" ] || fail "-o $out was written"
done
set +e
"$bin" report "$db" --format markdown -o "$tmp/mismatch.html" 2> "$tmp/ext.err"
s=$?
set -e
[ "$s" = 2 ] && [ ! -e "$tmp/mismatch.html" ] || fail "--format markdown -o x.html accepted"
"$bin" report "$db" -o "$tmp/page.htm"
"$bin" report "$db" -o "$tmp/notes.markdown"
grep -q "^# distrosim report" "$tmp/notes.markdown" || fail "-o x.markdown is not markdown"
"$bin" report "$db" -o "$tmp/plain"
"$bin" report "$db" -o - --format markdown > /dev/null
echo "ok 3: report refuses extensions it cannot write"

# 4. --trace must be a trace of the run reported: replay --perfetto names the
#    run's trace hash at the end of the file, and the report checks it.
"$bin" replay "$good" --seed 2 --perfetto "$tmp/seed2.json" > /dev/null
"$bin" replay "$good" --seed 7 --perfetto "$tmp/seed7.json" > /dev/null
h2=$(sqlite3 "$db" "select trace_hash from runs where campaign_id = 1 and seed = '2'")
grep -qF "\"distrosim\":{\"trace_hash\":\"$h2\"}" "$tmp/seed2.json" || fail "replay --perfetto does not name the run's trace hash"
id2=$(sqlite3 "$db" "select id from runs where campaign_id = 1 and seed = '2'")
"$bin" report "$db" --run "$id2" --campaign 1 --trace "$tmp/seed2.json" -o "$tmp/trace-ok.html"
grep -q "Space-time diagram" "$tmp/trace-ok.html" || fail "no space-time diagram"
"$bin" report "$db" --trace "$tmp/seed2.json" -o "$tmp/trace-pooled.html"
set +e
"$bin" report "$db" --run "$id2" --trace "$tmp/seed7.json" -o "$tmp/trace-bad.html" 2> "$tmp/trace.err"
s_run=$?
"$bin" report "$db" --trace "$tmp/seed7.json" -o "$tmp/trace-bad2.html" 2> "$tmp/trace2.err"
s_any=$?
set -e
[ "$s_run" = 2 ] && grep -q "not of run $id2" "$tmp/trace.err" || fail "a trace of seed 7 accepted for run $id2 ($s_run)"
[ "$s_any" = 2 ] && grep -q "not a run of this report" "$tmp/trace2.err" || fail "a trace of no run in the database accepted"
[ ! -e "$tmp/trace-bad.html" ] && [ ! -e "$tmp/trace-bad2.html" ] || fail "a refused report left a file"
echo "ok 4: report --trace refuses a trace of another run"
