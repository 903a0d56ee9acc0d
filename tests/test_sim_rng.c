/* test_sim_rng.c: random streams, unbiased bounds, ratios and distributions.
 *
 * Statistical checks use fixed seeds, so each one is deterministic: it
 * either always passes or always fails on a given generator.  Tolerances
 * are several standard errors wide so that a correct generator passes with
 * room to spare, and narrow enough that a wrong formula (a modulo bias, a
 * mean used as a median, a swapped parameter) fails. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_engine.h"
#include "sim_net.h"
#include "sim_rng.h"
#include "tst_sim.h"

#define DRAWS 100000u

/* ========================================================================
 * Streams
 * ======================================================================== */

/* These pin the generator (splitmix64 seeding + xoshiro256**) across builds,
 * compilers and optimisation levels: a change here changes every recorded
 * run.  Computed once from sim_rng_derive(42, 7) and checked against an
 * independent reimplementation of both algorithms. */
START_TEST(test_known_answer)
{
    sim_rng rng = sim_rng_derive(42, 7);
    ck_assert_uint_eq(sim_rng_u64(&rng), 0xa71000553f46706cull);
    ck_assert_uint_eq(sim_rng_u64(&rng), 0x3257b1fb3c1fa87dull);
    ck_assert_uint_eq(sim_rng_u64(&rng), 0xbb73b38dba9e014aull);
}
END_TEST

static void draws(sim_rng rng, uint64_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = sim_rng_u64(&rng);
}

static bool same_draws(sim_rng a, sim_rng b)
{
    uint64_t x[16], y[16];
    draws(a, x, 16);
    draws(b, y, 16);
    return memcmp(x, y, sizeof x) == 0;
}

START_TEST(test_derive_stable_per_entity)
{
    const uint64_t seed = 1234;
    /* The stream of node 3 and of link 2->5, derived alone... */
    uint64_t node3[16], link25[16];
    draws(sim_rng_derive(seed, SIM_STREAM_NODE(3, 1)), node3, 16);
    draws(sim_rng_derive(seed, SIM_STREAM_LINK(2, 5)), link25, 16);
    /* ...and again after many other entities were derived and used. */
    uint64_t sink = 0;
    for (uint32_t id = 0; id < 200; id++) {
        sim_rng other = sim_rng_derive(seed, SIM_STREAM_NODE(id + 10, 1));
        sim_rng link = sim_rng_derive(seed, SIM_STREAM_LINK(id, id + 1));
        sink ^= sim_rng_u64(&other) ^ sim_rng_u64(&link);
    }
    ck_assert_uint_ne(sink, 0);
    uint64_t again[16];
    draws(sim_rng_derive(seed, SIM_STREAM_NODE(3, 1)), again, 16);
    ck_assert_int_eq(memcmp(node3, again, sizeof again), 0);
    draws(sim_rng_derive(seed, SIM_STREAM_LINK(2, 5)), again, 16);
    ck_assert_int_eq(memcmp(link25, again, sizeof again), 0);

    /* Distinct entities get distinct streams. */
    ck_assert(!same_draws(sim_rng_derive(seed, SIM_STREAM_NODE(3, 1)), sim_rng_derive(seed, SIM_STREAM_NODE(4, 1))));
    ck_assert(!same_draws(sim_rng_derive(seed, SIM_STREAM_NODE(3, 1)), sim_rng_derive(seed, SIM_STREAM_NODE(3, 2))));
    ck_assert(!same_draws(sim_rng_derive(seed, SIM_STREAM_LINK(2, 5)), sim_rng_derive(seed, SIM_STREAM_LINK(5, 2))));
    ck_assert(!same_draws(sim_rng_derive(seed, SIM_STREAM_NODE(2, 5)), sim_rng_derive(seed, SIM_STREAM_LINK(2, 5))));
    ck_assert(!same_draws(sim_rng_derive(seed, SIM_STREAM_NODE(3, 1)), sim_rng_derive(seed + 1, SIM_STREAM_NODE(3, 1))));
    ck_assert(!same_draws(sim_rng_derive(5, 9), sim_rng_derive(9, 5)));
    /* Even seed 0 and stream 0 give a working (non-zero) generator. */
    sim_rng zero = sim_rng_derive(0, 0);
    uint64_t any = 0;
    for (int i = 0; i < 8; i++) any |= sim_rng_u64(&zero);
    ck_assert_uint_ne(any, 0);
}
END_TEST

/* An engine in which node 0 sends `count` messages to node 1 at time 0,
 * bytes = index, over a uniform-latency link; returns arrival times by index.
 * With `extra` traffic, other links (and node 3, when present) are busy too. */
typedef struct arrivals {
    sim_time_ns at_ns[256];
    uint32_t seen;
} arrivals;

static void arrivals_on_message(sim_engine *sim, sim_node_id node, void *ctx, const sim_message *msg)
{
    arrivals *a = ctx;
    if (node != 1 || msg->src != 0) return;
    ck_assert_uint_lt(msg->bytes, 256);
    a->at_ns[msg->bytes] = sim_now(sim);
    a->seen++;
}

static const sim_node_ops arrivals_ops = { .on_message = arrivals_on_message };

static sim_link_params uniform_link(void)
{
    sim_link_params p = sim_link_params_default();
    p.latency.base.kind = SIM_DIST_UNIFORM;
    p.latency.base.a_ns = 1 * SIM_MS;
    p.latency.base.b_ns = 10 * SIM_MS;
    p.reorder = true;
    return p;
}

static void link_arrivals(uint64_t seed, uint32_t nodes, bool extra, uint32_t count, arrivals *out)
{
    memset(out, 0, sizeof *out);
    sim_config config = tst_config(seed, nodes);
    sim_engine *sim = tst_engine(&config);
    sim_error err;
    for (uint32_t n = 0; n < nodes; n++) TST_OK(sim_node_attach(sim, n, &arrivals_ops, out, &err));
    tst_start_all(sim);
    sim_link_params p = uniform_link();
    TST_OK(sim_net_set_default(sim, &p, &err));
    sim_link_params lossy = p;
    lossy.loss_ppm = 200000;
    lossy.duplicate_ppm = 100000;
    if (extra) TST_OK(sim_net_set_link(sim, nodes - 1, 0, &lossy, &err));
    for (uint32_t i = 0; i < count; i++) {
        if (extra) {
            for (uint32_t src = 0; src < nodes; src++) {
                for (uint32_t dst = 0; dst < nodes; dst++) {
                    if (src == 0 && dst == 1) continue;
                    TST_OK(sim_net_send(sim, src, dst, 2, 1000, NULL, &err));
                }
            }
        }
        TST_OK(sim_net_send(sim, 0, 1, 1, i, NULL, &err));
    }
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(out->seen, count);
    sim_engine_destroy(sim);
}

START_TEST(test_link_stream_independent_of_cluster)
{
    static arrivals small, big;
    link_arrivals(77, 3, false, 200, &small);
    link_arrivals(77, 4, true, 200, &big);
    for (uint32_t i = 0; i < 200; i++) {
        ck_assert_msg(small.at_ns[i] == big.at_ns[i], "message %u on link 0->1: %llu ns with 3 nodes, %llu with 4",
                      i, (unsigned long long)small.at_ns[i], (unsigned long long)big.at_ns[i]);
    }
    /* And the draws are exactly those of the link's own stream. */
    sim_rng rng = sim_rng_derive(77, SIM_STREAM_LINK(0, 1));
    sim_link_params p = uniform_link();
    for (uint32_t i = 0; i < 200; i++) ck_assert_uint_eq(small.at_ns[i], sim_latency_sample(&p.latency, &rng));
    /* A different seed moves them. */
    static arrivals other;
    link_arrivals(78, 3, false, 200, &other);
    ck_assert_int_ne(memcmp(small.at_ns, other.at_ns, 200 * sizeof other.at_ns[0]), 0);
}
END_TEST

START_TEST(test_node_stream_independent_of_cluster)
{
    sim_config c3 = tst_config(91, 3), c4 = tst_config(91, 4);
    sim_engine *a = tst_engine(&c3);
    sim_engine *b = tst_engine(&c4);
    tst_start_all(a);
    tst_start_all(b);
    for (sim_node_id n = 0; n < 3; n++) {
        for (int i = 0; i < 8; i++) ck_assert_uint_eq(sim_rng_u64(sim_node_rng(a, n)), sim_rng_u64(sim_node_rng(b, n)));
    }
    sim_engine_destroy(a);
    sim_engine_destroy(b);
}
END_TEST

/* ========================================================================
 * Integers and ratios
 * ======================================================================== */

static double chi_square(sim_rng *rng, uint64_t bound, unsigned n)
{
    unsigned counts[16] = { 0 };
    ck_assert_uint_le(bound, 16);
    for (unsigned i = 0; i < n; i++) {
        uint64_t x = sim_rng_below(rng, bound);
        TST_REQUIRE(x < bound, "draw %llu out of [0, %llu)", (unsigned long long)x, (unsigned long long)bound);
        counts[x]++;
    }
    double expect = (double)n / (double)bound, chi = 0.0;
    for (uint64_t k = 0; k < bound; k++) chi += ((double)counts[k] - expect) * ((double)counts[k] - expect) / expect;
    return chi;
}

START_TEST(test_below_chi_square)
{
    sim_rng rng = sim_rng_derive(2024, SIM_STREAM_HARNESS(1));
    /* 6 and 2 degrees of freedom; 22.46 and 13.82 are the 0.1 % critical values. */
    double chi7 = chi_square(&rng, 7, DRAWS);
    ck_assert_msg(chi7 < 22.46, "chi-square %.2f for bound 7", chi7);
    double chi3 = chi_square(&rng, 3, DRAWS);
    ck_assert_msg(chi3 < 13.82, "chi-square %.2f for bound 3", chi3);
    /* A sanity check of the statistic itself: a stuck generator would fail it. */
    ck_assert_double_gt(chi7 + chi3, 0.0);
}
END_TEST

START_TEST(test_below_small_bounds)
{
    sim_rng rng = sim_rng_derive(5, SIM_STREAM_HARNESS(2));
    for (int i = 0; i < 1000; i++) TST_REQUIRE(sim_rng_below(&rng, 1) == 0, "below(1) returned non-zero");
    bool seen[2] = { false, false };
    for (int i = 0; i < 1000; i++) seen[sim_rng_below(&rng, 2)] = true;
    ck_assert(seen[0] && seen[1]);
}
END_TEST

/* For bounds near 2^64 a modulo reduction is visibly biased: with
 * bound = 3 * 2^62, x % bound puts half the draws below 2^62 instead of a
 * third.  The unbiased method must give a third. */
START_TEST(test_below_huge_bounds)
{
    sim_rng rng = sim_rng_derive(6, SIM_STREAM_HARNESS(3));
    const uint64_t third = 3ull << 62;
    unsigned low = 0;
    for (unsigned i = 0; i < DRAWS; i++) {
        uint64_t x = sim_rng_below(&rng, third);
        TST_REQUIRE(x < third, "draw %llu out of range", (unsigned long long)x);
        low += x < (1ull << 62);
    }
    ck_assert_double_eq_tol((double)low / DRAWS, 1.0 / 3.0, 0.01);

    const uint64_t near63 = (1ull << 63) + 1;
    unsigned upper = 0;
    for (unsigned i = 0; i < DRAWS; i++) {
        uint64_t x = sim_rng_below(&rng, near63);
        TST_REQUIRE(x < near63, "draw %llu out of range", (unsigned long long)x);
        upper += x >= (1ull << 62);
    }
    ck_assert_double_eq_tol((double)upper / DRAWS, 0.5, 0.01);

    for (int i = 0; i < 1000; i++) TST_REQUIRE(sim_rng_below(&rng, UINT64_MAX) < UINT64_MAX, "below(2^64 - 1) out of range");
}
END_TEST

START_TEST(test_chance_ppm)
{
    sim_rng rng = sim_rng_derive(7, SIM_STREAM_HARNESS(4));
    for (unsigned i = 0; i < DRAWS; i++) TST_REQUIRE(!sim_rng_chance_ppm(&rng, 0), "chance_ppm(0) was true at draw %u", i);
    for (unsigned i = 0; i < DRAWS; i++) TST_REQUIRE(sim_rng_chance_ppm(&rng, SIM_PPM), "chance_ppm(10^6) was false at draw %u", i);
    unsigned hits = 0;
    for (unsigned i = 0; i < DRAWS; i++) hits += sim_rng_chance_ppm(&rng, 250000);
    ck_assert_double_eq_tol((double)hits / DRAWS, 0.25, 0.005);
    hits = 0;
    for (unsigned i = 0; i < DRAWS; i++) hits += sim_rng_chance_ppm(&rng, 1);
    ck_assert_uint_le(hits, 5);                           /* 10^-6: 0.1 expected */
}
END_TEST

START_TEST(test_unit_and_normal)
{
    sim_rng rng = sim_rng_derive(8, SIM_STREAM_HARNESS(5));
    double sum = 0.0, sum2 = 0.0;
    for (unsigned i = 0; i < DRAWS; i++) {
        double u = sim_rng_unit(&rng);
        TST_REQUIRE(u >= 0.0 && u < 1.0, "unit draw %g out of [0, 1)", u);
        sum += u;
    }
    ck_assert_double_eq_tol(sum / DRAWS, 0.5, 0.005);
    sum = 0.0;
    for (unsigned i = 0; i < DRAWS; i++) {
        double z = sim_rng_normal(&rng);
        sum += z;
        sum2 += z * z;
    }
    double mean = sum / DRAWS;
    ck_assert_double_eq_tol(mean, 0.0, 0.015);
    ck_assert_double_eq_tol(sqrt(sum2 / DRAWS - mean * mean), 1.0, 0.015);
}
END_TEST

/* ========================================================================
 * Distributions
 * ======================================================================== */

typedef struct moments {
    double mean;
    double sd;
    sim_time_ns min;
    sim_time_ns max;
} moments;

static moments sample_moments(const sim_dist *d, sim_rng *rng, sim_time_ns *keep)
{
    moments m = { 0.0, 0.0, SIM_TIME_NEVER, 0 };
    double sum = 0.0, sum2 = 0.0;
    for (unsigned i = 0; i < DRAWS; i++) {
        sim_time_ns x = sim_dist_sample(d, rng);
        if (keep != NULL) keep[i] = x;
        sum += (double)x;
        sum2 += (double)x * (double)x;
        if (x < m.min) m.min = x;
        if (x > m.max) m.max = x;
    }
    m.mean = sum / DRAWS;
    m.sd = sqrt(sum2 / DRAWS - m.mean * m.mean);
    return m;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

START_TEST(test_dist_constant)
{
    sim_rng rng = sim_rng_derive(9, SIM_STREAM_HARNESS(6));
    sim_rng before = rng;
    sim_dist d = { .kind = SIM_DIST_CONSTANT, .a_ns = 1234567 };
    for (int i = 0; i < 1000; i++) TST_REQUIRE(sim_dist_sample(&d, &rng) == 1234567, "constant draw changed");
    ck_assert_int_eq(memcmp(&before, &rng, sizeof rng), 0);   /* consumed no randomness */
    sim_latency lat = sim_latency_constant(77 * SIM_US);
    for (int i = 0; i < 1000; i++) TST_REQUIRE(sim_latency_sample(&lat, &rng) == 77 * SIM_US, "constant latency changed");
    ck_assert_int_eq(memcmp(&before, &rng, sizeof rng), 0);
}
END_TEST

START_TEST(test_dist_uniform)
{
    sim_rng rng = sim_rng_derive(10, SIM_STREAM_HARNESS(7));
    sim_dist narrow = { .kind = SIM_DIST_UNIFORM, .a_ns = 10, .b_ns = 20 };
    unsigned counts[11] = { 0 };
    for (unsigned i = 0; i < DRAWS; i++) {
        sim_time_ns x = sim_dist_sample(&narrow, &rng);
        TST_REQUIRE(x >= 10 && x <= 20, "uniform draw %llu out of [10, 20]", (unsigned long long)x);
        counts[x - 10]++;
    }
    for (int k = 0; k < 11; k++) ck_assert_double_eq_tol((double)counts[k] / DRAWS, 1.0 / 11.0, 0.005);

    sim_dist wide = { .kind = SIM_DIST_UNIFORM, .a_ns = 1 * SIM_MS, .b_ns = 3 * SIM_MS };
    moments m = sample_moments(&wide, &rng, NULL);
    ck_assert_uint_ge(m.min, 1 * SIM_MS);
    ck_assert_uint_le(m.max, 3 * SIM_MS);
    ck_assert_double_eq_tol(m.mean, 2e6, 2e6 * 0.005);
    ck_assert_double_eq_tol(m.sd, 2e6 / sqrt(12.0), 2e6 / sqrt(12.0) * 0.02);

    sim_dist point = { .kind = SIM_DIST_UNIFORM, .a_ns = 5, .b_ns = 5 };
    for (int i = 0; i < 100; i++) TST_REQUIRE(sim_dist_sample(&point, &rng) == 5, "uniform [5, 5] gave another value");
}
END_TEST

START_TEST(test_dist_normal)
{
    sim_rng rng = sim_rng_derive(11, SIM_STREAM_HARNESS(8));
    sim_dist d = { .kind = SIM_DIST_NORMAL, .a_ns = 10 * SIM_MS, .b_ns = 1 * SIM_MS };
    moments m = sample_moments(&d, &rng, NULL);
    ck_assert_double_eq_tol(m.mean, 10e6, 10e6 * 0.002);
    ck_assert_double_eq_tol(m.sd, 1e6, 1e6 * 0.02);
    /* Clamped at 0: with mean 0, about half the draws are 0. */
    sim_dist zero = { .kind = SIM_DIST_NORMAL, .a_ns = 0, .b_ns = 1 * SIM_MS };
    unsigned zeros = 0;
    for (unsigned i = 0; i < DRAWS; i++) zeros += sim_dist_sample(&zero, &rng) == 0;
    ck_assert_double_eq_tol((double)zeros / DRAWS, 0.5, 0.01);
}
END_TEST

START_TEST(test_dist_lognormal)
{
    sim_rng rng = sim_rng_derive(12, SIM_STREAM_HARNESS(9));
    sim_time_ns *x = malloc(DRAWS * sizeof *x);
    ck_assert_ptr_nonnull(x);
    sim_dist d = { .kind = SIM_DIST_LOGNORMAL, .a_ns = 5 * SIM_MS, .sigma_milli = 500 };
    moments m = sample_moments(&d, &rng, x);
    double lsum = 0.0, lsum2 = 0.0;
    for (unsigned i = 0; i < DRAWS; i++) {
        TST_REQUIRE(x[i] > 0, "lognormal draw %u is 0", i);
        double l = log((double)x[i]);
        lsum += l;
        lsum2 += l * l;
    }
    double lmean = lsum / DRAWS;
    double lsd = sqrt(lsum2 / DRAWS - lmean * lmean);
    qsort(x, DRAWS, sizeof *x, cmp_u64);
    double median = (double)x[DRAWS / 2];
    ck_assert_double_eq_tol(median, 5e6, 5e6 * 0.01);       /* a_ns is the median */
    ck_assert_double_eq_tol(lmean, log(5e6), 0.01);
    ck_assert_double_eq_tol(lsd, 0.5, 0.01);                /* sigma is the log-stddev */
    ck_assert_double_eq_tol(m.mean, 5e6 * exp(0.125), 5e6 * 0.01);   /* mean = median * e^(sigma^2/2) */
    free(x);
}
END_TEST

START_TEST(test_dist_exponential)
{
    sim_rng rng = sim_rng_derive(13, SIM_STREAM_HARNESS(10));
    sim_dist d = { .kind = SIM_DIST_EXPONENTIAL, .a_ns = 2 * SIM_MS };
    sim_time_ns *x = malloc(DRAWS * sizeof *x);
    ck_assert_ptr_nonnull(x);
    moments m = sample_moments(&d, &rng, x);
    ck_assert_double_eq_tol(m.mean, 2e6, 2e6 * 0.015);
    ck_assert_double_eq_tol(m.sd, 2e6, 2e6 * 0.03);          /* sd = mean */
    unsigned above = 0;
    for (unsigned i = 0; i < DRAWS; i++) above += x[i] > 2 * SIM_MS;
    ck_assert_double_eq_tol((double)above / DRAWS, exp(-1.0), 0.01);
    free(x);
}
END_TEST

START_TEST(test_latency_bimodal)
{
    sim_rng rng = sim_rng_derive(14, SIM_STREAM_HARNESS(11));
    sim_latency lat;
    memset(&lat, 0, sizeof lat);
    lat.base = (sim_dist){ .kind = SIM_DIST_UNIFORM, .a_ns = 1 * SIM_MS, .b_ns = 2 * SIM_MS };
    lat.tail = (sim_dist){ .kind = SIM_DIST_UNIFORM, .a_ns = 100 * SIM_MS, .b_ns = 200 * SIM_MS };
    lat.tail_ppm = 50000;
    unsigned tail = 0;
    for (unsigned i = 0; i < DRAWS; i++) {
        sim_time_ns x = sim_latency_sample(&lat, &rng);
        bool in_base = x >= 1 * SIM_MS && x <= 2 * SIM_MS;
        bool in_tail = x >= 100 * SIM_MS && x <= 200 * SIM_MS;
        TST_REQUIRE(in_base || in_tail, "draw %llu is in neither mode", (unsigned long long)x);
        tail += in_tail;
    }
    ck_assert_double_eq_tol((double)tail / DRAWS, 0.05, 0.003);
    lat.tail_ppm = 0;
    for (unsigned i = 0; i < 10000; i++) TST_REQUIRE(sim_latency_sample(&lat, &rng) <= 2 * SIM_MS, "tail drawn at tail_ppm 0");
    lat.tail_ppm = SIM_PPM;
    for (unsigned i = 0; i < 10000; i++) TST_REQUIRE(sim_latency_sample(&lat, &rng) >= 100 * SIM_MS, "base drawn at tail_ppm 10^6");
}
END_TEST

START_TEST(test_saturation)
{
    sim_rng rng = sim_rng_derive(15, SIM_STREAM_HARNESS(12));
    const sim_time_ns cap = (sim_time_ns)1 << 62;
    sim_dist normal = { .kind = SIM_DIST_NORMAL, .a_ns = cap, .b_ns = cap };
    sim_dist expo = { .kind = SIM_DIST_EXPONENTIAL, .a_ns = cap };
    sim_dist logn = { .kind = SIM_DIST_LOGNORMAL, .a_ns = cap, .sigma_milli = 10000 };
    unsigned at_cap = 0;
    for (int i = 0; i < 10000; i++) {
        TST_REQUIRE(sim_dist_sample(&normal, &rng) <= cap, "normal draw above 2^62");
        sim_time_ns e = sim_dist_sample(&expo, &rng);
        TST_REQUIRE(e <= cap, "exponential draw above 2^62");
        at_cap += e == cap;
        TST_REQUIRE(sim_dist_sample(&logn, &rng) <= cap, "lognormal draw above 2^62");
    }
    ck_assert_uint_gt(at_cap, 0);                          /* it saturates rather than wraps */
}
END_TEST

START_TEST(test_validation)
{
    sim_error err;
    sim_dist d = { .kind = SIM_DIST_UNIFORM, .a_ns = 5, .b_ns = 4 };
    TST_ERR(sim_dist_validate(&d, &err), SIM_ERR_INVALID);
    d.b_ns = 5;
    TST_OK(sim_dist_validate(&d, &err));
    d = (sim_dist){ .kind = SIM_DIST_LOGNORMAL, .a_ns = 5, .sigma_milli = 10001 };
    TST_ERR(sim_dist_validate(&d, &err), SIM_ERR_INVALID);
    d.sigma_milli = 10000;
    TST_OK(sim_dist_validate(&d, &err));
    d = (sim_dist){ .kind = (sim_dist_kind)99, .a_ns = 5 };
    TST_ERR(sim_dist_validate(&d, &err), SIM_ERR_INVALID);
    d = (sim_dist){ .kind = SIM_DIST_CONSTANT, .a_ns = ((sim_time_ns)1 << 62) + 1 };
    TST_ERR(sim_dist_validate(&d, &err), SIM_ERR_INVALID);
    d.a_ns = (sim_time_ns)1 << 62;
    TST_OK(sim_dist_validate(&d, &err));
    d = (sim_dist){ .kind = SIM_DIST_NORMAL, .a_ns = 5, .b_ns = 1 };
    TST_OK(sim_dist_validate(&d, &err));
    d = (sim_dist){ .kind = SIM_DIST_EXPONENTIAL, .a_ns = 5 };
    TST_OK(sim_dist_validate(&d, &err));
    TST_ERR(sim_dist_validate(NULL, &err), SIM_ERR_INVALID);

    sim_latency lat = sim_latency_constant(SIM_MS);
    TST_OK(sim_latency_validate(&lat, &err));
    lat.tail_ppm = SIM_PPM + 1;
    lat.tail = (sim_dist){ .kind = SIM_DIST_CONSTANT, .a_ns = SIM_S };
    TST_ERR(sim_latency_validate(&lat, &err), SIM_ERR_INVALID);
    lat.tail_ppm = SIM_PPM;
    TST_OK(sim_latency_validate(&lat, &err));
    lat.tail = (sim_dist){ .kind = SIM_DIST_UNIFORM, .a_ns = 9, .b_ns = 1 };
    TST_ERR(sim_latency_validate(&lat, &err), SIM_ERR_INVALID);   /* a bad tail */
    lat = sim_latency_constant(SIM_MS);
    lat.base = (sim_dist){ .kind = SIM_DIST_UNIFORM, .a_ns = 9, .b_ns = 1 };
    TST_ERR(sim_latency_validate(&lat, &err), SIM_ERR_INVALID);   /* a bad base */
    TST_ERR(sim_latency_validate(NULL, &err), SIM_ERR_INVALID);
}
END_TEST

/* ======================================================================== */

static Suite *rng_suite(void)
{
    Suite *s = suite_create("sim_rng");
    TCase *streams = tcase_create("streams");
    tcase_set_timeout(streams, 60);
    tcase_add_test(streams, test_known_answer);
    tcase_add_test(streams, test_derive_stable_per_entity);
    tcase_add_test(streams, test_link_stream_independent_of_cluster);
    tcase_add_test(streams, test_node_stream_independent_of_cluster);
    suite_add_tcase(s, streams);

    TCase *ints = tcase_create("integers");
    tcase_set_timeout(ints, 60);
    tcase_add_test(ints, test_below_chi_square);
    tcase_add_test(ints, test_below_small_bounds);
    tcase_add_test(ints, test_below_huge_bounds);
    tcase_add_test(ints, test_chance_ppm);
    tcase_add_test(ints, test_unit_and_normal);
    suite_add_tcase(s, ints);

    TCase *dists = tcase_create("distributions");
    tcase_set_timeout(dists, 60);
    tcase_add_test(dists, test_dist_constant);
    tcase_add_test(dists, test_dist_uniform);
    tcase_add_test(dists, test_dist_normal);
    tcase_add_test(dists, test_dist_lognormal);
    tcase_add_test(dists, test_dist_exponential);
    tcase_add_test(dists, test_latency_bimodal);
    tcase_add_test(dists, test_saturation);
    tcase_add_test(dists, test_validation);
    suite_add_tcase(s, dists);
    return s;
}

int main(void)
{
    return tst_run_suite(rng_suite());
}
