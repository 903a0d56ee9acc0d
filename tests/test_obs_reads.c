/* test_obs_reads.c: the definitions of empty, short and stale reads
 * (sim/harness/obs_reads.h, reports/SCHEMA.md) on synthetic streams whose
 * answers are computed by hand in the comments.
 *
 * Allowances throughout: lag 10 s, zombie 20 s.  Service 0 has clients 0
 * and 1, service 1 has client 2. */
#include <check.h>
#include <stdlib.h>

#include "obs_reads.h"
#include "sim_time.h"

#define S SIM_S
#define MS SIM_MS

static obs_reads *make(void)
{
    obs_reads *o = obs_reads_create(10 * S, 20 * S);
    ck_assert_ptr_nonnull(o);
    return o;
}

static void truth(obs_reads *o, sim_time_ns at, uint32_t client, uint32_t key, bool live)
{
    ck_assert(obs_reads_truth(o, at, client, key, live));
}

static void query(obs_reads *o, sim_time_ns at, uint32_t key, const uint32_t *clients, uint32_t count)
{
    distro_read r = { .reader = 7, .key = key, .source = DISTRO_READ_QUERY, .server = 0, .clients = clients,
                      .count = count };
    ck_assert(obs_reads_read(o, at, &r));
}

static void view(obs_reads *o, sim_time_ns at, uint32_t reader, uint32_t key, const uint32_t *clients,
                 uint32_t count)
{
    distro_read r = { .reader = reader, .key = key, .source = DISTRO_READ_VIEW, .server = 1, .clients = clients,
                      .count = count };
    ck_assert(obs_reads_read(o, at, &r));
}

static const obs_read_stats *stats_of(const obs_reads *o, uint32_t key, bool is_view)
{
    size_t n = 0;
    const obs_read_stats *st = obs_reads_stats(o, &n);
    for (size_t i = 0; i < n; i++) {
        if (st[i].key == key && st[i].view == is_view) return &st[i];
    }
    ck_abort_msg("no stats for key %u", key);
    return NULL;
}

/* Queries of service 0 (client 0 live from 0 s, client 1 from 5 s):
 *   3 s  []      E = {} (both younger than 10 s): nothing
 *   11 s [0]     E = {0}: fine
 *   12 s []      empty: window opens at 12 s
 *   13 s []      still empty (not a new window)
 *   14 s [0]     empty closes at 14 s (2 s); E = {0}: fine
 *   16 s [0]     E = {0, 1} since 15 s, 1 missing: short opens at 16 s
 *   17 s [0, 1]  short closes (1 s)
 *   19 s []      empty opens, still open at the end (25 s): 6 s
 * Answers 8, empty 3 (12, 13, 19), short 1 (16); a failed query counts
 * apart and changes no window. */
START_TEST(test_query_windows)
{
    obs_reads *o = make();
    truth(o, 0, 0, 0, true);
    truth(o, 5 * S, 1, 0, true);
    const uint32_t a[] = { 0 }, ab[] = { 0, 1 };
    query(o, 3 * S, 0, NULL, 0);
    query(o, 11 * S, 0, a, 1);
    query(o, 12 * S, 0, NULL, 0);
    query(o, 13 * S, 0, NULL, 0);
    distro_read failed = { .reader = 7, .key = 0, .source = DISTRO_READ_FAILED, .server = -1 };
    ck_assert(obs_reads_read(o, 13500 * MS, &failed));
    query(o, 14 * S, 0, a, 1);
    query(o, 16 * S, 0, a, 1);
    query(o, 17 * S, 0, ab, 2);
    query(o, 19 * S, 0, NULL, 0);
    ck_assert(obs_reads_finish(o, 25 * S));
    size_t n = 0;
    const obs_read_window *w = obs_reads_windows(o, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(w[0].kind, OBS_READ_EMPTY);
    ck_assert(!w[0].view);
    ck_assert_uint_eq(w[0].reader, UINT32_MAX);
    ck_assert_uint_eq(w[0].start_ns, 12 * S);
    ck_assert_uint_eq(w[0].end_ns, 14 * S);
    ck_assert_int_eq(w[1].kind, OBS_READ_SHORT);
    ck_assert_uint_eq(w[1].start_ns, 16 * S);
    ck_assert_uint_eq(w[1].end_ns, 17 * S);
    ck_assert_int_eq(w[2].kind, OBS_READ_EMPTY);
    ck_assert_uint_eq(w[2].start_ns, 19 * S);
    ck_assert_uint_eq(w[2].end_ns, SIM_TIME_NEVER);
    ck_assert_uint_eq(obs_reads_max(o, OBS_READ_EMPTY), 6 * S);
    ck_assert_uint_eq(obs_reads_max(o, OBS_READ_SHORT), 1 * S);
    ck_assert_uint_eq(obs_reads_max(o, OBS_READ_STALE), 0);
    const obs_read_stats *st = stats_of(o, 0, false);
    ck_assert_uint_eq(st->reads, 8);
    ck_assert_uint_eq(st->failed, 1);
    ck_assert_uint_eq(st->kind_reads[OBS_READ_EMPTY], 3);
    ck_assert_uint_eq(st->kind_reads[OBS_READ_SHORT], 1);
    ck_assert_uint_eq(st->kind_reads[OBS_READ_STALE], 0);
    ck_assert_uint_eq(st->kind_ns[OBS_READ_EMPTY], 8 * S);   /* 2 s + 6 s to the end */
    ck_assert_uint_eq(st->kind_ns[OBS_READ_SHORT], 1 * S);
    ck_assert_uint_eq(obs_reads_total(o), 9);
    obs_reads_destroy(o);
}
END_TEST

/* A subscriber's view turns anomalous as time passes, with no event: the
 * window opens when the allowance ends, not at the next event.
 * Service 1: client 2 live from 2 s.  Reader 4's view is [] from 1 s: it
 * becomes empty at 12 s (2 s + 10 s); at 20 s it lists [2]: the window is
 * 12..20 s.  Client 2 dies at 30 s; the view still lists it: stale from
 * 50 s (30 s + 20 s); at 53 s the view is []: stale closes at 53 s; E is
 * empty (client 2 is dead), so [] is not empty.  Reads: 3 view changes, of
 * which none was anomalous when it came (the anomalies began in between). */
START_TEST(test_view_windows_open_at_the_allowance)
{
    obs_reads *o = make();
    truth(o, 2 * S, 2, 1, true);
    const uint32_t c2[] = { 2 };
    view(o, 1 * S, 4, 1, NULL, 0);
    view(o, 20 * S, 4, 1, c2, 1);
    truth(o, 30 * S, 2, 1, false);
    view(o, 53 * S, 4, 1, NULL, 0);
    ck_assert(obs_reads_finish(o, 60 * S));
    size_t n = 0;
    const obs_read_window *w = obs_reads_windows(o, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(w[0].kind, OBS_READ_EMPTY);
    ck_assert(w[0].view);
    ck_assert_uint_eq(w[0].reader, 4);
    ck_assert_uint_eq(w[0].key, 1);
    ck_assert_uint_eq(w[0].start_ns, 12 * S);
    ck_assert_uint_eq(w[0].end_ns, 20 * S);
    ck_assert_int_eq(w[1].kind, OBS_READ_STALE);
    ck_assert_uint_eq(w[1].start_ns, 50 * S);
    ck_assert_uint_eq(w[1].end_ns, 53 * S);
    const obs_read_stats *st = stats_of(o, 1, true);
    ck_assert_uint_eq(st->reads, 3);
    ck_assert_uint_eq(st->kind_reads[OBS_READ_EMPTY], 0);
    ck_assert_uint_eq(st->kind_reads[OBS_READ_STALE], 0);
    ck_assert_uint_eq(st->kind_ns[OBS_READ_EMPTY], 8 * S);
    ck_assert_uint_eq(st->kind_ns[OBS_READ_STALE], 3 * S);
    obs_reads_destroy(o);
}
END_TEST

/* A truth change re-evaluates the views of its service at once.  Service 0:
 * client 0 live from 0 s.  Reader 5's view lists [0] from 1 s (fine).
 * Client 1 registers at 4 s: it is expected from 14 s, so the view is short
 * from 14 s, with no event then.  Client 0 deregisters at 16 s: the view
 * still lists it (stale only from 36 s) and misses 1 (short stays).  At
 * 18 s client 1 deregisters too: E is empty, short closes at 18 s.  The run
 * ends at 40 s: stale (client 0, dead 16 s + 20 s) opened at 36 s and is
 * open at the end: 4 s. */
START_TEST(test_truth_changes_move_view_windows)
{
    obs_reads *o = make();
    truth(o, 0, 0, 0, true);
    const uint32_t a[] = { 0 };
    view(o, 1 * S, 5, 0, a, 1);
    truth(o, 4 * S, 1, 0, true);
    truth(o, 16 * S, 0, 0, false);
    truth(o, 18 * S, 1, 0, false);
    ck_assert(obs_reads_finish(o, 40 * S));
    size_t n = 0;
    const obs_read_window *w = obs_reads_windows(o, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(w[0].kind, OBS_READ_SHORT);
    ck_assert_uint_eq(w[0].start_ns, 14 * S);
    ck_assert_uint_eq(w[0].end_ns, 18 * S);
    ck_assert_int_eq(w[1].kind, OBS_READ_STALE);
    ck_assert_uint_eq(w[1].start_ns, 36 * S);
    ck_assert_uint_eq(w[1].end_ns, SIM_TIME_NEVER);
    ck_assert_uint_eq(obs_reads_max(o, OBS_READ_STALE), 4 * S);
    ck_assert_uint_eq(obs_reads_max(o, OBS_READ_SHORT), 4 * S);
    obs_reads_destroy(o);
}
END_TEST

/* An answer is held against the truth at its own instant: a query listing
 * a client that died 25 s earlier is stale (past 20 s); one listing a
 * client that died 5 s earlier is not; an empty answer while the only
 * live client is 3 s old is not empty. */
START_TEST(test_answers_use_the_allowances)
{
    obs_reads *o = make();
    truth(o, 0, 0, 0, true);
    truth(o, 10 * S, 0, 0, false);
    truth(o, 40 * S, 1, 0, true);
    const uint32_t a[] = { 0 };
    query(o, 15 * S, 0, a, 1);     /* dead 5 s: fine */
    query(o, 35 * S, 0, a, 1);     /* dead 25 s: stale, opens */
    query(o, 43 * S, 0, NULL, 0);  /* 1 live for 3 s: not empty; stale closes */
    ck_assert(obs_reads_finish(o, 50 * S));
    size_t n = 0;
    const obs_read_window *w = obs_reads_windows(o, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(w[0].kind, OBS_READ_STALE);
    ck_assert_uint_eq(w[0].start_ns, 35 * S);
    ck_assert_uint_eq(w[0].end_ns, 43 * S);
    ck_assert_uint_eq(stats_of(o, 0, false)->kind_reads[OBS_READ_EMPTY], 0);
    obs_reads_destroy(o);
}
END_TEST

static Suite *obs_reads_suite(void)
{
    Suite *s = suite_create("obs_reads");
    TCase *tc = tcase_create("definitions");
    tcase_add_test(tc, test_query_windows);
    tcase_add_test(tc, test_view_windows_open_at_the_allowance);
    tcase_add_test(tc, test_truth_changes_move_view_windows);
    tcase_add_test(tc, test_answers_use_the_allowances);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(obs_reads_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
