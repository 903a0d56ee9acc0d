/* distro_int.h: the model's internal types, shared by the files of model/.
 * Never included from outside model/.
 *
 * Layout.  A distro_cluster owns N distro_node servers and the clients.
 * Keys (services) are interned cluster-wide with dense ids, so every
 * per-node table is a plain array indexed by key id: no hash table decides
 * anything, and iteration is always in key-id order (Nacos iterates Java
 * hash maps there; NACOS-DISTRO.md section 8.3 lets a simulator pick any
 * deterministic order).
 *
 * Values.  A key's value is an instance list (distro_ilist), shared
 * copy-on-write: a message carries a reference to the list as it was when
 * serialized, the store swaps in a new list on change.  A list's checksum
 * (section 2.6(a)) is computed at most once per list and cached; Nacos
 * recomputes it on every call with the same answer.  Instance strings are
 * interned in the cluster's string pool and live as long as the cluster, so
 * lists copy instances bitwise. */
#ifndef DISTRO_INT_H
#define DISTRO_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "distro_cluster.h"
#include "distro_hash.h"
#include "distro_instance.h"
#include "sim_conn.h"
#include "sim_net.h"
#include "sim_vec.h"

/* Names one request a node received, on either transport (distro_http.c). */
typedef struct distro_token {
    bool stream;                 /* rode a connection: `conn`, else `rpc` */
    sim_rpc_token rpc;
    sim_conn_token conn;
} distro_token;

#define DISTRO_NONE UINT32_MAX

/* Wire message types (sim_net type field), one per HTTP endpoint of section
 * 2.8 plus its response, so statistics read per endpoint. */
enum distro_msg_type {
    DISTRO_MSG_SYNC_DATUM = 1,        /* PUT /distro/datum */
    DISTRO_MSG_SYNC_DATUM_RESP,
    DISTRO_MSG_CHECKSUM,              /* PUT /distro/checksum */
    DISTRO_MSG_CHECKSUM_RESP,
    DISTRO_MSG_GET_DATUM,             /* GET /distro/datum (verify fetch) */
    DISTRO_MSG_GET_DATUM_RESP,
    DISTRO_MSG_GET_DATUMS,            /* GET /distro/datums (snapshot) */
    DISTRO_MSG_GET_DATUMS_RESP,
    DISTRO_MSG_MEMBER_REPORT,         /* POST /nacos/v1/core/cluster/report */
    DISTRO_MSG_MEMBER_REPORT_RESP,
    DISTRO_MSG_SERVICE_STATUS,        /* POST /service/status */
    DISTRO_MSG_SERVICE_STATUS_RESP,
    DISTRO_MSG_INSTANCE_STATUSES,     /* GET /instance/statuses */
    DISTRO_MSG_INSTANCE_STATUSES_RESP,
    DISTRO_MSG_PROXY,                 /* DistroFilter proxying a client write or beat */
    DISTRO_MSG_PROXY_RESP,
    /* 2.x cluster gRPC (section 3.9), model/distro2_*.c. */
    DISTRO_MSG_V2_SYNC,               /* DistroDataRequest ADD / CHANGE / DELETE */
    DISTRO_MSG_V2_SYNC_RESP,
    DISTRO_MSG_V2_VERIFY,             /* DistroDataRequest VERIFY */
    DISTRO_MSG_V2_VERIFY_RESP,
    DISTRO_MSG_V2_SNAPSHOT,           /* DistroDataRequest SNAPSHOT */
    DISTRO_MSG_V2_SNAPSHOT_RESP,
    DISTRO_MSG_V2_CHECK,              /* the cluster RPC client's ServerCheck / HealthCheck */
    DISTRO_MSG_V2_CHECK_RESP,
    DISTRO_MSG_V2_REPORT,             /* MemberReportRequest */
    DISTRO_MSG_V2_REPORT_RESP,
    DISTRO_MSG_TYPES
};


/* Event kinds for the trace. */
enum distro_kind {
    DISTRO_KIND_TICK = SIM_KIND_USER + 1,
    DISTRO_KIND_VERIFY,
    DISTRO_KIND_LOAD,
    DISTRO_KIND_REPORT,
    DISTRO_KIND_BEAT_CHECK,
    DISTRO_KIND_HEALTH_SYNC,
    DISTRO_KIND_STATUS,
    DISTRO_KIND_CLIENT_REQUEST,
    DISTRO_KIND_CLIENT_RESPONSE,
    DISTRO_KIND_CLIENT_TIMER,
    DISTRO_KIND_LOCAL,
    DISTRO_KIND_BOOT_EVENT,
    DISTRO_KIND_RAFT,
    DISTRO_KIND_READ_REQUEST,    /* a list query reaching its server (distro_reads.c) */
    DISTRO_KIND_READ_RESPONSE,
    DISTRO_KIND_READ_TIMER,      /* a reader's query tick, UpdateTask, subscribe */
    DISTRO_KIND_PUSH,            /* PushService's task, and a push reaching its client */
    /* 2.x (model/distro2_*.c) */
    DISTRO_KIND_V2_TICK,
    DISTRO_KIND_V2_VERIFY,
    DISTRO_KIND_V2_LOAD,
    DISTRO_KIND_V2_CLEANER,
    DISTRO_KIND_V2_EJECTOR,
    DISTRO_KIND_V2_RPC,
    DISTRO_KIND_V2_SDK,
    DISTRO_KIND_V2_REPORT,
    DISTRO_KIND_V2_EVENT,        /* the ClientEvent publisher's thread (distro2_events.c) */
};

/* --- Values -------------------------------------------------------------- */

/* One allocation: the header, then `cap` instances, so that reading a
 * list (a beat, a beat check) misses cache once, not twice. */
typedef struct distro_ilist {
    uint32_t refs;
    uint32_t count;
    uint32_t cap;
    bool checksum_valid;
    bool service_checksum_valid; /* section 2.6(b), cached like the list checksum */
    distro_instance *inst;       /* right after the header; borrowed interned strings, bitwise-copyable */
    char checksum[33];
    char service_checksum[33];
} distro_ilist;

/* distro_datastore.c.  distro_ilist_new, _reserve and _clone return NULL
 * when the allocator fails (then nothing changed). */
distro_ilist *distro_ilist_new(uint32_t cap);
/* Room for `cap` instances in a list nobody else holds (refs == 1); the
 * list may move.  Returns the list, or NULL with `list` untouched. */
distro_ilist *distro_ilist_reserve(distro_ilist *list, uint32_t cap);
distro_ilist *distro_ilist_retain(distro_ilist *list);
void distro_ilist_release(distro_ilist *list);
/* A private copy with refs = 1 (for copy-on-write). */
distro_ilist *distro_ilist_clone(const distro_ilist *list);
const char *distro_ilist_checksum(distro_ilist *list);
/* Index of the instance with this ip, port and cluster, or DISTRO_NONE.
 * The strings must be interned by the list's cluster (every list of a
 * cluster holds only its interned strings), so pointers are compared. */
uint32_t distro_ilist_find(const distro_ilist *list, const char *ip, uint32_t port, const char *cluster);
/* Bytes of the JSON Nacos writes for this list inside a Datum. */
uint64_t distro_ilist_json_bytes(const distro_ilist *list, const char *key);

/* --- Messages ------------------------------------------------------------ */

typedef struct distro_msg_pool distro_msg_pool;

typedef struct distro_msg {
    sim_payload base;
    distro_msg_pool *pool;       /* where it returns when the last reference goes */
    struct distro_msg *next_free;
    uint16_t type;
    int32_t code;                /* HTTP status of a response; beat result code */
    uint32_t count;
    uint32_t *keys;              /* datum, checksum, fetch and status messages */
    distro_ilist **values;       /* datum transfers: one reference each; NULL = absent */
    char (*checksums)[33];       /* checksum and service-status messages */
    uint8_t *flags;              /* instance statuses: healthy per instance */
    uint32_t source;             /* the sender's node id (source= / clientIP=) */
    /* A proxied client request: the client, or (client = DISTRO_NONE) the
     * instance named by key, ip, port and cluster (the beat check's DELETE). */
    uint32_t client;
    uint32_t key;
    const char *ip;              /* interned */
    uint32_t port;
    const char *cluster_name;    /* interned */
    uint8_t op;
    bool with_body;
    /* Checksum and service-status messages: equal ids mean equal keys and
     * checksums (distro_memo_content_id). */
    uint64_t content_id;
    /* 2.x: a client's revision (sync, verify); a snapshot's per-client
     * revisions and published service keys, parallel to keys (the
     * connection ids).  Owned. */
    int64_t revision;
    int64_t *revisions;
    uint32_t *services;
} distro_msg;

/* distro_cluster.c */
/* A message with one reference and `count` zeroed keys; NULL when out of
 * memory (the caller ends the run with distro_fail_nomem). */
distro_msg *distro_msg_new(distro_cluster *c, uint16_t type, uint32_t count);
/* Releases the message's own reference (sim_payload_release). */
void distro_msg_unref(distro_msg *msg);

/* --- Per-node state -------------------------------------------------------- */

typedef struct distro_peer {
    bool in_view;                /* listed in this node's cluster.conf */
    uint8_t state;               /* distro_member_state */
    uint32_t fail_cnt;           /* failAccessCnt */
    bool version_known;          /* its version metadata arrived (a report since our start) */
} distro_peer;

enum distro_task_kind { DISTRO_TASK_KEY, DISTRO_TASK_COMBINED };

/* A delay task of NacosDelayTaskExecuteEngine (section 1.3). */
typedef struct distro_task {
    bool live;
    uint8_t kind;                /* distro_task_kind */
    uint32_t key;                /* KEY: key id; COMBINED: sequence number */
    uint32_t target;
    int64_t create_ms;
    int64_t last_process_ms;
    int64_t interval_ms;
    uint32_t *keys;              /* COMBINED: the batch, in insertion order */
    uint32_t keys_count;
    uint32_t keys_cap;
    uint32_t *key_set;           /* COMBINED: open-addressing set of key + 1 (dedupe only) */
    uint32_t key_set_cap;
    uint32_t next_free;
} distro_task;

/* A task's identity in the task index and the due heap: (kind, key, target). */
static inline uint64_t distro_task_id(uint8_t kind, uint32_t key, uint32_t target)
{
    return ((uint64_t)kind << 60) | ((uint64_t)key << 16) | target;
}

/* An entry of the due-time heap that finds the tick's due tasks without
 * scanning every task.  Lazy: an entry whose task changed is skipped. */
typedef struct distro_due {
    int64_t due_ms;
    uint64_t id;                 /* the task's (kind, key, target) */
    uint32_t slot;
} distro_due;

enum distro_exec_kind { DISTRO_EXEC_ADD_TO_BATCH, DISTRO_EXEC_SYNC_BATCH };

/* A task queued on an execute worker (section 1.4). */
typedef struct distro_exec {
    uint8_t kind;
    uint32_t key;                /* ADD_TO_BATCH */
    uint32_t target;
    uint32_t seq;                /* SYNC_BATCH: the combined task's sequence number */
    uint32_t *keys;              /* SYNC_BATCH: owned */
    uint32_t keys_count;
} distro_exec;

typedef struct distro_worker {
    distro_exec *queue;          /* ring buffer */
    uint32_t head;
    uint32_t len;
    uint32_t cap;
    bool busy;                   /* blocked in a synchronous HTTP call */
    uint32_t *inflight_keys;     /* the batch being sent (retried per key on failure) */
    uint32_t inflight_count;
    uint32_t inflight_target;
} distro_worker;

typedef struct distro_datum {
    distro_ilist *value;         /* NULL: no datum */
    sim_time_ns check_origin_ns; /* when the Service was created: the check's phase */
    int64_t check_after_ms;      /* the beat check finds nothing to do until then (INT64_MIN: read the list) */
    bool service_exists;         /* a local Service object (never replicated) */
    bool beat_check_armed;       /* ClientBeatCheckTask's timer is queued */
    bool in_bucket;              /* listed in owner_bucket under the current view */
} distro_datum;

_Static_assert(sizeof(distro_datum) == 32, "two datums to a cache line");

/* A client request being served by this node. */
typedef struct distro_pending {
    uint32_t client;
    uint32_t request_id;
    sim_time_ns sent_at_ns;      /* the order a crash resets them in (distro_client_fail_pending) */
} distro_pending;

/* A receiver's note that the message with this content id found nothing
 * to do when memo_epoch had this value. */
typedef struct distro_memo {
    uint64_t content_id;         /* 0: none */
    uint64_t epoch;
} distro_memo;

typedef struct distro2_node distro2_node;   /* model/internal/distro2_int.h */

typedef struct distro_node {
    distro_cluster *cluster;
    uint32_t id;
    bool running;                /* start ran and no crash since */
    distro2_node *v2;            /* 2.x state while running a 2.x cluster, else NULL */

    /* ServerMemberManager (section 1.5). */
    distro_peer *peers;          /* indexed by node id; self included */
    uint32_t report_cursor;
    /* DistroMapper (section 1.6). */
    uint32_t *healthy;           /* node ids in address order */
    uint32_t healthy_count;
    int32_t self_index;          /* -1 when self is not in healthy */
    bool healthy_any_state;      /* healthy is the bean-init list, members in any state (until W7's event) */
    /* toRemove buckets: keys by their owner index in the current view. */
    uint32_t **owner_bucket;
    uint32_t *owner_bucket_len;
    uint32_t *owner_bucket_cap;
    uint32_t bucket_count;       /* healthy_count the buckets were built for */
    bool buckets_valid;

    /* DataStore (section 2.1), indexed by key id. */
    distro_datum *datums;
    uint32_t datums_cap;
    uint32_t key_present_count;

    /* Delay-task engine. */
    distro_task *tasks;
    uint32_t tasks_cap;
    uint32_t tasks_free;
    uint32_t tasks_live;
    uint64_t *task_index;        /* open addressing: (kind,key,target)+1 -> slot */
    uint32_t *task_slot;
    uint32_t task_index_cap;
    uint32_t combined_seq;       /* DistroHttpCombinedKey sequence */
    distro_due *due;             /* binary heap by (due_ms, slot) */
    uint32_t due_len;
    uint32_t due_cap;
    /* Execute engine. */
    distro_worker *workers;
    uint32_t worker_count;

    /* Startup load (section 2.4). */
    bool initialized;
    bool status_up;              /* ServerStatusManager's view (warm-up gate) */
    uint32_t loaded_from;

    /* The persistent side of the gate (distro_raft.c). */
    bool raft_switched;          /* switchNewPersistentService: JRaft, for good */
    bool raft_has_leader;        /* JRaft's hasLeader: never cleared until a restart */
    sim_time_ns raft_majority_since_ns;   /* node-local; SIM_TIME_NEVER: no majority at the last sample */

    /* Verify receiver guard: syncChecksumTasks, by source node. */
    bool *verify_busy;
    /* Receiver memo (distro_memo_*): bumped by every change a checksum
     * comparison's outcome depends on, and what each source last sent. */
    uint64_t memo_epoch;
    distro_memo *verify_memo;    /* by source node */
    distro_memo *status_memo;    /* by source node */
    distro_msg *verify_last;     /* the last checksum message this node sent */
    distro_msg *status_last;     /* the last service-status message this node sent */
    /* Sender memo (distro_memo.c): the memo_epoch at which the last verify
     * round built a message equal to verify_last (0 with verify_last NULL:
     * none), and its size; the same for the last service-status round,
     * which can be sent again only when it had at most one namespace. */
    uint64_t verify_last_epoch;
    uint32_t verify_last_bytes;
    bool status_round_valid;     /* the last round can be repeated at status_round_epoch */
    bool status_round_sends;     /* ... and sent status_last (one namespace), else nothing */
    uint32_t status_round_bytes;
    uint64_t status_round_epoch;
    /* Scratch marks by key id (verify's "in the message" test). */
    uint32_t *stamp;
    uint32_t stamp_cap;
    uint32_t stamp_gen;

    /* Loopback HTTP calls in flight (the beat check's self-DELETE), by slot. */
    distro_msg **loopback;
    uint32_t loopback_cap;

    /* Client requests in service, failed at once if the node crashes. */
    distro_pending *pending;
    uint32_t pending_count;
    uint32_t pending_cap;
} distro_node;

/* --- Clients ---------------------------------------------------------------- */

/* Every beat reads its client twice (the client's timer, the server that
 * takes the beat), at random among thousands: what a beat needs comes
 * first, in the first 64 bytes, and the whole struct is 128 bytes. */
typedef struct distro_client {
    bool alive;                  /* the process runs */
    bool registered;             /* it has registered and not deregistered */
    bool beat_acked;             /* light beat: the server has seen a full beat */
    bool in_request;
    bool manual;
    bool direct;                 /* the current request goes to one server, no failover */
    uint8_t op;                  /* the operation in progress */
    bool ipport;                 /* 2.x: a 1.x SDK, whose server-side client is an IP-port client */
    uint32_t request_id;         /* current request, to ignore stale replies */
    int32_t last_code;           /* the last HTTP code a server answered it (0: none) */
    uint32_t try_index;          /* NamingProxy.reqApi: next server to try */
    uint16_t tries;
    bool http_v2;                /* 2.x: an HTTP /v2/ns client, not routed by DistroFilter (distro2_ipport.c) */
    bool beat_merged;            /* its next beat is sent and received in one event (distro_client.c) */
    uint32_t key;
    uint32_t port;
    const char *ip;              /* interned */
    const char *cluster_name;    /* interned */
    sim_time_ns beat_interval_ns;
    sim_time_ns sent_at_ns;      /* when the current attempt was sent */
    sim_rng rng;
    double weight;
    const distro_kv *metadata;   /* interned */
    uint32_t metadata_count;
    uint32_t instances;          /* 2.x: instances of its one publisher (ports port, port + 1, ...) */
    const char *address;         /* "ip:port", interned */
} distro_client;

_Static_assert(sizeof(distro_client) == 128, "a client is two cache lines");

/* A client's merged beat (distro_client.c): the arrival's event; the
 * request id of a beat sent before its arrival (by unmerge); with
 * merged_beats off, the arrival's instant. */
typedef struct distro_beat {
    sim_event_id arrival;
    sim_time_ns arrive_at_ns;
    uint32_t request_id;
} distro_beat;

/* --- The cluster ------------------------------------------------------------ */

typedef struct distro_key_info {
    char *name;                  /* com.alibaba.nacos.naming.iplist.ephemeral.<ns>##<group>@@<svc> */
    const char *tag;             /* points into name: <group>@@<svc> */
    const char *ns;              /* the namespace id, interned (distro_intern): equal ids are equal pointers */
    uint32_t hash;               /* distro_hash(tag), cached */
    int32_t name_java_hash;      /* String.hashCode(name), for DistroKey hashes */
    uint64_t name_bytes;
    uint64_t tag_bytes;
} distro_key_info;

typedef struct distro_strpool {
    char **strings;
    uint32_t count;
    uint32_t cap;
    uint32_t *index;             /* open addressing on FNV-1a of the string */
    uint32_t index_cap;
} distro_strpool;

struct distro_cluster {
    sim_engine *sim;
    distro_config config;
    uint32_t n;
    char **address;              /* by node id */
    uint32_t *by_address;        /* node ids in Java String order of their addresses */
    int32_t *address_java_hash;  /* String.hashCode(address), by node id */
    distro_node *nodes;
    distro_counters *counters;   /* by node id; survive crashes */
    distro_observer observer;

    distro_key_info *keys;
    uint32_t key_count;
    uint32_t key_cap;
    uint32_t *key_hash;          /* keys[k].hash again, packed: the mapper reads it on every request */
    uint32_t key_hash_cap;
    uint32_t *key_index;         /* open addressing: name -> key id + 1 */
    uint32_t key_index_cap;

    distro_strpool pool;
    distro_kv **metadata_sets;   /* interned metadata arrays, freed at destroy */
    uint32_t metadata_sets_count;
    uint32_t metadata_sets_cap;

    bool *conf;                  /* [node * n + peer]: cluster.conf of each node (survives restarts) */

    distro_client *clients;
    uint32_t client_count;
    uint32_t client_cap;
    distro_beat *beats;          /* per client: its merged beat (distro_client.c) */
    uint32_t beats_cap;
    sim_time_ns client_latency_ns;
    uint64_t content_ids;        /* the last content id handed out (distro_memo.c) */
    uint64_t memo_hits;          /* comparisons skipped, for tests and benchmarks */
    distro_msg_pool *msg_pool;

    /* HTTP transport (distro_http.c). */
    sim_conn_net *conn;                  /* NULL: requests ride datagrams */
    sim_conn_pool_id *pools;             /* [node * DISTRO_HTTP_CLIENTS + client] */
    struct distro_call_slot *calls;      /* calls in flight on connections */
    uint32_t calls_len, calls_cap;
    uint32_t calls_free;                 /* index + 1 of the first free slot; 0: none */

    /* Readers (distro_reads.c); NULL until the first is added. */
    struct distro_reads *reads;
    sim_conn_pool_id *grpc_pools;        /* 2.x: [node * n + peer] the cluster gRPC client; NULL in 1.4.2 */

    /* 2.x: connections of 2.x SDK clients and their per-client state
     * (model/distro2_sdk.c); NULL in 1.4.2. */
    struct distro2_conn *conns;          /* by connection id */
    uint32_t conn_count, conn_cap;
    struct distro2_sdk *sdk;             /* by client id */
    uint32_t sdk_cap;
    uint32_t sdk_killed;                 /* SDKs that died (distro2_sdk_kill); never decreases */
};

/* distro_http.c: the HTTP clients of 1.4.2 and the transport (section 1.8). */
typedef enum distro_http_client {
    DISTRO_HTTP_APACHE_SYNC,     /* naming ApacheSyncHttpClientFactory */
    DISTRO_HTTP_NAMING_ASYNC,    /* naming AsyncHttpClientFactory */
    DISTRO_HTTP_CORE_ASYNC,      /* ServerMemberManager's asyncRestTemplate */
    DISTRO_HTTP_CLIENTS,
    DISTRO_HTTP_GRPC = DISTRO_HTTP_CLIENTS,   /* 2.x: ClusterRpcClientProxy's gRPC client (grpc_pools) */
} distro_http_client;

typedef struct distro_http_route {
    distro_http_client client;
    sim_conn_timeouts to;        /* 0 = none */
} distro_http_route;

/* Which client a request type rides, with its timeouts.  Pure. */
distro_http_route distro_http_route_of(const distro_config *cfg, uint16_t type);
sim_conn_pool_params distro_http_pool_params(const distro_config *cfg, distro_http_client client);
/* Sends request `msg` (its reference is taken) from `node` to `target` on
 * the client its type names; `fn` gets the outcome on `node`. */
void distro_call(distro_node *node, uint32_t target, uint16_t type, uint32_t bytes, distro_msg *msg, sim_rpc_fn *fn,
                 uint64_t arg);
/* Answers the request `token` names (the reference to `msg` is taken). */
void distro_reply(distro_node *node, distro_token token, uint16_t type, uint32_t bytes, distro_msg *msg);
/* The node crashed: its calls in flight have no one to return to. */
void distro_http_node_crashed(distro_node *node);
void distro_http_destroy(distro_cluster *c);

/* distro_cluster.c */
/* NULL when out of memory (the pool keeps what it had). */
const char *distro_intern(distro_cluster *c, const char *s);
int64_t distro_now_ms(const distro_node *node);
void distro_timer(distro_node *node, sim_time_ns delay_ns, uint16_t kind, sim_event_fn *fn, uint64_t arg);
/* A request `msg` reached `node`: handled by the endpoint its type names. */
void distro_dispatch_request(distro_node *node, const sim_message *msg, distro_token token);
distro_counters *distro_counters_of(distro_node *node);
/* Ends the run as a failure: an allocation inside an event handler failed
 * (the out-of-memory policy of sim_vec.h).  `where` names the function. */
void distro_fail_nomem(distro_cluster *c, const char *where);
/* Makes room for `key` in node->datums (new slots zeroed).  False when out
 * of memory; then the array is unchanged. */
bool distro_datum_grow(distro_node *node, uint32_t key);
/* The node crashed or restarted: its state is gone. */
void distro_node_reset(distro_node *node);

/* distro_member.c: ServerMemberManager, MemberInfoReportTask. */
void distro_member_start(distro_node *node);
bool distro_member_has(const distro_node *node, uint32_t peer);  /* hasMember */
/* allMembersWithoutSelf(): peers in the view in address order; returns the count. */
uint32_t distro_member_all_without_self(const distro_node *node, uint32_t *out);
void distro_member_on_report(distro_node *node, const sim_message *msg, distro_token token);
void distro_member_on_success(distro_node *node, uint32_t peer);
void distro_member_on_fail(distro_node *node, uint32_t peer, bool refused);
/* The peer reported to this node: UP, the stored fail count kept. */
void distro_member_reported(distro_node *node, uint32_t peer);

/* distro_mapper.c: DistroMapper. */
void distro_mapper_init(distro_node *node);
void distro_mapper_on_members_change(distro_node *node);
bool distro_mapper_responsible(const distro_node *node, uint32_t key);
uint32_t distro_mapper_map_srv(const distro_node *node, uint32_t key);
/* Keys stored on this node that map to `owner` in the current view. */
const uint32_t *distro_mapper_keys_of(distro_node *node, uint32_t owner, uint32_t *count_out);
void distro_mapper_note_key(distro_node *node, uint32_t key);
/* The stored keys this node is responsible for, in key order: returns
 * owned (free()) and the count in *count_out.  Uses the owner buckets, so it
 * costs the node's share of the keys, not all of them. */
uint32_t *distro_mapper_owned_keys(distro_node *node, uint32_t *count_out);

/* distro_datastore.c: DataStore and the Service view. */
distro_ilist *distro_store_get(const distro_node *node, uint32_t key);
/* Stores `value` (takes the reference; NULL removes).  Reports the change. */
void distro_store_put(distro_node *node, uint32_t key, distro_ilist *value);
/* DistroConsistencyServiceImpl.processData for one received datum: keeps the
 * local healthy flag of instances that already exist (section 2.1). */
void distro_store_apply_remote(distro_node *node, uint32_t key, distro_ilist *received);
void distro_store_clear(distro_node *node);

/* distro_delay_engine.c: NacosDelayTaskExecuteEngine + execute workers. */
void distro_tasks_start(distro_node *node);
void distro_tasks_add_key(distro_node *node, uint32_t key, uint32_t target, int64_t delay_ms);
void distro_tasks_clear(distro_node *node);
void distro_worker_submit(distro_node *node, distro_exec exec, uint32_t tag_hash);
void distro_worker_done(distro_node *node, uint32_t worker);
uint32_t distro_tasks_pending(const distro_node *node);
/* The execute worker's job: add `key` to the combined batch for `target`. */
void distro_sync_add_to_batch(distro_node *node, uint32_t key, uint32_t target);

/* distro_sync.c: change sync, sender and receiver. */
void distro_sync_put(distro_node *node, uint32_t key);   /* sync(key, CHANGE, 1000 ms) to every peer */
void distro_sync_send_batch(distro_node *node, uint32_t worker, distro_exec *exec);
void distro_sync_on_datum(distro_node *node, const sim_message *msg, distro_token token);
void distro_sync_on_get_datum(distro_node *node, const sim_message *msg, distro_token token);
void distro_sync_on_get_datums(distro_node *node, const sim_message *msg, distro_token token);
/* processData: apply a datum map; returns true (Nacos's result). */
void distro_sync_apply_datums(distro_node *node, const distro_msg *msg);

/* distro_memo.c: skipping checksum comparisons whose outcome is known. */
void distro_memo_touch(distro_node *node);   /* the store, member list or view changed */
/* Gives a checksum or service-status message its content id; `last` holds
 * the sender's previous message of that kind. */
void distro_memo_stamp(distro_node *node, distro_msg **last, distro_msg *msg);
bool distro_memo_hit(distro_node *node, const distro_memo *memo, const distro_msg *msg);
void distro_memo_note(const distro_node *node, distro_memo *memo, const distro_msg *msg);

/* distro_load.c */
void distro_load_start(distro_node *node);
/* distro_raft.c: the persistent consistency service (the version switch,
 * the old Raft, JRaft's leader). */
void distro_raft_start(distro_node *node);
bool distro_raft_available(const distro_node *node);   /* isAvailable() of the persistent side */
/* distro_verify.c */
/* A {key: checksum} body of `keys` (verify: key -> list checksum, by key
 * name; the health channel: service -> service checksum, by tag), stamped
 * for the receivers' memo with the sender's previous one in `last`; its
 * wire size in *bytes_out.  NULL when out of memory (the run is failed). */
typedef const char *distro_checksum_fn(distro_node *node, uint32_t key, distro_ilist *list);
distro_msg *distro_checksum_msg_new(distro_node *node, uint16_t type, const uint32_t *keys, uint32_t count,
                                    distro_checksum_fn *checksum, bool by_tag, distro_msg **last,
                                    uint32_t *bytes_out);
void distro_verify_start(distro_node *node);
void distro_verify_on_checksums(distro_node *node, const sim_message *msg, distro_token token);
/* distro_health.c */
void distro_health_start(distro_node *node);
/* Registers the beat check's prefetch hint with the engine. */
SIM_MUST_CHECK sim_status distro_health_set_prefetch(distro_cluster *c, sim_error *err);
void distro_health_arm_beat_check(distro_node *node, uint32_t key);
/* The view changed: resume the checks of services this node now owns. */
void distro_health_on_view_change(distro_node *node);
void distro_health_on_beat(distro_node *node, uint32_t key, uint32_t client);
void distro_health_on_service_status(distro_node *node, const sim_message *msg, distro_token token);
void distro_health_on_instance_statuses(distro_node *node, const sim_message *msg, distro_token token);
/* distro_filter.c: DistroFilter, InstanceController, ServiceManager writes. */
void distro_filter_on_client_request(distro_node *node, uint32_t client, uint8_t op, bool with_body,
                                     uint32_t request_id);
void distro_filter_on_proxy(distro_node *node, const sim_message *msg, distro_token token);
/* The connection layer's hint for a request about to reach `server`
 * (sim_conn_set_prefetch): a proxied 1.4.2 request's instance list. */
void distro_filter_proxy_prefetch(const distro_cluster *c, uint32_t server, const distro_msg *msg);
/* A proxied write's answer (arg: client << 32 | request id), relayed to
 * the client; also the 2.x IP-port clients' proxy (distro2_ipport.c). */
void distro_filter_proxy_done(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status,
                              const sim_message *resp);
/* The clientBeatInterval of a beat reply with this code to `client`'s
 * instance, or 0 when the answer is an error (no reply body read). */
sim_time_ns distro_filter_beat_reply_interval(const distro_cluster *c, uint32_t client, int32_t code);
/* ServiceManager.removeInstance from the beat check's self-DELETE. */
void distro_filter_local_delete(distro_node *node, uint32_t key, const char *ip, uint32_t port,
                                const char *cluster);
/* distro_reads.c: the list endpoint, PushService, the readers (their
 * state is here, not in distro_reads.c, so the invariant tests can break
 * it on purpose). */
/* A snapshot of a host list as the client received it: the client ids of
 * the instances listed, and whether ServiceInfo.validate() holds. */
typedef struct distro_read_hosts {
    uint32_t *clients;           /* owned */
    uint32_t count;
    uint32_t cap;
    bool valid;
} distro_read_hosts;

typedef struct distro_reader {
    uint32_t key;
    bool subscribe;
    bool protection;
    sim_time_ns interval_ns;
    sim_rng rng;
    /* NamingProxy.reqApi in progress. */
    bool in_request;
    uint8_t purpose;
    uint32_t request_id;
    uint32_t try_index;
    uint32_t tries;
    uint32_t waiting_on;         /* the server of the current attempt, DISTRO_NONE */
    sim_time_ns sent_at_ns;
    distro_read_hosts answer;           /* the current attempt's 200 answer */
    /* HostReactor's view of the service (subscribers). */
    bool has_view;               /* the ServiceInfo exists (after the first query) */
    distro_read_hosts view;
    bool pushed_since_task;      /* a push replaced the view since UpdateTask's last run */
    uint32_t fail_count;
    /* A 2.x SDK subscriber (distro2_subscriber.c): its one gRPC connection. */
    bool grpc;
    bool connected;              /* RpcClient RUNNING on `conn` */
    bool subscribed_on_conn;     /* the subscriber redo data is registered on this connection */
    uint32_t conn;               /* current connection id, DISTRO_NONE: none yet */
    uint32_t server_index;       /* RpcClient.nextRpcServer cursor */
    uint32_t attempts;           /* failed connects in this reconnect round */
    uint32_t gen;                /* bumped on every connection change: stale events are dropped */
    sim_time_ns created_ns;      /* the phase of its redo timer */
} distro_reader;

/* A push on its way to a client. */
typedef struct distro_read_push {
    uint32_t reader;             /* DISTRO_NONE: the slot is free */
    uint32_t server;
    uint32_t conn;               /* a gRPC push: the connection it went down; DISTRO_NONE: UDP */
    distro_read_hosts hosts;
} distro_read_push;

typedef struct distro_reads distro_reads;
struct distro_reads {
    distro_reader *readers;
    uint32_t reader_count;
    uint32_t reader_cap;
    /* Clients of each key, to name listed instances (built as clients are added). */
    uint32_t **key_clients;
    uint32_t *key_clients_len;
    uint32_t *key_clients_cap;
    uint32_t key_cap;
    uint32_t clients_indexed;
    /* Subscribers of each key, by reader id. */
    uint32_t **key_subs;
    uint32_t *key_subs_len;
    uint32_t *key_subs_cap;
    /* PushService of each server: registration time (server clock, ms) by
     * [node * reader_cap + reader], and a pending push by [node * key_cap + key]. */
    int64_t *push_ref_ms;
    uint32_t push_ref_cap;       /* reader_cap the array was laid out for */
    bool *push_pending;
    uint32_t push_pending_cap;   /* key_cap the array was laid out for */
    distro_read_push *pushes;
    uint32_t push_count;
    uint32_t push_cap;
    uint64_t pushes_sent;
    uint64_t answers;
    /* 2.x SDK subscribers (distro2_subscriber.c, distro2_push.c). */
    uint32_t grpc_readers;
    uint64_t grpc_pushes;
    uint64_t grpc_subscribes;
};

/* The instance list of `key` on `node` changed (Service.updateIPs or a
 * health flag): PushService.serviceChanged.  Nothing when no reader
 * subscribes to the key. */
void distro_reads_service_changed(distro_node *node, uint32_t key);
void distro_reads_node_reset(distro_node *node);    /* PushService's state is gone */
void distro_reads_node_crashed(distro_node *node);  /* the list requests it held are reset */
void distro_reads_destroy(distro_cluster *c);
/* Shared with the 2.x subscribers (distro2_subscriber.c, distro2_push.c):
 * the client ids a server's list `list` of `key` answers (false: out of
 * memory); ServiceInfoHolder.processServiceInfo / HostReactor
 * .processServiceJson with the reader's pushEmptyProtection (true when the
 * view was replaced; a changed view is reported); the empty view an
 * application reads before any list arrived; a gRPC push of `node`'s list
 * of the reader's key down connection `conn`. */
bool distro_reads_hosts_of(distro_cluster *c, uint32_t key, const distro_ilist *list, distro_read_hosts *out);
bool distro_reads_process_view(distro_cluster *c, uint32_t reader, const distro_read_hosts *hosts, int32_t server,
                               bool pushed);
void distro_reads_report_no_view(distro_cluster *c, uint32_t reader);
void distro_reads_grpc_push(distro_node *node, uint32_t reader, uint32_t conn);
/* The readers' invariants (stated there): SIM_OK or SIM_ERR_STATE. */
sim_status distro_reads_check(const distro_cluster *c, sim_error *err);
/* distro_client.c */
void distro_client_respond(distro_cluster *c, uint32_t server, uint32_t client, uint32_t request_id,
                           int32_t code);
void distro_client_fail_pending(distro_node *node);
/* The node is about to pause or have its clock set: the merged beats on
 * their way to it are undone (distro_client.c). */
void distro_client_node_changing(distro_node *node);
/* Registers the prefetch hints of a beat and a request reaching its server. */
SIM_MUST_CHECK sim_status distro_client_set_prefetch(distro_cluster *c, sim_error *err);
/* distro_check.c: the invariants of one node's state (each stated there),
 * true between events.  SIM_OK, or SIM_ERR_STATE with `err` naming the
 * node, the invariant and the values that break it. */
sim_status distro_node_check(const distro_node *node, sim_error *err);
/* Turns the check after every event on when the build asks for it
 * (SIM_MODEL_CHECK: Debug and sanitizer builds); called at create. */
void distro_check_install(distro_cluster *c);

#endif
