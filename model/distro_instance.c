/* distro_instance.c: lifecycle and setters of a Nacos 1.4 Instance.
 *
 * Implements the field rules of NACOS-DISTRO.md section 2.1 (defaults,
 * weight clamping, metadata as a string map).  These run while a scenario
 * or a received message is being turned into instances, so they allocate;
 * the per-event paths (checksums, ownership) live in distro_hash.c and do
 * not.
 *
 * Invariants of an owned instance built through this API:
 *   (1) metadata keys are unique and ascending in Java String order
 *       (distro_java_string_compare), so the checksum can print them as they
 *       are stored (2.6(a));
 *   (2) metadata_count > 0 implies metadata != NULL;
 *   (3) weight is a fixed point of distro_instance_weight_clamp;
 *   (4) the view's ip, cluster and metadata are the owned ip, cluster and
 *       metadata, and metadata_strings holds the same keys and values. */
#include "distro_instance.h"

#include <stdlib.h>
#include <string.h>

#include "distro_hash.h"
#include "sim_assert.h"

#define DISTRO_WEIGHT_MAX 10000.0          /* Instance.MAX_WEIGHT_VALUE */
#define DISTRO_WEIGHT_MIN_POSITIVE 0.01    /* Instance.MIN_POSITIVE_WEIGHT_VALUE */
#define DISTRO_WEIGHT_MIN 0.0              /* Instance.MIN_WEIGHT_VALUE */

void distro_instance_init_defaults(distro_instance *inst)
{
    SIM_ASSERT(inst != NULL);
    *inst = (distro_instance){
        .ip = NULL,
        .port = 0,
        .weight = 1.0,
        .healthy = true,
        .enabled = true,
        .marked = false,
        .ephemeral = true,
        .cluster = NULL,
        .metadata = NULL,
        .metadata_count = 0,
        .last_beat_ms = 0,
    };
}

double distro_instance_weight_clamp(double weight)
{
    /* The same comparisons, in the same order, as Instance.setWeight. */
    if (weight > DISTRO_WEIGHT_MAX) return DISTRO_WEIGHT_MAX;
    if (weight < DISTRO_WEIGHT_MIN_POSITIVE && weight > DISTRO_WEIGHT_MIN) return DISTRO_WEIGHT_MIN_POSITIVE;
    if (weight < DISTRO_WEIGHT_MIN) return DISTRO_WEIGHT_MIN;
    return weight;
}

static char *distro_strdup(const char *s)
{
    SIM_ASSERT(s != NULL);
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}

void distro_instance_owned_init(distro_instance_owned *owned)
{
    SIM_ASSERT(owned != NULL);
    distro_instance_init_defaults(&owned->inst);
    owned->ip = NULL;
    owned->cluster = NULL;
    owned->metadata = NULL;
    owned->metadata_strings = NULL;
}

int distro_instance_set(distro_instance_owned *owned, const char *ip, uint32_t port, double weight,
                        const char *cluster)
{
    SIM_ASSERT(owned != NULL);
    SIM_ASSERT(ip != NULL);
    char *ip_copy = distro_strdup(ip);
    char *cluster_copy = distro_strdup(cluster != NULL ? cluster : "DEFAULT");
    if (ip_copy == NULL || cluster_copy == NULL) {
        free(ip_copy);
        free(cluster_copy);
        return -1;
    }
    free(owned->ip);
    free(owned->cluster);
    owned->ip = ip_copy;
    owned->cluster = cluster_copy;
    owned->inst.ip = ip_copy;
    owned->inst.cluster = cluster_copy;
    owned->inst.port = port;
    owned->inst.weight = distro_instance_weight_clamp(weight);
    return 0;
}

/* Binary search for `key`: returns true and its index if present, else
 * false and the index where it would be inserted.  O(log m). */
static bool distro_metadata_find(const distro_instance *inst, const char *key, uint32_t *index)
{
    uint32_t lo = 0;
    uint32_t hi = inst->metadata_count;
    while (lo < hi) { /* bound: log2(metadata_count) + 1 rounds */
        uint32_t mid = lo + (hi - lo) / 2;
        int c = distro_java_string_compare(inst->metadata[mid].key, key);
        if (c == 0) {
            *index = mid;
            return true;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *index = lo;
    return false;
}

int distro_instance_metadata_put(distro_instance_owned *owned, const char *k, const char *v)
{
    SIM_ASSERT(owned != NULL);
    SIM_ASSERT(k != NULL);
    SIM_ASSERT(v != NULL);
    distro_instance *inst = &owned->inst;
    SIM_ASSERT(inst->metadata == owned->metadata);
    SIM_ASSERT(owned->metadata != NULL || inst->metadata_count == 0);
    uint32_t at = 0;
    char *value = distro_strdup(v);
    if (value == NULL) return -1;
    if (distro_metadata_find(inst, k, &at)) {
        free(owned->metadata_strings[2 * (size_t)at + 1]);
        owned->metadata_strings[2 * (size_t)at + 1] = value;
        owned->metadata[at].value = value;
        return 0;
    }
    SIM_ASSERT(inst->metadata_count < UINT32_MAX / 2);
    size_t count = (size_t)inst->metadata_count + 1;
    char *key = distro_strdup(k);
    /* Both arrays grow before anything moves, so a failure leaves the
     * entries as they were (an array may just be larger). */
    distro_kv *grown = key != NULL ? realloc(owned->metadata, count * sizeof *grown) : NULL;
    if (grown != NULL) {
        owned->metadata = grown;
        inst->metadata = grown;
    }
    char **strings = grown != NULL ? realloc(owned->metadata_strings, 2 * count * sizeof *strings) : NULL;
    if (strings == NULL) {
        free(key);
        free(value);
        return -1;
    }
    owned->metadata_strings = strings;
    memmove(&grown[at + 1], &grown[at], (inst->metadata_count - at) * sizeof *grown);
    memmove(&strings[2 * (size_t)at + 2], &strings[2 * (size_t)at],
            2 * (inst->metadata_count - at) * sizeof *strings);
    grown[at] = (distro_kv){.key = key, .value = value};
    strings[2 * (size_t)at] = key;
    strings[2 * (size_t)at + 1] = value;
    inst->metadata_count++;
    if (at > 0) SIM_ASSERT(distro_java_string_compare(grown[at - 1].key, key) < 0);
    if (at + 1 < inst->metadata_count) SIM_ASSERT(distro_java_string_compare(key, grown[at + 1].key) < 0);
    return 0;
}

int distro_instance_copy(distro_instance_owned *dst, const distro_instance *src)
{
    SIM_ASSERT(dst != NULL);
    SIM_ASSERT(src != NULL);
    SIM_ASSERT(&dst->inst != src);
    distro_instance_owned_init(dst);
    dst->inst = *src;
    dst->inst.ip = NULL;
    dst->inst.cluster = NULL;
    dst->inst.metadata = NULL;
    dst->inst.metadata_count = 0;
    if (src->ip != NULL && (dst->ip = distro_strdup(src->ip)) == NULL) goto fail;
    dst->inst.ip = dst->ip;
    if (src->cluster != NULL && (dst->cluster = distro_strdup(src->cluster)) == NULL) goto fail;
    dst->inst.cluster = dst->cluster;
    if (src->metadata_count > 0) {
        SIM_ASSERT(src->metadata != NULL);
        size_t m = src->metadata_count;
        dst->metadata = calloc(m, sizeof *dst->metadata);
        dst->metadata_strings = calloc(2 * m, sizeof *dst->metadata_strings);
        dst->inst.metadata = dst->metadata;
        if (dst->metadata == NULL || dst->metadata_strings == NULL) goto fail;
        /* Counted as filled so that deinit frees the partial copy. */
        for (uint32_t i = 0; i < src->metadata_count; i++) {
            dst->inst.metadata_count = i + 1;
            char *key = distro_strdup(src->metadata[i].key);
            char *value = distro_strdup(src->metadata[i].value);
            dst->metadata_strings[2 * (size_t)i] = key;
            dst->metadata_strings[2 * (size_t)i + 1] = value;
            dst->metadata[i] = (distro_kv){.key = key, .value = value};
            if (key == NULL || value == NULL) goto fail;
        }
    }
    SIM_ASSERT(dst->inst.metadata_count == src->metadata_count);
    return 0;

fail:
    distro_instance_deinit(dst);
    return -1;
}

void distro_instance_deinit(distro_instance_owned *owned)
{
    if (owned == NULL) return;
    SIM_ASSERT(owned->metadata_strings != NULL || owned->inst.metadata_count == 0);
    for (size_t i = 0; i < 2 * (size_t)owned->inst.metadata_count; i++) free(owned->metadata_strings[i]);
    free(owned->metadata_strings);
    free(owned->metadata);
    free(owned->ip);
    free(owned->cluster);
    distro_instance_owned_init(owned);
}

int distro_instance_owned_checksum(const distro_instance_owned *list, size_t count, char out_hex[33])
{
    SIM_ASSERT(list != NULL || count == 0);
    distro_instance *views = malloc((count > 0 ? count : 1) * sizeof *views);
    if (views == NULL) return -1;
    for (size_t i = 0; i < count; i++) views[i] = list[i].inst;
    const distro_instance **order = malloc((count > 0 ? count : 1) * sizeof *order);
    if (order == NULL) {
        free(views);
        return -1;
    }
    distro_instance_checksum_into(views, count, order, out_hex);
    free(order);
    free(views);
    return 0;
}
