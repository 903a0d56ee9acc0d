/* rpt_db.c: the SQLite results recorder.  The only file that includes
 * sqlite3.h (with rpt_faultvfs.c, the fault-injection seam under it);
 * nothing SQLite-specific leaks through rpt_db.h.
 *
 * Design notes
 *
 *   (no handle) --rpt_db_open--> IDLE --rpt_db_close--> (no handle)
 *                                 |  ^
 *        BEGIN IMMEDIATE          |  |  COMMIT, or ROLLBACK on any failure
 *        [rpt_txn_begin]          v  |  [rpt_txn_commit, rpt_txn_rollback]
 *                                IN_TXN
 *
 *   IDLE   -> IN_TXN  [rpt_txn_begin]     from write_run, merge, schema upgrade
 *   IN_TXN -> IDLE    [rpt_txn_commit]    everything written, counts checked
 *   IN_TXN -> IDLE    [rpt_txn_rollback]  first failure; nothing stays
 *
 * IDLE is SQLite's autocommit mode (sqlite3_get_autocommit() != 0); every
 * public function starts and ends in IDLE.
 *
 * Invariants:
 *   (1) A run and its children are written by one transaction, so a reader
 *       or a killed writer never leaves part of a run in the file.
 *   (2) runs.children_count equals the number of rows with that run_id in
 *       all child tables; rpt_check_run_whole() verifies it before COMMIT.
 *   (3) While a handle is open, the file's user_version is
 *       RPT_DB_SCHEMA_VERSION and the cached statements match that schema.
 *   (4) Every SELECT this file runs has an ORDER BY ending in a unique
 *       column (H18); scalar count(*) subqueries return exactly one row.
 *   (5) Values above INT64_MAX never reach SQLite as integers: the u64
 *       seed and trace hash are stored as text, every other u64 is checked
 *       by rpt_run_validate() and asserted again when it is bound.
 *
 * Schema changes: add a migration to rpt_migrations[] (never edit an old
 * one), bump RPT_DB_SCHEMA_VERSION, and describe both in SCHEMA.md.  A new
 * file is created at version 1 and migrated, so every migration runs on
 * every new file and cannot rot. */
#include "rpt_db.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "sim_alloc.h"
#include "sim_assert.h"

_Static_assert(RPT_DB_BUSY_TIMEOUT_MS > RPT_DB_BUSY_RETRY_SLEEP_MS, "retry sleep fits the timeout");
_Static_assert(RPT_DB_BUSY_TIMEOUT_MS <= INT32_MAX, "sqlite3_busy_timeout takes an int");

/* ========================================================================
 * Schema and migrations
 * ======================================================================== */

static const char rpt_schema_v1[] =
    "CREATE TABLE runs (\n"
    "    id                INTEGER PRIMARY KEY,\n"
    "    campaign          TEXT,\n"
    "    scenario_name     TEXT    NOT NULL,\n"
    "    scenario_path     TEXT,\n"
    "    scenario_sha256   TEXT,\n"
    "    effective_yaml    TEXT,\n"
    "    seed              TEXT    NOT NULL\n"
    "                      CHECK (length(seed) BETWEEN 1 AND 20 AND seed NOT GLOB '*[^0-9]*'),\n"
    "    build             TEXT,\n"
    "    verdict           TEXT    NOT NULL CHECK (verdict IN ('pass', 'fail', 'error')),\n"
    "    failure           TEXT,\n"
    "    repro             TEXT,\n"
    "    end_ns            INTEGER NOT NULL CHECK (end_ns >= 0),\n"
    "    events            INTEGER NOT NULL CHECK (events >= 0),\n"
    "    trace_hash        TEXT    NOT NULL\n"
    "                      CHECK (length(trace_hash) = 16 AND trace_hash NOT GLOB '*[^0-9a-f]*'),\n"
    "    converged_ns      INTEGER,\n"
    "    last_fault_end_ns INTEGER,\n"
    "    children_count    INTEGER NOT NULL CHECK (children_count >= 0)\n"
    ");\n"
    "CREATE TABLE windows (\n"
    "    id       INTEGER PRIMARY KEY,\n"
    "    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    kind     TEXT    NOT NULL CHECK (kind IN ('lost', 'zombie', 'divergent',\n"
    "                     'ownership_none', 'ownership_multi', 'unconverged')),\n"
    "    node     INTEGER NOT NULL,\n"
    "    key      TEXT,\n"
    "    start_ns INTEGER NOT NULL,\n"
    "    end_ns   INTEGER\n"
    ");\n"
    "CREATE INDEX windows_run_id ON windows(run_id);\n"
    "CREATE TABLE convergences (\n"
    "    id           INTEGER PRIMARY KEY,\n"
    "    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    fault_index  INTEGER NOT NULL,\n"
    "    fault_end_ns INTEGER NOT NULL,\n"
    "    converged_ns INTEGER\n"
    ");\n"
    "CREATE INDEX convergences_run_id ON convergences(run_id);\n"
    "CREATE TABLE counters (\n"
    "    id     INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    node   INTEGER NOT NULL,\n"
    "    name   TEXT    NOT NULL,\n"
    "    value  INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX counters_run_id ON counters(run_id);\n"
    "CREATE TABLE samples (\n"
    "    id             INTEGER PRIMARY KEY,\n"
    "    run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    at_ns          INTEGER NOT NULL,\n"
    "    node           INTEGER NOT NULL,\n"
    "    up             INTEGER NOT NULL,\n"
    "    keys           INTEGER NOT NULL,\n"
    "    instances      INTEGER NOT NULL,\n"
    "    owned_keys     INTEGER NOT NULL,\n"
    "    healthy_view   INTEGER NOT NULL,\n"
    "    divergent_keys INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX samples_run_id ON samples(run_id);\n"
    "CREATE TABLE msgstats (\n"
    "    id                         INTEGER PRIMARY KEY,\n"
    "    run_id                     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    src                        INTEGER NOT NULL,\n"
    "    dst                        INTEGER NOT NULL,\n"
    "    type                       TEXT    NOT NULL,\n"
    "    sent                       INTEGER NOT NULL,\n"
    "    delivered                  INTEGER NOT NULL,\n"
    "    duplicated                 INTEGER NOT NULL,\n"
    "    bytes_sent                 INTEGER NOT NULL,\n"
    "    bytes_delivered            INTEGER NOT NULL,\n"
    "    dropped_loss               INTEGER NOT NULL,\n"
    "    dropped_partition          INTEGER NOT NULL,\n"
    "    dropped_receiver_down      INTEGER NOT NULL,\n"
    "    dropped_receiver_restarted INTEGER NOT NULL,\n"
    "    dropped_late_response      INTEGER NOT NULL,\n"
    "    dropped_caller_restarted   INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX msgstats_run_id ON msgstats(run_id);\n"
    "CREATE TABLE faults (\n"
    "    id          INTEGER PRIMARY KEY,\n"
    "    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    fault_index INTEGER NOT NULL,\n"
    "    kind        TEXT    NOT NULL,\n"
    "    description TEXT,\n"
    "    start_ns    INTEGER NOT NULL,\n"
    "    end_ns      INTEGER\n"
    ");\n"
    "CREATE INDEX faults_run_id ON faults(run_id);\n"
    "CREATE TABLE expects (\n"
    "    id       INTEGER PRIMARY KEY,\n"
    "    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    name     TEXT    NOT NULL,\n"
    "    bound    TEXT,\n"
    "    observed TEXT,\n"
    "    ok       INTEGER NOT NULL CHECK (ok IN (0, 1))\n"
    ");\n"
    "CREATE INDEX expects_run_id ON expects(run_id);\n";

/* Version 2: sweep parameters and the replication lag summary.  ALTER TABLE
 * appends, so in every file (new or migrated) the lag_* columns come after
 * children_count. */
static const char rpt_migration_v2[] =
    "ALTER TABLE runs ADD COLUMN lag_count  INTEGER CHECK (lag_count >= 0);\n"
    "ALTER TABLE runs ADD COLUMN lag_p50_ns INTEGER;\n"
    "ALTER TABLE runs ADD COLUMN lag_p90_ns INTEGER;\n"
    "ALTER TABLE runs ADD COLUMN lag_p99_ns INTEGER;\n"
    "ALTER TABLE runs ADD COLUMN lag_max_ns INTEGER;\n"
    "CREATE TABLE run_params (\n"
    "    id     INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    key    TEXT    NOT NULL,\n"
    "    value  TEXT    NOT NULL,\n"
    "    UNIQUE (run_id, key)\n"
    ");\n"
    "CREATE INDEX run_params_run_id ON run_params(run_id);\n";

/* Version 3: campaign records.  One row per invocation of run, check or
 * sweep that writes the file, with wall-clock start and end (the only
 * wall-clock values in the file; the runs hold virtual time only). */
static const char rpt_migration_v3[] =
    "CREATE TABLE campaigns (\n"
    "    id              INTEGER PRIMARY KEY,\n"
    "    command_line    TEXT    NOT NULL,\n"
    "    build           TEXT,\n"
    "    started_unix_ms INTEGER NOT NULL,\n"
    "    ended_unix_ms   INTEGER,\n"
    "    state           TEXT    NOT NULL DEFAULT 'running'\n"
    "                    CHECK (state IN ('running', 'finished', 'interrupted')),\n"
    "    signal          TEXT,\n"
    "    runs_planned    INTEGER NOT NULL CHECK (runs_planned >= 0),\n"
    "    runs_done       INTEGER CHECK (runs_done >= 0),\n"
    "    passed          INTEGER CHECK (passed >= 0),\n"
    "    failed          INTEGER CHECK (failed >= 0),\n"
    "    errors          INTEGER CHECK (errors >= 0)\n"
    ");\n"
    "ALTER TABLE runs ADD COLUMN campaign_id INTEGER REFERENCES campaigns(id) ON DELETE SET NULL;\n"
    "CREATE INDEX runs_campaign_id ON runs(campaign_id);\n";

/* Version 4: the run's convergence, anchored on the last event that could
 * change the truth, and why it is never when it is (SCHEMA.md). */
static const char rpt_migration_v4[] =
    "ALTER TABLE runs ADD COLUMN converge_anchor_ns INTEGER;\n"
    "ALTER TABLE runs ADD COLUMN convergence_ns     INTEGER CHECK (convergence_ns >= 0);\n"
    "ALTER TABLE runs ADD COLUMN convergence_never  TEXT;\n";
/* Version 5: what readers saw (sim/harness/obs_reads.h). */
static const char rpt_migration_v5[] =
    "CREATE TABLE client_reads (\n"
    "    id          INTEGER PRIMARY KEY,\n"
    "    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    key         TEXT    NOT NULL,\n"
    "    source      TEXT    NOT NULL CHECK (source IN ('query', 'view')),\n"
    "    reads       INTEGER NOT NULL CHECK (reads >= 0),\n"
    "    failed      INTEGER NOT NULL CHECK (failed >= 0),\n"
    "    empty_reads INTEGER NOT NULL CHECK (empty_reads >= 0),\n"
    "    short_reads INTEGER NOT NULL CHECK (short_reads >= 0),\n"
    "    stale_reads INTEGER NOT NULL CHECK (stale_reads >= 0),\n"
    "    empty_ns    INTEGER NOT NULL CHECK (empty_ns >= 0),\n"
    "    short_ns    INTEGER NOT NULL CHECK (short_ns >= 0),\n"
    "    stale_ns    INTEGER NOT NULL CHECK (stale_ns >= 0)\n"
    ");\n"
    "CREATE INDEX client_reads_run_id ON client_reads(run_id);\n"
    "CREATE TABLE client_anomalies (\n"
    "    id       INTEGER PRIMARY KEY,\n"
    "    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "    kind     TEXT    NOT NULL CHECK (kind IN ('empty', 'short', 'stale')),\n"
    "    source   TEXT    NOT NULL CHECK (source IN ('query', 'view')),\n"
    "    reader   INTEGER,\n"
    "    key      TEXT    NOT NULL,\n"
    "    start_ns INTEGER NOT NULL,\n"
    "    end_ns   INTEGER\n"
    ");\n"
    "CREATE INDEX client_anomalies_run_id ON client_anomalies(run_id);\n";

/* Version 6: shards.  A run's position in its campaign's whole job list
 * (the same whether the campaign ran in one piece or in shards), and which
 * shard of which job list a campaign record ran, so merging the shards can
 * put their runs back in the campaign's order. */
static const char rpt_migration_v6[] =
    "ALTER TABLE runs ADD COLUMN job INTEGER CHECK (job >= 1);\n"
    "ALTER TABLE campaigns ADD COLUMN shard_index INTEGER CHECK (shard_index >= 1);\n"
    "ALTER TABLE campaigns ADD COLUMN shard_count INTEGER CHECK (shard_count >= shard_index);\n"
    "ALTER TABLE campaigns ADD COLUMN plan TEXT;\n";

typedef struct rpt_migration {
    int to_version;             /* user_version after `sql` ran */
    const char *sql;
} rpt_migration;

/* In increasing to_version; entry i brings version i to version i + 1. */
static const rpt_migration rpt_migrations[] = {
    { 1, rpt_schema_v1 },
    { 2, rpt_migration_v2 },
    { 3, rpt_migration_v3 },
    { 4, rpt_migration_v4 },
    { 5, rpt_migration_v5 },
    { 6, rpt_migration_v6 },
};
#define RPT_MIGRATIONS_COUNT (sizeof rpt_migrations / sizeof rpt_migrations[0])
_Static_assert(sizeof rpt_migrations / sizeof rpt_migrations[0] == RPT_DB_SCHEMA_VERSION,
               "one migration per schema version");

/* Columns of `runs` as of each version, in table order, without id. */
#define RPT_RUNS_COLUMNS_V1                                                                  \
    "campaign, scenario_name, scenario_path, scenario_sha256, effective_yaml, seed, build, " \
    "verdict, failure, repro, end_ns, events, trace_hash, converged_ns, last_fault_end_ns, " \
    "children_count"
#define RPT_RUNS_COLUMNS_V2_EXTRA "lag_count, lag_p50_ns, lag_p90_ns, lag_p99_ns, lag_max_ns"
#define RPT_RUNS_COLUMNS_V4_EXTRA "converge_anchor_ns, convergence_ns, convergence_never"
#define RPT_RUNS_COLUMNS_V6_EXTRA "job"     /* after campaign_id (v3), which merge maps */
#define RPT_CAMPAIGNS_COLUMNS                                                                \
    "command_line, build, started_unix_ms, ended_unix_ms, state, signal, runs_planned, "      \
    "runs_done, passed, failed, errors"
#define RPT_CAMPAIGNS_COLUMNS_V6_EXTRA "shard_index, shard_count, plan"

/* Child tables, their data columns (without id and run_id) and the schema
 * version that introduced them.  Used by merge and by the wholeness check;
 * the insert statements below list the same columns. */
typedef struct rpt_child_table {
    const char *name;
    const char *columns;
    int since_version;
} rpt_child_table;

static const rpt_child_table rpt_child_tables[] = {
    { "run_params", "key, value", 2 },
    { "windows", "kind, node, key, start_ns, end_ns", 1 },
    { "convergences", "fault_index, fault_end_ns, converged_ns", 1 },
    { "counters", "node, name, value", 1 },
    { "samples", "at_ns, node, up, keys, instances, owned_keys, healthy_view, divergent_keys", 1 },
    { "msgstats",
      "src, dst, type, sent, delivered, duplicated, bytes_sent, bytes_delivered, dropped_loss, "
      "dropped_partition, dropped_receiver_down, dropped_receiver_restarted, "
      "dropped_late_response, dropped_caller_restarted",
      1 },
    { "faults", "fault_index, kind, description, start_ns, end_ns", 1 },
    { "expects", "name, bound, observed, ok", 1 },
    { "client_reads",
      "key, source, reads, failed, empty_reads, short_reads, stale_reads, empty_ns, short_ns, stale_ns", 5 },
    { "client_anomalies", "kind, source, reader, key, start_ns, end_ns", 5 },
};
#define RPT_CHILD_TABLES_COUNT (sizeof rpt_child_tables / sizeof rpt_child_tables[0])

/* ========================================================================
 * Cached statements
 * ======================================================================== */

typedef enum rpt_stmt_id {
    RPT_STMT_BEGIN,
    RPT_STMT_COMMIT,
    RPT_STMT_ROLLBACK,
    RPT_STMT_RUN,
    RPT_STMT_PARAM,
    RPT_STMT_WINDOW,
    RPT_STMT_CONVERGENCE,
    RPT_STMT_COUNTER,
    RPT_STMT_SAMPLE,
    RPT_STMT_MSGSTAT,
    RPT_STMT_FAULT,
    RPT_STMT_EXPECT,
    RPT_STMT_CLIENT_READS,
    RPT_STMT_CLIENT_ANOMALY,
    RPT_STMT_CHECK_RUN,
    RPT_STMT_CAMPAIGN_BEGIN,
    RPT_STMT_CAMPAIGN_END,
    RPT_STMT_COUNT
} rpt_stmt_id;

/* The first three do not depend on the schema and are prepared before the
 * upgrade (which needs them); the rest after it. */
#define RPT_STMT_FIRST_SCHEMA RPT_STMT_RUN

static const char *const rpt_stmt_sql[RPT_STMT_COUNT] = {
    [RPT_STMT_BEGIN] = "BEGIN IMMEDIATE",
    [RPT_STMT_COMMIT] = "COMMIT",
    [RPT_STMT_ROLLBACK] = "ROLLBACK",
    [RPT_STMT_RUN] = "INSERT INTO runs (" RPT_RUNS_COLUMNS_V1 ", " RPT_RUNS_COLUMNS_V2_EXTRA
                     ", campaign_id, " RPT_RUNS_COLUMNS_V4_EXTRA ", " RPT_RUNS_COLUMNS_V6_EXTRA
                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [RPT_STMT_PARAM] = "INSERT INTO run_params (run_id, key, value) VALUES (?, ?, ?)",
    [RPT_STMT_WINDOW] = "INSERT INTO windows (run_id, kind, node, key, start_ns, end_ns) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
    [RPT_STMT_CONVERGENCE] = "INSERT INTO convergences (run_id, fault_index, fault_end_ns, "
                             "converged_ns) VALUES (?, ?, ?, ?)",
    [RPT_STMT_COUNTER] = "INSERT INTO counters (run_id, node, name, value) VALUES (?, ?, ?, ?)",
    [RPT_STMT_SAMPLE] = "INSERT INTO samples (run_id, at_ns, node, up, keys, instances, "
                        "owned_keys, healthy_view, divergent_keys) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [RPT_STMT_MSGSTAT] = "INSERT INTO msgstats (run_id, src, dst, type, sent, delivered, "
                         "duplicated, bytes_sent, bytes_delivered, dropped_loss, "
                         "dropped_partition, dropped_receiver_down, dropped_receiver_restarted, "
                         "dropped_late_response, dropped_caller_restarted) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [RPT_STMT_FAULT] = "INSERT INTO faults (run_id, fault_index, kind, description, start_ns, "
                       "end_ns) VALUES (?, ?, ?, ?, ?, ?)",
    [RPT_STMT_EXPECT] = "INSERT INTO expects (run_id, name, bound, observed, ok) "
                        "VALUES (?, ?, ?, ?, ?)",
    [RPT_STMT_CLIENT_READS] = "INSERT INTO client_reads (run_id, key, source, reads, failed, empty_reads, "
                              "short_reads, stale_reads, empty_ns, short_ns, stale_ns) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [RPT_STMT_CLIENT_ANOMALY] = "INSERT INTO client_anomalies (run_id, kind, source, reader, key, start_ns, end_ns) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)",
    /* Invariant (2).  One row at most (id is the key), ordered anyway. */
    [RPT_STMT_CHECK_RUN] =
        "SELECT r.children_count,"
        " (SELECT count(*) FROM run_params c WHERE c.run_id = r.id)"
        " + (SELECT count(*) FROM windows c WHERE c.run_id = r.id)"
        " + (SELECT count(*) FROM convergences c WHERE c.run_id = r.id)"
        " + (SELECT count(*) FROM counters c WHERE c.run_id = r.id)"
        " + (SELECT count(*) FROM samples c WHERE c.run_id = r.id)"
        " + (SELECT count(*) FROM msgstats c WHERE c.run_id = r.id)"
        " + (SELECT count(*) FROM faults c WHERE c.run_id = r.id)"
        " + (SELECT count(*) FROM expects c WHERE c.run_id = r.id)"
        " + (SELECT count(*) FROM client_reads c WHERE c.run_id = r.id)"
        " + (SELECT count(*) FROM client_anomalies c WHERE c.run_id = r.id)"
        " FROM runs r WHERE r.id = ? ORDER BY r.id",
    [RPT_STMT_CAMPAIGN_BEGIN] = "INSERT INTO campaigns (command_line, build, started_unix_ms, runs_planned, "
                                RPT_CAMPAIGNS_COLUMNS_V6_EXTRA ") VALUES (?, ?, ?, ?, ?, ?, ?)",
    [RPT_STMT_CAMPAIGN_END] = "UPDATE campaigns SET ended_unix_ms = ?, state = ?, signal = ?, runs_done = ?, "
                              "passed = ?, failed = ?, errors = ? WHERE id = ?",
};

struct rpt_db {
    sqlite3 *conn;                          /* owned; closed by rpt_db_close */
    sqlite3_stmt *stmts[RPT_STMT_COUNT];    /* owned; NULL until prepared */
    bool readonly;                          /* rpt_db_open_readonly: no insert statements */
    int file_version;                       /* user_version as opened (rpt_db_file_version) */
};

/* The handle's invariants between public calls: open, every statement
 * prepared (invariant 3; a read-only handle prepares none of the inserts),
 * no transaction open (IDLE). */
static void rpt_db_check(const rpt_db *db)
{
    SIM_ASSERT(db != NULL);
    SIM_ASSERT(db->conn != NULL);
    int prepared = db->readonly ? RPT_STMT_FIRST_SCHEMA : RPT_STMT_COUNT;
    for (int id = 0; id < RPT_STMT_COUNT; id++) SIM_ASSERT((db->stmts[id] != NULL) == (id < prepared));
    SIM_ASSERT(sqlite3_get_autocommit(db->conn) != 0);
}

/* ========================================================================
 * Errors and small helpers
 * ======================================================================== */

/* SQLite result code -> our status: trouble with the file itself is I/O,
 * everything else is a report (database) error. */
static sim_status rpt_status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_FULL:
        return SIM_ERR_IO;
    case SQLITE_NOMEM:
        return SIM_ERR_NOMEM;
    default:
        return SIM_ERR_REPORT;
    }
}

/* Fills `err` from the connection's last error; `doing` says what failed.
 * Must be called before any other SQLite call on `conn`, which would
 * replace the message. */
static sim_status rpt_fail(sqlite3 *conn, int rc, const char *where, const char *doing,
                           sim_error *err)
{
    SIM_ASSERT(rc != SQLITE_OK);
    SIM_ASSERT(rc != SQLITE_DONE);
    const char *message = conn != NULL ? sqlite3_errmsg(conn) : sqlite3_errstr(rc);
    return sim_error_set(err, rpt_status_of(rc), where, "%s: %s", doing, message);
}

static int64_t rpt_monotonic_ms(void)
{
    struct timespec now = { 0 };
    int rc = clock_gettime(CLOCK_MONOTONIC, &now);
    SIM_ASSERT(rc == 0);                    /* CLOCK_MONOTONIC always exists on POSIX 2008 */
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void rpt_sleep_ms(int32_t ms)
{
    SIM_ASSERT(ms > 0);
    struct timespec pause = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    /* An early wake-up (EINTR) only shortens one retry pause: the caller's
     * deadline still bounds the total, so the result is not needed. */
    (void)nanosleep(&pause, NULL);
}

/* Steps `stmt`, retrying while SQLite answers SQLITE_BUSY, until
 * RPT_DB_BUSY_TIMEOUT_MS of wall time have passed since the first attempt.
 * Each attempt may itself wait in SQLite's busy handler; the deadline is
 * the loop's bound.  Wall time is fine here: it decides only how long to
 * wait for another process, never what is written.  Returns the last rc and
 * leaves `stmt` un-reset. */
static int rpt_step_busy_retry(sqlite3_stmt *stmt)
{
    SIM_ASSERT(stmt != NULL);
    int64_t deadline_ms = rpt_monotonic_ms() + RPT_DB_BUSY_TIMEOUT_MS;
    for (;;) {
        int rc = sqlite3_step(stmt);
        if ((rc & 0xff) != SQLITE_BUSY) return rc;
        if (rpt_monotonic_ms() >= deadline_ms) return rc;
        /* reset returns the SQLITE_BUSY we already hold; the retry follows. */
        (void)sqlite3_reset(stmt);
        rpt_sleep_ms(RPT_DB_BUSY_RETRY_SLEEP_MS);
    }
}

/* Runs SQL without parameters or result rows (DDL, pragmas, ATTACH by
 * literal).  O(work of the SQL). */
static sim_status rpt_exec(sqlite3 *conn, const char *sql, const char *where,
                           const char *doing, sim_error *err)
{
    SIM_ASSERT(conn != NULL);
    SIM_ASSERT(sql != NULL);
    int rc = sqlite3_exec(conn, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return rpt_fail(conn, rc, where, doing, err);
    return SIM_OK;
}

/* Runs a query without parameters that returns at most one row with one
 * integer column.  `*found` says whether a row came back. */
static sim_status rpt_query_i64(sqlite3 *conn, const char *sql, bool *found, int64_t *out,
                                const char *where, sim_error *err)
{
    SIM_ASSERT(found != NULL);
    SIM_ASSERT(out != NULL);
    *found = false;
    *out = 0;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) return rpt_fail(conn, rc, where, sql, err);
    SIM_ASSERT(stmt != NULL);
    SIM_ASSERT(sqlite3_bind_parameter_count(stmt) == 0);
    rc = rpt_step_busy_retry(stmt);
    if (rc == SQLITE_ROW) {
        *found = true;
        *out = sqlite3_column_int64(stmt, 0);
        rc = sqlite3_step(stmt);
        SIM_ASSERT(rc != SQLITE_ROW);       /* the SQL promises at most one row */
    }
    if (rc != SQLITE_DONE) {
        sim_status status = rpt_fail(conn, rc, where, sql, err);
        (void)sqlite3_finalize(stmt);       /* returns the error just reported */
        return status;
    }
    rc = sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) return rpt_fail(conn, rc, where, sql, err);
    return SIM_OK;
}

/* ========================================================================
 * Transactions
 * ======================================================================== */

static sim_status rpt_run_txn_stmt(rpt_db *db, rpt_stmt_id id, const char *where,
                                   sim_error *err)
{
    sqlite3_stmt *stmt = db->stmts[id];
    SIM_ASSERT(stmt != NULL);
    int rc = rpt_step_busy_retry(stmt);
    if (rc != SQLITE_DONE) {
        sim_status status = rpt_fail(db->conn, rc, where, rpt_stmt_sql[id], err);
        (void)sqlite3_reset(stmt);          /* returns the error just reported */
        return status;
    }
    rc = sqlite3_reset(stmt);
    SIM_ASSERT(rc == SQLITE_OK);            /* the step succeeded */
    return SIM_OK;
}

/* IDLE -> IN_TXN.  Takes the write lock at once (IMMEDIATE), so no later
 * statement of the transaction can fail with SQLITE_BUSY. */
static sim_status rpt_txn_begin(rpt_db *db, const char *where, sim_error *err)
{
    SIM_ASSERT(sqlite3_get_autocommit(db->conn) != 0);
    sim_status status = rpt_run_txn_stmt(db, RPT_STMT_BEGIN, where, err);
    if (status == SIM_OK) SIM_ASSERT(sqlite3_get_autocommit(db->conn) == 0);
    return status;
}

/* IN_TXN -> IDLE, keeping everything.  A COMMIT that meets SQLITE_BUSY (a
 * reader in rollback-journal mode; not expected in WAL) is retried and the
 * transaction stays open until it succeeds or the deadline passes. */
static sim_status rpt_txn_commit(rpt_db *db, const char *where, sim_error *err)
{
    SIM_ASSERT(sqlite3_get_autocommit(db->conn) == 0);
    sim_status status = rpt_run_txn_stmt(db, RPT_STMT_COMMIT, where, err);
    if (status == SIM_OK) SIM_ASSERT(sqlite3_get_autocommit(db->conn) != 0);
    return status;
}

/* IN_TXN -> IDLE, discarding everything.  Called after a failure already
 * described in `err`.  SQLite may have rolled back by itself (SQLITE_FULL,
 * SQLITE_IOERR), in which case there is nothing to do.  ROLLBACK itself
 * cannot fail here: every statement is reset, and in WAL mode (and for the
 * merge source, which is only read) it writes nothing, it only drops pages
 * from memory and releases locks; so a failure is asserted, not returned. */
static void rpt_txn_rollback(rpt_db *db)
{
    if (sqlite3_get_autocommit(db->conn) != 0) return;
    sqlite3_stmt *stmt = db->stmts[RPT_STMT_ROLLBACK];
    SIM_ASSERT(stmt != NULL);
    int rc = sqlite3_step(stmt);
    SIM_ASSERT(rc == SQLITE_DONE);
    rc = sqlite3_reset(stmt);
    SIM_ASSERT(rc == SQLITE_OK);
    SIM_ASSERT(sqlite3_get_autocommit(db->conn) != 0);
}

/* ========================================================================
 * Binding
 * ======================================================================== */

/* Binds parameters left to right and remembers the first failure, so that a
 * statement's bindings read as one list that mirrors its column list. */
typedef struct rpt_binder {
    sqlite3_stmt *stmt;
    int index;                  /* last parameter bound (1-based) */
    int rc;                     /* first failure, or SQLITE_OK */
} rpt_binder;

static rpt_binder rpt_binder_start(sqlite3_stmt *stmt)
{
    SIM_ASSERT(stmt != NULL);
    return (rpt_binder){ .stmt = stmt, .index = 0, .rc = SQLITE_OK };
}

/* Strings are bound SQLITE_STATIC: they are borrowed for the call, and
 * rpt_binder_step() clears the bindings before it returns. */
static void rpt_bind_text(rpt_binder *b, const char *text)
{
    if (b->rc != SQLITE_OK) return;
    b->index++;
    b->rc = text == NULL ? sqlite3_bind_null(b->stmt, b->index)
                         : sqlite3_bind_text(b->stmt, b->index, text, -1, SQLITE_STATIC);
}

static void rpt_bind_i64(rpt_binder *b, int64_t value)
{
    if (b->rc != SQLITE_OK) return;
    b->index++;
    b->rc = sqlite3_bind_int64(b->stmt, b->index, value);
}

/* Pairs with rpt_run_validate(), which rejected larger values. */
static void rpt_bind_u64(rpt_binder *b, uint64_t value)
{
    SIM_ASSERT(value <= (uint64_t)INT64_MAX);
    rpt_bind_i64(b, (int64_t)value);
}

/* SIM_TIME_NEVER is stored as NULL. */
static void rpt_bind_time(rpt_binder *b, sim_time_ns at_ns)
{
    if (at_ns == SIM_TIME_NEVER) {
        if (b->rc != SQLITE_OK) return;
        b->index++;
        b->rc = sqlite3_bind_null(b->stmt, b->index);
        return;
    }
    rpt_bind_u64(b, at_ns);
}

/* Steps an INSERT whose parameters are all bound, then resets it and clears
 * its bindings (no borrowed pointer outlives the call). */
static sim_status rpt_binder_step(rpt_db *db, rpt_binder *b, const char *doing,
                                  sim_error *err)
{
    static const char where[] = "rpt_db_write_run";
    sim_status status = SIM_OK;
    int rc = b->rc;
    if (rc == SQLITE_OK) {
        SIM_ASSERT(b->index == sqlite3_bind_parameter_count(b->stmt));  /* none forgotten */
        rc = sqlite3_step(b->stmt);
        SIM_ASSERT(rc != SQLITE_ROW);       /* INSERTs return no rows */
        if (rc != SQLITE_DONE) status = rpt_fail(db->conn, rc, where, doing, err);
        int rc_reset = sqlite3_reset(b->stmt);
        if (status == SIM_OK) SIM_ASSERT(rc_reset == SQLITE_OK);
    } else {
        status = rpt_fail(db->conn, rc, where, doing, err);
    }
    int rc_clear = sqlite3_clear_bindings(b->stmt);
    SIM_ASSERT(rc_clear == SQLITE_OK);      /* documented to always succeed */
    return status;
}

/* ========================================================================
 * Validation (nothing touches the file before the whole run passed)
 * ======================================================================== */

#define RPT_REJECT_IF(cond, ...)                                                             \
    do {                                                                                     \
        if (cond) return sim_error_set(err, SIM_ERR_INVALID, "rpt_db_write_run", __VA_ARGS__); \
    } while (0)

static const char *const rpt_window_kinds[] = {
    "lost", "zombie", "divergent", "ownership_none", "ownership_multi", "unconverged",
};

static bool rpt_window_kind_known(const char *kind)
{
    if (kind == NULL) return false;
    for (size_t i = 0; i < sizeof rpt_window_kinds / sizeof rpt_window_kinds[0]; i++) {
        if (strcmp(kind, rpt_window_kinds[i]) == 0) return true;
    }
    return false;
}

static bool rpt_verdict_known(const char *verdict)
{
    if (verdict == NULL) return false;
    return strcmp(verdict, "pass") == 0 || strcmp(verdict, "fail") == 0 ||
           strcmp(verdict, "error") == 0;
}

#define RPT_I64_OK(v) ((uint64_t)(v) <= (uint64_t)INT64_MAX)
#define RPT_TIME_OK(t) ((t) == SIM_TIME_NEVER || RPT_I64_OK(t))

/* Adds `count` child rows to `*total`, rejecting a NULL array and overflow. */
static sim_status rpt_count_children(const void *array, size_t count, const char *name,
                                     uint64_t *total, sim_error *err)
{
    RPT_REJECT_IF(count > 0 && array == NULL, "%s is NULL but %s_count is %zu", name, name,
                  count);
    RPT_REJECT_IF((uint64_t)count > (uint64_t)INT64_MAX - *total, "too many child rows");
    *total += count;
    return SIM_OK;
}

static sim_status rpt_validate_header(const rpt_run *run, uint64_t *children, sim_error *err)
{
    RPT_REJECT_IF(run->scenario_name == NULL, "scenario_name is NULL");
    RPT_REJECT_IF(run->verdict == NULL, "verdict is NULL");
    RPT_REJECT_IF(!rpt_verdict_known(run->verdict),
                  "verdict is \"%s\"; expected pass, fail or error", run->verdict);
    RPT_REJECT_IF(!RPT_I64_OK(run->end_ns), "end_ns %" PRIu64 " exceeds INT64_MAX", run->end_ns);
    RPT_REJECT_IF(!RPT_I64_OK(run->events), "events %" PRIu64 " exceeds INT64_MAX", run->events);
    RPT_REJECT_IF(!RPT_TIME_OK(run->converged_ns), "converged_ns exceeds INT64_MAX");
    RPT_REJECT_IF(!RPT_TIME_OK(run->last_fault_end_ns), "last_fault_end_ns exceeds INT64_MAX");
    RPT_REJECT_IF(!RPT_TIME_OK(run->converge_anchor_ns), "converge_anchor_ns exceeds INT64_MAX");
    RPT_REJECT_IF(!RPT_TIME_OK(run->convergence_ns), "convergence_ns exceeds INT64_MAX");
    RPT_REJECT_IF(run->convergence_ns == SIM_TIME_NEVER && run->convergence_never == NULL,
                  "convergence_ns is never but convergence_never gives no reason");
    RPT_REJECT_IF(run->convergence_ns != SIM_TIME_NEVER && run->convergence_never != NULL,
                  "convergence_never is set but convergence_ns is a number");
    RPT_REJECT_IF(!RPT_I64_OK(run->lag.count), "lag.count exceeds INT64_MAX");
    RPT_REJECT_IF(run->campaign_id < 0, "campaign_id %" PRId64 " is negative", run->campaign_id);
    RPT_REJECT_IF(!RPT_I64_OK(run->job), "job %" PRIu64 " exceeds INT64_MAX", run->job);
    RPT_REJECT_IF(!RPT_TIME_OK(run->lag.p50_ns) || !RPT_TIME_OK(run->lag.p90_ns) ||
                      !RPT_TIME_OK(run->lag.p99_ns) || !RPT_TIME_OK(run->lag.max_ns),
                  "a lag percentile exceeds INT64_MAX");
    const struct {
        const void *array;
        size_t count;
        const char *name;
    } kinds[] = {
        { run->params, run->params_count, "params" },
        { run->windows, run->windows_count, "windows" },
        { run->convergences, run->convergences_count, "convergences" },
        { run->counters, run->counters_count, "counters" },
        { run->samples, run->samples_count, "samples" },
        { run->msgstats, run->msgstats_count, "msgstats" },
        { run->faults, run->faults_count, "faults" },
        { run->expects, run->expects_count, "expects" },
        { run->client_reads, run->client_reads_count, "client_reads" },
        { run->client_anomalies, run->client_anomalies_count, "client_anomalies" },
    };
    uint64_t total = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        sim_status status = rpt_count_children(kinds[i].array, kinds[i].count, kinds[i].name,
                                               &total, err);
        if (status != SIM_OK) return status;
    }
    *children = total;
    return SIM_OK;
}

static sim_status rpt_validate_params_windows(const rpt_run *run, sim_error *err)
{
    for (size_t i = 0; i < run->params_count; i++) {
        RPT_REJECT_IF(run->params[i].key == NULL, "params[%zu].key is NULL", i);
        RPT_REJECT_IF(run->params[i].value == NULL, "params[%zu].value is NULL", i);
    }
    for (size_t i = 0; i < run->windows_count; i++) {
        const rpt_window *w = &run->windows[i];
        RPT_REJECT_IF(!rpt_window_kind_known(w->kind),
                      "windows[%zu].kind is \"%s\"; expected lost, zombie, divergent, "
                      "ownership_none, ownership_multi or unconverged",
                      i, w->kind != NULL ? w->kind : "(null)");
        RPT_REJECT_IF(w->node < -1, "windows[%zu].node is %" PRId32, i, w->node);
        RPT_REJECT_IF(!RPT_I64_OK(w->start_ns), "windows[%zu].start_ns exceeds INT64_MAX", i);
        RPT_REJECT_IF(!RPT_TIME_OK(w->end_ns), "windows[%zu].end_ns exceeds INT64_MAX", i);
        RPT_REJECT_IF(w->end_ns < w->start_ns, "windows[%zu] ends before it starts", i);
    }
    for (size_t i = 0; i < run->convergences_count; i++) {
        const rpt_convergence *c = &run->convergences[i];
        RPT_REJECT_IF(!RPT_I64_OK(c->fault_end_ns),
                      "convergences[%zu].fault_end_ns exceeds INT64_MAX", i);
        RPT_REJECT_IF(!RPT_TIME_OK(c->converged_ns),
                      "convergences[%zu].converged_ns exceeds INT64_MAX", i);
    }
    return SIM_OK;
}

static sim_status rpt_validate_stats(const rpt_run *run, sim_error *err)
{
    for (size_t i = 0; i < run->counters_count; i++) {
        const rpt_counter *c = &run->counters[i];
        RPT_REJECT_IF(c->name == NULL, "counters[%zu].name is NULL", i);
        RPT_REJECT_IF(c->node < -1, "counters[%zu].node is %" PRId32, i, c->node);
        RPT_REJECT_IF(!RPT_I64_OK(c->value), "counters[%zu] (%s) value %" PRIu64
                      " exceeds INT64_MAX", i, c->name, c->value);
    }
    for (size_t i = 0; i < run->samples_count; i++) {
        RPT_REJECT_IF(!RPT_I64_OK(run->samples[i].at_ns), "samples[%zu].at_ns exceeds INT64_MAX",
                      i);
    }
    for (size_t i = 0; i < run->msgstats_count; i++) {
        const rpt_msgstat *m = &run->msgstats[i];
        RPT_REJECT_IF(m->type == NULL, "msgstats[%zu].type is NULL", i);
        uint64_t all = m->sent | m->delivered | m->duplicated | m->bytes_sent |
                       m->bytes_delivered | m->dropped_loss | m->dropped_partition |
                       m->dropped_receiver_down | m->dropped_receiver_restarted |
                       m->dropped_late_response | m->dropped_caller_restarted;
        RPT_REJECT_IF(!RPT_I64_OK(all), "msgstats[%zu] (%s) has a count above INT64_MAX", i,
                      m->type);
    }
    for (size_t i = 0; i < run->faults_count; i++) {
        const rpt_fault *f = &run->faults[i];
        RPT_REJECT_IF(f->kind == NULL, "faults[%zu].kind is NULL", i);
        RPT_REJECT_IF(!RPT_I64_OK(f->start_ns), "faults[%zu].start_ns exceeds INT64_MAX", i);
        RPT_REJECT_IF(!RPT_TIME_OK(f->end_ns), "faults[%zu].end_ns exceeds INT64_MAX", i);
        RPT_REJECT_IF(f->end_ns < f->start_ns, "faults[%zu] ends before it starts", i);
    }
    for (size_t i = 0; i < run->expects_count; i++) {
        RPT_REJECT_IF(run->expects[i].name == NULL, "expects[%zu].name is NULL", i);
    }
    return SIM_OK;
}

/* Checks everything SQLite would otherwise half-write.  O(children). */
static bool rpt_client_source_known(const char *s)
{
    return s != NULL && (strcmp(s, "query") == 0 || strcmp(s, "view") == 0);
}

static sim_status rpt_validate_client_reads(const rpt_run *run, sim_error *err)
{
    for (size_t i = 0; i < run->client_reads_count; i++) {
        const rpt_client_reads *c = &run->client_reads[i];
        RPT_REJECT_IF(c->key == NULL, "client_reads[%zu].key is NULL", i);
        RPT_REJECT_IF(!rpt_client_source_known(c->source), "client_reads[%zu].source: expected query or view", i);
        RPT_REJECT_IF(!RPT_I64_OK(c->reads) || !RPT_I64_OK(c->failed) || !RPT_I64_OK(c->empty_reads) ||
                          !RPT_I64_OK(c->short_reads) || !RPT_I64_OK(c->stale_reads),
                      "client_reads[%zu]: a count exceeds INT64_MAX", i);
        RPT_REJECT_IF(!RPT_I64_OK(c->empty_ns) || !RPT_I64_OK(c->short_ns) || !RPT_I64_OK(c->stale_ns),
                      "client_reads[%zu]: a duration exceeds INT64_MAX", i);
    }
    for (size_t i = 0; i < run->client_anomalies_count; i++) {
        const rpt_client_anomaly *a = &run->client_anomalies[i];
        RPT_REJECT_IF(a->kind == NULL || (strcmp(a->kind, "empty") != 0 && strcmp(a->kind, "short") != 0 &&
                                          strcmp(a->kind, "stale") != 0),
                      "client_anomalies[%zu].kind: expected empty, short or stale", i);
        RPT_REJECT_IF(!rpt_client_source_known(a->source), "client_anomalies[%zu].source: expected query or view", i);
        RPT_REJECT_IF(a->key == NULL, "client_anomalies[%zu].key is NULL", i);
        RPT_REJECT_IF(a->reader < -1, "client_anomalies[%zu].reader is %" PRId64, i, a->reader);
        RPT_REJECT_IF(!RPT_I64_OK(a->start_ns), "client_anomalies[%zu].start_ns exceeds INT64_MAX", i);
        RPT_REJECT_IF(!RPT_TIME_OK(a->end_ns), "client_anomalies[%zu].end_ns exceeds INT64_MAX", i);
        RPT_REJECT_IF(a->end_ns < a->start_ns, "client_anomalies[%zu] ends before it starts", i);
    }
    return SIM_OK;
}

static sim_status rpt_run_validate(const rpt_run *run, uint64_t *children, sim_error *err)
{
    *children = 0;
    RPT_REJECT_IF(run == NULL, "run is NULL");
    sim_status status = rpt_validate_header(run, children, err);
    if (status == SIM_OK) status = rpt_validate_params_windows(run, err);
    if (status == SIM_OK) status = rpt_validate_stats(run, err);
    if (status == SIM_OK) status = rpt_validate_client_reads(run, err);
    return status;
}

/* ========================================================================
 * Inserting one run
 * ======================================================================== */

static sim_status rpt_insert_run_row(rpt_db *db, const rpt_run *run, uint64_t children,
                                     int64_t *run_id, sim_error *err)
{
    char seed_text[24] = { 0 };               /* 20 digits for UINT64_MAX */
    char hash_text[24] = { 0 };               /* 16 hex digits */
    int n = snprintf(seed_text, sizeof seed_text, "%" PRIu64, run->seed);
    SIM_ASSERT(n > 0 && (size_t)n < sizeof seed_text);
    n = snprintf(hash_text, sizeof hash_text, "%016" PRIx64, run->trace_hash);
    SIM_ASSERT(n == 16);
    bool has_lag = run->lag.count > 0;        /* no samples, no percentiles */

    rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_RUN]);
    rpt_bind_text(&b, run->campaign);
    rpt_bind_text(&b, run->scenario_name);
    rpt_bind_text(&b, run->scenario_path);
    rpt_bind_text(&b, run->scenario_sha256);
    rpt_bind_text(&b, run->effective_yaml);
    rpt_bind_text(&b, seed_text);
    rpt_bind_text(&b, run->build);
    rpt_bind_text(&b, run->verdict);
    rpt_bind_text(&b, run->failure);
    rpt_bind_text(&b, run->repro);
    rpt_bind_time(&b, run->end_ns);
    rpt_bind_u64(&b, run->events);
    rpt_bind_text(&b, hash_text);
    rpt_bind_time(&b, run->converged_ns);
    rpt_bind_time(&b, run->last_fault_end_ns);
    rpt_bind_u64(&b, children);
    rpt_bind_u64(&b, run->lag.count);
    rpt_bind_time(&b, has_lag ? run->lag.p50_ns : SIM_TIME_NEVER);
    rpt_bind_time(&b, has_lag ? run->lag.p90_ns : SIM_TIME_NEVER);
    rpt_bind_time(&b, has_lag ? run->lag.p99_ns : SIM_TIME_NEVER);
    rpt_bind_time(&b, has_lag ? run->lag.max_ns : SIM_TIME_NEVER);
    if (run->campaign_id > 0) rpt_bind_i64(&b, run->campaign_id);
    else rpt_bind_text(&b, NULL);
    rpt_bind_time(&b, run->converge_anchor_ns);
    rpt_bind_time(&b, run->convergence_ns);
    rpt_bind_text(&b, run->convergence_never);
    if (run->job > 0) rpt_bind_u64(&b, run->job);
    else rpt_bind_text(&b, NULL);
    sim_status status = rpt_binder_step(db, &b, "insert into runs", err);
    if (status != SIM_OK) return status;
    *run_id = sqlite3_last_insert_rowid(db->conn);
    SIM_ASSERT(*run_id > 0);
    return SIM_OK;
}

static sim_status rpt_insert_params_windows(rpt_db *db, const rpt_run *run, int64_t run_id,
                                            sim_error *err)
{
    sim_status status = SIM_OK;
    for (size_t i = 0; status == SIM_OK && i < run->params_count; i++) {
        rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_PARAM]);
        rpt_bind_i64(&b, run_id);
        rpt_bind_text(&b, run->params[i].key);
        rpt_bind_text(&b, run->params[i].value);
        status = rpt_binder_step(db, &b, "insert into run_params", err);
    }
    for (size_t i = 0; status == SIM_OK && i < run->windows_count; i++) {
        const rpt_window *w = &run->windows[i];
        rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_WINDOW]);
        rpt_bind_i64(&b, run_id);
        rpt_bind_text(&b, w->kind);
        rpt_bind_i64(&b, w->node);
        rpt_bind_text(&b, w->key);
        rpt_bind_time(&b, w->start_ns);
        rpt_bind_time(&b, w->end_ns);
        status = rpt_binder_step(db, &b, "insert into windows", err);
    }
    for (size_t i = 0; status == SIM_OK && i < run->convergences_count; i++) {
        const rpt_convergence *c = &run->convergences[i];
        rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_CONVERGENCE]);
        rpt_bind_i64(&b, run_id);
        rpt_bind_i64(&b, c->fault_index);
        rpt_bind_time(&b, c->fault_end_ns);
        rpt_bind_time(&b, c->converged_ns);
        status = rpt_binder_step(db, &b, "insert into convergences", err);
    }
    for (size_t i = 0; status == SIM_OK && i < run->counters_count; i++) {
        const rpt_counter *c = &run->counters[i];
        rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_COUNTER]);
        rpt_bind_i64(&b, run_id);
        rpt_bind_i64(&b, c->node);
        rpt_bind_text(&b, c->name);
        rpt_bind_u64(&b, c->value);
        status = rpt_binder_step(db, &b, "insert into counters", err);
    }
    return status;
}

static sim_status rpt_insert_samples(rpt_db *db, const rpt_run *run, int64_t run_id,
                                     sim_error *err)
{
    sim_status status = SIM_OK;
    for (size_t i = 0; status == SIM_OK && i < run->samples_count; i++) {
        const rpt_sample *s = &run->samples[i];
        rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_SAMPLE]);
        rpt_bind_i64(&b, run_id);
        rpt_bind_time(&b, s->at_ns);
        rpt_bind_i64(&b, s->node);
        rpt_bind_i64(&b, s->up);
        rpt_bind_i64(&b, s->keys);
        rpt_bind_i64(&b, s->instances);
        rpt_bind_i64(&b, s->owned_keys);
        rpt_bind_i64(&b, s->healthy_view);
        rpt_bind_i64(&b, s->divergent_keys);
        status = rpt_binder_step(db, &b, "insert into samples", err);
    }
    for (size_t i = 0; status == SIM_OK && i < run->msgstats_count; i++) {
        const rpt_msgstat *m = &run->msgstats[i];
        rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_MSGSTAT]);
        rpt_bind_i64(&b, run_id);
        rpt_bind_i64(&b, m->src);
        rpt_bind_i64(&b, m->dst);
        rpt_bind_text(&b, m->type);
        rpt_bind_u64(&b, m->sent);
        rpt_bind_u64(&b, m->delivered);
        rpt_bind_u64(&b, m->duplicated);
        rpt_bind_u64(&b, m->bytes_sent);
        rpt_bind_u64(&b, m->bytes_delivered);
        rpt_bind_u64(&b, m->dropped_loss);
        rpt_bind_u64(&b, m->dropped_partition);
        rpt_bind_u64(&b, m->dropped_receiver_down);
        rpt_bind_u64(&b, m->dropped_receiver_restarted);
        rpt_bind_u64(&b, m->dropped_late_response);
        rpt_bind_u64(&b, m->dropped_caller_restarted);
        status = rpt_binder_step(db, &b, "insert into msgstats", err);
    }
    return status;
}

static sim_status rpt_insert_faults_expects(rpt_db *db, const rpt_run *run, int64_t run_id,
                                            sim_error *err)
{
    sim_status status = SIM_OK;
    for (size_t i = 0; status == SIM_OK && i < run->faults_count; i++) {
        const rpt_fault *f = &run->faults[i];
        rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_FAULT]);
        rpt_bind_i64(&b, run_id);
        rpt_bind_i64(&b, f->index);
        rpt_bind_text(&b, f->kind);
        rpt_bind_text(&b, f->description);
        rpt_bind_time(&b, f->start_ns);
        rpt_bind_time(&b, f->end_ns);
        status = rpt_binder_step(db, &b, "insert into faults", err);
    }
    for (size_t i = 0; status == SIM_OK && i < run->expects_count; i++) {
        const rpt_expect *e = &run->expects[i];
        rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_EXPECT]);
        rpt_bind_i64(&b, run_id);
        rpt_bind_text(&b, e->name);
        rpt_bind_text(&b, e->bound);
        rpt_bind_text(&b, e->observed);
        rpt_bind_i64(&b, e->ok ? 1 : 0);
        status = rpt_binder_step(db, &b, "insert into expects", err);
    }
    for (size_t i = 0; status == SIM_OK && i < run->client_reads_count; i++) {
        const rpt_client_reads *c = &run->client_reads[i];
        rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_CLIENT_READS]);
        rpt_bind_i64(&b, run_id);
        rpt_bind_text(&b, c->key);
        rpt_bind_text(&b, c->source);
        rpt_bind_u64(&b, c->reads);
        rpt_bind_u64(&b, c->failed);
        rpt_bind_u64(&b, c->empty_reads);
        rpt_bind_u64(&b, c->short_reads);
        rpt_bind_u64(&b, c->stale_reads);
        rpt_bind_u64(&b, c->empty_ns);
        rpt_bind_u64(&b, c->short_ns);
        rpt_bind_u64(&b, c->stale_ns);
        status = rpt_binder_step(db, &b, "insert into client_reads", err);
    }
    for (size_t i = 0; status == SIM_OK && i < run->client_anomalies_count; i++) {
        const rpt_client_anomaly *a = &run->client_anomalies[i];
        rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_CLIENT_ANOMALY]);
        rpt_bind_i64(&b, run_id);
        rpt_bind_text(&b, a->kind);
        rpt_bind_text(&b, a->source);
        if (a->reader >= 0) rpt_bind_i64(&b, a->reader);
        else rpt_bind_text(&b, NULL);
        rpt_bind_text(&b, a->key);
        rpt_bind_time(&b, a->start_ns);
        rpt_bind_time(&b, a->end_ns);
        status = rpt_binder_step(db, &b, "insert into client_anomalies", err);
    }
    return status;
}

/* Invariant (2), inside the transaction, before COMMIT.  A mismatch means
 * this file forgot a child kind or a trigger deleted rows: a bug, so it
 * asserts.  O(children) through the run_id indexes. */
static sim_status rpt_check_run_whole(rpt_db *db, int64_t run_id, uint64_t children,
                                      sim_error *err)
{
    static const char where[] = "rpt_db_write_run";
    sqlite3_stmt *stmt = db->stmts[RPT_STMT_CHECK_RUN];
    int rc = sqlite3_bind_int64(stmt, 1, run_id);
    if (rc != SQLITE_OK) return rpt_fail(db->conn, rc, where, "bind the run check", err);
    rc = sqlite3_step(stmt);
    SIM_ASSERT(rc != SQLITE_DONE);          /* the row was inserted by this transaction */
    if (rc != SQLITE_ROW) {
        sim_status status = rpt_fail(db->conn, rc, where, "check the run's child rows", err);
        (void)sqlite3_reset(stmt);          /* repeats the step's rc */
        return status;
    }
    int64_t recorded = sqlite3_column_int64(stmt, 0);
    int64_t actual = sqlite3_column_int64(stmt, 1);
    rc = sqlite3_reset(stmt);               /* stops after the first row: SQLITE_OK */
    SIM_ASSERT(rc == SQLITE_OK);
    SIM_ASSERT(recorded == (int64_t)children);
    SIM_ASSERT(actual == recorded);
    return SIM_OK;
}

sim_status rpt_db_write_run(rpt_db *db, const rpt_run *run, int64_t *run_id_out, sim_error *err)
{
    static const char where[] = "rpt_db_write_run";
    rpt_db_check(db);
    if (db->readonly) return sim_error_set(err, SIM_ERR_INVALID, where, "the database was opened read-only");
    uint64_t children = 0;
    sim_status status = rpt_run_validate(run, &children, err);
    if (status != SIM_OK) return status;
    status = rpt_txn_begin(db, where, err);
    if (status != SIM_OK) return status;

    int64_t run_id = 0;
    status = rpt_insert_run_row(db, run, children, &run_id, err);
    if (status == SIM_OK) status = rpt_insert_params_windows(db, run, run_id, err);
    if (status == SIM_OK) status = rpt_insert_samples(db, run, run_id, err);
    if (status == SIM_OK) status = rpt_insert_faults_expects(db, run, run_id, err);
    if (status == SIM_OK) status = rpt_check_run_whole(db, run_id, children, err);
    if (status == SIM_OK) status = rpt_txn_commit(db, where, err);
    if (status != SIM_OK) {
        rpt_txn_rollback(db);
        return status;
    }
    rpt_db_check(db);                                     /* back to IDLE */
    if (run_id_out != NULL) *run_id_out = run_id;
    return SIM_OK;
}

/* ========================================================================
 * Campaign records
 * ======================================================================== */

#define RPT_CAMPAIGN_REJECT_IF(cond, ...)                                                    \
    do {                                                                                     \
        if (cond) return sim_error_set(err, SIM_ERR_INVALID, where, __VA_ARGS__);             \
    } while (0)

sim_status rpt_db_campaign_begin(rpt_db *db, const rpt_campaign *campaign, int64_t *id_out, sim_error *err)
{
    static const char where[] = "rpt_db_campaign_begin";
    rpt_db_check(db);
    if (db->readonly) return sim_error_set(err, SIM_ERR_INVALID, where, "the database was opened read-only");
    RPT_CAMPAIGN_REJECT_IF(campaign == NULL || campaign->command_line == NULL, "no command line");
    RPT_CAMPAIGN_REJECT_IF(campaign->started_unix_ms < 0, "started_unix_ms is negative");
    RPT_CAMPAIGN_REJECT_IF(!RPT_I64_OK(campaign->runs_planned), "runs_planned exceeds INT64_MAX");
    RPT_CAMPAIGN_REJECT_IF((campaign->shard_index == 0) != (campaign->shard_count == 0) ||
                               campaign->shard_index > campaign->shard_count ||
                               !RPT_I64_OK(campaign->shard_count),
                           "shard %" PRIu64 "/%" PRIu64 ": expected K/N with 1 <= K <= N, or neither",
                           campaign->shard_index, campaign->shard_count);
    /* One statement: SQLite commits it on its own, whole or not at all. */
    rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_CAMPAIGN_BEGIN]);
    rpt_bind_text(&b, campaign->command_line);
    rpt_bind_text(&b, campaign->build);
    rpt_bind_i64(&b, campaign->started_unix_ms);
    rpt_bind_u64(&b, campaign->runs_planned);
    if (campaign->shard_count > 0) {
        rpt_bind_u64(&b, campaign->shard_index);
        rpt_bind_u64(&b, campaign->shard_count);
    } else {
        rpt_bind_text(&b, NULL);
        rpt_bind_text(&b, NULL);
    }
    rpt_bind_text(&b, campaign->plan);
    sim_status status = rpt_binder_step(db, &b, "insert into campaigns", err);
    if (status != SIM_OK) return status;
    int64_t id = sqlite3_last_insert_rowid(db->conn);
    SIM_ASSERT(id > 0);
    if (id_out != NULL) *id_out = id;
    rpt_db_check(db);
    return SIM_OK;
}

sim_status rpt_db_campaign_end(rpt_db *db, int64_t id, const rpt_campaign_end *end, sim_error *err)
{
    static const char where[] = "rpt_db_campaign_end";
    rpt_db_check(db);
    if (db->readonly) return sim_error_set(err, SIM_ERR_INVALID, where, "the database was opened read-only");
    RPT_CAMPAIGN_REJECT_IF(end == NULL || id <= 0, "no campaign");
    RPT_CAMPAIGN_REJECT_IF(end->ended_unix_ms < 0, "ended_unix_ms is negative");
    RPT_CAMPAIGN_REJECT_IF(!RPT_I64_OK(end->runs_done) || !RPT_I64_OK(end->passed) || !RPT_I64_OK(end->failed) ||
                      !RPT_I64_OK(end->errors),
                  "a count exceeds INT64_MAX");
    rpt_binder b = rpt_binder_start(db->stmts[RPT_STMT_CAMPAIGN_END]);
    rpt_bind_i64(&b, end->ended_unix_ms);
    rpt_bind_text(&b, end->signal != NULL ? "interrupted" : "finished");
    rpt_bind_text(&b, end->signal);
    rpt_bind_u64(&b, end->runs_done);
    rpt_bind_u64(&b, end->passed);
    rpt_bind_u64(&b, end->failed);
    rpt_bind_u64(&b, end->errors);
    rpt_bind_i64(&b, id);
    sim_status status = rpt_binder_step(db, &b, "update campaigns", err);
    if (status != SIM_OK) return status;
    if (sqlite3_changes(db->conn) != 1) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "no campaign with id %" PRId64, id);
    }
    rpt_db_check(db);
    return SIM_OK;
}

/* ========================================================================
 * Open, schema upgrade, close
 * ======================================================================== */

static sim_status rpt_prepare_range(rpt_db *db, int first, int end, sim_error *err)
{
    for (int id = first; id < end; id++) {
        SIM_ASSERT(db->stmts[id] == NULL);
        int rc = sqlite3_prepare_v3(db->conn, rpt_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &db->stmts[id], NULL);
        if (rc != SQLITE_OK) return rpt_fail(db->conn, rc, "rpt_db_open", rpt_stmt_sql[id], err);
        SIM_ASSERT(db->stmts[id] != NULL);
    }
    return SIM_OK;
}

/* journal_mode=WAL answers with the mode now in force; anything but "wal"
 * (an in-memory or read-only database) means we cannot give readers and
 * concurrent writers what the header promises. */
static sim_status rpt_set_wal(rpt_db *db, const char *path, sim_error *err)
{
    static const char where[] = "rpt_db_open";
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db->conn, "PRAGMA journal_mode=WAL", -1, &stmt, NULL);
    if (rc != SQLITE_OK) return rpt_fail(db->conn, rc, where, path, err);
    rc = rpt_step_busy_retry(stmt);
    SIM_ASSERT(rc != SQLITE_DONE);          /* the pragma always answers the mode */
    if (rc != SQLITE_ROW) {
        sim_status status = rpt_fail(db->conn, rc, where, path, err);
        (void)sqlite3_finalize(stmt);       /* repeats the step's rc */
        return status;
    }
    const unsigned char *mode = sqlite3_column_text(stmt, 0);
    bool wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
    sim_status status = SIM_OK;
    if (!wal) {
        status = sim_error_set(err, SIM_ERR_IO, where, "%s: cannot use journal_mode=WAL (got %s)",
                               path, mode != NULL ? (const char *)mode : "nothing");
    }
    rc = sqlite3_finalize(stmt);            /* one row only: finalize after it is fine */
    if (status == SIM_OK && rc != SQLITE_OK) return rpt_fail(db->conn, rc, where, path, err);
    return status;
}

/* Connection settings that change nothing in the file. */
static sim_status rpt_configure_conn(rpt_db *db, const char *path, sim_error *err)
{
    static const char where[] = "rpt_db_open";
    int rc = sqlite3_extended_result_codes(db->conn, 1);
    if (rc != SQLITE_OK) return rpt_fail(db->conn, rc, where, path, err);
    rc = sqlite3_busy_timeout(db->conn, RPT_DB_BUSY_TIMEOUT_MS);
    if (rc != SQLITE_OK) return rpt_fail(db->conn, rc, where, path, err);
    return SIM_OK;
}

/* Settings for writing; these change the file (the WAL switch), so they
 * come after rpt_inspect accepted it. */
static sim_status rpt_configure(rpt_db *db, const char *path, sim_error *err)
{
    static const char where[] = "rpt_db_open";
    sim_status status = rpt_set_wal(db, path, err);
    if (status != SIM_OK) return status;
    /* NORMAL in WAL mode: a power cut may lose the last commits, never
     * consistency; a killed process loses nothing that was committed. */
    status = rpt_exec(db->conn, "PRAGMA synchronous=NORMAL", where, path, err);
    if (status != SIM_OK) return status;
    return rpt_exec(db->conn, "PRAGMA foreign_keys=ON", where, path, err);
}

static sim_status rpt_user_version(rpt_db *db, const char *schema, int *version,
                                   const char *where, sim_error *err)
{
    char sql[96] = { 0 };
    int n = snprintf(sql, sizeof sql, "PRAGMA %s.user_version", schema);
    SIM_ASSERT(n > 0 && (size_t)n < sizeof sql);
    bool found = false;
    int64_t value = 0;
    sim_status status = rpt_query_i64(db->conn, sql, &found, &value, where, err);
    if (status != SIM_OK) return status;
    SIM_ASSERT(found);                      /* the pragma always answers one row */
    SIM_ASSERT(value >= INT32_MIN && value <= INT32_MAX);   /* stored as a 32-bit header field */
    *version = (int)value;
    return SIM_OK;
}

/* Inside the upgrade transaction: runs every migration above `version`. */
static sim_status rpt_migrate(rpt_db *db, const char *path, int version, sim_error *err)
{
    static const char where[] = "rpt_db_open";
    if (version > RPT_DB_SCHEMA_VERSION) {
        return sim_error_set(err, SIM_ERR_REPORT, where,
                             "database schema version %d is newer than this build (%d)", version,
                             RPT_DB_SCHEMA_VERSION);
    }
    if (version == 0) {
        /* A foreign SQLite file also says 0: refuse to add tables to it. */
        bool found = false;
        int64_t unused = 0;
        sim_status status = rpt_query_i64(db->conn,
            "SELECT rowid FROM main.sqlite_master ORDER BY rowid LIMIT 1", &found, &unused,
            where, err);
        if (status != SIM_OK) return status;
        if (found) {
            return sim_error_set(err, SIM_ERR_REPORT, where,
                                 "%s is not a distrosim database: user_version is 0 but it "
                                 "already holds tables", path);
        }
    }
    for (size_t i = 0; i < RPT_MIGRATIONS_COUNT; i++) {
        const rpt_migration *m = &rpt_migrations[i];
        SIM_ASSERT(m->to_version == (int)i + 1);
        if (m->to_version <= version) continue;
        char doing[64] = { 0 };
        snprintf(doing, sizeof doing, "migrate to schema version %d", m->to_version);
        sim_status status = rpt_exec(db->conn, m->sql, where, doing, err);
        if (status != SIM_OK) return status;
        char pragma[64] = { 0 };
        snprintf(pragma, sizeof pragma, "PRAGMA main.user_version = %d", m->to_version);
        status = rpt_exec(db->conn, pragma, where, doing, err);
        if (status != SIM_OK) return status;
    }
    return SIM_OK;
}

/* Reads the file's user_version and table set without changing anything,
 * and refuses what this build must not touch: a future or negative
 * version, a file with tables but no distrosim schema (another program's
 * database), and, when `readonly`, a file with no schema at all.
 * `*version_out` is the version read. */
static sim_status rpt_inspect(rpt_db *db, const char *path, bool readonly, int *version_out,
                              sim_error *err)
{
    static const char where[] = "rpt_db_open";
    /* One statement, so one consistent read: another process may be
     * creating the schema at this very moment. */
    static const char sql[] =
        "SELECT (SELECT user_version FROM main.pragma_user_version),"
        " (SELECT count(*) FROM main.sqlite_master WHERE type = 'table'"
        " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'),"
        " (SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'runs')";
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db->conn, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) return rpt_fail(db->conn, rc, where, path, err);
    rc = rpt_step_busy_retry(stmt);
    if (rc != SQLITE_ROW) {
        sim_status status = rpt_fail(db->conn, rc, where, path, err);
        (void)sqlite3_finalize(stmt);       /* repeats the step's rc */
        return status;
    }
    int64_t version64 = sqlite3_column_int64(stmt, 0);
    int64_t tables = sqlite3_column_int64(stmt, 1);
    int64_t runs = sqlite3_column_int64(stmt, 2);
    rc = sqlite3_finalize(stmt);            /* one row only: finalize after it is fine */
    if (rc != SQLITE_OK) return rpt_fail(db->conn, rc, where, path, err);
    SIM_ASSERT(version64 >= INT32_MIN && version64 <= INT32_MAX);   /* a 32-bit header field */
    int version = (int)version64;
    if (version > RPT_DB_SCHEMA_VERSION) {
        return sim_error_set(err, SIM_ERR_REPORT, where,
                             "database schema version %d is newer than this build (%d)", version,
                             RPT_DB_SCHEMA_VERSION);
    }
    if (version < 0) {
        return sim_error_set(err, SIM_ERR_REPORT, where,
                             "%s is not a distrosim database (user_version %d); left untouched",
                             path, version);
    }
    if (version == 0 && tables > 0) {
        /* A foreign SQLite file also says 0: refuse to add tables to it. */
        return sim_error_set(err, SIM_ERR_REPORT, where,
                             "%s is not a distrosim database: user_version is 0 but it "
                             "already holds tables; left untouched", path);
    }
    if (version > 0 && runs == 0) {
        return sim_error_set(err, SIM_ERR_REPORT, where,
                             "%s is not a distrosim database: user_version is %d but it has "
                             "no runs table; left untouched", path, version);
    }
    if (readonly && version == 0) {
        return sim_error_set(err, SIM_ERR_REPORT, where,
                             "%s is not a distrosim database: it holds no tables", path);
    }
    *version_out = version;
    return SIM_OK;
}

/* One transaction: read the version, migrate, read it again.  Two processes
 * opening a new file at once serialise on BEGIN IMMEDIATE; the second sees
 * the current version and does nothing. */
static sim_status rpt_schema_upgrade(rpt_db *db, const char *path, sim_error *err)
{
    static const char where[] = "rpt_db_open";
    sim_status status = rpt_txn_begin(db, where, err);
    if (status != SIM_OK) return status;
    int version = 0;
    status = rpt_user_version(db, "main", &version, where, err);
    if (status == SIM_OK) status = rpt_migrate(db, path, version, err);
    if (status == SIM_OK) status = rpt_user_version(db, "main", &version, where, err);
    if (status == SIM_OK) SIM_ASSERT(version == RPT_DB_SCHEMA_VERSION);   /* invariant (3) */
    if (status == SIM_OK) status = rpt_txn_commit(db, where, err);
    if (status != SIM_OK) rpt_txn_rollback(db);
    return status;
}

/* Opens db->conn on `target` (the path, or a file: URI naming it) with
 * `flags`, configures the connection and reads the file's schema version
 * without changing anything (rpt_inspect).  Shared by both openers. */
static sim_status rpt_connect(rpt_db *db, const char *target, const char *path, int flags, int *version,
                              sim_error *err)
{
    int rc = sqlite3_open_v2(target, &db->conn, flags, NULL);
    if (rc != SQLITE_OK) {
        return sim_error_set(err, rc == SQLITE_NOMEM ? SIM_ERR_NOMEM : SIM_ERR_IO, "rpt_db_open",
                             "cannot open %s: %s", path,
                             db->conn != NULL ? sqlite3_errmsg(db->conn) : sqlite3_errstr(rc));
    }
    sim_status status = rpt_configure_conn(db, path, err);
    if (status != SIM_OK) return status;
    return rpt_inspect(db, path, db->readonly, version, err);
}

sim_status rpt_db_open(const char *path, rpt_db **out, sim_error *err)
{
    static const char where[] = "rpt_db_open";
    SIM_ASSERT(out != NULL);
    *out = NULL;
    if (path == NULL || path[0] == '\0') {
        /* "" would silently open a private temporary database. */
        return sim_error_set(err, SIM_ERR_INVALID, where, "no database path given");
    }
    rpt_db *db = sim_calloc(1, sizeof *db);
    if (db == NULL) return sim_error_set(err, SIM_ERR_NOMEM, where, "cannot allocate a handle");

    int version = 0;
    sim_status status = rpt_connect(db, path, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &version, err);
    if (status != SIM_OK) goto out_close;
    status = rpt_configure(db, path, err);
    if (status != SIM_OK) goto out_close;
    status = rpt_prepare_range(db, 0, RPT_STMT_FIRST_SCHEMA, err);
    if (status != SIM_OK) goto out_close;
    status = rpt_schema_upgrade(db, path, err);
    if (status != SIM_OK) goto out_close;
    status = rpt_prepare_range(db, RPT_STMT_FIRST_SCHEMA, RPT_STMT_COUNT, err);
    if (status != SIM_OK) goto out_close;
    db->file_version = RPT_DB_SCHEMA_VERSION;
    rpt_db_check(db);
    *out = db;
    return SIM_OK;

out_close:
    rpt_db_close(db);
    return status;
}

/* Columns and tables an older file lacks, as empty stand-ins in the
 * connection's TEMP schema (which unqualified names find first), so every
 * report query reads a version-1 or version-2 file without migrating it. */
#define RPT_V4_STANDINS "NULL AS converge_anchor_ns, NULL AS convergence_ns, NULL AS convergence_never"
static const char rpt_readonly_v1_shims[] =
    "CREATE TEMP VIEW runs AS SELECT *, NULL AS lag_count, NULL AS lag_p50_ns, "
    "NULL AS lag_p90_ns, NULL AS lag_p99_ns, NULL AS lag_max_ns, NULL AS campaign_id, " RPT_V4_STANDINS
    ", NULL AS job FROM main.runs;\n"
    "CREATE TEMP TABLE run_params (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, "
    "key TEXT NOT NULL, value TEXT NOT NULL);\n";
static const char rpt_readonly_v2_shims[] =
    "CREATE TEMP VIEW runs AS SELECT *, NULL AS campaign_id, " RPT_V4_STANDINS ", NULL AS job FROM main.runs;\n";
static const char rpt_readonly_v3_shims[] =
    "CREATE TEMP VIEW runs AS SELECT *, " RPT_V4_STANDINS ", NULL AS job FROM main.runs;\n"
    "CREATE TEMP VIEW campaigns AS SELECT *, NULL AS shard_index, NULL AS shard_count, NULL AS plan "
    "FROM main.campaigns;\n";
static const char rpt_readonly_v4_v5_shims[] =
    "CREATE TEMP VIEW runs AS SELECT *, NULL AS job FROM main.runs;\n"
    "CREATE TEMP VIEW campaigns AS SELECT *, NULL AS shard_index, NULL AS shard_count, NULL AS plan "
    "FROM main.campaigns;\n";
static const char rpt_readonly_campaigns_shim[] =
    "CREATE TEMP TABLE campaigns (id INTEGER PRIMARY KEY, command_line TEXT NOT NULL, build TEXT, "
    "started_unix_ms INTEGER NOT NULL, ended_unix_ms INTEGER, state TEXT NOT NULL, signal TEXT, "
    "runs_planned INTEGER NOT NULL, runs_done INTEGER, passed INTEGER, failed INTEGER, errors INTEGER, "
    "shard_index INTEGER, shard_count INTEGER, plan TEXT);\n";
static const char rpt_readonly_v5_shims[] =
    "CREATE TEMP TABLE client_reads (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, key TEXT NOT NULL, "
    "source TEXT NOT NULL, reads INTEGER NOT NULL, failed INTEGER NOT NULL, empty_reads INTEGER NOT NULL, "
    "short_reads INTEGER NOT NULL, stale_reads INTEGER NOT NULL, empty_ns INTEGER NOT NULL, "
    "short_ns INTEGER NOT NULL, stale_ns INTEGER NOT NULL);\n"
    "CREATE TEMP TABLE client_anomalies (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, kind TEXT NOT NULL, "
    "source TEXT NOT NULL, reader INTEGER, key TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER);\n";
_Static_assert(RPT_DB_SCHEMA_VERSION == 6, "a new schema version needs its read-only stand-ins");

/* A WAL-mode file (header bytes 18 and 19 are 2) with no -wal beside it:
 * no connection has it open, and everything committed is in the file. */
static bool rpt_wal_file_at_rest(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return false;
    unsigned char header[20] = { 0 };
    bool wal = fread(header, 1, sizeof header, f) == sizeof header && header[18] == 2 && header[19] == 2;
    (void)fclose(f);                        /* read-only: nothing to flush */
    if (!wal) return false;
    size_t n = strlen(path) + sizeof "-wal";
    char *wal_path = sim_malloc(n);
    if (wal_path == NULL) return false;
    snprintf(wal_path, n, "%s-wal", path);  /* exactly n - 1 bytes */
    struct stat st;
    bool at_rest = stat(wal_path, &st) != 0 && errno == ENOENT;
    free(wal_path);
    return at_rest;
}

/* "file:" URI of `path` with `query`, every byte outside [A-Za-z0-9/._~-]
 * percent-encoded.  NULL when out of memory. */
static char *rpt_file_uri(const char *path, const char *query)
{
    size_t len = strlen(path);
    size_t n = sizeof "file://" + 3 * len + strlen(query) + 1;
    char *uri = sim_malloc(n);
    if (uri == NULL) return NULL;
    size_t at = (size_t)snprintf(uri, n, "%s", path[0] == '/' ? "file://" : "file:");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)path[i];
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                     ch == '/' || ch == '.' || ch == '_' || ch == '~' || ch == '-';
        if (plain) uri[at++] = (char)ch;
        else at += (size_t)snprintf(uri + at, n - at, "%%%02X", ch);
    }
    snprintf(uri + at, n - at, "?%s", query);   /* fits: n counts every byte */
    return uri;
}

sim_status rpt_db_open_readonly(const char *path, rpt_db **out, sim_error *err)
{
    static const char where[] = "rpt_db_open";
    SIM_ASSERT(out != NULL);
    *out = NULL;
    if (path == NULL || path[0] == '\0') {
        return sim_error_set(err, SIM_ERR_INVALID, where, "no database path given");
    }
    rpt_db *db = sim_calloc(1, sizeof *db);
    if (db == NULL) return sim_error_set(err, SIM_ERR_NOMEM, where, "cannot allocate a handle");
    db->readonly = true;
    sim_status status = SIM_OK;
    /* A WAL-mode file at rest is opened immutable: otherwise even a
     * read-only connection creates -wal and -shm files beside it (and
     * cannot on read-only media).  With a -wal present (a writer is at
     * work) it is opened read-only with the usual locking. */
    char *uri = rpt_file_uri(path, rpt_wal_file_at_rest(path) ? "immutable=1" : "mode=ro");
    if (uri == NULL) {
        free(db);
        return sim_error_set(err, SIM_ERR_NOMEM, where, "cannot allocate the file name");
    }
    int version = 0;
    status = rpt_connect(db, uri, path, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, &version, err);
    free(uri);
    if (status != SIM_OK) goto out_close;
    if (version == 1) status = rpt_exec(db->conn, rpt_readonly_v1_shims, where, path, err);
    if (version == 2) status = rpt_exec(db->conn, rpt_readonly_v2_shims, where, path, err);
    if (version == 3) status = rpt_exec(db->conn, rpt_readonly_v3_shims, where, path, err);
    if (version == 4 || version == 5) status = rpt_exec(db->conn, rpt_readonly_v4_v5_shims, where, path, err);
    if (status == SIM_OK && version < 3) status = rpt_exec(db->conn, rpt_readonly_campaigns_shim, where, path, err);
    if (status == SIM_OK && version < 5) status = rpt_exec(db->conn, rpt_readonly_v5_shims, where, path, err);
    if (status != SIM_OK) goto out_close;
    status = rpt_prepare_range(db, 0, RPT_STMT_FIRST_SCHEMA, err);
    if (status != SIM_OK) goto out_close;
    db->file_version = version;
    rpt_db_check(db);
    *out = db;
    return SIM_OK;

out_close:
    rpt_db_close(db);
    return status;
}

void rpt_db_close(rpt_db *db)
{
    if (db == NULL) return;
    for (int id = 0; id < RPT_STMT_COUNT; id++) {
        /* finalize repeats the statement's last error, which was reported
         * when it happened; closing cannot add anything useful. */
        (void)sqlite3_finalize(db->stmts[id]);              /* NULL is a no-op */
    }
    /* With every statement finalized, close can only fail on misuse (an
     * unfinalized statement): a bug in this file. */
    int rc = sqlite3_close(db->conn);                        /* NULL is a no-op */
    SIM_ASSERT(rc == SQLITE_OK);
    free(db);
}

int rpt_db_file_version(const rpt_db *db)
{
    rpt_db_check(db);
    return db->file_version;
}

int rpt_db_schema_version(void)
{
    return RPT_DB_SCHEMA_VERSION;
}

const char *rpt_db_schema_v1_sql(void)
{
    return rpt_schema_v1;
}

void rpt_db_set_reverse_unordered(rpt_db *db, bool reverse)
{
    rpt_db_check(db);
    /* Sets a connection flag; it reads no file and cannot fail except on
     * misuse, so failure is a bug. */
    int rc = sqlite3_exec(db->conn, reverse ? "PRAGMA reverse_unordered_selects=1"
                                            : "PRAGMA reverse_unordered_selects=0",
                          NULL, NULL, NULL);
    SIM_ASSERT(rc == SQLITE_OK);
}

/* ========================================================================
 * Merge
 * ======================================================================== */

#define RPT_MERGE_SCHEMA "rpt_merge_src"

/* Copies one table with INSERT ... SELECT ... ORDER BY id: ids shift by
 * `offset` for runs and campaigns, run_id shifts by it for children (whose
 * own ids are assigned in source order).  `extra`, when not NULL, is one
 * more column copied as `extra + ?2` (runs.campaign_id: NULL stays NULL). */
static sim_status rpt_merge_table(rpt_db *db, const char *table, const char *columns,
                                  bool is_runs, int64_t offset, const char *extra, int64_t extra_offset,
                                  sim_error *err)
{
    static const char where[] = "rpt_db_merge";
    char sql[1536] = { 0 };
    const char *key = is_runs ? "id" : "run_id";
    char extra_cols[64] = "", extra_select[64] = "";
    if (extra != NULL) {
        snprintf(extra_cols, sizeof extra_cols, ", %s", extra);
        snprintf(extra_select, sizeof extra_select, ", %s + ?2", extra);
    }
    int n = snprintf(sql, sizeof sql,
                     "INSERT INTO main.%s (%s, %s%s) SELECT %s + ?1, %s%s FROM " RPT_MERGE_SCHEMA
                     ".%s ORDER BY id",
                     table, key, columns, extra_cols, key, columns, extra_select, table);
    SIM_ASSERT(n > 0 && (size_t)n < sizeof sql);
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db->conn, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) return rpt_fail(db->conn, rc, where, table, err);
    rc = sqlite3_bind_int64(stmt, 1, offset);
    if (rc == SQLITE_OK && extra != NULL) rc = sqlite3_bind_int64(stmt, 2, extra_offset);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    sim_status status = SIM_OK;
    if (rc != SQLITE_DONE) status = rpt_fail(db->conn, rc, where, table, err);
    rc = sqlite3_finalize(stmt);
    if (status == SIM_OK && rc != SQLITE_OK) status = rpt_fail(db->conn, rc, where, table, err);
    return status;
}

/* The id shift that puts every source run after the last run of `into`,
 * and a check that it cannot overflow. */
static sim_status rpt_merge_offset(rpt_db *db, const char *other_path, int64_t *offset,
                                   sim_error *err)
{
    static const char where[] = "rpt_db_merge";
    bool found = false;
    int64_t last_id = 0, src_first = 0, src_last = 0;
    sim_status status = rpt_query_i64(db->conn,
                                      "SELECT id FROM main.runs ORDER BY id DESC LIMIT 1",
                                      &found, &last_id, where, err);
    if (status == SIM_OK) {
        status = rpt_query_i64(db->conn,
                               "SELECT id FROM " RPT_MERGE_SCHEMA ".runs ORDER BY id LIMIT 1",
                               &found, &src_first, where, err);
    }
    if (status == SIM_OK) {
        status = rpt_query_i64(db->conn,
                               "SELECT id FROM " RPT_MERGE_SCHEMA ".runs ORDER BY id DESC LIMIT 1",
                               &found, &src_last, where, err);
    }
    if (status != SIM_OK) return status;
    if (found && (src_first < 1 || src_last > INT64_MAX - last_id)) {
        return sim_error_set(err, SIM_ERR_REPORT, where,
                             "%s: run ids %" PRId64 "..%" PRId64 " cannot follow id %" PRId64,
                             other_path, src_first, src_last, last_id);
    }
    *offset = last_id;
    return SIM_OK;
}

/* With the source attached: check its version, then copy in one
 * transaction. */
static sim_status rpt_merge_attached(rpt_db *db, const char *other_path, sim_error *err)
{
    static const char where[] = "rpt_db_merge";
    int version = 0;
    sim_status status = rpt_user_version(db, RPT_MERGE_SCHEMA, &version, where, err);
    if (status != SIM_OK) return status;
    if (version < 1) {
        return sim_error_set(err, SIM_ERR_REPORT, where,
                             "%s is not a distrosim database (user_version %d)", other_path,
                             version);
    }
    if (version > RPT_DB_SCHEMA_VERSION) {
        return sim_error_set(err, SIM_ERR_REPORT, where,
                             "%s: database schema version %d is newer than this build (%d)",
                             other_path, version, RPT_DB_SCHEMA_VERSION);
    }
    status = rpt_txn_begin(db, where, err);
    if (status != SIM_OK) return status;
    int64_t offset = 0;
    status = rpt_merge_offset(db, other_path, &offset, err);
    /* Campaign records (version 3) keep their order after those of `into`,
     * and the copied runs point at the copies. */
    bool found = false;
    int64_t campaign_offset = 0;
    if (status == SIM_OK) {
        status = rpt_query_i64(db->conn, "SELECT id FROM main.campaigns ORDER BY id DESC LIMIT 1", &found,
                               &campaign_offset, where, err);
    }
    if (status == SIM_OK && version >= 3) {
        const char *campaigns_columns = version >= 6 ? RPT_CAMPAIGNS_COLUMNS ", " RPT_CAMPAIGNS_COLUMNS_V6_EXTRA
                                                     : RPT_CAMPAIGNS_COLUMNS;
        status = rpt_merge_table(db, "campaigns", campaigns_columns, true, campaign_offset, NULL, 0, err);
    }
    if (status == SIM_OK) {
        const char *runs_columns =
            version >= 6   ? RPT_RUNS_COLUMNS_V1 ", " RPT_RUNS_COLUMNS_V2_EXTRA ", " RPT_RUNS_COLUMNS_V4_EXTRA
                             ", " RPT_RUNS_COLUMNS_V6_EXTRA
            : version >= 4 ? RPT_RUNS_COLUMNS_V1 ", " RPT_RUNS_COLUMNS_V2_EXTRA ", " RPT_RUNS_COLUMNS_V4_EXTRA
            : version >= 2 ? RPT_RUNS_COLUMNS_V1 ", " RPT_RUNS_COLUMNS_V2_EXTRA
                           : RPT_RUNS_COLUMNS_V1;
        status = rpt_merge_table(db, "runs", runs_columns, true, offset, version >= 3 ? "campaign_id" : NULL,
                                 campaign_offset, err);
    }
    for (size_t i = 0; status == SIM_OK && i < RPT_CHILD_TABLES_COUNT; i++) {
        const rpt_child_table *t = &rpt_child_tables[i];
        if (t->since_version > version) continue;     /* absent from the source */
        status = rpt_merge_table(db, t->name, t->columns, false, offset, NULL, 0, err);
    }
    if (status == SIM_OK) status = rpt_txn_commit(db, where, err);
    if (status != SIM_OK) rpt_txn_rollback(db);
    return status;
}

/* Refuses a missing path (ATTACH would create an empty file) and the file
 * `into` itself (it would copy its own rows while writing them). */
static sim_status rpt_merge_check_path(rpt_db *into, const char *other_path, const char *where, sim_error *err)
{
    if (other_path == NULL) return sim_error_set(err, SIM_ERR_INVALID, where, "no path given");
    struct stat other = { 0 };
    if (stat(other_path, &other) != 0) {
        return sim_error_set(err, SIM_ERR_IO, where, "cannot merge %s: %s", other_path,
                             strerror(errno));
    }
    if (!S_ISREG(other.st_mode)) {
        return sim_error_set(err, SIM_ERR_IO, where, "cannot merge %s: not a regular file",
                             other_path);
    }
    const char *own_path = sqlite3_db_filename(into->conn, "main");
    struct stat own = { 0 };
    if (own_path != NULL && stat(own_path, &own) == 0 && own.st_dev == other.st_dev &&
        own.st_ino == other.st_ino) {
        return sim_error_set(err, SIM_ERR_INVALID, where,
                             "cannot merge %s into itself", other_path);
    }
    return SIM_OK;
}

/* Runs one statement with up to two integer parameters (?1, ?2) and no
 * result rows. */
static sim_status rpt_exec_i64(sqlite3 *conn, const char *sql, int64_t p1, int64_t p2, const char *where,
                               const char *doing, sim_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) return rpt_fail(conn, rc, where, doing, err);
    int params = sqlite3_bind_parameter_count(stmt);
    if (params >= 1) rc = sqlite3_bind_int64(stmt, 1, p1);
    if (rc == SQLITE_OK && params >= 2) rc = sqlite3_bind_int64(stmt, 2, p2);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    sim_status status = SIM_OK;
    if (rc != SQLITE_DONE) status = rpt_fail(conn, rc, where, doing, err);
    rc = sqlite3_finalize(stmt);
    if (status == SIM_OK && rc != SQLITE_OK) status = rpt_fail(conn, rc, where, doing, err);
    return status;
}

/* The new position of every source run, in temp.rpt_merge_order (old id ->
 * new id): runs of the shards of one campaign (same plan and shard_count)
 * sort together, at the place of the first of them, by their job number;
 * every other run sorts by its own id.  Ties (a job present twice) keep
 * the source order. */
static const char rpt_merge_order_sql[] =
    "INSERT INTO temp.rpt_merge_order (old, new) "
    "WITH g AS (SELECT c.plan AS plan, c.shard_count AS n, min(r.id) AS first "
    "           FROM " RPT_MERGE_SCHEMA ".runs r JOIN " RPT_MERGE_SCHEMA ".campaigns c ON c.id = r.campaign_id "
    "           WHERE c.plan IS NOT NULL AND c.shard_count IS NOT NULL AND r.job IS NOT NULL "
    "           GROUP BY c.plan, c.shard_count), "
    "k AS (SELECT r.id AS id, coalesce(g.first, r.id) AS grp, "
    "             CASE WHEN g.first IS NULL THEN 0 ELSE r.job END AS job "
    "      FROM " RPT_MERGE_SCHEMA ".runs r "
    "      LEFT JOIN " RPT_MERGE_SCHEMA ".campaigns c ON c.id = r.campaign_id "
    "      LEFT JOIN g ON g.plan = c.plan AND g.n = c.shard_count AND r.job IS NOT NULL) "
    "SELECT id, ?1 + row_number() OVER (ORDER BY grp, job, id) FROM k ORDER BY id";

/* With the source attached: rpt_db_merge_in_job_order's copy, in one
 * transaction. */
static sim_status rpt_merge_ordered_attached(rpt_db *db, const char *other_path, sim_error *err)
{
    static const char where[] = "rpt_db_merge_in_job_order";
    int version = 0;
    sim_status status = rpt_user_version(db, RPT_MERGE_SCHEMA, &version, where, err);
    if (status != SIM_OK) return status;
    if (version != RPT_DB_SCHEMA_VERSION) {
        return sim_error_set(err, SIM_ERR_REPORT, where,
                             "%s: schema version %d, expected %d (merge it into a new file first)", other_path,
                             version, RPT_DB_SCHEMA_VERSION);
    }
    status = rpt_txn_begin(db, where, err);
    if (status != SIM_OK) return status;
    int64_t offset = 0, campaign_offset = 0;
    bool found = false;
    status = rpt_merge_offset(db, other_path, &offset, err);
    if (status == SIM_OK) {
        status = rpt_query_i64(db->conn, "SELECT id FROM main.campaigns ORDER BY id DESC LIMIT 1", &found,
                               &campaign_offset, where, err);
    }
    if (status == SIM_OK) {
        status = rpt_exec(db->conn, "CREATE TEMP TABLE rpt_merge_order (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)",
                          where, "create the run order", err);
    }
    if (status == SIM_OK) status = rpt_exec_i64(db->conn, rpt_merge_order_sql, offset, 0, where, "order the runs", err);
    if (status == SIM_OK) {
        status = rpt_merge_table(db, "campaigns", RPT_CAMPAIGNS_COLUMNS ", " RPT_CAMPAIGNS_COLUMNS_V6_EXTRA, true,
                                 campaign_offset, NULL, 0, err);
    }
    char sql[1536] = { 0 };
    if (status == SIM_OK) {
        static const char runs_columns[] =
            RPT_RUNS_COLUMNS_V1 ", " RPT_RUNS_COLUMNS_V2_EXTRA ", " RPT_RUNS_COLUMNS_V4_EXTRA ", "
            RPT_RUNS_COLUMNS_V6_EXTRA;
        int n = snprintf(sql, sizeof sql,
                         "INSERT INTO main.runs (id, %s, campaign_id) SELECT m.new, %s, r.campaign_id + ?1 FROM "
                         RPT_MERGE_SCHEMA ".runs r JOIN temp.rpt_merge_order m ON m.old = r.id ORDER BY m.new",
                         runs_columns, runs_columns);
        SIM_ASSERT(n > 0 && (size_t)n < sizeof sql);
        status = rpt_exec_i64(db->conn, sql, campaign_offset, 0, where, "runs", err);
    }
    for (size_t i = 0; status == SIM_OK && i < RPT_CHILD_TABLES_COUNT; i++) {
        const rpt_child_table *t = &rpt_child_tables[i];
        /* Children in run order, each run's in its own order: their ids
         * come out as if the runs had been written in this order. */
        int n = snprintf(sql, sizeof sql,
                         "INSERT INTO main.%s (run_id, %s) SELECT m.new, c.%s FROM " RPT_MERGE_SCHEMA
                         ".%s c JOIN temp.rpt_merge_order m ON m.old = c.run_id ORDER BY m.new, c.id",
                         t->name, t->columns, t->columns, t->name);
        SIM_ASSERT(n > 0 && (size_t)n < sizeof sql);
        /* "c.a, b, c": only the first column is qualified, and none of the
         * others is ambiguous (temp.rpt_merge_order has old and new). */
        status = rpt_exec_i64(db->conn, sql, 0, 0, where, t->name, err);
    }
    if (status == SIM_OK) {
        status = rpt_exec(db->conn, "DROP TABLE temp.rpt_merge_order", where, "drop the run order", err);
    }
    if (status == SIM_OK) status = rpt_txn_commit(db, where, err);
    if (status != SIM_OK) rpt_txn_rollback(db);    /* also drops the temp table */
    return status;
}

/* Attaches `other_path`, runs `copy` and detaches it again. */
static sim_status rpt_merge_with(rpt_db *into, const char *other_path,
                                 sim_status (*copy)(rpt_db *, const char *, sim_error *), const char *where,
                                 sim_error *err)
{
    rpt_db_check(into);
    if (into->readonly) return sim_error_set(err, SIM_ERR_INVALID, where, "the database was opened read-only");
    sim_status status = rpt_merge_check_path(into, other_path, where, err);
    if (status != SIM_OK) return status;

    /* ATTACH cannot run inside a transaction, so it comes first and the
     * copy gets its own BEGIN IMMEDIATE. */
    sqlite3_stmt *attach = NULL;
    int rc = sqlite3_prepare_v2(into->conn, "ATTACH DATABASE ?1 AS " RPT_MERGE_SCHEMA, -1,
                                &attach, NULL);
    if (rc != SQLITE_OK) return rpt_fail(into->conn, rc, where, other_path, err);
    rc = sqlite3_bind_text(attach, 1, other_path, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) rc = rpt_step_busy_retry(attach);
    if (rc != SQLITE_DONE) {
        status = rpt_fail(into->conn, rc, where, other_path, err);
        (void)sqlite3_finalize(attach);       /* repeats the step's rc */
        return status;
    }
    rc = sqlite3_finalize(attach);
    if (rc != SQLITE_OK) status = rpt_fail(into->conn, rc, where, other_path, err);

    if (status == SIM_OK) status = copy(into, other_path, err);
    SIM_ASSERT(sqlite3_get_autocommit(into->conn) != 0);

    rc = sqlite3_exec(into->conn, "DETACH DATABASE " RPT_MERGE_SCHEMA, NULL, NULL, NULL);
    if (rc != SQLITE_OK && status == SIM_OK) {
        status = rpt_fail(into->conn, rc, where, "detach", err);
    }
    rpt_db_check(into);
    return status;
}

sim_status rpt_db_merge(rpt_db *into, const char *other_path, sim_error *err)
{
    return rpt_merge_with(into, other_path, rpt_merge_attached, "rpt_db_merge", err);
}

sim_status rpt_db_merge_in_job_order(rpt_db *into, const char *other_path, sim_error *err)
{
    return rpt_merge_with(into, other_path, rpt_merge_ordered_attached, "rpt_db_merge_in_job_order", err);
}

/* ========================================================================
 * Reading
 * ======================================================================== */

static bool rpt_only_space(const char *text)
{
    for (const char *p = text; p != NULL && *p != '\0'; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';') return false;
    }
    return true;
}

/* Steps `stmt` to the end, handing each row to `row`. */
static sim_status rpt_deliver_rows(rpt_db *db, sqlite3_stmt *stmt, int ncols,
                                   void (*row)(void *ctx, int ncols, const char *const *values),
                                   void *ctx, sim_error *err)
{
    static const char where[] = "rpt_db_exec_rows";
    const char *values[RPT_DB_EXEC_COLUMNS_MAX] = { 0 };
    SIM_ASSERT(ncols >= 0 && ncols <= RPT_DB_EXEC_COLUMNS_MAX);
    for (bool first = true;; first = false) {   /* bound: the statement's finite result */
        /* Only the first step may be retried: SQLITE_BUSY comes from
         * starting the read, and a retry after a delivered row would
         * deliver it twice. */
        int rc = first ? rpt_step_busy_retry(stmt) : sqlite3_step(stmt);
        if (rc == SQLITE_DONE) return SIM_OK;
        if (rc != SQLITE_ROW) return rpt_fail(db->conn, rc, where, sqlite3_sql(stmt), err);
        for (int c = 0; c < ncols; c++) {
            values[c] = (const char *)sqlite3_column_text(stmt, c);
            if (values[c] == NULL && sqlite3_column_type(stmt, c) != SQLITE_NULL) {
                return sim_error_set(err, SIM_ERR_NOMEM, where,
                                     "cannot convert column %d to text", c);
            }
        }
        if (row != NULL) row(ctx, ncols, values);
    }
}

sim_status rpt_db_exec_rows(rpt_db *db, const char *sql,
                            void (*row)(void *ctx, int ncols, const char *const *values),
                            void *ctx, sim_error *err)
{
    static const char where[] = "rpt_db_exec_rows";
    rpt_db_check(db);
    if (sql == NULL) return sim_error_set(err, SIM_ERR_INVALID, where, "no SQL given");
    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(db->conn, sql, -1, &stmt, &tail);
    if (rc != SQLITE_OK) return rpt_fail(db->conn, rc, where, sql, err);
    if (stmt == NULL) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "no statement in \"%s\"", sql);
    }

    sim_status status = SIM_OK;
    int ncols = sqlite3_column_count(stmt);
    if (!rpt_only_space(tail)) {
        status = sim_error_set(err, SIM_ERR_INVALID, where, "more than one statement in \"%s\"",
                               sql);
    } else if (ncols > RPT_DB_EXEC_COLUMNS_MAX) {
        status = sim_error_set(err, SIM_ERR_INVALID, where, "%d columns; at most %d", ncols,
                               RPT_DB_EXEC_COLUMNS_MAX);
    } else {
        status = rpt_deliver_rows(db, stmt, ncols, row, ctx, err);
    }
    rc = sqlite3_finalize(stmt);
    if (status == SIM_OK && rc != SQLITE_OK) status = rpt_fail(db->conn, rc, where, sql, err);
    if (sqlite3_get_autocommit(db->conn) == 0) {
        /* "BEGIN" or a partial pragma: the handle must stay IDLE. */
        if (status == SIM_OK) {
            status = sim_error_set(err, SIM_ERR_INVALID, where,
                                   "\"%s\" left a transaction open; rolled back", sql);
        }
        rpt_txn_rollback(db);
    }
    rpt_db_check(db);
    return status;
}
