/* scn_config.c: defaults, copies, checks and the YAML printer of a scenario.
 *
 * Nothing here knows about YAML parsing (that is scn_load.c); the printer
 * writes a fixed layout with fprintf.  Printing is the inverse of loading:
 * every value is written in a form the loader reads back exactly (durations
 * in the largest unit that divides them, ratios with six decimals at most,
 * sizes in the largest unit that divides them, strings double-quoted), so
 * load(print(c)) == c, which tests/test_scn_load.c checks on every good
 * scenario. */
#include "scn_config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "scn_limits.h"
#include "scn_swarm.h"
#include "sim_alloc.h"
#include "sim_assert.h"

/* --- distro_config table ------------------------------------------------- */

#define DUR(name, min) \
    { #name, SCN_DISTRO_DURATION, offsetof(distro_config, name##_ns), (min), 0, SCN_LINE_1_4_2 }
#define BOOLF(name) { #name, SCN_DISTRO_BOOL, offsetof(distro_config, name), 0, 0, SCN_LINE_1_4_2 }
#define U32F(name, min, max) { #name, SCN_DISTRO_U32, offsetof(distro_config, name), (min), (max), SCN_LINE_1_4_2 }
/* A 1.4.2 key the 2.x model reads too (the delay-task tick, member reports,
 * the load's poll with no peer, DistroMapper's switch, the simulator's). */
#define DUR_ALL(name, min) \
    { #name, SCN_DISTRO_DURATION, offsetof(distro_config, name##_ns), (min), 0, SCN_LINE_ALL }
#define BOOL_ALL(name) { #name, SCN_DISTRO_BOOL, offsetof(distro_config, name), 0, 0, SCN_LINE_ALL }
#define U32_ALL(name, min, max) { #name, SCN_DISTRO_U32, offsetof(distro_config, name), (min), (max), SCN_LINE_ALL }
/* cluster.distro.v2.*: the 2.x constants (distro2_config), read by 2.5.1
 * and 3.0.3. */
#define V2DUR(name, min) \
    { "v2." #name, SCN_DISTRO_DURATION, offsetof(distro_config, v2.name##_ns), (min), 0, SCN_LINE_2X }
/* cluster.distro.grpc.*: nacos.remote.client.grpc.* of the cluster gRPC
 * client, read from 3.0.3 on (2.5.1 hard-codes the same defaults). */
#define GDUR(key, member, min) \
    { "grpc." #key, SCN_DISTRO_DURATION, offsetof(distro_config, v2.member), (min), 0, SCN_LINE_3_0_3 }
#define GU32(key, member, min, max) \
    { "grpc." #key, SCN_DISTRO_U32, offsetof(distro_config, v2.member), (min), (max), SCN_LINE_3_0_3 }
/* Keys of the nested `http:` map are named "http.<key>" here, the way
 * `--set cluster.distro.http.<key>` and error messages spell them; the
 * struct member is http_<key>. */
#define HDUR(name, min) \
    { "http." #name, SCN_DISTRO_DURATION, offsetof(distro_config, http_##name##_ns), (min), 0, SCN_LINE_1_4_2 }
#define HU32F(name, min, max) \
    { "http." #name, SCN_DISTRO_U32, offsetof(distro_config, http_##name), (min), (max), SCN_LINE_1_4_2 }

/* Header order.  Periods, timeouts and retry delays must be positive: a zero
 * period would fire forever at one instant.  Initial delays and the two
 * sync delays may be zero (act at once). */
static const scn_distro_field scn_distro_table[] = {
    DUR_ALL(task_tick, 1),
    DUR(sync_delay, 0),
    DUR(sync_batch_delay, 0),
    U32F(batch_sync_key_count, 1, SCN_BATCH_SYNC_KEY_COUNT_MAX),
    DUR(sync_retry_delay, 1),
    /* cluster.distro.http.*: the peer HTTP clients of model/distro_http.c. */
    HDUR(connect_timeout, 1),
    HDUR(read_timeout, 1),
    HDUR(sync_connect_timeout, 0),   /* 0: none (the kernel's SYN limit) */
    HDUR(sync_read_timeout, 0),      /* 0: none */
    HDUR(sync_lease_timeout, 0),     /* 0: none */
    HDUR(sync_ttl, 0),               /* 0: connections live forever */
    HU32F(sync_max_per_route, 0, 65535),   /* 0: cpu_cores */
    HU32F(sync_max_total, 0, 65535),       /* 0: 2 x cpu_cores */
    HU32F(async_max_per_route, 1, 65535),
    HU32F(async_max_total, 1, 65535),
    DUR(load_retry_delay, 1),
    DUR_ALL(load_poll, 1),
    BOOLF(data_warmup),
    DUR(server_status_interval, 1),
    DUR(verify_interval, 1),
    /* The beat check: 1.4.2's ClientBeatCheckTask and, for the IP-port
     * clients of a 2.x cluster (distro2_ipport.c), ClientBeatCheckTaskV2,
     * with the same defaults (an instance's preserved.* metadata, else
     * these) and the same switches. */
    DUR_ALL(beat_check_interval, 1),
    DUR_ALL(heartbeat_timeout, 1),
    DUR_ALL(ip_delete_timeout, 1),
    BOOL_ALL(expire_instance),
    BOOL_ALL(health_check_enabled),
    DUR(health_sync_initial, 0),
    DUR(health_sync_interval, 1),
    /* client_beat_interval is not a key: it is workload.beat_interval
     * (scn_config.h, "One beat interval"). */
    DUR_ALL(member_report_initial, 0),
    DUR_ALL(member_report_interval, 1),
    U32_ALL(member_fail_access_cnt, 0, SCN_MEMBER_FAIL_ACCESS_CNT_MAX),
    BOOLF(members_start_down),
    DUR(member_report_connect_timeout, 1),
    DUR(member_report_timeout, 1),
    U32F(cpu_cores, 1, 1024),       /* execute workers: next power of two >= cores */
    DUR(proxy_timeout, 1),
    BOOL_ALL(distro_enabled),
    BOOLF(default_instance_ephemeral),
    BOOLF(light_beat_enabled),
    BOOLF(verify_guard_racy),
    BOOLF(raft_gate),
    DUR(raft_election_delay, 1),
    BOOL_ALL(shortcuts),
    BOOLF(merged_beats),
    /* cluster.distro.v2.*: DistroConstants, ClientConfig, ConnectionManager
     * and the SDK's redo (section 3; distro_config.h). */
    V2DUR(sync_delay, 0),
    V2DUR(sync_timeout, 1),
    V2DUR(sync_retry_delay, 1),
    V2DUR(verify_interval, 1),
    V2DUR(verify_timeout, 1),
    V2DUR(load_retry_delay, 1),
    V2DUR(load_timeout, 1),
    V2DUR(client_expired, 1),
    V2DUR(cleaner_interval, 1),
    V2DUR(ejector_initial, 0),
    V2DUR(ejector_interval, 1),
    V2DUR(connection_idle, 1),
    V2DUR(detection_timeout, 1),
    V2DUR(redo_interval, 1),
    V2DUR(unhealthy_report_interval, 1),
    /* cluster.distro.grpc.*: nacos.remote.client.grpc.{retry.times,
     * timeout, connect.keep.alive, health.retry, health.timeout,
     * maxinbound.message.size}. */
    GU32(retry_times, rpc_retry_times, 0, 100),
    GDUR(timeout, rpc_timeout_ns, 1),
    GDUR(connect_keep_alive, rpc_keepalive_ns, 1),
    GU32(health_retry, rpc_health_retry_times, 0, 100),
    GDUR(health_timeout, rpc_health_timeout_ns, 1),
    /* maxinbound.message.size, in bytes as Nacos reads it (a Java int). */
    GU32(max_inbound_message_size, rpc_max_inbound_bytes, 1, 2147483647u),
};

#undef DUR
#undef BOOLF
#undef U32F
#undef HDUR
#undef HU32F
#undef DUR_ALL
#undef BOOL_ALL
#undef U32_ALL
#undef V2DUR
#undef GDUR
#undef GU32

const scn_distro_field *scn_distro_fields(size_t *count)
{
    SIM_ASSERT(count != NULL);
    *count = sizeof scn_distro_table / sizeof scn_distro_table[0];
    return scn_distro_table;
}

uint32_t scn_version_line(const char *version)
{
    if (strcmp(version, "2.5.1") == 0) return SCN_LINE_2_5_1;
    if (strcmp(version, "3.0.3") == 0) return SCN_LINE_3_0_3;
    return SCN_LINE_1_4_2;
}

const char *scn_distro_refusal(const scn_distro_field *f, const char *version)
{
    uint32_t line = scn_version_line(version);
    if ((f->lines & line) != 0) return NULL;
    if (f->lines == SCN_LINE_3_0_3) {
        return "a Nacos 3.0.3 setting (nacos.remote.client.grpc.*): 2.5.1 hard-codes its cluster gRPC client";
    }
    if (f->lines == SCN_LINE_2X) return "a Nacos 2.x setting (2.5.1 and 3.0.3), which a 1.4.2 cluster does not read";
    return line == SCN_LINE_2_5_1
               ? "a Nacos 1.4.2 setting, which a 2.5.1 cluster does not read (its settings are cluster.distro.v2.*)"
               : "a Nacos 1.4.2 setting, which a 3.0.3 cluster does not read (its settings are cluster.distro.v2.* "
                 "and cluster.distro.grpc.*)";
}

/* --- Small helpers -------------------------------------------------------- */

void scn_default_address(uint32_t index, char out[SCN_ADDRESS_BYTES])
{
    SIM_ASSERT(index < SCN_NODES_MAX);
    snprintf(out, SCN_ADDRESS_BYTES, "10.0.0.%u:8848", (unsigned)(index + 1u));
}

const char *scn_fault_kind_name(scn_fault_kind kind)
{
    switch (kind) {
    case SCN_FAULT_PARTITION: return "partition";
    case SCN_FAULT_BLOCK: return "block";
    case SCN_FAULT_ISOLATE: return "isolate";
    case SCN_FAULT_HEAL_ALL: return "heal";
    case SCN_FAULT_HEAL_LINK: return "heal";
    case SCN_FAULT_HEAL_NODE: return "heal";
    case SCN_FAULT_CRASH: return "crash";
    case SCN_FAULT_START: return "start";
    case SCN_FAULT_RESTART: return "restart";
    case SCN_FAULT_PAUSE: return "pause";
    case SCN_FAULT_LINK: return "link";
    case SCN_FAULT_CLOCK: return "clock";
    case SCN_FAULT_MEMBERS: return "members";
    case SCN_FAULT_KINDS: break;
    }
    return "unknown";
}

void scn_format_duration(sim_time_ns ns, char *buf, size_t size)
{
    static const struct { sim_time_ns unit; const char *suffix; } units[] = {
        { 3600u * SIM_S, "h" }, { 60u * SIM_S, "m" }, { SIM_S, "s" },
        { SIM_MS, "ms" },       { SIM_US, "us" },     { 1u, "ns" },
    };
    SIM_ASSERT(buf != NULL);
    SIM_ASSERT(size >= 32);
    if (ns == 0) {
        snprintf(buf, size, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ns % units[i].unit == 0) {
            snprintf(buf, size, "%" PRIu64 "%s", ns / units[i].unit, units[i].suffix);
            return;
        }
    }
    SIM_ASSERT(0 && "1 ns divides everything");
}

sim_time_ns scn_config_fault_window_ns(const scn_config *config)
{
    SIM_ASSERT(config != NULL);
    return config->phases.enabled ? config->phases.chaos_ns : config->duration_ns;
}

static distro_version version_of(const char *version)
{
    if (strcmp(version, "2.5.1") == 0) return DISTRO_VERSION_2_5_1;
    if (strcmp(version, "3.0.3") == 0) return DISTRO_VERSION_3_0_3;
    return DISTRO_VERSION_1_4_2;
}

const char *scn_clients_name(scn_clients clients)
{
    switch (clients) {
    case SCN_CLIENTS_DEFAULT: return "";
    case SCN_CLIENTS_2X_SDK: return "2.x-sdk";
    case SCN_CLIENTS_1X_SDK: return "1.x-sdk";
    case SCN_CLIENTS_MIXED: return "mixed";
    case SCN_CLIENTS_HTTP_V2: return "http-v2";
    }
    return "";
}

distro_version scn_cluster_version(const scn_config *config)
{
    return version_of(config->cluster.version);
}

static bool identity_blank(const scn_identity *id) { return id->key[0] == '\0' || id->value[0] == '\0'; }

static const scn_identity *node_identity(const scn_cluster *cl, uint32_t i)
{
    return cl->node_identity_set[i] ? &cl->node_identity[i] : &cl->identity;
}

void scn_cluster_node_settings(const scn_config *config, distro3_config *out)
{
    const scn_cluster *cl = &config->cluster;
    SIM_ASSERT(cl->nodes <= DISTRO_NODE_SETTINGS_MAX);
    for (uint32_t i = 0; i < cl->nodes; i++) {
        /* The id of the first node with the same key and value, + 1. */
        const scn_identity *id = node_identity(cl, i);
        out->identity[i] = 0;
        for (uint32_t j = 0; !identity_blank(id) && j <= i && out->identity[i] == 0; j++) {
            const scn_identity *o = node_identity(cl, j);
            if (strcmp(o->key, id->key) == 0 && strcmp(o->value, id->value) == 0) out->identity[i] = j + 1u;
        }
        out->node_version[i] = cl->node_version[i][0] == '\0' ? 0 : (uint8_t)(version_of(cl->node_version[i]) + 1u);
        out->node_upgrade[i] = cl->node_upgrade[i][0] == '\0' ? 0 : (uint8_t)(version_of(cl->node_upgrade[i]) + 1u);
    }
}

uint32_t scn_partition_group_of(const scn_fault *fault, uint32_t nodes, uint32_t *group_of)
{
    SIM_ASSERT(fault->kind == SCN_FAULT_PARTITION);
    SIM_ASSERT(nodes <= SCN_NODES_MAX);
    bool any_unlisted = false;
    for (uint32_t i = 0; i < nodes; i++) {
        if (fault->group_of[i] == SCN_GROUP_UNLISTED) {
            group_of[i] = fault->group_count;
            any_unlisted = true;
        } else {
            SIM_ASSERT(fault->group_of[i] < fault->group_count);
            group_of[i] = fault->group_of[i];
        }
    }
    return fault->group_count + (any_unlisted ? 1u : 0u);
}

/* --- Defaults, deinit, copy ----------------------------------------------- */

void scn_config_defaults(scn_config *config)
{
    SIM_ASSERT(config != NULL);
    memset(config, 0, sizeof *config);
    config->seed = 1;
    config->duration_ns = 5u * 60u * SIM_S;

    config->cluster.nodes = 3;
    for (uint32_t i = 0; i < config->cluster.nodes; i++) {
        scn_default_address(i, config->cluster.addresses[i]);
    }
    snprintf(config->cluster.version, sizeof config->cluster.version, "1.4.2");
    config->cluster.distro = distro_config_defaults();
    /* 3.x startup.sh requires an identity (distribution/bin/startup.sh
     * :166-167 at 3.0.3); these are the values its documentation shows. */
    snprintf(config->cluster.identity.key, sizeof config->cluster.identity.key, "serverIdentity");
    snprintf(config->cluster.identity.value, sizeof config->cluster.identity.value, "security");

    config->network.transport = SCN_TRANSPORT_TCP;
    config->network.tcp = sim_conn_params_default();
    config->network.defaults = sim_link_params_default();

    scn_workload *w = &config->workload;
    w->services = 10;
    w->instances_per_service = 2;
    snprintf(w->namespace_id, sizeof w->namespace_id, "public");
    snprintf(w->group, sizeof w->group, "DEFAULT_GROUP");
    snprintf(w->service_prefix, sizeof w->service_prefix, "svc");
    w->beat_interval_ns = 5u * SIM_S;
    w->register_spread_ns = 10u * SIM_S;
    w->start_at_ns = 0;
    w->reads = (scn_reads){ .services = 0, .queriers = 0, .query_interval_ns = SIM_S, .subscribers = 0,
                            .push_empty_protection = false, .start_at_ns = 0,
                            .subscriber_sdk = SCN_READS_SDK_1X };

    config->nemesis.enabled = false;
    config->nemesis.kinds = SCN_NEMESIS_KINDS_ALLOWED;
    config->nemesis.interval = (scn_range_ns){ .min_ns = 10u * SIM_S, .max_ns = 30u * SIM_S };
    config->nemesis.duration = (scn_range_ns){ .min_ns = 5u * SIM_S, .max_ns = 20u * SIM_S };
    config->nemesis.max_down = (config->cluster.nodes - 1u) / 2u;

    config->phases.enabled = false;
    config->phases.chaos_ns = 3u * 60u * SIM_S;
    config->phases.quiet_ns = 2u * 60u * SIM_S;

    config->expect.converge_within = (scn_bound){ .checked = true, .max_ns = 60u * SIM_S };
    config->expect.recover_within = (scn_bound){ .checked = false, .max_ns = 0 };
    config->expect.lost_max = (scn_bound){ .checked = true, .max_ns = 0 };
    config->expect.zombie_max = (scn_bound){ .checked = true, .max_ns = 0 };
    config->expect.ownership_disagreement_max = (scn_bound){ .checked = false, .max_ns = 0 };
    /* Strict, as lost and zombie: with no reader there is no window. */
    config->expect.client_empty_max = (scn_bound){ .checked = true, .max_ns = 0 };
    config->expect.client_short_max = (scn_bound){ .checked = true, .max_ns = 0 };
    config->expect.client_stale_max = (scn_bound){ .checked = true, .max_ns = 0 };
    config->expect.lag_allowance_ns = SCN_ALLOWANCE_DERIVED;
    config->expect.zombie_allowance_ns = SCN_ALLOWANCE_DERIVED;
}

void scn_config_deinit(scn_config *config)
{
    if (config == NULL) return;
    free(config->description);
    free(config->incident);
    free(config->network.links);
    free(config->workload.metadata);
    free(config->faults);
    free(config->expect.counters);
    scn_swarm_free(config->swarm, config->swarm_count);
    memset(config, 0, sizeof *config);
}

/* Returns an owned copy of `count` elements of `size` bytes, or NULL when
 * count is 0.  Sets *failed on allocation failure. */
static void *copy_array(const void *src, size_t count, size_t size, bool *failed)
{
    if (count == 0) return NULL;
    SIM_ASSERT(src != NULL);
    void *dst = sim_malloc(count * size);
    if (dst == NULL) {
        *failed = true;
        return NULL;
    }
    memcpy(dst, src, count * size);
    return dst;
}

static char *copy_text(const char *src, bool *failed)
{
    if (src == NULL) return NULL;
    return copy_array(src, strlen(src) + 1, 1, failed);
}

sim_status scn_config_copy(scn_config *out, const scn_config *src, sim_error *err)
{
    SIM_ASSERT(out != NULL);
    SIM_ASSERT(src != NULL);
    bool failed = false;
    *out = *src;   /* scalars and inline arrays; pointers replaced below */
    out->description = copy_text(src->description, &failed);
    out->incident = copy_text(src->incident, &failed);
    out->network.links = copy_array(src->network.links, src->network.link_count,
                                    sizeof *src->network.links, &failed);
    out->workload.metadata = copy_array(src->workload.metadata, src->workload.metadata_count,
                                        sizeof *src->workload.metadata, &failed);
    out->faults = copy_array(src->faults, src->fault_count, sizeof *src->faults, &failed);
    out->expect.counters = copy_array(src->expect.counters, src->expect.counter_count,
                                      sizeof *src->expect.counters, &failed);
    if (!scn_swarm_copy(&out->swarm, src->swarm, src->swarm_count)) failed = true;
    if (failed) {
        scn_config_deinit(out);
        return sim_error_set(err, SIM_ERR_NOMEM, "scn_config_copy", "cannot copy the scenario");
    }
    return SIM_OK;
}

/* --- Equality -------------------------------------------------------------- */

static bool dist_equal(const sim_dist *a, const sim_dist *b)
{
    return a->kind == b->kind && a->a_ns == b->a_ns && a->b_ns == b->b_ns &&
           a->sigma_milli == b->sigma_milli;
}

static bool latency_equal(const sim_latency *a, const sim_latency *b)
{
    return dist_equal(&a->base, &b->base) && dist_equal(&a->tail, &b->tail) &&
           a->tail_ppm == b->tail_ppm;
}

static bool link_params_equal(const sim_link_params *a, const sim_link_params *b)
{
    return latency_equal(&a->latency, &b->latency) && a->loss_ppm == b->loss_ppm &&
           a->duplicate_ppm == b->duplicate_ppm && a->reorder == b->reorder &&
           a->bandwidth_bytes_per_s == b->bandwidth_bytes_per_s;
}

static bool text_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

static bool distro_equal(const distro_config *a, const distro_config *b)
{
    size_t count = 0;
    const scn_distro_field *fields = scn_distro_fields(&count);
    for (size_t i = 0; i < count; i++) {
        const char *pa = (const char *)a + fields[i].offset;
        const char *pb = (const char *)b + fields[i].offset;
        switch (fields[i].type) {
        case SCN_DISTRO_DURATION:
            if (*(const sim_time_ns *)pa != *(const sim_time_ns *)pb) return false;
            break;
        case SCN_DISTRO_BOOL:
            if (*(const bool *)pa != *(const bool *)pb) return false;
            break;
        case SCN_DISTRO_U32:
            if (*(const uint32_t *)pa != *(const uint32_t *)pb) return false;
            break;
        }
    }
    return true;
}

static bool bound_equal(const scn_bound *a, const scn_bound *b)
{
    return a->checked == b->checked && a->max_ns == b->max_ns;
}

static bool fault_equal(const scn_fault *a, const scn_fault *b)
{
    if (a->kind != b->kind || a->at_ns != b->at_ns || a->node != b->node || a->from != b->from ||
        a->to != b->to || a->duration_ns != b->duration_ns || a->both != b->both ||
        a->link_fields != b->link_fields || a->group_count != b->group_count ||
        a->clock_offset_ns != b->clock_offset_ns || a->clock_drift_ppm != b->clock_drift_ppm ||
        a->members_on != b->members_on || a->members_add != b->members_add ||
        a->members_remove != b->members_remove || a->recover_within_set != b->recover_within_set ||
        !bound_equal(&a->recover_within, &b->recover_within) || a->rolling_step != b->rolling_step ||
        a->rolling_steps != b->rolling_steps || a->rolling_every_ns != b->rolling_every_ns ||
        a->rolling_wait != b->rolling_wait) {
        return false;
    }
    if (!link_params_equal(&a->link, &b->link)) return false;
    return memcmp(a->group_of, b->group_of, sizeof a->group_of) == 0;   /* a byte array: no padding */
}

static bool counter_equal(const scn_counter_bound *a, const scn_counter_bound *b)
{
    return strcmp(a->name, b->name) == 0 && a->min_set == b->min_set && a->min == b->min &&
           a->max_set == b->max_set && a->max == b->max;
}

static bool top_equal(const scn_config *a, const scn_config *b)
{
    if (strcmp(a->name, b->name) != 0) return false;
    if (!text_equal(a->description, b->description)) return false;
    if (!text_equal(a->incident, b->incident)) return false;
    if (a->tag_count != b->tag_count) return false;
    for (uint32_t i = 0; i < a->tag_count; i++) {
        if (strcmp(a->tags[i], b->tags[i]) != 0) return false;
    }
    if (a->seed != b->seed || a->duration_ns != b->duration_ns) return false;
    if (a->cluster.nodes != b->cluster.nodes) return false;
    for (uint32_t i = 0; i < a->cluster.nodes; i++) {
        if (strcmp(a->cluster.addresses[i], b->cluster.addresses[i]) != 0) return false;
    }
    if (strcmp(a->cluster.version, b->cluster.version) != 0) return false;
    if (strcmp(a->cluster.identity.key, b->cluster.identity.key) != 0 ||
        strcmp(a->cluster.identity.value, b->cluster.identity.value) != 0) {
        return false;
    }
    for (uint32_t i = 0; i < SCN_NODES_MAX; i++) {
        if (a->cluster.node_identity_set[i] != b->cluster.node_identity_set[i] ||
            strcmp(a->cluster.node_version[i], b->cluster.node_version[i]) != 0 ||
            strcmp(a->cluster.node_upgrade[i], b->cluster.node_upgrade[i]) != 0) {
            return false;
        }
        if (a->cluster.node_identity_set[i] &&
            (strcmp(a->cluster.node_identity[i].key, b->cluster.node_identity[i].key) != 0 ||
             strcmp(a->cluster.node_identity[i].value, b->cluster.node_identity[i].value) != 0)) {
            return false;
        }
    }
    if (a->cluster.distro.v2.bugs != b->cluster.distro.v2.bugs) return false;
    return distro_equal(&a->cluster.distro, &b->cluster.distro);
}

static bool workload_equal(const scn_workload *a, const scn_workload *b)
{
    if (a->services != b->services || a->instances_per_service != b->instances_per_service ||
        strcmp(a->namespace_id, b->namespace_id) != 0 || strcmp(a->group, b->group) != 0 ||
        strcmp(a->service_prefix, b->service_prefix) != 0 ||
        a->beat_interval_ns != b->beat_interval_ns ||
        a->register_spread_ns != b->register_spread_ns || a->start_at_ns != b->start_at_ns ||
        a->churn.register_per_min_milli != b->churn.register_per_min_milli ||
        a->churn.deregister_per_min_milli != b->churn.deregister_per_min_milli ||
        a->churn.crash_per_min_milli != b->churn.crash_per_min_milli ||
        a->reads.services != b->reads.services || a->reads.queriers != b->reads.queriers ||
        a->reads.query_interval_ns != b->reads.query_interval_ns || a->reads.subscribers != b->reads.subscribers ||
        a->reads.push_empty_protection != b->reads.push_empty_protection ||
        a->reads.start_at_ns != b->reads.start_at_ns ||
        a->reads.subscriber_sdk != b->reads.subscriber_sdk || a->clients != b->clients ||
        a->metadata_count != b->metadata_count) {
        return false;
    }
    for (uint32_t i = 0; i < a->metadata_count; i++) {
        if (strcmp(a->metadata[i].key, b->metadata[i].key) != 0) return false;
        if (strcmp(a->metadata[i].value, b->metadata[i].value) != 0) return false;
    }
    return true;
}

static bool tcp_equal(const sim_conn_params *a, const sim_conn_params *b)
{
    return a->syn_rto_ns == b->syn_rto_ns && a->syn_retries == b->syn_retries && a->rto_min_ns == b->rto_min_ns &&
           a->rto_max_ns == b->rto_max_ns && a->retries2 == b->retries2 && a->orphan_retries == b->orphan_retries &&
           a->rcvbuf_bytes == b->rcvbuf_bytes;
}

bool scn_config_equal(const scn_config *a, const scn_config *b)
{
    SIM_ASSERT(a != NULL);
    SIM_ASSERT(b != NULL);
    if (!top_equal(a, b)) return false;
    if (a->network.transport != b->network.transport) return false;
    if (!tcp_equal(&a->network.tcp, &b->network.tcp)) return false;
    if (!link_params_equal(&a->network.defaults, &b->network.defaults)) return false;
    if (a->network.link_count != b->network.link_count) return false;
    for (uint32_t i = 0; i < a->network.link_count; i++) {
        const scn_link_override *la = &a->network.links[i], *lb = &b->network.links[i];
        if (la->from != lb->from || la->to != lb->to || la->fields != lb->fields) return false;
        if (!link_params_equal(&la->params, &lb->params)) return false;
    }
    if (!workload_equal(&a->workload, &b->workload)) return false;
    if (a->fault_count != b->fault_count) return false;
    for (uint32_t i = 0; i < a->fault_count; i++) {
        if (!fault_equal(&a->faults[i], &b->faults[i])) return false;
    }
    const scn_nemesis *na = &a->nemesis, *nb = &b->nemesis;
    if (na->enabled != nb->enabled || na->kinds != nb->kinds ||
        na->interval.min_ns != nb->interval.min_ns || na->interval.max_ns != nb->interval.max_ns ||
        na->duration.min_ns != nb->duration.min_ns || na->duration.max_ns != nb->duration.max_ns ||
        na->max_down != nb->max_down) {
        return false;
    }
    if (a->phases.enabled != b->phases.enabled || a->phases.chaos_ns != b->phases.chaos_ns ||
        a->phases.quiet_ns != b->phases.quiet_ns) {
        return false;
    }
    if (a->engine.events_budget != b->engine.events_budget || a->engine.events_max != b->engine.events_max) {
        return false;
    }
    const scn_expect *ea = &a->expect, *eb = &b->expect;
    if (!bound_equal(&ea->converge_within, &eb->converge_within) ||
        !bound_equal(&ea->recover_within, &eb->recover_within) ||
        !bound_equal(&ea->lost_max, &eb->lost_max) || !bound_equal(&ea->zombie_max, &eb->zombie_max) ||
        !bound_equal(&ea->lost_p99, &eb->lost_p99) || !bound_equal(&ea->zombie_p99, &eb->zombie_p99) ||
        ea->lost_count.checked != eb->lost_count.checked || ea->lost_count.max != eb->lost_count.max ||
        ea->zombie_count.checked != eb->zombie_count.checked || ea->zombie_count.max != eb->zombie_count.max ||
        !bound_equal(&ea->ownership_disagreement_max, &eb->ownership_disagreement_max) ||
        !bound_equal(&ea->client_empty_max, &eb->client_empty_max) ||
        !bound_equal(&ea->client_short_max, &eb->client_short_max) ||
        !bound_equal(&ea->client_stale_max, &eb->client_stale_max) ||
        ea->lag_allowance_ns != eb->lag_allowance_ns || ea->zombie_allowance_ns != eb->zombie_allowance_ns ||
        ea->counter_count != eb->counter_count) {
        return false;
    }
    for (uint32_t i = 0; i < ea->counter_count; i++) {
        if (!counter_equal(&ea->counters[i], &eb->counters[i])) return false;
    }
    return a->swarm_count == b->swarm_count && scn_swarm_equal(a->swarm, b->swarm, a->swarm_count);
}

/* --- Validation ------------------------------------------------------------ */

#define INVALID(...) sim_error_set(err, SIM_ERR_SCENARIO, where, __VA_ARGS__)

static bool name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > SCN_NAME_BYTES_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

/* Node references of one fault, for the range check: up to two nodes and a
 * set.  `what` names the YAML key that holds them. */
static sim_status validate_fault_nodes(const scn_fault *f, uint32_t index, uint32_t nodes,
                                       const char *where, sim_error *err)
{
    const scn_node_set all = nodes == 64 ? UINT64_MAX : ((scn_node_set)1 << nodes) - 1u;
    const char *kind = scn_fault_kind_name(f->kind);
    switch (f->kind) {
    case SCN_FAULT_ISOLATE:
    case SCN_FAULT_CRASH:
    case SCN_FAULT_START:
    case SCN_FAULT_HEAL_NODE:
    case SCN_FAULT_RESTART:
    case SCN_FAULT_PAUSE:
    case SCN_FAULT_CLOCK:
        if (f->node >= nodes) {
            return INVALID("faults[%u].%s: node %u is out of range (the cluster has %u nodes)",
                           (unsigned)index, kind, (unsigned)f->node, (unsigned)nodes);
        }
        break;
    case SCN_FAULT_BLOCK:
    case SCN_FAULT_HEAL_LINK:
    case SCN_FAULT_LINK:
        if (f->from >= nodes || f->to >= nodes) {
            return INVALID("faults[%u].%s: link %u -> %u is out of range (the cluster has %u nodes)",
                           (unsigned)index, kind, (unsigned)f->from, (unsigned)f->to, (unsigned)nodes);
        }
        if (f->from == f->to) {
            return INVALID("faults[%u].%s: from and to are the same node (%u)", (unsigned)index, kind,
                           (unsigned)f->from);
        }
        break;
    case SCN_FAULT_PARTITION: {
        uint32_t group_of[SCN_NODES_MAX];
        for (uint32_t i = nodes; i < SCN_NODES_MAX; i++) {
            if (f->group_of[i] != SCN_GROUP_UNLISTED) {
                return INVALID("faults[%u].partition: node %u is out of range (the cluster has %u nodes)",
                               (unsigned)index, (unsigned)i, (unsigned)nodes);
            }
        }
        if (f->group_count == 0 || scn_partition_group_of(f, nodes, group_of) < 2) {
            return INVALID("faults[%u].partition: a partition needs at least two groups "
                           "(nodes not listed form one extra group)", (unsigned)index);
        }
        break;
    }
    case SCN_FAULT_MEMBERS:
        if (((f->members_on | f->members_add | f->members_remove) & ~all) != 0) {
            return INVALID("faults[%u].members: a node is out of range (the cluster has %u nodes)",
                           (unsigned)index, (unsigned)nodes);
        }
        if (f->members_on == 0 || (f->members_add | f->members_remove) == 0 ||
            (f->members_add & f->members_remove) != 0) {
            return INVALID("faults[%u].members: expected a non-empty `on` and disjoint add and remove "
                           "lists, not both empty", (unsigned)index);
        }
        break;
    case SCN_FAULT_HEAL_ALL:
        break;
    case SCN_FAULT_KINDS:
        return INVALID("faults[%u]: unknown fault kind %d", (unsigned)index, (int)f->kind);
    }
    return SIM_OK;
}

/* `entry` is the fault's entry in the file (scn_fault_entry), which messages name. */
static sim_status validate_fault(const scn_config *c, uint32_t index, uint32_t entry, const char *where,
                                 sim_error *err)
{
    const scn_fault *f = &c->faults[index];
    char at[32], end[32];
    sim_time_ns window_ns = scn_config_fault_window_ns(c);
    if (f->at_ns >= window_ns) {
        scn_format_duration(f->at_ns, at, sizeof at);
        scn_format_duration(window_ns, end, sizeof end);
        if (c->phases.enabled) {
            return INVALID("faults[%u].at: %s is not within the chaos phase (%s); faults act only "
                           "during chaos", (unsigned)entry, at, end);
        }
        return INVALID("faults[%u].at: %s is not before the end of the run (%s)", (unsigned)entry, at, end);
    }
    sim_status st = validate_fault_nodes(f, entry, c->cluster.nodes, where, err);
    if (st != SIM_OK) return st;
    if (f->duration_ns > SCN_DURATION_NS_MAX) {
        return INVALID("faults[%u]: duration above the limit of one year", (unsigned)entry);
    }
    if ((f->kind == SCN_FAULT_PAUSE || f->kind == SCN_FAULT_LINK) && f->duration_ns == 0) {
        return INVALID("faults[%u].%s.for: expected a positive duration", (unsigned)entry,
                       scn_fault_kind_name(f->kind));
    }
    if (f->recover_within_set && (f->kind == SCN_FAULT_HEAL_ALL || f->kind == SCN_FAULT_HEAL_LINK ||
                                  f->kind == SCN_FAULT_HEAL_NODE || f->kind == SCN_FAULT_START)) {
        return INVALID("faults[%u].recover_within: a %s ends other faults and has no recovery of its own; "
                       "bound the fault it ends", (unsigned)entry, scn_fault_kind_name(f->kind));
    }
    if (f->kind == SCN_FAULT_LINK) {
        if (f->link_fields == 0 || (f->link_fields & ~(uint32_t)SCN_LINK_ALL) != 0) {
            return INVALID("faults[%u].link: expected at least one of latency, loss, duplicate, "
                           "reorder, bandwidth", (unsigned)entry);
        }
        sim_error lat_err;
        if (sim_latency_validate(&f->link.latency, &lat_err) != SIM_OK) {
            return INVALID("faults[%u].link.latency: %s", (unsigned)entry, lat_err.message);
        }
        if (f->link.loss_ppm > SIM_PPM || f->link.duplicate_ppm > SIM_PPM) {
            return INVALID("faults[%u].link: ratio above 1", (unsigned)entry);
        }
    }
    if (f->kind == SCN_FAULT_CLOCK) {
        if (f->clock_drift_ppm > SIM_DRIFT_PPM_MAX || f->clock_drift_ppm < -SIM_DRIFT_PPM_MAX) {
            return INVALID("faults[%u].clock.drift_ppm: expected an integer between %d and %d, got %d",
                           (unsigned)entry, -SIM_DRIFT_PPM_MAX, SIM_DRIFT_PPM_MAX,
                           (int)f->clock_drift_ppm);
        }
        if (f->clock_offset_ns > (int64_t)SCN_DURATION_NS_MAX ||
            f->clock_offset_ns < -(int64_t)SCN_DURATION_NS_MAX) {
            return INVALID("faults[%u].clock.offset: above the limit of one year", (unsigned)entry);
        }
    }
    return SIM_OK;
}

uint32_t scn_fault_entry(const scn_config *c, uint32_t index)
{
    uint32_t entry = 0;
    for (uint32_t i = 1; i <= index && i < c->fault_count; i++) {
        if (c->faults[i].rolling_step == 0) entry++;
    }
    return entry;
}

/* Whether step k of the group at faults[first] is what its entry expands to. */
static bool rolling_step_ok(const scn_fault *first, const scn_fault *f, uint32_t k)
{
    return f->rolling_step == k && f->rolling_steps == first->rolling_steps &&
           f->rolling_every_ns == first->rolling_every_ns && f->kind == first->kind &&
           f->duration_ns == first->duration_ns && f->recover_within_set == first->recover_within_set &&
           f->rolling_wait == first->rolling_wait &&
           bound_equal(&f->recover_within, &first->recover_within) &&
           f->at_ns == first->at_ns + (sim_time_ns)k * first->rolling_every_ns;
}

/* Every rolling group is whole and regular, so the printer can write its
 * entry back; its last step starts inside the fault window. */
static sim_status validate_rolling(const scn_config *c, const char *where, sim_error *err)
{
    for (uint32_t i = 0, entry = 0; i < c->fault_count; entry++) {
        const scn_fault *first = &c->faults[i];
        uint32_t steps = first->rolling_steps;
        if (steps == 0) {
            if (first->rolling_step != 0) return INVALID("faults[%u]: a rolling step outside its entry", (unsigned)entry);
            i++;
            continue;
        }
        if (first->kind != SCN_FAULT_RESTART && first->kind != SCN_FAULT_PAUSE) {
            return INVALID("faults[%u].rolling.action: expected restart or pause", (unsigned)entry);
        }
        if (first->rolling_every_ns == 0 || first->rolling_every_ns > SCN_DURATION_NS_MAX) {
            return INVALID("faults[%u].rolling.every: expected a positive duration of at most 8760h", (unsigned)entry);
        }
        if (steps > c->fault_count - i) return INVALID("faults[%u].rolling: steps missing", (unsigned)entry);
        for (uint32_t k = 0; k < steps; k++) {
            if (!rolling_step_ok(first, &c->faults[i + k], k)) {
                return INVALID("faults[%u].rolling: step %u differs from its entry", (unsigned)entry, (unsigned)k);
            }
        }
        const scn_fault *last = &c->faults[i + steps - 1];
        sim_time_ns window_ns = scn_config_fault_window_ns(c);
        if (last->at_ns >= window_ns) {
            char at[32], end[32];
            scn_format_duration(last->at_ns, at, sizeof at);
            scn_format_duration(window_ns, end, sizeof end);
            return INVALID("faults[%u].rolling: step %u (node %u) starts at %s, not %s (%s)", (unsigned)entry,
                           (unsigned)(steps - 1), (unsigned)last->node, at,
                           c->phases.enabled ? "within the chaos phase" : "before the end of the run", end);
        }
        i += steps;
    }
    return SIM_OK;
}

/* Invariant (5) and the per-link checks shared by overrides and faults. */
static bool unmasked_fields_default(const sim_link_params *p, uint32_t fields, const sim_link_params *d)
{
    if (!(fields & SCN_LINK_LATENCY) && !latency_equal(&p->latency, &d->latency)) return false;
    if (!(fields & SCN_LINK_LOSS) && p->loss_ppm != d->loss_ppm) return false;
    if (!(fields & SCN_LINK_DUPLICATE) && p->duplicate_ppm != d->duplicate_ppm) return false;
    if (!(fields & SCN_LINK_REORDER) && p->reorder != d->reorder) return false;
    if (!(fields & SCN_LINK_BANDWIDTH) && p->bandwidth_bytes_per_s != d->bandwidth_bytes_per_s) return false;
    return true;
}

static sim_status validate_network(const scn_config *c, const char *where, sim_error *err)
{
    const scn_network *n = &c->network;
    sim_error lat_err;   /* its own value: err is rewritten by INVALID */
    if (sim_latency_validate(&n->defaults.latency, &lat_err) != SIM_OK) {
        return INVALID("network.latency: %s", lat_err.message);
    }
    if (n->defaults.loss_ppm > SIM_PPM) return INVALID("network.loss: expected a ratio between 0 and 1");
    if (n->defaults.duplicate_ppm > SIM_PPM) {
        return INVALID("network.duplicate: expected a ratio between 0 and 1");
    }
    if (n->defaults.bandwidth_bytes_per_s > SCN_BANDWIDTH_BYTES_PER_S_MAX) {
        return INVALID("network.bandwidth: above the limit of 1PB per second");
    }
    if (n->link_count > SCN_LINKS_MAX) return INVALID("network.links: more than %u links", SCN_LINKS_MAX);
    for (uint32_t i = 0; i < n->link_count; i++) {
        const scn_link_override *l = &n->links[i];
        if (l->from >= c->cluster.nodes || l->to >= c->cluster.nodes) {
            return INVALID("network.links[%u]: link %u -> %u is out of range (the cluster has %u nodes)",
                           (unsigned)i, (unsigned)l->from, (unsigned)l->to, (unsigned)c->cluster.nodes);
        }
        if (l->from == l->to) {
            return INVALID("network.links[%u]: from and to are the same node (%u)", (unsigned)i,
                           (unsigned)l->from);
        }
        if (l->fields == 0 || !unmasked_fields_default(&l->params, l->fields, &n->defaults)) {
            return INVALID("network.links[%u]: fields not set must equal the network defaults", (unsigned)i);
        }
        if (sim_latency_validate(&l->params.latency, &lat_err) != SIM_OK) {
            return INVALID("network.links[%u].latency: %s", (unsigned)i, lat_err.message);
        }
        for (uint32_t j = 0; j < i; j++) {   /* O(links^2), links <= 4032 */
            if (n->links[j].from == l->from && n->links[j].to == l->to) {
                return INVALID("network.links[%u]: link %u -> %u is already set by network.links[%u]",
                               (unsigned)i, (unsigned)l->from, (unsigned)l->to, (unsigned)j);
            }
        }
    }
    for (uint32_t i = 0; i < c->fault_count; i++) {
        const scn_fault *f = &c->faults[i];
        if (f->kind == SCN_FAULT_LINK && !unmasked_fields_default(&f->link, f->link_fields, &n->defaults)) {
            return INVALID("faults[%u].link: fields not set must equal the network defaults", (unsigned)i);
        }
    }
    return SIM_OK;
}

static sim_status validate_cluster(const scn_config *c, const char *where, sim_error *err)
{
    const scn_cluster *cl = &c->cluster;
    if (cl->nodes < 1 || cl->nodes > SCN_NODES_MAX) {
        return INVALID("cluster.nodes: expected an integer between 1 and %u, got %u", SCN_NODES_MAX,
                       (unsigned)cl->nodes);
    }
    for (uint32_t i = 0; i < cl->nodes; i++) {
        if (cl->addresses[i][0] == '\0') return INVALID("cluster.addresses[%u]: empty", (unsigned)i);
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(cl->addresses[i], cl->addresses[j]) == 0) {
                return INVALID("cluster.addresses[%u]: \"%s\" is already cluster.addresses[%u]",
                               (unsigned)i, cl->addresses[i], (unsigned)j);
            }
        }
    }
    if (strcmp(cl->version, "1.4.2") != 0 && strcmp(cl->version, "2.5.1") != 0 && strcmp(cl->version, "3.0.3") != 0) {
        return INVALID("cluster.version: expected \"1.4.2\", \"2.5.1\" or \"3.0.3\", got \"%s\"", cl->version);
    }
    bool v3 = strcmp(cl->version, "3.0.3") == 0;
    scn_identity def_identity;
    snprintf(def_identity.key, sizeof def_identity.key, "serverIdentity");
    snprintf(def_identity.value, sizeof def_identity.value, "security");
    if (!v3 && (strcmp(cl->identity.key, def_identity.key) != 0 || strcmp(cl->identity.value, def_identity.value) != 0)) {
        return INVALID("cluster.identity: a Nacos 3.0.3 setting; a %s cluster has no inner-API identity check",
                       cl->version);
    }
    for (uint32_t i = 0; i < SCN_NODES_MAX; i++) {
        bool set = cl->node_identity_set[i] || cl->node_version[i][0] != '\0' || cl->node_upgrade[i][0] != '\0';
        if (set && !v3) {
            return INVALID("cluster.node_settings: a Nacos 3.0.3 setting; a %s cluster runs one release with no "
                           "identity check", cl->version);
        }
        if (set && i >= cl->nodes) {
            return INVALID("cluster.node_settings: node %u is not below cluster.nodes (%u)", (unsigned)i,
                           (unsigned)cl->nodes);
        }
        if (cl->node_version[i][0] != '\0' && strcmp(cl->node_version[i], "2.5.1") != 0 &&
            strcmp(cl->node_version[i], "3.0.3") != 0) {
            return INVALID("cluster.node_settings: node %u: expected version \"2.5.1\" or \"3.0.3\", got \"%s\"",
                           (unsigned)i, cl->node_version[i]);
        }
        if (cl->node_upgrade[i][0] != '\0' &&
            (strcmp(cl->node_upgrade[i], "3.0.3") != 0 || strcmp(cl->node_version[i], "2.5.1") != 0)) {
            return INVALID("cluster.node_settings: node %u: upgrade_to \"%s\" needs version \"2.5.1\" and "
                           "upgrade_to \"3.0.3\"", (unsigned)i, cl->node_upgrade[i]);
        }
    }
    if ((cl->distro.v2.bugs >> DISTRO2_BUG_COUNT) != 0) return INVALID("cluster.bugs: an unknown defect");
    for (unsigned b = 0; b < DISTRO2_BUG_COUNT; b++) {
        if ((cl->distro.v2.bugs & (1u << b)) && strcmp(cl->version, "1.4.2") == 0) {
            return INVALID("cluster.bugs: %s is a defect of Nacos 2.x and needs cluster.version \"2.5.1\"; "
                           "this cluster runs 1.4.2", distro2_bug_name((distro2_bug_id)b));
        }
    }
    size_t count = 0;
    const scn_distro_field *fields = scn_distro_fields(&count);
    const distro_config defaults = distro_config_defaults();
    for (size_t i = 0; i < count; i++) {
        const char *p = (const char *)&cl->distro + fields[i].offset;
        const char *d = (const char *)&defaults + fields[i].offset;
        const char *refusal = scn_distro_refusal(&fields[i], cl->version);
        size_t width = fields[i].type == SCN_DISTRO_DURATION ? sizeof(sim_time_ns)
                       : fields[i].type == SCN_DISTRO_BOOL   ? sizeof(bool)
                                                             : sizeof(uint32_t);
        if (refusal != NULL && memcmp(p, d, width) != 0) {
            return INVALID("cluster.distro.%s: %s", fields[i].key, refusal);
        }
        if (fields[i].type == SCN_DISTRO_DURATION) {
            sim_time_ns v = *(const sim_time_ns *)p;
            if (v < fields[i].min || v > SCN_DURATION_NS_MAX) {
                return INVALID("cluster.distro.%s: duration out of range", fields[i].key);
            }
        } else if (fields[i].type == SCN_DISTRO_U32) {
            uint32_t v = *(const uint32_t *)p;
            if (v < fields[i].min || v > fields[i].max) {
                return INVALID("cluster.distro.%s: expected an integer between %u and %u, got %u",
                               fields[i].key, (unsigned)fields[i].min, (unsigned)fields[i].max,
                               (unsigned)v);
            }
        }
    }
    return SIM_OK;
}

static sim_status validate_rest(const scn_config *c, const char *where, sim_error *err)
{
    const scn_workload *w = &c->workload;
    char at[32], end[32];
    if (w->services > SCN_SERVICES_MAX) return INVALID("workload.services: above %u", SCN_SERVICES_MAX);
    if (w->instances_per_service < 1 || w->instances_per_service > SCN_INSTANCES_PER_SERVICE_MAX) {
        return INVALID("workload.instances_per_service: expected an integer between 1 and %u",
                       SCN_INSTANCES_PER_SERVICE_MAX);
    }
    if (w->beat_interval_ns == 0) return INVALID("workload.beat_interval: expected a positive duration");
    if (c->cluster.distro.client_beat_interval_ns != w->beat_interval_ns) {
        return INVALID("workload.beat_interval: the servers' clientBeatInterval (cluster.distro."
                       "client_beat_interval_ns) must equal it: there is one beat interval");
    }
    if (w->start_at_ns >= c->duration_ns) {
        scn_format_duration(w->start_at_ns, at, sizeof at);
        scn_format_duration(c->duration_ns, end, sizeof end);
        return INVALID("workload.start_at: %s is not before the end of the run (%s)", at, end);
    }
    if (w->metadata_count > SCN_METADATA_MAX) return INVALID("workload.metadata: too many entries");
    if (w->clients > SCN_CLIENTS_HTTP_V2) {
        return INVALID("workload.clients: expected 2.x-sdk, 1.x-sdk, mixed or http-v2");
    }
    if (scn_clients_need_v2(w->clients) && strcmp(c->cluster.version, "1.4.2") == 0) {
        return INVALID("workload.clients: %s needs cluster.version \"2.5.1\" (Nacos 1.4.2 serves 1.x SDK "
                       "clients only)", scn_clients_name(w->clients));
    }
    const scn_reads *rd = &w->reads;
    if (rd->services > w->services) {
        return INVALID("workload.reads.services: %u is more than the %u services of the workload",
                       (unsigned)rd->services, (unsigned)w->services);
    }
    if (rd->queriers > SCN_READERS_PER_SERVICE_MAX || rd->subscribers > SCN_READERS_PER_SERVICE_MAX) {
        return INVALID("workload.reads: expected at most %u queriers and %u subscribers per service",
                       SCN_READERS_PER_SERVICE_MAX, SCN_READERS_PER_SERVICE_MAX);
    }
    if (scn_reads_readers(c) > SCN_READERS_MAX) {
        return INVALID("workload.reads: %llu readers exceed the limit of %u (services x (queriers + subscribers))",
                       (unsigned long long)scn_reads_readers(c), SCN_READERS_MAX);
    }
    if (rd->query_interval_ns < SIM_MS) return INVALID("workload.reads.query_interval: expected at least 1ms");
    if (rd->subscriber_sdk == SCN_READS_SDK_2X && scn_cluster_version(c) == DISTRO_VERSION_1_4_2) {
        return INVALID("workload.reads.subscriber_sdk: 2.x needs cluster.version \"2.5.1\" (a 1.4.2 server has no "
                       "gRPC naming service; \"native\" picks the version's own SDK)");
    }
    if (rd->start_at_ns >= c->duration_ns) {
        scn_format_duration(rd->start_at_ns, at, sizeof at);
        scn_format_duration(c->duration_ns, end, sizeof end);
        return INVALID("workload.reads.start_at: %s is not before the end of the run (%s)", at, end);
    }
    const scn_nemesis *ne = &c->nemesis;
    if (ne->kinds == 0 || (ne->kinds & ~(uint32_t)SCN_NEMESIS_KINDS_ALLOWED) != 0) {
        return INVALID("nemesis.kinds: expected a non-empty list of partition, isolate, crash, "
                       "restart, pause, link, clock");
    }
    if (ne->interval.min_ns == 0 || ne->interval.min_ns > ne->interval.max_ns) {
        return INVALID("nemesis.interval: expected 0 < min <= max");
    }
    if (ne->duration.min_ns == 0 || ne->duration.min_ns > ne->duration.max_ns) {
        return INVALID("nemesis.duration: expected 0 < min <= max");
    }
    if (ne->max_down > c->cluster.nodes) {
        return INVALID("nemesis.max_down: %u is more than the %u nodes of the cluster",
                       (unsigned)ne->max_down, (unsigned)c->cluster.nodes);
    }
    if (c->expect.counter_count > SCN_COUNTERS_MAX) return INVALID("expect.counters: too many entries");
    for (uint32_t i = 0; i < c->expect.counter_count; i++) {
        const scn_counter_bound *b = &c->expect.counters[i];
        if (!b->min_set && !b->max_set) {
            return INVALID("expect.counters[%u]: expected min, max or both", (unsigned)i);
        }
        if (b->min_set && b->max_set && b->min > b->max) {
            return INVALID("expect.counters[%u]: min %" PRIu64 " is greater than max %" PRIu64,
                           (unsigned)i, b->min, b->max);
        }
    }
    return SIM_OK;
}

sim_status scn_config_validate(const scn_config *c, const char *where, sim_error *err)
{
    SIM_ASSERT(c != NULL);
    SIM_ASSERT(where != NULL);
    if (!name_ok(c->name)) {
        return INVALID("name: expected a name of 1 to %u characters from [a-z0-9._-]", SCN_NAME_BYTES_MAX);
    }
    if (c->duration_ns == 0 || c->duration_ns > SCN_DURATION_NS_MAX) {
        return INVALID("duration: expected a positive duration of at most 8760h");
    }
    if (c->engine.events_max != 0 && (c->engine.events_max < 64 || c->engine.events_max > SIM_EVENTS_MAX)) {
        return INVALID("engine.events_max: expected 64..%u or 0 (the default), got %" PRIu32, SIM_EVENTS_MAX,
                       c->engine.events_max);
    }
    if (c->phases.enabled && c->phases.chaos_ns + c->phases.quiet_ns != c->duration_ns) {
        return INVALID("duration: with phases the run lasts phases.chaos + phases.quiet");
    }
    sim_status st = validate_cluster(c, where, err);
    if (st != SIM_OK) return st;
    st = validate_network(c, where, err);
    if (st != SIM_OK) return st;
    if (c->fault_count > SCN_FAULTS_MAX) return INVALID("faults: more than %u faults", SCN_FAULTS_MAX);
    st = validate_rolling(c, where, err);
    if (st != SIM_OK) return st;
    for (uint32_t i = 0, entry = 0; i < c->fault_count; i++) {
        if (i > 0 && c->faults[i].rolling_step == 0) entry++;
        st = validate_fault(c, i, entry, where, err);
        if (st != SIM_OK) return st;
    }
    st = validate_rest(c, where, err);
    if (st != SIM_OK) return st;
    /* Invariant (7): the swarm block's shape (its values were checked
     * against their keys by the loader, and each draw is validated). */
    if (c->swarm_count > SCN_SWARM_ENTRIES_MAX) return INVALID("swarm: more than %u keys", SCN_SWARM_ENTRIES_MAX);
    for (uint32_t i = 0; i < c->swarm_count; i++) {
        const scn_swarm_entry *e = &c->swarm[i];
        if (e->kind == SCN_SWARM_RANGE && e->min > e->max) return INVALID("swarm.%s: min is greater than max", e->key);
        if (e->kind != SCN_SWARM_RANGE && (e->value_count == 0 || e->value_count > SCN_SWARM_CHOICES_MAX)) {
            return INVALID("swarm.%s: expected 1 to %u values", e->key, SCN_SWARM_CHOICES_MAX);
        }
    }
    /* Last: the size and timer checks assume every range above holds. */
    return scn_limits_check(c, where, err);
}

#undef INVALID

/* --- Printing -------------------------------------------------------------- */

static void print_duration(FILE *out, sim_time_ns ns)
{
    char buf[32];
    scn_format_duration(ns, buf, sizeof buf);
    fputs(buf, out);
}

static void print_signed_duration(FILE *out, int64_t ns)
{
    if (ns < 0) fputc('-', out);
    /* |ns| <= SCN_DURATION_NS_MAX (validated), so the negation is exact. */
    print_duration(out, ns < 0 ? (sim_time_ns)(-ns) : (sim_time_ns)ns);
}

/* A fixed-point value with `decimals` digits after the point, trailing
 * zeros trimmed: 1500 (3 decimals) -> "1.5", 1000000 (6) -> "1". */
static void print_fixed(FILE *out, uint64_t scaled, unsigned decimals)
{
    uint64_t unit = 1;
    for (unsigned i = 0; i < decimals; i++) unit *= 10u;
    uint64_t whole = scaled / unit, frac = scaled % unit;
    fprintf(out, "%" PRIu64, whole);
    if (frac == 0) return;
    char digits[24];
    snprintf(digits, sizeof digits, "%0*" PRIu64, (int)decimals, frac);
    size_t len = strlen(digits);
    while (len > 0 && digits[len - 1] == '0') len--;
    fprintf(out, ".%.*s", (int)len, digits);
}

static void print_size(FILE *out, uint64_t bytes)
{
    static const struct { uint64_t unit; const char *suffix; } units[] = {
        { 1ull << 40, "TiB" },   { 1000000000000ull, "TB" }, { 1ull << 30, "GiB" },
        { 1000000000ull, "GB" }, { 1ull << 20, "MiB" },      { 1000000ull, "MB" },
        { 1ull << 10, "KiB" },   { 1000ull, "KB" },          { 1ull, "B" },
    };
    if (bytes == 0) {
        fputs("0", out);
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (bytes % units[i].unit == 0) {
            fprintf(out, "%" PRIu64 "%s", bytes / units[i].unit, units[i].suffix);
            return;
        }
    }
}

/* Double-quoted YAML string.  Loaded strings are validated UTF-8 without
 * control characters other than tab and newline, so escaping those, the
 * quote and the backslash is enough; other bytes below 0x20 and DEL are
 * escaped anyway for configs built by hand. */
static void print_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s != NULL ? s : ""); *p != '\0'; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                fprintf(out, "\\x%02x", (unsigned)*p);
            } else {
                fputc(*p, out);
            }
        }
    }
    fputc('"', out);
}

static void print_dist_fields(FILE *out, const sim_dist *d)
{
    switch (d->kind) {
    case SIM_DIST_CONSTANT:
        fputs("dist: constant, value: ", out);
        print_duration(out, d->a_ns);
        break;
    case SIM_DIST_UNIFORM:
        fputs("dist: uniform, min: ", out);
        print_duration(out, d->a_ns);
        fputs(", max: ", out);
        print_duration(out, d->b_ns);
        break;
    case SIM_DIST_NORMAL:
        fputs("dist: normal, mean: ", out);
        print_duration(out, d->a_ns);
        fputs(", stddev: ", out);
        print_duration(out, d->b_ns);
        break;
    case SIM_DIST_LOGNORMAL:
        fputs("dist: lognormal, median: ", out);
        print_duration(out, d->a_ns);
        fputs(", sigma: ", out);
        print_fixed(out, d->sigma_milli, 3);
        break;
    case SIM_DIST_EXPONENTIAL:
        fputs("dist: exponential, mean: ", out);
        print_duration(out, d->a_ns);
        break;
    }
}

/* A plain constant prints as the shorthand "1ms"; anything else as a flow
 * mapping. */
static void print_dist(FILE *out, const sim_dist *d)
{
    if (d->kind == SIM_DIST_CONSTANT) {
        print_duration(out, d->a_ns);
        return;
    }
    fputc('{', out);
    print_dist_fields(out, d);
    fputc('}', out);
}

static void print_latency(FILE *out, const sim_latency *lat)
{
    if (lat->tail_ppm == 0) {
        print_dist(out, &lat->base);
        return;
    }
    fputc('{', out);
    print_dist_fields(out, &lat->base);
    fputs(", slow_tail: {ratio: ", out);
    print_fixed(out, lat->tail_ppm, 6);
    fputs(", latency: ", out);
    print_dist(out, &lat->tail);
    fputs("}}", out);
}

/* ", latency: 1ms, loss: 0.1" for the fields in `fields`. */
static void print_link_fields(FILE *out, const sim_link_params *p, uint32_t fields)
{
    if (fields & SCN_LINK_LATENCY) {
        fputs(", latency: ", out);
        print_latency(out, &p->latency);
    }
    if (fields & SCN_LINK_LOSS) {
        fputs(", loss: ", out);
        print_fixed(out, p->loss_ppm, 6);
    }
    if (fields & SCN_LINK_DUPLICATE) {
        fputs(", duplicate: ", out);
        print_fixed(out, p->duplicate_ppm, 6);
    }
    if (fields & SCN_LINK_REORDER) fprintf(out, ", reorder: %s", p->reorder ? "true" : "false");
    if (fields & SCN_LINK_BANDWIDTH) {
        fputs(", bandwidth: ", out);
        print_size(out, p->bandwidth_bytes_per_s);
    }
}

static void print_node_set(FILE *out, scn_node_set set)
{
    bool first = true;
    fputc('[', out);
    for (uint32_t i = 0; i < SCN_NODES_MAX; i++) {
        if (set & ((scn_node_set)1 << i)) {
            fprintf(out, "%s%u", first ? "" : ", ", (unsigned)i);
            first = false;
        }
    }
    fputc(']', out);
}

static void print_partition(FILE *out, const scn_fault *f)
{
    fputs("partition: [", out);
    for (uint32_t g = 0; g < f->group_count; g++) {
        scn_node_set set = 0;
        for (uint32_t i = 0; i < SCN_NODES_MAX; i++) {
            if (f->group_of[i] == g) set |= (scn_node_set)1 << i;
        }
        if (g > 0) fputs(", ", out);
        print_node_set(out, set);
    }
    fputc(']', out);
}

/* The keys after the action, and the end of the entry. */
static void print_fault_tail(FILE *out, const scn_fault *f)
{
    if (f->recover_within_set) {
        fputs(", recover_within: ", out);
        if (f->recover_within.checked) print_duration(out, f->recover_within.max_ns);
        else fputs("unchecked", out);
    }
    fputs("}\n", out);
}

static void print_fault(FILE *out, const scn_fault *f)
{
    fputs("  - {at: ", out);
    print_duration(out, f->at_ns);
    fputs(", ", out);
    switch (f->kind) {
    case SCN_FAULT_PARTITION: print_partition(out, f); break;
    case SCN_FAULT_BLOCK: fprintf(out, "block: {from: %u, to: %u}", (unsigned)f->from, (unsigned)f->to); break;
    case SCN_FAULT_ISOLATE: fprintf(out, "isolate: %u", (unsigned)f->node); break;
    case SCN_FAULT_HEAL_ALL: fputs("heal: all", out); break;
    case SCN_FAULT_HEAL_LINK: fprintf(out, "heal: {from: %u, to: %u}", (unsigned)f->from, (unsigned)f->to); break;
    case SCN_FAULT_HEAL_NODE: fprintf(out, "heal: {node: %u}", (unsigned)f->node); break;
    case SCN_FAULT_CRASH: fprintf(out, "crash: %u", (unsigned)f->node); break;
    case SCN_FAULT_START: fprintf(out, "start: %u", (unsigned)f->node); break;
    case SCN_FAULT_RESTART:
        fprintf(out, "restart: {node: %u, after: ", (unsigned)f->node);
        print_duration(out, f->duration_ns);
        fputc('}', out);
        break;
    case SCN_FAULT_PAUSE:
        fprintf(out, "pause: {node: %u, for: ", (unsigned)f->node);
        print_duration(out, f->duration_ns);
        fputc('}', out);
        break;
    case SCN_FAULT_LINK:
        fprintf(out, "link: {from: %u, to: %u, for: ", (unsigned)f->from, (unsigned)f->to);
        print_duration(out, f->duration_ns);
        fprintf(out, ", both: %s", f->both ? "true" : "false");
        print_link_fields(out, &f->link, f->link_fields);
        fputc('}', out);
        break;
    case SCN_FAULT_CLOCK:
        fprintf(out, "clock: {node: %u, offset: ", (unsigned)f->node);
        print_signed_duration(out, f->clock_offset_ns);
        fprintf(out, ", drift_ppm: %d}", (int)f->clock_drift_ppm);
        break;
    case SCN_FAULT_MEMBERS:
        fputs("members: {on: ", out);
        print_node_set(out, f->members_on);
        fputs(", add: ", out);
        print_node_set(out, f->members_add);
        fputs(", remove: ", out);
        print_node_set(out, f->members_remove);
        fputc('}', out);
        break;
    case SCN_FAULT_KINDS: SIM_ASSERT(0 && "not a fault kind"); break;
    }
    print_fault_tail(out, f);
}

/* A rolling entry, written back from its steps faults[0, steps). */
static void print_rolling(FILE *out, const scn_fault *steps)
{
    const scn_fault *f = &steps[0];
    fputs("  - {at: ", out);
    print_duration(out, f->at_ns);
    fprintf(out, ", rolling: {action: %s, nodes: [", f->kind == SCN_FAULT_PAUSE ? "pause" : "restart");
    for (uint32_t k = 0; k < f->rolling_steps; k++) fprintf(out, "%s%u", k > 0 ? ", " : "", (unsigned)steps[k].node);
    fputs("], every: ", out);
    print_duration(out, f->rolling_every_ns);
    fputs(", down: ", out);
    print_duration(out, f->duration_ns);
    fputs(f->rolling_wait ? ", wait_converged: true}" : ", wait_converged: false}", out);
    print_fault_tail(out, f);
}

static void print_cluster(FILE *out, const scn_cluster *cl)
{
    fprintf(out, "cluster:\n  nodes: %u\n  addresses: [", (unsigned)cl->nodes);
    for (uint32_t i = 0; i < cl->nodes; i++) {
        if (i > 0) fputs(", ", out);
        print_quoted(out, cl->addresses[i]);
    }
    fputs("]\n  version: ", out);
    print_quoted(out, cl->version);
    if (cl->distro.v2.bugs != 0) {   /* none stays unprinted, as before the key existed */
        fputs("\n  bugs: [", out);
        for (unsigned b = 0, n = 0; b < DISTRO2_BUG_COUNT; b++) {
            if (cl->distro.v2.bugs & (1u << b)) fprintf(out, "%s%s", n++ > 0 ? ", " : "", distro2_bug_name((distro2_bug_id)b));
        }
        fputc(']', out);
    }
    fputs("\n  distro:\n", out);
    size_t count = 0;
    const scn_distro_field *fields = scn_distro_fields(&count);
    /* Plain keys first, then the nested maps ("http.x" prints as x under
     * http:); the table lists each map's keys together. */
    const char *section = NULL;   /* the map being printed: the first section_len bytes */
    size_t section_len = 0;
    for (int nested = 0; nested < 2; nested++) {
        for (size_t i = 0; i < count; i++) {
            const char *dot = strchr(fields[i].key, '.');
            if ((dot != NULL) != (nested == 1)) continue;
            if (scn_distro_refusal(&fields[i], cl->version) != NULL) continue;   /* another line's key: the default */
            const char *p = (const char *)&cl->distro + fields[i].offset;
            size_t len = dot != NULL ? (size_t)(dot - fields[i].key) : 0;
            if (dot != NULL && (section == NULL || section_len != len || strncmp(section, fields[i].key, len) != 0)) {
                section = fields[i].key;
                section_len = len;
                fprintf(out, "    %.*s:\n", (int)len, fields[i].key);
            }
            fprintf(out, dot != NULL ? "      %s: " : "    %s: ", dot != NULL ? dot + 1 : fields[i].key);
            switch (fields[i].type) {
            case SCN_DISTRO_DURATION: print_duration(out, *(const sim_time_ns *)p); break;
            case SCN_DISTRO_BOOL: fputs(*(const bool *)p ? "true" : "false", out); break;
            case SCN_DISTRO_U32: fprintf(out, "%u", (unsigned)*(const uint32_t *)p); break;
            }
            fputc('\n', out);
        }
    }
    if (strcmp(cl->version, "3.0.3") != 0) return;
    fputs("  identity: {key: ", out);
    print_quoted(out, cl->identity.key);
    fputs(", value: ", out);
    print_quoted(out, cl->identity.value);
    fputs("}\n  node_settings: [", out);
    bool first = true;
    for (uint32_t i = 0; i < cl->nodes; i++) {
        if (!cl->node_identity_set[i] && cl->node_version[i][0] == '\0' && cl->node_upgrade[i][0] == '\0') continue;
        fprintf(out, "%s{node: %u", first ? "" : ", ", (unsigned)i);
        first = false;
        if (cl->node_identity_set[i]) {
            fputs(", identity: {key: ", out);
            print_quoted(out, cl->node_identity[i].key);
            fputs(", value: ", out);
            print_quoted(out, cl->node_identity[i].value);
            fputc('}', out);
        }
        if (cl->node_version[i][0] != '\0') {
            fputs(", version: ", out);
            print_quoted(out, cl->node_version[i]);
        }
        if (cl->node_upgrade[i][0] != '\0') {
            fputs(", upgrade_to: ", out);
            print_quoted(out, cl->node_upgrade[i]);
        }
        fputc('}', out);
    }
    fputs("]\n", out);
}

static void print_network(FILE *out, const scn_network *n)
{
    const sim_conn_params *t = &n->tcp;
    fprintf(out, "network:\n  transport: %s\n  tcp:\n    syn_rto: ",
            n->transport == SCN_TRANSPORT_TCP ? "tcp" : "datagram");
    print_duration(out, t->syn_rto_ns);
    fprintf(out, "\n    syn_retries: %u\n    rto_min: ", (unsigned)t->syn_retries);
    print_duration(out, t->rto_min_ns);
    fputs("\n    rto_max: ", out);
    print_duration(out, t->rto_max_ns);
    fprintf(out, "\n    retries2: %u\n    orphan_retries: %u\n    rcvbuf_bytes: %u\n  latency: ", (unsigned)t->retries2,
            (unsigned)t->orphan_retries, (unsigned)t->rcvbuf_bytes);
    print_latency(out, &n->defaults.latency);
    fputs("\n  loss: ", out);
    print_fixed(out, n->defaults.loss_ppm, 6);
    fputs("\n  duplicate: ", out);
    print_fixed(out, n->defaults.duplicate_ppm, 6);
    fprintf(out, "\n  reorder: %s\n  bandwidth: ", n->defaults.reorder ? "true" : "false");
    print_size(out, n->defaults.bandwidth_bytes_per_s);
    fputs(n->link_count == 0 ? "\n  links: []\n" : "\n  links:\n", out);
    for (uint32_t i = 0; i < n->link_count; i++) {
        const scn_link_override *l = &n->links[i];
        fprintf(out, "    - {from: %u, to: %u", (unsigned)l->from, (unsigned)l->to);
        print_link_fields(out, &l->params, l->fields);
        fputs("}\n", out);
    }
}

static void print_workload(FILE *out, const scn_workload *w)
{
    fprintf(out, "workload:\n  services: %u\n  instances_per_service: %u\n  namespace: ",
            (unsigned)w->services, (unsigned)w->instances_per_service);
    print_quoted(out, w->namespace_id);
    fputs("\n  group: ", out);
    print_quoted(out, w->group);
    fputs("\n  service_prefix: ", out);
    print_quoted(out, w->service_prefix);
    fputs("\n  beat_interval: ", out);
    print_duration(out, w->beat_interval_ns);
    fputs("\n  metadata: {", out);
    for (uint32_t i = 0; i < w->metadata_count; i++) {
        if (i > 0) fputs(", ", out);
        print_quoted(out, w->metadata[i].key);
        fputs(": ", out);
        print_quoted(out, w->metadata[i].value);
    }
    fputs("}\n  register_spread: ", out);
    print_duration(out, w->register_spread_ns);
    fputs("\n  start_at: ", out);
    print_duration(out, w->start_at_ns);
    fputs("\n  churn:\n    register_per_min: ", out);
    print_fixed(out, w->churn.register_per_min_milli, 3);
    fputs("\n    deregister_per_min: ", out);
    print_fixed(out, w->churn.deregister_per_min_milli, 3);
    fputs("\n    crash_per_min: ", out);
    print_fixed(out, w->churn.crash_per_min_milli, 3);
    fprintf(out, "\n  reads:\n    services: %u%s\n    queriers: %u\n    query_interval: ", (unsigned)w->reads.services,
            w->reads.services == 0 ? "   # every service" : "", (unsigned)w->reads.queriers);
    print_duration(out, w->reads.query_interval_ns);
    fprintf(out, "\n    subscribers: %u\n    push_empty_protection: %s\n    start_at: ", (unsigned)w->reads.subscribers,
            w->reads.push_empty_protection ? "true" : "false");
    print_duration(out, w->reads.start_at_ns);
    fprintf(out, "\n    subscriber_sdk: %s\n", w->reads.subscriber_sdk == SCN_READS_SDK_2X       ? "2.x"
                                         : w->reads.subscriber_sdk == SCN_READS_SDK_NATIVE ? "native"
                                                                                           : "1.x");
    if (w->clients != SCN_CLIENTS_DEFAULT) fprintf(out, "  clients: %s\n", scn_clients_name(w->clients));
}

static void print_nemesis_phases(FILE *out, const scn_config *c)
{
    const scn_nemesis *ne = &c->nemesis;
    if (!ne->enabled) {
        fputs("# nemesis: off (no nemesis key)\n", out);
    } else {
        fputs("nemesis:\n  kinds: [", out);
        bool first = true;
        for (uint32_t k = 0; k < SCN_FAULT_KINDS; k++) {
            if (ne->kinds & (1u << k)) {
                fprintf(out, "%s%s", first ? "" : ", ", scn_fault_kind_name((scn_fault_kind)k));
                first = false;
            }
        }
        fputs("]\n  interval: {min: ", out);
        print_duration(out, ne->interval.min_ns);
        fputs(", max: ", out);
        print_duration(out, ne->interval.max_ns);
        fputs("}\n  duration: {min: ", out);
        print_duration(out, ne->duration.min_ns);
        fputs(", max: ", out);
        print_duration(out, ne->duration.max_ns);
        fprintf(out, "}\n  max_down: %u\n", (unsigned)ne->max_down);
    }
    if (!c->phases.enabled) {
        fputs("# phases: off (no phases key)\n", out);
    } else {
        fputs("phases:\n  chaos: ", out);
        print_duration(out, c->phases.chaos_ns);
        fputs("\n  quiet: ", out);
        print_duration(out, c->phases.quiet_ns);
        fputc('\n', out);
    }
}

static void print_bound(FILE *out, const char *key, const scn_bound *b)
{
    fprintf(out, "  %s: ", key);
    if (b->checked) {
        print_duration(out, b->max_ns);
    } else {
        fputs("unchecked", out);
    }
    fputc('\n', out);
}

/* `  lost: {p99: 2s, count: 3}`, the percentile and count bounds of a
 * window kind (its max is printed as lost_max). */
static void print_window_bounds(FILE *out, const char *key, const scn_bound *p99, const scn_count_bound *count)
{
    fprintf(out, "  %s: {p99: ", key);
    if (p99->checked) print_duration(out, p99->max_ns);
    else fputs("unchecked", out);
    fputs(", count: ", out);
    if (count->checked) fprintf(out, "%" PRIu64, count->max);
    else fputs("unchecked", out);
    fputs("}\n", out);
}

static const scn_counter_info counters[] = {
    { "sync_batches_sent", "change-sync batches sent (PUT /distro/datum attempts)" },
    { "sync_batches_failed", "change-sync batches that failed (error or timeout)" },
    { "sync_keys_retried", "keys queued again after a failed batch" },
    { "sync_dropped_not_member", "syncs dropped because the target left the member list (silent success)" },
    { "sync_empty_batches", "empty {} batches sent because every key was deleted (rejected, W11)" },
    { "worker_backlog_max", "deepest execute-worker queue seen" },
    { "verify_sent", "checksum (verify) messages sent" },
    { "verify_discarded", "verify messages dropped whole because the receiver owned a key (W3)" },
    { "verify_single_flight_drops", "verify messages dropped while one from the same source was in progress (W14)" },
    { "verify_keys_fetched", "keys fetched from a peer after a checksum mismatch" },
    { "verify_keys_removed", "keys removed because a verify did not list them" },
    { "snapshot_attempts", "start-up snapshot load attempts" },
    { "snapshot_failures", "start-up snapshot loads that failed" },
    { "snapshot_bytes", "bytes of start-up snapshots received" },
    { "snapshot_successes", "start-up snapshot loads that succeeded" },
    { "load_retries", "whole start-up load retries (after load_retry_delay)" },
    { "redirects_proxied", "client requests DistroFilter proxied to the owner" },
    { "redirects_rejected", "proxied requests rejected on a second hop (HTTP 400, W8)" },
    { "redirects_failed", "proxied requests the owner did not answer" },
    { "beats_received", "client beats handled as owner" },
    { "beat_reregisters", "beats for an unknown instance that registered it again" },
    { "instances_marked_unhealthy", "instances the beat check marked unhealthy (heartbeat_timeout)" },
    { "instances_expired", "instances the beat check deleted (ip_delete_timeout)" },
    { "health_status_updates", "instances whose health flag the health-status channel moved" },
    { "requests_503", "requests answered 503 by the warm-up gate" },
    { "member_probes", "member-info reports sent to peers" },
    { "member_probe_failures", "member-info reports that failed" },
    { "member_state_changes", "peer state changes (UP, SUSPICIOUS, DOWN) in member lists" },
    { "http_refused", "HTTP calls whose connect was refused: nothing listened (network.transport tcp)" },
    { "http_connect_timeouts", "HTTP calls whose connect timed out, or whose SYN retries ran out" },
    { "http_read_timeouts", "HTTP calls with no response within the client's read timeout" },
    { "http_lease_timeouts", "HTTP calls that found no pooled connection within the lease timeout" },
    { "http_resets", "HTTP calls reset by the peer: its process died, or a pooled connection was dead" },
    { "http_retries_exhausted", "HTTP calls whose connection gave up after tcp_retries2 retransmissions" },
    { "v2_sdk_reconnects", "2.x: SDK connections accepted from a client that had been connected before (reconnects)" },
    { "v2_verify_failed", "2.x: verify requests answered FAIL (missing or stale replica; a repair ADD follows)" },
    { "v2_clients_expired", "2.x: replicas removed by the expired-client cleaner (lease not renewed for 180 s)" },
    { "v2_connections_ejected", "2.x: SDK connections unregistered by the ejector after an idle probe failed" },
    { "v3_no_right", "3.0.3: Distro and member-report requests answered NO_RIGHT (blank server identity)" },
    { "v2_ipport_clients_expired", "2.x: IP-port clients (1.x SDKs) removed by their cleaner: empty for 30 s, or "
                                   "not updated for 180 s" },
    { "v2_starting_refused", "2.x: gRPC requests (peer or SDK) answered \"Server is starting\" before the node had started" },
    { "v2_sdk_health_failed", "2.x: SDK keep-alive health checks of this server that failed 4 times: the SDK switched server" },
    { "v2_http_not_owner", "2.x: HTTP /v2/ns writes and beats applied by a node that does not own the ip:port "
                           "(DistroFilter does not route /v2/ns): peers never learn of them" },
    { "v2_duplicate_publishers", "2.x: publishers added beside another client id of the same SDK on that node: "
                                 "the old connection's replica of a client that reconnected (a duplicate window)" },
};

const scn_counter_info *scn_counters(size_t *count)
{
    *count = sizeof counters / sizeof counters[0];
    return counters;
}

bool scn_counter_known(const char *name)
{
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        if (strcmp(counters[i].name, name) == 0) return true;
    }
    return false;
}

/* One change sync: the delay task, its batch and the execute tick. */
static sim_time_ns sync_path_ns(const distro_config *d)
{
    return d->sync_delay_ns + d->sync_batch_delay_ns + d->task_tick_ns;
}

sim_time_ns scn_lag_allowance(const scn_config *c)
{
    if (c->expect.lag_allowance_ns != SCN_ALLOWANCE_DERIVED) return c->expect.lag_allowance_ns;
    const distro_config *d = &c->cluster.distro;
    return sync_path_ns(d) + c->workload.beat_interval_ns + d->client_beat_interval_ns + SCN_ALLOWANCE_SLACK_NS;
}

sim_time_ns scn_view_formation(const scn_config *c)
{
    /* Members start DOWN (ServerMemberManager): a peer turns UP in a node's
     * view when a report to it succeeds or one from it arrives.  A node
     * reports to one peer per member_report_interval in turn, from
     * member_report_initial after its start, so by initial + (n - 1) x
     * interval it has reported to every peer and had the last answer (an
     * interval is longer than a round trip).  Until then nodes disagree on
     * the owners, and a registration replicates only once they agree. */
    const distro_config *d = &c->cluster.distro;
    if (!d->members_start_down || c->cluster.nodes < 2) return 0;
    return d->member_report_initial_ns + (sim_time_ns)(c->cluster.nodes - 1) * d->member_report_interval_ns;
}

sim_time_ns scn_zombie_allowance(const scn_config *c)
{
    if (c->expect.zombie_allowance_ns != SCN_ALLOWANCE_DERIVED) return c->expect.zombie_allowance_ns;
    const distro_config *d = &c->cluster.distro;
    return d->ip_delete_timeout_ns + d->beat_check_interval_ns + sync_path_ns(d) + SCN_ALLOWANCE_SLACK_NS;
}

bool scn_reads_grpc(const scn_config *c)
{
    scn_reads_sdk sdk = c->workload.reads.subscriber_sdk;
    return sdk == SCN_READS_SDK_2X || (sdk == SCN_READS_SDK_NATIVE && scn_cluster_version(c) != DISTRO_VERSION_1_4_2);
}

uint32_t scn_reads_services(const scn_config *c)
{
    return c->workload.reads.services == 0 ? c->workload.services : c->workload.reads.services;
}

uint64_t scn_reads_readers(const scn_config *c)
{
    const scn_reads *r = &c->workload.reads;
    return (uint64_t)scn_reads_services(c) * ((uint64_t)r->queriers + r->subscribers);
}

static void print_expect(FILE *out, const scn_config *c)
{
    const scn_expect *e = &c->expect;
    fputs("expect:\n", out);
    print_bound(out, "converge_within", &e->converge_within);
    print_bound(out, "recover_within", &e->recover_within);
    print_bound(out, "lost_max", &e->lost_max);
    print_window_bounds(out, "lost", &e->lost_p99, &e->lost_count);
    print_bound(out, "zombie_max", &e->zombie_max);
    print_window_bounds(out, "zombie", &e->zombie_p99, &e->zombie_count);
    print_bound(out, "ownership_disagreement_max", &e->ownership_disagreement_max);
    print_bound(out, "client_empty_max", &e->client_empty_max);
    print_bound(out, "client_short_max", &e->client_short_max);
    print_bound(out, "client_stale_max", &e->client_stale_max);
    /* A derived allowance is shown as a comment, so the printed scenario
     * still derives it (and loads back equal). */
    fputs(e->lag_allowance_ns == SCN_ALLOWANCE_DERIVED ? "  # lag_allowance: " : "  lag_allowance: ", out);
    print_duration(out, scn_lag_allowance(c));
    fputs(e->lag_allowance_ns == SCN_ALLOWANCE_DERIVED ? "   (derived)\n" : "\n", out);
    fputs(e->zombie_allowance_ns == SCN_ALLOWANCE_DERIVED ? "  # zombie_allowance: " : "  zombie_allowance: ", out);
    print_duration(out, scn_zombie_allowance(c));
    fputs(e->zombie_allowance_ns == SCN_ALLOWANCE_DERIVED ? "   (derived)\n" : "\n", out);
    fputs(e->counter_count == 0 ? "  counters: []\n" : "  counters:\n", out);
    for (uint32_t i = 0; i < e->counter_count; i++) {
        const scn_counter_bound *b = &e->counters[i];
        fputs("    - {name: ", out);
        print_quoted(out, b->name);
        if (b->min_set) fprintf(out, ", min: %" PRIu64, b->min);
        if (b->max_set) fprintf(out, ", max: %" PRIu64, b->max);
        fputs("}\n", out);
    }
}

sim_status scn_config_print(const scn_config *c, FILE *out)
{
    SIM_ASSERT(c != NULL);
    SIM_ASSERT(out != NULL);
    fputs("# effective scenario: every default filled in\nname: ", out);
    print_quoted(out, c->name);
    fputs("\ndescription: ", out);
    print_quoted(out, c->description);
    fputs("\nincident: ", out);
    print_quoted(out, c->incident);
    fputs("\ntags: [", out);
    for (uint32_t i = 0; i < c->tag_count; i++) {
        fputs(i > 0 ? ", " : "", out);
        print_quoted(out, c->tags[i]);
    }
    fprintf(out, "]\nseed: %" PRIu64 "\nduration: ", c->seed);
    print_duration(out, c->duration_ns);
    fputc('\n', out);
    print_cluster(out, &c->cluster);
    print_network(out, &c->network);
    print_workload(out, &c->workload);
    fputs(c->fault_count == 0 ? "faults: []\n" : "faults:\n", out);
    for (uint32_t i = 0; i < c->fault_count;) {   /* validated: a rolling group is whole */
        if (c->faults[i].rolling_steps > 0) {
            print_rolling(out, &c->faults[i]);
            i += c->faults[i].rolling_steps;
        } else {
            print_fault(out, &c->faults[i++]);
        }
    }
    print_nemesis_phases(out, c);
    print_expect(out, c);
    if (c->engine.events_budget != 0 || c->engine.events_max != 0) {   /* defaults stay unprinted */
        fprintf(out, "engine:\n");
        if (c->engine.events_budget != 0) fprintf(out, "  events_budget: %" PRIu64 "\n", c->engine.events_budget);
        if (c->engine.events_max != 0) fprintf(out, "  events_max: %" PRIu32 "\n", c->engine.events_max);
    }
    scn_swarm_print(c->swarm, c->swarm_count, out);
    if (fflush(out) != 0 || ferror(out)) return SIM_ERR_IO;
    return SIM_OK;
}
