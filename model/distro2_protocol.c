/* distro2_protocol.c: DistroProtocol of a Nacos 2.5.1 server: what starts
 * with the node, what a crash takes, and which component answers which
 * cluster request (NACOS-DISTRO.md sections 1.1 and 3.9).
 *
 * Start order (C/distributed/distro/DistroProtocol.java:59-90 and the
 * beans before it): members from cluster.conf and DistroMapper (shared
 * with 1.4.2: distro_member.c, distro_mapper.c), the expired-client
 * cleaner, the delay-task engine, the cluster RPC clients (which, once
 * each has had its first connect round, start the load, the verify timer,
 * the connection ejector and the member reports: distro2_rpc.c).
 *
 * "Server is starting" (NACOS-DISTRO.md section 3.9, "Starting").  The
 * gRPC server listens from the Spring context's refresh, but until
 * StartingApplicationListener.started sets ApplicationUtils.isStarted
 * (core/.../listener/StartingApplicationListener.java:130, 2.5.1: once
 * every bean is built) GrpcRequestAcceptor answers every request, server
 * checks included, with an ErrorResponse "Server is starting"
 * (core/.../remote/grpc/GrpcRequestAcceptor.java:88-99), and the bi-stream
 * setup of an SDK connection is closed (GrpcBiStreamRequestAcceptor.java
 * :130-134).  The beans include ClusterRpcClientProxy, whose @PostConstruct
 * init starts one RpcClient per member synchronously (ClusterRpcClientProxy
 * .java:76-101, RpcClient.start's connect round), and DistroProtocol,
 * whose constructor only submits the load and schedules verify
 * (DistroProtocol.java:59-91): the node is started when the connect round
 * ends, the instant its load begins, and the load's outcome does not
 * delay it.  Meanwhile peers' RPC clients cannot connect to it (their
 * server check fails), so they sync nothing to it (retried every 3 s), and
 * an ErrorResponse to a VERIFY repairs nothing (DistroClientTransportAgent
 * .java:301-303). */
#include "distro2_int.h"

#include <stdlib.h>

void distro2_node_start(distro_node *node)
{
    distro_cluster *c = node->cluster;
    distro2_node *v2 = calloc(1, sizeof *v2);
    distro2_rpc *rpc = calloc(c->n, sizeof *rpc);
    if (v2 == NULL || rpc == NULL) {
        free(v2);
        free(rpc);
        distro_fail_nomem(c, "distro v2 start");
        return;
    }
    v2->rpc = rpc;
    v2->loaded_from = DISTRO_NONE;
    v2->started_ns = sim_now(c->sim);
    node->v2 = v2;
    if (!distro3_node_start(node)) {   /* 3.0.3's member versions and identity check */
        distro_fail_nomem(c, "distro v3 start");
        return;
    }
    node->tasks_free = DISTRO_NONE;   /* 1.4.2's delay-task engine stays empty */
    distro_member_start(node);
    distro_mapper_init(node);
    distro2_client_cleaner_start(node);
    distro2_sync_start(node);
    distro2_rpc_start(node);
}

/* A peer's gRPC client hears of the broken stream on its own threads: an
 * event of that node, which the engine holds in its backlog while the node
 * is paused (its kernel took the FIN; its process runs at resume). */
static void stream_broken(sim_engine *sim, void *ctx, uint64_t peer)
{
    (void)sim;
    distro_node *node = ctx;
    if (node->running) distro2_rpc_stream_error(node, (uint32_t)peer);
}

void distro2_node_crashed(distro_node *node)
{
    distro_cluster *c = node->cluster;
    distro3_node_crashed(node);   /* 3.0.3: a node set to upgrade restarts on the new release */
    distro2_sdk_server_crashed(c, node->id);
    /* Every peer's RPC client to it sees its stream break, if the kernel's FIN
     * can reach it; an isolated peer finds out by its keep-alive. */
    for (uint32_t p = 0; p < c->n; p++) {
        if (p == node->id || !c->nodes[p].running || c->nodes[p].v2 == NULL) continue;
        if (sim_net_reachable(c->sim, node->id, p)) {
            distro_timer(&c->nodes[p], 0, DISTRO_KIND_V2_RPC, stream_broken, node->id);   /* the FIN arrives */
        }
    }
}

void distro2_node_free(distro2_node *v2)
{
    if (v2 == NULL) return;
    distro2_push_free(v2);
    distro2_events_free(v2);
    for (uint32_t k = 0; k < v2->keys_cap; k++) free(v2->key_conns[k]);
    free(v2->key_conns);
    free(v2->key_conns_len);
    free(v2->key_conns_cap);
    free(v2->sdk_pubs);
    free(v2->clients);
    free(v2->tasks);
    free(v2->task_keys);
    free(v2->task_slots);
    free(v2->rpc);
    free(v2->member_version);
    distro2_workers_free(v2->workers);
    free(v2);
}

void distro2_node_started(distro_node *node)
{
    node->v2->started = true;
}

void distro2_dispatch_request(distro_node *node, const sim_message *msg, distro_token token)
{
    if (node->v2 == NULL) return;   /* a 1.4.2 node has no gRPC handler: never answers */
    uint16_t type = msg->type;
    if (!node->v2->started) {
        /* ErrorResponse(INVALID_SERVER_STATUS, "Server is starting") to any
         * request: each 2.x request type's response type follows it. */
        distro_msg *resp = distro_msg_new(node->cluster, (uint16_t)(type + 1), 0);
        if (resp == NULL) {
            distro_fail_nomem(node->cluster, "server is starting");
            return;
        }
        resp->code = DISTRO2_CODE_ERROR;
        distro_counters_of(node)->v2_starting_refused++;
        distro_reply(node, token, (uint16_t)(type + 1), 60u, resp);
        return;
    }
    /* After the start check: GrpcRequestAcceptor answers "starting" before
     * RequestHandler.handleRequest runs its filters. */
    if (distro3_filter(node, msg, token)) return;   /* 3.0.3: RemoteRequestAuthFilter answered NO_RIGHT */
    if (type == DISTRO_MSG_V2_SYNC) distro2_sync_on_request(node, msg, token);
    else if (type == DISTRO_MSG_V2_VERIFY) distro2_verify_on_request(node, msg, token);
    else if (type == DISTRO_MSG_V2_SNAPSHOT) distro2_load_on_snapshot(node, msg, token);
    else if (type == DISTRO_MSG_V2_CHECK) distro2_rpc_on_check(node, msg, token);
    else if (type == DISTRO_MSG_V2_REPORT) distro2_member_on_report(node, msg, token);
    else SIM_ASSERT(0 && "not a 2.x request");
}
