/* cli_perfetto.h: writes a run's event trace as Chrome trace-event JSON,
 * which ui.perfetto.dev, chrome://tracing and `distrosim report --trace`
 * read.  Used by `distrosim replay SCENARIO --seed N --perfetto FILE`.
 *
 * The file is one JSON object {"displayTimeUnit": "ns", "traceEvents": [...],
 * "distrosim": {"trace_hash": "16 hex digits"}} (the last key once the run's
 * hash is known: `distrosim report --trace` checks it against the run):
 *
 *   - metadata: process 1 is "distrosim"; node N is thread N+1 of process 1,
 *     named "node N (ADDRESS)" (thread_name) and sorted by N
 *     (thread_sort_index).  One track per node.
 *   - each delivery of a message (a SIM_KIND_DELIVER event) is a flow: a
 *     1 ns slice named after the message type on the sender's track at the
 *     send time, one on the receiver's track at the delivery time, and a
 *     flow start ("ph":"s") and end ("ph":"f", "bp":"e") with the same id
 *     binding the two.  The engine calls the trace hook before it decides
 *     whether to drop a delivery (partition, receiver down), so dropped
 *     arrivals appear too; their args say nothing about it.
 *   - every other event of a node is an instant ("ph":"i", "s":"t") on its
 *     track, named after its kind (run_event_kind_name: "tick", "verify",
 *     "conn_net", ...).
 *   - harness events (no node) go on a track of their own: process 2,
 *     "harness", thread NODES+1 (no thread_name, so the report's space-time
 *     diagram keeps one lane per node); except fault events (SIM_KIND_FAULT:
 *     faults, the nemesis, churn), which are global instants ("s":"g")
 *     named "fault", drawn across every track and by the report as marks.
 *   - the run's notes (run_note, cli_perfetto_note): a fault is an instant
 *     on the harness track named with what it did ("fault 0: partition
 *     {0,1}|{2}") and a slice ("ph":"X", "cat":"fault") from its start to
 *     its end on the track of each node it acts on; other harness events
 *     are instants on the harness track; model happenings ("member node=0
 *     peer=2 UP->DOWN", "expired ...") are instants ("cat":"model") on their
 *     node's track; the observer's samples are counters ("ph":"C") of
 *     process 1: "instances node N" per node and "divergent keys".
 *
 * Timestamps are microseconds of virtual time printed with three decimals,
 * so nanoseconds are exact.  Every string is escaped, and bytes that are not
 * UTF-8 become U+FFFD, so the output is valid JSON for any input.  The same
 * events give the same bytes.
 *
 * Ownership: cli_perfetto_open keeps `out` (the caller keeps it open until
 * cli_perfetto_close returns, then closes it) and copies `node_names`. */
#ifndef CLI_PERFETTO_H
#define CLI_PERFETTO_H

#include <stdint.h>
#include <stdio.h>

#include "run_scenario.h"
#include "sim_engine.h"
#include "sim_net.h"

typedef struct cli_perfetto cli_perfetto;   /* opaque: see cli_perfetto.c */

/* Starts a trace on `out` for `nodes` nodes and writes the metadata.
 * `node_names` (may be NULL, as may any entry) gives each node's address.
 * Returns owned (release with cli_perfetto_close), or NULL when out of
 * memory or `out` is NULL. */
cli_perfetto *cli_perfetto_open(FILE *out, uint32_t nodes, const char *const *node_names);

/* A sim_trace_fn: `ctx` is the cli_perfetto.  Borrows `rec` and `msg` (NULL
 * unless the event delivers a message).  Write errors are remembered and
 * reported by cli_perfetto_close. */
void cli_perfetto_event(void *ctx, const sim_trace_record *rec, const sim_message *msg);

/* A run_note_fn: `ctx` is the cli_perfetto.  Borrows `note`. */
void cli_perfetto_note(void *ctx, const run_note *note);

/* The run's trace hash (runs.trace_hash), written at the end of the file
 * by cli_perfetto_close so a report can tell which run the trace is of. */
void cli_perfetto_set_trace_hash(cli_perfetto *p, uint64_t trace_hash);

/* Ends the JSON document, flushes `out` (does not close it) and frees `p`.
 * Returns 0, or -1 when any write failed.  NULL is a no-op returning 0. */
int cli_perfetto_close(cli_perfetto *p);

#endif
