/* distro2_events.c: the ClientEvent publisher of a Nacos 2.5.1 server, the
 * one thread that runs DistroClientDataProcessor.onEvent (NACOS-DISTRO.md
 * section 3.13).  Nacos paths: N/ = naming/src/main/java/com/alibaba/nacos/
 * naming/, at tag 2.5.1.
 *
 * NotifyCenter gives each event class a publisher, but the naming events
 * go to NamingEventPublisherFactory, which keys its publishers by the
 * enclosing class: ClientChangedEvent, ClientDisconnectEvent and
 * ClientVerifyFailedEvent (all ClientEvent) share one publisher, one queue
 * and one thread (N/core/v2/event/publisher/NamingEventPublisherFactory
 * .java:50-58, NamingEventPublisher.java:97-165).  The code that publishes
 * (a register on a gRPC thread, clientDisconnected on the connection
 * manager's, a verify callback on the Distro callback thread) hands the
 * event over and goes on; the event thread handles the queue in publish
 * order.
 *
 * Here each node has that queue.  Publishing appends to it; the queue runs
 * in a node event scheduled at the same instant, so after the engine event
 * that published (and after any other event already due at that instant,
 * such as a delay-task tick), with zero duration, in publish order.  What
 * this orders differently from handling each event inline where it was
 * published: a handler's work (a CHANGE, DELETE or ADD task) appears after
 * the publishing event has finished, so a ClientVerifyFailedEvent's ADD
 * (delay 0) published at a tick instant waits for the next tick instead of
 * going out at that one, and the handler reads the client table as it is
 * when the queue runs (syncToVerifyFailedServer looks the client up then:
 * a client removed in the same instant gets no ADD).  A crash drops the
 * queue with the process. */
#include "distro2_int.h"

#include <stdlib.h>

enum { EV_CHANGED, EV_DISCONNECT, EV_VERIFY_FAILED };

struct distro2_event {
    uint32_t conn;
    uint32_t target;             /* EV_VERIFY_FAILED */
    uint8_t kind;
    bool native;                 /* EV_CHANGED / EV_DISCONNECT: the client's isNative */
};

static void drain(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro2_node *v2 = node->v2;
    v2->events_scheduled = false;
    /* Events a handler publishes join the end of the queue and run in this
     * pass, as the thread would take them next. */
    while (v2->events_head < v2->events_len && node->running) {
        struct distro2_event e = v2->events[v2->events_head++];
        if (e.kind == EV_VERIFY_FAILED) {
            distro2_process_verify_failed(node, e.conn, e.target);
        } else {
            distro2_process_client_event(node, e.conn, e.kind == EV_DISCONNECT, e.native);
        }
        v2 = node->v2;
    }
    v2->events_head = v2->events_len = 0;
}

static void publish(distro_node *node, struct distro2_event e)
{
    distro2_node *v2 = node->v2;
    if (!SIM_VEC_RESERVE(v2->events, v2->events_len, v2->events_cap, 1)) {
        distro_fail_nomem(node->cluster, "ClientEvent publisher");
        return;
    }
    v2->events[v2->events_len++] = e;
    if (v2->events_scheduled) return;
    v2->events_scheduled = true;
    distro_timer(node, 0, DISTRO_KIND_V2_EVENT, drain, 0);
}

void distro2_on_client_event(distro_node *node, uint32_t conn, bool disconnect, bool native)
{
    publish(node, (struct distro2_event){ .conn = conn, .kind = disconnect ? EV_DISCONNECT : EV_CHANGED,
                                          .native = native });
}

void distro2_on_verify_failed(distro_node *node, uint32_t conn, uint32_t target)
{
    publish(node, (struct distro2_event){ .conn = conn, .target = target, .kind = EV_VERIFY_FAILED });
}

uint32_t distro2_events_pending(const distro_node *node)
{
    const distro2_node *v2 = node->v2;
    return v2 != NULL ? v2->events_len - v2->events_head : 0;
}

void distro2_events_free(distro2_node *v2) { free(v2->events); }
