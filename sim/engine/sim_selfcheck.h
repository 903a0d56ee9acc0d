/* sim_selfcheck.h: run the same thing twice and find where the runs part.
 *
 * The determinism promise is "same binary, scenario and seed: the same run,
 * bit for bit".  sim_selfcheck runs a caller's function twice with trace
 * recording on, compares the trace hashes and, when they differ, names the
 * first event at which the two traces differ. */
#ifndef SIM_SELFCHECK_H
#define SIM_SELFCHECK_H

#include "sim_engine.h"

/* Builds and runs one engine (its config must set trace_record) and returns
 * it finished and owned, or NULL with `err` filled.  `run_index` is 0 then 1. */
typedef sim_engine *sim_selfcheck_run_fn(void *ctx, unsigned run_index, sim_error *err);

typedef struct sim_selfcheck_result {
    bool same;                    /* the two traces are identical */
    uint64_t hash[2];
    size_t events[2];
    size_t first_diff;            /* index of the first differing record */
    bool has_record[2];           /* false: that run ended before first_diff */
    sim_trace_record record[2];   /* the two records at first_diff */
} sim_selfcheck_result;

SIM_MUST_CHECK sim_status sim_selfcheck(sim_selfcheck_run_fn *run, void *ctx, sim_selfcheck_result *out,
                                        sim_error *err);

/* Writes a one-paragraph explanation of `result` into buf. */
void sim_selfcheck_describe(const sim_selfcheck_result *result, char *buf, size_t size);

#endif
