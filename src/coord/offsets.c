/*
 * offsets.c - committed offsets and the group admin APIs: OffsetCommit,
 * OffsetFetch, OffsetDelete, DescribeGroups, ListGroups, DeleteGroups, and
 * the OffsetCommit records of __consumer_offsets.
 *
 * A commit is applied to memory only once its record is durable, and the
 * client is answered then: a committed offset that a client saw acknowledged
 * survives kill -9. Deletions write tombstones the same way.
 */
#include "coord/group_int.h"
#include "coord/cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "base/clock.h"
#include "base/diag.h"
#include "proto/gen/DeleteGroups.h"
#include "proto/gen/DescribeGroups.h"
#include "proto/gen/ListGroups.h"
#include "proto/gen/OffsetCommit.h"
#include "proto/gen/OffsetDelete.h"
#include "proto/gen/OffsetFetch.h"
#include "proto/gen/coord_records.h"
#include "proto/gen/errors.h"

/* OffsetCommitKey is record type 1 (type 0 is the same key, older); the
 * value is written at version 3, as Kafka 4.0 does without an expire time. */
#define OFFSET_RECORD_TYPE 1
#define OFFSET_VALUE_VERSION 3

/* ---- the offsets table ----------------------------------------------------------- */

static uint64_t offset_hash(struct sl_slice topic, int32_t partition)
{
    return sl_ghash_bytes(topic.p, topic.len, (uint64_t)(uint32_t)partition * 0x9e3779b97f4a7c15ull);
}

static struct sl_offset *offset_find(struct sl_group *g, struct sl_slice topic, int32_t partition)
{
    if (!g->offsets.nbuckets)
        return NULL;
    uint64_t h = offset_hash(topic, partition);
    for (struct sl_gnode *n = g->offsets.buckets[h & (g->offsets.nbuckets - 1)]; n; n = n->next) {
        struct sl_offset *o = (struct sl_offset *)n;
        if (n->hash == h && o->partition == partition && sl_slice_eq(o->topic, topic))
            return o;
    }
    return NULL;
}

struct sl_offset *sl_offset_put(struct sl_group *g, struct sl_slice topic, int32_t partition)
{
    struct sl_offset *o = offset_find(g, topic, partition);
    if (o)
        return o;
    o = calloc(1, sizeof(*o));
    SL_ASSERT(o != NULL);
    o->topic = bytes_dup(nonnull(topic));
    o->partition = partition;
    o->leader_epoch = -1;
    o->node.hash = offset_hash(topic, partition);
    sl_ghash_insert(&g->offsets, &o->node);
    return o;
}

static void offset_free(struct sl_offset *o)
{
    bytes_free(&o->topic);
    bytes_free(&o->metadata);
    free(o);
}

void sl_offset_remove(struct sl_group *g, struct sl_slice topic, int32_t partition)
{
    struct sl_offset *o = offset_find(g, topic, partition);
    if (!o)
        return;
    sl_ghash_remove(&g->offsets, &o->node);
    offset_free(o);
}

void sl_group_offsets_free(struct sl_group *g)
{
    for (size_t i = 0; i < g->offsets.nbuckets; i++) {
        struct sl_gnode *n = g->offsets.buckets[i], *next;
        for (; n; n = next) {
            next = n->next;
            offset_free((struct sl_offset *)n);
        }
    }
    sl_ghash_free(&g->offsets);
}

int64_t sl_gc_committed(struct sl_gc *gc, struct sl_slice group_id, struct sl_slice topic, int32_t partition)
{
    struct sl_group *g = sl_group_find(gc, group_id);
    struct sl_offset *o = g ? offset_find(g, topic, partition) : NULL;
    return o ? o->offset : -1;
}

/* ---- records ------------------------------------------------------------------------ */

static int encode_to(struct sl_arena *a, struct sl_obuf *b, struct sl_slice *out)
{
    uint8_t *p = sl_arena_alloc(a, b->total_len + 1);
    int rc = p ? sl_obuf_flatten(b, p) : -ENOMEM;
    *out = (struct sl_slice){p, b->total_len};
    sl_obuf_fini(b);
    return rc;
}

/* An OffsetCommit record (value NULL: tombstone) in arena a. */
static int offset_record(struct sl_arena *a, struct sl_slice group, struct sl_slice topic, int32_t partition,
                         const struct sl_OffsetCommitValue *value, struct sl_grec *rec)
{
    struct sl_OffsetCommitKey key;
    sl_OffsetCommitKey_init(&key);
    key.group = group;
    key.topic = topic;
    key.partition = partition;
    struct sl_obuf b;
    sl_obuf_init(&b);
    int rc = sl_coord_key_encode(&b, OFFSET_RECORD_TYPE, &key);
    if (rc == 0)
        rc = encode_to(a, &b, &rec->key);
    else
        sl_obuf_fini(&b);
    rec->value = (struct sl_slice){NULL, 0};
    if (rc == 0 && value) {
        sl_obuf_init(&b);
        rc = sl_coord_value_encode(&b, OFFSET_RECORD_TYPE, OFFSET_VALUE_VERSION, value);
        if (rc == 0)
            rc = encode_to(a, &b, &rec->value);
        else
            sl_obuf_fini(&b);
    }
    return rc;
}

static int group_tombstone(struct sl_arena *a, struct sl_slice group, struct sl_grec *rec)
{
    struct sl_GroupMetadataKey key;
    sl_GroupMetadataKey_init(&key);
    key.group = group;
    struct sl_obuf b;
    sl_obuf_init(&b);
    int rc = sl_coord_key_encode(&b, 2, &key);
    if (rc == 0)
        rc = encode_to(a, &b, &rec->key);
    else
        sl_obuf_fini(&b);
    rec->value = (struct sl_slice){NULL, 0};
    return rc;
}

/* Kafka's mapping of a failed __consumer_offsets append to the error a
 * committer sees. */
static int16_t write_error(int err)
{
    return err == -EMSGSIZE ? SL_KERR_INVALID_COMMIT_OFFSET_SIZE : SL_KERR_NOT_COORDINATOR;
}

/* ---- OffsetCommit -------------------------------------------------------------------- */

/* Kafka's ClassicGroup.validateOffsetCommit. */
static int16_t validate_commit(struct sl_group *g, int32_t generation, struct sl_slice member_id,
                               struct sl_slice instance_id)
{
    if (g->state == SL_GROUP_DEAD)
        return SL_KERR_COORDINATOR_NOT_AVAILABLE;
    if (generation < 0 && g->state == SL_GROUP_EMPTY)
        return 0; /* admin client or a consumer without group management */
    if (generation >= 0 || (member_id.p && member_id.len) || instance_id.p) {
        struct sl_member *m = NULL;
        if (instance_id.p) {
            struct sl_list *l;
            SL_LIST_FOREACH(l, &g->members)
            {
                struct sl_member *x = SL_LIST_ENTRY(l, struct sl_member, link);
                if (x->instance_id.p && sl_slice_eq(x->instance_id, instance_id))
                    m = x;
            }
            if (!m)
                return SL_KERR_UNKNOWN_MEMBER_ID;
            if (!sl_slice_eq(m->id, member_id))
                return SL_KERR_FENCED_INSTANCE_ID;
        } else if (!sl_group_member(g, member_id)) {
            return SL_KERR_UNKNOWN_MEMBER_ID;
        }
        if (generation != g->generation)
            return SL_KERR_ILLEGAL_GENERATION;
    } else if (g->state != SL_GROUP_EMPTY) {
        return SL_KERR_UNKNOWN_MEMBER_ID;
    }
    if (g->state == SL_GROUP_COMPLETING_REBALANCE)
        return SL_KERR_REBALANCE_IN_PROGRESS;
    return 0;
}

struct commit_write {
    struct sl_gop *op;
    struct sl_slice group_id; /* owned */
};

static void commit_written(struct sl_gc *gc, void *arg, int err)
{
    struct commit_write *w = arg;
    struct sl_gop *op = w->op;
    const struct sl_OffsetCommitRequest *req = op->request;
    struct sl_OffsetCommitResponse *resp = op->response;
    struct sl_group *g = gc->stopped ? NULL : sl_group_find(gc, w->group_id);
    int64_t now = sl_clock_wall_ms();
    for (int32_t i = 0; i < resp->Topics_n; i++)
        for (int32_t j = 0; j < resp->Topics[i].Partitions_n; j++) {
            struct sl_OffsetCommitResponse_OffsetCommitResponsePartition *rp = &resp->Topics[i].Partitions[j];
            if (rp->ErrorCode)
                continue;
            if (err < 0) {
                rp->ErrorCode = write_error(err);
                continue;
            }
            if (!g)
                continue;
            const struct sl_OffsetCommitRequest_OffsetCommitRequestPartition *p = &req->Topics[i].Partitions[j];
            struct sl_offset *o = sl_offset_put(g, req->Topics[i].Name, p->PartitionIndex);
            o->offset = p->CommittedOffset;
            o->leader_epoch = op->version >= 6 ? p->CommittedLeaderEpoch : -1;
            bytes_set(&o->metadata, nonnull(p->CommittedMetadata));
            o->commit_ts_ms = now;
        }
    bytes_free(&w->group_id);
    free(w);
    op->done(op);
}

void sl_gc_offset_commit(struct sl_gc *gc, struct sl_gop *op)
{
    const struct sl_OffsetCommitRequest *req = op->request;
    if (!req->GroupId.p || req->GroupId.len == 0) {
        sl_gop_fail(op, SL_KERR_INVALID_GROUP_ID);
        return;
    }
    int32_t partition = sl_group_partition(req->GroupId, gc->conf.num_partitions);
    int16_t err = gc->store.status(gc->store.ctx, partition);
    if (err) {
        sl_gop_fail(op, err);
        return;
    }
    int32_t generation = op->version >= 1 ? req->GenerationIdOrMemberEpoch : -1;
    struct sl_group *g = sl_group_find(gc, req->GroupId);
    if (!g) {
        if (generation < 0)
            g = sl_group_create(gc, req->GroupId); /* a "simple" group: offsets only */
        else
            err = op->version >= 9 ? SL_KERR_GROUP_ID_NOT_FOUND : SL_KERR_ILLEGAL_GENERATION;
    } else if (g->cg) {
        /* KIP-848: GenerationIdOrMemberEpoch is the member epoch (cgroup.c). */
        err = generation < 0 && (!req->MemberId.p || req->MemberId.len == 0) && g->cg->members_n == 0
                  ? 0
                  : sl_cgroup_check_epoch(g, req->MemberId, generation);
    } else {
        err = validate_commit(g, generation, req->MemberId, req->GroupInstanceId);
    }
    if (err) {
        sl_gop_fail(op, err);
        return;
    }
    /* The response, every partition 0 until found wrong. */
    struct sl_OffsetCommitResponse *resp = op->response;
    int32_t nt = req->Topics_n > 0 ? req->Topics_n : 0, nrec = 0;
    resp->Topics = sl_arena_alloc(op->arena, sizeof(*resp->Topics) * (size_t)(nt + 1));
    SL_ASSERT(resp->Topics != NULL);
    resp->Topics_n = nt;
    for (int32_t i = 0; i < nt; i++) {
        struct sl_OffsetCommitResponse_OffsetCommitResponseTopic *t = &resp->Topics[i];
        sl_OffsetCommitResponse_OffsetCommitResponseTopic_init(t);
        t->Name = req->Topics[i].Name;
        int32_t np = req->Topics[i].Partitions_n > 0 ? req->Topics[i].Partitions_n : 0;
        t->Partitions = sl_arena_alloc(op->arena, sizeof(*t->Partitions) * (size_t)(np + 1));
        SL_ASSERT(t->Partitions != NULL);
        t->Partitions_n = np;
        nrec += np;
    }
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_grec *recs = sl_arena_alloc(&a, sizeof(*recs) * (size_t)(nrec + 1));
    SL_ASSERT(recs != NULL);
    int32_t n = 0;
    int64_t now = sl_clock_wall_ms();
    for (int32_t i = 0; i < nt; i++) {
        const struct sl_OffsetCommitRequest_OffsetCommitRequestTopic *rt = &req->Topics[i];
        for (int32_t j = 0; j < resp->Topics[i].Partitions_n; j++) {
            const struct sl_OffsetCommitRequest_OffsetCommitRequestPartition *p = &rt->Partitions[j];
            struct sl_OffsetCommitResponse_OffsetCommitResponsePartition *rp = &resp->Topics[i].Partitions[j];
            sl_OffsetCommitResponse_OffsetCommitResponsePartition_init(rp);
            rp->PartitionIndex = p->PartitionIndex;
            if (p->CommittedMetadata.len > (size_t)gc->conf.offset_metadata_max_bytes) {
                rp->ErrorCode = SL_KERR_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            if (!gc->store.topic_exists(gc->store.ctx, rt->Name, p->PartitionIndex)) {
                rp->ErrorCode = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            struct sl_OffsetCommitValue v;
            sl_OffsetCommitValue_init(&v);
            v.offset = p->CommittedOffset;
            v.leaderEpoch = op->version >= 6 ? p->CommittedLeaderEpoch : -1;
            v.metadata = nonnull(p->CommittedMetadata);
            v.commitTimestamp = now;
            v.expireTimestamp = -1;
            if (offset_record(&a, req->GroupId, rt->Name, p->PartitionIndex, &v, &recs[n]) < 0) {
                rp->ErrorCode = SL_KERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
            n++;
        }
    }
    if (n == 0) {
        sl_arena_fini(&a);
        op->done(op);
        return;
    }
    struct commit_write *w = malloc(sizeof(*w));
    SL_ASSERT(w != NULL);
    w->op = op;
    w->group_id = bytes_dup(req->GroupId);
    int rc = gc->store.write(gc->store.ctx, g->partition, recs, n, commit_written, w);
    sl_arena_fini(&a);
    if (rc < 0)
        commit_written(gc, w, rc);
}

/* ---- OffsetFetch ------------------------------------------------------------------------ */

/* The v0-7 and v8-9 topic/partition structs are the same fields in the same
 * order; one routine serves both. */
_Static_assert(sizeof(struct sl_OffsetFetchRequest_OffsetFetchRequestTopic) ==
                   sizeof(struct sl_OffsetFetchRequest_OffsetFetchRequestTopics) &&
                   offsetof(struct sl_OffsetFetchRequest_OffsetFetchRequestTopic, PartitionIndexes_n) ==
                       offsetof(struct sl_OffsetFetchRequest_OffsetFetchRequestTopics, PartitionIndexes_n),
               "OffsetFetch request topic layouts differ");
_Static_assert(sizeof(struct sl_OffsetFetchResponse_OffsetFetchResponsePartition) ==
                       sizeof(struct sl_OffsetFetchResponse_OffsetFetchResponsePartitions) &&
                   offsetof(struct sl_OffsetFetchResponse_OffsetFetchResponsePartition, ErrorCode) ==
                       offsetof(struct sl_OffsetFetchResponse_OffsetFetchResponsePartitions, ErrorCode) &&
                   offsetof(struct sl_OffsetFetchResponse_OffsetFetchResponsePartition, Metadata) ==
                       offsetof(struct sl_OffsetFetchResponse_OffsetFetchResponsePartitions, Metadata),
               "OffsetFetch response partition layouts differ");
_Static_assert(sizeof(struct sl_OffsetFetchResponse_OffsetFetchResponseTopic) ==
                   sizeof(struct sl_OffsetFetchResponse_OffsetFetchResponseTopics),
               "OffsetFetch response topic layouts differ");

static int cmp_offset(const void *a, const void *b)
{
    const struct sl_offset *x = *(struct sl_offset *const *)a, *y = *(struct sl_offset *const *)b;
    size_t n = x->topic.len < y->topic.len ? x->topic.len : y->topic.len;
    int c = memcmp(x->topic.p, y->topic.p, n);
    if (c)
        return c;
    if (x->topic.len != y->topic.len)
        return x->topic.len < y->topic.len ? -1 : 1;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

static void fill_partition(struct sl_gop *op, struct sl_OffsetFetchResponse_OffsetFetchResponsePartition *rp,
                           int32_t index, const struct sl_offset *o)
{
    sl_OffsetFetchResponse_OffsetFetchResponsePartition_init(rp);
    rp->PartitionIndex = index;
    rp->CommittedOffset = o ? o->offset : -1;
    rp->CommittedLeaderEpoch = o ? o->leader_epoch : -1;
    rp->Metadata = o ? sl_gop_dup(op, nonnull(o->metadata)) : nonnull((struct sl_slice){0});
    rp->ErrorCode = 0;
}

/* One group's offsets. Returns the group-level error. */
static int16_t fetch_group(struct sl_gc *gc, struct sl_gop *op, struct sl_slice group_id,
                           const struct sl_OffsetFetchRequest_OffsetFetchRequestTopic *topics, int32_t topics_n,
                           struct sl_OffsetFetchResponse_OffsetFetchResponseTopic **out, int32_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    int16_t err = gc->store.status(gc->store.ctx, sl_group_partition(group_id, gc->conf.num_partitions));
    if (err)
        return err;
    struct sl_group *g = sl_group_find(gc, group_id);
    if (topics_n >= 0) {
        *out = sl_arena_alloc(op->arena, sizeof(**out) * (size_t)(topics_n + 1));
        SL_ASSERT(*out != NULL);
        *out_n = topics_n;
        for (int32_t i = 0; i < topics_n; i++) {
            struct sl_OffsetFetchResponse_OffsetFetchResponseTopic *t = &(*out)[i];
            sl_OffsetFetchResponse_OffsetFetchResponseTopic_init(t);
            t->Name = topics[i].Name;
            int32_t np = topics[i].PartitionIndexes_n > 0 ? topics[i].PartitionIndexes_n : 0;
            t->Partitions = sl_arena_alloc(op->arena, sizeof(*t->Partitions) * (size_t)(np + 1));
            SL_ASSERT(t->Partitions != NULL);
            t->Partitions_n = np;
            for (int32_t j = 0; j < np; j++) {
                int32_t idx = topics[i].PartitionIndexes[j];
                fill_partition(op, &t->Partitions[j], idx, g ? offset_find(g, topics[i].Name, idx) : NULL);
            }
        }
        return 0;
    }
    /* Every committed offset of the group, by topic. */
    if (!g || g->offsets.n == 0)
        return 0;
    struct sl_offset **all = sl_arena_alloc(op->arena, sizeof(*all) * g->offsets.n);
    SL_ASSERT(all != NULL);
    size_t n = 0;
    for (size_t i = 0; i < g->offsets.nbuckets; i++)
        for (struct sl_gnode *nd = g->offsets.buckets[i]; nd; nd = nd->next)
            all[n++] = (struct sl_offset *)nd;
    qsort(all, n, sizeof(*all), cmp_offset);
    int32_t nt = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || !sl_slice_eq(all[i]->topic, all[i - 1]->topic))
            nt++;
    *out = sl_arena_alloc(op->arena, sizeof(**out) * (size_t)(nt + 1));
    SL_ASSERT(*out != NULL);
    struct sl_OffsetFetchResponse_OffsetFetchResponsePartition *parts =
        sl_arena_alloc(op->arena, sizeof(*parts) * n);
    SL_ASSERT(parts != NULL);
    struct sl_OffsetFetchResponse_OffsetFetchResponseTopic *t = NULL;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || !sl_slice_eq(all[i]->topic, all[i - 1]->topic)) {
            t = &(*out)[(*out_n)++];
            sl_OffsetFetchResponse_OffsetFetchResponseTopic_init(t);
            t->Name = sl_gop_dup(op, all[i]->topic);
            t->Partitions = &parts[i];
            t->Partitions_n = 0;
        }
        fill_partition(op, &t->Partitions[t->Partitions_n++], all[i]->partition, all[i]);
    }
    return 0;
}

void sl_gc_offset_fetch(struct sl_gc *gc, struct sl_gop *op)
{
    const struct sl_OffsetFetchRequest *req = op->request;
    struct sl_OffsetFetchResponse *resp = op->response;
    if (op->version < 8) {
        int32_t tn = op->version >= 2 ? req->Topics_n : (req->Topics_n > 0 ? req->Topics_n : 0);
        int16_t err = fetch_group(gc, op, req->GroupId, req->Topics, tn, &resp->Topics, &resp->Topics_n);
        if (err) {
            sl_gop_fail(op, err);
            return;
        }
        op->done(op);
        return;
    }
    int32_t ng = req->Groups_n > 0 ? req->Groups_n : 0;
    resp->Groups = sl_arena_alloc(op->arena, sizeof(*resp->Groups) * (size_t)(ng + 1));
    SL_ASSERT(resp->Groups != NULL);
    resp->Groups_n = ng;
    for (int32_t i = 0; i < ng; i++) {
        const struct sl_OffsetFetchRequest_OffsetFetchRequestGroup *rg = &req->Groups[i];
        struct sl_OffsetFetchResponse_OffsetFetchResponseGroup *g = &resp->Groups[i];
        sl_OffsetFetchResponse_OffsetFetchResponseGroup_init(g);
        g->GroupId = rg->GroupId;
        struct sl_OffsetFetchResponse_OffsetFetchResponseTopic *topics;
        int32_t n;
        struct sl_group *cgg = op->version >= 9 && rg->MemberId.p ? sl_group_find(gc, rg->GroupId) : NULL;
        if (cgg && cgg->cg && (g->ErrorCode = sl_cgroup_check_epoch(cgg, rg->MemberId, rg->MemberEpoch)) != 0)
            continue;
        g->ErrorCode = fetch_group(gc, op, rg->GroupId, (const void *)rg->Topics, rg->Topics_n, &topics, &n);
        g->Topics = (void *)topics;
        g->Topics_n = n;
    }
    op->done(op);
}

/* ---- OffsetDelete -------------------------------------------------------------------------- */

struct delete_write {
    struct sl_gop *op;
    struct sl_slice group_id; /* owned */
    int16_t *result;          /* DeleteGroups: the group's ErrorCode; NULL for OffsetDelete */
};

static void offsets_deleted(struct sl_gc *gc, void *arg, int err)
{
    struct delete_write *w = arg;
    struct sl_gop *op = w->op;
    const struct sl_OffsetDeleteRequest *req = op->request;
    struct sl_OffsetDeleteResponse *resp = op->response;
    struct sl_group *g = gc->stopped ? NULL : sl_group_find(gc, w->group_id);
    for (int32_t i = 0; i < resp->Topics_n; i++)
        for (int32_t j = 0; j < resp->Topics[i].Partitions_n; j++) {
            struct sl_OffsetDeleteResponse_OffsetDeleteResponsePartition *rp = &resp->Topics[i].Partitions[j];
            if (rp->ErrorCode)
                continue;
            if (err < 0)
                rp->ErrorCode = write_error(err);
            else if (g)
                sl_offset_remove(g, req->Topics[i].Name, rp->PartitionIndex);
        }
    bytes_free(&w->group_id);
    free(w);
    op->done(op);
}

void sl_gc_offset_delete(struct sl_gc *gc, struct sl_gop *op)
{
    const struct sl_OffsetDeleteRequest *req = op->request;
    struct sl_OffsetDeleteResponse *resp = op->response;
    int16_t err = gc->store.status(gc->store.ctx, sl_group_partition(req->GroupId, gc->conf.num_partitions));
    struct sl_group *g = err ? NULL : sl_group_find(gc, req->GroupId);
    if (!err && (!g || g->state == SL_GROUP_DEAD))
        err = SL_KERR_GROUP_ID_NOT_FOUND;
    if (!err && g->state != SL_GROUP_EMPTY && !sl_slice_eq_cstr(g->protocol_type, "consumer"))
        err = SL_KERR_NON_EMPTY_GROUP;
    if (err) {
        sl_gop_fail(op, err);
        return;
    }
    int32_t nt = req->Topics_n > 0 ? req->Topics_n : 0, nrec = 0;
    resp->Topics = sl_arena_alloc(op->arena, sizeof(*resp->Topics) * (size_t)(nt + 1));
    SL_ASSERT(resp->Topics != NULL);
    resp->Topics_n = nt;
    for (int32_t i = 0; i < nt; i++)
        nrec += req->Topics[i].Partitions_n > 0 ? req->Topics[i].Partitions_n : 0;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_grec *recs = sl_arena_alloc(&a, sizeof(*recs) * (size_t)(nrec + 1));
    SL_ASSERT(recs != NULL);
    int32_t n = 0;
    for (int32_t i = 0; i < nt; i++) {
        const struct sl_OffsetDeleteRequest_OffsetDeleteRequestTopic *rt = &req->Topics[i];
        struct sl_OffsetDeleteResponse_OffsetDeleteResponseTopic *t = &resp->Topics[i];
        sl_OffsetDeleteResponse_OffsetDeleteResponseTopic_init(t);
        t->Name = rt->Name;
        int32_t np = rt->Partitions_n > 0 ? rt->Partitions_n : 0;
        t->Partitions = sl_arena_alloc(op->arena, sizeof(*t->Partitions) * (size_t)(np + 1));
        SL_ASSERT(t->Partitions != NULL);
        t->Partitions_n = np;
        bool subscribed = g->state != SL_GROUP_EMPTY && sl_group_subscribed(g, rt->Name);
        for (int32_t j = 0; j < np; j++) {
            struct sl_OffsetDeleteResponse_OffsetDeleteResponsePartition *rp = &t->Partitions[j];
            sl_OffsetDeleteResponse_OffsetDeleteResponsePartition_init(rp);
            rp->PartitionIndex = rt->Partitions[j].PartitionIndex;
            if (subscribed) {
                rp->ErrorCode = SL_KERR_GROUP_SUBSCRIBED_TO_TOPIC;
                continue;
            }
            if (offset_find(g, rt->Name, rp->PartitionIndex) &&
                offset_record(&a, g->id, rt->Name, rp->PartitionIndex, NULL, &recs[n]) == 0)
                n++;
        }
    }
    if (n == 0) {
        sl_arena_fini(&a);
        op->done(op);
        return;
    }
    struct delete_write *w = calloc(1, sizeof(*w));
    SL_ASSERT(w != NULL);
    w->op = op;
    w->group_id = bytes_dup(g->id);
    int rc = gc->store.write(gc->store.ctx, g->partition, recs, n, offsets_deleted, w);
    sl_arena_fini(&a);
    if (rc < 0)
        offsets_deleted(gc, w, rc);
}

/* ---- DeleteGroups ---------------------------------------------------------------------------- */

static void group_deleted(struct sl_gc *gc, void *arg, int err)
{
    struct delete_write *w = arg;
    struct sl_gop *op = w->op;
    if (err < 0) {
        *w->result = write_error(err);
    } else if (!gc->stopped) {
        struct sl_group *g = sl_group_find(gc, w->group_id);
        if (g && g->state == SL_GROUP_EMPTY) {
            /* Empty -> Dead: the group is gone, and so is its memory. */
            SL_ASSERT(g->members_n == 0);
            g->state = SL_GROUP_DEAD;
            sl_group_destroy(gc, g);
        }
    }
    bytes_free(&w->group_id);
    free(w);
    if (--op->pending == 0)
        op->done(op);
}

void sl_gc_delete_groups(struct sl_gc *gc, struct sl_gop *op)
{
    const struct sl_DeleteGroupsRequest *req = op->request;
    struct sl_DeleteGroupsResponse *resp = op->response;
    int32_t n = req->GroupsNames_n > 0 ? req->GroupsNames_n : 0;
    resp->Results = sl_arena_alloc(op->arena, sizeof(*resp->Results) * (size_t)(n + 1));
    SL_ASSERT(resp->Results != NULL);
    resp->Results_n = n;
    op->pending = 1;
    for (int32_t i = 0; i < n; i++) {
        struct sl_slice id = req->GroupsNames[i];
        struct sl_DeleteGroupsResponse_DeletableGroupResult *r = &resp->Results[i];
        sl_DeleteGroupsResponse_DeletableGroupResult_init(r);
        r->GroupId = id;
        if (!id.p || id.len == 0) {
            r->ErrorCode = SL_KERR_INVALID_GROUP_ID;
            continue;
        }
        int16_t err = gc->store.status(gc->store.ctx, sl_group_partition(id, gc->conf.num_partitions));
        struct sl_group *g = err ? NULL : sl_group_find(gc, id);
        if (!err && (!g || g->state == SL_GROUP_DEAD))
            err = SL_KERR_GROUP_ID_NOT_FOUND;
        if (!err && (g->state != SL_GROUP_EMPTY || (g->cg && g->cg->members_n > 0)))
            err = SL_KERR_NON_EMPTY_GROUP;
        r->ErrorCode = err;
        if (err)
            continue;
        struct sl_arena a;
        sl_arena_init(&a, 0);
        struct sl_grec *recs = sl_arena_alloc(&a, sizeof(*recs) * (g->offsets.n + 3));
        SL_ASSERT(recs != NULL);
        int32_t nrec = 0;
        for (size_t b = 0; b < g->offsets.nbuckets; b++)
            for (struct sl_gnode *nd = g->offsets.buckets[b]; nd; nd = nd->next) {
                struct sl_offset *o = (struct sl_offset *)nd;
                if (offset_record(&a, g->id, o->topic, o->partition, NULL, &recs[nrec]) == 0)
                    nrec++;
            }
        if (group_tombstone(&a, g->id, &recs[nrec]) == 0)
            nrec++;
        if (g->cg && sl_cgroup_tombstones(&a, g->id, &recs[nrec]) == 0)
            nrec += 2; /* an empty KIP-848 group: its group-level records */
        struct delete_write *w = calloc(1, sizeof(*w));
        SL_ASSERT(w != NULL);
        w->op = op;
        w->group_id = bytes_dup(g->id);
        w->result = &r->ErrorCode;
        op->pending++;
        int rc = gc->store.write(gc->store.ctx, g->partition, recs, nrec, group_deleted, w);
        sl_arena_fini(&a);
        if (rc < 0)
            group_deleted(gc, w, rc);
    }
    if (--op->pending == 0)
        op->done(op);
}

/* ---- DescribeGroups and ListGroups ------------------------------------------------------------- */

/* With no ACLs every group operation is allowed: READ(3), DELETE(6), DESCRIBE(8). */
#define GROUP_AUTHORIZED_OPS ((1 << 3) | (1 << 6) | (1 << 8))

void sl_gc_describe(struct sl_gc *gc, struct sl_gop *op)
{
    const struct sl_DescribeGroupsRequest *req = op->request;
    struct sl_DescribeGroupsResponse *resp = op->response;
    int32_t n = req->Groups_n > 0 ? req->Groups_n : 0;
    resp->Groups = sl_arena_alloc(op->arena, sizeof(*resp->Groups) * (size_t)(n + 1));
    SL_ASSERT(resp->Groups != NULL);
    resp->Groups_n = n;
    for (int32_t i = 0; i < n; i++) {
        struct sl_DescribeGroupsResponse_DescribedGroup *d = &resp->Groups[i];
        sl_DescribeGroupsResponse_DescribedGroup_init(d);
        d->GroupId = req->Groups[i];
        d->GroupState = sl_slice_cstr("");
        d->ProtocolType = sl_slice_cstr("");
        d->ProtocolData = sl_slice_cstr("");
        d->AuthorizedOperations = req->IncludeAuthorizedOperations ? GROUP_AUTHORIZED_OPS : INT32_MIN;
        int16_t err = gc->store.status(gc->store.ctx, sl_group_partition(req->Groups[i], gc->conf.num_partitions));
        if (err) {
            d->ErrorCode = err;
            continue;
        }
        struct sl_group *g = sl_group_find(gc, req->Groups[i]);
        if (!g) {
            d->GroupState = sl_slice_cstr(sl_group_state_name(SL_GROUP_DEAD));
            continue;
        }
        if (g->cg) { /* Kafka 4.0: "Group %s is not a classic group." */
            d->ErrorCode = SL_KERR_GROUP_ID_NOT_FOUND;
            d->GroupState = sl_slice_cstr(sl_group_state_name(SL_GROUP_DEAD));
            continue;
        }
        bool stable = g->state == SL_GROUP_STABLE;
        d->GroupState = sl_slice_cstr(sl_group_state_name(g->state));
        d->ProtocolType = sl_gop_dup(op, nonnull(g->protocol_type));
        d->ProtocolData = stable ? sl_gop_dup(op, nonnull(g->protocol)) : sl_slice_cstr("");
        d->Members = sl_arena_alloc(op->arena, sizeof(*d->Members) * (size_t)(g->members_n + 1));
        SL_ASSERT(d->Members != NULL);
        struct sl_list *l;
        SL_LIST_FOREACH(l, &g->members)
        {
            struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
            struct sl_DescribeGroupsResponse_DescribedGroupMember *dm = &d->Members[d->Members_n++];
            sl_DescribeGroupsResponse_DescribedGroupMember_init(dm);
            dm->MemberId = sl_gop_dup(op, m->id);
            dm->GroupInstanceId = sl_gop_dup(op, m->instance_id);
            dm->ClientId = sl_gop_dup(op, nonnull(m->client_id));
            dm->ClientHost = sl_gop_dup(op, nonnull(m->client_host));
            dm->MemberMetadata = stable ? sl_gop_dup(op, nonnull(sl_member_metadata(m, g->protocol))) : sl_slice_cstr("");
            dm->MemberAssignment = stable ? sl_gop_dup(op, nonnull(m->assignment)) : sl_slice_cstr("");
        }
    }
    op->done(op);
}

static bool filter_has(const struct sl_slice *f, int32_t n, const char *name)
{
    if (n <= 0)
        return true;
    for (int32_t i = 0; i < n; i++)
        if (f[i].len == strlen(name) && strncasecmp((const char *)f[i].p, name, f[i].len) == 0)
            return true;
    return false;
}

void sl_gc_list(struct sl_gc *gc, struct sl_gop *op)
{
    const struct sl_ListGroupsRequest *req = op->request;
    struct sl_ListGroupsResponse *resp = op->response;
    resp->Groups = sl_arena_alloc(op->arena, sizeof(*resp->Groups) * (gc->groups.n + 1));
    SL_ASSERT(resp->Groups != NULL);
    resp->Groups_n = 0;
    bool classic_ok = filter_has(req->TypesFilter, op->version >= 5 ? req->TypesFilter_n : 0, "classic");
    bool consumer_ok = filter_has(req->TypesFilter, op->version >= 5 ? req->TypesFilter_n : 0, "consumer");
    for (size_t i = 0; i < gc->groups.nbuckets; i++)
        for (struct sl_gnode *n = gc->groups.buckets[i]; n; n = n->next) {
            struct sl_group *g = (struct sl_group *)n;
            if (!(g->cg ? consumer_ok : classic_ok))
                continue;
            const char *state = g->cg ? sl_cgroup_state(g->cg) : sl_group_state_name(g->state);
            if (g->state == SL_GROUP_DEAD ||
                !filter_has(req->StatesFilter, op->version >= 4 ? req->StatesFilter_n : 0, state))
                continue;
            struct sl_ListGroupsResponse_ListedGroup *lg = &resp->Groups[resp->Groups_n++];
            sl_ListGroupsResponse_ListedGroup_init(lg);
            lg->GroupId = sl_gop_dup(op, g->id);
            lg->ProtocolType = g->cg ? sl_slice_cstr("consumer") : sl_gop_dup(op, nonnull(g->protocol_type));
            lg->GroupState = sl_slice_cstr(state);
            lg->GroupType = sl_slice_cstr(g->cg ? "consumer" : "classic");
        }
    op->done(op);
}
