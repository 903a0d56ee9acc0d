/* test_obs_convergence.c: the convergence observer on synthetic change
 * streams with known answers.
 *
 * A fake registry (three nodes, two keys, a few clients) stands in for the
 * model: the test sets what each node lists, then reports the change to
 * the observer through the same hooks the model calls, at chosen virtual
 * times.  Every window, lag and convergence instant below is computed by
 * hand from those times. */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "obs_convergence.h"
#include "run_scenario.h"
#include "scn_load.h"
#include "sim_assert.h"
#include "sim_engine.h"

#define S SIM_S
#define MS SIM_MS
#define NODES 3
#define KEYS 2
#define CLIENTS 3

typedef struct fake {
    uint32_t count[NODES][KEYS];
    bool lists[NODES][CLIENTS];
    bool responsible[NODES][KEYS];
    uint32_t client_key[CLIENTS];
} fake;

static uint32_t f_key_count(void *ctx) { (void)ctx; return KEYS; }
static uint32_t f_instance_count(void *ctx, uint32_t node, uint32_t key) { return ((fake *)ctx)->count[node][key]; }
static bool f_lists(void *ctx, uint32_t node, uint32_t client) { return ((fake *)ctx)->lists[node][client]; }
static uint32_t f_client_key(void *ctx, uint32_t client) { return ((fake *)ctx)->client_key[client]; }
static bool f_resp(void *ctx, uint32_t node, uint32_t key) { return ((fake *)ctx)->responsible[node][key]; }
static uint32_t f_node_keys(void *ctx, uint32_t node)
{
    fake *f = ctx;
    uint32_t n = 0;
    for (uint32_t k = 0; k < KEYS; k++) n += f->count[node][k] > 0;
    return n;
}
static uint32_t f_healthy(void *ctx, uint32_t node) { (void)ctx; (void)node; return NODES; }

typedef struct world {
    sim_engine *sim;
    fake f;
    obs *o;
    distro_observer hooks;
} world;

static const char *const CKS_EMPTY = "d41d8cd98f00b204e9800998ecf8427e";
static const char *const CKS_A = "7631f88e79d10bf2abf1da0b81748118";
static const char *const CKS_B = "53faf1250ac748c6acaa66583eeeba2d";

static world *world_new(sim_time_ns sample_ns)
{
    world *w = calloc(1, sizeof *w);
    sim_error err;
    sim_config sc = { .seed = 1, .node_count = NODES };
    w->sim = sim_engine_create(&sc, &err);
    ck_assert_ptr_nonnull(w->sim);
    for (uint32_t n = 0; n < NODES; n++) w->f.responsible[n][0] = n == 0;   /* key 0: node 0 owns */
    for (uint32_t n = 0; n < NODES; n++) w->f.responsible[n][1] = n == 1;   /* key 1: node 1 owns */
    w->f.client_key[0] = 0;
    w->f.client_key[1] = 0;
    w->f.client_key[2] = 1;
    obs_model m = { .ctx = &w->f, .nodes = NODES, .key_count = f_key_count, .instance_count = f_instance_count,
                    .lists_client = f_lists, .client_key = f_client_key, .responsible = f_resp,
                    .node_key_count = f_node_keys, .healthy_count = f_healthy };
    w->o = obs_create_model(w->sim, &m, sample_ns, &w->hooks);
    for (uint32_t n = 0; n < NODES; n++) w->hooks.node_changed(w->hooks.ctx, 0, n, true);
    return w;
}

static void world_free(world *w)
{
    obs_destroy(w->o);
    sim_engine_destroy(w->sim);
    free(w);
}

static void at(world *w, sim_time_ns t) { (void)sim_run_until(w->sim, t); }

/* Node `node` now lists `count` instances of `key` with checksum `cks`;
 * `present` lists which clients it has (-1 ends). */
static void store(world *w, uint32_t node, uint32_t key, const char *old_cks, const char *cks, uint32_t count,
                  const int *present)
{
    for (uint32_t c = 0; c < CLIENTS; c++) {
        if (w->f.client_key[c] == key) w->f.lists[node][c] = false;
    }
    for (int i = 0; present != NULL && present[i] >= 0; i++) w->f.lists[node][present[i]] = true;
    w->f.count[node][key] = count;
    w->hooks.datum_changed(w->hooks.ctx, sim_now(w->sim), node, key, old_cks, cks);
}

static void live(world *w, uint32_t client, bool is_live)
{
    w->hooks.client_changed(w->hooks.ctx, sim_now(w->sim), client, is_live);
}

static const obs_window *find_window(const obs *o, obs_window_kind kind, int32_t node, size_t skip)
{
    size_t count = 0;
    const obs_window *ws = obs_windows(o, &count);
    for (size_t i = 0; i < count; i++) {
        if (ws[i].kind == kind && ws[i].node == node && skip-- == 0) return &ws[i];
    }
    return NULL;
}

START_TEST(test_registration_lag_and_lost_windows)
{
    world *w = world_new(0);
    const int c0[] = { 0, -1 };
    at(w, 1 * S);
    live(w, 0, true);
    ck_assert(!obs_converged(w->o));                 /* the truth moved, nobody lists it yet */
    at(w, 1001 * MS);
    store(w, 0, 0, "", CKS_A, 1, c0);
    at(w, 3100 * MS);
    store(w, 1, 0, "", CKS_A, 1, c0);
    ck_assert(!obs_converged(w->o));
    at(w, 3200 * MS);
    store(w, 2, 0, "", CKS_A, 1, c0);
    ck_assert(obs_converged(w->o));
    ck_assert_uint_eq(obs_converged_since(w->o), 3200 * MS);
    ck_assert_uint_eq(obs_converged_after(w->o, 1500 * MS), 3200 * MS);
    ck_assert_uint_eq(obs_converged_after(w->o, 500 * MS), 500 * MS);   /* converged (empty) before the registration */
    ck_assert_uint_eq(obs_node_agreed_after(w->o, 0, 1 * S), 1001 * MS);   /* each node on its own */
    ck_assert_uint_eq(obs_node_agreed_after(w->o, 1, 1500 * MS), 3100 * MS);
    ck_assert_uint_eq(obs_node_agreed_after(w->o, 2, 1 * S), 3200 * MS);
    ck_assert_uint_eq(obs_node_agreed_after(w->o, 2, 4 * S), 4 * S);
    const sim_time_ns expected_end[NODES] = { 1001 * MS, 3100 * MS, 3200 * MS };
    for (int32_t n = 0; n < NODES; n++) {
        const obs_window *lw = find_window(w->o, OBS_WINDOW_LOST, n, 0);
        ck_assert_ptr_nonnull(lw);
        ck_assert_uint_eq(lw->start_ns, 1 * S);
        ck_assert_uint_eq(lw->end_ns, expected_end[n]);
        ck_assert_uint_eq(lw->client, 0);
    }
    size_t lags = 0;
    const sim_time_ns *lag = obs_lags(w->o, &lags);
    ck_assert_uint_eq(lags, 1);
    ck_assert_uint_eq(lag[0], 2199 * MS);            /* acceptance (node 0, 1.001 s) to the last node's listing */
    const sim_time_ns *node_lag = obs_node_lags(w->o, &lags);
    ck_assert_uint_eq(lags, 2);                      /* the other two nodes */
    ck_assert_uint_eq(node_lag[0], 2099 * MS);       /* node 1 at 3.1 s */
    ck_assert_uint_eq(node_lag[1], 2199 * MS);       /* node 2 at 3.2 s */
    rpt_lag summary;
    sim_error err;
    ck_assert_int_eq(obs_lag_summary(w->o, &summary, &err), SIM_OK);
    ck_assert_uint_eq(summary.count, 1);             /* one value: every percentile is it */
    ck_assert_uint_eq(summary.p50_ns, 2199 * MS);
    ck_assert_uint_eq(summary.p99_ns, 2199 * MS);
    ck_assert_uint_eq(summary.max_ns, 2199 * MS);
    ck_assert_uint_eq(obs_window_max(w->o, OBS_WINDOW_LOST), 2200 * MS);
    world_free(w);
}
END_TEST

START_TEST(test_zombie_windows_after_death)
{
    world *w = world_new(0);
    const int c0[] = { 0, -1 };
    at(w, 1 * S);
    live(w, 0, true);
    for (uint32_t n = 0; n < NODES; n++) store(w, n, 0, "", CKS_A, 1, c0);
    ck_assert(obs_converged(w->o));
    at(w, 10 * S);
    live(w, 0, false);                               /* the process dies; every node still lists it */
    ck_assert(!obs_converged(w->o));
    at(w, 40 * S);
    store(w, 0, 0, CKS_A, CKS_EMPTY, 0, NULL);         /* the owner's beat check deletes it */
    at(w, 42100 * MS);
    store(w, 1, 0, CKS_A, CKS_EMPTY, 0, NULL);
    at(w, 42200 * MS);
    store(w, 2, 0, CKS_A, CKS_EMPTY, 0, NULL);
    ck_assert(obs_converged(w->o));
    ck_assert_uint_eq(obs_converged_after(w->o, 10 * S), 42200 * MS);
    ck_assert_uint_eq(obs_window_max(w->o, OBS_WINDOW_ZOMBIE), 32200 * MS);
    const obs_window *z = find_window(w->o, OBS_WINDOW_ZOMBIE, 0, 0);
    ck_assert_ptr_nonnull(z);
    ck_assert_uint_eq(z->start_ns, 10 * S);
    ck_assert_uint_eq(z->end_ns, 40 * S);
    ck_assert_uint_eq(obs_window_max(w->o, OBS_WINDOW_LOST), 0);
    world_free(w);
}
END_TEST

/* The run's convergence is anchored on the last event that could change
 * the truth (reports/SCHEMA.md, "Convergence of a run"): a registration at
 * 1 s replicated by 2 s; a fault that ends at 10 s and breaks nothing; the
 * client dies at 20 s and the last node drops it at 55 s.  Anchor 20 s,
 * convergence 35 s (not 45 s from the fault's end, not 55 s from t = 0).
 * A fault or churn that never stops is never, and so is a run that ends
 * unconverged (a registration at 70 s nobody lists). */
START_TEST(test_run_convergence_anchored_on_the_truth)
{
    world *w = world_new(0);
    const int c0[] = { 0, -1 };
    ck_assert_uint_eq(obs_truth_changed_last(w->o), 0);   /* the nodes' start */
    at(w, 1 * S);
    live(w, 0, true);
    ck_assert_uint_eq(obs_truth_changed_last(w->o), 1 * S);
    at(w, 2 * S);
    for (uint32_t n = 0; n < NODES; n++) store(w, n, 0, "", CKS_A, 1, c0);
    at(w, 10 * S);
    obs_run_convergence rc = obs_run_convergence_of(w->o, 10 * S, OBS_NEVER_NOT);
    ck_assert_uint_eq(rc.anchor_ns, 10 * S);               /* the fault's end is later than the truth's change */
    ck_assert_uint_eq(rc.converged_ns, 2 * S);
    ck_assert_uint_eq(rc.convergence_ns, 0);               /* converged before the anchor: at once */
    ck_assert_int_eq(rc.never, OBS_NEVER_NOT);
    at(w, 20 * S);
    live(w, 0, false);
    at(w, 40 * S);
    store(w, 0, 0, CKS_A, CKS_EMPTY, 0, NULL);
    at(w, 50 * S);
    store(w, 1, 0, CKS_A, CKS_EMPTY, 0, NULL);
    at(w, 55 * S);
    store(w, 2, 0, CKS_A, CKS_EMPTY, 0, NULL);
    ck_assert(obs_converged(w->o));
    ck_assert_uint_eq(obs_truth_changed_last(w->o), 20 * S);   /* datum changes are not the truth */
    rc = obs_run_convergence_of(w->o, 10 * S, OBS_NEVER_NOT);
    ck_assert_uint_eq(rc.anchor_ns, 20 * S);
    ck_assert_uint_eq(rc.converged_ns, 55 * S);
    ck_assert_uint_eq(rc.convergence_ns, 35 * S);
    rc = obs_run_convergence_of(w->o, SIM_TIME_NEVER, OBS_NEVER_NOT);   /* no fault ended */
    ck_assert_uint_eq(rc.convergence_ns, 35 * S);
    rc = obs_run_convergence_of(w->o, 50 * S, OBS_NEVER_NOT);   /* a fault ending after the death */
    ck_assert_uint_eq(rc.anchor_ns, 50 * S);
    ck_assert_uint_eq(rc.convergence_ns, 5 * S);
    rc = obs_run_convergence_of(w->o, 10 * S, OBS_NEVER_FAULT);
    ck_assert_uint_eq(rc.convergence_ns, SIM_TIME_NEVER);
    ck_assert_uint_eq(rc.anchor_ns, SIM_TIME_NEVER);
    ck_assert_int_eq(rc.never, OBS_NEVER_FAULT);
    rc = obs_run_convergence_of(w->o, 10 * S, OBS_NEVER_CHURN);
    ck_assert_uint_eq(rc.convergence_ns, SIM_TIME_NEVER);
    ck_assert_int_eq(rc.never, OBS_NEVER_CHURN);
    at(w, 60 * S);
    w->hooks.node_changed(w->hooks.ctx, sim_now(w->sim), 2, false);   /* a crash changes what may list it */
    ck_assert_uint_eq(obs_truth_changed_last(w->o), 60 * S);
    rc = obs_run_convergence_of(w->o, 10 * S, OBS_NEVER_NOT);
    ck_assert_uint_eq(rc.anchor_ns, 60 * S);
    ck_assert_uint_eq(rc.convergence_ns, 0);   /* the remaining nodes still agree */
    at(w, 70 * S);
    live(w, 2, true);                          /* nobody ever lists it */
    at(w, 90 * S);
    rc = obs_run_convergence_of(w->o, 10 * S, OBS_NEVER_NOT);
    ck_assert_uint_eq(rc.anchor_ns, 70 * S);
    ck_assert_uint_eq(rc.converged_ns, SIM_TIME_NEVER);
    ck_assert_uint_eq(rc.convergence_ns, SIM_TIME_NEVER);
    ck_assert_int_eq(rc.never, OBS_NEVER_UNCONVERGED);
    world_free(w);
}
END_TEST

static size_t count_windows(const obs *o, obs_window_kind kind)
{
    size_t count = 0, n = 0;
    const obs_window *ws = obs_windows(o, &count);
    for (size_t i = 0; i < count; i++) n += ws[i].kind == kind;
    return n;
}

static void expect_window(const obs *o, obs_window_kind kind, int32_t node, size_t skip, uint32_t client,
                          sim_time_ns start, sim_time_ns end)
{
    const obs_window *win = find_window(o, kind, node, skip);
    ck_assert_msg(win != NULL, "no %s window %zu on node %d", obs_window_kind_name(kind), skip, (int)node);
    ck_assert_uint_eq(win->client, client);
    ck_assert_uint_eq(win->start_ns, start);
    ck_assert_uint_eq(win->end_ns, end);
}

/* Lost, with a lag allowance of 5 s: replication within the allowance is
 * not loss; a node still missing the instance past it is; past it, a node
 * dropping what it listed is lost from the drop; a drop within it counts
 * from the allowance's end; a restarted node gets the allowance again; a
 * spell still open at the end is an open window. */
START_TEST(test_lost_definition)
{
    world *w = world_new(0);
    obs_set_allowances(w->o, 5 * S, 0);
    const int c0[] = { 0, -1 }, c01[] = { 0, 1, -1 }, c2[] = { 2, -1 };
    at(w, 1 * S);
    live(w, 0, true);                                  /* registered at 1 s: allowed until 6 s */
    at(w, 1001 * MS);
    store(w, 0, 0, "", CKS_A, 1, c0);                  /* the owner accepts it */
    at(w, 3100 * MS);
    store(w, 1, 0, "", CKS_A, 1, c0);                  /* within the allowance: no window */
    at(w, 8 * S);
    store(w, 2, 0, "", CKS_A, 1, c0);                  /* node 2 two seconds late: lost 6 s..8 s */
    at(w, 20 * S);
    store(w, 1, 0, CKS_A, CKS_EMPTY, 0, NULL);         /* node 1 drops it long after: lost from 20 s */
    at(w, 21 * S);
    store(w, 1, 0, CKS_EMPTY, CKS_A, 1, c0);
    /* Client 1 (same key) registers at 30 s: allowed until 35 s. */
    at(w, 30 * S);
    live(w, 1, true);
    at(w, 30500 * MS);
    for (uint32_t n = 0; n < NODES; n++) store(w, n, 0, CKS_A, CKS_B, 2, c01);
    at(w, 31 * S);
    store(w, 2, 0, CKS_B, CKS_A, 1, c0);               /* dropped by an overwrite within the allowance */
    at(w, 33 * S);
    store(w, 2, 0, CKS_A, CKS_B, 2, c01);              /* back in time: no window */
    at(w, 33500 * MS);
    store(w, 2, 0, CKS_B, CKS_A, 1, c0);               /* dropped again, back at 36 s: lost 35 s..36 s */
    at(w, 36 * S);
    store(w, 2, 0, CKS_A, CKS_B, 2, c01);
    /* Node 1 crashes and comes back empty at 45 s: allowed until 50 s. */
    at(w, 40 * S);
    w->f.count[1][0] = 0;
    w->f.lists[1][0] = w->f.lists[1][1] = false;
    w->hooks.node_changed(w->hooks.ctx, 40 * S, 1, false);
    at(w, 45 * S);
    w->hooks.node_changed(w->hooks.ctx, 45 * S, 1, true);
    at(w, 49 * S);
    store(w, 1, 0, "", CKS_B, 2, c01);                 /* loaded in time: no window */
    /* Client 2 (key 1) registers at 60 s; node 2 never lists it. */
    at(w, 60 * S);
    live(w, 2, true);
    at(w, 61 * S);
    store(w, 1, 1, "", CKS_A, 1, c2);
    store(w, 0, 1, "", CKS_A, 1, c2);
    at(w, 70 * S);
    obs_finish(w->o);
    ck_assert_uint_eq(count_windows(w->o, OBS_WINDOW_LOST), 4);
    expect_window(w->o, OBS_WINDOW_LOST, 2, 0, 0, 6 * S, 8 * S);
    expect_window(w->o, OBS_WINDOW_LOST, 1, 0, 0, 20 * S, 21 * S);
    expect_window(w->o, OBS_WINDOW_LOST, 2, 1, 1, 35 * S, 36 * S);
    expect_window(w->o, OBS_WINDOW_LOST, 2, 2, 2, 65 * S, SIM_TIME_NEVER);
    ck_assert_uint_eq(obs_window_max(w->o, OBS_WINDOW_LOST), 5 * S);   /* the open one, 65 s..70 s */
    /* Windows are in start order after obs_finish. */
    size_t count = 0;
    const obs_window *ws = obs_windows(w->o, &count);
    for (size_t i = 1; i < count; i++) ck_assert_uint_le(ws[i - 1].start_ns, ws[i].start_ns);
    /* Lags: client 0 accepted at 1.001 s, node 1 at 3.1 s, node 2 at 8 s;
     * client 1 accepted at 30.5 s by nodes 0, 1 and 2 at once; client 2 at
     * 61 s by node 1, node 0 at the same instant, node 2 never. */
    size_t lags = 0;
    const sim_time_ns *lag = obs_lags(w->o, &lags);
    ck_assert_uint_eq(lags, 2);
    ck_assert_uint_eq(lag[0], 6999 * MS);
    ck_assert_uint_eq(lag[1], 0);
    const sim_time_ns *node_lag = obs_node_lags(w->o, &lags);
    ck_assert_uint_eq(lags, 5);
    ck_assert_uint_eq(node_lag[0], 2099 * MS);
    ck_assert_uint_eq(node_lag[1], 6999 * MS);
    ck_assert_uint_eq(node_lag[2], 0);
    ck_assert_uint_eq(node_lag[3], 0);
    ck_assert_uint_eq(node_lag[4], 0);
    world_free(w);
}
END_TEST

/* A cluster still forming its member views: with a formation of 10 s, a
 * registration at 1 s is allowed until 15 s (10 s + the 5 s allowance), not
 * 6 s; a node restarted at 40 s allows its first syncs until 55 s. */
START_TEST(test_lost_counts_after_view_formation)
{
    world *w = world_new(0);
    obs_set_allowances(w->o, 5 * S, 0);
    obs_set_view_formation(w->o, 10 * S);
    const int c0[] = { 0, -1 };
    at(w, 1 * S);
    live(w, 0, true);
    at(w, 1001 * MS);
    store(w, 0, 0, "", CKS_A, 1, c0);
    at(w, 14 * S);
    store(w, 2, 0, "", CKS_A, 1, c0);                  /* views formed at 10 s: within the allowance */
    at(w, 16 * S);
    store(w, 1, 0, "", CKS_A, 1, c0);                  /* one second past it: lost 15 s..16 s */
    at(w, 40 * S);
    w->f.count[1][0] = 0;
    w->f.lists[1][0] = false;
    w->hooks.node_changed(w->hooks.ctx, 40 * S, 1, false);
    w->hooks.node_changed(w->hooks.ctx, 40 * S, 1, true);   /* restarted: its view forms by 50 s */
    at(w, 54 * S);
    store(w, 1, 0, "", CKS_A, 1, c0);                  /* within 50 s + 5 s: no window */
    at(w, 60 * S);
    w->f.count[2][0] = 0;
    w->f.lists[2][0] = false;
    w->hooks.node_changed(w->hooks.ctx, 60 * S, 2, false);
    w->hooks.node_changed(w->hooks.ctx, 60 * S, 2, true);
    at(w, 80 * S);
    store(w, 2, 0, "", CKS_A, 1, c0);                  /* allowed until 75 s: lost 75 s..80 s */
    at(w, 90 * S);
    obs_finish(w->o);
    ck_assert_uint_eq(count_windows(w->o, OBS_WINDOW_LOST), 2);
    expect_window(w->o, OBS_WINDOW_LOST, 1, 0, 0, 15 * S, 16 * S);
    expect_window(w->o, OBS_WINDOW_LOST, 2, 0, 0, 75 * S, 80 * S);
    world_free(w);
}
END_TEST

/* Zombie, with an allowance of 10 s: a dead instance deleted within the
 * allowance is normal expiry; past it, the rest is a zombie window; one
 * never deleted is an open window at the end. */
START_TEST(test_zombie_definition)
{
    world *w = world_new(0);
    obs_set_allowances(w->o, 0, 10 * S);
    const int c0[] = { 0, -1 };
    at(w, 1 * S);
    live(w, 0, true);
    for (uint32_t n = 0; n < NODES; n++) store(w, n, 0, "", CKS_A, 1, c0);
    at(w, 10 * S);
    live(w, 0, false);                                  /* dies: allowed until 20 s */
    at(w, 15 * S);
    store(w, 0, 0, CKS_A, CKS_EMPTY, 0, NULL);           /* the owner expires it in time */
    at(w, 25 * S);
    store(w, 1, 0, CKS_A, CKS_EMPTY, 0, NULL);           /* node 1 five seconds late */
    at(w, 30 * S);
    obs_finish(w->o);                                   /* node 2 still lists it */
    ck_assert_uint_eq(count_windows(w->o, OBS_WINDOW_ZOMBIE), 2);
    expect_window(w->o, OBS_WINDOW_ZOMBIE, 1, 0, 0, 20 * S, 25 * S);
    expect_window(w->o, OBS_WINDOW_ZOMBIE, 2, 0, 0, 20 * S, SIM_TIME_NEVER);
    ck_assert_uint_eq(obs_window_max(w->o, OBS_WINDOW_ZOMBIE), 10 * S);
    ck_assert_uint_eq(count_windows(w->o, OBS_WINDOW_LOST), 0);
    world_free(w);
}
END_TEST

/* A spell is judged by the life it began in: a lost spell ended by the
 * client's death keeps the allowance of its registration, and a zombie
 * spell ended by a new registration keeps the allowance of the death. */
START_TEST(test_spells_end_with_a_change_of_life)
{
    world *w = world_new(0);
    obs_set_allowances(w->o, 5 * S, 5 * S);
    const int c0[] = { 0, -1 };
    at(w, 1 * S);
    live(w, 0, true);                                  /* allowed until 6 s */
    store(w, 0, 0, "", CKS_A, 1, c0);
    store(w, 1, 0, "", CKS_A, 1, c0);                  /* node 2 never gets it */
    at(w, 20 * S);
    live(w, 0, false);                                 /* dies: node 2's spell ends, lost 6 s..20 s */
    at(w, 30 * S);
    live(w, 0, true);                                  /* registers again: nodes 0 and 1 still list it */
    at(w, 31 * S);
    obs_finish(w->o);
    ck_assert_uint_eq(count_windows(w->o, OBS_WINDOW_LOST), 1);
    expect_window(w->o, OBS_WINDOW_LOST, 2, 0, 0, 6 * S, 20 * S);
    /* Nodes 0 and 1 listed it dead from 20 s to 30 s: zombies from 25 s. */
    ck_assert_uint_eq(count_windows(w->o, OBS_WINDOW_ZOMBIE), 2);
    expect_window(w->o, OBS_WINDOW_ZOMBIE, 0, 0, 0, 25 * S, 30 * S);
    expect_window(w->o, OBS_WINDOW_ZOMBIE, 1, 0, 0, 25 * S, 30 * S);
    world_free(w);
}
END_TEST

START_TEST(test_divergence_and_node_down)
{
    world *w = world_new(0);
    const int c0[] = { 0, -1 };
    at(w, 1 * S);
    live(w, 0, true);
    for (uint32_t n = 0; n < NODES; n++) store(w, n, 0, "", CKS_A, 1, c0);
    at(w, 50 * S);
    store(w, 1, 0, CKS_A, CKS_B, 1, c0);               /* a health flag differs on node 1 */
    ck_assert_uint_eq(obs_divergent_keys(w->o), 1);
    ck_assert(!obs_converged(w->o));
    at(w, 55 * S);
    store(w, 1, 0, CKS_B, CKS_A, 1, c0);
    ck_assert_uint_eq(obs_divergent_keys(w->o), 0);
    ck_assert(obs_converged(w->o));
    const obs_window *d = find_window(w->o, OBS_WINDOW_DIVERGENT, -1, 0);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->start_ns, 50 * S);
    ck_assert_uint_eq(d->end_ns, 55 * S);
    /* Node 2 diverges, then crashes: a down node's data stops counting. */
    at(w, 60 * S);
    store(w, 2, 0, CKS_A, CKS_B, 1, c0);
    ck_assert_uint_eq(obs_divergent_keys(w->o), 1);
    at(w, 61 * S);
    w->f.count[2][0] = 0;
    w->f.lists[2][0] = false;
    w->hooks.node_changed(w->hooks.ctx, 61 * S, 2, false);
    ck_assert_uint_eq(obs_divergent_keys(w->o), 0);
    ck_assert(obs_converged(w->o));
    ck_assert_uint_eq(obs_converged_since(w->o), 61 * S);
    /* It restarts empty: its missing instance is a lost window from now. */
    at(w, 70 * S);
    w->hooks.node_changed(w->hooks.ctx, 70 * S, 2, true);
    ck_assert(!obs_converged(w->o));
    at(w, 72 * S);
    store(w, 2, 0, "", CKS_A, 1, c0);
    ck_assert(obs_converged(w->o));
    obs_finish(w->o);
    /* The only lost window on node 2 (the spells at the registration lasted
     * no time, which is no window). */
    ck_assert_ptr_null(find_window(w->o, OBS_WINDOW_LOST, 2, 1));
    const obs_window *lw = find_window(w->o, OBS_WINDOW_LOST, 2, 0);
    ck_assert_ptr_nonnull(lw);
    ck_assert_uint_eq(lw->start_ns, 70 * S);
    ck_assert_uint_eq(lw->end_ns, 72 * S);
    world_free(w);
}
END_TEST

START_TEST(test_ownership_disagreement_windows)
{
    world *w = world_new(0);
    at(w, 20 * S);
    w->f.responsible[2][0] = true;                   /* node 2 also claims key 0 */
    w->hooks.view_changed(w->hooks.ctx, 20 * S, 2, NULL, 0);
    at(w, 25 * S);
    w->f.responsible[2][0] = false;
    w->f.responsible[1][1] = false;                  /* and nobody owns key 1 */
    w->hooks.view_changed(w->hooks.ctx, 25 * S, 1, NULL, 0);
    at(w, 28 * S);
    w->f.responsible[1][1] = true;
    w->hooks.view_changed(w->hooks.ctx, 28 * S, 1, NULL, 0);
    const obs_window *multi = find_window(w->o, OBS_WINDOW_OWNERSHIP_MULTI, -1, 0);
    const obs_window *none = find_window(w->o, OBS_WINDOW_OWNERSHIP_NONE, -1, 0);
    ck_assert_ptr_nonnull(multi);
    ck_assert_ptr_nonnull(none);
    ck_assert_uint_eq(multi->start_ns, 20 * S);
    ck_assert_uint_eq(multi->end_ns, 25 * S);
    ck_assert_uint_eq(none->start_ns, 25 * S);
    ck_assert_uint_eq(none->end_ns, 28 * S);
    ck_assert_uint_eq(obs_window_max(w->o, OBS_WINDOW_OWNERSHIP_MULTI), 5 * S);
    ck_assert_uint_eq(obs_window_max(w->o, OBS_WINDOW_OWNERSHIP_NONE), 3 * S);
    world_free(w);
}
END_TEST

START_TEST(test_open_windows_count_to_the_end_and_samples)
{
    world *w = world_new(1 * S);
    const int c2[] = { 2, -1 };
    at(w, 2 * S);
    live(w, 2, true);
    store(w, 1, 1, "", CKS_A, 1, c2);                 /* only node 1 ever lists client 2 */
    at(w, 10 * S);
    obs_finish(w->o);
    ck_assert_uint_eq(obs_window_max(w->o, OBS_WINDOW_LOST), 8 * S);   /* still open at 10 s */
    ck_assert(!obs_converged(w->o));
    ck_assert_uint_eq(obs_converged_after(w->o, 2 * S), SIM_TIME_NEVER);
    ck_assert_uint_eq(obs_node_agreed_after(w->o, 0, 3 * S), SIM_TIME_NEVER);   /* never listed client 2 */
    ck_assert_uint_eq(obs_node_agreed_after(w->o, 1, 3 * S), 3 * S);           /* node 1 did at once */
    size_t count = 0;
    const obs_sample *samples = obs_samples(w->o, &count);
    ck_assert_uint_eq(count, (10 + 1 + 1) * NODES);  /* t = 0..10 s, plus the final one */
    const obs_sample *last = &samples[count - 2];     /* node 1 at the final sample */
    ck_assert_uint_eq(last->at_ns, 10 * S);
    ck_assert_uint_eq(last->node, 1);
    ck_assert_uint_eq(last->instances, 1);
    ck_assert_uint_eq(last->keys, 1);
    ck_assert_uint_eq(last->owned_keys, 1);           /* node 1 owns key 1 */
    ck_assert_uint_eq(last->divergent_keys, 1);       /* nodes 0 and 2 have nothing for key 1 */
    world_free(w);
}
END_TEST

/* The runner names its run for an assertion that fails inside it (the
 * scenario file, seed and build), and forgets it when the run is over. */
static void world_trip(void *ctx, const sim_trace_record *rec, const sim_message *msg)
{
    (void)ctx;
    (void)msg;
    SIM_ASSERT(rec->at_ns < 2 * S);   /* fails a couple of seconds in */
}

/* In a child: an assertion inside a run (after_run false) or after a clean
 * one (true).  Returns what the child wrote to stderr; it must abort. */
static char *assert_output(bool after_run)
{
    static const char yaml[] = "name: ctx\ncluster: {nodes: 3}\nworkload: {services: 1, instances_per_service: 1}\n"
                               "duration: 10s\n";
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        scn_config cfg;
        sim_error err;
        if (scn_load_string("tests/ctx.yaml", yaml, strlen(yaml), &cfg, &err) != SIM_OK) _exit(3);
        run_options opt = { .seed = 7, .scenario_path = "tests/ctx.yaml",
                            .trace = { .node = -1, .type = -1, .to_ns = SIM_TIME_NEVER } };
        if (!after_run) opt.trace.hook = world_trip;
        run_result res;
        if (run_scenario(&cfg, &opt, &res, &err) != SIM_OK) _exit(4);
        SIM_ASSERT(!after_run);   /* after a clean run: fails with no run named */
        _exit(0);
    }
    close(fds[1]);
    char *out = calloc(1, 8192);
    ck_assert_ptr_nonnull(out);
    size_t len = 0;
    ssize_t n;
    while (len < 8191 && (n = read(fds[0], out + len, 8191 - len)) > 0) len += (size_t)n;
    close(fds[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "the child did not abort: %s", out);
    return out;
}

START_TEST(test_assert_context_names_the_run)
{
    char *inside = assert_output(false);
    char want[256];
    snprintf(want, sizeof want, "  in scenario tests/ctx.yaml seed 7 build %s\n", run_build_id());
    ck_assert_msg(strstr(inside, want) != NULL, "no run named in: %s", inside);
    free(inside);
    char *after = assert_output(true);
    ck_assert_msg(strstr(after, "  in scenario") == NULL, "context left set after the run: %s", after);
    free(after);
}
END_TEST

/* The trace (text, engine hook, notes) only watches: the run is the same
 * event for event, with the same counters, as without it. */
typedef struct trace_count {
    uint64_t events;
    uint64_t notes[RUN_NOTE_LAG + 1];
} trace_count;

static void count_event(void *ctx, const sim_trace_record *rec, const sim_message *msg)
{
    (void)rec;
    (void)msg;
    ((trace_count *)ctx)->events++;
}

static void count_note(void *ctx, const run_note *note)
{
    ck_assert_ptr_nonnull(note->text);
    ((trace_count *)ctx)->notes[note->kind]++;
}

START_TEST(test_trace_leaves_the_run_alone)
{
    scn_config cfg;
    sim_error err;
    ck_assert_int_eq(scn_load_file("tests/scenarios-good/every-key.yaml", &cfg, &err), SIM_OK);
    run_options plain = { .seed = 1, .trace = { .node = -1, .type = -1, .to_ns = SIM_TIME_NEVER } };
    run_result a, b;
    ck_assert_int_eq(run_scenario(&cfg, &plain, &a, &err), SIM_OK);
    FILE *devnull = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(devnull);
    trace_count count = { 0 };
    run_options traced = plain;
    traced.trace = (run_trace_filter){ .out = devnull, .hook = count_event, .hook_ctx = &count, .note = count_note,
                                       .note_ctx = &count, .node = -1, .type = -1, .to_ns = SIM_TIME_NEVER };
    ck_assert_int_eq(run_scenario(&cfg, &traced, &b, &err), SIM_OK);
    fclose(devnull);
    ck_assert_uint_eq(a.row.trace_hash, b.row.trace_hash);
    ck_assert_uint_eq(a.row.events, b.row.events);
    ck_assert_str_eq(a.verdict, b.verdict);
    ck_assert_uint_eq(a.row.counters_count, b.row.counters_count);
    for (size_t i = 0; i < a.row.counters_count; i++) {
        ck_assert_str_eq(a.row.counters[i].name, b.row.counters[i].name);
        ck_assert_uint_eq(a.row.counters[i].value, b.row.counters[i].value);
    }
    /* And it saw the run: every event, every fault, the model, the samples. */
    ck_assert_uint_ge(count.events, b.row.events);   /* a connection event also shows the message it delivers */
    size_t started = 0;   /* a wait_converged rolling step may never start: no note, a record all the same */
    for (size_t i = 0; i < b.row.faults_count; i++) started += !b.recoveries[i].not_started;
    ck_assert_uint_eq(count.notes[RUN_NOTE_FAULT], started);
    ck_assert_uint_gt(count.notes[RUN_NOTE_MODEL], 0);
    ck_assert_uint_gt(count.notes[RUN_NOTE_HARNESS], 0);
    ck_assert_uint_eq(count.notes[RUN_NOTE_SAMPLE], b.row.samples_count);
    ck_assert_uint_eq(count.notes[RUN_NOTE_LAG], b.row.lag.count);   /* one per replication lag */
    run_result_deinit(&a);
    run_result_deinit(&b);
    scn_config_deinit(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("obs_convergence");
    TCase *tc = tcase_create("synthetic");
    tcase_add_test(tc, test_registration_lag_and_lost_windows);
    tcase_add_test(tc, test_zombie_windows_after_death);
    tcase_add_test(tc, test_run_convergence_anchored_on_the_truth);
    tcase_add_test(tc, test_lost_definition);
    tcase_add_test(tc, test_lost_counts_after_view_formation);
    tcase_add_test(tc, test_zombie_definition);
    tcase_add_test(tc, test_spells_end_with_a_change_of_life);
    tcase_add_test(tc, test_divergence_and_node_down);
    tcase_add_test(tc, test_ownership_disagreement_windows);
    tcase_add_test(tc, test_open_windows_count_to_the_end_and_samples);
    tcase_add_test(tc, test_assert_context_names_the_run);
    tcase_add_test(tc, test_trace_leaves_the_run_alone);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
