/* obs_reads.h: what clients read, held against the truth.
 *
 * Fed with every change of the truth (which clients are live, from
 * distro_observer.client_changed) and with every read (distro_read: a query
 * reader's answer or failure, a subscriber's view after a change), it
 * classifies each answer and each view at each instant, and keeps windows
 * and per-service totals.  reports/SCHEMA.md states the definitions for
 * readers of the database; here they are exactly:
 *
 * Expected instances E(K, t): the clients of service K live at t whose
 * latest registration is at least `lag allowance` before t.  Forbidden
 * instances F(K, t): the clients of K not live at t whose death or
 * deregistration is at least `zombie allowance` before t.  A host list A
 * (the client ids an answer or a view lists) read at t is
 *   empty  when A is empty and E(K, t) is not;
 *   short  when A is not empty and some member of E(K, t) is not in A;
 *   stale  when some member of A is in F(K, t).
 * So an instance registered a moment ago or dead a moment ago is neither
 * missing nor stale: replication and the protocol's own expiry are not
 * anomalies, as for the lost and zombie windows (obs_convergence.h), with
 * the same two allowances.  A failed query (every server failed) has no
 * list and is counted apart.
 *
 * Windows.  Queries: per service and kind, a window opens at an answer of
 * that kind and closes at the next answer to a query on that service that
 * is not of that kind (answers to every query reader of the service
 * count).  Views: per subscriber and kind, a window holds exactly while
 * the view is of that kind; since E and F grow as time passes, a view can
 * turn short, empty or stale with no event, and the window opens at that
 * instant (the allowance's end), not at the next event.  A window still
 * open when the run ends has end SIM_TIME_NEVER; its length counts to the
 * end of the run.  Windows of zero length are not kept.
 *
 * Memory: O(clients + readers + windows).  Nothing here reads the wall
 * clock; time comes only from the calls. */
#ifndef OBS_READS_H
#define OBS_READS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distro_cluster.h"
#include "sim_time.h"

typedef struct obs_reads obs_reads;   /* opaque */

typedef enum obs_read_kind {
    OBS_READ_EMPTY,
    OBS_READ_SHORT,
    OBS_READ_STALE,
    OBS_READ_KINDS
} obs_read_kind;

const char *obs_read_kind_name(obs_read_kind kind);   /* "empty", "short", "stale" */

typedef struct obs_read_window {
    obs_read_kind kind;
    bool view;                   /* a subscriber's view; false: query answers */
    uint32_t reader;             /* the subscriber; UINT32_MAX for query windows */
    uint32_t key;
    sim_time_ns start_ns;
    sim_time_ns end_ns;          /* SIM_TIME_NEVER: open at the end */
} obs_read_window;

/* Totals per service and source, in (key, source) order. */
typedef struct obs_read_stats {
    uint32_t key;
    bool view;
    uint64_t reads;              /* answers (queries) or view changes (views) */
    uint64_t failed;             /* queries every server failed */
    uint64_t kind_reads[OBS_READ_KINDS];   /* of the reads, how many were of each kind */
    sim_time_ns kind_ns[OBS_READ_KINDS];   /* total length of the windows of each kind (to the run's end) */
} obs_read_stats;

/* Returns owned (obs_reads_destroy), or NULL when out of memory. */
obs_reads *obs_reads_create(sim_time_ns lag_allowance_ns, sim_time_ns zombie_allowance_ns);
void obs_reads_destroy(obs_reads *o);   /* NULL is a no-op */
/* `client` of service `key` became live (registered) or not (dead,
 * deregistered) at `at_ns`.  Calls come in time order.  False when out of
 * memory. */
bool obs_reads_truth(obs_reads *o, sim_time_ns at_ns, uint32_t client, uint32_t key, bool live);
/* A read at `at_ns` (borrowed).  False when out of memory. */
bool obs_reads_read(obs_reads *o, sim_time_ns at_ns, const distro_read *read);
/* Closes the books at the end of the run: views may still turn anomalous
 * up to `end_ns`; totals count open windows to it.  Call once. */
bool obs_reads_finish(obs_reads *o, sim_time_ns end_ns);

/* After obs_reads_finish: windows in (start, kind, view, reader, key)
 * order, and totals. */
const obs_read_window *obs_reads_windows(const obs_reads *o, size_t *count);
const obs_read_stats *obs_reads_stats(const obs_reads *o, size_t *count);
/* The longest window of `kind` (open ones to the end of the run); 0 when
 * there is none. */
sim_time_ns obs_reads_max(const obs_reads *o, obs_read_kind kind);
/* Reads seen of any source; 0 means nothing read. */
uint64_t obs_reads_total(const obs_reads *o);

#endif
