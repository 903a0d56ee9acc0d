#!/bin/sh
# Fails when engine or model code calls something that reads the wall clock,
# the environment or a global random generator, or defines a mutable global.
# Usage: lint_determinism.sh SOURCE_DIR LIBSIM LIBMODEL [LIBHARNESS]
set -eu
top=$1
status=0
# Every file of sim/ and model/ but the command-line front ends and the
# benchmarks (cli_*, bench_*), which time runs with the wall clock: the
# engine, the scenario loader, the runner and the observer must not.
files=$(ls "$top"/sim/*.c "$top"/sim/*.h "$top"/model/*.c "$top"/model/*.h | grep -vE '/(cli|bench)_[^/]*$')
# shellcheck disable=SC2086
hits=$(grep -nE '\b(rand|srand|random|drand48|time|clock_gettime|gettimeofday|getenv|clock|arc4random|getpid)\s*\(' \
       $files 2>/dev/null \
       | grep -vE ':\s*(//|/\*|\*)' || true)
if [ -n "$hits" ]; then
    echo "banned calls in sim/ or model/:"; echo "$hits"; status=1
fi
# Objects in .data or .bss are mutable; .data.rel.ro (const tables of
# pointers, read-only after relocation) and .rodata are not.
shift
globals=$(objdump -t "$@" 2>/dev/null | grep -E ' O \.(data|bss)(\.[^r][^ ]*)?\s' || true)
if [ -n "$globals" ]; then
    echo "mutable globals in the engine, model or harness libraries:"; echo "$globals"; status=1
fi
[ $status -eq 0 ] && echo "lint_determinism: clean"
exit $status
