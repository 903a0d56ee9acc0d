/* run_scenario.c: builds a run from a scenario, drives its faults and
 * workload, and checks its expectations.
 *
 * Fault ends.  Convergence is measured from the end of each fault: the
 * end of a duration fault (restart, pause, link) is its start plus its
 * duration; a partition, block or isolation ends at the next heal that
 * lifts it (or the end of the chaos phase); a crash ends when the node is
 * started again; clock and member-list changes end when they are made.
 * With phases, everything is healed at the end of the chaos phase, which
 * then is the last fault end.
 *
 * Randomness.  The workload draws from SIM_STREAM_HARNESS(1), churn from
 * (2), the nemesis from (3), the readers' start times from (4); each
 * client and each reader from its own stream in the model.
 * None shares a stream with the engine's nodes or links. */
#include "run_scenario.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "distro_cluster.h"
#include "obs_convergence.h"
#include "obs_reads.h"
#include "rpt_escape.h"
#include "rpt_report.h"
#include "sim_alloc.h"
#include "sim_net.h"
#include "sim_vec.h"

#define STREAM_WORKLOAD 1u
#define STREAM_CHURN 2u
#define STREAM_NEMESIS 3u
#define STREAM_READS 4u
#define FAULT_KIND_RESTORE 100u    /* internal: restore a link after a link fault */

typedef struct run_fault_rec {
    const char *kind;
    char description[400];
    sim_time_ns start_ns;
    sim_time_ns end_ns;
    bool phases_heal;        /* the heal at the end of chaos (not a fault of its own) */
    bool ends_others;        /* a heal or start: it ends faults, has no recovery of its own */
    int32_t scripted;        /* index in cfg->faults, -1: nemesis or phases */
    bool not_started;        /* a wait_converged rolling step that never started */
    char nodes[32];          /* the nodes it acts on, for the per-fault table */
} run_fault_rec;

typedef struct run_ctx {
    const scn_config *cfg;
    sim_engine *sim;
    distro_cluster *cluster;
    obs *observer;
    obs_reads *reads;              /* NULL: no reader */
    sim_rng workload_rng;
    sim_rng churn_rng;
    sim_rng nemesis_rng;
    sim_time_ns chaos_end_ns;
    uint32_t nodes;
    uint32_t next_ip;
    run_fault_rec *faults;
    size_t faults_len;
    size_t faults_cap;
    bool *faulty;                  /* nemesis: node currently under a fault */
    sim_link_params *saved_links;  /* link parameters before a link fault, by fault */
    sim_status status;             /* first failure inside an event */
    sim_error err;
    const run_trace_filter *trace;
    void (*nemesis_fault)(void *ctx, const scn_fault *fault);   /* run_options.nemesis_fault */
    void *nemesis_ctx;
    bool tracing;                  /* a text trace, a hook or a note writer is on */
    char seq[32];                  /* the current event's sequence number, as the trace prints it */
    distro_observer inner;         /* the convergence observer's hooks, fed through the trace's */
    const char *const *metadata;
    sim_time_ns *fault_at;         /* [scripted fault]: when it starts (a waiting rolling step: NEVER until known) */
    bool *fault_waiting;           /* [scripted fault]: a wait_converged rolling step due once the cluster converges */
} run_ctx;

static void fail_in_event(run_ctx *r, sim_status st, const sim_error *err)
{
    if (st == SIM_OK || r->status != SIM_OK) return;
    r->status = st;
    r->err = *err;
    sim_fail(r->sim, err);   /* stop the run at once: what follows would build on a broken run */
}

static void schedule(run_ctx *r, sim_time_ns at_ns, sim_event_fn *fn, uint64_t arg)
{
    sim_error err;
    if (at_ns < sim_now(r->sim)) at_ns = sim_now(r->sim);
    fail_in_event(r, sim_schedule_at(r->sim, at_ns, SIM_KIND_FAULT, fn, r, arg, NULL, &err), &err);
}

static size_t fault_note(run_ctx *r, const char *kind, sim_time_ns start_ns, sim_time_ns end_ns, const char *fmt, ...)
    SIM_PRINTF(5, 6);
static size_t fault_note(run_ctx *r, const char *kind, sim_time_ns start_ns, sim_time_ns end_ns, const char *fmt, ...)
{
    if (!SIM_VEC_RESERVE(r->faults, r->faults_len, r->faults_cap, 1)) {
        sim_error err;
        (void)sim_error_set(&err, SIM_ERR_NOMEM, "fault_note", "out of memory recording fault %zu", r->faults_len);
        fail_in_event(r, SIM_ERR_NOMEM, &err);
        return SIZE_MAX;
    }
    run_fault_rec *f = &r->faults[r->faults_len];
    f->kind = kind;
    f->start_ns = start_ns;
    f->end_ns = end_ns;
    f->phases_heal = false;
    f->ends_others = strcmp(kind, "heal") == 0 || strcmp(kind, "start") == 0;
    f->scripted = -1;
    f->not_started = false;
    f->nodes[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->description, sizeof f->description, fmt, ap);
    va_end(ap);
    return r->faults_len++;
}

static void trace_note(run_ctx *r, run_note_kind kind, sim_time_ns end_ns, uint64_t nodes, const char *type,
                       const char *prefix, const char *text);
static void trace_harness(run_ctx *r, uint64_t nodes, const char *fmt, ...) SIM_PRINTF(3, 4);
static uint64_t node_bit(uint32_t node) { return node < 64 ? (uint64_t)1 << node : 0; }
static uint64_t all_nodes(const run_ctx *r) { return r->nodes >= 64 ? UINT64_MAX : ((uint64_t)1 << r->nodes) - 1u; }

/* --- Workload --------------------------------------------------------------------- */

static void client_ip(run_ctx *r, char *out, size_t size)
{
    uint32_t i = r->next_ip++;
    snprintf(out, size, "172.%u.%u.%u", 16 + (i >> 16) % 16, (i >> 8) & 0xff, (i & 0xff));
}

static sim_status add_client(run_ctx *r, uint32_t service, sim_time_ns delay_ns, sim_error *err)
{
    const scn_workload *w = &r->cfg->workload;
    char name[SCN_IDENT_BYTES_MAX + 16], ip[32];
    snprintf(name, sizeof name, "%s-%u", w->service_prefix, service);
    client_ip(r, ip, sizeof ip);
    distro_client_spec spec = {
        .namespace_id = w->namespace_id, .group = w->group, .service = name, .ip = ip, .port = 8080,
        .weight = 1.0, .metadata = r->metadata, .beat_interval_ns = w->beat_interval_ns,
        /* workload.clients: which instances are 1.x SDKs, by their order of creation. */
        .v1_sdk = scn_clients_v1(w->clients, distro_client_count(r->cluster)),
        .http_v2 = w->clients == SCN_CLIENTS_HTTP_V2,
    };
    return distro_client_add(r->cluster, &spec, delay_ns, NULL, err);
}

static sim_time_ns exp_draw(sim_rng *rng, uint32_t per_min_milli)
{
    /* Poisson arrivals: exponential gaps with mean 60 s * 1000 / rate. */
    double mean_ns = 60.0 * 1e9 * 1000.0 / (double)per_min_milli;
    double u = sim_rng_unit(rng);
    return (sim_time_ns)llround(-mean_ns * log(1.0 - u)) + 1;
}

enum { CHURN_REGISTER, CHURN_DEREGISTER, CHURN_CRASH };

static void churn_fire(sim_engine *sim, void *ctx, uint64_t what)
{
    run_ctx *r = ctx;
    const scn_churn *ch = &r->cfg->workload.churn;
    uint32_t rate = what == CHURN_REGISTER ? ch->register_per_min_milli
                    : what == CHURN_DEREGISTER ? ch->deregister_per_min_milli : ch->crash_per_min_milli;
    sim_error err;
    uint32_t clients = distro_client_count(r->cluster);
    if (what == CHURN_REGISTER && r->cfg->workload.services > 0) {
        uint32_t service = (uint32_t)sim_rng_below(&r->churn_rng, r->cfg->workload.services);
        fail_in_event(r, add_client(r, service, 0, &err), &err);
        if (r->tracing) trace_harness(r, 0, "churn: register client %u (service %u)", clients, service);
    } else {
        /* A random live client: draw, then walk to the next live one. */
        const char *verb = what == CHURN_DEREGISTER ? "deregister" : "kill";
        uint32_t start = clients > 0 ? (uint32_t)sim_rng_below(&r->churn_rng, clients) : 0;
        uint32_t i = 0;
        for (; i < clients; i++) {
            uint32_t c = (start + i) % clients;
            if (!distro_client_live(r->cluster, c)) continue;
            sim_status st = what == CHURN_DEREGISTER ? distro_client_deregister(r->cluster, c, &err)
                                                     : distro_client_kill(r->cluster, c, &err);
            fail_in_event(r, st, &err);
            if (r->tracing) trace_harness(r, 0, "churn: %s client %u", verb, c);
            break;
        }
        if (i == clients && r->tracing) trace_harness(r, 0, "churn: no live client to %s", verb);
    }
    sim_time_ns next = sim_now(sim) + exp_draw(&r->churn_rng, rate);
    if (next < r->chaos_end_ns) schedule(r, next, churn_fire, what);
}

static sim_status start_workload(run_ctx *r, sim_error *err)
{
    const scn_workload *w = &r->cfg->workload;
    for (uint32_t s = 0; s < w->services; s++) {
        for (uint32_t i = 0; i < w->instances_per_service; i++) {
            sim_time_ns jitter = w->register_spread_ns == 0 ? 0 : sim_rng_below(&r->workload_rng, w->register_spread_ns);
            sim_status st = add_client(r, s, w->start_at_ns + jitter, err);
            if (st != SIM_OK) return st;
        }
    }
    const uint32_t rates[3] = { w->churn.register_per_min_milli, w->churn.deregister_per_min_milli,
                                w->churn.crash_per_min_milli };
    for (uint64_t what = 0; what < 3; what++) {
        if (rates[what] == 0) continue;
        sim_time_ns first = w->start_at_ns + w->register_spread_ns + exp_draw(&r->churn_rng, rates[what]);
        if (first < r->chaos_end_ns) schedule(r, first, churn_fire, what);
    }
    return SIM_OK;
}

/* The readers of workload.reads: per read service, the queriers, then the
 * subscribers; queriers start at a random phase of their interval,
 * subscribers within a second of start_at. */
static sim_status start_readers(run_ctx *r, sim_error *err)
{
    const scn_workload *w = &r->cfg->workload;
    const scn_reads *rd = &w->reads;
    if (scn_reads_readers(r->cfg) == 0) return SIM_OK;
    sim_rng rng = sim_rng_derive(sim_seed(r->sim), SIM_STREAM_HARNESS(STREAM_READS));
    uint32_t services = scn_reads_services(r->cfg);
    for (uint32_t s = 0; s < services; s++) {
        char name[SCN_IDENT_BYTES_MAX + 16];
        snprintf(name, sizeof name, "%s-%u", w->service_prefix, s);
        uint32_t key = distro_cluster_key(r->cluster, w->namespace_id, w->group, name);
        if (key == UINT32_MAX) return sim_error_set(err, SIM_ERR_NOMEM, "start_readers", "out of memory");
        for (uint32_t i = 0; i < rd->queriers + rd->subscribers; i++) {
            bool subscribe = i >= rd->queriers;
            sim_time_ns phase = sim_rng_below(&rng, subscribe ? SIM_S : rd->query_interval_ns);
            distro_reader_spec spec = { .key = key, .subscribe = subscribe, .interval_ns = rd->query_interval_ns,
                                        .push_empty_protection = rd->push_empty_protection,
                                        .grpc = subscribe && scn_reads_grpc(r->cfg) };
            sim_status st = distro_reader_add(r->cluster, &spec, rd->start_at_ns + phase, NULL, err);
            if (st != SIM_OK) return st;
        }
    }
    return SIM_OK;
}

/* --- Scripted faults ------------------------------------------------------------------- */

static void apply_link(run_ctx *r, uint32_t from, uint32_t to, uint32_t fields, const sim_link_params *p)
{
    sim_link_params next = *sim_net_link(r->sim, from, to);
    if (fields & SCN_LINK_LATENCY) next.latency = p->latency;
    if (fields & SCN_LINK_LOSS) next.loss_ppm = p->loss_ppm;
    if (fields & SCN_LINK_DUPLICATE) next.duplicate_ppm = p->duplicate_ppm;
    if (fields & SCN_LINK_REORDER) next.reorder = p->reorder;
    if (fields & SCN_LINK_BANDWIDTH) next.bandwidth_bytes_per_s = p->bandwidth_bytes_per_s;
    sim_error err;
    fail_in_event(r, sim_net_set_link(r->sim, from, to, &next, &err), &err);
}

static void restore_links(run_ctx *r)
{
    /* The scenario's own link settings: the default plus its overrides. */
    sim_error err;
    for (uint32_t a = 0; a < r->nodes; a++) {
        for (uint32_t b = 0; b < r->nodes; b++) fail_in_event(r, sim_net_clear_link(r->sim, a, b, &err), &err);
    }
    for (uint32_t i = 0; i < r->cfg->network.link_count; i++) {
        const scn_link_override *o = &r->cfg->network.links[i];
        apply_link(r, o->from, o->to, o->fields, &o->params);
    }
}

static void link_restore_fire(sim_engine *sim, void *ctx, uint64_t index)
{
    (void)sim;
    run_ctx *r = ctx;
    const scn_fault *f = &r->cfg->faults[index];
    sim_error err;
    fail_in_event(r, sim_net_set_link(r->sim, f->from, f->to, &r->saved_links[2 * index], &err), &err);
    if (f->both) fail_in_event(r, sim_net_set_link(r->sim, f->to, f->from, &r->saved_links[2 * index + 1], &err), &err);
    if (r->tracing) {
        trace_harness(r, node_bit(f->from) | node_bit(f->to), "fault %u: link %u%s%u restored", (unsigned)index,
                      (unsigned)f->from, f->both ? "<->" : "->", (unsigned)f->to);
    }
}

static void start_if_down(run_ctx *r, uint32_t node, sim_time_ns delay_ns)
{
    if (sim_node_state_get(r->sim, node) != SIM_NODE_DOWN) return;
    sim_error err;
    fail_in_event(r, sim_node_start(r->sim, node, delay_ns, &err), &err);
}

static void trace_fault(run_ctx *r, uint32_t index);
static void fault_fire(sim_engine *sim, void *ctx, uint64_t index);

/* --- Rolling steps that wait for convergence -------------------------------------------
 *
 * With wait_converged, step k + 1 of a rolling entry starts `every` after
 * the first instant the cluster is converged once step k has ended (its
 * node started or resumed): rolling_step_end looks at the end of the step,
 * and the observer's convergence hook releases a step that waits.  A step
 * due after the fault window does not start, nor do the ones after it. */

static void rolling_start(run_ctx *r, uint32_t index, sim_time_ns at_ns)
{
    if (at_ns >= r->chaos_end_ns) return;   /* past the fault window: not started */
    r->fault_at[index] = at_ns;
    if (index < r->faults_len) {            /* its record (scripted faults come first, in order) */
        r->faults[index].start_ns = at_ns;
        r->faults[index].end_ns = at_ns + r->cfg->faults[index].duration_ns;
    }
    schedule(r, at_ns, fault_fire, index);
}

static void rolling_step_end(sim_engine *sim, void *ctx, uint64_t index)
{
    run_ctx *r = ctx;
    const scn_fault *f = &r->cfg->faults[index];
    if (obs_converged(r->observer)) {
        rolling_start(r, (uint32_t)index + 1, sim_now(sim) + f->rolling_every_ns);
    } else {
        r->fault_waiting[index + 1] = true;
    }
}

static void rolling_on_converged(void *ctx)
{
    run_ctx *r = ctx;
    for (uint32_t i = 0; i < r->cfg->fault_count; i++) {   /* O(faults), on each convergence: faults are few */
        if (!r->fault_waiting[i]) continue;
        r->fault_waiting[i] = false;
        rolling_start(r, i, sim_now(r->sim) + r->cfg->faults[i].rolling_every_ns);
    }
}

static void fault_fire(sim_engine *sim, void *ctx, uint64_t index)
{
    run_ctx *r = ctx;
    const scn_fault *f = &r->cfg->faults[index];
    sim_error err;
    sim_status st = SIM_OK;
    if (r->tracing) trace_fault(r, (uint32_t)index);
    switch (f->kind) {
    case SCN_FAULT_PARTITION: {
        uint32_t group_of[SCN_NODES_MAX];
        scn_partition_group_of(f, r->nodes, group_of);
        st = sim_net_partition(sim, group_of, r->nodes, &err);
        break;
    }
    case SCN_FAULT_BLOCK: st = sim_net_block(sim, f->from, f->to, &err); break;
    case SCN_FAULT_ISOLATE: st = sim_net_isolate(sim, f->node, &err); break;
    case SCN_FAULT_HEAL_ALL: sim_net_heal_all(sim); break;
    case SCN_FAULT_HEAL_LINK: st = sim_net_heal(sim, f->from, f->to, &err); break;
    case SCN_FAULT_HEAL_NODE: st = sim_net_heal_node(sim, f->node, &err); break;
    case SCN_FAULT_CRASH:
        if (sim_node_state_get(sim, f->node) != SIM_NODE_DOWN) st = sim_node_crash(sim, f->node, &err);
        break;
    case SCN_FAULT_START: start_if_down(r, f->node, 0); break;
    case SCN_FAULT_RESTART:
        if (sim_node_state_get(sim, f->node) == SIM_NODE_DOWN) start_if_down(r, f->node, f->duration_ns);
        else st = sim_node_restart(sim, f->node, f->duration_ns, &err);
        break;
    case SCN_FAULT_PAUSE:
        if (sim_node_state_get(sim, f->node) == SIM_NODE_UP) st = sim_node_pause(sim, f->node, f->duration_ns, &err);
        break;
    case SCN_FAULT_LINK:
        r->saved_links[2 * index] = *sim_net_link(sim, f->from, f->to);
        apply_link(r, f->from, f->to, f->link_fields, &f->link);
        if (f->both) {
            r->saved_links[2 * index + 1] = *sim_net_link(sim, f->to, f->from);
            apply_link(r, f->to, f->from, f->link_fields, &f->link);
        }
        schedule(r, sim_now(sim) + f->duration_ns, link_restore_fire, index);
        break;
    case SCN_FAULT_CLOCK:
        st = sim_node_set_clock(sim, f->node, f->clock_offset_ns, f->clock_drift_ppm, &err);
        break;
    case SCN_FAULT_MEMBERS:
        for (uint32_t on = 0; on < r->nodes && st == SIM_OK; on++) {
            if (!(f->members_on >> on & 1)) continue;
            for (uint32_t m = 0; m < r->nodes && st == SIM_OK; m++) {
                if (m == on) continue;
                if (f->members_add >> m & 1) st = distro_member_add(r->cluster, on, m, &err);
                if (f->members_remove >> m & 1) st = distro_member_remove(r->cluster, on, m, &err);
            }
        }
        break;
    case SCN_FAULT_KINDS: break;
    }
    fail_in_event(r, st, &err);
    if (f->rolling_wait && f->rolling_step + 1 < f->rolling_steps) {
        /* After the node's own start or resume, which the fault scheduled
         * first at the same instant. */
        schedule(r, sim_now(sim) + f->duration_ns, rolling_step_end, index);
    }
}

static bool heals(const scn_fault *heal, const scn_fault *f)
{
    if (heal->kind == SCN_FAULT_HEAL_ALL) return true;
    if (heal->kind == SCN_FAULT_HEAL_NODE) {
        return (f->kind == SCN_FAULT_ISOLATE && f->node == heal->node) ||
               (f->kind == SCN_FAULT_BLOCK && (f->from == heal->node || f->to == heal->node));
    }
    if (heal->kind == SCN_FAULT_HEAL_LINK) return f->kind == SCN_FAULT_BLOCK && f->from == heal->from && f->to == heal->to;
    return false;
}

/* When the effect of scripted fault i ends (see the file comment). */
static sim_time_ns fault_end(const run_ctx *r, uint32_t i)
{
    const scn_fault *f = &r->cfg->faults[i];
    sim_time_ns horizon = r->chaos_end_ns;
    sim_time_ns best = horizon;
    switch (f->kind) {
    case SCN_FAULT_RESTART:
    case SCN_FAULT_PAUSE:
    case SCN_FAULT_LINK:
        return r->fault_at[i] + f->duration_ns;   /* a rolling step may start later than its at_ns */
    case SCN_FAULT_PARTITION:
    case SCN_FAULT_BLOCK:
    case SCN_FAULT_ISOLATE:
        for (uint32_t j = 0; j < r->cfg->fault_count; j++) {
            const scn_fault *h = &r->cfg->faults[j];
            if (h->at_ns >= f->at_ns && j != i && heals(h, f) && h->at_ns < best) best = h->at_ns;
        }
        return best;
    case SCN_FAULT_CRASH:
        for (uint32_t j = 0; j < r->cfg->fault_count; j++) {
            const scn_fault *h = &r->cfg->faults[j];
            bool starts = (h->kind == SCN_FAULT_START || h->kind == SCN_FAULT_RESTART) && h->node == f->node;
            sim_time_ns at = h->kind == SCN_FAULT_RESTART ? h->at_ns + h->duration_ns : h->at_ns;
            if (starts && h->at_ns >= f->at_ns && at < best) best = at;
        }
        return best;
    case SCN_FAULT_HEAL_ALL:
    case SCN_FAULT_HEAL_LINK:
    case SCN_FAULT_HEAL_NODE:
    case SCN_FAULT_START:
    case SCN_FAULT_CLOCK:
    case SCN_FAULT_MEMBERS:
    case SCN_FAULT_KINDS:
        break;
    }
    return f->at_ns;
}

/* The nodes scripted fault f acts on, for the per-fault table. */
static void fault_nodes(const scn_fault *f, uint32_t nodes, char *buf, size_t size)
{
    switch (f->kind) {
    case SCN_FAULT_BLOCK:
    case SCN_FAULT_HEAL_LINK:
    case SCN_FAULT_LINK:
        snprintf(buf, size, f->kind == SCN_FAULT_LINK && f->both ? "%u<->%u" : "%u->%u", (unsigned)f->from,
                 (unsigned)f->to);
        return;
    case SCN_FAULT_PARTITION: {
        uint32_t group_of[SCN_NODES_MAX];
        uint32_t groups = scn_partition_group_of(f, nodes, group_of);
        size_t len = 0;
        buf[0] = '\0';
        for (uint32_t g = 0; g < groups && len < size; g++) {
            for (uint32_t n = 0, first = 1; n < nodes && len < size; n++) {
                if (group_of[n] != g) continue;
                int w = snprintf(buf + len, size - len, "%s%u", first ? (g > 0 ? "|" : "") : ",", (unsigned)n);
                len += w > 0 ? (size_t)w : 0;
                first = 0;
            }
        }
        return;
    }
    case SCN_FAULT_HEAL_ALL: snprintf(buf, size, "all"); return;
    case SCN_FAULT_MEMBERS: snprintf(buf, size, "views of %u nodes", (unsigned)__builtin_popcountll(f->members_on)); return;
    case SCN_FAULT_ISOLATE:
    case SCN_FAULT_HEAL_NODE:
    case SCN_FAULT_CRASH:
    case SCN_FAULT_START:
    case SCN_FAULT_RESTART:
    case SCN_FAULT_PAUSE:
    case SCN_FAULT_CLOCK:
    case SCN_FAULT_KINDS:
        break;
    }
    snprintf(buf, size, "%u", (unsigned)f->node);
}

/* --- Nemesis ---------------------------------------------------------------------------- */

enum { NEMESIS_END_HEAL_NODE = 1, NEMESIS_END_START = 2, NEMESIS_END_LINK = 3, NEMESIS_END_CLOCK = 4 };

static uint32_t faulty_count(const run_ctx *r)
{
    uint32_t c = 0;
    for (uint32_t n = 0; n < r->nodes; n++) c += r->faulty[n];
    return c;
}

static void nemesis_end(sim_engine *sim, void *ctx, uint64_t arg)
{
    run_ctx *r = ctx;
    uint32_t node = (uint32_t)(arg & 0xffff);
    uint32_t what = (uint32_t)(arg >> 16) & 0xff;
    uint32_t peer = (uint32_t)(arg >> 24) & 0xffff;
    sim_error err;
    switch (what) {
    case NEMESIS_END_HEAL_NODE: fail_in_event(r, sim_net_heal_node(sim, node, &err), &err); break;
    case NEMESIS_END_START: start_if_down(r, node, 0); break;
    case NEMESIS_END_LINK:
        fail_in_event(r, sim_net_clear_link(sim, node, peer, &err), &err);
        for (uint32_t i = 0; i < r->cfg->network.link_count; i++) {
            const scn_link_override *o = &r->cfg->network.links[i];
            if (o->from == node && o->to == peer) apply_link(r, o->from, o->to, o->fields, &o->params);
        }
        break;
    case NEMESIS_END_CLOCK: fail_in_event(r, sim_node_set_clock(sim, node, 0, 0, &err), &err); break;
    default: break;
    }
    r->faulty[node] = false;
    if (r->tracing) {
        static const char *const ends[] = { "pause over", "healed", "started", "link restored", "clock reset" };
        trace_harness(r, node_bit(node) | (what == NEMESIS_END_LINK ? node_bit(peer) : 0),
                      "nemesis: end of the fault on node %u (%s)", node, what < 5 ? ends[what] : "?");
    }
}

/* The scripted faults that do what the nemesis just did (run_options.nemesis_fault). */
static void nemesis_as_faults(run_ctx *r, scn_fault_kind kind, uint32_t node, uint32_t peer, sim_time_ns now,
                              sim_time_ns duration, int64_t clock_offset_ns)
{
    scn_fault f;
    memset(&f, 0, sizeof f);
    f.at_ns = now;
    f.node = node;
    switch (kind) {
    case SCN_FAULT_PARTITION:
    case SCN_FAULT_ISOLATE:
        f.kind = SCN_FAULT_ISOLATE;
        r->nemesis_fault(r->nemesis_ctx, &f);
        f.kind = SCN_FAULT_HEAL_NODE;
        f.at_ns = now + duration;
        break;
    case SCN_FAULT_CRASH:
    case SCN_FAULT_RESTART:
        f.kind = SCN_FAULT_RESTART;
        f.duration_ns = duration;
        break;
    case SCN_FAULT_PAUSE:
        f.kind = SCN_FAULT_PAUSE;
        f.duration_ns = duration;
        break;
    case SCN_FAULT_LINK:
        f.kind = SCN_FAULT_LINK;
        f.from = node;
        f.to = peer;
        f.duration_ns = duration;
        f.link_fields = SCN_LINK_LATENCY | SCN_LINK_LOSS;
        f.link = r->cfg->network.defaults;   /* invariant (5) of scn_config.h: the rest inherits */
        f.link.loss_ppm = 500000;
        f.link.latency = sim_latency_constant(200 * SIM_MS);
        break;
    case SCN_FAULT_CLOCK:
        f.kind = SCN_FAULT_CLOCK;
        f.clock_offset_ns = clock_offset_ns;
        r->nemesis_fault(r->nemesis_ctx, &f);
        f.clock_offset_ns = 0;
        f.at_ns = now + duration;
        break;
    case SCN_FAULT_BLOCK:
    case SCN_FAULT_HEAL_ALL:
    case SCN_FAULT_HEAL_LINK:
    case SCN_FAULT_HEAL_NODE:
    case SCN_FAULT_START:
    case SCN_FAULT_MEMBERS:
    case SCN_FAULT_KINDS:
        return;
    }
    r->nemesis_fault(r->nemesis_ctx, &f);
}

static void nemesis_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    run_ctx *r = ctx;
    const scn_nemesis *nm = &r->cfg->nemesis;
    sim_rng *rng = &r->nemesis_rng;
    sim_time_ns now = sim_now(sim);
    sim_time_ns duration = nm->duration.min_ns + sim_rng_below(rng, nm->duration.max_ns - nm->duration.min_ns + 1);
    if (now + duration > r->chaos_end_ns) duration = r->chaos_end_ns - now;
    uint32_t kinds[SCN_FAULT_KINDS], nkinds = 0;
    for (uint32_t k = 0; k < SCN_FAULT_KINDS; k++) {
        if (nm->kinds >> k & 1) kinds[nkinds++] = k;
    }
    scn_fault_kind kind = (scn_fault_kind)kinds[sim_rng_below(rng, nkinds)];
    uint32_t node = (uint32_t)sim_rng_below(rng, r->nodes);
    sim_error err;
    size_t noted = r->faults_len;
    uint32_t peer = node;
    int64_t clock_offset_ns = 0;
    if (duration > 0 && faulty_count(r) < nm->max_down && !r->faulty[node]) {
        r->faulty[node] = true;
        sim_time_ns end = now + duration;
        const char *addr = distro_cluster_address(r->cluster, node);
        switch (kind) {
        case SCN_FAULT_PARTITION:
        case SCN_FAULT_ISOLATE:
            fail_in_event(r, sim_net_isolate(sim, node, &err), &err);
            fault_note(r, "isolate", now, end, "nemesis: isolate node %u (%s)", node, addr);
            schedule(r, end, nemesis_end, node | (NEMESIS_END_HEAL_NODE << 16));
            break;
        case SCN_FAULT_CRASH:
        case SCN_FAULT_RESTART:
            if (sim_node_state_get(sim, node) != SIM_NODE_DOWN) fail_in_event(r, sim_node_crash(sim, node, &err), &err);
            fault_note(r, "crash", now, end, "nemesis: crash node %u (%s), start after %.1f s", node, addr,
                       (double)duration / 1e9);
            schedule(r, end, nemesis_end, node | (NEMESIS_END_START << 16));
            break;
        case SCN_FAULT_PAUSE:
            if (sim_node_state_get(sim, node) == SIM_NODE_UP) {
                fail_in_event(r, sim_node_pause(sim, node, duration, &err), &err);
            }
            fault_note(r, "pause", now, end, "nemesis: pause node %u (%s) for %.1f s", node, addr, (double)duration / 1e9);
            schedule(r, end, nemesis_end, node);
            break;
        case SCN_FAULT_LINK: {
            if (r->nodes < 2) {          /* a one-node cluster has no link to degrade */
                r->faulty[node] = false;
                break;
            }
            peer = (node + 1 + (uint32_t)sim_rng_below(rng, r->nodes - 1)) % r->nodes;
            sim_link_params p = *sim_net_link(sim, node, peer);
            p.loss_ppm = 500000;
            p.latency = sim_latency_constant(200 * SIM_MS);
            fail_in_event(r, sim_net_set_link(sim, node, peer, &p, &err), &err);
            fault_note(r, "link", now, end, "nemesis: link %u->%u 200 ms, 50%% loss", node, peer);
            schedule(r, end, nemesis_end, node | (NEMESIS_END_LINK << 16) | ((uint64_t)peer << 24));
            break;
        }
        case SCN_FAULT_CLOCK: {
            int64_t offset = (int64_t)sim_rng_below(rng, 20 * SIM_S) - (int64_t)(10 * SIM_S);
            if ((int64_t)now + offset < 0) offset = 0;
            clock_offset_ns = offset;
            fail_in_event(r, sim_node_set_clock(sim, node, offset, 0, &err), &err);
            fault_note(r, "clock", now, end, "nemesis: node %u clock %+.1f s", node, (double)offset / 1e9);
            schedule(r, end, nemesis_end, node | (NEMESIS_END_CLOCK << 16));
            break;
        }
        case SCN_FAULT_BLOCK:
        case SCN_FAULT_HEAL_ALL:
        case SCN_FAULT_HEAL_LINK:
        case SCN_FAULT_HEAL_NODE:
        case SCN_FAULT_START:
        case SCN_FAULT_MEMBERS:
        case SCN_FAULT_KINDS:
            r->faulty[node] = false;
            break;
        }
    }
    if (r->faults_len > noted && r->nemesis_fault != NULL) {
        nemesis_as_faults(r, kind, node, peer, now, duration, clock_offset_ns);
    }
    if (r->faults_len > noted) {
        char *nodes = r->faults[noted].nodes;
        if (peer != node) snprintf(nodes, sizeof r->faults[noted].nodes, "%u->%u", (unsigned)node, (unsigned)peer);
        else snprintf(nodes, sizeof r->faults[noted].nodes, "%u", (unsigned)node);
        if (r->tracing) {
            trace_note(r, RUN_NOTE_FAULT, r->faults[noted].end_ns, node_bit(node) | node_bit(peer), NULL, "",
                       r->faults[noted].description);
        }
    } else if (r->tracing) {
        trace_harness(r, 0, "nemesis: no fault (drew node %u)", node);
    }
    sim_time_ns gap = nm->interval.min_ns + sim_rng_below(rng, nm->interval.max_ns - nm->interval.min_ns + 1);
    if (now + gap < r->chaos_end_ns) schedule(r, now + gap, nemesis_fire, 0);
}

static void heal_everything(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    run_ctx *r = ctx;
    sim_net_heal_all(sim);
    restore_links(r);
    sim_error err;
    for (uint32_t n = 0; n < r->nodes; n++) {
        start_if_down(r, n, 0);
        fail_in_event(r, sim_node_set_clock(sim, n, 0, 0, &err), &err);
        r->faulty[n] = false;
    }
    if (r->tracing) {
        char text[96];
        snprintf(text, sizeof text, "phases: heal everything, quiet for %.0f s", (double)r->cfg->phases.quiet_ns / 1e9);
        trace_note(r, RUN_NOTE_FAULT, sim_now(sim), all_nodes(r), NULL, "", text);
    }
}

/* --- Trace (replay) ---------------------------------------------------------------------
 *
 * One line per event: a message delivered or dropped, or an event named by
 * its kind (run_event_kind_name).  The harness's own events (faults, churn,
 * the nemesis) print what they did from their handlers instead, and the
 * model's happenings print as `model` lines inside the event that caused
 * them, with its sequence number.  None of this schedules anything: the
 * trace hash is the same with the trace on or off. */

const char *run_event_kind_name(uint16_t kind, char *buf, size_t size)
{
    const char *name = sim_kind_name(kind);
    if (name == NULL) name = distro_event_kind_name(kind);
    if (name == NULL && kind == SIM_KIND_USER) name = "sample";   /* the convergence observer's timer */
    if (name != NULL) return name;
    snprintf(buf, size, "kind %u", (unsigned)kind);
    return buf;
}

/* Prints `prefix` `text` as a line of the current event when the window,
 * --node (one of `nodes`) and --type (`type`: the message type the line is
 * about, NULL for none) let it through. */
static void trace_print(const run_ctx *r, sim_time_ns at_ns, uint64_t nodes, const char *type, const char *prefix,
                        const char *text)
{
    const run_trace_filter *t = r->trace;
    if (t->out == NULL || at_ns < t->from_ns || at_ns > t->to_ns) return;
    if (t->node >= 0 && !(nodes >> (uint32_t)t->node & 1u)) return;
    if (t->type >= 0 && (type == NULL || strcmp(type, distro_msg_type_name((uint16_t)t->type)) != 0)) return;
    fprintf(t->out, "%llu.%09llu seq=%s %s%s\n", (unsigned long long)(at_ns / SIM_S),
            (unsigned long long)(at_ns % SIM_S), r->seq, prefix, text);
}

/* A line of the text trace and a note for the trace writer, now. */
static void trace_note(run_ctx *r, run_note_kind kind, sim_time_ns end_ns, uint64_t nodes, const char *type,
                       const char *prefix, const char *text)
{
    sim_time_ns now = sim_now(r->sim);
    trace_print(r, now, nodes, type, prefix, text);
    if (r->trace->note == NULL) return;
    int32_t node = -1;
    if (kind == RUN_NOTE_MODEL) node = (int32_t)__builtin_ctzll(nodes);
    run_note n = { .kind = kind, .at_ns = now, .end_ns = end_ns, .nodes = nodes, .node = node, .text = text };
    r->trace->note(r->trace->note_ctx, &n);
}

static void trace_harness(run_ctx *r, uint64_t nodes, const char *fmt, ...)
{
    char text[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* A harness event about no node in particular shows under any --node. */
    trace_note(r, RUN_NOTE_HARNESS, sim_now(r->sim), nodes != 0 ? nodes : all_nodes(r), NULL, "", text);
}

/* "{0,1}" for a set of nodes. */
static void set_text(uint64_t set, uint32_t nodes, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t n = 0; n < nodes && len + 1 < size; n++) {
        if (!(set >> n & 1u)) continue;
        int w = snprintf(buf + len, size - len, "%s%u", len == 0 ? "{" : ",", (unsigned)n);
        len += w > 0 ? (size_t)w : 0;
    }
    if (len < size) snprintf(buf + len, size - len, "%s", len == 0 ? "{}" : "}");
}

/* What scripted fault f does, to which nodes: "partition {0,1}|{2}",
 * "crash node 1", "block 0->1". */
static void fault_what(const run_ctx *r, const scn_fault *f, char *buf, size_t size)
{
    const char *kind = scn_fault_kind_name(f->kind);
    char nodes[160], on[96], add[96], remove[96];
    fault_nodes(f, r->nodes, nodes, sizeof nodes);
    double seconds = (double)f->duration_ns / 1e9;
    switch (f->kind) {
    case SCN_FAULT_PARTITION: {
        char sets[200];
        size_t len = 0;
        for (const char *p = nodes; *p != '\0' && len + 3 < sizeof sets; p++) {
            if (p == nodes) sets[len++] = '{';
            if (*p == '|') {
                sets[len++] = '}', sets[len++] = '|', sets[len++] = '{';
            } else {
                sets[len++] = *p;
            }
        }
        sets[len++] = '}';
        sets[len] = '\0';
        snprintf(buf, size, "partition %s", sets);
        break;
    }
    case SCN_FAULT_BLOCK:
    case SCN_FAULT_HEAL_LINK: snprintf(buf, size, "%s %s", kind, nodes); break;
    case SCN_FAULT_HEAL_ALL: snprintf(buf, size, "heal all"); break;
    case SCN_FAULT_LINK: snprintf(buf, size, "link %s changed for %.3f s", nodes, seconds); break;
    case SCN_FAULT_RESTART: snprintf(buf, size, "restart node %s, down %.3f s", nodes, seconds); break;
    case SCN_FAULT_PAUSE: snprintf(buf, size, "pause node %s for %.3f s", nodes, seconds); break;
    case SCN_FAULT_CLOCK:
        snprintf(buf, size, "clock node %s offset %+.3f s drift %d ppm", nodes, (double)f->clock_offset_ns / 1e9,
                 (int)f->clock_drift_ppm);
        break;
    case SCN_FAULT_MEMBERS:
        set_text(f->members_on, r->nodes, on, sizeof on);
        set_text(f->members_add, r->nodes, add, sizeof add);
        set_text(f->members_remove, r->nodes, remove, sizeof remove);
        snprintf(buf, size, "members on %s: add %s remove %s", on, add, remove);
        break;
    case SCN_FAULT_ISOLATE:
    case SCN_FAULT_HEAL_NODE:
    case SCN_FAULT_CRASH:
    case SCN_FAULT_START:
    case SCN_FAULT_KINDS:
        snprintf(buf, size, "%s node %s", kind, nodes);
        break;
    }
}

/* The nodes scripted fault f acts on: every node for a partition (each
 * side is cut off from the other) and a heal of everything. */
static uint64_t fault_mask(const run_ctx *r, const scn_fault *f)
{
    switch (f->kind) {
    case SCN_FAULT_PARTITION:
    case SCN_FAULT_HEAL_ALL: return all_nodes(r);
    case SCN_FAULT_BLOCK:
    case SCN_FAULT_HEAL_LINK:
    case SCN_FAULT_LINK: return node_bit(f->from) | node_bit(f->to);
    case SCN_FAULT_MEMBERS: return f->members_on;
    case SCN_FAULT_ISOLATE:
    case SCN_FAULT_HEAL_NODE:
    case SCN_FAULT_CRASH:
    case SCN_FAULT_START:
    case SCN_FAULT_RESTART:
    case SCN_FAULT_PAUSE:
    case SCN_FAULT_CLOCK:
    case SCN_FAULT_KINDS: break;
    }
    return node_bit(f->node);
}

static void trace_fault(run_ctx *r, uint32_t index)
{
    const scn_fault *f = &r->cfg->faults[index];
    char what[320], text[400];
    fault_what(r, f, what, sizeof what);
    if (f->rolling_steps > 0) {
        snprintf(text, sizeof text, "fault %u: %s (rolling step %u of %u)", index, what, (unsigned)f->rolling_step + 1u,
                 (unsigned)f->rolling_steps);
    } else {
        snprintf(text, sizeof text, "fault %u: %s", index, what);
    }
    trace_note(r, RUN_NOTE_FAULT, fault_end(r, index), fault_mask(r, f), NULL, "", text);
}

static void trace_event(void *ctx, const sim_trace_record *rec, const sim_message *msg)
{
    /* Ordinary sequence numbers start at 2^62 (below it: events resumed
     * from a pause backlog, printed with an "r"); show them from 0. */
    const uint64_t base = 1ull << 62;
    run_ctx *r = ctx;
    if (rec->seq >= base) snprintf(r->seq, sizeof r->seq, "%llu", (unsigned long long)(rec->seq - base));
    else snprintf(r->seq, sizeof r->seq, "r%llu", (unsigned long long)rec->seq);
    const run_trace_filter *t = r->trace;
    if (t->hook != NULL) t->hook(t->hook_ctx, rec, msg);
    if (t->out == NULL) return;
    if (rec->kind == SIM_KIND_FAULT && rec->node == SIM_NODE_NONE) return;   /* its handler says what it does */
    if (rec->at_ns < t->from_ns || rec->at_ns > t->to_ns) return;
    if (t->node >= 0 && rec->node != (uint32_t)t->node && (msg == NULL || msg->src != (uint32_t)t->node)) return;
    if (t->type >= 0 && (msg == NULL || msg->type != (uint32_t)t->type)) return;
    int node = rec->node == SIM_NODE_NONE ? -1 : (int)rec->node;
    if (msg != NULL && msg->dropped >= 0) {
        fprintf(t->out, "%llu.%09llu seq=%s drop(%s) %s %u->%u bytes=%u sent=%llu.%09llu\n",
                (unsigned long long)(rec->at_ns / SIM_S), (unsigned long long)(rec->at_ns % SIM_S), r->seq,
                sim_drop_reason_name((sim_drop_reason)msg->dropped), distro_msg_type_name(msg->type), msg->src,
                msg->dst, msg->bytes, (unsigned long long)(msg->sent_at_ns / SIM_S),
                (unsigned long long)(msg->sent_at_ns % SIM_S));
    } else if (msg != NULL) {
        fprintf(t->out, "%llu.%09llu seq=%s deliver %s %u->%u bytes=%u sent=%llu.%09llu\n",
                (unsigned long long)(rec->at_ns / SIM_S), (unsigned long long)(rec->at_ns % SIM_S),
                r->seq, distro_msg_type_name(msg->type), msg->src, msg->dst, msg->bytes,
                (unsigned long long)(msg->sent_at_ns / SIM_S), (unsigned long long)(msg->sent_at_ns % SIM_S));
    } else {
        char buf[32];
        fprintf(t->out, "%llu.%09llu seq=%s event %s node=%d incarnation=%u\n",
                (unsigned long long)(rec->at_ns / SIM_S), (unsigned long long)(rec->at_ns % SIM_S),
                r->seq, run_event_kind_name(rec->kind, buf, sizeof buf), node, rec->incarnation);
    }
}

/* --- Model happenings in the trace ----------------------------------------------------------
 *
 * While tracing, the runner's observer stands in front of the convergence
 * observer: it passes every change on (obs_hooks) and prints the model's
 * happenings.  `type` says which message a line is about, for --type. */

static void model_line(run_ctx *r, uint32_t node, uint32_t other, const char *type, const char *fmt, ...)
    SIM_PRINTF(5, 6);
static void model_line(run_ctx *r, uint32_t node, uint32_t other, const char *type, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    uint64_t nodes = node_bit(node) | (other != UINT32_MAX ? node_bit(other) : 0);
    trace_note(r, RUN_NOTE_MODEL, sim_now(r->sim), nodes, type, "model ", text);
}

static const char *key_tag(const run_ctx *r, uint32_t key) { return distro_cluster_key_tag(r->cluster, key); }

static void on_datum(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t key, const char *old_cks, const char *new_cks)
{
    const run_ctx *r = ctx;
    if (r->inner.datum_changed != NULL) r->inner.datum_changed(r->inner.ctx, at_ns, node, key, old_cks, new_cks);
}

static void on_view(void *ctx, sim_time_ns at_ns, uint32_t node, const uint32_t *healthy, uint32_t count)
{
    const run_ctx *r = ctx;
    if (r->inner.view_changed != NULL) r->inner.view_changed(r->inner.ctx, at_ns, node, healthy, count);
}

static void on_node(void *ctx, sim_time_ns at_ns, uint32_t node, bool up)
{
    const run_ctx *r = ctx;
    if (r->inner.node_changed != NULL) r->inner.node_changed(r->inner.ctx, at_ns, node, up);
}

static void reads_failed(run_ctx *r)
{
    sim_error err;
    (void)sim_error_set(&err, SIM_ERR_NOMEM, "obs_reads", "out of memory recording a read");
    fail_in_event(r, SIM_ERR_NOMEM, &err);
}

static void on_client(void *ctx, sim_time_ns at_ns, uint32_t client, bool live)
{
    run_ctx *r = ctx;
    if (r->inner.client_changed != NULL) r->inner.client_changed(r->inner.ctx, at_ns, client, live);
    if (r->reads != NULL && !obs_reads_truth(r->reads, at_ns, client, distro_client_key(r->cluster, client), live)) {
        reads_failed(r);
    }
}

static void on_read(void *ctx, sim_time_ns at_ns, const distro_read *read)
{
    run_ctx *r = ctx;
    if (r->reads != NULL && !obs_reads_read(r->reads, at_ns, read)) reads_failed(r);
    if (read->source != DISTRO_READ_VIEW || !r->tracing) return;
    if (read->server < 0) {   /* the first query failed everywhere: the empty ServiceInfo stays */
        trace_harness(r, 0, "view reader=%u key=%s hosts=%u (no server answered)", read->reader,
                      key_tag(r, read->key), read->count);
        return;
    }
    model_line(r, (uint32_t)read->server, UINT32_MAX, NULL, "view reader=%u key=%s hosts=%u %s node=%d",
               read->reader, key_tag(r, read->key), read->count, read->pushed ? "pushed by" : "answered by",
               read->server);
}

static void on_member(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t peer, distro_member_state old_state,
                      distro_member_state state)
{
    (void)at_ns;
    model_line(ctx, node, peer, "member_report", "member node=%u peer=%u %s->%s", node, peer,
               distro_member_state_name(old_state), distro_member_state_name(state));
}

static void on_unhealthy(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t key, const char *ip, uint32_t port)
{
    (void)at_ns;
    model_line(ctx, node, UINT32_MAX, NULL, "unhealthy node=%u key=%s instance=%s:%u", node, key_tag(ctx, key), ip,
               port);
}

static void on_expired(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t key, const char *ip, uint32_t port)
{
    (void)at_ns;
    model_line(ctx, node, UINT32_MAX, NULL, "expired node=%u key=%s instance=%s:%u", node, key_tag(ctx, key), ip,
               port);
}

static void on_verify_aborted(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t source, uint32_t key)
{
    (void)at_ns;
    model_line(ctx, node, source, "checksum", "verify_abort node=%u source=%u key=%s (owned here)", node, source,
               key_tag(ctx, key));
}

static void on_verify_removed(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t source, uint32_t key)
{
    (void)at_ns;
    model_line(ctx, node, source, "checksum", "verify_remove node=%u source=%u key=%s", node, source,
               key_tag(ctx, key));
}

static void on_snapshot(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t peer, bool ok)
{
    (void)at_ns;
    model_line(ctx, node, peer, "get_datums", "snapshot node=%u from=%u %s", node, peer, ok ? "loaded" : "failed");
}

static void on_503(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t client)
{
    (void)at_ns;
    if (client == UINT32_MAX) {
        model_line(ctx, node, UINT32_MAX, NULL, "503 node=%u list query (warming up)", node);
        return;
    }
    model_line(ctx, node, UINT32_MAX, NULL, "503 node=%u client=%u (warming up)", node, client);
}

/* Puts the runner's observer in front of the convergence observer: the
 * trace's lines while tracing, and the readers' observer when there are
 * readers. */
static void trace_observe(run_ctx *r)
{
    r->inner = obs_hooks(r->observer);
    distro_observer mine = {
        .ctx = r, .datum_changed = on_datum, .view_changed = on_view, .node_changed = on_node,
        .client_changed = on_client, .client_read = on_read,
    };
    if (r->tracing) {
        mine.member_changed = on_member;
        mine.instance_unhealthy = on_unhealthy;
        mine.instance_expired = on_expired;
        mine.verify_aborted = on_verify_aborted;
        mine.verify_removed = on_verify_removed;
        mine.snapshot_loaded = on_snapshot;
        mine.answered_503 = on_503;
    }
    distro_cluster_set_observer(r->cluster, &mine);
}

/* The observer's samples, for the trace writer's counters. */
static void trace_samples(const run_ctx *r)
{
    if (r->trace->note == NULL) return;
    size_t count = 0;
    const obs_sample *samples = obs_samples(r->observer, &count);
    for (size_t i = 0; i < count; i++) {
        run_note n = { .kind = RUN_NOTE_SAMPLE, .at_ns = samples[i].at_ns, .end_ns = samples[i].at_ns,
                       .nodes = node_bit(samples[i].node), .node = (int32_t)samples[i].node, .text = "",
                       .sample = &samples[i] };
        r->trace->note(r->trace->note_ctx, &n);
    }
    /* The replication lags, each at the instant it completed. */
    const sim_time_ns *lags = obs_lags(r->observer, &count);
    const sim_time_ns *at = obs_lag_times(r->observer, &count);
    for (size_t i = 0; i < count; i++) {
        run_note n = { .kind = RUN_NOTE_LAG, .at_ns = at[i], .end_ns = at[i], .nodes = 0, .node = -1, .text = "",
                       .value_ns = lags[i] };
        r->trace->note(r->trace->note_ctx, &n);
    }
}

/* --- Results ------------------------------------------------------------------------------ */

static const char *keep(run_result *res, const char *s)
{
    if (s == NULL) return NULL;
    char *copy = NULL;
    if (!SIM_VEC_RESERVE(res->strings, res->strings_len, res->strings_cap, 1) || (copy = sim_strdup(s)) == NULL) {
        res->out_of_memory = true;
        return "";
    }
    res->strings[res->strings_len++] = copy;
    return copy;
}

/* Writes the repro command to `m`: the program and the scenario path as
 * shell words (rpt_esc_shell), so that pasting it into a shell runs this
 * run and nothing else; extra_args are shell words already. */
static void repro_write(rpt_esc_mem *m, const run_options *opt, const char *name)
{
    char seed[40];
    snprintf(seed, sizeof seed, " --seed %llu", (unsigned long long)opt->seed);
    rpt_esc_shell(opt->program != NULL ? opt->program : "build/distrosim", rpt_esc_to_mem, m);
    rpt_esc_to_mem(m, " run ", 5);
    rpt_esc_shell(opt->scenario_path != NULL ? opt->scenario_path : name, rpt_esc_to_mem, m);
    rpt_esc_to_mem(m, seed, strlen(seed));
    if (opt->extra_args != NULL && opt->extra_args[0] != '\0') {
        rpt_esc_to_mem(m, " ", 1);
        rpt_esc_to_mem(m, opt->extra_args, strlen(opt->extra_args));
    }
}

/* The repro command, owned by `res`; "" when out of memory. */
static const char *repro_command(run_result *res, const run_options *opt, const char *name)
{
    rpt_esc_mem m = { .buf = NULL, .size = 0, .len = 0 };
    repro_write(&m, opt, name);                      /* measure */
    char *text = m.len < SIZE_MAX ? sim_malloc(m.len + 1) : NULL;
    if (text == NULL) {
        res->out_of_memory = true;
        return "";
    }
    m = (rpt_esc_mem){ .buf = text, .size = m.len + 1, .len = 0 };
    repro_write(&m, opt, name);
    const char *kept = keep(res, text);
    free(text);
    return kept;
}

static void fmt_duration(sim_time_ns ns, char *buf, size_t size)
{
    if (ns == SIM_TIME_NEVER) {
        snprintf(buf, size, "never");
    } else {
        snprintf(buf, size, "%.3fs", (double)ns / 1e9);
    }
}

typedef struct stats_ctx {
    run_result *res;
    size_t len;
    size_t cap;
} stats_ctx;

static void collect_msgstat(void *ctx, sim_node_id src, sim_node_id dst, uint16_t type, const sim_msg_stats *s)
{
    stats_ctx *sc = ctx;
    if (!SIM_VEC_RESERVE(sc->res->msgstats, sc->len, sc->cap, 1)) {
        sc->res->out_of_memory = true;
        return;
    }
    sc->res->msgstats[sc->len++] = (rpt_msgstat){
        .src = (int32_t)src, .dst = (int32_t)dst, .type = distro_msg_type_name(type), .sent = s->sent,
        .delivered = s->delivered, .duplicated = s->duplicated, .bytes_sent = s->bytes_sent,
        .bytes_delivered = s->bytes_delivered, .dropped_loss = s->dropped[SIM_DROP_LOSS],
        .dropped_partition = s->dropped[SIM_DROP_PARTITION], .dropped_receiver_down = s->dropped[SIM_DROP_RECEIVER_DOWN],
        .dropped_receiver_restarted = s->dropped[SIM_DROP_RECEIVER_RESTARTED],
        .dropped_late_response = s->dropped[SIM_DROP_LATE_RESPONSE],
        .dropped_caller_restarted = s->dropped[SIM_DROP_SENDER_RESTARTED],
    };
}

bool run_counter_known(const char *name) { return scn_counter_known(name); }

static uint64_t counter_total(const run_ctx *r, const char *name)
{
    uint64_t total = 0;
    distro_counter_value list[64];
    for (uint32_t n = 0; n < r->nodes; n++) {
        uint32_t count = distro_counters_list(distro_node_counters(r->cluster, n), list, 64);
        for (uint32_t i = 0; i < count; i++) {
            if (strcmp(list[i].name, name) == 0) total += list[i].value;
        }
    }
    return total;
}

static size_t expect_add(run_result *res, size_t len, const char *name, const char *bound, const char *observed, bool ok)
{
    res->expects[len] = (rpt_expect){ .name = keep(res, name), .bound = keep(res, bound),
                                      .observed = keep(res, observed), .ok = ok };
    if (!ok && res->failure[0] == '\0') {
        snprintf(res->failure, sizeof res->failure, "%s: observed %s, bound %s", name, observed, bound);
    }
    return len + 1;
}

static void check_bound(run_result *res, size_t *len, const char *name, const scn_bound *b, sim_time_ns observed)
{
    if (!b->checked) return;
    char bound[32], obs_text[32];
    fmt_duration(b->max_ns, bound, sizeof bound);
    fmt_duration(observed, obs_text, sizeof obs_text);
    *len = expect_add(res, *len, name, bound, obs_text, observed != SIM_TIME_NEVER && observed <= b->max_ns);
}

/* The first start of a fault that breaks something (not a heal or start)
 * after `t`; `run_end` when none does. */
static sim_time_ns next_fault_start(const run_ctx *r, sim_time_ns t, sim_time_ns run_end)
{
    sim_time_ns next = run_end;
    for (size_t j = 0; j < r->faults_len; j++) {
        const run_fault_rec *g = &r->faults[j];
        if (!g->ends_others && g->start_ns > t && g->start_ns < next) next = g->start_ns;
    }
    return next;
}

/* The recovery of fault i (run_recovery in run_scenario.h), with the lost
 * and zombie windows that began between its start and the recovery (or,
 * when it never came, the next fault or the end of the run). */
static run_recovery recovery_of(const run_ctx *r, size_t i, sim_time_ns run_end)
{
    const run_fault_rec *f = &r->faults[i];
    run_recovery rec = { .applies = !f->ends_others && !f->phases_heal && !f->not_started,
                         .not_started = f->not_started, .recovery_ns = SIM_TIME_NEVER, .ok = true };
    snprintf(rec.nodes, sizeof rec.nodes, "%s", f->nodes[0] != '\0' ? f->nodes : "-");
    if (!rec.applies) return rec;
    const scn_fault *sf = f->scripted >= 0 ? &r->cfg->faults[f->scripted] : NULL;
    rec.bound = sf != NULL && sf->recover_within_set ? sf->recover_within : r->cfg->expect.recover_within;
    sim_time_ns until = next_fault_start(r, f->end_ns, run_end);
    if (f->end_ns < run_end) {
        sim_time_ns conv = obs_converged_after(r->observer, f->end_ns);
        if (conv != SIM_TIME_NEVER && (conv < until || until == run_end)) {
            rec.recovery_ns = conv - f->end_ns;
            until = conv;
        }
    }
    rec.ok = !rec.bound.checked || (rec.recovery_ns != SIM_TIME_NEVER && rec.recovery_ns <= rec.bound.max_ns);
    size_t count = 0;
    const obs_window *wins = obs_windows(r->observer, &count);
    for (size_t w = 0; w < count; w++) {
        if (wins[w].start_ns < f->start_ns || wins[w].start_ns > until) continue;
        if (wins[w].kind == OBS_WINDOW_LOST) rec.lost++;
        if (wins[w].kind == OBS_WINDOW_ZOMBIE) rec.zombie++;
    }
    return rec;
}

/* One expectation per fault whose recovery is bounded, naming the fault. */
static size_t check_recoveries(run_result *res, size_t ne, size_t faults)
{
    for (size_t i = 0; i < faults; i++) {
        const run_recovery *rec = &res->recoveries[i];
        if (!rec->applies || !rec->bound.checked) continue;
        char name[160], bound[32], observed[32];
        snprintf(name, sizeof name, "recover_within fault %d (%s, node %s)", (int)res->faults[i].index,
                 res->faults[i].kind, rec->nodes);
        fmt_duration(rec->bound.max_ns, bound, sizeof bound);
        fmt_duration(rec->recovery_ns, observed, sizeof observed);
        ne = expect_add(res, ne, name, bound, observed, rec->ok);
    }
    return ne;
}

static int ns_cmp(const void *a, const void *b)
{
    sim_time_ns x = *(const sim_time_ns *)a, y = *(const sim_time_ns *)b;
    return x < y ? -1 : x > y;
}

/* The percentile and count bounds of one window kind (`lost: {p99: 2s,
 * count: 3}`, reports/SCHEMA.md): p99 is the nearest-rank 99th percentile
 * of the lengths of the run's windows of that kind, an open window
 * counting to the end of the run, 0 when there is none; count is how many
 * there are. */
static size_t check_windows(const run_ctx *r, run_result *res, size_t ne, obs_window_kind kind, const scn_bound *p99,
                            const scn_count_bound *count)
{
    if (!p99->checked && !count->checked) return ne;
    size_t total = 0, n = 0;
    const obs_window *wins = obs_windows(r->observer, &total);
    sim_time_ns *lengths = sim_malloc((total + 1) * sizeof *lengths);
    if (lengths == NULL) {
        res->out_of_memory = true;
        return ne;
    }
    sim_time_ns now = sim_now(r->sim);
    for (size_t i = 0; i < total; i++) {
        if (wins[i].kind != kind) continue;
        lengths[n++] = (wins[i].end_ns == SIM_TIME_NEVER ? now : wins[i].end_ns) - wins[i].start_ns;
    }
    const char *name = obs_window_kind_name(kind);
    char label[64], bound[32], observed[32];
    if (p99->checked) {
        if (n > 1) qsort(lengths, n, sizeof *lengths, ns_cmp);
        sim_time_ns v = n == 0 ? 0 : rpt_percentile_nearest_rank(lengths, n, 99);
        snprintf(label, sizeof label, "%s p99", name);
        fmt_duration(p99->max_ns, bound, sizeof bound);
        fmt_duration(v, observed, sizeof observed);
        ne = expect_add(res, ne, label, bound, observed, v <= p99->max_ns);
    }
    if (count->checked) {
        snprintf(label, sizeof label, "%s count", name);
        snprintf(bound, sizeof bound, "<= %llu", (unsigned long long)count->max);
        snprintf(observed, sizeof observed, "%zu", n);
        ne = expect_add(res, ne, label, bound, observed, (uint64_t)n <= count->max);
    }
    free(lengths);
    return ne;
}

/* The run's convergence (obs_run_convergence_of, reports/SCHEMA.md): never
 * when a fault that breaks something did not end before the run did, or
 * when client churn runs until the end of the run (its window is the whole
 * run: no phases), or when the run ends unconverged; else from the later
 * of the last fault's end and the last change of the truth. */
static void run_convergence(const run_ctx *r, run_result *res, sim_time_ns last_fault_end)
{
    sim_time_ns run_end = sim_now(r->sim);
    obs_never unending = OBS_NEVER_NOT;
    res->never_reason[0] = '\0';
    for (size_t i = 0; i < r->faults_len; i++) {
        const run_fault_rec *f = &r->faults[i];
        if (f->ends_others || f->phases_heal || f->not_started || f->end_ns < run_end) continue;
        unending = OBS_NEVER_FAULT;
        snprintf(res->never_reason, sizeof res->never_reason, "fault %zu (%s, node %s) never ends", i, f->kind,
                 f->nodes[0] != '\0' ? f->nodes : "-");
        break;
    }
    const scn_churn *ch = &r->cfg->workload.churn;
    bool churn = ch->register_per_min_milli > 0 || ch->deregister_per_min_milli > 0 || ch->crash_per_min_milli > 0;
    if (unending == OBS_NEVER_NOT && churn && r->chaos_end_ns >= r->cfg->duration_ns) {
        unending = OBS_NEVER_CHURN;
        snprintf(res->never_reason, sizeof res->never_reason, "client churn runs until the end of the run");
    }
    res->convergence = obs_run_convergence_of(r->observer, last_fault_end, unending);
    if (res->convergence.never == OBS_NEVER_UNCONVERGED) {
        char at[32];
        fmt_duration(res->convergence.anchor_ns, at, sizeof at);
        snprintf(res->never_reason, sizeof res->never_reason,
                 "not converged at the end of the run (last change of the truth or fault end at %s)", at);
    }
}

/* `error`: why the run stopped early (a limit, out of memory), or NULL.
 * An early stop makes the run an ERROR whatever the expectations say. */
/* An array of the result, or stop filling: run_scenario then returns
 * SIM_ERR_NOMEM (the out-of-memory policy in sim_vec.h). */
#define FILL_ALLOC(ptr, n)                                                                                   \
    do {                                                                                                     \
        (ptr) = sim_calloc((n), sizeof *(ptr));                                                                  \
        if ((ptr) == NULL) {                                                                                 \
            res->out_of_memory = true;                                                                       \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

static void fill_result(run_ctx *r, const run_options *opt, run_result *res, sim_time_ns last_fault_end,
                        const char *error)
{
    const scn_config *cfg = r->cfg;
    rpt_run *row = &res->row;
    size_t count = 0;
    /* Windows. */
    const obs_window *wins = obs_windows(r->observer, &count);
    FILL_ALLOC(res->windows, count + 1);
    for (size_t i = 0; i < count; i++) {
        const obs_window *w = &wins[i];
        res->windows[i] = (rpt_window){
            .kind = obs_window_kind_name(w->kind), .node = w->node,
            .key = w->key == UINT32_MAX ? NULL : keep(res, distro_cluster_key_tag(r->cluster, w->key)),
            .start_ns = w->start_ns, .end_ns = w->end_ns,
        };
    }
    row->windows = res->windows;
    row->windows_count = count;
    /* Faults and convergence after each. */
    FILL_ALLOC(res->faults, r->faults_len + 1);
    FILL_ALLOC(res->convergences, r->faults_len + 1);
    FILL_ALLOC(res->recoveries, r->faults_len + 1);
    for (size_t i = 0; i < r->faults_len; i++) {
        const run_fault_rec *f = &r->faults[i];
        res->faults[i] = (rpt_fault){ .index = (int32_t)i, .kind = f->kind, .description = keep(res, f->description),
                                      .start_ns = f->start_ns, .end_ns = f->end_ns };
        res->convergences[i] = (rpt_convergence){ .fault_index = (int32_t)i, .fault_end_ns = f->end_ns,
                                                  .converged_ns = obs_converged_after(r->observer, f->end_ns) };
        res->recoveries[i] = recovery_of(r, i, sim_now(r->sim));
    }
    row->faults = res->faults;
    row->faults_count = r->faults_len;
    row->convergences = res->convergences;
    row->convergences_count = r->faults_len;
    /* Counters, per node. */
    distro_counter_value list[64];
    uint32_t per_node = distro_counters_list(distro_node_counters(r->cluster, 0), list, 64);
    FILL_ALLOC(res->counters, (size_t)per_node * r->nodes + 1);
    size_t nc = 0;
    for (uint32_t n = 0; n < r->nodes; n++) {
        uint32_t c = distro_counters_list(distro_node_counters(r->cluster, n), list, 64);
        for (uint32_t i = 0; i < c; i++) {
            res->counters[nc++] = (rpt_counter){ .node = (int32_t)n, .name = list[i].name, .value = list[i].value };
        }
    }
    row->counters = res->counters;
    row->counters_count = nc;
    /* Samples. */
    const obs_sample *samples = obs_samples(r->observer, &count);
    FILL_ALLOC(res->samples, count + 1);
    for (size_t i = 0; i < count; i++) {
        const obs_sample *s = &samples[i];
        res->samples[i] = (rpt_sample){ .at_ns = s->at_ns, .node = (int32_t)s->node, .up = s->up, .keys = s->keys,
                                        .instances = s->instances, .owned_keys = s->owned_keys,
                                        .healthy_view = s->healthy_view, .divergent_keys = s->divergent_keys };
    }
    row->samples = res->samples;
    row->samples_count = count;
    /* Message statistics. */
    stats_ctx sc = { .res = res };
    sim_net_stats_foreach(r->sim, collect_msgstat, &sc);
    row->msgstats = res->msgstats;
    row->msgstats_count = sc.len;
    /* Replication lag. */
    sim_error lerr;
    if (obs_lag_summary(r->observer, &row->lag, &lerr) != SIM_OK) {
        res->out_of_memory = true;
        return;
    }
    /* Expectations. */
    /* What readers saw. */
    if (r->reads != NULL) {
        const obs_read_stats *stats = obs_reads_stats(r->reads, &count);
        FILL_ALLOC(res->client_reads, count + 1);
        for (size_t i = 0; i < count; i++) {
            const obs_read_stats *st = &stats[i];
            res->client_reads[i] = (rpt_client_reads){
                .key = keep(res, distro_cluster_key_tag(r->cluster, st->key)), .source = st->view ? "view" : "query",
                .reads = st->reads, .failed = st->failed, .empty_reads = st->kind_reads[OBS_READ_EMPTY],
                .short_reads = st->kind_reads[OBS_READ_SHORT], .stale_reads = st->kind_reads[OBS_READ_STALE],
                .empty_ns = st->kind_ns[OBS_READ_EMPTY], .short_ns = st->kind_ns[OBS_READ_SHORT],
                .stale_ns = st->kind_ns[OBS_READ_STALE],
            };
        }
        row->client_reads = res->client_reads;
        row->client_reads_count = count;
        const obs_read_window *rw = obs_reads_windows(r->reads, &count);
        FILL_ALLOC(res->client_anomalies, count + 1);
        for (size_t i = 0; i < count; i++) {
            res->client_anomalies[i] = (rpt_client_anomaly){
                .kind = obs_read_kind_name(rw[i].kind), .source = rw[i].view ? "view" : "query",
                .reader = rw[i].view ? (int64_t)rw[i].reader : -1,
                .key = keep(res, distro_cluster_key_tag(r->cluster, rw[i].key)),
                .start_ns = rw[i].start_ns, .end_ns = rw[i].end_ns,
            };
            res->client_windows[rw[i].kind]++;
        }
        row->client_anomalies = res->client_anomalies;
        row->client_anomalies_count = count;
        res->has_reads = true;
        for (int k = 0; k < OBS_READ_KINDS; k++) res->client_window_max_ns[k] = obs_reads_max(r->reads, (obs_read_kind)k);
    }
    /* At most 11 bounds below (convergence, lost and zombie with their p99
     * and count, ownership, three of what clients read), then the counters
     * and one recovery per fault. */
    FILL_ALLOC(res->expects, 11 + (size_t)cfg->expect.counter_count + r->faults_len);
    size_t ne = 0;
    sim_time_ns converged = obs_converged(r->observer) ? obs_converged_since(r->observer) : SIM_TIME_NEVER;
    run_convergence(r, res, last_fault_end);
    if (cfg->expect.converge_within.checked) {
        char bound[32], observed[sizeof res->never_reason + 16];
        fmt_duration(cfg->expect.converge_within.max_ns, bound, sizeof bound);
        if (res->convergence.convergence_ns == SIM_TIME_NEVER) {
            snprintf(observed, sizeof observed, "never (%s)", res->never_reason);
        } else {
            fmt_duration(res->convergence.convergence_ns, observed, sizeof observed);
        }
        ne = expect_add(res, ne, "converge_within", bound, observed,
                        res->convergence.convergence_ns != SIM_TIME_NEVER &&
                            res->convergence.convergence_ns <= cfg->expect.converge_within.max_ns);
    }
    ne = check_recoveries(res, ne, r->faults_len);
    check_bound(res, &ne, "lost_max", &cfg->expect.lost_max, obs_window_max(r->observer, OBS_WINDOW_LOST));
    ne = check_windows(r, res, ne, OBS_WINDOW_LOST, &cfg->expect.lost_p99, &cfg->expect.lost_count);
    check_bound(res, &ne, "zombie_max", &cfg->expect.zombie_max, obs_window_max(r->observer, OBS_WINDOW_ZOMBIE));
    ne = check_windows(r, res, ne, OBS_WINDOW_ZOMBIE, &cfg->expect.zombie_p99, &cfg->expect.zombie_count);
    sim_time_ns own = obs_window_max(r->observer, OBS_WINDOW_OWNERSHIP_NONE);
    sim_time_ns multi = obs_window_max(r->observer, OBS_WINDOW_OWNERSHIP_MULTI);
    check_bound(res, &ne, "ownership_disagreement_max", &cfg->expect.ownership_disagreement_max,
                own > multi ? own : multi);
    if (r->reads != NULL) {
        /* Only with readers: without them these bounds cannot fail, and
         * every other scenario keeps its rows as they were. */
        check_bound(res, &ne, "client_empty_max", &cfg->expect.client_empty_max,
                    obs_reads_max(r->reads, OBS_READ_EMPTY));
        check_bound(res, &ne, "client_short_max", &cfg->expect.client_short_max,
                    obs_reads_max(r->reads, OBS_READ_SHORT));
        check_bound(res, &ne, "client_stale_max", &cfg->expect.client_stale_max,
                    obs_reads_max(r->reads, OBS_READ_STALE));
    }
    for (uint32_t i = 0; i < cfg->expect.counter_count; i++) {
        const scn_counter_bound *cb = &cfg->expect.counters[i];
        uint64_t v = counter_total(r, cb->name);
        char bound[96], observed[32];
        if (cb->min_set && cb->max_set) snprintf(bound, sizeof bound, "%llu..%llu", (unsigned long long)cb->min, (unsigned long long)cb->max);
        else if (cb->min_set) snprintf(bound, sizeof bound, ">= %llu", (unsigned long long)cb->min);
        else snprintf(bound, sizeof bound, "<= %llu", (unsigned long long)cb->max);
        snprintf(observed, sizeof observed, "%llu", (unsigned long long)v);
        bool ok = (!cb->min_set || v >= cb->min) && (!cb->max_set || v <= cb->max);
        char name[96];
        snprintf(name, sizeof name, "counter %s", cb->name);
        ne = expect_add(res, ne, name, bound, observed, ok);
    }
    row->expects = res->expects;
    row->expects_count = ne;
    /* The run itself. */
    if (error != NULL) {
        snprintf(res->failure, sizeof res->failure, "%s", error);
        snprintf(res->verdict, sizeof res->verdict, "error");
    } else {
        snprintf(res->verdict, sizeof res->verdict, "%s", res->failure[0] == '\0' ? "pass" : "fail");
    }
    snprintf(res->build, sizeof res->build, "%s", run_build_id());
    res->repro = repro_command(res, opt, cfg->name);
    row->campaign = opt->campaign != NULL ? keep(res, opt->campaign) : "";
    row->scenario_name = keep(res, cfg->name);
    row->scenario_path = keep(res, opt->scenario_path != NULL ? opt->scenario_path : "");
    row->scenario_sha256 = keep(res, opt->scenario_sha256 != NULL ? opt->scenario_sha256 : "");
    row->effective_yaml = res->effective_yaml;
    row->seed = opt->seed;
    row->build = res->build;
    row->verdict = res->verdict;
    row->failure = res->failure[0] != '\0' ? res->failure : NULL;
    row->repro = res->repro;
    row->end_ns = sim_now(r->sim);
    row->events = sim_events_processed(r->sim);
    row->trace_hash = sim_trace_hash(r->sim);
    row->converged_ns = converged;
    row->last_fault_end_ns = last_fault_end;
    row->converge_anchor_ns = res->convergence.anchor_ns;
    row->convergence_ns = res->convergence.convergence_ns;
    row->convergence_never = res->never_reason[0] != '\0' ? res->never_reason : NULL;
}

/* Marks the wait_converged rolling steps that never started (the cluster
 * did not converge after the step before, or they fell due after the fault
 * window): they start and end with the run and have no recovery. */
static void rolling_not_started(run_ctx *r)
{
    sim_time_ns run_end = sim_now(r->sim);
    for (uint32_t i = 0; i < r->cfg->fault_count && i < r->faults_len; i++) {
        if (r->fault_at[i] != SIM_TIME_NEVER) continue;
        run_fault_rec *f = &r->faults[i];
        f->not_started = true;
        f->start_ns = f->end_ns = run_end;
        size_t len = strlen(f->description);
        snprintf(f->description + len, sizeof f->description - len, ", not started: %s",
                 r->fault_waiting[i] ? "the cluster did not converge after the step before"
                                      : "a step before it did not end in time, or it fell due after the fault window");
    }
}

static char *config_yaml(const scn_config *cfg, const char *swarm_drawn)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) return NULL;
    /* A swarm run: what the seed drew, as a comment the loader skips. */
    if (swarm_drawn != NULL && swarm_drawn[0] != '\0') fprintf(f, "# swarm: %s\n", swarm_drawn);
    sim_status st = scn_config_print(cfg, f);
    fclose(f);
    if (st != SIM_OK) {
        free(buf);
        return sim_strdup("");
    }
    return buf;
}

sim_status run_scenario(const scn_config *cfg, const run_options *opt, run_result *res, sim_error *err)
{
    memset(res, 0, sizeof *res);
    for (uint32_t i = 0; i < cfg->expect.counter_count; i++) {
        if (!run_counter_known(cfg->expect.counters[i].name)) {
            return sim_error_set(err, SIM_ERR_SCENARIO, cfg->name,
                                 "expect.counters: unknown counter \"%s\" (`distrosim counters` lists them)",
                                 cfg->expect.counters[i].name);
        }
    }
    run_ctx r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.nodes = cfg->cluster.nodes;
    r.chaos_end_ns = scn_config_fault_window_ns(cfg);
    r.workload_rng = sim_rng_derive(opt->seed, SIM_STREAM_HARNESS(STREAM_WORKLOAD));
    r.churn_rng = sim_rng_derive(opt->seed, SIM_STREAM_HARNESS(STREAM_CHURN));
    r.nemesis_rng = sim_rng_derive(opt->seed, SIM_STREAM_HARNESS(STREAM_NEMESIS));
    r.trace = &opt->trace;
    r.nemesis_fault = opt->nemesis_fault;
    r.nemesis_ctx = opt->nemesis_ctx;
    snprintf(r.seq, sizeof r.seq, "-");   /* before the first event */
    sim_config sc = { .seed = opt->seed, .node_count = r.nodes, .events_max = cfg->engine.events_max,
                      .events_budget = cfg->engine.events_budget };
    /* An assertion that fails during this run names it, so one run of a
     * -j campaign can be replayed on its own. */
    char context[512];
    int context_len = snprintf(context, sizeof context, "scenario %s seed %llu build %s",
                               opt->scenario_path != NULL ? opt->scenario_path : cfg->name,
                               (unsigned long long)opt->seed, run_build_id());
    if (context_len < 0 || (size_t)context_len >= sizeof context) {
        snprintf(context, sizeof context, "scenario %s seed %llu build %s", cfg->name, (unsigned long long)opt->seed,
                 run_build_id());
    }
    r.sim = sim_engine_create(&sc, err);
    if (r.sim == NULL) return err != NULL ? err->status : SIM_ERR_NOMEM;
    sim_assert_context_set(context);
    const char *addresses[SCN_NODES_MAX];
    for (uint32_t i = 0; i < r.nodes; i++) addresses[i] = cfg->cluster.addresses[i];
    r.faulty = sim_calloc(r.nodes, sizeof *r.faulty);
    r.saved_links = sim_calloc(2 * (size_t)cfg->fault_count + 2, sizeof *r.saved_links);
    r.fault_at = sim_calloc((size_t)cfg->fault_count + 1, sizeof *r.fault_at);
    r.fault_waiting = sim_calloc((size_t)cfg->fault_count + 1, sizeof *r.fault_waiting);
    const char **metadata = sim_calloc(2 * (size_t)cfg->workload.metadata_count + 1, sizeof *metadata);
    sim_status st = SIM_OK;
    if (r.faulty == NULL || r.saved_links == NULL || r.fault_at == NULL || r.fault_waiting == NULL || metadata == NULL) {
        st = sim_error_set(err, SIM_ERR_NOMEM, "run_scenario", "out of memory setting up the run");
    }
    for (uint32_t i = 0; st == SIM_OK && i < cfg->workload.metadata_count; i++) {
        metadata[2 * i] = cfg->workload.metadata[i].key;
        metadata[2 * i + 1] = cfg->workload.metadata[i].value;
    }
    r.metadata = cfg->workload.metadata_count > 0 ? metadata : NULL;
    if (st == SIM_OK) st = sim_net_set_default(r.sim, &cfg->network.defaults, err);
    if (st == SIM_OK) {
        distro_config distro = cfg->cluster.distro;
        distro.version = scn_cluster_version(cfg);   /* cluster.version picks the model */
        scn_cluster_node_settings(cfg, &distro.v3);   /* 3.0.3: identities and per-node releases */
        r.cluster = distro_cluster_create(r.sim, &distro, addresses, err);
        if (r.cluster == NULL) st = err != NULL ? err->status : SIM_ERR_INVALID;
    }
    if (st == SIM_OK && cfg->network.transport == SCN_TRANSPORT_TCP) {
        st = distro_cluster_use_tcp(r.cluster, &cfg->network.tcp, err);
    }
    if (st == SIM_OK) {
        restore_links(&r);
        r.observer = obs_create(r.sim, r.cluster, opt->sample_interval_ns != 0 ? opt->sample_interval_ns : SIM_S);
        if (r.observer == NULL) {
            st = sim_error_set(err, SIM_ERR_NOMEM, "run_scenario", "out of memory creating the observer");
        } else {
            obs_set_allowances(r.observer, scn_lag_allowance(cfg), scn_zombie_allowance(cfg));
            obs_set_view_formation(r.observer, scn_view_formation(cfg));
            obs_on_converged(r.observer, rolling_on_converged, &r);
        }
    }
    if (st == SIM_OK) {
        r.tracing = opt->trace.out != NULL || opt->trace.hook != NULL || opt->trace.note != NULL;
        if (r.tracing) sim_set_trace_hook(r.sim, trace_event, &r);
        if (scn_reads_readers(cfg) > 0) {
            r.reads = obs_reads_create(scn_lag_allowance(cfg), scn_zombie_allowance(cfg));
            if (r.reads == NULL) st = sim_error_set(err, SIM_ERR_NOMEM, "run_scenario", "out of memory creating the readers' observer");
        }
        if (r.tracing || r.reads != NULL) trace_observe(&r);
        if (st == SIM_OK) st = distro_cluster_start_all(r.cluster, err);
    }
    if (st == SIM_OK) st = start_workload(&r, err);
    if (st == SIM_OK) st = start_readers(&r, err);
    sim_time_ns last_fault_end = 0;
    for (uint32_t i = 0; st == SIM_OK && i < cfg->fault_count; i++) r.fault_at[i] = cfg->faults[i].at_ns;
    for (uint32_t i = 0; st == SIM_OK && i < cfg->fault_count; i++) {
        const scn_fault *f = &cfg->faults[i];
        /* A rolling step that waits for convergence starts when the run
         * says (rolling_start); until then its record holds the earliest. */
        bool waits = f->rolling_wait && f->rolling_step > 0;
        sim_time_ns end = fault_end(&r, i);
        if (end > last_fault_end && !waits) last_fault_end = end;
        /* What it does to which node, as the trace says it: "fault 3:
         * restart node 1, down 10.000 s (rolling step 2 of 5)". */
        char what[320], desc[400];
        fault_what(&r, f, what, sizeof what);
        if (f->rolling_steps > 0) {
            snprintf(desc, sizeof desc, "fault %u: %s (rolling step %u of %u)", i, what,
                     (unsigned)f->rolling_step + 1u, (unsigned)f->rolling_steps);
        } else {
            snprintf(desc, sizeof desc, "fault %u: %s", i, what);
        }
        size_t noted = fault_note(&r, scn_fault_kind_name(f->kind), f->at_ns, end, "%s", desc);
        if (noted != SIZE_MAX) {
            r.faults[noted].scripted = (int32_t)i;
            fault_nodes(f, r.nodes, r.faults[noted].nodes, sizeof r.faults[noted].nodes);
        }
        if (waits) r.fault_at[i] = SIM_TIME_NEVER;
        else schedule(&r, f->at_ns, fault_fire, i);
    }
    if (st == SIM_OK && cfg->nemesis.enabled) {
        schedule(&r, cfg->nemesis.interval.min_ns, nemesis_fire, 0);
    }
    if (st == SIM_OK && cfg->phases.enabled) {
        schedule(&r, r.chaos_end_ns, heal_everything, 0);
        size_t heal = fault_note(&r, "heal", r.chaos_end_ns, r.chaos_end_ns,
                                 "phases: heal everything, quiet for %.0f s", (double)cfg->phases.quiet_ns / 1e9);
        if (heal != SIZE_MAX) {                                   /* SIZE_MAX: out of memory, r.status says */
            r.faults[heal].phases_heal = true;
            snprintf(r.faults[heal].nodes, sizeof r.faults[heal].nodes, "all");
        }
    }
    /* A run that stops early (the engine failed, a limit was reached, or
     * one of the harness's own events failed) is an ERROR result, not an
     * error of the call: it is recorded, and the campaign goes on. */
    char stopped[sizeof res->failure] = "";
    if (st == SIM_OK && r.status == SIM_OK) {
        sim_stop_reason why = sim_run_until(r.sim, cfg->duration_ns);
        const sim_error *failure = sim_failure(r.sim);
        char at[32];
        fmt_duration(sim_now(r.sim), at, sizeof at);
        if (why == SIM_STOP_FAILED && failure != NULL) {
            snprintf(stopped, sizeof stopped, "the run stopped at %s: %.100s: %.300s", at, failure->where, failure->message);
        } else if (why == SIM_STOP_BUDGET) {
            snprintf(stopped, sizeof stopped,
                     "the run stopped at %s: the event budget (engine.events_budget) of %llu events is spent", at,
                     (unsigned long long)cfg->engine.events_budget);
        } else if (r.status != SIM_OK) {
            snprintf(stopped, sizeof stopped, "the run stopped at %s: %.100s: %.300s", at, r.err.where, r.err.message);
        }
    } else if (st == SIM_OK) {
        st = r.status;
        if (err != NULL) *err = r.err;
    }
    if (st == SIM_OK) {
        /* Nemesis faults end when they end; the phases' heal at the end of
         * chaos only counts when something was still broken then, which
         * fault_end already reports as the end of chaos. */
        rolling_not_started(&r);
        for (size_t i = 0; i < r.faults_len; i++) {
            if (r.faults[i].phases_heal || r.faults[i].not_started) continue;
            if (r.faults[i].end_ns > last_fault_end) last_fault_end = r.faults[i].end_ns;
        }
        obs_finish(r.observer);
        if (r.reads != NULL && !obs_reads_finish(r.reads, sim_now(r.sim))) res->out_of_memory = true;
        if (r.tracing) trace_samples(&r);
        res->effective_yaml = config_yaml(cfg, opt->swarm_drawn);
        if (res->effective_yaml == NULL) res->out_of_memory = true;
        else fill_result(&r, opt, res, last_fault_end, stopped[0] != '\0' ? stopped : NULL);
        if (res->out_of_memory) {
            st = sim_error_set(err, SIM_ERR_NOMEM, "run_scenario", "out of memory collecting the results of %s seed %llu",
                               cfg->name, (unsigned long long)opt->seed);
        }
    }
    sim_assert_context_set(NULL);
    obs_destroy(r.observer);
    obs_reads_destroy(r.reads);
    distro_cluster_destroy(r.cluster);
    sim_engine_destroy(r.sim);
    free(r.faulty);
    free(r.saved_links);
    free(r.fault_at);
    free(r.fault_waiting);
    free(r.faults);
    free(metadata);
    if (st != SIM_OK) run_result_deinit(res);
    return st;
}

void run_result_deinit(run_result *res)
{
    if (res == NULL) return;
    for (size_t i = 0; i < res->strings_len; i++) free(res->strings[i]);
    free(res->strings);
    free(res->effective_yaml);
    free(res->windows);
    free(res->convergences);
    free(res->counters);
    free(res->samples);
    free(res->msgstats);
    free(res->faults);
    free(res->recoveries);
    free(res->expects);
    free(res->params);
    free(res->client_reads);
    free(res->client_anomalies);
    memset(res, 0, sizeof *res);
}
