/*
 * cgroup.c - KIP-848 consumer groups: ConsumerGroupHeartbeat (join with
 * epoch 0, leave with -1 / -2, fencing), target assignment by the uniform or
 * range assignor, per-member reconciliation, session expiry, and
 * ConsumerGroupDescribe. See cgroup.h for the epochs and member states.
 *
 * Regex subscriptions (SubscribedTopicRegex) are RE2/J in Kafka; here they
 * are POSIX extended regular expressions (regcomp REG_EXTENDED|REG_NOSUB)
 * matched against the whole topic name, an approximation that agrees for
 * the common forms ("orders-.*", "a|b", "[a-z]+").
 *
 * Not yet: persistence of consumer groups (ConsumerGroup* records), the
 * rebalance timeout of a revocation, classic members in consumer groups.
 */
#include "coord/cgroup.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>

#include "base/clock.h"
#include "base/diag.h"
#include "proto/gen/ConsumerGroupDescribe.h"
#include "proto/gen/ConsumerGroupHeartbeat.h"
#include "proto/gen/api.h"
#include "proto/gen/errors.h"

const char *sl_cgroup_state(const struct sl_cgroup *cg)
{
    if (cg->members_n == 0)
        return "Empty";
    if (cg->target_epoch < cg->epoch)
        return "Assigning";
    struct sl_list *l;
    SL_LIST_FOREACH(l, &cg->members)
    {
        struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
        if (m->epoch != cg->target_epoch || m->state != SL_CMEMBER_STABLE)
            return "Reconciling";
    }
    return "Stable";
}

void sl_cgroup_new(struct sl_group *g)
{
    g->cg = calloc(1, sizeof(*g->cg));
    SL_ASSERT(g->cg != NULL);
    g->cg->g = g;
    sl_list_init(&g->cg->members);
    snprintf(g->cg->assignor, sizeof(g->cg->assignor), "uniform");
}

/* ---- members --------------------------------------------------------------- */

void sl_cmember_free(struct sl_gc *gc, struct sl_cmember *m)
{
    sl_gtimer_stop(gc, &m->session);
    bytes_free(&m->id);
    bytes_free(&m->instance_id);
    bytes_free(&m->rack_id);
    bytes_free(&m->client_id);
    bytes_free(&m->client_host);
    for (int32_t i = 0; i < m->topics_n; i++)
        bytes_free(&m->topics[i]);
    free(m->topics);
    bytes_free(&m->regex);
    bytes_free(&m->assignor);
    sl_tpset_clear(&m->target);
    sl_tpset_clear(&m->assigned);
    sl_tpset_clear(&m->revoking);
    free(m);
}

void sl_cgroup_free(struct sl_gc *gc, struct sl_group *g)
{
    struct sl_list *l, *tmp;
    SL_LIST_FOREACH_SAFE(l, tmp, &g->cg->members)
    {
        struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
        sl_list_remove(&m->link);
        sl_cmember_free(gc, m);
    }
    free(g->cg);
    g->cg = NULL;
}

struct sl_cmember *sl_cmember_find(struct sl_cgroup *cg, struct sl_slice id)
{
    struct sl_list *l;
    SL_LIST_FOREACH(l, &cg->members)
    {
        struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
        if (sl_slice_eq(m->id, id))
            return m;
    }
    return NULL;
}

static struct sl_cmember *member_by_instance(struct sl_cgroup *cg, struct sl_slice instance_id)
{
    struct sl_list *l;
    SL_LIST_FOREACH(l, &cg->members)
    {
        struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
        if (m->instance_id.p && sl_slice_eq(m->instance_id, instance_id))
            return m;
    }
    return NULL;
}

static void session_expired(struct sl_gc *gc, struct sl_gtimer *t);

/* Members are kept sorted by id: the assignors' member order. */
struct sl_cmember *sl_cmember_add(struct sl_cgroup *cg, struct sl_slice id)
{
    struct sl_cmember *m = calloc(1, sizeof(*m));
    SL_ASSERT(m != NULL);
    m->cg = cg;
    m->id = bytes_dup(nonnull(id));
    sl_gtimer_init(&m->session, session_expired);
    struct sl_list *l;
    SL_LIST_FOREACH(l, &cg->members)
    {
        struct sl_cmember *o = SL_LIST_ENTRY(l, struct sl_cmember, link);
        size_t n = o->id.len < m->id.len ? o->id.len : m->id.len;
        int c = memcmp(m->id.p, o->id.p, n);
        if (c < 0 || (c == 0 && m->id.len < o->id.len))
            break;
    }
    /* insert before l (l is the head when appending) */
    m->link.next = l;
    m->link.prev = l->prev;
    l->prev->next = &m->link;
    l->prev = &m->link;
    cg->members_n++;
    return m;
}

static void member_remove(struct sl_gc *gc, struct sl_cmember *m)
{
    struct sl_cgroup *cg = m->cg;
    sl_list_remove(&m->link);
    cg->members_n--;
    cg->epoch++;
    if (cg->members_n == 0)
        cg->g->state_ts_wall_ms = sl_clock_wall_ms(); /* became Empty: offsets.retention.minutes runs from here */
    sl_cgroup_store(gc, cg->g, m->id);
    sl_cmember_free(gc, m);
}

static void session_expired(struct sl_gc *gc, struct sl_gtimer *t)
{
    struct sl_cmember *m = (struct sl_cmember *)((char *)t - offsetof(struct sl_cmember, session));
    SL_INFO("group", "consumer group %.*s: member %.*s session expired", SL_SLICE_FMT(m->cg->g->id),
            SL_SLICE_FMT(m->id));
    member_remove(gc, m);
}

/* ---- subscriptions and the target assignment -------------------------------------- */

static bool regex_full_match(regex_t *re, struct sl_slice name)
{
    char buf[256];
    if (name.len >= sizeof(buf))
        return false;
    memcpy(buf, name.p, name.len);
    buf[name.len] = 0;
    regmatch_t mt;
    return regexec(re, buf, 1, &mt, 0) == 0 && mt.rm_so == 0 && (size_t)mt.rm_eo == name.len;
}

static bool member_subscribes(struct sl_cmember *m, struct sl_slice name, regex_t *re)
{
    for (int32_t i = 0; i < m->topics_n; i++)
        if (sl_slice_eq(m->topics[i], name))
            return true;
    return re && regex_full_match(re, name);
}

/* Compiles m's regex into re; false when none or invalid. */
static bool member_regex(struct sl_cmember *m, regex_t *re)
{
    if (!m->regex.p || m->regex.len == 0)
        return false;
    char buf[512];
    if (m->regex.len + 3 > sizeof(buf))
        return false;
    snprintf(buf, sizeof(buf), "%.*s", (int)m->regex.len, (const char *)m->regex.p);
    return regcomp(re, buf, REG_EXTENDED) == 0;
}

struct topics_view {
    struct sl_arena a;
    struct sl_gtopic *t;
    int32_t n;
};

static void topics_load(struct sl_gc *gc, struct topics_view *v)
{
    sl_arena_init(&v->a, 0);
    v->t = NULL;
    v->n = 0;
    if (gc->store.topics) {
        int32_t n = gc->store.topics(gc->store.ctx, &v->a, &v->t);
        v->n = n > 0 ? n : 0;
    }
}

/* For each member (list order), which of v's topics it subscribes to:
 * subs[mi * v->n + ti]. Also a hash of the subscribed topics' metadata. */
static bool *subscriptions(struct sl_cgroup *cg, struct topics_view *v, uint64_t *hash)
{
    bool *subs = calloc((size_t)cg->members_n * (size_t)v->n + 1, 1);
    SL_ASSERT(subs != NULL);
    uint64_t h = 0;
    int32_t mi = 0;
    struct sl_list *l;
    SL_LIST_FOREACH(l, &cg->members)
    {
        struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
        regex_t re;
        bool has_re = member_regex(m, &re);
        for (int32_t ti = 0; ti < v->n; ti++)
            subs[mi * v->n + ti] = member_subscribes(m, v->t[ti].name, has_re ? &re : NULL);
        if (has_re)
            regfree(&re);
        mi++;
    }
    for (int32_t ti = 0; ti < v->n; ti++) {
        bool any = false;
        for (mi = 0; mi < cg->members_n; mi++)
            any |= subs[mi * v->n + ti];
        if (any) {
            h = sl_ghash_bytes(&v->t[ti].id, sizeof(v->t[ti].id), h);
            h = sl_ghash_bytes(&v->t[ti].partitions, sizeof(v->t[ti].partitions), h);
        }
    }
    *hash = h;
    return subs;
}

static void compute_target(struct sl_gc *gc, struct sl_cgroup *cg, struct topics_view *v, const bool *subs)
{
    (void)gc;
    struct sl_asg_topic *topics = calloc((size_t)v->n + 1, sizeof(*topics));
    struct sl_asg_member *members = calloc((size_t)cg->members_n + 1, sizeof(*members));
    struct sl_tpset *prev = calloc((size_t)cg->members_n + 1, sizeof(*prev));
    SL_ASSERT(topics && members && prev);
    for (int32_t i = 0; i < v->n; i++) {
        topics[i].id = v->t[i].id;
        topics[i].partitions = v->t[i].partitions;
    }
    int32_t mi = 0;
    struct sl_list *l;
    SL_LIST_FOREACH(l, &cg->members)
    {
        struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
        sl_tpset_copy(&prev[mi], &m->target);
        members[mi].subscribed = &subs[mi * v->n];
        members[mi].prev = &prev[mi];
        members[mi].out = &m->target;
        mi++;
    }
    if (strcmp(cg->assignor, "range") == 0)
        sl_assign_range(topics, v->n, members, cg->members_n);
    else
        sl_assign_uniform(topics, v->n, members, cg->members_n);
    for (int32_t i = 0; i < cg->members_n; i++)
        sl_tpset_clear(&prev[i]);
    free(prev);
    free(members);
    free(topics);
    cg->target_epoch = cg->epoch;
}

/* ---- reconciliation ------------------------------------------------------------------- */

void sl_cgroup_reconcile(struct sl_cmember *m, int32_t target_epoch, const struct sl_tpset *owned,
                         bool (*taken)(const struct sl_uuid *t, int32_t p, void *arg), void *arg)
{
    if (m->state == SL_CMEMBER_UNREVOKED_PARTITIONS) {
        /* Waits for the member to confirm that it no longer owns them. */
        if (!owned)
            return;
        for (int32_t i = 0; i < m->revoking.n; i++)
            if (sl_tpset_has(owned, &m->revoking.v[i].topic, m->revoking.v[i].partition))
                return;
        m->revoking.n = 0;
        m->state = SL_CMEMBER_STABLE;
    }
    if (m->state == SL_CMEMBER_STABLE && m->epoch == target_epoch)
        return;
    /* computeNextAssignment */
    struct sl_tpset keep = {0}, revoke = {0};
    bool unreleased = false;
    for (int32_t i = 0; i < m->assigned.n; i++) {
        struct sl_ctp *tp = &m->assigned.v[i];
        if (sl_tpset_has(&m->target, &tp->topic, tp->partition))
            sl_tpset_add(&keep, &tp->topic, tp->partition);
        else
            sl_tpset_add(&revoke, &tp->topic, tp->partition);
    }
    if (revoke.n > 0) {
        sl_tpset_copy(&m->assigned, &keep);
        sl_tpset_copy(&m->revoking, &revoke);
        m->state = SL_CMEMBER_UNREVOKED_PARTITIONS;
    } else {
        for (int32_t i = 0; i < m->target.n; i++) {
            struct sl_ctp *tp = &m->target.v[i];
            if (sl_tpset_has(&keep, &tp->topic, tp->partition))
                continue;
            if (taken(&tp->topic, tp->partition, arg))
                unreleased = true;
            else
                sl_tpset_add(&keep, &tp->topic, tp->partition);
        }
        sl_tpset_copy(&m->assigned, &keep);
        m->revoking.n = 0;
        if (m->epoch != target_epoch) {
            m->prev_epoch = m->epoch;
            m->epoch = target_epoch;
        }
        m->state = unreleased ? SL_CMEMBER_UNRELEASED_PARTITIONS : SL_CMEMBER_STABLE;
    }
    sl_tpset_clear(&keep);
    sl_tpset_clear(&revoke);
}

struct taken_arg {
    struct sl_cgroup *cg;
    struct sl_cmember *self;
};

static bool taken_by_other(const struct sl_uuid *t, int32_t p, void *arg)
{
    struct taken_arg *ta = arg;
    struct sl_list *l;
    SL_LIST_FOREACH(l, &ta->cg->members)
    {
        struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
        if (m != ta->self && (sl_tpset_has(&m->assigned, t, p) || sl_tpset_has(&m->revoking, t, p)))
            return true;
    }
    return false;
}

/* ---- ConsumerGroupHeartbeat ------------------------------------------------------------- */

static void hb_error(struct sl_gop *op, int16_t err, const char *msg)
{
    struct sl_ConsumerGroupHeartbeatResponse *resp = op->response;
    resp->ErrorCode = err;
    resp->ErrorMessage = msg ? sl_gop_dup(op, sl_slice_cstr(msg)) : (struct sl_slice){NULL, 0};
    resp->MemberId = (struct sl_slice){NULL, 0};
    resp->MemberEpoch = -1;
    resp->Assignment_null = true;
    op->done(op);
}

void sl_cgroup_fail_fill(struct sl_gop *op, int16_t err)
{
    if (op->api_key == SL_API_ConsumerGroupHeartbeat) {
        struct sl_ConsumerGroupHeartbeatResponse *resp = op->response;
        resp->ErrorCode = err;
        resp->MemberEpoch = -1;
        resp->Assignment_null = true;
        return;
    }
    struct sl_ConsumerGroupDescribeRequest *req = op->request;
    struct sl_ConsumerGroupDescribeResponse *resp = op->response;
    int32_t n = req->GroupIds_n > 0 ? req->GroupIds_n : 0;
    resp->Groups = sl_arena_alloc(op->arena, sizeof(*resp->Groups) * (size_t)(n + 1));
    SL_ASSERT(resp->Groups != NULL);
    resp->Groups_n = n;
    for (int32_t i = 0; i < n; i++) {
        sl_ConsumerGroupDescribeResponse_DescribedGroup_init(&resp->Groups[i]);
        resp->Groups[i].GroupId = req->GroupIds[i];
        resp->Groups[i].ErrorCode = err;
        resp->Groups[i].GroupState = sl_slice_cstr("");
    }
}

/* The heartbeat's TopicPartitions as a set (NULL when not sent). */
static struct sl_tpset *owned_set(const struct sl_ConsumerGroupHeartbeatRequest *req, struct sl_tpset *s)
{
    if (req->TopicPartitions_n < 0)
        return NULL;
    for (int32_t i = 0; i < req->TopicPartitions_n; i++)
        for (int32_t j = 0; j < req->TopicPartitions[i].Partitions_n; j++)
            sl_tpset_add(s, &req->TopicPartitions[i].TopicId, req->TopicPartitions[i].Partitions[j]);
    return s;
}

static void fill_assignment(struct sl_gop *op, const struct sl_tpset *s,
                            struct sl_ConsumerGroupHeartbeatResponse_Assignment *a)
{
    sl_ConsumerGroupHeartbeatResponse_Assignment_init(a);
    a->TopicPartitions = sl_arena_alloc(op->arena, sizeof(*a->TopicPartitions) * (size_t)(s->n + 1));
    SL_ASSERT(a->TopicPartitions != NULL);
    a->TopicPartitions_n = 0;
    for (int32_t i = 0; i < s->n;) {
        struct sl_ConsumerGroupHeartbeatResponse_TopicPartitions *tp = &a->TopicPartitions[a->TopicPartitions_n++];
        sl_ConsumerGroupHeartbeatResponse_TopicPartitions_init(tp);
        tp->TopicId = s->v[i].topic;
        tp->Partitions = sl_arena_alloc(op->arena, sizeof(int32_t) * (size_t)(s->n - i + 1));
        SL_ASSERT(tp->Partitions != NULL);
        tp->Partitions_n = 0;
        int32_t j = i;
        for (; j < s->n && memcmp(&s->v[j].topic, &s->v[i].topic, sizeof(s->v[i].topic)) == 0; j++)
            tp->Partitions[tp->Partitions_n++] = s->v[j].partition;
        i = j;
    }
}

static bool names_eq(const struct sl_cmember *m, const struct sl_slice *names, int32_t n)
{
    if (m->topics_n != n)
        return false;
    for (int32_t i = 0; i < n; i++)
        if (!sl_slice_eq(m->topics[i], names[i]))
            return false;
    return true;
}

static int16_t validate(struct sl_gop *op, const char **msg)
{
    struct sl_ConsumerGroupHeartbeatRequest *req = op->request;
    *msg = NULL;
    if (!req->GroupId.p || req->GroupId.len == 0)
        return *msg = "GroupId can't be empty.", SL_KERR_INVALID_REQUEST;
    if (req->RackId.p && req->RackId.len == 0)
        return *msg = "RackId can't be empty.", SL_KERR_INVALID_REQUEST;
    if (req->MemberEpoch > 0 || req->MemberEpoch == -1) {
        if (!req->MemberId.p || req->MemberId.len == 0)
            return *msg = "MemberId can't be empty.", SL_KERR_INVALID_REQUEST;
    } else if (req->MemberEpoch == 0) {
        if (op->version >= 1 && (!req->MemberId.p || req->MemberId.len == 0))
            return *msg = "MemberId can't be empty.", SL_KERR_INVALID_REQUEST;
        if (req->RebalanceTimeoutMs == -1)
            return *msg = "RebalanceTimeoutMs must be provided in first request.", SL_KERR_INVALID_REQUEST;
        if (req->TopicPartitions_n < 0 || req->TopicPartitions_n > 0)
            return *msg = "TopicPartitions must be empty when (re-)joining.", SL_KERR_INVALID_REQUEST;
        if (req->SubscribedTopicNames_n < 0 && !req->SubscribedTopicRegex.p)
            return *msg = "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.",
                   SL_KERR_INVALID_REQUEST;
    } else if (req->MemberEpoch == -2) {
        if (!req->InstanceId.p)
            return *msg = "InstanceId can't be null.", SL_KERR_INVALID_REQUEST;
    } else {
        return *msg = "MemberEpoch is invalid.", SL_KERR_INVALID_REQUEST;
    }
    if (req->ServerAssignor.p && !sl_slice_eq_cstr(req->ServerAssignor, "uniform") &&
        !sl_slice_eq_cstr(req->ServerAssignor, "range"))
        return *msg = "ServerAssignor is not supported.", SL_KERR_UNSUPPORTED_ASSIGNOR;
    if (req->SubscribedTopicRegex.p) {
        char buf[512];
        regex_t re;
        if (req->SubscribedTopicRegex.len + 1 > sizeof(buf))
            return *msg = "SubscribedTopicRegex is too long.", SL_KERR_INVALID_REGULAR_EXPRESSION;
        snprintf(buf, sizeof(buf), "%.*s", (int)req->SubscribedTopicRegex.len,
                 (const char *)req->SubscribedTopicRegex.p);
        if (regcomp(&re, buf, REG_EXTENDED) != 0)
            return *msg = "SubscribedTopicRegex is not a valid regular expression.",
                   SL_KERR_INVALID_REGULAR_EXPRESSION;
        regfree(&re);
    }
    return 0;
}

static void new_member_id(struct sl_gc *gc, char out[23])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t x = sl_ghash_bytes(&gc->now_ms, sizeof(gc->now_ms), ++gc->seq) ^ (uint64_t)random() << 20;
    uint64_t y = sl_ghash_bytes(&x, sizeof(x), gc->seq * 7919) ^ (uint64_t)random();
    for (int i = 0; i < 22; i++) {
        uint64_t *w = i < 11 ? &x : &y;
        out[i] = b64[*w & 63];
        *w >>= 6;
    }
    out[22] = 0;
}

void sl_gc_consumer_heartbeat(struct sl_gc *gc, struct sl_gop *op)
{
    struct sl_ConsumerGroupHeartbeatRequest *req = op->request;
    struct sl_ConsumerGroupHeartbeatResponse *resp = op->response;
    const char *msg;
    int16_t err = validate(op, &msg);
    if (err) {
        hb_error(op, err, msg);
        return;
    }
    int32_t partition = sl_group_partition(req->GroupId, gc->conf.num_partitions);
    if ((err = gc->store.status(gc->store.ctx, partition)) != 0) {
        hb_error(op, err, NULL);
        return;
    }
    struct sl_group *g = sl_group_find(gc, req->GroupId);
    if (g && !g->cg) {
        if (g->members_n > 0 || g->state != SL_GROUP_EMPTY) {
            hb_error(op, SL_KERR_GROUP_ID_NOT_FOUND, "Group is not a consumer group.");
            return;
        }
    }
    if (!g || !g->cg) {
        if (req->MemberEpoch != 0) {
            hb_error(op, SL_KERR_GROUP_ID_NOT_FOUND, "Group not found.");
            return;
        }
        if (!g)
            g = sl_group_create(gc, req->GroupId);
        /* An empty classic group becomes a consumer group; its offsets stay. */
        sl_cgroup_new(g);
    }
    struct sl_cgroup *cg = g->cg;
    struct sl_cmember *m = NULL;
    bool changed = false, joined = false;
    if (req->MemberEpoch == 0) {
        if (req->InstanceId.p) {
            struct sl_cmember *old = member_by_instance(cg, req->InstanceId);
            if (old && old->epoch != -2 && !sl_slice_eq(old->id, req->MemberId)) {
                hb_error(op, SL_KERR_UNRELEASED_INSTANCE_ID, "Static member with unknown member id.");
                return;
            }
            if (old && old->epoch == -2) {
                /* The static member comes back under a new id and takes over its assignment. */
                struct sl_tpset t = {0}, a = {0};
                sl_tpset_copy(&t, &old->target);
                sl_tpset_copy(&a, &old->assigned);
                int32_t epoch = old->prev_epoch;
                sl_list_remove(&old->link);
                cg->members_n--;
                sl_cmember_free(gc, old);
                char id[23];
                if (!req->MemberId.p || req->MemberId.len == 0)
                    new_member_id(gc, id);
                m = sl_cmember_add(cg, req->MemberId.p && req->MemberId.len ? req->MemberId : sl_slice_cstr(id));
                m->target = t;
                m->assigned = a;
                m->epoch = m->prev_epoch = epoch;
                m->instance_id = bytes_dup(req->InstanceId);
            }
        }
        if (!m && req->MemberId.p && req->MemberId.len)
            m = sl_cmember_find(cg, req->MemberId);
        if (!m) {
            char id[23];
            new_member_id(gc, id);
            m = sl_cmember_add(cg, req->MemberId.p && req->MemberId.len ? req->MemberId : sl_slice_cstr(id));
            m->instance_id = bytes_dup(req->InstanceId);
            changed = true;
        } else if (m->epoch != 0 && m->state != SL_CMEMBER_STABLE) {
            /* Rejoining: it owns nothing now. */
            m->revoking.n = 0;
        }
        m->assigned.n = 0;
        m->revoking.n = 0;
        m->state = SL_CMEMBER_STABLE;
        if (m->epoch > 0) /* a rejoin starts from the member's current target again */
            m->epoch = 0;
        joined = true;
    } else {
        m = sl_cmember_find(cg, req->MemberId);
        if (!m) {
            hb_error(op, SL_KERR_UNKNOWN_MEMBER_ID, NULL);
            return;
        }
        if (req->MemberEpoch == -1 || req->MemberEpoch == -2) {
            bool temporary = req->MemberEpoch == -2 && m->instance_id.p;
            resp->ErrorCode = 0;
            resp->MemberId = sl_gop_dup(op, m->id);
            resp->MemberEpoch = req->MemberEpoch;
            resp->HeartbeatIntervalMs = 0;
            resp->Assignment_null = true;
            if (temporary) {
                /* Kept (and its partitions held) until the session expires or it returns. */
                m->prev_epoch = m->epoch;
                m->epoch = -2;
                sl_cgroup_store(gc, g, (struct sl_slice){NULL, 0});
            } else {
                member_remove(gc, m);
            }
            op->done(op);
            return;
        }
        struct sl_tpset owned = {0};
        bool has_owned = owned_set(req, &owned) != NULL;
        bool subset = true;
        for (int32_t i = 0; has_owned && i < owned.n; i++)
            subset &= sl_tpset_has(&m->assigned, &owned.v[i].topic, owned.v[i].partition);
        sl_tpset_clear(&owned);
        if (req->MemberEpoch > m->epoch ||
            (req->MemberEpoch < m->epoch && !(req->MemberEpoch == m->prev_epoch && has_owned && subset))) {
            hb_error(op, SL_KERR_FENCED_MEMBER_EPOCH,
                     "The consumer group member has a smaller member epoch than expected.");
            return;
        }
    }
    /* Update the member's subscription. */
    if (req->SubscribedTopicNames_n >= 0 && !names_eq(m, req->SubscribedTopicNames, req->SubscribedTopicNames_n)) {
        for (int32_t i = 0; i < m->topics_n; i++)
            bytes_free(&m->topics[i]);
        free(m->topics);
        m->topics = calloc((size_t)req->SubscribedTopicNames_n + 1, sizeof(*m->topics));
        SL_ASSERT(m->topics != NULL);
        m->topics_n = req->SubscribedTopicNames_n;
        for (int32_t i = 0; i < m->topics_n; i++)
            m->topics[i] = bytes_dup(nonnull(req->SubscribedTopicNames[i]));
        changed = true;
    }
    if (req->SubscribedTopicRegex.p && !sl_slice_eq(m->regex, req->SubscribedTopicRegex)) {
        bytes_set(&m->regex, req->SubscribedTopicRegex);
        changed = true;
    }
    if (req->ServerAssignor.p && !sl_slice_eq(m->assignor, req->ServerAssignor)) {
        bytes_set(&m->assignor, req->ServerAssignor);
        changed = true;
    }
    if (req->RackId.p)
        bytes_set(&m->rack_id, req->RackId);
    if (req->RebalanceTimeoutMs != -1)
        m->rebalance_ms = req->RebalanceTimeoutMs;
    bytes_set(&m->client_id, nonnull(op->client_id));
    bytes_set(&m->client_host, nonnull(op->client_host));
    int32_t group_epoch_before = cg->epoch, target_epoch_before = cg->target_epoch;
    /* The group epoch: membership, subscriptions, or subscribed metadata changed. */
    struct topics_view v;
    topics_load(gc, &v);
    uint64_t hash;
    bool *subs = subscriptions(cg, &v, &hash);
    if (changed || hash != cg->meta_hash) {
        cg->epoch++;
        cg->meta_hash = hash;
    }
    if (cg->target_epoch < cg->epoch) {
        /* The assignor: the one most members ask for (Kafka), else uniform. */
        int nr = 0, nu = 0;
        struct sl_list *l;
        SL_LIST_FOREACH(l, &cg->members)
        {
            struct sl_cmember *o = SL_LIST_ENTRY(l, struct sl_cmember, link);
            nr += sl_slice_eq_cstr(o->assignor, "range");
            nu += sl_slice_eq_cstr(o->assignor, "uniform");
        }
        snprintf(cg->assignor, sizeof(cg->assignor), "%s", nr > nu ? "range" : "uniform");
        compute_target(gc, cg, &v, subs);
    }
    free(subs);
    sl_arena_fini(&v.a);
    /* Reconcile this member toward its target. */
    struct sl_tpset before = {0}, owned = {0};
    sl_tpset_copy(&before, &m->assigned);
    int32_t epoch_before = m->epoch;
    enum sl_cmember_state state_before = m->state;
    struct taken_arg ta = {cg, m};
    sl_cgroup_reconcile(m, cg->target_epoch, owned_set(req, &owned), taken_by_other, &ta);
    bool full = req->RebalanceTimeoutMs != -1 &&
                (req->SubscribedTopicNames_n >= 0 || req->SubscribedTopicRegex.p) && req->TopicPartitions_n >= 0;
    bool send = joined || full || !sl_tpset_eq(&before, &m->assigned) || epoch_before != m->epoch;
    if (joined || changed || cg->epoch != group_epoch_before || cg->target_epoch != target_epoch_before ||
        !sl_tpset_eq(&before, &m->assigned) || epoch_before != m->epoch || state_before != m->state)
        sl_cgroup_store(gc, g, (struct sl_slice){NULL, 0});
    sl_tpset_clear(&before);
    sl_tpset_clear(&owned);
    sl_gtimer_start(gc, &m->session, gc->now_ms + gc->conf.consumer_session_timeout_ms);
    resp->ErrorCode = 0;
    resp->ErrorMessage = (struct sl_slice){NULL, 0};
    resp->MemberId = sl_gop_dup(op, m->id);
    resp->MemberEpoch = m->epoch;
    resp->HeartbeatIntervalMs = gc->conf.consumer_heartbeat_interval_ms;
    resp->Assignment_null = !send;
    if (send)
        fill_assignment(op, &m->assigned, &resp->Assignment);
    op->done(op);
}

/* ---- ConsumerGroupDescribe -------------------------------------------------------------- */

static void describe_assignment(struct sl_gop *op, const struct sl_tpset *s, const struct topics_view *v,
                                struct sl_ConsumerGroupDescribeResponse_Assignment *a)
{
    sl_ConsumerGroupDescribeResponse_Assignment_init(a);
    a->TopicPartitions = sl_arena_alloc(op->arena, sizeof(*a->TopicPartitions) * (size_t)(s->n + 1));
    SL_ASSERT(a->TopicPartitions != NULL);
    a->TopicPartitions_n = 0;
    for (int32_t i = 0; i < s->n;) {
        struct sl_ConsumerGroupDescribeResponse_TopicPartitions *tp = &a->TopicPartitions[a->TopicPartitions_n++];
        sl_ConsumerGroupDescribeResponse_TopicPartitions_init(tp);
        tp->TopicId = s->v[i].topic;
        tp->TopicName = sl_slice_cstr("");
        for (int32_t k = 0; k < v->n; k++)
            if (memcmp(&v->t[k].id, &s->v[i].topic, sizeof(v->t[k].id)) == 0)
                tp->TopicName = sl_gop_dup(op, v->t[k].name);
        tp->Partitions = sl_arena_alloc(op->arena, sizeof(int32_t) * (size_t)(s->n - i + 1));
        SL_ASSERT(tp->Partitions != NULL);
        tp->Partitions_n = 0;
        int32_t j = i;
        for (; j < s->n && memcmp(&s->v[j].topic, &s->v[i].topic, sizeof(s->v[i].topic)) == 0; j++)
            tp->Partitions[tp->Partitions_n++] = s->v[j].partition;
        i = j;
    }
}

void sl_gc_consumer_describe(struct sl_gc *gc, struct sl_gop *op)
{
    struct sl_ConsumerGroupDescribeRequest *req = op->request;
    struct sl_ConsumerGroupDescribeResponse *resp = op->response;
    int32_t n = req->GroupIds_n > 0 ? req->GroupIds_n : 0;
    resp->Groups = sl_arena_alloc(op->arena, sizeof(*resp->Groups) * (size_t)(n + 1));
    SL_ASSERT(resp->Groups != NULL);
    resp->Groups_n = n;
    struct topics_view v;
    topics_load(gc, &v);
    for (int32_t i = 0; i < n; i++) {
        struct sl_ConsumerGroupDescribeResponse_DescribedGroup *dg = &resp->Groups[i];
        sl_ConsumerGroupDescribeResponse_DescribedGroup_init(dg);
        dg->GroupId = req->GroupIds[i];
        dg->GroupState = sl_slice_cstr("");
        dg->AssignorName = sl_slice_cstr("");
        dg->AuthorizedOperations = INT32_MIN;
        int16_t err = gc->store.status(gc->store.ctx, sl_group_partition(req->GroupIds[i], gc->conf.num_partitions));
        struct sl_group *g = err ? NULL : sl_group_find(gc, req->GroupIds[i]);
        if (err) {
            dg->ErrorCode = err;
            continue;
        }
        if (!g) {
            dg->ErrorCode = SL_KERR_GROUP_ID_NOT_FOUND;
            dg->ErrorMessage = sl_gop_dup(op, sl_slice_cstr("Group not found."));
            continue;
        }
        if (!g->cg) {
            dg->ErrorCode = SL_KERR_GROUP_ID_NOT_FOUND;
            dg->ErrorMessage = sl_gop_dup(op, sl_slice_cstr("Group is not a consumer group."));
            continue;
        }
        struct sl_cgroup *cg = g->cg;
        dg->GroupState = sl_slice_cstr(sl_cgroup_state(cg));
        dg->GroupEpoch = cg->epoch;
        dg->AssignmentEpoch = cg->target_epoch;
        dg->AssignorName = sl_slice_cstr(cg->assignor);
        if (req->IncludeAuthorizedOperations)
            dg->AuthorizedOperations = 0xdf8; /* READ DESCRIBE DELETE ... as Kafka without an authorizer */
        dg->Members = sl_arena_alloc(op->arena, sizeof(*dg->Members) * (size_t)(cg->members_n + 1));
        SL_ASSERT(dg->Members != NULL);
        dg->Members_n = 0;
        struct sl_list *l;
        SL_LIST_FOREACH(l, &cg->members)
        {
            struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
            struct sl_ConsumerGroupDescribeResponse_Member *dm = &dg->Members[dg->Members_n++];
            sl_ConsumerGroupDescribeResponse_Member_init(dm);
            dm->MemberId = sl_gop_dup(op, m->id);
            dm->InstanceId = sl_gop_dup(op, m->instance_id);
            dm->RackId = sl_gop_dup(op, m->rack_id);
            dm->MemberEpoch = m->epoch;
            dm->ClientId = sl_gop_dup(op, nonnull(m->client_id));
            dm->ClientHost = sl_gop_dup(op, nonnull(m->client_host));
            dm->SubscribedTopicNames = sl_arena_alloc(op->arena, sizeof(struct sl_slice) * (size_t)(m->topics_n + 1));
            SL_ASSERT(dm->SubscribedTopicNames != NULL);
            dm->SubscribedTopicNames_n = m->topics_n;
            for (int32_t k = 0; k < m->topics_n; k++)
                dm->SubscribedTopicNames[k] = sl_gop_dup(op, m->topics[k]);
            dm->SubscribedTopicRegex = sl_gop_dup(op, m->regex);
            describe_assignment(op, &m->assigned, &v, &dm->Assignment);
            describe_assignment(op, &m->target, &v, &dm->TargetAssignment);
        }
    }
    sl_arena_fini(&v.a);
    op->done(op);
}

/* ---- offsets ------------------------------------------------------------------------------ */

int16_t sl_cgroup_check_epoch(struct sl_group *g, struct sl_slice member_id, int32_t epoch)
{
    struct sl_cmember *m = sl_cmember_find(g->cg, member_id);
    if (!m)
        return SL_KERR_UNKNOWN_MEMBER_ID;
    if (epoch != m->epoch)
        return SL_KERR_STALE_MEMBER_EPOCH;
    return 0;
}

bool sl_cgroup_subscribed(struct sl_gc *gc, struct sl_group *g, struct sl_slice topic)
{
    (void)gc;
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->cg->members)
    {
        struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
        regex_t re;
        bool has_re = member_regex(m, &re);
        bool yes = member_subscribes(m, topic, has_re ? &re : NULL);
        if (has_re)
            regfree(&re);
        if (yes)
            return true;
    }
    return false;
}
