/* tst_world.h: a small simulated Nacos 1.4 cluster for the model's tests.
 *
 * Builds an engine and a distro_cluster, records every datum change and
 * member-state change the model reports, and offers the few helpers the
 * behaviour tests share.  Header-only: each test binary includes it once. */
#ifndef TST_WORLD_H
#define TST_WORLD_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distro_cluster.h"
#include "distro_hash.h"
#include "sim_net.h"

typedef struct tst_change {
    sim_time_ns at_ns;
    uint32_t node;
    uint32_t key;
    bool present;                /* the key is stored after the change */
} tst_change;

typedef struct tst_member_event {
    sim_time_ns at_ns;
    uint32_t node;
    uint32_t peer;
    distro_member_state old_state;
    distro_member_state state;
    uint32_t fail_cnt;
} tst_member_event;

typedef struct tst_world {
    sim_engine *sim;
    distro_cluster *cluster;
    tst_change *changes;
    size_t changes_len;
    size_t changes_cap;
    tst_member_event *members;
    size_t members_len;
    size_t members_cap;
} tst_world;

static void tst_on_datum(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t key, const char *old_cks,
                         const char *new_cks)
{
    (void)old_cks;
    tst_world *w = ctx;
    if (w->changes_len == w->changes_cap) {
        w->changes_cap = w->changes_cap == 0 ? 256 : w->changes_cap * 2;
        w->changes = realloc(w->changes, w->changes_cap * sizeof *w->changes);
        ck_assert_ptr_nonnull(w->changes);
    }
    w->changes[w->changes_len++] = (tst_change){ at_ns, node, key, new_cks[0] != '\0' };
}

static void tst_on_member(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t peer, distro_member_state old_state,
                          distro_member_state state)
{
    tst_world *w = ctx;
    if (w->members_len == w->members_cap) {
        w->members_cap = w->members_cap == 0 ? 256 : w->members_cap * 2;
        w->members = realloc(w->members, w->members_cap * sizeof *w->members);
        ck_assert_ptr_nonnull(w->members);
    }
    w->members[w->members_len++] =
        (tst_member_event){ at_ns, node, peer, old_state, state, distro_node_fail_count(w->cluster, node, peer) };
}

/* A cluster whose HTTP calls ride connections (tcp = true, as scenarios
 * do by default, with `tcp_params`, NULL for Linux's defaults) or datagram
 * requests. */
static tst_world *tst_world_new_tcp(uint32_t nodes, uint64_t seed, const distro_config *config, bool tcp,
                                    const sim_conn_params *tcp_params)
{
    tst_world *w = calloc(1, sizeof *w);
    ck_assert_ptr_nonnull(w);
    sim_error err;
    sim_config sc = { .seed = seed, .node_count = nodes };
    w->sim = sim_engine_create(&sc, &err);
    ck_assert_ptr_nonnull(w->sim);
    distro_config defaults = distro_config_defaults();
    w->cluster = distro_cluster_create(w->sim, config != NULL ? config : &defaults, NULL, &err);
    ck_assert_ptr_nonnull(w->cluster);
    if (tcp) ck_assert_int_eq(distro_cluster_use_tcp(w->cluster, tcp_params, &err), SIM_OK);
    distro_observer obs = { .ctx = w, .datum_changed = tst_on_datum, .member_changed = tst_on_member };
    distro_cluster_set_observer(w->cluster, &obs);
    ck_assert_int_eq(distro_cluster_start_all(w->cluster, &err), SIM_OK);
    return w;
}

static tst_world *tst_world_new(uint32_t nodes, uint64_t seed, const distro_config *config)
{
    return tst_world_new_tcp(nodes, seed, config, true, NULL);
}

static void tst_world_free(tst_world *w)
{
    distro_cluster_destroy(w->cluster);
    sim_engine_destroy(w->sim);
    free(w->changes);
    free(w->members);
    free(w);
}

static void tst_run_to(tst_world *w, sim_time_ns at_ns)
{
    (void)sim_run_until(w->sim, at_ns);
}

/* A manual client (no automatic register or beats) for `service`. */
static inline uint32_t tst_client(tst_world *w, const char *service, const char *ip, uint32_t port)
{
    distro_client_spec spec = { .service = service, .ip = ip, .port = port, .weight = 1.0, .manual = true };
    uint32_t id = 0;
    sim_error err;
    ck_assert_int_eq(distro_client_add(w->cluster, &spec, 0, &id, &err), SIM_OK);
    return id;
}

static inline void tst_request(tst_world *w, uint32_t client, uint32_t server, distro_op op)
{
    sim_error err;
    ck_assert_int_eq(distro_request(w->cluster, client, server, op, &err), SIM_OK);
}

/* The first change of `key` on `node` at or after `from_ns` that leaves it
 * present (or absent); SIM_TIME_NEVER when none. */
static inline sim_time_ns tst_first_change(const tst_world *w, uint32_t node, uint32_t key, sim_time_ns from_ns,
                                    bool present)
{
    for (size_t i = 0; i < w->changes_len; i++) {
        const tst_change *c = &w->changes[i];
        if (c->node == node && c->key == key && c->at_ns >= from_ns && c->present == present) return c->at_ns;
    }
    return SIM_TIME_NEVER;
}

/* A service name "<prefix>-<i>" whose distro_hash satisfies
 * hash % m1 == r1 and hash % m2 == r2 (m2 = 0: no second condition). */
static inline void tst_service_with_hash(char *out, size_t size, const char *prefix, uint32_t m1, uint32_t r1, uint32_t m2,
                                  uint32_t r2)
{
    for (uint32_t i = 0; i < 100000; i++) {
        char tag[96];
        snprintf(out, size, "%s-%u", prefix, i);
        snprintf(tag, sizeof tag, "DEFAULT_GROUP@@%s", out);
        uint32_t h = distro_hash(tag);
        if (h % m1 == r1 && (m2 == 0 || h % m2 == r2)) return;
    }
    ck_abort_msg("no service name with the wanted hash");
}

/* The member event of node's view of peer at or after `from`, skipping
 * `skip` of them; NULL when there is none. */
static inline const tst_member_event *tst_member_event_nth(const tst_world *w, uint32_t node, uint32_t peer,
                                                           sim_time_ns from, size_t skip)
{
    for (size_t i = 0; i < w->members_len; i++) {
        const tst_member_event *e = &w->members[i];
        if (e->node != node || e->peer != peer || e->at_ns < from) continue;
        if (skip-- == 0) return e;
    }
    return NULL;
}

static inline uint32_t tst_key(tst_world *w, const char *service)
{
    return distro_cluster_key(w->cluster, "public", "DEFAULT_GROUP", service);
}

#endif
