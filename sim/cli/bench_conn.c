/* bench_conn.c: workload CR(N, R) over connections and over datagram
 * requests (see bench_conn.h).  Harness code: it reads the wall clock to
 * time the runs. */
#include "bench_conn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_mesh.h"
#include "sim_conn.h"
#include "sim_net.h"

#define CR_OUTSTANDING 4u
#define CR_REQ_BYTES 1000u
#define CR_RESP_BYTES 500u
#define CR_TYPE_REQ 1u
#define CR_TYPE_RESP 2u

typedef struct cr_world {
    sim_engine *sim;
    sim_conn_net *cn;               /* NULL: the datagram run */
    sim_conn_pool_id *pools;        /* [n] */
    uint32_t n;
    uint64_t target;
    uint64_t issued;
    uint64_t ok;
    uint64_t failed;
    uint32_t *next_dst;             /* [n] */
    bool broken;                    /* an issue call failed */
} cr_world;

typedef struct cr_result {
    uint64_t events;
    uint64_t ok;
    uint64_t failed;
    sim_time_ns end_ns;
    double wall_s;
} cr_result;

static void cr_issue(cr_world *w, sim_node_id src);

static void cr_conn_done(sim_engine *sim, void *ctx, uint64_t arg, const sim_conn_result *res)
{
    (void)sim;
    cr_world *w = ctx;
    if (res->outcome == SIM_CONN_OK) {
        w->ok++;
    } else {
        w->failed++;
    }
    cr_issue(w, (sim_node_id)arg);
}

static void cr_rpc_done(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *response)
{
    (void)sim;
    (void)response;
    cr_world *w = ctx;
    if (status == SIM_RPC_OK) {
        w->ok++;
    } else {
        w->failed++;
    }
    cr_issue(w, (sim_node_id)arg);
}

static void cr_issue(cr_world *w, sim_node_id src)
{
    if (w->issued >= w->target || w->broken) return;
    w->issued++;
    sim_node_id dst = (src + 1 + w->next_dst[src]) % w->n;
    w->next_dst[src] = (w->next_dst[src] + 1) % (w->n - 1);
    sim_error err;
    sim_status st;
    if (w->cn != NULL) {
        sim_conn_timeouts to = {5 * SIM_S, 10 * SIM_S, 0};
        st = sim_conn_request(w->cn, w->pools[src], dst, CR_REQ_BYTES, 0, NULL, &to, cr_conn_done, w, src, &err);
    } else {
        st = sim_rpc_call(w->sim, src, dst, CR_TYPE_REQ, CR_REQ_BYTES, NULL, 10 * SIM_S, cr_rpc_done, w, src, &err);
    }
    if (st != SIM_OK) {
        fprintf(stderr, "distrosim: bench conn: %s\n", err.message);
        w->broken = true;
    }
}

static void cr_server(sim_engine *sim, sim_node_id server, void *ctx, sim_node_id client, uint32_t bytes,
                      uint64_t tag, sim_payload *payload, sim_conn_token token)
{
    (void)sim;
    (void)server;
    (void)client;
    (void)bytes;
    (void)tag;
    (void)payload;
    cr_world *w = ctx;
    sim_error err;
    if (sim_conn_respond(w->cn, token, 0, CR_RESP_BYTES, NULL, &err) != SIM_OK) w->broken = true;
}

static void cr_on_request(sim_engine *sim, sim_node_id node, void *ctx, const sim_message *msg, sim_rpc_token token)
{
    (void)node;
    (void)msg;
    cr_world *w = ctx;
    sim_error err;
    if (sim_rpc_reply(sim, token, CR_TYPE_RESP, CR_RESP_BYTES, NULL, &err) != SIM_OK) w->broken = true;
}

static int cr_run(uint32_t n, uint64_t requests, bool conn, cr_result *out)
{
    static const sim_node_ops ops_conn = {NULL, NULL, NULL, NULL, NULL};
    static const sim_node_ops ops_rpc = {NULL, NULL, NULL, cr_on_request, NULL};
    cr_world w;
    memset(&w, 0, sizeof w);
    w.n = n;
    w.target = requests;
    sim_error err;
    sim_config config;
    memset(&config, 0, sizeof config);
    config.seed = 1;
    config.node_count = n;
    int rc = 2;
    w.sim = sim_engine_create(&config, &err);
    w.pools = calloc(n, sizeof *w.pools);
    w.next_dst = calloc(n, sizeof *w.next_dst);
    if (w.sim == NULL || w.pools == NULL || w.next_dst == NULL) {
        fprintf(stderr, "distrosim: bench conn: %s\n", w.sim == NULL ? err.message : "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (sim_node_attach(w.sim, i, conn ? &ops_conn : &ops_rpc, &w, &err) != SIM_OK ||
            sim_node_start(w.sim, i, 0, &err) != SIM_OK) {
            fprintf(stderr, "distrosim: bench conn: %s\n", err.message);
            goto done;
        }
    }
    sim_run_until(w.sim, 0);
    if (conn) {
        w.cn = sim_conn_net_create(w.sim, NULL, &err);
        if (w.cn == NULL) {
            fprintf(stderr, "distrosim: bench conn: %s\n", err.message);
            goto done;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (sim_conn_listen(w.cn, i, cr_server, &w, &err) != SIM_OK ||
                sim_conn_pool_create(w.cn, i, NULL, &w.pools[i], &err) != SIM_OK) {
                fprintf(stderr, "distrosim: bench conn: %s\n", err.message);
                goto done;
            }
        }
    }
    double t0 = bench_wall_now();
    for (uint32_t k = 0; k < CR_OUTSTANDING; k++) {
        for (uint32_t i = 0; i < n; i++) cr_issue(&w, i);
    }
    uint64_t before = sim_events_processed(w.sim);
    sim_stop_reason why = sim_run(w.sim);
    double t1 = bench_wall_now();
    if (why == SIM_STOP_FAILED || w.broken) {
        const sim_error *f = sim_failure(w.sim);
        fprintf(stderr, "distrosim: bench conn: the run failed%s%s\n", f != NULL ? ": " : "",
                f != NULL ? f->message : "");
        goto done;
    }
    out->events = sim_events_processed(w.sim) - before;
    out->ok = w.ok;
    out->failed = w.failed;
    out->end_ns = sim_now(w.sim);
    out->wall_s = t1 - t0 > 0 ? t1 - t0 : 1e-9;
    rc = 0;
done:
    sim_conn_net_destroy(w.cn);
    sim_engine_destroy(w.sim);
    free(w.pools);
    free(w.next_dst);
    return rc;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] == '\0' || s[0] == '-' || *end != '\0') return -1;
    *out = v;
    return 0;
}

int bench_conn_main(int argc, char **argv)
{
    uint64_t n = 10, r = 200000;
    if ((argc != 0 && argc != 2) || (argc == 2 && (parse_u64(argv[0], &n) != 0 || parse_u64(argv[1], &r) != 0)) ||
        n < 2 || n > SIM_NODES_MAX || r == 0) {
        fprintf(stderr, "usage: distrosim bench conn [N R]\n"
                        "  N nodes (2..%u, default 10), R requests (>= 1, default 200000)\n",
                (unsigned)SIM_NODES_MAX);
        return 2;
    }
    cr_result conn, rpc;
    memset(&conn, 0, sizeof conn);
    memset(&rpc, 0, sizeof rpc);
    if (cr_run((uint32_t)n, r, true, &conn) != 0) return 2;
    if (cr_run((uint32_t)n, r, false, &rpc) != 0) return 2;
    if (conn.ok != r || rpc.ok != r) {
        fprintf(stderr, "distrosim: bench conn: expected %" PRIu64 " good requests, got %" PRIu64
                        " over connections and %" PRIu64 " over datagrams\n", r, conn.ok, rpc.ok);
        return 1;
    }
    double conn_rate = (double)conn.events / conn.wall_s;
    double rpc_rate = (double)rpc.events / rpc.wall_s;
    printf("RESULT bench=conn N=%" PRIu64 " R=%" PRIu64 " conn_events=%" PRIu64 " conn_wall_s=%.3f"
           " conn_events_per_s=%.0f conn_requests_per_s=%.0f conn_end_ns=%" PRIu64 " rpc_events=%" PRIu64
           " rpc_wall_s=%.3f rpc_events_per_s=%.0f rpc_requests_per_s=%.0f rpc_end_ns=%" PRIu64
           " events_per_s_ratio=%.3f requests_per_s_ratio=%.3f\n",
           n, r, conn.events, conn.wall_s, conn_rate, (double)r / conn.wall_s, conn.end_ns, rpc.events,
           rpc.wall_s, rpc_rate, (double)r / rpc.wall_s, rpc.end_ns, conn_rate / rpc_rate,
           ((double)r / conn.wall_s) / ((double)r / rpc.wall_s));
    return 0;
}
