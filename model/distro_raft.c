/* distro_raft.c: the persistent side of the 503 gate in Nacos 1.4.2:
 * PersistentConsistencyServiceDelegateImpl, its ClusterVersionJudgement,
 * the old Raft and JRaft (NACOS-DISTRO.md section 2.4, "Persistent side").
 *
 * The server status is UP only while both consistency services are
 * available (DelegateConsistencyServiceImpl.java:82-83, read by
 * ServerStatusManager.java:61 at each refresh, distro_load.c).  The
 * persistent delegate answers with the old Raft until the version
 * judgement switches it, once and for good, to JRaft
 * (PersistentConsistencyServiceDelegateImpl.java:59, :90-100):
 *
 *   old Raft  available: RaftCore.isInitialized() = loaded from disk at
 *             @PostConstruct || !warmup (RaftCore.java:169, :1080-1082),
 *             true from the start in the model
 *   judgement every 5 s, first 5 s after start (ClusterVersionJudgement
 *             .java:54, :76): every member of the view, self included, has
 *             a version >= 1.4.0 in its metadata (:80-95).  A peer's
 *             version arrives with its member report (NacosClusterController
 *             .java:115-123, ServerMemberManager.java:201-215); members
 *             parsed from cluster.conf carry none (MemberUtil.java:68-87),
 *             so a node switches at the first judgement after every peer
 *             has reported to it since it started
 *   JRaft     available: hasLeader && !hasError (PersistentServiceProcessor
 *             .java:159-160)
 *
 * JRaft, coarsely.  A node knows a leader once it has reached, both ways, a
 * majority of its view (itself included; a peer counts while it runs and is
 * not paused) continuously for an election delay: JRaft's election timeout,
 * 5000 ms by default and never less (RaftSysConstants.java:32,
 * JRaftServer.java:175-176; JRaft adds up to max_election_delay_ms = 1000
 * at random, RaftSysConstants.java:81, which the model leaves out).
 * Reachability is sampled at JRaft's heartbeat period, the election timeout
 * / election_heartbeat_factor (10, RaftSysConstants.java:87): the majority
 * "since" instant is the first sample that saw it, and any sample without
 * it clears it.  The gate reads a pure function of that instant and the
 * refresh time, so it does not depend on when requests arrive, nor on the
 * order of a sample and a refresh at one instant.
 *
 * Once known, the leader stays known: hasLeader is set from the
 * LEADER_META_DATA of a RaftEvent (PersistentServiceProcessor.java:71-78),
 * JRaftProtocol only ever stores a non-empty leader (JRaftProtocol.java:140)
 * and NacosStateMachine publishes one on onLeaderStart and onStartFollowing
 * only, nothing on onLeaderStop (NacosStateMachine.java:178-200).  So a
 * node that knew a leader and is then cut into a minority stays available;
 * only a restart forgets it.  hasError (a state-machine error) is not
 * modelled.  Sampling stops once the leader is known. */
#include "distro_int.h"

#define VERSION_JUDGE_NS (5000 * SIM_MS)        /* ClusterVersionJudgement.java:54, :76 */
#define ELECTION_HEARTBEAT_FACTOR 10u           /* RaftSysConstants.java:87 */

static sim_time_ns heartbeat_ns(const distro_config *cfg)
{
    sim_time_ns t = cfg->raft_election_delay_ns / ELECTION_HEARTBEAT_FACTOR;
    return t > 0 ? t : 1;
}

/* A majority of the view, self included, reachable both ways and running. */
static bool majority_reachable(const distro_node *node)
{
    const distro_cluster *c = node->cluster;
    uint32_t members = 0, reached = 0;
    for (uint32_t p = 0; p < c->n; p++) {
        if (!node->peers[p].in_view) continue;
        members++;
        if (p == node->id) {
            reached++;
            continue;
        }
        if (sim_node_state_get(c->sim, p) == SIM_NODE_UP && c->nodes[p].running &&
            sim_net_reachable(c->sim, node->id, p) && sim_net_reachable(c->sim, p, node->id)) {
            reached++;
        }
    }
    return 2 * reached > members;
}

static bool leader_known(const distro_node *node, sim_time_ns now)
{
    if (node->raft_has_leader) return true;
    sim_time_ns since = node->raft_majority_since_ns;
    /* A local clock stepped back before `since` counts as no time passed. */
    return since != SIM_TIME_NEVER && now >= since && now - since >= node->cluster->config.raft_election_delay_ns;
}

static void heartbeat(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    distro_node *node = ctx;
    sim_time_ns now = sim_node_now(sim, node->id);
    /* The samples before this one held a majority from `since` on: an
     * election delay past it, the leader was known. */
    if (leader_known(node, now)) {
        node->raft_has_leader = true;
        return;                                  /* sticky: nothing left to watch */
    }
    if (!majority_reachable(node)) node->raft_majority_since_ns = SIM_TIME_NEVER;
    else if (node->raft_majority_since_ns == SIM_TIME_NEVER) node->raft_majority_since_ns = now;
    distro_timer(node, heartbeat_ns(&node->cluster->config), DISTRO_KIND_RAFT, heartbeat, 0);
}

static bool all_versions_known(const distro_node *node)
{
    for (uint32_t p = 0; p < node->cluster->n; p++) {
        if (node->peers[p].in_view && !node->peers[p].version_known) return false;
    }
    return true;
}

static void judge(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    if (all_versions_known(node)) {
        node->raft_switched = true;              /* "can only trigger once" (:91-94) */
        return;
    }
    distro_timer(node, VERSION_JUDGE_NS, DISTRO_KIND_RAFT, judge, 0);
}

void distro_raft_start(distro_node *node)
{
    node->raft_switched = false;
    node->raft_has_leader = false;
    node->raft_majority_since_ns = SIM_TIME_NEVER;
    if (!node->cluster->config.raft_gate) return;
    /* Started before the status refresh (distro_load_start), so at an
     * instant both fall on, the judgement runs first. */
    distro_timer(node, VERSION_JUDGE_NS, DISTRO_KIND_RAFT, judge, 0);
    distro_timer(node, 0, DISTRO_KIND_RAFT, heartbeat, 0);
}

bool distro_raft_available(const distro_node *node)
{
    if (!node->cluster->config.raft_gate || !node->raft_switched) return true;   /* the old Raft */
    return leader_known(node, sim_node_now(node->cluster->sim, node->id));
}
