/* cli_shard.h: `--shard K/N`, the split of a campaign into shards.
 *
 * A campaign's jobs (scenario, parameter combination, seed) are numbered
 * from 1 in the order the campaign runs them: scenario by scenario,
 * combination by combination, seed by seed.  Shard K of N takes the jobs
 * whose number j has (j - 1) mod N == K - 1: jobs K, K + N, K + 2N, ...
 * Every job is in exactly one shard, the split depends on nothing but the
 * job list and N, and each shard's runs are a subsequence of the whole
 * campaign's, in the same order, so `distrosim merge` can interleave the
 * shards back into it (runs.job records each run's number). */
#ifndef CLI_SHARD_H
#define CLI_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest N: far more machines than a campaign will ever be split over,
 * and small enough that K and N print in a short label. */
#define CLI_SHARD_COUNT_MAX 1000000u

typedef struct cli_shard {
    uint64_t index;              /* K, from 1; 0 = not sharded */
    uint64_t count;              /* N; 0 = not sharded */
} cli_shard;

/* Parses "K/N" (decimal, 1 <= K <= N <= CLI_SHARD_COUNT_MAX).  False when
 * the text is anything else; `*out` is then unchanged. */
bool cli_shard_parse(const char *text, cli_shard *out);

/* How many of `total` jobs (numbered 1..total) the shard takes; all of
 * them when not sharded. */
uint64_t cli_shard_jobs(const cli_shard *shard, uint64_t total);

/* The number (from 1) of the shard's first job: K, or 1 when not sharded. */
uint64_t cli_shard_first(const cli_shard *shard);

/* The distance between two consecutive jobs of the shard: N, or 1 when not
 * sharded. */
uint64_t cli_shard_step(const cli_shard *shard);

#endif
