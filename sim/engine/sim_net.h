/* sim_net.h: the virtual network and requests with timeouts.
 *
 * Messages go from node to node with a type, a byte size and a payload.
 * Each directed link (src, dst) has parameters: a latency distribution,
 * loss and duplication ratios, FIFO or free reordering, and a bandwidth
 * with a transmit queue (a 10 MB snapshot delays what is sent after it on
 * the same link).  Links take the network default unless overridden.
 *
 * Faults.  Partitions block directed pairs: groups (symmetric), one-way
 * blocks, isolating a node; heals undo all or some.  Loss is decided at send
 * time.  Partitions and crashes are judged at delivery time: a message in
 * flight when a partition starts is dropped when it arrives; one sent to a
 * node that crashed or restarted meanwhile is dropped too.  Every drop is
 * counted with its reason, per (source, destination, type).
 *
 * Requests.  sim_rpc_call sends a request and arms a timeout on the caller.
 * A request to a DOWN node is refused at once (connection refused); one to
 * a node that goes down before it arrives is refused on arrival; one into a
 * partition or to a paused node times out.  A response that arrives after
 * its request timed out is dropped and counted as late.
 *
 * Payload ownership (one rule, as jq states one): sim_net_send and
 * sim_rpc_* take one reference to the payload; a handler borrows it for the
 * call and may sim_payload_retain it to keep it.  NULL payloads are fine. */
#ifndef SIM_NET_H
#define SIM_NET_H

#include "sim_engine.h"

typedef struct sim_payload sim_payload;
struct sim_payload {                 /* embed first in the model's message */
    uint32_t refs;
    void (*destroy)(sim_payload *payload);   /* called when refs reaches 0 */
};

sim_payload *sim_payload_retain(sim_payload *payload);   /* NULL passes */
void sim_payload_release(sim_payload *payload);          /* NULL passes */

struct sim_message {
    sim_node_id src;
    sim_node_id dst;
    uint16_t type;
    uint32_t bytes;
    sim_time_ns sent_at_ns;        /* true time of the send */
    sim_payload *payload;          /* borrowed by the handler */
    int8_t dropped;                /* trace hooks only: a sim_drop_reason, or -1 when delivered */
};

typedef struct sim_link_params {
    sim_latency latency;
    uint32_t loss_ppm;             /* dropped at send */
    uint32_t duplicate_ppm;        /* delivered twice (independent latencies) */
    bool reorder;                  /* false: FIFO per link */
    uint64_t bandwidth_bytes_per_s;/* 0: unlimited */
} sim_link_params;

/* A constant 1 ms link: no loss, FIFO, unlimited. */
sim_link_params sim_link_params_default(void);

SIM_MUST_CHECK sim_status sim_net_set_default(sim_engine *sim, const sim_link_params *params,
                                              sim_error *err);
SIM_MUST_CHECK sim_status sim_net_set_link(sim_engine *sim, sim_node_id src, sim_node_id dst,
                                           const sim_link_params *params, sim_error *err);
/* Back to the default. */
SIM_MUST_CHECK sim_status sim_net_clear_link(sim_engine *sim, sim_node_id src, sim_node_id dst,
                                             sim_error *err);
const sim_link_params *sim_net_link(const sim_engine *sim, sim_node_id src, sim_node_id dst);

/* Nodes whose group ids differ cannot reach each other either way.
 * `group_of` has one entry per node.  Adds to blocks already in place. */
SIM_MUST_CHECK sim_status sim_net_partition(sim_engine *sim, const uint32_t *group_of, uint32_t count,
                                            sim_error *err);
/* src cannot reach dst; dst still reaches src. */
SIM_MUST_CHECK sim_status sim_net_block(sim_engine *sim, sim_node_id src, sim_node_id dst,
                                        sim_error *err);
SIM_MUST_CHECK sim_status sim_net_isolate(sim_engine *sim, sim_node_id node, sim_error *err);
void sim_net_heal_all(sim_engine *sim);
/* Unblocks src -> dst only. */
SIM_MUST_CHECK sim_status sim_net_heal(sim_engine *sim, sim_node_id src, sim_node_id dst,
                                       sim_error *err);
/* Unblocks every pair that involves `node`, both ways. */
SIM_MUST_CHECK sim_status sim_net_heal_node(sim_engine *sim, sim_node_id node, sim_error *err);
bool sim_net_reachable(const sim_engine *sim, sim_node_id src, sim_node_id dst);

/* Sends a one-way message now, from `src` (which must be UP).  Takes the
 * payload reference whatever the outcome. */
SIM_MUST_CHECK sim_status sim_net_send(sim_engine *sim, sim_node_id src, sim_node_id dst,
                                       uint16_t type, uint32_t bytes, sim_payload *payload,
                                       sim_error *err);

/* --- Statistics ---------------------------------------------------------- */

typedef enum sim_drop_reason {
    SIM_DROP_LOSS,               /* random loss on the link */
    SIM_DROP_PARTITION,          /* blocked at delivery */
    SIM_DROP_RECEIVER_DOWN,      /* the receiver was down at delivery */
    SIM_DROP_RECEIVER_RESTARTED, /* the receiver restarted since the send */
    SIM_DROP_LATE_RESPONSE,      /* the response came after the timeout */
    SIM_DROP_SENDER_RESTARTED,   /* the response's caller crashed meanwhile */
    SIM_DROP_REASONS
} sim_drop_reason;

const char *sim_drop_reason_name(sim_drop_reason reason);

typedef struct sim_msg_stats {
    uint64_t sent;
    uint64_t delivered;
    uint64_t duplicated;
    uint64_t bytes_sent;
    uint64_t bytes_delivered;
    uint64_t dropped[SIM_DROP_REASONS];
} sim_msg_stats;

/* Counters of (src, dst, type); zeros when nothing was sent. */
sim_msg_stats sim_net_stats(const sim_engine *sim, sim_node_id src, sim_node_id dst, uint16_t type);
/* Calls `fn` for every (src, dst, type) with traffic, in that order. */
void sim_net_stats_foreach(const sim_engine *sim,
                           void (*fn)(void *ctx, sim_node_id src, sim_node_id dst, uint16_t type,
                                      const sim_msg_stats *stats),
                           void *ctx);

/* --- Requests ------------------------------------------------------------ */

typedef enum sim_rpc_status {
    SIM_RPC_OK,
    SIM_RPC_REFUSED,   /* connection refused: the callee is down */
    SIM_RPC_TIMEOUT,   /* no response within the timeout */
} sim_rpc_status;

const char *sim_rpc_status_name(sim_rpc_status status);

/* The outcome of a request, run on the caller as one of its events (so a
 * paused caller sees it late and a crashed one never).  `response` is NULL
 * unless status is SIM_RPC_OK. */
typedef void sim_rpc_fn(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status,
                        const sim_message *response);

/* Sends a request from `src` to `dst` and arms a timeout of `timeout_ns`
 * (true time).  Exactly one outcome reaches `fn`, unless `src` crashes. */
SIM_MUST_CHECK sim_status sim_rpc_call(sim_engine *sim, sim_node_id src, sim_node_id dst,
                                       uint16_t type, uint32_t bytes, sim_payload *payload,
                                       sim_time_ns timeout_ns, sim_rpc_fn *fn, void *ctx,
                                       uint64_t arg, sim_error *err);
/* Answers a request, from the incarnation of the callee that received it.
 * When the caller has already given up (timed out, was refused, or
 * crashed) the response is counted as sent and dropped (late_response or
 * caller_restarted) and SIM_OK is returned: a slow callee is normal, not an
 * error.  Errors: an invalid token, answering a request twice, and
 * answering from a later incarnation of the callee while the caller still
 * waits (a restarted process holds no requests). */
SIM_MUST_CHECK sim_status sim_rpc_reply(sim_engine *sim, sim_rpc_token token, uint16_t type,
                                        uint32_t bytes, sim_payload *payload, sim_error *err);

#endif
