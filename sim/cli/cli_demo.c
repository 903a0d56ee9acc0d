/* cli_demo.c: a guided run of a small Nacos 1.4 cluster.
 *
 * The demo boots three servers with 150 services x 2 instances, crashes
 * and restarts a server, partitions one off and heals it, and prints what
 * the network delivered and dropped (and why) and when each server agreed
 * again. */
#include "cli_demo.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_mesh.h"
#include "distro_cluster.h"
#include "obs_convergence.h"
#include "rpt_report.h"
#include "sim_net.h"

#define S SIM_S

typedef struct drop_totals {
    uint64_t sent;
    uint64_t delivered;
    uint64_t dropped[SIM_DROP_REASONS];
    uint64_t bytes;
} drop_totals;

static void add_stats(void *ctx, sim_node_id src, sim_node_id dst, uint16_t type, const sim_msg_stats *s)
{
    (void)src;
    (void)dst;
    drop_totals *t = ctx;
    t[type].sent += s->sent;
    t[type].delivered += s->delivered;
    t[type].bytes += s->bytes_delivered;
    for (int r = 0; r < SIM_DROP_REASONS; r++) t[type].dropped[r] += s->dropped[r];
}

static void print_state(sim_engine *sim, distro_cluster *c, obs *o, const char *what)
{
    printf("  t=%6.1fs  %-34s", (double)sim_now(sim) / 1e9, what);
    for (uint32_t n = 0; n < distro_cluster_size(c); n++) {
        printf("  node%u[%s keys=%u view=%u]", n, sim_node_state_name(sim_node_state_get(sim, n)),
               distro_node_key_count(c, n), distro_node_healthy_count(c, n));
    }
    printf("  divergent=%u\n", obs_divergent_keys(o));
}

/* Decimal digits only, the whole text, at most UINT64_MAX. */
static bool parse_seed(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (s[0] == '\0') return false;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') return false;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

int cli_demo_main(int argc, char **argv)
{
    if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: distrosim demo [SEED]\n\nA 3-node Nacos 1.4 cluster through a crash, a restart, a partition and a heal.\n");
        return 0;
    }
    uint64_t seed = 1;
    if (argc > 1) {
        fprintf(stderr, "distrosim demo: one SEED at most; unexpected \"%s\"\n", argv[1]);
        return 2;
    }
    if (argc == 1 && !parse_seed(argv[0], &seed)) {
        fprintf(stderr, "distrosim demo: SEED: expected a decimal number from 0 to %" PRIu64 ", got \"%s\"\n",
                UINT64_MAX, argv[0]);
        return 2;
    }
    sim_error err;
    sim_config sc = { .seed = seed, .node_count = 3 };
    sim_engine *sim = sim_engine_create(&sc, &err);
    distro_config cfg = distro_config_defaults();
    distro_cluster *c = sim != NULL ? distro_cluster_create(sim, &cfg, NULL, &err) : NULL;
    if (c == NULL) {
        fprintf(stderr, "distrosim demo: %s\n", err.message);
        sim_engine_destroy(sim);
        return 2;
    }
    sim_link_params link = sim_link_params_default();
    link.latency.base = (sim_dist){ .kind = SIM_DIST_UNIFORM, .a_ns = 500 * SIM_US, .b_ns = 2 * SIM_MS };
    obs *o = obs_create(sim, c, 0);
    int status = 0;
    if (sim_net_set_default(sim, &link, &err) != SIM_OK || distro_cluster_start_all(c, &err) != SIM_OK) status = 2;
    for (uint32_t i = 0; status == 0 && i < 300; i++) {
        char service[32], ip[32];
        int ns = snprintf(service, sizeof service, "demo-%u", i / 2);
        int ni = snprintf(ip, sizeof ip, "172.16.%u.%u", i / 250, i % 250 + 1);
        if (ns < 0 || (size_t)ns >= sizeof service || ni < 0 || (size_t)ni >= sizeof ip) {
            fprintf(stderr, "distrosim demo: a service name or address is longer than the limit of %zu bytes\n",
                    sizeof service - 1);
            status = 2;
            break;
        }
        distro_client_spec spec = { .service = service, .ip = ip, .port = 8080, .weight = 1.0 };
        if (distro_client_add(c, &spec, (sim_time_ns)i * 30 * SIM_MS, NULL, &err) != SIM_OK) status = 2;
    }
    if (status != 0) {
        fprintf(stderr, "distrosim demo: %s\n", err.message);
    } else {
        printf("distrosim demo: 3 Nacos 1.4.2 servers, 150 services x 2 instances, seed %" PRIu64 "\n\n", seed);
        struct {
            sim_time_ns at_ns;
            const char *what;
        } steps[] = {
            { 20 * S, "registered, views settled" },
            { 60 * S, "crash node 2 (restart after 10 s)" },
            { 70 * S, "node 2 restarts, loads a snapshot" },
            { 120 * S, "partition {0} | {1, 2}" },
            { 150 * S, "heal" },
            { 240 * S, "end" },
        };
        sim_time_ns fault_end[] = { 0, 0, 70 * S, 0, 150 * S, 0 };
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            (void)sim_run_until(sim, steps[i].at_ns);
            if (i == 1 && sim_node_restart(sim, 2, 10 * S, &err) != SIM_OK) status = 2;
            if (i == 3) {
                const uint32_t groups[3] = { 0, 1, 1 };
                if (sim_net_partition(sim, groups, 3, &err) != SIM_OK) status = 2;
            }
            if (i == 4) sim_net_heal_all(sim);
            print_state(sim, c, o, steps[i].what);
            (void)fault_end;
        }
        printf("\nconvergence (all up nodes agree with each other and with the live clients):\n");
        const char *names[] = { "after the restart of node 2 (t=70s)", "after the heal (t=150s)" };
        sim_time_ns ends[] = { 70 * S, 150 * S };
        for (int i = 0; i < 2; i++) {
            sim_time_ns at = obs_converged_after(o, ends[i]);
            if (at == SIM_TIME_NEVER) printf("  %-38s never\n", names[i]);
            else printf("  %-38s %.3f s later (t=%.3fs)\n", names[i], (double)(at - ends[i]) / 1e9, (double)at / 1e9);
            for (uint32_t n = 0; n < 3; n++) {
                sim_time_ns node_at = obs_node_agreed_after(o, n, ends[i]);
                if (node_at == SIM_TIME_NEVER) printf("    node %u lists the live instances: never\n", n);
                else printf("    node %u lists the live instances: %.3f s later\n", n, (double)(node_at - ends[i]) / 1e9);
            }
        }
        printf("  lost instance windows (longest)        %.3f s\n", (double)obs_window_max(o, OBS_WINDOW_LOST) / 1e9);
        printf("  ownership disagreement (longest)       %.3f s\n",
               (double)obs_window_max(o, OBS_WINDOW_OWNERSHIP_MULTI) / 1e9);
        drop_totals totals[64];
        memset(totals, 0, sizeof totals);
        sim_net_stats_foreach(sim, add_stats, totals);
        printf("\nmessages by type: sent, delivered, dropped (by reason), bytes delivered\n");
        for (uint16_t t = 0; t < 64; t++) {
            if (totals[t].sent == 0) continue;
            printf("  %-24s sent=%-7" PRIu64 " delivered=%-7" PRIu64, distro_msg_type_name(t), totals[t].sent,
                   totals[t].delivered);
            for (int r = 0; r < SIM_DROP_REASONS; r++) {
                if (totals[t].dropped[r] > 0) {
                    printf(" %s=%" PRIu64, sim_drop_reason_name((sim_drop_reason)r), totals[t].dropped[r]);
                }
            }
            printf(" bytes=%" PRIu64 "\n", totals[t].bytes);
        }
        printf("\nevents=%" PRIu64 " trace_hash=%016" PRIx64 "\n", sim_events_processed(sim), sim_trace_hash(sim));
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "distrosim demo: cannot write to standard output\n");
            status = 2;
        }
    }
    obs_destroy(o);
    distro_cluster_destroy(c);
    sim_engine_destroy(sim);
    return status;
}
