/* sim_engine.c: event pool, scheduling, run loop, trace, failure, and the
 * whole-engine check.  The queue is in sim_queue.c, the nodes' life cycle,
 * clocks and timers in sim_node.c, the network in sim_net.c.
 *
 * Design notes.
 *
 * Invariants (checked by sim_engine_check):
 *   (1) the queue keeps its own invariants (sim__queue_check, sim_queue.h).
 *   (2) every queue entry names a QUEUED slot, with a seq already handed out.
 *   (3) free slots + live slots = capacity; free slots are not QUEUED.
 *   (4) no queued event is before now_ns, except in a pause backlog.
 *   (5) a node that is not PAUSED has an empty backlog.
 *
 * Cancellation is lazy: a cancelled event is marked and its slot is freed
 * when it reaches the head of the queue.  A crash cancels a node's timers the
 * same way, by bumping the incarnation: events whose incarnation is older
 * than the node's are dropped when popped.  Both cost nothing on the hot
 * path, and handles stay safe because a cancel bumps the generation at
 * once. */
#include "sim_engine_int.h"
#include "sim_vec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* --- Pool ---------------------------------------------------------------- */

sim_status sim__pool_grow(sim_engine *sim, sim_error *err)
{
    if (sim->events_cap >= sim->events_max) {
        return sim_error_set(err, SIM_ERR_LIMIT, "sim_schedule",
                             "event pool is full (%u events; raise events_max, at most %u)",
                             sim->events_cap, (unsigned)SIM_EVENTS_MAX);
    }
    uint64_t want = sim->events_cap == 0 ? 1024 : (uint64_t)sim->events_cap * 2;
    uint32_t cap = want > sim->events_max ? sim->events_max : (uint32_t)want;
    /* The slot array may be allocated beyond `cap` (SIM_VEC_RESERVE rounds
     * up to a power of two); only `cap` slots join the free list, so the
     * limit holds exactly.  The two heaps can hold every event, so a push
     * into them never fails; only a ring bucket can, and then the entry
     * goes to `far`.  A failure leaves events_cap as it was: arrays that
     * did grow keep their contents and are simply larger. */
    if (!SIM_VEC_RESERVE_LINES(sim->events, 0, sim->events_alloc, cap) ||
        !SIM_VEC_RESERVE(sim->queue.cur.v, 0, sim->queue.cur.cap, cap) ||
        !SIM_VEC_RESERVE(sim->queue.far.v, 0, sim->queue.far.cap, cap)) {
        return sim_error_set(err, SIM_ERR_NOMEM, "sim_schedule", "cannot grow the event pool to %u", cap);
    }
    /* New slots join the free list in index order, so allocation order (and
     * with it every slot index) is the same in every run. */
    for (uint32_t i = cap; i-- > sim->events_cap;) {
        memset(&sim->events[i], 0, sizeof sim->events[i]);
        sim->events[i].generation = 1;
        sim->events[i].next = sim->free_head;
        sim->free_head = i;
    }
    sim->events_cap = cap;
    return SIM_OK;
}


/* --- Create / destroy ---------------------------------------------------- */

sim_engine *sim_engine_create(const sim_config *config, sim_error *err)
{
    if (config == NULL) {
        sim_error_set(err, SIM_ERR_INVALID, "sim_engine_create", "config is NULL");
        return NULL;
    }
    if (config->node_count == 0 || config->node_count > SIM_NODES_MAX) {
        sim_error_set(err, SIM_ERR_INVALID, "sim_engine_create",
                      "node_count %u is outside 1..%u", config->node_count, (unsigned)SIM_NODES_MAX);
        return NULL;
    }
    if (config->events_max > SIM_EVENTS_MAX) {
        sim_error_set(err, SIM_ERR_INVALID, "sim_engine_create",
                      "events_max %u is above the limit %u", config->events_max, (unsigned)SIM_EVENTS_MAX);
        return NULL;
    }
    sim_engine *sim = calloc(1, sizeof *sim);
    if (sim == NULL) goto fail;
    sim->config = *config;
    sim->events_max = config->events_max == 0 ? SIM_EVENTS_MAX : config->events_max;
    sim->free_head = SIM_NO_INDEX;
    sim->seq_next = SIM_SEQ_NORMAL_BASE;
    sim->seq_backlog_next = 1;
    sim->trace_hash = 0xcbf29ce484222325ull;
    sim->hint_bucket = UINT64_MAX;
    sim->node_count = config->node_count;
    if (!sim__queue_init(&sim->queue)) goto fail_free_sim;
    sim->nodes = calloc(config->node_count, sizeof *sim->nodes);
    if (sim->nodes == NULL) goto fail_free_sim;
    for (uint32_t i = 0; i < sim->node_count; i++) {
        sim->nodes[i].state = SIM_NODE_DOWN;
        sim->nodes[i].backlog_head = SIM_NO_INDEX;
        sim->nodes[i].backlog_tail = SIM_NO_INDEX;
        sim->nodes[i].rng = sim_rng_derive(config->seed, SIM_STREAM_NODE(i, 0));
    }
    sim_error local;
    if (sim__net_init(sim, &local) != SIM_OK) goto fail_free_nodes;
    return sim;

fail_free_nodes:
    free(sim->nodes);
fail_free_sim:
    sim__net_deinit(sim);
    sim__queue_deinit(&sim->queue);
    free(sim);
fail:
    sim_error_set(err, SIM_ERR_NOMEM, "sim_engine_create", "cannot allocate an engine of %u nodes",
                  config->node_count);
    return NULL;
}

void sim_engine_destroy(sim_engine *sim)
{
    if (sim == NULL) return;
    /* Messages still queued hold payload references; the network drops them. */
    sim__net_deinit(sim);
    free(sim->events);
    sim__queue_deinit(&sim->queue);
    free(sim->nodes);
    free(sim->trace);
    free(sim);
}

sim_time_ns sim_now(const sim_engine *sim) { return sim->now_ns; }
uint64_t sim_seed(const sim_engine *sim) { return sim->config.seed; }
uint32_t sim_node_count(const sim_engine *sim) { return sim->node_count; }
uint64_t sim_events_processed(const sim_engine *sim) { return sim->processed; }
size_t sim_events_pending(const sim_engine *sim)
{
    return sim__queue_len(&sim->queue) + sim->backlogged - sim->cancelled_queued;
}

/* --- Scheduling ---------------------------------------------------------- */

sim_status sim_schedule_at(sim_engine *sim, sim_time_ns at_ns, uint16_t kind, sim_event_fn *fn,
                           void *ctx, uint64_t arg, sim_event_id *id_out, sim_error *err)
{
    if (fn == NULL) return sim_error_set(err, SIM_ERR_INVALID, "sim_schedule", "handler is NULL");
    if (at_ns < sim->now_ns) {
        return sim_error_set(err, SIM_ERR_INVALID, "sim_schedule",
                             "cannot schedule into the past (%llu ns < now %llu ns)",
                             (unsigned long long)at_ns, (unsigned long long)sim->now_ns);
    }
    if (at_ns == SIM_TIME_NEVER) {
        return sim_error_set(err, SIM_ERR_INVALID, "sim_schedule", "event time overflows");
    }
    return sim__schedule(sim, at_ns, kind, fn, ctx, arg, SIM_NODE_NONE, 0, id_out, err);
}

sim_status sim_schedule(sim_engine *sim, sim_time_ns delay_ns, uint16_t kind, sim_event_fn *fn,
                        void *ctx, uint64_t arg, sim_event_id *id_out, sim_error *err)
{
    if (delay_ns >= SIM_TIME_NEVER - sim->now_ns) {
        return sim_error_set(err, SIM_ERR_INVALID, "sim_schedule", "delay %llu ns overflows the clock",
                             (unsigned long long)delay_ns);
    }
    return sim_schedule_at(sim, sim->now_ns + delay_ns, kind, fn, ctx, arg, id_out, err);
}

bool sim_event_pending(const sim_engine *sim, sim_event_id id)
{
    if (id.generation == 0 || id.index >= sim->events_cap) return false;
    const sim_event *ev = &sim->events[id.index];
    if (ev->generation != id.generation || !(ev->flags & SIM_EV_QUEUED) || (ev->flags & SIM_EV_CANCELLED)) {
        return false;
    }
    /* A timer of a crashed incarnation is dead although still queued. */
    if ((ev->flags & SIM_EV_OWNED) && sim->nodes[ev->node].incarnation != ev->incarnation) return false;
    return true;
}

bool sim_cancel(sim_engine *sim, sim_event_id id)
{
    if (!sim_event_pending(sim, id)) return false;   /* ran, cancelled, stale, or died in a crash */
    sim_event *ev = &sim->events[id.index];
    ev->flags |= SIM_EV_CANCELLED;
    /* Bump now so the handle (and any copy of it) is stale at once; the
     * slot itself is freed when the entry leaves the queue or backlog. */
    ev->generation++;
    if (ev->generation == 0) ev->generation = 1;
    sim->cancelled_queued++;
    return true;
}

/* --- Run loop ------------------------------------------------------------ */

static void trace_note(sim_engine *sim, const sim_heap_entry *top, const sim_event *ev)
{
    uint64_t h = sim->trace_hash;
    const uint64_t prime = 0x100000001b3ull;
    h = (h ^ top->at_ns) * prime;
    h = (h ^ top->seq) * prime;
    h = (h ^ ev->kind) * prime;
    h = (h ^ ev->node) * prime;
    h = (h ^ ev->incarnation) * prime;
    sim->trace_hash = h;
    if (sim->trace_fn != NULL && ev->fn != sim__net_deliver) {   /* deliveries: once their fate is known */
        sim_trace_record rec = { .at_ns = top->at_ns, .seq = top->seq, .node = ev->node,
                                 .incarnation = ev->incarnation, .kind = ev->kind };
        sim->trace_fn(sim->trace_ctx, &rec, NULL);
    }
    if (!sim->config.trace_record) return;
    if (!SIM_VEC_RESERVE(sim->trace, sim->trace_len, sim->trace_cap, 1)) {
        /* The event runs without its record; the run stops before the next. */
        sim_error e;
        (void)sim_error_set(&e, SIM_ERR_NOMEM, "sim_run", "cannot grow the recorded trace beyond %zu records",
                            sim->trace_len);
        sim_fail(sim, &e);
        return;
    }
    sim->trace[sim->trace_len++] = (sim_trace_record){
        .at_ns = top->at_ns, .seq = top->seq, .node = ev->node,
        .incarnation = ev->incarnation, .kind = ev->kind,
    };
}

static void backlog_append(sim_engine *sim, sim_node *node, uint32_t index)
{
    sim->events[index].next = SIM_NO_INDEX;
    if (node->backlog_tail == SIM_NO_INDEX) {
        node->backlog_head = index;
    } else {
        sim->events[node->backlog_tail].next = index;
    }
    node->backlog_tail = index;
}

/* The hints run for the next PREFETCH_WINDOW entries of the current
 * bucket's sorted run, each once, as entries enter the window: a bucket
 * holds a millisecond of events (a few dozen in a large cluster), so most
 * of its hints start together when the calendar reaches it, while the
 * bucket's first events run; a long bucket is covered as it goes, without
 * loading more than the cache keeps. */
#define PREFETCH_WINDOW 16u

/* Calls the prefetch hints of the run's entries that entered the window
 * since the last call.  Reads only: the run's events were prefetched when
 * the calendar reached the bucket. */
static inline void prefetch_window(sim_engine *sim)
{
    const sim_queue *q = &sim->queue;
    uint32_t next = sim->hint_next;   /* a local: the compiler cannot tell the hints leave it be */
    if (q->cur_bucket != sim->hint_bucket) {
        sim->hint_bucket = q->cur_bucket;
        sim->hint_next = next = q->run_pos;
    }
    uint32_t end = q->run_pos + PREFETCH_WINDOW < q->run.len ? q->run_pos + PREFETCH_WINDOW : q->run.len;
    if (next >= end) return;
    const uint32_t len = sim->prefetch_len;
    for (; next < end; next++) {
        const sim_event *ev = &sim->events[q->run.v[next].index];
        for (uint32_t i = 0; i < len; i++) {
            if (sim->prefetch[i].fn != ev->fn) continue;
            sim->prefetch[i].prefetch(ev->ctx, ev->arg);
            /* A hint found moves one place up, so the most frequent
             * handlers end first in the search.  The order of the search
             * decides nothing: a hint only loads memory. */
            if (i > 0) {
                struct sim_prefetch_hint t = sim->prefetch[i - 1];
                sim->prefetch[i - 1] = sim->prefetch[i];
                sim->prefetch[i] = t;
            }
            break;
        }
    }
    sim->hint_next = next;
}

/* Pops and runs the events with at_ns <= until_ns, in order, until none is
 * left, the run fails, or `budget` events (0: no limit) have run.  One
 * loop for them all rather than a call per event: a large cluster's hour
 * is tens of millions of them. */
static void run_events(sim_engine *sim, sim_time_ns until_ns, uint64_t budget)
{
    while (!sim->failed && (budget == 0 || sim->processed < budget)) {
        const sim_heap_entry *head = sim__queue_peek(&sim->queue, sim->events);
        if (head == NULL || head->at_ns > until_ns) return;
        if (sim->prefetch_len > 0) prefetch_window(sim);
        sim_heap_entry top = sim__queue_take(&sim->queue, head);
        sim_event *ev = &sim->events[top.index];
        SIM_ASSERT(top.at_ns >= sim->now_ns);          /* time never goes backwards */
        SIM_ASSERT(ev->flags & SIM_EV_QUEUED);
        if (ev->flags & SIM_EV_CANCELLED) {
            sim->cancelled_queued--;
            sim__slot_free(sim, top.index);
            continue;
        }
        sim->now_ns = top.at_ns;
        if (ev->node != SIM_NODE_NONE) {
            sim_node *node = &sim->nodes[ev->node];
            if ((ev->flags & SIM_EV_OWNED) && ev->incarnation != node->incarnation) {
                sim__slot_free(sim, top.index);             /* an earlier incarnation's timer */
                continue;
            }
            if (node->state == SIM_NODE_PAUSED) {
                backlog_append(sim, node, top.index);  /* runs at resume, in order */
                sim->backlogged++;
                continue;
            }
        }
        trace_note(sim, &top, ev);
        sim->processed++;
        sim->running_seq = top.seq;
        /* Copy out before freeing: the handler may grow (move) the pool.
         * A delivery needs the whole event, a handler only its call. */
        sim_trace_record rec = { .at_ns = top.at_ns, .seq = top.seq, .node = ev->node,
                                 .incarnation = ev->incarnation, .kind = ev->kind };
        if (ev->fn == sim__net_deliver) {
            sim_event copy = *ev;
            sim__slot_free(sim, top.index);
            sim__net_deliver_event(sim, &copy, &top);
        } else {
            sim_event_fn *fn = ev->fn;
            void *ctx = ev->ctx;
            uint64_t arg = ev->arg;
            sim__slot_free(sim, top.index);
            fn(sim, ctx, arg);
        }
#ifdef SIM_DEBUG
        sim_engine_check(sim);
#endif
        if (sim->check_fn != NULL && !sim->failed) sim->check_fn(sim, sim->check_ctx, &rec);
    }
}

/* The engine whose event is running on this thread, for the words an
 * assertion failure prints (sim_assert_position).  Thread-local and only
 * read when the process is about to abort: it never decides anything. */
static _Thread_local const sim_engine *running_engine;

size_t sim_assert_position(char *buf, size_t size)
{
    const sim_engine *sim = running_engine;
    if (sim == NULL || size == 0) return 0;
    int n = snprintf(buf, size, "virtual time %" PRIu64 " ns, event #%" PRIu64 " (seq %" PRIu64 "), seed %" PRIu64,
                     sim->now_ns, sim->processed, sim->running_seq, sim->config.seed);
    return n < 0 ? 0 : (size_t)n;
}

static sim_stop_reason run_until(sim_engine *sim, sim_time_ns until_ns)
{
    uint64_t budget = sim->config.events_budget;
    run_events(sim, until_ns, budget);
    if (sim->failed) return SIM_STOP_FAILED;
    if (budget != 0 && sim->processed >= budget) return SIM_STOP_BUDGET;
    if (until_ns != SIM_TIME_NEVER) sim->now_ns = until_ns;
    return sim_events_pending(sim) == 0 ? SIM_STOP_DRAINED : SIM_STOP_TIME;
}

sim_stop_reason sim_run_until(sim_engine *sim, sim_time_ns until_ns)
{
    SIM_ASSERT(until_ns >= sim->now_ns);
    const sim_engine *outer = running_engine;
    running_engine = sim;
    sim_stop_reason reason = run_until(sim, until_ns);
    running_engine = outer;
    return reason;
}

void sim_fail(sim_engine *sim, const sim_error *err)
{
    if (sim->failed) return;
    sim->failed = true;
    if (err != NULL) {
        sim->failure = *err;
    } else {
        (void)sim_error_set(&sim->failure, SIM_ERR_STATE, "sim_fail", "the run failed (no reason given)");
    }
}

const sim_error *sim_failure(const sim_engine *sim) { return sim->failed ? &sim->failure : NULL; }

sim_stop_reason sim_run(sim_engine *sim)
{
    sim_time_ns until = sim->config.stop_at_ns == 0 ? SIM_TIME_NEVER : sim->config.stop_at_ns;
    if (until < sim->now_ns) until = sim->now_ns;
    return sim_run_until(sim, until);
}

/* --- Trace and checks ---------------------------------------------------- */

uint64_t sim_trace_hash(const sim_engine *sim) { return sim->trace_hash; }

void sim__trace_message(sim_engine *sim, sim_node_id node, const sim_message *msg)
{
    if (sim->trace_fn == NULL) return;
    sim_trace_record rec = { .at_ns = sim_now(sim), .seq = sim->running_seq, .node = node,
                             .incarnation = sim_node_incarnation(sim, node), .kind = SIM_KIND_DELIVER };
    sim->trace_fn(sim->trace_ctx, &rec, msg);
}

void sim_set_trace_hook(sim_engine *sim, sim_trace_fn *fn, void *ctx)
{
    sim->trace_fn = fn;
    sim->trace_ctx = ctx;
}

sim_status sim_set_prefetch(sim_engine *sim, sim_event_fn *fn, sim_prefetch_fn *prefetch, sim_error *err)
{
    if (fn == NULL) return sim_error_set(err, SIM_ERR_INVALID, "sim_set_prefetch", "handler is NULL");
    uint32_t i = 0;
    while (i < sim->prefetch_len && sim->prefetch[i].fn != fn) i++;
    if (prefetch == NULL) {
        if (i < sim->prefetch_len) sim->prefetch[i] = sim->prefetch[--sim->prefetch_len];
        return SIM_OK;
    }
    if (i == SIM_PREFETCH_MAX) {
        return sim_error_set(err, SIM_ERR_LIMIT, "sim_set_prefetch", "at most %u handlers have a prefetch hint",
                             (unsigned)SIM_PREFETCH_MAX);
    }
    if (i == sim->prefetch_len) sim->prefetch_len++;
    sim->prefetch[i].fn = fn;
    sim->prefetch[i].prefetch = prefetch;
    return SIM_OK;
}

void sim_set_event_check(sim_engine *sim, sim_event_check_fn *fn, void *ctx)
{
    sim->check_fn = fn;
    sim->check_ctx = ctx;
}

const sim_trace_record *sim_trace_records(const sim_engine *sim, size_t *count_out)
{
    *count_out = sim->trace_len;
    return sim->trace;
}

static void check_entry(const void *ctx, const sim_heap_entry *e)
{
    const sim_engine *sim = ctx;
    SIM_ASSERT(e->index < sim->events_cap);
    const sim_event *ev = &sim->events[e->index];
    SIM_ASSERT(ev->flags & SIM_EV_QUEUED);                                        /* (2) */
    SIM_ASSERT(e->seq < sim->seq_next);
    SIM_ASSERT(e->seq >= SIM_SEQ_NORMAL_BASE || e->seq < sim->seq_backlog_next);
    SIM_ASSERT(e->at_ns >= sim->now_ns);                                          /* (4) */
}

void sim_engine_check(const sim_engine *sim)
{
    sim__queue_check(&sim->queue);                                                /* (1) */
    sim__queue_foreach(&sim->queue, check_entry, sim);
    uint32_t free_count = 0;
    for (uint32_t i = sim->free_head; i != SIM_NO_INDEX; i = sim->events[i].next) {
        SIM_ASSERT(!(sim->events[i].flags & SIM_EV_QUEUED));                      /* (3) */
        free_count++;
        SIM_ASSERT(free_count <= sim->events_cap);
    }
    SIM_ASSERT(free_count + sim->events_live == sim->events_cap);
    for (uint32_t n = 0; n < sim->node_count; n++) {
        if (sim->nodes[n].state != SIM_NODE_PAUSED) SIM_ASSERT(sim->nodes[n].backlog_head == SIM_NO_INDEX);  /* (5) */
    }
}
