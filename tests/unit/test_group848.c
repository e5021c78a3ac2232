/*
 * test_group848.c - KIP-848 consumer groups: the uniform and range assignors
 * (coord/assign.c), the reconciliation step (sl_cgroup_reconcile), and the
 * ConsumerGroupHeartbeat state machine (coord/cgroup.c) driven through
 * sl_gc_handle with a fake store and hand-advanced time; offsets expiry
 * (coord/expire.c).
 */
#include "testlib.h"

#include "coord/cgroup.h"
#include "proto/gen/ConsumerGroupHeartbeat.h"
#include "proto/gen/api.h"
#include "proto/gen/errors.h"

static struct sl_uuid T1 = {{1}}, T2 = {{2}};

static int32_t count_topic(const struct sl_tpset *s, const struct sl_uuid *t)
{
    int32_t p[64];
    return sl_tpset_partitions(s, t, p, 64);
}

TEST(uniform_balances_and_is_sticky)
{
    struct sl_asg_topic topics[1] = {{T1, 6}};
    bool sub[1] = {true};
    struct sl_tpset out[3] = {{0}};
    struct sl_asg_member m[3];
    for (int i = 0; i < 3; i++)
        m[i] = (struct sl_asg_member){sub, NULL, &out[i]};
    sl_assign_uniform(topics, 1, m, 1);
    CHECK_EQ(out[0].n, 6);
    /* A second member: three move, the first keeps three of its own. */
    struct sl_tpset prev0 = {0};
    sl_tpset_copy(&prev0, &out[0]);
    m[0].prev = &prev0;
    sl_assign_uniform(topics, 1, m, 2);
    CHECK_EQ(out[0].n, 3);
    CHECK_EQ(out[1].n, 3);
    for (int32_t i = 0; i < out[0].n; i++) {
        CHECK(sl_tpset_has(&prev0, &out[0].v[i].topic, out[0].v[i].partition));
        CHECK(!sl_tpset_has(&out[1], &out[0].v[i].topic, out[0].v[i].partition));
    }
    /* Three members over 6: two each. */
    sl_assign_uniform(topics, 1, m, 3);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(out[i].n, 2);
    for (int i = 0; i < 3; i++)
        sl_tpset_clear(&out[i]);
    sl_tpset_clear(&prev0);
}

TEST(range_gives_contiguous_ranges_per_topic)
{
    struct sl_asg_topic topics[2] = {{T1, 7}, {T2, 2}};
    bool sub_both[2] = {true, true}, sub_t1[2] = {true, false};
    struct sl_tpset out[3] = {{0}};
    struct sl_asg_member m[3] = {{sub_both, NULL, &out[0]}, {sub_t1, NULL, &out[1]}, {sub_both, NULL, &out[2]}};
    sl_assign_range(topics, 2, m, 3);
    int32_t p[8];
    CHECK_EQ(sl_tpset_partitions(&out[0], &T1, p, 8), 3);
    CHECK(p[0] == 0 && p[1] == 1 && p[2] == 2);
    CHECK_EQ(sl_tpset_partitions(&out[1], &T1, p, 8), 2);
    CHECK(p[0] == 3 && p[1] == 4);
    CHECK_EQ(sl_tpset_partitions(&out[2], &T1, p, 8), 2);
    CHECK(p[0] == 5 && p[1] == 6);
    /* T2 only between the two subscribers. */
    CHECK_EQ(count_topic(&out[0], &T2), 1);
    CHECK_EQ(count_topic(&out[1], &T2), 0);
    CHECK_EQ(count_topic(&out[2], &T2), 1);
    for (int i = 0; i < 3; i++)
        sl_tpset_clear(&out[i]);
}

TEST(uniform_only_gives_subscribed_topics)
{
    struct sl_asg_topic topics[2] = {{T1, 4}, {T2, 4}};
    bool s1[2] = {true, false}, s2[2] = {false, true};
    struct sl_tpset out[2] = {{0}};
    struct sl_asg_member m[2] = {{s1, NULL, &out[0]}, {s2, NULL, &out[1]}};
    sl_assign_uniform(topics, 2, m, 2);
    CHECK_EQ(count_topic(&out[0], &T1), 4);
    CHECK_EQ(count_topic(&out[0], &T2), 0);
    CHECK_EQ(count_topic(&out[1], &T2), 4);
    sl_tpset_clear(&out[0]);
    sl_tpset_clear(&out[1]);
}

/* ---- reconciliation ---- */

static struct sl_cmember *other_holder;

static bool held_by_other(const struct sl_uuid *t, int32_t p, void *arg)
{
    (void)arg;
    return other_holder &&
           (sl_tpset_has(&other_holder->assigned, t, p) || sl_tpset_has(&other_holder->revoking, t, p));
}

static void fini_member(struct sl_cmember *m)
{
    sl_tpset_clear(&m->target);
    sl_tpset_clear(&m->assigned);
    sl_tpset_clear(&m->revoking);
}

TEST(reconcile_revokes_before_the_new_owner_gets_partitions)
{
    struct sl_cmember a = {0}, b = {0};
    for (int p = 0; p < 6; p++)
        sl_tpset_add(&a.assigned, &T1, p);
    a.epoch = 1;
    /* Target at epoch 2: a keeps 0-2, b gets 3-5. */
    for (int p = 0; p < 3; p++)
        sl_tpset_add(&a.target, &T1, p);
    for (int p = 3; p < 6; p++)
        sl_tpset_add(&b.target, &T1, p);
    other_holder = &a;
    sl_cgroup_reconcile(&b, 2, NULL, held_by_other, NULL);
    CHECK_EQ(b.state, SL_CMEMBER_UNRELEASED_PARTITIONS);
    CHECK_EQ(b.epoch, 2);
    CHECK_EQ(b.assigned.n, 0);
    other_holder = &b;
    sl_cgroup_reconcile(&a, 2, NULL, held_by_other, NULL);
    CHECK_EQ(a.state, SL_CMEMBER_UNREVOKED_PARTITIONS);
    CHECK_EQ(a.epoch, 1); /* the epoch waits for the revocation */
    CHECK_EQ(a.assigned.n, 3);
    CHECK_EQ(a.revoking.n, 3);
    /* a's heartbeat without TopicPartitions changes nothing; with all six still owned neither. */
    sl_cgroup_reconcile(&a, 2, NULL, held_by_other, NULL);
    CHECK_EQ(a.state, SL_CMEMBER_UNREVOKED_PARTITIONS);
    struct sl_tpset owned = {0};
    for (int p = 0; p < 6; p++)
        sl_tpset_add(&owned, &T1, p);
    sl_cgroup_reconcile(&a, 2, &owned, held_by_other, NULL);
    CHECK_EQ(a.state, SL_CMEMBER_UNREVOKED_PARTITIONS);
    other_holder = &a;
    sl_cgroup_reconcile(&b, 2, NULL, held_by_other, NULL);
    CHECK_EQ(b.assigned.n, 0);
    /* a acknowledges: owns 0-2 only. */
    owned.n = 0;
    for (int p = 0; p < 3; p++)
        sl_tpset_add(&owned, &T1, p);
    other_holder = &b;
    sl_cgroup_reconcile(&a, 2, &owned, held_by_other, NULL);
    CHECK_EQ(a.state, SL_CMEMBER_STABLE);
    CHECK_EQ(a.epoch, 2);
    CHECK_EQ(a.revoking.n, 0);
    other_holder = &a;
    sl_cgroup_reconcile(&b, 2, NULL, held_by_other, NULL);
    CHECK_EQ(b.state, SL_CMEMBER_STABLE);
    CHECK_EQ(b.assigned.n, 3);
    sl_tpset_clear(&owned);
    fini_member(&a);
    fini_member(&b);
}

/* ---- the heartbeat state machine through sl_gc_handle ---- */

static struct sl_gtopic topics_tbl[1];

static int32_t fake_topics(void *ctx, struct sl_arena *a, struct sl_gtopic **out)
{
    (void)ctx;
    (void)a;
    *out = topics_tbl;
    return 1;
}

/* Every record written, in order (copies), for replay tests. */
static struct {
    struct sl_grec recs[512];
    int32_t part[512];
    int n;
} written;

static struct sl_slice dup_bytes(struct sl_slice s)
{
    if (!s.p)
        return s;
    void *p = malloc(s.len + 1);
    memcpy(p, s.p, s.len);
    return (struct sl_slice){p, s.len};
}

static int fake_write(void *ctx, int32_t partition, const struct sl_grec *recs, int n, sl_gstore_done_fn done,
                      void *arg)
{
    (void)ctx, (void)done, (void)arg;
    for (int i = 0; i < n && written.n < 512; i++) {
        written.recs[written.n] = (struct sl_grec){dup_bytes(recs[i].key), dup_bytes(recs[i].value)};
        written.part[written.n++] = partition;
    }
    return 0; /* completions are never delivered: nothing here waits for them */
}

static void written_free(void)
{
    for (int i = 0; i < written.n; i++) {
        free((void *)written.recs[i].key.p);
        free((void *)written.recs[i].value.p);
    }
    written.n = 0;
}

static int16_t fake_status(void *ctx, int32_t partition)
{
    (void)ctx, (void)partition;
    return 0;
}

static bool fake_topic_exists(void *ctx, struct sl_slice topic, int32_t partition)
{
    (void)ctx, (void)topic, (void)partition;
    return true;
}

static struct sl_gc *new_gc(void)
{
    static struct sl_gc gc;
    topics_tbl[0] = (struct sl_gtopic){sl_slice_cstr("t"), T1, 6};
    struct sl_gconf conf = {.num_partitions = 50,
                            .max_size = 100,
                            .offsets_retention_ms = 60000,
                            .consumer_session_timeout_ms = 45000,
                            .consumer_heartbeat_interval_ms = 5000};
    struct sl_gstore st = {
        .write = fake_write, .status = fake_status, .topic_exists = fake_topic_exists, .topics = fake_topics};
    sl_gc_init(&gc, &conf, &st);
    gc.now_ms = 1000;
    return &gc;
}

struct hb {
    struct sl_arena arena;
    struct sl_gop op;
    struct sl_ConsumerGroupHeartbeatRequest req;
    struct sl_ConsumerGroupHeartbeatResponse resp;
    struct sl_ConsumerGroupHeartbeatRequest_TopicPartitions tp;
    int32_t parts[16];
    struct sl_slice topic;
    bool done;
};

static void hb_done(struct sl_gop *op)
{
    ((struct hb *)op->ctx)->done = true;
}

/* owned: -1 not sent, else a bitmask of T1's partitions. */
static struct hb *heartbeat(struct sl_gc *gc, const char *member, int32_t epoch, int owned, const char *assignor)
{
    struct hb *h = calloc(1, sizeof(*h));
    sl_arena_init(&h->arena, 0);
    sl_ConsumerGroupHeartbeatRequest_init(&h->req);
    sl_ConsumerGroupHeartbeatResponse_init(&h->resp);
    h->req.GroupId = sl_slice_cstr("g");
    h->req.MemberId = sl_slice_cstr(member);
    h->req.MemberEpoch = epoch;
    h->req.RebalanceTimeoutMs = epoch == 0 ? 30000 : -1;
    h->topic = sl_slice_cstr("t");
    h->req.SubscribedTopicNames = epoch == 0 ? &h->topic : NULL;
    h->req.SubscribedTopicNames_n = epoch == 0 ? 1 : -1;
    h->req.ServerAssignor = assignor ? sl_slice_cstr(assignor) : (struct sl_slice){NULL, 0};
    h->req.TopicPartitions_n = -1;
    if (epoch == 0) {
        h->req.TopicPartitions = &h->tp;
        h->req.TopicPartitions_n = 0;
    } else if (owned >= 0) {
        h->tp.TopicId = T1;
        h->tp.Partitions = h->parts;
        for (int p = 0; p < 16; p++)
            if (owned & (1 << p))
                h->parts[h->tp.Partitions_n++] = p;
        h->req.TopicPartitions = &h->tp;
        h->req.TopicPartitions_n = 1;
    }
    h->op = (struct sl_gop){.api_key = SL_API_ConsumerGroupHeartbeat,
                            .version = 1,
                            .request = &h->req,
                            .response = &h->resp,
                            .arena = &h->arena,
                            .done = hb_done,
                            .ctx = h};
    sl_gc_handle(gc, &h->op);
    CHECK(h->done);
    return h;
}

static void hb_free(struct hb *h)
{
    sl_arena_fini(&h->arena);
    free(h);
}

static int mask(const struct hb *h)
{
    int m = 0;
    if (h->resp.Assignment_null)
        return -1;
    for (int32_t i = 0; i < h->resp.Assignment.TopicPartitions_n; i++)
        for (int32_t j = 0; j < h->resp.Assignment.TopicPartitions[i].Partitions_n; j++)
            m |= 1 << h->resp.Assignment.TopicPartitions[i].Partitions[j];
    return m;
}

TEST(heartbeat_two_members_reconcile_and_fence)
{
    struct sl_gc *gc = new_gc();
    struct hb *a = heartbeat(gc, "a", 0, -1, NULL);
    CHECK_EQ(a->resp.ErrorCode, 0);
    CHECK_EQ(a->resp.MemberEpoch, 1);
    CHECK_EQ(mask(a), 0x3f);
    CHECK_EQ(a->resp.HeartbeatIntervalMs, 5000);
    struct hb *b = heartbeat(gc, "b", 0, -1, NULL);
    CHECK_EQ(b->resp.MemberEpoch, 2);
    CHECK_EQ(mask(b), 0); /* all six still owned by a */
    struct hb *a2 = heartbeat(gc, "a", 1, 0x3f, NULL);
    CHECK_EQ(a2->resp.MemberEpoch, 1); /* revoking: epoch held */
    int keep = mask(a2);
    CHECK_EQ(__builtin_popcount(keep), 3);
    struct hb *a3 = heartbeat(gc, "a", 1, keep, NULL);
    CHECK_EQ(a3->resp.MemberEpoch, 2);
    struct hb *b2 = heartbeat(gc, "b", 2, 0, NULL);
    CHECK_EQ(mask(b2), 0x3f & ~keep);
    /* Fencing. */
    struct hb *f = heartbeat(gc, "a", 5, -1, NULL);
    CHECK_EQ(f->resp.ErrorCode, SL_KERR_FENCED_MEMBER_EPOCH);
    struct hb *u = heartbeat(gc, "zz", 2, -1, NULL);
    CHECK_EQ(u->resp.ErrorCode, SL_KERR_UNKNOWN_MEMBER_ID);
    /* a leaves: b gets everything. */
    struct hb *l = heartbeat(gc, "a", -1, -1, NULL);
    CHECK_EQ(l->resp.MemberEpoch, -1);
    struct hb *b3 = heartbeat(gc, "b", 2, 0x3f & ~keep, NULL);
    CHECK_EQ(b3->resp.MemberEpoch, 3);
    CHECK_EQ(mask(b3), 0x3f);
    /* b goes silent: the session expires and the group is Empty. */
    gc->now_ms += 46000;
    sl_gc_tick(gc);
    struct sl_group *g = sl_group_find(gc, sl_slice_cstr("g"));
    CHECK(g && g->cg);
    CHECK_EQ(g->cg->members_n, 0);
    CHECK(strcmp(sl_cgroup_state(g->cg), "Empty") == 0);
    struct hb *all[] = {a, b, a2, a3, b2, f, u, l, b3};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        hb_free(all[i]);
    sl_gc_fini(gc);
}

TEST(heartbeat_unsupported_assignor_and_unknown_group)
{
    struct sl_gc *gc = new_gc();
    struct hb *x = heartbeat(gc, "a", 0, -1, "sticky");
    CHECK_EQ(x->resp.ErrorCode, SL_KERR_UNSUPPORTED_ASSIGNOR);
    struct hb *y = heartbeat(gc, "a", 3, -1, NULL);
    CHECK_EQ(y->resp.ErrorCode, SL_KERR_GROUP_ID_NOT_FOUND);
    struct hb *r = heartbeat(gc, "a", 0, -1, "range");
    CHECK_EQ(r->resp.ErrorCode, 0);
    CHECK(strcmp(sl_group_find(gc, sl_slice_cstr("g"))->cg->assignor, "range") == 0);
    hb_free(x);
    hb_free(y);
    hb_free(r);
    sl_gc_fini(gc);
}

struct sl_offset *sl_offset_put(struct sl_group *g, struct sl_slice topic, int32_t partition);

TEST(expiry_removes_offsets_of_empty_groups_only)
{
    struct sl_gc *gc = new_gc();
    struct sl_group *empty = sl_group_create(gc, sl_slice_cstr("simple"));
    struct sl_offset *o = sl_offset_put(empty, sl_slice_cstr("t"), 0);
    o->offset = 5;
    o->commit_ts_ms = 1000;
    struct hb *a = heartbeat(gc, "a", 0, -1, NULL);
    struct sl_group *live = sl_group_find(gc, sl_slice_cstr("g"));
    o = sl_offset_put(live, sl_slice_cstr("t"), 0);
    o->offset = 7;
    o->commit_ts_ms = 1000;
    sl_gc_expire_offsets(gc, 1000 + 59999);
    CHECK_EQ(sl_gc_committed(gc, sl_slice_cstr("simple"), sl_slice_cstr("t"), 0), 5);
    sl_gc_expire_offsets(gc, 1000 + 60000);
    CHECK(sl_group_find(gc, sl_slice_cstr("simple")) == NULL);
    CHECK_EQ(sl_gc_committed(gc, sl_slice_cstr("g"), sl_slice_cstr("t"), 0), 7);
    hb_free(a);
    sl_gc_fini(gc);
}

TEST(state_replays_from_its_records)
{
    struct sl_gc *gc = new_gc();
    struct hb *a = heartbeat(gc, "a", 0, -1, "range");
    struct hb *b = heartbeat(gc, "b", 0, -1, "range");
    struct hb *a2 = heartbeat(gc, "a", 1, 0x3f, NULL); /* revoking 3-5 */
    struct hb *c = heartbeat(gc, "c", 0, -1, NULL);
    struct hb *cl = heartbeat(gc, "c", -1, -1, NULL); /* c leaves: its tombstones */
    struct sl_cgroup *cg = sl_group_find(gc, sl_slice_cstr("g"))->cg;
    int32_t epoch = cg->epoch, target_epoch = cg->target_epoch;
    struct sl_cmember *ma = sl_cmember_find(cg, sl_slice_cstr("a"));
    struct sl_tpset assigned = {0}, revoking = {0}, target = {0};
    sl_tpset_copy(&assigned, &ma->assigned);
    sl_tpset_copy(&revoking, &ma->revoking);
    sl_tpset_copy(&target, &ma->target);
    int32_t a_epoch = ma->epoch;
    enum sl_cmember_state a_state = ma->state;
    sl_gc_fini(gc);

    static struct sl_gc gc2;
    struct sl_gconf conf = gc->conf;
    sl_gc_init(&gc2, &conf, &gc->store);
    for (int i = 0; i < written.n; i++)
        CHECK_EQ(sl_gc_replay(&gc2, written.part[i], written.recs[i].key, written.recs[i].value), 0);
    sl_gc_loaded(&gc2, sl_group_partition(sl_slice_cstr("g"), 50));
    struct sl_group *g = sl_group_find(&gc2, sl_slice_cstr("g"));
    CHECK(g && g->cg);
    CHECK_EQ(g->cg->members_n, 2);
    CHECK_EQ(g->cg->epoch, epoch);
    CHECK_EQ(g->cg->target_epoch, target_epoch);
    CHECK(strcmp(g->cg->assignor, "range") == 0);
    CHECK(sl_cmember_find(g->cg, sl_slice_cstr("c")) == NULL);
    ma = sl_cmember_find(g->cg, sl_slice_cstr("a"));
    CHECK(ma != NULL);
    CHECK_EQ(ma->epoch, a_epoch);
    CHECK_EQ(ma->state, a_state);
    CHECK(sl_tpset_eq(&ma->assigned, &assigned));
    CHECK(sl_tpset_eq(&ma->revoking, &revoking));
    CHECK(sl_tpset_eq(&ma->target, &target));
    CHECK_EQ(ma->topics_n, 1);
    CHECK(ma->session.idx >= 0); /* session timer armed at load */
    sl_tpset_clear(&assigned);
    sl_tpset_clear(&revoking);
    sl_tpset_clear(&target);
    struct hb *all[] = {a, b, a2, c, cl};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        hb_free(all[i]);
    sl_gc_fini(&gc2);
    written_free();
}
