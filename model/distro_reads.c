/* distro_reads.c: what 1.x clients read.  The server side is
 * InstanceController.list and PushService of Nacos 1.4.2; the client side
 * is NamingProxy.queryList and HostReactor (with PushReceiver) of the 1.x
 * SDK (NACOS-DISTRO.md section 1.9; section 1.7 for DistroFilter).
 *
 * The list endpoint.  GET /nacos/v1/ns/instance/list has no @CanDistro
 * (InstanceController.java:382-405): DistroFilter lets it through on
 * whichever server it reaches, and doSrvIpxt (:666-826) answers from that
 * server's own ServiceManager (ServiceManager.getService,
 * ServiceManager.java:857-861), whatever it holds: a server cut off from
 * the owner answers with what it has.  A service the server does not know
 * answers an empty host list (:689-698), as does a service with no
 * instance (:711-734).  healthyOnly is false for the SDK's calls
 * (NamingProxy.java:396-408), so unhealthy instances are listed; with the
 * default protectThreshold 0, a list with no healthy instance is answered
 * with every instance marked healthy (:748-759).  Disabled instances are
 * left out (:780).  The warm-up gate answers 503 to it like any request
 * (TrafficReviseFilter.java:74-106: a GET passes only when UP or
 * READ_ONLY).
 *
 * Server choice.  NamingProxy.reqApi (client NamingProxy.java:534-549)
 * starts at a random server of its list and tries each in turn, once round
 * the list, on any failure (refused, timed out, a non-200 answer); when all
 * fail the call throws.  The random start is drawn from the reader's own
 * stream.  The client path is distro_client.c's: a fixed 1 ms each way, a
 * paused server holds the request (the 50 s read timeout applies), a
 * crashed one refuses.
 *
 * Query readers.  getAllInstances(service, subscribe=false)
 * (NacosNamingService.java:295-310) calls
 * HostReactor.getServiceInfoDirectlyFromServer (HostReactor.java:295-302):
 * one queryList with udpPort 0, no cache, no push.  A reader here does that
 * every interval (a tick that finds the previous call still out skips).
 *
 * Subscribers.  subscribe() -> getServiceInfo (HostReactor.java:137-140,
 * :304-341): an empty ServiceInfo is created and updateServiceNow queries
 * at once with the push port; then UpdateTask runs DEFAULT_DELAY (1 s)
 * later (:126-128, :357-370) and reschedules itself (:452-491):
 *   - if a push replaced the view since its last run (the view's
 *     lastRefTime moved past the one it noted), refreshOnly: a query whose
 *     answer is dropped and whose failure is swallowed (:402-408), which
 *     only renews the push registration; otherwise updateService: query and
 *     processServiceJson (:378-394).  (A push stamps lastRefTime with the
 *     server's System.nanoTime, an answer with currentTimeMillis
 *     (PushService.java:135, InstanceController.java:819), so in Nacos the
 *     comparison also depends on the server's uptime; the intent, "a push
 *     came in", is modelled.)
 *   - a failed query (every server) or a view with no hosts counts a
 *     failure (failCount, at most 6, :439-445) and the next run is
 *     1 s << failCount later (2, 4, ... 60 s, :490); otherwise the next run
 *     is the view's cacheMillis later (10 s: the push cache millis the
 *     server answers a push-enabled query with, InstanceController.java:
 *     676-682, SwitchDomain.java:45) and failCount resets.
 * processServiceJson (:163-276) replaces the view with the answer, except
 * that with pushEmptyProtection an answer that does not validate() (no
 * host that is healthy with weight > 0, ServiceInfo.java:165-186) is
 * ignored and the old view kept (:171-174).  pushEmptyProtection is off by
 * default (NacosNamingService.java:129-137, property
 * namingPushEmptyProtection); it first appeared in 1.4.1.
 *
 * Push.  A query with udpPort > 0 registers (or refreshes) the caller as a
 * push client of that server (InstanceController.java:676-682,
 * PushService.addClient :218-237); only that server knows it.  A change of
 * a service's instance list on a server (Service.updateIPs,
 * Service.java:235-280; a health flag moved by the health channel,
 * ServiceManager.java:352-353) calls serviceChanged, which merges changes
 * while a push of the service is pending (PushService.java:373-381) and
 * pushes 1 s later (:125-179) to every client of the service that is not a
 * zombie: one whose registration is older than the push cache millis
 * (10 s) is dropped instead (:137-142, :479-481).  Since a subscriber
 * polls a random server every 10 s, a server pushes to it only when it was
 * the last one polled within those 10 s.  The push carries the server's
 * list at send time (the same doSrvIpxt, :585-591 and
 * InstanceController.java:94-123); the client's PushReceiver hands it to
 * processServiceJson and acks (PushReceiver.java:99-106).  A removal of the
 * whole datum (verify's toRemove) empties the clusters without pushing
 * (Service.onDelete, Service.java:202-207).  The server retransmits an
 * unacked push once after 10 s (PushService.java:593-632, :638-653,
 * MAX_RETRY_TIMES 1); the client path is lossless, so every push is acked
 * within 2 ms and the retransmission never fires: it is not modelled.  The
 * client's failover mode (FailoverReactor: a switch file an operator
 * writes, then answers from a disk snapshot, FailoverReactor.java:88-90,
 * :271-279) is off unless an operator turns it on, and is not modelled.
 *
 * 2.x subscribers.  A subscriber added with `grpc` (a 2.5.1 cluster) is a
 * 2.x SDK subscriber instead: distro2_subscriber.c runs its connection and
 * subscribe, distro2_push.c the server's push engine; they share this
 * file's reader table, host lists (hosts_of), view
 * (processServiceJson, whose pushEmptyProtection rule the 2.x
 * ServiceInfoHolder.processServiceInfo repeats) and push slots.  A 2.x
 * subscriber is no PushService client and never polls.
 *
 * Nothing here runs unless a reader is added: with no reader, no event is
 * scheduled and no random number drawn. */
#include "distro2_int.h"

#include <stdlib.h>
#include <string.h>

#define READ_TIMEOUT_NS (50000 * SIM_MS)          /* the 1.x client's read timeout, as distro_client.c */
#define UPDATE_DEFAULT_DELAY_NS (1000 * SIM_MS)   /* HostReactor.DEFAULT_DELAY, HostReactor.java:61 */
#define UPDATE_FAIL_LIMIT 6u                      /* UpdateTask.incFailCount, HostReactor.java:440 */
#define UPDATE_DELAY_MAX_NS (60 * UPDATE_DEFAULT_DELAY_NS)   /* HostReactor.java:490 */
#define PUSH_CACHE_MS 10000                       /* SwitchDomain.defaultPushCacheMillis, SwitchDomain.java:45 */
#define PUSH_DELAY_NS (1000 * SIM_MS)             /* PushService.java:179 */
#define REQUEST_ID_MASK 0xffffffu
#define CODE_REFUSED (-1)
#define CODE_TIMEOUT 0
#define NOT_REGISTERED INT64_MIN

_Static_assert(UPDATE_FAIL_LIMIT < 16, "1 s << failCount stays far below 2^64 ns");

typedef enum read_purpose {
    PURPOSE_QUERY,       /* a query reader's getServiceInfoDirectlyFromServer */
    PURPOSE_SUB_NOW,     /* subscribe(): updateServiceNow */
    PURPOSE_SUB_UPDATE,  /* UpdateTask: updateService */
    PURPOSE_SUB_REFRESH, /* UpdateTask: refreshOnly */
} read_purpose;

static uint64_t pack(uint32_t reader, uint32_t request_id, uint32_t extra)
{
    return ((uint64_t)reader << 32) | ((uint64_t)(request_id & REQUEST_ID_MASK) << 8) | (extra & 0xffu);
}

static void read_event(distro_cluster *c, sim_time_ns delay_ns, uint16_t kind, sim_event_fn *fn, uint64_t arg)
{
    sim_error err;
    sim_status st = sim_schedule(c->sim, delay_ns, kind, fn, c, arg, NULL, &err);
    if (st != SIM_OK) sim_fail(c->sim, &err);
}

/* --- Naming listed instances -------------------------------------------------- */

/* Room for per-key arrays up to `key`.  False when out of memory (the
 * arrays may have grown, key_cap has not). */
static bool grow_keys(distro_reads *r, uint32_t key)
{
    if (key < r->key_cap) return true;
    uint32_t cap = r->key_cap == 0 ? 16 : r->key_cap;
    while (cap <= key) cap *= 2;
    uint32_t **kc = realloc(r->key_clients, cap * sizeof *kc);
    if (kc == NULL) return false;
    r->key_clients = kc;
    uint32_t *len = realloc(r->key_clients_len, cap * sizeof *len);
    if (len == NULL) return false;
    r->key_clients_len = len;
    uint32_t *kcap = realloc(r->key_clients_cap, cap * sizeof *kcap);
    if (kcap == NULL) return false;
    r->key_clients_cap = kcap;
    uint32_t **ks = realloc(r->key_subs, cap * sizeof *ks);
    if (ks == NULL) return false;
    r->key_subs = ks;
    uint32_t *slen = realloc(r->key_subs_len, cap * sizeof *slen);
    if (slen == NULL) return false;
    r->key_subs_len = slen;
    uint32_t *scap = realloc(r->key_subs_cap, cap * sizeof *scap);
    if (scap == NULL) return false;
    r->key_subs_cap = scap;
    for (uint32_t k = r->key_cap; k < cap; k++) {
        r->key_clients[k] = NULL;
        r->key_clients_len[k] = r->key_clients_cap[k] = 0;
        r->key_subs[k] = NULL;
        r->key_subs_len[k] = r->key_subs_cap[k] = 0;
    }
    r->key_cap = cap;
    return true;
}

/* Indexes the clients added since the last call by key.  O(new clients). */
static bool index_clients(distro_cluster *c)
{
    distro_reads *r = c->reads;
    for (; r->clients_indexed < c->client_count; r->clients_indexed++) {
        uint32_t id = r->clients_indexed;
        uint32_t key = c->clients[id].key;
        if (!grow_keys(r, key)) return false;
        if (!SIM_VEC_RESERVE(r->key_clients[key], r->key_clients_len[key], r->key_clients_cap[key], 1)) return false;
        r->key_clients[key][r->key_clients_len[key]++] = id;
    }
    return true;
}

/* The answer doSrvIpxt gives from `list` (NULL: no such service), as the
 * client ids of the listed instances.  O(instances x clients of the key). */
static bool hosts_of(distro_cluster *c, uint32_t key, const distro_ilist *list, distro_read_hosts *out)
{
    out->count = 0;
    out->valid = false;
    if (list == NULL || list->count == 0) return true;
    if (!index_clients(c)) return false;
    distro_reads *r = c->reads;
    SIM_ASSERT(key < r->key_cap);
    bool any_healthy = false;
    for (uint32_t i = 0; i < list->count; i++) any_healthy |= list->inst[i].enabled && list->inst[i].healthy;
    for (uint32_t i = 0; i < list->count; i++) {
        const distro_instance *in = &list->inst[i];
        if (!in->enabled) continue;                        /* InstanceController.java:780 */
        /* protectThreshold 0: with no healthy instance every one is answered healthy (:748-759). */
        bool healthy = in->healthy || !any_healthy;
        if (healthy && in->weight > 0.0) out->valid = true; /* ServiceInfo.validate */
        uint32_t id = DISTRO_NONE;
        for (uint32_t j = 0; j < r->key_clients_len[key]; j++) {
            const distro_client *cl = &c->clients[r->key_clients[key][j]];
            if (cl->ip == in->ip && cl->port == in->port && cl->cluster_name == in->cluster) {
                id = r->key_clients[key][j];
                break;
            }
        }
        SIM_ASSERT(id != DISTRO_NONE);                     /* every instance is some client's */
        if (!SIM_VEC_RESERVE(out->clients, out->count, out->cap, 1)) return false;
        out->clients[out->count++] = id;
    }
    return true;
}

static bool hosts_copy(distro_read_hosts *dst, const distro_read_hosts *src)
{
    dst->count = 0;
    if (src->count > 0 && !SIM_VEC_RESERVE(dst->clients, dst->count, dst->cap, src->count)) return false;
    if (src->count > 0) memcpy(dst->clients, src->clients, src->count * sizeof *src->clients);
    dst->count = src->count;
    dst->valid = src->valid;
    return true;
}

static bool hosts_same(const distro_read_hosts *a, const distro_read_hosts *b)
{
    if (a->count != b->count) return false;
    for (uint32_t i = 0; i < a->count; i++) {
        bool found = false;
        for (uint32_t j = 0; j < b->count && !found; j++) found = a->clients[i] == b->clients[j];
        if (!found) return false;
    }
    return true;
}

static void report(distro_cluster *c, uint32_t reader, distro_read_source source, int32_t server, bool pushed,
                   const distro_read_hosts *hosts)
{
    if (c->observer.client_read == NULL) return;
    const distro_reader *rd = &c->reads->readers[reader];
    distro_read read = { .reader = reader, .key = rd->key, .source = source, .server = server, .pushed = pushed,
                         .clients = hosts != NULL ? hosts->clients : NULL, .count = hosts != NULL ? hosts->count : 0 };
    c->observer.client_read(c->observer.ctx, sim_now(c->sim), &read);
}

/* --- HostReactor.processServiceJson ------------------------------------------- */

/* Returns whether the view was replaced. */
static bool process_service_json(distro_cluster *c, uint32_t reader, const distro_read_hosts *hosts, int32_t server,
                                 bool pushed)
{
    distro_reader *rd = &c->reads->readers[reader];
    SIM_ASSERT(rd->subscribe);
    if (rd->protection && !hosts->valid) return false;   /* HostReactor.java:171-174: keep the old view */
    bool first = !rd->has_view;
    bool changed = first || !hosts_same(&rd->view, hosts);
    if (!hosts_copy(&rd->view, hosts)) {
        distro_fail_nomem(c, "processServiceJson");
        return false;
    }
    rd->has_view = true;
    if (changed) report(c, reader, DISTRO_READ_VIEW, server, pushed, &rd->view);
    return true;
}

/* --- NamingProxy.reqApi ------------------------------------------------------- */

static void call_server(distro_cluster *c, uint32_t reader);
static void finish(distro_cluster *c, uint32_t reader, bool ok, int32_t server);

static void start_request(distro_cluster *c, uint32_t reader, read_purpose purpose)
{
    distro_reader *rd = &c->reads->readers[reader];
    SIM_ASSERT(!rd->in_request);
    rd->in_request = true;
    rd->purpose = (uint8_t)purpose;
    rd->request_id = (rd->request_id + 1) & REQUEST_ID_MASK;
    rd->tries = 0;
    rd->try_index = (uint32_t)sim_rng_below(&rd->rng, c->n);   /* NamingProxy.java:535-536 */
    call_server(c, reader);
}

/* The low byte of an event's argument: the answer's code index (2 bits)
 * and the attempt it answers (tries < nodes <= 64: 6 bits). */
static uint32_t extra(uint32_t code_index, uint32_t attempt)
{
    SIM_ASSERT(code_index < 4);
    SIM_ASSERT(attempt < 64);
    return code_index | (attempt << 2);
}

static void on_answer(sim_engine *sim, void *ctx, uint64_t arg)
{
    distro_cluster *c = ctx;
    uint32_t reader = (uint32_t)(arg >> 32);
    uint32_t request_id = (uint32_t)(arg >> 8) & REQUEST_ID_MASK;
    uint32_t index = (uint32_t)(arg & 0x3u), attempt = (uint32_t)(arg >> 2) & 0x3fu;
    int32_t code = index == 1 ? 200 : index == 2 ? 503 : index == 3 ? CODE_REFUSED : CODE_TIMEOUT;
    distro_reader *rd = &c->reads->readers[reader];
    if (!rd->in_request || rd->request_id != request_id || rd->tries != attempt) return;   /* stale */
    uint32_t server = rd->waiting_on;
    rd->waiting_on = DISTRO_NONE;
    if (sim_now(sim) - rd->sent_at_ns > READ_TIMEOUT_NS) code = CODE_TIMEOUT;
    if (code == 200) {
        finish(c, reader, true, (int32_t)server);
        return;
    }
    /* Any other outcome: the next server, once round the list (NamingProxy.java:538-549). */
    rd->tries++;
    if (rd->tries >= c->n) {
        finish(c, reader, false, -1);
        return;
    }
    rd->try_index = (rd->try_index + 1) % c->n;
    call_server(c, reader);
}

static uint32_t code_index(int32_t code)
{
    switch (code) {
    case 200: return 1;
    case 503: return 2;
    case CODE_REFUSED: return 3;
    default: return 0;
    }
}

static void answer(distro_cluster *c, uint32_t reader, int32_t code)
{
    const distro_reader *rd = &c->reads->readers[reader];
    read_event(c, c->client_latency_ns, DISTRO_KIND_READ_RESPONSE, on_answer,
               pack(reader, rd->request_id, extra(code_index(code), rd->tries)));
}

/* The list request reached server `node`: TrafficReviseFilter, then
 * InstanceController.list -> doSrvIpxt on the local store. */
static void list_receive(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    uint32_t reader = (uint32_t)(arg >> 32);
    uint32_t request_id = (uint32_t)(arg >> 8) & REQUEST_ID_MASK;
    uint32_t attempt = (uint32_t)(arg >> 2) & 0x3fu;
    distro_reader *rd = &c->reads->readers[reader];
    if (!rd->in_request || rd->request_id != request_id || rd->tries != attempt) return;   /* the client gave up on it */
    SIM_ASSERT(rd->waiting_on == node->id);
    if (!node->status_up) {
        distro_counters_of(node)->requests_503++;
        if (c->observer.answered_503 != NULL) c->observer.answered_503(c->observer.ctx, sim_now(c->sim), node->id, UINT32_MAX);
        answer(c, reader, 503);
        return;
    }
    if (rd->subscribe) {
        /* udpPort > 0: addClient / refresh (InstanceController.java:676-682). */
        c->reads->push_ref_ms[(size_t)node->id * c->reads->push_ref_cap + reader] = distro_now_ms(node);
    }
    if (!hosts_of(c, rd->key, distro_store_get(node, rd->key), &rd->answer)) {
        distro_fail_nomem(c, "instance list");
        return;
    }
    c->reads->answers++;
    answer(c, reader, 200);
}

static void read_timeout(sim_engine *sim, void *ctx, uint64_t arg)
{
    on_answer(sim, ctx, (arg & ~(uint64_t)0x3) | (uint64_t)code_index(CODE_TIMEOUT));
}

static void call_server(distro_cluster *c, uint32_t reader)
{
    distro_reader *rd = &c->reads->readers[reader];
    uint32_t server = rd->try_index;
    SIM_ASSERT(server < c->n);
    rd->sent_at_ns = sim_now(c->sim);
    rd->waiting_on = server;
    sim_node_state state = sim_node_state_get(c->sim, server);
    if (state == SIM_NODE_DOWN || !c->nodes[server].running) {
        read_event(c, 0, DISTRO_KIND_READ_RESPONSE, on_answer,
                   pack(reader, rd->request_id, extra(code_index(CODE_REFUSED), rd->tries)));
        return;
    }
    uint64_t arg = pack(reader, rd->request_id, extra(0, rd->tries));
    distro_timer(&c->nodes[server], c->client_latency_ns, DISTRO_KIND_READ_REQUEST, list_receive, arg);
    if (state == SIM_NODE_PAUSED) read_event(c, READ_TIMEOUT_NS, DISTRO_KIND_READ_TIMER, read_timeout, arg);
}

/* --- The readers' timers ---------------------------------------------------------- */

static void query_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    uint32_t reader = (uint32_t)arg;
    distro_reader *rd = &c->reads->readers[reader];
    read_event(c, rd->interval_ns, DISTRO_KIND_READ_TIMER, query_fire, reader);
    if (!rd->in_request) start_request(c, reader, PURPOSE_QUERY);
}

static void update_task(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    uint32_t reader = (uint32_t)arg;
    distro_reader *rd = &c->reads->readers[reader];
    SIM_ASSERT(rd->subscribe);
    SIM_ASSERT(!rd->in_request);   /* UpdateTask runs one at a time and reschedules after its query */
    /* HostReactor.java:463-470: a view a push replaced is not overwritten by a poll. */
    start_request(c, reader, rd->pushed_since_task ? PURPOSE_SUB_REFRESH : PURPOSE_SUB_UPDATE);
}

static void subscribe_fire(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    start_request(c, (uint32_t)arg, PURPOSE_SUB_NOW);
}

static void finish(distro_cluster *c, uint32_t reader, bool ok, int32_t server)
{
    distro_reader *rd = &c->reads->readers[reader];
    rd->in_request = false;
    switch ((read_purpose)rd->purpose) {
    case PURPOSE_QUERY:
        report(c, reader, ok ? DISTRO_READ_QUERY : DISTRO_READ_FAILED, server, false, ok ? &rd->answer : NULL);
        return;
    case PURPOSE_SUB_NOW:
        if (ok) (void)process_service_json(c, reader, &rd->answer, server, false);
        if (!rd->has_view) {
            /* Failed, or ignored by the protection: the empty ServiceInfo
             * getServiceInfo put in the map stays, and the application
             * reads no hosts (HostReactor.java:314-321). */
            distro_read_hosts none = { 0 };
            rd->has_view = true;
            report(c, reader, DISTRO_READ_VIEW, -1, false, &none);
        }
        read_event(c, UPDATE_DEFAULT_DELAY_NS, DISTRO_KIND_READ_TIMER, update_task, reader);
        return;
    case PURPOSE_SUB_UPDATE:
    case PURPOSE_SUB_REFRESH: {
        bool failed = false;
        if (rd->purpose == PURPOSE_SUB_UPDATE) {
            if (ok) {
                (void)process_service_json(c, reader, &rd->answer, server, false);
            } else {
                failed = true;   /* updateService threw: incFailCount (HostReactor.java:486-488) */
            }
        }
        rd->pushed_since_task = false;   /* lastRefTime = serviceObj.getLastRefTime() (:472) */
        sim_time_ns delay = UPDATE_DEFAULT_DELAY_NS;
        if (failed || rd->view.count == 0) {
            if (rd->fail_count < UPDATE_FAIL_LIMIT) rd->fail_count++;
        } else {
            delay = PUSH_CACHE_MS * SIM_MS;   /* serviceObj.getCacheMillis() */
            rd->fail_count = 0;
        }
        delay <<= rd->fail_count;
        if (delay > UPDATE_DELAY_MAX_NS) delay = UPDATE_DELAY_MAX_NS;
        read_event(c, delay, DISTRO_KIND_READ_TIMER, update_task, reader);
        return;
    }
    }
    SIM_ASSERT(0 && "unknown read purpose");
}

/* --- PushService ------------------------------------------------------------------ */

static void push_arrive(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    distro_reads *r = c->reads;
    SIM_ASSERT(arg < r->push_cap);
    distro_read_push *p = &r->pushes[arg];
    SIM_ASSERT(p->reader != DISTRO_NONE);
    uint32_t reader = p->reader;
    /* PushReceiver: processServiceJson, then the ack (PushReceiver.java:101-106). */
    if (process_service_json(c, reader, &p->hosts, (int32_t)p->server, true)) {
        r->readers[reader].pushed_since_task = true;
    }
    p->reader = DISTRO_NONE;
    r->push_count--;
}

static bool push_slot(distro_reads *r, uint32_t *slot_out)
{
    if (r->push_count == r->push_cap) {
        uint32_t cap = r->push_cap == 0 ? 8 : r->push_cap * 2;
        distro_read_push *grown = realloc(r->pushes, cap * sizeof *grown);
        if (grown == NULL) return false;
        memset(grown + r->push_cap, 0, (cap - r->push_cap) * sizeof *grown);
        for (uint32_t i = r->push_cap; i < cap; i++) grown[i].reader = DISTRO_NONE;
        r->pushes = grown;
        r->push_cap = cap;
    }
    for (uint32_t i = 0; i < r->push_cap; i++) {   /* O(slots): pushes in flight are few */
        if (r->pushes[i].reader == DISTRO_NONE) {
            *slot_out = i;
            return true;
        }
    }
    SIM_ASSERT(0 && "a free push slot exists");
    return false;
}

/* The push task of `key` on `node` (PushService.java:125-179). */
static void push_fire(sim_engine *sim, void *ctx, uint64_t key)
{
    (void)sim;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    distro_reads *r = c->reads;
    SIM_ASSERT(key < r->push_pending_cap);
    r->push_pending[(size_t)node->id * r->push_pending_cap + key] = false;   /* futureMap.remove */
    int64_t now_ms = distro_now_ms(node);
    for (uint32_t i = 0; i < r->key_subs_len[key]; i++) {
        uint32_t reader = r->key_subs[key][i];
        int64_t *ref = &r->push_ref_ms[(size_t)node->id * r->push_ref_cap + reader];
        if (*ref == NOT_REGISTERED) continue;
        if (now_ms - *ref > PUSH_CACHE_MS) {   /* PushClient.zombie(): dropped */
            *ref = NOT_REGISTERED;
            continue;
        }
        uint32_t slot = 0;
        if (!push_slot(r, &slot)) {
            distro_fail_nomem(c, "push");
            return;
        }
        distro_read_push *p = &r->pushes[slot];
        p->reader = reader;
        p->server = node->id;
        p->conn = DISTRO_NONE;
        if (!hosts_of(c, (uint32_t)key, distro_store_get(node, (uint32_t)key), &p->hosts)) {
            p->reader = DISTRO_NONE;
            distro_fail_nomem(c, "push");
            return;
        }
        r->push_count++;
        r->pushes_sent++;
        read_event(c, c->client_latency_ns, DISTRO_KIND_PUSH, push_arrive, slot);
    }
}

void distro_reads_service_changed(distro_node *node, uint32_t key)
{
    distro_cluster *c = node->cluster;
    distro_reads *r = c->reads;
    if (r == NULL || key >= r->key_cap || r->key_subs_len[key] == 0) return;   /* nobody subscribes: nothing to push */
    if (!node->running) return;
    if (key >= r->push_pending_cap) {
        uint32_t cap = r->key_cap;
        bool *grown = calloc((size_t)c->n * cap, sizeof *grown);
        if (grown == NULL) {
            distro_fail_nomem(c, "serviceChanged");
            return;
        }
        for (uint32_t n = 0; n < c->n && r->push_pending != NULL; n++) {
            memcpy(grown + (size_t)n * cap, r->push_pending + (size_t)n * r->push_pending_cap,
                   r->push_pending_cap * sizeof *grown);
        }
        free(r->push_pending);
        r->push_pending = grown;
        r->push_pending_cap = cap;
    }
    bool *pending = &r->push_pending[(size_t)node->id * r->push_pending_cap + key];
    if (*pending) return;   /* merged into the push already scheduled (PushService.java:374-378) */
    *pending = true;
    distro_timer(node, PUSH_DELAY_NS, DISTRO_KIND_PUSH, push_fire, key);
}

/* --- Shared with the 2.x subscribers (distro2_subscriber.c, distro2_push.c) -------- */

bool distro_reads_hosts_of(distro_cluster *c, uint32_t key, const distro_ilist *list, distro_read_hosts *out)
{
    return hosts_of(c, key, list, out);
}

bool distro_reads_process_view(distro_cluster *c, uint32_t reader, const distro_read_hosts *hosts, int32_t server,
                               bool pushed)
{
    return process_service_json(c, reader, hosts, server, pushed);
}

void distro_reads_report_no_view(distro_cluster *c, uint32_t reader)
{
    distro_reader *rd = &c->reads->readers[reader];
    SIM_ASSERT(!rd->has_view);
    distro_read_hosts none = { 0 };
    rd->has_view = true;
    report(c, reader, DISTRO_READ_VIEW, -1, false, &none);
}

/* NamingPushRequestHandler: processServiceInfo, then the ack.  A push
 * whose connection broke on the way is lost with it. */
static void grpc_push_arrive(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    distro_cluster *c = ctx;
    distro_reads *r = c->reads;
    SIM_ASSERT(arg < r->push_cap);
    distro_read_push *p = &r->pushes[arg];
    SIM_ASSERT(p->reader != DISTRO_NONE && p->conn != DISTRO_NONE);
    const distro_reader *rd = &r->readers[p->reader];
    if (rd->connected && rd->conn == p->conn) {
        (void)process_service_json(c, p->reader, &p->hosts, (int32_t)p->server, true);
    }
    p->reader = DISTRO_NONE;
    r->push_count--;
}

void distro_reads_grpc_push(distro_node *node, uint32_t reader, uint32_t conn)
{
    distro_cluster *c = node->cluster;
    distro_reads *r = c->reads;
    uint32_t slot = 0;
    if (!push_slot(r, &slot)) {
        distro_fail_nomem(c, "grpc push");
        return;
    }
    distro_read_push *p = &r->pushes[slot];
    p->reader = reader;
    p->server = node->id;
    p->conn = conn;
    uint32_t key = r->readers[reader].key;
    if (!hosts_of(c, key, distro_store_get(node, key), &p->hosts)) {
        p->reader = DISTRO_NONE;
        distro_fail_nomem(c, "grpc push");
        return;
    }
    r->push_count++;
    r->grpc_pushes++;
    read_event(c, c->client_latency_ns, DISTRO_KIND_PUSH, grpc_push_arrive, slot);
}

/* --- Server crashes ----------------------------------------------------------------- */

void distro_reads_node_reset(distro_node *node)
{
    distro_reads *r = node->cluster->reads;
    if (r == NULL) return;
    /* PushService's clientMap and futureMap are in memory: gone. */
    for (uint32_t i = 0; i < r->push_ref_cap && r->push_ref_ms != NULL; i++) {
        r->push_ref_ms[(size_t)node->id * r->push_ref_cap + i] = NOT_REGISTERED;
    }
    for (uint32_t k = 0; k < r->push_pending_cap && r->push_pending != NULL; k++) {
        r->push_pending[(size_t)node->id * r->push_pending_cap + k] = false;
    }
}

void distro_reads_node_crashed(distro_node *node)
{
    distro_cluster *c = node->cluster;
    distro_reads *r = c->reads;
    if (r == NULL) return;
    /* The requests it held are reset, in reader order. */
    for (uint32_t i = 0; i < r->reader_count; i++) {
        distro_reader *rd = &r->readers[i];
        if (rd->in_request && rd->waiting_on == node->id) {
            read_event(c, 0, DISTRO_KIND_READ_RESPONSE, on_answer,
                       pack(i, rd->request_id, extra(code_index(CODE_REFUSED), rd->tries)));
        }
    }
}

/* --- Life cycle ---------------------------------------------------------------------- */

static bool grow_push_refs(distro_cluster *c, uint32_t cap)
{
    distro_reads *r = c->reads;
    int64_t *grown = malloc((size_t)c->n * cap * sizeof *grown);
    if (grown == NULL) return false;
    for (uint32_t n = 0; n < c->n; n++) {
        for (uint32_t i = 0; i < cap; i++) {
            grown[(size_t)n * cap + i] = i < r->push_ref_cap ? r->push_ref_ms[(size_t)n * r->push_ref_cap + i]
                                                             : NOT_REGISTERED;
        }
    }
    free(r->push_ref_ms);
    r->push_ref_ms = grown;
    r->push_ref_cap = cap;
    return true;
}

sim_status distro_reader_add(distro_cluster *c, const distro_reader_spec *spec, sim_time_ns start_delay_ns,
                             uint32_t *id_out, sim_error *err)
{
    if (spec == NULL || spec->key >= c->key_count) {
        return sim_error_set(err, SIM_ERR_INVALID, "distro_reader_add", "a reader needs a known key");
    }
    if (!spec->subscribe && spec->interval_ns == 0) {
        return sim_error_set(err, SIM_ERR_INVALID, "distro_reader_add", "a query reader needs an interval above 0");
    }
    if (c->reads == NULL && (c->reads = calloc(1, sizeof *c->reads)) == NULL) {
        return sim_error_set(err, SIM_ERR_NOMEM, "distro_reader_add", "out of memory");
    }
    distro_reads *r = c->reads;
    if (!index_clients(c) || !SIM_VEC_RESERVE(r->readers, r->reader_count, r->reader_cap, 1)) {
        return sim_error_set(err, SIM_ERR_NOMEM, "distro_reader_add", "out of memory");
    }
    if (r->reader_cap > r->push_ref_cap && !grow_push_refs(c, r->reader_cap)) {
        return sim_error_set(err, SIM_ERR_NOMEM, "distro_reader_add", "out of memory");
    }
    if (!grow_keys(r, spec->key)) return sim_error_set(err, SIM_ERR_NOMEM, "distro_reader_add", "out of memory");
    uint32_t id = r->reader_count;
    if (spec->grpc && (!spec->subscribe || c->config.version == DISTRO_VERSION_1_4_2)) {
        return sim_error_set(err, SIM_ERR_INVALID, "distro_reader_add", "a gRPC reader is a subscriber of a 2.x cluster");
    }
    bool udp_push = spec->subscribe && !spec->grpc;   /* a 2.x subscriber is no PushService client */
    if (udp_push &&
        !SIM_VEC_RESERVE(r->key_subs[spec->key], r->key_subs_len[spec->key], r->key_subs_cap[spec->key], 1)) {
        return sim_error_set(err, SIM_ERR_NOMEM, "distro_reader_add", "out of memory");
    }
    if (udp_push) r->key_subs[spec->key][r->key_subs_len[spec->key]++] = id;
    r->reader_count++;
    distro_reader *rd = &r->readers[id];
    memset(rd, 0, sizeof *rd);
    rd->key = spec->key;
    rd->subscribe = spec->subscribe;
    rd->protection = spec->push_empty_protection;
    rd->interval_ns = spec->interval_ns;
    rd->waiting_on = DISTRO_NONE;
    rd->rng = sim_rng_derive(sim_seed(c->sim), SIM_STREAM_HARNESS((2ull << 40) | id));
    if (spec->grpc) {
        distro2_subscriber_start(c, id, start_delay_ns);
    } else {
        read_event(c, start_delay_ns, DISTRO_KIND_READ_TIMER, spec->subscribe ? subscribe_fire : query_fire, id);
    }
    if (id_out != NULL) *id_out = id;
    return SIM_OK;
}

void distro_reads_destroy(distro_cluster *c)
{
    distro_reads *r = c->reads;
    if (r == NULL) return;
    for (uint32_t i = 0; i < r->reader_count; i++) {
        free(r->readers[i].answer.clients);
        free(r->readers[i].view.clients);
    }
    for (uint32_t k = 0; k < r->key_cap; k++) {
        free(r->key_clients[k]);
        free(r->key_subs[k]);
    }
    for (uint32_t i = 0; i < r->push_cap; i++) free(r->pushes[i].hosts.clients);
    free(r->pushes);
    free(r->readers);
    free(r->key_clients);
    free(r->key_clients_len);
    free(r->key_clients_cap);
    free(r->key_subs);
    free(r->key_subs_len);
    free(r->key_subs_cap);
    free(r->push_ref_ms);
    free(r->push_pending);
    free(r);
    c->reads = NULL;
}

/* --- Invariants (distro_check.c runs this after reader events) ------------------- */

sim_status distro_reads_check(const distro_cluster *c, sim_error *err)
{
    const distro_reads *r = c->reads;
    if (r == NULL) return SIM_OK;
    for (uint32_t i = 0; i < r->reader_count; i++) {
        const distro_reader *rd = &r->readers[i];
        /* [reads-request] a reader waits on a server only inside a request
         * (on_answer lets go of it before finish ends the request). */
        if (!rd->in_request && rd->waiting_on != DISTRO_NONE) {
            return sim_error_set(err, SIM_ERR_STATE, "distro_check", "reads: [reads-request] reader %u waits on "
                                 "server %u outside a request", i, rd->waiting_on);
        }
        if (rd->waiting_on != DISTRO_NONE && rd->waiting_on >= c->n) {
            return sim_error_set(err, SIM_ERR_STATE, "distro_check", "reads: [reads-request] reader %u waits on "
                                 "server %u of %u", i, rd->waiting_on, c->n);
        }
        /* [reads-view] only a subscriber has a view, and none before its first query ends. */
        if ((!rd->subscribe || !rd->has_view) && rd->view.count != 0) {
            return sim_error_set(err, SIM_ERR_STATE, "distro_check", "reads: [reads-view] reader %u lists %u hosts "
                                 "without a view", i, rd->view.count);
        }
    }
    /* [reads-push-slots] push_count counts the pushes in flight. */
    uint32_t used = 0;
    for (uint32_t i = 0; i < r->push_cap; i++) used += r->pushes[i].reader != DISTRO_NONE;
    if (used != r->push_count) {
        return sim_error_set(err, SIM_ERR_STATE, "distro_check", "reads: [reads-push-slots] %u slots in use, "
                             "push_count %u", used, r->push_count);
    }
    return SIM_OK;
}

uint32_t distro_reader_count(const distro_cluster *c) { return c->reads != NULL ? c->reads->reader_count : 0; }

uint32_t distro_reader_view_count(const distro_cluster *c, uint32_t reader)
{
    SIM_ASSERT(reader < distro_reader_count(c));
    return c->reads->readers[reader].view.count;
}

bool distro_reader_view_lists(const distro_cluster *c, uint32_t reader, uint32_t client)
{
    SIM_ASSERT(reader < distro_reader_count(c));
    const distro_read_hosts *v = &c->reads->readers[reader].view;
    for (uint32_t i = 0; i < v->count; i++) {
        if (v->clients[i] == client) return true;
    }
    return false;
}

uint64_t distro_reads_pushes(const distro_cluster *c) { return c->reads != NULL ? c->reads->pushes_sent : 0; }
uint64_t distro_reads_grpc_pushes(const distro_cluster *c) { return c->reads != NULL ? c->reads->grpc_pushes : 0; }
uint64_t distro_reads_grpc_subscribes(const distro_cluster *c)
{
    return c->reads != NULL ? c->reads->grpc_subscribes : 0;
}
uint64_t distro_reads_answers(const distro_cluster *c) { return c->reads != NULL ? c->reads->answers : 0; }
