/* distro2_load.c: the startup load of Nacos 2.5.1 over gRPC (NACOS-DISTRO.md
 * section 3.4).
 *
 * DistroLoadDataTask (C/distributed/distro/task/load/DistroLoadDataTask.java
 * :61-125) tries the members but self in address order, one at a time: a
 * peer that is not UP, or whose cluster RPC client is not running, is
 * skipped (DistroClientTransportAgent.getDatumSnapshot throws before any
 * send, :186-190); otherwise a synchronous SNAPSHOT request with the load timeout
 * (30000 ms).  The first snapshot that applies, even an empty one, ends the
 * load and calls finishInitial, which lets verify send
 * (DistroClientDataProcessor.processSnapshot applies every client with
 * handlerClientSyncData).  A failed synchronous request flips that RPC
 * client UNHEALTHY (RpcClient.java:690-692).  All failed: the whole load
 * again after loadDataRetryDelayMillis (30000 ms).  With no peer in the
 * list it polls every second.
 *
 * Snapshot server (DistroClientDataProcessor.getDatumSnapshot): every
 * client the node holds, native or replica. */
#include "distro2_int.h"

#include <stdlib.h>

#define SNAPSHOT_REQ_BYTES 120u
#define SNAPSHOT_ENTRY_BYTES 520u

static void load_run(sim_engine *sim, void *ctx, uint64_t arg);
static void try_peer(distro_node *node, uint32_t pos);

static void notify_loaded(distro_node *node, uint32_t peer, bool ok)
{
    distro_cluster *c = node->cluster;
    if (c->observer.snapshot_loaded != NULL) {
        c->observer.snapshot_loaded(c->observer.ctx, sim_now(c->sim), node->id, peer, ok);
    }
}

static void snapshot_done(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    uint32_t pos = (uint32_t)arg, peer = (uint32_t)(arg >> 32);
    distro_counters *k = distro_counters_of(node);
    const distro_msg *m = status == SIM_RPC_OK ? (const distro_msg *)resp->payload : NULL;
    if (m != NULL) distro2_rpc_active(node, peer);
    if (m != NULL && m->code == DISTRO2_CODE_SUCCESS) {
        for (uint32_t i = 0; i < m->count; i++) distro2_apply_sync(node, m->keys[i], m->revisions[i], m->services[i]);
        k->snapshot_successes++;
        k->snapshot_bytes += resp->bytes;
        node->v2->finish_initial = true;
        node->v2->loaded_from = peer;
        node->initialized = true;
        node->loaded_from = peer;
        notify_loaded(node, peer, true);
        return;
    }
    k->snapshot_failures++;
    if (m == NULL) distro2_rpc_request_failed(node, peer);   /* every attempt failed: UNHEALTHY */
    notify_loaded(node, peer, false);
    try_peer(node, pos + 1);
}

static void try_peer(distro_node *node, uint32_t pos)
{
    distro_cluster *c = node->cluster;
    uint32_t *peers = malloc(c->n * sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "distro v2 load");
        return;
    }
    uint32_t count = distro_member_all_without_self(node, peers);
    /* getDatumSnapshot's checks: skip peers that are not UP or whose RPC
     * client is not running (an exception, then the next peer). */
    while (pos < count && (node->peers[peers[pos]].state != DISTRO_MEMBER_UP ||
                           !distro2_rpc_running(node, peers[pos]))) {
        distro_counters_of(node)->snapshot_attempts++;
        distro_counters_of(node)->snapshot_failures++;
        pos++;
    }
    if (pos >= count) {
        distro_counters_of(node)->load_retries++;
        distro_timer(node, c->config.v2.load_retry_delay_ns, DISTRO_KIND_V2_LOAD, load_run, 0);
        free(peers);
        return;
    }
    distro_counters_of(node)->snapshot_attempts++;
    distro_msg *msg = distro_msg_new(c, DISTRO_MSG_V2_SNAPSHOT, 0);
    if (msg == NULL) {
        free(peers);
        distro_fail_nomem(c, "distro v2 load");
        return;
    }
    msg->source = node->id;
    distro_call(node, peers[pos], DISTRO_MSG_V2_SNAPSHOT, SNAPSHOT_REQ_BYTES, msg, snapshot_done,
                pos | (uint64_t)peers[pos] << 32);
    free(peers);
}

static void load_run(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    if (node->v2->finish_initial) return;
    uint32_t *peers = malloc(c->n * sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "distro v2 load");
        return;
    }
    uint32_t count = distro_member_all_without_self(node, peers);
    free(peers);
    if (count == 0) {
        distro_timer(node, c->config.load_poll_ns, DISTRO_KIND_V2_LOAD, load_run, 0);
        return;
    }
    try_peer(node, 0);
}

void distro2_load_start(distro_node *node)
{
    distro_timer(node, 0, DISTRO_KIND_V2_LOAD, load_run, 0);
}

void distro2_load_on_snapshot(distro_node *node, const sim_message *msg, distro_token token)
{
    (void)msg;
    distro_cluster *c = node->cluster;
    distro2_node *v2 = node->v2;
    distro_msg *resp = distro_msg_new(c, DISTRO_MSG_V2_SNAPSHOT_RESP, v2->client_count);
    if (resp == NULL || (v2->client_count > 0 &&
                         ((resp->revisions = calloc(v2->client_count, sizeof *resp->revisions)) == NULL ||
                          (resp->services = calloc(v2->client_count, sizeof *resp->services)) == NULL))) {
        distro_msg_unref(resp);
        distro_fail_nomem(c, "distro v2 snapshot");
        return;
    }
    uint32_t i = 0;
    for (uint32_t conn = 0; conn < v2->clients_cap; conn++) {
        const distro2_client *client = &v2->clients[conn];
        if (!client->present) continue;
        resp->keys[i] = conn;
        resp->revisions[i] = client->revision;
        resp->services[i] = client->key;
        i++;
    }
    SIM_ASSERT(i == v2->client_count);
    resp->code = DISTRO2_CODE_SUCCESS;
    uint64_t bytes = 64u + (uint64_t)SNAPSHOT_ENTRY_BYTES * i;
    distro_reply(node, token, DISTRO_MSG_V2_SNAPSHOT_RESP, bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes, resp);
}
