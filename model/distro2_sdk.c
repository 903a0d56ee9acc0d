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
 * and a crashed one never runs them. */
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

static void connect_attempt(sim_engine *sim, void *ctx, uint64_t arg)
{
    distro_cluster *c = ctx;
    if (!sdk_current(c, arg)) return;
    uint32_t id = (uint32_t)(arg >> 32);
    distro2_sdk *s = &c->sdk[id];
    distro_client *cl = &c->clients[id];
    if (!cl->alive) return;
    uint32_t server = s->server_index % c->n;
    if (sim_node_state_get(sim, server) == SIM_NODE_DOWN || !c->nodes[server].running) {
        /* Refused: the next server, after a pause once per turn of the list. */
        s->attempts++;
        s->server_index = (s->server_index + 1) % c->n;
        sim_time_ns pause = 2 * c->client_latency_ns;
        if (s->attempts % c->n == 0) {
            uint32_t turns = s->attempts / c->n;
            pause += (sim_time_ns)(turns < 50 ? turns : 50) * 100 * SIM_MS;
        }
        schedule_connect(c, id, pause);
        return;
    }
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
    if (!c->clients[client].manual) sdk_event(c, delay_ns, sdk_start, client);
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
