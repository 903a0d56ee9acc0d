/* distro2_ipport.c: IP-port clients of Nacos 2.5.1, the server side of a
 * 1.x SDK on a 2.x cluster (NACOS-DISTRO.md sections 1.6, 1.7, 3.1-3.3,
 * 3.5-3.8).  Nacos paths: N/ = naming/src/main/java/com/alibaba/nacos/naming/.
 *
 * Identity.  A 1.x SDK registers, deregisters and beats over HTTP /v1/ns
 * (model/distro_client.c).  The server side is an IpPortBasedClient with
 * id "ip:port#true" and responsibleId "ip:port"
 * (N/core/v2/client/impl/IpPortBasedClient.java:57-71).  Here it is an
 * entry of the cluster's client-id space (c->conns, flagged ipport, never
 * open), so the per-node client table, the delay tasks, verify, snapshot
 * and the service index treat both kinds alike; the harness client is
 * c->conns[id].sdk and its SDK entry's `conn` names the entry.
 *
 * Owner.  EphemeralIpPortClientManager.isResponsibleClient (:68-74) is
 * DistroMapper.responsible(responsibleId): the hash of "ip:port" in the
 * node's own view, not the node a connection reached.  DistroFilter routes
 * /v1/ns writes and beats by the same tag (N/web/DistroFilter.java,
 * DistroIpPortTagGenerator; section 1.7): the owner serves, another node
 * proxies once to mapSrv, and a proxied request reaching a non-owner is
 * answered 400.
 *
 * HTTP /v2/ns (and 3.0.3's /v3/client/ns) writes and beats are not routed
 * (section 3.15): the filter is registered for the /v1/ns paths only
 * (N/web/NamingConfig.java:31,49), and nothing else reads the @CanDistro
 * of InstanceControllerV2 (:106-196, beat :363-402).  The node that
 * receives one applies it as the owner would (the same
 * InstanceOperatorClientImpl calls), owner or not.  On a non-owner the
 * client exists only there: its ClientChangedEvent syncs nothing
 * (DistroClientDataProcessor.java:131, distro2_on_client_event), the beat
 * check skips it (the responsible interceptors below), verify leaves it
 * out (getVerifyData :281), and it leaves only through the cleaner, 180 s
 * after the last request there, with no DELETE.
 *
 * Writes on the owner (N/core/InstanceOperatorClientImpl.java:102-122,
 * N/core/v2/service/impl/EphemeralClientOperationServiceImpl.java:57-118).
 * Register creates the client if absent, puts the publisher (healthy,
 * lastHeartBeatTime now), lastUpdatedTime = now, revision = DistroUtils.hash
 * (distro2_revision.c) and raises ClientChangedEvent (AbstractClient.java:81),
 * whatever the old content.  Deregister of an absent client does nothing;
 * otherwise it removes the publisher (an event only if one was removed),
 * lastUpdatedTime = now, and recomputes the revision unconditionally, which
 * for an IP-port client changes nothing when nothing was removed.  The
 * client itself stays, empty, until the cleaner below.
 *
 * Beats (InstanceOperatorClientImpl.handleBeat :221-249,
 * N/healthcheck/heartbeat/ClientBeatProcessorV2.java:51-77).  A beat for
 * an absent client or service registers from the beat body, or without one
 * answers 20404 (the SDK registers again); else lastUpdatedTime = now, the
 * instance's lastHeartBeatTime = now, and an unhealthy instance turns
 * healthy with a ClientChangedEvent.  The revision is not recomputed
 * (section 3.6, weak point W13 of section 6).  The reply names the next beat
 * (getHeartBeatInterval :252-267: the instance's preserved.heart.beat
 * .interval, else clientBeatInterval), as 1.4.2's does.
 *
 * Beat check (N/healthcheck/heartbeat/ClientBeatCheckTaskV2.java,
 * HealthCheckReactor.scheduleCheck: 5 s, then every 5 s, from the
 * client's creation on every node that holds it; cancelled when the client
 * is released).  Interceptors: the healthCheckEnabled switch
 * (interceptor/HealthCheckEnableInterceptor.java:31-36), responsible
 * (HealthCheckResponsibleInterceptor.java:31-33), then per instance
 * enableClientBeat in its metadata (InstanceEnableBeatCheckInterceptor
 * .java:43-46: a value reading true skips the check) and responsible again
 * (InstanceBeatCheckResponsibleInterceptor.java:31-33).  Then
 * UnhealthyInstanceChecker (:48-84: healthy and now - lastHeartBeatTime >
 * preserved.heart.beat.timeout, 15 s: healthy = false, ClientChangedEvent,
 * revision unchanged) and ExpiredInstanceChecker (:49-84: expireInstance
 * and now - lastHeartBeatTime > preserved.ip.delete.timeout, 30 s: the
 * publisher is removed, ClientChangedEvent, revision unchanged).  Service
 * metadata (ServiceEnableBeatCheckInterceptor) is not modelled: none is set.
 *
 * Cleaner (EphemeralIpPortClientManager.ExpiredClientCleaner :94-130,
 * every 5 s from 0 on every node): a client whose lastUpdatedTime is more
 * than 30 s old (Constants.DEFAULT_IP_DELETE_TIMEOUT, fixed) and that
 * publishes nothing, or more than clientExpiredTime (180 s) old, is removed
 * (clientDisconnected :39-51): ClientDisconnectEvent with this node's
 * isResponsible, so the owner sends DELETE and others only drop it.  An
 * IP-port client subscribes nothing here (readers are separate clients).
 *
 * Replicas (DistroClientDataProcessor.handlerClientSyncData :158-197).
 * syncClientConnected creates the client if absent (its beat-check task
 * too, lastUpdatedTime now).  A publisher that differs from the local one
 * (InstancePublishInfo.equals: ip, port, healthy, extendDatum; here only
 * `healthy` can differ) replaces it: a new HealthCheckInstancePublishInfo
 * whose lastHeartBeatTime is the receive time, and a ClientChangedEvent; a
 * service absent from the data is removed, with an event.  The revision is
 * the sender's.  The event is re-tested with the receiver's own mapper
 * (:131): a receiver that thinks it owns the client re-broadcasts CHANGE
 * (after a snapshot load too); the echo ends after one round because equal
 * content raises no event.  Verify renews a replica (EphemeralIpPortClient
 * Manager.verifyClient :77-92, ClientBeatUpdateTask: lastHeartBeatTime and
 * lastUpdatedTime now; distro2_verify.c). */
#include "distro2_int.h"
#include "distro2_revision.h"
#include "distro_hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROXY_BYTES 420u
#define PROXY_RESP_BYTES 64u
#define EMPTY_CLIENT_EXPIRED_MS 30000   /* Constants.DEFAULT_IP_DELETE_TIMEOUT, not configurable */

/* --- identity and owner ------------------------------------------------------ */

uint32_t distro2_ipport_add(distro_cluster *c, uint32_t client)
{
    if (!SIM_VEC_RESERVE(c->conns, c->conn_count, c->conn_cap, 1)) {
        distro_fail_nomem(c, "ip-port client");
        return DISTRO_NONE;
    }
    uint32_t id = c->conn_count++;
    c->conns[id] = (distro2_conn){
        .sdk = client, .server = DISTRO_NONE, .open = false, .ipport = true,
        .tag_hash = distro_hash(c->clients[client].address), .last_active_ns = 0,
    };
    c->sdk[client].conn = id;
    return id;
}

bool distro2_conn_ipport(const distro_cluster *c, uint32_t conn) { return conn < c->conn_count && c->conns[conn].ipport; }

/* DistroMapper.responsible / mapSrv for the tag "ip:port" (section 1.6). */
bool distro2_ipport_responsible(const distro_node *node, uint32_t conn)
{
    const distro_cluster *c = node->cluster;
    if (!c->config.distro_enabled) return true;
    if (node->healthy_count == 0) return false;
    if (node->self_index < 0) return true;   /* W12: self missing from its own list */
    return c->conns[conn].tag_hash % node->healthy_count == (uint32_t)node->self_index;
}

static uint32_t map_srv(const distro_node *node, uint32_t conn)
{
    const distro_cluster *c = node->cluster;
    if (node->healthy_count == 0 || !c->config.distro_enabled) return node->id;
    return node->healthy[c->conns[conn].tag_hash % node->healthy_count];
}

static const distro_client *harness_client(const distro_node *node, uint32_t conn)
{
    return &node->cluster->clients[node->cluster->conns[conn].sdk];
}

/* --- revision -------------------------------------------------------------------- */

/* DistroUtils.hash of the client as `node` holds it: its id and, when it
 * publishes, the InstancePublishInfo getPublishInfo builds from the 1.x
 * register (ClientOperationService.getPublishInfo: metadata as extendDatum,
 * publishInstanceWeight when the weight is not 1.0, the cluster name). */
static int64_t revision_of(const distro_node *node, uint32_t conn, const distro2_client *client)
{
    const distro_cluster *c = node->cluster;
    const distro_client *cl = harness_client(node, conn);
    char id[128];
    snprintf(id, sizeof id, "%s#true", cl->address);
    if (client->key == DISTRO_NONE) return distro2_ipport_revision(id, NULL, 0);
    const distro_key_info *k = &c->keys[client->key];
    const char *sep = strstr(k->tag, "@@");
    char group[160];
    size_t glen = sep != NULL ? (size_t)(sep - k->tag) : 0;
    if (glen >= sizeof group) glen = sizeof group - 1;
    memcpy(group, k->tag, glen);
    group[glen] = '\0';
    distro2_extend ext[64 + 1];
    uint32_t n = 0;
    for (uint32_t i = 0; i < cl->metadata_count && n < 64; i++) {
        ext[n++] = (distro2_extend){ .key = cl->metadata[i].key,
                                     .value = { .kind = DISTRO2_VALUE_STRING, .s = cl->metadata[i].value } };
    }
    if (cl->weight != 1.0) {
        ext[n++] = (distro2_extend){ .key = DISTRO2_PUBLISH_WEIGHT,
                                     .value = { .kind = DISTRO2_VALUE_DOUBLE, .d = cl->weight } };
    }
    distro2_publish pub = {
        .namespace_id = k->ns, .group = group, .service = sep != NULL ? sep + 2 : k->tag, .ephemeral = true,
        .ip = cl->ip, .port = cl->port, .healthy = client->healthy, .cluster = cl->cluster_name,
        .extend = ext, .extend_count = n,
    };
    return distro2_ipport_revision(id, &pub, 1);
}

/* --- the client table -------------------------------------------------------------- */

static void beat_check(sim_engine *sim, void *ctx, uint64_t arg);

distro2_client *distro2_ipport_connected(distro_node *node, uint32_t conn, int64_t revision)
{
    distro2_client *client = distro2_client_get(node, conn);
    if (client != NULL) return client;   /* computeIfAbsent keeps the object */
    client = distro2_client_connected(node, conn, false, revision);
    if (client == NULL) return NULL;
    /* IpPortBasedClient.init: its ClientBeatCheckTaskV2, 5 s from now. */
    client->ipport = true;
    client->last_beat_ms = distro_now_ms(node);
    client->check_gen = ++node->v2->check_gen;
    distro_timer(node, node->cluster->config.beat_check_interval_ns, DISTRO_KIND_BEAT_CHECK, beat_check,
                 ((uint64_t)client->check_gen << 32) | conn);
    return client;
}

/* addServiceInstance of the client's one service with `healthy`, a fresh
 * lastHeartBeatTime, and (`raise`, always in Nacos) its ClientChangedEvent. */
static void put_publisher(distro_node *node, uint32_t conn, uint32_t key, bool healthy, bool raise)
{
    distro2_client *client = distro2_client_get(node, conn);
    bool flip = client->key == key && client->healthy != healthy;
    client->healthy = healthy;
    client->last_beat_ms = distro_now_ms(node);
    distro2_client_publish(node, conn, key);
    if (flip) distro2_client_refresh(node, conn);
    client = distro2_client_get(node, conn);
    if (client != NULL && raise) distro2_on_client_event(node, conn, false, false);
}

/* removeServiceInstance: true (and a ClientChangedEvent) when it published. */
static bool remove_publisher(distro_node *node, uint32_t conn)
{
    distro2_client *client = distro2_client_get(node, conn);
    if (client->key == DISTRO_NONE) return false;
    distro2_client_publish(node, conn, DISTRO_NONE);
    distro2_on_client_event(node, conn, false, false);
    return true;
}

/* The health flag moved without a new publisher (beat check, beat): the
 * service's list is rebuilt and a ClientChangedEvent raised; the revision
 * stays (W13). */
static void set_health(distro_node *node, uint32_t conn, bool healthy)
{
    distro2_client *client = distro2_client_get(node, conn);
    client->healthy = healthy;
    distro2_client_refresh(node, conn);
    distro2_on_client_event(node, conn, false, false);
}

void distro2_ipport_apply_sync(distro_node *node, uint32_t conn, int64_t revision, uint32_t key, bool healthy)
{
    distro2_client *client = distro2_ipport_connected(node, conn, revision);
    if (client == NULL) return;
    if (key != DISTRO_NONE && (client->key != key || client->healthy != healthy)) {
        put_publisher(node, conn, key, healthy, true);   /* not equal: replace, event (re-broadcast on an owner) */
    } else if (key == DISTRO_NONE) {
        (void)remove_publisher(node, conn);
    }
    client = distro2_client_get(node, conn);
    if (client != NULL) client->revision = revision;
}

/* --- writes and beats on the owner --------------------------------------------------- */

static void do_register(distro_node *node, uint32_t conn)
{
    distro2_client *client = distro2_ipport_connected(node, conn, 0);   /* createIpPortClientIfAbsent */
    if (client == NULL) return;
    put_publisher(node, conn, harness_client(node, conn)->key, true, true);
    client = distro2_client_get(node, conn);
    client->last_renew_ms = distro_now_ms(node);   /* setLastUpdatedTime */
    client->revision = revision_of(node, conn, client);
}

static void do_deregister(distro_node *node, uint32_t conn)
{
    distro2_client *client = distro2_client_get(node, conn);
    if (client == NULL) return;   /* "remove instance from non-exist client" */
    (void)remove_publisher(node, conn);
    client = distro2_client_get(node, conn);
    client->last_renew_ms = distro_now_ms(node);
    client->revision = revision_of(node, conn, client);   /* unconditional: the same hash when nothing left */
}

static int32_t do_beat(distro_node *node, uint32_t conn, bool with_body)
{
    distro_counters *k = distro_counters_of(node);
    uint32_t key = harness_client(node, conn)->key;
    distro2_client *client = distro2_client_get(node, conn);
    if (client == NULL || client->key != key) {
        if (!with_body) return 20404;   /* RESOURCE_NOT_FOUND: the SDK registers again */
        k->beat_reregisters++;
        do_register(node, conn);
        client = distro2_client_get(node, conn);
        if (client == NULL) return 500;
    }
    k->beats_received++;
    /* ClientBeatProcessorV2, then setLastUpdatedTime. */
    client->last_beat_ms = distro_now_ms(node);
    client->last_renew_ms = client->last_beat_ms;
    if (!client->healthy) set_health(node, conn, true);
    return 200;
}

static int32_t handle(distro_node *node, uint32_t conn, uint8_t op, bool with_body)
{
    switch ((distro_op)op) {
    case DISTRO_OP_REGISTER: do_register(node, conn); return 200;
    case DISTRO_OP_DEREGISTER: do_deregister(node, conn); return 200;
    case DISTRO_OP_BEAT: return do_beat(node, conn, with_body);
    }
    SIM_ASSERT(0 && "unknown operation");
    return 500;
}

/* --- DistroFilter by ip:port ------------------------------------------------------------ */

void distro2_ipport_on_client_request(distro_node *node, uint32_t client, uint8_t op, bool with_body,
                                      uint32_t request_id)
{
    distro_cluster *c = node->cluster;
    uint32_t conn = c->sdk[client].conn;
    SIM_ASSERT(distro2_conn_ipport(c, conn));
    bool owner = distro2_ipport_responsible(node, conn);
    if (owner || c->clients[client].http_v2) {
        if (!owner) distro_counters_of(node)->v2_http_not_owner++;   /* /v2/ns: no DistroFilter */
        distro_client_respond(c, node->id, client, request_id, handle(node, conn, op, with_body));
        return;
    }
    distro_counters_of(node)->redirects_proxied++;
    distro_msg *msg = distro_msg_new(c, DISTRO_MSG_PROXY, 0);
    if (msg == NULL) {
        distro_fail_nomem(c, "proxy");
        return;
    }
    msg->source = node->id;
    msg->client = client;
    msg->op = op;
    msg->with_body = with_body;
    distro_call(node, map_srv(node, conn), DISTRO_MSG_PROXY, PROXY_BYTES, msg, distro_filter_proxy_done,
                ((uint64_t)client << 32) | request_id);
}

void distro2_ipport_on_proxy(distro_node *node, const sim_message *msg, distro_token token)
{
    const distro_msg *m = (const distro_msg *)msg->payload;
    distro_cluster *c = node->cluster;
    distro_msg *resp = distro_msg_new(c, DISTRO_MSG_PROXY_RESP, 0);
    if (resp == NULL) {
        distro_fail_nomem(c, "proxy receiver");
        return;
    }
    uint32_t conn = c->sdk[m->client].conn;
    if (distro2_ipport_responsible(node, conn)) {
        resp->code = handle(node, conn, m->op, m->with_body);
    } else {
        distro_counters_of(node)->redirects_rejected++;   /* Nacos-Server agent: never proxied twice */
        resp->code = 400;
    }
    distro_reply(node, token, DISTRO_MSG_PROXY_RESP, PROXY_RESP_BYTES, resp);
}

/* --- beat check --------------------------------------------------------------------------- */

/* A metadata timeout in ms (preserved.*), else `fallback_ns`. */
static int64_t metadata_ms(const distro_client *cl, const char *name, sim_time_ns fallback_ns)
{
    for (uint32_t i = 0; i < cl->metadata_count; i++) {
        if (strcmp(cl->metadata[i].key, name) != 0) continue;
        char *end = NULL;
        long long v = strtoll(cl->metadata[i].value, &end, 10);
        if (end != cl->metadata[i].value && *end == '\0' && v >= 0) return v;
    }
    return (int64_t)(fallback_ns / SIM_MS);
}

/* InstanceEnableBeatCheckInterceptor: enableClientBeat reading true
 * (ConvertUtils.toBoolean, case-insensitive) skips the checkers. */
static bool beat_check_off(const distro_client *cl)
{
    for (uint32_t i = 0; i < cl->metadata_count; i++) {
        if (strcmp(cl->metadata[i].key, "enableClientBeat") == 0) return strcasecmp(cl->metadata[i].value, "true") == 0;
    }
    return false;
}

static void beat_check(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    uint32_t conn = (uint32_t)arg;
    distro2_client *client = distro2_client_get(node, conn);
    if (client == NULL || client->check_gen != (uint32_t)(arg >> 32)) return;   /* released: cancelled */
    distro_timer(node, c->config.beat_check_interval_ns, DISTRO_KIND_BEAT_CHECK, beat_check, arg);
    if (!c->config.health_check_enabled || !distro2_ipport_responsible(node, conn)) return;
    const distro_client *cl = harness_client(node, conn);
    if (client->key == DISTRO_NONE || beat_check_off(cl)) return;
    int64_t idle = distro_now_ms(node) - client->last_beat_ms;
    if (client->healthy && idle > metadata_ms(cl, "preserved.heart.beat.timeout", c->config.heartbeat_timeout_ns)) {
        distro_counters_of(node)->instances_marked_unhealthy++;
        set_health(node, conn, false);
    }
    client = distro2_client_get(node, conn);
    if (client != NULL && client->key != DISTRO_NONE && c->config.expire_instance &&
        idle > metadata_ms(cl, "preserved.ip.delete.timeout", c->config.ip_delete_timeout_ns)) {
        uint32_t key = client->key;
        (void)remove_publisher(node, conn);
        distro_counters_of(node)->instances_expired++;
        if (c->observer.instance_expired != NULL) {
            c->observer.instance_expired(c->observer.ctx, sim_now(c->sim), node->id, key, cl->ip, cl->port);
        }
    }
}

/* --- cleaner -------------------------------------------------------------------------------- */

void distro2_ipport_clean(distro_node *node)
{
    distro2_node *v2 = node->v2;
    int64_t now = distro_now_ms(node);
    int64_t expired_ms = (int64_t)(node->cluster->config.v2.client_expired_ns / SIM_MS);
    for (uint32_t conn = 0; conn < v2->clients_cap; conn++) {
        const distro2_client *client = &v2->clients[conn];
        if (!client->present || !client->ipport) continue;
        int64_t idle = now - client->last_renew_ms;
        if ((client->key == DISTRO_NONE && idle > EMPTY_CLIENT_EXPIRED_MS) || idle > expired_ms) {
            distro_counters_of(node)->v2_ipport_clients_expired++;
            distro2_client_remove(node, conn);   /* ClientDisconnectEvent: the owner sends DELETE */
        }
    }
}
