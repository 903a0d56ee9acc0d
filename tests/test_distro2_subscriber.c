/* test_distro2_subscriber.c: 2.x gRPC subscribers on a Nacos 2.5.1
 * cluster (model/distro2_subscriber.c, model/distro2_push.c; NACOS-DISTRO.md
 * section 3.12), and the ClientEvent publisher's thread that orders
 * DistroClientDataProcessor's events (model/distro2_events.c, section
 * 3.13).
 *
 * White-box like test_distro2_model.c: each test names the Nacos 2.5.1
 * test class whose behaviour it carries over and checks what a subscriber
 * lists, when, and which pushes went out.  Verify rounds run at 10 s,
 * 15 s, ...; 2.x SDK publishers register `delay` after the start. */
#include "tst_world.h"

#include "distro2_int.h"

#define S SIM_S
#define MS SIM_MS

/* Every read report, in order (one world at a time). */
typedef struct rec_read {
    sim_time_ns at_ns;
    uint32_t reader;
    int32_t server;
    bool pushed;
    uint32_t count;
} rec_read;

static rec_read recs[4096];
static size_t recs_len;

static void on_read(void *ctx, sim_time_ns at_ns, const distro_read *read)
{
    (void)ctx;
    ck_assert_uint_lt(recs_len, sizeof recs / sizeof recs[0]);
    recs[recs_len++] = (rec_read){ at_ns, read->reader, read->server, read->pushed, read->count };
}

static tst_world *world(uint32_t nodes, uint64_t seed)
{
    distro_config c = distro_config_defaults();
    c.version = DISTRO_VERSION_2_5_1;
    tst_world *w = tst_world_new(nodes, seed, &c);
    distro_observer obs = { .ctx = w, .datum_changed = tst_on_datum, .member_changed = tst_on_member,
                            .client_read = on_read };
    distro_cluster_set_observer(w->cluster, &obs);
    distro_cluster_check_every_event(w->cluster, true);   /* the model's invariants, [v2-push] and [v2-events] too */
    recs_len = 0;
    return w;
}

static uint32_t publisher(tst_world *w, const char *service, const char *ip, sim_time_ns delay)
{
    distro_client_spec spec = { .service = service, .ip = ip, .port = 8080, .weight = 1.0 };
    uint32_t id = 0;
    sim_error err;
    ck_assert_int_eq(distro_client_add(w->cluster, &spec, delay, &id, &err), SIM_OK);
    return id;
}

static uint32_t key_of(tst_world *w, const char *service)
{
    return distro_cluster_key(w->cluster, "public", "DEFAULT_GROUP", service);
}

static uint32_t subscriber(tst_world *w, const char *service, bool protection, sim_time_ns delay)
{
    distro_reader_spec spec = { .key = key_of(w, service), .subscribe = true, .push_empty_protection = protection,
                                .grpc = true };
    uint32_t id = 0;
    sim_error err;
    ck_assert_int_eq(distro_reader_add(w->cluster, &spec, delay, &id, &err), SIM_OK);
    return id;
}

static const distro_reader *reader_of(tst_world *w, uint32_t id) { return &w->cluster->reads->readers[id]; }
static uint32_t sub_server(tst_world *w, uint32_t id) { return w->cluster->conns[reader_of(w, id)->conn].server; }
static distro_node *node_of(tst_world *w, uint32_t n) { return &w->cluster->nodes[n]; }

/* The last report of `reader` at or before `at_ns`; NULL when none. */
static const rec_read *last_report(uint32_t reader, sim_time_ns at_ns)
{
    const rec_read *found = NULL;
    for (size_t i = 0; i < recs_len; i++) {
        if (recs[i].reader == reader && recs[i].at_ns <= at_ns) found = &recs[i];
    }
    return found;
}

/* SubscribeServiceRequestHandlerTest (the answer is the service's list)
 * and NamingSubscriberServiceV2ImplTest (a ServiceChangedEvent adds a
 * PushDelayTask of pushTaskDelay, 500 ms): the view is the answer at
 * subscribe, then follows the server's list 500-600 ms after each change
 * there (the 100 ms engine tick), pushed, not polled. */
START_TEST(test_subscribe_answer_then_push_after_delay)
{
    tst_world *w = world(3, 11);
    uint32_t sub = subscriber(w, "svc-a", false, 5 * S);
    tst_run_to(w, 5 * S + 20 * MS);
    /* Subscribed before any publisher: an empty answer, an empty view, at once. */
    const rec_read *first = last_report(sub, 5 * S + 20 * MS);
    ck_assert_ptr_nonnull(first);
    ck_assert_uint_eq(first->count, 0);
    ck_assert(!first->pushed);
    ck_assert_int_eq(first->server, (int32_t)sub_server(w, sub));
    uint32_t pub = publisher(w, "svc-a", "10.2.0.1", 2 * S);   /* registers at about 7 s */
    uint32_t s = sub_server(w, sub);
    sim_time_ns changed = SIM_TIME_NEVER;
    for (sim_time_ns t = 6 * S; changed == SIM_TIME_NEVER && t < 9 * S; t += 10 * MS) {
        tst_run_to(w, t);   /* registered at 7 s, replicated within the 1 s sync delay */
        changed = tst_first_change(w, s, key_of(w, "svc-a"), 0, true);
    }
    ck_assert_uint_ne(changed, SIM_TIME_NEVER);
    tst_run_to(w, changed + 450 * MS);
    ck_assert(!distro_reader_view_lists(w->cluster, sub, pub));   /* not before the 500 ms push delay */
    tst_run_to(w, changed + 650 * MS);
    ck_assert(distro_reader_view_lists(w->cluster, sub, pub));    /* at the first tick past it, plus 1 ms */
    const rec_read *r = last_report(sub, changed + 650 * MS);
    ck_assert(r->pushed);
    ck_assert_int_eq(r->server, (int32_t)s);
    ck_assert_uint_ge(r->at_ns, changed + 500 * MS);
    /* No poll: the view changes only with pushes. */
    for (size_t i = 0; i < recs_len; i++) ck_assert(recs[i].reader != sub || recs[i].pushed || recs[i].at_ns < 6 * S);
    tst_world_free(w);
}
END_TEST

/* A subscriber that arrives after the publisher reads it in the subscribe
 * answer (NamingClientProxyDelegate.subscribe processes the answer), not
 * 500 ms later with the first push. */
START_TEST(test_subscribe_answer_lists_at_once)
{
    tst_world *w = world(3, 12);
    uint32_t pub = publisher(w, "svc-b", "10.2.0.2", 2 * S);
    uint32_t sub = subscriber(w, "svc-b", false, 8 * S);
    tst_run_to(w, 8 * S + 10 * MS);
    ck_assert(distro_reader_view_lists(w->cluster, sub, pub));
    const rec_read *r = last_report(sub, 8 * S + 10 * MS);
    ck_assert(!r->pushed);
    ck_assert_uint_le(r->at_ns, 8 * S + 5 * MS);
    tst_world_free(w);
}
END_TEST

/* PushDelayTaskTest (merge): a burst of changes is one push, at the first
 * change's deadline (the earlier lastProcessTime is kept), not the last. */
START_TEST(test_push_merge_keeps_first_deadline)
{
    tst_world *w = world(3, 13);
    uint32_t sub = subscriber(w, "svc-c", false, 5 * S);
    tst_run_to(w, 20 * S);
    uint32_t s = sub_server(w, sub);
    uint32_t key = key_of(w, "svc-c");
    uint64_t before = distro_reads_grpc_pushes(w->cluster);
    distro2_push_service_changed(node_of(w, s), key);
    tst_run_to(w, 20 * S + 300 * MS);
    distro2_push_service_changed(node_of(w, s), key);
    ck_assert_uint_eq(distro2_push_tasks_pending(node_of(w, s)), 1);   /* merged */
    tst_run_to(w, 20 * S + 650 * MS);
    ck_assert_uint_eq(distro_reads_grpc_pushes(w->cluster), before + 1);   /* by the first deadline */
    ck_assert_uint_eq(distro2_push_tasks_pending(node_of(w, s)), 0);
    tst_run_to(w, 22 * S);
    ck_assert_uint_eq(distro_reads_grpc_pushes(w->cluster), before + 1);   /* and only once */
    tst_world_free(w);
}
END_TEST

/* NamingSubscriberServiceV2ImplTest (ServiceSubscribedEvent pushes to the
 * new subscriber only; ClientServiceIndexesManager: only a first
 * subscription notifies).  One node: both subscribers on it. */
START_TEST(test_subscribed_event_pushes_to_new_subscriber_only)
{
    tst_world *w = world(1, 14);
    (void)publisher(w, "svc-d", "10.2.0.4", 2 * S);
    uint32_t a = subscriber(w, "svc-d", false, 5 * S);
    tst_run_to(w, 10 * S);
    ck_assert_uint_eq(distro_reader_view_count(w->cluster, a), 1);
    uint64_t before = distro_reads_grpc_pushes(w->cluster);
    uint32_t b = subscriber(w, "svc-d", false, 0);
    tst_run_to(w, 11 * S);
    ck_assert_uint_eq(distro_reader_view_count(w->cluster, b), 1);
    ck_assert_uint_eq(distro_reads_grpc_pushes(w->cluster), before + 1);   /* to b, not to a */
    tst_world_free(w);
}
END_TEST

/* ConnectionBasedClientManagerTest / DistroClientDataProcessorTest on a
 * subscriber-only connection: no event on connect, so each peer learns of
 * the empty client only from the owner's next verify round (a FAIL, then
 * an ADD), and keeps it as a non-native replica publishing nothing.
 * Nodes that boot together answer each other "Server is starting", so
 * their first load waits the 30 s load retry and verify sends from the
 * first round after it: the subscriber connects at 41 s, before the
 * round at 45 s. */
START_TEST(test_subscriber_connection_replicated_by_verify)
{
    tst_world *w = world(3, 15);
    uint32_t sub = subscriber(w, "svc-e", false, 41 * S);
    tst_run_to(w, 44 * S + 900 * MS);
    uint32_t conn = reader_of(w, sub)->conn;
    uint32_t s = sub_server(w, sub);
    distro2_client *own = distro2_client_get(node_of(w, s), conn);
    ck_assert_ptr_nonnull(own);
    ck_assert(own->native);
    ck_assert_uint_eq(own->key, DISTRO_NONE);
    ck_assert_int_eq(own->revision, 0);
    for (uint32_t n = 0; n < 3; n++) {
        if (n != s) ck_assert_ptr_null(distro2_client_get(node_of(w, n), conn));   /* nothing before verify */
    }
    uint64_t failed = distro_node_counters(w->cluster, s)->v2_verify_failed;
    tst_run_to(w, 45 * S + 300 * MS);
    ck_assert_uint_eq(distro_node_counters(w->cluster, s)->v2_verify_failed, failed + 2);   /* (N - 1) x FAIL */
    for (uint32_t n = 0; n < 3; n++) {
        if (n == s) continue;
        const distro2_client *r = distro2_client_get(node_of(w, n), conn);
        ck_assert_ptr_nonnull(r);   /* the ADD */
        ck_assert(!r->native);
        ck_assert_uint_eq(r->key, DISTRO_NONE);
    }
    tst_world_free(w);
}
END_TEST

/* ServiceInfoHolderTest (pushEmptyProtection): the push of an empty list
 * after the last publisher left empties an unprotected view and is
 * ignored by a protected one. */
START_TEST(test_push_empty_protection)
{
    tst_world *w = world(3, 16);
    uint32_t pub = publisher(w, "svc-f", "10.2.0.6", 2 * S);
    uint32_t plain = subscriber(w, "svc-f", false, 6 * S);
    uint32_t kept = subscriber(w, "svc-f", true, 6 * S);
    tst_run_to(w, 20 * S);
    ck_assert(distro_reader_view_lists(w->cluster, plain, pub));
    ck_assert(distro_reader_view_lists(w->cluster, kept, pub));
    sim_error err;
    ck_assert_int_eq(distro_client_deregister(w->cluster, pub, &err), SIM_OK);
    tst_run_to(w, 25 * S);
    ck_assert_uint_eq(distro_reader_view_count(w->cluster, plain), 0);
    const rec_read *r = last_report(plain, 25 * S);
    ck_assert(r->pushed && r->count == 0);
    ck_assert(distro_reader_view_lists(w->cluster, kept, pub));
    tst_world_free(w);
}
END_TEST

/* RedoScheduledTaskTest / NamingGrpcRedoServiceTest: when its server dies
 * the subscriber reconnects elsewhere, keeps its view meanwhile, and the
 * redo task subscribes again at its next run (every 3 s), so the new
 * server pushes to it: first the ServiceSubscribedEvent push, then every
 * change there. */
START_TEST(test_reconnect_redo_resubscribes)
{
    tst_world *w = world(3, 17);
    uint32_t pub = publisher(w, "svc-g", "10.2.0.7", 2 * S);
    uint32_t sub = subscriber(w, "svc-g", false, 6 * S);
    tst_run_to(w, 20 * S);
    ck_assert(distro_reader_view_lists(w->cluster, sub, pub));
    uint32_t s = sub_server(w, sub);
    uint32_t old_conn = reader_of(w, sub)->conn;
    sim_error err;
    ck_assert_int_eq(sim_node_crash(w->sim, s, &err), SIM_OK);
    tst_run_to(w, 20 * S + 50 * MS);
    ck_assert(reader_of(w, sub)->connected);
    ck_assert_uint_ne(reader_of(w, sub)->conn, old_conn);
    uint32_t t = sub_server(w, sub);
    ck_assert_uint_ne(t, s);
    ck_assert(!reader_of(w, sub)->subscribed_on_conn);   /* not until the redo task runs */
    ck_assert(distro_reader_view_lists(w->cluster, sub, pub));   /* the view is kept */
    uint64_t subscribes = distro_reads_grpc_subscribes(w->cluster);
    tst_run_to(w, 26 * S + 100 * MS);   /* the redo runs within 3 s; its push 500 ms later */
    ck_assert(reader_of(w, sub)->subscribed_on_conn);
    ck_assert_uint_eq(distro_reads_grpc_subscribes(w->cluster), subscribes + 1);
    /* A publisher registering now reaches the view through the new server. */
    uint32_t late = publisher(w, "svc-g", "10.2.0.8", 0);
    tst_run_to(w, 30 * S);
    ck_assert(distro_reader_view_lists(w->cluster, sub, late));
    const rec_read *r = last_report(sub, 30 * S);
    ck_assert(r->pushed);
    ck_assert_int_eq(r->server, (int32_t)t);
    tst_world_free(w);
}
END_TEST

/* A gRPC reader is a subscriber of a 2.x cluster: a 1.4.2 server has no
 * gRPC naming service, and a querier is a 1.x HTTP client. */
START_TEST(test_grpc_reader_needs_2x_subscriber)
{
    tst_world *w = tst_world_new(3, 23, NULL);
    uint32_t key = distro_cluster_key(w->cluster, "public", "DEFAULT_GROUP", "svc-x");
    distro_reader_spec spec = { .key = key, .subscribe = true, .grpc = true };
    sim_error err;
    ck_assert_int_eq(distro_reader_add(w->cluster, &spec, 0, NULL, &err), SIM_ERR_INVALID);
    tst_world_free(w);
    w = world(3, 23);
    key = distro_cluster_key(w->cluster, "public", "DEFAULT_GROUP", "svc-x");
    spec = (distro_reader_spec){ .key = key, .subscribe = false, .interval_ns = S, .grpc = true };
    ck_assert_int_eq(distro_reader_add(w->cluster, &spec, 0, NULL, &err), SIM_ERR_INVALID);
    tst_world_free(w);
}
END_TEST

/* ClientServiceIndexesManager.handleClientDisconnect: a released
 * connection's subscriptions leave the index, so a later change pushes
 * to nobody. */
START_TEST(test_released_connection_leaves_index)
{
    tst_world *w = world(3, 24);
    uint32_t sub = subscriber(w, "svc-r", false, 5 * S);
    tst_run_to(w, 20 * S);
    uint32_t s = sub_server(w, sub);
    ck_assert(distro2_client_remove(node_of(w, s), reader_of(w, sub)->conn));
    sim_error err;
    ck_assert_int_eq(distro_cluster_check(w->cluster, &err), SIM_OK);
    uint64_t pushes = distro_reads_grpc_pushes(w->cluster);
    distro2_push_service_changed(node_of(w, s), key_of(w, "svc-r"));
    tst_run_to(w, 21 * S);
    ck_assert_uint_eq(distro_reads_grpc_pushes(w->cluster), pushes);
    tst_world_free(w);
}
END_TEST

/* --- The ClientEvent publisher's thread (model/distro2_events.c) ------------- */

static struct {
    distro_node *node;
    uint32_t conn, target;
    uint32_t tasks_inside;       /* the node's tasks when the publishing event ends */
    uint32_t pending_inside;     /* its unhandled events then */
} pub;

static void publish_verify_failed(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)ctx;
    (void)arg;
    distro2_on_verify_failed(pub.node, pub.conn, pub.target);
    pub.tasks_inside = distro2_tasks_pending(pub.node);
    pub.pending_inside = distro2_events_pending(pub.node);
}

static void publish_change_then_verify_failed(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)ctx;
    (void)arg;
    distro2_on_client_event(pub.node, pub.conn, false, true);
    distro2_on_verify_failed(pub.node, pub.conn, pub.target);
    pub.tasks_inside = distro2_tasks_pending(pub.node);
    pub.pending_inside = distro2_events_pending(pub.node);
}

/* A registered 2.x SDK client at 20 s, its server and a peer. */
static uint32_t settled_client(tst_world *w, uint32_t *server, uint32_t *peer)
{
    uint32_t cl = publisher(w, "svc-t", "10.3.0.1", 12 * S);
    tst_run_to(w, 19 * S);
    uint32_t conn = w->cluster->sdk[cl].conn;
    ck_assert_uint_ne(conn, DISTRO_NONE);
    *server = w->cluster->conns[conn].server;
    *peer = (*server + 1) % w->cluster->n;
    ck_assert_uint_eq(distro2_tasks_pending(node_of(w, *server)), 0);
    return conn;
}

/* NamingEventPublisher (one queue, one thread per event class family):
 * a ClientVerifyFailedEvent published by the verify callback is handled
 * after the publishing event, not inside it; at a tick instant, the tick
 * already due runs first, so the ADD (delay 0) goes out at the next tick,
 * 100 ms later.  Handling it inline, the ADD would leave at this tick. */
START_TEST(test_verify_failed_handled_after_publisher)
{
    tst_world *w = world(3, 21);
    uint32_t s = 0, p = 0;
    uint32_t conn = settled_client(w, &s, &p);
    pub.node = node_of(w, s);
    pub.conn = conn;
    pub.target = p;
    /* A tick instant of node s (its delay-task engine ticks every 100 ms from its start). */
    sim_time_ns tick_at = node_of(w, s)->v2->started_ns + 200 * w->cluster->config.task_tick_ns;
    ck_assert_uint_gt(tick_at, sim_now(w->sim) + 100 * MS);
    sim_error err;
    ck_assert_int_eq(sim_schedule(w->sim, tick_at - sim_now(w->sim), SIM_KIND_USER, publish_verify_failed, NULL, 0,
                                  NULL, &err), SIM_OK);
    const distro_counters *k = distro_node_counters(w->cluster, s);
    uint64_t sent = k->sync_batches_sent;
    tst_run_to(w, tick_at);
    ck_assert_uint_eq(pub.pending_inside, 1);
    ck_assert_uint_eq(pub.tasks_inside, 0);                     /* not handled inside the publishing event */
    ck_assert_uint_eq(distro2_events_pending(node_of(w, s)), 0);  /* handled at the same instant */
    ck_assert_uint_eq(distro2_tasks_pending(node_of(w, s)), 1);   /* the ADD, behind this instant's tick */
    ck_assert_uint_eq(k->sync_batches_sent, sent);
    tst_run_to(w, tick_at + w->cluster->config.task_tick_ns);
    ck_assert_uint_eq(distro2_tasks_pending(node_of(w, s)), 0);
    ck_assert_uint_eq(k->sync_batches_sent, sent + 1);          /* at the next tick */
    tst_world_free(w);
}
END_TEST

/* One queue for ClientChangedEvent and ClientVerifyFailedEvent, handled in
 * publish order: a CHANGE then a verify failure of the same client and
 * target merge into the ADD (the newer task's action and 0 ms interval),
 * due at the next tick; in the other order the CHANGE's 1000 ms would win. */
START_TEST(test_client_events_in_publish_order)
{
    tst_world *w = world(3, 22);
    uint32_t s = 0, p = 0;
    uint32_t conn = settled_client(w, &s, &p);
    pub.node = node_of(w, s);
    pub.conn = conn;
    pub.target = p;
    sim_time_ns at = 20 * S + 37 * MS;
    sim_error err;
    ck_assert_int_eq(sim_schedule(w->sim, at - sim_now(w->sim), SIM_KIND_USER, publish_change_then_verify_failed, NULL,
                                  0, NULL, &err), SIM_OK);
    tst_run_to(w, at);
    ck_assert_uint_eq(pub.pending_inside, 2);
    ck_assert_uint_eq(pub.tasks_inside, 0);
    const distro2_node *v2 = node_of(w, s)->v2;
    bool found = false;
    for (uint32_t i = 0; i < v2->task_count; i++) {
        const distro2_task *t = &v2->tasks[i];
        if (t->conn != conn) continue;
        if (t->target == p) {
            found = true;
            ck_assert_int_eq(t->action, DISTRO2_ADD);
            ck_assert_int_eq(t->interval_ms, 0);
        } else {
            ck_assert_int_eq(t->action, DISTRO2_CHANGE);   /* the other peer: the CHANGE alone */
            ck_assert_int_eq(t->interval_ms, 1000);
        }
    }
    ck_assert(found);
    tst_world_free(w);
}
END_TEST

static Suite *distro2_subscriber_suite(void)
{
    Suite *s = suite_create("distro2_subscriber");
    TCase *tc = tcase_create("v2-sub");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_subscribe_answer_then_push_after_delay);
    tcase_add_test(tc, test_subscribe_answer_lists_at_once);
    tcase_add_test(tc, test_push_merge_keeps_first_deadline);
    tcase_add_test(tc, test_subscribed_event_pushes_to_new_subscriber_only);
    tcase_add_test(tc, test_subscriber_connection_replicated_by_verify);
    tcase_add_test(tc, test_push_empty_protection);
    tcase_add_test(tc, test_reconnect_redo_resubscribes);
    tcase_add_test(tc, test_grpc_reader_needs_2x_subscriber);
    tcase_add_test(tc, test_released_connection_leaves_index);
    suite_add_tcase(s, tc);
    TCase *th = tcase_create("v2-thread");
    tcase_set_timeout(th, 60);
    tcase_add_test(th, test_verify_failed_handled_after_publisher);
    tcase_add_test(th, test_client_events_in_publish_order);
    suite_add_tcase(s, th);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(distro2_subscriber_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
