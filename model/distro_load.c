/* distro_load.c: DistroLoadDataTask and ServerStatusManager of Nacos 1.4.2
 * (NACOS-DISTRO.md section 2.4).
 *
 *   wait (1 s polls) for a peer --> try peers in address order, DOWN ones
 *   included --> the first snapshot that applies wins, even an empty one
 *   --> initialized.  All failed --> the whole load again after 30 s.
 *
 * isInitialized only matters with nacos.naming.data.warmup (default off):
 * then the server status, refreshed every 5 s (fixed rate, first at 0),
 * stays DOWN until the load succeeds and client requests get HTTP 503.
 * The refresh also needs the persistent side (distro_raft.c), which can
 * keep the status DOWN with warm-up off.  Verify is not gated on the load
 * (it starts with the node). */
#include "distro_int.h"

#include <stdlib.h>

static void load_run(sim_engine *sim, void *ctx, uint64_t arg);

static void try_peer(distro_node *node, uint32_t pos);

static void notify_loaded(distro_node *node, uint32_t peer, bool ok)
{
    distro_cluster *c = node->cluster;
    if (c->observer.snapshot_loaded != NULL) c->observer.snapshot_loaded(c->observer.ctx, sim_now(c->sim), node->id, peer, ok);
}

/* `arg`: the position in the peer list, and the peer above bit 32. */
static void snapshot_done(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    uint32_t pos = (uint32_t)arg, peer = (uint32_t)(arg >> 32);
    distro_counters *counters = distro_counters_of(node);
    if (status == SIM_RPC_OK && ((const distro_msg *)resp->payload)->code == 200) {
        const distro_msg *m = (const distro_msg *)resp->payload;
        distro_sync_apply_datums(node, m);       /* processSnapshot -> processData */
        counters->snapshot_successes++;
        counters->snapshot_bytes += resp->bytes;
        node->initialized = true;
        node->loaded_from = resp->src;
        notify_loaded(node, peer, true);
        return;
    }
    counters->snapshot_failures++;
    notify_loaded(node, peer, false);
    try_peer(node, pos + 1);
}

static void try_peer(distro_node *node, uint32_t pos)
{
    distro_cluster *c = node->cluster;
    uint32_t *peers = malloc(c->n * sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "load");
        return;
    }
    uint32_t count = distro_member_all_without_self(node, peers);
    if (pos >= count) {
        /* No peer's snapshot applied: the whole load again, later. */
        distro_counters_of(node)->load_retries++;
        distro_timer(node, c->config.load_retry_delay_ns, DISTRO_KIND_LOAD, load_run, 0);
    } else {
        distro_counters_of(node)->snapshot_attempts++;
        distro_msg *msg = distro_msg_new(node->cluster, DISTRO_MSG_GET_DATUMS, 0);
        if (msg == NULL) {
            free(peers);
            distro_fail_nomem(c, "load");
            return;
        }
        msg->source = node->id;
        distro_call(node, peers[pos], DISTRO_MSG_GET_DATUMS, 64, msg, snapshot_done,
                    pos | (uint64_t)peers[pos] << 32);
    }
    free(peers);
}

static void load_run(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    if (node->initialized) return;
    uint32_t *peers = malloc(c->n * sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "load");
        return;
    }
    uint32_t count = distro_member_all_without_self(node, peers);
    free(peers);
    if (count == 0) {
        /* A node alone in its member list waits here forever (W7). */
        distro_timer(node, c->config.load_poll_ns, DISTRO_KIND_LOAD, load_run, 0);
        return;
    }
    try_peer(node, 0);
}

static void status_refresh(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    const distro_config *cfg = &node->cluster->config;
    /* consistencyService.isAvailable(): the Distro side and the persistent
     * side (ServerStatusManager.java:61, DelegateConsistencyServiceImpl
     * .java:82-83). */
    node->status_up = node->initialized || !cfg->data_warmup;
    if (!distro_raft_available(node)) node->status_up = false;
    distro_timer(node, cfg->server_status_interval_ns, DISTRO_KIND_STATUS, status_refresh, 0);
}

void distro_load_start(distro_node *node)
{
    node->status_up = !node->cluster->config.data_warmup;
    distro_timer(node, 0, DISTRO_KIND_STATUS, status_refresh, 0);
    distro_timer(node, 0, DISTRO_KIND_LOAD, load_run, 0);
}
