#!/bin/sh
# Fails when engine or model code calls something that reads the wall clock,
# the environment or a global random generator, or defines a mutable global.
# Usage: lint_determinism.sh SOURCE_DIR LIBSIM LIBMODEL [LIBHARNESS]
set -eu
top=$1
status=0
# Every file of the engine, the harness and the model.  Only sim/cli (the
# command-line front ends and the benchmarks, which time runs with the wall
# clock) may: the engine, the scenario loader, the runner and the observer
# must not.
files=$(find "$top"/sim/engine "$top"/sim/harness "$top"/model -name '*.[ch]' | LC_ALL=C sort)
# shellcheck disable=SC2086
hits=$(grep -nE '\b(rand|srand|random|drand48|time|clock_gettime|gettimeofday|getenv|clock|arc4random|getpid)\s*\(' \
       $files 2>/dev/null \
       | grep -vE ':\s*(//|/\*|\*)' || true)
if [ -n "$hits" ]; then
    echo "banned calls in sim/engine, sim/harness or model/:"; echo "$hits"; status=1
fi
# Objects in .data or .bss are mutable; .data.rel.ro (const tables of
# pointers, read-only after relocation) and .rodata are not.
shift
# The one exception: the allocation fault-injection seam (sim_alloc.c),
# which only the command line arms and which, unarmed, changes nothing.
globals=$(objdump -t "$@" 2>/dev/null | grep -E ' O \.(data|bss)(\.[^r][^ ]*)?\s' \
          | grep -vE ' sim_alloc_fault_(at|calls)$' || true)
if [ -n "$globals" ]; then
    echo "mutable globals in the engine, model or harness libraries:"; echo "$globals"; status=1
fi
[ $status -eq 0 ] && echo "lint_determinism: clean"
exit $status
