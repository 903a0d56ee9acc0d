/* test_sim_conn.c: the connection layer: connect, retransmission, crash,
 * pause, pools and determinism.
 *
 * A world has three nodes on constant 1 ms links (a round trip of 2 ms):
 * node 0 is the client with one pool, nodes 1 and 2 are servers whose
 * handler records each request and answers at once or holds the token.
 * Every expected instant is derived from the layer's default constants. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
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
    uint64_t small_tag;           /* a request with this tag gets small_bytes (0: none) */
    uint32_t small_bytes;
} world;

static const sim_node_ops no_ops = {NULL, NULL, NULL, NULL, NULL};

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
    uint32_t resp = w->small_tag != 0 && tag == w->small_tag ? w->small_bytes : w->resp_bytes;
    TST_OK(sim_conn_respond(w->cn, token, 0, resp, NULL, &err));
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
    ck_assert_uint_eq(sim_conn_syn_limit_ns(&p), limit);
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

/* --- Payloads, blocks, process death, statistics ------------------------- */

typedef struct counted {
    sim_payload base;
    int *destroyed;
    uint32_t value;
} counted;

static void counted_destroy(sim_payload *payload)
{
    counted *c = (counted *)payload;
    (*c->destroyed)++;
    free(c);
}

static counted *counted_new(int *destroyed, uint32_t value)
{
    counted *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->base.refs = 1;
    c->base.destroy = counted_destroy;
    c->destroyed = destroyed;
    c->value = value;
    return c;
}

typedef struct echo_world {
    sim_conn_net *cn;
    int destroyed;
    uint32_t seen_request;        /* value of the request payload the server saw */
    uint32_t seen_response;       /* value of the response payload the client saw */
    sim_conn_outcome outcome;
    bool done;
} echo_world;

static void echo_server(sim_engine *sim, sim_node_id server, void *ctx, sim_node_id client, uint32_t bytes,
                        uint64_t tag, sim_payload *payload, sim_conn_token token)
{
    (void)sim;
    (void)server;
    (void)client;
    (void)bytes;
    echo_world *e = ctx;
    ck_assert_ptr_nonnull(payload);
    e->seen_request = ((counted *)payload)->value;
    sim_error err;
    counted *resp = counted_new(&e->destroyed, e->seen_request + 1);
    TST_OK(sim_conn_respond(e->cn, token, (uint16_t)(tag + 1), 40, &resp->base, &err));
}

static void echo_result(sim_engine *sim, void *ctx, uint64_t arg, const sim_conn_result *res)
{
    (void)sim;
    (void)arg;
    echo_world *e = ctx;
    e->outcome = res->outcome;
    e->done = true;
    e->seen_response = res->response != NULL ? ((counted *)res->response)->value : 0;
}

START_TEST(payloads_travel_with_their_messages_and_are_released)
{
    sim_config config = tst_config(4, 2);
    sim_engine *sim = tst_engine(&config);
    sim_error err;
    for (uint32_t n = 0; n < 2; n++) TST_OK(sim_node_attach(sim, n, &no_ops, NULL, &err));
    tst_start_all(sim);
    echo_world e;
    memset(&e, 0, sizeof e);
    e.cn = sim_conn_net_create(sim, NULL, &err);
    ck_assert_ptr_nonnull(e.cn);
    TST_OK(sim_conn_listen(e.cn, 1, echo_server, &e, &err));
    sim_conn_pool_id pool;
    TST_OK(sim_conn_pool_create(e.cn, 0, NULL, &pool, &err));
    counted *req = counted_new(&e.destroyed, 41);
    TST_OK(sim_conn_request(e.cn, pool, 1, 100, 7, &req->base, &NO_TIMEOUTS, echo_result, &e, 0, &err));
    sim_run_until(sim, SIM_S);
    ck_assert(e.done);
    ck_assert_int_eq(e.outcome, SIM_CONN_OK);
    ck_assert_uint_eq(e.seen_request, 41);
    ck_assert_uint_eq(e.seen_response, 42);
    ck_assert_int_eq(e.destroyed, 2);            /* both, once each */
    /* Counted in the network's tables: the request under its tag, the
     * response under the type its server gave. */
    ck_assert_uint_eq(sim_net_stats(sim, 0, 1, 7).sent, 1);
    ck_assert_uint_eq(sim_net_stats(sim, 0, 1, 7).delivered, 1);
    ck_assert_uint_eq(sim_net_stats(sim, 0, 1, 7).bytes_sent, 100);
    ck_assert_uint_eq(sim_net_stats(sim, 1, 0, 8).sent, 1);
    ck_assert_uint_eq(sim_net_stats(sim, 1, 0, 8).delivered, 1);
    ck_assert_uint_eq(sim_net_stats(sim, 1, 0, 8).bytes_delivered, 40);
    /* A request that never finds a server is released too. */
    TST_OK(sim_net_isolate(sim, 1, &err));
    req = counted_new(&e.destroyed, 1);
    sim_conn_timeouts read = {SIM_S, SIM_S, 0};
    e.done = false;
    TST_OK(sim_conn_request(e.cn, pool, 1, 100, 7, &req->base, &read, echo_result, &e, 0, &err));
    sim_run_until(sim, 5 * SIM_S);
    ck_assert(e.done);
    ck_assert_int_eq(e.outcome, SIM_CONN_READ_TIMEOUT);   /* on the pooled connection */
    ck_assert_int_eq(e.destroyed, 2);   /* the orphaned request is still being retransmitted */
    /* And one more in flight when the layer is destroyed: every payload
     * goes, once. */
    TST_OK(sim_net_heal_node(sim, 1, &err));
    req = counted_new(&e.destroyed, 1);
    TST_OK(sim_conn_request(e.cn, pool, 1, 100, 7, &req->base, &NO_TIMEOUTS, echo_result, &e, 0, &err));
    sim_conn_net_destroy(e.cn);
    ck_assert_int_eq(e.destroyed, 4);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(one_way_block_stops_only_the_blocked_side_s_connections)
{
    /* A block acts as a stateful firewall: 0 -> 1 blocked stops node 0's
     * connections to node 1, both ways, while node 1's connections to
     * node 0 (and node 0's answers on them) work. */
    world w;
    world_init(&w, 5, NULL);
    sim_error err;
    TST_OK(sim_conn_listen(w.cn, 0, on_server, &w, &err));
    sim_conn_pool_id back;
    TST_OK(sim_conn_pool_create(w.cn, 1, NULL, &back, &err));
    TST_OK(sim_net_block(w.sim, 0, 1, &err));
    sim_time_ns t0 = sim_now(w.sim);
    sim_conn_timeouts to = {5 * SIM_S, 0, 0};
    request(&w, 1, 1, to);
    TST_OK(sim_conn_request(w.cn, back, 0, 1000, 2, NULL, &to, on_result, &w, 2, &err));
    run_to(&w, t0 + 10 * SIM_S);
    ck_assert_uint_eq(w.out_len, 2);
    ck_assert_uint_eq(w.out[0].arg, 2);
    ck_assert_int_eq(w.out[0].res.outcome, SIM_CONN_OK);
    ck_assert_uint_eq(w.out[0].at_ns, t0 + 2 * RTT);   /* handshake, then the exchange */
    ck_assert_uint_eq(w.out[1].arg, 1);
    ck_assert_int_eq(w.out[1].res.outcome, SIM_CONN_CONNECT_TIMEOUT);
    world_free(&w);
}
END_TEST

typedef struct death_world {
    world w;
    bool process_only;
} death_world;

static void death_crash(sim_engine *sim, sim_node_id id, void *ctx)
{
    (void)sim;
    death_world *d = ctx;
    if (d->process_only) sim_conn_process_died(d->w.cn, id);
}

static const sim_node_ops death_ops = {NULL, death_crash, NULL, NULL, NULL};

/* Crashes node 1 after a warm-up (an idle pooled connection to it) and
 * restarts it 1 s later; then node 0 calls it again. */
static sim_conn_outcome call_after_crash(bool process_only, sim_time_ns *at_out, sim_time_ns *t0_out)
{
    death_world d;
    world_init(&d.w, 6, NULL);
    d.process_only = process_only;
    sim_error err;
    TST_OK(sim_node_attach(d.w.sim, 1, &death_ops, &d, &err));
    warm_up(&d.w, 1);
    TST_OK(sim_node_crash(d.w.sim, 1, &err));
    TST_OK(sim_node_start(d.w.sim, 1, SIM_S, &err));
    run_to(&d.w, sim_now(d.w.sim) + 2 * SIM_S);
    sim_time_ns t0 = sim_now(d.w.sim);
    request(&d.w, 1, 1, NO_TIMEOUTS);
    run_to(&d.w, t0 + 10 * SIM_S);
    ck_assert_uint_eq(d.w.out_len, 1);
    sim_conn_outcome o = d.w.out[0].res.outcome;
    *at_out = d.w.out[0].at_ns;
    *t0_out = t0;
    ck_assert(!d.w.out[0].res.reused || !process_only);
    world_free(&d.w);
    return o;
}

START_TEST(process_death_closes_pooled_connections_with_a_fin)
{
    /* A dead process's kernel closes its connections: the client's pool
     * drops the idle one when the FIN arrives, and the next call opens a
     * new connection to the restarted server.  A dead host sends nothing:
     * the pooled connection is reused and meets a reset. */
    sim_time_ns at = 0, t0 = 0;
    ck_assert_int_eq(call_after_crash(true, &at, &t0), SIM_CONN_OK);
    ck_assert_uint_eq(at, t0 + 2 * RTT);   /* a new handshake, then the exchange */
    ck_assert_int_eq(call_after_crash(false, &at, &t0), SIM_CONN_RESET);
    ck_assert_uint_eq(at, t0 + RTT);       /* the data, and the reset back */
}
END_TEST

/* Two requests to node 1 on two connections; the way back is 2000 B/s.
 * The first gets 20000 bytes (10 s on the wire), the second, sent 100 ms
 * later, 100 bytes (50 ms) queued behind it.  Returns the second's
 * arrival; the first's outcome and time go to *first. */
static sim_time_ns queued_behind(sim_time_ns first_read_timeout, got *first, sim_conn_stats *st)
{
    world w;
    sim_conn_pool_params pp = sim_conn_pool_params_default();
    pp.max_per_route = 2;
    world_init(&w, 1, &pp);
    sim_error err;
    warm_up(&w, 1);
    sim_link_params lp = sim_link_params_default();
    lp.bandwidth_bytes_per_s = 2000;
    TST_OK(sim_net_set_link(w.sim, 1, 0, &lp, &err));
    w.resp_bytes = 20000;
    w.small_tag = 2;
    w.small_bytes = 100;
    sim_time_ns t0 = sim_now(w.sim);
    sim_conn_timeouts to = {0, first_read_timeout, 0};
    request(&w, 1, 1, to);
    run_to(&w, t0 + 100 * SIM_MS);
    request(&w, 1, 2, NO_TIMEOUTS);
    run_to(&w, t0 + 60 * SIM_S);
    ck_assert_uint_eq(w.out_len, 2);
    ck_assert_uint_eq(w.out[0].arg, 1);
    ck_assert_uint_eq(w.out[1].arg, 2);
    ck_assert_int_eq(w.out[1].res.outcome, SIM_CONN_OK);
    *first = w.out[0];
    *st = sim_conn_net_stats(w.cn);
    sim_time_ns at = w.out[1].at_ns - t0;
    first->at_ns -= t0;
    world_free(&w);
    return at;
}

START_TEST(abandoned_response_frees_the_link_at_the_reset)
{
    /* The caller of the large response gives up after 1 s and closes the
     * connection; its kernel's reset reaches the server one latency later,
     * which drops the rest of the response: the link is free from then,
     * and the small response goes out at once. */
    got first;
    sim_conn_stats st;
    sim_time_ns second = queued_behind(SIM_S, &first, &st);
    ck_assert_int_eq(first.res.outcome, SIM_CONN_READ_TIMEOUT);
    ck_assert_uint_eq(first.at_ns, SIM_S);
    ck_assert_uint_eq(second, first.at_ns + LAT + 50 * SIM_MS + LAT);
    ck_assert_uint_eq(st.late_responses, 1);
    /* A caller that waits keeps the link busy to the end: the small
     * response lands after the large one's last byte. */
    second = queued_behind(0, &first, &st);
    ck_assert_int_eq(first.res.outcome, SIM_CONN_OK);
    ck_assert_uint_ge(first.at_ns, 10 * SIM_S);
    ck_assert_uint_eq(second, first.at_ns + 50 * SIM_MS);
    ck_assert_uint_eq(st.late_responses, 0);
}
END_TEST

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
    tcase_add_test(tc, payloads_travel_with_their_messages_and_are_released);
    tcase_add_test(tc, one_way_block_stops_only_the_blocked_side_s_connections);
    tcase_add_test(tc, process_death_closes_pooled_connections_with_a_fin);
    tcase_add_test(tc, abandoned_response_frees_the_link_at_the_reset);
    tcase_add_test(tc, same_seed_same_run);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tst_run_suite(conn_suite());
}
