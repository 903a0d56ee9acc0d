#!/bin/sh
# Escaping by format: text a user controls (scenario paths, --set values,
# --title) reaches every output in a form that format reads back as text.
#   1. CSV (report --format csv): RFC 4180 quoting, and a cell a spreadsheet
#      would evaluate as a formula starts with an apostrophe, while numbers
#      stay numbers;
#   2. JUnit (check --junit): bytes XML 1.0 forbids (control characters,
#      invalid UTF-8) are written as visible \xHH text and the file parses;
#   3. repro commands are shell words: pasted into sh they run the same run,
#      and nothing in a path or a --set value is executed;
#   4. report Markdown and HTML escape the title, --set values and paths.
# Usage: test_escaping.sh DISTROSIM SOURCE_DIR
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")   # the test changes directory
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
fails="$src/tests/scenarios-fail/never-heals.yaml"
xml_ok() { python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' "$1"; }

# --- 1. CSV --------------------------------------------------------------
# The --set value is stored in run_params.value; the description is a free
# text key, so it can hold what a spreadsheet would run.
"$bin" run "$fails" --seed 1 --quiet --db "$tmp/csv.db" --set 'description==HYPERLINK("http://x","y")' \
    > /dev/null || true
"$bin" run "$fails" --seed 1 --quiet --db "$tmp/csv.db" --set 'description=-2+3' > /dev/null || true
"$bin" run "$fails" --seed 1 --quiet --db "$tmp/csv.db" --set 'description=@SUM(A1)' > /dev/null || true
"$bin" run "$fails" --seed 1 --quiet --db "$tmp/csv.db" --set 'description=-0.5' > /dev/null || true
"$bin" report "$tmp/csv.db" --format csv -o "$tmp/csv"
tr -d '\r' < "$tmp/csv/run_params.csv" > "$tmp/params.txt"   # records end in CRLF
params="$tmp/params.txt"
# Quoted (comma and quotes inside), apostrophe first, inner quotes doubled.
grep -qxF "1,1,description,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" "$params" ||
    { cat "$params"; fail "a formula with commas is not quoted and neutralised in run_params.csv"; }
grep -qxF "2,2,description,'-2+3" "$params" || { cat "$params"; fail "-2+3 is not neutralised"; }
grep -qxF "3,3,description,'@SUM(A1)" "$params" || { cat "$params"; fail "@SUM(A1) is not neutralised"; }
grep -qxF "4,4,description,-0.5" "$params" || { cat "$params"; fail "the number -0.5 lost its sign or got an apostrophe"; }
# A spreadsheet-style reader sees the same four values with the apostrophes.
python3 - "$tmp/csv/run_params.csv" <<'EOF' || fail "run_params.csv does not read back as RFC 4180"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
got = [r[3] for r in rows[1:]]
want = ["'=HYPERLINK(\"http://x\",\"y\")", "'-2+3", "'@SUM(A1)", "-0.5"]
assert got == want, got
EOF
# No cell of any table starts with a formula character unless it is a number.
python3 - "$tmp/csv" <<'EOF' || fail "a CSV cell starts with a formula character"
import csv, os, re, sys
number = re.compile(r'^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$')
for name in sorted(os.listdir(sys.argv[1])):
    for row in csv.reader(open(os.path.join(sys.argv[1], name), newline='')):
        for cell in row:
            if cell[:1] in ('=', '+', '-', '@', '\t', '\r') and not number.match(cell):
                sys.exit("%s: %r" % (name, cell))
EOF
echo "ok 1: CSV quotes per RFC 4180 and neutralises formulas, numbers stay numbers"

# --- 2. JUnit -------------------------------------------------------------
# A path with a BEL, an invalid UTF-8 byte, and XML's five specials.
bad=$(printf 'd\007\377<&>"'"'"'x')
mkdir -p "$tmp/$bad"
cp "$fails" "$tmp/$bad/s.yaml"
set +e
"$bin" check "$tmp/$bad/s.yaml" --seeds 1-1 --junit "$tmp/j.xml" > /dev/null 2>&1
s=$?
set -e
[ "$s" = 1 ] || fail "check on the scenario in the odd directory exited $s (want 1)"
xml_ok "$tmp/j.xml" || { cat -v "$tmp/j.xml"; fail "the JUnit file does not parse"; }
LC_ALL=C grep -q "$(printf '[\001-\010\013\014\016-\037\200-\377]')" "$tmp/j.xml" &&
    fail "a control or non-ASCII byte reached the JUnit file"
grep -qF 'd\x07\xFF&lt;&amp;&gt;&quot;&apos;' "$tmp/j.xml" || { cat -v "$tmp/j.xml"; fail "the JUnit file does not show the escapes"; }
echo "ok 2: JUnit writes forbidden bytes as \\xHH and parses"

# --- 3. Repro commands ----------------------------------------------------
# repro_check SCENARIO: runs it with a --set value full of shell syntax from
# an empty directory, pastes the printed repro into sh, and checks that the
# same run ran again and that nothing was executed.
hostile='description=$(touch X); touch Y `touch Z` "q" \ end'
repro_check() {
    rm -rf "$tmp/cwd"
    mkdir -p "$tmp/cwd"
    cd "$tmp/cwd"
    set +e
    "$bin" run "$1" --seed 1 --set "$hostile" > "$tmp/run.out" 2>&1
    s=$?
    set -e
    [ "$s" = 1 ] || { cat "$tmp/run.out"; fail "the run of $1 exited $s (want 1)"; }
    repro=$(sed -n 's/^  repro:  //p' "$tmp/run.out")
    [ -n "$repro" ] || { cat "$tmp/run.out"; fail "no repro command printed"; }
    verdict=$(grep '^FAIL never-heals seed=1 ' "$tmp/run.out" | sed 's/.*events=/events=/')
    set +e
    sh -c "$repro" > "$tmp/again.out" 2>&1
    s=$?
    set -e
    for f in X Y Z; do [ ! -e "$f" ] || fail "pasting the repro command ran 'touch $f': $repro"; done
    [ "$s" = 1 ] || { cat "$tmp/again.out"; fail "the repro command exited $s (want 1): $repro"; }
    again=$(grep '^FAIL never-heals seed=1 ' "$tmp/again.out" | sed 's/.*events=/events=/')
    [ -n "$again" ] && [ "$again" = "$verdict" ] || fail "the repro command ran another run: '$again' vs '$verdict'"
    # Same command line, same repro.
    [ "$(sed -n 's/^  repro:  //p' "$tmp/again.out")" = "$repro" ] || fail "the repro of the repro differs: $repro"
    cd "$tmp"
}
repro_check "$fails"
odd="$tmp/a b'c"
mkdir -p "$odd"
cp "$fails" "$odd/s.yaml"
repro_check "$odd/s.yaml"
echo "ok 3: repro commands are shell-quoted and rerun the same run"

# --- 4. Report Markdown and HTML ------------------------------------------
mdir="$tmp/p|<xsp>q</xsp>\\r&s"
mkdir -p "$mdir"
cp "$fails" "$mdir/evil.yaml"
"$bin" run "$mdir/evil.yaml" --seed 1 --quiet --db "$tmp/r.db" --set 'description=<xss>v|w\x&y</xss>' > /dev/null || true
title='<script>t|u\v&w</script>'
"$bin" report "$tmp/r.db" --format markdown --title "$title" -o "$tmp/r.md"
# Outside code spans, no raw tag; every table row keeps its cell count.
sed 's/``` .* ```//; s/`` .* ``//' "$tmp/r.md" | grep -qE '<(xss|xsp|script)>' && { cat "$tmp/r.md"; fail "raw HTML in the report Markdown"; }
grep -qxF '# &lt;script&gt;t\|u\\v&amp;w&lt;/script&gt;' "$tmp/r.md" || { cat "$tmp/r.md"; fail "the title is not escaped in the Markdown"; }
grep -qF '&lt;xss&gt;v\|w\\x&amp;y&lt;/xss&gt;' "$tmp/r.md" || { cat "$tmp/r.md"; fail "the --set value is not escaped in the Markdown"; }
want=
while IFS= read -r line; do
    case "$line" in
    '|---'*) want=$(printf '%s\n' "$line" | tr -cd '|' | wc -c) ;;
    '|'*)
        cols=$(printf '%s\n' "$line" | sed 's/\\\\//g; s/\\|//g' | tr -cd '|' | wc -c)
        [ -z "$want" ] || [ "$cols" = "$want" ] || fail "Markdown row has $cols cell borders, want $want: $line"
        ;;
    *) want= ;;
    esac
done < "$tmp/r.md"
"$bin" report "$tmp/r.db" --format html --title "$title" -o "$tmp/r.html"
grep -qE '<(xss|xsp|script)>' "$tmp/r.html" && fail "raw HTML from the title, a path or a --set value in the report"
grep -qF '&lt;script&gt;t|u\v&amp;w&lt;/script&gt;' "$tmp/r.html" || fail "the title is not escaped in the HTML"
grep -qF '&lt;xss&gt;v|w\x&amp;y&lt;/xss&gt;' "$tmp/r.html" || fail "the --set value is not escaped in the HTML"
grep -qF 'p|&lt;xsp&gt;q&lt;/xsp&gt;\r&amp;s' "$tmp/r.html" || fail "the scenario path is not escaped in the HTML"
echo "ok 4: report Markdown and HTML escape the title, --set values and paths"
