/* test_rpt_report.c: the report writer (reports/rpt_report.c and friends)
 * and the Perfetto trace writer (sim/cli_perfetto.c).
 *
 * The fixture database is built here, row by row, with rpt_db_write_run, so
 * every value in it is known: three scenarios (one with a name that needs
 * quoting in every format), a failing run that never converged, an error
 * run with no children, a sweep over two parameter values, open windows, a
 * seed above INT64_MAX and strings with commas, quotes, pipes and newlines.
 *
 * Golden files.  The markdown and CSV renderings are compared byte for byte
 * with tests/report-golden/fixture.md and tests/report-golden/csv/<table>.csv.
 * They change only on purpose: after a deliberate change to the report,
 * regenerate them with
 *
 *     RPT_REPORT_UPDATE_GOLDEN=1 build/test_rpt_report
 *
 * from the source directory, read `git diff tests/report-golden`, and commit
 * the new files with the change that explains them.  A normal run never
 * writes them.
 *
 * Every golden test runs twice (tcase_add_loop_test, _i = 0 and 1): the
 * second time with PRAGMA reverse_unordered_selects=1, so a query without a
 * complete ORDER BY changes the output and fails the comparison (H18).
 *
 * The HTML is checked by structure rather than against a golden file (it is
 * large and its layout will be tuned): the expected sections, one <svg> per
 * chart with at least one data mark each, axis titles with units, repro
 * commands, and identical bytes from two renderings.
 *
 * Perfetto output is checked with a strict JSON validator written here (no
 * recursion: an explicit stack of bounded depth), and through the report,
 * which draws the space-time diagram from it. */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_perfetto.h"
#include "rpt_db.h"
#include "rpt_escape.h"
#include "rpt_report.h"
#include "tst_sim.h"

#define TST_GOLDEN_DIR "tests/report-golden"
#define TST_JSON_DEPTH_MAX 64

static const char *const tst_tables[] = { "runs",    "campaigns", "run_params", "windows", "convergences",
                                          "counters", "samples",  "msgstats",   "faults",  "expects",
                                          "client_reads", "client_anomalies" };

/* ========================================================================
 * Files and directories
 * ======================================================================== */

typedef struct tst_dir {
    char path[64];
} tst_dir;

static void tst_dir_make(tst_dir *dir)
{
    snprintf(dir->path, sizeof dir->path, "/tmp/test_rpt_report.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir->path));
}

static char *tst_path(const char *dir, const char *name)
{
    size_t size = strlen(dir) + strlen(name) + 2;
    char *path = malloc(size);
    ck_assert_ptr_nonnull(path);
    snprintf(path, size, "%s/%s", dir, name);
    return path;
}

/* Removes a directory tree two levels deep (the csv directory is one). */
static void tst_dir_remove_path(const char *path, int depth)
{
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *child = tst_path(path, e->d_name);
        struct stat st;
        ck_assert_int_eq(stat(child, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            ck_assert_int_lt(depth, 2);
            tst_dir_remove_path(child, depth + 1);
        } else {
            ck_assert_int_eq(unlink(child), 0);
        }
        free(child);
    }
    closedir(d);
    ck_assert_int_eq(rmdir(path), 0);
}

static void tst_dir_remove(tst_dir *dir)
{
    tst_dir_remove_path(dir->path, 0);
}

/* Reads a whole file; returns owned text (free) and its length. */
static char *tst_read(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 4096, len = 0;
    char *data = malloc(cap);
    ck_assert_ptr_nonnull(data);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            data = realloc(data, cap);
            ck_assert_ptr_nonnull(data);
        }
        size_t got = fread(data + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    data[len] = '\0';
    if (len_out != NULL) *len_out = len;
    return data;
}

static bool tst_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static size_t tst_count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) n++;
    return n;
}

static bool tst_updating(void)
{
    const char *v = getenv("RPT_REPORT_UPDATE_GOLDEN");
    return v != NULL && strcmp(v, "1") == 0;
}

/* Compares the file at `got_path` with the golden file `golden` (relative
 * to TST_GOLDEN_DIR), or rewrites the golden file when updating. */
static void tst_golden(const char *got_path, const char *golden)
{
    char *want_path = tst_path(TST_GOLDEN_DIR, golden);
    size_t got_len = 0;
    char *got = tst_read(got_path, &got_len);
    if (tst_updating()) {
        FILE *f = fopen(want_path, "wb");
        ck_assert_msg(f != NULL, "cannot write %s (run from the source directory)", want_path);
        ck_assert_uint_eq(fwrite(got, 1, got_len, f), got_len);
        ck_assert_int_eq(fclose(f), 0);
        fprintf(stderr, "test_rpt_report: rewrote %s\n", want_path);
    } else {
        size_t want_len = 0;
        char *want = tst_read(want_path, &want_len);
        size_t at = 0;
        while (at < got_len && at < want_len && got[at] == want[at]) at++;
        ck_assert_msg(got_len == want_len && at == got_len,
                      "%s differs from the golden file %s at byte %zu (got %zu bytes, want %zu); if the change "
                      "is intended, regenerate with RPT_REPORT_UPDATE_GOLDEN=1 (see the top of this file)",
                      got_path, want_path, at, got_len, want_len);
        free(want);
    }
    free(got);
    free(want_path);
}

/* ========================================================================
 * The fixture database
 * ======================================================================== */

#define TST_SEED_BIG 18446744073709551615ull   /* UINT64_MAX: stored as text */

/* Scenario "alpha": three seeds.  Seed 1 converges 12.5 s after its last
 * fault, seed 2 after 3 s, seed 3 never (it fails). */
static void tst_write_alpha(rpt_db *db, uint64_t seed, bool pass)
{
    sim_error err;
    rpt_window windows[4] = {
        { "lost", 2, "DEFAULT_GROUP@@svc-1", 31 * SIM_S, 32 * SIM_S + 500 * SIM_MS },
        { "zombie", 0, "DEFAULT_GROUP@@svc-2", 40 * SIM_S, 40 * SIM_S + 5 * SIM_MS },
        { "divergent", -1, NULL, 30 * SIM_S, 45 * SIM_S },
        { "lost", 1, "DEFAULT_GROUP@@svc-3", 50 * SIM_S, pass ? 50 * SIM_S + 250 * SIM_US : SIM_TIME_NEVER },
    };
    rpt_convergence conv[1] = { { 0, 40 * SIM_S, pass ? 40 * SIM_S + (seed == 1 ? 12500 : 3000) * SIM_MS
                                                      : SIM_TIME_NEVER } };
    rpt_counter counters[2] = { { 0, "sync_batches_sent", 40 + seed }, { 1, "sync_batches_sent", 41 } };
    rpt_sample samples[12];
    for (uint32_t i = 0; i < 12; i++) {
        uint32_t at = i / 3, node = i % 3;
        bool down = node == 2 && at == 2;
        samples[i] = (rpt_sample){ .at_ns = (sim_time_ns)at * 20 * SIM_S, .node = (int32_t)node, .up = !down,
                                   .keys = down ? 0 : 10 + at, .instances = 20, .owned_keys = 3 + node,
                                   .healthy_view = down ? 0 : (at == 1 ? 2 : 3),
                                   .divergent_keys = at == 1 ? 4 : 0 };
    }
    rpt_msgstat msgstats[3] = {
        { 0, 1, "sync_datum", 10, 9, 0, 1000, 900, 0, 1, 0, 0, 0, 0 },
        { 1, 0, "sync_datum_resp", 9, 9, 0, 18, 18, 0, 0, 0, 0, 0, 0 },
        { 2, 0, "checksum", 5, 3, 1, 2500, 1500, 1, 0, 1, 0, 0, 0 },
    };
    rpt_fault faults[2] = {
        { 0, "partition", "fault 0: partition, {0,1} | {2}", 30 * SIM_S, 40 * SIM_S },
        { 1, "crash", "fault 1: crash node 2", 35 * SIM_S, 38 * SIM_S },
    };
    rpt_expect expects[2] = {
        { "converge_within", "30.000s", pass ? "12.500s" : NULL, pass },
        { "lost_max", "none", pass ? "1.500s" : "open", pass },
    };
    char repro[96];
    snprintf(repro, sizeof repro, "distrosim run scenarios/alpha.yaml --seed %" PRIu64, seed);
    rpt_run run = {
        .campaign = "check scenarios",
        .scenario_name = "alpha",
        .scenario_path = "scenarios/alpha.yaml",
        .scenario_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        .effective_yaml = "name: alpha\ncluster:\n  nodes: 3\n",
        .seed = seed,
        .build = "distrosim 0.1.0 test",
        .verdict = pass ? "pass" : "fail",
        .failure = pass ? NULL : "converge_within: observed never, bound 30.000s",
        .repro = repro,
        .end_ns = 60 * SIM_S,
        .events = 1000 + seed,
        .trace_hash = 0x0123456789abcdefull + seed,
        .converged_ns = conv[0].converged_ns,
        .last_fault_end_ns = 40 * SIM_S,
        .converge_anchor_ns = 40 * SIM_S,
        .convergence_ns = pass ? conv[0].converged_ns - 40 * SIM_S : SIM_TIME_NEVER,
        .convergence_never = pass ? NULL : "fault 1 (crash, node 2) never ends",
        .lag = { .count = pass ? 4 : 0, .p50_ns = 2 * SIM_MS * seed, .p90_ns = 9 * SIM_MS, .p99_ns = 11 * SIM_MS,
                 .max_ns = 12 * SIM_MS + seed },
        .windows = windows, .windows_count = 4,
        .convergences = conv, .convergences_count = 1,
        .counters = counters, .counters_count = 2,
        .samples = samples, .samples_count = 12,
        .msgstats = msgstats, .msgstats_count = 3,
        .faults = faults, .faults_count = 2,
        .expects = expects, .expects_count = 2,
    };
    TST_OK(rpt_db_write_run(db, &run, NULL, &err));
}

/* Scenario `beta "x", y|z`: a sweep over verify_interval = 1s, 500ms; the
 * name needs quoting in CSV, escaping in HTML and in markdown tables. */
static void tst_write_beta(rpt_db *db, uint64_t seed, const char *interval)
{
    sim_error err;
    rpt_param params[1] = { { "cluster.distro.verify_interval", interval } };
    rpt_window windows[1] = { { "lost", 0, "a,b \"c\"", 11 * SIM_S, 11 * SIM_S + 1500 * SIM_MS } };
    rpt_sample samples[2] = {
        { .at_ns = 0, .node = 0, .up = 1, .keys = 1, .instances = 1, .owned_keys = 1, .healthy_view = 1 },
        { .at_ns = 0, .node = 1, .up = 1, .keys = 1, .instances = 1, .owned_keys = 0, .healthy_view = 2 },
    };
    rpt_fault faults[1] = { { 0, "isolate", NULL, 10 * SIM_S, 12 * SIM_S } };
    rpt_expect expects[1] = { { "lost_max", "2s", "1.500s", true } };
    rpt_run run = {
        .campaign = "sweep beta",
        .scenario_name = "beta \"x\", y|z",
        .scenario_path = "scenarios/beta.yaml",
        .effective_yaml = "name: \"beta \\\"x\\\", y|z\"\n",
        .seed = seed,
        .build = "distrosim 0.1.0 test",
        .verdict = "pass",
        .repro = "distrosim run scenarios/beta.yaml --seed 7 --set cluster.distro.verify_interval=1s",
        .end_ns = 20 * SIM_S,
        .events = 77,
        .trace_hash = seed,
        .converged_ns = strcmp(interval, "1s") == 0 ? 14 * SIM_S : 13 * SIM_S,
        .last_fault_end_ns = 12 * SIM_S,
        .converge_anchor_ns = 12 * SIM_S,
        .convergence_ns = strcmp(interval, "1s") == 0 ? 2 * SIM_S : 1 * SIM_S,
        .params = params, .params_count = 1,
        .windows = windows, .windows_count = 1,
        .samples = samples, .samples_count = 2,
        .faults = faults, .faults_count = 1,
        .expects = expects, .expects_count = 1,
    };
    TST_OK(rpt_db_write_run(db, &run, NULL, &err));
}

/* Scenario "gamma": a harness error, no children, a multi-line failure. */
static void tst_write_gamma(rpt_db *db)
{
    sim_error err;
    rpt_run run = {
        .scenario_name = "gamma",
        .seed = TST_SEED_BIG,
        .verdict = "error",
        .failure = "expectation names an unknown counter\n\"bogus\", line 2",
        .repro = "distrosim run scenarios/gamma.yaml --seed 18446744073709551615",
        .end_ns = 0,
        .events = 0,
        .trace_hash = UINT64_MAX,
        .converged_ns = SIM_TIME_NEVER,
        .last_fault_end_ns = SIM_TIME_NEVER,
        .converge_anchor_ns = SIM_TIME_NEVER,
        .convergence_ns = SIM_TIME_NEVER,
        .convergence_never = "the run stopped early",
    };
    TST_OK(rpt_db_write_run(db, &run, NULL, &err));
}

/* Writes the fixture to DIR/fixture.db and returns its path (free). */
static char *tst_fixture(const tst_dir *dir)
{
    sim_error err;
    char *path = tst_path(dir->path, "fixture.db");
    rpt_db *db = NULL;
    TST_OK(rpt_db_open(path, &db, &err));
    tst_write_alpha(db, 1, true);
    tst_write_beta(db, 7, "1s");
    tst_write_alpha(db, 2, true);
    tst_write_gamma(db);
    tst_write_beta(db, 7, "500ms");
    tst_write_alpha(db, 3, false);
    rpt_db_close(db);
    return path;
}

/* Only failing runs. */
static char *tst_fixture_failing(const tst_dir *dir)
{
    sim_error err;
    char *path = tst_path(dir->path, "failing.db");
    rpt_db *db = NULL;
    TST_OK(rpt_db_open(path, &db, &err));
    tst_write_alpha(db, 3, false);
    tst_write_gamma(db);
    rpt_db_close(db);
    return path;
}

static char *tst_fixture_empty(const tst_dir *dir)
{
    sim_error err;
    char *path = tst_path(dir->path, "empty.db");
    rpt_db *db = NULL;
    TST_OK(rpt_db_open(path, &db, &err));
    rpt_db_close(db);
    return path;
}

static rpt_report_options tst_options(int reverse)
{
    rpt_report_options opt;
    memset(&opt, 0, sizeof opt);
    opt.reverse_unordered = reverse != 0;
    return opt;
}

/* Renders `db` as HTML into DIR/NAME and returns the text (free). */
static char *tst_html(const tst_dir *dir, const char *db, const rpt_report_options *opt, const char *name)
{
    sim_error err;
    char *out = tst_path(dir->path, name);
    TST_OK(rpt_report_write(db, RPT_FORMAT_HTML, opt, out, &err));
    char *text = tst_read(out, NULL);
    free(out);
    return text;
}

/* ========================================================================
 * Checks on HTML structure
 * ======================================================================== */

/* A data mark: a <path>, <rect> or <circle> whose first child is its
 * <title> tooltip.  Every mark the report draws for data has one; grid
 * lines, axes and legend swatches have none. */
static size_t tst_marks(const char *begin, const char *end)
{
    static const char *const tags[] = { "<path", "<rect", "<circle" };
    size_t n = 0;
    for (size_t t = 0; t < 3; t++) {
        for (const char *p = strstr(begin, tags[t]); p != NULL && p < end; p = strstr(p + 1, tags[t])) {
            const char *close = strchr(p, '>');
            if (close != NULL && close < end && close[-1] != '/' && strncmp(close + 1, "<title>", 7) == 0) n++;
        }
    }
    return n;
}

/* Every chart: at least one data mark, and at least one axis title (the
 * value axis) that names its unit in parentheses, as "time (s)"; category
 * axes ("node", "message type") need none.  Returns the chart count. */
static size_t tst_check_charts(const char *html)
{
    size_t charts = 0;
    for (const char *p = strstr(html, "<svg class=\"chart\""); p != NULL; p = strstr(p + 1, "<svg class=\"chart\"")) {
        const char *end = strstr(p, "</svg>");
        ck_assert_ptr_nonnull(end);
        const char *title = strstr(p, "<title>");
        char name[96] = "";
        if (title != NULL && title < end) snprintf(name, sizeof name, "%.80s", title + 7);
        ck_assert_msg(tst_marks(p, end) > 0, "chart %zu (%s) has no data mark", charts, name);
        size_t axes = 0, with_unit = 0;
        for (const char *a = strstr(p, "class=\"at\""); a != NULL && a < end; a = strstr(a + 1, "class=\"at\"")) {
            const char *text = strchr(a, '>');       /* the title text, after the attributes */
            const char *text_end = strstr(a, "</text>");
            ck_assert_ptr_nonnull(text);
            ck_assert_ptr_nonnull(text_end);
            const char *open = strchr(text, '(');
            const char *close = open != NULL ? strchr(open, ')') : NULL;
            if (open != NULL && close != NULL && close < text_end && close > open + 1) with_unit++;
            axes++;
        }
        ck_assert_msg(axes >= 2, "chart %zu (%s) has %zu axis titles", charts, name, axes);
        ck_assert_msg(with_unit >= 1, "chart %zu (%s): no axis title names a unit", charts, name);
        charts++;
    }
    ck_assert_uint_eq(charts, tst_count(html, "<svg"));
    return charts;
}

/* ========================================================================
 * Golden markdown and CSV
 * ======================================================================== */

START_TEST(test_markdown_golden)
{
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *db = tst_fixture(&dir);
    rpt_report_options opt = tst_options(_i);
    char *out = tst_path(dir.path, "fixture.md");
    TST_OK(rpt_report_write(db, RPT_FORMAT_MARKDOWN, &opt, out, &err));
    tst_golden(out, "fixture.md");
    /* --run narrows every table to one run. */
    opt.run_id = 6;
    TST_OK(rpt_report_write(db, RPT_FORMAT_MARKDOWN, &opt, out, &err));
    tst_golden(out, "fixture-run6.md");
    free(out);
    free(db);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_csv_golden)
{
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *db = tst_fixture(&dir);
    rpt_report_options opt = tst_options(_i);
    char *out = tst_path(dir.path, "csv");   /* created by the writer */
    TST_OK(rpt_report_write(db, RPT_FORMAT_CSV, &opt, out, &err));
    for (size_t t = 0; t < sizeof tst_tables / sizeof tst_tables[0]; t++) {
        char name[64], golden[80];
        snprintf(name, sizeof name, "%s.csv", tst_tables[t]);
        snprintf(golden, sizeof golden, "csv/%s", name);
        char *file = tst_path(out, name);
        tst_golden(file, golden);
        free(file);
    }
    /* Writing again over an existing directory works and gives the same. */
    TST_OK(rpt_report_write(db, RPT_FORMAT_CSV, &opt, out, &err));
    char *runs = tst_path(out, "runs.csv");
    tst_golden(runs, "csv/runs.csv");
    free(runs);
    free(out);
    free(db);
    tst_dir_remove(&dir);
}
END_TEST

/* ========================================================================
 * HTML
 * ======================================================================== */

START_TEST(test_html_sections_and_charts)
{
    tst_dir dir;
    tst_dir_make(&dir);
    char *db = tst_fixture(&dir);
    rpt_report_options opt = tst_options(_i);
    char *html = tst_html(&dir, db, &opt, "fixture.html");
    static const char *const must[] = {
        "<!DOCTYPE html>", "<section id=\"summary\">", "<section id=\"scenarios\">", "<section id=\"sweeps\">",
        "<section id=\"runs\">", "<section id=\"spacetime\">", "Campaign summary", "Failing runs",
        "Convergence</h4>", "Anomaly windows", "Replication lag", "Traffic",
        "Messages by type and fate", "Bytes sent by type", "Messages by node",
        "Divergent keys (cluster-wide), with faults shaded", "Membership view",
        "Time to converge (CDF over seeds)", "Lost and zombie windows by duration",
        "Convergence: p50 (solid), max (dashed)", "Longest lost window over the runs",
        "time since the run started (s)", "runs at or below (%)", "windows (count)",
        "cluster.distro.verify_interval (s)",
        /* repro commands of the failing runs, escaped */
        "distrosim run scenarios/alpha.yaml --seed 3", "distrosim run scenarios/gamma.yaml --seed 18446744073709551615",
        /* the quoted scenario name, escaped */
        "beta &quot;x&quot;, y|z",
        /* how to get a space-time diagram without --trace */
        "--perfetto trace.json",
    };
    for (size_t m = 0; m < sizeof must / sizeof must[0]; m++) {
        ck_assert_msg(strstr(html, must[m]) != NULL, "the HTML lacks \"%s\"", must[m]);
    }
    /* Self-contained: no script, no stylesheet or image from anywhere. */
    static const char *const never[] = { "<script", "<link", "src=", "@import", "url(http", "http://", "https://" };
    for (size_t m = 0; m < sizeof never / sizeof never[0]; m++) {
        ck_assert_msg(strstr(html, never[m]) == NULL, "the HTML contains \"%s\"", never[m]);
    }
    ck_assert_ptr_null(strstr(html, "beta \"x\""));   /* raw quotes would break attributes */
    /* The page opens with the overview: one row per scenario, those with a
     * failing or error run first (alpha, gamma, then beta), with the
     * convergence percentiles and the worst lost window; the failing
     * runs' timelines come before the passing ones. */
    const char *ov = strstr(html, "<table class=\"overview\">");
    ck_assert_ptr_nonnull(ov);
    ck_assert(ov < strstr(html, "<h3>Failing runs</h3>"));
    const char *alpha = strstr(ov, "<tr class=\"failing\"><td><a href=\"#scenario-0\">alpha</a></td>");
    const char *gamma = strstr(ov, "<tr class=\"failing\"><td><a href=\"#scenario-2\">gamma</a></td>");
    const char *beta = strstr(ov, "<tr><td><a href=\"#scenario-1\">beta");
    ck_assert(alpha != NULL && gamma != NULL && beta != NULL && alpha < gamma && gamma < beta);
    ck_assert_ptr_nonnull(strstr(alpha, "<td class=\"n\">12.500 s</td><td class=\"n\">never</td>"
                                        "<td class=\"n\">never</td><td class=\"n\">1</td>"
                                        "<td class=\"n\">10.000 s (3 runs)</td>"));
    const char *run6 = strstr(html, "<section class=\"run\" id=\"run-6\">");   /* alpha seed 3: failed */
    const char *run4 = strstr(html, "<section class=\"run\" id=\"run-4\">");   /* gamma: error */
    const char *run1 = strstr(html, "<section class=\"run\" id=\"run-1\">");   /* alpha seed 1: passed */
    ck_assert(run6 != NULL && run4 != NULL && run1 != NULL && run6 < run1 && run4 < run1);
    /* Each run says its convergence, or never and why. */
    ck_assert_ptr_nonnull(strstr(run6, "<th>convergence</th><td class=\"n\">never: fault 1 (crash, node 2) never ends"));
    ck_assert_ptr_nonnull(strstr(run1, "<th>convergence</th><td class=\"n\">12.500 s"));
    size_t charts = tst_check_charts(html);
    ck_assert_uint_ge(charts, 12);
    free(html);
    free(db);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_html_deterministic)
{
    tst_dir dir;
    tst_dir_make(&dir);
    char *db = tst_fixture(&dir);
    rpt_report_options plain = tst_options(0), reversed = tst_options(1);
    char *a = tst_html(&dir, db, &plain, "a.html");
    char *b = tst_html(&dir, db, &reversed, "b.html");
    ck_assert_str_eq(a, b);
    /* One run only, and a window: still every chart has marks. */
    rpt_report_options one = tst_options(_i);
    one.run_id = 1;
    one.window_from_ns = 25 * SIM_S;
    one.window_to_ns = 50 * SIM_S;
    char *c = tst_html(&dir, db, &one, "c.html");
    ck_assert_ptr_nonnull(strstr(c, "Run 1: alpha, seed 1"));
    ck_assert_ptr_null(strstr(c, "Run 3:"));
    /* A single-run report has no aggregate charts: no distributions over
     * seeds, no sweeps, no verdict chart; the overview and the run stay. */
    ck_assert_ptr_null(strstr(c, "<section id=\"scenarios\">"));
    ck_assert_ptr_null(strstr(c, "<section id=\"sweeps\">"));
    ck_assert_ptr_null(strstr(c, "CDF over seeds"));
    ck_assert_ptr_null(strstr(c, "Verdicts per scenario"));
    ck_assert_ptr_nonnull(strstr(c, "<table class=\"overview\">"));
    ck_assert_ptr_nonnull(strstr(c, "<section class=\"run\" id=\"run-1\">"));
    (void)tst_check_charts(c);
    free(a);
    free(b);
    free(c);
    free(db);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_html_empty_database)
{
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *db = tst_fixture_empty(&dir);
    rpt_report_options opt = tst_options(_i);
    char *html = tst_html(&dir, db, &opt, "empty.html");
    ck_assert_ptr_nonnull(strstr(html, "There are no runs in this database."));
    ck_assert_ptr_nonnull(strstr(html, "</html>"));
    ck_assert_ptr_null(strstr(html, "<svg"));
    char *md = tst_path(dir.path, "empty.md");
    TST_OK(rpt_report_write(db, RPT_FORMAT_MARKDOWN, &opt, md, &err));
    char *text = tst_read(md, NULL);
    ck_assert_ptr_nonnull(strstr(text, "There are no runs in this database."));
    char *csv = tst_path(dir.path, "csv");
    TST_OK(rpt_report_write(db, RPT_FORMAT_CSV, &opt, csv, &err));
    char *runs = tst_path(csv, "runs.csv");
    char *header = tst_read(runs, NULL);
    ck_assert_ptr_nonnull(strstr(header, "id,campaign,scenario_name,"));
    ck_assert_uint_eq(tst_count(header, "\r\n"), 1);   /* the header only */
    free(header);
    free(runs);
    free(csv);
    free(text);
    free(md);
    free(html);
    free(db);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_html_only_failed_runs)
{
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *db = tst_fixture_failing(&dir);
    rpt_report_options opt = tst_options(_i);
    char *html = tst_html(&dir, db, &opt, "failing.html");
    ck_assert_ptr_nonnull(strstr(html, "0 passed"));
    ck_assert_ptr_nonnull(strstr(html, "distrosim run scenarios/alpha.yaml --seed 3"));
    ck_assert_ptr_nonnull(strstr(html, "distrosim run scenarios/gamma.yaml --seed 18446744073709551615"));
    ck_assert_ptr_nonnull(strstr(html, "never converged"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"#run-1\">1</a>"));   /* the failing run links to its timeline */
    (void)tst_check_charts(html);
    char *md = tst_path(dir.path, "failing.md");
    TST_OK(rpt_report_write(db, RPT_FORMAT_MARKDOWN, &opt, md, &err));
    char *text = tst_read(md, NULL);
    ck_assert_ptr_nonnull(strstr(text, "`` distrosim run scenarios/alpha.yaml --seed 3 ``"));
    ck_assert_ptr_nonnull(strstr(text, "`` distrosim run scenarios/gamma.yaml --seed 18446744073709551615 ``"));
    free(text);
    free(md);
    free(html);
    free(db);
    tst_dir_remove(&dir);
}
END_TEST

/* ========================================================================
 * Errors and the command line
 * ======================================================================== */

START_TEST(test_errors)
{
    sim_error err;
    tst_dir dir;
    tst_dir_make(&dir);
    char *db = tst_fixture(&dir);
    char *missing = tst_path(dir.path, "missing.db");
    char *out = tst_path(dir.path, "out.html");
    rpt_report_options opt = tst_options(_i);
    TST_ERR(rpt_report_write(missing, RPT_FORMAT_HTML, &opt, out, &err), SIM_ERR_IO);
    ck_assert_msg(!tst_exists(missing), "a report must never create the database");
    ck_assert_msg(!tst_exists(out), "no output after an error");
    TST_ERR(rpt_report_write(dir.path, RPT_FORMAT_HTML, &opt, out, &err), SIM_ERR_IO);   /* a directory */
    opt.run_id = 99;
    TST_ERR(rpt_report_write(db, RPT_FORMAT_HTML, &opt, out, &err), SIM_ERR_INVALID);
    ck_assert_msg(!tst_exists(out), "no output after an error");
    opt = tst_options(_i);
    opt.window_from_ns = 5 * SIM_S;
    opt.window_to_ns = SIM_S;
    TST_ERR(rpt_report_write(db, RPT_FORMAT_HTML, &opt, out, &err), SIM_ERR_INVALID);
    opt = tst_options(_i);
    opt.trace_path = "x.json";
    TST_ERR(rpt_report_write(db, RPT_FORMAT_MARKDOWN, &opt, out, &err), SIM_ERR_INVALID);
    char *bad_trace = tst_path(dir.path, "bad.json");
    FILE *f = fopen(bad_trace, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"traceEvents\": [ {\"ph\": \"s\", ", f);
    fclose(f);
    opt.trace_path = bad_trace;
    TST_ERR(rpt_report_write(db, RPT_FORMAT_HTML, &opt, out, &err), SIM_ERR_INVALID);
    ck_assert_msg(!tst_exists(out), "no output after an error");
    opt.trace_path = missing;
    TST_ERR(rpt_report_write(db, RPT_FORMAT_HTML, &opt, out, &err), SIM_ERR_IO);
    opt = tst_options(_i);
    f = fopen(out, "w");
    ck_assert_ptr_nonnull(f);
    fputs("not a directory", f);
    fclose(f);
    TST_ERR(rpt_report_write(db, RPT_FORMAT_CSV, &opt, out, &err), SIM_ERR_IO);   /* csv needs a directory */
    TST_ERR(rpt_report_write(db, RPT_FORMAT_CSV, &opt, "-", &err), SIM_ERR_INVALID);
    free(bad_trace);
    free(out);
    free(missing);
    free(db);
    tst_dir_remove(&dir);
}
END_TEST

START_TEST(test_cli)
{
    tst_dir dir;
    tst_dir_make(&dir);
    char *db = tst_fixture(&dir);
    char *out = tst_path(dir.path, "cli.html");
    char *md = tst_path(dir.path, "cli.md");
    {
        char *argv[] = { db, "-o", out, "--worst", "2", "--title", "Nightly <run>", NULL };
        ck_assert_int_eq(rpt_report_main(7, argv), 0);
        char *html = tst_read(out, NULL);
        ck_assert_ptr_nonnull(strstr(html, "<title>Nightly &lt;run&gt;</title>"));
        free(html);
    }
    {
        char *argv[] = { db, "-o", md, NULL };   /* .md picks markdown */
        ck_assert_int_eq(rpt_report_main(3, argv), 0);
        tst_golden(md, "fixture.md");
    }
    {
        char *argv[] = { db, "-o", out, "--run", "1", "--window", "30s-45.5s", NULL };
        ck_assert_int_eq(rpt_report_main(7, argv), 0);
    }
    char *bad[][8] = {
        { "-o", out, NULL },                                   /* no database */
        { db, NULL },                                          /* no output */
        { db, "-o", out, "--format", "pdf", NULL },
        { db, "-o", out, "--run", "0", NULL },
        { db, "-o", out, "--run", "x1", NULL },
        { db, "-o", out, "--window", "5s-1s", NULL },
        { db, "-o", out, "--window", "1s", NULL },
        { db, "-o", out, "--worst", "0", NULL },
        { db, "-o", out, "--bogus", NULL },
        { db, "-o", NULL },
        { db, db, "-o", out, NULL },
        { db, "-o", out, "--format", "csv", "--window", "1s-2s", NULL },
    };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        int argc = 0;
        while (bad[b][argc] != NULL) argc++;
        ck_assert_msg(rpt_report_main(argc, bad[b]) == 2, "bad command line %zu was accepted", b);
    }
    free(md);
    free(out);
    free(db);
    tst_dir_remove(&dir);
}
END_TEST

/* The one percentile definition, nearest rank (rpt_report.h), pinned by
 * hand on small n.  The values are 10, 20, 30, ... so value = 10 * rank.
 * The old per-run formula, sorted[(n - 1) * p / 100], differs on most of
 * these: n = 2, p50 gave 10 (here 10 too, rank 1) but p90 gave 10 (here
 * 20); n = 10, p50 gave 50 (here 50), p90 gave 90 (here 90), p99 gave 90
 * (here 100); n = 100, p50 gave 500 (here 500), p99 gave 990 (here 990)
 * and n = 3, p50 gave 20 (here 20), p90 gave 20 (here 30). */
START_TEST(test_percentile_nearest_rank)
{
    uint64_t v[100];
    for (size_t i = 0; i < 100; i++) v[i] = 10u * (i + 1u);
    static const struct {
        size_t n;
        unsigned p;
        uint64_t want;
    } cases[] = {
        { 1, 0, 10 },   { 1, 50, 10 },  { 1, 90, 10 },   { 1, 99, 10 },   { 1, 100, 10 },
        { 2, 0, 10 },   { 2, 50, 10 },  { 2, 90, 20 },   { 2, 99, 20 },   { 2, 100, 20 },
        { 3, 0, 10 },   { 3, 50, 20 },  { 3, 90, 30 },   { 3, 99, 30 },   { 3, 100, 30 },
        { 10, 0, 10 },  { 10, 50, 50 }, { 10, 90, 90 },  { 10, 99, 100 }, { 10, 100, 100 },
        { 100, 0, 10 }, { 100, 1, 10 }, { 100, 50, 500 }, { 100, 90, 900 }, { 100, 99, 990 },
        { 100, 100, 1000 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint64_t got = rpt_percentile_nearest_rank(v, cases[c].n, cases[c].p);
        ck_assert_msg(got == cases[c].want, "n=%zu p%u: got %" PRIu64 ", want %" PRIu64, cases[c].n, cases[c].p,
                      got, cases[c].want);
        ck_assert_uint_eq(rpt_percentile_rank(cases[c].n, cases[c].p), cases[c].want / 10u);
    }
}
END_TEST

/* ========================================================================
 * Perfetto
 * ======================================================================== */

/* A strict RFC 8259 validator: returns NULL when `text` is one JSON value,
 * or where it went wrong.  Iterative, with an explicit stack of
 * TST_JSON_DEPTH_MAX containers. */
static const char *tst_json_string(const char *p)
{
    if (*p++ != '"') return NULL;
    while (*p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int k = 1; k <= 4; k++) {
                    if (strchr("0123456789abcdefABCDEF", p[k]) == NULL || p[k] == '\0') return NULL;
                }
                p += 5;
            } else if (*p != '\0' && strchr("\"\\/bfnrt", *p) != NULL) {
                p++;
            } else {
                return NULL;
            }
            continue;
        }
        size_t n = c < 0x80 ? 1 : c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
        if (n == 0) return NULL;
        for (size_t k = 1; k < n; k++) {
            if (((unsigned char)p[k] & 0xC0) != 0x80) return NULL;
        }
        p += n;
    }
    return p + 1;
}

static const char *tst_json_number(const char *p)
{
    if (*p == '-') p++;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9') p++;
    } else {
        return NULL;
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return NULL;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (*p < '0' || *p > '9') return NULL;
        while (*p >= '0' && *p <= '9') p++;
    }
    return p;
}

static const char *tst_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static bool tst_json_valid(const char *text, size_t *error_at)
{
    char stack[TST_JSON_DEPTH_MAX];   /* '{' or '[' */
    int depth = 0;
    const char *p = tst_ws(text);
    bool want_value = true;
    for (;;) {
        if (want_value) {
            if (*p == '{' || *p == '[') {
                if (depth == TST_JSON_DEPTH_MAX) break;
                stack[depth++] = *p;
                p = tst_ws(p + 1);
                if ((*p == '}' && stack[depth - 1] == '{') || (*p == ']' && stack[depth - 1] == '[')) {
                    depth--;
                    p++;
                    want_value = false;
                } else if (stack[depth - 1] == '{') {
                    const char *q = tst_json_string(p);
                    if (q == NULL) break;
                    p = tst_ws(q);
                    if (*p++ != ':') break;
                    p = tst_ws(p);
                }
                continue;
            }
            const char *q = NULL;
            if (*p == '"') q = tst_json_string(p);
            else if (*p == '-' || (*p >= '0' && *p <= '9')) q = tst_json_number(p);
            else if (strncmp(p, "true", 4) == 0) q = p + 4;
            else if (strncmp(p, "false", 5) == 0) q = p + 5;
            else if (strncmp(p, "null", 4) == 0) q = p + 4;
            if (q == NULL) break;
            p = q;
            want_value = false;
            continue;
        }
        p = tst_ws(p);
        if (depth == 0) {
            if (*p == '\0') return true;
            break;
        }
        if (*p == ',') {
            p = tst_ws(p + 1);
            if (stack[depth - 1] == '{') {
                const char *q = tst_json_string(p);
                if (q == NULL) break;
                p = tst_ws(q);
                if (*p++ != ':') break;
                p = tst_ws(p);
            }
            want_value = true;
        } else if ((*p == '}' && stack[depth - 1] == '{') || (*p == ']' && stack[depth - 1] == '[')) {
            depth--;
            p++;
        } else {
            break;
        }
    }
    *error_at = (size_t)(p - text);
    return false;
}

START_TEST(test_json_validator_itself)
{
    size_t at = 0;
    ck_assert(tst_json_valid("{\"a\":[1,2.5,-3e+2,true,false,null,\"\\u00e9\\n\"],\"b\":{}}", &at));
    ck_assert(tst_json_valid(" [ ] ", &at));
    static const char *const bad[] = { "{\"a\":1,}", "[1 2]", "{a:1}", "[\"\x01\"]", "[01]", "[1.]", "[\"\xff\"]",
                                       "{\"a\":1", "[]]", "" };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        ck_assert_msg(!tst_json_valid(bad[b], &at), "accepted invalid JSON %zu", b);
    }
}
END_TEST

/* Feeds a fixed sequence of events: node events, a harness event, a fault,
 * and deliveries, two of them in the window 70.0 s .. 70.1 s. */
static void tst_perfetto_events(cli_perfetto *p)
{
    sim_trace_record rec = { .at_ns = 0, .seq = 1, .node = 0, .incarnation = 1, .kind = SIM_KIND_NODE_START };
    cli_perfetto_event(p, &rec, NULL);
    rec = (sim_trace_record){ .at_ns = 1500, .seq = 2, .node = SIM_NODE_NONE, .kind = SIM_KIND_USER };
    cli_perfetto_event(p, &rec, NULL);
    rec = (sim_trace_record){ .at_ns = 70 * SIM_S, .seq = 3, .node = SIM_NODE_NONE, .kind = SIM_KIND_FAULT };
    cli_perfetto_event(p, &rec, NULL);
    rec = (sim_trace_record){ .at_ns = 70 * SIM_S + 1, .seq = 4, .node = 2, .incarnation = 1, .kind = 999 };
    cli_perfetto_event(p, &rec, NULL);
    static const struct {
        uint32_t src, dst;
        uint16_t type;
        sim_time_ns sent_ns, at_ns;
    } msgs[] = {
        { 0, 1, 1, 69 * SIM_S, 69 * SIM_S + 2 * SIM_MS },                        /* before the window */
        { 0, 2, 3, 70 * SIM_S + 10 * SIM_MS, 70 * SIM_S + 12 * SIM_MS + 345 },   /* in it */
        { 2, 0, 4, 70 * SIM_S + 13 * SIM_MS, 70 * SIM_S + 15 * SIM_MS },         /* in it */
        { 1, 1, 1, 80 * SIM_S, 80 * SIM_S },                                     /* after; to itself */
    };
    for (size_t m = 0; m < sizeof msgs / sizeof msgs[0]; m++) {
        sim_message msg = { .dropped = -1, .src = msgs[m].src, .dst = msgs[m].dst, .type = msgs[m].type, .bytes = 100,
                            .sent_at_ns = msgs[m].sent_ns };
        rec = (sim_trace_record){ .at_ns = msgs[m].at_ns, .seq = 10 + m, .node = msgs[m].dst, .incarnation = 1,
                                  .kind = SIM_KIND_DELIVER };
        cli_perfetto_event(p, &rec, &msg);
    }
}

/* More of a run, for the space-time diagram: a message lost to a
 * partition, one stalled for 1.5 s, and a crash of node 2 from 70.05 s to
 * 70.08 s (a fault slice on node 2's track only). */
static void tst_perfetto_more(cli_perfetto *p)
{
    sim_message lost = { .dropped = SIM_DROP_PARTITION, .src = 1, .dst = 2, .type = 3, .bytes = 100,
                         .sent_at_ns = 70 * SIM_S + 20 * SIM_MS };
    sim_trace_record rec = { .at_ns = 70 * SIM_S + 30 * SIM_MS, .seq = 20, .node = 2, .incarnation = 1,
                             .kind = SIM_KIND_DELIVER };
    cli_perfetto_event(p, &rec, &lost);
    sim_message slow = { .dropped = -1, .src = 2, .dst = 1, .type = 4, .bytes = 100,
                         .sent_at_ns = 68 * SIM_S + 560 * SIM_MS };
    rec = (sim_trace_record){ .at_ns = 70 * SIM_S + 60 * SIM_MS, .seq = 21, .node = 1, .incarnation = 1,
                              .kind = SIM_KIND_DELIVER };
    cli_perfetto_event(p, &rec, &slow);
    run_note crash = { .kind = RUN_NOTE_FAULT, .at_ns = 70 * SIM_S + 50 * SIM_MS, .end_ns = 70 * SIM_S + 80 * SIM_MS,
                       .nodes = 1u << 2, .node = -1, .text = "fault 9: crash node 2" };
    cli_perfetto_note(p, &crash);
}

static char *tst_write_perfetto(const tst_dir *dir, const char *name)
{
    char *path = tst_path(dir->path, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    /* Names that need escaping: a quote, a backslash, a control byte and a
     * byte that is not UTF-8. */
    static const char *const names[] = { "10.0.0.1:8848", "host \"b\"\\\x01", "\xff\xfe:1" };
    cli_perfetto *p = cli_perfetto_open(f, 3, names);
    ck_assert_ptr_nonnull(p);
    tst_perfetto_events(p);
    if (strstr(name, "more") != NULL) tst_perfetto_more(p);
    ck_assert_int_eq(cli_perfetto_close(p), 0);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

START_TEST(test_perfetto_json)
{
    tst_dir dir;
    tst_dir_make(&dir);
    char *path = tst_write_perfetto(&dir, "trace.json");
    char *text = tst_read(path, NULL);
    size_t at = 0;
    ck_assert_msg(tst_json_valid(text, &at), "invalid JSON at byte %zu: %.40s", at, text + at);
    ck_assert_uint_eq(tst_count(text, "\"name\":\"thread_name\""), 3);
    ck_assert_uint_eq(tst_count(text, "\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,"), 1);
    ck_assert_uint_eq(tst_count(text, "\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":2,"), 1);
    ck_assert_uint_eq(tst_count(text, "\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":3,"), 1);
    ck_assert_ptr_nonnull(strstr(text, "\"args\":{\"name\":\"node 0 (10.0.0.1:8848)\"}"));
    ck_assert_ptr_nonnull(strstr(text, "node 1 (host \\\"b\\\"\\\\\\u0001)"));
    ck_assert_ptr_nonnull(strstr(text, "node 2 (\\ufffd\\ufffd:1)"));
    /* Four deliveries: four flows, each a start and an end with the same id. */
    ck_assert_uint_eq(tst_count(text, "\"ph\":\"s\""), 4);
    ck_assert_uint_eq(tst_count(text, "\"ph\":\"f\",\"cat\":\"msg\",\"bp\":\"e\""), 4);
    ck_assert_uint_eq(tst_count(text, "\"id\":4}"), 2);
    ck_assert_ptr_nonnull(strstr(text, "\"ts\":70012000.345"));   /* microseconds, ns exact */
    ck_assert_ptr_nonnull(strstr(text, "\"name\":\"fault\",\"ph\":\"i\",\"cat\":\"harness\",\"s\":\"g\""));
    ck_assert_ptr_nonnull(strstr(text, "\"name\":\"kind 999\""));
    ck_assert_ptr_nonnull(strstr(text, "\"name\":\"checksum\""));
    /* The same events give the same bytes. */
    char *again_path = tst_write_perfetto(&dir, "again.json");
    char *again = tst_read(again_path, NULL);
    ck_assert_str_eq(text, again);
    /* No events at all is still a document. */
    char *empty_path = tst_path(dir.path, "empty.json");
    FILE *f = fopen(empty_path, "wb");
    ck_assert_ptr_nonnull(f);
    cli_perfetto *p = cli_perfetto_open(f, 0, NULL);
    ck_assert_int_eq(cli_perfetto_close(p), 0);
    fclose(f);
    char *empty = tst_read(empty_path, NULL);
    ck_assert_msg(tst_json_valid(empty, &at), "invalid empty trace at %zu", at);
    ck_assert_int_eq(cli_perfetto_close(NULL), 0);
    ck_assert_ptr_null(cli_perfetto_open(NULL, 1, NULL));
    free(empty);
    free(empty_path);
    free(again);
    free(again_path);
    free(text);
    free(path);
    tst_dir_remove(&dir);
}
END_TEST

/* The report reads the Perfetto file back: a space-time diagram with one
 * arrow per delivery in the window and the fault mark. */
START_TEST(test_spacetime_from_perfetto)
{
    tst_dir dir;
    tst_dir_make(&dir);
    char *db = tst_fixture(&dir);
    char *trace = tst_write_perfetto(&dir, "trace.json");
    rpt_report_options opt = tst_options(_i);
    opt.run_id = 1;
    opt.trace_path = trace;
    opt.window_from_ns = 69900 * SIM_MS;
    opt.window_to_ns = 70100 * SIM_MS;
    char *html = tst_html(&dir, db, &opt, "st.html");
    const char *st = strstr(html, "<section id=\"spacetime\">");
    ck_assert_ptr_nonnull(st);
    ck_assert_ptr_nonnull(strstr(st, "4 messages delivered, 0 dropped, 3 lanes"));
    ck_assert_uint_eq(tst_count(st, "marker-end=\"url(#ah"), 2);
    ck_assert_ptr_nonnull(strstr(st, "node 0 (10.0.0.1:8848)"));
    ck_assert_ptr_nonnull(strstr(st, "checksum: node 0 (10.0.0.1:8848)"));
    ck_assert_ptr_nonnull(strstr(st, "in flight 2.000 ms"));
    ck_assert_ptr_nonnull(strstr(st, "<title>fault</title>"));
    (void)tst_check_charts(html);
    /* The default window (no --window), for a trace without fault slices:
     * around the run's first fault in the database (30 s), 40 median
     * flights (2 ms) long from a quarter of it before. */
    opt.window_from_ns = opt.window_to_ns = 0;
    char *dflt = tst_html(&dir, db, &opt, "st2.html");
    ck_assert_ptr_nonnull(strstr(dflt, "Messages between nodes from 29.980 s to 30.060 s"));
    free(dflt);
    /* A dropped message is drawn dotted to where it was lost, a stalled one
     * thick, the crash only on node 2's lane, each message type in a colour
     * of its own; the default window is around the first fault (70.05 s):
     * 40 median flights (2 ms) = 80 ms, from a quarter of it before. */
    char *more = tst_write_perfetto(&dir, "more.json");
    opt.trace_path = more;
    char *m = tst_html(&dir, db, &opt, "st3.html");
    const char *ms = strstr(m, "<section id=\"spacetime\">");
    ck_assert_ptr_nonnull(ms);
    ck_assert_ptr_nonnull(strstr(ms, "5 messages delivered, 1 dropped, 3 lanes"));
    ck_assert_ptr_nonnull(strstr(ms, "Messages between nodes from 70.030 s to 70.110 s"));
    ck_assert_uint_eq(tst_count(ms, "marker-end=\"url(#stx)\""), 1);
    ck_assert_ptr_nonnull(strstr(ms, "<title>checksum dropped (partition): node 1"));
    ck_assert_uint_eq(tst_count(ms, "<title>stalled: "), 1);
    ck_assert_ptr_nonnull(strstr(ms, "stroke-width=\"2.4\""));
    ck_assert_ptr_nonnull(strstr(ms, "1 dropped message drawn dotted to where it was lost; 1 stalled message"));
    const char *crash = strstr(ms, "fault 9: crash node 2</title>");
    ck_assert_ptr_nonnull(crash);
    ck_assert_uint_eq(tst_count(ms, "fault 9: crash node 2</title>"), 1);   /* one lane, not every lane */
    ck_assert_ptr_nonnull(strstr(ms, "dropped (dotted, "));
    ck_assert_ptr_nonnull(strstr(ms, "stalled (thick)"));
    /* Distinct colours: the two types drawn take the palette's first two. */
    ck_assert_ptr_nonnull(strstr(ms, "<marker id=\"ah0\""));
    ck_assert_ptr_nonnull(strstr(ms, "<marker id=\"ah1\""));
    ck_assert_ptr_null(strstr(ms, "<marker id=\"ah2\""));
    (void)tst_check_charts(m);
    free(m);
    free(more);
    free(html);
    free(trace);
    free(db);
    tst_dir_remove(&dir);
}
END_TEST

/* ========================================================================
 * Escaping by format (rpt_escape.h)
 * ======================================================================== */

typedef void tst_esc_fn(const char *s, rpt_esc_put_fn *put, void *sink);

/* `fn` applied to `in`, in a static buffer. */
static const char *tst_esc(tst_esc_fn *fn, const char *in)
{
    static char out[512];
    rpt_esc_mem m = { .buf = out, .size = sizeof out, .len = 0 };
    out[0] = '\0';
    fn(in, rpt_esc_to_mem, &m);
    ck_assert_uint_lt(m.len, sizeof out);
    return out;
}

static void tst_md_plain(const char *s, rpt_esc_put_fn *put, void *sink) { rpt_esc_md_cell(s, false, put, sink); }
static void tst_md_code(const char *s, rpt_esc_put_fn *put, void *sink) { rpt_esc_md_cell(s, true, put, sink); }

START_TEST(test_escape_csv)
{
    /* RFC 4180 quoting. */
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "plain"), "plain");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, ""), "\"\"");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "a,b"), "\"a,b\"");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "say \"hi\""), "\"say \"\"hi\"\"\"");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "two\nlines"), "\"two\nlines\"");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, NULL), "");
    /* Formulas get an apostrophe, before the quoting. */
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "=1+2"), "'=1+2");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "+A1"), "'+A1");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "-2+3"), "'-2+3");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "-"), "'-");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "@SUM(A1)"), "'@SUM(A1)");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "\tx"), "'\tx");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "\rx"), "\"'\rx\"");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "=HYPERLINK(\"u\",\"t\")"), "\"'=HYPERLINK(\"\"u\"\",\"\"t\"\")\"");
    /* Numbers stay numbers; a formula character later in the cell is text. */
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "-3"), "-3");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "-0.5"), "-0.5");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "+1e-9"), "+1e-9");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "-.5"), "-.5");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "-9223372036854775808"), "-9223372036854775808");
    ck_assert_str_eq(tst_esc(rpt_esc_csv, "a=b"), "a=b");
    ck_assert(!rpt_esc_csv_is_number("-1e"));
    ck_assert(!rpt_esc_csv_is_number("-."));
    ck_assert(!rpt_esc_csv_is_number("-1 "));
    ck_assert(!rpt_esc_csv_is_number("-0x1"));
}
END_TEST

START_TEST(test_escape_xml)
{
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "bel\x07 esc\x1b vt\x0b ff\x0c"), "bel\\x07 esc\\x1B vt\\x0B ff\\x0C");
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "t\tn\nr\r"), "t&#9;n&#10;r&#13;");
    /* Valid UTF-8 passes: e-acute, the euro sign, an emoji. */
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    /* Invalid: a stray continuation byte, 0xFF, an overlong '/', a cut
     * sequence, a surrogate, U+FFFE, above U+10FFFF. */
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "\x80"), "\\x80");
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "a\xFF" "b"), "a\\xFFb");
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "\xC0\xAF"), "\\xC0\\xAF");
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "\xE2\x82"), "\\xE2\\x82");
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "\xED\xA0\x80"), "\\xED\\xA0\\x80");
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "\xEF\xBF\xBE"), "\\xEF\\xBF\\xBE");
    ck_assert_str_eq(tst_esc(rpt_esc_xml, "\xF4\x90\x80\x80"), "\\xF4\\x90\\x80\\x80");
}
END_TEST

START_TEST(test_escape_html_md_shell)
{
    ck_assert_str_eq(tst_esc(rpt_esc_html, "<a href=\"x\">'&'</a>"),
                     "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    /* Markdown cells: a pipe, HTML, a backslash, a backtick, a newline. */
    ck_assert_str_eq(tst_esc(tst_md_plain, "a|<b>\\c`d&e\nf"), "a\\|&lt;b&gt;\\\\c\\`d&amp;e f");
    /* Code spans show text as written; the fence outgrows inner backticks. */
    ck_assert_str_eq(tst_esc(tst_md_code, "x <b> y|z"), "`` x <b> y\\|z ``");
    ck_assert_str_eq(tst_esc(tst_md_code, "a``b"), "``` a``b ```");
    ck_assert_str_eq(tst_esc(tst_md_code, "a\\|b"), "a\\\\\\|b");   /* cannot be a code span */
    /* Shell words. */
    ck_assert_str_eq(tst_esc(rpt_esc_shell, "build/distrosim"), "build/distrosim");
    ck_assert_str_eq(tst_esc(rpt_esc_shell, "key=a,b:c@d%e+f-g_h"), "key=a,b:c@d%e+f-g_h");
    ck_assert_str_eq(tst_esc(rpt_esc_shell, ""), "''");
    ck_assert_str_eq(tst_esc(rpt_esc_shell, "a b"), "'a b'");
    ck_assert_str_eq(tst_esc(rpt_esc_shell, "it's"), "'it'\\''s'");
    ck_assert_str_eq(tst_esc(rpt_esc_shell, "$(x);`y`"), "'$(x);`y`'");
    ck_assert_str_eq(tst_esc(rpt_esc_shell, "~"), "'~'");
    /* The buffer sink counts what it cut, as snprintf does. */
    char small[4];
    rpt_esc_mem m = { .buf = small, .size = sizeof small, .len = 0 };
    rpt_esc_shell("a b", rpt_esc_to_mem, &m);
    ck_assert_uint_eq(m.len, 5);
    ck_assert_str_eq(small, "'a ");
}
END_TEST

/* ======================================================================== */

static Suite *rpt_report_suite(void)
{
    Suite *s = suite_create("rpt_report");
    /* _i = 0: plain; _i = 1: reverse_unordered_selects (H18). */
    TCase *golden = tcase_create("golden");
    tcase_set_timeout(golden, 60);
    tcase_add_loop_test(golden, test_markdown_golden, 0, 2);
    tcase_add_loop_test(golden, test_csv_golden, 0, 2);
    suite_add_tcase(s, golden);

    TCase *html = tcase_create("html");
    tcase_set_timeout(html, 60);
    tcase_add_loop_test(html, test_html_sections_and_charts, 0, 2);
    tcase_add_loop_test(html, test_html_deterministic, 0, 2);
    tcase_add_loop_test(html, test_html_empty_database, 0, 2);
    tcase_add_loop_test(html, test_html_only_failed_runs, 0, 2);
    suite_add_tcase(s, html);

    TCase *cli = tcase_create("cli");
    tcase_set_timeout(cli, 60);
    tcase_add_loop_test(cli, test_errors, 0, 2);
    tcase_add_test(cli, test_cli);
    tcase_add_test(cli, test_percentile_nearest_rank);
    suite_add_tcase(s, cli);

    TCase *escape = tcase_create("escape");
    tcase_add_test(escape, test_escape_csv);
    tcase_add_test(escape, test_escape_xml);
    tcase_add_test(escape, test_escape_html_md_shell);
    suite_add_tcase(s, escape);

    TCase *perfetto = tcase_create("perfetto");
    tcase_set_timeout(perfetto, 60);
    tcase_add_test(perfetto, test_json_validator_itself);
    tcase_add_test(perfetto, test_perfetto_json);
    tcase_add_loop_test(perfetto, test_spacetime_from_perfetto, 0, 2);
    suite_add_tcase(s, perfetto);
    return s;
}

int main(void)
{
    return tst_run_suite(rpt_report_suite());
}
