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

static inline bool sl_authz_enabled(const struct sl_call *call) { return call->broker->authz != NULL; }

/* The decision for one action. img: an image the caller holds, or NULL to
 * use the current one. */
bool sl_authz(struct sl_call *call, const struct sl_image *img, int8_t op, int8_t resource_type,
              struct sl_slice name);
bool sl_authz_topic(struct sl_call *call, const struct sl_image *img, int8_t op, struct sl_slice topic);
bool sl_authz_group(struct sl_call *call, int8_t op, struct sl_slice group);
bool sl_authz_cluster(struct sl_call *call, int8_t op);
/* Kafka's authorizeByResourceType: op allowed on some resource of the type. */
bool sl_authz_any(struct sl_call *call, int8_t op, int8_t resource_type);
/* The bit field of operations allowed on the resource (Kafka's
 * authorizedOperations): every supported one without an authorizer. */
int32_t sl_authz_ops(struct sl_call *call, const struct sl_image *img, int8_t resource_type,
                     struct sl_slice name);

#endif
