/* distro_sync.c: v1 change sync, sender and receiver (NACOS-DISTRO.md
 * sections 2.2 and 2.3): DistroProtocol.sync, DistroSyncChangeTask,
 * DistroHttpAgent.syncData, DistroHttpCombinedKeyTaskFailedHandler and
 * DistroController's datum endpoints.
 *
 *   put(key) --1000 ms--> per-(key, target) task --> add to batch(seq, target)
 *            --1000 ms or 1000 keys--> PUT /distro/datum {key: current datum}
 *            --failure--> every key of the batch again, 5000 ms, forever
 *
 * Each send reads the current values: a key deleted meanwhile is skipped,
 * and a batch whose keys are all gone goes out as {}, which the receiver
 * rejects, so it is retried for as long as the target is configured (W11).
 * A target that left the member list is silent success.  The receiver
 * applies every datum with no ownership or version check (checklist 4). */
#include "distro_int.h"

#include <stdlib.h>
#include <string.h>

#define RESP_BYTES 2u            /* "ok" */
#define GZIP_RATIO 6u            /* datum JSON is highly repetitive */

static uint64_t datums_json_bytes(const distro_node *node, const distro_msg *msg)
{
    uint64_t bytes = 2;
    for (uint32_t i = 0; i < msg->count; i++) {
        if (msg->values[i] == NULL) continue;
        const char *name = node->cluster->keys[msg->keys[i]].name;
        bytes += strlen(name) + 4 + distro_ilist_json_bytes(msg->values[i], name);
    }
    return bytes;
}

static uint32_t wire_bytes(uint64_t bytes)
{
    return bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
}

void distro_sync_put(distro_node *node, uint32_t key)
{
    /* DistroConsistencyServiceImpl.put -> distroProtocol.sync(key, CHANGE,
     * taskDispatchPeriod / 2), once per member other than self, whatever its
     * state (checklist 11). */
    distro_cluster *c = node->cluster;
    uint32_t *peers = malloc(c->n * sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "sync");
        return;
    }
    uint32_t count = distro_member_all_without_self(node, peers);
    for (uint32_t i = 0; i < count; i++) {
        distro_tasks_add_key(node, key, peers[i], (int64_t)(c->config.sync_delay_ns / SIM_MS));
    }
    free(peers);
}

static void batch_done(sim_engine *sim, void *ctx, uint64_t w, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    distro_worker *worker = &node->workers[w];
    SIM_ASSERT(worker->busy);
    bool ok = status == SIM_RPC_OK && ((const distro_msg *)resp->payload)->code == 200;
    if (!ok) {
        /* DistroHttpCombinedKeyTaskFailedHandler: each key of the batch is a
         * new task, created now, due after syncRetryDelay. */
        distro_counters *counters = distro_counters_of(node);
        counters->sync_batches_failed++;
        int64_t retry_ms = (int64_t)(node->cluster->config.sync_retry_delay_ns / SIM_MS);
        for (uint32_t i = 0; i < worker->inflight_count; i++) {
            distro_tasks_add_key(node, worker->inflight_keys[i], worker->inflight_target, retry_ms);
            counters->sync_keys_retried++;
        }
    }
    free(worker->inflight_keys);
    worker->inflight_keys = NULL;
    worker->inflight_count = 0;
    distro_worker_done(node, (uint32_t)w);
}

void distro_sync_send_batch(distro_node *node, uint32_t w, distro_exec *exec)
{
    distro_cluster *c = node->cluster;
    /* DistroDataStorageImpl.getDistroData: the current datum of each key
     * still in the store. */
    distro_msg *msg = distro_msg_new(node->cluster, DISTRO_MSG_SYNC_DATUM, exec->keys_count);
    if (msg != NULL) msg->values = calloc((size_t)exec->keys_count + 1, sizeof *msg->values);
    if (msg == NULL || msg->values == NULL) {
        distro_msg_unref(msg);
        free(exec->keys);   /* taken, as on every path */
        exec->keys = NULL;
        distro_fail_nomem(c, "sync batch");
        return;
    }
    uint32_t present = 0;
    for (uint32_t i = 0; i < exec->keys_count; i++) {
        distro_ilist *v = distro_store_get(node, exec->keys[i]);
        if (v == NULL) continue;
        msg->keys[present] = exec->keys[i];
        msg->values[present++] = distro_ilist_retain(v);
    }
    msg->count = present;
    msg->source = node->id;
    /* DistroHttpAgent.syncData: a target no longer in the member list is
     * success, and the data is dropped (checklist 3). */
    if (!distro_member_has(node, exec->target)) {
        distro_counters_of(node)->sync_dropped_not_member++;
        distro_msg_unref(msg);
        free(exec->keys);
        return;
    }
    distro_counters *counters = distro_counters_of(node);
    counters->sync_batches_sent++;
    if (present == 0) counters->sync_empty_batches++;
    distro_worker *worker = &node->workers[w];
    worker->busy = true;
    worker->inflight_keys = exec->keys;
    worker->inflight_count = exec->keys_count;
    worker->inflight_target = exec->target;
    exec->keys = NULL;
    uint64_t bytes = datums_json_bytes(node, msg) / GZIP_RATIO + 20;   /* Content-Encoding: gzip */
    /* Pooled keep-alive connections: a black-holed or paused peer costs the
     * read timeout. */
    distro_call(node, exec->target, DISTRO_MSG_SYNC_DATUM, wire_bytes(bytes), msg, batch_done, w);
}

void distro_sync_apply_datums(distro_node *node, const distro_msg *msg)
{
    /* processData / onSyncDatum: create the Service if it is unknown, then
     * store; no ownership or version check. */
    for (uint32_t i = 0; i < msg->count; i++) {
        if (msg->values[i] == NULL) continue;
        distro_store_apply_remote(node, msg->keys[i], msg->values[i]);
    }
}

void distro_sync_on_datum(distro_node *node, const sim_message *msg, distro_token token)
{
    const distro_msg *m = (const distro_msg *)msg->payload;
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_SYNC_DATUM_RESP, 0);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "sync receiver");
        return;
    }
    if (m->count == 0) {
        resp->code = 400;                 /* "receive empty entity!" */
    } else {
        distro_sync_apply_datums(node, m);
        resp->code = 200;
    }
    distro_reply(node, token, DISTRO_MSG_SYNC_DATUM_RESP, RESP_BYTES, resp);
}

/* NULL when out of memory (the run is failed). */
static distro_msg *datums_reply(distro_node *node, uint16_t type, const uint32_t *keys, uint32_t count)
{
    distro_msg *resp = distro_msg_new(node->cluster, type, count);
    if (resp != NULL) resp->values = calloc((size_t)count + 1, sizeof *resp->values);
    if (resp == NULL || resp->values == NULL) {
        distro_msg_unref(resp);
        distro_fail_nomem(node->cluster, "datums reply");
        return NULL;
    }
    uint32_t present = 0;
    for (uint32_t i = 0; i < count; i++) {
        distro_ilist *v = distro_store_get(node, keys[i]);
        if (v == NULL) continue;        /* unknown keys are omitted */
        resp->keys[present] = keys[i];
        resp->values[present++] = distro_ilist_retain(v);
    }
    resp->count = present;
    resp->code = 200;
    return resp;
}

void distro_sync_on_get_datum(distro_node *node, const sim_message *msg, distro_token token)
{
    const distro_msg *m = (const distro_msg *)msg->payload;
    distro_msg *resp = datums_reply(node, DISTRO_MSG_GET_DATUM_RESP, m->keys, m->count);
    if (resp == NULL) return;
    distro_reply(node, token, DISTRO_MSG_GET_DATUM_RESP, wire_bytes(datums_json_bytes(node, resp)), resp);
}

void distro_sync_on_get_datums(distro_node *node, const sim_message *msg, distro_token token)
{
    (void)msg;
    /* The whole DataStore, in key order. */
    uint32_t *keys = malloc((node->datums_cap + 1) * sizeof *keys);
    if (keys == NULL) {
        distro_fail_nomem(node->cluster, "snapshot");
        return;
    }
    uint32_t count = 0;
    for (uint32_t k = 0; k < node->datums_cap; k++) {
        if (node->datums[k].value != NULL) keys[count++] = k;
    }
    distro_msg *resp = datums_reply(node, DISTRO_MSG_GET_DATUMS_RESP, keys, count);
    free(keys);
    if (resp == NULL) return;
    distro_reply(node, token, DISTRO_MSG_GET_DATUMS_RESP, wire_bytes(datums_json_bytes(node, resp)), resp);
}
