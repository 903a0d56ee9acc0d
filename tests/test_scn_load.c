/* test_scn_load.c: the scenario loader, its printer and scn_config_set.
 *
 * Golden files: every tests/scenarios-bad/NAME.yaml must fail with
 * SIM_ERR_SCENARIO and the exact line in NAME.expected; every
 * .yaml file in tests/scenarios-good must load, print, and load back to an equal
 * config whose print is byte-identical.  Directories are read with opendir
 * and sorted, so the test order never depends on the file system.  Run from
 * the repository root (ctest does).  The 1 MiB file is generated under /tmp
 * at test time, never checked in. */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_validate.h"
#include "distro_cluster.h"
#include "run_scenario.h"
#include "scn_limits.h"
#include "scn_load.h"
#include "sim_duration.h"

#define BAD_DIR "tests/scenarios-bad"
#define GOOD_DIR "tests/scenarios-good"
#define BAD_FILES_MIN 40u

/* --- Helpers ------------------------------------------------------------------- */

typedef struct tst_names {
    char **names;   /* owned, sorted with strcmp (names are unique: a total order) */
    size_t count;
} tst_names;

/* Directory listings, filled once in main before the suites are built:
 * loop tests index into them. */
static tst_names tst_bad_files;
static tst_names tst_good_files;

static int tst_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in `dir` ending in `suffix`, sorted. */
static tst_names tst_list(const char *dir, const char *suffix)
{
    tst_names list = { NULL, 0 };
    size_t cap = 0, slen = strlen(suffix);
    DIR *d = opendir(dir);
    if (d == NULL) return list;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        size_t len = strlen(ent->d_name);
        if (len <= slen || strcmp(ent->d_name + len - slen, suffix) != 0) continue;
        if (list.count == cap) {
            cap = cap == 0 ? 64 : cap * 2;
            list.names = realloc(list.names, cap * sizeof *list.names);
            if (list.names == NULL) abort();
        }
        list.names[list.count] = malloc(len + 1);
        if (list.names[list.count] == NULL) abort();
        memcpy(list.names[list.count], ent->d_name, len + 1);
        list.count++;
    }
    closedir(d);
    if (list.count > 0) qsort(list.names, list.count, sizeof *list.names, tst_cmp_names);
    return list;
}

static void tst_names_free(tst_names *list)
{
    for (size_t i = 0; i < list->count; i++) free(list->names[i]);
    free(list->names);
    list->names = NULL;
    list->count = 0;
}

/* Whole file as a NUL-terminated string (returns owned; NULL if missing). */
static char *tst_read(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    if (buf == NULL) abort();
    buf[len] = '\0';
    if (len_out != NULL) *len_out = len;
    return buf;
}

/* The effective scenario as text (returns owned). */
static char *tst_print(const scn_config *config, size_t *len)
{
    char *buf = NULL;
    FILE *mem = open_memstream(&buf, len);
    ck_assert_ptr_nonnull(mem);
    ck_assert_int_eq(scn_config_print(config, mem), SIM_OK);
    fclose(mem);
    return buf;
}

static char tst_error_line[1024];

/* "where: message" of a failed load, in a static buffer. */
static const char *tst_error(const sim_error *err)
{
    snprintf(tst_error_line, sizeof tst_error_line, "%s: %s", err->where, err->message);
    return tst_error_line;
}

static void tst_load_ok(const char *text, scn_config *out)
{
    sim_error err;
    memset(&err, 0, sizeof err);
    sim_status st = scn_load_string("inline.yaml", text, strlen(text), out, &err);
    if (st != SIM_OK) ck_abort_msg("unexpected error: %s", tst_error(&err));
}

/* Loads `text` and expects SIM_ERR_SCENARIO with exactly `expected`. */
static void tst_load_fails(const char *text, const char *expected)
{
    scn_config config;
    sim_error err;
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(scn_load_string("inline.yaml", text, strlen(text), &config, &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), expected);
    ck_assert_ptr_null(config.faults);   /* zeroed on failure */
    ck_assert_uint_eq(config.cluster.nodes, 0);
    scn_config_deinit(&config);          /* harmless */
}

static void tst_set_ok(scn_config *config, const char *key, const char *value)
{
    sim_error err;
    memset(&err, 0, sizeof err);
    if (scn_config_set(config, key, value, &err) != SIM_OK) {
        ck_abort_msg("set %s=%s: %s", key, value, tst_error(&err));
    }
}

/* Expects the set to fail with `expected` and leave the config unchanged. */
static void tst_set_fails(scn_config *config, const char *key, const char *value, const char *expected)
{
    scn_config before;
    sim_error err;
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(scn_config_copy(&before, config, &err), SIM_OK);
    ck_assert_int_eq(scn_config_set(config, key, value, &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), expected);
    ck_assert(scn_config_equal(&before, config));
    scn_config_deinit(&before);
}

/* --- Golden bad files ---------------------------------------------------------- */

START_TEST(test_bad_file)
{
    const char *name = tst_bad_files.names[_i];
    char path[512], expected_path[512];
    snprintf(path, sizeof path, "%s/%s", BAD_DIR, name);
    snprintf(expected_path, sizeof expected_path, "%s/%.*s.expected", BAD_DIR, (int)(strlen(name) - 5), name);
    char *expected = tst_read(expected_path, NULL);
    if (expected == NULL) ck_abort_msg("%s has no %s", path, expected_path);
    size_t elen = strlen(expected);
    while (elen > 0 && (expected[elen - 1] == '\n' || expected[elen - 1] == '\r')) expected[--elen] = '\0';
    ck_assert_ptr_null(strchr(expected, '\n'));   /* one line */

    scn_config config;
    sim_error err;
    memset(&err, 0, sizeof err);
    sim_status st = scn_load_file(path, &config, &err);
    ck_assert_str_eq(sim_status_name(st), "SIM_ERR_SCENARIO");
    ck_assert_str_eq(tst_error(&err), expected);
    ck_assert_ptr_null(config.faults);
    ck_assert_ptr_null(config.description);
    ck_assert_ptr_null(config.network.links);
    scn_config_deinit(&config);
    free(expected);
}
END_TEST

START_TEST(test_bad_files_complete)
{
    ck_assert_uint_ge(tst_bad_files.count, BAD_FILES_MIN);
    tst_names expected = tst_list(BAD_DIR, ".expected");
    ck_assert_uint_eq(expected.count, tst_bad_files.count);   /* no orphan golden files */
    for (size_t i = 0; i < expected.count; i++) {
        size_t len = strlen(expected.names[i]) - strlen(".expected");
        ck_assert_int_eq(strncmp(expected.names[i], tst_bad_files.names[i], len), 0);
        ck_assert_str_eq(tst_bad_files.names[i] + len, ".yaml");
    }
    tst_names_free(&expected);
}
END_TEST

/* --- Good files and the print/reload round trip ----------------------------------- */

static void tst_round_trip(const scn_config *config)
{
    size_t len = 0, len2 = 0;
    char *text = tst_print(config, &len);
    scn_config again;
    sim_error err;
    memset(&err, 0, sizeof err);
    sim_status st = scn_load_string("printed.yaml", text, len, &again, &err);
    if (st != SIM_OK) ck_abort_msg("printed scenario does not load: %s\n%s", tst_error(&err), text);
    ck_assert(scn_config_equal(config, &again));
    char *text2 = tst_print(&again, &len2);
    ck_assert_str_eq(text, text2);   /* printing is a fixed point */
    scn_config_deinit(&again);
    free(text);
    free(text2);
}

START_TEST(test_good_file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", GOOD_DIR, tst_good_files.names[_i]);
    scn_config config, copy;
    sim_error err;
    memset(&err, 0, sizeof err);
    sim_status st = scn_load_file(path, &config, &err);
    if (st != SIM_OK) ck_abort_msg("%s", tst_error(&err));
    ck_assert_int_eq(scn_config_validate(&config, path, &err), SIM_OK);
    ck_assert_int_eq(scn_config_copy(&copy, &config, &err), SIM_OK);
    ck_assert(scn_config_equal(&config, &copy));
    tst_round_trip(&config);
    scn_config_deinit(&copy);
    scn_config_deinit(&config);
}
END_TEST

START_TEST(test_good_files_present)
{
    ck_assert_uint_ge(tst_good_files.count, 4);
    bool every_key = false;
    for (size_t i = 0; i < tst_good_files.count; i++) every_key |= strcmp(tst_good_files.names[i], "every-key.yaml") == 0;
    ck_assert(every_key);
}
END_TEST

/* --- Defaults -------------------------------------------------------------------- */

START_TEST(test_defaults)
{
    scn_config c;
    tst_load_ok("name: x\n", &c);
    ck_assert_str_eq(c.name, "x");
    ck_assert_ptr_null(c.description);
    ck_assert_ptr_null(c.incident);
    ck_assert_uint_eq(c.seed, 1);
    ck_assert_uint_eq(c.duration_ns, 300 * SIM_S);
    ck_assert_uint_eq(c.cluster.nodes, 3);
    ck_assert_str_eq(c.cluster.addresses[0], "10.0.0.1:8848");
    ck_assert_str_eq(c.cluster.addresses[2], "10.0.0.3:8848");
    ck_assert_str_eq(c.cluster.addresses[3], "");
    ck_assert_str_eq(c.cluster.version, "1.4.2");
    distro_config d = distro_config_defaults();
    size_t count = 0;
    const scn_distro_field *fields = scn_distro_fields(&count);
    ck_assert_uint_eq(count, 64);   /* the table in scn_config.c: cpu_cores, the HTTP clients and JRaft included;
                                     * not client_beat_interval, which is workload.beat_interval; the 2.x
                                     * v2.* (15) and 3.0.3 grpc.* (6) keys */
    for (size_t i = 0; i < count; i++) {
        const char *a = (const char *)&c.cluster.distro + fields[i].offset;
        const char *b = (const char *)&d + fields[i].offset;
        size_t size = fields[i].type == SCN_DISTRO_DURATION ? sizeof(sim_time_ns)
                      : fields[i].type == SCN_DISTRO_BOOL   ? sizeof(bool)
                                                             : sizeof(uint32_t);
        ck_assert_msg(memcmp(a, b, size) == 0, "distro %s differs from distro_config_defaults()", fields[i].key);
    }
    ck_assert_uint_eq(c.cluster.distro.verify_interval_ns, 5 * SIM_S);
    const sim_link_params *n = &c.network.defaults;
    ck_assert_int_eq(n->latency.base.kind, SIM_DIST_CONSTANT);
    ck_assert_uint_eq(n->latency.base.a_ns, SIM_MS);
    ck_assert_uint_eq(n->latency.tail_ppm, 0);
    ck_assert_uint_eq(n->loss_ppm, 0);
    ck_assert_uint_eq(n->duplicate_ppm, 0);
    ck_assert(!n->reorder);
    ck_assert_uint_eq(n->bandwidth_bytes_per_s, 0);
    ck_assert_uint_eq(c.network.link_count, 0);
    ck_assert_int_eq(c.network.transport, SCN_TRANSPORT_TCP);
    ck_assert_uint_eq(c.network.tcp.syn_retries, 6);
    ck_assert_uint_eq(c.network.tcp.syn_rto_ns, SIM_S);
    ck_assert_uint_eq(c.network.tcp.rto_min_ns, 200 * SIM_MS);
    ck_assert_uint_eq(c.network.tcp.retries2, 15);
    const scn_workload *w = &c.workload;
    ck_assert_uint_eq(w->services, 10);
    ck_assert_uint_eq(w->instances_per_service, 2);
    ck_assert_str_eq(w->namespace_id, "public");
    ck_assert_str_eq(w->group, "DEFAULT_GROUP");
    ck_assert_str_eq(w->service_prefix, "svc");
    ck_assert_uint_eq(w->beat_interval_ns, 5 * SIM_S);
    ck_assert_uint_eq(w->register_spread_ns, 10 * SIM_S);
    ck_assert_uint_eq(w->start_at_ns, 0);
    ck_assert_uint_eq(w->metadata_count, 0);
    ck_assert_uint_eq(w->churn.register_per_min_milli + w->churn.deregister_per_min_milli + w->churn.crash_per_min_milli, 0);
    /* Reads are off unless asked for; their bounds are strict like lost's. */
    ck_assert_uint_eq(w->reads.services, 0);
    ck_assert_uint_eq(w->reads.queriers, 0);
    ck_assert_uint_eq(w->reads.subscribers, 0);
    ck_assert_uint_eq(w->reads.query_interval_ns, SIM_S);
    ck_assert(!w->reads.push_empty_protection);
    ck_assert_uint_eq(w->reads.start_at_ns, 0);
    ck_assert_uint_eq(scn_reads_readers(&c), 0);
    ck_assert(c.expect.client_empty_max.checked);
    ck_assert_uint_eq(c.expect.client_empty_max.max_ns, 0);
    ck_assert(c.expect.client_short_max.checked);
    ck_assert(c.expect.client_stale_max.checked);
    ck_assert_uint_eq(c.fault_count, 0);
    ck_assert(!c.nemesis.enabled);
    ck_assert_uint_eq(c.nemesis.kinds, SCN_NEMESIS_KINDS_ALLOWED);
    ck_assert_uint_eq(c.nemesis.interval.min_ns, 10 * SIM_S);
    ck_assert_uint_eq(c.nemesis.interval.max_ns, 30 * SIM_S);
    ck_assert_uint_eq(c.nemesis.duration.min_ns, 5 * SIM_S);
    ck_assert_uint_eq(c.nemesis.duration.max_ns, 20 * SIM_S);
    ck_assert_uint_eq(c.nemesis.max_down, 1);
    ck_assert(!c.phases.enabled);
    ck_assert(c.expect.converge_within.checked);
    ck_assert_uint_eq(c.expect.converge_within.max_ns, 60 * SIM_S);
    ck_assert(c.expect.lost_max.checked);
    ck_assert_uint_eq(c.expect.lost_max.max_ns, 0);
    ck_assert(c.expect.zombie_max.checked);               /* strict: no zombie past its allowance */
    ck_assert_uint_eq(c.expect.zombie_max.max_ns, 0);
    ck_assert(!c.expect.lost_p99.checked && !c.expect.lost_count.checked);   /* only the max by default */
    ck_assert(!c.expect.zombie_p99.checked && !c.expect.zombie_count.checked);
    ck_assert(!c.expect.ownership_disagreement_max.checked);
    ck_assert_uint_eq(c.expect.counter_count, 0);
    /* The allowances derive from the protocol's timeouts: one change sync
     * (1 s + 1 s + 100 ms), two beats (2 x 5 s) and 1 s of slack; the beat
     * check's deletion (30 s + 5 s), one change sync and the slack. */
    ck_assert_uint_eq(c.expect.lag_allowance_ns, SCN_ALLOWANCE_DERIVED);
    ck_assert_uint_eq(scn_lag_allowance(&c), 13100 * SIM_MS);
    ck_assert_uint_eq(scn_zombie_allowance(&c), 38100 * SIM_MS);
    tst_round_trip(&c);
    scn_config_deinit(&c);
}
END_TEST

/* cluster.version picks the model: 1.4.2 by default, 2.5.1 or 3.0.3 from
 * the file or a sweep's --set; anything else is refused with its place. */
START_TEST(test_cluster_version)
{
    scn_config c;
    tst_load_ok("name: x\n", &c);
    ck_assert_int_eq(scn_cluster_version(&c), DISTRO_VERSION_1_4_2);
    scn_config_deinit(&c);
    tst_load_ok("name: x\ncluster:\n  version: \"2.5.1\"\n", &c);
    ck_assert_str_eq(c.cluster.version, "2.5.1");
    ck_assert_int_eq(scn_cluster_version(&c), DISTRO_VERSION_2_5_1);
    tst_set_ok(&c, "cluster.version", "1.4.2");
    ck_assert_int_eq(scn_cluster_version(&c), DISTRO_VERSION_1_4_2);
    tst_set_ok(&c, "cluster.version", "3.0.3");
    ck_assert_int_eq(scn_cluster_version(&c), DISTRO_VERSION_3_0_3);
    tst_set_ok(&c, "cluster.version", "2.5.1");
    ck_assert_int_eq(scn_cluster_version(&c), DISTRO_VERSION_2_5_1);
    scn_config_deinit(&c);
    tst_load_ok("name: x\ncluster:\n  version: \"3.0.3\"\n", &c);
    ck_assert_int_eq(scn_cluster_version(&c), DISTRO_VERSION_3_0_3);
    tst_round_trip(&c);
    scn_config_deinit(&c);
    tst_load_fails("name: x\ncluster:\n  version: 2.5\n",
                   "inline.yaml:3:12: cluster.version: expected \"1.4.2\", \"2.5.1\" or \"3.0.3\", got 2.5");
}
END_TEST

/* The 2.x settings: cluster.distro.v2.* on 2.5.1 and 3.0.3, grpc.* on
 * 3.0.3 only, 1.4.2-only keys refused on a 2.x cluster and the reverse,
 * from the file (at the key) and from --set (a value that differs from
 * the default); printed for the cluster's own line only. */
START_TEST(test_distro_lines)
{
    scn_config c;
    tst_load_ok("name: x\ncluster:\n  version: \"3.0.3\"\n  distro:\n    v2: {sync_delay: 2s, client_expired: 60s}\n"
                "    grpc: {retry_times: 5, health_timeout: 1s}\n",
                &c);
    ck_assert_uint_eq(c.cluster.distro.v2.sync_delay_ns, 2 * SIM_S);
    ck_assert_uint_eq(c.cluster.distro.v2.client_expired_ns, 60 * SIM_S);
    ck_assert_uint_eq(c.cluster.distro.v2.rpc_retry_times, 5);
    ck_assert_uint_eq(c.cluster.distro.v2.rpc_health_timeout_ns, SIM_S);
    tst_round_trip(&c);
    tst_set_ok(&c, "cluster.distro.v2.verify_interval", "7s");
    ck_assert_uint_eq(c.cluster.distro.v2.verify_interval_ns, 7 * SIM_S);
    tst_set_ok(&c, "cluster.distro.grpc.connect_keep_alive", "9s");
    ck_assert_uint_eq(c.cluster.distro.v2.rpc_keepalive_ns, 9 * SIM_S);
    sim_error err;
    ck_assert_int_eq(scn_config_set(&c, "cluster.distro.sync_batch_delay", "3s", &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), "command line: cluster.distro.sync_batch_delay: a Nacos 1.4.2 setting, which a 3.0.3 "
                                      "cluster does not read (its settings are cluster.distro.v2.* and "
                                      "cluster.distro.grpc.*)");
    /* Changing the version under a grpc setting is refused too. */
    ck_assert_int_eq(scn_config_set(&c, "cluster.version", "2.5.1", &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), "command line: cluster.distro.grpc.retry_times: a Nacos 3.0.3 setting "
                                      "(nacos.remote.client.grpc.*): 2.5.1 hard-codes its cluster gRPC client");
    scn_config_deinit(&c);
    tst_load_fails("name: x\ncluster:\n  version: \"2.5.1\"\n  distro: {grpc: {timeout: 3s}}\n",
                   "inline.yaml:4:28: cluster.distro.grpc.timeout: a Nacos 3.0.3 setting (nacos.remote.client.grpc.*): "
                   "2.5.1 hard-codes its cluster gRPC client");
    tst_load_fails("name: x\ncluster:\n  distro: {v2: {sync_delay: 1s}}\n",
                   "inline.yaml:3:29: cluster.distro.v2.sync_delay: a Nacos 2.x setting (2.5.1 and 3.0.3), which a "
                   "1.4.2 cluster does not read");
    /* A 1.4.2-only key is refused on a 2.x cluster even at its default. */
    tst_load_fails("name: x\ncluster:\n  version: \"3.0.3\"\n  distro: {verify_interval: 5s}\n",
                   "inline.yaml:4:29: cluster.distro.verify_interval: a Nacos 1.4.2 setting, which a 3.0.3 cluster "
                   "does not read (its settings are cluster.distro.v2.* and cluster.distro.grpc.*)");
    tst_load_ok("name: x\ncluster:\n  version: \"2.5.1\"\n  distro: {task_tick: 100ms, v2: {verify_interval: 3s}}\n",
                &c);
    ck_assert_uint_eq(c.cluster.distro.v2.verify_interval_ns, 3 * SIM_S);
    ck_assert_uint_eq(c.cluster.distro.verify_interval_ns, 5 * SIM_S);   /* 1.4.2's, untouched */
    tst_round_trip(&c);
    scn_config_deinit(&c);
}
END_TEST

/* 3.0.3's identity and per-node settings: defaults, round trip, the
 * model's ids (equal key and value, equal id; blank, 0), refusals. */
START_TEST(test_identity_settings)
{
    scn_config c;
    tst_load_ok("name: x\ncluster:\n  nodes: 4\n  version: \"3.0.3\"\n  node_settings:\n"
                "    - {node: 1, identity: {key: \"\", value: \"\"}}\n"
                "    - {node: 2, identity: {key: serverIdentity, value: other}, version: \"2.5.1\"}\n",
                &c);
    ck_assert_str_eq(c.cluster.identity.key, "serverIdentity");
    ck_assert_str_eq(c.cluster.identity.value, "security");
    ck_assert(c.cluster.node_identity_set[1]);
    ck_assert_str_eq(c.cluster.node_identity[1].key, "");
    ck_assert_str_eq(c.cluster.node_version[2], "2.5.1");
    tst_round_trip(&c);
    distro3_config v3 = distro_config_defaults().v3;
    scn_cluster_node_settings(&c, &v3);
    ck_assert_uint_eq(v3.identity[0], 1);
    ck_assert_uint_eq(v3.identity[1], 0);   /* blank */
    ck_assert_uint_eq(v3.identity[2], 3);   /* its own */
    ck_assert_uint_eq(v3.identity[3], 1);   /* node 0's */
    ck_assert_uint_eq(v3.node_version[0], 0);
    ck_assert_uint_eq(v3.node_version[2], DISTRO_VERSION_2_5_1 + 1);
    ck_assert_uint_eq(v3.node_upgrade[2], 0);
    scn_config_deinit(&c);
    tst_load_ok("name: x\ncluster:\n  version: \"3.0.3\"\n  node_settings: [{node: 1, version: \"2.5.1\", upgrade_to: \"3.0.3\"}]\n",
                &c);
    ck_assert_str_eq(c.cluster.node_upgrade[1], "3.0.3");
    tst_round_trip(&c);
    scn_cluster_node_settings(&c, &v3);
    ck_assert_uint_eq(v3.node_upgrade[1], DISTRO_VERSION_3_0_3 + 1);
    scn_config_deinit(&c);
    tst_load_fails("name: x\ncluster:\n  version: \"3.0.3\"\n  node_settings: [{node: 1, version: \"3.0.3\", upgrade_to: \"3.0.3\"}]\n",
                   "inline.yaml:4:59: cluster.node_settings[0].upgrade_to: expected \"3.0.3\", on a node whose version is "
                   "\"2.5.1\" (an upgrade from 2.5.1 to 3.0.3 at the node's first restart)");
    tst_load_fails("name: x\ncluster:\n  version: \"2.5.1\"\n  identity: {key: a, value: b}\n",
                   "inline.yaml:4:13: cluster.identity: a Nacos 3.0.3 setting; a 2.5.1 cluster has no inner-API "
                   "identity check");
    tst_load_fails("name: x\ncluster:\n  version: \"3.0.3\"\n  node_settings: [{node: 0, version: \"1.4.2\"}]\n",
                   "inline.yaml:4:38: cluster.node_settings[0].version: expected \"2.5.1\" or \"3.0.3\" (a 1.4.2 "
                   "server cannot join a 2.x cluster), got \"1.4.2\"");
    tst_load_fails("name: x\ncluster:\n  version: \"3.0.3\"\n  node_settings: [{node: 3, version: \"2.5.1\"}]\n",
                   "inline.yaml:4:26: cluster.node_settings[0].node: expected a node index between 0 and 2, got 3");
}
END_TEST

START_TEST(test_defaults_function)
{
    scn_config a, b;
    scn_config_defaults(&a);
    scn_config_defaults(&b);
    ck_assert(scn_config_equal(&a, &b));
    sim_error err;
    /* Defaults alone lack a name: not a valid scenario. */
    ck_assert_int_eq(scn_config_validate(&a, "defaults", &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(err.where, "defaults");
    snprintf(a.name, sizeof a.name, "ok");
    ck_assert_int_eq(scn_config_validate(&a, "defaults", &err), SIM_OK);
    ck_assert(!scn_config_equal(&a, &b));
    scn_config_deinit(&a);
    scn_config_deinit(&a);   /* twice is fine */
    scn_config_deinit(NULL);
    scn_config_deinit(&b);
}
END_TEST

START_TEST(test_nemesis_max_down_default_follows_nodes)
{
    scn_config c;
    tst_load_ok("name: x\ncluster: {nodes: 7}\nnemesis: {kinds: [crash]}\n", &c);
    ck_assert(c.nemesis.enabled);
    ck_assert_uint_eq(c.nemesis.max_down, 3);
    ck_assert_uint_eq(c.nemesis.kinds, 1u << SCN_FAULT_CRASH);
    scn_config_deinit(&c);
    tst_load_ok("name: x\ncluster: {nodes: 1}\n", &c);
    ck_assert_uint_eq(c.nemesis.max_down, 0);
    scn_config_deinit(&c);
}
END_TEST

/* --- The every-key scenario, value by value --------------------------------------- */

START_TEST(test_every_key_values)
{
    scn_config c;
    sim_error err;
    if (scn_load_file(GOOD_DIR "/every-key.yaml", &c, &err) != SIM_OK) ck_abort_msg("%s", tst_error(&err));
    ck_assert_str_eq(c.name, "every-key");
    ck_assert_str_eq(c.incident, "S21 alibaba/nacos#4624: partition longer than the heartbeat timeout");
    ck_assert_uint_eq(c.tag_count, 2);
    ck_assert_str_eq(c.tags[0], "every-key");
    ck_assert_str_eq(c.tags[1], "schema_2");
    ck_assert_uint_eq(c.seed, 42);
    ck_assert_uint_eq(c.duration_ns, 600 * SIM_S);
    ck_assert_uint_eq(c.cluster.nodes, 5);
    ck_assert_str_eq(c.cluster.addresses[4], "192.168.1.14:9848");
    const distro_config *d = &c.cluster.distro;
    ck_assert_uint_eq(d->task_tick_ns, 50 * SIM_MS);
    ck_assert_uint_eq(d->member_report_interval_ns, 1500 * SIM_MS);
    ck_assert_uint_eq(d->batch_sync_key_count, 500);
    ck_assert_uint_eq(d->member_fail_access_cnt, 5);
    ck_assert_uint_eq(d->cpu_cores, 6);
    ck_assert_uint_eq(d->health_sync_initial_ns, 0);
    ck_assert(d->data_warmup);
    ck_assert(!d->expire_instance);
    ck_assert(d->verify_guard_racy);
    ck_assert(!d->raft_gate);
    ck_assert_uint_eq(d->raft_election_delay_ns, 7 * SIM_S);
    ck_assert(!d->shortcuts);
    ck_assert(!d->merged_beats);
    ck_assert(!d->members_start_down);

    const sim_link_params *n = &c.network.defaults;
    ck_assert_int_eq(n->latency.base.kind, SIM_DIST_UNIFORM);
    ck_assert_uint_eq(n->latency.base.a_ns, SIM_MS);
    ck_assert_uint_eq(n->latency.base.b_ns, 5 * SIM_MS);
    ck_assert_uint_eq(n->latency.tail_ppm, 10000);
    ck_assert_int_eq(n->latency.tail.kind, SIM_DIST_NORMAL);
    ck_assert_uint_eq(n->latency.tail.a_ns, 200 * SIM_MS);
    ck_assert_uint_eq(n->latency.tail.b_ns, 50 * SIM_MS);
    ck_assert_uint_eq(n->loss_ppm, 1000);
    ck_assert_uint_eq(n->duplicate_ppm, 500);
    ck_assert(n->reorder);
    ck_assert_uint_eq(n->bandwidth_bytes_per_s, 100000000);

    ck_assert_uint_eq(c.network.link_count, 4);
    const scn_link_override *l = c.network.links;
    ck_assert_uint_eq(l[0].from, 0);
    ck_assert_uint_eq(l[0].to, 1);
    ck_assert_uint_eq(l[0].fields, SCN_LINK_LATENCY | SCN_LINK_LOSS);
    ck_assert_uint_eq(l[0].params.latency.base.a_ns, 50 * SIM_MS);
    ck_assert_uint_eq(l[0].params.loss_ppm, 100000);
    ck_assert_uint_eq(l[0].params.duplicate_ppm, 500);   /* inherited from the network */
    ck_assert(l[0].params.reorder);
    ck_assert_int_eq(l[1].params.latency.base.kind, SIM_DIST_LOGNORMAL);
    ck_assert_uint_eq(l[1].params.latency.base.sigma_milli, 500);
    ck_assert_int_eq(l[2].params.latency.base.kind, SIM_DIST_EXPONENTIAL);
    ck_assert_uint_eq(l[2].params.bandwidth_bytes_per_s, 512 * 1024);
    ck_assert(!l[2].params.reorder);
    ck_assert_uint_eq(l[2].fields, SCN_LINK_LATENCY | SCN_LINK_DUPLICATE | SCN_LINK_REORDER | SCN_LINK_BANDWIDTH);
    ck_assert_int_eq(l[3].params.latency.base.kind, SIM_DIST_CONSTANT);

    const scn_workload *w = &c.workload;
    ck_assert_str_eq(w->namespace_id, "dev-ns");
    ck_assert_str_eq(w->group, "ORDER_GROUP");
    ck_assert_str_eq(w->service_prefix, "order");
    ck_assert_uint_eq(w->metadata_count, 2);
    ck_assert_str_eq(w->metadata[1].key, "zone");
    ck_assert_str_eq(w->metadata[1].value, "cn-hangzhou-b");
    ck_assert_uint_eq(w->start_at_ns, 5 * SIM_S);
    ck_assert_uint_eq(w->churn.register_per_min_milli, 1500);
    ck_assert_uint_eq(w->churn.deregister_per_min_milli, 250);
    ck_assert_uint_eq(w->churn.crash_per_min_milli, 2000);
    ck_assert_uint_eq(w->reads.services, 50);
    ck_assert_uint_eq(w->reads.queriers, 1);
    ck_assert_uint_eq(w->reads.query_interval_ns, 2 * SIM_S);
    ck_assert_uint_eq(w->reads.subscribers, 1);
    ck_assert(w->reads.push_empty_protection);
    ck_assert_uint_eq(w->reads.start_at_ns, 20 * SIM_S);
    ck_assert_uint_eq(scn_reads_services(&c), 50);
    ck_assert_uint_eq(scn_reads_readers(&c), 100);
    ck_assert_uint_eq(c.expect.client_empty_max.max_ns, 5 * SIM_S);
    ck_assert(!c.expect.client_short_max.checked);
    ck_assert_uint_eq(c.expect.client_stale_max.max_ns, 60 * SIM_S);

    ck_assert(c.nemesis.enabled);
    ck_assert_uint_eq(c.nemesis.kinds, SCN_NEMESIS_KINDS_ALLOWED);
    ck_assert_uint_eq(c.nemesis.interval.max_ns, 40 * SIM_S);
    ck_assert_uint_eq(c.nemesis.max_down, 2);
    ck_assert(c.phases.enabled);
    ck_assert_uint_eq(c.phases.chaos_ns, 360 * SIM_S);
    ck_assert_uint_eq(scn_config_fault_window_ns(&c), 360 * SIM_S);
    ck_assert_uint_eq(c.expect.lost_max.max_ns, 500 * SIM_MS);
    ck_assert(c.expect.lost_p99.checked);
    ck_assert_uint_eq(c.expect.lost_p99.max_ns, 250 * SIM_MS);
    ck_assert(c.expect.lost_count.checked);
    ck_assert_uint_eq(c.expect.lost_count.max, 40);
    ck_assert(!c.expect.zombie_max.checked);
    ck_assert(!c.expect.zombie_p99.checked);
    ck_assert(c.expect.zombie_count.checked);
    ck_assert_uint_eq(c.expect.zombie_count.max, 0);
    ck_assert_uint_eq(c.expect.ownership_disagreement_max.max_ns, 10 * SIM_S);
    ck_assert_uint_eq(scn_lag_allowance(&c), 20 * SIM_S);
    ck_assert_uint_eq(scn_zombie_allowance(&c), 45 * SIM_S);
    ck_assert_uint_eq(c.expect.counter_count, 3);
    ck_assert(!c.expect.counters[0].min_set);
    ck_assert(c.expect.counters[0].max_set);
    ck_assert_uint_eq(c.expect.counters[0].max, 0);
    ck_assert_str_eq(c.expect.counters[2].name, "snapshot_attempts");
    ck_assert_uint_eq(c.expect.counters[2].min, 1);
    ck_assert_uint_eq(c.expect.counters[2].max, 3);
    ck_assert_uint_eq(c.engine.events_budget, 1000000000u);
    ck_assert_uint_eq(c.engine.events_max, 1048576u);
    scn_config_deinit(&c);
}
END_TEST

START_TEST(test_every_key_faults)
{
    scn_config c;
    sim_error err;
    if (scn_load_file(GOOD_DIR "/every-key.yaml", &c, &err) != SIM_OK) ck_abort_msg("%s", tst_error(&err));
    ck_assert_uint_eq(c.fault_count, 15);   /* 13 entries and a rolling pause of two steps */
    const scn_fault *f = c.faults;
    static const scn_fault_kind kinds[] = {
        SCN_FAULT_PARTITION, SCN_FAULT_BLOCK,   SCN_FAULT_ISOLATE, SCN_FAULT_HEAL_ALL, SCN_FAULT_HEAL_LINK,
        SCN_FAULT_HEAL_NODE, SCN_FAULT_CRASH,   SCN_FAULT_START,   SCN_FAULT_RESTART,  SCN_FAULT_PAUSE,
        SCN_FAULT_LINK,      SCN_FAULT_CLOCK,   SCN_FAULT_MEMBERS,
    };
    for (uint32_t i = 0; i < 13; i++) ck_assert_int_eq(f[i].kind, kinds[i]);
    ck_assert(f[13].rolling_wait && f[14].rolling_wait);   /* the rolling pause waits for convergence */
    /* partition [[0, 1], [2]] with 5 nodes: 3 and 4 form the extra group. */
    ck_assert_uint_eq(f[0].at_ns, 30 * SIM_S);
    ck_assert_uint_eq(f[0].group_count, 2);
    ck_assert_uint_eq(f[0].group_of[0], 0);
    ck_assert_uint_eq(f[0].group_of[1], 0);
    ck_assert_uint_eq(f[0].group_of[2], 1);
    ck_assert_uint_eq(f[0].group_of[3], SCN_GROUP_UNLISTED);
    uint32_t group_of[SCN_NODES_MAX];
    ck_assert_uint_eq(scn_partition_group_of(&f[0], c.cluster.nodes, group_of), 3);
    ck_assert_uint_eq(group_of[4], 2);
    ck_assert_uint_eq(f[1].from, 0);
    ck_assert_uint_eq(f[1].to, 1);
    ck_assert_uint_eq(f[2].node, 2);
    ck_assert_uint_eq(f[4].from, 0);
    ck_assert_uint_eq(f[5].node, 2);
    ck_assert_uint_eq(f[6].node, 1);
    ck_assert_uint_eq(f[8].duration_ns, 10 * SIM_S);
    ck_assert_uint_eq(f[9].node, 3);
    ck_assert_uint_eq(f[9].duration_ns, 20 * SIM_S);
    ck_assert_uint_eq(f[10].to, 4);
    ck_assert(f[10].both);
    ck_assert_uint_eq(f[10].duration_ns, 30 * SIM_S);
    ck_assert_uint_eq(f[10].link_fields, SCN_LINK_LATENCY | SCN_LINK_LOSS);
    ck_assert_uint_eq(f[10].link.latency.base.a_ns, 200 * SIM_MS);
    ck_assert_uint_eq(f[10].link.loss_ppm, 500000);
    ck_assert_uint_eq(f[10].link.duplicate_ppm, 500);   /* unmasked: the network default */
    ck_assert_int_eq(f[11].clock_offset_ns, -2 * (int64_t)SIM_S);
    ck_assert_int_eq(f[11].clock_drift_ppm, 100);
    ck_assert_uint_eq(f[12].members_on, 0x3);
    ck_assert_uint_eq(f[12].members_add, 0x8);
    ck_assert_uint_eq(f[12].members_remove, 0x10);
    for (uint32_t k = 0; k < 2; k++) {
        ck_assert_int_eq(f[13 + k].kind, SCN_FAULT_PAUSE);
        ck_assert_uint_eq(f[13 + k].node, 4 - k);
        ck_assert_uint_eq(f[13 + k].at_ns, (140 + 20 * (uint64_t)k) * SIM_S);
        ck_assert_uint_eq(f[13 + k].duration_ns, 5 * SIM_S);
        ck_assert(f[13 + k].recover_within_set);
        ck_assert_uint_eq(f[13 + k].recover_within.max_ns, 90 * SIM_S);
    }
    ck_assert(!f[12].recover_within_set);
    ck_assert(c.expect.recover_within.checked);
    ck_assert_uint_eq(c.expect.recover_within.max_ns, 60 * SIM_S);
    scn_config_deinit(&c);
}
END_TEST

/* --- Units ------------------------------------------------------------------------ */

static sim_time_ns tst_latency_ns(const char *value)
{
    char text[256];
    scn_config c;
    snprintf(text, sizeof text, "name: x\nnetwork:\n  latency: %s\n", value);
    tst_load_ok(text, &c);
    sim_time_ns ns = c.network.defaults.latency.base.a_ns;
    scn_config_deinit(&c);
    return ns;
}

START_TEST(test_duration_units)
{
    ck_assert_uint_eq(tst_latency_ns("10ns"), 10);
    ck_assert_uint_eq(tst_latency_ns("100us"), 100 * SIM_US);
    ck_assert_uint_eq(tst_latency_ns("\"3\xc2\xb5s\""), 3 * SIM_US);
    ck_assert_uint_eq(tst_latency_ns("250ms"), 250 * SIM_MS);
    ck_assert_uint_eq(tst_latency_ns("1.5s"), 1500 * SIM_MS);
    ck_assert_uint_eq(tst_latency_ns(".5s"), 500 * SIM_MS);
    ck_assert_uint_eq(tst_latency_ns("2m"), 120 * SIM_S);
    ck_assert_uint_eq(tst_latency_ns("1h"), 3600 * SIM_S);
    ck_assert_uint_eq(tst_latency_ns("0.000000001s"), 1);
    ck_assert_uint_eq(tst_latency_ns("0s"), 0);
    ck_assert_uint_eq(tst_latency_ns("8760h"), SCN_DURATION_NS_MAX);
    tst_load_fails("name: x\nnetwork: {latency: 1.0000000001s}\n",
                   "inline.yaml:2:20: network.latency: expected a whole number of nanoseconds, got \"1.0000000001s\"");
    tst_load_fails("name: x\nnetwork: {latency: 5 ms}\n",
                   "inline.yaml:2:20: network.latency: expected a duration such as 250ms, 5s or 2m, got \"5 ms\"");
    tst_load_fails("name: x\nnetwork: {latency: 5MS}\n",
                   "inline.yaml:2:20: network.latency: expected a duration such as 250ms, 5s or 2m, got \"5MS\"");
    tst_load_fails("name: x\nnetwork: {latency: -5ms}\n",
                   "inline.yaml:2:20: network.latency: expected a duration such as 250ms, 5s or 2m, got \"-5ms\"");
    tst_load_fails("name: x\nnetwork: {latency: 99999999999999999999s}\n",
                   "inline.yaml:2:20: network.latency: expected a duration of at most 8760h, got \"99999999999999999999s\"");
}
END_TEST

static uint32_t tst_loss_ppm(const char *value)
{
    char text[256];
    scn_config c;
    snprintf(text, sizeof text, "name: x\nnetwork:\n  loss: %s\n", value);
    tst_load_ok(text, &c);
    uint32_t ppm = c.network.defaults.loss_ppm;
    scn_config_deinit(&c);
    return ppm;
}

START_TEST(test_ratio_rounding)
{
    ck_assert_uint_eq(tst_loss_ppm("0"), 0);
    ck_assert_uint_eq(tst_loss_ppm("1"), 1000000);
    ck_assert_uint_eq(tst_loss_ppm("1.000"), 1000000);
    ck_assert_uint_eq(tst_loss_ppm("0.05"), 50000);
    ck_assert_uint_eq(tst_loss_ppm(".5"), 500000);
    ck_assert_uint_eq(tst_loss_ppm("0.0000005"), 1);    /* half rounds up */
    ck_assert_uint_eq(tst_loss_ppm("0.00000049"), 0);
    ck_assert_uint_eq(tst_loss_ppm("0.1234565"), 123457);
    ck_assert_uint_eq(tst_loss_ppm("0.9999999"), 1000000);
    tst_load_fails("name: x\nnetwork: {loss: 1.0000001}\n",
                   "inline.yaml:2:17: network.loss: expected a ratio between 0 and 1, got 1.0000001");
    tst_load_fails("name: x\nnetwork: {loss: 5%}\n",
                   "inline.yaml:2:17: network.loss: expected a ratio between 0 and 1, got \"5%\"");
    tst_load_fails("name: x\nnetwork: {loss: 1e-3}\n",
                   "inline.yaml:2:17: network.loss: expected a ratio between 0 and 1, got 1e-3");
}
END_TEST

START_TEST(test_bandwidth_units)
{
    static const struct { const char *text; uint64_t bytes; } cases[] = {
        { "0", 0 },           { "100B", 100 },           { "512KB", 512000 },     { "10MB", 10000000 },
        { "1GB", 1000000000 }, { "1KiB", 1024 },         { "2MiB", 2097152 },     { "1GiB", 1073741824 },
        { "1.5KB", 1500 },    { "100MB/s", 100000000 },  { "1TB", 1000000000000 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        scn_config c;
        snprintf(text, sizeof text, "name: x\nnetwork: {bandwidth: %s}\n", cases[i].text);
        tst_load_ok(text, &c);
        ck_assert_uint_eq(c.network.defaults.bandwidth_bytes_per_s, cases[i].bytes);
        tst_round_trip(&c);
        scn_config_deinit(&c);
    }
    tst_load_fails("name: x\nnetwork: {bandwidth: 1.5B}\n",
                   "inline.yaml:2:22: network.bandwidth: expected a whole number of bytes, got \"1.5B\"");
    tst_load_fails("name: x\nnetwork: {bandwidth: 2000TB}\n",
                   "inline.yaml:2:22: network.bandwidth: expected at most 1000TB per second, got \"2000TB\"");
}
END_TEST

START_TEST(test_format_duration)
{
    char buf[32];
    scn_format_duration(0, buf, sizeof buf);
    ck_assert_str_eq(buf, "0s");
    scn_format_duration(1500 * SIM_MS, buf, sizeof buf);
    ck_assert_str_eq(buf, "1500ms");
    scn_format_duration(120 * SIM_S, buf, sizeof buf);
    ck_assert_str_eq(buf, "2m");
    scn_format_duration(7200 * SIM_S, buf, sizeof buf);
    ck_assert_str_eq(buf, "2h");
    scn_format_duration(1001, buf, sizeof buf);
    ck_assert_str_eq(buf, "1001ns");
    scn_format_duration(3 * SIM_US, buf, sizeof buf);
    ck_assert_str_eq(buf, "3us");
}
END_TEST

/* --- Structure and text -------------------------------------------------------- */

START_TEST(test_strings_and_positions)
{
    scn_config c;
    /* Not NUL-terminated: only `len` bytes count. */
    const char text[] = "name: abcXYZ";
    sim_error err;
    ck_assert_int_eq(scn_load_string("short.yaml", text, 9, &c, &err), SIM_OK);
    ck_assert_str_eq(c.name, "abc");
    scn_config_deinit(&c);
    /* Multi-line text, escapes and a UTF-8 description survive the round trip. */
    tst_load_ok("name: x\ndescription: \"caf\xc3\xa9 \\\"q\\\" \\\\ tab\\there\\nline 2\"\n", &c);
    ck_assert_str_eq(c.description, "caf\xc3\xa9 \"q\" \\ tab\there\nline 2");
    tst_round_trip(&c);
    scn_config_deinit(&c);
    /* An escape may not smuggle in a control character. */
    tst_load_fails("name: x\ndescription: \"a\\x01b\"\n",
                   "inline.yaml:2:14: description: expected text without control characters, got U+0001");
    /* Keys are matched exactly: case matters. */
    tst_load_fails("name: x\nSeed: 1\n",
                   "inline.yaml:2:1: unknown key \"Seed\" at top level (expected one of: name, description, incident, "
                   "seed, duration, cluster, network, workload, faults, nemesis, phases, expect, tags, engine, swarm)");
    /* Sections are read in schema order: cluster before faults, whatever the file order. */
    tst_load_ok("name: x\nfaults: [{at: 1s, crash: 4}]\ncluster: {nodes: 5}\n", &c);
    ck_assert_uint_eq(c.faults[0].node, 4);
    scn_config_deinit(&c);
    /* A BOM and CRLF line ends are fine. */
    tst_load_ok("\xef\xbb\xbfname: crlf\r\nseed: 3\r\n", &c);
    ck_assert_str_eq(c.name, "crlf");
    ck_assert_uint_eq(c.seed, 3);
    scn_config_deinit(&c);
}
END_TEST

START_TEST(test_empty_inputs)
{
    scn_config c;
    sim_error err;
    ck_assert_int_eq(scn_load_string("none.yaml", NULL, 0, &c, &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), "none.yaml:1:1: empty scenario: expected a mapping with at least `name`");
    tst_load_fails("---\n", "inline.yaml:1:1: empty scenario: expected a mapping with at least `name`");
    tst_load_fails("~\n", "inline.yaml:1:1: empty scenario: expected a mapping with at least `name`");
    tst_load_fails("{}\n", "inline.yaml:1:1: missing key \"name\" at top level");
}
END_TEST

START_TEST(test_huge_file)
{
    char path[] = "/tmp/test_scn_load_huge_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "wb");
    ck_assert_ptr_nonnull(f);
    size_t written = (size_t)fprintf(f, "name: big\n");
    while (written < SCN_FILE_BYTES_MAX) {   /* comment lines up to exactly the limit */
        size_t line = SCN_FILE_BYTES_MAX - written < 64 ? SCN_FILE_BYTES_MAX - written : 64;
        for (size_t i = 0; i + 1 < line; i++) fputc(i == 0 ? '#' : 'x', f);
        fputc('\n', f);
        written += line;
    }
    fflush(f);
    scn_config c;
    sim_error err;
    sim_status st = scn_load_file(path, &c, &err);   /* exactly 1 MiB: accepted */
    if (st != SIM_OK) ck_abort_msg("%s", tst_error(&err));
    ck_assert_str_eq(c.name, "big");
    scn_config_deinit(&c);
    fputc('\n', f);                                   /* one byte more: rejected before parsing */
    fclose(f);
    ck_assert_int_eq(scn_load_file(path, &c, &err), SIM_ERR_SCENARIO);
    char expected[256];
    snprintf(expected, sizeof expected, "%s:1:1: scenario is larger than the 1 MiB limit (1048576 bytes)", path);
    ck_assert_str_eq(tst_error(&err), expected);
    unlink(path);
    char *big = calloc(SCN_FILE_BYTES_MAX + 2u, 1);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(scn_load_string("big.yaml", big, SCN_FILE_BYTES_MAX + 1u, &c, &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), "big.yaml:1:1: scenario is larger than the 1 MiB limit (1048576 bytes)");
    free(big);
}
END_TEST

START_TEST(test_io_errors)
{
    scn_config c;
    sim_error err;
    ck_assert_int_eq(scn_load_file("tests/no-such-scenario.yaml", &c, &err), SIM_ERR_IO);
    ck_assert_str_eq(tst_error(&err), "tests/no-such-scenario.yaml: cannot open: No such file or directory");
    ck_assert_int_eq(scn_load_file("tests", &c, &err), SIM_ERR_IO);
    ck_assert_str_eq(tst_error(&err), "tests: cannot read: Is a directory");
    scn_config_deinit(&c);
}
END_TEST

START_TEST(test_many_faults)
{
    /* SCN_FAULTS_MAX faults load; one more is refused with the count. */
    size_t cap = 64 + (size_t)(SCN_FAULTS_MAX + 1u) * 40u;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    for (uint32_t total = SCN_FAULTS_MAX; total <= SCN_FAULTS_MAX + 1u; total++) {
        size_t len = (size_t)snprintf(text, cap, "name: many\nduration: 10h\nfaults:\n");
        for (uint32_t i = 0; i < total; i++) {
            len += (size_t)snprintf(text + len, cap - len, "  - {at: %ums, crash: %u}\n", (unsigned)i, (unsigned)(i % 3u));
        }
        scn_config c;
        sim_error err;
        sim_status st = scn_load_string("many.yaml", text, len, &c, &err);
        if (total == SCN_FAULTS_MAX) {
            if (st != SIM_OK) ck_abort_msg("%s", tst_error(&err));
            ck_assert_uint_eq(c.fault_count, SCN_FAULTS_MAX);
            ck_assert_uint_eq(c.faults[SCN_FAULTS_MAX - 1].at_ns, (SCN_FAULTS_MAX - 1u) * SIM_MS);
            scn_config_deinit(&c);
        } else {
            ck_assert_int_eq(st, SIM_ERR_SCENARIO);
            ck_assert_str_eq(tst_error(&err), "many.yaml:4:3: faults: expected at most 10000 faults, got 10001");
        }
    }
    free(text);
}
END_TEST

START_TEST(test_fault_edge_cases)
{
    scn_config c;
    /* Unlisted nodes form the second group. */
    tst_load_ok("name: x\nfaults: [{at: 0s, partition: [[0]]}]\n", &c);
    ck_assert_uint_eq(c.faults[0].group_count, 1);
    uint32_t group_of[SCN_NODES_MAX];
    ck_assert_uint_eq(scn_partition_group_of(&c.faults[0], 3, group_of), 2);
    ck_assert_uint_eq(group_of[0], 0);
    ck_assert_uint_eq(group_of[1], 1);
    ck_assert_uint_eq(group_of[2], 1);
    tst_round_trip(&c);
    scn_config_deinit(&c);
    /* Faults keep file order even when their times are not sorted. */
    tst_load_ok("name: x\nfaults:\n  - {at: 50s, start: 1}\n  - {at: 10s, crash: 1}\n", &c);
    ck_assert_int_eq(c.faults[0].kind, SCN_FAULT_START);
    ck_assert_int_eq(c.faults[1].kind, SCN_FAULT_CRASH);
    scn_config_deinit(&c);
    /* A 64-node cluster: node sets use every bit. */
    tst_load_ok("name: x\ncluster: {nodes: 64}\nfaults: [{at: 1s, members: {on: [63], remove: [0, 63]}}]\n", &c);
    ck_assert_uint_eq(c.faults[0].members_on, UINT64_C(1) << 63);
    ck_assert_uint_eq(c.faults[0].members_remove, (UINT64_C(1) << 63) | 1u);
    ck_assert_str_eq(c.cluster.addresses[63], "10.0.0.64:8848");
    tst_round_trip(&c);
    scn_config_deinit(&c);
    /* A slow tail with ratio 0 is no tail at all. */
    tst_load_ok("name: x\nnetwork:\n  latency: {dist: constant, value: 2ms, slow_tail: {ratio: 0, latency: 1s}}\n", &c);
    ck_assert_uint_eq(c.network.defaults.latency.tail_ppm, 0);
    ck_assert_uint_eq(c.network.defaults.latency.tail.a_ns, 0);
    tst_round_trip(&c);
    scn_config_deinit(&c);
    tst_load_fails("name: x\nfaults: [{at: 1s, clock: {node: 0, offset: 2 s}}]\n",
                   "inline.yaml:2:44: faults[0].clock.offset: expected a duration such as 250ms, 5s or 2m, possibly "
                   "negative, got \"2 s\"");
    tst_load_fails("name: x\nfaults: [{at: 1s, members: {on: [], add: [1]}}]\n",
                   "inline.yaml:2:33: faults[0].members.on: expected at least one node");
    tst_load_fails("name: x\nfaults: [{at: 1s, members: {on: [0, 0], add: [1]}}]\n",
                   "inline.yaml:2:37: faults[0].members.on[1]: node 0 is listed twice");
}
END_TEST

/* A rolling entry expands at load time into one restart or pause per
 * listed node, `every` apart, in list order; it prints back as the entry
 * (not its steps), and messages name the file's entry, not the step. */
START_TEST(test_rolling)
{
    scn_config c;
    tst_load_ok("name: x\ncluster: {nodes: 4}\nfaults:\n  - {at: 5s, crash: 3}\n"
                "  - {at: 30s, rolling: {action: restart, nodes: [2, 0, 1], every: 30s, down: 10s}, "
                "recover_within: 40s}\n  - {at: 200s, start: 3}\n", &c);
    ck_assert_uint_eq(c.fault_count, 5);
    static const uint32_t nodes[] = { 2, 0, 1 };
    for (uint32_t k = 0; k < 3; k++) {
        const scn_fault *f = &c.faults[1 + k];
        ck_assert_int_eq(f->kind, SCN_FAULT_RESTART);
        ck_assert_uint_eq(f->node, nodes[k]);
        ck_assert_uint_eq(f->at_ns, (30 + 30 * (uint64_t)k) * SIM_S);
        ck_assert_uint_eq(f->duration_ns, 10 * SIM_S);
        ck_assert_uint_eq(f->rolling_step, k);
        ck_assert_uint_eq(f->rolling_steps, 3);
        ck_assert(f->recover_within_set && f->recover_within.checked);
        ck_assert_uint_eq(f->recover_within.max_ns, 40 * SIM_S);
        ck_assert_uint_eq(scn_fault_entry(&c, 1 + k), 1);
    }
    ck_assert(!c.faults[0].recover_within_set);
    ck_assert_int_eq(c.faults[4].kind, SCN_FAULT_START);
    ck_assert_uint_eq(scn_fault_entry(&c, 4), 2);
    ck_assert(!c.expect.recover_within.checked);   /* default: unchecked */
    size_t len = 0;
    char *text = tst_print(&c, &len);
    ck_assert_ptr_nonnull(strstr(text, "rolling: {action: restart, nodes: [2, 0, 1], every: 30s, down: 10s"));
    ck_assert_ptr_null(strstr(text, "restart: {node"));   /* the entry, not its expansion */
    free(text);
    tst_round_trip(&c);
    /* A step that no longer matches its entry cannot be printed back: refused. */
    sim_error err;
    c.faults[2].at_ns += SIM_S;
    ck_assert_int_eq(scn_config_validate(&c, "api", &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), "api: faults[1].rolling: step 1 differs from its entry");
    scn_config_deinit(&c);
    /* Nodes default to every node in index order; pause pauses for `down`. */
    tst_load_ok("name: x\ncluster: {nodes: 5}\nexpect: {recover_within: 20s}\n"
                "faults: [{at: 10s, rolling: {action: pause, every: 5s, down: 2s, wait_converged: false}}]\n", &c);
    ck_assert_uint_eq(c.fault_count, 5);
    for (uint32_t k = 0; k < 5; k++) {
        ck_assert_int_eq(c.faults[k].kind, SCN_FAULT_PAUSE);
        ck_assert_uint_eq(c.faults[k].node, k);
        ck_assert_uint_eq(c.faults[k].at_ns, (10 + 5 * (uint64_t)k) * SIM_S);
        ck_assert_uint_eq(c.faults[k].duration_ns, 2 * SIM_S);
    }
    ck_assert(c.expect.recover_within.checked);
    ck_assert_uint_eq(c.expect.recover_within.max_ns, 20 * SIM_S);
    ck_assert(!c.faults[0].rolling_wait);
    tst_round_trip(&c);
    scn_config_deinit(&c);
    /* wait_converged: every step carries it, it prints back, and a step
     * that no longer waits like its entry is refused. */
    tst_load_ok("name: x\nfaults: [{at: 10s, rolling: {action: restart, every: 5s, down: 2s, wait_converged: true}}]\n",
                &c);
    for (uint32_t k = 0; k < 3; k++) ck_assert(c.faults[k].rolling_wait);
    text = tst_print(&c, &len);
    ck_assert_ptr_nonnull(strstr(text, "down: 2s, wait_converged: true}"));
    free(text);
    tst_round_trip(&c);
    c.faults[1].rolling_wait = false;
    ck_assert_int_eq(scn_config_validate(&c, "api", &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), "api: faults[0].rolling: step 1 differs from its entry");
    scn_config_deinit(&c);
    /* A fault after a rolling entry is named by its entry in the file. */
    tst_load_fails("name: x\nfaults:\n  - {at: 1s, rolling: {action: pause, every: 1s, down: 1s}}\n"
                   "  - {at: 2s, clock: {node: 0, offset: -5s}}\n",
                   "inline.yaml:4:39: faults[1].clock.offset: -5s at 2s would put node 0's clock before 0 "
                   "(expected an offset of at least -2s)");
    tst_load_fails("name: x\nfaults: [{at: 1s, crash: 0, recover_within: none}]\n",
                   "inline.yaml:2:45: faults[0].recover_within: \"none\" is ambiguous: write 0s to allow none, or "
                   "unchecked to skip this check");
}
END_TEST

/* --- scn_config_set --------------------------------------------------------------- */

START_TEST(test_set_scalars)
{
    scn_config c;
    tst_load_ok("name: x\nnetwork:\n  links: [{from: 0, to: 1, loss: 0.5}, {from: 1, to: 0, latency: 9ms}]\n"
                "faults: [{at: 1s, link: {from: 0, to: 2, for: 5s, loss: 0.2}}]\n", &c);
    tst_set_ok(&c, "cluster.distro.verify_interval", "2s");
    ck_assert_uint_eq(c.cluster.distro.verify_interval_ns, 2 * SIM_S);
    tst_set_ok(&c, "cluster.distro.data_warmup", "true");
    ck_assert(c.cluster.distro.data_warmup);
    tst_set_ok(&c, "cluster.distro.batch_sync_key_count", "77");
    ck_assert_uint_eq(c.cluster.distro.batch_sync_key_count, 77);
    /* The HTTP clients' settings are the nested map cluster.distro.http. */
    tst_set_ok(&c, "cluster.distro.http.sync_read_timeout", "20s");
    ck_assert_uint_eq(c.cluster.distro.http_sync_read_timeout_ns, 20 * SIM_S);
    tst_set_ok(&c, "cluster.distro.http.async_max_per_route", "3");
    ck_assert_uint_eq(c.cluster.distro.http_async_max_per_route, 3);
    tst_set_fails(&c, "cluster.distro.http_sync_ttl", "1s",
                  "command line: unknown key \"cluster.distro.http_sync_ttl\" (expected a scalar key such as "
                  "cluster.distro.verify_interval, network.loss or workload.services)");
    tst_set_fails(&c, "cluster.distro.http.verify_interval", "1s",
                  "command line: unknown key \"cluster.distro.http.verify_interval\" (expected a scalar key such as "
                  "cluster.distro.verify_interval, network.loss or workload.services)");
    tst_set_ok(&c, "network.latency", "5ms");
    ck_assert_uint_eq(c.network.defaults.latency.base.a_ns, 5 * SIM_MS);
    /* Overrides and link faults inherit what they do not set. */
    ck_assert_uint_eq(c.network.links[0].params.latency.base.a_ns, 5 * SIM_MS);
    ck_assert_uint_eq(c.network.links[1].params.latency.base.a_ns, 9 * SIM_MS);
    ck_assert_uint_eq(c.faults[0].link.latency.base.a_ns, 5 * SIM_MS);
    tst_set_ok(&c, "network.loss", "0.1");
    ck_assert_uint_eq(c.network.defaults.loss_ppm, 100000);
    ck_assert_uint_eq(c.network.links[0].params.loss_ppm, 500000);
    ck_assert_uint_eq(c.network.links[1].params.loss_ppm, 100000);
    ck_assert_uint_eq(c.faults[0].link.loss_ppm, 200000);
    tst_set_ok(&c, "workload.services", "100");
    ck_assert_uint_eq(c.workload.services, 100);
    tst_set_ok(&c, "workload.churn.crash_per_min", "0.5");
    ck_assert_uint_eq(c.workload.churn.crash_per_min_milli, 500);
    tst_set_ok(&c, "workload.reads.subscribers", "3");
    ck_assert_uint_eq(c.workload.reads.subscribers, 3);
    tst_set_ok(&c, "workload.reads.push_empty_protection", "true");
    ck_assert(c.workload.reads.push_empty_protection);
    tst_set_ok(&c, "expect.client_empty_max", "2s");
    ck_assert_uint_eq(c.expect.client_empty_max.max_ns, 2 * SIM_S);
    tst_set_ok(&c, "workload.namespace", "null");   /* strings are never YAML null */
    ck_assert_str_eq(c.workload.namespace_id, "null");
    tst_set_ok(&c, "seed", "99");
    ck_assert_uint_eq(c.seed, 99);
    tst_set_ok(&c, "description", "set from the command line");
    ck_assert_str_eq(c.description, "set from the command line");
    tst_set_ok(&c, "description", "");
    ck_assert_ptr_null(c.description);
    tst_set_ok(&c, "expect.zombie_max", "unchecked");
    ck_assert(!c.expect.zombie_max.checked);
    tst_set_ok(&c, "expect.zombie_max", "0s");             /* 0s is a bound: none allowed */
    ck_assert(c.expect.zombie_max.checked);
    ck_assert_uint_eq(c.expect.zombie_max.max_ns, 0);
    tst_set_ok(&c, "workload.beat_interval", "3s");        /* a derived allowance follows its inputs: */
    ck_assert_uint_eq(scn_lag_allowance(&c), 9100 * SIM_MS);    /* two beats at 3 s: one beat interval */
    ck_assert_uint_eq(c.cluster.distro.client_beat_interval_ns, 3 * SIM_S);   /* the servers answer the same */
    tst_set_ok(&c, "expect.lag_allowance", "4s");
    ck_assert_uint_eq(scn_lag_allowance(&c), 4 * SIM_S);
    tst_set_ok(&c, "expect.zombie_allowance", "0s");
    ck_assert_uint_eq(scn_zombie_allowance(&c), 0);
    tst_set_ok(&c, "expect.lost_max", "250ms");
    ck_assert_uint_eq(c.expect.lost_max.max_ns, 250 * SIM_MS);
    tst_round_trip(&c);
    scn_config_deinit(&c);
}
END_TEST

START_TEST(test_set_errors)
{
    scn_config c;
    tst_load_ok("name: x\nfaults: [{at: 2m, crash: 2}]\n", &c);
    tst_set_fails(&c, "cluster.distro.verify_interval", "2x",
                  "command line: cluster.distro.verify_interval: expected a duration such as 250ms, 5s or 2m, got \"2x\"");
    tst_set_fails(&c, "cluster.distro.verify_interval", "0s",
                  "command line: cluster.distro.verify_interval: expected a positive duration, got \"0s\"");
    tst_set_fails(&c, "network.loss", "1.5", "command line: network.loss: expected a ratio between 0 and 1, got 1.5");
    tst_set_fails(&c, "cluster.distro.client_beat_interval", "4s",
                  "command line: cluster.distro.client_beat_interval: not a key: set workload.beat_interval, the one "
                  "beat interval (the clients beat at it and the servers answer it as clientBeatInterval)");
    tst_set_fails(&c, "expect.lost.count", "many",
                  "command line: expect.lost.count: expected a count such as 3, or unchecked, got \"many\"");
    tst_set_fails(&c, "expect.lost_max", "none",
                  "command line: expect.lost_max: \"none\" is ambiguous: write 0s to allow none, or unchecked to skip "
                  "this check");
    tst_set_fails(&c, "workload.services", "1000001",
                  "command line: workload.services: expected an integer between 0 and 1000000, got 1000001");
    tst_set_fails(&c, "name", "Bad Name",
                  "command line: name: expected a name of 1 to 64 characters from [a-z0-9._-], got \"Bad Name\"");
    tst_set_fails(&c, "cluster.foo", "1",
                  "command line: unknown key \"cluster.foo\" (expected a scalar key such as "
                  "cluster.distro.verify_interval, network.loss or workload.services)");
    tst_set_fails(&c, "cluster.distro.verify_intervall", "1s",
                  "command line: unknown key \"cluster.distro.verify_intervall\" (expected a scalar key such as "
                  "cluster.distro.verify_interval, network.loss or workload.services)");
    tst_set_fails(&c, "network.links", "1", "command line: \"network.links\" is a section or a list, not a scalar setting");
    /* Reads: more services than the workload has, through the one validation path. */
    tst_set_fails(&c, "workload.reads.services", "11",
                  "command line: workload.reads.services: 11 is more than the 10 services of the workload");
    tst_set_fails(&c, "workload.reads.query_interval", "500us",
                  "command line: workload.reads.query_interval: expected a duration of at least 1ms, got \"500us\"");
    /* A latency is a mapping: its value is read as YAML flow text. */
    tst_set_fails(&c, "network.latency", "{dist: uniform}", "command line: network.latency: missing key \"min\"");
    tst_set_fails(&c, "network.latency", "{dist: uniform, min: 1ms",
                  "command line: invalid YAML: missing comma in flow mapping");
    /* Whole-config checks after the change. */
    tst_set_fails(&c, "duration", "1m", "command line: faults[0].at: 2m is not before the end of the run (1m)");
    tst_set_fails(&c, "cluster.nodes", "2",
                  "command line: faults[0].crash: node 2 is out of range (the cluster has 2 nodes)");
    tst_set_fails(&c, "workload.start_at", "5m", "command line: workload.start_at: 5m is not before the end of the run (5m)");
    tst_set_fails(&c, "nemesis.interval.min", "1h", "command line: nemesis.interval: expected 0 < min <= max");
    tst_set_fails(&c, "description", "bell\x07", "command line: description: expected UTF-8 text without control characters");
    scn_config_deinit(&c);
}
END_TEST

START_TEST(test_set_side_effects)
{
    scn_config c;
    tst_load_ok("name: x\n", &c);
    tst_set_ok(&c, "cluster.nodes", "7");   /* default addresses and max_down follow */
    ck_assert_uint_eq(c.cluster.nodes, 7);
    ck_assert_str_eq(c.cluster.addresses[6], "10.0.0.7:8848");
    ck_assert_uint_eq(c.nemesis.max_down, 3);
    tst_set_ok(&c, "cluster.nodes", "2");
    ck_assert_str_eq(c.cluster.addresses[2], "");
    ck_assert_uint_eq(c.nemesis.max_down, 0);
    ck_assert(!c.nemesis.enabled);
    tst_set_ok(&c, "nemesis.max_down", "2");
    ck_assert(c.nemesis.enabled);
    ck_assert(!c.phases.enabled);
    tst_set_ok(&c, "phases.chaos", "1m");
    ck_assert(c.phases.enabled);
    ck_assert_uint_eq(c.duration_ns, 180 * SIM_S);   /* 1m chaos + 2m default quiet */
    tst_set_fails(&c, "duration", "10m",
                  "command line: duration: the scenario has phases; set phases.chaos or phases.quiet instead");
    tst_round_trip(&c);
    scn_config_deinit(&c);

    tst_load_ok("name: x\ncluster: {addresses: [\"10.9.0.1:1\", \"10.9.0.2:1\"]}\n", &c);
    tst_set_fails(&c, "cluster.nodes", "3",
                  "command line: cluster.nodes: cannot change the node count of a scenario that lists cluster.addresses");
    scn_config_deinit(&c);
}
END_TEST

/* --- Validation of hand-built configs --------------------------------------------- */

/* One duration grammar: the scenario file and every command-line flag read
 * durations with the same parser (sim_duration_parse), so each text is
 * accepted or rejected the same way, with the same value and the same
 * words.  A bare number is not a duration (the old flag parser read it as
 * seconds), and a value finer than a nanosecond is an error, not rounded. */
START_TEST(test_duration_grammar_shared)
{
    static const struct {
        const char *text;
        bool ok;
        sim_time_ns ns;
        const char *message;   /* when rejected: the words both give */
    } cases[] = {
        { "10", false, 0, "expected a duration such as 250ms, 5s or 2m, got 10" },
        { "10.0000000001s", false, 0, "expected a whole number of nanoseconds, got \"10.0000000001s\"" },
        { "99999999999999999999s", false, 0, "expected a duration of at most 8760h, got \"99999999999999999999s\"" },
        { "8761h", false, 0, "expected a duration of at most 8760h, got \"8761h\"" },
        { "-1s", false, 0, "expected a duration such as 250ms, 5s or 2m, got \"-1s\"" },
        { "1e3s", false, 0, "expected a duration such as 250ms, 5s or 2m, got \"1e3s\"" },
        { "5min", false, 0, "expected a duration such as 250ms, 5s or 2m, got \"5min\"" },
        { "1.s", false, 0, "expected a duration such as 250ms, 5s or 2m, got \"1.s\"" },
        { "7ns", true, 7, NULL },
        { "7us", true, 7 * SIM_US, NULL },
        { "7\xc2\xb5s", true, 7 * SIM_US, NULL },
        { "7ms", true, 7 * SIM_MS, NULL },
        { "7s", true, 7 * SIM_S, NULL },
        { "7m", true, 420 * SIM_S, NULL },
        { "7h", true, 7 * 3600 * SIM_S, NULL },
        { "1.5s", true, 1500 * SIM_MS, NULL },
        { ".5s", true, 500 * SIM_MS, NULL },
        { "0.000000001s", true, 1, NULL },
        { "8760h", true, SCN_DURATION_NS_MAX, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* The command line's parser. */
        sim_error cerr;
        memset(&cerr, 0, sizeof cerr);
        sim_time_ns cli_ns = 12345;
        sim_status cst = sim_duration_parse(cases[i].text, &cli_ns, &cerr);
        ck_assert_msg((cst == SIM_OK) == cases[i].ok, "flag \"%s\": %s", cases[i].text, cerr.message);
        /* The scenario file. */
        char yaml[200];
        snprintf(yaml, sizeof yaml, "name: x\nworkload: {register_spread: %s}\n", cases[i].text);
        scn_config c;
        sim_error yerr;
        memset(&yerr, 0, sizeof yerr);
        sim_status yst = scn_load_string("inline.yaml", yaml, strlen(yaml), &c, &yerr);
        ck_assert_msg((yst == SIM_OK) == cases[i].ok, "yaml \"%s\": %s", cases[i].text, yerr.message);
        if (cases[i].ok) {
            ck_assert_uint_eq(cli_ns, cases[i].ns);
            ck_assert_uint_eq(c.workload.register_spread_ns, cases[i].ns);
        } else {
            ck_assert_uint_eq(cli_ns, 12345);   /* unchanged */
            ck_assert_int_eq(cst, SIM_ERR_INVALID);
            ck_assert_str_eq(cerr.message, cases[i].message);
            char want[512];
            snprintf(want, sizeof want, "workload.register_spread: %s", cases[i].message);
            ck_assert_str_eq(yerr.message, want);
        }
        scn_config_deinit(&c);
    }
}
END_TEST

START_TEST(test_validate_hand_built)
{
    scn_config c;
    sim_error err;
    tst_load_ok("name: x\nfaults: [{at: 1s, crash: 1}]\nnetwork: {links: [{from: 0, to: 1, loss: 0.5}]}\n", &c);
    ck_assert_int_eq(scn_config_validate(&c, "api", &err), SIM_OK);
    c.faults[0].node = 3;
    ck_assert_int_eq(scn_config_validate(&c, "api", &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), "api: faults[0].crash: node 3 is out of range (the cluster has 3 nodes)");
    c.faults[0].node = 1;
    c.network.links[0].params.duplicate_ppm = 7;   /* not in the mask, not the default */
    ck_assert_int_eq(scn_config_validate(&c, "api", &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), "api: network.links[0]: fields not set must equal the network defaults");
    c.network.links[0].params.duplicate_ppm = 0;
    c.network.defaults.latency.base = (sim_dist){ .kind = SIM_DIST_UNIFORM, .a_ns = 5, .b_ns = 1, .sigma_milli = 0 };
    ck_assert_int_eq(scn_config_validate(&c, "api", &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), "api: network.latency: uniform distribution needs min <= max");
    scn_config_deinit(&c);
}
END_TEST

/* --- Run limits (scn_limits.h) ------------------------------------------------------ */

/* The floors are inclusive, the same through a file (with the key's
 * position) and through --set (scn_config_validate is the one path). */
START_TEST(test_timer_floors)
{
    scn_config c;
    tst_load_ok("name: x\ncluster: {distro: {task_tick: 1ms, verify_interval: 1ms}}\nworkload: {beat_interval: 1ms}\n", &c);
    tst_set_fails(&c, "cluster.distro.task_tick", "999999ns",
                  "command line: cluster.distro.task_tick: expected at least 1ms (the floor of timer periods: "
                  "Nacos sets its timers in milliseconds), got 999999ns");
    tst_set_fails(&c, "workload.churn.crash_per_min", "60000.001",
                  "command line: workload.churn.crash_per_min: expected at most 60000 per minute (one event per "
                  "1ms on average, the floor of timer periods), got 60000.001");
    tst_set_ok(&c, "workload.churn.crash_per_min", "60000");
    tst_set_fails(&c, "nemesis.interval.min", "1us",
                  "command line: nemesis.interval.min: expected at least 1ms (the floor of timer periods: "
                  "Nacos sets its timers in milliseconds), got 1us");
    scn_config_deinit(&c);
    tst_load_fails("name: x\ncluster:\n  distro:\n    sync_retry_delay: 10us\n",
                   "inline.yaml:4:23: cluster.distro.sync_retry_delay: expected at least 1ms (the floor of timer "
                   "periods: Nacos sets its timers in milliseconds), got 10us");
}
END_TEST

/* (nodes + 1) x clients <= SCN_INSTANCE_COPIES_MAX, churn registrations
 * included; a key left to its default points at its section. */
START_TEST(test_instance_copies_limit)
{
    scn_config c;
    tst_load_ok("name: x\ncluster: {nodes: 9}\nworkload: {services: 10000, instances_per_service: 100}\n", &c);
    ck_assert_uint_eq(scn_instance_copies(&c), SCN_INSTANCE_COPIES_MAX);   /* exactly at the limit */
    tst_set_fails(&c, "cluster.nodes", "10",
                  "command line: workload.services: 11000000 instance copies ((cluster.nodes + 1) x clients, "
                  "where clients = 10000 services x 100 instances plus 0 churn registrations) exceed the limit "
                  "of 10000000 instance copies; use fewer nodes, services or instances");
    /* 60000 registrations a minute from the end of the initial ones (10 s)
     * to the end of the run (5 m): 290000 more clients. */
    tst_set_fails(&c, "workload.churn.register_per_min", "60000",
                  "command line: workload.services: 12900000 instance copies ((cluster.nodes + 1) x clients, "
                  "where clients = 10000 services x 100 instances plus 290000 churn registrations) exceed the "
                  "limit of 10000000 instance copies; use fewer nodes, services or instances");
    scn_config_deinit(&c);
    tst_load_fails("name: x\ncluster: {nodes: 64}\nworkload:\n  instances_per_service: 1000\n"
                   "  churn: {register_per_min: 60000}\n",
                   "inline.yaml:4:3: workload.services: 19500000 instance copies ((cluster.nodes + 1) x clients, "
                   "where clients = 10 services x 1000 instances plus 290000 churn registrations) exceed the "
                   "limit of 10000000 instance copies; use fewer nodes, services or instances");
}
END_TEST

/* The estimate follows the real event count: the default scenario, one
 * with churn and a nemesis, and one with many services and peers each
 * come within a factor of two of what a run executes. */
START_TEST(test_events_estimate_tracks_runs)
{
    static const char *const texts[] = {
        "name: steady\nduration: 2m\n",
        "name: churn\ncluster: {nodes: 5}\nworkload: {services: 40, churn: {register_per_min: 30, "
        "deregister_per_min: 10, crash_per_min: 10}}\nnemesis: {interval: {min: 5s, max: 10s}}\nduration: 3m\n",
        "name: wide\ncluster: {nodes: 9, distro: {verify_interval: 1s, task_tick: 20ms}}\n"
        "workload: {services: 80, instances_per_service: 3, beat_interval: 2s}\nduration: 1m\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        scn_config c;
        tst_load_ok(texts[i], &c);
        run_options opt;
        memset(&opt, 0, sizeof opt);
        opt.seed = 1;
        run_result res;
        sim_error err;
        if (run_scenario(&c, &opt, &res, &err) != SIM_OK) ck_abort_msg("%s: %s", err.where, err.message);
        double estimate = (double)scn_events_estimate(&c), events = (double)res.row.events;
        ck_assert_msg(estimate >= events / 2.0 && estimate <= events * 2.0, "%s: estimate %.0f, events %.0f", c.name,
                      estimate, events);
        run_result_deinit(&res);
        scn_config_deinit(&c);
    }
}
END_TEST

/* Above the default cap the scenario is refused with the estimate and the
 * setting to raise; an explicit engine.events_budget bounds the run itself
 * (it ends as an ERROR naming the budget), so any budget is accepted. */
START_TEST(test_events_estimate_cap)
{
    const char *big = "name: x\ncluster: {nodes: 5}\nworkload: {services: 20000, instances_per_service: 20}\n"
                      "duration: 1h\n";
    scn_config c;
    sim_error err;
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(scn_load_string("big.yaml", big, strlen(big), &c, &err), SIM_ERR_SCENARIO);
    const char *want = "big.yaml:4:11: duration: the run would take about ";
    ck_assert_msg(strncmp(tst_error(&err), want, strlen(want)) == 0, "%s", tst_error(&err));
    ck_assert_ptr_nonnull(strstr(err.message, "above the default cap of 1000000000; set engine.events_budget to "));
    unsigned long long estimate = strtoull(err.message + strlen("duration: the run would take about "), NULL, 10);
    ck_assert_uint_gt(estimate, SCN_EVENTS_ESTIMATE_MAX);
    char raised[512];
    snprintf(raised, sizeof raised, "%sengine: {events_budget: %llu}\n", big, estimate);
    tst_load_ok(raised, &c);
    ck_assert_uint_eq(scn_events_estimate(&c), estimate);
    tst_set_ok(&c, "engine.events_budget", "500");   /* a budget below the estimate: the run stops there */
    scn_config_deinit(&c);
    /* Shorter, the same workload fits under the cap. */
    tst_load_ok("name: x\ncluster: {nodes: 5}\nworkload: {services: 20000, instances_per_service: 20}\n"
                "duration: 10m\n", &c);
    ck_assert_uint_le(scn_events_estimate(&c), SCN_EVENTS_ESTIMATE_MAX);
    scn_config_deinit(&c);
}
END_TEST

/* A clock fault may bring a node's clock to 0, not before; the engine
 * refuses the latter when the fault fires, validation refuses it first. */
START_TEST(test_clock_offset_floor)
{
    scn_config c;
    tst_load_ok("name: x\nfaults: [{at: 10s, clock: {node: 1, offset: -10s}}]\n", &c);
    scn_config_deinit(&c);
    tst_load_fails("name: x\nfaults: [{at: 10s, clock: {node: 1, offset: -10000000001ns}}]\n",
                   "inline.yaml:2:45: faults[0].clock.offset: -10000000001ns at 10s would put node 1's clock "
                   "before 0 (expected an offset of at least -10s)");
}
END_TEST

/* An expectation on a counter the model does not have is refused by
 * scn_config_validate too, as run_scenario refuses it, so a config built
 * without the loader cannot reach a run with one. */
START_TEST(test_unknown_counter_hand_built)
{
    scn_config c;
    sim_error err;
    tst_load_ok("name: x\nexpect: {counters: [{name: sync_keys_retried, max: 3}]}\n", &c);
    ck_assert_int_eq(scn_config_validate(&c, "api", &err), SIM_OK);
    snprintf(c.expect.counters[0].name, sizeof c.expect.counters[0].name, "%s", "sync_retries");
    ck_assert_int_eq(scn_config_validate(&c, "api", &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err),
                     "api: expect.counters[0].name: unknown counter \"sync_retries\" (`distrosim counters` lists them)");
    scn_config_deinit(&c);
}
END_TEST

/* --- The validate command ---------------------------------------------------------- */

/* Runs cli_validate_main with stdout and stderr sent to /dev/null. */
static int tst_cli(int argc, char **argv)
{
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    FILE *null = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(null);
    dup2(fileno(null), 1);
    dup2(fileno(null), 2);
    int rc = cli_validate_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    fclose(null);
    return rc;
}

/* The counters the loader accepts are exactly the model's, in its order,
 * each with a description; a name the model lacks fails at load time with
 * its place, so `validate` and `run` refuse the same files. */
START_TEST(test_counters_table)
{
    size_t count = 0;
    const scn_counter_info *table = scn_counters(&count);
    distro_counters zero;
    memset(&zero, 0, sizeof zero);
    distro_counter_value list[64];
    uint32_t n = distro_counters_list(&zero, list, 64);
    ck_assert_uint_eq(count, n);
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_str_eq(table[i].name, list[i].name);
        ck_assert(table[i].what != NULL && table[i].what[0] != '\0');
        ck_assert(scn_counter_known(list[i].name));
    }
    ck_assert(!scn_counter_known("sync_retries"));
    scn_config c;
    sim_error err;
    memset(&err, 0, sizeof err);
    static const char text[] = "name: x\nexpect:\n  counters: [{name: sync_retries, max: 1}]\n";
    ck_assert_int_eq(scn_load_string("k.yaml", text, sizeof text - 1, &c, &err), SIM_ERR_SCENARIO);
    ck_assert_str_eq(tst_error(&err), "k.yaml:3:21: expect.counters[0].name: unknown counter \"sync_retries\" (did you "
                                      "mean sync_keys_retried? `distrosim counters` lists all 44)");
}
END_TEST

START_TEST(test_cli_validate)
{
    char good[] = GOOD_DIR "/minimal.yaml", every[] = GOOD_DIR "/every-key.yaml";
    char bad[] = BAD_DIR "/loss-above-one.yaml", missing[] = "tests/missing.yaml";
    char print[] = "--print", help[] = "--help", bogus[] = "--bogus";
    char *ok_args[] = { good, every, print };
    ck_assert_int_eq(tst_cli(3, ok_args), 0);
    char *mixed[] = { good, bad };
    ck_assert_int_eq(tst_cli(2, mixed), 2);
    char *gone[] = { missing };
    ck_assert_int_eq(tst_cli(1, gone), 2);
    ck_assert_int_eq(tst_cli(0, NULL), 2);
    char *help_args[] = { help };
    ck_assert_int_eq(tst_cli(1, help_args), 0);
    char *bogus_args[] = { good, bogus };
    ck_assert_int_eq(tst_cli(2, bogus_args), 2);
}
END_TEST

/* --- Runner ------------------------------------------------------------------------- */

static Suite *scn_load_suite(void)
{
    Suite *s = suite_create("scn_load");
    TCase *golden = tcase_create("golden");
    tcase_add_loop_test(golden, test_bad_file, 0, (int)tst_bad_files.count);
    tcase_add_test(golden, test_bad_files_complete);
    tcase_add_loop_test(golden, test_good_file, 0, (int)tst_good_files.count);
    tcase_add_test(golden, test_good_files_present);
    suite_add_tcase(s, golden);

    TCase *values = tcase_create("values");
    tcase_add_test(values, test_defaults);
    tcase_add_test(values, test_cluster_version);
    tcase_add_test(values, test_distro_lines);
    tcase_add_test(values, test_identity_settings);
    tcase_add_test(values, test_defaults_function);
    tcase_add_test(values, test_nemesis_max_down_default_follows_nodes);
    tcase_add_test(values, test_every_key_values);
    tcase_add_test(values, test_every_key_faults);
    tcase_add_test(values, test_duration_units);
    tcase_add_test(values, test_ratio_rounding);
    tcase_add_test(values, test_bandwidth_units);
    tcase_add_test(values, test_format_duration);
    tcase_add_test(values, test_strings_and_positions);
    tcase_add_test(values, test_empty_inputs);
    tcase_add_test(values, test_fault_edge_cases);
    tcase_add_test(values, test_rolling);
    tcase_add_test(values, test_validate_hand_built);
    suite_add_tcase(s, values);

    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, test_timer_floors);
    tcase_add_test(limits, test_instance_copies_limit);
    tcase_add_test(limits, test_events_estimate_tracks_runs);
    tcase_add_test(limits, test_events_estimate_cap);
    tcase_add_test(limits, test_clock_offset_floor);
    tcase_add_test(limits, test_unknown_counter_hand_built);
    tcase_add_test(limits, test_huge_file);
    tcase_add_test(limits, test_many_faults);
    tcase_add_test(limits, test_io_errors);
    suite_add_tcase(s, limits);

    TCase *set = tcase_create("set");
    tcase_add_test(set, test_set_scalars);
    tcase_add_test(set, test_set_errors);
    tcase_add_test(set, test_set_side_effects);
    suite_add_tcase(s, set);

    TCase *cli = tcase_create("cli");
    tcase_add_test(cli, test_cli_validate);
    tcase_add_test(cli, test_counters_table);
    tcase_add_test(cli, test_duration_grammar_shared);
    suite_add_tcase(s, cli);
    return s;
}

int main(void)
{
    tst_bad_files = tst_list(BAD_DIR, ".yaml");
    tst_good_files = tst_list(GOOD_DIR, ".yaml");
    if (tst_bad_files.count == 0 || tst_good_files.count == 0) {
        fprintf(stderr, "test_scn_load: no scenarios under %s or %s; run from the repository root\n", BAD_DIR,
                GOOD_DIR);
        return 1;
    }
    SRunner *runner = srunner_create(scn_load_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    tst_names_free(&tst_bad_files);
    tst_names_free(&tst_good_files);
    return failed == 0 ? 0 : 1;
}
