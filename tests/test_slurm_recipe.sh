#!/bin/sh
# The Slurm recipe (scripts/slurm-submit.sh, slurm-shard.sbatch,
# slurm-merge.sbatch): a campaign of 75 runs (3 scenarios x 25 seeds) as a
# job array of 4 shards and a dependent merge job gives the same tables and
# report as one `check` over the same jobs, and the merge job's exit status
# is check's (1: some runs fail).
#
# It brings up a private single-node Slurm (Debian's slurm-wlm and munge:
# munged, slurmctld and slurmd as this user, in a temporary directory, on
# their own ports) and submits to it, if that succeeds within two minutes.
# Otherwise it says why and runs the same two scripts with GNU parallel
# standing in for sbatch: one process per array task with the environment
# Slurm sets (SLURM_ARRAY_TASK_ID, _COUNT, _MIN; also from index 0, as
# --array=0-3 gives), then the merge script.  The daemons are stopped by
# their process ids at the end.
# Usage: test_slurm_recipe.sh DISTROSIM SOURCE_DIR [SEEDS]  (SEEDS instead of 25: the sanitizer build)
set -eu
bin=$1
src=$2
seeds=${3:-25}
tmp=$(mktemp -d)
fail() { echo "FAIL: $*"; exit 1; }
pids=""
cleanup() {
    status=$?
    for p in $pids; do kill "$p" 2> /dev/null || true; done
    # The daemons write their state as they stop: wait for them (10 s at
    # most), then kill what is left, so no daemon outlives the test.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        alive=""
        for p in $pids; do if kill -0 "$p" 2> /dev/null; then alive=1; fi; done
        [ -n "$alive" ] || break
        sleep 1
    done
    for p in $pids; do kill -KILL "$p" 2> /dev/null || true; done
    rm -rf "$tmp" || true
    exit "$status"
}
trap cleanup EXIT
. "$src/tests/shard_compare.sh"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
good="$src/tests/scenarios-good"
scns="$good/minimal.yaml $good/partition-heal.yaml $src/tests/scenarios-fail/never-heals.yaml"
set -- check $scns --seeds "1-$seeds" --set expect.converge_within=21s

mkdir -p "$tmp/one"
set +e
"$bin" "$@" -j 2 --quiet --db "$tmp/one/all.db" > /dev/null
s=$?
set -e
[ "$s" = 1 ] || fail "one check exited $s, want 1"

# compare DIR: the merged results in DIR against one machine's.
compare() {
    [ "$(sqlite3 "$1/all.db" "select count(*) from runs")" = $((3 * seeds)) ] || fail "$1: want $((3 * seeds)) runs"
    for k in 1 2 3 4; do
        [ "$(sqlite3 "$1/shard-$k.db" "select sum((job - 1) % 4 <> $k - 1), min(job) from runs")" = "0|$k" ] ||
            fail "$1: shard-$k.db does not hold shard $k/4"
    done
    dump "$tmp/one/all.db" > "$tmp/one.dump"
    dump "$1/all.db" > "$1.dump"
    same "table contents" "$tmp/one.dump" "$1.dump"
    report_md "$tmp/one/all.db" "$tmp/one/report.md" > "$tmp/one.md"
    awk '/^Pools [0-9]+ campaigns?\.$/ { skip = 1 } /^[0-9]+ runs? of / { skip = 0 } !skip' "$1/report.md" > "$1.md"
    same "Markdown reports" "$tmp/one.md" "$1.md"
    [ -s "$1/report.html" ] || fail "$1: no HTML report"
}

# --- A private single-node Slurm, if one comes up within two minutes. -----
why=""
[ "${DISTROSIM_TEST_NO_SLURM:-0}" = 0 ] || why="DISTROSIM_TEST_NO_SLURM is set"
start=$(date +%s)
for tool in munged munge slurmctld slurmd sbatch sinfo scontrol; do
    [ -z "$why" ] || break
    command -v "$tool" > /dev/null || { why="$tool is not installed (slurm-wlm and munge)"; break; }
done
host=$(hostname -s 2> /dev/null || hostname)
# daemon_pid NAME: adds the pid in $st/NAME.pid to the daemons to stop; a
# daemon writes it a moment after it forks, so wait for it (10 s at most).
daemon_pid() {
    for _ in $(seq 1 100); do
        if [ -s "$st/$1.pid" ]; then
            pids="$pids $(cat "$st/$1.pid")"
            return 0
        fi
        sleep 0.1
    done
    why="$1 wrote no pid file"
    return 1
}
if [ -z "$why" ]; then
    st="$tmp/slurm"
    mkdir -p "$st/state" "$st/spool"
    dd if=/dev/urandom of="$st/munge.key" bs=1024 count=1 2> /dev/null
    chmod 600 "$st/munge.key"
    if munged --socket="$st/munge.sock" --key-file="$st/munge.key" --pid-file="$st/munged.pid" \
           --log-file="$st/munged.log" --seed-file="$st/munge.seed" --force > "$st/munged.out" 2>&1; then
        daemon_pid munged
    else
        why="munged did not start: $(tail -n 1 "$st/munged.out")"
    fi
fi
if [ -z "$why" ]; then
    user=$(id -un)
    cpus=$(slurmd -C 2> /dev/null | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p')
    port=$((20000 + $$ % 20000 * 2))
    cat > "$st/slurm.conf" << CONF
ClusterName=distrosimtest
SlurmctldHost=$host
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$st/munge.sock
CredType=cred/munge
StateSaveLocation=$st/state
SlurmdSpoolDir=$st/spool
SlurmctldPidFile=$st/slurmctld.pid
SlurmdPidFile=$st/slurmd.pid
SlurmctldLogFile=$st/slurmctld.log
SlurmdLogFile=$st/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=${cpus:-1} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$st/slurm.conf"
    if slurmctld > "$st/slurmctld.out" 2>&1 && daemon_pid slurmctld && slurmd > "$st/slurmd.out" 2>&1 &&
        daemon_pid slurmd; then
        why="the node did not become idle within two minutes"
        while [ $(($(date +%s) - start)) -lt 120 ]; do
            if sinfo -h -o '%t' 2> /dev/null | grep -qx idle; then why=""; break; fi
            sleep 1
        done
    else
        why="slurmctld or slurmd did not start (needs root or the slurm user): $(cat "$st/slurmctld.out" "$st/slurmd.out" | tail -n 1)"
    fi
fi

if [ -z "$why" ]; then
    echo "Slurm up in $(($(date +%s) - start)) s: node $host"
    cd "$tmp"
    DISTROSIM=$bin "$src/scripts/slurm-submit.sh" 4 "$tmp/sl" "$@" > "$tmp/submit.out"
    merge=$(sed -n 's/.*merge job \([0-9]*\):.*/\1/p' "$tmp/submit.out")
    [ -n "$merge" ] || fail "slurm-submit.sh: $(cat "$tmp/submit.out")"
    state=""
    deadline=$(($(date +%s) + 240))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        state=$(scontrol show job "$merge" 2> /dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
        case $state in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL) break ;; esac
        sleep 1
    done
    code=$(scontrol show job "$merge" | sed -n 's/.* ExitCode=\([0-9]*\):.*/\1/p')
    [ "$state" = FAILED ] && [ "$code" = 1 ] ||
        fail "merge job $merge: state $state, exit code $code (want FAILED, 1: some runs fail); $(cat "$tmp"/distrosim-merge-*.out 2> /dev/null)"
    compare "$tmp/sl"
    echo "ok: the Slurm job array of 4 shards and its merge job equal one check (real Slurm)"
    exit 0
fi

# --- GNU parallel standing in for sbatch. ---------------------------------
echo "no Slurm: $why; GNU parallel stands in for sbatch"
command -v parallel > /dev/null || fail "GNU parallel is not installed (.ci/setup installs it)"
for min in 1 0; do
    out="$tmp/stand-in-$min"
    seq "$min" $((min + 3)) | env DISTROSIM="$bin" SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN="$min" \
        parallel -j 2 --halt never SLURM_ARRAY_TASK_ID={} sh "$src/scripts/slurm-shard.sbatch" "$out" "$@" \
        > /dev/null 2>&1 || fail "an array task failed"
    set +e
    DISTROSIM="$bin" sh "$src/scripts/slurm-merge.sbatch" "$out" 4 > "$out.merge" 2>&1
    s=$?
    set -e
    [ "$s" = 1 ] || { cat "$out.merge"; fail "slurm-merge.sbatch exited $s, want 1"; }
    compare "$out"
done
# A task that failed makes the merge job fail.
echo 2 > "$tmp/stand-in-1/shard-3.status"
set +e
DISTROSIM="$bin" sh "$src/scripts/slurm-merge.sbatch" "$tmp/stand-in-1" 4 > "$tmp/failed.merge" 2>&1
s=$?
set -e
[ "$s" = 2 ] && grep -q "shard 3/4: exit status 2" "$tmp/failed.merge" || fail "a failed shard: merge exited $s"
echo "ok: the Slurm array scripts, run by GNU parallel, equal one check"
