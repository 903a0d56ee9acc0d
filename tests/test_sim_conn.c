/* test_sim_conn.c: the connection layer: connect, retransmission, crash,
 * pause, pools and determinism.
 *
 * A world has three nodes on constant 1 ms links (a round trip of 2 ms):
 * node 0 is the client with one pool, nodes 1 and 2 are servers whose
 * handler records each request and answers at once or holds the token.
 * Every expected instant is derived from the layer's default constants. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sim_conn.h"
#include "sim_engine.h"
#include "sim_net.h"
#include "tst_sim.h"

#define LAT SIM_MS                /* one-way latency */
#define RTT (2 * LAT)
#define MAX_REC 64u

typedef struct got {
    sim_time_ns at_ns;
    uint64_t arg;
    sim_conn_result res;
} got;

typedef struct served {
    sim_time_ns at_ns;
    uint64_t tag;
    uint32_t bytes;
} served;

typedef struct world {
    sim_engine *sim;
    sim_conn_net *cn;
    sim_conn_pool_id pool;
    got out[MAX_REC];
    uint32_t out_len;
    served in[MAX_REC];
    uint32_t in_len;
    bool hold;                    /* node 1 keeps tokens instead of answering */
    sim_conn_token held[MAX_REC];
    uint32_t held_len;
    uint32_t resp_bytes;
} world;

static const sim_node_ops no_ops = {NULL, NULL, NULL, NULL};

static void on_server(sim_engine *sim, sim_node_id server, void *ctx, sim_node_id client, uint32_t bytes,
                      uint64_t tag, sim_payload *payload, sim_conn_token token)
{
    (void)client;
    (void)payload;
    world *w = ctx;
    TST_REQUIRE(w->in_len < MAX_REC, "too many requests");
    w->in[w->in_len++] = (served){sim_now(sim), tag, bytes};
    if (w->hold && server == 1) {
        w->held[w->held_len++] = token;
        return;
    }
    sim_error err;
    TST_OK(sim_conn_respond(w->cn, token, 0, w->resp_bytes, NULL, &err));
}

static void on_result(sim_engine *sim, void *ctx, uint64_t arg, const sim_conn_result *res)
{
    world *w = ctx;
    TST_REQUIRE(w->out_len < MAX_REC, "too many outcomes");
    w->out[w->out_len++] = (got){sim_now(sim), arg, *res};
}

static void world_init(world *w, uint64_t seed, const sim_conn_pool_params *pp)
{
    memset(w, 0, sizeof *w);
    sim_config config = tst_config(seed, 3);
    w->sim = tst_engine(&config);
    sim_error err;
    for (uint32_t n = 0; n < 3; n++) TST_OK(sim_node_attach(w->sim, n, &no_ops, w, &err));
    tst_start_all(w->sim);
    w->cn = sim_conn_net_create(w->sim, NULL, &err);
    ck_assert_ptr_nonnull(w->cn);
    TST_OK(sim_conn_listen(w->cn, 1, on_server, w, &err));
    TST_OK(sim_conn_listen(w->cn, 2, on_server, w, &err));
    TST_OK(sim_conn_pool_create(w->cn, 0, pp, &w->pool, &err));
    w->resp_bytes = 500;
}

static void world_free(world *w)
{
    sim_conn_net_destroy(w->cn);
    sim_engine_destroy(w->sim);
}

static void request(world *w, sim_node_id dst, uint64_t tag, sim_conn_timeouts to)
{
    sim_error err;
    TST_OK(sim_conn_request(w->cn, w->pool, dst, 1000, tag, NULL, &to, on_result, w, tag, &err));
}

static const sim_conn_timeouts NO_TIMEOUTS = {0, 0, 0};

/* Runs until `at` and checks nothing is pending before. */
static void run_to(world *w, sim_time_ns at)
{
    sim_run_until(w->sim, at);
}

/* One good exchange, leaving an idle connection in the pool. */
static void warm_up(world *w, sim_node_id dst)
{
    request(w, dst, 999, NO_TIMEOUTS);
    run_to(w, sim_now(w->sim) + SIM_S);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].res.outcome, SIM_CONN_OK);
    w->out_len = 0;
    w->in_len = 0;
}

START_TEST(refused_after_one_round_trip)
{
    world w;
    world_init(&w, 1, NULL);
    sim_error err;
    TST_OK(sim_node_crash(w.sim, 1, &err));
    sim_time_ns t0 = sim_now(w.sim);
    request(&w, 1, 1, NO_TIMEOUTS);
    run_to(&w, t0 + 300 * SIM_S);
    ck_assert_uint_eq(w.out_len, 1);
    ck_assert_int_eq(w.out[0].res.outcome, SIM_CONN_REFUSED);
    ck_assert_uint_eq(w.out[0].at_ns, t0 + RTT);
    world_free(&w);
}
END_TEST

START_TEST(black_hole_connect_syn_retries)
{
    sim_conn_params p = sim_conn_params_default();
    sim_time_ns limit = 0;
    for (uint32_t i = 0; i <= p.syn_retries; i++) limit += p.syn_rto_ns << i;
    ck_assert_uint_eq(limit, 127 * SIM_S);
    world w;
    world_init(&w, 1, NULL);
    sim_error err;
    TST_OK(sim_net_isolate(w.sim, 1, &err));
    sim_time_ns t0 = sim_now(w.sim);
    request(&w, 1, 1, NO_TIMEOUTS);
    sim_conn_timeouts short_connect = {5 * SIM_S, 0, 0};
    request(&w, 2, 2, NO_TIMEOUTS);    /* a healthy route is unaffected */
    run_to(&w, t0 + 1);
    request(&w, 1, 3, short_connect);
    run_to(&w, t0 + 300 * SIM_S);
    ck_assert_uint_eq(w.out_len, 3);
    ck_assert_uint_eq(w.out[0].arg, 2);
    ck_assert_int_eq(w.out[0].res.outcome, SIM_CONN_OK);
    ck_assert_uint_eq(w.out[1].arg, 3);
    ck_assert_int_eq(w.out[1].res.outcome, SIM_CONN_CONNECT_TIMEOUT);
    ck_assert_uint_eq(w.out[1].at_ns, t0 + 1 + 5 * SIM_S);
    ck_assert_uint_eq(w.out[2].arg, 1);
    ck_assert_int_eq(w.out[2].res.outcome, SIM_CONN_CONNECT_TIMEOUT);
    ck_assert_uint_eq(w.out[2].at_ns, t0 + limit);
    world_free(&w);
}
END_TEST

static void heal_all(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)ctx;
    (void)arg;
    sim_net_heal_all(sim);
}

START_TEST(short_black_hole_delays_without_timeout)
{
    world w;
    world_init(&w, 1, NULL);
    sim_error err;
    warm_up(&w, 1);
    sim_conn_params p = sim_conn_params_default();
    sim_time_ns rto = RTT + p.rto_min_ns;
    TST_OK(sim_net_isolate(w.sim, 1, &err));
    sim_time_ns t0 = sim_now(w.sim);
    TST_OK(sim_schedule(w.sim, SIM_S, SIM_KIND_USER, heal_all, NULL, 0, NULL, &err));
    request(&w, 1, 7, NO_TIMEOUTS);
    run_to(&w, t0 + 100 * SIM_S);
    ck_assert_uint_eq(w.out_len, 1);
    ck_assert_int_eq(w.out[0].res.outcome, SIM_CONN_OK);
    ck_assert(w.out[0].res.reused);
    /* Sent at 0, resent at rto, 3 rto, 7 rto (the first after the heal). */
    ck_assert(7 * rto >= SIM_S && 3 * rto < SIM_S);
    ck_assert_uint_eq(w.out[0].at_ns, t0 + 7 * rto + RTT);
    ck_assert_uint_eq(sim_conn_net_stats(w.cn).retransmissions, 3);
    world_free(&w);
}
END_TEST

START_TEST(loss_delays_but_delivers_in_order)
{
    sim_conn_pool_params pp = sim_conn_pool_params_default();
    pp.max_per_route = 1;
    world w;
    world_init(&w, 3, &pp);
    sim_error err;
    warm_up(&w, 1);
    sim_link_params lossy = sim_link_params_default();
    lossy.loss_ppm = SIM_PPM / 2;
    TST_OK(sim_net_set_default(w.sim, &lossy, &err));
    sim_time_ns t0 = sim_now(w.sim);
    for (uint64_t i = 0; i < 30; i++) request(&w, 1, i, NO_TIMEOUTS);
    run_to(&w, t0 + 3600 * SIM_S);
    ck_assert_uint_eq(w.out_len, 30);
    ck_assert_uint_eq(w.in_len, 30);
    for (uint32_t i = 0; i < 30; i++) {
        ck_assert_uint_eq(w.in[i].tag, i);
        ck_assert_uint_eq(w.out[i].arg, i);
        ck_assert_int_eq(w.out[i].res.outcome, SIM_CONN_OK);
    }
    sim_conn_stats st = sim_conn_net_stats(w.cn);
    ck_assert_uint_gt(st.retransmissions, 10);
    ck_assert_uint_eq(st.connects, 1);
    /* Without loss 30 exchanges take 30 round trips; loss adds RTOs. */
    ck_assert_uint_gt(w.out[29].at_ns - t0, 30 * RTT + 10 * sim_conn_params_default().rto_min_ns);
    world_free(&w);
}
END_TEST

START_TEST(request_lands_after_heal_past_read_timeout)
{
    world w;
    world_init(&w, 1, NULL);
    sim_error err;
    warm_up(&w, 1);
    sim_time_ns rto = RTT + sim_conn_params_default().rto_min_ns;
    TST_OK(sim_net_isolate(w.sim, 1, &err));
    sim_time_ns t0 = sim_now(w.sim);
    TST_OK(sim_schedule(w.sim, 10 * SIM_S, SIM_KIND_USER, heal_all, NULL, 0, NULL, &err));
    sim_conn_timeouts to = {0, SIM_S, 0};
    request(&w, 1, 42, to);
    run_to(&w, t0 + 100 * SIM_S);
    ck_assert_uint_eq(w.out_len, 1);
    ck_assert_int_eq(w.out[0].res.outcome, SIM_CONN_READ_TIMEOUT);
    ck_assert_uint_eq(w.out[0].at_ns, t0 + SIM_S);
    /* The orphaned request is resent at (2^k - 1) rto: the first after
     * 10 s is k = 6. */
    ck_assert(63 * rto >= 10 * SIM_S && 31 * rto < 10 * SIM_S);
    ck_assert_uint_eq(w.in_len, 1);
    ck_assert_uint_eq(w.in[0].tag, 42);
    ck_assert_uint_eq(w.in[0].at_ns, t0 + 63 * rto + LAT);
    sim_conn_stats st = sim_conn_net_stats(w.cn);
    ck_assert_uint_eq(st.late_requests, 1);
    ck_assert_uint_eq(st.late_responses, 1);
    world_free(&w);
}
END_TEST

START_TEST(crashed_server_resets_idle_pooled_connection)
{
    world w;
    world_init(&w, 1, NULL);
    sim_error err;
    warm_up(&w, 1);
    uint32_t leased, idle;
    sim_conn_pool_counts(w.cn, w.pool, &leased, &idle);
    ck_assert_uint_eq(idle, 1);
    TST_OK(sim_node_restart(w.sim, 1, SIM_S, &err));
    run_to(&w, sim_now(w.sim) + 2 * SIM_S);
    ck_assert_int_eq(sim_node_state_get(w.sim, 1), SIM_NODE_UP);
    sim_time_ns t0 = sim_now(w.sim);
    request(&w, 1, 5, NO_TIMEOUTS);
    run_to(&w, t0 + 10 * SIM_S);
    ck_assert_uint_eq(w.out_len, 1);
    ck_assert_int_eq(w.out[0].res.outcome, SIM_CONN_RESET);
    ck_assert(w.out[0].res.reused);
    ck_assert_uint_eq(w.out[0].at_ns, t0 + RTT);
    ck_assert_uint_eq(w.in_len, 0);
    /* The broken connection left the pool; the next request reconnects. */
    request(&w, 1, 6, NO_TIMEOUTS);
    run_to(&w, sim_now(w.sim) + SIM_S);
    ck_assert_uint_eq(w.out_len, 2);
    ck_assert_int_eq(w.out[1].res.outcome, SIM_CONN_OK);
    ck_assert(!w.out[1].res.reused);
    world_free(&w);
}
END_TEST

START_TEST(paused_server_handshakes_and_answers_after_resume)
{
    world w;
    world_init(&w, 1, NULL);
    sim_error err;
    sim_time_ns t0 = sim_now(w.sim);
    TST_OK(sim_node_pause(w.sim, 1, 5 * SIM_S, &err));
    sim_conn_timeouts to = {SIM_S, 0, 0};     /* shorter than the pause */
    request(&w, 1, 8, to);
    run_to(&w, t0 + 100 * SIM_S);
    ck_assert_uint_eq(w.in_len, 1);
    ck_assert_uint_eq(w.in[0].at_ns, t0 + 5 * SIM_S);
    ck_assert_uint_eq(w.out_len, 1);
    ck_assert_int_eq(w.out[0].res.outcome, SIM_CONN_OK);
    ck_assert_uint_eq(w.out[0].at_ns, t0 + 5 * SIM_S + LAT);
    world_free(&w);
}
END_TEST

START_TEST(paused_server_window_stalls_large_request)
{
    world w;
    world_init(&w, 1, NULL);
    sim_error err;
    warm_up(&w, 1);
    uint32_t rcvbuf = sim_conn_params_default().rcvbuf_bytes;
    sim_time_ns t0 = sim_now(w.sim);
    TST_OK(sim_node_pause(w.sim, 1, 5 * SIM_S, &err));
    TST_OK(sim_conn_request(w.cn, w.pool, 1, rcvbuf + 1, 1, NULL, &NO_TIMEOUTS, on_result, &w, 1, &err));
    run_to(&w, t0 + 100 * SIM_S);
    /* What fits the buffer waits for the process; the rest follows the
     * window update sent at resume: one more round trip. */
    ck_assert_uint_eq(w.in_len, 1);
    ck_assert_uint_eq(w.in[0].bytes, rcvbuf + 1);
    ck_assert_uint_eq(w.in[0].at_ns, t0 + 5 * SIM_S + RTT);
    ck_assert_uint_eq(w.out_len, 1);
    ck_assert_int_eq(w.out[0].res.outcome, SIM_CONN_OK);
    ck_assert_uint_eq(w.out[0].at_ns, t0 + 5 * SIM_S + RTT + LAT);
    world_free(&w);
}
END_TEST

static void answer_held(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    world *w = ctx;
    sim_error err;
    for (uint32_t i = 0; i < w->held_len; i++) TST_OK(sim_conn_respond(w->cn, w->held[i], 0, 10, NULL, &err));
    w->held_len = 0;
    w->hold = false;
}

static void pool_limit_case(sim_time_ns lease_ns, sim_conn_outcome want_third)
{
    sim_conn_pool_params pp = sim_conn_pool_params_default();
    pp.max_per_route = 2;
    world w;
    world_init(&w, 1, &pp);
    sim_error err;
    w.hold = true;
    sim_time_ns t0 = sim_now(w.sim);
    TST_OK(sim_schedule(w.sim, 3 * SIM_S, SIM_KIND_USER, answer_held, &w, 0, NULL, &err));
    sim_conn_timeouts to = {0, 0, lease_ns};
    for (uint64_t i = 0; i < 3; i++) request(&w, 1, i, to);
    run_to(&w, t0 + SIM_S / 2);
    ck_assert_uint_eq(w.in_len, 2);   /* the third waits for a lease */
    run_to(&w, t0 + 100 * SIM_S);
    ck_assert_uint_eq(w.out_len, 3);
    if (want_third == SIM_CONN_LEASE_TIMEOUT) {
        ck_assert_uint_eq(w.out[0].arg, 2);
        ck_assert_int_eq(w.out[0].res.outcome, SIM_CONN_LEASE_TIMEOUT);
        ck_assert_uint_eq(w.out[0].at_ns, t0 + lease_ns);
        ck_assert_uint_eq(w.in_len, 2);
    } else {
        ck_assert_uint_eq(w.out[2].arg, 2);
        ck_assert_int_eq(w.out[2].res.outcome, SIM_CONN_OK);
        ck_assert(w.out[2].res.reused);
        ck_assert_uint_eq(w.out[2].at_ns, t0 + 3 * SIM_S + LAT + RTT);
        ck_assert_uint_eq(sim_conn_net_stats(w.cn).connects, 2);
    }
    world_free(&w);
}

START_TEST(pool_third_request_lease_timeout)
{
    pool_limit_case(SIM_S, SIM_CONN_LEASE_TIMEOUT);
}
END_TEST

START_TEST(pool_third_request_waits_and_reuses)
{
    pool_limit_case(10 * SIM_S, SIM_CONN_OK);
}
END_TEST

START_TEST(pool_other_route_does_not_wait)
{
    sim_conn_pool_params pp = sim_conn_pool_params_default();
    pp.max_per_route = 1;
    world w;
    world_init(&w, 1, &pp);
    w.hold = true;
    sim_time_ns t0 = sim_now(w.sim);
    request(&w, 1, 0, NO_TIMEOUTS);
    request(&w, 1, 1, NO_TIMEOUTS);   /* waits: node 1's route is full */
    request(&w, 2, 2, NO_TIMEOUTS);   /* node 2's route has room */
    run_to(&w, t0 + 10 * SIM_S);
    ck_assert_uint_eq(w.out_len, 1);
    ck_assert_uint_eq(w.out[0].arg, 2);
    ck_assert_int_eq(w.out[0].res.outcome, SIM_CONN_OK);
    ck_assert_uint_eq(w.out[0].at_ns, t0 + 2 * RTT);
    world_free(&w);
}
END_TEST

/* A mixed run: loss, a partition, a crash; returns the trace hash. */
static uint64_t mixed_run(uint64_t seed, uint64_t *outcome_fold)
{
    world w;
    world_init(&w, seed, NULL);
    sim_error err;
    sim_link_params lossy = sim_link_params_default();
    lossy.loss_ppm = SIM_PPM / 5;
    lossy.latency.base.kind = SIM_DIST_UNIFORM;
    lossy.latency.base.a_ns = SIM_MS / 2;
    lossy.latency.base.b_ns = 3 * SIM_MS;
    TST_OK(sim_net_set_default(w.sim, &lossy, &err));
    sim_conn_timeouts to = {5 * SIM_S, 2 * SIM_S, 0};
    for (uint64_t i = 0; i < 40; i++) request(&w, 1 + (uint32_t)(i % 2), i, to);
    TST_OK(sim_schedule(w.sim, 3 * SIM_S, SIM_KIND_USER, heal_all, NULL, 0, NULL, &err));
    TST_OK(sim_net_isolate(w.sim, 2, &err));
    run_to(&w, 600 * SIM_S);
    ck_assert_uint_eq(w.out_len, 40);
    uint64_t fold = 0;
    for (uint32_t i = 0; i < w.out_len; i++) {
        fold = fold * 1099511628211ull + (w.out[i].arg << 8) + (uint64_t)w.out[i].res.outcome;
        fold = fold * 1099511628211ull + w.out[i].at_ns;
    }
    *outcome_fold = fold;
    uint64_t h = sim_trace_hash(w.sim);
    world_free(&w);
    return h;
}

START_TEST(same_seed_same_run)
{
    uint64_t f1, f2, f3;
    uint64_t h1 = mixed_run(11, &f1);
    uint64_t h2 = mixed_run(11, &f2);
    uint64_t h3 = mixed_run(12, &f3);
    ck_assert_uint_eq(h1, h2);
    ck_assert_uint_eq(f1, f2);
    ck_assert_uint_ne(h1, h3);
}
END_TEST

static Suite *conn_suite(void)
{
    Suite *s = suite_create("sim_conn");
    TCase *tc = tcase_create("conn");
    tcase_add_test(tc, refused_after_one_round_trip);
    tcase_add_test(tc, black_hole_connect_syn_retries);
    tcase_add_test(tc, short_black_hole_delays_without_timeout);
    tcase_add_test(tc, loss_delays_but_delivers_in_order);
    tcase_add_test(tc, request_lands_after_heal_past_read_timeout);
    tcase_add_test(tc, crashed_server_resets_idle_pooled_connection);
    tcase_add_test(tc, paused_server_handshakes_and_answers_after_resume);
    tcase_add_test(tc, paused_server_window_stalls_large_request);
    tcase_add_test(tc, pool_third_request_lease_timeout);
    tcase_add_test(tc, pool_third_request_waits_and_reuses);
    tcase_add_test(tc, pool_other_route_does_not_wait);
    tcase_add_test(tc, same_seed_same_run);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tst_run_suite(conn_suite());
}
