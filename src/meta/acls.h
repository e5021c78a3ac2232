/*
 * acls.h - ACLs in the metadata log: applying AccessControlEntryRecord and
 * RemoveAccessControlEntryRecord to the image's ACL set, and the controller
 * operations behind CreateAcls and DeleteAcls (Kafka's AclControlManager).
 */
#ifndef SL_META_ACLS_H
#define SL_META_ACLS_H

#include <stdint.h>

#include "security/acl.h"

struct sl_image_builder;
struct sl_controller;

/* apply.c's table entries for records 18 and 19. */
int sl_meta_apply_acl(struct sl_image_builder *b, const void *rec, int64_t offset);
int sl_meta_apply_remove_acl(struct sl_image_builder *b, const void *rec, int64_t offset);

struct sl_acl_result {
    int16_t error;       /* Kafka error code */
    const char *message; /* static text when error != 0 */
};

/* Creates ACLs: each is validated (INVALID_REQUEST and the reason), an ACL
 * already present succeeds without a record, the rest get a random id and
 * are written as one change. A failed write fails every new one with
 * UNKNOWN_SERVER_ERROR. Controller thread. */
void sl_ctl_create_acls(struct sl_controller *ctl, const struct sl_acl_binding *acls, int32_t n,
                        struct sl_acl_result *res);

struct sl_arena;

struct sl_acl_delete_result {
    int16_t error;          /* Kafka error code */
    const char *message;    /* static text when error != 0 */
    struct sl_acl *matched; /* the ACLs the filter removed, in the arena */
    int32_t matched_n;
};

/* Deletes every ACL matching each filter, as one change (an ACL matched by
 * several filters is listed under each, removed once). Results and their
 * ACLs are allocated in arena. Controller thread. */
void sl_ctl_delete_acls(struct sl_controller *ctl, const struct sl_acl_binding *filters, int32_t n,
                        struct sl_arena *arena, struct sl_acl_delete_result *res);

#endif
