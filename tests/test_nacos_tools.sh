#!/bin/sh
# Golden test of `distrosim nacos owner`, `nacos checksum` and `nacos revision`
# against the vectors of NACOS-DISTRO.md 9.1, 9.2 and 9.3, plus the error path.
# Usage: test_nacos_tools.sh PATH/TO/distrosim
set -eu
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
status=0

fail() {
    echo "FAIL: $*"
    status=1
}

# Compares file $2 with file $3 under the name $1.
same() {
    if ! cmp -s "$2" "$3"; then
        fail "$1: output differs (expected, then actual):"
        cat "$2"
        cat "$3"
    fi
}

# --- owner: section 9.1, members given out of order ------------------------
printf '%s\n' \
    'DEFAULT_GROUP@@demo-service' \
    'DEFAULT_GROUP@@com.taobao.service' \
    '' \
    '127.0.0.1:8080' \
    '192.168.1.10:20880' > "$tmp/names"
printf '1.1.1.1:0\r\n' >> "$tmp/names"
printf '%s\t%s\t%s\n' \
    'DEFAULT_GROUP@@demo-service' 1092918732 10.0.0.1:8848 \
    'DEFAULT_GROUP@@com.taobao.service' 614666819 10.0.0.3:8848 \
    '127.0.0.1:8080' 35736627 10.0.0.1:8848 \
    '192.168.1.10:20880' 1579419571 10.0.0.2:8848 \
    '1.1.1.1:0' 2095561520 10.0.0.3:8848 > "$tmp/owner.want"
if "$bin" nacos owner --members 10.0.0.1:8848,10.0.0.2:8848,10.0.0.3:8848 \
        < "$tmp/names" > "$tmp/owner.got"; then
    same "owner" "$tmp/owner.want" "$tmp/owner.got"
else
    fail "owner exited with status $?"
fi
# The member order on the command line does not matter (healthyList is sorted).
if "$bin" nacos owner --members 10.0.0.3:8848,10.0.0.1:8848,10.0.0.2:8848 \
        < "$tmp/names" > "$tmp/owner.got2"; then
    same "owner (shuffled members)" "$tmp/owner.want" "$tmp/owner.got2"
else
    fail "owner (shuffled members) exited with status $?"
fi

# --- checksum: section 9.2 -------------------------------------------------
cat > "$tmp/lists" <<'EOF'
[]
[{"ip":"1.1.1.1","port":8080,"weight":1.0,"healthy":true,"enabled":true,"clusterName":"DEFAULT","metadata":{}}]
[{"instanceId":"2.2.2.2#9090#DEFAULT#DEFAULT_GROUP@@s","ip":"2.2.2.2","port":9090,"weight":2.0,"healthy":false,"enabled":true,"ephemeral":true,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@s","metadata":{"zone":"a","version":"1.0"},"lastBeat":1700000000000,"marked":false},{"ip":"1.1.1.1","port":8080}]
EOF
printf '%s\n' \
    d41d8cd98f00b204e9800998ecf8427e \
    7631f88e79d10bf2abf1da0b81748118 \
    53faf1250ac748c6acaa66583eeeba2d > "$tmp/checksum.want"
if "$bin" nacos checksum < "$tmp/lists" > "$tmp/checksum.got"; then
    same "checksum" "$tmp/checksum.want" "$tmp/checksum.got"
else
    fail "checksum exited with status $?"
fi

# --- checksum: malformed input ---------------------------------------------
printf '[]\n[{"ip":"1.1.1.1","port":"8080"}]\n' > "$tmp/bad"
rc=0
"$bin" nacos checksum < "$tmp/bad" > "$tmp/bad.out" 2> "$tmp/bad.err" || rc=$?
[ "$rc" -eq 2 ] || fail "malformed input: exit status $rc, expected 2"
want_err='distrosim: nacos checksum: <stdin>:2:26: expected "port" to be an integer in 0..65535'
[ "$(cat "$tmp/bad.err")" = "$want_err" ] || fail "malformed input: stderr was: $(cat "$tmp/bad.err")"

printf '[{"ip":}]\n' > "$tmp/bad2"
rc=0
"$bin" nacos checksum < "$tmp/bad2" > /dev/null 2> "$tmp/bad2.err" || rc=$?
[ "$rc" -eq 2 ] || fail "malformed JSON: exit status $rc, expected 2"
grep -q '^distrosim: nacos checksum: <stdin>:1:8: ' "$tmp/bad2.err" || fail "malformed JSON: stderr was: $(cat "$tmp/bad2.err")"

# --- revision: section 9.3, IpPortBasedClientTest, DistroUtilsTest ----------
# The third client is DistroUtilsTest's client with metadata; its expected
# value was computed with the JDK (Objects.hash over a HashMap and HashSet).
cat > "$tmp/clients" <<'EOF'
{"clientId":"127.0.0.1:8848#false","services":[{"namespace":"testNamespace-1","group":"testGroup-1","name":"testName-1","ip":"127.0.0.1","port":8848,"healthy":true,"cluster":"DEFAULT","extendDatum":{}}]}
{"clientId":"127.0.0.1:80#true","services":[]}

{"clientId":"128.0.0.1:8848#false","services":[{"namespace":"testNamespace-1","group":"testGroup-1","name":"testName-1","ip":"128.0.0.1","port":8848,"healthy":false,"extendDatum":{"publishInstanceWeight":2,"publishInstanceEnable":false,"Custom.metadataId1":"abc","Custom.metadataId2":123,"Custom.metadataId3":null}}]}
EOF
printf '%s\n' -1320954445 -1531701243 -856673335 > "$tmp/revision.want"
if "$bin" nacos revision < "$tmp/clients" > "$tmp/revision.got"; then
    same "revision" "$tmp/revision.want" "$tmp/revision.got"
else
    fail "revision exited with status $?"
fi
# A connection client has a counter, not a hash: refused with its place.
rc=0
printf '{"clientId":"1700000000000_10.1.2.3_53124","services":[]}\n' | "$bin" nacos revision > /dev/null 2> "$tmp/rev.err" || rc=$?
[ "$rc" -eq 2 ] || fail "revision of a connection client: exit status $rc, expected 2"
grep -q '^distrosim: nacos revision: <stdin>:1:14: expected an IP-port client id' "$tmp/rev.err" \
    || fail "revision of a connection client: stderr was: $(cat "$tmp/rev.err")"
rc=0
printf '{"clientId":"1.1.1.1:1#true","services":[{"namespace":"a","group":"b","name":"c","ip":"x"}]}\n' \
    | "$bin" nacos revision > /dev/null 2> "$tmp/rev2.err" || rc=$?
[ "$rc" -eq 2 ] || fail "revision without a port: exit status $rc, expected 2"
grep -q 'expected a "port" field in the service object' "$tmp/rev2.err" || fail "revision without a port: stderr was: $(cat "$tmp/rev2.err")"

# --- usage ---------------------------------------------------------------------
"$bin" nacos checksum --help > /dev/null || fail "checksum --help exited with status $?"
rc=0
"$bin" nacos owner < /dev/null > /dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "owner without --members: exit status $rc, expected 2"

[ $status -eq 0 ] && echo "test_nacos_tools: ok"
exit $status
