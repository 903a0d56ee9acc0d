/* distro2_revision.c: DistroUtils of Nacos 2.5.1 (see distro2_revision.h;
 * NACOS-DISTRO.md section 3.6).
 *
 * Java's hash functions, transcribed from their documented contracts:
 *   Objects.hash(a1..an)  = fold r = 1: r = 31 r + hashCode(ai)
 *   String.hashCode       = distro_java_string_hash (UTF-16 code units)
 *   Integer.hashCode(v)   = v;   Long.hashCode(v) = (int)(v ^ (v >>> 32))
 *   Boolean.hashCode(b)   = b ? 1231 : 1237
 *   Double.hashCode(d)    = Long.hashCode(doubleToLongBits(d))
 *   AbstractSet.hashCode  = sum of the elements' hashCodes
 *   AbstractMap.hashCode  = sum over entries of hash(key) ^ hash(value)
 * all wrapping at 32 bits. */
#include "distro2_revision.h"

#include <md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distro_hash.h"
#include "sim_assert.h"

#define DISTRO2_DEFAULT_CLUSTER "DEFAULT"

static int32_t distro2_i32(uint32_t h)
{
    if (h <= (uint32_t)INT32_MAX) return (int32_t)h;
    return (int32_t)(h - 0x80000000u) + INT32_MIN;
}

static uint32_t distro2_long_hash(int64_t v)
{
    uint64_t bits = (uint64_t)v;
    return (uint32_t)(bits ^ (bits >> 32));
}

int32_t distro2_java_double_hash(double d)
{
    uint64_t bits = 0;
    if (d != d) {
        bits = 0x7ff8000000000000ull;   /* doubleToLongBits folds every NaN */
    } else {
        memcpy(&bits, &d, sizeof bits);
    }
    return distro2_i32((uint32_t)(bits ^ (bits >> 32)));
}

static uint32_t distro2_str_hash(const char *s)
{
    return s == NULL ? 0u : (uint32_t)distro_java_string_hash(s);
}

int32_t distro2_java_value_hash(const distro2_value *value)
{
    switch (value->kind) {
    case DISTRO2_VALUE_NULL: return 0;
    case DISTRO2_VALUE_STRING: return distro2_i32(distro2_str_hash(value->s));
    case DISTRO2_VALUE_BOOLEAN: return value->b ? 1231 : 1237;
    case DISTRO2_VALUE_INTEGER: return (int32_t)value->i;
    case DISTRO2_VALUE_LONG: return distro2_i32(distro2_long_hash(value->i));
    case DISTRO2_VALUE_DOUBLE: return distro2_java_double_hash(value->d);
    }
    return 0;
}

static const distro2_value *distro2_extend_get(const distro2_publish *p, const char *key)
{
    for (uint32_t i = 0; i < p->extend_count; i++) {
        if (strcmp(p->extend[i].key, key) == 0) return &p->extend[i].value;
    }
    return NULL;
}

double distro2_publish_weight(const distro2_publish *p)
{
    const distro2_value *v = distro2_extend_get(p, DISTRO2_PUBLISH_WEIGHT);
    if (v == NULL) return 1.0;
    switch (v->kind) {
    case DISTRO2_VALUE_INTEGER:
    case DISTRO2_VALUE_LONG: return (double)v->i;   /* Number.doubleValue */
    case DISTRO2_VALUE_DOUBLE: return v->d;
    case DISTRO2_VALUE_NULL:
    case DISTRO2_VALUE_STRING:
    case DISTRO2_VALUE_BOOLEAN: return 1.0;          /* not a Number */
    }
    return 1.0;
}

bool distro2_publish_enabled(const distro2_publish *p)
{
    const distro2_value *v = distro2_extend_get(p, DISTRO2_PUBLISH_ENABLE);
    return v == NULL || v->kind != DISTRO2_VALUE_BOOLEAN || v->b;
}

static const char *distro2_cluster_of(const distro2_publish *p)
{
    if (p->cluster == NULL) return DISTRO2_DEFAULT_CLUSTER;
    for (const char *c = p->cluster; *c != '\0'; c++) {
        /* StringUtils.isBlank: Character.isWhitespace on every char */
        if (strchr(" \t\n\v\f\r\x1c\x1d\x1e\x1f", *c) == NULL) return p->cluster;
    }
    return DISTRO2_DEFAULT_CLUSTER;
}

int32_t distro2_publish_hash(const distro2_publish *p)
{
    uint32_t map = 0;
    for (uint32_t i = 0; i < p->extend_count; i++) {
        map += distro2_str_hash(p->extend[i].key) ^ (uint32_t)distro2_java_value_hash(&p->extend[i].value);
    }
    const uint32_t parts[11] = {
        distro2_str_hash(p->namespace_id),
        distro2_str_hash(p->group),
        distro2_str_hash(p->service),
        p->ephemeral ? 1231u : 1237u,
        distro2_str_hash(p->ip),
        p->port,                                   /* Integer */
        (uint32_t)distro2_java_double_hash(distro2_publish_weight(p)),
        p->healthy ? 1231u : 1237u,
        distro2_publish_enabled(p) ? 1231u : 1237u,
        distro2_str_hash(distro2_cluster_of(p)),
        map,
    };
    uint32_t r = 1;
    for (unsigned i = 0; i < 11; i++) r = 31u * r + parts[i];
    return distro2_i32(r);
}

int32_t distro2_ipport_revision(const char *client_id, const distro2_publish *pubs, size_t count)
{
    uint32_t set = 0;
    for (size_t i = 0; i < count; i++) { /* bound: count^2, see the header */
        int32_t h = distro2_publish_hash(&pubs[i]);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) seen = distro2_publish_hash(&pubs[j]) == h;
        if (!seen) set += (uint32_t)h;
    }
    uint32_t r = 31u * (31u * 1u + distro2_str_hash(client_id)) + set;
    return distro2_i32(r);
}

/* --- the unique string ---------------------------------------------------- */

typedef struct distro2_buf {
    char *s;
    size_t len;
    size_t cap;
    bool failed;
} distro2_buf;

static void distro2_put(distro2_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 128 : b->cap;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->s, cap);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

/* String.valueOf(value) as StringBuilder.append(Object) prints it. */
static void distro2_put_value(distro2_buf *b, const distro2_value *v)
{
    char text[DISTRO_DOUBLE_STRING_MAX];
    switch (v->kind) {
    case DISTRO2_VALUE_NULL: distro2_put(b, "null"); return;
    case DISTRO2_VALUE_STRING: distro2_put(b, v->s); return;
    case DISTRO2_VALUE_BOOLEAN: distro2_put(b, v->b ? "true" : "false"); return;
    case DISTRO2_VALUE_INTEGER:
    case DISTRO2_VALUE_LONG:
        snprintf(text, sizeof text, "%lld", (long long)v->i);
        distro2_put(b, text);
        return;
    case DISTRO2_VALUE_DOUBLE:
        distro_java_double_to_string(v->d, text, sizeof text);
        distro2_put(b, text);
        return;
    }
}

/* serviceKey (DistroUtils.java): namespace##group@@name##ephemeral. */
static char *distro2_service_key(const distro2_publish *p)
{
    distro2_buf b = {0};
    distro2_put(&b, p->namespace_id);
    distro2_put(&b, "##");
    distro2_put(&b, p->group);
    distro2_put(&b, "@@");
    distro2_put(&b, p->service);
    distro2_put(&b, "##");
    distro2_put(&b, p->ephemeral ? "true" : "false");
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

typedef struct distro2_keyed {
    char *key;
    const distro2_publish *p;
} distro2_keyed;

static int distro2_keyed_cmp(const void *a, const void *b)
{
    return distro_java_string_compare(((const distro2_keyed *)a)->key, ((const distro2_keyed *)b)->key);
}

static int distro2_extend_cmp(const void *a, const void *b)
{
    return distro_java_string_compare((*(const distro2_extend *const *)a)->key,
                                      (*(const distro2_extend *const *)b)->key);
}

static void distro2_put_publish(distro2_buf *b, const char *service_key, const distro2_publish *p)
{
    char text[DISTRO_DOUBLE_STRING_MAX];
    distro2_put(b, service_key);
    distro2_put(b, "_");
    distro2_put(b, p->ip);
    snprintf(text, sizeof text, ":%u_", (unsigned)p->port);
    distro2_put(b, text);
    distro_java_double_to_string(distro2_publish_weight(p), text, sizeof text);
    distro2_put(b, text);
    distro2_put(b, p->healthy ? "_true_" : "_false_");
    distro2_put(b, distro2_publish_enabled(p) ? "true_" : "false_");
    distro2_put(b, distro2_cluster_of(p));
    distro2_put(b, "_");
    if (p->extend_count > 0) {
        const distro2_extend **order = malloc(p->extend_count * sizeof *order);
        if (order == NULL) {
            b->failed = true;
            return;
        }
        for (uint32_t i = 0; i < p->extend_count; i++) order[i] = &p->extend[i];
        qsort(order, p->extend_count, sizeof *order, distro2_extend_cmp);
        for (uint32_t i = 0; i < p->extend_count; i++) {
            distro2_put(b, order[i]->key);
            distro2_put(b, ":");
            distro2_put_value(b, &order[i]->value);
            distro2_put(b, ",");
        }
        free(order);
    }
    distro2_put(b, ",");
}

char *distro2_unique_string(const char *client_id, const distro2_publish *pubs, size_t count)
{
    distro2_buf b = {0};
    distro2_keyed *keyed = count > 0 ? calloc(count, sizeof *keyed) : NULL;
    if (count > 0 && keyed == NULL) return NULL;
    for (size_t i = 0; i < count; i++) {
        keyed[i].p = &pubs[i];
        keyed[i].key = distro2_service_key(&pubs[i]);
        if (keyed[i].key == NULL) b.failed = true;
    }
    distro2_put(&b, client_id);
    distro2_put(&b, "|");
    if (!b.failed && count > 0) {
        qsort(keyed, count, sizeof *keyed, distro2_keyed_cmp);   /* keys are distinct per client */
        for (size_t i = 0; i < count; i++) distro2_put_publish(&b, keyed[i].key, keyed[i].p);
    }
    for (size_t i = 0; i < count; i++) free(keyed[i].key);
    free(keyed);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

bool distro2_string_hash(const char *client_id, const distro2_publish *pubs, size_t count, int32_t *out)
{
    char *s = distro2_unique_string(client_id, pubs, count);
    if (s == NULL) return false;
    *out = distro_java_string_hash(s);
    free(s);
    return true;
}

bool distro2_checksum(const char *client_id, const distro2_publish *pubs, size_t count, char out_hex[33])
{
    char *s = distro2_unique_string(client_id, pubs, count);
    if (s == NULL) return false;
    MD5_CTX md5;
    MD5Init(&md5);
    MD5Update(&md5, (const uint8_t *)s, strlen(s));
    uint8_t digest[MD5_DIGEST_LENGTH];
    MD5Final(digest, &md5);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < MD5_DIGEST_LENGTH; i++) {
        out_hex[2 * i] = hex[digest[i] >> 4];
        out_hex[2 * i + 1] = hex[digest[i] & 15];
    }
    out_hex[32] = '\0';
    free(s);
    return true;
}
