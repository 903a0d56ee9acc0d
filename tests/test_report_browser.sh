#!/bin/sh
# Renders `distrosim report` pages in a real browser (headless Chromium, the
# Debian package `chromium`) and checks what a person would see:
#   1. a report of partition-heal (passing seeds) plus never-heals (failing
#      seeds) renders with no console message, gives a non-trivial
#      screenshot, and every chart <svg> in the rendered DOM has data marks;
#      the failing runs' repro commands are on the page;
#   2. the report of an empty database renders and says there are no runs;
#   3. `distrosim replay --perfetto` writes valid JSON (python3 -m json.tool)
#      with one thread_name per node, and a report drawn from it (--trace)
#      renders with its space-time diagram.
# Exit 0 pass, 1 fail, 77 skip (Chromium or python3 missing).
# Usage: test_report_browser.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    echo "SKIP: $chromium is not installed (Debian package: chromium)"
    exit 77
fi
if ! command -v python3 > /dev/null 2>&1; then
    echo "SKIP: python3 is not installed"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# render NAME HTML: screenshot to $tmp/NAME.png, DOM to $tmp/NAME.dom, browser
# log to $tmp/NAME.log.  Each run gets a fresh profile; nothing is fetched.
render() {
    for what in screenshot dom; do
        profile=$(mktemp -d "$tmp/profile.XXXXXX")
        if [ "$what" = screenshot ]; then
            out="--screenshot=$tmp/$1.png"
        else
            out="--dump-dom"
        fi
        timeout 180 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --user-data-dir="$profile" --enable-logging=stderr --v=0 --window-size=1400,2000 \
            "$out" "file://$2" > "$tmp/$1.$what.out" 2>> "$tmp/$1.log" ||
            fail "$1: chromium failed ($what); log: $(tail -3 "$tmp/$1.log")"
    done
    mv "$tmp/$1.dom.out" "$tmp/$1.dom"
    if grep -q "CONSOLE" "$tmp/$1.log"; then
        grep "CONSOLE" "$tmp/$1.log" | head -5
        fail "$1: the page wrote to the browser console"
    fi
    [ -s "$tmp/$1.png" ] || fail "$1: no screenshot"
    [ "$(head -c 4 "$tmp/$1.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "$1: the screenshot is not a PNG"
}

# check_dom NAME MIN_CHARTS: every <svg class="chart"> holds at least one
# data mark (a path, rect or circle whose first child is its <title>, as the
# report draws every data mark; axes, grid lines and legend swatches have
# none), and there are at least MIN_CHARTS charts.
check_dom() {
    python3 - "$tmp/$1.dom" "$2" << 'EOF' || fail "$1: chart check failed"
import sys
from html.parser import HTMLParser

class Charts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []          # open elements: [tag, is_chart, is_mark_candidate]
        self.charts = []         # [title, marks]
        self.candidate = None    # a path/rect/circle just opened inside a chart
    def in_chart(self):
        return any(e[1] for e in self.stack)
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title" and self.candidate is not None and self.stack and self.stack[-1] is self.candidate:
            self.charts[-1][1] += 1
        self.candidate = None
        is_chart = tag == "svg" and "chart" in (a.get("class") or "").split()
        if is_chart:
            self.charts.append([a.get("aria-label", "?"), 0])
        entry = [tag, is_chart, False]
        if tag in ("path", "rect", "circle") and self.in_chart():
            self.candidate = entry
        self.stack.append(entry)
    def handle_startendtag(self, tag, attrs):
        self.candidate = None    # <rect .../>: no title, not a data mark
    def handle_endtag(self, tag):
        self.candidate = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

p = Charts()
p.feed(open(sys.argv[1], encoding="utf-8").read())
bad = [t for t, m in p.charts if m == 0]
if bad:
    print("charts without data marks:", bad)
    sys.exit(1)
if len(p.charts) < int(sys.argv[2]):
    print("only %d charts, expected at least %s" % (len(p.charts), sys.argv[2]))
    sys.exit(1)
print("%d charts, all with data marks" % len(p.charts))
EOF
}

cd "$src"

# 1. A real campaign: passing and failing runs.
"$bin" run tests/scenarios-good/partition-heal.yaml --seeds 1-4 -j 2 --db "$tmp/runs.db" > /dev/null ||
    fail "partition-heal did not pass"
if "$bin" run tests/scenarios-fail/never-heals.yaml --seeds 1-2 --db "$tmp/runs.db" > /dev/null; then
    fail "never-heals passed"
fi
"$bin" report "$tmp/runs.db" -o "$tmp/report.html" || fail "report exited $?"
render report "$tmp/report.html"
[ "$(wc -c < "$tmp/report.png")" -gt 50000 ] || fail "report: the screenshot looks blank"
check_dom report 10
for seed in 1 2; do
    grep -q "tests/scenarios-fail/never-heals.yaml --seed $seed" "$tmp/report.dom" ||
        fail "report: no repro command for never-heals seed $seed"
done
grep -q 'id="spacetime"' "$tmp/report.dom" || fail "report: no space-time section"
echo "ok 1: campaign report renders, every chart has marks"

# 2. An empty database (a run that wrote nothing leaves the schema only).
"$bin" run tests/scenarios-good/partition-heal.yaml --seeds 1 --db "$tmp/empty.db" > /dev/null
python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA foreign_keys=ON'); c.execute('DELETE FROM runs'); c.commit()" "$tmp/empty.db"
"$bin" report "$tmp/empty.db" -o "$tmp/empty.html" || fail "empty report exited $?"
render empty "$tmp/empty.html"
grep -q "There are no runs in this database" "$tmp/empty.dom" || fail "empty: the page does not say so"
check_dom empty 0
echo "ok 2: empty database renders"

# 3. Perfetto export and the space-time diagram.
"$bin" replay tests/scenarios-good/partition-heal.yaml --seed 1 --perfetto "$tmp/trace.json" > /dev/null ||
    fail "replay --perfetto exited $?"
python3 -m json.tool "$tmp/trace.json" > /dev/null || fail "the Perfetto trace is not valid JSON"
names=$(python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['traceEvents']; print(sum(1 for x in e if x.get('name') == 'thread_name' and x.get('ph') == 'M'))" "$tmp/trace.json")
[ "$names" = 3 ] || fail "expected 3 thread_name events (one per node), got $names"
run=$(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT id FROM runs WHERE scenario_name = 'partition-heal' AND seed = '1' ORDER BY id LIMIT 1\").fetchone()[0])" "$tmp/runs.db")
"$bin" report "$tmp/runs.db" --run "$run" --trace "$tmp/trace.json" -o "$tmp/spacetime.html" ||
    fail "report --trace exited $?"
render spacetime "$tmp/spacetime.html"
grep -q 'marker-end="url(#ah' "$tmp/spacetime.dom" || fail "spacetime: no message arrows"
check_dom spacetime 5
echo "ok 3: Perfetto trace is JSON and draws a space-time diagram"
echo "PASS"
