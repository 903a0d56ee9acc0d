/* distro2_sync.c: change sync of Nacos 2.5.1 (NACOS-DISTRO.md sections 1.3
 * and 3.3, with the merge rule, the response codes and the RPC-client gate
 * as corrected in the section 3 notes).
 *
 * Events.  DistroClientDataProcessor.onEvent
 * (N/consistency/ephemeral/distro/v2/DistroClientDataProcessor.java:94-132)
 * acts on a ClientChangedEvent, ClientDisconnectEvent or
 * ClientVerifyFailedEvent only for a client this node is responsible for
 * (a connection client: native, :129-131): CHANGE or DELETE to every
 * member but self, whatever its state (DistroProtocol.sync), after
 * syncDelayMillis (1000 ms); a verify failure is an ADD to that target
 * after 0 ms (:105-113).  Nacos runs onEvent on the ClientEvent publisher's
 * one thread, in publish order: distro2_events.c queues each event and
 * runs the queue after the event that raised it.
 *
 * Delay tasks (NacosDelayTaskExecuteEngine, common/.../task/engine/
 * NacosDelayTaskExecuteEngine.java; DistroDelayTask.java:61-72).  One
 * pending task per (client, target).  A new task merges with a pending one:
 * it keeps its own action and interval and takes the pending task's
 * lastProcessTime, so the deadline is the first enqueue time plus the
 * newest interval (it moves later when a 3000 ms retry replaces a pending
 * 1000 ms CHANGE, earlier when a 0 ms ADD replaces anything).  The tick
 * runs every 100 ms (first at 100 ms) and takes every task with
 * now - lastProcessTime >= interval, in insertion order.
 *
 * Execute (DistroSyncChangeTask / DistroSyncDeleteTask, C/distributed/
 * distro/task/execute/).  A CHANGE or ADD reads the client now: gone means
 * "null data to sync, skip", no send and no retry; otherwise its current
 * publisher and revision go out as CHANGE.  The send is asynchronous, so
 * the execute worker is not held: the task runs at the tick.
 *
 * Transport (DistroClientTransportAgent.syncData, :89-110, the gate at :213-214): a
 * target that is no longer a member is success; a target that is not UP,
 * or whose cluster RPC client is not running, fails without a send; else
 * an async DistroDataRequest with a 3000 ms timeout.  SUCCESS is success;
 * a FAIL response, an ErrorResponse, a timeout or a broken connection is
 * failure, and DistroClientTaskFailedHandler.retry (:40-44) queues the same
 * key, target and operation again after 3000 ms, a failed ADD as CHANGE
 * (the execute task's operation), for as long as the target is a member.
 *
 * Receiver (N/remote/rpc/handler/DistroDataRequestHandler.java:57-60, 91-100,
 * DistroClientDataProcessor.handlerClientSyncData :158-197): ADD/CHANGE
 * creates the client if absent (a replica, revision from the data,
 * lastRenewTime now), brings its publishers in line and sets the revision;
 * no ownership or revision check, the last arrival wins, and an existing
 * client's lastRenewTime is not refreshed.  DELETE removes the client; the
 * receiver does not re-broadcast it because a replica is not native.  The
 * answer is SUCCESS. */
#include "distro2_int.h"

#include <stdlib.h>
#include <string.h>

#define SYNC_BYTES 640u          /* DistroDataRequest with one ClientSyncData, JSON */
#define DELETE_BYTES 180u
#define RESP_BYTES 60u

/* --- the task index ---------------------------------------------------------- */

static uint64_t task_key(uint32_t conn, uint32_t target) { return ((uint64_t)conn << 20) | target; }

static uint32_t task_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (uint32_t)k;
}

/* Index of the slot holding `k`, or of the empty slot where it goes. */
static uint32_t index_find(const distro2_node *v2, uint64_t k)
{
    uint32_t mask = v2->task_index_cap - 1;
    uint32_t i = task_hash(k) & mask;
    while (v2->task_slots[i] != 0 && v2->task_keys[i] != k) i = (i + 1) & mask;   /* bound: load < 1/2 */
    return i;
}

static bool index_grow(distro2_node *v2)
{
    if ((uint64_t)(v2->task_count + 1) * 2 <= v2->task_index_cap) return true;
    uint32_t cap = v2->task_index_cap == 0 ? 256 : v2->task_index_cap * 2;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (keys == NULL || slots == NULL) {
        free(keys);
        free(slots);
        return false;
    }
    free(v2->task_keys);
    free(v2->task_slots);
    v2->task_keys = keys;
    v2->task_slots = slots;
    v2->task_index_cap = cap;
    for (uint32_t s = 0; s < v2->task_count; s++) {
        uint64_t k = task_key(v2->tasks[s].conn, v2->tasks[s].target);
        uint32_t i = index_find(v2, k);
        v2->task_keys[i] = k;
        v2->task_slots[i] = s + 1;
    }
    return true;
}

/* Removes index entry `i` (backward-shift deletion: no tombstones). */
static void index_delete(distro2_node *v2, uint32_t i)
{
    uint32_t mask = v2->task_index_cap - 1;
    v2->task_slots[i] = 0;
    uint32_t j = i;
    for (;;) { /* bound: the cluster of occupied slots after i */
        j = (j + 1) & mask;
        if (v2->task_slots[j] == 0) return;
        uint32_t home = task_hash(v2->task_keys[j]) & mask;
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays) continue;
        v2->task_keys[i] = v2->task_keys[j];
        v2->task_slots[i] = v2->task_slots[j];
        v2->task_slots[j] = 0;
        i = j;
    }
}

/* Removes task `slot`: the last task takes its place (O(1)). */
static void task_remove(distro2_node *v2, uint32_t slot)
{
    const distro2_task *t = &v2->tasks[slot];
    index_delete(v2, index_find(v2, task_key(t->conn, t->target)));
    uint32_t last = v2->task_count - 1;
    if (slot != last) {
        v2->tasks[slot] = v2->tasks[last];
        uint32_t i = index_find(v2, task_key(v2->tasks[slot].conn, v2->tasks[slot].target));
        SIM_ASSERT(v2->task_slots[i] == last + 1);
        v2->task_slots[i] = slot + 1;
    }
    v2->task_count = last;
}

/* NacosDelayTaskExecuteEngine.addTask with DistroDelayTask.merge. */
static void task_add(distro_node *node, uint32_t conn, uint32_t target, uint8_t action, int64_t delay_ms)
{
    distro2_node *v2 = node->v2;
    if (!index_grow(v2) || !SIM_VEC_RESERVE(v2->tasks, v2->task_count, v2->task_cap, 1)) {
        distro_fail_nomem(node->cluster, "distro v2 delay task");
        return;
    }
    int64_t now = distro_now_ms(node);
    uint64_t k = task_key(conn, target);
    uint32_t i = index_find(v2, k);
    if (v2->task_slots[i] != 0) {
        distro2_task *t = &v2->tasks[v2->task_slots[i] - 1];
        /* merge: the new task's action (its createTime is not older) and
         * interval, the pending task's lastProcessTime. */
        t->action = action;
        t->create_ms = now;
        t->interval_ms = delay_ms;
        return;
    }
    v2->tasks[v2->task_count] = (distro2_task){
        .conn = conn, .target = target, .action = action, .create_ms = now, .last_process_ms = now,
        .interval_ms = delay_ms,
    };
    v2->task_keys[i] = k;
    v2->task_slots[i] = ++v2->task_count;
}

uint32_t distro2_tasks_pending(const distro_node *node) { return node->v2 != NULL ? node->v2->task_count : 0; }

/* --- events ------------------------------------------------------------------ */

static void sync_all(distro_node *node, uint32_t conn, uint8_t action)
{
    distro_cluster *c = node->cluster;
    uint32_t *peers = calloc(c->n, sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "distro v2 sync");
        return;
    }
    uint32_t count = distro_member_all_without_self(node, peers);
    int64_t delay_ms = (int64_t)(c->config.v2.sync_delay_ns / SIM_MS);
    for (uint32_t i = 0; i < count; i++) task_add(node, conn, peers[i], action, delay_ms);
    free(peers);
}

/* Run by the ClientEvent publisher's FIFO (distro2_events.c). */
void distro2_process_client_event(distro_node *node, uint32_t conn, bool disconnect, bool native)
{
    /* An IP-port client's events are re-tested with this node's own mapper
     * at processing time (DistroClientDataProcessor.java:131): a receiver
     * that thinks it owns one re-broadcasts what it applied. */
    if (distro2_conn_ipport(node->cluster, conn)) native = distro2_ipport_responsible(node, conn);
    /* isInvalidClient: the event's client object must be one this node is
     * responsible for (a connection client: native).  For a disconnect
     * that is the client just removed. */
    if (!native) return;
    sync_all(node, conn, disconnect ? DISTRO2_DELETE : DISTRO2_CHANGE);
}

void distro2_process_verify_failed(distro_node *node, uint32_t conn, uint32_t target)
{
    const distro2_client *client = distro2_client_get(node, conn);
    if (client == NULL || !distro2_client_responsible(node, conn, client)) return;   /* isInvalidClient */
    task_add(node, conn, target, DISTRO2_ADD, 0);
}

/* --- execute and transport ---------------------------------------------------- */

static void retry(distro_node *node, uint32_t conn, uint32_t target, uint8_t action)
{
    distro_counters *k = distro_counters_of(node);
    k->sync_batches_failed++;
    k->sync_keys_retried++;
    /* A failed ADD goes back as CHANGE: the execute task's operation. */
    uint8_t again = action == DISTRO2_DELETE ? DISTRO2_DELETE : DISTRO2_CHANGE;
    task_add(node, conn, target, again, (int64_t)(node->cluster->config.v2.sync_retry_delay_ns / SIM_MS));
}

/* arg: conn << 24 | action << 20 | target. */
static uint64_t pack(uint32_t conn, uint8_t action, uint32_t target)
{
    return ((uint64_t)conn << 24) | ((uint64_t)action << 20) | target;
}

static void sync_done(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    uint32_t conn = (uint32_t)(arg >> 24);
    uint8_t action = (uint8_t)((arg >> 20) & 0xf);
    uint32_t target = (uint32_t)(arg & 0xfffff);
    bool ok = status == SIM_RPC_OK && resp->payload != NULL &&
              ((const distro_msg *)resp->payload)->code == DISTRO2_CODE_SUCCESS;
    if (!ok) retry(node, conn, target, action);
}

/* DistroClientTransportAgent's checks before a send (the member, its
 * state, its RPC client).  1: send; 0: success without a send; -1: failure. */
static int transport_gate(const distro_node *node, uint32_t target)
{
    if (!distro_member_has(node, target)) return 0;
    if (node->peers[target].state != DISTRO_MEMBER_UP || !distro2_rpc_running(node, target)) return -1;
    return 1;
}

void distro2_sync_failed(distro_node *node, const distro2_task *t) { retry(node, t->conn, t->target, t->action); }

void distro2_sync_execute(distro_node *node, const distro2_task *t, bool ungated)
{
    distro_cluster *c = node->cluster;
    distro_msg *msg = NULL;
    uint32_t bytes = DELETE_BYTES;
    if (t->action == DISTRO2_DELETE) {
        msg = distro_msg_new(c, DISTRO_MSG_V2_SYNC, 0);
        if (msg == NULL) {
            distro_fail_nomem(c, "distro v2 sync");
            return;
        }
    } else {
        const distro2_client *client = distro2_client_get(node, t->conn);
        if (client == NULL) return;   /* "null data to sync, skip": no send, no retry */
        msg = distro_msg_new(c, DISTRO_MSG_V2_SYNC, 0);
        if (msg == NULL) {
            distro_fail_nomem(c, "distro v2 sync");
            return;
        }
        msg->revision = client->revision;
        msg->key = client->key;
        if (client->ipport) {
            /* An IP-port client's publisher carries its healthy flag. */
            msg->flags = malloc(1);
            if (msg->flags == NULL) {
                distro_msg_unref(msg);
                distro_fail_nomem(c, "distro v2 sync");
                return;
            }
            msg->flags[0] = client->healthy;
        }
        bytes = SYNC_BYTES;
    }
    msg->op = t->action;
    msg->client = t->conn;
    msg->source = node->id;
    int gate = ungated ? 1 : transport_gate(node, t->target);
    distro_counters *k = distro_counters_of(node);
    if (gate == 0) {
        k->sync_dropped_not_member++;
        distro_msg_unref(msg);
        return;
    }
    if (gate < 0) {
        distro_msg_unref(msg);
        retry(node, t->conn, t->target, t->action);
        return;
    }
    k->sync_batches_sent++;
    distro_call(node, t->target, DISTRO_MSG_V2_SYNC, bytes, msg, sync_done, pack(t->conn, t->action, t->target));
}

static void tick(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro2_node *v2 = node->v2;
    int64_t now = distro_now_ms(node);
    /* processTasks works on a snapshot of the keys: the due tasks are taken
     * out first, then run, so a task their run adds waits for a later
     * tick.  The order is the task array's (Nacos: its map's). */
    distro2_task *due = NULL;
    uint32_t due_count = 0, due_cap = 0;
    for (uint32_t s = 0; s < v2->task_count;) {
        const distro2_task *t = &v2->tasks[s];
        if (now - t->last_process_ms < t->interval_ms) {
            s++;
            continue;
        }
        if (!SIM_VEC_RESERVE(due, due_count, due_cap, 1)) {
            free(due);
            distro_fail_nomem(node->cluster, "distro v2 tick");
            return;
        }
        due[due_count++] = *t;
        task_remove(v2, s);   /* the last task moved into s: look at s again */
    }
    /* nacos-8099: each task waits for its execute worker (distro2_bugs.c). */
    bool workers = distro2_bug(node->cluster, DISTRO2_BUG_NACOS_8099);
    for (uint32_t i = 0; i < due_count && node->running; i++) {
        if (workers) {
            distro2_workers_submit_sync(node, &due[i]);
        } else {
            distro2_sync_execute(node, &due[i], false);
        }
    }
    free(due);
    distro_timer(node, node->cluster->config.task_tick_ns, DISTRO_KIND_V2_TICK, tick, 0);
}

void distro2_sync_start(distro_node *node)
{
    distro_timer(node, node->cluster->config.task_tick_ns, DISTRO_KIND_V2_TICK, tick, 0);
}

/* --- receiver ---------------------------------------------------------------------- */

void distro2_apply_sync(distro_node *node, uint32_t conn, int64_t revision, uint32_t key, bool healthy)
{
    if (distro2_conn_ipport(node->cluster, conn)) {
        distro2_ipport_apply_sync(node, conn, revision, key, healthy);
        return;
    }
    distro2_client *client = distro2_client_connected(node, conn, false, revision);
    if (client == NULL) return;
    bool changed = client->key != key;
    distro2_client_publish(node, conn, key);
    client = distro2_client_get(node, conn);
    /* nacos-10056: from 2.1.2 to 2.2.x the receiver set the revision only
     * with batch instance data (processBatchInstanceDistroData, which
     * returns early without it, DistroClientDataProcessor.java:191-198,
     * 221 at 2.2.3); a new replica still took it from syncClientConnected.
     * 2.3.0 (#10553) sets it for every sync.  A subscriber's connection
     * publishes nothing, so its sync data carries no BatchInstanceData
     * (:191-198 at 2.2.3); its `sdk` is a reader id, not a harness client. */
    const distro_cluster *c = node->cluster;
    bool batch = !c->conns[conn].subscriber && c->clients[c->conns[conn].sdk].instances > 1;   /* batchRegisterInstance */
    if (!distro2_bug(c, DISTRO2_BUG_NACOS_10056) || batch) client->revision = revision;
    /* addServiceInstance / removeServiceInstance publish ClientChangedEvent
     * on the receiver too (AbstractClient.java:81,95); the processor
     * re-tests responsibility there, which a replica fails. */
    if (changed) distro2_on_client_event(node, conn, false, client->native);
}

void distro2_sync_on_request(distro_node *node, const sim_message *msg, distro_token token)
{
    const distro_msg *m = (const distro_msg *)msg->payload;
    if (m->op == DISTRO2_DELETE) {
        distro2_client_remove(node, m->client);   /* a replica: its disconnect event syncs nothing */
    } else {
        distro2_apply_sync(node, m->client, m->revision, m->key, m->flags == NULL || m->flags[0] != 0);
    }
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_V2_SYNC_RESP, 0);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "distro v2 sync receiver");
        return;
    }
    resp->code = DISTRO2_CODE_SUCCESS;
    distro_reply(node, token, DISTRO_MSG_V2_SYNC_RESP, RESP_BYTES, resp);
}
