/* test_rpt_db.c: the SQLite results recorder (reports/rpt_db.c).
 *
 * Every test runs twice (tcase_add_loop_test, _i = 0 and 1): normally, and
 * with PRAGMA reverse_unordered_selects=1 on every connection the test or
 * its child processes open.  Results are compared as exact text, so a query
 * without a complete ORDER BY (in the module, such as merge's INSERT ...
 * SELECT, or in these tests) changes the output and fails.
 *
 * This file includes sqlite3.h for one purpose: to build by hand the files
 * this build would never write (a version-1 database, a too-new one, a
 * foreign one).  reports/rpt_db.c stays the only production file that
 * includes it.
 *
 * Nothing here reads the wall clock.  Waiting for another process is a
 * counted number of short sleeps, and every assertion is on database
 * contents, exit statuses or error values. */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rpt_db.h"
#include "tst_sim.h"

#define TST_SAMPLES_MAX 200u
#define TST_BULK_SAMPLES 185u          /* + 15 other children = 200 child rows per run */
#define TST_POLL_SLEEP_NS 2000000L     /* 2 ms between polls of another process */
#define TST_POLLS_MAX 60000u           /* at least two minutes of polling */
#define TST_KILL_AFTER_RUNS 20
#define TST_WRITER_RUNS 50u

/* ========================================================================
 * Scratch directories and text collection
 * ======================================================================== */

typedef struct tst_dir {
    char path[64];
} tst_dir;

static void tst_dir_make(tst_dir *dir)
{
    snprintf(dir->path, sizeof dir->path, "/tmp/test_rpt_db.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir->path));
}

/* Returns `name` inside the directory in a buffer the caller owns (free). */
static char *tst_dir_file(const tst_dir *dir, const char *name)
{
    size_t size = strlen(dir->path) + strlen(name) + 2;
    char *path = malloc(size);
    ck_assert_ptr_nonnull(path);
    snprintf(path, size, "%s/%s", dir->path, name);
    return path;
}

/* Removes the directory and the files in it (databases, -wal, -shm). */
static void tst_dir_remove(tst_dir *dir)
{
    DIR *d = opendir(dir->path);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *path = tst_dir_file(dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            ck_assert_int_eq(rmdir(path), 0);
        } else {
            ck_assert_int_eq(unlink(path), 0);
        }
        free(path);
    }
    closedir(d);
    ck_assert_int_eq(rmdir(dir->path), 0);
}

typedef struct tst_text {
    char *data;
    size_t len;
    size_t cap;
} tst_text;

static void tst_text_append(tst_text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap == 0 ? 256 : t->cap;
        while (t->len + n + 1 > cap) cap *= 2;
        t->data = realloc(t->data, cap);
        ck_assert_ptr_nonnull(t->data);
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n + 1);
    t->len += n;
}

/* rpt_db_exec_rows callback: one line per row, values joined by '|', SQL
 * NULL shown as NULL. */
static void tst_collect(void *ctx, int ncols, const char *const *values)
{
    tst_text *t = ctx;
    for (int c = 0; c < ncols; c++) {
        if (c > 0) tst_text_append(t, "|");
        tst_text_append(t, values[c] != NULL ? values[c] : "NULL");
    }
    tst_text_append(t, "\n");
}

/* Returns owned text (free) with every row of `sql`. */
static char *tst_query(rpt_db *db, const char *sql)
{
    sim_error err;
    tst_text text = { 0 };
    TST_OK(rpt_db_exec_rows(db, sql, tst_collect, &text, &err));
    if (text.data == NULL) {
        text.data = calloc(1, 1);
        ck_assert_ptr_nonnull(text.data);
    }
    return text.data;
}

static void tst_query_eq(rpt_db *db, const char *sql, const char *want)
{
    char *got = tst_query(db, sql);
    ck_assert_msg(strcmp(got, want) == 0, "%s\n--- got:\n%s--- want:\n%s", sql, got, want);
    free(got);
}

static int64_t tst_query_i64(rpt_db *db, const char *sql)
{
    char *got = tst_query(db, sql);
    char *end = NULL;
    long long value = strtoll(got, &end, 10);
    ck_assert_msg(end != got && strcmp(end, "\n") == 0, "%s: not one integer: %s", sql, got);
    free(got);
    return value;
}

static rpt_db *tst_open(const char *path, bool reverse)
{
    sim_error err;
    rpt_db *db = NULL;
    TST_OK(rpt_db_open(path, &db, &err));
    ck_assert_ptr_nonnull(db);
    rpt_db_set_reverse_unordered(db, reverse);
    return db;
}

/* ========================================================================
 * Runs to write
 * ======================================================================== */

typedef struct tst_run_data {
    rpt_param params[2];
    rpt_window windows[3];
    rpt_convergence convergences[2];
    rpt_counter counters[2];
    rpt_sample samples[TST_SAMPLES_MAX];
    rpt_msgstat msgstats[2];
    rpt_fault faults[2];
    rpt_expect expects[2];
    rpt_run run;
} tst_run_data;

#define TST_SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define TST_YAML "seed: 1\ncluster:\n  nodes: 3\n"
#define TST_SEED_BIG 18446744073709551614ull   /* > 2^63 */

/* A run with every field and every kind of child set; 15 + samples_count
 * child rows.  The exact values are checked by test_write_read_back. */
static void tst_run_data_init(tst_run_data *d, uint32_t samples_count)
{
    ck_assert_uint_le(samples_count, TST_SAMPLES_MAX);
    memset(d, 0, sizeof *d);
    d->params[0] = (rpt_param){ "cluster.distro.verify_interval", "2s" };
    d->params[1] = (rpt_param){ "network.loss", "1%" };
    d->windows[0] = (rpt_window){ "lost", 1, "svc-a", 10 * SIM_S, 12 * SIM_S };
    d->windows[1] = (rpt_window){ "divergent", -1, NULL, 30 * SIM_S, SIM_TIME_NEVER };
    d->windows[2] = (rpt_window){ "ownership_multi", 2, "svc-b", 40 * SIM_S, 40 * SIM_S };
    d->convergences[0] = (rpt_convergence){ 0, 20 * SIM_S, 25 * SIM_S };
    d->convergences[1] = (rpt_convergence){ 1, 60 * SIM_S, SIM_TIME_NEVER };
    d->counters[0] = (rpt_counter){ 0, "sync_sent", 17 };
    d->counters[1] = (rpt_counter){ -1, "verify_failed", (uint64_t)INT64_MAX };
    for (uint32_t i = 0; i < samples_count; i++) {
        d->samples[i] = (rpt_sample){ .at_ns = (sim_time_ns)i * SIM_S, .node = (int32_t)(i % 3),
                                      .up = i % 2 == 0, .keys = 100 + i, .instances = 200 + i,
                                      .owned_keys = 30 + i, .healthy_view = 3,
                                      .divergent_keys = 7 };
    }
    d->msgstats[0] = (rpt_msgstat){ 0, 1, "DISTRO_SYNC", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
    d->msgstats[1] = (rpt_msgstat){ .src = 1, .dst = 0, .type = "VERIFY",
                                    .sent = (uint64_t)INT64_MAX };
    d->faults[0] = (rpt_fault){ 0, "partition", "split {0} from {1,2}", 10 * SIM_S, 20 * SIM_S };
    d->faults[1] = (rpt_fault){ 1, "crash", NULL, 50 * SIM_S, SIM_TIME_NEVER };
    d->expects[0] = (rpt_expect){ "converged_within", "30s", NULL, false };
    d->expects[1] = (rpt_expect){ "no_lost_keys", "0", "0", true };
    d->run = (rpt_run){
        .campaign = "check scenarios/ci",
        .scenario_name = "ring",
        .scenario_path = "scenarios/ring.yaml",
        .scenario_sha256 = TST_SHA,
        .effective_yaml = TST_YAML,
        .seed = TST_SEED_BIG,
        .build = "distrosim 0.1.0 (abc1234)",
        .verdict = "fail",
        .failure = "converged_within: 30s",
        .repro = "distrosim run scenarios/ring.yaml --seed 18446744073709551614",
        .end_ns = 120 * SIM_S,
        .events = 123456,
        .trace_hash = 0x8000000000000001ull,
        .converged_ns = SIM_TIME_NEVER,
        .last_fault_end_ns = 60 * SIM_S,
        .converge_anchor_ns = 60 * SIM_S,
        .convergence_ns = SIM_TIME_NEVER,
        .convergence_never = "not converged at the end of the run",
        .lag = { .count = 42, .p50_ns = SIM_MS, .p90_ns = 5 * SIM_MS, .p99_ns = 20 * SIM_MS,
                 .max_ns = 31 * SIM_MS },
        .params = d->params, .params_count = 2,
        .windows = d->windows, .windows_count = 3,
        .convergences = d->convergences, .convergences_count = 2,
        .counters = d->counters, .counters_count = 2,
        .samples = d->samples, .samples_count = samples_count,
        .msgstats = d->msgstats, .msgstats_count = 2,
        .faults = d->faults, .faults_count = 2,
        .expects = d->expects, .expects_count = 2,
    };
}

/* A passing run with no children. */
static rpt_run tst_bare_run(uint64_t seed)
{
    return (rpt_run){ .scenario_name = "bare", .verdict = "pass", .seed = seed, .end_ns = SIM_S,
                      .events = 1, .trace_hash = 0, .converged_ns = 500 * SIM_MS,
                      .last_fault_end_ns = SIM_TIME_NEVER };
}

/* ========================================================================
 * Checks shared by several tests
 * ======================================================================== */

#define TST_CHILD_COUNT(t) " + (SELECT count(*) FROM " t " c WHERE c.run_id = r.id)"
/* Runs whose children_count differs from their actual child rows. */
#define TST_NOT_WHOLE_SQL                                                                    \
    "SELECT id, want, got FROM (SELECT r.id AS id, r.children_count AS want, 0"            \
    TST_CHILD_COUNT("run_params") TST_CHILD_COUNT("windows") TST_CHILD_COUNT("convergences") \
    TST_CHILD_COUNT("counters") TST_CHILD_COUNT("samples") TST_CHILD_COUNT("msgstats")     \
    TST_CHILD_COUNT("faults") TST_CHILD_COUNT("expects") TST_CHILD_COUNT("client_reads")    \
    TST_CHILD_COUNT("client_anomalies")                                                     \
    " AS got FROM runs r) WHERE want <> got ORDER BY id"

static void tst_assert_whole_and_sound(rpt_db *db)
{
    tst_query_eq(db, "PRAGMA integrity_check", "ok\n");
    tst_query_eq(db, "PRAGMA foreign_key_check", "");
    tst_query_eq(db, TST_NOT_WHOLE_SQL, "");
}

static int64_t tst_count_all_rows(rpt_db *db)
{
    return tst_query_i64(db, "SELECT (SELECT count(*) FROM runs)"
                             " + (SELECT count(*) FROM run_params)"
                             " + (SELECT count(*) FROM windows)"
                             " + (SELECT count(*) FROM convergences)"
                             " + (SELECT count(*) FROM counters)"
                             " + (SELECT count(*) FROM samples)"
                             " + (SELECT count(*) FROM msgstats)"
                             " + (SELECT count(*) FROM faults)"
                             " + (SELECT count(*) FROM expects)"
                             " + (SELECT count(*) FROM client_reads)"
                             " + (SELECT count(*) FROM client_anomalies)");
}

/* Everything stored about one run except ids, as text. */
static char *tst_dump_run(rpt_db *db, int64_t run_id)
{
    static const char *const selects[] = {
        "SELECT campaign, scenario_name, scenario_path, scenario_sha256, effective_yaml, seed, "
        "build, verdict, failure, repro, end_ns, events, trace_hash, converged_ns, "
        "last_fault_end_ns, children_count, lag_count, lag_p50_ns, lag_p90_ns, lag_p99_ns, "
        "lag_max_ns, converge_anchor_ns, convergence_ns, convergence_never, job FROM runs WHERE id = %" PRId64
        " ORDER BY id",
        "SELECT key, value FROM run_params WHERE run_id = %" PRId64 " ORDER BY id",
        "SELECT kind, node, key, start_ns, end_ns FROM windows WHERE run_id = %" PRId64
        " ORDER BY id",
        "SELECT fault_index, fault_end_ns, converged_ns FROM convergences WHERE run_id = %" PRId64
        " ORDER BY id",
        "SELECT node, name, value FROM counters WHERE run_id = %" PRId64 " ORDER BY id",
        "SELECT at_ns, node, up, keys, instances, owned_keys, healthy_view, divergent_keys "
        "FROM samples WHERE run_id = %" PRId64 " ORDER BY id",
        "SELECT src, dst, type, sent, delivered, duplicated, bytes_sent, bytes_delivered, "
        "dropped_loss, dropped_partition, dropped_receiver_down, dropped_receiver_restarted, "
        "dropped_late_response, dropped_caller_restarted FROM msgstats WHERE run_id = %" PRId64
        " ORDER BY id",
        "SELECT fault_index, kind, description, start_ns, end_ns FROM faults "
        "WHERE run_id = %" PRId64 " ORDER BY id",
        "SELECT name, bound, observed, ok FROM expects WHERE run_id = %" PRId64 " ORDER BY id",
        "SELECT key, source, reads, failed, empty_reads, short_reads, stale_reads, empty_ns, short_ns, stale_ns "
        "FROM client_reads WHERE run_id = %" PRId64 " ORDER BY id",
        "SELECT kind, source, reader, key, start_ns, end_ns FROM client_anomalies WHERE run_id = %" PRId64
        " ORDER BY id",
    };
    tst_text all = { 0 };
    for (size_t i = 0; i < sizeof selects / sizeof selects[0]; i++) {
        char sql[512];
        snprintf(sql, sizeof sql, selects[i], run_id);
        char *part = tst_query(db, sql);
        tst_text_append(&all, "--\n");
        tst_text_append(&all, part);
        free(part);
    }
    return all.data;
}

/* Builds a database by hand with the sqlite3 API: optionally the version-1
 * schema, then `extra_sql`, then user_version. */
static void tst_make_db(const char *path, bool v1_schema, const char *extra_sql, int user_version)
{
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    char *message = NULL;
    if (v1_schema) {
        int rc = sqlite3_exec(h, rpt_db_schema_v1_sql(), NULL, NULL, &message);
        ck_assert_msg(rc == SQLITE_OK, "v1 schema: %s", message != NULL ? message : "");
    }
    if (extra_sql != NULL) {
        int rc = sqlite3_exec(h, extra_sql, NULL, NULL, &message);
        ck_assert_msg(rc == SQLITE_OK, "%s: %s", extra_sql, message != NULL ? message : "");
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", user_version);
    ck_assert_int_eq(sqlite3_exec(h, pragma, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
}

/* user_version read with the sqlite3 API (rpt_db_open would migrate). */
static int tst_raw_user_version(const char *path)
{
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    int version = sqlite3_column_int(stmt, 0);
    ck_assert_int_eq(sqlite3_finalize(stmt), SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
    return version;
}

#define TST_V1_RUN_SQL                                                                       \
    "INSERT INTO runs (campaign, scenario_name, seed, verdict, end_ns, events, trace_hash, " \
    "children_count) VALUES ('old', 'ring', '7', 'pass', 5000, 10, '00000000000000ff', 1);"  \
    "INSERT INTO windows (run_id, kind, node, key, start_ns, end_ns) "                       \
    "VALUES (1, 'lost', 0, 'k', 1, 2);"

/* ========================================================================
 * Open and schema
 * ======================================================================== */

#define TST_TABLES \
    "campaigns\nclient_anomalies\nclient_reads\nconvergences\ncounters\nexpects\nfaults\nmsgstats\n"        \
    "run_params\nruns\nsamples\nwindows\n"
#define TST_RUN_ID_INDEXES                                                                   \
    "client_anomalies_run_id\nclient_reads_run_id\n"                                           \
    "convergences_run_id\ncounters_run_id\nexpects_run_id\nfaults_run_id\nmsgstats_run_id\n" \
    "run_params_run_id\nsamples_run_id\nwindows_run_id\n"
#define TST_RUNS_COLUMNS                                                                     \
    "id\ncampaign\nscenario_name\nscenario_path\nscenario_sha256\neffective_yaml\nseed\n"    \
    "build\nverdict\nfailure\nrepro\nend_ns\nevents\ntrace_hash\nconverged_ns\n"             \
    "last_fault_end_ns\nchildren_count\nlag_count\nlag_p50_ns\nlag_p90_ns\nlag_p99_ns\n"     \
    "lag_max_ns\ncampaign_id\nconverge_anchor_ns\nconvergence_ns\nconvergence_never\njob\n"

START_TEST(test_open_new_file)
{
    bool reverse = _i == 1;
    tst_dir dir;
    tst_dir_make(&dir);
    char *path = tst_dir_file(&dir, "runs.db");
    ck_assert_int_eq(rpt_db_schema_version(), 6);
    ck_assert_int_eq(rpt_db_schema_version(), RPT_DB_SCHEMA_VERSION);

    rpt_db *db = tst_open(path, reverse);
    tst_query_eq(db, "PRAGMA user_version", "6\n");
    tst_query_eq(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                 TST_TABLES);
    tst_query_eq(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE "
                     "'%run_id' ORDER BY name", TST_RUN_ID_INDEXES);
    tst_query_eq(db, "SELECT name FROM pragma_table_info('runs') ORDER BY cid", TST_RUNS_COLUMNS);
    tst_query_eq(db, "PRAGMA journal_mode", "wal\n");
    tst_query_eq(db, "PRAGMA foreign_keys", "1\n");
    tst_query_eq(db, "PRAGMA synchronous", "1\n");          /* NORMAL */
    tst_query_eq(db, "PRAGMA busy_timeout", "60000\n");
    tst_query_eq(db, "PRAGMA reverse_unordered_selects", reverse ? "1\n" : "0\n");
    /* Every child table references runs(id) with ON DELETE CASCADE. */
    tst_query_eq(db, "SELECT m.name, f.\"table\", f.\"from\", f.\"to\", f.on_delete "
                     "FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
                     "WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
                 "client_anomalies|runs|run_id|id|CASCADE\nclient_reads|runs|run_id|id|CASCADE\n"
                 "convergences|runs|run_id|id|CASCADE\ncounters|runs|run_id|id|CASCADE\n"
                 "expects|runs|run_id|id|CASCADE\nfaults|runs|run_id|id|CASCADE\n"
                 "msgstats|runs|run_id|id|CASCADE\nrun_params|runs|run_id|id|CASCADE\n"
                 "runs|campaigns|campaign_id|id|SET NULL\n"
                 "samples|runs|run_id|id|CASCADE\nwindows|runs|run_id|id|CASCADE\n");
    tst_query_eq(db, "SELECT count(*) FROM runs", "0\n");
    rpt_db_close(db);

    /* Reopening a current file changes nothing. */
    db = tst_open(path, reverse);
    tst_query_eq(db, "PRAGMA user_version", "6\n");
    tst_query_eq(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                 TST_TABLES);
    rpt_db_close(db);
    rpt_db_close(NULL);                                      /* a no-op */
    free(path);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_write_read_back)
{
    bool reverse = _i == 1;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *path = tst_dir_file(&dir, "runs.db");
    rpt_db *db = tst_open(path, reverse);
    tst_run_data *d = calloc(1, sizeof *d);
    ck_assert_ptr_nonnull(d);
    tst_run_data_init(d, 3);
    int64_t id = 0;
    TST_OK(rpt_db_write_run(db, &d->run, &id, &err));
    ck_assert_int_eq(id, 1);
    rpt_run bare = tst_bare_run(0);
    bare.lag = (rpt_lag){ .count = 0, .p50_ns = 7, .p90_ns = 8, .p99_ns = 9, .max_ns = 10 };
    TST_OK(rpt_db_write_run(db, &bare, &id, &err));
    ck_assert_int_eq(id, 2);
    TST_OK(rpt_db_write_run(db, &bare, NULL, &err));         /* run_id_out may be NULL */

    tst_query_eq(db,
        "SELECT id, campaign, scenario_name, scenario_path, scenario_sha256, effective_yaml, "
        "seed, build, verdict, failure, repro, end_ns, events, trace_hash, converged_ns, "
        "last_fault_end_ns, children_count, lag_count, lag_p50_ns, lag_p90_ns, lag_p99_ns, "
        "lag_max_ns FROM runs ORDER BY id",
        "1|check scenarios/ci|ring|scenarios/ring.yaml|" TST_SHA "|" TST_YAML
        "|18446744073709551614|distrosim 0.1.0 (abc1234)|fail|converged_within: 30s|"
        "distrosim run scenarios/ring.yaml --seed 18446744073709551614|120000000000|123456|"
        "8000000000000001|NULL|60000000000|18|42|1000000|5000000|20000000|31000000\n"
        "2|NULL|bare|NULL|NULL|NULL|0|NULL|pass|NULL|NULL|1000000000|1|0000000000000000|"
        "500000000|NULL|0|0|NULL|NULL|NULL|NULL\n"
        "3|NULL|bare|NULL|NULL|NULL|0|NULL|pass|NULL|NULL|1000000000|1|0000000000000000|"
        "500000000|NULL|0|0|NULL|NULL|NULL|NULL\n");
    /* The run's convergence: never, with its reason, or a number. */
    tst_query_eq(db, "SELECT id, converge_anchor_ns, convergence_ns, convergence_never FROM runs ORDER BY id",
                 "1|60000000000|NULL|not converged at the end of the run\n2|0|0|NULL\n3|0|0|NULL\n");
    /* The u64s survive as exact text; times are integers. */
    tst_query_eq(db, "SELECT typeof(seed), typeof(trace_hash), typeof(end_ns), typeof(events),"
                     " typeof(converged_ns) FROM runs WHERE id = 1 ORDER BY id",
                 "text|text|integer|integer|null\n");
    /* Text affinity: small integer literals compare as text; a literal above
     * INT64_MAX would be parsed as REAL, so readers quote big seeds. */
    tst_query_eq(db, "SELECT id FROM runs WHERE seed = '18446744073709551614' ORDER BY id", "1\n");
    tst_query_eq(db, "SELECT id FROM runs WHERE seed = 0 ORDER BY id", "2\n3\n");
    tst_query_eq(db, "SELECT run_id, key, value FROM run_params ORDER BY id",
                 "1|cluster.distro.verify_interval|2s\n1|network.loss|1%\n");
    tst_query_eq(db, "SELECT run_id, kind, node, key, start_ns, end_ns FROM windows ORDER BY id",
                 "1|lost|1|svc-a|10000000000|12000000000\n"
                 "1|divergent|-1|NULL|30000000000|NULL\n"
                 "1|ownership_multi|2|svc-b|40000000000|40000000000\n");
    tst_query_eq(db, "SELECT run_id, fault_index, fault_end_ns, converged_ns FROM convergences "
                     "ORDER BY id",
                 "1|0|20000000000|25000000000\n1|1|60000000000|NULL\n");
    tst_query_eq(db, "SELECT run_id, node, name, value FROM counters ORDER BY id",
                 "1|0|sync_sent|17\n1|-1|verify_failed|9223372036854775807\n");
    tst_query_eq(db, "SELECT run_id, at_ns, node, up, keys, instances, owned_keys, healthy_view,"
                     " divergent_keys FROM samples ORDER BY id",
                 "1|0|0|1|100|200|30|3|7\n"
                 "1|1000000000|1|0|101|201|31|3|7\n"
                 "1|2000000000|2|1|102|202|32|3|7\n");
    tst_query_eq(db, "SELECT run_id, src, dst, type, sent, delivered, duplicated, bytes_sent, "
                     "bytes_delivered, dropped_loss, dropped_partition, dropped_receiver_down, "
                     "dropped_receiver_restarted, dropped_late_response, "
                     "dropped_caller_restarted FROM msgstats ORDER BY id",
                 "1|0|1|DISTRO_SYNC|1|2|3|4|5|6|7|8|9|10|11\n"
                 "1|1|0|VERIFY|9223372036854775807|0|0|0|0|0|0|0|0|0|0\n");
    tst_query_eq(db, "SELECT run_id, fault_index, kind, description, start_ns, end_ns FROM faults"
                     " ORDER BY id",
                 "1|0|partition|split {0} from {1,2}|10000000000|20000000000\n"
                 "1|1|crash|NULL|50000000000|NULL\n");
    tst_query_eq(db, "SELECT run_id, name, bound, observed, ok FROM expects ORDER BY id",
                 "1|converged_within|30s|NULL|0\n1|no_lost_keys|0|0|1\n");
    tst_assert_whole_and_sound(db);

    /* foreign_keys=ON: deleting a run deletes its children. */
    TST_OK(rpt_db_exec_rows(db, "DELETE FROM runs WHERE id = 1", NULL, NULL, &err));
    ck_assert_int_eq(tst_count_all_rows(db), 2);
    free(d);
    rpt_db_close(db);
    free(path);
    tst_dir_remove(&dir);
}
END_TEST

/* ========================================================================
 * Versions
 * ======================================================================== */

START_TEST(test_migrate_v1)
{
    bool reverse = _i == 1;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *old_path = tst_dir_file(&dir, "v1.db");
    char *new_path = tst_dir_file(&dir, "new.db");
    tst_make_db(old_path, true, TST_V1_RUN_SQL, 1);
    ck_assert_int_eq(tst_raw_user_version(old_path), 1);

    rpt_db *db = tst_open(old_path, reverse);
    tst_query_eq(db, "PRAGMA user_version", "6\n");
    tst_query_eq(db, "SELECT id, campaign, scenario_name, seed, verdict, end_ns, events, "
                     "trace_hash, children_count, lag_count, lag_p50_ns, lag_p90_ns, lag_p99_ns,"
                     " lag_max_ns FROM runs ORDER BY id",
                 "1|old|ring|7|pass|5000|10|00000000000000ff|1|NULL|NULL|NULL|NULL|NULL\n");
    tst_query_eq(db, "SELECT run_id, kind, node, key, start_ns, end_ns FROM windows ORDER BY id",
                 "1|lost|0|k|1|2\n");
    tst_query_eq(db, "SELECT count(*) FROM run_params", "0\n");
    tst_assert_whole_and_sound(db);

    /* A new run goes in with the version-2 parts. */
    tst_run_data *d = calloc(1, sizeof *d);
    ck_assert_ptr_nonnull(d);
    tst_run_data_init(d, 2);
    int64_t id = 0;
    TST_OK(rpt_db_write_run(db, &d->run, &id, &err));
    ck_assert_int_eq(id, 2);
    tst_query_eq(db, "SELECT run_id, key FROM run_params ORDER BY id",
                 "2|cluster.distro.verify_interval\n2|network.loss\n");
    tst_query_eq(db, "SELECT id, lag_count, lag_max_ns FROM runs ORDER BY id",
                 "1|NULL|NULL\n2|42|31000000\n");
    tst_assert_whole_and_sound(db);

    /* A migrated file has exactly the schema of a new one: a new file also
     * starts at version 1 and takes the same migration. */
    rpt_db *fresh = tst_open(new_path, reverse);
    static const char schema_sql[] =
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name";
    char *migrated_schema = tst_query(db, schema_sql);
    char *fresh_schema = tst_query(fresh, schema_sql);
    ck_assert_str_eq(migrated_schema, fresh_schema);
    free(migrated_schema);
    free(fresh_schema);
    rpt_db_close(fresh);
    rpt_db_close(db);
    ck_assert_int_eq(tst_raw_user_version(old_path), 6);
    free(d);
    free(old_path);
    free(new_path);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_newer_version_rejected)
{
    (void)_i;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *path = tst_dir_file(&dir, "v7.db");
    tst_make_db(path, true, NULL, 7);
    rpt_db *db = NULL;
    TST_ERR(rpt_db_open(path, &db, &err), SIM_ERR_REPORT);
    ck_assert_ptr_null(db);
    ck_assert_str_eq(err.message, "database schema version 7 is newer than this build (6)");
    ck_assert_str_eq(err.where, "rpt_db_open");
    ck_assert_int_eq(tst_raw_user_version(path), 7);        /* untouched */
    free(path);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_foreign_files_rejected)
{
    (void)_i;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    rpt_db *db = NULL;

    /* Some other program's SQLite file: refused, and no table added. */
    char *foreign = tst_dir_file(&dir, "foreign.db");
    tst_make_db(foreign, false, "CREATE TABLE notes (body TEXT)", 0);
    TST_ERR(rpt_db_open(foreign, &db, &err), SIM_ERR_REPORT);
    ck_assert_ptr_null(db);
    ck_assert_ptr_nonnull(strstr(err.message, "is not a distrosim database"));
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(foreign, &h), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master", -1, &stmt, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(stmt, 0), 1);
    ck_assert_int_eq(sqlite3_finalize(stmt), SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);

    /* Not SQLite at all. */
    char *text = tst_dir_file(&dir, "notes.txt");
    FILE *f = fopen(text, "w");
    ck_assert_ptr_nonnull(f);
    fputs("this is not a database, it is a text file long enough to have a header\n", f);
    ck_assert_int_eq(fclose(f), 0);
    TST_ERR(rpt_db_open(text, &db, &err), SIM_ERR_REPORT);
    ck_assert_ptr_null(db);
    ck_assert_ptr_nonnull(strstr(err.message, "not a database"));
    free(foreign);
    free(text);
    tst_dir_remove(&dir);
}
END_TEST


/* The whole file, to compare bytes before and after (free). */
static char *tst_file_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char buf[4096];
    size_t n;
    size_t total = 0;
    char *data = NULL;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        data = realloc(data, total + n);
        ck_assert_ptr_nonnull(data);
        memcpy(data + total, buf, n);
        total += n;
    }
    ck_assert_int_eq(fclose(f), 0);
    *len = total;
    return data;
}

static bool tst_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A file rpt_db_open refuses is left exactly as it was: no WAL switch, no
 * table added, not even a -wal beside it. */
static void tst_assert_refused_untouched(const tst_dir *dir, const char *name, bool v1_schema,
                                         const char *extra_sql, int user_version)
{
    char *path = tst_dir_file(dir, name);
    tst_make_db(path, v1_schema, extra_sql, user_version);
    size_t before_len = 0, after_len = 0;
    char *before = tst_file_bytes(path, &before_len);
    sim_error err;
    rpt_db *db = NULL;
    TST_ERR(rpt_db_open(path, &db, &err), SIM_ERR_REPORT);
    ck_assert_ptr_null(db);
    TST_ERR(rpt_db_open_readonly(path, &db, &err), SIM_ERR_REPORT);
    ck_assert_ptr_null(db);
    char *after = tst_file_bytes(path, &after_len);
    ck_assert_msg(before_len == after_len && memcmp(before, after, before_len) == 0, "%s changed", name);
    char wal[512];
    snprintf(wal, sizeof wal, "%s-wal", path);
    ck_assert_msg(!tst_exists(wal), "%s-wal created", name);
    free(before);
    free(after);
    free(path);
}

START_TEST(test_refused_files_untouched)
{
    (void)_i;
    tst_dir dir;
    tst_dir_make(&dir);
    tst_assert_refused_untouched(&dir, "future.db", true, NULL, 7);
    tst_assert_refused_untouched(&dir, "negative.db", false, "CREATE TABLE notes (body TEXT)", -1);
    tst_assert_refused_untouched(&dir, "negative-ours.db", true, NULL, -1);
    tst_assert_refused_untouched(&dir, "foreign0.db", false, "CREATE TABLE notes (body TEXT)", 0);
    tst_assert_refused_untouched(&dir, "foreign2.db", false, "CREATE TABLE notes (body TEXT)", 2);
    tst_dir_remove(&dir);
}
END_TEST

/* Read-only: queries work, writes are refused, and the file (a WAL file at
 * rest, and a version-1 file read through the stand-ins) is left byte for
 * byte as it was, with no -wal or -shm created. */
START_TEST(test_open_readonly)
{
    bool reverse = _i == 1;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *path = tst_dir_file(&dir, "runs.db");
    char *wal = tst_dir_file(&dir, "runs.db-wal");
    char *shm = tst_dir_file(&dir, "runs.db-shm");
    rpt_db *db = tst_open(path, reverse);
    rpt_run run = tst_bare_run(5);
    TST_OK(rpt_db_write_run(db, &run, NULL, &err));
    rpt_db_close(db);
    ck_assert(!tst_exists(wal));
    size_t before_len = 0, after_len = 0;
    char *before = tst_file_bytes(path, &before_len);

    TST_OK(rpt_db_open_readonly(path, &db, &err));
    rpt_db_set_reverse_unordered(db, reverse);
    tst_query_eq(db, "SELECT seed, verdict FROM runs ORDER BY id", "5|pass\n");
    TST_ERR(rpt_db_write_run(db, &run, NULL, &err), SIM_ERR_INVALID);
    ck_assert(!tst_exists(wal));
    ck_assert(!tst_exists(shm));
    rpt_db_close(db);
    char *after = tst_file_bytes(path, &after_len);
    ck_assert(before_len == after_len && memcmp(before, after, before_len) == 0);
    ck_assert(!tst_exists(wal));
    ck_assert(!tst_exists(shm));
    free(before);
    free(after);

    /* Version 1: read as version 2 (empty lag columns and run_params), not migrated. */
    char *old_path = tst_dir_file(&dir, "v1.db");
    tst_make_db(old_path, true, TST_V1_RUN_SQL, 1);
    before = tst_file_bytes(old_path, &before_len);
    TST_OK(rpt_db_open_readonly(old_path, &db, &err));
    rpt_db_set_reverse_unordered(db, reverse);
    tst_query_eq(db, "SELECT id, seed, lag_count, lag_max_ns FROM runs ORDER BY id", "1|7|NULL|NULL\n");
    tst_query_eq(db, "SELECT count(*) FROM run_params", "0\n");
    rpt_db_close(db);
    after = tst_file_bytes(old_path, &after_len);
    ck_assert(before_len == after_len && memcmp(before, after, before_len) == 0);
    ck_assert_int_eq(tst_raw_user_version(old_path), 1);

    /* An empty or missing file is not a database to read. */
    char *missing = tst_dir_file(&dir, "missing.db");
    TST_ERR(rpt_db_open_readonly(missing, &db, &err), SIM_ERR_IO);
    ck_assert(!tst_exists(missing));
    free(before);
    free(after);
    free(missing);
    free(old_path);
    free(path);
    free(wal);
    free(shm);
    tst_dir_remove(&dir);
}
END_TEST

/* ========================================================================
 * Errors
 * ======================================================================== */

START_TEST(test_open_bad_paths)
{
    (void)_i;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    rpt_db *db = NULL;

    /* A directory. */
    TST_ERR(rpt_db_open(dir.path, &db, &err), SIM_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, dir.path));
    ck_assert_ptr_null(db);

    /* A file in a directory that does not exist (and cannot be created). */
    char *missing = tst_dir_file(&dir, "no-such-dir/runs.db");
    TST_ERR(rpt_db_open(missing, &db, &err), SIM_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "cannot open"));
    ck_assert_ptr_null(db);
    /* A path through a regular file: unwritable even for root. */
    char *plain = tst_dir_file(&dir, "plain");
    FILE *f = fopen(plain, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fclose(f), 0);
    char *through = tst_dir_file(&dir, "plain/runs.db");
    TST_ERR(rpt_db_open(through, &db, &err), SIM_ERR_IO);
    ck_assert_ptr_null(db);

    TST_ERR(rpt_db_open("", &db, &err), SIM_ERR_INVALID);
    TST_ERR(rpt_db_open(NULL, &db, &err), SIM_ERR_INVALID);
    ck_assert_ptr_null(db);
    free(missing);
    free(plain);
    free(through);
    tst_dir_remove(&dir);
}
END_TEST

/* Each case breaks one thing in an otherwise valid run; the message must
 * name it. */
static const char *tst_break_run(tst_run_data *d, int which)
{
    rpt_run *r = &d->run;
    switch (which) {
    case 0: r->scenario_name = NULL; return "scenario_name is NULL";
    case 1: r->verdict = NULL; return "verdict is NULL";
    case 2: r->verdict = "maybe"; return "verdict is \"maybe\"";
    case 3: d->windows[1].kind = "purple"; return "windows[1].kind";
    case 4: d->windows[0].kind = NULL; return "windows[0].kind";
    case 5: d->counters[1].value = (uint64_t)INT64_MAX + 1; return "counters[1]";
    case 6: r->samples = NULL; return "samples is NULL";
    case 7: d->windows[0].end_ns = d->windows[0].start_ns - 1; return "windows[0] ends before";
    case 8: r->end_ns = SIM_TIME_NEVER; return "end_ns";
    case 9: d->params[1].value = NULL; return "params[1].value";
    case 10: d->msgstats[0].dropped_caller_restarted = UINT64_MAX; return "msgstats[0]";
    case 11: d->faults[0].kind = NULL; return "faults[0].kind";
    case 12: d->expects[1].name = NULL; return "expects[1].name";
    case 13: d->counters[0].name = NULL; return "counters[0].name";
    case 14: d->samples[2].at_ns = SIM_TIME_NEVER; return "samples[2].at_ns";
    case 15: r->events = UINT64_MAX; return "events";
    case 16: d->windows[2].node = -2; return "windows[2].node";
    case 17: d->msgstats[1].type = NULL; return "msgstats[1].type";
    case 18: r->lag.p99_ns = (sim_time_ns)INT64_MAX + 1; return "lag percentile";
    case 19: d->faults[0].end_ns = 0; return "faults[0] ends before";
    case 20: r->convergence_never = NULL; return "convergence_never gives no reason";
    case 21: r->convergence_ns = SIM_S; return "convergence_never is set but convergence_ns is a number";
    default: return NULL;
    }
}

START_TEST(test_invalid_run_rejected)
{
    bool reverse = _i == 1;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *path = tst_dir_file(&dir, "runs.db");
    rpt_db *db = tst_open(path, reverse);
    tst_run_data *d = calloc(1, sizeof *d);
    ck_assert_ptr_nonnull(d);
    int cases = 0;
    for (int which = 0; which < 100; which++) {
        tst_run_data_init(d, 3);
        const char *want = tst_break_run(d, which);
        if (want == NULL) break;
        cases++;
        int64_t id = -5;
        TST_ERR(rpt_db_write_run(db, &d->run, &id, &err), SIM_ERR_INVALID);
        ck_assert_msg(strstr(err.message, want) != NULL, "case %d: \"%s\" lacks \"%s\"", which,
                      err.message, want);
        ck_assert_int_eq(id, -5);                              /* not set on failure */
        ck_assert_int_eq(tst_count_all_rows(db), 0);           /* nothing written */
    }
    ck_assert_int_eq(cases, 22);
    TST_ERR(rpt_db_write_run(db, NULL, NULL, &err), SIM_ERR_INVALID);

    /* A failure inside SQLite, after the run row and a parameter are in:
     * the duplicate key breaks UNIQUE (run_id, key) and the whole run is
     * rolled back. */
    tst_run_data_init(d, 3);
    d->params[1].key = d->params[0].key;
    TST_ERR(rpt_db_write_run(db, &d->run, NULL, &err), SIM_ERR_REPORT);
    ck_assert_ptr_nonnull(strstr(err.message, "UNIQUE constraint failed"));
    ck_assert_ptr_nonnull(strstr(err.message, "run_params"));
    ck_assert_int_eq(tst_count_all_rows(db), 0);

    /* The handle is still good. */
    tst_run_data_init(d, 3);
    int64_t id = 0;
    TST_OK(rpt_db_write_run(db, &d->run, &id, &err));
    ck_assert_int_eq(id, 1);
    ck_assert_int_eq(tst_count_all_rows(db), 1 + 18);
    tst_assert_whole_and_sound(db);
    free(d);
    rpt_db_close(db);
    free(path);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_exec_rows_errors)
{
    bool reverse = _i == 1;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *path = tst_dir_file(&dir, "runs.db");
    rpt_db *db = tst_open(path, reverse);
    tst_text text = { 0 };

    TST_ERR(rpt_db_exec_rows(db, "SELEKT 1", tst_collect, &text, &err), SIM_ERR_REPORT);
    ck_assert_ptr_nonnull(strstr(err.message, "syntax error"));
    TST_ERR(rpt_db_exec_rows(db, "SELECT * FROM no_such_table ORDER BY 1", tst_collect, &text,
                             &err), SIM_ERR_REPORT);
    ck_assert_ptr_nonnull(strstr(err.message, "no such table"));
    TST_ERR(rpt_db_exec_rows(db, "SELECT 1; SELECT 2", tst_collect, &text, &err), SIM_ERR_INVALID);
    TST_ERR(rpt_db_exec_rows(db, "", tst_collect, &text, &err), SIM_ERR_INVALID);
    TST_ERR(rpt_db_exec_rows(db, " -- only a comment\n", tst_collect, &text, &err),
            SIM_ERR_INVALID);
    TST_ERR(rpt_db_exec_rows(db, NULL, tst_collect, &text, &err), SIM_ERR_INVALID);
    ck_assert_ptr_null(text.data);                             /* no row delivered */

    /* Too wide: RPT_DB_EXEC_COLUMNS_MAX + 1 columns. */
    tst_text wide = { 0 };
    tst_text_append(&wide, "SELECT 0");
    for (int c = 1; c <= RPT_DB_EXEC_COLUMNS_MAX; c++) tst_text_append(&wide, ", 0");
    TST_ERR(rpt_db_exec_rows(db, wide.data, tst_collect, &text, &err), SIM_ERR_INVALID);
    free(wide.data);

    /* A statement that leaves a transaction open is refused and undone. */
    TST_ERR(rpt_db_exec_rows(db, "BEGIN", NULL, NULL, &err), SIM_ERR_INVALID);
    rpt_run bare = tst_bare_run(1);
    TST_OK(rpt_db_write_run(db, &bare, NULL, &err));
    tst_query_eq(db, "SELECT id, seed FROM runs ORDER BY id", "1|1\n");
    tst_query_eq(db, "SELECT 1;  ", "1\n");                     /* trailing ; is fine */
    rpt_db_close(db);
    free(path);
    tst_dir_remove(&dir);
}
END_TEST

/* ========================================================================
 * Merge
 * ======================================================================== */

static void tst_assert_same_run(rpt_db *a, int64_t a_id, rpt_db *b, int64_t b_id)
{
    char *left = tst_dump_run(a, a_id);
    char *right = tst_dump_run(b, b_id);
    ck_assert_msg(strcmp(left, right) == 0, "run %" PRId64 " vs %" PRId64 ":\n%s---\n%s", a_id,
                  b_id, left, right);
    free(left);
    free(right);
}

/* Schema 4: what readers saw goes in with its run, exactly, is counted in
 * children_count, is refused when malformed, and merges with its run. */
START_TEST(test_client_reads)
{
    bool reverse = _i == 1;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *path = tst_dir_file(&dir, "reads.db");
    char *other_path = tst_dir_file(&dir, "other.db");
    rpt_client_reads reads[2] = {
        { .key = "DEFAULT_GROUP@@svc-0", .source = "query", .reads = 120, .failed = 3, .empty_reads = 4,
          .short_reads = 5, .stale_reads = 6, .empty_ns = 7 * SIM_S, .short_ns = 8 * SIM_S, .stale_ns = 0 },
        { .key = "DEFAULT_GROUP@@svc-0", .source = "view", .reads = 9, .empty_reads = 1, .empty_ns = 1500 * SIM_MS },
    };
    rpt_client_anomaly anomalies[2] = {
        { .kind = "empty", .source = "view", .reader = 3, .key = "DEFAULT_GROUP@@svc-0", .start_ns = 50 * SIM_S,
          .end_ns = 51500 * SIM_MS },
        { .kind = "stale", .source = "query", .reader = -1, .key = "DEFAULT_GROUP@@svc-0", .start_ns = 90 * SIM_S,
          .end_ns = SIM_TIME_NEVER },
    };
    rpt_run run = tst_bare_run(5);
    run.client_reads = reads;
    run.client_reads_count = 2;
    run.client_anomalies = anomalies;
    run.client_anomalies_count = 2;
    rpt_db *db = tst_open(path, reverse);
    int64_t id = 0;
    TST_OK(rpt_db_write_run(db, &run, &id, &err));
    tst_query_eq(db, "SELECT children_count FROM runs ORDER BY id", "4\n");
    tst_query_eq(db, "SELECT key, source, reads, failed, empty_reads, short_reads, stale_reads, empty_ns, short_ns, "
                     "stale_ns FROM client_reads ORDER BY id",
                 "DEFAULT_GROUP@@svc-0|query|120|3|4|5|6|7000000000|8000000000|0\n"
                 "DEFAULT_GROUP@@svc-0|view|9|0|1|0|0|1500000000|0|0\n");
    tst_query_eq(db, "SELECT kind, source, reader, key, start_ns, end_ns FROM client_anomalies ORDER BY id",
                 "empty|view|3|DEFAULT_GROUP@@svc-0|50000000000|51500000000\n"
                 "stale|query|NULL|DEFAULT_GROUP@@svc-0|90000000000|NULL\n");
    tst_assert_whole_and_sound(db);
    /* Malformed rows are refused before anything is written. */
    anomalies[0].kind = "lost";
    TST_ERR(rpt_db_write_run(db, &run, NULL, &err), SIM_ERR_INVALID);
    anomalies[0].kind = "empty";
    anomalies[0].end_ns = 49 * SIM_S;
    TST_ERR(rpt_db_write_run(db, &run, NULL, &err), SIM_ERR_INVALID);
    anomalies[0].end_ns = 51500 * SIM_MS;
    reads[1].source = "push";
    TST_ERR(rpt_db_write_run(db, &run, NULL, &err), SIM_ERR_INVALID);
    reads[1].source = "view";
    ck_assert_int_eq(tst_count_all_rows(db), 5);
    /* Merged with its run. */
    rpt_db *other = tst_open(other_path, reverse);
    rpt_run bare = tst_bare_run(1);
    TST_OK(rpt_db_write_run(other, &bare, NULL, &err));
    TST_OK(rpt_db_merge(other, path, &err));
    tst_assert_same_run(db, id, other, 2);
    tst_query_eq(other, "SELECT run_id, kind FROM client_anomalies ORDER BY id", "2|empty\n2|stale\n");
    tst_assert_whole_and_sound(other);
    rpt_db_close(other);
    rpt_db_close(db);
    free(path);
    free(other_path);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_merge)
{
    bool reverse = _i == 1;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *a_path = tst_dir_file(&dir, "a.db");
    char *b_path = tst_dir_file(&dir, "b.db");
    char *c_path = tst_dir_file(&dir, "c.db");
    char *v1_path = tst_dir_file(&dir, "v1.db");
    tst_run_data *d = calloc(1, sizeof *d);
    ck_assert_ptr_nonnull(d);

    rpt_db *a = tst_open(a_path, reverse);
    tst_run_data_init(d, 3);
    d->run.campaign = "shard-a";
    TST_OK(rpt_db_write_run(a, &d->run, NULL, &err));
    tst_run_data_init(d, 5);
    d->run.seed = 2;
    TST_OK(rpt_db_write_run(a, &d->run, NULL, &err));
    rpt_db *b = tst_open(b_path, reverse);
    tst_run_data_init(d, 1);
    d->run.campaign = "shard-b";
    TST_OK(rpt_db_write_run(b, &d->run, NULL, &err));
    rpt_db *c = tst_open(c_path, reverse);
    rpt_run bare = tst_bare_run(99);
    TST_OK(rpt_db_write_run(c, &bare, NULL, &err));
    tst_make_db(v1_path, true, TST_V1_RUN_SQL, 1);

    TST_OK(rpt_db_merge(c, a_path, &err));
    TST_OK(rpt_db_merge(c, b_path, &err));
    TST_OK(rpt_db_merge(c, v1_path, &err));
    tst_query_eq(c, "SELECT id, campaign, seed, children_count FROM runs ORDER BY id",
                 "1|NULL|99|0\n2|shard-a|18446744073709551614|18\n3|check scenarios/ci|2|20\n"
                 "4|shard-b|18446744073709551614|16\n5|old|7|1\n");
    tst_assert_same_run(a, 1, c, 2);
    tst_assert_same_run(a, 2, c, 3);
    tst_assert_same_run(b, 1, c, 4);
    ck_assert_int_eq(tst_raw_user_version(v1_path), 1);       /* merge only reads it */
    rpt_db *v1 = tst_open(v1_path, reverse);                   /* migrates: lag NULL, no params */
    tst_assert_same_run(v1, 1, c, 5);
    rpt_db_close(v1);
    tst_assert_whole_and_sound(c);
    /* Child ids follow the source order within each run. */
    tst_query_eq(c, "SELECT run_id, at_ns FROM samples WHERE run_id = 3 ORDER BY id",
                 "3|0\n3|1000000000\n3|2000000000\n3|3000000000\n3|4000000000\n");

    /* Refusals leave `c` as it was and usable. */
    int64_t rows = tst_count_all_rows(c);
    char *missing = tst_dir_file(&dir, "missing.db");
    TST_ERR(rpt_db_merge(c, missing, &err), SIM_ERR_IO);
    ck_assert_int_eq(access(missing, F_OK), -1);              /* not created by ATTACH */
    TST_ERR(rpt_db_merge(c, c_path, &err), SIM_ERR_INVALID);
    TST_ERR(rpt_db_merge(c, dir.path, &err), SIM_ERR_IO);
    TST_ERR(rpt_db_merge(c, NULL, &err), SIM_ERR_INVALID);
    char *foreign = tst_dir_file(&dir, "foreign.db");
    tst_make_db(foreign, false, "CREATE TABLE notes (body TEXT)", 0);
    TST_ERR(rpt_db_merge(c, foreign, &err), SIM_ERR_REPORT);
    ck_assert_ptr_nonnull(strstr(err.message, "is not a distrosim database"));
    char *newer = tst_dir_file(&dir, "v7.db");
    tst_make_db(newer, true, NULL, 7);
    TST_ERR(rpt_db_merge(c, newer, &err), SIM_ERR_REPORT);
    ck_assert_ptr_nonnull(strstr(err.message,
                                 "database schema version 7 is newer than this build (6)"));
    ck_assert_int_eq(tst_count_all_rows(c), rows);
    TST_OK(rpt_db_merge(c, b_path, &err));                   /* detached after each refusal */
    tst_query_eq(c, "SELECT id, campaign FROM runs WHERE id > 5 ORDER BY id", "6|shard-b\n");
    tst_assert_same_run(b, 1, c, 6);

    rpt_db_close(a);
    rpt_db_close(b);
    rpt_db_close(c);
    free(d);
    free(a_path);
    free(b_path);
    free(c_path);
    free(v1_path);
    free(missing);
    free(foreign);
    free(newer);
    tst_dir_remove(&dir);
}
END_TEST

/* Writes job `job` of a 7-job campaign: a run with children whose seed
 * and sample count depend on the job, so runs and children all differ. */
static void tst_write_job(rpt_db *db, tst_run_data *d, int64_t campaign_id, uint64_t job)
{
    sim_error err;
    tst_run_data_init(d, (uint32_t)job);
    d->run.seed = 100 + job;
    d->run.job = job;
    d->run.campaign_id = campaign_id;
    TST_OK(rpt_db_write_run(db, &d->run, NULL, &err));
}

/* The shards of one campaign, merged in any order, come back in its job
 * order: the same runs, with the same ids and child ids, as the campaign
 * written whole; other runs keep their place. */
START_TEST(test_merge_in_job_order)
{
    bool reverse = _i == 1;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    tst_run_data *d = calloc(1, sizeof *d);
    ck_assert_ptr_nonnull(d);
    enum { JOBS = 7, SHARDS = 3 };
    char *whole_path = tst_dir_file(&dir, "whole.db");
    rpt_db *whole = tst_open(whole_path, reverse);
    rpt_campaign rec = { .command_line = "distrosim check s", .started_unix_ms = 1, .runs_planned = JOBS,
                         .plan = "p1" };
    int64_t cid = 0;
    TST_OK(rpt_db_campaign_begin(whole, &rec, &cid, &err));
    for (uint64_t j = 1; j <= JOBS; j++) tst_write_job(whole, d, cid, j);

    char *shard_path[SHARDS];
    for (int k = 1; k <= SHARDS; k++) {
        char name[32];
        snprintf(name, sizeof name, "s%d.db", k);
        shard_path[k - 1] = tst_dir_file(&dir, name);
        rpt_db *s = tst_open(shard_path[k - 1], reverse);
        rpt_campaign r = rec;
        r.shard_index = (uint64_t)k;
        r.shard_count = SHARDS;
        TST_OK(rpt_db_campaign_begin(s, &r, &cid, &err));
        for (uint64_t j = (uint64_t)k; j <= JOBS; j += SHARDS) tst_write_job(s, d, cid, j);
        rpt_db_close(s);
    }
    /* An unrelated run first, then the shards out of order. */
    char *other_path = tst_dir_file(&dir, "other.db");
    rpt_db *other = tst_open(other_path, reverse);
    rpt_run bare = tst_bare_run(99);
    TST_OK(rpt_db_write_run(other, &bare, NULL, &err));
    rpt_db_close(other);
    char *scratch_path = tst_dir_file(&dir, "scratch.db");
    rpt_db *scratch = tst_open(scratch_path, reverse);
    TST_OK(rpt_db_merge(scratch, other_path, &err));
    TST_OK(rpt_db_merge(scratch, shard_path[1], &err));
    TST_OK(rpt_db_merge(scratch, shard_path[2], &err));
    TST_OK(rpt_db_merge(scratch, shard_path[0], &err));
    tst_query_eq(scratch, "SELECT group_concat(job, ',') FROM (SELECT coalesce(job, 0) AS job FROM runs ORDER BY id)",
                 "0,2,5,3,6,1,4,7\n");
    rpt_db_close(scratch);

    char *out_path = tst_dir_file(&dir, "out.db");
    rpt_db *out = tst_open(out_path, reverse);
    TST_OK(rpt_db_merge_in_job_order(out, scratch_path, &err));
    tst_query_eq(out, "SELECT id, coalesce(job, 0), seed FROM runs ORDER BY id",
                 "1|0|99\n2|1|101\n3|2|102\n4|3|103\n5|4|104\n6|5|105\n7|6|106\n8|7|107\n");
    for (int64_t j = 1; j <= JOBS; j++) tst_assert_same_run(whole, j, out, j + 1);
    /* Child ids as if the runs had been written in this order: the whole
     * file's, shifted by the bare run's none. */
    static const char child_ids[] = "SELECT group_concat(id || ':' || run_id, ',') FROM (SELECT id, run_id FROM "
                                    "samples ORDER BY id)";
    char *want = tst_query(whole, "SELECT group_concat(id || ':' || (run_id + 1), ',') FROM (SELECT id, run_id "
                                  "FROM samples ORDER BY id)");
    tst_query_eq(out, child_ids, want);
    free(want);
    /* Campaign records keep the scratch file's order, and each run points
     * at the record of its own shard. */
    tst_query_eq(out, "SELECT id, coalesce(shard_index, 0), coalesce(shard_count, 0), plan FROM campaigns ORDER BY id",
                 "1|2|3|p1\n2|3|3|p1\n3|1|3|p1\n");
    tst_query_eq(out, "SELECT count(*) FROM runs r JOIN campaigns c ON c.id = r.campaign_id "
                      "WHERE c.shard_index <> (r.job - 1) % 3 + 1",
                 "0\n");
    tst_query_eq(out, "SELECT count(*) FROM runs WHERE campaign_id IS NULL", "1\n");
    tst_assert_whole_and_sound(out);

    /* A second merge appends after what is there; an older file is
     * refused and changes nothing. */
    int64_t rows = tst_count_all_rows(out);
    char *v1_path = tst_dir_file(&dir, "v1.db");
    tst_make_db(v1_path, true, TST_V1_RUN_SQL, 1);
    TST_ERR(rpt_db_merge_in_job_order(out, v1_path, &err), SIM_ERR_REPORT);
    ck_assert_ptr_nonnull(strstr(err.message, "schema version 1, expected 6"));
    ck_assert_int_eq(tst_count_all_rows(out), rows);
    TST_OK(rpt_db_merge_in_job_order(out, shard_path[1], &err));
    tst_query_eq(out, "SELECT group_concat(job, ',') FROM (SELECT job FROM runs WHERE id > 8 ORDER BY id)", "2,5\n");
    tst_query_eq(out, "SELECT campaign_id FROM runs WHERE id = 9", "4\n");
    tst_assert_whole_and_sound(out);
    rpt_db_close(out);
    rpt_db_close(whole);

    /* Shard and job values are checked before anything is written. */
    rpt_db *bad = tst_open(whole_path, reverse);
    rpt_campaign r = rec;
    r.shard_index = 4;
    r.shard_count = 3;
    TST_ERR(rpt_db_campaign_begin(bad, &r, NULL, &err), SIM_ERR_INVALID);
    r.shard_index = 0;
    TST_ERR(rpt_db_campaign_begin(bad, &r, NULL, &err), SIM_ERR_INVALID);
    rpt_run big = tst_bare_run(1);
    big.job = (uint64_t)INT64_MAX + 1;
    TST_ERR(rpt_db_write_run(bad, &big, NULL, &err), SIM_ERR_INVALID);
    tst_query_eq(bad, "SELECT count(*), (SELECT count(*) FROM campaigns) FROM runs", "7|1\n");
    rpt_db_close(bad);

    for (int k = 0; k < SHARDS; k++) free(shard_path[k]);
    free(whole_path);
    free(other_path);
    free(scratch_path);
    free(out_path);
    free(v1_path);
    free(d);
    tst_dir_remove(&dir);
}
END_TEST

/* ========================================================================
 * Processes: a killed writer, two concurrent writers
 * ======================================================================== */

/* Body of a forked writer: opens `path` itself (a handle never crosses
 * fork) and writes up to `runs_max` runs of 200 child rows each.  Leaves
 * with _exit, so neither Check nor the sanitizers run exit handlers twice;
 * exits early if its parent goes away, so a failed test leaves no writer
 * behind. */
static _Noreturn void tst_writer_main(const char *path, const char *campaign, uint32_t runs_max,
                                      bool reverse)
{
    pid_t parent = getppid();
    sim_error err;
    rpt_db *db = NULL;
    if (rpt_db_open(path, &db, &err) != SIM_OK) {
        fprintf(stderr, "writer %s: %s: %s\n", campaign, err.where, err.message);
        _exit(2);
    }
    rpt_db_set_reverse_unordered(db, reverse);
    tst_run_data *d = calloc(1, sizeof *d);
    if (d == NULL) _exit(3);
    tst_run_data_init(d, TST_BULK_SAMPLES);
    d->run.campaign = campaign;
    for (uint32_t i = 0; i < runs_max && getppid() == parent; i++) {
        d->run.seed = i;
        if (rpt_db_write_run(db, &d->run, NULL, &err) != SIM_OK) {
            fprintf(stderr, "writer %s run %u: %s: %s\n", campaign, i, err.where, err.message);
            _exit(4);
        }
    }
    rpt_db_close(db);
    free(d);
    _exit(0);
}

static pid_t tst_spawn_writer(const char *path, const char *campaign, uint32_t runs_max,
                              bool reverse)
{
    fflush(NULL);                                   /* no buffered output twice */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) tst_writer_main(path, campaign, runs_max, reverse);
    return pid;
}

static void tst_sleep_poll(void)
{
    struct timespec pause = { .tv_sec = 0, .tv_nsec = TST_POLL_SLEEP_NS };
    nanosleep(&pause, NULL);
}

START_TEST(test_sigkill_leaves_whole_runs)
{
    bool reverse = _i == 1;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *path = tst_dir_file(&dir, "runs.db");
    pid_t pid = tst_spawn_writer(path, "killed", UINT32_MAX, reverse);

    /* Both processes may create the file; rpt_db_open serialises that. */
    rpt_db *db = tst_open(path, reverse);
    int64_t committed = 0;
    bool writer_gone = false;
    int status = 0;
    for (uint32_t poll = 0; poll < TST_POLLS_MAX && committed < TST_KILL_AFTER_RUNS; poll++) {
        committed = tst_query_i64(db, "SELECT count(*) FROM runs");
        if (waitpid(pid, &status, WNOHANG) == pid) {
            writer_gone = true;
            break;
        }
        tst_sleep_poll();
    }
    if (!writer_gone) {
        ck_assert_int_eq(kill(pid, SIGKILL), 0);           /* most likely mid-transaction */
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    }
    ck_assert_msg(!writer_gone, "the writer exited by itself, status %d", status);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
    ck_assert_int_ge(committed, TST_KILL_AFTER_RUNS);
    rpt_db_close(db);

    /* A new connection (as the next campaign would open) finds only whole
     * runs, and can go on writing. */
    db = tst_open(path, reverse);
    tst_assert_whole_and_sound(db);
    int64_t runs = tst_query_i64(db, "SELECT count(*) FROM runs");
    ck_assert_int_ge(runs, committed);
    ck_assert_int_eq(tst_query_i64(db, "SELECT count(*) FROM runs WHERE children_count = 200"),
                     runs);
    ck_assert_int_eq(tst_count_all_rows(db), runs * 201);
    rpt_run bare = tst_bare_run(7);
    int64_t id = 0;
    TST_OK(rpt_db_write_run(db, &bare, &id, &err));
    ck_assert_int_eq(id, runs + 1);
    tst_assert_whole_and_sound(db);
    rpt_db_close(db);
    free(path);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_two_writers)
{
    bool reverse = _i == 1;
    tst_dir dir;
    tst_dir_make(&dir);
    char *path = tst_dir_file(&dir, "runs.db");
    /* Neither finds the file ready: both race to create and migrate it. */
    pid_t first = tst_spawn_writer(path, "writer-0", TST_WRITER_RUNS, reverse);
    pid_t second = tst_spawn_writer(path, "writer-1", TST_WRITER_RUNS, reverse);
    int first_status = -1, second_status = -1;
    ck_assert_int_eq(waitpid(first, &first_status, 0), first);
    ck_assert_int_eq(waitpid(second, &second_status, 0), second);
    ck_assert_msg(WIFEXITED(first_status) && WEXITSTATUS(first_status) == 0, "writer-0 status %d",
                  first_status);
    ck_assert_msg(WIFEXITED(second_status) && WEXITSTATUS(second_status) == 0,
                  "writer-1 status %d", second_status);

    rpt_db *db = tst_open(path, reverse);
    tst_query_eq(db, "PRAGMA user_version", "6\n");
    tst_query_eq(db, "SELECT campaign, count(*) FROM runs GROUP BY campaign ORDER BY campaign",
                 "writer-0|50\nwriter-1|50\n");
    tst_assert_whole_and_sound(db);
    ck_assert_int_eq(tst_count_all_rows(db), 100 * 201);
    /* Each writer's runs are in the order it wrote them. */
    tst_text want = { 0 };
    for (uint32_t i = 0; i < TST_WRITER_RUNS; i++) {
        char line[16];
        snprintf(line, sizeof line, "%u\n", i);
        tst_text_append(&want, line);
    }
    for (int w = 0; w < 2; w++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT seed FROM runs WHERE campaign = 'writer-%d' ORDER BY id",
                 w);
        tst_query_eq(db, sql, want.data);
    }
    free(want.data);
    rpt_db_close(db);
    free(path);
    tst_dir_remove(&dir);
}
END_TEST

/* Campaign records: begin and end, runs pointing at them, refusals, the
 * merge (campaign ids shift with the runs that point at them), and an
 * older file read through the empty stand-in. */
START_TEST(test_campaign_records)
{
    bool reverse = _i == 1;
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *a_path = tst_dir_file(&dir, "a.db");
    char *b_path = tst_dir_file(&dir, "b.db");
    char *v1_path = tst_dir_file(&dir, "v1.db");
    rpt_db *a = tst_open(a_path, reverse);
    rpt_campaign rec = { .command_line = "distrosim run 'x y.yaml'", .build = "b1", .started_unix_ms = 1000,
                         .runs_planned = 3 };
    int64_t cid = 0;
    TST_OK(rpt_db_campaign_begin(a, &rec, &cid, &err));
    ck_assert_int_eq(cid, 1);
    tst_query_eq(a, "SELECT id, command_line, build, started_unix_ms, ended_unix_ms, state, signal, runs_planned, "
                    "runs_done FROM campaigns ORDER BY id",
                 "1|distrosim run 'x y.yaml'|b1|1000|NULL|running|NULL|3|NULL\n");
    rpt_run run = tst_bare_run(4);
    run.campaign_id = cid;
    TST_OK(rpt_db_write_run(a, &run, NULL, &err));
    rpt_campaign_end end = { .ended_unix_ms = 2000, .signal = "SIGINT", .runs_done = 1, .passed = 1 };
    TST_OK(rpt_db_campaign_end(a, cid, &end, &err));
    tst_query_eq(a, "SELECT ended_unix_ms, state, signal, runs_done, passed, failed, errors FROM campaigns",
                 "2000|interrupted|SIGINT|1|1|0|0\n");
    /* Refusals write nothing. */
    TST_ERR(rpt_db_campaign_end(a, 9, &end, &err), SIM_ERR_INVALID);
    rpt_campaign no_line = { .command_line = NULL };
    TST_ERR(rpt_db_campaign_begin(a, &no_line, NULL, &err), SIM_ERR_INVALID);
    run.campaign_id = -1;
    TST_ERR(rpt_db_write_run(a, &run, NULL, &err), SIM_ERR_INVALID);
    run.campaign_id = 42;                                    /* no such campaign: the foreign key refuses */
    TST_ERR(rpt_db_write_run(a, &run, NULL, &err), SIM_ERR_REPORT);
    tst_query_eq(a, "SELECT count(*), (SELECT count(*) FROM campaigns) FROM runs", "1|1\n");
    rpt_run bare = tst_bare_run(5);                          /* no campaign: NULL */
    TST_OK(rpt_db_write_run(a, &bare, NULL, &err));
    tst_query_eq(a, "SELECT id, campaign_id FROM runs ORDER BY id", "1|1\n2|NULL\n");

    /* Merge: b has a campaign of its own; a's campaign comes after it and
     * a's runs point at the copy. */
    rpt_db *b = tst_open(b_path, reverse);
    rpt_campaign rec_b = { .command_line = "distrosim check s", .started_unix_ms = 5, .runs_planned = 1 };
    int64_t cid_b = 0;
    TST_OK(rpt_db_campaign_begin(b, &rec_b, &cid_b, &err));
    rpt_run run_b = tst_bare_run(8);
    run_b.campaign_id = cid_b;
    TST_OK(rpt_db_write_run(b, &run_b, NULL, &err));
    TST_OK(rpt_db_merge(b, a_path, &err));
    tst_query_eq(b, "SELECT id, command_line, state FROM campaigns ORDER BY id",
                 "1|distrosim check s|running\n2|distrosim run 'x y.yaml'|interrupted\n");
    tst_query_eq(b, "SELECT id, seed, campaign_id FROM runs ORDER BY id", "1|8|1\n2|4|2\n3|5|NULL\n");
    /* A version-1 source has no campaigns: its runs have none. */
    tst_make_db(v1_path, true, TST_V1_RUN_SQL, 1);
    TST_OK(rpt_db_merge(b, v1_path, &err));
    tst_query_eq(b, "SELECT id, campaign_id FROM runs WHERE id > 3 ORDER BY id", "4|NULL\n");
    tst_assert_whole_and_sound(b);
    rpt_db_close(b);
    rpt_db_close(a);

    /* Read-only, a version-1 file shows no campaigns and runs without one. */
    rpt_db *ro = NULL;
    TST_OK(rpt_db_open_readonly(v1_path, &ro, &err));
    rpt_db_set_reverse_unordered(ro, reverse);
    tst_query_eq(ro, "SELECT count(*) FROM campaigns", "0\n");
    tst_query_eq(ro, "SELECT id, campaign_id FROM runs ORDER BY id", "1|NULL\n");
    TST_ERR(rpt_db_campaign_begin(ro, &rec, NULL, &err), SIM_ERR_INVALID);
    rpt_db_close(ro);
    free(a_path);
    free(b_path);
    free(v1_path);
    tst_dir_remove(&dir);
}
END_TEST

/* ======================================================================== */

static Suite *rpt_db_suite(void)
{
    Suite *s = suite_create("rpt_db");
    /* _i = 0: plain; _i = 1: reverse_unordered_selects on every connection. */
    TCase *schema = tcase_create("schema");
    tcase_set_timeout(schema, 60);
    tcase_add_loop_test(schema, test_open_new_file, 0, 2);
    tcase_add_loop_test(schema, test_write_read_back, 0, 2);
    tcase_add_loop_test(schema, test_migrate_v1, 0, 2);
    tcase_add_loop_test(schema, test_newer_version_rejected, 0, 2);
    tcase_add_loop_test(schema, test_foreign_files_rejected, 0, 2);
    tcase_add_loop_test(schema, test_refused_files_untouched, 0, 2);
    tcase_add_loop_test(schema, test_open_readonly, 0, 2);
    suite_add_tcase(s, schema);

    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 60);
    tcase_add_loop_test(errors, test_open_bad_paths, 0, 2);
    tcase_add_loop_test(errors, test_invalid_run_rejected, 0, 2);
    tcase_add_loop_test(errors, test_exec_rows_errors, 0, 2);
    suite_add_tcase(s, errors);

    TCase *merge = tcase_create("merge");
    tcase_set_timeout(merge, 60);
    tcase_add_loop_test(merge, test_merge, 0, 2);
    tcase_add_loop_test(merge, test_client_reads, 0, 2);
    tcase_add_loop_test(merge, test_campaign_records, 0, 2);
    tcase_add_loop_test(merge, test_merge_in_job_order, 0, 2);
    suite_add_tcase(s, merge);

    TCase *processes = tcase_create("processes");
    tcase_set_timeout(processes, 300);
    tcase_add_loop_test(processes, test_sigkill_leaves_whole_runs, 0, 2);
    tcase_add_loop_test(processes, test_two_writers, 0, 2);
    suite_add_tcase(s, processes);
    return s;
}

int main(void)
{
    return tst_run_suite(rpt_db_suite());
}
