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

#endif
