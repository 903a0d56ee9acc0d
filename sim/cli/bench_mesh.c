/* bench_mesh.c: the engine benchmark and its bare-loop baseline.
 *
 * This is harness code: it reads the wall clock (to time the runs) and the
 * process's peak RSS, which the engine itself never does. */
#include "bench_mesh.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sim_net.h"
#include "sim_vec.h"

#define MH_PERIOD_NS 1000000000ull
#define MH_LATENCY_NS 1000000ull
#define MH_BYTES 64u
#define MH_FNV 0x100000001b3ull

double bench_wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return ru.ru_maxrss;
}

static uint64_t fold_checksum(const uint64_t *h, uint32_t n)
{
    uint64_t cks = 0;
    for (uint32_t j = 0; j < n; j++) cks = (cks ^ h[j]) * MH_FNV;
    return cks;
}

static sim_status check_args(uint32_t nodes, uint32_t seconds, sim_error *err)
{
    if (nodes < 2 || nodes > SIM_NODES_MAX) {
        return sim_error_set(err, SIM_ERR_INVALID, "bench mesh", "N must be in 2..%u", (unsigned)SIM_NODES_MAX);
    }
    if (seconds < 1 || seconds > 100000) {
        return sim_error_set(err, SIM_ERR_INVALID, "bench mesh", "V must be in 1..100000 seconds");
    }
    return SIM_OK;
}

/* --- On the engine ------------------------------------------------------- */

typedef struct mesh_world {
    uint32_t n;
    sim_time_ns end_ns;
    uint64_t *h;
    uint64_t deliveries;
    uint64_t fires;
    uint64_t late;
    sim_status status;         /* the first failure inside a handler */
    sim_error err;
} mesh_world;

enum { MH_KIND_FIRE = SIM_KIND_USER, MH_TYPE = 1 };

static void mesh_fire(sim_engine *sim, void *ctx, uint64_t node)
{
    mesh_world *w = ctx;
    sim_node_id self = (sim_node_id)node;
    w->fires++;
    for (sim_node_id dst = 0; dst < w->n; dst++) {
        if (dst == self) continue;
        sim_status st = sim_net_send(sim, self, dst, MH_TYPE, MH_BYTES, NULL, &w->err);
        if (st != SIM_OK && w->status == SIM_OK) w->status = st;
    }
    if (sim_now(sim) + MH_PERIOD_NS < w->end_ns) {
        sim_status st = sim_timer_start(sim, self, MH_PERIOD_NS, MH_KIND_FIRE, mesh_fire, w, node, NULL, &w->err);
        if (st != SIM_OK && w->status == SIM_OK) w->status = st;
    }
}

static void mesh_start(sim_engine *sim, sim_node_id node, void *ctx)
{
    mesh_world *w = ctx;
    sim_time_ns first = (sim_time_ns)node * (MH_PERIOD_NS / w->n);
    if (first >= w->end_ns) return;
    sim_status st = sim_timer_start(sim, node, first, MH_KIND_FIRE, mesh_fire, w, node, NULL, &w->err);
    if (st != SIM_OK && w->status == SIM_OK) w->status = st;
}

static void mesh_on_message(sim_engine *sim, sim_node_id node, void *ctx, const sim_message *msg)
{
    mesh_world *w = ctx;
    w->h[node] = w->h[node] * 31 + ((uint64_t)msg->src ^ msg->sent_at_ns);
    w->deliveries++;
    if (sim_now(sim) != msg->sent_at_ns + MH_LATENCY_NS) w->late++;
}

static const sim_node_ops mesh_ops = {
    .start = mesh_start,
    .on_message = mesh_on_message,
};

sim_status bench_mesh_engine(uint32_t nodes, uint32_t seconds, bench_mesh_result *out, sim_error *err)
{
    sim_status st = check_args(nodes, seconds, err);
    if (st != SIM_OK) return st;
    double t0 = bench_wall_now();
    mesh_world w;
    memset(&w, 0, sizeof w);
    w.n = nodes;
    w.end_ns = (sim_time_ns)seconds * MH_PERIOD_NS;
    w.h = calloc(nodes, sizeof *w.h);
    if (w.h == NULL) return sim_error_set(err, SIM_ERR_NOMEM, "bench mesh", "out of memory");
    sim_config config = { .seed = 1, .node_count = nodes };
    sim_engine *sim = sim_engine_create(&config, err);
    if (sim == NULL) {
        free(w.h);
        return err != NULL ? err->status : SIM_ERR_NOMEM;
    }
    sim_link_params link = sim_link_params_default();
    link.latency = sim_latency_constant(MH_LATENCY_NS);
    st = sim_net_set_default(sim, &link, err);
    for (sim_node_id i = 0; st == SIM_OK && i < nodes; i++) {
        st = sim_node_attach(sim, i, &mesh_ops, &w, err);
        if (st == SIM_OK) st = sim_node_start(sim, i, 0, err);
    }
    if (st == SIM_OK) {
        sim_stop_reason reason = sim_run(sim);
        SIM_ASSERT(reason == SIM_STOP_DRAINED);
        st = w.status;
        if (st != SIM_OK && err != NULL) *err = w.err;
    }
    double t1 = bench_wall_now();
    memset(out, 0, sizeof *out);
    out->nodes = nodes;
    out->seconds = seconds;
    out->deliveries = w.deliveries;
    out->fires = w.fires;
    out->late = w.late;
    out->checksum = fold_checksum(w.h, nodes);
    out->end_time_ns = sim_now(sim);
    out->wall_s = t1 - t0;
    out->peak_rss_kb = peak_rss_kb();
    sim_engine_destroy(sim);
    free(w.h);
    return st;
}

/* --- The bare loop ------------------------------------------------------- */

typedef struct bare_event {
    uint64_t time_ns;
    uint64_t send_ns;
    uint32_t type;          /* 0 = fire, 1 = deliver */
    uint32_t node;
    uint32_t src;
    uint32_t next_free;
} bare_event;

typedef struct bare_entry {
    uint64_t time_ns;
    uint64_t seq;
    uint32_t index;
} bare_entry;

typedef struct bare_loop {
    bare_event *pool;
    bare_entry *heap;
    uint32_t cap;
    uint32_t len;
    uint32_t free_head;
    uint64_t seq;
} bare_loop;

static inline int bare_before(const bare_entry *a, const bare_entry *b)
{
    return a->time_ns != b->time_ns ? a->time_ns < b->time_ns : a->seq < b->seq;
}

static int bare_push(bare_loop *q, bare_event ev)
{
    if (q->free_head == UINT32_MAX) {
        /* Two parallel arrays, one capacity: grow each through the
         * project's helper, then take the smaller capacity. */
        uint32_t pool_cap = q->cap, heap_cap = q->cap;
        if (!sim_vec_grow32_(&q->pool, sizeof *q->pool, (size_t)q->cap + 1, &pool_cap)) return -1;
        if (!sim_vec_grow32_(&q->heap, sizeof *q->heap, (size_t)q->cap + 1, &heap_cap)) return -1;
        uint32_t cap = pool_cap < heap_cap ? pool_cap : heap_cap;
        for (uint32_t i = cap; i-- > q->cap;) {
            q->pool[i].next_free = q->free_head;
            q->free_head = i;
        }
        q->cap = cap;
    }
    uint32_t index = q->free_head;
    q->free_head = q->pool[index].next_free;
    q->pool[index] = ev;
    bare_entry e = { ev.time_ns, q->seq++, index };
    uint32_t i = q->len++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 4;
        if (!bare_before(&e, &q->heap[parent])) break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
    return 0;
}

static bare_entry bare_pop(bare_loop *q)
{
    bare_entry top = q->heap[0];
    bare_entry last = q->heap[--q->len];
    uint32_t n = q->len, i = 0;
    for (;;) {
        uint32_t first = i * 4 + 1;
        if (first >= n) break;
        uint32_t best = first;
        uint32_t end = first + 4 < n ? first + 4 : n;
        for (uint32_t c = first + 1; c < end; c++) {
            if (bare_before(&q->heap[c], &q->heap[best])) best = c;
        }
        if (!bare_before(&q->heap[best], &last)) break;
        q->heap[i] = q->heap[best];
        i = best;
    }
    if (n > 0) q->heap[i] = last;
    return top;
}

sim_status bench_mesh_baseline(uint32_t nodes, uint32_t seconds, bench_mesh_result *out, sim_error *err)
{
    sim_status st = check_args(nodes, seconds, err);
    if (st != SIM_OK) return st;
    double t0 = bench_wall_now();
    uint64_t end_ns = (uint64_t)seconds * MH_PERIOD_NS;
    uint64_t *h = calloc(nodes, sizeof *h);
    bare_loop q = { .free_head = UINT32_MAX };
    uint64_t deliveries = 0, fires = 0, late = 0, now = 0;
    int fail = h == NULL;
    for (uint32_t i = 0; !fail && i < nodes; i++) {
        uint64_t first = (uint64_t)i * (MH_PERIOD_NS / nodes);
        if (first < end_ns) fail = bare_push(&q, (bare_event){ .time_ns = first, .type = 0, .node = i }) != 0;
    }
    while (!fail && q.len > 0) {
        bare_entry top = bare_pop(&q);
        bare_event ev = q.pool[top.index];
        q.pool[top.index].next_free = q.free_head;
        q.free_head = top.index;
        now = top.time_ns;
        switch (ev.type) {
        case 0:
            fires++;
            for (uint32_t dst = 0; !fail && dst < nodes; dst++) {
                if (dst == ev.node) continue;
                fail = bare_push(&q, (bare_event){ .time_ns = now + MH_LATENCY_NS, .send_ns = now, .type = 1,
                                                   .node = dst, .src = ev.node }) != 0;
            }
            if (!fail && now + MH_PERIOD_NS < end_ns) {
                fail = bare_push(&q, (bare_event){ .time_ns = now + MH_PERIOD_NS, .type = 0, .node = ev.node }) != 0;
            }
            break;
        case 1:
            h[ev.node] = h[ev.node] * 31 + ((uint64_t)ev.src ^ ev.send_ns);
            deliveries++;
            if (now != ev.send_ns + MH_LATENCY_NS) late++;
            break;
        }
    }
    double t1 = bench_wall_now();
    memset(out, 0, sizeof *out);
    out->nodes = nodes;
    out->seconds = seconds;
    out->deliveries = deliveries;
    out->fires = fires;
    out->late = late;
    out->checksum = h != NULL ? fold_checksum(h, nodes) : 0;
    out->end_time_ns = now;
    out->wall_s = t1 - t0;
    out->peak_rss_kb = peak_rss_kb();
    free(h);
    free(q.pool);
    free(q.heap);
    if (fail) return sim_error_set(err, SIM_ERR_NOMEM, "bench mesh --baseline", "out of memory");
    return SIM_OK;
}

/* --- Command ------------------------------------------------------------- */

static void print_result(const char *peer, const bench_mesh_result *r)
{
    uint64_t events = r->deliveries + r->fires;
    double wall = r->wall_s > 0 ? r->wall_s : 1e-9;
    printf("RESULT peer=%s N=%u V=%u deliveries=%" PRIu64 " fires=%" PRIu64 " events=%" PRIu64
           " wall_s=%.3f events_per_s=%.0f vsec_per_wall_s=%.1f peak_rss_kb=%ld checksum=%016" PRIx64
           " late=%" PRIu64 " end_time_ns=%" PRIu64 "\n",
           peer, r->nodes, r->seconds, r->deliveries, r->fires, events, r->wall_s, (double)events / wall,
           (double)r->seconds / wall, r->peak_rss_kb, r->checksum, r->late, r->end_time_ns);
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (s[0] == '\0' || s[0] == '-' || *end != '\0' || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

int bench_mesh_main(int argc, char **argv)
{
    int baseline = 0, i = 0;
    if (i < argc && strcmp(argv[i], "--baseline") == 0) {
        baseline = 1;
        i++;
    }
    uint32_t n = 0, v = 0;
    if (argc - i != 2 || parse_u32(argv[i], &n) != 0 || parse_u32(argv[i + 1], &v) != 0) {
        fprintf(stderr, "usage: distrosim bench mesh [--baseline] N V\n"
                        "  N nodes (2..%u), V virtual seconds (1..100000)\n", (unsigned)SIM_NODES_MAX);
        return 2;
    }
    sim_error err;
    bench_mesh_result engine;
    if (bench_mesh_engine(n, v, &engine, &err) != SIM_OK) {
        fprintf(stderr, "distrosim: bench mesh: %s\n", err.message);
        return 2;
    }
    print_result("distrosim", &engine);
    if (!baseline) return engine.late == 0 ? 0 : 1;
    bench_mesh_result bare;
    if (bench_mesh_baseline(n, v, &bare, &err) != SIM_OK) {
        fprintf(stderr, "distrosim: bench mesh: %s\n", err.message);
        return 2;
    }
    print_result("bare-loop", &bare);
    double ratio = (engine.wall_s > 0 && bare.wall_s > 0) ? bare.wall_s / engine.wall_s : 0;
    int same = engine.checksum == bare.checksum && engine.deliveries == bare.deliveries &&
               engine.fires == bare.fires;
    printf("RATIO N=%u V=%u engine_over_bare_events_per_s=%.3f target=0.500 checksum_match=%s late=%" PRIu64
           " verdict=%s\n",
           n, v, ratio, same ? "yes" : "no", engine.late,
           (same && engine.late == 0 && ratio >= 0.5) ? "PASS" : "FAIL");
    return (same && engine.late == 0) ? 0 : 1;
}
