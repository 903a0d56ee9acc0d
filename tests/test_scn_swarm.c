/* test_scn_swarm.c: swarm blocks (scn_swarm.h): loading, printing, errors,
 * and the per-seed draw.  Run from the repository root (ctest does). */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_scenario.h"
#include "scn_load.h"
#include "scn_swarm.h"

#define SWARM_FILE "scenarios/swarm-explore.yaml"

static scn_config tst_load(const char *path)
{
    scn_config c;
    sim_error err;
    sim_status st = scn_load_file(path, &c, &err);
    ck_assert_msg(st == SIM_OK, "%s: %s", err.where, err.message);
    return c;
}

static char *tst_print(const scn_config *config)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(mem);
    ck_assert_int_eq(scn_config_print(config, mem), SIM_OK);
    fclose(mem);
    return buf;
}

/* A base scenario with `swarm` appended as its swarm block. */
static sim_status tst_load_swarm(const char *swarm, scn_config *out, sim_error *err)
{
    char text[4096];
    snprintf(text, sizeof text,
             "name: s\n"
             "cluster: {nodes: 3}\n"
             "nemesis: {kinds: [crash], interval: {min: 10s, max: 30s}}\n"
             "swarm:\n%s",
             swarm);
    return scn_load_string("s.yaml", text, strlen(text), out, err);
}

static const char *tst_load_error(const char *swarm)
{
    static char line[1024];
    scn_config c;
    sim_error err;
    sim_status st = tst_load_swarm(swarm, &c, &err);
    ck_assert_msg(st == SIM_ERR_SCENARIO, "loaded: %s", swarm);
    snprintf(line, sizeof line, "%s: %s", err.where, err.message);
    return line;
}

static const scn_swarm_entry *tst_entry(const scn_config *c, const char *key)
{
    for (uint32_t i = 0; i < c->swarm_count; i++) {
        if (strcmp(c->swarm[i].key, key) == 0) return &c->swarm[i];
    }
    ck_abort_msg("no swarm entry %s", key);
    return NULL;
}

START_TEST(test_swarm_file_loads_and_prints_back)
{
    scn_config c = tst_load(SWARM_FILE);
    ck_assert_uint_eq(c.swarm_count, 12);
    const scn_swarm_entry *nodes = tst_entry(&c, "cluster.nodes");
    ck_assert_int_eq(nodes->kind, SCN_SWARM_RANGE);
    ck_assert_int_eq(nodes->type, SCN_SWARM_INTEGER);
    ck_assert_uint_eq(nodes->min, 3);
    ck_assert_uint_eq(nodes->max, 7);
    const scn_swarm_entry *loss = tst_entry(&c, "network.loss");
    ck_assert_int_eq(loss->type, SCN_SWARM_RATIO);
    ck_assert_uint_eq(loss->max, 20000);   /* 0.02 in ppm */
    const scn_swarm_entry *verify = tst_entry(&c, "cluster.distro.verify_interval");
    ck_assert_int_eq(verify->type, SCN_SWARM_DURATION);
    ck_assert_uint_eq(verify->min, 2 * SIM_S);
    const scn_swarm_entry *lat = tst_entry(&c, "network.latency");
    ck_assert_int_eq(lat->kind, SCN_SWARM_CHOICE);
    ck_assert_uint_eq(lat->value_count, 4);
    ck_assert_str_eq(scn_swarm_text(lat, 1), "{dist: normal, mean: 2ms, stddev: 500us}");
    const scn_swarm_entry *kinds = tst_entry(&c, "nemesis.kinds");
    ck_assert_int_eq(kinds->kind, SCN_SWARM_SUBSET);
    ck_assert_uint_eq(kinds->value_count, 6);
    /* load(print(c)) == c, and printing again gives the same bytes. */
    char *text = tst_print(&c);
    scn_config back;
    sim_error err;
    ck_assert_msg(scn_load_string("printed", text, strlen(text), &back, &err) == SIM_OK, "%s: %s", err.where,
                  err.message);
    ck_assert(scn_config_equal(&c, &back));
    char *again = tst_print(&back);
    ck_assert_str_eq(text, again);
    /* A different block is a different config. */
    back.swarm[0].max = 6;
    ck_assert(!scn_config_equal(&c, &back));
    free(text);
    free(again);
    scn_config_deinit(&back);
    scn_config_deinit(&c);
}
END_TEST

START_TEST(test_swarm_draw_is_a_function_of_the_seed)
{
    scn_config c = tst_load(SWARM_FILE);
    scn_config a, b;
    char da[SCN_SWARM_TEXT_BYTES], db[SCN_SWARM_TEXT_BYTES];
    sim_error err;
    ck_assert_int_eq(scn_swarm_draw(&c, 7, &a, da, &err), SIM_OK);
    ck_assert_int_eq(scn_swarm_draw(&c, 7, &b, db, &err), SIM_OK);
    ck_assert(scn_config_equal(&a, &b));
    ck_assert_str_eq(da, db);
    ck_assert_uint_eq(a.swarm_count, 0);       /* the drawn config is a plain scenario */
    ck_assert_uint_eq(a.seed, 7);
    ck_assert_ptr_nonnull(strstr(da, "cluster.nodes="));
    /* The draw reads its own stream only: a key the block does not draw
     * changes nothing the block draws. */
    scn_config other;
    ck_assert_int_eq(scn_config_set(&c, "workload.services", "7", &err), SIM_OK);
    ck_assert_int_eq(scn_swarm_draw(&c, 7, &other, db, &err), SIM_OK);
    ck_assert_str_eq(da, db);
    ck_assert_uint_eq(other.workload.services, 7);
    scn_config_deinit(&other);
    scn_config_deinit(&a);
    scn_config_deinit(&b);
    scn_config_deinit(&c);
}
END_TEST

START_TEST(test_swarm_draws_stay_in_their_ranges_and_differ)
{
    scn_config c = tst_load(SWARM_FILE);
    enum { SEEDS = 60 };
    static char drawn[SEEDS][SCN_SWARM_TEXT_BYTES];
    bool nodes_seen[8] = { false };
    uint32_t kinds_seen = 0, latency_kinds = 0;
    const uint32_t allowed = (1u << SCN_FAULT_ISOLATE) | (1u << SCN_FAULT_CRASH) | (1u << SCN_FAULT_RESTART) |
                             (1u << SCN_FAULT_PAUSE) | (1u << SCN_FAULT_LINK) | (1u << SCN_FAULT_CLOCK);
    for (uint64_t s = 0; s < SEEDS; s++) {
        scn_config d;
        sim_error err;
        ck_assert_msg(scn_swarm_draw(&c, s + 1, &d, drawn[s], &err) == SIM_OK, "%s", err.message);
        ck_assert_int_eq(scn_config_validate(&d, "test", &err), SIM_OK);
        ck_assert_uint_ge(d.cluster.nodes, 3);
        ck_assert_uint_le(d.cluster.nodes, 7);
        nodes_seen[d.cluster.nodes] = true;
        ck_assert_uint_le(d.network.defaults.loss_ppm, 20000);
        ck_assert_uint_ge(d.cluster.distro.verify_interval_ns, 2 * SIM_S);
        ck_assert_uint_le(d.cluster.distro.verify_interval_ns, 10 * SIM_S);
        ck_assert_uint_eq(d.cluster.distro.verify_interval_ns % SIM_MS, 0);   /* whole ms: both bounds are */
        ck_assert_uint_ne(d.nemesis.kinds, 0);
        ck_assert_uint_eq(d.nemesis.kinds & ~allowed, 0);
        ck_assert_uint_le(d.nemesis.interval.min_ns, d.nemesis.interval.max_ns);
        kinds_seen |= d.nemesis.kinds;
        latency_kinds |= 1u << d.network.defaults.latency.base.kind;
        for (uint64_t t = 0; t < s; t++) ck_assert_str_ne(drawn[s], drawn[t]);
        scn_config_deinit(&d);
    }
    for (uint32_t n = 3; n <= 7; n++) ck_assert_msg(nodes_seen[n], "cluster.nodes %u never drawn", n);
    ck_assert_uint_eq(kinds_seen, allowed);
    ck_assert_uint_eq(latency_kinds, (1u << SIM_DIST_CONSTANT) | (1u << SIM_DIST_NORMAL) | (1u << SIM_DIST_LOGNORMAL) |
                                         (1u << SIM_DIST_UNIFORM));
    scn_config_deinit(&c);
}
END_TEST

/* A drawn config's run is the run of its effective scenario: the stored
 * YAML reproduces it. */
START_TEST(test_swarm_effective_scenario_reproduces_the_run)
{
    scn_config c = tst_load(SWARM_FILE);
    ck_assert_int_eq(scn_config_set(&c, "phases.chaos", "40s", NULL), SIM_OK);
    ck_assert_int_eq(scn_config_set(&c, "phases.quiet", "20s", NULL), SIM_OK);
    scn_config d, back;
    sim_error err;
    ck_assert_int_eq(scn_swarm_draw(&c, 3, &d, NULL, &err), SIM_OK);
    run_options opt = { .seed = 3, .trace = { .node = -1, .type = -1, .to_ns = SIM_TIME_NEVER } };
    run_result r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    ck_assert_int_eq(run_scenario(&d, &opt, &r1, &err), SIM_OK);
    ck_assert_ptr_null(strstr(r1.effective_yaml, "swarm:"));
    ck_assert_int_eq(scn_load_string("effective", r1.effective_yaml, strlen(r1.effective_yaml), &back, &err), SIM_OK);
    ck_assert(scn_config_equal(&d, &back));
    ck_assert_int_eq(run_scenario(&back, &opt, &r2, &err), SIM_OK);
    ck_assert_uint_eq(r1.row.trace_hash, r2.row.trace_hash);
    run_result_deinit(&r1);
    run_result_deinit(&r2);
    scn_config_deinit(&back);
    scn_config_deinit(&d);
    scn_config_deinit(&c);
}
END_TEST

START_TEST(test_swarm_set_pins_a_key)
{
    scn_config c = tst_load(SWARM_FILE);
    sim_error err;
    ck_assert_int_eq(scn_config_set(&c, "cluster.nodes", "4", &err), SIM_OK);
    ck_assert_uint_eq(c.swarm_count, 11);
    for (uint64_t s = 1; s <= 10; s++) {
        scn_config d;
        char drawn[SCN_SWARM_TEXT_BYTES];
        ck_assert_int_eq(scn_swarm_draw(&c, s, &d, drawn, &err), SIM_OK);
        ck_assert_uint_eq(d.cluster.nodes, 4);
        ck_assert_ptr_null(strstr(drawn, "cluster.nodes"));
        scn_config_deinit(&d);
    }
    scn_config_deinit(&c);
}
END_TEST

START_TEST(test_set_takes_flow_values)
{
    scn_config c = tst_load(SWARM_FILE);
    sim_error err;
    ck_assert_int_eq(scn_config_set(&c, "network.latency", "{dist: normal, mean: 3ms, stddev: 1ms}", &err), SIM_OK);
    ck_assert_int_eq(c.network.defaults.latency.base.kind, SIM_DIST_NORMAL);
    ck_assert_uint_eq(c.network.defaults.latency.base.a_ns, 3 * SIM_MS);
    ck_assert_int_eq(scn_config_set(&c, "nemesis.kinds", "[crash, pause]", &err), SIM_OK);
    ck_assert_uint_eq(c.nemesis.kinds, (1u << SCN_FAULT_CRASH) | (1u << SCN_FAULT_PAUSE));
    ck_assert_int_eq(scn_config_set(&c, "nemesis.kinds", "[crash, fire]", &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(err.where, SCN_SET_WHERE);
    ck_assert_ptr_nonnull(strstr(err.message, "expected one of partition"));
    scn_config_deinit(&c);
}
END_TEST

START_TEST(test_swarm_errors_name_their_place)
{
    ck_assert_str_eq(tst_load_error("  cluster.nodez: {min: 1, max: 3}\n"),
                     "s.yaml:5:3: swarm: unknown key \"cluster.nodez\" (expected a key `--set` takes, such "
                     "as cluster.nodes, network.loss, cluster.distro.verify_interval, network.latency or nemesis.kinds)");
    ck_assert_str_eq(tst_load_error("  cluster.nodes: {min: 5, max: 3}\n"),
                     "s.yaml:5:18: swarm.cluster.nodes: min 5 is greater than max 3");
    ck_assert_str_eq(tst_load_error("  network.loss: {min: 0, max: 1.5}\n"),
                     "s.yaml:5:31: swarm.network.loss.max: expected a ratio between 0 and 1, got 1.5");
    ck_assert_str_eq(tst_load_error("  network.reorder: {min: 0, max: 1}\n"),
                     "s.yaml:5:20: swarm.network.reorder: a range needs an integer, duration or ratio key; give a "
                     "list of choices instead");
    ck_assert_str_eq(tst_load_error("  cluster.nodes: {subset: [1, 2]}\n"),
                     "s.yaml:5:18: swarm.cluster.nodes: subset is for nemesis.kinds; give {min: A, max: B} or a list "
                     "of choices");
    ck_assert_str_eq(tst_load_error("  cluster.nodes: {min: 1}\n"),
                     "s.yaml:5:18: swarm.cluster.nodes: missing key \"max\"");
    ck_assert_str_eq(tst_load_error("  cluster.nodes: {min: 1, max: 2, step: 1}\n"),
                     "s.yaml:5:35: unknown key \"step\" in swarm.cluster.nodes (expected one of: min, max, subset)");
    ck_assert_str_eq(tst_load_error("  network.latency:\n    - {dist: constant, value: 1ms}\n    - {dist: normal}\n"),
                     "s.yaml:7:7: swarm.network.latency[1]: missing key \"mean\"");
    ck_assert_str_eq(tst_load_error("  nemesis.kinds: {subset: [crash, fire]}\n"),
                     "s.yaml:5:35: swarm.nemesis.kinds.subset[1]: expected one of partition, isolate, crash, restart, "
                     "pause, link, clock, got \"fire\"");
    ck_assert_str_eq(tst_load_error("  cluster.nodes: []\n"),
                     "s.yaml:5:18: swarm.cluster.nodes: expected {min: A, max: B}, a list of 1 to 64 choices, got an "
                     "empty list");
    ck_assert_str_eq(tst_load_error("  cluster.nodes: [3]\n  cluster.nodes: [4]\n"),
                     "s.yaml:6:3: duplicate key \"cluster.nodes\" in swarm");
    ck_assert_str_eq(tst_load_error("  cluster: [3]\n"),
                     "s.yaml:5:3: swarm: \"cluster\" is a section or a list; name one of its keys");
    ck_assert_str_eq(tst_load_error("  seed: [1, 2]\n"),
                     "s.yaml:5:3: swarm: \"seed\" cannot be drawn: a swarm draws a configuration of one named "
                     "scenario per seed");
    /* Every value can load, but no combination is valid: refused at load
     * time, not as an ERROR of every run. */
    const char *never = tst_load_error("  nemesis.interval.min: {min: 40s, max: 50s}\n");
    ck_assert_msg(strncmp(never, "s.yaml:5:3: swarm: no valid configuration for seed 1 in 100 draws; the last: "
                                 "nemesis.interval: expected 0 < min <= max", 200) == 0,
                  "%s", never);
}
END_TEST

/* A combination the checks refuse is drawn again, from the same stream. */
START_TEST(test_swarm_redraws_refused_combinations)
{
    scn_config c;
    sim_error err;
    ck_assert_int_eq(tst_load_swarm("  nemesis.interval.min: {min: 10s, max: 40s}\n"
                                    "  nemesis.interval.max: {min: 20s, max: 40s}\n",
                                    &c, &err),
                     SIM_OK);
    for (uint64_t s = 1; s <= 40; s++) {
        scn_config d, e;
        ck_assert_int_eq(scn_swarm_draw(&c, s, &d, NULL, &err), SIM_OK);
        ck_assert_int_eq(scn_swarm_draw(&c, s, &e, NULL, &err), SIM_OK);
        ck_assert_uint_le(d.nemesis.interval.min_ns, d.nemesis.interval.max_ns);
        ck_assert(scn_config_equal(&d, &e));
        scn_config_deinit(&d);
        scn_config_deinit(&e);
    }
    scn_config_deinit(&c);
}
END_TEST

/* A one-node cluster may draw a link nemesis (swarm-explore's block can
 * draw cluster.nodes down to its min): there is no link to degrade, and
 * the nemesis draws no fault rather than a peer from an empty range. */
START_TEST(test_one_node_link_nemesis)
{
    const char *text = "name: one\nduration: 2m\ncluster: {nodes: 1}\n"
                       "nemesis: {kinds: [link, pause], max_down: 1, interval: {min: 5s, max: 10s}}\n";
    scn_config c;
    sim_error err;
    ck_assert_int_eq(scn_load_string("one.yaml", text, strlen(text), &c, &err), SIM_OK);
    run_options opt = { .seed = 1, .trace = { .node = -1, .type = -1, .to_ns = SIM_TIME_NEVER } };
    run_result r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(run_scenario(&c, &opt, &r, &err), SIM_OK);
    ck_assert_str_ne(r.verdict, "error");
    size_t pauses = 0;
    for (size_t i = 0; i < r.row.faults_count; i++) {
        ck_assert_str_ne(r.row.faults[i].kind, "link");
        pauses += strcmp(r.row.faults[i].kind, "pause") == 0;
    }
    ck_assert_uint_ge(pauses, 1);   /* the nemesis did act: max_down 1 lets the only node be faulty */
    run_result_deinit(&r);
    scn_config_deinit(&c);
}
END_TEST

/* The nemesis's faults, reported as scripted ones, are what the run did:
 * one report (two for an isolate or a clock fault: the end is a fault of
 * its own) per nemesis fault, at its start. */
static void tst_collect(void *ctx, const scn_fault *f)
{
    scn_fault *out = ctx;
    for (size_t i = 0; i < 64; i++) {
        if (out[i].kind == SCN_FAULT_KINDS) {
            out[i] = *f;
            return;
        }
    }
}

START_TEST(test_nemesis_faults_reported_as_scripted)
{
    const char *text = "name: n\nduration: 3m\ncluster: {nodes: 4}\n"
                       "nemesis: {kinds: [isolate, crash, pause, link, clock], interval: {min: 10s, max: 20s}}\n";
    scn_config c;
    sim_error err;
    ck_assert_int_eq(scn_load_string("n.yaml", text, strlen(text), &c, &err), SIM_OK);
    scn_fault got[64];
    for (size_t i = 0; i < 64; i++) got[i].kind = SCN_FAULT_KINDS;
    run_options opt = { .seed = 4, .trace = { .node = -1, .type = -1, .to_ns = SIM_TIME_NEVER },
                        .nemesis_fault = tst_collect, .nemesis_ctx = got };
    run_options plain = { .seed = 4, .trace = { .node = -1, .type = -1, .to_ns = SIM_TIME_NEVER } };
    run_result r, p;
    memset(&r, 0, sizeof r);
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(run_scenario(&c, &opt, &r, &err), SIM_OK);
    ck_assert_int_eq(run_scenario(&c, &plain, &p, &err), SIM_OK);
    ck_assert_uint_eq(r.row.trace_hash, p.row.trace_hash);   /* watching changes nothing */
    size_t k = 0, starts = 0;
    for (size_t i = 0; i < r.row.faults_count; i++) {
        const rpt_fault *f = &r.row.faults[i];
        if (strcmp(f->kind, "heal") == 0) continue;   /* the end of the run's fault window */
        /* The report for this fault: the next one starting at its start. */
        while (k < 64 && got[k].kind != SCN_FAULT_KINDS && got[k].at_ns != f->start_ns) k++;
        ck_assert_msg(k < 64 && got[k].kind != SCN_FAULT_KINDS, "no report for fault %zu (%s)", i, f->kind);
        const scn_fault *g = &got[k];
        if (strcmp(f->kind, "crash") == 0) {
            ck_assert_int_eq(g->kind, SCN_FAULT_RESTART);
            ck_assert_uint_eq(g->duration_ns, f->end_ns - f->start_ns);
        } else if (strcmp(f->kind, "pause") == 0 || strcmp(f->kind, "link") == 0) {
            ck_assert_int_eq(g->kind, strcmp(f->kind, "pause") == 0 ? SCN_FAULT_PAUSE : SCN_FAULT_LINK);
            ck_assert_uint_eq(g->duration_ns, f->end_ns - f->start_ns);
        } else {
            ck_assert_int_eq(g->kind, strcmp(f->kind, "isolate") == 0 ? SCN_FAULT_ISOLATE : SCN_FAULT_CLOCK);
            ck_assert(k + 1 < 64 && got[k + 1].at_ns == f->end_ns);   /* its end, as a fault */
            ck_assert_int_eq(got[k + 1].kind, strcmp(f->kind, "isolate") == 0 ? SCN_FAULT_HEAL_NODE : SCN_FAULT_CLOCK);
        }
        starts++;
        k++;
    }
    ck_assert_uint_ge(starts, 5);
    run_result_deinit(&r);
    run_result_deinit(&p);
    scn_config_deinit(&c);
}
END_TEST

static Suite *swarm_suite(void)
{
    Suite *s = suite_create("scn_swarm");
    TCase *load = tcase_create("load");
    tcase_add_test(load, test_swarm_file_loads_and_prints_back);
    tcase_add_test(load, test_swarm_errors_name_their_place);
    tcase_add_test(load, test_set_takes_flow_values);
    suite_add_tcase(s, load);
    TCase *draw = tcase_create("draw");
    tcase_set_timeout(draw, 120);
    tcase_add_test(draw, test_swarm_draw_is_a_function_of_the_seed);
    tcase_add_test(draw, test_swarm_draws_stay_in_their_ranges_and_differ);
    tcase_add_test(draw, test_swarm_effective_scenario_reproduces_the_run);
    tcase_add_test(draw, test_swarm_set_pins_a_key);
    tcase_add_test(draw, test_swarm_redraws_refused_combinations);
    tcase_add_test(draw, test_one_node_link_nemesis);
    tcase_add_test(draw, test_nemesis_faults_reported_as_scripted);
    suite_add_tcase(s, draw);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(swarm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
