/* distro_http.c: the HTTP clients Nacos 1.4.2 calls its peers with
 * (NACOS-DISTRO.md section 1.8), and the transport they ride.
 *
 * Nacos builds four clients (naming/.../misc/HttpClientManager.java:45-51,
 * core/.../cluster/ServerMemberManager.java:82), and which one a request
 * uses decides how it fails:
 *
 *   request                      client          connect   read     pool
 *   change sync PUT /datum       Apache sync     none      none     cores per route, 2 x cores,
 *   repair GET /datum            Apache sync     none      none       500 ms time to live,
 *   snapshot GET /datums         Apache sync     5 s       10 s       lease wait unbounded
 *   GET /instance/statuses       Apache sync     5 s       10 s
 *   DistroFilter proxy           Apache sync     2 s       2 s
 *   PUT /distro/checksum         naming async    5 s       10 s     128 per route, 20 in all
 *   POST /service/status         naming async    5 s       10 s
 *   member report                core async      5 s       2.5 s    2 per route, 20 in all
 *
 * "none" is HttpClientConfig's -1 (common/.../http/HttpClientConfig.java:
 * 149-157), which Apache HttpClient 4 reads as the system default: no read
 * timeout, no lease timeout, and a connect bounded only by the kernel's SYN
 * retries (about 127 s on Linux).  The per-request 5 s / 10 s of the
 * snapshot load and the status fetch come from HttpClient.request
 * (naming/.../misc/HttpClient.java:96-115, CON_TIME_OUT_MILLIS and
 * TIME_OUT_MILLIS at :47-49), which rides the Apache sync pool; the proxy
 * passes its own 2 s pair through the same method (DistroFilter.java).
 * The async clients' 20 in all is HttpAsyncClientBuilder's default pool
 * size, which setMaxConnTotal(-1) leaves in place (HttpClientManager.java:
 * 126-130).  The member report's read timeout is ServerMemberManager's
 * TIMEOUT >> 1.
 *
 * Every limit is a cluster.distro setting (distro_config.h); these are the
 * defaults.
 *
 * Transport.  With distro_cluster_use_tcp, requests ride the connection
 * layer (sim_conn.h): one pool per (node, client), TCP's retransmission,
 * resets and stalls, and the timeouts above.  Without it they ride the
 * datagram network's requests (sim_net.h), whose single timeout is the
 * connect timeout plus the read timeout, "none" counting as the kernel's
 * SYN limit for a connect and as nothing for a read: a lost message costs
 * the whole timeout, as the model behaved before connections existed. */
#include "distro_int.h"

#include <stdlib.h>
#include <string.h>

distro_http_route distro_http_route_of(const distro_config *cfg, uint16_t type)
{
    distro_http_route r;
    memset(&r, 0, sizeof r);
    switch ((enum distro_msg_type)type) {
    case DISTRO_MSG_SYNC_DATUM:          /* NamingProxy.syncData -> httpPutLarge */
    case DISTRO_MSG_GET_DATUM:           /* NamingProxy.getData -> httpGetLarge */
        r.client = DISTRO_HTTP_APACHE_SYNC;
        r.to.connect_ns = cfg->http_sync_connect_timeout_ns;
        r.to.read_ns = cfg->http_sync_read_timeout_ns;
        r.to.lease_ns = cfg->http_sync_lease_timeout_ns;
        return r;
    case DISTRO_MSG_GET_DATUMS:          /* NamingProxy.getAllData -> HttpClient.httpGet */
    case DISTRO_MSG_INSTANCE_STATUSES:   /* ServiceStatusSynchronizer.get -> NamingProxy.reqApi */
        r.client = DISTRO_HTTP_APACHE_SYNC;
        r.to.connect_ns = cfg->http_connect_timeout_ns;
        r.to.read_ns = cfg->http_read_timeout_ns;
        r.to.lease_ns = cfg->http_sync_lease_timeout_ns;
        return r;
    case DISTRO_MSG_PROXY:               /* DistroFilter -> HttpClient.request(2000, 2000) */
        r.client = DISTRO_HTTP_APACHE_SYNC;
        r.to.connect_ns = cfg->proxy_timeout_ns;
        r.to.read_ns = cfg->proxy_timeout_ns;
        r.to.lease_ns = cfg->http_sync_lease_timeout_ns;
        return r;
    case DISTRO_MSG_CHECKSUM:            /* NamingProxy.syncCheckSums -> asyncHttpPutLarge */
    case DISTRO_MSG_SERVICE_STATUS:      /* ServiceStatusSynchronizer.send -> asyncHttpPostLarge */
        r.client = DISTRO_HTTP_NAMING_ASYNC;
        r.to.connect_ns = cfg->http_connect_timeout_ns;
        r.to.read_ns = cfg->http_read_timeout_ns;
        return r;
    case DISTRO_MSG_MEMBER_REPORT:       /* ServerMemberManager.MemberInfoReportTask */
        r.client = DISTRO_HTTP_CORE_ASYNC;
        r.to.connect_ns = cfg->member_report_connect_timeout_ns;
        r.to.read_ns = cfg->member_report_timeout_ns;
        return r;
    /* 2.x cluster gRPC (ClusterRpcClientProxy): one long-lived client per
     * peer; an async request's timeout is its callback's (3000 ms for sync
     * and verify, DistroConstants), a synchronous one's its argument (the
     * snapshot 30000 ms, a report or a check 3000 ms, ClusterRpcClientProxy
     * :62,180).  The connect is the RPC client's own (3000 ms). */
    case DISTRO_MSG_V2_SYNC:
    case DISTRO_MSG_V2_REPORT:
        r.client = DISTRO_HTTP_GRPC;
        r.to.connect_ns = cfg->v2.rpc_timeout_ns;
        r.to.read_ns = type == DISTRO_MSG_V2_SYNC ? cfg->v2.sync_timeout_ns : 3000 * SIM_MS;   /* DEFAULT_REQUEST_TIME_OUT */
        return r;
    case DISTRO_MSG_V2_CHECK:            /* a connect's server check or a health check: healthCheckTimeOut */
        r.client = DISTRO_HTTP_GRPC;
        r.to.connect_ns = cfg->v2.rpc_timeout_ns;
        r.to.read_ns = cfg->v2.rpc_health_timeout_ns;
        return r;
    case DISTRO_MSG_V2_VERIFY:
        r.client = DISTRO_HTTP_GRPC;
        r.to.connect_ns = cfg->v2.rpc_timeout_ns;
        r.to.read_ns = cfg->v2.verify_timeout_ns;
        return r;
    case DISTRO_MSG_V2_SNAPSHOT:
        r.client = DISTRO_HTTP_GRPC;
        r.to.connect_ns = cfg->v2.rpc_timeout_ns;
        /* nacos-8594: up to 2.1.0 getDatumSnapshot called sendRequest
         * without a timeout, so the snapshot had the 3000 ms default
         * (DistroClientTransportAgent.java:177, ClusterRpcClientProxy
         * .java:59,169-170 at 2.1.0); 2.1.1 passes the load timeout. */
        r.to.read_ns = distro2_bug_on(cfg, DISTRO2_BUG_NACOS_8594) ? cfg->v2.rpc_timeout_ns : cfg->v2.load_timeout_ns;
        return r;
    case DISTRO_MSG_V2_SYNC_RESP:
    case DISTRO_MSG_V2_VERIFY_RESP:
    case DISTRO_MSG_V2_SNAPSHOT_RESP:
    case DISTRO_MSG_V2_CHECK_RESP:
    case DISTRO_MSG_V2_REPORT_RESP:
    case DISTRO_MSG_SYNC_DATUM_RESP:
    case DISTRO_MSG_CHECKSUM_RESP:
    case DISTRO_MSG_GET_DATUM_RESP:
    case DISTRO_MSG_GET_DATUMS_RESP:
    case DISTRO_MSG_MEMBER_REPORT_RESP:
    case DISTRO_MSG_SERVICE_STATUS_RESP:
    case DISTRO_MSG_INSTANCE_STATUSES_RESP:
    case DISTRO_MSG_PROXY_RESP:
    case DISTRO_MSG_TYPES:
        break;
    }
    SIM_ASSERT(0 && "a response type has no route");
    return r;
}

sim_conn_pool_params distro_http_pool_params(const distro_config *cfg, distro_http_client client)
{
    sim_conn_pool_params p = sim_conn_pool_params_default();
    switch (client) {
    case DISTRO_HTTP_APACHE_SYNC:
        /* HttpClientManager.java:113-115: availableProcessors per route,
         * twice that in all, connections live 500 ms. */
        p.max_per_route = cfg->http_sync_max_per_route != 0 ? cfg->http_sync_max_per_route : cfg->cpu_cores;
        p.max_total = cfg->http_sync_max_total != 0 ? cfg->http_sync_max_total : 2 * cfg->cpu_cores;
        p.ttl_ns = cfg->http_sync_ttl_ns;
        return p;
    case DISTRO_HTTP_NAMING_ASYNC:
        p.max_per_route = cfg->http_async_max_per_route;
        p.max_total = cfg->http_async_max_total;
        return p;
    case DISTRO_HTTP_CORE_ASYNC:   /* builder defaults: 2 per route, 20 in all */
    case DISTRO_HTTP_GRPC:
        return p;
    }
    return p;
}

/* --- Transport ------------------------------------------------------------- */

/* A call in flight on the connection layer: the model's handler and its
 * argument, found again from the 64-bit argument the layer hands back
 * (slot index and generation). */
struct distro_call_slot {
    uint32_t generation;         /* never 0; bumped at free */
    uint32_t next_free;          /* index + 1 of the next free slot; 0 ends the list */
    uint32_t node;               /* DISTRO_NONE when free */
    sim_rpc_fn *fn;
    uint64_t arg;
};


static void conn_server(sim_engine *sim, sim_node_id server, void *ctx, sim_node_id client, uint32_t bytes,
                        uint64_t tag, sim_payload *payload, sim_conn_token token)
{
    distro_cluster *c = ctx;
    distro_node *node = &c->nodes[server];
    if (!node->running) return;   /* a started node whose model has not run yet: never answers */
    sim_message msg;
    memset(&msg, 0, sizeof msg);
    msg.src = client;
    msg.dst = server;
    msg.type = (uint16_t)tag;
    msg.bytes = bytes;
    msg.sent_at_ns = sim_now(sim);
    msg.payload = payload;
    msg.dropped = -1;
    distro_token t;
    memset(&t, 0, sizeof t);
    t.stream = true;
    t.conn = token;
    distro_dispatch_request(node, &msg, t);
}

static void slot_free(distro_cluster *c, uint32_t i)
{
    struct distro_call_slot *s = &c->calls[i];
    s->node = DISTRO_NONE;
    s->generation++;
    if (s->generation == 0) s->generation = 1;
    s->next_free = c->calls_free;
    c->calls_free = i + 1;
}

static void conn_done(sim_engine *sim, void *ctx, uint64_t arg, const sim_conn_result *res)
{
    distro_cluster *c = ctx;
    uint32_t i = (uint32_t)(arg >> 32);
    SIM_ASSERT(i < c->calls_len);
    struct distro_call_slot *s = &c->calls[i];
    if (s->generation != (uint32_t)arg || s->node == DISTRO_NONE) return;   /* the caller crashed meanwhile */
    sim_rpc_fn *fn = s->fn;
    uint64_t model_arg = s->arg;
    distro_node *node = &c->nodes[s->node];
    slot_free(c, i);
    distro_counters *k = distro_counters_of(node);
    switch (res->outcome) {
    case SIM_CONN_OK: break;
    case SIM_CONN_REFUSED: k->http_refused++; break;
    case SIM_CONN_CONNECT_TIMEOUT: k->http_connect_timeouts++; break;
    case SIM_CONN_READ_TIMEOUT: k->http_read_timeouts++; break;
    case SIM_CONN_LEASE_TIMEOUT: k->http_lease_timeouts++; break;
    case SIM_CONN_RESET: k->http_resets++; break;
    case SIM_CONN_RETRIES_EXHAUSTED: k->http_retries_exhausted++; break;
    case SIM_CONN_OUTCOMES: break;
    }
    /* Nacos's callers tell apart only "connection refused" (MemberUtil.onFail
     * matches the message) from every other failure: a reset, a timeout or
     * an exhausted retransmission are all an IOException to them. */
    if (res->outcome != SIM_CONN_OK) {
        fn(sim, node, model_arg, res->outcome == SIM_CONN_REFUSED ? SIM_RPC_REFUSED : SIM_RPC_TIMEOUT, NULL);
        return;
    }
    sim_message resp;
    memset(&resp, 0, sizeof resp);
    resp.src = res->server;
    resp.dst = res->client;
    resp.type = res->response != NULL ? ((const distro_msg *)res->response)->type : 0;
    resp.bytes = res->response_bytes;
    resp.sent_at_ns = res->started_ns;
    resp.payload = res->response;
    resp.dropped = -1;
    fn(sim, node, model_arg, SIM_RPC_OK, &resp);
}

static void conn_prefetch(const void *ctx, sim_node_id server, const sim_payload *payload)
{
    distro_filter_proxy_prefetch(ctx, server, (const distro_msg *)payload);
}

sim_status distro_cluster_use_tcp(distro_cluster *c, const sim_conn_params *params, sim_error *err)
{
    const char *where = "distro_cluster_use_tcp";
    if (c->conn != NULL) return sim_error_set(err, SIM_ERR_STATE, where, "the cluster already uses connections");
    c->conn = sim_conn_net_create(c->sim, params, err);
    if (c->conn == NULL) return err->status;
    if (sim_conn_set_prefetch(c->conn, conn_prefetch, c, err) != SIM_OK) return err->status;
    c->pools = calloc((size_t)c->n * DISTRO_HTTP_CLIENTS, sizeof *c->pools);
    if (c->pools == NULL) return sim_error_set(err, SIM_ERR_NOMEM, where, "cannot allocate connection pools");
    for (uint32_t id = 0; id < c->n; id++) {
        sim_status st = sim_conn_listen(c->conn, id, conn_server, c, err);
        for (uint32_t k = 0; st == SIM_OK && k < DISTRO_HTTP_CLIENTS; k++) {
            sim_conn_pool_params p = distro_http_pool_params(&c->config, (distro_http_client)k);
            st = sim_conn_pool_create(c->conn, id, &p, &c->pools[id * DISTRO_HTTP_CLIENTS + k], err);
        }
        if (st != SIM_OK) return st;
    }
    if (c->config.version != DISTRO_VERSION_1_4_2) {
        /* gRPC multiplexes every call to a peer on one long-lived
         * connection; the layer runs one exchange per connection, so a
         * pool per (node, peer), ClusterRpcClientProxy's one client per
         * member, that keeps its connections for ever and opens one more
         * whenever calls overlap, without limit (gRPC streams do not queue
         * for each other), stands for it. */
        c->grpc_pools = calloc((size_t)c->n * c->n, sizeof *c->grpc_pools);
        if (c->grpc_pools == NULL) return sim_error_set(err, SIM_ERR_NOMEM, where, "cannot allocate gRPC pools");
        sim_conn_pool_params p = sim_conn_pool_params_default();
        p.max_per_route = UINT32_MAX / 2;
        p.max_total = UINT32_MAX / 2;
        p.ttl_ns = 0;
        for (uint32_t id = 0; id < c->n; id++) {
            for (uint32_t peer = 0; peer < c->n; peer++) {
                sim_status st = sim_conn_pool_create(c->conn, id, &p, &c->grpc_pools[id * c->n + peer], err);
                if (st != SIM_OK) return st;
            }
        }
    }
    return SIM_OK;
}

void distro_http_destroy(distro_cluster *c)
{
    sim_conn_net_destroy(c->conn);
    free(c->pools);
    free(c->grpc_pools);
    free(c->calls);
}

void distro_http_node_crashed(distro_node *node)
{
    distro_cluster *c = node->cluster;
    /* A crash fault kills the Nacos process, not its host: the kernel
     * closes the server's connections and peers see a FIN (a dead host is
     * a crash plus an isolation). */
    if (c->conn != NULL) sim_conn_process_died(c->conn, node->id);
    for (uint32_t i = 0; i < c->calls_len; i++) {
        if (c->calls[i].node == node->id) slot_free(c, i);
    }
}

void distro_call(distro_node *node, uint32_t target, uint16_t type, uint32_t bytes, distro_msg *msg, sim_rpc_fn *fn,
                 uint64_t arg)
{
    distro_cluster *c = node->cluster;
    distro_http_route route = distro_http_route_of(&c->config, type);
    sim_error err;
    sim_status st;
    if (c->conn == NULL) {
        /* The datagram stand-in for "no connect timeout": the kernel's SYN
         * limit with Linux's defaults. */
        sim_conn_params linux_tcp = sim_conn_params_default();
        sim_time_ns connect = route.to.connect_ns != 0 ? route.to.connect_ns : sim_conn_syn_limit_ns(&linux_tcp);
        sim_time_ns timeout = connect + route.to.read_ns;
        st = sim_rpc_call(c->sim, node->id, target, type, bytes, msg != NULL ? &msg->base : NULL, timeout, fn, node,
                          arg, &err);
        if (st != SIM_OK) sim_fail(c->sim, &err);
        return;
    }
    uint32_t i = c->calls_free - 1;   /* the free list holds index + 1; 0 ends it */
    if (c->calls_free != 0) {
        c->calls_free = c->calls[i].next_free;
    } else if (SIM_VEC_RESERVE(c->calls, c->calls_len, c->calls_cap, 1)) {
        i = c->calls_len++;
        c->calls[i].generation = 1;
    } else {
        distro_msg_unref(msg);
        distro_fail_nomem(c, "distro_call");
        return;
    }
    struct distro_call_slot *s = &c->calls[i];
    s->node = node->id;
    s->fn = fn;
    s->arg = arg;
    s->next_free = 0;
    uint64_t slot_arg = ((uint64_t)i << 32) | s->generation;
    sim_conn_pool_id pool = route.client == DISTRO_HTTP_GRPC ? c->grpc_pools[node->id * c->n + target]
                                                             : c->pools[node->id * DISTRO_HTTP_CLIENTS + route.client];
    st = sim_conn_request(c->conn, pool, target, bytes, type, msg != NULL ? &msg->base : NULL, &route.to, conn_done,
                          c, slot_arg, &err);
    if (st != SIM_OK) {
        slot_free(c, i);
        sim_fail(c->sim, &err);
    }
}

void distro_reply(distro_node *node, distro_token token, uint16_t type, uint32_t bytes, distro_msg *msg)
{
    distro_cluster *c = node->cluster;
    sim_error err;
    sim_payload *payload = msg != NULL ? &msg->base : NULL;
    sim_status st = token.stream ? sim_conn_respond(c->conn, token.conn, type, bytes, payload, &err)
                                 : sim_rpc_reply(c->sim, token.rpc, type, bytes, payload, &err);
    if (st != SIM_OK) sim_fail(c->sim, &err);   /* a full event pool, or a request answered twice */
}
