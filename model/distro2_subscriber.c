/* distro2_subscriber.c: a 2.x naming SDK subscriber of Nacos 2.5.1 over
 * gRPC (NACOS-DISTRO.md section 3.12).  Nacos path: CL/ =
 * client/src/main/java/com/alibaba/nacos/client/naming/, at tag 2.5.1.
 *
 * Connection.  As the 2.x SDK clients of distro2_sdk.c (RpcClient): one
 * connection at a time, to a random server of its list first (drawn from
 * the reader's own stream), the next one after a refused connect, with a
 * pause of min(turn + 1, 50) x 100 ms after each full turn of the list.
 * The connection makes a native ConnectionBasedClient with revision 0 and
 * no event on its server (ConnectionBasedClientManager.clientConnected), so
 * a subscriber-only client is replicated only by verify: each peer rejects
 * the unknown client, the owner raises ClientVerifyFailedEvent and sends
 * an ADD (distro2_verify.c), an empty client that is verified every 5 s from
 * then on.  When its server's process dies the stream breaks and it
 * reconnects to the next server.
 *
 * Subscribe.  NacosNamingService.subscribe -> NamingClientProxyDelegate
 * .subscribe (CL/remote/NamingClientProxyDelegate.java:164-175) ->
 * NamingGrpcClientProxy.subscribe (CL/remote/gprc/NamingGrpcClientProxy
 * .java:378-398): the redo data is cached, then a SubscribeServiceRequest
 * whose answer is the server's list of the service at that instant
 * (SubscribeServiceRequestHandler.java:71-94), which processServiceInfo
 * takes as the view.  The asynchronous UpdateTask polling is off by
 * default (ServiceInfoUpdateService.scheduleUpdateIfAbsent returns unless
 * namingAsyncQuerySubscribeService, :102-105), so from then on only pushes
 * change the view.  A request unanswered within 3000 ms throws
 * (RpcClient's request timeout): the redo data stays unregistered.
 *
 * Redo.  NamingGrpcRedoService marks the subscriber unregistered when the
 * connection breaks; RedoScheduledTask (CL/remote/gprc/redo/
 * RedoScheduledTask.java:105-136), every 3 s from the SDK's creation,
 * subscribes again on the new connection and drops the answer (:127): the
 * view changes with the push that the new server's ServiceSubscribedEvent
 * schedules (distro2_push.c), 500 ms later.  Until then the view keeps its
 * last list.
 *
 * Push.  NamingPushRequestHandler hands a NotifySubscriberRequest to
 * ServiceInfoHolder.processServiceInfo (CL/cache/ServiceInfoHolder.java:
 * 120-152) and acks.  processServiceInfo replaces the view, except that
 * with pushEmptyProtection a list with no valid host is ignored (:128-133,
 * :154-156), as in the 1.x HostReactor.  A push that arrives after its
 * connection broke is lost with the connection.
 *
 * The client-server path is distro_client.c's (a fixed latency, not cut by
 * server partitions); a paused server holds the subscribe request and the
 * push tasks.  Simplification: the subscribe answer reads the node's list
 * itself, where Nacos reads ServiceStorage's cache of it, which the push
 * task refreshes (getData / getPushData); the two differ only while a
 * push task of the service is pending on that node, at most 600 ms. */
#include "distro2_int.h"

#include <stdlib.h>
#include <string.h>

#define SUBSCRIBE_TIMEOUT_NS (3000 * SIM_MS)   /* RpcClient request timeout, 3000 ms */
#define REQUEST_ID_MASK 0xffffffu

enum { SUB_INITIAL, SUB_REDO };

static uint64_t sub_arg(const distro_reader *rd, uint32_t reader) { return ((uint64_t)reader << 32) | rd->gen; }

static distro_reader *current(distro_cluster *c, uint64_t arg)
{
    uint32_t reader = (uint32_t)(arg >> 32);
    if (c->reads == NULL || reader >= c->reads->reader_count) return NULL;
    distro_reader *rd = &c->reads->readers[reader];
    return rd->grpc && rd->gen == (uint32_t)arg ? rd : NULL;
}

static void sub_event(distro_cluster *c, sim_time_ns delay_ns, uint16_t kind, sim_event_fn *fn, uint64_t arg)
{
    sim_error err;
    sim_status st = sim_schedule(c->sim, delay_ns, kind, fn, c, arg, NULL, &err);
    if (st != SIM_OK) sim_fail(c->sim, &err);
}

static void connect_attempt(sim_engine *sim, void *ctx, uint64_t arg);

static void schedule_connect(distro_cluster *c, uint32_t reader, sim_time_ns delay_ns)
{
    distro_reader *rd = &c->reads->readers[reader];
    rd->gen++;
    sub_event(c, delay_ns, DISTRO_KIND_V2_SDK, connect_attempt, sub_arg(rd, reader));
}

/* The redo task's next run after now (every redo_interval from creation). */
static sim_time_ns next_redo_delay(const distro_cluster *c, const distro_reader *rd)
{
    sim_time_ns period = c->config.v2.redo_interval_ns;
    return period - (sim_now(c->sim) - rd->created_ns) % period;
}

/* --- subscribe ------------------------------------------------------------------- */

static void redo(sim_engine *sim, void *ctx, uint64_t arg);

static void on_answer(sim_engine *sim, void *ctx, uint64_t arg)
{
    distro_cluster *c = ctx;
    uint32_t reader = (uint32_t)(arg >> 32);
    uint32_t request_id = (uint32_t)(arg >> 8) & REQUEST_ID_MASK;
    uint32_t server = (uint32_t)(arg & 0xffu);
    distro_reader *rd = &c->reads->readers[reader];
    if (!rd->in_request || rd->request_id != request_id || !rd->connected) return;   /* the connection broke */
    rd->in_request = false;
    if (sim_now(sim) - rd->sent_at_ns > SUBSCRIBE_TIMEOUT_NS) {
        /* The call threw: the redo data stays unregistered. */
        sub_event(c, next_redo_delay(c, rd), DISTRO_KIND_V2_SDK, redo, sub_arg(rd, reader));
        return;
    }
    rd->subscribed_on_conn = true;   /* redoService.subscriberRegistered */
    if (rd->purpose != SUB_INITIAL) return;   /* RedoScheduledTask drops the answer */
    (void)distro_reads_process_view(c, reader, &rd->answer, (int32_t)server, false);
    if (!rd->has_view) distro_reads_report_no_view(c, reader);   /* ignored by the protection: nothing to read */
}

/* SubscribeServiceRequestHandler.handle on the connection's server. */
static void server_subscribe(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    uint32_t reader = (uint32_t)(arg >> 32);
    uint32_t conn = (uint32_t)arg;
    if (conn >= c->conn_count || !c->conns[conn].open || c->conns[conn].server != node->id) return;
    if (distro2_client_get(node, conn) == NULL) return;
    distro_reader *rd = &c->reads->readers[reader];
    c->reads->grpc_subscribes++;
    bool answering = rd->in_request && rd->conn == conn;
    if (answering && !distro_reads_hosts_of(c, rd->key, distro_store_get(node, rd->key), &rd->answer)) {
        distro_fail_nomem(c, "subscribeService");
        return;
    }
    distro2_push_subscribe(node, conn, rd->key);
    if (answering) {
        SIM_ASSERT(node->id < 256);
        uint64_t back = ((uint64_t)reader << 32) | ((uint64_t)(rd->request_id & REQUEST_ID_MASK) << 8) | node->id;
        sub_event(c, c->client_latency_ns, DISTRO_KIND_READ_RESPONSE, on_answer, back);
    }
}

static void send_subscribe(distro_cluster *c, uint32_t reader, uint8_t purpose)
{
    distro_reader *rd = &c->reads->readers[reader];
    SIM_ASSERT(rd->connected && !rd->in_request);
    rd->in_request = true;
    rd->purpose = purpose;
    rd->request_id = (rd->request_id + 1) & REQUEST_ID_MASK;
    rd->sent_at_ns = sim_now(c->sim);
    distro_node *node = &c->nodes[c->conns[rd->conn].server];
    distro_timer(node, c->client_latency_ns, DISTRO_KIND_CLIENT_REQUEST, server_subscribe,
                 ((uint64_t)reader << 32) | rd->conn);
}

static void redo(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    distro_reader *rd = current(c, arg);
    if (rd == NULL || !rd->connected || rd->subscribed_on_conn || rd->in_request) return;
    send_subscribe(c, (uint32_t)(arg >> 32), SUB_REDO);
}

/* --- the connection ------------------------------------------------------------- */

static void connect_attempt(sim_engine *sim, void *ctx, uint64_t arg)
{
    distro_cluster *c = ctx;
    distro_reader *rd = current(c, arg);
    if (rd == NULL) return;
    uint32_t reader = (uint32_t)(arg >> 32);
    uint32_t server = rd->server_index % c->n;
    if (sim_node_state_get(sim, server) == SIM_NODE_DOWN || !c->nodes[server].running) {
        /* Refused: the next server, after a pause once per turn of the list. */
        rd->attempts++;
        rd->server_index = (rd->server_index + 1) % c->n;
        sim_time_ns pause = c->client_latency_ns;
        if (rd->attempts % c->n == 0) {
            uint32_t turns = rd->attempts / c->n;
            pause += (sim_time_ns)(turns < 50 ? turns : 50) * 100 * SIM_MS;
        }
        schedule_connect(c, reader, pause);
        return;
    }
    if (!SIM_VEC_RESERVE(c->conns, c->conn_count, c->conn_cap, 1)) {
        distro_fail_nomem(c, "subscriber connect");
        return;
    }
    uint32_t conn = c->conn_count++;
    c->conns[conn] = (distro2_conn){
        .sdk = reader, .server = server, .open = true, .last_active_ns = sim_node_now(sim, server), .subscriber = true,
    };
    if (distro2_client_connected(&c->nodes[server], conn, true, 0) == NULL) return;
    bool first = rd->conn == DISTRO_NONE;
    rd->conn = conn;
    rd->connected = true;
    rd->subscribed_on_conn = false;
    rd->attempts = 0;
    rd->gen++;
    if (first) {
        send_subscribe(c, reader, SUB_INITIAL);   /* the application's subscribe() */
    } else {
        sub_event(c, next_redo_delay(c, rd), DISTRO_KIND_V2_SDK, redo, sub_arg(rd, reader));
    }
}

static void subscriber_start(sim_engine *sim, void *ctx, uint64_t arg)
{
    distro_cluster *c = ctx;
    distro_reader *rd = &c->reads->readers[(uint32_t)arg];
    rd->created_ns = sim_now(sim);
    schedule_connect(c, (uint32_t)arg, 0);
}

void distro2_subscriber_start(distro_cluster *c, uint32_t reader, sim_time_ns delay_ns)
{
    distro_reader *rd = &c->reads->readers[reader];
    rd->grpc = true;
    rd->conn = DISTRO_NONE;
    rd->server_index = (uint32_t)sim_rng_below(&rd->rng, c->n);   /* RpcClient starts at a random server */
    c->reads->grpc_readers++;
    sub_event(c, delay_ns, DISTRO_KIND_READ_TIMER, subscriber_start, reader);
}

void distro2_subscriber_server_crashed(distro_cluster *c, uint32_t node)
{
    distro_reads *r = c->reads;
    if (r == NULL || r->grpc_readers == 0) return;
    /* In reader order: each live connection on it breaks, the SDK moves on. */
    for (uint32_t i = 0; i < r->reader_count; i++) {
        distro_reader *rd = &r->readers[i];
        if (!rd->grpc || !rd->connected || c->conns[rd->conn].server != node) continue;
        c->conns[rd->conn].open = false;
        rd->connected = false;
        rd->subscribed_on_conn = false;
        rd->in_request = false;
        rd->server_index = (rd->server_index + 1) % c->n;
        schedule_connect(c, i, c->client_latency_ns);
    }
}
