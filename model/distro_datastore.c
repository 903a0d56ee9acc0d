/* distro_datastore.c: DataStore and the Service view of Nacos 1.4.2
 * (NACOS-DISTRO.md sections 2.1 and 2.6(a)).
 *
 * A node stores one datum per key: the key's instance list.  Nacos keeps
 * two stores, DataStore (for replication) and Service objects (for serving),
 * and they alias the same Instance objects, so a health flip on a Service
 * changes the stored datum and its checksum too.  The model keeps one list
 * per key, which is that aliasing made explicit.
 *
 * Applying a received datum keeps the local `healthy` of instances that
 * already existed and are not marked ("the checker has the most precise
 * result", Cluster.updateIps); new instances take the received flag and
 * every instance takes the received lastBeat (W1, W5). */
#include "distro_int.h"

#include <stdlib.h>
#include <string.h>

/* --- Instance lists ----------------------------------------------------------- */

distro_ilist *distro_ilist_new(uint32_t cap)
{
    distro_ilist *list = calloc(1, sizeof *list + (size_t)cap * sizeof *list->inst);
    if (list == NULL) return NULL;
    list->refs = 1;
    list->cap = cap;
    list->inst = (distro_instance *)(list + 1);
    return list;
}

distro_ilist *distro_ilist_reserve(distro_ilist *list, uint32_t cap)
{
    SIM_ASSERT(list->refs == 1);
    if (cap <= list->cap) return list;
    distro_ilist *grown = realloc(list, sizeof *list + (size_t)cap * sizeof *list->inst);
    if (grown == NULL) return NULL;   /* `list` is untouched */
    grown->inst = (distro_instance *)(grown + 1);
    grown->cap = cap;
    return grown;
}

distro_ilist *distro_ilist_retain(distro_ilist *list)
{
    if (list != NULL) {
        SIM_ASSERT(list->refs > 0);
        list->refs++;
    }
    return list;
}

void distro_ilist_release(distro_ilist *list)
{
    if (list == NULL) return;
    SIM_ASSERT(list->refs > 0);
    if (--list->refs > 0) return;
    /* Strings are interned in the cluster: nothing per instance to free. */
    free(list);
}

distro_ilist *distro_ilist_clone(const distro_ilist *list)
{
    distro_ilist *copy = distro_ilist_new(list->count + 1);
    if (copy == NULL) return NULL;
    memcpy(copy->inst, list->inst, list->count * sizeof *list->inst);
    copy->count = list->count;
    copy->checksum_valid = list->checksum_valid;
    memcpy(copy->checksum, list->checksum, sizeof copy->checksum);
    copy->service_checksum_valid = list->service_checksum_valid;
    memcpy(copy->service_checksum, list->service_checksum, sizeof copy->service_checksum);
    return copy;
}

const char *distro_ilist_checksum(distro_ilist *list)
{
    /* Nacos recomputes Instances.getChecksum on every call; a list never
     * changes once shared, so computing it once gives the same answer. */
    if (!list->checksum_valid) {
        distro_instance_checksum(list->inst, list->count, list->checksum);
        list->checksum_valid = true;
    }
    return list->checksum;
}

uint32_t distro_ilist_find(const distro_ilist *list, const char *ip, uint32_t port, const char *cluster)
{
    for (uint32_t i = 0; i < list->count; i++) {
        const distro_instance *in = &list->inst[i];
        if (in->port == port && in->ip == ip && in->cluster == cluster) return i;
    }
    return DISTRO_NONE;
}

static uint64_t digits(uint64_t v)
{
    uint64_t d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

uint64_t distro_ilist_json_bytes(const distro_ilist *list, const char *key)
{
    /* The JSON Nacos 1.4.2 writes for a Datum<Instances>: {"key":..,
     * "value":{"instanceList":[..]},"timestamp":1}, each instance with the
     * fields of Instance.java (instanceId, ip, port, weight, healthy,
     * enabled, ephemeral, clusterName, serviceName, metadata, lastBeat,
     * marked, app and the three preserved timeouts).  The sum below is that
     * text's length, field by field, with a 13-digit lastBeat. */
    const char *tag = strstr(key, "##");
    uint64_t tag_len = tag != NULL ? strlen(tag + 2) : strlen(key);
    uint64_t bytes = 48 + strlen(key);
    for (uint32_t i = 0; i < list->count; i++) {
        const distro_instance *in = &list->inst[i];
        uint64_t ip = strlen(in->ip), cl = strlen(in->cluster);
        bytes += 300 + 2 * ip + 2 * cl + 2 * tag_len + 2 * digits(in->port);
        for (uint32_t m = 0; m < in->metadata_count; m++) {
            bytes += 6 + strlen(in->metadata[m].key) + strlen(in->metadata[m].value);
        }
    }
    return bytes;
}

/* --- Store -------------------------------------------------------------------------- */

distro_ilist *distro_store_get(const distro_node *node, uint32_t key)
{
    return key < node->datums_cap ? node->datums[key].value : NULL;
}

void distro_store_put(distro_node *node, uint32_t key, distro_ilist *value)
{
    distro_cluster *c = node->cluster;
    SIM_ASSERT(key < c->key_count);
    if (!distro_datum_grow(node, key)) {
        distro_ilist_release(value);   /* the caller's reference; the store keeps its old list */
        distro_fail_nomem(c, "store put");
        return;
    }
    distro_datum *d = &node->datums[key];
    distro_ilist *old = d->value;
    if (old == value) {
        distro_ilist_release(value);   /* the caller's reference */
        return;
    }
    d->value = value;
    distro_memo_touch(node);
    if (old == NULL && value != NULL) node->key_present_count++;
    if (old != NULL && value == NULL) node->key_present_count--;
    if (value != NULL) {
        d->check_after_ms = INT64_MIN;   /* a new list: the next beat check reads it */
        distro_mapper_note_key(node, key);
        if (!d->service_exists && c->config.default_instance_ephemeral) {
            d->service_exists = true;              /* ServiceManager.putServiceAndInit */
            distro_health_arm_beat_check(node, key);
        }
    }
    if (c->observer.datum_changed != NULL || c->reads != NULL) {
        const char *before = old != NULL ? distro_ilist_checksum(old) : "";
        const char *after = value != NULL ? distro_ilist_checksum(value) : "";
        if (strcmp(before, after) != 0) {
            if (c->observer.datum_changed != NULL) {
                c->observer.datum_changed(c->observer.ctx, sim_now(c->sim), node->id, key, before, after);
            }
            /* Service.updateIPs pushes (Service.java:280); a removal of the
             * whole datum goes to onDelete, which does not (:202-207).  A
             * put of an unchanged list pushes in Nacos too, the same hosts:
             * not modelled (a beat's lastBeat is in no checksum, and beats
             * never push). */
            if (value != NULL) distro_reads_service_changed(node, key);
        }
    }
    distro_ilist_release(old);
}

void distro_store_apply_remote(distro_node *node, uint32_t key, distro_ilist *received)
{
    distro_ilist *old = distro_store_get(node, key);
    /* Lists are immutable once shared (every writer copies first), so when
     * no local health flag has to be kept the received list itself is
     * stored, with the checksums it already carries. */
    bool keep_local = false;
    for (uint32_t i = 0; old != NULL && i < received->count && !keep_local; i++) {
        const distro_instance *in = &received->inst[i];
        uint32_t j = distro_ilist_find(old, in->ip, in->port, in->cluster);
        keep_local = j != DISTRO_NONE && !in->marked && in->healthy != old->inst[j].healthy;
    }
    if (!keep_local) {
        distro_store_put(node, key, distro_ilist_retain(received));
        return;
    }
    distro_ilist *merged = distro_ilist_clone(received);
    if (merged == NULL) {
        distro_fail_nomem(node->cluster, "processData");
        return;
    }
    bool changed = false;
    if (old != NULL) {
        for (uint32_t i = 0; i < merged->count; i++) {
            distro_instance *in = &merged->inst[i];
            uint32_t j = distro_ilist_find(old, in->ip, in->port, in->cluster);
            if (j != DISTRO_NONE && !in->marked && in->healthy != old->inst[j].healthy) {
                in->healthy = old->inst[j].healthy;
                changed = true;
            }
        }
    }
    if (changed) merged->checksum_valid = merged->service_checksum_valid = false;
    distro_store_put(node, key, merged);
}

void distro_store_clear(distro_node *node)
{
    for (uint32_t k = 0; k < node->datums_cap; k++) distro_ilist_release(node->datums[k].value);
    free(node->datums);
    node->datums = NULL;
    node->datums_cap = 0;
    node->key_present_count = 0;
}
