/* sim_vec.h: the one growable-array helper, and the out-of-memory policy.
 *
 * Out-of-memory policy (every module follows it):
 *
 *   - Running out of memory is an operating error, never a programmer
 *     error: no SIM_ASSERT on an allocation's result.
 *   - A function that can allocate and has a caller to answer returns
 *     SIM_ERR_NOMEM (or passes up its callee's status) with a sim_error
 *     filled, and leaves its object as it was before the call.
 *   - Code inside an event handler has no caller to answer: it records the
 *     error with sim_fail() (sim_engine.h) and returns.  The engine stops
 *     the run at once, and the harness records it as an ERROR row with the
 *     message; the campaign goes on with the next run.
 *   - The command line checks every allocation, thread start and snprintf
 *     it makes, prints what failed and exits 2.
 *
 * A growable array is three lvalues: a pointer, a length and a capacity
 * (uint32_t or size_t; the capacity's type picks the helper, and a count
 * that would not fit it is a failure, not a wrap):
 *
 *     if (!SIM_VEC_RESERVE(v, len, cap, 1)) return nomem(err);
 *     v[len++] = x;
 *
 * Capacities double, from SIM_VEC_MIN_CAP at the first allocation. */
#ifndef SIM_VEC_H
#define SIM_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_VEC_MIN_CAP 16u

/* Grows *pptr (a pointer to any object pointer) to hold at least `need`
 * elements of `elem` bytes, updating *cap.  False when the allocator fails
 * or the size overflows; then *pptr and *cap are unchanged. */
bool sim_vec_grow_(void *pptr, size_t elem, size_t need, size_t *cap);
bool sim_vec_grow32_(void *pptr, size_t elem, size_t need, uint32_t *cap);

/* The same, for arrays of records that the hot loop reads one at a time:
 * the block is aligned to a cache line (SIM_VEC_LINE bytes), so a record
 * of 64 or 128 bytes spans one or two lines, not two or three.  realloc
 * aligns to 16 bytes only, and glibc places a large block 16 bytes past a
 * page boundary.  Growing copies the old block (`cap` elements). */
#define SIM_VEC_LINE 64u
bool sim_vec_grow_lines_(void *pptr, size_t elem, size_t need, size_t *cap);
bool sim_vec_grow_lines32_(void *pptr, size_t elem, size_t need, uint32_t *cap);

/* The macro's two tests, as functions: with a constant `len` or a 32-bit
 * one, the same tests written inline draw -Wtype-limits and -Wsign-compare
 * warnings at every use. */
static inline bool sim_vec_has_room_(size_t len, size_t cap, size_t extra) { return extra <= cap - len; }
static inline bool sim_vec_fits_(size_t len, size_t extra) { return SIZE_MAX - len >= extra; }

/* True when `ptr` has room for `len + extra` elements (growing it if need
 * be); false when it could not grow. */
#define SIM_VEC_RESERVE(ptr, len, cap, extra)                                                        \
    (sim_vec_has_room_((size_t)(len), (size_t)(cap), (size_t)(extra)) ||                             \
     (sim_vec_fits_((size_t)(len), (size_t)(extra)) &&                                               \
      _Generic((cap), uint32_t: sim_vec_grow32_, default: sim_vec_grow_)(&(ptr), sizeof *(ptr),      \
                                                                          (size_t)(len) + (size_t)(extra), &(cap))))

/* SIM_VEC_RESERVE for a cache-line-aligned array (sim_vec_grow_lines_). */
#define SIM_VEC_RESERVE_LINES(ptr, len, cap, extra)                                                  \
    (sim_vec_has_room_((size_t)(len), (size_t)(cap), (size_t)(extra)) ||                             \
     (sim_vec_fits_((size_t)(len), (size_t)(extra)) &&                                               \
      _Generic((cap), uint32_t: sim_vec_grow_lines32_, default: sim_vec_grow_lines_)(               \
          &(ptr), sizeof *(ptr), (size_t)(len) + (size_t)(extra), &(cap))))

#endif
