/*
 * cgroup_store.c - consumer groups in __consumer_offsets, with Kafka's
 * group-coordinator record schemas so Kafka's tools could read them:
 *
 *   3 ConsumerGroupMetadata          group epoch
 *   5 ConsumerGroupMemberMetadata    a member's subscription and client
 *   6 ConsumerGroupTargetAssignmentMetadata   assignment epoch
 *   7 ConsumerGroupTargetAssignmentMember     a member's target
 *   8 ConsumerGroupCurrentMemberAssignment    a member's epochs, state, assigned and revoking
 *
 * (Type 4, the subscribed topics' metadata, is not written: the group
 * epoch is recomputed against the live metadata on the next heartbeat.)
 *
 * Departure from Kafka: the records are written fire and forget after the
 * state changed in memory, and the heartbeat is answered without waiting
 * for them to be durable; a crash can lose the last changes, after which
 * members are fenced (FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID) and rejoin.
 * Thread: the coordinator's.
 */
#include "coord/cgroup.h"

#include <errno.h>
#include <stdio.h>

#include "base/diag.h"
#include "proto/gen/coord_records.h"

enum {
    REC_METADATA = 3,
    REC_MEMBER = 5,
    REC_TARGET_META = 6,
    REC_TARGET_MEMBER = 7,
    REC_CURRENT = 8,
};

static int put(struct sl_arena *a, int16_t type, const void *key, const void *value, struct sl_grec *rec)
{
    struct sl_obuf kb, vb;
    sl_obuf_init(&kb);
    sl_obuf_init(&vb);
    int rc = sl_coord_key_encode(&kb, type, key);
    if (rc == 0 && value)
        rc = sl_coord_value_encode(&vb, type, 0, value);
    uint8_t *kp = rc == 0 ? sl_arena_alloc(a, kb.total_len + 1) : NULL;
    uint8_t *vp = rc == 0 && value ? sl_arena_alloc(a, vb.total_len + 1) : NULL;
    if (rc == 0 && (!kp || (value && !vp)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = sl_obuf_flatten(&kb, kp);
    if (rc == 0 && value)
        rc = sl_obuf_flatten(&vb, vp);
    rec->key = (struct sl_slice){kp, kb.total_len};
    rec->value = value ? (struct sl_slice){vp, vb.total_len} : (struct sl_slice){NULL, 0};
    sl_obuf_fini(&kb);
    sl_obuf_fini(&vb);
    return rc;
}

/* A set as [TopicPartitions] (the three value types share this layout). */
struct tps {
    struct sl_uuid TopicId;
    int32_t *Partitions;
    int32_t Partitions_n;
};
_Static_assert(sizeof(struct tps) == sizeof(struct sl_ConsumerGroupCurrentMemberAssignmentValue_TopicPartitions),
               "TopicPartitions layout");
_Static_assert(sizeof(struct tps) == sizeof(struct sl_ConsumerGroupTargetAssignmentMemberValue_TopicPartition),
               "TopicPartition layout");

static struct tps *to_tps(struct sl_arena *a, const struct sl_tpset *s, int32_t *n_out)
{
    struct tps *v = sl_arena_alloc(a, sizeof(*v) * (size_t)(s->n + 1));
    int32_t *parts = sl_arena_alloc(a, sizeof(int32_t) * (size_t)(s->n + 1));
    SL_ASSERT(v && parts);
    int32_t n = 0;
    for (int32_t i = 0; i < s->n; i++) {
        if (n == 0 || memcmp(&v[n - 1].TopicId, &s->v[i].topic, sizeof(s->v[i].topic)) != 0) {
            v[n].TopicId = s->v[i].topic;
            v[n].Partitions = &parts[i];
            v[n].Partitions_n = 0;
            n++;
        }
        parts[i] = s->v[i].partition;
        v[n - 1].Partitions_n++;
    }
    *n_out = n;
    return v;
}

static void from_tps(struct sl_tpset *s, const struct tps *v, int32_t n)
{
    s->n = 0;
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j < v[i].Partitions_n; j++)
            sl_tpset_add(s, &v[i].TopicId, v[i].Partitions[j]);
}

static void written(struct sl_gc *gc, void *arg, int err)
{
    (void)gc;
    (void)arg;
    if (err < 0)
        SL_WARN("group", "consumer group records not stored: %s", strerror(-err));
}

void sl_cgroup_store(struct sl_gc *gc, struct sl_group *g, struct sl_slice gone_id)
{
    struct sl_cgroup *cg = g->cg;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_grec *recs = sl_arena_alloc(&a, sizeof(*recs) * (size_t)(3 * cg->members_n + 8));
    SL_ASSERT(recs != NULL);
    int n = 0, rc = 0;
    struct sl_ConsumerGroupMetadataKey gk = {.GroupId = g->id};
    struct sl_ConsumerGroupMetadataValue gv = {.Epoch = cg->epoch};
    rc |= put(&a, REC_METADATA, &gk, &gv, &recs[n++]);
    struct sl_ConsumerGroupTargetAssignmentMetadataKey tk = {.GroupId = g->id};
    struct sl_ConsumerGroupTargetAssignmentMetadataValue tv = {.AssignmentEpoch = cg->target_epoch};
    rc |= put(&a, REC_TARGET_META, &tk, &tv, &recs[n++]);
    struct sl_list *l;
    SL_LIST_FOREACH(l, &cg->members)
    {
        struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
        struct sl_ConsumerGroupMemberMetadataKey mk = {.GroupId = g->id, .MemberId = m->id};
        struct sl_ConsumerGroupMemberMetadataValue mv;
        sl_ConsumerGroupMemberMetadataValue_init(&mv);
        mv.InstanceId = m->instance_id;
        mv.RackId = m->rack_id;
        mv.ClientId = nonnull(m->client_id);
        mv.ClientHost = nonnull(m->client_host);
        mv.SubscribedTopicNames = m->topics;
        mv.SubscribedTopicNames_n = m->topics_n;
        mv.SubscribedTopicRegex = m->regex;
        mv.RebalanceTimeoutMs = m->rebalance_ms;
        mv.ServerAssignor = m->assignor;
        mv.ClassicMemberMetadata_null = true;
        rc |= put(&a, REC_MEMBER, &mk, &mv, &recs[n++]);
        struct sl_ConsumerGroupTargetAssignmentMemberKey xk = {.GroupId = g->id, .MemberId = m->id};
        struct sl_ConsumerGroupTargetAssignmentMemberValue xv;
        sl_ConsumerGroupTargetAssignmentMemberValue_init(&xv);
        xv.TopicPartitions = (void *)to_tps(&a, &m->target, &xv.TopicPartitions_n);
        rc |= put(&a, REC_TARGET_MEMBER, &xk, &xv, &recs[n++]);
        struct sl_ConsumerGroupCurrentMemberAssignmentKey ck = {.GroupId = g->id, .MemberId = m->id};
        struct sl_ConsumerGroupCurrentMemberAssignmentValue cv;
        sl_ConsumerGroupCurrentMemberAssignmentValue_init(&cv);
        cv.MemberEpoch = m->epoch;
        cv.PreviousMemberEpoch = m->prev_epoch;
        cv.State = (int8_t)m->state;
        cv.AssignedPartitions = (void *)to_tps(&a, &m->assigned, &cv.AssignedPartitions_n);
        cv.PartitionsPendingRevocation = (void *)to_tps(&a, &m->revoking, &cv.PartitionsPendingRevocation_n);
        rc |= put(&a, REC_CURRENT, &ck, &cv, &recs[n++]);
    }
    if (gone_id.p) { /* Kafka's order: current assignment, target, then member metadata */
        struct sl_ConsumerGroupCurrentMemberAssignmentKey ck = {.GroupId = g->id, .MemberId = gone_id};
        rc |= put(&a, REC_CURRENT, &ck, NULL, &recs[n++]);
        struct sl_ConsumerGroupTargetAssignmentMemberKey xk = {.GroupId = g->id, .MemberId = gone_id};
        rc |= put(&a, REC_TARGET_MEMBER, &xk, NULL, &recs[n++]);
        struct sl_ConsumerGroupMemberMetadataKey mk = {.GroupId = g->id, .MemberId = gone_id};
        rc |= put(&a, REC_MEMBER, &mk, NULL, &recs[n++]);
    }
    if (rc == 0)
        rc = gc->store.write(gc->store.ctx, g->partition, recs, n, written, NULL);
    if (rc < 0)
        SL_WARN("group", "consumer group %.*s not stored: %s", SL_SLICE_FMT(g->id), strerror(rc < 0 ? -rc : EIO));
    sl_arena_fini(&a);
}

int sl_cgroup_tombstones(struct sl_arena *a, struct sl_slice group_id, struct sl_grec *recs)
{
    struct sl_ConsumerGroupTargetAssignmentMetadataKey tk = {.GroupId = group_id};
    struct sl_ConsumerGroupMetadataKey gk = {.GroupId = group_id};
    int rc = put(a, REC_TARGET_META, &tk, NULL, &recs[0]);
    if (rc == 0)
        rc = put(a, REC_METADATA, &gk, NULL, &recs[1]);
    return rc;
}

/* ---- loading ---- */

static struct sl_cmember *member_for(struct sl_group *g, struct sl_slice id)
{
    struct sl_cmember *m = sl_cmember_find(g->cg, id);
    return m ? m : sl_cmember_add(g->cg, id);
}

static void member_drop(struct sl_gc *gc, struct sl_group *g, struct sl_slice id)
{
    struct sl_cmember *m = sl_cmember_find(g->cg, id);
    if (!m)
        return;
    sl_list_remove(&m->link);
    g->cg->members_n--;
    sl_cmember_free(gc, m);
}

int sl_cgroup_replay(struct sl_gc *gc, int32_t partition, int16_t type, const void *key, struct sl_slice value)
{
    /* Every key of types 3-8 starts with GroupId; member keys follow with MemberId. */
    struct sl_slice group_id = ((const struct sl_ConsumerGroupMetadataKey *)key)->GroupId;
    struct sl_slice member_id = type == REC_MEMBER || type == REC_TARGET_MEMBER || type == REC_CURRENT
                                    ? ((const struct sl_ConsumerGroupMemberMetadataKey *)key)->MemberId
                                    : (struct sl_slice){NULL, 0};
    struct sl_group *g = sl_group_find(gc, group_id);
    if (!value.p) {
        if (!g || !g->cg)
            return 0;
        if (member_id.p) {
            if (type == REC_MEMBER)
                member_drop(gc, g, member_id);
        } else if (type == REC_METADATA) {
            sl_cgroup_free(gc, g);
            if (g->offsets.n == 0)
                sl_group_destroy(gc, g);
        }
        return 0;
    }
    if (type == 4)
        return 0; /* subscription metadata: not used, see above */
    if (!g) {
        g = sl_group_create(gc, group_id);
        g->partition = partition;
    }
    if (!g->cg)
        sl_cgroup_new(g);
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, value.p, value.len, &a);
    uint8_t vst[SL_COORD_VALUE_STORAGE];
    int16_t version;
    int rc = 0;
    if (sl_coord_value_decode(&r, type, &version, vst) != SL_OK) {
        rc = -EBADMSG;
        goto out;
    }
    switch (type) {
    case REC_METADATA: g->cg->epoch = ((struct sl_ConsumerGroupMetadataValue *)vst)->Epoch; break;
    case REC_TARGET_META:
        g->cg->target_epoch = ((struct sl_ConsumerGroupTargetAssignmentMetadataValue *)vst)->AssignmentEpoch;
        break;
    case REC_MEMBER: {
        struct sl_ConsumerGroupMemberMetadataValue *v = (void *)vst;
        struct sl_cmember *m = member_for(g, member_id);
        bytes_set(&m->instance_id, v->InstanceId);
        bytes_set(&m->rack_id, v->RackId);
        bytes_set(&m->client_id, v->ClientId);
        bytes_set(&m->client_host, v->ClientHost);
        for (int32_t i = 0; i < m->topics_n; i++)
            bytes_free(&m->topics[i]);
        free(m->topics);
        m->topics_n = v->SubscribedTopicNames_n > 0 ? v->SubscribedTopicNames_n : 0;
        m->topics = calloc((size_t)m->topics_n + 1, sizeof(*m->topics));
        SL_ASSERT(m->topics != NULL);
        for (int32_t i = 0; i < m->topics_n; i++)
            m->topics[i] = bytes_dup(nonnull(v->SubscribedTopicNames[i]));
        bytes_set(&m->regex, v->SubscribedTopicRegex);
        bytes_set(&m->assignor, v->ServerAssignor);
        m->rebalance_ms = v->RebalanceTimeoutMs;
        break;
    }
    case REC_TARGET_MEMBER: {
        struct sl_ConsumerGroupTargetAssignmentMemberValue *v = (void *)vst;
        from_tps(&member_for(g, member_id)->target, (const struct tps *)v->TopicPartitions,
                 v->TopicPartitions_n > 0 ? v->TopicPartitions_n : 0);
        break;
    }
    case REC_CURRENT: {
        struct sl_ConsumerGroupCurrentMemberAssignmentValue *v = (void *)vst;
        struct sl_cmember *m = member_for(g, member_id);
        m->epoch = v->MemberEpoch;
        m->prev_epoch = v->PreviousMemberEpoch;
        m->state = v->State >= 0 && v->State <= SL_CMEMBER_UNRELEASED_PARTITIONS ? (enum sl_cmember_state)v->State
                                                                                 : SL_CMEMBER_STABLE;
        from_tps(&m->assigned, (const struct tps *)v->AssignedPartitions,
                 v->AssignedPartitions_n > 0 ? v->AssignedPartitions_n : 0);
        from_tps(&m->revoking, (const struct tps *)v->PartitionsPendingRevocation,
                 v->PartitionsPendingRevocation_n > 0 ? v->PartitionsPendingRevocation_n : 0);
        break;
    }
    default: break;
    }
out:
    sl_arena_fini(&a);
    return rc;
}

void sl_cgroup_loaded(struct sl_gc *gc, struct sl_group *g)
{
    /* The assignor of the loaded target: the members' choice, as a heartbeat would pick. */
    int nr = 0, nu = 0;
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->cg->members)
    {
        struct sl_cmember *m = SL_LIST_ENTRY(l, struct sl_cmember, link);
        nr += sl_slice_eq_cstr(m->assignor, "range");
        nu += sl_slice_eq_cstr(m->assignor, "uniform");
        sl_gtimer_start(gc, &m->session, gc->now_ms + gc->conf.consumer_session_timeout_ms);
    }
    snprintf(g->cg->assignor, sizeof(g->cg->assignor), "%s", nr > nu ? "range" : "uniform");
    if (g->cg->members_n == 0 && g->state_ts_wall_ms < 0)
        g->state_ts_wall_ms = 0; /* Empty since before the load: retention counts from the commits */
}
