/* obs_convergence.c: incremental digests, windows and convergence flips.
 *
 * Costs: a datum change on (node, key) costs O(nodes + instances of key);
 * a truth change on a client costs O(nodes); a view change or a node start
 * or crash costs O(nodes * keys), as the ownership and divergence of every
 * key is recomputed.  Faults are rare next to writes, so that is fine.
 *
 * Checksums are reduced to 64 bits (the first 16 hex digits of the MD5)
 * for comparison; 0 means "no datum". */
#include "obs_convergence.h"

#include "rpt_report.h"
#include "sim_alloc.h"
#include "sim_vec.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct obs_pair {       /* one (client, node) */
    bool present;
    bool listed;                /* listed at least once during this life of the client (lag) */
    bool missing;               /* live, node up, not listed: a lost window once past its allowance */
    bool zombie;                /* dead, node up, still listed: a zombie window once past its allowance */
    sim_time_ns missing_from;   /* when the open missing spell counts as lost */
    sim_time_ns zombie_from;    /* when the open zombie spell counts as a zombie */
} obs_pair;

typedef struct obs_client {
    uint32_t key;
    bool live;
    sim_time_ns since_ns;       /* when it became live (registered) or dead */
    sim_time_ns accepted_ns;    /* its first listing on any node during this life; NEVER: not yet */
    uint32_t reached;           /* up nodes that listed it since it became live */
    sim_time_ns last_reach_ns;  /* the latest of those first listings */
    bool lag_done;              /* its replication lag is recorded */
} obs_client;

struct obs {
    sim_engine *sim;
    distro_cluster *cluster;    /* NULL for a synthetic model */
    obs_model m;
    distro_observer hooks;      /* what feeds it (obs_hooks) */
    uint32_t n;
    bool *up;
    sim_time_ns *up_since;      /* [node]: when it last came up */
    sim_time_ns lag_allowance_ns;
    sim_time_ns formation_ns;   /* a node's member view forms this long after its start */
    sim_time_ns zombie_allowance_ns;

    uint32_t keys_cap;
    uint64_t *cks;              /* [key * n + node] */
    uint16_t *count;            /* [key * n + node] instances listed */
    bool *divergent;            /* [key] */
    bool *mismatch;             /* [key * n + node]: disagrees with the truth */
    uint32_t divergent_count;
    uint32_t mismatch_count;
    uint32_t *node_mismatch;    /* [node]: keys on which the node disagrees with the truth */
    sim_time_ns *node_stale;    /* intervals a node disagreed: (node, start, end) triples */
    size_t node_stale_len;      /* in sim_time_ns units: 3 per interval */
    size_t node_stale_cap;
    size_t *node_open;          /* [node]: index of its open interval + 1, 0 = none */
    uint32_t *live_count;       /* [key] */
    uint32_t **key_clients;     /* [key] -> client ids, registration order */
    uint32_t *key_clients_len;
    uint32_t *key_clients_cap;
    uint32_t *instances;        /* [node] */

    obs_client *clients;
    uint32_t clients_cap;
    obs_pair *pairs;            /* [client * n + node] */

    uint32_t own_none;
    uint32_t own_multi;
    uint32_t none_window;
    uint32_t multi_window;
    uint32_t divergent_window;

    bool converged;
    sim_time_ns converged_since;
    sim_time_ns *flips;         /* instants converged became true, then false, ... */
    size_t flips_len;
    size_t flips_cap;
    bool first_flip_converged;

    obs_window *windows;
    size_t windows_len;
    size_t windows_cap;
    obs_sample *samples;
    size_t samples_len;
    size_t samples_cap;
    sim_time_ns *lags;
    size_t lags_len;
    size_t lags_cap;
    sim_time_ns *lag_at;        /* [i]: when lags[i] completed; lags_cap entries */
    sim_time_ns *node_lags;     /* acceptance to each other node's first listing */
    size_t node_lags_len;
    size_t node_lags_cap;
    sim_time_ns sample_interval_ns;
    sim_time_ns truth_changed_ns;   /* obs_truth_changed_last */
    void (*on_converged)(void *ctx);
    void *on_converged_ctx;
    bool finished;
};

const char *obs_window_kind_name(obs_window_kind kind)
{
    switch (kind) {
    case OBS_WINDOW_LOST: return "lost";
    case OBS_WINDOW_ZOMBIE: return "zombie";
    case OBS_WINDOW_OWNERSHIP_NONE: return "ownership_none";
    case OBS_WINDOW_OWNERSHIP_MULTI: return "ownership_multi";
    case OBS_WINDOW_DIVERGENT: return "divergent";
    }
    return "unknown";
}

/* Out of memory inside an event hook: the run stops (SIM_STOP_FAILED) and
 * the harness records it as an ERROR; the caller returns at once. */
static void obs_nomem(obs *o, const char *what)
{
    sim_error err;
    (void)sim_error_set(&err, SIM_ERR_NOMEM, "obs", "out of memory growing the observer's %s", what);
    sim_fail(o->sim, &err);
}

static uint64_t cks64(const char *hex)
{
    if (hex == NULL || hex[0] == '\0') return 0;
    uint64_t v = 0;
    for (int i = 0; i < 16 && hex[i] != '\0'; i++) {
        char ch = hex[i];
        uint64_t d = (uint64_t)(ch >= 'a' ? ch - 'a' + 10 : ch - '0');
        v = (v << 4) | d;
    }
    return v == 0 ? 1 : v;
}

static uint32_t window_open(obs *o, obs_window_kind kind, int32_t node, uint32_t key, uint32_t client)
{
    if (!SIM_VEC_RESERVE(o->windows, o->windows_len, o->windows_cap, 1)) {
        obs_nomem(o, "windows");
        return NONE;
    }
    o->windows[o->windows_len] = (obs_window){ .kind = kind, .node = node, .key = key, .client = client,
                                              .start_ns = sim_now(o->sim), .end_ns = SIM_TIME_NEVER };
    return (uint32_t)o->windows_len++;
}

static void window_close(obs *o, uint32_t *index)
{
    if (*index == NONE) return;
    o->windows[*index].end_ns = sim_now(o->sim);
    /* Several changes at one instant (nodes booting together, a write on
     * three nodes at once) open and close windows of no length: forget the
     * ones that are still last in the list, they measure nothing. */
    if (o->windows[*index].end_ns == o->windows[*index].start_ns && *index + 1 == o->windows_len) o->windows_len--;
    *index = NONE;
}

/* Grows one per-key (or per-client) array to `cap` rows of `row` bytes.
 * False, with *p unchanged, when the allocator fails. */
static bool grow_rows(void *p, size_t cap, size_t row)
{
    void **pp = p;
    if (cap > SIZE_MAX / row) return false;
    void *grown = sim_realloc(*pp, cap * row);
    if (grown == NULL) return false;
    *pp = grown;
    return true;
}

/* Makes room for key index `key` in every per-key array, doubling.  The
 * arrays are parallel (one capacity), so a failure part-way leaves some
 * larger than keys_cap, which is harmless; keys_cap moves only once all have
 * grown.  False (and the run failed) when out of memory. */
static bool keys_grow(obs *o, uint32_t key)
{
    if (key < o->keys_cap) return true;
    uint32_t cap = o->keys_cap == 0 ? SIM_VEC_MIN_CAP : o->keys_cap;
    while (cap <= key) {
        if (cap > UINT32_MAX / 2) {
            obs_nomem(o, "keys");
            return false;
        }
        cap *= 2;
    }
    size_t n = o->n;
    if (!grow_rows(&o->cks, cap, n * sizeof *o->cks) || !grow_rows(&o->count, cap, n * sizeof *o->count) ||
        !grow_rows(&o->mismatch, cap, n * sizeof *o->mismatch) ||
        !grow_rows(&o->divergent, cap, sizeof *o->divergent) ||
        !grow_rows(&o->live_count, cap, sizeof *o->live_count) ||
        !grow_rows(&o->key_clients, cap, sizeof *o->key_clients) ||
        !grow_rows(&o->key_clients_len, cap, sizeof *o->key_clients_len) ||
        !grow_rows(&o->key_clients_cap, cap, sizeof *o->key_clients_cap)) {
        obs_nomem(o, "keys");
        return false;
    }
    size_t old = o->keys_cap;
    memset(o->cks + old * n, 0, (cap - old) * n * sizeof *o->cks);
    memset(o->count + old * n, 0, (cap - old) * n * sizeof *o->count);
    memset(o->mismatch + old * n, 0, (cap - old) * n * sizeof *o->mismatch);
    memset(o->divergent + old, 0, (cap - old) * sizeof *o->divergent);
    memset(o->live_count + old, 0, (cap - old) * sizeof *o->live_count);
    memset(o->key_clients + old, 0, (cap - old) * sizeof *o->key_clients);
    memset(o->key_clients_len + old, 0, (cap - old) * sizeof *o->key_clients_len);
    memset(o->key_clients_cap + old, 0, (cap - old) * sizeof *o->key_clients_cap);
    o->keys_cap = cap;
    return true;
}

/* The same for client index `client` (clients and their per-node pairs). */
static bool clients_grow(obs *o, uint32_t client)
{
    if (client < o->clients_cap) return true;
    uint32_t cap = o->clients_cap == 0 ? SIM_VEC_MIN_CAP : o->clients_cap;
    while (cap <= client) {
        if (cap > UINT32_MAX / 2) {
            obs_nomem(o, "clients");
            return false;
        }
        cap *= 2;
    }
    if (!grow_rows(&o->clients, cap, sizeof *o->clients) || !grow_rows(&o->pairs, cap, o->n * sizeof *o->pairs)) {
        obs_nomem(o, "clients");
        return false;
    }
    for (uint32_t c = o->clients_cap; c < cap; c++) {
        o->clients[c] = (obs_client){ .key = NONE, .accepted_ns = SIM_TIME_NEVER };
        for (uint32_t n = 0; n < o->n; n++) {
            o->pairs[(size_t)c * o->n + n] = (obs_pair){ .present = false };
        }
    }
    o->clients_cap = cap;
    return true;
}

/* --- Convergence flips -------------------------------------------------------- */

static void update_converged(obs *o)
{
    bool now = o->divergent_count == 0 && o->mismatch_count == 0;
    if (o->divergent_count > 0 && o->divergent_window == NONE) {
        o->divergent_window = window_open(o, OBS_WINDOW_DIVERGENT, -1, NONE, NONE);
    } else if (o->divergent_count == 0) {
        window_close(o, &o->divergent_window);
    }
    if (now == o->converged) return;
    o->converged = now;
    if (o->flips_len == 0) o->first_flip_converged = now;
    if (!SIM_VEC_RESERVE(o->flips, o->flips_len, o->flips_cap, 1)) {
        obs_nomem(o, "convergence flips");
        return;
    }
    o->flips[o->flips_len++] = sim_now(o->sim);
    o->converged_since = now ? sim_now(o->sim) : SIM_TIME_NEVER;
    if (now && o->on_converged != NULL) o->on_converged(o->on_converged_ctx);
}

/* --- Per (client, node) ------------------------------------------------------------ */

static sim_time_ns later(sim_time_ns a, sim_time_ns b) { return a > b ? a : b; }

/* When a missing spell of (client, node) opening now starts to count as
 * lost: once the lag allowance has passed since the later of the
 * registration and the instant the node's member view has formed (its
 * start plus formation_ns).  Past that instant every absence
 * counts from its first instant (a node dropping what it listed included);
 * before it, the registration is still replicating, and in 1.4.2 that
 * includes boot-time overwrites (every node owns every key until its peers
 * are UP, and the first syncs replace each other's lists), so a drop there
 * counts only from the end of the allowance.  Computed when the spell
 * opens: the registration and the node's start cannot change before it
 * closes (a death or a crash closes it first). */
static sim_time_ns lost_from(const obs *o, const obs_client *cl, uint32_t node)
{
    return later(sim_now(o->sim), later(cl->since_ns, o->up_since[node] + o->formation_ns) + o->lag_allowance_ns);
}

/* When a listed-while-dead spell opening now starts to count as a zombie:
 * once the zombie allowance has passed since the death or deregistration. */
static sim_time_ns zombie_from(const obs *o, const obs_client *cl)
{
    return later(sim_now(o->sim), cl->since_ns + o->zombie_allowance_ns);
}

/* Records the part of a spell past its allowance as a window ending at
 * `end` (SIM_TIME_NEVER: still open at the end of the run). */
static void spell_window(obs *o, obs_window_kind kind, uint32_t client, uint32_t node, sim_time_ns from,
                         sim_time_ns end)
{
    sim_time_ns now = sim_now(o->sim);
    if (from >= now) return;   /* ended (or the run ended) within its allowance */
    uint32_t w = window_open(o, kind, (int32_t)node, o->clients[client].key, client);
    if (w == NONE) return;
    o->windows[w].start_ns = from;
    o->windows[w].end_ns = end;
}

static void record_listing(obs *o, obs_client *cl, obs_pair *p)
{
    sim_time_ns now = sim_now(o->sim);
    p->listed = true;
    if (cl->accepted_ns == SIM_TIME_NEVER) {
        cl->accepted_ns = now;                     /* the node that accepted the write */
    } else {
        if (!SIM_VEC_RESERVE(o->node_lags, o->node_lags_len, o->node_lags_cap, 1)) {
            obs_nomem(o, "replication lags");
            return;
        }
        o->node_lags[o->node_lags_len++] = now - cl->accepted_ns;
    }
    cl->reached++;
    cl->last_reach_ns = now;
    uint32_t up_count = 0;
    for (uint32_t m = 0; m < o->n; m++) up_count += o->up[m];
    if (!cl->lag_done && cl->reached >= up_count) {
        /* Acceptance to the last up node's first listing. */
        size_t cap = o->lags_cap;
        if (!SIM_VEC_RESERVE(o->lags, o->lags_len, o->lags_cap, 1)) {
            obs_nomem(o, "replication lags");
            return;
        }
        if (o->lags_cap != cap || o->lag_at == NULL) {   /* the instants grow with the lags */
            sim_time_ns *grown = sim_realloc(o->lag_at, o->lags_cap * sizeof *grown);
            if (grown == NULL) {
                obs_nomem(o, "replication lag instants");
                return;
            }
            o->lag_at = grown;
        }
        o->lag_at[o->lags_len] = cl->last_reach_ns;
        o->lags[o->lags_len++] = cl->last_reach_ns - cl->accepted_ns;
        cl->lag_done = true;
    }
}

static void pair_update(obs *o, uint32_t client, uint32_t node)
{
    obs_client *cl = &o->clients[client];
    obs_pair *p = &o->pairs[(size_t)client * o->n + node];
    bool up = o->up[node];
    bool missing = cl->live && up && !p->present;
    bool zombie = !cl->live && up && p->present;
    sim_time_ns now = sim_now(o->sim);
    if (!missing && p->missing) {
        p->missing = false;
        spell_window(o, OBS_WINDOW_LOST, client, node, p->missing_from, now);
    }
    if (!zombie && p->zombie) {
        p->zombie = false;
        spell_window(o, OBS_WINDOW_ZOMBIE, client, node, p->zombie_from, now);
    }
    if (missing && !p->missing) {
        p->missing = true;
        p->missing_from = lost_from(o, cl, node);
    }
    if (zombie && !p->zombie) {
        p->zombie = true;
        p->zombie_from = zombie_from(o, cl);
    }
    if (p->present && cl->live && up && !p->listed) record_listing(o, cl, p);
}

/* Recomputes presence of every client of `key` on `node`, the node's
 * agreement with the truth for the key, and the key's divergence. */
static void key_node_update(obs *o, uint32_t key, uint32_t node)
{
    size_t kn = (size_t)key * o->n + node;
    uint32_t live_present = 0;
    for (uint32_t i = 0; i < o->key_clients_len[key]; i++) {
        uint32_t c = o->key_clients[key][i];
        obs_pair *p = &o->pairs[(size_t)c * o->n + node];
        p->present = o->up[node] && o->count[kn] > 0 && o->m.lists_client(o->m.ctx, node, c);
        pair_update(o, c, node);
        if (p->present && o->clients[c].live) live_present++;
    }
    bool mismatch = o->up[node] && (o->count[kn] != o->live_count[key] || live_present != o->live_count[key]);
    if (mismatch != o->mismatch[kn]) {
        o->mismatch[kn] = mismatch;
        if (mismatch) o->mismatch_count++;
        else o->mismatch_count--;
        /* The node's own agreement with the truth, for per-node convergence. */
        uint32_t before = o->node_mismatch[node];
        o->node_mismatch[node] = mismatch ? before + 1 : before - 1;
        if (before == 0 && mismatch) {
            if (!SIM_VEC_RESERVE(o->node_stale, o->node_stale_len, o->node_stale_cap, 3)) {
                o->node_mismatch[node] = before;   /* as if the hook had not run: the run stops here */
                obs_nomem(o, "per-node disagreement intervals");
                return;
            }
            o->node_stale[o->node_stale_len] = node;
            o->node_stale[o->node_stale_len + 1] = sim_now(o->sim);
            o->node_stale[o->node_stale_len + 2] = SIM_TIME_NEVER;
            o->node_open[node] = o->node_stale_len + 1;
            o->node_stale_len += 3;
        } else if (before == 1 && !mismatch) {
            o->node_stale[o->node_open[node] - 1 + 2] = sim_now(o->sim);
            o->node_open[node] = 0;
        }
    }
}

static void key_divergence_update(obs *o, uint32_t key)
{
    bool divergent = false;
    bool first = true;
    uint64_t value = 0;
    for (uint32_t n = 0; n < o->n; n++) {
        if (!o->up[n]) continue;
        uint64_t v = o->cks[(size_t)key * o->n + n];
        if (first) {
            value = v;
            first = false;
        } else if (v != value) {
            divergent = true;
            break;
        }
    }
    if (divergent != o->divergent[key]) {
        o->divergent[key] = divergent;
        if (divergent) o->divergent_count++;
        else o->divergent_count--;
    }
}

static void ownership_update(obs *o)
{
    uint32_t none = 0, multi = 0;
    uint32_t keys = o->m.key_count(o->m.ctx);
    for (uint32_t k = 0; k < keys; k++) {
        uint32_t owners = 0;
        for (uint32_t n = 0; n < o->n; n++) {
            if (o->up[n] && o->m.responsible(o->m.ctx, n, k)) owners++;
        }
        if (owners == 0) none++;
        if (owners >= 2) multi++;
    }
    o->own_none = none;
    o->own_multi = multi;
    if (none > 0 && o->none_window == NONE) o->none_window = window_open(o, OBS_WINDOW_OWNERSHIP_NONE, -1, NONE, NONE);
    if (none == 0) window_close(o, &o->none_window);
    if (multi > 0 && o->multi_window == NONE) {
        o->multi_window = window_open(o, OBS_WINDOW_OWNERSHIP_MULTI, -1, NONE, NONE);
    }
    if (multi == 0) window_close(o, &o->multi_window);
}

/* --- Hooks ------------------------------------------------------------------------------ */

static void on_datum(void *ctx, sim_time_ns at_ns, uint32_t node, uint32_t key, const char *old_cks,
                     const char *new_cks)
{
    (void)at_ns;
    (void)old_cks;
    obs *o = ctx;
    if (!keys_grow(o, key)) return;
    size_t kn = (size_t)key * o->n + node;
    o->cks[kn] = cks64(new_cks);
    uint32_t count = o->m.instance_count(o->m.ctx, node, key);
    o->instances[node] = o->instances[node] - o->count[kn] + count;
    o->count[kn] = (uint16_t)(count > UINT16_MAX ? UINT16_MAX : count);
    key_node_update(o, key, node);
    key_divergence_update(o, key);
    update_converged(o);
}

static void on_view(void *ctx, sim_time_ns at_ns, uint32_t node, const uint32_t *healthy, uint32_t count)
{
    (void)at_ns;
    (void)node;
    (void)healthy;
    (void)count;
    ownership_update(ctx);
}

static void on_node(void *ctx, sim_time_ns at_ns, uint32_t node, bool up)
{
    (void)at_ns;
    obs *o = ctx;
    if (o->up[node] != up) o->truth_changed_ns = sim_now(o->sim);
    o->up[node] = up;
    if (up) {
        o->up_since[node] = sim_now(o->sim);   /* a new life: its allowance starts again */
    } else {
        /* Its data is gone with it. */
        o->instances[node] = 0;
        for (uint32_t k = 0; k < o->keys_cap; k++) {
            o->cks[(size_t)k * o->n + node] = 0;
            o->count[(size_t)k * o->n + node] = 0;
        }
    }
    uint32_t keys = o->m.key_count(o->m.ctx);
    if (!keys_grow(o, keys == 0 ? 0 : keys - 1)) return;
    for (uint32_t k = 0; k < keys; k++) {
        key_node_update(o, k, node);
        key_divergence_update(o, k);
    }
    ownership_update(o);
    update_converged(o);
}

static void on_client(void *ctx, sim_time_ns at_ns, uint32_t client, bool live)
{
    obs *o = ctx;
    if (!clients_grow(o, client)) return;
    obs_client *cl = &o->clients[client];
    uint32_t key = o->m.client_key(o->m.ctx, client);
    if (!keys_grow(o, key)) return;
    if (cl->key == NONE) {
        cl->key = key;
        size_t kc_len = o->key_clients_len[key];   /* a size_t length keeps the helper's range check plain */
        if (!SIM_VEC_RESERVE(o->key_clients[key], kc_len, o->key_clients_cap[key], 1)) {
            obs_nomem(o, "clients of a key");
            return;
        }
        o->key_clients[key][o->key_clients_len[key]++] = client;
    }
    if (cl->live == live) return;
    cl->live = live;
    cl->since_ns = at_ns;
    o->truth_changed_ns = sim_now(o->sim);
    if (live) {
        o->live_count[key]++;
        cl->reached = 0;
        cl->lag_done = false;
        cl->accepted_ns = SIM_TIME_NEVER;
        for (uint32_t n = 0; n < o->n; n++) o->pairs[(size_t)client * o->n + n].listed = false;
    } else {
        o->live_count[key]--;
    }
    for (uint32_t n = 0; n < o->n; n++) key_node_update(o, key, n);
    update_converged(o);
}

/* --- Sampling ------------------------------------------------------------------------- */

static void take_sample(obs *o)
{
    uint32_t keys = o->m.key_count(o->m.ctx);
    for (uint32_t n = 0; n < o->n; n++) {
        uint32_t owned = 0;
        if (o->up[n]) {
            for (uint32_t k = 0; k < keys; k++) owned += o->m.responsible(o->m.ctx, n, k);
        }
        if (!SIM_VEC_RESERVE(o->samples, o->samples_len, o->samples_cap, 1)) {
            obs_nomem(o, "samples");
            return;
        }
        o->samples[o->samples_len++] = (obs_sample){
            .at_ns = sim_now(o->sim), .node = n, .up = o->up[n],
            .keys = o->m.node_key_count(o->m.ctx, n), .instances = o->instances[n], .owned_keys = owned,
            .healthy_view = o->m.healthy_count(o->m.ctx, n), .divergent_keys = o->divergent_count,
        };
    }
}

static void sample_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    obs *o = ctx;
    take_sample(o);
    sim_error err;
    if (sim_schedule(sim, o->sample_interval_ns, SIM_KIND_USER, sample_fire, o, 0, NULL, &err) != SIM_OK) {
        sim_fail(sim, &err);   /* the event pool is full: the run stops as an ERROR */
    }
}

static uint32_t cl_key_count(void *ctx) { return distro_cluster_key_count(ctx); }
static uint32_t cl_instance_count(void *ctx, uint32_t node, uint32_t key)
{
    return distro_node_instance_count(ctx, node, key);
}
static bool cl_lists_client(void *ctx, uint32_t node, uint32_t client)
{
    return distro_node_lists_client(ctx, node, client);
}
static uint32_t cl_client_key(void *ctx, uint32_t client) { return distro_client_key(ctx, client); }
static bool cl_responsible(void *ctx, uint32_t node, uint32_t key) { return distro_node_responsible(ctx, node, key); }
static uint32_t cl_node_key_count(void *ctx, uint32_t node) { return distro_node_key_count(ctx, node); }
static uint32_t cl_healthy_count(void *ctx, uint32_t node) { return distro_node_healthy_count(ctx, node); }

obs *obs_create_model(sim_engine *sim, const obs_model *model, sim_time_ns sample_interval_ns,
                      distro_observer *hooks)
{
    SIM_ASSERT(model->nodes > 0);
    obs *o = sim_calloc(1, sizeof *o);
    if (o == NULL) return NULL;
    o->sim = sim;
    o->m = *model;
    o->n = model->nodes;
    o->up = sim_calloc(o->n, sizeof *o->up);
    o->up_since = sim_calloc(o->n, sizeof *o->up_since);
    o->instances = sim_calloc(o->n, sizeof *o->instances);
    o->node_mismatch = sim_calloc(o->n, sizeof *o->node_mismatch);
    o->node_open = sim_calloc(o->n, sizeof *o->node_open);
    if (o->up == NULL || o->up_since == NULL || o->instances == NULL || o->node_mismatch == NULL || o->node_open == NULL) {
        obs_destroy(o);
        return NULL;
    }
    o->none_window = o->multi_window = o->divergent_window = NONE;
    o->converged = true;                 /* nothing up, nothing registered: trivially agreed */
    o->converged_since = sim_now(sim);
    o->sample_interval_ns = sample_interval_ns;
    o->hooks = (distro_observer){ .ctx = o, .datum_changed = on_datum, .view_changed = on_view,
                                  .node_changed = on_node, .client_changed = on_client };
    *hooks = o->hooks;
    if (sample_interval_ns > 0) {
        sim_error err;
        if (sim_schedule(sim, 0, SIM_KIND_USER, sample_fire, o, 0, NULL, &err) != SIM_OK) {
            obs_destroy(o);
            return NULL;
        }
    }
    return o;
}

obs *obs_create(sim_engine *sim, distro_cluster *cluster, sim_time_ns sample_interval_ns)
{
    obs_model model = {
        .ctx = cluster, .nodes = distro_cluster_size(cluster), .key_count = cl_key_count,
        .instance_count = cl_instance_count, .lists_client = cl_lists_client, .client_key = cl_client_key,
        .responsible = cl_responsible, .node_key_count = cl_node_key_count, .healthy_count = cl_healthy_count,
    };
    distro_observer hooks;
    obs *o = obs_create_model(sim, &model, sample_interval_ns, &hooks);
    if (o == NULL) return NULL;
    o->cluster = cluster;
    distro_cluster_set_observer(cluster, &hooks);
    return o;
}

distro_observer obs_hooks(const obs *o) { return o->hooks; }

void obs_destroy(obs *o)
{
    if (o == NULL) return;
    if (o->cluster != NULL) distro_cluster_set_observer(o->cluster, NULL);
    for (uint32_t k = 0; k < o->keys_cap; k++) free(o->key_clients[k]);
    free(o->key_clients);
    free(o->key_clients_len);
    free(o->key_clients_cap);
    free(o->cks);
    free(o->count);
    free(o->mismatch);
    free(o->divergent);
    free(o->live_count);
    free(o->instances);
    free(o->node_mismatch);
    free(o->node_open);
    free(o->node_stale);
    free(o->up);
    free(o->up_since);
    free(o->node_lags);
    free(o->clients);
    free(o->pairs);
    free(o->flips);
    free(o->windows);
    free(o->samples);
    free(o->lags);
    free(o->lag_at);
    free(o);
}

static int window_cmp(const void *a, const void *b)
{
    const obs_window *x = a, *y = b;
    if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    if (x->node != y->node) return x->node < y->node ? -1 : 1;
    if (x->client != y->client) return x->client < y->client ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    if (x->end_ns != y->end_ns) return x->end_ns < y->end_ns ? -1 : 1;
    return 0;
}

void obs_set_view_formation(obs *o, sim_time_ns formation_ns) { o->formation_ns = formation_ns; }

void obs_set_allowances(obs *o, sim_time_ns lag_allowance_ns, sim_time_ns zombie_allowance_ns)
{
    o->lag_allowance_ns = lag_allowance_ns;
    o->zombie_allowance_ns = zombie_allowance_ns;
}

void obs_finish(obs *o)
{
    if (o->finished) return;
    o->finished = true;
    /* Spells still open: the part past its allowance is an open window. */
    for (uint32_t c = 0; c < o->clients_cap; c++) {
        const obs_client *cl = &o->clients[c];
        if (cl->key == NONE) continue;
        for (uint32_t n = 0; n < o->n; n++) {
            const obs_pair *p = &o->pairs[(size_t)c * o->n + n];
            if (p->missing) spell_window(o, OBS_WINDOW_LOST, c, n, p->missing_from, SIM_TIME_NEVER);
            if (p->zombie) spell_window(o, OBS_WINDOW_ZOMBIE, c, n, p->zombie_from, SIM_TIME_NEVER);
        }
    }
    /* Lost and zombie windows are recorded when they end: put every window
     * in start order (a total order, so the result does not depend on the
     * sort).  No window is open for extension after this. */
    if (o->windows_len > 1) qsort(o->windows, o->windows_len, sizeof *o->windows, window_cmp);
    o->none_window = o->multi_window = o->divergent_window = NONE;
    if (o->sample_interval_ns > 0) take_sample(o);
}

bool obs_converged(const obs *o) { return o->converged; }
sim_time_ns obs_converged_since(const obs *o) { return o->converged ? o->converged_since : SIM_TIME_NEVER; }
uint32_t obs_divergent_keys(const obs *o) { return o->divergent_count; }

sim_time_ns obs_converged_after(const obs *o, sim_time_ns at_ns)
{
    /* flips[i] alternate; flips[0] is a move to first_flip_converged.  The
     * state before flips[0] is the opposite (converged at creation). */
    bool state = o->flips_len == 0 ? o->converged : !o->first_flip_converged;
    size_t i = 0;
    for (; i < o->flips_len && o->flips[i] <= at_ns; i++) state = !state;
    if (state) return at_ns;
    for (; i < o->flips_len; i++) {
        state = !state;
        if (state) return o->flips[i];
    }
    return SIM_TIME_NEVER;
}

sim_time_ns obs_truth_changed_last(const obs *o) { return o->truth_changed_ns; }

void obs_on_converged(obs *o, void (*fn)(void *ctx), void *ctx)
{
    o->on_converged = fn;
    o->on_converged_ctx = ctx;
}

obs_run_convergence obs_run_convergence_of(const obs *o, sim_time_ns last_fault_end_ns, obs_never unending)
{
    obs_run_convergence rc = { .anchor_ns = SIM_TIME_NEVER, .converged_ns = obs_converged_since(o),
                               .convergence_ns = SIM_TIME_NEVER, .never = unending };
    if (unending != OBS_NEVER_NOT) return rc;
    rc.anchor_ns = later(last_fault_end_ns == SIM_TIME_NEVER ? 0 : last_fault_end_ns, o->truth_changed_ns);
    if (rc.converged_ns == SIM_TIME_NEVER) {
        rc.never = OBS_NEVER_UNCONVERGED;
        return rc;
    }
    rc.convergence_ns = rc.converged_ns > rc.anchor_ns ? rc.converged_ns - rc.anchor_ns : 0;
    return rc;
}

const obs_window *obs_windows(const obs *o, size_t *count)
{
    *count = o->windows_len;
    return o->windows;
}

const obs_sample *obs_samples(const obs *o, size_t *count)
{
    *count = o->samples_len;
    return o->samples;
}

static int lag_cmp(const void *a, const void *b)
{
    sim_time_ns x = *(const sim_time_ns *)a, y = *(const sim_time_ns *)b;
    return x < y ? -1 : x > y;
}

sim_status obs_lag_summary(const obs *o, rpt_lag *out, sim_error *err)
{
    size_t n = o->lags_len;
    if (n == 0) {
        *out = (rpt_lag){ 0 };
        return SIM_OK;
    }
    sim_time_ns *sorted = sim_malloc(n * sizeof *sorted);
    if (sorted == NULL) {
        return sim_error_set(err, SIM_ERR_NOMEM, "obs_lag_summary", "out of memory sorting %zu replication lags", n);
    }
    memcpy(sorted, o->lags, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, lag_cmp);
    *out = (rpt_lag){ .count = n, .p50_ns = rpt_percentile_nearest_rank(sorted, n, 50),
                      .p90_ns = rpt_percentile_nearest_rank(sorted, n, 90),
                      .p99_ns = rpt_percentile_nearest_rank(sorted, n, 99),
                      .max_ns = rpt_percentile_nearest_rank(sorted, n, 100) };
    free(sorted);
    return SIM_OK;
}

const sim_time_ns *obs_lags(const obs *o, size_t *count)
{
    *count = o->lags_len;
    return o->lags;
}

const sim_time_ns *obs_lag_times(const obs *o, size_t *count)
{
    *count = o->lags_len;
    return o->lag_at;
}

const sim_time_ns *obs_node_lags(const obs *o, size_t *count)
{
    *count = o->node_lags_len;
    return o->node_lags;
}

sim_time_ns obs_window_max(const obs *o, obs_window_kind kind)
{
    sim_time_ns max = 0;
    sim_time_ns now = sim_now(o->sim);
    for (size_t i = 0; i < o->windows_len; i++) {
        const obs_window *w = &o->windows[i];
        if (w->kind != kind) continue;
        sim_time_ns end = w->end_ns == SIM_TIME_NEVER ? now : w->end_ns;
        if (end - w->start_ns > max) max = end - w->start_ns;
    }
    return max;
}

sim_time_ns obs_node_agreed_after(const obs *o, uint32_t node, sim_time_ns at_ns)
{
    SIM_ASSERT(node < o->n);
    for (size_t i = 0; i < o->node_stale_len; i += 3) {
        if (o->node_stale[i] != node) continue;
        sim_time_ns start = o->node_stale[i + 1], end = o->node_stale[i + 2];
        if (start <= at_ns && at_ns < end) return end;   /* SIM_TIME_NEVER while still open */
    }
    return at_ns;
}
