/* distro_filter.c: DistroFilter, InstanceController and the ServiceManager
 * writes of Nacos 1.4.2 (NACOS-DISTRO.md sections 1.7, 2.2, 2.7).
 *
 * A client write or beat reaching a node that is not the owner of the
 * service (in that node's view) is proxied to mapSrv(tag), with 2 s + 2 s
 * timeouts; a proxied request reaching a node that is not the owner either
 * is rejected with HTTP 400, never forwarded twice (W8).  A node whose
 * status is not UP (warm-up, distro_load.c; no JRaft leader after the
 * version switch, distro_raft.c) answers 503 to client requests.
 *
 * Writes on the owner rebuild the service's list (register replaces by
 * ip:port:cluster and stamps lastBeat = now, keeping the healthy flag of an
 * instance already listed, as Cluster.updateIps does; deregister removes;
 * a deregister for a service the node does not know answers 200 and
 * changes nothing), store it and sync it: put -> sync(key, CHANGE, 1000 ms).
 * The beat check's DELETE to itself carries the Nacos-Server agent, so a
 * node that lost the tag meanwhile rejects it with 400, as any proxied
 * request.  A beat for an unknown
 * instance re-registers it when it carries its body, and answers 20404
 * otherwise (the client then registers); a beat never syncs. */
#include "distro_int.h"
#include "distro2_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PROXY_BYTES 420u
#define PROXY_RESP_BYTES 64u

typedef struct instance_ref {
    uint32_t client;             /* DISTRO_NONE: identity only */
    const char *ip;
    uint32_t port;
    const char *cluster;
} instance_ref;

static instance_ref ref_of_client(const distro_cluster *c, uint32_t client)
{
    const distro_client *cl = &c->clients[client];
    return (instance_ref){ .client = client, .ip = cl->ip, .port = cl->port, .cluster = cl->cluster_name };
}

static double clamp_weight(double w)
{
    if (!(w >= 0.0)) return 0.0;            /* negative or NaN */
    if (w > 10000.0) return 10000.0;
    if (w > 0.0 && w < 0.01) return 0.01;
    return w;
}

/* ServiceManager.addInstance: the instance as the client sent it. */
static void add_instance(distro_node *node, uint32_t key, uint32_t client)
{
    const distro_client *cl = &node->cluster->clients[client];
    distro_ilist *list = distro_store_get(node, key);
    distro_ilist *next = list != NULL ? distro_ilist_clone(list) : distro_ilist_new(1);
    if (next == NULL) {
        distro_fail_nomem(node->cluster, "addInstance");
        return;
    }
    uint32_t i = distro_ilist_find(next, cl->ip, cl->port, cl->cluster_name);
    bool healthy = true;
    if (i == DISTRO_NONE) {
        if (next->count == next->cap) {
            distro_ilist *grown = distro_ilist_reserve(next, next->cap == 0 ? 2 : next->cap * 2);
            if (grown == NULL) {
                distro_ilist_release(next);
                distro_fail_nomem(node->cluster, "addInstance");
                return;
            }
            next = grown;
        }
        i = next->count++;
    } else {
        healthy = next->inst[i].healthy;    /* the checker's flag stands */
    }
    distro_instance *in = &next->inst[i];
    memset(in, 0, sizeof *in);
    in->ip = cl->ip;
    in->port = cl->port;
    in->weight = clamp_weight(cl->weight);
    in->healthy = healthy;
    in->enabled = true;
    in->ephemeral = true;
    in->cluster = cl->cluster_name;
    in->metadata = cl->metadata;
    in->metadata_count = cl->metadata_count;
    in->last_beat_ms = distro_now_ms(node);
    next->checksum_valid = next->service_checksum_valid = false;
    distro_store_put(node, key, next);
    distro_sync_put(node, key);
}

/* ServiceManager.removeInstance: put the list without it, changed or not.
 * *removed: whether the instance was listed. */
static int32_t remove_instance(distro_node *node, uint32_t key, const instance_ref *ref, bool *removed)
{
    *removed = false;
    distro_datum *d = key < node->datums_cap ? &node->datums[key] : NULL;
    if (d == NULL || !d->service_exists) return 200;     /* InstanceController: "ok", nothing done */
    distro_ilist *list = d->value;
    distro_ilist *next = list != NULL ? distro_ilist_clone(list) : distro_ilist_new(0);
    if (next == NULL) {
        distro_fail_nomem(node->cluster, "removeInstance");
        return 500;
    }
    uint32_t i = distro_ilist_find(next, ref->ip, ref->port, ref->cluster);
    if (i != DISTRO_NONE) {
        memmove(&next->inst[i], &next->inst[i + 1], (next->count - i - 1) * sizeof *next->inst);
        next->count--;
        next->checksum_valid = next->service_checksum_valid = false;
        *removed = true;
    }
    distro_store_put(node, key, next);
    distro_sync_put(node, key);
    return 200;
}

static int32_t beat(distro_node *node, uint32_t key, uint32_t client, bool with_body)
{
    distro_counters *counters = distro_counters_of(node);
    const distro_client *cl = &node->cluster->clients[client];
    distro_ilist *list = distro_store_get(node, key);
    bool known = list != NULL && distro_ilist_find(list, cl->ip, cl->port, cl->cluster_name) != DISTRO_NONE;
    if (!known) {
        if (!with_body) return 20404;        /* RESOURCE_NOT_FOUND: the client re-registers */
        counters->beat_reregisters++;
        add_instance(node, key, client);     /* "data compensation" from the beat body */
    }
    counters->beats_received++;
    distro_health_on_beat(node, key, client);
    return 200;
}

/* The controller method, on the node DistroFilter let through. */
static int32_t handle(distro_node *node, uint32_t key, uint8_t op, const instance_ref *ref, bool with_body,
                      bool *removed)
{
    *removed = false;
    switch ((distro_op)op) {
    case DISTRO_OP_REGISTER:
        SIM_ASSERT(ref->client != DISTRO_NONE);
        add_instance(node, key, ref->client);
        return 200;
    case DISTRO_OP_DEREGISTER:
        return remove_instance(node, key, ref, removed);
    case DISTRO_OP_BEAT:
        SIM_ASSERT(ref->client != DISTRO_NONE);
        return beat(node, key, ref->client, with_body);
    }
    SIM_ASSERT(0 && "unknown operation");
    return 500;
}

void distro_filter_proxy_done(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    uint32_t client = (uint32_t)(arg >> 32);
    uint32_t request_id = (uint32_t)arg;
    int32_t code = 500;                       /* the error message is relayed */
    if (status == SIM_RPC_OK) {
        code = ((const distro_msg *)resp->payload)->code;
    } else {
        distro_counters_of(node)->redirects_failed++;
    }
    if (client != DISTRO_NONE) distro_client_respond(node->cluster, node->id, client, request_id, code);
}

static void proxy(distro_node *node, uint32_t key, uint8_t op, const instance_ref *ref, bool with_body,
                  uint32_t request_id)
{
    distro_counters_of(node)->redirects_proxied++;
    distro_msg *msg = distro_msg_new(node->cluster, DISTRO_MSG_PROXY, 0);
    if (msg == NULL) {
        distro_fail_nomem(node->cluster, "proxy");
        return;
    }
    msg->source = node->id;
    msg->client = ref->client;
    msg->key = key;
    msg->ip = ref->ip;
    msg->port = ref->port;
    msg->cluster_name = ref->cluster;
    msg->op = op;
    msg->with_body = with_body;
    uint64_t arg = ((uint64_t)ref->client << 32) | request_id;
    uint32_t target = distro_mapper_map_srv(node, key);
    /* The owner reads its datum for this key when the request lands, a
     * round trip from now, and its instance list through it: loading the
     * datum now lets the arrival's hint (distro_filter_proxy_prefetch)
     * find the list's address without a miss of its own. */
    const distro_node *owner = &node->cluster->nodes[target];
    if (key < owner->datums_cap) __builtin_prefetch(&owner->datums[key]);
    distro_call(node, target, DISTRO_MSG_PROXY, PROXY_BYTES, msg, distro_filter_proxy_done, arg);
}

void distro_filter_proxy_prefetch(const distro_cluster *c, uint32_t server, const distro_msg *msg)
{
    /* The beat, register or deregister reads the list's header and its
     * first instances (a service of a few instances: all of them). */
    const distro_node *node = &c->nodes[server];
    if (msg->type != DISTRO_MSG_PROXY || node->v2 != NULL || msg->key >= node->datums_cap) return;
    const char *list = (const char *)node->datums[msg->key].value;
    if (list == NULL) return;
    const size_t span = sizeof(distro_ilist) + 2 * sizeof(distro_instance);
    for (size_t off = 0; off < span; off += 64) __builtin_prefetch(list + off);
    __builtin_prefetch(list + span - 1);
}

/* Constants.DEFAULT_HEART_BEAT_INTERVAL (api/.../common/Constants.java:171). */
#define DEFAULT_HEART_BEAT_INTERVAL_MS 5000

/* Instance.getInstanceHeartBeatInterval (api/.../naming/pojo/Instance.java:
 * 217-220, 250-258): the metadata value when it is all digits, else 5000.
 * Digits past a Java long make Long.parseLong throw, so the controller
 * fails and the client reads no reply (0); a value past any run is capped
 * where the clock cannot overflow. */
static sim_time_ns instance_beat_interval_ns(const char *value)
{
    if (value[0] == '\0' || strspn(value, "0123456789") != strlen(value)) {
        return DEFAULT_HEART_BEAT_INTERVAL_MS * SIM_MS;
    }
    errno = 0;
    unsigned long long ms = strtoull(value, NULL, 10);
    if (errno == ERANGE || ms > (unsigned long long)INT64_MAX) return 0;
    const sim_time_ns cap = SIM_TIME_NEVER / 4;
    return ms > cap / SIM_MS ? cap : (sim_time_ns)ms * SIM_MS;
}

sim_time_ns distro_filter_beat_reply_interval(const distro_cluster *c, uint32_t client, int32_t code)
{
    /* Every beat reply carries the switch's clientBeatInterval, the 20404
     * one included (InstanceController.java:470, :497-500); a 200 reply
     * for an instance with preserved.heart.beat.interval metadata carries
     * that instead (:534-536).  The listed instance's metadata is what its
     * client sent, so it is read from the client.  Other answers are
     * errors: the client reads no reply (0). */
    const distro_client *cl = &c->clients[client];
    if (code == 20404) return c->config.client_beat_interval_ns;
    if (code != 200) return 0;
    for (uint32_t i = 0; i < cl->metadata_count; i++) {
        if (strcmp(cl->metadata[i].key, "preserved.heart.beat.interval") == 0) {
            return instance_beat_interval_ns(cl->metadata[i].value);
        }
    }
    return c->config.client_beat_interval_ns;
}

/* The beat check's DELETE to itself removed an instance (section 2.7). */
static void expired(distro_node *node, uint32_t key, const instance_ref *ref)
{
    distro_cluster *c = node->cluster;
    distro_counters_of(node)->instances_expired++;
    if (c->observer.instance_expired != NULL) {
        c->observer.instance_expired(c->observer.ctx, sim_now(c->sim), node->id, key, ref->ip, ref->port);
    }
}

void distro_filter_on_client_request(distro_node *node, uint32_t client, uint8_t op, bool with_body,
                                     uint32_t request_id)
{
    distro_cluster *c = node->cluster;
    if (!node->status_up) {                  /* TrafficReviseFilter: warm-up gate */
        distro_counters_of(node)->requests_503++;
        if (c->observer.answered_503 != NULL) c->observer.answered_503(c->observer.ctx, sim_now(c->sim), node->id, client);
        distro_client_respond(c, node->id, client, request_id, 503);
        return;
    }
    if (node->v2 != NULL) {                  /* 2.x: routed by ip:port (distro2_ipport.c) */
        distro2_ipport_on_client_request(node, client, op, with_body, request_id);
        return;
    }
    uint32_t key = c->clients[client].key;
    instance_ref ref = ref_of_client(c, client);
    if (distro_mapper_responsible(node, key)) {
        bool removed = false;
        distro_client_respond(c, node->id, client, request_id, handle(node, key, op, &ref, with_body, &removed));
        return;
    }
    proxy(node, key, op, &ref, with_body, request_id);
}

void distro_filter_on_proxy(distro_node *node, const sim_message *msg, distro_token token)
{
    if (node->v2 != NULL) {
        distro2_ipport_on_proxy(node, msg, token);
        return;
    }
    const distro_msg *m = (const distro_msg *)msg->payload;
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_PROXY_RESP, 0);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "proxy receiver");
        return;
    }
    if (distro_mapper_responsible(node, m->key)) {
        instance_ref ref = { .client = m->client, .ip = m->ip, .port = m->port, .cluster = m->cluster_name };
        bool removed = false;
        resp->code = handle(node, m->key, m->op, &ref, m->with_body, &removed);
        if (m->client == DISTRO_NONE && removed) expired(node, m->key, &ref);
    } else {
        /* The User-Agent says Nacos-Server: never proxy twice. */
        distro_counters_of(node)->redirects_rejected++;
        resp->code = 400;
    }
    distro_reply(node, token, DISTRO_MSG_PROXY_RESP, PROXY_RESP_BYTES, resp);
}

void distro_filter_local_delete(distro_node *node, uint32_t key, const char *ip, uint32_t port, const char *cluster)
{
    instance_ref ref = { .client = DISTRO_NONE, .ip = ip, .port = port, .cluster = cluster };
    if (distro_mapper_responsible(node, key)) {
        bool removed = false;
        (void)remove_instance(node, key, &ref, &removed);
        if (removed) expired(node, key, &ref);
        return;
    }
    /* DistroFilter on this node: not the owner, and the agent is
     * Nacos-Server, so 400 "invalid redirect"; the DELETE is dropped. */
    distro_counters_of(node)->redirects_rejected++;
}
