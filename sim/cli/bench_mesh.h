/* bench_mesh.h: workload MH(N, V), on the engine and on a bare C loop.
 *
 * MH(N, V): N nodes, V virtual seconds.  Node i fires a periodic 1 s timer,
 * first at i * (10^9 / N) ns, while the fire time is < V s; each fire sends
 * a 64-byte message to each other node over a constant 1 ms link.  On
 * receipt node j folds h[j] = h[j] * 31 + (sender ^ send_time_ns).  The
 * final checksum folds all h[j] with FNV's prime.  The engine run goes
 * through the public API (node timers, sim_net_send, on_message), the same
 * path the model uses; the baseline is a bare loop written for this
 * workload alone: a 4-ary heap keyed by (time, seq), an event pool and a
 * switch. */
#ifndef BENCH_MESH_H
#define BENCH_MESH_H

#include <stdint.h>

#include "sim_error.h"

typedef struct bench_mesh_result {
    uint32_t nodes;
    uint32_t seconds;
    uint64_t deliveries;
    uint64_t fires;
    uint64_t late;
    uint64_t checksum;
    uint64_t end_time_ns;
    double wall_s;
    long peak_rss_kb;
} bench_mesh_result;

SIM_MUST_CHECK sim_status bench_mesh_engine(uint32_t nodes, uint32_t seconds, bench_mesh_result *out,
                                            sim_error *err);
SIM_MUST_CHECK sim_status bench_mesh_baseline(uint32_t nodes, uint32_t seconds, bench_mesh_result *out,
                                              sim_error *err);

/* Monotonic wall-clock seconds, for the benchmarks' timings only (harness
 * code: the engine and model never read a clock). */
double bench_wall_now(void);

/* `distrosim bench mesh [--baseline] N V`: prints RESULT lines; returns the
 * process exit status. */
int bench_mesh_main(int argc, char **argv);

#endif
