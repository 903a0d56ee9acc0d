/* sim_assert.h: assertions that stay on in release builds.
 *
 * SIM_ASSERT is independent of NDEBUG (TigerBeetle keeps assertions on in
 * production; so do we): a broken invariant in a simulator means every
 * result after it is worthless.  SIM_DEBUG_ASSERT is for O(n) checks. */
#ifndef SIM_ASSERT_H
#define SIM_ASSERT_H

_Noreturn void sim_assert_fail(const char *expr, const char *file, int line,
                               const char *func);

#define SIM_ASSERT(cond) \
    ((cond) ? (void)0 : sim_assert_fail(#cond, __FILE__, __LINE__, __func__))

#ifdef SIM_DEBUG
#define SIM_DEBUG_ASSERT(cond) SIM_ASSERT(cond)
#else
#define SIM_DEBUG_ASSERT(cond) ((void)sizeof(cond))
#endif

#endif
