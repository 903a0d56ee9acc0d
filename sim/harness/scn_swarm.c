/* scn_swarm.c: drawing a configuration per seed from a `swarm:` block.
 *
 * Invariants:
 *   (1) A draw reads only the base config and its own stream
 *       sim_rng_derive(seed, SCN_SWARM_STREAM): never the wall clock, never
 *       another stream, so the run's own draws are the same as without a
 *       swarm block given the same configuration.
 *   (2) Every entry consumes the stream in a fixed way per attempt (one
 *       draw for RANGE and CHOICE, one bit per kind for SUBSET plus its
 *       retries), so the k-th attempt's values depend only on the seed.
 *   (3) Loops are bounded: SCN_SWARM_ATTEMPTS_MAX attempts of at most
 *       SCN_SWARM_ENTRIES_MAX entries, a SUBSET at most
 *       SCN_SWARM_SUBSET_TRIES_MAX rounds. */
#include "scn_swarm.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "scn_load.h"
#include "sim_alloc.h"
#include "sim_assert.h"

/* Rounds of coin flips before a SUBSET takes one kind at random: with k
 * kinds a round is empty with probability 2^-k, so this is reached with
 * probability 2^-(8k) at most. */
#define SCN_SWARM_SUBSET_TRIES_MAX 8u

const char *scn_swarm_text(const scn_swarm_entry *entry, uint32_t i)
{
    SIM_ASSERT(i < entry->value_count);
    const char *p = entry->texts;
    for (uint32_t k = 0; k < i; k++) p += strlen(p) + 1;
    return p;
}

void scn_swarm_format(scn_swarm_type type, uint64_t value, char *buf, size_t size)
{
    switch (type) {
    case SCN_SWARM_DURATION: scn_format_duration(value, buf, size); return;
    case SCN_SWARM_RATIO:
        if (value >= SIM_PPM) {
            snprintf(buf, size, "1");
        } else if (value == 0) {
            snprintf(buf, size, "0");
        } else {   /* six decimals, trailing zeros dropped: 0.02, 0.001234 */
            char digits[8];
            snprintf(digits, sizeof digits, "%06" PRIu64, value);
            size_t n = 6;
            while (digits[n - 1] == '0') n--;
            snprintf(buf, size, "0.%.*s", (int)n, digits);
        }
        return;
    case SCN_SWARM_INTEGER: break;
    }
    snprintf(buf, size, "%" PRIu64, value);
}

void scn_swarm_free(scn_swarm_entry *entries, uint32_t count)
{
    for (uint32_t i = 0; entries != NULL && i < count; i++) free(entries[i].texts);
    free(entries);
}

bool scn_swarm_copy(scn_swarm_entry **dst, const scn_swarm_entry *src, uint32_t count)
{
    *dst = NULL;
    if (count == 0) return true;
    scn_swarm_entry *out = sim_calloc(count, sizeof *out);
    if (out == NULL) return false;
    for (uint32_t i = 0; i < count; i++) {
        out[i] = src[i];
        out[i].texts = NULL;
        if (src[i].texts_len == 0) continue;
        out[i].texts = sim_malloc(src[i].texts_len);
        if (out[i].texts == NULL) {
            scn_swarm_free(out, i);
            return false;
        }
        memcpy(out[i].texts, src[i].texts, src[i].texts_len);
    }
    *dst = out;
    return true;
}

bool scn_swarm_equal(const scn_swarm_entry *a, const scn_swarm_entry *b, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        const scn_swarm_entry *x = &a[i], *y = &b[i];
        if (strcmp(x->key, y->key) != 0 || x->kind != y->kind || x->value_count != y->value_count ||
            x->texts_len != y->texts_len) {
            return false;
        }
        if (x->kind == SCN_SWARM_RANGE && (x->type != y->type || x->min != y->min || x->max != y->max)) return false;
        if (x->texts_len > 0 && memcmp(x->texts, y->texts, x->texts_len) != 0) return false;
    }
    return true;
}

/* The texts of a CHOICE or SUBSET as a flow sequence: "[a, b]". */
static void print_texts(const scn_swarm_entry *e, FILE *out)
{
    fputc('[', out);
    for (uint32_t i = 0; i < e->value_count; i++) {
        fputs(i > 0 ? ", " : "", out);
        fputs(scn_swarm_text(e, i), out);
    }
    fputc(']', out);
}

void scn_swarm_print(const scn_swarm_entry *entries, uint32_t count, FILE *out)
{
    if (count == 0) return;
    fputs("swarm:\n", out);
    for (uint32_t i = 0; i < count; i++) {
        const scn_swarm_entry *e = &entries[i];
        fprintf(out, "  %s: ", e->key);
        if (e->kind == SCN_SWARM_RANGE) {
            char lo[48], hi[48];
            scn_swarm_format(e->type, e->min, lo, sizeof lo);
            scn_swarm_format(e->type, e->max, hi, sizeof hi);
            fprintf(out, "{min: %s, max: %s}", lo, hi);
        } else if (e->kind == SCN_SWARM_SUBSET) {
            fputs("{subset: ", out);
            print_texts(e, out);
            fputc('}', out);
        } else {
            print_texts(e, out);
        }
        fputc('\n', out);
    }
}

void scn_swarm_remove(scn_config *config, const char *key)
{
    for (uint32_t i = 0; i < config->swarm_count; i++) {
        if (strcmp(config->swarm[i].key, key) != 0) continue;
        free(config->swarm[i].texts);
        memmove(&config->swarm[i], &config->swarm[i + 1], (config->swarm_count - i - 1) * sizeof *config->swarm);
        config->swarm_count--;
        if (config->swarm_count == 0) {
            free(config->swarm);
            config->swarm = NULL;
        }
        return;
    }
}

/* One entry's value for this attempt, as the text the setter reads. */
static void draw_value(const scn_swarm_entry *e, sim_rng *rng, char *buf, size_t size)
{
    switch (e->kind) {
    case SCN_SWARM_RANGE: {
        uint64_t unit = 1;
        /* Durations in whole milliseconds when both bounds are: "1234ms"
         * reads better than "1234567891ns", and a scenario that says
         * {min: 1s, max: 10s} does not mean nanoseconds. */
        if (e->type == SCN_SWARM_DURATION && e->min % SIM_MS == 0 && e->max % SIM_MS == 0) unit = SIM_MS;
        uint64_t lo = e->min / unit, hi = e->max / unit;
        uint64_t span = hi - lo;
        uint64_t v = lo + (span == UINT64_MAX ? sim_rng_u64(rng) : sim_rng_below(rng, span + 1));
        scn_swarm_format(e->type, v * unit, buf, size);
        return;
    }
    case SCN_SWARM_CHOICE:
        snprintf(buf, size, "%s", scn_swarm_text(e, (uint32_t)sim_rng_below(rng, e->value_count)));
        return;
    case SCN_SWARM_SUBSET: {
        uint64_t keep = 0;
        for (uint32_t round = 0; keep == 0 && round < SCN_SWARM_SUBSET_TRIES_MAX; round++) {
            for (uint32_t i = 0; i < e->value_count; i++) {
                if (sim_rng_below(rng, 2) == 1) keep |= (uint64_t)1 << i;
            }
        }
        if (keep == 0) keep = (uint64_t)1 << sim_rng_below(rng, e->value_count);
        size_t len = (size_t)snprintf(buf, size, "[");
        for (uint32_t i = 0; i < e->value_count && len < size; i++) {
            if (!(keep >> i & 1)) continue;
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len > 1 ? ", " : "", scn_swarm_text(e, i));
        }
        if (len < size) snprintf(buf + len, size - len, "]");
        return;
    }
    }
}

/* Appends "key=value" to the drawn text (a space before all but the first). */
static void drawn_append(char *drawn, size_t *len, const char *key, const char *value)
{
    if (drawn == NULL || *len >= SCN_SWARM_TEXT_BYTES) return;
    int n = snprintf(drawn + *len, SCN_SWARM_TEXT_BYTES - *len, "%s%s=%s", *len > 0 ? " " : "", key, value);
    if (n > 0) *len += (size_t)n;
    if (*len >= SCN_SWARM_TEXT_BYTES) *len = SCN_SWARM_TEXT_BYTES;
}

/* One attempt: `out` is a fresh copy of base with every entry applied and
 * validated.  On failure `out` owns nothing. */
static sim_status draw_once(const scn_config *base, uint64_t seed, sim_rng *rng, scn_config *out, char *drawn,
                            sim_error *err)
{
    sim_status st = scn_config_copy(out, base, err);
    if (st != SIM_OK) return st;
    scn_swarm_free(out->swarm, out->swarm_count);
    out->swarm = NULL;
    out->swarm_count = 0;
    out->seed = seed;
    size_t len = 0;
    if (drawn != NULL) drawn[0] = '\0';
    char value[SCN_SWARM_VALUE_BYTES_MAX + 1];
    /* Every entry draws whether or not the ones before it applied, so an
     * entry the setter refuses does not change what the later ones draw
     * (invariant 2). */
    for (uint32_t i = 0; i < base->swarm_count; i++) {
        const scn_swarm_entry *e = &base->swarm[i];
        draw_value(e, rng, value, sizeof value);
        drawn_append(drawn, &len, e->key, value);
        if (st == SIM_OK) st = scn_config_apply(out, e->key, value, err);
    }
    if (st == SIM_OK) st = scn_config_validate(out, "swarm", err);
    if (st != SIM_OK) scn_config_deinit(out);
    return st;
}

sim_status scn_swarm_draw(const scn_config *base, uint64_t seed, scn_config *out, char *drawn, sim_error *err)
{
    SIM_ASSERT(base != NULL);
    SIM_ASSERT(out != NULL);
    memset(out, 0, sizeof *out);
    sim_rng rng = sim_rng_derive(seed, SCN_SWARM_STREAM);
    sim_error last = { 0 };
    for (uint32_t attempt = 0; attempt < SCN_SWARM_ATTEMPTS_MAX; attempt++) {
        sim_status st = draw_once(base, seed, &rng, out, drawn, &last);
        if (st == SIM_OK) return SIM_OK;
        if (st != SIM_ERR_SCENARIO) {
            if (err != NULL) *err = last;
            return st;
        }
        if (base->swarm_count == 0) break;   /* nothing drawn: another attempt is the same */
    }
    memset(out, 0, sizeof *out);
    return sim_error_set(err, SIM_ERR_SCENARIO, "swarm",
                         "no valid configuration for seed %" PRIu64 " in %u draws; the last: %s", seed,
                         SCN_SWARM_ATTEMPTS_MAX, last.message);
}
