/* distro2_push.c: the server side of 2.x subscribers in Nacos 2.5.1:
 * NamingSubscriberServiceV2Impl, PushDelayTaskExecuteEngine, PushExecuteTask
 * and the gRPC push (NACOS-DISTRO.md section 3.12).  Nacos paths: N/ =
 * naming/src/main/java/com/alibaba/nacos/naming/, at tag 2.5.1.
 *
 * Subscriber index.  SubscribeServiceRequestHandler (N/remote/rpc/handler/
 * SubscribeServiceRequestHandler.java:71-94) adds a subscriber to the
 * connection's client, which ClientServiceIndexesManager indexes
 * (N/core/v2/index/ClientServiceIndexesManager.java:143-149): only the first
 * subscription of a (service, client) raises ServiceSubscribedEvent.
 * Subscribers are never replicated (a replica's ClientSyncData carries
 * publishers only), so only the node holding the connection knows them.  A
 * released client leaves the index (:98-103).
 *
 * Events.  NamingSubscriberServiceV2Impl.onEvent (N/push/v2/
 * NamingSubscriberServiceV2Impl.java:115-129): a ServiceChangedEvent, which
 * ClientServiceIndexesManager raises whenever a publisher index is added or
 * removed (:130-140, on every node, native or replica client alike), adds
 * a PushDelayTask to all subscribers of the service; a ServiceSubscribedEvent
 * one to that client only.  Both with PushConfig.pushTaskDelay, 500 ms
 * (N/constants/PushConstants.java:31).
 *
 * Merge.  One task per service.  PushDelayTask.merge (N/push/v2/task/
 * PushDelayTask.java:57-69): the new task absorbs the pending one; it
 * pushes to all if either did, else to the union of the targets, and keeps
 * the earlier lastProcessTime, with its own interval: the first change of a
 * burst sets the deadline and the later ones ride along.
 *
 * Engine.  NacosDelayTaskExecuteEngine (common/.../task/engine/
 * NacosDelayTaskExecuteEngine.java:50-59, 157-170): every 100 ms (first
 * 100 ms after start) it takes each task with now - lastProcessTime >=
 * interval.  PushExecuteTask (N/push/v2/task/PushExecuteTask.java:57-79)
 * then builds the push data once, from the node's list at that instant
 * (ServiceStorage.getPushData), and sends it to each target whose client
 * is still on this node and still subscribes (:59-67).  Here the tick
 * runs on that 100 ms grid from the node's start, and only while tasks
 * are pending: an idle engine costs no event.  Tasks run in service-key
 * order (Nacos: its map's).
 *
 * Push.  PushExecutorRpcImpl / RpcPushService.pushWithCallback
 * (core/.../remote/RpcPushService.java:50-88): a NotifySubscriberRequest
 * down the subscriber's connection, the ack back; a failed push
 * (timeout 5000 ms, PushConstants.java:38) queues a PushDelayTask to that
 * client after 1000 ms (PushExecuteTask.java:159-160).  The client path
 * here is lossless and a subscriber's connection closes only with its
 * server, whose pending callbacks go with it, so every push that is sent
 * arrives and is acked: the retry never fires and is not modelled. */
#include "distro2_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSH_TASK_DELAY_MS 500           /* PushConstants.DEFAULT_PUSH_TASK_DELAY, PushConstants.java:31 */
#define PUSH_ENGINE_TICK_NS (100 * SIM_MS)   /* NacosDelayTaskExecuteEngine's processInterval, :50-52 */

typedef struct push_task {
    bool pending;
    bool to_all;
    uint32_t *targets;           /* connection ids, first-added order; when !to_all */
    uint32_t targets_len, targets_cap;
    int64_t last_process_ms;
    int64_t interval_ms;
} push_task;

struct distro2_push {
    uint32_t **subs;             /* per service key: subscribing connections, subscription order */
    uint32_t *subs_len;
    uint32_t *subs_cap;
    push_task *tasks;            /* per service key */
    uint32_t keys_cap;
    uint32_t pending;            /* tasks pending */
    bool tick_scheduled;
};

static struct distro2_push *push_of(distro_node *node, uint32_t key)
{
    distro2_node *v2 = node->v2;
    if (v2->push == NULL && (v2->push = calloc(1, sizeof *v2->push)) == NULL) return NULL;
    struct distro2_push *p = v2->push;
    if (key < p->keys_cap) return p;
    uint32_t cap = p->keys_cap == 0 ? 16 : p->keys_cap;
    while (cap <= key) cap *= 2;
    uint32_t **subs = realloc(p->subs, (size_t)cap * sizeof *subs);
    if (subs == NULL) return NULL;
    p->subs = subs;
    uint32_t *len = realloc(p->subs_len, (size_t)cap * sizeof *len);
    if (len == NULL) return NULL;
    p->subs_len = len;
    uint32_t *scap = realloc(p->subs_cap, (size_t)cap * sizeof *scap);
    if (scap == NULL) return NULL;
    p->subs_cap = scap;
    push_task *tasks = realloc(p->tasks, (size_t)cap * sizeof *tasks);
    if (tasks == NULL) return NULL;
    p->tasks = tasks;
    for (uint32_t k = p->keys_cap; k < cap; k++) {
        subs[k] = NULL;
        len[k] = scap[k] = 0;
        memset(&tasks[k], 0, sizeof tasks[k]);
    }
    p->keys_cap = cap;
    return p;
}

static bool subscribes(const struct distro2_push *p, uint32_t key, uint32_t conn)
{
    for (uint32_t i = 0; key < p->keys_cap && i < p->subs_len[key]; i++) {
        if (p->subs[key][i] == conn) return true;
    }
    return false;
}

/* --- the engine ---------------------------------------------------------------- */

static void push_tick(sim_engine *sim, void *ctx, uint64_t arg);

static void schedule_tick(distro_node *node, struct distro2_push *p)
{
    if (p->tick_scheduled) return;
    p->tick_scheduled = true;
    /* The next point of the 100 ms grid from the node's start, strictly after now. */
    sim_time_ns since = sim_now(node->cluster->sim) - node->v2->started_ns;
    distro_timer(node, PUSH_ENGINE_TICK_NS - since % PUSH_ENGINE_TICK_NS, DISTRO_KIND_PUSH, push_tick, 0);
}

/* PushDelayTaskExecuteEngine.addTask with a new PushDelayTask(service,
 * 500 ms[, target]) merged into the pending one (PushDelayTask.merge). */
static void add_task(distro_node *node, uint32_t key, uint32_t target)
{
    struct distro2_push *p = push_of(node, key);
    if (p == NULL) {
        distro_fail_nomem(node->cluster, "PushDelayTask");
        return;
    }
    push_task *t = &p->tasks[key];
    int64_t now = distro_now_ms(node);
    bool to_all = target == DISTRO_NONE;
    if (!t->pending) {
        t->pending = true;
        t->to_all = to_all;
        t->targets_len = 0;
        t->last_process_ms = now;
        p->pending++;
    } else {
        t->to_all = t->to_all || to_all;
        if (now < t->last_process_ms) t->last_process_ms = now;   /* min(lastProcessTime) */
    }
    t->interval_ms = PUSH_TASK_DELAY_MS;
    if (t->to_all) {
        t->targets_len = 0;
    } else {
        bool known = false;
        for (uint32_t i = 0; i < t->targets_len && !known; i++) known = t->targets[i] == target;
        if (!known) {
            if (!SIM_VEC_RESERVE(t->targets, t->targets_len, t->targets_cap, 1)) {
                distro_fail_nomem(node->cluster, "PushDelayTask");
                return;
            }
            t->targets[t->targets_len++] = target;
        }
    }
    schedule_tick(node, p);
}

/* PushExecuteTask.run: the push data once, then each target still here. */
static void execute(distro_node *node, struct distro2_push *p, uint32_t key)
{
    push_task *t = &p->tasks[key];
    uint32_t count = t->to_all ? p->subs_len[key] : t->targets_len;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t conn = t->to_all ? p->subs[key][i] : t->targets[i];
        /* getClient(each) == null: disconnected; getSubscriber == null: skip. */
        if (distro2_client_get(node, conn) == NULL || !subscribes(p, key, conn)) continue;
        distro_reads_grpc_push(node, node->cluster->conns[conn].sdk, conn);
    }
}

static void push_tick(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    struct distro2_push *p = node->v2->push;
    SIM_ASSERT(p != NULL && p->tick_scheduled);
    p->tick_scheduled = false;
    int64_t now = distro_now_ms(node);
    for (uint32_t key = 0; key < p->keys_cap; key++) {
        push_task *t = &p->tasks[key];
        if (!t->pending || now - t->last_process_ms < t->interval_ms) continue;   /* shouldProcess */
        t->pending = false;     /* removeTask, then process */
        p->pending--;
        execute(node, p, key);
    }
    if (p->pending > 0) schedule_tick(node, p);
}

/* --- events -------------------------------------------------------------------- */

void distro2_push_service_changed(distro_node *node, uint32_t key)
{
    const distro_reads *r = node->cluster->reads;
    /* Without a 2.x subscriber in the run no push has a target: the task
     * (and its tick) would change nothing, so none is made. */
    if (r == NULL || r->grpc_readers == 0 || node->v2 == NULL) return;
    add_task(node, key, DISTRO_NONE);
}

void distro2_push_subscribe(distro_node *node, uint32_t conn, uint32_t key)
{
    struct distro2_push *p = push_of(node, key);
    if (p == NULL) {
        distro_fail_nomem(node->cluster, "subscribeService");
        return;
    }
    if (subscribes(p, key, conn)) return;   /* Fix #5404: only a first subscription notifies */
    if (!SIM_VEC_RESERVE(p->subs[key], p->subs_len[key], p->subs_cap[key], 1)) {
        distro_fail_nomem(node->cluster, "subscribeService");
        return;
    }
    p->subs[key][p->subs_len[key]++] = conn;
    add_task(node, key, conn);   /* ServiceSubscribedEvent */
}

void distro2_push_client_removed(distro_node *node, uint32_t conn)
{
    struct distro2_push *p = node->v2 != NULL ? node->v2->push : NULL;
    if (p == NULL) return;
    for (uint32_t key = 0; key < p->keys_cap; key++) {
        uint32_t *list = p->subs[key];
        for (uint32_t i = 0; i < p->subs_len[key]; i++) {
            if (list[i] != conn) continue;
            memmove(&list[i], &list[i + 1], (size_t)(p->subs_len[key] - i - 1) * sizeof *list);
            p->subs_len[key]--;
            break;
        }
    }
}

bool distro2_push_consistent(const distro_node *node, char *why, size_t why_len)
{
    const struct distro2_push *p = node->v2->push;
    if (p == NULL) return true;
    const distro_cluster *c = node->cluster;
    uint32_t pending = 0;
    for (uint32_t key = 0; key < p->keys_cap; key++) {
        pending += p->tasks[key].pending;
        for (uint32_t i = 0; i < p->subs_len[key]; i++) {
            uint32_t conn = p->subs[key][i];
            const distro2_client *cl = conn < node->v2->clients_cap ? &node->v2->clients[conn] : NULL;
            bool ok = cl != NULL && cl->present && cl->native && conn < c->conn_count && c->conns[conn].subscriber;
            for (uint32_t j = 0; ok && j < i; j++) ok = p->subs[key][j] != conn;
            if (!ok) {
                (void)snprintf(why, why_len, "key %u lists subscriber %u, not a native subscriber connection here "
                               "(or twice)", key, conn);
                return false;
            }
        }
    }
    if (pending != p->pending || (pending > 0 && !p->tick_scheduled)) {
        (void)snprintf(why, why_len, "%u tasks pending, count %u, tick %s", pending, p->pending,
                       p->tick_scheduled ? "scheduled" : "not scheduled");
        return false;
    }
    return true;
}

uint32_t distro2_push_tasks_pending(const distro_node *node)
{
    return node->v2 != NULL && node->v2->push != NULL ? node->v2->push->pending : 0;
}

void distro2_push_free(distro2_node *v2)
{
    struct distro2_push *p = v2->push;
    if (p == NULL) return;
    for (uint32_t k = 0; k < p->keys_cap; k++) {
        free(p->subs[k]);
        free(p->tasks[k].targets);
    }
    free(p->subs);
    free(p->subs_len);
    free(p->subs_cap);
    free(p->tasks);
    free(p);
    v2->push = NULL;
}
