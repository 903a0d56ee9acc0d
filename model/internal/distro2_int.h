/* distro2_int.h: the 2.x (Nacos 2.5.1) model's internal types, shared by
 * model/distro2_*.c.  Never included from outside model/.
 *
 * What the 2.x model is (NACOS-DISTRO.md section 3, with the corrections
 * of its section 3 notes; Nacos paths N/ = naming/src/main/java/com/
 * alibaba/nacos/naming/, C/ = core/src/main/java/com/alibaba/nacos/core/):
 *
 *   distro2_protocol.c  DistroProtocol: node start, crash, request dispatch
 *   distro2_client.c    ConnectionBasedClientManager and the service index
 *                       (what a node lists), the expired-client cleaner
 *   distro2_sync.c      DistroClientDataProcessor (events, apply), the
 *                       delay-task engine with the 2.x merge rule,
 *                       DistroSyncChangeTask / DeleteTask,
 *                       DistroClientTransportAgent, DistroClientTaskFailedHandler
 *   distro2_verify.c    DistroVerifyTimedTask / ExecuteTask, verifyClient
 *   distro2_load.c      DistroLoadDataTask over gRPC, finishInitial
 *   distro2_rpc.c       ClusterRpcClientProxy: one RpcClient per peer with
 *                       its RUNNING / UNHEALTHY state and reconnect loop;
 *                       member reports over gRPC
 *   distro2_sdk.c       the 2.x naming SDK (one gRPC connection at a time,
 *                       reconnect elsewhere, redo) and the server's
 *                       ConnectionManager (ejector, idle probe)
 *
 * Identity.  A connection-based client's id is its connection id; here a
 * dense cluster-wide number (c->conns), so per-node tables are arrays
 * indexed by it and every iteration is in connection-id order (Nacos
 * iterates hash maps there; section 8.3 lets a simulator pick any
 * deterministic order).
 *
 * What each SDK client publishes is one instance of one service, its
 * harness client's (distro_client): a ConnectionBasedClient here holds at
 * most one publisher, and the content of a publisher is the SDK client's
 * instance, which never changes while it lives. */
#ifndef DISTRO2_INT_H
#define DISTRO2_INT_H

#include "distro_int.h"

/* DataOperation of a Distro v2 delay task. */
enum distro2_action { DISTRO2_ADD, DISTRO2_CHANGE, DISTRO2_DELETE };

/* Reply codes of the v2 RPCs (msg->code): a DistroDataResponse with
 * resultCode SUCCESS or FAIL, or an ErrorResponse (section 3.5 and the
 * response-code notes: "Server is starting", no handler, ...), which the
 * caller's callback sees as an exception. */
#define DISTRO2_CODE_SUCCESS 200
#define DISTRO2_CODE_FAIL 500
#define DISTRO2_CODE_ERROR (-1)

/* One gRPC connection of a 2.x SDK client to a server. */
typedef struct distro2_conn {
    uint32_t sdk;                /* the harness client */
    uint32_t server;             /* the node that holds it (its native client's node) */
    bool open;                   /* registered in the server's ConnectionManager */
    sim_time_ns last_active_ns;  /* the SDK's last request or keep-alive, on the server's clock */
} distro2_conn;

/* The 2.x SDK state of a harness client (distro2_sdk.c). */
typedef struct distro2_sdk {
    bool connected;              /* its RpcClient is RUNNING on `conn` */
    bool registered_on_conn;     /* the current connection carries its registration */
    bool connecting;             /* a reconnect is scheduled or under way */
    uint32_t conn;               /* current connection id, DISTRO_NONE: none */
    uint32_t server_index;       /* RpcClient.nextRpcServer cursor */
    uint32_t attempts;           /* failed connects in this reconnect round */
    uint32_t gen;                /* bumped on every change: stale events are dropped */
    sim_time_ns created_ns;      /* the phase of its redo timer */
    sim_time_ns died_ns;         /* when the process died; SIM_TIME_NEVER: alive */
} distro2_sdk;

/* A ConnectionBasedClient on one node (section 3.1). */
typedef struct distro2_client {
    bool present;
    bool native;                 /* this node holds the connection */
    uint32_t key;                /* the published service, DISTRO_NONE: none */
    int64_t revision;
    int64_t last_renew_ms;       /* node clock; replicas: renewed by verify */
} distro2_client;

/* A pending task of the delay-task engine for (client, target). */
typedef struct distro2_task {
    uint32_t conn;
    uint32_t target;
    uint8_t action;              /* distro2_action */
    int64_t create_ms;
    int64_t last_process_ms;
    int64_t interval_ms;
} distro2_task;

/* The cluster RPC client of a node to one peer (distro2_rpc.c). */
enum distro2_rpc_phase {
    DISTRO2_RPC_RUNNING,
    DISTRO2_RPC_HEALTH_CHECK,    /* UNHEALTHY: the health check before a reconnect */
    DISTRO2_RPC_RECONNECT,
    DISTRO2_RPC_RUNNING_CHECK,   /* RUNNING: a keep-alive health check */
};

typedef struct distro2_rpc {
    uint8_t phase;               /* distro2_rpc_phase */
    uint32_t tries;              /* health checks or connects in this phase */
    uint32_t gen;                /* bumped on every phase change */
    bool started;                /* its first connect round (RpcClient.start) has ended */
    sim_time_ns last_active_ns;  /* lastActiveTimeStamp: the last synchronous request answered */
} distro2_rpc;

struct distro2_node {
    /* ClientManager, by connection id. */
    distro2_client *clients;
    uint32_t clients_cap;
    uint32_t client_count;       /* present clients */
    /* Service index: per service key, the connection ids publishing it. */
    uint32_t **key_conns;
    uint32_t *key_conns_len;
    uint32_t *key_conns_cap;
    uint32_t keys_cap;
    /* Delay-task engine: tasks in insertion order, and an index
     * (conn, target) -> slot + 1 (open addressing, backward-shift delete). */
    distro2_task *tasks;
    uint32_t task_count;
    uint32_t task_cap;
    uint64_t *task_keys;
    uint32_t *task_slots;        /* slot + 1; 0 = empty */
    uint32_t task_index_cap;
    /* Load (section 3.4). */
    bool finish_initial;
    uint32_t loaded_from;
    /* ClusterRpcClientProxy, by peer. */
    distro2_rpc *rpc;
    uint32_t startup_pending;    /* peers whose first connect round is still going, + 1 */
    /* ConnectionManager ejector. */
    bool ejector_running;
    /* MemberInfoReportTask cursor is the node's report_cursor. */
    /* 3.0.3 (distro3_auth.c): the version each member's extend-info
     * reports (distro_version + 1; 0 blank), and InnerApiAuthEnabled. */
    uint8_t *member_version;
    bool inner_api_auth;
};

/* --- distro2_protocol.c ---------------------------------------------------- */
void distro2_node_start(distro_node *node);
void distro2_node_crashed(distro_node *node);
void distro2_node_free(distro2_node *v2);
void distro2_dispatch_request(distro_node *node, const sim_message *msg, distro_token token);

/* --- distro2_client.c ------------------------------------------------------ */
distro2_client *distro2_client_get(distro_node *node, uint32_t conn);   /* NULL when absent */
/* clientConnected / syncClientConnected: creates the client if absent
 * (computeIfAbsent) and returns it; NULL when out of memory (run failed). */
distro2_client *distro2_client_connected(distro_node *node, uint32_t conn, bool native, int64_t revision);
/* Sets (key) or clears (DISTRO_NONE) the client's publisher; updates the
 * service index and what the node lists. */
void distro2_client_publish(distro_node *node, uint32_t conn, uint32_t key);
/* clientDisconnected: removes the client (absent: no-op) and raises
 * ClientDisconnectEvent.  Returns true when a client was removed. */
bool distro2_client_remove(distro_node *node, uint32_t conn);
/* isResponsibleClient of a connection client: native. */
bool distro2_client_responsible(const distro2_client *client);
void distro2_client_cleaner_start(distro_node *node);

/* --- distro2_sync.c -------------------------------------------------------- */
void distro2_sync_start(distro_node *node);
/* DistroClientDataProcessor.onEvent for a ClientChangedEvent (disconnect
 * false) or a ClientDisconnectEvent (disconnect true) of `conn` on `node`;
 * `native` is the event's client's isNative (for a disconnect, the removed
 * client's). */
void distro2_on_client_event(distro_node *node, uint32_t conn, bool disconnect, bool native);
/* ClientVerifyFailedEvent(conn, target). */
void distro2_on_verify_failed(distro_node *node, uint32_t conn, uint32_t target);
void distro2_sync_on_request(distro_node *node, const sim_message *msg, distro_token token);
/* handlerClientSyncData for one entry (sync or snapshot). */
void distro2_apply_sync(distro_node *node, uint32_t conn, int64_t revision, uint32_t key);
uint32_t distro2_tasks_pending(const distro_node *node);

/* --- distro2_verify.c ------------------------------------------------------ */
void distro2_verify_start(distro_node *node);
void distro2_verify_on_request(distro_node *node, const sim_message *msg, distro_token token);

/* --- distro2_load.c -------------------------------------------------------- */
void distro2_load_start(distro_node *node);
void distro2_load_on_snapshot(distro_node *node, const sim_message *msg, distro_token token);

/* --- distro2_rpc.c --------------------------------------------------------- */
void distro2_rpc_start(distro_node *node);
/* RpcClient.isRunning for the client to `peer`. */
bool distro2_rpc_running(const distro_node *node, uint32_t peer);
/* A synchronous request to `peer` was answered: the client's
 * lastActiveTimeStamp (RpcClient.java:667). */
void distro2_rpc_active(distro_node *node, uint32_t peer);
/* A synchronous request to `peer` failed every attempt: UNHEALTHY, then the
 * reconnect with a health check first (RpcClient.java:690-692, 434-455). */
void distro2_rpc_request_failed(distro_node *node, uint32_t peer);
/* The stream to `peer` broke (its process died): UNHEALTHY, reconnect
 * without a health check (GrpcClient.java:300-308). */
void distro2_rpc_stream_error(distro_node *node, uint32_t peer);
void distro2_rpc_on_check(distro_node *node, const sim_message *msg, distro_token token);
/* A member joined `node`'s list: its RPC client starts connecting. */
void distro2_rpc_member_added(distro_node *node, uint32_t peer);
void distro2_member_on_report(distro_node *node, const sim_message *msg, distro_token token);

/* --- distro2_sdk.c --------------------------------------------------------- */
/* distro_client_add for a 2.x cluster: the SDK starts `delay_ns` from now. */
void distro2_sdk_add(distro_cluster *c, uint32_t client, sim_time_ns delay_ns);
void distro2_sdk_deregister(distro_cluster *c, uint32_t client);
void distro2_sdk_kill(distro_cluster *c, uint32_t client);
/* `node` crashed: its connections are gone; their SDKs reconnect. */
void distro2_sdk_server_crashed(distro_cluster *c, uint32_t node);
void distro2_ejector_start(distro_node *node);

/* --- distro3_auth.c (3.0.3) ---------------------------------------------- */
/* Allocates the member versions and starts InnerApiAuthEnabled on a 3.x
 * node; false when out of memory. */
bool distro3_node_start(distro_node *node);
bool distro3_node_is3(const distro_node *node);
/* `node` crashed: from its next start it runs its upgrade release, if any. */
void distro3_node_crashed(distro_node *node);
/* The version `node` puts in its member reports and their answers. */
uint8_t distro3_reported_version(const distro_node *node);
/* `node` read `peer`'s extend-info version (a report, or a report's answer). */
void distro3_version_learned(distro_node *node, uint32_t peer, uint8_t version);
/* RemoteRequestAuthFilter: true when `msg` was answered NO_RIGHT and must
 * not reach its handler. */
bool distro3_filter(distro_node *node, const sim_message *msg, distro_token token);

#endif
