#!/bin/sh
# Submits a distrosim campaign to Slurm as a job array of N shards and a
# dependent job that merges them and writes the report.
#
# usage: scripts/slurm-submit.sh N OUT_DIR COMMAND ARGS...
#   scripts/slurm-submit.sh 64 /shared/run1 check scenarios --seeds 1-100000
#
# OUT_DIR, DISTROSIM (default build/distrosim) and the scenario files must be
# reachable at the same paths from every node (a shared file system).
# SLURM_SHARD_OPTS and SLURM_MERGE_OPTS add sbatch options to the array and
# to the merge job (e.g. SLURM_SHARD_OPTS="--cpus-per-task=4 --partition=batch").
# Prints the two job ids; the results are OUT_DIR/all.db, OUT_DIR/report.md and
# OUT_DIR/report.html once the merge job ends.
set -eu
[ $# -ge 3 ] || { sed -n '5,6p' "$0" | sed 's/^# //' >&2; exit 2; }
n=$1
out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
# shellcheck disable=SC2086
array=$(sbatch --parsable --array=1-"$n" ${SLURM_SHARD_OPTS:-} "$here/slurm-shard.sbatch" "$out" "$@")
array=${array%%;*}                   # "jobid;cluster" on a federation
# shellcheck disable=SC2086
merge=$(sbatch --parsable --dependency=afterany:"$array" ${SLURM_MERGE_OPTS:-} "$here/slurm-merge.sbatch" "$out" "$n")
merge=${merge%%;*}
echo "array job $array (shards 1-$n), merge job $merge: $out/all.db, $out/report.md, $out/report.html"
