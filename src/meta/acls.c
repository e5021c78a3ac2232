/*
 * acls.c - ACL records and the controller's CreateAcls / DeleteAcls
 * (Kafka's AclControlManager): validation, ids, one batch per request.
 * The set itself and its index are security/acl.c's.
 */
#include "meta/acls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/diag.h"
#include "meta/controller.h"
#include "meta/image.h"
#include "proto/gen/errors.h"
#include "proto/gen/meta_records.h"

#define REC_ACL 18
#define REC_REMOVE_ACL 19

int sl_meta_apply_acl(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_AccessControlEntryRecord *rec = r;
    struct sl_acl_binding bind = {rec->ResourceType,  rec->PatternType, rec->ResourceName,
                                  rec->Principal,     rec->Host,        rec->Operation,
                                  rec->PermissionType};
    int rc = sl_acl_set_add(sl_image_builder_acls(b), &rec->Id, &bind);
    return rc == -EEXIST ? -EINVAL : rc;
}

int sl_meta_apply_remove_acl(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_RemoveAccessControlEntryRecord *rec = r;
    int rc = sl_acl_set_remove(sl_image_builder_acls(b), &rec->Id);
    return rc == -ENOENT ? -EINVAL : rc;
}

static bool binding_eq(const struct sl_acl_binding *a, const struct sl_acl_binding *b)
{
    return a->resource_type == b->resource_type && a->pattern_type == b->pattern_type &&
           a->op == b->op && a->perm == b->perm && sl_slice_eq(a->name, b->name) &&
           sl_slice_eq(a->principal, b->principal) && sl_slice_eq(a->host, b->host);
}

/* A fresh id: not zero and not in use (Kafka retries the same way). */
static void new_id(const struct sl_acl_set *s, const struct sl_uuid *taken, int32_t taken_n,
                   struct sl_uuid *id)
{
    for (;;) {
        sl_uuid_random(id);
        bool clash = sl_kp_uuid_is_zero(id);
        for (size_t i = 0; !clash && i < sl_acl_set_count(s); i++)
            clash = memcmp(sl_acl_set_at(s, i)->id.b, id->b, 16) == 0;
        for (int32_t i = 0; !clash && i < taken_n; i++)
            clash = memcmp(taken[i].b, id->b, 16) == 0;
        if (!clash)
            return;
    }
}

void sl_ctl_create_acls(struct sl_controller *ctl, const struct sl_acl_binding *acls, int32_t n,
                        struct sl_acl_result *res)
{
    const struct sl_image *img = sl_controller_image(ctl);
    struct sl_meta_rec *recs = calloc((size_t)n + 1, sizeof(*recs));
    struct sl_AccessControlEntryRecord *ace = calloc((size_t)n + 1, sizeof(*ace));
    struct sl_uuid *ids = calloc((size_t)n + 1, sizeof(*ids));
    int32_t *rec_of = calloc((size_t)n + 1, sizeof(*rec_of)); /* index of the record, -1 none */
    if (!recs || !ace || !ids || !rec_of) {
        for (int32_t i = 0; i < n; i++)
            res[i] = (struct sl_acl_result){SL_KERR_UNKNOWN_SERVER_ERROR, "Out of memory."};
        goto out;
    }
    int nrec = 0;
    for (int32_t i = 0; i < n; i++) {
        const struct sl_acl_binding *b = &acls[i];
        rec_of[i] = -1;
        res[i] = (struct sl_acl_result){0, NULL};
        const char *why = sl_acl_validate_binding(b);
        if (why) {
            res[i] = (struct sl_acl_result){SL_KERR_INVALID_REQUEST, why};
            continue;
        }
        if (sl_acl_set_find(img->acls, b))
            continue; /* already there: success, nothing to write */
        bool dup = false;
        for (int32_t j = 0; j < i && !dup; j++)
            dup = rec_of[j] >= 0 && binding_eq(&acls[j], b);
        if (dup)
            continue;
        new_id(img->acls, ids, nrec, &ids[nrec]);
        struct sl_AccessControlEntryRecord *r = &ace[nrec];
        sl_AccessControlEntryRecord_init(r);
        r->Id = ids[nrec];
        r->ResourceType = b->resource_type;
        r->ResourceName = b->name;
        r->PatternType = b->pattern_type;
        r->Principal = b->principal;
        r->Host = b->host;
        r->Operation = b->op;
        r->PermissionType = b->perm;
        recs[nrec] = (struct sl_meta_rec){REC_ACL, 0, r};
        rec_of[i] = nrec++;
    }
    int rc = sl_controller_write(ctl, recs, nrec);
    if (rc < 0) {
        SL_ERROR("meta", "CreateAcls: cannot write %d ACL record(s): %s", nrec, strerror(-rc));
        for (int32_t i = 0; i < n; i++)
            if (rec_of[i] >= 0)
                res[i] = (struct sl_acl_result){SL_KERR_UNKNOWN_SERVER_ERROR,
                                                "The ACL could not be stored."};
    } else if (nrec > 0) {
        SL_INFO("meta", "CreateAcls: %d ACL(s) added", nrec);
    }
out:
    free(recs);
    free(ace);
    free(ids);
    free(rec_of);
}

static bool copy_acl(struct sl_arena *a, const struct sl_acl *src, struct sl_acl *dst)
{
    *dst = *src;
    dst->name = sl_arena_strdup(a, src->name);
    dst->principal = sl_arena_strdup(a, src->principal);
    dst->host = sl_arena_strdup(a, src->host);
    return dst->name && dst->principal && dst->host;
}

void sl_ctl_delete_acls(struct sl_controller *ctl, const struct sl_acl_binding *filters, int32_t n,
                        struct sl_arena *arena, struct sl_acl_delete_result *res)
{
    const struct sl_image *img = sl_controller_image(ctl);
    size_t total = sl_acl_set_count(img->acls);
    bool *removing = calloc(total + 1, sizeof(*removing));
    struct sl_RemoveAccessControlEntryRecord *rm = calloc(total + 1, sizeof(*rm));
    struct sl_meta_rec *recs = calloc(total + 1, sizeof(*recs));
    int nrec = 0;
    for (int32_t i = 0; i < n; i++)
        res[i] = (struct sl_acl_delete_result){0, NULL, NULL, 0};
    if (!removing || !rm || !recs) {
        for (int32_t i = 0; i < n; i++)
            res[i].error = SL_KERR_UNKNOWN_SERVER_ERROR, res[i].message = "Out of memory.";
        goto out;
    }
    for (int32_t i = 0; i < n; i++) {
        const char *why = sl_acl_validate_filter(&filters[i]);
        if (why) {
            res[i].error = SL_KERR_INVALID_REQUEST;
            res[i].message = why;
            continue;
        }
        int32_t count = 0;
        for (size_t k = 0; k < total; k++)
            count += sl_acl_filter_matches(&filters[i], sl_acl_set_at(img->acls, k));
        res[i].matched = sl_arena_alloc(arena, sizeof(struct sl_acl) * (size_t)(count + 1));
        if (!res[i].matched) {
            res[i].error = SL_KERR_UNKNOWN_SERVER_ERROR;
            res[i].message = "Out of memory.";
            continue;
        }
        for (size_t k = 0; k < total; k++) {
            const struct sl_acl *acl = sl_acl_set_at(img->acls, k);
            if (!sl_acl_filter_matches(&filters[i], acl))
                continue;
            if (!copy_acl(arena, acl, &res[i].matched[res[i].matched_n])) {
                res[i].error = SL_KERR_UNKNOWN_SERVER_ERROR;
                res[i].message = "Out of memory.";
                break;
            }
            res[i].matched_n++;
            if (!removing[k]) {
                removing[k] = true;
                sl_RemoveAccessControlEntryRecord_init(&rm[nrec]);
                rm[nrec].Id = acl->id;
                recs[nrec] = (struct sl_meta_rec){REC_REMOVE_ACL, 0, &rm[nrec]};
                nrec++;
            }
        }
    }
    int rc = sl_controller_write(ctl, recs, nrec);
    if (rc < 0) {
        SL_ERROR("meta", "DeleteAcls: cannot write %d record(s): %s", nrec, strerror(-rc));
        for (int32_t i = 0; i < n; i++) {
            if (res[i].error == 0) {
                res[i].error = SL_KERR_UNKNOWN_SERVER_ERROR;
                res[i].message = "The deletion could not be stored.";
                res[i].matched_n = 0;
            }
        }
    } else if (nrec > 0) {
        SL_INFO("meta", "DeleteAcls: %d ACL(s) removed", nrec);
    }
out:
    free(removing);
    free(rm);
    free(recs);
}
