/* test_sim_vec.c: SIM_VEC_RESERVE, the engine's one growable-array helper.
 *
 * What sim_vec.h promises, checked here:
 *   - a reservation that fits does not touch the array;
 *   - growth doubles from SIM_VEC_MIN_CAP, for uint32_t and size_t
 *     capacities, and keeps the contents;
 *   - a count that does not fit the capacity's type (uint32_t), or does not
 *     fit size_t at all, is refused, leaving the pointer and capacity as
 *     they were (never a wrapped, too small capacity that "has room"). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "sim_vec.h"
#include "tst_sim.h"

START_TEST(test_grow_u32_keeps_contents)
{
    uint64_t *v = NULL;
    uint32_t len = 0;
    uint32_t cap = 0;
    uint32_t grows = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        uint64_t *before = v;
        uint32_t cap_before = cap;
        ck_assert(SIM_VEC_RESERVE(v, len, cap, 1));
        if (cap != cap_before) {
            grows++;
            /* Doubling from SIM_VEC_MIN_CAP: 16, 32, 64, ... */
            ck_assert_uint_eq(cap, cap_before == 0 ? SIM_VEC_MIN_CAP : 2 * cap_before);
        } else {
            ck_assert_ptr_eq(v, before);   /* room already: nothing moved */
        }
        ck_assert_uint_ge(cap, len + 1);
        v[len++] = (uint64_t)i * 0x9e3779b97f4a7c15ull;
    }
    ck_assert_uint_eq(cap, 1024);
    ck_assert_uint_eq(grows, 7);            /* 16 .. 1024 */
    for (uint32_t i = 0; i < len; i++) ck_assert_uint_eq(v[i], (uint64_t)i * 0x9e3779b97f4a7c15ull);
    free(v);
}
END_TEST

START_TEST(test_grow_size_t_many_at_once)
{
    char *v = NULL;
    size_t len = 0;
    size_t cap = 0;
    ck_assert(SIM_VEC_RESERVE(v, len, cap, 3));
    ck_assert_uint_eq(cap, SIM_VEC_MIN_CAP);
    for (size_t i = 0; i < 3; i++) v[len++] = (char)('a' + i);
    ck_assert(SIM_VEC_RESERVE(v, len, cap, 100));   /* 103 needed: 16 -> 128 */
    ck_assert_uint_eq(cap, 128);
    ck_assert_int_eq(v[0], 'a');
    ck_assert_int_eq(v[2], 'c');
    ck_assert(SIM_VEC_RESERVE(v, len, cap, 125));   /* 128 exactly: fits */
    ck_assert_uint_eq(cap, 128);
    ck_assert(SIM_VEC_RESERVE(v, len, cap, 0));
    free(v);
}
END_TEST

/* len + extra does not fit uint32_t: in 32 bits it would wrap to 15, which
 * a naive test would take for "room in 16". */
START_TEST(test_refuses_u32_overflow)
{
    uint64_t *v = NULL;
    uint32_t len = 0;
    uint32_t cap = 0;
    ck_assert(SIM_VEC_RESERVE(v, len, cap, SIM_VEC_MIN_CAP));
    len = cap;
    uint64_t *before = v;
    ck_assert(!SIM_VEC_RESERVE(v, len, cap, UINT32_MAX));
    ck_assert_ptr_eq(v, before);
    ck_assert_uint_eq(cap, SIM_VEC_MIN_CAP);
    /* Just past the largest count a uint32_t capacity can describe. */
    ck_assert(!SIM_VEC_RESERVE(v, len, cap, (size_t)UINT32_MAX - len + 1));
    ck_assert_ptr_eq(v, before);
    ck_assert_uint_eq(cap, SIM_VEC_MIN_CAP);
    free(v);

    /* Bytes, so that 2^32 of them would be a plausible allocation: the
     * count still does not fit the capacity, and must be refused before
     * anything is allocated. */
    char *b = NULL;
    uint32_t blen = 0;
    uint32_t bcap = 0;
    ck_assert(SIM_VEC_RESERVE(b, blen, bcap, 1));
    blen = bcap;
    char *bbefore = b;
    ck_assert(!SIM_VEC_RESERVE(b, blen, bcap, (size_t)UINT32_MAX - blen + 1));
    ck_assert_ptr_eq(b, bbefore);
    ck_assert_uint_eq(bcap, SIM_VEC_MIN_CAP);
    free(b);
}
END_TEST

/* len + extra does not fit size_t (it would wrap to a small number), or
 * fits but its bytes do not: refused, nothing touched. */
START_TEST(test_refuses_size_t_overflow)
{
    uint64_t *v = NULL;
    size_t len = 0;
    size_t cap = 0;
    ck_assert(SIM_VEC_RESERVE(v, len, cap, 1));
    len = 10;
    uint64_t *before = v;
    ck_assert(!SIM_VEC_RESERVE(v, len, cap, SIZE_MAX - 5));   /* 10 + that wraps to 4 */
    ck_assert_ptr_eq(v, before);
    ck_assert_uint_eq(cap, SIM_VEC_MIN_CAP);
    ck_assert(!SIM_VEC_RESERVE(v, len, cap, SIZE_MAX - len));  /* SIZE_MAX elements */
    ck_assert_ptr_eq(v, before);
    ck_assert_uint_eq(cap, SIM_VEC_MIN_CAP);
    ck_assert(!SIM_VEC_RESERVE(v, len, cap, SIZE_MAX / 4));    /* the count fits, its bytes do not */
    ck_assert_ptr_eq(v, before);
    ck_assert_uint_eq(cap, SIM_VEC_MIN_CAP);
    free(v);
}
END_TEST

static Suite *vec_suite(void)
{
    Suite *s = suite_create("sim_vec");
    TCase *grow = tcase_create("grow");
    tcase_add_test(grow, test_grow_u32_keeps_contents);
    tcase_add_test(grow, test_grow_size_t_many_at_once);
    suite_add_tcase(s, grow);
    TCase *overflow = tcase_create("overflow");
    tcase_add_test(overflow, test_refuses_u32_overflow);
    tcase_add_test(overflow, test_refuses_size_t_overflow);
    suite_add_tcase(s, overflow);
    return s;
}

int main(void)
{
    return tst_run_suite(vec_suite());
}
