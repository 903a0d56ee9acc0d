/* rpt_fold.c: per-scenario totals of the two big child tables, windows and
 * msgstats, in one ordered scan each.
 *
 * Why not GROUP BY.  SQLite has no hash aggregation: a GROUP BY that no
 * index orders is a sort of every input row.  On a database of 10,000 runs
 * of tests/scenarios-good/partition-heal.yaml (2.15 million windows rows,
 * 0.9 million msgstats rows) the GROUP BY scenario, kind query took 1.3 to
 * 2.1 s, the one for the histogram as long again, and the msgstats ones
 * 0.9 to 1.3 s each: over the 5 s budget together.  One scan in rowid order
 * (`ORDER BY id`, which costs no sort) folded here takes 0.7 s for windows
 * and 0.3 s for msgstats, and gives every figure at once.  Memory is
 * O(runs + scenarios x kinds), never O(rows): rows are streamed through
 * rpt_db_exec_rows and dropped.  The runs-level statistics (percentiles,
 * CDFs, sweeps) stay in SQL window functions, where they are cheap.
 *
 * Invariants:
 *   (1) Every figure a scan folds is a sum, count, max or min, so the result
 *       does not depend on row order; the scans still name their order.
 *   (2) A row whose run is not in the run map (a run filtered out by --run)
 *       is skipped, never guessed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt_report_int.h"
#include "sim_alloc.h"
#include "sim_assert.h"
#include "sim_limits.h"
#include "sim_vec.h"

/* In the order the report lists them (alphabetical, as SQL would sort). */
static const char *const window_kinds[RPT_WINDOW_KINDS] = {
    "divergent", "lost", "ownership_multi", "ownership_none", "unconverged", "zombie",
};

const char *rpt_window_kind_name(size_t k)
{
    SIM_ASSERT(k < RPT_WINDOW_KINDS);
    return window_kinds[k];
}

const char *rpt_window_bucket_name(size_t b)
{
    static const char *const names[RPT_WINDOW_BUCKETS] = {
        "<1 ms", "1-10 ms", "10-100 ms", "0.1-1 s", "1-10 s", "10-100 s", ">=100 s", "open at end",
    };
    SIM_ASSERT(b < RPT_WINDOW_BUCKETS);
    return names[b];
}

/* --- Run map ----------------------------------------------------------------- */

static size_t scenario_index(const rpt_rows *scen, const char *name)
{
    size_t lo = 0, hi = scen->count;                 /* rows are sorted by name (BINARY = strcmp) */
    while (lo < hi) {                                /* bound: log2(scenarios) steps */
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rpt_cell_s(scen, mid, 0), name);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return SIZE_MAX;
}

typedef struct map_sink {
    rpt_runmap *map;
    const rpt_rows *scen;
    bool failed;
} map_sink;

static void map_row(void *user, int ncols, const char *const *v)
{
    map_sink *s = user;
    rpt_runmap *m = s->map;
    SIM_ASSERT(ncols == 3);
    if (s->failed) return;
    if (!SIM_VEC_RESERVE(m->runs, m->count, m->cap, 1)) {
        s->failed = true;
        return;
    }
    rpt_run_entry *e = &m->runs[m->count++];
    e->id = strtoll(v[0], NULL, 10);
    e->scenario = scenario_index(s->scen, v[1] != NULL ? v[1] : "");
    e->end_ns = v[2] != NULL ? strtoll(v[2], NULL, 10) : 0;
    e->seen = 0;
    SIM_ASSERT(e->scenario != SIZE_MAX);             /* the verdict rows came from the same runs */
    SIM_ASSERT(m->count == 1 || m->runs[m->count - 2].id < e->id);   /* ORDER BY id */
}

void rpt_runmap_load(rpt_ctx *ctx, const rpt_rows *scen, rpt_runmap *map)
{
    memset(map, 0, sizeof *map);
    char sql[160 + RPT_RUN_FILTER_MAX], f[RPT_RUN_FILTER_MAX];
    snprintf(sql, sizeof sql, "SELECT id, scenario_name, end_ns FROM runs WHERE 1 = 1%s ORDER BY id",
             rpt_run_filter(ctx, "id", f, sizeof f));
    map_sink sink = { .map = map, .scen = scen, .failed = false };
    rpt_query_each(ctx, sql, map_row, &sink);
    if (sink.failed) (void)rpt_fail(ctx, SIM_ERR_NOMEM, "rpt_runmap_load", "out of memory mapping runs");
}

void rpt_runmap_deinit(rpt_runmap *map)
{
    if (map == NULL) return;
    free(map->runs);
    memset(map, 0, sizeof *map);
}

/* The entry of run `id`, or NULL.  Rows arrive in run order, so the last
 * hit is tried first; else a binary search.  O(log runs). */
static rpt_run_entry *runmap_find(rpt_runmap *map, int64_t id)
{
    if (map->last < map->count && map->runs[map->last].id == id) return &map->runs[map->last];
    size_t lo = 0, hi = map->count;
    while (lo < hi) {                                /* bound: log2(runs) steps */
        size_t mid = lo + (hi - lo) / 2;
        if (map->runs[mid].id == id) {
            map->last = mid;
            return &map->runs[mid];
        }
        if (map->runs[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* --- Windows ------------------------------------------------------------------ */

typedef struct win_sink {
    rpt_runmap *map;
    rpt_window_stats *stats;     /* scenarios * RPT_WINDOW_KINDS */
    int64_t unknown;             /* rows of a kind this build does not know */
} win_sink;

static size_t kind_index(const char *kind)
{
    for (size_t k = 0; k < RPT_WINDOW_KINDS; k++) {  /* bound: 6 kinds */
        if (strcmp(kind, window_kinds[k]) == 0) return k;
    }
    return SIZE_MAX;
}

static size_t bucket_of(int64_t d)
{
    size_t b = 0;
    for (int64_t limit = 1000000; b < 6 && d >= limit; limit *= 10) b++;   /* bound: 6 decades */
    return b;
}

static void win_row(void *user, int ncols, const char *const *v)
{
    win_sink *s = user;
    SIM_ASSERT(ncols == 4);
    rpt_run_entry *run = runmap_find(s->map, strtoll(v[0], NULL, 10));
    if (run == NULL) return;                         /* (2) */
    size_t k = kind_index(v[1] != NULL ? v[1] : "");
    if (k == SIZE_MAX) {
        s->unknown++;
        return;
    }
    rpt_window_stats *st = &s->stats[run->scenario * RPT_WINDOW_KINDS + k];
    int64_t start = strtoll(v[2], NULL, 10);
    bool open = v[3] == NULL;
    int64_t d = (open ? run->end_ns : strtoll(v[3], NULL, 10)) - start;
    st->count++;
    if (d > st->longest_ns) st->longest_ns = d;
    if (open) st->open++;
    st->buckets[open ? RPT_WINDOW_BUCKETS - 1 : bucket_of(d)]++;
    if ((run->seen & (1u << k)) == 0) {
        run->seen |= (uint8_t)(1u << k);
        st->runs++;
    }
}

void rpt_fold_windows(rpt_ctx *ctx, rpt_runmap *map, size_t scenarios, rpt_window_stats **out)
{
    _Static_assert(RPT_WINDOW_KINDS <= 8, "rpt_run_entry.seen is a byte of kind bits");
    *out = NULL;
    if (ctx->status != SIM_OK) return;
    rpt_window_stats *stats = sim_calloc(scenarios * RPT_WINDOW_KINDS + 1, sizeof *stats);
    if (stats == NULL) {
        (void)rpt_fail(ctx, SIM_ERR_NOMEM, "rpt_fold_windows", "out of memory");
        return;
    }
    for (size_t i = 0; i < scenarios * RPT_WINDOW_KINDS; i++) stats[i].longest_ns = -1;
    for (size_t r = 0; r < map->count; r++) map->runs[r].seen = 0;
    char sql[160 + RPT_RUN_FILTER_MAX], f[RPT_RUN_FILTER_MAX];
    snprintf(sql, sizeof sql, "SELECT run_id, kind, start_ns, end_ns FROM windows WHERE 1 = 1%s ORDER BY id",
             rpt_run_filter(ctx, "run_id", f, sizeof f));
    win_sink sink = { .map = map, .stats = stats, .unknown = 0 };
    rpt_query_each(ctx, sql, win_row, &sink);
    *out = stats;
}

/* --- Traffic ------------------------------------------------------------------ */

typedef struct msg_sink {
    rpt_runmap *map;
    rpt_traffic *t;              /* one per scenario */
    bool failed;
} msg_sink;

static rpt_type_traffic *type_slot(rpt_traffic *t, const char *type, bool *failed)
{
    for (size_t i = 0; i < t->types_count; i++) {   /* bound: RPT_TRAFFIC_TYPES_MAX */
        if (strcmp(t->types[i].type, type) == 0) return &t->types[i];
    }
    if (t->types_count == RPT_TRAFFIC_TYPES_MAX) return NULL;
    if (!SIM_VEC_RESERVE(t->types, t->types_count, t->types_cap, 1)) {
        *failed = true;
        return NULL;
    }
    rpt_type_traffic *slot = &t->types[t->types_count];
    memset(slot, 0, sizeof *slot);
    slot->type = sim_strdup(type);
    if (slot->type == NULL) {
        *failed = true;
        return NULL;
    }
    t->types_count++;
    return slot;
}

static rpt_node_traffic *node_slot(rpt_traffic *t, int64_t node, bool *failed)
{
    if (node < 0 || node >= (int64_t)SIM_NODES_MAX) return NULL;
    if ((size_t)node >= t->nodes_count) {
        size_t count = (size_t)node + 1;
        rpt_node_traffic *nodes = sim_realloc(t->nodes, count * sizeof *nodes);
        if (nodes == NULL) {
            *failed = true;
            return NULL;
        }
        memset(nodes + t->nodes_count, 0, (count - t->nodes_count) * sizeof *nodes);
        t->nodes = nodes;
        t->nodes_count = count;
    }
    return &t->nodes[node];
}

/* Columns: run_id, src, dst, type, sent, delivered, bytes_sent, then the six
 * dropped_* counts in schema order. */
static void msg_row(void *user, int ncols, const char *const *v)
{
    msg_sink *s = user;
    SIM_ASSERT(ncols == 13);
    if (s->failed) return;
    rpt_run_entry *run = runmap_find(s->map, strtoll(v[0], NULL, 10));
    if (run == NULL) return;                         /* (2) */
    rpt_traffic *t = &s->t[run->scenario];
    int64_t sent = strtoll(v[4], NULL, 10), delivered = strtoll(v[5], NULL, 10);
    rpt_type_traffic *ty = type_slot(t, v[3] != NULL ? v[3] : "", &s->failed);
    if (ty != NULL) {
        ty->sent += sent;
        ty->fate[0] += delivered;
        ty->bytes_sent += strtoll(v[6], NULL, 10);
        for (int f = 1; f < RPT_MSG_FATES; f++) ty->fate[f] += strtoll(v[6 + f], NULL, 10);
    }
    rpt_node_traffic *src = node_slot(t, strtoll(v[1], NULL, 10), &s->failed);
    if (src != NULL) src->sent += sent;
    rpt_node_traffic *dst = node_slot(t, strtoll(v[2], NULL, 10), &s->failed);
    if (dst != NULL) dst->received += delivered;
}

static int type_cmp(const void *a, const void *b)
{
    const rpt_type_traffic *x = a, *y = b;
    return strcmp(x->type, y->type);                 /* types are distinct: total */
}

void rpt_fold_traffic(rpt_ctx *ctx, rpt_runmap *map, size_t scenarios, rpt_traffic **out)
{
    *out = NULL;
    if (ctx->status != SIM_OK) return;
    rpt_traffic *t = sim_calloc(scenarios + 1, sizeof *t);
    if (t == NULL) {
        (void)rpt_fail(ctx, SIM_ERR_NOMEM, "rpt_fold_traffic", "out of memory");
        return;
    }
    char sql[320 + RPT_RUN_FILTER_MAX], f[RPT_RUN_FILTER_MAX];
    snprintf(sql, sizeof sql,
             "SELECT run_id, src, dst, type, sent, delivered, bytes_sent, dropped_loss, dropped_partition, "
             "dropped_receiver_down, dropped_receiver_restarted, dropped_late_response, dropped_caller_restarted "
             "FROM msgstats WHERE 1 = 1%s ORDER BY id",
             rpt_run_filter(ctx, "run_id", f, sizeof f));
    msg_sink sink = { .map = map, .t = t, .failed = false };
    rpt_query_each(ctx, sql, msg_row, &sink);
    if (sink.failed) (void)rpt_fail(ctx, SIM_ERR_NOMEM, "rpt_fold_traffic", "out of memory");
    for (size_t s = 0; s < scenarios; s++) rpt_sort(t[s].types, t[s].types_count, sizeof *t[s].types, type_cmp);
    *out = t;
}

void rpt_traffic_free(rpt_traffic *t, size_t scenarios)
{
    if (t == NULL) return;
    for (size_t s = 0; s < scenarios; s++) {
        for (size_t i = 0; i < t[s].types_count; i++) free(t[s].types[i].type);
        free(t[s].types);
        free(t[s].nodes);
    }
    free(t);
}
