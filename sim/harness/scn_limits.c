/* scn_limits.c: the run-size checks of scn_limits.h.
 *
 * The estimates use doubles: they are sizes to compare with a limit, never
 * inputs to a run, and a double holds the product of the largest counts a
 * scenario allows (10^6 services x 1000 instances x 65 x a year of beats)
 * without wrapping; the result saturates at UINT64_MAX. */
#include "scn_limits.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sim_assert.h"

#define INVALID(...) sim_error_set(err, SIM_ERR_SCENARIO, where, __VA_ARGS__)

/* Events of one client beat: the request, the proxy to the owner four
 * times in five (DistroFilter) and the replies, as measured by `distrosim
 * bench distro` (README, Performance). */
#define EVENTS_PER_BEAT 4.0

/* Events of one registration or deregistration beyond the sync: the
 * request, its proxy and the replies. */
#define EVENTS_PER_REQUEST 4.0

/* The periodic Distro timers, by scenario key, with the floor of (3). */
typedef struct timer_field {
    const char *key;
    size_t offset;
} timer_field;

#define TIMER(name) { #name, offsetof(distro_config, name##_ns) }
#define TIMER2(map, name) { map #name, offsetof(distro_config, v2.name##_ns) }
static const timer_field distro_timers[] = {
    TIMER(task_tick),           TIMER(sync_retry_delay),     TIMER(load_retry_delay),
    TIMER(load_poll),           TIMER(server_status_interval), TIMER(verify_interval),
    TIMER(beat_check_interval), TIMER(health_sync_interval), TIMER(member_report_interval),
    /* client_beat_interval is workload.beat_interval, checked below. */
    /* The 2.x periods (cluster.distro.v2.*, grpc.*). */
    TIMER2("v2.", sync_retry_delay), TIMER2("v2.", verify_interval), TIMER2("v2.", load_retry_delay),
    TIMER2("v2.", cleaner_interval), TIMER2("v2.", ejector_interval), TIMER2("v2.", redo_interval),
    TIMER2("v2.", unhealthy_report_interval), { "grpc.connect_keep_alive", offsetof(distro_config, v2.rpc_keepalive_ns) },
};
#undef TIMER
#undef TIMER2

static double seconds(sim_time_ns ns) { return (double)ns / 1e9; }

static uint64_t saturate(double v)
{
    if (!(v > 0.0)) return 0;
    if (v >= 18446744073709551615.0) return UINT64_MAX;
    return (uint64_t)v;
}

/* Per minute, from the config's thousandths. */
static double per_min(uint32_t milli) { return (double)milli / 1000.0; }

/* Expected churn registrations: churn runs from the end of the initial
 * registrations to the end of the fault window (run_scenario.c). */
static double churn_registrations(const scn_config *c)
{
    const scn_workload *w = &c->workload;
    sim_time_ns from = w->start_at_ns + w->register_spread_ns;
    sim_time_ns to = scn_config_fault_window_ns(c);
    if (to <= from) return 0.0;
    return per_min(w->churn.register_per_min_milli) * seconds(to - from) / 60.0;
}

static double initial_clients(const scn_config *c)
{
    return (double)c->workload.services * (double)c->workload.instances_per_service;
}

uint64_t scn_instance_copies(const scn_config *c)
{
    SIM_ASSERT(c != NULL);
    return saturate(((double)c->cluster.nodes + 1.0) * (initial_clients(c) + churn_registrations(c)));
}

/* Events per second of one node's own timers (NACOS-DISTRO.md sections
 * 1.3, 1.5, 2.5, 2.6): the delay-task tick and the server-status refresh
 * are a timer each; verify and the health sync send one request to every
 * peer (a delivery and a reply each); the member report probes one peer. */
static double node_rate(const distro_config *d, double peers)
{
    return 1.0 / seconds(d->task_tick_ns) + 1.0 / seconds(d->server_status_interval_ns) +
           (1.0 + 2.0 * peers) / seconds(d->verify_interval_ns) + 3.0 / seconds(d->member_report_interval_ns) +
           (1.0 + 2.0 * peers) / seconds(d->health_sync_interval_ns);
}

uint64_t scn_events_estimate(const scn_config *c)
{
    SIM_ASSERT(c != NULL);
    const scn_workload *w = &c->workload;
    const distro_config *d = &c->cluster.distro;
    double nodes = (double)c->cluster.nodes, peers = nodes - 1.0;
    double run_s = seconds(c->duration_ns);
    double events = nodes * node_rate(d, peers) * run_s + run_s;   /* + the observer's samples, 1 per second */
    /* Each service's owner checks its beats every beat_check_interval. */
    if (d->health_check_enabled) events += (double)w->services * run_s / seconds(d->beat_check_interval_ns);
    /* Clients beat from start_at; churn clients live half the run on average. */
    double joined = churn_registrations(c);
    double client_s = w->start_at_ns < c->duration_ns ? seconds(c->duration_ns - w->start_at_ns) : 0.0;
    events += (initial_clients(c) + joined / 2.0) * client_s * EVENTS_PER_BEAT / seconds(w->beat_interval_ns);
    /* Every registration and removal is a request and a sync to each peer. */
    double window_s = seconds(scn_config_fault_window_ns(c));
    double removals = (per_min(w->churn.deregister_per_min_milli) + per_min(w->churn.crash_per_min_milli)) *
                      window_s / 60.0;
    events += (initial_clients(c) + joined + removals) * (EVENTS_PER_REQUEST + 2.0 * peers);
    /* Readers (distro_reads.c): a query is a tick, a request and an answer
     * (more while servers fail); a subscriber polls every 10 s and gets a
     * push (two events) per change of its service, bounded here by one per
     * second, the push merge interval. */
    const scn_reads *rd = &w->reads;
    double read_s = rd->start_at_ns < c->duration_ns ? seconds(c->duration_ns - rd->start_at_ns) : 0.0;
    double read_services = (double)scn_reads_services(c);
    events += read_services * (double)rd->queriers * read_s * 3.0 / seconds(rd->query_interval_ns);
    if (scn_reads_grpc(c)) {
        /* 2.x subscribers (distro2_subscriber.c): no polling; a push (two
         * events) per 500 ms merge interval at most, and each node's push
         * engine ticks every 100 ms while a push is pending. */
        events += read_services * (double)rd->subscribers * read_s * 4.0;
        events += (double)c->cluster.nodes * read_s * 10.0;
    } else {
        events += read_services * (double)rd->subscribers * read_s * (3.0 / 10.0 + 2.0);
    }
    /* Faults: the action, its end and the requests it fails, a few each. */
    events += 4.0 * (double)c->fault_count;
    if (c->nemesis.enabled) events += 4.0 * window_s / seconds(c->nemesis.interval.min_ns);
    return saturate(events);
}

/* --- The checks ------------------------------------------------------------- */

static sim_status check_counters(const scn_config *c, const char *where, sim_error *err)
{
    for (uint32_t i = 0; i < c->expect.counter_count; i++) {
        const char *name = c->expect.counters[i].name;
        if (!scn_counter_known(name)) {
            return INVALID("expect.counters[%u].name: unknown counter \"%s\" (`distrosim counters` lists them)",
                           (unsigned)i, name);
        }
    }
    return SIM_OK;
}

/* A clock fault sets the node's clock to true time + offset at `at`
 * (sim_node_set_clock), which the engine refuses below 0. */
static sim_status check_clocks(const scn_config *c, const char *where, sim_error *err)
{
    for (uint32_t i = 0; i < c->fault_count; i++) {
        const scn_fault *f = &c->faults[i];
        if (f->kind != SCN_FAULT_CLOCK || f->clock_offset_ns >= 0) continue;
        sim_time_ns back = (sim_time_ns)(-f->clock_offset_ns);   /* |offset| <= a year: validated */
        if (back <= f->at_ns) continue;
        char offset[32], at[32];
        scn_format_duration(back, offset, sizeof offset);
        scn_format_duration(f->at_ns, at, sizeof at);
        return INVALID("faults[%u].clock.offset: -%s at %s would put node %u's clock before 0 "
                       "(expected an offset of at least -%s)", (unsigned)scn_fault_entry(c, i), offset, at, (unsigned)f->node, at);
    }
    return SIM_OK;
}

static sim_status below_floor(const char *key, sim_time_ns ns, const char *where, sim_error *err)
{
    char got[32], floor[32];
    scn_format_duration(ns, got, sizeof got);
    scn_format_duration(SCN_TIMER_FLOOR_NS, floor, sizeof floor);
    return INVALID("%s: expected at least %s (the floor of timer periods: Nacos sets its timers in "
                   "milliseconds), got %s", key, floor, got);
}

static sim_status check_floors(const scn_config *c, const char *where, sim_error *err)
{
    for (size_t i = 0; i < sizeof distro_timers / sizeof distro_timers[0]; i++) {
        const char *p = (const char *)&c->cluster.distro + distro_timers[i].offset;
        sim_time_ns v = *(const sim_time_ns *)(const void *)p;
        if (v >= SCN_TIMER_FLOOR_NS) continue;
        char key[64];
        snprintf(key, sizeof key, "cluster.distro.%s", distro_timers[i].key);
        return below_floor(key, v, where, err);
    }
    if (c->workload.beat_interval_ns < SCN_TIMER_FLOOR_NS) {
        return below_floor("workload.beat_interval", c->workload.beat_interval_ns, where, err);
    }
    if (c->nemesis.enabled && c->nemesis.interval.min_ns < SCN_TIMER_FLOOR_NS) {
        return below_floor("nemesis.interval.min", c->nemesis.interval.min_ns, where, err);
    }
    static const char *const churn_keys[] = { "register_per_min", "deregister_per_min", "crash_per_min" };
    const uint32_t rates[] = { c->workload.churn.register_per_min_milli, c->workload.churn.deregister_per_min_milli,
                               c->workload.churn.crash_per_min_milli };
    for (size_t i = 0; i < 3; i++) {
        if (rates[i] <= SCN_CHURN_PER_MIN_MILLI_FLOOR_MAX) continue;
        char got[32];   /* thousandths as written: 1.5, 100000 */
        snprintf(got, sizeof got, "%u.%03u", rates[i] / 1000u, rates[i] % 1000u);
        size_t n = strlen(got);
        while (got[n - 1] == '0') got[--n] = '\0';
        if (got[n - 1] == '.') got[n - 1] = '\0';
        return INVALID("workload.churn.%s: expected at most %u per minute (one event per 1ms on average, the "
                       "floor of timer periods), got %s", churn_keys[i], SCN_CHURN_PER_MIN_MILLI_FLOOR_MAX / 1000u,
                       got);
    }
    return SIM_OK;
}

static sim_status check_size(const scn_config *c, const char *where, sim_error *err)
{
    uint64_t copies = scn_instance_copies(c);
    if (copies <= SCN_INSTANCE_COPIES_MAX) return SIM_OK;
    return INVALID("workload.services: %" PRIu64 " instance copies ((cluster.nodes + 1) x clients, where clients = "
                   "%u services x %u instances plus %.0f churn registrations) exceed the limit of %llu "
                   "instance copies; use fewer nodes, services or instances",
                   copies, (unsigned)c->workload.services, (unsigned)c->workload.instances_per_service,
                   churn_registrations(c), SCN_INSTANCE_COPIES_MAX);
}

static sim_status check_events(const scn_config *c, const char *where, sim_error *err)
{
    if (c->engine.events_budget != 0) return SIM_OK;   /* the budget bounds the run (scn_limits.h) */
    uint64_t estimate = scn_events_estimate(c);
    if (estimate <= SCN_EVENTS_ESTIMATE_MAX) return SIM_OK;
    return INVALID("duration: the run would take about %" PRIu64 " events (estimated from its timers, clients "
                   "and registrations), above the default cap of %llu; set engine.events_budget to %" PRIu64
                   " or more to run it", estimate, SCN_EVENTS_ESTIMATE_MAX, estimate);
}

sim_status scn_limits_check(const scn_config *c, const char *where, sim_error *err)
{
    SIM_ASSERT(c != NULL);
    SIM_ASSERT(where != NULL);
    sim_status st = check_counters(c, where, err);
    if (st == SIM_OK) st = check_clocks(c, where, err);
    if (st == SIM_OK) st = check_floors(c, where, err);
    if (st == SIM_OK) st = check_size(c, where, err);
    if (st == SIM_OK) st = check_events(c, where, err);
    return st;
}

#undef INVALID
