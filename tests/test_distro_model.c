/* test_distro_model.c: the Nacos 1.4 Distro model on small clusters.
 *
 * Every test runs a real cluster on the engine: three servers booted at
 * t = 0 (their member views settle by about 7 s, as 1.4.2 starts peers
 * DOWN), manual clients driving requests at chosen servers, and asserts
 * on what NACOS-DISTRO.md says Nacos 1.4.2 does.  Times are virtual. */
#include "tst_world.h"

#include "sim_selfcheck.h"

#define S SIM_S
#define MS SIM_MS

static distro_config quiet_config(void)
{
    /* Manual clients never beat: without this their instances expire. */
    distro_config c = distro_config_defaults();
    c.health_check_enabled = false;
    return c;
}

static uint32_t owner_of(tst_world *w, uint32_t key)
{
    uint32_t owner = distro_node_map_srv(w->cluster, 0, key);
    for (uint32_t n = 1; n < distro_cluster_size(w->cluster); n++) {
        ck_assert_uint_eq(distro_node_map_srv(w->cluster, n, key), owner);   /* views agree */
    }
    return owner;
}

START_TEST(test_views_settle_after_boot)
{
    tst_world *w = tst_world_new(3, 1, NULL);
    tst_run_to(w, 1 * S);
    /* 1.4.2 starts peers DOWN: right after boot each node counts only itself. */
    for (uint32_t n = 0; n < 3; n++) ck_assert_uint_eq(distro_node_healthy_count(w->cluster, n), 1);
    tst_run_to(w, 10 * S);
    for (uint32_t n = 0; n < 3; n++) ck_assert_uint_eq(distro_node_healthy_count(w->cluster, n), 3);
    tst_world_free(w);
}
END_TEST

START_TEST(test_register_reaches_every_peer_in_2_0_to_2_2_s)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, (uint64_t)_i + 1, &cfg);
    tst_run_to(w, 15 * S);
    char service[32];
    snprintf(service, sizeof service, "svc-%d", _i);
    uint32_t key = tst_key(w, service);
    uint32_t owner = owner_of(w, key);
    uint32_t client = tst_client(w, service, "192.168.0.1", 8080);
    sim_time_ns t0 = 20 * S + (sim_time_ns)_i * 37 * MS;   /* a different phase against the 100 ms tick */
    tst_run_to(w, t0);
    tst_request(w, client, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, t0 + 5 * S);
    for (uint32_t n = 0; n < 3; n++) {
        sim_time_ns at = tst_first_change(w, n, key, t0, true);
        ck_assert_uint_ne(at, SIM_TIME_NEVER);
        if (n == owner) continue;
        ck_assert_msg(at - t0 >= 2000 * MS && at - t0 <= 2200 * MS, "node %u got the write after %llu ms", n,
                      (unsigned long long)((at - t0) / MS));
    }
    tst_world_free(w);
}
END_TEST

START_TEST(test_checklist_1_first_deadline_wins)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 2, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t key = tst_key(w, "merge");
    uint32_t owner = owner_of(w, key);
    uint32_t peer = (owner + 1) % 3;
    uint32_t a = tst_client(w, "merge", "10.1.0.1", 80);
    uint32_t b = tst_client(w, "merge", "10.1.0.2", 80);
    tst_run_to(w, 20 * S);
    tst_request(w, a, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, 20500 * MS);
    tst_request(w, b, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, 22200 * MS);
    /* The second put merged into the first pending task and kept its
     * deadline: one send at ~22.1 s carries both instances.  A debounce
     * would have moved the send past 22.5 s. */
    sim_time_ns at = tst_first_change(w, peer, key, 20 * S, true);
    ck_assert_uint_lt(at, 22200 * MS);
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, peer, key), 2);
    tst_world_free(w);
}
END_TEST

START_TEST(test_checklist_2_retries_are_unbounded_and_reread_current_data)
{
    distro_config cfg = quiet_config();
    cfg.verify_interval_ns = 3600 * S;          /* only the retry can repair */
    /* The owner cannot reach the peer but hears its reports: the peer flaps
     * UP <-> DOWN there, and while DOWN the owner owns other tags and
     * bounces the second register.  Keep the peer in the owner's list. */
    cfg.member_fail_access_cnt = 1000;
    tst_world *w = tst_world_new(3, 3, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t key = tst_key(w, "retry");
    uint32_t owner = owner_of(w, key);
    uint32_t peer = (owner + 1) % 3;
    sim_error err;
    ck_assert_int_eq(sim_net_block(w->sim, owner, peer, &err), SIM_OK);
    uint32_t a = tst_client(w, "retry", "10.2.0.1", 80);
    uint32_t b = tst_client(w, "retry", "10.2.0.2", 80);
    tst_run_to(w, 20 * S);
    tst_request(w, a, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, 60 * S);
    tst_request(w, b, owner, DISTRO_OP_REGISTER);   /* newer data while retries go on */
    /* The PUT leaves at ~22 s and, the sync client having no connect
     * timeout, fails when the SYN retries run out 127 s later; its retry
     * leaves 5 s + 1 s after that and fails the same way: two failures by
     * 22 + 2 x 127 + 6 = 282 s, and a third attempt under way. */
    tst_run_to(w, 290 * S);
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, peer, key), 0);
    ck_assert_uint_ge(distro_node_counters(w->cluster, owner)->sync_keys_retried, 2);
    ck_assert_int_eq(sim_net_heal(w->sim, owner, peer, &err), SIM_OK);
    /* The third attempt's next SYN (at most 64 s away) gets through and
     * carries the value read when that attempt started: both instances. */
    tst_run_to(w, 360 * S);
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, peer, key), 2);   /* the current value */
    tst_world_free(w);
}
END_TEST

START_TEST(test_checklist_3_target_no_longer_member_is_silent_success)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 4, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t key = tst_key(w, "gone");
    uint32_t owner = owner_of(w, key);
    uint32_t peer = (owner + 1) % 3;
    sim_error err;
    ck_assert_int_eq(sim_net_block(w->sim, owner, peer, &err), SIM_OK);
    uint32_t a = tst_client(w, "gone", "10.3.0.1", 80);
    tst_run_to(w, 20 * S);
    tst_request(w, a, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, 22 * S + 127 * S + S);   /* the PUT fails when its SYN retries run out */
    ck_assert_uint_ge(distro_node_counters(w->cluster, owner)->sync_batches_failed, 1);
    ck_assert_int_eq(distro_member_remove(w->cluster, owner, peer, &err), SIM_OK);
    tst_run_to(w, 180 * S);
    const distro_counters *c = distro_node_counters(w->cluster, owner);
    ck_assert_uint_ge(c->sync_dropped_not_member, 1);
    uint64_t sent = c->sync_batches_sent;
    tst_run_to(w, 230 * S);
    ck_assert_uint_eq(distro_node_counters(w->cluster, owner)->sync_batches_sent, sent);   /* no more retries */
    ck_assert_uint_eq(distro_node_pending_tasks(w->cluster, owner), 0);
    tst_world_free(w);
}
END_TEST

START_TEST(test_checklist_4_receiver_applies_without_ownership_check)
{
    /* Split brain (W2): node x, cut off, comes to own every tag, accepts a
     * write for a key the others map to y, and its queued retry overwrites
     * y's copy after the heal although y owns the key. */
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 5, &cfg);
    tst_run_to(w, 10 * S);
    char service[32];
    tst_service_with_hash(service, sizeof service, "brain", 3, 1, 0, 0);   /* owner: node 1 */
    uint32_t key = tst_key(w, service);
    ck_assert_uint_eq(owner_of(w, key), 1);
    sim_error err;
    ck_assert_int_eq(sim_net_isolate(w->sim, 0, &err), SIM_OK);
    tst_run_to(w, 60 * S);
    ck_assert_int_eq(distro_node_member_state(w->cluster, 0, 1), DISTRO_MEMBER_DOWN);
    ck_assert(distro_node_responsible(w->cluster, 0, key));   /* node 0 alone: owns everything */
    uint32_t x = tst_client(w, service, "10.4.0.1", 80);
    uint32_t y = tst_client(w, service, "10.4.0.2", 80);
    tst_request(w, x, 0, DISTRO_OP_REGISTER);
    tst_request(w, y, 1, DISTRO_OP_REGISTER);
    tst_run_to(w, 80 * S);
    ck_assert(!distro_node_has_instance(w->cluster, 1, key, "10.4.0.1", 80, NULL));
    sim_net_heal_all(w->sim);
    tst_run_to(w, 100 * S);
    sim_time_ns changed = SIM_TIME_NEVER;
    for (size_t i = 0; i < w->changes_len; i++) {
        const tst_change *c = &w->changes[i];
        if (c->node == 1 && c->key == key && c->at_ns > 80 * S) {
            changed = c->at_ns;
            break;
        }
    }
    ck_assert_uint_ne(changed, SIM_TIME_NEVER);   /* node 1 took node 0's list */
    tst_world_free(w);
}
END_TEST

START_TEST(test_checklist_5_verify_aborts_on_an_owned_key)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 6, &cfg);
    tst_run_to(w, 10 * S);
    sim_error err;
    ck_assert_int_eq(distro_member_remove(w->cluster, 0, 2, &err), SIM_OK);   /* node 0 sees {0, 1} */
    /* Keys node 1 owns in its 3-node view but node 0 owns in its 2-node one. */
    for (uint32_t i = 0; i < 3; i++) {
        char service[32];
        char prefix[16];
        snprintf(prefix, sizeof prefix, "abort%u", i);
        tst_service_with_hash(service, sizeof service, prefix, 3, 1, 2, 0);
        uint32_t c = tst_client(w, service, "10.5.0.1", 80 + i);
        tst_request(w, c, 1, DISTRO_OP_REGISTER);
    }
    tst_run_to(w, 30 * S);
    ck_assert_uint_ge(distro_node_counters(w->cluster, 0)->verify_discarded, 1);
    ck_assert_uint_eq(distro_node_counters(w->cluster, 2)->verify_discarded, 0);
    tst_world_free(w);
}
END_TEST

START_TEST(test_checklist_5_to_remove_uses_the_receiver_view)
{
    /* W3: node 0 (view {0,1}) maps K2 to node 1; node 1 (view {0,1,2})
     * does not own K2 and leaves it out of its checksums; node 0 deletes
     * its valid copy of K2. */
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 7, &cfg);
    tst_run_to(w, 10 * S);
    sim_error err;
    ck_assert_int_eq(distro_member_remove(w->cluster, 0, 2, &err), SIM_OK);
    char k1[32], k2[32];
    tst_service_with_hash(k1, sizeof k1, "keep", 3, 1, 2, 1);   /* node 1 owns in both views */
    tst_service_with_hash(k2, sizeof k2, "lose", 3, 2, 2, 1);   /* node 2 owns; node 0 maps it to node 1 */
    uint32_t key2 = tst_key(w, k2);
    uint32_t c1 = tst_client(w, k1, "10.6.0.1", 80);
    uint32_t c2 = tst_client(w, k2, "10.6.0.2", 80);
    tst_request(w, c1, 1, DISTRO_OP_REGISTER);
    tst_request(w, c2, 2, DISTRO_OP_REGISTER);
    tst_run_to(w, 14 * S);
    ck_assert(distro_node_has_key(w->cluster, 0, key2));
    tst_run_to(w, 40 * S);
    ck_assert_uint_ne(tst_first_change(w, 0, key2, 14 * S, false), SIM_TIME_NEVER);   /* deleted */
    ck_assert_uint_ge(distro_node_counters(w->cluster, 0)->verify_keys_removed, 1);
    ck_assert_uint_eq(distro_node_counters(w->cluster, 0)->verify_discarded, 0);
    tst_world_free(w);
}
END_TEST

START_TEST(test_second_checksum_from_busy_source_is_dropped)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 8, &cfg);
    tst_run_to(w, 9 * S);
    char service[32];
    tst_service_with_hash(service, sizeof service, "slow", 3, 1, 0, 0);   /* owner: node 1 */
    uint32_t key = tst_key(w, service);
    sim_error err;
    ck_assert_int_eq(sim_net_block(w->sim, 1, 0, &err), SIM_OK);          /* node 0 misses the sync */
    uint32_t c = tst_client(w, service, "10.7.0.1", 80);
    tst_run_to(w, 10 * S);
    tst_request(w, c, 1, DISTRO_OP_REGISTER);
    tst_run_to(w, 14 * S);
    ck_assert(!distro_node_has_key(w->cluster, 0, key));
    ck_assert_int_eq(sim_net_heal(w->sim, 1, 0, &err), SIM_OK);
    /* 3 s one way from node 1 to node 0: node 0's repair fetch from node 1
     * opens a connection (the sync pool's live 500 ms), whose SYN-ACK and
     * answer each take 3 s, so the fetch takes about 6 s, longer than the
     * 5 s between node 1's checksum messages: the next one arrives while
     * node 0 still fetches for node 1, and is dropped. */
    sim_link_params slow = sim_link_params_default();
    slow.latency = sim_latency_constant(3 * S);
    ck_assert_int_eq(sim_net_set_link(w->sim, 1, 0, &slow, &err), SIM_OK);
    tst_run_to(w, 45 * S);
    ck_assert_uint_ge(distro_node_counters(w->cluster, 0)->verify_single_flight_drops, 1);
    ck_assert(distro_node_has_key(w->cluster, 0, key));
    tst_world_free(w);
}
END_TEST

START_TEST(test_checklist_6_replica_keeps_local_health_on_apply)
{
    distro_config cfg = distro_config_defaults();   /* health checks on: the owner marks A unhealthy */
    tst_world *w = tst_world_new(3, 9, &cfg);
    tst_run_to(w, 9 * S);
    uint32_t key = tst_key(w, "health");
    uint32_t owner = owner_of(w, key);
    uint32_t peer = (owner + 1) % 3;
    uint32_t a = tst_client(w, "health", "10.8.0.1", 80);
    uint32_t b = tst_client(w, "health", "10.8.0.2", 80);
    tst_run_to(w, 10 * S);
    tst_request(w, a, owner, DISTRO_OP_REGISTER);   /* A never beats */
    tst_run_to(w, 32 * S);
    bool healthy = true;
    ck_assert(distro_node_has_instance(w->cluster, owner, key, "10.8.0.1", 80, &healthy));
    ck_assert(!healthy);                             /* > 15 s without a beat, on the owner only */
    ck_assert(distro_node_has_instance(w->cluster, peer, key, "10.8.0.1", 80, &healthy));
    ck_assert(healthy);
    tst_request(w, b, owner, DISTRO_OP_REGISTER);   /* a put: the synced list says A is unhealthy */
    tst_run_to(w, 36 * S);
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, peer, key), 2);
    ck_assert(distro_node_has_instance(w->cluster, peer, key, "10.8.0.1", 80, &healthy));
    ck_assert(healthy);                              /* the replica kept its own flag */
    ck_assert_str_ne(distro_node_checksum(w->cluster, owner, key), distro_node_checksum(w->cluster, peer, key));
    tst_world_free(w);
}
END_TEST

START_TEST(test_checklist_7_beats_do_not_replicate_last_beat)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 10, &cfg);
    tst_run_to(w, 9 * S);
    uint32_t key = tst_key(w, "beats");
    uint32_t owner = owner_of(w, key);
    uint32_t peer = (owner + 2) % 3;
    uint32_t a = tst_client(w, "beats", "10.9.0.1", 80);
    tst_run_to(w, 10 * S);
    tst_request(w, a, owner, DISTRO_OP_REGISTER);
    for (sim_time_ns t = 15 * S; t <= 25 * S; t += 5 * S) {
        tst_run_to(w, t);
        tst_request(w, a, owner, DISTRO_OP_BEAT);
    }
    tst_run_to(w, 27 * S);
    int64_t at_owner = distro_node_instance_last_beat_ms(w->cluster, owner, key, "10.9.0.1", 80);
    int64_t at_peer = distro_node_instance_last_beat_ms(w->cluster, peer, key, "10.9.0.1", 80);
    ck_assert_int_ge(at_owner, 25000);
    ck_assert_int_ge(at_peer, 10000);
    ck_assert_int_lt(at_peer, 10100);               /* the value of the register's sync */
    tst_world_free(w);
}
END_TEST

/* Checklist items 8 and 9 are 2.x behaviours (revision-based verify with
 * leases); the model is Nacos 1.4.2's, so these tests pin the 1.4
 * behaviour in their place, which is what a 2.x-style model would
 * wrongly change (NACOS-DISTRO.md sections 2.5, 2.6 and W1, W5). */

/* Item 8, 1.4: verify carries checksums only.  It renews nothing (replicas
 * keep the lastBeat of the last transfer through any number of rounds and
 * do not expire for want of renewal, where 2.x drops them after 180 s), and
 * a replica that differs repairs itself by fetching from the source; the
 * owner sends nothing new. */
START_TEST(test_checklist_8_v1_verify_renews_nothing_and_the_replica_pulls_repair)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 11, &cfg);
    tst_run_to(w, 9 * S);
    uint32_t key = tst_key(w, "lease");
    uint32_t owner = owner_of(w, key);
    uint32_t peer = (owner + 1) % 3;
    uint32_t a = tst_client(w, "lease", "10.12.0.1", 80);
    tst_run_to(w, 10 * S);
    tst_request(w, a, owner, DISTRO_OP_REGISTER);
    for (sim_time_ns t = 15 * S; t <= 60 * S; t += 5 * S) {
        tst_run_to(w, t);
        tst_request(w, a, owner, DISTRO_OP_BEAT);
    }
    tst_run_to(w, 62 * S);
    ck_assert_uint_ge(distro_node_counters(w->cluster, owner)->verify_sent, 2 * 10);   /* ten rounds, two peers */
    int64_t at_peer = distro_node_instance_last_beat_ms(w->cluster, peer, key, "10.12.0.1", 80);
    ck_assert_int_ge(at_peer, 10000);
    ck_assert_int_lt(at_peer, 10100);              /* still the register's sync */
    ck_assert_int_ge(distro_node_instance_last_beat_ms(w->cluster, owner, key, "10.12.0.1", 80), 60000);

    /* A lost sync: the replica finds the difference and fetches. */
    sim_error err;
    ck_assert_int_eq(sim_net_block(w->sim, owner, peer, &err), SIM_OK);
    uint32_t b = tst_client(w, "lease", "10.12.0.2", 80);
    tst_request(w, b, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, 66 * S);                          /* the PUT at ~64.1 s was lost */
    ck_assert_int_eq(sim_net_heal(w->sim, owner, peer, &err), SIM_OK);
    uint64_t sent_before = distro_node_counters(w->cluster, owner)->sync_batches_sent;
    tst_run_to(w, 71 * S);                          /* the verify at ~70 s, before any retry */
    ck_assert_uint_eq(distro_node_instance_count(w->cluster, peer, key), 2);
    ck_assert_uint_ge(distro_node_counters(w->cluster, peer)->verify_keys_fetched, 1);
    ck_assert_uint_eq(distro_node_counters(w->cluster, owner)->sync_batches_sent, sent_before);

    /* No lease: 200 s after its last transfer the replica still lists A. */
    tst_run_to(w, 280 * S);
    ck_assert(distro_node_has_instance(w->cluster, peer, key, "10.12.0.1", 80, NULL));
    tst_world_free(w);
}
END_TEST

/* Item 9, 1.4: the checksum includes `healthy`, so a health flip on the
 * owner changes it (2.x's revision does not).  Replicas keep their own flag
 * on apply, so they differ, and re-fetch the key on every verify round,
 * until the health channel (from 60 s) moves their flag (W5). */
START_TEST(test_checklist_9_v1_checksum_changes_on_health_flip)
{
    distro_config cfg = distro_config_defaults();
    cfg.ip_delete_timeout_ns = 600 * S;             /* marked unhealthy, never deleted */
    tst_world *w = tst_world_new(3, 12, &cfg);
    tst_run_to(w, 9 * S);
    uint32_t key = tst_key(w, "flip");
    uint32_t owner = owner_of(w, key);
    uint32_t peer = (owner + 2) % 3;
    uint32_t a = tst_client(w, "flip", "10.13.0.1", 80);
    tst_run_to(w, 10 * S);
    tst_request(w, a, owner, DISTRO_OP_REGISTER);   /* A never beats */
    tst_run_to(w, 20 * S);
    char before[33];
    snprintf(before, sizeof before, "%s", distro_node_checksum(w->cluster, owner, key));
    ck_assert_str_eq(before, distro_node_checksum(w->cluster, peer, key));
    tst_run_to(w, 36 * S);
    bool healthy = true;
    ck_assert(distro_node_has_instance(w->cluster, owner, key, "10.13.0.1", 80, &healthy));
    ck_assert(!healthy);
    ck_assert_str_ne(distro_node_checksum(w->cluster, owner, key), before);   /* the flip changed it */
    uint64_t fetched_36 = distro_node_counters(w->cluster, peer)->verify_keys_fetched;
    tst_run_to(w, 56 * S);
    ck_assert(distro_node_has_instance(w->cluster, peer, key, "10.13.0.1", 80, &healthy));
    ck_assert(healthy);                              /* kept on every apply */
    ck_assert_uint_ge(distro_node_counters(w->cluster, peer)->verify_keys_fetched, fetched_36 + 3);
    tst_run_to(w, 75 * S);                          /* the health channel ran at 60 s, 65 s, ... */
    ck_assert(distro_node_has_instance(w->cluster, peer, key, "10.13.0.1", 80, &healthy));
    ck_assert(!healthy);
    ck_assert_uint_ge(distro_node_counters(w->cluster, peer)->health_status_updates, 1);
    ck_assert_str_eq(distro_node_checksum(w->cluster, owner, key), distro_node_checksum(w->cluster, peer, key));
    uint64_t fetched_75 = distro_node_counters(w->cluster, peer)->verify_keys_fetched;
    tst_run_to(w, 95 * S);
    ck_assert_uint_eq(distro_node_counters(w->cluster, peer)->verify_keys_fetched, fetched_75);   /* churn over */
    tst_world_free(w);
}
END_TEST

START_TEST(test_checklist_10_suspicious_members_still_own_tags)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 11, &cfg);
    tst_run_to(w, 20 * S);
    char service[32];
    tst_service_with_hash(service, sizeof service, "susp", 3, 2, 0, 0);   /* owner: node 2 */
    uint32_t key = tst_key(w, service);
    sim_error err;
    ck_assert_int_eq(sim_net_isolate(w->sim, 2, &err), SIM_OK);
    sim_time_ns t = 20 * S;
    while (distro_node_member_state(w->cluster, 0, 2) != DISTRO_MEMBER_SUSPICIOUS && t < 60 * S) {
        t += 100 * MS;
        tst_run_to(w, t);
    }
    ck_assert_int_eq(distro_node_member_state(w->cluster, 0, 2), DISTRO_MEMBER_SUSPICIOUS);
    ck_assert_uint_eq(distro_node_healthy_count(w->cluster, 0), 3);
    ck_assert_uint_eq(distro_node_map_srv(w->cluster, 0, key), 2);
    tst_world_free(w);
}
END_TEST

START_TEST(test_checklist_11_all_members_without_self_includes_down)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 12, &cfg);
    tst_run_to(w, 20 * S);
    char service[32];
    tst_service_with_hash(service, sizeof service, "down", 3, 0, 0, 0);   /* owner: node 0 */
    uint32_t key = tst_key(w, service);
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, 2, &err), SIM_OK);
    tst_run_to(w, 30 * S);
    ck_assert_int_eq(distro_node_member_state(w->cluster, 0, 2), DISTRO_MEMBER_DOWN);
    ck_assert_uint_eq(distro_node_map_srv(w->cluster, 0, key), 0);
    uint32_t c = tst_client(w, service, "10.10.0.1", 80);
    tst_request(w, c, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 45 * S);
    const distro_counters *k = distro_node_counters(w->cluster, 0);
    ck_assert_uint_ge(k->sync_batches_failed, 2);     /* still tried, refused, retried */
    ck_assert_uint_ge(k->sync_keys_retried, 2);
    tst_world_free(w);
}
END_TEST

START_TEST(test_lost_sync_is_repaired_by_next_verify)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 13, &cfg);
    tst_run_to(w, 15 * S);
    uint32_t key = tst_key(w, "lost");
    uint32_t owner = owner_of(w, key);
    uint32_t peer = (owner + 1) % 3;
    sim_error err;
    ck_assert_int_eq(sim_net_block(w->sim, owner, peer, &err), SIM_OK);
    uint32_t a = tst_client(w, "lost", "10.11.0.1", 80);
    tst_run_to(w, 20 * S);
    tst_request(w, a, owner, DISTRO_OP_REGISTER);
    /* The PUT leaves at ~22.1 s and its SYN is retransmitted 1, 2, 4 and
     * 8 s apart: at ~23.1, 25.1, 29.1 and 37.1 s.  Heal at 30 s: the PUT
     * lands at ~37.1 s, while the owner's verify (every 5 s, its checksum
     * message no longer blocked) reaches the peer, which fetches the key,
     * before 36 s. */
    tst_run_to(w, 30 * S);
    ck_assert(!distro_node_has_key(w->cluster, peer, key));
    ck_assert_int_eq(sim_net_heal(w->sim, owner, peer, &err), SIM_OK);
    tst_run_to(w, 36 * S);
    ck_assert(distro_node_has_key(w->cluster, peer, key));
    ck_assert_uint_ge(distro_node_counters(w->cluster, peer)->verify_keys_fetched, 1);
    ck_assert_uint_eq(distro_node_counters(w->cluster, owner)->sync_batches_failed, 0);   /* not the retry */
    tst_world_free(w);
}
END_TEST

START_TEST(test_restarted_node_loads_from_first_peer_in_address_order)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 14, &cfg);
    tst_run_to(w, 10 * S);
    for (uint32_t i = 0; i < 6; i++) {
        char service[32];
        snprintf(service, sizeof service, "load-%u", i);
        uint32_t key = tst_key(w, service);
        uint32_t c = tst_client(w, service, "10.12.0.1", 80 + i);
        tst_request(w, c, owner_of(w, key), DISTRO_OP_REGISTER);
    }
    tst_run_to(w, 20 * S);
    sim_error err;
    ck_assert_int_eq(sim_node_restart(w->sim, 2, 1 * S, &err), SIM_OK);
    ck_assert_int_eq(sim_node_restart(w->sim, 0, 1 * S, &err), SIM_OK);
    tst_run_to(w, 21500 * MS);
    ck_assert(distro_node_initialized(w->cluster, 2));
    ck_assert_uint_eq(distro_node_loaded_from(w->cluster, 2), 0);   /* 10.0.0.1 first, DOWN or not */
    ck_assert_uint_eq(distro_node_loaded_from(w->cluster, 0), 1);
    tst_world_free(w);
}
END_TEST

START_TEST(test_load_retries_after_30_s_when_all_peers_fail)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 15, &cfg);
    tst_run_to(w, 20 * S);
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, 0, &err), SIM_OK);
    ck_assert_int_eq(sim_node_crash(w->sim, 1, &err), SIM_OK);
    const distro_counters *c = distro_node_counters(w->cluster, 2);
    uint64_t attempts = c->snapshot_attempts;        /* counters span incarnations: the boot load counts */
    uint64_t retries = c->load_retries;
    ck_assert_int_eq(sim_node_restart(w->sim, 2, 1 * S, &err), SIM_OK);
    tst_run_to(w, 21500 * MS);
    ck_assert_uint_eq(c->snapshot_attempts - attempts, 2);   /* both refused */
    ck_assert_uint_eq(c->load_retries - retries, 1);
    ck_assert(!distro_node_initialized(w->cluster, 2));
    tst_run_to(w, 50500 * MS);
    ck_assert_uint_eq(c->snapshot_attempts - attempts, 2);
    ck_assert_int_eq(sim_node_start(w->sim, 0, 0, &err), SIM_OK);
    tst_run_to(w, 51500 * MS);
    ck_assert_uint_eq(c->snapshot_attempts - attempts, 3);   /* 30 s later: node 0 answers, with nothing */
    ck_assert(distro_node_initialized(w->cluster, 2));
    ck_assert_uint_eq(distro_node_loaded_from(w->cluster, 2), 0);
    tst_world_free(w);
}
END_TEST

START_TEST(test_only_owner_beat_check_deletes_30_s_after_last_beat)
{
    distro_config cfg = distro_config_defaults();
    tst_world *w = tst_world_new(3, 16, &cfg);
    tst_run_to(w, 9 * S);
    uint32_t key = tst_key(w, "expire");
    uint32_t owner = owner_of(w, key);
    uint32_t a = tst_client(w, "expire", "10.13.0.1", 80);
    tst_run_to(w, 10 * S);
    tst_request(w, a, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, 14 * S);
    tst_request(w, a, owner, DISTRO_OP_BEAT);        /* the last beat */
    tst_run_to(w, 15 * S);
    int64_t last_beat_ms = distro_node_instance_last_beat_ms(w->cluster, owner, key, "10.13.0.1", 80);
    sim_time_ns deleted = SIM_TIME_NEVER;
    for (sim_time_ns t = 15 * S; t < 60 * S && deleted == SIM_TIME_NEVER; t += 10 * MS) {
        tst_run_to(w, t);
        if (!distro_node_has_instance(w->cluster, owner, key, "10.13.0.1", 80, NULL)) deleted = t;
    }
    ck_assert_uint_ne(deleted, SIM_TIME_NEVER);
    int64_t after_ms = (int64_t)(deleted / MS) - last_beat_ms;
    ck_assert_msg(after_ms > 30000 && after_ms <= 35020, "deleted %lld ms after the last beat", (long long)after_ms);
    tst_run_to(w, deleted + 2500 * MS);
    for (uint32_t n = 0; n < 3; n++) {
        ck_assert(!distro_node_has_instance(w->cluster, n, key, "10.13.0.1", 80, NULL));
        if (n != owner) ck_assert_uint_eq(distro_node_counters(w->cluster, n)->instances_expired, 0);
    }
    ck_assert_uint_eq(distro_node_counters(w->cluster, owner)->instances_expired, 1);
    tst_world_free(w);
}
END_TEST

START_TEST(test_unreachable_peer_suspicious_after_one_failure_down_after_four)
{
    /* A host that died (no RST, every probe times out). */
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 17, &cfg);
    tst_run_to(w, 20 * S);
    sim_error err;
    ck_assert_int_eq(sim_net_isolate(w->sim, 2, &err), SIM_OK);
    tst_run_to(w, 60 * S);
    const tst_member_event *first = tst_member_event_nth(w, 0, 2, 20 * S, 0);
    const tst_member_event *second = tst_member_event_nth(w, 0, 2, 20 * S, 1);
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(second);
    ck_assert_int_eq(first->old_state, DISTRO_MEMBER_UP);
    ck_assert_int_eq(first->state, DISTRO_MEMBER_SUSPICIOUS);
    ck_assert_uint_eq(first->fail_cnt, 1);
    ck_assert_int_eq(second->old_state, DISTRO_MEMBER_SUSPICIOUS);   /* each event starts where the last ended */
    ck_assert_int_eq(second->state, DISTRO_MEMBER_DOWN);
    ck_assert_uint_eq(second->fail_cnt, 4);
    tst_world_free(w);
}
END_TEST

START_TEST(test_crashed_process_refuses_and_goes_down_at_once)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 18, &cfg);
    tst_run_to(w, 20 * S);
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, 2, &err), SIM_OK);
    tst_run_to(w, 30 * S);
    const tst_member_event *first = tst_member_event_nth(w, 0, 2, 20 * S, 0);
    ck_assert_ptr_nonnull(first);
    ck_assert_int_eq(first->old_state, DISTRO_MEMBER_UP);
    ck_assert_int_eq(first->state, DISTRO_MEMBER_DOWN);   /* "Connection refused" */
    ck_assert_uint_eq(first->fail_cnt, 1);
    tst_world_free(w);
}
END_TEST

START_TEST(test_forwarding_goes_to_owner_in_forwarding_view)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 19, &cfg);
    tst_run_to(w, 10 * S);
    sim_error err;
    ck_assert_int_eq(distro_member_remove(w->cluster, 0, 2, &err), SIM_OK);   /* node 0 sees {0, 1} */
    char fwd[32], bounce[32];
    tst_service_with_hash(fwd, sizeof fwd, "fwd", 2, 1, 3, 1);       /* node 1 in both views */
    tst_service_with_hash(bounce, sizeof bounce, "bounce", 2, 1, 3, 2); /* node 0 says 1, node 1 says 2 */
    uint32_t kf = tst_key(w, fwd), kb = tst_key(w, bounce);
    uint32_t cf = tst_client(w, fwd, "10.14.0.1", 80);
    uint32_t cb = tst_client(w, bounce, "10.14.0.2", 80);
    tst_request(w, cf, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 10500 * MS);
    ck_assert(distro_node_has_key(w->cluster, 1, kf));              /* written on node 1 */
    ck_assert_uint_eq(distro_node_counters(w->cluster, 0)->redirects_proxied, 1);
    tst_request(w, cb, 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 15 * S);
    ck_assert_uint_eq(distro_node_counters(w->cluster, 1)->redirects_rejected, 1);   /* no second hop */
    for (uint32_t n = 0; n < 3; n++) ck_assert(!distro_node_has_key(w->cluster, n, kb));
    tst_world_free(w);
}
END_TEST

/* --- Determinism --------------------------------------------------------------- */

typedef struct churn_ctx {
    uint64_t seed;
    bool perturb;
    bool shortcuts_off;          /* distro_config.shortcuts = false */
    uint64_t memo_hits;          /* of the last run */
} churn_ctx;

static sim_engine *churn_run(void *ctx, unsigned run_index, sim_error *err)
{
    churn_ctx *cc = ctx;
    sim_config sc = { .seed = cc->seed, .node_count = 3, .trace_record = true };
    sim_engine *sim = sim_engine_create(&sc, err);
    ck_assert_ptr_nonnull(sim);
    distro_config cfg = distro_config_defaults();
    cfg.shortcuts = !cc->shortcuts_off;
    distro_cluster *c = distro_cluster_create(sim, &cfg, NULL, err);
    ck_assert_int_eq(distro_cluster_start_all(c, err), SIM_OK);
    sim_link_params link = sim_link_params_default();
    link.latency.base = (sim_dist){ .kind = SIM_DIST_UNIFORM, .a_ns = 500 * SIM_US, .b_ns = 3 * MS };
    link.loss_ppm = 20000;
    ck_assert_int_eq(sim_net_set_default(sim, &link, err), SIM_OK);
    for (uint32_t i = 0; i < 40; i++) {
        char service[32], ip[32];
        snprintf(service, sizeof service, "churn-%u", i % 13);
        snprintf(ip, sizeof ip, "10.20.%u.%u", i / 200, i % 200 + 1);
        distro_client_spec spec = { .service = service, .ip = ip, .port = 8080, .weight = 1.0 };
        uint32_t id;
        ck_assert_int_eq(distro_client_add(c, &spec, (sim_time_ns)i * 250 * MS, &id, err), SIM_OK);
    }
    (void)sim_run_until(sim, 30 * S);
    ck_assert_int_eq(sim_node_restart(sim, 1, 2 * S, err), SIM_OK);
    if (cc->perturb && run_index == 1) ck_assert_int_eq(distro_client_kill(c, 3, err), SIM_OK);
    (void)sim_run_until(sim, 90 * S);
    cc->memo_hits = distro_cluster_memo_hits(c);
    distro_cluster_destroy(c);
    return sim;
}

START_TEST(test_model_run_is_deterministic)
{
    churn_ctx ctx = { .seed = 77 };
    sim_selfcheck_result r;
    sim_error err;
    ck_assert_int_eq(sim_selfcheck(churn_run, &ctx, &r, &err), SIM_OK);
    ck_assert(r.same);
    ck_assert_uint_gt(r.events[0], 5000);
    ctx.perturb = true;
    ck_assert_int_eq(sim_selfcheck(churn_run, &ctx, &r, &err), SIM_OK);
    ck_assert(!r.same);
    ck_assert(r.has_record[0]);
    ck_assert_uint_ge(r.record[0].at_ns, 30 * S);   /* the runs part after the perturbation */
}
END_TEST

/* The shortcuts (the receiver memo, the beat check's deadline) skip only
 * work that would find nothing: a run with them is event for event the run
 * without them (with loss, churn and a restart), and the memo did skip
 * comparisons. */
START_TEST(test_shortcuts_change_nothing)
{
    sim_error err;
    uint64_t hash[2], hits[2];
    for (int off = 0; off < 2; off++) {
        churn_ctx ctx = { .seed = 78 + (uint64_t)_i, .shortcuts_off = off == 1 };
        sim_engine *sim = churn_run(&ctx, 0, &err);
        hash[off] = sim_trace_hash(sim);
        hits[off] = ctx.memo_hits;
        ck_assert_uint_gt(sim_events_processed(sim), 5000);
        sim_engine_destroy(sim);
    }
    ck_assert_uint_eq(hash[0], hash[1]);
    ck_assert_uint_gt(hits[0], 10);
    ck_assert_uint_eq(hits[1], 0);
}
END_TEST

/* A merged beat (distro_client.c) runs its send inside its arrival, or
 * when something it reads is about to change (a pause, a clock set or a
 * crash of its server, a kill or deregistration of its client).  With
 * merged_beats off each send runs at its own instant, as its own event:
 * the runs must agree on everything observable at every second (what each
 * node lists, each instance's lastBeat, every counter, each client's last
 * answer), through all of those changes, with jittered latencies and with
 * fixed ones (where events tie to the nanosecond), and the merged run must
 * have fewer events. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t merged_run(uint64_t seed, bool fixed_latency, bool merged, uint64_t *events)
{
    sim_error err;
    sim_config sc = { .seed = seed, .node_count = 3 };
    sim_engine *sim = sim_engine_create(&sc, &err);
    ck_assert_ptr_nonnull(sim);
    distro_config cfg = distro_config_defaults();
    cfg.merged_beats = merged;
    distro_cluster *c = distro_cluster_create(sim, &cfg, NULL, &err);
    ck_assert_int_eq(distro_cluster_start_all(c, &err), SIM_OK);
    sim_link_params link = sim_link_params_default();
    if (fixed_latency) link.latency.base = (sim_dist){ .kind = SIM_DIST_CONSTANT, .a_ns = 1 * MS };
    else link.latency.base = (sim_dist){ .kind = SIM_DIST_UNIFORM, .a_ns = 500 * SIM_US, .b_ns = 3 * MS };
    ck_assert_int_eq(sim_net_set_default(sim, &link, &err), SIM_OK);
    enum { CLIENTS = 24 };
    uint32_t keys[CLIENTS];
    for (uint32_t i = 0; i < CLIENTS; i++) {
        char service[32], ip[32];
        snprintf(service, sizeof service, "merged-%u", i % 7);
        snprintf(ip, sizeof ip, "10.40.0.%u", i + 1);
        distro_client_spec spec = { .service = service, .ip = ip, .port = 8080, .weight = 1.0 };
        uint32_t id;
        /* Fixed latencies and whole-millisecond starts: beats tie. */
        ck_assert_int_eq(distro_client_add(c, &spec, (sim_time_ns)(i % 4) * 100 * MS, &id, &err), SIM_OK);
        keys[i] = distro_client_key(c, id);
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t t = 1; t <= 150; t++) {
        (void)sim_run_until(sim, (sim_time_ns)t * S + 1700 * SIM_US);   /* mid-way between the beats */
        switch (t) {
        case 20: ck_assert_int_eq(sim_node_pause(sim, 2, 55 * S, &err), SIM_OK); break;   /* past the 50 s read timeout */
        case 30: ck_assert_int_eq(sim_node_set_clock(sim, 0, 0, 150, &err), SIM_OK); break;
        case 41: ck_assert_int_eq(distro_client_kill(c, 3, &err), SIM_OK); break;
        case 43: ck_assert_int_eq(distro_client_deregister(c, 5, &err), SIM_OK); break;
        case 50: ck_assert_int_eq(sim_node_restart(sim, 1, 3 * S, &err), SIM_OK); break;
        case 90: ck_assert_int_eq(sim_node_crash(sim, 0, &err), SIM_OK); break;
        case 100: ck_assert_int_eq(sim_node_start(sim, 0, 0, &err), SIM_OK); break;
        default: break;
        }
        for (uint32_t n = 0; n < 3; n++) {
            const distro_counters *k = distro_node_counters(c, n);
            if (k != NULL) h = fnv(h, k, sizeof *k);
            for (uint32_t i = 0; i < CLIENTS; i++) {
                char ip[32];
                snprintf(ip, sizeof ip, "10.40.0.%u", i + 1);
                bool listed = distro_node_lists_client(c, n, i);
                int64_t beat = distro_node_instance_last_beat_ms(c, n, keys[i], ip, 8080);
                h = fnv(h, &listed, sizeof listed);
                h = fnv(h, &beat, sizeof beat);
            }
        }
        for (uint32_t i = 0; i < CLIENTS; i++) {
            int32_t code = distro_client_last_code(c, i);
            h = fnv(h, &code, sizeof code);
        }
    }
    *events = sim_events_processed(sim);
    distro_cluster_destroy(c);
    sim_engine_destroy(sim);
    return h;
}

START_TEST(test_merged_beats_change_nothing)
{
    bool fixed = _i % 2 == 1;
    uint64_t seed = 90 + (uint64_t)_i;
    uint64_t events_merged, events_plain;
    uint64_t merged = merged_run(seed, fixed, true, &events_merged);
    uint64_t plain = merged_run(seed, fixed, false, &events_plain);
    ck_assert_uint_eq(merged, plain);
    /* A beat whose server was up went as one event, not two: 22 clients
     * beat about 30 times each in 150 s, and most of those beats merge. */
    ck_assert_uint_lt(events_merged + 300, events_plain);
}
END_TEST

/* A member-list change on one receiver alone: its sources' messages are
 * unchanged, and its store is not touched (no beat checks), but the keys
 * it now owns must abort their messages, as without the memo. */
static void member_change_run(bool memo, uint64_t *hash, distro_counters *counters, uint64_t *hits)
{
    distro_config cfg = quiet_config();
    cfg.shortcuts = memo;
    tst_world *w = tst_world_new(3, 21, &cfg);
    tst_run_to(w, 10 * S);
    for (uint32_t i = 0; i < 30; i++) {
        char service[32], ip[32];
        snprintf(service, sizeof service, "svc-%u", i);
        snprintf(ip, sizeof ip, "10.30.0.%u", i + 1);
        uint32_t cl = tst_client(w, service, ip, 8080);
        tst_request(w, cl, i % 3, DISTRO_OP_REGISTER);
    }
    tst_run_to(w, 40 * S);                     /* synced, and verified several times */
    sim_error err;
    ck_assert_int_eq(distro_member_remove(w->cluster, 2, 1, &err), SIM_OK);   /* node 2 forgets node 1 */
    tst_run_to(w, 60 * S);
    *hash = sim_trace_hash(w->sim);
    *counters = *distro_node_counters(w->cluster, 2);
    *hits = distro_cluster_memo_hits(w->cluster);
    tst_world_free(w);
}

START_TEST(test_receiver_memo_follows_member_list_changes)
{
    uint64_t hash[2], hits[2];
    distro_counters counters[2];
    member_change_run(true, &hash[0], &counters[0], &hits[0]);
    member_change_run(false, &hash[1], &counters[1], &hits[1]);
    ck_assert_uint_gt(hits[0], 0);
    ck_assert_uint_gt(counters[1].verify_discarded, 0);   /* node 2 owns keys node 0 sends */
    ck_assert_uint_eq(counters[0].verify_discarded, counters[1].verify_discarded);
    ck_assert_uint_eq(counters[0].verify_keys_removed, counters[1].verify_keys_removed);
    ck_assert_uint_eq(counters[0].verify_keys_fetched, counters[1].verify_keys_fetched);
    ck_assert_uint_eq(hash[0], hash[1]);
}
END_TEST

/* Instance lists borrow interned strings (distro_instance.h): every
 * replica's entry points at the cluster's one copy, so a list is copied
 * bitwise and nothing frees an entry's strings.  Copies would pass every
 * content check and fail this one. */
START_TEST(test_list_entries_hold_the_interned_strings)
{
    distro_config cfg = quiet_config();
    tst_world *w = tst_world_new(3, 11, &cfg);
    tst_run_to(w, 15 * S);
    distro_client_spec spec = { .service = "svc-intern", .ip = "192.168.7.7", .port = 8080, .weight = 1.0,
                                .manual = true, .cluster_name = "c1",
                                .metadata = (const char *const[]){ "zone", "a", NULL } };
    uint32_t client = 0;
    sim_error err;
    ck_assert_int_eq(distro_client_add(w->cluster, &spec, 0, &client, &err), SIM_OK);
    uint32_t key = tst_key(w, "svc-intern");
    tst_request(w, client, owner_of(w, key), DISTRO_OP_REGISTER);
    tst_run_to(w, 25 * S);
    const char *ip = distro_cluster_intern(w->cluster, "192.168.7.7");
    const char *cluster_name = distro_cluster_intern(w->cluster, "c1");
    for (uint32_t n = 0; n < 3; n++) {
        const distro_instance *in = distro_node_instance(w->cluster, n, key, 0);
        ck_assert_ptr_nonnull(in);
        ck_assert_ptr_eq(in->ip, ip);
        ck_assert_ptr_eq(in->cluster, cluster_name);
        ck_assert_uint_eq(in->metadata_count, 1);
        ck_assert_ptr_eq(in->metadata[0].key, distro_cluster_intern(w->cluster, "zone"));
        ck_assert_ptr_eq(in->metadata[0].value, distro_cluster_intern(w->cluster, "a"));
    }
    ck_assert_ptr_null(distro_node_instance(w->cluster, 0, key, 1));
    tst_world_free(w);
}
END_TEST

/* A full event pool inside a handler is an operating error: the run ends
 * as a failure carrying the engine's message, not as an abort. */
START_TEST(test_full_event_pool_fails_the_run_with_the_engine_message)
{
    sim_error err;
    sim_config sc = { .seed = 1, .node_count = 3, .events_max = 24 };
    sim_engine *sim = sim_engine_create(&sc, &err);
    ck_assert_ptr_nonnull(sim);
    distro_config cfg = distro_config_defaults();
    distro_cluster *c = distro_cluster_create(sim, &cfg, NULL, &err);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(distro_cluster_start_all(c, &err), SIM_OK);
    for (uint32_t i = 0; i < 16; i++) {
        char service[32];
        snprintf(service, sizeof service, "svc-%u", i);
        distro_client_spec spec = { .service = service, .ip = "10.0.0.1", .port = 8000 + i, .weight = 1.0 };
        uint32_t id = 0;
        if (distro_client_add(c, &spec, 0, &id, &err) != SIM_OK) break;
    }
    ck_assert_int_eq(sim_run_until(sim, 120 * S), SIM_STOP_FAILED);
    const sim_error *failure = sim_failure(sim);
    ck_assert_ptr_nonnull(failure);
    ck_assert_msg(strstr(failure->message, "event pool is full") != NULL, "failure: %s", failure->message);
    distro_cluster_destroy(c);
    sim_engine_destroy(sim);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("distro_model");
    TCase *tc = tcase_create("behaviour");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_views_settle_after_boot);
    tcase_add_loop_test(tc, test_register_reaches_every_peer_in_2_0_to_2_2_s, 0, 10);
    tcase_add_test(tc, test_checklist_1_first_deadline_wins);
    tcase_add_test(tc, test_checklist_2_retries_are_unbounded_and_reread_current_data);
    tcase_add_test(tc, test_checklist_3_target_no_longer_member_is_silent_success);
    tcase_add_test(tc, test_checklist_4_receiver_applies_without_ownership_check);
    tcase_add_test(tc, test_checklist_5_verify_aborts_on_an_owned_key);
    tcase_add_test(tc, test_checklist_5_to_remove_uses_the_receiver_view);
    tcase_add_test(tc, test_second_checksum_from_busy_source_is_dropped);
    tcase_add_test(tc, test_checklist_6_replica_keeps_local_health_on_apply);
    tcase_add_test(tc, test_checklist_7_beats_do_not_replicate_last_beat);
    tcase_add_test(tc, test_checklist_8_v1_verify_renews_nothing_and_the_replica_pulls_repair);
    tcase_add_test(tc, test_checklist_9_v1_checksum_changes_on_health_flip);
    tcase_add_test(tc, test_checklist_10_suspicious_members_still_own_tags);
    tcase_add_test(tc, test_checklist_11_all_members_without_self_includes_down);
    tcase_add_test(tc, test_lost_sync_is_repaired_by_next_verify);
    tcase_add_test(tc, test_restarted_node_loads_from_first_peer_in_address_order);
    tcase_add_test(tc, test_load_retries_after_30_s_when_all_peers_fail);
    tcase_add_test(tc, test_only_owner_beat_check_deletes_30_s_after_last_beat);
    tcase_add_test(tc, test_unreachable_peer_suspicious_after_one_failure_down_after_four);
    tcase_add_test(tc, test_crashed_process_refuses_and_goes_down_at_once);
    tcase_add_test(tc, test_forwarding_goes_to_owner_in_forwarding_view);
    tcase_add_test(tc, test_model_run_is_deterministic);
    tcase_add_loop_test(tc, test_shortcuts_change_nothing, 0, 4);
    tcase_add_loop_test(tc, test_merged_beats_change_nothing, 0, 4);
    tcase_add_test(tc, test_receiver_memo_follows_member_list_changes);
    tcase_add_test(tc, test_full_event_pool_fails_the_run_with_the_engine_message);
    tcase_add_test(tc, test_list_entries_hold_the_interned_strings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(model_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
