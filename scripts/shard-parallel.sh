#!/bin/sh
# Runs one distrosim campaign as N shards with GNU parallel, on this
# machine's cores or over ssh on several hosts, then merges the shards and
# writes the report.
#
# usage: scripts/shard-parallel.sh [-n N] [-P JOBS] [-S SSHLOGINS] [-t THREADS] OUT_DIR COMMAND ARGS...
#   scripts/shard-parallel.sh -n 4 out check scenarios --seeds 1-2000
#   scripts/shard-parallel.sh -n 16 -S 8/node1,8/node2 out check scenarios --seeds 1-100000
#
#   -n N          shards (default 4); shard K runs `COMMAND ARGS --shard K/N`
#   -P JOBS       shards at once per host (default: GNU parallel's, one per core)
#   -S SSHLOGINS  GNU parallel --sshlogin list ("8/host1,8/host2"; ":" is this machine).
#                 Every host needs DISTROSIM and the scenario files at the same paths,
#                 relative to the home directory as here (or a shared file system);
#                 each shard's database comes back with --return.
#   -t THREADS    -j of each shard (default 1)
#
# Writes OUT_DIR/shard-K.db, OUT_DIR/all.db (distrosim merge), OUT_DIR/report.md
# and OUT_DIR/report.html.  Exit status: 0 every expectation held, 1 one failed,
# 2 a shard, the merge or the report failed.  DISTROSIM names the binary
# (default build/distrosim).
set -eu
usage() { sed -n '6,13p' "$0" | sed 's/^# \{0,1\}//' >&2; }
n=4 jobs="" sshlogin="" threads=1
while getopts n:P:S:t: opt; do
    case $opt in
    n) n=$OPTARG ;;
    P) jobs=$OPTARG ;;
    S) sshlogin=$OPTARG ;;
    t) threads=$OPTARG ;;
    *) usage; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { usage; exit 2; }
out=$1
shift
bin=${DISTROSIM:-build/distrosim}
command -v parallel > /dev/null || { echo "shard-parallel: GNU parallel is not installed" >&2; exit 2; }
mkdir -p "$out"
rm -f "$out"/shard-*.db "$out"/shard-*.db-wal "$out"/shard-*.db-shm "$out/all.db" "$out/joblog"

# -q passes every argument as one word (paths with spaces survive the shell
# GNU parallel runs the command in); --halt never: one failing shard does not
# stop the others.
set -- "$bin" "$@" --shard "{}/$n" --db "$out/shard-{}.db" -j "$threads" --quiet
opts="--halt never --joblog $out/joblog"
[ -z "$jobs" ] || opts="$opts -j $jobs"
set +e
if [ -n "$sshlogin" ]; then
    # shellcheck disable=SC2086
    seq 1 "$n" | parallel $opts -q --sshlogin "$sshlogin" --workdir . --return "$out/shard-{}.db" --cleanup "$@"
else
    # shellcheck disable=SC2086
    seq 1 "$n" | parallel $opts -q "$@"
fi
set -e

# The exit status of each shard, from the job log (column 7; column 8 is the
# signal): 0 and 1 are results, anything else is an error.
worst=0
for v in $(awk -F '\t' 'NR > 1 { print ($8 != 0 ? 128 + $8 : $7) }' "$out/joblog"); do
    if [ "$v" -gt 1 ]; then worst=2; elif [ "$v" -gt "$worst" ]; then worst=$v; fi
done
done_shards=$(awk 'END { print NR - 1 }' "$out/joblog")
if [ "$done_shards" != "$n" ] || [ "$worst" = 2 ]; then
    echo "shard-parallel: $done_shards of $n shards ran; a shard failed (see $out/joblog)" >&2
    worst=2
fi
"$bin" merge "$out"/shard-*.db -o "$out/all.db" || exit 2
"$bin" report "$out/all.db" -o "$out/report.md" || exit 2
"$bin" report "$out/all.db" -o "$out/report.html" || exit 2
exit "$worst"
