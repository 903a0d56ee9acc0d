/* tst_distro2.h: helpers shared by the white-box tests of the Nacos 2.x
 * model (test_distro2_model.c, test_distro2_ipport.c): a 2.5.1 world, a
 * 2.x SDK client, and the per-node lookups of model/internal/distro2_int.h. */
#ifndef TST_DISTRO2_H
#define TST_DISTRO2_H

#include "tst_world.h"

#include "distro2_int.h"

/* Nacos 2.5.1 with every other default. */
static inline distro_config v2_config(void)
{
    distro_config c = distro_config_defaults();
    c.version = DISTRO_VERSION_2_5_1;
    return c;
}

/* A cluster of `nodes` running v2_config(). */
static inline tst_world *v2_world(uint32_t nodes, uint64_t seed)
{
    distro_config c = v2_config();
    return tst_world_new(nodes, seed, &c);
}

/* A 2.x SDK client of `service` (a connection client) that starts `delay`
 * from now. */
static inline uint32_t v2_client(tst_world *w, const char *service, const char *ip, sim_time_ns delay)
{
    distro_client_spec spec = { .service = service, .ip = ip, .port = 8080, .weight = 1.0 };
    uint32_t id = 0;
    sim_error err;
    ck_assert_int_eq(distro_client_add(w->cluster, &spec, delay, &id, &err), SIM_OK);
    return id;
}

static inline distro_node *node_of(tst_world *w, uint32_t n) { return &w->cluster->nodes[n]; }

/* The client id (2.x: its current connection; a 1.x SDK: its IP-port
 * client) of harness client `client`. */
static inline uint32_t conn_of(tst_world *w, uint32_t client) { return w->cluster->sdk[client].conn; }

/* Client id `conn` as node `n` holds it; NULL when absent or the node is down. */
static inline distro2_client *client_on(tst_world *w, uint32_t n, uint32_t conn)
{
    return node_of(w, n)->running ? distro2_client_get(node_of(w, n), conn) : NULL;
}

/* Node `n`'s pending sync task of client `conn` to `target`, or NULL. */
static inline const distro2_task *task_on(tst_world *w, uint32_t n, uint32_t conn, uint32_t target)
{
    const distro2_node *v2 = node_of(w, n)->v2;
    for (uint32_t i = 0; i < v2->task_count; i++) {
        if (v2->tasks[i].conn == conn && v2->tasks[i].target == target) return &v2->tasks[i];
    }
    return NULL;
}

#endif
