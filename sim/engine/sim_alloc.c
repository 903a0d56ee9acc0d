/* sim_alloc.c: allocation with a fault-injection seam (sim_alloc.h). */
#include "sim_alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The seam's state: the call to fail (0: none) and the calls counted since
 * it was armed.  Atomic: campaign workers allocate concurrently. */
static _Atomic uint64_t sim_alloc_fault_at;
static _Atomic uint64_t sim_alloc_fault_calls;

/* True when this call is the one to fail. */
static bool sim_alloc_should_fail(void)
{
    uint64_t at = atomic_load_explicit(&sim_alloc_fault_at, memory_order_relaxed);
    if (at == 0) return false;
    return atomic_fetch_add_explicit(&sim_alloc_fault_calls, 1, memory_order_relaxed) + 1 == at;
}

void *sim_malloc(size_t size)
{
    return sim_alloc_should_fail() ? NULL : malloc(size);
}

void *sim_calloc(size_t count, size_t size)
{
    return sim_alloc_should_fail() ? NULL : calloc(count, size);
}

void *sim_realloc(void *ptr, size_t size)
{
    return sim_alloc_should_fail() ? NULL : realloc(ptr, size);
}

void *sim_aligned_alloc(size_t alignment, size_t size)
{
    return sim_alloc_should_fail() ? NULL : aligned_alloc(alignment, size);
}

char *sim_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = sim_malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}

void sim_alloc_fail_at(uint64_t n)
{
    atomic_store(&sim_alloc_fault_calls, 0);
    atomic_store(&sim_alloc_fault_at, n);
}

uint64_t sim_alloc_calls(void)
{
    return atomic_load(&sim_alloc_fault_calls);
}

bool sim_alloc_failed(void)
{
    uint64_t at = atomic_load(&sim_alloc_fault_at);
    return at != 0 && atomic_load(&sim_alloc_fault_calls) >= at;
}
