/* test_sim_selfcheck.c: the determinism promise and the self-check.
 *
 * "Same binary, scenario and seed: the same run, bit for bit."  The workload
 * is a small random mesh: every node ticks with jitter from its own stream,
 * sends one-way messages and requests to random peers over lossy,
 * duplicating, reordering links with uniform latencies, and a nemesis
 * crashes, restarts, pauses and partitions nodes.  Run twice in the same
 * process it must give the same trace hash (and the same statistics); with
 * another seed a different one; and sim_selfcheck must find the first event
 * at which a deliberately perturbed run departs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_engine.h"
#include "sim_net.h"
#include "sim_selfcheck.h"
#include "tst_sim.h"

#define MESH_NODES 6u
#define MESH_STOP_NS (2 * SIM_S)
#define KIND_TICK (SIM_KIND_USER + 1)
#define KIND_NEMESIS (SIM_KIND_USER + 2)
#define KIND_EXTRA (SIM_KIND_USER + 7)

typedef struct mesh {
    sim_engine *sim;
    uint64_t received;
    uint64_t requests;
    uint64_t outcomes[3];    /* by sim_rpc_status */
} mesh;

static void mesh_arm_tick(sim_engine *sim, mesh *m, sim_node_id node);
static sim_rpc_fn mesh_outcome;

static void mesh_tick(sim_engine *sim, void *ctx, uint64_t arg)
{
    mesh *m = ctx;
    sim_node_id node = (sim_node_id)arg;
    sim_rng *rng = sim_node_rng(sim, node);
    sim_error err;
    sim_node_id peer = (sim_node_id)sim_rng_below(rng, MESH_NODES);
    uint32_t bytes = (uint32_t)sim_rng_below(rng, 2000);
    TST_OK(sim_net_send(sim, node, peer, 1, bytes, NULL, &err));
    if (sim_rng_chance_ppm(rng, 300000)) {
        sim_node_id callee = (sim_node_id)sim_rng_below(rng, MESH_NODES);
        TST_OK(sim_rpc_call(sim, node, callee, 2, 64, NULL, 20 * SIM_MS, mesh_outcome, m, node, &err));
    }
    mesh_arm_tick(sim, m, node);
}

static void mesh_outcome(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *response)
{
    (void)sim;
    (void)arg;
    (void)response;
    mesh *m = ctx;
    m->outcomes[status]++;
}

static void mesh_arm_tick(sim_engine *sim, mesh *m, sim_node_id node)
{
    sim_error err;
    sim_time_ns jitter = sim_rng_below(sim_node_rng(sim, node), 5 * SIM_MS);
    TST_OK(sim_timer_start(sim, node, 10 * SIM_MS + jitter, KIND_TICK, mesh_tick, m, node, NULL, &err));
}

static void mesh_start(sim_engine *sim, sim_node_id node, void *ctx)
{
    mesh_arm_tick(sim, ctx, node);
}

static void mesh_on_message(sim_engine *sim, sim_node_id node, void *ctx, const sim_message *msg)
{
    (void)sim;
    (void)node;
    (void)msg;
    ((mesh *)ctx)->received++;
}

static void mesh_on_request(sim_engine *sim, sim_node_id node, void *ctx, const sim_message *msg,
                            sim_rpc_token token)
{
    (void)msg;
    mesh *m = ctx;
    m->requests++;
    sim_error err;
    if (sim_rng_chance_ppm(sim_node_rng(sim, node), 800000)) {
        TST_OK(sim_rpc_reply(sim, token, 3, 128, NULL, &err));
    }
}

static const sim_node_ops mesh_ops = {
    .start = mesh_start, .on_message = mesh_on_message, .on_request = mesh_on_request,
};

/* The nemesis: arg selects the action. */
enum { NEM_RESTART_2, NEM_PAUSE_3, NEM_PARTITION, NEM_HEAL, NEM_CRASH_4, NEM_START_4 };

static void mesh_nemesis(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)ctx;
    sim_error err;
    static const uint32_t groups[MESH_NODES] = { 0, 0, 0, 1, 1, 1 };
    switch (arg) {
    case NEM_RESTART_2: TST_OK(sim_node_restart(sim, 2, 50 * SIM_MS, &err)); break;
    case NEM_PAUSE_3: TST_OK(sim_node_pause(sim, 3, 80 * SIM_MS, &err)); break;
    case NEM_PARTITION: TST_OK(sim_net_partition(sim, groups, MESH_NODES, &err)); break;
    case NEM_HEAL: sim_net_heal_all(sim); break;
    case NEM_CRASH_4: TST_OK(sim_node_crash(sim, 4, &err)); break;
    case NEM_START_4: TST_OK(sim_node_start(sim, 4, 0, &err)); break;
    default: ck_abort_msg("unknown nemesis action %llu", (unsigned long long)arg);
    }
}

/* Builds the mesh and schedules the nemesis; nothing runs yet. */
static sim_engine *mesh_build(mesh *m, uint64_t seed, bool trace_record, uint64_t budget)
{
    memset(m, 0, sizeof *m);
    sim_config config = tst_config(seed, MESH_NODES);
    config.trace_record = trace_record;
    config.stop_at_ns = MESH_STOP_NS;
    config.events_budget = budget;
    sim_engine *sim = tst_engine(&config);
    m->sim = sim;
    sim_error err;
    sim_link_params p = sim_link_params_default();
    p.latency.base = (sim_dist){ .kind = SIM_DIST_UNIFORM, .a_ns = 1 * SIM_MS, .b_ns = 20 * SIM_MS };
    p.latency.tail = (sim_dist){ .kind = SIM_DIST_EXPONENTIAL, .a_ns = 50 * SIM_MS };
    p.latency.tail_ppm = 20000;
    p.loss_ppm = 50000;
    p.duplicate_ppm = 20000;
    p.reorder = true;
    TST_OK(sim_net_set_default(sim, &p, &err));
    sim_link_params fifo = p;
    fifo.reorder = false;
    fifo.bandwidth_bytes_per_s = 1000000;
    TST_OK(sim_net_set_link(sim, 0, 1, &fifo, &err));
    for (sim_node_id n = 0; n < MESH_NODES; n++) {
        TST_OK(sim_node_attach(sim, n, &mesh_ops, m, &err));
        TST_OK(sim_node_start(sim, n, n * SIM_MS, &err));
    }
    TST_OK(sim_node_set_clock(sim, 5, 3 * SIM_MS, 2000, &err));
    const struct { sim_time_ns at_ns; uint64_t action; } plan[] = {
        { 300 * SIM_MS, NEM_RESTART_2 }, { 500 * SIM_MS, NEM_PAUSE_3 }, { 700 * SIM_MS, NEM_PARTITION },
        { 800 * SIM_MS, NEM_HEAL },      { 1100 * SIM_MS, NEM_CRASH_4 }, { 1300 * SIM_MS, NEM_START_4 },
    };
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        TST_OK(sim_schedule_at(sim, plan[i].at_ns, KIND_NEMESIS, mesh_nemesis, m, plan[i].action, NULL, &err));
    }
    return sim;
}

static sim_engine *mesh_run(mesh *m, uint64_t seed, bool trace_record)
{
    sim_engine *sim = mesh_build(m, seed, trace_record, 0);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_TIME);
    ck_assert_uint_eq(sim_now(sim), MESH_STOP_NS);
    return sim;
}

/* ========================================================================
 * Determinism
 * ======================================================================== */

static void assert_same_stats(const sim_engine *a, const sim_engine *b)
{
    for (sim_node_id src = 0; src < MESH_NODES; src++) {
        for (sim_node_id dst = 0; dst < MESH_NODES; dst++) {
            for (uint16_t type = 1; type <= 3; type++) {
                sim_msg_stats x = sim_net_stats(a, src, dst, type);
                sim_msg_stats y = sim_net_stats(b, src, dst, type);
                ck_assert_msg(memcmp(&x, &y, sizeof x) == 0, "stats of %u->%u type %u differ", src, dst, type);
            }
        }
    }
}

START_TEST(test_same_seed_same_trace)
{
    mesh m1, m2;
    sim_engine *a = mesh_run(&m1, 42, false);
    sim_engine *b = mesh_run(&m2, 42, false);
    ck_assert_uint_gt(sim_events_processed(a), 2000);     /* a real workload ran */
    ck_assert_uint_gt(m1.received, 500);
    ck_assert_uint_gt(m1.outcomes[SIM_RPC_OK], 10);
    ck_assert_uint_gt(m1.outcomes[SIM_RPC_TIMEOUT], 0);
    ck_assert_uint_gt(m1.outcomes[SIM_RPC_REFUSED], 0);
    ck_assert_uint_gt(sim_node_incarnation(a, 2), 1);     /* the nemesis acted */
    ck_assert_uint_eq(sim_trace_hash(a), sim_trace_hash(b));
    ck_assert_uint_eq(sim_events_processed(a), sim_events_processed(b));
    ck_assert_uint_eq(m1.received, m2.received);
    ck_assert_int_eq(memcmp(m1.outcomes, m2.outcomes, sizeof m1.outcomes), 0);
    assert_same_stats(a, b);
    sim_engine_destroy(a);
    sim_engine_destroy(b);
}
END_TEST

START_TEST(test_different_seed_different_trace)
{
    mesh m1, m2;
    sim_engine *a = mesh_run(&m1, 42, false);
    sim_engine *b = mesh_run(&m2, 43, false);
    ck_assert_uint_ne(sim_trace_hash(a), sim_trace_hash(b));
    sim_engine_destroy(a);
    sim_engine_destroy(b);
}
END_TEST

/* Two engines stepped alternately in one process do not interfere: each
 * ends exactly as it does when run alone. */
START_TEST(test_interleaved_engines_do_not_interfere)
{
    mesh ref_m, m1, m2;
    sim_engine *ref = mesh_run(&ref_m, 7, false);
    sim_engine *a = mesh_build(&m1, 7, false, 0);
    sim_engine *b = mesh_build(&m2, 8, false, 0);
    for (sim_time_ns t = 10 * SIM_MS; t <= MESH_STOP_NS; t += 10 * SIM_MS) {
        sim_run_until(a, t);
        sim_run_until(b, t);
    }
    ck_assert_uint_eq(sim_trace_hash(a), sim_trace_hash(ref));
    ck_assert_uint_eq(sim_events_processed(a), sim_events_processed(ref));
    assert_same_stats(a, ref);
    mesh alone_m;
    sim_engine *alone = mesh_run(&alone_m, 8, false);
    ck_assert_uint_eq(sim_trace_hash(b), sim_trace_hash(alone));
    sim_engine_destroy(ref);
    sim_engine_destroy(a);
    sim_engine_destroy(b);
    sim_engine_destroy(alone);
}
END_TEST

static int cmp_seq(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

START_TEST(test_trace_records)
{
    mesh m1, m2;
    sim_engine *plain = mesh_run(&m1, 5, false);
    sim_engine *traced = mesh_run(&m2, 5, true);
    ck_assert_uint_eq(sim_trace_hash(plain), sim_trace_hash(traced));   /* recording changes nothing */
    size_t n = 99;
    sim_trace_records(plain, &n);
    ck_assert_uint_eq(n, 0);
    const sim_trace_record *r = sim_trace_records(traced, &n);
    ck_assert_uint_eq(n, sim_events_processed(traced));
    ck_assert_ptr_nonnull(r);
    size_t nemesis = 0;
    uint64_t *seqs = malloc(n * sizeof *seqs);
    ck_assert_ptr_nonnull(seqs);
    for (size_t i = 0; i < n; i++) {
        seqs[i] = r[i].seq;
        if (i > 0) ck_assert_uint_ge(r[i].at_ns, r[i - 1].at_ns);   /* time never goes backwards */
        ck_assert_uint_le(r[i].at_ns, MESH_STOP_NS);
        if (r[i].kind == KIND_NEMESIS) {
            ck_assert_uint_eq(r[i].node, SIM_NODE_NONE);
            nemesis++;
        }
        if (r[i].kind == KIND_TICK) ck_assert_uint_lt(r[i].node, MESH_NODES);
    }
    ck_assert_uint_eq(nemesis, 6);
    /* Sequence numbers are unique per engine. */
    qsort(seqs, n, sizeof *seqs, cmp_seq);
    for (size_t i = 1; i < n; i++) ck_assert_uint_ne(seqs[i], seqs[i - 1]);
    free(seqs);
    sim_engine_destroy(plain);
    sim_engine_destroy(traced);
}
END_TEST

/* sim_trace_hash covers every processed event's (time, seq, kind, node,
 * incarnation): two runs that differ in one field only hash differently. */
typedef struct hash_case {
    sim_time_ns at_ns;
    uint16_t kind;
    sim_node_id node;        /* SIM_NODE_NONE: a harness event */
    bool burn_seq_first;     /* schedule and cancel a dummy first: shifts seq */
    bool restart_first;      /* restart the node first: a later incarnation */
} hash_case;

static void hash_nop(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)ctx;
    (void)arg;
}

static uint64_t hash_of(const hash_case *hc, sim_trace_record *last)
{
    sim_config config = tst_config(3, 2);
    config.trace_record = true;
    sim_engine *sim = tst_engine(&config);
    sim_error err;
    tst_start_all(sim);
    sim_event_id dummy;
    if (hc->restart_first) {
        TST_OK(sim_node_restart(sim, hc->node, 0, &err));
    } else {
        TST_OK(sim_schedule(sim, 0, SIM_KIND_NODE_START, hash_nop, NULL, 0, NULL, &err));   /* same shape */
    }
    sim_run_until(sim, sim_now(sim));
    if (hc->burn_seq_first) {
        TST_OK(sim_schedule(sim, SIM_MS, KIND_EXTRA, hash_nop, NULL, 0, &dummy, &err));
        ck_assert(sim_cancel(sim, dummy));
    }
    if (hc->node == SIM_NODE_NONE) {
        TST_OK(sim_schedule_at(sim, hc->at_ns, hc->kind, hash_nop, NULL, 0, NULL, &err));
    } else {
        TST_OK(sim_timer_start(sim, hc->node, hc->at_ns, hc->kind, hash_nop, NULL, 0, NULL, &err));
    }
    if (!hc->burn_seq_first) {
        TST_OK(sim_schedule(sim, SIM_MS, KIND_EXTRA, hash_nop, NULL, 0, &dummy, &err));
        ck_assert(sim_cancel(sim, dummy));
    }
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    size_t n;
    const sim_trace_record *r = sim_trace_records(sim, &n);
    ck_assert_uint_gt(n, 0);
    *last = r[n - 1];
    uint64_t h = sim_trace_hash(sim);
    sim_engine_destroy(sim);
    return h;
}

START_TEST(test_trace_hash_covers_each_field)
{
    const hash_case base = { .at_ns = 10 * SIM_MS, .kind = KIND_EXTRA, .node = 1 };
    hash_case variant[5] = { base, base, base, base, base };
    variant[0].at_ns = 11 * SIM_MS;
    variant[1].burn_seq_first = true;
    variant[2].kind = KIND_EXTRA + 1;
    variant[3].node = 0;
    variant[4].restart_first = true;
    sim_trace_record r0, r;
    uint64_t h0 = hash_of(&base, &r0);
    ck_assert_uint_eq(hash_of(&base, &r), h0);
    for (int i = 0; i < 5; i++) {
        uint64_t h = hash_of(&variant[i], &r);
        ck_assert_msg(h != h0, "variant %d hashes like the base run", i);
        /* Each variant differs from the base in exactly the one field. */
        int fields = (r.at_ns != r0.at_ns) + (r.seq != r0.seq) + (r.kind != r0.kind) + (r.node != r0.node) +
                     (r.incarnation != r0.incarnation);
        ck_assert_int_eq(fields, 1);
    }
}
END_TEST

/* ========================================================================
 * sim_selfcheck
 * ======================================================================== */

typedef struct check_ctx {
    uint64_t seed;
    sim_time_ns extra_at_ns;      /* 0: no perturbation */
    uint16_t extra_kind[2];       /* per run: the extra event's kind; 0: none */
    uint64_t budget_run1;         /* 0: none */
    int fail_run;                 /* -1: none; else the run that fails */
    mesh m[2];
    uint64_t processed_at_extra[2];
} check_ctx;

static void extra_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)ctx;
    (void)arg;
}

static sim_engine *check_run(void *ctx, unsigned run_index, sim_error *err)
{
    check_ctx *c = ctx;
    ck_assert_uint_lt(run_index, 2);
    if ((int)run_index == c->fail_run) {
        sim_error_set(err, SIM_ERR_SCENARIO, "check_run", "run %u fails on purpose", run_index);
        return NULL;
    }
    uint64_t budget = run_index == 1 ? c->budget_run1 : 0;
    sim_engine *sim = mesh_build(&c->m[run_index], c->seed, true, budget);
    if (c->extra_at_ns != 0) {
        /* Both runs stop at T; then each may schedule one more event there. */
        sim_run_until(sim, c->extra_at_ns);
        c->processed_at_extra[run_index] = sim_events_processed(sim);
        if (c->extra_kind[run_index] != 0) {
            sim_error local;
            sim_status st = sim_schedule_at(sim, c->extra_at_ns, c->extra_kind[run_index], extra_fire, NULL, 0, NULL, &local);
            ck_assert_int_eq(st, SIM_OK);
        }
    }
    sim_run(sim);
    return sim;
}

static check_ctx *check_ctx_new(uint64_t seed)
{
    check_ctx *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->seed = seed;
    c->fail_run = -1;
    return c;
}

START_TEST(test_selfcheck_same)
{
    check_ctx *c = check_ctx_new((uint64_t)_i);
    sim_selfcheck_result res;
    sim_error err;
    TST_OK(sim_selfcheck(check_run, c, &res, &err));
    ck_assert_msg(res.same, "seed %d: two identical runs differ at event %zu", _i, res.first_diff);
    ck_assert_uint_eq(res.hash[0], res.hash[1]);
    ck_assert_uint_eq(res.events[0], res.events[1]);
    ck_assert_uint_gt(res.events[0], 1000);
    ck_assert(!res.has_record[0] && !res.has_record[1]);
    char buf[512];
    sim_selfcheck_describe(&res, buf, sizeof buf);
    ck_assert_ptr_null(strstr(buf, "NOT deterministic"));
    ck_assert_ptr_nonnull(strstr(buf, "deterministic"));
    free(c);
}
END_TEST

START_TEST(test_selfcheck_finds_perturbation)
{
    check_ctx *c = check_ctx_new(42);
    const sim_time_ns t = 777 * SIM_MS + 123;
    c->extra_at_ns = t;
    c->extra_kind[1] = KIND_EXTRA;
    sim_selfcheck_result res;
    sim_error err;
    TST_OK(sim_selfcheck(check_run, c, &res, &err));
    ck_assert(!res.same);
    ck_assert_uint_ne(res.hash[0], res.hash[1]);
    ck_assert_uint_eq(c->processed_at_extra[0], c->processed_at_extra[1]);
    ck_assert_uint_gt(c->processed_at_extra[0], 100);
    /* The first difference is the extra event itself. */
    ck_assert_uint_eq(res.first_diff, c->processed_at_extra[0]);
    ck_assert(res.has_record[1]);
    ck_assert_uint_eq(res.record[1].at_ns, t);
    ck_assert_uint_eq(res.record[1].kind, KIND_EXTRA);
    ck_assert_uint_eq(res.record[1].node, SIM_NODE_NONE);
    ck_assert(res.has_record[0]);
    ck_assert_uint_gt(res.record[0].at_ns, t);             /* run 0 went on with its next event */
    ck_assert_uint_ne(res.record[0].kind, KIND_EXTRA);
    char buf[1024];
    sim_selfcheck_describe(&res, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "NOT deterministic"));
    free(c);
}
END_TEST

/* Both runs add an event at T, of different kinds: the records at the
 * first difference share time and seq and differ only in kind. */
START_TEST(test_selfcheck_finds_kind_difference)
{
    check_ctx *c = check_ctx_new(42);
    const sim_time_ns t = 1234 * SIM_MS;
    c->extra_at_ns = t;
    c->extra_kind[0] = KIND_EXTRA;
    c->extra_kind[1] = KIND_EXTRA + 1;
    sim_selfcheck_result res;
    sim_error err;
    TST_OK(sim_selfcheck(check_run, c, &res, &err));
    ck_assert(!res.same);
    ck_assert_uint_eq(res.events[0], res.events[1]);
    ck_assert_uint_eq(res.first_diff, c->processed_at_extra[0]);
    ck_assert(res.has_record[0] && res.has_record[1]);
    ck_assert_uint_eq(res.record[0].at_ns, t);
    ck_assert_uint_eq(res.record[1].at_ns, t);
    ck_assert_uint_eq(res.record[0].seq, res.record[1].seq);
    ck_assert_uint_eq(res.record[0].kind, KIND_EXTRA);
    ck_assert_uint_eq(res.record[1].kind, KIND_EXTRA + 1);
    free(c);
}
END_TEST

START_TEST(test_selfcheck_truncated_run)
{
    check_ctx *c = check_ctx_new(42);
    c->budget_run1 = 1000;
    sim_selfcheck_result res;
    sim_error err;
    TST_OK(sim_selfcheck(check_run, c, &res, &err));
    ck_assert(!res.same);
    ck_assert_uint_eq(res.events[1], 1000);
    ck_assert_uint_gt(res.events[0], 1000);
    ck_assert_uint_eq(res.first_diff, 1000);
    ck_assert(res.has_record[0]);
    ck_assert(!res.has_record[1]);
    char buf[1024];
    sim_selfcheck_describe(&res, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "NOT deterministic"));
    free(c);
}
END_TEST

START_TEST(test_selfcheck_errors)
{
    check_ctx *c = check_ctx_new(1);
    sim_selfcheck_result res;
    sim_error err;
    TST_ERR(sim_selfcheck(NULL, c, &res, &err), SIM_ERR_INVALID);
    TST_ERR(sim_selfcheck(check_run, c, NULL, &err), SIM_ERR_INVALID);
    c->fail_run = 0;
    TST_ERR(sim_selfcheck(check_run, c, &res, &err), SIM_ERR_SCENARIO);
    c->fail_run = 1;                                       /* run 0's engine must be freed (ASan) */
    TST_ERR(sim_selfcheck(check_run, c, &res, &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(err.where, "check_run");
    free(c);
}
END_TEST

/* ======================================================================== */

static Suite *selfcheck_suite(void)
{
    Suite *s = suite_create("sim_selfcheck");
    TCase *det = tcase_create("determinism");
    tcase_set_timeout(det, 60);
    tcase_add_test(det, test_same_seed_same_trace);
    tcase_add_test(det, test_different_seed_different_trace);
    tcase_add_test(det, test_interleaved_engines_do_not_interfere);
    tcase_add_test(det, test_trace_records);
    tcase_add_test(det, test_trace_hash_covers_each_field);
    suite_add_tcase(s, det);

    TCase *sc = tcase_create("selfcheck");
    tcase_set_timeout(sc, 60);
    tcase_add_loop_test(sc, test_selfcheck_same, 0, 10);
    tcase_add_test(sc, test_selfcheck_finds_perturbation);
    tcase_add_test(sc, test_selfcheck_finds_kind_difference);
    tcase_add_test(sc, test_selfcheck_truncated_run);
    tcase_add_test(sc, test_selfcheck_errors);
    suite_add_tcase(s, sc);
    return s;
}

int main(void)
{
    return tst_run_suite(selfcheck_suite());
}
