/* distro_health.c: health of ephemeral instances in Nacos 1.4.2
 * (NACOS-DISTRO.md sections 2.6(b, c) and 2.7): ClientBeatProcessor,
 * ClientBeatCheckTask and the health-status channel (ServiceReporter,
 * ServiceController.serviceStatus, InstanceController.listWithHealthStatus).
 *
 * Only the owner acts.  Beats reach the owner through DistroFilter and set
 * lastBeat in place: no put, no sync, so replicas keep the lastBeat of the
 * last datum transfer (W1).  The beat check runs every 5 s per service on
 * every node and returns unless the node is responsible: > 15 s without a
 * beat marks an instance unhealthy (locally only), > 30 s deletes it through
 * the node's own HTTP API, which then syncs the shorter list.  Health flags
 * reach replicas only through the status channel: first at 60 s, then 5 s
 * after each run, the owner posts {service: service checksum}; a receiver
 * whose checksum differs fetches ip:port_healthy for the service and sets
 * every local instance to the listed flag, false when unlisted. */
#include "distro_int.h"

#include <md5.h>
#include <stdlib.h>
#include <string.h>

/* preserved.heart.beat.timeout / preserved.ip.delete.timeout from the
 * instance metadata, else the configured default. */
static int64_t metadata_ms(const distro_instance *in, const char *name, sim_time_ns fallback_ns)
{
    for (uint32_t i = 0; i < in->metadata_count; i++) {
        if (strcmp(in->metadata[i].key, name) != 0) continue;
        char *end = NULL;
        long long v = strtoll(in->metadata[i].value, &end, 10);
        if (end != in->metadata[i].value && *end == '\0' && v >= 0) return v;
    }
    return (int64_t)(fallback_ns / SIM_MS);
}

static void local_delete_fire(sim_engine *sim, void *ctx, uint64_t arg);

/* Most checks find every instance beaten within its timeout, and reading
 * the list is most of their cost (a cache miss among thousands of
 * services).  An instance can be acted on only once the local clock passes
 * lastBeat + its heartbeat timeout (if healthy and not marked) or lastBeat +
 * its delete timeout (if expiry is on and it is not marked); the earliest of
 * these over the list is kept with the datum, computed by each check that
 * reads the list.  A new list (distro_store_put) or a beat that moves a
 * lastBeat earlier (the local clock stepped back) resets it, so the next
 * check reads the list again; any other beat only moves a lastBeat later,
 * so the kept value stays a lower bound, and a check at a local time not
 * past it finds nothing, as Nacos's does. */
static int64_t deadline_ms(const distro_node *node, const distro_ilist *list)
{
    const distro_config *cfg = &node->cluster->config;
    int64_t beat_ms = (int64_t)(cfg->heartbeat_timeout_ns / SIM_MS);
    int64_t delete_ms = (int64_t)(cfg->ip_delete_timeout_ns / SIM_MS);
    int64_t deadline = INT64_MAX;
    for (uint32_t i = 0; i < list->count; i++) {
        const distro_instance *in = &list->inst[i];
        if (in->marked) continue;
        bool own = in->metadata_count > 0;   /* else the defaults, without the lookups */
        if (in->healthy) {
            int64_t t = in->last_beat_ms +
                        (own ? metadata_ms(in, "preserved.heart.beat.timeout", cfg->heartbeat_timeout_ns) : beat_ms);
            if (t < deadline) deadline = t;
        }
        if (cfg->expire_instance) {
            int64_t t = in->last_beat_ms +
                        (own ? metadata_ms(in, "preserved.ip.delete.timeout", cfg->ip_delete_timeout_ns) : delete_ms);
            if (t < deadline) deadline = t;
        }
    }
    return deadline;
}

/* A small list is read again on a beat, which has it in cache: the check's
 * deadline then follows the beats, and a check of a service whose
 * instances all beat never reads the list.  A larger list keeps the bound
 * the last check or reset left (reading it per beat would cost more than
 * the checks it spares). */
#define DEADLINE_ON_BEAT_MAX 8u

/* The check's timer is a chain of fixed delays from the Service's creation.
 * A run on a node that is not responsible returns at once and changes
 * nothing, so the model lets the chain lapse there and resumes it, at the
 * same phase, when a view change makes the node responsible again: the same
 * checks run at the same instants, without an event per service per node
 * every 5 s.  (With clock drift the resumed phase can differ from the
 * chain's by the rounding of each period, under a nanosecond per period.) */
static void beat_check(sim_engine *sim, void *ctx, uint64_t key64)
{
    (void)sim;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    uint32_t key = (uint32_t)key64;
    if (!distro_mapper_responsible(node, key) || !c->config.health_check_enabled) {
        node->datums[key].beat_check_armed = false;
        return;
    }
    distro_timer(node, c->config.beat_check_interval_ns, DISTRO_KIND_BEAT_CHECK, beat_check, key);
    int64_t now = distro_now_ms(node);
    distro_datum *d = &node->datums[key];
    if (c->config.shortcuts && now <= d->check_after_ms) return;   /* nothing is due: see deadline_ms */
    distro_ilist *list = d->value;
    if (list == NULL) return;
    distro_ilist *next = NULL;
    for (uint32_t i = 0; i < list->count; i++) {
        const distro_instance *in = &list->inst[i];
        int64_t timeout = metadata_ms(in, "preserved.heart.beat.timeout", c->config.heartbeat_timeout_ns);
        if (now - in->last_beat_ms > timeout && !in->marked && in->healthy) {
            if (next == NULL && (next = distro_ilist_clone(list)) == NULL) {
                distro_fail_nomem(c, "beat check");
                return;
            }
            next->inst[i].healthy = false;
            next->checksum_valid = next->service_checksum_valid = false;
            distro_counters_of(node)->instances_marked_unhealthy++;
            if (c->observer.instance_unhealthy != NULL) {
                c->observer.instance_unhealthy(c->observer.ctx, sim_now(c->sim), node->id, key, in->ip, in->port);
            }
        }
    }
    if (next != NULL) distro_store_put(node, key, next);   /* in place in Nacos: no sync */
    list = distro_store_get(node, key);
    node->datums[key].check_after_ms = deadline_ms(node, list);
    if (!c->config.expire_instance) return;
    for (uint32_t i = 0; i < list->count; i++) {
        const distro_instance *in = &list->inst[i];
        int64_t timeout = metadata_ms(in, "preserved.ip.delete.timeout", c->config.ip_delete_timeout_ns);
        if (in->marked || now - in->last_beat_ms <= timeout) continue;
        /* An asynchronous HTTP DELETE to itself: the loopback call runs a
         * moment later through DistroFilter. */
        distro_msg *req = distro_msg_new(node->cluster, DISTRO_MSG_PROXY, 0);
        if (req == NULL) {
            distro_fail_nomem(c, "beat check");
            return;
        }
        req->key = key;
        req->ip = in->ip;
        req->port = in->port;
        req->cluster_name = in->cluster;
        uint32_t slot = 0;
        while (slot < node->loopback_cap && node->loopback[slot] != NULL) slot++;
        if (slot == node->loopback_cap) {
            uint32_t old = node->loopback_cap;
            if (!SIM_VEC_RESERVE(node->loopback, old, node->loopback_cap, 1)) {
                distro_msg_unref(req);
                distro_fail_nomem(c, "beat check");
                return;
            }
            memset(node->loopback + old, 0, (node->loopback_cap - old) * sizeof *node->loopback);
        }
        node->loopback[slot] = req;
        distro_timer(node, c->client_latency_ns, DISTRO_KIND_LOCAL, local_delete_fire, slot);
    }
}

static void local_delete_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    distro_msg *req = node->loopback[arg];
    node->loopback[arg] = NULL;
    distro_filter_local_delete(node, req->key, req->ip, req->port, req->cluster_name);
    distro_msg_unref(req);
}

/* The beat check's prefetch hint (sim_set_prefetch): the key's hash and
 * the datum, which the check reads first. */
static void beat_check_prefetch(const void *ctx, uint64_t key)
{
    const distro_node *node = ctx;
    __builtin_prefetch(&node->cluster->key_hash[key]);
    if (key < node->datums_cap) __builtin_prefetch(&node->datums[key]);
}

sim_status distro_health_set_prefetch(distro_cluster *c, sim_error *err)
{
    return sim_set_prefetch(c->sim, beat_check, beat_check_prefetch, err);
}

void distro_health_arm_beat_check(distro_node *node, uint32_t key)
{
    /* HealthCheckReactor.scheduleCheck: first run 5 s after the Service is
     * created, then every 5 s, on every node. */
    if (node->v2 != NULL) return;   /* 2.x: connection clients have no beat check (section 3.8) */
    distro_datum *d = &node->datums[key];
    d->check_origin_ns = sim_now(node->cluster->sim);
    if (!node->cluster->config.health_check_enabled || !distro_mapper_responsible(node, key)) return;
    d->beat_check_armed = true;
    distro_timer(node, node->cluster->config.beat_check_interval_ns, DISTRO_KIND_BEAT_CHECK, beat_check, key);
}

void distro_health_on_view_change(distro_node *node)
{
    distro_cluster *c = node->cluster;
    if (!c->config.health_check_enabled || node->v2 != NULL) return;
    sim_time_ns now = sim_now(c->sim);
    sim_time_ns period = c->config.beat_check_interval_ns;
    for (uint32_t k = 0; k < node->datums_cap; k++) {
        distro_datum *d = &node->datums[k];
        if (!d->service_exists || d->beat_check_armed || !distro_mapper_responsible(node, k)) continue;
        /* The next instant of the chain: origin + j * period >= now. */
        sim_time_ns into = (now - d->check_origin_ns) % period;
        d->beat_check_armed = true;
        distro_timer(node, into == 0 ? 0 : period - into, DISTRO_KIND_BEAT_CHECK, beat_check, k);
    }
}

void distro_health_on_beat(distro_node *node, uint32_t key, uint32_t client)
{
    /* ClientBeatProcessor: lastBeat = now on the matching instance; an
     * unmarked unhealthy instance turns healthy.  No put, no sync. */
    const distro_client *cl = &node->cluster->clients[client];
    distro_ilist *list = distro_store_get(node, key);
    if (list == NULL) return;
    uint32_t i = distro_ilist_find(list, cl->ip, cl->port, cl->cluster_name);
    if (i == DISTRO_NONE) return;
    distro_instance *in = &list->inst[i];
    bool revive = !in->marked && !in->healthy;
    if (list->refs == 1 && !revive) {
        /* Unshared and checksums unchanged (lastBeat is in neither): in place. */
        int64_t before = in->last_beat_ms;
        in->last_beat_ms = distro_now_ms(node);
        /* A local clock stepped back moves lastBeat earlier: the check's
         * deadline may come sooner. */
        if (in->last_beat_ms < before) node->datums[key].check_after_ms = INT64_MIN;
        else if (list->count <= DEADLINE_ON_BEAT_MAX) node->datums[key].check_after_ms = deadline_ms(node, list);
        return;
    }
    distro_ilist *next = distro_ilist_clone(list);
    if (next == NULL) {
        distro_fail_nomem(node->cluster, "beat");
        return;
    }
    next->inst[i].last_beat_ms = distro_now_ms(node);
    if (revive) {
        next->inst[i].healthy = true;
        next->checksum_valid = next->service_checksum_valid = false;
    }
    distro_store_put(node, key, next);
}

/* --- Health-status channel --------------------------------------------------------- */

typedef struct status_line {
    char text[96];
} status_line;

static int status_line_cmp(const void *a, const void *b)
{
    return strcmp(((const status_line *)a)->text, ((const status_line *)b)->text);
}

static const char *service_checksum(distro_node *node, uint32_t key, distro_ilist *list)
{
    /* Section 2.6(b): the MD5 of a service summary and the sorted instances
     * as ip:port_weight_healthy_cluster.  Java's summary is a HashMap's
     * JSON, opaque; the service name stands in for it.  Cached per list. */
    if (list->service_checksum_valid) return list->service_checksum;
    status_line *lines = calloc((size_t)list->count + 1, sizeof *lines);
    if (lines == NULL) {
        /* The run ends (sim_vec.h's policy); callers still get a valid,
         * uncached string, so nothing reads a missing one. */
        distro_fail_nomem(node->cluster, "service checksum");
        list->service_checksum[0] = '\0';
        return list->service_checksum;
    }
    for (uint32_t i = 0; i < list->count; i++) {
        const distro_instance *in = &list->inst[i];
        char weight[32];
        distro_java_double_to_string(in->weight, weight, sizeof weight);
        snprintf(lines[i].text, sizeof lines[i].text, "%s:%u_%s_%s_%s,", in->ip, in->port, weight,
                 in->healthy ? "true" : "false", in->cluster);
    }
    qsort(lines, list->count, sizeof *lines, status_line_cmp);   /* equal lines are identical: order moot */
    MD5_CTX ctx;
    MD5Init(&ctx);
    const char *tag = node->cluster->keys[key].tag;
    MD5Update(&ctx, (const uint8_t *)tag, strlen(tag));
    for (uint32_t i = 0; i < list->count; i++) {
        MD5Update(&ctx, (const uint8_t *)lines[i].text, strlen(lines[i].text));
    }
    uint8_t digest[16];
    MD5Final(digest, &ctx);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        list->service_checksum[2 * i] = hex[digest[i] >> 4];
        list->service_checksum[2 * i + 1] = hex[digest[i] & 15];
    }
    list->service_checksum[32] = '\0';
    list->service_checksum_valid = true;
    free(lines);
    return list->service_checksum;
}

static void ignore_reply(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    (void)ctx;
    (void)arg;
    (void)status;
    (void)resp;
}

/* Sends one namespace's message to every other member. */
static void send_status(distro_node *node, distro_msg *msg, uint32_t bytes)
{
    distro_cluster *c = node->cluster;
    uint32_t *peers = malloc(c->n * sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "service reporter");
        return;
    }
    uint32_t peer_count = distro_member_all_without_self(node, peers);
    for (uint32_t p = 0; p < peer_count; p++) {
        sim_payload_retain(&msg->base);
        distro_call(node, peers[p], DISTRO_MSG_SERVICE_STATUS, bytes, msg, ignore_reply, 0);
    }
    free(peers);
}

static void service_reporter(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    /* ServiceManager.ServiceReporter: nothing when the node has no service
     * at all; otherwise one message per namespace it has services in, to
     * every other member, carrying the checksums of the non-empty services
     * of that namespace it owns -- possibly none, and still sent.
     * Namespaces go in the order of their first key. */
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    distro_timer(node, c->config.health_sync_interval_ns, DISTRO_KIND_HEALTH_SYNC, service_reporter, 0);
    if (c->config.shortcuts && node->status_round_valid && node->status_round_epoch == node->memo_epoch) {
        /* The sender memo (distro_memo.c): the last round, which had at
         * most one namespace, again. */
        if (node->status_round_sends) send_status(node, node->status_last, node->status_round_bytes);
        return;
    }
    node->status_round_valid = false;
    const char *spaces[8];
    const char **ns = spaces;
    uint32_t ns_count = 0, ns_cap = 8;
    for (uint32_t k = 0; k < node->datums_cap; k++) {
        if (!node->datums[k].service_exists) continue;
        const char *s = c->keys[k].ns;
        uint32_t i = 0;
        while (i < ns_count && ns[i] != s) i++;
        if (i < ns_count) continue;
        if (ns_count == ns_cap) {
            const char **grown = malloc(2 * ns_cap * sizeof *grown);
            if (grown == NULL) {
                if (ns != spaces) free(ns);
                distro_fail_nomem(c, "service reporter");
                return;
            }
            memcpy(grown, ns, ns_count * sizeof *grown);
            if (ns != spaces) free(ns);
            ns = grown;
            ns_cap *= 2;
        }
        ns[ns_count++] = s;
    }
    uint32_t candidates = 0;
    uint32_t *owned_keys = ns_count > 0 ? distro_mapper_owned_keys(node, &candidates) : NULL;
    uint32_t *keys = ns_count > 0 ? malloc(((size_t)candidates + 1) * sizeof *keys) : NULL;
    if (ns_count > 0 && (owned_keys == NULL || keys == NULL)) {
        if (owned_keys != NULL) distro_fail_nomem(c, "service reporter");   /* else reported by the mapper */
        ns_count = 0;
    }
    uint32_t sent = 0, bytes = 0;
    for (uint32_t i = 0; i < ns_count; i++) {
        uint32_t count = 0;
        for (uint32_t j = 0; j < candidates; j++) {
            uint32_t k = owned_keys[j];
            if (node->datums[k].value->count > 0 && c->keys[k].ns == ns[i]) keys[count++] = k;
        }
        distro_msg *msg = distro_checksum_msg_new(node, DISTRO_MSG_SERVICE_STATUS, keys, count, service_checksum,
                                                  true, &node->status_last, &bytes);
        if (msg == NULL) break;   /* the run has failed */
        send_status(node, msg, bytes);
        distro_msg_unref(msg);
        sent++;
    }
    /* A round that sent one message per namespace, of at most one: with
     * one, status_last now has this round's keys and checksums (with
     * several it would have only the last one's).  (After an allocation
     * failure ns_count is 0 and the run has failed.) */
    if (sent == ns_count && ns_count <= 1) {
        node->status_round_valid = true;
        node->status_round_sends = sent == 1;
        node->status_round_bytes = bytes;
        node->status_round_epoch = node->memo_epoch;
    }
    free(keys);
    free(owned_keys);
    if (ns != spaces) free(ns);
}

void distro_health_start(distro_node *node)
{
    distro_timer(node, node->cluster->config.health_sync_initial_ns, DISTRO_KIND_HEALTH_SYNC, service_reporter, 0);
}

static void statuses_done(sim_engine *sim, void *ctx, uint64_t key64, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running || status != SIM_RPC_OK) return;
    const distro_msg *m = (const distro_msg *)resp->payload;
    if (m->code != 200 || m->values == NULL || m->values[0] == NULL) return;
    const distro_ilist *remote = m->values[0];
    uint32_t key = (uint32_t)key64;
    distro_ilist *list = distro_store_get(node, key);
    if (list == NULL) return;
    /* Every local instance takes the listed flag; unlisted means false.
     * The list names instances by ip:port only. */
    distro_ilist *next = NULL;
    for (uint32_t i = 0; i < list->count; i++) {
        const distro_instance *in = &list->inst[i];
        bool healthy = false;
        for (uint32_t j = 0; j < remote->count; j++) {
            if (remote->inst[j].port == in->port && strcmp(remote->inst[j].ip, in->ip) == 0) {
                healthy = remote->inst[j].healthy;
                break;
            }
        }
        if (healthy == in->healthy) continue;
        if (next == NULL && (next = distro_ilist_clone(list)) == NULL) {
            distro_fail_nomem(node->cluster, "service status");
            return;
        }
        next->inst[i].healthy = healthy;
        next->checksum_valid = next->service_checksum_valid = false;
        distro_counters_of(node)->health_status_updates++;
    }
    if (next != NULL) distro_store_put(node, key, next);
}

void distro_health_on_service_status(distro_node *node, const sim_message *msg, distro_token token)
{
    const distro_msg *m = (const distro_msg *)msg->payload;
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_SERVICE_STATUS_RESP, 0);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "service status");
        return;
    }
    resp->code = distro_member_has(node, m->source) ? 200 : 400;
    distro_reply(node, token, DISTRO_MSG_SERVICE_STATUS_RESP, 2, resp);
    if (!distro_member_has(node, m->source)) return;
    if (distro_memo_hit(node, &node->status_memo[m->source], m)) return;   /* nothing to fetch, as last time */
    bool fetched = false;
    for (uint32_t i = 0; i < m->count; i++) {
        uint32_t k = m->keys[i];
        distro_ilist *local = distro_store_get(node, k);
        if (local == NULL) continue;        /* only services it knows */
        if (memcmp(service_checksum(node, k, local), m->checksums[i], 32) == 0) continue;
        fetched = true;
        distro_msg *req = distro_msg_new(node->cluster, DISTRO_MSG_INSTANCE_STATUSES, 1);
        if (req == NULL) {
            distro_fail_nomem(node->cluster, "service status");
            return;
        }
        req->keys[0] = k;
        req->source = node->id;
        distro_call(node, m->source, DISTRO_MSG_INSTANCE_STATUSES, 96, req, statuses_done, k);
    }
    if (!fetched) distro_memo_note(node, &node->status_memo[m->source], m);
}

void distro_health_on_instance_statuses(distro_node *node, const sim_message *msg, distro_token token)
{
    const distro_msg *m = (const distro_msg *)msg->payload;
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_INSTANCE_STATUSES_RESP, 1);
    if (resp != NULL) resp->values = calloc(1, sizeof *resp->values);
    if (resp == NULL || resp->values == NULL) {
        distro_msg_unref(resp);
        distro_fail_nomem(node->cluster, "instance statuses");
        return;
    }
    resp->keys[0] = m->keys[0];
    resp->values[0] = distro_ilist_retain(distro_store_get(node, m->keys[0]));
    resp->code = 200;
    uint32_t count = resp->values[0] != NULL ? resp->values[0]->count : 0;
    distro_reply(node, token, DISTRO_MSG_INSTANCE_STATUSES_RESP, 32 + 28 * count, resp);
}
