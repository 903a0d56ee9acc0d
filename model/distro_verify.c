/* distro_verify.c: DistroVerifyTask and onReceiveChecksums of Nacos 1.4.2
 * (NACOS-DISTRO.md section 2.5).
 *
 * Sender, every 5 s (fixed delay, first at 5 s, not gated on the load):
 * {key: checksum} of every stored key it is responsible for, to every peer
 * in allMembersWithoutSelf that passes hasMember; nothing when the map is
 * empty (W4).  Fire and forget.
 *
 * Receiver, per source and behind the syncChecksumTasks guard:
 *   1. a second message from a source still being processed is dropped;
 *   2. one key the receiver believes it owns aborts the whole message (W3);
 *   3. toUpdate: keys missing locally or with another checksum;
 *   4. toRemove: local keys that map to the source *in the receiver's view*
 *      and are absent from the message -- deleted at once;
 *   5. toUpdate is fetched from the source (GET /distro/datum) and applied;
 *   6. the guard is cleared.
 * With verify_guard_racy (1.4.2's check-then-put, W14) a second round from
 * the same source is not dropped.
 * Inclusion follows the sender's view, removal the receiver's: when they
 * disagree, valid data is deleted (checklist 5). */
#include "distro_int.h"

#include <stdlib.h>
#include <string.h>

static void verify_run(sim_engine *sim, void *ctx, uint64_t arg);

static void checksum_sent(sim_engine *sim, void *ctx, uint64_t arg, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    (void)ctx;
    (void)arg;
    (void)status;
    (void)resp;   /* the async callback only logs */
}

distro_msg *distro_checksum_msg_new(distro_node *node, uint16_t type, const uint32_t *keys, uint32_t count,
                                    distro_checksum_fn *checksum, bool by_tag, distro_msg **last,
                                    uint32_t *bytes_out)
{
    const distro_cluster *c = node->cluster;
    distro_msg *msg = distro_msg_new(node->cluster, type, count);
    if (msg == NULL) {
        distro_fail_nomem(node->cluster, "checksum message");
        return NULL;
    }
    msg->checksums = calloc(count, sizeof *msg->checksums);
    if (msg->checksums == NULL && count > 0) {   /* the callers handle NULL, as for the message itself */
        distro_msg_unref(msg);
        distro_fail_nomem(node->cluster, "checksum message");
        return NULL;
    }
    msg->source = node->id;
    uint64_t bytes = by_tag ? 64 : 2;       /* the body's fixed part */
    for (uint32_t i = 0; i < count; i++) {
        uint32_t k = keys[i];
        msg->keys[i] = k;
        memcpy(msg->checksums[i], checksum(node, k, node->datums[k].value), 33);
        bytes += (by_tag ? c->keys[k].tag_bytes : c->keys[k].name_bytes) + 32 + 6;
    }
    distro_memo_stamp(node, last, msg);
    *bytes_out = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
    return msg;
}

static const char *list_checksum(distro_node *node, uint32_t key, distro_ilist *list)
{
    (void)node;
    (void)key;
    return distro_ilist_checksum(list);
}

static void verify_run(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    uint32_t owned = 0;
    uint32_t *owned_keys = NULL;
    distro_msg *msg = NULL;
    uint32_t bytes = 0;
    if (c->config.shortcuts && node->verify_last != NULL && node->verify_last_epoch == node->memo_epoch) {
        /* Nothing the message depends on changed since the last round
         * (sender memo, distro_memo.c): the same keys and checksums. */
        msg = node->verify_last;
        sim_payload_retain(&msg->base);
        bytes = node->verify_last_bytes;
    } else {
        owned_keys = distro_mapper_owned_keys(node, &owned);
        if (owned > 0) {
            msg = distro_checksum_msg_new(node, DISTRO_MSG_CHECKSUM, owned_keys, owned, list_checksum, false,
                                          &node->verify_last, &bytes);
            if (msg == NULL) {   /* the run has failed */
                free(owned_keys);
                return;
            }
            node->verify_last_epoch = node->memo_epoch;   /* verify_last now has msg's keys and checksums */
            node->verify_last_bytes = bytes;
        }
    }
    if (msg != NULL) {
        uint32_t *peers = malloc(c->n * sizeof *peers);
        uint32_t count = 0;
        if (peers == NULL) {
            distro_fail_nomem(c, "verify peers");
        } else {
            count = distro_member_all_without_self(node, peers);
        }
        for (uint32_t p = 0; p < count; p++) {
            if (!distro_member_has(node, peers[p])) continue;
            distro_counters_of(node)->verify_sent++;
            sim_payload_retain(&msg->base);
            distro_call(node, peers[p], DISTRO_MSG_CHECKSUM, bytes, msg, checksum_sent, 0);
        }
        free(peers);
        distro_msg_unref(msg);
    }
    free(owned_keys);
    distro_timer(node, c->config.verify_interval_ns, DISTRO_KIND_VERIFY, verify_run, 0);
}

void distro_verify_start(distro_node *node)
{
    distro_timer(node, node->cluster->config.verify_interval_ns, DISTRO_KIND_VERIFY, verify_run, 0);
}

static void finish(distro_node *node, uint32_t source)
{
    node->verify_busy[source] = false;
}

static void fetch_done(sim_engine *sim, void *ctx, uint64_t source, sim_rpc_status status, const sim_message *resp)
{
    (void)sim;
    distro_node *node = ctx;
    if (!node->running) return;
    if (status == SIM_RPC_OK) {
        const distro_msg *m = (const distro_msg *)resp->payload;
        distro_sync_apply_datums(node, m);
        distro_counters_of(node)->verify_keys_fetched += m->count;
    }   /* fetch errors are logged and ignored */
    finish(node, (uint32_t)source);
}

/* The next stamp generation, growing the stamp array to every key; 0 when
 * it could not grow (out of memory). */
static uint32_t next_stamp(distro_node *node)
{
    uint32_t need = node->cluster->key_count;
    if (node->stamp_cap < need) {
        uint32_t cap = need > UINT32_MAX / 2 ? need : need * 2;
        uint32_t *stamp = realloc(node->stamp, (size_t)cap * sizeof *stamp);
        if (stamp == NULL) return 0;
        memset(stamp + node->stamp_cap, 0, (cap - node->stamp_cap) * sizeof *stamp);
        node->stamp = stamp;
        node->stamp_cap = cap;
    }
    if (++node->stamp_gen == 0) {        /* wrapped: clear every mark */
        memset(node->stamp, 0, node->stamp_cap * sizeof *node->stamp);
        node->stamp_gen = 1;
    }
    return node->stamp_gen;
}

void distro_verify_on_checksums(distro_node *node, const sim_message *msg, distro_token token)
{
    const distro_msg *m = (const distro_msg *)msg->payload;
    uint32_t source = m->source;
    distro_counters *counters = distro_counters_of(node);
    /* The sender's asynchronous call only logs the answer, so answering at
     * once instead of when the handler ends changes nothing it acts on. */
    distro_msg *resp = distro_msg_new(node->cluster, DISTRO_MSG_CHECKSUM_RESP, 0);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "verify receiver");
        return;
    }
    resp->code = 200;
    distro_reply(node, token, DISTRO_MSG_CHECKSUM_RESP, 2, resp);
    if (node->verify_busy[source] && !node->cluster->config.verify_guard_racy) {
        counters->verify_single_flight_drops++;
        return;
    }
    if (distro_memo_hit(node, &node->verify_memo[source], m)) return;   /* nothing to do, as last time */
    node->verify_busy[source] = true;
    uint32_t gen = next_stamp(node);
    uint32_t *to_update = gen != 0 ? malloc(((size_t)m->count + 1) * sizeof *to_update) : NULL;
    if (to_update == NULL) {
        distro_fail_nomem(node->cluster, "verify receiver");
        finish(node, source);
        return;
    }
    uint32_t update_count = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        uint32_t k = m->keys[i];
        if (distro_mapper_responsible(node, k)) {
            /* "receive responsible key timestamp ... from ...": abort all. */
            counters->verify_discarded++;
            distro_cluster *c = node->cluster;
            if (c->observer.verify_aborted != NULL) {
                c->observer.verify_aborted(c->observer.ctx, sim_now(c->sim), node->id, source, k);
            }
            free(to_update);
            finish(node, source);
            return;
        }
        node->stamp[k] = gen;
        distro_ilist *local = distro_store_get(node, k);
        if (local == NULL || memcmp(distro_ilist_checksum(local), m->checksums[i], 32) != 0) {
            to_update[update_count++] = k;
        }
    }
    /* toRemove: local keys the receiver maps to the source, absent from the
     * message.  Collected first, then removed, as Nacos does. */
    uint32_t bucket_len = 0;
    const uint32_t *bucket = distro_mapper_keys_of(node, source, &bucket_len);
    uint32_t *to_remove = malloc(((size_t)bucket_len + 1) * sizeof *to_remove);
    if (to_remove == NULL) {
        distro_fail_nomem(node->cluster, "verify receiver");
        free(to_update);
        finish(node, source);
        return;
    }
    uint32_t remove_count = 0;
    for (uint32_t i = 0; i < bucket_len; i++) {
        uint32_t k = bucket[i];
        if (distro_store_get(node, k) != NULL && node->stamp[k] != gen) to_remove[remove_count++] = k;
    }
    for (uint32_t i = 0; i < remove_count; i++) {
        distro_store_put(node, to_remove[i], NULL);
        counters->verify_keys_removed++;
        distro_cluster *c = node->cluster;
        if (c->observer.verify_removed != NULL) {
            c->observer.verify_removed(c->observer.ctx, sim_now(c->sim), node->id, source, to_remove[i]);
        }
    }
    free(to_remove);
    if (update_count == 0) {
        if (remove_count == 0) distro_memo_note(node, &node->verify_memo[source], m);
        free(to_update);
        finish(node, source);
        return;
    }
    distro_msg *fetch = distro_msg_new(node->cluster, DISTRO_MSG_GET_DATUM, update_count);
    if (fetch == NULL) {
        free(to_update);
        distro_fail_nomem(node->cluster, "verify receiver");
        return;
    }
    memcpy(fetch->keys, to_update, update_count * sizeof *to_update);
    fetch->source = node->id;
    uint64_t bytes = 12;
    for (uint32_t i = 0; i < update_count; i++) bytes += node->cluster->keys[to_update[i]].name_bytes + 1;
    free(to_update);
    distro_call(node, source, DISTRO_MSG_GET_DATUM, bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes, fetch, fetch_done, source);
}
