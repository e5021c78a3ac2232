/*
 * authz.h - "may this call do OP on RESOURCE": the broker's side of ACL
 * authorization, used by every handler. The principal is the session's
 * (User:ANONYMOUS until TLS or SASL names it), the host the client's IP.
 *
 * With no authorizer configured (authorizer.class.name empty) every check
 * is one branch and allows, as in Kafka. Thread: the call's loop (the
 * session belongs to the connection's loop).
 *
 * For the SASL credential APIs: AlterUserScramCredentials needs
 * sl_authz_cluster(call, SL_ACL_OP_ALTER) and DescribeUserScramCredentials
 * sl_authz_cluster(call, SL_ACL_OP_DESCRIBE), failing with
 * CLUSTER_AUTHORIZATION_FAILED, as Kafka does.
 */
#ifndef SL_BROKER_AUTHZ_H
#define SL_BROKER_AUTHZ_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/broker.h"
#include "security/acl.h"

struct sl_image;

/* Reads authorizer.class.name, super.users and allow.everyone.if.no.acl.found
 * into broker->authz (NULL when disabled). 0 or -EINVAL with err. Main thread,
 * before the listeners start. */
int sl_authz_setup(struct sl_broker *broker, char *err, size_t errlen);

static inline bool sl_authz_enabled(const struct sl_call *call)
{
    return call->broker->authz != NULL;
}

/* The decision for one action. img: an image the caller holds, or NULL to
 * use the current one. */
bool sl_authz(struct sl_call *call, const struct sl_image *img, int8_t op, int8_t resource_type,
              struct sl_slice name);
bool sl_authz_topic(struct sl_call *call, const struct sl_image *img, int8_t op,
                    struct sl_slice topic);
bool sl_authz_group(struct sl_call *call, int8_t op, struct sl_slice group);
bool sl_authz_cluster(struct sl_call *call, int8_t op);
/* Kafka's authorizeByResourceType: op allowed on some resource of the type. */
bool sl_authz_any(struct sl_call *call, int8_t op, int8_t resource_type);
/* The bit field of operations allowed on the resource (Kafka's
 * authorizedOperations): every supported one without an authorizer. */
int32_t sl_authz_ops(struct sl_call *call, const struct sl_image *img, int8_t resource_type,
                     struct sl_slice name);

/* What the loop decided for a call whose work runs on another thread
 * (call->authz, in the call's arena). */
struct sl_authz_state {
    bool *denied;                       /* per request item, or NULL */
    void (*post)(struct sl_call *call); /* run on the loop just before the answer is encoded */
    void *stripped;                     /* the post function's own record of refused items */
};

/* The call's state, made on first use. NULL when out of memory. */
struct sl_authz_state *sl_authz_state(struct sl_call *call);
/* n deny flags, all false, in the call's state. NULL when out of memory. */
bool *sl_authz_deny_map(struct sl_call *call, int32_t n);
/* Flag i of the deny map, false when no map was made. */
static inline bool sl_authz_denied(const struct sl_call *call, int32_t i)
{
    const struct sl_authz_state *st = call->authz;
    return st && st->denied && st->denied[i];
}
/* Called by sl_call_respond when call->authz is set: runs the post function once. */
void sl_authz_before_respond(struct sl_call *call);

/* The transaction APIs and InitProducerId (authz_txn.c): true when the
 * request was refused and answered. */
bool sl_authz_txn_pre(struct sl_call *call);

/* The group APIs (authz_group.c), on the loop before the request goes to
 * the coordinator: answers a request refused as a whole and returns true,
 * or strips the groups/topics refused one by one and sets a post function
 * that puts them back with their error, and hides or fails in the answer
 * what the principal may not describe. */
bool sl_authz_group_pre(struct sl_call *call);

#endif
