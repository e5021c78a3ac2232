/*
 * acl.h - Kafka's ACL model and its authorizer (StandardAuthorizer
 * semantics): bindings, filters, an indexed and reference-counted ACL set,
 * and the decision "may PRINCIPAL from HOST do OP on RESOURCE".
 *
 * Numbers are Kafka's wire codes (AclOperation, ResourceType, PatternType,
 * AclPermissionType), so requests and metadata records map one to one.
 *
 * Rules (Kafka's):
 *   - a super user is allowed everything;
 *   - the ACLs that apply to resource (type, name) are the LITERAL ones named
 *     `name`, the LITERAL ones named "*", and the PREFIXED ones whose name is
 *     a prefix of `name`; of those, an ACL matches a request when its
 *     principal is the request's or "User:*" and its host is the client's IP
 *     or "*";
 *   - a matching DENY for the operation (or ALL) denies, whatever allows;
 *   - a matching ALLOW for the operation, for ALL, or for an operation that
 *     implies it (READ, WRITE, DELETE, ALTER imply DESCRIBE; ALTER_CONFIGS
 *     implies DESCRIBE_CONFIGS) allows;
 *   - otherwise denied, unless no ACL at all applies to the resource and
 *     allow.everyone.if.no.acl.found is set.
 *
 * A set is immutable once shared: sl_acl_set_add/remove copy it first when
 * anyone else holds a reference (copy on write), so a metadata image can
 * share its predecessor's set and readers never lock.
 * Lookup cost: one hash probe for the literal name, one for "*", and one per
 * distinct PREFIXED length present for the resource type.
 */
#ifndef SL_SECURITY_ACL_H
#define SL_SECURITY_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"
#include "proto/kp.h"

enum sl_acl_resource_type {
    SL_ACL_RES_UNKNOWN = 0,
    SL_ACL_RES_ANY = 1,
    SL_ACL_RES_TOPIC = 2,
    SL_ACL_RES_GROUP = 3,
    SL_ACL_RES_CLUSTER = 4,
    SL_ACL_RES_TRANSACTIONAL_ID = 5,
    SL_ACL_RES_DELEGATION_TOKEN = 6,
    SL_ACL_RES_USER = 7,
};
#define SL_ACL_RES_MAX 7

enum sl_acl_pattern_type {
    SL_ACL_PAT_UNKNOWN = 0,
    SL_ACL_PAT_ANY = 1,      /* filters only: any pattern type, exact name */
    SL_ACL_PAT_MATCH = 2,    /* filters only: every pattern that applies to the name */
    SL_ACL_PAT_LITERAL = 3,  /* the name, or "*" for every resource of the type */
    SL_ACL_PAT_PREFIXED = 4, /* every resource whose name starts with it */
};

enum sl_acl_op {
    SL_ACL_OP_UNKNOWN = 0,
    SL_ACL_OP_ANY = 1, /* filters only */
    SL_ACL_OP_ALL = 2,
    SL_ACL_OP_READ = 3,
    SL_ACL_OP_WRITE = 4,
    SL_ACL_OP_CREATE = 5,
    SL_ACL_OP_DELETE = 6,
    SL_ACL_OP_ALTER = 7,
    SL_ACL_OP_DESCRIBE = 8,
    SL_ACL_OP_CLUSTER_ACTION = 9,
    SL_ACL_OP_DESCRIBE_CONFIGS = 10,
    SL_ACL_OP_ALTER_CONFIGS = 11,
    SL_ACL_OP_IDEMPOTENT_WRITE = 12,
    SL_ACL_OP_CREATE_TOKENS = 13,
    SL_ACL_OP_DESCRIBE_TOKENS = 14,
};
#define SL_ACL_OP_MAX 14

enum sl_acl_perm {
    SL_ACL_PERM_UNKNOWN = 0,
    SL_ACL_PERM_ANY = 1, /* filters only */
    SL_ACL_PERM_DENY = 2,
    SL_ACL_PERM_ALLOW = 3,
};

#define SL_ACL_CLUSTER_NAME "kafka-cluster"
#define SL_ACL_WILDCARD "*"
#define SL_ACL_WILDCARD_PRINCIPAL "User:*"

/* A binding as it comes off the wire (borrowed slices; a NULL p is a null
 * string). Also the shape of a filter, where null strings and the
 * ANY/MATCH values match anything. */
struct sl_acl_binding {
    int8_t resource_type;
    int8_t pattern_type;
    struct sl_slice name;
    struct sl_slice principal;
    struct sl_slice host;
    int8_t op;
    int8_t perm;
};

/* One stored ACL: its strings live in the same allocation, owned by the set. */
struct sl_acl {
    struct sl_uuid id; /* AccessControlEntryRecord.Id */
    int8_t resource_type;
    int8_t pattern_type; /* LITERAL or PREFIXED */
    int8_t op;
    int8_t perm; /* ALLOW or DENY */
    const char *name;
    const char *principal; /* "User:alice", "User:*" */
    const char *host;      /* "*" or an IP address */
};

/* Names, for messages and the CLI: "TOPIC", "READ", "PREFIXED", "ALLOW"
 * ("UNKNOWN" for codes out of range); parsing is case-insensitive and
 * accepts Kafka's spellings with or without underscores ("ClusterAction").
 * Parsers return the code, or -1 when unknown. */
const char *sl_acl_resource_type_name(int8_t type);
const char *sl_acl_pattern_type_name(int8_t type);
const char *sl_acl_op_name(int8_t op);
const char *sl_acl_perm_name(int8_t perm);
int sl_acl_resource_type_parse(const char *s);
int sl_acl_pattern_type_parse(const char *s);
int sl_acl_op_parse(const char *s);
int sl_acl_perm_parse(const char *s);

/* Kafka's checks of a new ACL (CreateAcls): NULL when valid, else the
 * reason for INVALID_REQUEST. */
const char *sl_acl_validate_binding(const struct sl_acl_binding *b);
/* Kafka's checks of a filter (DescribeAcls, DeleteAcls): no UNKNOWN value. */
const char *sl_acl_validate_filter(const struct sl_acl_binding *f);
/* AclBindingFilter.matches. */
bool sl_acl_filter_matches(const struct sl_acl_binding *f, const struct sl_acl *acl);
/* Whether an ACL is exactly the binding (same resource, pattern, principal,
 * host, operation, permission). */
bool sl_acl_equals(const struct sl_acl *acl, const struct sl_acl_binding *b);
/* Bit (1 << op) of every operation Kafka defines for a resource type, as
 * reported in the authorized-operations fields. */
int32_t sl_acl_supported_ops(int8_t resource_type);

/* --- sets ------------------------------------------------------------ */

struct sl_acl_set;

/* A new empty set (refs 1), NULL on -ENOMEM. */
struct sl_acl_set *sl_acl_set_new(void);
/* Another reference to s (s may be NULL). Thread: any. */
struct sl_acl_set *sl_acl_set_ref(struct sl_acl_set *s);
void sl_acl_set_unref(struct sl_acl_set *s);
/* Adds an ACL under id, copying *s first if it is shared (and making it when
 * NULL). 0, -EEXIST (id taken), -EINVAL (not a valid binding), -ENOMEM. */
int sl_acl_set_add(struct sl_acl_set **s, const struct sl_uuid *id, const struct sl_acl_binding *b);
/* Removes the ACL with this id, copying *s first if shared. 0 or -ENOENT, -ENOMEM. */
int sl_acl_set_remove(struct sl_acl_set **s, const struct sl_uuid *id);
size_t sl_acl_set_count(const struct sl_acl_set *s);
/* The i-th ACL in id order, 0 <= i < count (borrowed, valid while s is held). */
const struct sl_acl *sl_acl_set_at(const struct sl_acl_set *s, size_t i);
/* The stored ACL equal to b, or NULL. */
const struct sl_acl *sl_acl_set_find(const struct sl_acl_set *s, const struct sl_acl_binding *b);

/* --- authorization ------------------------------------------------- */

#define SL_ACL_MAX_SUPER_USERS 32

struct sl_acl_authorizer {
    bool enabled;         /* authorizer.class.name set */
    bool allow_if_no_acl; /* allow.everyone.if.no.acl.found */
    int super_users_n;
    char super_users[SL_ACL_MAX_SUPER_USERS][128]; /* super.users, trimmed */
};

/* Fills az from the configuration values. -EINVAL (with err) for a
 * super.users entry that is not "Type:name" or too many or too long. */
int sl_acl_authorizer_init(struct sl_acl_authorizer *az, const char *class_name,
                           const char *super_users, bool allow_if_no_acl, char *err, size_t errlen);
bool sl_acl_is_super_user(const struct sl_acl_authorizer *az, const char *principal);

/* The decision for one action (rules above). s may be NULL (no ACLs). */
bool sl_acl_authorize(const struct sl_acl_authorizer *az, const struct sl_acl_set *s,
                      const char *principal, const char *host, int8_t op, int8_t resource_type,
                      struct sl_slice name);
/* Kafka's authorizeByResourceType (KIP-679): whether the principal may do op
 * on at least one resource of the type - some ALLOW (literal or prefixed)
 * that no DENY covers. */
bool sl_acl_authorize_any(const struct sl_acl_authorizer *az, const struct sl_acl_set *s,
                          const char *principal, const char *host, int8_t op, int8_t resource_type);

#endif
