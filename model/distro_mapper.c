/* distro_mapper.c: DistroMapper of Nacos 1.4.2 (NACOS-DISTRO.md section 1.6).
 *
 * healthyList starts as every member in any state (bean init) and becomes
 * the UP and SUSPICIOUS members on each MembersChangeEvent, sorted as
 * address strings.  responsible() and mapSrv() hash the tag group@@service
 * (the namespace is not part of it) modulo the list's size; a node missing
 * from its own list is responsible for every tag (W12).
 *
 * For verify's toRemove step the mapper also keeps, per node, the stored
 * keys bucketed by owner index under the current list, so "keys that map
 * to the source" costs the size of one bucket instead of a scan of every
 * key.  The buckets are rebuilt lazily after a view change; a deleted key
 * stays in its bucket until then and callers skip keys with no datum. */
#include "distro_int.h"

#include <stdlib.h>
#include <string.h>

static void buckets_free(distro_node *node)
{
    for (uint32_t i = 0; i < node->bucket_count; i++) free(node->owner_bucket[i]);
    free(node->owner_bucket);
    free(node->owner_bucket_len);
    free(node->owner_bucket_cap);
    node->owner_bucket = NULL;
    node->owner_bucket_len = NULL;
    node->owner_bucket_cap = NULL;
    node->bucket_count = 0;
    node->buckets_valid = false;
    for (uint32_t k = 0; k < node->datums_cap; k++) node->datums[k].in_bucket = false;
}

static void set_healthy(distro_node *node, bool any_state)
{
    distro_cluster *c = node->cluster;
    uint32_t count = 0;
    node->self_index = -1;
    for (uint32_t r = 0; r < c->n; r++) {
        uint32_t m = c->by_address[r];
        const distro_peer *p = &node->peers[m];
        bool healthy = p->state == DISTRO_MEMBER_UP || p->state == DISTRO_MEMBER_SUSPICIOUS;
        if (p->in_view && (any_state || healthy)) {
            if (m == node->id) node->self_index = (int32_t)count;
            node->healthy[count++] = m;
        }
    }
    node->healthy_count = count;
    node->healthy_any_state = any_state;
    distro_memo_touch(node);   /* every change of the member list or view comes here */
    buckets_free(node);
    distro_health_on_view_change(node);
    if (c->observer.view_changed != NULL) {
        c->observer.view_changed(c->observer.ctx, sim_now(c->sim), node->id, node->healthy, count);
    }
}

void distro_mapper_init(distro_node *node)
{
    set_healthy(node, true);
}

void distro_mapper_on_members_change(distro_node *node)
{
    set_healthy(node, false);
}

bool distro_mapper_responsible(const distro_node *node, uint32_t key)
{
    const distro_cluster *c = node->cluster;
    if (!c->config.distro_enabled) return true;
    if (node->healthy_count == 0) return false;
    if (node->self_index < 0) return true;   /* W12: self missing from its own list */
    return c->key_hash[key] % node->healthy_count == (uint32_t)node->self_index;
}

uint32_t distro_mapper_map_srv(const distro_node *node, uint32_t key)
{
    const distro_cluster *c = node->cluster;
    if (node->healthy_count == 0 || !c->config.distro_enabled) return node->id;
    return node->healthy[c->key_hash[key] % node->healthy_count];
}

static void bucket_push(distro_node *node, uint32_t bucket, uint32_t key)
{
    if (!SIM_VEC_RESERVE(node->owner_bucket[bucket], node->owner_bucket_len[bucket], node->owner_bucket_cap[bucket], 1)) {
        distro_fail_nomem(node->cluster, "bucket_push");
        return;
    }
    node->owner_bucket[bucket][node->owner_bucket_len[bucket]++] = key;
    node->datums[key].in_bucket = true;
}

void distro_mapper_note_key(distro_node *node, uint32_t key)
{
    if (!node->buckets_valid || node->datums[key].in_bucket) return;
    bucket_push(node, node->cluster->keys[key].hash % node->bucket_count, key);
}

const uint32_t *distro_mapper_keys_of(distro_node *node, uint32_t owner, uint32_t *count_out)
{
    *count_out = 0;
    if (node->healthy_count == 0) return NULL;
    if (!node->buckets_valid) {
        node->bucket_count = node->healthy_count;
        node->owner_bucket = calloc(node->bucket_count, sizeof *node->owner_bucket);
        node->owner_bucket_len = calloc(node->bucket_count, sizeof *node->owner_bucket_len);
        node->owner_bucket_cap = calloc(node->bucket_count, sizeof *node->owner_bucket_cap);
        if (node->owner_bucket == NULL || node->owner_bucket_len == NULL || node->owner_bucket_cap == NULL) {
            node->bucket_count = 0;      /* no bucket was filled: free only the arrays */
            buckets_free(node);
            distro_fail_nomem(node->cluster, "owner buckets");
            return NULL;
        }
        node->buckets_valid = true;
        for (uint32_t k = 0; k < node->datums_cap; k++) {
            if (node->datums[k].value != NULL) bucket_push(node, node->cluster->keys[k].hash % node->bucket_count, k);
        }
    }
    for (uint32_t i = 0; i < node->healthy_count; i++) {
        if (node->healthy[i] == owner) {
            *count_out = node->owner_bucket_len[i];
            return node->owner_bucket[i];
        }
    }
    return NULL;
}

/* Sorts `count` distinct keys below `key_limit` into key order through a
 * bitmap of key_limit bits: O(count + key_limit / 64), where a comparison
 * sort of a 2,000-key bucket ran twice per node every 5 s (the verify and
 * status rounds).  False when out of memory (the keys are left as they
 * were). */
static bool keys_sort(uint32_t *keys, uint32_t count, uint32_t key_limit)
{
    size_t words = ((size_t)key_limit + 63) / 64;
    uint64_t *bits = calloc(words + 1, sizeof *bits);
    if (bits == NULL) return false;
    for (uint32_t i = 0; i < count; i++) {
        SIM_ASSERT(keys[i] < key_limit);
        bits[keys[i] / 64] |= 1ull << (keys[i] % 64);
    }
    uint32_t n = 0;
    for (size_t w = 0; w < words; w++) {
        for (uint64_t b = bits[w]; b != 0; b &= b - 1) keys[n++] = (uint32_t)(w * 64 + (uint32_t)__builtin_ctzll(b));
    }
    SIM_ASSERT(n == count);   /* distinct keys: none was lost */
    free(bits);
    return true;
}

uint32_t *distro_mapper_owned_keys(distro_node *node, uint32_t *count_out)
{
    const distro_cluster *c = node->cluster;
    uint32_t count = 0;
    uint32_t *keys = NULL;
    *count_out = 0;
    if (c->config.distro_enabled && node->healthy_count > 0 && node->self_index >= 0) {
        /* responsible(k) is exactly "k's bucket is mine" here. */
        uint32_t len = 0;
        const uint32_t *bucket = distro_mapper_keys_of(node, node->id, &len);
        keys = malloc(((size_t)len + 1) * sizeof *keys);
        if (keys == NULL) {
            distro_fail_nomem(node->cluster, "owned keys");
            return NULL;
        }
        for (uint32_t i = 0; i < len; i++) {
            if (node->datums[bucket[i]].value != NULL) keys[count++] = bucket[i];
        }
        /* Key order, as a full scan gives (keys are unique).  Keys mostly
         * reach a store in the order they were created, so the bucket is
         * usually in order already. */
        uint32_t sorted = 1;
        while (sorted < count && keys[sorted - 1] < keys[sorted]) sorted++;
        if (sorted < count && !keys_sort(keys, count, node->datums_cap)) {
            free(keys);
            distro_fail_nomem(node->cluster, "owned keys");
            return NULL;
        }
    } else {
        /* Distro off, an empty list, or self missing from it (W12): every
         * test of responsible() is the same answer; scan. */
        keys = malloc(((size_t)node->datums_cap + 1) * sizeof *keys);
        if (keys == NULL) {
            distro_fail_nomem(node->cluster, "owned keys");
            return NULL;
        }
        for (uint32_t k = 0; k < node->datums_cap; k++) {
            if (node->datums[k].value != NULL && distro_mapper_responsible(node, k)) keys[count++] = k;
        }
    }
    *count_out = count;
    return keys;
}
