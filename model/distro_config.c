/* distro_config.c: Nacos 1.4.2's defaults (NACOS-DISTRO.md section 5). */
#include "distro_config.h"

#include <string.h>

distro_config distro_config_defaults(void)
{
    distro_config c;
    memset(&c, 0, sizeof c);
    c.task_tick_ns = 100 * SIM_MS;
    c.sync_delay_ns = 1000 * SIM_MS;           /* taskDispatchPeriod (2000) / 2 */
    c.sync_batch_delay_ns = 1000 * SIM_MS;     /* taskDispatchPeriod (2000) / 2 */
    c.batch_sync_key_count = 1000;
    c.sync_retry_delay_ns = 5000 * SIM_MS;
    c.http_connect_timeout_ns = 5000 * SIM_MS;
    c.http_read_timeout_ns = 10000 * SIM_MS;
    /* The Apache sync client sets no timeouts (HttpClientManager.java:
     * 111-116): 0 stands for none.  Its pool's per-route and total limits
     * (0) follow cpu_cores. */
    c.http_sync_connect_timeout_ns = 0;
    c.http_sync_read_timeout_ns = 0;
    c.http_sync_lease_timeout_ns = 0;
    c.http_sync_ttl_ns = 500 * SIM_MS;
    c.http_sync_max_per_route = 0;
    c.http_sync_max_total = 0;
    c.http_async_max_per_route = 128;          /* HttpClientManager.java:126-130 */
    c.http_async_max_total = 20;               /* setMaxConnTotal(-1) keeps HttpAsyncClientBuilder's 20 */
    c.load_retry_delay_ns = 30000 * SIM_MS;
    c.load_poll_ns = 1000 * SIM_MS;
    c.data_warmup = false;
    c.server_status_interval_ns = 5000 * SIM_MS;
    c.verify_interval_ns = 5000 * SIM_MS;
    c.beat_check_interval_ns = 5000 * SIM_MS;
    c.heartbeat_timeout_ns = 15000 * SIM_MS;
    c.ip_delete_timeout_ns = 30000 * SIM_MS;
    c.expire_instance = true;
    c.health_check_enabled = true;
    c.health_sync_initial_ns = 60000 * SIM_MS;
    c.health_sync_interval_ns = 5000 * SIM_MS;
    c.client_beat_interval_ns = 5000 * SIM_MS;
    c.member_report_initial_ns = 5000 * SIM_MS;
    c.member_report_interval_ns = 2000 * SIM_MS;
    c.member_fail_access_cnt = 3;
    c.members_start_down = true;               /* 1.4.2-1.4.8 force new members DOWN (section 1.5) */
    /* DefaultHttpClientFactory.java:28,38: nacos.http.timeout (5000) to
     * connect, half of it to read. */
    c.member_report_connect_timeout_ns = 5000 * SIM_MS;
    c.member_report_timeout_ns = 2500 * SIM_MS;
    /* Nacos reads the core count of the host it runs on.  4 vCPUs is a
     * common size for a Nacos server VM or container, and gives 4 execute
     * workers.  The count matters under faults: the fewer the workers, the
     * sooner one unreachable peer holds all of them (section 1.4), so a
     * scenario modelling a bigger host should set it. */
    c.cpu_cores = 4;
    c.proxy_timeout_ns = 2000 * SIM_MS;
    c.distro_enabled = true;
    c.default_instance_ephemeral = true;
    c.light_beat_enabled = true;
    c.verify_guard_racy = false;
    c.raft_gate = true;
    c.raft_election_delay_ns = 5000 * SIM_MS;   /* RaftSysConstants.java:32, JRaftServer.java:175-176 */
    c.shortcuts = true;
    c.merged_beats = true;
    c.version = DISTRO_VERSION_1_4_2;
    c.v2 = (distro2_config){
        .sync_delay_ns = 1000 * SIM_MS,              /* DistroConstants.DEFAULT_DATA_SYNC_DELAY_MILLISECONDS */
        .sync_timeout_ns = 3000 * SIM_MS,
        .sync_retry_delay_ns = 3000 * SIM_MS,
        .verify_timeout_ns = 3000 * SIM_MS,
        .load_timeout_ns = 30000 * SIM_MS,
        .client_expired_ns = 180000 * SIM_MS,        /* ClientConfig: nacos.naming.client.expired.time */
        .cleaner_interval_ns = 5000 * SIM_MS,
        .ejector_initial_ns = 1000 * SIM_MS,
        .ejector_interval_ns = 3000 * SIM_MS,
        .connection_idle_ns = 20000 * SIM_MS,        /* RuntimeConnectionEjector KEEP_ALIVE_TIME */
        .detection_timeout_ns = 5000 * SIM_MS,
        .verify_interval_ns = 5000 * SIM_MS,        /* DistroConstants.DEFAULT_DATA_VERIFY_INTERVAL_MILLISECONDS */
        .load_retry_delay_ns = 30000 * SIM_MS,      /* DEFAULT_DATA_LOAD_RETRY_DELAY_MILLISECONDS */
        .rpc_timeout_ns = 3000 * SIM_MS,             /* DefaultGrpcClientConfig.Builder (3.0.3 :203-227) */
        .rpc_retry_times = 3,
        .rpc_keepalive_ns = 5000 * SIM_MS,
        .rpc_health_retry_times = 3,
        .rpc_health_timeout_ns = 3000 * SIM_MS,
        .rpc_max_inbound_bytes = 10u * 1024u * 1024u, /* DefaultGrpcClientConfig.java:219 (2.5.1 and 3.0.3) */
        .redo_interval_ns = 3000 * SIM_MS,
        .unhealthy_report_interval_ns = 5000 * SIM_MS,
        .bugs = 0,
    };
    /* 3.x startup.sh refuses to start without an identity key and value
     * (3.0.3 distribution/bin/startup.sh:166-167): every node has one, the
     * same. */
    for (uint32_t i = 0; i < DISTRO_NODE_SETTINGS_MAX; i++) c.v3.identity[i] = 1;
    c.v3.auth_enabled = false;
    c.v3.inner_auth_check_ns = 3000 * SIM_MS;   /* InnerApiAuthEnabled.java:68 (3.0.3) */
    return c;
}

distro_version distro_config_node_version(const distro_config *config, uint32_t node)
{
    if (node < DISTRO_NODE_SETTINGS_MAX && config->v3.node_version[node] != 0) {
        return (distro_version)(config->v3.node_version[node] - 1u);
    }
    return config->version;
}

uint32_t distro_config_node_identity(const distro_config *config, uint32_t node)
{
    return node < DISTRO_NODE_SETTINGS_MAX ? config->v3.identity[node] : 1u;
}

const char *distro_version_name(distro_version version)
{
    switch (version) {
    case DISTRO_VERSION_1_4_2: return "1.4.2";
    case DISTRO_VERSION_2_5_1: return "2.5.1";
    case DISTRO_VERSION_3_0_3: return "3.0.3";
    }
    return "unknown";
}

static const char *const bug_names[DISTRO2_BUG_COUNT] = {
    [DISTRO2_BUG_NACOS_8099] = "nacos-8099",
    [DISTRO2_BUG_NACOS_8594] = "nacos-8594",
    [DISTRO2_BUG_NACOS_10056] = "nacos-10056",
};

const char *distro2_bug_name(distro2_bug_id id)
{
    return (unsigned)id < DISTRO2_BUG_COUNT ? bug_names[id] : NULL;
}

distro2_bug_id distro2_bug_find(const char *name, size_t len)
{
    for (unsigned i = 0; i < DISTRO2_BUG_COUNT; i++) {
        if (strlen(bug_names[i]) == len && memcmp(bug_names[i], name, len) == 0) return (distro2_bug_id)i;
    }
    return DISTRO2_BUG_COUNT;
}

uint32_t distro_config_execute_workers(const distro_config *config)
{
    uint32_t w = 1;
    while (w < config->cpu_cores && w < (UINT32_C(1) << 31)) w *= 2;
    return w;
}
