/* distro_instance.h: a Nacos 1.4 ephemeral instance and instance lists.
 *
 * Mirrors naming/.../core/Instance.java (NACOS-DISTRO.md section 2.1): the
 * fields that replication and the checksum see.
 *
 * Two types, one per ownership:
 *   - distro_instance borrows its strings and its metadata array (const
 *     fields).  The model's instance lists hold these, with strings interned
 *     in the cluster's pool, and copy them bitwise; the checksum functions of
 *     distro_hash.h read them.  Nothing frees a distro_instance's strings.
 *   - distro_instance_owned wraps one and owns what it points to (heap
 *     copies), for code that builds instances from text (the `nacos
 *     checksum` tool, tests).  Only it has setters and a deinit. */
#ifndef DISTRO_INSTANCE_H
#define DISTRO_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct distro_kv {
    const char *key;             /* borrowed */
    const char *value;           /* borrowed */
} distro_kv;

typedef struct distro_instance {
    const char *ip;              /* borrowed, "10.1.2.3" */
    uint32_t port;               /* 0 is Nacos's wildcard port */
    double weight;               /* clamped to [0, 10000]; (0, 0.01) -> 0.01 */
    bool healthy;                /* default true */
    bool enabled;                /* default true */
    bool marked;                 /* default false */
    bool ephemeral;              /* default true */
    const char *cluster;         /* borrowed, default "DEFAULT" */
    const distro_kv *metadata;   /* borrowed, sorted by key in Java String order */
    uint32_t metadata_count;
    int64_t last_beat_ms;        /* the holder's local clock, milliseconds */
} distro_instance;

/* An instance that owns its strings: `inst` is its view, whose pointers
 * are the owned copies below (read it, set its flags and numbers; change
 * its strings only through the setters). */
typedef struct distro_instance_owned {
    distro_instance inst;
    char *ip;                    /* owned; inst.ip */
    char *cluster;               /* owned; inst.cluster */
    distro_kv *metadata;         /* owned array; inst.metadata */
    char **metadata_strings;     /* owned: key of entry i at [2i], value at [2i + 1] */
} distro_instance_owned;

#include "sim_error.h" /* SIM_MUST_CHECK */

/* Lifecycle and setters, in model/distro_instance.c.
 *
 * One ownership rule for all of them: a distro_instance_owned owns its
 * strings and its metadata arrays; functions borrow their `const char *`
 * arguments and copy them.  Functions returning int return 0 on success and -1 when the
 * allocator failed, in which case the instance is left as it was (for
 * distro_instance_copy: `dst` is left empty, as after init). */

/* Nacos's defaults (2.1): weight 1.0, healthy, enabled, ephemeral, not
 * marked, port 0, no metadata, last_beat_ms 0; ip and cluster NULL (a NULL
 * cluster reads as "DEFAULT"). */
void distro_instance_init_defaults(distro_instance *inst);
/* The same defaults for an owned instance, owning nothing yet.  Does not
 * free anything: use it on a fresh struct, never on one that owns strings. */
void distro_instance_owned_init(distro_instance_owned *owned);

/* Instance.setWeight (2.1): values above 10000 become 10000, values in
 * (0, 0.01) become 0.01, negative values become 0.  NaN and -0.0 pass
 * through unchanged, as every comparison in the Java code is false for
 * them. */
double distro_instance_weight_clamp(double weight);

/* Sets ip, port, weight (clamped) and cluster (NULL means "DEFAULT"),
 * replacing the previous strings. */
SIM_MUST_CHECK int distro_instance_set(distro_instance_owned *owned, const char *ip, uint32_t port,
                                       double weight, const char *cluster);

/* Puts metadata[k] = v, replacing an existing value, and keeps the keys in
 * Java String order.  O(m) for m keys (binary search plus one move). */
SIM_MUST_CHECK int distro_instance_metadata_put(distro_instance_owned *owned, const char *k, const char *v);

/* Deep copy of `src` (owned or borrowed) into `dst`, which must not own
 * anything yet (it is overwritten, not freed). */
SIM_MUST_CHECK int distro_instance_copy(distro_instance_owned *dst, const distro_instance *src);

/* Frees what the instance owns and leaves it as after
 * distro_instance_owned_init; NULL fields and repeated calls are fine. */
void distro_instance_deinit(distro_instance_owned *owned);

/* distro_instance_checksum (distro_hash.h) of `count` owned instances, read
 * through their views.  Returns 0, or -1 when the allocator failed (then
 * out_hex is unchanged). */
SIM_MUST_CHECK int distro_instance_owned_checksum(const distro_instance_owned *list, size_t count,
                                                  char out_hex[33]);

#endif
