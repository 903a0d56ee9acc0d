/* rpt_report.h: reports generated from a distrosim results database.
 *
 * `distrosim report DB -o OUT` reads the database that `run`, `check` and
 * `sweep` write (reports/SCHEMA.md) and renders it for people:
 *
 *   html      ONE self-contained page (inline CSS and SVG, no script, no
 *             network): campaign summary with repro commands, convergence
 *             after the last fault per scenario (CDF and percentiles), lost
 *             and zombie windows, replication lag, traffic by message type
 *             and node, sweep charts, a timeline of the worst runs, and a
 *             space-time diagram of messages read from a Perfetto trace.
 *   markdown  the summary tables only, for a CI step summary.
 *   csv       one RFC 4180 file per table in the directory OUT, with
 *             spreadsheet formulas neutralised (reports/SCHEMA.md).
 *
 * Invariants:
 *   (1) Same database and options, same bytes out: every query ends its
 *       ORDER BY in a unique column (H18), numbers are formatted with fixed
 *       formats in the C locale, and nothing reads the clock or the host.
 *   (2) The report is read-only with respect to the runs: it never writes a
 *       row.  (rpt_db_open may migrate an older file to the current schema
 *       version, as every other reader does.)
 *   (3) Memory and output size do not grow with the number of runs beyond
 *       O(runs) small entries: distributions are computed with SQL window
 *       functions and cut to at most RPT_REPORT_CDF_POINTS_MAX points per
 *       curve; windows and msgstats are folded in one streamed scan each
 *       (rpt_fold.c says why not GROUP BY); per-run charts are drawn for at
 *       most `worst_per_scenario` runs per scenario.  Measured: 2.0-2.8 s
 *       for 10,000 runs of partition-heal (509 MB) with a warm page cache.
 *   (4) Output files are written to a unique file beside OUT and renamed, so a failed report
 *       never leaves a partial file under the requested name.
 *
 * Ownership: every pointer argument is borrowed for the duration of the call;
 * nothing is kept. */
#ifndef RPT_REPORT_H
#define RPT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_error.h"
#include "sim_time.h"

/* With at most this many runs in the database (or in the --run selection)
 * the HTML report draws a timeline for every run; above it, only for the
 * worst runs of each scenario.  Each timeline costs about 40 KB of HTML. */
#define RPT_REPORT_ALL_RUNS_MAX 8u

/* Default count of worst runs per scenario that get a timeline. */
#define RPT_REPORT_WORST_DEFAULT 3u

/* Upper bound of --worst: 50 timelines per scenario is already a 2 MB page. */
#define RPT_REPORT_WORST_MAX 50u

/* Points kept per CDF curve.  200 steps are finer than the 500-pixel-wide
 * chart can show; the exact percentiles are computed separately. */
#define RPT_REPORT_CDF_POINTS_MAX 200u

/* Failing runs listed with their repro command; a note says when there are more. */
#define RPT_REPORT_FAILING_LISTED_MAX 100u

/* Message arrows drawn in the space-time diagram; later ones are counted. */
#define RPT_REPORT_ARROWS_MAX 1500u

/* Largest trace file read for the space-time diagram (bytes). */
#define RPT_REPORT_TRACE_BYTES_MAX ((uint64_t)1 << 30)

typedef enum rpt_format {
    RPT_FORMAT_HTML,
    RPT_FORMAT_MARKDOWN,
    RPT_FORMAT_CSV,
} rpt_format;

/* Options; a zeroed struct means "the defaults". */
typedef struct rpt_report_options {
    int64_t run_id;              /* > 0: report on this run only; 0 = every run */
    int64_t campaign_id;         /* > 0: only the runs of this campaign (campaigns.id); 0 = every campaign */
    bool campaign_latest;        /* only the runs of the latest campaign (the highest campaigns.id) */
    sim_time_ns window_from_ns;  /* html timelines and space-time diagram: from */
    sim_time_ns window_to_ns;    /* ... to; 0 = no window given (the defaults) */
    const char *trace_path;      /* Perfetto/Chrome trace JSON for the space-time diagram; NULL = none */
    uint32_t worst_per_scenario; /* timelines per scenario; 0 = RPT_REPORT_WORST_DEFAULT */
    const char *title;           /* page title; NULL = "distrosim report: <db file name>" */
    bool reverse_unordered;      /* tests: PRAGMA reverse_unordered_selects=1 (H18) */
} rpt_report_options;

/* Writes a report of the database at `db_path` to `out_path` in `format`
 * (for csv, `out_path` is a directory, created if missing, that receives
 * runs.csv, campaigns.csv, run_params.csv, windows.csv, convergences.csv, counters.csv,
 * samples.csv, msgstats.csv, faults.csv and expects.csv).  "-" writes html
 * or markdown to standard output.  `opt` may be NULL (defaults).  Borrows
 * every argument.
 *
 * Errors: SIM_ERR_IO when the database does not exist (it is never created)
 * or an output cannot be written; SIM_ERR_INVALID for a bad option (unknown
 * --run id, an empty window, --window or --trace with a format that does not
 * draw them, an unreadable or malformed trace); SIM_ERR_REPORT for SQLite
 * errors, including a file that is not a distrosim database; SIM_ERR_NOMEM.
 * Cost: O(runs) in SQL aggregates, plus O(samples) of the drawn runs. */
SIM_MUST_CHECK sim_status rpt_report_write(const char *db_path, rpt_format format,
                                           const rpt_report_options *opt, const char *out_path,
                                           sim_error *err);

/* What the space-time diagram would draw from a trace. */
typedef struct rpt_trace_counts {
    size_t lanes, arrows, marks, names, unpaired;
} rpt_trace_counts;

/* Reads `len` bytes of trace JSON (need not be NUL-terminated) as --trace
 * reads a file, named `name` in messages, and checks the promises the
 * drawing code relies on (sorted names, lanes, arrows and marks; every name
 * index in range), stopping the process if one is broken.  SIM_ERR_INVALID
 * for a malformed trace, SIM_ERR_NOMEM.  For the fuzz harness; the report
 * itself reads files.  O(n log n) in the events. */
SIM_MUST_CHECK sim_status rpt_trace_read_buffer(const char *name, const char *text, size_t len,
                                                rpt_trace_counts *counts, sim_error *err);

/* `distrosim report DB -o OUT [--format html|markdown|csv] [--run ID]
 * [--window FROM-TO] [--trace FILE] [--worst N] [--title TEXT]`.
 * argv[0] is the first argument after `report`.  Returns the exit status:
 * 0 written, 2 bad arguments or any error (with a message on stderr). */
int rpt_report_main(int argc, char **argv);

/* The one percentile definition, nearest rank: the p-th percentile
 * (0 <= p <= 100) of n >= 1 sorted values is the value at 1-based rank
 * ceil(p / 100 * n); p = 0 is the minimum (rank 1) and p = 100 the maximum.
 * The runner's per-run lag, the observer and the report's tables all use it
 * (the report's SQL through RPT_SQL_NEAREST_RANK).  O(1). */
size_t rpt_percentile_rank(size_t n, unsigned p);
uint64_t rpt_percentile_nearest_rank(const uint64_t *sorted, size_t n, unsigned p);

/* The same rank in SQL, for a window whose row count is the column `n`:
 * "(n * P + 99) / 100", P an integer literal 1..100. */
#define RPT_SQL_NEAREST_RANK(P) "(n * " #P " + 99) / 100"

#endif
