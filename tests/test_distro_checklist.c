/* test_distro_checklist.c: tests that kill the mutants of tests/mutation.
 *
 * Each test pins one Nacos 1.4.2 behaviour that a plausible wrong version
 * of the model (a mutant in tests/mutation/mutants.txt, named in the
 * test's comment) gets wrong and the other suites did not notice.  They
 * assert what a cluster observably does: what each node lists, which
 * messages went over which link, and when.  Time windows come from the
 * protocol's constants (distro_config_defaults), not from one seed's run:
 * the 100 ms delay-engine tick, the 1000 ms sync delay and batch delay, the
 * 5000 ms retry delay, the 5 s verify, beat-check and status periods, the
 * 2 s member report period, the 15 s heartbeat timeout and the 60 s start
 * of the health-status channel. */
#include "tst_world.h"

#define S SIM_S
#define MS SIM_MS

static distro_config quiet_config(void)
{
    /* Manual clients never beat: without this their instances expire. */
    distro_config c = distro_config_defaults();
    c.health_check_enabled = false;
    return c;
}

static uint16_t msg_type(const char *name)
{
    for (uint16_t t = 0; t < 256; t++) {
        if (strcmp(distro_msg_type_name(t), name) == 0) return t;
    }
    ck_abort_msg("no message type %s", name);
    return 0;
}

/* The kernel's SYN limit with Linux's defaults: the initial RTO, doubled
 * after each of tcp_syn_retries retransmissions (1 + 2 + ... + 64 = 127 s). */
static sim_time_ns syn_limit_ns(void)
{
    sim_conn_params p = sim_conn_params_default();
    return p.syn_rto_ns * ((UINT64_C(2) << p.syn_retries) - 1);
}

/* Messages of type `name` sent src -> dst so far. */
static uint64_t sent(const tst_world *w, uint32_t src, uint32_t dst, const char *name)
{
    return sim_net_stats(w->sim, src, dst, msg_type(name)).sent;
}

/* Steps the run in `step_ns` slices until `done` holds or `limit_ns`;
 * returns the time it first held (SIM_TIME_NEVER if it never did). */
typedef bool tst_pred(tst_world *w, const void *arg);
static sim_time_ns run_until(tst_world *w, tst_pred *done, const void *arg, sim_time_ns step_ns,
                             sim_time_ns limit_ns)
{
    for (sim_time_ns t = sim_now(w->sim); t <= limit_ns; t += step_ns) {
        tst_run_to(w, t);
        if (done(w, arg)) return t;
    }
    return SIM_TIME_NEVER;
}

/* ------------------------------------------------------------------------ */
/* DistroMapper: healthyList is sorted as address strings.
 * Kills healthy-list-id-order (and hash-over-datum-key). */

START_TEST(test_owner_is_java_hash_over_address_sorted_list)
{
    /* Twelve nodes 10.0.0.1 .. 10.0.0.12: as strings "10.0.0.10:8848"
     * sorts before "10.0.0.2:8848", so string order is not id order. */
    enum { N = 12 };
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(N, 21, &cfg);
    /* Peers start DOWN; each node probes one peer per 2 s from 5 s and is
     * marked UP by every peer it reports to: all UP by 5 + 2 * N s. */
    tst_run_to(w, (5 + 2 * N + 5) * S);
    for (uint32_t n = 0; n < N; n++) ck_assert_uint_eq(distro_node_healthy_count(w->cluster, n), N);
    uint32_t sorted[N];
    for (uint32_t i = 0; i < N; i++) sorted[i] = i;
    for (uint32_t i = 1; i < N; i++) {   /* insertion sort by address string */
        for (uint32_t j = i; j > 0; j--) {
            if (strcmp(distro_cluster_address(w->cluster, sorted[j - 1]),
                       distro_cluster_address(w->cluster, sorted[j])) <= 0) break;
            uint32_t tmp = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = tmp;
        }
    }
    ck_assert_uint_ne(sorted[1], 1);   /* the test needs string order != id order */
    for (uint32_t i = 0; i < 24; i++) {
        char service[32], tag[64];
        snprintf(service, sizeof service, "order-%u", i);
        snprintf(tag, sizeof tag, "DEFAULT_GROUP@@%s", service);
        uint32_t want = sorted[distro_hash(tag) % N];
        uint32_t entry = (want + 1) % N;
        uint32_t key = tst_key(w, service);
        uint32_t client = tst_client(w, service, "10.20.0.1", 1000 + i);
        uint64_t before = sent(w, entry, want, "proxy");
        tst_request(w, client, entry, DISTRO_OP_REGISTER);
        tst_run_to(w, sim_now(w->sim) + 500 * MS);
        /* The write was proxied to the Java-hash owner, which stored it. */
        ck_assert_uint_eq(sent(w, entry, want, "proxy"), before + 1);
        ck_assert(distro_node_has_instance(w->cluster, want, key, "10.20.0.1", 1000 + i, NULL));
    }
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The 503 gate (TrafficReviseFilter and ServerStatusManager). */

static bool lists(tst_world *w, uint32_t node, uint32_t client)
{
    return distro_node_lists_client(w->cluster, node, client);
}

START_TEST(test_warmup_off_serves_from_boot)
{
    /* Kills gate-ignores-warmup-flag: with nacos.naming.data.warmup off (the
     * default) a node accepts writes at once, before any status refresh
     * after its load. */
    distro_config cfg = quiet_config();
    ck_assert(!cfg.data_warmup);
    tst_world *w = tst_world_new(3, 22, &cfg);
    uint32_t client = tst_client(w, "early", "10.21.0.1", 80);
    tst_run_to(w, 1 * S);            /* well before the 5 s status refresh */
    tst_request(w, client, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 1100 * MS);
    /* Node 0 counts only itself right after boot (peers start DOWN), so it
     * owns the key and stores it. */
    ck_assert(lists(w, 0, client));
    ck_assert_uint_eq(distro_node_counters(w->cluster, 0)->requests_503, 0);
    tst_world_free(w);
}
END_TEST

START_TEST(test_warmup_gate_answers_503_until_the_refresh_after_the_load)
{
    /* Kills no-warmup-gate and gate-opens-at-load (and an empty snapshot
     * not counting as a load).  With warm-up on, the status is refreshed at
     * 0 s (not loaded yet: DOWN) and every 5 s; the load from a peer of an
     * empty cluster succeeds within milliseconds, so the status turns UP at
     * the 5 s refresh and not before. */
    distro_config cfg = quiet_config();
    cfg.data_warmup = true;
    tst_world *w = tst_world_new(3, 23, &cfg);
    uint32_t early = tst_client(w, "gate-early", "10.22.0.1", 80);
    uint32_t late = tst_client(w, "gate-late", "10.22.0.2", 80);
    tst_run_to(w, 1 * S);
    for (uint32_t n = 0; n < 3; n++) ck_assert(distro_node_initialized(w->cluster, n));   /* {} is a load */
    tst_request(w, early, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 4 * S);
    ck_assert_uint_eq(distro_node_counters(w->cluster, 0)->requests_503, 1);
    for (uint32_t n = 0; n < 3; n++) ck_assert(!lists(w, n, early));
    tst_run_to(w, 5 * S + 100 * MS);   /* after the refresh at 5 s */
    tst_request(w, late, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 5 * S + 600 * MS);   /* a proxy hop takes milliseconds */
    ck_assert_uint_eq(distro_node_counters(w->cluster, 0)->requests_503, 1);
    bool somewhere = false;
    for (uint32_t n = 0; n < 3; n++) somewhere = somewhere || lists(w, n, late);
    ck_assert(somewhere);
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Change sync: the retry delay and the merge of a put into a retry. */

typedef struct fail_wait {
    uint32_t node;
    uint64_t failed;
} fail_wait;

static bool batch_failed(tst_world *w, const void *arg)
{
    const fail_wait *f = arg;
    return distro_node_counters(w->cluster, f->node)->sync_batches_failed > f->failed;
}

/* Registers `a` on the owner of `service` while owner -> peer is blocked,
 * waits for the PUT to time out, heals, and returns the failure time. */
static sim_time_ns lose_first_sync(tst_world *w, const char *service, uint32_t a, uint32_t *owner_out,
                                   uint32_t *peer_out)
{
    uint32_t key = tst_key(w, service);
    uint32_t owner = distro_node_map_srv(w->cluster, 0, key);
    uint32_t peer = (owner + 1) % 3;
    sim_error err;
    ck_assert_int_eq(sim_net_block(w->sim, owner, peer, &err), SIM_OK);
    sim_time_ns t0 = sim_now(w->sim);
    tst_request(w, a, owner, DISTRO_OP_REGISTER);
    fail_wait f = { owner, distro_node_counters(w->cluster, owner)->sync_batches_failed };
    /* The PUT leaves about 2 s after the write on a new connection (the
     * pool's connections live 500 ms), and the Apache sync client has no
     * connect timeout: it fails when the kernel's SYN retries run out,
     * 127 s later. */
    sim_time_ns limit = syn_limit_ns();
    sim_time_ns failed_at = run_until(w, batch_failed, &f, 10 * MS, t0 + 2 * S + limit + S);
    ck_assert_uint_ne(failed_at, SIM_TIME_NEVER);
    ck_assert_uint_ge(failed_at, t0 + 2 * S + limit);
    ck_assert_int_eq(sim_net_heal(w->sim, owner, peer, &err), SIM_OK);
    ck_assert(!distro_node_has_key(w->cluster, peer, key));
    *owner_out = owner;
    *peer_out = peer;
    return failed_at;
}

static distro_config sync_only_config(void)
{
    distro_config cfg = quiet_config();
    cfg.verify_interval_ns = 3600 * S;   /* only change sync can deliver */
    /* The owner's reports to the blocked peer fail for two minutes; keep
     * the peer SUSPICIOUS, in the owner's list, so ownership holds. */
    cfg.member_fail_access_cnt = 1000;
    return cfg;
}

START_TEST(test_failed_batch_is_retried_5_s_later_then_batched_1_s)
{
    /* Kills retry-after-sync-delay: each key of a failed batch is a new
     * task due syncRetryDelay = 5000 ms after the failure; then the batch
     * waits 1000 ms.  Each stage waits for a 100 ms tick. */
    distro_config cfg = sync_only_config();
    tst_world *w = tst_world_new(3, 24, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t a = tst_client(w, "retry-timing", "10.23.0.1", 80);
    uint32_t owner = 0, peer = 0;
    sim_time_ns failed_at = lose_first_sync(w, "retry-timing", a, &owner, &peer);
    uint32_t key = tst_key(w, "retry-timing");
    tst_run_to(w, failed_at + 8 * S);
    sim_time_ns got = tst_first_change(w, peer, key, failed_at, true);
    ck_assert_uint_ne(got, SIM_TIME_NEVER);
    ck_assert_msg(got >= failed_at + 6000 * MS - 20 * MS && got <= failed_at + 6000 * MS + 300 * MS,
                  "the retry arrived %lld ms after the failure", (long long)((got - failed_at) / MS));
    tst_world_free(w);
}
END_TEST

START_TEST(test_put_merged_into_a_pending_retry_takes_its_own_1_s_interval)
{
    /* Kills merge-keeps-old-interval.  DistroDelayTask.merge: the merged
     * task keeps the retry's lastProcessTime (the failure time) but takes
     * the new task's 1000 ms interval, so a write 500 ms after the failure
     * reaches the peer about 2 s after the failure, not 6 s. */
    distro_config cfg = sync_only_config();
    tst_world *w = tst_world_new(3, 25, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t a = tst_client(w, "retry-merge", "10.24.0.1", 80);
    uint32_t b = tst_client(w, "retry-merge", "10.24.0.2", 80);
    uint32_t owner = 0, peer = 0;
    sim_time_ns failed_at = lose_first_sync(w, "retry-merge", a, &owner, &peer);
    uint32_t key = tst_key(w, "retry-merge");
    tst_run_to(w, failed_at + 500 * MS);
    tst_request(w, b, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, failed_at + 5 * S);
    sim_time_ns got = tst_first_change(w, peer, key, failed_at, true);
    ck_assert_uint_ne(got, SIM_TIME_NEVER);
    ck_assert_msg(got >= failed_at + 2000 * MS - 20 * MS && got <= failed_at + 2000 * MS + 300 * MS,
                  "the merged sync arrived %lld ms after the failure", (long long)((got - failed_at) / MS));
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, peer, key), 2);
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Checklist 4: the receiver applies blindly, even a key it owns. */

START_TEST(test_owner_takes_a_stale_replica_list_from_a_split_brain_peer)
{
    /* Kills receiver-checks-ownership.  Node 0, isolated, owns every tag
     * and accepts x for a key node 1 owns; node 1 accepts y meanwhile.
     * After the heal node 0's retried PUT overwrites node 1's list with
     * {x}: node 1, the owner, lists x and has lost y (W2). */
    distro_config cfg = quiet_config();
    cfg.verify_interval_ns = 3600 * S;   /* node 1's verify would not undo it anyway */
    tst_world *w = tst_world_new(3, 26, &cfg);
    tst_run_to(w, 10 * S);
    char service[32];
    tst_service_with_hash(service, sizeof service, "brain", 3, 1, 0, 0);
    uint32_t key = tst_key(w, service);
    ck_assert_uint_eq(distro_node_map_srv(w->cluster, 1, key), 1);
    sim_error err;
    ck_assert_int_eq(sim_net_isolate(w->sim, 0, &err), SIM_OK);
    tst_run_to(w, 60 * S);
    ck_assert(distro_node_responsible(w->cluster, 0, key));
    uint32_t x = tst_client(w, service, "10.25.0.1", 80);
    uint32_t y = tst_client(w, service, "10.25.0.2", 80);
    tst_request(w, x, 0, DISTRO_OP_REGISTER);
    tst_request(w, y, 1, DISTRO_OP_REGISTER);
    tst_run_to(w, 80 * S);
    ck_assert(lists(w, 1, y));
    ck_assert(!lists(w, 1, x));
    sim_net_heal_all(w->sim);
    /* Node 0's retries come every ~6 s plus the 10 s timeout of a PUT in
     * flight at the heal. */
    tst_run_to(w, 100 * S);
    ck_assert(distro_node_responsible(w->cluster, 1, key));
    ck_assert(lists(w, 1, x));
    ck_assert(!lists(w, 1, y));
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Checklist 5: one owned key aborts the whole checksum message. */

START_TEST(test_aborted_checksum_message_removes_nothing)
{
    /* Kills verify-owned-key-skipped.  Node 0 sees {0, 1}; node 1 sees all
     * three.  Node 1's checksums name K, which node 0 owns in its view, so
     * node 0 drops the whole message, and with it the removal of M (which
     * node 0 maps to node 1 and node 1, not owning it, leaves out). */
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 27, &cfg);
    tst_run_to(w, 10 * S);
    sim_error err;
    ck_assert_int_eq(distro_member_remove(w->cluster, 0, 2, &err), SIM_OK);
    char k[32], m[32];
    tst_service_with_hash(k, sizeof k, "own", 3, 1, 2, 0);    /* node 1 owns; node 0 in {0,1} */
    tst_service_with_hash(m, sizeof m, "other", 3, 2, 2, 1);  /* node 2 owns; node 0 maps to node 1 */
    uint32_t key_m = tst_key(w, m);
    uint32_t ck = tst_client(w, k, "10.26.0.1", 80);
    uint32_t cm = tst_client(w, m, "10.26.0.2", 80);
    tst_request(w, ck, 1, DISTRO_OP_REGISTER);
    tst_request(w, cm, 2, DISTRO_OP_REGISTER);
    tst_run_to(w, 14 * S);
    ck_assert(distro_node_has_key(w->cluster, 0, key_m));
    tst_run_to(w, 40 * S);   /* five verify rounds of node 1 */
    ck_assert_uint_ge(distro_node_counters(w->cluster, 0)->verify_discarded, 4);
    ck_assert_uint_eq(tst_first_change(w, 0, key_m, 14 * S, false), SIM_TIME_NEVER);
    ck_assert(lists(w, 0, cm));
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Members: a member added at run time starts DOWN (1.4.2). */

START_TEST(test_added_member_is_down_until_first_contact)
{
    /* Kills added-member-starts-up.  Node 0 drops node 2 from its list and
     * adds it back: memberChange forces the new member DOWN, so node 0's
     * healthyList leaves it out until a probe or report succeeds (within
     * one report round: 2 s per run, two peers). */
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 28, &cfg);
    tst_run_to(w, 15 * S);
    ck_assert_uint_eq(distro_node_healthy_count(w->cluster, 0), 3);
    sim_error err;
    ck_assert_int_eq(distro_member_remove(w->cluster, 0, 2, &err), SIM_OK);
    tst_run_to(w, 20 * S);
    ck_assert_uint_eq(distro_node_healthy_count(w->cluster, 0), 2);
    ck_assert_int_eq(distro_member_add(w->cluster, 0, 2, &err), SIM_OK);
    ck_assert_int_eq(distro_node_member_state(w->cluster, 0, 2), DISTRO_MEMBER_DOWN);
    ck_assert_uint_eq(distro_node_healthy_count(w->cluster, 0), 2);
    tst_run_to(w, 20 * S + 100 * MS);
    ck_assert_uint_eq(distro_node_healthy_count(w->cluster, 0), 2);
    tst_run_to(w, 30 * S);
    ck_assert_int_eq(distro_node_member_state(w->cluster, 0, 2), DISTRO_MEMBER_UP);
    ck_assert_uint_eq(distro_node_healthy_count(w->cluster, 0), 3);
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Health-status channel: replicas fetch statuses only on a mismatch. */

START_TEST(test_health_channel_marks_an_instance_the_owner_does_not_list_unhealthy)
{
    /* Kills health-unlisted-keeps-flag.  A replica that fetches the owner's
     * statuses gives every local instance the owner's flag, and one the
     * owner does not list becomes unhealthy (ServiceManager.ServiceUpdater,
     * updatedHealthStatus: a missing ip:port reads as false).  Node 0 owns
     * K in both {0,1,2} and {0,2}; node 1 gets {a, b}; node 0 drops node 1
     * from its list, deregisters b (the sync to a non-member is dropped)
     * and takes node 1 back.  Verify is off, so only the health channel,
     * first run at 30 s here, tells node 1: b stays listed there, now
     * unhealthy, and a stays healthy. */
    distro_config cfg = quiet_config();
    cfg.verify_interval_ns = 3600 * S;
    cfg.health_sync_initial_ns = 30 * S;
    tst_world *w = tst_world_new(3, 54, &cfg);
    tst_run_to(w, 10 * S);
    char ks[32];
    tst_service_with_hash(ks, sizeof ks, "unlisted", 3, 0, 2, 0);
    uint32_t key = tst_key(w, ks);
    uint32_t ca = tst_client(w, ks, "10.54.0.1", 80), cb = tst_client(w, ks, "10.54.0.2", 80);
    tst_request(w, ca, 0, DISTRO_OP_REGISTER);
    tst_request(w, cb, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 15 * S);
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, 1, key), 2);
    sim_error err;
    ck_assert_int_eq(distro_member_remove(w->cluster, 0, 1, &err), SIM_OK);
    tst_run_to(w, 16 * S);
    tst_request(w, cb, 0, DISTRO_OP_DEREGISTER);
    tst_run_to(w, 20 * S);
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, 0, key), 1);
    ck_assert_int_eq(distro_member_add(w->cluster, 0, 1, &err), SIM_OK);
    tst_run_to(w, 29 * S);
    bool healthy = false;
    ck_assert(distro_node_has_instance(w->cluster, 1, key, "10.54.0.2", 80, &healthy));
    ck_assert(healthy);
    tst_run_to(w, 32 * S);
    ck_assert(distro_node_has_instance(w->cluster, 1, key, "10.54.0.2", 80, &healthy));
    ck_assert(!healthy);
    ck_assert(distro_node_has_instance(w->cluster, 1, key, "10.54.0.1", 80, &healthy));
    ck_assert(healthy);
    ck_assert_uint_ge(sent(w, 1, 0, "instance_statuses"), 1);
    tst_world_free(w);
}
END_TEST

START_TEST(test_health_channel_fetches_only_mismatched_services)
{
    /* Kills health-fetch-always (and the channel starting early or never).
     * The owner marks an unbeaten instance unhealthy 15-20 s after its
     * register; replicas keep their own flag (checklist 6) until the
     * channel's first round at 60 s makes them fetch the statuses once.
     * From then on every service checksum agrees: no more fetches. */
    distro_config cfg = distro_config_defaults();
    cfg.expire_instance = false;          /* keep the unhealthy instance listed */
    tst_world *w = tst_world_new(3, 29, &cfg);
    tst_run_to(w, 10 * S);
    uint32_t key = tst_key(w, "flags");
    uint32_t owner = distro_node_map_srv(w->cluster, 0, key);
    uint32_t steady = tst_client(w, "flags-steady", "10.27.0.9", 80);
    uint32_t client = tst_client(w, "flags", "10.27.0.1", 80);
    tst_request(w, steady, 0, DISTRO_OP_REGISTER);
    tst_request(w, client, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, 31 * S);
    bool healthy = true;
    ck_assert(distro_node_has_instance(w->cluster, owner, key, "10.27.0.1", 80, &healthy));
    ck_assert(!healthy);
    for (uint32_t n = 0; n < 3; n++) {
        if (n == owner) continue;
        tst_run_to(w, 59900 * MS);
        ck_assert(distro_node_has_instance(w->cluster, n, key, "10.27.0.1", 80, &healthy));
        ck_assert(healthy);   /* nothing moved the replica's flag yet */
        ck_assert_uint_eq(sent(w, n, owner, "instance_statuses"), 0);
    }
    tst_run_to(w, 62 * S);
    uint64_t fetched[3] = { 0 };
    for (uint32_t n = 0; n < 3; n++) {
        if (n == owner) continue;
        ck_assert(distro_node_has_instance(w->cluster, n, key, "10.27.0.1", 80, &healthy));
        ck_assert(!healthy);
        fetched[n] = sent(w, n, owner, "instance_statuses");
        ck_assert_uint_ge(fetched[n], 1);
    }
    tst_run_to(w, 92 * S);   /* six more rounds, all in agreement */
    for (uint32_t n = 0; n < 3; n++) {
        if (n == owner) continue;
        ck_assert_uint_eq(sent(w, n, owner, "instance_statuses"), fetched[n]);
        ck_assert_uint_ge(sent(w, owner, n, "service_status"), 7);
    }
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Clocks: timeouts compare the holder's local clock. */

START_TEST(test_owner_clock_step_makes_instances_look_stale)
{
    /* Kills true-time-not-local-clock.  lastBeat is stamped with the
     * owner's local clock and the beat check compares it against the same
     * clock: a 12 s forward step makes a 3 s old beat look 15+ s old, so
     * the next check (within 5 s) marks it unhealthy, long before the 15 s
     * heartbeat timeout of true time. */
    distro_config cfg = distro_config_defaults();
    cfg.expire_instance = false;
    tst_world *w = tst_world_new(3, 30, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t key = tst_key(w, "skewed");
    uint32_t owner = distro_node_map_srv(w->cluster, 0, key);
    uint32_t client = tst_client(w, "skewed", "10.28.0.1", 80);
    tst_request(w, client, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, 18 * S);
    sim_error err;
    ck_assert_int_eq(sim_node_set_clock(w->sim, owner, 12 * (int64_t)S, 0, &err), SIM_OK);
    tst_run_to(w, 18 * S + 5 * S + 200 * MS);   /* one beat-check period later */
    bool healthy = true;
    ck_assert(distro_node_has_instance(w->cluster, owner, key, "10.28.0.1", 80, &healthy));
    ck_assert(!healthy);
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* W11: a batch whose keys are all gone goes out as {}, is rejected, and is
 * retried for as long as the target is a member. */

START_TEST(test_empty_batch_is_rejected_and_retried_forever)
{
    /* Kills empty-batch-accepted.  Node 0 drops node 1 from its list and,
     * owning K in its view {0, 2}, accepts a write of K; its PUT to node 2
     * times out (0 -> 2 blocked).  Node 1 is added back and, in node 0's
     * three-node view, owns K; node 1's checksums do not name K (it never
     * got it), so node 0's verify removes K.  The PUT fails when the
     * kernel's SYN retries run out (the sync client has no connect
     * timeout), 127 s after it left.  The retry then reads nothing: the
     * batch is {}, node 2 answers an error, and the retries go on every
     * ~6 s.  A fail count limit of 1000 keeps node 2 SUSPICIOUS (still in
     * the list) while blocked. */
    distro_config cfg = quiet_config();
    cfg.member_fail_access_cnt = 1000;
    tst_world *w = tst_world_new(3, 31, &cfg);
    tst_run_to(w, 10 * S);
    sim_error err;
    ck_assert_int_eq(distro_member_remove(w->cluster, 0, 1, &err), SIM_OK);   /* node 0 sees {0, 2} */
    char k[32], l[32];
    tst_service_with_hash(k, sizeof k, "empty", 3, 1, 2, 0);   /* node 1 in {0,1,2}; node 0 in {0,2} */
    tst_service_with_hash(l, sizeof l, "busy", 3, 1, 0, 0);    /* node 1 owns: it has a checksum to send */
    uint32_t key = tst_key(w, k);
    uint32_t ck = tst_client(w, k, "10.29.0.1", 80);
    uint32_t cl = tst_client(w, l, "10.29.0.2", 80);
    tst_request(w, cl, 1, DISTRO_OP_REGISTER);
    tst_run_to(w, 11 * S);
    ck_assert_int_eq(sim_net_block(w->sim, 0, 2, &err), SIM_OK);
    tst_request(w, ck, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 11100 * MS);
    ck_assert(lists(w, 0, ck));
    tst_run_to(w, 14 * S);
    ck_assert_int_eq(distro_member_add(w->cluster, 0, 1, &err), SIM_OK);
    /* Node 1 is UP in node 0's view within a report round, and its next
     * verify (every 5 s) removes K from node 0 long before the first retry
     * (failure at ~13 s + 127 s, + 5 s). */
    tst_run_to(w, 13 * S + syn_limit_ns() + S);
    ck_assert_uint_ge(distro_node_counters(w->cluster, 0)->sync_batches_failed, 1);
    ck_assert_uint_ne(tst_first_change(w, 0, key, 11 * S, false), SIM_TIME_NEVER);
    ck_assert(!distro_node_has_key(w->cluster, 0, key));
    ck_assert_int_eq(sim_net_heal(w->sim, 0, 2, &err), SIM_OK);
    sim_time_ns from = sim_now(w->sim) + 6 * S;
    tst_run_to(w, from);
    uint64_t before = sent(w, 0, 2, "sync_datum");
    tst_run_to(w, from + 30 * S);
    /* A retry every 5 s + 1 s batch + the tick: at least four in 30 s. */
    ck_assert_uint_ge(sent(w, 0, 2, "sync_datum") - before, 4);
    ck_assert_uint_ge(distro_node_counters(w->cluster, 0)->sync_empty_batches, 4);
    ck_assert(!distro_node_has_key(w->cluster, 2, key));
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A received report sets the reporter UP but keeps the stored fail count:
 * only a successful probe of our own zeroes it. */

START_TEST(test_one_way_link_flaps_the_peer_up_and_down)
{
    /* Kills report-resets-fail-count.  Two nodes; a cannot open
     * connections to b (a one-way block, as a firewall rule makes it),
     * while b's connections to a work both ways.  a probes b every 2 s
     * (the report period; the call is async, so a does not wait for its
     * answer).  The first probe after the block rides the pooled
     * connection and fails at the 2.5 s read timeout; later ones need new
     * connections, whose SYNs vanish, and fail at the 5 s connect timeout,
     * two at a time (the core client's pool allows 2 per route; the rest
     * wait for a lease).  So failures come between one period and one
     * connect timeout apart.  b's reports still arrive every 2 s and set b
     * UP without touching the count.  So a holds b SUSPICIOUS (count 1, 2,
     * 3) and UP alternately, and from the 4th failure (count >
     * fail-access-cnt = 3) DOWN and UP alternately.  Were the count zeroed
     * by each report, b would only ever flap UP <-> SUSPICIOUS with count
     * 1.  b's probes of a succeed: b holds a UP throughout. */
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(2, 41, &cfg);
    const uint32_t a = 0, b = 1;
    tst_run_to(w, 20 * S);
    ck_assert_int_eq(distro_node_member_state(w->cluster, a, b), DISTRO_MEMBER_UP);
    ck_assert_int_eq(distro_node_member_state(w->cluster, b, a), DISTRO_MEMBER_UP);
    sim_error err;
    const sim_time_ns t0 = 20 * S;
    ck_assert_int_eq(sim_net_block(w->sim, a, b, &err), SIM_OK);
    tst_run_to(w, t0 + 40 * S);
    const sim_time_ns period = cfg.member_report_interval_ns;
    const sim_time_ns timeout = cfg.member_report_timeout_ns;   /* read */
    const sim_time_ns connect = cfg.member_report_connect_timeout_ns;
    const uint32_t limit = cfg.member_fail_access_cnt;
    /* a's view of b, event by event: failure k (k = 1, 2, ...) then UP. */
    size_t seen = 0;
    sim_time_ns first_fail = SIM_TIME_NEVER, last_fail = 0;
    uint32_t fails = 0;
    distro_member_state expect = DISTRO_MEMBER_SUSPICIOUS;
    for (size_t i = 0; i < w->members_len; i++) {
        const tst_member_event *e = &w->members[i];
        if (e->node != a || e->peer != b || e->at_ns < t0) continue;
        seen++;
        if (expect == DISTRO_MEMBER_UP) {
            ck_assert_msg(e->state == DISTRO_MEMBER_UP, "event %zu: expected UP, got %d", seen, (int)e->state);
            ck_assert_uint_eq(e->fail_cnt, fails);   /* the report kept the count */
            expect = DISTRO_MEMBER_SUSPICIOUS;
            continue;
        }
        fails++;
        distro_member_state want = fails > limit ? DISTRO_MEMBER_DOWN : DISTRO_MEMBER_SUSPICIOUS;
        ck_assert_msg(e->state == want, "failure %u: expected state %d, got %d", fails, (int)want, (int)e->state);
        ck_assert_uint_eq(e->fail_cnt, fails);
        if (first_fail == SIM_TIME_NEVER) {
            first_fail = e->at_ns;
            ck_assert_uint_ge(first_fail, t0 + timeout);
            ck_assert_uint_le(first_fail, t0 + timeout + period);
        } else {
            sim_time_ns gap = e->at_ns - last_fail;
            ck_assert_msg(gap >= period - 10 * MS && gap <= connect + 10 * MS, "failure %u %lld ms after the last",
                          fails, (long long)(gap / MS));
        }
        last_fail = e->at_ns;
        expect = DISTRO_MEMBER_UP;
    }
    /* 40 s of block: after the first failure, two failures per connect
     * timeout at least; several of them DOWN. */
    ck_assert_uint_ge(fails, (uint32_t)(2 * (40 * S - timeout - period - connect) / connect));
    ck_assert_uint_ge(fails, limit + 4);
    /* b's view of a never changes. */
    for (size_t i = 0; i < w->members_len; i++) {
        const tst_member_event *e = &w->members[i];
        if (e->node == b && e->peer == a && e->at_ns >= t0) ck_abort_msg("b's view of a changed to %d", (int)e->state);
    }
    ck_assert_int_eq(distro_node_member_state(w->cluster, b, a), DISTRO_MEMBER_UP);
    tst_world_free(w);
}
END_TEST

START_TEST(test_only_a_successful_probe_resets_the_fail_count)
{
    /* Kills success-keeps-fail-count.  Two nodes; b is cut off 20-40 s, so
     * a counts a failed probe every 2 s from 25 s and holds b DOWN.  After
     * the heal the probes still in flight time out (sent before 40 s, by
     * 45 s); the first probe sent after the heal succeeds and zeroes the
     * count (by 47 s).  So when a -> b is cut again at 50 s, a's first
     * failure sets b SUSPICIOUS with count 1, not DOWN. */
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(2, 42, &cfg);
    const uint32_t a = 0, b = 1;
    sim_error err;
    tst_run_to(w, 20 * S);
    ck_assert_int_eq(sim_net_isolate(w->sim, b, &err), SIM_OK);
    tst_run_to(w, 40 * S);
    ck_assert_int_eq(distro_node_member_state(w->cluster, a, b), DISTRO_MEMBER_DOWN);
    ck_assert_uint_gt(distro_node_fail_count(w->cluster, a, b), cfg.member_fail_access_cnt);
    sim_net_heal_all(w->sim);
    tst_run_to(w, 48 * S);
    ck_assert_int_eq(distro_node_member_state(w->cluster, a, b), DISTRO_MEMBER_UP);
    ck_assert_uint_eq(distro_node_fail_count(w->cluster, a, b), 0);
    ck_assert_int_eq(sim_net_block(w->sim, a, b, &err), SIM_OK);
    size_t from = w->members_len;
    tst_run_to(w, 58 * S);
    const tst_member_event *first = NULL;
    for (size_t i = from; i < w->members_len && first == NULL; i++) {
        if (w->members[i].node == a && w->members[i].peer == b) first = &w->members[i];
    }
    ck_assert_ptr_nonnull(first);
    ck_assert_int_eq(first->state, DISTRO_MEMBER_SUSPICIOUS);
    ck_assert_uint_eq(first->fail_cnt, 1);
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Execute workers (W10, section 1.4).  W = the smallest power of two >= the
 * CPU cores.  A sync batch runs on (hash & 0x7fffffff) mod W, where hash is
 * DistroHttpCombinedKey.hashCode = Objects.hash(DistroKey.hashCode(), key
 * list) and DistroKey.hashCode = Objects.hash("DistroHttpCombinedKey-<seq>",
 * the iplist type, the target address).  The key list is in the batch's
 * HashSet order.  The helpers below recompute that from Java's definitions,
 * independently of the model. */

#define IPLIST_TYPE "com.alibaba.nacos.naming.iplist."

static uint32_t objects_hash(const int32_t *h, uint32_t n)
{
    uint32_t r = 1;
    for (uint32_t i = 0; i < n; i++) r = 31 * r + (uint32_t)h[i];
    return r;
}

static int32_t key_name_hash(const tst_world *w, uint32_t key)
{
    char name[160];
    snprintf(name, sizeof name, "com.alibaba.nacos.naming.iplist.ephemeral.public##%s",
             distro_cluster_key_tag(w->cluster, key));
    return distro_java_string_hash(name);
}

/* The worker of the step that adds `key` to its batch to `target`: the
 * per-key DistroKey (key name, type, target). */
static uint32_t add_worker(const tst_world *w, uint32_t key, uint32_t target, uint32_t workers)
{
    int32_t h[3] = { key_name_hash(w, key), distro_java_string_hash(IPLIST_TYPE),
                     distro_java_string_hash(distro_cluster_address(w->cluster, target)) };
    return (objects_hash(h, 3) & 0x7fffffffu) % workers;
}

/* The worker of batch 0 to `target` holding `keys` in that (iteration)
 * order; with_list false: the hash without the key list (the old routing). */
static uint32_t batch_worker(const tst_world *w, uint32_t target, const uint32_t *keys, uint32_t count,
                             uint32_t workers, bool with_list)
{
    int32_t super[3] = { distro_java_string_hash("DistroHttpCombinedKey-0"), distro_java_string_hash(IPLIST_TYPE),
                         distro_java_string_hash(distro_cluster_address(w->cluster, target)) };
    int32_t names[8];
    ck_assert_uint_le(count, 8);
    for (uint32_t i = 0; i < count; i++) names[i] = key_name_hash(w, keys[i]);
    int32_t h[2] = { (int32_t)objects_hash(super, 3), (int32_t)objects_hash(names, count) };
    uint32_t hash = with_list ? objects_hash(h, 2) : (uint32_t)h[0];
    return (hash & 0x7fffffffu) % workers;
}

/* java.util.HashMap's bucket of a key in a table of 16 (up to 12 keys). */
static uint32_t bucket16(const tst_world *w, uint32_t key)
{
    uint32_t h = (uint32_t)key_name_hash(w, key);
    return (h ^ (h >> 16)) & 15u;
}

/* Workers of `node` blocked sending to `target`, as a bit set. */
static uint32_t blocked_on(const tst_world *w, uint32_t node, uint32_t target)
{
    uint32_t set = 0;
    for (uint32_t k = 0; k < distro_node_worker_count(w->cluster, node); k++) {
        if (distro_node_worker_blocked_on(w->cluster, node, k) == target) set |= 1u << k;
    }
    return set;
}

static distro_config worker_config(void)
{
    distro_config cfg = quiet_config();
    cfg.member_fail_access_cnt = 1000;   /* b stays in the list: ownership does not move */
    cfg.verify_interval_ns = 3600 * S;   /* only change sync delivers */
    return cfg;
}

/* A key owned by node `owner` (ids sort as addresses) for service
 * "<prefix>-<i>", i from *next on, that satisfies `ok`. */
typedef bool key_ok(const tst_world *w, uint32_t key, const void *arg);
static uint32_t owned_key(tst_world *w, const char *prefix, uint32_t owner, uint32_t *next, key_ok *ok,
                          const void *arg, char *service, size_t size)
{
    for (; *next < 100000; (*next)++) {
        char p[16];
        snprintf(p, sizeof p, "%.8s%u", prefix, *next);
        tst_service_with_hash(service, size, p, 3, owner, 0, 0);
        uint32_t key = tst_key(w, service);
        if (ok == NULL || ok(w, key, arg)) {
            (*next)++;
            return key;
        }
    }
    ck_abort_msg("no key fits");
    return 0;
}

START_TEST(test_worker_count_is_the_next_power_of_two_of_the_cores)
{
    /* Kills workers-fixed-8: NacosExecuteTaskExecuteEngine sizes its pool
     * from the core count, not a constant. */
    distro_config cfg = distro_config_defaults();
    ck_assert_uint_eq(cfg.cpu_cores, 4);
    const uint32_t cores[] = { 1, 2, 3, 4, 5, 8, 9, 16 };
    const uint32_t want[] = { 1, 2, 4, 4, 8, 8, 16, 16 };
    for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++) {
        cfg.cpu_cores = cores[i];
        ck_assert_uint_eq(distro_config_execute_workers(&cfg), want[i]);
    }
    cfg = quiet_config();
    cfg.cpu_cores = 3;
    tst_world *w = tst_world_new(3, 30, &cfg);
    tst_run_to(w, 1 * S);
    ck_assert_uint_eq(distro_node_worker_count(w->cluster, 1), 4);
    tst_world_free(w);
}
END_TEST

typedef struct k1_want {
    uint32_t b;
    uint32_t workers;
} k1_want;

static bool k1_discriminates(const tst_world *w, uint32_t key, const void *arg)
{
    /* The batch's worker differs with and without the key list. */
    const k1_want *k = arg;
    return batch_worker(w, k->b, &key, 1, k->workers, true) != batch_worker(w, k->b, &key, 1, k->workers, false);
}

typedef struct k2_want {
    uint32_t b, c, wb, workers;
} k2_want;

static bool k2_avoids(const tst_world *w, uint32_t key, const void *arg)
{
    /* Neither its step into the batch to c nor that batch queues on wb,
     * and its batches to b and c (due at the same tick) differ. */
    const k2_want *k = arg;
    uint32_t to_c = batch_worker(w, k->c, &key, 1, k->workers, true);
    return add_worker(w, key, k->c, k->workers) != k->wb && to_c != k->wb &&
           to_c != batch_worker(w, k->b, &key, 1, k->workers, true);
}

START_TEST(test_black_holed_peer_stalls_only_the_worker_its_batch_holds)
{
    /* Kills single-sync-worker and combined-hash-without-keys.  a -> b is
     * black-holed.  Key k1, written on a at t1, goes to b in a one-key
     * batch about 2 s later (1000 ms + 1000 ms + ticks), which holds the
     * worker its DistroHttpCombinedKey hash picks (key list included) for
     * the 10 s read timeout; no other worker is blocked.  Key k2, written
     * at t1 + 3 s and chosen so that its way to c avoids that worker,
     * reaches c about 2 s later while the first worker is still blocked.
     * With one worker for everything c would wait for b's timeout. */
    distro_config cfg = worker_config();
    tst_world *w = tst_world_new(3, 32, &cfg);
    const uint32_t a = 0, b = 1, c = 2;
    const uint32_t workers = distro_config_execute_workers(&cfg);
    tst_run_to(w, 15 * S);
    ck_assert_uint_eq(distro_node_worker_count(w->cluster, a), workers);
    sim_error err;
    ck_assert_int_eq(sim_net_block(w->sim, a, b, &err), SIM_OK);
    char s1[48], s2[48];
    uint32_t next = 0;
    k1_want kw = { b, workers };
    uint32_t k1 = owned_key(w, "hol", a, &next, k1_discriminates, &kw, s1, sizeof s1);
    uint32_t wb = batch_worker(w, b, &k1, 1, workers, true);
    k2_want k2w = { b, c, wb, workers };
    uint32_t k2 = owned_key(w, "hol", a, &next, k2_avoids, &k2w, s2, sizeof s2);
    uint32_t c1 = tst_client(w, s1, "10.30.0.1", 80);
    uint32_t c2 = tst_client(w, s2, "10.30.0.2", 80);
    const sim_time_ns t1 = 20 * S;
    tst_run_to(w, t1);
    ck_assert(distro_node_responsible(w->cluster, a, k1) && distro_node_responsible(w->cluster, a, k2));
    tst_request(w, c1, a, DISTRO_OP_REGISTER);
    tst_run_to(w, t1 + 2500 * MS);
    ck_assert_uint_eq(blocked_on(w, a, b), 1u << wb);   /* exactly the worker of k1's batch */
    tst_run_to(w, t1 + 3 * S);
    tst_request(w, c2, a, DISTRO_OP_REGISTER);
    tst_run_to(w, t1 + 6 * S);
    sim_time_ns got = tst_first_change(w, c, k2, t1 + 3 * S, true);
    ck_assert_uint_ne(got, SIM_TIME_NEVER);
    ck_assert_msg(got - (t1 + 3 * S) <= 2300 * MS, "k2 reached the healthy peer %lld ms after its write",
                  (long long)((got - (t1 + 3 * S)) / MS));
    ck_assert_uint_ne(blocked_on(w, a, b) & (1u << wb), 0);   /* still blocked meanwhile */
    ck_assert(!distro_node_has_key(w->cluster, b, k1));
    tst_world_free(w);
}
END_TEST

typedef struct pair_want {
    uint32_t b, first, workers;
} pair_want;

static bool pair_discriminates(const tst_world *w, uint32_t key, const void *arg)
{
    /* Same bucket as `first` in a 16-slot table, and the two list orders
     * give different workers. */
    const pair_want *p = arg;
    uint32_t ab[2] = { p->first, key }, ba[2] = { key, p->first };
    return key != p->first && bucket16(w, key) == bucket16(w, p->first) &&
           batch_worker(w, p->b, ab, 2, p->workers, true) != batch_worker(w, p->b, ba, 2, p->workers, true);
}

START_TEST(test_batch_key_list_is_hashed_in_hash_set_order)
{
    /* Kills batch-keys-insertion-order.  The batch's key list comes from a
     * HashSet: by bucket, and inside one bucket the key added last first
     * (each merge builds a new set from the new key, then the old ones).
     * Two keys in one bucket, written 300 ms apart, join one batch to the
     * black-holed b in that order; the batch must block the worker of the
     * list (second, first), not (first, second). */
    distro_config cfg = worker_config();
    tst_world *w = tst_world_new(3, 34, &cfg);
    const uint32_t a = 0, b = 1;
    const uint32_t workers = distro_config_execute_workers(&cfg);
    tst_run_to(w, 15 * S);
    sim_error err;
    ck_assert_int_eq(sim_net_block(w->sim, a, b, &err), SIM_OK);
    char s1[48], s2[48];
    uint32_t next = 0;
    uint32_t k1 = owned_key(w, "set", a, &next, NULL, NULL, s1, sizeof s1);
    pair_want pw = { b, k1, workers };
    uint32_t k2 = owned_key(w, "set", a, &next, pair_discriminates, &pw, s2, sizeof s2);
    uint32_t c1 = tst_client(w, s1, "10.32.0.1", 80);
    uint32_t c2 = tst_client(w, s2, "10.32.0.2", 80);
    /* Writes at 20.05 s and 20.35 s: their per-key tasks fire at the ticks
     * after 21.05 s and 21.35 s, inside the batch's 1000 ms. */
    tst_run_to(w, 20050 * MS);
    tst_request(w, c1, a, DISTRO_OP_REGISTER);
    tst_run_to(w, 20350 * MS);
    tst_request(w, c2, a, DISTRO_OP_REGISTER);
    tst_run_to(w, 23 * S);
    uint32_t newest_first[2] = { k2, k1 };
    ck_assert_uint_eq(blocked_on(w, a, b), 1u << batch_worker(w, b, newest_first, 2, workers, true));
    tst_world_free(w);
}
END_TEST

START_TEST(test_black_holed_peer_takes_every_worker_in_turn_and_stalls_healthy_peers)
{
    /* Kills combined-hash-without-keys (and single-sync-worker).  Node a
     * writes 100 keys, one every 250 ms, while a -> b is black-holed.  Each
     * batch to b has its own key list, hence its own worker, and holds it
     * until the kernel's SYN retries run out (127 s: the sync client has no
     * connect timeout); so b's batches spread over several
     * workers until every worker holds one.  While every worker is blocked
     * nothing runs on a's execute engine: a key written then cannot reach
     * the healthy peer c within 2.5 s (its normal ~2 s). */
    distro_config cfg = worker_config();
    cfg.cpu_cores = 2;                   /* two workers: both are held within seconds */
    tst_world *w = tst_world_new(3, 33, &cfg);
    const uint32_t a = 0, b = 1, c = 2;
    const uint32_t workers = distro_config_execute_workers(&cfg);
    const uint32_t all = (1u << workers) - 1;
    tst_run_to(w, 15 * S);
    sim_error err;
    ck_assert_int_eq(sim_net_block(w->sim, a, b, &err), SIM_OK);
    enum { KEYS = 100, STEP_MS = 10, SPAN_S = 30 };
    uint32_t keys[KEYS], clients[KEYS];
    sim_time_ns written[KEYS];
    uint32_t next = 0;
    for (uint32_t i = 0; i < KEYS; i++) {
        char service[48];
        keys[i] = owned_key(w, "hol", a, &next, NULL, NULL, service, sizeof service);
        clients[i] = tst_client(w, service, "10.30.0.1", 80 + i);
        written[i] = 20 * S + (sim_time_ns)i * 250 * MS;
    }
    /* Step 10 ms at a time from 20 s: who is blocked, and when all are. */
    static bool all_blocked[SPAN_S * 1000 / STEP_MS + 1];
    uint32_t used = 0;
    uint32_t w_next = 0;
    for (uint32_t s = 0; s <= SPAN_S * 1000 / STEP_MS; s++) {
        sim_time_ns t = 20 * S + (sim_time_ns)s * STEP_MS * MS;
        tst_run_to(w, t);
        while (w_next < KEYS && written[w_next] <= t) {
            ck_assert(distro_node_responsible(w->cluster, a, keys[w_next]));
            tst_request(w, clients[w_next], a, DISTRO_OP_REGISTER);
            w_next++;
        }
        uint32_t blocked = blocked_on(w, a, b);
        used |= blocked;
        all_blocked[s] = blocked == all;
    }
    uint32_t used_count = 0;
    for (uint32_t k = 0; k < workers; k++) used_count += (used >> k) & 1u;
    ck_assert_msg(used_count > 1, "b's batches used %u worker(s)", used_count);
    uint32_t stalled = 0;
    for (uint32_t i = 0; i < KEYS; i++) {
        uint32_t from = (uint32_t)((written[i] - 20 * S) / (STEP_MS * MS));
        uint32_t to = from + 2500 / STEP_MS;
        if (to > SPAN_S * 1000 / STEP_MS) continue;
        bool blocked_throughout = true;
        for (uint32_t s = from; s <= to && blocked_throughout; s++) blocked_throughout = all_blocked[s];
        if (!blocked_throughout) continue;
        stalled++;
        sim_time_ns got = tst_first_change(w, c, keys[i], written[i], true);
        ck_assert_msg(got == SIM_TIME_NEVER || got - written[i] > 2500 * MS,
                      "key %u reached c %lld ms after its write while every worker was blocked", i,
                      (long long)((got - written[i]) / MS));
    }
    ck_assert_msg(stalled > 0, "never were all %u workers blocked for 2.5 s", workers);
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Failure paths over connections: each 1.4.2 HTTP client's own timeouts. */

START_TEST(test_black_holed_peer_holds_a_sync_worker_127_s_per_attempt)
{
    /* Kills sync-put-read-timeout and sync-put-connect-timeout.  The
     * change-sync PUT rides the Apache sync client, which has no connect
     * or read timeout: a PUT to a black-holed peer opens a connection
     * whose SYN is retransmitted 1, 2, 4, ..., 64 s apart and fails only
     * when tcp_syn_retries (6) run out, 127 s after it began, and for all
     * that time it holds its execute worker.  The failed keys come back
     * 5 s later and the next attempt holds a worker 127 s again. */
    distro_config cfg = worker_config();
    tst_world *w = tst_world_new(3, 51, &cfg);
    const uint32_t a = 0, b = 1;
    tst_run_to(w, 15 * S);
    sim_error err;
    ck_assert_int_eq(sim_net_isolate(w->sim, b, &err), SIM_OK);
    uint32_t next = 0;
    char service[48];
    uint32_t key = owned_key(w, "hold", a, &next, NULL, NULL, service, sizeof service);
    uint32_t cl = tst_client(w, service, "10.51.0.1", 80);
    tst_run_to(w, 16 * S);
    tst_request(w, cl, a, DISTRO_OP_REGISTER);
    /* Watch a's workers in 10 ms steps: when one takes b's batch, and
     * when it lets go. */
    const sim_time_ns limit = syn_limit_ns();
    sim_time_ns held_from[2] = { SIM_TIME_NEVER, SIM_TIME_NEVER }, held_to[2] = { 0, 0 };
    uint32_t attempt = 0;
    bool was = false;
    for (sim_time_ns t = 16 * S; t <= 16 * S + 2 * limit + 20 * S && attempt < 2; t += 10 * MS) {
        tst_run_to(w, t);
        bool now = blocked_on(w, a, b) != 0;
        if (now && !was) held_from[attempt] = t;
        if (!now && was) held_to[attempt++] = t;
        was = now;
    }
    ck_assert_uint_eq(attempt, 2);
    /* The first attempt starts 1 s (task) + 1 s (batch) after the write,
     * each stage waiting for a 100 ms tick. */
    ck_assert_uint_ge(held_from[0], 18 * S);
    ck_assert_uint_le(held_from[0], 18 * S + 300 * MS);
    for (uint32_t i = 0; i < 2; i++) {
        sim_time_ns held = held_to[i] - held_from[i];
        ck_assert_msg(held >= limit - 10 * MS && held <= limit + 20 * MS, "attempt %u held its worker %lld ms", i,
                      (long long)(held / MS));
    }
    /* The retry: 5 s after the failure, then the 1 s batch delay. */
    sim_time_ns gap = held_from[1] - held_to[0];
    ck_assert_msg(gap >= 6 * S - 20 * MS && gap <= 6 * S + 300 * MS, "the retry began %lld ms after the failure",
                  (long long)(gap / MS));
    ck_assert(!distro_node_has_key(w->cluster, b, key));
    tst_world_free(w);
}
END_TEST

START_TEST(test_put_stuck_in_a_pause_lands_after_resume_and_overwrites_newer_data)
{
    /* Kills sync-receiver-reads-in-pause and conn-pause-no-buffer (W2).
     * A paused receiver's kernel still completes the handshake and takes
     * what fits its receive buffer; the process reads at resume.  Node a
     * owns K and L.  While b is paused, a writes K and L (one batch to b
     * carrying both, larger than b's receive buffer: only part of it is
     * in b's socket), then, 10 s later, a second instance of K (a batch
     * of K alone, small, on another worker and connection: it is wholly
     * in b's socket).  At resume b reads the small, newer PUT at once and
     * lists both instances of K; the rest of the large PUT follows one
     * window update later, and b applies it blindly: K goes back to the
     * one instance a had read when that PUT began, and keeps it: a has
     * nothing more to sync, and only a verify round (off here; the
     * checksum messages a sent during the pause would be read at resume
     * too) would repair it. */
    distro_config cfg = worker_config();
    sim_conn_params tcp = sim_conn_params_default();
    /* A receive buffer between the two PUTs' sizes on the wire (gzipped
     * JSON: about 330 bytes for K and L with four instances, 180 for K
     * with two). */
    tcp.rcvbuf_bytes = 256;
    tst_world *w = tst_world_new_tcp(3, 52, &cfg, true, &tcp);
    const uint32_t a = 0, b = 1;
    tst_run_to(w, 15 * S);
    uint32_t next = 0;
    char ks[48], ls[48];
    uint32_t k = owned_key(w, "pk", a, &next, NULL, NULL, ks, sizeof ks);
    uint32_t l = owned_key(w, "pl", a, &next, NULL, NULL, ls, sizeof ls);
    uint32_t k1 = tst_client(w, ks, "10.52.0.1", 80), k2 = tst_client(w, ks, "10.52.0.2", 80);
    uint32_t l1 = tst_client(w, ls, "10.52.1.1", 80), l2 = tst_client(w, ls, "10.52.1.2", 80);
    uint32_t l3 = tst_client(w, ls, "10.52.1.3", 80);
    sim_error err;
    ck_assert_int_eq(sim_node_pause(w->sim, b, 40 * S, &err), SIM_OK);   /* until 55 s */
    tst_run_to(w, 16 * S);
    tst_request(w, k1, a, DISTRO_OP_REGISTER);
    tst_request(w, l1, a, DISTRO_OP_REGISTER);
    tst_request(w, l2, a, DISTRO_OP_REGISTER);
    tst_request(w, l3, a, DISTRO_OP_REGISTER);
    tst_run_to(w, 26 * S);
    tst_request(w, k2, a, DISTRO_OP_REGISTER);
    tst_run_to(w, 55 * S - MS);
    ck_assert(!distro_node_has_key(w->cluster, b, k));   /* paused: nothing read */
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, a, k), 2);
    tst_run_to(w, 55 * S + MS);
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, b, k), 2);   /* the newer PUT, read at resume */
    ck_assert(!distro_node_has_key(w->cluster, b, l));
    tst_run_to(w, 55 * S + 100 * MS);
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, b, l), 3);   /* the large PUT landed */
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, b, k), 1);   /* ... and took K back */
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, a, k), 2);
    tst_run_to(w, 55 * S + 30 * S);
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, b, k), 1);   /* stale for good */
    tst_world_free(w);
}
END_TEST

START_TEST(test_probe_through_a_black_hole_turns_suspicious_2_5_s_after_its_send)
{
    /* Kills member-report-read-timeout-5s and conn-no-keepalive-reuse.
     * The member report rides the core's async client (5 s connect, 2.5 s
     * read: DefaultHttpClientFactory's TIMEOUT >> 1) on a pooled
     * keep-alive connection.  Once the peer is black-holed, the next probe
     * is written on that connection at once; nothing comes back, and the
     * read timeout fails it 2.5 s after its send: the peer turns
     * SUSPICIOUS then, not at the 5 s connect timeout. */
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 53, &cfg);
    const uint32_t a = 0, b = 2;
    tst_run_to(w, 20 * S);
    ck_assert_int_eq(distro_node_member_state(w->cluster, a, b), DISTRO_MEMBER_UP);
    sim_error err;
    ck_assert_int_eq(sim_net_isolate(w->sim, b, &err), SIM_OK);
    const sim_time_ns t0 = 20 * S;
    uint64_t before = sent(w, a, b, "member_report");
    sim_time_ns sent_at = SIM_TIME_NEVER;
    for (sim_time_ns t = t0 + MS; t <= t0 + 10 * S && sent_at == SIM_TIME_NEVER; t += MS) {
        tst_run_to(w, t);
        if (sent(w, a, b, "member_report") > before) sent_at = t;   /* within the last ms */
    }
    ck_assert_uint_ne(sent_at, SIM_TIME_NEVER);
    tst_run_to(w, t0 + 20 * S);
    const tst_member_event *first = tst_member_event_nth(w, a, b, t0, 0);
    ck_assert_ptr_nonnull(first);
    ck_assert_int_eq(first->state, DISTRO_MEMBER_SUSPICIOUS);
    ck_assert_msg(first->at_ns >= sent_at - MS + cfg.member_report_timeout_ns &&
                      first->at_ns <= sent_at + cfg.member_report_timeout_ns,
                  "SUSPICIOUS %lld ms after the probe's send", (long long)((first->at_ns - sent_at) / MS));
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Beat check: unhealthy after the 15 s heartbeat timeout; a beat revives. */

typedef struct instance_ref {
    uint32_t node;
    uint32_t key;
    const char *ip;
    uint32_t port;
} instance_ref;

static bool unhealthy(tst_world *w, const void *arg)
{
    const instance_ref *r = arg;
    bool healthy = true;
    return distro_node_has_instance(w->cluster, r->node, r->key, r->ip, r->port, &healthy) && !healthy;
}

START_TEST(test_owner_marks_unhealthy_after_15_s_and_a_beat_revives)
{
    /* Kills beat-no-revive and unhealthy-after-30s.  The beat check runs
     * every 5 s from the service's creation, so an instance with no beat
     * turns unhealthy on the owner between 15 s and 20 s after its
     * register; the next beat (to the owner, through DistroFilter) sets it
     * healthy again at once. */
    distro_config cfg = distro_config_defaults();
    tst_world *w = tst_world_new(3, 33, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t key = tst_key(w, "revive");
    uint32_t owner = distro_node_map_srv(w->cluster, 0, key);
    uint32_t client = tst_client(w, "revive", "10.31.0.1", 80);
    sim_time_ns t0 = 20 * S;
    tst_run_to(w, t0);
    tst_request(w, client, owner, DISTRO_OP_REGISTER);
    instance_ref ref = { owner, key, "10.31.0.1", 80 };
    sim_time_ns at = run_until(w, unhealthy, &ref, 50 * MS, t0 + 25 * S);
    ck_assert_uint_ne(at, SIM_TIME_NEVER);
    ck_assert_msg(at > t0 + 15 * S && at <= t0 + 20 * S + 100 * MS, "unhealthy %lld ms after the register",
                  (long long)((at - t0) / MS));
    tst_request(w, client, (owner + 1) % 3, DISTRO_OP_BEAT);   /* proxied to the owner */
    tst_run_to(w, at + 200 * MS);
    ck_assert(!unhealthy(w, &ref));
    ck_assert(lists(w, owner, client));
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Owner writes (section 2.2) and the beat check's DELETE (section 1.7). */

START_TEST(test_reregister_keeps_an_unhealthy_flag_until_the_next_beat)
{
    /* Kills reregister-sets-healthy.  Cluster.updateIps keeps the local
     * healthy flag of an instance already listed: an instance the owner's
     * beat check marked unhealthy (15-20 s after its register, no beats)
     * stays unhealthy when it registers again, with a fresh lastBeat, and
     * turns healthy only with its next beat. */
    distro_config cfg = distro_config_defaults();
    tst_world *w = tst_world_new(3, 35, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t key = tst_key(w, "rereg");
    uint32_t owner = distro_node_map_srv(w->cluster, 0, key);
    uint32_t client = tst_client(w, "rereg", "10.33.0.1", 80);
    sim_time_ns t0 = 20 * S;
    tst_run_to(w, t0);
    tst_request(w, client, owner, DISTRO_OP_REGISTER);
    instance_ref ref = { owner, key, "10.33.0.1", 80 };
    sim_time_ns at = run_until(w, unhealthy, &ref, 50 * MS, t0 + 25 * S);
    ck_assert_uint_ne(at, SIM_TIME_NEVER);
    tst_request(w, client, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, at + 200 * MS);
    ck_assert_int_eq(distro_client_last_code(w->cluster, client), 200);
    ck_assert(unhealthy(w, &ref));
    ck_assert_int_ge(distro_node_instance_last_beat_ms(w->cluster, owner, key, "10.33.0.1", 80), (int64_t)(at / MS));
    tst_request(w, client, owner, DISTRO_OP_BEAT);
    tst_run_to(w, at + 400 * MS);
    ck_assert(!unhealthy(w, &ref));
    tst_world_free(w);
}
END_TEST

START_TEST(test_deregister_from_an_unknown_service_answers_200)
{
    /* Kills deregister-unknown-service-400.  InstanceController.deregister
     * answers "ok" when the service does not exist, and creates nothing. */
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 36, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t key = tst_key(w, "never-registered");
    uint32_t owner = distro_node_map_srv(w->cluster, 0, key);
    uint32_t client = tst_client(w, "never-registered", "10.34.0.1", 80);
    tst_request(w, client, owner, DISTRO_OP_DEREGISTER);
    tst_run_to(w, 15 * S + 100 * MS);
    ck_assert_int_eq(distro_client_last_code(w->cluster, client), 200);
    tst_request(w, client, (owner + 1) % 3, DISTRO_OP_DEREGISTER);   /* proxied: the owner's answer relayed */
    tst_run_to(w, 15 * S + 200 * MS);
    ck_assert_int_eq(distro_client_last_code(w->cluster, client), 200);
    tst_run_to(w, 20 * S);
    for (uint32_t n = 0; n < 3; n++) ck_assert(!distro_node_has_key(w->cluster, n, key));
    tst_world_free(w);
}
END_TEST

START_TEST(test_beat_check_delete_on_a_node_that_lost_the_tag_is_rejected)
{
    /* Kills local-delete-proxied.  The beat check's DELETE to itself
     * carries the Nacos-Server agent: if the node stopped owning the tag
     * between the check and the DELETE, its DistroFilter answers 400
     * instead of proxying it to the new owner.  Node 0 first lists only
     * {0, 1} and owns the key; the manual instance, registered on node 0
     * at t0 (processed at t0 + 1 ms, its lastBeat), is past the 30 s delete
     * timeout at the check 35 s after the service was created (at 30 s
     * exactly it is not: the test is "more than"), and the loopback DELETE
     * runs 1 ms after the check.  In between node 2 joins node 0's list (UP)
     * and owns the key there. */
    distro_config cfg = distro_config_defaults();
    cfg.members_start_down = false;
    tst_world *w = tst_world_new(3, 37, &cfg);
    sim_error err;
    ck_assert_int_eq(distro_member_remove(w->cluster, 0, 2, &err), SIM_OK);
    tst_run_to(w, 15 * S);
    char service[48];
    tst_service_with_hash(service, sizeof service, "lost-tag", 2, 0, 3, 2);   /* {0,1}: node 0; {0,1,2}: node 2 */
    uint32_t key = tst_key(w, service);
    ck_assert(distro_node_responsible(w->cluster, 0, key));
    uint32_t client = tst_client(w, service, "10.35.0.1", 80);
    const sim_time_ns t0 = 20 * S;
    tst_run_to(w, t0);
    tst_request(w, client, 0, DISTRO_OP_REGISTER);
    const sim_time_ns check = t0 + 1 * MS + 7 * cfg.beat_check_interval_ns;
    tst_run_to(w, check + 500 * 1000);
    ck_assert(lists(w, 0, client));
    uint64_t rejected = distro_node_counters(w->cluster, 0)->redirects_rejected;
    uint64_t proxied = sent(w, 0, 2, "proxy");
    ck_assert_int_eq(distro_member_add(w->cluster, 0, 2, &err), SIM_OK);
    ck_assert(!distro_node_responsible(w->cluster, 0, key));
    tst_run_to(w, check + 500 * MS);
    ck_assert_uint_eq(sent(w, 0, 2, "proxy"), proxied);
    ck_assert_uint_eq(distro_node_counters(w->cluster, 0)->redirects_rejected, rejected + 1);
    ck_assert(lists(w, 0, client));
    tst_world_free(w);
}
END_TEST

typedef struct listed_ref {
    uint32_t node;
    uint32_t client;
} listed_ref;

static bool listed(tst_world *w, const void *arg)
{
    const listed_ref *r = arg;
    return lists(w, r->node, r->client);
}

START_TEST(test_beat_after_a_20404_carries_the_body)
{
    /* Kills light-beat-after-20404.  A 20404 reply has no lightBeatEnabled
     * field, so BeatReactor's next beat carries the instance again.  A
     * beating client's instance is deleted on the owner (by a manual twin
     * with the same ip:port); its next light beat gets 20404 and it
     * registers again; the twin deletes it once more; the next beat, with
     * its body, re-registers it on the owner ("data compensation",
     * beat_reregisters), where a light beat would only get 20404 again. */
    distro_config cfg = distro_config_defaults();
    tst_world *w = tst_world_new(3, 39, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t key = tst_key(w, "compensate");
    uint32_t owner = distro_node_map_srv(w->cluster, 0, key);
    distro_client_spec spec = { .service = "compensate", .ip = "10.37.0.1", .port = 80, .weight = 1.0 };
    uint32_t client = 0;
    sim_error err;
    ck_assert_int_eq(distro_client_add(w->cluster, &spec, 0, &client, &err), SIM_OK);
    uint32_t twin = tst_client(w, "compensate", "10.37.0.1", 80);
    /* Registered at 15 s, beats from 20 s every 5 s, the first with its
     * body; 32.5 s is between two beats. */
    tst_run_to(w, 32500 * MS);
    listed_ref ref = { owner, client };
    ck_assert(listed(w, &ref));
    uint64_t rereg = distro_node_counters(w->cluster, owner)->beat_reregisters;
    tst_request(w, twin, owner, DISTRO_OP_DEREGISTER);
    tst_run_to(w, 32600 * MS);
    ck_assert(!listed(w, &ref));
    /* The next light beat (within one 5 s interval): 20404, then the register. */
    sim_time_ns back = run_until(w, listed, &ref, 10 * MS, 32600 * MS + 6 * S);
    ck_assert_uint_ne(back, SIM_TIME_NEVER);
    ck_assert_uint_eq(distro_node_counters(w->cluster, owner)->beat_reregisters, rereg);   /* a register did it */
    tst_request(w, twin, owner, DISTRO_OP_DEREGISTER);
    tst_run_to(w, back + 100 * MS);
    ck_assert(!listed(w, &ref));
    sim_time_ns again = run_until(w, listed, &ref, 10 * MS, back + 6 * S);
    ck_assert_uint_ne(again, SIM_TIME_NEVER);
    ck_assert_uint_eq(distro_node_counters(w->cluster, owner)->beat_reregisters, rereg + 1);   /* the beat did */
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The health-status channel (section 2.6). */

START_TEST(test_health_channel_sends_one_message_per_namespace_even_empty)
{
    /* Kills status-skips-empty and status-one-message.  ServiceReporter
     * runs 60 s after start, then every 5 s; a node with no service sends
     * nothing, otherwise one message per namespace it has services in, to
     * every peer, even when it owns none of them.  Two services, in
     * namespaces "public" and "dev", both owned by node 0, registered at
     * 70 s: before, nobody sends; after they reach the replicas (about
     * 2 s), node 1 sends node 0 two (empty) messages per round. */
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 38, &cfg);
    char s1[48], s2[48];
    tst_service_with_hash(s1, sizeof s1, "ns-pub", 3, 0, 0, 0);
    tst_service_with_hash(s2, sizeof s2, "ns-dev", 3, 0, 0, 0);
    uint32_t c1 = tst_client(w, s1, "10.36.0.1", 80);
    distro_client_spec spec = { .namespace_id = "dev", .service = s2, .ip = "10.36.0.2", .port = 80, .weight = 1.0,
                                .manual = true };
    uint32_t c2 = 0;
    sim_error err;
    ck_assert_int_eq(distro_client_add(w->cluster, &spec, 0, &c2, &err), SIM_OK);
    tst_run_to(w, 69500 * MS);
    for (uint32_t a = 0; a < 3; a++) {
        for (uint32_t b = 0; b < 3; b++) {
            if (a != b) ck_assert_uint_eq(sent(w, a, b, "service_status"), 0);   /* rounds at 60, 65 s */
        }
    }
    tst_run_to(w, 70 * S);
    tst_request(w, c1, 0, DISTRO_OP_REGISTER);
    tst_request(w, c2, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 74500 * MS);
    ck_assert(distro_node_has_key(w->cluster, 1, distro_client_key(w->cluster, c2)));
    uint64_t from1 = sent(w, 1, 0, "service_status"), from0 = sent(w, 0, 1, "service_status");
    tst_run_to(w, 99500 * MS);                                            /* rounds at 75 .. 95 s */
    ck_assert_uint_eq(sent(w, 1, 0, "service_status") - from1, 2 * 5);   /* two namespaces, both empty */
    ck_assert_uint_eq(sent(w, 0, 1, "service_status") - from0, 2 * 5);   /* one owned service in each */
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The client adopts the beat reply's clientBeatInterval (BeatReactor). */

/* The lastBeat stamps one owner puts on one client's instance. */
typedef struct beat_log {
    uint32_t owner;
    uint32_t client;
    int64_t at_ms[16];
    size_t n;
    int64_t last;
} beat_log;

/* Runs to `until`, noting every new lastBeat of each log's instance,
 * sampled every 10 ms (beats are seconds apart). */
static void beat_stamps(tst_world *w, beat_log *logs, size_t count, sim_time_ns until)
{
    for (size_t i = 0; i < count; i++) {
        logs[i].n = 0;
        logs[i].last = -1;
    }
    for (sim_time_ns t = sim_now(w->sim); t <= until; t += 10 * MS) {
        tst_run_to(w, t);
        for (size_t i = 0; i < count; i++) {
            beat_log *l = &logs[i];
            const char *address = distro_client_address(w->cluster, l->client);
            const char *colon = strchr(address, ':');
            char ip[64];
            snprintf(ip, sizeof ip, "%.*s", (int)(colon - address), address);
            int64_t b = distro_node_instance_last_beat_ms(w->cluster, l->owner, distro_client_key(w->cluster, l->client),
                                                          ip, (uint32_t)atoi(colon + 1));
            if (b >= 0 && b != l->last && l->n < 16) l->at_ms[l->n++] = b;
            l->last = b;
        }
    }
}

static void assert_gaps(const beat_log *l, size_t from, int64_t gap_ms, int64_t slack_ms)
{
    for (size_t i = from; i < l->n; i++) {
        ck_assert_int_ge(l->at_ms[i] - l->at_ms[i - 1], gap_ms - slack_ms);
        ck_assert_int_le(l->at_ms[i] - l->at_ms[i - 1], gap_ms + slack_ms);
    }
}

START_TEST(test_client_adopts_the_reply_beat_interval)
{
    /* Kills client-keeps-its-beat-interval and client-ignores-20404-interval.
     * BeatReactor schedules the first beat one configured period after the
     * registration, then each next beat the reply's clientBeatInterval
     * later (BeatReactor.java:165-176): the server's 5 s, or the instance's
     * preserved.heart.beat.interval metadata on a 200
     * (InstanceController.java:534-536).  A 20404 reply carries the
     * server's value too (:470, :497-500).  Both clients are configured for
     * 2 s; the stamps are the owner's lastBeat, set when a beat (or a
     * registration) arrives there. */
    distro_config cfg = distro_config_defaults();
    const int64_t server_ms = (int64_t)(cfg.client_beat_interval_ns / MS);
    const int64_t own_ms = 2000, meta_ms = 3000, slack_ms = 50;   /* a proxy hop and the 1 ms client path */
    tst_world *w = tst_world_new(3, 41, &cfg);
    tst_run_to(w, 15 * S);                                        /* views settled */
    distro_client_spec plain = { .service = "adopt", .ip = "10.41.0.1", .port = 80, .weight = 1.0,
                                 .beat_interval_ns = (sim_time_ns)own_ms * MS };
    distro_client_spec meta = { .service = "adopt-meta", .ip = "10.41.0.2", .port = 80, .weight = 1.0,
                                .beat_interval_ns = (sim_time_ns)own_ms * MS,
                                .metadata = (const char *const[]){ "preserved.heart.beat.interval", "3000", NULL } };
    beat_log logs[2];
    sim_error err;
    ck_assert_int_eq(distro_client_add(w->cluster, &plain, 0, &logs[0].client, &err), SIM_OK);
    ck_assert_int_eq(distro_client_add(w->cluster, &meta, 0, &logs[1].client, &err), SIM_OK);
    for (size_t i = 0; i < 2; i++) {
        logs[i].owner = distro_node_map_srv(w->cluster, 0, distro_client_key(w->cluster, logs[i].client));
    }
    beat_stamps(w, logs, 2, 15 * S + 18 * S);
    /* The registration, the first beat 2 s later, then the reply's interval. */
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_ge(logs[i].n, 4);
        ck_assert_int_ge(logs[i].at_ms[1] - logs[i].at_ms[0], own_ms);
        ck_assert_int_le(logs[i].at_ms[1] - logs[i].at_ms[0], own_ms + slack_ms);
    }
    assert_gaps(&logs[0], 2, server_ms, slack_ms);
    assert_gaps(&logs[1], 2, meta_ms, slack_ms);
    /* A 20404: a twin deletes the plain client's instance between two
     * beats; the next light beat gets 20404 and the client registers at
     * once; the beat after comes the server's 5 s later, not 2 s. */
    uint32_t twin = tst_client(w, "adopt", "10.41.0.1", 80);
    tst_run_to(w, sim_now(w->sim) + 1 * S);
    tst_request(w, twin, logs[0].owner, DISTRO_OP_DEREGISTER);
    tst_run_to(w, sim_now(w->sim) + 100 * MS);
    ck_assert(!distro_node_lists_client(w->cluster, logs[0].owner, logs[0].client));
    beat_stamps(w, logs, 1, sim_now(w->sim) + 12 * S);
    ck_assert_uint_ge(logs[0].n, 2);          /* the registration after the 20404, then beats */
    assert_gaps(&logs[0], 1, server_ms, slack_ms);
    tst_world_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The persistent (JRaft) side of the 503 gate (distro_raft.c). */

/* What a register sent to `server` at `at` gets back (a service the server
 * owns in every view the test goes through, so nothing is proxied). */
static int32_t answer_at(tst_world *w, uint32_t client, uint32_t server, sim_time_ns at)
{
    tst_run_to(w, at);
    tst_request(w, client, server, DISTRO_OP_REGISTER);
    tst_run_to(w, at + 100 * MS);
    return distro_client_last_code(w->cluster, client);
}

/* The first multiple of `period` strictly after `t`: when a timer of that
 * period started at 0 first runs after t. */
static sim_time_ns next_tick(sim_time_ns t, sim_time_ns period)
{
    return (t / period + 1) * period;
}

#define VERSION_JUDGE (5 * S)                       /* ClusterVersionJudgement.java:54, :76 */
#define LATENCY_MARGIN (1 * S)                      /* a report's trip, generously */

START_TEST(test_jraft_gate_answers_503_after_the_switch_until_a_leader)
{
    /* Kills raft-gate-ignored, raft-switch-at-start and
     * raft-leader-without-election-delay.  With an election delay longer
     * than the version switch takes, a cold cluster answers: 200 on the old
     * Raft before the switch, 503 on JRaft after it while no leader is
     * known, 200 again once one is.  The windows, from the constants:
     * each node reports to its n - 1 peers in turn, the first at
     * member_report_initial, one every member_report_interval; the switch
     * is the first 5 s judgement after the last version arrived; the status
     * refresh reads it within server_status_interval.  The leader is known
     * an election delay after the first reachability sample (at start),
     * sampled every delay / 10; the status reads it within one refresh. */
    distro_config cfg = quiet_config();
    cfg.raft_election_delay_ns = 40 * S;
    const uint32_t n = 3;
    sim_time_ns versions = cfg.member_report_initial_ns + (n - 2) * cfg.member_report_interval_ns + LATENCY_MARGIN;
    sim_time_ns switched = next_tick(versions, VERSION_JUDGE) + cfg.server_status_interval_ns;
    sim_time_ns leader_by = cfg.raft_election_delay_ns + cfg.raft_election_delay_ns / 10 + cfg.server_status_interval_ns;
    ck_assert_uint_lt(switched, cfg.raft_election_delay_ns);    /* the window exists */
    char name[64];
    tst_service_with_hash(name, sizeof name, "cold", 6, 0, 0, 0);   /* node 0 owns it in any view */
    for (int gate = 1; gate >= 0; gate--) {
        cfg.raft_gate = gate == 1;
        tst_world *w = tst_world_new(n, 43, &cfg);
        uint32_t client = tst_client(w, name, "10.43.0.1", 80);
        /* Before the first judgement no node can have switched. */
        ck_assert_int_eq(answer_at(w, client, 0, VERSION_JUDGE - 500 * MS), 200);
        ck_assert_int_eq(answer_at(w, client, 0, switched + 500 * MS), gate ? 503 : 200);
        ck_assert_int_eq(answer_at(w, client, 0, cfg.raft_election_delay_ns - 500 * MS), gate ? 503 : 200);
        ck_assert_int_eq(answer_at(w, client, 0, leader_by + 500 * MS), 200);
        tst_world_free(w);
    }
}
END_TEST

START_TEST(test_jraft_node_restarted_into_a_minority)
{
    /* Kills raft-switch-at-start, raft-judge-skips-down-members,
     * raft-gate-ignored and raft-leader-without-election-delay.  Five
     * nodes; node 3 restarts while {3, 4} are cut off from {0, 1, 2}.
     * Restarted, it knows no peer's version but node 4's, so it stays on
     * the old Raft and answers normally, as does the majority.  After the
     * heal every peer reports to it within one round of n - 1 reports; the
     * next judgement switches it to JRaft, which knows no leader until the
     * majority has been reachable for an election delay: 503 meanwhile,
     * then normal answers again. */
    distro_config cfg = quiet_config();
    cfg.raft_election_delay_ns = 30 * S;
    const uint32_t n = 5;
    const sim_time_ns cut = 60 * S, down = 1 * S, heal = 120 * S;
    sim_time_ns round = (n - 1) * cfg.member_report_interval_ns;
    sim_time_ns switched = heal + round + LATENCY_MARGIN + VERSION_JUDGE + cfg.server_status_interval_ns;
    sim_time_ns leader_not_before = heal + cfg.raft_election_delay_ns;
    sim_time_ns leader_by = leader_not_before + cfg.raft_election_delay_ns / 10 + cfg.server_status_interval_ns;
    ck_assert_uint_lt(switched, leader_not_before);
    char mine[64], theirs[64];
    tst_service_with_hash(mine, sizeof mine, "minority", 10, 8, 0, 0);   /* node 3 in {3}, {3,4}, all five */
    tst_service_with_hash(theirs, sizeof theirs, "majority", 60, 0, 0, 0);   /* node 0 in any view */
    tst_world *w = tst_world_new(n, 44, &cfg);
    uint32_t c3 = tst_client(w, mine, "10.44.0.3", 80);
    uint32_t c0 = tst_client(w, theirs, "10.44.0.1", 80);
    tst_run_to(w, cut);
    sim_error err;
    uint32_t groups[5] = { 0, 0, 0, 1, 1 };
    ck_assert_int_eq(sim_net_partition(w->sim, groups, n, &err), SIM_OK);
    ck_assert_int_eq(sim_node_restart(w->sim, 3, down, &err), SIM_OK);
    ck_assert_int_eq(answer_at(w, c3, 3, cut + 20 * S), 200);
    ck_assert_int_eq(answer_at(w, c0, 0, cut + 21 * S), 200);
    ck_assert_int_eq(answer_at(w, c3, 3, heal - 1 * S), 200);
    tst_run_to(w, heal);
    sim_net_heal_all(w->sim);
    ck_assert_int_eq(answer_at(w, c3, 3, switched + 500 * MS), 503);
    ck_assert_int_eq(answer_at(w, c0, 0, switched + 1 * S), 200);
    ck_assert_int_eq(answer_at(w, c3, 3, leader_not_before - 500 * MS), 503);
    ck_assert_int_eq(answer_at(w, c3, 3, leader_by + 500 * MS), 200);
    tst_world_free(w);
}
END_TEST

START_TEST(test_jraft_leader_stays_known_in_a_minority)
{
    /* Kills raft-leader-lost-with-majority.  1.4.2 never clears hasLeader:
     * JRaftProtocol stores only a non-empty leader (JRaftProtocol.java:140)
     * and nothing is published when following stops
     * (NacosStateMachine.java:178-200).  A node that knew a leader and is
     * then cut into a minority keeps answering. */
    distro_config cfg = quiet_config();
    const uint32_t n = 5;
    char mine[64];
    tst_service_with_hash(mine, sizeof mine, "sticky", 10, 8, 0, 0);
    tst_world *w = tst_world_new(n, 45, &cfg);
    uint32_t c3 = tst_client(w, mine, "10.45.0.3", 80);
    ck_assert_int_eq(answer_at(w, c3, 3, 40 * S), 200);   /* switched and led by now */
    sim_error err;
    uint32_t groups[5] = { 0, 0, 0, 1, 1 };
    ck_assert_int_eq(sim_net_partition(w->sim, groups, n, &err), SIM_OK);
    ck_assert_int_eq(answer_at(w, c3, 3, 40 * S + 4 * cfg.raft_election_delay_ns), 200);
    ck_assert_uint_eq(distro_node_counters(w->cluster, 3)->requests_503, 0);
    tst_world_free(w);
}
END_TEST

/* --- What readers get (model/distro_reads.c) ------------------------------------ */

typedef struct tst_read {
    sim_time_ns at_ns;
    uint32_t reader;
    distro_read_source source;
    int32_t server;
    bool pushed;
    uint32_t count;
} tst_read;

typedef struct tst_reads {
    tst_read r[4096];
    size_t len;
} tst_reads;

static void tst_on_read(void *ctx, sim_time_ns at_ns, const distro_read *read)
{
    tst_reads *t = ctx;
    ck_assert_uint_lt(t->len, sizeof t->r / sizeof t->r[0]);
    t->r[t->len++] = (tst_read){ at_ns, read->reader, read->source, read->server, read->pushed, read->count };
}

static tst_reads *watch_reads(tst_world *w)
{
    tst_reads *t = calloc(1, sizeof *t);
    ck_assert_ptr_nonnull(t);
    distro_observer obs = { .ctx = t, .client_read = tst_on_read };
    distro_cluster_set_observer(w->cluster, &obs);
    return t;
}

static uint32_t add_reader(tst_world *w, uint32_t key, bool subscribe, sim_time_ns interval_ns, bool protection)
{
    distro_reader_spec spec = { .key = key, .subscribe = subscribe, .interval_ns = interval_ns,
                                .push_empty_protection = protection };
    uint32_t id = 0;
    sim_error err;
    ck_assert_int_eq(distro_reader_add(w->cluster, &spec, 0, &id, &err), SIM_OK);
    return id;
}

/* GET /instance/list has no @CanDistro (InstanceController.java:382-405):
 * each server answers from its own store.  Node 2 is cut off before the
 * owner takes a registration, so its store never gets the sync: its answers
 * list nothing while the owner's and node 1's list the instance.  Kills
 * list-through-distrofilter. */
START_TEST(test_list_is_answered_from_the_answering_servers_store)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 11, &cfg);
    char service[64];
    tst_service_with_hash(service, sizeof service, "read", 3, 0, 0, 0);   /* node 0 owns it */
    tst_run_to(w, 20 * S);
    sim_error err;
    ck_assert_int_eq(sim_net_isolate(w->sim, 2, &err), SIM_OK);
    uint32_t client = tst_client(w, service, "10.9.0.1", 8080);
    tst_request(w, client, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 23 * S);                     /* the change sync reached node 1 (2.1 s), not node 2 */
    ck_assert(distro_node_responsible(w->cluster, 2, tst_key(w, service)) == false);
    tst_reads *t = watch_reads(w);
    (void)add_reader(w, tst_key(w, service), false, 100 * MS, false);
    tst_run_to(w, 26 * S);                     /* < detection: node 2 still maps the tag to node 0 */
    uint32_t by_server[3] = { 0 };
    for (size_t i = 0; i < t->len; i++) {
        ck_assert_int_eq(t->r[i].source, DISTRO_READ_QUERY);
        ck_assert_int_ge(t->r[i].server, 0);
        by_server[t->r[i].server]++;
        ck_assert_uint_eq(t->r[i].count, t->r[i].server == 2 ? 0u : 1u);
    }
    ck_assert_uint_gt(by_server[2], 0);
    free(t);
    tst_world_free(w);
}
END_TEST

/* NamingProxy.reqApi (NamingProxy.java:534-549): a random start, then each
 * server in turn on failure.  Healthy, every server answers some queries;
 * with two servers crashed every query still gets its answer from the
 * third.  Kills read-no-failover and read-first-server-only. */
START_TEST(test_list_query_starts_at_random_and_fails_over)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 12, &cfg);
    char service[64];
    tst_service_with_hash(service, sizeof service, "fo", 3, 0, 0, 0);
    tst_run_to(w, 20 * S);
    uint32_t client = tst_client(w, service, "10.9.0.2", 8080);
    tst_request(w, client, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 25 * S);
    tst_reads *t = watch_reads(w);
    (void)add_reader(w, tst_key(w, service), false, 200 * MS, false);
    tst_run_to(w, 35 * S);
    uint32_t by_server[3] = { 0 };
    size_t healthy = t->len;
    for (size_t i = 0; i < healthy; i++) {
        ck_assert_int_eq(t->r[i].source, DISTRO_READ_QUERY);
        by_server[t->r[i].server]++;
    }
    for (int n = 0; n < 3; n++) ck_assert_uint_gt(by_server[n], 5);   /* ~16 of 50 each */
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, 1, &err), SIM_OK);
    ck_assert_int_eq(sim_node_crash(w->sim, 2, &err), SIM_OK);
    tst_run_to(w, 45 * S);
    ck_assert_uint_gt(t->len, healthy + 40);
    for (size_t i = healthy; i < t->len; i++) {
        ck_assert_int_eq(t->r[i].source, DISTRO_READ_QUERY);   /* never FAILED */
        ck_assert_int_eq(t->r[i].server, 0);
        ck_assert_uint_eq(t->r[i].count, 1);
    }
    free(t);
    tst_world_free(w);
}
END_TEST

/* HostReactor.processServiceJson with pushEmptyProtection ignores an
 * answer or push without a valid host (HostReactor.java:171-174): when the
 * last instance deregisters, the unprotected subscriber's view empties and
 * the protected one keeps the old list.  Kills read-protection-ignored. */
START_TEST(test_push_empty_protection_keeps_the_last_list)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 13, &cfg);
    char service[64];
    tst_service_with_hash(service, sizeof service, "pe", 3, 1, 0, 0);
    tst_run_to(w, 20 * S);
    uint32_t client = tst_client(w, service, "10.9.0.3", 8080);
    tst_request(w, client, 1, DISTRO_OP_REGISTER);
    tst_run_to(w, 25 * S);
    tst_reads *t = watch_reads(w);
    uint32_t plain = add_reader(w, tst_key(w, service), true, 0, false);
    uint32_t guarded = add_reader(w, tst_key(w, service), true, 0, true);
    tst_run_to(w, 40 * S);
    ck_assert_uint_eq(distro_reader_view_count(w->cluster, plain), 1);
    ck_assert_uint_eq(distro_reader_view_count(w->cluster, guarded), 1);
    ck_assert(distro_reader_view_lists(w->cluster, guarded, client));
    tst_request(w, client, 1, DISTRO_OP_DEREGISTER);
    tst_run_to(w, 75 * S);                     /* several polls (10 s, then backing off) and pushes */
    ck_assert_uint_eq(distro_reader_view_count(w->cluster, plain), 0);
    ck_assert_uint_eq(distro_reader_view_count(w->cluster, guarded), 1);
    ck_assert(distro_reader_view_lists(w->cluster, guarded, client));
    free(t);
    tst_world_free(w);
}
END_TEST

/* PushService: a change pushes 1 s later (PushService.java:125-179) to the
 * subscribers that queried that server within the push cache millis, 10 s
 * (PushClient.zombie, :479-481).  A registration reaches the subscriber's
 * view by push, well before its next 10 s poll; and one change pushes from
 * at most the two servers polled within the last 10 s (the last poll, and
 * one more if a poll falls between the change and a replica's push), never
 * from every server the subscriber ever polled.  Kills read-no-push and
 * push-to-zombies. */
START_TEST(test_push_reaches_only_fresh_subscribers)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 14, &cfg);
    char service[64];
    tst_service_with_hash(service, sizeof service, "push", 3, 0, 0, 0);
    tst_run_to(w, 20 * S);
    uint32_t a = tst_client(w, service, "10.9.0.4", 8080);
    tst_request(w, a, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 25 * S);
    tst_reads *t = watch_reads(w);
    uint32_t sub = add_reader(w, tst_key(w, service), true, 0, false);
    tst_run_to(w, 90 * S);                     /* about 6 polls, at random servers */
    /* Right after a poll, so the next one is 10 s away. */
    uint64_t answers = distro_reads_answers(w->cluster);
    sim_time_ns at = 90 * S;
    while (distro_reads_answers(w->cluster) == answers) {
        at += 10 * MS;
        ck_assert_uint_lt(at, 102 * S);
        tst_run_to(w, at);
    }
    uint64_t pushes_before = distro_reads_pushes(w->cluster);
    uint32_t b = tst_client(w, service, "10.9.0.5", 8080);
    tst_request(w, b, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, at + 5 * S);
    ck_assert(distro_reader_view_lists(w->cluster, sub, b));
    bool by_push = false;
    for (size_t i = 0; i < t->len; i++) {
        if (t->r[i].at_ns >= at && t->r[i].source == DISTRO_READ_VIEW && t->r[i].count == 2) {
            by_push = t->r[i].pushed;
            ck_assert_uint_le(t->r[i].at_ns, at + 2200 * MS);   /* sync 1 s + 100 ms tick, push 1 s */
            break;
        }
    }
    ck_assert(by_push);
    uint64_t pushes = distro_reads_pushes(w->cluster) - pushes_before;
    ck_assert_uint_ge(pushes, 1);
    ck_assert_uint_le(pushes, 2);
    free(t);
    tst_world_free(w);
}
END_TEST

static Suite *checklist_suite(void)
{
    Suite *s = suite_create("distro_checklist");
    TCase *tc = tcase_create("checklist");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_owner_is_java_hash_over_address_sorted_list);
    tcase_add_test(tc, test_list_is_answered_from_the_answering_servers_store);
    tcase_add_test(tc, test_list_query_starts_at_random_and_fails_over);
    tcase_add_test(tc, test_push_empty_protection_keeps_the_last_list);
    tcase_add_test(tc, test_push_reaches_only_fresh_subscribers);
    tcase_add_test(tc, test_warmup_off_serves_from_boot);
    tcase_add_test(tc, test_warmup_gate_answers_503_until_the_refresh_after_the_load);
    tcase_add_test(tc, test_failed_batch_is_retried_5_s_later_then_batched_1_s);
    tcase_add_test(tc, test_put_merged_into_a_pending_retry_takes_its_own_1_s_interval);
    tcase_add_test(tc, test_owner_takes_a_stale_replica_list_from_a_split_brain_peer);
    tcase_add_test(tc, test_aborted_checksum_message_removes_nothing);
    tcase_add_test(tc, test_added_member_is_down_until_first_contact);
    tcase_add_test(tc, test_health_channel_fetches_only_mismatched_services);
    tcase_add_test(tc, test_health_channel_marks_an_instance_the_owner_does_not_list_unhealthy);
    tcase_add_test(tc, test_owner_clock_step_makes_instances_look_stale);
    tcase_add_test(tc, test_empty_batch_is_rejected_and_retried_forever);
    tcase_add_test(tc, test_one_way_link_flaps_the_peer_up_and_down);
    tcase_add_test(tc, test_only_a_successful_probe_resets_the_fail_count);
    tcase_add_test(tc, test_worker_count_is_the_next_power_of_two_of_the_cores);
    tcase_add_test(tc, test_black_holed_peer_stalls_only_the_worker_its_batch_holds);
    tcase_add_test(tc, test_batch_key_list_is_hashed_in_hash_set_order);
    tcase_add_test(tc, test_black_holed_peer_takes_every_worker_in_turn_and_stalls_healthy_peers);
    tcase_add_test(tc, test_black_holed_peer_holds_a_sync_worker_127_s_per_attempt);
    tcase_add_test(tc, test_put_stuck_in_a_pause_lands_after_resume_and_overwrites_newer_data);
    tcase_add_test(tc, test_probe_through_a_black_hole_turns_suspicious_2_5_s_after_its_send);
    tcase_add_test(tc, test_owner_marks_unhealthy_after_15_s_and_a_beat_revives);
    tcase_add_test(tc, test_reregister_keeps_an_unhealthy_flag_until_the_next_beat);
    tcase_add_test(tc, test_deregister_from_an_unknown_service_answers_200);
    tcase_add_test(tc, test_beat_check_delete_on_a_node_that_lost_the_tag_is_rejected);
    tcase_add_test(tc, test_beat_after_a_20404_carries_the_body);
    tcase_add_test(tc, test_health_channel_sends_one_message_per_namespace_even_empty);
    tcase_add_test(tc, test_client_adopts_the_reply_beat_interval);
    tcase_add_test(tc, test_jraft_gate_answers_503_after_the_switch_until_a_leader);
    tcase_add_test(tc, test_jraft_node_restarted_into_a_minority);
    tcase_add_test(tc, test_jraft_leader_stays_known_in_a_minority);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(checklist_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
