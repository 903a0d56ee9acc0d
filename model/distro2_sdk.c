/* distro2_sdk.c: the Nacos 2.x naming SDK over gRPC and the server's
 * ConnectionManager (NACOS-DISTRO.md sections 3.2 and 3.7).
 *
 * The SDK (client/.../naming/remote/gprc/NamingGrpcClientProxy.java, common/
 * .../remote/client/RpcClient.java) holds one connection to one server at
 * a time.  It starts at a random server of its list (drawn from the
 * client's own stream) and, when a connect fails, tries the next, sleeping
 * min(turn + 1, 50) x 100 ms after each full turn of the list.  On a
 * connection the server registers a native ConnectionBasedClient with
 * revision 0 and no event (ConnectionBasedClientManager.clientConnected);
 * the registration that follows adds the publisher, bumps the revision and
 * raises ClientChangedEvent (EphemeralClientOperationServiceImpl
 * .registerInstance).  When its server's process dies the stream breaks at
 * once and the SDK reconnects to the next server; its redo task
 * (NamingGrpcRedoService, every 3 s) registers again on the new
 * connection at its next run.  A clean shutdown (the harness's deregister)
 * deregisters, which bumps the revision and raises ClientChangedEvent, then
 * closes the connection, which the server unregisters at once:
 * clientDisconnected, ClientDisconnectEvent, DELETE to every peer.
 *
 * A killed client (the harness's kill) is a host that vanished: no FIN, so
 * its server notices only through the ejector (NacosRuntimeConnectionEjector
 * .java:49-140, the 5 s latch at :133): every 3 s (first 1 s after start) it collects connections
 * idle for 20 s or more, probes each with a ClientDetectionRequest and
 * waits up to 5 s for the answers; those that did not answer are
 * unregistered, and the next run is 3 s after this one ended.  A live SDK
 * keeps its connection active (a health check after 5 s without traffic),
 * so its connection is never idle that long: the server's last activity of
 * a connection is its SDK's death (events spared: a keep-alive of each of
 * thousands of clients every 5 s would change nothing a run can see).
 *
 * The client-server path is the 1.x client's (distro_client.c): a fixed
 * client latency, not cut by server partitions.  Register, deregister and
 * close reach the server as its own events, so a paused server holds them
 * and a crashed one never runs them.
 *
 * A server that is starting (distro2_protocol.c) answers the SDK's server
 * check with an ErrorResponse (GrpcRequestAcceptor.java:88-99) and closes
 * its bi-stream setup (GrpcBiStreamRequestAcceptor.java:130-134): the
 * connect fails like a refused one, after the round trip, and the SDK
 * tries the next server.  A paused server's kernel accepts the channel but
 * its process answers the server check only at resume: the check is an
 * event of the server, and the SDK gives up after serverCheckTimeOut
 * (3000 ms, DefaultGrpcClientConfig.java:215) and tries the next server.
 *
 * Keep-alive (RpcClient.java:266-307, 434-456; DefaultGrpcClientConfig
 * .java:207, 225-227): every 5 s after the last answered request the SDK
 * health-checks its server: one HealthCheckRequest after a random sleep
 * below 500 ms, then up to 3 more back to back, each with a 3000 ms
 * timeout; the first answer ends it.  All four unanswered: the client is
 * UNHEALTHY and reconnects to the next server (reconnect(null, false), no
 * second health check), closes the old connection (:509-517), and its redo
 * task registers again on the new one.  Only a paused server leaves a
 * check unanswered (a dead one broke the stream, and client paths are not
 * cut): a check that finds its server running is answered a round trip
 * later and changes nothing, so that round trip and the sleep before it
 * are spared (the next check is 5 s after this one; a sweep every 100 ms
 * takes the SDKs whose check falls in it), and a check that finds its
 * server paused runs for real, each
 * request an event of the server that the pause holds.  The old
 * connection's close reaches the paused server at resume, which then
 * unregisters the client and DELETEs it on every peer; the SDK sends it
 * when it gives up, a round trip before Nacos would (after the new
 * connect). */
#include "distro2_int.h"

#include <stdlib.h>
#include <string.h>

enum { SDK_REGISTER, SDK_DEREGISTER_AND_CLOSE };

static void truth(distro_cluster *c, uint32_t id, bool live)
{
    if (c->observer.client_changed != NULL) c->observer.client_changed(c->observer.ctx, sim_now(c->sim), id, live);
}

static void sdk_event(distro_cluster *c, sim_time_ns delay_ns, sim_event_fn *fn, uint64_t arg)
{
    sim_error err;
    sim_status st = sim_schedule(c->sim, delay_ns, DISTRO_KIND_V2_SDK, fn, c, arg, NULL, &err);
    if (st != SIM_OK) sim_fail(c->sim, &err);
}

static uint64_t sdk_arg(const distro_cluster *c, uint32_t id) { return ((uint64_t)id << 32) | c->sdk[id].gen; }

static bool sdk_current(const distro_cluster *c, uint64_t arg)
{
    uint32_t id = (uint32_t)(arg >> 32);
    return id < c->client_count && c->sdk[id].gen == (uint32_t)arg;
}

static void connect_attempt(sim_engine *sim, void *ctx, uint64_t arg);
static void keepalive_start(distro_cluster *c, uint32_t id);
static void keepalive_sweep(sim_engine *sim, void *ctx, uint64_t arg);

#define SDK_KEEP_ALIVE_NS (5000 * SIM_MS)        /* connectionKeepAlive, DefaultGrpcClientConfig.java:207 */
#define SDK_HEALTH_SLEEP_MAX_MS 500u             /* random.nextInt(500), RpcClient.java:444-446 */
#define SDK_KEEP_ALIVE_SLOT_NS (100 * SIM_MS)    /* the keep-alive sweep's resolution */

/* --- server side ---------------------------------------------------------------- */

/* EphemeralClientOperationServiceImpl.registerInstance / deregisterInstance
 * on the connection's server: the publisher, revision + 1, lastUpdatedTime,
 * ClientChangedEvent. */
static void server_op(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    uint32_t conn = (uint32_t)(arg >> 8);
    uint8_t op = (uint8_t)(arg & 0xff);
    distro_cluster *c = node->cluster;
    if (conn >= c->conn_count || !c->conns[conn].open || c->conns[conn].server != node->id) return;
    distro2_client *client = distro2_client_get(node, conn);
    if (client == NULL) return;
    uint32_t key = op == SDK_REGISTER ? c->clients[c->conns[conn].sdk].key : DISTRO_NONE;
    distro2_client_publish(node, conn, key);
    client = distro2_client_get(node, conn);
    client->revision++;   /* ConnectionBasedClient.recalculateRevision: +1 */
    distro2_on_client_event(node, conn, false, client->native);
    if (op == SDK_DEREGISTER_AND_CLOSE) {
        /* The shutdown closes the connection: unregister at once. */
        c->conns[conn].open = false;
        distro2_client_remove(node, conn);
    }
}

static void send_op(distro_cluster *c, uint32_t conn, uint8_t op)
{
    distro_node *node = &c->nodes[c->conns[conn].server];
    distro_timer(node, c->client_latency_ns, DISTRO_KIND_CLIENT_REQUEST, server_op, ((uint64_t)conn << 8) | op);
}

/* --- the SDK ----------------------------------------------------------------------- */

static void schedule_connect(distro_cluster *c, uint32_t id, sim_time_ns delay_ns)
{
    distro2_sdk *s = &c->sdk[id];
    s->gen++;
    s->connecting = true;
    sdk_event(c, delay_ns, connect_attempt, sdk_arg(c, id));
}

/* The redo task's next run after `now` (every redo_interval from creation). */
static sim_time_ns next_redo_delay(const distro_cluster *c, uint32_t id)
{
    sim_time_ns period = c->config.v2.redo_interval_ns;
    sim_time_ns since = sim_now(c->sim) - c->sdk[id].created_ns;
    return period - since % period;
}

static void redo(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    if (!sdk_current(c, arg)) return;
    uint32_t id = (uint32_t)(arg >> 32);
    distro2_sdk *s = &c->sdk[id];
    const distro_client *cl = &c->clients[id];
    if (!s->connected || s->registered_on_conn || !cl->alive || !cl->registered) return;
    s->registered_on_conn = true;
    send_op(c, s->conn, SDK_REGISTER);
}

/* A connect to the current server failed after `elapsed`: the next server,
 * after a pause once per turn of the list. */
static void connect_failed(distro_cluster *c, uint32_t id, sim_time_ns elapsed)
{
    distro2_sdk *s = &c->sdk[id];
    s->attempts++;
    s->server_index = (s->server_index + 1) % c->n;
    sim_time_ns pause = elapsed;
    if (s->attempts % c->n == 0) {
        uint32_t turns = s->attempts / c->n;
        pause += (sim_time_ns)(turns < 50 ? turns : 50) * 100 * SIM_MS;
    }
    schedule_connect(c, id, pause);
}

static void connect_to(distro_cluster *c, uint32_t id, uint32_t server);

/* The server check a paused server took: its answer (the server is up
 * again) or the SDK's timeout, whichever comes first. */
static void check_answered(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    if (!sdk_current(c, arg) || !c->clients[(uint32_t)(arg >> 32)].alive) return;
    uint32_t id = (uint32_t)(arg >> 32);
    uint32_t server = c->sdk[id].server_index % c->n;
    if (!c->nodes[server].running || !c->nodes[server].v2->started) {
        connect_failed(c, id, 0);
        return;
    }
    connect_to(c, id, server);
}

static void check_timeout(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    if (!sdk_current(c, arg) || !c->clients[(uint32_t)(arg >> 32)].alive) return;
    connect_failed(c, (uint32_t)(arg >> 32), 0);
}

/* On the server: the check is read (at resume), answered a latency later. */
static void check_at_server(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    sdk_event(node->cluster, node->cluster->client_latency_ns, check_answered, arg);
}

static void connect_attempt(sim_engine *sim, void *ctx, uint64_t arg)
{
    distro_cluster *c = ctx;
    if (!sdk_current(c, arg)) return;
    uint32_t id = (uint32_t)(arg >> 32);
    distro2_sdk *s = &c->sdk[id];
    distro_client *cl = &c->clients[id];
    if (!cl->alive) return;
    uint32_t server = s->server_index % c->n;
    sim_node_state state = sim_node_state_get(sim, server);
    if (state == SIM_NODE_DOWN || !c->nodes[server].running) {
        connect_failed(c, id, 2 * c->client_latency_ns);   /* refused */
        return;
    }
    if (state == SIM_NODE_PAUSED) {
        distro_timer(&c->nodes[server], c->client_latency_ns, DISTRO_KIND_V2_SDK, check_at_server, arg);
        sdk_event(c, c->config.v2.rpc_timeout_ns, check_timeout, arg);
        return;
    }
    if (!c->nodes[server].v2->started) {
        /* ErrorResponse "Server is starting" to the server check. */
        distro_counters_of(&c->nodes[server])->v2_starting_refused++;
        connect_failed(c, id, 2 * c->client_latency_ns);
        return;
    }
    connect_to(c, id, server);
}

static void connect_to(distro_cluster *c, uint32_t id, uint32_t server)
{
    sim_engine *sim = c->sim;
    distro2_sdk *s = &c->sdk[id];
    distro_client *cl = &c->clients[id];
    if (!SIM_VEC_RESERVE(c->conns, c->conn_count, c->conn_cap, 1)) {
        distro_fail_nomem(c, "sdk connect");
        return;
    }
    uint32_t conn = c->conn_count++;
    c->conns[conn] = (distro2_conn){
        .sdk = id, .server = server, .open = true, .last_active_ns = sim_node_now(sim, server),
    };
    if (distro2_client_connected(&c->nodes[server], conn, true, 0) == NULL) return;
    bool first = s->conn == DISTRO_NONE;
    if (!first) distro_counters_of(&c->nodes[server])->v2_sdk_reconnects++;
    s->conn = conn;
    s->connected = true;
    s->connecting = false;
    s->attempts = 0;
    s->registered_on_conn = false;
    s->gen++;
    keepalive_start(c, id);
    if (!cl->registered) return;
    if (first) {
        /* registerService right after the connection: doRegisterService. */
        s->registered_on_conn = true;
        send_op(c, conn, SDK_REGISTER);
    } else {
        sdk_event(c, next_redo_delay(c, id), redo, sdk_arg(c, id));
    }
}

static void sdk_start(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    uint32_t id = (uint32_t)arg;
    distro_client *cl = &c->clients[id];
    if (!cl->alive) return;
    cl->registered = true;
    truth(c, id, true);
    c->sdk[id].created_ns = sim_now(c->sim);
    schedule_connect(c, id, 0);
}

void distro2_sdk_add(distro_cluster *c, uint32_t client, sim_time_ns delay_ns)
{
    if (client >= c->sdk_cap) {
        if (c->sdk_cap == 0) sdk_event(c, SDK_KEEP_ALIVE_SLOT_NS, keepalive_sweep, 0);   /* the first SDK */
        uint32_t cap = c->sdk_cap == 0 ? 64 : c->sdk_cap;
        while (cap <= client) cap *= 2;
        distro2_sdk *grown = realloc(c->sdk, (size_t)cap * sizeof *grown);
        if (grown == NULL) {
            distro_fail_nomem(c, "sdk add");
            return;
        }
        c->sdk = grown;
        c->sdk_cap = cap;
    }
    distro2_sdk *s = &c->sdk[client];
    memset(s, 0, sizeof *s);
    s->conn = DISTRO_NONE;
    s->died_ns = SIM_TIME_NEVER;
    s->server_index = (uint32_t)sim_rng_below(&c->clients[client].rng, c->n);
    /* A 1.x SDK (an IP-port client) keeps the entry, with no connection. */
    if (!c->clients[client].manual && !c->clients[client].ipport) sdk_event(c, delay_ns, sdk_start, client);
}

void distro2_sdk_deregister(distro_cluster *c, uint32_t client)
{
    distro_client *cl = &c->clients[client];
    distro2_sdk *s = &c->sdk[client];
    if (!cl->alive || !cl->registered) return;
    cl->registered = false;
    truth(c, client, false);
    /* The app shuts down: no reconnect after this. */
    cl->alive = false;
    s->gen++;
    if (s->connected) send_op(c, s->conn, SDK_DEREGISTER_AND_CLOSE);
    s->connected = false;
}

void distro2_sdk_kill(distro_cluster *c, uint32_t client)
{
    distro_client *cl = &c->clients[client];
    distro2_sdk *s = &c->sdk[client];
    if (cl->alive && cl->registered) truth(c, client, false);
    cl->alive = false;
    cl->registered = false;
    s->gen++;
    s->died_ns = sim_now(c->sim);
    c->sdk_killed++;
    if (s->conn != DISTRO_NONE) {
        distro2_conn *k = &c->conns[s->conn];
        k->last_active_ns = sim_node_now(c->sim, k->server);   /* the server's clock, as Nacos stamps it */
    }
}

void distro2_sdk_server_crashed(distro_cluster *c, uint32_t node)
{
    /* The server's process died: its kernel closes every connection, and
     * each live SDK on it reconnects to the next server.  O(clients). */
    distro2_subscriber_server_crashed(c, node);   /* and so do the 2.x subscribers (distro2_subscriber.c) */
    for (uint32_t id = 0; id < c->client_count; id++) {
        distro2_sdk *s = &c->sdk[id];
        if (s->conn == DISTRO_NONE || c->conns[s->conn].server != node || !c->conns[s->conn].open) continue;
        c->conns[s->conn].open = false;
        if (!s->connected) continue;
        s->connected = false;
        s->registered_on_conn = false;
        if (!c->clients[id].alive) continue;
        s->server_index = (s->server_index + 1) % c->n;
        schedule_connect(c, id, c->client_latency_ns);
    }
}

/* --- keep-alive ------------------------------------------------------------------- */

static void health_attempt(distro_cluster *c, uint32_t id, sim_time_ns sleep_ns);

static void keepalive_start(distro_cluster *c, uint32_t id)
{
    distro2_sdk *s = &c->sdk[id];
    s->health_tries = 0;
    s->checking = false;
    s->active_ns = sim_now(c->sim);
}

/* arg of a health-check attempt: id << 32 | gen (16 bits) << 16 | probe (16 bits). */
static uint64_t probe_arg(const distro_cluster *c, uint32_t id)
{
    const distro2_sdk *s = &c->sdk[id];
    return ((uint64_t)id << 32) | ((uint64_t)(s->gen & 0xffffu) << 16) | (s->probe & 0xffffu);
}

static bool probe_current(const distro_cluster *c, uint64_t arg)
{
    uint32_t id = (uint32_t)(arg >> 32);
    if (id >= c->client_count) return false;
    const distro2_sdk *s = &c->sdk[id];
    return s->connected && (s->gen & 0xffffu) == ((arg >> 16) & 0xffffu) && (s->probe & 0xffffu) == (arg & 0xffffu);
}

/* The SDKs' keep-alive ticks, one sweep per 100 ms slot (events spared: one
 * per slot for the cluster, not one per SDK every 5 s).  An SDK's checks
 * fall every 5 s after its lastActiveTimeStamp; a sweep takes those that
 * fell in its slot (late by less than the slot, below the 500 ms sleep
 * that precedes a check).  A check that finds its server running is
 * answered a round trip later and changes nothing (the SDK keeps its 5 s
 * grid, where Nacos's slides by that round trip), so only the SDKs of a
 * paused server start one, message by message. */
static void keepalive_sweep(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    distro_cluster *c = ctx;
    sim_time_ns now = sim_now(sim);
    bool paused = false;
    for (uint32_t n = 0; n < c->n && !paused; n++) paused = sim_node_state_get(sim, n) == SIM_NODE_PAUSED;
    for (uint32_t id = 0; paused && id < c->client_count; id++) {
        distro2_sdk *s = &c->sdk[id];
        if (!s->connected || s->checking || !c->clients[id].alive) continue;
        sim_time_ns since = now - s->active_ns;
        if (since < SDK_KEEP_ALIVE_NS || since % SDK_KEEP_ALIVE_NS >= SDK_KEEP_ALIVE_SLOT_NS) continue;   /* no tick in this slot */
        if (sim_node_state_get(sim, c->conns[s->conn].server) != SIM_NODE_PAUSED) continue;   /* answered */
        /* The first attempt sleeps random.nextInt(500) ms first (RpcClient.java:444-446). */
        sim_time_ns sleep = (sim_time_ns)sim_rng_below(&c->clients[id].rng, SDK_HEALTH_SLEEP_MAX_MS) * SIM_MS;
        s->health_tries = 0;
        s->checking = true;
        health_attempt(c, id, sleep);
    }
    sdk_event(c, SDK_KEEP_ALIVE_SLOT_NS, keepalive_sweep, 0);
}

static void health_answered(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    if (!probe_current(c, arg)) return;
    uint32_t id = (uint32_t)(arg >> 32);
    c->sdk[id].probe++;   /* the timeout of this attempt is moot */
    keepalive_start(c, id);
}

/* On the server: the HealthCheckRequest is read (at resume) and answered. */
static void health_at_server(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    sdk_event(node->cluster, node->cluster->client_latency_ns, health_answered, arg);
}

/* The old connection's close, read by its server: clientDisconnected. */
static void conn_closed_at_server(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    distro2_client_remove(node, (uint32_t)arg);
}

static void health_timeout(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    if (!probe_current(c, arg)) return;
    uint32_t id = (uint32_t)(arg >> 32);
    distro2_sdk *s = &c->sdk[id];
    s->probe++;
    if (++s->health_tries <= c->config.v2.rpc_retry_times) {
        health_attempt(c, id, 0);
        return;
    }
    /* UNHEALTHY: reconnect to the next server; the old connection closes. */
    distro2_conn *k = &c->conns[s->conn];
    distro_node *old = &c->nodes[k->server];
    distro_counters_of(old)->v2_sdk_health_failed++;
    k->open = false;
    distro_timer(old, c->client_latency_ns, DISTRO_KIND_V2_SDK, conn_closed_at_server, s->conn);
    s->connected = false;
    s->registered_on_conn = false;
    s->health_tries = 0;
    s->checking = false;
    s->server_index = (s->server_index + 1) % c->n;
    schedule_connect(c, id, 0);
}

static void health_attempt(distro_cluster *c, uint32_t id, sim_time_ns sleep_ns)
{
    distro2_sdk *s = &c->sdk[id];
    uint64_t arg = probe_arg(c, id);
    distro_timer(&c->nodes[c->conns[s->conn].server], sleep_ns + c->client_latency_ns, DISTRO_KIND_V2_SDK,
                 health_at_server, arg);
    sdk_event(c, sleep_ns + c->config.v2.rpc_timeout_ns, health_timeout, arg);
}

/* --- ConnectionManager's ejector ------------------------------------------------- */

static void ejector_run(sim_engine *sim, void *ctx, uint64_t arg);

/* now - lastActiveTime on the server's own clock, which a clock fault can
 * move back past the stamp (negative: not idle). */
static int64_t idle_ns(sim_engine *sim, const distro_node *node, const distro2_conn *k)
{
    return (int64_t)sim_node_now(sim, node->id) - (int64_t)k->last_active_ns;
}

static void ejector_unregister(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    /* The probes sent 5 s ago: an SDK that died does not answer. */
    for (uint32_t conn = 0; conn < c->conn_count; conn++) {
        distro2_conn *k = &c->conns[conn];
        if (!k->open || k->server != node->id || k->subscriber) continue;   /* a live subscriber stays active */
        const distro2_sdk *s = &c->sdk[k->sdk];
        if (s->died_ns == SIM_TIME_NEVER ||
            idle_ns(sim, node, k) < (int64_t)(c->config.v2.connection_idle_ns + c->config.v2.detection_timeout_ns)) {
            continue;
        }
        k->open = false;
        distro_counters_of(node)->v2_connections_ejected++;
        distro2_client_remove(node, conn);
    }
    distro_timer(node, c->config.v2.ejector_interval_ns, DISTRO_KIND_V2_EJECTOR, ejector_run, 0);
}

static void ejector_run(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    bool outdated = false;
    /* Only a dead SDK's connection goes idle (see the top of this file):
     * with none dead, the scan below would find nothing. */
    for (uint32_t conn = 0; c->sdk_killed > 0 && conn < c->conn_count && !outdated; conn++) {
        const distro2_conn *k = &c->conns[conn];
        if (!k->open || k->server != node->id || k->subscriber || c->sdk[k->sdk].died_ns == SIM_TIME_NEVER) continue;
        outdated = idle_ns(sim, node, k) >= (int64_t)c->config.v2.connection_idle_ns;
    }
    if (outdated) {
        /* Probes out, then latch.await(5000): nobody dead answers. */
        distro_timer(node, c->config.v2.detection_timeout_ns, DISTRO_KIND_V2_EJECTOR, ejector_unregister, 0);
        return;
    }
    distro_timer(node, c->config.v2.ejector_interval_ns, DISTRO_KIND_V2_EJECTOR, ejector_run, 0);
}

void distro2_ejector_start(distro_node *node)
{
    node->v2->ejector_running = true;
    distro_timer(node, node->cluster->config.v2.ejector_initial_ns, DISTRO_KIND_V2_EJECTOR, ejector_run, 0);
}
