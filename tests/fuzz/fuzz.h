/* fuzz.h: the one entry point every fuzz harness in tests/fuzz defines.
 *
 * Each harness is built twice: with -fsanitize=fuzzer (SIM_FUZZ=ON, Clang)
 * libFuzzer drives it; everywhere else fuzz_replay.c's main() feeds it the
 * files of its corpus, so every build (GCC, Clang, ASan + UBSan) replays
 * the corpus as a ctest test.  A harness aborts on a broken promise of the
 * code under test; crashes and sanitizer reports are the other findings. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs the code under test on `size` bytes of `data`; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the process with `what` on stderr: a finding. */
static inline _Noreturn void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: finding: %s\n", what);
    fflush(stderr);
    abort();
}

#endif
