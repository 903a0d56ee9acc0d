/* distro2_client.c: ConnectionBasedClientManager and the service index of
 * Nacos 2.5.1 (NACOS-DISTRO.md sections 3.1, 3.5 receiver, 3.7).
 *
 * Clients.  One table per node, indexed by connection id.  A client is
 * native on the node that holds its connection
 * (N/core/v2/client/manager/impl/ConnectionBasedClientManager.java:71-85,
 * clientConnected: a bare computeIfAbsent, no event) and a replica
 * elsewhere (syncClientConnected :87-97, isNative false, lastRenewTime =
 * now).  clientDisconnected (:99-118) removes it and raises
 * ClientDisconnectEvent, which DistroClientDataProcessor turns into a
 * DELETE only where the client is native (isResponsibleClient, :127).
 *
 * What a node lists.  ServiceStorage builds a service's instances from the
 * clients its ServiceIndexesManager lists as publishers of it, in a Set
 * (equal instances once).  Here the per-node index key -> connection ids is
 * kept, and the instance list of each service (node->datums[key].value,
 * what distro_node_lists_client and the observer read) is rebuilt from it
 * on every change.  O(publishers of the service) per change.
 *
 * Cleaner.  ConnectionBasedClientManager.ExpiredClientCleaner (:148-170, scheduled at :55)
 * runs every 5 s from 0 on every node and removes each non-native client
 * whose lastRenewTime is more than nacos.naming.client.expired.time
 * (180 s) old; the removal is not native, so no DELETE follows. */
#include "distro2_int.h"

#include <stdlib.h>
#include <string.h>

distro2_client *distro2_client_get(distro_node *node, uint32_t conn)
{
    distro2_node *v2 = node->v2;
    if (v2 == NULL || conn >= v2->clients_cap || !v2->clients[conn].present) return NULL;
    return &v2->clients[conn];
}

/* isResponsibleClient: a connection client is its native node's; an
 * IP-port client is the mapper's owner of its ip:port (distro2_ipport.c). */
bool distro2_client_responsible(const distro_node *node, uint32_t conn, const distro2_client *client)
{
    return client->ipport ? distro2_ipport_responsible(node, conn) : client->native;
}

static bool clients_grow(distro2_node *v2, uint32_t conn)
{
    if (conn < v2->clients_cap) return true;
    uint32_t cap = v2->clients_cap == 0 ? 64 : v2->clients_cap;
    while (cap <= conn) cap *= 2;
    distro2_client *grown = realloc(v2->clients, (size_t)cap * sizeof *grown);
    if (grown == NULL) return false;
    memset(grown + v2->clients_cap, 0, (size_t)(cap - v2->clients_cap) * sizeof *grown);
    v2->clients = grown;
    v2->clients_cap = cap;
    return true;
}

static bool keys_grow(distro2_node *v2, uint32_t key)
{
    if (key < v2->keys_cap) return true;
    uint32_t cap = v2->keys_cap == 0 ? 64 : v2->keys_cap;
    while (cap <= key) cap *= 2;
    uint32_t **lists = realloc(v2->key_conns, (size_t)cap * sizeof *lists);
    if (lists == NULL) return false;
    v2->key_conns = lists;
    uint32_t *len = realloc(v2->key_conns_len, (size_t)cap * sizeof *len);
    if (len == NULL) return false;
    v2->key_conns_len = len;
    uint32_t *lcap = realloc(v2->key_conns_cap, (size_t)cap * sizeof *lcap);
    if (lcap == NULL) return false;
    v2->key_conns_cap = lcap;
    for (uint32_t k = v2->keys_cap; k < cap; k++) {
        lists[k] = NULL;
        len[k] = 0;
        lcap[k] = 0;
    }
    v2->keys_cap = cap;
    return true;
}

/* ServiceStorage.getPushData for `key` on `node`: the instances of the
 * publishing clients, equal ones once, into the node's store (which tells
 * the observer). */
static void service_rebuild(distro_node *node, uint32_t key)
{
    distro_cluster *c = node->cluster;
    distro2_node *v2 = node->v2;
    uint32_t count = key < v2->keys_cap ? v2->key_conns_len[key] : 0;
    if (!distro_datum_grow(node, key)) {
        distro_fail_nomem(c, "service index");
        return;
    }
    /* No Service object of 1.4.2's ServiceManager: nothing to arm. */
    node->datums[key].service_exists = true;
    if (count == 0) {
        distro_store_put(node, key, NULL);
        return;
    }
    uint32_t total = 0;
    for (uint32_t i = 0; i < count; i++) total += c->clients[c->conns[v2->key_conns[key][i]].sdk].instances;
    distro_ilist *list = distro_ilist_new(total);
    if (list == NULL) {
        distro_fail_nomem(c, "service index");
        return;
    }
    /* Each publisher's instances in its order (a batch register publishes
     * one BatchInstancePublishInfo holding the list,
     * EphemeralClientOperationServiceImpl.java:77-99). */
    for (uint32_t i = 0; i < count; i++) {
        const distro_client *cl = &c->clients[c->conns[v2->key_conns[key][i]].sdk];
        for (uint32_t j = 0; j < cl->instances; j++) {
            uint32_t port = cl->port + j;
            if (distro_ilist_find(list, cl->ip, port, cl->cluster_name) != DISTRO_NONE) continue;
            distro_instance *in = &list->inst[list->count++];
            memset(in, 0, sizeof *in);
            in->ip = cl->ip;
            in->port = port;
            in->weight = cl->weight;
            /* Connection clients register healthy and stay so (section
             * 3.8); an IP-port client's flag is its beat check's. */
            in->healthy = v2->clients[v2->key_conns[key][i]].healthy;
            in->enabled = true;
            in->ephemeral = true;
            in->cluster = cl->cluster_name;
            in->metadata = cl->metadata;
            in->metadata_count = cl->metadata_count;
        }
    }
    distro_store_put(node, key, list);
}

static void index_remove(distro_node *node, uint32_t key, uint32_t conn)
{
    distro2_node *v2 = node->v2;
    uint32_t *list = v2->key_conns[key];
    uint32_t len = v2->key_conns_len[key];
    for (uint32_t i = 0; i < len; i++) {
        if (list[i] != conn) continue;
        memmove(&list[i], &list[i + 1], (size_t)(len - i - 1) * sizeof *list);   /* keep registration order */
        v2->key_conns_len[key] = len - 1;
        return;
    }
}

/* Duplicate publishers (the harm FAULT-FAMILIES S15 names): a 2.x client
 * id is its connection, so an SDK that reconnected is a second client id
 * for the same instance, and where the old id's replica still lives (until
 * its 180 s lease ends, or its DELETE arrives) the node holds two
 * publishers of one ip:port.  Readers see one entry while both carry the
 * same content (ServiceStorage collects instances into a set, and
 * Instance.equals compares every field, api/…/Instance.java:198-210), but
 * the old one outlives a deregistration of the new one.  Counted when a
 * publisher joins another of the same SDK on this node.  Subscriber
 * connections publish nothing, so every id counted here is a harness
 * client's. */
static void count_publishers(distro_node *node, uint32_t conn, bool added)
{
    distro2_node *v2 = node->v2;
    uint32_t sdk = node->cluster->conns[conn].sdk;
    if (!added) {
        if (sdk >= v2->sdk_pubs_cap) return;   /* its add ran out of memory: the run has failed */
        SIM_ASSERT(v2->sdk_pubs[sdk] > 0);
        v2->sdk_pubs[sdk]--;
        return;
    }
    if (sdk >= v2->sdk_pubs_cap) {
        uint32_t cap = v2->sdk_pubs_cap == 0 ? 64 : v2->sdk_pubs_cap;
        while (cap <= sdk) cap *= 2;
        uint32_t *grown = realloc(v2->sdk_pubs, (size_t)cap * sizeof *grown);
        if (grown == NULL) {
            distro_fail_nomem(node->cluster, "publisher counts");
            return;
        }
        memset(grown + v2->sdk_pubs_cap, 0, (size_t)(cap - v2->sdk_pubs_cap) * sizeof *grown);
        v2->sdk_pubs = grown;
        v2->sdk_pubs_cap = cap;
    }
    if (v2->sdk_pubs[sdk]++ > 0) distro_counters_of(node)->v2_duplicate_publishers++;
}

void distro2_client_publish(distro_node *node, uint32_t conn, uint32_t key)
{
    distro2_node *v2 = node->v2;
    distro2_client *client = distro2_client_get(node, conn);
    SIM_ASSERT(client != NULL);
    uint32_t old = client->key;
    if (old == key) return;
    client->key = key;
    if (old == DISTRO_NONE || key == DISTRO_NONE) count_publishers(node, conn, key != DISTRO_NONE);
    if (old != DISTRO_NONE) {
        index_remove(node, old, conn);
        service_rebuild(node, old);
        distro2_push_service_changed(node, old);   /* removePublisherIndexes, ClientServiceIndexesManager.java:135-140 */
    }
    if (key != DISTRO_NONE) {
        if (!keys_grow(v2, key) ||
            !SIM_VEC_RESERVE(v2->key_conns[key], v2->key_conns_len[key], v2->key_conns_cap[key], 1)) {
            distro_fail_nomem(node->cluster, "service index");
            return;
        }
        v2->key_conns[key][v2->key_conns_len[key]++] = conn;
        service_rebuild(node, key);
        distro2_push_service_changed(node, key);   /* addPublisherIndexes, ClientServiceIndexesManager.java:130-133 */
    }
}

void distro2_client_refresh(distro_node *node, uint32_t conn)
{
    const distro2_client *client = distro2_client_get(node, conn);
    if (client != NULL && client->key != DISTRO_NONE) service_rebuild(node, client->key);
}

distro2_client *distro2_client_connected(distro_node *node, uint32_t conn, bool native, int64_t revision)
{
    distro2_node *v2 = node->v2;
    distro2_client *existing = distro2_client_get(node, conn);
    if (existing != NULL) return existing;    /* computeIfAbsent keeps the object */
    if (!clients_grow(v2, conn)) {
        distro_fail_nomem(node->cluster, "clientConnected");
        return NULL;
    }
    distro2_client *client = &v2->clients[conn];
    memset(client, 0, sizeof *client);
    client->present = true;
    client->native = native;
    client->healthy = true;
    client->key = DISTRO_NONE;
    client->revision = revision;
    client->last_renew_ms = distro_now_ms(node);
    v2->client_count++;
    return client;
}

bool distro2_client_remove(distro_node *node, uint32_t conn)
{
    distro2_client *client = distro2_client_get(node, conn);
    if (client == NULL) return false;
    bool native = client->native;
    distro2_client_publish(node, conn, DISTRO_NONE);
    distro2_push_client_removed(node, conn);   /* handleClientDisconnect: its subscriptions (:98-103) */
    client->present = false;
    node->v2->client_count--;
    distro2_on_client_event(node, conn, true, native);   /* ClientDisconnectEvent */
    return true;
}

/* ExpiredClientCleaner: every 5 s, non-native clients not renewed within
 * clientExpiredTime leave without a DELETE (ConnectionBasedClient
 * .isExpire: !isNative && now - lastRenewTime > expired). */
static void cleaner(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro2_node *v2 = node->v2;
    int64_t now = distro_now_ms(node);
    int64_t expired_ms = (int64_t)(node->cluster->config.v2.client_expired_ns / SIM_MS);
    for (uint32_t conn = 0; conn < v2->clients_cap; conn++) {
        const distro2_client *client = &v2->clients[conn];
        if (client->ipport) continue;   /* EphemeralIpPortClientManager's own cleaner: distro2_ipport_clean */
        if (client->present && !client->native && now - client->last_renew_ms > expired_ms) {
            distro_counters_of(node)->v2_clients_expired++;
            distro2_client_remove(node, conn);
        }
    }
    /* EphemeralIpPortClientManager's cleaner: the same period and first
     * run, on the same single-thread scheduler (GlobalExecutor
     * .scheduleExpiredClientCleaner), after this one. */
    distro2_ipport_clean(node);
    distro_timer(node, node->cluster->config.v2.cleaner_interval_ns, DISTRO_KIND_V2_CLEANER, cleaner, 0);
}

void distro2_client_cleaner_start(distro_node *node)
{
    distro_timer(node, 0, DISTRO_KIND_V2_CLEANER, cleaner, 0);
}
