/* distro_cluster.h: a simulated Nacos 1.4 cluster running Distro on the
 * engine (or, with distro_config.version DISTRO_VERSION_2_5_1, a Nacos 2.5.1
 * cluster and 2.x SDK clients: model/distro2_*.c, NACOS-DISTRO.md section
 * 3; the same functions below drive and query it).  This is the model's
 * public face for the harness and the tests.
 *
 * A cluster is N Nacos servers (engine nodes 0..N-1, addresses "ip:port")
 * plus naming clients (1.x SDK processes, one instance each) that register,
 * beat, deregister and die.  Every server runs the Distro components of
 * NACOS-DISTRO.md sections 1, 2 and 4: member management, DistroMapper and
 * DistroFilter, DataStore, the delay-task and execute engines, change sync,
 * startup load, verify, the beat check and the health-status channel.
 * "NACOS-DISTRO.md" in model comments means model/NACOS-DISTRO.md, and
 * "FAULT-FAMILIES.md" means scenarios/FAULT-FAMILIES.md.
 *
 * The cluster is created on an engine the caller owns and attaches itself
 * to every node; it keeps the engine pointer until distro_cluster_destroy.
 * Nothing here reads the wall clock, the environment or a global random
 * generator: time is the engine's, randomness is the engine's streams. */
#ifndef DISTRO_CLUSTER_H
#define DISTRO_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "distro_config.h"
#include "distro_instance.h"
#include "sim_conn.h"
#include "sim_engine.h"

typedef struct distro_cluster distro_cluster;   /* opaque: see model/internal/distro_int.h */
struct distro_read;

/* Member states of ServerMemberManager (section 1.5). */
typedef enum distro_member_state {
    DISTRO_MEMBER_UP,
    DISTRO_MEMBER_SUSPICIOUS,
    DISTRO_MEMBER_DOWN,
    DISTRO_MEMBER_STARTING,
} distro_member_state;

/* Protocol counters of FAULT-FAMILIES.md "What a run should measure", per
 * node.  All monotonic. */
typedef struct distro_counters {
    uint64_t sync_batches_sent;        /* PUT /distro/datum attempts */
    uint64_t sync_batches_failed;
    uint64_t sync_keys_retried;        /* keys re-queued after a failed batch */
    uint64_t sync_dropped_not_member;  /* target left the member list: silent success */
    uint64_t sync_empty_batches;       /* {} bodies (all keys deleted): rejected, W11 */
    uint64_t worker_backlog_max;       /* deepest execute-worker queue seen */
    uint64_t verify_sent;              /* checksum messages sent */
    uint64_t verify_discarded;         /* receiver owned a key: whole message dropped (W3) */
    uint64_t verify_single_flight_drops; /* a second message from a busy source (W14) */
    uint64_t verify_keys_fetched;
    uint64_t verify_keys_removed;      /* toRemove deletions */
    uint64_t snapshot_attempts;
    uint64_t snapshot_failures;
    uint64_t snapshot_bytes;
    uint64_t snapshot_successes;
    uint64_t load_retries;             /* whole-load retries after 30 s */
    uint64_t redirects_proxied;
    uint64_t redirects_rejected;       /* second hop: HTTP 400 (W8) */
    uint64_t redirects_failed;         /* the owner did not answer */
    uint64_t beats_received;           /* beats handled by this node as owner */
    uint64_t beat_reregisters;         /* beat for an unknown instance re-registered it */
    uint64_t instances_marked_unhealthy;
    uint64_t instances_expired;        /* beat-check deletions (30 s) */
    uint64_t health_status_updates;    /* instances whose flag the health channel moved */
    uint64_t requests_503;             /* warm-up gate answers */
    uint64_t member_probes;
    uint64_t member_probe_failures;
    uint64_t member_state_changes;
    /* Failed HTTP calls by cause, on the caller (connection transport only;
     * distro_http.c).  Timeouts are the caller's own; "refused" is a reset
     * answering a connect, "reset" one answering data. */
    uint64_t http_refused;
    uint64_t http_connect_timeouts;    /* the caller's connect timeout, or the SYN retries ran out */
    uint64_t http_read_timeouts;
    uint64_t http_lease_timeouts;      /* no pooled connection in time */
    uint64_t http_resets;
    uint64_t http_retries_exhausted;   /* tcp_retries2 expired with no timeout of the caller's */
    /* 2.x (cluster.version 2.5.1; model/distro2_*.c). */
    uint64_t v2_sdk_reconnects;        /* SDK connections this node accepted from a client that had one before */
    uint64_t v2_verify_failed;         /* VERIFY answered FAIL to this node: a repair ADD follows */
    uint64_t v2_clients_expired;       /* replicas the expired-client cleaner removed (180 s lease) */
    uint64_t v2_connections_ejected;   /* SDK connections the ejector unregistered after a failed probe */
    uint64_t v3_no_right;              /* 3.0.3: Distro and report requests this node answered NO_RIGHT */
    uint64_t v2_ipport_clients_expired;/* IP-port clients the cleaner removed (empty 30 s, or idle 180 s) */
    uint64_t v2_starting_refused;      /* gRPC requests this node answered "Server is starting" */
    uint64_t v2_sdk_health_failed;     /* SDK keep-alive health checks of this node that failed: the SDK left */
    uint64_t v2_http_not_owner;        /* HTTP /v2/ns writes and beats applied here although another node owns ip:port */
    uint64_t v2_duplicate_publishers;  /* publishers added here beside another client id of the same SDK (a reconnect) */
} distro_counters;

/* What a reader saw (distro_observer.client_read).  A query reader's
 * answer (source QUERY), a query that every server failed (FAILED, no
 * list), or a subscriber's view as it is after HostReactor replaced it
 * (VIEW).  `clients` lists the client ids of the instances listed, in list
 * order; borrowed for the call. */
typedef enum distro_read_source {
    DISTRO_READ_QUERY,
    DISTRO_READ_FAILED,
    DISTRO_READ_VIEW,
} distro_read_source;

typedef struct distro_read {
    uint32_t reader;
    uint32_t key;
    distro_read_source source;
    int32_t server;               /* the node that answered or pushed; -1: none */
    bool pushed;                  /* VIEW: the change came from a push (UDP, or gRPC for a 2.x subscriber), not a poll */
    const uint32_t *clients;
    uint32_t count;
} distro_read;

/* What the harness sees.  Every callback borrows its arguments for the call
 * only; any may be NULL. */
typedef struct distro_observer {
    void *ctx;
    /* A key's stored value changed on `node` (applied, written, removed).
     * Checksums are the section 2.6(a) MD5s; "" means the key is absent. */
    void (*datum_changed)(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t key,
                          const char *old_checksum, const char *new_checksum);
    /* `node`'s healthyList changed: `healthy` lists node ids in address order. */
    void (*view_changed)(void *ctx, sim_time_ns at_ns, uint32_t node, const uint32_t *healthy,
                         uint32_t count);
    /* `node` changed its state of `peer` from `old_state` to `state` (a
     * member put back on the list comes from the state it left with). */
    void (*member_changed)(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t peer,
                           distro_member_state old_state, distro_member_state state);
    /* `node` started (up = true) or crashed (up = false). */
    void (*node_changed)(void *ctx, sim_time_ns at_ns, uint32_t node, bool up);
    /* The truth changed: `client` now is (or no longer is) a live,
     * registered instance that every registry should list. */
    void (*client_changed)(void *ctx, sim_time_ns at_ns, uint32_t client, bool live);
    /* The beat check of `node` marked the instance ip:port of `key`
     * unhealthy (section 2.7, ClientBeatCheckTask.java:91-94). */
    void (*instance_unhealthy)(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t key, const char *ip,
                               uint32_t port);
    /* `node`, the owner, deleted the instance ip:port of `key` for want of
     * beats (section 2.7: the beat check's DELETE to itself,
     * ClientBeatCheckTask.java:118-144). */
    void (*instance_expired)(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t key, const char *ip,
                             uint32_t port);
    /* `node` dropped a whole checksum message of `source` because it owns
     * `key`, which the message names (section 2.5, W3). */
    void (*verify_aborted)(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t source, uint32_t key);
    /* `node` removed `key`, absent from `source`'s checksum message (toRemove). */
    void (*verify_removed)(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t source, uint32_t key);
    /* `node`'s startup snapshot load from `peer` succeeded (ok) or failed
     * (section 2.4). */
    void (*snapshot_loaded)(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t peer, bool ok);
    /* `node`, still warming up, answered `client`'s request with 503
     * (section 2.4, TrafficReviseFilter.java:82-106); `client` is
     * UINT32_MAX for a reader's list query (section 1.9). */
    void (*answered_503)(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t client);
    /* A reader (distro_reader_add) got an answer, failed, or its
     * subscribed view changed: see distro_read. */
    void (*client_read)(void *ctx, sim_time_ns at_ns, const struct distro_read *read);
} distro_observer;

/* The wire name of a message type ("sync_datum", "checksum", ...). */
const char *distro_msg_type_name(uint16_t type);
/* The name of an event kind the model schedules ("tick", "verify",
 * "beat_check", ...), for traces; NULL for a kind that is not the model's. */
const char *distro_event_kind_name(uint16_t kind);
/* "UP", "SUSPICIOUS", "DOWN", "STARTING" (NodeState). */
const char *distro_member_state_name(distro_member_state state);
/* Counter names and values, in a fixed order, for reports and scenario
 * bounds: fills up to `max` entries and returns how many there are. */
typedef struct distro_counter_value {
    const char *name;
    uint64_t value;
} distro_counter_value;
uint32_t distro_counters_list(const distro_counters *counters, distro_counter_value *out, uint32_t max);

/* Creates a cluster of sim_node_count(sim) servers with the given addresses
 * (NULL: "10.0.0.<i+1>:8848").  Borrows `addresses`; keeps `sim`.  Servers
 * are not started: call distro_cluster_start_all or sim_node_start. */
distro_cluster *distro_cluster_create(sim_engine *sim, const distro_config *config,
                                      const char *const *addresses, sim_error *err);
void distro_cluster_destroy(distro_cluster *cluster);   /* NULL is a no-op */

/* Makes the cluster's HTTP calls ride connections (sim_conn.h, with
 * `params`, NULL for Linux's defaults) instead of datagram requests: TCP
 * turns loss into retransmission delay, partitions into stalls, crashes
 * into resets, and each call gets its Nacos client's timeouts and pool
 * (model/distro_http.c).  Call once, before the nodes start. */
SIM_MUST_CHECK sim_status distro_cluster_use_tcp(distro_cluster *cluster, const sim_conn_params *params,
                                                 sim_error *err);

SIM_MUST_CHECK sim_status distro_cluster_start_all(distro_cluster *cluster, sim_error *err);
void distro_cluster_set_observer(distro_cluster *cluster, const distro_observer *observer);
uint32_t distro_cluster_size(const distro_cluster *cluster);
const char *distro_cluster_address(const distro_cluster *cluster, uint32_t node);

/* --- Keys (services) ----------------------------------------------------- */

/* Interns the Distro key of namespace/group/service and returns its id.
 * Ids are dense, in first-use order.  UINT32_MAX when out of memory (no key
 * is added). */
uint32_t distro_cluster_key(distro_cluster *cluster, const char *namespace_id, const char *group,
                            const char *service);
uint32_t distro_cluster_key_count(const distro_cluster *cluster);
const char *distro_cluster_key_tag(const distro_cluster *cluster, uint32_t key);    /* group@@service */

/* --- Clients --------------------------------------------------------------- */

typedef struct distro_client_spec {
    const char *namespace_id;     /* "public" */
    const char *group;            /* "DEFAULT_GROUP" */
    const char *service;
    const char *ip;
    uint32_t port;
    double weight;
    const char *cluster_name;     /* "DEFAULT" */
    const char *const *metadata;  /* key, value, key, value, ..., NULL */
    sim_time_ns beat_interval_ns; /* 0: the server's clientBeatInterval */
    bool manual;                  /* no automatic register and beats: driven by distro_request */
    /* 2.x only: the instances the SDK batch-registers on its connection
     * (batchRegisterInstance: one publisher holding them, ports port,
     * port + 1, ...); 0 or 1: one instance, registerInstance.  A 1.x
     * client is one instance. */
    uint32_t instances;
    /* 2.x only: the client is a 1.x SDK (HTTP /v1/ns writes and beats): an
     * IP-port client of the cluster (model/distro2_ipport.c), one instance.
     * Ignored by 1.4.2, whose clients are all 1.x. */
    bool v1_sdk;
    /* 2.x only, with v1_sdk: the client writes and beats over HTTP /v2/ns
     * (or 3.0.3's /v3/client/ns), which DistroFilter does not route: the
     * node that receives a request applies it (distro2_ipport.c).  It
     * sends every request to one server, its first pick, and moves to the
     * next only when a request there fails. */
    bool http_v2;
} distro_client_spec;

/* Adds a client process; it registers `start_delay_ns` from now, then
 * beats.  Returns its id. */
SIM_MUST_CHECK sim_status distro_client_add(distro_cluster *cluster, const distro_client_spec *spec,
                                            sim_time_ns start_delay_ns, uint32_t *id_out, sim_error *err);
/* Deregisters (the app shuts down cleanly) and stops beating. */
SIM_MUST_CHECK sim_status distro_client_deregister(distro_cluster *cluster, uint32_t client, sim_error *err);
/* The process dies: no more beats, no deregister. */
SIM_MUST_CHECK sim_status distro_client_kill(distro_cluster *cluster, uint32_t client, sim_error *err);
uint32_t distro_client_count(const distro_cluster *cluster);
/* True while the client is registered and alive (the truth a registry
 * should show). */
bool distro_client_live(const distro_cluster *cluster, uint32_t client);
uint32_t distro_client_key(const distro_cluster *cluster, uint32_t client);
/* The HTTP code the last server to answer `client` sent (0: none yet). */
int32_t distro_client_last_code(const distro_cluster *cluster, uint32_t client);
/* "ip:port" of the client's instance. */
const char *distro_client_address(const distro_cluster *cluster, uint32_t client);

/* --- Readers: GET /nacos/v1/ns/instance/list (model/distro_reads.c) ----- */

/* A 1.x client process that reads one service.  A query reader calls
 * getAllInstances(service, subscribe=false) every `interval_ns`; a
 * subscriber keeps HostReactor's view of it (UDP push from the servers it
 * polled, UpdateTask polling) and reports each change of that view. */
typedef struct distro_reader_spec {
    uint32_t key;                   /* the service read (distro_cluster_key) */
    bool subscribe;
    sim_time_ns interval_ns;        /* query readers: the gap between queries, > 0 */
    bool push_empty_protection;     /* subscribers: namingPushEmptyProtection */
    bool grpc;                      /* subscribers on a 2.5.1 cluster: a 2.x SDK subscriber over gRPC
                                     * (model/distro2_subscriber.c) instead of a 1.x one */
} distro_reader_spec;

/* Adds a reader that starts `start_delay_ns` from now; its random draws
 * come from its own stream (seed, reader id), so readers never change what
 * the servers or the writing clients draw.  Returns its id in *id_out. */
SIM_MUST_CHECK sim_status distro_reader_add(distro_cluster *cluster, const distro_reader_spec *spec,
                                            sim_time_ns start_delay_ns, uint32_t *id_out, sim_error *err);
uint32_t distro_reader_count(const distro_cluster *cluster);
/* A subscriber's view: the instances it lists now (0 before its first
 * answer), and whether it lists `client`. */
uint32_t distro_reader_view_count(const distro_cluster *cluster, uint32_t reader);
bool distro_reader_view_lists(const distro_cluster *cluster, uint32_t reader, uint32_t client);
/* UDP pushes sent by every server, and answers to list queries. */
uint64_t distro_reads_pushes(const distro_cluster *cluster);
/* gRPC pushes (NotifySubscriberRequest) sent to 2.x subscribers, and
 * their subscribe requests answered. */
uint64_t distro_reads_grpc_pushes(const distro_cluster *cluster);
uint64_t distro_reads_grpc_subscribes(const distro_cluster *cluster);
uint64_t distro_reads_answers(const distro_cluster *cluster);

/* --- Direct requests (tests and scripted workloads) ---------------------- */

typedef enum distro_op { DISTRO_OP_REGISTER, DISTRO_OP_DEREGISTER, DISTRO_OP_BEAT } distro_op;

/* Sends a client request for `client`'s instance to `server` (through
 * DistroFilter, as an HTTP client would), without failover. */
SIM_MUST_CHECK sim_status distro_request(distro_cluster *cluster, uint32_t client, uint32_t server,
                                         distro_op op, sim_error *err);

/* --- Faults that are the model's business -------------------------------- */

/* Adds or removes `member` from `node`'s member list (cluster.conf edit on
 * that node only: a view change without a crash). */
SIM_MUST_CHECK sim_status distro_member_add(distro_cluster *cluster, uint32_t node, uint32_t member,
                                            sim_error *err);
SIM_MUST_CHECK sim_status distro_member_remove(distro_cluster *cluster, uint32_t node, uint32_t member,
                                               sim_error *err);

/* --- State queries --------------------------------------------------------- */

/* Number of instances `node` stores under `key` (0 when absent or down). */
uint32_t distro_node_instance_count(const distro_cluster *cluster, uint32_t node, uint32_t key);
/* Entry `index` of the instance list `node` stores under `key`, or NULL
 * when there is none.  A borrowed entry: its strings are the cluster's
 * interned ones (see distro_cluster_intern), valid until the list changes. */
const distro_instance *distro_node_instance(const distro_cluster *cluster, uint32_t node, uint32_t key,
                                            uint32_t index);
/* The cluster's one copy of the string `s`: equal strings give the same
 * pointer, alive as long as the cluster.  Every string of an instance list
 * is one of these.  NULL when out of memory. */
const char *distro_cluster_intern(distro_cluster *cluster, const char *s);
/* True when `node` stores a datum for `key`. */
bool distro_node_has_key(const distro_cluster *cluster, uint32_t node, uint32_t key);
/* True when `node` lists an instance ip:port under `key`; *healthy_out its flag. */
bool distro_node_has_instance(const distro_cluster *cluster, uint32_t node, uint32_t key, const char *ip,
                              uint32_t port, bool *healthy_out);
/* True when `node` lists `client`'s instance under the client's key. */
bool distro_node_lists_client(const distro_cluster *cluster, uint32_t node, uint32_t client);
/* lastBeat (ms, the holder's clock) of that instance, or -1 when absent. */
int64_t distro_node_instance_last_beat_ms(const distro_cluster *cluster, uint32_t node, uint32_t key,
                                          const char *ip, uint32_t port);
/* The section 2.6(a) checksum `node` holds for `key` ("" when absent). */
const char *distro_node_checksum(distro_cluster *cluster, uint32_t node, uint32_t key);
/* Keys stored on the node (datums present). */
uint32_t distro_node_key_count(const distro_cluster *cluster, uint32_t node);
/* `node`'s view of `peer`. */
distro_member_state distro_node_member_state(const distro_cluster *cluster, uint32_t node, uint32_t peer);
uint32_t distro_node_fail_count(const distro_cluster *cluster, uint32_t node, uint32_t peer);
/* DistroMapper on `node`: responsible(tag of key) and mapSrv(tag of key). */
bool distro_node_responsible(const distro_cluster *cluster, uint32_t node, uint32_t key);
uint32_t distro_node_map_srv(const distro_cluster *cluster, uint32_t node, uint32_t key);
uint32_t distro_node_healthy_count(const distro_cluster *cluster, uint32_t node);
bool distro_node_initialized(const distro_cluster *cluster, uint32_t node);
/* Which peer the last successful snapshot load came from (UINT32_MAX: none). */
uint32_t distro_node_loaded_from(const distro_cluster *cluster, uint32_t node);
const distro_counters *distro_node_counters(const distro_cluster *cluster, uint32_t node);
/* Checksum messages whose comparison the receiver skipped because its
 * outcome was known (distro_memo.c); 0 with shortcuts off. */
uint64_t distro_cluster_memo_hits(const distro_cluster *cluster);
/* Execute workers on `node` (0 when it is down), and the target of the
 * sync batch worker `worker` is blocked sending (UINT32_MAX: none). */
uint32_t distro_node_worker_count(const distro_cluster *cluster, uint32_t node);
uint32_t distro_node_worker_blocked_on(const distro_cluster *cluster, uint32_t node, uint32_t worker);
/* Pending delay tasks on `node` (both stages; in 2.x, one per client and
 * peer). */
uint32_t distro_node_pending_tasks(const distro_cluster *cluster, uint32_t node);

/* --- Invariant check (model/distro_check.c) -------------------------------- */

/* Checks the invariants of every node's state and of what nodes share
 * (O(state)).  SIM_OK, or SIM_ERR_STATE with `err` saying "node N:
 * [invariant] values".  Meaningful between events, not inside one. */
SIM_MUST_CHECK sim_status distro_cluster_check(const distro_cluster *cluster, sim_error *err);
/* Runs distro_cluster_check after every engine event (sim_set_event_check:
 * the engine's one check slot); a violation ends the run with sim_fail and
 * that message.  On from creation in builds configured with SIM_MODEL_CHECK
 * (the default for Debug and sanitizer builds). */
void distro_cluster_check_every_event(distro_cluster *cluster, bool on);

#endif
