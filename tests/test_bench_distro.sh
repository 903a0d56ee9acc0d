#!/bin/sh
# `distrosim bench distro` on a small cluster: it runs, every service
# reaches every node, repeats in one process give the same trace (no state
# leaks from one engine to the next), and bad flags exit 2.
# Usage: test_bench_distro.sh PATH/TO/distrosim
set -eu
bin=$1
out=$("$bin" bench distro --nodes 3 --services 50 --instances 2 --duration 60s --repeat 2)
echo "$out"
status=0
[ "$(echo "$out" | grep -c '^RESULT ')" -eq 2 ] || { echo "FAIL: expected two RESULT lines"; status=1; }
echo "$out" | grep -q 'keys_on_every_node=50 ' || { echo "FAIL: not every service on every node"; status=1; }
echo "$out" | grep -q '^SUMMARY .* same_trace=yes$' || { echo "FAIL: repeats differ"; status=1; }
# Both transports, alternated: each gives its own RESULT and SUMMARY, and
# the ratio of their medians is printed against the 1.5x target.
out=$("$bin" bench distro --nodes 3 --services 50 --instances 2 --duration 60s --repeat 2 --transport both)
echo "$out"
for t in datagram tcp; do
    [ "$(echo "$out" | grep -c "^RESULT bench=distro version=1.4.2 transport=$t ")" -eq 2 ] || { echo "FAIL: expected two $t RESULT lines"; status=1; }
    echo "$out" | grep -q "^SUMMARY bench=distro version=1.4.2 transport=$t .* same_trace=yes$" || { echo "FAIL: no $t SUMMARY"; status=1; }
done
echo "$out" | grep -Eq '^COMPARE bench=distro tcp_over_datagram=[0-9.]+ target=1.50 (met|MISSED)$' || { echo "FAIL: no COMPARE line"; status=1; }
# Nacos 2.5.1: 2.x SDK clients over gRPC; the lines name the version, every
# service reaches every node, repeats agree.
out=$("$bin" bench distro --version 2.5.1 --nodes 3 --services 50 --instances 2 --duration 60s --repeat 2)
echo "$out"
[ "$(echo "$out" | grep -c '^RESULT bench=distro version=2.5.1 transport=tcp ')" -eq 2 ] || { echo "FAIL: expected two 2.5.1 RESULT lines"; status=1; }
echo "$out" | grep -q 'keys_on_every_node=50 ' || { echo "FAIL: 2.5.1: not every service on every node"; status=1; }
echo "$out" | grep -q '^SUMMARY bench=distro version=2.5.1 .* same_trace=yes$' || { echo "FAIL: 2.5.1 repeats differ"; status=1; }
echo "$out" | grep -q ' v2_sync=' || { echo "FAIL: 2.5.1 sent no v2 sync"; status=1; }
# Nacos 3.0.3: 2.5.1's Distro with the inner-API identity check (every
# server's identity set: the check passes); the lines name the version.
out=$("$bin" bench distro --version 3.0.3 --nodes 3 --clients 40 --instances 3 --duration 60s --repeat 2)
echo "$out"
[ "$(echo "$out" | grep -c '^RESULT bench=distro version=3.0.3 .* keys_on_every_node=40 instances_on_every_node=120 ')" -eq 2 ] || { echo "FAIL: 3.0.3: not every client on every node"; status=1; }
echo "$out" | grep -q '^SUMMARY bench=distro version=3.0.3 .* same_trace=yes$' || { echo "FAIL: 3.0.3 repeats differ"; status=1; }
"$bin" bench distro --help | grep -q -- '--version 1.4.2|2.5.1|3.0.3' || { echo "FAIL: --help does not list 3.0.3"; status=1; }
# --clients: 1.4.2 puts --instances clients in each service (one instance
# each); 2.5.1 gives each SDK client its own service and batch-registers
# --instances instances on its one connection, so every node lists 3 x 40.
out=$("$bin" bench distro --nodes 3 --clients 60 --instances 3 --duration 60s)
echo "$out"
echo "$out" | grep -q '^RESULT bench=distro version=1.4.2 .* clients=60 services=20 instances=3 .* keys_on_every_node=20 instances_on_every_node=60 ' || { echo "FAIL: 1.4.2 --clients"; status=1; }
out=$("$bin" bench distro --version 2.5.1 --nodes 3 --clients 40 --instances 3 --duration 60s --repeat 2)
echo "$out"
[ "$(echo "$out" | grep -c '^RESULT bench=distro version=2.5.1 .* clients=40 services=40 instances=3 .* keys_on_every_node=40 instances_on_every_node=120 ')" -eq 2 ] || { echo "FAIL: 2.5.1: not 3 instances of each of 40 clients on every node"; status=1; }
echo "$out" | grep -q '^SUMMARY bench=distro version=2.5.1 .* same_trace=yes$' || { echo "FAIL: 2.5.1 --clients repeats differ"; status=1; }
# A verify message carries a round's requests to one peer: more requests
# than messages, and at least one per client per peer for one round.
msgs=$(echo "$out" | grep '^MESSAGES' | head -1)
v=$(echo "$msgs" | sed -n 's/.* v2_verify=\([0-9]*\) .*/\1/p')
r=$(echo "$msgs" | sed -n 's/.* verify_requests=\([0-9]*\).*/\1/p')
{ [ -n "$v" ] && [ -n "$r" ] && [ "$r" -ge 80 ] && [ "$r" -gt "$v" ]; } || { echo "FAIL: verify messages $v, requests $r"; status=1; }
"$bin" bench distro --help | grep -q -- '--clients C' || { echo "FAIL: --help does not document --clients"; status=1; }
for bad in "--clients 10 --services 5" "--clients 0" "--repeat 0" "--nodes 0" "--duration never" "--bogus 1" "--transport udp" "--version 3.1.0"; do
    # shellcheck disable=SC2086
    if "$bin" bench distro $bad >/dev/null 2>&1; then rc=0; else rc=$?; fi
    [ "$rc" -eq 2 ] || { echo "FAIL: bench distro $bad exited $rc, expected 2"; status=1; }
done
[ $status -eq 0 ] && echo "test_bench_distro: ok"
exit $status
