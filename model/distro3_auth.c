/* distro3_auth.c: what Nacos 3.0.3 adds to 2.5.1's Distro, the inner-API
 * server identity check (NACOS-DISTRO.md section 3.14).  Paths: C/ =
 * core/src/main/java/com/alibaba/nacos/core/, line numbers at 3.0.3.
 *
 * Which requests.  DistroDataRequestHandler.handle (sync, verify,
 * snapshot; naming/.../remote/rpc/handler/DistroDataRequestHandler.java:52)
 * and MemberReportHandler.handle (C/cluster/remote/MemberReportHandler
 * .java:54) carry @Secured(apiType = INNER_API); the health check
 * (ServerCheckRequest) is answered before any filter and is not checked.
 *
 * When.  InnerApiAuthEnabled.doCheck (C/auth/InnerApiAuthEnabled.java
 * :68-81) runs every 3 s at a fixed rate from the start and switches the
 * check on, for good, once every member of the node's list (itself
 * included) has an extend-info version starting with "3.".  A node knows a
 * peer's version only from that peer's member report (MemberReportHandler
 * -> ServerMemberManager.update -> MemberUtil.copy of extendInfo,
 * MemberUtil.java:63-71) or from the answer to its own report
 * (reportByGrpc -> MemberUtil.onSuccess with the answering node,
 * ServerMemberManager.java:632-633, MemberUtil.java:160-171): until then
 * the version is blank and the check stays off.  A 2.5.1 member (a cluster
 * mid-upgrade) keeps it off on every node.  A restart forgets what the
 * node had learned; a node set to upgrade comes back on its new release
 * (distro3_node_crashed), so a rolling restart is a rolling upgrade.
 *
 * What.  RemoteRequestAuthFilter.filter (C/auth/RemoteRequestAuthFilter
 * .java:68-133): an INNER_API request passes while the receiver's check is
 * off (:76-78); else AbstractProtocolAuthService.checkServerIdentity
 * (auth/.../AbstractProtocolAuthService.java:96-109): a blank identity key
 * or value on the receiver is FAIL, and the request is answered with the
 * handler's default response carrying NO_RIGHT (resultCode FAIL, :88-91);
 * the sender's identity header (its own key and value, ClusterRpcClientProxy
 * .java:255-258) equal to the receiver's is MATCHED, a pass; anything else
 * is noMatched (DefaultChecker.java:37-42), which passes when the auth
 * plugin is disabled (nacos.core.auth.enabled=false, :97-99).
 *
 * What the sender makes of a NO_RIGHT answer: a DistroDataResponse with
 * FAIL, exactly as 2.5.1 treats a FAIL (model/distro2_sync.c, verify.c,
 * load.c): a sync retries every 3 s, each verify item raises
 * ClientVerifyFailedEvent and an ADD that fails in turn, a snapshot tries
 * the next peer; a MemberReportResponse with FAIL is MemberUtil.onFail
 * (ServerMemberManager.java:634-635). */
#include "distro2_int.h"

#include <stdlib.h>

#define RESP_BYTES 60u

/* The version a node reports in its member extend-info: distro_version + 1
 * (0 is blank, never sent). */
uint8_t distro3_reported_version(const distro_node *node)
{
    return (uint8_t)(distro_config_node_version(&node->cluster->config, node->id) + 1u);
}

bool distro3_node_is3(const distro_node *node)
{
    return distro_config_node_version(&node->cluster->config, node->id) == DISTRO_VERSION_3_0_3;
}

void distro3_version_learned(distro_node *node, uint32_t peer, uint8_t version)
{
    distro2_node *v2 = node->v2;
    if (v2 == NULL || v2->member_version == NULL || peer >= node->cluster->n || version == 0) return;
    v2->member_version[peer] = version;
}

/* "version.startsWith("3.")": 3.0.3 is the one 3.x release modelled. */
static bool is_3x(uint8_t reported) { return reported == DISTRO_VERSION_3_0_3 + 1u; }

/* InnerApiAuthEnabled.doCheck: every member, self included, reports 3.x. */
static void inner_api_check(sim_engine *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    distro_node *node = ctx;
    distro_cluster *c = node->cluster;
    distro2_node *v2 = node->v2;
    if (v2->inner_api_auth) return;   /* enabled: the check returns at once, for good */
    uint32_t *peers = calloc(c->n, sizeof *peers);
    if (peers == NULL) {
        distro_fail_nomem(c, "inner api auth check");
        return;
    }
    uint32_t count = distro_member_all_without_self(node, peers);
    bool all = is_3x(distro3_reported_version(node));
    for (uint32_t i = 0; all && i < count; i++) all = is_3x(v2->member_version[peers[i]]);
    free(peers);
    if (all) {
        v2->inner_api_auth = true;
        return;
    }
    distro_timer(node, c->config.v3.inner_auth_check_ns, DISTRO_KIND_V2_REPORT, inner_api_check, 0);
}

bool distro3_node_start(distro_node *node)
{
    distro2_node *v2 = node->v2;
    v2->member_version = calloc(node->cluster->n, sizeof *v2->member_version);
    if (v2->member_version == NULL) return false;
    v2->member_version[node->id] = distro3_reported_version(node);
    if (distro3_node_is3(node)) distro_timer(node, 0, DISTRO_KIND_V2_REPORT, inner_api_check, 0);
    return true;
}

void distro3_node_crashed(distro_node *node)
{
    /* A rolling upgrade: the process that comes back runs the new release
     * (the cluster's copy of the settings is the cluster's to change). */
    distro3_config *v3 = &node->cluster->config.v3;
    if (node->id >= DISTRO_NODE_SETTINGS_MAX || v3->node_upgrade[node->id] == 0) return;
    v3->node_version[node->id] = v3->node_upgrade[node->id];
    v3->node_upgrade[node->id] = 0;
}

/* RemoteRequestAuthFilter for an INNER_API request from `sender`: true
 * when it passes to the handler. */
static bool identity_passes(const distro_node *node, uint32_t sender)
{
    const distro_config *cfg = &node->cluster->config;
    uint32_t own = distro_config_node_identity(cfg, node->id);
    if (own == 0) return false;                                        /* invalid server identity: FAIL */
    if (distro_config_node_identity(cfg, sender) == own) return true;   /* MATCHED */
    return !cfg->v3.auth_enabled;                                      /* noMatched: enableAuth decides */
}

bool distro3_filter(distro_node *node, const sim_message *msg, distro_token token)
{
    if (!distro3_node_is3(node) || !node->v2->inner_api_auth) return false;   /* 2.5.1, or not all 3.x yet */
    uint16_t type = msg->type, resp_type;
    if (type == DISTRO_MSG_V2_SYNC) resp_type = DISTRO_MSG_V2_SYNC_RESP;
    else if (type == DISTRO_MSG_V2_VERIFY) resp_type = DISTRO_MSG_V2_VERIFY_RESP;
    else if (type == DISTRO_MSG_V2_SNAPSHOT) resp_type = DISTRO_MSG_V2_SNAPSHOT_RESP;
    else if (type == DISTRO_MSG_V2_REPORT) resp_type = DISTRO_MSG_V2_REPORT_RESP;
    else return false;   /* ServerCheckRequest: no @Secured handler */
    const distro_msg *m = (const distro_msg *)msg->payload;
    if (identity_passes(node, m->source)) return false;
    /* The handler's default response with NO_RIGHT: resultCode FAIL.  A
     * verify batch fails every item. */
    uint32_t items = type == DISTRO_MSG_V2_VERIFY ? m->count : 0;
    distro_msg *resp = distro_msg_new(node->cluster, resp_type, items);
    if (resp == NULL) {
        distro_fail_nomem(node->cluster, "inner api auth filter");
        return true;
    }
    for (uint32_t i = 0; i < items; i++) resp->keys[i] = m->keys[i];
    resp->count = items;
    resp->code = DISTRO2_CODE_FAIL;
    distro_counters_of(node)->v3_no_right++;
    distro_reply(node, token, resp_type, RESP_BYTES * (items > 0 ? items : 1u), resp);
    return true;
}
