/*
 * h_configs.c - DescribeConfigs, AlterConfigs and IncrementalAlterConfigs
 * for TOPIC and BROKER resources.
 *
 * DescribeConfigs reads the current metadata image on the request's loop
 * (images are immutable; nothing blocks). The alter APIs hand the request
 * to the controller thread, which checks and writes ConfigRecords
 * (ctl_configs.c), fills the response in the request's arena and posts the
 * answer back to the loop, as h_topics.c does.
 *
 * Broker resources: "" is the cluster-wide <default>; a broker id describes
 * that broker, and only this node's id can be described here (Kafka:
 * "Unexpected broker id"); any id may be altered.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/diag.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "conf/conf.h"
#include "meta/configs.h"
#include "meta/controller.h"
#include "meta/ctl_configs.h"
#include "meta/image.h"
#include "meta/topic_config.h"
#include "proto/gen/AlterConfigs.h"
#include "proto/gen/DescribeConfigs.h"
#include "proto/gen/IncrementalAlterConfigs.h"
#include "proto/gen/errors.h"

static struct sl_slice arena_fmt(struct sl_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static struct sl_slice arena_fmt(struct sl_arena *a, const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return sl_arena_str(a, buf);
}

/* ---- DescribeConfigs ---------------------------------------------------- */

static bool wanted(const struct sl_DescribeConfigsRequest_DescribeConfigsResource *res, const char *name)
{
    if (res->ConfigurationKeys_n < 0)
        return true;
    for (int32_t i = 0; i < res->ConfigurationKeys_n; i++)
        if (sl_slice_eq_cstr(res->ConfigurationKeys[i], name))
            return true;
    return false;
}

/* Copies an entry into the response. false: out of memory. */
static bool put_entry(struct sl_call *call, const struct sl_DescribeConfigsRequest *req,
                      const struct sl_cfg_entry *e, struct sl_DescribeConfigsResponse_DescribeConfigsResourceResult *c)
{
    struct sl_arena *a = &call->req->arena;
    sl_DescribeConfigsResponse_DescribeConfigsResourceResult_init(c);
    c->Name = sl_slice_cstr(e->name);
    c->Value = e->null ? (struct sl_slice){NULL, 0} : sl_arena_str(a, e->value);
    if (!e->null && !c->Value.p)
        return false;
    c->ReadOnly = e->read_only;
    c->IsDefault = e->source == SL_CFG_SRC_DEFAULT;
    c->ConfigSource = e->source;
    c->IsSensitive = e->sensitive;
    c->ConfigType = e->type;
    c->Documentation = req->IncludeDocumentation && e->doc ? sl_slice_cstr(e->doc) : (struct sl_slice){NULL, 0};
    c->Synonyms_n = 0;
    if (!req->IncludeSynonyms || e->synonyms_n == 0)
        return true;
    c->Synonyms = sl_arena_alloc(a, sizeof(*c->Synonyms) * (size_t)e->synonyms_n);
    if (!c->Synonyms)
        return false;
    for (int i = 0; i < e->synonyms_n; i++) {
        struct sl_DescribeConfigsResponse_DescribeConfigsSynonym *s = &c->Synonyms[i];
        sl_DescribeConfigsResponse_DescribeConfigsSynonym_init(s);
        s->Name = sl_slice_cstr(e->synonyms[i].name);
        s->Value = e->synonyms[i].null ? (struct sl_slice){NULL, 0} : sl_arena_str(a, e->synonyms[i].value);
        s->Source = e->synonyms[i].source;
    }
    c->Synonyms_n = e->synonyms_n;
    return true;
}

static void describe_topic(struct sl_call *call, const struct sl_image *img,
                           const struct sl_DescribeConfigsRequest_DescribeConfigsResource *res,
                           struct sl_DescribeConfigsResponse_DescribeConfigsResult *r, struct sl_cfg_entry *e)
{
    struct sl_arena *a = &call->req->arena;
    const struct sl_DescribeConfigsRequest *req = call->request;
    const struct sl_image_topic *t = sl_image_topic_by_name(img, res->ResourceName);
    if (!t) {
        r->ErrorCode = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        r->ErrorMessage = sl_arena_str(a, "The topic does not exist.");
        return;
    }
    size_t n;
    const struct sl_topic_config_key *keys = sl_topic_config_keys(&n);
    r->Configs = sl_arena_alloc(a, sizeof(*r->Configs) * (n + 1));
    if (!r->Configs)
        goto nomem;
    int32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!wanted(res, keys[i].name))
            continue;
        sl_cfg_describe_topic(img, call->broker->conf, call->broker->node_id, t, &keys[i], e);
        if (!put_entry(call, req, e, &r->Configs[k++]))
            goto nomem;
    }
    r->Configs_n = k;
    return;
nomem:
    r->Configs_n = 0;
    r->ErrorCode = SL_KERR_UNKNOWN_SERVER_ERROR;
    r->ErrorMessage = sl_slice_cstr("out of memory");
}

static void describe_broker(struct sl_call *call, const struct sl_image *img,
                            const struct sl_DescribeConfigsRequest_DescribeConfigsResource *res,
                            struct sl_DescribeConfigsResponse_DescribeConfigsResult *r, struct sl_cfg_entry *e)
{
    struct sl_arena *a = &call->req->arena;
    const struct sl_DescribeConfigsRequest *req = call->request;
    struct sl_slice name = res->ResourceName;
    bool per_broker = name.len > 0;
    if (per_broker) {
        char buf[16], *end;
        long id = -1;
        if (name.len < sizeof(buf)) {
            memcpy(buf, name.p, name.len);
            buf[name.len] = 0;
            id = strtol(buf, &end, 10);
            if (*end || buf[0] == '-' || buf[0] == '+' || buf[0] == ' ')
                id = -2;
        } else {
            id = -2;
        }
        if (id == -2) {
            r->ErrorCode = SL_KERR_INVALID_REQUEST;
            r->ErrorMessage = arena_fmt(a, "Broker id must be an integer, but it is: %.*s", SL_SLICE_FMT(name));
            return;
        }
        if (id != call->broker->node_id) {
            r->ErrorCode = SL_KERR_INVALID_REQUEST;
            r->ErrorMessage = arena_fmt(a, "Unexpected broker id, expected %d or empty string, but received %.*s",
                                         call->broker->node_id, SL_SLICE_FMT(name));
            return;
        }
    }
    size_t n;
    const struct sl_conf_key *keys = sl_conf_keys(&n);
    r->Configs = sl_arena_alloc(a, sizeof(*r->Configs) * (n + 1));
    if (!r->Configs)
        goto nomem;
    int32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!wanted(res, keys[i].name))
            continue;
        if (!sl_cfg_describe_broker(img, call->broker->conf, call->broker->node_id, &keys[i], per_broker, e))
            continue;
        if (!put_entry(call, req, e, &r->Configs[k++]))
            goto nomem;
    }
    r->Configs_n = k;
    return;
nomem:
    r->Configs_n = 0;
    r->ErrorCode = SL_KERR_UNKNOWN_SERVER_ERROR;
    r->ErrorMessage = sl_slice_cstr("out of memory");
}

/* Kafka's rule: a topic's configs need op on the topic, a broker's (or its
 * loggers') op on the cluster. 0 or the error for the resource. */
static int16_t config_authz(struct sl_call *call, int8_t type, struct sl_slice name, int8_t op)
{
    if (type == SL_CFG_RES_TOPIC)
        return sl_authz_topic(call, NULL, op, name) ? 0 : SL_KERR_TOPIC_AUTHORIZATION_FAILED;
    if (type == SL_CFG_RES_BROKER || type == 8 /* BROKER_LOGGER */)
        return sl_authz_cluster(call, op) ? 0 : SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
    return 0;
}

static int16_t denied_error(int8_t type)
{
    return type == SL_CFG_RES_TOPIC ? SL_KERR_TOPIC_AUTHORIZATION_FAILED : SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
}

void sl_handle_DescribeConfigs(struct sl_call *call)
{
    const struct sl_DescribeConfigsRequest *req = call->request;
    struct sl_DescribeConfigsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t n = req->Resources_n > 0 ? req->Resources_n : 0;
    resp->Results = sl_arena_alloc(a, sizeof(*resp->Results) * (size_t)(n + 1));
    struct sl_cfg_entry *e = malloc(sizeof(*e));
    struct sl_image *img = sl_image_acquire();
    if (!resp->Results || !e || !img) {
        free(e);
        if (img)
            sl_image_release(img);
        sl_call_close(call, "out of memory describing configs");
        return;
    }
    resp->Results_n = n;
    for (int32_t i = 0; i < n; i++) {
        const struct sl_DescribeConfigsRequest_DescribeConfigsResource *res = &req->Resources[i];
        struct sl_DescribeConfigsResponse_DescribeConfigsResult *r = &resp->Results[i];
        sl_DescribeConfigsResponse_DescribeConfigsResult_init(r);
        r->ResourceType = res->ResourceType;
        r->ResourceName = res->ResourceName;
        r->Configs_n = 0;
        int16_t denied = config_authz(call, res->ResourceType, res->ResourceName, SL_ACL_OP_DESCRIBE_CONFIGS);
        if (denied) {
            r->ErrorCode = denied;
        } else if (res->ResourceType == SL_CFG_RES_TOPIC) {
            describe_topic(call, img, res, r, e);
        } else if (res->ResourceType == SL_CFG_RES_BROKER) {
            describe_broker(call, img, res, r, e);
        } else {
            r->ErrorCode = SL_KERR_INVALID_REQUEST;
            r->ErrorMessage = arena_fmt(a, "Unsupported resource type %d for describing configs", res->ResourceType);
        }
    }
    sl_image_release(img);
    free(e);
    sl_call_respond(call);
}

/* ---- AlterConfigs and IncrementalAlterConfigs --------------------------- */

static void alter_configs_op(struct sl_controller *ctl, void *arg)
{
    struct sl_call *call = arg;
    const struct sl_AlterConfigsRequest *req = call->request;
    struct sl_AlterConfigsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t n = req->Resources_n > 0 ? req->Resources_n : 0;
    resp->Responses = sl_arena_alloc(a, sizeof(*resp->Responses) * (size_t)(n + 1));
    if (!resp->Responses)
        n = 0;
    resp->Responses_n = n;
    for (int32_t i = 0; i < n; i++) {
        const struct sl_AlterConfigsRequest_AlterConfigsResource *res = &req->Resources[i];
        struct sl_AlterConfigsResponse_AlterConfigsResourceResponse *r = &resp->Responses[i];
        sl_AlterConfigsResponse_AlterConfigsResourceResponse_init(r);
        r->ResourceType = res->ResourceType;
        r->ResourceName = res->ResourceName;
        int32_t nc = res->Configs_n > 0 ? res->Configs_n : 0;
        struct sl_cfg_alter *ops = sl_arena_alloc(a, sizeof(*ops) * (size_t)(nc + 1));
        struct sl_cfg_result result;
        if (sl_authz_denied(call, i)) {
            r->ErrorCode = denied_error(res->ResourceType);
            continue;
        }
        if (!ops) {
            r->ErrorCode = SL_KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        for (int32_t j = 0; j < nc; j++)
            ops[j] = (struct sl_cfg_alter){SL_CFG_OP_SET, res->Configs[j].Name, res->Configs[j].Value};
        sl_ctl_alter_configs(ctl, res->ResourceType, res->ResourceName, ops, nc, false, req->ValidateOnly, &result);
        r->ErrorCode = result.error;
        if (result.error) {
            r->ErrorMessage = sl_arena_str(a, result.message);
            SL_INFO("meta", "AlterConfigs %.*s refused: %s", SL_SLICE_FMT(res->ResourceName), result.message);
        }
    }
    sl_call_respond_later(call);
}

void sl_handle_AlterConfigs(struct sl_call *call)
{
    const struct sl_AlterConfigsRequest *req = call->request;
    if (sl_authz_enabled(call) && req->Resources_n > 0) { /* ALTER_CONFIGS, decided here on the loop */
        bool *denied = sl_authz_deny_map(call, req->Resources_n);
        if (!denied) {
            sl_call_close(call, "out of memory for AlterConfigs");
            return;
        }
        for (int32_t i = 0; i < req->Resources_n; i++)
            denied[i] = config_authz(call, req->Resources[i].ResourceType, req->Resources[i].ResourceName,
                                     SL_ACL_OP_ALTER_CONFIGS) != 0;
    }
    sl_controller_submit(call->broker->ctl, alter_configs_op, call);
}

static void incremental_alter_configs_op(struct sl_controller *ctl, void *arg)
{
    struct sl_call *call = arg;
    const struct sl_IncrementalAlterConfigsRequest *req = call->request;
    struct sl_IncrementalAlterConfigsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t n = req->Resources_n > 0 ? req->Resources_n : 0;
    resp->Responses = sl_arena_alloc(a, sizeof(*resp->Responses) * (size_t)(n + 1));
    if (!resp->Responses)
        n = 0;
    resp->Responses_n = n;
    for (int32_t i = 0; i < n; i++) {
        const struct sl_IncrementalAlterConfigsRequest_AlterConfigsResource *res = &req->Resources[i];
        struct sl_IncrementalAlterConfigsResponse_AlterConfigsResourceResponse *r = &resp->Responses[i];
        sl_IncrementalAlterConfigsResponse_AlterConfigsResourceResponse_init(r);
        r->ResourceType = res->ResourceType;
        r->ResourceName = res->ResourceName;
        int32_t nc = res->Configs_n > 0 ? res->Configs_n : 0;
        struct sl_cfg_alter *ops = sl_arena_alloc(a, sizeof(*ops) * (size_t)(nc + 1));
        struct sl_cfg_result result;
        if (sl_authz_denied(call, i)) {
            r->ErrorCode = denied_error(res->ResourceType);
            continue;
        }
        if (!ops) {
            r->ErrorCode = SL_KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        for (int32_t j = 0; j < nc; j++)
            ops[j] = (struct sl_cfg_alter){res->Configs[j].ConfigOperation, res->Configs[j].Name,
                                           res->Configs[j].Value};
        sl_ctl_alter_configs(ctl, res->ResourceType, res->ResourceName, ops, nc, true, req->ValidateOnly, &result);
        r->ErrorCode = result.error;
        if (result.error) {
            r->ErrorMessage = sl_arena_str(a, result.message);
            SL_INFO("meta", "IncrementalAlterConfigs %.*s refused: %s", SL_SLICE_FMT(res->ResourceName),
                    result.message);
        }
    }
    sl_call_respond_later(call);
}

void sl_handle_IncrementalAlterConfigs(struct sl_call *call)
{
    const struct sl_IncrementalAlterConfigsRequest *req = call->request;
    if (sl_authz_enabled(call) && req->Resources_n > 0) { /* ALTER_CONFIGS, decided here on the loop */
        bool *denied = sl_authz_deny_map(call, req->Resources_n);
        if (!denied) {
            sl_call_close(call, "out of memory for IncrementalAlterConfigs");
            return;
        }
        for (int32_t i = 0; i < req->Resources_n; i++)
            denied[i] = config_authz(call, req->Resources[i].ResourceType, req->Resources[i].ResourceName,
                                     SL_ACL_OP_ALTER_CONFIGS) != 0;
    }
    sl_controller_submit(call->broker->ctl, incremental_alter_configs_op, call);
}
