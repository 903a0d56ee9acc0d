/* distro2_rpc.c: ClusterRpcClientProxy of Nacos 2.5.1, one gRPC RpcClient
 * per peer, and the member reports that ride it (NACOS-DISTRO.md sections
 * 1.5, 3.3 step 4, 3.4, 4, with the corrections on the RPC-client gate and
 * on gRPC member reports).
 *
 * The RPC client's state (common/.../remote/client/RpcClient.java):
 *
 *              connect ok                         health check fails 4x
 *   RECONNECT -----------> RUNNING --keep-alive--> RUNNING_CHECK ------+
 *      ^  ^                  |   ^     (5 s)           | ok            |
 *      |  |                  |   +---------------------+               |
 *      |  |  stream error    |                                         |
 *      |  +------------------+ sync request failed                     |
 *      |                     v                                         |
 *      +--- fails 4x --- HEALTH_CHECK (UNHEALTHY) <--------------------+
 *                            | ok: RUNNING                  (reconnect)
 *
 *   - a synchronous request (snapshot, member report) whose attempts all
 *     fail flips RUNNING -> UNHEALTHY and starts a reconnect that first
 *     runs a health check, 4 attempts of up to 3000 ms (:434-455, :690-692);
 *   - a broken stream (the peer's process died) flips at once and
 *     reconnects without a health check (GrpcClient.java:300-308); a crash
 *     fault here is a dead process whose kernel lives, so every peer's
 *     stream breaks at the crash;
 *   - the reconnect loop connects (a server check, 3000 ms), and after each
 *     failure sleeps min(turn + 1, 50) x 100 ms (:562; one server per
 *     cluster client, so every attempt is a turn);
 *   - keep-alive: every 5 s a RUNNING client whose last answered
 *     synchronous request (a member report, a snapshot, a health check:
 *     lastActiveTimeStamp, :667; async sync and verify do not count) is
 *     5 s old or more health-checks its peer; 4 failed attempts make it
 *     UNHEALTHY and it reconnects (:270-300).
 *   Async sends (sync, verify) never move the state.
 *
 * At start the proxy builds and starts a client per member synchronously
 * (RpcClient.start: up to 3 connects) before DistroProtocol starts the load
 * and the verify timer: the node's load and verify begin once each peer's
 * first connect round has ended.
 *
 * Member reports over gRPC (ServerMemberManager.reportByGrpc, C/cluster/
 * ServerMemberManager.java:635-662): one peer every 2 s round-robin, first
 * 5 s after start, synchronous (the next run is 2 s after this one ends,
 * RPC time included), plus UnhealthyMemberInfoReportTask (:691-710), every
 * non-UP member every 5 s.  A failure is counted (MemberUtil.onFail) only when the
 * RPC client is not running ("No rpc client related to member", never
 * "Connection refused", so never DOWN at once) or the answer is not
 * SUCCESS; an exception or a timeout is only logged, though it flips the
 * RPC client.  A received report sets the sender UP and leaves the stored
 * fail count alone (MemberReportHandler.java:59-61, MemberUtil.copy). */
#include "distro2_int.h"

#include <stdlib.h>

#define CHECK_BYTES 80u
#define REPORT_BYTES 640u
#define RESP_BYTES 60u


static void rpc_attempt(distro_node *node, uint32_t peer);

bool distro2_rpc_running(const distro_node *node, uint32_t peer)
{
    const distro2_node *v2 = node->v2;
    if (v2 == NULL || v2->rpc == NULL) return false;
    uint8_t phase = v2->rpc[peer].phase;
    return phase == DISTRO2_RPC_RUNNING || phase == DISTRO2_RPC_RUNNING_CHECK;
}

/* arg: peer << 32 | gen. */
static uint64_t rpc_arg(const distro_node *node, uint32_t peer)
{
    return ((uint64_t)peer << 32) | node->v2->rpc[peer].gen;
}

static void set_phase(distro_node *node, uint32_t peer, uint8_t phase)
{
    distro2_rpc *r = &node->v2->rpc[peer];
    r->phase = phase;
    r->tries = 0;
    r->gen++;
}

static void startup_round_done(distro_node *node);

static void attempt_timer(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    uint32_t peer = (uint32_t)(arg >> 32);
    if ((uint32_t)arg != node->v2->rpc[peer].gen) return;
    rpc_attempt(node, peer);
}

static void attempt_done(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    uint32_t peer = (uint32_t)(arg >> 32);
    distro2_rpc *r = &node->v2->rpc[peer];
    if ((uint32_t)arg != r->gen) return;   /* the phase changed meanwhile */
    const distro_msg *m = status == SIM_RPC_OK ? (const distro_msg *)resp->payload : NULL;
    bool ok = m != NULL && m->code == DISTRO2_CODE_SUCCESS;
    const distro2_config *cfg = &node->cluster->config.v2;
    if (ok) {
        set_phase(node, peer, DISTRO2_RPC_RUNNING);
        r->last_active_ns = sim_now(node->cluster->sim);
        if (!r->started) {
            r->started = true;
            startup_round_done(node);
        }
        return;
    }
    r->tries++;
    switch ((enum distro2_rpc_phase)r->phase) {
    case DISTRO2_RPC_RECONNECT:
        if (!r->started && r->tries >= cfg->rpc_retry_times) {
            r->started = true;             /* RpcClient.start gave up: reconnects go on */
            startup_round_done(node);
        }
        /* Thread.sleep(min(retryTurns + 1, 50) * 100) before the next. */
        distro_timer(node, (sim_time_ns)(r->tries < 50 ? r->tries : 50) * 100 * SIM_MS, DISTRO_KIND_V2_RPC,
                     attempt_timer, rpc_arg(node, peer));
        return;
    case DISTRO2_RPC_HEALTH_CHECK:
    case DISTRO2_RPC_RUNNING_CHECK:
    case DISTRO2_RPC_RUNNING:
        /* healthCheckRetryTimes more after the first (RpcClient.java:434-455). */
        if (r->tries <= cfg->rpc_health_retry_times) {
            rpc_attempt(node, peer);
            return;
        }
        set_phase(node, peer, DISTRO2_RPC_RECONNECT);
        rpc_attempt(node, peer);
        return;
    }
}

static void rpc_attempt(distro_node *node, uint32_t peer)
{
    distro_msg *msg = distro_msg_new(node->cluster, DISTRO_MSG_V2_CHECK, 0);
    if (msg == NULL) {
        distro_fail_nomem(node->cluster, "rpc client");
        return;
    }
    msg->source = node->id;
    distro_call(node, peer, DISTRO_MSG_V2_CHECK, CHECK_BYTES, msg, attempt_done, rpc_arg(node, peer));
}

void distro2_rpc_active(distro_node *node, uint32_t peer)
{
    if (node->v2 != NULL) node->v2->rpc[peer].last_active_ns = sim_now(node->cluster->sim);
}

void distro2_rpc_request_failed(distro_node *node, uint32_t peer)
{
    if (!distro2_rpc_running(node, peer)) return;
    set_phase(node, peer, DISTRO2_RPC_HEALTH_CHECK);
    rpc_attempt(node, peer);
}

void distro2_rpc_member_added(distro_node *node, uint32_t peer)
{
    /* ClusterRpcClientProxy.refresh on MembersChangeEvent: a client for the
     * new member, connecting. */
    if (node->v2 == NULL || distro2_rpc_running(node, peer)) return;
    set_phase(node, peer, DISTRO2_RPC_RECONNECT);
    rpc_attempt(node, peer);
}

void distro2_rpc_stream_error(distro_node *node, uint32_t peer)
{
    if (node->v2 == NULL || node->v2->rpc[peer].phase == DISTRO2_RPC_RECONNECT) return;
    set_phase(node, peer, DISTRO2_RPC_RECONNECT);
    rpc_attempt(node, peer);
}

/* The keep-alive of every RUNNING client, each 5 s. */
static void keepalive(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    sim_time_ns now = sim_now(c->sim), keep_alive = c->config.v2.rpc_keepalive_ns;   /* connectionKeepAlive */
    for (uint32_t p = 0; p < c->n; p++) {
        const distro2_rpc *r = &node->v2->rpc[p];
        if (p == node->id || r->phase != DISTRO2_RPC_RUNNING || now - r->last_active_ns < keep_alive) continue;
        set_phase(node, p, DISTRO2_RPC_RUNNING_CHECK);
        rpc_attempt(node, p);
    }
    distro_timer(node, keep_alive, DISTRO_KIND_V2_RPC, keepalive, 0);
}

void distro2_rpc_on_check(distro_node *node, const sim_message *msg, distro_token token)
{
    (void)msg;
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_V2_CHECK_RESP, 0);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "rpc check");
        return;
    }
    resp->code = DISTRO2_CODE_SUCCESS;
    distro_reply(node, token, DISTRO_MSG_V2_CHECK_RESP, RESP_BYTES, resp);
}

/* --- member reports --------------------------------------------------------- */

enum { REPORT_ROUND_ROBIN, REPORT_UNHEALTHY };

static void report_task(sim_engine *sim, void *ctx, uint64_t arg);
static void unhealthy_next(distro_node *node, uint32_t from);

/* arg: kind << 48 | peer << 16 | position (unhealthy task). */
static void report_done(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    uint32_t kind = (uint32_t)(arg >> 48);
    uint32_t peer = (uint32_t)(arg >> 16) & 0xffffffffu;
    const distro_msg *m = status == SIM_RPC_OK ? (const distro_msg *)resp->payload : NULL;
    if (m != NULL) distro2_rpc_active(node, peer);
    if (m != NULL && m->code == DISTRO2_CODE_SUCCESS) {
        distro3_version_learned(node, peer, m->op);   /* onSuccess with the answering node's extend-info */
        distro_member_on_success(node, peer);
    } else if (m != NULL) {
        distro_counters_of(node)->member_probe_failures++;
        distro_member_on_fail(node, peer, false);   /* a non-SUCCESS MemberReportResponse */
    } else {
        distro2_rpc_request_failed(node, peer);     /* logged, not counted; the client flips */
    }
    if (kind == REPORT_ROUND_ROBIN) {
        distro_timer(node, node->cluster->config.member_report_interval_ns, DISTRO_KIND_V2_REPORT, report_task, 0);
    } else {
        unhealthy_next(node, (uint32_t)(arg & 0xffff) + 1);
    }
}

/* reportByGrpc: false when the report finished at once (no send). */
static bool report_to(distro_node *node, uint32_t peer, uint64_t arg)
{
    distro_counters_of(node)->member_probes++;
    if (!distro2_rpc_running(node, peer)) {
        distro_counters_of(node)->member_probe_failures++;
        distro_member_on_fail(node, peer, false);   /* "No rpc client related to member" */
        return false;
    }
    distro_msg *msg = distro_msg_new(node->cluster, DISTRO_MSG_V2_REPORT, 0);
    if (msg == NULL) {
        distro_fail_nomem(node->cluster, "member report");
        return false;
    }
    msg->source = node->id;
    msg->op = distro3_reported_version(node);   /* the extend-info version of getSelf() */
    distro_call(node, peer, DISTRO_MSG_V2_REPORT, REPORT_BYTES, msg, report_done, arg);
    return true;
}

static void report_task(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    uint32_t *peers = calloc(c->n, sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "member report");
        return;
    }
    uint32_t count = distro_member_all_without_self(node, peers);
    bool sent = false;
    if (count > 0) {
        node->report_cursor = (node->report_cursor + 1) % count;
        uint32_t target = peers[node->report_cursor];
        sent = report_to(node, target, ((uint64_t)REPORT_ROUND_ROBIN << 48) | ((uint64_t)target << 16));
    }
    free(peers);
    if (!sent) distro_timer(node, c->config.member_report_interval_ns, DISTRO_KIND_V2_REPORT, report_task, 0);
}

static void unhealthy_task(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    unhealthy_next(ctx, 0);
}

/* UnhealthyMemberInfoReportTask: the non-UP members in address order, one
 * synchronous report each; then 5 s until the next run. */
static void unhealthy_next(distro_node *node, uint32_t from)
{
    distro_cluster *c = node->cluster;
    uint32_t *peers = calloc(c->n, sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "member report");
        return;
    }
    uint32_t count = distro_member_all_without_self(node, peers);
    for (uint32_t i = from; i < count; i++) { /* bound: n */
        uint32_t p = peers[i];
        if (node->peers[p].state == DISTRO_MEMBER_UP) continue;
        if (report_to(node, p, ((uint64_t)REPORT_UNHEALTHY << 48) | ((uint64_t)p << 16) | i)) {
            free(peers);
            return;
        }
    }
    free(peers);
    distro_timer(node, c->config.v2.unhealthy_report_interval_ns, DISTRO_KIND_V2_REPORT, unhealthy_task, 0);
}

void distro2_member_on_report(distro_node *node, const sim_message *msg, distro_token token)
{
    const distro_msg *m = (const distro_msg *)msg->payload;
    if (node->peers[m->source].in_view) {
        distro3_version_learned(node, m->source, m->op);   /* MemberUtil.copy takes the extend-info */
        distro_member_reported(node, m->source);
    }
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_V2_REPORT_RESP, 0);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "member report receiver");
        return;
    }
    resp->code = DISTRO2_CODE_SUCCESS;
    resp->op = distro3_reported_version(node);   /* new MemberReportResponse(getSelf()) */
    distro_reply(node, token, DISTRO_MSG_V2_REPORT_RESP, RESP_BYTES, resp);
}

/* --- start ------------------------------------------------------------------- */

/* Each peer's first connect round ends once (connected, or RpcClient.start
 * gave up after retryTimes connects); when every peer's has, DistroProtocol
 * starts the load and the verify timer, and the web server's start the
 * report tasks. */
static void startup_round_done(distro_node *node)
{
    distro2_node *v2 = node->v2;
    if (v2->startup_pending == 0 || --v2->startup_pending > 0) return;
    distro_cluster *c = node->cluster;
    distro2_load_start(node);
    distro2_verify_start(node);
    distro2_ejector_start(node);
    distro_timer(node, c->config.member_report_initial_ns, DISTRO_KIND_V2_REPORT, report_task, 0);
    distro_timer(node, c->config.member_report_initial_ns, DISTRO_KIND_V2_REPORT, unhealthy_task, 0);
    distro_timer(node, c->config.v2.rpc_keepalive_ns, DISTRO_KIND_V2_RPC, keepalive, 0);
}

void distro2_rpc_start(distro_node *node)
{
    distro_cluster *c = node->cluster;
    distro2_node *v2 = node->v2;
    uint32_t peers = 0;
    for (uint32_t p = 0; p < c->n; p++) {
        v2->rpc[p].phase = DISTRO2_RPC_RECONNECT;
        v2->rpc[p].started = !(p != node->id && node->peers[p].in_view);
        if (!v2->rpc[p].started) peers++;
    }
    v2->startup_pending = peers + 1;   /* + 1: the call below ends the count when no peer is pending */
    for (uint32_t p = 0; p < c->n; p++) {
        if (p != node->id && node->peers[p].in_view) rpc_attempt(node, p);
    }
    startup_round_done(node);
}
