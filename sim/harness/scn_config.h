/* scn_config.h: a scenario as plain C values, its defaults, its checks and
 * its YAML form.
 *
 * A scenario file (a .yaml file under scenarios/) is turned into one scn_config by
 * scn_load.c, the only file that knows YAML exists.  Everything after the
 * loader (the runner, the sweep, the report) reads this struct and nothing
 * else.  The struct is a value: no handles, no callbacks, and the only heap
 * memory is the six arrays (the swarm block's entries each own their
 * texts) and two texts listed under "Ownership".
 *
 * Ownership (one rule for the whole module, as jq states one): every
 * pointer inside a scn_config is owned by that scn_config and released by
 * scn_config_deinit().  Functions here borrow the config they are given.
 *
 * Invariants of a config returned by the loader (scn_config_validate()
 * checks them all):
 *   (1) 1 <= cluster.nodes <= SCN_NODES_MAX, and addresses[0, nodes) are
 *       distinct canonical "a.b.c.d:port" strings.
 *   (2) Every node index anywhere (links, faults, members sets) is below
 *       cluster.nodes; node sets have no bit at or above cluster.nodes.
 *   (3) With phases enabled, duration_ns == chaos_ns + quiet_ns.
 *   (4) Every fault's at_ns is before the end of the run (and, with phases,
 *       inside the chaos phase).  Faults keep file order: the index in
 *       faults[] is the fault's stable id (H17), also when times are unsorted;
 *       a rolling entry's steps take consecutive ids (scn_fault_entry maps
 *       an id back to its entry in the file).
 *   (5) A link override or link fault holds fully usable sim_link_params:
 *       the fields named in its `fields` mask come from the scenario, every
 *       other field equals network.defaults.  The runner applies only the
 *       masked fields; the rest are filled so the struct is never half valid.
 *   (6) Min/max pairs (nemesis ranges, counter bounds, uniform latency) have
 *       min <= max.
 *   (7) The swarm block has at most SCN_SWARM_ENTRIES_MAX entries, unique
 *       keys, a RANGE's min <= max, and 1 to SCN_SWARM_CHOICES_MAX values
 *       in a CHOICE or SUBSET; a config drawn from it has none.
 *
 * Units follow H4: every time is sim_time_ns with _ns last; ratios are parts
 * per million (_ppm); rates are thousandths (_milli); sizes are bytes. */
#ifndef SCN_CONFIG_H
#define SCN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "distro_config.h"
#include "sim_duration.h"
#include "sim_error.h"
#include "sim_limits.h"
#include "sim_conn.h"
#include "sim_net.h"
#include "sim_rng.h"
#include "sim_time.h"

/* --- Limits (H11): every capacity of a scenario, with its reason -------- */

/* Nodes in a scenario cluster.  Real Nacos clusters have 3 to 50 members;
 * 64 lets node sets be one uint64_t mask (members lists, nemesis bookkeeping)
 * and keeps printed faults readable.  The engine itself allows more
 * (SIM_NODES_MAX) for benchmarks that do not go through scenarios. */
#define SCN_NODES_MAX 64u

/* Scripted faults.  A dense hour-long script with a fault every second is
 * 3600; 10000 leaves room and keeps faults[] below 4 MB. */
#define SCN_FAULTS_MAX 10000u

/* Per-link overrides: at most one per directed pair. */
#define SCN_LINKS_MAX (SCN_NODES_MAX * (SCN_NODES_MAX - 1u))

/* A scenario file.  Hand-written scenarios are a few KB; 1 MiB bounds the
 * parser's memory and time (YAML has billion-laughs style blow-ups, which
 * rejecting aliases also prevents) and is checked before parsing. */
#define SCN_FILE_BYTES_MAX (1024u * 1024u)

/* Nesting of YAML collections.  The deepest legal path is
 * faults[i].link.latency.slow_tail.latency: 7 levels; 16 rejects runaway
 * nesting long before libfyaml's own limit and bounds the builder's stack. */
#define SCN_YAML_DEPTH_MAX 16u

/* YAML nodes in one file.  Every node but an empty value takes at least one
 * byte and every empty value follows a key, so a 1 MiB file has fewer than
 * 2^21 nodes; the check exists so the bound is stated, not assumed. */
#define SCN_YAML_NODES_MAX (1u << 21)

/* `name`: a file-name-like slug used in report names. */
#define SCN_NAME_BYTES_MAX 64u

/* `description`, `incident`: free text, a paragraph or two. */
#define SCN_TEXT_BYTES_MAX 4096u

/* `tags`: short words that select scenarios on the command line
 * (`distrosim check DIR --tag ci`).  A file carries a handful. */
#define SCN_TAGS_MAX 16u
#define SCN_TAG_BYTES_MAX 32u

/* Namespace, group and service prefix: Nacos identifiers.  Nacos allows
 * service names of 512 bytes; the prefix plus "-<index>" stays far below. */
#define SCN_IDENT_BYTES_MAX 128u

/* "255.255.255.255:65535" and the NUL. */
#define SCN_ADDRESS_BYTES 22u

/* "1.4.2" and room for "10.20.30-SNAPSHOT" style strings later. */
#define SCN_VERSION_BYTES 24u

/* Instance metadata: Nacos instances carry a handful of entries. */
#define SCN_METADATA_MAX 64u
#define SCN_METADATA_KEY_BYTES_MAX 128u
#define SCN_METADATA_VALUE_BYTES_MAX 512u

/* Custom counter bounds in `expect.counters`; names are model counter ids. */
#define SCN_COUNTERS_MAX 256u
#define SCN_COUNTER_NAME_BYTES_MAX 64u

/* Workload size.  10^6 services of up to 1000 instances is the largest
 * registry anyone has reported to Nacos; memory is the runner's concern. */
#define SCN_SERVICES_MAX 1000000u
#define SCN_INSTANCES_PER_SERVICE_MAX 1000u

/* Any one duration in a scenario: a year of virtual time.  Sums of a few
 * such values (at + for + after) stay far below 2^64 ns, so the loader's
 * additions cannot wrap. */
#define SCN_DURATION_NS_MAX SIM_DURATION_NS_MAX   /* the engine's duration grammar's bound */

/* Bandwidth of a link, bytes per second: 1 PB/s is "unlimited" in practice
 * and keeps transmit-time arithmetic (bytes * 10^9 / bandwidth) in 64 bits
 * for messages below 2^32 bytes. */
#define SCN_BANDWIDTH_BYTES_PER_S_MAX 1000000000000000ull

/* Churn rates, events per minute of virtual time. */
#define SCN_CHURN_PER_MIN_MAX 1000000u

/* distro_config integer fields. */
#define SCN_BATCH_SYNC_KEY_COUNT_MAX 1000000u
#define SCN_MEMBER_FAIL_ACCESS_CNT_MAX 1000u

_Static_assert(SCN_NODES_MAX <= SIM_NODES_MAX, "scenario nodes are engine nodes");
_Static_assert(SCN_NODES_MAX <= 64, "node sets are uint64_t masks");
_Static_assert(SCN_NODES_MAX < 255, "partition group ids are uint8_t and 255 means unlisted");
_Static_assert(SCN_FAULTS_MAX <= UINT32_MAX, "fault counts are u32");
_Static_assert(SCN_DURATION_NS_MAX < (UINT64_MAX >> 4), "a few durations add without wrapping");
_Static_assert(SCN_DURATION_NS_MAX <= INT64_MAX, "clock offsets are int64_t");

/* --- Values -------------------------------------------------------------- */

typedef uint64_t scn_node_set;            /* bit i set: node i is in the set */

/* Which sim_link_params fields a link override or link fault sets. */
enum {
    SCN_LINK_LATENCY = 1u << 0,
    SCN_LINK_LOSS = 1u << 1,
    SCN_LINK_DUPLICATE = 1u << 2,
    SCN_LINK_REORDER = 1u << 3,
    SCN_LINK_BANDWIDTH = 1u << 4,
    SCN_LINK_ALL = (1u << 5) - 1u,
};

/* A server identity (nacos.core.auth.server.identity.key / .value); an
 * empty key or value is blank. */
#define SCN_IDENTITY_BYTES_MAX 64u
typedef struct scn_identity {
    char key[SCN_IDENTITY_BYTES_MAX + 1];
    char value[SCN_IDENTITY_BYTES_MAX + 1];
} scn_identity;

typedef struct scn_cluster {
    uint32_t nodes;                                   /* 1..SCN_NODES_MAX, default 3 */
    char addresses[SCN_NODES_MAX][SCN_ADDRESS_BYTES]; /* [0, nodes) used; default 10.0.0.<i+1>:8848 */
    char version[SCN_VERSION_BYTES];                  /* "1.4.2" (default), "2.5.1" or "3.0.3" */
    distro_config distro;                             /* default distro_config_defaults() */
    /* 3.0.3 only (cluster.identity, cluster.node_settings): each node's
     * nacos.core.auth.server.identity.key/value and release. */
    scn_identity identity;                            /* every node's; default serverIdentity / security */
    bool node_identity_set[SCN_NODES_MAX];            /* node_settings[].identity given */
    scn_identity node_identity[SCN_NODES_MAX];
    char node_version[SCN_NODES_MAX][SCN_VERSION_BYTES]; /* "": the cluster's; else "2.5.1" or "3.0.3" */
    char node_upgrade[SCN_NODES_MAX][SCN_VERSION_BYTES]; /* "": none; else the release from its first restart */
} scn_cluster;

typedef struct scn_link_override {   /* network.links[i]: directed from -> to */
    uint32_t from;
    uint32_t to;
    uint32_t fields;                 /* SCN_LINK_* set by the scenario; never 0 */
    sim_link_params params;          /* invariant (5) */
} scn_link_override;

/* How the model's HTTP calls travel (network.transport). */
typedef enum scn_transport {
    SCN_TRANSPORT_TCP,               /* connections (sim_conn.h): the default */
    SCN_TRANSPORT_DATAGRAM,          /* one message each way, lost whole (sim_net.h) */
} scn_transport;

typedef struct scn_network {
    scn_transport transport;
    sim_conn_params tcp;             /* network.tcp: Linux's defaults */
    sim_link_params defaults;        /* default sim_link_params_default(): 1 ms, FIFO */
    scn_link_override *links;        /* owned; file order; pairs unique */
    uint32_t link_count;             /* <= SCN_LINKS_MAX */
} scn_network;

typedef struct scn_metadata_entry {
    char key[SCN_METADATA_KEY_BYTES_MAX + 1];
    char value[SCN_METADATA_VALUE_BYTES_MAX + 1];
} scn_metadata_entry;

typedef struct scn_churn {           /* Poisson rates per minute of virtual time, x1000 */
    uint32_t register_per_min_milli;
    uint32_t deregister_per_min_milli;
    uint32_t crash_per_min_milli;    /* a client dies: stops beating, never deregisters */
} scn_churn;

/* Readers of the workload's services (workload.reads; model/distro_reads.c):
 * 1.x clients that query GET /nacos/v1/ns/instance/list or subscribe.
 * Off unless queriers or subscribers is above 0. */
/* Which naming SDK the subscribers run (workload.reads.subscriber_sdk). */
typedef enum scn_reads_sdk {
    SCN_READS_SDK_1X,      /* "1.x" (default): HostReactor, UDP push, on either version */
    SCN_READS_SDK_2X,      /* "2.x": a gRPC subscriber (2.5.1 only) */
    SCN_READS_SDK_NATIVE,  /* "native": 1.x on 1.4.2, 2.x on 2.5.1 */
} scn_reads_sdk;

typedef struct scn_reads {
    uint32_t services;                   /* the first N services are read; 0 (default): every service */
    uint32_t queriers;                   /* query clients per read service; default 0 */
    sim_time_ns query_interval_ns;       /* each querier's gap between queries; default 1 s, >= 1 ms */
    uint32_t subscribers;                /* subscribing clients per read service; default 0 */
    bool push_empty_protection;          /* namingPushEmptyProtection of every subscriber; default false */
    sim_time_ns start_at_ns;             /* when the readers start; default 0, before the end of the run */
    scn_reads_sdk subscriber_sdk;        /* the subscribers' SDK; default 1.x */
} scn_reads;

/* Readers per service: SCN_READERS_MAX over all services bounds the
 * readers' memory (about 100 bytes each plus their lists). */
#define SCN_READERS_PER_SERVICE_MAX 1000u
#define SCN_READERS_MAX 1000000u

/* The kind of naming client each workload instance is (workload.clients).
 * DEFAULT (the key absent) is the version's own: 2.x SDKs on 2.5.1, 1.x
 * SDKs on 1.4.2.  1.4.2 serves 1.x clients only, so 2.x-sdk, mixed and
 * http-v2 are refused there. */
typedef enum scn_clients {
    SCN_CLIENTS_DEFAULT,
    SCN_CLIENTS_2X_SDK,              /* "2.x-sdk": gRPC, a connection-based client */
    SCN_CLIENTS_1X_SDK,              /* "1.x-sdk": HTTP /v1/ns with beats, an IP-port client on 2.5.1 */
    SCN_CLIENTS_MIXED,               /* "mixed": even instances 2.x SDKs, odd ones 1.x SDKs */
    SCN_CLIENTS_HTTP_V2,             /* "http-v2": HTTP /v2/ns writes and beats, not routed by DistroFilter */
} scn_clients;

/* Whether workload instance `index` is a 1.x SDK client under `clients` on
 * a 2.5.1 cluster. */
static inline bool scn_clients_v1(scn_clients clients, uint32_t index)
{
    return clients == SCN_CLIENTS_1X_SDK || clients == SCN_CLIENTS_HTTP_V2 ||
           (clients == SCN_CLIENTS_MIXED && index % 2 == 1);
}

/* Whether the clients of a 1.4.2 cluster are refused: only 1.x SDKs talk
 * to it. */
static inline bool scn_clients_need_v2(scn_clients clients)
{
    return clients == SCN_CLIENTS_2X_SDK || clients == SCN_CLIENTS_MIXED || clients == SCN_CLIENTS_HTTP_V2;
}

/* "2.x-sdk", "1.x-sdk", "mixed", "http-v2"; "" for DEFAULT. */
const char *scn_clients_name(scn_clients clients);

typedef struct scn_workload {
    uint32_t services;                             /* 0..SCN_SERVICES_MAX, default 10 */
    uint32_t instances_per_service;                /* 1..1000, default 2 */
    char namespace_id[SCN_IDENT_BYTES_MAX + 1];    /* default "public" */
    char group[SCN_IDENT_BYTES_MAX + 1];           /* default "DEFAULT_GROUP" */
    char service_prefix[SCN_IDENT_BYTES_MAX + 1];  /* services are <prefix>-<i>; default "svc" */
    sim_time_ns beat_interval_ns;                  /* default 5 s, > 0 */
    sim_time_ns register_spread_ns;                /* default 10 s */
    sim_time_ns start_at_ns;                       /* default 0; before the end of the run */
    scn_metadata_entry *metadata;                  /* owned; file order; keys unique */
    uint32_t metadata_count;                       /* <= SCN_METADATA_MAX */
    scn_churn churn;                               /* default all 0 */
    scn_reads reads;                               /* default off */
    scn_clients clients;                           /* default SCN_CLIENTS_DEFAULT */
} scn_workload;

typedef struct scn_bound {
    bool checked;                       /* false: written "unchecked", not checked */
    sim_time_ns max_ns;                 /* 0 when not checked */
} scn_bound;

/* How each fault kind uses the fields of scn_fault (unused fields are 0):
 *
 *   kind       YAML                                  fields
 *   PARTITION  partition: [[0, 1], [2]]              group_of[], group_count
 *   BLOCK      block: {from, to}                     from, to
 *   ISOLATE    isolate: N                            node
 *   HEAL_ALL   heal: all                             -
 *   HEAL_LINK  heal: {from, to}                      from, to
 *   HEAL_NODE  heal: {node}                          node
 *   CRASH      crash: N                              node
 *   START      start: N                              node
 *   RESTART    restart: {node, after}                node, duration_ns (after)
 *   PAUSE      pause: {node, for}                    node, duration_ns (for)
 *   LINK       link: {from, to, for, both, ...}      from, to, duration_ns, both,
 *                                                    link_fields, link
 *   CLOCK      clock: {node, offset, drift_ppm}      node, clock_offset_ns,
 *                                                    clock_drift_ppm
 *   MEMBERS    members: {on, add, remove}            members_on, members_add,
 *                                                    members_remove
 *
 * The order of this enum is also the order of nemesis kind bits. */
typedef enum scn_fault_kind {
    SCN_FAULT_PARTITION,
    SCN_FAULT_BLOCK,
    SCN_FAULT_ISOLATE,
    SCN_FAULT_HEAL_ALL,
    SCN_FAULT_HEAL_LINK,
    SCN_FAULT_HEAL_NODE,
    SCN_FAULT_CRASH,
    SCN_FAULT_START,
    SCN_FAULT_RESTART,
    SCN_FAULT_PAUSE,
    SCN_FAULT_LINK,
    SCN_FAULT_CLOCK,
    SCN_FAULT_MEMBERS,
    SCN_FAULT_KINDS
} scn_fault_kind;

/* group_of[i] for a node the partition does not list: it joins the one
 * extra group of unlisted nodes (see scn_partition_group_of). */
#define SCN_GROUP_UNLISTED 255u

typedef struct scn_fault {
    scn_fault_kind kind;
    sim_time_ns at_ns;                  /* when it starts */
    uint32_t node;                      /* ISOLATE, HEAL_NODE, CRASH, START, RESTART, PAUSE, CLOCK */
    uint32_t from;                      /* BLOCK, HEAL_LINK, LINK */
    uint32_t to;
    sim_time_ns duration_ns;            /* RESTART after, PAUSE for, LINK for */
    bool both;                          /* LINK: also to -> from */
    uint32_t link_fields;               /* LINK: SCN_LINK_* given; never 0 */
    sim_link_params link;               /* LINK: invariant (5) */
    uint8_t group_of[SCN_NODES_MAX];    /* PARTITION: listed group index, or SCN_GROUP_UNLISTED */
    uint32_t group_count;               /* PARTITION: listed groups, >= 1 */
    int64_t clock_offset_ns;            /* CLOCK: may be negative */
    int32_t clock_drift_ppm;            /* CLOCK: within +-SIM_DRIFT_PPM_MAX */
    scn_node_set members_on;            /* MEMBERS: whose member view changes; non-empty */
    scn_node_set members_add;           /* MEMBERS: add and remove are disjoint, */
    scn_node_set members_remove;        /*          not both empty */
    bool recover_within_set;            /* the entry has its own recover_within */
    scn_bound recover_within;           /* then: overrides expect.recover_within */
    /* A `rolling` entry expands into `rolling_steps` consecutive RESTART or
     * PAUSE faults (rolling_step 0, 1, ...), one per listed node, at
     * at + step x rolling_every_ns, each for the entry's `down`; the printer
     * writes the entry back from its steps.  rolling_steps 0: not rolling. */
    uint32_t rolling_step;
    uint32_t rolling_steps;
    sim_time_ns rolling_every_ns;
    /* wait_converged: step k > 0 starts `every` after the cluster first
     * converged after step k - 1 ended (the runner schedules it), so its
     * at_ns is only the earliest it can start. */
    bool rolling_wait;
} scn_fault;

typedef struct scn_range_ns {
    sim_time_ns min_ns;
    sim_time_ns max_ns;                 /* >= min_ns */
} scn_range_ns;

/* Kinds a nemesis may draw: bit (1u << scn_fault_kind). */
#define SCN_NEMESIS_KINDS_ALLOWED                                                            \
    ((1u << SCN_FAULT_PARTITION) | (1u << SCN_FAULT_ISOLATE) | (1u << SCN_FAULT_CRASH) |    \
     (1u << SCN_FAULT_RESTART) | (1u << SCN_FAULT_PAUSE) | (1u << SCN_FAULT_LINK) |          \
     (1u << SCN_FAULT_CLOCK))

typedef struct scn_nemesis {
    bool enabled;                       /* the `nemesis` key is present */
    uint32_t kinds;                     /* non-empty subset of SCN_NEMESIS_KINDS_ALLOWED; default all */
    scn_range_ns interval;              /* gap between faults; default 10..30 s, min > 0 */
    scn_range_ns duration;              /* length of each fault; default 5..20 s, min > 0 */
    uint32_t max_down;                  /* nodes faulty at once, <= nodes; default (nodes-1)/2 */
} scn_nemesis;

typedef struct scn_phases {
    bool enabled;                       /* the `phases` key is present */
    sim_time_ns chaos_ns;               /* faults and nemesis act only here; default 3 m */
    sim_time_ns quiet_ns;               /* everything healed, then converge; default 2 m */
} scn_phases;

/* The counters a scenario may bound (expect.counters), each the model's
 * per-node counter summed over nodes, with what it counts.  The one table
 * the loader validates names against and `distrosim counters` prints;
 * test_scn_load checks it names exactly the model's counters. */
typedef struct scn_counter_info {
    const char *name;
    const char *what;
} scn_counter_info;
const scn_counter_info *scn_counters(size_t *count);
bool scn_counter_known(const char *name);

typedef struct scn_counter_bound {
    char name[SCN_COUNTER_NAME_BYTES_MAX + 1];   /* [a-z0-9_]+, unique */
    bool min_set;
    uint64_t min;
    bool max_set;                       /* at least one of min_set, max_set */
    uint64_t max;                       /* >= min when both set */
} scn_counter_bound;

/* Bounds are maxima: 0s means none allowed, `unchecked` turns a check off.
 * lost and zombie are defined in obs_convergence.h and reports/SCHEMA.md;
 * their allowances default to values derived from cluster.distro
 * (scn_lag_allowance, scn_zombie_allowance). */
#define SCN_ALLOWANCE_DERIVED SIM_TIME_NEVER

/* A bound on a count (`lost: {count: 3}`): at most max, or unchecked. */
typedef struct scn_count_bound {
    bool checked;
    uint64_t max;                       /* 0 when not checked */
} scn_count_bound;

typedef struct scn_expect {
    scn_bound converge_within;          /* the run's convergence (SCHEMA.md); default 60 s */
    scn_bound recover_within;           /* every fault's recovery (run_scenario.h); default unchecked */
    scn_bound lost_max;                 /* longest lost window; default 0 s (also `lost: {max}`) */
    scn_bound lost_p99;                 /* p99 of the run's lost window lengths (nearest rank); unchecked */
    scn_count_bound lost_count;         /* lost windows in the run; default unchecked */
    scn_bound zombie_max;               /* longest zombie window; default 0 s (also `zombie: {max}`) */
    scn_bound zombie_p99;               /* as lost_p99, for zombie windows */
    scn_count_bound zombie_count;
    scn_bound ownership_disagreement_max; /* default unchecked: views differ while nodes boot */
    scn_bound client_empty_max;         /* longest empty-read window (obs_reads.h); default 0 s */
    scn_bound client_short_max;         /* longest short-read window; default 0 s */
    scn_bound client_stale_max;         /* longest stale-read window; default 0 s */
    sim_time_ns lag_allowance_ns;       /* default SCN_ALLOWANCE_DERIVED */
    sim_time_ns zombie_allowance_ns;    /* default SCN_ALLOWANCE_DERIVED */
    scn_counter_bound *counters;        /* owned; file order */
    uint32_t counter_count;             /* <= SCN_COUNTERS_MAX */
} scn_expect;

/* Engine limits (the `engine` section), for scenarios that probe what
 * happens when a run hits one: the run ends as an ERROR naming the limit.
 * 0 keeps the engine's default. */
typedef struct scn_engine {
    uint64_t events_budget;             /* stop after this many events; 0 = no budget */
    uint32_t events_max;                /* event pool bound, <= SIM_EVENTS_MAX; 0 = SIM_EVENTS_MAX */
} scn_engine;

/* --- Swarm: a configuration drawn per seed (scn_swarm.h) ----------------
 *
 * A `swarm:` block maps dotted scenario keys (the keys `--set` takes, plus
 * network.latency and nemesis.kinds) to what each seed may draw for them:
 *
 *   kind    YAML                               draws
 *   RANGE   key: {min: A, max: B}              uniform in [A, B]; integer,
 *                                              duration (whole ms when both
 *                                              bounds are) or ratio (ppm) keys
 *   CHOICE  key: [V1, V2, ...]                 one of the values, uniformly;
 *                                              a value may be a mapping
 *   SUBSET  nemesis.kinds: {subset: [K, ...]}  a non-empty subset, each kind
 *                                              kept with probability 1/2
 *
 * Values are kept as the YAML text they are applied with (a scalar's text,
 * or a flow collection such as "{dist: normal, mean: 2ms, stddev: 500us}"),
 * NUL-separated in `texts`. */
#define SCN_SWARM_ENTRIES_MAX 64u
#define SCN_SWARM_CHOICES_MAX 64u
#define SCN_SWARM_KEY_BYTES_MAX 95u
#define SCN_SWARM_VALUE_BYTES_MAX 1023u   /* one value's text: a latency with a slow tail fits */

typedef enum scn_swarm_kind {
    SCN_SWARM_RANGE,
    SCN_SWARM_CHOICE,
    SCN_SWARM_SUBSET,
} scn_swarm_kind;

typedef enum scn_swarm_type {             /* RANGE: what min and max count */
    SCN_SWARM_INTEGER,
    SCN_SWARM_DURATION,                   /* nanoseconds */
    SCN_SWARM_RATIO,                      /* parts per million */
} scn_swarm_type;

typedef struct scn_swarm_entry {
    char key[SCN_SWARM_KEY_BYTES_MAX + 1];    /* "cluster.nodes"; unique in the block */
    scn_swarm_kind kind;
    scn_swarm_type type;                  /* RANGE only */
    uint64_t min;                         /* RANGE: min <= max */
    uint64_t max;
    char *texts;                          /* owned; CHOICE, SUBSET: value_count NUL-terminated texts */
    size_t texts_len;                     /* bytes of `texts`, every NUL included */
    uint32_t value_count;                 /* CHOICE, SUBSET: 1..SCN_SWARM_CHOICES_MAX */
} scn_swarm_entry;

typedef struct scn_config {
    char name[SCN_NAME_BYTES_MAX + 1];  /* [a-z0-9._-]+, required in files */
    char *description;                  /* owned; NULL when empty */
    char *incident;                     /* owned; NULL when empty */
    char tags[SCN_TAGS_MAX][SCN_TAG_BYTES_MAX + 1];  /* [a-z0-9_-]+, distinct, file order */
    uint32_t tag_count;                 /* <= SCN_TAGS_MAX */
    uint64_t seed;                      /* default 1 */
    sim_time_ns duration_ns;            /* the whole run; default 5 m; invariant (3) */
    scn_cluster cluster;
    scn_network network;
    scn_workload workload;
    scn_fault *faults;                  /* owned; file order = stable fault id */
    uint32_t fault_count;               /* <= SCN_FAULTS_MAX */
    scn_nemesis nemesis;
    scn_phases phases;
    scn_expect expect;
    scn_engine engine;
    scn_swarm_entry *swarm;             /* owned; file order; NULL: no swarm block */
    uint32_t swarm_count;               /* <= SCN_SWARM_ENTRIES_MAX */
} scn_config;

/* The lag allowance of the lost definition: how long after a registration
 * (or a node's start) a node may still not list a live instance.  Derived
 * from the protocol when the scenario does not set it:
 *   one change sync: sync_delay + sync_batch_delay + task_tick (2.1 s);
 *   two client beats (10 s): a write overwritten while the cluster boots
 *     (every node owns every key until its peers are UP, and receivers
 *     apply syncs without version checks) comes back when a beat finds it
 *     missing at the owner and registers it again; the first beat may still
 *     find it where it landed, the second will.  The first beat goes
 *     workload.beat_interval after the registration, the second the
 *     server's clientBeatInterval after the first (the client adopts the
 *     reply's), which is workload.beat_interval too: one beat interval (a
 *     preserved.heart.beat.interval in the workload metadata is not read
 *     here);
 *   SCN_ALLOWANCE_SLACK_NS (1 s) for the client's request, DistroFilter's
 *     proxying and the network.
 * 13.1 s by default. */
/* Services read (reads.services, 0 meaning all) and readers in total. */
uint32_t scn_reads_services(const scn_config *config);
uint64_t scn_reads_readers(const scn_config *config);

#define SCN_ALLOWANCE_SLACK_NS SIM_S
sim_time_ns scn_lag_allowance(const scn_config *config);
/* How long a node's member view takes to form after its start, derived
 * from the member-report constants (0 when members start UP); the lag
 * allowance of a registration counts from the later of it and the node's
 * start plus this. */
sim_time_ns scn_view_formation(const scn_config *c);
/* The zombie allowance: how long after a death or deregistration a node may
 * still list the instance.  Derived: the owner's beat check deletes it at
 * most ip_delete_timeout + beat_check_interval after its last beat (35 s),
 * then one change sync (2.1 s) and SCN_ALLOWANCE_SLACK_NS: 38.1 s by
 * default.  A deregistration is faster (one sync); the one allowance
 * covers both. */
sim_time_ns scn_zombie_allowance(const scn_config *config);


/* One settable field of distro_config, by its scenario key: the C field
 * name without "_ns".  The table lists every field in header order; the
 * loader, the printer and scn_config_set all go through it, so a field
 * added to distro_config and to the table is loaded, printed and settable. */
typedef enum scn_distro_type {
    SCN_DISTRO_DURATION,   /* sim_time_ns */
    SCN_DISTRO_BOOL,       /* bool */
    SCN_DISTRO_U32,        /* uint32_t */
} scn_distro_type;

/* The Distro lines (cluster.version) that read a field: a field another
 * line does not read is refused there (its value must stay the default). */
enum {
    SCN_LINE_1_4_2 = 1u << 0,
    SCN_LINE_2_5_1 = 1u << 1,
    SCN_LINE_3_0_3 = 1u << 2,
    SCN_LINE_2X = SCN_LINE_2_5_1 | SCN_LINE_3_0_3,
    SCN_LINE_ALL = SCN_LINE_1_4_2 | SCN_LINE_2X,
};

typedef struct scn_distro_field {
    const char *key;       /* "verify_interval"; a nested map's "v2.sync_delay" */
    scn_distro_type type;
    size_t offset;         /* offsetof(distro_config, ...) */
    uint32_t min;          /* DURATION: 0 allows 0 s, 1 requires > 0; U32: least value */
    uint32_t max;          /* U32: largest value; unused otherwise */
    uint32_t lines;        /* SCN_LINE_*: the versions that read it */
} scn_distro_field;

/* The SCN_LINE_* bit of a cluster.version string. */
uint32_t scn_version_line(const char *version);

/* Why `f` cannot be set on a `version` cluster ("a Nacos 1.4.2 setting,
 * ..."), or NULL when that version reads it. */
const char *scn_distro_refusal(const scn_distro_field *f, const char *version);

/* The static table; `*count` receives its length. */
const scn_distro_field *scn_distro_fields(size_t *count);

/* --- Functions ----------------------------------------------------------- */

/* Fills `config` with every default (name empty, no faults, no nemesis, no
 * phases).  Allocates nothing, so it cannot fail; overwrites without freeing,
 * so call it on fresh or deinitialised memory only. */
void scn_config_defaults(scn_config *config);

/* Frees everything `config` owns and leaves it zeroed.  NULL is a no-op; a
 * zeroed or defaulted config is fine; calling it twice is fine. */
void scn_config_deinit(scn_config *config);

/* Deep copy: fills `*out` (fresh memory) from `src`.  On failure `*out` is
 * zeroed and owns nothing.  Borrows `src`. */
SIM_MUST_CHECK sim_status scn_config_copy(scn_config *out, const scn_config *src, sim_error *err);

/* Field-by-field equality of two configs, arrays included (never memcmp:
 * padding is not compared).  Borrows both. */
bool scn_config_equal(const scn_config *a, const scn_config *b);

/* Checks invariants (1) to (6), every range and then the run limits of
 * scn_limits.h (timer floors, instance copies, estimated events), without
 * file positions: err->where is `where` and the message starts with the
 * key path, which the loader turns into the file position of that key.
 * Used after scn_config_set and as the loader's last step.
 * O(faults + links + counters). */
SIM_MUST_CHECK sim_status scn_config_validate(const scn_config *config, const char *where,
                                              sim_error *err);

/* Writes the effective scenario, every default filled in, as YAML that
 * scn_load_string accepts and turns into an equal config.  Deterministic:
 * same config, same bytes.  Borrows both arguments; SIM_ERR_IO when the
 * stream reports an error. */
SIM_MUST_CHECK sim_status scn_config_print(const scn_config *config, FILE *out);

/* The end of fault-eligible time: chaos_ns with phases, else duration_ns. */
sim_time_ns scn_config_fault_window_ns(const scn_config *config);

/* Default address of node `index`: "10.0.0.<index+1>:8848".  `out` has
 * SCN_ADDRESS_BYTES. */
void scn_default_address(uint32_t index, char out[SCN_ADDRESS_BYTES]);

/* The group of every node [0, nodes) of a PARTITION fault, for
 * sim_net_partition: listed groups keep their index, unlisted nodes share
 * the group after the last listed one.  Returns the number of groups. */
uint32_t scn_partition_group_of(const scn_fault *fault, uint32_t nodes, uint32_t *group_of);

/* The model cluster.version selects: 1.4.2, 2.5.1 or 3.0.3. */
distro_version scn_cluster_version(const scn_config *config);
/* Whether the subscribers are 2.x gRPC subscribers (subscriber_sdk 2.x, or
 * native on 2.5.1). */
bool scn_reads_grpc(const scn_config *config);

/* The 3.0.3 per-node settings for the model: identity ids (equal key and
 * value, equal id; blank, 0) and releases (distro3_config). */
void scn_cluster_node_settings(const scn_config *config, distro3_config *out);

/* The entry of the file's `faults` list that faults[index] comes from: the
 * index itself unless a rolling entry before it expanded into several. */
uint32_t scn_fault_entry(const scn_config *config, uint32_t index);

/* "partition", "heal" (all three HEAL kinds), "crash", ...; never NULL. */
const char *scn_fault_kind_name(scn_fault_kind kind);

/* Formats a duration with the largest unit that divides it exactly
 * ("1500ms", "2m", "0s"), so parsing it back gives the same value.
 * `buf` has at least 32 bytes. */
void scn_format_duration(sim_time_ns ns, char *buf, size_t size);

#endif
