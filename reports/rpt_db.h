/* rpt_db.h: the SQLite results recorder and the ordered read helper.
 *
 * Every simulated run is written as one row in `runs` plus child rows (sweep
 * parameters, anomaly windows, convergences, counters, samples, message
 * statistics, faults, expectations), all in ONE transaction: a reader, or a
 * campaign killed half-way, sees all of a run or none of it.  Shards of a
 * campaign write their own files and rpt_db_merge() joins them afterwards.
 * The schema is documented in reports/SCHEMA.md; its version is PRAGMA
 * user_version and rpt_db_open() migrates older files forward.
 *
 * This is not a query language: reports read through rpt_db_exec_rows(), and
 * every query they pass must end its ORDER BY in a unique column (H18).
 *
 * Ownership, one rule for the whole API: every pointer argument (paths, SQL,
 * the rpt_run and every string and array reachable from it) is BORROWED for
 * the duration of the call only; nothing is kept.  The only owned object is
 * the rpt_db handle, created by rpt_db_open() and released by rpt_db_close().
 *
 * Errors: SIM_ERR_INVALID for arguments and run contents this module rejects
 * before touching the file; SIM_ERR_IO when SQLite cannot open, read or write
 * the file (SQLITE_CANTOPEN, _IOERR, _READONLY, _PERM, _FULL); SIM_ERR_REPORT
 * for every other SQLite error, with sqlite3_errmsg() copied into the
 * message; SIM_ERR_NOMEM when allocation fails.
 *
 * Concurrency: a handle belongs to one thread and one process.  Do not carry
 * an open handle across fork() (SQLite's rule): open it in the process that
 * uses it.  Any number of processes may write one file at once; writers wait
 * for each other up to RPT_DB_BUSY_TIMEOUT_MS. */
#ifndef RPT_DB_H
#define RPT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_error.h"
#include "sim_time.h"

/* The schema version this build writes (PRAGMA user_version).  Version 1 is
 * the first release; version 2 adds run_params and the runs.lag_* columns;
 * version 3 adds the campaigns table and runs.campaign_id; version 4 the
 * run's anchored convergence (runs.converge_anchor_ns, convergence_ns,
 * convergence_never); version 5 client_reads and client_anomalies (what
 * readers saw); version 6 adds runs.job and the shard columns of campaigns
 * (shard_index, shard_count, plan), so the shards of one campaign can be
 * merged back into its run order. */
#define RPT_DB_SCHEMA_VERSION 6

/* How long a writer waits for another process's transaction before giving
 * up with SIM_ERR_REPORT ("database is locked").  A minute covers the longest
 * single-run transaction we have seen (a few seconds for 10^5 samples) with
 * a wide margin, and still ends a campaign stuck on a dead NFS lock. */
#define RPT_DB_BUSY_TIMEOUT_MS 60000

/* Pause between retries when SQLite returns SQLITE_BUSY without waiting in
 * its own busy handler (WAL recovery by another process, for example). */
#define RPT_DB_BUSY_RETRY_SLEEP_MS 10

/* Widest result row rpt_db_exec_rows() hands to its callback.  The widest
 * table (msgstats) has 17 columns; reports join at most a few tables. */
#define RPT_DB_EXEC_COLUMNS_MAX 64

typedef struct rpt_db rpt_db;   /* opaque: see rpt_db.c */

/* Sweep parameter, e.g. key "cluster.distro.verify_interval", value "2s".
 * Keys are unique within one run. */
typedef struct rpt_param {
    const char *key;            /* required */
    const char *value;          /* required */
} rpt_param;

/* An interval during which an anomaly held. */
typedef struct rpt_window {
    const char *kind;           /* "lost", "zombie", "divergent", "ownership_none",
                                   "ownership_multi" or "unconverged" */
    int32_t node;               /* node id; -1 = cluster-wide */
    const char *key;            /* the data key concerned; NULL = none */
    sim_time_ns start_ns;
    sim_time_ns end_ns;         /* SIM_TIME_NEVER = still open when the run ended */
} rpt_window;

/* How long the cluster took to converge after one fault ended. */
typedef struct rpt_convergence {
    int32_t fault_index;        /* rpt_fault.index of the fault */
    sim_time_ns fault_end_ns;
    sim_time_ns converged_ns;   /* SIM_TIME_NEVER = never converged */
} rpt_convergence;

typedef struct rpt_counter {
    int32_t node;               /* -1 = cluster-wide */
    const char *name;           /* required */
    uint64_t value;             /* at most INT64_MAX */
} rpt_counter;

/* One point of a per-node time series. */
typedef struct rpt_sample {
    sim_time_ns at_ns;
    int32_t node;
    uint32_t up;                /* 1 = the node was running, 0 = down */
    uint32_t keys;              /* data keys in the node's store */
    uint32_t instances;         /* service instances in the node's store */
    uint32_t owned_keys;        /* keys this node is responsible for */
    uint32_t healthy_view;      /* members the node sees as healthy */
    uint32_t divergent_keys;    /* cluster-wide: the same in every row of one at_ns */
} rpt_sample;

/* Traffic of one message type on one directed link.  Every count is at most
 * INT64_MAX. */
typedef struct rpt_msgstat {
    int32_t src;
    int32_t dst;
    const char *type;           /* required */
    uint64_t sent, delivered, duplicated, bytes_sent, bytes_delivered, dropped_loss,
        dropped_partition, dropped_receiver_down, dropped_receiver_restarted,
        dropped_late_response, dropped_caller_restarted;
} rpt_msgstat;

typedef struct rpt_fault {
    int32_t index;              /* position in the scenario's fault list */
    const char *kind;           /* required */
    const char *description;    /* NULL = none */
    sim_time_ns start_ns;
    sim_time_ns end_ns;         /* SIM_TIME_NEVER = never ended */
} rpt_fault;

/* One checked expectation; bound and observed are human-readable, e.g.
 * "30s" and "12.3s". */
typedef struct rpt_expect {
    const char *name;           /* required */
    const char *bound;          /* NULL = none */
    const char *observed;       /* NULL = not observed */
    bool ok;
} rpt_expect;

/* What the readers of one service saw, per source ("query": answers to
 * list queries; "view": subscribers' views), as sim/harness/obs_reads.h
 * and reports/SCHEMA.md define them.  Counts at most INT64_MAX. */
typedef struct rpt_client_reads {
    const char *key;            /* required: the service (group@@name) */
    const char *source;         /* required: "query" or "view" */
    uint64_t reads;             /* answers, or view changes */
    uint64_t failed;            /* queries every server failed */
    uint64_t empty_reads, short_reads, stale_reads;   /* reads of each kind */
    sim_time_ns empty_ns, short_ns, stale_ns;         /* total window length of each kind */
} rpt_client_reads;

/* A window in which what readers got was empty, short or stale. */
typedef struct rpt_client_anomaly {
    const char *kind;           /* required: "empty", "short" or "stale" */
    const char *source;         /* required: "query" or "view" */
    int64_t reader;             /* the subscriber (view windows); -1 = none (query windows) */
    const char *key;            /* required */
    sim_time_ns start_ns;
    sim_time_ns end_ns;         /* SIM_TIME_NEVER = still open when the run ended */
} rpt_client_anomaly;

/* Replication lag summary.  With count == 0 the percentiles are not stored
 * (NULL); otherwise SIM_TIME_NEVER in one of them also stores NULL. */
typedef struct rpt_lag {
    uint64_t count;             /* at most INT64_MAX */
    sim_time_ns p50_ns, p90_ns, p99_ns, max_ns;
} rpt_lag;

/* One finished run.  Strings may be NULL (stored as NULL) unless marked
 * required.  An array may be NULL only when its count is 0.  Every time is
 * at most INT64_MAX or, where the comment says so, SIM_TIME_NEVER. */
typedef struct rpt_run {
    const char *campaign;         /* free label grouping runs of one command */
    const char *scenario_name;    /* required */
    const char *scenario_path;
    const char *scenario_sha256;  /* hash of the file text, hex */
    const char *effective_yaml;   /* the scenario with all defaults filled in */
    uint64_t seed;                /* any value: stored as decimal text */
    const char *build;            /* version + git commit */
    const char *verdict;          /* required: "pass", "fail" or "error" */
    const char *failure;          /* first failed expectation, or NULL */
    const char *repro;            /* the one command that reproduces the run */
    sim_time_ns end_ns;           /* virtual time at which the run stopped */
    uint64_t events;              /* events executed; at most INT64_MAX */
    uint64_t trace_hash;          /* any value: stored as 16 hex digits */
    sim_time_ns converged_ns;     /* final convergence instant; SIM_TIME_NEVER = never */
    sim_time_ns last_fault_end_ns;/* SIM_TIME_NEVER = no fault ended */
    /* The run's convergence (v4, SCHEMA.md "Convergence of a run"): from
     * the anchor (the last event that could change the truth) to the final
     * convergence; SIM_TIME_NEVER = never, with the reason in
     * convergence_never (required then, NULL otherwise). */
    sim_time_ns converge_anchor_ns;
    sim_time_ns convergence_ns;
    const char *convergence_never;
    rpt_lag lag;
    int64_t campaign_id;          /* campaigns.id of the writing campaign; 0 = none (NULL) */
    uint64_t job;                 /* the run's position in its campaign's whole job list, from 1,
                                     whatever the shard; at most INT64_MAX; 0 = none (NULL) */
    const rpt_param *params; size_t params_count;
    const rpt_window *windows; size_t windows_count;
    const rpt_convergence *convergences; size_t convergences_count;
    const rpt_counter *counters; size_t counters_count;
    const rpt_sample *samples; size_t samples_count;
    const rpt_msgstat *msgstats; size_t msgstats_count;
    const rpt_fault *faults; size_t faults_count;
    const rpt_expect *expects; size_t expects_count;
    const rpt_client_reads *client_reads; size_t client_reads_count;
    const rpt_client_anomaly *client_anomalies; size_t client_anomalies_count;
} rpt_run;

/* Opens the results database at `path`, creating the file if needed, and
 * brings it to RPT_DB_SCHEMA_VERSION: an empty file is created at version 1
 * and migrated, so every new file goes through every migration.  Sets
 * journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON and a busy timeout of
 * RPT_DB_BUSY_TIMEOUT_MS.  Borrows `path`.  On success `*out` is a handle the
 * caller releases with rpt_db_close(); on failure `*out` is NULL and `err`
 * says why: SIM_ERR_IO when the file cannot be opened (a directory, a
 * missing parent directory, no permission), SIM_ERR_REPORT when it is not a
 * distrosim database or its schema version is newer than this build.  The
 * user_version and the table set are read before anything is changed: a
 * file refused for either (a negative or future version, another program's
 * tables) is left untouched. */
SIM_MUST_CHECK sim_status rpt_db_open(const char *path, rpt_db **out, sim_error *err);

/* Opens an existing results database for reading only (SQLite's
 * SQLITE_OPEN_READONLY): no WAL switch, no migration, nothing written, so it
 * reads a file on read-only media and leaves the file byte for byte as it
 * was.  An older file is read through empty stand-ins for what later
 * versions added (run_params, the lag_* columns, campaigns, campaign_id).  rpt_db_write_run and rpt_db_merge on this handle fail with
 * SIM_ERR_INVALID.  Errors as rpt_db_open, plus SIM_ERR_REPORT for a file
 * with no tables. */
SIM_MUST_CHECK sim_status rpt_db_open_readonly(const char *path, rpt_db **out, sim_error *err);

/* Releases the handle and its prepared statements.  NULL is a no-op. */
void rpt_db_close(rpt_db *db);

/* RPT_DB_SCHEMA_VERSION, for callers that cannot see the macro's value at
 * build time (other languages, the version command). */
int rpt_db_schema_version(void);

/* The exact DDL of schema version 1, without the user_version pragma, so a
 * test can build a version-1 file by hand and check the migration.  Returns
 * a static string. */
const char *rpt_db_schema_v1_sql(void);

/* Writes one run and all its children in one transaction (BEGIN IMMEDIATE
 * ... COMMIT, retried on SQLITE_BUSY for up to RPT_DB_BUSY_TIMEOUT_MS) and
 * sets `*run_id_out` (may be NULL) to the new runs.id.  Borrows `run`.  The
 * run is validated first; SIM_ERR_INVALID (missing required field, unknown
 * verdict or window kind, a value above INT64_MAX, an end before a start)
 * writes nothing.  Any later failure rolls the transaction back, so the file
 * never holds part of a run.  Cost: O(children) inserts plus one O(children)
 * count that checks runs.children_count before COMMIT. */
SIM_MUST_CHECK sim_status rpt_db_write_run(rpt_db *db, const rpt_run *run,
                                           int64_t *run_id_out, sim_error *err);

/* One invocation of a command that writes runs (run, check, sweep).  The
 * wall-clock times come from the caller: this module never reads a clock. */
typedef struct rpt_campaign {
    const char *command_line;     /* required: the command as POSIX shell words */
    const char *build;            /* NULL = unknown */
    int64_t started_unix_ms;      /* wall clock, ms since the Unix epoch, >= 0 */
    uint64_t runs_planned;        /* runs the campaign meant to make; at most INT64_MAX */
    uint64_t shard_index;         /* --shard K/N: K (1 <= K <= N); 0 = not sharded (NULL) */
    uint64_t shard_count;         /* N, at most INT64_MAX; 0 = not sharded (NULL) */
    const char *plan;             /* identity of the whole job list (hex SHA-256), the same for
                                     every shard of one campaign; NULL = not recorded */
} rpt_campaign;

/* How a campaign ended.  Counts are at most INT64_MAX. */
typedef struct rpt_campaign_end {
    int64_t ended_unix_ms;        /* wall clock, ms since the Unix epoch, >= 0 */
    const char *signal;           /* NULL = finished; "SIGINT", "SIGTERM" = interrupted by it */
    uint64_t runs_done, passed, failed, errors;
} rpt_campaign_end;

/* Records the start of a campaign (state 'running') and sets `*id_out` (may
 * be NULL) to its campaigns.id, for rpt_run.campaign_id and
 * rpt_db_campaign_end.  One statement, committed at once.  SIM_ERR_INVALID
 * for a missing command line or a negative time. */
SIM_MUST_CHECK sim_status rpt_db_campaign_begin(rpt_db *db, const rpt_campaign *campaign,
                                                int64_t *id_out, sim_error *err);

/* Records the end of campaign `id`: end time, state 'finished' or
 * 'interrupted' (with the signal), and the counts.  A campaign whose
 * process was killed before this call stays 'running' with no end time.
 * SIM_ERR_INVALID for an unknown id. */
SIM_MUST_CHECK sim_status rpt_db_campaign_end(rpt_db *db, int64_t id, const rpt_campaign_end *end,
                                              sim_error *err);

/* Copies every run of the distrosim database at `other_path` (schema version
 * 1 to RPT_DB_SCHEMA_VERSION), with its children and campaign records, into
 * `into`, in one transaction.  Runs and campaigns keep their order and get
 * new ids after the last ids in `into` (runs.campaign_id follows);
 * children keep their order.  Borrows `other_path`, which must be an
 * existing file other than `into`'s own (SIM_ERR_IO / SIM_ERR_INVALID);
 * SIM_ERR_REPORT when it is not a distrosim database or is newer than this
 * build.  On failure `into` is unchanged. */
SIM_MUST_CHECK sim_status rpt_db_merge(rpt_db *into, const char *other_path, sim_error *err);

/* As rpt_db_merge, but the runs of the shards of one campaign (campaign
 * records with the same plan and shard_count) are copied in the campaign's
 * job order (runs.job), together where the first of them stood, so the
 * shards of a campaign, merged into an empty file, hold the same runs with
 * the same ids as one unsharded run of it; every other run keeps its place.
 * Children follow their runs; campaign records keep their order.  The file
 * at `other_path` must be at RPT_DB_SCHEMA_VERSION (SIM_ERR_REPORT
 * otherwise: merge older files with rpt_db_merge first).  On failure
 * `into` is unchanged. */
SIM_MUST_CHECK sim_status rpt_db_merge_in_job_order(rpt_db *into, const char *other_path, sim_error *err);

/* The schema version of the file as it was opened: RPT_DB_SCHEMA_VERSION
 * for rpt_db_open (which migrates), the file's own for
 * rpt_db_open_readonly (which does not). */
int rpt_db_file_version(const rpt_db *db);

/* Runs one SQL statement and calls `row` (may be NULL: rows are discarded)
 * once per result row, in the order SQLite returns them, with the row's
 * values as text (NULL for SQL NULL; integers in decimal).  The values array
 * and its strings are borrowed by the callback for the duration of that one
 * call.  The caller's query must order its rows (ORDER BY ending in a unique
 * column) unless it returns at most one row.  SIM_ERR_INVALID when `sql`
 * holds no statement or more than one, returns more than
 * RPT_DB_EXEC_COLUMNS_MAX columns, or leaves a transaction open (it is
 * rolled back); SIM_ERR_REPORT for SQL errors.  Rows already delivered when
 * an error occurs stay delivered. */
SIM_MUST_CHECK sim_status rpt_db_exec_rows(rpt_db *db, const char *sql,
                                           void (*row)(void *ctx, int ncols,
                                                       const char *const *values),
                                           void *ctx, sim_error *err);

/* Test switch: PRAGMA reverse_unordered_selects on this connection, so any
 * query without a complete ORDER BY returns its rows in a different order
 * and a golden comparison fails (SQLite test/whereA.test).  Never fails. */
void rpt_db_set_reverse_unordered(rpt_db *db, bool reverse);

#endif
