/*
 * group.c - classic group membership: JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup and the timers that drive a group through its states (the
 * diagram is in group.h). Follows Kafka 4.0's GroupMetadataManager for
 * classic groups: KIP-394 member ids (MEMBER_ID_REQUIRED from JoinGroup v4),
 * KIP-345 static members (group.instance.id, FENCED_INSTANCE_ID), protocol
 * selection by votes, the initial rebalance delay for a group that was
 * Empty, removal of members that miss the rebalance or the sync deadline.
 *
 * Invariants:
 *   - awaiting_join_n == number of members with m->join != NULL.
 *   - m->sync != NULL only in CompletingRebalance (parked until the
 *     leader's assignment is durable).
 *   - a member with a parked request is never expired: its session timer
 *     re-arms itself (the client is waiting on us, it cannot heartbeat).
 */
#include "coord/group_int.h"
#include "coord/cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "base/clock.h"
#include "base/diag.h"
#include "proto/gen/Heartbeat.h"
#include "proto/gen/JoinGroup.h"
#include "proto/gen/LeaveGroup.h"
#include "proto/gen/SyncGroup.h"
#include "proto/gen/coord_records.h"
#include "proto/gen/errors.h"

static void prepare_rebalance(struct sl_gc *gc, struct sl_group *g, const char *why);
static void maybe_complete_join(struct sl_gc *gc, struct sl_group *g);
static void remove_member(struct sl_gc *gc, struct sl_group *g, struct sl_member *m, const char *why);

/* ---- members ------------------------------------------------------------------ */

static void session_expired(struct sl_gc *gc, struct sl_gtimer *t);

void sl_member_arm_session(struct sl_gc *gc, struct sl_member *m)
{
    sl_gtimer_start(gc, &m->session, gc->now_ms + m->session_ms);
}

void sl_member_free(struct sl_gc *gc, struct sl_member *m)
{
    sl_gtimer_stop(gc, &m->session);
    bytes_free(&m->id);
    bytes_free(&m->instance_id);
    bytes_free(&m->client_id);
    bytes_free(&m->client_host);
    bytes_free(&m->assignment);
    for (int32_t i = 0; i < m->protos_n; i++) {
        bytes_free(&m->protos[i].name);
        bytes_free(&m->protos[i].metadata);
    }
    free(m->protos);
    free(m);
}

static struct sl_member *member_new(struct sl_group *g, struct sl_slice id)
{
    struct sl_member *m = calloc(1, sizeof(*m));
    SL_ASSERT(m != NULL);
    m->group = g;
    m->id = bytes_dup(id);
    sl_gtimer_init(&m->session, session_expired);
    sl_list_init(&m->link);
    return m;
}

static void member_set_protos(struct sl_member *m, const struct sl_JoinGroupRequest *req)
{
    for (int32_t i = 0; i < m->protos_n; i++) {
        bytes_free(&m->protos[i].name);
        bytes_free(&m->protos[i].metadata);
    }
    free(m->protos);
    m->protos_n = req->Protocols_n > 0 ? req->Protocols_n : 0;
    m->protos = calloc((size_t)m->protos_n + 1, sizeof(*m->protos));
    SL_ASSERT(m->protos != NULL);
    for (int32_t i = 0; i < m->protos_n; i++) {
        m->protos[i].name = bytes_dup(nonnull(req->Protocols[i].Name));
        m->protos[i].metadata = bytes_dup(nonnull(req->Protocols[i].Metadata));
    }
}

static bool member_protos_equal(const struct sl_member *m, const struct sl_JoinGroupRequest *req)
{
    int32_t n = req->Protocols_n > 0 ? req->Protocols_n : 0;
    if (n != m->protos_n)
        return false;
    for (int32_t i = 0; i < n; i++)
        if (!sl_slice_eq(m->protos[i].name, req->Protocols[i].Name) ||
            !sl_slice_eq(m->protos[i].metadata, req->Protocols[i].Metadata))
            return false;
    return true;
}

static void member_update(struct sl_gc *gc, struct sl_member *m, struct sl_gop *op)
{
    const struct sl_JoinGroupRequest *req = op->request;
    member_set_protos(m, req);
    m->session_ms = req->SessionTimeoutMs;
    m->rebalance_ms = op->version >= 1 ? req->RebalanceTimeoutMs : req->SessionTimeoutMs;
    bytes_set(&m->client_id, nonnull(op->client_id));
    bytes_set(&m->client_host, nonnull(op->client_host));
    sl_member_arm_session(gc, m);
}

/* clientId-<uuid v4>, as Kafka names members. */
static struct sl_slice new_member_id(struct sl_slice prefix)
{
    uint8_t u[16];
    if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
        static uint64_t fallback;
        uint64_t x = (uint64_t)sl_clock_mono_ns() ^ ++fallback * 0x9e3779b97f4a7c15ull;
        memcpy(u, &x, 8);
        x = x * 6364136223846793005ull + 1;
        memcpy(u + 8, &x, 8);
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    size_t n = prefix.len + 1 + 36;
    char *s = malloc(n + 1);
    SL_ASSERT(s != NULL);
    memcpy(s, prefix.p ? (const char *)prefix.p : "", prefix.len);
    snprintf(s + prefix.len, 38,
             "-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
             u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return (struct sl_slice){(const uint8_t *)s, n};
}

static struct sl_member *static_member(struct sl_group *g, struct sl_slice instance_id)
{
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (m->instance_id.p && sl_slice_eq(m->instance_id, instance_id))
            return m;
    }
    return NULL;
}

static struct sl_member *pending_member(struct sl_group *g, struct sl_slice id)
{
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->pending)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (sl_slice_eq(m->id, id))
            return m;
    }
    return NULL;
}

/* Kafka's validateMember: UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID, else 0. */
static int16_t validate_member(struct sl_group *g, struct sl_slice member_id, struct sl_slice instance_id,
                               struct sl_member **out)
{
    *out = NULL;
    if (instance_id.p) {
        struct sl_member *sm = static_member(g, instance_id);
        if (!sm)
            return SL_KERR_UNKNOWN_MEMBER_ID;
        if (!sl_slice_eq(sm->id, member_id))
            return SL_KERR_FENCED_INSTANCE_ID;
        *out = sm;
        return 0;
    }
    *out = sl_group_member(g, member_id);
    return *out ? 0 : SL_KERR_UNKNOWN_MEMBER_ID;
}

static bool is_leader(const struct sl_group *g, const struct sl_member *m)
{
    return g->leader.p && sl_slice_eq(g->leader, m->id);
}

static int32_t max_rebalance_ms(const struct sl_group *g)
{
    int32_t max = 0;
    struct sl_list *l;
    SL_LIST_FOREACH(l, (struct sl_list *)&g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (m->rebalance_ms > max)
            max = m->rebalance_ms;
    }
    return max;
}

static void transition(struct sl_group *g, enum sl_group_state to)
{
    SL_DEBUG("group", "group %.*s generation %d: %s -> %s", SL_SLICE_FMT(g->id), g->generation,
             sl_group_state_name(g->state), sl_group_state_name(to));
    g->prev_state = g->state;
    g->state = to;
    g->state_ts_wall_ms = sl_clock_wall_ms();
}

/* ---- protocols ----------------------------------------------------------------- */

static int32_t members_supporting(struct sl_group *g, struct sl_slice name)
{
    int32_t n = 0;
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (sl_member_metadata(m, name).p)
            n++;
    }
    return n;
}

/* Kafka's supportsProtocols. */
static bool supports_protocols(struct sl_group *g, const struct sl_JoinGroupRequest *req)
{
    if (!req->ProtocolType.p || req->ProtocolType.len == 0 || req->Protocols_n <= 0)
        return false;
    if (g->members_n == 0)
        return true;
    if (!sl_slice_eq(g->protocol_type, req->ProtocolType))
        return false;
    for (int32_t i = 0; i < req->Protocols_n; i++)
        if (members_supporting(g, req->Protocols[i].Name) == g->members_n)
            return true;
    return false;
}

/* Kafka's selectProtocol: among the protocols every member supports, each
 * member votes for the first of its own list; most votes wins (ties go to
 * the candidate listed first by the first member). */
static struct sl_slice select_protocol(struct sl_group *g)
{
    struct sl_member *first = SL_LIST_ENTRY(g->members.next, struct sl_member, link);
    struct sl_slice best = {NULL, 0};
    int32_t best_votes = -1;
    for (int32_t i = 0; i < first->protos_n; i++) {
        struct sl_slice cand = first->protos[i].name;
        if (members_supporting(g, cand) != g->members_n)
            continue;
        int32_t votes = 0;
        struct sl_list *l;
        SL_LIST_FOREACH(l, &g->members)
        {
            struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
            for (int32_t j = 0; j < m->protos_n; j++)
                if (members_supporting(g, m->protos[j].name) == g->members_n) {
                    if (sl_slice_eq(m->protos[j].name, cand))
                        votes++;
                    break;
                }
        }
        if (votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    SL_ASSERT(best.p != NULL); /* supports_protocols kept a common protocol */
    return best;
}

/* ---- answers -------------------------------------------------------------------- */

static void join_answer(struct sl_group *g, struct sl_member *m, struct sl_gop *op, bool with_members)
{
    struct sl_JoinGroupResponse *resp = op->response;
    resp->ErrorCode = 0;
    resp->GenerationId = g->generation;
    resp->ProtocolType = sl_gop_dup(op, g->protocol_type);
    resp->ProtocolName = op->version >= 7 ? sl_gop_dup(op, g->protocol) : sl_gop_dup(op, nonnull(g->protocol));
    resp->Leader = sl_gop_dup(op, nonnull(g->leader));
    resp->MemberId = sl_gop_dup(op, m->id);
    resp->SkipAssignment = false;
    resp->Members_n = 0;
    if (with_members) {
        resp->Members = sl_arena_alloc(op->arena, sizeof(*resp->Members) * (size_t)(g->members_n + 1));
        SL_ASSERT(resp->Members != NULL);
        struct sl_list *l;
        SL_LIST_FOREACH(l, &g->members)
        {
            struct sl_member *o = SL_LIST_ENTRY(l, struct sl_member, link);
            struct sl_JoinGroupResponse_JoinGroupResponseMember *rm = &resp->Members[resp->Members_n++];
            sl_JoinGroupResponse_JoinGroupResponseMember_init(rm);
            rm->MemberId = sl_gop_dup(op, o->id);
            rm->GroupInstanceId = sl_gop_dup(op, o->instance_id);
            rm->Metadata = sl_gop_dup(op, nonnull(sl_member_metadata(o, g->protocol)));
        }
    }
    op->done(op);
}

static void sync_answer(struct sl_group *g, struct sl_member *m, struct sl_gop *op)
{
    struct sl_SyncGroupResponse *resp = op->response;
    resp->ErrorCode = 0;
    resp->ProtocolType = sl_gop_dup(op, g->protocol_type);
    resp->ProtocolName = sl_gop_dup(op, g->protocol);
    resp->Assignment = sl_gop_dup(op, nonnull(m->assignment));
    op->done(op);
}

static void fail_syncs(struct sl_group *g, int16_t err)
{
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (m->sync) {
            struct sl_gop *op = m->sync;
            m->sync = NULL;
            sl_gop_fail(op, err);
        }
    }
}

void sl_group_fail_parked(struct sl_group *g, int16_t err)
{
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (m->join) {
            struct sl_gop *op = m->join;
            m->join = NULL;
            g->awaiting_join_n--;
            sl_gop_fail(op, err);
        }
    }
    fail_syncs(g, err);
}

/* ---- transitions ------------------------------------------------------------------ */

/* Empty | Stable | CompletingRebalance -> PreparingRebalance. */
static void prepare_rebalance(struct sl_gc *gc, struct sl_group *g, const char *why)
{
    SL_ASSERT(g->state == SL_GROUP_EMPTY || g->state == SL_GROUP_STABLE ||
              g->state == SL_GROUP_COMPLETING_REBALANCE);
    SL_INFO("group", "preparing to rebalance group %.*s in state %s with old generation %d (%s)",
            SL_SLICE_FMT(g->id), sl_group_state_name(g->state), g->generation, why);
    if (g->state == SL_GROUP_COMPLETING_REBALANCE) {
        /* The assignment of this generation will never be handed out. */
        struct sl_list *l;
        SL_LIST_FOREACH(l, &g->members)
        {
            bytes_free(&SL_LIST_ENTRY(l, struct sl_member, link)->assignment);
        }
        fail_syncs(g, SL_KERR_REBALANCE_IN_PROGRESS);
    }
    sl_gtimer_stop(gc, &g->sync_timer);
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->members)
    {
        SL_LIST_ENTRY(l, struct sl_member, link)->pending_sync = false;
    }
    int32_t rebalance = max_rebalance_ms(g);
    if (g->state == SL_GROUP_EMPTY) {
        int32_t delay = gc->conf.initial_rebalance_delay_ms;
        if (delay > rebalance)
            delay = rebalance;
        g->initial_join = true;
        g->new_member_added = false;
        g->initial_remaining_ms = rebalance - gc->conf.initial_rebalance_delay_ms;
        if (g->initial_remaining_ms < 0)
            g->initial_remaining_ms = 0;
        sl_gtimer_start(gc, &g->join_timer, gc->now_ms + delay);
    } else {
        g->initial_join = false;
        sl_gtimer_start(gc, &g->join_timer, gc->now_ms + rebalance);
    }
    transition(g, SL_GROUP_PREPARING_REBALANCE);
}

/* PreparingRebalance -> CompletingRebalance (members joined) or Empty (none). */
static void complete_join(struct sl_gc *gc, struct sl_group *g)
{
    SL_ASSERT(g->state == SL_GROUP_PREPARING_REBALANCE);
    sl_gtimer_stop(gc, &g->join_timer);
    /* Dynamic members that did not rejoin in time are gone; static ones stay. */
    struct sl_list *l, *tmp;
    SL_LIST_FOREACH_SAFE(l, tmp, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (!m->join && !m->instance_id.p) {
            SL_INFO("group", "member %.*s of group %.*s did not rejoin in time: removed", SL_SLICE_FMT(m->id),
                    SL_SLICE_FMT(g->id));
            if (is_leader(g, m))
                bytes_free(&g->leader);
            sl_list_remove(&m->link);
            g->members_n--;
            sl_member_free(gc, m);
        }
    }
    if (g->members_n > 0 && g->awaiting_join_n == 0) {
        /* Only static members that have not rejoined: wait another round. */
        sl_gtimer_start(gc, &g->join_timer, gc->now_ms + max_rebalance_ms(g));
        return;
    }
    /* The leader must be a member that rejoined. */
    struct sl_member *leader = g->leader.p ? sl_group_member(g, g->leader) : NULL;
    if (!leader || !leader->join) {
        SL_LIST_FOREACH(l, &g->members)
        {
            struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
            if (m->join) {
                bytes_set(&g->leader, m->id);
                break;
            }
        }
    }
    g->generation++;
    if (g->members_n == 0) {
        bytes_free(&g->protocol);
        bytes_free(&g->leader);
        transition(g, SL_GROUP_EMPTY);
        sl_group_store(gc, g, NULL, NULL);
        return;
    }
    bytes_set(&g->protocol, select_protocol(g));
    transition(g, SL_GROUP_COMPLETING_REBALANCE);
    SL_INFO("group", "group %.*s: generation %d with %d members, protocol %.*s, leader %.*s", SL_SLICE_FMT(g->id),
            g->generation, g->members_n, SL_SLICE_FMT(g->protocol), SL_SLICE_FMT(g->leader));
    SL_LIST_FOREACH(l, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        m->pending_sync = true;
        sl_member_arm_session(gc, m);
        if (m->join) {
            struct sl_gop *op = m->join;
            m->join = NULL;
            g->awaiting_join_n--;
            join_answer(g, m, op, is_leader(g, m));
        }
    }
    SL_ASSERT(g->awaiting_join_n == 0);
    sl_gtimer_start(gc, &g->sync_timer, gc->now_ms + max_rebalance_ms(g));
}

static void maybe_complete_join(struct sl_gc *gc, struct sl_group *g)
{
    /* The first rebalance of a group that was Empty waits for its initial
     * delay to pass, so that members starting together join one generation. */
    if (g->state == SL_GROUP_PREPARING_REBALANCE && g->awaiting_join_n == g->members_n &&
        g->pending_n == 0 && g->prev_state != SL_GROUP_EMPTY)
        complete_join(gc, g);
}

void sl_group_join_expired(struct sl_gc *gc, struct sl_gtimer *t)
{
    struct sl_group *g = (struct sl_group *)((char *)t - offsetof(struct sl_group, join_timer));
    SL_ASSERT(g->state == SL_GROUP_PREPARING_REBALANCE);
    if (g->initial_join && g->new_member_added && g->initial_remaining_ms > 0) {
        /* InitialDelayedJoin: members keep arriving, wait a little more. */
        int32_t delay = gc->conf.initial_rebalance_delay_ms;
        if (delay > g->initial_remaining_ms)
            delay = g->initial_remaining_ms;
        g->initial_remaining_ms -= delay;
        g->new_member_added = false;
        sl_gtimer_start(gc, &g->join_timer, gc->now_ms + delay);
        return;
    }
    complete_join(gc, g);
}

/* Members that joined but never sent SyncGroup within the rebalance timeout
 * leave the group (Kafka's pending-sync expiry). */
void sl_group_sync_expired(struct sl_gc *gc, struct sl_gtimer *t)
{
    struct sl_group *g = (struct sl_group *)((char *)t - offsetof(struct sl_group, sync_timer));
    if (g->state != SL_GROUP_COMPLETING_REBALANCE && g->state != SL_GROUP_STABLE)
        return;
    struct sl_list *l, *tmp;
    SL_LIST_FOREACH_SAFE(l, tmp, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (m->pending_sync && !m->sync)
            remove_member(gc, g, m, "no SyncGroup within the rebalance timeout");
    }
}

/* CompletingRebalance -> Stable: the leader's assignment is durable. */
static void complete_sync(struct sl_gc *gc, struct sl_group *g)
{
    SL_ASSERT(g->state == SL_GROUP_COMPLETING_REBALANCE);
    transition(g, SL_GROUP_STABLE);
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        if (m->sync) {
            struct sl_gop *op = m->sync;
            m->sync = NULL;
            sync_answer(g, m, op);
        }
    }
    (void)gc;
}

/* Kafka's removeMemberAndUpdateClassicGroup. */
static void remove_member(struct sl_gc *gc, struct sl_group *g, struct sl_member *m, const char *why)
{
    SL_INFO("group", "member %.*s leaves group %.*s: %s", SL_SLICE_FMT(m->id), SL_SLICE_FMT(g->id), why);
    if (m->join) {
        g->awaiting_join_n--;
        sl_gop_fail(m->join, SL_KERR_UNKNOWN_MEMBER_ID);
        m->join = NULL;
    }
    if (m->sync) {
        sl_gop_fail(m->sync, SL_KERR_UNKNOWN_MEMBER_ID);
        m->sync = NULL;
    }
    bool was_leader = is_leader(g, m);
    sl_list_remove(&m->link);
    g->members_n--;
    sl_member_free(gc, m);
    if (was_leader) {
        bytes_free(&g->leader);
        if (g->members_n > 0)
            bytes_set(&g->leader, SL_LIST_ENTRY(g->members.next, struct sl_member, link)->id);
    }
    switch (g->state) {
    case SL_GROUP_STABLE:
    case SL_GROUP_COMPLETING_REBALANCE: prepare_rebalance(gc, g, why); break;
    case SL_GROUP_PREPARING_REBALANCE: maybe_complete_join(gc, g); break;
    default: break;
    }
}

static void remove_pending(struct sl_gc *gc, struct sl_group *g, struct sl_member *m)
{
    sl_list_remove(&m->link);
    g->pending_n--;
    sl_member_free(gc, m);
    maybe_complete_join(gc, g);
}

static void session_expired(struct sl_gc *gc, struct sl_gtimer *t)
{
    struct sl_member *m = (struct sl_member *)((char *)t - offsetof(struct sl_member, session));
    struct sl_group *g = m->group;
    if (m->is_pending) {
        remove_pending(gc, g, m);
        return;
    }
    if (m->join || m->sync) { /* waiting on us: alive */
        sl_member_arm_session(gc, m);
        return;
    }
    remove_member(gc, g, m, "session timeout expired");
}

/* ---- JoinGroup --------------------------------------------------------------------- */

static void add_member_and_rebalance(struct sl_gc *gc, struct sl_group *g, struct sl_gop *op,
                                     struct sl_slice member_id /* taken */)
{
    const struct sl_JoinGroupRequest *req = op->request;
    struct sl_member *m = member_new(g, (struct sl_slice){0});
    m->id = member_id;
    m->instance_id = bytes_dup(req->GroupInstanceId);
    member_update(gc, m, op);
    if (g->state == SL_GROUP_PREPARING_REBALANCE && g->initial_join)
        g->new_member_added = true;
    sl_list_push_back(&g->members, &m->link);
    g->members_n++;
    if (g->members_n == 1)
        bytes_set(&g->protocol_type, req->ProtocolType);
    if (!g->leader.p)
        bytes_set(&g->leader, m->id);
    m->join = op;
    g->awaiting_join_n++;
    if (g->state == SL_GROUP_PREPARING_REBALANCE)
        maybe_complete_join(gc, g);
    else
        prepare_rebalance(gc, g, "adding new member");
}

static void update_member_and_rebalance(struct sl_gc *gc, struct sl_group *g, struct sl_member *m,
                                        struct sl_gop *op)
{
    member_update(gc, m, op);
    if (m->join) /* a second JoinGroup while the first is parked replaces it */
        sl_gop_fail(m->join, SL_KERR_REBALANCE_IN_PROGRESS);
    else
        g->awaiting_join_n++;
    m->join = op;
    if (g->state == SL_GROUP_PREPARING_REBALANCE)
        maybe_complete_join(gc, g);
    else
        prepare_rebalance(gc, g, "member rejoined with new metadata or as leader");
}

static void noop_done(struct sl_gop *op) { (void)op; }

static void join_static_known(struct sl_gc *gc, struct sl_group *g, struct sl_member *m, struct sl_gop *op)
{
    /* A static member restarted with a new member id: the old id is fenced. */
    const struct sl_JoinGroupRequest *req = op->request;
    struct sl_slice old_leader = bytes_dup(g->leader);
    if (m->join) {
        g->awaiting_join_n--;
        sl_gop_fail(m->join, SL_KERR_FENCED_INSTANCE_ID);
        m->join = NULL;
    }
    if (m->sync) {
        sl_gop_fail(m->sync, SL_KERR_FENCED_INSTANCE_ID);
        m->sync = NULL;
    }
    bool was_leader = is_leader(g, m);
    bytes_free(&m->id);
    m->id = new_member_id(req->GroupInstanceId);
    if (was_leader)
        bytes_set(&g->leader, m->id);
    member_update(gc, m, op);
    switch (g->state) {
    case SL_GROUP_STABLE:
        if (sl_slice_eq(select_protocol(g), g->protocol)) {
            /* Same protocol: no rebalance. The old leader id goes back so the
             * member does not compute an assignment a Stable group would not
             * hand out (v9: the leader is told to skip it). */
            sl_group_store(gc, g, NULL, NULL);
            struct sl_JoinGroupResponse *resp = op->response;
            bool leader_v9 = was_leader && op->version >= 9;
            /* join_answer calls done: patch the answer before it goes. */
            void (*done)(struct sl_gop *) = op->done;
            op->done = noop_done;
            join_answer(g, m, op, leader_v9);
            resp->SkipAssignment = leader_v9;
            if (!leader_v9 && old_leader.p)
                resp->Leader = sl_gop_dup(op, old_leader);
            bytes_free(&old_leader);
            op->done = done;
            done(op);
            return;
        }
        m->join = op;
        g->awaiting_join_n++;
        prepare_rebalance(gc, g, "static member rejoined with a change of protocol");
        break;
    case SL_GROUP_COMPLETING_REBALANCE:
        m->join = op;
        g->awaiting_join_n++;
        prepare_rebalance(gc, g, "static member rejoined during CompletingRebalance");
        break;
    case SL_GROUP_PREPARING_REBALANCE:
        m->join = op;
        g->awaiting_join_n++;
        maybe_complete_join(gc, g);
        break;
    default: SL_ASSERT(!"static member in an empty group");
    }
    bytes_free(&old_leader);
}

static void join_unknown(struct sl_gc *gc, struct sl_group *g, struct sl_gop *op)
{
    const struct sl_JoinGroupRequest *req = op->request;
    if (req->GroupInstanceId.p) {
        struct sl_member *m = static_member(g, req->GroupInstanceId);
        if (m)
            join_static_known(gc, g, m, op);
        else
            add_member_and_rebalance(gc, g, op, new_member_id(req->GroupInstanceId));
        return;
    }
    struct sl_slice id = new_member_id(nonnull(op->client_id));
    if (op->version >= 4) {
        /* KIP-394: hand out the id and let the member come back with it, so
         * a client that times out and retries does not leave ghosts. */
        struct sl_member *p = member_new(g, (struct sl_slice){0});
        p->id = id;
        p->is_pending = true;
        p->session_ms = req->SessionTimeoutMs;
        sl_list_push_back(&g->pending, &p->link);
        g->pending_n++;
        sl_member_arm_session(gc, p);
        struct sl_JoinGroupResponse *resp = op->response;
        resp->ErrorCode = SL_KERR_MEMBER_ID_REQUIRED;
        resp->GenerationId = -1;
        resp->MemberId = sl_gop_dup(op, id);
        resp->ProtocolName = op->version >= 7 ? (struct sl_slice){NULL, 0} : sl_slice_cstr("");
        resp->Members_n = 0;
        op->done(op);
        return;
    }
    add_member_and_rebalance(gc, g, op, id);
}

static void join_known(struct sl_gc *gc, struct sl_group *g, struct sl_gop *op)
{
    const struct sl_JoinGroupRequest *req = op->request;
    struct sl_member *p = pending_member(g, req->MemberId);
    if (p) {
        struct sl_slice id = p->id;
        p->id = (struct sl_slice){0};
        sl_list_remove(&p->link);
        g->pending_n--;
        sl_member_free(gc, p);
        add_member_and_rebalance(gc, g, op, id);
        return;
    }
    struct sl_member *m;
    int16_t err = validate_member(g, req->MemberId, req->GroupInstanceId, &m);
    if (err) {
        sl_gop_fail(op, err);
        return;
    }
    switch (g->state) {
    case SL_GROUP_PREPARING_REBALANCE: update_member_and_rebalance(gc, g, m, op); break;
    case SL_GROUP_COMPLETING_REBALANCE:
        if (member_protos_equal(m, req) && !m->join) {
            /* It missed our answer: send it again. */
            sl_member_arm_session(gc, m);
            join_answer(g, m, op, is_leader(g, m));
        } else {
            update_member_and_rebalance(gc, g, m, op);
        }
        break;
    case SL_GROUP_STABLE:
        if (is_leader(g, m) || !member_protos_equal(m, req)) {
            update_member_and_rebalance(gc, g, m, op);
        } else {
            sl_member_arm_session(gc, m);
            join_answer(g, m, op, false);
        }
        break;
    default: sl_gop_fail(op, SL_KERR_UNKNOWN_MEMBER_ID); break;
    }
}

void sl_gc_join(struct sl_gc *gc, struct sl_gop *op)
{
    const struct sl_JoinGroupRequest *req = op->request;
    if (!req->GroupId.p || req->GroupId.len == 0) {
        sl_gop_fail(op, SL_KERR_INVALID_GROUP_ID);
        return;
    }
    int16_t err = gc->store.status(gc->store.ctx, sl_group_partition(req->GroupId, gc->conf.num_partitions));
    if (err) {
        sl_gop_fail(op, err);
        return;
    }
    if (req->SessionTimeoutMs < gc->conf.min_session_timeout_ms ||
        req->SessionTimeoutMs > gc->conf.max_session_timeout_ms) {
        sl_gop_fail(op, SL_GERR_INVALID_SESSION_TIMEOUT);
        return;
    }
    bool unknown = !req->MemberId.p || req->MemberId.len == 0;
    struct sl_group *g = sl_group_find(gc, req->GroupId);
    bool created = false;
    if (!g) {
        if (!unknown) {
            sl_gop_fail(op, SL_KERR_UNKNOWN_MEMBER_ID);
            return;
        }
        g = sl_group_create(gc, req->GroupId);
        created = true;
    }
    if (g->cg && g->cg->members_n == 0)
        sl_cgroup_free(gc, g); /* an empty consumer group becomes a classic one */
    if (g->cg) {
        err = SL_GERR_INCONSISTENT_GROUP_PROTOCOL; /* a consumer group with members */
    } else if (g->state == SL_GROUP_DEAD) {
        err = SL_KERR_COORDINATOR_NOT_AVAILABLE;
    } else if (g->members_n >= gc->conf.max_size && (unknown || !sl_group_member(g, req->MemberId)) &&
               !(req->GroupInstanceId.p && static_member(g, req->GroupInstanceId))) {
        err = SL_KERR_GROUP_MAX_SIZE_REACHED;
    } else if (!supports_protocols(g, req)) {
        err = SL_GERR_INCONSISTENT_GROUP_PROTOCOL;
    }
    if (err) {
        if (created)
            sl_group_destroy(gc, g);
        sl_gop_fail(op, err);
        return;
    }
    if (unknown)
        join_unknown(gc, g, op);
    else
        join_known(gc, g, op);
}

/* ---- SyncGroup ------------------------------------------------------------------------ */

struct sync_write {
    struct sl_slice group_id; /* owned */
    int32_t generation;
};

static void sync_written(struct sl_gc *gc, void *arg, int err)
{
    struct sync_write *w = arg;
    struct sl_group *g = sl_group_find(gc, w->group_id);
    if (g && g->state == SL_GROUP_COMPLETING_REBALANCE && g->generation == w->generation) {
        if (err < 0) {
            /* Kafka: the assignment is lost, members rebalance again. */
            struct sl_list *l;
            SL_LIST_FOREACH(l, &g->members)
            {
                bytes_free(&SL_LIST_ENTRY(l, struct sl_member, link)->assignment);
            }
            fail_syncs(g, SL_KERR_COORDINATOR_NOT_AVAILABLE);
            prepare_rebalance(gc, g, "storing the assignment failed");
        } else {
            complete_sync(gc, g);
        }
    }
    bytes_free(&w->group_id);
    free(w);
}

void sl_gc_sync(struct sl_gc *gc, struct sl_gop *op)
{
    const struct sl_SyncGroupRequest *req = op->request;
    int16_t err = gc->store.status(gc->store.ctx, sl_group_partition(req->GroupId, gc->conf.num_partitions));
    if (err) {
        sl_gop_fail(op, err);
        return;
    }
    struct sl_group *g = sl_group_find(gc, req->GroupId);
    if (!g) {
        sl_gop_fail(op, SL_KERR_UNKNOWN_MEMBER_ID);
        return;
    }
    if (g->state == SL_GROUP_DEAD) {
        sl_gop_fail(op, SL_KERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    struct sl_member *m;
    err = validate_member(g, req->MemberId, req->GroupInstanceId, &m);
    if (!err && req->GenerationId != g->generation)
        err = SL_KERR_ILLEGAL_GENERATION;
    if (!err && ((req->ProtocolType.p && !sl_slice_eq(req->ProtocolType, g->protocol_type)) ||
                 (req->ProtocolName.p && !sl_slice_eq(req->ProtocolName, g->protocol))))
        err = SL_GERR_INCONSISTENT_GROUP_PROTOCOL;
    if (err) {
        sl_gop_fail(op, err);
        return;
    }
    switch (g->state) {
    case SL_GROUP_EMPTY: sl_gop_fail(op, SL_KERR_UNKNOWN_MEMBER_ID); return;
    case SL_GROUP_PREPARING_REBALANCE: sl_gop_fail(op, SL_KERR_REBALANCE_IN_PROGRESS); return;
    case SL_GROUP_STABLE:
        m->pending_sync = false;
        sl_member_arm_session(gc, m);
        sync_answer(g, m, op);
        return;
    case SL_GROUP_COMPLETING_REBALANCE: break;
    default: sl_gop_fail(op, SL_KERR_COORDINATOR_NOT_AVAILABLE); return;
    }
    if (m->sync)
        sl_gop_fail(m->sync, SL_KERR_REBALANCE_IN_PROGRESS);
    m->sync = op;
    m->pending_sync = false;
    sl_member_arm_session(gc, m);
    if (!is_leader(g, m))
        return;
    /* The leader's assignment: every member gets its part (or nothing);
     * it is handed out once the group record holding it is durable. */
    struct sl_list *l;
    SL_LIST_FOREACH(l, &g->members)
    {
        struct sl_member *o = SL_LIST_ENTRY(l, struct sl_member, link);
        struct sl_slice a = {(const uint8_t *)"", 0};
        for (int32_t i = 0; i < req->Assignments_n; i++)
            if (sl_slice_eq(req->Assignments[i].MemberId, o->id))
                a = nonnull(req->Assignments[i].Assignment);
        bytes_set(&o->assignment, a);
    }
    struct sync_write *w = malloc(sizeof(*w));
    SL_ASSERT(w != NULL);
    w->group_id = bytes_dup(g->id);
    w->generation = g->generation;
    sl_group_store(gc, g, sync_written, w);
}

/* ---- Heartbeat ---------------------------------------------------------------------------- */

void sl_gc_heartbeat(struct sl_gc *gc, struct sl_gop *op)
{
    const struct sl_HeartbeatRequest *req = op->request;
    int16_t err = gc->store.status(gc->store.ctx, sl_group_partition(req->GroupId, gc->conf.num_partitions));
    if (err) {
        sl_gop_fail(op, err);
        return;
    }
    struct sl_group *g = sl_group_find(gc, req->GroupId);
    if (!g) {
        sl_gop_fail(op, SL_KERR_UNKNOWN_MEMBER_ID);
        return;
    }
    if (g->state == SL_GROUP_DEAD) {
        sl_gop_fail(op, SL_KERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    struct sl_member *m;
    err = validate_member(g, req->MemberId, req->GroupInstanceId, &m);
    if (!err && req->GenerationId != g->generation)
        err = SL_KERR_ILLEGAL_GENERATION;
    if (!err) {
        switch (g->state) {
        case SL_GROUP_EMPTY: err = SL_KERR_UNKNOWN_MEMBER_ID; break;
        case SL_GROUP_PREPARING_REBALANCE:
            sl_member_arm_session(gc, m);
            err = SL_KERR_REBALANCE_IN_PROGRESS;
            break;
        default: sl_member_arm_session(gc, m); break;
        }
    }
    sl_gop_fail(op, err);
}

/* ---- LeaveGroup ------------------------------------------------------------------------------ */

static int16_t leave_one(struct sl_gc *gc, struct sl_group *g, struct sl_slice member_id, struct sl_slice instance_id)
{
    if (instance_id.p) {
        struct sl_member *sm = static_member(g, instance_id);
        if (!sm)
            return SL_KERR_UNKNOWN_MEMBER_ID;
        if (member_id.p && member_id.len && !sl_slice_eq(sm->id, member_id))
            return SL_KERR_FENCED_INSTANCE_ID;
        remove_member(gc, g, sm, "static member left the group");
        return 0;
    }
    struct sl_member *p = pending_member(g, member_id);
    if (p) {
        remove_pending(gc, g, p);
        return 0;
    }
    struct sl_member *m = sl_group_member(g, member_id);
    if (!m)
        return SL_KERR_UNKNOWN_MEMBER_ID;
    remove_member(gc, g, m, "the member left the group");
    return 0;
}

void sl_gc_leave(struct sl_gc *gc, struct sl_gop *op)
{
    const struct sl_LeaveGroupRequest *req = op->request;
    struct sl_LeaveGroupResponse *resp = op->response;
    int16_t err = gc->store.status(gc->store.ctx, sl_group_partition(req->GroupId, gc->conf.num_partitions));
    if (err) {
        sl_gop_fail(op, err);
        return;
    }
    struct sl_group *g = sl_group_find(gc, req->GroupId);
    if (g && g->state == SL_GROUP_DEAD) {
        sl_gop_fail(op, SL_KERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    if (op->version < 3) {
        resp->ErrorCode = g ? leave_one(gc, g, req->MemberId, (struct sl_slice){0}) : SL_KERR_UNKNOWN_MEMBER_ID;
        op->done(op);
        return;
    }
    int32_t n = req->Members_n > 0 ? req->Members_n : 0;
    resp->Members = sl_arena_alloc(op->arena, sizeof(*resp->Members) * (size_t)(n + 1));
    SL_ASSERT(resp->Members != NULL);
    resp->Members_n = n;
    for (int32_t i = 0; i < n; i++) {
        struct sl_LeaveGroupResponse_MemberResponse *r = &resp->Members[i];
        sl_LeaveGroupResponse_MemberResponse_init(r);
        r->MemberId = nonnull(req->Members[i].MemberId);
        r->GroupInstanceId = req->Members[i].GroupInstanceId;
        r->ErrorCode = g ? leave_one(gc, g, req->Members[i].MemberId, req->Members[i].GroupInstanceId)
                         : SL_KERR_UNKNOWN_MEMBER_ID;
    }
    op->done(op);
}

/* ---- loading ------------------------------------------------------------------------------------- */

void sl_group_load(struct sl_gc *gc, struct sl_group *g, const void *value)
{
    const struct sl_GroupMetadataValue *v = value;
    sl_group_fail_parked(g, SL_KERR_NOT_COORDINATOR);
    struct sl_list *l, *tmp;
    SL_LIST_FOREACH_SAFE(l, tmp, &g->members)
    {
        struct sl_member *m = SL_LIST_ENTRY(l, struct sl_member, link);
        sl_list_remove(&m->link);
        sl_member_free(gc, m);
    }
    g->members_n = 0;
    bytes_set(&g->protocol_type, v->protocolType);
    bytes_set(&g->protocol, v->protocol);
    bytes_set(&g->leader, v->leader);
    g->generation = v->generation;
    g->state_ts_wall_ms = v->currentStateTimestamp;
    for (int32_t i = 0; i < v->members_n; i++) {
        const struct sl_GroupMetadataValue_MemberMetadata *mm = &v->members[i];
        struct sl_member *m = member_new(g, nonnull(mm->memberId));
        m->instance_id = bytes_dup(mm->groupInstanceId);
        m->client_id = bytes_dup(nonnull(mm->clientId));
        m->client_host = bytes_dup(nonnull(mm->clientHost));
        m->rebalance_ms = mm->rebalanceTimeout > 0 ? mm->rebalanceTimeout : mm->sessionTimeout;
        m->session_ms = mm->sessionTimeout;
        m->protos_n = 1;
        m->protos = calloc(2, sizeof(*m->protos));
        SL_ASSERT(m->protos != NULL);
        m->protos[0].name = bytes_dup(nonnull(v->protocol));
        m->protos[0].metadata = bytes_dup(nonnull(mm->subscription));
        m->assignment = bytes_dup(nonnull(mm->assignment));
        sl_list_push_back(&g->members, &m->link);
        g->members_n++;
    }
    g->state = g->prev_state = g->members_n ? SL_GROUP_STABLE : SL_GROUP_EMPTY;
    if (!g->members_n) {
        bytes_free(&g->protocol);
        bytes_free(&g->leader);
    }
}
