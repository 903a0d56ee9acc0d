/* test_distro_check.c: the model's invariant check (model/distro_check.c).
 *
 * Two promises.  A cluster run through churn and faults (crashes,
 * restarts, pauses, partitions, loss, member-list edits) satisfies every
 * invariant after every event, and checking changes nothing in the run.
 * And each invariant is really checked: the state is broken on purpose,
 * through the model's private header, and the check must name the node
 * and the invariant; run after every event, it must end the run. */
#include "tst_world.h"

#include "distro_int.h"
#include "distro2_int.h"

#define S SIM_S
#define MS SIM_MS

/* --- A cluster under churn and faults --------------------------------------- */

static distro_node *node_of_world(tst_world *w, uint32_t id) { return &w->cluster->nodes[id]; }

static void add_client(tst_world *w, uint32_t i, sim_time_ns start_ns)
{
    char service[32], ip[32];
    snprintf(service, sizeof service, "svc-%u", i % 12);
    snprintf(ip, sizeof ip, "10.1.%u.%u", i / 200, i % 200 + 1);
    distro_client_spec spec = { .service = service, .ip = ip, .port = 8080, .weight = 1.0 };
    sim_error err;
    uint32_t id;
    ck_assert_int_eq(distro_client_add(w->cluster, &spec, start_ns, &id, &err), SIM_OK);
}

/* Runs to `at_ns`; the run must not fail (a broken invariant fails it). */
static void run_ok(tst_world *w, sim_time_ns at_ns)
{
    sim_stop_reason why = sim_run_until(w->sim, at_ns);
    const sim_error *f = sim_failure(w->sim);
    ck_assert_msg(why != SIM_STOP_FAILED, "the run failed at %llu ns: %s: %s", (unsigned long long)sim_now(w->sim),
                  f != NULL ? f->where : "", f != NULL ? f->message : "");
}

/* Four servers, 40 clients registering, beating, deregistering, dying and
 * coming back, while servers crash and restart, pause, are cut off, lose
 * messages and are dropped from and re-added to a peer's member list. */
static void run_churn(tst_world *w)
{
    sim_engine *sim = w->sim;
    sim_error err;
    sim_link_params lossy = sim_link_params_default();
    lossy.loss_ppm = 50000;
    lossy.reorder = true;
    for (uint32_t i = 0; i < 40; i++) add_client(w, i, (sim_time_ns)i * 250 * MS);
    run_ok(w, 20 * S);
    ck_assert_int_eq(sim_net_set_link(sim, 0, 1, &lossy, &err), SIM_OK);
    ck_assert_int_eq(sim_node_restart(sim, 1, 8 * S, &err), SIM_OK);
    for (uint32_t c = 0; c < 6; c++) ck_assert_int_eq(distro_client_deregister(w->cluster, c, &err), SIM_OK);
    run_ok(w, 35 * S);
    ck_assert_int_eq(sim_node_pause(sim, 2, 12 * S, &err), SIM_OK);
    for (uint32_t c = 6; c < 12; c++) ck_assert_int_eq(distro_client_kill(w->cluster, c, &err), SIM_OK);
    ck_assert_int_eq(distro_member_remove(w->cluster, 0, 3, &err), SIM_OK);
    run_ok(w, 55 * S);
    uint32_t groups[4] = { 0, 0, 1, 1 };
    ck_assert_int_eq(sim_net_partition(sim, groups, 4, &err), SIM_OK);   /* longer than the 10 s read timeout */
    for (uint32_t i = 40; i < 52; i++) add_client(w, i, (sim_time_ns)(i - 40) * 300 * MS);
    run_ok(w, 80 * S);
    ck_assert_int_eq(sim_node_crash(sim, 3, &err), SIM_OK);
    ck_assert_int_eq(distro_member_add(w->cluster, 0, 3, &err), SIM_OK);
    run_ok(w, 90 * S);
    sim_net_heal_all(sim);
    ck_assert_int_eq(sim_node_start(sim, 3, 2 * S, &err), SIM_OK);
    ck_assert_int_eq(sim_net_clear_link(sim, 0, 1, &err), SIM_OK);
    run_ok(w, 150 * S);
}

/* Seed 1 with Nacos's settings; the others with batches of 3 keys, so
 * that batches fill up and go out at once (section 1.3), and a 1-core
 * server's single execute worker, so that work queues behind a blocked
 * batch (W10). */
START_TEST(test_churn_and_faults_keep_every_invariant)
{
    distro_config config = distro_config_defaults();
    if (_i > 0) {
        config.batch_sync_key_count = 3;
        config.cpu_cores = 1;
    }
    tst_world *w = tst_world_new(4, (uint64_t)_i + 1, &config);
    distro_cluster_check_every_event(w->cluster, true);
    run_churn(w);
    sim_error err;
    ck_assert_int_eq(distro_cluster_check(w->cluster, &err), SIM_OK);
    /* The run did go through what it was meant to: data everywhere,
     * sync batches that failed and were retried, a restart's load. */
    const distro_counters *k0 = distro_node_counters(w->cluster, 0);
    uint32_t key = distro_client_key(w->cluster, 20);
    ck_assert_uint_ne(tst_first_change(w, 3, key, 92 * S, true), SIM_TIME_NEVER);   /* restarted, loaded */
    ck_assert_uint_gt(k0->sync_batches_failed + distro_node_counters(w->cluster, 2)->sync_batches_failed, 0);
    ck_assert_uint_gt(distro_node_counters(w->cluster, 1)->snapshot_attempts, 0);
    ck_assert_uint_gt(sim_events_processed(w->sim), 10000);
    tst_world_free(w);
}
END_TEST

/* The same churn and faults on a Nacos 2.5.1 cluster (2.x SDK clients over
 * gRPC): every invariant, the 2.x ones included, after every event. */
START_TEST(test_v2_churn_and_faults_keep_every_invariant)
{
    distro_config config = distro_config_defaults();
    config.version = DISTRO_VERSION_2_5_1;
    tst_world *w = tst_world_new(4, 11, &config);
    distro_cluster_check_every_event(w->cluster, true);
    run_churn(w);
    sim_error err;
    ck_assert_int_eq(distro_cluster_check(w->cluster, &err), SIM_OK);
    uint64_t reconnects = 0, syncs = 0;
    for (uint32_t n = 0; n < 4; n++) {
        reconnects += distro_node_counters(w->cluster, n)->v2_sdk_reconnects;
        syncs += distro_node_counters(w->cluster, n)->sync_batches_sent;
    }
    ck_assert_uint_gt(reconnects, 0);   /* the restarts moved clients */
    ck_assert_uint_gt(syncs, 0);
    ck_assert_uint_gt(node_of_world(w, 3)->v2->client_count, 0);   /* restarted and loaded */
    tst_world_free(w);
}
END_TEST

/* The check only reads: the same run with it and without it processes the
 * same events (the trace hash covers every event's time, kind and node). */
START_TEST(test_check_does_not_change_the_run)
{
    uint64_t hash[2];
    uint64_t events[2];
    for (int on = 0; on < 2; on++) {
        tst_world *w = tst_world_new(4, 7, NULL);
        distro_cluster_check_every_event(w->cluster, on == 1);
        run_churn(w);
        hash[on] = sim_trace_hash(w->sim);
        events[on] = sim_events_processed(w->sim);
        tst_world_free(w);
    }
    ck_assert_uint_eq(events[0], events[1]);
    ck_assert_uint_eq(hash[0], hash[1]);
}
END_TEST

/* --- Breaking the state on purpose ----------------------------------------------- */

/* The check fails naming `node` and `invariant`. */
static void expect_broken(tst_world *w, uint32_t node, const char *invariant)
{
    sim_error err;
    memset(&err, 0, sizeof err);
    ck_assert_msg(distro_cluster_check(w->cluster, &err) == SIM_ERR_STATE, "the check missed [%s] on node %u",
                  invariant, node);
    char want[96];
    snprintf(want, sizeof want, "node %u: [%s] ", node, invariant);
    ck_assert_msg(strstr(err.message, want) != NULL, "expected \"%s\", got \"%s\"", want, err.message);
    ck_assert_str_eq(err.where, "distro_check");
}

static void expect_ok(tst_world *w)
{
    sim_error err;
    memset(&err, 0, sizeof err);
    ck_assert_msg(distro_cluster_check(w->cluster, &err) == SIM_OK, "check failed: %s", err.message);
}

static distro_node *node_of(tst_world *w, uint32_t id) { return &w->cluster->nodes[id]; }

/* A key stored on `node` (there must be one). */
static uint32_t some_key(tst_world *w, uint32_t node)
{
    const distro_node *n = node_of(w, node);
    for (uint32_t k = 0; k < n->datums_cap; k++) {
        if (n->datums[k].value != NULL) return k;
    }
    ck_abort_msg("node %u stores no key", node);
    return 0;
}

/* Four servers, six services with one instance each, registered at 1 s
 * and replicated by 10 s (two 1000 ms sync stages); the instances cannot
 * expire meanwhile (the beat check is off: manual clients never beat). */
static tst_world *settled_world(void)
{
    distro_config config = distro_config_defaults();
    config.health_check_enabled = false;
    tst_world *w = tst_world_new(4, 3, &config);
    tst_run_to(w, 1 * S);
    for (uint32_t i = 0; i < 6; i++) {
        char service[16], ip[16];
        snprintf(service, sizeof service, "s%u", i);
        snprintf(ip, sizeof ip, "10.2.0.%u", i + 1);
        tst_request(w, tst_client(w, service, ip, 80), i % 4, DISTRO_OP_REGISTER);
    }
    tst_run_to(w, 10 * S);
    expect_ok(w);
    for (uint32_t n = 0; n < 4; n++) ck_assert_uint_eq(distro_node_key_count(w->cluster, n), 6);
    return w;
}

/* The readers' invariants (distro_reads_check): a reader waiting on a
 * server outside a request, a view without a subscriber's first answer,
 * and a push count that does not match the slots in use are reported. */
static void expect_reads_broken(tst_world *w, const char *invariant)
{
    sim_error err;
    memset(&err, 0, sizeof err);
    ck_assert_msg(distro_cluster_check(w->cluster, &err) == SIM_ERR_STATE, "the check missed [%s]", invariant);
    char want[96];
    snprintf(want, sizeof want, "reads: [%s] ", invariant);
    ck_assert_msg(strstr(err.message, want) != NULL, "expected \"%s\", got \"%s\"", want, err.message);
}

START_TEST(test_broken_reads_are_reported)
{
    tst_world *w = settled_world();
    uint32_t key = tst_key(w, "s0");
    distro_reader_spec query = { .key = key, .subscribe = false, .interval_ns = 1 * S };
    distro_reader_spec sub = { .key = key, .subscribe = true };
    sim_error err;
    ck_assert_int_eq(distro_reader_add(w->cluster, &query, 0, NULL, &err), SIM_OK);
    ck_assert_int_eq(distro_reader_add(w->cluster, &sub, 0, NULL, &err), SIM_OK);
    tst_run_to(w, 15500 * MS);   /* between queries: neither reader is in a request */
    expect_ok(w);
    distro_reads *r = w->cluster->reads;
    ck_assert_uint_eq(distro_reader_view_count(w->cluster, 1), 1);
    ck_assert(!r->readers[0].in_request);
    r->readers[0].waiting_on = 2;
    expect_reads_broken(w, "reads-request");
    r->readers[0].waiting_on = DISTRO_NONE;
    expect_ok(w);
    r->readers[0].view.count = 1;
    expect_reads_broken(w, "reads-view");
    r->readers[0].view.count = 0;
    r->push_count++;
    expect_reads_broken(w, "reads-push-slots");
    r->push_count--;
    expect_ok(w);
    tst_world_free(w);
}
END_TEST

START_TEST(test_broken_store_is_reported)
{
    tst_world *w = settled_world();
    distro_node *n = node_of(w, 1);
    uint32_t k = some_key(w, 1);
    distro_ilist *v = n->datums[k].value;
    /* Received datums are stored as they arrived: several stores share v,
     * and the lowest node holding it reports it. */
    uint32_t holders = 0, first = 4;
    for (uint32_t i = 4; i-- > 0;) {
        if (distro_store_get(node_of(w, i), k) != v) continue;
        holders++;
        first = i;
    }
    ck_assert_uint_ge(holders, 2);

    n->key_present_count++;
    expect_broken(w, 1, "key-present-count");
    n->key_present_count--;

    uint32_t refs = v->refs;
    v->refs = 0;
    expect_broken(w, first, "datum-value");
    v->refs = holders - 1;                     /* one reference fewer than the stores holding it */
    expect_broken(w, first, "shared-refs");
    v->refs = refs;

    /* A datum under a key nobody interned (the array has room past it). */
    uint32_t beyond = w->cluster->key_count;
    ck_assert_uint_lt(beyond, n->datums_cap);
    n->datums[beyond].value = v;
    n->key_present_count++;
    expect_broken(w, 1, "datum-key");
    n->datums[beyond].value = NULL;
    n->key_present_count--;
    expect_ok(w);
    tst_world_free(w);
}
END_TEST

START_TEST(test_broken_view_is_reported)
{
    tst_world *w = settled_world();
    distro_node *n = node_of(w, 2);
    ck_assert_uint_eq(n->healthy_count, 4);

    uint32_t a = n->healthy[0];
    n->healthy[0] = n->healthy[1];             /* out of address order */
    n->healthy[1] = a;
    expect_broken(w, 2, "healthy-list");
    n->healthy[1] = n->healthy[0];
    n->healthy[0] = a;

    n->peers[3].state = DISTRO_MEMBER_DOWN;    /* a state change nobody told the mapper */
    expect_broken(w, 2, "healthy-list");
    n->peers[3].state = DISTRO_MEMBER_UP;

    int32_t self = n->self_index;
    n->self_index = (self + 1) % 4;
    expect_broken(w, 2, "self-index");
    n->self_index = self;

    n->peers[0].state = DISTRO_MEMBER_SUSPICIOUS;   /* healthy either way, but with no failure counted */
    uint32_t fails = n->peers[0].fail_cnt;
    n->peers[0].fail_cnt = 0;
    expect_broken(w, 2, "member-state");
    n->peers[0].state = DISTRO_MEMBER_UP;
    n->peers[0].fail_cnt = fails;

    n->peers[2].state = DISTRO_MEMBER_SUSPICIOUS;   /* self */
    n->peers[2].fail_cnt = 1;
    expect_broken(w, 2, "member-state");
    n->peers[2].state = DISTRO_MEMBER_UP;
    n->peers[2].fail_cnt = 0;

    n->verify_busy[2] = true;
    expect_broken(w, 2, "verify-busy");
    n->verify_busy[2] = false;

    n->running = false;                        /* the engine still has it up */
    expect_broken(w, 2, "running");
    n->running = true;
    expect_ok(w);
    tst_world_free(w);
}
END_TEST

START_TEST(test_broken_buckets_and_beat_checks_are_reported)
{
    tst_world *w = settled_world();
    distro_node *n = node_of(w, 0);
    uint32_t k = some_key(w, 0);
    bool was = n->datums[k].in_bucket;
    n->datums[k].in_bucket = !was;             /* valid: a stored key left out; invalid: a stale mark */
    expect_broken(w, 0, "bucket");
    n->datums[k].in_bucket = was;

    n->datums[k].beat_check_armed = true;
    bool service = n->datums[k].service_exists;
    n->datums[k].service_exists = false;
    expect_broken(w, 0, "beat-check");
    n->datums[k].service_exists = service;
    n->datums[k].beat_check_armed = false;
    expect_ok(w);                              /* the beat check is off in this world */
    tst_world_free(w);

    /* With it on: every Service a node owns has its check armed. */
    w = tst_world_new(3, 5, NULL);
    tst_run_to(w, 1 * S);
    tst_request(w, tst_client(w, "armed", "10.3.0.1", 80), 0, DISTRO_OP_REGISTER);
    tst_run_to(w, 5 * S);
    expect_ok(w);
    uint32_t key = tst_key(w, "armed");
    uint32_t owner = distro_node_map_srv(w->cluster, 0, key);
    distro_datum *d = &node_of(w, owner)->datums[key];
    ck_assert(d->service_exists && d->beat_check_armed);
    d->beat_check_armed = false;
    expect_broken(w, owner, "beat-check");
    d->beat_check_armed = true;
    expect_ok(w);
    tst_world_free(w);
}
END_TEST

/* Right after a write the owner has a delay task per peer (section 1.3). */
START_TEST(test_broken_tasks_are_reported)
{
    distro_config config = distro_config_defaults();
    config.health_check_enabled = false;
    tst_world *w = tst_world_new(3, 9, &config);
    tst_run_to(w, 1 * S);
    char service[32];
    tst_service_with_hash(service, sizeof service, "tasks", 3, 2, 0, 0);   /* the last node in address order owns it */
    uint32_t client = tst_client(w, service, "10.4.0.1", 80);
    uint32_t key = tst_key(w, service);
    uint32_t owner = distro_node_map_srv(w->cluster, 0, key);
    tst_request(w, client, owner, DISTRO_OP_REGISTER);
    tst_run_to(w, 1 * S + 300 * MS);
    expect_ok(w);
    distro_node *n = node_of(w, owner);
    ck_assert_uint_eq(n->tasks_live, 2);
    uint32_t s = 0;
    while (!n->tasks[s].live) s++;
    distro_task *t = &n->tasks[s];

    n->tasks_live++;
    expect_broken(w, owner, "task-count");
    n->tasks_live--;

    t->interval_ms += 1;                       /* re-timed without a due entry: it would never run */
    expect_broken(w, owner, "task-due");
    t->interval_ms -= 1;

    uint32_t target = t->target;
    t->target = owner;
    expect_broken(w, owner, "task-fields");
    t->target = target;

    uint32_t i = 0;
    while (n->task_index[i] == 0) i++;
    uint64_t id = n->task_index[i];
    n->task_index[i] = 0;                      /* a live task the index no longer finds */
    expect_broken(w, owner, "task-index");
    n->task_index[i] = id;
    expect_ok(w);
    tst_world_free(w);
}
END_TEST

START_TEST(test_broken_workers_are_reported)
{
    tst_world *w = settled_world();
    distro_node *n = node_of(w, 3);
    distro_worker *wk = NULL;
    for (uint32_t i = 0; i < n->worker_count && wk == NULL; i++) {
        if (n->workers[i].cap > 0 && !n->workers[i].busy) wk = &n->workers[i];
    }
    ck_assert_ptr_nonnull(wk);                 /* node 3 owned a key and synced it */

    wk->busy = true;                           /* blocked, on no batch */
    expect_broken(w, 3, "worker-inflight");
    wk->busy = false;

    uint32_t head = wk->head;
    wk->head = wk->cap;
    expect_broken(w, 3, "worker-queue");
    wk->head = head;

    wk->queue[wk->head] = (distro_exec){ .kind = DISTRO_EXEC_ADD_TO_BATCH, .key = 0, .target = 0 };
    wk->len = 1;                               /* work queued on an idle worker */
    expect_broken(w, 3, "worker-idle");
    wk->len = 0;
    expect_ok(w);
    tst_world_free(w);
}
END_TEST

START_TEST(test_broken_down_node_is_reported)
{
    tst_world *w = settled_world();
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, 2, &err), SIM_OK);
    expect_ok(w);
    distro_node *n = node_of(w, 2);
    n->key_present_count = 1;                  /* a crash that kept data */
    expect_broken(w, 2, "down-node-empty");
    n->key_present_count = 0;
    expect_ok(w);
    tst_world_free(w);
}
END_TEST

/* Checked after every event, a broken invariant of a node ends the run at
 * that node's next event (its delay-engine tick comes every 100 ms) with
 * the check's message; turned off, the run goes on. */
START_TEST(test_every_event_check_ends_the_run)
{
    tst_world *w = settled_world();
    distro_node *n = node_of(w, 0);
    n->key_present_count++;
    distro_cluster_check_every_event(w->cluster, false);
    ck_assert_int_eq(sim_run_until(w->sim, 11 * S), SIM_STOP_TIME);
    ck_assert_ptr_null(sim_failure(w->sim));

    distro_cluster_check_every_event(w->cluster, true);
    ck_assert_int_eq(sim_run_until(w->sim, 12 * S), SIM_STOP_FAILED);
    ck_assert_uint_le(sim_now(w->sim), 11 * S + w->cluster->config.task_tick_ns);
    const sim_error *f = sim_failure(w->sim);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(f->where, "distro_check");
    ck_assert_ptr_nonnull(strstr(f->message, "node 0: [key-present-count] "));
    n->key_present_count--;
    tst_world_free(w);
}
END_TEST

/* 2.x: a 3-node 2.5.1 cluster with six SDK clients registered and
 * replicated; each 2.x invariant broken in turn is named. */
START_TEST(test_broken_v2_state_is_reported)
{
    distro_config config = distro_config_defaults();
    config.version = DISTRO_VERSION_2_5_1;
    tst_world *w = tst_world_new(3, 5, &config);
    for (uint32_t i = 0; i < 6; i++) add_client(w, i, 12 * S);
    tst_run_to(w, 14 * S);
    expect_ok(w);
    distro2_node *v2 = node_of(w, 1)->v2;
    ck_assert_uint_eq(v2->client_count, 6);

    v2->client_count++;
    expect_broken(w, 1, "v2-clients");
    v2->client_count--;

    uint32_t conn = 0;
    while (!v2->clients[conn].present) conn++;
    uint32_t key = v2->clients[conn].key;
    v2->clients[conn].key = DISTRO_NONE;      /* still listed by the index */
    expect_broken(w, 1, "v2-index");
    v2->clients[conn].key = key;
    expect_ok(w);

    distro2_process_client_event(node_of(w, 1), conn, false, true);   /* two tasks, one per peer */
    ck_assert_uint_eq(v2->task_count, 2);
    v2->tasks[0].target = 1;                   /* self */
    expect_broken(w, 1, "v2-tasks");
    v2->tasks[0].target = 0;
    v2->task_count--;
    expect_broken(w, 1, "v2-tasks");
    v2->task_count++;
    expect_ok(w);

    v2->rpc[2].phase = 9;
    expect_broken(w, 1, "v2-rpc");
    v2->rpc[2].phase = DISTRO2_RPC_RUNNING;
    expect_ok(w);
    tst_world_free(w);
}
END_TEST

/* --- A crash's resets ------------------------------------------------------------ */

/* A crashed server resets the client requests it was serving in the order
 * they were sent, whatever order its record holds them in (a merged beat is
 * recorded at its arrival, and an answered request's entry is refilled
 * from the end): each client then retries the next server, which records
 * the retries in the order the resets reached the clients. */
START_TEST(test_crash_resets_requests_in_send_order)
{
    distro_config cfg = distro_config_defaults();
    tst_world *w = tst_world_new(3, 31, &cfg);
    run_ok(w, 10 * S);
    distro_cluster *c = w->cluster;
    distro_node *n2 = node_of_world(w, 2);
    static const uint32_t sent_order[4] = { 2, 0, 3, 1 };   /* client i was sent sent_order[i]-th */
    uint32_t ids[4];
    for (uint32_t i = 0; i < 4; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.9.0.%u", i + 1);
        ids[i] = tst_client(w, "svc-reset", ip, 8080);
        distro_client *cl = &c->clients[ids[i]];
        cl->op = DISTRO_OP_REGISTER;   /* a request in flight to node 2, not direct: it fails over */
        cl->in_request = true;
        cl->request_id = 5;
        cl->try_index = 2;
        cl->sent_at_ns = sim_now(w->sim) - (4 - sent_order[i]) * MS;
        ck_assert(SIM_VEC_RESERVE(n2->pending, n2->pending_count, n2->pending_cap, 1));
        n2->pending[n2->pending_count++] =
            (distro_pending){ .client = ids[i], .request_id = 5, .sent_at_ns = cl->sent_at_ns };
    }
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, 2, &err), SIM_OK);
    run_ok(w, sim_now(w->sim));   /* the resets, at the crash's instant; the retries are sent */
    distro_node *n0 = node_of_world(w, 0);
    ck_assert_uint_eq(n0->pending_count, 4);
    for (uint32_t k = 0; k < 4; k++) {
        uint32_t want = 0;
        while (sent_order[want] != k) want++;
        ck_assert_uint_eq(n0->pending[k].client, ids[want]);
    }
    tst_world_free(w);
}
END_TEST

static Suite *check_suite(void)
{
    Suite *s = suite_create("distro_check");
    TCase *run = tcase_create("run");
    tcase_set_timeout(run, 300);
    tcase_add_loop_test(run, test_churn_and_faults_keep_every_invariant, 0, 3);
    tcase_add_test(run, test_check_does_not_change_the_run);
    tcase_add_test(run, test_v2_churn_and_faults_keep_every_invariant);
    suite_add_tcase(s, run);
    TCase *broken = tcase_create("broken");
    tcase_set_timeout(broken, 60);
    tcase_add_test(broken, test_broken_store_is_reported);
    tcase_add_test(broken, test_broken_v2_state_is_reported);
    tcase_add_test(broken, test_broken_view_is_reported);
    tcase_add_test(broken, test_broken_buckets_and_beat_checks_are_reported);
    tcase_add_test(broken, test_broken_tasks_are_reported);
    tcase_add_test(broken, test_broken_workers_are_reported);
    tcase_add_test(broken, test_broken_reads_are_reported);
    tcase_add_test(broken, test_broken_down_node_is_reported);
    tcase_add_test(broken, test_every_event_check_ends_the_run);
    suite_add_tcase(s, broken);
    TCase *resets = tcase_create("resets");
    tcase_add_test(resets, test_crash_resets_requests_in_send_order);
    suite_add_tcase(s, resets);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(check_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
