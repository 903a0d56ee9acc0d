/* distro_instance.h: a Nacos 1.4 ephemeral instance and instance lists.
 *
 * Mirrors naming/.../core/Instance.java (NACOS-DISTRO.md section 2.1): the
 * fields that replication and the checksum see.  Strings are owned by the
 * instance (heap copies) and released by distro_instance_deinit. */
#ifndef DISTRO_INSTANCE_H
#define DISTRO_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct distro_kv {
    char *key;                   /* owned */
    char *value;                 /* owned */
} distro_kv;

typedef struct distro_instance {
    char *ip;                    /* owned, "10.1.2.3" */
    uint32_t port;               /* 0 is Nacos's wildcard port */
    double weight;               /* clamped to [0, 10000]; (0, 0.01) -> 0.01 */
    bool healthy;                /* default true */
    bool enabled;                /* default true */
    bool marked;                 /* default false */
    bool ephemeral;              /* default true */
    char *cluster;               /* owned, default "DEFAULT" */
    distro_kv *metadata;         /* owned, sorted by key in Java String order */
    uint32_t metadata_count;
    int64_t last_beat_ms;        /* the holder's local clock, milliseconds */
} distro_instance;

#include "sim_error.h" /* SIM_MUST_CHECK */

/* Lifecycle and setters, in model/distro_instance.c.
 *
 * One ownership rule for all of them: an instance owns its strings and its
 * metadata array; functions borrow their `const char *` arguments and copy
 * them.  Functions returning int return 0 on success and -1 when the
 * allocator failed, in which case the instance is left as it was (for
 * distro_instance_copy: `dst` is left empty, as after init). */

/* Nacos's defaults (2.1): weight 1.0, healthy, enabled, ephemeral, not
 * marked, port 0, no metadata, last_beat_ms 0; ip and cluster NULL (a NULL
 * cluster reads as "DEFAULT").  Does not free anything: use it on a fresh
 * struct, never on one that owns strings. */
void distro_instance_init_defaults(distro_instance *inst);

/* Instance.setWeight (2.1): values above 10000 become 10000, values in
 * (0, 0.01) become 0.01, negative values become 0.  NaN and -0.0 pass
 * through unchanged, as every comparison in the Java code is false for
 * them. */
double distro_instance_weight_clamp(double weight);

/* Sets ip, port, weight (clamped) and cluster (NULL means "DEFAULT"),
 * replacing the previous strings. */
SIM_MUST_CHECK int distro_instance_set(distro_instance *inst, const char *ip, uint32_t port,
                                       double weight, const char *cluster);

/* Puts metadata[k] = v, replacing an existing value, and keeps the keys in
 * Java String order.  O(m) for m keys (binary search plus one move). */
SIM_MUST_CHECK int distro_instance_metadata_put(distro_instance *inst, const char *k, const char *v);

/* Deep copy of `src` into `dst`, which must not own anything yet (it is
 * overwritten, not freed). */
SIM_MUST_CHECK int distro_instance_copy(distro_instance *dst, const distro_instance *src);

/* Frees what the instance owns and leaves it as after
 * distro_instance_init_defaults; NULL fields and repeated calls are fine. */
void distro_instance_deinit(distro_instance *inst);

#endif
