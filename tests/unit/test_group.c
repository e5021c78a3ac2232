/*
 * test_group.c - the classic group coordinator's state machine (src/coord/
 * group.c, offsets.c, gcore.c) driven directly: operations in, answers out,
 * time advanced by hand, writes to __consumer_offsets captured by a fake
 * store whose completions the test releases.
 */
#include "testlib.h"

#include "coord/group.h"
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
#include "proto/gen/errors.h"

#define INCONSISTENT_GROUP_PROTOCOL 23
#define INVALID_SESSION_TIMEOUT 26
#define SL_ASSERT_TOPS(e) CHECK(e)

/* ---- fake store ---------------------------------------------------------------- */

struct pending {
    sl_gstore_done_fn done;
    void *arg;
};

static struct {
    struct pending q[256];
    int qn;
    struct sl_grec recs[1024]; /* every record written, copied */
    int32_t rec_part[1024];
    int recs_n;
    int16_t status;
} store;

static struct sl_slice copy(struct sl_slice s)
{
    if (!s.p)
        return s;
    uint8_t *p = malloc(s.len + 1);
    memcpy(p, s.p, s.len);
    return (struct sl_slice){p, s.len};
}

static int fake_write(void *ctx, int32_t partition, const struct sl_grec *recs, int n, sl_gstore_done_fn done,
                      void *arg)
{
    (void)ctx;
    for (int i = 0; i < n; i++) {
        store.recs[store.recs_n].key = copy(recs[i].key);
        store.recs[store.recs_n].value = copy(recs[i].value);
        store.rec_part[store.recs_n++] = partition;
    }
    store.q[store.qn++] = (struct pending){done, arg};
    return 0;
}

static int16_t fake_status(void *ctx, int32_t partition)
{
    (void)ctx;
    (void)partition;
    return store.status;
}

static bool fake_topic_exists(void *ctx, struct sl_slice topic, int32_t partition)
{
    (void)ctx;
    return !sl_slice_eq_cstr(topic, "missing") && partition >= 0 && partition < 8;
}

/* Completes every write made so far (err for all). */
static void flush_store(struct sl_gc *gc, int err)
{
    while (store.qn) {
        struct pending p = store.q[0];
        memmove(store.q, store.q + 1, sizeof(store.q[0]) * (size_t)--store.qn);
        p.done(gc, p.arg, err);
    }
}

static struct sl_gc *new_gc(void)
{
    static struct sl_gc gc;
    struct sl_gconf conf = {
        .num_partitions = 50,
        .initial_rebalance_delay_ms = 3000,
        .min_session_timeout_ms = 6000,
        .max_session_timeout_ms = 1800000,
        .max_size = 1000,
        .offset_metadata_max_bytes = 4096,
        .offsets_retention_ms = 7LL * 24 * 3600 * 1000,
    };
    struct sl_gstore st = {.write = fake_write, .status = fake_status, .topic_exists = fake_topic_exists};
    sl_gc_init(&gc, &conf, &st);
    gc.now_ms = 1000000;
    return &gc;
}

/* Moves time forward, firing each timer at its own deadline as the
 * coordinator thread does. */
static void advance(struct sl_gc *gc, int64_t ms)
{
    int64_t target = gc->now_ms + ms;
    for (;;) {
        int64_t next = sl_gc_next_deadline(gc);
        if (next > target)
            break;
        if (next > gc->now_ms)
            gc->now_ms = next;
        sl_gc_tick(gc);
    }
    gc->now_ms = target;
}

/* ---- operations ------------------------------------------------------------------ */

struct top {
    struct sl_gop op;
    struct sl_arena arena;
    bool done;
};

static void top_done(struct sl_gop *op)
{
    struct top *t = (struct top *)op;
    CHECK(!t->done); /* exactly once */
    t->done = true;
}

/* Every operation stays reachable from here, so the leak checker at exit
 * sees only what the coordinator itself lost. */
static struct top *all_tops[4096];
static int all_tops_n;

static struct top *top_new(int16_t api, int16_t version)
{
    struct top *t = calloc(1, sizeof(*t));
    SL_ASSERT_TOPS(all_tops_n < 4096);
    all_tops[all_tops_n++] = t;
    sl_arena_init(&t->arena, 0);
    const struct sl_api_info *info = sl_api_get(api);
    t->op.api_key = api;
    t->op.version = version;
    t->op.request = sl_arena_alloc(&t->arena, info->request_size);
    t->op.response = sl_arena_alloc(&t->arena, info->response_size);
    info->request_init(t->op.request);
    info->response_init(t->op.response);
    t->op.arena = &t->arena;
    t->op.client_id = sl_slice_cstr("client");
    t->op.client_host = sl_slice_cstr("/127.0.0.1");
    t->op.done = top_done;
    sl_list_init(&t->op.link);
    return t;
}

static struct sl_slice S(const char *s) { return sl_slice_cstr(s); }

/* JoinGroup with protocols "p1[,p2]" each with metadata = its own name. */
static struct top *join(struct sl_gc *gc, int16_t v, const char *group, struct sl_slice member, const char *instance,
                        int32_t session, int32_t rebalance, const char *ptype, const char *p1, const char *p2)
{
    struct top *t = top_new(SL_API_JoinGroup, v);
    struct sl_JoinGroupRequest *r = t->op.request;
    r->GroupId = S(group);
    r->SessionTimeoutMs = session;
    r->RebalanceTimeoutMs = rebalance;
    r->MemberId = member.p ? member : S("");
    r->GroupInstanceId = instance ? S(instance) : (struct sl_slice){0};
    r->ProtocolType = S(ptype);
    r->Protocols_n = p2 ? 2 : 1;
    r->Protocols = sl_arena_alloc(&t->arena, sizeof(*r->Protocols) * 2);
    r->Protocols[0].Name = S(p1);
    r->Protocols[0].Metadata = S(p1);
    if (p2) {
        r->Protocols[1].Name = S(p2);
        r->Protocols[1].Metadata = S(p2);
    }
    sl_gc_handle(gc, &t->op);
    return t;
}

static struct sl_JoinGroupResponse *jr(struct top *t) { return t->op.response; }

static struct top *sync_(struct sl_gc *gc, const char *group, struct sl_slice member, int32_t gen, int n_assign,
                         struct sl_slice *ids, const char **assign)
{
    struct top *t = top_new(SL_API_SyncGroup, 5);
    struct sl_SyncGroupRequest *r = t->op.request;
    r->GroupId = S(group);
    r->MemberId = member;
    r->GenerationId = gen;
    r->Assignments_n = n_assign;
    r->Assignments = sl_arena_alloc(&t->arena, sizeof(*r->Assignments) * (size_t)(n_assign + 1));
    for (int i = 0; i < n_assign; i++) {
        r->Assignments[i].MemberId = ids[i];
        r->Assignments[i].Assignment = S(assign[i]);
    }
    sl_gc_handle(gc, &t->op);
    return t;
}

static int16_t heartbeat(struct sl_gc *gc, const char *group, struct sl_slice member, int32_t gen,
                         const char *instance)
{
    struct top *t = top_new(SL_API_Heartbeat, 4);
    struct sl_HeartbeatRequest *r = t->op.request;
    r->GroupId = S(group);
    r->MemberId = member;
    r->GenerationId = gen;
    r->GroupInstanceId = instance ? S(instance) : (struct sl_slice){0};
    sl_gc_handle(gc, &t->op);
    CHECK(t->done);
    return ((struct sl_HeartbeatResponse *)t->op.response)->ErrorCode;
}

static struct top *commit(struct sl_gc *gc, int16_t v, const char *group, struct sl_slice member, int32_t gen,
                          const char *topic, int32_t partition, int64_t offset)
{
    struct top *t = top_new(SL_API_OffsetCommit, v);
    struct sl_OffsetCommitRequest *r = t->op.request;
    r->GroupId = S(group);
    r->MemberId = member.p ? member : S("");
    r->GenerationIdOrMemberEpoch = gen;
    r->Topics_n = 1;
    r->Topics = sl_arena_alloc(&t->arena, sizeof(*r->Topics));
    r->Topics[0].Name = S(topic);
    r->Topics[0].Partitions_n = 1;
    r->Topics[0].Partitions = sl_arena_alloc(&t->arena, sizeof(*r->Topics[0].Partitions));
    r->Topics[0].Partitions[0].PartitionIndex = partition;
    r->Topics[0].Partitions[0].CommittedOffset = offset;
    r->Topics[0].Partitions[0].CommittedLeaderEpoch = -1;
    r->Topics[0].Partitions[0].CommittedMetadata = S("meta");
    sl_gc_handle(gc, &t->op);
    return t;
}

static int16_t commit_err(struct top *t)
{
    struct sl_OffsetCommitResponse *r = t->op.response;
    CHECK_EQ(r->Topics_n, 1);
    return r->Topics[0].Partitions[0].ErrorCode;
}

/* OffsetFetch v7 of one partition: the committed offset (or -1). */
static int64_t fetch(struct sl_gc *gc, const char *group, const char *topic, int32_t partition)
{
    struct top *t = top_new(SL_API_OffsetFetch, 7);
    struct sl_OffsetFetchRequest *r = t->op.request;
    r->GroupId = S(group);
    r->Topics_n = 1;
    r->Topics = sl_arena_alloc(&t->arena, sizeof(*r->Topics));
    r->Topics[0].Name = S(topic);
    r->Topics[0].PartitionIndexes_n = 1;
    r->Topics[0].PartitionIndexes = sl_arena_alloc(&t->arena, sizeof(int32_t));
    r->Topics[0].PartitionIndexes[0] = partition;
    sl_gc_handle(gc, &t->op);
    CHECK(t->done);
    struct sl_OffsetFetchResponse *resp = t->op.response;
    CHECK_EQ(resp->ErrorCode, 0);
    CHECK_EQ(resp->Topics_n, 1);
    CHECK_EQ(resp->Topics[0].Partitions[0].ErrorCode, 0);
    return resp->Topics[0].Partitions[0].CommittedOffset;
}

static int state(struct sl_gc *gc, const char *group) { return sl_gc_group_state(gc, S(group)); }

/* Two members a and b in a Stable group "g" at generation 1; a leads. */
static void two_stable(struct sl_gc *gc, struct sl_slice *a, struct sl_slice *b)
{
    struct top *ja = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    struct top *jb = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK(!ja->done && !jb->done);
    advance(gc, 3000); /* b arrived during the initial delay: it is extended once */
    CHECK(!ja->done && !jb->done);
    advance(gc, 3000);
    CHECK(ja->done && jb->done);
    *a = jr(ja)->MemberId;
    *b = jr(jb)->MemberId;
    CHECK_EQ(jr(ja)->GenerationId, 1);
    CHECK(sl_slice_eq(jr(ja)->Leader, *a));
    struct sl_slice ids[2] = {*a, *b};
    const char *as[2] = {"A", "B"};
    struct top *sa = sync_(gc, "g", *a, 1, 2, ids, as);
    struct top *sb = sync_(gc, "g", *b, 1, 0, NULL, NULL);
    flush_store(gc, 0);
    CHECK(sa->done && sb->done);
    CHECK_EQ(state(gc, "g"), SL_GROUP_STABLE);
}

/* ---- tests -------------------------------------------------------------------------- */

TEST(partition_is_javas_string_hashcode)
{
    CHECK_EQ(sl_group_partition(S("g1"), 50), 42);          /* 'g'*31+'1' = 3242 */
    CHECK_EQ(sl_group_partition(S("g2"), 50), 43);
    CHECK_EQ(sl_group_partition(S("\xc3\xa9"), 1000), 233); /* U+00E9 is one UTF-16 unit */
    CHECK_EQ(sl_group_partition(S("\xf0\x9f\x98\x80"), 100000000), 1772899); /* surrogate pair */
    CHECK_EQ(sl_group_partition(S("polygenelubricants"), 50), 0); /* hashCode == Integer.MIN_VALUE */
    CHECK_EQ(sl_group_partition(S(""), 50), 0);
}

TEST(join_v4_requires_member_id_then_waits_initial_delay)
{
    struct sl_gc *gc = new_gc();
    struct top *t = join(gc, 5, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK(t->done);
    CHECK_EQ(jr(t)->ErrorCode, SL_KERR_MEMBER_ID_REQUIRED);
    struct sl_slice id = jr(t)->MemberId;
    CHECK(id.len > 7 && memcmp(id.p, "client-", 7) == 0);
    struct top *t2 = join(gc, 5, "g", id, NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK(!t2->done);
    CHECK_EQ(state(gc, "g"), SL_GROUP_PREPARING_REBALANCE);
    advance(gc, 2999);
    CHECK(!t2->done);
    advance(gc, 1);
    CHECK(t2->done);
    CHECK_EQ(jr(t2)->ErrorCode, 0);
    CHECK_EQ(jr(t2)->GenerationId, 1);
    CHECK(sl_slice_eq(jr(t2)->MemberId, id));
    CHECK(sl_slice_eq(jr(t2)->Leader, id));
    CHECK_EQ(jr(t2)->Members_n, 1);
    CHECK(sl_slice_eq_cstr(jr(t2)->ProtocolName, "range"));
    CHECK_EQ(state(gc, "g"), SL_GROUP_COMPLETING_REBALANCE);
}

TEST(pending_member_id_expires_after_session_timeout)
{
    struct sl_gc *gc = new_gc();
    struct top *t = join(gc, 5, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    struct sl_slice id = jr(t)->MemberId;
    advance(gc, 10001);
    struct top *t2 = join(gc, 5, "g", id, NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK(t2->done);
    CHECK_EQ(jr(t2)->ErrorCode, SL_KERR_UNKNOWN_MEMBER_ID);
}

TEST(three_members_join_one_generation_only_leader_sees_members)
{
    struct sl_gc *gc = new_gc();
    struct top *t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
        advance(gc, 1000); /* each arrival extends the initial delay */
    }
    for (int i = 0; i < 3; i++)
        CHECK(!t[i]->done);
    advance(gc, 3000);
    int leaders = 0;
    for (int i = 0; i < 3; i++) {
        CHECK(t[i]->done);
        CHECK_EQ(jr(t[i])->ErrorCode, 0);
        CHECK_EQ(jr(t[i])->GenerationId, 1);
        if (sl_slice_eq(jr(t[i])->Leader, jr(t[i])->MemberId)) {
            leaders++;
            CHECK_EQ(jr(t[i])->Members_n, 3);
        } else {
            CHECK_EQ(jr(t[i])->Members_n, 0);
        }
    }
    CHECK_EQ(leaders, 1);
}

TEST(sync_answers_once_assignment_is_durable)
{
    struct sl_gc *gc = new_gc();
    struct top *ja = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    struct top *jb = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    advance(gc, 6000);
    struct sl_slice a = jr(ja)->MemberId, b = jr(jb)->MemberId;
    struct top *sb = sync_(gc, "g", b, 1, 0, NULL, NULL);
    CHECK(!sb->done);
    struct sl_slice ids[2] = {a, b};
    const char *as[2] = {"for-a", "for-b"};
    struct top *sa = sync_(gc, "g", a, 1, 2, ids, as);
    CHECK(!sa->done && !sb->done);
    CHECK_EQ(state(gc, "g"), SL_GROUP_COMPLETING_REBALANCE);
    flush_store(gc, 0);
    CHECK(sa->done && sb->done);
    CHECK(sl_slice_eq_cstr(((struct sl_SyncGroupResponse *)sa->op.response)->Assignment, "for-a"));
    CHECK(sl_slice_eq_cstr(((struct sl_SyncGroupResponse *)sb->op.response)->Assignment, "for-b"));
    CHECK(sl_slice_eq_cstr(((struct sl_SyncGroupResponse *)sb->op.response)->ProtocolName, "range"));
    CHECK_EQ(state(gc, "g"), SL_GROUP_STABLE);
    /* A late SyncGroup in Stable gets its assignment at once. */
    struct top *sb2 = sync_(gc, "g", b, 1, 0, NULL, NULL);
    CHECK(sb2->done);
    CHECK(sl_slice_eq_cstr(((struct sl_SyncGroupResponse *)sb2->op.response)->Assignment, "for-b"));
}

TEST(failed_assignment_write_rebalances)
{
    struct sl_gc *gc = new_gc();
    struct top *ja = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    advance(gc, 3000);
    struct sl_slice a = jr(ja)->MemberId;
    struct sl_slice ids[1] = {a};
    const char *as[1] = {"x"};
    struct top *sa = sync_(gc, "g", a, 1, 1, ids, as);
    flush_store(gc, -EIO);
    CHECK(sa->done);
    CHECK_EQ(((struct sl_SyncGroupResponse *)sa->op.response)->ErrorCode, SL_KERR_COORDINATOR_NOT_AVAILABLE);
    CHECK_EQ(state(gc, "g"), SL_GROUP_PREPARING_REBALANCE);
}

TEST(stale_generation_and_unknown_member_errors)
{
    struct sl_gc *gc = new_gc();
    struct sl_slice a, b;
    two_stable(gc, &a, &b);
    CHECK_EQ(heartbeat(gc, "g", a, 1, NULL), 0);
    CHECK_EQ(heartbeat(gc, "g", a, 0, NULL), SL_KERR_ILLEGAL_GENERATION);
    CHECK_EQ(heartbeat(gc, "g", S("nobody"), 1, NULL), SL_KERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ(heartbeat(gc, "nogroup", a, 1, NULL), SL_KERR_UNKNOWN_MEMBER_ID);
    struct top *s = sync_(gc, "g", a, 7, 0, NULL, NULL);
    CHECK(s->done);
    CHECK_EQ(((struct sl_SyncGroupResponse *)s->op.response)->ErrorCode, SL_KERR_ILLEGAL_GENERATION);
    struct top *c = commit(gc, 8, "g", a, 0, "t", 0, 5);
    CHECK(c->done);
    CHECK_EQ(commit_err(c), SL_KERR_ILLEGAL_GENERATION);
    c = commit(gc, 8, "g", S("nobody"), 1, "t", 0, 5);
    CHECK_EQ(commit_err(c), SL_KERR_UNKNOWN_MEMBER_ID);
    /* A commit without generation to a non-empty group is refused. */
    c = commit(gc, 8, "g", S(""), -1, "t", 0, 5);
    CHECK_EQ(commit_err(c), SL_KERR_UNKNOWN_MEMBER_ID);
    struct top *j = join(gc, 5, "g", S("nobody"), NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK_EQ(jr(j)->ErrorCode, SL_KERR_UNKNOWN_MEMBER_ID);
}

TEST(session_timeout_removes_member_and_rebalances)
{
    struct sl_gc *gc = new_gc();
    struct sl_slice a, b;
    two_stable(gc, &a, &b);
    for (int i = 0; i < 2; i++) {
        advance(gc, 4000);
        CHECK_EQ(heartbeat(gc, "g", a, 1, NULL), 0);
    }
    advance(gc, 4000);
    /* b sent nothing for 12 s > its 10 s session. */
    CHECK_EQ(state(gc, "g"), SL_GROUP_PREPARING_REBALANCE);
    CHECK_EQ(heartbeat(gc, "g", a, 1, NULL), SL_KERR_REBALANCE_IN_PROGRESS);
    CHECK_EQ(heartbeat(gc, "g", b, 1, NULL), SL_KERR_UNKNOWN_MEMBER_ID);
    struct top *j = join(gc, 5, "g", a, NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK(j->done); /* everyone left has rejoined: no wait */
    CHECK_EQ(jr(j)->GenerationId, 2);
    CHECK_EQ(jr(j)->Members_n, 1);
}

TEST(rebalance_timeout_drops_members_that_do_not_rejoin)
{
    struct sl_gc *gc = new_gc();
    struct sl_slice a, b;
    two_stable(gc, &a, &b);
    struct top *jc = join(gc, 3, "g", S(""), NULL, 10000, 20000, "consumer", "range", NULL);
    CHECK(!jc->done);
    CHECK_EQ(heartbeat(gc, "g", b, 1, NULL), SL_KERR_REBALANCE_IN_PROGRESS);
    struct top *ja = join(gc, 3, "g", a, NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK(!ja->done);
    /* b stays alive by heartbeats but never rejoins. */
    for (int i = 0; i < 5; i++) {
        advance(gc, 5000);
        CHECK_EQ(heartbeat(gc, "g", b, 1, NULL), SL_KERR_REBALANCE_IN_PROGRESS);
    }
    advance(gc, 4999);
    CHECK(!ja->done);
    advance(gc, 1);
    CHECK(ja->done && jc->done);
    CHECK_EQ(jr(ja)->GenerationId, 2);
    CHECK(sl_slice_eq(jr(ja)->Leader, a));
    CHECK_EQ(jr(ja)->Members_n, 2); /* a and c; b is gone */
    CHECK_EQ(heartbeat(gc, "g", b, 2, NULL), SL_KERR_UNKNOWN_MEMBER_ID);
}

TEST(leave_rebalances_and_last_leave_empties)
{
    struct sl_gc *gc = new_gc();
    struct sl_slice a, b;
    two_stable(gc, &a, &b);
    struct top *l = top_new(SL_API_LeaveGroup, 5);
    struct sl_LeaveGroupRequest *r = l->op.request;
    r->GroupId = S("g");
    r->Members_n = 2;
    r->Members = sl_arena_alloc(&l->arena, sizeof(*r->Members) * 2);
    r->Members[0].MemberId = b;
    r->Members[1].MemberId = S("nobody");
    sl_gc_handle(gc, &l->op);
    CHECK(l->done);
    struct sl_LeaveGroupResponse *resp = l->op.response;
    CHECK_EQ(resp->ErrorCode, 0);
    CHECK_EQ(resp->Members[0].ErrorCode, 0);
    CHECK_EQ(resp->Members[1].ErrorCode, SL_KERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ(state(gc, "g"), SL_GROUP_PREPARING_REBALANCE);
    /* v0 leave of the last member: the group completes its join with nobody. */
    struct top *l0 = top_new(SL_API_LeaveGroup, 0);
    ((struct sl_LeaveGroupRequest *)l0->op.request)->GroupId = S("g");
    ((struct sl_LeaveGroupRequest *)l0->op.request)->MemberId = a;
    sl_gc_handle(gc, &l0->op);
    CHECK_EQ(((struct sl_LeaveGroupResponse *)l0->op.response)->ErrorCode, 0);
    CHECK_EQ(state(gc, "g"), SL_GROUP_EMPTY);
}

TEST(join_validation_errors)
{
    struct sl_gc *gc = new_gc();
    struct top *t = join(gc, 5, "g", S(""), NULL, 100, 30000, "consumer", "range", NULL);
    CHECK_EQ(jr(t)->ErrorCode, INVALID_SESSION_TIMEOUT);
    t = join(gc, 5, "g", S(""), NULL, 1800001, 30000, "consumer", "range", NULL);
    CHECK_EQ(jr(t)->ErrorCode, INVALID_SESSION_TIMEOUT);
    t = join(gc, 5, "", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK_EQ(jr(t)->ErrorCode, SL_KERR_INVALID_GROUP_ID);
    t = join(gc, 5, "g", S(""), NULL, 10000, 30000, "", "range", NULL);
    CHECK_EQ(jr(t)->ErrorCode, INCONSISTENT_GROUP_PROTOCOL);
    CHECK_EQ(state(gc, "g"), -1); /* a refused first join leaves no group */
    store.status = SL_KERR_COORDINATOR_LOAD_IN_PROGRESS;
    t = join(gc, 5, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK_EQ(jr(t)->ErrorCode, SL_KERR_COORDINATOR_LOAD_IN_PROGRESS);
    store.status = 0;
    struct sl_slice a, b;
    two_stable(gc, &a, &b);
    t = join(gc, 3, "g", S(""), NULL, 10000, 30000, "connect", "range", NULL);
    CHECK_EQ(jr(t)->ErrorCode, INCONSISTENT_GROUP_PROTOCOL);
    t = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "sticky", NULL);
    CHECK_EQ(jr(t)->ErrorCode, INCONSISTENT_GROUP_PROTOCOL);
}

TEST(protocol_chosen_by_votes)
{
    struct sl_gc *gc = new_gc();
    struct top *t1 = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "range", "roundrobin");
    struct top *t2 = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "roundrobin", "range");
    struct top *t3 = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "roundrobin", "range");
    advance(gc, 6000);
    CHECK(t1->done && t2->done && t3->done);
    CHECK(sl_slice_eq_cstr(jr(t1)->ProtocolName, "roundrobin"));
    /* The leader gets each member's metadata for the chosen protocol. */
    struct top *leader = sl_slice_eq(jr(t1)->Leader, jr(t1)->MemberId) ? t1 : NULL;
    CHECK(leader != NULL);
    for (int i = 0; i < 3; i++)
        CHECK(sl_slice_eq_cstr(jr(leader)->Members[i].Metadata, "roundrobin"));
}

TEST(follower_rejoin_in_stable_keeps_generation_leader_rejoin_rebalances)
{
    struct sl_gc *gc = new_gc();
    struct sl_slice a, b;
    two_stable(gc, &a, &b);
    struct top *jb = join(gc, 5, "g", b, NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK(jb->done);
    CHECK_EQ(jr(jb)->GenerationId, 1);
    CHECK_EQ(state(gc, "g"), SL_GROUP_STABLE);
    struct top *ja = join(gc, 5, "g", a, NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK(!ja->done);
    CHECK_EQ(state(gc, "g"), SL_GROUP_PREPARING_REBALANCE);
}

TEST(static_member_restart_fences_old_id_without_rebalance)
{
    struct sl_gc *gc = new_gc();
    struct top *j = join(gc, 5, "g", S(""), "inst-1", 10000, 30000, "consumer", "range", NULL);
    CHECK(!j->done); /* static members get their id at once, no MEMBER_ID_REQUIRED */
    advance(gc, 3000);
    CHECK(j->done);
    struct sl_slice old = jr(j)->MemberId;
    CHECK(memcmp(old.p, "inst-1-", 7) == 0);
    struct sl_slice ids[1] = {old};
    const char *as[1] = {"A"};
    sync_(gc, "g", old, 1, 1, ids, as);
    flush_store(gc, 0);
    CHECK_EQ(state(gc, "g"), SL_GROUP_STABLE);
    /* The same instance comes back with no member id. */
    struct top *j2 = join(gc, 5, "g", S(""), "inst-1", 10000, 30000, "consumer", "range", NULL);
    CHECK(j2->done);
    CHECK_EQ(jr(j2)->ErrorCode, 0);
    CHECK_EQ(jr(j2)->GenerationId, 1);
    CHECK(!sl_slice_eq(jr(j2)->MemberId, old));
    CHECK_EQ(state(gc, "g"), SL_GROUP_STABLE);
    CHECK_EQ(heartbeat(gc, "g", old, 1, "inst-1"), SL_KERR_FENCED_INSTANCE_ID);
    CHECK_EQ(heartbeat(gc, "g", jr(j2)->MemberId, 1, "inst-1"), 0);
    struct top *s = sync_(gc, "g", jr(j2)->MemberId, 1, 0, NULL, NULL);
    CHECK(sl_slice_eq_cstr(((struct sl_SyncGroupResponse *)s->op.response)->Assignment, "A"));
}

TEST(commit_answered_and_visible_only_when_durable)
{
    struct sl_gc *gc = new_gc();
    struct top *c = commit(gc, 8, "simple", S(""), -1, "t", 3, 42);
    CHECK(!c->done);
    CHECK_EQ(fetch(gc, "simple", "t", 3), -1);
    flush_store(gc, 0);
    CHECK(c->done);
    CHECK_EQ(commit_err(c), 0);
    CHECK_EQ(fetch(gc, "simple", "t", 3), 42);
    CHECK_EQ(state(gc, "simple"), SL_GROUP_EMPTY);
    /* A failed write is not applied and tells the client to find the coordinator again. */
    c = commit(gc, 8, "simple", S(""), -1, "t", 3, 50);
    flush_store(gc, -EIO);
    CHECK_EQ(commit_err(c), SL_KERR_NOT_COORDINATOR);
    CHECK_EQ(fetch(gc, "simple", "t", 3), 42);
}

TEST(commit_partition_errors_and_missing_group)
{
    struct sl_gc *gc = new_gc();
    struct top *c = commit(gc, 8, "g", S(""), -1, "missing", 0, 1);
    CHECK(c->done);
    CHECK_EQ(commit_err(c), SL_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    c = commit(gc, 9, "nogroup", S("m"), 3, "t", 0, 1);
    CHECK_EQ(commit_err(c), SL_KERR_GROUP_ID_NOT_FOUND);
    c = commit(gc, 8, "nogroup", S("m"), 3, "t", 0, 1);
    CHECK_EQ(commit_err(c), SL_KERR_ILLEGAL_GENERATION);
    c = commit(gc, 8, "", S(""), -1, "t", 0, 1);
    CHECK_EQ(commit_err(c), SL_KERR_INVALID_GROUP_ID);
}

TEST(member_commit_in_stable_group)
{
    struct sl_gc *gc = new_gc();
    struct sl_slice a, b;
    two_stable(gc, &a, &b);
    struct top *c = commit(gc, 8, "g", a, 1, "t", 0, 7);
    flush_store(gc, 0);
    CHECK_EQ(commit_err(c), 0);
    CHECK_EQ(fetch(gc, "g", "t", 0), 7);
    /* All offsets of the group (v7, null topics). */
    struct top *t = top_new(SL_API_OffsetFetch, 7);
    ((struct sl_OffsetFetchRequest *)t->op.request)->GroupId = S("g");
    ((struct sl_OffsetFetchRequest *)t->op.request)->Topics_n = -1;
    sl_gc_handle(gc, &t->op);
    struct sl_OffsetFetchResponse *r = t->op.response;
    CHECK_EQ(r->Topics_n, 1);
    CHECK(sl_slice_eq_cstr(r->Topics[0].Name, "t"));
    CHECK_EQ(r->Topics[0].Partitions[0].CommittedOffset, 7);
    CHECK(sl_slice_eq_cstr(r->Topics[0].Partitions[0].Metadata, "meta"));
}

TEST(offset_fetch_v8_multi_group)
{
    struct sl_gc *gc = new_gc();
    commit(gc, 8, "g1", S(""), -1, "t", 0, 11);
    commit(gc, 8, "g2", S(""), -1, "t", 0, 22);
    flush_store(gc, 0);
    struct top *t = top_new(SL_API_OffsetFetch, 8);
    struct sl_OffsetFetchRequest *req = t->op.request;
    req->Groups_n = 3;
    req->Groups = sl_arena_alloc(&t->arena, sizeof(*req->Groups) * 3);
    const char *names[3] = {"g1", "g2", "g3"};
    for (int i = 0; i < 3; i++) {
        req->Groups[i].GroupId = S(names[i]);
        req->Groups[i].Topics_n = -1;
    }
    sl_gc_handle(gc, &t->op);
    struct sl_OffsetFetchResponse *r = t->op.response;
    CHECK_EQ(r->Groups_n, 3);
    CHECK_EQ(r->Groups[0].Topics[0].Partitions[0].CommittedOffset, 11);
    CHECK_EQ(r->Groups[1].Topics[0].Partitions[0].CommittedOffset, 22);
    CHECK_EQ(r->Groups[2].Topics_n, 0);
    CHECK_EQ(r->Groups[2].ErrorCode, 0);
}

TEST(replay_restores_groups_and_offsets)
{
    struct sl_gc *gc = new_gc();
    struct sl_slice a, b;
    two_stable(gc, &a, &b);
    struct top *c = commit(gc, 8, "g", a, 1, "t", 2, 99);
    commit(gc, 8, "s", S(""), -1, "t", 0, 5);
    commit(gc, 8, "s", S(""), -1, "t", 0, 6);
    flush_store(gc, 0);
    CHECK_EQ(commit_err(c), 0);
    char a_id[128];
    snprintf(a_id, sizeof(a_id), "%.*s", (int)a.len, (const char *)a.p);
    int n = store.recs_n;
    sl_gc_fini(gc);
    gc = new_gc();
    for (int i = 0; i < n; i++)
        CHECK_EQ(sl_gc_replay(gc, store.rec_part[i], store.recs[i].key, store.recs[i].value), 0);
    sl_gc_loaded(gc, sl_group_partition(S("g"), 50));
    CHECK_EQ(fetch(gc, "g", "t", 2), 99);
    CHECK_EQ(fetch(gc, "s", "t", 0), 6);
    CHECK_EQ(state(gc, "g"), SL_GROUP_STABLE);
    CHECK_EQ(state(gc, "s"), SL_GROUP_EMPTY);
    CHECK_EQ(heartbeat(gc, "g", S(a_id), 1, NULL), 0);
    /* Members that never come back expire and the group empties. */
    advance(gc, 10001);
    CHECK_EQ(state(gc, "g"), SL_GROUP_EMPTY);
    CHECK_EQ(fetch(gc, "g", "t", 2), 99);
}

TEST(delete_groups_and_offsets)
{
    struct sl_gc *gc = new_gc();
    struct sl_slice a, b;
    two_stable(gc, &a, &b);
    commit(gc, 8, "s", S(""), -1, "t", 0, 5);
    commit(gc, 8, "s", S(""), -1, "t", 1, 6);
    flush_store(gc, 0);
    /* OffsetDelete of one partition of an empty group. */
    struct top *od = top_new(SL_API_OffsetDelete, 0);
    struct sl_OffsetDeleteRequest *odr = od->op.request;
    odr->GroupId = S("s");
    odr->Topics_n = 1;
    odr->Topics = sl_arena_alloc(&od->arena, sizeof(*odr->Topics));
    odr->Topics[0].Name = S("t");
    odr->Topics[0].Partitions_n = 1;
    odr->Topics[0].Partitions = sl_arena_alloc(&od->arena, sizeof(*odr->Topics[0].Partitions));
    odr->Topics[0].Partitions[0].PartitionIndex = 1;
    sl_gc_handle(gc, &od->op);
    CHECK(!od->done);
    flush_store(gc, 0);
    CHECK(od->done);
    CHECK_EQ(((struct sl_OffsetDeleteResponse *)od->op.response)->ErrorCode, 0);
    CHECK_EQ(fetch(gc, "s", "t", 1), -1);
    CHECK_EQ(fetch(gc, "s", "t", 0), 5);

    struct top *d = top_new(SL_API_DeleteGroups, 2);
    struct sl_DeleteGroupsRequest *dr = d->op.request;
    dr->GroupsNames_n = 3;
    dr->GroupsNames = sl_arena_alloc(&d->arena, sizeof(*dr->GroupsNames) * 3);
    dr->GroupsNames[0] = S("g");
    dr->GroupsNames[1] = S("s");
    dr->GroupsNames[2] = S("none");
    int before = store.recs_n;
    sl_gc_handle(gc, &d->op);
    CHECK(!d->done);
    flush_store(gc, 0);
    CHECK(d->done);
    struct sl_DeleteGroupsResponse *r = d->op.response;
    CHECK_EQ(r->Results[0].ErrorCode, SL_KERR_NON_EMPTY_GROUP);
    CHECK_EQ(r->Results[1].ErrorCode, 0);
    CHECK_EQ(r->Results[2].ErrorCode, SL_KERR_GROUP_ID_NOT_FOUND);
    CHECK_EQ(state(gc, "s"), -1);
    CHECK_EQ(fetch(gc, "s", "t", 0), -1);
    CHECK_EQ(store.recs_n - before, 2); /* one offset tombstone, one group tombstone */
    for (int i = before; i < store.recs_n; i++)
        CHECK(store.recs[i].value.p == NULL);
}

TEST(list_and_describe)
{
    struct sl_gc *gc = new_gc();
    struct sl_slice a, b;
    two_stable(gc, &a, &b);
    commit(gc, 8, "s", S(""), -1, "t", 0, 5);
    flush_store(gc, 0);
    struct top *l = top_new(SL_API_ListGroups, 5);
    sl_gc_handle(gc, &l->op);
    CHECK_EQ(((struct sl_ListGroupsResponse *)l->op.response)->Groups_n, 2);
    struct top *l2 = top_new(SL_API_ListGroups, 4);
    struct sl_ListGroupsRequest *lr = l2->op.request;
    lr->StatesFilter_n = 1;
    lr->StatesFilter = sl_arena_alloc(&l2->arena, sizeof(*lr->StatesFilter));
    lr->StatesFilter[0] = S("stable");
    sl_gc_handle(gc, &l2->op);
    struct sl_ListGroupsResponse *lresp = l2->op.response;
    CHECK_EQ(lresp->Groups_n, 1);
    CHECK(sl_slice_eq_cstr(lresp->Groups[0].GroupId, "g"));
    CHECK(sl_slice_eq_cstr(lresp->Groups[0].ProtocolType, "consumer"));
    CHECK(sl_slice_eq_cstr(lresp->Groups[0].GroupState, "Stable"));

    struct top *d = top_new(SL_API_DescribeGroups, 5);
    struct sl_DescribeGroupsRequest *dr = d->op.request;
    dr->Groups_n = 2;
    dr->Groups = sl_arena_alloc(&d->arena, sizeof(*dr->Groups) * 2);
    dr->Groups[0] = S("g");
    dr->Groups[1] = S("unknown");
    sl_gc_handle(gc, &d->op);
    struct sl_DescribeGroupsResponse *r = d->op.response;
    CHECK_EQ(r->Groups[0].ErrorCode, 0);
    CHECK(sl_slice_eq_cstr(r->Groups[0].GroupState, "Stable"));
    CHECK(sl_slice_eq_cstr(r->Groups[0].ProtocolData, "range"));
    CHECK_EQ(r->Groups[0].Members_n, 2);
    CHECK(sl_slice_eq_cstr(r->Groups[0].Members[0].ClientHost, "/127.0.0.1"));
    CHECK(sl_slice_eq_cstr(r->Groups[0].Members[0].MemberAssignment, "A"));
    CHECK(sl_slice_eq_cstr(r->Groups[1].GroupState, "Dead"));
    CHECK_EQ(r->Groups[1].ErrorCode, 0);
}

TEST(missed_sync_removes_member)
{
    struct sl_gc *gc = new_gc();
    struct top *ja = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    struct top *jb = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    advance(gc, 6000);
    struct sl_slice a = jr(ja)->MemberId, b = jr(jb)->MemberId;
    struct sl_slice ids[2] = {a, b};
    const char *as[2] = {"A", "B"};
    sync_(gc, "g", a, 1, 2, ids, as);
    flush_store(gc, 0);
    /* b heartbeats but never syncs. */
    for (int i = 0; i < 8; i++) {
        advance(gc, 4000);
        heartbeat(gc, "g", a, 1, NULL);
        heartbeat(gc, "g", b, 1, NULL);
    }
    CHECK_EQ(heartbeat(gc, "g", b, 1, NULL), SL_KERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ(heartbeat(gc, "g", a, 1, NULL), SL_KERR_REBALANCE_IN_PROGRESS);
}

TEST(shutdown_answers_parked_requests)
{
    struct sl_gc *gc = new_gc();
    struct top *j = join(gc, 3, "g", S(""), NULL, 10000, 30000, "consumer", "range", NULL);
    CHECK(!j->done);
    sl_gc_fini(gc);
    CHECK(j->done);
    CHECK_EQ(jr(j)->ErrorCode, SL_KERR_NOT_COORDINATOR);
    flush_store(gc, 0); /* late completions find nothing */
}
