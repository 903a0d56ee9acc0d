/* sim_alloc.h: the allocator of the scenario loader, the runner, the
 * campaign and the reports, with a fault-injection seam.
 *
 * sim_malloc, sim_calloc, sim_realloc and sim_strdup behave as their C
 * library namesakes, except that, once sim_alloc_fail_at(n) has armed the
 * seam, the n-th call from then on returns NULL (and only that one), as
 * SQLite fails its own allocations in its tests: every caller's NULL path
 * can then be run on purpose.  The seam is compiled in always and costs one
 * atomic increment per call; only the command line arms it
 * (DISTROSIM_FAIL_ALLOC, read once in cli_main.c), so nothing here reads the
 * environment.  The counter is the library's one mutable global: unarmed it
 * changes no result (tests/lint_determinism.sh names it as the exception).
 * The count is shared by every thread, so with -j > 1 which allocation is
 * the n-th may differ from one invocation to the next. */
#ifndef SIM_ALLOC_H
#define SIM_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *sim_malloc(size_t size);
void *sim_calloc(size_t count, size_t size);
void *sim_realloc(void *ptr, size_t size);
char *sim_strdup(const char *s);
/* C11 aligned_alloc: `size` a multiple of `alignment`. */
void *sim_aligned_alloc(size_t alignment, size_t size);

/* Arms the seam: the n-th allocation call from now fails; 0 disarms it and
 * restarts the count. */
void sim_alloc_fail_at(uint64_t n);
/* Allocation calls since sim_alloc_fail_at, the failed one included. */
uint64_t sim_alloc_calls(void);
/* True when the armed call was reached (and failed). */
bool sim_alloc_failed(void);

#endif
