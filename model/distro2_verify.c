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
 * ownership check, no removal of extra clients. */
#include "distro2_int.h"

#include <stdlib.h>

#define VERIFY_BYTES 220u
#define RESP_BYTES 60u

static void verify_done(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    uint32_t conn = (uint32_t)(arg >> 20);
    uint32_t target = (uint32_t)(arg & 0xfffff);
    if (status != SIM_RPC_OK || resp->payload == NULL) return;   /* onException: metrics only */
    const distro_msg *m = (const distro_msg *)resp->payload;
    if (m->code == DISTRO2_CODE_SUCCESS || m->code == DISTRO2_CODE_ERROR) return;   /* ErrorResponse: onException */
    distro_counters_of(node)->v2_verify_failed++;   /* a repair follows */
    distro2_on_verify_failed(node, conn, target);
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
        if (peers == NULL) {
            distro_fail_nomem(c, "distro v2 verify");
            return;
        }
        uint32_t count = distro_member_all_without_self(node, peers);
        for (uint32_t p = 0; p < count; p++) {
            uint32_t target = peers[p];
            if (!distro_member_has(node, target)) continue;
            /* Not UP or no running RPC client: every item fails at once,
             * onFailed(null), metrics only. */
            if (node->peers[target].state != DISTRO_MEMBER_UP || !distro2_rpc_running(node, target)) continue;
            for (uint32_t conn = 0; conn < v2->clients_cap; conn++) {
                const distro2_client *client = &v2->clients[conn];
                if (!client->present || !distro2_client_responsible(client)) continue;
                distro_msg *msg = distro_msg_new(c, DISTRO_MSG_V2_VERIFY, 0);
                if (msg == NULL) {
                    free(peers);
                    distro_fail_nomem(c, "distro v2 verify");
                    return;
                }
                msg->client = conn;
                msg->revision = client->revision;
                msg->source = node->id;
                distro_counters_of(node)->verify_sent++;
                distro_call(node, target, DISTRO_MSG_V2_VERIFY, VERIFY_BYTES, msg, verify_done,
                            ((uint64_t)conn << 20) | target);
            }
        }
        free(peers);
    }
    distro_timer(node, c->config.verify_interval_ns, DISTRO_KIND_V2_VERIFY, verify_run, 0);
}

void distro2_verify_start(distro_node *node)
{
    distro_timer(node, node->cluster->config.verify_interval_ns, DISTRO_KIND_V2_VERIFY, verify_run, 0);
}

void distro2_verify_on_request(distro_node *node, const sim_message *msg, distro_token token)
{
    const distro_msg *m = (const distro_msg *)msg->payload;
    distro2_client *client = distro2_client_get(node, m->client);
    bool ok = client != NULL && (m->revision == 0 || m->revision == client->revision);
    if (ok) client->last_renew_ms = distro_now_ms(node);
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_V2_VERIFY_RESP, 0);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "distro v2 verify receiver");
        return;
    }
    resp->code = ok ? DISTRO2_CODE_SUCCESS : DISTRO2_CODE_FAIL;
    distro_reply(node, token, DISTRO_MSG_V2_VERIFY_RESP, RESP_BYTES, resp);
}
