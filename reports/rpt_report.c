/* rpt_report.c: `distrosim report`: the entry points, the markdown and CSV
 * writers, and the helpers every report file shares (text buffers, query
 * results, the one duration formatter).
 *
 * The HTML page is assembled in rpt_html.c with the charts of rpt_svg.c;
 * the space-time diagram reads traces with rpt_trace.c; rpt_fold.c totals
 * the two big child tables (windows, msgstats) in one scan each.  All SQL goes
 * through rpt_db_exec_rows (H18: rpt_db.c is the only file that includes
 * sqlite3.h), and every query ends its ORDER BY in a unique column.
 *
 * Output goes to memory first (html, markdown), then to a new file with a
 * unique name beside OUT ("OUT.XXXXXX", mkstemp), and is renamed into place
 * only when it is complete (rpt_report.h (4)); an OUT that is the database
 * or the trace is refused.  The database is opened read-only. */
#include "rpt_report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpt_escape.h"
#include "rpt_report_int.h"
#include "sim_alloc.h"
#include "sim_assert.h"
#include "sim_duration.h"
#include "sim_vec.h"

/* ========================================================================
 * Text buffer
 * ======================================================================== */

static bool buf_reserve(rpt_buf *b, size_t extra)
{
    if (b->failed) return false;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    if (!SIM_VEC_RESERVE(b->data, b->len, b->cap, extra + 1)) {   /* + 1: the terminating NUL */
        b->failed = true;
        return false;
    }
    return true;
}

void rpt_buf_deinit(rpt_buf *b)
{
    if (b == NULL) return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

void rpt_buf_putn(rpt_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void rpt_buf_put(rpt_buf *b, const char *s)
{
    if (s != NULL) rpt_buf_putn(b, s, strlen(s));
}

void rpt_buf_vprintf(rpt_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    SIM_ASSERT(n >= 0);                              /* only bad formats fail */
    if ((size_t)n < sizeof small) {
        rpt_buf_putn(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n)) return;
    int m = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    SIM_ASSERT(m == n);
    b->len += (size_t)n;
}

void rpt_buf_printf(rpt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rpt_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void rpt_buf_sink(void *sink, const char *s, size_t n)
{
    rpt_buf_putn(sink, s, n);
}

void rpt_buf_html(rpt_buf *b, const char *s)
{
    rpt_esc_html(s, rpt_buf_sink, b);
}

void rpt_buf_sql_str(rpt_buf *b, const char *s)
{
    if (s == NULL) {
        rpt_buf_put(b, "NULL");
        return;
    }
    rpt_buf_put(b, "'");
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {       /* bound: strlen(s) */
        if (*p != '\'') continue;
        rpt_buf_putn(b, run, (size_t)(p - run + 1));
        rpt_buf_put(b, "'");
        run = p + 1;
    }
    rpt_buf_put(b, run);
    rpt_buf_put(b, "'");
}

const char *rpt_buf_str(const rpt_buf *b)
{
    return b->data != NULL ? b->data : "";
}

void rpt_sql(rpt_buf *b, const char *s)
{
    rpt_buf_deinit(b);
    rpt_buf_sql_str(b, s);
}

/* ========================================================================
 * Query results
 * ======================================================================== */

void rpt_rows_deinit(rpt_rows *rows)
{
    if (rows == NULL) return;
    free(rows->cells);
    rpt_buf_deinit(&rows->text);
    memset(rows, 0, sizeof *rows);
}

const char *rpt_cell(const rpt_rows *rows, size_t row, int col)
{
    SIM_ASSERT(row < rows->count);
    SIM_ASSERT(col >= 0 && col < rows->ncols);
    size_t off = rows->cells[row * (size_t)rows->ncols + (size_t)col];
    return off == SIZE_MAX ? NULL : rows->text.data + off;
}

bool rpt_cell_null(const rpt_rows *rows, size_t row, int col)
{
    return rpt_cell(rows, row, col) == NULL;
}

const char *rpt_cell_s(const rpt_rows *rows, size_t row, int col)
{
    const char *s = rpt_cell(rows, row, col);
    return s != NULL ? s : "";
}

int64_t rpt_cell_i64(const rpt_rows *rows, size_t row, int col)
{
    const char *s = rpt_cell(rows, row, col);
    return s == NULL ? 0 : (int64_t)strtoll(s, NULL, 10);
}

typedef struct rows_sink {
    rpt_rows *rows;
    bool failed;
} rows_sink;

static void rows_collect(void *user, int ncols, const char *const *values)
{
    rows_sink *sink = user;
    rpt_rows *r = sink->rows;
    if (sink->failed) return;
    if (r->count == 0 && r->cap == 0) r->ncols = ncols;
    SIM_ASSERT(ncols == r->ncols);
    if (!SIM_VEC_RESERVE(r->cells, r->count * (size_t)ncols, r->cap, (size_t)ncols)) {
        sink->failed = true;
        return;
    }
    for (int c = 0; c < ncols; c++) {
        size_t *cell = &r->cells[r->count * (size_t)ncols + (size_t)c];
        if (values[c] == NULL) {
            *cell = SIZE_MAX;
            continue;
        }
        *cell = r->text.len;
        rpt_buf_putn(&r->text, values[c], strlen(values[c]) + 1);   /* keep the NUL */
    }
    if (r->text.failed) sink->failed = true;
    r->count++;
}

sim_status rpt_fail(rpt_ctx *ctx, sim_status status, const char *where, const char *fmt, ...)
{
    SIM_ASSERT(status != SIM_OK);
    if (ctx->status != SIM_OK) return ctx->status;   /* keep the first error */
    ctx->status = status;
    if (ctx->err != NULL) {
        char message[sizeof ctx->err->message];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        (void)sim_error_set(ctx->err, status, where, "%s", message);
    }
    return status;
}

void rpt_query(rpt_ctx *ctx, rpt_rows *rows, const char *fmt, ...)
{
    rpt_rows_deinit(rows);
    if (ctx->status != SIM_OK) return;
    rpt_buf sql = { 0 };
    va_list ap;
    va_start(ap, fmt);
    rpt_buf_vprintf(&sql, fmt, ap);
    va_end(ap);
    if (sql.failed) {
        rpt_buf_deinit(&sql);
        (void)rpt_fail(ctx, SIM_ERR_NOMEM, "rpt_query", "cannot build a query");
        return;
    }
    rows_sink sink = { .rows = rows, .failed = false };
    sim_error qerr;
    memset(&qerr, 0, sizeof qerr);
    sim_status st = rpt_db_exec_rows(ctx->db, rpt_buf_str(&sql), rows_collect, &sink, &qerr);
    rpt_buf_deinit(&sql);
    if (st != SIM_OK) {
        (void)rpt_fail(ctx, st, qerr.where, "%s", qerr.message);
    } else if (sink.failed) {
        (void)rpt_fail(ctx, SIM_ERR_NOMEM, "rpt_query", "out of memory reading a query result");
    }
    if (ctx->status != SIM_OK) rpt_rows_deinit(rows);
}

void rpt_query_each(rpt_ctx *ctx, const char *sql,
                    void (*row)(void *user, int ncols, const char *const *values), void *user)
{
    if (ctx->status != SIM_OK) return;
    sim_error qerr;
    memset(&qerr, 0, sizeof qerr);
    sim_status st = rpt_db_exec_rows(ctx->db, sql, row, user, &qerr);
    if (st != SIM_OK) (void)rpt_fail(ctx, st, qerr.where, "%s", qerr.message);
}

const char *rpt_run_filter(const rpt_ctx *ctx, const char *column, char *buf, size_t size)
{
    SIM_ASSERT(size > 0);
    buf[0] = '\0';
    int n = 0;
    if (ctx->opt.run_id > 0) n = snprintf(buf, size, " AND %s = %" PRId64, column, ctx->opt.run_id);
    SIM_ASSERT(n >= 0 && (size_t)n < size);
    if (ctx->opt.campaign_id > 0) {
        int m = snprintf(buf + n, size - (size_t)n, " AND %s IN (SELECT id FROM runs WHERE campaign_id = %" PRId64 ")",
                         column, ctx->opt.campaign_id);
        SIM_ASSERT(m >= 0 && (size_t)m < size - (size_t)n);
    }
    return buf;
}

void rpt_sort(void *base, size_t count, size_t size, int (*cmp)(const void *, const void *))
{
    if (count < 2) return;
    SIM_ASSERT(base != NULL);
    qsort(base, count, size, cmp);
}

/* ========================================================================
 * Formatting
 * ======================================================================== */

const char *rpt_fmt_ns_i64(int64_t ns, char *buf, size_t size)
{
    /* Integer arithmetic only: the same digits on every host.  Pick the
     * unit by magnitude, round to three decimals of it, and move up a unit
     * when rounding reaches 1000 (999.9996 ms prints as 1.000 s). */
    static const char *const units[] = { "ns", "\xC2\xB5s", "ms", "s" };
    bool neg = ns < 0;
    uint64_t mag = neg ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    if (mag < 1000) {
        snprintf(buf, size, "%s%" PRIu64 " ns", neg ? "-" : "", mag);
        return buf;
    }
    int unit = 1;
    uint64_t scale = 1;                               /* ns per thousandth of the unit */
    while (unit < 3 && mag >= scale * 1000 * 1000) {  /* bound: 3 units */
        unit++;
        scale *= 1000;
    }
    uint64_t thousandths = (mag + scale / 2) / scale;
    if (thousandths >= 1000 * 1000 && unit < 3) {
        unit++;
        scale *= 1000;
        thousandths = (mag + scale / 2) / scale;
    }
    snprintf(buf, size, "%s%" PRIu64 ".%03" PRIu64 " %s", neg ? "-" : "", thousandths / 1000,
             thousandths % 1000, units[unit]);
    return buf;
}

const char *rpt_fmt_ns(const char *ns_text, char *buf, size_t size)
{
    if (ns_text == NULL) {
        snprintf(buf, size, "never");
        return buf;
    }
    return rpt_fmt_ns_i64((int64_t)strtoll(ns_text, NULL, 10), buf, size);
}

const char *rpt_fmt_i64(int64_t v, char *buf, size_t size)
{
    snprintf(buf, size, "%" PRId64, v);
    return buf;
}

const char *rpt_fmt_bytes(double v, char *buf, size_t size)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {   /* bound: 4 steps */
        v /= 1024.0;
        u++;
    }
    if (u == 0) {
        snprintf(buf, size, "%.0f B", v);
    } else {
        snprintf(buf, size, "%.1f %s", v, units[u]);
    }
    return buf;
}

size_t rpt_percentile_rank(size_t n, unsigned p)
{
    SIM_ASSERT(n >= 1);
    SIM_ASSERT(p <= 100);
    SIM_ASSERT(n <= SIZE_MAX / 100u);
    size_t k = (n * p + 99u) / 100u;   /* ceil(n * p / 100) */
    return k < 1 ? 1 : k;
}

uint64_t rpt_percentile_nearest_rank(const uint64_t *sorted, size_t n, unsigned p)
{
    return sorted[rpt_percentile_rank(n, p) - 1];
}

/* "[-]<digits>[.<digits>]" and nothing else. */
static bool parse_plain_number(const char *text, double *value)
{
    const char *p = text;
    bool neg = *p == '-';
    if (neg) p++;
    if (*p < '0' || *p > '9') return false;
    double whole = 0.0;
    for (; *p >= '0' && *p <= '9'; p++) whole = whole * 10.0 + (double)(*p - '0');   /* bound: strlen(text) */
    double frac = 0.0, place = 0.1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return false;
        for (; *p >= '0' && *p <= '9'; p++) {        /* bound: strlen(text) */
            frac += place * (double)(*p - '0');
            place /= 10.0;
        }
    }
    if (*p != '\0') return false;
    *value = neg ? -(whole + frac) : whole + frac;
    return true;
}

bool rpt_param_number(const char *text, double *out, bool *is_duration)
{
    if (text == NULL) return false;
    sim_time_ns ns = 0;
    if (sim_duration_scan(text, strlen(text), &ns) == SIM_QUANTITY_OK) {
        *is_duration = true;
        *out = (double)ns / 1e9;
        return true;
    }
    if (!parse_plain_number(text, out)) return false;
    *is_duration = false;
    return true;
}

/* ========================================================================
 * Output files
 * ======================================================================== */

/* A new file next to `path` ("PATH.XXXXXX", a name no other file has),
 * mode 0666 less the umask as fopen would; its name is left in `tmp`.
 * NULL with errno set on failure. */
static FILE *create_temp_beside(const char *path, rpt_buf *tmp)
{
    rpt_buf_printf(tmp, "%s.XXXXXX", path);
    if (tmp->failed) {
        errno = ENOMEM;
        return NULL;
    }
    char *name = tmp->data;                         /* not empty: mkstemp fills in the X's */
    int fd = mkstemp(name);
    if (fd < 0) return NULL;
    mode_t mask = umask(0);
    (void)umask(mask);
    FILE *f = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "wb") : NULL;
    if (f == NULL) {
        int saved = errno;
        (void)close(fd);
        (void)unlink(name);
        errno = saved;
    }
    return f;
}

/* True when `out` names the database or the trace being read (the same
 * device and inode): writing it would destroy an input. */
static bool output_is_input(const rpt_ctx *ctx, const char *out)
{
    struct stat so, si;
    if (stat(out, &so) != 0) return false;
    const char *inputs[2] = { ctx->db_path, ctx->opt.trace_path };
    for (int i = 0; i < 2; i++) {
        if (inputs[i] != NULL && stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            return true;
        }
    }
    return false;
}

/* Writes `len` bytes to `path` via a temporary file beside it and rename,
 * or to stdout for "-". */
static void write_whole_file(rpt_ctx *ctx, const char *path, const char *data, size_t len)
{
    static const char where[] = "rpt_report_write";
    if (ctx->status != SIM_OK) return;
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            (void)rpt_fail(ctx, SIM_ERR_IO, where, "cannot write to standard output: %s", strerror(errno));
        }
        return;
    }
    rpt_buf tmp = { 0 };
    FILE *f = create_temp_beside(path, &tmp);
    if (f == NULL) {
        /* Name the output: the temporary name may be the allocation that failed. */
        (void)rpt_fail(ctx, SIM_ERR_IO, where, "cannot create a file beside %s: %s", path, strerror(errno));
        goto out_free_tmp;
    }
    bool ok = fwrite(data, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        (void)rpt_fail(ctx, SIM_ERR_IO, where, "cannot write %s: %s", rpt_buf_str(&tmp), strerror(errno));
        (void)remove(rpt_buf_str(&tmp));
        goto out_free_tmp;
    }
    if (rename(rpt_buf_str(&tmp), path) != 0) {
        (void)rpt_fail(ctx, SIM_ERR_IO, where, "cannot rename %s to %s: %s", rpt_buf_str(&tmp), path,
                       strerror(errno));
        (void)remove(rpt_buf_str(&tmp));
    }
out_free_tmp:
    rpt_buf_deinit(&tmp);
}

/* ========================================================================
 * Shared aggregate queries (markdown and html)
 * ======================================================================== */

void rpt_q_verdicts(rpt_ctx *ctx, rpt_rows *rows)
{
    char f[RPT_RUN_FILTER_MAX];
    rpt_query(ctx, rows,
              "SELECT scenario_name, count(*), sum(verdict = 'pass'), sum(verdict = 'fail'), "
              "sum(verdict = 'error'), (SELECT p.scenario_path FROM runs p "
              "WHERE p.scenario_name = runs.scenario_name ORDER BY p.id LIMIT 1) "
              "FROM runs WHERE 1 = 1%s GROUP BY scenario_name ORDER BY scenario_name",
              rpt_run_filter(ctx, "id", f, sizeof f));
}

void rpt_q_campaigns(rpt_ctx *ctx, rpt_rows *rows)
{
    char f[RPT_RUN_FILTER_MAX];
    rpt_query(ctx, rows,
              "SELECT c.id, c.command_line, c.state, c.signal, count(*), CASE WHEN c.shard_count IS NULL THEN NULL "
              "ELSE 'shard ' || c.shard_index || '/' || c.shard_count END FROM campaigns c "
              "JOIN runs r ON r.campaign_id = c.id WHERE 1 = 1%s GROUP BY c.id ORDER BY c.id",
              rpt_run_filter(ctx, "r.id", f, sizeof f));
}

int64_t rpt_q_runs_without_campaign(rpt_ctx *ctx)
{
    rpt_rows rows = { 0 };
    char f[RPT_RUN_FILTER_MAX];
    rpt_query(ctx, &rows, "SELECT count(*) FROM runs WHERE campaign_id IS NULL%s",
              rpt_run_filter(ctx, "id", f, sizeof f));
    int64_t n = rows.count == 1 ? rpt_cell_i64(&rows, 0, 0) : 0;
    rpt_rows_deinit(&rows);
    return n;
}

void rpt_q_failing(rpt_ctx *ctx, rpt_rows *rows)
{
    char f[RPT_RUN_FILTER_MAX];
    rpt_query(ctx, rows,
              "SELECT id, scenario_name, seed, verdict, failure, repro FROM runs "
              "WHERE verdict <> 'pass'%s ORDER BY scenario_name, id LIMIT %u",
              rpt_run_filter(ctx, "id", f, sizeof f), RPT_REPORT_FAILING_LISTED_MAX + 1);
}

void rpt_q_convergence(rpt_ctx *ctx, rpt_rows *rows)
{
    /* Nearest-rank percentiles over the runs that did not stop early; a run
     * whose convergence is never sorts last (as +infinity) and reads -1. */
    char f[RPT_RUN_FILTER_MAX];
    rpt_query(ctx, rows,
              "WITH d AS (SELECT scenario_name AS s, id, " RPT_SQL_CONVERGENCE " AS v FROM runs "
              "WHERE verdict <> 'error'%s), "
              "r AS (SELECT s, v, row_number() OVER (PARTITION BY s ORDER BY v IS NULL, v, id) AS k, "
              "count(*) OVER (PARTITION BY s) AS n FROM d) "
              "SELECT s, n, sum(v IS NULL), "
              "max(CASE WHEN k = " RPT_SQL_NEAREST_RANK(50) " THEN coalesce(v, -1) END), "
              "max(CASE WHEN k = " RPT_SQL_NEAREST_RANK(90) " THEN coalesce(v, -1) END), "
              "max(CASE WHEN k = " RPT_SQL_NEAREST_RANK(99) " THEN coalesce(v, -1) END), "
              "max(CASE WHEN k = n THEN coalesce(v, -1) END) "
              "FROM r GROUP BY s ORDER BY s",
              rpt_run_filter(ctx, "id", f, sizeof f));
}

void rpt_q_lag(rpt_ctx *ctx, rpt_rows *rows)
{
    char f[RPT_RUN_FILTER_MAX];
    rpt_query(ctx, rows,
              "WITH d AS (SELECT scenario_name AS s, id, lag_count AS c, lag_p50_ns AS p50, "
              "lag_p99_ns AS p99, lag_max_ns AS mx FROM runs WHERE lag_count > 0%s), "
              "r AS (SELECT s, c, p50, p99, mx, "
              "row_number() OVER (PARTITION BY s ORDER BY p50 IS NULL, p50, id) AS k50, "
              "row_number() OVER (PARTITION BY s ORDER BY p99 IS NULL, p99, id) AS k99, "
              "count(*) OVER (PARTITION BY s) AS n FROM d) "
              "SELECT s, n, sum(c), max(CASE WHEN k50 = " RPT_SQL_NEAREST_RANK(50) " THEN p50 END), "
              "max(CASE WHEN k99 = " RPT_SQL_NEAREST_RANK(50) " THEN p99 END), max(mx) "
              "FROM r GROUP BY s ORDER BY s",
              rpt_run_filter(ctx, "id", f, sizeof f));
}

void rpt_q_sweep(rpt_ctx *ctx, rpt_rows *rows)
{
    /* One row per (key, value, scenario), in the order the values were
     * first written: p50 and max of the runs' convergence (-1 = never; an
     * error run has none) and the longest lost window (0 = none). */
    char f[RPT_RUN_FILTER_MAX];
    rpt_query(ctx, rows,
              "WITH d AS (SELECT p.key AS key, p.value AS val, r.scenario_name AS s, r.id AS id, "
              "p.id AS pid, CASE WHEN r.verdict = 'error' THEN NULL ELSE "
              "coalesce(" RPT_SQL_CONVERGENCE ", -1) END AS v, "
              "(SELECT max(coalesce(w.end_ns, r.end_ns) - w.start_ns) FROM windows w "
              "WHERE w.run_id = r.id AND w.kind = 'lost') AS lost "
              "FROM run_params p JOIN runs r ON r.id = p.run_id WHERE 1 = 1%s), "
              "q AS (SELECT key, val, s, id, pid, v, lost, row_number() OVER (PARTITION BY key, val, s "
              "ORDER BY v IS NULL, v = -1, v, id) AS k, "
              "count(v) OVER (PARTITION BY key, val, s) AS n FROM d) "
              "SELECT key, val, s, count(*), max(CASE WHEN k = " RPT_SQL_NEAREST_RANK(50) " THEN v END), "
              "max(CASE WHEN k = n THEN v END), coalesce(max(lost), 0), min(pid) AS first, n "
              "FROM q GROUP BY key, val, s ORDER BY key, s, first",
              rpt_run_filter(ctx, "r.id", f, sizeof f));
}

void rpt_q_versions(rpt_ctx *ctx, rpt_rows *rows)
{
    /* One row per (scenario, cluster.version) of the runs that carry that
     * sweep parameter, the versions in the order they were first written.
     * Convergence percentiles are nearest rank over the runs that did not
     * stop early, a never sorting last (-1); lost and zombie are the longest
     * windows (open ones to their run's end) and the runs with one; client
     * anomalies count the windows of client_anomalies, both sources. */
    char f[RPT_RUN_FILTER_MAX];
#define RPT_SQL_VERSION_WINDOW(what, kind)                                                          \
    "(SELECT " what " FROM w WHERE w.s = q.s AND w.ver = q.ver AND w.kind = '" kind "')"
#define RPT_SQL_VERSION_ANOMALY(what, kind)                                                         \
    "(SELECT " what " FROM a WHERE a.s = q.s AND a.ver = q.ver AND a.kind = '" kind "')"
    rpt_query(ctx, rows,
              "WITH d AS (SELECT r.scenario_name AS s, p.value AS ver, r.id AS id, p.id AS pid, "
              "r.verdict AS verdict, r.end_ns AS end_ns, CASE WHEN r.verdict = 'error' THEN NULL ELSE "
              "coalesce(" RPT_SQL_CONVERGENCE ", -1) END AS c "
              "FROM run_params p JOIN runs r ON r.id = p.run_id WHERE p.key = 'cluster.version'%s), "
              "q AS (SELECT s, ver, id, pid, verdict, c, row_number() OVER (PARTITION BY s, ver "
              "ORDER BY c IS NULL, c = -1, c, id) AS k, count(c) OVER (PARTITION BY s, ver) AS n FROM d), "
              "w AS (SELECT d.s AS s, d.ver AS ver, d.id AS id, x.kind AS kind, "
              "max(coalesce(x.end_ns, d.end_ns) - x.start_ns) AS longest FROM windows x JOIN d ON d.id = x.run_id "
              "WHERE x.kind IN ('lost', 'zombie') GROUP BY d.id, x.kind), "
              "a AS (SELECT d.s AS s, d.ver AS ver, x.kind AS kind, count(*) AS cnt, "
              "max(coalesce(x.end_ns, d.end_ns) - x.start_ns) AS longest FROM client_anomalies x "
              "JOIN d ON d.id = x.run_id GROUP BY d.s, d.ver, x.kind), "
              "cr AS (SELECT d.s AS s, d.ver AS ver, sum(x.reads) AS reads FROM client_reads x "
              "JOIN d ON d.id = x.run_id GROUP BY d.s, d.ver) "
              "SELECT q.s, q.ver, count(*), sum(q.verdict <> 'pass'), sum(q.verdict = 'error'), sum(q.c = -1), "
              "max(CASE WHEN k = " RPT_SQL_NEAREST_RANK(50) " THEN c END), "
              "max(CASE WHEN k = " RPT_SQL_NEAREST_RANK(99) " THEN c END), "
              "max(CASE WHEN k = n THEN c END), "
              RPT_SQL_VERSION_WINDOW("max(longest)", "lost") ", " RPT_SQL_VERSION_WINDOW("count(*)", "lost") ", "
              RPT_SQL_VERSION_WINDOW("max(longest)", "zombie") ", " RPT_SQL_VERSION_WINDOW("count(*)", "zombie") ", "
              "(SELECT cr.reads FROM cr WHERE cr.s = q.s AND cr.ver = q.ver), "
              RPT_SQL_VERSION_ANOMALY("cnt", "empty") ", " RPT_SQL_VERSION_ANOMALY("longest", "empty") ", "
              RPT_SQL_VERSION_ANOMALY("cnt", "short") ", " RPT_SQL_VERSION_ANOMALY("longest", "short") ", "
              RPT_SQL_VERSION_ANOMALY("cnt", "stale") ", " RPT_SQL_VERSION_ANOMALY("longest", "stale") ", "
              "min(q.pid) AS first FROM q GROUP BY q.s, q.ver ORDER BY q.s, first",
              rpt_run_filter(ctx, "r.id", f, sizeof f));
#undef RPT_SQL_VERSION_WINDOW
#undef RPT_SQL_VERSION_ANOMALY
}

/* ========================================================================
 * The version comparison
 * ======================================================================== */

static const char *vc_text(const rpt_rows *rows, size_t r, int c, char *buf, size_t size)
{
    snprintf(buf, size, "%s", rpt_cell_s(rows, r, c));
    return buf;
}
static const char *vc_scenario(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_text(rows, r, 0, buf, size);
}
static const char *vc_version(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_text(rows, r, 1, buf, size);
}
static const char *vc_runs(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_text(rows, r, 2, buf, size);
}
static const char *vc_never(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_text(rows, r, 5, buf, size);
}

static const char *vc_failures(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    int64_t failed = rpt_cell_i64(rows, r, 3), error = rpt_cell_i64(rows, r, 4);
    if (error > 0) snprintf(buf, size, "%" PRId64 " (%" PRId64 " error%s)", failed, error, error == 1 ? "" : "s");
    else snprintf(buf, size, "%" PRId64, failed);
    return buf;
}

/* A convergence: a time, "never", or "-" when no run counts. */
static const char *vc_conv(const rpt_rows *rows, size_t r, int c, char *buf, size_t size)
{
    if (rpt_cell_null(rows, r, c)) {
        snprintf(buf, size, "-");
        return buf;
    }
    int64_t v = rpt_cell_i64(rows, r, c);
    if (v < 0) snprintf(buf, size, "never");
    else rpt_fmt_ns_i64(v, buf, size);
    return buf;
}
static const char *vc_conv_p50(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_conv(rows, r, 6, buf, size);
}
static const char *vc_conv_p99(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_conv(rows, r, 7, buf, size);
}
static const char *vc_conv_max(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_conv(rows, r, 8, buf, size);
}

/* The longest window of column c and the runs with one (column c + 1). */
static const char *vc_window(const rpt_rows *rows, size_t r, int c, char *buf, size_t size)
{
    int64_t runs = rpt_cell_i64(rows, r, c + 1);
    if (rpt_cell_null(rows, r, c) || runs == 0) {
        snprintf(buf, size, "none");
        return buf;
    }
    char t[32];
    snprintf(buf, size, "%s (%" PRId64 " run%s)", rpt_fmt_ns_i64(rpt_cell_i64(rows, r, c), t, sizeof t), runs,
             runs == 1 ? "" : "s");
    return buf;
}
static const char *vc_lost(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_window(rows, r, 9, buf, size);
}
static const char *vc_zombie(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_window(rows, r, 11, buf, size);
}

static const char *vc_reads(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    snprintf(buf, size, "%s", rpt_cell_null(rows, r, 13) ? "no readers" : rpt_cell_s(rows, r, 13));
    return buf;
}

/* Client anomaly windows of one kind (count column c, longest c + 1):
 * "-" without readers, "none", or "N, longest T". */
static const char *vc_anomaly(const rpt_rows *rows, size_t r, int c, char *buf, size_t size)
{
    if (rpt_cell_null(rows, r, 13)) {
        snprintf(buf, size, "-");
        return buf;
    }
    int64_t n = rpt_cell_i64(rows, r, c);
    if (rpt_cell_null(rows, r, c) || n == 0) {
        snprintf(buf, size, "none");
        return buf;
    }
    char t[32];
    snprintf(buf, size, "%" PRId64 ", longest %s", n, rpt_fmt_ns_i64(rpt_cell_i64(rows, r, c + 1), t, sizeof t));
    return buf;
}
static const char *vc_empty(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_anomaly(rows, r, 14, buf, size);
}
static const char *vc_short(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_anomaly(rows, r, 16, buf, size);
}
static const char *vc_stale(const rpt_rows *rows, size_t r, char *buf, size_t size)
{
    return vc_anomaly(rows, r, 18, buf, size);
}

static const rpt_version_column vc_columns[] = {
    { "scenario", false, vc_scenario },
    { "cluster.version", false, vc_version },
    { "runs", true, vc_runs },
    { "failures", true, vc_failures },
    { "convergence p50", true, vc_conv_p50 },
    { "convergence p99", true, vc_conv_p99 },
    { "convergence max", true, vc_conv_max },
    { "never converged", true, vc_never },
    { "worst lost window", true, vc_lost },
    { "worst zombie window", true, vc_zombie },
    { "client reads", true, vc_reads },
    { "empty windows", true, vc_empty },
    { "short windows", true, vc_short },
    { "stale windows", true, vc_stale },
};

const rpt_version_column *rpt_version_columns(size_t *count)
{
    *count = sizeof vc_columns / sizeof vc_columns[0];
    return vc_columns;
}

/* ========================================================================
 * The overview
 * ======================================================================== */

size_t rpt_overview_find(const rpt_rows *rows, const char *scenario)
{
    size_t lo = 0, hi = rows->count;   /* rows are ordered by column 0 (BINARY collation: memcmp order) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = rpt_cell_s(rows, mid, 0);
        int c = strcmp(name, scenario);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return rows->count;
}

bool rpt_overview_failing(const rpt_overview *ov, size_t s)
{
    return rpt_cell_i64(&ov->verdicts, s, 3) + rpt_cell_i64(&ov->verdicts, s, 4) > 0;
}

static const char *ov_scenario(const rpt_overview *ov, size_t s, char *buf, size_t size)
{
    snprintf(buf, size, "%s", rpt_cell_s(&ov->verdicts, s, 0));
    return buf;
}

static const char *ov_runs(const rpt_overview *ov, size_t s, char *buf, size_t size)
{
    snprintf(buf, size, "%s", rpt_cell_s(&ov->verdicts, s, 1));
    return buf;
}

static const char *ov_failures(const rpt_overview *ov, size_t s, char *buf, size_t size)
{
    int64_t fail = rpt_cell_i64(&ov->verdicts, s, 3), error = rpt_cell_i64(&ov->verdicts, s, 4);
    if (error > 0) snprintf(buf, size, "%" PRId64 " (%" PRId64 " error%s)", fail + error, error, error == 1 ? "" : "s");
    else snprintf(buf, size, "%" PRId64, fail);
    return buf;
}

/* Column c of the scenario's rpt_q_convergence row: a time, "never", or
 * "-" when no run of it counts (every one stopped early). */
static const char *ov_conv(const rpt_overview *ov, size_t s, int c, char *buf, size_t size)
{
    size_t r = rpt_overview_find(&ov->convergence, rpt_cell_s(&ov->verdicts, s, 0));
    if (r == ov->convergence.count || rpt_cell_null(&ov->convergence, r, c)) {
        snprintf(buf, size, "-");
        return buf;
    }
    int64_t v = rpt_cell_i64(&ov->convergence, r, c);
    if (v < 0) snprintf(buf, size, "never");
    else rpt_fmt_ns_i64(v, buf, size);
    return buf;
}

static const char *ov_conv_p50(const rpt_overview *ov, size_t s, char *buf, size_t size)
{
    return ov_conv(ov, s, 3, buf, size);
}
static const char *ov_conv_p99(const rpt_overview *ov, size_t s, char *buf, size_t size)
{
    return ov_conv(ov, s, 5, buf, size);
}
static const char *ov_conv_max(const rpt_overview *ov, size_t s, char *buf, size_t size)
{
    return ov_conv(ov, s, 6, buf, size);
}

static const char *ov_never(const rpt_overview *ov, size_t s, char *buf, size_t size)
{
    size_t r = rpt_overview_find(&ov->convergence, rpt_cell_s(&ov->verdicts, s, 0));
    snprintf(buf, size, "%s", r == ov->convergence.count ? "-" : rpt_cell_s(&ov->convergence, r, 2));
    return buf;
}

/* The longest lost window of the scenario's runs (an open one lasting to
 * its run's end) and how many runs had one. */
static const char *ov_lost(const rpt_overview *ov, size_t s, char *buf, size_t size)
{
    size_t k = 0;
    while (k < RPT_WINDOW_KINDS && strcmp(rpt_window_kind_name(k), "lost") != 0) k++;
    const rpt_window_stats *st = ov->windows != NULL && k < RPT_WINDOW_KINDS ? &ov->windows[s * RPT_WINDOW_KINDS + k]
                                                                             : NULL;
    if (st == NULL || st->count == 0) {
        snprintf(buf, size, "none");
        return buf;
    }
    char t[32];
    snprintf(buf, size, "%s (%" PRId64 " run%s)", rpt_fmt_ns_i64(st->longest_ns, t, sizeof t), st->runs,
             st->runs == 1 ? "" : "s");
    return buf;
}

static const rpt_overview_column ov_columns[] = {
    { "scenario", false, ov_scenario },
    { "runs", true, ov_runs },
    { "failures", true, ov_failures },
    { "convergence p50", true, ov_conv_p50 },
    { "convergence p99", true, ov_conv_p99 },
    { "convergence max", true, ov_conv_max },
    { "never converged", true, ov_never },
    { "worst lost window", true, ov_lost },
};

const rpt_overview_column *rpt_overview_columns(size_t *count)
{
    *count = sizeof ov_columns / sizeof ov_columns[0];
    return ov_columns;
}

void rpt_overview_load(rpt_ctx *ctx, rpt_overview *ov, rpt_rows *verdicts, const rpt_window_stats *windows)
{
    memset(ov, 0, sizeof *ov);
    ov->verdicts = *verdicts;
    memset(verdicts, 0, sizeof *verdicts);
    ov->windows = windows;
    rpt_q_convergence(ctx, &ov->convergence);
    ov->count = ov->verdicts.count;
    ov->order = ov->count > 0 ? sim_calloc(ov->count, sizeof *ov->order) : NULL;
    if (ov->count > 0 && ov->order == NULL) {
        (void)rpt_fail(ctx, SIM_ERR_NOMEM, "rpt_overview", "out of memory ordering %zu scenarios", ov->count);
        ov->count = 0;
        return;
    }
    /* Failing scenarios first, each group by name (the verdicts' order):
     * a stable partition, no comparator needed. */
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t s = 0; s < ov->verdicts.count; s++) {
            if (rpt_overview_failing(ov, s) == (pass == 0)) ov->order[n++] = s;
        }
    }
}

void rpt_overview_deinit(rpt_overview *ov)
{
    rpt_rows_deinit(&ov->verdicts);
    rpt_rows_deinit(&ov->convergence);
    free(ov->order);
    memset(ov, 0, sizeof *ov);
}

/* ========================================================================
 * Markdown
 * ======================================================================== */

/* A table cell (rpt_esc_md_cell: pipes, HTML and line breaks). */
void rpt_q_clients(rpt_ctx *ctx, rpt_rows *rows)
{
    char f[RPT_RUN_FILTER_MAX], f2[RPT_RUN_FILTER_MAX];
    rpt_run_filter(ctx, "r.id", f, sizeof f);
    rpt_run_filter(ctx, "r2.id", f2, sizeof f2);
#define RPT_SQL_CLIENT_LONGEST(kind)                                                                \
    "(SELECT max(coalesce(a.end_ns, r2.end_ns) - a.start_ns) FROM client_anomalies a "              \
    "JOIN runs r2 ON r2.id = a.run_id WHERE r2.scenario_name = r.scenario_name AND a.source = c.source " \
    "AND a.kind = '" kind "'%s)"
    rpt_query(ctx, rows,
              "SELECT r.scenario_name, c.source, count(DISTINCT r.id), sum(c.reads), sum(c.failed), "
              "sum(c.empty_reads), sum(c.short_reads), sum(c.stale_reads), " RPT_SQL_CLIENT_LONGEST("empty") ", "
              RPT_SQL_CLIENT_LONGEST("short") ", " RPT_SQL_CLIENT_LONGEST("stale") " "
              "FROM client_reads c JOIN runs r ON r.id = c.run_id WHERE 1 = 1%s "
              "GROUP BY r.scenario_name, c.source ORDER BY r.scenario_name, c.source",
              f2, f2, f2, f);
#undef RPT_SQL_CLIENT_LONGEST
}

static void md_cell(rpt_buf *b, const char *s)
{
    rpt_esc_md_cell(s, false, rpt_buf_sink, b);
}

/* A repro command: a code span, so it reads as typed. */
static void md_code(rpt_buf *b, const char *s)
{
    rpt_esc_md_cell(s, true, rpt_buf_sink, b);
}

/* A convergence cell: "no fault" for NULL, "never" for -1, else a time. */
static const char *md_conv(const rpt_rows *rows, size_t r, int c, char *buf, size_t size)
{
    if (rpt_cell_null(rows, r, c)) return "no fault";
    int64_t v = rpt_cell_i64(rows, r, c);
    return v < 0 ? "never" : rpt_fmt_ns_i64(v, buf, size);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* Returns the number of runs. */
static int64_t md_summary(rpt_buf *b, const rpt_rows *rows)
{
    int64_t total[4] = { 0, 0, 0, 0 };
    for (size_t r = 0; r < rows->count; r++) {
        for (int c = 0; c < 4; c++) total[c] += rpt_cell_i64(rows, r, c + 1);
    }
    rpt_buf_printf(b, "%" PRId64 " run%s of %zu scenario%s: %" PRId64 " passed, %" PRId64 " failed, %" PRId64
                      " error%s.\n\n",
                   total[0], total[0] == 1 ? "" : "s", rows->count, rows->count == 1 ? "" : "s", total[1], total[2],
                   total[3], total[3] == 1 ? "" : "s");
    if (rows->count == 0) {
        rpt_buf_put(b, "There are no runs in this database.\n");
        return 0;
    }
    return total[0];
}

/* The overview table (rpt_overview_columns), failing scenarios first. */
static void md_overview(rpt_buf *b, const rpt_overview *ov)
{
    size_t ncol = 0;
    const rpt_overview_column *cols = rpt_overview_columns(&ncol);
    rpt_buf_put(b, "## Overview\n\nScenarios with a failing run first; convergence over the runs that did not stop "
                   "early (reports/SCHEMA.md, \"Convergence of a run\").\n\n|");
    for (size_t c = 0; c < ncol; c++) {
        rpt_buf_put(b, " ");
        md_cell(b, cols[c].header);
        rpt_buf_put(b, " |");
    }
    rpt_buf_put(b, "\n|");
    for (size_t c = 0; c < ncol; c++) rpt_buf_put(b, cols[c].numeric ? "---:|" : "---|");
    rpt_buf_put(b, "\n");
    for (size_t i = 0; i < ov->count; i++) {
        rpt_buf_put(b, "|");
        for (size_t c = 0; c < ncol; c++) {
            char cell[256];
            rpt_buf_put(b, " ");
            md_cell(b, cols[c].cell(ov, ov->order[i], cell, sizeof cell));
            rpt_buf_put(b, " |");
        }
        rpt_buf_put(b, "\n");
    }
}

/* The runs of a cluster.version sweep, scenario by scenario, one row per
 * version (rpt_version_columns); nothing when no run has that parameter. */
static void md_versions(rpt_ctx *ctx, rpt_buf *b)
{
    rpt_rows rows = { 0 };
    rpt_q_versions(ctx, &rows);
    if (rows.count == 0) {
        rpt_rows_deinit(&rows);
        return;
    }
    size_t ncol = 0;
    const rpt_version_column *cols = rpt_version_columns(&ncol);
    rpt_buf_put(b, "\n## Version comparison\n\nThe runs of each scenario under each `cluster.version` it was swept "
                   "over (the same faults and seeds; over any other swept parameter too): convergence, the worst "
                   "lost and zombie windows, and what readers saw (client anomaly windows, answers and views "
                   "together).\n\n|");
    for (size_t c = 0; c < ncol; c++) {
        rpt_buf_put(b, " ");
        md_cell(b, cols[c].header);
        rpt_buf_put(b, " |");
    }
    rpt_buf_put(b, "\n|");
    for (size_t c = 0; c < ncol; c++) rpt_buf_put(b, cols[c].numeric ? "---:|" : "---|");
    rpt_buf_put(b, "\n");
    for (size_t r = 0; r < rows.count; r++) {
        rpt_buf_put(b, "|");
        for (size_t c = 0; c < ncol; c++) {
            char cell[256];
            rpt_buf_put(b, " ");
            md_cell(b, cols[c].cell(&rows, r, cell, sizeof cell));
            rpt_buf_put(b, " |");
        }
        rpt_buf_put(b, "\n");
    }
    rpt_rows_deinit(&rows);
}

static void md_failing(rpt_ctx *ctx, rpt_buf *b)
{
    rpt_rows rows = { 0 };
    rpt_q_failing(ctx, &rows);
    rpt_buf_put(b, "\n## Failing runs\n\n");
    if (rows.count == 0) {
        rpt_buf_put(b, "None: every run passed.\n");
        rpt_rows_deinit(&rows);
        return;
    }
    rpt_buf_put(b, "| run | scenario | seed | verdict | failure | repro |\n|---:|---|---:|---|---|---|\n");
    size_t listed = rows.count > RPT_REPORT_FAILING_LISTED_MAX ? RPT_REPORT_FAILING_LISTED_MAX : rows.count;
    for (size_t r = 0; r < listed; r++) {
        rpt_buf_printf(b, "| %s | ", rpt_cell_s(&rows, r, 0));
        md_cell(b, rpt_cell(&rows, r, 1));
        rpt_buf_printf(b, " | %s | %s | ", rpt_cell_s(&rows, r, 2), rpt_cell_s(&rows, r, 3));
        md_cell(b, rpt_cell(&rows, r, 4) != NULL ? rpt_cell(&rows, r, 4) : "");
        rpt_buf_put(b, " | ");
        if (rpt_cell(&rows, r, 5) != NULL) md_code(b, rpt_cell(&rows, r, 5));
        rpt_buf_put(b, " |\n");
    }
    if (rows.count > listed) {
        rpt_buf_printf(b, "\nOnly the first %u failing runs are listed.\n", RPT_REPORT_FAILING_LISTED_MAX);
    }
    rpt_rows_deinit(&rows);
}

static void md_convergence(rpt_ctx *ctx, rpt_buf *b)
{
    rpt_rows rows = { 0 };
    rpt_q_convergence(ctx, &rows);
    rpt_buf_put(b, "\n## Convergence\n\n");
    if (rows.count == 0) {
        rpt_buf_put(b, "Every run stopped early: no convergence to show.\n");
        rpt_rows_deinit(&rows);
        return;
    }
    rpt_buf_put(b, "Time from the last event that could change the truth (the end of the last fault, a "
                   "registration, deregistration or client death, a node's crash or start) until the cluster "
                   "converged for good, over seeds; never when a fault or churn lasts to the end of the run or it "
                   "ended unconverged.\n\n"
                   "| scenario | runs | never converged | p50 | p90 | p99 | max |\n"
                   "|---|---:|---:|---:|---:|---:|---:|\n");
    for (size_t r = 0; r < rows.count; r++) {
        rpt_buf_put(b, "| ");
        md_cell(b, rpt_cell(&rows, r, 0));
        rpt_buf_printf(b, " | %s | %s |", rpt_cell_s(&rows, r, 1), rpt_cell_s(&rows, r, 2));
        for (int c = 3; c <= 6; c++) {
            char t[32];
            rpt_buf_printf(b, " %s |", md_conv(&rows, r, c, t, sizeof t));
        }
        rpt_buf_put(b, "\n");
    }
    rpt_rows_deinit(&rows);
}

static void md_windows(rpt_buf *b, const rpt_rows *scen, const rpt_window_stats *ws)
{
    rpt_buf_put(b, "\n## Lost and zombie windows\n\n");
    bool any = false;
    for (size_t s = 0; ws != NULL && s < scen->count; s++) {
        for (size_t k = 0; k < RPT_WINDOW_KINDS; k++) {
            const rpt_window_stats *st = &ws[s * RPT_WINDOW_KINDS + k];
            const char *kind = rpt_window_kind_name(k);
            if (st->count == 0 || (strcmp(kind, "lost") != 0 && strcmp(kind, "zombie") != 0)) continue;
            if (!any) {
                rpt_buf_put(b, "A window still open at the end of its run counts until the run's end.\n\n"
                               "| scenario | kind | windows | runs with one | longest | still open |\n"
                               "|---|---|---:|---:|---:|---:|\n");
                any = true;
            }
            char t[32];
            rpt_buf_put(b, "| ");
            md_cell(b, rpt_cell(scen, s, 0));
            rpt_buf_printf(b, " | %s | %" PRId64 " | %" PRId64 " | %s | %" PRId64 " |\n", kind, st->count, st->runs,
                           rpt_fmt_ns_i64(st->longest_ns, t, sizeof t), st->open);
        }
    }
    if (!any) rpt_buf_put(b, "No lost or zombie window in any run.\n");
}

/* What readers saw, when any run had readers (reports/SCHEMA.md). */
static void md_clients(rpt_ctx *ctx, rpt_buf *b)
{
    rpt_rows rows = { 0 };
    rpt_q_clients(ctx, &rows);
    if (rows.count > 0) {
        rpt_buf_put(b, "\n## What clients read\n\n"
                       "Answers to list queries and subscribers' views held against the truth: empty (no "
                       "instance while some should be listed), short (one missing), stale (a dead one listed); "
                       "reads of each kind, and the longest window.\n\n"
                       "| scenario | source | runs | reads | failed | empty | short | stale | longest empty | "
                       "longest short | longest stale |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (size_t r = 0; r < rows.count; r++) {
            char t[3][32];
            rpt_buf_put(b, "| ");
            md_cell(b, rpt_cell(&rows, r, 0));
            rpt_buf_put(b, " | ");
            md_cell(b, rpt_cell(&rows, r, 1));
            rpt_buf_printf(b, " | %s | %s | %s | %s | %s | %s", rpt_cell_s(&rows, r, 2), rpt_cell_s(&rows, r, 3),
                           rpt_cell_s(&rows, r, 4), rpt_cell_s(&rows, r, 5), rpt_cell_s(&rows, r, 6),
                           rpt_cell_s(&rows, r, 7));
            for (int k = 0; k < 3; k++) {
                rpt_buf_printf(b, " | %s", rpt_cell_null(&rows, r, 8 + k) ? "-"
                                           : rpt_fmt_ns_i64(rpt_cell_i64(&rows, r, 8 + k), t[k], sizeof t[k]));
            }
            rpt_buf_put(b, " |\n");
        }
    }
    rpt_rows_deinit(&rows);
}

static void md_lag(rpt_ctx *ctx, rpt_buf *b)
{
    rpt_rows rows = { 0 };
    rpt_q_lag(ctx, &rows);
    rpt_buf_put(b, "\n## Replication lag\n\n");
    if (rows.count == 0) {
        rpt_buf_put(b, "No run recorded replication-lag samples.\n");
        rpt_rows_deinit(&rows);
        return;
    }
    rpt_buf_put(b, "Per-run lag percentiles summarised over runs.\n\n"
                   "| scenario | runs | samples | median of run p50 | median of run p99 | worst max |\n"
                   "|---|---:|---:|---:|---:|---:|\n");
    for (size_t r = 0; r < rows.count; r++) {
        char t1[32], t2[32], t3[32];
        rpt_buf_put(b, "| ");
        md_cell(b, rpt_cell(&rows, r, 0));
        rpt_buf_printf(b, " | %s | %s | %s | %s | %s |\n", rpt_cell_s(&rows, r, 1), rpt_cell_s(&rows, r, 2),
                       rpt_fmt_ns(rpt_cell_s(&rows, r, 3), t1, sizeof t1),
                       rpt_fmt_ns(rpt_cell_s(&rows, r, 4), t2, sizeof t2),
                       rpt_fmt_ns(rpt_cell_s(&rows, r, 5), t3, sizeof t3));
    }
    rpt_rows_deinit(&rows);
}

static void md_sweeps(rpt_ctx *ctx, rpt_buf *b)
{
    rpt_rows rows = { 0 };
    rpt_q_sweep(ctx, &rows);
    if (rows.count == 0) {
        rpt_rows_deinit(&rows);
        return;
    }
    rpt_buf_put(b, "\n## Sweeps\n\n"
                   "| parameter | value | scenario | runs | convergence p50 | convergence max | longest lost |\n"
                   "|---|---|---|---:|---:|---:|---:|\n");
    for (size_t r = 0; r < rows.count; r++) {
        char t1[32], t2[32], t3[32];
        rpt_buf_put(b, "| ");
        md_cell(b, rpt_cell(&rows, r, 0));
        rpt_buf_put(b, " | ");
        md_cell(b, rpt_cell(&rows, r, 1));
        rpt_buf_put(b, " | ");
        md_cell(b, rpt_cell(&rows, r, 2));
        rpt_buf_printf(b, " | %s | %s | %s | %s |\n", rpt_cell_s(&rows, r, 3), md_conv(&rows, r, 4, t1, sizeof t1),
                       md_conv(&rows, r, 5, t2, sizeof t2), rpt_fmt_ns_i64(rpt_cell_i64(&rows, r, 6), t3, sizeof t3));
    }
    rpt_rows_deinit(&rows);
}

/* Which campaigns the report pools, so runs of different invocations are
 * not mistaken for one.  Nothing for a file without campaign records. */
static void md_campaigns(rpt_ctx *ctx, rpt_buf *b)
{
    rpt_rows rows = { 0 };
    rpt_q_campaigns(ctx, &rows);
    if (rows.count > 0) {
        if (ctx->opt.campaign_id > 0) rpt_buf_printf(b, "Campaign %" PRId64 " only.\n\n", ctx->opt.campaign_id);
        else rpt_buf_printf(b, "Pools %zu campaign%s.\n\n", rows.count, rows.count == 1 ? "" : "s");
        rpt_buf_put(b, "| campaign | command line | state | runs |\n|---:|---|---|---:|\n");
        for (size_t r = 0; r < rows.count; r++) {
            rpt_buf_printf(b, "| %s | ", rpt_cell_s(&rows, r, 0));
            md_code(b, rpt_cell_s(&rows, r, 1));
            rpt_buf_put(b, " | ");
            md_cell(b, rpt_cell_s(&rows, r, 2));
            if (rpt_cell(&rows, r, 3) != NULL) {
                rpt_buf_put(b, " (");
                md_cell(b, rpt_cell(&rows, r, 3));
                rpt_buf_put(b, ")");
            }
            if (rpt_cell(&rows, r, 5) != NULL) {      /* --shard K/N */
                rpt_buf_put(b, ", ");
                md_cell(b, rpt_cell(&rows, r, 5));
            }
            rpt_buf_printf(b, " | %s |\n", rpt_cell_s(&rows, r, 4));
        }
        int64_t orphans = rpt_q_runs_without_campaign(ctx);
        if (orphans > 0) rpt_buf_printf(b, "\nAnd %" PRId64 " runs with no campaign record.\n", orphans);
        rpt_buf_put(b, "\n");
    }
    rpt_rows_deinit(&rows);
}

static void write_markdown(rpt_ctx *ctx, const char *out_path)
{
    rpt_buf b = { 0 };
    rpt_buf_put(&b, "# ");
    md_cell(&b, ctx->opt.title);
    rpt_buf_put(&b, "\n\n");
    if (ctx->opt.run_id > 0) rpt_buf_printf(&b, "Run %" PRId64 " only.\n\n", ctx->opt.run_id);
    md_campaigns(ctx, &b);
    rpt_rows scen = { 0 };
    rpt_q_verdicts(ctx, &scen);
    if (md_summary(&b, &scen) > 0) {
        rpt_runmap map;
        rpt_window_stats *ws = NULL;
        rpt_runmap_load(ctx, &scen, &map);
        rpt_fold_windows(ctx, &map, scen.count, &ws);
        rpt_overview ov;
        rpt_overview_load(ctx, &ov, &scen, ws);
        md_overview(&b, &ov);
        if (ctx->opt.run_id == 0) md_versions(ctx, &b);
        md_failing(ctx, &b);
        if (ctx->opt.run_id == 0) md_convergence(ctx, &b);   /* a single run has no distribution */
        md_windows(&b, &ov.verdicts, ws);
        md_clients(ctx, &b);
        md_lag(ctx, &b);
        if (ctx->opt.run_id == 0) md_sweeps(ctx, &b);
        rpt_overview_deinit(&ov);
        free(ws);
        rpt_runmap_deinit(&map);
    }
    rpt_rows_deinit(&scen);
    if (b.failed) (void)rpt_fail(ctx, SIM_ERR_NOMEM, "rpt_report_write", "out of memory building the report");
    write_whole_file(ctx, out_path, rpt_buf_str(&b), b.len);
    rpt_buf_deinit(&b);
}

/* ========================================================================
 * CSV
 * ======================================================================== */

/* Columns in schema order (reports/SCHEMA.md), named, never `*`. */
static const struct {
    const char *table;
    const char *columns;
    bool child;                  /* has run_id */
} csv_tables[] = {
    { "runs",
      "id, campaign, scenario_name, scenario_path, scenario_sha256, effective_yaml, seed, build, verdict, "
      "failure, repro, end_ns, events, trace_hash, converged_ns, last_fault_end_ns, children_count, "
      "lag_count, lag_p50_ns, lag_p90_ns, lag_p99_ns, lag_max_ns, campaign_id, converge_anchor_ns, "
      "convergence_ns, convergence_never, job",
      false },
    { "campaigns",
      "id, command_line, build, started_unix_ms, ended_unix_ms, state, signal, runs_planned, runs_done, passed, "
      "failed, errors, shard_index, shard_count, plan",
      false },
    { "run_params", "id, run_id, key, value", true },
    { "windows", "id, run_id, kind, node, key, start_ns, end_ns", true },
    { "convergences", "id, run_id, fault_index, fault_end_ns, converged_ns", true },
    { "counters", "id, run_id, node, name, value", true },
    { "samples", "id, run_id, at_ns, node, up, keys, instances, owned_keys, healthy_view, divergent_keys", true },
    { "msgstats",
      "id, run_id, src, dst, type, sent, delivered, duplicated, bytes_sent, bytes_delivered, dropped_loss, "
      "dropped_partition, dropped_receiver_down, dropped_receiver_restarted, dropped_late_response, "
      "dropped_caller_restarted",
      true },
    { "faults", "id, run_id, fault_index, kind, description, start_ns, end_ns", true },
    { "expects", "id, run_id, name, bound, observed, ok", true },
    { "client_reads",
      "id, run_id, key, source, reads, failed, empty_reads, short_reads, stale_reads, empty_ns, short_ns, stale_ns",
      true },
    { "client_anomalies", "id, run_id, kind, source, reader, key, start_ns, end_ns", true },
};

/* RFC 4180 with formulas neutralised (rpt_esc_csv, reports/SCHEMA.md);
 * records end in CRLF.  SQL NULL is an empty field; an empty string is ""
 * so the two stay apart.  Write errors stay in the stream until the close. */
static void csv_row(void *user, int ncols, const char *const *values)
{
    FILE *f = user;
    for (int c = 0; c < ncols; c++) {
        if (c > 0) (void)fputc(',', f);
        rpt_esc_csv(values[c], rpt_esc_to_file, f);
    }
    (void)fputs("\r\n", f);
}

static void csv_header(FILE *f, const char *columns)
{
    for (const char *p = columns; *p != '\0'; p++) { /* bound: strlen(columns) */
        if (*p != ' ') (void)fputc(*p, f);
    }
    (void)fputs("\r\n", f);
}

static void write_csv_table(rpt_ctx *ctx, const char *dir, size_t t)
{
    static const char where[] = "rpt_report_write";
    rpt_buf path = { 0 }, tmp = { 0 }, sql = { 0 };
    rpt_buf_printf(&path, "%s/%s.csv", dir, csv_tables[t].table);
    char filter[RPT_RUN_FILTER_MAX];
    rpt_run_filter(ctx, csv_tables[t].child ? "run_id" : "id", filter, sizeof filter);
    if (strcmp(csv_tables[t].table, "campaigns") == 0) {
        /* The campaigns of the runs selected; every one when none is. */
        if (filter[0] == '\0') {
            rpt_buf_printf(&sql, "SELECT %s FROM campaigns ORDER BY id", csv_tables[t].columns);
        } else {
            rpt_buf_printf(&sql, "SELECT %s FROM campaigns WHERE id IN (SELECT campaign_id FROM runs WHERE 1 = 1%s) "
                                 "ORDER BY id", csv_tables[t].columns, filter);
        }
    } else {
        rpt_buf_printf(&sql, "SELECT %s FROM %s WHERE 1 = 1%s ORDER BY id", csv_tables[t].columns,
                       csv_tables[t].table, filter);
    }
    if (path.failed || sql.failed) {
        (void)rpt_fail(ctx, SIM_ERR_NOMEM, where, "out of memory");
        goto out_free;
    }
    if (output_is_input(ctx, rpt_buf_str(&path))) {
        (void)rpt_fail(ctx, SIM_ERR_INVALID, where, "%s is an input of the report: refusing to overwrite it",
                       rpt_buf_str(&path));
        goto out_free;
    }
    FILE *f = create_temp_beside(rpt_buf_str(&path), &tmp);
    if (f == NULL) {
        (void)rpt_fail(ctx, SIM_ERR_IO, where, "cannot create a file beside %s: %s", rpt_buf_str(&path),
                       strerror(errno));
        goto out_free;
    }
    (void)setvbuf(f, NULL, _IOFBF, (size_t)1 << 20);   /* a big table is hundreds of MB: fewer writes */
    csv_header(f, csv_tables[t].columns);
    rpt_query_each(ctx, rpt_buf_str(&sql), csv_row, f);
    bool written = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
    written = fclose(f) == 0 && written;
    if (ctx->status == SIM_OK && !written) {
        (void)rpt_fail(ctx, SIM_ERR_IO, where, "cannot write %s", rpt_buf_str(&tmp));
    }
    if (ctx->status == SIM_OK && rename(rpt_buf_str(&tmp), rpt_buf_str(&path)) != 0) {
        (void)rpt_fail(ctx, SIM_ERR_IO, where, "cannot rename %s: %s", rpt_buf_str(&tmp), strerror(errno));
    }
    if (ctx->status != SIM_OK) (void)remove(rpt_buf_str(&tmp));
out_free:
    rpt_buf_deinit(&path);
    rpt_buf_deinit(&tmp);
    rpt_buf_deinit(&sql);
}

static void write_csv(rpt_ctx *ctx, const char *dir)
{
    struct stat st;
    if (strcmp(dir, "-") == 0) {
        (void)rpt_fail(ctx, SIM_ERR_INVALID, "rpt_report_write",
                       "--format csv writes one file per table: -o must name a directory");
        return;
    }
    if (stat(dir, &st) != 0) {
        if (mkdir(dir, 0777) != 0) {
            (void)rpt_fail(ctx, SIM_ERR_IO, "rpt_report_write", "cannot create directory %s: %s", dir,
                           strerror(errno));
            return;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        (void)rpt_fail(ctx, SIM_ERR_IO, "rpt_report_write", "%s exists and is not a directory", dir);
        return;
    }
    for (size_t t = 0; t < sizeof csv_tables / sizeof csv_tables[0]; t++) write_csv_table(ctx, dir, t);
}

/* ========================================================================
 * Entry points
 * ======================================================================== */

static void write_html(rpt_ctx *ctx, const char *out_path)
{
    rpt_buf b = { 0 };
    rpt_html_write(ctx, &b);
    if (b.failed) (void)rpt_fail(ctx, SIM_ERR_NOMEM, "rpt_report_write", "out of memory building the report");
    write_whole_file(ctx, out_path, rpt_buf_str(&b), b.len);
    rpt_buf_deinit(&b);
}

static sim_status check_options(const char *db_path, rpt_format format, const rpt_report_options *opt,
                                const char *out_path, sim_error *err)
{
    static const char where[] = "rpt_report_write";
    if (db_path == NULL || db_path[0] == '\0') return sim_error_set(err, SIM_ERR_INVALID, where, "no database given");
    if (out_path == NULL || out_path[0] == '\0') return sim_error_set(err, SIM_ERR_INVALID, where, "no output given (-o)");
    if (format != RPT_FORMAT_HTML && format != RPT_FORMAT_MARKDOWN && format != RPT_FORMAT_CSV) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "unknown format %d", (int)format);
    }
    if (opt->run_id < 0) return sim_error_set(err, SIM_ERR_INVALID, where, "run id %" PRId64 " is negative", opt->run_id);
    if (opt->campaign_id < 0) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "campaign id %" PRId64 " is negative", opt->campaign_id);
    }
    if (opt->window_to_ns != 0 && opt->window_to_ns <= opt->window_from_ns) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "the window ends before it starts");
    }
    bool window = opt->window_to_ns != 0 || opt->window_from_ns != 0;
    if (format != RPT_FORMAT_HTML && (window || opt->trace_path != NULL)) {
        return sim_error_set(err, SIM_ERR_INVALID, where,
                             "--window and --trace apply to --format html only (they select what is drawn)");
    }
    if (opt->worst_per_scenario > RPT_REPORT_WORST_MAX) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "--worst %u is above the limit of %u",
                             opt->worst_per_scenario, RPT_REPORT_WORST_MAX);
    }
    struct stat st;
    if (stat(db_path, &st) != 0) {
        return sim_error_set(err, SIM_ERR_IO, where, "no database at %s (%s); write one with distrosim run ... --db %s",
                             db_path, strerror(errno), db_path);
    }
    if (!S_ISREG(st.st_mode)) return sim_error_set(err, SIM_ERR_IO, where, "%s is not a file", db_path);
    return SIM_OK;
}

/* --campaign latest: the highest campaigns.id; --campaign ID: it must
 * exist. */
static void resolve_campaign(rpt_ctx *ctx)
{
    rpt_rows rows = { 0 };
    if (ctx->opt.campaign_latest) {
        rpt_query(ctx, &rows, "SELECT id FROM campaigns ORDER BY id DESC LIMIT 1");
        if (ctx->status == SIM_OK && rows.count == 0) {
            (void)rpt_fail(ctx, SIM_ERR_INVALID, "rpt_report_write", "no campaign recorded in %s", ctx->db_path);
        } else if (ctx->status == SIM_OK) {
            ctx->opt.campaign_id = rpt_cell_i64(&rows, 0, 0);
        }
    } else {
        rpt_query(ctx, &rows, "SELECT count(*) FROM campaigns WHERE id = %" PRId64, ctx->opt.campaign_id);
        if (ctx->status == SIM_OK && (rows.count != 1 || rpt_cell_i64(&rows, 0, 0) == 0)) {
            (void)rpt_fail(ctx, SIM_ERR_INVALID, "rpt_report_write", "no campaign with id %" PRId64 " in %s",
                           ctx->opt.campaign_id, ctx->db_path);
        }
    }
    rpt_rows_deinit(&rows);
}

sim_status rpt_report_write(const char *db_path, rpt_format format, const rpt_report_options *opt,
                            const char *out_path, sim_error *err)
{
    static const rpt_report_options defaults;        /* zeroed: every default */
    if (opt == NULL) opt = &defaults;
    sim_status st = check_options(db_path, format, opt, out_path, err);
    if (st != SIM_OK) return st;

    rpt_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = *opt;
    ctx.db_path = db_path;
    ctx.err = err;
    ctx.status = SIM_OK;
    if (ctx.opt.worst_per_scenario == 0) ctx.opt.worst_per_scenario = RPT_REPORT_WORST_DEFAULT;
    char title[256];
    if (ctx.opt.title == NULL) {
        snprintf(title, sizeof title, "distrosim report: %s", base_name(db_path));
        ctx.opt.title = title;
    }
    if (format != RPT_FORMAT_CSV && strcmp(out_path, "-") != 0 && output_is_input(&ctx, out_path)) {
        return sim_error_set(err, SIM_ERR_INVALID, "rpt_report_write",
                             "-o %s is an input of the report: refusing to overwrite it", out_path);
    }
    st = rpt_db_open_readonly(db_path, &ctx.db, err);
    if (st != SIM_OK) return st;
    if (ctx.opt.reverse_unordered) rpt_db_set_reverse_unordered(ctx.db, true);

    if (ctx.opt.campaign_latest || ctx.opt.campaign_id > 0) resolve_campaign(&ctx);
    if (ctx.status == SIM_OK && ctx.opt.run_id > 0) {
        rpt_rows rows = { 0 };
        rpt_query(&ctx, &rows, "SELECT count(*) FROM runs WHERE id = %" PRId64, ctx.opt.run_id);
        if (ctx.status == SIM_OK && (rows.count != 1 || rpt_cell_i64(&rows, 0, 0) == 0)) {
            (void)rpt_fail(&ctx, SIM_ERR_INVALID, "rpt_report_write", "no run with id %" PRId64 " in %s",
                           ctx.opt.run_id, db_path);
        }
        rpt_rows_deinit(&rows);
    }
    if (ctx.status == SIM_OK) {
        switch (format) {
        case RPT_FORMAT_HTML: write_html(&ctx, out_path); break;
        case RPT_FORMAT_MARKDOWN: write_markdown(&ctx, out_path); break;
        case RPT_FORMAT_CSV: write_csv(&ctx, out_path); break;
        }
    }
    rpt_db_close(ctx.db);
    return ctx.status;
}

/* ========================================================================
 * Command line
 * ======================================================================== */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: distrosim report DB -o OUT [--format html|markdown|csv] [--run ID] [--campaign ID|latest]\n"
            "                       [--window FROM-TO] [--trace FILE] [--worst N] [--title TEXT]\n"
            "\n"
            "Renders the results database DB (written by run, check and sweep).  DB is opened\n"
            "read-only and left byte for byte unchanged; OUT is written beside its final name\n"
            "and renamed into place, and may not be DB or the --trace file.\n"
            "  --format html      one self-contained page with charts (default; also for OUT *.html)\n"
            "  --format markdown  the summary tables, e.g. for a CI step summary (default for OUT *.md)\n"
            "  --format csv       one RFC 4180 file per table into the directory OUT\n"
            "  -o OUT             output file (\"-\" = standard output) or, for csv, directory;\n"
            "                     a file name ends in .html or .htm (html), .md or .markdown\n"
            "                     (markdown), or has no extension\n"
            "  --run ID           report on one run (its id in table runs)\n"
            "  --campaign ID      report on the runs of one campaign (its id in table campaigns;\n"
            "                     \"latest\" = the last one); by default the report pools every\n"
            "                     campaign in DB and lists them\n"
            "  --window FROM-TO   html: time range of the run timelines and the space-time\n"
            "                     diagram, e.g. 70s-72.5s or 69500ms-71s (a bare number is seconds)\n"
            "  --trace FILE       html: draw the space-time diagram of messages from a trace of\n"
            "                     the run, written by distrosim replay SCENARIO --seed N --perfetto FILE\n"
            "  --worst N          html: timelines for the N worst runs of each scenario (default %u)\n"
            "  --title TEXT       page title\n"
            "Exit 0 when the report was written, 2 on bad arguments or any error.\n",
            RPT_REPORT_WORST_DEFAULT);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The extension of OUT's file name ("" when it has none; a leading dot,
 * as in ".report", is no extension). */
static const char *extension_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash != NULL ? slash + 1 : path;
    const char *dot = strrchr(name, '.');
    return dot != NULL && dot != name ? dot : "";
}

/* An html or markdown OUT must end in an extension that format writes (or
 * have none): report.pdf, or --format markdown -o report.html, would give a
 * file that opens as something else.  The csv output is a directory and
 * "-" is standard output.  False after a message naming what it can write. */
static bool output_extension_ok(const char *out, rpt_format format)
{
    if (format == RPT_FORMAT_CSV || strcmp(out, "-") == 0) return true;
    const char *ext = extension_of(out);
    bool html = strcmp(ext, ".html") == 0 || strcmp(ext, ".htm") == 0;
    bool md = strcmp(ext, ".md") == 0 || strcmp(ext, ".markdown") == 0;
    if (ext[0] == '\0' || (format == RPT_FORMAT_HTML && html) || (format == RPT_FORMAT_MARKDOWN && md)) return true;
    if (!html && !md) {
        fprintf(stderr,
                "distrosim report: -o %s: cannot write a %s file; the report writes .html or .htm (html), .md or "
                ".markdown (markdown), or a directory with --format csv\n",
                out, ext);
    } else {
        fprintf(stderr, "distrosim report: -o %s: a %s file is not what --format %s writes (%s)\n", out, ext,
                format == RPT_FORMAT_HTML ? "html" : "markdown",
                format == RPT_FORMAT_HTML ? ".html or .htm" : ".md or .markdown");
    }
    return false;
}

/* "FROM-TO", each a duration in the scenario grammar, FROM < TO.  On
 * failure err says which half is wrong and why. */
static bool parse_window(const char *text, sim_time_ns *from, sim_time_ns *to, sim_error *err)
{
    const char *dash = strchr(text, '-');
    if (dash == NULL || dash == text || strchr(dash + 1, '-') != NULL) {
        (void)sim_error_set(err, SIM_ERR_INVALID, "--window", "expected FROM-TO");
        return false;
    }
    char first[64];
    size_t n = (size_t)(dash - text);
    if (n >= sizeof first) {
        (void)sim_error_set(err, SIM_ERR_INVALID, "--window", "FROM is longer than %zu characters", sizeof first - 1);
        return false;
    }
    memcpy(first, text, n);
    first[n] = '\0';
    if (sim_duration_parse(first, from, err) != SIM_OK || sim_duration_parse(dash + 1, to, err) != SIM_OK) {
        return false;
    }
    if (*to <= *from) {
        (void)sim_error_set(err, SIM_ERR_INVALID, "--window", "FROM is not before TO");
        return false;
    }
    return true;
}

static bool parse_u32(const char *text, uint32_t max, uint32_t *out)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9') return false;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) return false;
    *out = (uint32_t)v;
    return true;
}

int rpt_report_main(int argc, char **argv)
{
    const char *db = NULL, *out = NULL, *format_name = NULL;
    rpt_report_options opt;
    memset(&opt, 0, sizeof opt);
    for (int i = 0; i < argc; i++) {                 /* bound: argc */
        const char *arg = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        bool takes = strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0 || strcmp(arg, "--format") == 0 ||
                     strcmp(arg, "--run") == 0 || strcmp(arg, "--window") == 0 || strcmp(arg, "--trace") == 0 ||
                     strcmp(arg, "--worst") == 0 || strcmp(arg, "--title") == 0 || strcmp(arg, "--campaign") == 0;
        if (takes && next == NULL) {
            fprintf(stderr, "distrosim report: %s needs a value\n", arg);
            return 2;
        }
        if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0) {
            out = next;
        } else if (strcmp(arg, "--format") == 0) {
            format_name = next;
        } else if (strcmp(arg, "--run") == 0) {
            char *end = NULL;
            errno = 0;
            long long v = strtoll(next, &end, 10);
            if (next[0] < '1' || next[0] > '9' || errno != 0 || *end != '\0' || v <= 0) {
                fprintf(stderr, "distrosim report: --run: expected a run id (1, 2, ...), got \"%s\"\n", next);
                return 2;
            }
            opt.run_id = (int64_t)v;
        } else if (strcmp(arg, "--campaign") == 0) {
            char *end = NULL;
            errno = 0;
            long long v = strcmp(next, "latest") == 0 ? 0 : strtoll(next, &end, 10);
            opt.campaign_latest = strcmp(next, "latest") == 0;
            if (!opt.campaign_latest && (next[0] < '1' || next[0] > '9' || errno != 0 || *end != '\0' || v <= 0)) {
                fprintf(stderr, "distrosim report: --campaign: expected a campaign id (1, 2, ...) or latest, got \"%s\"\n",
                        next);
                return 2;
            }
            opt.campaign_id = (int64_t)v;
        } else if (strcmp(arg, "--window") == 0) {
            sim_error werr = { 0 };
            if (!parse_window(next, &opt.window_from_ns, &opt.window_to_ns, &werr)) {
                fprintf(stderr, "distrosim report: --window: expected FROM-TO with FROM < TO, such as 70s-72.5s, "
                                "got \"%s\": %s\n", next, werr.message);
                return 2;
            }
        } else if (strcmp(arg, "--trace") == 0) {
            opt.trace_path = next;
        } else if (strcmp(arg, "--worst") == 0) {
            if (!parse_u32(next, RPT_REPORT_WORST_MAX, &opt.worst_per_scenario) || opt.worst_per_scenario == 0) {
                fprintf(stderr, "distrosim report: --worst: expected 1..%u, got \"%s\"\n", RPT_REPORT_WORST_MAX, next);
                return 2;
            }
        } else if (strcmp(arg, "--title") == 0) {
            opt.title = next;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "distrosim report: unknown option %s (see distrosim report --help)\n", arg);
            return 2;
        } else if (db == NULL) {
            db = arg;
            continue;
        } else {
            fprintf(stderr, "distrosim report: one database only; unexpected \"%s\"\n", arg);
            return 2;
        }
        i++;
    }
    if (db == NULL || out == NULL) {
        fprintf(stderr, "distrosim report: %s\n", db == NULL ? "no database given" : "no output given (-o OUT)");
        usage(stderr);
        return 2;
    }
    rpt_format format = RPT_FORMAT_HTML;
    if (format_name == NULL) {
        format = ends_with(out, ".md") || ends_with(out, ".markdown") ? RPT_FORMAT_MARKDOWN : RPT_FORMAT_HTML;
    } else if (strcmp(format_name, "html") == 0) {
        format = RPT_FORMAT_HTML;
    } else if (strcmp(format_name, "markdown") == 0 || strcmp(format_name, "md") == 0) {
        format = RPT_FORMAT_MARKDOWN;
    } else if (strcmp(format_name, "csv") == 0) {
        format = RPT_FORMAT_CSV;
    } else {
        fprintf(stderr, "distrosim report: --format: expected html, markdown or csv, got \"%s\"\n", format_name);
        return 2;
    }
    if (!output_extension_ok(out, format)) return 2;
    sim_error err;
    memset(&err, 0, sizeof err);
    sim_status st = rpt_report_write(db, format, &opt, out, &err);
    if (st != SIM_OK) {
        fprintf(stderr, "distrosim report: %s (%s)\n", err.message, sim_status_name(st));
        return 2;
    }
    return 0;
}
