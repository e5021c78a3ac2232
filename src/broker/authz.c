/*
 * authz.c - the broker's ACL checks (authz.h): who is asking (the session's
 * principal, the peer's IP) and what the current image's ACLs say.
 */
#include "broker/authz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "broker/session.h"
#include "conf/conf.h"
#include "meta/image.h"

int sl_authz_setup(struct sl_broker *broker, char *err, size_t errlen)
{
    const struct sl_conf *conf = broker->conf;
    broker->authz = NULL;
    if (!conf->authorizer_class_name[0])
        return 0;
    struct sl_acl_authorizer *az = calloc(1, sizeof(*az));
    if (!az)
        return -ENOMEM;
    int rc = sl_acl_authorizer_init(az, conf->authorizer_class_name, conf->super_users,
                                    conf->allow_everyone_if_no_acl_found, err, errlen);
    if (rc < 0) {
        free(az);
        return rc;
    }
    broker->authz = az; /* lives as long as the process */
    return 0;
}

/* The client's IP address from "a.b.c.d:port" or "[v6]:port". */
static void peer_host(struct sl_call *call, char *out, size_t cap)
{
    const char *peer = sl_conn_peer(call->req->conn);
    if (!peer)
        peer = "";
    const char *start = peer, *end;
    if (*peer == '[') {
        start = peer + 1;
        end = strchr(start, ']');
    } else {
        end = strrchr(peer, ':');
    }
    size_t len = end ? (size_t)(end - start) : strlen(start);
    snprintf(out, cap, "%.*s", (int)len, start);
}

struct who {
    const char *principal;
    char host[64];
};

static bool who_of(struct sl_call *call, struct who *w)
{
    struct sl_session *s = sl_call_session(call);
    if (!s)
        return false;
    w->principal = s->principal;
    peer_host(call, w->host, sizeof(w->host));
    return true;
}

bool sl_authz(struct sl_call *call, const struct sl_image *img, int8_t op, int8_t resource_type,
              struct sl_slice name)
{
    const struct sl_acl_authorizer *az = call->broker->authz;
    if (!az)
        return true;
    struct who w;
    if (!who_of(call, &w))
        return false;
    struct sl_image *held = NULL;
    if (!img)
        img = held = sl_image_acquire();
    bool ok =
        sl_acl_authorize(az, img ? img->acls : NULL, w.principal, w.host, op, resource_type, name);
    sl_image_release(held);
    return ok;
}

bool sl_authz_topic(struct sl_call *call, const struct sl_image *img, int8_t op,
                    struct sl_slice topic)
{
    return sl_authz(call, img, op, SL_ACL_RES_TOPIC, topic);
}

bool sl_authz_group(struct sl_call *call, int8_t op, struct sl_slice group)
{
    return sl_authz(call, NULL, op, SL_ACL_RES_GROUP, group);
}

bool sl_authz_cluster(struct sl_call *call, int8_t op)
{
    return sl_authz(call, NULL, op, SL_ACL_RES_CLUSTER, sl_slice_cstr(SL_ACL_CLUSTER_NAME));
}

bool sl_authz_any(struct sl_call *call, int8_t op, int8_t resource_type)
{
    const struct sl_acl_authorizer *az = call->broker->authz;
    if (!az)
        return true;
    struct who w;
    if (!who_of(call, &w))
        return false;
    struct sl_image *img = sl_image_acquire();
    bool ok =
        sl_acl_authorize_any(az, img ? img->acls : NULL, w.principal, w.host, op, resource_type);
    sl_image_release(img);
    return ok;
}

int32_t sl_authz_ops(struct sl_call *call, const struct sl_image *img, int8_t resource_type,
                     struct sl_slice name)
{
    int32_t supported = sl_acl_supported_ops(resource_type);
    const struct sl_acl_authorizer *az = call->broker->authz;
    if (!az)
        return supported;
    struct who w;
    if (!who_of(call, &w))
        return 0;
    struct sl_image *held = NULL;
    if (!img)
        img = held = sl_image_acquire();
    int32_t ops = 0;
    for (int op = 0; op <= SL_ACL_OP_MAX; op++)
        if ((supported & (1 << op)) && sl_acl_authorize(az, img ? img->acls : NULL, w.principal,
                                                        w.host, (int8_t)op, resource_type, name))
            ops |= 1 << op;
    sl_image_release(held);
    return ops;
}

struct sl_authz_state *sl_authz_state(struct sl_call *call)
{
    if (!call->authz) {
        struct sl_authz_state *st = sl_arena_alloc(&call->req->arena, sizeof(*st));
        if (st)
            memset(st, 0, sizeof(*st));
        call->authz = st;
    }
    return call->authz;
}

bool *sl_authz_deny_map(struct sl_call *call, int32_t n)
{
    struct sl_authz_state *st = sl_authz_state(call);
    if (!st)
        return NULL;
    bool *m = sl_arena_alloc(&call->req->arena, sizeof(bool) * (size_t)(n > 0 ? n : 1));
    if (m)
        memset(m, 0, sizeof(bool) * (size_t)(n > 0 ? n : 1));
    st->denied = m;
    return m;
}

void sl_authz_before_respond(struct sl_call *call)
{
    struct sl_authz_state *st = call->authz;
    if (st && st->post) {
        void (*post)(struct sl_call *) = st->post;
        st->post = NULL;
        post(call);
    }
}
