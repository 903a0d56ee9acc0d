/* sim_rng.c: xoshiro256** streams, unbiased bounds, and distributions. */
#include "sim_rng.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

sim_rng sim_rng_derive(uint64_t seed, uint64_t stream_id)
{
    /* Two splitmix rounds decorrelate (seed, id) pairs that differ in one bit;
     * the stream id enters after the seed is mixed so that (s, id) and
     * (id, s) give different streams. */
    uint64_t x = seed;
    uint64_t mixed = splitmix64(&x);
    x = mixed ^ (stream_id * 0xd1342543de82ef95ull + 0x2545f4914f6cdd1dull);
    sim_rng rng;
    for (int i = 0; i < 4; i++) {
        rng.s[i] = splitmix64(&x);
    }
    /* xoshiro must not start from the all-zero state. */
    if ((rng.s[0] | rng.s[1] | rng.s[2] | rng.s[3]) == 0) rng.s[0] = 1;
    return rng;
}

uint64_t sim_rng_u64(sim_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sim_rng_below(sim_rng *rng, uint64_t bound)
{
    SIM_ASSERT(bound > 0);
    /* Lemire 2019: the high word of x * bound is uniform once the low word
     * falls outside the first (2^64 mod bound) values. */
    __extension__ typedef unsigned __int128 u128;
    uint64_t x = sim_rng_u64(rng);
    u128 m = (u128)x * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = (0 - bound) % bound;
        while (low < threshold) {
            x = sim_rng_u64(rng);
            m = (u128)x * bound;
            low = (uint64_t)m;
        }
    }
    uint64_t result = (uint64_t)(m >> 64);
    SIM_ASSERT(result < bound);
    return result;
}

bool sim_rng_chance_ppm(sim_rng *rng, uint32_t ppm)
{
    SIM_ASSERT(ppm <= SIM_PPM);
    if (ppm == 0) return false;        /* no draw: a zero ratio costs nothing */
    if (ppm == SIM_PPM) return true;
    return sim_rng_below(rng, SIM_PPM) < ppm;
}

double sim_rng_unit(sim_rng *rng)
{
    return (double)(sim_rng_u64(rng) >> 11) * 0x1.0p-53;
}

double sim_rng_normal(sim_rng *rng)
{
    /* Polar method; the expected number of rounds is 1.27, and 64 failed
     * rounds in a row has probability 0.21^64, so the bound never bites. */
    for (int round = 0; round < 64; round++) {
        double u = 2.0 * sim_rng_unit(rng) - 1.0;
        double v = 2.0 * sim_rng_unit(rng) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0) {
            return u * sqrt(-2.0 * log(s) / s);
        }
    }
    return 0.0;
}

sim_status sim_dist_validate(const sim_dist *dist, sim_error *err)
{
    if (dist == NULL) return sim_error_set(err, SIM_ERR_INVALID, "sim_dist_validate", "distribution is NULL");
    const sim_time_ns max_ns = (sim_time_ns)1 << 62;
    switch (dist->kind) {
    case SIM_DIST_CONSTANT:
    case SIM_DIST_EXPONENTIAL:
        break;
    case SIM_DIST_UNIFORM:
        if (dist->a_ns > dist->b_ns) {
            return sim_error_set(err, SIM_ERR_INVALID, "sim_dist_validate",
                                 "uniform distribution needs min <= max");
        }
        break;
    case SIM_DIST_NORMAL:
        break;
    case SIM_DIST_LOGNORMAL:
        if (dist->sigma_milli > 10000) {
            return sim_error_set(err, SIM_ERR_INVALID, "sim_dist_validate",
                                 "lognormal sigma must be at most 10");
        }
        break;
    default:
        return sim_error_set(err, SIM_ERR_INVALID, "sim_dist_validate",
                             "unknown distribution kind %d", (int)dist->kind);
    }
    if (dist->a_ns > max_ns || dist->b_ns > max_ns) {
        return sim_error_set(err, SIM_ERR_INVALID, "sim_dist_validate",
                             "distribution parameter above 2^62 ns");
    }
    return SIM_OK;
}

sim_status sim_latency_validate(const sim_latency *lat, sim_error *err)
{
    if (lat == NULL) return sim_error_set(err, SIM_ERR_INVALID, "sim_latency_validate", "latency is NULL");
    if (lat->tail_ppm > SIM_PPM) {
        return sim_error_set(err, SIM_ERR_INVALID, "sim_latency_validate",
                             "slow-tail ratio %u ppm is above 1", lat->tail_ppm);
    }
    sim_status st = sim_dist_validate(&lat->base, err);
    if (st != SIM_OK) return st;
    if (lat->tail_ppm > 0) return sim_dist_validate(&lat->tail, err);
    return SIM_OK;
}

static sim_time_ns clamp_ns(double x)
{
    const double max_ns = 4611686018427387904.0;  /* 2^62 */
    if (!(x > 0.0)) return 0;                     /* negative or NaN */
    if (x >= max_ns) return (sim_time_ns)1 << 62;
    return (sim_time_ns)llround(x);
}

sim_time_ns sim_dist_sample(const sim_dist *dist, sim_rng *rng)
{
    switch (dist->kind) {
    case SIM_DIST_CONSTANT:
        return dist->a_ns;
    case SIM_DIST_UNIFORM:
        SIM_ASSERT(dist->a_ns <= dist->b_ns);
        if (dist->b_ns - dist->a_ns == UINT64_MAX) return sim_rng_u64(rng);
        return dist->a_ns + sim_rng_below(rng, dist->b_ns - dist->a_ns + 1);
    case SIM_DIST_NORMAL:
        return clamp_ns((double)dist->a_ns + (double)dist->b_ns * sim_rng_normal(rng));
    case SIM_DIST_LOGNORMAL:
        return clamp_ns((double)dist->a_ns *
                        exp((double)dist->sigma_milli / 1000.0 * sim_rng_normal(rng)));
    case SIM_DIST_EXPONENTIAL:
        /* 1 - unit is in (0, 1], so the log is finite. */
        return clamp_ns(-(double)dist->a_ns * log(1.0 - sim_rng_unit(rng)));
    }
    SIM_ASSERT(0 && "unknown distribution kind");
    return 0;
}

sim_time_ns sim_latency_sample(const sim_latency *lat, sim_rng *rng)
{
    if (lat->tail_ppm > 0 && sim_rng_chance_ppm(rng, lat->tail_ppm)) {
        return sim_dist_sample(&lat->tail, rng);
    }
    return sim_dist_sample(&lat->base, rng);
}

sim_latency sim_latency_constant(sim_time_ns ns)
{
    sim_latency lat;
    memset(&lat, 0, sizeof lat);
    lat.base.kind = SIM_DIST_CONSTANT;
    lat.base.a_ns = ns;
    return lat;
}
