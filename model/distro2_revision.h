/* distro2_revision.h: the 2.x client revision, DistroUtils of Nacos 2.5.1
 * (NACOS-DISTRO.md section 3.6; vectors in 9.3 and 7.2).
 *
 * An IP-port client's revision is `DistroUtils.hash(client)`
 * (naming/.../utils/DistroUtils.java:73-98): Java's Objects.hash of the
 * client id and the Set of one Objects.hash per published service.  A
 * connection client's revision is a counter (+1 per register, batch register
 * and deregister, ConnectionBasedClient.java:80) and is not computed here.
 * The same file holds the text forms DistroUtils offers beside the hash
 * (buildUniqueString, stringHash, and the MD5 checksum, :61-129), which only
 * Nacos's tests call: they are here so the tests can hold the model to
 * every vector of DistroUtilsTest.
 *
 * Java values.  extendDatum is a Map<String, Object>; what the hash sees of
 * each value is its Java hashCode, and what the unique string sees is its
 * toString.  distro2_value names the Java type a value has after Jackson
 * read it (Integer when it fits, else Long; Double; Boolean; String; null).
 *
 * Pure: no state, nothing allocated except where a function says so.
 * Arithmetic is done in uint32_t (Java's int wraps; C's signed overflow is
 * undefined), converted to int32_t at the end. */
#ifndef DISTRO2_REVISION_H
#define DISTRO2_REVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum distro2_value_kind {
    DISTRO2_VALUE_NULL,
    DISTRO2_VALUE_STRING,
    DISTRO2_VALUE_BOOLEAN,
    DISTRO2_VALUE_INTEGER,       /* java.lang.Integer */
    DISTRO2_VALUE_LONG,          /* java.lang.Long */
    DISTRO2_VALUE_DOUBLE,        /* java.lang.Double */
} distro2_value_kind;

typedef struct distro2_value {
    distro2_value_kind kind;
    const char *s;               /* STRING */
    bool b;                      /* BOOLEAN */
    int64_t i;                   /* INTEGER (in int32 range), LONG */
    double d;                    /* DOUBLE */
} distro2_value;

typedef struct distro2_extend {
    const char *key;
    distro2_value value;
} distro2_extend;

/* The extendDatum keys DistroUtils reads (Constants.PUBLISH_INSTANCE_*). */
#define DISTRO2_PUBLISH_WEIGHT "publishInstanceWeight"
#define DISTRO2_PUBLISH_ENABLE "publishInstanceEnable"

/* One published service of a client and its InstancePublishInfo. */
typedef struct distro2_publish {
    const char *namespace_id;
    const char *group;
    const char *service;
    bool ephemeral;              /* Service.isEphemeral */
    const char *ip;
    uint32_t port;
    bool healthy;
    const char *cluster;         /* NULL or blank reads as "DEFAULT" */
    const distro2_extend *extend;   /* extendDatum, distinct keys */
    uint32_t extend_count;
} distro2_publish;

/* Java's hashCode of a value (Objects.hashCode: null is 0). */
int32_t distro2_java_value_hash(const distro2_value *value);

/* Java's Double.hashCode: (int)(bits ^ (bits >>> 32)) of
 * doubleToLongBits (every NaN is the canonical 0x7ff8000000000000). */
int32_t distro2_java_double_hash(double d);

/* getWeight: a numeric publishInstanceWeight as a double, else 1.0
 * (DistroUtils.java:149-156). */
double distro2_publish_weight(const distro2_publish *p);
/* getEnabled: a Boolean publishInstanceEnable, else true (:140-147). */
bool distro2_publish_enabled(const distro2_publish *p);

/* The inner Objects.hash(namespace, group, name, ephemeral, ip, port,
 * weight, healthy, enabled, cluster, extendDatum) of one service
 * (DistroUtils.java:79-92).  O(extend_count + string lengths). */
int32_t distro2_publish_hash(const distro2_publish *p);

/* DistroUtils.hash: Objects.hash(clientId, Set<inner hash>), the Set summing
 * its *distinct* elements (Collectors.toSet, :98).  `count` may be 0 (an
 * empty client).  O(count^2) for the distinct test: a client publishes one
 * instance per service, a handful in practice. */
int32_t distro2_ipport_revision(const char *client_id, const distro2_publish *pubs, size_t count);

/* buildUniqueString (:108-129): the client id, '|', then per service sorted
 * by "namespace##group@@name##ephemeral" in Java String order:
 * "key_ip:port_weight_healthy_enabled_cluster_M," with M the extendDatum
 * as "k:v," by key in Java String order.  Returns a malloc'd string (the
 * caller frees it), NULL when out of memory. */
char *distro2_unique_string(const char *client_id, const distro2_publish *pubs, size_t count);

/* stringHash (:62-68): String.hashCode of the unique string; 0 when out of
 * memory is indistinguishable, so it returns false then. */
bool distro2_string_hash(const char *client_id, const distro2_publish *pubs, size_t count, int32_t *out);

/* checksum (:103-106): lowercase hex MD5 (libmd) of the unique string's
 * UTF-8 bytes.  False when out of memory. */
bool distro2_checksum(const char *client_id, const distro2_publish *pubs, size_t count, char out_hex[33]);

#endif
