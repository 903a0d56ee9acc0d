/* distro_member.c: ServerMemberManager, MemberUtil and MemberInfoReportTask
 * of Nacos 1.4.2 (NACOS-DISTRO.md sections 1.5 and 4).
 *
 * Each node keeps its own view: which peers its cluster.conf lists and the
 * state it believes each is in.  Views are not symmetric and disagree
 * during faults, as in Nacos.
 *
 *                 first failure              > fail-access-cnt failures
 *   UP ----------------------------> SUSPICIOUS -----------------------> DOWN
 *    ^   <--------------------------     |    <-- "Connection refused" -- |
 *    |          success / report         |                                |
 *    +-----------------------------------+--------------------------------+
 *                      any success, or a report from the peer
 *
 *   UP -> SUSPICIOUS      [distro_member_on_fail]     failAccessCnt = 1
 *   SUSPICIOUS -> DOWN    [distro_member_on_fail]     failAccessCnt > 3, or refused
 *   any -> UP             [distro_member_on_success]  failAccessCnt = 0
 *   any -> UP             [distro_member_on_report]   the peer reported to us;
 *                                                     failAccessCnt unchanged
 *
 * A DOWN peer that fails again is set SUSPICIOUS, then DOWN again once the
 * count check runs: MemberUtil.onFail does exactly that, so a peer forced
 * DOWN at boot (fail count 0) becomes SUSPICIOUS, and an owner, after its
 * first failed probe.  Every state change publishes MembersChangeEvent,
 * which DistroMapper consumes (distro_mapper.c).
 *
 * A report sets the reporter UP but keeps the fail count this node holds
 * for it: only a successful probe of our own zeroes it.  So with a one-way
 * link (we cannot reach the peer, it reaches us) the count keeps growing
 * between reports, and once it is past fail-access-cnt every failed probe
 * sends the peer straight from UP to DOWN. */
#include "distro_int.h"
#include "distro2_int.h"

#include <stdlib.h>
#include <string.h>

#define REPORT_BYTES 420u        /* the Member JSON a report carries */
#define REPORT_RESP_BYTES 24u

static void members_changed(distro_node *node)
{
    distro_counters_of(node)->member_state_changes++;
    distro_mapper_on_members_change(node);
}

static void notify_peer(distro_node *node, uint32_t peer, uint8_t old)
{
    distro_cluster *c = node->cluster;
    if (c->observer.member_changed != NULL) {
        c->observer.member_changed(c->observer.ctx, sim_now(c->sim), node->id, peer, (distro_member_state)old,
                                   (distro_member_state)node->peers[peer].state);
    }
}

bool distro_member_has(const distro_node *node, uint32_t peer)
{
    /* ServerMemberManager.hasMember: an exact key, or any member address
     * that contains the address as a substring. */
    const distro_cluster *c = node->cluster;
    if (peer >= c->n) return false;
    if (node->peers[peer].in_view) return true;
    for (uint32_t m = 0; m < c->n; m++) {
        if (node->peers[m].in_view && strstr(c->address[m], c->address[peer]) != NULL) return true;
    }
    return false;
}

uint32_t distro_member_all_without_self(const distro_node *node, uint32_t *out)
{
    /* In address String order, which the cluster sorted once.  O(n). */
    const distro_cluster *c = node->cluster;
    uint32_t count = 0;
    for (uint32_t r = 0; r < c->n; r++) {
        uint32_t m = c->by_address[r];
        if (m != node->id && node->peers[m].in_view) out[count++] = m;
    }
    return count;
}

void distro_member_on_success(distro_node *node, uint32_t peer)
{
    distro_peer *p = &node->peers[peer];
    if (!p->in_view) return;
    uint8_t old = p->state;
    p->state = DISTRO_MEMBER_UP;
    p->fail_cnt = 0;
    if (old != p->state) {
        notify_peer(node, peer, old);
        members_changed(node);
    }
}

void distro_member_on_fail(distro_node *node, uint32_t peer, bool refused)
{
    distro_peer *p = &node->peers[peer];
    if (!p->in_view) return;
    uint8_t old = p->state;
    p->state = DISTRO_MEMBER_SUSPICIOUS;
    p->fail_cnt++;
    if (p->fail_cnt > node->cluster->config.member_fail_access_cnt || refused) p->state = DISTRO_MEMBER_DOWN;
    if (old != p->state) {
        notify_peer(node, peer, old);
        members_changed(node);
    }
}

/* A report from the peer: UP, fail count kept (MemberUtil.copy does not
 * carry failAccessCnt into the stored member), its metadata, the version
 * included, taken (MemberUtil.java:53-59).  2.x's MemberReportHandler
 * does the same (MemberReportHandler.java:59-61, MemberUtil.java:62-70). */
void distro_member_reported(distro_node *node, uint32_t peer)
{
    distro_peer *p = &node->peers[peer];
    uint8_t old = p->state;
    p->version_known = true;
    p->state = DISTRO_MEMBER_UP;
    if (old != p->state) {
        notify_peer(node, peer, old);
        members_changed(node);
    }
}

static void report_done(sim_engine *sim, void *ctx, uint64_t peer, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    if (status == SIM_RPC_OK) {
        const distro_msg *m = (const distro_msg *)resp->payload;
        if (m->code == 200) distro_member_on_success(node, (uint32_t)peer);
        else distro_member_on_fail(node, (uint32_t)peer, false);
        return;
    }
    distro_counters_of(node)->member_probe_failures++;
    distro_member_on_fail(node, (uint32_t)peer, status == SIM_RPC_REFUSED);
}

static void report_task(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    uint32_t *peers = calloc(c->n, sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "member report");   /* the run stops: no next report */
        return;
    }
    uint32_t count = distro_member_all_without_self(node, peers);
    if (count > 0) {
        /* MemberInfoReportTask: cursor = (cursor + 1) % size, then probe. */
        node->report_cursor = (node->report_cursor + 1) % count;
        uint32_t target = peers[node->report_cursor];
        distro_msg *msg = distro_msg_new(node->cluster, DISTRO_MSG_MEMBER_REPORT, 0);
        if (msg == NULL) {
            free(peers);
            distro_fail_nomem(c, "member report");
            return;
        }
        msg->source = node->id;
        distro_counters_of(node)->member_probes++;
        distro_call(node, target, DISTRO_MSG_MEMBER_REPORT, REPORT_BYTES, msg, report_done, target);
    }
    free(peers);
    /* Asynchronous post: the next run is 2 s after this one ended. */
    distro_timer(node, c->config.member_report_interval_ns, DISTRO_KIND_REPORT, report_task, 0);
}

static void boot_members_event(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    /* The MembersChangeEvent of the boot-time memberChange reaches the
     * mapper after its init (W7): with peers forced DOWN, the node briefly
     * counts only itself as healthy. */
    members_changed(ctx);
}

void distro_member_start(distro_node *node)
{
    distro_cluster *c = node->cluster;
    /* 2.0.1 and later keep a new member's parsed state, UP (section 1.5). */
    bool start_down = c->config.members_start_down && c->config.version == DISTRO_VERSION_1_4_2;
    for (uint32_t p = 0; p < c->n; p++) {
        distro_peer *peer = &node->peers[p];
        peer->in_view = p == node->id || c->conf[(size_t)node->id * c->n + p];
        peer->state = (p != node->id && start_down) ? DISTRO_MEMBER_DOWN : DISTRO_MEMBER_UP;
        peer->fail_cnt = 0;
        peer->version_known = p == node->id;   /* self carries its version (ServerMemberManager.java:137) */
    }
    node->report_cursor = 0;
    distro_timer(node, 0, DISTRO_KIND_BOOT_EVENT, boot_members_event, 0);
    /* 2.x reports over gRPC (distro2_rpc.c), started with the node. */
    if (c->config.version == DISTRO_VERSION_1_4_2) {
        distro_timer(node, c->config.member_report_initial_ns, DISTRO_KIND_REPORT, report_task, 0);
    }
}

void distro_member_on_report(distro_node *node, const sim_message *msg, distro_token token)
{
    /* NacosClusterController.report: the reporter is UP, but only if it is
     * a member here; update() ignores unknown addresses.  The controller
     * zeroes the count on the incoming object only, so the stored count
     * stays (member_reported). */
    const distro_msg *m = (const distro_msg *)msg->payload;
    uint32_t source = m->source;
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_MEMBER_REPORT_RESP, 0);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "member report receiver");
        return;
    }
    resp->code = 200;
    if (node->peers[source].in_view) distro_member_reported(node, source);
    distro_reply(node, token, DISTRO_MSG_MEMBER_REPORT_RESP, REPORT_RESP_BYTES, resp);
}

static sim_status member_args(distro_cluster *c, uint32_t node, uint32_t member, const char *where,
                              sim_error *err)
{
    if (node >= c->n || member >= c->n) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "unknown node %u or member %u (the cluster has %u)",
                             node, member, c->n);
    }
    if (node == member) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "a node is always its own member");
    }
    return SIM_OK;
}

sim_status distro_member_add(distro_cluster *c, uint32_t node, uint32_t member, sim_error *err)
{
    sim_status st = member_args(c, node, member, "distro_member_add", err);
    if (st != SIM_OK) return st;
    c->conf[(size_t)node * c->n + member] = true;
    distro_node *n = &c->nodes[node];
    if (!n->running || n->peers[member].in_view) return SIM_OK;
    /* memberChange: a newly added member is forced DOWN in 1.4.2-1.4.8. */
    uint8_t old = n->peers[member].state;
    n->peers[member].in_view = true;
    n->peers[member].state = c->config.members_start_down && c->config.version == DISTRO_VERSION_1_4_2
                                 ? DISTRO_MEMBER_DOWN : DISTRO_MEMBER_UP;
    n->peers[member].fail_cnt = 0;
    n->peers[member].version_known = false;   /* parsed from cluster.conf: no version yet */
    notify_peer(n, member, old);
    members_changed(n);
    if (n->v2 != NULL) distro2_rpc_member_added(n, member);
    return SIM_OK;
}

sim_status distro_member_remove(distro_cluster *c, uint32_t node, uint32_t member, sim_error *err)
{
    sim_status st = member_args(c, node, member, "distro_member_remove", err);
    if (st != SIM_OK) return st;
    c->conf[(size_t)node * c->n + member] = false;
    distro_node *n = &c->nodes[node];
    if (!n->running || !n->peers[member].in_view) return SIM_OK;
    n->peers[member].in_view = false;
    n->peers[member].fail_cnt = 0;
    members_changed(n);
    return SIM_OK;
}
