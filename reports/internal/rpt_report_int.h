/* rpt_report_int.h: helpers shared by the report writer's files
 * (rpt_report.c, rpt_html.c, rpt_svg.c, rpt_trace.c).  Never included from
 * outside reports/.
 *
 * Error handling is sticky, as stdio's ferror is: an rpt_ctx remembers its
 * first error, every later query or write through it is a no-op, and the
 * caller checks ctx->status once at the end.  That keeps the many small
 * section writers free of error plumbing without ever printing and going on
 * (H9): the first error is the one reported, and no output file is renamed
 * into place after one. */
#ifndef RPT_REPORT_INT_H
#define RPT_REPORT_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpt_db.h"
#include "rpt_report.h"
#include "sim_error.h"

/* --- Growable text buffer ------------------------------------------------ */

/* A NUL-terminated growing string.  On allocation failure `failed` is set
 * and further appends are dropped; the owner turns that into SIM_ERR_NOMEM. */
typedef struct rpt_buf {
    char *data;        /* NULL until the first append */
    size_t len;        /* bytes, without the NUL */
    size_t cap;
    bool failed;
} rpt_buf;

void rpt_buf_deinit(rpt_buf *b);                     /* frees data; the buffer is empty again */
void rpt_buf_put(rpt_buf *b, const char *s);         /* borrows s */
void rpt_buf_putn(rpt_buf *b, const char *s, size_t n);
void rpt_buf_printf(rpt_buf *b, const char *fmt, ...) SIM_PRINTF(2, 3);
void rpt_buf_vprintf(rpt_buf *b, const char *fmt, va_list ap);
void rpt_buf_html(rpt_buf *b, const char *s);        /* HTML text/attribute escape (rpt_esc_html); NULL = "" */
void rpt_buf_sql_str(rpt_buf *b, const char *s);     /* 'quoted'' SQL literal; NULL = NULL */
const char *rpt_buf_str(const rpt_buf *b);           /* "" when empty */
void rpt_buf_sink(void *sink, const char *s, size_t n);   /* an rpt_escape.h sink; `sink` is an rpt_buf */

/* --- Query results ------------------------------------------------------- */

/* Rows of one query, copied out of SQLite as text.  Cells are offsets into
 * one arena; SIZE_MAX is SQL NULL. */
typedef struct rpt_rows {
    int ncols;
    size_t count;
    size_t cap;        /* in cells */
    size_t *cells;     /* count * ncols offsets into text */
    rpt_buf text;
} rpt_rows;

void rpt_rows_deinit(rpt_rows *rows);                 /* NULL-safe; empty again */
const char *rpt_cell(const rpt_rows *rows, size_t row, int col);   /* NULL = SQL NULL */
bool rpt_cell_null(const rpt_rows *rows, size_t row, int col);
const char *rpt_cell_s(const rpt_rows *rows, size_t row, int col);   /* NULL -> "" */
int64_t rpt_cell_i64(const rpt_rows *rows, size_t row, int col);   /* NULL -> 0 */

/* --- The report context -------------------------------------------------- */

typedef struct rpt_ctx {
    rpt_db *db;
    rpt_report_options opt;      /* normalised copy; strings borrowed from the caller */
    const char *db_path;         /* borrowed */
    sim_status status;           /* first error; SIM_OK until then */
    sim_error *err;              /* filled with the first error */
} rpt_ctx;

/* Records an error if none is recorded yet.  Returns ctx->status. */
sim_status rpt_fail(rpt_ctx *ctx, sim_status status, const char *where, const char *fmt, ...)
    SIM_PRINTF(4, 5);

/* Runs the SQL built from `fmt` (printf-style; quote strings with
 * rpt_sql() first) and replaces `rows` with its result.  A no-op once ctx
 * has failed; then `rows` is left empty.  Cost: the query plus one copy of
 * its text. */
void rpt_query(rpt_ctx *ctx, rpt_rows *rows, const char *fmt, ...) SIM_PRINTF(3, 4);

/* Streams the rows of `sql` to `row` without keeping them (for CSV). */
void rpt_query_each(rpt_ctx *ctx, const char *sql,
                    void (*row)(void *user, int ncols, const char *const *values), void *user);

/* The SQL literal of `s` in a buffer the caller frees (rpt_buf_deinit). */
void rpt_sql(rpt_buf *b, const char *s);

/* Writes " AND <column> = <run id>" into `buf` when one run is selected
 * (--run), " AND <column> IN (the runs of the campaign)" when one campaign
 * is (--campaign), both when both are, else "", and returns `buf`.  `buf`
 * holds RPT_RUN_FILTER_MAX bytes for any column name up to 24 bytes. */
#define RPT_RUN_FILTER_MAX 192
const char *rpt_run_filter(const rpt_ctx *ctx, const char *column, char *buf, size_t size);

/* --- Shared aggregate queries (rpt_report.c) ------------------------------
 *
 * Each replaces `rows`; all honour --run; rows are ordered by scenario name
 * (which is unique per row after GROUP BY).  Times are ns; -1 means never. */

/* The run's convergence (SCHEMA.md "Convergence of a run"), as an SQL
 * expression over runs: NULL when never.  A run written before schema 4
 * has neither convergence_ns nor convergence_never: its convergence is
 * read the old way, from the end of the last fault. */
#define RPT_SQL_CONVERGENCE                                                                      \
    "(CASE WHEN convergence_ns IS NOT NULL THEN convergence_ns WHEN convergence_never IS NOT NULL " \
    "THEN NULL WHEN converged_ns IS NULL THEN NULL "                                            \
    "ELSE max(converged_ns - coalesce(last_fault_end_ns, 0), 0) END)"

/* scenario, runs, pass, fail, error, scenario_path of its first run */
void rpt_q_verdicts(rpt_ctx *ctx, rpt_rows *rows);

/* The campaigns whose runs the report pools (within --run / --campaign):
 * id, command line, state, signal, runs in the report, "shard K/N" (NULL when
 * not sharded); by id.  Empty for a
 * file whose runs have no campaign record (written before schema 3). */
void rpt_q_campaigns(rpt_ctx *ctx, rpt_rows *rows);

/* Count of the reported runs that have no campaign record. */
int64_t rpt_q_runs_without_campaign(rpt_ctx *ctx);
/* id, scenario, seed, verdict, failure, repro of non-passing runs; at most
 * RPT_REPORT_FAILING_LISTED_MAX + 1 rows (one more says "there are more") */
void rpt_q_failing(rpt_ctx *ctx, rpt_rows *rows);
/* scenario, runs (errors aside), never converged, p50, p90, p99, max of the
 * runs' convergence (RPT_SQL_CONVERGENCE; -1 = never) */
void rpt_q_convergence(rpt_ctx *ctx, rpt_rows *rows);
/* scenario, runs with lag samples, samples, median run p50, median run p99,
 * worst run max */
void rpt_q_lag(rpt_ctx *ctx, rpt_rows *rows);
/* key, value, scenario, runs, convergence p50, convergence max (NULL: no
 * fault ended; -1: never), longest lost window, first run_params id, runs
 * with a fault */
void rpt_q_sweep(rpt_ctx *ctx, rpt_rows *rows);
/* A cluster.version sweep as a comparison (SCHEMA.md "Version
 * comparison"): scenario, version, runs, failed or error runs, error runs,
 * never converged, convergence p50, p99, max (NULL: no run counts; -1:
 * never), longest lost window (NULL: none) and runs with one, the same for
 * zombie, client reads (NULL: no readers), then count and longest of the
 * empty, short and stale client anomaly windows (NULL: none), first
 * run_params id; by scenario, then the order the versions were written. */
void rpt_q_versions(rpt_ctx *ctx, rpt_rows *rows);

/* One column of the version comparison table: its header and the function
 * that writes row r's cell of an rpt_q_versions result (markdown and html
 * share them). */
typedef struct rpt_version_column {
    const char *header;
    bool numeric;                /* right-aligned */
    const char *(*cell)(const rpt_rows *rows, size_t r, char *buf, size_t size);
} rpt_version_column;
const rpt_version_column *rpt_version_columns(size_t *count);

/* What readers saw (client_reads, client_anomalies): scenario, source
 * ("query" or "view"), runs with readers, reads, failed queries, empty,
 * short and stale reads, then the longest empty, short and stale window
 * (open ones to their run's end; NULL: none); by scenario and source. */
void rpt_q_clients(rpt_ctx *ctx, rpt_rows *rows);

/* --- The overview (rpt_report.c) -------------------------------------------
 *
 * One row per scenario, the scenarios with a failing or error run first
 * (then by name), one column per entry of rpt_overview_columns(): what the
 * HTML report opens with and the Markdown report's first table.  A column
 * is a header and a function that writes its cell; to add one, load what it
 * reads in rpt_overview_load (a query keyed by scenario name, ordered by
 * it, found with rpt_overview_find) and add an entry to the table. */

typedef struct rpt_window_stats rpt_window_stats;

typedef struct rpt_overview {
    rpt_rows verdicts;           /* rpt_q_verdicts */
    rpt_rows convergence;        /* rpt_q_convergence */
    const rpt_window_stats *windows;   /* borrowed: rpt_fold_windows over `verdicts`; NULL: not folded */
    size_t *order;               /* rows of `verdicts` in display order */
    size_t count;
} rpt_overview;

typedef struct rpt_overview_column {
    const char *header;
    bool numeric;                /* right-aligned */
    /* Writes the cell for row `s` of ov->verdicts into buf and returns it. */
    const char *(*cell)(const rpt_overview *ov, size_t s, char *buf, size_t size);
} rpt_overview_column;

const rpt_overview_column *rpt_overview_columns(size_t *count);
/* Loads the overview; `verdicts` (an rpt_q_verdicts result, moved into
 * ov) and `windows` (its rpt_fold_windows, borrowed) are what the caller
 * already has, so the big tables are scanned once. */
void rpt_overview_load(rpt_ctx *ctx, rpt_overview *ov, rpt_rows *verdicts, const rpt_window_stats *windows);
void rpt_overview_deinit(rpt_overview *ov);
/* The row of `rows` (ordered by column 0) whose column 0 is `scenario`;
 * rows->count when none. */
size_t rpt_overview_find(const rpt_rows *rows, const char *scenario);
/* Whether row `s` of ov->verdicts has a failing or error run. */
bool rpt_overview_failing(const rpt_overview *ov, size_t s);

/* --- Folds of the big child tables (rpt_fold.c) ---------------------------- */

typedef struct rpt_run_entry {
    int64_t id;
    size_t scenario;             /* row of the rpt_q_verdicts result */
    int64_t end_ns;
    uint8_t seen;                /* window kinds met in this run (bit per kind) */
} rpt_run_entry;

/* The runs (honouring --run) in id order, each with its scenario's row in
 * `scen` (an rpt_q_verdicts result). */
typedef struct rpt_runmap {
    rpt_run_entry *runs;
    size_t count, cap;
    size_t last;                 /* last lookup hit */
} rpt_runmap;

void rpt_runmap_load(rpt_ctx *ctx, const rpt_rows *scen, rpt_runmap *map);
void rpt_runmap_deinit(rpt_runmap *map);

#define RPT_WINDOW_KINDS 6       /* the CHECK constraint of windows.kind */
#define RPT_WINDOW_BUCKETS 8     /* <1 ms, six decades up to >=100 s, open at end */

struct rpt_window_stats {
    int64_t count;               /* windows */
    int64_t runs;                /* runs with at least one */
    int64_t longest_ns;          /* an open window lasts to its run's end; -1 = no window */
    int64_t open;                /* still open at the end of their run */
    int64_t buckets[RPT_WINDOW_BUCKETS];
};

const char *rpt_window_kind_name(size_t k);      /* k < RPT_WINDOW_KINDS, alphabetical */
const char *rpt_window_bucket_name(size_t b);    /* b < RPT_WINDOW_BUCKETS */

/* Folds every windows row into `*out`, an array of scenarios *
 * RPT_WINDOW_KINDS stats (scenario-major) the caller frees with free().
 * Cost: one scan of windows in rowid order; O(1) memory per row. */
void rpt_fold_windows(rpt_ctx *ctx, rpt_runmap *map, size_t scenarios, rpt_window_stats **out);

#define RPT_MSG_FATES 7          /* delivered, then the six dropped_* reasons */
#define RPT_TRAFFIC_TYPES_MAX 256

typedef struct rpt_type_traffic {
    char *type;                  /* owned */
    int64_t fate[RPT_MSG_FATES];
    int64_t bytes_sent;
    int64_t sent;
} rpt_type_traffic;

typedef struct rpt_node_traffic {
    int64_t sent;                /* messages this node sent */
    int64_t received;            /* messages delivered to it */
} rpt_node_traffic;

typedef struct rpt_traffic {
    rpt_type_traffic *types;     /* sorted by type after the fold */
    size_t types_count, types_cap;
    rpt_node_traffic *nodes;     /* index = node id */
    size_t nodes_count;
} rpt_traffic;

/* Folds every msgstats row into one rpt_traffic per scenario; release with
 * rpt_traffic_free.  Cost: one scan of msgstats in rowid order. */
void rpt_fold_traffic(rpt_ctx *ctx, rpt_runmap *map, size_t scenarios, rpt_traffic **out);
void rpt_traffic_free(rpt_traffic *t, size_t scenarios);

/* qsort that accepts an empty or NULL array (qsort's base must not be
 * NULL even for 0 elements).  The comparator must be total (H16). */
void rpt_sort(void *base, size_t count, size_t size, int (*cmp)(const void *, const void *));

/* --- Formatting ---------------------------------------------------------- */

/* The one function that formats a duration for people (H18): "never" for
 * NULL, "12.602 s", "850.000 ms", "12.000 us", "45 ns"; rounded to the
 * nearest unit of the last digit; negative values get a minus sign.
 * Writes into `buf` and returns it. */
const char *rpt_fmt_ns(const char *ns_text, char *buf, size_t size);
const char *rpt_fmt_ns_i64(int64_t ns, char *buf, size_t size);
/* Thousands are not separated; plain decimal. */
const char *rpt_fmt_i64(int64_t v, char *buf, size_t size);
/* Bytes as "512 B", "1.5 KiB", "3.2 MiB". */
const char *rpt_fmt_bytes(double v, char *buf, size_t size);

/* Numeric value of a sweep parameter: a duration in the scenario grammar
 * (sim_duration.h: "500ms", "1s") gives seconds and *is_duration = true; a plain number gives itself.
 * False when the text is neither. */
bool rpt_param_number(const char *text, double *out, bool *is_duration);

/* --- SVG charts (rpt_svg.c) ---------------------------------------------- */

#define RPT_PALETTE_SIZE 10
/* A fixed categorical palette (colour-blind friendly order); index mod size. */
const char *rpt_color(size_t index);

/* One chart: a plot area with linear axes, or a categorical x axis. */
typedef struct rpt_chart {
    rpt_buf *out;
    double w, h;                 /* whole SVG, px */
    double left, right, top, bottom;   /* plot area, px */
    double x0, x1, y0, y1;       /* data ranges shown */
    bool y_down;                 /* y grows downwards (space-time diagram) */
    size_t x_categories;         /* > 0: categorical x axis with this many slots */
    size_t marks;                /* data marks drawn (paths, rects, circles) */
} rpt_chart;

/* Starts an <svg class="chart"> with a <title>.  `w`, `h` in px; margins
 * for axes are chosen here.  Borrows `title`. */
void rpt_chart_begin(rpt_chart *c, rpt_buf *out, const char *title, double w, double h);
/* Starts a chart with an explicit plot area (for custom layouts). */
void rpt_chart_begin_area(rpt_chart *c, rpt_buf *out, const char *title, double w, double h,
                          double left, double right, double top, double bottom);
/* Sets the data ranges; x1 > x0 and y1 > y0 (widened when equal). */
void rpt_chart_range(rpt_chart *c, double x0, double x1, double y0, double y1);
/* Rounds y1 (and x1 when `x` is true) up to a nice tick. */
void rpt_chart_nice(rpt_chart *c, bool x, bool y);
double rpt_chart_px(const rpt_chart *c, double x);
double rpt_chart_py(const rpt_chart *c, double y);
/* Grid, ticks, tick labels and the axis titles (which carry the units). */
void rpt_chart_axes(rpt_chart *c, const char *x_title, const char *y_title);
/* Only the x axis (ticks along the bottom edge and its title), and only a
 * y-axis title: for charts that label their rows themselves. */
void rpt_chart_x_axis(rpt_chart *c, const char *x_title);
void rpt_chart_y_title(rpt_chart *c, const char *y_title);
/* Categorical x axis labels (one per slot) and the axis titles. */
void rpt_chart_axes_categorical(rpt_chart *c, const char *const *labels, const char *x_title,
                                const char *y_title);
/* A shaded vertical span from x0 to x1 (clipped), labelled at the top. */
void rpt_chart_span(rpt_chart *c, double x0, double x1, const char *label, const char *fill);
/* A vertical marker line at x with a label. */
void rpt_chart_vline(rpt_chart *c, double x, const char *label, const char *stroke);
/* A line through n points; `step` draws a post-step line (values hold
 * until the next point).  Points with NaN y break the line. */
void rpt_chart_line(rpt_chart *c, const double *xs, const double *ys, size_t n, const char *stroke,
                    bool step, bool dashed, const char *tooltip);
/* A filled area under a step line down to y = y0. */
void rpt_chart_area(rpt_chart *c, const double *xs, const double *ys, size_t n, const char *fill,
                    const char *tooltip);
/* A rectangle in data coordinates, with an optional tooltip. */
void rpt_chart_rect(rpt_chart *c, double x0, double y0, double x1, double y1, const char *fill,
                    const char *tooltip);
/* A dot in data coordinates. */
void rpt_chart_dot(rpt_chart *c, double x, double y, const char *fill, const char *tooltip);
/* A legend row under the title; `n` swatches. */
void rpt_chart_legend(rpt_chart *c, const char *const *names, const char *const *colors, size_t n);
/* A legend as a column of swatches starting at pixel (x, y). */
void rpt_chart_legend_column(rpt_chart *c, double x, double y, const char *const *names,
                             const char *const *colors, size_t n);
/* Free text at pixel coordinates (anchor "start", "middle" or "end"). */
void rpt_chart_text(rpt_chart *c, double px, double py, const char *anchor, const char *cls,
                    const char *text);
void rpt_chart_end(rpt_chart *c);

/* Horizontal bars, one row per label, stacked series (values >= 0).
 * `values` is n_rows * n_series, row-major; `colors` has one colour per
 * series, or is NULL for the palette.  The value axis is titled with
 * `x_title` (units included), the label axis with `y_title`. */
void rpt_svg_hbars(rpt_buf *out, const char *title, const char *const *labels, size_t n_rows,
                   const char *const *series, size_t n_series, const double *values,
                   const char *const *colors, const char *x_title, const char *y_title, bool bytes);

/* --- Sections (rpt_html.c) ----------------------------------------------- */

/* Writes the whole HTML page into `out`. */
void rpt_html_write(rpt_ctx *ctx, rpt_buf *out);

/* --- Traces (rpt_trace.c) ------------------------------------------------ */

typedef struct rpt_trace_lane {
    uint32_t tid;
    char name[96];               /* thread_name, or "tid N" */
} rpt_trace_lane;

typedef struct rpt_trace_arrow {
    int64_t send_ns;
    int64_t recv_ns;
    uint32_t src_tid;
    uint32_t dst_tid;
    uint32_t name;               /* index into names */
} rpt_trace_arrow;

typedef struct rpt_trace_mark {
    int64_t at_ns;
    uint32_t name;               /* index into names */
} rpt_trace_mark;

/* A message lost on the way (distrosim's "drop" instants): sent by
 * `src_tid` at send_ns, lost at `dst_tid` at drop_ns. */
typedef struct rpt_trace_drop {
    int64_t send_ns;
    int64_t drop_ns;
    uint32_t src_tid;
    uint32_t dst_tid;
    uint32_t name;               /* the message type: index into names */
    uint32_t why;                /* the whole mark, "TYPE dropped (REASON)": index into names */
} rpt_trace_drop;

/* A fault on one lane (distrosim's "X" slices of category "fault"). */
typedef struct rpt_trace_span {
    int64_t start_ns;
    int64_t end_ns;
    uint32_t tid;
    uint32_t name;               /* index into names */
} rpt_trace_span;

/* The messages and global marks of a Chrome/Perfetto trace JSON: flows
 * ("s" paired with "f" by id) become arrows, thread_name metadata names
 * lanes, global instants ("s":"g") become marks. */
typedef struct rpt_trace {
    rpt_trace_lane *lanes; size_t lanes_count;       /* sorted by tid */
    rpt_trace_arrow *arrows; size_t arrows_count;    /* sorted by (send, recv, src, dst, name) */
    rpt_trace_mark *marks; size_t marks_count;       /* sorted by (at, name) */
    rpt_trace_drop *drops; size_t drops_count;       /* sorted by (drop, send, src, dst, why) */
    rpt_trace_span *spans; size_t spans_count;       /* sorted by (start, tid, end, name) */
    char **names; size_t names_count;                /* message and mark names, sorted */
    size_t unpaired;                                 /* flow halves without a partner */
    char trace_hash[17];         /* the run's trace hash (16 hex digits) when the file names it; "" = unknown */
} rpt_trace;

/* Reads the trace at `path`.  Borrows `path`; fills `*out` (release with
 * rpt_trace_deinit).  SIM_ERR_IO when the file cannot be read,
 * SIM_ERR_INVALID when it is not trace JSON (with the byte offset). */
SIM_MUST_CHECK sim_status rpt_trace_load(const char *path, rpt_trace *out, sim_error *err);
/* The same for `len` bytes of `text` (need not be NUL-terminated); `name`
 * stands for the file in messages. */
SIM_MUST_CHECK sim_status rpt_trace_parse(const char *name, const char *text, size_t len, rpt_trace *out,
                                          sim_error *err);
void rpt_trace_deinit(rpt_trace *trace);

#endif
