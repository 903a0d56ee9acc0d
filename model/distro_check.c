/* distro_check.c: the model's invariants, checked between events.
 *
 * Each invariant below is a fact the model's code guarantees after every
 * event (inside a handler some hold only again at its end), for the
 * per-node state of NACOS-DISTRO.md section 8.1.  Nacos has no such check;
 * it is the simulator's own, as sim_engine_check is for the queue.  A
 * violation names the node, the invariant (a short stable name, below in
 * brackets) and the values that broke it.
 *
 * Cost: O(keys x nodes + tasks + workers + nodes) per node checked, and
 * after each event only what the event can have changed is checked
 * (check_event).  That still makes a Debug build about 6 times slower, so
 * the check runs after every event only in builds configured with
 * SIM_MODEL_CHECK (the default for Debug and sanitizer builds) or when a
 * caller asks (distro_cluster_check_every_event). */
#include "distro_int.h"
#include "distro2_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WHERE "distro_check"

/* Fails with "node N: [invariant] details". */
static sim_status broken(sim_error *err, uint32_t node, const char *invariant, const char *fmt, ...)
    SIM_PRINTF(4, 5);
static sim_status broken(sim_error *err, uint32_t node, const char *invariant, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return sim_error_set(err, SIM_ERR_STATE, WHERE, "node %u: [%s] %s", node, invariant, detail);
}

/* [down-node-empty] A node that is not running holds nothing: a crash
 * drops every in-memory structure (distro_node_reset), and a node never
 * started has had none. */
static sim_status check_down(const distro_node *node, sim_error *err)
{
    uint32_t tasks = node->tasks_live, workers = node->worker_count, pending = node->pending_count;
    if (node->datums != NULL || node->key_present_count != 0 || node->tasks != NULL || tasks != 0 ||
        node->due_len != 0 || node->workers != NULL || workers != 0 || node->peers != NULL ||
        node->healthy_count != 0 || node->self_index != -1 || node->verify_busy != NULL || pending != 0 ||
        node->bucket_count != 0 || node->initialized || node->v2 != NULL) {
        return broken(err, node->id, "down-node-empty",
                      "not running but holds keys=%u tasks=%u workers=%u pending=%u healthy=%u self_index=%d",
                      node->key_present_count, tasks, workers, pending, node->healthy_count,
                      (int)node->self_index);
    }
    return SIM_OK;
}

/* --- DataStore (section 2.1), beat checks, the owner buckets ------------------------ */

/* What the pass over the datums counts for the whole-node invariants. */
typedef struct datum_counts {
    uint32_t present;            /* stored keys */
    uint32_t marked;             /* keys marked in_bucket */
    uint32_t stored_unmarked;    /* stored keys not marked */
} datum_counts;

/* [datum-key] a stored datum's key is an interned key; [datum-value] its
 * list is referenced and holds no more instances than it has room for;
 * [shared-refs] the list has a reference from every store holding it (a
 * received datum is stored as it arrived, distro_store_apply_remote; lists
 * are per key, so only the same key elsewhere can share it), messages in
 * flight hold the others: one too few and the list is freed while a store
 * still points at it.  [beat-check] ClientBeatCheckTask (section 2.7): a
 * check is armed only for a Service that exists, and every Service this
 * node owns has its check armed (the chain lapses only where the node is
 * not responsible; a view change resumes it, distro_health_on_view_change). */
static sim_status check_datum(const distro_node *node, uint32_t k, sim_error *err)
{
    const distro_cluster *c = node->cluster;
    const distro_datum *d = &node->datums[k];
    const distro_ilist *v = d->value;
    if (v != NULL) {
        if (k >= c->key_count) {
            return broken(err, node->id, "datum-key", "a datum is stored under key %u of %u", k, c->key_count);
        }
        if (v->refs == 0 || v->count > v->cap) {
            return broken(err, node->id, "datum-value", "key %u: list refs=%u count=%u cap=%u", k, v->refs,
                          v->count, v->cap);
        }
        uint32_t holders = 0;
        for (uint32_t j = 0; j < c->n && v->refs < c->n; j++) {   /* n references cover any n stores */
            const distro_node *other = &c->nodes[j];
            holders += k < other->datums_cap && other->datums[k].value == v;
        }
        if (v->refs < holders) {
            return broken(err, node->id, "shared-refs", "key %u: list held by %u stores has %u references", k,
                          holders, v->refs);
        }
    }
    if (d->beat_check_armed && !d->service_exists) {
        return broken(err, node->id, "beat-check", "key %u: check armed without a Service", k);
    }
    if (d->service_exists && !d->beat_check_armed && c->config.health_check_enabled && node->v2 == NULL &&
        distro_mapper_responsible(node, k)) {
        return broken(err, node->id, "beat-check", "key %u: owned Service without an armed check", k);
    }
    return SIM_OK;
}

/* [key-present-count] the count of stored keys is the count kept. */
static sim_status check_datums(const distro_node *node, datum_counts *counts, sim_error *err)
{
    memset(counts, 0, sizeof *counts);
    for (uint32_t k = 0; k < node->datums_cap; k++) {
        const distro_datum *d = &node->datums[k];
        counts->present += d->value != NULL;
        counts->marked += d->in_bucket;
        counts->stored_unmarked += d->value != NULL && !d->in_bucket;
        sim_status st = check_datum(node, k, err);
        if (st != SIM_OK) return st;
    }
    if (counts->present != node->key_present_count) {
        return broken(err, node->id, "key-present-count", "%u keys stored, key_present_count=%u", counts->present,
                      node->key_present_count);
    }
    return SIM_OK;
}

/* [bucket] Valid buckets are one per healthy member, each key in the
 * bucket of its owner index and marked in_bucket, every stored key among
 * them (distro_mapper_note_key), no key twice; invalid buckets are freed
 * and no key is marked (a stale mark would keep a re-stored key out of the
 * rebuilt buckets, and verify's toRemove would miss it). */
static sim_status check_buckets(const distro_node *node, const datum_counts *counts, sim_error *err)
{
    const distro_cluster *c = node->cluster;
    if (!node->buckets_valid) {
        if (node->bucket_count != 0 || counts->marked != 0) {
            return broken(err, node->id, "bucket", "buckets invalid but bucket_count=%u and %u keys marked",
                          node->bucket_count, counts->marked);
        }
        return SIM_OK;
    }
    if (node->bucket_count != node->healthy_count || node->bucket_count == 0 || counts->stored_unmarked != 0) {
        return broken(err, node->id, "bucket", "bucket_count=%u healthy_count=%u, %u stored keys in no bucket",
                      node->bucket_count, node->healthy_count, counts->stored_unmarked);
    }
    uint32_t listed = 0;
    for (uint32_t b = 0; b < node->bucket_count; b++) {
        for (uint32_t i = 0; i < node->owner_bucket_len[b]; i++) {
            uint32_t k = node->owner_bucket[b][i];
            if (k >= node->datums_cap || k >= c->key_count || !node->datums[k].in_bucket ||
                c->keys[k].hash % node->bucket_count != b) {
                return broken(err, node->id, "bucket", "key %u listed in bucket %u of %u", k, b, node->bucket_count);
            }
        }
        listed += node->owner_bucket_len[b];
    }
    if (listed != counts->marked) {
        return broken(err, node->id, "bucket", "%u bucket entries for %u marked keys", listed, counts->marked);
    }
    return SIM_OK;
}

/* --- Delay tasks and execute workers (sections 1.3, 1.4) -------------------------- */

/* [task-fields] A live task names a peer other than self (sync targets
 * come from allMembersWithoutSelf) and a known key, or, combined, a
 * sequence already handed out and a batch of known keys. */
static sim_status check_task(const distro_node *node, uint32_t s, const distro_task *t, sim_error *err)
{
    const distro_cluster *c = node->cluster;
    if (t->target >= c->n || t->target == node->id || t->kind > DISTRO_TASK_COMBINED ||
        (t->kind == DISTRO_TASK_KEY && t->key >= c->key_count) ||
        (t->kind == DISTRO_TASK_COMBINED && (t->key > node->combined_seq || t->keys_count > t->keys_cap))) {
        return broken(err, node->id, "task-fields", "task slot %u: kind=%u key=%u target=%u keys=%u/%u", s,
                      (unsigned)t->kind, t->key, t->target, t->keys_count, t->keys_cap);
    }
    for (uint32_t i = 0; i < t->keys_count; i++) {
        if (t->keys[i] >= c->key_count) {
            return broken(err, node->id, "task-fields", "task slot %u: batch key %u of %u", s, t->keys[i],
                          c->key_count);
        }
    }
    return SIM_OK;
}

/* The index's entries: each names a live, well-formed task by its id,
 * none twice (bit 0 of its mark); counts them in *indexed. */
static sim_status check_task_index(const distro_node *node, uint8_t *mark, uint32_t *indexed, sim_error *err)
{
    *indexed = 0;
    for (uint32_t i = 0; i < node->task_index_cap; i++) {
        if (node->task_index[i] == 0) continue;
        uint32_t s = node->task_slot[i];
        const distro_task *t = s < node->tasks_cap ? &node->tasks[s] : NULL;
        if (t != NULL && t->live) {
            sim_status st = check_task(node, s, t, err);
            if (st != SIM_OK) return st;
        }
        if (t == NULL || !t->live || node->task_index[i] != distro_task_id(t->kind, t->key, t->target) + 1 ||
            mark == NULL || (mark[s] & 1)) {
            return broken(err, node->id, "task-index", "index entry %u names slot %u, not its live task once", i, s);
        }
        mark[s] |= 1;
        (*indexed)++;
    }
    return SIM_OK;
}

/* The due heap is a heap; an entry current for its task (same id, due at
 * the task's deadline) sets bit 1 of the task's mark. */
static sim_status check_due_heap(const distro_node *node, uint8_t *mark, sim_error *err)
{
    for (uint32_t i = 0; i < node->due_len; i++) {
        const distro_due *e = &node->due[i];
        const distro_due *up = &node->due[(i - 1) / 2];
        if (i > 0 && (e->due_ms < up->due_ms || (e->due_ms == up->due_ms && e->slot < up->slot))) {
            return broken(err, node->id, "task-due", "heap entry %u (due %lld) before its parent", i,
                          (long long)e->due_ms);
        }
        const distro_task *t = mark != NULL && e->slot < node->tasks_cap ? &node->tasks[e->slot] : NULL;
        if (t != NULL && t->live && e->id == distro_task_id(t->kind, t->key, t->target) &&
            e->due_ms == t->last_process_ms + t->interval_ms) {
            mark[e->slot] |= 2;
        }
    }
    return SIM_OK;
}

/* [task-count] the free list holds only free slots, and tasks_live counts
 * the others, which are live; [task-index] every index entry names a live
 * task by its id and every live task has exactly one entry (so every live
 * task's fields are checked, check_task); [task-due] the due heap is a
 * heap and every live task has an entry for its current deadline (a task
 * without one would never run). */
static sim_status check_tasks(const distro_node *node, sim_error *err)
{
    uint32_t free_count = 0;
    for (uint32_t s = node->tasks_free; s != DISTRO_NONE; s = node->tasks[s].next_free) {
        if (s >= node->tasks_cap || node->tasks[s].live || free_count == node->tasks_cap) {
            return broken(err, node->id, "task-count", "free list reaches slot %u of %u after %u free slots", s,
                          node->tasks_cap, free_count);
        }
        free_count++;
    }
    if (node->tasks_live + free_count != node->tasks_cap) {
        return broken(err, node->id, "task-count", "tasks_live=%u, %u free of %u slots", node->tasks_live,
                      free_count, node->tasks_cap);
    }
    /* Marks by slot (none needed without live tasks, the common case). */
    uint8_t *mark = node->tasks_live > 0 ? calloc(node->tasks_cap, 1) : NULL;
    if (node->tasks_live > 0 && mark == NULL) return sim_error_set(err, SIM_ERR_NOMEM, WHERE, "out of memory");
    uint32_t indexed = 0, live = 0;
    sim_status st = check_task_index(node, mark, &indexed, err);
    if (st == SIM_OK && indexed != node->tasks_live) {
        st = broken(err, node->id, "task-index", "%u index entries for %u live tasks", indexed, node->tasks_live);
    }
    if (st == SIM_OK) st = check_due_heap(node, mark, err);
    for (uint32_t s = 0; s < node->tasks_cap && st == SIM_OK && mark != NULL; s++) {
        const distro_task *t = &node->tasks[s];
        if (!t->live) continue;
        live++;
        if (!(mark[s] & 2)) {
            st = broken(err, node->id, "task-due", "task slot %u (kind %u key %u target %u) has no entry for due %lld",
                        s, (unsigned)t->kind, t->key, t->target, (long long)(t->last_process_ms + t->interval_ms));
        }
    }
    free(mark);
    if (st == SIM_OK && live != node->tasks_live) {   /* a slot neither live nor free */
        st = broken(err, node->id, "task-count", "%u live slots, tasks_live=%u", live, node->tasks_live);
    }
    return st;
}

/* [worker-queue] A worker's ring has head and length within its capacity
 * and holds well-formed work; [worker-inflight] a worker is busy exactly
 * while it holds a sent batch (at least one key: a batch is made of the
 * keys added to it; a batch whose keys were all deleted still goes out,
 * as {}, and still holds its keys for the retry), to a peer; [worker-idle]
 * an idle worker has an empty queue: every submit and every completion
 * runs the worker until it blocks or drains. */
static sim_status check_worker(const distro_node *node, uint32_t w, sim_error *err)
{
    const distro_cluster *c = node->cluster;
    const distro_worker *wk = &node->workers[w];
    if (wk->len > wk->cap || (wk->cap > 0 ? wk->head >= wk->cap : wk->head != 0) || (wk->cap > 0) != (wk->queue != NULL)) {
        return broken(err, node->id, "worker-queue", "worker %u: head=%u len=%u cap=%u", w, wk->head, wk->len, wk->cap);
    }
    for (uint32_t i = 0; i < wk->len; i++) {
        const distro_exec *e = &wk->queue[(wk->head + i) % wk->cap];
        bool ok = e->target < c->n && (e->kind == DISTRO_EXEC_ADD_TO_BATCH ? e->key < c->key_count
                                       : e->kind == DISTRO_EXEC_SYNC_BATCH && e->keys != NULL && e->keys_count > 0);
        if (!ok) {
            return broken(err, node->id, "worker-queue", "worker %u: queued work %u: kind=%u target=%u keys=%u", w, i,
                          (unsigned)e->kind, e->target, e->keys_count);
        }
    }
    bool holds = wk->inflight_keys != NULL || wk->inflight_count != 0;
    bool well_formed = wk->inflight_keys != NULL && wk->inflight_count > 0 && wk->inflight_target < c->n &&
                       wk->inflight_target != node->id;
    if (wk->busy ? !well_formed : holds) {
        return broken(err, node->id, "worker-inflight", "worker %u: busy=%d inflight keys=%s count=%u target=%u", w,
                      (int)wk->busy, wk->inflight_keys != NULL ? "set" : "none", wk->inflight_count,
                      wk->inflight_target);
    }
    if (!wk->busy && wk->len > 0) {
        return broken(err, node->id, "worker-idle", "worker %u: idle with %u queued", w, wk->len);
    }
    return SIM_OK;
}

static sim_status check_workers(const distro_node *node, sim_error *err)
{
    uint32_t want = distro_config_execute_workers(&node->cluster->config);
    if (node->worker_count != want || node->workers == NULL) {
        return broken(err, node->id, "worker-queue", "%u workers, the config gives %u", node->worker_count, want);
    }
    for (uint32_t w = 0; w < node->worker_count; w++) {
        sim_status st = check_worker(node, w, err);
        if (st != SIM_OK) return st;
    }
    return SIM_OK;
}

/* --- Members and DistroMapper (sections 1.5, 1.6) ------------------------------------ */

/* [member-state] MemberUtil's rules (section 1.5, MemberUtil.java:114-118
 * and :135-146, NacosClusterController.java:114-123; distro_member.c):
 * states in range; self always a member, UP, never failed (nobody probes
 * itself); the view is this node's cluster.conf; a peer out of the view
 * has no fail count (removal zeroes it, and nothing counts it after);
 * in the view, SUSPICIOUS comes only from a failure that did not reach
 * the limit, so its count is 1..fail-access-cnt (a removed peer keeps the
 * state it had, with its count zeroed).  UP and DOWN allow any count (a
 * report keeps the count; a refused connect or a boot sets DOWN at any
 * count). */
static sim_status check_members(const distro_node *node, sim_error *err)
{
    const distro_cluster *c = node->cluster;
    uint32_t limit = c->config.member_fail_access_cnt;
    for (uint32_t p = 0; p < c->n; p++) {
        const distro_peer *m = &node->peers[p];
        bool self = p == node->id;
        bool conf = self || c->conf[(size_t)node->id * c->n + p];
        if (m->state > DISTRO_MEMBER_STARTING || m->in_view != conf ||
            (self && (m->state != DISTRO_MEMBER_UP || m->fail_cnt != 0)) || (!m->in_view && m->fail_cnt != 0) ||
            (m->in_view && m->state == DISTRO_MEMBER_SUSPICIOUS && (m->fail_cnt == 0 || m->fail_cnt > limit))) {
            return broken(err, node->id, "member-state", "peer %u: state=%u fail_cnt=%u in_view=%d conf=%d", p,
                          (unsigned)m->state, m->fail_cnt, (int)m->in_view, (int)conf);
        }
    }
    return SIM_OK;
}

/* True when node->healthy is the members in the view, in address order,
 * all of them (any_state) or those UP or SUSPICIOUS: what set_healthy of
 * distro_mapper.c builds. */
static bool healthy_is(const distro_node *node, bool any_state)
{
    const distro_cluster *c = node->cluster;
    uint32_t count = 0;
    for (uint32_t r = 0; r < c->n; r++) {
        uint32_t m = c->by_address[r];
        const distro_peer *p = &node->peers[m];
        bool healthy = p->state == DISTRO_MEMBER_UP || p->state == DISTRO_MEMBER_SUSPICIOUS;
        if (!p->in_view || !(any_state || healthy)) continue;
        if (count >= node->healthy_count || node->healthy[count] != m) return false;
        count++;
    }
    return count == node->healthy_count;
}

/* [healthy-list] DistroMapper's healthyList is the in-view members, sorted
 * as address strings, that are UP or SUSPICIOUS: every state change and
 * view change recomputes it (MembersChangeEvent).  Between the mapper's
 * init and the boot-time event (W7) it is every member in any state.
 * [self-index] self_index is self's place in that list, or -1. */
static sim_status check_view(const distro_node *node, sim_error *err)
{
    if (node->healthy_count > node->cluster->n || !healthy_is(node, node->healthy_any_state)) {
        return broken(err, node->id, "healthy-list", "%u healthy members (any state: %d), first %u: not the members' view",
                      node->healthy_count, (int)node->healthy_any_state,
                      node->healthy_count > 0 ? node->healthy[0] : DISTRO_NONE);
    }
    int32_t self = -1;
    for (uint32_t i = 0; i < node->healthy_count; i++) {
        if (node->healthy[i] == node->id) self = (int32_t)i;
    }
    if (self != node->self_index) {
        return broken(err, node->id, "self-index", "self_index=%d, self is at %d", (int)node->self_index, (int)self);
    }
    return SIM_OK;
}

/* --- The rest of a running node ---------------------------------------------------- */

/* [pending] The client requests in service name existing clients and
 * were sent no later than now, and only a running node serves any (a
 * crash resets them). */
static sim_status check_pending(const distro_node *node, sim_error *err)
{
    const distro_cluster *c = node->cluster;
    if (node->pending_count > node->pending_cap || (!node->running && node->pending_count > 0)) {
        return broken(err, node->id, "pending", "%u requests in service (room for %u, running=%d)",
                      node->pending_count, node->pending_cap, (int)node->running);
    }
    for (uint32_t i = 0; i < node->pending_count; i++) {
        const distro_pending *p = &node->pending[i];
        if (p->client >= c->client_count || p->sent_at_ns > sim_now(c->sim)) {
            return broken(err, node->id, "pending", "request %u of client %u of %u sent at %llu ns", i, p->client,
                          c->client_count, (unsigned long long)p->sent_at_ns);
        }
    }
    return SIM_OK;
}

/* [verify-busy] syncChecksumTasks is keyed by the checksum's source, a
 * peer: a node never sends itself checksums.  [loaded-from] the snapshot
 * came from a peer, or from nobody yet. */
static sim_status check_misc(const distro_node *node, sim_error *err)
{
    const distro_cluster *c = node->cluster;
    if (node->verify_busy[node->id]) {
        return broken(err, node->id, "verify-busy", "busy on checksums from itself");
    }
    sim_status st = check_pending(node, err);
    if (st != SIM_OK) return st;
    if (node->loaded_from != DISTRO_NONE && (node->loaded_from >= c->n || node->loaded_from == node->id)) {
        return broken(err, node->id, "loaded-from", "loaded from %u", node->loaded_from);
    }
    return SIM_OK;
}

/* --- 2.x (model/distro2_*.c) -------------------------------------------------------- */

/* [v2-clients] the count of present clients is the count kept, and each
 * publishes an interned key or nothing; [v2-index] the service index lists,
 * per key, exactly the present clients publishing it, once each; [v2-tasks]
 * a pending task names a peer other than self and an action, and the
 * task index maps (client, peer) to it, one entry per task; [v2-rpc] the
 * RPC clients' phases are in range; [v2-dup] the per-SDK publisher
 * counts (duplicate publishers) add up to the publishers; [v2-events]
 * published events not yet handled have their drain scheduled; [v2-push]
 * distro2_push_consistent's (the push tasks' count and tick, the
 * subscriber index). */
static sim_status check_v2(const distro_node *node, sim_error *err)
{
    const distro_cluster *c = node->cluster;
    const distro2_node *v2 = node->v2;
    uint32_t present = 0;
    uint64_t published = 0;
    for (uint32_t conn = 0; conn < v2->clients_cap; conn++) {
        const distro2_client *cl = &v2->clients[conn];
        if (!cl->present) continue;
        present++;
        if (cl->key != DISTRO_NONE && (cl->key >= c->key_count || cl->key >= v2->keys_cap)) {
            return broken(err, node->id, "v2-clients", "client %u publishes key %u of %u", conn, cl->key, c->key_count);
        }
        published += cl->key != DISTRO_NONE;
    }
    if (present != v2->client_count) {
        return broken(err, node->id, "v2-clients", "%u clients present, client_count=%u", present, v2->client_count);
    }
    uint64_t indexed = 0;
    for (uint32_t k = 0; k < v2->keys_cap; k++) {
        for (uint32_t i = 0; i < v2->key_conns_len[k]; i++) {
            uint32_t conn = v2->key_conns[k][i];
            bool ok = conn < v2->clients_cap && v2->clients[conn].present && v2->clients[conn].key == k;
            for (uint32_t j = 0; ok && j < i; j++) ok = v2->key_conns[k][j] != conn;
            if (!ok) return broken(err, node->id, "v2-index", "key %u lists client %u, which does not publish it", k, conn);
        }
        indexed += v2->key_conns_len[k];
    }
    if (indexed != published) {
        return broken(err, node->id, "v2-index", "%llu index entries for %llu publishers", (unsigned long long)indexed,
                      (unsigned long long)published);
    }
    /* [v2-dup] the per-SDK publisher counts add up to the publishers. */
    uint64_t counted = 0;
    for (uint32_t s = 0; s < v2->sdk_pubs_cap; s++) counted += v2->sdk_pubs[s];
    if (counted != published) {
        return broken(err, node->id, "v2-dup", "per-SDK counts add up to %llu for %llu publishers",
                      (unsigned long long)counted, (unsigned long long)published);
    }
    uint32_t entries = 0;
    for (uint32_t i = 0; i < v2->task_index_cap; i++) {
        if (v2->task_slots[i] == 0) continue;
        entries++;
        uint32_t s = v2->task_slots[i] - 1;
        const distro2_task *t = s < v2->task_count ? &v2->tasks[s] : NULL;
        if (t == NULL || v2->task_keys[i] != (((uint64_t)t->conn << 20) | t->target) || t->target >= c->n ||
            t->target == node->id || t->action > DISTRO2_DELETE) {
            return broken(err, node->id, "v2-tasks", "index entry %u names slot %u of %u", i, s, v2->task_count);
        }
    }
    if (entries != v2->task_count) {
        return broken(err, node->id, "v2-tasks", "%u index entries for %u tasks", entries, v2->task_count);
    }
    for (uint32_t p = 0; p < c->n; p++) {
        if (v2->rpc[p].phase > DISTRO2_RPC_RUNNING_CHECK) {
            return broken(err, node->id, "v2-rpc", "peer %u: phase %u", p, (unsigned)v2->rpc[p].phase);
        }
    }
    if (v2->events_head > v2->events_len || (v2->events_len > v2->events_head && !v2->events_scheduled)) {
        return broken(err, node->id, "v2-events", "events %u..%u queued, drain %s", v2->events_head, v2->events_len,
                      v2->events_scheduled ? "scheduled" : "not scheduled");
    }
    char why[160];
    if (!distro2_push_consistent(node, why, sizeof why)) return broken(err, node->id, "v2-push", "%s", why);
    return SIM_OK;
}

sim_status distro_node_check(const distro_node *node, sim_error *err)
{
    if (!node->running) return check_down(node, err);
    datum_counts counts;
    sim_status st = check_datums(node, &counts, err);
    if (st == SIM_OK) st = check_members(node, err);
    if (st == SIM_OK) st = check_view(node, err);
    if (st == SIM_OK) st = check_buckets(node, &counts, err);
    if (node->v2 != NULL) {
        if (st == SIM_OK) st = check_v2(node, err);   /* 1.4.2's tasks and workers stay empty */
    } else {
        if (st == SIM_OK) st = check_tasks(node, err);
        if (st == SIM_OK) st = check_workers(node, err);
    }
    if (st == SIM_OK) st = check_misc(node, err);
    return st;
}

/* --- The cluster ---------------------------------------------------------------------- */

/* [running] The model runs a node exactly while the engine has it up or
 * paused: start and crash come from the engine. */
static sim_status check_running(const distro_cluster *c, sim_error *err)
{
    for (uint32_t i = 0; i < c->n; i++) {
        sim_node_state state = sim_node_state_get(c->sim, i);
        if (c->nodes[i].running != (state != SIM_NODE_DOWN)) {
            return broken(err, i, "running", "model running=%d, engine %s", (int)c->nodes[i].running,
                          sim_node_state_name(state));
        }
    }
    return SIM_OK;
}

sim_status distro_cluster_check(const distro_cluster *c, sim_error *err)
{
    sim_status st = check_running(c, err);
    for (uint32_t i = 0; i < c->n && st == SIM_OK; i++) st = distro_node_check(&c->nodes[i], err);
    if (st == SIM_OK) st = distro_reads_check(c, err);
    return st;
}

/* What an event can have changed is checked, not more: after a node's
 * event, that node (only its model code ran, and it changes only its own
 * state: what it sends others arrives in later events; a shared list's
 * references are checked by every node storing it); after a client's
 * event (distro_client.c), the requests in service, the one server state
 * it touches; after a reader's event (distro_reads.c), the readers' state
 * (and, for a list query or push task on a node, that node too); after
 * any other harness event (a fault, a start), every node. */
static void check_event(sim_engine *sim, void *ctx, const sim_trace_record *event)
{
    const distro_cluster *c = ctx;
    sim_error err;
    sim_status st;
    if (event->node != SIM_NODE_NONE) {
        st = check_running(c, &err);
        if (st == SIM_OK) st = distro_node_check(&c->nodes[event->node], &err);
        if (st == SIM_OK && (event->kind == DISTRO_KIND_READ_REQUEST || event->kind == DISTRO_KIND_PUSH)) {
            st = distro_reads_check(c, &err);
        }
    } else if (event->kind == DISTRO_KIND_CLIENT_TIMER || event->kind == DISTRO_KIND_CLIENT_RESPONSE) {
        st = check_running(c, &err);
        for (uint32_t i = 0; i < c->n && st == SIM_OK; i++) st = check_pending(&c->nodes[i], &err);
    } else if (event->kind == DISTRO_KIND_READ_TIMER || event->kind == DISTRO_KIND_READ_RESPONSE ||
               event->kind == DISTRO_KIND_PUSH) {
        st = distro_reads_check(c, &err);   /* a reader's own event changes only the readers' state */
    } else {
        st = distro_cluster_check(c, &err);
    }
    if (st != SIM_OK) sim_fail(sim, &err);
}

void distro_cluster_check_every_event(distro_cluster *c, bool on)
{
    sim_set_event_check(c->sim, on ? check_event : NULL, on ? c : NULL);
}

void distro_check_install(distro_cluster *c)
{
#ifdef DISTRO_CHECK_EVERY_EVENT
    distro_cluster_check_every_event(c, true);
#else
    (void)c;
#endif
}
