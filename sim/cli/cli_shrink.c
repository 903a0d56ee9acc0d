/* cli_shrink.c: `distrosim shrink` and `distrosim rerun`.
 *
 * Shrinking is a greedy search over scenarios, run with the failing seed:
 *
 *   1. The original run (its swarm draw, if any) must fail; the first
 *      failed expectation names the target, by kind: `lost_max`,
 *      `counter sync_retries`, `recover_within` (whichever fault); a run
 *      that ends in an ERROR names its error, numbers aside.
 *   2. A nemesis's schedule is made explicit: the run reports each fault
 *      the nemesis injected as the scripted faults that do the same
 *      (run_options.nemesis_fault); the nemesis is turned off and those
 *      faults join the list.  Kept only when that scenario still fails
 *      the target (a nemesis fault that met a scripted one can act
 *      differently when scripted).  Rolling entries become their steps.
 *   3. Delta debugging (Zeller's ddmin) over the fault list, then each
 *      fault's duration halved (and each heal, start or clock reset moved
 *      halfway towards the fault before it) while the target still fails,
 *      then cluster.nodes (smallest first), workload services and
 *      instances (halved), churn rates (zeroed), and the run (quiet phase
 *      halved, chaos cut to just after the last fault, or the duration
 *      halved).  The passes repeat until one changes nothing (at most
 *      SHRINK_PASSES_MAX).
 *
 * A candidate is kept when it fails the target; one that passes, fails
 * something else, ends in an error or is not a valid scenario is
 * dropped.  Every step is a pure function of the scenario and the seed
 * (runs are deterministic, candidates are tried in a fixed order), so the
 * same input shrinks to the same output, byte for byte. */
#include "cli_shrink.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt_db.h"
#include "rpt_escape.h"
#include "run_scenario.h"
#include "scn_load.h"
#include "scn_swarm.h"
#include "sim_alloc.h"
#include "sim_vec.h"

#define SHRINK_SETS_MAX 16u
#define SHRINK_PASSES_MAX 4u
#define SHRINK_HALVINGS_MAX 24u   /* a year halved 24 times is still above a second: enough for any fault */

typedef enum shrink_trial {
    TRIAL_SAME,                  /* fails the target: keep */
    TRIAL_PASS,
    TRIAL_OTHER,                 /* fails, but not the target */
    TRIAL_ERROR,                 /* an ERROR verdict or a run that could not run */
    TRIAL_INVALID,               /* not a valid scenario */
} shrink_trial;

typedef struct shrink {
    const char *program;
    const char *path;
    uint64_t seed;
    const char *const *sets;     /* the --set KEY=VALUE arguments, applied before the draw */
    uint32_t set_count;
    FILE *log;                   /* the steps */
    char target[192];            /* the expectation kind to keep failing */
    char allowed[1024];          /* the kinds the original failed, each followed by '\n': a candidate fails no other */
    char target_text[512];       /* the last run's line for the target: "lost_max: observed 16s, bound 0s" */
    uint32_t runs;
    scn_fault *nemesis;          /* faults the nemesis injected, as scripted faults (step 2) */
    size_t nemesis_len;
    size_t nemesis_cap;
    bool needs_faults;           /* the original fails with its faults and passes without them */
    bool nomem;
} shrink;

/* The kind of expectation `name` is: recover_within bounds are one kind
 * whichever fault they name ("recover_within fault 3 (restart, node 1)"). */
static void expectation_kind(const char *name, char *out, size_t size)
{
    if (strncmp(name, "recover_within fault ", 21) == 0) {
        snprintf(out, size, "recover_within");
        return;
    }
    snprintf(out, size, "%s", name);
}

static void on_nemesis_fault(void *ctx, const scn_fault *fault)
{
    shrink *sh = ctx;
    if (!SIM_VEC_RESERVE(sh->nemesis, sh->nemesis_len, sh->nemesis_cap, 1)) {
        sh->nomem = true;
        return;
    }
    sh->nemesis[sh->nemesis_len++] = *fault;
}

/* The kind of an ERROR run: its message without the instant it stopped
 * and with every number as N ("error: sim_conn_request: client node N is
 * not up"), so the same defect on another node or at another time is the
 * same target. */
static void error_kind(const char *failure, char *out, size_t size)
{
    const char *p = failure;
    if (strncmp(p, "the run stopped at ", 19) == 0) {
        const char *colon = strstr(p, ": ");
        if (colon != NULL) p = colon + 2;
    }
    size_t len = (size_t)snprintf(out, size, "error: ");
    for (; *p != '\0' && len + 2 < size; p++) {
        if (*p >= '0' && *p <= '9') {
            out[len++] = 'N';
            while ((p[1] >= '0' && p[1] <= '9') || (p[1] == '.' && p[2] >= '0' && p[2] <= '9')) p++;
        } else {
            out[len++] = *p;
        }
    }
    out[len < size ? len : size - 1] = '\0';
}

/* Runs `cfg` with the seed and says how it went, on one line of the log
 * after `what`.  `first`: the original run, which sets the target and
 * collects the nemesis's faults. */
static shrink_trial try_config(shrink *sh, const scn_config *cfg, const char *what, bool first)
{
    sim_error err;
    if (scn_config_validate(cfg, "shrink", &err) != SIM_OK) {
        fprintf(sh->log, "  try %s: not a valid scenario (%s)\n", what, err.message);
        return TRIAL_INVALID;
    }
    run_options opt = { .seed = sh->seed, .scenario_path = sh->path, .program = sh->program,
                        .trace = { .node = -1, .type = -1, .to_ns = SIM_TIME_NEVER } };
    if (first) {
        opt.nemesis_fault = on_nemesis_fault;
        opt.nemesis_ctx = sh;
    }
    run_result res;
    memset(&res, 0, sizeof res);
    sh->runs++;
    sim_status st = run_scenario(cfg, &opt, &res, &err);
    shrink_trial t = TRIAL_ERROR;
    char note[640];
    if (st != SIM_OK) {
        snprintf(note, sizeof note, "error: %s: %s", err.where, err.message);
    } else if (strcmp(res.verdict, "pass") == 0) {
        t = TRIAL_PASS;
        snprintf(note, sizeof note, "passes");
    } else if (strcmp(res.verdict, "fail") != 0) {
        /* An ERROR (the run stopped early: a model assertion, a limit) is
         * a target too: the same error, whatever node or instant. */
        char kind[sizeof sh->target];
        error_kind(res.failure, kind, sizeof kind);
        if (first && sh->target[0] == '\0') snprintf(sh->target, sizeof sh->target, "%s", kind);
        if (strcmp(kind, sh->target) == 0) {
            t = TRIAL_SAME;
            snprintf(sh->target_text, sizeof sh->target_text, "%s", res.failure);
            snprintf(note, sizeof note, "ends in the same error (%s)", res.failure);
        } else {
            snprintf(note, sizeof note, "error: %s", res.failure);
        }
    } else {
        /* The same failure: the target fails, and nothing the original
         * kept does (a run cut short can add a convergence failure). */
        bool target = false, other = false;
        const char *other_name = NULL;
        char target_text[sizeof sh->target_text] = "";
        for (size_t i = 0; i < res.row.expects_count; i++) {
            const rpt_expect *e = &res.row.expects[i];
            if (e->ok) continue;
            char kind[sizeof sh->target], line[sizeof kind + 2];
            expectation_kind(e->name, kind, sizeof kind);
            snprintf(line, sizeof line, "%s\n", kind);
            if (first) {
                if (sh->target[0] == '\0') snprintf(sh->target, sizeof sh->target, "%s", kind);
                size_t used = strlen(sh->allowed);
                if (strstr(sh->allowed, line) == NULL) snprintf(sh->allowed + used, sizeof sh->allowed - used, "%s", line);
            }
            if (strcmp(kind, sh->target) == 0 && !target) {
                target = true;
                snprintf(target_text, sizeof target_text, "%s: observed %s, bound %s", e->name,
                         e->observed != NULL ? e->observed : "-", e->bound != NULL ? e->bound : "-");
            } else if (strstr(sh->allowed, line) == NULL && !other) {
                other = true;
                other_name = e->name;
            }
        }
        t = target && !other ? TRIAL_SAME : TRIAL_OTHER;
        if (t == TRIAL_SAME) {
            snprintf(sh->target_text, sizeof sh->target_text, "%s", target_text);
            snprintf(note, sizeof note, "fails the same expectation (%s)", target_text);
        } else if (target) {
            snprintf(note, sizeof note, "fails the same expectation and also %s, which the original did not", other_name);
        } else {
            snprintf(note, sizeof note, "fails another expectation (%s)", res.failure);
        }
    }
    fprintf(sh->log, "  try %s: %s\n", what, note);
    run_result_deinit(&res);
    return t;
}

/* A copy of `base` whose faults are `faults[0, count)`; false when out of memory. */
static bool with_faults(const scn_config *base, const scn_fault *faults, uint32_t count, scn_config *out)
{
    sim_error err;
    if (scn_config_copy(out, base, &err) != SIM_OK) return false;
    free(out->faults);
    out->faults = NULL;
    out->fault_count = 0;
    if (count == 0) return true;
    out->faults = sim_malloc((size_t)count * sizeof *out->faults);
    if (out->faults == NULL) {
        scn_config_deinit(out);
        return false;
    }
    memcpy(out->faults, faults, (size_t)count * sizeof *faults);
    out->fault_count = count;
    return true;
}

/* Replaces *cur by *next (taken over). */
static void adopt(scn_config *cur, scn_config *next)
{
    scn_config_deinit(cur);
    *cur = *next;
    memset(next, 0, sizeof *next);
}

/* Tries `cand` (owned: kept in *cur when it fails the target, freed
 * otherwise).  True when kept. */
static bool try_keep(shrink *sh, scn_config *cur, scn_config *cand, const char *what)
{
    if (try_config(sh, cand, what, false) == TRIAL_SAME) {
        adopt(cur, cand);
        fprintf(sh->log, "shrink: %s\n", what);
        return true;
    }
    scn_config_deinit(cand);
    return false;
}

/* Delta debugging over cur->faults: the smallest list found that still
 * fails the target (1-minimal: no single fault can go).  O(n^2) runs in
 * the worst case, O(log n) when one fault is to blame. */
static bool ddmin_faults(shrink *sh, scn_config *cur)
{
    bool changed = false;
    char what[160];
    if (cur->fault_count > 0) {
        scn_config cand;
        if (!with_faults(cur, NULL, 0, &cand)) return sh->nomem = true, false;
        snprintf(what, sizeof what, "faults %u -> 0", cur->fault_count);
        if (try_keep(sh, cur, &cand, what)) return true;
    }
    uint32_t n = 2;
    scn_fault *keep = NULL;
    while (cur->fault_count >= 2 && !sh->nomem) {
        uint32_t count = cur->fault_count;
        if (n > count) n = count;
        bool reduced = false;
        free(keep);
        keep = sim_malloc((size_t)count * sizeof *keep);
        if (keep == NULL) return sh->nomem = true, changed;
        /* Each chunk alone, then (with more than two chunks) each complement. */
        for (uint32_t pass = 0; pass < 2 && !reduced; pass++) {
            if (pass == 1 && n == 2) break;   /* the complements are the chunks */
            for (uint32_t i = 0; i < n && !reduced; i++) {
                uint32_t lo = (uint32_t)((uint64_t)count * i / n), hi = (uint32_t)((uint64_t)count * (i + 1) / n);
                uint32_t len = 0;
                for (uint32_t k = 0; k < count; k++) {
                    bool in = k >= lo && k < hi;
                    if (in == (pass == 0)) keep[len++] = cur->faults[k];
                }
                if (len == 0 || len == count) continue;
                scn_config cand;
                if (!with_faults(cur, keep, len, &cand)) return sh->nomem = true, changed;
                snprintf(what, sizeof what, "faults %u -> %u (%s %u of %u)", count, len, pass == 0 ? "chunk" : "all but chunk",
                         i + 1, n);
                if (try_keep(sh, cur, &cand, what)) {
                    reduced = changed = true;
                    n = pass == 0 ? 2 : (n > 2 ? n - 1 : 2);
                }
            }
        }
        if (!reduced) {
            if (n >= count) break;
            n = n * 2 > count ? count : n * 2;
        }
    }
    free(keep);
    return changed;
}

/* The duration a fault carries, or NULL (restart after, pause for, link for). */
static sim_time_ns *fault_duration(scn_fault *f)
{
    if (f->kind == SCN_FAULT_RESTART || f->kind == SCN_FAULT_PAUSE || f->kind == SCN_FAULT_LINK) return &f->duration_ns;
    return NULL;
}

/* A fault that ends others: it shortens them when it comes earlier. */
static bool fault_ends_others(const scn_fault *f)
{
    return f->kind == SCN_FAULT_HEAL_ALL || f->kind == SCN_FAULT_HEAL_LINK || f->kind == SCN_FAULT_HEAL_NODE ||
           f->kind == SCN_FAULT_START || (f->kind == SCN_FAULT_CLOCK && f->clock_offset_ns == 0);
}

/* Halves each fault's duration, and each ending fault's distance to the
 * fault before it, while the target still fails; whole milliseconds. */
static bool shorten_faults(shrink *sh, scn_config *cur)
{
    bool changed = false;
    char what[160];
    for (uint32_t i = 0; i < cur->fault_count && !sh->nomem; i++) {
        for (uint32_t h = 0; h < SHRINK_HALVINGS_MAX; h++) {
            scn_fault *f = &cur->faults[i];
            sim_time_ns *d = fault_duration(f);
            sim_time_ns from = 0, to = 0;
            bool move = false;
            if (d != NULL) {
                from = *d;
                to = from / 2 / SIM_MS * SIM_MS;
                if (to == 0) to = SIM_MS;
            } else if (fault_ends_others(f)) {
                sim_time_ns prev = 0;   /* the latest fault before it */
                bool any = false;
                for (uint32_t k = 0; k < cur->fault_count; k++) {
                    if (k != i && cur->faults[k].at_ns < f->at_ns && cur->faults[k].at_ns >= prev) {
                        prev = cur->faults[k].at_ns;
                        any = true;
                    }
                }
                if (!any) break;
                from = f->at_ns;
                to = (prev + (f->at_ns - prev) / 2) / SIM_MS * SIM_MS;
                if (to <= prev) to = prev + SIM_MS;
                move = true;
            } else {
                break;
            }
            if (to >= from) break;
            scn_config cand;
            sim_error err;
            if (scn_config_copy(&cand, cur, &err) != SIM_OK) return sh->nomem = true, changed;
            char a[32], b[32];
            scn_format_duration(from, a, sizeof a);
            scn_format_duration(to, b, sizeof b);
            if (move) {
                cand.faults[i].at_ns = to;
                snprintf(what, sizeof what, "fault %u (%s node %u) at %s -> %s", i, scn_fault_kind_name(f->kind),
                         (unsigned)f->node, a, b);
            } else {
                *fault_duration(&cand.faults[i]) = to;
                snprintf(what, sizeof what, "fault %u (%s node %u) lasts %s -> %s", i, scn_fault_kind_name(f->kind),
                         (unsigned)f->node, a, b);
            }
            if (!try_keep(sh, cur, &cand, what)) break;
            changed = true;
        }
    }
    return changed;
}

/* True when `cfg` without any fault (and without its nemesis) still
 * fails the target: then a smaller size or a shorter run has made a
 * failure of its own (a run cut before its registrations settle loses
 * them without any fault), not kept the one the faults caused. */
static bool fails_without_faults(shrink *sh, const scn_config *cfg, const char *what)
{
    scn_config bare;
    if (!with_faults(cfg, NULL, 0, &bare)) return sh->nomem = true, true;
    bare.nemesis.enabled = false;
    char label[200];
    snprintf(label, sizeof label, "%s, without faults", what);
    bool same = try_config(sh, &bare, label, false) == TRIAL_SAME;
    scn_config_deinit(&bare);
    return same;
}

/* Tries `key` = `value` (through scn_config_set, which validates); when
 * the original's failure needs its faults, the candidate must still
 * pass without them. */
static bool try_set(shrink *sh, scn_config *cur, const char *key, const char *value, const char *what)
{
    scn_config cand;
    sim_error err;
    if (scn_config_copy(&cand, cur, &err) != SIM_OK) return sh->nomem = true, false;
    if (scn_config_set(&cand, key, value, &err) != SIM_OK) {
        fprintf(sh->log, "  try %s: not a valid scenario (%s)\n", what, err.message);
        scn_config_deinit(&cand);
        return false;
    }
    if (sh->needs_faults && fails_without_faults(sh, &cand, what)) {
        scn_config_deinit(&cand);
        return false;
    }
    return try_keep(sh, cur, &cand, what);
}

/* The nodes a fault names, as a set; false for a kind that names nodes
 * in a way renumber_faults does not rewrite (partitions, member lists). */
static bool fault_nodes(const scn_fault *f, uint64_t *set)
{
    switch (f->kind) {
    case SCN_FAULT_BLOCK:
    case SCN_FAULT_HEAL_LINK:
    case SCN_FAULT_LINK: *set |= (uint64_t)1 << f->from | (uint64_t)1 << f->to; return true;
    case SCN_FAULT_ISOLATE:
    case SCN_FAULT_HEAL_NODE:
    case SCN_FAULT_CRASH:
    case SCN_FAULT_START:
    case SCN_FAULT_RESTART:
    case SCN_FAULT_PAUSE:
    case SCN_FAULT_CLOCK: *set |= (uint64_t)1 << f->node; return true;
    case SCN_FAULT_HEAL_ALL: return true;
    case SCN_FAULT_PARTITION:
    case SCN_FAULT_MEMBERS:
    case SCN_FAULT_KINDS: break;
    }
    return false;
}

/* Renumbers the nodes the faults name onto 0, 1, ... (in their order), so
 * a cluster of as many nodes as the faults name can hold them: a restart
 * of node 4 becomes a restart of node 0.  False (config unchanged) when a
 * fault names nodes another way, a link override names a node, or the
 * faults name more than `nodes` nodes. */
static bool renumber_faults(scn_config *c, uint32_t nodes)
{
    uint64_t used = 0;
    for (uint32_t i = 0; i < c->fault_count; i++) {
        if (!fault_nodes(&c->faults[i], &used)) return false;
    }
    if (c->network.link_count > 0 || (uint32_t)__builtin_popcountll(used) > nodes) return false;
    uint32_t to[SCN_NODES_MAX], next = 0;
    for (uint32_t n = 0; n < SCN_NODES_MAX; n++) to[n] = used >> n & 1 ? next++ : n;
    for (uint32_t i = 0; i < c->fault_count; i++) {
        scn_fault *f = &c->faults[i];
        f->node = to[f->node];
        f->from = to[f->from];
        f->to = to[f->to];
    }
    return true;
}

/* Fewer nodes (smallest first; the faults' nodes renumbered when they
 * would not fit), services, instances, churn. */
static bool shrink_sizes(shrink *sh, scn_config *cur)
{
    bool changed = false;
    char what[160], value[32];
    for (uint32_t n = 1; n < cur->cluster.nodes && !sh->nomem; n++) {
        snprintf(value, sizeof value, "%u", n);
        snprintf(what, sizeof what, "cluster.nodes %u -> %u", cur->cluster.nodes, n);
        if (try_set(sh, cur, "cluster.nodes", value, what)) {
            changed = true;
            break;
        }
        scn_config renumbered;
        sim_error err;
        if (scn_config_copy(&renumbered, cur, &err) != SIM_OK) return sh->nomem = true, changed;
        if (!renumber_faults(&renumbered, n) || scn_config_equal(&renumbered, cur)) {
            scn_config_deinit(&renumbered);
            continue;
        }
        snprintf(what, sizeof what, "cluster.nodes %u -> %u, the faults' nodes renumbered from 0", cur->cluster.nodes, n);
        if (try_set(sh, &renumbered, "cluster.nodes", value, what)) {
            adopt(cur, &renumbered);
            changed = true;
            break;
        }
        scn_config_deinit(&renumbered);
    }
    for (uint32_t h = 0; h < SHRINK_HALVINGS_MAX && cur->workload.services > 0 && !sh->nomem; h++) {
        uint32_t to = cur->workload.services / 2;
        snprintf(value, sizeof value, "%u", to);
        snprintf(what, sizeof what, "workload.services %u -> %u", cur->workload.services, to);
        if (!try_set(sh, cur, "workload.services", value, what)) break;
        changed = true;
    }
    for (uint32_t h = 0; h < SHRINK_HALVINGS_MAX && cur->workload.instances_per_service > 1 && !sh->nomem; h++) {
        uint32_t to = cur->workload.instances_per_service / 2;
        snprintf(value, sizeof value, "%u", to);
        snprintf(what, sizeof what, "workload.instances_per_service %u -> %u", cur->workload.instances_per_service, to);
        if (!try_set(sh, cur, "workload.instances_per_service", value, what)) break;
        changed = true;
    }
    static const char *const churn[3] = { "register_per_min", "deregister_per_min", "crash_per_min" };
    const uint32_t rates[3] = { cur->workload.churn.register_per_min_milli, cur->workload.churn.deregister_per_min_milli,
                                cur->workload.churn.crash_per_min_milli };
    for (int k = 0; k < 3 && !sh->nomem; k++) {
        if (rates[k] == 0) continue;
        char key[64];
        snprintf(key, sizeof key, "workload.churn.%s", churn[k]);
        snprintf(what, sizeof what, "%s -> 0", key);
        changed |= try_set(sh, cur, key, "0", what);
    }
    return changed;
}

/* A shorter run: quiet halved, chaos cut to the second after the last
 * fault (or halved while the faults still fit), or the duration halved. */
static bool shrink_length(shrink *sh, scn_config *cur)
{
    bool changed = false;
    char what[160], value[32], a[32];
    sim_time_ns last_at = 0;
    for (uint32_t i = 0; i < cur->fault_count; i++) {
        if (cur->faults[i].at_ns > last_at) last_at = cur->faults[i].at_ns;
    }
    sim_time_ns floor_ns = (last_at / SIM_S + 1) * SIM_S;   /* the faults must stay inside */
    const char *key = cur->phases.enabled ? "phases.chaos" : "duration";
    for (uint32_t h = 0; h < SHRINK_HALVINGS_MAX && !sh->nomem; h++) {
        sim_time_ns now = cur->phases.enabled ? cur->phases.chaos_ns : cur->duration_ns;
        sim_time_ns to = now / 2 / SIM_S * SIM_S;
        if (cur->fault_count > 0 && to < floor_ns) to = floor_ns;
        if (to == 0 || to >= now) break;
        scn_format_duration(now, a, sizeof a);
        scn_format_duration(to, value, sizeof value);
        snprintf(what, sizeof what, "%s %s -> %s", key, a, value);
        if (!try_set(sh, cur, key, value, what)) break;
        changed = true;
    }
    for (uint32_t h = 0; cur->phases.enabled && h < SHRINK_HALVINGS_MAX && !sh->nomem; h++) {
        sim_time_ns to = cur->phases.quiet_ns / 2 / SIM_S * SIM_S;
        if (to >= cur->phases.quiet_ns) break;
        scn_format_duration(cur->phases.quiet_ns, a, sizeof a);
        scn_format_duration(to, value, sizeof value);
        snprintf(what, sizeof what, "phases.quiet %s -> %s", a, value);
        if (!try_set(sh, cur, "phases.quiet", value, what)) break;
        changed = true;
    }
    return changed;
}

/* Step 2: the nemesis's faults (collected by the first run) made
 * explicit, rolling entries as their steps.  Faults the run's end or the
 * end of chaos would make invalid (an end at the phases' heal) are left
 * out: the heal at the end of chaos does what they would. */
static bool materialise(shrink *sh, const scn_config *cur, scn_config *out)
{
    sim_time_ns window = scn_config_fault_window_ns(cur);
    size_t count = cur->fault_count + sh->nemesis_len;
    scn_fault *all = sim_calloc(count > 0 ? count : 1, sizeof *all);
    if (all == NULL) return false;
    uint32_t len = 0;
    for (uint32_t i = 0; i < cur->fault_count; i++) {
        all[len] = cur->faults[i];
        all[len].rolling_step = all[len].rolling_steps = 0;
        all[len].rolling_every_ns = 0;
        len++;
    }
    for (size_t i = 0; i < sh->nemesis_len; i++) {
        if (sh->nemesis[i].at_ns < window) all[len++] = sh->nemesis[i];
    }
    bool ok = with_faults(cur, all, len, out);
    free(all);
    if (ok) out->nemesis.enabled = false;
    return ok;
}

static void usage_shrink(FILE *out)
{
    fprintf(out,
            "usage: distrosim shrink SCENARIO --seed N [-o OUT.yaml] [--set KEY=VALUE]...\n"
            "\n"
            "Takes a failing run (the scenario, its swarm draw for the seed, the --set values)\n"
            "and searches for a smaller scenario that fails the same expectation (or ends in\n"
            "the same error, numbers aside) with the same\n"
            "seed: the nemesis's faults made explicit, fewer faults (delta debugging), shorter\n"
            "faults, fewer nodes, services, instances and churn, a shorter run.  Every candidate\n"
            "tried is printed; the smallest failing scenario is written as YAML to OUT.yaml (or\n"
            "standard output, the steps then going to standard error), with a comment naming\n"
            "the original; `distrosim run OUT.yaml` reproduces its failure.  The same input\n"
            "shrinks to the same output.  Exit 0 when written, 1 when the run does not fail,\n"
            "2 on bad input or an error.\n");
}

/* Writes the result: the comment, then the effective scenario.  0, or 2
 * after a message. */
static int write_result(const shrink *sh, const scn_config *cur, const scn_config *orig, const char *out_path,
                        const char *failure)
{
    FILE *f = stdout;
    char *tmp = NULL;
    if (out_path != NULL) {
        size_t n = strlen(out_path) + sizeof ".tmp";
        tmp = sim_malloc(n);
        if (tmp == NULL) return 2;
        snprintf(tmp, n, "%s.tmp", out_path);
        f = fopen(tmp, "w");
        if (f == NULL) {
            fprintf(stderr, "distrosim shrink: -o %s: cannot write: %s\n", out_path, strerror(errno));
            free(tmp);
            return 2;
        }
    }
    fputs("# Shrunk by `distrosim shrink ", f);
    rpt_esc_shell(sh->path, rpt_esc_to_file, f);
    fprintf(f, " --seed %" PRIu64, sh->seed);
    for (uint32_t i = 0; i < sh->set_count; i++) {
        fputs(" --set ", f);
        rpt_esc_shell(sh->sets[i], rpt_esc_to_file, f);
    }
    fprintf(f, "` (%u runs).\n", sh->runs);
    fprintf(f, "# Fails %s as the original did: %s\n", sh->target, failure);
    fprintf(f, "# faults %u (originally %u scripted, %zu from the nemesis), nodes %u (%u), services %u (%u),\n"
               "# instances per service %u (%u),",
            cur->fault_count, orig->fault_count, sh->nemesis_len, cur->cluster.nodes,
            orig->cluster.nodes, cur->workload.services, orig->workload.services, cur->workload.instances_per_service,
            orig->workload.instances_per_service);
    char a[32], b[32];
    scn_format_duration(cur->duration_ns, a, sizeof a);
    scn_format_duration(orig->duration_ns, b, sizeof b);
    fprintf(f, " run %s (%s).\n# Reproduce: distrosim run %s\n", a, b, out_path != NULL ? out_path : "FILE");
    sim_status st = scn_config_print(cur, f);
    bool ok = st == SIM_OK;
    if (out_path != NULL) {
        ok = fclose(f) == 0 && ok;
        if (ok && rename(tmp, out_path) != 0) ok = false;
        if (!ok) {
            fprintf(stderr, "distrosim shrink: -o %s: cannot write: %s\n", out_path, strerror(errno));
            remove(tmp);
        }
        free(tmp);
    }
    return ok ? 0 : 2;
}

/* Returns 0, or 2 after a message; 1 for --help (printed). */
static int parse_shrink_args(int argc, char **argv, const char **path, uint64_t *seed, const char **out,
                             const char **sets, uint32_t *set_count)
{
    bool seed_given = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage_shrink(stdout);
            return 1;
        }
        bool takes = strcmp(arg, "--seed") == 0 || strcmp(arg, "-o") == 0 || strcmp(arg, "--set") == 0;
        if (takes && next == NULL) {
            fprintf(stderr, "distrosim shrink: %s needs a value\n", arg);
            return 2;
        }
        if (strcmp(arg, "--seed") == 0) {
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull(next, &end, 10);
            if (next[0] < '0' || next[0] > '9' || errno != 0 || end == NULL || *end != '\0') {
                fprintf(stderr, "distrosim shrink: --seed: expected a decimal number up to %" PRIu64 ", got \"%s\"\n",
                        UINT64_MAX, next);
                return 2;
            }
            *seed = (uint64_t)v;
            seed_given = true;
            i++;
        } else if (strcmp(arg, "-o") == 0) {
            *out = next;
            i++;
        } else if (strcmp(arg, "--set") == 0) {
            if (*set_count == SHRINK_SETS_MAX || strchr(next, '=') == NULL) {
                fprintf(stderr, "distrosim shrink: --set: expected KEY=VALUE (at most %u), got \"%s\"\n",
                        SHRINK_SETS_MAX, next);
                return 2;
            }
            sets[(*set_count)++] = next;
            i++;
        } else if (arg[0] == '-' || *path != NULL) {
            fprintf(stderr, "distrosim shrink: unexpected argument %s (see distrosim shrink --help)\n", arg);
            return 2;
        } else {
            *path = arg;
        }
    }
    if (*path == NULL || !seed_given) {
        usage_shrink(stderr);
        return 2;
    }
    return 0;
}

/* The scenario as the run had it: loaded, --set applied, drawn for the
 * seed.  0, or 2 after a message. */
static int load_for_seed(const char *path, uint64_t seed, const char *const *sets, uint32_t set_count,
                         scn_config *out)
{
    scn_config base;
    sim_error err;
    if (scn_load_file(path, &base, &err) != SIM_OK) {
        fprintf(stderr, "%s: %s\n", err.where, err.message);
        return 2;
    }
    for (uint32_t i = 0; i < set_count; i++) {
        char key[128];
        const char *eq = strchr(sets[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
        if (scn_config_set(&base, key, eq + 1, &err) != SIM_OK) {
            fprintf(stderr, "%s: --set %s: %s\n", path, sets[i], err.message);
            scn_config_deinit(&base);
            return 2;
        }
    }
    char drawn[SCN_SWARM_TEXT_BYTES];
    sim_status st = scn_swarm_draw(&base, seed, out, drawn, &err);
    scn_config_deinit(&base);
    if (st != SIM_OK) {
        fprintf(stderr, "%s: %s: %s\n", path, err.where, err.message);
        return 2;
    }
    return 0;
}

int cli_shrink_main(const char *program, int argc, char **argv)
{
    const char *path = NULL, *out_path = NULL, *sets[SHRINK_SETS_MAX];
    uint64_t seed = 0;
    uint32_t set_count = 0;
    int st = parse_shrink_args(argc, argv, &path, &seed, &out_path, sets, &set_count);
    if (st != 0) return st == 1 ? 0 : 2;
    scn_config orig, cur;
    if (load_for_seed(path, seed, sets, set_count, &orig) != 0) return 2;
    shrink sh = { .program = program, .path = path, .seed = seed, .sets = sets, .set_count = set_count,
                  .log = out_path != NULL ? stdout : stderr };
    sim_error err;
    if (scn_config_copy(&cur, &orig, &err) != SIM_OK) {
        scn_config_deinit(&orig);
        fprintf(stderr, "distrosim shrink: out of memory\n");
        return 2;
    }
    fprintf(sh.log, "shrink: %s seed=%" PRIu64 ": %u faults%s, %u nodes, %u services x %u instances\n", path, seed,
            cur.fault_count, cur.nemesis.enabled ? " and a nemesis" : "", cur.cluster.nodes, cur.workload.services,
            cur.workload.instances_per_service);
    shrink_trial t = try_config(&sh, &cur, "the original run", true);
    int status = 0;
    if (t != TRIAL_SAME || sh.nomem) {
        fprintf(stderr, "distrosim shrink: %s seed %" PRIu64 " %s: nothing to shrink\n", path, seed,
                t == TRIAL_PASS ? "passes" : "cannot run");
        status = t == TRIAL_PASS ? 1 : 2;
        goto out;
    }
    fprintf(sh.log, "shrink: target: the run must keep failing %s\n", sh.target);
    if (cur.nemesis.enabled || cur.fault_count > 0) {
        sh.needs_faults = !fails_without_faults(&sh, &cur, "the original run");
        if (sh.needs_faults) fprintf(sh.log, "shrink: without faults it does not: every smaller size must keep it so\n");
    }
    if (cur.nemesis.enabled || cur.fault_count > 0) {
        scn_config cand;
        if (!materialise(&sh, &cur, &cand)) {
            sh.nomem = true;
        } else {
            char what[160];
            snprintf(what, sizeof what, "the nemesis's %zu faults made explicit (%u faults in all, nemesis off)",
                     sh.nemesis_len, cand.fault_count);
            if (cur.nemesis.enabled || sh.nemesis_len > 0 || !scn_config_equal(&cand, &cur)) {
                if (!try_keep(&sh, &cur, &cand, what)) {
                    fprintf(sh.log, "shrink: keeping the nemesis: its faults made explicit act differently\n");
                }
            } else {
                scn_config_deinit(&cand);
            }
        }
    }
    for (uint32_t pass = 0; pass < SHRINK_PASSES_MAX && !sh.nomem; pass++) {
        bool changed = ddmin_faults(&sh, &cur);
        changed |= shorten_faults(&sh, &cur);
        changed |= shrink_sizes(&sh, &cur);
        changed |= shrink_length(&sh, &cur);
        if (!changed) break;
    }
    if (sh.nomem) {
        fprintf(stderr, "distrosim shrink: out of memory\n");
        status = 2;
        goto out;
    }
    /* The last kept candidate failed the target; run it once more for the
     * comment's failure line (deterministic: the same failure). */
    {
        char failure[512] = "";
        if (try_config(&sh, &cur, "the result once more", false) == TRIAL_SAME) {
            snprintf(failure, sizeof failure, "%s", sh.target_text);
        }
        char name[SCN_NAME_BYTES_MAX + 1];
        if (strlen(cur.name) + 7 <= SCN_NAME_BYTES_MAX) {
            snprintf(name, sizeof name, "%s-shrunk", cur.name);
            memcpy(cur.name, name, sizeof cur.name);
        }
        fprintf(sh.log, "shrink: done after %u runs: %u faults (the original: %u scripted, %zu from the nemesis), "
                        "%u nodes (from %u)\n",
                sh.runs, cur.fault_count, orig.fault_count, sh.nemesis_len, cur.cluster.nodes, orig.cluster.nodes);
        fflush(sh.log);
        status = write_result(&sh, &cur, &orig, out_path, failure);
        if (status == 0 && out_path != NULL) fprintf(sh.log, "shrink: wrote %s\n", out_path);
    }
out:
    free(sh.nemesis);
    scn_config_deinit(&cur);
    scn_config_deinit(&orig);
    return status;
}

/* --- rerun ------------------------------------------------------------------------------ */

typedef struct rerun_row {
    int64_t id;
    char *name;
    char *path;
    char *yaml;
    char *verdict;
    char *trace;
    uint64_t seed;
} rerun_row;

typedef struct rerun_rows {
    rerun_row *rows;
    size_t len;
    size_t cap;
    bool nomem;
} rerun_rows;

static char *dup_or_null(const char *s) { return s != NULL ? sim_strdup(s) : NULL; }

static void rerun_collect(void *ctx, int ncols, const char *const *v)
{
    rerun_rows *rs = ctx;
    if (ncols != 7 || rs->nomem) return;
    if (!SIM_VEC_RESERVE(rs->rows, rs->len, rs->cap, 1)) {
        rs->nomem = true;
        return;
    }
    rerun_row *r = &rs->rows[rs->len++];
    memset(r, 0, sizeof *r);
    r->id = v[0] != NULL ? strtoll(v[0], NULL, 10) : 0;
    r->name = dup_or_null(v[1]);
    r->path = dup_or_null(v[2]);
    r->yaml = dup_or_null(v[3]);
    r->verdict = dup_or_null(v[4]);
    r->trace = dup_or_null(v[5]);
    r->seed = v[6] != NULL ? strtoull(v[6], NULL, 10) : 0;
}

static void usage_rerun(FILE *out)
{
    fprintf(out,
            "usage: distrosim rerun --db FILE --failed\n"
            "\n"
            "Runs every failed or errored run recorded in the database again, from its stored\n"
            "effective scenario (table runs, effective_yaml: a swarm run's drawn configuration)\n"
            "and seed, and prints each as run does, with the verdict and trace hash recorded.\n"
            "Exit 0 when every rerun passes, 1 when one still fails, 2 on bad input or an error.\n");
}

int cli_rerun_main(const char *program, int argc, char **argv)
{
    const char *db_path = NULL;
    bool failed = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage_rerun(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db_path = argv[++i];
        } else if (strcmp(argv[i], "--failed") == 0) {
            failed = true;
        } else {
            fprintf(stderr, "distrosim rerun: unexpected argument %s\n", argv[i]);
            usage_rerun(stderr);
            return 2;
        }
    }
    if (db_path == NULL || !failed) {
        usage_rerun(stderr);
        return 2;
    }
    rpt_db *db = NULL;
    sim_error err;
    if (rpt_db_open_readonly(db_path, &db, &err) != SIM_OK) {
        fprintf(stderr, "distrosim rerun: %s: %s\n", err.where, err.message);
        return 2;
    }
    rerun_rows rs = { 0 };
    sim_status st = rpt_db_exec_rows(db,
                                     "SELECT id, scenario_name, scenario_path, effective_yaml, verdict, trace_hash, seed "
                                     "FROM runs WHERE verdict IN ('fail', 'error') ORDER BY id",
                                     rerun_collect, &rs, &err);
    rpt_db_close(db);
    int status = 0;
    if (st != SIM_OK || rs.nomem) {
        fprintf(stderr, "distrosim rerun: %s: %s\n", st != SIM_OK ? err.where : db_path,
                st != SIM_OK ? err.message : "out of memory");
        status = 2;
    }
    uint64_t pass = 0, fail = 0, errors = 0, same = 0;
    for (size_t i = 0; status != 2 && i < rs.len; i++) {
        rerun_row *r = &rs.rows[i];
        char where[64];
        snprintf(where, sizeof where, "%s (runs.id %" PRId64 ")", db_path, r->id);
        scn_config cfg;
        if (r->yaml == NULL || scn_load_string(where, r->yaml, strlen(r->yaml), &cfg, &err) != SIM_OK) {
            printf("ERROR %s seed=%" PRIu64 " (runs.id %" PRId64 "): %s\n", r->name != NULL ? r->name : "?", r->seed,
                   r->id, r->yaml == NULL ? "no effective scenario stored" : err.message);
            errors++;
            continue;
        }
        run_options opt = { .seed = r->seed, .scenario_path = r->path, .program = program,
                            .trace = { .node = -1, .type = -1, .to_ns = SIM_TIME_NEVER } };
        run_result res;
        memset(&res, 0, sizeof res);
        if (run_scenario(&cfg, &opt, &res, &err) != SIM_OK) {
            printf("ERROR %s seed=%" PRIu64 " (runs.id %" PRId64 "): %s: %s\n", cfg.name, r->seed, r->id, err.where,
                   err.message);
            errors++;
        } else {
            char hash[24];
            snprintf(hash, sizeof hash, "%016" PRIx64, res.row.trace_hash);
            bool identical = r->trace != NULL && strcmp(r->trace, hash) == 0;
            same += identical;
            const char *v = strcmp(res.verdict, "pass") == 0 ? "PASS" : strcmp(res.verdict, "fail") == 0 ? "FAIL" : "ERROR";
            printf("%s %s seed=%" PRIu64 " events=%" PRIu64 " trace=%s (runs.id %" PRId64 " recorded %s, trace %s)\n",
                   v, cfg.name, r->seed, res.row.events, hash, r->id, r->verdict, identical ? "the same" : "different");
            if (v[0] != 'P') printf("  failed: %s\n  repro:  %s\n", res.failure, res.repro);
            if (v[0] == 'P') pass++;
            else if (v[0] == 'F') fail++;
            else errors++;
        }
        run_result_deinit(&res);
        scn_config_deinit(&cfg);
    }
    if (status != 2) {
        printf("rerun: %zu runs, %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " errors; %" PRIu64
               " with the trace recorded\n",
               rs.len, pass, fail, errors, same);
        status = errors > 0 ? 2 : fail > 0 ? 1 : 0;
    }
    for (size_t i = 0; i < rs.len; i++) {
        free(rs.rows[i].name);
        free(rs.rows[i].path);
        free(rs.rows[i].yaml);
        free(rs.rows[i].verdict);
        free(rs.rows[i].trace);
    }
    free(rs.rows);
    return status;
}
