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
    bool ipport;                 /* not a connection: the IP-port client of a 1.x SDK (distro2_ipport.c) */
    uint32_t tag_hash;           /* IP-port: distroHash("ip:port"), its responsibleId */
    sim_time_ns last_active_ns;  /* the SDK's last request or keep-alive, on the server's clock */
    bool subscriber;             /* a 2.x subscriber's connection: `sdk` is its reader id
                                  * (distro2_subscriber.c); it never publishes */
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
    uint32_t probe;              /* bumped per keep-alive health check attempt: stale answers dropped */
    uint32_t health_tries;       /* failed attempts of the health check under way */
    bool checking;               /* a keep-alive health check is under way */
    sim_time_ns active_ns;       /* lastActiveTimeStamp: connected, or the last health check answered */
} distro2_sdk;

/* A ConnectionBasedClient on one node (section 3.1). */
typedef struct distro2_client {
    bool present;
    bool native;                 /* this node holds the connection */
    bool ipport;                 /* an IpPortBasedClient (distro2_ipport.c) */
    bool healthy;                /* its publisher's healthy flag (connection clients: always true) */
    uint32_t key;                /* the published service, DISTRO_NONE: none */
    int64_t revision;
    /* Node clock.  Connection clients: lastRenewTime (replicas: renewed by
     * verify).  IP-port clients: lastUpdatedTime (register, deregister,
     * beats on the owner, verify on replicas). */
    int64_t last_renew_ms;
    int64_t last_beat_ms;        /* IP-port: its publisher's lastHeartBeatTime */
    uint32_t check_gen;          /* IP-port: the live ClientBeatCheckTaskV2's generation */
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
    /* Per harness client (an SDK process), how many of its client ids
     * publish its instance here: 2 or more is a duplicate window. */
    uint32_t *sdk_pubs;
    uint32_t sdk_pubs_cap;
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
    /* ApplicationUtils.isStarted: until then every gRPC request is answered
     * with an ErrorResponse "Server is starting" (distro2_protocol.c). */
    bool started;
    /* MemberInfoReportTask cursor is the node's report_cursor. */
    /* 3.0.3 (distro3_auth.c): the version each member's extend-info
     * reports (distro_version + 1; 0 blank), and InnerApiAuthEnabled. */
    uint8_t *member_version;
    bool inner_api_auth;
    /* nacos-8099's execute workers (distro2_bugs.c): NULL until used. */
    struct distro2_workers *workers;
    uint32_t check_gen;          /* IP-port beat-check tasks scheduled on this node */
    /* NamingSubscriberServiceV2Impl and its PushDelayTaskExecuteEngine
     * (distro2_push.c); NULL until a 2.x subscriber exists. */
    struct distro2_push *push;
    sim_time_ns started_ns;      /* the node's start: the phase of the push engine's tick */
    /* The ClientEvent publisher's queue (distro2_events.c). */
    struct distro2_event *events;
    uint32_t events_head, events_len, events_cap;
    bool events_scheduled;       /* its drain is scheduled */
};

/* --- distro2_protocol.c ---------------------------------------------------- */
void distro2_node_start(distro_node *node);
void distro2_node_crashed(distro_node *node);
void distro2_node_free(distro2_node *v2);
void distro2_dispatch_request(distro_node *node, const sim_message *msg, distro_token token);
/* StartingApplicationListener.started: the node answers requests from now. */
void distro2_node_started(distro_node *node);

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
/* The client's publisher changed in place (an IP-port client's health):
 * its service's list is rebuilt. */
void distro2_client_refresh(distro_node *node, uint32_t conn);
/* isResponsibleClient of a connection client: native. */
bool distro2_client_responsible(const distro_node *node, uint32_t conn, const distro2_client *client);
void distro2_client_cleaner_start(distro_node *node);

/* --- distro2_events.c: the ClientEvent publisher ---------------------------- */
/* Publish a ClientChangedEvent (disconnect false) or a ClientDisconnectEvent
 * (disconnect true) of `conn` on `node`; `native` is the event's client's
 * isNative (for a disconnect, the removed client's).  Queued on the node's
 * one event thread: handled after the current engine event, in publish
 * order. */
void distro2_on_client_event(distro_node *node, uint32_t conn, bool disconnect, bool native);
/* Publish ClientVerifyFailedEvent(conn, target), on the same queue. */
void distro2_on_verify_failed(distro_node *node, uint32_t conn, uint32_t target);
/* Events published and not yet handled on `node` (tests). */
uint32_t distro2_events_pending(const distro_node *node);
void distro2_events_free(distro2_node *v2);

/* --- distro2_sync.c -------------------------------------------------------- */
void distro2_sync_start(distro_node *node);
/* DistroClientDataProcessor.onEvent, run by the event queue. */
void distro2_process_client_event(distro_node *node, uint32_t conn, bool disconnect, bool native);
void distro2_process_verify_failed(distro_node *node, uint32_t conn, uint32_t target);
void distro2_sync_on_request(distro_node *node, const sim_message *msg, distro_token token);
/* handlerClientSyncData for one entry (sync or snapshot). */
void distro2_apply_sync(distro_node *node, uint32_t conn, int64_t revision, uint32_t key, bool healthy);
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
/* A synchronous request to `peer` got an ErrorResponse on its `attempts`-th
 * attempt: true when RpcClient.request tries again at once; false when the
 * attempts are spent (the client flipped, as distro2_rpc_request_failed). */
bool distro2_rpc_sync_error(distro_node *node, uint32_t peer, uint32_t attempts);
void distro2_rpc_on_check(distro_node *node, const sim_message *msg, distro_token token);
/* A member joined `node`'s list: its RPC client starts connecting. */
void distro2_rpc_member_added(distro_node *node, uint32_t peer);
void distro2_member_on_report(distro_node *node, const sim_message *msg, distro_token token);

/* --- distro2_bugs.c -------------------------------------------------------- */
typedef struct distro2_workers distro2_workers;
/* cluster.bugs selects defect `id`. */
bool distro2_bug(const distro_cluster *c, distro2_bug_id id);
/* nacos-8099: a due sync task, or a verify round to `target`, queued on
 * its execute worker (the arrays are copied). */
void distro2_workers_submit_sync(distro_node *node, const distro2_task *t);
void distro2_workers_submit_verify(distro_node *node, uint32_t target, const uint32_t *conns, const int64_t *revs,
                                   uint32_t count);
void distro2_workers_free(distro2_workers *ws);
/* distro2_sync.c's execute of a due task: `ungated` sends without the
 * transport agent's state check (nacos-8099); and its failure path. */
void distro2_sync_execute(distro_node *node, const distro2_task *t, bool ungated);
void distro2_sync_failed(distro_node *node, const distro2_task *t);
/* distro2_verify.c: one round's VERIFY items to `target`, sent now. */
void distro2_verify_send(distro_node *node, uint32_t target, const uint32_t *conns, const int64_t *revs,
                         uint32_t count);
/* --- distro2_ipport.c ------------------------------------------------------ */
/* distro_client_add for a 1.x SDK on a 2.x cluster: its IP-port client's
 * id (an entry of c->conns), DISTRO_NONE when out of memory. */
uint32_t distro2_ipport_add(distro_cluster *c, uint32_t client);
bool distro2_conn_ipport(const distro_cluster *c, uint32_t conn);
/* EphemeralIpPortClientManager.isResponsibleClient: DistroMapper
 * .responsible(ip:port) in `node`'s view. */
bool distro2_ipport_responsible(const distro_node *node, uint32_t conn);
/* clientConnected / syncClientConnected of an IP-port client: created if
 * absent, with its beat-check task; NULL when out of memory. */
distro2_client *distro2_ipport_connected(distro_node *node, uint32_t conn, int64_t revision);
/* handlerClientSyncData for an IP-port client (sync or snapshot entry). */
void distro2_ipport_apply_sync(distro_node *node, uint32_t conn, int64_t revision, uint32_t key, bool healthy);
/* EphemeralIpPortClientManager.ExpiredClientCleaner, one run. */
void distro2_ipport_clean(distro_node *node);
/* A /v1/ns write or beat of 1.x SDK `client` reaching `node` (DistroFilter
 * routes by ip:port; model/distro_filter.c calls this on a 2.x node). */
void distro2_ipport_on_client_request(distro_node *node, uint32_t client, uint8_t op, bool with_body,
                                      uint32_t request_id);
void distro2_ipport_on_proxy(distro_node *node, const sim_message *msg, distro_token token);

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
/* --- distro2_push.c: the server side of 2.x subscribers --------------------- */
/* ClientServiceIndexesManager raised ServiceChangedEvent for `key`
 * (a publisher index added or removed): a PushDelayTask to all. */
void distro2_push_service_changed(distro_node *node, uint32_t key);
/* SubscribeServiceRequestHandler: `conn` (native here) subscribes `key`;
 * a first subscription raises ServiceSubscribedEvent: a PushDelayTask to
 * that connection only. */
void distro2_push_subscribe(distro_node *node, uint32_t conn, uint32_t key);
/* ClientReleaseEvent: the connection's subscriptions leave the index. */
void distro2_push_client_removed(distro_node *node, uint32_t conn);
void distro2_push_free(distro2_node *v2);
/* Pending push tasks of `node` (tests). */
uint32_t distro2_push_tasks_pending(const distro_node *node);
/* The push state's invariants (distro_check.c): the pending count matches
 * the pending tasks, which have a tick scheduled, and the subscriber index
 * lists present native subscriber connections of this node, once each.
 * False with `why` filled when one fails. */
bool distro2_push_consistent(const distro_node *node, char *why, size_t why_len);

/* --- distro2_subscriber.c: the 2.x SDK subscriber ---------------------------- */
void distro2_subscriber_start(distro_cluster *c, uint32_t reader, sim_time_ns delay_ns);
/* `node` crashed: its subscriber connections break; they reconnect. */
void distro2_subscriber_server_crashed(distro_cluster *c, uint32_t node);

#endif
