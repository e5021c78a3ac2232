/*
 * h_acls.c - CreateAcls, DescribeAcls and DeleteAcls.
 *
 * Kafka's rules: without an authorizer every answer is SECURITY_DISABLED;
 * creating and deleting need ALTER on the cluster, describing needs
 * DESCRIBE on it (CLUSTER_AUTHORIZATION_FAILED otherwise). Creations and
 * deletions run on the controller thread (meta/acls.c) and are answered
 * once their records are synced and applied; DescribeAcls reads the image.
 */
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "meta/acls.h"
#include "meta/controller.h"
#include "meta/image.h"
#include "proto/gen/CreateAcls.h"
#include "proto/gen/DeleteAcls.h"
#include "proto/gen/DescribeAcls.h"
#include "proto/gen/errors.h"

#define NO_AUTHORIZER "No Authorizer is configured."

/* ---- CreateAcls ---------------------------------------------------------- */

struct create_acls {
    struct sl_call *call;
    struct sl_acl_binding *acls;
    struct sl_acl_result *res;
    int32_t n;
};

static void create_acls_op(struct sl_controller *ctl, void *arg)
{
    struct create_acls *op = arg;
    struct sl_CreateAclsResponse *resp = op->call->response;
    sl_ctl_create_acls(ctl, op->acls, op->n, op->res);
    for (int32_t i = 0; i < op->n; i++) {
        resp->Results[i].ErrorCode = op->res[i].error;
        if (op->res[i].message)
            resp->Results[i].ErrorMessage = sl_slice_cstr(op->res[i].message);
    }
    sl_call_respond_later(op->call);
}

void sl_handle_CreateAcls(struct sl_call *call)
{
    const struct sl_CreateAclsRequest *req = call->request;
    struct sl_CreateAclsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t n = req->Creations_n > 0 ? req->Creations_n : 0;
    struct create_acls *op = sl_arena_alloc(a, sizeof(*op));
    resp->Results = sl_arena_alloc(a, sizeof(*resp->Results) * (size_t)(n + 1));
    if (!op || !resp->Results) {
        sl_call_close(call, "out of memory for CreateAcls");
        return;
    }
    resp->Results_n = n;
    for (int32_t i = 0; i < n; i++)
        sl_CreateAclsResponse_AclCreationResult_init(&resp->Results[i]);
    int16_t refuse = 0;
    if (!sl_authz_enabled(call))
        refuse = SL_KERR_SECURITY_DISABLED;
    else if (!sl_authz_cluster(call, SL_ACL_OP_ALTER))
        refuse = SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
    if (refuse || n == 0) {
        for (int32_t i = 0; i < n; i++) {
            resp->Results[i].ErrorCode = refuse;
            if (refuse == SL_KERR_SECURITY_DISABLED)
                resp->Results[i].ErrorMessage = sl_slice_cstr(NO_AUTHORIZER);
        }
        sl_call_respond(call);
        return;
    }
    op->call = call;
    op->n = n;
    op->acls = sl_arena_alloc(a, sizeof(*op->acls) * (size_t)n);
    op->res = sl_arena_alloc(a, sizeof(*op->res) * (size_t)n);
    if (!op->acls || !op->res) {
        sl_call_close(call, "out of memory for CreateAcls");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const struct sl_CreateAclsRequest_AclCreation *c = &req->Creations[i];
        op->acls[i] = (struct sl_acl_binding){
            c->ResourceType, c->ResourcePatternType, c->ResourceName,  c->Principal,
            c->Host,         c->Operation,           c->PermissionType};
    }
    sl_controller_submit(call->broker->ctl, create_acls_op, op);
}

/* ---- DescribeAcls -------------------------------------------------------- */

static int cmp_resource(const void *x, const void *y)
{
    const struct sl_acl *a = *(const struct sl_acl *const *)x,
                        *b = *(const struct sl_acl *const *)y;
    if (a->resource_type != b->resource_type)
        return a->resource_type - b->resource_type;
    if (a->pattern_type != b->pattern_type)
        return a->pattern_type - b->pattern_type;
    return strcmp(a->name, b->name);
}

void sl_handle_DescribeAcls(struct sl_call *call)
{
    const struct sl_DescribeAclsRequest *req = call->request;
    struct sl_DescribeAclsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    resp->Resources_n = 0;
    if (!sl_authz_enabled(call)) {
        resp->ErrorCode = SL_KERR_SECURITY_DISABLED;
        resp->ErrorMessage = sl_slice_cstr(NO_AUTHORIZER);
        sl_call_respond(call);
        return;
    }
    if (!sl_authz_cluster(call, SL_ACL_OP_DESCRIBE)) {
        resp->ErrorCode = SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
        sl_call_respond(call);
        return;
    }
    struct sl_acl_binding f = {req->ResourceTypeFilter, req->PatternTypeFilter,
                               req->ResourceNameFilter, req->PrincipalFilter,
                               req->HostFilter,         req->Operation,
                               req->PermissionType};
    const char *why = sl_acl_validate_filter(&f);
    if (why) {
        resp->ErrorCode = SL_KERR_INVALID_REQUEST;
        resp->ErrorMessage = sl_slice_cstr(why);
        sl_call_respond(call);
        return;
    }
    struct sl_image *img = sl_image_acquire();
    size_t total = sl_acl_set_count(img->acls), n = 0;
    const struct sl_acl **hits = sl_arena_alloc(a, sizeof(*hits) * (total + 1));
    if (!hits)
        goto oom;
    for (size_t i = 0; i < total; i++)
        if (sl_acl_filter_matches(&f, sl_acl_set_at(img->acls, i)))
            hits[n++] = sl_acl_set_at(img->acls, i);
    qsort(hits, n, sizeof(*hits), cmp_resource);
    resp->Resources = sl_arena_alloc(a, sizeof(*resp->Resources) * (n + 1));
    if (!resp->Resources)
        goto oom;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && cmp_resource(&hits[i], &hits[j]) == 0)
            j++;
        struct sl_DescribeAclsResponse_DescribeAclsResource *r =
            &resp->Resources[resp->Resources_n++];
        sl_DescribeAclsResponse_DescribeAclsResource_init(r);
        r->ResourceType = hits[i]->resource_type;
        r->PatternType = hits[i]->pattern_type;
        r->ResourceName = sl_arena_str(a, hits[i]->name);
        r->Acls = sl_arena_alloc(a, sizeof(*r->Acls) * (j - i));
        if (!r->Acls || !r->ResourceName.p)
            goto oom;
        r->Acls_n = (int32_t)(j - i);
        for (size_t k = i; k < j; k++) {
            struct sl_DescribeAclsResponse_AclDescription *d = &r->Acls[k - i];
            sl_DescribeAclsResponse_AclDescription_init(d);
            d->Principal = sl_arena_str(a, hits[k]->principal);
            d->Host = sl_arena_str(a, hits[k]->host);
            d->Operation = hits[k]->op;
            d->PermissionType = hits[k]->perm;
            if (!d->Principal.p || !d->Host.p)
                goto oom;
        }
        i = j;
    }
    sl_image_release(img);
    sl_call_respond(call);
    return;
oom:
    sl_image_release(img);
    sl_call_close(call, "out of memory for DescribeAcls");
}

/* ---- DeleteAcls ---------------------------------------------------------- */

struct delete_acls {
    struct sl_call *call;
    struct sl_acl_binding *filters;
    struct sl_acl_delete_result *res;
    int32_t n;
};

static void delete_acls_op(struct sl_controller *ctl, void *arg)
{
    struct delete_acls *op = arg;
    struct sl_DeleteAclsResponse *resp = op->call->response;
    struct sl_arena *a = &op->call->req->arena;
    sl_ctl_delete_acls(ctl, op->filters, op->n, a, op->res);
    for (int32_t i = 0; i < op->n; i++) {
        struct sl_DeleteAclsResponse_DeleteAclsFilterResult *fr = &resp->FilterResults[i];
        const struct sl_acl_delete_result *r = &op->res[i];
        fr->ErrorCode = r->error;
        if (r->message)
            fr->ErrorMessage = sl_slice_cstr(r->message);
        fr->MatchingAcls =
            sl_arena_alloc(a, sizeof(*fr->MatchingAcls) * (size_t)(r->matched_n + 1));
        if (!fr->MatchingAcls) {
            fr->ErrorCode = SL_KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        fr->MatchingAcls_n = r->matched_n;
        for (int32_t k = 0; k < r->matched_n; k++) {
            struct sl_DeleteAclsResponse_DeleteAclsMatchingAcl *m = &fr->MatchingAcls[k];
            const struct sl_acl *acl = &r->matched[k];
            sl_DeleteAclsResponse_DeleteAclsMatchingAcl_init(m);
            m->ResourceType = acl->resource_type;
            m->ResourceName = sl_slice_cstr(acl->name);
            m->PatternType = acl->pattern_type;
            m->Principal = sl_slice_cstr(acl->principal);
            m->Host = sl_slice_cstr(acl->host);
            m->Operation = acl->op;
            m->PermissionType = acl->perm;
        }
    }
    sl_call_respond_later(op->call);
}

void sl_handle_DeleteAcls(struct sl_call *call)
{
    const struct sl_DeleteAclsRequest *req = call->request;
    struct sl_DeleteAclsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t n = req->Filters_n > 0 ? req->Filters_n : 0;
    struct delete_acls *op = sl_arena_alloc(a, sizeof(*op));
    resp->FilterResults = sl_arena_alloc(a, sizeof(*resp->FilterResults) * (size_t)(n + 1));
    if (!op || !resp->FilterResults) {
        sl_call_close(call, "out of memory for DeleteAcls");
        return;
    }
    resp->FilterResults_n = n;
    for (int32_t i = 0; i < n; i++)
        sl_DeleteAclsResponse_DeleteAclsFilterResult_init(&resp->FilterResults[i]);
    int16_t refuse = 0;
    if (!sl_authz_enabled(call))
        refuse = SL_KERR_SECURITY_DISABLED;
    else if (!sl_authz_cluster(call, SL_ACL_OP_ALTER))
        refuse = SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
    if (refuse || n == 0) {
        for (int32_t i = 0; i < n; i++) {
            resp->FilterResults[i].ErrorCode = refuse;
            resp->FilterResults[i].MatchingAcls_n = 0;
            if (refuse == SL_KERR_SECURITY_DISABLED)
                resp->FilterResults[i].ErrorMessage = sl_slice_cstr(NO_AUTHORIZER);
        }
        sl_call_respond(call);
        return;
    }
    op->call = call;
    op->n = n;
    op->filters = sl_arena_alloc(a, sizeof(*op->filters) * (size_t)n);
    op->res = sl_arena_alloc(a, sizeof(*op->res) * (size_t)n);
    if (!op->filters || !op->res) {
        sl_call_close(call, "out of memory for DeleteAcls");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const struct sl_DeleteAclsRequest_DeleteAclsFilter *f = &req->Filters[i];
        op->filters[i] = (struct sl_acl_binding){
            f->ResourceTypeFilter, f->PatternTypeFilter, f->ResourceNameFilter, f->PrincipalFilter,
            f->HostFilter,         f->Operation,         f->PermissionType};
    }
    sl_controller_submit(call->broker->ctl, delete_acls_op, op);
}
