/* test_sim_net.c: links, faults, statistics, payload ownership and requests.
 *
 * Each test builds a small "world": an engine whose nodes record every
 * message and request they receive, and a pool of payloads that only count
 * their destroy calls.  When a world is freed, after sim_engine_destroy,
 * every payload the test handed to the engine must have been destroyed
 * exactly once: on delivery, on each drop path, or at destroy. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_engine.h"
#include "sim_net.h"
#include "tst_sim.h"

#define W_NODES 6u
#define W_PAYLOADS 4096u
#define W_SEEN 16384u
#define W_OUTCOMES 64u
#define W_HELD 16u

typedef enum req_mode {
    REQ_REPLY,          /* answer at once */
    REQ_HOLD,           /* keep the token; the test answers (or not) later */
    REQ_REPLY_TWICE,    /* answer at once, then again */
} req_mode;

typedef struct seen_msg {
    sim_time_ns at_ns;
    bool request;
    sim_message msg;        /* a copy; the payload pointer is only compared */
    uint32_t refs;          /* payload references while the handler ran */
} seen_msg;

typedef struct outcome {
    sim_time_ns at_ns;
    uint64_t arg;
    sim_rpc_status status;
    bool has_response;
    sim_message response;
} outcome;

typedef struct world {
    sim_engine *sim;
    tst_payload *pay;       /* [W_PAYLOADS] */
    size_t pay_len;
    seen_msg *seen;         /* [W_SEEN] */
    size_t seen_len;
    outcome out[W_OUTCOMES];
    size_t out_len;
    sim_rpc_token held[W_HELD];
    size_t held_len;
    req_mode mode[W_NODES];
    uint16_t reply_type;
    uint32_t reply_bytes;
    sim_status second_reply;    /* REQ_REPLY_TWICE: the second answer's status */
    bool retain;                /* on_message keeps a payload reference */
    sim_payload *retained[64];
    size_t retained_len;
    bool in_call;               /* inside sim_rpc_call: no callback may run */
    uint32_t starts[W_NODES];
    uint32_t crashes[W_NODES];
} world;

static sim_payload *w_payload(world *w)
{
    ck_assert_uint_lt(w->pay_len, W_PAYLOADS);
    tst_payload *p = &w->pay[w->pay_len];
    tst_payload_init(p, (uint32_t)w->pay_len);
    w->pay_len++;
    return &p->base;
}

static void w_record(world *w, const sim_message *msg, bool request)
{
    ck_assert_uint_lt(w->seen_len, W_SEEN);
    seen_msg *s = &w->seen[w->seen_len++];
    s->at_ns = sim_now(w->sim);
    s->request = request;
    s->msg = *msg;
    s->refs = msg->payload != NULL ? msg->payload->refs : 1;
}

static void w_start(sim_engine *sim, sim_node_id node, void *ctx)
{
    (void)sim;
    ((world *)ctx)->starts[node]++;
}

static void w_crash(sim_engine *sim, sim_node_id node, void *ctx)
{
    (void)sim;
    ((world *)ctx)->crashes[node]++;
}

static void w_on_message(sim_engine *sim, sim_node_id node, void *ctx, const sim_message *msg)
{
    world *w = ctx;
    ck_assert_uint_eq(msg->dst, node);
    ck_assert_int_eq(sim_node_state_get(sim, node), SIM_NODE_UP);
    w_record(w, msg, false);
    if (w->retain && msg->payload != NULL) {
        ck_assert_uint_lt(w->retained_len, 64);
        w->retained[w->retained_len++] = sim_payload_retain(msg->payload);
    }
}

static void w_on_request(sim_engine *sim, sim_node_id node, void *ctx, const sim_message *msg,
                         sim_rpc_token token)
{
    world *w = ctx;
    sim_error err;
    ck_assert_uint_eq(msg->dst, node);
    w_record(w, msg, true);
    switch (w->mode[node]) {
    case REQ_REPLY:
        TST_OK(sim_rpc_reply(sim, token, w->reply_type, w->reply_bytes, w_payload(w), &err));
        break;
    case REQ_HOLD:
        ck_assert_uint_lt(w->held_len, W_HELD);
        w->held[w->held_len++] = token;
        break;
    case REQ_REPLY_TWICE:
        TST_OK(sim_rpc_reply(sim, token, w->reply_type, w->reply_bytes, w_payload(w), &err));
        memset(&err, 0, sizeof err);
        w->second_reply = sim_rpc_reply(sim, token, w->reply_type, w->reply_bytes, w_payload(w), &err);
        if (w->second_reply != SIM_OK) ck_assert_str_ne(err.message, "");
        break;
    }
}

static void w_outcome(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *response)
{
    world *w = ctx;
    ck_assert_msg(!w->in_call, "a request outcome ran inside sim_rpc_call");
    ck_assert_uint_lt(w->out_len, W_OUTCOMES);
    outcome *o = &w->out[w->out_len++];
    o->at_ns = sim_now(sim);
    o->arg = arg;
    o->status = status;
    o->has_response = response != NULL;
    ck_assert_int_eq(o->has_response, status == SIM_RPC_OK);   /* a response with OK, and only then */
    if (response != NULL) o->response = *response;
}

static const sim_node_ops w_ops = {
    .start = w_start, .crash = w_crash, .on_message = w_on_message, .on_request = w_on_request,
};

/* A world of `nodes` nodes, all started at time 0 (and up on return). */
static world *w_new(uint64_t seed, uint32_t nodes, uint32_t events_max)
{
    ck_assert_uint_le(nodes, W_NODES);
    world *w = calloc(1, sizeof *w);
    ck_assert_ptr_nonnull(w);
    w->pay = calloc(W_PAYLOADS, sizeof *w->pay);
    w->seen = calloc(W_SEEN, sizeof *w->seen);
    ck_assert_ptr_nonnull(w->pay);
    ck_assert_ptr_nonnull(w->seen);
    sim_config config = tst_config(seed, nodes);
    config.events_max = events_max;
    w->sim = tst_engine(&config);
    sim_error err;
    for (uint32_t n = 0; n < nodes; n++) TST_OK(sim_node_attach(w->sim, n, &w_ops, w, &err));
    tst_start_all(w->sim);
    w->reply_type = 9;
    w->reply_bytes = 40;
    return w;
}

/* Destroys the engine, then checks that every payload was destroyed once. */
static void w_free(world *w)
{
    for (size_t i = 0; i < w->retained_len; i++) sim_payload_release(w->retained[i]);
    sim_engine_destroy(w->sim);
    tst_payloads_destroyed_once(w->pay, w->pay_len);
    free(w->pay);
    free(w->seen);
    free(w);
}

static void w_send(world *w, sim_node_id src, sim_node_id dst, uint16_t type, uint32_t bytes)
{
    sim_error err;
    TST_OK(sim_net_send(w->sim, src, dst, type, bytes, w_payload(w), &err));
}

static void w_call(world *w, sim_node_id src, sim_node_id dst, uint16_t type, sim_time_ns timeout_ns, uint64_t arg)
{
    sim_error err;
    w->in_call = true;
    TST_OK(sim_rpc_call(w->sim, src, dst, type, 20, w_payload(w), timeout_ns, w_outcome, w, arg, &err));
    w->in_call = false;
}

static size_t w_count(const world *w, sim_node_id src, sim_node_id dst)
{
    size_t n = 0;
    for (size_t i = 0; i < w->seen_len; i++) n += w->seen[i].msg.src == src && w->seen[i].msg.dst == dst;
    return n;
}

static sim_link_params lp_const(sim_time_ns ns)
{
    sim_link_params p = sim_link_params_default();
    p.latency = sim_latency_constant(ns);
    return p;
}

static sim_link_params lp_uniform(sim_time_ns a_ns, sim_time_ns b_ns, bool reorder)
{
    sim_link_params p = sim_link_params_default();
    p.latency.base.kind = SIM_DIST_UNIFORM;
    p.latency.base.a_ns = a_ns;
    p.latency.base.b_ns = b_ns;
    p.reorder = reorder;
    return p;
}

static void set_link(world *w, sim_node_id src, sim_node_id dst, const sim_link_params *p)
{
    sim_error err;
    TST_OK(sim_net_set_link(w->sim, src, dst, p, &err));
}

/* ========================================================================
 * Latency, loss, duplication, ordering, bandwidth
 * ======================================================================== */

START_TEST(test_default_link_params)
{
    sim_link_params p = sim_link_params_default();
    ck_assert_int_eq(p.latency.base.kind, SIM_DIST_CONSTANT);
    ck_assert_uint_eq(p.latency.base.a_ns, 1 * SIM_MS);
    ck_assert_uint_eq(p.latency.tail_ppm, 0);
    ck_assert_uint_eq(p.loss_ppm, 0);
    ck_assert_uint_eq(p.duplicate_ppm, 0);
    ck_assert(!p.reorder);
    ck_assert_uint_eq(p.bandwidth_bytes_per_s, 0);
}
END_TEST

START_TEST(test_constant_latency_exact)
{
    world *w = w_new(1, 3, 0);
    sim_run_until(w->sim, 10 * SIM_MS);
    w_send(w, 0, 1, 2, 100);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 1);
    const seen_msg *s = &w->seen[0];
    ck_assert_uint_eq(s->at_ns, 11 * SIM_MS);
    ck_assert_uint_eq(s->msg.src, 0);
    ck_assert_uint_eq(s->msg.dst, 1);
    ck_assert_uint_eq(s->msg.type, 2);
    ck_assert_uint_eq(s->msg.bytes, 100);
    ck_assert_uint_eq(s->msg.sent_at_ns, 10 * SIM_MS);
    ck_assert_ptr_eq(s->msg.payload, &w->pay[0].base);
    ck_assert_uint_ge(s->refs, 1);                         /* alive while the handler ran */
    ck_assert_uint_eq(w->pay[0].destroyed, 1);             /* released after delivery */

    sim_link_params p = lp_const(7 * SIM_MS);
    set_link(w, 0, 2, &p);
    w_send(w, 0, 2, 2, 100);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 2);
    ck_assert_uint_eq(w->seen[1].at_ns, 18 * SIM_MS);
    w_free(w);
}
END_TEST

START_TEST(test_link_override_and_default)
{
    world *w = w_new(1, 3, 0);
    sim_error err;
    sim_link_params def = lp_const(5 * SIM_MS);
    TST_OK(sim_net_set_default(w->sim, &def, &err));
    sim_link_params fast = lp_const(2 * SIM_MS);
    set_link(w, 0, 1, &fast);
    ck_assert_uint_eq(sim_net_link(w->sim, 0, 1)->latency.base.a_ns, 2 * SIM_MS);
    ck_assert_uint_eq(sim_net_link(w->sim, 1, 0)->latency.base.a_ns, 5 * SIM_MS);   /* directed */
    ck_assert_uint_eq(sim_net_link(w->sim, 0, 2)->latency.base.a_ns, 5 * SIM_MS);
    w_send(w, 0, 1, 1, 1);
    w_send(w, 1, 0, 1, 1);
    w_send(w, 0, 2, 1, 1);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 3);
    for (size_t i = 0; i < 3; i++) {
        sim_time_ns expect = w->seen[i].msg.src == 0 && w->seen[i].msg.dst == 1 ? 2 * SIM_MS : 5 * SIM_MS;
        ck_assert_uint_eq(w->seen[i].at_ns, expect);
    }
    /* A new default leaves the override alone; clearing the override restores the default. */
    sim_time_ns t0 = sim_now(w->sim);
    def = lp_const(9 * SIM_MS);
    TST_OK(sim_net_set_default(w->sim, &def, &err));
    ck_assert_uint_eq(sim_net_link(w->sim, 0, 1)->latency.base.a_ns, 2 * SIM_MS);
    ck_assert_uint_eq(sim_net_link(w->sim, 0, 2)->latency.base.a_ns, 9 * SIM_MS);
    w_send(w, 0, 1, 1, 1);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen[3].at_ns, t0 + 2 * SIM_MS);
    t0 = sim_now(w->sim);
    TST_OK(sim_net_clear_link(w->sim, 0, 1, &err));
    ck_assert_uint_eq(sim_net_link(w->sim, 0, 1)->latency.base.a_ns, 9 * SIM_MS);
    w_send(w, 0, 1, 1, 1);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen[4].at_ns, t0 + 9 * SIM_MS);
    w_free(w);
}
END_TEST

START_TEST(test_loss_all)
{
    world *w = w_new(1, 2, 0);
    sim_link_params p = sim_link_params_default();
    p.loss_ppm = SIM_PPM;
    set_link(w, 0, 1, &p);
    for (int i = 0; i < 100; i++) w_send(w, 0, 1, 3, 10);
    for (size_t i = 0; i < w->pay_len; i++) ck_assert_uint_eq(w->pay[i].destroyed, 1);   /* dropped at send */
    w_send(w, 1, 0, 3, 10);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w_count(w, 0, 1), 0);
    ck_assert_uint_eq(w_count(w, 1, 0), 1);
    sim_msg_stats st = sim_net_stats(w->sim, 0, 1, 3);
    ck_assert_uint_eq(st.sent, 100);
    ck_assert_uint_eq(st.delivered, 0);
    ck_assert_uint_eq(st.dropped[SIM_DROP_LOSS], 100);
    ck_assert_uint_eq(st.bytes_sent, 1000);
    ck_assert_uint_eq(st.bytes_delivered, 0);
    w_free(w);
}
END_TEST

START_TEST(test_loss_ratio)
{
    world *w = w_new(5, 2, 0);
    sim_error err;
    sim_link_params p = sim_link_params_default();
    p.loss_ppm = 300000;
    set_link(w, 0, 1, &p);
    const unsigned n = 10000;
    for (unsigned i = 0; i < n; i++) TST_OK(sim_net_send(w->sim, 0, 1, 1, 1, NULL, &err));
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    sim_msg_stats st = sim_net_stats(w->sim, 0, 1, 1);
    ck_assert_uint_eq(st.sent, n);
    ck_assert_uint_eq(st.delivered + st.dropped[SIM_DROP_LOSS], n);
    ck_assert_uint_eq(st.delivered, w->seen_len);
    double lost = (double)st.dropped[SIM_DROP_LOSS] / n;
    ck_assert_double_eq_tol(lost, 0.30, 0.02);
    w_free(w);
}
END_TEST

START_TEST(test_duplicate_all)
{
    world *w = w_new(1, 2, 0);
    sim_link_params p = lp_uniform(1 * SIM_MS, 5 * SIM_MS, true);
    p.duplicate_ppm = SIM_PPM;
    set_link(w, 0, 1, &p);
    for (int i = 0; i < 50; i++) w_send(w, 0, 1, 4, 8);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 100);
    unsigned copies[50] = { 0 };
    for (size_t i = 0; i < w->seen_len; i++) {
        const tst_payload *tp = (const tst_payload *)w->seen[i].msg.payload;
        ck_assert_uint_lt(tp->id, 50);
        copies[tp->id]++;
    }
    for (int i = 0; i < 50; i++) ck_assert_uint_eq(copies[i], 2);
    for (size_t i = 0; i < w->pay_len; i++) ck_assert_uint_eq(w->pay[i].destroyed, 1);   /* after the 2nd copy */
    sim_msg_stats st = sim_net_stats(w->sim, 0, 1, 4);
    ck_assert_uint_eq(st.sent, 50);
    ck_assert_uint_eq(st.duplicated, 50);
    ck_assert_uint_eq(st.delivered, 100);
    ck_assert_uint_eq(st.bytes_delivered, 800);
    w_free(w);
}
END_TEST

/* Sends `n` messages 0 -> 1 every 100 us, the index in `bytes`. */
static void send_stream(world *w, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        sim_run_until(w->sim, (sim_time_ns)i * 100 * SIM_US);
        w_send(w, 0, 1, 1, i);
    }
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, n);
}

START_TEST(test_fifo_per_link)
{
    world *w = w_new(2, 2, 0);
    sim_link_params p = lp_uniform(1 * SIM_MS, 50 * SIM_MS, false);
    set_link(w, 0, 1, &p);
    send_stream(w, 300);
    sim_time_ns delay_min = SIM_TIME_NEVER, delay_max = 0;
    for (size_t i = 0; i < w->seen_len; i++) {
        ck_assert_uint_eq(w->seen[i].msg.bytes, i);           /* send order */
        if (i > 0) ck_assert_uint_ge(w->seen[i].at_ns, w->seen[i - 1].at_ns);
        sim_time_ns d = w->seen[i].at_ns - w->seen[i].msg.sent_at_ns;
        ck_assert_uint_ge(d, 1 * SIM_MS);                      /* never faster than the link */
        if (d < delay_min) delay_min = d;
        if (d > delay_max) delay_max = d;
    }
    ck_assert_uint_gt(delay_max - delay_min, 10 * SIM_MS);   /* latencies did vary */
    w_free(w);
}
END_TEST

START_TEST(test_reorder_observed)
{
    world *w = w_new(2, 2, 0);
    sim_link_params p = lp_uniform(1 * SIM_MS, 50 * SIM_MS, true);
    set_link(w, 0, 1, &p);
    send_stream(w, 300);
    unsigned inversions = 0;
    for (size_t i = 0; i < w->seen_len; i++) {
        sim_time_ns d = w->seen[i].at_ns - w->seen[i].msg.sent_at_ns;
        ck_assert_uint_ge(d, 1 * SIM_MS);
        ck_assert_uint_le(d, 50 * SIM_MS);
        if (i > 0 && w->seen[i].msg.bytes < w->seen[i - 1].msg.bytes) inversions++;
    }
    ck_assert_uint_gt(inversions, 10);
    w_free(w);
}
END_TEST

START_TEST(test_bandwidth_queue)
{
    world *w = w_new(1, 3, 0);
    sim_link_params p = lp_const(1 * SIM_MS);
    p.bandwidth_bytes_per_s = 10000000;                    /* 10 MB/s */
    set_link(w, 0, 1, &p);
    w_send(w, 0, 1, 1, 10000000);                          /* 10 MB: 1 s on the wire */
    w_send(w, 0, 1, 2, 100);                               /* queued behind it */
    w_send(w, 0, 2, 2, 100);                               /* another link: not delayed */
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 3);
    ck_assert_uint_eq(w->seen[0].msg.dst, 2);
    ck_assert_uint_eq(w->seen[0].at_ns, 1 * SIM_MS);
    ck_assert_uint_eq(w->seen[1].msg.type, 1);
    ck_assert_uint_eq(w->seen[1].at_ns, 1 * SIM_S + 1 * SIM_MS);
    ck_assert_uint_eq(w->seen[2].msg.type, 2);
    ck_assert_uint_ge(w->seen[2].at_ns, 1 * SIM_S + 1 * SIM_MS);
    ck_assert_uint_le(w->seen[2].at_ns, 1 * SIM_S + 2 * SIM_MS);
    /* Once the wire is idle a small message only pays its own transmit time. */
    sim_run_until(w->sim, 3 * SIM_S);
    w_send(w, 0, 1, 2, 100);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_ge(w->seen[3].at_ns, 3 * SIM_S + 1 * SIM_MS);
    ck_assert_uint_le(w->seen[3].at_ns, 3 * SIM_S + 2 * SIM_MS);
    w_free(w);
}
END_TEST

/* ========================================================================
 * Partitions
 * ======================================================================== */

/* Sends one message src -> dst, runs, and says whether it arrived. */
static bool delivers(world *w, sim_node_id src, sim_node_id dst)
{
    size_t before = w_count(w, src, dst);
    w_send(w, src, dst, 1, 1);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    return w_count(w, src, dst) == before + 1;
}

START_TEST(test_partition_symmetric)
{
    world *w = w_new(1, 4, 0);
    sim_error err;
    const uint32_t groups[4] = { 7, 7, 3, 3 };
    TST_OK(sim_net_partition(w->sim, groups, 4, &err));
    ck_assert(sim_net_reachable(w->sim, 0, 1));
    ck_assert(!sim_net_reachable(w->sim, 0, 2));
    ck_assert(!sim_net_reachable(w->sim, 2, 0));
    ck_assert(!sim_net_reachable(w->sim, 1, 3));
    ck_assert(sim_net_reachable(w->sim, 2, 3));
    ck_assert(delivers(w, 0, 1));
    ck_assert(delivers(w, 3, 2));
    ck_assert(!delivers(w, 0, 2));
    ck_assert(!delivers(w, 2, 0));
    ck_assert(!delivers(w, 3, 1));
    ck_assert_uint_eq(sim_net_stats(w->sim, 0, 2, 1).dropped[SIM_DROP_PARTITION], 1);
    ck_assert_uint_eq(sim_net_stats(w->sim, 2, 0, 1).dropped[SIM_DROP_PARTITION], 1);
    ck_assert_uint_eq(sim_net_stats(w->sim, 0, 1, 1).dropped[SIM_DROP_PARTITION], 0);
    TST_ERR(sim_net_partition(w->sim, groups, 3, &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_partition(w->sim, NULL, 4, &err), SIM_ERR_INVALID);
    w_free(w);
}
END_TEST

START_TEST(test_partition_adds_to_blocks)
{
    world *w = w_new(1, 3, 0);
    sim_error err;
    TST_OK(sim_net_block(w->sim, 0, 1, &err));
    const uint32_t groups[3] = { 1, 1, 2 };
    TST_OK(sim_net_partition(w->sim, groups, 3, &err));
    ck_assert(!sim_net_reachable(w->sim, 0, 1));             /* the earlier block stays */
    ck_assert(sim_net_reachable(w->sim, 1, 0));
    ck_assert(!sim_net_reachable(w->sim, 0, 2));
    w_free(w);
}
END_TEST

START_TEST(test_block_one_way)
{
    world *w = w_new(1, 3, 0);
    sim_error err;
    TST_OK(sim_net_block(w->sim, 0, 1, &err));
    ck_assert(!sim_net_reachable(w->sim, 0, 1));
    ck_assert(sim_net_reachable(w->sim, 1, 0));
    ck_assert(!delivers(w, 0, 1));
    ck_assert(delivers(w, 1, 0));
    ck_assert(delivers(w, 0, 2));
    ck_assert_uint_eq(sim_net_stats(w->sim, 0, 1, 1).dropped[SIM_DROP_PARTITION], 1);
    TST_ERR(sim_net_block(w->sim, 1, 1, &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_block(w->sim, 0, 3, &err), SIM_ERR_INVALID);
    w_free(w);
}
END_TEST

START_TEST(test_isolate)
{
    world *w = w_new(1, 4, 0);
    sim_error err;
    TST_OK(sim_net_isolate(w->sim, 2, &err));
    for (sim_node_id n = 0; n < 4; n++) {
        if (n == 2) continue;
        ck_assert(!delivers(w, 2, n));
        ck_assert(!delivers(w, n, 2));
    }
    ck_assert(delivers(w, 0, 1));
    ck_assert(delivers(w, 3, 0));
    ck_assert(delivers(w, 2, 2));                          /* a node still reaches itself */
    TST_ERR(sim_net_isolate(w->sim, 4, &err), SIM_ERR_INVALID);
    w_free(w);
}
END_TEST

START_TEST(test_heal)
{
    world *w = w_new(1, 3, 0);
    sim_error err;
    const uint32_t groups[3] = { 0, 1, 1 };
    TST_OK(sim_net_partition(w->sim, groups, 3, &err));
    /* Heal one direction of one pair. */
    TST_OK(sim_net_heal(w->sim, 0, 1, &err));
    ck_assert(delivers(w, 0, 1));
    ck_assert(!delivers(w, 1, 0));
    ck_assert(!delivers(w, 0, 2));
    ck_assert(!delivers(w, 2, 0));
    /* Heal a node: every pair that involves it, both ways. */
    TST_OK(sim_net_heal_node(w->sim, 2, &err));
    ck_assert(delivers(w, 0, 2));
    ck_assert(delivers(w, 2, 0));
    ck_assert(!delivers(w, 1, 0));
    /* Heal everything. */
    TST_OK(sim_net_isolate(w->sim, 2, &err));
    sim_net_heal_all(w->sim);
    for (sim_node_id a = 0; a < 3; a++) {
        for (sim_node_id b = 0; b < 3; b++) ck_assert(delivers(w, a, b));
    }
    TST_ERR(sim_net_heal(w->sim, 0, 3, &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_heal_node(w->sim, 3, &err), SIM_ERR_INVALID);
    w_free(w);
}
END_TEST

START_TEST(test_partition_judged_at_delivery)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    sim_link_params p = lp_const(10 * SIM_MS);
    set_link(w, 0, 1, &p);
    w_send(w, 0, 1, 1, 1);                                 /* in flight, due at 10 ms */
    sim_run_until(w->sim, 5 * SIM_MS);
    TST_OK(sim_net_isolate(w->sim, 1, &err));
    ck_assert_uint_eq(w->pay[0].destroyed, 0);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 0);
    ck_assert_uint_eq(w->pay[0].destroyed, 1);
    ck_assert_uint_eq(sim_net_stats(w->sim, 0, 1, 1).dropped[SIM_DROP_PARTITION], 1);
    /* Sent into a partition that heals before it arrives: delivered. */
    sim_run_until(w->sim, 20 * SIM_MS);
    w_send(w, 0, 1, 1, 1);
    sim_run_until(w->sim, 25 * SIM_MS);
    sim_net_heal_all(w->sim);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 1);
    ck_assert_uint_eq(w->seen[0].at_ns, 30 * SIM_MS);
    w_free(w);
}
END_TEST

/* ========================================================================
 * Receivers that crash, restart or pause
 * ======================================================================== */

START_TEST(test_receiver_down_and_restarted)
{
    world *w = w_new(1, 3, 0);
    sim_error err;
    w_send(w, 0, 1, 1, 1);                                 /* due 1 ms; 1 crashes at 0.5 ms */
    sim_run_until(w->sim, 500 * SIM_US);
    TST_OK(sim_node_crash(w->sim, 1, &err));
    sim_run_until(w->sim, 2 * SIM_MS);
    w_send(w, 0, 1, 1, 1);                                 /* sent to a node that is down */
    sim_run_until(w->sim, 10 * SIM_MS);
    w_send(w, 0, 2, 1, 1);                                 /* due 11 ms; 2 restarts in between */
    sim_run_until(w->sim, 10500 * SIM_US);
    TST_OK(sim_node_restart(w->sim, 2, 200 * SIM_US, &err));
    sim_run_until(w->sim, 12 * SIM_MS);
    ck_assert_int_eq(sim_node_state_get(w->sim, 2), SIM_NODE_UP);
    w_send(w, 0, 2, 1, 1);                                 /* to the new incarnation */
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 1);
    ck_assert_uint_eq(w->seen[0].msg.dst, 2);
    ck_assert_uint_eq(w->seen[0].msg.sent_at_ns, 12 * SIM_MS);
    sim_msg_stats to1 = sim_net_stats(w->sim, 0, 1, 1);
    ck_assert_uint_eq(to1.sent, 2);
    ck_assert_uint_eq(to1.dropped[SIM_DROP_RECEIVER_DOWN], 2);
    sim_msg_stats to2 = sim_net_stats(w->sim, 0, 2, 1);
    ck_assert_uint_eq(to2.sent, 2);
    ck_assert_uint_eq(to2.dropped[SIM_DROP_RECEIVER_RESTARTED], 1);
    ck_assert_uint_eq(to2.delivered, 1);
    for (size_t i = 0; i < w->pay_len; i++) ck_assert_uint_eq(w->pay[i].destroyed, 1);
    w_free(w);
}
END_TEST

START_TEST(test_paused_receiver_messages_wait)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    TST_OK(sim_node_pause(w->sim, 1, 10 * SIM_MS, &err));
    sim_run_until(w->sim, 1 * SIM_MS);
    w_send(w, 0, 1, 1, 0);
    sim_run_until(w->sim, 3 * SIM_MS);
    w_send(w, 0, 1, 1, 1);
    sim_run_until(w->sim, 9 * SIM_MS);
    ck_assert_uint_eq(w->seen_len, 0);
    ck_assert_uint_eq(w->pay[0].destroyed, 0);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 2);
    ck_assert_uint_eq(w->seen[0].msg.bytes, 0);
    ck_assert_uint_eq(w->seen[1].msg.bytes, 1);
    ck_assert_uint_eq(w->seen[0].at_ns, 10 * SIM_MS);
    ck_assert_uint_eq(w->seen[1].at_ns, 10 * SIM_MS);
    ck_assert_uint_eq(sim_net_stats(w->sim, 0, 1, 1).delivered, 2);
    w_free(w);
}
END_TEST

/* A FIFO link stays FIFO across a pause of the receiver: M1 (due in the
 * pause) is delivered before M2 (due at the resume instant). */
START_TEST(test_fifo_link_across_pause)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    TST_OK(sim_node_pause(w->sim, 1, 11 * SIM_MS, &err));
    sim_run_until(w->sim, 3 * SIM_MS);
    w_send(w, 0, 1, 1, 1);                                 /* M1, due 4 ms */
    sim_run_until(w->sim, 10 * SIM_MS);
    w_send(w, 0, 1, 1, 2);                                 /* M2, due 11 ms */
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 2);
    ck_assert_msg(w->seen[0].msg.bytes == 1 && w->seen[1].msg.bytes == 2,
                  "FIFO link 0->1 delivered M%u before M%u", w->seen[0].msg.bytes, w->seen[1].msg.bytes);
    w_free(w);
}
END_TEST

START_TEST(test_crash_during_pause_drops_messages)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    TST_OK(sim_node_pause(w->sim, 1, 10 * SIM_MS, &err));
    sim_run_until(w->sim, 1 * SIM_MS);
    w_send(w, 0, 1, 1, 1);                                 /* due 2 ms: waits in the backlog */
    sim_run_until(w->sim, 5 * SIM_MS);
    ck_assert_uint_eq(w->pay[0].destroyed, 0);
    TST_OK(sim_node_restart(w->sim, 1, 1 * SIM_MS, &err));
    ck_assert_uint_eq(w->pay[0].destroyed, 1);             /* dropped with the backlog */
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 0);
    ck_assert_int_eq(sim_node_state_get(w->sim, 1), SIM_NODE_UP);
    sim_msg_stats st = sim_net_stats(w->sim, 0, 1, 1);
    ck_assert_uint_eq(st.delivered, 0);
    ck_assert_uint_eq(st.dropped[SIM_DROP_RECEIVER_DOWN], 1);
    w_free(w);
}
END_TEST

/* ========================================================================
 * Statistics
 * ======================================================================== */

START_TEST(test_stats_per_type)
{
    world *w = w_new(1, 3, 0);
    sim_error err;
    for (int i = 0; i < 3; i++) w_send(w, 0, 1, 1, 10);
    w_send(w, 0, 1, 2, 1000);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    TST_OK(sim_net_block(w->sim, 0, 1, &err));
    w_send(w, 0, 1, 2, 1000);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);

    sim_msg_stats a = sim_net_stats(w->sim, 0, 1, 1);
    ck_assert_uint_eq(a.sent, 3);
    ck_assert_uint_eq(a.delivered, 3);
    ck_assert_uint_eq(a.bytes_sent, 30);
    ck_assert_uint_eq(a.bytes_delivered, 30);
    ck_assert_uint_eq(a.duplicated, 0);
    for (int r = 0; r < SIM_DROP_REASONS; r++) ck_assert_uint_eq(a.dropped[r], 0);

    sim_msg_stats b = sim_net_stats(w->sim, 0, 1, 2);
    ck_assert_uint_eq(b.sent, 2);
    ck_assert_uint_eq(b.delivered, 1);
    ck_assert_uint_eq(b.bytes_sent, 2000);
    ck_assert_uint_eq(b.bytes_delivered, 1000);
    ck_assert_uint_eq(b.dropped[SIM_DROP_PARTITION], 1);

    /* No traffic, or out of range: zeros, never a crash. */
    const sim_msg_stats zero = { 0 };
    sim_msg_stats z[4] = {
        sim_net_stats(w->sim, 1, 0, 1), sim_net_stats(w->sim, 0, 1, 5),
        sim_net_stats(w->sim, 3, 0, 1), sim_net_stats(w->sim, 0, 1, SIM_MSG_TYPES_MAX),
    };
    for (int i = 0; i < 4; i++) ck_assert_int_eq(memcmp(&z[i], &zero, sizeof zero), 0);

    ck_assert_str_eq(sim_drop_reason_name(SIM_DROP_LOSS), "loss");
    ck_assert_str_eq(sim_drop_reason_name(SIM_DROP_PARTITION), "partition");
    ck_assert_str_eq(sim_drop_reason_name(SIM_DROP_RECEIVER_DOWN), "receiver_down");
    ck_assert_str_eq(sim_drop_reason_name(SIM_DROP_RECEIVER_RESTARTED), "receiver_restarted");
    ck_assert_str_eq(sim_drop_reason_name(SIM_DROP_LATE_RESPONSE), "late_response");
    w_free(w);
}
END_TEST

typedef struct stats_row {
    sim_node_id src;
    sim_node_id dst;
    uint16_t type;
    uint64_t sent;
} stats_row;

typedef struct stats_rows {
    stats_row row[32];
    size_t len;
} stats_rows;

static void collect_stats(void *ctx, sim_node_id src, sim_node_id dst, uint16_t type, const sim_msg_stats *st)
{
    stats_rows *rows = ctx;
    ck_assert_uint_lt(rows->len, 32);
    rows->row[rows->len++] = (stats_row){ .src = src, .dst = dst, .type = type, .sent = st->sent };
}

START_TEST(test_stats_foreach_order)
{
    world *w = w_new(1, 3, 0);
    sim_link_params lossy = sim_link_params_default();
    lossy.loss_ppm = SIM_PPM;
    set_link(w, 1, 0, &lossy);
    /* Traffic in a scrambled order. */
    w_send(w, 2, 0, 5, 1);
    w_send(w, 0, 1, 3, 1);
    w_send(w, 0, 1, 3, 1);
    w_send(w, 0, 1, 1, 1);
    w_send(w, 1, 2, 0, 1);
    w_send(w, 0, 2, 63, 1);
    w_send(w, 2, 1, 7, 1);
    w_send(w, 1, 0, 9, 1);                                 /* all lost: still traffic */
    w_send(w, 2, 0, 4, 1);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    stats_rows rows = { .len = 0 };
    sim_net_stats_foreach(w->sim, collect_stats, &rows);
    const stats_row expect[] = {
        { 0, 1, 1, 1 }, { 0, 1, 3, 2 }, { 0, 2, 63, 1 }, { 1, 0, 9, 1 },
        { 1, 2, 0, 1 }, { 2, 0, 4, 1 }, { 2, 0, 5, 1 }, { 2, 1, 7, 1 },
    };
    const size_t n = sizeof expect / sizeof expect[0];
    ck_assert_uint_eq(rows.len, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(rows.row[i].src, expect[i].src);
        ck_assert_uint_eq(rows.row[i].dst, expect[i].dst);
        ck_assert_uint_eq(rows.row[i].type, expect[i].type);
        ck_assert_uint_eq(rows.row[i].sent, expect[i].sent);
    }
    w_free(w);
}
END_TEST

/* ========================================================================
 * Invalid arguments, limits and payload ownership
 * ======================================================================== */

START_TEST(test_invalid_args)
{
    world *w = w_new(1, 3, 0);
    sim_error err;
    sim_engine *sim = w->sim;
    TST_ERR(sim_net_send(sim, 3, 0, 1, 1, w_payload(w), &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_send(sim, 0, 3, 1, 1, w_payload(w), &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_send(sim, SIM_NODE_NONE, 0, 1, 1, w_payload(w), &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_send(sim, 0, 1, SIM_MSG_TYPES_MAX, 1, w_payload(w), &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_send(sim, 0, 1, UINT16_MAX, 1, w_payload(w), &err), SIM_ERR_INVALID);
    TST_OK(sim_net_send(sim, 0, 1, SIM_MSG_TYPES_MAX - 1, 1, w_payload(w), &err));
    TST_OK(sim_node_crash(sim, 2, &err));
    TST_ERR(sim_net_send(sim, 2, 0, 1, 1, w_payload(w), &err), SIM_ERR_STATE);   /* a down sender */
    /* Every refused send released its payload at once. */
    for (size_t i = 0; i < w->pay_len; i++) {
        if (i != 5) ck_assert_uint_eq(w->pay[i].destroyed, 1);
    }

    sim_link_params p = sim_link_params_default();
    p.loss_ppm = SIM_PPM + 1;
    TST_ERR(sim_net_set_link(sim, 0, 1, &p, &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_set_default(sim, &p, &err), SIM_ERR_INVALID);
    p = sim_link_params_default();
    p.duplicate_ppm = SIM_PPM + 1;
    TST_ERR(sim_net_set_link(sim, 0, 1, &p, &err), SIM_ERR_INVALID);
    p = lp_uniform(5 * SIM_MS, 1 * SIM_MS, false);
    TST_ERR(sim_net_set_link(sim, 0, 1, &p, &err), SIM_ERR_INVALID);
    p = sim_link_params_default();
    p.latency.tail_ppm = SIM_PPM + 1;
    TST_ERR(sim_net_set_link(sim, 0, 1, &p, &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_set_link(sim, 0, 1, NULL, &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_set_default(sim, NULL, &err), SIM_ERR_INVALID);
    p = sim_link_params_default();
    TST_ERR(sim_net_set_link(sim, 3, 1, &p, &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_set_link(sim, 0, 3, &p, &err), SIM_ERR_INVALID);
    TST_ERR(sim_net_clear_link(sim, 0, 3, &err), SIM_ERR_INVALID);
    /* Failed settings changed nothing. */
    ck_assert_uint_eq(sim_net_link(sim, 0, 1)->loss_ppm, 0);
    ck_assert_uint_eq(sim_net_link(sim, 0, 1)->latency.base.a_ns, 1 * SIM_MS);
    ck_assert_uint_eq(sim_net_link(sim, 1, 0)->loss_ppm, 0);

    size_t before = w->pay_len;
    TST_ERR(sim_rpc_call(sim, 3, 0, 1, 1, w_payload(w), SIM_S, w_outcome, w, 0, &err), SIM_ERR_INVALID);
    TST_ERR(sim_rpc_call(sim, 0, 3, 1, 1, w_payload(w), SIM_S, w_outcome, w, 0, &err), SIM_ERR_INVALID);
    TST_ERR(sim_rpc_call(sim, 0, 1, SIM_MSG_TYPES_MAX, 1, w_payload(w), SIM_S, w_outcome, w, 0, &err),
            SIM_ERR_INVALID);
    TST_ERR(sim_rpc_call(sim, 0, 1, 1, 1, w_payload(w), SIM_S, NULL, w, 0, &err), SIM_ERR_INVALID);
    TST_ERR(sim_rpc_call(sim, 0, 1, 1, 1, w_payload(w), 0, w_outcome, w, 0, &err), SIM_ERR_INVALID);
    TST_ERR(sim_rpc_call(sim, 0, 1, 1, 1, w_payload(w), SIM_TIME_NEVER, w_outcome, w, 0, &err), SIM_ERR_INVALID);
    TST_ERR(sim_rpc_call(sim, 2, 0, 1, 1, w_payload(w), SIM_S, w_outcome, w, 0, &err), SIM_ERR_STATE);
    for (size_t i = before; i < w->pay_len; i++) ck_assert_uint_eq(w->pay[i].destroyed, 1);
    sim_rpc_token forged = { .index = 1u << 20, .generation = 1, .caller = 0, .callee = 1 };
    memset(&err, 0, sizeof err);
    sim_payload *fp = w_payload(w);
    ck_assert_int_ne(sim_rpc_reply(sim, forged, 1, 1, fp, &err), SIM_OK);
    ck_assert_str_ne(err.message, "");
    ck_assert_uint_eq(w->pay[w->pay_len - 1].destroyed, 1);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 0);
    w_free(w);
}
END_TEST

static void nop_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)ctx;
    (void)arg;
}

START_TEST(test_send_event_limit)
{
    world *w = w_new(1, 2, 4);
    sim_error err;
    for (int i = 0; i < 4; i++) TST_OK(sim_schedule(w->sim, SIM_S, SIM_KIND_USER, nop_fire, NULL, 0, NULL, &err));
    TST_ERR(sim_net_send(w->sim, 0, 1, 1, 1, w_payload(w), &err), SIM_ERR_LIMIT);
    ck_assert_uint_eq(w->pay[0].destroyed, 1);             /* the reference was taken anyway */
    ck_assert_uint_eq(sim_events_pending(w->sim), 4);
    /* One free slot on a link that duplicates everything: one copy fits. */
    sim_link_params p = sim_link_params_default();
    p.duplicate_ppm = SIM_PPM;
    set_link(w, 1, 0, &p);
    sim_run_until(w->sim, SIM_S);                          /* the four events run */
    for (int i = 0; i < 3; i++) TST_OK(sim_schedule(w->sim, SIM_S, SIM_KIND_USER, nop_fire, NULL, 0, NULL, &err));
    memset(&err, 0, sizeof err);
    sim_status st = sim_net_send(w->sim, 1, 0, 1, 1, w_payload(w), &err);
    ck_assert_msg(st == SIM_OK || st == SIM_ERR_LIMIT, "sim_net_send returned %s", sim_status_name(st));
    if (st != SIM_OK) ck_assert_str_ne(err.message, "");
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->pay[1].destroyed, 1);
    w_free(w);
}
END_TEST

START_TEST(test_payload_retained_by_handler)
{
    world *w = w_new(1, 2, 0);
    w->retain = true;
    w_send(w, 0, 1, 1, 1);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->retained_len, 1);
    ck_assert_uint_eq(w->pay[0].destroyed, 0);             /* the handler's reference keeps it */
    ck_assert_uint_eq(w->pay[0].base.refs, 1);
    sim_payload_release(w->retained[0]);
    w->retained_len = 0;
    ck_assert_uint_eq(w->pay[0].destroyed, 1);
    /* NULL payloads are fine everywhere. */
    ck_assert_ptr_null(sim_payload_retain(NULL));
    sim_payload_release(NULL);
    w_free(w);
}
END_TEST

/* Messages still in flight (in the queue and in a pause backlog) and
 * requests held unanswered are released by sim_engine_destroy. */
START_TEST(test_destroy_releases_in_flight)
{
    world *w = w_new(1, 3, 0);
    sim_error err;
    w->mode[1] = REQ_HOLD;
    sim_link_params slow = lp_const(1 * SIM_S);
    set_link(w, 0, 2, &slow);
    w_call(w, 0, 1, 1, 10 * SIM_S, 0);                     /* pay[0]: delivered at 1 ms and held */
    w_send(w, 0, 2, 1, 1);                                 /* pay[1]: in the queue for 1 s */
    sim_run_until(w->sim, 2 * SIM_MS);
    ck_assert_uint_eq(w->held_len, 1);
    TST_OK(sim_node_pause(w->sim, 1, 10 * SIM_S, &err));
    w_send(w, 0, 1, 1, 1);                                 /* pay[2]: into node 1's backlog */
    sim_link_params dup = sim_link_params_default();
    dup.duplicate_ppm = SIM_PPM;
    set_link(w, 2, 1, &dup);
    w_send(w, 2, 1, 1, 1);                                 /* pay[3]: two copies in the backlog */
    sim_run_until(w->sim, 100 * SIM_MS);
    ck_assert_uint_eq(w->pay[1].destroyed, 0);
    ck_assert_uint_eq(w->pay[2].destroyed, 0);
    ck_assert_uint_eq(w->pay[3].destroyed, 0);
    w_free(w);                                             /* checks every payload once */
}
END_TEST

/* ========================================================================
 * Requests
 * ======================================================================== */

START_TEST(test_rpc_ok)
{
    world *w = w_new(1, 2, 0);
    w->reply_type = 7;
    w->reply_bytes = 55;
    w_call(w, 0, 1, 6, 100 * SIM_MS, 42);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 1);
    ck_assert(w->seen[0].request);
    ck_assert_uint_eq(w->seen[0].at_ns, 1 * SIM_MS);
    ck_assert_uint_eq(w->seen[0].msg.type, 6);
    ck_assert_uint_eq(w->seen[0].msg.bytes, 20);
    ck_assert_uint_eq(w->seen[0].msg.src, 0);
    ck_assert_uint_eq(w->out_len, 1);                      /* exactly one outcome */
    const outcome *o = &w->out[0];
    ck_assert_int_eq(o->status, SIM_RPC_OK);
    ck_assert_uint_eq(o->arg, 42);
    ck_assert_uint_eq(o->at_ns, 2 * SIM_MS);
    ck_assert(o->has_response);
    ck_assert_uint_eq(o->response.src, 1);
    ck_assert_uint_eq(o->response.dst, 0);
    ck_assert_uint_eq(o->response.type, 7);
    ck_assert_uint_eq(o->response.bytes, 55);
    ck_assert_uint_eq(o->response.sent_at_ns, 1 * SIM_MS);
    ck_assert_ptr_eq(o->response.payload, &w->pay[1].base);
    ck_assert_uint_eq(sim_net_stats(w->sim, 0, 1, 6).delivered, 1);
    ck_assert_uint_eq(sim_net_stats(w->sim, 1, 0, 7).delivered, 1);
    ck_assert_str_eq(sim_rpc_status_name(SIM_RPC_OK), "ok");
    ck_assert_str_eq(sim_rpc_status_name(SIM_RPC_REFUSED), "refused");
    ck_assert_str_eq(sim_rpc_status_name(SIM_RPC_TIMEOUT), "timeout");
    w_free(w);
}
END_TEST

START_TEST(test_rpc_reply_later)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    w->mode[1] = REQ_HOLD;
    w_call(w, 0, 1, 6, 100 * SIM_MS, 1);
    sim_run_until(w->sim, 10 * SIM_MS);
    ck_assert_uint_eq(w->held_len, 1);
    ck_assert_uint_eq(w->out_len, 0);
    TST_OK(sim_rpc_reply(w->sim, w->held[0], 7, 5, w_payload(w), &err));
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_OK);
    ck_assert_uint_eq(w->out[0].at_ns, 11 * SIM_MS);
    w_free(w);
}
END_TEST

/* Paused while its request is out, the caller sees the one outcome late. */
START_TEST(test_rpc_paused_caller_sees_outcome_late)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    w_call(w, 0, 1, 6, 5 * SIM_MS, 1);                    /* response due 2 ms, timeout 5 ms */
    TST_OK(sim_node_pause(w->sim, 0, 10 * SIM_MS, &err));
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_OK);
    ck_assert_uint_eq(w->out[0].at_ns, 10 * SIM_MS);
    w_free(w);
}
END_TEST

START_TEST(test_rpc_refused_down_node)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    TST_OK(sim_node_crash(w->sim, 1, &err));
    sim_run_until(w->sim, 5 * SIM_MS);
    w_call(w, 0, 1, 6, 100 * SIM_MS, 3);
    ck_assert_uint_eq(w->out_len, 0);                      /* an event, not a call-back from inside */
    ck_assert_uint_eq(w->pay[0].destroyed, 1);
    sim_run_until(w->sim, 5 * SIM_MS);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_REFUSED);
    ck_assert_uint_eq(w->out[0].at_ns, 5 * SIM_MS);        /* at once */
    ck_assert_uint_eq(w->out[0].arg, 3);
    ck_assert(!w->out[0].has_response);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);                      /* the timeout never follows */
    w_free(w);
}
END_TEST

START_TEST(test_rpc_refused_when_callee_goes_down_in_flight)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    w_call(w, 0, 1, 6, 100 * SIM_MS, 3);                  /* arrives at 1 ms */
    sim_run_until(w->sim, 500 * SIM_US);
    TST_OK(sim_node_crash(w->sim, 1, &err));
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_REFUSED);
    ck_assert_uint_eq(w->out[0].at_ns, 1 * SIM_MS);        /* on arrival */
    ck_assert_uint_eq(sim_net_stats(w->sim, 0, 1, 6).dropped[SIM_DROP_RECEIVER_DOWN], 1);
    w_free(w);
}
END_TEST

START_TEST(test_rpc_timeout_partition)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    TST_OK(sim_net_isolate(w->sim, 1, &err));
    sim_run_until(w->sim, 2 * SIM_MS);
    w_call(w, 0, 1, 6, 30 * SIM_MS, 8);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_TIMEOUT);
    ck_assert_uint_eq(w->out[0].at_ns, 32 * SIM_MS);
    ck_assert_uint_eq(w->out[0].arg, 8);
    ck_assert_uint_eq(w->seen_len, 0);
    ck_assert_uint_eq(sim_net_stats(w->sim, 0, 1, 6).dropped[SIM_DROP_PARTITION], 1);
    w_free(w);
}
END_TEST

START_TEST(test_rpc_timeout_paused_callee)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    TST_OK(sim_node_pause(w->sim, 1, 100 * SIM_MS, &err));
    sim_run_until(w->sim, 1 * SIM_MS);
    w_call(w, 0, 1, 6, 20 * SIM_MS, 8);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_TIMEOUT);
    ck_assert_uint_eq(w->out[0].at_ns, 21 * SIM_MS);
    w_free(w);
}
END_TEST

/* Pending timeouts of one caller and one timeout value wait in a ring that
 * grows.  Here it grows while it wraps round (timeouts have fired from its
 * front and new ones were added at its start): every timeout must still
 * fire once, at its deadline, in call order. */
START_TEST(test_rpc_timeouts_survive_ring_growth_when_wrapped)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    TST_OK(sim_net_isolate(w->sim, 1, &err));
    for (uint64_t i = 0; i < 16; i++) {                    /* fills a ring of 16 */
        sim_run_until(w->sim, i * SIM_MS);
        w_call(w, 0, 1, 6, 100 * SIM_MS, i);
    }
    sim_run_until(w->sim, 105 * SIM_MS);                   /* 0..5 time out: the front moves on */
    ck_assert_uint_eq(w->out_len, 6);
    for (uint64_t i = 16; i < 23; i++) w_call(w, 0, 1, 6, 100 * SIM_MS, i);   /* 6 wrap, the 7th grows */
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 23);
    for (uint64_t i = 0; i < 23; i++) {
        ck_assert_uint_eq(w->out[i].arg, i);
        ck_assert_int_eq(w->out[i].status, SIM_RPC_TIMEOUT);
        ck_assert_uint_eq(w->out[i].at_ns, (i < 16 ? i : 105) * SIM_MS + 100 * SIM_MS);
    }
    w_free(w);
}
END_TEST

START_TEST(test_rpc_late_response_after_timeout)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    w->mode[1] = REQ_HOLD;
    w_call(w, 0, 1, 6, 10 * SIM_MS, 1);
    sim_run_until(w->sim, 20 * SIM_MS);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_TIMEOUT);
    ck_assert_uint_eq(w->out[0].at_ns, 10 * SIM_MS);
    /* The callee answers after the caller gave up: not an error, counted late. */
    TST_OK(sim_rpc_reply(w->sim, w->held[0], 7, 5, w_payload(w), &err));
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);
    sim_msg_stats st = sim_net_stats(w->sim, 1, 0, 7);
    ck_assert_uint_eq(st.sent, 1);
    ck_assert_uint_eq(st.delivered, 0);
    ck_assert_uint_eq(st.dropped[SIM_DROP_LATE_RESPONSE], 1);
    w_free(w);
}
END_TEST

START_TEST(test_rpc_late_response_in_flight)
{
    world *w = w_new(1, 2, 0);
    sim_link_params slow = lp_const(50 * SIM_MS);
    set_link(w, 1, 0, &slow);
    w->reply_type = 7;
    w_call(w, 0, 1, 6, 10 * SIM_MS, 1);                   /* answered at 1 ms, arrives at 51 ms */
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_TIMEOUT);
    ck_assert_uint_eq(w->out[0].at_ns, 10 * SIM_MS);
    sim_msg_stats st = sim_net_stats(w->sim, 1, 0, 7);
    ck_assert_uint_eq(st.sent, 1);
    ck_assert_uint_eq(st.delivered, 0);
    ck_assert_uint_eq(st.dropped[SIM_DROP_LATE_RESPONSE], 1);
    w_free(w);
}
END_TEST

START_TEST(test_rpc_callee_crash_refuses)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    w->mode[1] = REQ_HOLD;
    w_call(w, 0, 1, 6, 100 * SIM_MS, 4);
    sim_run_until(w->sim, 5 * SIM_MS);
    ck_assert_uint_eq(w->held_len, 1);
    TST_OK(sim_node_crash(w->sim, 1, &err));
    sim_run_until(w->sim, 5 * SIM_MS);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_REFUSED);
    ck_assert_uint_eq(w->out[0].at_ns, 5 * SIM_MS);        /* at the crash */
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);
    w_free(w);
}
END_TEST

START_TEST(test_rpc_caller_crash_no_callback)
{
    world *w = w_new(1, 3, 0);
    sim_error err;
    w->mode[1] = REQ_HOLD;
    w_call(w, 0, 1, 6, 100 * SIM_MS, 1);                  /* answered after 0 crashed */
    w_call(w, 0, 2, 6, 20 * SIM_MS, 2);                   /* node 2 answers at once; response due 2 ms */
    w_call(w, 0, 1, 6, 30 * SIM_MS, 3);                   /* never answered: would time out */
    sim_run_until(w->sim, 1500 * SIM_US);
    TST_OK(sim_node_restart(w->sim, 0, 1 * SIM_MS, &err));
    sim_run_until(w->sim, 5 * SIM_MS);
    ck_assert_int_eq(sim_node_state_get(w->sim, 0), SIM_NODE_UP);
    ck_assert_uint_eq(w->held_len, 2);
    TST_OK(sim_rpc_reply(w->sim, w->held[0], 7, 5, w_payload(w), &err));
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 0);
    sim_msg_stats st = sim_net_stats(w->sim, 1, 0, 7);
    ck_assert_uint_eq(st.delivered, 0);
    ck_assert_uint_eq(st.dropped[SIM_DROP_SENDER_RESTARTED], 1);   /* "caller_restarted" */
    ck_assert_uint_eq(sim_net_stats(w->sim, 2, 0, w->reply_type).delivered, 0);
    w_free(w);
}
END_TEST

/* sim_drop_reason: SIM_DROP_SENDER_RESTARTED is "the response's caller
 * crashed meanwhile"; a response in flight when its caller crashes is
 * dropped for that reason, not as a late response. */
START_TEST(test_rpc_response_to_crashed_caller_reason)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    sim_link_params slow = lp_const(10 * SIM_MS);
    set_link(w, 1, 0, &slow);
    w_call(w, 0, 1, 6, 100 * SIM_MS, 1);                  /* response sent at 1 ms, due 11 ms */
    sim_run_until(w->sim, 5 * SIM_MS);
    TST_OK(sim_node_restart(w->sim, 0, 1 * SIM_MS, &err));
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 0);
    sim_msg_stats st = sim_net_stats(w->sim, 1, 0, w->reply_type);
    ck_assert_uint_eq(st.sent, 1);
    ck_assert_uint_eq(st.delivered, 0);
    ck_assert_uint_eq(st.dropped[SIM_DROP_LATE_RESPONSE] + st.dropped[SIM_DROP_SENDER_RESTARTED], 1);
    ck_assert_msg(st.dropped[SIM_DROP_SENDER_RESTARTED] == 1, "dropped as %s, expected caller_restarted",
                  st.dropped[SIM_DROP_LATE_RESPONSE] ? "late_response" : "something else");
    w_free(w);
}
END_TEST

START_TEST(test_rpc_double_reply)
{
    world *w = w_new(1, 2, 0);
    w->mode[1] = REQ_REPLY_TWICE;
    w->second_reply = SIM_OK;
    w_call(w, 0, 1, 6, 100 * SIM_MS, 1);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_int_eq(w->second_reply, SIM_ERR_STATE);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_OK);
    ck_assert_ptr_eq(w->out[0].response.payload, &w->pay[1].base);   /* the first answer */
    ck_assert_uint_eq(sim_net_stats(w->sim, 1, 0, w->reply_type).sent, 1);
    w_free(w);
}
END_TEST

/* "Answering twice ... is an error": also once the first answer has been
 * delivered (the caller got its response; it did not give up). */
START_TEST(test_rpc_reply_after_answer_delivered_rejected)
{
    world *w = w_new(1, 2, 0);
    sim_error err;
    w->mode[1] = REQ_HOLD;
    w_call(w, 0, 1, 6, 100 * SIM_MS, 1);
    sim_run_until(w->sim, 5 * SIM_MS);
    ck_assert_uint_eq(w->held_len, 1);
    TST_OK(sim_rpc_reply(w->sim, w->held[0], 7, 5, w_payload(w), &err));
    sim_run_until(w->sim, 10 * SIM_MS);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_eq(w->out[0].status, SIM_RPC_OK);
    TST_ERR(sim_rpc_reply(w->sim, w->held[0], 7, 5, w_payload(w), &err), SIM_ERR_STATE);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);
    sim_msg_stats st = sim_net_stats(w->sim, 1, 0, 7);
    ck_assert_uint_eq(st.sent, 1);
    ck_assert_uint_eq(st.dropped[SIM_DROP_LATE_RESPONSE], 0);
    w_free(w);
}
END_TEST

START_TEST(test_rpc_never_duplicated)
{
    world *w = w_new(1, 2, 0);
    sim_link_params dup = sim_link_params_default();
    dup.duplicate_ppm = SIM_PPM;
    set_link(w, 0, 1, &dup);
    set_link(w, 1, 0, &dup);
    w_call(w, 0, 1, 6, 100 * SIM_MS, 1);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->seen_len, 1);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_uint_eq(sim_net_stats(w->sim, 0, 1, 6).duplicated, 0);
    ck_assert_uint_eq(sim_net_stats(w->sim, 1, 0, w->reply_type).duplicated, 0);
    w_free(w);
}
END_TEST

/* A full event pool: a request to a DOWN node needs a slot for its timeout
 * and one for the refusal.  The call must fail with SIM_ERR_LIMIT, or keep
 * the one-outcome promise; it must not crash. */
START_TEST(test_rpc_refused_with_full_pool)
{
    world *w = w_new(1, 2, 4);
    sim_error err;
    TST_OK(sim_node_crash(w->sim, 1, &err));
    for (int i = 0; i < 3; i++) TST_OK(sim_schedule(w->sim, SIM_S, SIM_KIND_USER, nop_fire, NULL, 0, NULL, &err));
    memset(&err, 0, sizeof err);
    sim_status st = sim_rpc_call(w->sim, 0, 1, 6, 20, w_payload(w), 100 * SIM_MS, w_outcome, w, 1, &err);
    ck_assert_msg(st == SIM_OK || st == SIM_ERR_LIMIT, "sim_rpc_call returned %s", sim_status_name(st));
    ck_assert_uint_eq(w->pay[0].destroyed, 1);
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    if (st == SIM_OK) {
        ck_assert_uint_eq(w->out_len, 1);
    } else {
        ck_assert_str_ne(err.message, "");
        ck_assert_uint_eq(w->out_len, 0);
    }
    w_free(w);
}
END_TEST

/* A full event pool when a callee that holds a request crashes: no crash of
 * the simulator, and the caller still gets exactly one outcome. */
START_TEST(test_rpc_callee_crash_with_full_pool)
{
    world *w = w_new(1, 2, 4);
    sim_error err;
    w->mode[1] = REQ_HOLD;
    w_call(w, 0, 1, 6, 100 * SIM_MS, 1);
    sim_run_until(w->sim, 5 * SIM_MS);
    ck_assert_uint_eq(w->held_len, 1);
    for (int i = 0; i < 3; i++) TST_OK(sim_schedule(w->sim, SIM_S, SIM_KIND_USER, nop_fire, NULL, 0, NULL, &err));
    memset(&err, 0, sizeof err);
    sim_status st = sim_node_crash(w->sim, 1, &err);
    ck_assert_msg(st == SIM_OK || st == SIM_ERR_LIMIT, "sim_node_crash returned %s", sim_status_name(st));
    ck_assert_int_eq(sim_run(w->sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(w->out_len, 1);
    ck_assert_int_ne(w->out[0].status, SIM_RPC_OK);
    w_free(w);
}
END_TEST

/* ======================================================================== */

static Suite *net_suite(void)
{
    Suite *s = suite_create("sim_net");

    TCase *links = tcase_create("links");
    tcase_set_timeout(links, 60);
    tcase_add_test(links, test_default_link_params);
    tcase_add_test(links, test_constant_latency_exact);
    tcase_add_test(links, test_link_override_and_default);
    tcase_add_test(links, test_loss_all);
    tcase_add_test(links, test_loss_ratio);
    tcase_add_test(links, test_duplicate_all);
    tcase_add_test(links, test_fifo_per_link);
    tcase_add_test(links, test_reorder_observed);
    tcase_add_test(links, test_bandwidth_queue);
    suite_add_tcase(s, links);

    TCase *faults = tcase_create("faults");
    tcase_add_test(faults, test_partition_symmetric);
    tcase_add_test(faults, test_partition_adds_to_blocks);
    tcase_add_test(faults, test_block_one_way);
    tcase_add_test(faults, test_isolate);
    tcase_add_test(faults, test_heal);
    tcase_add_test(faults, test_partition_judged_at_delivery);
    tcase_add_test(faults, test_receiver_down_and_restarted);
    tcase_add_test(faults, test_paused_receiver_messages_wait);
    tcase_add_test(faults, test_fifo_link_across_pause);
    tcase_add_test(faults, test_crash_during_pause_drops_messages);
    suite_add_tcase(s, faults);

    TCase *stats = tcase_create("stats");
    tcase_add_test(stats, test_stats_per_type);
    tcase_add_test(stats, test_stats_foreach_order);
    suite_add_tcase(s, stats);

    TCase *own = tcase_create("ownership");
    tcase_add_test(own, test_invalid_args);
    tcase_add_test(own, test_send_event_limit);
    tcase_add_test(own, test_payload_retained_by_handler);
    tcase_add_test(own, test_destroy_releases_in_flight);
    suite_add_tcase(s, own);

    TCase *rpc = tcase_create("rpc");
    tcase_add_test(rpc, test_rpc_ok);
    tcase_add_test(rpc, test_rpc_reply_later);
    tcase_add_test(rpc, test_rpc_paused_caller_sees_outcome_late);
    tcase_add_test(rpc, test_rpc_refused_down_node);
    tcase_add_test(rpc, test_rpc_refused_when_callee_goes_down_in_flight);
    tcase_add_test(rpc, test_rpc_timeout_partition);
    tcase_add_test(rpc, test_rpc_timeout_paused_callee);
    tcase_add_test(rpc, test_rpc_late_response_after_timeout);
    tcase_add_test(rpc, test_rpc_timeouts_survive_ring_growth_when_wrapped);
    tcase_add_test(rpc, test_rpc_late_response_in_flight);
    tcase_add_test(rpc, test_rpc_callee_crash_refuses);
    tcase_add_test(rpc, test_rpc_caller_crash_no_callback);
    tcase_add_test(rpc, test_rpc_response_to_crashed_caller_reason);
    tcase_add_test(rpc, test_rpc_double_reply);
    tcase_add_test(rpc, test_rpc_reply_after_answer_delivered_rejected);
    tcase_add_test(rpc, test_rpc_never_duplicated);
    tcase_add_test(rpc, test_rpc_refused_with_full_pool);
    tcase_add_test(rpc, test_rpc_callee_crash_with_full_pool);
    suite_add_tcase(s, rpc);
    return s;
}

int main(void)
{
    return tst_run_suite(net_suite());
}
