/* sim_rng.h: seeded random streams and latency distributions.
 *
 * The scenario seed is the only source of entropy.  Every entity (a node, a
 * link, a client, the nemesis) draws from its own stream, derived from
 * (seed, stable entity id) with sim_rng_derive, so adding an entity never
 * shifts what another one draws.  The generator is xoshiro256** seeded by
 * splitmix64: fast, 256 bits of state, and defined purely with 64-bit
 * integer operations, so the same seed gives the same integer draws on every
 * build.  Continuous distributions use IEEE doubles and the C library's
 * log/exp/sqrt; results are rounded to integer nanoseconds before anything
 * uses them.
 *
 * Probabilities are integer parts per million, never a double compared
 * with `<` (TigerBeetle's Ratio). */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_error.h"
#include "sim_time.h"

typedef struct sim_rng {       /* value type: the caller owns it */
    uint64_t s[4];
} sim_rng;

#define SIM_PPM 1000000u       /* 100 % in parts per million */

/* Stable stream ids: a family in the top byte, the entity below it.  An
 * entity's id depends only on what it is (node 3, link 2->5, client 17),
 * never on how many other entities exist. */
#define SIM_STREAM_NODE(id, incarnation) ((1ull << 56) | ((uint64_t)(id) << 24) | (uint64_t)(incarnation))
#define SIM_STREAM_LINK(src, dst) ((2ull << 56) | ((uint64_t)(src) << 24) | (uint64_t)(dst))
#define SIM_STREAM_HARNESS(id) ((3ull << 56) | (uint64_t)(id))

/* A stream for `stream_id` under `seed`.  Pure: same inputs, same stream. */
sim_rng sim_rng_derive(uint64_t seed, uint64_t stream_id);

uint64_t sim_rng_u64(sim_rng *rng);

/* Uniform in [0, bound), bound > 0.  Unbiased: Lemire's multiply-shift with
 * rejection of the short final interval, rather than `x % bound`, whose bias
 * is visible for bounds near 2^64. */
uint64_t sim_rng_below(sim_rng *rng, uint64_t bound);

/* True with probability ppm / 10^6; ppm <= SIM_PPM (asserted). */
bool sim_rng_chance_ppm(sim_rng *rng, uint32_t ppm);

/* Uniform double in [0, 1) with 53 random bits. */
double sim_rng_unit(sim_rng *rng);

/* Standard normal N(0, 1), Marsaglia's polar method (log and sqrt only). */
double sim_rng_normal(sim_rng *rng);

/* --- Distributions of durations ------------------------------------------ */

typedef enum sim_dist_kind {
    SIM_DIST_CONSTANT,     /* a_ns */
    SIM_DIST_UNIFORM,      /* uniform integer in [a_ns, b_ns] */
    SIM_DIST_NORMAL,       /* mean a_ns, standard deviation b_ns, clamped at 0 */
    SIM_DIST_LOGNORMAL,    /* median a_ns, shape sigma = sigma_milli / 1000 */
    SIM_DIST_EXPONENTIAL,  /* mean a_ns */
} sim_dist_kind;

typedef struct sim_dist {
    sim_dist_kind kind;
    sim_time_ns a_ns;
    sim_time_ns b_ns;
    uint32_t sigma_milli;  /* lognormal only */
} sim_dist;

/* A latency: a base distribution and, with probability tail_ppm, a draw from
 * a second "slow tail" distribution instead (a bimodal latency).  tail_ppm = 0
 * is a plain distribution.  Kept flat, not nested, so no recursion. */
typedef struct sim_latency {
    sim_dist base;
    sim_dist tail;
    uint32_t tail_ppm;
} sim_latency;

/* Checks the parameters: uniform needs a <= b, ratios <= 10^6, sigma <= 10. */
SIM_MUST_CHECK sim_status sim_dist_validate(const sim_dist *dist, sim_error *err);
SIM_MUST_CHECK sim_status sim_latency_validate(const sim_latency *lat, sim_error *err);

/* One draw, in nanoseconds, saturating at 2^62 ns.  Constant draws consume
 * no randomness, so a constant latency never perturbs a stream. */
sim_time_ns sim_dist_sample(const sim_dist *dist, sim_rng *rng);
sim_time_ns sim_latency_sample(const sim_latency *lat, sim_rng *rng);

/* Convenience constructors. */
sim_latency sim_latency_constant(sim_time_ns ns);

#endif
