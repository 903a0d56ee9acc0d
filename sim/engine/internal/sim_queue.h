/* sim_queue.h: the engine's event queue (sim_queue.c): a calendar of
 * buckets with two small 4-ary heaps.  Private to the engine library.
 *
 * The queue orders entries (at_ns, seq, slot index); it knows nothing of
 * what the slots hold.  The operations the run loop calls for every event
 * (push, peek, pop) are static inline here; the rarer ones (moving the
 * calendar to the next bucket, growing a bucket, the checks) live in
 * sim_queue.c.
 *
 * The calendar: time is cut into buckets of 2^SIM_Q_SHIFT ns (about 1 ms),
 * and a ring of SIM_Q_RING buckets (about 8.6 s) holds the entries of the
 * buckets after the current one, unsorted.  When the calendar reaches a
 * bucket, its array becomes `run` and is sorted once; events scheduled into
 * the current bucket meanwhile go to `cur`, a small heap, and the head of
 * the queue is the earlier of run's next entry and cur's top.  Entries
 * beyond the ring wait in `far`, a heap.  Each entry is appended once and
 * sorted once with its bucket, instead of sifting through a heap of every
 * pending event (tens of thousands of timers in a large cluster) with a
 * cache miss at each level.  The order of events is exactly (at_ns, seq)
 * order, as with one heap.
 *
 * Invariants (checked by sim__queue_check):
 *   (1) `cur` and `far` are 4-ary min-heaps in (at_ns, seq) order.
 *   (2) entries of `run` (from run_pos on) and of `cur` are in buckets
 *       <= cur_bucket, and run is sorted.
 *   (3) ring slot s holds entries of buckets b with
 *       cur_bucket < b < cur_bucket + SIM_Q_RING and b % SIM_Q_RING == s,
 *       and its bit in `ring_bits` is set iff it is not empty; ring_len
 *       counts them.
 *   (4) `far` holds entries of buckets > cur_bucket.
 *   (5) spare arrays are empty and allocated, at most SIM_Q_RING of them.
 *
 * Capacity: the owner keeps `cur` and `far` able to hold every pending
 * event (sim_engine.c grows them with the event pool), so a push into them
 * never fails; only a ring bucket can fail to grow, and then its entry goes
 * to `far`. */
#ifndef SIM_QUEUE_H
#define SIM_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_assert.h"
#include "sim_time.h"

#define SIM_Q_SHIFT 20u
#define SIM_Q_RING (1u << 13)
#define SIM_Q_HEAP_ARITY 4u

/* sim_event (the slots the entries index) must be complete before this
 * header: include it through sim_engine_int.h.  The queue only prefetches
 * events, it never reads them. */

typedef struct sim_heap_entry {  /* the key lives beside the index: fewer misses */
    sim_time_ns at_ns;
    uint64_t seq;
    uint32_t index;
} sim_heap_entry;

/* A growable array of entries: a 4-ary min-heap in (at_ns, seq) order
 * (`cur`, `far`), a sorted run, or an unsorted calendar bucket. */
typedef struct sim_entries {
    sim_heap_entry *v;
    uint32_t len;
    uint32_t cap;
} sim_entries;

typedef struct sim_queue {
    sim_entries run;             /* the current bucket, sorted */
    uint32_t run_pos;            /* its next entry */
    sim_entries cur;             /* scheduled into the current bucket since */
    sim_entries far;
    sim_entries *ring;           /* SIM_Q_RING buckets */
    sim_entries *spare;          /* arrays of emptied buckets, reused last in, first out */
    uint32_t spare_len;          /* at most SIM_Q_RING: no more arrays ever exist */
    uint64_t ring_bits[SIM_Q_RING / 64];
    uint64_t cur_bucket;         /* at_ns >> SIM_Q_SHIFT of the current bucket */
    uint32_t ring_len;           /* entries in the ring */
} sim_queue;

/* Allocates the ring and the spare list of an all-zero queue; false when
 * out of memory (sim__queue_deinit then frees what was allocated). */
bool sim__queue_init(sim_queue *q);
/* Frees every array of the queue (not the queue itself). */
void sim__queue_deinit(sim_queue *q);
/* Appends to a ring bucket that is full: grows it, or when it cannot grow
 * puts the entry in `far`. */
void sim__queue_ring_append_slow(sim_queue *q, sim_entries *b, sim_heap_entry entry);
/* Calls fn on every queued entry (in no particular order). */
void sim__queue_foreach(const sim_queue *q, void (*fn)(const void *ctx, const sim_heap_entry *entry),
                        const void *ctx);
/* Asserts the invariants above (O(n)). */
void sim__queue_check(const sim_queue *q);

static inline bool sim__entry_before(const sim_heap_entry *a, const sim_heap_entry *b)
{
    if (a->at_ns != b->at_ns) return a->at_ns < b->at_ns;
    return a->seq < b->seq;   /* seq is unique: the order is total */
}

static inline void sim__heap_push(sim_entries *h, sim_heap_entry entry)
{
    sim_heap_entry *heap = h->v;
    uint32_t i = h->len++;
    SIM_ASSERT(h->len <= h->cap);
    while (i > 0) {
        uint32_t parent = (i - 1) / SIM_Q_HEAP_ARITY;
        if (!sim__entry_before(&entry, &heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = entry;
}

static inline sim_heap_entry sim__heap_pop(sim_entries *h)
{
    sim_heap_entry *heap = h->v;
    SIM_ASSERT(h->len > 0);
    sim_heap_entry top = heap[0];
    sim_heap_entry last = heap[--h->len];
    uint32_t n = h->len;
    uint32_t i = 0;
    for (;;) {
        uint32_t first = i * SIM_Q_HEAP_ARITY + 1;
        if (first >= n) break;
        uint32_t best = first;
        uint32_t end = first + SIM_Q_HEAP_ARITY < n ? first + SIM_Q_HEAP_ARITY : n;
        for (uint32_t c = first + 1; c < end; c++) {
            if (sim__entry_before(&heap[c], &heap[best])) best = c;
        }
        if (!sim__entry_before(&heap[best], &last)) break;
        heap[i] = heap[best];
        i = best;
    }
    if (n > 0) heap[i] = last;
    return top;
}

/* Entries in the queue.  O(1). */
static inline uint32_t sim__queue_len(const sim_queue *q)
{
    return (q->run.len - q->run_pos) + q->cur.len + q->far.len + q->ring_len;
}

static inline void sim__queue_push(sim_queue *q, sim_heap_entry entry)
{
    uint64_t bucket = entry.at_ns >> SIM_Q_SHIFT;
    if (bucket <= q->cur_bucket) {
        sim__heap_push(&q->cur, entry);
        return;
    }
    if (bucket - q->cur_bucket < SIM_Q_RING) {
        uint32_t slot = (uint32_t)(bucket & (SIM_Q_RING - 1));
        sim_entries *b = &q->ring[slot];
        if (b->cap == 0 && q->spare_len > 0) *b = q->spare[--q->spare_len];   /* a warm array */
        if (b->len == b->cap) {
            sim__queue_ring_append_slow(q, b, entry);
            return;
        }
        b->v[b->len++] = entry;
        q->ring_bits[slot / 64] |= 1ull << (slot % 64);
        q->ring_len++;
        return;
    }
    sim__heap_push(&q->far, entry);
}

/* The first slot >= from whose bit is set, or SIM_Q_RING (no wrapping). */
static inline uint32_t sim__ring_slot_next(const sim_queue *q, uint32_t from)
{
    for (uint32_t word = from / 64; word < SIM_Q_RING / 64; word++) {
        uint64_t bits = q->ring_bits[word];
        if (word == from / 64) bits &= ~0ull << (from % 64);
        if (bits != 0) return word * 64 + (uint32_t)__builtin_ctzll(bits);
    }
    return SIM_Q_RING;
}

/* The first non-empty ring bucket after `bucket` (the current one or a
 * later one in the ring), or UINT64_MAX. */
static inline uint64_t sim__ring_next_after(const sim_queue *q, uint64_t bucket)
{
    if (q->ring_len == 0) return UINT64_MAX;
    uint32_t start = (uint32_t)((bucket + 1) & (SIM_Q_RING - 1));
    uint32_t slot = sim__ring_slot_next(q, start);
    if (slot == SIM_Q_RING) slot = sim__ring_slot_next(q, 0);   /* round the end of the array */
    SIM_ASSERT(slot < SIM_Q_RING);
    uint64_t found = bucket + 1 + ((slot - start) & (SIM_Q_RING - 1));
    /* Past the ring's end, the slot holds a bucket before `bucket`. */
    return found - q->cur_bucket < SIM_Q_RING ? found : UINT64_MAX;
}

/* The first non-empty ring bucket after the current one, or UINT64_MAX. */
static inline uint64_t sim__ring_next(const sim_queue *q)
{
    return sim__ring_next_after(q, q->cur_bucket);
}

/* Sorts entries [i, n) of a bucket into place after the sorted [0, i). */
void sim__bucket_sort(sim_heap_entry *v, uint32_t n, uint32_t i);

/* Sorts the new run.  Its entries were appended in scheduling order, which
 * is often their order already (a burst of messages with one latency). */
static inline void sim__bucket_sort_run(sim_queue *q)
{
    sim_heap_entry *v = q->run.v;
    uint32_t n = q->run.len;
    uint32_t i = 1;
    while (i < n && sim__entry_before(&v[i - 1], &v[i])) i++;
    if (i < n) sim__bucket_sort(v, n, i);
}

/* queue_peek's slow path: the current bucket is used up, so the calendar
 * moves to the next bucket that has entries and returns its first entry,
 * or NULL when the queue is empty.  Its ring array becomes `run`, and any
 * `far` entries of it go into `cur`.  `events` is the pool the entries
 * index, only for prefetching.  (Inline too: with few events per bucket
 * the run loop comes here for almost every event.) */
static inline const sim_heap_entry *sim__queue_advance(sim_queue *q, const sim_event *events)
{
    SIM_ASSERT(q->run_pos >= q->run.len && q->cur.len == 0);
    uint64_t next = sim__ring_next(q);
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
        /* The handlers will read these events soon.  Their loads started
         * a bucket ago, but for events scheduled since (recently written,
         * so in cache): start those now.  Start the next bucket's too,
         * scheduled seconds ago, through its array, loaded a bucket ago,
         * and the free place after its entries, where events scheduled a
         * millisecond ahead (a message's latency) go from now on; and load
         * the array of the bucket after it, written seconds ago.  So the
         * run loop finds an event's record loaded, not just asked for. */
        for (uint32_t i = 0; i < q->run.len; i++) __builtin_prefetch(&events[q->run.v[i].index]);
        uint64_t after = sim__ring_next(q);
        if (after != UINT64_MAX) {
            const sim_entries *a = &q->ring[after & (SIM_Q_RING - 1)];
            for (uint32_t i = 0; i < a->len; i++) __builtin_prefetch(&events[a->v[i].index]);
            if (a->len < a->cap) __builtin_prefetch(&a->v[a->len], 1);
            uint64_t later = sim__ring_next_after(q, after);
            if (later != UINT64_MAX) {
                const sim_entries *l = &q->ring[later & (SIM_Q_RING - 1)];
                for (uint32_t i = 0; i < l->len; i += 64 / sizeof *l->v) __builtin_prefetch(&l->v[i]);
            }
        }
        sim__bucket_sort_run(q);
    }
    while (q->far.len > 0 && (q->far.v[0].at_ns >> SIM_Q_SHIFT) <= next) sim__heap_push(&q->cur, sim__heap_pop(&q->far));
    if (q->run_pos < q->run.len) {   /* the bucket is not empty now */
        const sim_heap_entry *r = &q->run.v[q->run_pos];
        return q->cur.len > 0 && sim__entry_before(&q->cur.v[0], r) ? &q->cur.v[0] : r;
    }
    return &q->cur.v[0];
}

/* The first entry in (at_ns, seq) order, or NULL when the queue is empty. */
static inline const sim_heap_entry *sim__queue_peek(sim_queue *q, const sim_event *events)
{
    if (q->run_pos < q->run.len) {
        const sim_heap_entry *r = &q->run.v[q->run_pos];
        return q->cur.len > 0 && sim__entry_before(&q->cur.v[0], r) ? &q->cur.v[0] : r;
    }
    if (q->cur.len > 0) return &q->cur.v[0];
    return sim__queue_advance(q, events);
}

/* Removes the entry sim__queue_peek returned, `head`, without deciding
 * again where it came from. */
static inline sim_heap_entry sim__queue_take(sim_queue *q, const sim_heap_entry *head)
{
    if (q->run_pos < q->run.len && head == &q->run.v[q->run_pos]) return q->run.v[q->run_pos++];
    SIM_ASSERT(q->cur.len > 0 && head == &q->cur.v[0]);
    return sim__heap_pop(&q->cur);
}

#endif
