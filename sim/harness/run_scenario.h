/* run_scenario.h: one run of a scenario with one seed.
 *
 * The runner builds the engine, the network, the Nacos cluster, the
 * workload of clients, the scripted faults, the random nemesis and the
 * phases of a scn_config; runs it to its end with the convergence
 * observer attached; checks the scenario's expectations; and returns
 * everything the results database records, as rpt_* rows.
 *
 * Same config, same seed, same binary: the same run, bit for bit (the
 * trace hash proves it).  The runner keeps no state between runs and
 * several runs may go on at once in different threads. */
#ifndef RUN_SCENARIO_H
#define RUN_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "obs_convergence.h"
#include "rpt_db.h"
#include "scn_config.h"
#include "sim_engine.h"

/* What a run shows a trace writer besides the engine's events (replay
 * --perfetto): each fault and harness event as it fires, each model
 * happening the text trace prints as a `model` line, and, at the end of the
 * run, the convergence observer's samples.  Strings are borrowed for the
 * call. */
typedef enum run_note_kind {
    RUN_NOTE_FAULT,      /* a fault fired: `text`, the nodes it acts on, at_ns .. end_ns */
    RUN_NOTE_HARNESS,    /* another harness event: churn, a link restored, a nemesis fault's end */
    RUN_NOTE_MODEL,      /* a model happening on `node` ("member node=0 peer=2 UP->DOWN") */
    RUN_NOTE_SAMPLE,     /* a sample of `node` */
    RUN_NOTE_LAG,        /* a registration reached the last up node at at_ns; `value_ns` its replication lag */
} run_note_kind;

typedef struct run_note {
    run_note_kind kind;
    sim_time_ns at_ns;
    sim_time_ns end_ns;             /* FAULT: when its effect ends (at_ns: at once); else at_ns */
    uint64_t nodes;                 /* FAULT, HARNESS, MODEL: a bit per node it concerns */
    int32_t node;                   /* MODEL, SAMPLE: the node; else -1 */
    const char *text;               /* what the text trace prints after the sequence number */
    const obs_sample *sample;       /* SAMPLE; else NULL */
    sim_time_ns value_ns;           /* LAG; else 0 */
} run_note;

typedef void run_note_fn(void *ctx, const run_note *note);

typedef struct run_trace_filter {   /* replay --trace */
    FILE *out;                      /* NULL: no text trace */
    sim_trace_fn *hook;             /* also called for every event (e.g. a Perfetto writer); may be NULL */
    void *hook_ctx;
    run_note_fn *note;              /* also called for every note, unfiltered; may be NULL */
    void *note_ctx;
    int32_t node;                   /* -1: every node */
    int32_t type;                   /* message type, -1: every event */
    sim_time_ns from_ns;
    sim_time_ns to_ns;              /* SIM_TIME_NEVER: to the end */
} run_trace_filter;

typedef struct run_options {
    uint64_t seed;
    sim_time_ns sample_interval_ns; /* 0: 1 s */
    run_trace_filter trace;
    const char *scenario_path;      /* for the repro command; may be NULL */
    const char *scenario_sha256;
    const char *campaign;
    const char *extra_args;         /* appended to the repro command as they are: shell words ("--set 'a=b c'"), may be NULL */
    const char *program;            /* the repro command's program: the CLI's argv[0]; NULL: "build/distrosim" */
} run_options;

/* The recovery of one fault of the run (reports/SCHEMA.md, "Recovery"):
 * from the fault's end to the first instant the cluster is converged
 * again (obs_converged_after), provided that comes before the next fault
 * starts (heals and starts do not count: they end faults) and the fault
 * ended before the run did; otherwise never.  Heals and starts, which
 * end other faults, and the heal at the end of chaos have none. */
typedef struct run_recovery {
    bool applies;                   /* false: a heal or start, or a step that never started */
    bool not_started;               /* a wait_converged rolling step that never started */
    char nodes[32];                 /* "1", "0->2", "0,1|2", "all" */
    sim_time_ns recovery_ns;        /* SIM_TIME_NEVER: never */
    scn_bound bound;                /* the fault's recover_within, else expect.recover_within */
    bool ok;                        /* within the bound, or not checked */
    uint32_t lost;                  /* lost windows that began during the fault or its recovery */
    uint32_t zombie;                /* zombie windows likewise */
} run_recovery;

/* Everything a run produced; owned by the result (run_result_deinit). */
typedef struct run_result {
    rpt_run row;                    /* strings and arrays point into this result */
    char verdict[8];
    char failure[512];
    const char *repro;              /* the command that reruns this run, as shell words (rpt_esc_shell) */
    char build[64];
    char *effective_yaml;
    rpt_window *windows;
    rpt_convergence *convergences;
    rpt_counter *counters;
    rpt_sample *samples;
    rpt_msgstat *msgstats;
    rpt_fault *faults;
    run_recovery *recoveries;       /* one per row.faults entry, same order */
    obs_run_convergence convergence;/* the run's (obs_run_convergence_of); row.convergence_* hold it too */
    char never_reason[192];         /* why it is never ("" when it is a number) */
    rpt_expect *expects;
    rpt_param *params;
    rpt_client_reads *client_reads;         /* per service and source; none without readers */
    rpt_client_anomaly *client_anomalies;
    /* What readers saw, for the summary line: windows of each kind
     * (obs_read_kind order: empty, short, stale) and the longest of each. */
    bool has_reads;
    uint64_t client_windows[3];
    sim_time_ns client_window_max_ns[3];
    char **strings;                 /* every other string the rows point at */
    size_t strings_len;
    size_t strings_cap;
    bool out_of_memory;             /* while filling: an allocation failed (run_scenario returns SIM_ERR_NOMEM) */
} run_result;

/* Runs `config` with `options->seed`.  Borrows both.  On SIM_OK `*out` is
 * filled (pass or fail); an error (for example an expectation naming an
 * unknown counter) returns its status with `err` filled. */
SIM_MUST_CHECK sim_status run_scenario(const scn_config *config, const run_options *options, run_result *out,
                                       sim_error *err);
void run_result_deinit(run_result *result);

/* The build string: "distrosim <version> <commit>". */
const char *run_build_id(void);

/* The name of event kind `kind` in a run: the engine's (sim_kind_name),
 * the model's (distro_event_kind_name), or the harness's own ("sample":
 * the convergence observer's); "kind N" in `buf` for any other. */
const char *run_event_kind_name(uint16_t kind, char *buf, size_t size);

/* Whether a scenario may bound counter `name` (scn_counters). */
bool run_counter_known(const char *name);

#endif
