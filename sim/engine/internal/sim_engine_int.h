/* sim_engine_int.h: the engine's records (event, node, link, request) and
 * the engine object itself, shared by the engine library's source files.
 * Private to the library: only files under sim/engine/ include it. */
#ifndef SIM_ENGINE_INT_H
#define SIM_ENGINE_INT_H

#include "sim_engine.h"
#include "sim_net.h"

enum {
    SIM_EV_OWNED = 1u << 0,      /* a node's timer: dies with the incarnation */
    SIM_EV_CANCELLED = 1u << 1,  /* cancelled while queued: skipped when popped */
    SIM_EV_QUEUED = 1u << 2,     /* in the queue or in a pause backlog */
};

/* One event: 64 bytes, one cache line.  Its time and sequence number live
 * in the queue entry (sim_queue.h: the queue is what compares them); a message in flight is
 * an event too, so delivery touches no second record. */
typedef struct sim_event {
    sim_event_fn *fn;
    void *ctx;              /* a message: its payload */
    uint64_t arg;           /* a message: the send time */
    uint32_t node;          /* SIM_NODE_NONE for harness events; a message: dst */
    uint32_t incarnation;   /* the node's incarnation when scheduled */
    uint32_t generation;    /* bumped when the slot is freed; never 0 */
    uint32_t next;          /* free list or pause backlog link */
    uint16_t kind;
    uint8_t flags;
    uint8_t msg_kind;       /* sim_msg_kind, for deliveries */
    uint32_t src;           /* message fields, for deliveries */
    uint32_t bytes;
    uint16_t type;
    uint32_t rpc_index;
    uint32_t rpc_generation;
} sim_event;

_Static_assert(sizeof(sim_event) <= 64, "an event fits one cache line");

#include "sim_queue.h"   /* after sim_event: the queue prefetches events */

/* Sequence numbers of ordinary events start here; events re-queued from a
 * pause backlog take numbers below it, so at their (resume) instant they
 * run before every other event, in the order they fell due.  2^62 leaves
 * both ranges far more room than any run can use. */
#define SIM_SEQ_NORMAL_BASE (1ull << 62)

typedef struct sim_node {
    const sim_node_ops *ops;
    void *ctx;
    sim_node_state state;
    uint32_t incarnation;        /* 0 = never started */
    uint32_t backlog_head;       /* pause backlog, FIFO; UINT32_MAX = empty */
    uint32_t backlog_tail;
    sim_time_ns clock_base_true_ns;
    sim_time_ns clock_base_local_ns;
    int32_t drift_ppm;
    sim_rng rng;
} sim_node;

typedef struct sim_link {
    const sim_link_params *params;   /* NULL: the network default */
    sim_time_ns tx_free_at_ns;       /* transmit queue: when the wire is free */
    sim_time_ns fifo_last_at_ns;     /* FIFO: no delivery before this */
    uint32_t rng_slot;               /* 1 + index in link_rngs; 0 = not derived yet */
} sim_link;

typedef enum sim_msg_kind { SIM_MSG_ONEWAY, SIM_MSG_REQUEST, SIM_MSG_RESPONSE } sim_msg_kind;



typedef enum sim_rpc_state { SIM_RPC_FREE, SIM_RPC_IN_FLIGHT, SIM_RPC_DELIVERED, SIM_RPC_REPLIED } sim_rpc_state;

typedef struct sim_rpc_rec {
    sim_rpc_fn *fn;
    void *ctx;
    uint64_t arg;
    uint32_t caller;
    uint32_t callee;
    uint32_t caller_incarnation;
    uint32_t callee_incarnation;  /* set on delivery */
    uint32_t generation;          /* never 0 */
    uint32_t next_free;
    uint32_t replied_generation;  /* the last generation that was answered, for double-reply checks */
    uint8_t state;                /* sim_rpc_state */
    bool caller_dead;             /* the caller crashed: nothing reaches it any more */
    bool refused;                 /* refused, but the pool had no room: the timeout reports it */
} sim_rpc_rec;

/* Pending request timeouts of one caller with one timeout value.  Their
 * deadlines are in call order, so one queued event, at the earliest
 * deadline, serves them all; settled requests are skipped when reached.
 * This spares the event queue a push and a pop per request, most of which
 * are answered long before their timeout. */
typedef struct sim_rpc_deadline {
    uint32_t index;
    uint32_t generation;
    sim_time_ns deadline_ns;
} sim_rpc_deadline;

typedef struct sim_rpc_fifo {
    sim_time_ns timeout_ns;
    uint32_t node;
    sim_rpc_deadline *ring;
    uint32_t head;
    uint32_t len;
    uint32_t cap;
    sim_event_id armed;          /* the event at the head's deadline, if queued */
    bool firing;                 /* its event runs: calls made meanwhile do not arm */
} sim_rpc_fifo;

struct sim_engine {
    sim_config config;
    sim_time_ns now_ns;
    uint64_t seq_next;           /* from SIM_SEQ_NORMAL_BASE */
    uint64_t seq_backlog_next;   /* below SIM_SEQ_NORMAL_BASE: resumed backlogs go first */
    size_t backlogged;           /* events waiting in pause backlogs */
    uint64_t processed;
    uint64_t trace_hash;
    size_t cancelled_queued;     /* cancelled events still in the queue */
    uint64_t running_seq;        /* the sequence number of the event running */
    bool failed;                 /* sim_fail() was called: `failure` says why */
    sim_error failure;

    sim_event *events;
    uint32_t events_cap;         /* slots in the pool (free or live), <= events_max */
    uint32_t events_alloc;       /* slots allocated, >= events_cap */
    uint32_t events_max;
    uint32_t free_head;          /* UINT32_MAX = empty */
    uint32_t events_live;        /* allocated slots */

    sim_queue queue;

    sim_node *nodes;
    uint32_t node_count;

    sim_trace_fn *trace_fn;
    void *trace_ctx;
    struct sim_prefetch_hint {
        sim_event_fn *fn;
        sim_prefetch_fn *prefetch;
    } prefetch[SIM_PREFETCH_MAX];   /* sim_set_prefetch's hints */
    uint32_t prefetch_len;
    uint64_t hint_bucket;           /* the bucket whose run the hints below index */
    uint32_t hint_next;             /* its first entry whose hint has not run */
    sim_event_check_fn *check_fn;   /* after every handler (sim_set_event_check) */
    void *check_ctx;
    sim_trace_record *trace;
    size_t trace_len;
    size_t trace_cap;

    /* Network (sim_net.c). */
    sim_link_params net_default;
    sim_link *links;             /* node_count * node_count, [src * n + dst] */
    sim_link_params *overrides;  /* one per link with an override, by link */
    uint64_t *blocked;           /* bitset [src * n + dst] */
    uint64_t blocked_pairs;
    /* Statistics: one table of node_count^2 entries per message type that
     * has been used, so a counter is a direct index, never a search. */
    sim_msg_stats *stats_by_type[SIM_MSG_TYPES_MAX];
    sim_rng *link_rngs;          /* derived on a link's first random draw */
    uint32_t link_rngs_len;
    uint32_t link_rngs_cap;
    sim_rpc_rec *rpcs;
    uint32_t rpcs_cap;
    uint32_t rpcs_free;
    sim_rpc_fifo *fifos;         /* few: one per (caller, timeout value) in use */
    uint32_t fifos_len;
    uint32_t fifos_cap;
};

#define SIM_NO_INDEX UINT32_MAX   /* end of a free list or backlog */

/* Frees a slot whose entry has left the queue or a backlog (sim_engine.c's
 * pool; inline: the run loop frees one per event). */
static inline void sim__slot_free(sim_engine *sim, uint32_t index)
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

/* Grows the event pool: SIM_ERR_LIMIT at events_max, SIM_ERR_NOMEM. */
SIM_MUST_CHECK sim_status sim__pool_grow(sim_engine *sim, sim_error *err);

/* Allocates and queues an event; the core of every schedule call.  Inline:
 * a large cluster's hour schedules tens of millions of events, and the
 * callers (a node's timer, a delivery, a connection's segment) each pass
 * most arguments as constants. */
SIM_MUST_CHECK static inline sim_status sim__schedule(sim_engine *sim, sim_time_ns at_ns, uint16_t kind,
                                                      sim_event_fn *fn, void *ctx, uint64_t arg,
                                                      uint32_t node, uint8_t flags, sim_event_id *id_out,
                                                      sim_error *err)
{
    if (sim->free_head == SIM_NO_INDEX) {
        sim_status st = sim__pool_grow(sim, err);
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
    ev->next = SIM_NO_INDEX;
    sim__queue_push(&sim->queue, (sim_heap_entry){ .at_ns = at_ns, .seq = seq, .index = index });
    if (id_out != NULL) *id_out = (sim_event_id){ .index = index, .generation = ev->generation };
    return SIM_OK;
}

/* Network hooks called by the engine. */
SIM_MUST_CHECK sim_status sim__net_init(sim_engine *sim, sim_error *err);
void sim__net_deinit(sim_engine *sim);
void sim__net_on_crash(sim_engine *sim, sim_node_id node);
/* Reports a message of another layer (the connections of sim_conn.c) to the
 * trace hook, as delivered (msg->dropped < 0) or dropped, under the event
 * running now, with kind SIM_KIND_DELIVER and `node` as its receiver.
 * Does not touch the trace hash: the event itself is already in it. */
void sim__trace_message(sim_engine *sim, sim_node_id node, const sim_message *msg);
/* Whether a trace hook listens: without one, a layer need not build the
 * message it would report. */
static inline bool sim__tracing(const sim_engine *sim) { return sim->trace_fn != NULL; }
/* Allocates the statistics table of `type` (< SIM_MSG_TYPES_MAX): NULL,
 * and the run failed, when out of memory. */
sim_msg_stats *sim__net_stats_table(sim_engine *sim, uint16_t type);
/* The statistics of (src, dst, type), allocating the type's table: for the
 * connection layer, which counts its messages in the same tables.  NULL
 * (and the run failed) when out of memory; NULL for a type beyond the
 * table.  Inline: the layer counts each message twice, sent and
 * delivered, and the table is there after the first. */
static inline sim_msg_stats *sim__net_stats_slot(sim_engine *sim, sim_node_id src, sim_node_id dst, uint64_t type)
{
    if (type >= SIM_MSG_TYPES_MAX || src >= sim->node_count || dst >= sim->node_count) return NULL;
    sim_msg_stats *table = sim->stats_by_type[type];
    if (table == NULL && (table = sim__net_stats_table(sim, (uint16_t)type)) == NULL) return NULL;
    return &table[(size_t)src * sim->node_count + dst];
}
/* A delivery event dropped from a pause backlog by a crash. */
void sim__net_drop_backlogged(sim_engine *sim, const sim_event *ev);
/* Runs a delivery: `ev` is a copy of the popped event, `top` its queue
 * entry (for the trace hook). */
void sim__net_deliver_event(sim_engine *sim, const sim_event *ev, const sim_heap_entry *top);
/* The marker handler of delivery events (never called). */
void sim__net_deliver(sim_engine *sim, void *ctx, uint64_t arg);

#endif
