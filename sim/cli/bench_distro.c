/* bench_distro.c: `distrosim bench distro`, the Distro model's benchmark.
 *
 * Runs a large cluster without the observer and reports wall time, events
 * per second, virtual seconds per wall second and peak RSS; it reads the
 * wall clock, which only command-line code may do. */
#include "bench_distro.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_mesh.h"
#include "distro_cluster.h"
#include "sim_duration.h"
#include "sim_net.h"

/* Adds each (src, dst, type) entry's sent count into sent[type]. */
static void add_sent(void *ctx, sim_node_id src, sim_node_id dst, uint16_t type, const sim_msg_stats *s)
{
    (void)src;
    (void)dst;
    uint64_t *sent = ctx;
    sent[type] += s->sent;
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || s[0] == '-') return -1;
    if (*end == 'k' || *end == 'K') {
        v *= 1000;
        end++;
    }
    if (*end != '\0') return -1;
    *out = v;
    return 0;
}

typedef struct bench_distro_args {
    uint64_t nodes, services, instances;
    uint64_t clients;            /* --clients, 0: from --services */
    sim_time_ns duration;
    distro_version version;      /* --version: which Nacos the cluster runs */
} bench_distro_args;

static const char *const transport_names[2] = { "datagram", "tcp" };

/* One run: prints its RESULT and MESSAGES lines; returns 0, or 2 with the
 * error printed. */
static int bench_distro_once(const bench_distro_args *a, bool tcp, double *wall_out, uint64_t *trace_out)
{
    double t0 = bench_wall_now();
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    sim_error err;
    sim_config sc = { .seed = 1, .node_count = (uint32_t)a->nodes };
    sim_engine *sim = sim_engine_create(&sc, &err);
    distro_config cfg = distro_config_defaults();
    cfg.version = a->version;
    distro_cluster *c = sim != NULL ? distro_cluster_create(sim, &cfg, NULL, &err) : NULL;
    int status = c == NULL || (tcp && distro_cluster_use_tcp(c, NULL, &err) != SIM_OK) ||
                         distro_cluster_start_all(c, &err) != SIM_OK
                     ? 2
                     : 0;
    /* 1.4.2: a 1.x client is one instance, `instances` clients per
     * service.  2.5.1: a 2.x SDK client holds one connection and
     * batch-registers `instances` instances of its own service. */
    bool v2 = a->version != DISTRO_VERSION_1_4_2;
    uint64_t per_service = v2 ? 1 : a->instances;
    uint64_t clients = a->clients != 0 ? a->clients : v2 ? a->services : a->services * a->instances;
    uint64_t services = (clients + per_service - 1) / per_service;
    /* Clients start once the servers' member views have settled: 1.4.2
     * starts peers DOWN and learns them one probe or report at a time, and
     * a fleet registering into a booting 50-node cluster measures the boot
     * storm (every request bounced between disagreeing views), not the
     * steady state.  2 s per node covers the round-robin probes. */
    sim_time_ns settle = 2 * SIM_S * a->nodes < 10 * SIM_S ? 10 * SIM_S : 2 * SIM_S * a->nodes;
    for (uint64_t i = 0; status == 0 && i < clients; i++) {
        char service[32], ip[32];
        int ns = snprintf(service, sizeof service, "bench-%" PRIu64, i / per_service);
        int ni = snprintf(ip, sizeof ip, "10.%u.%u.%u", (unsigned)(64 + i / 65536 % 128), (unsigned)(i / 256 % 256),
                          (unsigned)(i % 256));
        if (ns < 0 || (size_t)ns >= sizeof service || ni < 0 || (size_t)ni >= sizeof ip) {
            fprintf(stderr, "distrosim bench distro: a service name or address is longer than the limit of %zu bytes\n",
                    sizeof service - 1);
            status = 2;
            break;
        }
        distro_client_spec spec = { .service = service, .ip = ip, .port = 8080, .weight = 1.0,
                                    .instances = v2 ? (uint32_t)a->instances : 1 };
        /* Registrations spread over the first 30 s, as an app fleet starts. */
        if (distro_client_add(c, &spec, settle + (sim_time_ns)(i * 30 * SIM_S / clients), NULL, &err) != SIM_OK) {
            status = 2;
        }
    }
    if (status == 0) (void)sim_run_until(sim, a->duration);
    double wall = bench_wall_now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (status != 0) {
        fprintf(stderr, "distrosim bench distro: %s\n", err.message);
    } else {
        uint64_t events = sim_events_processed(sim);
        uint32_t keys_min = UINT32_MAX;
        uint64_t instances_min = UINT64_MAX, verify_items = 0;
        for (uint32_t n = 0; n < a->nodes; n++) {
            uint32_t k = distro_node_key_count(c, n);
            if (k < keys_min) keys_min = k;
            uint64_t listed = 0;   /* the first client of each service names its key */
            for (uint64_t i = 0; i < clients; i += per_service) {
                listed += distro_node_instance_count(c, n, distro_client_key(c, (uint32_t)i));
            }
            if (listed < instances_min) instances_min = listed;
            verify_items += distro_node_counters(c, n)->verify_sent;
        }
        /* User CPU time of this run: the machine is shared, and wall time
         * counts the other users too. */
        double user_s = (double)(ru.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                        (double)(ru.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
        printf("RESULT bench=distro version=%s transport=%s nodes=%" PRIu64 " clients=%" PRIu64 " services=%" PRIu64
               " instances=%" PRIu64 " duration_s=%.0f wall_s=%.3f events=%" PRIu64 " events_per_s=%.0f vsec_per_wall_s=%.1f"
               " user_s=%.3f peak_rss_kb=%ld keys_on_every_node=%u instances_on_every_node=%" PRIu64
               " trace=%016" PRIx64 "\n",
               distro_version_name(a->version), transport_names[tcp], a->nodes, clients, services, a->instances, (double)a->duration / 1e9, wall, events, (double)events / wall,
               (double)a->duration / 1e9 / wall, user_s, ru.ru_maxrss, keys_min, instances_min, sim_trace_hash(sim));
        uint64_t sent[64];
        memset(sent, 0, sizeof sent);
        sim_net_stats_foreach(sim, add_sent, sent);
        printf("MESSAGES");
        for (uint16_t t = 0; t < 64; t++) {
            if (sent[t] > 0) printf(" %s=%" PRIu64, distro_msg_type_name(t), sent[t]);
        }
        /* Messages are the engine's: a 2.x verify message carries one
         * round's requests to one peer.  Requests are counted apart: a
         * 2.x VERIFY request per client per peer, a 1.4.2 checksum message. */
        printf(" verify_requests=%" PRIu64 "\n", verify_items);
        fflush(stdout);
        *wall_out = wall;
        *trace_out = sim_trace_hash(sim);
    }
    distro_cluster_destroy(c);
    sim_engine_destroy(sim);
    return status;
}

static int double_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double median_of(double *walls, uint64_t n)
{
    qsort(walls, n, sizeof walls[0], double_cmp);
    return n % 2 == 1 ? walls[n / 2] : (walls[n / 2 - 1] + walls[n / 2]) / 2;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: distrosim bench distro [--nodes N] [--services S | --clients C] [--instances I]\n"
                 "                              [--duration 1h|10m|30s] [--repeat N] [--transport tcp|datagram|both]\n"
                 "                              [--version 1.4.2|2.5.1|3.0.3]\n"
                 "  defaults: 5 nodes, 10000 services x 2 instances, 1 h of cluster time; clients\n"
                 "  register over 30 s once the member views have settled (2 s per node, at least 10 s).\n"
                 "  1.4.2: a 1.x client is one instance; --instances is instances per service, and\n"
                 "  --clients C is C clients in C / I services (S x I clients with --services).\n"
                 "  2.5.1 and 3.0.3: a 2.x SDK client holds one gRPC connection and batch-registers --instances\n"
                 "  instances of its own service (ports 8080, 8081, ...); --clients C is C clients,\n"
                 "  --services S the same as --clients S.\n"
                 "  --repeat runs it N times (1..100) and prints the wall time's min, median and max,\n"
                 "  for machines shared with other work; every repeat must give the same trace.\n"
                 "  --transport: the model's HTTP calls ride connections (tcp, the default, as\n"
                 "  scenarios do) or datagram requests; both alternates the two, run by run, and\n"
                 "  prints the ratio of their median wall times (target: tcp at most 1.5x).\n"
                 "  --version: the Nacos the servers run (1.4.2, the default, 2.5.1, whose\n"
                 "  clients are 2.x SDKs over gRPC, or 3.0.3, 2.5.1's Distro with the inner-API\n"
                 "  identity check, every server's identity set); every RESULT line names it.\n"
                 "  MESSAGES counts the engine's messages by type (a 2.x v2_verify message carries\n"
                 "  one verify round's requests to one peer) and verify_requests the verify\n"
                 "  requests (2.x: one per client per peer per round; 1.4.2: checksum messages).\n"
                 "  user_s is the run's user CPU time (the wall time also counts other work).\n");
}

int bench_distro_main(int argc, char **argv)
{
    bench_distro_args a = { .nodes = 5, .services = 10000, .instances = 2, .duration = 3600 * SIM_S,
                            .version = DISTRO_VERSION_1_4_2 };
    uint64_t repeat = 1;
    bool services_given = false;
    int transports = 2;   /* bit 0: datagram, bit 1: tcp */
    for (int i = 0; i < argc; i += 2) {   /* flags come in (name, value) pairs */
        const char *next = i + 1 < argc ? argv[i + 1] : "";
        int bad = 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--nodes") == 0) bad = parse_size(next, &a.nodes) || a.nodes < 1 || a.nodes > 1000;
        else if (strcmp(argv[i], "--services") == 0) {
            bad = parse_size(next, &a.services) || a.services > 10000000;
            services_given = true;
        }
        else if (strcmp(argv[i], "--clients") == 0) bad = parse_size(next, &a.clients) || a.clients < 1 || a.clients > 10000000;
        else if (strcmp(argv[i], "--instances") == 0) bad = parse_size(next, &a.instances) || a.instances < 1 || a.instances > 1000;
        else if (strcmp(argv[i], "--duration") == 0) {
            sim_error derr = { 0 };
            if (sim_duration_parse(next, &a.duration, &derr) != SIM_OK) {
                fprintf(stderr, "distrosim bench distro: --duration: %s\n", derr.message);
                bad = 1;
            } else if (a.duration == 0) {
                fprintf(stderr, "distrosim bench distro: --duration: expected a positive duration, got %s\n", next);
                bad = 1;
            }
        }
        else if (strcmp(argv[i], "--version") == 0) {
            bad = strcmp(next, "1.4.2") != 0 && strcmp(next, "2.5.1") != 0 && strcmp(next, "3.0.3") != 0;
            a.version = strcmp(next, "2.5.1") == 0   ? DISTRO_VERSION_2_5_1
                        : strcmp(next, "3.0.3") == 0 ? DISTRO_VERSION_3_0_3
                                                     : DISTRO_VERSION_1_4_2;
        }
        else if (strcmp(argv[i], "--repeat") == 0) bad = parse_size(next, &repeat) || repeat < 1 || repeat > 100;
        else if (strcmp(argv[i], "--transport") == 0) {
            transports = strcmp(next, "datagram") == 0 ? 1 : strcmp(next, "tcp") == 0 ? 2 : strcmp(next, "both") == 0 ? 3 : 0;
            bad = transports == 0;
        }
        else bad = 1;
        if (!bad && services_given && a.clients != 0) {
            fprintf(stderr, "distrosim bench distro: give --clients or --services, not both\n");
            bad = 1;
        }
        if (bad) {
            usage(stderr);
            return 2;
        }
    }
    double walls[2][100];
    uint64_t first_trace[2] = { 0, 0 };
    bool same = true;
    for (uint64_t r = 0; r < repeat; r++) {
        for (int t = 0; t < 2; t++) {   /* alternated, so machine noise falls on both alike */
            if (!(transports & (1 << t))) continue;
            uint64_t trace = 0;
            if (bench_distro_once(&a, t == 1, &walls[t][r], &trace) != 0) return 2;
            if (r == 0) first_trace[t] = trace;
            same = same && trace == first_trace[t];
        }
    }
    double median[2] = { 0, 0 };
    for (int t = 0; t < 2; t++) {
        if (!(transports & (1 << t))) continue;
        median[t] = median_of(walls[t], repeat);
        if (repeat > 1) {
            printf("SUMMARY bench=distro version=%s transport=%s runs=%" PRIu64 " wall_min_s=%.3f wall_median_s=%.3f"
                   " wall_max_s=%.3f same_trace=%s\n", distro_version_name(a.version), transport_names[t], repeat, walls[t][0], median[t],
                   walls[t][repeat - 1], same ? "yes" : "NO");
        }
    }
    if (transports == 3) {
        double ratio = median[0] > 0 ? median[1] / median[0] : 0;
        printf("COMPARE bench=distro tcp_over_datagram=%.2f target=1.50 %s\n", ratio, ratio <= 1.5 ? "met" : "MISSED");
    }
    return same ? 0 : 1;
}

