/* test_sim_engine.c: the event queue, the run loop, limits and node life cycle.
 *
 * What sim_engine.h promises, checked here:
 *   - events run in (at_ns, scheduling order), never re-entrantly, and the
 *     queue invariants hold after every event (a seed sweep of random
 *     schedules with ties, cancels and "now" events scheduled from handlers);
 *   - sim_run stops on time, on budget or when drained, with the documented
 *     clock afterwards;
 *   - bad arguments and a full pool are errors with a message, never a crash;
 *   - sim_fail from a handler stops the run before the next event, keeps
 *     the first failure, and every later run returns SIM_STOP_FAILED;
 *   - cancel handles are generation-checked;
 *   - crash, restart, pause and local clocks behave as documented. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_engine.h"
#include "sim_net.h"
#include "tst_sim.h"

/* ========================================================================
 * Ordering: a seed sweep over random schedules
 * ======================================================================== */

typedef struct sweep_event {
    sim_time_ns at_ns;      /* when it must run */
    sim_event_id id;
    bool ran;
    bool cancelled;
    bool now_from_handler;  /* scheduled for "now" from inside a handler */
} sweep_event;

/* What a sweep exercised, so the test can insist it covered each case. */
typedef struct sweep_stats {
    size_t pending_peak;    /* most events pending at once */
    unsigned ties;          /* events that ran at the same time as the one before */
    unsigned now_runs;      /* "now" events scheduled from a handler that ran */
    unsigned cancels;       /* successful cancels */
    unsigned stale;         /* cancels of events that had already run */
    unsigned stale_reused;  /* ...whose slot held another pending event */
} sweep_stats;

typedef struct sweep {
    sim_engine *sim;
    sim_rng rng;            /* the test's own choices */
    uint64_t seed;
    uint32_t limit;         /* events this run may schedule in total */
    uint32_t children_max;  /* a handler schedules 0 .. children_max - 1 events */
    sweep_event *ev;        /* [limit], by scheduling order */
    uint32_t scheduled;
    uint32_t ran;
    uint32_t cancelled;
    int depth;              /* handlers currently running */
    bool have_last;
    sim_time_ns last_at_ns;
    uint32_t last_order;
    bool wide;              /* delays across the calendar's scales, not a microsecond grid */
    sim_time_ns until_step; /* run in steps of this, stopping between events (0: one run) */
    sweep_stats stats;
} sweep;

static void sweep_fire(sim_engine *sim, void *ctx, uint64_t arg);

/* Delays from a small grid so that many events share a time, and 1 in 4 "now".
 * Wide sweeps also use grids at the scales of the engine's calendar queue
 * (internal/sim_queue.h): the same and the next ~1 ms buckets, bucket edges,
 * seconds inside its ~8.6 s ring, and past it. */
static sim_time_ns sweep_delay(sweep *s)
{
    if (sim_rng_below(&s->rng, 4) == 0) return 0;
    if (!s->wide) return sim_rng_below(&s->rng, 12) * SIM_US;
    switch (sim_rng_below(&s->rng, 5)) {
    case 0: return sim_rng_below(&s->rng, 12) * SIM_US;
    case 1: return sim_rng_below(&s->rng, 40) * SIM_MS / 4;
    case 2: return (sim_rng_below(&s->rng, 8) << 20) + sim_rng_below(&s->rng, 3) - 1 + (1u << 20);
    case 3: return sim_rng_below(&s->rng, 12) * SIM_S;
    default: return sim_rng_below(&s->rng, 40) * SIM_S / 2 + sim_rng_below(&s->rng, 2) * SIM_MS;
    }
}

static void sweep_add(sweep *s, sim_time_ns delay_ns)
{
    if (s->scheduled >= s->limit) return;
    uint32_t order = s->scheduled;
    sweep_event *e = &s->ev[order];
    sim_error err;
    e->at_ns = sim_now(s->sim) + delay_ns;
    e->now_from_handler = s->depth > 0 && delay_ns == 0;
    if (sim_rng_below(&s->rng, 2) == 0) {
        TST_OK(sim_schedule(s->sim, delay_ns, SIM_KIND_USER, sweep_fire, s, order, &e->id, &err));
    } else {
        TST_OK(sim_schedule_at(s->sim, e->at_ns, SIM_KIND_USER + 1, sweep_fire, s, order, &e->id, &err));
    }
    TST_REQUIRE(e->id.generation != 0, "seed %llu: a handle with generation 0", (unsigned long long)s->seed);
    TST_REQUIRE(sim_event_pending(s->sim, e->id), "seed %llu: a new event is not pending", (unsigned long long)s->seed);
    s->scheduled++;
}

/* Cancels a random event, which may have run already (a stale handle whose
 * slot may hold another event by now): the result must match the model. */
static void sweep_cancel_some(sweep *s)
{
    if (s->scheduled == 0) return;
    sweep_event *e = &s->ev[sim_rng_below(&s->rng, s->scheduled)];
    bool expect = !e->ran && !e->cancelled;
    if (e->ran) {
        s->stats.stale++;
        for (uint32_t i = 0; i < s->scheduled; i++) {
            const sweep_event *f = &s->ev[i];
            if (f != e && f->id.index == e->id.index && !f->ran && !f->cancelled) s->stats.stale_reused++;
        }
    }
    TST_REQUIRE(sim_event_pending(s->sim, e->id) == expect, "seed %llu: sim_event_pending is %d, expected %d",
                (unsigned long long)s->seed, !expect, expect);
    bool cancelled = sim_cancel(s->sim, e->id);
    TST_REQUIRE(cancelled == expect, "seed %llu: sim_cancel returned %d, expected %d",
                (unsigned long long)s->seed, cancelled, expect);
    if (cancelled) {
        e->cancelled = true;
        s->cancelled++;
        s->stats.cancels++;
    }
    TST_REQUIRE(!sim_event_pending(s->sim, e->id), "seed %llu: pending after cancel", (unsigned long long)s->seed);
    TST_REQUIRE(!sim_cancel(s->sim, e->id), "seed %llu: a second cancel succeeded",   /* always false */
                (unsigned long long)s->seed);
}

static void sweep_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    sweep *s = ctx;
    TST_REQUIRE(s->depth == 0, "seed %llu: a handler ran re-entrantly", (unsigned long long)s->seed);
    s->depth++;
    uint32_t order = (uint32_t)arg;
    TST_REQUIRE(order < s->scheduled, "seed %llu: unknown event %u", (unsigned long long)s->seed, order);
    sweep_event *e = &s->ev[order];
    TST_REQUIRE(!e->ran, "seed %llu: event %u ran twice", (unsigned long long)s->seed, order);
    TST_REQUIRE(!e->cancelled, "seed %llu: cancelled event %u ran", (unsigned long long)s->seed, order);
    TST_REQUIRE(sim_now(sim) == e->at_ns, "seed %llu: event %u ran at %llu ns, due %llu ns", (unsigned long long)s->seed,
                order, (unsigned long long)sim_now(sim), (unsigned long long)e->at_ns);
    if (s->have_last && e->at_ns == s->last_at_ns) s->stats.ties++;
    if (e->now_from_handler) s->stats.now_runs++;
    if (s->have_last) {
        TST_REQUIRE(e->at_ns > s->last_at_ns || (e->at_ns == s->last_at_ns && order > s->last_order),
                    "seed %llu: event %u at %llu ns ran after event %u at %llu ns",
                    (unsigned long long)s->seed, order, (unsigned long long)e->at_ns, s->last_order,
                    (unsigned long long)s->last_at_ns);
    }
    s->have_last = true;
    s->last_at_ns = e->at_ns;
    s->last_order = order;
    e->ran = true;
    s->ran++;
    TST_REQUIRE(sim_events_processed(sim) == s->ran, "seed %llu: processed %llu, ran %u", (unsigned long long)s->seed,
                (unsigned long long)sim_events_processed(sim), s->ran);
    TST_REQUIRE(sim_events_pending(sim) == s->scheduled - s->ran - s->cancelled, "seed %llu: %zu pending, expected %u",
                (unsigned long long)s->seed, sim_events_pending(sim), s->scheduled - s->ran - s->cancelled);

    unsigned children = (unsigned)sim_rng_below(&s->rng, s->children_max);
    for (unsigned c = 0; c < children; c++) sweep_add(s, sweep_delay(s));
    if (sim_rng_below(&s->rng, 3) == 0) sweep_cancel_some(s);
    TST_REQUIRE(sim_events_pending(sim) == s->scheduled - s->ran - s->cancelled, "seed %llu: %zu pending, expected %u",
                (unsigned long long)s->seed, sim_events_pending(sim), s->scheduled - s->ran - s->cancelled);
    if (sim_events_pending(sim) > s->stats.pending_peak) s->stats.pending_peak = sim_events_pending(sim);
#ifndef SIM_DEBUG
    sim_engine_check(sim);   /* with SIM_DEBUG the engine itself checks after every event */
#endif
    s->depth--;
}

/* Returns what the run exercised.  `pool_max` bounds the pool (0: the
 * default), which keeps sim_engine_check cheap in the sweep. */
static sweep_stats sweep_run_mode(uint64_t seed, uint32_t initial, uint32_t limit, uint32_t children_max,
                                  uint32_t pool_max, bool wide, sim_time_ns until_step)
{
    sweep *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    s->ev = calloc(limit, sizeof *s->ev);
    ck_assert_ptr_nonnull(s->ev);
    sim_config config = tst_config(seed, 1);
    config.events_max = pool_max;
    s->sim = tst_engine(&config);
    s->rng = sim_rng_derive(seed, SIM_STREAM_HARNESS(99));
    s->seed = seed;
    s->limit = limit;
    s->children_max = children_max;
    s->wide = wide;
    s->until_step = until_step;
    for (uint32_t i = 0; i < initial; i++) {
        sweep_add(s, sweep_delay(s));
        if (sim_rng_below(&s->rng, 8) == 0) sweep_cancel_some(s);
    }
    sim_engine_check(s->sim);
    /* Stepped runs stop between events (the queue may already have moved
     * to a later bucket) and then schedule before its head. */
    while (s->until_step != 0 && sim_run_until(s->sim, sim_now(s->sim) + s->until_step) == SIM_STOP_TIME) {
        sim_engine_check(s->sim);
        for (uint32_t i = 0; i < 2; i++) sweep_add(s, sweep_delay(s));
        if (sim_rng_below(&s->rng, 4) == 0) sweep_cancel_some(s);
    }
    ck_assert_int_eq(sim_run(s->sim), SIM_STOP_DRAINED);
    sim_engine_check(s->sim);
    ck_assert_int_eq(s->depth, 0);
    ck_assert_uint_eq(s->ran + s->cancelled, s->scheduled);
    for (uint32_t i = 0; i < s->scheduled; i++) {
        ck_assert_msg(s->ev[i].ran != s->ev[i].cancelled, "seed %llu: event %u ran=%d cancelled=%d",
                      (unsigned long long)seed, i, s->ev[i].ran, s->ev[i].cancelled);
    }
    ck_assert_uint_eq(sim_events_pending(s->sim), 0);
    ck_assert_uint_eq(sim_events_processed(s->sim), s->ran);
    if (s->ran > 0 && s->until_step == 0) ck_assert_uint_eq(sim_now(s->sim), s->last_at_ns);   /* drained: the last event's time */
    sweep_stats stats = s->stats;
    sim_engine_destroy(s->sim);
    free(s->ev);
    free(s);
    return stats;
}

static sweep_stats sweep_run(uint64_t seed, uint32_t initial, uint32_t limit, uint32_t children_max, uint32_t pool_max)
{
    return sweep_run_mode(seed, initial, limit, children_max, pool_max, false, 0);
}

/* 200 seeds, 10 per forked test: under ASan each forked child pays a leak
 * scan at exit, which would dominate 200 one-seed tests.  Every failure
 * message names its seed. */
#define SWEEP_SEEDS 200
#define SWEEP_SEEDS_PER_TEST 10

START_TEST(test_order_sweep)
{
    sweep_stats sum = { 0 };
    for (uint64_t k = 0; k < SWEEP_SEEDS_PER_TEST; k++) {
        uint64_t seed = (uint64_t)_i * SWEEP_SEEDS_PER_TEST + k;
        sweep_stats st = sweep_run(seed, 30, 300, 3, 300);   /* at most 300 pending: the pool never fills */
        sum.ties += st.ties;
        sum.now_runs += st.now_runs;
        sum.cancels += st.cancels;
        sum.stale += st.stale;
        sum.stale_reused += st.stale_reused;
    }
    /* The schedules really had ties, "now" events, cancels and stale handles. */
    ck_assert_uint_gt(sum.ties, 100);
    ck_assert_uint_gt(sum.now_runs, 20);
    ck_assert_uint_gt(sum.cancels, 20);
    ck_assert_uint_gt(sum.stale, 10);
    ck_assert_uint_gt(sum.stale_reused, 0);
}
END_TEST

/* The same over delays from 0 to 20 s, which use every part of the
 * calendar queue: the current bucket, the ring, its wrap-around and the
 * far heap; half the seeds also stop between events every 0.7 s. */
START_TEST(test_order_sweep_calendar)
{
    sweep_stats sum = { 0 };
    for (uint64_t k = 0; k < SWEEP_SEEDS_PER_TEST; k++) {
        uint64_t seed = 1000 + (uint64_t)_i * SWEEP_SEEDS_PER_TEST + k;
        sim_time_ns step = k % 2 == 0 ? 0 : 700 * SIM_MS;
        sweep_stats st = sweep_run_mode(seed, 40, 400, 3, 400, true, step);
        sum.ties += st.ties;
        sum.now_runs += st.now_runs;
        sum.cancels += st.cancels;
        sum.stale += st.stale;
    }
    ck_assert_uint_gt(sum.ties, 100);
    ck_assert_uint_gt(sum.now_runs, 20);
    ck_assert_uint_gt(sum.cancels, 20);
    ck_assert_uint_gt(sum.stale, 10);
}
END_TEST

/* Past the pool's first 1024 slots: the pool grows while handlers run. */
START_TEST(test_order_pool_growth)
{
    ck_assert_uint_gt(sweep_run(7, 1000, 2600, 4, 0).pending_peak, 1100);
    ck_assert_uint_gt(sweep_run(8, 1010, 2600, 4, 0).pending_peak, 1100);
}
END_TEST

static void count_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    (*(uint32_t *)ctx)++;
}

/* 3000 events pending at once, so the pool grows twice and the heap is deep. */
START_TEST(test_order_many_pending)
{
    sim_config config = tst_config(3, 1);
    sim_engine *sim = tst_engine(&config);
    sim_rng rng = sim_rng_derive(3, SIM_STREAM_HARNESS(1));
    sim_error err;
    uint32_t fired = 0;
    for (uint32_t i = 0; i < 3000; i++) {
        TST_OK(sim_schedule(sim, sim_rng_below(&rng, 100) * SIM_US, SIM_KIND_USER, count_fire, &fired, i, NULL,
                            &err));
    }
    ck_assert_uint_eq(sim_events_pending(sim), 3000);
    sim_engine_check(sim);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(fired, 3000);
    sim_engine_destroy(sim);
}
END_TEST

/* A crowded bucket: 600 events in one ~1 ms calendar bucket seconds ahead,
 * scheduled in shuffled time order with many ties, are sorted when the
 * clock reaches the bucket (past the insertion-sort size) and run in
 * (time, scheduling order). */
typedef struct crowd {
    sim_time_ns at_ns[600];
    uint32_t ran[600];
    uint32_t len;
} crowd;

static void crowd_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    crowd *c = ctx;
    ck_assert_uint_lt(c->len, 600);
    ck_assert_uint_eq(sim_now(sim), c->at_ns[arg]);
    c->ran[c->len++] = (uint32_t)arg;
}

START_TEST(test_order_crowded_bucket)
{
    sim_config config = tst_config(11, 1);
    sim_engine *sim = tst_engine(&config);
    sim_rng rng = sim_rng_derive(11, SIM_STREAM_HARNESS(2));
    crowd *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    sim_error err;
    const sim_time_ns base = 5 * SIM_S + 7 * (1u << 20);   /* the start of a bucket, in the ring */
    for (uint32_t i = 0; i < 600; i++) {
        c->at_ns[i] = base + sim_rng_below(&rng, 200) * 5000;   /* 200 distinct times: ties */
        TST_OK(sim_schedule_at(sim, c->at_ns[i], SIM_KIND_USER, crowd_fire, c, i, NULL, &err));
    }
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(c->len, 600);
    for (uint32_t k = 1; k < 600; k++) {
        uint32_t a = c->ran[k - 1], b = c->ran[k];
        ck_assert_msg(c->at_ns[a] < c->at_ns[b] || (c->at_ns[a] == c->at_ns[b] && a < b),
                      "event %u (at %llu) ran before event %u (at %llu)", a, (unsigned long long)c->at_ns[a], b,
                      (unsigned long long)c->at_ns[b]);
    }
    free(c);
    sim_engine_destroy(sim);
}
END_TEST

/* ========================================================================
 * Stop conditions
 * ======================================================================== */

typedef struct stamp_log {
    sim_time_ns at_ns[32];
    uint64_t arg[32];
    size_t len;
} stamp_log;

static void stamp_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    stamp_log *log = ctx;
    ck_assert_uint_lt(log->len, 32);
    log->at_ns[log->len] = sim_now(sim);
    log->arg[log->len] = arg;
    log->len++;
}

static void schedule_ms(sim_engine *sim, stamp_log *log, const unsigned *ms, size_t n)
{
    sim_error err;
    for (size_t i = 0; i < n; i++) {
        TST_OK(sim_schedule(sim, ms[i] * SIM_MS, SIM_KIND_USER, stamp_fire, log, i, NULL, &err));
    }
}

/* A run that stops between two events has already looked at the later one,
 * in a later bucket; events scheduled then, before it, after it and past
 * the ring, still run in time order. */
START_TEST(test_order_after_stop_in_gap)
{
    sim_config config = tst_config(5, 1);
    sim_engine *sim = tst_engine(&config);
    stamp_log log = { .len = 0 };
    sim_error err;
    TST_OK(sim_schedule(sim, 5 * SIM_S, SIM_KIND_USER, stamp_fire, &log, 3, NULL, &err));
    ck_assert_int_eq(sim_run_until(sim, 1 * SIM_S), SIM_STOP_TIME);
    TST_OK(sim_schedule_at(sim, 30 * SIM_S, SIM_KIND_USER, stamp_fire, &log, 5, NULL, &err));
    TST_OK(sim_schedule_at(sim, 5 * SIM_S + 1, SIM_KIND_USER, stamp_fire, &log, 4, NULL, &err));
    TST_OK(sim_schedule_at(sim, 5 * SIM_S - 1, SIM_KIND_USER, stamp_fire, &log, 2, NULL, &err));
    TST_OK(sim_schedule_at(sim, 2 * SIM_S, SIM_KIND_USER, stamp_fire, &log, 1, NULL, &err));
    TST_OK(sim_schedule_at(sim, 1 * SIM_S, SIM_KIND_USER, stamp_fire, &log, 0, NULL, &err));
    sim_engine_check(sim);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    const sim_time_ns want[] = { 1 * SIM_S, 2 * SIM_S, 5 * SIM_S - 1, 5 * SIM_S, 5 * SIM_S + 1, 30 * SIM_S };
    ck_assert_uint_eq(log.len, 6);
    for (uint64_t i = 0; i < 6; i++) {
        ck_assert_uint_eq(log.arg[i], i);
        ck_assert_uint_eq(log.at_ns[i], want[i]);
    }
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_stop_at_time)
{
    sim_config config = tst_config(1, 1);
    config.stop_at_ns = 25 * SIM_MS;
    sim_engine *sim = tst_engine(&config);
    stamp_log log = { 0 };
    const unsigned ms[] = { 10, 20, 25, 30, 40 };
    schedule_ms(sim, &log, ms, 5);
    /* "stop before events later than this": the event at exactly 25 ms runs. */
    ck_assert_int_eq(sim_run(sim), SIM_STOP_TIME);
    ck_assert_uint_eq(log.len, 3);
    ck_assert_uint_eq(log.at_ns[2], 25 * SIM_MS);
    ck_assert_uint_eq(sim_now(sim), 25 * SIM_MS);          /* advanced to the stop time */
    ck_assert_uint_eq(sim_events_pending(sim), 2);
    ck_assert_uint_eq(sim_events_processed(sim), 3);
    /* Running again does not pass the stop time. */
    ck_assert_int_eq(sim_run(sim), SIM_STOP_TIME);
    ck_assert_uint_eq(log.len, 3);
    ck_assert_uint_eq(sim_now(sim), 25 * SIM_MS);
    /* sim_run_until goes further; the rest drains. */
    ck_assert_int_eq(sim_run_until(sim, 35 * SIM_MS), SIM_STOP_TIME);
    ck_assert_uint_eq(log.len, 4);
    ck_assert_uint_eq(sim_now(sim), 35 * SIM_MS);
    ck_assert_int_eq(sim_run_until(sim, 40 * SIM_MS), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.len, 5);
    ck_assert_uint_eq(log.at_ns[4], 40 * SIM_MS);
    ck_assert_uint_eq(sim_now(sim), 40 * SIM_MS);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_stop_at_time_between_events)
{
    sim_config config = tst_config(1, 1);
    config.stop_at_ns = 15 * SIM_MS;
    sim_engine *sim = tst_engine(&config);
    stamp_log log = { 0 };
    const unsigned ms[] = { 10, 20 };
    schedule_ms(sim, &log, ms, 2);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_TIME);
    ck_assert_uint_eq(log.len, 1);
    ck_assert_uint_eq(sim_now(sim), 15 * SIM_MS);
    /* Scheduling after a time stop counts from the stop time. */
    sim_error err;
    TST_OK(sim_schedule(sim, 0, SIM_KIND_USER, stamp_fire, &log, 9, NULL, &err));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_TIME);
    ck_assert_uint_eq(log.len, 2);
    ck_assert_uint_eq(log.at_ns[1], 15 * SIM_MS);
    ck_assert_uint_eq(log.arg[1], 9);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_stop_budget)
{
    sim_config config = tst_config(1, 1);
    config.events_budget = 4;
    sim_engine *sim = tst_engine(&config);
    stamp_log log = { 0 };
    const unsigned ms[] = { 1, 2, 3, 4, 5, 6, 7 };
    schedule_ms(sim, &log, ms, 7);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_BUDGET);
    ck_assert_uint_eq(log.len, 4);
    ck_assert_uint_eq(sim_events_processed(sim), 4);
    ck_assert_uint_eq(sim_now(sim), 4 * SIM_MS);           /* the clock stays at the last event */
    ck_assert_uint_eq(sim_events_pending(sim), 3);
    /* The budget is spent: nothing more runs. */
    ck_assert_int_eq(sim_run(sim), SIM_STOP_BUDGET);
    ck_assert_int_eq(sim_run_until(sim, 10 * SIM_MS), SIM_STOP_BUDGET);
    ck_assert_uint_eq(log.len, 4);
    ck_assert_uint_eq(sim_now(sim), 4 * SIM_MS);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_stop_drained)
{
    sim_config config = tst_config(1, 1);
    sim_engine *sim = tst_engine(&config);
    stamp_log log = { 0 };
    const unsigned ms[] = { 3, 1, 2, 2 };
    schedule_ms(sim, &log, ms, 4);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.len, 4);
    const uint64_t order[] = { 1, 2, 3, 0 };
    for (size_t i = 0; i < 4; i++) ck_assert_uint_eq(log.arg[i], order[i]);
    ck_assert_uint_eq(sim_now(sim), 3 * SIM_MS);
    ck_assert_uint_eq(sim_events_pending(sim), 0);
    /* An empty queue drains at once and the clock stays. */
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(sim_now(sim), 3 * SIM_MS);
    sim_engine_destroy(sim);
}
END_TEST

/* ========================================================================
 * Scheduling errors, cancel and handles
 * ======================================================================== */

START_TEST(test_schedule_rejects_bad_input)
{
    sim_config config = tst_config(1, 1);
    sim_engine *sim = tst_engine(&config);
    stamp_log log = { 0 };
    sim_error err;
    sim_event_id id = { 0, 0 };
    TST_OK(sim_schedule(sim, 10 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 0, NULL, &err));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(sim_now(sim), 10 * SIM_MS);

    TST_ERR(sim_schedule_at(sim, 5 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 1, &id, &err), SIM_ERR_INVALID);
    TST_ERR(sim_schedule_at(sim, 10 * SIM_MS - 1, SIM_KIND_USER, stamp_fire, &log, 1, &id, &err), SIM_ERR_INVALID);
    TST_ERR(sim_schedule(sim, SIM_TIME_NEVER, SIM_KIND_USER, stamp_fire, &log, 1, &id, &err), SIM_ERR_INVALID);
    TST_ERR(sim_schedule(sim, SIM_TIME_NEVER - 10 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 1, &id, &err),
            SIM_ERR_INVALID);
    TST_ERR(sim_schedule_at(sim, SIM_TIME_NEVER, SIM_KIND_USER, stamp_fire, &log, 1, &id, &err), SIM_ERR_INVALID);
    TST_ERR(sim_schedule(sim, 1, SIM_KIND_USER, NULL, &log, 1, &id, &err), SIM_ERR_INVALID);
    TST_ERR(sim_schedule_at(sim, 11 * SIM_MS, SIM_KIND_USER, NULL, &log, 1, &id, &err), SIM_ERR_INVALID);
    ck_assert_uint_eq(sim_events_pending(sim), 0);       /* nothing was queued by a failure */

    /* The boundaries are accepted: now itself, and the last representable time. */
    TST_OK(sim_schedule_at(sim, 10 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 2, NULL, &err));
    TST_OK(sim_schedule(sim, SIM_TIME_NEVER - 10 * SIM_MS - 1, SIM_KIND_USER, stamp_fire, &log, 3, &id, &err));
    ck_assert_uint_eq(sim_events_pending(sim), 2);
    ck_assert(sim_cancel(sim, id));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.len, 2);
    ck_assert_uint_eq(log.arg[1], 2);
    ck_assert_uint_eq(log.at_ns[1], 10 * SIM_MS);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_cancel)
{
    sim_config config = tst_config(1, 1);
    sim_engine *sim = tst_engine(&config);
    stamp_log log = { 0 };
    sim_error err;
    sim_event_id a, b, c;
    TST_OK(sim_schedule(sim, 1 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 1, &a, &err));
    TST_OK(sim_schedule(sim, 2 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 2, &b, &err));
    TST_OK(sim_schedule(sim, 3 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 3, &c, &err));
    ck_assert(sim_event_pending(sim, b));
    ck_assert(sim_cancel(sim, b));
    ck_assert(!sim_event_pending(sim, b));
    ck_assert(!sim_cancel(sim, b));                      /* double cancel */
    ck_assert_uint_eq(sim_events_pending(sim), 2);
    ck_assert_int_eq(sim_run_until(sim, 1 * SIM_MS), SIM_STOP_TIME);
    ck_assert(!sim_event_pending(sim, a));               /* ran */
    ck_assert(!sim_cancel(sim, a));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.len, 2);
    ck_assert_uint_eq(log.arg[0], 1);
    ck_assert_uint_eq(log.arg[1], 3);
    /* The empty handle is never pending. */
    sim_event_id none = { 0, 0 };
    ck_assert(!sim_event_pending(sim, none));
    ck_assert(!sim_cancel(sim, none));
    sim_event_id wild = { 1u << 30, 1 };
    ck_assert(!sim_event_pending(sim, wild));
    ck_assert(!sim_cancel(sim, wild));
    sim_engine_destroy(sim);
}
END_TEST

/* Finds a new event that occupies the slot of `old` (the pool reuses freed
 * slots); the test fails if none turns up in a whole pool's worth. */
static sim_event_id schedule_into_slot(sim_engine *sim, sim_event_id old, stamp_log *log, sim_event_id *others,
                                       size_t *others_len)
{
    sim_error err;
    for (size_t tries = 0; tries < 4096; tries++) {
        sim_event_id id;
        TST_OK(sim_schedule(sim, 5 * SIM_MS, SIM_KIND_USER, stamp_fire, log, 7, &id, &err));
        if (id.index == old.index) return id;
        ck_assert_uint_lt(*others_len, 4096);
        others[(*others_len)++] = id;
    }
    ck_abort_msg("no event reused slot %u", old.index);
    return old;
}

START_TEST(test_stale_handle_cannot_cancel_new_occupant)
{
    sim_config config = tst_config(1, 1);
    sim_engine *sim = tst_engine(&config);
    sim_event_id *others = calloc(4096, sizeof *others);
    ck_assert_ptr_nonnull(others);
    size_t others_len = 0;
    stamp_log log = { 0 };
    sim_error err;

    /* A handle to an event that ran. */
    sim_event_id ran;
    TST_OK(sim_schedule(sim, 1 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 1, &ran, &err));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    sim_event_id fresh = schedule_into_slot(sim, ran, &log, others, &others_len);
    ck_assert_uint_ne(fresh.generation, ran.generation);
    ck_assert(!sim_event_pending(sim, ran));
    ck_assert(!sim_cancel(sim, ran));
    ck_assert(sim_event_pending(sim, fresh));

    /* A handle to an event that was cancelled (its slot freed once popped). */
    for (size_t i = 0; i < others_len; i++) ck_assert(sim_cancel(sim, others[i]));
    others_len = 0;
    sim_event_id cancelled = fresh;
    ck_assert(sim_cancel(sim, cancelled));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);      /* pops and frees the cancelled slots */
    ck_assert_uint_eq(log.len, 1);
    sim_event_id occupant = schedule_into_slot(sim, cancelled, &log, others, &others_len);
    ck_assert(!sim_cancel(sim, cancelled));
    ck_assert(!sim_event_pending(sim, cancelled));
    ck_assert(sim_event_pending(sim, occupant));
    uint64_t before = log.len;
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.len, before + 1 + others_len);    /* the occupant ran */
    free(others);
    sim_engine_destroy(sim);
}
END_TEST

/* ========================================================================
 * Failure from inside a handler (sim_fail)
 * ======================================================================== */

/* Logs itself like stamp_fire; arg 100 + k fails the run with message k
 * (twice, so the second call must not replace the first). */
static void failing_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    stamp_fire(sim, ctx, arg);
    if (arg < 100) return;
    sim_error e;
    (void)sim_error_set(&e, SIM_ERR_NOMEM, "failing_fire", "failure %u", (unsigned)(arg - 100));
    sim_fail(sim, &e);
    (void)sim_error_set(&e, SIM_ERR_LIMIT, "failing_fire", "a second failure in the same handler");
    sim_fail(sim, &e);
}

START_TEST(test_fail_stops_before_next_event)
{
    sim_config config = tst_config(1, 1);
    config.stop_at_ns = 1 * SIM_S;
    sim_engine *sim = tst_engine(&config);
    stamp_log log = { 0 };
    sim_error err;
    ck_assert_ptr_null(sim_failure(sim));
    TST_OK(sim_schedule(sim, 1 * SIM_MS, SIM_KIND_USER, failing_fire, &log, 0, NULL, &err));
    TST_OK(sim_schedule(sim, 2 * SIM_MS, SIM_KIND_USER, failing_fire, &log, 101, NULL, &err));
    /* The same instant, scheduled after it: the loop must stop before it. */
    TST_OK(sim_schedule(sim, 2 * SIM_MS, SIM_KIND_USER, failing_fire, &log, 2, NULL, &err));
    TST_OK(sim_schedule(sim, 3 * SIM_MS, SIM_KIND_USER, failing_fire, &log, 102, NULL, &err));
    TST_OK(sim_schedule(sim, 4 * SIM_MS, SIM_KIND_USER, failing_fire, &log, 3, NULL, &err));

    ck_assert_int_eq(sim_run(sim), SIM_STOP_FAILED);
    ck_assert_uint_eq(log.len, 2);                     /* 0 and 101, nothing after */
    ck_assert_uint_eq(log.arg[1], 101);
    ck_assert_uint_eq(sim_events_processed(sim), 2);
    ck_assert_uint_eq(sim_now(sim), 2 * SIM_MS);       /* not advanced to the stop time */
    ck_assert_uint_eq(sim_events_pending(sim), 3);
    const sim_error *failure = sim_failure(sim);
    ck_assert_ptr_nonnull(failure);
    ck_assert_int_eq(failure->status, SIM_ERR_NOMEM);  /* the first failure, not the second */
    ck_assert_str_eq(failure->where, "failing_fire");
    ck_assert_str_eq(failure->message, "failure 1");

    /* Later runs return at once and run nothing; a later failure (from the
     * harness, say) does not replace the first either. */
    (void)sim_error_set(&err, SIM_ERR_STATE, "test", "a later failure");
    sim_fail(sim, &err);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_FAILED);
    ck_assert_int_eq(sim_run_until(sim, 10 * SIM_MS), SIM_STOP_FAILED);
    ck_assert_uint_eq(log.len, 2);
    ck_assert_uint_eq(sim_events_processed(sim), 2);
    ck_assert_uint_eq(sim_now(sim), 2 * SIM_MS);
    ck_assert_str_eq(sim_failure(sim)->message, "failure 1");
    sim_engine_check(sim);
    sim_engine_destroy(sim);
}
END_TEST

/* A run on a budget stops for the failure, not the budget, and sim_fail
 * with no error still records a reason. */
START_TEST(test_fail_without_reason)
{
    sim_config config = tst_config(1, 1);
    config.events_budget = 1;
    sim_engine *sim = tst_engine(&config);
    sim_fail(sim, NULL);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_FAILED);
    const sim_error *failure = sim_failure(sim);
    ck_assert_ptr_nonnull(failure);
    ck_assert_int_ne(failure->status, SIM_OK);
    ck_assert_str_ne(failure->message, "");
    sim_engine_destroy(sim);
}
END_TEST

typedef struct flood {
    uint32_t scheduled;     /* children the handler managed to schedule */
    uint32_t ran;
} flood;

static void flood_child(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    ((flood *)ctx)->ran++;
}

/* Schedules children until the pool refuses, then reports it as the
 * out-of-memory policy says a handler must: sim_fail, and return. */
static void flood_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    flood *f = ctx;
    sim_error err;
    for (;;) {
        memset(&err, 0, sizeof err);
        sim_status st = sim_schedule(sim, 1 * SIM_MS, SIM_KIND_USER, flood_child, f, 0, NULL, &err);
        if (st != SIM_OK) {
            sim_fail(sim, &err);
            return;
        }
        f->scheduled++;
        ck_assert_uint_le(f->scheduled, 64);
    }
}

START_TEST(test_fail_on_event_pool_limit_in_handler)
{
    sim_config config = tst_config(1, 1);
    config.events_max = 5;
    sim_engine *sim = tst_engine(&config);
    flood f = { 0, 0 };
    sim_error err;
    TST_OK(sim_schedule(sim, 1 * SIM_MS, SIM_KIND_USER, flood_fire, &f, 0, NULL, &err));
    TST_OK(sim_schedule(sim, 1 * SIM_MS, SIM_KIND_USER, flood_child, &f, 0, NULL, &err));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_FAILED);
    /* 5 slots: the flood event's own slot is free while it runs, the other
     * event holds one, so exactly 4 children fit. */
    ck_assert_uint_eq(f.scheduled, 4);
    ck_assert_uint_eq(f.ran, 0);                       /* the run stopped before the next event */
    ck_assert_uint_eq(sim_events_pending(sim), 5);
    const sim_error *failure = sim_failure(sim);
    ck_assert_ptr_nonnull(failure);
    ck_assert_int_eq(failure->status, SIM_ERR_LIMIT);
    ck_assert_str_eq(failure->where, "sim_schedule");
    ck_assert_ptr_nonnull(strstr(failure->message, "event pool is full"));
    ck_assert_ptr_nonnull(strstr(failure->message, "5 events"));
    sim_engine_check(sim);
    sim_engine_destroy(sim);
}
END_TEST

/* ========================================================================
 * Limits and configuration
 * ======================================================================== */

START_TEST(test_event_pool_limit)
{
    sim_config config = tst_config(1, 2);
    config.events_max = 4;
    sim_engine *sim = tst_engine(&config);
    stamp_log log = { 0 };
    sim_error err;
    for (unsigned i = 0; i < 4; i++) {
        TST_OK(sim_schedule(sim, (i + 1) * SIM_MS, SIM_KIND_USER, stamp_fire, &log, i, NULL, &err));
    }
    sim_event_id id = { 0, 0 };
    TST_ERR(sim_schedule(sim, 1 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 9, &id, &err), SIM_ERR_LIMIT);
    TST_ERR(sim_schedule_at(sim, 1 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 9, &id, &err), SIM_ERR_LIMIT);
    TST_ERR(sim_node_start(sim, 0, 0, &err), SIM_ERR_LIMIT);
    ck_assert_uint_eq(sim_events_pending(sim), 4);
    sim_engine_check(sim);
    /* One event runs, one slot frees, one schedule fits again. */
    ck_assert_int_eq(sim_run_until(sim, 1 * SIM_MS), SIM_STOP_TIME);
    TST_OK(sim_node_start(sim, 0, 0, &err));
    TST_ERR(sim_schedule(sim, 1 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 9, &id, &err), SIM_ERR_LIMIT);
    ck_assert_int_eq(sim_run_until(sim, 2 * SIM_MS), SIM_STOP_TIME);   /* start + the 2 ms event */
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_UP);
    /* Now two slots are free: a timer and a pause fill them, a third call is refused. */
    TST_OK(sim_timer_start(sim, 0, 5 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 20, NULL, &err));
    TST_OK(sim_node_pause(sim, 0, 1 * SIM_MS, &err));
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_PAUSED);
    ck_assert_int_eq(sim_run_until(sim, 3 * SIM_MS), SIM_STOP_TIME);   /* resume + the 3 ms event */
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_UP);
    TST_OK(sim_schedule(sim, 10 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 21, NULL, &err));
    TST_OK(sim_schedule(sim, 10 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 22, NULL, &err));
    TST_ERR(sim_timer_start(sim, 0, 5 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 23, &id, &err), SIM_ERR_LIMIT);
    /* A pause that cannot arm its resume is refused and leaves the node up. */
    TST_ERR(sim_node_pause(sim, 0, 1 * SIM_MS, &err), SIM_ERR_LIMIT);
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_UP);
    sim_engine_check(sim);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.len, 7);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_bad_config_rejected)
{
    sim_error err;
    sim_config config = tst_config(1, 0);
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(sim_engine_create(&config, &err));
    ck_assert_int_eq(err.status, SIM_ERR_INVALID);
    ck_assert_str_ne(err.message, "");

    config.node_count = SIM_NODES_MAX + 1;
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(sim_engine_create(&config, &err));
    ck_assert_int_eq(err.status, SIM_ERR_INVALID);
    ck_assert_str_ne(err.message, "");

    config.node_count = UINT32_MAX;
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(sim_engine_create(&config, &err));
    ck_assert_int_eq(err.status, SIM_ERR_INVALID);

    config.node_count = 3;
    config.events_max = SIM_EVENTS_MAX + 1;
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(sim_engine_create(&config, &err));
    ck_assert_int_eq(err.status, SIM_ERR_INVALID);
    ck_assert_str_ne(err.message, "");

    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(sim_engine_create(NULL, &err));
    ck_assert_int_eq(err.status, SIM_ERR_INVALID);

    /* A NULL error is allowed. */
    config.node_count = 0;
    ck_assert_ptr_null(sim_engine_create(&config, NULL));

    /* The limits themselves are accepted (the pool grows lazily). */
    config.node_count = 1;
    config.events_max = SIM_EVENTS_MAX;
    sim_engine *sim = tst_engine(&config);
    ck_assert_uint_eq(sim_node_count(sim), 1);
    ck_assert_uint_eq(sim_seed(sim), 1);
    ck_assert_uint_eq(sim_now(sim), 0);
    ck_assert_uint_eq(sim_events_pending(sim), 0);
    sim_engine_destroy(sim);
    sim_engine_destroy(NULL);
}
END_TEST

START_TEST(test_unknown_node_rejected)
{
    sim_config config = tst_config(1, 3);
    sim_engine *sim = tst_engine(&config);
    sim_error err;
    static const sim_node_ops ops = { 0 };
    stamp_log log = { 0 };
    TST_ERR(sim_node_attach(sim, 3, &ops, NULL, &err), SIM_ERR_INVALID);
    TST_ERR(sim_node_attach(sim, 0, NULL, NULL, &err), SIM_ERR_INVALID);
    TST_ERR(sim_node_start(sim, 3, 0, &err), SIM_ERR_INVALID);
    TST_ERR(sim_node_start(sim, SIM_NODE_NONE, 0, &err), SIM_ERR_INVALID);
    TST_ERR(sim_node_crash(sim, 3, &err), SIM_ERR_INVALID);
    TST_ERR(sim_node_restart(sim, 3, 0, &err), SIM_ERR_INVALID);
    TST_ERR(sim_node_pause(sim, 3, SIM_MS, &err), SIM_ERR_INVALID);
    TST_ERR(sim_node_set_clock(sim, 3, 0, 0, &err), SIM_ERR_INVALID);
    TST_ERR(sim_timer_start(sim, 3, SIM_MS, SIM_KIND_USER, stamp_fire, &log, 0, NULL, &err), SIM_ERR_INVALID);
    ck_assert_uint_eq(sim_events_pending(sim), 0);
    sim_engine_destroy(sim);
}
END_TEST

/* ========================================================================
 * Nodes: start, crash, restart
 * ======================================================================== */

#define LOG_NODES 4

typedef struct node_log {
    uint32_t starts[LOG_NODES];
    sim_time_ns start_at_ns[LOG_NODES];
    uint32_t start_incarnation[LOG_NODES];
    sim_node_state start_state[LOG_NODES];
    uint32_t crashes[LOG_NODES];
    sim_time_ns crash_at_ns[LOG_NODES];
    sim_node_state crash_state[LOG_NODES];
    uint32_t crash_incarnation[LOG_NODES];
    /* timer fires: the arg, the time, and the owner's incarnation then */
    uint64_t fired_arg[64];
    sim_time_ns fired_at_ns[64];
    sim_time_ns fired_local_ns[64];
    size_t fired;
} node_log;

static void log_start(sim_engine *sim, sim_node_id node, void *ctx)
{
    node_log *log = ctx;
    ck_assert_uint_lt(node, LOG_NODES);
    log->starts[node]++;
    log->start_at_ns[node] = sim_now(sim);
    log->start_incarnation[node] = sim_node_incarnation(sim, node);
    log->start_state[node] = sim_node_state_get(sim, node);
}

static void log_crash(sim_engine *sim, sim_node_id node, void *ctx)
{
    node_log *log = ctx;
    ck_assert_uint_lt(node, LOG_NODES);
    log->crashes[node]++;
    log->crash_at_ns[node] = sim_now(sim);
    log->crash_state[node] = sim_node_state_get(sim, node);
    log->crash_incarnation[node] = sim_node_incarnation(sim, node);
}

static const sim_node_ops log_ops = { .start = log_start, .crash = log_crash };

/* arg: the timer's label; the node is in the label's top byte. */
#define TIMER_ARG(node, label) (((uint64_t)(node) << 56) | (label))

static void log_timer(sim_engine *sim, void *ctx, uint64_t arg)
{
    node_log *log = ctx;
    ck_assert_uint_lt(log->fired, 64);
    sim_node_id node = (sim_node_id)(arg >> 56);
    ck_assert_int_eq(sim_node_state_get(sim, node), SIM_NODE_UP);   /* timers run on a running node */
    log->fired_arg[log->fired] = arg;
    log->fired_at_ns[log->fired] = sim_now(sim);
    log->fired_local_ns[log->fired] = sim_node_now(sim, node);
    log->fired++;
}

static sim_engine *nodes_engine(node_log *log, uint32_t count)
{
    memset(log, 0, sizeof *log);
    sim_config config = tst_config(11, count);
    sim_engine *sim = tst_engine(&config);
    sim_error err;
    for (uint32_t n = 0; n < count; n++) TST_OK(sim_node_attach(sim, n, &log_ops, log, &err));
    return sim;
}

static void timer_at(sim_engine *sim, node_log *log, sim_node_id node, sim_time_ns delay_ns, uint64_t label,
                     sim_event_id *id)
{
    sim_error err;
    TST_OK(sim_timer_start(sim, node, delay_ns, SIM_KIND_USER, log_timer, log, TIMER_ARG(node, label), id, &err));
}

/* sim_timer_start_at: an owned timer at a true instant, whatever the
 * node's drift, that dies with the node's incarnation; not before now.
 * ops->changing runs before a pause and before a clock set, with the node
 * still as it was, and not for a crash (ops->crash is called). */
static uint32_t changing_calls[LOG_NODES];
static sim_node_state changing_state[LOG_NODES];
static int32_t changing_local_ms[LOG_NODES];

static void log_changing(sim_engine *sim, sim_node_id node, void *ctx)
{
    (void)ctx;
    changing_calls[node]++;
    changing_state[node] = sim_node_state_get(sim, node);
    changing_local_ms[node] = (int32_t)(sim_node_now(sim, node) / SIM_MS);
}

START_TEST(test_timer_at_and_changing_hook)
{
    node_log log;
    memset(changing_calls, 0, sizeof changing_calls);
    sim_engine *sim = nodes_engine(&log, 2);
    static const sim_node_ops ops = { .start = log_start, .crash = log_crash, .changing = log_changing };
    sim_error err;
    TST_OK(sim_node_attach(sim, 0, &ops, &log, &err));
    TST_OK(sim_node_attach(sim, 1, &ops, &log, &err));
    TST_ERR(sim_timer_start_at(sim, 0, SIM_MS, SIM_KIND_USER, log_timer, &log, 0, NULL, &err), SIM_ERR_STATE);
    TST_OK(sim_node_start(sim, 0, 0, &err));
    TST_OK(sim_node_start(sim, 1, 0, &err));
    (void)sim_run_until(sim, 10 * SIM_MS);
    TST_OK(sim_node_set_clock(sim, 0, 0, 100000, &err));   /* +10 %: local delays shrink, true instants do not */
    ck_assert_uint_eq(changing_calls[0], 1);
    ck_assert_int_eq(changing_local_ms[0], 10);
    TST_ERR(sim_timer_start_at(sim, 0, 9 * SIM_MS, SIM_KIND_USER, log_timer, &log, 0, NULL, &err), SIM_ERR_INVALID);
    TST_OK(sim_timer_start_at(sim, 0, 25 * SIM_MS, SIM_KIND_USER, log_timer, &log, TIMER_ARG(0, 1), NULL, &err));
    TST_OK(sim_timer_start_at(sim, 1, 30 * SIM_MS, SIM_KIND_USER, log_timer, &log, TIMER_ARG(1, 2), NULL, &err));
    TST_OK(sim_timer_start_at(sim, 1, 40 * SIM_MS, SIM_KIND_USER, log_timer, &log, TIMER_ARG(1, 3), NULL, &err));
    ck_assert_uint_eq(sim_node_true_delay(sim, 0, 11 * SIM_MS), 10 * SIM_MS);
    ck_assert_uint_eq(sim_node_true_delay(sim, 1, 11 * SIM_MS), 11 * SIM_MS);
    TST_OK(sim_node_pause(sim, 1, 2 * SIM_MS, &err));
    ck_assert_uint_eq(changing_calls[1], 1);
    ck_assert_int_eq(changing_state[1], SIM_NODE_UP);   /* before the pause took effect */
    (void)sim_run_until(sim, 35 * SIM_MS);
    TST_OK(sim_node_crash(sim, 1, &err));
    ck_assert_uint_eq(changing_calls[1], 1);          /* a crash calls crash, not changing */
    (void)sim_run_until(sim, 50 * SIM_MS);
    ck_assert_uint_eq(log.fired, 2);                  /* the 40 ms timer died with node 1's crash */
    ck_assert_uint_eq(log.fired_arg[0], TIMER_ARG(0, 1));
    ck_assert_uint_eq(log.fired_at_ns[0], 25 * SIM_MS);
    ck_assert_uint_eq(log.fired_arg[1], TIMER_ARG(1, 2));
    ck_assert_uint_eq(log.fired_at_ns[1], 30 * SIM_MS);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_node_start)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 2);
    sim_error err;
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_DOWN);
    ck_assert_uint_eq(sim_node_incarnation(sim, 0), 0);
    TST_ERR(sim_timer_start(sim, 0, SIM_MS, SIM_KIND_USER, log_timer, &log, 0, NULL, &err), SIM_ERR_STATE);
    TST_OK(sim_node_start(sim, 0, 5 * SIM_MS, &err));
    ck_assert_int_eq(sim_run_until(sim, 4 * SIM_MS), SIM_STOP_TIME);
    ck_assert_uint_eq(log.starts[0], 0);
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_DOWN);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.starts[0], 1);
    ck_assert_uint_eq(log.start_at_ns[0], 5 * SIM_MS);
    ck_assert_uint_eq(log.start_incarnation[0], 1);
    ck_assert_int_eq(log.start_state[0], SIM_NODE_UP);
    ck_assert_uint_eq(log.starts[1], 0);
    ck_assert_str_eq(sim_node_state_name(SIM_NODE_UP), "up");
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_crash_cancels_timers)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 2);
    sim_error err;
    tst_start_all(sim);
    timer_at(sim, &log, 0, 10 * SIM_MS, 1, NULL);
    timer_at(sim, &log, 0, 20 * SIM_MS, 2, NULL);
    timer_at(sim, &log, 1, 10 * SIM_MS, 3, NULL);
    ck_assert_int_eq(sim_run_until(sim, 5 * SIM_MS), SIM_STOP_TIME);
    uint32_t before = sim_node_incarnation(sim, 0);
    TST_OK(sim_node_crash(sim, 0, &err));
    ck_assert_uint_eq(log.crashes[0], 1);
    ck_assert_uint_eq(log.crash_at_ns[0], 5 * SIM_MS);
    ck_assert_int_eq(log.crash_state[0], SIM_NODE_DOWN);    /* ops->crash sees the node down */
    ck_assert_uint_gt(sim_node_incarnation(sim, 0), before);
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_DOWN);
    /* A crash of a DOWN node is an error, and so is a timer on it. */
    TST_ERR(sim_node_crash(sim, 0, &err), SIM_ERR_STATE);
    ck_assert_uint_eq(log.crashes[0], 1);
    TST_ERR(sim_timer_start(sim, 0, SIM_MS, SIM_KIND_USER, log_timer, &log, 0, NULL, &err), SIM_ERR_STATE);
    TST_ERR(sim_node_pause(sim, 0, SIM_MS, &err), SIM_ERR_STATE);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.fired, 1);
    ck_assert_uint_eq(log.fired_arg[0], TIMER_ARG(1, 3));
    ck_assert_uint_eq(log.fired_at_ns[0], 10 * SIM_MS);
    sim_engine_check(sim);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_crash_of_never_started_node_is_error)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 1);
    sim_error err;
    TST_ERR(sim_node_crash(sim, 0, &err), SIM_ERR_STATE);
    TST_ERR(sim_node_restart(sim, 0, SIM_MS, &err), SIM_ERR_STATE);
    ck_assert_uint_eq(log.crashes[0], 0);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.starts[0], 0);                  /* the failed restart started nothing */
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_restart_new_incarnation)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 2);
    sim_error err;
    tst_start_all(sim);
    ck_assert_uint_eq(sim_node_incarnation(sim, 0), 1);
    timer_at(sim, &log, 0, 100 * SIM_MS, 1, NULL);   /* due long after the restart */
    timer_at(sim, &log, 0, 6 * SIM_MS, 2, NULL);     /* due while the node is down */
    timer_at(sim, &log, 0, 7 * SIM_MS, 3, NULL);     /* due the instant it restarts */
    ck_assert_int_eq(sim_run_until(sim, 5 * SIM_MS), SIM_STOP_TIME);
    TST_OK(sim_node_restart(sim, 0, 2 * SIM_MS, &err));
    ck_assert_uint_eq(log.crashes[0], 1);
    ck_assert_uint_eq(log.crash_at_ns[0], 5 * SIM_MS);
    uint32_t down_incarnation = sim_node_incarnation(sim, 0);
    ck_assert_uint_gt(down_incarnation, 1);
    /* Only the old incarnation's (dead) timers remain after the start. */
    ck_assert_int_eq(sim_run_until(sim, 7 * SIM_MS), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.starts[0], 2);
    ck_assert_uint_eq(log.start_at_ns[0], 7 * SIM_MS);
    ck_assert_uint_eq(log.start_incarnation[0], down_incarnation + 1);
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_UP);
    /* A timer of the new incarnation fires; none of the old one ever does. */
    timer_at(sim, &log, 0, 50 * SIM_MS, 4, NULL);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.fired, 1);
    ck_assert_uint_eq(log.fired_arg[0], TIMER_ARG(0, 4));
    ck_assert_uint_eq(log.fired_at_ns[0], 57 * SIM_MS);
    ck_assert_uint_eq(log.starts[1], 1);
    ck_assert_uint_eq(log.crashes[1], 0);
    sim_engine_destroy(sim);
}
END_TEST

/* The crash says "timers cancelled" and the header "removes the node's events
 * from the queue": a dead timer's handle is not pending and cannot be
 * cancelled, and it no longer counts as a pending event. */
START_TEST(test_crash_timer_handle_not_pending)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 1);
    sim_error err;
    tst_start_all(sim);
    sim_event_id timer;
    timer_at(sim, &log, 0, 10 * SIM_MS, 1, &timer);
    ck_assert(sim_event_pending(sim, timer));
    ck_assert_uint_eq(sim_events_pending(sim), 1);
    TST_OK(sim_node_crash(sim, 0, &err));
    ck_assert_msg(!sim_event_pending(sim, timer), "a crashed node's timer is still pending");
    ck_assert_msg(!sim_cancel(sim, timer), "a crashed node's timer can still be cancelled");
    ck_assert_uint_eq(sim_events_pending(sim), 0);
    ck_assert_int_eq(sim_run_until(sim, 5 * SIM_MS), SIM_STOP_DRAINED);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.fired, 0);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_node_rng_derived_per_incarnation)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 3);
    sim_error err;
    tst_start_all(sim);
    for (sim_node_id n = 0; n < 3; n++) {
        sim_rng expect = sim_rng_derive(11, SIM_STREAM_NODE(n, 1));
        for (int i = 0; i < 4; i++) ck_assert_uint_eq(sim_rng_u64(sim_node_rng(sim, n)), sim_rng_u64(&expect));
    }
    TST_OK(sim_node_restart(sim, 1, 0, &err));
    sim_run_until(sim, sim_now(sim));
    uint32_t incarnation = sim_node_incarnation(sim, 1);
    ck_assert_uint_gt(incarnation, 1);
    sim_rng expect = sim_rng_derive(11, SIM_STREAM_NODE(1, incarnation));
    for (int i = 0; i < 4; i++) ck_assert_uint_eq(sim_rng_u64(sim_node_rng(sim, 1)), sim_rng_u64(&expect));
    sim_engine_destroy(sim);
}
END_TEST

/* ========================================================================
 * Nodes: pause
 * ======================================================================== */

START_TEST(test_pause_runs_backlog_late_in_order)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 2);
    sim_error err;
    tst_start_all(sim);
    timer_at(sim, &log, 0, 2 * SIM_MS, 1, NULL);
    timer_at(sim, &log, 0, 5 * SIM_MS, 2, NULL);
    timer_at(sim, &log, 0, 5 * SIM_MS, 3, NULL);
    timer_at(sim, &log, 0, 30 * SIM_MS, 9, NULL);
    timer_at(sim, &log, 1, 5 * SIM_MS, 5, NULL);
    ck_assert_int_eq(sim_run_until(sim, 1 * SIM_MS), SIM_STOP_TIME);
    TST_OK(sim_node_pause(sim, 0, 10 * SIM_MS, &err));   /* 1 ms .. 11 ms */
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_PAUSED);
    TST_ERR(sim_node_pause(sim, 0, 10 * SIM_MS, &err), SIM_ERR_STATE);
    ck_assert_int_eq(sim_run_until(sim, 3 * SIM_MS), SIM_STOP_TIME);
    /* A paused node may still arm timers; this one falls due at 5 ms, in the pause. */
    timer_at(sim, &log, 0, 2 * SIM_MS, 4, NULL);
    ck_assert_int_eq(sim_run_until(sim, 10 * SIM_MS), SIM_STOP_TIME);
    ck_assert_uint_eq(log.fired, 1);                       /* only node 1's timer */
    ck_assert_uint_eq(log.fired_arg[0], TIMER_ARG(1, 5));
    ck_assert_uint_eq(log.fired_at_ns[0], 5 * SIM_MS);
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_PAUSED);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_UP);
    ck_assert_uint_eq(log.fired, 6);
    const uint64_t order[] = { TIMER_ARG(0, 1), TIMER_ARG(0, 2), TIMER_ARG(0, 3), TIMER_ARG(0, 4) };
    for (size_t i = 0; i < 4; i++) {
        ck_assert_uint_eq(log.fired_arg[1 + i], order[i]);
        ck_assert_uint_eq(log.fired_at_ns[1 + i], 11 * SIM_MS);   /* late: at resume */
    }
    ck_assert_uint_eq(log.fired_arg[5], TIMER_ARG(0, 9));
    ck_assert_uint_eq(log.fired_at_ns[5], 30 * SIM_MS);          /* after the pause: on time */
    ck_assert_uint_eq(log.crashes[0], 0);
    sim_engine_destroy(sim);
}
END_TEST

/* The resume instant: timer C, set before the pause for the resume time,
 * and timer B, set after the pause call for the same time, share at_ns; C
 * was scheduled first, so C runs first (FIFO ties), and timer A (due during
 * the pause) runs before both (original order). */
START_TEST(test_pause_resume_instant_keeps_order)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 1);
    sim_error err;
    tst_start_all(sim);
    timer_at(sim, &log, 0, 4 * SIM_MS, 1, NULL);    /* A: due in the pause */
    timer_at(sim, &log, 0, 10 * SIM_MS, 2, NULL);   /* C: due at the resume instant */
    TST_OK(sim_node_pause(sim, 0, 10 * SIM_MS, &err));
    timer_at(sim, &log, 0, 10 * SIM_MS, 3, NULL);   /* B: same instant, scheduled after C */
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.fired, 3);
    for (size_t i = 0; i < 3; i++) ck_assert_uint_eq(log.fired_at_ns[i], 10 * SIM_MS);
    ck_assert_msg(log.fired_arg[0] == TIMER_ARG(0, 1) && log.fired_arg[1] == TIMER_ARG(0, 2) &&
                      log.fired_arg[2] == TIMER_ARG(0, 3),
                  "node 0's timers ran in the order %llu, %llu, %llu; expected A=1, C=2, B=3",
                  (unsigned long long)(log.fired_arg[0] & 0xff), (unsigned long long)(log.fired_arg[1] & 0xff),
                  (unsigned long long)(log.fired_arg[2] & 0xff));
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_crash_during_pause_drops_backlog)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 1);
    sim_error err;
    tst_start_all(sim);
    timer_at(sim, &log, 0, 2 * SIM_MS, 1, NULL);
    timer_at(sim, &log, 0, 4 * SIM_MS, 2, NULL);
    timer_at(sim, &log, 0, 40 * SIM_MS, 3, NULL);
    TST_OK(sim_node_pause(sim, 0, 10 * SIM_MS, &err));
    ck_assert_int_eq(sim_run_until(sim, 8 * SIM_MS), SIM_STOP_TIME);
    TST_OK(sim_node_restart(sim, 0, 1 * SIM_MS, &err));   /* crash at 8 ms, up at 9 ms */
    ck_assert_uint_eq(log.crashes[0], 1);
    ck_assert_int_eq(log.crash_state[0], SIM_NODE_DOWN);
    sim_engine_check(sim);
    ck_assert_int_eq(sim_run_until(sim, 9 * SIM_MS), SIM_STOP_TIME);
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_UP);
    timer_at(sim, &log, 0, 5 * SIM_MS, 4, NULL);
    /* The old pause's resume (at 10 ms) must not touch the new incarnation. */
    ck_assert_int_eq(sim_run_until(sim, 11 * SIM_MS), SIM_STOP_TIME);
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_UP);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.fired, 1);
    ck_assert_uint_eq(log.fired_arg[0], TIMER_ARG(0, 4));
    ck_assert_uint_eq(log.fired_at_ns[0], 14 * SIM_MS);
    /* A new pause works after all that. */
    TST_OK(sim_node_pause(sim, 0, SIM_MS, &err));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_int_eq(sim_node_state_get(sim, 0), SIM_NODE_UP);
    sim_engine_destroy(sim);
}
END_TEST

/* Cancelling timers that wait in a pause backlog: the cancel works, and the
 * run loop and the pending count still see the events that remain. */
START_TEST(test_cancel_in_pause_backlog)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 1);
    sim_error err;
    tst_start_all(sim);
    sim_event_id a, b;
    timer_at(sim, &log, 0, 2 * SIM_MS, 1, &a);
    timer_at(sim, &log, 0, 3 * SIM_MS, 2, &b);
    TST_OK(sim_node_pause(sim, 0, 10 * SIM_MS, &err));
    ck_assert_uint_eq(sim_events_pending(sim), 3);          /* a, b, the resume */
    ck_assert_int_eq(sim_run_until(sim, 5 * SIM_MS), SIM_STOP_TIME);
    ck_assert(sim_event_pending(sim, a));                  /* waiting in the backlog */
    ck_assert(sim_cancel(sim, a));
    ck_assert(!sim_event_pending(sim, a));
    ck_assert(sim_event_pending(sim, b));
    ck_assert_uint_eq(sim_events_pending(sim), 2);          /* b and the resume */
    ck_assert_int_eq(sim_run_until(sim, 8 * SIM_MS), SIM_STOP_TIME);   /* events remain: not drained */
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.fired, 1);
    ck_assert_uint_eq(log.fired_arg[0], TIMER_ARG(0, 2));
    ck_assert_uint_eq(log.fired_at_ns[0], 10 * SIM_MS);
    ck_assert_uint_eq(sim_events_pending(sim), 0);
    sim_engine_destroy(sim);
}
END_TEST

/* ========================================================================
 * The per-event check (sim_set_event_check)
 * ======================================================================== */

/* What the check saw: at its k-th call, how many handlers had run, and
 * whose event it was. */
typedef struct check_log {
    stamp_log *events;
    size_t seen[32];
    sim_node_id node[32];
    uint16_t kind[32];
    size_t calls;
    size_t fail_at_call;     /* 1-based; 0 = never fail */
} check_log;

static void log_check(sim_engine *sim, void *ctx, const sim_trace_record *event)
{
    check_log *c = ctx;
    ck_assert_uint_lt(c->calls, 32);
    ck_assert_uint_eq(event->at_ns, sim_now(sim));
    c->node[c->calls] = event->node;
    c->kind[c->calls] = event->kind;
    c->seen[c->calls++] = c->events->len;
    if (c->calls == c->fail_at_call) {
        sim_error e;
        (void)sim_error_set(&e, SIM_ERR_STATE, "log_check", "invariant broken after event %zu", c->events->len);
        sim_fail(sim, &e);
    }
}

/* The check runs once per processed event, after its handler (it sees the
 * handler's effect), never for a cancelled event or a dead incarnation's
 * timer, and no longer once removed.  It learns whose event it was: a
 * node's timer, or a harness event (SIM_NODE_NONE), such as a start. */
START_TEST(test_event_check_after_every_handler)
{
    node_log nodes;
    sim_engine *sim = nodes_engine(&nodes, 2);
    stamp_log log = { 0 };
    check_log check = { .events = &log };
    sim_error err;
    sim_set_event_check(sim, log_check, &check);
    tst_start_all(sim);                                      /* the two start events */
    ck_assert_uint_eq(check.calls, 2);
    ck_assert_uint_eq(check.node[0], SIM_NODE_NONE);
    ck_assert_uint_eq(check.kind[0], SIM_KIND_NODE_START);
    TST_OK(sim_timer_start(sim, 1, 1 * SIM_MS, SIM_KIND_USER + 5, log_timer, &nodes, TIMER_ARG(1, 7), NULL, &err));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(check.calls, 3);
    ck_assert_uint_eq(check.node[2], 1);
    ck_assert_uint_eq(check.kind[2], SIM_KIND_USER + 5);
    check.calls = 0;
    const unsigned ms[] = { 3, 1, 2 };
    schedule_ms(sim, &log, ms, 3);
    sim_event_id gone;
    TST_OK(sim_schedule(sim, 2 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 9, &gone, &err));
    ck_assert(sim_cancel(sim, gone));
    timer_at(sim, &nodes, 0, 1 * SIM_MS, 1, NULL);
    TST_OK(sim_node_crash(sim, 0, &err));                    /* its timer dies unrun */
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.len, 3);
    ck_assert_uint_eq(nodes.fired, 1);                       /* node 1's, before */
    ck_assert_uint_eq(check.calls, 3);
    for (size_t i = 0; i < check.calls; i++) {
        ck_assert_uint_eq(check.seen[i], i + 1);
        ck_assert_uint_eq(check.node[i], SIM_NODE_NONE);
    }

    sim_set_event_check(sim, NULL, NULL);
    schedule_ms(sim, &log, ms, 1);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.len, 4);
    ck_assert_uint_eq(check.calls, 3);
    sim_engine_destroy(sim);
}
END_TEST

/* A check that fails the run stops it before the next event, with the
 * check's reason; after a handler's own failure the check is not called. */
START_TEST(test_event_check_failure_stops_run)
{
    sim_config config = tst_config(1, 1);
    sim_engine *sim = tst_engine(&config);
    stamp_log log = { 0 };
    check_log check = { .events = &log, .fail_at_call = 2 };
    sim_set_event_check(sim, log_check, &check);
    const unsigned ms[] = { 1, 2, 2, 3 };
    schedule_ms(sim, &log, ms, 4);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_FAILED);
    ck_assert_uint_eq(log.len, 2);
    ck_assert_uint_eq(check.calls, 2);
    ck_assert_uint_eq(sim_events_processed(sim), 2);
    ck_assert_str_eq(sim_failure(sim)->where, "log_check");
    ck_assert_str_eq(sim_failure(sim)->message, "invariant broken after event 2");
    sim_engine_destroy(sim);

    sim = tst_engine(&config);
    log.len = 0;
    check = (check_log){ .events = &log };
    sim_set_event_check(sim, log_check, &check);
    sim_error err;
    TST_OK(sim_schedule(sim, 1 * SIM_MS, SIM_KIND_USER, stamp_fire, &log, 0, NULL, &err));
    TST_OK(sim_schedule(sim, 2 * SIM_MS, SIM_KIND_USER, failing_fire, &log, 101, NULL, &err));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_FAILED);
    ck_assert_uint_eq(log.len, 2);
    ck_assert_uint_eq(check.calls, 1);                       /* not after the failing handler */
    ck_assert_str_eq(sim_failure(sim)->message, "failure 1");
    sim_engine_destroy(sim);
}
END_TEST

/* ========================================================================
 * Nodes: local clocks
 * ======================================================================== */

START_TEST(test_clock_offset)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 2);
    sim_error err;
    tst_start_all(sim);
    ck_assert_uint_eq(sim_node_now(sim, 0), 0);
    TST_OK(sim_node_set_clock(sim, 0, 5 * SIM_MS, 0, &err));
    ck_assert_uint_eq(sim_node_now(sim, 0), 5 * SIM_MS);
    ck_assert_uint_eq(sim_node_now(sim, 1), 0);
    sim_run_until(sim, 1 * SIM_S);
    ck_assert_uint_eq(sim_node_now(sim, 0), 1 * SIM_S + 5 * SIM_MS);
    ck_assert_uint_eq(sim_node_now(sim, 1), 1 * SIM_S);
    /* A negative offset, as long as the clock stays at or above 0. */
    TST_OK(sim_node_set_clock(sim, 1, -(int64_t)(400 * SIM_MS), 0, &err));
    ck_assert_uint_eq(sim_node_now(sim, 1), 600 * SIM_MS);
    TST_ERR(sim_node_set_clock(sim, 1, -(int64_t)(2 * SIM_S), 0, &err), SIM_ERR_INVALID);
    ck_assert_uint_eq(sim_node_now(sim, 1), 600 * SIM_MS);   /* unchanged by the failure */
    TST_OK(sim_node_set_clock(sim, 1, -(int64_t)(1 * SIM_S), 0, &err));
    ck_assert_uint_eq(sim_node_now(sim, 1), 0);
    /* A timer is local time; with no drift it lasts as long in true time. */
    timer_at(sim, &log, 0, 10 * SIM_MS, 1, NULL);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.fired_at_ns[0], 1 * SIM_S + 10 * SIM_MS);
    ck_assert_uint_eq(log.fired_local_ns[0], 1 * SIM_S + 15 * SIM_MS);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_clock_drift)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 3);
    sim_error err;
    tst_start_all(sim);
    TST_OK(sim_node_set_clock(sim, 0, 0, 1000, &err));      /* runs fast */
    TST_OK(sim_node_set_clock(sim, 1, 0, -1000, &err));     /* runs slow */
    sim_run_until(sim, 1 * SIM_S);
    ck_assert_uint_eq(sim_node_now(sim, 0), 1001 * SIM_MS);
    ck_assert_uint_eq(sim_node_now(sim, 1), 999 * SIM_MS);
    ck_assert_uint_eq(sim_node_now(sim, 2), 1 * SIM_S);
    /* A new setting applies from now: the same offset keeps the clock continuous. */
    TST_OK(sim_node_set_clock(sim, 0, (int64_t)(1 * SIM_MS), 0, &err));
    ck_assert_uint_eq(sim_node_now(sim, 0), 1001 * SIM_MS);
    sim_run_until(sim, 2 * SIM_S);
    ck_assert_uint_eq(sim_node_now(sim, 0), 2001 * SIM_MS);
    /* Drift limits. */
    TST_OK(sim_node_set_clock(sim, 2, 0, SIM_DRIFT_PPM_MAX, &err));
    TST_OK(sim_node_set_clock(sim, 2, 0, -SIM_DRIFT_PPM_MAX, &err));
    TST_ERR(sim_node_set_clock(sim, 2, 0, SIM_DRIFT_PPM_MAX + 1, &err), SIM_ERR_INVALID);
    TST_ERR(sim_node_set_clock(sim, 2, 0, -SIM_DRIFT_PPM_MAX - 1, &err), SIM_ERR_INVALID);
    TST_ERR(sim_node_set_clock(sim, 2, 0, INT32_MIN, &err), SIM_ERR_INVALID);
    sim_engine_destroy(sim);
}
END_TEST

START_TEST(test_timer_scaled_by_drift)
{
    node_log log;
    sim_engine *sim = nodes_engine(&log, 2);
    sim_error err;
    tst_start_all(sim);
    TST_OK(sim_node_set_clock(sim, 0, 0, 100000, &err));    /* +10 %: local runs fast */
    TST_OK(sim_node_set_clock(sim, 1, 0, -100000, &err));   /* -10 %: local runs slow */
    timer_at(sim, &log, 0, 1 * SIM_S, 1, NULL);
    timer_at(sim, &log, 1, 1 * SIM_S, 2, NULL);
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert_uint_eq(log.fired, 2);
    /* ceil(1e9 * 1e6 / 1.1e6) and ceil(1e9 * 1e6 / 0.9e6) true ns. */
    ck_assert_uint_eq(log.fired_arg[0], TIMER_ARG(0, 1));
    ck_assert_uint_eq(log.fired_at_ns[0], 909090910u);
    ck_assert_uint_eq(log.fired_arg[1], TIMER_ARG(1, 2));
    ck_assert_uint_eq(log.fired_at_ns[1], 1111111112u);
    /* Never early in local time. */
    ck_assert_uint_ge(log.fired_local_ns[0], 1 * SIM_S);
    ck_assert_uint_ge(log.fired_local_ns[1], 1 * SIM_S);
    sim_engine_destroy(sim);
}
END_TEST

/* ========================================================================
 * Prefetch hints (sim_set_prefetch)
 * ======================================================================== */

/* The hint may only read; the test records its calls in a table of its
 * own, which is what a hint must not do in a model. */
#define HINT_EVENTS 400u
static struct {
    unsigned hinted[HINT_EVENTS];    /* hint calls per event */
    bool ran[HINT_EVENTS];
    unsigned ran_unhinted;           /* events that ran before their hint */
    const void *ctx_seen;
} hint_log;

static void hint_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)ctx;
    ck_assert_uint_lt(arg, HINT_EVENTS);
    hint_log.ran[arg] = true;
    if (hint_log.hinted[arg] == 0) hint_log.ran_unhinted++;
}

static void hint_other(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)ctx;
    (void)arg;
}

static void hint_note(const void *ctx, uint64_t arg)
{
    ck_assert_uint_lt(arg, HINT_EVENTS);
    ck_assert_msg(!hint_log.ran[arg], "the hint of event %llu came after it ran", (unsigned long long)arg);
    hint_log.hinted[arg]++;
    hint_log.ctx_seen = ctx;
}

/* 400 events 10 to 50 ms ahead, about ten to a calendar bucket (every one
 * in the ring, so in a bucket's sorted run when it runs), every other one
 * of a handler without a hint; returns the run's trace hash. */
static uint64_t hint_run(bool with_hint)
{
    memset(&hint_log, 0, sizeof hint_log);
    sim_config config = tst_config(5, 1);
    sim_engine *sim = tst_engine(&config);
    sim_error err;
    if (with_hint) TST_OK(sim_set_prefetch(sim, hint_fire, hint_note, &err));
    sim_rng rng = sim_rng_derive(5, SIM_STREAM_HARNESS(3));
    static int token;
    for (uint32_t i = 0; i < HINT_EVENTS; i++) {
        sim_time_ns at = 10 * SIM_MS + sim_rng_below(&rng, 40000) * 1000;
        TST_OK(sim_schedule_at(sim, at, SIM_KIND_USER, i % 2 == 0 ? hint_fire : hint_other, &token, i, NULL, &err));
    }
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    if (with_hint) ck_assert_ptr_eq(hint_log.ctx_seen, &token);
    uint64_t hash = sim_trace_hash(sim);
    sim_engine_destroy(sim);
    return hash;
}

/* Each event of a hinted handler gets its hint once, before it runs, with
 * its own ctx and arg; other handlers' events get none; and the run is the
 * same event for event as without hints. */
START_TEST(test_prefetch_hint_before_each_event)
{
    uint64_t plain = hint_run(false);
    for (uint32_t i = 0; i < HINT_EVENTS; i++) ck_assert_uint_eq(hint_log.hinted[i], 0);
    uint64_t hinted = hint_run(true);
    ck_assert_uint_eq(hinted, plain);
    ck_assert_uint_eq(hint_log.ran_unhinted, 0);
    for (uint32_t i = 0; i < HINT_EVENTS; i++) {
        ck_assert_msg(hint_log.hinted[i] == (i % 2 == 0 ? 1u : 0u), "event %u: %u hint calls", i,
                      hint_log.hinted[i]);
    }
}
END_TEST

static void hint_fn_0(sim_engine *sim, void *ctx, uint64_t arg) { (void)sim; (void)ctx; (void)arg; }
static void hint_fn_1(sim_engine *sim, void *ctx, uint64_t arg) { (void)sim; (void)ctx; (void)arg; }
static void hint_fn_2(sim_engine *sim, void *ctx, uint64_t arg) { (void)sim; (void)ctx; (void)arg; }
static void hint_fn_3(sim_engine *sim, void *ctx, uint64_t arg) { (void)sim; (void)ctx; (void)arg; }
static void hint_fn_4(sim_engine *sim, void *ctx, uint64_t arg) { (void)sim; (void)ctx; (void)arg; }
static void hint_fn_5(sim_engine *sim, void *ctx, uint64_t arg) { (void)sim; (void)ctx; (void)arg; }
static void hint_fn_6(sim_engine *sim, void *ctx, uint64_t arg) { (void)sim; (void)ctx; (void)arg; }
static void hint_fn_7(sim_engine *sim, void *ctx, uint64_t arg) { (void)sim; (void)ctx; (void)arg; }

/* SIM_PREFETCH_MAX handlers, then a limit error; setting one again
 * replaces it, clearing frees its place, a NULL handler is refused; a
 * cleared hint is no longer called. */
START_TEST(test_prefetch_limits)
{
    _Static_assert(SIM_PREFETCH_MAX == 8, "the test registers eight handlers");
    sim_event_fn *fns[8] = { hint_fn_0, hint_fn_1, hint_fn_2, hint_fn_3,
                             hint_fn_4, hint_fn_5, hint_fn_6, hint_fn_7 };
    sim_config config = tst_config(5, 1);
    sim_engine *sim = tst_engine(&config);
    sim_error err;
    for (uint32_t i = 0; i < 8; i++) TST_OK(sim_set_prefetch(sim, fns[i], hint_note, &err));
    TST_OK(sim_set_prefetch(sim, fns[3], hint_note, &err));   /* replaces: no new place */
    ck_assert_int_eq(sim_set_prefetch(sim, hint_fire, hint_note, &err), SIM_ERR_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.message, "at most 8"));
    ck_assert_int_eq(sim_set_prefetch(sim, NULL, hint_note, &err), SIM_ERR_INVALID);
    TST_OK(sim_set_prefetch(sim, fns[5], NULL, &err));
    TST_OK(sim_set_prefetch(sim, hint_fire, hint_note, &err));   /* the freed place */
    TST_OK(sim_set_prefetch(sim, hint_fire, NULL, &err));
    memset(&hint_log, 0, sizeof hint_log);
    static int token;
    TST_OK(sim_schedule_at(sim, 20 * SIM_MS, SIM_KIND_USER, hint_fire, &token, 0, NULL, &err));
    ck_assert_int_eq(sim_run(sim), SIM_STOP_DRAINED);
    ck_assert(hint_log.ran[0]);
    ck_assert_uint_eq(hint_log.hinted[0], 0);
    sim_engine_destroy(sim);
}
END_TEST

/* ======================================================================== */

static Suite *engine_suite(void)
{
    Suite *s = suite_create("sim_engine");

    TCase *order = tcase_create("order");
    tcase_set_timeout(order, 60);
    tcase_add_loop_test(order, test_order_sweep, 0, SWEEP_SEEDS / SWEEP_SEEDS_PER_TEST);
    tcase_add_loop_test(order, test_order_sweep_calendar, 0, SWEEP_SEEDS / SWEEP_SEEDS_PER_TEST);
    tcase_add_test(order, test_order_pool_growth);
    tcase_add_test(order, test_order_many_pending);
    tcase_add_test(order, test_order_crowded_bucket);
    tcase_add_test(order, test_prefetch_hint_before_each_event);
    tcase_add_test(order, test_prefetch_limits);
    suite_add_tcase(s, order);

    TCase *stop = tcase_create("stop");
    tcase_add_test(stop, test_order_after_stop_in_gap);
    tcase_add_test(stop, test_stop_at_time);
    tcase_add_test(stop, test_stop_at_time_between_events);
    tcase_add_test(stop, test_stop_budget);
    tcase_add_test(stop, test_stop_drained);
    suite_add_tcase(s, stop);

    TCase *sched = tcase_create("schedule");
    tcase_add_test(sched, test_schedule_rejects_bad_input);
    tcase_add_test(sched, test_cancel);
    tcase_add_test(sched, test_stale_handle_cannot_cancel_new_occupant);
    tcase_add_test(sched, test_event_pool_limit);
    tcase_add_test(sched, test_bad_config_rejected);
    tcase_add_test(sched, test_unknown_node_rejected);
    suite_add_tcase(s, sched);

    TCase *fail = tcase_create("fail");
    tcase_add_test(fail, test_fail_stops_before_next_event);
    tcase_add_test(fail, test_fail_without_reason);
    tcase_add_test(fail, test_fail_on_event_pool_limit_in_handler);
    tcase_add_test(fail, test_event_check_after_every_handler);
    tcase_add_test(fail, test_event_check_failure_stops_run);
    suite_add_tcase(s, fail);

    TCase *nodes = tcase_create("nodes");
    tcase_add_test(nodes, test_node_start);
    tcase_add_test(nodes, test_crash_cancels_timers);
    tcase_add_test(nodes, test_crash_of_never_started_node_is_error);
    tcase_add_test(nodes, test_restart_new_incarnation);
    tcase_add_test(nodes, test_crash_timer_handle_not_pending);
    tcase_add_test(nodes, test_node_rng_derived_per_incarnation);
    tcase_add_test(nodes, test_pause_runs_backlog_late_in_order);
    tcase_add_test(nodes, test_pause_resume_instant_keeps_order);
    tcase_add_test(nodes, test_crash_during_pause_drops_backlog);
    tcase_add_test(nodes, test_cancel_in_pause_backlog);
    tcase_add_test(nodes, test_timer_at_and_changing_hook);
    suite_add_tcase(s, nodes);

    TCase *clock = tcase_create("clock");
    tcase_add_test(clock, test_clock_offset);
    tcase_add_test(clock, test_clock_drift);
    tcase_add_test(clock, test_timer_scaled_by_drift);
    suite_add_tcase(s, clock);
    return s;
}

int main(void)
{
    return tst_run_suite(engine_suite());
}
