/* obs_reads.c: what clients read, held against the truth (obs_reads.h
 * states the definitions).
 *
 * Invariants, between calls:
 *   (1) a window is open (open[k]) only while the list it watches is of
 *       that kind at the last evaluation instant;
 *   (2) between two calls the truth and every view are constant, so a
 *       view's kinds can only switch on (E and F grow with time): the
 *       catch-up at the next call opens any window at its onset. */
#include "obs_reads.h"

#include <stdlib.h>
#include <string.h>

#include "sim_assert.h"
#include "sim_vec.h"

typedef struct truth {
    bool known;
    bool live;
    bool ever_live;
    uint32_t key;
    sim_time_ns since_ns;        /* the last change of `live` */
} truth;

typedef struct watch {           /* the open windows of one list (a view, or a service's answers) */
    bool open[OBS_READ_KINDS];
    sim_time_ns start_ns[OBS_READ_KINDS];
} watch;

typedef struct view {
    bool has;
    uint32_t key;
    uint32_t *listed;
    uint32_t count;
    uint32_t cap;
    sim_time_ns last_ns;
    watch w;
} view;

typedef struct service {
    uint32_t *clients;           /* every client ever seen of this key */
    uint32_t clients_len, clients_cap;
    uint32_t *views;             /* subscribers with a view of this key */
    uint32_t views_len, views_cap;
    watch queries;
    bool used[2];                /* [0] queries, [1] views */
    obs_read_stats stats[2];
} service;

struct obs_reads {
    sim_time_ns lag_ns;
    sim_time_ns zombie_ns;
    sim_time_ns end_ns;
    bool finished;
    truth *truths;
    uint32_t truths_cap;
    service *services;
    uint32_t services_cap;
    view *views;
    uint32_t views_cap;
    obs_read_window *windows;
    size_t windows_len, windows_cap;
    obs_read_stats *stats;
    size_t stats_len;
    uint64_t total;
};

const char *obs_read_kind_name(obs_read_kind kind)
{
    switch (kind) {
    case OBS_READ_EMPTY: return "empty";
    case OBS_READ_SHORT: return "short";
    case OBS_READ_STALE: return "stale";
    case OBS_READ_KINDS: break;
    }
    return "unknown";
}

static sim_time_ns add_sat(sim_time_ns a, sim_time_ns b) { return a > SIM_TIME_NEVER - b ? SIM_TIME_NEVER : a + b; }

/* Grows `*arr` (of `*cap` elements of `size` bytes) to hold index `i`,
 * zeroing the new part.  False when out of memory. */
static bool grow_to(void **arr, uint32_t *cap, uint32_t i, size_t size)
{
    if (i < *cap) return true;
    uint32_t next = *cap == 0 ? 16 : *cap;
    while (next <= i) next *= 2;
    char *grown = realloc(*arr, (size_t)next * size);
    if (grown == NULL) return false;
    memset(grown + (size_t)*cap * size, 0, (size_t)(next - *cap) * size);
    *arr = grown;
    *cap = next;
    return true;
}

obs_reads *obs_reads_create(sim_time_ns lag_allowance_ns, sim_time_ns zombie_allowance_ns)
{
    obs_reads *o = calloc(1, sizeof *o);
    if (o == NULL) return NULL;
    o->lag_ns = lag_allowance_ns;
    o->zombie_ns = zombie_allowance_ns;
    return o;
}

void obs_reads_destroy(obs_reads *o)
{
    if (o == NULL) return;
    for (uint32_t i = 0; i < o->services_cap; i++) {
        free(o->services[i].clients);
        free(o->services[i].views);
    }
    for (uint32_t i = 0; i < o->views_cap; i++) free(o->views[i].listed);
    free(o->services);
    free(o->views);
    free(o->truths);
    free(o->windows);
    free(o->stats);
    free(o);
}

static bool listed_in(const uint32_t *listed, uint32_t count, uint32_t client)
{
    for (uint32_t i = 0; i < count; i++) {
        if (listed[i] == client) return true;
    }
    return false;
}

/* The first instant at which a list `listed` of service `key` is of
 * `kind`, the truth staying as it is now (SIM_TIME_NEVER: not while it
 * stays).  O(clients of the key x listed). */
static sim_time_ns onset(const obs_reads *o, uint32_t key, const uint32_t *listed, uint32_t count, obs_read_kind kind)
{
    sim_time_ns first = SIM_TIME_NEVER;
    if (kind == OBS_READ_STALE) {
        for (uint32_t i = 0; i < count; i++) {
            const truth *t = listed[i] < o->truths_cap ? &o->truths[listed[i]] : NULL;
            if (t == NULL || !t->known || t->live || !t->ever_live) continue;
            sim_time_ns at = add_sat(t->since_ns, o->zombie_ns);
            if (at < first) first = at;
        }
        return first;
    }
    if ((kind == OBS_READ_EMPTY) != (count == 0)) return SIM_TIME_NEVER;
    const service *s = key < o->services_cap ? &o->services[key] : NULL;
    for (uint32_t i = 0; s != NULL && i < s->clients_len; i++) {
        const truth *t = &o->truths[s->clients[i]];
        if (!t->live) continue;
        if (kind == OBS_READ_SHORT && listed_in(listed, count, s->clients[i])) continue;
        sim_time_ns at = add_sat(t->since_ns, o->lag_ns);
        if (at < first) first = at;
    }
    return first;
}

static bool window_close(obs_reads *o, watch *w, obs_read_kind k, bool is_view, uint32_t reader, uint32_t key,
                         sim_time_ns end_ns)
{
    SIM_ASSERT(w->open[k]);
    w->open[k] = false;
    sim_time_ns start = w->start_ns[k];
    sim_time_ns until = end_ns == SIM_TIME_NEVER ? o->end_ns : end_ns;
    SIM_ASSERT(until >= start);
    if (until == start) return true;   /* zero length: not kept */
    service *s = &o->services[key];
    s->stats[is_view ? 1 : 0].kind_ns[k] += until - start;
    if (!SIM_VEC_RESERVE(o->windows, o->windows_len, o->windows_cap, 1)) return false;
    o->windows[o->windows_len++] = (obs_read_window){ .kind = k, .view = is_view, .reader = is_view ? reader : UINT32_MAX,
                                                      .key = key, .start_ns = start, .end_ns = end_ns };
    return true;
}

static service *service_of(obs_reads *o, uint32_t key)
{
    if (!grow_to((void **)&o->services, &o->services_cap, key, sizeof *o->services)) return NULL;
    return &o->services[key];
}

/* A view's kinds that switched on since its last evaluation (invariant 2). */
static void catch_up(obs_reads *o, view *v, sim_time_ns at_ns)
{
    for (int k = 0; k < OBS_READ_KINDS; k++) {
        if (v->w.open[k]) continue;
        sim_time_ns on = onset(o, v->key, v->listed, v->count, (obs_read_kind)k);
        if (on > at_ns) continue;
        v->w.open[k] = true;
        v->w.start_ns[k] = on > v->last_ns ? on : v->last_ns;
    }
}

/* Evaluates a view at `at_ns`; counts its kinds as a read when `count_read`. */
static bool evaluate_view(obs_reads *o, uint32_t reader, view *v, sim_time_ns at_ns, bool count_read)
{
    service *s = &o->services[v->key];
    for (int k = 0; k < OBS_READ_KINDS; k++) {
        bool holds = onset(o, v->key, v->listed, v->count, (obs_read_kind)k) <= at_ns;
        if (holds && count_read) s->stats[1].kind_reads[k]++;
        if (holds && !v->w.open[k]) {
            v->w.open[k] = true;
            v->w.start_ns[k] = at_ns;
        } else if (!holds && v->w.open[k]) {
            if (!window_close(o, &v->w, (obs_read_kind)k, true, reader, v->key, at_ns)) return false;
        }
    }
    v->last_ns = at_ns;
    return true;
}

bool obs_reads_truth(obs_reads *o, sim_time_ns at_ns, uint32_t client, uint32_t key, bool live)
{
    SIM_ASSERT(!o->finished);
    if (!grow_to((void **)&o->truths, &o->truths_cap, client, sizeof *o->truths)) return false;
    service *s = service_of(o, key);
    if (s == NULL) return false;
    truth *t = &o->truths[client];
    if (!t->known) {
        if (!SIM_VEC_RESERVE(s->clients, s->clients_len, s->clients_cap, 1)) return false;
        s->clients[s->clients_len++] = client;
        t->known = true;
        t->key = key;
    }
    SIM_ASSERT(t->key == key);   /* a client belongs to one service */
    for (uint32_t i = 0; i < s->views_len; i++) catch_up(o, &o->views[s->views[i]], at_ns);
    t->live = live;
    t->ever_live |= live;
    t->since_ns = at_ns;
    for (uint32_t i = 0; i < s->views_len; i++) {
        if (!evaluate_view(o, s->views[i], &o->views[s->views[i]], at_ns, false)) return false;
    }
    return true;
}

bool obs_reads_read(obs_reads *o, sim_time_ns at_ns, const distro_read *read)
{
    SIM_ASSERT(!o->finished);
    service *s = service_of(o, read->key);
    if (s == NULL) return false;
    o->total++;
    if (read->source == DISTRO_READ_FAILED) {
        s->used[0] = true;
        s->stats[0].failed++;
        return true;
    }
    if (read->source == DISTRO_READ_QUERY) {
        s->used[0] = true;
        s->stats[0].reads++;
        for (int k = 0; k < OBS_READ_KINDS; k++) {
            bool holds = onset(o, read->key, read->clients, read->count, (obs_read_kind)k) <= at_ns;
            if (holds) s->stats[0].kind_reads[k]++;
            if (holds && !s->queries.open[k]) {
                s->queries.open[k] = true;
                s->queries.start_ns[k] = at_ns;
            } else if (!holds && s->queries.open[k]) {
                if (!window_close(o, &s->queries, (obs_read_kind)k, false, UINT32_MAX, read->key, at_ns)) return false;
            }
        }
        return true;
    }
    SIM_ASSERT(read->source == DISTRO_READ_VIEW);
    if (!grow_to((void **)&o->views, &o->views_cap, read->reader, sizeof *o->views)) return false;
    view *v = &o->views[read->reader];
    if (!v->has) {
        if (!SIM_VEC_RESERVE(s->views, s->views_len, s->views_cap, 1)) return false;
        s->views[s->views_len++] = read->reader;
        v->has = true;
        v->key = read->key;
        v->last_ns = at_ns;
    }
    SIM_ASSERT(v->key == read->key);
    catch_up(o, v, at_ns);
    v->count = 0;
    if (read->count > 0 && !SIM_VEC_RESERVE(v->listed, v->count, v->cap, read->count)) return false;
    if (read->count > 0) memcpy(v->listed, read->clients, read->count * sizeof *read->clients);
    v->count = read->count;
    s->used[1] = true;
    s->stats[1].reads++;
    return evaluate_view(o, read->reader, v, at_ns, true);
}

static int window_cmp(const void *pa, const void *pb)
{
    const obs_read_window *a = pa, *b = pb;
    if (a->start_ns != b->start_ns) return a->start_ns < b->start_ns ? -1 : 1;
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    if (a->view != b->view) return a->view ? 1 : -1;
    if (a->reader != b->reader) return a->reader < b->reader ? -1 : 1;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return 0;   /* the same list has one window of a kind at a time: never equal */
}

bool obs_reads_finish(obs_reads *o, sim_time_ns end_ns)
{
    SIM_ASSERT(!o->finished);
    o->finished = true;
    o->end_ns = end_ns;
    for (uint32_t r = 0; r < o->views_cap; r++) {
        view *v = &o->views[r];
        if (!v->has) continue;
        catch_up(o, v, end_ns);
        for (int k = 0; k < OBS_READ_KINDS; k++) {
            if (v->w.open[k] && !window_close(o, &v->w, (obs_read_kind)k, true, r, v->key, SIM_TIME_NEVER)) return false;
        }
    }
    size_t used = 0;
    for (uint32_t key = 0; key < o->services_cap; key++) {
        service *s = &o->services[key];
        for (int k = 0; k < OBS_READ_KINDS; k++) {
            if (s->queries.open[k] &&
                !window_close(o, &s->queries, (obs_read_kind)k, false, UINT32_MAX, key, SIM_TIME_NEVER)) {
                return false;
            }
        }
        used += (size_t)s->used[0] + (size_t)s->used[1];
    }
    if (o->windows_len > 1) qsort(o->windows, o->windows_len, sizeof *o->windows, window_cmp);
    if (used > 0 && (o->stats = calloc(used, sizeof *o->stats)) == NULL) return false;
    for (uint32_t key = 0; key < o->services_cap; key++) {
        for (int src = 0; src < 2; src++) {
            if (!o->services[key].used[src]) continue;
            obs_read_stats st = o->services[key].stats[src];
            st.key = key;
            st.view = src == 1;
            o->stats[o->stats_len++] = st;
        }
    }
    return true;
}

const obs_read_window *obs_reads_windows(const obs_reads *o, size_t *count)
{
    SIM_ASSERT(o->finished);
    *count = o->windows_len;
    return o->windows;
}

const obs_read_stats *obs_reads_stats(const obs_reads *o, size_t *count)
{
    SIM_ASSERT(o->finished);
    *count = o->stats_len;
    return o->stats;
}

sim_time_ns obs_reads_max(const obs_reads *o, obs_read_kind kind)
{
    SIM_ASSERT(o->finished);
    sim_time_ns longest = 0;
    for (size_t i = 0; i < o->windows_len; i++) {
        const obs_read_window *w = &o->windows[i];
        if (w->kind != kind) continue;
        sim_time_ns len = (w->end_ns == SIM_TIME_NEVER ? o->end_ns : w->end_ns) - w->start_ns;
        if (len > longest) longest = len;
    }
    return longest;
}

uint64_t obs_reads_total(const obs_reads *o) { return o->total; }
