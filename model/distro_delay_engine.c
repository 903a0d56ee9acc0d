/* distro_delay_engine.c: NacosDelayTaskExecuteEngine and the execute
 * workers of NacosExecuteTaskExecuteEngine (NACOS-DISTRO.md sections 1.3,
 * 1.4), as DistroTaskEngineHolder wires them for the v1 iplist type.
 *
 * Delay tasks live in a map pendingKey -> task.  A task is due when
 * now - lastProcessTime >= interval.  Adding a task for a key that has one
 * merges them (DistroDelayTask.merge): the new task keeps the old
 * lastProcessTime, so the first deadline wins and nothing debounces; the new
 * task's interval applies.  A combined batch task takes the union of keys
 * and becomes due at once when it reaches batchSyncKeyCount, which also
 * bumps the node-wide batch sequence.
 *
 * The tick runs every 100 ms (fixed delay, first at 100 ms) over a snapshot
 * of the pending keys in slot order: Nacos walks a ConcurrentHashMap there,
 * and any fixed order is faithful (section 8.3).
 *
 * Execute tasks go to worker (hash(tag) & 0x7fffffff) mod W, each a FIFO
 * run by one thread; W is the smallest power of two >= the configured CPU
 * cores.  Adding a key to a batch is instantaneous; sending a batch is a
 * synchronous HTTP PUT that holds its worker until the response or the
 * timeout, and everything queued behind waits (W10).
 *
 * A batch's tag is a DistroHttpCombinedKey, whose hash covers its key list
 * as well as (sequence name, type, target).  The list is copied from the
 * batch task's HashSet, so its order is the HashSet's iteration order:
 * bucket by bucket ((h ^ h >>> 16) & (capacity - 1), capacity 16 doubled
 * while size > 3/4 of it), and inside a bucket the most recently added key
 * first (each merge builds a new set: the new key, then the old set's keys
 * in their order).  `keys` is kept in that recency order: a key added again
 * moves to the end.  Successive batches to one target thus land on varying
 * workers, and one unreachable peer can hold every worker in turn.  (A
 * bucket of 9 or more keys, which Java would turn into a tree, is ordered
 * as a list here; with at most 3/4 load that takes a very unlucky key
 * set.) */
#include "distro_int.h"

#include <stdlib.h>
#include <string.h>

#define IPLIST_TYPE "com.alibaba.nacos.naming.iplist."
#define COMBINED_TYPE "DistroHttpCombinedKeyDelayTask"

static uint64_t task_id(uint8_t kind, uint32_t key, uint32_t target)
{
    return distro_task_id(kind, key, target);
}

static uint32_t slot_hash(uint64_t id, uint32_t cap)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdull;
    id ^= id >> 33;
    return (uint32_t)id & (cap - 1);
}

/* Lookup only (never iterated): id + 1 in task_index, 0 = empty.  False
 * when out of memory; then the old index stays. */
static bool index_rebuild(distro_node *node, uint32_t cap)
{
    uint64_t *index = calloc(cap, sizeof *index);
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (index == NULL || slot == NULL) {
        free(index);
        free(slot);
        return false;
    }
    free(node->task_index);
    free(node->task_slot);
    node->task_index = index;
    node->task_slot = slot;
    node->task_index_cap = cap;
    for (uint32_t s = 0; s < node->tasks_cap; s++) {
        const distro_task *t = &node->tasks[s];
        if (!t->live) continue;
        uint64_t id = task_id(t->kind, t->key, t->target) + 1;
        uint32_t i = slot_hash(id, cap);
        while (node->task_index[i] != 0) i = (i + 1) & (cap - 1);
        node->task_index[i] = id;
        node->task_slot[i] = s;
    }
    return true;
}

static uint32_t index_find(const distro_node *node, uint64_t id)
{
    if (node->task_index_cap == 0) return DISTRO_NONE;
    uint32_t i = slot_hash(id + 1, node->task_index_cap);
    while (node->task_index[i] != 0) {
        if (node->task_index[i] == id + 1) return i;
        i = (i + 1) & (node->task_index_cap - 1);
    }
    return DISTRO_NONE;
}

/* Removes entry i with backward-shift deletion (no tombstones). */
static void index_erase(distro_node *node, uint32_t i)
{
    uint32_t mask = node->task_index_cap - 1;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (node->task_index[j] == 0) break;
        uint32_t home = slot_hash(node->task_index[j], node->task_index_cap);
        bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (between) continue;
        node->task_index[i] = node->task_index[j];
        node->task_slot[i] = node->task_slot[j];
        i = j;
    }
    node->task_index[i] = 0;
}

/* A free task slot; DISTRO_NONE when out of memory (the table unchanged). */
static uint32_t task_alloc(distro_node *node)
{
    if (node->tasks_free == DISTRO_NONE) {
        uint32_t old = node->tasks_cap;
        if (old > UINT32_MAX / 4) return DISTRO_NONE;   /* DISTRO_NONE must stay out of reach */
        uint32_t cap = old == 0 ? 64 : old * 2;
        distro_task *tasks = realloc(node->tasks, (size_t)cap * sizeof *tasks);
        if (tasks == NULL) return DISTRO_NONE;
        memset(tasks + old, 0, (cap - old) * sizeof *tasks);
        node->tasks = tasks;
        node->tasks_cap = cap;
        for (uint32_t s = cap; s-- > old;) {   /* lowest slot first */
            tasks[s].next_free = node->tasks_free;
            node->tasks_free = s;
        }
    }
    uint32_t s = node->tasks_free;
    node->tasks_free = node->tasks[s].next_free;
    return s;
}

static void task_free(distro_node *node, uint32_t s)
{
    distro_task *t = &node->tasks[s];
    uint32_t i = index_find(node, task_id(t->kind, t->key, t->target));
    SIM_ASSERT(i != DISTRO_NONE);
    index_erase(node, i);
    free(t->keys);
    free(t->key_set);
    memset(t, 0, sizeof *t);
    t->next_free = node->tasks_free;
    node->tasks_free = s;
    node->tasks_live--;
}

/* The new task's slot; DISTRO_NONE when out of memory (no task added). */
static uint32_t task_insert(distro_node *node, const distro_task *task)
{
    if ((node->tasks_live + 1) * 2 > node->task_index_cap) {
        /* Rebuilt from the live tasks before the new one is added to them. */
        if (!index_rebuild(node, node->task_index_cap == 0 ? 128 : node->task_index_cap * 2)) return DISTRO_NONE;
    }
    uint32_t s = task_alloc(node);
    if (s == DISTRO_NONE) return DISTRO_NONE;
    node->tasks[s] = *task;
    node->tasks[s].live = true;
    node->tasks_live++;
    uint64_t id = task_id(task->kind, task->key, task->target) + 1;
    uint32_t i = slot_hash(id, node->task_index_cap);
    while (node->task_index[i] != 0) i = (i + 1) & (node->task_index_cap - 1);
    node->task_index[i] = id;
    node->task_slot[i] = s;
    return s;
}

static distro_task *task_find(distro_node *node, uint8_t kind, uint32_t key, uint32_t target)
{
    uint32_t i = index_find(node, task_id(kind, key, target));
    return i == DISTRO_NONE ? NULL : &node->tasks[node->task_slot[i]];
}

static bool due_before(const distro_due *a, const distro_due *b)
{
    if (a->due_ms != b->due_ms) return a->due_ms < b->due_ms;
    return a->slot < b->slot;
}

/* Notes a task's (new) due time.  O(log tasks). */
static void due_push(distro_node *node, uint32_t slot)
{
    const distro_task *t = &node->tasks[slot];
    if (!SIM_VEC_RESERVE(node->due, node->due_len, node->due_cap, 1)) {
        distro_fail_nomem(node->cluster, "due_push");
        return;
    }
    distro_due e = { .due_ms = t->last_process_ms + t->interval_ms, .id = task_id(t->kind, t->key, t->target),
                     .slot = slot };
    uint32_t i = node->due_len++;
    while (i > 0 && due_before(&e, &node->due[(i - 1) / 2])) {
        node->due[i] = node->due[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    node->due[i] = e;
}

static distro_due due_pop(distro_node *node)
{
    distro_due top = node->due[0];
    distro_due last = node->due[--node->due_len];
    uint32_t n = node->due_len, i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && due_before(&node->due[c + 1], &node->due[c])) c++;
        if (!due_before(&node->due[c], &last)) break;
        node->due[i] = node->due[c];
        i = c;
    }
    if (n > 0) node->due[i] = last;
    return top;
}

static uint32_t task_slot_of(const distro_node *node, const distro_task *t)
{
    return (uint32_t)(t - node->tasks);
}

void distro_tasks_add_key(distro_node *node, uint32_t key, uint32_t target, int64_t delay_ms)
{
    /* DistroDelayTask(key, CHANGE, delay); v1 naming only ever uses CHANGE,
     * so the action half of merge() never fires here. */
    int64_t now = distro_now_ms(node);
    distro_task *old = task_find(node, DISTRO_TASK_KEY, key, target);
    if (old != NULL) {
        old->create_ms = now;               /* the new object replaces the old one */
        old->interval_ms = delay_ms;        /* ... with its own interval */
        due_push(node, task_slot_of(node, old));   /* ... and the old lastProcessTime */
        return;
    }
    distro_task t = { .kind = DISTRO_TASK_KEY, .key = key, .target = target, .create_ms = now,
                      .last_process_ms = now, .interval_ms = delay_ms };
    uint32_t slot = task_insert(node, &t);
    if (slot == DISTRO_NONE) {
        distro_fail_nomem(node->cluster, "add task");
        return;
    }
    due_push(node, slot);
}

/* Makes room in the batch's dedupe set for one more key; false when out of
 * memory (then the set is unchanged). */
static bool batch_set_reserve(distro_task *t)
{
    if ((t->keys_count + 1) * 2 > t->key_set_cap) {
        uint32_t cap = t->key_set_cap == 0 ? 16 : t->key_set_cap * 2;
        uint32_t *set = calloc(cap, sizeof *set);
        if (set == NULL) return false;
        for (uint32_t i = 0; i < t->keys_count; i++) {
            uint32_t h = (t->keys[i] * 2654435761u) & (cap - 1);
            while (set[h] != 0) h = (h + 1) & (cap - 1);
            set[h] = t->keys[i] + 1;
        }
        free(t->key_set);
        t->key_set = set;
        t->key_set_cap = cap;
    }
    return true;
}

/* Adds `key` to the batch's dedupe set (room reserved by batch_set_reserve);
 * false when it was there.  O(1). */
static bool batch_set_add(distro_task *t, uint32_t key)
{
    uint32_t h = (key * 2654435761u) & (t->key_set_cap - 1);
    while (t->key_set[h] != 0) {
        if (t->key_set[h] == key + 1) return false;
        h = (h + 1) & (t->key_set_cap - 1);
    }
    t->key_set[h] = key + 1;
    return true;
}

void distro_sync_add_to_batch(distro_node *node, uint32_t key, uint32_t target)
{
    /* DistroHttpCombinedKeyExecuteTask: a one-key combined task under the
     * current sequence, merged into the pending one (union of keys). */
    const distro_config *cfg = &node->cluster->config;
    int64_t now = distro_now_ms(node);
    distro_task *t = task_find(node, DISTRO_TASK_COMBINED, node->combined_seq, target);
    if (t == NULL) {
        distro_task fresh = { .kind = DISTRO_TASK_COMBINED, .key = node->combined_seq, .target = target,
                              .create_ms = now, .last_process_ms = now,
                              .interval_ms = (int64_t)(cfg->sync_batch_delay_ns / SIM_MS) };
        uint32_t slot = task_insert(node, &fresh);
        if (slot == DISTRO_NONE) {
            distro_fail_nomem(node->cluster, "add to batch");
            return;
        }
        due_push(node, slot);
        t = &node->tasks[slot];
    } else {
        t->create_ms = now;
    }
    /* Room first, so a failure leaves the set and the key list agreeing. */
    if (!SIM_VEC_RESERVE(t->keys, t->keys_count, t->keys_cap, 1) || !batch_set_reserve(t)) {
        distro_fail_nomem(node->cluster, "add to batch");
        return;
    }
    if (batch_set_add(t, key)) {
        t->keys[t->keys_count++] = key;
    } else {
        /* Added again: the newest key of the merged HashSet, first in its
         * bucket (see the header comment).  O(batch). */
        uint32_t i = t->keys_count;
        while (i > 0 && t->keys[i - 1] != key) i--;
        if (i > 0 && i < t->keys_count) {
            memmove(&t->keys[i - 1], &t->keys[i], (t->keys_count - i) * sizeof *t->keys);
            t->keys[t->keys_count - 1] = key;
        }
    }
    if (t->keys_count >= cfg->batch_sync_key_count) {
        node->combined_seq++;            /* later keys start a new batch */
        t->last_process_ms = 0;          /* due at the next tick */
        due_push(node, task_slot_of(node, t));
    }
}

/* --- Execute workers -------------------------------------------------------------- */

/* java.util.Objects.hash(a, b, c) from the three String.hashCode values:
 * a 31-fold starting at 1.  The hashes of key names and addresses are
 * cached in the cluster. */
static int32_t objects_hash3(int32_t ha, int32_t hb, int32_t hc)
{
    uint32_t h = 1;
    h = 31 * h + (uint32_t)ha;
    h = 31 * h + (uint32_t)hb;
    h = 31 * h + (uint32_t)hc;
    return (int32_t)h;
}

/* String.hashCode("DistroHttpCombinedKey-<seq>") without building it. */
static int32_t combined_key_java_hash(uint32_t seq)
{
    uint32_t h = (uint32_t)distro_java_string_hash("DistroHttpCombinedKey-");
    char digits[12];
    int n = 0;
    do {
        digits[n++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq > 0);
    while (n > 0) h = 31u * h + (uint32_t)(unsigned char)digits[--n];
    return (int32_t)h;
}

/* java.util.Objects.hash(a, b) of two int hashes: a 31-fold from 1. */
static int32_t objects_hash2(int32_t ha, int32_t hb)
{
    uint32_t h = 1;
    h = 31 * h + (uint32_t)ha;
    h = 31 * h + (uint32_t)hb;
    return (int32_t)h;
}

/* The table size of a java.util.HashSet built by adding `size` elements to
 * a new HashSet(): 16, doubled while size exceeds 3/4 of it. */
static uint32_t hashset_capacity(uint32_t size)
{
    uint32_t cap = 16;
    while (size > cap / 4 * 3) cap *= 2;
    return cap;
}

typedef struct set_pos {
    uint32_t bucket;
    uint32_t pos;                /* index in the batch: larger = added later */
} set_pos;

static int set_pos_cmp(const void *a, const void *b)
{
    const set_pos *x = a, *y = b;
    if (x->bucket != y->bucket) return x->bucket < y->bucket ? -1 : 1;
    return x->pos > y->pos ? -1 : x->pos < y->pos;   /* newest first */
}

/* List.hashCode of the batch's key list in HashSet iteration order (the
 * header comment): h = 31 * h + String.hashCode(key), from 1.  False when
 * out of memory (the run has failed). */
static bool combined_keys_java_hash(distro_node *node, const uint32_t *keys, uint32_t count, int32_t *out)
{
    const distro_cluster *c = node->cluster;
    set_pos *order = malloc(((size_t)count + 1) * sizeof *order);
    if (order == NULL) {
        distro_fail_nomem(node->cluster, "combined_keys_java_hash");
        return false;
    }
    uint32_t cap = hashset_capacity(count);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t h = (uint32_t)c->keys[keys[i]].name_java_hash;
        order[i] = (set_pos){ .bucket = (h ^ (h >> 16)) & (cap - 1), .pos = i };
    }
    if (count > 1) qsort(order, count, sizeof *order, set_pos_cmp);
    uint32_t h = 1;
    for (uint32_t i = 0; i < count; i++) h = 31 * h + (uint32_t)c->keys[keys[order[i].pos]].name_java_hash;
    free(order);
    *out = (int32_t)h;
    return true;
}

static void worker_run(distro_node *node, uint32_t w)
{
    distro_worker *worker = &node->workers[w];
    while (!worker->busy && worker->len > 0 && node->running) {
        distro_exec exec = worker->queue[worker->head];
        worker->head = (worker->head + 1) % worker->cap;
        worker->len--;
        if (exec.kind == DISTRO_EXEC_ADD_TO_BATCH) {
            distro_sync_add_to_batch(node, exec.key, exec.target);
        } else {
            distro_sync_send_batch(node, w, &exec);   /* takes exec.keys; may set busy */
        }
    }
}

void distro_worker_submit(distro_node *node, distro_exec exec, uint32_t tag_hash)
{
    if (node->worker_count == 0) {   /* tasks_start ran out of memory: the run has failed */
        free(exec.keys);
        return;
    }
    uint32_t w = (tag_hash & 0x7fffffffu) % node->worker_count;
    distro_worker *worker = &node->workers[w];
    if (worker->len == worker->cap) {
        uint32_t cap = worker->cap == 0 ? 16 : worker->cap * 2;
        distro_exec *queue = cap > worker->cap ? malloc((size_t)cap * sizeof *queue) : NULL;
        if (queue == NULL) {
            free(exec.keys);   /* owned by the dropped work */
            distro_fail_nomem(node->cluster, "worker submit");
            return;
        }
        for (uint32_t i = 0; i < worker->len; i++) queue[i] = worker->queue[(worker->head + i) % worker->cap];
        free(worker->queue);
        worker->queue = queue;
        worker->head = 0;
        worker->cap = cap;
    }
    worker->queue[(worker->head + worker->len) % worker->cap] = exec;
    worker->len++;
    distro_counters *counters = distro_counters_of(node);
    if (worker->len > counters->worker_backlog_max) counters->worker_backlog_max = worker->len;
    worker_run(node, w);
}

void distro_worker_done(distro_node *node, uint32_t w)
{
    SIM_ASSERT(w < node->worker_count);
    node->workers[w].busy = false;
    worker_run(node, w);
}

/* --- The tick ------------------------------------------------------------------------ */

static void process_task(distro_node *node, distro_task *t)
{
    distro_cluster *c = node->cluster;
    int32_t type_hash = distro_java_string_hash(IPLIST_TYPE);
    int32_t target_hash = c->address_java_hash[t->target];
    if (t->kind == DISTRO_TASK_KEY) {
        /* DistroHttpDelayTaskProcessor: an execute task that adds the key to
         * the current batch, on the worker of the key's DistroKey. */
        distro_exec exec = { .kind = DISTRO_EXEC_ADD_TO_BATCH, .key = t->key, .target = t->target };
        distro_worker_submit(node, exec, (uint32_t)objects_hash3(c->keys[t->key].name_java_hash, type_hash, target_hash));
        return;
    }
    /* The default processor: DistroSyncChangeTask on the batch, tagged with
     * its DistroHttpCombinedKey: Objects.hash(DistroKey.hashCode(), keys). */
    int32_t list_hash = 0;
    if (!combined_keys_java_hash(node, t->keys, t->keys_count, &list_hash)) return;
    int32_t super_hash = objects_hash3(combined_key_java_hash(t->key), type_hash, target_hash);
    distro_exec exec = { .kind = DISTRO_EXEC_SYNC_BATCH, .target = t->target, .seq = t->key,
                         .keys = t->keys, .keys_count = t->keys_count };
    t->keys = NULL;                      /* the execute task owns the batch now */
    t->keys_count = t->keys_cap = 0;
    distro_worker_submit(node, exec, (uint32_t)objects_hash2(super_hash, list_hash));
}

static int slot_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void tick(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    int64_t now = distro_now_ms(node);
    /* Nacos takes a snapshot of every pending key and processes those due.
     * The due-time heap yields exactly the tasks due now (stale entries,
     * whose task changed or left, are dropped); they are processed in slot
     * order, re-checked one by one as removeTask does, and tasks added
     * meanwhile wait for the next tick.  Cost: O(due log tasks), not
     * O(tasks). */
    uint32_t count = 0, cap = 0, ids_cap = 0;
    uint32_t *slots = NULL;
    uint64_t *ids = NULL;
    while (node->due_len > 0 && node->due[0].due_ms <= now) {
        distro_due e = due_pop(node);
        const distro_task *t = &node->tasks[e.slot];
        if (!t->live || task_id(t->kind, t->key, t->target) != e.id) continue;
        if (t->last_process_ms + t->interval_ms != e.due_ms) continue;   /* re-timed: another entry stands */
        if (!SIM_VEC_RESERVE(slots, count, cap, 1) || !SIM_VEC_RESERVE(ids, count, ids_cap, 1)) {
            free(slots);
            free(ids);
            distro_fail_nomem(node->cluster, "tick");
            return;
        }
        slots[count++] = e.slot;
    }
    if (count > 1) qsort(slots, count, sizeof *slots, slot_cmp);
    uint32_t unique = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (unique > 0 && slots[unique - 1] == slots[i]) continue;
        const distro_task *t = &node->tasks[slots[i]];
        ids[unique] = task_id(t->kind, t->key, t->target);
        slots[unique++] = slots[i];
    }
    for (uint32_t i = 0; i < unique && node->running; i++) {
        distro_task *t = &node->tasks[slots[i]];
        if (!t->live || task_id(t->kind, t->key, t->target) != ids[i]) continue;
        if (distro_now_ms(node) - t->last_process_ms < t->interval_ms) continue;
        distro_task task = *t;
        t->keys = NULL;                  /* moved into `task` */
        t->key_set = NULL;
        task_free(node, slots[i]);
        process_task(node, &task);
        free(task.keys);
        free(task.key_set);
    }
    free(slots);
    free(ids);
    if (node->running) distro_timer(node, node->cluster->config.task_tick_ns, DISTRO_KIND_TICK, tick, 0);
}

void distro_tasks_start(distro_node *node)
{
    node->tasks_free = DISTRO_NONE;
    node->worker_count = distro_config_execute_workers(&node->cluster->config);
    node->workers = calloc(node->worker_count, sizeof *node->workers);
    if (node->workers == NULL) {
        node->worker_count = 0;   /* nothing to clear; submits are dropped (the run has failed) */
        distro_fail_nomem(node->cluster, "tasks start");
        return;
    }
    distro_timer(node, node->cluster->config.task_tick_ns, DISTRO_KIND_TICK, tick, 0);
}

void distro_tasks_clear(distro_node *node)
{
    for (uint32_t s = 0; s < node->tasks_cap; s++) {
        free(node->tasks[s].keys);
        free(node->tasks[s].key_set);
    }
    free(node->tasks);
    free(node->due);
    node->due = NULL;
    node->due_len = node->due_cap = 0;
    free(node->task_index);
    free(node->task_slot);
    for (uint32_t w = 0; w < node->worker_count; w++) {
        distro_worker *worker = &node->workers[w];
        for (uint32_t i = 0; i < worker->len; i++) free(worker->queue[(worker->head + i) % worker->cap].keys);
        free(worker->queue);
        free(worker->inflight_keys);
    }
    free(node->workers);
    node->tasks = NULL;
    node->task_index = NULL;
    node->task_slot = NULL;
    node->workers = NULL;
    node->tasks_cap = node->tasks_live = node->task_index_cap = node->worker_count = 0;
    node->tasks_free = DISTRO_NONE;
}

uint32_t distro_tasks_pending(const distro_node *node)
{
    return node->tasks_live;
}

uint32_t distro_node_worker_count(const distro_cluster *c, uint32_t node)
{
    if (node >= c->n || !c->nodes[node].running) return 0;
    return c->nodes[node].worker_count;
}

uint32_t distro_node_worker_blocked_on(const distro_cluster *c, uint32_t node, uint32_t worker)
{
    if (node >= c->n || !c->nodes[node].running || worker >= c->nodes[node].worker_count) return UINT32_MAX;
    const distro_worker *w = &c->nodes[node].workers[worker];
    return w->busy ? w->inflight_target : UINT32_MAX;
}
