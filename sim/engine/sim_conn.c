/* sim_conn.c: connections and connection pools over the virtual network
 * (the model is described in sim_conn.h).
 *
 * Records.  Connections and requests live in growable arrays of records
 * reached by index, with free lists; a record's generation is bumped when
 * it is freed, so a stale token or event never touches a reused record.
 * A connection has at most one kernel event pending at a time (a segment
 * arriving, a retransmission timer, a reset travelling back); its epoch,
 * bumped at every such scheduling and at free, tells a superseded event
 * to do nothing.  Nothing iterates in any order but index order. */
#include "sim_conn.h"

#include <stdlib.h>
#include <string.h>

#include "internal/sim_engine_int.h"
#include "sim_assert.h"
#include "sim_vec.h"

#define NONE UINT32_MAX

typedef enum conn_state {
    C_FREE,
    C_CONNECTING,   /* SYN sent, leased by a request */
    C_BUSY,         /* established, leased by a request */
    C_IDLE,         /* established, in its pool */
    C_ORPHAN,       /* the client closed it (or crashed); data may still be in flight */
} conn_state;

typedef enum xfer_kind { X_NONE, X_SYN, X_DATA } xfer_kind;

typedef struct conn_rec {
    uint32_t generation;        /* never 0; bumped at free */
    uint32_t epoch;             /* the one live kernel event; bumped at every schedule */
    uint32_t next_free;
    uint8_t state;              /* conn_state */
    uint8_t xfer;               /* xfer_kind in progress */
    uint8_t dir;                /* 0: client -> server, 1: server -> client */
    bool read_pending;          /* the server process has a request to read */
    bool replied;               /* the current exchange was answered */
    uint32_t pool;
    sim_node_id client;
    sim_node_id server;
    uint32_t client_inc;
    uint32_t server_inc;        /* the server's incarnation that took the SYN */
    uint32_t req;               /* the request riding it, or NONE */
    uint32_t exchange;          /* exchanges so far; names the current one */
    uint32_t msg_bytes;         /* the message in transfer */
    uint32_t bytes_left;        /* of it, not yet in the receiver's buffer */
    uint32_t tries;             /* retransmissions of the current transfer */
    uint64_t tag;               /* the current request's tag: its message type in the statistics */
    uint16_t resp_type;         /* the current response's message type */
    sim_payload *payload;       /* owned: the message in transfer, or read pending */
    sim_time_ns rto_ns;         /* current RTO */
    sim_time_ns sent_at_ns;     /* the current transmission */
    sim_time_ns rtt_ns;         /* the handshake's sample */
    sim_time_ns expires_at_ns;  /* time to live; 0 = never */
    sim_rng rng;
} conn_rec;

typedef enum req_phase { R_FREE, R_LEASING, R_CONNECTING, R_SENT, R_DELIVER } req_phase;

typedef struct req_rec {
    uint32_t generation;
    uint32_t next_free;
    uint8_t phase;              /* req_phase */
    uint8_t pending;            /* R_DELIVER: the sim_conn_outcome waiting for the process */
    bool reused;
    uint32_t pool;
    sim_node_id dst;
    uint32_t bytes;
    uint32_t resp_bytes;
    uint32_t conn;
    uint64_t tag;
    sim_payload *payload;       /* owned: the request, until it rides a connection */
    sim_payload *resp_payload;  /* owned: R_DELIVER's response */
    sim_conn_timeouts to;
    sim_conn_result_fn *fn;
    void *ctx;
    uint64_t arg;
    sim_time_ns started_ns;
    sim_event_id timer;         /* the phase's timeout, if any */
} req_rec;

/* Read deadlines of one pool's requests with one read timeout.  They fall
 * due in the order they were set, so one client timer, at the earliest,
 * serves them all; answered requests are skipped when reached.  This
 * spares the event queue a schedule and a cancel per request. */
typedef struct read_deadline {
    uint32_t req;
    uint32_t generation;
    sim_time_ns deadline_ns;
} read_deadline;

typedef struct read_fifo {
    sim_time_ns timeout_ns;
    read_deadline *q;
    uint32_t head, len, cap;    /* live entries are q[head .. len) */
    bool armed;                 /* a client timer is pending for the head */
    bool firing;                /* its handler runs: requests made meanwhile do not arm */
} read_fifo;

/* An idle connection, with what a lease looks for beside it, so that the
 * search reads the pool's array and not every connection record. */
typedef struct idle_rec {
    uint32_t conn;
    sim_node_id server;
    sim_time_ns expires_at_ns;  /* the connection's (0: never) */
} idle_rec;

typedef struct pool_rec {
    sim_node_id client;
    uint32_t incarnation;
    uint32_t serial;            /* connections opened: names their random streams */
    uint32_t total;             /* connecting, busy and idle */
    sim_conn_pool_params p;
    uint32_t *route;            /* [node_count]: connections per destination */
    idle_rec *idle;             /* idle connections, oldest first */
    uint32_t idle_len, idle_cap;
    uint32_t *waiters;          /* requests waiting for a lease, FIFO */
    uint32_t waiters_len, waiters_cap;
    struct read_fifo *fifos;    /* read deadlines, one queue per timeout value */
    uint32_t fifos_len, fifos_cap;
} pool_rec;

/* A transfer that holds a bandwidth-limited link: it was handed to the
 * link at send_ns and is on the wire during [start_ns, end_ns); its
 * kernel event (epoch) lands it at arrive_ns.  A link's entries are in
 * queue order, each starting when the one before ends or at its own send,
 * so freeing the link early moves the ones queued behind up (txq_cut). */
typedef struct tx_entry {
    uint32_t conn;
    uint32_t generation;
    uint32_t epoch;
    sim_time_ns send_ns, start_ns, end_ns, arrive_ns;
} tx_entry;

typedef struct tx_queue {
    tx_entry *e;
    uint32_t head, len, cap;    /* live entries are e[head .. len) */
} tx_queue;

typedef struct listener {
    sim_conn_server_fn *fn;
    void *ctx;
} listener;

struct sim_conn_net {
    sim_engine *sim;
    sim_conn_params p;
    uint32_t n;
    listener *listeners;        /* [n] */
    sim_time_ns *tx_free;       /* [n * n] when a bandwidth is used, else NULL */
    struct tx_queue *txq;       /* [n * n], beside tx_free: the transfers that hold each link */
    sim_time_ns tx_start_ns;    /* the last arrival_at's time on the wire: [start, end) */
    sim_time_ns tx_end_ns;      /* ... both 0 when it used no bandwidth */
    conn_rec *conns;
    uint32_t conns_len, conns_cap, conns_free;
    req_rec *reqs;
    uint32_t reqs_len, reqs_cap, reqs_free;
    pool_rec *pools;
    uint32_t pools_len, pools_cap;
    sim_conn_stats stats;
    sim_conn_prefetch_fn *prefetch;   /* the requests' hint (sim_conn_set_prefetch), or NULL */
    const void *prefetch_ctx;
};

static const char *const outcome_names[SIM_CONN_OUTCOMES] = {
    "ok", "refused", "connect_timeout", "read_timeout", "lease_timeout", "reset", "retries_exhausted",
};

const char *sim_conn_outcome_name(sim_conn_outcome outcome)
{
    return (unsigned)outcome < SIM_CONN_OUTCOMES ? outcome_names[outcome] : "unknown";
}

sim_conn_params sim_conn_params_default(void)
{
    sim_conn_params p;
    p.syn_rto_ns = SIM_S;
    p.syn_retries = 6;
    p.rto_min_ns = 200 * SIM_MS;
    p.rto_max_ns = 120 * SIM_S;
    p.retries2 = 15;
    p.orphan_retries = 8;
    p.rcvbuf_bytes = 131072;
    return p;
}

sim_time_ns sim_conn_syn_limit_ns(const sim_conn_params *params)
{
    return params->syn_rto_ns * ((UINT64_C(2) << params->syn_retries) - 1);
}

sim_conn_pool_params sim_conn_pool_params_default(void)
{
    sim_conn_pool_params p;
    p.max_per_route = 2;
    p.max_total = 20;
    p.ttl_ns = 0;
    return p;
}

sim_conn_net *sim_conn_net_create(sim_engine *sim, const sim_conn_params *params, sim_error *err)
{
    sim_conn_params p = params != NULL ? *params : sim_conn_params_default();
    if (p.syn_rto_ns == 0 || p.rto_min_ns == 0 || p.rto_max_ns < p.rto_min_ns) {
        sim_error_set(err, SIM_ERR_INVALID, "sim_conn_net_create",
                      "retransmission timeouts must be positive, with rto_max >= rto_min");
        return NULL;
    }
    sim_conn_net *cn = calloc(1, sizeof *cn);
    if (cn == NULL) {
        sim_error_set(err, SIM_ERR_NOMEM, "sim_conn_net_create", "cannot allocate the connection layer");
        return NULL;
    }
    cn->sim = sim;
    cn->p = p;
    cn->n = sim_node_count(sim);
    cn->listeners = calloc(cn->n, sizeof *cn->listeners);
    if (cn->listeners == NULL) {
        free(cn);
        sim_error_set(err, SIM_ERR_NOMEM, "sim_conn_net_create", "cannot allocate %u listeners", sim_node_count(sim));
        return NULL;
    }
    cn->conns_free = NONE;
    cn->reqs_free = NONE;
    return cn;
}

void sim_conn_net_destroy(sim_conn_net *cn)
{
    if (cn == NULL) return;
    for (uint32_t i = 0; i < cn->conns_len; i++) sim_payload_release(cn->conns[i].payload);
    for (uint32_t i = 0; i < cn->reqs_len; i++) {
        sim_payload_release(cn->reqs[i].payload);
        sim_payload_release(cn->reqs[i].resp_payload);
    }
    for (uint32_t i = 0; i < cn->pools_len; i++) {
        free(cn->pools[i].route);
        free(cn->pools[i].idle);
        free(cn->pools[i].waiters);
        for (uint32_t f = 0; f < cn->pools[i].fifos_len; f++) free(cn->pools[i].fifos[f].q);
        free(cn->pools[i].fifos);
    }
    free(cn->pools);
    free(cn->conns);
    free(cn->reqs);
    free(cn->tx_free);
    if (cn->txq != NULL) {
        for (size_t i = 0; i < (size_t)cn->n * cn->n; i++) free(cn->txq[i].e);
        free(cn->txq);
    }
    free(cn->listeners);
    free(cn);
}

sim_status sim_conn_listen(sim_conn_net *cn, sim_node_id node, sim_conn_server_fn *fn, void *ctx, sim_error *err)
{
    if (node >= cn->n) return sim_error_set(err, SIM_ERR_INVALID, "sim_conn_listen", "unknown node %u", node);
    cn->listeners[node].fn = fn;
    cn->listeners[node].ctx = ctx;
    return SIM_OK;
}

sim_status sim_conn_pool_create(sim_conn_net *cn, sim_node_id client, const sim_conn_pool_params *params,
                                sim_conn_pool_id *id_out, sim_error *err)
{
    const char *where = "sim_conn_pool_create";
    if (client >= cn->n) return sim_error_set(err, SIM_ERR_INVALID, where, "unknown node %u", client);
    sim_conn_pool_params p = params != NULL ? *params : sim_conn_pool_params_default();
    if (p.max_per_route == 0 || p.max_total == 0) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "pool limits must be at least 1");
    }
    if (!SIM_VEC_RESERVE(cn->pools, cn->pools_len, cn->pools_cap, 1)) {
        return sim_error_set(err, SIM_ERR_NOMEM, where, "cannot grow the pool table");
    }
    uint32_t *route = calloc(cn->n, sizeof *route);
    if (route == NULL) return sim_error_set(err, SIM_ERR_NOMEM, where, "cannot allocate route counts");
    pool_rec *pl = &cn->pools[cn->pools_len];
    memset(pl, 0, sizeof *pl);
    pl->client = client;
    pl->incarnation = sim_node_incarnation(cn->sim, client);
    pl->p = p;
    pl->route = route;
    *id_out = cn->pools_len++;
    return SIM_OK;
}

sim_conn_stats sim_conn_net_stats(const sim_conn_net *cn)
{
    return cn->stats;
}

void sim_conn_pool_counts(const sim_conn_net *cn, sim_conn_pool_id pool, uint32_t *leased_out, uint32_t *idle_out)
{
    SIM_ASSERT(pool < cn->pools_len);
    const pool_rec *pl = &cn->pools[pool];
    *leased_out = pl->total - pl->idle_len;
    *idle_out = pl->idle_len;
}

/* --- Records ------------------------------------------------------------- */

static void fail_nomem(sim_conn_net *cn, const char *what)
{
    sim_error e;
    sim_error_set(&e, SIM_ERR_NOMEM, "sim_conn", "cannot allocate %s", what);
    sim_fail(cn->sim, &e);
}

static uint64_t pack(uint32_t index, uint32_t tag)
{
    return ((uint64_t)index << 32) | tag;
}

static uint32_t unpack_index(uint64_t arg)
{
    return (uint32_t)(arg >> 32);
}

static uint32_t unpack_tag(uint64_t arg)
{
    return (uint32_t)arg;
}

static uint32_t conn_alloc(sim_conn_net *cn)
{
    uint32_t i = cn->conns_free;
    if (i != NONE) {
        cn->conns_free = cn->conns[i].next_free;
    } else {
        if (!SIM_VEC_RESERVE(cn->conns, cn->conns_len, cn->conns_cap, 1)) return NONE;
        i = cn->conns_len++;
        memset(&cn->conns[i], 0, sizeof cn->conns[i]);
        cn->conns[i].generation = 1;
    }
    conn_rec *c = &cn->conns[i];
    uint32_t generation = c->generation, epoch = c->epoch;
    memset(c, 0, sizeof *c);
    c->generation = generation;
    c->epoch = epoch;
    c->req = NONE;
    c->next_free = NONE;
    return i;
}

static void conn_free(sim_conn_net *cn, uint32_t i)
{
    conn_rec *c = &cn->conns[i];
    SIM_ASSERT(c->state != C_FREE);
    c->state = C_FREE;
    sim_payload_release(c->payload);
    c->payload = NULL;
    c->generation++;
    if (c->generation == 0) c->generation = 1;
    c->epoch++;
    c->next_free = cn->conns_free;
    cn->conns_free = i;
}

static uint32_t req_alloc(sim_conn_net *cn)
{
    uint32_t i = cn->reqs_free;
    if (i != NONE) {
        cn->reqs_free = cn->reqs[i].next_free;
    } else {
        if (!SIM_VEC_RESERVE(cn->reqs, cn->reqs_len, cn->reqs_cap, 1)) return NONE;
        i = cn->reqs_len++;
        memset(&cn->reqs[i], 0, sizeof cn->reqs[i]);
        cn->reqs[i].generation = 1;
    }
    req_rec *r = &cn->reqs[i];
    uint32_t generation = r->generation;
    memset(r, 0, sizeof *r);
    r->generation = generation;
    r->conn = NONE;
    r->next_free = NONE;
    return i;
}

static void req_free(sim_conn_net *cn, uint32_t i)
{
    req_rec *r = &cn->reqs[i];
    SIM_ASSERT(r->phase != R_FREE);
    if (r->timer.generation != 0) sim_cancel(cn->sim, r->timer);
    r->timer.generation = 0;
    sim_payload_release(r->payload);
    sim_payload_release(r->resp_payload);
    r->payload = r->resp_payload = NULL;
    r->phase = R_FREE;
    r->generation++;
    if (r->generation == 0) r->generation = 1;
    r->next_free = cn->reqs_free;
    cn->reqs_free = i;
}

static bool host_has(const sim_conn_net *cn, sim_node_id node, uint32_t incarnation)
{
    return sim_node_state_get(cn->sim, node) != SIM_NODE_DOWN && sim_node_incarnation(cn->sim, node) == incarnation;
}

/* --- Scheduling helpers -------------------------------------------------- */

static void kernel_at(sim_conn_net *cn, uint32_t ci, sim_time_ns at_ns, sim_event_fn *fn)
{
    conn_rec *c = &cn->conns[ci];
    c->epoch++;
    sim_error e;
    sim_time_ns now = sim_now(cn->sim);
    if (at_ns < now) at_ns = now;
    if (sim_schedule_at(cn->sim, at_ns, SIM_KIND_CONN_NET, fn, cn, pack(ci, c->epoch), NULL, &e) != SIM_OK) {
        sim_fail(cn->sim, &e);
    }
}

/* A process event of `node`, `delay_ns` of its local time from now. */
static bool proc_after(sim_conn_net *cn, sim_node_id node, sim_time_ns delay_ns, sim_event_fn *fn, uint64_t arg,
                       sim_event_id *id_out)
{
    sim_error e;
    if (sim_timer_start(cn->sim, node, delay_ns, SIM_KIND_CONN_PROC, fn, cn, arg, id_out, &e) != SIM_OK) {
        sim_fail(cn->sim, &e);
        return false;
    }
    return true;
}

/* When a message of `bytes` sent now from src reaches dst's kernel. */
static sim_time_ns arrival_at(sim_conn_net *cn, conn_rec *c, sim_node_id src, sim_node_id dst, uint32_t bytes)
{
    const sim_link_params *lp = sim_net_link(cn->sim, src, dst);
    sim_time_ns now = sim_now(cn->sim);
    sim_time_ns start = now;
    cn->tx_start_ns = cn->tx_end_ns = 0;
    if (lp->bandwidth_bytes_per_s > 0 && bytes > 0) {
        if (cn->tx_free == NULL) {
            cn->tx_free = calloc((size_t)cn->n * cn->n, sizeof *cn->tx_free);
            cn->txq = calloc((size_t)cn->n * cn->n, sizeof *cn->txq);
            if (cn->tx_free == NULL || cn->txq == NULL) {
                free(cn->tx_free);
                free(cn->txq);
                cn->tx_free = NULL;
                cn->txq = NULL;
                fail_nomem(cn, "transmit queues");
                return now;
            }
        }
        sim_time_ns *q = &cn->tx_free[(size_t)src * cn->n + dst];
        if (*q > start) start = *q;
        cn->tx_start_ns = start;
        sim_time_ns ser = (sim_time_ns)((uint64_t)bytes * SIM_S / lp->bandwidth_bytes_per_s);
        start += ser;
        *q = start;
        cn->tx_end_ns = start;
    }
    return start + sim_latency_sample(&lp->latency, &c->rng);
}

/* Whether the connection's packets pass, in both directions.  Blocks act
 * as a stateful firewall does: a connection is open when its client may
 * reach its server, and then carries the server's replies too; a block of
 * server -> client stops only connections the server opens.  So a
 * partition (both directions blocked) stalls every connection, and a
 * one-way block a -> b stops a's calls to b while b's calls to a, and
 * their answers, go through. */
static bool path_open(const sim_conn_net *cn, const conn_rec *c)
{
    return sim_net_reachable(cn->sim, c->client, c->server);
}

static bool lost(sim_conn_net *cn, conn_rec *c, sim_node_id src, sim_node_id dst)
{
    const sim_link_params *lp = sim_net_link(cn->sim, src, dst);
    return lp->loss_ppm > 0 && sim_rng_chance_ppm(&c->rng, lp->loss_ppm);
}

/* --- Message statistics -------------------------------------------------
 *
 * Messages of this layer are counted in the network's per-(source,
 * destination, type) tables (sim_net_stats), the request under its tag,
 * the response under the type its server gave.  A message is sent when
 * it is written on an established connection, delivered when its reader
 * has it (the server process, or the client's socket), and dropped when
 * the connection dies under it: a reset from a crashed receiver is
 * receiver_down, an expired retransmission limit is partition, a response
 * nobody waits for is late_response.  Connection attempts are not
 * messages; their failures are outcomes (sim_conn_stats). */

static sim_msg_stats *xfer_stats(sim_conn_net *cn, const conn_rec *c)
{
    return c->dir == 0 ? sim__net_stats_slot(cn->sim, c->client, c->server, c->tag)
                       : sim__net_stats_slot(cn->sim, c->server, c->client, c->resp_type);
}

static void count_sent(sim_conn_net *cn, const conn_rec *c, uint32_t bytes)
{
    sim_msg_stats *st = xfer_stats(cn, c);
    if (st == NULL) return;
    st->sent++;
    st->bytes_sent += bytes;
}

/* The message in transfer on `c`, for the trace hook (replay --trace and
 * the Perfetto export): delivered (reason < 0) or dropped. */
static void trace_xfer(sim_conn_net *cn, const conn_rec *c, uint32_t bytes, int reason)
{
    if (!sim__tracing(cn->sim)) return;
    sim_message msg;
    memset(&msg, 0, sizeof msg);
    msg.src = c->dir == 0 ? c->client : c->server;
    msg.dst = c->dir == 0 ? c->server : c->client;
    msg.type = (uint16_t)(c->dir == 0 ? c->tag : c->resp_type);
    msg.bytes = bytes;
    msg.sent_at_ns = c->sent_at_ns;
    msg.payload = c->payload;
    msg.dropped = (int8_t)reason;
    sim__trace_message(cn->sim, msg.dst, &msg);
}

static void count_delivered(sim_conn_net *cn, const conn_rec *c, uint32_t bytes)
{
    trace_xfer(cn, c, bytes, -1);
    sim_msg_stats *st = xfer_stats(cn, c);
    if (st == NULL) return;
    st->delivered++;
    st->bytes_delivered += bytes;
}

static void count_dropped(sim_conn_net *cn, const conn_rec *c, sim_drop_reason reason)
{
    trace_xfer(cn, c, c->msg_bytes, (int)reason);
    sim_msg_stats *st = xfer_stats(cn, c);
    if (st != NULL) st->dropped[reason]++;
}

/* --- Outcomes ------------------------------------------------------------ */

static void pool_serve(sim_conn_net *cn, uint32_t pool);
static void pool_check(sim_conn_net *cn, uint32_t pool);

/* Ends request `ri` with `outcome`; `response` (owned, may be NULL) is
 * lent to the handler and released after it. */
static void deliver_now(sim_conn_net *cn, uint32_t ri, sim_conn_outcome outcome, uint32_t resp_bytes,
                        sim_payload *response)
{
    req_rec *r = &cn->reqs[ri];
    sim_conn_result res;
    memset(&res, 0, sizeof res);
    res.outcome = outcome;
    res.client = cn->pools[r->pool].client;
    res.server = r->dst;
    res.response_bytes = outcome == SIM_CONN_OK ? resp_bytes : 0;
    res.started_ns = r->started_ns;
    res.reused = r->reused;
    res.response = outcome == SIM_CONN_OK ? response : NULL;
    sim_conn_result_fn *fn = r->fn;
    void *ctx = r->ctx;
    uint64_t arg = r->arg;
    cn->stats.outcomes[outcome]++;
    req_free(cn, ri);
    fn(cn->sim, ctx, arg, &res);   /* may call back into the layer: no record pointer survives */
    sim_payload_release(response);
}

static void proc_deliver(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    sim_conn_net *cn = ctx;
    uint32_t ri = unpack_index(arg);
    req_rec *r = &cn->reqs[ri];
    if (r->generation != unpack_tag(arg) || r->phase != R_DELIVER) return;
    r->timer.generation = 0;
    sim_payload *response = r->resp_payload;
    r->resp_payload = NULL;
    deliver_now(cn, ri, (sim_conn_outcome)r->pending, r->resp_bytes, response);
}

/* An outcome found by the client's kernel: the process learns it now if it
 * runs, at resume if paused, never if its host went down. */
static void finish_from_kernel(sim_conn_net *cn, uint32_t ri, sim_conn_outcome outcome, uint32_t resp_bytes,
                               sim_payload *response)
{
    req_rec *r = &cn->reqs[ri];
    if (r->timer.generation != 0) sim_cancel(cn->sim, r->timer);
    r->timer.generation = 0;
    sim_node_id client = cn->pools[r->pool].client;
    switch (sim_node_state_get(cn->sim, client)) {
    case SIM_NODE_UP:
        deliver_now(cn, ri, outcome, resp_bytes, response);
        return;
    case SIM_NODE_PAUSED:
        r->phase = R_DELIVER;
        r->pending = (uint8_t)outcome;
        r->resp_bytes = resp_bytes;
        r->resp_payload = response;
        (void)proc_after(cn, client, 0, proc_deliver, pack(ri, r->generation), &r->timer);
        return;
    case SIM_NODE_DOWN:
        sim_payload_release(response);
        req_free(cn, ri);
        return;
    }
}

static void txq_cut(sim_conn_net *cn, uint32_t ci);

/* The client process stops using connection `ci`: back to the pool after a
 * good exchange, else closed.  The pool then serves its waiters. */
static void conn_release(sim_conn_net *cn, uint32_t ci, bool reusable)
{
    conn_rec *c = &cn->conns[ci];
    uint32_t pool = c->pool;
    pool_rec *pl = &cn->pools[pool];
    c->req = NONE;
    sim_time_ns now = sim_now(cn->sim);
    if (reusable && (c->expires_at_ns == 0 || now < c->expires_at_ns)) {
        if (!SIM_VEC_RESERVE(pl->idle, pl->idle_len, pl->idle_cap, 1)) {
            fail_nomem(cn, "the idle list");
            return;
        }
        c->state = C_IDLE;
        pl->idle[pl->idle_len++] = (idle_rec){ .conn = ci, .server = c->server, .expires_at_ns = c->expires_at_ns };
    } else {
        SIM_ASSERT(pl->total > 0 && pl->route[c->server] > 0);
        pl->total--;
        pl->route[c->server]--;
        if (c->xfer == X_NONE && !c->read_pending) {
            conn_free(cn, ci);
        } else {
            c->state = C_ORPHAN;
            txq_cut(cn, ci);
        }
    }
    pool_serve(cn, pool);
}

/* --- Transfers ----------------------------------------------------------- */

static void ev_arrive(sim_engine *sim, void *ctx, uint64_t arg);
static void ev_retx(sim_engine *sim, void *ctx, uint64_t arg);
static void ev_synack(sim_engine *sim, void *ctx, uint64_t arg);
static void ev_rst(sim_engine *sim, void *ctx, uint64_t arg);
static void proc_server_read(sim_engine *sim, void *ctx, uint64_t arg);
static void proc_window(sim_engine *sim, void *ctx, uint64_t arg);
static void ev_retx_window(sim_engine *sim, void *ctx, uint64_t arg);

static sim_node_id xfer_src(const conn_rec *c)
{
    return c->dir == 0 ? c->client : c->server;
}

static sim_node_id xfer_dst(const conn_rec *c)
{
    return c->dir == 0 ? c->server : c->client;
}

/* Notes that connection `ci`'s transfer, just given to the link, holds it
 * during the window arrival_at computed.  Entries whose window has passed
 * are dropped from the head first. */
static void txq_push(sim_conn_net *cn, uint32_t ci, size_t link, sim_time_ns arrive_ns)
{
    tx_queue *q = &cn->txq[link];
    sim_time_ns now = sim_now(cn->sim);
    while (q->head < q->len && q->e[q->head].end_ns <= now) q->head++;
    if (q->head == q->len) q->head = q->len = 0;
    if (q->head > 0 && q->len == q->cap) {
        memmove(q->e, q->e + q->head, (q->len - q->head) * sizeof *q->e);
        q->len -= q->head;
        q->head = 0;
    }
    if (!SIM_VEC_RESERVE(q->e, q->len, q->cap, 1)) {
        fail_nomem(cn, "transmit queues");
        return;
    }
    const conn_rec *c = &cn->conns[ci];
    q->e[q->len++] = (tx_entry){ ci, c->generation, c->epoch, now, cn->tx_start_ns, cn->tx_end_ns, arrive_ns };
}

/* The client of connection `ci` closed it while the server's response was
 * still being serialized onto a bandwidth-limited link.  The client's
 * kernel answers the next segment with a reset; when that reaches the
 * server, its kernel discards the unsent rest of the send buffer
 * (RFC 793 section 3.4; Linux tcp_reset -> tcp_done), so the link is free
 * from then on and the transfers queued behind move up.  The server learns
 * of the reset then (a late response, as ev_rst counts it).  Without this
 * a timed-out 49 KB snapshot over a 2 KiB/s link held every later message
 * on it for 25 s.  Nothing happens when the reset cannot reach the server
 * (the path is cut) or arrives after the response's last byte left. */
static void txq_cut(sim_conn_net *cn, uint32_t ci)
{
    conn_rec *c = &cn->conns[ci];
    if (cn->txq == NULL || c->xfer != X_DATA || c->dir != 1 || !path_open(cn, c)) return;
    size_t link = (size_t)c->server * cn->n + c->client;
    tx_queue *q = &cn->txq[link];
    uint32_t i = q->head;
    while (i < q->len && !(q->e[i].conn == ci && q->e[i].generation == c->generation && q->e[i].epoch == c->epoch)) i++;
    if (i == q->len) return;   /* not on the wire: waiting for a retransmission or a window */
    sim_time_ns rst_at = arrival_at(cn, c, c->client, c->server, 0);
    tx_entry *cut = &q->e[i];
    if (rst_at >= cut->end_ns) return;
    sim_time_ns end = rst_at > cut->start_ns ? rst_at : cut->start_ns;
    sim_time_ns old_end = cut->end_ns;
    cut->end_ns = end;
    kernel_at(cn, ci, rst_at, ev_rst);
    cut->epoch = c->epoch;
    /* Everything after it on the link was handed over before now, while
     * it held the link, so queued right behind it: all move up by what
     * the cut freed. */
    for (uint32_t j = i + 1; j < q->len; j++) {
        tx_entry *e = &q->e[j];
        SIM_ASSERT(e->send_ns < end && e->start_ns >= old_end);
        e->start_ns -= old_end - end;
        e->end_ns -= old_end - end;
        e->arrive_ns -= old_end - end;
        conn_rec *o = &cn->conns[e->conn];
        if (o->state != C_FREE && o->generation == e->generation && o->epoch == e->epoch) {
            kernel_at(cn, e->conn, e->arrive_ns, ev_arrive);
            e->epoch = o->epoch;
        }
    }
    cn->tx_free[link] = q->e[q->len - 1].end_ns;   /* every transfer on the link is in its queue */
}

/* Sends (or resends) the current transfer now. */
static void transmit(sim_conn_net *cn, uint32_t ci)
{
    conn_rec *c = &cn->conns[ci];
    sim_node_id src = xfer_src(c), dst = xfer_dst(c);
    c->sent_at_ns = sim_now(cn->sim);
    bool ok = path_open(cn, c);
    /* One loss draw per transmission (two for a handshake: SYN and SYN-ACK). */
    if (ok && lost(cn, c, src, dst)) ok = false;
    if (ok && c->xfer == X_SYN && lost(cn, c, dst, src)) ok = false;
    if (ok) {
        uint32_t bytes = c->xfer == X_SYN ? 0 : c->bytes_left;
        sim_time_ns at = arrival_at(cn, c, src, dst, bytes);
        kernel_at(cn, ci, at, ev_arrive);
        if (cn->tx_end_ns != 0) txq_push(cn, ci, (size_t)src * cn->n + dst, at);
    } else {
        kernel_at(cn, ci, c->sent_at_ns + c->rto_ns, ev_retx);
    }
}

static void xfer_start(sim_conn_net *cn, uint32_t ci, xfer_kind kind, uint8_t dir, uint32_t bytes)
{
    conn_rec *c = &cn->conns[ci];
    c->xfer = (uint8_t)kind;
    c->dir = dir;
    c->msg_bytes = bytes;
    c->bytes_left = bytes;
    c->tries = 0;
    if (kind == X_SYN) {
        c->rto_ns = cn->p.syn_rto_ns;
    } else {
        c->rto_ns = c->rtt_ns + cn->p.rto_min_ns;
        if (c->rto_ns > cn->p.rto_max_ns) c->rto_ns = cn->p.rto_max_ns;
    }
    transmit(cn, ci);
}

/* The current request of connection `ci`, if its caller still waits in
 * `phase`. */
static uint32_t waiting_req(const sim_conn_net *cn, const conn_rec *c, req_phase phase)
{
    if (c->req == NONE) return NONE;
    const req_rec *r = &cn->reqs[c->req];
    return r->phase == phase && r->conn != NONE ? c->req : NONE;
}

/* The connection is dead on the client's side: the caller (if any still
 * waits on it) gets `outcome`. */
static void conn_fail(sim_conn_net *cn, uint32_t ci, sim_conn_outcome outcome)
{
    conn_rec *c = &cn->conns[ci];
    if (c->xfer == X_DATA && c->dir == 0) {
        count_dropped(cn, c, outcome == SIM_CONN_RESET ? SIM_DROP_RECEIVER_DOWN : SIM_DROP_PARTITION);
    }
    c->xfer = X_NONE;
    c->read_pending = false;
    if (c->state == C_ORPHAN) {
        conn_free(cn, ci);
        return;
    }
    uint32_t ri = c->req;
    if (c->state == C_IDLE) {
        /* Not reachable: an idle connection has no transfer. */
        SIM_ASSERT(0);
    }
    conn_release(cn, ci, false);
    if (ri != NONE && cn->reqs[ri].phase != R_FREE && cn->reqs[ri].conn == ci) {
        finish_from_kernel(cn, ri, outcome, 0, NULL);
    }
}

static void ev_retx(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    sim_conn_net *cn = ctx;
    uint32_t ci = unpack_index(arg);
    conn_rec *c = &cn->conns[ci];
    if (c->epoch != unpack_tag(arg) || c->state == C_FREE || c->xfer == X_NONE) return;
    /* A crashed sender's kernel retransmits nothing. */
    bool sender_alive = c->dir == 0 ? host_has(cn, c->client, c->client_inc)
                                    : host_has(cn, c->server, c->server_inc);
    if (!sender_alive) {
        if (c->dir == 0 && c->state == C_ORPHAN) {
            conn_free(cn, ci);
        } else if (c->dir == 0) {
            pool_check(cn, c->pool);
        } else {
            cn->stats.late_responses++;
            count_dropped(cn, c, SIM_DROP_LATE_RESPONSE);
            c->xfer = X_NONE;
            if (c->state == C_ORPHAN) conn_free(cn, ci);
        }
        return;
    }
    uint32_t limit = c->xfer == X_SYN ? cn->p.syn_retries
                     : (c->state == C_ORPHAN && c->dir == 0) ? cn->p.orphan_retries
                                                             : cn->p.retries2;
    if (c->tries >= limit) {
        if (c->xfer == X_SYN) {
            conn_fail(cn, ci, SIM_CONN_CONNECT_TIMEOUT);
        } else if (c->dir == 0) {
            conn_fail(cn, ci, SIM_CONN_RETRIES_EXHAUSTED);
        } else {
            /* The server gives up on a response; its client, idle in a
             * read, learns nothing (no keepalive). */
            cn->stats.late_responses++;
            count_dropped(cn, c, SIM_DROP_LATE_RESPONSE);
            c->xfer = X_NONE;
            if (c->state == C_ORPHAN) conn_free(cn, ci);
        }
        return;
    }
    c->tries++;
    cn->stats.retransmissions++;
    c->rto_ns *= 2;
    if (c->xfer != X_SYN && c->rto_ns > cn->p.rto_max_ns) c->rto_ns = cn->p.rto_max_ns;
    transmit(cn, ci);
}

/* The transfer failed to land (a partition caught it in flight): the
 * sender's timer resends it. */
static void retry_later(sim_conn_net *cn, uint32_t ci)
{
    conn_rec *c = &cn->conns[ci];
    kernel_at(cn, ci, c->sent_at_ns + c->rto_ns, ev_retx);
}

/* The receiver's host has no such connection: it answers with a reset,
 * which reaches the sender unless the way back is blocked or loses it. */
static void send_rst(sim_conn_net *cn, uint32_t ci)
{
    conn_rec *c = &cn->conns[ci];
    sim_node_id src = xfer_dst(c), dst = xfer_src(c);
    if (!path_open(cn, c) || lost(cn, c, src, dst)) {
        retry_later(cn, ci);
        return;
    }
    kernel_at(cn, ci, arrival_at(cn, c, src, dst, 0), ev_rst);
}

static void ev_rst(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    sim_conn_net *cn = ctx;
    uint32_t ci = unpack_index(arg);
    conn_rec *c = &cn->conns[ci];
    if (c->epoch != unpack_tag(arg) || c->state == C_FREE) return;
    if (c->dir == 0) {
        conn_fail(cn, ci, c->xfer == X_SYN ? SIM_CONN_REFUSED : SIM_CONN_RESET);
    } else {
        /* The server learns its client is gone; the response is lost. */
        cn->stats.late_responses++;
        count_dropped(cn, c, SIM_DROP_LATE_RESPONSE);
        c->xfer = X_NONE;
        if (c->state == C_ORPHAN) conn_free(cn, ci);
    }
}

static bool read_deadline_add(sim_conn_net *cn, uint32_t ri);

/* The client process writes request `ri` on established connection `ci`. */
static void exchange_start(sim_conn_net *cn, uint32_t ci, uint32_t ri)
{
    conn_rec *c = &cn->conns[ci];
    req_rec *r = &cn->reqs[ri];
    if (r->timer.generation != 0) sim_cancel(cn->sim, r->timer);
    r->timer.generation = 0;
    r->phase = R_SENT;
    r->conn = ci;
    c->req = ri;
    c->state = C_BUSY;
    c->exchange++;
    c->tag = r->tag;
    sim_payload_release(c->payload);
    c->payload = r->payload;
    r->payload = NULL;
    c->replied = false;
    c->dir = 0;
    uint32_t bytes = r->bytes;
    count_sent(cn, c, bytes);
    if (r->to.read_ns > 0) {
        if (!read_deadline_add(cn, ri)) return;
    }
    xfer_start(cn, ci, X_DATA, 0, bytes);
}

static void ev_synack(sim_engine *sim, void *ctx, uint64_t arg)
{
    sim_conn_net *cn = ctx;
    uint32_t ci = unpack_index(arg);
    conn_rec *c = &cn->conns[ci];
    if (c->epoch != unpack_tag(arg) || c->state != C_CONNECTING || c->xfer != X_SYN) return;
    if (!host_has(cn, c->client, c->client_inc)) {
        pool_check(cn, c->pool);
        return;
    }
    c->xfer = X_NONE;
    c->rtt_ns = sim_now(sim) - c->sent_at_ns;
    uint32_t ri = waiting_req(cn, c, R_CONNECTING);
    SIM_ASSERT(ri != NONE);   /* a connect timeout frees its connection */
    /* Connected: the request is written at once (a paused client's
     * process would write it at resume: not modelled, see the header). */
    exchange_start(cn, ci, ri);
}

/* Data (or a SYN) reaches the receiver's kernel. */
static void ev_arrive(sim_engine *sim, void *ctx, uint64_t arg)
{
    sim_conn_net *cn = ctx;
    uint32_t ci = unpack_index(arg);
    conn_rec *c = &cn->conns[ci];
    if (c->epoch != unpack_tag(arg) || c->state == C_FREE || c->xfer == X_NONE) return;
    sim_node_id src = xfer_src(c), dst = xfer_dst(c);
    if (!path_open(cn, c)) {   /* caught by a partition in flight */
        retry_later(cn, ci);
        return;
    }
    if (c->xfer == X_SYN) {
        if (sim_node_state_get(sim, dst) == SIM_NODE_DOWN) {
            send_rst(cn, ci);
            return;
        }
        /* UP or PAUSED: the kernel completes the handshake. */
        c->server_inc = sim_node_incarnation(sim, dst);
        kernel_at(cn, ci, arrival_at(cn, c, dst, src, 0), ev_synack);
        return;
    }
    bool alive = c->dir == 0 ? host_has(cn, c->server, c->server_inc)
                             : host_has(cn, c->client, c->client_inc) && c->state != C_ORPHAN;
    if (!alive) {
        send_rst(cn, ci);
        return;
    }
    sim_node_state st = sim_node_state_get(sim, dst);
    if (st == SIM_NODE_PAUSED && c->bytes_left > cn->p.rcvbuf_bytes) {
        /* The receive buffer fills; the rest waits for the window update
         * the process sends when it reads, at resume. */
        c->bytes_left -= cn->p.rcvbuf_bytes;
        c->epoch++;
        (void)proc_after(cn, dst, 0, proc_window, pack(ci, c->epoch), NULL);
        return;
    }
    c->xfer = X_NONE;
    if (c->dir == 0) {
        c->read_pending = true;
        if (st == SIM_NODE_UP) {
            proc_server_read(sim, cn, pack(ci, c->generation));
        } else {
            (void)proc_after(cn, dst, 0, proc_server_read, pack(ci, c->generation), NULL);
        }
        return;
    }
    /* The response is in the client's socket: the exchange is complete. */
    uint32_t ri = waiting_req(cn, c, R_SENT);
    uint32_t bytes = c->msg_bytes;
    if (ri != NONE) {
        count_delivered(cn, c, bytes);
    } else {
        count_dropped(cn, c, SIM_DROP_LATE_RESPONSE);
    }
    sim_payload *response = c->payload;
    c->payload = NULL;
    conn_release(cn, ci, true);
    if (ri != NONE) {
        finish_from_kernel(cn, ri, SIM_CONN_OK, bytes, response);
    } else {
        sim_payload_release(response);
    }
}

/* ev_arrive's prefetch hint: a request about to reach its server hands
 * its payload to the layer's hint, so that what the server's handler
 * reads first (for a proxied beat, the owner's instance list) loads while
 * the events before it run.  Reads only; a stale or other event is let
 * be. */
static void ev_arrive_prefetch(const void *ctx, uint64_t arg)
{
    const sim_conn_net *cn = ctx;
    uint32_t ci = unpack_index(arg);
    if (cn->prefetch == NULL || ci >= cn->conns_len) return;
    const conn_rec *c = &cn->conns[ci];
    if (c->epoch != unpack_tag(arg) || c->xfer != X_DATA || c->dir != 0 || c->payload == NULL) return;
    cn->prefetch(cn->prefetch_ctx, c->server, c->payload);
}

sim_status sim_conn_set_prefetch(sim_conn_net *cn, sim_conn_prefetch_fn *fn, const void *ctx, sim_error *err)
{
    sim_status st = sim_set_prefetch(cn->sim, ev_arrive, fn != NULL ? ev_arrive_prefetch : NULL, err);
    if (st != SIM_OK) return st;
    cn->prefetch = fn;
    cn->prefetch_ctx = ctx;
    return SIM_OK;
}

/* The receiving process read its buffer at resume: the window opens and
 * the rest of the message follows one window update later. */
static void proc_window(sim_engine *sim, void *ctx, uint64_t arg)
{
    sim_conn_net *cn = ctx;
    uint32_t ci = unpack_index(arg);
    conn_rec *c = &cn->conns[ci];
    if (c->epoch != unpack_tag(arg) || c->state == C_FREE || c->xfer != X_DATA) return;
    sim_node_id back_src = xfer_dst(c), back_dst = xfer_src(c);
    sim_time_ns update_at = arrival_at(cn, c, back_src, back_dst, 0);
    (void)sim;
    kernel_at(cn, ci, update_at, ev_retx_window);
}

static void ev_retx_window(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    sim_conn_net *cn = ctx;
    uint32_t ci = unpack_index(arg);
    conn_rec *c = &cn->conns[ci];
    if (c->epoch != unpack_tag(arg) || c->state == C_FREE || c->xfer != X_DATA) return;
    transmit(cn, ci);
}

static void proc_server_read(sim_engine *sim, void *ctx, uint64_t arg)
{
    sim_conn_net *cn = ctx;
    uint32_t ci = unpack_index(arg);
    conn_rec *c = &cn->conns[ci];
    if (c->generation != unpack_tag(arg) || c->state == C_FREE || !c->read_pending) return;
    c->read_pending = false;
    cn->stats.served++;
    count_delivered(cn, c, c->msg_bytes);
    bool gone = c->state == C_ORPHAN;
    if (gone) cn->stats.late_requests++;
    sim_conn_token token = {ci, c->generation, c->exchange};
    sim_node_id server = c->server, client = c->client;
    uint32_t bytes = c->msg_bytes;
    uint64_t tag = c->tag;
    sim_payload *payload = c->payload;
    c->payload = NULL;
    listener l = cn->listeners[server];
    if (gone && c->xfer == X_NONE) conn_free(cn, ci);   /* a later answer is counted late */
    if (l.fn != NULL) l.fn(sim, server, l.ctx, client, bytes, tag, payload, token);
    sim_payload_release(payload);
}

sim_status sim_conn_respond(sim_conn_net *cn, sim_conn_token token, uint16_t type, uint32_t bytes,
                            sim_payload *payload, sim_error *err)
{
    const char *where = "sim_conn_respond";
    if (token.conn >= cn->conns_len) {
        sim_payload_release(payload);
        return sim_error_set(err, SIM_ERR_INVALID, where, "unknown connection");
    }
    conn_rec *c = &cn->conns[token.conn];
    if (c->generation != token.generation || c->state == C_FREE) {
        sim_payload_release(payload);
        cn->stats.late_responses++;   /* the connection is gone: nobody reads this */
        return SIM_OK;
    }
    if (c->exchange != token.exchange || c->replied) {
        sim_payload_release(payload);
        return sim_error_set(err, SIM_ERR_STATE, where, "request %u on connection %u was already answered",
                             token.exchange, token.conn);
    }
    if (sim_node_incarnation(cn->sim, c->server) != c->server_inc ||
        sim_node_state_get(cn->sim, c->server) == SIM_NODE_DOWN) {
        sim_payload_release(payload);
        return sim_error_set(err, SIM_ERR_STATE, where,
                             "node %u answers a request its earlier incarnation received", c->server);
    }
    c->replied = true;
    c->resp_type = type;
    if (c->state == C_ORPHAN) {
        /* The client closed: its kernel will reset this response. */
        sim_payload_release(payload);
        cn->stats.late_responses++;
        c->dir = 1;
        count_sent(cn, c, bytes);
        count_dropped(cn, c, SIM_DROP_LATE_RESPONSE);
        if (c->xfer == X_NONE && !c->read_pending) conn_free(cn, token.conn);
        return SIM_OK;
    }
    sim_payload_release(c->payload);
    c->payload = payload;
    c->dir = 1;
    count_sent(cn, c, bytes);
    xfer_start(cn, token.conn, X_DATA, 1, bytes);
    return SIM_OK;
}

/* --- Process death -------------------------------------------------------- */

static void idle_close(sim_conn_net *cn, pool_rec *pl, uint32_t at);

static void ev_fin(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    sim_conn_net *cn = ctx;
    uint32_t ci = unpack_index(arg);
    conn_rec *c = &cn->conns[ci];
    if (c->epoch != unpack_tag(arg) || c->state == C_FREE) return;
    if (c->state == C_ORPHAN) {
        conn_free(cn, ci);
        return;
    }
    if (c->state == C_IDLE) {
        pool_rec *pl = &cn->pools[c->pool];
        for (uint32_t k = 0; k < pl->idle_len; k++) {
            if (pl->idle[k].conn == ci) {
                idle_close(cn, pl, k);
                return;
            }
        }
        SIM_ASSERT(0 && "an idle connection is in its pool's idle list");
        return;
    }
    conn_fail(cn, ci, SIM_CONN_RESET);
}

void sim_conn_process_died(sim_conn_net *cn, sim_node_id node)
{
    for (uint32_t ci = 0; ci < cn->conns_len; ci++) {
        conn_rec *c = &cn->conns[ci];
        if (c->state == C_FREE || c->state == C_CONNECTING || c->server != node) continue;
        /* The crash has already moved the node to its next incarnation. */
        if (c->server_inc + 1 != sim_node_incarnation(cn->sim, node)) continue;
        /* A response on its way left before the FIN and arrives first: the
         * client then holds a closed connection, which fails at its next
         * use like a crashed host's. */
        if (c->xfer == X_DATA && c->dir == 1) continue;
        if (!path_open(cn, c)) continue;   /* the FIN is lost: the next send meets a reset */
        if ((c->xfer == X_DATA && c->dir == 0) || c->read_pending) count_dropped(cn, c, SIM_DROP_RECEIVER_DOWN);
        c->xfer = X_NONE;
        c->read_pending = false;
        kernel_at(cn, ci, arrival_at(cn, c, c->server, c->client, 0), ev_fin);
    }
}

/* --- Timeouts ------------------------------------------------------------ */

static void proc_connect_timeout(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    sim_conn_net *cn = ctx;
    uint32_t ri = unpack_index(arg);
    req_rec *r = &cn->reqs[ri];
    if (r->generation != unpack_tag(arg) || r->phase != R_CONNECTING) return;
    r->timer.generation = 0;
    uint32_t ci = r->conn;
    cn->conns[ci].xfer = X_NONE;
    conn_release(cn, ci, false);
    deliver_now(cn, ri, SIM_CONN_CONNECT_TIMEOUT, 0, NULL);
}

static void proc_read_fifo(sim_engine *sim, void *ctx, uint64_t arg);

/* Whether read deadline `d` still names a request waiting for its
 * response.  A request answered, failed or freed never waits again (its
 * record's generation moves on, or it leaves R_SENT for good), so a dead
 * entry stays dead. */
static bool read_deadline_live(const sim_conn_net *cn, const read_deadline *d)
{
    const req_rec *r = &cn->reqs[d->req];
    return r->generation == d->generation && r->phase == R_SENT;
}

/* Arms fifo `f` of `pool` for its first live entry, if it has one and is
 * not armed.  Entries whose request was answered are dropped from the head
 * first: their deadline would fire for nothing, and a proxied beat is
 * answered in a few milliseconds of its 2 s, so without this the timer
 * fired once per request, an event for each (8.4 M of the 1-hour tcp
 * bench's 70 M).  The live entry's deadline is the first one that can
 * time anything out: every entry before it is dead and stays so. */
static bool read_fifo_arm(sim_conn_net *cn, uint32_t pool, uint32_t f)
{
    read_fifo *q = &cn->pools[pool].fifos[f];
    if (q->armed || q->firing) return true;
    while (q->head < q->len && !read_deadline_live(cn, &q->q[q->head])) q->head++;
    if (q->head == q->len) return true;
    sim_time_ns now = sim_now(cn->sim);
    sim_time_ns at = q->q[q->head].deadline_ns;
    q->armed = true;
    return proc_after(cn, cn->pools[pool].client, at > now ? at - now : 0, proc_read_fifo, pack(pool, f), NULL);
}

static bool read_deadline_add(sim_conn_net *cn, uint32_t ri)
{
    req_rec *r = &cn->reqs[ri];
    pool_rec *pl = &cn->pools[r->pool];
    uint32_t f = 0;
    while (f < pl->fifos_len && pl->fifos[f].timeout_ns != r->to.read_ns) f++;
    if (f == pl->fifos_len) {
        if (!SIM_VEC_RESERVE(pl->fifos, pl->fifos_len, pl->fifos_cap, 1)) {
            fail_nomem(cn, "a read deadline queue");
            return false;
        }
        memset(&pl->fifos[f], 0, sizeof pl->fifos[f]);
        pl->fifos[f].timeout_ns = r->to.read_ns;
        pl->fifos_len++;
    }
    read_fifo *q = &pl->fifos[f];
    if (q->head == q->len) q->head = q->len = 0;
    if (q->head > 64 && q->head * 2 > q->len) {
        memmove(q->q, q->q + q->head, (q->len - q->head) * sizeof *q->q);
        q->len -= q->head;
        q->head = 0;
    }
    if (!SIM_VEC_RESERVE(q->q, q->len, q->cap, 1)) {
        fail_nomem(cn, "a read deadline");
        return false;
    }
    q->q[q->len++] = (read_deadline){ri, r->generation, sim_now(cn->sim) + r->to.read_ns};
    return read_fifo_arm(cn, r->pool, f);
}

/* The head of a read deadline queue fell due (late, if the client was
 * paused): every request whose deadline passed and that still waits gets
 * READ_TIMEOUT, in the order they were sent. */
static void proc_read_fifo(sim_engine *sim, void *ctx, uint64_t arg)
{
    sim_conn_net *cn = ctx;
    uint32_t pool = unpack_index(arg), f = unpack_tag(arg);
    cn->pools[pool].fifos[f].armed = false;
    cn->pools[pool].fifos[f].firing = true;
    for (;;) {
        read_fifo *q = &cn->pools[pool].fifos[f];   /* callbacks may grow the arrays */
        if (q->head == q->len || q->q[q->head].deadline_ns > sim_now(sim)) break;
        read_deadline d = q->q[q->head++];
        if (!read_deadline_live(cn, &d)) continue;
        req_rec *r = &cn->reqs[d.req];
        /* The caller closes the connection; a request still in its send
         * buffer goes on as an orphan. */
        conn_release(cn, r->conn, false);
        deliver_now(cn, d.req, SIM_CONN_READ_TIMEOUT, 0, NULL);
    }
    cn->pools[pool].fifos[f].firing = false;
    (void)read_fifo_arm(cn, pool, f);
}

static void proc_lease_timeout(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    sim_conn_net *cn = ctx;
    uint32_t ri = unpack_index(arg);
    req_rec *r = &cn->reqs[ri];
    if (r->generation != unpack_tag(arg) || r->phase != R_LEASING) return;
    r->timer.generation = 0;
    pool_rec *pl = &cn->pools[r->pool];
    uint32_t k = 0;
    for (uint32_t i = 0; i < pl->waiters_len; i++) {
        if (pl->waiters[i] != ri) pl->waiters[k++] = pl->waiters[i];
    }
    pl->waiters_len = k;
    deliver_now(cn, ri, SIM_CONN_LEASE_TIMEOUT, 0, NULL);
}

/* --- Pools --------------------------------------------------------------- */

static void idle_remove_at(pool_rec *pl, uint32_t at)
{
    memmove(&pl->idle[at], &pl->idle[at + 1], (pl->idle_len - at - 1) * sizeof *pl->idle);
    pl->idle_len--;
}

/* Closes idle connection idle[at]. */
static void idle_close(sim_conn_net *cn, pool_rec *pl, uint32_t at)
{
    uint32_t ci = pl->idle[at].conn;
    idle_remove_at(pl, at);
    pl->total--;
    pl->route[cn->conns[ci].server]--;
    conn_free(cn, ci);
}

/* Leases a connection for request `ri` if the pool can: true when it did
 * (the request then connects or sends). */
static bool try_lease(sim_conn_net *cn, uint32_t ri)
{
    req_rec *r = &cn->reqs[ri];
    uint32_t pool = r->pool;
    pool_rec *pl = &cn->pools[pool];
    sim_time_ns now = sim_now(cn->sim);
    sim_node_id dst = r->dst;
    /* The most recently released live idle connection of the route. */
    for (uint32_t k = pl->idle_len; k-- > 0;) {
        const idle_rec *e = &pl->idle[k];
        if (e->server != dst) continue;
        uint32_t ci = e->conn;
        if (e->expires_at_ns != 0 && now >= e->expires_at_ns) {
            idle_close(cn, pl, k);
            continue;
        }
        idle_remove_at(pl, k);
        cn->stats.reuses++;
        r->reused = true;
        exchange_start(cn, ci, ri);
        return true;
    }
    if (pl->route[dst] >= pl->p.max_per_route) return false;
    if (pl->total >= pl->p.max_total) {
        uint32_t k = 0;
        while (k < pl->idle_len && pl->idle[k].server == dst) k++;
        if (k == pl->idle_len) return false;
        idle_close(cn, pl, k);   /* the oldest idle connection of another route */
    }
    uint32_t ci = conn_alloc(cn);
    if (ci == NONE) {
        fail_nomem(cn, "a connection");
        return true;
    }
    r = &cn->reqs[ri];
    conn_rec *c = &cn->conns[ci];
    c->state = C_CONNECTING;
    c->pool = pool;
    c->client = pl->client;
    c->server = dst;
    c->client_inc = pl->incarnation;
    c->req = ri;
    c->expires_at_ns = pl->p.ttl_ns > 0 ? now + pl->p.ttl_ns : 0;
    c->rng = sim_rng_derive(sim_seed(cn->sim), SIM_STREAM_CONN(pl->client, dst, pl->serial));
    pl->serial++;
    pl->total++;
    pl->route[dst]++;
    cn->stats.connects++;
    if (r->timer.generation != 0) sim_cancel(cn->sim, r->timer);
    r->timer.generation = 0;
    r->phase = R_CONNECTING;
    r->conn = ci;
    if (r->to.connect_ns > 0) {
        if (!proc_after(cn, pl->client, r->to.connect_ns, proc_connect_timeout, pack(ri, r->generation), &r->timer)) {
            return true;
        }
    }
    xfer_start(cn, ci, X_SYN, 0, 0);
    return true;
}

/* Hands free capacity to waiting requests, in arrival order. */
static void pool_serve(sim_conn_net *cn, uint32_t pool)
{
    pool_rec *pl = &cn->pools[pool];
    uint32_t k = 0;
    for (uint32_t i = 0; i < pl->waiters_len; i++) {
        uint32_t ri = pl->waiters[i];
        if (cn->reqs[ri].phase == R_LEASING && !try_lease(cn, ri)) pl->waiters[k++] = ri;
        pl = &cn->pools[pool];
    }
    pl->waiters_len = k;
}

/* The pool's client crashed since the pool last looked: its connections
 * and waiting requests vanish (their timers died with the incarnation). */
static void pool_check(sim_conn_net *cn, uint32_t pool)
{
    pool_rec *pl = &cn->pools[pool];
    uint32_t inc = sim_node_incarnation(cn->sim, pl->client);
    bool down = sim_node_state_get(cn->sim, pl->client) == SIM_NODE_DOWN;
    if (inc == pl->incarnation && !down) return;
    for (uint32_t ci = 0; ci < cn->conns_len; ci++) {
        conn_rec *c = &cn->conns[ci];
        if (c->state == C_FREE || c->pool != pool || c->client_inc != pl->incarnation) continue;
        if (c->state == C_ORPHAN) continue;
        c->req = NONE;
        if (c->read_pending || (c->xfer == X_DATA && c->dir == 1)) {
            c->state = C_ORPHAN;   /* the server side still holds it */
        } else {
            conn_free(cn, ci);
        }
    }
    for (uint32_t ri = 0; ri < cn->reqs_len; ri++) {
        if (cn->reqs[ri].phase != R_FREE && cn->reqs[ri].pool == pool) req_free(cn, ri);
    }
    memset(pl->route, 0, cn->n * sizeof *pl->route);
    pl->total = 0;
    pl->idle_len = 0;
    pl->waiters_len = 0;
    for (uint32_t f = 0; f < pl->fifos_len; f++) {   /* their timers died with the incarnation */
        pl->fifos[f].head = pl->fifos[f].len = 0;
        pl->fifos[f].armed = pl->fifos[f].firing = false;
    }
    if (!down) pl->incarnation = inc;
}

/* Fails a request before it exists: the payload reference is dropped, as
 * on every path. */
static sim_status request_refused(sim_payload *payload, sim_status st)
{
    sim_payload_release(payload);
    return st;
}

sim_status sim_conn_request(sim_conn_net *cn, sim_conn_pool_id pool, sim_node_id dst, uint32_t req_bytes,
                            uint64_t tag, sim_payload *payload, const sim_conn_timeouts *timeouts,
                            sim_conn_result_fn *fn, void *ctx, uint64_t arg, sim_error *err)
{
    const char *where = "sim_conn_request";
    if (pool >= cn->pools_len) {
        return request_refused(payload, sim_error_set(err, SIM_ERR_INVALID, where, "unknown pool %u", pool));
    }
    if (dst >= cn->n) {
        return request_refused(payload, sim_error_set(err, SIM_ERR_INVALID, where, "unknown destination node %u", dst));
    }
    if (fn == NULL) return request_refused(payload, sim_error_set(err, SIM_ERR_INVALID, where, "no outcome handler"));
    pool_check(cn, pool);
    sim_node_id client = cn->pools[pool].client;
    if (sim_node_state_get(cn->sim, client) != SIM_NODE_UP) {
        return request_refused(payload, sim_error_set(err, SIM_ERR_STATE, where, "client node %u is not up", client));
    }
    pool_rec *pl = &cn->pools[pool];
    if (!SIM_VEC_RESERVE(pl->waiters, pl->waiters_len, pl->waiters_cap, 1)) {
        return request_refused(payload, sim_error_set(err, SIM_ERR_NOMEM, where, "cannot grow the lease queue"));
    }
    uint32_t ri = req_alloc(cn);
    if (ri == NONE) return request_refused(payload,
            sim_error_set(err, SIM_ERR_NOMEM, where, "cannot allocate a request"));
    req_rec *r = &cn->reqs[ri];
    r->phase = R_LEASING;
    r->pool = pool;
    r->dst = dst;
    r->bytes = req_bytes;
    r->tag = tag;
    r->payload = payload;
    if (timeouts != NULL) r->to = *timeouts;
    r->fn = fn;
    r->ctx = ctx;
    r->arg = arg;
    r->started_ns = sim_now(cn->sim);
    cn->stats.requests++;
    /* Earlier waiters go first; a route with room does not wait for
     * another route's waiters. */
    if (pl->waiters_len == 0) {
        if (try_lease(cn, ri)) return SIM_OK;
    } else {
        pl->waiters[pl->waiters_len++] = ri;
        pool_serve(cn, pool);
        if (cn->reqs[ri].phase != R_LEASING) return SIM_OK;
        pl = &cn->pools[pool];
        pl->waiters_len--;   /* still waiting: it is the last one, re-added below */
        SIM_ASSERT(pl->waiters[pl->waiters_len] == ri);
    }
    r = &cn->reqs[ri];
    pl = &cn->pools[pool];
    pl->waiters[pl->waiters_len++] = ri;
    if (r->to.lease_ns > 0) {
        sim_status st = sim_timer_start(cn->sim, client, r->to.lease_ns, SIM_KIND_CONN_PROC, proc_lease_timeout, cn,
                                        pack(ri, r->generation), &r->timer, err);
        if (st != SIM_OK) {
            pl->waiters_len--;
            req_free(cn, ri);   /* releases the payload */
            cn->stats.requests--;
            return st;
        }
    }
    return SIM_OK;
}
