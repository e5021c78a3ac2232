/*
 * h_topics.c - CreateTopics, DeleteTopics and auto-creation on Metadata.
 * The handler hands the decoded request to the controller thread, which
 * fills the response in the request's arena (nothing else touches the
 * request meanwhile) and posts the answer back to the request's loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/diag.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "broker/topics.h"
#include "conf/conf.h"
#include "meta/configs.h"
#include "meta/controller.h"
#include "meta/ctl_topics.h"
#include "meta/image.h"
#include "meta/topic_config.h"
#include "proto/gen/CreateTopics.h"
#include "proto/gen/DeleteTopics.h"
#include "proto/gen/errors.h"

/* The topic's configs as CreateTopics v5+ reports them: every topic key with
 * the value and source a DescribeConfigs of the new topic gives (its own
 * value from the request, else dynamic broker, <default>, static, default).
 * Controller thread: img is the latest image. */
static void fill_configs(struct sl_call *call, const struct sl_image *img,
                         const struct sl_CreateTopicsRequest_CreatableTopic *t,
                         struct sl_CreateTopicsResponse_CreatableTopicResult *r)
{
    struct sl_arena *a = &call->req->arena;
    size_t n;
    const struct sl_topic_config_key *keys = sl_topic_config_keys(&n);
    r->Configs = sl_arena_alloc(a, sizeof(*r->Configs) * n);
    struct sl_cfg_entry *e = malloc(sizeof(*e));
    if (!r->Configs || !e) {
        free(e);
        r->Configs_n = -1;
        return;
    }
    r->Configs_n = (int32_t)n;
    for (size_t i = 0; i < n; i++) {
        struct sl_CreateTopicsResponse_CreatableTopicConfigs *c = &r->Configs[i];
        sl_CreateTopicsResponse_CreatableTopicConfigs_init(c);
        char own[SL_CFG_VALUE_MAX];
        bool has_own = false;
        for (int32_t j = 0; j < t->Configs_n; j++)
            if (sl_slice_eq_cstr(t->Configs[j].Name, keys[i].name) && t->Configs[j].Value.p) {
                snprintf(own, sizeof(own), "%.*s", SL_SLICE_FMT(t->Configs[j].Value));
                has_own = true;
            }
        sl_cfg_describe_topic_own(img, call->broker->conf, call->broker->node_id, &keys[i],
                                  has_own ? own : NULL, e);
        c->Name = sl_slice_cstr(keys[i].name);
        if (!e->null)
            c->Value = sl_arena_str(a, e->value);
        c->ReadOnly = e->read_only;
        c->ConfigSource = e->source;
        c->IsSensitive = e->sensitive;
    }
    free(e);
}

/* Whether topic i of a CreateTopics may not have its configs described
 * (decided on the loop, kept beside the deny map). */
static bool configs_hidden(const struct sl_call *call, int32_t i)
{
    const struct sl_authz_state *as = call->authz;
    return as && as->stripped && ((const bool *)as->stripped)[i];
}

static void create_topics_op(struct sl_controller *ctl, void *arg)
{
    struct sl_call *call = arg;
    struct sl_CreateTopicsRequest *req = call->request;
    struct sl_CreateTopicsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t n = req->Topics_n > 0 ? req->Topics_n : 0;
    resp->Topics = sl_arena_alloc(a, sizeof(*resp->Topics) * (size_t)(n + 1));
    if (!resp->Topics) {
        sl_call_respond_later(call);
        return;
    }
    resp->Topics_n = n;
    for (int32_t i = 0; i < n; i++) {
        struct sl_CreateTopicsRequest_CreatableTopic *t = &req->Topics[i];
        struct sl_CreateTopicsResponse_CreatableTopicResult *r = &resp->Topics[i];
        sl_CreateTopicsResponse_CreatableTopicResult_init(r);
        r->Name = t->Name;
        struct sl_topic_result res;
        bool dup = false;
        for (int32_t j = 0; j < n; j++)
            if (j != i && sl_slice_eq(req->Topics[j].Name, t->Name))
                dup = true;
        if (dup) {
            res.error = SL_KERR_INVALID_REQUEST;
            snprintf(res.message, sizeof(res.message), "Create topics request from client contains multiple entries for topic %.*s",
                     SL_SLICE_FMT(t->Name));
        } else if (sl_authz_denied(call, i)) {
            res.error = SL_KERR_TOPIC_AUTHORIZATION_FAILED;
            snprintf(res.message, sizeof(res.message), "Authorization failed.");
        } else {
            struct sl_topic_spec spec = {.name = t->Name, .partitions = t->NumPartitions,
                                         .replication_factor = t->ReplicationFactor};
            int32_t na = t->Assignments_n > 0 ? t->Assignments_n : 0;
            const int32_t **as = sl_arena_alloc(a, sizeof(*as) * (size_t)(na + 1));
            int32_t *sizes = sl_arena_alloc(a, sizeof(*sizes) * (size_t)(na + 1));
            int32_t nc = t->Configs_n > 0 ? t->Configs_n : 0;
            struct sl_slice *keys = sl_arena_alloc(a, sizeof(*keys) * (size_t)(nc + 1));
            struct sl_slice *vals = sl_arena_alloc(a, sizeof(*vals) * (size_t)(nc + 1));
            if (!as || !sizes || !keys || !vals) {
                res.error = SL_KERR_UNKNOWN_SERVER_ERROR;
                snprintf(res.message, sizeof(res.message), "out of memory");
            } else {
                /* Assignments arrive keyed by partition index, in any order. */
                bool bad = false;
                for (int32_t j = 0; j < na; j++) {
                    int32_t pi = t->Assignments[j].PartitionIndex;
                    if (pi < 0 || pi >= na || as[pi]) {
                        bad = true;
                        break;
                    }
                    as[pi] = t->Assignments[j].BrokerIds;
                    sizes[pi] = t->Assignments[j].BrokerIds_n;
                }
                for (int32_t j = 0; j < nc; j++) {
                    keys[j] = t->Configs[j].Name;
                    vals[j] = t->Configs[j].Value;
                }
                spec.assignments_n = na;
                spec.assignments = as;
                spec.assignment_sizes = sizes;
                spec.configs_n = nc;
                spec.config_keys = keys;
                spec.config_values = vals;
                if (bad) {
                    res.error = SL_KERR_INVALID_REPLICA_ASSIGNMENT;
                    snprintf(res.message, sizeof(res.message),
                             "Partitions of the manual assignment must be consecutive and start at 0");
                } else {
                    sl_ctl_create_topic(ctl, &spec, req->validateOnly, &res);
                }
            }
        }
        r->ErrorCode = res.error;
        if (res.error) {
            r->ErrorMessage = sl_arena_str(a, res.message);
            SL_INFO("meta", "CreateTopics %.*s refused: %s", SL_SLICE_FMT(t->Name), res.message);
            continue;
        }
        r->TopicId = res.id;
        if (configs_hidden(call, i)) {
            /* Kafka: without DESCRIBE_CONFIGS on the topic, no configs nor counts */
            r->TopicConfigErrorCode = SL_KERR_TOPIC_AUTHORIZATION_FAILED;
            r->NumPartitions = -1;
            r->ReplicationFactor = -1;
            r->Configs_n = -1;
            continue;
        }
        r->NumPartitions = res.partitions;
        r->ReplicationFactor = res.replication_factor;
        fill_configs(call, sl_controller_image(ctl), t, r);
    }
    sl_call_respond_later(call);
}

void sl_handle_CreateTopics(struct sl_call *call)
{
    /* CREATE on the cluster, else on each topic (Kafka's order: duplicates first) */
    struct sl_CreateTopicsRequest *req = call->request;
    if (sl_authz_enabled(call)) {
        bool may_create_all = sl_authz_cluster(call, SL_ACL_OP_CREATE);
        bool *denied = sl_authz_deny_map(call, req->Topics_n);
        bool *hidden = denied ? sl_arena_alloc(&call->req->arena, sizeof(bool) * (size_t)(req->Topics_n + 1)) : NULL;
        if (!hidden) {
            sl_call_close(call, "out of memory for CreateTopics");
            return;
        }
        ((struct sl_authz_state *)call->authz)->stripped = hidden;
        for (int32_t i = 0; i < req->Topics_n; i++) {
            struct sl_slice name = req->Topics[i].Name;
            denied[i] = !may_create_all && !sl_authz_topic(call, NULL, SL_ACL_OP_CREATE, name);
            hidden[i] = call->version >= 5 && !sl_authz_topic(call, NULL, SL_ACL_OP_DESCRIBE_CONFIGS, name);
        }
    }
    sl_controller_submit(call->broker->ctl, create_topics_op, call);
}

static void delete_topics_op(struct sl_controller *ctl, void *arg)
{
    struct sl_call *call = arg;
    struct sl_DeleteTopicsRequest *req = call->request;
    struct sl_DeleteTopicsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    bool by_state = call->version >= 6;
    int32_t n = by_state ? req->Topics_n : req->TopicNames_n;
    if (n < 0)
        n = 0;
    resp->Responses = sl_arena_alloc(a, sizeof(*resp->Responses) * (size_t)(n + 1));
    if (!resp->Responses) {
        sl_call_respond_later(call);
        return;
    }
    resp->Responses_n = n;
    for (int32_t i = 0; i < n; i++) {
        struct sl_DeleteTopicsResponse_DeletableTopicResult *r = &resp->Responses[i];
        sl_DeleteTopicsResponse_DeletableTopicResult_init(r);
        struct sl_slice name = by_state ? req->Topics[i].Name : req->TopicNames[i];
        struct sl_uuid id = by_state ? req->Topics[i].TopicId : (struct sl_uuid){{0}};
        struct sl_topic_result res;
        if (name.p && !sl_kp_uuid_is_zero(&id)) {
            res.error = SL_KERR_INVALID_REQUEST;
            snprintf(res.message, sizeof(res.message), "Topic name and topic ID can not both be specified.");
        } else if (sl_authz_denied(call, i)) {
            res.error = SL_KERR_TOPIC_AUTHORIZATION_FAILED;
            snprintf(res.message, sizeof(res.message), "Authorization failed.");
        } else {
            sl_ctl_delete_topic(ctl, name, &id, &res);
        }
        r->Name = name;
        r->TopicId = res.error ? id : res.id;
        r->ErrorCode = res.error;
        if (res.error)
            r->ErrorMessage = sl_arena_str(a, res.message);
    }
    sl_call_respond_later(call);
}

void sl_handle_DeleteTopics(struct sl_call *call)
{
    /* DELETE on each topic; a topic id is resolved to its name first */
    struct sl_DeleteTopicsRequest *req = call->request;
    if (sl_authz_enabled(call)) {
        bool by_state = call->version >= 6;
        int32_t n = by_state ? req->Topics_n : req->TopicNames_n;
        bool *denied = sl_authz_deny_map(call, n);
        struct sl_image *img = sl_image_acquire();
        for (int32_t i = 0; denied && i < n; i++) {
            struct sl_slice name = by_state ? req->Topics[i].Name : req->TopicNames[i];
            if (!name.p && by_state) {
                const struct sl_image_topic *t = sl_image_topic_by_id(img, &req->Topics[i].TopicId);
                if (!t)
                    continue; /* UNKNOWN_TOPIC_ID from the controller */
                name = sl_slice_cstr(t->name);
            }
            denied[i] = !sl_authz_topic(call, img, SL_ACL_OP_DELETE, name);
        }
        sl_image_release(img);
        if (!denied) {
            sl_call_close(call, "out of memory for DeleteTopics");
            return;
        }
    }
    sl_controller_submit(call->broker->ctl, delete_topics_op, call);
}

/* ---- auto-creation ------------------------------------------------------- */

struct autocreate {
    size_t len;
    char name[];
};

static void autocreate_op(struct sl_controller *ctl, void *arg)
{
    struct autocreate *ac = arg;
    struct sl_topic_spec spec = {.name = {(const uint8_t *)ac->name, ac->len}, .partitions = -1,
                                 .replication_factor = -1};
    struct sl_topic_result res;
    if (!sl_image_topic_by_name(sl_controller_image(ctl), spec.name)) {
        sl_ctl_create_topic(ctl, &spec, false, &res);
        if (res.error && res.error != SL_KERR_TOPIC_ALREADY_EXISTS)
            SL_WARN("meta", "auto-creation of topic %s failed: %s", ac->name, res.message);
    }
    free(ac);
}

bool sl_topic_autocreate(struct sl_broker *broker, struct sl_slice name)
{
    if (!broker->conf->auto_create_topics_enable || !broker->ctl || sl_topic_is_internal(name))
        return false;
    struct autocreate *ac = malloc(sizeof(*ac) + name.len + 1);
    if (!ac)
        return false;
    ac->len = name.len;
    memcpy(ac->name, name.p, name.len);
    ac->name[name.len] = 0;
    sl_controller_submit(broker->ctl, autocreate_op, ac);
    return true;
}
