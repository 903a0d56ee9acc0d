/* sim_queue.c: the calendar event queue and its heaps (design notes and
 * invariants in internal/sim_queue.h). */
#include "sim_engine_int.h"
#include "sim_vec.h"

#include <stdlib.h>

bool sim__queue_init(sim_queue *q)
{
    q->ring = calloc(SIM_Q_RING, sizeof *q->ring);
    q->spare = calloc(SIM_Q_RING + 1, sizeof *q->spare);
    return q->ring != NULL && q->spare != NULL;
}

void sim__queue_deinit(sim_queue *q)
{
    free(q->run.v);
    free(q->cur.v);
    free(q->far.v);
    if (q->ring != NULL) {
        for (uint32_t i = 0; i < SIM_Q_RING; i++) free(q->ring[i].v);
    }
    free(q->ring);
    for (uint32_t i = 0; i < q->spare_len; i++) free(q->spare[i].v);
    free(q->spare);
}

void sim__queue_ring_append_slow(sim_queue *q, sim_entries *b, sim_heap_entry entry)
{
    if (!SIM_VEC_RESERVE(b->v, b->len, b->cap, 1)) {
        sim__heap_push(&q->far, entry);   /* `far` always has room */
        return;
    }
    b->v[b->len++] = entry;
    uint32_t slot = (uint32_t)(b - q->ring);
    q->ring_bits[slot / 64] |= 1ull << (slot % 64);
    q->ring_len++;
}

static int entry_cmp(const void *a, const void *b)
{
    return sim__entry_before(a, b) ? -1 : 1;   /* never equal: seq is unique */
}

void sim__bucket_sort(sim_heap_entry *v, uint32_t n, uint32_t i)
{
    if (n > 64) {
        qsort(v, n, sizeof *v, entry_cmp);
        return;
    }
    for (; i < n; i++) {                  /* insertion sort */
        sim_heap_entry e = v[i];
        uint32_t j = i;
        while (j > 0 && sim__entry_before(&e, &v[j - 1])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = e;
    }
}

void sim__queue_foreach(const sim_queue *q, void (*fn)(const void *ctx, const sim_heap_entry *entry),
                        const void *ctx)
{
    for (uint32_t i = q->run_pos; i < q->run.len; i++) fn(ctx, &q->run.v[i]);
    for (uint32_t i = 0; i < q->cur.len; i++) fn(ctx, &q->cur.v[i]);
    for (uint32_t i = 0; i < q->far.len; i++) fn(ctx, &q->far.v[i]);
    for (uint32_t slot = sim__ring_slot_next(q, 0); slot < SIM_Q_RING; slot = sim__ring_slot_next(q, slot + 1)) {
        for (uint32_t i = 0; i < q->ring[slot].len; i++) fn(ctx, &q->ring[slot].v[i]);
    }
}

static void check_heap(const sim_entries *h)
{
    for (uint32_t i = 1; i < h->len; i++) SIM_ASSERT(!sim__entry_before(&h->v[i], &h->v[(i - 1) / SIM_Q_HEAP_ARITY]));
}

void sim__queue_check(const sim_queue *q)
{
    check_heap(&q->cur);                                                          /* (1) */
    check_heap(&q->far);
    for (uint32_t i = 0; i < q->cur.len; i++) SIM_ASSERT((q->cur.v[i].at_ns >> SIM_Q_SHIFT) <= q->cur_bucket);  /* (2) */
    for (uint32_t i = q->run_pos; i < q->run.len; i++) {
        SIM_ASSERT((q->run.v[i].at_ns >> SIM_Q_SHIFT) <= q->cur_bucket);
        if (i > q->run_pos) SIM_ASSERT(sim__entry_before(&q->run.v[i - 1], &q->run.v[i]));
    }
    for (uint32_t i = 0; i < q->far.len; i++) SIM_ASSERT((q->far.v[i].at_ns >> SIM_Q_SHIFT) > q->cur_bucket);  /* (4) */
    /* Only the slots whose bit is set are visited (this runs after every
     * event in debug builds); that their lengths add up to ring_len shows
     * that the slots whose bit is clear are empty. */
    uint32_t ring_len = 0;                                                        /* (3) */
    for (uint32_t slot = sim__ring_slot_next(q, 0); slot < SIM_Q_RING; slot = sim__ring_slot_next(q, slot + 1)) {
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
    SIM_ASSERT(q->spare_len <= SIM_Q_RING);                                      /* (5) */
    for (uint32_t i = 0; i < q->spare_len; i++) SIM_ASSERT(q->spare[i].len == 0 && q->spare[i].cap > 0);
}
