/* distro2_verify.c: verify of Nacos 2.5.1, a per-client revision check
 * that renews leases (NACOS-DISTRO.md section 3.5).
 *
 * Sender (C/distributed/distro/task/verify/DistroVerifyTimedTask.java,
 * DistroVerifyExecuteTask.java; scheduled with a fixed delay of 5 s, first
 * at 5 s, C/distributed/distro/DistroProtocol.java:87-90).  Each run, for
 * every member but self in any state, and only once the load has finished
 * (finishInitial): one VERIFY {clientId, revision} per client this node is
 * responsible for (native), sent by DistroClientTransportAgent
 * .syncVerifyData (:135-155, the gate at :213-214): not a member -> nothing; not UP or RPC client
 * not running -> failure counted in metrics only; else an async request
 * with a 3000 ms timeout.  A non-SUCCESS DistroDataResponse publishes
 * ClientVerifyFailedEvent(client, target) (:294), which the processor turns
 * into an ADD to that target at once (distro2_on_verify_failed).  A timeout
 * or an ErrorResponse is metrics only: no repair (:301-303).
 *
 * Receiver (DistroClientDataProcessor.processVerifyData ->
 * ConnectionBasedClientManager.verifyClient, :133-146): the client exists
 * and (the revision is 0, a wildcard, or equals the local one) -> its
 * lastRenewTime is now and the answer is SUCCESS; otherwise FAIL.  No
 * ownership check, no removal of extra clients.
 *
 * One round's requests to one peer travel as one engine message.  Nacos
 * writes them back to back on the one gRPC (HTTP/2) connection of the
 * node's RpcClient to that peer (DistroVerifyExecuteTask.run, :53-66, loops
 * over the clients calling syncVerifyData, each an asyncRequest on the same
 * ClusterRpcClientProxy client, DistroClientTransportAgent.java:135-155;
 * NACOS-DISTRO.md section 3.5): the same connection, the same path, and TCP
 * delivers the bytes in order, so the requests leave together, cross the
 * network together (one latency draw, the bytes of every request, so
 * bandwidth and a paused reader's receive buffer see the whole round) and
 * arrive in order; a partition, a crash or a pause that holds one holds
 * all of them.  The receiver handles the items in order at its read, each
 * exactly as a single request (verifyClient, lease renewal), and its
 * answers go back the same way, one response message carrying the FAIL
 * items in order.  The sender handles each FAIL in order (an ADD to that
 * peer at once), and a timeout or an ErrorResponse of the message is each
 * item's timeout or ErrorResponse (metrics only).  What it does not keep:
 * requests of one round spread over a few microseconds of sender CPU, and
 * a crash between two of them.  Counters count items (verify_sent); the
 * engine's message statistics count these batch messages, one per peer
 * per round (and their responses), not gRPC requests. */
#include "distro2_int.h"

#include <stdlib.h>
#include <string.h>

#define VERIFY_BYTES 220u        /* one DistroDataRequest VERIFY, JSON */
#define RESP_BYTES 60u           /* one DistroDataResponse */
#define VERIFY_PREFETCH 16u

#if defined(__GNUC__) || defined(__clang__)
#define prefetch(p) __builtin_prefetch((p), 1)
#else
#define prefetch(p) ((void)(p))
#endif

/* The answers to one round's batch to `target` (arg): the FAIL items, in
 * request order, in the response's keys. */
static void verify_done(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    uint32_t target = (uint32_t)arg;
    if (status != SIM_RPC_OK || resp->payload == NULL) return;   /* each item's onException: metrics only */
    const distro_msg *m = (const distro_msg *)resp->payload;
    if (m->code == DISTRO2_CODE_ERROR) return;   /* ErrorResponse: each item's onException */
    for (uint32_t i = 0; i < m->count && node->running; i++) {
        distro_counters_of(node)->v2_verify_failed++;   /* a repair follows */
        distro2_on_verify_failed(node, m->keys[i], target);
    }
}

void distro2_verify_send(distro_node *node, uint32_t target, const uint32_t *conns, const int64_t *revs,
                         uint32_t count)
{
    distro_cluster *c = node->cluster;
    distro_msg *msg = distro_msg_new(c, DISTRO_MSG_V2_VERIFY, count);
    int64_t *r = msg != NULL ? malloc((size_t)count * sizeof *r) : NULL;
    if (r == NULL) {
        distro_msg_unref(msg);
        distro_fail_nomem(c, "distro v2 verify");
        return;
    }
    memcpy(msg->keys, conns, (size_t)count * sizeof *conns);
    memcpy(r, revs, (size_t)count * sizeof *r);
    msg->revisions = r;
    msg->source = node->id;
    distro_counters_of(node)->verify_sent += count;
    distro_call(node, target, DISTRO_MSG_V2_VERIFY, VERIFY_BYTES * count, msg, verify_done, target);
}

static void verify_run(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    distro2_node *v2 = node->v2;
    if (v2->finish_initial) {
        uint32_t *peers = calloc(c->n, sizeof *peers);
        /* The clients this node is responsible for, in connection-id order,
         * with their revisions: the same list for every peer this round. */
        uint32_t *conns = NULL;
        int64_t *revs = NULL;
        uint32_t count = 0, cap = 0, rev_cap = 0;
        bool ok = peers != NULL;
        for (uint32_t conn = 0; ok && conn < v2->clients_cap; conn++) {
            const distro2_client *client = &v2->clients[conn];
            if (!client->present || !distro2_client_responsible(client)) continue;
            ok = SIM_VEC_RESERVE(conns, count, cap, 1) && SIM_VEC_RESERVE(revs, count, rev_cap, 1);
            if (!ok) break;
            conns[count] = conn;
            revs[count++] = client->revision;
        }
        uint32_t npeers = ok ? distro_member_all_without_self(node, peers) : 0;
        bool workers = distro2_bug(c, DISTRO2_BUG_NACOS_8099);
        for (uint32_t p = 0; ok && count > 0 && p < npeers; p++) {
            uint32_t target = peers[p];
            if (!distro_member_has(node, target)) continue;
            /* nacos-8099: the round waits for its execute worker and is
             * sent with no state check (distro2_bugs.c). */
            if (workers) {
                distro2_workers_submit_verify(node, target, conns, revs, count);
                continue;
            }
            /* Not UP or no running RPC client: every item fails at once,
             * onFailed(null), metrics only. */
            if (node->peers[target].state != DISTRO_MEMBER_UP || !distro2_rpc_running(node, target)) continue;
            distro2_verify_send(node, target, conns, revs, count);
        }
        free(peers);
        free(conns);
        free(revs);
        if (!ok) {
            distro_fail_nomem(c, "distro v2 verify");
            return;
        }
    }
    distro_timer(node, c->config.v2.verify_interval_ns, DISTRO_KIND_V2_VERIFY, verify_run, 0);
}

void distro2_verify_start(distro_node *node)
{
    distro_timer(node, node->cluster->config.v2.verify_interval_ns, DISTRO_KIND_V2_VERIFY, verify_run, 0);
}

/* verifyClient for one item at `now_ms`: SUCCESS renews the lease. */
static bool verify_item(distro_node *node, uint32_t conn, int64_t revision, int64_t now_ms)
{
    distro2_client *client = distro2_client_get(node, conn);
    bool ok = client != NULL && (revision == 0 || revision == client->revision);
    if (ok) client->last_renew_ms = now_ms;
    return ok;
}

void distro2_verify_on_request(distro_node *node, const sim_message *msg, distro_token token)
{
    const distro_msg *m = (const distro_msg *)msg->payload;
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_V2_VERIFY_RESP, m->count);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "distro v2 verify receiver");
        return;
    }
    uint32_t failed = 0;   /* the FAIL items, in order */
    const distro2_node *v2 = node->v2;
    int64_t now_ms = distro_now_ms(node);   /* the items are read at one instant */
    for (uint32_t i = 0; i < m->count; i++) {
        /* The items are one node's clients, spread over the connection ids:
         * each lookup misses cache, so ask for one a few items ahead (a
         * hint only; nothing depends on it). */
        if (i + VERIFY_PREFETCH < m->count && m->keys[i + VERIFY_PREFETCH] < v2->clients_cap) {
            prefetch(&v2->clients[m->keys[i + VERIFY_PREFETCH]]);
        }
        if (!verify_item(node, m->keys[i], m->revisions[i], now_ms)) resp->keys[failed++] = m->keys[i];
    }
    resp->count = failed;
    resp->code = DISTRO2_CODE_SUCCESS;
    distro_reply(node, token, DISTRO_MSG_V2_VERIFY_RESP, RESP_BYTES * m->count, resp);
}
