/* distro_config.h: every Nacos 1.4 constant of NACOS-DISTRO.md section 5,
 * settable per cluster, the Nacos release the cluster runs, and the 2.x
 * constants of section 3.  distro_config_defaults() gives Nacos's values. */
#ifndef DISTRO_CONFIG_H
#define DISTRO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_time.h"

/* The Nacos release a cluster runs (cluster.version): which Distro line the
 * model executes.  1.4.2 is the checksum line of section 2; 2.5.1 the
 * client/revision line of section 3 (model/distro2_*.c); 3.0.3 is 2.5.1's
 * line plus the inner-API identity check and the configurable cluster gRPC
 * client of section 3.11 (model/distro3_auth.c). */
typedef enum distro_version {
    DISTRO_VERSION_1_4_2,
    DISTRO_VERSION_2_5_1,
    DISTRO_VERSION_3_0_3,
} distro_version;

/* "1.4.2", "2.5.1", "3.0.3". */
const char *distro_version_name(distro_version version);

/* The 2.x constants (section 3 and 5; DistroConstants, ClientConfig,
 * ConnectionManager, RpcClient at 2.5.1), the scenario keys
 * cluster.distro.v2.* and (3.0.3) cluster.distro.grpc.* (section 3.11). */
typedef struct distro2_config {
    sim_time_ns sync_delay_ns;               /* 1000 ms, nacos.core.protocol.distro.data.sync.delayMs */
    sim_time_ns sync_timeout_ns;             /* 3000 ms, ...sync.timeoutMs */
    sim_time_ns sync_retry_delay_ns;         /* 3000 ms, ...sync.retryDelayMs */
    sim_time_ns verify_timeout_ns;           /* 3000 ms, ...verify.timeoutMs */
    sim_time_ns load_timeout_ns;             /* 30000 ms, ...load.timeoutMs */
    sim_time_ns client_expired_ns;           /* 180000 ms, nacos.naming.client.expired.time */
    sim_time_ns cleaner_interval_ns;         /* 5000 ms, expired-client cleaner, first at 0 */
    sim_time_ns ejector_initial_ns;          /* 1000 ms, NacosRuntimeConnectionEjector */
    sim_time_ns ejector_interval_ns;         /* 3000 ms */
    sim_time_ns connection_idle_ns;          /* 20000 ms: an idle connection is probed */
    sim_time_ns detection_timeout_ns;        /* 5000 ms: ClientDetectionRequest */
    sim_time_ns verify_interval_ns;          /* 5000 ms, ...verify.intervalMs, also the initial delay */
    sim_time_ns load_retry_delay_ns;         /* 30000 ms, ...load.retryDelayMs */
    /* The cluster gRPC client (RpcClientConfig): hard-coded in 2.5.1,
     * nacos.remote.client.grpc.* in 3.0.3 (DefaultGrpcClientConfig
     * .buildClusterFromProperties, 3.0.3 :243-310). */
    sim_time_ns rpc_timeout_ns;              /* 3000 ms: timeout: the connect to a peer */
    uint32_t rpc_retry_times;                /* 3: retry.times: connects of RpcClient.start */
    sim_time_ns rpc_keepalive_ns;            /* 5000 ms: connect.keep.alive: idle time before a health check */
    uint32_t rpc_health_retry_times;         /* 3: health.retry: health checks after the first */
    sim_time_ns rpc_health_timeout_ns;       /* 3000 ms: health.timeout: one health check */
    uint32_t rpc_max_inbound_bytes;          /* 10 MiB: maxinbound.message.size: the largest answer it reads */
    sim_time_ns redo_interval_ns;            /* 3000 ms: the SDK's redo task (NamingGrpcRedoService) */
    sim_time_ns unhealthy_report_interval_ns;/* 5000 ms: UnhealthyMemberInfoReportTask */
    uint32_t bugs;                           /* 0: selectable defects (cluster.bugs), 1 << distro2_bug_id */
} distro2_config;

/* Per-node settings of a 3.0.3 cluster (section 3.11), for node ids below
 * DISTRO_NODE_SETTINGS_MAX; a node above runs the cluster's version with
 * identity 1. */
#define DISTRO_NODE_SETTINGS_MAX 64u
typedef struct distro3_config {
    /* nacos.core.auth.server.identity.key/value of each node: 0 when the key
     * or the value is blank; equal non-zero ids mean the same key and value. */
    uint32_t identity[DISTRO_NODE_SETTINGS_MAX];
    /* The release each node runs: 0 the cluster's, else distro_version + 1
     * (a 2.5.1 node of a 3.0.3 cluster: a cluster mid-upgrade). */
    uint8_t node_version[DISTRO_NODE_SETTINGS_MAX];
    /* The release a node runs from its first crash or restart on: 0 none,
     * else distro_version + 1 (a rolling upgrade, one restart per node). */
    uint8_t node_upgrade[DISTRO_NODE_SETTINGS_MAX];
    bool auth_enabled;                       /* nacos.core.auth.enabled: false (not a key) */
    sim_time_ns inner_auth_check_ns;         /* 3000 ms: InnerApiAuthEnabled.doCheck, fixed rate */
} distro3_config;
/* Selectable defects of earlier 2.x releases (cluster.bugs), each named
 * after the alibaba/nacos issue that reported it and off by default: with
 * one on, the 2.5.1 model behaves as the releases before its fix did at
 * that one point (model/distro2_bugs.c, README "Selectable defects"). */
typedef enum distro2_bug_id {
    DISTRO2_BUG_NACOS_8099,   /* 2.0.0-2.1.0: async sync and verify sent without the target gate (fix #8693, 2.1.1) */
    DISTRO2_BUG_NACOS_8594,   /* 2.0.0-2.1.0: the snapshot under the 3000 ms request timeout (fix #8595, 2.1.1) */
    DISTRO2_BUG_NACOS_10056,  /* 2.1.2-2.2.x: a sync sets a replica's revision only with batch data (fix #10553, 2.3.0) */
    DISTRO2_BUG_COUNT,
} distro2_bug_id;

/* "nacos-8099", ...  NULL for an id out of range.  Pure. */
const char *distro2_bug_name(distro2_bug_id id);
/* The id named by the `len` bytes at `name`, DISTRO2_BUG_COUNT when none.  Pure. */
distro2_bug_id distro2_bug_find(const char *name, size_t len);

typedef struct distro_config {
    distro_version version;                  /* cluster.version: 1.4.2 */
    distro2_config v2;                       /* used when version is 2.5.1 or 3.0.3 */
    distro3_config v3;                       /* used when version is 3.0.3 */
    /* Delay-task engine (section 1.3). */
    sim_time_ns task_tick_ns;                /* 100 ms, hard-coded in Nacos */
    /* Change sync (section 2.3): nacos.naming.distro.taskDispatchPeriod / 2. */
    sim_time_ns sync_delay_ns;               /* 1000 ms, stage A */
    sim_time_ns sync_batch_delay_ns;         /* 1000 ms, stage B */
    uint32_t batch_sync_key_count;           /* 1000 */
    sim_time_ns sync_retry_delay_ns;         /* 5000 ms, nacos.naming.distro.syncRetryDelay */
    /* HTTP clients (section 1.8, distro_http.c); a timeout of 0 is none. */
    sim_time_ns http_connect_timeout_ns;     /* 5000 ms: async client, and per request (load, statuses) */
    sim_time_ns http_read_timeout_ns;        /* 10000 ms: likewise */
    sim_time_ns http_sync_connect_timeout_ns;/* 0: Apache sync client (sync PUT, repair GET): the kernel's SYN limit */
    sim_time_ns http_sync_read_timeout_ns;   /* 0: none */
    sim_time_ns http_sync_lease_timeout_ns;  /* 0: wait for a pooled connection forever */
    sim_time_ns http_sync_ttl_ns;            /* 500 ms: pooled connection time to live */
    uint32_t http_sync_max_per_route;        /* 0: cpu_cores */
    uint32_t http_sync_max_total;            /* 0: 2 x cpu_cores */
    uint32_t http_async_max_per_route;       /* 128 */
    uint32_t http_async_max_total;           /* 20, HttpAsyncClientBuilder's default */
    /* Startup load (section 2.4). */
    sim_time_ns load_retry_delay_ns;         /* 30000 ms */
    sim_time_ns load_poll_ns;                /* 1000 ms, hard-coded */
    bool data_warmup;                        /* nacos.naming.data.warmup, false */
    sim_time_ns server_status_interval_ns;   /* 5000 ms, fixed rate, first at 0 */
    /* Verify (section 2.5). */
    sim_time_ns verify_interval_ns;          /* 5000 ms, also the initial delay */
    /* Health (sections 2.6, 2.7). */
    sim_time_ns beat_check_interval_ns;      /* 5000 ms, initial 5000 */
    sim_time_ns heartbeat_timeout_ns;        /* 15000 ms, preserved.heart.beat.timeout */
    sim_time_ns ip_delete_timeout_ns;        /* 30000 ms, preserved.ip.delete.timeout */
    bool expire_instance;                    /* nacos.naming.expireInstance, true */
    bool health_check_enabled;               /* switch healthCheckEnabled, true */
    sim_time_ns health_sync_initial_ns;      /* 60000 ms, ServiceReporter first run */
    sim_time_ns health_sync_interval_ns;     /* 5000 ms, serviceStatusSynchronizationPeriodMillis */
    sim_time_ns client_beat_interval_ns;     /* 5000 ms, clientBeatInterval */
    /* Members (section 1.5). */
    sim_time_ns member_report_initial_ns;    /* 5000 ms after web start */
    sim_time_ns member_report_interval_ns;   /* 2000 ms after each run */
    uint32_t member_fail_access_cnt;         /* 3: DOWN when failures > 3 */
    bool members_start_down;                 /* 1.4.2: new members forced DOWN until contact */
    sim_time_ns member_report_connect_timeout_ns; /* 5000 ms */
    sim_time_ns member_report_timeout_ns;    /* 2500 ms read timeout of the report (TIMEOUT >> 1) */
    /* Execute engine (section 1.4): workers = the smallest power of two >=
     * the server's CPU cores (distro_config_execute_workers). */
    uint32_t cpu_cores;                      /* 4, see distro_config_defaults */
    /* DistroFilter proxy (section 1.7). */
    sim_time_ns proxy_timeout_ns;            /* 2000 ms connect, and 2000 ms read */
    /* Switches. */
    bool distro_enabled;                     /* true */
    bool default_instance_ephemeral;         /* true */
    bool light_beat_enabled;                 /* true */
    /* Selectable 1.4.2 behaviours (W14): the racy checksum guard. */
    bool verify_guard_racy;                  /* false: 1.4.3+ atomic put-if-absent */
    /* The persistent (JRaft) side of the 503 gate (distro_raft.c). */
    bool raft_gate;                          /* true: the status needs the persistent side too */
    sim_time_ns raft_election_delay_ns;      /* 5000 ms, JRaft election_timeout_ms (Nacos floors it there) */
    /* Simulator switch, not a Nacos setting: skip work whose outcome is
     * already known (the receiver memo of distro_memo.c, the beat check's
     * deadline in distro_health.c).  Runs are the same either way. */
    bool shortcuts;                          /* true */
    /* Not Nacos either: a 1.x client's beat is sent inside its arrival
     * event, not at its own instant, when nothing the send reads can change
     * in between (distro_client.c).  Runs are the same either way, but for
     * their event count and trace hash. */
    bool merged_beats;                       /* true */
} distro_config;

/* True when cluster.bugs selects defect `id`.  Pure. */
static inline bool distro2_bug_on(const distro_config *config, distro2_bug_id id)
{
    return (config->v2.bugs >> id) & 1u;
}

/* Nacos 1.4.2's defaults.  Pure. */
distro_config distro_config_defaults(void);

/* The release node `node` runs, and its identity id (distro3_config). */
distro_version distro_config_node_version(const distro_config *config, uint32_t node);
uint32_t distro_config_node_identity(const distro_config *config, uint32_t node);

/* NacosExecuteTaskExecuteEngine's worker count: the smallest power of two
 * >= cpu_cores (1 for 0 or 1 core).  Pure. */
uint32_t distro_config_execute_workers(const distro_config *config);

#endif
