/* distro2_bugs.c: the selectable defects of earlier 2.x releases
 * (cluster.bugs, README "Selectable defects", model/NACOS-DISTRO.md
 * section 3.10) that need more than a one-line hook.  With every defect
 * off nothing here runs and the 2.5.1 model is unchanged.
 *
 * nacos-8099 (alibaba/nacos#8099, #7151, #8408; fixed by #8693 in 2.1.1):
 * before the fix, DistroClientTransportAgent's asynchronous syncData and
 * syncVerifyData had no target check at all
 * (naming/.../distro/v2/DistroClientTransportAgent.java:87-99 and :124-138
 * at 2.1.0; the fix added checkTargetServerStatusUnhealthy to both, with
 * ClusterRpcClientProxy.isRunning, :93-102 and :139-148 at 2.1.1).  So a
 * sync or a verify went to RpcClient.asyncRequest whatever the target's
 * state, and asyncRequest, when the client is not running, sleeps
 * min(100, timeout / 3) = 100 ms and tries again, retryTimes + 1 = 4
 * times, before it throws (common/.../remote/client/RpcClient.java:708-745
 * at 2.5.1; 3 tries at 2.1.0, :713-755): it blocks its caller, the
 * execute worker, for 400 ms per request.  A dead or black-holed peer
 * thus costs 400 ms of a worker per CHANGE, DELETE and retry to it (every
 * 3 s, for ever) and per VERIFY item (every 5 s), and the tasks to the
 * healthy peers that hash to the same workers wait behind them: the
 * backlog of the incident, and the leases of healthy nodes that expire
 * when their renewals wait longer than 180 s.  A target that is not UP
 * but whose client is running gets the request (no state check either).
 *
 * So with nacos-8099 on, the change-sync tasks and the verify rounds run
 * on execute workers as in Nacos (DistroExecuteTaskExecuteEngine, a
 * NacosExecuteTaskExecuteEngine: the smallest power of two >= the CPU
 * cores, common/.../task/engine/NacosExecuteTaskExecuteEngine.java:40-45,
 * 70-73; one FIFO queue and one thread per worker, TaskExecuteWorker.java
 * :78-84, 114-128).  A sync task goes to the worker of its DistroKey's
 * hash (Objects.hash(resourceKey, resourceType, targetServer),
 * DistroDelayTaskProcessor); a verify round to the worker of
 * "address" + "Nacos:Naming:v2:ClientData"
 * (core/.../distro/task/verify/DistroVerifyTimedTask.java:97-98 at
 * 2.1.0), and runs its items one after the other
 * (DistroVerifyExecuteTask.java:52-63).  The client id's string hash is
 * stood for by the hash of the connection number's decimal string: this
 * model has no connection id strings.  A task that does not block takes
 * no time, so with no peer down the runs are the faithful model's.  The
 * queues are not bounded (Nacos bounds each at 32768 and then blocks the
 * submitter, TaskExecuteWorker.java:41, 78-84), as the 1.4.2 model's are
 * not: a dead peer's backlog grows by a verify round every 5 s. */
#include "distro2_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distro_hash.h"

#define RESOURCE_TYPE "Nacos:Naming:v2:ClientData"   /* DistroClientDataProcessor.TYPE */
#define WAIT_RECONNECT_MS 100                        /* min(100, 3000 / 3), RpcClient.java:726 */

enum { JOB_SYNC, JOB_VERIFY };

/* One execute task on a worker's queue. */
typedef struct bug_job {
    uint8_t kind;
    distro2_task task;           /* JOB_SYNC */
    uint32_t target;             /* JOB_VERIFY: the round's peer */
    uint32_t *conns;             /* JOB_VERIFY: owned; the clients and their revisions of the round */
    int64_t *revs;
    uint32_t count;
    uint32_t next;               /* the first item not yet sent or failed */
} bug_job;

typedef struct bug_worker {
    bug_job *jobs;               /* FIFO: jobs[head .. head + len) */
    uint32_t head;
    uint32_t len;
    uint32_t cap;
    uint32_t attempts;           /* failed tries of the current request */
    bool blocked;                /* the front job sleeps in asyncRequest */
} bug_worker;

struct distro2_workers {
    bug_worker *w;
    uint32_t count;
};

bool distro2_bug(const distro_cluster *c, distro2_bug_id id) { return distro2_bug_on(&c->config, id); }

void distro2_workers_free(distro2_workers *ws)
{
    if (ws == NULL) return;
    for (uint32_t i = 0; i < ws->count; i++) {
        bug_worker *w = &ws->w[i];
        for (uint32_t j = 0; j < w->len; j++) {
            free(w->jobs[w->head + j].conns);
            free(w->jobs[w->head + j].revs);
        }
        free(w->jobs);
    }
    free(ws->w);
    free(ws);
}

static distro2_workers *workers_of(distro_node *node)
{
    distro2_node *v2 = node->v2;
    if (v2->workers != NULL) return v2->workers;
    uint32_t n = distro_config_execute_workers(&node->cluster->config);
    distro2_workers *ws = calloc(1, sizeof *ws);
    bug_worker *w = calloc(n, sizeof *w);
    if (ws == NULL || w == NULL) {
        free(ws);
        free(w);
        return NULL;
    }
    ws->w = w;
    ws->count = n;
    v2->workers = ws;
    return ws;
}

/* Java's String.hashCode of a + b, from the hashes of each part. */
static int32_t java_concat_hash(int32_t ha, const char *b)
{
    uint32_t h = (uint32_t)ha;
    for (const char *p = b; *p != '\0'; p++) h = h * 31u + (uint8_t)*p;   /* ASCII */
    return (int32_t)h;
}

/* Objects.hash(resourceKey, resourceType, targetServer) of a sync task. */
static int32_t distro_key_hash(const distro_cluster *c, uint32_t conn, uint32_t target)
{
    char id[16];
    snprintf(id, sizeof id, "%u", (unsigned)conn);
    uint32_t h = 1;
    h = 31u * h + (uint32_t)distro_java_string_hash(id);
    h = 31u * h + (uint32_t)distro_java_string_hash(RESOURCE_TYPE);
    h = 31u * h + (uint32_t)c->address_java_hash[target];
    return (int32_t)h;
}

/* NacosExecuteTaskExecuteEngine.getWorker: (hash & MAX_VALUE) % count. */
static uint32_t worker_index(const distro2_workers *ws, int32_t hash)
{
    return ((uint32_t)hash & 0x7fffffffu) % ws->count;
}

static void worker_run(distro_node *node, uint32_t wi);

static void wake(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running || node->v2 == NULL || node->v2->workers == NULL) return;
    bug_worker *w = &node->v2->workers->w[arg];
    w->blocked = false;
    worker_run(node, (uint32_t)arg);
}

/* asyncRequest's loop when the client is not running: one more failed
 * try, then 100 ms asleep.  True while tries remain; false when the
 * request has failed (retryTimes + 1 tries, each followed by its sleep). */
static bool block(distro_node *node, uint32_t wi)
{
    bug_worker *w = &node->v2->workers->w[wi];
    if (w->attempts > node->cluster->config.v2.rpc_retry_times) {
        w->attempts = 0;
        return false;
    }
    w->attempts++;
    w->blocked = true;
    distro_timer(node, WAIT_RECONNECT_MS * SIM_MS, DISTRO_KIND_V2_TICK, wake, wi);
    return true;
}

/* Runs the front job one step: true when it is done, false when it blocks. */
static bool job_step(distro_node *node, uint32_t wi, bug_job *job)
{
    if (job->kind == JOB_SYNC) {
        const distro2_task *t = &job->task;
        /* isNoExistTarget, and getDistroData's "null data to sync, skip",
         * come before the send: the 2.5.1 path does both. */
        if (!distro_member_has(node, t->target) ||
            (t->action != DISTRO2_DELETE && distro2_client_get(node, t->conn) == NULL)) {
            distro2_sync_execute(node, t, false);
            return true;
        }
        if (distro2_rpc_running(node, t->target)) {
            distro2_sync_execute(node, t, true);   /* no state check: sent even to a peer not UP */
            return true;
        }
        if (block(node, wi)) return false;
        distro2_sync_failed(node, t);              /* callback.onFailed: the retry in 3 s */
        return true;
    }
    while (job->next < job->count) {
        if (!distro_member_has(node, job->target)) return true;   /* isNoExistTarget: onSuccess */
        if (distro2_rpc_running(node, job->target)) {
            /* This item and the rest go out back to back, unblocked. */
            distro2_verify_send(node, job->target, job->conns + job->next, job->revs + job->next,
                                job->count - job->next);
            return true;
        }
        if (block(node, wi)) return false;
        job->next++;   /* the item failed: DistroVerifyCallback.onFailed, metrics only */
    }
    return true;
}

static void worker_run(distro_node *node, uint32_t wi)
{
    bug_worker *w = &node->v2->workers->w[wi];
    while (w->len > 0 && !w->blocked && node->running) { /* bound: the queue */
        bug_job *job = &w->jobs[w->head];
        if (!job_step(node, wi, job)) return;
        if (node->v2 == NULL || node->v2->workers == NULL) return;
        w = &node->v2->workers->w[wi];   /* the step may have queued more (a retry goes to the delay engine) */
        job = &w->jobs[w->head];
        free(job->conns);
        free(job->revs);
        w->head++;
        w->len--;
        if (w->len == 0) w->head = 0;
    }
}

static void submit(distro_node *node, uint32_t wi, const bug_job *job)
{
    bug_worker *w = &node->v2->workers->w[wi];
    if (w->head > 0 && w->head + w->len == w->cap) {   /* compact before growing */
        memmove(w->jobs, w->jobs + w->head, (size_t)w->len * sizeof *w->jobs);
        w->head = 0;
    }
    uint32_t end = w->head + w->len;
    if (!SIM_VEC_RESERVE(w->jobs, end, w->cap, 1)) {
        free(job->conns);
        free(job->revs);
        distro_fail_nomem(node->cluster, "distro v2 execute worker");
        return;
    }
    w->jobs[end] = *job;
    w->len++;
    distro_counters *k = distro_counters_of(node);
    if (w->len > k->worker_backlog_max) k->worker_backlog_max = w->len;
    if (!w->blocked && w->len == 1) worker_run(node, wi);
}

void distro2_workers_submit_sync(distro_node *node, const distro2_task *t)
{
    distro2_workers *ws = workers_of(node);
    if (ws == NULL) {
        distro_fail_nomem(node->cluster, "distro v2 execute worker");
        return;
    }
    bug_job job = { .kind = JOB_SYNC, .task = *t };
    submit(node, worker_index(ws, distro_key_hash(node->cluster, t->conn, t->target)), &job);
}

void distro2_workers_submit_verify(distro_node *node, uint32_t target, const uint32_t *conns, const int64_t *revs,
                                   uint32_t count)
{
    distro2_workers *ws = workers_of(node);
    bug_job job = { .kind = JOB_VERIFY, .target = target, .count = count };
    job.conns = malloc((size_t)count * sizeof *job.conns);
    job.revs = malloc((size_t)count * sizeof *job.revs);
    if (ws == NULL || job.conns == NULL || job.revs == NULL) {
        free(job.conns);
        free(job.revs);
        distro_fail_nomem(node->cluster, "distro v2 execute worker");
        return;
    }
    memcpy(job.conns, conns, (size_t)count * sizeof *conns);
    memcpy(job.revs, revs, (size_t)count * sizeof *revs);
    const distro_cluster *c = node->cluster;
    submit(node, worker_index(ws, java_concat_hash(c->address_java_hash[target], RESOURCE_TYPE)), &job);
}
