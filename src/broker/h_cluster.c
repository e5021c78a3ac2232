/*
 * h_cluster.c - the APIs that describe the cluster: ApiVersions, Metadata and
 * DescribeCluster. All answers come from one metadata image, acquired once
 * per request, so a response never mixes two states of the cluster.
 */
#include <string.h>

#include "base/arena.h"
#include "broker/authz.h"
#include "conf/conf.h"
#include "broker/handlers.h"
#include "broker/topics.h"
#include "meta/image.h"
#include "proto/gen/ApiVersions.h"
#include "proto/gen/DescribeCluster.h"
#include "proto/gen/Metadata.h"
#include "proto/gen/errors.h"

/* Kafka's AclOperation codes, as bits of the *AuthorizedOperations fields. */
#define OP(n) (1 << (n))
#define TOPIC_OPS (OP(3) | OP(4) | OP(5) | OP(6) | OP(7) | OP(8) | OP(10) | OP(11))
#define CLUSTER_OPS (OP(5) | OP(7) | OP(8) | OP(9) | OP(10) | OP(11) | OP(12))

void sl_handle_ApiVersions(struct sl_call *call)
{
    struct sl_ApiVersionsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int n = 0;
    for (int k = 0; k <= SL_API_MAX; k++) {
        int16_t min, max;
        if (sl_broker_api_versions((int16_t)k, &min, &max))
            n++;
    }
    resp->ApiKeys = sl_arena_alloc(a, sizeof(*resp->ApiKeys) * (size_t)n);
    if (!resp->ApiKeys) {
        sl_call_close(call, "out of memory");
        return;
    }
    resp->ApiKeys_n = 0;
    for (int k = 0; k <= SL_API_MAX; k++) {
        int16_t min, max;
        if (!sl_broker_api_versions((int16_t)k, &min, &max))
            continue;
        struct sl_ApiVersionsResponse_ApiVersion *v = &resp->ApiKeys[resp->ApiKeys_n++];
        sl_ApiVersionsResponse_ApiVersion_init(v);
        v->ApiKey = (int16_t)k;
        v->MinVersion = min;
        v->MaxVersion = max;
    }
    /* call->request is NULL when the client asked for a version we do not know. */
    resp->ErrorCode = call->request ? SL_KERR_NONE : SL_KERR_UNSUPPORTED_VERSION;
    sl_call_respond(call);
}

static const struct sl_image_endpoint *endpoint_for(const struct sl_image_broker *b,
                                                    const struct sl_listener *l)
{
    for (int i = 0; i < b->endpoints_n; i++)
        if (!l || strcmp(b->endpoints[i].name, l->name) == 0)
            return &b->endpoints[i];
    return NULL;
}

static int fill_brokers(struct sl_call *call, const struct sl_image *img,
                        struct sl_MetadataResponse_MetadataResponseBroker **out, int32_t *out_n)
{
    *out = sl_arena_alloc(&call->req->arena, sizeof(**out) * (size_t)(img->brokers_n + 1));
    if (!*out)
        return -1;
    *out_n = 0;
    for (int32_t i = 0; i < img->brokers_n; i++) {
        const struct sl_image_broker *b = &img->brokers[i];
        const struct sl_image_endpoint *ep = endpoint_for(b, call->listener);
        if (!ep || b->fenced)
            continue;
        struct sl_MetadataResponse_MetadataResponseBroker *mb = &(*out)[(*out_n)++];
        sl_MetadataResponse_MetadataResponseBroker_init(mb);
        mb->NodeId = b->id;
        mb->Host = sl_slice_cstr(ep->host);
        mb->Port = ep->port;
        mb->Rack = b->has_rack ? sl_slice_cstr(b->rack) : (struct sl_slice){NULL, 0};
    }
    return 0;
}

static bool broker_alive(const struct sl_image *img, int32_t id)
{
    const struct sl_image_broker *b = sl_image_broker(img, id);
    return b && !b->fenced;
}

static int fill_topic(struct sl_call *call, const struct sl_image *img, const struct sl_image_topic *t,
                      struct sl_MetadataResponse_MetadataResponseTopic *mt, bool want_ops)
{
    struct sl_arena *a = &call->req->arena;
    mt->ErrorCode = SL_KERR_NONE;
    mt->Name = sl_slice_cstr(t->name);
    mt->TopicId = t->id;
    mt->IsInternal = sl_topic_is_internal(mt->Name);
    if (want_ops)
        mt->TopicAuthorizedOperations =
            sl_authz_enabled(call) ? sl_authz_ops(call, img, SL_ACL_RES_TOPIC, mt->Name) : TOPIC_OPS;
    mt->Partitions = sl_arena_alloc(a, sizeof(*mt->Partitions) * (size_t)(t->partitions_n + 1));
    if (!mt->Partitions)
        return -1;
    mt->Partitions_n = t->partitions_n;
    for (int32_t i = 0; i < t->partitions_n; i++) {
        const struct sl_image_partition *p = &t->partitions[i];
        struct sl_MetadataResponse_MetadataResponsePartition *mp = &mt->Partitions[i];
        sl_MetadataResponse_MetadataResponsePartition_init(mp);
        mp->PartitionIndex = p->id;
        mp->LeaderId = p->leader;
        mp->LeaderEpoch = p->leader_epoch;
        mp->ReplicaNodes = p->replicas;
        mp->ReplicaNodes_n = p->replicas_n;
        mp->IsrNodes = p->isr;
        mp->IsrNodes_n = p->isr_n;
        int32_t *offline = sl_arena_alloc(a, sizeof(int32_t) * (size_t)(p->replicas_n + 1));
        if (!offline)
            return -1;
        mp->OfflineReplicas = offline;
        mp->OfflineReplicas_n = 0;
        for (int32_t r = 0; r < p->replicas_n; r++)
            if (!broker_alive(img, p->replicas[r]))
                offline[mp->OfflineReplicas_n++] = p->replicas[r];
        if (p->leader < 0 || !broker_alive(img, p->leader))
            mp->ErrorCode = SL_KERR_LEADER_NOT_AVAILABLE;
    }
    return 0;
}

static int32_t cluster_ops(struct sl_call *call, const struct sl_image *img)
{
    if (!sl_authz_enabled(call))
        return CLUSTER_OPS;
    return sl_authz_ops(call, img, SL_ACL_RES_CLUSTER, sl_slice_cstr(SL_ACL_CLUSTER_NAME));
}

void sl_handle_Metadata(struct sl_call *call)
{
    struct sl_MetadataRequest *req = call->request;
    struct sl_MetadataResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    struct sl_image *img = sl_image_acquire();

    if (fill_brokers(call, img, &resp->Brokers, &resp->Brokers_n) < 0)
        goto nomem;
    resp->ClusterId = sl_slice_cstr(img->cluster_id);
    resp->ControllerId = img->controller_id;
    if (req->IncludeClusterAuthorizedOperations)
        resp->ClusterAuthorizedOperations = cluster_ops(call, img);
    bool want_ops = req->IncludeTopicAuthorizedOperations;

    /* A null topic list (or an empty one in v0) asks for every topic. */
    bool all = req->Topics_n < 0 || (call->version == 0 && req->Topics_n == 0);
    int32_t n = all ? img->topics_n : req->Topics_n;
    resp->Topics = sl_arena_alloc(a, sizeof(*resp->Topics) * (size_t)(n + 1));
    if (!resp->Topics)
        goto nomem;
    resp->Topics_n = 0;
    for (int32_t i = 0; i < n; i++) {
        struct sl_MetadataResponse_MetadataResponseTopic *mt = &resp->Topics[resp->Topics_n++];
        sl_MetadataResponse_MetadataResponseTopic_init(mt);
        if (all) {
            /* every topic the principal may DESCRIBE, silently */
            if (!sl_authz_topic(call, img, SL_ACL_OP_DESCRIBE, sl_slice_cstr(img->by_name[i]->name))) {
                resp->Topics_n--;
                continue;
            }
            if (fill_topic(call, img, img->by_name[i], mt, want_ops) < 0)
                goto nomem;
            continue;
        }
        const struct sl_MetadataRequest_MetadataRequestTopic *rt = &req->Topics[i];
        const struct sl_image_topic *t;
        if (rt->Name.p)
            t = sl_image_topic_by_name(img, rt->Name);
        else
            t = sl_image_topic_by_id(img, &rt->TopicId);
        /* Named topics: DESCRIBE before existence, as Kafka (by id: only known ids). */
        if ((t || rt->Name.p) &&
            !sl_authz_topic(call, img, SL_ACL_OP_DESCRIBE, t ? sl_slice_cstr(t->name) : rt->Name)) {
            mt->Name = rt->Name;
            mt->TopicId = rt->TopicId;
            mt->ErrorCode = SL_KERR_TOPIC_AUTHORIZATION_FAILED;
            continue;
        }
        if (t) {
            if (fill_topic(call, img, t, mt, want_ops) < 0)
                goto nomem;
            continue;
        }
        mt->Name = rt->Name;
        mt->TopicId = rt->TopicId;
        bool may_create = !req->AllowAutoTopicCreation || sl_authz_cluster(call, SL_ACL_OP_CREATE) ||
                          sl_authz_topic(call, img, SL_ACL_OP_CREATE, rt->Name);
        if (!rt->Name.p) {
            mt->ErrorCode = SL_KERR_UNKNOWN_TOPIC_ID;
        } else if (sl_topic_validate_name(rt->Name, NULL, 0) != 0) {
            mt->ErrorCode = SL_KERR_INVALID_TOPIC_EXCEPTION;
        } else if (req->AllowAutoTopicCreation && call->broker->conf->auto_create_topics_enable && !may_create) {
            mt->ErrorCode = SL_KERR_TOPIC_AUTHORIZATION_FAILED;
        } else if (req->AllowAutoTopicCreation && sl_topic_autocreate(call->broker, rt->Name)) {
            mt->ErrorCode = SL_KERR_LEADER_NOT_AVAILABLE; /* being created: the client retries */
        } else {
            mt->ErrorCode = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    sl_call_respond(call);
    sl_image_release(img);
    return;
nomem:
    sl_image_release(img);
    sl_call_close(call, "out of memory building Metadata");
}

void sl_handle_DescribeCluster(struct sl_call *call)
{
    struct sl_DescribeClusterRequest *req = call->request;
    struct sl_DescribeClusterResponse *resp = call->response;
    struct sl_image *img = sl_image_acquire();
    resp->ClusterId = sl_slice_cstr(img->cluster_id);
    resp->ControllerId = img->controller_id;
    if (req->IncludeClusterAuthorizedOperations)
        resp->ClusterAuthorizedOperations = cluster_ops(call, img);
    if (call->version >= 1 && req->EndpointType != 1) {
        /* Only brokers are described here; controllers have no client endpoints. */
        resp->ErrorCode = SL_KERR_UNSUPPORTED_ENDPOINT_TYPE;
        resp->EndpointType = req->EndpointType;
        sl_call_respond(call);
        sl_image_release(img);
        return;
    }
    resp->Brokers = sl_arena_alloc(&call->req->arena, sizeof(*resp->Brokers) * (size_t)(img->brokers_n + 1));
    if (!resp->Brokers) {
        sl_image_release(img);
        sl_call_close(call, "out of memory");
        return;
    }
    resp->Brokers_n = 0;
    for (int32_t i = 0; i < img->brokers_n; i++) {
        const struct sl_image_broker *b = &img->brokers[i];
        const struct sl_image_endpoint *ep = endpoint_for(b, call->listener);
        if (!ep || b->fenced)
            continue;
        struct sl_DescribeClusterResponse_DescribeClusterBroker *db = &resp->Brokers[resp->Brokers_n++];
        sl_DescribeClusterResponse_DescribeClusterBroker_init(db);
        db->BrokerId = b->id;
        db->Host = sl_slice_cstr(ep->host);
        db->Port = ep->port;
        db->Rack = b->has_rack ? sl_slice_cstr(b->rack) : (struct sl_slice){NULL, 0};
    }
    sl_call_respond(call);
    sl_image_release(img);
}
