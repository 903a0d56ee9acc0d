/* scn_swarm.h: per-seed configurations drawn from a scenario's `swarm:` block.
 *
 * A swarm scenario is a family of scenarios: its `swarm:` block (the types
 * are in scn_config.h) gives ranges or choices for scenario keys, and every
 * seed draws one member of the family.  The draw comes from a random stream
 * of its own, derived from the seed (SCN_SWARM_STREAM), so it depends on the
 * seed and the block alone and shifts nothing the run itself draws; the same
 * seed always gives the same configuration, which is why `run FILE --seed S`
 * reproduces a run of `check FILE --seeds random:N`.
 *
 * The drawn configuration has no swarm block and its `seed` is the seed it
 * was drawn for: it is the run's effective scenario (stored in
 * runs.effective_yaml), and running that text reproduces the run.
 *
 * A draw applies the entries in file order through the loader's setter
 * (scn_config_apply), then validates the whole configuration; a combination
 * the checks refuse (nemesis.interval.min above a drawn max, a node index
 * beyond a drawn cluster.nodes) is drawn again from the same stream, at most
 * SCN_SWARM_ATTEMPTS_MAX times, so every seed that has a configuration gets
 * one deterministically. */
#ifndef SCN_SWARM_H
#define SCN_SWARM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scn_config.h"
#include "sim_error.h"
#include "sim_rng.h"

/* The draw's stream: a harness stream no runner entity uses (the runner's
 * are SIM_STREAM_HARNESS(1..3)). */
#define SCN_SWARM_STREAM SIM_STREAM_HARNESS(0x5357u)

/* Draws per seed before giving up on a block whose combinations the checks
 * keep refusing; a block that fails this often is a mistake in the file. */
#define SCN_SWARM_ATTEMPTS_MAX 100u

/* What one draw chose: "key=value" pairs separated by one space, in file
 * order (a value may hold spaces: a latency mapping's flow text). */
#define SCN_SWARM_TEXT_BYTES (SCN_SWARM_ENTRIES_MAX * 160u)

/* Fills `out` (fresh memory) with `base` as drawn for `seed`: every swarm
 * entry applied, the swarm block dropped, out->seed = seed, validated.
 * `drawn` (may be NULL; SCN_SWARM_TEXT_BYTES) receives what was chosen.
 * Without a swarm block `out` is a copy of `base` with the seed set.
 * SIM_ERR_SCENARIO (where "swarm") when no valid configuration came in
 * SCN_SWARM_ATTEMPTS_MAX draws, with the last refusal.  Borrows `base`;
 * on failure `*out` owns nothing.  Pure: same inputs, same output. */
SIM_MUST_CHECK sim_status scn_swarm_draw(const scn_config *base, uint64_t seed, scn_config *out, char *drawn,
                                         sim_error *err);

/* Removes the entry for `key`, if any (a --set of a swarm key pins it). */
void scn_swarm_remove(scn_config *config, const char *key);

/* Helpers of scn_config.c for the block: free, deep copy (false when out
 * of memory: *dst then owns nothing), equality, YAML printing. */
void scn_swarm_free(scn_swarm_entry *entries, uint32_t count);
bool scn_swarm_copy(scn_swarm_entry **dst, const scn_swarm_entry *src, uint32_t count);
bool scn_swarm_equal(const scn_swarm_entry *a, const scn_swarm_entry *b, uint32_t count);
void scn_swarm_print(const scn_swarm_entry *entries, uint32_t count, FILE *out);

/* The i-th NUL-terminated text of a CHOICE or SUBSET entry, i < value_count. */
const char *scn_swarm_text(const scn_swarm_entry *entry, uint32_t i);

/* Formats a RANGE bound or a drawn value of `type` as the loader reads it. */
void scn_swarm_format(scn_swarm_type type, uint64_t value, char *buf, size_t size);

#endif
