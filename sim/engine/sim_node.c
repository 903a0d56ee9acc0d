/* sim_node.c: the nodes' life cycle (attach, start, crash, restart, pause,
 * resume), their state, incarnation and random stream, local clocks and
 * timers.
 *
 * Design notes.
 *
 * Node life cycle:
 *
 *        start (after delay)          pause(d)
 *   DOWN ---------------------> UP -----------> PAUSED
 *    ^                           |  <-----------   |
 *    |          crash            |   resume (d)    |
 *    +---------------------------+-----------------+
 *                                       crash
 *
 *   DOWN   -> UP      [node_start_fire]   incarnation + 1, ops->start
 *   UP     -> PAUSED  [sim_node_pause]    due events go to the backlog
 *                                         (the run loop, sim_engine.c)
 *   PAUSED -> UP      [node_resume_fire]  the backlog re-enters the queue, in order
 *   UP     -> DOWN    [sim_node_crash]    incarnation + 1, ops->crash
 *   PAUSED -> DOWN    [sim_node_crash]    the backlog is dropped
 *
 * A crash cancels the node's timers lazily (sim_engine.c's notes): they are
 * marked, and freed when they reach the head of the queue. */
#include "sim_conn.h"
#include "sim_engine_int.h"

static sim_status check_node(const sim_engine *sim, sim_node_id node, const char *where,
                             sim_error *err)
{
    if (node >= sim->node_count) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "unknown node %u (the cluster has %u)",
                             node, sim->node_count);
    }
    return SIM_OK;
}

sim_status sim_node_attach(sim_engine *sim, sim_node_id node, const sim_node_ops *ops, void *ctx,
                           sim_error *err)
{
    sim_status st = check_node(sim, node, "sim_node_attach", err);
    if (st != SIM_OK) return st;
    if (ops == NULL) return sim_error_set(err, SIM_ERR_INVALID, "sim_node_attach", "ops is NULL");
    sim->nodes[node].ops = ops;
    sim->nodes[node].ctx = ctx;
    return SIM_OK;
}

static void node_start_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)ctx;
    sim_node_id id = (sim_node_id)arg;
    sim_node *node = &sim->nodes[id];
    if (node->state != SIM_NODE_DOWN) return;   /* started twice: the first start wins */
    node->incarnation++;
    node->state = SIM_NODE_UP;
    node->rng = sim_rng_derive(sim->config.seed, SIM_STREAM_NODE(id, node->incarnation));
    if (node->ops != NULL && node->ops->start != NULL) node->ops->start(sim, id, node->ctx);
}

sim_status sim_node_start(sim_engine *sim, sim_node_id node, sim_time_ns delay_ns, sim_error *err)
{
    sim_status st = check_node(sim, node, "sim_node_start", err);
    if (st != SIM_OK) return st;
    return sim_schedule(sim, delay_ns, SIM_KIND_NODE_START, node_start_fire, NULL, node, NULL, err);
}

sim_status sim_node_crash(sim_engine *sim, sim_node_id id, sim_error *err)
{
    sim_status st = check_node(sim, id, "sim_node_crash", err);
    if (st != SIM_OK) return st;
    sim_node *node = &sim->nodes[id];
    if (node->state == SIM_NODE_DOWN) {
        return sim_error_set(err, SIM_ERR_STATE, "sim_node_crash", "node %u is already down", id);
    }
    /* Drop the pause backlog: deliveries are counted as dropped, the rest
     * are timers of this incarnation. */
    uint32_t index = node->backlog_head;
    while (index != SIM_NO_INDEX) {
        sim_event *ev = &sim->events[index];
        uint32_t next = ev->next;
        if (ev->flags & SIM_EV_CANCELLED) sim->cancelled_queued--;
        else if (ev->fn == sim__net_deliver) sim__net_drop_backlogged(sim, ev);
        sim__slot_free(sim, index);
        sim->backlogged--;
        index = next;
    }
    node->backlog_head = node->backlog_tail = SIM_NO_INDEX;
    /* Cancel the incarnation's timers still in the queue: O(pool), and a
     * crash is rare.  Their slots are freed as they reach the head.  (The
     * backlog above is gone, so every QUEUED slot left is in the queue.) */
    for (uint32_t i = 0; i < sim->events_cap; i++) {
        sim_event *ev = &sim->events[i];
        if ((ev->flags & SIM_EV_QUEUED) && (ev->flags & SIM_EV_OWNED) && !(ev->flags & SIM_EV_CANCELLED) && ev->node == id &&
            ev->incarnation == node->incarnation) {
            ev->flags |= SIM_EV_CANCELLED;
            ev->generation++;
            if (ev->generation == 0) ev->generation = 1;
            sim->cancelled_queued++;
        }
    }
    node->state = SIM_NODE_DOWN;
    node->incarnation++;        /* nothing of the old incarnation reaches the new one */
    sim__net_on_crash(sim, id);
    if (node->ops != NULL && node->ops->crash != NULL) node->ops->crash(sim, id, node->ctx);
    return SIM_OK;
}

sim_status sim_node_restart(sim_engine *sim, sim_node_id node, sim_time_ns delay_ns, sim_error *err)
{
    sim_status st = sim_node_crash(sim, node, err);
    if (st != SIM_OK) return st;
    return sim_node_start(sim, node, delay_ns, err);
}

static void node_resume_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)ctx;
    sim_node_id id = (sim_node_id)(arg & 0xffffffffu);
    uint32_t incarnation = (uint32_t)(arg >> 32);
    sim_node *node = &sim->nodes[id];
    if (node->state != SIM_NODE_PAUSED || node->incarnation != incarnation) return;
    node->state = SIM_NODE_UP;
    /* The backlog re-enters the queue at "now", in the order it fell due and
     * ahead of every other event of this instant (SIM_SEQ_NORMAL_BASE):
     * timers fire late, messages arrive late, and nothing overtakes them. */
    uint32_t index = node->backlog_head;
    node->backlog_head = node->backlog_tail = SIM_NO_INDEX;
    while (index != SIM_NO_INDEX) {
        sim_event *ev = &sim->events[index];
        uint32_t next = ev->next;
        ev->next = SIM_NO_INDEX;
        SIM_ASSERT(sim->seq_backlog_next < SIM_SEQ_NORMAL_BASE);
        sim__queue_push(&sim->queue, (sim_heap_entry){ .at_ns = sim->now_ns, .seq = sim->seq_backlog_next++, .index = index });
        sim->backlogged--;
        index = next;
    }
}

sim_status sim_node_pause(sim_engine *sim, sim_node_id id, sim_time_ns duration_ns, sim_error *err)
{
    sim_status st = check_node(sim, id, "sim_node_pause", err);
    if (st != SIM_OK) return st;
    sim_node *node = &sim->nodes[id];
    if (node->state != SIM_NODE_UP) {
        return sim_error_set(err, SIM_ERR_STATE, "sim_node_pause", "node %u is %s, not up", id,
                             sim_node_state_name(node->state));
    }
    if (node->ops != NULL && node->ops->changing != NULL) node->ops->changing(sim, id, node->ctx);
    uint64_t arg = ((uint64_t)node->incarnation << 32) | id;
    st = sim_schedule(sim, duration_ns, SIM_KIND_NODE_RESUME, node_resume_fire, NULL, arg, NULL, err);
    if (st != SIM_OK) return st;
    node->state = SIM_NODE_PAUSED;
    return SIM_OK;
}

sim_node_state sim_node_state_get(const sim_engine *sim, sim_node_id node)
{
    SIM_ASSERT(node < sim->node_count);
    return sim->nodes[node].state;
}

uint32_t sim_node_incarnation(const sim_engine *sim, sim_node_id node)
{
    SIM_ASSERT(node < sim->node_count);
    return sim->nodes[node].incarnation;
}

const char *sim_kind_name(uint16_t kind)
{
    switch (kind) {
    case SIM_KIND_NODE_START: return "node_start";
    case SIM_KIND_NODE_RESUME: return "node_resume";
    case SIM_KIND_DELIVER: return "deliver";
    case SIM_KIND_RPC_TIMEOUT: return "rpc_timeout";
    case SIM_KIND_RPC_REFUSED: return "rpc_refused";
    case SIM_KIND_FAULT: return "fault";
    case SIM_KIND_CONN_NET: return "conn_net";
    case SIM_KIND_CONN_PROC: return "conn_proc";
    default: return NULL;
    }
}

const char *sim_node_state_name(sim_node_state state)
{
    switch (state) {
    case SIM_NODE_DOWN: return "down";
    case SIM_NODE_UP: return "up";
    case SIM_NODE_PAUSED: return "paused";
    }
    return "unknown";
}

sim_rng *sim_node_rng(sim_engine *sim, sim_node_id node)
{
    SIM_ASSERT(node < sim->node_count);
    return &sim->nodes[node].rng;
}

/* --- Local clocks -------------------------------------------------------- */

__extension__ typedef __int128 s128;

sim_status sim_node_set_clock(sim_engine *sim, sim_node_id id, int64_t offset_ns, int32_t drift_ppm,
                              sim_error *err)
{
    sim_status st = check_node(sim, id, "sim_node_set_clock", err);
    if (st != SIM_OK) return st;
    if (drift_ppm > SIM_DRIFT_PPM_MAX || drift_ppm < -SIM_DRIFT_PPM_MAX) {
        return sim_error_set(err, SIM_ERR_INVALID, "sim_node_set_clock",
                             "drift %d ppm is outside +-%d ppm", drift_ppm, SIM_DRIFT_PPM_MAX);
    }
    s128 local = (s128)sim->now_ns + offset_ns;
    if (local < 0) {
        return sim_error_set(err, SIM_ERR_INVALID, "sim_node_set_clock",
                             "offset %lld ns would put the clock before 0", (long long)offset_ns);
    }
    sim_node *node = &sim->nodes[id];
    if (node->ops != NULL && node->ops->changing != NULL) node->ops->changing(sim, id, node->ctx);
    node->clock_base_true_ns = sim->now_ns;
    node->clock_base_local_ns = (sim_time_ns)local;
    node->drift_ppm = drift_ppm;
    return SIM_OK;
}

sim_time_ns sim_node_now(const sim_engine *sim, sim_node_id id)
{
    SIM_ASSERT(id < sim->node_count);
    const sim_node *node = &sim->nodes[id];
    if (node->drift_ppm == 0 && node->clock_base_true_ns == node->clock_base_local_ns) {
        return sim->now_ns;   /* the common case: a perfect clock */
    }
    s128 elapsed = (s128)(sim->now_ns - node->clock_base_true_ns);
    s128 local = (s128)node->clock_base_local_ns + elapsed * (1000000 + node->drift_ppm) / 1000000;
    SIM_ASSERT(local >= 0);
    return (sim_time_ns)local;
}

sim_time_ns sim_node_true_delay(const sim_engine *sim, sim_node_id id, sim_time_ns delay_ns)
{
    SIM_ASSERT(id < sim->node_count);
    const sim_node *node = &sim->nodes[id];
    if (node->drift_ppm == 0) return delay_ns;
    /* A local delay lasts delay * 10^6 / (10^6 + drift) in true time,
     * rounded up so a timer never fires before its local deadline. */
    s128 scaled = ((s128)delay_ns * 1000000 + (1000000 + node->drift_ppm) - 1) / (1000000 + node->drift_ppm);
    return (sim_time_ns)scaled;
}

/* A timer of node `id` at the true time `at_ns`; `where` names the caller
 * and `delay_ns` the local delay asked for (0 for sim_timer_start_at), for
 * the errors. */
static sim_status timer_at(sim_engine *sim, sim_node_id id, sim_time_ns at_ns, sim_time_ns delay_ns, uint16_t kind,
                           sim_event_fn *fn, void *ctx, uint64_t arg, sim_event_id *id_out, const char *where,
                           sim_error *err)
{
    sim_status st = check_node(sim, id, where, err);
    if (st != SIM_OK) return st;
    if (fn == NULL) return sim_error_set(err, SIM_ERR_INVALID, where, "handler is NULL");
    if (sim->nodes[id].state == SIM_NODE_DOWN) return sim_error_set(err, SIM_ERR_STATE, where, "node %u is down", id);
    if (at_ns == SIM_TIME_NEVER) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "delay %llu ns overflows the clock", (unsigned long long)delay_ns);
    }
    if (at_ns < sim->now_ns) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "time %llu ns is before now (%llu ns)",
                             (unsigned long long)at_ns, (unsigned long long)sim->now_ns);
    }
    return sim__schedule(sim, at_ns, kind, fn, ctx, arg, id, SIM_EV_OWNED, id_out, err);
}

sim_status sim_timer_start(sim_engine *sim, sim_node_id id, sim_time_ns delay_ns, uint16_t kind,
                           sim_event_fn *fn, void *ctx, uint64_t arg, sim_event_id *id_out,
                           sim_error *err)
{
    sim_time_ns at = SIM_TIME_NEVER;
    if (id < sim->node_count) {
        sim_time_ns true_delay = sim_node_true_delay(sim, id, delay_ns);
        if (true_delay < SIM_TIME_NEVER - sim->now_ns) at = sim->now_ns + true_delay;
    }
    return timer_at(sim, id, at, delay_ns, kind, fn, ctx, arg, id_out, "sim_timer_start", err);
}

sim_status sim_timer_start_at(sim_engine *sim, sim_node_id id, sim_time_ns at_ns, uint16_t kind,
                              sim_event_fn *fn, void *ctx, uint64_t arg, sim_event_id *id_out,
                              sim_error *err)
{
    return timer_at(sim, id, at_ns, 0, kind, fn, ctx, arg, id_out, "sim_timer_start_at", err);
}
