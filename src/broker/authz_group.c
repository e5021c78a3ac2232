/*
 * authz_group.c - Kafka's ACL rules for the group APIs, applied around the
 * coordinator (which knows nothing of principals):
 *
 *   JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 *   ConsumerGroupHeartbeat            READ group (else GROUP_AUTHORIZATION_FAILED);
 *                                     the KIP-848 heartbeat also DESCRIBE on
 *                                     each subscribed topic (TOPIC_...)
 *   OffsetCommit                      READ group; READ topic per topic
 *   OffsetDelete                      DELETE group; READ topic per topic
 *   OffsetFetch                       DESCRIBE group; DESCRIBE topic (named topics
 *                                     fail, "all topics" hides them)
 *   DescribeGroups,
 *   ConsumerGroupDescribe             DESCRIBE group, per group; authorized ops
 *   ListGroups                        DESCRIBE cluster, else only groups the
 *                                     principal may DESCRIBE
 *   DeleteGroups                      DELETE group, per group
 *
 * Requests that change state have their refused topics/groups stripped
 * before the coordinator sees them and put back, failed, afterwards; the
 * describing APIs are filtered after the coordinator's answer.
 * Thread: the call's loop (pre and post).
 */
#include <string.h>

#include "base/arena.h"
#include "broker/authz.h"
#include "proto/gen/ConsumerGroupDescribe.h"
#include "proto/gen/ConsumerGroupHeartbeat.h"
#include "proto/gen/DeleteGroups.h"
#include "proto/gen/DescribeGroups.h"
#include "proto/gen/Heartbeat.h"
#include "proto/gen/JoinGroup.h"
#include "proto/gen/LeaveGroup.h"
#include "proto/gen/ListGroups.h"
#include "proto/gen/OffsetCommit.h"
#include "proto/gen/OffsetDelete.h"
#include "proto/gen/OffsetFetch.h"
#include "proto/gen/SyncGroup.h"
#include "proto/gen/errors.h"

#define GROUP_DENIED SL_KERR_GROUP_AUTHORIZATION_FAILED
#define TOPIC_DENIED SL_KERR_TOPIC_AUTHORIZATION_FAILED

/* What pre stripped, for post to put back. */
struct stripped {
    void *items; /* the refused elements (request structs), in the arena */
    int32_t n;
    int16_t err; /* what they fail with */
};

static bool topic_ok(struct sl_call *call, int8_t op, struct sl_slice name)
{
    return sl_authz_topic(call, NULL, op, name);
}

/* Splits arr[0..*n) (elements of size sz, each starting with its name at
 * name_off) into allowed (kept in place, *n updated) and refused (copied
 * into st). rt: the resource type checked with op. false: out of memory. */
static bool strip(struct sl_call *call, void *arr, int32_t *n, size_t sz, size_t name_off,
                  int8_t op, int8_t rt, struct stripped *st)
{
    st->n = 0;
    st->items = NULL;
    st->err = rt == SL_ACL_RES_TOPIC ? TOPIC_DENIED : GROUP_DENIED;
    if (*n <= 0)
        return true;
    st->items = sl_arena_alloc(&call->req->arena, sz * (size_t)*n);
    if (!st->items)
        return false;
    int32_t kept = 0;
    for (int32_t i = 0; i < *n; i++) {
        char *el = (char *)arr + sz * (size_t)i;
        const struct sl_slice *name = (const struct sl_slice *)(el + name_off);
        if (sl_authz(call, NULL, op, rt, *name)) {
            if (kept != i)
                memmove((char *)arr + sz * (size_t)kept, el, sz);
            kept++;
        } else {
            memcpy((char *)st->items + sz * (size_t)st->n++, el, sz);
        }
    }
    *n = kept;
    return true;
}

static void answer(struct sl_call *call)
{
    sl_call_respond(call);
}

/* Out of memory while authorizing: never let the request through unchecked. */
static bool fail_closed(struct sl_call *call)
{
    sl_call_close(call, "out of memory authorizing a group request");
    return true;
}

static void group_post(struct sl_call *call);

/* The record of stripped items lives in the call's authorization state. */
static struct stripped *stripped_of(struct sl_call *call)
{
    struct sl_authz_state *as = call->authz;
    return as ? as->stripped : NULL;
}

static void set_stripped(struct sl_call *call, struct stripped *st)
{
    ((struct sl_authz_state *)call->authz)->stripped = st;
}

/* ---- OffsetCommit ------------------------------------------------------ */

static bool offset_commit_pre(struct sl_call *call)
{
    struct sl_OffsetCommitRequest *req = call->request;
    struct sl_OffsetCommitResponse *resp = call->response;
    bool group_ok = sl_authz_group(call, SL_ACL_OP_READ, req->GroupId);
    struct stripped *st = sl_arena_alloc(&call->req->arena, sizeof(*st));
    if (!st)
        return fail_closed(call);
    if (!group_ok) {
        /* every partition fails: strip them all and answer now */
        st->items = req->Topics;
        st->n = req->Topics_n > 0 ? req->Topics_n : 0;
        st->err = GROUP_DENIED;
        req->Topics_n = 0;
        set_stripped(call, st);
        resp->Topics_n = 0;
        answer(call);
        return true;
    } else if (!strip(call, req->Topics, &req->Topics_n, sizeof(*req->Topics),
                      offsetof(struct sl_OffsetCommitRequest_OffsetCommitRequestTopic, Name),
                      SL_ACL_OP_READ, SL_ACL_RES_TOPIC, st)) {
        return fail_closed(call);
    }
    set_stripped(call, st);
    if (st->n == 0)
        return false;
    if (req->Topics_n == 0) {
        resp->Topics_n = 0;
        answer(call);
        return true;
    }
    return false;
}

static void offset_commit_post(struct sl_call *call)
{
    struct sl_OffsetCommitResponse *resp = call->response;
    struct stripped *st = stripped_of(call);
    if (!st || st->n == 0)
        return;
    int16_t err = st->err;
    const struct sl_OffsetCommitRequest_OffsetCommitRequestTopic *denied = st->items;
    int32_t have = resp->Topics_n > 0 ? resp->Topics_n : 0;
    struct sl_OffsetCommitResponse_OffsetCommitResponseTopic *all =
        sl_arena_alloc(&call->req->arena, sizeof(*all) * (size_t)(have + st->n));
    if (!all)
        return;
    if (have)
        memcpy(all, resp->Topics, sizeof(*all) * (size_t)have);
    for (int32_t i = 0; i < st->n; i++) {
        struct sl_OffsetCommitResponse_OffsetCommitResponseTopic *t = &all[have + i];
        sl_OffsetCommitResponse_OffsetCommitResponseTopic_init(t);
        t->Name = denied[i].Name;
        int32_t np = denied[i].Partitions_n > 0 ? denied[i].Partitions_n : 0;
        t->Partitions =
            sl_arena_alloc(&call->req->arena, sizeof(*t->Partitions) * (size_t)(np + 1));
        t->Partitions_n = t->Partitions ? np : 0;
        for (int32_t j = 0; j < t->Partitions_n; j++) {
            sl_OffsetCommitResponse_OffsetCommitResponsePartition_init(&t->Partitions[j]);
            t->Partitions[j].PartitionIndex = denied[i].Partitions[j].PartitionIndex;
            t->Partitions[j].ErrorCode = err;
        }
    }
    resp->Topics = all;
    resp->Topics_n = have + st->n;
}

/* ---- OffsetDelete ------------------------------------------------------- */

static bool offset_delete_pre(struct sl_call *call)
{
    struct sl_OffsetDeleteRequest *req = call->request;
    struct sl_OffsetDeleteResponse *resp = call->response;
    if (!sl_authz_group(call, SL_ACL_OP_DELETE, req->GroupId)) {
        resp->ErrorCode = GROUP_DENIED;
        resp->Topics_n = 0;
        answer(call);
        return true;
    }
    struct stripped *st = sl_arena_alloc(&call->req->arena, sizeof(*st));
    if (!st || !strip(call, req->Topics, &req->Topics_n, sizeof(*req->Topics),
                      offsetof(struct sl_OffsetDeleteRequest_OffsetDeleteRequestTopic, Name),
                      SL_ACL_OP_READ, SL_ACL_RES_TOPIC, st))
        return fail_closed(call);
    set_stripped(call, st);
    return false;
}

static void offset_delete_post(struct sl_call *call)
{
    struct sl_OffsetDeleteResponse *resp = call->response;
    struct stripped *st = stripped_of(call);
    if (!st || st->n == 0 || resp->ErrorCode)
        return;
    const struct sl_OffsetDeleteRequest_OffsetDeleteRequestTopic *denied = st->items;
    int32_t have = resp->Topics_n > 0 ? resp->Topics_n : 0;
    struct sl_OffsetDeleteResponse_OffsetDeleteResponseTopic *all =
        sl_arena_alloc(&call->req->arena, sizeof(*all) * (size_t)(have + st->n));
    if (!all)
        return;
    if (have)
        memcpy(all, resp->Topics, sizeof(*all) * (size_t)have);
    for (int32_t i = 0; i < st->n; i++) {
        struct sl_OffsetDeleteResponse_OffsetDeleteResponseTopic *t = &all[have + i];
        sl_OffsetDeleteResponse_OffsetDeleteResponseTopic_init(t);
        t->Name = denied[i].Name;
        int32_t np = denied[i].Partitions_n > 0 ? denied[i].Partitions_n : 0;
        t->Partitions =
            sl_arena_alloc(&call->req->arena, sizeof(*t->Partitions) * (size_t)(np + 1));
        t->Partitions_n = t->Partitions ? np : 0;
        for (int32_t j = 0; j < t->Partitions_n; j++) {
            sl_OffsetDeleteResponse_OffsetDeleteResponsePartition_init(&t->Partitions[j]);
            t->Partitions[j].PartitionIndex = denied[i].Partitions[j].PartitionIndex;
            t->Partitions[j].ErrorCode = TOPIC_DENIED;
        }
    }
    resp->Topics = all;
    resp->Topics_n = have + st->n;
}

/* ---- DeleteGroups ----------------------------------------------------- */

static bool delete_groups_pre(struct sl_call *call)
{
    struct sl_DeleteGroupsRequest *req = call->request;
    struct sl_DeleteGroupsResponse *resp = call->response;
    struct stripped *st = sl_arena_alloc(&call->req->arena, sizeof(*st));
    if (!st || !strip(call, req->GroupsNames, &req->GroupsNames_n, sizeof(*req->GroupsNames), 0,
                      SL_ACL_OP_DELETE, SL_ACL_RES_GROUP, st))
        return fail_closed(call);
    set_stripped(call, st);
    if (st->n > 0 && req->GroupsNames_n == 0) {
        resp->Results_n = 0;
        answer(call);
        return true;
    }
    return false;
}

static void delete_groups_post(struct sl_call *call)
{
    struct sl_DeleteGroupsResponse *resp = call->response;
    struct stripped *st = stripped_of(call);
    if (!st || st->n == 0)
        return;
    const struct sl_slice *denied = st->items;
    int32_t have = resp->Results_n > 0 ? resp->Results_n : 0;
    struct sl_DeleteGroupsResponse_DeletableGroupResult *all =
        sl_arena_alloc(&call->req->arena, sizeof(*all) * (size_t)(have + st->n));
    if (!all)
        return;
    if (have)
        memcpy(all, resp->Results, sizeof(*all) * (size_t)have);
    for (int32_t i = 0; i < st->n; i++) {
        sl_DeleteGroupsResponse_DeletableGroupResult_init(&all[have + i]);
        all[have + i].GroupId = denied[i];
        all[have + i].ErrorCode = GROUP_DENIED;
    }
    resp->Results = all;
    resp->Results_n = have + st->n;
}

/* ---- OffsetFetch --------------------------------------------------------- */

static void offset_fetch_post(struct sl_call *call)
{
    struct sl_OffsetFetchRequest *req = call->request;
    struct sl_OffsetFetchResponse *resp = call->response;
    if (call->version < 8) {
        if (!sl_authz_group(call, SL_ACL_OP_DESCRIBE, req->GroupId)) {
            resp->ErrorCode = GROUP_DENIED;
            if (call->version >= 2) {
                resp->Topics_n = 0;
                return;
            }
            for (int32_t i = 0; i < resp->Topics_n; i++)
                for (int32_t j = 0; j < resp->Topics[i].Partitions_n; j++) {
                    resp->Topics[i].Partitions[j].ErrorCode = GROUP_DENIED;
                    resp->Topics[i].Partitions[j].CommittedOffset = -1;
                }
            return;
        }
        int32_t kept = 0;
        for (int32_t i = 0; i < resp->Topics_n; i++) {
            struct sl_OffsetFetchResponse_OffsetFetchResponseTopic *t = &resp->Topics[i];
            if (!topic_ok(call, SL_ACL_OP_DESCRIBE, t->Name)) {
                if (req->Topics_n < 0)
                    continue; /* all topics: hidden */
                for (int32_t j = 0; j < t->Partitions_n; j++) {
                    t->Partitions[j].ErrorCode = TOPIC_DENIED;
                    t->Partitions[j].CommittedOffset = -1;
                    t->Partitions[j].Metadata = sl_slice_cstr("");
                }
            }
            resp->Topics[kept++] = *t;
        }
        resp->Topics_n = kept;
        return;
    }
    for (int32_t g = 0; g < resp->Groups_n; g++) {
        struct sl_OffsetFetchResponse_OffsetFetchResponseGroup *gr = &resp->Groups[g];
        if (!sl_authz_group(call, SL_ACL_OP_DESCRIBE, gr->GroupId)) {
            gr->ErrorCode = GROUP_DENIED;
            gr->Topics_n = 0;
            continue;
        }
        bool all = true;
        for (int32_t k = 0; k < req->Groups_n; k++)
            if (sl_slice_eq(req->Groups[k].GroupId, gr->GroupId))
                all = req->Groups[k].Topics_n < 0;
        int32_t kept = 0;
        for (int32_t i = 0; i < gr->Topics_n; i++) {
            struct sl_OffsetFetchResponse_OffsetFetchResponseTopics *t = &gr->Topics[i];
            if (!topic_ok(call, SL_ACL_OP_DESCRIBE, t->Name)) {
                if (all)
                    continue;
                for (int32_t j = 0; j < t->Partitions_n; j++) {
                    t->Partitions[j].ErrorCode = TOPIC_DENIED;
                    t->Partitions[j].CommittedOffset = -1;
                    t->Partitions[j].Metadata = sl_slice_cstr("");
                }
            }
            gr->Topics[kept++] = *t;
        }
        gr->Topics_n = kept;
    }
}

/* ---- describing and listing --------------------------------------------- */

static void describe_groups_post(struct sl_call *call)
{
    const struct sl_DescribeGroupsRequest *req = call->request;
    struct sl_DescribeGroupsResponse *resp = call->response;
    for (int32_t i = 0; i < resp->Groups_n; i++) {
        struct sl_DescribeGroupsResponse_DescribedGroup *g = &resp->Groups[i];
        if (!sl_authz_group(call, SL_ACL_OP_DESCRIBE, g->GroupId)) {
            struct sl_slice id = g->GroupId;
            sl_DescribeGroupsResponse_DescribedGroup_init(g);
            g->GroupId = id;
            g->ErrorCode = GROUP_DENIED;
            g->Members_n = 0;
            continue;
        }
        if (call->version >= 3 && req->IncludeAuthorizedOperations)
            g->AuthorizedOperations = sl_authz_ops(call, NULL, SL_ACL_RES_GROUP, g->GroupId);
    }
}

static void consumer_group_describe_post(struct sl_call *call)
{
    const struct sl_ConsumerGroupDescribeRequest *req = call->request;
    struct sl_ConsumerGroupDescribeResponse *resp = call->response;
    for (int32_t i = 0; i < resp->Groups_n; i++) {
        struct sl_ConsumerGroupDescribeResponse_DescribedGroup *g = &resp->Groups[i];
        if (!sl_authz_group(call, SL_ACL_OP_DESCRIBE, g->GroupId)) {
            struct sl_slice id = g->GroupId;
            sl_ConsumerGroupDescribeResponse_DescribedGroup_init(g);
            g->GroupId = id;
            g->ErrorCode = GROUP_DENIED;
            g->Members_n = 0;
            continue;
        }
        if (req->IncludeAuthorizedOperations)
            g->AuthorizedOperations = sl_authz_ops(call, NULL, SL_ACL_RES_GROUP, g->GroupId);
    }
}

static void list_groups_post(struct sl_call *call)
{
    struct sl_ListGroupsResponse *resp = call->response;
    if (sl_authz_cluster(call, SL_ACL_OP_DESCRIBE))
        return;
    int32_t kept = 0;
    for (int32_t i = 0; i < resp->Groups_n; i++)
        if (sl_authz_group(call, SL_ACL_OP_DESCRIBE, resp->Groups[i].GroupId))
            resp->Groups[kept++] = resp->Groups[i];
    resp->Groups_n = kept;
}

/* ---- entry points --------------------------------------------------------- */

static bool refuse_whole(struct sl_call *call, int16_t err)
{
    switch (call->api_key) {
    case SL_API_JoinGroup: {
        struct sl_JoinGroupResponse *r = call->response;
        r->ErrorCode = err;
        r->Members_n = 0;
        break;
    }
    case SL_API_SyncGroup:
        ((struct sl_SyncGroupResponse *)call->response)->ErrorCode = err;
        break;
    case SL_API_Heartbeat:
        ((struct sl_HeartbeatResponse *)call->response)->ErrorCode = err;
        break;
    case SL_API_LeaveGroup: {
        struct sl_LeaveGroupResponse *r = call->response;
        r->ErrorCode = err;
        r->Members_n = 0;
        break;
    }
    case SL_API_ConsumerGroupHeartbeat: {
        struct sl_ConsumerGroupHeartbeatResponse *r = call->response;
        r->ErrorCode = err;
        r->Assignment_null = true;
        break;
    }
    default:
        return false;
    }
    answer(call);
    return true;
}

static struct sl_slice group_of(const struct sl_call *call)
{
    switch (call->api_key) {
    case SL_API_JoinGroup:
        return ((const struct sl_JoinGroupRequest *)call->request)->GroupId;
    case SL_API_SyncGroup:
        return ((const struct sl_SyncGroupRequest *)call->request)->GroupId;
    case SL_API_Heartbeat:
        return ((const struct sl_HeartbeatRequest *)call->request)->GroupId;
    case SL_API_LeaveGroup:
        return ((const struct sl_LeaveGroupRequest *)call->request)->GroupId;
    case SL_API_ConsumerGroupHeartbeat:
        return ((const struct sl_ConsumerGroupHeartbeatRequest *)call->request)->GroupId;
    default:
        return (struct sl_slice){NULL, 0};
    }
}

bool sl_authz_group_pre(struct sl_call *call)
{
    if (!sl_authz_enabled(call))
        return false;
    struct sl_authz_state *as = sl_authz_state(call);
    if (!as) {
        sl_call_close(call, "out of memory authorizing a group request");
        return true;
    }
    as->post = group_post; /* sl_call_respond runs it on the loop */
    switch (call->api_key) {
    case SL_API_JoinGroup:
    case SL_API_SyncGroup:
    case SL_API_Heartbeat:
    case SL_API_LeaveGroup:
        if (!sl_authz_group(call, SL_ACL_OP_READ, group_of(call)))
            return refuse_whole(call, GROUP_DENIED);
        return false;
    case SL_API_ConsumerGroupHeartbeat: {
        const struct sl_ConsumerGroupHeartbeatRequest *req = call->request;
        if (!sl_authz_group(call, SL_ACL_OP_READ, req->GroupId))
            return refuse_whole(call, GROUP_DENIED);
        for (int32_t i = 0; i < req->SubscribedTopicNames_n; i++)
            if (!topic_ok(call, SL_ACL_OP_DESCRIBE, req->SubscribedTopicNames[i]))
                return refuse_whole(call, TOPIC_DENIED);
        return false;
    }
    case SL_API_OffsetCommit:
        return offset_commit_pre(call);
    case SL_API_OffsetDelete:
        return offset_delete_pre(call);
    case SL_API_DeleteGroups:
        return delete_groups_pre(call);
    default:
        return false;
    }
}

static void group_post(struct sl_call *call)
{
    switch (call->api_key) {
    case SL_API_OffsetCommit:
        offset_commit_post(call);
        break;
    case SL_API_OffsetDelete:
        offset_delete_post(call);
        break;
    case SL_API_DeleteGroups:
        delete_groups_post(call);
        break;
    case SL_API_OffsetFetch:
        offset_fetch_post(call);
        break;
    case SL_API_DescribeGroups:
        describe_groups_post(call);
        break;
    case SL_API_ConsumerGroupDescribe:
        consumer_group_describe_post(call);
        break;
    case SL_API_ListGroups:
        list_groups_post(call);
        break;
    default:
        break;
    }
}
