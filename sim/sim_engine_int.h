/* sim_engine_int.h: engine internals shared by sim_engine.c and sim_net.c.
 * Never included from outside sim/. */
#ifndef SIM_ENGINE_INT_H
#define SIM_ENGINE_INT_H

#include "sim_engine.h"
#include "sim_net.h"

enum {
    SIM_EV_OWNED = 1u << 0,      /* a node's timer: dies with the incarnation */
    SIM_EV_CANCELLED = 1u << 1,  /* cancelled while queued: skipped when popped */
    SIM_EV_QUEUED = 1u << 2,     /* in the heap or in a pause backlog */
};

typedef struct sim_event {
    sim_event_fn *fn;
    void *ctx;
    uint64_t arg;
    sim_time_ns at_ns;
    uint64_t seq;           /* FIFO tie-break; unique per engine */
    uint32_t node;          /* SIM_NODE_NONE for harness events */
    uint32_t incarnation;   /* the node's incarnation when scheduled */
    uint32_t generation;    /* bumped when the slot is freed; never 0 */
    uint32_t next;          /* free list or pause backlog link */
    uint16_t kind;
    uint8_t flags;
} sim_event;

typedef struct sim_heap_entry {  /* the key lives beside the index: fewer misses */
    sim_time_ns at_ns;
    uint64_t seq;
    uint32_t index;
} sim_heap_entry;

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

typedef struct sim_link_stats_entry {
    uint16_t type;
    sim_msg_stats stats;
} sim_link_stats_entry;

typedef struct sim_link {
    const sim_link_params *params;   /* NULL: the network default */
    sim_time_ns tx_free_at_ns;       /* transmit queue: when the wire is free */
    sim_time_ns fifo_last_at_ns;     /* FIFO: no delivery before this */
    sim_rng rng;
    bool rng_ready;                  /* derived on first use */
    uint16_t stats_count;
    uint16_t stats_cap;
    uint16_t stats_last;             /* index of the last entry used */
    sim_link_stats_entry *stats;     /* ordered by type */
} sim_link;

typedef enum sim_msg_kind { SIM_MSG_ONEWAY, SIM_MSG_REQUEST, SIM_MSG_RESPONSE } sim_msg_kind;

typedef struct sim_msg_rec {
    sim_message msg;
    uint32_t dst_incarnation;    /* the receiver's incarnation at send */
    uint32_t rpc_index;
    uint32_t rpc_generation;
    uint32_t next_free;
    uint8_t kind;                /* sim_msg_kind */
} sim_msg_rec;

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
    sim_event_id timeout;
    uint8_t state;                /* sim_rpc_state */
} sim_rpc_rec;

struct sim_engine {
    sim_config config;
    sim_time_ns now_ns;
    uint64_t seq_next;
    uint64_t processed;
    uint64_t trace_hash;
    size_t cancelled_queued;     /* cancelled events still in the heap */

    sim_event *events;
    uint32_t events_cap;
    uint32_t events_max;
    uint32_t free_head;          /* UINT32_MAX = empty */
    uint32_t events_live;        /* allocated slots */

    sim_heap_entry *heap;
    uint32_t heap_len;

    sim_node *nodes;
    uint32_t node_count;

    sim_trace_record *trace;
    size_t trace_len;
    size_t trace_cap;

    /* Network (sim_net.c). */
    sim_link_params net_default;
    sim_link *links;             /* node_count * node_count, [src * n + dst] */
    sim_link_params *overrides;  /* one per link with an override, by link */
    uint64_t *blocked;           /* bitset [src * n + dst] */
    uint64_t blocked_pairs;
    sim_msg_rec *msgs;
    uint32_t msgs_cap;
    uint32_t msgs_free;
    sim_rpc_rec *rpcs;
    uint32_t rpcs_cap;
    uint32_t rpcs_free;
};

/* Allocates and queues an event; the core of every schedule call. */
SIM_MUST_CHECK sim_status sim__schedule(sim_engine *sim, sim_time_ns at_ns, uint16_t kind,
                                        sim_event_fn *fn, void *ctx, uint64_t arg,
                                        uint32_t node, uint8_t flags, sim_event_id *id_out,
                                        sim_error *err);

/* Network hooks called by the engine. */
SIM_MUST_CHECK sim_status sim__net_init(sim_engine *sim, sim_error *err);
void sim__net_deinit(sim_engine *sim);
void sim__net_on_crash(sim_engine *sim, sim_node_id node);
/* A delivery event dropped from a pause backlog by a crash. */
void sim__net_drop_backlogged(sim_engine *sim, uint64_t msg_index);
void sim__net_deliver(sim_engine *sim, void *ctx, uint64_t msg_index);

#endif
