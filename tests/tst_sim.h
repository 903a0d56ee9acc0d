/* tst_sim.h: small helpers shared by the engine's Check suites.
 *
 * Everything here is static inline so that each test executable (one per
 * tests/test_*.c) compiles its own copy and unused helpers cost no warning.
 * Nothing here reads the wall clock: every test runs in virtual time. */
#ifndef TST_SIM_H
#define TST_SIM_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim_engine.h"
#include "sim_net.h"

/* A check for hot loops.  A passing ck_assert records its location (in
 * fork mode a write to the runner's pipe), which dominates a loop of 10^5
 * draws; this one costs nothing unless it fails. */
#define TST_REQUIRE(cond, ...)                                                               \
    do {                                                                                     \
        if (!(cond)) ck_abort_msg(__VA_ARGS__);                                              \
    } while (0)

/* Asserts that a call which takes `&err` last succeeded; prints the error
 * message otherwise.  Needs a `sim_error err` in scope. */
#define TST_OK(expr)                                                                         \
    do {                                                                                     \
        memset(&err, 0, sizeof err);                                                         \
        sim_status tst_st_ = (expr);                                                         \
        TST_REQUIRE(tst_st_ == SIM_OK, "%s failed: %s: %s: %s", #expr,                       \
                    sim_status_name(tst_st_), err.where, err.message);                      \
    } while (0)

/* Asserts that a call failed with `status`, returned it and filled `err`
 * with a place and a message.  Needs a `sim_error err` in scope. */
#define TST_ERR(expr, want)                                                                  \
    do {                                                                                     \
        memset(&err, 0, sizeof err);                                                         \
        sim_status tst_st_ = (expr);                                                         \
        ck_assert_msg(tst_st_ == (want), "%s returned %s, expected %s", #expr,              \
                      sim_status_name(tst_st_), sim_status_name(want));                     \
        ck_assert_int_eq(err.status, (want));                                                \
        ck_assert_msg(err.message[0] != '\0', "%s: the error has no message", #expr);       \
        ck_assert_msg(err.where[0] != '\0', "%s: the error does not say where", #expr);     \
    } while (0)

static inline sim_config tst_config(uint64_t seed, uint32_t node_count)
{
    sim_config config;
    memset(&config, 0, sizeof config);
    config.seed = seed;
    config.node_count = node_count;
    return config;
}

static inline sim_engine *tst_engine(const sim_config *config)
{
    sim_error err;
    memset(&err, 0, sizeof err);
    sim_engine *sim = sim_engine_create(config, &err);
    ck_assert_msg(sim != NULL, "sim_engine_create failed: %s", err.message);
    return sim;
}

/* Starts every node at time 0 and runs until they are all up. */
static inline void tst_start_all(sim_engine *sim)
{
    sim_error err;
    for (uint32_t n = 0; n < sim_node_count(sim); n++) TST_OK(sim_node_start(sim, n, 0, &err));
    sim_run_until(sim, sim_now(sim));
    for (uint32_t n = 0; n < sim_node_count(sim); n++) {
        ck_assert_int_eq(sim_node_state_get(sim, n), SIM_NODE_UP);
    }
}

/* A payload whose destroy only counts, so a test can check that it is
 * destroyed exactly once and never touched afterwards (the memory stays
 * valid: it belongs to the test). */
typedef struct tst_payload {
    sim_payload base;        /* first: the engine sees a sim_payload */
    uint32_t destroyed;      /* destroy calls; must end at exactly 1 */
    uint32_t id;
} tst_payload;

static inline void tst_payload_destroy(sim_payload *payload)
{
    tst_payload *p = (tst_payload *)payload;
    ck_assert_uint_eq(p->base.refs, 0);
    p->destroyed++;
}

static inline sim_payload *tst_payload_init(tst_payload *p, uint32_t id)
{
    memset(p, 0, sizeof *p);
    p->base.refs = 1;
    p->base.destroy = tst_payload_destroy;
    p->id = id;
    return &p->base;
}

/* Every payload in `p[0..n)` was destroyed exactly once. */
static inline void tst_payloads_destroyed_once(const tst_payload *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(p[i].destroyed == 1, "payload %zu (id %u) destroyed %u times, refs %u", i, p[i].id,
                      p[i].destroyed, p[i].base.refs);
    }
}

/* Runs a suite with the default runner; returns the process exit code. */
static inline int tst_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
