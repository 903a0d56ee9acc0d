/* sim_engine.h: the discrete-event engine: clock, event queue, nodes, trace.
 *
 * The engine knows nothing of Distro.  It runs events in virtual time and
 * owns the nodes' life cycle (up, down, paused, incarnations, local clocks);
 * the network and request/response layer on top of it is in sim_net.h.
 *
 * Ordering.  Events run in increasing at_ns; events with equal at_ns run in
 * the order they were scheduled (FIFO, by a sequence number unique per
 * engine).  An event scheduled from inside a handler, even for "now", runs
 * after the current handler returns, never re-entrantly.  Time never goes
 * backwards (asserted at every step).  One exception to FIFO, on purpose:
 * the events a paused node's backlog re-queues at its resume instant take
 * sequence numbers from a lower range, so they run first at that instant,
 * in the order they fell due (a timer due during a pause fires before
 * anything scheduled for the resume instant itself).
 *
 * Storage.  Events live in a pool of slots that grows by doubling up to
 * config.events_max; the queue is a calendar of (at_ns, seq, slot) entries:
 * buckets of about 1 ms on a ring of about 8.6 s, each sorted once when the
 * clock reaches it, with small heaps for the current bucket and for events
 * beyond the ring (O(1) amortized per event).  A handle (sim_event_id) carries the slot's generation, which is
 * bumped whenever the slot is freed, so a stale handle never cancels a
 * reused slot.
 *
 * Nodes.  Events that belong to a node (its timers) carry the node id and
 * its incarnation.  A crash bumps the incarnation and removes the node's
 * events from the queue, so nothing scheduled by an earlier incarnation ever
 * reaches a later one.  While a node is paused its due events move to a
 * backlog; at resume they run in their original order, late.
 *
 * Ownership: the engine borrows the `ctx` pointers given with events and
 * node operations; the caller keeps them alive while events are pending. */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_error.h"
#include "sim_limits.h"
#include "sim_rng.h"
#include "sim_time.h"

typedef struct sim_engine sim_engine;           /* opaque: see sim_engine.c */
typedef uint32_t sim_node_id;
#define SIM_NODE_NONE UINT32_MAX

typedef struct sim_event_id {
    uint32_t index;       /* slot in the pool */
    uint32_t generation;  /* slot generation when scheduled; 0 = no event */
} sim_event_id;

/* An event handler.  `arg` is the value given when it was scheduled. */
typedef void sim_event_fn(sim_engine *sim, void *ctx, uint64_t arg);

/* Event kinds the engine itself records in the trace.  Models and the
 * harness pick their own kinds from SIM_KIND_USER upwards. */
enum {
    SIM_KIND_NODE_START = 1,
    SIM_KIND_NODE_RESUME = 2,
    SIM_KIND_DELIVER = 3,
    SIM_KIND_RPC_TIMEOUT = 4,
    SIM_KIND_RPC_REFUSED = 5,
    SIM_KIND_FAULT = 6,
    SIM_KIND_USER = 16,
};

/* The name of an event kind of the engine's reserved range (the ones
 * above and sim_conn.h's), for traces: "deliver", "conn_net", ...  NULL for
 * a kind the engine does not name (the model's and the harness's, from
 * SIM_KIND_USER up, name their own). */
const char *sim_kind_name(uint16_t kind);

typedef struct sim_config {
    uint64_t seed;            /* the only source of entropy */
    uint32_t node_count;      /* 1 .. SIM_NODES_MAX */
    uint32_t events_max;      /* pool bound; 0 = SIM_EVENTS_MAX */
    uint64_t events_budget;   /* stop after this many events; 0 = unlimited */
    sim_time_ns stop_at_ns;   /* stop before events later than this; 0 = never */
    bool trace_record;        /* keep every trace record (for the self-check) */
} sim_config;

/* Creates an engine.  Returns owned (free with sim_engine_destroy), or NULL
 * with `err` filled for a bad config or a failed allocation. */
sim_engine *sim_engine_create(const sim_config *config, sim_error *err);
void sim_engine_destroy(sim_engine *sim);       /* NULL is a no-op */

sim_time_ns sim_now(const sim_engine *sim);     /* true (global) virtual time */
uint64_t sim_seed(const sim_engine *sim);
uint32_t sim_node_count(const sim_engine *sim);
uint64_t sim_events_processed(const sim_engine *sim);
size_t sim_events_pending(const sim_engine *sim);

/* Schedules a harness event (owned by no node) `delay_ns` from now. */
SIM_MUST_CHECK sim_status sim_schedule(sim_engine *sim, sim_time_ns delay_ns, uint16_t kind,
                                       sim_event_fn *fn, void *ctx, uint64_t arg,
                                       sim_event_id *id_out, sim_error *err);
/* The same at an absolute time, which must not be in the past. */
SIM_MUST_CHECK sim_status sim_schedule_at(sim_engine *sim, sim_time_ns at_ns, uint16_t kind,
                                          sim_event_fn *fn, void *ctx, uint64_t arg,
                                          sim_event_id *id_out, sim_error *err);
/* Cancels a pending event.  False if it already ran, was cancelled, or the
 * handle is stale (its slot was reused): never cancels someone else's event. */
bool sim_cancel(sim_engine *sim, sim_event_id id);
bool sim_event_pending(const sim_engine *sim, sim_event_id id);

typedef enum sim_stop_reason {
    SIM_STOP_DRAINED,   /* no event left */
    SIM_STOP_TIME,      /* the next event is after the stop time */
    SIM_STOP_BUDGET,    /* the event budget is spent */
    SIM_STOP_FAILED,    /* a handler called sim_fail(); sim_failure() says why */
} sim_stop_reason;

/* Ends the run from inside an event handler, which has no caller to return
 * an error to (an allocation failed, a limit such as the event pool was
 * reached).  The first failure is kept; the run loop stops before the next
 * event and returns SIM_STOP_FAILED, and every later sim_run call returns
 * it at once.  See the out-of-memory policy in sim_vec.h. */
void sim_fail(sim_engine *sim, const sim_error *err);
/* The failure sim_fail() recorded, or NULL while there is none. */
const sim_error *sim_failure(const sim_engine *sim);

/* Runs events until the queue drains, the config's stop time or budget is
 * reached.  At SIM_STOP_TIME the clock is advanced to the stop time. */
sim_stop_reason sim_run(sim_engine *sim);
/* Runs events with at_ns <= until_ns (or fewer, on the budget), then sets
 * the clock to until_ns when it stopped on time. */
sim_stop_reason sim_run_until(sim_engine *sim, sim_time_ns until_ns);

/* --- Nodes --------------------------------------------------------------- */

typedef enum sim_node_state {
    SIM_NODE_DOWN,      /* not started, or crashed */
    SIM_NODE_UP,
    SIM_NODE_PAUSED,    /* stop-the-world: events wait in a backlog */
} sim_node_state;

typedef struct sim_message sim_message;         /* sim_net.h */
typedef struct sim_rpc_token {      /* names one received request */
    uint32_t index;
    uint32_t generation;
    sim_node_id caller;
    sim_node_id callee;
    uint32_t caller_incarnation;
} sim_rpc_token;

/* What the engine calls on a node's model.  Every pointer argument is
 * borrowed for the call only. */
typedef struct sim_node_ops {
    /* The node (re)starts: build fresh in-memory state. */
    void (*start)(sim_engine *sim, sim_node_id node, void *ctx);
    /* The node crashed: drop all in-memory state.  Its timers are already
     * cancelled. */
    void (*crash)(sim_engine *sim, sim_node_id node, void *ctx);
    /* A one-way message arrived. */
    void (*on_message)(sim_engine *sim, sim_node_id node, void *ctx, const sim_message *msg);
    /* A request arrived; answer with sim_rpc_reply(token) now or later, or
     * never (the caller then times out). */
    void (*on_request)(sim_engine *sim, sim_node_id node, void *ctx, const sim_message *msg,
                       sim_rpc_token token);
    /* The node is about to pause, or to have its clock set: called before
     * either takes effect, so a model that scheduled work on the node's
     * behalf on the assumption that neither would happen can redo it.  A
     * crash calls `crash` instead.  NULL: nothing to do. */
    void (*changing)(sim_engine *sim, sim_node_id node, void *ctx);
} sim_node_ops;

/* Attaches a model to a node.  Keeps `ops` and `ctx`. */
SIM_MUST_CHECK sim_status sim_node_attach(sim_engine *sim, sim_node_id node,
                                          const sim_node_ops *ops, void *ctx, sim_error *err);
/* Starts a DOWN node after `delay_ns` (a boot, or a restart): a new
 * incarnation, then ops->start. */
SIM_MUST_CHECK sim_status sim_node_start(sim_engine *sim, sim_node_id node, sim_time_ns delay_ns,
                                         sim_error *err);
/* Crashes an UP or PAUSED node now: incarnation + 1, timers and pending
 * requests cancelled, ops->crash called.  A crash of a DOWN node is an
 * error. */
SIM_MUST_CHECK sim_status sim_node_crash(sim_engine *sim, sim_node_id node, sim_error *err);
/* Crash now, start again after `delay_ns`. */
SIM_MUST_CHECK sim_status sim_node_restart(sim_engine *sim, sim_node_id node, sim_time_ns delay_ns,
                                           sim_error *err);
/* Pauses an UP node for `duration_ns` (a stop-the-world GC).  Its events
 * that fall due meanwhile wait; at resume they run in order, late. */
SIM_MUST_CHECK sim_status sim_node_pause(sim_engine *sim, sim_node_id node, sim_time_ns duration_ns,
                                         sim_error *err);

sim_node_state sim_node_state_get(const sim_engine *sim, sim_node_id node);
uint32_t sim_node_incarnation(const sim_engine *sim, sim_node_id node);
const char *sim_node_state_name(sim_node_state state);

/* Local clock: local = true * (10^6 + drift_ppm) / 10^6 + offset_ns, never
 * below 0.  Setting the clock keeps local time continuous unless an offset
 * jump is asked for: the new offset applies from now. */
SIM_MUST_CHECK sim_status sim_node_set_clock(sim_engine *sim, sim_node_id node, int64_t offset_ns,
                                             int32_t drift_ppm, sim_error *err);
/* The node's local clock reading now; what the model calls "now". */
sim_time_ns sim_node_now(const sim_engine *sim, sim_node_id node);
/* The true time a timer of `node` started now with `delay_ns` of local
 * time takes (sim_timer_start's scaling by the node's drift). */
sim_time_ns sim_node_true_delay(const sim_engine *sim, sim_node_id node, sim_time_ns delay_ns);

/* Starts a timer of `node`, `delay_ns` in the node's local time (scaled by
 * its drift).  The node must be UP or PAUSED; the timer dies with the
 * incarnation. */
SIM_MUST_CHECK sim_status sim_timer_start(sim_engine *sim, sim_node_id node, sim_time_ns delay_ns,
                                          uint16_t kind, sim_event_fn *fn, void *ctx, uint64_t arg,
                                          sim_event_id *id_out, sim_error *err);

/* Starts a timer of `node` that fires at the true time `at_ns` (not
 * before now); otherwise as sim_timer_start. */
SIM_MUST_CHECK sim_status sim_timer_start_at(sim_engine *sim, sim_node_id node, sim_time_ns at_ns,
                                             uint16_t kind, sim_event_fn *fn, void *ctx, uint64_t arg,
                                             sim_event_id *id_out, sim_error *err);

/* The node's private random stream, derived from (seed, node id) and
 * re-derived with the incarnation at each start. */
sim_rng *sim_node_rng(sim_engine *sim, sim_node_id node);

/* --- Trace --------------------------------------------------------------- */

typedef struct sim_trace_record {
    sim_time_ns at_ns;
    uint64_t seq;
    uint32_t node;          /* SIM_NODE_NONE for harness events */
    uint32_t incarnation;
    uint16_t kind;
} sim_trace_record;

/* FNV-style hash over every processed event's (time, seq, kind, node,
 * incarnation), in processing order. */
uint64_t sim_trace_hash(const sim_engine *sim);
/* The recorded trace (config.trace_record); borrowed, valid until the next
 * event or destroy. */
const sim_trace_record *sim_trace_records(const sim_engine *sim, size_t *count_out);

/* Called for every processed event, before its handler runs; `msg` is the
 * message arriving for SIM_KIND_DELIVER events (msg->dropped says whether
 * the network dropped it at delivery, and why), else NULL.  For
 * `distrosim replay --trace`.  Keeps `ctx`; NULL `fn` removes the hook. */
typedef void sim_trace_fn(void *ctx, const sim_trace_record *record, const sim_message *msg);
void sim_set_trace_hook(sim_engine *sim, sim_trace_fn *fn, void *ctx);

/* Called after every processed event's handler has returned (and after
 * the engine's own check in debug builds), while the run has not failed:
 * the place for a model's invariant checks, which must hold between events
 * but not inside one.  `event` is the event's trace record: its node is
 * the one the event belonged to (its timer, a message or RPC outcome
 * delivered to it), whose model code ran, or SIM_NODE_NONE for a harness
 * event (a fault, a start, a client), which may have touched any node; its
 * kind says which.  The check may end the run with sim_fail(); the loop
 * then stops before the next event.  After a failure it is not called (an
 * out-of-memory failure may leave the model half-updated).  One per
 * engine: keeps `ctx`; NULL `fn` removes it. */
typedef void sim_event_check_fn(sim_engine *sim, void *ctx, const sim_trace_record *event);
void sim_set_event_check(sim_engine *sim, sim_event_check_fn *fn, void *ctx);

/* A prefetch hint of one handler: called with the (ctx, arg) of an event
 * of that handler a few events before it runs, to start loading what the
 * handler will read (__builtin_prefetch).  It must change nothing and may
 * only read memory, not decide anything: whether and when it is called
 * depends on how the queue holds its entries, and a run is the same with
 * or without it.  Most of a large model's time goes in cache misses on
 * records read once per event (a client, a datum); the queue knows which
 * events come next, so their misses can overlap the events before them. */
typedef void sim_prefetch_fn(const void *ctx, uint64_t arg);
/* Sets (or, with NULL, clears) `fn`'s prefetch hint; at most
 * SIM_PREFETCH_MAX handlers have one.  SIM_ERR_LIMIT when full. */
SIM_MUST_CHECK sim_status sim_set_prefetch(sim_engine *sim, sim_event_fn *fn, sim_prefetch_fn *prefetch,
                                           sim_error *err);

/* Checks every invariant of the queue and pool (O(n)); asserts on failure. */
void sim_engine_check(const sim_engine *sim);

#endif
