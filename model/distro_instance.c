/* distro_instance.c: lifecycle and setters of a Nacos 1.4 Instance.
 *
 * Implements the field rules of NACOS-DISTRO.md section 2.1 (defaults,
 * weight clamping, metadata as a string map).  These run while a scenario
 * or a received message is being turned into instances, so they allocate;
 * the per-event paths (checksums, ownership) live in distro_hash.c and do
 * not.
 *
 * Invariants of an instance built through this API:
 *   (1) metadata keys are unique and ascending in Java String order
 *       (distro_java_string_compare), so the checksum can print them as they
 *       are stored (2.6(a));
 *   (2) metadata_count > 0 implies metadata != NULL;
 *   (3) weight is a fixed point of distro_instance_weight_clamp. */
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

int distro_instance_set(distro_instance *inst, const char *ip, uint32_t port, double weight,
                        const char *cluster)
{
    SIM_ASSERT(inst != NULL);
    SIM_ASSERT(ip != NULL);
    char *ip_copy = distro_strdup(ip);
    char *cluster_copy = distro_strdup(cluster != NULL ? cluster : "DEFAULT");
    if (ip_copy == NULL || cluster_copy == NULL) {
        free(ip_copy);
        free(cluster_copy);
        return -1;
    }
    free(inst->ip);
    free(inst->cluster);
    inst->ip = ip_copy;
    inst->cluster = cluster_copy;
    inst->port = port;
    inst->weight = distro_instance_weight_clamp(weight);
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

int distro_instance_metadata_put(distro_instance *inst, const char *k, const char *v)
{
    SIM_ASSERT(inst != NULL);
    SIM_ASSERT(k != NULL);
    SIM_ASSERT(v != NULL);
    SIM_ASSERT(inst->metadata != NULL || inst->metadata_count == 0);
    uint32_t at = 0;
    char *value = distro_strdup(v);
    if (value == NULL) return -1;
    if (distro_metadata_find(inst, k, &at)) {
        free(inst->metadata[at].value);
        inst->metadata[at].value = value;
        return 0;
    }
    SIM_ASSERT(inst->metadata_count < UINT32_MAX);
    char *key = distro_strdup(k);
    distro_kv *grown = key != NULL
        ? realloc(inst->metadata, ((size_t)inst->metadata_count + 1) * sizeof *grown)
        : NULL;
    if (grown == NULL) {
        free(key);
        free(value);
        return -1;
    }
    memmove(&grown[at + 1], &grown[at], (inst->metadata_count - at) * sizeof *grown);
    grown[at] = (distro_kv){.key = key, .value = value};
    inst->metadata = grown;
    inst->metadata_count++;
    if (at > 0) SIM_ASSERT(distro_java_string_compare(grown[at - 1].key, key) < 0);
    if (at + 1 < inst->metadata_count) SIM_ASSERT(distro_java_string_compare(key, grown[at + 1].key) < 0);
    return 0;
}

int distro_instance_copy(distro_instance *dst, const distro_instance *src)
{
    SIM_ASSERT(dst != NULL);
    SIM_ASSERT(src != NULL);
    SIM_ASSERT(dst != src);
    *dst = *src;
    dst->ip = NULL;
    dst->cluster = NULL;
    dst->metadata = NULL;
    dst->metadata_count = 0;
    if (src->ip != NULL && (dst->ip = distro_strdup(src->ip)) == NULL) goto fail;
    if (src->cluster != NULL && (dst->cluster = distro_strdup(src->cluster)) == NULL) goto fail;
    if (src->metadata_count > 0) {
        SIM_ASSERT(src->metadata != NULL);
        dst->metadata = calloc(src->metadata_count, sizeof *dst->metadata);
        if (dst->metadata == NULL) goto fail;
        /* Counted as filled so that deinit frees the partial copy. */
        for (uint32_t i = 0; i < src->metadata_count; i++) {
            dst->metadata_count = i + 1;
            dst->metadata[i].key = distro_strdup(src->metadata[i].key);
            dst->metadata[i].value = distro_strdup(src->metadata[i].value);
            if (dst->metadata[i].key == NULL || dst->metadata[i].value == NULL) goto fail;
        }
    }
    SIM_ASSERT(dst->metadata_count == src->metadata_count);
    return 0;

fail:
    distro_instance_deinit(dst);
    return -1;
}

void distro_instance_deinit(distro_instance *inst)
{
    if (inst == NULL) return;
    SIM_ASSERT(inst->metadata != NULL || inst->metadata_count == 0);
    for (uint32_t i = 0; i < inst->metadata_count; i++) {
        free(inst->metadata[i].key);
        free(inst->metadata[i].value);
    }
    free(inst->metadata);
    free(inst->ip);
    free(inst->cluster);
    distro_instance_init_defaults(inst);
}
