/* obs_convergence.h: the convergence observer of a run.
 *
 * Fed by the model's observation hook (every data-store change, view
 * change, node start and crash, and every change of the truth: which
 * clients are live and registered), it keeps, incrementally:
 *   - per node and key, the stored checksum, and per key whether the up
 *     nodes disagree (divergent keys);
 *   - per node and key, whether the node lists exactly the live instances
 *     (agreement with the truth);
 *   - the instants the cluster becomes converged (no divergent key and
 *     every up node agreeing with the truth) and stops being so;
 *   - per (client, node), windows in which a live instance is lost on an
 *     up node or a dead one is a zombie there, and the replication lag of
 *     each registration to each node (definitions below);
 *   - ownership disagreement: keys that no up node, or several, believe
 *     they own;
 *   - a time series sampled per node.
 * A paused node counts as up: it still holds and serves its data.
 *
 * The observer reads the model only through its public queries, and time
 * only through the engine. */
#ifndef OBS_CONVERGENCE_H
#define OBS_CONVERGENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distro_cluster.h"
#include "rpt_db.h"
#include "sim_engine.h"

typedef struct obs obs;   /* opaque */

/* Definitions (reports/SCHEMA.md states them for readers of the database).
 *
 * Acceptance: the first instant any node lists a registered instance (the
 * node that took the write, normally its owner).  Replication lag, per
 * registration and node: acceptance to that node's first listing; per
 * registration: acceptance to the last up node's first listing.
 *
 * Lost: a live instance is not listed on an up node at an instant more
 * than `lag allowance` after the later of its registration and the node's
 * start.  Past that instant every absence counts from its first instant (a
 * node dropping what it had listed counts at once); within it the
 * registration is still replicating, so ordinary replication (and 1.4.2's
 * boot-time overwrites) is not loss.
 *
 * Zombie: a dead or deregistered instance still listed on an up node more
 * than `zombie allowance` after its death or deregistration.
 *
 * Both allowances are 0 unless obs_set_allowances sets them; the runner
 * sets the scenario's (scn_expect). */
typedef enum obs_window_kind {
    OBS_WINDOW_LOST,             /* live instance missing on an up node (see above) */
    OBS_WINDOW_ZOMBIE,           /* dead or deregistered instance still listed (see above) */
    OBS_WINDOW_OWNERSHIP_NONE,   /* some key has no owner among up nodes */
    OBS_WINDOW_OWNERSHIP_MULTI,  /* some key has two or more owners */
    OBS_WINDOW_DIVERGENT,        /* up nodes disagree on some key */
} obs_window_kind;

const char *obs_window_kind_name(obs_window_kind kind);

typedef struct obs_window {
    obs_window_kind kind;
    int32_t node;                /* -1: cluster-wide */
    uint32_t key;                /* UINT32_MAX: none */
    uint32_t client;             /* UINT32_MAX: none */
    sim_time_ns start_ns;
    sim_time_ns end_ns;          /* SIM_TIME_NEVER: open at the end */
} obs_window;

typedef struct obs_sample {
    sim_time_ns at_ns;
    uint32_t node;
    bool up;
    uint32_t keys;
    uint32_t instances;
    uint32_t owned_keys;
    uint32_t healthy_view;
    uint32_t divergent_keys;     /* cluster-wide */
} obs_sample;

/* What the observer asks of the cluster it watches.  obs_create wires it to
 * a distro_cluster; tests give it a synthetic registry with known answers. */
typedef struct obs_model {
    void *ctx;
    uint32_t nodes;
    uint32_t (*key_count)(void *ctx);                          /* keys ever seen */
    uint32_t (*instance_count)(void *ctx, uint32_t node, uint32_t key);
    bool (*lists_client)(void *ctx, uint32_t node, uint32_t client);
    uint32_t (*client_key)(void *ctx, uint32_t client);
    bool (*responsible)(void *ctx, uint32_t node, uint32_t key);
    uint32_t (*node_key_count)(void *ctx, uint32_t node);
    uint32_t (*healthy_count)(void *ctx, uint32_t node);
} obs_model;

/* Creates an observer and installs it as `cluster`'s observer.  Keeps both
 * pointers; `sample_interval_ns` 0 disables sampling.  Returns owned, or
 * NULL when out of memory (or the first sample cannot be scheduled).  Out
 * of memory later, inside a hook, stops the run with sim_fail(). */
obs *obs_create(sim_engine *sim, distro_cluster *cluster, sim_time_ns sample_interval_ns);
/* The same over any model: fills `*hooks` with the callbacks to feed it
 * (the model's changes, in time order).  Keeps `model`. */
obs *obs_create_model(sim_engine *sim, const obs_model *model, sim_time_ns sample_interval_ns,
                      distro_observer *hooks);
void obs_destroy(obs *o);   /* NULL is a no-op */
/* The callbacks that feed the observer (the ones obs_create installs), for
 * a caller that installs an observer of its own and passes the changes on. */
distro_observer obs_hooks(const obs *o);

/* The allowances of the lost and zombie definitions above.  Call before
 * the first change. */
void obs_set_allowances(obs *o, sim_time_ns lag_allowance_ns, sim_time_ns zombie_allowance_ns);
/* How long a node's member view takes to form after it starts (0: at
 * once).  A registration's lag allowance counts from the later of the
 * registration and the node's start plus this, so the first syncs of a
 * cluster still forming its views are not lost windows (scn_view_formation). */
void obs_set_view_formation(obs *o, sim_time_ns formation_ns);

/* Records the lost and zombie spells still open (end SIM_TIME_NEVER),
 * puts every window in start order and takes the final sample.  Call once,
 * at the end of the run, before reading windows. */
void obs_finish(obs *o);

/* True when no key is divergent and every up node agrees with the truth. */
bool obs_converged(const obs *o);
/* The instant the current converged state began; SIM_TIME_NEVER when not
 * converged now. */
sim_time_ns obs_converged_since(const obs *o);
/* The first instant at or after `at_ns` when the cluster was converged
 * (SIM_TIME_NEVER: not since).  O(flips). */
sim_time_ns obs_converged_after(const obs *o, sim_time_ns at_ns);

/* Calls fn(ctx) whenever the cluster becomes converged (from the hook
 * that made it so; fn may schedule events but must not feed the
 * observer).  NULL removes it. */
void obs_on_converged(obs *o, void (*fn)(void *ctx), void *ctx);

/* The last instant the truth, or what may list it, changed: a client
 * became live or dead (registration, deregistration, death), or a node
 * came up or went down (start, crash, restart).  0 when nothing did. */
sim_time_ns obs_truth_changed_last(const obs *o);

/* Why a run's convergence is `never` (reports/SCHEMA.md, "Convergence of
 * a run"). */
typedef enum obs_never {
    OBS_NEVER_NOT,               /* it is a number */
    OBS_NEVER_FAULT,             /* a fault never ends before the run does */
    OBS_NEVER_CHURN,             /* client churn runs until the end of the run */
    OBS_NEVER_UNCONVERGED,       /* not converged at the end of the run */
} obs_never;

/* The convergence of a run, anchored on the last event that could change
 * the truth: the later of `last_fault_end_ns` (the end of the last fault
 * that ended) and obs_truth_changed_last.  The convergence is from that
 * anchor to the start of the converged state the run ends in (0 when that
 * began before the anchor); it is never when `unending` says a fault or
 * churn goes on to the end of the run (OBS_NEVER_FAULT, OBS_NEVER_CHURN;
 * the caller knows the schedule), or when the run ends unconverged. */
typedef struct obs_run_convergence {
    sim_time_ns anchor_ns;       /* SIM_TIME_NEVER with OBS_NEVER_FAULT or OBS_NEVER_CHURN */
    sim_time_ns converged_ns;    /* start of the final converged state; SIM_TIME_NEVER: unconverged */
    sim_time_ns convergence_ns;  /* SIM_TIME_NEVER: never (see `never`) */
    obs_never never;
} obs_run_convergence;

obs_run_convergence obs_run_convergence_of(const obs *o, sim_time_ns last_fault_end_ns, obs_never unending);

/* The first instant at or after `at_ns` when `node` listed exactly the live
 * instances of every key (SIM_TIME_NEVER: not since).  O(intervals). */
sim_time_ns obs_node_agreed_after(const obs *o, uint32_t node, sim_time_ns at_ns);

const obs_window *obs_windows(const obs *o, size_t *count);
const obs_sample *obs_samples(const obs *o, size_t *count);
/* Replication lags: for each registration, acceptance to the first listing
 * on the last up node, in completion order. */
const sim_time_ns *obs_lags(const obs *o, size_t *count);
/* When each of obs_lags completed (the last up node's first listing), in
 * the same order; `*count` is obs_lags' count. */
const sim_time_ns *obs_lag_times(const obs *o, size_t *count);
/* For each registration and each node but the accepting one, acceptance
 * to that node's first listing, in listing order. */
const sim_time_ns *obs_node_lags(const obs *o, size_t *count);
/* The lags' count, p50, p90, p99 and max, by nearest rank
 * (rpt_percentile_nearest_rank, the project's one percentile definition);
 * all zero when there is none.  SIM_ERR_NOMEM (out unchanged) when the
 * sorted copy cannot be allocated. */
SIM_MUST_CHECK sim_status obs_lag_summary(const obs *o, rpt_lag *out, sim_error *err);
/* The longest window of `kind` (open windows count up to the end). */
sim_time_ns obs_window_max(const obs *o, obs_window_kind kind);
uint32_t obs_divergent_keys(const obs *o);

#endif
