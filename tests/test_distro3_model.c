/* test_distro3_model.c: what Nacos 3.0.3 adds to the 2.x model
 * (cluster.version 3.0.3; NACOS-DISTRO.md section 3.14): the inner-API
 * identity check (InnerApiAuthEnabled, RemoteRequestAuthFilter on
 * DistroDataRequestHandler and MemberReportHandler) and the configurable
 * cluster gRPC client.
 *
 * White-box: the tests read node->v2 (InnerApiAuthEnabled's flag, the
 * client tables, the delay tasks, the RPC clients' phases).  Times are
 * virtual.  Every node starts at 0; member reports begin 5 s after each
 * node's first connect round (a few ms), one peer every 2 s round-robin,
 * and carry the sender's version, as does their answer: in a 3-node
 * cluster a node has heard both peers by about 7.01 s (at 5.01 s when both
 * reported to it first), and InnerApiAuthEnabled, run at 0, 3, 6, 9 ...
 * s, switches on at 6 s or 9 s. */
#include "tst_world.h"

#include "distro2_int.h"

#define S SIM_S
#define MS SIM_MS

static distro_config v3_config(void)
{
    distro_config c = distro_config_defaults();
    c.version = DISTRO_VERSION_3_0_3;
    return c;
}

static distro_node *node_of(tst_world *w, uint32_t n) { return &w->cluster->nodes[n]; }
static bool auth_on(tst_world *w, uint32_t n) { return node_of(w, n)->v2->inner_api_auth; }

static uint32_t sdk_client(tst_world *w, const char *service, const char *ip, sim_time_ns delay)
{
    distro_client_spec spec = { .service = service, .ip = ip, .port = 8080, .weight = 1.0 };
    uint32_t id = 0;
    sim_error err;
    ck_assert_int_eq(distro_client_add(w->cluster, &spec, delay, &id, &err), SIM_OK);
    return id;
}

/* The server holding `client`'s connection (DISTRO_NONE: none yet). */
static uint32_t server_of(tst_world *w, uint32_t client)
{
    uint32_t conn = w->cluster->sdk[client].conn;
    return conn == DISTRO_NONE ? DISTRO_NONE : w->cluster->conns[conn].server;
}

/* `count` SDK clients starting `delay` from now, ips 10.3.<tag>.<i+1>. */
static void clients(tst_world *w, uint32_t *out, uint32_t count, uint32_t tag, sim_time_ns delay)
{
    for (uint32_t i = 0; i < count; i++) {
        char ip[32], svc[32];
        snprintf(ip, sizeof ip, "10.3.%u.%u", tag, i + 1);
        snprintf(svc, sizeof svc, "svc-%u-%u", tag, i);
        out[i] = sdk_client(w, svc, ip, delay);
    }
}

static uint64_t no_right(tst_world *w, uint32_t n) { return distro_node_counters(w->cluster, n)->v3_no_right; }

/* InnerApiAuthEnabled.doCheck (3.0.3 :68-81): off until every member's
 * version is known to be 3.x, then on for good; with every identity set
 * and equal, MATCHED: everything replicates and nothing is refused. */
START_TEST(test_inner_api_auth_waits_for_every_version)
{
    distro_config c = v3_config();
    tst_world *w = tst_world_new(3, 1, &c);
    uint32_t cl[4];
    clients(w, cl, 4, 1, 12 * S);
    tst_run_to(w, 4900 * MS);
    for (uint32_t n = 0; n < 3; n++) {
        ck_assert(!auth_on(w, n));   /* no report yet: the peers' versions are blank */
        ck_assert_uint_eq(node_of(w, n)->v2->member_version[n], DISTRO_VERSION_3_0_3 + 1);
    }
    tst_run_to(w, 9100 * MS);
    for (uint32_t n = 0; n < 3; n++) ck_assert(auth_on(w, n));
    tst_run_to(w, 40 * S);
    for (uint32_t n = 0; n < 3; n++) {
        for (uint32_t i = 0; i < 4; i++) ck_assert(distro_node_lists_client(w->cluster, n, cl[i]));
        ck_assert_uint_eq(no_right(w, n), 0);
        for (uint32_t p = 0; p < 3; p++) {
            if (p != n) ck_assert_int_eq(node_of(w, n)->peers[p].state, DISTRO_MEMBER_UP);
        }
    }
    tst_world_free(w);
}
END_TEST

/* A cluster mid-upgrade: one 2.5.1 member reports "2.5.1", so no 3.0.3
 * node ever switches the check on, and a blank identity there is harmless
 * (RemoteRequestAuthFilter.java:76-78). */
START_TEST(test_mixed_cluster_keeps_check_off)
{
    distro_config c = v3_config();
    c.v3.node_version[2] = DISTRO_VERSION_2_5_1 + 1;
    c.v3.identity[1] = 0;   /* blank on a 3.0.3 node */
    tst_world *w = tst_world_new(3, 2, &c);
    uint32_t cl[4];
    clients(w, cl, 4, 2, 12 * S);
    tst_run_to(w, 60 * S);
    ck_assert_uint_eq(node_of(w, 0)->v2->member_version[2], DISTRO_VERSION_2_5_1 + 1);
    for (uint32_t n = 0; n < 3; n++) {
        ck_assert(!auth_on(w, n));
        ck_assert_uint_eq(no_right(w, n), 0);
        for (uint32_t i = 0; i < 4; i++) ck_assert(distro_node_lists_client(w->cluster, n, cl[i]));
    }
    tst_world_free(w);
}
END_TEST

/* A rolling upgrade: node 0 runs 2.5.1 until its restart, then 3.0.3.
 * Node 2's blank identity is harmless while node 0 is on 2.5.1; once node
 * 0 is back on 3.0.3 and has reported it, node 2 switches its check on
 * and refuses the others' requests.  The restart forgets nothing else:
 * nodes 1 and 2 learn node 0's new version from its reports. */
START_TEST(test_rolling_upgrade_switches_check_on_after_last_node)
{
    distro_config c = v3_config();
    c.v3.node_version[0] = DISTRO_VERSION_2_5_1 + 1;
    c.v3.node_upgrade[0] = DISTRO_VERSION_3_0_3 + 1;
    c.v3.identity[2] = 0;
    tst_world *w = tst_world_new(3, 9, &c);
    tst_run_to(w, 60 * S);
    for (uint32_t n = 0; n < 3; n++) {
        ck_assert(!auth_on(w, n));
        ck_assert_uint_eq(no_right(w, n), 0);
    }
    ck_assert_uint_eq(node_of(w, 2)->v2->member_version[0], DISTRO_VERSION_2_5_1 + 1);
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, 0, &err), SIM_OK);
    ck_assert_int_eq(sim_node_start(w->sim, 0, 0, &err), SIM_OK);
    ck_assert_int_eq(distro_config_node_version(&w->cluster->config, 0), DISTRO_VERSION_3_0_3);
    /* Node 0's reports start 5 s after its connect round and reach both
     * peers within two 2 s turns; then a 3 s check. */
    tst_run_to(w, 72 * S);
    ck_assert_uint_eq(node_of(w, 2)->v2->member_version[0], DISTRO_VERSION_3_0_3 + 1);
    for (uint32_t n = 0; n < 3; n++) ck_assert(auth_on(w, n));
    tst_run_to(w, 90 * S);
    ck_assert_uint_gt(no_right(w, 2), 0);
    ck_assert_uint_eq(no_right(w, 0) + no_right(w, 1), 0);
    /* A second restart keeps the new release. */
    ck_assert_int_eq(sim_node_crash(w->sim, 0, &err), SIM_OK);
    ck_assert_int_eq(sim_node_start(w->sim, 0, 0, &err), SIM_OK);
    ck_assert_int_eq(distro_config_node_version(&w->cluster->config, 0), DISTRO_VERSION_3_0_3);
    tst_world_free(w);
}
END_TEST

/* Identities set but different, auth plugin disabled: noMatched, then
 * enableAuth false, a pass (RemoteRequestAuthFilter.java:92-99,
 * DefaultChecker.java:37-42). */
START_TEST(test_identity_mismatch_passes_with_auth_off)
{
    distro_config c = v3_config();
    c.v3.identity[2] = 7;   /* another value */
    tst_world *w = tst_world_new(3, 3, &c);
    uint32_t cl[4];
    clients(w, cl, 4, 3, 12 * S);
    tst_run_to(w, 40 * S);
    for (uint32_t n = 0; n < 3; n++) {
        ck_assert(auth_on(w, n));
        ck_assert_uint_eq(no_right(w, n), 0);
        for (uint32_t i = 0; i < 4; i++) ck_assert(distro_node_lists_client(w->cluster, n, cl[i]));
    }
    /* With the auth plugin on, noMatched goes on to validateIdentity, which a
     * request without a user identity fails: NO_RIGHT. */
    distro_config on = c;
    on.v3.auth_enabled = true;
    tst_world *w2 = tst_world_new(3, 3, &on);
    tst_run_to(w2, 40 * S);
    ck_assert_uint_gt(no_right(w2, 2), 0);      /* node 2 refuses the others */
    ck_assert_uint_gt(no_right(w2, 0), 0);      /* and they refuse node 2 */
    tst_world_free(w2);
    tst_world_free(w);
}
END_TEST

/* A blank identity on node 2 (AbstractProtocolAuthService.java:96-109):
 * once its check is on (6 s or 9 s), every Distro and report request to it is
 * answered NO_RIGHT.  Replicas it holds are renewed by nobody and expire
 * after the 180 s lease; clients registered after its first load (its
 * snapshot request passes: the check is the receiver's) never reach it, their
 * owners retrying every 3 s for ever; its peers count a failure per report
 * and hold it DOWN from the fourth on (fail-access-cnt 3), back UP only for
 * the moment between its own report (MemberReportHandler sets UP and keeps
 * the count) and their next one.  Node 2's own requests pass: it keeps its
 * peers UP, and its own clients reach them. */
START_TEST(test_blank_identity_no_right_loop)
{
    distro_config c = v3_config();
    c.v3.identity[2] = 0;
    tst_world *w = tst_world_new(3, 4, &c);
    uint32_t early[6], late[6];
    clients(w, early, 6, 4, 1 * S);    /* replicated before the check is on */
    clients(w, late, 6, 5, 40 * S);    /* after its first load (about 30 s) */
    tst_run_to(w, 5 * S);
    ck_assert(!auth_on(w, 2));
    for (uint32_t i = 0; i < 6; i++) ck_assert(distro_node_lists_client(w->cluster, 2, early[i]));
    tst_run_to(w, 9100 * MS);
    ck_assert(auth_on(w, 2));
    tst_run_to(w, 40 * S);
    /* The first NO_RIGHT to a report: the next round-robin report (every
     * 2 s from about 5 s; verify sends nothing before the first load,
     * which waits the 30 s load retry, "Server is starting").  DOWN after the fourth
     * counted failure: reports every 2 s alternate peers and the
     * unhealthy-member task adds one every 5 s, so within 6 + 4 x 4 s. */
    for (uint32_t p = 0; p < 2; p++) {
        const tst_member_event *e = tst_member_event_nth(w, p, 2, 6 * S, 0);
        ck_assert_ptr_nonnull(e);
        ck_assert_int_eq(e->state, DISTRO_MEMBER_SUSPICIOUS);
        sim_time_ns down = SIM_TIME_NEVER;
        for (size_t i = 0; i < 16 && down == SIM_TIME_NEVER; i++) {
            e = tst_member_event_nth(w, p, 2, 6 * S, i);
            if (e != NULL && e->state == DISTRO_MEMBER_DOWN) down = e->at_ns;
        }
        ck_assert_uint_le(down, 25 * S);
    }
    tst_run_to(w, 150 * S);
    for (uint32_t p = 0; p < 2; p++) {
        ck_assert_int_eq(node_of(w, 2)->peers[p].state, DISTRO_MEMBER_UP);   /* its reports pass */
        ck_assert_uint_eq(distro_node_fail_count(w->cluster, p, 2) > 3, true);
    }
    ck_assert_uint_gt(no_right(w, 2), 0);
    ck_assert_uint_eq(no_right(w, 0) + no_right(w, 1), 0);
    /* The health check (ServerCheckRequest) is not an INNER_API handler and
     * the NO_RIGHT answers are answers: the peers' RPC clients to node 2
     * keep running. */
    for (uint32_t p = 0; p < 2; p++) ck_assert_int_ne(node_of(w, p)->v2->rpc[2].phase, DISTRO2_RPC_RECONNECT);
    uint64_t verify_failed = distro_node_counters(w->cluster, 0)->v2_verify_failed +
                             distro_node_counters(w->cluster, 1)->v2_verify_failed;
    for (uint32_t i = 0; i < 6; i++) {
        uint32_t s = server_of(w, late[i]);
        ck_assert_uint_ne(s, DISTRO_NONE);
        for (uint32_t n = 0; n < 3; n++) {
            bool want = n != 2 || s == 2;
            ck_assert_msg(distro_node_lists_client(w->cluster, n, late[i]) == want, "late client %u on node %u", i, n);
        }
        if (s == 2) continue;
        /* The owner's task to node 2 never ends: a retry (3000 ms) or the
         * repair ADD of the last verify (0 ms). */
        uint32_t conn = w->cluster->sdk[late[i]].conn;
        const distro2_node *v2 = node_of(w, s)->v2;
        bool pending = false;
        for (uint32_t t = 0; t < v2->task_count; t++) pending = pending || (v2->tasks[t].conn == conn && v2->tasks[t].target == 2);
        ck_assert(pending);
    }
    uint64_t failed = distro_node_counters(w->cluster, 0)->sync_batches_failed +
                      distro_node_counters(w->cluster, 1)->sync_batches_failed;
    tst_run_to(w, 180 * S);
    ck_assert_uint_gt(distro_node_counters(w->cluster, 0)->sync_batches_failed +
                          distro_node_counters(w->cluster, 1)->sync_batches_failed, failed);
    /* Each verify round to node 2 (while UP in the owner's view) fails every
     * item: ClientVerifyFailedEvent and a repair ADD, which fails in turn. */
    ck_assert_uint_gt(distro_node_counters(w->cluster, 0)->v2_verify_failed +
                          distro_node_counters(w->cluster, 1)->v2_verify_failed, verify_failed);
    /* The early replicas were last renewed when the owners' syncs created
     * them (about 2 s; the verify rounds, from the owners' first load at
     * about 30 s, fail): still listed at 184 s, gone at the first cleaner
     * run (every 5 s) after 182 s, at about 185 s. */
    tst_run_to(w, 184 * S);
    for (uint32_t i = 0; i < 6; i++) ck_assert(distro_node_lists_client(w->cluster, 2, early[i]));
    tst_run_to(w, 192 * S);
    uint64_t expired = distro_node_counters(w->cluster, 2)->v2_clients_expired;
    uint32_t foreign = 0;
    for (uint32_t i = 0; i < 6; i++) {
        uint32_t s = server_of(w, early[i]);
        ck_assert(distro_node_lists_client(w->cluster, 2, early[i]) == (s == 2));
        ck_assert(distro_node_lists_client(w->cluster, 0, early[i]));
        foreign += s != 2;
    }
    ck_assert_uint_eq(expired, foreign);
    ck_assert_uint_gt(foreign, 0);
    /* A restarted peer's new RPC client connects to node 2: the connect's
     * server check is no INNER_API request. */
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, 0, &err), SIM_OK);
    ck_assert_int_eq(sim_node_start(w->sim, 0, 0, &err), SIM_OK);
    tst_run_to(w, 230 * S);
    ck_assert(distro2_rpc_running(node_of(w, 0), 2));
    tst_world_free(w);
}
END_TEST

/* nacos.remote.client.grpc.health.retry / health.timeout (3.0.3
 * DefaultGrpcClientConfig): after a black hole at 30 s, the first failed
 * synchronous report (3 s; node 0 reports to node 2 every other 2 s
 * round, so one is sent by about 33 s and fails by about 36 s) or
 * keep-alive starts a health check.  One attempt over the black hole
 * takes at most the 3 s connect of a new connection (one opens when
 * another call holds the first) plus the health timeout: with 0 retries
 * of 1 s node 0's client to node 2 reconnects by about 40 s; with the
 * defaults, 4 attempts of at least 3 s each from 33 s or later, it is not
 * reconnecting yet at 41 s. */
START_TEST(test_grpc_health_check_settings)
{
    for (int tuned = 0; tuned < 2; tuned++) {
        distro_config c = v3_config();
        if (tuned) {
            c.v2.rpc_health_retry_times = 0;
            c.v2.rpc_health_timeout_ns = 1 * S;
        }
        tst_world *w = tst_world_new(3, 5, &c);
        tst_run_to(w, 30 * S);
        sim_error err;
        ck_assert_int_eq(sim_net_isolate(w->sim, 2, &err), SIM_OK);
        tst_run_to(w, 41 * S);
        uint8_t phase = node_of(w, 0)->v2->rpc[2].phase;
        if (tuned) ck_assert_int_eq(phase, DISTRO2_RPC_RECONNECT);
        else ck_assert_int_ne(phase, DISTRO2_RPC_RECONNECT);
        tst_world_free(w);
    }
}
END_TEST

/* nacos.remote.client.grpc.connect.keep.alive: an idle RUNNING client
 * health-checks its peer once its last answered synchronous request is
 * that old; the check messages follow the setting.  Counted from 20 s:
 * before, the connect rounds of nodes that boot together send a server
 * check per attempt, answered "Server is starting", whatever the
 * keep-alive. */
START_TEST(test_grpc_keep_alive_setting)
{
    uint64_t checks[2];
    for (int tuned = 0; tuned < 2; tuned++) {
        distro_config c = v3_config();
        c.member_report_interval_ns = 60 * S;    /* reports rarely refresh lastActiveTimeStamp */
        if (tuned) c.v2.rpc_keepalive_ns = 30 * S;
        tst_world *w = tst_world_new(3, 6, &c);
        uint64_t before = 0;
        tst_run_to(w, 20 * S);
        for (uint32_t a = 0; a < 3; a++) {
            for (uint32_t b = 0; b < 3; b++) before += sim_net_stats(w->sim, a, b, DISTRO_MSG_V2_CHECK).sent;
        }
        tst_run_to(w, 120 * S);
        checks[tuned] = 0;
        for (uint32_t a = 0; a < 3; a++) {
            for (uint32_t b = 0; b < 3; b++) checks[tuned] += sim_net_stats(w->sim, a, b, DISTRO_MSG_V2_CHECK).sent;
        }
        checks[tuned] -= before;
        tst_world_free(w);
    }
    ck_assert_uint_gt(checks[0], checks[1] * 3);   /* every 5 s against every 30 s */
}
END_TEST

/* cluster.distro.v2.verify_interval (DistroConfig verifyIntervalMillis)
 * paces the 2.x verify rounds: 1 s gives about five times the VERIFY
 * messages of the 5 s default. */
START_TEST(test_v2_verify_interval_setting)
{
    uint64_t verifies[2];
    for (int tuned = 0; tuned < 2; tuned++) {
        distro_config c = v3_config();
        c.version = DISTRO_VERSION_2_5_1;
        if (tuned) c.v2.verify_interval_ns = 1 * S;
        tst_world *w = tst_world_new(3, 7, &c);
        uint32_t cl[3];
        clients(w, cl, 3, 7, 2 * S);
        tst_run_to(w, 60 * S);
        verifies[tuned] = 0;
        for (uint32_t a = 0; a < 3; a++) {
            for (uint32_t b = 0; b < 3; b++) verifies[tuned] += sim_net_stats(w->sim, a, b, DISTRO_MSG_V2_VERIFY).sent;
        }
        tst_world_free(w);
    }
    ck_assert_uint_gt(verifies[1], verifies[0] * 4);
}
END_TEST

/* cluster.distro.v2.load_retry_delay (loadDataRetryDelayMillis): a fresh
 * node cut off from every peer retries its load at that pace. */
START_TEST(test_v2_load_retry_delay_setting)
{
    distro_config c = v3_config();
    c.v2.load_retry_delay_ns = 5 * S;
    tst_world *w = tst_world_new(3, 8, &c);
    tst_run_to(w, 20 * S);
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, 2, &err), SIM_OK);
    ck_assert_int_eq(sim_net_isolate(w->sim, 2, &err), SIM_OK);
    ck_assert_int_eq(sim_node_start(w->sim, 2, 0, &err), SIM_OK);
    uint64_t retries = distro_node_counters(w->cluster, 2)->load_retries;
    tst_run_to(w, 60 * S);
    ck_assert_uint_ge(distro_node_counters(w->cluster, 2)->load_retries, retries + 6);   /* 30 s: 1 + 6 at 5 s, not 2 at 30 s */
    tst_world_free(w);
}
END_TEST

static Suite *distro3_model_suite(void)
{
    Suite *s = suite_create("distro3_model");
    TCase *tc = tcase_create("inner_api_auth");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_inner_api_auth_waits_for_every_version);
    tcase_add_test(tc, test_mixed_cluster_keeps_check_off);
    tcase_add_test(tc, test_rolling_upgrade_switches_check_on_after_last_node);
    tcase_add_test(tc, test_identity_mismatch_passes_with_auth_off);
    tcase_add_test(tc, test_blank_identity_no_right_loop);
    tcase_add_test(tc, test_grpc_health_check_settings);
    tcase_add_test(tc, test_grpc_keep_alive_setting);
    tcase_add_test(tc, test_v2_verify_interval_setting);
    tcase_add_test(tc, test_v2_load_retry_delay_setting);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(distro3_model_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
