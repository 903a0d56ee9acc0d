/* distro_cluster.c: the simulated cluster: servers on engine nodes, keys,
 * interned strings, message plumbing and the node life cycle.
 *
 * Node life cycle (the engine drives it):
 *
 *   (down) --start--> running --crash--> (down)
 *
 *   start  [distro_node_start]  fresh state: members from cluster.conf,
 *                               DistroMapper, timers of every component,
 *                               the load task (NACOS-DISTRO.md 1.1, 2.4)
 *   crash  [distro_node_crash]  every in-memory structure is dropped (Distro
 *                               data is ephemeral); clients being served
 *                               see their connection reset
 *
 * Only cluster.conf (which members a node lists) and the measurement
 * counters survive a crash. */
#include "distro_int.h"
#include "distro2_int.h"

#include <stdlib.h>
#include <string.h>

#define KEY_PREFIX "com.alibaba.nacos.naming.iplist.ephemeral."

const char *distro_msg_type_name(uint16_t type)
{
    static const char *const names[DISTRO_MSG_TYPES] = {
        [DISTRO_MSG_SYNC_DATUM] = "sync_datum", [DISTRO_MSG_SYNC_DATUM_RESP] = "sync_datum_resp",
        [DISTRO_MSG_CHECKSUM] = "checksum", [DISTRO_MSG_CHECKSUM_RESP] = "checksum_resp",
        [DISTRO_MSG_GET_DATUM] = "get_datum", [DISTRO_MSG_GET_DATUM_RESP] = "get_datum_resp",
        [DISTRO_MSG_GET_DATUMS] = "get_datums", [DISTRO_MSG_GET_DATUMS_RESP] = "get_datums_resp",
        [DISTRO_MSG_MEMBER_REPORT] = "member_report", [DISTRO_MSG_MEMBER_REPORT_RESP] = "member_report_resp",
        [DISTRO_MSG_SERVICE_STATUS] = "service_status", [DISTRO_MSG_SERVICE_STATUS_RESP] = "service_status_resp",
        [DISTRO_MSG_INSTANCE_STATUSES] = "instance_statuses",
        [DISTRO_MSG_INSTANCE_STATUSES_RESP] = "instance_statuses_resp",
        [DISTRO_MSG_PROXY] = "proxy", [DISTRO_MSG_PROXY_RESP] = "proxy_resp",
        [DISTRO_MSG_V2_SYNC] = "v2_sync", [DISTRO_MSG_V2_SYNC_RESP] = "v2_sync_resp",
        [DISTRO_MSG_V2_VERIFY] = "v2_verify", [DISTRO_MSG_V2_VERIFY_RESP] = "v2_verify_resp",
        [DISTRO_MSG_V2_SNAPSHOT] = "v2_snapshot", [DISTRO_MSG_V2_SNAPSHOT_RESP] = "v2_snapshot_resp",
        [DISTRO_MSG_V2_CHECK] = "v2_check", [DISTRO_MSG_V2_CHECK_RESP] = "v2_check_resp",
        [DISTRO_MSG_V2_REPORT] = "v2_member_report", [DISTRO_MSG_V2_REPORT_RESP] = "v2_member_report_resp",
    };
    if (type < DISTRO_MSG_TYPES && names[type] != NULL) return names[type];
    return "unknown";
}

const char *distro_event_kind_name(uint16_t kind)
{
    switch (kind) {
    case DISTRO_KIND_TICK: return "tick";
    case DISTRO_KIND_VERIFY: return "verify";
    case DISTRO_KIND_LOAD: return "load";
    case DISTRO_KIND_REPORT: return "report";
    case DISTRO_KIND_BEAT_CHECK: return "beat_check";
    case DISTRO_KIND_HEALTH_SYNC: return "health_sync";
    case DISTRO_KIND_STATUS: return "status";
    case DISTRO_KIND_CLIENT_REQUEST: return "client_request";
    case DISTRO_KIND_CLIENT_RESPONSE: return "client_response";
    case DISTRO_KIND_CLIENT_TIMER: return "client_timer";
    case DISTRO_KIND_LOCAL: return "local";
    case DISTRO_KIND_BOOT_EVENT: return "boot_event";
    case DISTRO_KIND_RAFT: return "raft";
    case DISTRO_KIND_READ_REQUEST: return "read_request";
    case DISTRO_KIND_READ_RESPONSE: return "read_response";
    case DISTRO_KIND_READ_TIMER: return "read_timer";
    case DISTRO_KIND_PUSH: return "push";
    case DISTRO_KIND_V2_TICK: return "v2_tick";
    case DISTRO_KIND_V2_VERIFY: return "v2_verify";
    case DISTRO_KIND_V2_LOAD: return "v2_load";
    case DISTRO_KIND_V2_CLEANER: return "v2_cleaner";
    case DISTRO_KIND_V2_EJECTOR: return "v2_ejector";
    case DISTRO_KIND_V2_RPC: return "v2_rpc";
    case DISTRO_KIND_V2_SDK: return "v2_sdk";
    case DISTRO_KIND_V2_REPORT: return "v2_report";
    case DISTRO_KIND_V2_EVENT: return "v2_event";
    default: return NULL;
    }
}

const char *distro_member_state_name(distro_member_state state)
{
    switch (state) {
    case DISTRO_MEMBER_UP: return "UP";
    case DISTRO_MEMBER_SUSPICIOUS: return "SUSPICIOUS";
    case DISTRO_MEMBER_DOWN: return "DOWN";
    case DISTRO_MEMBER_STARTING: return "STARTING";
    }
    return "unknown";
}

uint32_t distro_counters_list(const distro_counters *k, distro_counter_value *out, uint32_t max)
{
    const distro_counter_value all[] = {
        { "sync_batches_sent", k->sync_batches_sent },
        { "sync_batches_failed", k->sync_batches_failed },
        { "sync_keys_retried", k->sync_keys_retried },
        { "sync_dropped_not_member", k->sync_dropped_not_member },
        { "sync_empty_batches", k->sync_empty_batches },
        { "worker_backlog_max", k->worker_backlog_max },
        { "verify_sent", k->verify_sent },
        { "verify_discarded", k->verify_discarded },
        { "verify_single_flight_drops", k->verify_single_flight_drops },
        { "verify_keys_fetched", k->verify_keys_fetched },
        { "verify_keys_removed", k->verify_keys_removed },
        { "snapshot_attempts", k->snapshot_attempts },
        { "snapshot_failures", k->snapshot_failures },
        { "snapshot_bytes", k->snapshot_bytes },
        { "snapshot_successes", k->snapshot_successes },
        { "load_retries", k->load_retries },
        { "redirects_proxied", k->redirects_proxied },
        { "redirects_rejected", k->redirects_rejected },
        { "redirects_failed", k->redirects_failed },
        { "beats_received", k->beats_received },
        { "beat_reregisters", k->beat_reregisters },
        { "instances_marked_unhealthy", k->instances_marked_unhealthy },
        { "instances_expired", k->instances_expired },
        { "health_status_updates", k->health_status_updates },
        { "requests_503", k->requests_503 },
        { "member_probes", k->member_probes },
        { "member_probe_failures", k->member_probe_failures },
        { "member_state_changes", k->member_state_changes },
        { "http_refused", k->http_refused },
        { "http_connect_timeouts", k->http_connect_timeouts },
        { "http_read_timeouts", k->http_read_timeouts },
        { "http_lease_timeouts", k->http_lease_timeouts },
        { "http_resets", k->http_resets },
        { "http_retries_exhausted", k->http_retries_exhausted },
        { "v2_sdk_reconnects", k->v2_sdk_reconnects },
        { "v2_verify_failed", k->v2_verify_failed },
        { "v2_clients_expired", k->v2_clients_expired },
        { "v2_connections_ejected", k->v2_connections_ejected },
        { "v3_no_right", k->v3_no_right },
        { "v2_ipport_clients_expired", k->v2_ipport_clients_expired },
        { "v2_starting_refused", k->v2_starting_refused },
        { "v2_sdk_health_failed", k->v2_sdk_health_failed },
        { "v2_http_not_owner", k->v2_http_not_owner },
        { "v2_duplicate_publishers", k->v2_duplicate_publishers },
    };
    uint32_t n = (uint32_t)(sizeof all / sizeof all[0]);
    for (uint32_t i = 0; i < n && i < max && out != NULL; i++) out[i] = all[i];
    return n;
}

/* --- Messages -------------------------------------------------------------- */

/* Message records are recycled: a large cluster sends millions (every
 * proxied beat is two), and malloc's per-thread caches hold only a few.
 * A message can outlive its cluster (the engine, destroyed later, drops
 * messages still in flight), so the pool counts the messages out and is
 * freed with the last of them.  Debug builds do not recycle, so the
 * sanitizers still see every use after free. */
struct distro_msg_pool {
    distro_msg *free;            /* linked through next_free */
    uint64_t live;               /* handed out, not yet destroyed */
    bool orphaned;               /* the cluster is gone */
};

static void msg_destroy(sim_payload *payload)
{
    distro_msg *msg = (distro_msg *)payload;
    if (msg->values != NULL) {
        for (uint32_t i = 0; i < msg->count; i++) distro_ilist_release(msg->values[i]);
    }
    /* Most messages (a proxied beat and its answer) own no array: skip the
     * six calls then. */
    if (msg->keys != NULL || msg->values != NULL || msg->checksums != NULL || msg->flags != NULL ||
        msg->revisions != NULL || msg->services != NULL) {
        free(msg->keys);
        free(msg->values);
        free(msg->checksums);
        free(msg->flags);
        free(msg->revisions);
        free(msg->services);
    }
    distro_msg_pool *pool = msg->pool;
    pool->live--;
#ifdef SIM_DEBUG
    bool keep = false;
#else
    bool keep = !pool->orphaned;
#endif
    if (keep) {
        msg->next_free = pool->free;
        pool->free = msg;
        return;
    }
    free(msg);
    if (pool->orphaned && pool->live == 0) free(pool);
}

/* NULL when out of memory. */
static distro_msg_pool *msg_pool_new(void) { return calloc(1, sizeof(distro_msg_pool)); }

/* The cluster is going: frees the pool now, or with its last message. */
static void msg_pool_release(distro_msg_pool *pool)
{
    if (pool == NULL) return;
    while (pool->free != NULL) {
        distro_msg *next = pool->free->next_free;
        free(pool->free);
        pool->free = next;
    }
    pool->orphaned = true;
    if (pool->live == 0) free(pool);
}

distro_msg *distro_msg_new(distro_cluster *c, uint16_t type, uint32_t count)
{
    distro_msg_pool *pool = c->msg_pool;
    uint32_t *keys = NULL;
    if (count > 0 && (keys = calloc(count, sizeof *keys)) == NULL) return NULL;
    distro_msg *msg = pool->free;
    if (msg != NULL) {
        pool->free = msg->next_free;
    } else if ((msg = malloc(sizeof *msg)) == NULL) {
        free(keys);
        return NULL;
    }
    memset(msg, 0, sizeof *msg);
    pool->live++;
    msg->pool = pool;
    msg->base.refs = 1;
    msg->base.destroy = msg_destroy;
    msg->type = type;
    msg->count = count;
    msg->client = DISTRO_NONE;
    msg->key = DISTRO_NONE;
    msg->keys = keys;
    return msg;
}

void distro_msg_unref(distro_msg *msg)
{
    sim_payload_release(msg != NULL ? &msg->base : NULL);
}

/* --- Strings and keys ------------------------------------------------------ */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s != '\0'; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* Open-addressing lookup: index[] holds id + 1, 0 = empty.  Lookup only:
 * nothing iterates this table. */
static uint32_t *probe(uint32_t *index, uint32_t cap, const char *s, char *(*name_of)(void *, uint32_t),
                       void *ctx)
{
    uint32_t mask = cap - 1;
    uint32_t i = (uint32_t)fnv1a(s) & mask;
    for (uint32_t step = 0; step < cap; step++) {
        if (index[i] == 0 || strcmp(name_of(ctx, index[i] - 1), s) == 0) return &index[i];
        i = (i + 1) & mask;
    }
    SIM_ASSERT(0 && "hash index full");
    return NULL;
}

static char *pool_name(void *ctx, uint32_t id) { return ((distro_strpool *)ctx)->strings[id]; }
static char *key_name(void *ctx, uint32_t id) { return ((distro_cluster *)ctx)->keys[id].name; }

/* The new index (the old one freed); NULL when out of memory (the old one
 * kept). */
static uint32_t *rehash(uint32_t *old, uint32_t old_cap, uint32_t new_cap, char *(*name_of)(void *, uint32_t),
                        void *ctx)
{
    uint32_t *index = calloc(new_cap, sizeof *index);
    if (index == NULL) return NULL;
    for (uint32_t i = 0; i < old_cap; i++) {
        if (old[i] != 0) *probe(index, new_cap, name_of(ctx, old[i] - 1), name_of, ctx) = old[i];
    }
    free(old);
    return index;
}

const char *distro_intern(distro_cluster *c, const char *s)
{
    distro_strpool *p = &c->pool;
    if ((p->count + 1) * 2 > p->index_cap) {
        uint32_t cap = p->index_cap == 0 ? 256 : p->index_cap * 2;
        uint32_t *index = cap > p->index_cap ? rehash(p->index, p->index_cap, cap, pool_name, p) : NULL;
        if (index == NULL) return NULL;
        p->index = index;
        p->index_cap = cap;
    }
    uint32_t *slot = probe(p->index, p->index_cap, s, pool_name, p);
    if (*slot != 0) return p->strings[*slot - 1];
    if (!SIM_VEC_RESERVE(p->strings, p->count, p->cap, 1)) return NULL;
    char *copy = strdup(s);
    if (copy == NULL) return NULL;
    p->strings[p->count++] = copy;
    *slot = p->count;
    return copy;
}

uint32_t distro_cluster_key(distro_cluster *c, const char *namespace_id, const char *group, const char *service)
{
    size_t len = strlen(KEY_PREFIX) + strlen(namespace_id) + 2 + strlen(group) + 2 + strlen(service) + 1;
    char *name = malloc(len);
    if (name == NULL) return DISTRO_NONE;
    snprintf(name, len, "%s%s##%s@@%s", KEY_PREFIX, namespace_id, group, service);
    if ((c->key_count + 1) * 2 > c->key_index_cap) {
        uint32_t cap = c->key_index_cap == 0 ? 256 : c->key_index_cap * 2;
        uint32_t *index = cap > c->key_index_cap ? rehash(c->key_index, c->key_index_cap, cap, key_name, c) : NULL;
        if (index == NULL) {
            free(name);
            return DISTRO_NONE;
        }
        c->key_index = index;
        c->key_index_cap = cap;
    }
    uint32_t *slot = probe(c->key_index, c->key_index_cap, name, key_name, c);
    if (*slot != 0) {
        free(name);
        return *slot - 1;
    }
    /* The health channel groups keys by namespace every 5 s on every node:
     * an interned id compares by pointer, without reading the name. */
    const char *ns = distro_intern(c, namespace_id);
    if (ns == NULL || !SIM_VEC_RESERVE(c->keys, c->key_count, c->key_cap, 1) ||
        !SIM_VEC_RESERVE(c->key_hash, c->key_count, c->key_hash_cap, 1)) {
        free(name);
        return DISTRO_NONE;
    }
    distro_key_info *k = &c->keys[c->key_count];
    k->name = name;
    k->ns = ns;
    /* KeyBuilder.getServiceName: the part after "##" (section 1.6). */
    k->tag = strstr(name + strlen(KEY_PREFIX), "##") + 2;
    k->hash = distro_hash(k->tag);
    c->key_hash[c->key_count] = k->hash;
    k->name_java_hash = distro_java_string_hash(name);
    k->name_bytes = strlen(name);
    k->tag_bytes = strlen(k->tag);
    *slot = ++c->key_count;
    return c->key_count - 1;
}

uint32_t distro_cluster_key_count(const distro_cluster *c) { return c->key_count; }
const char *distro_cluster_key_tag(const distro_cluster *c, uint32_t key)
{
    SIM_ASSERT(key < c->key_count);
    return c->keys[key].tag;
}

/* --- Plumbing ---------------------------------------------------------------- */

int64_t distro_now_ms(const distro_node *node)
{
    return (int64_t)(sim_node_now(node->cluster->sim, node->id) / SIM_MS);
}

void distro_timer(distro_node *node, sim_time_ns delay_ns, uint16_t kind, sim_event_fn *fn, uint64_t arg)
{
    sim_error err;
    sim_status st = sim_timer_start(node->cluster->sim, node->id, delay_ns, kind, fn, node, arg, NULL, &err);
    if (st != SIM_OK) sim_fail(node->cluster->sim, &err);   /* the node runs, so a full event pool: a model storm */
}

distro_counters *distro_counters_of(distro_node *node) { return &node->cluster->counters[node->id]; }

void distro_fail_nomem(distro_cluster *c, const char *where)
{
    sim_error err;
    (void)sim_error_set(&err, SIM_ERR_NOMEM, where, "out of memory");
    sim_fail(c->sim, &err);
}

bool distro_datum_grow(distro_node *node, uint32_t key)
{
    if (key < node->datums_cap) return true;
    uint32_t cap = node->datums_cap == 0 ? 64 : node->datums_cap;
    while (cap <= key) {
        if (cap > UINT32_MAX / 2) return false;
        cap *= 2;
    }
    /* Cache-line aligned: two datums to a line, each read with one miss. */
    uint32_t old = node->datums_cap;
    if (!sim_vec_grow_lines32_(&node->datums, sizeof *node->datums, cap, &node->datums_cap)) return false;
    SIM_ASSERT(node->datums_cap == cap);
    memset(node->datums + old, 0, (cap - old) * sizeof *node->datums);
    return true;
}

/* --- Node life cycle ----------------------------------------------------------- */

static void node_start(sim_engine *sim, sim_node_id id, void *ctx)
{
    distro_cluster *c = ctx;
    distro_node *node = &c->nodes[id];
    distro_node_reset(node);
    node->running = true;
    if (c->observer.node_changed != NULL) c->observer.node_changed(c->observer.ctx, sim_now(sim), id, true);
    node->loaded_from = DISTRO_NONE;
    node->status_up = !c->config.data_warmup;
    node->peers = calloc(c->n, sizeof *node->peers);
    node->healthy = calloc(c->n, sizeof *node->healthy);
    node->verify_busy = calloc(c->n, sizeof *node->verify_busy);
    node->verify_memo = calloc(c->n, sizeof *node->verify_memo);
    node->status_memo = calloc(c->n, sizeof *node->status_memo);
    if (node->peers == NULL || node->healthy == NULL || node->verify_busy == NULL || node->verify_memo == NULL ||
        node->status_memo == NULL) {
        distro_fail_nomem(c, "node start");   /* the run stops; the crash or destroy frees what was allocated */
        return;
    }
    if (c->config.version != DISTRO_VERSION_1_4_2) {
        distro2_node_start(node);   /* the 2.x components, model/distro2_*.c */
        return;
    }
    distro_member_start(node);
    distro_mapper_init(node);
    distro_tasks_start(node);
    distro_raft_start(node);
    distro_load_start(node);
    distro_verify_start(node);
    distro_health_start(node);
}

static void node_crash(sim_engine *sim, sim_node_id id, void *ctx)
{
    distro_cluster *c = ctx;
    distro_node *node = &c->nodes[id];
    distro_client_fail_pending(node);
    distro_reads_node_crashed(node);
    distro_http_node_crashed(node);
    if (node->v2 != NULL) distro2_node_crashed(node);
    distro_node_reset(node);
    if (c->observer.node_changed != NULL) c->observer.node_changed(c->observer.ctx, sim_now(sim), id, false);
}

void distro_node_reset(distro_node *node)
{
    distro_reads_node_reset(node);
    distro_store_clear(node);
    distro_tasks_clear(node);
    free(node->peers);
    free(node->healthy);
    free(node->verify_busy);
    free(node->verify_memo);
    free(node->status_memo);
    distro_msg_unref(node->verify_last);   /* NULL is a no-op */
    distro_msg_unref(node->status_last);
    free(node->stamp);
    for (uint32_t i = 0; i < node->bucket_count; i++) free(node->owner_bucket[i]);
    free(node->owner_bucket);
    free(node->owner_bucket_len);
    free(node->owner_bucket_cap);
    free(node->pending);
    for (uint32_t i = 0; i < node->loopback_cap; i++) distro_msg_unref(node->loopback[i]);
    free(node->loopback);
    distro2_node_free(node->v2);   /* NULL is a no-op */
    distro_cluster *c = node->cluster;
    uint32_t id = node->id;
    memset(node, 0, sizeof *node);
    node->cluster = c;
    node->id = id;
    node->self_index = -1;
    node->loaded_from = DISTRO_NONE;
}

static void node_on_request(sim_engine *sim, sim_node_id id, void *ctx, const sim_message *msg,
                            sim_rpc_token token)
{
    (void)sim;
    distro_cluster *c = ctx;
    distro_token t;
    memset(&t, 0, sizeof t);
    t.rpc = token;
    distro_dispatch_request(&c->nodes[id], msg, t);
}

void distro_dispatch_request(distro_node *node, const sim_message *msg, distro_token token)
{
    SIM_ASSERT(node->running);
    switch ((enum distro_msg_type)msg->type) {
    case DISTRO_MSG_SYNC_DATUM: distro_sync_on_datum(node, msg, token); return;
    case DISTRO_MSG_CHECKSUM: distro_verify_on_checksums(node, msg, token); return;
    case DISTRO_MSG_GET_DATUM: distro_sync_on_get_datum(node, msg, token); return;
    case DISTRO_MSG_GET_DATUMS: distro_sync_on_get_datums(node, msg, token); return;
    case DISTRO_MSG_MEMBER_REPORT: distro_member_on_report(node, msg, token); return;
    case DISTRO_MSG_SERVICE_STATUS: distro_health_on_service_status(node, msg, token); return;
    case DISTRO_MSG_INSTANCE_STATUSES: distro_health_on_instance_statuses(node, msg, token); return;
    case DISTRO_MSG_PROXY: distro_filter_on_proxy(node, msg, token); return;
    case DISTRO_MSG_V2_SYNC:
    case DISTRO_MSG_V2_VERIFY:
    case DISTRO_MSG_V2_SNAPSHOT:
    case DISTRO_MSG_V2_CHECK:
    case DISTRO_MSG_V2_REPORT: distro2_dispatch_request(node, msg, token); return;
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
    SIM_ASSERT(0 && "a response type arrived as a request");
}

static void node_changing(sim_engine *sim, sim_node_id id, void *ctx)
{
    (void)sim;
    distro_cluster *c = ctx;
    distro_client_node_changing(&c->nodes[id]);
}

static const sim_node_ops distro_node_ops = {
    .start = node_start,
    .crash = node_crash,
    .on_request = node_on_request,
    .changing = node_changing,
};

/* --- Create / destroy ------------------------------------------------------------ */

static int address_cmp(const distro_cluster *c, uint32_t a, uint32_t b)
{
    int r = distro_java_string_compare(c->address[a], c->address[b]);
    return r != 0 ? r : (a < b ? -1 : (a > b));
}

/* Frees a half-built cluster (nothing attached yet) and reports the failure. */
static distro_cluster *create_nomem(distro_cluster *c, sim_error *err)
{
    distro_cluster_destroy(c);
    sim_error_set(err, SIM_ERR_NOMEM, "distro_cluster_create", "out of memory");
    return NULL;
}

distro_cluster *distro_cluster_create(sim_engine *sim, const distro_config *config,
                                      const char *const *addresses, sim_error *err)
{
    if (sim == NULL || config == NULL) {
        sim_error_set(err, SIM_ERR_INVALID, "distro_cluster_create", "engine or config is NULL");
        return NULL;
    }
    if (config->task_tick_ns == 0 || config->verify_interval_ns == 0 || config->member_report_interval_ns == 0 ||
        config->beat_check_interval_ns == 0 || config->load_poll_ns == 0 || config->cpu_cores == 0 ||
        config->batch_sync_key_count == 0 || config->server_status_interval_ns == 0 ||
        config->health_sync_interval_ns == 0 || config->client_beat_interval_ns == 0) {
        sim_error_set(err, SIM_ERR_INVALID, "distro_cluster_create",
                      "periods, worker count and batch size must be positive");
        return NULL;
    }
    distro_cluster *c = calloc(1, sizeof *c);
    if (c == NULL) {
        sim_error_set(err, SIM_ERR_NOMEM, "distro_cluster_create", "out of memory");
        return NULL;
    }
    c->sim = sim;
    c->config = *config;
    c->n = sim_node_count(sim);
    c->client_latency_ns = 1 * SIM_MS;
    c->address = calloc(c->n, sizeof *c->address);
    c->by_address = calloc(c->n, sizeof *c->by_address);
    c->address_java_hash = calloc(c->n, sizeof *c->address_java_hash);
    c->nodes = calloc(c->n, sizeof *c->nodes);
    c->counters = calloc(c->n, sizeof *c->counters);
    c->conf = calloc((size_t)c->n * c->n, sizeof *c->conf);
    c->msg_pool = msg_pool_new();
    if (c->address == NULL || c->by_address == NULL || c->address_java_hash == NULL || c->nodes == NULL ||
        c->counters == NULL || c->conf == NULL || c->msg_pool == NULL) {
        return create_nomem(c, err);
    }
    for (uint32_t i = 0; i < c->n; i++) {
        char buf[64];
        if (addresses != NULL) {
            snprintf(buf, sizeof buf, "%s", addresses[i]);
        } else {
            snprintf(buf, sizeof buf, "10.0.%u.%u:8848", (i + 1) / 256, (i + 1) % 256);
        }
        c->address[i] = strdup(buf);
        if (c->address[i] == NULL) return create_nomem(c, err);
        c->address_java_hash[i] = distro_java_string_hash(buf);
        for (uint32_t j = 0; j < c->n; j++) c->conf[(size_t)i * c->n + j] = true;
    }
    for (uint32_t i = 0; i < c->n; i++) {
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(c->address[i], c->address[j]) == 0) {
                sim_error_set(err, SIM_ERR_INVALID, "distro_cluster_create", "address %s is listed twice",
                              c->address[i]);
                distro_cluster_destroy(c);
                return NULL;
            }
        }
        uint32_t rank = 0;
        for (uint32_t j = 0; j < c->n; j++) {
            if (address_cmp(c, j, i) < 0) rank++;
        }
        c->by_address[rank] = i;   /* ranks are distinct: address_cmp is a total order */
    }
    for (uint32_t i = 0; i < c->n; i++) {
        distro_node *node = &c->nodes[i];
        node->cluster = c;
        node->id = i;
        node->self_index = -1;
        node->loaded_from = DISTRO_NONE;
        sim_status st = sim_node_attach(sim, i, &distro_node_ops, c, err);
        SIM_ASSERT(st == SIM_OK);
    }
    distro_check_install(c);   /* the invariant check after every event, in debug builds */
    if (distro_client_set_prefetch(c, err) != SIM_OK || distro_health_set_prefetch(c, err) != SIM_OK) {
        distro_cluster_destroy(c);
        return NULL;
    }
    return c;
}

void distro_cluster_destroy(distro_cluster *c)
{
    if (c == NULL) return;
    distro_http_destroy(c);   /* first: connections hold messages and instance lists */
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->nodes != NULL) distro_node_reset(&c->nodes[i]);
        if (c->address != NULL) free(c->address[i]);
    }
    for (uint32_t i = 0; i < c->key_count; i++) free(c->keys[i].name);
    for (uint32_t i = 0; i < c->pool.count; i++) free(c->pool.strings[i]);
    for (uint32_t i = 0; i < c->metadata_sets_count; i++) free(c->metadata_sets[i]);
    free(c->metadata_sets);
    free(c->pool.strings);
    free(c->pool.index);
    free(c->keys);
    free(c->key_hash);
    free(c->key_index);
    distro_reads_destroy(c);
    free(c->clients);
    free(c->beats);
    free(c->conns);
    free(c->sdk);
    free(c->conf);
    msg_pool_release(c->msg_pool);   /* after the nodes let go of theirs */
    free(c->address);
    free(c->by_address);
    free(c->address_java_hash);
    free(c->nodes);
    free(c->counters);
    free(c);
}

sim_status distro_cluster_start_all(distro_cluster *c, sim_error *err)
{
    for (uint32_t i = 0; i < c->n; i++) {
        sim_status st = sim_node_start(c->sim, i, 0, err);
        if (st != SIM_OK) return st;
    }
    return SIM_OK;
}

void distro_cluster_set_observer(distro_cluster *c, const distro_observer *observer)
{
    if (observer == NULL) {
        memset(&c->observer, 0, sizeof c->observer);
    } else {
        c->observer = *observer;
    }
}

uint32_t distro_cluster_size(const distro_cluster *c) { return c->n; }
const char *distro_cluster_address(const distro_cluster *c, uint32_t node)
{
    SIM_ASSERT(node < c->n);
    return c->address[node];
}

/* --- Queries ------------------------------------------------------------------------ */

static const distro_node *running_node(const distro_cluster *c, uint32_t node)
{
    SIM_ASSERT(node < c->n);
    return c->nodes[node].running ? &c->nodes[node] : NULL;
}

uint32_t distro_node_instance_count(const distro_cluster *c, uint32_t node, uint32_t key)
{
    const distro_node *n = running_node(c, node);
    distro_ilist *v = n != NULL ? distro_store_get(n, key) : NULL;
    return v != NULL ? v->count : 0;
}

const distro_instance *distro_node_instance(const distro_cluster *c, uint32_t node, uint32_t key, uint32_t index)
{
    const distro_node *n = running_node(c, node);
    distro_ilist *v = n != NULL ? distro_store_get(n, key) : NULL;
    return v != NULL && index < v->count ? &v->inst[index] : NULL;
}

const char *distro_cluster_intern(distro_cluster *c, const char *s) { return distro_intern(c, s); }

bool distro_node_has_key(const distro_cluster *c, uint32_t node, uint32_t key)
{
    const distro_node *n = running_node(c, node);
    return n != NULL && distro_store_get(n, key) != NULL;
}

bool distro_node_has_instance(const distro_cluster *c, uint32_t node, uint32_t key, const char *ip,
                              uint32_t port, bool *healthy_out)
{
    const distro_node *n = running_node(c, node);
    distro_ilist *v = n != NULL ? distro_store_get(n, key) : NULL;
    if (v == NULL) return false;
    for (uint32_t i = 0; i < v->count; i++) {
        if (v->inst[i].port == port && strcmp(v->inst[i].ip, ip) == 0) {
            if (healthy_out != NULL) *healthy_out = v->inst[i].healthy;
            return true;
        }
    }
    return false;
}

bool distro_node_lists_client(const distro_cluster *c, uint32_t node, uint32_t client)
{
    SIM_ASSERT(client < c->client_count);
    const distro_client *cl = &c->clients[client];
    const distro_node *n = running_node(c, node);
    distro_ilist *v = n != NULL ? distro_store_get(n, cl->key) : NULL;
    return v != NULL && distro_ilist_find(v, cl->ip, cl->port, cl->cluster_name) != DISTRO_NONE;
}

int64_t distro_node_instance_last_beat_ms(const distro_cluster *c, uint32_t node, uint32_t key, const char *ip,
                                          uint32_t port)
{
    const distro_node *n = running_node(c, node);
    distro_ilist *v = n != NULL ? distro_store_get(n, key) : NULL;
    for (uint32_t i = 0; v != NULL && i < v->count; i++) {
        if (v->inst[i].port == port && strcmp(v->inst[i].ip, ip) == 0) return v->inst[i].last_beat_ms;
    }
    return -1;
}

const char *distro_node_checksum(distro_cluster *c, uint32_t node, uint32_t key)
{
    const distro_node *n = running_node(c, node);
    distro_ilist *v = n != NULL ? distro_store_get(n, key) : NULL;
    return v != NULL ? distro_ilist_checksum(v) : "";
}

uint32_t distro_node_key_count(const distro_cluster *c, uint32_t node)
{
    const distro_node *n = running_node(c, node);
    return n != NULL ? n->key_present_count : 0;
}

distro_member_state distro_node_member_state(const distro_cluster *c, uint32_t node, uint32_t peer)
{
    const distro_node *n = running_node(c, node);
    SIM_ASSERT(peer < c->n);
    return n != NULL ? (distro_member_state)n->peers[peer].state : DISTRO_MEMBER_DOWN;
}

uint32_t distro_node_fail_count(const distro_cluster *c, uint32_t node, uint32_t peer)
{
    const distro_node *n = running_node(c, node);
    return n != NULL ? n->peers[peer].fail_cnt : 0;
}

bool distro_node_responsible(const distro_cluster *c, uint32_t node, uint32_t key)
{
    const distro_node *n = running_node(c, node);
    return n != NULL && distro_mapper_responsible(n, key);
}

uint32_t distro_node_map_srv(const distro_cluster *c, uint32_t node, uint32_t key)
{
    const distro_node *n = running_node(c, node);
    return n != NULL ? distro_mapper_map_srv(n, key) : DISTRO_NONE;
}

uint32_t distro_node_healthy_count(const distro_cluster *c, uint32_t node)
{
    const distro_node *n = running_node(c, node);
    return n != NULL ? n->healthy_count : 0;
}

bool distro_node_initialized(const distro_cluster *c, uint32_t node)
{
    const distro_node *n = running_node(c, node);
    return n != NULL && n->initialized;
}

uint32_t distro_node_loaded_from(const distro_cluster *c, uint32_t node)
{
    const distro_node *n = running_node(c, node);
    return n != NULL ? n->loaded_from : DISTRO_NONE;
}

const distro_counters *distro_node_counters(const distro_cluster *c, uint32_t node)
{
    SIM_ASSERT(node < c->n);
    return &c->counters[node];
}

uint32_t distro_node_pending_tasks(const distro_cluster *c, uint32_t node)
{
    const distro_node *n = running_node(c, node);
    if (n != NULL && n->v2 != NULL) return distro2_tasks_pending(n);   /* 2.x: one per (client, peer) */
    return n != NULL ? distro_tasks_pending(n) : 0;
}
