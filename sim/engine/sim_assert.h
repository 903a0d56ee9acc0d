/* sim_assert.h: assertions that stay on in release builds.
 *
 * SIM_ASSERT is independent of NDEBUG (TigerBeetle keeps assertions on in
 * production; so do we): a broken invariant in a simulator means every
 * result after it is worthless.  SIM_DEBUG_ASSERT is for O(n) checks. */
#ifndef SIM_ASSERT_H
#define SIM_ASSERT_H

#include <stddef.h>

/* A failed assertion prints, besides its expression and source line, where
 * the simulation stood (virtual time, event number, seed: the engine's
 * part, sim_assert_position) and what was running (the harness's part: the
 * scenario file and the build, set with sim_assert_context_set), so the
 * failure can be replayed, even from one run of a -j campaign. */
_Noreturn void sim_assert_fail(const char *expr, const char *file, int line,
                               const char *func);

/* Sets this thread's context line (NULL clears it).  The string is the
 * caller's and must outlive the setting. */
void sim_assert_context_set(const char *context);

/* Writes the running engine's position on this thread into buf (at most
 * size bytes, NUL-terminated); returns 0 when no engine is running. */
size_t sim_assert_position(char *buf, size_t size);

#define SIM_ASSERT(cond) \
    ((cond) ? (void)0 : sim_assert_fail(#cond, __FILE__, __LINE__, __func__))

#ifdef SIM_DEBUG
#define SIM_DEBUG_ASSERT(cond) SIM_ASSERT(cond)
#else
#define SIM_DEBUG_ASSERT(cond) ((void)sizeof(cond))
#endif

#endif
