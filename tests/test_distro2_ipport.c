/* test_distro2_ipport.c: IP-port clients of the Nacos 2.5.1 model (1.x SDKs
 * on cluster.version 2.5.1; model/distro2_ipport.c).
 *
 * White-box, like test_distro2_model.c: the tests read the per-node client
 * tables and name the Nacos 2.5.1 test class whose assertion each carries
 * over (NACOS-DISTRO.md section 7.2), or the section it checks.  Clients are
 * 1.x SDKs that register 12 s after the start and beat every 5 s. */
#include "tst_distro2.h"
#include "distro2_revision.h"
#include "distro_hash.h"

#define S SIM_S
#define MS SIM_MS

/* A 1.x SDK client of `service` (an IP-port client) that registers
 * `delay` from now, or a manual one (manual: driven by tst_request). */
static uint32_t v1_client(tst_world *w, const char *service, const char *ip, sim_time_ns delay, bool manual)
{
    distro_client_spec spec = { .service = service, .ip = ip, .port = 8080, .weight = 1.0, .v1_sdk = true,
                                .manual = manual };
    uint32_t id = 0;
    sim_error err;
    ck_assert_int_eq(distro_client_add(w->cluster, &spec, delay, &id, &err), SIM_OK);
    return id;
}

/* The owner of "ip:port" in node `n`'s view, computed here from the
 * mapper's list and DistroMapper.distroHash of the tag (section 1.6). */
static uint32_t owner_of(tst_world *w, uint32_t n, const char *ip)
{
    char tag[64];
    snprintf(tag, sizeof tag, "%s:8080", ip);
    const distro_node *node = node_of(w, n);
    return node->healthy[distro_hash(tag) % node->healthy_count];
}

/* DistroUtils.hash of the client "ip:8080#true" publishing one instance of
 * `service` (section 3.6), with `healthy`. */
static int64_t expected_revision(const char *service, const char *ip, bool healthy)
{
    char id[64];
    snprintf(id, sizeof id, "%s:8080#true", ip);
    distro2_publish p = { .namespace_id = "public", .group = "DEFAULT_GROUP", .service = service, .ephemeral = true,
                          .ip = ip, .port = 8080, .healthy = healthy, .cluster = "DEFAULT" };
    return distro2_ipport_revision(id, &p, 1);
}

static const char *const IPS[] = { "10.9.0.1", "10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6" };
#define NIPS (sizeof IPS / sizeof IPS[0])

/* IpPortBasedClientTest (id "ip:port#true", responsibleId "ip:port") and
 * section 1.6: each client lives first on the mapper's owner of its
 * ip:port, whichever server its SDK picked, with revision
 * DistroUtils.hash; CHANGE reaches the peers a sync delay later, with that
 * revision (DistroClientDataProcessorTest). */
START_TEST(test_owner_is_the_hash_of_ip_port)
{
    tst_world *w = v2_world(3, 11);
    uint32_t cl[NIPS];
    for (uint32_t i = 0; i < NIPS; i++) cl[i] = v1_client(w, "svc-a", IPS[i], 12 * S, false);
    tst_run_to(w, 12 * S + 50 * MS);
    bool owners_seen[3] = { false, false, false };
    for (uint32_t i = 0; i < NIPS; i++) {
        uint32_t id = conn_of(w, cl[i]);
        uint32_t owner = owner_of(w, 0, IPS[i]);
        owners_seen[owner] = true;
        for (uint32_t n = 0; n < 3; n++) {
            distro2_client *c = client_on(w, n, id);
            if (n != owner) {
                ck_assert_ptr_null(c);   /* not before the sync delay */
                continue;
            }
            ck_assert_ptr_nonnull(c);
            ck_assert(c->ipport);
            ck_assert(!c->native);
            ck_assert(c->healthy);
            ck_assert_uint_eq(c->key, distro_client_key(w->cluster, cl[i]));
            ck_assert_int_eq(c->revision, expected_revision("svc-a", IPS[i], true));
        }
    }
    ck_assert(owners_seen[0] && owners_seen[1] && owners_seen[2]);   /* the addresses spread over the nodes */
    tst_run_to(w, 13 * S + 300 * MS);
    for (uint32_t i = 0; i < NIPS; i++) {
        for (uint32_t n = 0; n < 3; n++) {
            distro2_client *c = client_on(w, n, conn_of(w, cl[i]));
            ck_assert_ptr_nonnull(c);
            ck_assert_int_eq(c->revision, expected_revision("svc-a", IPS[i], true));
            ck_assert(distro_node_lists_client(w->cluster, n, cl[i]));
        }
    }
    tst_world_free(w);
}
END_TEST

/* DistroFilter (section 1.7): a /v1/ns register reaching a node that does
 * not own ip:port is proxied once to the owner, which creates the client;
 * the node it reached holds nothing until the owner's CHANGE. */
START_TEST(test_filter_proxies_to_the_owner)
{
    tst_world *w = v2_world(3, 12);
    tst_run_to(w, 12 * S);
    uint32_t cl = v1_client(w, "svc-b", IPS[0], 0, true);
    uint32_t owner = owner_of(w, 0, IPS[0]);
    uint32_t other = (owner + 1) % 3;
    tst_request(w, cl, other, DISTRO_OP_REGISTER);
    tst_run_to(w, 12 * S + 50 * MS);
    ck_assert_uint_eq(distro_node_counters(w->cluster, other)->redirects_proxied, 1);
    ck_assert_ptr_nonnull(client_on(w, owner, conn_of(w, cl)));
    ck_assert_ptr_null(client_on(w, other, conn_of(w, cl)));
    ck_assert_int_eq(distro_client_last_code(w->cluster, cl), 200);
    tst_run_to(w, 13 * S + 300 * MS);
    ck_assert_ptr_nonnull(client_on(w, other, conn_of(w, cl)));   /* the owner's CHANGE */
    tst_world_free(w);
}
END_TEST

/* Runs in 10 ms steps until `pred` holds on node n for client id, up to
 * `until`; returns when, or SIM_TIME_NEVER. */
typedef bool (*client_pred)(const distro2_client *c);
static bool is_unhealthy(const distro2_client *c) { return c != NULL && !c->healthy; }
static bool is_empty(const distro2_client *c) { return c != NULL && c->key == DISTRO_NONE; }
static bool is_gone(const distro2_client *c) { return c == NULL; }

static sim_time_ns run_until(tst_world *w, uint32_t n, uint32_t id, client_pred pred, sim_time_ns until)
{
    for (sim_time_ns t = sim_now(w->sim); t <= until; t += 10 * MS) {
        tst_run_to(w, t);
        if (pred(client_on(w, n, id))) return t;
    }
    return SIM_TIME_NEVER;
}

/* ClientBeatCheckTaskV2Test / UnhealthyInstanceChecker / ExpiredInstanceChecker
 * (section 3.8's timeline) and W13: the client dies after its beat at
 * 17 s; its owner marks it unhealthy at the first check past 15 s, without
 * a new revision, and the replicas copy the flag with the old revision;
 * the owner removes the instance past 30 s, and its cleaner the empty client
 * (DELETE everywhere). */
START_TEST(test_dead_client_unhealthy_then_removed)
{
    tst_world *w = v2_world(3, 13);
    uint32_t cl = v1_client(w, "svc-c", IPS[1], 12 * S, false);
    uint32_t id = conn_of(w, cl);
    tst_run_to(w, 20 * S);
    uint32_t owner = owner_of(w, 0, IPS[1]);
    distro2_client *own = client_on(w, owner, id);
    ck_assert_ptr_nonnull(own);
    int64_t last_beat = own->last_beat_ms;
    ck_assert_int_ge(last_beat, 17000);   /* the beat at 17 s reached the owner */
    ck_assert_int_lt(last_beat, 17100);
    int64_t revision = own->revision;
    sim_error err;
    ck_assert_int_eq(distro_client_kill(w->cluster, cl, &err), SIM_OK);

    sim_time_ns down = run_until(w, owner, id, is_unhealthy, 40 * S);
    ck_assert_int_gt((int64_t)(down / MS), last_beat + 15000);
    ck_assert_int_le((int64_t)(down / MS), last_beat + 20000 + 10);
    own = client_on(w, owner, id);
    ck_assert_int_eq(own->revision, revision);                       /* W13: no new revision */
    ck_assert_uint_eq(distro_node_counters(w->cluster, owner)->instances_marked_unhealthy, 1);
    for (uint32_t n = 0; n < 3; n++) {
        if (n == owner) continue;
        ck_assert(client_on(w, n, id)->healthy);                     /* not before the sync delay */
    }
    tst_run_to(w, down + 1200 * MS);
    for (uint32_t n = 0; n < 3; n++) {
        distro2_client *c = client_on(w, n, id);
        ck_assert(!c->healthy);
        ck_assert_int_eq(c->revision, revision);
        ck_assert(distro_node_lists_client(w->cluster, n, cl));      /* listed, unhealthy */
        if (n != owner) ck_assert_uint_eq(distro_node_counters(w->cluster, n)->instances_marked_unhealthy, 0);
    }

    sim_time_ns removed = run_until(w, owner, id, is_empty, 60 * S);
    ck_assert_int_gt((int64_t)(removed / MS), last_beat + 30000);
    ck_assert_int_le((int64_t)(removed / MS), last_beat + 35000 + 10);
    ck_assert_int_eq(client_on(w, owner, id)->revision, revision);  /* expiry does not recompute either */
    ck_assert(!distro_node_lists_client(w->cluster, owner, cl));
    tst_run_to(w, removed + 1200 * MS);
    for (uint32_t n = 0; n < 3; n++) ck_assert(!distro_node_lists_client(w->cluster, n, cl));

    /* The empty client's lastUpdatedTime is its last beat: the cleaner's
     * next run (every 5 s) finds it idle past 30 s and removes it; the
     * owner's DELETE removes the replicas. */
    sim_time_ns gone = run_until(w, owner, id, is_gone, 70 * S);
    ck_assert_int_le((int64_t)(gone - removed), 5 * S + 10 * MS);
    tst_run_to(w, gone + 1200 * MS);
    for (uint32_t n = 0; n < 3; n++) {
        ck_assert_ptr_null(client_on(w, n, id));
        ck_assert_uint_eq(distro_node_counters(w->cluster, n)->v2_ipport_clients_expired, n == owner ? 1 : 0);
    }
    ck_assert_ptr_null(sim_failure(w->sim));
    tst_world_free(w);
}
END_TEST

/* InstanceBeatCheckResponsibleInterceptor / HealthCheckResponsibleInterceptor:
 * a replica whose lastHeartBeatTime is old does not check it.  The test
 * keeps the replica's stamp 60 s old through three check periods (verify
 * would refresh it every 5 s); only the owner may flip health. */
START_TEST(test_replica_does_not_beat_check)
{
    tst_world *w = v2_world(3, 14);
    uint32_t cl = v1_client(w, "svc-d", IPS[2], 12 * S, false);
    uint32_t id = conn_of(w, cl);
    tst_run_to(w, 14 * S);
    uint32_t owner = owner_of(w, 0, IPS[2]);
    uint32_t replica = (owner + 1) % 3;
    ck_assert_ptr_nonnull(client_on(w, replica, id));
    for (sim_time_ns t = 14 * S; t <= 30 * S; t += 100 * MS) {
        tst_run_to(w, t);
        distro2_client *r = client_on(w, replica, id);
        ck_assert(r->healthy);
        r->last_beat_ms = distro_now_ms(node_of(w, replica)) - 60000;
    }
    ck_assert_uint_eq(distro_node_counters(w->cluster, replica)->instances_marked_unhealthy, 0);
    ck_assert(client_on(w, owner, id)->healthy);   /* the live client beats its owner */
    tst_world_free(w);
}
END_TEST

/* DistroClientDataProcessor.onEvent re-tests ownership on the receiver
 * (:131): a node restarted with an empty store loads the snapshot, and
 * for every IP-port client it owns the load is a change, so it sends a
 * CHANGE of it to every peer a sync delay later.  A 2.x client it loads is
 * not native: no send.  The peers' copies are equal, so nothing echoes
 * back. */
START_TEST(test_snapshot_load_rebroadcasts_owned_ipport_clients)
{
    tst_world *w = v2_world(3, 15);
    uint32_t cl[NIPS];
    for (uint32_t i = 0; i < NIPS; i++) cl[i] = v1_client(w, "svc-e", IPS[i], 12 * S, false);
    uint32_t sdk = v2_client(w, "svc-e", "10.9.1.1", 12 * S);
    tst_run_to(w, 30 * S);
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, 2, &err), SIM_OK);
    ck_assert_int_eq(sim_node_start(w->sim, 2, 0, &err), SIM_OK);
    /* Run until node 2 has loaded (it holds every client again). */
    sim_time_ns loaded = SIM_TIME_NEVER;
    for (sim_time_ns t = 30 * S; t <= 40 * S && loaded == SIM_TIME_NEVER; t += 10 * MS) {
        tst_run_to(w, t);
        if (node_of(w, 2)->running && node_of(w, 2)->v2 != NULL && node_of(w, 2)->v2->finish_initial) loaded = t;
    }
    ck_assert(loaded != SIM_TIME_NEVER);
    uint32_t owned = 0;
    for (uint32_t i = 0; i < NIPS; i++) {
        uint32_t id = conn_of(w, cl[i]);
        ck_assert_ptr_nonnull(client_on(w, 2, id));
        bool mine = distro2_ipport_responsible(node_of(w, 2), id);
        owned += mine;
        for (uint32_t p = 0; p < 2; p++) {
            const distro2_task *t = task_on(w, 2, id, p);
            if (mine) {
                ck_assert_ptr_nonnull(t);
                ck_assert_int_eq(t->action, DISTRO2_CHANGE);
            } else {
                ck_assert_ptr_null(t);
            }
        }
    }
    ck_assert_uint_gt(owned, 0);
    ck_assert_ptr_null(task_on(w, 2, conn_of(w, sdk), 0));
    ck_assert_ptr_null(task_on(w, 2, conn_of(w, sdk), 1));
    uint64_t sent0 = distro_node_counters(w->cluster, 0)->sync_batches_sent;
    uint64_t sent1 = distro_node_counters(w->cluster, 1)->sync_batches_sent;
    tst_run_to(w, loaded + 2500 * MS);
    for (uint32_t i = 0; i < NIPS; i++) ck_assert_ptr_null(task_on(w, 2, conn_of(w, cl[i]), 0));
    /* The echo ends: equal content raises no event on the peers. */
    ck_assert_uint_eq(distro_node_counters(w->cluster, 0)->sync_batches_sent, sent0);
    ck_assert_uint_eq(distro_node_counters(w->cluster, 1)->sync_batches_sent, sent1);
    ck_assert_ptr_null(sim_failure(w->sim));
    tst_world_free(w);
}
END_TEST

/* EphemeralIpPortClientManager.ExpiredClientCleaner: a deregistered client
 * stays, empty, on its owner until it has not been updated for 30 s, then
 * leaves with a DELETE; the replicas (renewed by verify) leave by that
 * DELETE, not by their own cleaner. */
START_TEST(test_empty_client_expires_after_30s)
{
    tst_world *w = v2_world(3, 16);
    uint32_t cl = v1_client(w, "svc-f", IPS[3], 12 * S, false);
    uint32_t id = conn_of(w, cl);
    tst_run_to(w, 20 * S);
    uint32_t owner = owner_of(w, 0, IPS[3]);
    sim_error err;
    ck_assert_int_eq(distro_client_deregister(w->cluster, cl, &err), SIM_OK);
    tst_run_to(w, 22 * S);
    for (uint32_t n = 0; n < 3; n++) {
        distro2_client *c = client_on(w, n, id);
        ck_assert_ptr_nonnull(c);                      /* the client stays */
        ck_assert_uint_eq(c->key, DISTRO_NONE);        /* without its instance */
        ck_assert(!distro_node_lists_client(w->cluster, n, cl));
    }
    ck_assert_int_eq(client_on(w, owner, id)->revision, distro2_ipport_revision("10.9.0.4:8080#true", NULL, 0));
    tst_run_to(w, 50 * S);
    ck_assert_ptr_nonnull(client_on(w, owner, id));   /* not 30 s idle yet */
    tst_run_to(w, 57 * S);
    for (uint32_t n = 0; n < 3; n++) {
        ck_assert_ptr_null(client_on(w, n, id));
        ck_assert_uint_eq(distro_node_counters(w->cluster, n)->v2_ipport_clients_expired, n == owner ? 1 : 0);
    }
    tst_world_free(w);
}
END_TEST

/* A beat the owner cannot match (the client was lost there) answers 20404
 * and the SDK registers again (InstanceOperatorClientImpl.handleBeat
 * :226-229): the client is back on its owner and the peers. */
START_TEST(test_lost_client_reregisters_on_20404)
{
    tst_world *w = v2_world(3, 17);
    uint32_t cl = v1_client(w, "svc-g", IPS[4], 12 * S, false);
    uint32_t id = conn_of(w, cl);
    tst_run_to(w, 18 * S);
    uint32_t owner = owner_of(w, 0, IPS[4]);
    ck_assert(distro2_client_remove(node_of(w, owner), id));   /* its DELETE goes to the peers */
    tst_run_to(w, 19 * S + 500 * MS);
    for (uint32_t n = 0; n < 3; n++) ck_assert_ptr_null(client_on(w, n, id));
    tst_run_to(w, 24 * S);   /* the beat at 22 s: 20404, then the register */
    ck_assert_ptr_nonnull(client_on(w, owner, id));
    ck_assert_uint_eq(distro_node_counters(w->cluster, owner)->beat_reregisters, 0);   /* a light beat has no body */
    tst_run_to(w, 25 * S + 500 * MS);
    for (uint32_t n = 0; n < 3; n++) ck_assert(distro_node_lists_client(w->cluster, n, cl));
    tst_world_free(w);
}
END_TEST

/* EphemeralIpPortClientManagerTest (verifyClient runs ClientBeatUpdateTask)
 * and section 3.8's "the next owner starts with fresh timestamps": the
 * owner of several clients dies at 100 s, and so do the clients.  Until
 * then every verify (every 5 s) renewed the replicas' lastHeartBeatTime,
 * so the peers that take the tags remove nothing before 100 - 5 + 30 =
 * 125 s, and then remove every instance (no beat comes). */
START_TEST(test_verify_renews_replica_heartbeats)
{
    tst_world *w = v2_world(3, 18);
    uint32_t cl[NIPS];
    for (uint32_t i = 0; i < NIPS; i++) cl[i] = v1_client(w, "svc-h", IPS[i], 12 * S, false);
    tst_run_to(w, 100 * S);
    uint32_t dead = owner_of(w, 0, IPS[0]);
    uint32_t orphans = 0;
    for (uint32_t i = 0; i < NIPS; i++) orphans += owner_of(w, 0, IPS[i]) == dead;
    ck_assert_uint_ge(orphans, 2);
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, dead, &err), SIM_OK);
    for (uint32_t i = 0; i < NIPS; i++) ck_assert_int_eq(distro_client_kill(w->cluster, cl[i], &err), SIM_OK);
    tst_run_to(w, 125 * S);
    for (uint32_t n = 0; n < 3; n++) {
        if (n == dead) continue;
        ck_assert_uint_eq(node_of(w, n)->healthy_count, 2);   /* the survivors own every tag */
        ck_assert_uint_eq(distro_node_counters(w->cluster, n)->instances_expired, 0);
        for (uint32_t i = 0; i < NIPS; i++) ck_assert(distro_node_lists_client(w->cluster, n, cl[i]));
    }
    tst_run_to(w, 150 * S);
    for (uint32_t n = 0; n < 3; n++) {
        if (n == dead) continue;
        for (uint32_t i = 0; i < NIPS; i++) ck_assert(!distro_node_lists_client(w->cluster, n, cl[i]));
    }
    tst_world_free(w);
}
END_TEST

/* EphemeralIpPortClientManager.ExpiredClientCleaner's second rule: a
 * client not updated for clientExpiredTime (180 s) leaves even while it
 * publishes.  With instance expiry off (nacos.naming.expireInstance
 * false) the beat check never empties a dead client; its owner dies at
 * 100 s with it, the survivor that takes the tag verifies it (renewing the
 * other's copy) but nothing updates its own, which it removes past 180 s
 * (its last renewal was at most 5 s before the crash) with a DELETE. */
START_TEST(test_silent_client_expires_after_180s)
{
    distro_config c = distro_config_defaults();
    c.version = DISTRO_VERSION_2_5_1;
    c.expire_instance = false;
    tst_world *w = tst_world_new(3, 19, &c);
    uint32_t cl = v1_client(w, "svc-i", IPS[5], 12 * S, false);
    uint32_t id = conn_of(w, cl);
    tst_run_to(w, 100 * S);
    uint32_t dead = owner_of(w, 0, IPS[5]);
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, dead, &err), SIM_OK);
    ck_assert_int_eq(distro_client_kill(w->cluster, cl, &err), SIM_OK);
    tst_run_to(w, 274 * S);
    uint32_t taker = DISTRO_NONE;
    for (uint32_t n = 0; n < 3; n++) {
        if (n == dead) continue;
        ck_assert(distro_node_lists_client(w->cluster, n, cl));   /* unhealthy, still listed */
        ck_assert(!client_on(w, n, id)->healthy);
        if (distro2_ipport_responsible(node_of(w, n), id)) taker = n;
    }
    ck_assert_uint_ne(taker, DISTRO_NONE);
    tst_run_to(w, 290 * S);
    for (uint32_t n = 0; n < 3; n++) {
        if (n == dead) continue;
        ck_assert_ptr_null(client_on(w, n, id));
        ck_assert_uint_eq(distro_node_counters(w->cluster, n)->v2_ipport_clients_expired, n == taker ? 1 : 0);
    }
    tst_world_free(w);
}
END_TEST

/* The owner of ip:port in `node`'s view with `without` left out (as that
 * node's mapper has it once `without` is DOWN). */
static uint32_t owner_without(tst_world *w, uint32_t n, const char *ip, uint32_t without)
{
    char tag[64];
    snprintf(tag, sizeof tag, "%s:8080", ip);
    const distro_node *node = node_of(w, n);
    uint32_t list[8], count = 0;
    for (uint32_t i = 0; i < node->healthy_count; i++) {
        if (node->healthy[i] != without) list[count++] = node->healthy[i];
    }
    return list[distro_hash(tag) % count];
}

/* DistroClientDataProcessor.onEvent re-tests ownership with the receiver's
 * own view (:115-131, ClientDisconnectEvent's isResponsible at
 * EphemeralIpPortClientManager.java:46): a replica that has just seen the
 * owner go DOWN and now maps ip:port to itself passes on what it applies,
 * a CHANGE (the owner's deregister) and later a DELETE (the owner's
 * cleaner), to every member, the third node included. */
START_TEST(test_receiver_owning_in_its_view_rebroadcasts)
{
    tst_world *w = v2_world(3, 20);
    tst_run_to(w, 12 * S);
    /* A client whose owner O has a replica R that maps it to itself once
     * O is out of R's view. */
    uint32_t pick = DISTRO_NONE, owner = 0, replica = 0;
    for (uint32_t i = 0; i < NIPS && pick == DISTRO_NONE; i++) {
        owner = owner_of(w, 0, IPS[i]);
        for (uint32_t r = 0; r < 3 && pick == DISTRO_NONE; r++) {
            if (r != owner && owner_without(w, r, IPS[i], owner) == r) {
                pick = i;
                replica = r;
            }
        }
    }
    ck_assert_uint_ne(pick, DISTRO_NONE);
    uint32_t third = 3 - owner - replica;
    uint32_t cl = v1_client(w, "svc-j", IPS[pick], 0, true);
    uint32_t id = conn_of(w, cl);
    tst_request(w, cl, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, 20 * S);
    ck_assert_ptr_nonnull(client_on(w, replica, id));
    ck_assert_ptr_null(task_on(w, replica, id, third));
    tst_request(w, cl, owner, DISTRO_OP_DEREGISTER);
    /* The owner's CHANGE to R leaves a sync delay later: R's view loses O
     * while it is on the wire. */
    tst_run_to(w, 20 * S + 10 * MS);
    ck_assert_ptr_nonnull(task_on(w, owner, id, replica));
    sim_time_ns at = sim_now(w->sim);
    while (task_on(w, owner, id, replica) != NULL && at < 23 * S) tst_run_to(w, at += 100 * SIM_US);
    ck_assert_uint_ne(client_on(w, replica, id)->key, DISTRO_NONE);   /* not arrived yet */
    distro_member_on_fail(node_of(w, replica), owner, true);   /* R sees O DOWN */
    ck_assert(distro2_ipport_responsible(node_of(w, replica), id));
    tst_run_to(w, at + 20 * MS);
    ck_assert_uint_eq(client_on(w, replica, id)->key, DISTRO_NONE);   /* applied */
    const distro2_task *t = task_on(w, replica, id, third);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->action, DISTRO2_CHANGE);
    ck_assert_ptr_nonnull(task_on(w, replica, id, owner));
    /* Later the owner's cleaner removes the empty client: DELETE. */
    sim_time_ns deleting = SIM_TIME_NEVER;
    for (sim_time_ns when = sim_now(w->sim); when <= 70 * S && deleting == SIM_TIME_NEVER; when += 10 * MS) {
        tst_run_to(w, when);
        const distro2_task *d = task_on(w, owner, id, replica);
        if (d != NULL && d->action == DISTRO2_DELETE) deleting = when;
    }
    ck_assert(deleting != SIM_TIME_NEVER);
    ck_assert(!distro2_ipport_responsible(node_of(w, replica), id));   /* R's view healed meanwhile */
    at = deleting;
    while (task_on(w, owner, id, replica) != NULL && at < deleting + 2 * S) tst_run_to(w, at += 100 * SIM_US);
    ck_assert_ptr_nonnull(client_on(w, replica, id));
    distro_member_on_fail(node_of(w, replica), owner, true);
    tst_run_to(w, at + 20 * MS);
    ck_assert_ptr_null(client_on(w, replica, id));
    t = task_on(w, replica, id, third);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->action, DISTRO2_DELETE);
    tst_world_free(w);
}
END_TEST


/* An HTTP /v2/ns client (V1 of section 3.15): DistroFilter is registered
 * for /v1/ns only (NamingConfig.java:31,49), so a register or beat
 * reaching a node that does not own ip:port is applied there and goes no
 * further: listed on that node alone, never synced, never beat-checked,
 * removed only by the cleaner 180 s after its last request there, with no
 * DELETE.  A client whose one server is the owner is replicated as a 1.x
 * SDK's.  The 1.x SDK beside it, routed by the filter, is on every node. */
START_TEST(test_http_v2_write_stays_on_the_node_it_reached)
{
    tst_world *w = v2_world(3, 21);
    uint32_t cl[NIPS];
    for (uint32_t i = 0; i < NIPS; i++) {
        distro_client_spec spec = { .service = "svc-h", .ip = IPS[i], .port = 8080, .weight = 1.0, .v1_sdk = true,
                                    .http_v2 = true };
        sim_error err;
        ck_assert_int_eq(distro_client_add(w->cluster, &spec, 40 * S, &cl[i], &err), SIM_OK);
    }
    uint32_t routed = v1_client(w, "svc-h", "10.9.1.1", 40 * S, false);
    /* Each client's one server is a draw of its own stream; the test sets
     * it, so that both cases are covered whatever the seed: the even
     * clients reach their owner, the odd ones another node. */
    tst_run_to(w, 39 * S);
    for (uint32_t i = 0; i < NIPS; i++) {
        w->cluster->clients[cl[i]].try_index = (owner_of(w, 0, IPS[i]) + (i % 2 == 0 ? 0 : 1 + i / 2 % 2)) % 3;
    }
    tst_run_to(w, 75 * S);   /* registered at 40 s, then 6 beats */
    uint32_t strays = 0, homed = 0;
    for (uint32_t i = 0; i < NIPS; i++) {
        uint32_t id = conn_of(w, cl[i]);
        uint32_t home = w->cluster->clients[cl[i]].try_index;   /* its one server */
        uint32_t owner = owner_of(w, 0, IPS[i]);
        for (uint32_t n = 0; n < 3; n++) {
            bool listed = distro_node_lists_client(w->cluster, n, cl[i]);
            if (home == owner) {
                ck_assert(listed);                                   /* the owner synced it */
            } else {
                ck_assert_int_eq(listed, n == home);                 /* the owner never hears of it */
                if (n != home) ck_assert_ptr_null(client_on(w, n, id));
                ck_assert_ptr_null(task_on(w, home, id, n));         /* no sync queued to anyone */
            }
        }
        if (home == owner) homed++;
        else strays++;
    }
    ck_assert_uint_eq(strays, NIPS / 2);   /* each kept its one server */
    ck_assert_uint_eq(homed, NIPS / 2);
    for (uint32_t n = 0; n < 3; n++) ck_assert(distro_node_lists_client(w->cluster, n, routed));

    /* Every stray dies after its beat at 75 s; its node still lists it,
     * healthy, long past the 15 s and 30 s of the beat check (no node
     * checks it), until the cleaner finds it idle past 180 s. */
    uint32_t stray = NIPS;
    for (uint32_t i = 0; i < NIPS && stray == NIPS; i++) {
        if (w->cluster->clients[cl[i]].try_index != owner_of(w, 0, IPS[i])) stray = i;
    }
    uint32_t home = w->cluster->clients[cl[stray]].try_index;
    uint32_t id = conn_of(w, cl[stray]);
    tst_run_to(w, 75 * S + 100 * MS);
    int64_t last = client_on(w, home, id)->last_renew_ms;
    ck_assert_int_ge(last, 75000);
    sim_error err;
    ck_assert_int_eq(distro_client_kill(w->cluster, cl[stray], &err), SIM_OK);
    uint64_t sent = distro_node_counters(w->cluster, home)->sync_batches_sent;
    tst_run_to(w, (sim_time_ns)(last + 170000) * MS);
    ck_assert(distro_node_lists_client(w->cluster, home, cl[stray]));
    ck_assert(client_on(w, home, id)->healthy);
    ck_assert_uint_eq(distro_node_counters(w->cluster, home)->instances_marked_unhealthy, 0);
    sim_time_ns gone = run_until(w, home, id, is_gone, (sim_time_ns)(last + 190000) * MS);
    ck_assert_int_gt((int64_t)(gone / MS), last + 180000);
    ck_assert_int_le((int64_t)(gone / MS), last + 185000 + 10);
    ck_assert(!distro_node_lists_client(w->cluster, home, cl[stray]));
    ck_assert_uint_ge(distro_node_counters(w->cluster, home)->v2_ipport_clients_expired, 1);
    ck_assert_uint_eq(distro_node_counters(w->cluster, home)->sync_batches_sent, sent);   /* no DELETE */
    ck_assert_uint_gt(distro_node_counters(w->cluster, home)->v2_http_not_owner, 0);
    ck_assert_ptr_null(sim_failure(w->sim));
    tst_world_free(w);
}
END_TEST

static Suite *distro2_ipport_suite(void)
{
    Suite *s = suite_create("distro2_ipport");
    TCase *tc = tcase_create("ipport");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_owner_is_the_hash_of_ip_port);
    tcase_add_test(tc, test_filter_proxies_to_the_owner);
    tcase_add_test(tc, test_dead_client_unhealthy_then_removed);
    tcase_add_test(tc, test_replica_does_not_beat_check);
    tcase_add_test(tc, test_snapshot_load_rebroadcasts_owned_ipport_clients);
    tcase_add_test(tc, test_empty_client_expires_after_30s);
    tcase_add_test(tc, test_lost_client_reregisters_on_20404);
    tcase_add_test(tc, test_verify_renews_replica_heartbeats);
    tcase_add_test(tc, test_silent_client_expires_after_180s);
    tcase_add_test(tc, test_receiver_owning_in_its_view_rebroadcasts);
    tcase_add_test(tc, test_http_v2_write_stays_on_the_node_it_reached);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(distro2_ipport_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
