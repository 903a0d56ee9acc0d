/* sim_net.c: links, partitions, message delivery, statistics and requests.
 *
 * A message in flight is a delivery event (fn == sim__net_deliver) whose
 * fields carry the source, type, size, send time and payload; the engine
 * hands it to sim__net_deliver_event when it is due.
 *
 * Invariants:
 *   (1) every payload reference is held by exactly one queued delivery
 *       event (a duplicate holds its own reference);
 *   (2) an RPC record is FREE, or IN_FLIGHT / DELIVERED / REPLIED with an
 *       armed timeout on its caller, and its generation changes when freed;
 *   (3) on a FIFO link, deliveries are scheduled in send order at
 *       non-decreasing times, and equal times run in send order (seq).
 *
 * RPC records come from a pool that grows by doubling; its free list hands
 * out slots last-in-first-out, which depends only on the run's history, so
 * slot numbers never make runs differ. */
#include "sim_engine_int.h"
#include "sim_vec.h"

#include <stdlib.h>
#include <string.h>


sim_payload *sim_payload_retain(sim_payload *payload)
{
    if (payload != NULL) {
        SIM_ASSERT(payload->refs > 0);
        payload->refs++;
    }
    return payload;
}

void sim_payload_release(sim_payload *payload)
{
    if (payload == NULL) return;
    SIM_ASSERT(payload->refs > 0);
    if (--payload->refs == 0 && payload->destroy != NULL) payload->destroy(payload);
}

const char *sim_drop_reason_name(sim_drop_reason reason)
{
    switch (reason) {
    case SIM_DROP_LOSS: return "loss";
    case SIM_DROP_PARTITION: return "partition";
    case SIM_DROP_RECEIVER_DOWN: return "receiver_down";
    case SIM_DROP_RECEIVER_RESTARTED: return "receiver_restarted";
    case SIM_DROP_LATE_RESPONSE: return "late_response";
    case SIM_DROP_SENDER_RESTARTED: return "caller_restarted";
    case SIM_DROP_REASONS: break;
    }
    return "unknown";
}

const char *sim_rpc_status_name(sim_rpc_status status)
{
    switch (status) {
    case SIM_RPC_OK: return "ok";
    case SIM_RPC_REFUSED: return "refused";
    case SIM_RPC_TIMEOUT: return "timeout";
    }
    return "unknown";
}

sim_link_params sim_link_params_default(void)
{
    sim_link_params p;
    memset(&p, 0, sizeof p);
    p.latency = sim_latency_constant(1 * SIM_MS);
    return p;
}

/* --- Set-up -------------------------------------------------------------- */

sim_status sim__net_init(sim_engine *sim, sim_error *err)
{
    size_t n = sim->node_count;
    sim->net_default = sim_link_params_default();
    sim->links = calloc(n * n, sizeof *sim->links);
    sim->blocked = calloc((n * n + 63) / 64, sizeof *sim->blocked);
    sim->rpcs_free = SIM_NO_INDEX;
    if (sim->links == NULL || sim->blocked == NULL) {
        return sim_error_set(err, SIM_ERR_NOMEM, "sim_engine_create", "cannot allocate %zu links", n * n);
    }
    return SIM_OK;
}

void sim__net_deinit(sim_engine *sim)
{
    /* Release payloads of messages still queued (in the queue or a backlog). */
    for (uint32_t i = 0; i < sim->events_cap; i++) {
        const sim_event *ev = &sim->events[i];
        if ((ev->flags & SIM_EV_QUEUED) && ev->fn == sim__net_deliver) sim_payload_release(ev->ctx);
    }
    for (uint32_t t = 0; t < SIM_MSG_TYPES_MAX; t++) free(sim->stats_by_type[t]);
    free(sim->links);
    free(sim->overrides);
    free(sim->blocked);
    free(sim->link_rngs);
    free(sim->rpcs);
    for (uint32_t i = 0; i < sim->fifos_len; i++) free(sim->fifos[i].ring);
    free(sim->fifos);
    sim->fifos = NULL;
    memset(sim->stats_by_type, 0, sizeof sim->stats_by_type);
    sim->links = NULL;
    sim->overrides = NULL;
    sim->blocked = NULL;
    sim->link_rngs = NULL;
    sim->rpcs = NULL;
}

void sim__net_deliver(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)ctx;
    (void)arg;
    SIM_ASSERT(0 && "delivery events are dispatched by sim__net_deliver_event");
}

static sim_status check_pair(const sim_engine *sim, sim_node_id src, sim_node_id dst, const char *where,
                             sim_error *err)
{
    if (src >= sim->node_count) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "unknown source node %u (the cluster has %u)",
                             src, sim->node_count);
    }
    if (dst >= sim->node_count) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "unknown destination node %u (the cluster has %u)",
                             dst, sim->node_count);
    }
    return SIM_OK;
}

static inline sim_link *link_of(const sim_engine *sim, sim_node_id src, sim_node_id dst)
{
    return &sim->links[(size_t)src * sim->node_count + dst];
}

static sim_status params_validate(const sim_link_params *p, const char *where, sim_error *err)
{
    if (p == NULL) return sim_error_set(err, SIM_ERR_INVALID, where, "link parameters are NULL");
    if (p->loss_ppm > SIM_PPM) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "loss ratio %u ppm is above 1", p->loss_ppm);
    }
    if (p->duplicate_ppm > SIM_PPM) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "duplication ratio %u ppm is above 1",
                             p->duplicate_ppm);
    }
    return sim_latency_validate(&p->latency, err);
}

sim_status sim_net_set_default(sim_engine *sim, const sim_link_params *params, sim_error *err)
{
    sim_status st = params_validate(params, "sim_net_set_default", err);
    if (st != SIM_OK) return st;
    sim->net_default = *params;
    return SIM_OK;
}

sim_status sim_net_set_link(sim_engine *sim, sim_node_id src, sim_node_id dst,
                            const sim_link_params *params, sim_error *err)
{
    sim_status st = check_pair(sim, src, dst, "sim_net_set_link", err);
    if (st != SIM_OK) return st;
    st = params_validate(params, "sim_net_set_link", err);
    if (st != SIM_OK) return st;
    if (sim->overrides == NULL) {
        size_t n = (size_t)sim->node_count * sim->node_count;
        sim->overrides = calloc(n, sizeof *sim->overrides);
        if (sim->overrides == NULL) {
            return sim_error_set(err, SIM_ERR_NOMEM, "sim_net_set_link", "cannot allocate link overrides");
        }
    }
    size_t index = (size_t)src * sim->node_count + dst;
    sim->overrides[index] = *params;
    sim->links[index].params = &sim->overrides[index];
    return SIM_OK;
}

sim_status sim_net_clear_link(sim_engine *sim, sim_node_id src, sim_node_id dst, sim_error *err)
{
    sim_status st = check_pair(sim, src, dst, "sim_net_clear_link", err);
    if (st != SIM_OK) return st;
    link_of(sim, src, dst)->params = NULL;
    return SIM_OK;
}

const sim_link_params *sim_net_link(const sim_engine *sim, sim_node_id src, sim_node_id dst)
{
    SIM_ASSERT(src < sim->node_count);
    SIM_ASSERT(dst < sim->node_count);
    const sim_link *link = link_of(sim, src, dst);
    return link->params != NULL ? link->params : &sim->net_default;
}

/* --- Partitions ---------------------------------------------------------- */

static void block_set(sim_engine *sim, sim_node_id src, sim_node_id dst, bool blocked)
{
    size_t bit = (size_t)src * sim->node_count + dst;
    uint64_t mask = 1ull << (bit % 64);
    bool was = (sim->blocked[bit / 64] & mask) != 0;
    if (blocked && !was) {
        sim->blocked[bit / 64] |= mask;
        sim->blocked_pairs++;
    } else if (!blocked && was) {
        sim->blocked[bit / 64] &= ~mask;
        sim->blocked_pairs--;
    }
}

bool sim_net_reachable(const sim_engine *sim, sim_node_id src, sim_node_id dst)
{
    if (sim->blocked_pairs == 0) return true;
    size_t bit = (size_t)src * sim->node_count + dst;
    return (sim->blocked[bit / 64] & (1ull << (bit % 64))) == 0;
}

sim_status sim_net_partition(sim_engine *sim, const uint32_t *group_of, uint32_t count, sim_error *err)
{
    if (group_of == NULL || count != sim->node_count) {
        return sim_error_set(err, SIM_ERR_INVALID, "sim_net_partition",
                             "a partition needs one group per node (%u given, %u nodes)", count,
                             sim->node_count);
    }
    for (uint32_t a = 0; a < count; a++) {
        for (uint32_t b = 0; b < count; b++) {
            if (group_of[a] != group_of[b]) block_set(sim, a, b, true);
        }
    }
    return SIM_OK;
}

sim_status sim_net_block(sim_engine *sim, sim_node_id src, sim_node_id dst, sim_error *err)
{
    sim_status st = check_pair(sim, src, dst, "sim_net_block", err);
    if (st != SIM_OK) return st;
    if (src == dst) return sim_error_set(err, SIM_ERR_INVALID, "sim_net_block", "a node cannot block itself");
    block_set(sim, src, dst, true);
    return SIM_OK;
}

sim_status sim_net_isolate(sim_engine *sim, sim_node_id node, sim_error *err)
{
    sim_status st = check_pair(sim, node, node, "sim_net_isolate", err);
    if (st != SIM_OK) return st;
    for (uint32_t other = 0; other < sim->node_count; other++) {
        if (other == node) continue;
        block_set(sim, node, other, true);
        block_set(sim, other, node, true);
    }
    return SIM_OK;
}

void sim_net_heal_all(sim_engine *sim)
{
    size_t words = ((size_t)sim->node_count * sim->node_count + 63) / 64;
    memset(sim->blocked, 0, words * sizeof *sim->blocked);
    sim->blocked_pairs = 0;
}

sim_status sim_net_heal(sim_engine *sim, sim_node_id src, sim_node_id dst, sim_error *err)
{
    sim_status st = check_pair(sim, src, dst, "sim_net_heal", err);
    if (st != SIM_OK) return st;
    block_set(sim, src, dst, false);
    return SIM_OK;
}

sim_status sim_net_heal_node(sim_engine *sim, sim_node_id node, sim_error *err)
{
    sim_status st = check_pair(sim, node, node, "sim_net_heal_node", err);
    if (st != SIM_OK) return st;
    for (uint32_t other = 0; other < sim->node_count; other++) {
        block_set(sim, node, other, false);
        block_set(sim, other, node, false);
    }
    return SIM_OK;
}

/* --- Statistics ---------------------------------------------------------- */

/* Allocates the statistics table of message type `type` if it has none
 * yet.  Every path that counts a message of a type calls this first, when
 * it still has a caller to answer (a send or a reply); deliveries and drops
 * come later and find the table there. */
static sim_status stats_table(sim_engine *sim, uint16_t type, const char *where, sim_error *err)
{
    SIM_ASSERT(type < SIM_MSG_TYPES_MAX);
    if (sim->stats_by_type[type] != NULL) return SIM_OK;
    size_t n = sim->node_count;
    /* calloc maps zero pages lazily: only pairs that talk cost memory. */
    sim_msg_stats *table = calloc(n * n, sizeof *table);
    if (table == NULL) {
        return sim_error_set(err, SIM_ERR_NOMEM, where, "cannot allocate the statistics of message type %u",
                             type);
    }
    sim->stats_by_type[type] = table;
    return SIM_OK;
}

static sim_msg_stats *stats_of(sim_engine *sim, sim_node_id src, sim_node_id dst, uint16_t type)
{
    SIM_ASSERT(type < SIM_MSG_TYPES_MAX);
    sim_msg_stats *table = sim->stats_by_type[type];
    SIM_ASSERT(table != NULL);   /* stats_table ran when the message was sent */
    return &table[(size_t)src * sim->node_count + dst];
}

sim_msg_stats *sim__net_stats_table(sim_engine *sim, uint16_t type)
{
    sim_error e;
    if (stats_table(sim, type, "sim_conn", &e) != SIM_OK) {
        sim_fail(sim, &e);
        return NULL;
    }
    return sim->stats_by_type[type];
}

sim_msg_stats sim_net_stats(const sim_engine *sim, sim_node_id src, sim_node_id dst, uint16_t type)
{
    sim_msg_stats zero;
    memset(&zero, 0, sizeof zero);
    if (src >= sim->node_count || dst >= sim->node_count || type >= SIM_MSG_TYPES_MAX) return zero;
    const sim_msg_stats *table = sim->stats_by_type[type];
    return table == NULL ? zero : table[(size_t)src * sim->node_count + dst];
}

void sim_net_stats_foreach(const sim_engine *sim,
                           void (*fn)(void *ctx, sim_node_id src, sim_node_id dst, uint16_t type,
                                      const sim_msg_stats *stats),
                           void *ctx)
{
    size_t n = sim->node_count;
    for (uint32_t src = 0; src < n; src++) {
        for (uint32_t dst = 0; dst < n; dst++) {
            for (uint16_t type = 0; type < SIM_MSG_TYPES_MAX; type++) {
                const sim_msg_stats *table = sim->stats_by_type[type];
                if (table == NULL) continue;
                const sim_msg_stats *st = &table[(size_t)src * n + dst];
                if (st->sent != 0 || st->delivered != 0) fn(ctx, src, dst, type, st);
            }
        }
    }
}

/* --- Sending ------------------------------------------------------------ */

/* Derives the link's random stream on its first use.  The slot a stream
 * gets in link_rngs is memory layout only: the stream itself depends on
 * (seed, src, dst), never on when it was derived. */
static sim_status link_rng_derive(sim_engine *sim, sim_link *link, sim_node_id src, sim_node_id dst,
                                  sim_error *err)
{
    if (link->rng_slot != 0) return SIM_OK;
    if (!SIM_VEC_RESERVE(sim->link_rngs, sim->link_rngs_len, sim->link_rngs_cap, 1)) {
        return sim_error_set(err, SIM_ERR_NOMEM, "sim_net_send", "cannot grow the link streams beyond %u",
                             sim->link_rngs_len);
    }
    sim->link_rngs[sim->link_rngs_len++] = sim_rng_derive(sim->config.seed, SIM_STREAM_LINK(src, dst));
    link->rng_slot = sim->link_rngs_len;
    return SIM_OK;
}

/* The link's stream, derived already (transmit does it first). */
static sim_rng *link_rng(sim_engine *sim, const sim_link *link)
{
    SIM_ASSERT(link->rng_slot != 0);
    return &sim->link_rngs[link->rng_slot - 1];
}

/* Computes the arrival time on `link` for `bytes` sent now, advancing the
 * transmit queue (unless this is a duplicate) and the FIFO horizon. */
static sim_time_ns link_arrival(sim_engine *sim, sim_link *link, const sim_link_params *p, uint32_t bytes,
                                bool transmit)
{
    sim_time_ns start = sim->now_ns;
    if (transmit && p->bandwidth_bytes_per_s > 0) {
        if (link->tx_free_at_ns > start) start = link->tx_free_at_ns;
        __extension__ typedef unsigned __int128 u128;
        u128 tx = ((u128)bytes * SIM_S + p->bandwidth_bytes_per_s - 1) / p->bandwidth_bytes_per_s;
        start = sim_time_add_sat(start, (sim_time_ns)tx);
        link->tx_free_at_ns = start;
    }
    sim_time_ns latency = p->latency.base.kind == SIM_DIST_CONSTANT && p->latency.tail_ppm == 0
                              ? p->latency.base.a_ns   /* no draw: constant links need no stream */
                              : sim_latency_sample(&p->latency, link_rng(sim, link));
    sim_time_ns at = sim_time_add_sat(start, latency);
    if (!p->reorder) {
        if (at < link->fifo_last_at_ns) at = link->fifo_last_at_ns;
        link->fifo_last_at_ns = at;
    }
    return at;
}

/* Queues one copy of a message as a delivery event; the event takes the
 * given payload reference on success. */
static sim_status enqueue(sim_engine *sim, sim_node_id src, sim_node_id dst, uint16_t type, uint32_t bytes,
                          sim_payload *payload, sim_time_ns at_ns, uint8_t kind, uint32_t rpc_index,
                          uint32_t rpc_generation, sim_error *err)
{
    sim_event_id id;
    sim_status st = sim__schedule(sim, at_ns, SIM_KIND_DELIVER, sim__net_deliver, payload, sim->now_ns, dst, 0,
                                  &id, err);
    if (st != SIM_OK) return st;
    sim_event *ev = &sim->events[id.index];
    ev->msg_kind = kind;
    ev->src = src;
    ev->bytes = bytes;
    ev->type = type;
    ev->rpc_index = rpc_index;
    ev->rpc_generation = rpc_generation;
    return SIM_OK;
}

/* Sends a message of any kind over the link, applying loss and
 * duplication.  Takes `payload` whatever the outcome. */
static sim_status transmit(sim_engine *sim, sim_node_id src, sim_node_id dst, uint16_t type, uint32_t bytes,
                           sim_payload *payload, uint8_t kind, uint32_t rpc_index, uint32_t rpc_generation,
                           sim_error *err)
{
    sim_link *link = link_of(sim, src, dst);
    const sim_link_params *p = link->params != NULL ? link->params : &sim->net_default;
    /* Allocate the type's statistics and derive the link's stream (if a
     * draw below may need it) before anything changes: a failure then
     * leaves the network as it was. */
    sim_status st0 = stats_table(sim, type, "sim_net_send", err);
    if (st0 != SIM_OK) {
        sim_payload_release(payload);
        return st0;
    }
    bool draws = p->loss_ppm > 0 || p->latency.base.kind != SIM_DIST_CONSTANT || p->latency.tail_ppm != 0 ||
                 (kind == SIM_MSG_ONEWAY && p->duplicate_ppm > 0);
    if (draws) {
        sim_status st = link_rng_derive(sim, link, src, dst, err);
        if (st != SIM_OK) {
            sim_payload_release(payload);
            return st;
        }
    }
    sim_msg_stats *stats = stats_of(sim, src, dst, type);
    stats->sent++;
    stats->bytes_sent += bytes;
    if (p->loss_ppm > 0 && sim_rng_chance_ppm(link_rng(sim, link), p->loss_ppm)) {
        stats->dropped[SIM_DROP_LOSS]++;
        sim_payload_release(payload);
        return SIM_OK;
    }
    sim_time_ns at = link_arrival(sim, link, p, bytes, true);
    sim_status st = enqueue(sim, src, dst, type, bytes, payload, at, kind, rpc_index, rpc_generation, err);
    if (st != SIM_OK) {
        sim_payload_release(payload);
        return st;
    }
    /* Requests and responses ride a connection (TCP, HTTP/2): never doubled. */
    if (kind == SIM_MSG_ONEWAY && p->duplicate_ppm > 0 &&
        sim_rng_chance_ppm(link_rng(sim, link), p->duplicate_ppm)) {
        stats->duplicated++;
        sim_time_ns at2 = link_arrival(sim, link, p, bytes, false);
        st = enqueue(sim, src, dst, type, bytes, sim_payload_retain(payload), at2, kind, 0, 0, err);
        if (st != SIM_OK) {
            sim_payload_release(payload);
            return st;
        }
    }
    return SIM_OK;
}

sim_status sim_net_send(sim_engine *sim, sim_node_id src, sim_node_id dst, uint16_t type, uint32_t bytes,
                        sim_payload *payload, sim_error *err)
{
    sim_status st = check_pair(sim, src, dst, "sim_net_send", err);
    if (st == SIM_OK && type >= SIM_MSG_TYPES_MAX) {
        st = sim_error_set(err, SIM_ERR_INVALID, "sim_net_send", "message type %u is above the limit %u",
                           type, (unsigned)SIM_MSG_TYPES_MAX - 1);
    }
    if (st == SIM_OK && sim->nodes[src].state == SIM_NODE_DOWN) {
        st = sim_error_set(err, SIM_ERR_STATE, "sim_net_send", "node %u is down and cannot send", src);
    }
    if (st != SIM_OK) {
        sim_payload_release(payload);
        return st;
    }
    return transmit(sim, src, dst, type, bytes, payload, SIM_MSG_ONEWAY, 0, 0, err);
}

/* --- Requests ------------------------------------------------------------ */

static sim_status rpc_alloc(sim_engine *sim, uint32_t *index_out, sim_error *err)
{
    if (sim->rpcs_free == SIM_NO_INDEX) {
        uint64_t want = sim->rpcs_cap == 0 ? 256 : (uint64_t)sim->rpcs_cap * 2;
        if (want > SIM_RPCS_MAX) {
            return sim_error_set(err, SIM_ERR_LIMIT, "sim_rpc_call", "more than %u requests pending",
                                 (unsigned)SIM_RPCS_MAX);
        }
        uint32_t old_cap = sim->rpcs_cap;
        if (!SIM_VEC_RESERVE(sim->rpcs, old_cap, sim->rpcs_cap, want - old_cap)) {
            return sim_error_set(err, SIM_ERR_NOMEM, "sim_rpc_call", "cannot grow requests to %u",
                                 (unsigned)want);
        }
        SIM_ASSERT(sim->rpcs_cap == want);   /* doubling from 256 or from a power of two: exact */
        for (uint32_t i = (uint32_t)want; i-- > old_cap;) {
            memset(&sim->rpcs[i], 0, sizeof sim->rpcs[i]);
            sim->rpcs[i].generation = 1;
            sim->rpcs[i].next_free = sim->rpcs_free;
            sim->rpcs_free = i;
        }
    }
    *index_out = sim->rpcs_free;
    sim->rpcs_free = sim->rpcs[*index_out].next_free;
    return SIM_OK;
}

static void rpc_free(sim_engine *sim, uint32_t index)
{
    sim_rpc_rec *rec = &sim->rpcs[index];
    SIM_ASSERT(rec->state != SIM_RPC_FREE);
    rec->replied_generation = rec->state == SIM_RPC_REPLIED ? rec->generation : 0;
    rec->caller_dead = false;
    rec->refused = false;
    rec->state = SIM_RPC_FREE;
    rec->generation++;
    if (rec->generation == 0) rec->generation = 1;
    rec->next_free = sim->rpcs_free;
    sim->rpcs_free = index;
}

/* The outcome event, owned by the caller: arg packs index and generation. */
static void rpc_outcome_fire(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status)
{
    (void)ctx;
    uint32_t index = (uint32_t)(arg & 0xffffffffu);
    uint32_t generation = (uint32_t)(arg >> 32);
    sim_rpc_rec *rec = &sim->rpcs[index];
    if (rec->generation != generation || rec->state == SIM_RPC_FREE) return;   /* already settled */
    sim_rpc_fn *fn = rec->fn;
    void *fn_ctx = rec->ctx;
    uint64_t fn_arg = rec->arg;
    rpc_free(sim, index);   /* its deadline entry is now stale and will be skipped */
    fn(sim, fn_ctx, fn_arg, status, NULL);
}

/* --- Timeouts -------------------------------------------------------------- */

static void fifo_fire(sim_engine *sim, void *ctx, uint64_t fifo_index);

/* The timeout queue of (node, timeout_ns), created on first use; NULL
 * with `err` filled when it cannot be created. */
static sim_rpc_fifo *fifo_of(sim_engine *sim, sim_node_id node, sim_time_ns timeout_ns, uint32_t *index_out,
                             sim_error *err)
{
    for (uint32_t i = 0; i < sim->fifos_len; i++) {   /* O(fifos): a few per node */
        if (sim->fifos[i].node == node && sim->fifos[i].timeout_ns == timeout_ns) {
            *index_out = i;
            return &sim->fifos[i];
        }
    }
    if (!SIM_VEC_RESERVE(sim->fifos, sim->fifos_len, sim->fifos_cap, 1)) {
        (void)sim_error_set(err, SIM_ERR_NOMEM, "sim_rpc_call", "cannot grow the timeout queues beyond %u",
                            sim->fifos_len);
        return NULL;
    }
    sim_rpc_fifo *f = &sim->fifos[sim->fifos_len];
    memset(f, 0, sizeof *f);
    f->node = node;
    f->timeout_ns = timeout_ns;
    *index_out = sim->fifos_len++;
    return f;
}

static sim_status fifo_arm(sim_engine *sim, uint32_t fifo_index, sim_error *err)
{
    sim_rpc_fifo *f = &sim->fifos[fifo_index];
    if (f->len == 0 || f->firing || sim_event_pending(sim, f->armed)) return SIM_OK;
    sim_time_ns at = f->ring[f->head].deadline_ns;
    if (at < sim->now_ns) at = sim->now_ns;   /* the caller was paused past it: fire at once */
    return sim__schedule(sim, at, SIM_KIND_RPC_TIMEOUT, fifo_fire, NULL, fifo_index, f->node, SIM_EV_OWNED,
                         &f->armed, err);
}

static sim_status fifo_push(sim_engine *sim, sim_node_id node, sim_time_ns timeout_ns, uint32_t index,
                            sim_error *err)
{
    uint32_t fi = 0;
    sim_rpc_fifo *f = fifo_of(sim, node, timeout_ns, &fi, err);
    if (f == NULL) return SIM_ERR_NOMEM;
    if (f->len == f->cap) {
        /* A ring: after growing, the entries that wrapped round (before
         * head) move to just past the old end, keeping their order. */
        uint32_t old_cap = f->cap;
        if (!SIM_VEC_RESERVE(f->ring, f->len, f->cap, 1)) {
            return sim_error_set(err, SIM_ERR_NOMEM, "sim_rpc_call", "cannot grow a timeout queue beyond %u",
                                 f->len);
        }
        SIM_ASSERT(f->cap >= 2 * old_cap);   /* room for the wrapped part past the old end */
        uint32_t wrapped = f->head + f->len > old_cap ? f->head + f->len - old_cap : 0;
        memcpy(&f->ring[old_cap], &f->ring[0], (size_t)wrapped * sizeof *f->ring);
    }
    f->ring[(f->head + f->len) % f->cap] = (sim_rpc_deadline){
        .index = index, .generation = sim->rpcs[index].generation, .deadline_ns = sim->now_ns + timeout_ns };
    f->len++;
    sim_status st = fifo_arm(sim, fi, err);
    if (st != SIM_OK) f->len--;   /* not armed: take the entry back */
    return st;
}

static void fifo_fire(sim_engine *sim, void *ctx, uint64_t fifo_index)
{
    (void)ctx;
    uint32_t fi = (uint32_t)fifo_index;
    sim->fifos[fi].firing = true;
    for (;;) {
        sim_rpc_fifo *f = &sim->fifos[fi];   /* re-read: a callback may grow the table */
        if (f->len == 0) break;
        sim_rpc_deadline e = f->ring[f->head];
        const sim_rpc_rec *rec = &sim->rpcs[e.index];
        bool live = rec->generation == e.generation && rec->state != SIM_RPC_FREE;
        if (live && e.deadline_ns > sim->now_ns) break;
        f->head = (f->head + 1) % f->cap;
        f->len--;
        if (!live) continue;   /* answered or refused already */
        uint64_t arg = ((uint64_t)e.generation << 32) | e.index;
        rpc_outcome_fire(sim, NULL, arg, rec->refused ? SIM_RPC_REFUSED : SIM_RPC_TIMEOUT);
    }
    sim->fifos[fi].firing = false;
    sim_error err;
    sim_status st = fifo_arm(sim, fi, &err);
    SIM_ASSERT(st == SIM_OK);   /* this event's own slot was just freed: the pool has room */
}

static void rpc_refused_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    rpc_outcome_fire(sim, ctx, arg, SIM_RPC_REFUSED);
}

static uint64_t rpc_arg(const sim_engine *sim, uint32_t index)
{
    return ((uint64_t)sim->rpcs[index].generation << 32) | index;
}

/* Connection refused: the caller learns it at once (now), as its event.
 * With the event pool full, the armed timeout reports the refusal instead
 * (later, but never lost); the status says which happened. */
static sim_status rpc_refuse(sim_engine *sim, uint32_t index, sim_error *err)
{
    sim_rpc_rec *rec = &sim->rpcs[index];
    sim_node_id caller = rec->caller;
    if (rec->caller_dead || sim->nodes[caller].incarnation != rec->caller_incarnation) return SIM_OK;
    sim_status st = sim__schedule(sim, sim->now_ns, SIM_KIND_RPC_REFUSED, rpc_refused_fire, NULL,
                                  rpc_arg(sim, index), caller, SIM_EV_OWNED, NULL, err);
    if (st != SIM_OK) rec->refused = true;
    return st;
}

sim_status sim_rpc_call(sim_engine *sim, sim_node_id src, sim_node_id dst, uint16_t type, uint32_t bytes,
                        sim_payload *payload, sim_time_ns timeout_ns, sim_rpc_fn *fn, void *ctx,
                        uint64_t arg, sim_error *err)
{
    sim_status st = check_pair(sim, src, dst, "sim_rpc_call", err);
    if (st == SIM_OK && type >= SIM_MSG_TYPES_MAX) {
        st = sim_error_set(err, SIM_ERR_INVALID, "sim_rpc_call", "message type %u is above the limit %u",
                           type, (unsigned)SIM_MSG_TYPES_MAX - 1);
    }
    if (st == SIM_OK && fn == NULL) st = sim_error_set(err, SIM_ERR_INVALID, "sim_rpc_call", "callback is NULL");
    if (st == SIM_OK && sim->nodes[src].state == SIM_NODE_DOWN) {
        st = sim_error_set(err, SIM_ERR_STATE, "sim_rpc_call", "node %u is down and cannot call", src);
    }
    if (st == SIM_OK && (timeout_ns == 0 || timeout_ns >= SIM_TIME_NEVER - sim->now_ns)) {
        st = sim_error_set(err, SIM_ERR_INVALID, "sim_rpc_call", "timeout %llu ns is zero or overflows",
                           (unsigned long long)timeout_ns);
    }
    uint32_t index = 0;
    if (st == SIM_OK) st = rpc_alloc(sim, &index, err);
    if (st != SIM_OK) {
        sim_payload_release(payload);
        return st;
    }
    sim_rpc_rec *rec = &sim->rpcs[index];
    rec->fn = fn;
    rec->ctx = ctx;
    rec->arg = arg;
    rec->caller = src;
    rec->callee = dst;
    rec->caller_incarnation = sim->nodes[src].incarnation;
    rec->callee_incarnation = 0;
    rec->caller_dead = false;
    rec->refused = false;
    rec->state = SIM_RPC_IN_FLIGHT;
    st = fifo_push(sim, src, timeout_ns, index, err);
    if (st != SIM_OK) {
        rpc_free(sim, index);
        sim_payload_release(payload);
        return st;
    }
    if (sim->nodes[dst].state == SIM_NODE_DOWN && sim_net_reachable(sim, src, dst) &&
        sim_net_reachable(sim, dst, src)) {
        /* Nothing listens on the port: the kernel answers with a reset.
         * Behind a partition the reset cannot come back, and the request
         * times out like any other lost one. */
        sim_payload_release(payload);
        st = rpc_refuse(sim, index, err);
        if (st != SIM_OK) rpc_free(sim, index);   /* its deadline entry is skipped */
        return st;
    }
    return transmit(sim, src, dst, type, bytes, payload, SIM_MSG_REQUEST, index, rec->generation, err);
}

sim_status sim_rpc_reply(sim_engine *sim, sim_rpc_token token, uint16_t type, uint32_t bytes,
                         sim_payload *payload, sim_error *err)
{
    sim_status st = SIM_OK;
    if (token.index >= sim->rpcs_cap || token.caller >= sim->node_count || token.callee >= sim->node_count ||
        token.generation == 0) {
        st = sim_error_set(err, SIM_ERR_INVALID, "sim_rpc_reply", "invalid request token");
    } else if (type >= SIM_MSG_TYPES_MAX) {
        st = sim_error_set(err, SIM_ERR_INVALID, "sim_rpc_reply", "message type %u is above the limit", type);
    }
    if (st != SIM_OK) {
        sim_payload_release(payload);
        return st;
    }
    sim_rpc_rec *rec = &sim->rpcs[token.index];
    if (rec->generation != token.generation && rec->replied_generation == token.generation) {
        sim_payload_release(payload);
        return sim_error_set(err, SIM_ERR_STATE, "sim_rpc_reply", "request already answered");
    }
    st = stats_table(sim, type, "sim_rpc_reply", err);
    if (st != SIM_OK) {
        sim_payload_release(payload);
        return st;
    }
    if (rec->generation == token.generation && rec->caller_dead && rec->state == SIM_RPC_DELIVERED) {
        sim_msg_stats *stats = stats_of(sim, token.callee, token.caller, type);
        stats->sent++;
        stats->bytes_sent += bytes;
        stats->dropped[SIM_DROP_SENDER_RESTARTED]++;
        rec->state = SIM_RPC_REPLIED;
        rpc_free(sim, token.index);
        sim_payload_release(payload);
        return SIM_OK;
    }
    if (rec->generation != token.generation) {
        /* The caller settled first: count the response as sent and lost. */
        bool restarted = sim->nodes[token.caller].incarnation != token.caller_incarnation;
        sim_msg_stats *stats = stats_of(sim, token.callee, token.caller, type);
        stats->sent++;
        stats->bytes_sent += bytes;
        stats->dropped[restarted ? SIM_DROP_SENDER_RESTARTED : SIM_DROP_LATE_RESPONSE]++;
        sim_payload_release(payload);
        return SIM_OK;
    }
    if (rec->state != SIM_RPC_DELIVERED) {
        st = sim_error_set(err, SIM_ERR_STATE, "sim_rpc_reply", "request already answered");
    } else if (sim->nodes[rec->callee].incarnation != rec->callee_incarnation ||
               sim->nodes[rec->callee].state == SIM_NODE_DOWN) {
        st = sim_error_set(err, SIM_ERR_STATE, "sim_rpc_reply", "the callee restarted since the request");
    }
    if (st != SIM_OK) {
        sim_payload_release(payload);
        return st;
    }
    rec->state = SIM_RPC_REPLIED;
    return transmit(sim, rec->callee, rec->caller, type, bytes, payload, SIM_MSG_RESPONSE, token.index,
                    token.generation, err);
}

/* --- Delivery ------------------------------------------------------------ */

static void trace_delivery(sim_engine *sim, const sim_event *ev, const sim_heap_entry *top, int reason)
{
    if (sim->trace_fn == NULL || top == NULL) return;
    sim_trace_record rec = { .at_ns = top->at_ns, .seq = top->seq, .node = ev->node,
                             .incarnation = ev->incarnation, .kind = ev->kind };
    sim_message msg = { .src = ev->src, .dst = ev->node, .type = ev->type, .bytes = ev->bytes,
                        .sent_at_ns = ev->arg, .payload = ev->ctx, .dropped = (int8_t)reason };
    sim->trace_fn(sim->trace_ctx, &rec, &msg);
}

static void drop_traced(sim_engine *sim, const sim_event *ev, const sim_heap_entry *top, sim_drop_reason reason)
{
    trace_delivery(sim, ev, top, (int)reason);
    stats_of(sim, ev->src, ev->node, ev->type)->dropped[reason]++;
    sim_payload_release(ev->ctx);
}

static void drop(sim_engine *sim, const sim_event *ev, sim_drop_reason reason)
{
    drop_traced(sim, ev, NULL, reason);
}

void sim__net_drop_backlogged(sim_engine *sim, const sim_event *ev)
{
    drop(sim, ev, SIM_DROP_RECEIVER_DOWN);
}

static bool rpc_live(const sim_engine *sim, uint32_t index, uint32_t generation)
{
    const sim_rpc_rec *rpc = &sim->rpcs[index];
    return rpc->generation == generation && rpc->state != SIM_RPC_FREE;
}

void sim__net_deliver_event(sim_engine *sim, const sim_event *ev, const sim_heap_entry *top)
{
    sim_node_id src = ev->src;
    sim_node_id dst_id = ev->node;
    sim_node *dst = &sim->nodes[dst_id];
    bool is_rpc = ev->msg_kind != SIM_MSG_ONEWAY;
    bool live = is_rpc && rpc_live(sim, ev->rpc_index, ev->rpc_generation);
    if (live && sim->rpcs[ev->rpc_index].caller_dead) {
        /* The caller crashed: its request or answer has nobody to serve. */
        rpc_free(sim, ev->rpc_index);
        drop_traced(sim, ev, top, SIM_DROP_SENDER_RESTARTED);
        return;
    }
    if (!sim_net_reachable(sim, src, dst_id)) {
        drop_traced(sim, ev, top, SIM_DROP_PARTITION);   /* a live caller times out */
        return;
    }
    if (ev->msg_kind == SIM_MSG_RESPONSE) {
        if (!live) {
            drop_traced(sim, ev, top, SIM_DROP_LATE_RESPONSE);   /* it timed out (or was refused) first */
            return;
        }
    } else if (dst->state == SIM_NODE_DOWN || dst->incarnation != ev->incarnation) {
        bool down = dst->state == SIM_NODE_DOWN;
        if (ev->msg_kind == SIM_MSG_REQUEST && live) {
            sim_error err;
            (void)rpc_refuse(sim, ev->rpc_index, &err);   /* a full pool defers it to the timeout */
        }
        drop_traced(sim, ev, top, down ? SIM_DROP_RECEIVER_DOWN : SIM_DROP_RECEIVER_RESTARTED);
        return;
    }
    trace_delivery(sim, ev, top, -1);
    sim_msg_stats *stats = stats_of(sim, src, dst_id, ev->type);
    stats->delivered++;
    stats->bytes_delivered += ev->bytes;
    sim_message msg = { .src = src, .dst = dst_id, .type = ev->type, .bytes = ev->bytes,
                        .sent_at_ns = ev->arg, .payload = ev->ctx, .dropped = -1 };
    const sim_node_ops *ops = dst->ops;
    if (ev->msg_kind == SIM_MSG_ONEWAY) {
        if (ops != NULL && ops->on_message != NULL) ops->on_message(sim, dst_id, dst->ctx, &msg);
    } else if (ev->msg_kind == SIM_MSG_REQUEST) {
        if (rpc_live(sim, ev->rpc_index, ev->rpc_generation)) {
            sim_rpc_rec *rpc = &sim->rpcs[ev->rpc_index];
            rpc->state = SIM_RPC_DELIVERED;
            rpc->callee_incarnation = dst->incarnation;
            if (ops != NULL && ops->on_request != NULL) {
                sim_rpc_token token = { .index = ev->rpc_index, .generation = ev->rpc_generation,
                                        .caller = rpc->caller, .callee = rpc->callee,
                                        .caller_incarnation = rpc->caller_incarnation };
                ops->on_request(sim, dst_id, dst->ctx, &msg, token);
            }
        }   /* else the caller gave up or crashed: nobody listens */
    } else {
        sim_rpc_rec *rpc = &sim->rpcs[ev->rpc_index];
        sim_rpc_fn *fn = rpc->fn;
        void *fn_ctx = rpc->ctx;
        uint64_t fn_arg = rpc->arg;
        rpc_free(sim, ev->rpc_index);
        fn(sim, fn_ctx, fn_arg, SIM_RPC_OK, &msg);
    }
    sim_payload_release(msg.payload);
}

void sim__net_on_crash(sim_engine *sim, sim_node_id node)
{
    /* The crashed incarnation's deadlines die with it (its armed event is
     * a dead timer too). */
    for (uint32_t i = 0; i < sim->fifos_len; i++) {
        if (sim->fifos[i].node != node) continue;
        sim->fifos[i].len = 0;
        sim->fifos[i].head = 0;
        sim->fifos[i].armed = (sim_event_id){ 0, 0 };
        sim->fifos[i].firing = false;
    }
    /* Requests the crashed node had received and not answered: its sockets
     * close, so each caller sees the connection reset now.  Requests the
     * node had sent: their outcomes belong to the dead incarnation (the
     * timeout is a dead timer), so the records are freed. */
    for (uint32_t i = 0; i < sim->rpcs_cap; i++) {
        sim_rpc_rec *rec = &sim->rpcs[i];
        if (rec->state == SIM_RPC_FREE) continue;
        if (rec->caller == node) {
            /* Kept until its request or answer shows up, to count the drop
             * as the caller's restart; a request the callee holds is freed
             * when the callee answers. */
            rec->caller_dead = true;
        } else if (rec->callee == node && rec->state == SIM_RPC_DELIVERED) {
            rec->state = SIM_RPC_REPLIED;   /* no reply can come any more */
            sim_error err;
            (void)rpc_refuse(sim, i, &err);   /* a full pool defers it to the timeout */
        }
    }
}
