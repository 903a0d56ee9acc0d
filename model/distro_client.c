/* distro_client.c: a Nacos 1.x naming client process (NamingProxy.reqApi
 * and BeatReactor), one registered instance per client.
 *
 * Server choice.  NamingProxy.reqApi starts at a random server of its list
 * and, on any failure (refused, timed out, HTTP status other than 200),
 * tries the next one, round the list once.  The random start is drawn from
 * the client's own stream, so adding a client never changes another's.
 * An HTTP /v2/ns client of a 2.x cluster (distro_client_spec.http_v2: a
 * script or sidecar given one Nacos address) sends every request to one
 * server, drawn once, and moves to the next only when a request fails.
 *
 * Beats.  BeatReactor sends the first beat one interval after the
 * registration is made, then one interval after each beat returns.  The
 * first beat carries the instance (the body); once a server has answered,
 * beats are "light" (no body) while lightBeatEnabled.  A 20404 answer makes
 * the client register again, synchronously, before the next beat, and that
 * beat carries the body again (the reply has no lightBeatEnabled field).
 * The configured interval (BeatInfo.period) sets only the first beat and
 * the one after a failed beat: every reply, 20404 included, names the
 * delay to the next beat, the server's clientBeatInterval (or the
 * instance's preserved.heart.beat.interval metadata on a 200), and the
 * client adopts it (BeatReactor.java:165-176).
 *
 * The client-server path.  Clients are not engine nodes (a cluster has
 * thousands of them).  A request reaches its server after a fixed 1 ms as
 * one of that server's events, so a paused server holds it and a crashed
 * one never runs it; a server that is down refuses at once, and a crash
 * resets the connections it was serving.  Server-to-server partitions do
 * not cut clients off.  The 1.x client's read timeout is 50 s: an answer
 * later than that counts as a timeout when it arrives, and a request sent
 * to a paused server arms a timer for it.
 *
 * One event per beat (not Nacos: a shortcut past an event).  A beat
 * answered in time schedules the next one.  On a 1.4.2 cluster whose next
 * server (the client's next random start, drawn on a copy of its stream)
 * is up, that schedules the beat's arrival there, and the send runs inside
 * it (beat_arrive): the beat_fire timer of the send instant is spared, a
 * quarter of a steady cluster's events.  The send is exact while nothing
 * it reads changes in between: the client (only the harness's calls change
 * it), the server's state and its clock's drift.  Each such change undoes
 * the merge first (unmerge): before the send instant the beat goes back to
 * a beat_fire timer; from it on, the send is done then, for its instant,
 * and the arrival stays.  The arrival is scheduled when the beat is, so
 * its place among events of the same nanosecond is the one it keeps with
 * merged_beats off (distro_config), where the send runs at its instant as
 * an event of its own and checks for itself what the merge assumed: the
 * runs agree on everything but their event count and trace hash
 * (test_merged_beats_change_nothing, test_shortcuts_equivalence.sh).  A
 * crash resets its pending requests in the order they were sent
 * (distro_client_fail_pending), not the order they were recorded in,
 * which a merged send changes. */
#include "distro_int.h"
#include "distro2_int.h"

#include <stdlib.h>
#include <string.h>

#define CLIENT_READ_TIMEOUT_NS (50000 * SIM_MS)   /* com.alibaba.nacos.client.naming.rtimeout */
#define REQUEST_ID_MASK 0xffffffu
#define CODE_REFUSED (-1)

enum { CLIENT_EVENT_REGISTER, CLIENT_EVENT_BEAT };


static uint64_t pack(uint32_t client, uint32_t request_id, uint32_t extra)
{
    return ((uint64_t)client << 32) | ((uint64_t)(request_id & REQUEST_ID_MASK) << 8) | (extra & 0xffu);
}

static void call_server(distro_cluster *c, uint32_t id);

static void truth(distro_cluster *c, uint32_t id, bool live)
{
    if (c->observer.client_changed != NULL) c->observer.client_changed(c->observer.ctx, sim_now(c->sim), id, live);
}
static void beat_fire(sim_engine *sim, void *ctx, uint64_t arg);

static void client_event(distro_cluster *c, sim_time_ns delay_ns, uint16_t kind, sim_event_fn *fn, uint64_t arg)
{
    sim_error err;
    sim_status st = sim_schedule(c->sim, delay_ns, kind, fn, c, arg, NULL, &err);
    if (st != SIM_OK) sim_fail(c->sim, &err);
}

static void schedule_beat(distro_cluster *c, uint32_t id)
{
    distro_client *cl = &c->clients[id];
    client_event(c, cl->beat_interval_ns, DISTRO_KIND_CLIENT_TIMER, beat_fire, id);
}

/* BeatTask.run: the next beat goes the reply's clientBeatInterval later
 * when the reply has a positive one, else the configured period
 * (BeatReactor.java:165-176, :205).  A failed beat reads no reply. */
static sim_time_ns next_beat_delay(const distro_cluster *c, uint32_t id, int32_t code)
{
    sim_time_ns interval = distro_filter_beat_reply_interval(c, id, code);
    return interval > 0 ? interval : c->clients[id].beat_interval_ns;
}

/* NamingProxy.reqApi's start: a new request, at its first server. */
static void begin_request(distro_cluster *c, uint32_t id, uint8_t op)
{
    distro_client *cl = &c->clients[id];
    cl->op = op;
    cl->in_request = true;
    cl->direct = false;
    cl->request_id = (cl->request_id + 1) & REQUEST_ID_MASK;
    cl->tries = 0;
    /* A 1.x SDK starts each request at a random server; an HTTP /v2
     * client at the server it last reached (on_response moves it past one
     * that failed). */
    if (!cl->http_v2) cl->try_index = (uint32_t)sim_rng_below(&cl->rng, c->n);
}

static void start_request(distro_cluster *c, uint32_t id, uint8_t op)
{
    begin_request(c, id, op);
    call_server(c, id);
}

/* The server begin_request's random start will pick next: the same draw,
 * on a copy of the client's stream. */
static uint32_t next_start(const distro_cluster *c, const distro_client *cl)
{
    sim_rng copy = cl->rng;
    return (uint32_t)sim_rng_below(&copy, c->n);
}

static bool add_pending(distro_cluster *c, distro_node *node, uint32_t id, sim_time_ns sent_at_ns)
{
    if (!SIM_VEC_RESERVE(node->pending, node->pending_count, node->pending_cap, 1)) {
        distro_fail_nomem(c, "client send");
        return false;
    }
    node->pending[node->pending_count++] =
        (distro_pending){ .client = id, .request_id = c->clients[id].request_id, .sent_at_ns = sent_at_ns };
    return true;
}

/* What a merged beat assumes of its server until its send: up, and its
 * process running (next_beat; beat_send_fire checks it again). */
static bool server_up(const distro_cluster *c, uint32_t server)
{
    return sim_node_state_get(c->sim, server) == SIM_NODE_UP && c->nodes[server].running;
}

/* The send half of a merged beat, for its instant (kept in sent_at_ns):
 * beat_fire's and call_server's work when the server is up, as it was
 * when the beat was merged. */
static void merged_send(distro_cluster *c, uint32_t id)
{
    distro_client *cl = &c->clients[id];
    sim_time_ns at = cl->sent_at_ns;
    SIM_ASSERT(cl->beat_merged && cl->alive && cl->registered && !cl->in_request);
    cl->beat_merged = false;
    begin_request(c, id, DISTRO_OP_BEAT);
    cl->sent_at_ns = at;
    (void)add_pending(c, &c->nodes[cl->try_index], id, at);   /* false: the run has failed */
}

/* The send of a merged beat before its arrival, which then needs the
 * request id it was given (requests may start in between). */
static void send_early(distro_cluster *c, uint32_t id)
{
    merged_send(c, id);
    c->beats[id].request_id = c->clients[id].request_id;
}

/* Something a merged beat's send reads is about to change (module notes).
 * Before the send instant the beat goes back to a beat_fire timer; from it
 * on, the send is done now, for its instant, and the arrival stays (a
 * crash of the server has cancelled it, as it does a plain arrival). */
static void unmerge(distro_cluster *c, uint32_t id)
{
    distro_client *cl = &c->clients[id];
    if (!cl->beat_merged) return;
    sim_time_ns now = sim_now(c->sim);
    if (now < cl->sent_at_ns) {
        (void)sim_cancel(c->sim, c->beats[id].arrival);   /* false when the server's crash cancelled it */
        cl->beat_merged = false;
        client_event(c, cl->sent_at_ns - now, DISTRO_KIND_CLIENT_TIMER, beat_fire, id);
        return;
    }
    send_early(c, id);
}

/* A merged beat's arrival on its server (module notes), with its send
 * first unless that was done already. */
static void beat_arrive(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    uint32_t id = (uint32_t)(arg >> 32);
    distro_client *cl = &c->clients[id];
    uint32_t request_id;
    if (cl->beat_merged) {
        merged_send(c, id);
        request_id = cl->request_id;
    } else {
        request_id = c->beats[id].request_id;   /* sent by unmerge; requests may have started since */
    }
    /* A beat carries the body until a server has answered one (finish);
     * nothing answers this client before the beat arrives. */
    distro_filter_on_client_request(node, id, DISTRO_OP_BEAT, !cl->beat_acked, request_id);
}

/* With merged_beats off, the send of a merged beat runs at its instant as
 * an event of its own, the reference the merged send is tested against:
 * it checks for itself, as beat_fire would, what the merge assumed (the
 * client beating and idle, the server up, its drift as it was), so a
 * change that failed to undo the merge shows as a difference.  When one
 * fails, the arrival is cancelled and beat_fire runs now.  An unmerged
 * beat's send event runs for nothing. */
static void beat_send_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    distro_cluster *c = ctx;
    uint32_t id = (uint32_t)arg;
    distro_client *cl = &c->clients[id];
    sim_time_ns now = sim_now(sim);
    if (!cl->beat_merged || cl->sent_at_ns != now) return;
    uint32_t server = next_start(c, cl);
    if (cl->alive && cl->registered && !cl->in_request && server_up(c, server) &&
        c->beats[id].arrive_at_ns == now + sim_node_true_delay(sim, server, c->client_latency_ns)) {
        send_early(c, id);
        return;
    }
    (void)sim_cancel(sim, c->beats[id].arrival);
    cl->beat_merged = false;
    beat_fire(sim, c, id);
}

/* The next beat, `delay_ns` from now: a merged beat (module notes) when
 * its server is up, else a beat_fire timer.  The arrival's argument
 * carries the key, for the prefetch hint. */
static void next_beat(distro_cluster *c, uint32_t id, sim_time_ns delay_ns)
{
    distro_client *cl = &c->clients[id];
    uint32_t server = next_start(c, cl);
    if (c->config.version != DISTRO_VERSION_1_4_2 || cl->http_v2 || !server_up(c, server)) {
        client_event(c, delay_ns, DISTRO_KIND_CLIENT_TIMER, beat_fire, id);
        return;
    }
    sim_time_ns at = sim_now(c->sim) + delay_ns;
    sim_time_ns arrive = at + sim_node_true_delay(c->sim, server, c->client_latency_ns);
    distro_beat *b = &c->beats[id];
    sim_error err;
    sim_status st = sim_timer_start_at(c->sim, server, arrive, DISTRO_KIND_CLIENT_REQUEST, beat_arrive,
                                       &c->nodes[server], ((uint64_t)id << 32) | cl->key, &b->arrival, &err);
    if (st != SIM_OK) {
        sim_fail(c->sim, &err);
        return;
    }
    cl->beat_merged = true;
    cl->sent_at_ns = at;
    if (!c->config.merged_beats) {
        b->arrive_at_ns = arrive;   /* what beat_send_fire checks */
        client_event(c, delay_ns, DISTRO_KIND_CLIENT_TIMER, beat_send_fire, id);
    }
}

/* The request finished, for good or after every server failed. */
static void finish(distro_cluster *c, uint32_t id, int32_t code)
{
    distro_client *cl = &c->clients[id];
    cl->in_request = false;
    if (!cl->alive || cl->manual) return;
    switch ((distro_op)cl->op) {
    case DISTRO_OP_REGISTER:
    case DISTRO_OP_DEREGISTER:
        return;
    case DISTRO_OP_BEAT:
        if (code == 200) cl->beat_acked = c->config.light_beat_enabled;
        /* A 20404 reply has no lightBeatEnabled field, which BeatReactor
         * reads as false: the next beat carries the body again. */
        if (code == 20404) cl->beat_acked = false;
        if (code == 20404 && cl->registered) {
            start_request(c, id, DISTRO_OP_REGISTER);   /* then the next beat */
        }
        if (cl->registered) {
            client_event(c, next_beat_delay(c, id, code), DISTRO_KIND_CLIENT_TIMER, beat_fire, id);
        }
        return;
    }
}

static void on_response(sim_engine *sim, void *ctx, uint64_t arg)
{
    distro_cluster *c = ctx;
    uint32_t id = (uint32_t)(arg >> 32);
    uint32_t request_id = (uint32_t)(arg >> 8) & REQUEST_ID_MASK;
    uint32_t code_index = (uint32_t)(arg & 0xff);
    static const int32_t codes[] = { 200, 20404, 400, 500, 503, CODE_REFUSED, 0 };
    int32_t code = codes[code_index < 7 ? code_index : 3];
    distro_client *cl = &c->clients[id];
    if (!cl->alive || !cl->in_request || cl->request_id != request_id) return;   /* stale */
    if (code == 0 || sim_now(sim) - cl->sent_at_ns > CLIENT_READ_TIMEOUT_NS) code = 0;   /* timed out */
    if (code == 200 || code == 20404) {
        finish(c, id, code);
        return;
    }
    /* Any other outcome: the next server, once round the list. */
    cl->tries++;
    if (cl->direct || cl->tries >= c->n) {
        finish(c, id, code);
        return;
    }
    cl->try_index = (cl->try_index + 1) % c->n;
    call_server(c, id);
}

static uint32_t code_index(int32_t code)
{
    switch (code) {
    case 200: return 0;
    case 20404: return 1;
    case 400: return 2;
    case 500: return 3;
    case 503: return 4;
    case CODE_REFUSED: return 5;
    default: return 3;
    }
}

static void server_receive(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    uint32_t id = (uint32_t)(arg >> 32);
    uint32_t request_id = (uint32_t)(arg >> 8) & REQUEST_ID_MASK;
    uint8_t op = (uint8_t)(arg & 0x3);
    bool with_body = (arg & 0x4) != 0;
    distro_filter_on_client_request(node, id, op, with_body, request_id);
}

static void client_timeout(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    on_response(sim, ctx, (arg & ~(uint64_t)0xff) | 6u);   /* code 0: timed out */
}

static void call_server(distro_cluster *c, uint32_t id)
{
    distro_client *cl = &c->clients[id];
    uint32_t server = cl->try_index;
    cl->sent_at_ns = sim_now(c->sim);
    sim_node_state state = sim_node_state_get(c->sim, server);
    if (state == SIM_NODE_DOWN || !c->nodes[server].running) {
        client_event(c, 0, DISTRO_KIND_CLIENT_RESPONSE, on_response, pack(id, cl->request_id, code_index(CODE_REFUSED)));
        return;
    }
    distro_node *node = &c->nodes[server];
    if (!add_pending(c, node, id, cl->sent_at_ns)) return;
    bool with_body = cl->op != DISTRO_OP_BEAT || !cl->beat_acked;
    uint64_t arg = pack(id, cl->request_id, (uint32_t)cl->op | (with_body ? 4u : 0u));
    distro_timer(node, c->client_latency_ns, DISTRO_KIND_CLIENT_REQUEST, server_receive, arg);
    if (state == SIM_NODE_PAUSED) {
        client_event(c, CLIENT_READ_TIMEOUT_NS, DISTRO_KIND_CLIENT_TIMER, client_timeout, pack(id, cl->request_id, 0));
    }
}

void distro_client_respond(distro_cluster *c, uint32_t server, uint32_t client, uint32_t request_id, int32_t code)
{
    distro_node *node = &c->nodes[server];
    c->clients[client].last_code = code;
    for (uint32_t i = 0; i < node->pending_count; i++) {
        distro_pending *p = &node->pending[i];
        if (p->client != client || p->request_id != request_id) continue;
        node->pending[i] = node->pending[--node->pending_count];   /* order is irrelevant: lookup only */
        break;
    }
    distro_client *cl = &c->clients[client];
    bool current = cl->alive && cl->in_request && cl->request_id == request_id && !cl->manual && !cl->direct;
    if (code == 200 && current && cl->op == DISTRO_OP_BEAT &&
        sim_now(c->sim) + c->client_latency_ns - cl->sent_at_ns <= CLIENT_READ_TIMEOUT_NS) {
        /* A beat answered in time: all the client does on arrival is
         * schedule its next beat one interval later.  Doing that now, for
         * the arrival instant, spares an event per beat and changes nothing
         * a run can observe: a deregistration or death in between is seen
         * by beat_fire, as it would be by the arrival. */
        cl->in_request = false;
        cl->beat_acked = c->config.light_beat_enabled;
        if (cl->registered) next_beat(c, client, c->client_latency_ns + next_beat_delay(c, client, 200));
        return;
    }
    client_event(c, c->client_latency_ns, DISTRO_KIND_CLIENT_RESPONSE, on_response,
                 pack(client, request_id, code_index(code)));
}

void distro_client_node_changing(distro_node *node)
{
    distro_cluster *c = node->cluster;
    for (uint32_t id = 0; id < c->client_count; id++) {
        const distro_client *cl = &c->clients[id];
        if (cl->beat_merged && next_start(c, cl) == node->id) unmerge(c, id);
    }
}

static int pending_cmp(const void *a, const void *b)
{
    const distro_pending *x = a, *y = b;
    if (x->sent_at_ns != y->sent_at_ns) return x->sent_at_ns < y->sent_at_ns ? -1 : 1;
    if (x->client != y->client) return x->client < y->client ? -1 : 1;
    return x->request_id < y->request_id ? -1 : x->request_id > y->request_id;
}

void distro_client_fail_pending(distro_node *node)
{
    distro_cluster *c = node->cluster;
    /* Merged beats on their way here: those still to be sent go back to
     * their timers, and those whose instant has come are sent and fail
     * below with the rest. */
    distro_client_node_changing(node);
    /* The server's sockets close: every client it was serving sees a reset
     * now, in the order the requests were sent (the order they were
     * recorded in is not that: a merged beat is recorded at its arrival,
     * and a removal moves the last entry into its place). */
    if (node->pending_count > 1) qsort(node->pending, node->pending_count, sizeof *node->pending, pending_cmp);
    for (uint32_t i = 0; i < node->pending_count; i++) {
        const distro_pending *p = &node->pending[i];
        client_event(c, 0, DISTRO_KIND_CLIENT_RESPONSE, on_response,
                     pack(p->client, p->request_id, code_index(CODE_REFUSED)));
    }
    node->pending_count = 0;
}

static void beat_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    uint32_t id = (uint32_t)arg;
    distro_client *cl = &c->clients[id];
    if (!cl->alive || !cl->registered) return;     /* removeBeatInfo or death */
    if (cl->in_request) {
        schedule_beat(c, id);                     /* busy: try again next period */
        return;
    }
    start_request(c, id, DISTRO_OP_BEAT);
}

/* Prefetch hints (sim_set_prefetch).  A beat's timer reads its client
 * first, 5 s after anything last did: the miss is the cost of the event. */
static void beat_fire_prefetch(const void *ctx, uint64_t arg)
{
    const distro_cluster *c = ctx;
    const char *cl = (const char *)&c->clients[(uint32_t)arg];
    __builtin_prefetch(cl);
    __builtin_prefetch(cl + sizeof(distro_client) / 2);
    __builtin_prefetch(cl + sizeof(distro_client) - 1);
}

/* A request reaching its server reads the key's hash (DistroFilter) and,
 * on the owner, the datum.  The client itself was read when the request
 * was sent, a millisecond ago. */
static void server_receive_prefetch(const void *ctx, uint64_t arg)
{
    const distro_node *node = ctx;
    const distro_cluster *c = node->cluster;
    uint32_t key = c->clients[(uint32_t)(arg >> 32)].key;
    __builtin_prefetch(&c->key_hash[key]);
    if (key < node->datums_cap) __builtin_prefetch(&node->datums[key]);
}

/* A merged beat reads its client (5 s cold, as a beat timer does), then
 * what a request reaching its server does; its argument has the key. */
static void beat_arrive_prefetch(const void *ctx, uint64_t arg)
{
    const distro_node *node = ctx;
    const distro_cluster *c = node->cluster;
    const char *cl = (const char *)&c->clients[(uint32_t)(arg >> 32)];
    uint32_t key = (uint32_t)arg;
    __builtin_prefetch(cl);
    __builtin_prefetch(cl + sizeof(distro_client) / 2);
    __builtin_prefetch(cl + sizeof(distro_client) - 1);
    __builtin_prefetch(&c->key_hash[key]);
    if (key < node->datums_cap) __builtin_prefetch(&node->datums[key]);
}

sim_status distro_client_set_prefetch(distro_cluster *c, sim_error *err)
{
    sim_status st = sim_set_prefetch(c->sim, beat_fire, beat_fire_prefetch, err);
    if (st == SIM_OK) st = sim_set_prefetch(c->sim, server_receive, server_receive_prefetch, err);
    return st != SIM_OK ? st : sim_set_prefetch(c->sim, beat_arrive, beat_arrive_prefetch, err);
}

static void register_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    uint32_t id = (uint32_t)arg;
    distro_client *cl = &c->clients[id];
    if (!cl->alive) return;
    /* NacosNamingService.registerInstance: addBeatInfo (first beat one
     * period later), then the register call. */
    cl->registered = true;
    truth(c, id, true);
    schedule_beat(c, id);
    start_request(c, id, DISTRO_OP_REGISTER);
}

static int kv_cmp(const void *a, const void *b)
{
    return distro_java_string_compare(((const distro_kv *)a)->key, ((const distro_kv *)b)->key);
}

sim_status distro_client_add(distro_cluster *c, const distro_client_spec *spec, sim_time_ns start_delay_ns,
                             uint32_t *id_out, sim_error *err)
{
    if (spec == NULL || spec->service == NULL || spec->ip == NULL) {
        return sim_error_set(err, SIM_ERR_INVALID, "distro_client_add", "a client needs a service and an ip");
    }
    if (spec->port > 65535) {
        return sim_error_set(err, SIM_ERR_INVALID, "distro_client_add", "port %u is above 65535", spec->port);
    }
    uint32_t instances = spec->instances > 1 ? spec->instances : 1;
    bool ipport = spec->v1_sdk && c->config.version != DISTRO_VERSION_1_4_2;
    if (instances > 1 && (c->config.version == DISTRO_VERSION_1_4_2 || ipport)) {
        return sim_error_set(err, SIM_ERR_INVALID, "distro_client_add",
                             "a 1.x client registers one instance; %u instances need a 2.x cluster", instances);
    }
    if (instances > 65536 - spec->port) {
        return sim_error_set(err, SIM_ERR_INVALID, "distro_client_add",
                             "%u instances from port %u go above port 65535", instances, spec->port);
    }
    /* Room for the client and its metadata set first, so that running out
     * of memory leaves the cluster as it was. */
    if (!SIM_VEC_RESERVE_LINES(c->clients, c->client_count, c->client_cap, 1) ||   /* a client: two whole lines */
        !SIM_VEC_RESERVE(c->beats, c->client_count, c->beats_cap, 1) ||
        !SIM_VEC_RESERVE(c->metadata_sets, c->metadata_sets_count, c->metadata_sets_cap, 1)) {
        return sim_error_set(err, SIM_ERR_NOMEM, "distro_client_add", "out of memory");
    }
    uint32_t pairs = 0;
    while (spec->metadata != NULL && spec->metadata[2 * pairs] != NULL) pairs++;
    distro_kv *kv = NULL;
    if (pairs > 0 && (kv = calloc(pairs, sizeof *kv)) == NULL) {
        return sim_error_set(err, SIM_ERR_NOMEM, "distro_client_add", "out of memory");
    }
    /* The strings, then the key last: a failure before the key leaves only
     * unused interned strings behind, which nothing can observe. */
    const char *ip = distro_intern(c, spec->ip);
    const char *cluster_name = distro_intern(c, spec->cluster_name != NULL ? spec->cluster_name : "DEFAULT");
    bool ok = ip != NULL && cluster_name != NULL;
    for (uint32_t i = 0; ok && i < pairs; i++) {
        kv[i].key = distro_intern(c, spec->metadata[2 * i]);
        kv[i].value = distro_intern(c, spec->metadata[2 * i + 1] != NULL ? spec->metadata[2 * i + 1] : "");
        ok = kv[i].key != NULL && kv[i].value != NULL;
    }
    char address[96];
    snprintf(address, sizeof address, "%s:%u", spec->ip, spec->port);
    const char *address_name = ok ? distro_intern(c, address) : NULL;
    uint32_t key = address_name == NULL ? DISTRO_NONE
                   : distro_cluster_key(c, spec->namespace_id != NULL ? spec->namespace_id : "public",
                                        spec->group != NULL ? spec->group : "DEFAULT_GROUP", spec->service);
    if (key == DISTRO_NONE) {
        free(kv);
        return sim_error_set(err, SIM_ERR_NOMEM, "distro_client_add", "out of memory");
    }
    uint32_t id = c->client_count++;
    distro_client *cl = &c->clients[id];
    memset(cl, 0, sizeof *cl);
    cl->key = key;
    cl->ip = ip;
    cl->port = spec->port;
    cl->instances = instances;
    cl->weight = spec->weight > 0 ? spec->weight : 1.0;
    cl->cluster_name = cluster_name;
    if (pairs > 0) {
        qsort(kv, pairs, sizeof *kv, kv_cmp);   /* keys are distinct: the order is total */
        c->metadata_sets[c->metadata_sets_count++] = kv;
        cl->metadata = kv;
        cl->metadata_count = pairs;
    }
    cl->address = address_name;
    cl->beat_interval_ns = spec->beat_interval_ns != 0 ? spec->beat_interval_ns : c->config.client_beat_interval_ns;
    cl->alive = true;
    cl->manual = spec->manual;
    cl->rng = sim_rng_derive(sim_seed(c->sim), SIM_STREAM_HARNESS((1ull << 40) | id));
    cl->ipport = ipport;
    cl->http_v2 = ipport && spec->http_v2;
    /* An HTTP /v2 client's one server: its first pick (start_request). */
    if (cl->http_v2) cl->try_index = (uint32_t)sim_rng_below(&cl->rng, c->n);
    if (c->config.version != DISTRO_VERSION_1_4_2) {
        /* A 2.x SDK over gRPC (distro2_sdk.c); a 1.x SDK has an SDK entry
         * without a connection, and its IP-port client (distro2_ipport.c). */
        distro2_sdk_add(c, id, start_delay_ns);
        if (ipport) (void)distro2_ipport_add(c, id);   /* out of memory: the run has failed */
    }
    if ((c->config.version == DISTRO_VERSION_1_4_2 || ipport) && !cl->manual) {
        client_event(c, start_delay_ns, DISTRO_KIND_CLIENT_TIMER, register_fire, id);
    }
    if (id_out != NULL) *id_out = id;
    return SIM_OK;
}

static sim_status client_arg(const distro_cluster *c, uint32_t client, const char *where, sim_error *err)
{
    if (client >= c->client_count) {
        return sim_error_set(err, SIM_ERR_INVALID, where, "unknown client %u (%u clients)", client, c->client_count);
    }
    return SIM_OK;
}

sim_status distro_client_deregister(distro_cluster *c, uint32_t client, sim_error *err)
{
    sim_status st = client_arg(c, client, "distro_client_deregister", err);
    if (st != SIM_OK) return st;
    unmerge(c, client);
    distro_client *cl = &c->clients[client];
    if (c->config.version != DISTRO_VERSION_1_4_2 && !cl->ipport) {
        distro2_sdk_deregister(c, client);
        return SIM_OK;
    }
    if (!cl->alive || !cl->registered) return SIM_OK;
    cl->registered = false;                       /* removeBeatInfo, then the DELETE */
    truth(c, client, false);
    start_request(c, client, DISTRO_OP_DEREGISTER);
    return SIM_OK;
}

sim_status distro_client_kill(distro_cluster *c, uint32_t client, sim_error *err)
{
    sim_status st = client_arg(c, client, "distro_client_kill", err);
    if (st != SIM_OK) return st;
    unmerge(c, client);
    if (c->config.version != DISTRO_VERSION_1_4_2 && !c->clients[client].ipport) {
        distro2_sdk_kill(c, client);
        return SIM_OK;
    }
    if (c->clients[client].alive && c->clients[client].registered) truth(c, client, false);
    c->clients[client].alive = false;
    c->clients[client].registered = false;
    c->clients[client].in_request = false;
    return SIM_OK;
}

uint32_t distro_client_count(const distro_cluster *c) { return c->client_count; }

bool distro_client_live(const distro_cluster *c, uint32_t client)
{
    SIM_ASSERT(client < c->client_count);
    return c->clients[client].alive && c->clients[client].registered;
}

uint32_t distro_client_key(const distro_cluster *c, uint32_t client)
{
    SIM_ASSERT(client < c->client_count);
    return c->clients[client].key;
}

int32_t distro_client_last_code(const distro_cluster *c, uint32_t client)
{
    SIM_ASSERT(client < c->client_count);
    return c->clients[client].last_code;
}

const char *distro_client_address(const distro_cluster *c, uint32_t client)
{
    SIM_ASSERT(client < c->client_count);
    return c->clients[client].address;
}

sim_status distro_request(distro_cluster *c, uint32_t client, uint32_t server, distro_op op, sim_error *err)
{
    sim_status st = client_arg(c, client, "distro_request", err);
    if (st != SIM_OK) return st;
    if (server >= c->n) return sim_error_set(err, SIM_ERR_INVALID, "distro_request", "unknown server %u", server);
    unmerge(c, client);
    distro_client *cl = &c->clients[client];
    cl->op = (uint8_t)op;
    cl->in_request = true;
    cl->direct = true;
    cl->request_id = (cl->request_id + 1) & REQUEST_ID_MASK;
    cl->tries = 0;
    cl->try_index = server;
    if (op == DISTRO_OP_REGISTER && !cl->registered) {
        cl->registered = true;
        truth(c, client, true);
    }
    if (op == DISTRO_OP_DEREGISTER && cl->registered) {
        cl->registered = false;
        truth(c, client, false);
    }
    call_server(c, client);
    return SIM_OK;
}
