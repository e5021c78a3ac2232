/*
 * h_group.c - FindCoordinator and the group APIs (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, OffsetDelete,
 * DescribeGroups, ListGroups, DeleteGroups).
 *
 * FindCoordinator is answered here: this node coordinates every group and
 * transaction (single node); __consumer_offsets is created through the
 * controller on first use, and the answer waits for it. Every group API is
 * handed, decoded, to the coordinator thread (coord/coord.h); the answer
 * comes back by a post to the request's own loop.
 */
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/diag.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "conf/conf.h"
#include "coord/coord.h"
#include "meta/controller.h"
#include "meta/ctl_topics.h"
#include "meta/image.h"
#include "proto/gen/FindCoordinator.h"
#include "proto/gen/JoinGroup.h"
#include "proto/gen/SyncGroup.h"
#include "proto/gen/errors.h"

/* ---- FindCoordinator ------------------------------------------------------------ */

#define KEY_TYPE_GROUP 0
#define KEY_TYPE_TRANSACTION 1

static void find_answer(struct sl_call *call, int16_t err)
{
    struct sl_FindCoordinatorRequest *req = call->request;
    struct sl_FindCoordinatorResponse *resp = call->response;
    struct sl_listener *l = call->listener;
    struct sl_slice host = sl_slice_cstr(l ? l->adv_host : "");
    int32_t port = l ? l->adv_port : -1;
    int32_t node = call->broker->node_id;
    const char *msg = err == SL_KERR_COORDINATOR_NOT_AVAILABLE ? "The coordinator is not available."
                      : err == SL_KERR_INVALID_REQUEST           ? "Unknown coordinator key type."
                                                                 : NULL;
    if (call->version < 4) {
        resp->ErrorCode = err;
        resp->ErrorMessage = sl_slice_cstr(msg);
        resp->NodeId = err ? -1 : node;
        resp->Host = err ? sl_slice_cstr("") : host;
        resp->Port = err ? -1 : port;
    } else {
        int32_t n = req->CoordinatorKeys_n > 0 ? req->CoordinatorKeys_n : 0;
        resp->Coordinators = sl_arena_alloc(&call->req->arena, sizeof(*resp->Coordinators) * (size_t)(n + 1));
        if (!resp->Coordinators) {
            sl_call_close(call, "out of memory for FindCoordinator");
            return;
        }
        resp->Coordinators_n = n;
        for (int32_t i = 0; i < n; i++) {
            struct sl_FindCoordinatorResponse_Coordinator *c = &resp->Coordinators[i];
            sl_FindCoordinatorResponse_Coordinator_init(c);
            c->Key = req->CoordinatorKeys[i];
            c->ErrorCode = err;
            c->ErrorMessage = sl_slice_cstr(msg);
            c->NodeId = err ? -1 : node;
            c->Host = err ? sl_slice_cstr("") : host;
            c->Port = err ? -1 : port;
        }
    }
    sl_call_respond(call);
}

struct find_create {
    struct sl_call *call;
    int16_t err;
};

static void find_created_on_loop(void *arg)
{
    struct find_create *fc = arg;
    find_answer(fc->call, fc->err);
}

/* Controller thread: creates __consumer_offsets as Kafka does on the first
 * FindCoordinator for a group. */
static void create_offsets_topic(struct sl_controller *ctl, void *arg)
{
    struct find_create *fc = arg;
    const struct sl_conf *conf = fc->call->broker->conf;
    fc->err = 0;
    if (!sl_image_topic_by_name(sl_controller_image(ctl), sl_slice_cstr("__consumer_offsets"))) {
        char seg[32];
        snprintf(seg, sizeof(seg), "%d", conf->offsets_topic_segment_bytes);
        static const char *const keys[] = {"cleanup.policy", "compression.type", "segment.bytes"};
        struct sl_slice ks[3], vs[3] = {sl_slice_cstr("compact"), sl_slice_cstr("producer"), sl_slice_cstr(seg)};
        for (int i = 0; i < 3; i++)
            ks[i] = sl_slice_cstr(keys[i]);
        struct sl_topic_spec spec = {
            .name = sl_slice_cstr("__consumer_offsets"),
            .partitions = conf->offsets_topic_num_partitions,
            .replication_factor = conf->offsets_topic_replication_factor,
            .configs_n = 3,
            .config_keys = ks,
            .config_values = vs,
        };
        struct sl_topic_result res;
        sl_ctl_create_topic(ctl, &spec, false, &res);
        if (res.error && res.error != SL_KERR_TOPIC_ALREADY_EXISTS) {
            SL_ERROR("coord", "cannot create __consumer_offsets: %s", res.message);
            fc->err = SL_KERR_COORDINATOR_NOT_AVAILABLE;
        } else if (!res.error) {
            SL_INFO("coord", "created __consumer_offsets with %d partitions", res.partitions);
        }
    }
    sl_loop_post(fc->call->req->loop, find_created_on_loop, fc);
}

/* DESCRIBE on the group or transactional id of every key (Kafka: the
 * whole answer fails when one key is refused, which clients send alone). */
static bool find_authorized(struct sl_call *call, int8_t type)
{
    struct sl_FindCoordinatorRequest *req = call->request;
    int8_t rt = type == KEY_TYPE_GROUP ? SL_ACL_RES_GROUP : SL_ACL_RES_TRANSACTIONAL_ID;
    if (call->version < 4)
        return sl_authz(call, NULL, SL_ACL_OP_DESCRIBE, rt, req->Key);
    for (int32_t i = 0; i < req->CoordinatorKeys_n; i++)
        if (!sl_authz(call, NULL, SL_ACL_OP_DESCRIBE, rt, req->CoordinatorKeys[i]))
            return false;
    return true;
}

void sl_handle_FindCoordinator(struct sl_call *call)
{
    struct sl_FindCoordinatorRequest *req = call->request;
    int8_t type = call->version >= 1 ? req->KeyType : KEY_TYPE_GROUP;
    if (type != KEY_TYPE_GROUP && type != KEY_TYPE_TRANSACTION) {
        find_answer(call, SL_KERR_INVALID_REQUEST);
        return;
    }
    if (!find_authorized(call, type)) {
        find_answer(call, type == KEY_TYPE_GROUP ? SL_KERR_GROUP_AUTHORIZATION_FAILED
                                                 : SL_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        return;
    }
    if (type == KEY_TYPE_GROUP) {
        struct sl_image *img = sl_image_acquire();
        bool exists = img && sl_image_topic_by_name(img, sl_slice_cstr("__consumer_offsets"));
        if (img)
            sl_image_release(img);
        if (!exists) {
            if (!call->broker->ctl) {
                find_answer(call, SL_KERR_COORDINATOR_NOT_AVAILABLE);
                return;
            }
            struct find_create *fc = sl_arena_alloc(&call->req->arena, sizeof(*fc));
            if (!fc) {
                sl_call_close(call, "out of memory for FindCoordinator");
                return;
            }
            fc->call = call;
            sl_controller_submit(call->broker->ctl, create_offsets_topic, fc);
            return;
        }
        /* Start the coordinator (and its loading) before the group's first request. */
        sl_coord_get(call->broker);
    }
    find_answer(call, 0);
}

/* ---- the group APIs --------------------------------------------------------------- */

static void gop_done(struct sl_gop *op)
{
    struct sl_call *call = op->ctx;
    sl_call_respond_later(call);
}

/* "/127.0.0.1", as Kafka shows a member's clientHost. */
static struct sl_slice client_host(struct sl_call *call)
{
    const char *peer = sl_conn_peer(call->req->conn);
    if (!peer)
        return sl_slice_cstr("");
    const char *end = strrchr(peer, ':');
    size_t n = end ? (size_t)(end - peer) : strlen(peer);
    if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
        peer++;
        n -= 2;
    }
    char *s = sl_arena_printf(&call->req->arena, "/%.*s", (int)n, peer);
    return sl_slice_cstr(s ? s : "");
}

static void group_submit(struct sl_call *call)
{
    if (sl_authz_group_pre(call))
        return; /* refused and answered */
    struct sl_gop *op = sl_arena_alloc(&call->req->arena, sizeof(*op));
    if (!op) {
        sl_call_close(call, "out of memory for a group request");
        return;
    }
    op->api_key = call->api_key;
    op->version = call->version;
    op->request = call->request;
    op->response = call->response;
    op->arena = &call->req->arena;
    op->client_id = call->client_id;
    op->client_host = client_host(call);
    op->done = gop_done;
    op->ctx = call;
    sl_list_init(&op->link);
    if (call->api_key == SL_API_JoinGroup) {
        struct sl_JoinGroupRequest *r = call->request;
        call->parked_ms = call->version >= 1 ? r->RebalanceTimeoutMs : r->SessionTimeoutMs;
    } else if (call->api_key == SL_API_SyncGroup) {
        call->parked_ms = 300000; /* until the leader's SyncGroup, bounded by its rebalance timeout */
    }
    sl_coord_submit(sl_coord_get(call->broker), op);
}

void sl_handle_JoinGroup(struct sl_call *call) { group_submit(call); }
void sl_handle_SyncGroup(struct sl_call *call) { group_submit(call); }
void sl_handle_Heartbeat(struct sl_call *call) { group_submit(call); }
void sl_handle_LeaveGroup(struct sl_call *call) { group_submit(call); }
void sl_handle_OffsetCommit(struct sl_call *call) { group_submit(call); }
void sl_handle_OffsetFetch(struct sl_call *call) { group_submit(call); }
void sl_handle_OffsetDelete(struct sl_call *call) { group_submit(call); }
void sl_handle_DescribeGroups(struct sl_call *call) { group_submit(call); }
void sl_handle_ListGroups(struct sl_call *call) { group_submit(call); }
void sl_handle_DeleteGroups(struct sl_call *call) { group_submit(call); }
/* KIP-848: answered by coord/cgroup.c. */
void sl_handle_ConsumerGroupHeartbeat(struct sl_call *call) { group_submit(call); }
void sl_handle_ConsumerGroupDescribe(struct sl_call *call) { group_submit(call); }
