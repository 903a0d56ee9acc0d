/* rpt_html.c: the HTML report: one self-contained page (inline CSS and SVG,
 * no script, no external resource), assembled in memory.
 *
 * Page layout (each part a <section> with an id the table of contents links):
 *
 *   summary     verdict counts per scenario (table and bars), failing runs
 *               with their repro commands, the builds that wrote the runs
 *   scenarios   per scenario: convergence after the last fault (CDF over
 *               seeds, p50/p90/p99/max), anomaly windows (table, histogram of
 *               lost/zombie durations), replication lag (table, CDF of the
 *               per-run percentiles), traffic by type, fate and node
 *   versions    a cluster.version sweep side by side: per scenario one row
 *               per version (rpt_version_columns)
 *   sweeps      per swept parameter: convergence p50/max and the longest
 *               lost window against the value, one line per scenario
 *   runs        per drawn run: facts, expectations, faults, the timeline of
 *               divergent keys, keys per node, membership views, and the
 *               longest lost/zombie windows
 *   spacetime   messages of one run in a time window, from a trace file
 *
 * Which runs are drawn: the --run run; else every run when there are at most
 * RPT_REPORT_ALL_RUNS_MAX; else the worst `worst_per_scenario` of each
 * scenario (errors, then failures, then never converged, then slowest to
 * converge after the last fault, then id).  That keeps the page a few MB
 * for any number of runs (rpt_report.h (3)).
 *
 * Every chart is drawn only when it has data (rpt_svg.c (1)); otherwise the
 * card says in words why there is nothing to draw. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt_escape.h"
#include "rpt_report_int.h"
#include "sim_alloc.h"
#include "sim_assert.h"

#define NS_PER_S 1e9
/* Lanes of the space-time diagram and nodes of a run timeline: 64 lanes of
 * 170 px is already an 11,000 px wide picture; Nacos clusters have 3-50. */
#define RPT_SPACETIME_LANES_MAX 64u
/* Message types with a colour of their own in the space-time diagram and
 * its legend: the palette twice (the second round dashed); Nacos 1.4.2 has
 * fewer request and response types than that. */
#define RPT_SPACETIME_TYPES_MAX (2u * RPT_PALETTE_SIZE)
#define RPT_TIMELINE_NODES_MAX 64u
#define FAULT_FILL "#f6caca"
#define CHART_W 580.0

struct scenario_data;

typedef struct html {
    rpt_ctx *ctx;
    rpt_buf *out;
    rpt_rows scen;               /* rpt_q_verdicts: one row per scenario */
    rpt_rows picked;             /* runs drawn: id, scenario_name */
    int64_t runs_total;
    bool has_sweeps;
    bool has_versions;           /* some run has a cluster.version sweep parameter */
    const struct scenario_data *data;   /* the folds of the page, loaded once; NULL outside rpt_html_write */
    const rpt_window_stats *windows;    /* data's window fold (scenario-major) */
} html;

static const char PAGE_CSS[] =
    "body{margin:0;background:#f5f6f8;color:#1f2328;"
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif}"
    "main{max-width:1360px;margin:0 auto;padding:12px 28px 60px}"
    "h1{font-size:24px;margin:18px 0 4px}"
    "h2{font-size:19px;margin:34px 0 10px;padding-bottom:4px;border-bottom:2px solid #d0d7de}"
    "h3{font-size:16px;margin:22px 0 6px}"
    "h4{font-size:14px;margin:0 0 6px}"
    "nav{margin:6px 0 0;font-size:13px}nav a{margin-right:14px}"
    "a{color:#0b61c4;text-decoration:none}a:hover{text-decoration:underline}"
    "table{border-collapse:collapse;margin:6px 0 10px;background:#fff}"
    "th,td{padding:3px 9px;border:1px solid #e1e4e8;text-align:left;vertical-align:top}"
    "th{background:#f0f2f5;font-weight:600}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.n{white-space:nowrap}"
    ".card th,.card td{padding:3px 6px}"
    "code{font:12px/1.4 ui-monospace,'DejaVu Sans Mono',Menlo,monospace;background:#eef1f4;"
    "padding:1px 4px;border-radius:3px;word-break:break-all}"
    ".pass{color:#1a7f37;font-weight:600}.fail{color:#c62828;font-weight:700}.error{color:#9a4d00;font-weight:700}"
    ".lead{font-size:15px}.note{color:#57606a;font-size:13px;max-width:900px}"
    ".empty{font-size:16px;padding:18px;background:#fff;border:1px dashed #c9ced6;border-radius:6px}"
    ".grid{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}"
    ".card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 12px;box-sizing:border-box;"
    "width:624px;overflow-x:auto}"
    ".card table{margin-top:0}"
    "table.overview tr.failing td{background:#fff5f5}"
    "table.versions tbody{border-top:2px solid #8c959f}"
    "section.scenario,section.run{margin-bottom:26px}"
    "svg.chart{display:block;background:#fff;overflow:visible}"
    "svg .ct{font:600 13px sans-serif;fill:#1f2328}"
    "svg .tk{font:11px sans-serif;fill:#57606a}"
    "svg .at{font:12px sans-serif;fill:#24292f}"
    "svg .gr{stroke:#eceff2;fill:none}"
    "svg .ax{stroke:#8c959f;fill:none}"
    "svg .sp{font:10px sans-serif;fill:#9b1c1c}"
    "svg .lg text{font:11px sans-serif;fill:#24292f}"
    "svg .ln{font:11px sans-serif;fill:#24292f;font-weight:600}"
    "svg .span{stroke:none;fill-opacity:.75}";

/* ========================================================================
 * Small helpers
 * ======================================================================== */

static void put(html *h, const char *s) { rpt_buf_put(h->out, s); }

static void esc(html *h, const char *s) { rpt_buf_html(h->out, s); }

/* The rows [*b, *e) of `rows` whose column `col` equals `key`; rows are
 * sorted on that column, so they are contiguous.  O(rows). */
static void range_of(const rpt_rows *rows, int col, const char *key, size_t *b, size_t *e)
{
    *b = *e = rows->count;
    for (size_t r = 0; r < rows->count; r++) {       /* bound: rows->count */
        const char *v = rpt_cell(rows, r, col);
        bool match = v != NULL && strcmp(v, key) == 0;
        if (match && *b == rows->count) *b = r;
        if (!match && *b != rows->count) {
            *e = r;
            return;
        }
    }
}

static void td_n(html *h, const char *text)
{
    put(h, "<td class=\"n\">");
    esc(h, text);
    put(h, "</td>");
}

/* A convergence cell: NULL = no fault, -1 = never. */
static void td_conv(html *h, const rpt_rows *rows, size_t r, int c)
{
    char t[32];
    if (rpt_cell_null(rows, r, c)) {
        td_n(h, "no fault");
        return;
    }
    int64_t v = rpt_cell_i64(rows, r, c);
    td_n(h, v < 0 ? "never" : rpt_fmt_ns_i64(v, t, sizeof t));
}

static void verdict_span(html *h, const char *verdict)
{
    const char *v = verdict != NULL ? verdict : "?";
    rpt_buf_printf(h->out, "<span class=\"%s\">", strcmp(v, "pass") == 0 ? "pass" : strcmp(v, "fail") == 0 ? "fail" : "error");
    esc(h, v);
    put(h, "</span>");
}

static bool run_is_drawn(const html *h, const char *id)
{
    for (size_t r = 0; r < h->picked.count; r++) {   /* bound: drawn runs */
        if (strcmp(rpt_cell(&h->picked, r, 0), id) == 0) return true;
    }
    return false;
}

static double seconds(int64_t ns) { return (double)ns / NS_PER_S; }

/* The end of the first shell word of `cmd` (repro commands are shell words,
 * rpt_esc_shell): a quoted program path may itself hold " run ". */
static const char *first_word_end(const char *cmd)
{
    const char *p = cmd;
    while (*p != '\0' && *p != ' ') {               /* bound: strlen(cmd) */
        if (*p == '\'') {
            const char *close = strchr(p + 1, '\'');
            if (close == NULL) return p + strlen(p);
            p = close + 1;
        } else {
            p += p[1] != '\0' && *p == '\\' ? 2 : 1;
        }
    }
    return p;
}

/* Replay command for a run: its repro command with "run" replaced by
 * "replay" and a --perfetto output, or one built from path and seed. */
static void replay_command(rpt_buf *b, const char *repro, const char *path, const char *seed)
{
    const char *run = repro != NULL ? first_word_end(repro) : NULL;
    if (run != NULL && strncmp(run, " run ", 5) == 0) {
        rpt_buf_putn(b, repro, (size_t)(run - repro));
        rpt_buf_put(b, " replay ");
        rpt_buf_put(b, run + 5);
    } else {
        rpt_buf_put(b, "distrosim replay ");
        rpt_esc_shell(path != NULL ? path : "SCENARIO.yaml", rpt_buf_sink, b);
        rpt_buf_printf(b, " --seed %s", seed != NULL ? seed : "N");
    }
    rpt_buf_put(b, " --perfetto trace.json");
}

/* ========================================================================
 * CDF charts
 * ======================================================================== */

/* Points of the CDF of `expr` over the runs matching `where`, per scenario:
 * s, k, n, v; only finite values, cut to RPT_REPORT_CDF_POINTS_MAX steps
 * plus the first and last finite point. */
static void cdf_query(html *h, rpt_rows *rows, const char *expr, const char *where)
{
    char f[RPT_RUN_FILTER_MAX];
    rpt_query(h->ctx, rows,
              "WITH d AS (SELECT scenario_name AS s, id, %s AS v FROM runs WHERE %s%s), "
              "r AS (SELECT s, id, v, row_number() OVER (PARTITION BY s ORDER BY v IS NULL, v, id) AS k, "
              "count(*) OVER (PARTITION BY s) AS n, count(v) OVER (PARTITION BY s) AS nf FROM d) "
              "SELECT s, k, n, v FROM r WHERE v IS NOT NULL AND (k = 1 OR k = nf OR "
              "(k * %u) / n <> ((k - 1) * %u) / n) ORDER BY s, k, id",
              expr, where, rpt_run_filter(h->ctx, "id", f, sizeof f), RPT_REPORT_CDF_POINTS_MAX,
              RPT_REPORT_CDF_POINTS_MAX);
}

typedef struct cdf_line {
    const rpt_rows *rows;
    size_t b, e;                 /* the scenario's rows */
    const char *name;
    const char *color;
} cdf_line;

static void cdf_chart(html *h, const char *title, const char *x_title, const cdf_line *lines, size_t n)
{
    double xmax = 0.0;
    size_t points = 0;
    for (size_t l = 0; l < n; l++) {
        for (size_t r = lines[l].b; r < lines[l].e; r++) {
            double v = seconds(rpt_cell_i64(lines[l].rows, r, 3));
            if (v > xmax) xmax = v;
            points++;
        }
    }
    if (points == 0) return;
    rpt_chart c;
    rpt_chart_begin(&c, h->out, title, CHART_W, 250.0);
    rpt_chart_range(&c, 0.0, xmax > 0.0 ? xmax * 1.04 : 1.0, 0.0, 100.0);
    rpt_chart_nice(&c, true, false);
    rpt_chart_axes(&c, x_title, "runs at or below (%)");
    for (size_t l = 0; l < n; l++) {                 /* bound: n lines */
        size_t count = lines[l].e - lines[l].b;
        if (count == 0) continue;
        double *xs = sim_calloc(count + 1, sizeof *xs), *ys = sim_calloc(count + 1, sizeof *ys);
        if (xs == NULL || ys == NULL) {
            free(xs);
            free(ys);
            (void)rpt_fail(h->ctx, SIM_ERR_NOMEM, "rpt_html", "out of memory drawing a CDF");
            return;
        }
        xs[0] = seconds(rpt_cell_i64(lines[l].rows, lines[l].b, 3));
        ys[0] = 0.0;
        for (size_t r = 0; r < count; r++) {
            size_t row = lines[l].b + r;
            xs[r + 1] = seconds(rpt_cell_i64(lines[l].rows, row, 3));
            ys[r + 1] = 100.0 * (double)rpt_cell_i64(lines[l].rows, row, 1) /
                        (double)rpt_cell_i64(lines[l].rows, row, 2);
        }
        rpt_chart_line(&c, xs, ys, count + 1, lines[l].color, true, false, lines[l].name);
        free(xs);
        free(ys);
    }
    if (n > 1) {
        const char *names[8], *colors[8];
        size_t k = n < 8 ? n : 8;
        for (size_t l = 0; l < k; l++) {
            names[l] = lines[l].name;
            colors[l] = lines[l].color;
        }
        rpt_chart_legend(&c, names, colors, k);
    }
    rpt_chart_end(&c);
}

/* ========================================================================
 * Head, table of contents, summary
 * ======================================================================== */

static void page_head(html *h)
{
    put(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    esc(h, h->ctx->opt.title);
    put(h, "</title>\n<style>");
    put(h, PAGE_CSS);
    put(h, "</style>\n</head>\n<body>\n<main>\n<h1>");
    esc(h, h->ctx->opt.title);
    put(h, "</h1>\n");
}

static void page_toc(html *h)
{
    put(h, "<nav><a href=\"#summary\">Summary</a>");
    if (h->has_versions && h->ctx->opt.run_id == 0) put(h, "<a href=\"#versions\">Version comparison</a>");
    if (h->ctx->opt.run_id == 0) put(h, "<a href=\"#scenarios\">Scenarios</a>");
    if (h->has_sweeps && h->ctx->opt.run_id == 0) put(h, "<a href=\"#sweeps\">Sweeps</a>");
    put(h, "<a href=\"#runs\">Run timelines</a><a href=\"#spacetime\">Space-time diagram</a></nav>\n");
}

static void verdict_chart(html *h)
{
    size_t n = h->scen.count;
    if (n == 0 || n > 60) return;                    /* a table says it better beyond 60 rows */
    const char **labels = sim_calloc(n, sizeof *labels);
    double *values = sim_calloc(n * 3, sizeof *values);
    if (labels == NULL || values == NULL) {
        free(labels);
        free(values);
        (void)rpt_fail(h->ctx, SIM_ERR_NOMEM, "rpt_html", "out of memory");
        return;
    }
    for (size_t r = 0; r < n; r++) {
        labels[r] = rpt_cell(&h->scen, r, 0);
        for (int v = 0; v < 3; v++) values[r * 3 + (size_t)v] = (double)rpt_cell_i64(&h->scen, r, 2 + v);
    }
    static const char *const series[] = { "pass", "fail", "error" };
    static const char *const colors[] = { "#2da44e", "#cf222e", "#bf8700" };
    rpt_svg_hbars(h->out, "Verdicts per scenario", labels, n, series, 3, values, colors, "runs (count)",
                  "scenario", false);
    free(labels);
    free(values);
}

static void summary_failing(html *h)
{
    rpt_rows rows = { 0 };
    rpt_q_failing(h->ctx, &rows);
    put(h, "<h3>Failing runs</h3>\n");
    if (rows.count == 0) {
        put(h, "<p class=\"pass\">Every run passed.</p>\n");
        rpt_rows_deinit(&rows);
        return;
    }
    put(h, "<table><thead><tr><th class=\"n\">run</th><th>scenario</th><th class=\"n\">seed</th><th>verdict</th>"
           "<th>first failed expectation</th><th>reproduce with</th></tr></thead><tbody>\n");
    size_t listed = rows.count > RPT_REPORT_FAILING_LISTED_MAX ? RPT_REPORT_FAILING_LISTED_MAX : rows.count;
    for (size_t r = 0; r < listed; r++) {
        const char *id = rpt_cell(&rows, r, 0);
        put(h, "<tr><td class=\"n\">");
        if (run_is_drawn(h, id)) {
            rpt_buf_printf(h->out, "<a href=\"#run-%s\">%s</a>", id, id);
        } else {
            esc(h, id);
        }
        put(h, "</td><td>");
        esc(h, rpt_cell(&rows, r, 1));
        put(h, "</td>");
        td_n(h, rpt_cell(&rows, r, 2));
        put(h, "<td>");
        verdict_span(h, rpt_cell(&rows, r, 3));
        put(h, "</td><td>");
        esc(h, rpt_cell(&rows, r, 4) != NULL ? rpt_cell(&rows, r, 4) : "");
        put(h, "</td><td><code>");
        esc(h, rpt_cell(&rows, r, 5) != NULL ? rpt_cell(&rows, r, 5) : "(not recorded)");
        put(h, "</code></td></tr>\n");
    }
    put(h, "</tbody></table>\n");
    if (rows.count > listed) {
        rpt_buf_printf(h->out, "<p class=\"note\">Only the first %u failing runs are listed (by scenario, then run id).</p>\n",
                       RPT_REPORT_FAILING_LISTED_MAX);
    }
    rpt_rows_deinit(&rows);
}

static void summary_builds(html *h)
{
    rpt_rows rows = { 0 };
    char f[RPT_RUN_FILTER_MAX];
    rpt_query(h->ctx, &rows,
              "SELECT coalesce(build, '(unknown)') AS b, count(*) FROM runs WHERE 1 = 1%s GROUP BY b ORDER BY b",
              rpt_run_filter(h->ctx, "id", f, sizeof f));
    if (rows.count > 0) {
        put(h, "<p class=\"note\">Written by ");
        for (size_t r = 0; r < rows.count && r < 10; r++) {
            if (r > 0) put(h, "; ");
            put(h, "<code>");
            esc(h, rpt_cell(&rows, r, 0));
            rpt_buf_printf(h->out, "</code> (%s runs)", rpt_cell_s(&rows, r, 1));
        }
        put(h, ".</p>\n");
    }
    rpt_rows_deinit(&rows);
}

/* Which campaigns the page pools (nothing for a file without campaign
 * records). */
static void summary_campaigns(html *h)
{
    rpt_rows rows = { 0 };
    rpt_q_campaigns(h->ctx, &rows);
    if (rows.count > 0) {
        if (h->ctx->opt.campaign_id > 0) {
            rpt_buf_printf(h->out, "<p class=\"note\">Campaign %" PRId64 " only:</p>\n", h->ctx->opt.campaign_id);
        } else {
            rpt_buf_printf(h->out, "<p class=\"note\">Pools %zu campaign%s:</p>\n", rows.count,
                           rows.count == 1 ? "" : "s");
        }
        put(h, "<table><thead><tr><th class=\"n\">campaign</th><th>command line</th><th>state</th>"
               "<th class=\"n\">runs</th></tr></thead><tbody>\n");
        for (size_t r = 0; r < rows.count; r++) {
            put(h, "<tr>");
            td_n(h, rpt_cell(&rows, r, 0));
            put(h, "<td><code>");
            esc(h, rpt_cell_s(&rows, r, 1));
            put(h, "</code></td><td>");
            esc(h, rpt_cell_s(&rows, r, 2));
            if (rpt_cell(&rows, r, 3) != NULL) {
                put(h, " (");
                esc(h, rpt_cell(&rows, r, 3));
                put(h, ")");
            }
            if (rpt_cell(&rows, r, 5) != NULL) {      /* --shard K/N */
                put(h, ", ");
                esc(h, rpt_cell(&rows, r, 5));
            }
            put(h, "</td>");
            td_n(h, rpt_cell(&rows, r, 4));
            put(h, "</tr>\n");
        }
        put(h, "</tbody></table>\n");
        int64_t orphans = rpt_q_runs_without_campaign(h->ctx);
        if (orphans > 0) {
            rpt_buf_printf(h->out, "<p class=\"note\">And %" PRId64 " runs with no campaign record.</p>\n", orphans);
        }
    }
    rpt_rows_deinit(&rows);
}

/* The overview table (rpt_overview_columns): one row per scenario, those
 * with a failing run first; the scenario links to its section (when the
 * page has one) and the scenario file closes the row. */
static void summary_overview(html *h)
{
    rpt_rows verdicts = { 0 };
    rpt_q_verdicts(h->ctx, &verdicts);
    rpt_overview ov;
    rpt_overview_load(h->ctx, &ov, &verdicts, h->windows);
    size_t ncol = 0;
    const rpt_overview_column *cols = rpt_overview_columns(&ncol);
    put(h, "<table class=\"overview\"><thead><tr>");
    for (size_t c = 0; c < ncol; c++) {
        put(h, cols[c].numeric ? "<th class=\"n\">" : "<th>");
        esc(h, cols[c].header);
        put(h, "</th>");
    }
    put(h, "<th>scenario file</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < ov.count; i++) {
        size_t s = ov.order[i];
        put(h, rpt_overview_failing(&ov, s) ? "<tr class=\"failing\">" : "<tr>");
        for (size_t c = 0; c < ncol; c++) {
            char cell[256];
            const char *text = cols[c].cell(&ov, s, cell, sizeof cell);
            if (c == 0 && h->ctx->opt.run_id == 0) {
                rpt_buf_printf(h->out, "<td><a href=\"#scenario-%zu\">", s);
                esc(h, text);
                put(h, "</a></td>");
            } else if (cols[c].numeric) {
                td_n(h, text);
            } else {
                put(h, "<td>");
                esc(h, text);
                put(h, "</td>");
            }
        }
        put(h, "<td><code>");
        esc(h, rpt_cell(&ov.verdicts, s, 5) != NULL ? rpt_cell(&ov.verdicts, s, 5) : "(unknown)");
        put(h, "</code></td></tr>\n");
    }
    put(h, "</tbody></table>\n<p class=\"note\">Scenarios with a failing run come first. Convergence is over the runs "
           "that did not stop early, from the last event that could change the truth (reports/SCHEMA.md, "
           "&ldquo;Convergence of a run&rdquo;); the worst lost window is the longest over all runs.</p>\n");
    rpt_overview_deinit(&ov);
}

static void section_summary(html *h)
{
    int64_t total[4] = { 0, 0, 0, 0 };
    for (size_t r = 0; r < h->scen.count; r++) {
        for (int c = 0; c < 4; c++) total[c] += rpt_cell_i64(&h->scen, r, 1 + c);
    }
    put(h, "<section id=\"summary\">\n<h2>Campaign summary</h2>\n");
    rpt_buf_printf(h->out,
                   "<p class=\"lead\">%" PRId64 " run%s of %zu scenario%s: <span class=\"pass\">%" PRId64
                   " passed</span>, <span class=\"%s\">%" PRId64 " failed</span>, <span class=\"%s\">%" PRId64
                   " error%s</span>.",
                   total[0], total[0] == 1 ? "" : "s", h->scen.count, h->scen.count == 1 ? "" : "s", total[1],
                   total[2] > 0 ? "fail" : "note", total[2], total[3] > 0 ? "error" : "note", total[3],
                   total[3] == 1 ? "" : "s");
    if (h->ctx->opt.run_id > 0) rpt_buf_printf(h->out, " Only run %" PRId64 " is shown.", h->ctx->opt.run_id);
    put(h, "</p>\n");
    summary_overview(h);
    if (h->ctx->opt.run_id == 0) {   /* one run: no aggregate chart */
        put(h, "<div class=\"card\">\n");
        verdict_chart(h);
        put(h, "</div>\n");
    }
    summary_failing(h);
    summary_builds(h);
    summary_campaigns(h);
    put(h, "</section>\n");
}

/* ========================================================================
 * Per scenario
 * ======================================================================== */

typedef struct scenario_data {
    rpt_rows conv, conv_cdf, lag, lag50, lag99, lagmax;
    rpt_runmap map;
    rpt_window_stats *windows;   /* scenarios * RPT_WINDOW_KINDS */
    rpt_traffic *traffic;        /* one per scenario */
    size_t scenarios;
} scenario_data;

static void scenario_data_load(html *h, scenario_data *d)
{
    rpt_q_convergence(h->ctx, &d->conv);
    cdf_query(h, &d->conv_cdf, RPT_SQL_CONVERGENCE, "verdict <> 'error'");
    rpt_q_lag(h->ctx, &d->lag);
    cdf_query(h, &d->lag50, "lag_p50_ns", "lag_count > 0");
    cdf_query(h, &d->lag99, "lag_p99_ns", "lag_count > 0");
    cdf_query(h, &d->lagmax, "lag_max_ns", "lag_count > 0");
    d->scenarios = h->scen.count;
    rpt_runmap_load(h->ctx, &h->scen, &d->map);
    rpt_fold_windows(h->ctx, &d->map, d->scenarios, &d->windows);
    rpt_fold_traffic(h->ctx, &d->map, d->scenarios, &d->traffic);
}

static void scenario_data_deinit(scenario_data *d)
{
    rpt_rows *all[] = { &d->conv, &d->conv_cdf, &d->lag, &d->lag50, &d->lag99, &d->lagmax };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) rpt_rows_deinit(all[i]);
    rpt_runmap_deinit(&d->map);
    free(d->windows);
    rpt_traffic_free(d->traffic, d->scenarios);
}

static void card_convergence(html *h, const scenario_data *d, const char *name)
{
    size_t b, e;
    range_of(&d->conv, 0, name, &b, &e);
    put(h, "<div class=\"card\"><h4>Convergence</h4>\n");
    if (b == e) {
        put(h, "<p class=\"note\">Every run of this scenario stopped early: no convergence to show.</p></div>\n");
        return;
    }
    put(h, "<table><thead><tr><th class=\"n\">runs</th><th class=\"n\">never converged</th>"
           "<th class=\"n\">p50</th><th class=\"n\">p90</th><th class=\"n\">p99</th><th class=\"n\">max</th>"
           "</tr></thead><tbody><tr>");
    td_n(h, rpt_cell(&d->conv, b, 1));
    td_n(h, rpt_cell(&d->conv, b, 2));
    for (int c = 3; c <= 6; c++) td_conv(h, &d->conv, b, c);
    put(h, "</tr></tbody></table>\n");
    cdf_line line = { .rows = &d->conv_cdf, .name = "convergence time", .color = rpt_color(0) };
    range_of(&d->conv_cdf, 0, name, &line.b, &line.e);
    if (line.b == line.e) {
        put(h, "<p class=\"note\">No run converged: nothing to draw.</p>\n");
    } else {
        cdf_chart(h, "Time to converge (CDF over seeds)",
                  "time from the last change of the truth or fault end to convergence (s)", &line, 1);
    }
    int64_t never = rpt_cell_i64(&d->conv, b, 2);
    if (never > 0) {
        rpt_buf_printf(h->out, "<p class=\"note\">%" PRId64 " run%s never converged: the curve stops below 100%%.</p>\n",
                       never, never == 1 ? "" : "s");
    }
    put(h, "</div>\n");
}

static void window_histogram(html *h, const rpt_window_stats *kinds_of_scenario)
{
    static const char *const kinds[] = { "lost", "zombie" };
    const rpt_window_stats *st[2] = { NULL, NULL };
    for (size_t k = 0; k < RPT_WINDOW_KINDS; k++) {
        if (strcmp(rpt_window_kind_name(k), "lost") == 0) st[0] = &kinds_of_scenario[k];
        if (strcmp(rpt_window_kind_name(k), "zombie") == 0) st[1] = &kinds_of_scenario[k];
    }
    SIM_ASSERT(st[0] != NULL && st[1] != NULL);
    if (st[0]->count == 0 && st[1]->count == 0) return;
    const char *buckets[RPT_WINDOW_BUCKETS];
    double ymax = 0.0;
    for (size_t b = 0; b < RPT_WINDOW_BUCKETS; b++) {
        buckets[b] = rpt_window_bucket_name(b);
        for (int k = 0; k < 2; k++) {
            if ((double)st[k]->buckets[b] > ymax) ymax = (double)st[k]->buckets[b];
        }
    }
    rpt_chart c;
    rpt_chart_begin(&c, h->out, "Lost and zombie windows by duration", CHART_W, 250.0);
    c.x_categories = RPT_WINDOW_BUCKETS;
    rpt_chart_range(&c, 0.0, (double)RPT_WINDOW_BUCKETS, 0.0, ymax);
    rpt_chart_nice(&c, false, true);
    rpt_chart_axes_categorical(&c, buckets, "window duration (bucket)", "windows (count)");
    double slot = (c.right - c.left) / (double)RPT_WINDOW_BUCKETS;
    const char *colors[] = { rpt_color(5), rpt_color(3) };
    for (int k = 0; k < 2; k++) {
        for (size_t b = 0; b < RPT_WINDOW_BUCKETS; b++) {
            int64_t n = st[k]->buckets[b];
            if (n <= 0) continue;
            double x0 = rpt_chart_px(&c, (double)b) - slot * 0.36 + (double)k * slot * 0.36;
            double y0 = rpt_chart_py(&c, (double)n);
            rpt_buf_printf(h->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                                   "<title>%s, %s: %" PRId64 " windows</title></rect>\n",
                           x0, y0, slot * 0.34, c.bottom - y0 < 0.5 ? 0.5 : c.bottom - y0, colors[k], kinds[k],
                           buckets[b], n);
            c.marks++;
        }
    }
    rpt_chart_legend(&c, kinds, colors, 2);
    rpt_chart_end(&c);
}

static void card_windows(html *h, const scenario_data *d, size_t s, int64_t runs)
{
    const rpt_window_stats *ws = &d->windows[s * RPT_WINDOW_KINDS];
    int64_t total = 0;
    for (size_t k = 0; k < RPT_WINDOW_KINDS; k++) total += ws[k].count;
    put(h, "<div class=\"card\"><h4>Anomaly windows</h4>\n");
    if (total == 0) {
        put(h, "<p class=\"note\">No anomaly window in any run.</p></div>\n");
        return;
    }
    put(h, "<table><thead><tr><th>kind</th><th class=\"n\">windows</th><th class=\"n\">per run</th>"
           "<th class=\"n\">runs with one</th><th class=\"n\">longest</th><th class=\"n\">open at end</th>"
           "</tr></thead><tbody>\n");
    for (size_t k = 0; k < RPT_WINDOW_KINDS; k++) {
        const rpt_window_stats *st = &ws[k];
        const char *kind = rpt_window_kind_name(k);
        bool key = strcmp(kind, "lost") == 0 || strcmp(kind, "zombie") == 0;
        if (st->count == 0 && !key) continue;
        put(h, key ? "<tr><td><b>" : "<tr><td>");
        esc(h, kind);
        put(h, key ? "</b></td>" : "</td>");
        char t[32];
        td_n(h, rpt_fmt_i64(st->count, t, sizeof t));
        snprintf(t, sizeof t, "%.1f", runs > 0 ? (double)st->count / (double)runs : 0.0);
        td_n(h, t);
        td_n(h, rpt_fmt_i64(st->runs, t, sizeof t));
        td_n(h, st->count > 0 ? rpt_fmt_ns_i64(st->longest_ns, t, sizeof t) : "-");
        td_n(h, rpt_fmt_i64(st->open, t, sizeof t));
        put(h, "</tr>\n");
    }
    put(h, "</tbody></table>\n<p class=\"note\">lost: a live instance missing from a node's registry; zombie: a dead "
           "one still listed. A window open at the end of its run counts until the run's end.</p>\n");
    window_histogram(h, ws);
    put(h, "</div>\n");
}

/* What readers saw in this scenario's runs (nothing when none had readers). */
static void card_clients(html *h, const rpt_rows *clients, const char *name)
{
    bool any = false;
    for (size_t r = 0; r < clients->count; r++) {
        if (strcmp(rpt_cell_s(clients, r, 0), name) != 0) continue;
        if (!any) {
            put(h, "<div class=\"card\"><h4>What clients read</h4>\n<table><thead><tr><th>source</th>"
                   "<th class=\"n\">reads</th><th class=\"n\">failed</th><th class=\"n\">empty</th>"
                   "<th class=\"n\">short</th><th class=\"n\">stale</th><th class=\"n\">longest empty</th>"
                   "<th class=\"n\">longest short</th><th class=\"n\">longest stale</th></tr></thead><tbody>\n");
            any = true;
        }
        put(h, "<tr><td>");
        esc(h, rpt_cell_s(clients, r, 1));
        put(h, "</td>");
        for (int c = 3; c <= 7; c++) td_n(h, rpt_cell_s(clients, r, c));
        for (int c = 8; c <= 10; c++) {
            char t[32];
            td_n(h, rpt_cell_null(clients, r, c) ? "-" : rpt_fmt_ns_i64(rpt_cell_i64(clients, r, c), t, sizeof t));
        }
        put(h, "</tr>\n");
    }
    if (any) {
        put(h, "</tbody></table>\n<p class=\"note\">query: answers to GET /nacos/v1/ns/instance/list; view: "
               "subscribers' HostReactor views. empty: no instance while some should be listed; short: one "
               "missing; stale: a dead one listed (past the lag and zombie allowances).</p></div>\n");
    }
}

static void card_lag(html *h, const scenario_data *d, const char *name)
{
    size_t b, e;
    range_of(&d->lag, 0, name, &b, &e);
    put(h, "<div class=\"card\"><h4>Replication lag</h4>\n");
    if (b == e) {
        put(h, "<p class=\"note\">No run recorded replication-lag samples.</p></div>\n");
        return;
    }
    char t[32];
    put(h, "<table><thead><tr><th class=\"n\">runs</th><th class=\"n\">samples</th>"
           "<th class=\"n\">median of run p50</th><th class=\"n\">median of run p99</th><th class=\"n\">worst max</th>"
           "</tr></thead><tbody><tr>");
    td_n(h, rpt_cell(&d->lag, b, 1));
    td_n(h, rpt_cell(&d->lag, b, 2));
    for (int c = 3; c <= 5; c++) td_n(h, rpt_fmt_ns(rpt_cell(&d->lag, b, c), t, sizeof t));
    put(h, "</tr></tbody></table>\n");
    cdf_line lines[3] = {
        { .rows = &d->lag50, .name = "run p50", .color = rpt_color(0) },
        { .rows = &d->lag99, .name = "run p99", .color = rpt_color(1) },
        { .rows = &d->lagmax, .name = "run max", .color = rpt_color(5) },
    };
    for (int l = 0; l < 3; l++) range_of(lines[l].rows, 0, name, &lines[l].b, &lines[l].e);
    cdf_chart(h, "Replication lag per run (CDF over seeds)", "replication lag (s)", lines, 3);
    put(h, "</div>\n");
}

/* Keeps the series with a non-zero total; returns how many. */
static size_t compact_series(double *values, size_t rows, size_t n_series, const char **names, const char **colors)
{
    size_t kept = 0;
    for (size_t s = 0; s < n_series; s++) {
        double total = 0.0;
        for (size_t r = 0; r < rows; r++) total += values[r * n_series + s];
        if (total <= 0.0) continue;
        for (size_t r = 0; r < rows; r++) values[r * n_series + kept] = values[r * n_series + s];
        names[kept] = names[s];
        colors[kept] = colors[s];
        kept++;
    }
    /* Re-pack rows to the new stride. */
    for (size_t r = 0; r < rows; r++) {
        for (size_t s = 0; s < kept; s++) values[r * kept + s] = values[r * n_series + s];
    }
    return kept;
}

static void card_traffic(html *h, const scenario_data *d, size_t s, int64_t runs)
{
    const rpt_traffic *tr = &d->traffic[s];
    put(h, "<div class=\"card\"><h4>Traffic</h4>\n");
    if (tr->types_count == 0 || runs <= 0) {
        put(h, "<p class=\"note\">No message statistics recorded.</p></div>\n");
        return;
    }
    size_t n = tr->types_count > 64 ? 64 : tr->types_count;
    const char *labels[64];
    double fate[64 * RPT_MSG_FATES], bytes[64];
    const char *names[RPT_MSG_FATES] = { "delivered", "lost (link loss)", "partition", "receiver down",
                                         "receiver restarted", "late response", "caller restarted" };
    const char *colors[RPT_MSG_FATES] = { "#4c78a8", "#f58518", "#e45756", "#9d755d", "#b279a2", "#eeca3b", "#72b7b2" };
    for (size_t r = 0; r < n; r++) {
        labels[r] = tr->types[r].type;
        for (size_t f = 0; f < RPT_MSG_FATES; f++) fate[r * RPT_MSG_FATES + f] = (double)tr->types[r].fate[f] / (double)runs;
        bytes[r] = (double)tr->types[r].bytes_sent / (double)runs;
    }
    size_t kept = compact_series(fate, n, RPT_MSG_FATES, names, colors);
    char x_title[96];
    snprintf(x_title, sizeof x_title, "messages per run (mean of %" PRId64 " runs)", runs);
    if (kept > 0) {
        rpt_svg_hbars(h->out, "Messages by type and fate", labels, n, names, kept, fate, colors, x_title,
                      "message type", false);
    }
    snprintf(x_title, sizeof x_title, "bytes sent per run, mean of %" PRId64 " runs", runs);
    static const char *const one[] = { "bytes sent" };
    rpt_svg_hbars(h->out, "Bytes sent by type", labels, n, one, 1, bytes, NULL, x_title, "message type", true);
    size_t m = tr->nodes_count > 64 ? 64 : tr->nodes_count;
    if (m > 0) {
        char node_names[64][24];
        const char *node_labels[64];
        double v[64 * 2];
        for (size_t r = 0; r < m; r++) {
            snprintf(node_names[r], sizeof node_names[r], "node %zu", r);
            node_labels[r] = node_names[r];
            v[r * 2] = (double)tr->nodes[r].sent / (double)runs;
            v[r * 2 + 1] = (double)tr->nodes[r].received / (double)runs;
        }
        static const char *const sr[] = { "sent", "received" };
        snprintf(x_title, sizeof x_title, "messages per run (mean of %" PRId64 " runs)", runs);
        rpt_svg_hbars(h->out, "Messages by node", node_labels, m, sr, 2, v, NULL, x_title, "node", false);
    }
    put(h, "</div>\n");
}

static void section_scenarios(html *h)
{
    const scenario_data *dp = h->data;
    if (dp == NULL) return;
    const scenario_data d = *dp;
    rpt_rows clients = { 0 };
    rpt_q_clients(h->ctx, &clients);
    put(h, "<section id=\"scenarios\">\n<h2>Scenarios</h2>\n<p class=\"note\">Distributions are over the seeds of "
           "each scenario. Percentiles are nearest-rank; a run that never converged counts as slower than any "
           "that did.</p>\n");
    for (size_t s = 0; s < h->scen.count && h->ctx->status == SIM_OK; s++) {
        const char *name = rpt_cell(&h->scen, s, 0);
        int64_t runs = rpt_cell_i64(&h->scen, s, 1);
        rpt_buf_printf(h->out, "<section class=\"scenario\" id=\"scenario-%zu\">\n<h3>", s);
        esc(h, name);
        rpt_buf_printf(h->out, "</h3>\n<p class=\"note\">%" PRId64 " run%s: %s passed, %s failed, %s with a harness "
                               "error.</p>\n",
                       runs, runs == 1 ? "" : "s", rpt_cell_s(&h->scen, s, 2), rpt_cell_s(&h->scen, s, 3),
                       rpt_cell_s(&h->scen, s, 4));
        put(h, "<div class=\"grid\">\n");
        card_convergence(h, &d, name);
        card_windows(h, &d, s, runs);
        card_clients(h, &clients, name);
        card_lag(h, &d, name);
        card_traffic(h, &d, s, runs);
        put(h, "</div>\n</section>\n");
    }
    put(h, "</section>\n");
    rpt_rows_deinit(&clients);
}

/* ========================================================================
 * Version comparison
 * ======================================================================== */

/* One table: per scenario, one row per cluster.version, the scenario's
 * rows banded together so its versions read side by side. */
static void section_versions(html *h)
{
    rpt_rows rows = { 0 };
    rpt_q_versions(h->ctx, &rows);
    if (rows.count == 0) {
        rpt_rows_deinit(&rows);
        return;
    }
    size_t ncol = 0;
    const rpt_version_column *cols = rpt_version_columns(&ncol);
    put(h, "<section id=\"versions\">\n<h2>Version comparison</h2>\n<p class=\"note\">The runs of each scenario under "
           "each <code>cluster.version</code> it was swept over (the same faults and seeds; over any other swept "
           "parameter too): convergence over the runs that did not stop early, the worst lost and zombie windows "
           "(and in how many runs), and what readers saw: client anomaly windows, answers and views "
           "together.</p>\n<table class=\"versions\"><thead><tr>");
    for (size_t c = 0; c < ncol; c++) {
        put(h, cols[c].numeric ? "<th class=\"n\">" : "<th>");
        esc(h, cols[c].header);
        put(h, "</th>");
    }
    put(h, "</tr></thead>\n");
    for (size_t b = 0; b < rows.count;) {
        size_t e = b;
        while (e < rows.count && strcmp(rpt_cell_s(&rows, e, 0), rpt_cell_s(&rows, b, 0)) == 0) e++;   /* bound: rows */
        put(h, "<tbody>\n");
        for (size_t r = b; r < e; r++) {
            put(h, "<tr>");
            for (size_t c = 0; c < ncol; c++) {
                char cell[256];
                const char *text = cols[c].cell(&rows, r, cell, sizeof cell);
                if (c == 0) {
                    if (r == b) {
                        rpt_buf_printf(h->out, "<th scope=\"rowgroup\" rowspan=\"%zu\">", e - b);
                        esc(h, text);
                        put(h, "</th>");
                    }
                    continue;
                }
                put(h, cols[c].numeric ? "<td class=\"n\">" : "<td><code>");
                esc(h, text);
                put(h, cols[c].numeric ? "</td>" : "</code></td>");
            }
            put(h, "</tr>\n");
        }
        put(h, "</tbody>\n");
        b = e;
    }
    put(h, "</table>\n</section>\n");
    rpt_rows_deinit(&rows);
}

/* ========================================================================
 * Sweeps
 * ======================================================================== */

typedef struct sweep_value {
    const char *text;
    double x;                    /* numeric position, or the category index */
    int64_t first;               /* smallest run_params id: the sweep's order */
} sweep_value;

static int sweep_value_cmp(const void *a, const void *b)
{
    const sweep_value *x = a, *y = b;
    if (x->x != y->x) return x->x < y->x ? -1 : 1;
    return strcmp(x->text, y->text);                 /* distinct values: total */
}

static int sweep_first_cmp(const void *a, const void *b)
{
    const sweep_value *x = a, *y = b;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    return strcmp(x->text, y->text);
}

/* Distinct values of rows [b, e) in column 1, with their x positions.
 * Returns the count; *numeric and *duration say how the axis reads. */
static size_t sweep_values(const rpt_rows *rows, size_t b, size_t e, sweep_value *vals, size_t max, bool *numeric,
                           bool *duration)
{
    size_t n = 0;
    for (size_t r = b; r < e; r++) {
        const char *v = rpt_cell(rows, r, 1);
        int64_t first = rpt_cell_i64(rows, r, 7);
        size_t k = 0;
        while (k < n && strcmp(vals[k].text, v) != 0) k++;   /* bound: n <= max */
        if (k < n) {
            if (first < vals[k].first) vals[k].first = first;
            continue;
        }
        if (n == max) continue;
        vals[n++] = (sweep_value){ .text = v, .x = 0.0, .first = first };
    }
    bool all_dur = true, all_plain = true;
    for (size_t k = 0; k < n; k++) {
        bool is_dur = false;
        double x = 0.0;
        if (!rpt_param_number(vals[k].text, &x, &is_dur)) {
            all_dur = all_plain = false;
            break;
        }
        vals[k].x = x;
        all_dur = all_dur && is_dur;
        all_plain = all_plain && !is_dur;
    }
    *numeric = all_dur || all_plain;
    *duration = all_dur;
    if (*numeric) {
        rpt_sort(vals, n, sizeof *vals, sweep_value_cmp);
    } else {
        rpt_sort(vals, n, sizeof *vals, sweep_first_cmp);
        for (size_t k = 0; k < n; k++) vals[k].x = (double)k;
    }
    return n;
}

#define SWEEP_VALUES_MAX 64
#define SWEEP_SCENARIOS_MAX 10

static void sweep_chart(html *h, const rpt_rows *rows, size_t b, size_t e, const sweep_value *vals, size_t nv,
                        bool numeric, const char *x_title, int metric)
{
    /* metric 0: convergence p50 (solid) and max (dashed); 1: longest lost. */
    const char *scen[SWEEP_SCENARIOS_MAX];
    size_t ns = 0;
    double ymax = 0.0;
    for (size_t r = b; r < e; r++) {
        const char *s = rpt_cell(rows, r, 2);
        size_t k = 0;
        while (k < ns && strcmp(scen[k], s) != 0) k++;
        if (k == ns && ns < SWEEP_SCENARIOS_MAX) scen[ns++] = s;
        for (int c = metric == 0 ? 4 : 6; c <= (metric == 0 ? 5 : 6); c++) {
            double y = rpt_cell_null(rows, r, c) ? 0.0 : seconds(rpt_cell_i64(rows, r, c));
            if (y > ymax) ymax = y;
        }
    }
    rpt_chart c;
    rpt_chart_begin(&c, h->out,
                    metric == 0 ? "Convergence: p50 (solid), max (dashed)"
                                : "Longest lost window over the runs",
                    CHART_W, 270.0);
    const char *labels[SWEEP_VALUES_MAX];
    for (size_t k = 0; k < nv; k++) labels[k] = vals[k].text;
    if (numeric) {
        double lo = vals[0].x, hi = vals[nv - 1].x;
        double pad = hi > lo ? (hi - lo) * 0.04 : 1.0;
        rpt_chart_range(&c, lo >= 0.0 && lo - pad < 0.0 ? 0.0 : lo - pad, hi + pad, 0.0, ymax > 0.0 ? ymax * 1.08 : 1.0);
        rpt_chart_nice(&c, false, true);
        rpt_chart_axes(&c, x_title, metric == 0 ? "convergence time (s)" : "longest lost window (s)");
    } else {
        c.x_categories = nv;
        rpt_chart_range(&c, 0.0, (double)nv, 0.0, ymax > 0.0 ? ymax * 1.08 : 1.0);
        rpt_chart_nice(&c, false, true);
        rpt_chart_axes_categorical(&c, labels, x_title, metric == 0 ? "convergence time (s)" : "longest lost window (s)");
    }
    for (size_t k = 0; k < ns; k++) {
        for (int c2 = metric == 0 ? 4 : 6; c2 <= (metric == 0 ? 5 : 6); c2++) {
            double xs[SWEEP_VALUES_MAX], ys[SWEEP_VALUES_MAX];
            size_t n = 0;
            for (size_t v = 0; v < nv; v++) {        /* in axis order */
                for (size_t r = b; r < e; r++) {
                    if (strcmp(rpt_cell(rows, r, 2), scen[k]) != 0 || strcmp(rpt_cell(rows, r, 1), vals[v].text) != 0) continue;
                    xs[n] = vals[v].x;
                    int64_t y = rpt_cell_i64(rows, r, c2);
                    ys[n] = rpt_cell_null(rows, r, c2) || y < 0 ? NAN : seconds(y);
                    n++;
                    break;
                }
            }
            char tip[160];
            snprintf(tip, sizeof tip, "%s: %s", scen[k], metric == 1 ? "longest lost window" : c2 == 4 ? "p50" : "max");
            rpt_chart_line(&c, xs, ys, n, rpt_color(k), false, c2 == 5, tip);
            for (size_t p = 0; p < n; p++) {
                if (!isnan(ys[p])) rpt_chart_dot(&c, xs[p], ys[p], rpt_color(k), tip);
            }
        }
    }
    const char *colors[SWEEP_SCENARIOS_MAX];
    for (size_t k = 0; k < ns; k++) colors[k] = rpt_color(k);
    rpt_chart_legend(&c, scen, colors, ns);
    rpt_chart_end(&c);
}

static void sweep_table(html *h, const rpt_rows *rows, size_t b, size_t e)
{
    char t[32];
    put(h, "<table><thead><tr><th>value</th><th>scenario</th><th class=\"n\">runs</th><th class=\"n\">convergence p50</th>"
           "<th class=\"n\">convergence max</th><th class=\"n\">longest lost window</th></tr></thead><tbody>\n");
    for (size_t r = b; r < e; r++) {
        put(h, "<tr><td><code>");
        esc(h, rpt_cell(rows, r, 1));
        put(h, "</code></td><td>");
        esc(h, rpt_cell(rows, r, 2));
        put(h, "</td>");
        td_n(h, rpt_cell(rows, r, 3));
        td_conv(h, rows, r, 4);
        td_conv(h, rows, r, 5);
        td_n(h, rpt_fmt_ns(rpt_cell(rows, r, 6), t, sizeof t));
        put(h, "</tr>\n");
    }
    put(h, "</tbody></table>\n");
}

static void section_sweeps(html *h)
{
    rpt_rows rows = { 0 };
    rpt_q_sweep(h->ctx, &rows);
    if (rows.count == 0) {
        rpt_rows_deinit(&rows);
        return;
    }
    put(h, "<section id=\"sweeps\">\n<h2>Sweeps</h2>\n<p class=\"note\">Each point summarises the runs with that "
           "parameter value (over seeds and any other swept parameter). Gaps mean some run never converged; the "
           "table says which.</p>\n");
    for (size_t b = 0; b < rows.count && h->ctx->status == SIM_OK;) {
        const char *key = rpt_cell(&rows, b, 0);
        size_t e = b;
        while (e < rows.count && strcmp(rpt_cell(&rows, e, 0), key) == 0) e++;   /* bound: rows */
        sweep_value vals[SWEEP_VALUES_MAX];
        bool numeric = false, duration = false;
        size_t nv = sweep_values(&rows, b, e, vals, SWEEP_VALUES_MAX, &numeric, &duration);
        char x_title[160];
        snprintf(x_title, sizeof x_title, "%s (%s)", key, duration ? "s" : "value");
        put(h, "<h3><code>");
        esc(h, key);
        put(h, "</code></h3>\n<div class=\"grid\"><div class=\"card\">");
        sweep_chart(h, &rows, b, e, vals, nv, numeric, x_title, 0);
        put(h, "</div><div class=\"card\">");
        sweep_chart(h, &rows, b, e, vals, nv, numeric, x_title, 1);
        put(h, "</div></div>\n");
        sweep_table(h, &rows, b, e);
        b = e;
    }
    put(h, "</section>\n");
    rpt_rows_deinit(&rows);
}

/* ========================================================================
 * Per run
 * ======================================================================== */

static void pick_runs(html *h)
{
    if (h->ctx->opt.run_id > 0) {
        rpt_query(h->ctx, &h->picked, "SELECT id, scenario_name FROM runs WHERE id = %" PRId64, h->ctx->opt.run_id);
    } else if (h->runs_total <= (int64_t)RPT_REPORT_ALL_RUNS_MAX) {
        /* Failing and error runs first, then the passing ones. */
        char f[RPT_RUN_FILTER_MAX];
        rpt_query(h->ctx, &h->picked,
                  "SELECT id, scenario_name FROM runs WHERE 1 = 1%s ORDER BY verdict = 'pass', scenario_name, id",
                  rpt_run_filter(h->ctx, "id", f, sizeof f));
    } else {
        char f[RPT_RUN_FILTER_MAX];
        rpt_query(h->ctx, &h->picked,
                  "SELECT id, s FROM (SELECT id, scenario_name AS s, verdict = 'pass' AS passed, "
                  "row_number() OVER (PARTITION BY scenario_name "
                  "ORDER BY CASE verdict WHEN 'error' THEN 0 WHEN 'fail' THEN 1 ELSE 2 END, "
                  RPT_SQL_CONVERGENCE " IS NOT NULL, " RPT_SQL_CONVERGENCE " DESC, id) AS k "
                  "FROM runs WHERE 1 = 1%s) WHERE k <= %u ORDER BY passed, s, k, id",
                  rpt_run_filter(h->ctx, "id", f, sizeof f), h->ctx->opt.worst_per_scenario);
    }
}

typedef struct run_view {
    int64_t id, end_ns, converged_ns, last_fault_end_ns;
    bool converged, faulted;
    int64_t from_ns, to_ns;      /* the time window drawn */
    double from_s, to_s;
    rpt_rows run, faults, samples;
    uint32_t nodes;
} run_view;

static void run_facts(html *h, run_view *v)
{
    const rpt_rows *r = &v->run;
    char t[32], t2[32];
    rpt_buf_printf(h->out, "<section class=\"run\" id=\"run-%" PRId64 "\">\n<h3>Run %" PRId64 ": ", v->id, v->id);
    esc(h, rpt_cell(r, 0, 1));
    put(h, ", seed ");
    esc(h, rpt_cell(r, 0, 3));
    put(h, " &mdash; ");
    verdict_span(h, rpt_cell(r, 0, 4));
    put(h, "</h3>\n");
    if (rpt_cell(r, 0, 5) != NULL) {
        put(h, "<p><b>First failed expectation:</b> ");
        esc(h, rpt_cell(r, 0, 5));
        put(h, "</p>\n");
    }
    put(h, "<p>Reproduce: <code>");
    esc(h, rpt_cell(r, 0, 6) != NULL ? rpt_cell(r, 0, 6) : "(not recorded)");
    put(h, "</code></p>\n<table><tbody>");
    put(h, "<tr><th>virtual time</th><td>");
    esc(h, rpt_fmt_ns(rpt_cell(r, 0, 7), t, sizeof t));
    put(h, "</td><th>events</th><td class=\"n\">");
    esc(h, rpt_cell(r, 0, 8));
    put(h, "</td><th>trace hash</th><td><code>");
    esc(h, rpt_cell(r, 0, 9));
    put(h, "</code></td></tr>\n<tr><th>converged at</th><td>");
    esc(h, v->converged ? rpt_fmt_ns_i64(v->converged_ns, t, sizeof t) : "never");
    put(h, "</td><th>convergence</th><td class=\"n\">");
    if (!rpt_cell_null(r, 0, 14)) {
        esc(h, rpt_fmt_ns(rpt_cell(r, 0, 14), t, sizeof t));
    } else {
        put(h, "never");
        if (rpt_cell(r, 0, 15) != NULL) {
            put(h, ": ");
            esc(h, rpt_cell(r, 0, 15));
        }
    }
    put(h, "</td><th>replication lag p50 / max</th><td class=\"n\">");
    if (rpt_cell_null(r, 0, 12) || rpt_cell_null(r, 0, 13)) {
        put(h, "no samples");
    } else {
        esc(h, rpt_fmt_ns(rpt_cell(r, 0, 12), t, sizeof t));
        put(h, " / ");
        esc(h, rpt_fmt_ns(rpt_cell(r, 0, 13), t2, sizeof t2));
    }
    put(h, "</td></tr>\n</tbody></table>\n");
}

static void run_params_expects(html *h, run_view *v)
{
    rpt_rows rows = { 0 };
    rpt_query(h->ctx, &rows, "SELECT key, value FROM run_params WHERE run_id = %" PRId64 " ORDER BY id", v->id);
    if (rows.count > 0) {
        put(h, "<p>Parameters: ");
        for (size_t r = 0; r < rows.count; r++) {
            put(h, r > 0 ? ", <code>" : "<code>");
            esc(h, rpt_cell(&rows, r, 0));
            put(h, "=");
            esc(h, rpt_cell(&rows, r, 1));
            put(h, "</code>");
        }
        put(h, "</p>\n");
    }
    rpt_query(h->ctx, &rows, "SELECT name, bound, observed, ok FROM expects WHERE run_id = %" PRId64 " ORDER BY id", v->id);
    put(h, "<div class=\"grid\">");
    if (rows.count > 0) {
        put(h, "<table><thead><tr><th>expectation</th><th>bound</th><th>observed</th><th>result</th></tr></thead><tbody>\n");
        for (size_t r = 0; r < rows.count; r++) {
            put(h, "<tr><td>");
            esc(h, rpt_cell(&rows, r, 0));
            put(h, "</td><td>");
            esc(h, rpt_cell(&rows, r, 1) != NULL ? rpt_cell(&rows, r, 1) : "");
            put(h, "</td><td>");
            esc(h, rpt_cell(&rows, r, 2) != NULL ? rpt_cell(&rows, r, 2) : "not observed");
            put(h, rpt_cell_i64(&rows, r, 3) != 0 ? "</td><td class=\"pass\">met</td></tr>\n"
                                                   : "</td><td class=\"fail\">NOT met</td></tr>\n");
        }
        put(h, "</tbody></table>\n");
    }
    if (v->faults.count > 0) {
        char t1[32], t2[32];
        put(h, "<table><thead><tr><th>fault</th><th>kind</th><th>from</th><th>to</th><th>recovery</th></tr></thead>"
               "<tbody>\n");
        for (size_t r = 0; r < v->faults.count; r++) {
            put(h, "<tr><td>");
            esc(h, rpt_cell(&v->faults, r, 2) != NULL ? rpt_cell(&v->faults, r, 2) : rpt_cell(&v->faults, r, 0));
            put(h, "</td><td>");
            esc(h, rpt_cell(&v->faults, r, 1));
            put(h, "</td>");
            td_n(h, rpt_fmt_ns(rpt_cell(&v->faults, r, 3), t1, sizeof t1));
            td_n(h, rpt_cell_null(&v->faults, r, 4) ? "never ended" : rpt_fmt_ns(rpt_cell(&v->faults, r, 4), t2, sizeof t2));
            td_n(h, rpt_cell_i64(&v->faults, r, 5) == 0   ? "-"
                    : rpt_cell_i64(&v->faults, r, 5) == 2 ? "not started"
                    : rpt_cell_null(&v->faults, r, 6)    ? "never"
                                                       : rpt_fmt_ns(rpt_cell(&v->faults, r, 6), t2, sizeof t2));
            put(h, "</tr>\n");
        }
        put(h, "</tbody></table>\n");
    }
    put(h, "</div>\n");
    rpt_rows_deinit(&rows);
}

static void shade_faults(rpt_chart *c, const run_view *v)
{
    for (size_t r = 0; r < v->faults.count; r++) {
        double a = seconds(rpt_cell_i64(&v->faults, r, 3));
        double b = rpt_cell_null(&v->faults, r, 4) ? seconds(v->end_ns) : seconds(rpt_cell_i64(&v->faults, r, 4));
        if (b < v->from_s || a > v->to_s) continue;
        char label[128];
        snprintf(label, sizeof label, "%s", rpt_cell(&v->faults, r, 2) != NULL ? rpt_cell(&v->faults, r, 2)
                                                                               : rpt_cell(&v->faults, r, 1));
        rpt_chart_span(c, a, b, label, FAULT_FILL);
    }
}

/* Samples columns: 0 at_ns, 1 node, 2 up, 3 keys, 4 healthy_view, 5 divergent_keys. */
static void chart_divergent(html *h, const run_view *v)
{
    const rpt_rows *s = &v->samples;
    double *xs = sim_calloc(s->count + 1, sizeof *xs), *ys = sim_calloc(s->count + 1, sizeof *ys);
    if (xs == NULL || ys == NULL) {
        free(xs);
        free(ys);
        (void)rpt_fail(h->ctx, SIM_ERR_NOMEM, "rpt_html", "out of memory");
        return;
    }
    size_t n = 0;
    double ymax = 0.0;
    for (size_t r = 0; r < s->count; r++) {          /* one point per instant: the value is cluster-wide */
        double x = seconds(rpt_cell_i64(s, r, 0));
        if (n > 0 && xs[n - 1] == x) continue;
        xs[n] = x;
        ys[n] = (double)rpt_cell_i64(s, r, 5);
        if (ys[n] > ymax) ymax = ys[n];
        n++;
    }
    xs[n] = v->to_s;
    ys[n] = n > 0 ? ys[n - 1] : 0.0;
    n++;
    rpt_chart c;
    rpt_chart_begin(&c, h->out, "Divergent keys (cluster-wide), with faults shaded", CHART_W, 230.0);
    rpt_chart_range(&c, v->from_s, v->to_s, 0.0, ymax > 0.0 ? ymax : 1.0);
    rpt_chart_nice(&c, false, true);
    rpt_chart_axes(&c, "time since the run started (s)", "divergent keys (count)");
    shade_faults(&c, v);
    rpt_chart_area(&c, xs, ys, n, rpt_color(5), "keys on which the nodes disagree");
    if (v->converged) rpt_chart_vline(&c, seconds(v->converged_ns), "converged", "#1a7f37");
    rpt_chart_end(&c);
    free(xs);
    free(ys);
}

/* Per-node lines of one samples column (3 keys, 4 healthy_view); a node
 * that is down has no point (the line breaks). */
static void chart_per_node(html *h, const run_view *v, int col, const char *title, const char *y_title, bool step,
                           double offset)
{
    const rpt_rows *s = &v->samples;
    double ymax = col == 4 ? (double)v->nodes : 0.0;
    for (size_t r = 0; r < s->count; r++) {
        double y = (double)rpt_cell_i64(s, r, col);
        if (y > ymax) ymax = y;
    }
    rpt_chart c;
    rpt_chart_begin(&c, h->out, title, CHART_W, 230.0);
    rpt_chart_range(&c, v->from_s, v->to_s, 0.0, ymax > 0.0 ? ymax * (col == 4 ? 1.1 : 1.0) : 1.0);
    rpt_chart_nice(&c, false, true);
    rpt_chart_axes(&c, "time since the run started (s)", y_title);
    shade_faults(&c, v);
    double *xs = sim_calloc(s->count + 1, sizeof *xs), *ys = sim_calloc(s->count + 1, sizeof *ys);
    const char *names[32], *colors[32];
    char name_buf[32][16];
    for (uint32_t node = 0; node < v->nodes && xs != NULL && ys != NULL; node++) {
        size_t n = 0;
        double nudge = offset * ((double)node - ((double)v->nodes - 1.0) / 2.0);
        for (size_t r = 0; r < s->count; r++) {
            if (rpt_cell_i64(s, r, 1) != (int64_t)node) continue;
            xs[n] = seconds(rpt_cell_i64(s, r, 0));
            ys[n] = rpt_cell_i64(s, r, 2) != 0 ? (double)rpt_cell_i64(s, r, col) + nudge : NAN;
            n++;
        }
        if (n > 0 && step) {
            xs[n] = v->to_s;
            ys[n] = ys[n - 1];
            n++;
        }
        char tip[48];
        snprintf(tip, sizeof tip, "node %u", node);
        rpt_chart_line(&c, xs, ys, n, rpt_color(node), step, false, tip);
        if (node < 32) {
            snprintf(name_buf[node], sizeof name_buf[node], "node %u", node);
            names[node] = name_buf[node];
            colors[node] = rpt_color(node);
        }
    }
    if (xs == NULL || ys == NULL) (void)rpt_fail(h->ctx, SIM_ERR_NOMEM, "rpt_html", "out of memory");
    free(xs);
    free(ys);
    rpt_chart_legend(&c, names, colors, v->nodes < 32 ? v->nodes : 32);
    rpt_chart_end(&c);
}

static const char *view_color(int64_t up, int64_t view, uint32_t nodes)
{
    if (up == 0) return "#c8ccd1";
    if (view >= (int64_t)nodes) return "#2da44e";
    if (view + 1 >= (int64_t)nodes) return "#e3b341";
    return "#d1242f";
}

/* One lane per node: segments coloured by how many members the node sees
 * as healthy; grey while the node is down. */
static void chart_membership(html *h, const run_view *v)
{
    const rpt_rows *s = &v->samples;
    double lane = 22.0;
    double height = 40.0 + lane * v->nodes + 46.0;
    rpt_chart c;
    rpt_chart_begin_area(&c, h->out, "Membership view: members each node sees as healthy", CHART_W, height, 62.0, 18.0,
                         40.0, 46.0);
    rpt_chart_range(&c, v->from_s, v->to_s, 0.0, (double)v->nodes);
    c.y_down = true;
    rpt_buf_printf(h->out, "<path class=\"ax\" d=\"M%.1f %.1fH%.1f\"/>", c.left, c.bottom, c.right);
    for (uint32_t node = 0; node < v->nodes; node++) {
        rpt_buf_printf(h->out, "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">node %u</text>", c.left - 5,
                       rpt_chart_py(&c, node + 0.5) + 3.5, node);
        size_t first = s->count;
        for (size_t r = 0; r <= s->count; r++) {     /* bound: samples + 1 */
            bool mine = r < s->count && rpt_cell_i64(s, r, 1) == (int64_t)node;
            if (r < s->count && !mine) continue;
            if (first < s->count) {
                int64_t up = rpt_cell_i64(s, first, 2), view = rpt_cell_i64(s, first, 4);
                bool same = mine && rpt_cell_i64(s, r, 2) == up && rpt_cell_i64(s, r, 4) == view;
                if (same) continue;
                double a = seconds(rpt_cell_i64(s, first, 0));
                double b = mine ? seconds(rpt_cell_i64(s, r, 0)) : v->to_s;
                char tip[96];
                if (up == 0) {
                    snprintf(tip, sizeof tip, "node %u down from %.3f s to %.3f s", node, a, b);
                } else {
                    snprintf(tip, sizeof tip, "node %u sees %" PRId64 " of %u healthy, %.3f-%.3f s", node, view,
                             v->nodes, a, b);
                }
                rpt_chart_rect(&c, a, node + 0.12, b, node + 0.88, view_color(up, view, v->nodes), tip);
            }
            first = r;
        }
    }
    rpt_chart_x_axis(&c, "time since the run started (s)");
    rpt_chart_y_title(&c, "node");
    static const char *const names[] = { "sees all members", "one missing", "more missing", "node down" };
    const char *colors[] = { "#2da44e", "#e3b341", "#d1242f", "#c8ccd1" };
    rpt_chart_legend(&c, names, colors, 4);
    rpt_chart_end(&c);
}

static void run_windows(html *h, const run_view *v)
{
    rpt_rows rows = { 0 };
    rpt_query(h->ctx, &rows,
              "SELECT kind, node, key, start_ns, end_ns, coalesce(end_ns, %" PRId64 ") - start_ns AS d "
              "FROM windows WHERE run_id = %" PRId64 " AND kind IN ('lost', 'zombie') ORDER BY d DESC, id LIMIT 10",
              v->end_ns, v->id);
    if (rows.count > 0) {
        char t1[32], t2[32], t3[32];
        put(h, "<table><thead><tr><th colspan=\"6\">Longest lost and zombie windows</th></tr><tr><th>kind</th>"
               "<th class=\"n\">node</th><th>key</th><th class=\"n\">from</th><th class=\"n\">to</th>"
               "<th class=\"n\">duration</th></tr></thead><tbody>\n");
        for (size_t r = 0; r < rows.count; r++) {
            put(h, "<tr><td>");
            esc(h, rpt_cell(&rows, r, 0));
            put(h, "</td>");
            td_n(h, rpt_cell(&rows, r, 1));
            put(h, "<td>");
            esc(h, rpt_cell(&rows, r, 2) != NULL ? rpt_cell(&rows, r, 2) : "");
            put(h, "</td>");
            td_n(h, rpt_fmt_ns(rpt_cell(&rows, r, 3), t1, sizeof t1));
            td_n(h, rpt_cell_null(&rows, r, 4) ? "open at end" : rpt_fmt_ns(rpt_cell(&rows, r, 4), t2, sizeof t2));
            td_n(h, rpt_fmt_ns(rpt_cell(&rows, r, 5), t3, sizeof t3));
            put(h, "</tr>\n");
        }
        put(h, "</tbody></table>\n");
    }
    rpt_rows_deinit(&rows);
}

static void run_window(const rpt_ctx *ctx, run_view *v)
{
    sim_time_ns from = ctx->opt.window_from_ns, to = ctx->opt.window_to_ns;
    int64_t end = v->end_ns > 0 ? v->end_ns : 1;
    if (to == 0 || (int64_t)to > end) to = (sim_time_ns)end;
    if ((int64_t)from >= (int64_t)to) from = 0;
    v->from_ns = (int64_t)from;
    v->to_ns = (int64_t)to;
    v->from_s = seconds(v->from_ns);
    v->to_s = seconds(v->to_ns);
}

static void draw_run(html *h, int64_t id)
{
    run_view v;
    memset(&v, 0, sizeof v);
    v.id = id;
    rpt_query(h->ctx, &v.run,
              "SELECT id, scenario_name, scenario_path, seed, verdict, failure, repro, end_ns, events, trace_hash, "
              "converged_ns, last_fault_end_ns, lag_p50_ns, lag_max_ns, " RPT_SQL_CONVERGENCE ", "
              "convergence_never FROM runs WHERE id = %" PRId64, id);
    if (v.run.count != 1) goto out;
    v.end_ns = rpt_cell_i64(&v.run, 0, 7);
    v.converged = !rpt_cell_null(&v.run, 0, 10);
    v.converged_ns = rpt_cell_i64(&v.run, 0, 10);
    v.faulted = !rpt_cell_null(&v.run, 0, 11);
    v.last_fault_end_ns = rpt_cell_i64(&v.run, 0, 11);
    run_window(h->ctx, &v);
    /* Recovery as reports/SCHEMA.md defines it (run_scenario.c checks the
     * same): heals and starts have none (column 5 is 0), nor has a rolling
     * step that never started (2); NULL is never. */
    rpt_query(h->ctx, &v.faults,
              "SELECT f.fault_index, f.kind, f.description, f.start_ns, f.end_ns, "
              "CASE WHEN f.kind IN ('heal', 'start') THEN 0 WHEN f.description LIKE '%%, not started: %%' THEN 2 "
              "ELSE 1 END, "
              "(SELECT c.converged_ns - c.fault_end_ns FROM convergences c WHERE c.run_id = f.run_id "
              " AND c.fault_index = f.fault_index AND c.converged_ns IS NOT NULL AND f.end_ns < r.end_ns"
              " AND c.converged_ns < coalesce((SELECT min(g.start_ns) FROM faults g WHERE g.run_id = f.run_id"
              "  AND g.kind NOT IN ('heal', 'start') AND g.start_ns > f.end_ns), r.end_ns + 1)) "
              "FROM faults f JOIN runs r ON r.id = f.run_id WHERE f.run_id = %" PRId64 " ORDER BY f.start_ns, f.id", id);
    rpt_query(h->ctx, &v.samples,
              "SELECT at_ns, node, up, keys, healthy_view, divergent_keys FROM samples WHERE run_id = %" PRId64
              " AND at_ns >= %" PRId64 " AND at_ns <= %" PRId64 " ORDER BY at_ns, node, id",
              id, v.from_ns, v.to_ns);
    for (size_t r = 0; r < v.samples.count; r++) {
        int64_t node = rpt_cell_i64(&v.samples, r, 1);
        if (node >= 0 && node < (int64_t)RPT_TIMELINE_NODES_MAX && (uint32_t)node + 1 > v.nodes) {
            v.nodes = (uint32_t)node + 1;
        }
    }
    run_facts(h, &v);
    run_params_expects(h, &v);
    if (v.samples.count == 0 || v.nodes == 0) {
        put(h, "<p class=\"note\">No samples were recorded in the time window, so there is no timeline.</p>\n");
    } else {
        put(h, "<div class=\"grid\"><div class=\"card\">");
        chart_divergent(h, &v);
        put(h, "</div><div class=\"card\">");
        chart_per_node(h, &v, 3, "Keys in each node's store (lines coincide when the nodes agree)",
                       "keys in the store (count)", false, 0.0);
        put(h, "</div><div class=\"card\">");
        chart_per_node(h, &v, 4, "Healthy members in each node's view (lines nudged apart)",
                       "members seen healthy (count)", true, 0.06);
        put(h, "</div><div class=\"card\">");
        chart_membership(h, &v);
        put(h, "</div></div>\n");
    }
    run_windows(h, &v);
    put(h, "</section>\n");
out:
    rpt_rows_deinit(&v.run);
    rpt_rows_deinit(&v.faults);
    rpt_rows_deinit(&v.samples);
}

static void section_runs(html *h)
{
    put(h, "<section id=\"runs\">\n<h2>Run timelines</h2>\n");
    if (h->ctx->opt.run_id > 0) {
        put(h, "<p class=\"note\">The run selected with --run.</p>\n");
    } else if (h->runs_total <= (int64_t)RPT_REPORT_ALL_RUNS_MAX) {
        put(h, "<p class=\"note\">Every run, the failing ones first.</p>\n");
    } else {
        rpt_buf_printf(h->out,
                       "<p class=\"note\">The %u worst runs of each scenario (errors, failures, never converged, then "
                       "slowest to converge), the failing ones first. Draw another with <code>distrosim report DB --run ID"
                       "</code>.</p>\n",
                       h->ctx->opt.worst_per_scenario);
    }
    if (h->ctx->opt.window_to_ns != 0) {
        char t1[32], t2[32];
        rpt_buf_printf(h->out, "<p class=\"note\">Time window: %s to %s.</p>\n",
                       rpt_fmt_ns_i64((int64_t)h->ctx->opt.window_from_ns, t1, sizeof t1),
                       rpt_fmt_ns_i64((int64_t)h->ctx->opt.window_to_ns, t2, sizeof t2));
    }
    for (size_t r = 0; r < h->picked.count && h->ctx->status == SIM_OK; r++) {
        draw_run(h, rpt_cell_i64(&h->picked, r, 0));
    }
    put(h, "</section>\n");
}

/* ========================================================================
 * Space-time diagram
 * ======================================================================== */

typedef struct st_view {
    int64_t from_ns, to_ns;
    rpt_rows faults;             /* of the --run run: start, end, label */
    bool has_run;
} st_view;

static void st_instructions(html *h)
{
    put(h, "<p>The database keeps no per-message rows, so this diagram is drawn from a trace of one replayed run. "
           "To draw it:</p>\n<ol><li>Replay the run and write its trace: ");
    rpt_rows rows = { 0 };
    if (h->picked.count > 0) {
        rpt_query(h->ctx, &rows, "SELECT repro, scenario_path, seed, id FROM runs WHERE id = %s",
                  rpt_cell(&h->picked, 0, 0));
    }
    rpt_buf cmd = { 0 };
    if (rows.count == 1) {
        replay_command(&cmd, rpt_cell(&rows, 0, 0), rpt_cell(&rows, 0, 1), rpt_cell(&rows, 0, 2));
    } else {
        replay_command(&cmd, NULL, NULL, NULL);
    }
    /* An empty command would read as a valid instruction: fail instead. */
    if (cmd.failed) (void)rpt_fail(h->ctx, SIM_ERR_NOMEM, "rpt_html", "out of memory writing the replay command");
    put(h, "<code>");
    esc(h, rpt_buf_str(&cmd));
    put(h, "</code></li>\n<li>Render the report with it: <code>distrosim report ");
    esc(h, h->ctx->db_path);
    rpt_buf_printf(h->out, " --run %s --trace trace.json -o report.html</code>. By default the diagram shows a "
                           "short window from the first message after the last fault ended, 40 typical flight "
                           "times long; choose another with <code>--window 70s-70.5s</code>.</li></ol>\n",
                   rows.count == 1 ? rpt_cell_s(&rows, 0, 3) : "ID");
    put(h, "<p class=\"note\">The same trace opens in the Perfetto UI (ui.perfetto.dev) or chrome://tracing, with "
           "one track per node and an arrow per message.</p>\n");
    rpt_buf_deinit(&cmd);
    rpt_rows_deinit(&rows);
}

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The default window: around the first fault (a quarter of it before the
 * fault starts), or from just before the first message of a trace without
 * faults; 40 median flight times long, so a typical arrow falls about 16 px
 * on the 640 px time axis and its direction reads at a glance; at least
 * 10 ms, at most 10 s. */
static void st_window(html *h, const rpt_trace *t, st_view *sv)
{
    const rpt_report_options *o = &h->ctx->opt;
    if (o->window_to_ns != 0) {
        sv->from_ns = (int64_t)o->window_from_ns;
        sv->to_ns = (int64_t)o->window_to_ns;
        return;
    }
    /* The first fault: the trace's first fault slice, else the run's first
     * fault in the database; with neither, the first message. */
    int64_t first_fault = t->spans_count > 0 ? t->spans[0].start_ns : INT64_MIN;
    if (first_fault == INT64_MIN && sv->faults.count > 0) first_fault = rpt_cell_i64(&sv->faults, 0, 0);
    int64_t from = t->arrows_count > 0 ? t->arrows[0].send_ns : 0;
    int64_t span = 1000000000;
    int64_t *flight = t->arrows_count > 0 ? sim_calloc(t->arrows_count, sizeof *flight) : NULL;
    if (flight != NULL) {
        for (size_t a = 0; a < t->arrows_count; a++) flight[a] = t->arrows[a].recv_ns - t->arrows[a].send_ns;
        rpt_sort(flight, t->arrows_count, sizeof *flight, i64_cmp);
        span = flight[t->arrows_count / 2] * 40;
        free(flight);
    }
    span = span < 10000000 ? 10000000 : span > 10000000000 ? 10000000000 : span;
    if (first_fault != INT64_MIN) {
        /* Around the first fault: a quarter of the window before it (what
         * the cluster did), three quarters after (what the fault did). */
        sv->from_ns = first_fault - span / 4 > 0 ? first_fault - span / 4 : 0;
    } else {
        sv->from_ns = from - span / 20 > 0 ? from - span / 20 : 0;
    }
    sv->to_ns = sv->from_ns + span;
}

/* In flight this long or longer is stalled: 50 median flight times, at
 * least 1 s (a lost packet's first retransmission is 200 ms or more; a
 * connection held by a partition or a pause waits seconds). */
static int64_t stalled_threshold(const rpt_trace *t)
{
    int64_t threshold = 1000000000;
    int64_t *flight = t->arrows_count > 0 ? sim_calloc(t->arrows_count, sizeof *flight) : NULL;
    if (flight == NULL) return threshold;
    for (size_t a = 0; a < t->arrows_count; a++) flight[a] = t->arrows[a].recv_ns - t->arrows[a].send_ns;
    rpt_sort(flight, t->arrows_count, sizeof *flight, i64_cmp);
    int64_t median = flight[t->arrows_count / 2];
    free(flight);
    return median > threshold / 50 ? median * 50 : threshold;
}

/* The dash of a message type's colour index: the palette's second round
 * is dashed, a stalled message is drawn solid and thick. */
static const char *type_dash(size_t color, bool stall)
{
    if (stall) return "";
    return color >= RPT_PALETTE_SIZE ? " stroke-dasharray=\"7 2\"" : "";
}

static void st_draw(html *h, const rpt_trace *t, const st_view *sv)
{
    size_t lanes = t->lanes_count < RPT_SPACETIME_LANES_MAX ? t->lanes_count : RPT_SPACETIME_LANES_MAX;
    double legend_w = 190.0;
    double w = 70.0 + 170.0 * (double)lanes + legend_w;
    if (w < 600.0) w = 600.0;
    rpt_chart c;
    char title[160];
    char t1[32], t2[32];
    snprintf(title, sizeof title, "Messages between nodes from %s to %s", rpt_fmt_ns_i64(sv->from_ns, t1, sizeof t1),
             rpt_fmt_ns_i64(sv->to_ns, t2, sizeof t2));
    rpt_chart_begin_area(&c, h->out, title, w, 760.0, 70.0, legend_w, 50.0, 46.0);
    c.x_categories = lanes;
    c.y_down = true;
    rpt_chart_range(&c, 0.0, (double)lanes, seconds(sv->from_ns), seconds(sv->to_ns));
    const char *labels[RPT_SPACETIME_LANES_MAX];
    for (size_t l = 0; l < lanes; l++) labels[l] = t->lanes[l].name;
    rpt_chart_axes_categorical(&c, labels, "node (one lane per trace track)", "time since the run started (s)");
    /* Lane names on top as well: the diagram is tall. */
    for (size_t l = 0; l < lanes; l++) {
        rpt_chart_text(&c, rpt_chart_px(&c, (double)l), c.top - 8, "middle", "ln", labels[l]);
    }
    /* Faults: on the lanes they hit (the trace's fault slices); a trace
     * without them gets the run's faults across every lane. */
    double w_from = seconds(sv->from_ns), w_to = seconds(sv->to_ns);
    for (size_t k = 0; k < t->spans_count; k++) {
        const rpt_trace_span *sp = &t->spans[k];
        size_t l = 0;
        while (l < lanes && t->lanes[l].tid != sp->tid) l++;   /* bound: lanes */
        double a = seconds(sp->start_ns), b = seconds(sp->end_ns > sp->start_ns ? sp->end_ns : sp->start_ns + 1);
        if (l == lanes || b < w_from || a > w_to) continue;
        rpt_chart_rect(&c, (double)l - 0.45, a < w_from ? w_from : a, (double)l + 0.45, b > w_to ? w_to : b,
                       FAULT_FILL, t->names[sp->name]);
    }
    for (size_t r = 0; t->spans_count == 0 && r < sv->faults.count; r++) {
        double a = seconds(rpt_cell_i64(&sv->faults, r, 0));
        double b = rpt_cell_null(&sv->faults, r, 1) ? w_to : seconds(rpt_cell_i64(&sv->faults, r, 1));
        if (b < w_from || a > w_to) continue;
        a = a < w_from ? w_from : a;
        b = b > w_to ? w_to : b;
        rpt_chart_rect(&c, -0.5, a, (double)lanes - 0.5, b, FAULT_FILL, rpt_cell(&sv->faults, r, 2));
    }
    rpt_buf_put(h->out, "<path class=\"ax\" d=\"");
    for (size_t l = 0; l < lanes; l++) {
        rpt_buf_printf(h->out, "M%.1f %.1fV%.1f", rpt_chart_px(&c, (double)l), c.top, c.bottom);
    }
    /* A distinct colour per message type: the types drawn, in name order,
     * take the palette in turn, and a second round of it is dashed. */
    size_t *rank = sim_calloc(t->names_count + 1, sizeof *rank);
    if (rank == NULL) {
        (void)rpt_fail(h->ctx, SIM_ERR_NOMEM, "rpt_html", "out of memory colouring %zu message types", t->names_count);
        return;
    }
    for (size_t a = 0; a < t->arrows_count; a++) {
        const rpt_trace_arrow *ar = &t->arrows[a];
        if (ar->recv_ns >= sv->from_ns && ar->send_ns <= sv->to_ns) rank[ar->name] = 1;
    }
    for (size_t k = 0; k < t->drops_count; k++) {
        const rpt_trace_drop *d = &t->drops[k];
        if (d->drop_ns >= sv->from_ns && d->send_ns <= sv->to_ns) rank[d->name] = 1;
    }
    size_t types = 0;
    for (size_t k = 0; k < t->names_count; k++) {
        if (rank[k] != 0) rank[k] = ++types;   /* 1-based; 0: not drawn */
    }
    rpt_buf_put(h->out, "\"/>\n<defs>");
    for (size_t k = 0; k < types && k < RPT_SPACETIME_TYPES_MAX; k++) {
        rpt_buf_printf(h->out, "<marker id=\"ah%zu\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
                               "markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0L10 5L0 10z\" fill=\"%s\"/></marker>",
                       k, rpt_color(k));
    }
    rpt_buf_put(h->out, "<marker id=\"stx\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" markerWidth=\"9\" "
                        "markerHeight=\"9\"><path d=\"M1 1L9 9M9 1L1 9\" stroke=\"#c62828\" stroke-width=\"2\"/></marker>");
    rpt_buf_printf(h->out, "<clipPath id=\"stclip\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath>"
                           "</defs>\n<g clip-path=\"url(#stclip)\">\n",
                   c.left, c.top, c.right - c.left, c.bottom - c.top);
    /* Stalled: in flight far longer than a typical message (a connection
     * held by a partition or a pause until it healed). */
    int64_t stall_ns = stalled_threshold(t);
    size_t drawn = 0, skipped = 0, stalled = 0, dropped = 0;
    for (size_t a = 0; a < t->arrows_count; a++) {
        const rpt_trace_arrow *ar = &t->arrows[a];
        if (ar->recv_ns < sv->from_ns || ar->send_ns > sv->to_ns) continue;
        if (drawn == RPT_REPORT_ARROWS_MAX) {
            skipped++;
            continue;
        }
        size_t ls = 0, ld = 0;
        while (ls < lanes && t->lanes[ls].tid != ar->src_tid) ls++;   /* bound: lanes */
        while (ld < lanes && t->lanes[ld].tid != ar->dst_tid) ld++;
        if (ls == lanes || ld == lanes) continue;
        size_t color = rank[ar->name] - 1;
        bool stall = ar->recv_ns - ar->send_ns >= stall_ns;
        stalled += stall;
        double x1 = rpt_chart_px(&c, (double)ls), x2 = rpt_chart_px(&c, (double)ld);
        if (ls == ld) x2 += 24.0;                  /* a message to itself: a short hook */
        char lat[32], at[32];
        rpt_buf_printf(h->out, "<path d=\"M%.1f %.1fL%.1f %.1f\" stroke=\"%s\" stroke-width=\"%s\"%s "
                               "marker-end=\"url(#ah%zu)\"><title>",
                       x1, rpt_chart_py(&c, seconds(ar->send_ns)), x2, rpt_chart_py(&c, seconds(ar->recv_ns)),
                       rpt_color(color), stall ? "2.4" : "1.2", type_dash(color, stall),
                       color < RPT_SPACETIME_TYPES_MAX ? color : RPT_SPACETIME_TYPES_MAX - 1);
        if (stall) rpt_buf_put(h->out, "stalled: ");
        esc(h, t->names[ar->name]);
        rpt_buf_put(h->out, ": ");
        esc(h, t->lanes[ls].name);
        rpt_buf_put(h->out, " \xE2\x86\x92 ");
        esc(h, t->lanes[ld].name);
        rpt_buf_printf(h->out, ", sent at %s, in flight %s</title></path>\n", rpt_fmt_ns_i64(ar->send_ns, at, sizeof at),
                       rpt_fmt_ns_i64(ar->recv_ns - ar->send_ns, lat, sizeof lat));
        c.marks++;
        drawn++;
    }
    /* Dropped messages: from the send to where they were lost, dashed, with
     * a cross. */
    for (size_t k = 0; k < t->drops_count; k++) {
        const rpt_trace_drop *d = &t->drops[k];
        if (d->drop_ns < sv->from_ns || d->send_ns > sv->to_ns) continue;
        if (drawn == RPT_REPORT_ARROWS_MAX) {
            skipped++;
            continue;
        }
        size_t ls = 0, ld = 0;
        while (ls < lanes && t->lanes[ls].tid != d->src_tid) ls++;   /* bound: lanes */
        while (ld < lanes && t->lanes[ld].tid != d->dst_tid) ld++;
        if (ls == lanes || ld == lanes) continue;
        size_t color = rank[d->name] - 1;
        double x1 = rpt_chart_px(&c, (double)ls), x2 = rpt_chart_px(&c, (double)ld);
        if (ls == ld) x2 += 24.0;
        char at[32];
        rpt_buf_printf(h->out, "<path d=\"M%.1f %.1fL%.1f %.1f\" stroke=\"%s\" stroke-width=\"1.2\" "
                               "stroke-dasharray=\"2 3\" marker-end=\"url(#stx)\"><title>",
                       x1, rpt_chart_py(&c, seconds(d->send_ns)), x2, rpt_chart_py(&c, seconds(d->drop_ns)),
                       rpt_color(color));
        esc(h, t->names[d->why]);
        rpt_buf_put(h->out, ": ");
        esc(h, t->lanes[ls].name);
        rpt_buf_put(h->out, " \xE2\x86\x92 ");
        esc(h, t->lanes[ld].name);
        rpt_buf_printf(h->out, ", sent at %s</title></path>\n", rpt_fmt_ns_i64(d->send_ns, at, sizeof at));
        c.marks++;
        drawn++;
        dropped++;
    }
    for (size_t m = 0; m < t->marks_count; m++) {
        double y = seconds(t->marks[m].at_ns);
        if (y < seconds(sv->from_ns) || y > seconds(sv->to_ns)) continue;
        rpt_buf_printf(h->out, "<path d=\"M%.1f %.1fH%.1f\" stroke=\"#9b1c1c\" stroke-dasharray=\"6 3\"><title>",
                       c.left, rpt_chart_py(&c, y), c.right);
        esc(h, t->names[t->marks[m].name]);
        rpt_buf_put(h->out, "</title></path>");
        rpt_chart_text(&c, c.right - 2, rpt_chart_py(&c, y) - 3, "end", "sp", t->names[t->marks[m].name]);
        rpt_buf_put(h->out, "\n");
        c.marks++;
    }
    rpt_buf_put(h->out, "</g>\n");
    const char *names[RPT_SPACETIME_TYPES_MAX + 2], *colors[RPT_SPACETIME_TYPES_MAX + 2];
    size_t nl = 0;
    for (size_t k = 0; k < t->names_count && nl < RPT_SPACETIME_TYPES_MAX; k++) {
        if (rank[k] == 0) continue;
        names[nl] = t->names[k];
        colors[nl++] = rpt_color(rank[k] - 1);
    }
    if (dropped > 0) {
        names[nl] = "dropped (dotted, \xC3\x97)";
        colors[nl++] = "#c62828";
    }
    if (stalled > 0) {
        names[nl] = "stalled (thick)";
        colors[nl++] = "#57606a";
    }
    rpt_chart_legend_column(&c, c.right + 18, c.top + 10, names, colors, nl);
    rpt_chart_end(&c);
    free(rank);
    if (stalled > 0 || dropped > 0) {
        char limit[32];
        rpt_buf_printf(h->out, "<p class=\"note\">%zu dropped message%s drawn dotted to where it was lost; %zu "
                               "stalled message%s (in flight %s or longer) drawn thick.</p>\n",
                       dropped, dropped == 1 ? "" : "s", stalled, stalled == 1 ? "" : "s",
                       rpt_fmt_ns_i64(stall_ns, limit, sizeof limit));
    }
    if (drawn == 0) {
        put(h, "<p class=\"note\">No message was in flight in this window: choose another with --window.</p>\n");
    }
    if (skipped > 0) {
        rpt_buf_printf(h->out, "<p class=\"note\">%zu more messages in this window are not drawn (at most %u arrows); "
                               "narrow the window with --window.</p>\n",
                       skipped, RPT_REPORT_ARROWS_MAX);
    }
}

/* A trace that names its run's hash (distrosim replay --perfetto does)
 * must be of the run reported (--run) or, without --run, of one of the
 * runs reported: a diagram of another run beside this run's faults would
 * mislead.  False after rpt_fail. */
static bool trace_is_of_the_run(html *h, const rpt_trace *t)
{
    if (t->trace_hash[0] == '\0') return true;      /* another tool's trace: nothing to check */
    rpt_rows rows = { 0 };
    rpt_buf lit = { 0 };
    rpt_sql(&lit, t->trace_hash);
    if (lit.failed) (void)rpt_fail(h->ctx, SIM_ERR_NOMEM, "rpt_html", "out of memory quoting the trace hash");
    char f[RPT_RUN_FILTER_MAX];
    rpt_query(h->ctx, &rows, "SELECT count(*) FROM runs WHERE trace_hash = %s%s", rpt_buf_str(&lit),
              rpt_run_filter(h->ctx, "id", f, sizeof f));
    rpt_buf_deinit(&lit);
    bool ok = h->ctx->status == SIM_OK && rows.count == 1 && rpt_cell_i64(&rows, 0, 0) > 0;
    rpt_rows_deinit(&rows);
    if (!ok && h->ctx->status == SIM_OK) {
        if (h->ctx->opt.run_id > 0) {
            (void)rpt_fail(h->ctx, SIM_ERR_INVALID, "--trace",
                           "%s is a trace of the run with trace hash %s, not of run %" PRId64
                           " (see runs.trace_hash; replay that run's seed with --perfetto)",
                           h->ctx->opt.trace_path, t->trace_hash, h->ctx->opt.run_id);
        } else {
            (void)rpt_fail(h->ctx, SIM_ERR_INVALID, "--trace",
                           "%s is a trace of the run with trace hash %s, which is not a run of this report",
                           h->ctx->opt.trace_path, t->trace_hash);
        }
    }
    return ok;
}

static void section_spacetime(html *h)
{
    put(h, "<section id=\"spacetime\">\n<h2>Space-time diagram</h2>\n");
    if (h->ctx->opt.trace_path == NULL) {
        st_instructions(h);
        put(h, "</section>\n");
        return;
    }
    rpt_trace t;
    sim_error terr;
    memset(&terr, 0, sizeof terr);
    sim_status st = rpt_trace_load(h->ctx->opt.trace_path, &t, &terr);
    if (st != SIM_OK) {
        (void)rpt_fail(h->ctx, st, terr.where, "%s", terr.message);
        return;
    }
    if (!trace_is_of_the_run(h, &t)) {
        rpt_trace_deinit(&t);
        return;
    }
    st_view sv;
    memset(&sv, 0, sizeof sv);
    sv.has_run = h->ctx->opt.run_id > 0;
    if (sv.has_run) {
        rpt_query(h->ctx, &sv.faults,
                  "SELECT start_ns, end_ns, coalesce(description, kind) FROM faults WHERE run_id = %" PRId64
                  " ORDER BY start_ns, id", h->ctx->opt.run_id);
    }
    st_window(h, &t, &sv);
    put(h, "<p class=\"note\">Trace <code>");
    esc(h, h->ctx->opt.trace_path);
    rpt_buf_printf(h->out, "</code>: %zu messages delivered, %zu dropped, %zu lanes. Time runs downwards; each arrow "
                           "goes from the send to the arrival at the receiver, one colour per message type; a "
                           "message the network dropped (partition, loss, a down receiver) is dotted up to where "
                           "it was lost; one held far longer than the others (stalled) is thick. Faults are "
                           "shaded on the lanes of the nodes they hit.</p>\n",
                   t.arrows_count, t.drops_count, t.lanes_count);
    if (t.lanes_count == 0) {
        put(h, "<p class=\"note\">The trace has no tracks with messages.</p>\n");
    } else {
        st_draw(h, &t, &sv);
    }
    if (t.unpaired > 0) {
        rpt_buf_printf(h->out, "<p class=\"note\">%zu flow events had no partner and are not drawn.</p>\n", t.unpaired);
    }
    put(h, "</section>\n");
    rpt_rows_deinit(&sv.faults);
    rpt_trace_deinit(&t);
}

/* ========================================================================
 * The page
 * ======================================================================== */

void rpt_html_write(rpt_ctx *ctx, rpt_buf *out)
{
    html h;
    memset(&h, 0, sizeof h);
    h.ctx = ctx;
    h.out = out;
    page_head(&h);
    rpt_q_verdicts(ctx, &h.scen);
    for (size_t r = 0; r < h.scen.count; r++) h.runs_total += rpt_cell_i64(&h.scen, r, 1);
    if (h.runs_total == 0) {
        put(&h, "<p class=\"empty\">There are no runs in this database. Record some with <code>distrosim run "
                "SCENARIO --seeds 1-20 --db FILE</code> or <code>distrosim check DIR --db FILE</code>.</p>\n");
    } else {
        rpt_rows sweeps = { 0 };
        char f[RPT_RUN_FILTER_MAX];
        rpt_query(ctx, &sweeps, "SELECT count(*) FROM run_params WHERE 1 = 1%s",
                  rpt_run_filter(ctx, "run_id", f, sizeof f));
        h.has_sweeps = sweeps.count == 1 && rpt_cell_i64(&sweeps, 0, 0) > 0;
        rpt_rows_deinit(&sweeps);
        if (h.has_sweeps) {
            rpt_query(ctx, &sweeps, "SELECT count(*) FROM run_params WHERE key = 'cluster.version'%s",
                      rpt_run_filter(ctx, "run_id", f, sizeof f));
            h.has_versions = sweeps.count == 1 && rpt_cell_i64(&sweeps, 0, 0) > 0;
            rpt_rows_deinit(&sweeps);
        }
        pick_runs(&h);
        scenario_data data;
        memset(&data, 0, sizeof data);
        scenario_data_load(&h, &data);
        h.data = &data;
        h.windows = data.windows;
        page_toc(&h);
        section_summary(&h);
        if (ctx->opt.run_id == 0 && h.has_versions) section_versions(&h);
        if (ctx->opt.run_id == 0) {   /* one run (--run): no distributions over seeds, no sweep charts */
            section_scenarios(&h);
            if (h.has_sweeps) section_sweeps(&h);
        }
        section_runs(&h);
        section_spacetime(&h);
        h.data = NULL;
        h.windows = NULL;
        scenario_data_deinit(&data);
    }
    put(&h, "<p class=\"note\">Generated by <code>distrosim report</code> from the results database; times are "
            "virtual (simulated) time.</p>\n</main>\n</body>\n</html>\n");
    rpt_rows_deinit(&h.scen);
    rpt_rows_deinit(&h.picked);
}
