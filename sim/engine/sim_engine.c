/* sim_engine.c: event pool, calendar queue, run loop, node life cycle, trace.
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
 *   PAUSED -> UP      [node_resume_fire]  the backlog re-enters the queue, in order
 *   UP     -> DOWN    [sim_node_crash]    incarnation + 1, ops->crash
 *   PAUSED -> DOWN    [sim_node_crash]    the backlog is dropped
 *
 * Invariants (checked by sim_engine_check):
 *   (1) the queue's parts keep their invariants (sim_engine_int.h): heaps
 *       in (at_ns, seq) order, each entry in the part its bucket says.
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

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_INDEX UINT32_MAX
#define HEAP_ARITY 4u

/* --- Pool ---------------------------------------------------------------- */

static sim_status pool_grow(sim_engine *sim, sim_error *err)
{
    if (sim->events_cap >= sim->events_max) {
        return sim_error_set(err, SIM_ERR_LIMIT, "sim_schedule",
                             "event pool is full (%u events; raise events_max, at most %u)",
                             sim->events_cap, (unsigned)SIM_EVENTS_MAX);
    }
    uint64_t want = sim->events_cap == 0 ? 1024 : (uint64_t)sim->events_cap * 2;
    uint32_t cap = want > sim->events_max ? sim->events_max : (uint32_t)want;
    /* The two heaps can hold every event, so a push into them never fails;
     * only a ring bucket can, and then the entry goes to `far`. */
    sim_event *events = realloc(sim->events, (size_t)cap * sizeof *events);
    if (events != NULL) sim->events = events;
    sim_heap_entry *cur = events != NULL ? realloc(sim->queue.cur.v, (size_t)cap * sizeof *cur) : NULL;
    if (cur != NULL) sim->queue.cur.v = cur;
    sim_heap_entry *far = cur != NULL ? realloc(sim->queue.far.v, (size_t)cap * sizeof *far) : NULL;
    if (far != NULL) sim->queue.far.v = far;
    if (events == NULL || cur == NULL || far == NULL) {
        return sim_error_set(err, SIM_ERR_NOMEM, "sim_schedule", "cannot grow the event pool to %u", cap);
    }
    sim->queue.cur.cap = sim->queue.far.cap = cap;
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

static void slot_free(sim_engine *sim, uint32_t index)
{
    sim_event *ev = &sim->events[index];
    SIM_ASSERT(sim->events_live > 0);
    ev->flags = 0;
    ev->generation++;
    if (ev->generation == 0) ev->generation = 1;   /* 0 means "no event" in handles */
    ev->next = sim->free_head;
    sim->free_head = index;
    sim->events_live--;
}

/* --- Heap ---------------------------------------------------------------- */

static inline bool entry_before(const sim_heap_entry *a, const sim_heap_entry *b)
{
    if (a->at_ns != b->at_ns) return a->at_ns < b->at_ns;
    return a->seq < b->seq;   /* seq is unique: the order is total */
}

static void heap_push(sim_entries *h, sim_heap_entry entry)
{
    sim_heap_entry *heap = h->v;
    uint32_t i = h->len++;
    SIM_ASSERT(h->len <= h->cap);
    while (i > 0) {
        uint32_t parent = (i - 1) / HEAP_ARITY;
        if (!entry_before(&entry, &heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = entry;
}

static sim_heap_entry heap_pop(sim_entries *h)
{
    sim_heap_entry *heap = h->v;
    SIM_ASSERT(h->len > 0);
    sim_heap_entry top = heap[0];
    sim_heap_entry last = heap[--h->len];
    uint32_t n = h->len;
    uint32_t i = 0;
    for (;;) {
        uint32_t first = i * HEAP_ARITY + 1;
        if (first >= n) break;
        uint32_t best = first;
        uint32_t end = first + HEAP_ARITY < n ? first + HEAP_ARITY : n;
        for (uint32_t c = first + 1; c < end; c++) {
            if (entry_before(&heap[c], &heap[best])) best = c;
        }
        if (!entry_before(&heap[best], &last)) break;
        heap[i] = heap[best];
        i = best;
    }
    if (n > 0) heap[i] = last;
    return top;
}

/* --- Calendar queue ------------------------------------------------------ */

static uint32_t queue_len(const sim_queue *q)
{
    return (q->run.len - q->run_pos) + q->cur.len + q->far.len + q->ring_len;
}

static void queue_push(sim_engine *sim, sim_heap_entry entry)
{
    sim_queue *q = &sim->queue;
    uint64_t bucket = entry.at_ns >> SIM_Q_SHIFT;
    if (bucket <= q->cur_bucket) {
        heap_push(&q->cur, entry);
        return;
    }
    if (bucket - q->cur_bucket < SIM_Q_RING) {
        uint32_t slot = (uint32_t)(bucket & (SIM_Q_RING - 1));
        sim_entries *b = &q->ring[slot];
        if (b->cap == 0 && q->spare_len > 0) *b = q->spare[--q->spare_len];   /* a warm array */
        if (b->len == b->cap) {
            uint32_t cap = b->cap == 0 ? 16 : b->cap * 2;
            sim_heap_entry *v = realloc(b->v, (size_t)cap * sizeof *v);
            if (v == NULL) {
                heap_push(&q->far, entry);   /* `far` always has room */
                return;
            }
            b->v = v;
            b->cap = cap;
        }
        b->v[b->len++] = entry;
        q->ring_bits[slot / 64] |= 1ull << (slot % 64);
        q->ring_len++;
        return;
    }
    heap_push(&q->far, entry);
}

/* The first slot >= from whose bit is set, or SIM_Q_RING (no wrapping). */
static uint32_t ring_slot_next(const sim_queue *q, uint32_t from)
{
    for (uint32_t word = from / 64; word < SIM_Q_RING / 64; word++) {
        uint64_t bits = q->ring_bits[word];
        if (word == from / 64) bits &= ~0ull << (from % 64);
        if (bits != 0) return word * 64 + (uint32_t)__builtin_ctzll(bits);
    }
    return SIM_Q_RING;
}

/* The first non-empty ring bucket after the current one, or UINT64_MAX. */
static uint64_t ring_next(const sim_queue *q)
{
    if (q->ring_len == 0) return UINT64_MAX;
    uint32_t start = (uint32_t)((q->cur_bucket + 1) & (SIM_Q_RING - 1));
    uint32_t slot = ring_slot_next(q, start);
    if (slot == SIM_Q_RING) slot = ring_slot_next(q, 0);   /* round the end of the array */
    SIM_ASSERT(slot < SIM_Q_RING);
    return q->cur_bucket + 1 + ((slot - start) & (SIM_Q_RING - 1));
}

static int entry_cmp(const void *a, const void *b)
{
    return entry_before(a, b) ? -1 : 1;   /* never equal: seq is unique */
}

/* Sorts a bucket.  Its entries were appended in scheduling order, which is
 * often their order already (a burst of messages with one latency). */
static void bucket_sort(sim_heap_entry *v, uint32_t n)
{
    uint32_t i = 1;
    while (i < n && entry_before(&v[i - 1], &v[i])) i++;
    if (i >= n) return;
    if (n > 64) {
        qsort(v, n, sizeof *v, entry_cmp);
        return;
    }
    for (; i < n; i++) {                  /* insertion sort */
        sim_heap_entry e = v[i];
        uint32_t j = i;
        while (j > 0 && entry_before(&e, &v[j - 1])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = e;
    }
}

/* The first entry in (at_ns, seq) order, or NULL when the queue is empty.
 * When the current bucket is used up, moves the calendar to the next
 * bucket that has entries: its ring array becomes `run`, and any `far`
 * entries of it go into `cur`. */
static const sim_heap_entry *queue_peek(sim_engine *sim)
{
    sim_queue *q = &sim->queue;
    if (q->run_pos < q->run.len) {
        const sim_heap_entry *r = &q->run.v[q->run_pos];
        return q->cur.len > 0 && entry_before(&q->cur.v[0], r) ? &q->cur.v[0] : r;
    }
    if (q->cur.len > 0) return &q->cur.v[0];
    uint64_t next = ring_next(q);
    if (q->far.len > 0) {
        uint64_t far_bucket = q->far.v[0].at_ns >> SIM_Q_SHIFT;
        if (far_bucket < next) next = far_bucket;
    }
    if (next == UINT64_MAX) return NULL;
    q->cur_bucket = next;
    uint32_t slot = (uint32_t)(next & (SIM_Q_RING - 1));
    sim_entries *b = &q->ring[slot];
    /* The run is used up: the slot's array becomes the run, and the old
     * run's array is kept for the next bucket that needs one (the most
     * recently used arrays are the ones still in cache). */
    q->run.len = 0;
    q->run_pos = 0;
    if (b->len > 0) {   /* next is this bucket: when it came from `far`, the slot is empty */
        SIM_ASSERT((b->v[0].at_ns >> SIM_Q_SHIFT) == next);
        if (q->run.cap > 0) q->spare[q->spare_len++] = q->run;
        q->run = *b;
        *b = (sim_entries){ .v = NULL, .len = 0, .cap = 0 };
        q->ring_len -= q->run.len;
        q->ring_bits[slot / 64] &= ~(1ull << (slot % 64));
        /* The handlers will read these events soon: start the loads now,
         * and those of the next bucket's array, written seconds ago. */
        for (uint32_t i = 0; i < q->run.len; i++) __builtin_prefetch(&sim->events[q->run.v[i].index]);
        uint64_t after = ring_next(q);
        if (after != UINT64_MAX) {
            const sim_entries *a = &q->ring[after & (SIM_Q_RING - 1)];
            for (uint32_t i = 0; i < a->len; i += 64 / sizeof *a->v) __builtin_prefetch(&a->v[i]);
        }
        bucket_sort(q->run.v, q->run.len);
    }
    while (q->far.len > 0 && (q->far.v[0].at_ns >> SIM_Q_SHIFT) <= next) heap_push(&q->cur, heap_pop(&q->far));
    return queue_peek(sim);   /* one level: the bucket is not empty now */
}

/* Removes the entry queue_peek returned. */
static sim_heap_entry queue_pop(sim_queue *q)
{
    if (q->run_pos < q->run.len && (q->cur.len == 0 || entry_before(&q->run.v[q->run_pos], &q->cur.v[0]))) {
        return q->run.v[q->run_pos++];
    }
    return heap_pop(&q->cur);
}

/* Calls fn on every queued entry (in no particular order). */
static void queue_foreach(const sim_queue *q, void (*fn)(const sim_engine *, const sim_heap_entry *),
                          const sim_engine *sim)
{
    for (uint32_t i = q->run_pos; i < q->run.len; i++) fn(sim, &q->run.v[i]);
    for (uint32_t i = 0; i < q->cur.len; i++) fn(sim, &q->cur.v[i]);
    for (uint32_t i = 0; i < q->far.len; i++) fn(sim, &q->far.v[i]);
    for (uint32_t slot = ring_slot_next(q, 0); slot < SIM_Q_RING; slot = ring_slot_next(q, slot + 1)) {
        for (uint32_t i = 0; i < q->ring[slot].len; i++) fn(sim, &q->ring[slot].v[i]);
    }
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
    sim->free_head = NO_INDEX;
    sim->seq_next = SIM_SEQ_NORMAL_BASE;
    sim->seq_backlog_next = 1;
    sim->trace_hash = 0xcbf29ce484222325ull;
    sim->node_count = config->node_count;
    sim->queue.ring = calloc(SIM_Q_RING, sizeof *sim->queue.ring);
    sim->queue.spare = calloc(SIM_Q_RING + 1, sizeof *sim->queue.spare);
    if (sim->queue.ring == NULL || sim->queue.spare == NULL) goto fail_free_sim;
    sim->nodes = calloc(config->node_count, sizeof *sim->nodes);
    if (sim->nodes == NULL) goto fail_free_sim;
    for (uint32_t i = 0; i < sim->node_count; i++) {
        sim->nodes[i].state = SIM_NODE_DOWN;
        sim->nodes[i].backlog_head = NO_INDEX;
        sim->nodes[i].backlog_tail = NO_INDEX;
        sim->nodes[i].rng = sim_rng_derive(config->seed, SIM_STREAM_NODE(i, 0));
    }
    sim_error local;
    if (sim__net_init(sim, &local) != SIM_OK) goto fail_free_nodes;
    return sim;

fail_free_nodes:
    free(sim->nodes);
fail_free_sim:
    sim__net_deinit(sim);
    free(sim->queue.ring);
    free(sim->queue.spare);
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
    free(sim->queue.run.v);
    free(sim->queue.cur.v);
    free(sim->queue.far.v);
    for (uint32_t i = 0; i < SIM_Q_RING; i++) free(sim->queue.ring[i].v);
    free(sim->queue.ring);
    for (uint32_t i = 0; i < sim->queue.spare_len; i++) free(sim->queue.spare[i].v);
    free(sim->queue.spare);
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
    return queue_len(&sim->queue) + sim->backlogged - sim->cancelled_queued;
}

/* --- Scheduling ---------------------------------------------------------- */

sim_status sim__schedule(sim_engine *sim, sim_time_ns at_ns, uint16_t kind, sim_event_fn *fn,
                         void *ctx, uint64_t arg, uint32_t node, uint8_t flags,
                         sim_event_id *id_out, sim_error *err)
{
    if (sim->free_head == NO_INDEX) {
        sim_status st = pool_grow(sim, err);
        if (st != SIM_OK) return st;
    }
    uint32_t index = sim->free_head;
    sim_event *ev = &sim->events[index];
    sim->free_head = ev->next;
    sim->events_live++;
    ev->fn = fn;
    ev->ctx = ctx;
    ev->arg = arg;
    uint64_t seq = sim->seq_next++;
    ev->node = node;
    ev->incarnation = node == SIM_NODE_NONE ? 0 : sim->nodes[node].incarnation;
    ev->kind = kind;
    ev->flags = (uint8_t)(flags | SIM_EV_QUEUED);
    ev->msg_kind = 0;
    ev->next = NO_INDEX;
    queue_push(sim, (sim_heap_entry){ .at_ns = at_ns, .seq = seq, .index = index });
    if (id_out != NULL) *id_out = (sim_event_id){ .index = index, .generation = ev->generation };
    return SIM_OK;
}

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
     * slot itself is freed when the entry leaves the heap or backlog. */
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
    if (sim->trace_len == sim->trace_cap) {
        size_t cap = sim->trace_cap == 0 ? 4096 : sim->trace_cap * 2;
        sim_trace_record *trace = realloc(sim->trace, cap * sizeof *trace);
        SIM_ASSERT(trace != NULL);   /* tracing is a debugging aid: out of memory is fatal */
        sim->trace = trace;
        sim->trace_cap = cap;
    }
    sim->trace[sim->trace_len++] = (sim_trace_record){
        .at_ns = top->at_ns, .seq = top->seq, .node = ev->node,
        .incarnation = ev->incarnation, .kind = ev->kind,
    };
}

static void backlog_append(sim_engine *sim, sim_node *node, uint32_t index)
{
    sim->events[index].next = NO_INDEX;
    if (node->backlog_tail == NO_INDEX) {
        node->backlog_head = index;
    } else {
        sim->events[node->backlog_tail].next = index;
    }
    node->backlog_tail = index;
}

/* Pops and runs one event with at_ns <= until_ns.  Returns false when none. */
static bool step(sim_engine *sim, sim_time_ns until_ns)
{
    for (;;) {
        const sim_heap_entry *head = queue_peek(sim);
        if (head == NULL || head->at_ns > until_ns) return false;
        sim_heap_entry top = queue_pop(&sim->queue);
        sim_event *ev = &sim->events[top.index];
        SIM_ASSERT(top.at_ns >= sim->now_ns);          /* time never goes backwards */
        SIM_ASSERT(ev->flags & SIM_EV_QUEUED);
        if (ev->flags & SIM_EV_CANCELLED) {
            sim->cancelled_queued--;
            slot_free(sim, top.index);
            continue;
        }
        sim->now_ns = top.at_ns;
        if (ev->node != SIM_NODE_NONE) {
            sim_node *node = &sim->nodes[ev->node];
            if ((ev->flags & SIM_EV_OWNED) && ev->incarnation != node->incarnation) {
                slot_free(sim, top.index);             /* an earlier incarnation's timer */
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
        /* Copy out before freeing: the handler may grow (move) the pool. */
        sim_event copy = *ev;
        slot_free(sim, top.index);
        if (copy.fn == sim__net_deliver) {
            sim__net_deliver_event(sim, &copy, &top);
        } else {
            copy.fn(sim, copy.ctx, copy.arg);
        }
#ifdef SIM_DEBUG
        sim_engine_check(sim);
#endif
        return true;
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
    for (;;) {
        if (sim->failed) return SIM_STOP_FAILED;
        if (budget != 0 && sim->processed >= budget) return SIM_STOP_BUDGET;
        if (!step(sim, until_ns)) break;
    }
    if (sim->failed) return SIM_STOP_FAILED;
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

/* --- Nodes --------------------------------------------------------------- */

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
    while (index != NO_INDEX) {
        sim_event *ev = &sim->events[index];
        uint32_t next = ev->next;
        if (ev->flags & SIM_EV_CANCELLED) sim->cancelled_queued--;
        else if (ev->fn == sim__net_deliver) sim__net_drop_backlogged(sim, ev);
        slot_free(sim, index);
        sim->backlogged--;
        index = next;
    }
    node->backlog_head = node->backlog_tail = NO_INDEX;
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
    node->backlog_head = node->backlog_tail = NO_INDEX;
    while (index != NO_INDEX) {
        sim_event *ev = &sim->events[index];
        uint32_t next = ev->next;
        ev->next = NO_INDEX;
        SIM_ASSERT(sim->seq_backlog_next < SIM_SEQ_NORMAL_BASE);
        queue_push(sim, (sim_heap_entry){ .at_ns = sim->now_ns, .seq = sim->seq_backlog_next++, .index = index });
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

sim_status sim_timer_start(sim_engine *sim, sim_node_id id, sim_time_ns delay_ns, uint16_t kind,
                           sim_event_fn *fn, void *ctx, uint64_t arg, sim_event_id *id_out,
                           sim_error *err)
{
    sim_status st = check_node(sim, id, "sim_timer_start", err);
    if (st != SIM_OK) return st;
    if (fn == NULL) return sim_error_set(err, SIM_ERR_INVALID, "sim_timer_start", "handler is NULL");
    const sim_node *node = &sim->nodes[id];
    if (node->state == SIM_NODE_DOWN) {
        return sim_error_set(err, SIM_ERR_STATE, "sim_timer_start", "node %u is down", id);
    }
    /* A local delay lasts delay * 10^6 / (10^6 + drift) in true time,
     * rounded up so a timer never fires before its local deadline. */
    sim_time_ns true_delay = delay_ns;
    if (node->drift_ppm != 0) {
        s128 scaled = ((s128)delay_ns * 1000000 + (1000000 + node->drift_ppm) - 1) /
                      (1000000 + node->drift_ppm);
        true_delay = (sim_time_ns)scaled;
    }
    if (true_delay >= SIM_TIME_NEVER - sim->now_ns) {
        return sim_error_set(err, SIM_ERR_INVALID, "sim_timer_start", "delay %llu ns overflows the clock",
                             (unsigned long long)delay_ns);
    }
    return sim__schedule(sim, sim->now_ns + true_delay, kind, fn, ctx, arg, id, SIM_EV_OWNED, id_out, err);
}

/* --- Trace and checks ---------------------------------------------------- */

uint64_t sim_trace_hash(const sim_engine *sim) { return sim->trace_hash; }

void sim_set_trace_hook(sim_engine *sim, sim_trace_fn *fn, void *ctx)
{
    sim->trace_fn = fn;
    sim->trace_ctx = ctx;
}

const sim_trace_record *sim_trace_records(const sim_engine *sim, size_t *count_out)
{
    *count_out = sim->trace_len;
    return sim->trace;
}

static void check_entry(const sim_engine *sim, const sim_heap_entry *e)
{
    SIM_ASSERT(e->index < sim->events_cap);
    const sim_event *ev = &sim->events[e->index];
    SIM_ASSERT(ev->flags & SIM_EV_QUEUED);                                        /* (2) */
    SIM_ASSERT(e->seq < sim->seq_next);
    SIM_ASSERT(e->seq >= SIM_SEQ_NORMAL_BASE || e->seq < sim->seq_backlog_next);
    SIM_ASSERT(e->at_ns >= sim->now_ns);                                          /* (4) */
}

static void check_heap(const sim_entries *h)
{
    for (uint32_t i = 1; i < h->len; i++) SIM_ASSERT(!entry_before(&h->v[i], &h->v[(i - 1) / HEAP_ARITY]));
}

void sim_engine_check(const sim_engine *sim)
{
    const sim_queue *q = &sim->queue;
    check_heap(&q->cur);                                                          /* (1) */
    check_heap(&q->far);
    for (uint32_t i = 0; i < q->cur.len; i++) SIM_ASSERT((q->cur.v[i].at_ns >> SIM_Q_SHIFT) <= q->cur_bucket);
    for (uint32_t i = q->run_pos; i < q->run.len; i++) {
        SIM_ASSERT((q->run.v[i].at_ns >> SIM_Q_SHIFT) <= q->cur_bucket);
        if (i > q->run_pos) SIM_ASSERT(entry_before(&q->run.v[i - 1], &q->run.v[i]));
    }
    for (uint32_t i = 0; i < q->far.len; i++) SIM_ASSERT((q->far.v[i].at_ns >> SIM_Q_SHIFT) > q->cur_bucket);
    /* Only the slots whose bit is set are visited (this runs after every
     * event in debug builds); that their lengths add up to ring_len shows
     * that the slots whose bit is clear are empty. */
    uint32_t ring_len = 0;
    for (uint32_t slot = ring_slot_next(q, 0); slot < SIM_Q_RING; slot = ring_slot_next(q, slot + 1)) {
        const sim_entries *b = &q->ring[slot];
        SIM_ASSERT(b->len > 0);
        for (uint32_t i = 0; i < b->len; i++) {
            uint64_t bucket = b->v[i].at_ns >> SIM_Q_SHIFT;
            SIM_ASSERT(bucket > q->cur_bucket && bucket - q->cur_bucket < SIM_Q_RING);
            SIM_ASSERT((bucket & (SIM_Q_RING - 1)) == slot);
        }
        ring_len += b->len;
    }
    SIM_ASSERT(ring_len == q->ring_len);
    SIM_ASSERT(q->spare_len <= SIM_Q_RING);
    for (uint32_t i = 0; i < q->spare_len; i++) SIM_ASSERT(q->spare[i].len == 0 && q->spare[i].cap > 0);
    queue_foreach(q, check_entry, sim);
    uint32_t free_count = 0;
    for (uint32_t i = sim->free_head; i != NO_INDEX; i = sim->events[i].next) {
        SIM_ASSERT(!(sim->events[i].flags & SIM_EV_QUEUED));                      /* (3) */
        free_count++;
        SIM_ASSERT(free_count <= sim->events_cap);
    }
    SIM_ASSERT(free_count + sim->events_live == sim->events_cap);
    for (uint32_t n = 0; n < sim->node_count; n++) {
        if (sim->nodes[n].state != SIM_NODE_PAUSED) SIM_ASSERT(sim->nodes[n].backlog_head == NO_INDEX);  /* (5) */
    }
}
