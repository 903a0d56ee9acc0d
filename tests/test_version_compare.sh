#!/bin/sh
# The version comparison: one scenario of scenarios/compare swept over
# cluster.version=1.4.2,2.5.1,3.0.3 passes under every version (its bounds
# hold for each), and the report puts the versions side by side: a
# "Version comparison" table (Markdown and HTML) with one row per version
# of the scenario, each cell equal to the figure recomputed here from the
# database with sqlite3 (runs, failures, convergence p50/p99/max by
# nearest rank, never converged, worst lost and zombie window and the runs
# with one, client reads, and the count and longest of the empty, short
# and stale client windows).  A sweep of another key has no such table.
# Usage: test_version_compare.sh DISTROSIM SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
scn="$src/scenarios/compare/cmp-partition-heal.yaml"
name=cmp-partition-heal
db="$tmp/c.db"

"$bin" sweep "$scn" --set cluster.version=1.4.2,2.5.1,3.0.3 --seeds 1-4 -j 2 --db "$db" --quiet > "$tmp/out" 2>&1 ||
    fail "the comparison scenario failed under one of the versions: $(cat "$tmp/out")"
[ "$(sqlite3 "$db" "select count(*) from runs r join run_params p on p.run_id = r.id
      where p.key = 'cluster.version' group by p.value order by p.value" | tr '\n' ,)" = "4,4,4," ] ||
    fail "expected 4 runs per version"
"$bin" report "$db" -o "$tmp/c.md" > /dev/null 2>&1 || fail "report (Markdown) failed"
"$bin" report "$db" -o "$tmp/c.html" > /dev/null 2>&1 || fail "report (HTML) failed"
grep -q '^## Version comparison$' "$tmp/c.md" || fail "no Version comparison section in the Markdown report"

# The duration format of the report (reports/rpt_report.c rpt_fmt_ns_i64).
fmt() {
    awk -v ns="$1" 'BEGIN {
        u[1] = "\302\265s"; u[2] = "ms"; u[3] = "s"
        if (ns < 1000) { printf "%d ns", ns; exit }
        unit = 1; scale = 1
        while (unit < 3 && ns >= scale * 1000000) { unit++; scale *= 1000 }
        th = int((ns + int(scale / 2)) / scale)
        if (th >= 1000000 && unit < 3) { unit++; scale *= 1000; th = int((ns + int(scale / 2)) / scale) }
        printf "%d.%03d %s", int(th / 1000), th % 1000, u[unit] }'
}
q() { sqlite3 "$db" "$1"; }
runs_of="select r.id from runs r join run_params p on p.run_id = r.id where p.key = 'cluster.version' and p.value"

expected_row() {   # $1: version
    v="'$1'"
    n=$(q "select count(*) from runs where id in ($runs_of = $v)")
    failed=$(q "select count(*) from runs where verdict <> 'pass' and id in ($runs_of = $v)")
    # Convergences sorted, never (NULL) last as -1; nearest rank ceil(n p / 100).
    q "select coalesce(convergence_ns, -1) from runs where id in ($runs_of = $v)
       order by convergence_ns is null, convergence_ns" > "$tmp/conv"
    pick() { k=$(( ($(wc -l < "$tmp/conv") * $1 + 99) / 100 )); c=$(sed -n "${k}p" "$tmp/conv"); [ "$c" = -1 ] && echo never || fmt "$c"; }
    never=$(grep -c '^-1$' "$tmp/conv" || true)
    win() {
        longest=$(q "select max(coalesce(w.end_ns, r.end_ns) - w.start_ns) from windows w join runs r on r.id = w.run_id
                     where w.kind = '$1' and r.id in ($runs_of = $v)")
        with=$(q "select count(distinct w.run_id) from windows w where w.kind = '$1' and w.run_id in ($runs_of = $v)")
        if [ "$with" = 0 ]; then echo none; else
            s=s; [ "$with" = 1 ] && s=
            echo "$(fmt "$longest") ($with run$s)"; fi
    }
    reads=$(q "select sum(reads) from client_reads where run_id in ($runs_of = $v)")
    anomaly() {
        cnt=$(q "select count(*) from client_anomalies where kind = '$1' and run_id in ($runs_of = $v)")
        if [ "$cnt" = 0 ]; then echo none; else
            longest=$(q "select max(coalesce(a.end_ns, r.end_ns) - a.start_ns) from client_anomalies a
                         join runs r on r.id = a.run_id where a.kind = '$1' and r.id in ($runs_of = $v)")
            echo "$cnt, longest $(fmt "$longest")"; fi
    }
    echo "| $name | $1 | $n | $failed | $(pick 50) | $(pick 99) | $(pick 100) | $never | $(win lost) | $(win zombie) |" \
         "$reads | $(anomaly empty) | $(anomaly short) | $(anomaly stale) |"
}
expected_row 1.4.2 > "$tmp/want"
expected_row 2.5.1 >> "$tmp/want"
expected_row 3.0.3 >> "$tmp/want"
sed -n '/^## Version comparison$/,/^## Failing runs$/p' "$tmp/c.md" > "$tmp/section"
grep "^| $name | " "$tmp/section" > "$tmp/got" || true
diff "$tmp/want" "$tmp/got" > "$tmp/diff" || { cat "$tmp/diff"; fail "the version comparison rows differ from the database"; }
# Side by side: the two rows are consecutive lines of one table.
grep -A1 "^| $name | 1\.4\.2 |" "$tmp/section" | tail -1 | grep -q "^| $name | 2\.5\.1 |" ||
    fail "the 2.5.1 row does not follow the 1.4.2 row"
grep -A1 "^| $name | 2\.5\.1 |" "$tmp/section" | tail -1 | grep -q "^| $name | 3\.0\.3 |" ||
    fail "the 3.0.3 row does not follow the 2.5.1 row"
# The versions really differ here (1.4.2 loses instances in a 60 s cut, 2.5.1 does not): rows that pooled the
# versions would not have passed the diff above with these figures.
grep "^| $name | 1\.4\.2 |" "$tmp/section" | grep -q '| none | none |' && fail "1.4.2 shows no lost window"
grep "^| $name | 2\.5\.1 |" "$tmp/section" | grep -q '| none | none |' || fail "2.5.1 shows a lost or zombie window"
# 3.0.3 with every identity set runs 2.5.1's Distro: the same figures.
[ "$(grep "^| $name | 3\.0\.3 |" "$tmp/section" | cut -d'|' -f4-)" = "$(grep "^| $name | 2\.5\.1 |" "$tmp/section" | cut -d'|' -f4-)" ] ||
    fail "3.0.3 (identities set) differs from 2.5.1"
echo "ok 1: the Markdown comparison matches the database, versions side by side"

# HTML: one row group per scenario, a row per version, the same cells.
grep -q '<a href="#versions">Version comparison</a>' "$tmp/c.html" || fail "no link to the comparison"
sed -n '/^<section id="versions">$/,/^<\/section>$/p' "$tmp/c.html" > "$tmp/hsection"
grep -q "<th scope=\"rowgroup\" rowspan=\"3\">$name</th><td><code>1.4.2</code></td>" "$tmp/hsection" ||
    fail "no 1.4.2 row opening the scenario's row group"
grep -q '^<tr><td><code>2.5.1</code></td>' "$tmp/hsection" || fail "no 2.5.1 row in the group"
grep -q '^<tr><td><code>3.0.3</code></td>' "$tmp/hsection" || fail "no 3.0.3 row in the group"
for v in 1.4.2 2.5.1 3.0.3; do
    cells=$(grep "^| $name | $v |" "$tmp/want" | cut -d'|' -f4- | sed 's/ *| */|/g; s/^ *|//; s/|$//; s/^ *//')
    html=$(grep "<td><code>$v</code></td>" "$tmp/hsection" | sed 's/.*<td><code>[^<]*<\/code><\/td>//; s/<\/tr>$//;
           s/<td class="n">//g; s/<\/td>/|/g; s/|$//; s/&#39;/'"'"'/g')
    [ "$cells" = "$html" ] || fail "HTML $v row: '$html', want '$cells'"
done
echo "ok 2: the HTML comparison has the same cells, one row group per scenario"

# Another swept key is a sweep, not a comparison.
"$bin" sweep "$scn" --set cluster.distro.verify_interval=5s,10s --seeds 1 --db "$tmp/o.db" --quiet > /dev/null 2>&1 || true
"$bin" report "$tmp/o.db" -o "$tmp/o.md" > /dev/null 2>&1 || fail "report of the other sweep failed"
"$bin" report "$tmp/o.db" -o "$tmp/o.html" > /dev/null 2>&1 || fail "report of the other sweep failed"
! grep -q 'Version comparison' "$tmp/o.md" "$tmp/o.html" || fail "a verify_interval sweep shows a version comparison"
grep -q '^## Sweeps$' "$tmp/o.md" || fail "the other sweep lost its Sweeps section"
echo "ok 3: a sweep of another key has no comparison"
echo "test_version_compare: ok"
