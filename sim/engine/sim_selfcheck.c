/* sim_selfcheck.c: two runs, one comparison. */
#include "sim_selfcheck.h"

#include <stdio.h>
#include <string.h>

static bool record_equal(const sim_trace_record *a, const sim_trace_record *b)
{
    return a->at_ns == b->at_ns && a->seq == b->seq && a->node == b->node &&
           a->incarnation == b->incarnation && a->kind == b->kind;
}

sim_status sim_selfcheck(sim_selfcheck_run_fn *run, void *ctx, sim_selfcheck_result *out, sim_error *err)
{
    if (run == NULL || out == NULL) {
        return sim_error_set(err, SIM_ERR_INVALID, "sim_selfcheck", "run function or result is NULL");
    }
    memset(out, 0, sizeof *out);
    sim_engine *engines[2] = { NULL, NULL };
    for (unsigned i = 0; i < 2; i++) {
        engines[i] = run(ctx, i, err);
        if (engines[i] == NULL) {
            sim_engine_destroy(engines[0]);
            return err != NULL && err->status != SIM_OK ? err->status : SIM_ERR_STATE;
        }
    }
    const sim_trace_record *trace[2];
    for (unsigned i = 0; i < 2; i++) {
        trace[i] = sim_trace_records(engines[i], &out->events[i]);
        out->hash[i] = sim_trace_hash(engines[i]);
    }
    size_t common = out->events[0] < out->events[1] ? out->events[0] : out->events[1];
    size_t k = 0;
    while (k < common && record_equal(&trace[0][k], &trace[1][k])) k++;
    out->same = out->hash[0] == out->hash[1] && k == common && out->events[0] == out->events[1];
    out->first_diff = k;
    for (unsigned i = 0; i < 2; i++) {
        out->has_record[i] = k < out->events[i];
        if (out->has_record[i]) out->record[i] = trace[i][k];
    }
    sim_engine_destroy(engines[0]);
    sim_engine_destroy(engines[1]);
    return SIM_OK;
}

static void describe_record(char *buf, size_t size, bool present, const sim_trace_record *r)
{
    if (!present) {
        snprintf(buf, size, "(run ended)");
        return;
    }
    snprintf(buf, size, "t=%lluns seq=%llu kind=%u node=%d incarnation=%u",
             (unsigned long long)r->at_ns, (unsigned long long)r->seq, (unsigned)r->kind,
             r->node == SIM_NODE_NONE ? -1 : (int)r->node, r->incarnation);
}

void sim_selfcheck_describe(const sim_selfcheck_result *result, char *buf, size_t size)
{
    if (result->same) {
        snprintf(buf, size, "deterministic: both runs processed %zu events, trace hash %016llx",
                 result->events[0], (unsigned long long)result->hash[0]);
        return;
    }
    char a[160], b[160];
    describe_record(a, sizeof a, result->has_record[0], &result->record[0]);
    describe_record(b, sizeof b, result->has_record[1], &result->record[1]);
    snprintf(buf, size,
             "NOT deterministic: hashes %016llx and %016llx; the runs part at event #%zu:\n"
             "  run 1: %s\n  run 2: %s",
             (unsigned long long)result->hash[0], (unsigned long long)result->hash[1], result->first_diff,
             a, b);
}
