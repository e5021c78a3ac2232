/*
 * gcore.c - the group coordinator's plumbing: the group table, the timer
 * heap, operation dispatch, error answers, group partitioning, the
 * GroupMetadata record and replay of __consumer_offsets at load time.
 * Single-threaded: see group.h.
 */
#include "coord/group_int.h"
#include "coord/cgroup.h"

#include <errno.h>
#include <stdio.h>

#include "base/diag.h"
#include "proto/gen/DeleteGroups.h"
#include "proto/gen/DescribeGroups.h"
#include "proto/gen/Heartbeat.h"
#include "proto/gen/JoinGroup.h"
#include "proto/gen/LeaveGroup.h"
#include "proto/gen/ListGroups.h"
#include "proto/gen/OffsetCommit.h"
#include "proto/gen/OffsetDelete.h"
#include "proto/gen/OffsetFetch.h"
#include "proto/gen/SyncGroup.h"
#include "proto/gen/api.h"
#include "proto/gen/coord_records.h"
#include "proto/gen/errors.h"
#include "proto/kp.h"

const char *sl_group_state_name(enum sl_group_state s)
{
    static const char *const names[] = {
        [SL_GROUP_EMPTY] = "Empty",
        [SL_GROUP_PREPARING_REBALANCE] = "PreparingRebalance",
        [SL_GROUP_COMPLETING_REBALANCE] = "CompletingRebalance",
        [SL_GROUP_STABLE] = "Stable",
        [SL_GROUP_DEAD] = "Dead",
    };
    return (unsigned)s <= SL_GROUP_DEAD ? names[s] : "Unknown";
}

/* ---- partitioning --------------------------------------------------------- */

int32_t sl_group_partition(struct sl_slice id, int32_t partitions)
{
    /* Java's String.hashCode: h = 31 * h + c over UTF-16 code units. The id
     * arrives as UTF-8; invalid sequences count as U+FFFD as Java decodes. */
    uint32_t h = 0;
    size_t i = 0;
    while (i < id.len) {
        uint32_t c = id.p[i], cp;
        size_t n;
        if (c < 0x80) {
            cp = c, n = 1;
        } else if ((c & 0xe0) == 0xc0 && i + 1 < id.len) {
            cp = (c & 0x1f) << 6 | (id.p[i + 1] & 0x3f), n = 2;
        } else if ((c & 0xf0) == 0xe0 && i + 2 < id.len) {
            cp = (c & 0x0f) << 12 | (uint32_t)(id.p[i + 1] & 0x3f) << 6 | (id.p[i + 2] & 0x3f), n = 3;
        } else if ((c & 0xf8) == 0xf0 && i + 3 < id.len) {
            cp = (c & 0x07) << 18 | (uint32_t)(id.p[i + 1] & 0x3f) << 12 | (uint32_t)(id.p[i + 2] & 0x3f) << 6 |
                 (id.p[i + 3] & 0x3f);
            n = 4;
        } else {
            cp = 0xfffd, n = 1;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xd800 + (cp >> 10));
            h = 31 * h + (0xdc00 + (cp & 0x3ff));
        } else {
            h = 31 * h + cp;
        }
        i += n;
    }
    int32_t hs = (int32_t)h;
    int32_t abs = hs == INT32_MIN ? 0 : (hs < 0 ? -hs : hs); /* Kafka's Utils.abs */
    return partitions > 0 ? abs % partitions : 0;
}

/* ---- hash table ------------------------------------------------------------ */

uint64_t sl_ghash_bytes(const void *p, size_t n, uint64_t seed)
{
    /* FNV-1a, 64-bit. */
    uint64_t h = 1469598103934665603ull ^ seed;
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void ghash_grow(struct sl_ghash *h)
{
    size_t nb = h->nbuckets ? h->nbuckets * 2 : 16;
    struct sl_gnode **b = calloc(nb, sizeof(*b));
    SL_ASSERT(b != NULL);
    for (size_t i = 0; i < h->nbuckets; i++) {
        struct sl_gnode *n = h->buckets[i], *next;
        for (; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(h->buckets);
    h->buckets = b;
    h->nbuckets = nb;
}

void sl_ghash_insert(struct sl_ghash *h, struct sl_gnode *n)
{
    if (h->n + 1 > h->nbuckets)
        ghash_grow(h);
    struct sl_gnode **b = &h->buckets[n->hash & (h->nbuckets - 1)];
    n->next = *b;
    *b = n;
    h->n++;
}

void sl_ghash_remove(struct sl_ghash *h, struct sl_gnode *n)
{
    struct sl_gnode **pp = &h->buckets[n->hash & (h->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next)
        if (*pp == n) {
            *pp = n->next;
            h->n--;
            return;
        }
    SL_ASSERT(!"node not in its hash table");
}

void sl_ghash_free(struct sl_ghash *h)
{
    free(h->buckets);
    *h = (struct sl_ghash){0};
}

/* ---- timers: a binary min-heap of intrusive timers ------------------------- */

void sl_gtimer_init(struct sl_gtimer *t, void (*fn)(struct sl_gc *gc, struct sl_gtimer *t))
{
    t->deadline_ms = 0;
    t->idx = -1;
    t->fn = fn;
}

static void heap_swap(struct sl_gc *gc, int32_t a, int32_t b)
{
    struct sl_gtimer *t = gc->heap[a];
    gc->heap[a] = gc->heap[b];
    gc->heap[b] = t;
    gc->heap[a]->idx = a;
    gc->heap[b]->idx = b;
}

static void heap_fix(struct sl_gc *gc, int32_t i)
{
    while (i > 0 && gc->heap[(i - 1) / 2]->deadline_ms > gc->heap[i]->deadline_ms) {
        heap_swap(gc, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < gc->heap_n && gc->heap[l]->deadline_ms < gc->heap[m]->deadline_ms)
            m = l;
        if (r < gc->heap_n && gc->heap[r]->deadline_ms < gc->heap[m]->deadline_ms)
            m = r;
        if (m == i)
            return;
        heap_swap(gc, i, m);
        i = m;
    }
}

void sl_gtimer_stop(struct sl_gc *gc, struct sl_gtimer *t)
{
    if (t->idx < 0)
        return;
    int32_t i = t->idx;
    gc->heap_n--;
    if (i != gc->heap_n) {
        gc->heap[i] = gc->heap[gc->heap_n];
        gc->heap[i]->idx = i;
        heap_fix(gc, i);
    }
    t->idx = -1;
}

void sl_gtimer_start(struct sl_gc *gc, struct sl_gtimer *t, int64_t deadline_ms)
{
    sl_gtimer_stop(gc, t);
    if (gc->heap_n == gc->heap_cap) {
        int32_t cap = gc->heap_cap ? gc->heap_cap * 2 : 64;
        struct sl_gtimer **h = realloc(gc->heap, sizeof(*h) * (size_t)cap);
        SL_ASSERT(h != NULL);
        gc->heap = h;
        gc->heap_cap = cap;
    }
    t->deadline_ms = deadline_ms;
    t->idx = gc->heap_n;
    gc->heap[gc->heap_n++] = t;
    heap_fix(gc, t->idx);
}

int64_t sl_gc_next_deadline(const struct sl_gc *gc)
{
    return gc->heap_n ? gc->heap[0]->deadline_ms : INT64_MAX;
}

void sl_gc_tick(struct sl_gc *gc)
{
    while (gc->heap_n && gc->heap[0]->deadline_ms <= gc->now_ms) {
        struct sl_gtimer *t = gc->heap[0];
        sl_gtimer_stop(gc, t);
        t->fn(gc, t);
    }
}

/* ---- groups ------------------------------------------------------------------ */

static uint64_t group_hash(struct sl_slice id) { return sl_ghash_bytes(id.p, id.len, 0); }

struct sl_group *sl_group_find(struct sl_gc *gc, struct sl_slice id)
{
    if (!gc->groups.nbuckets)
        return NULL;
    uint64_t h = group_hash(id);
    for (struct sl_gnode *n = gc->groups.buckets[h & (gc->groups.nbuckets - 1)]; n; n = n->next) {
        struct sl_group *g = (struct sl_group *)n;
        if (n->hash == h && sl_slice_eq(g->id, id))
            return g;
    }
    return NULL;
}

void sl_group_join_expired(struct sl_gc *gc, struct sl_gtimer *t);
void sl_group_sync_expired(struct sl_gc *gc, struct sl_gtimer *t);

struct sl_group *sl_group_create(struct sl_gc *gc, struct sl_slice id)
{
    struct sl_group *g = calloc(1, sizeof(*g));
    SL_ASSERT(g != NULL);
    g->gc = gc;
    g->id = bytes_dup(nonnull(id));
    g->partition = sl_group_partition(id, gc->conf.num_partitions);
    g->state = g->prev_state = SL_GROUP_EMPTY;
    sl_list_init(&g->members);
    sl_list_init(&g->pending);
    sl_gtimer_init(&g->join_timer, sl_group_join_expired);
    sl_gtimer_init(&g->sync_timer, sl_group_sync_expired);
    g->state_ts_wall_ms = -1;
    g->node.hash = group_hash(g->id);
    sl_ghash_insert(&gc->groups, &g->node);
    return g;
}

void sl_member_free(struct sl_gc *gc, struct sl_member *m);

void sl_group_destroy(struct sl_gc *gc, struct sl_group *g)
{
    struct sl_list *l, *tmp;
    SL_LIST_FOREACH_SAFE(l, tmp, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        sl_list_remove(&m->link);
        sl_member_free(gc, m);
    }
    SL_LIST_FOREACH_SAFE(l, tmp, &g->pending)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        sl_list_remove(&m->link);
        sl_member_free(gc, m);
    }
    sl_gtimer_stop(gc, &g->join_timer);
    sl_gtimer_stop(gc, &g->sync_timer);
    if (g->cg)
        sl_cgroup_free(gc, g);
    sl_ghash_remove(&gc->groups, &g->node);
    sl_group_offsets_free(g);
    bytes_free(&g->id);
    bytes_free(&g->protocol_type);
    bytes_free(&g->protocol);
    bytes_free(&g->leader);
    free(g);
}

struct sl_member *sl_group_member(struct sl_group *g, struct sl_slice member_id)
{
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (sl_slice_eq(m->id, member_id))
            return m;
    }
    return NULL;
}

struct sl_slice sl_member_metadata(const struct sl_member *m, struct sl_slice name)
{
    for (int32_t i = 0; i < m->protos_n; i++)
        if (sl_slice_eq(m->protos[i].name, name))
            return m->protos[i].metadata;
    return (struct sl_slice){NULL, 0};
}

struct sl_slice sl_gop_dup(struct sl_gop *op, struct sl_slice s)
{
    if (!s.p)
        return s;
    if (s.len == 0)
        return (struct sl_slice){(const uint8_t *)"", 0};
    void *p = sl_arena_dup(op->arena, s.p, s.len);
    SL_ASSERT(p != NULL); /* the request arena's cap leaves room for answers */
    return (struct sl_slice){p, s.len};
}

/* ConsumerProtocolSubscription (any version): int16 version, then an array
 * of topic names first. Returns whether `topic` is among them. */
static bool subscription_has(struct sl_slice meta, struct sl_slice topic)
{
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, meta.p, meta.len, NULL);
    int16_t version;
    int32_t n;
    if (!meta.p || sl_kp_read_i16(&r, &version) < 0 || version < 0 || sl_kp_read_i32(&r, &n) < 0)
        return false;
    for (int32_t i = 0; i < n; i++) {
        int16_t len;
        if (sl_kp_read_i16(&r, &len) < 0 || len < 0 || (size_t)len > sl_kp_left(&r))
            return false;
        if (topic.len == (size_t)len && memcmp(r.p, topic.p, topic.len) == 0)
            return true;
        r.p += len;
    }
    return false;
}

bool sl_group_subscribed(struct sl_group *g, struct sl_slice topic)
{
    if (!g->protocol.p || !sl_slice_eq_cstr(g->protocol_type, "consumer"))
        return false;
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (subscription_has(sl_member_metadata(m, g->protocol), topic))
            return true;
    }
    return false;
}

/* ---- the GroupMetadata record ------------------------------------------------ */

static int flatten(struct sl_obuf *b, struct sl_arena *a, struct sl_slice *out)
{
    uint8_t *p = sl_arena_alloc(a, b->total_len + 1);
    if (!p)
        return -ENOMEM;
    int rc = sl_obuf_flatten(b, p);
    *out = (struct sl_slice){p, b->total_len};
    return rc;
}

/* Record type 2 (GroupMetadataKey) with a GroupMetadataValue at version 3,
 * the version Kafka 4.0 writes. */
#define GROUP_RECORD_TYPE 2
#define GROUP_VALUE_VERSION 3

int sl_group_record(struct sl_group *g, struct sl_arena *a, struct sl_grec *rec)
{
    struct sl_GroupMetadataKey key;
    sl_GroupMetadataKey_init(&key);
    key.group = g->id;
    struct sl_GroupMetadataValue v;
    sl_GroupMetadataValue_init(&v);
    v.protocolType = nonnull(g->protocol_type);
    v.generation = g->generation;
    v.protocol = g->protocol;
    v.leader = g->leader;
    v.currentStateTimestamp = g->state_ts_wall_ms;
    v.members_n = g->members_n;
    v.members = sl_arena_alloc(a, sizeof(*v.members) * (size_t)(g->members_n + 1));
    if (!v.members)
        return -ENOMEM;
    int32_t i = 0;
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        struct sl_GroupMetadataValue_MemberMetadata *mm = &v.members[i++];
        sl_GroupMetadataValue_MemberMetadata_init(mm);
        mm->memberId = m->id;
        mm->groupInstanceId = m->instance_id;
        mm->clientId = nonnull(m->client_id);
        mm->clientHost = nonnull(m->client_host);
        mm->rebalanceTimeout = m->rebalance_ms;
        mm->sessionTimeout = m->session_ms;
        mm->subscription = nonnull(sl_member_metadata(m, g->protocol));
        mm->assignment = nonnull(m->assignment);
    }
    struct sl_obuf kb, vb;
    sl_obuf_init(&kb);
    sl_obuf_init(&vb);
    int rc = sl_coord_key_encode(&kb, GROUP_RECORD_TYPE, &key);
    if (rc == 0)
        rc = sl_coord_value_encode(&vb, GROUP_RECORD_TYPE, GROUP_VALUE_VERSION, &v);
    if (rc == 0)
        rc = flatten(&kb, a, &rec->key);
    if (rc == 0)
        rc = flatten(&vb, a, &rec->value);
    sl_obuf_fini(&kb);
    sl_obuf_fini(&vb);
    return rc;
}

static void stored_nothing_to_do(struct sl_gc *gc, void *arg, int err)
{
    (void)gc;
    (void)arg;
    if (err < 0)
        SL_WARN("group", "a group metadata record was not stored: %s", strerror(-err));
}

void sl_group_store(struct sl_gc *gc, struct sl_group *g, sl_gstore_done_fn done, void *arg)
{
    if (!done)
        done = stored_nothing_to_do;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_grec rec;
    int rc = sl_group_record(g, &a, &rec);
    if (rc == 0)
        rc = gc->store.write(gc->store.ctx, g->partition, &rec, 1, done, arg);
    if (rc < 0) {
        SL_ERROR("group", "cannot store group %.*s: %s", SL_SLICE_FMT(g->id), strerror(-rc));
        done(gc, arg, rc);
    }
    sl_arena_fini(&a);
}

/* ---- replay (loading a partition) -------------------------------------------- */

struct sl_offset *sl_offset_put(struct sl_group *g, struct sl_slice topic, int32_t partition);
void sl_offset_remove(struct sl_group *g, struct sl_slice topic, int32_t partition);

int sl_gc_replay(struct sl_gc *gc, int32_t partition, struct sl_slice key, struct sl_slice value)
{
    struct sl_arena a;
    sl_arena_init(&a, 0);
    int rc = 0;
    uint8_t kst[SL_COORD_KEY_STORAGE], vst[SL_COORD_VALUE_STORAGE];
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, key.p, key.len, &a);
    int16_t type, version;
    if (!key.p || sl_coord_key_decode(&r, &type, kst) != SL_OK) {
        rc = -EBADMSG;
        goto out;
    }
    if (type == 0 || type == 1) { /* OffsetCommitKey */
        struct sl_OffsetCommitKey *k = (void *)kst;
        struct sl_group *g = sl_group_find(gc, k->group);
        if (!value.p) {
            if (g)
                sl_offset_remove(g, k->topic, k->partition);
            goto out;
        }
        sl_kp_reader_init(&r, value.p, value.len, &a);
        if (sl_coord_value_decode(&r, type, &version, vst) != SL_OK) {
            rc = -EBADMSG;
            goto out;
        }
        struct sl_OffsetCommitValue *v = (void *)vst;
        if (!g) {
            g = sl_group_create(gc, k->group);
            g->partition = partition;
        }
        struct sl_offset *o = sl_offset_put(g, k->topic, k->partition);
        o->offset = v->offset;
        o->leader_epoch = version >= 3 ? v->leaderEpoch : -1;
        bytes_set(&o->metadata, nonnull(v->metadata));
        o->commit_ts_ms = v->commitTimestamp;
    } else if (type == GROUP_RECORD_TYPE) {
        struct sl_GroupMetadataKey *k = (void *)kst;
        struct sl_group *g = sl_group_find(gc, k->group);
        if (!value.p) {
            if (g)
                sl_group_destroy(gc, g);
            goto out;
        }
        sl_kp_reader_init(&r, value.p, value.len, &a);
        if (sl_coord_value_decode(&r, type, &version, vst) != SL_OK) {
            rc = -EBADMSG;
            goto out;
        }
        if (!g) {
            g = sl_group_create(gc, k->group);
            g->partition = partition;
        }
        sl_group_load(gc, g, vst);
    }
    else if (type >= 3 && type <= 8) { /* KIP-848 consumer groups (cgroup_store.c) */
        rc = sl_cgroup_replay(gc, partition, type, kst, value);
    }
    /* Types 9+ (share groups) are not ours. */
out:
    sl_arena_fini(&a);
    return rc;
}

void sl_member_arm_session(struct sl_gc *gc, struct sl_member *m);

void sl_gc_loaded(struct sl_gc *gc, int32_t partition)
{
    for (size_t i = 0; i < gc->groups.nbuckets; i++)
        for (struct sl_gnode *n = gc->groups.buckets[i]; n; n = n->next) {
            struct sl_group *g = (struct sl_group *)n;
            if (g->partition != partition)
                continue;
            struct sl_list *l;
            SL_LIST_FOREACH(l, &g->members)
            {
                sl_member_arm_session(gc, SL_LIST_ENTRY(l, struct sl_member, link));
            }
            if (g->cg)
                sl_cgroup_loaded(gc, g);
        }
}

/* ---- lifecycle and dispatch ----------------------------------------------------- */

void sl_gc_expire_timer(struct sl_gc *gc, struct sl_gtimer *t);

void sl_gc_init(struct sl_gc *gc, const struct sl_gconf *conf, const struct sl_gstore *store)
{
    *gc = (struct sl_gc){0};
    gc->conf = *conf;
    gc->store = *store;
    sl_gtimer_init(&gc->expire_timer, sl_gc_expire_timer);
    if (conf->offsets_retention_check_ms > 0)
        sl_gtimer_start(gc, &gc->expire_timer, gc->now_ms + conf->offsets_retention_check_ms);
}

void sl_gc_fini(struct sl_gc *gc)
{
    for (size_t i = 0; i < gc->groups.nbuckets; i++)
        for (struct sl_gnode *n = gc->groups.buckets[i]; n; n = n->next)
            sl_group_fail_parked((struct sl_group *)n, SL_KERR_NOT_COORDINATOR);
    for (size_t i = 0; i < gc->groups.nbuckets; i++) {
        struct sl_gnode *n = gc->groups.buckets[i], *next;
        for (; n; n = next) {
            next = n->next;
            sl_group_destroy(gc, (struct sl_group *)n);
        }
    }
    sl_ghash_free(&gc->groups);
    free(gc->heap);
    gc->heap = NULL;
    gc->heap_n = gc->heap_cap = 0;
    gc->stopped = true;
}

void sl_gc_handle(struct sl_gc *gc, struct sl_gop *op)
{
    if (gc->stopped) {
        sl_gop_fail(op, SL_KERR_NOT_COORDINATOR);
        return;
    }
    switch (op->api_key) {
    case SL_API_JoinGroup: sl_gc_join(gc, op); break;
    case SL_API_SyncGroup: sl_gc_sync(gc, op); break;
    case SL_API_Heartbeat: sl_gc_heartbeat(gc, op); break;
    case SL_API_LeaveGroup: sl_gc_leave(gc, op); break;
    case SL_API_OffsetCommit: sl_gc_offset_commit(gc, op); break;
    case SL_API_OffsetFetch: sl_gc_offset_fetch(gc, op); break;
    case SL_API_OffsetDelete: sl_gc_offset_delete(gc, op); break;
    case SL_API_DescribeGroups: sl_gc_describe(gc, op); break;
    case SL_API_ListGroups: sl_gc_list(gc, op); break;
    case SL_API_DeleteGroups: sl_gc_delete_groups(gc, op); break;
    case SL_API_ConsumerGroupHeartbeat: sl_gc_consumer_heartbeat(gc, op); break;
    case SL_API_ConsumerGroupDescribe: sl_gc_consumer_describe(gc, op); break;
    default: sl_gop_fail(op, SL_KERR_INVALID_REQUEST); break;
    }
}

int sl_gc_group_state(struct sl_gc *gc, struct sl_slice group_id)
{
    struct sl_group *g = sl_group_find(gc, group_id);
    return g ? (int)g->state : -1;
}

/* ---- error answers ---------------------------------------------------------------- */

void sl_gop_fail(struct sl_gop *op, int16_t err)
{
    switch (op->api_key) {
    case SL_API_JoinGroup: {
        struct sl_JoinGroupRequest *req = op->request;
        struct sl_JoinGroupResponse *resp = op->response;
        resp->ErrorCode = err;
        resp->GenerationId = -1;
        resp->MemberId = nonnull(req->MemberId);
        resp->ProtocolName = op->version >= 7 ? (struct sl_slice){NULL, 0} : nonnull((struct sl_slice){0});
        resp->Leader = nonnull((struct sl_slice){0});
        resp->Members_n = 0;
        break;
    }
    case SL_API_SyncGroup: {
        struct sl_SyncGroupResponse *resp = op->response;
        resp->ErrorCode = err;
        resp->Assignment = nonnull((struct sl_slice){0});
        break;
    }
    case SL_API_Heartbeat: ((struct sl_HeartbeatResponse *)op->response)->ErrorCode = err; break;
    case SL_API_LeaveGroup: ((struct sl_LeaveGroupResponse *)op->response)->ErrorCode = err; break;
    case SL_API_ListGroups: ((struct sl_ListGroupsResponse *)op->response)->ErrorCode = err; break;
    case SL_API_OffsetDelete: ((struct sl_OffsetDeleteResponse *)op->response)->ErrorCode = err; break;
    case SL_API_ConsumerGroupHeartbeat:
    case SL_API_ConsumerGroupDescribe: sl_cgroup_fail_fill(op, err); break;
    case SL_API_OffsetCommit: {
        struct sl_OffsetCommitRequest *req = op->request;
        struct sl_OffsetCommitResponse *resp = op->response;
        int32_t nt = req->Topics_n > 0 ? req->Topics_n : 0;
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
            for (int32_t j = 0; j < np; j++) {
                sl_OffsetCommitResponse_OffsetCommitResponsePartition_init(&t->Partitions[j]);
                t->Partitions[j].PartitionIndex = req->Topics[i].Partitions[j].PartitionIndex;
                t->Partitions[j].ErrorCode = err;
            }
        }
        break;
    }
    case SL_API_OffsetFetch: {
        struct sl_OffsetFetchRequest *req = op->request;
        struct sl_OffsetFetchResponse *resp = op->response;
        if (op->version >= 8) {
            int32_t ng = req->Groups_n > 0 ? req->Groups_n : 0;
            resp->Groups = sl_arena_alloc(op->arena, sizeof(*resp->Groups) * (size_t)(ng + 1));
            SL_ASSERT(resp->Groups != NULL);
            resp->Groups_n = ng;
            for (int32_t i = 0; i < ng; i++) {
                sl_OffsetFetchResponse_OffsetFetchResponseGroup_init(&resp->Groups[i]);
                resp->Groups[i].GroupId = req->Groups[i].GroupId;
                resp->Groups[i].ErrorCode = err;
            }
        } else if (op->version >= 2) {
            resp->ErrorCode = err;
        } else {
            /* v1 has no top-level error: every partition asked for carries it. */
            int32_t nt = req->Topics_n > 0 ? req->Topics_n : 0;
            resp->Topics = sl_arena_alloc(op->arena, sizeof(*resp->Topics) * (size_t)(nt + 1));
            SL_ASSERT(resp->Topics != NULL);
            resp->Topics_n = nt;
            for (int32_t i = 0; i < nt; i++) {
                struct sl_OffsetFetchResponse_OffsetFetchResponseTopic *t = &resp->Topics[i];
                sl_OffsetFetchResponse_OffsetFetchResponseTopic_init(t);
                t->Name = req->Topics[i].Name;
                int32_t np = req->Topics[i].PartitionIndexes_n > 0 ? req->Topics[i].PartitionIndexes_n : 0;
                t->Partitions = sl_arena_alloc(op->arena, sizeof(*t->Partitions) * (size_t)(np + 1));
                SL_ASSERT(t->Partitions != NULL);
                t->Partitions_n = np;
                for (int32_t j = 0; j < np; j++) {
                    sl_OffsetFetchResponse_OffsetFetchResponsePartition_init(&t->Partitions[j]);
                    t->Partitions[j].PartitionIndex = req->Topics[i].PartitionIndexes[j];
                    t->Partitions[j].CommittedOffset = -1;
                    t->Partitions[j].ErrorCode = err;
                }
            }
        }
        break;
    }
    case SL_API_DescribeGroups: {
        struct sl_DescribeGroupsRequest *req = op->request;
        struct sl_DescribeGroupsResponse *resp = op->response;
        int32_t n = req->Groups_n > 0 ? req->Groups_n : 0;
        resp->Groups = sl_arena_alloc(op->arena, sizeof(*resp->Groups) * (size_t)(n + 1));
        SL_ASSERT(resp->Groups != NULL);
        resp->Groups_n = n;
        for (int32_t i = 0; i < n; i++) {
            sl_DescribeGroupsResponse_DescribedGroup_init(&resp->Groups[i]);
            resp->Groups[i].GroupId = req->Groups[i];
            resp->Groups[i].ErrorCode = err;
        }
        break;
    }
    case SL_API_DeleteGroups: {
        struct sl_DeleteGroupsRequest *req = op->request;
        struct sl_DeleteGroupsResponse *resp = op->response;
        int32_t n = req->GroupsNames_n > 0 ? req->GroupsNames_n : 0;
        resp->Results = sl_arena_alloc(op->arena, sizeof(*resp->Results) * (size_t)(n + 1));
        SL_ASSERT(resp->Results != NULL);
        resp->Results_n = n;
        for (int32_t i = 0; i < n; i++) {
            sl_DeleteGroupsResponse_DeletableGroupResult_init(&resp->Results[i]);
            resp->Results[i].GroupId = req->GroupsNames[i];
            resp->Results[i].ErrorCode = err;
        }
        break;
    }
    default: break;
    }
    op->done(op);
}
