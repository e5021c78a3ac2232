/*
 * expire.c - offsets.retention.minutes: a periodic check (every
 * offsets.retention.check.interval.ms) removes committed offsets that have
 * outlived the retention, writes their tombstones, and removes groups left
 * with no offsets and no members (with a GroupMetadata tombstone).
 *
 * Which offsets expire, as Kafka's OffsetExpirationCondition says:
 * - a classic group that is Empty: every offset, counted from the time the
 *   group became Empty (currentStateTimestamp), or from the commit time when
 *   that is unknown (a "simple" group that only ever committed);
 * - a classic "consumer" group with members, or a consumer (KIP-848) group:
 *   only offsets of topics no member subscribes to, from their commit time
 *   (or from the time a consumer group became Empty, if later);
 * - any other classic group with members: none.
 * Thread: the coordinator's; offsets leave memory at once, the tombstones
 * are written fire-and-forget (a lost one only delays the cleanup to the
 * next load, where the offsets are expired again).
 */
#include "coord/cgroup.h"

#include <errno.h>

#include "base/clock.h"
#include "base/diag.h"
#include "proto/gen/coord_records.h"

static int encode_key(struct sl_arena *a, int16_t type, const void *key, struct sl_grec *rec)
{
    struct sl_obuf b;
    sl_obuf_init(&b);
    int rc = sl_coord_key_encode(&b, type, key);
    uint8_t *p = rc == 0 ? sl_arena_alloc(a, b.total_len + 1) : NULL;
    if (rc == 0 && !p)
        rc = -ENOMEM;
    if (rc == 0)
        rc = sl_obuf_flatten(&b, p);
    rec->key = (struct sl_slice){p, b.total_len};
    rec->value = (struct sl_slice){NULL, 0};
    sl_obuf_fini(&b);
    return rc;
}

static void tombstones_written(struct sl_gc *gc, void *arg, int err)
{
    (void)gc;
    (void)arg;
    if (err < 0)
        SL_WARN("group", "expired offsets' tombstones not written: %s", strerror(-err));
}

void sl_offset_remove(struct sl_group *g, struct sl_slice topic, int32_t partition);

/* Expires g's offsets; returns whether g is now removable. */
static bool expire_group(struct sl_gc *gc, struct sl_group *g, int64_t now_wall_ms)
{
    int64_t retention = gc->conf.offsets_retention_ms;
    bool members = g->cg ? g->cg->members_n > 0 : g->state != SL_GROUP_EMPTY;
    bool consumer = g->cg || sl_slice_eq_cstr(g->protocol_type, "consumer");
    if (members && !consumer)
        return false;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_grec *recs = sl_arena_alloc(&a, sizeof(*recs) * (g->offsets.n + 4));
    SL_ASSERT(recs != NULL);
    int32_t n = 0;
    for (size_t b = 0; b < g->offsets.nbuckets; b++) {
        struct sl_gnode *nd = g->offsets.buckets[b], *next;
        for (; nd; nd = next) {
            next = nd->next;
            struct sl_offset *o = (struct sl_offset *)nd;
            int64_t base = o->commit_ts_ms;
            if (!members && g->state_ts_wall_ms >= 0 && (g->cg || g->state_ts_wall_ms > 0))
                base = g->cg ? (g->state_ts_wall_ms > base ? g->state_ts_wall_ms : base) : g->state_ts_wall_ms;
            if (members && (g->cg ? sl_cgroup_subscribed(gc, g, o->topic) : sl_group_subscribed(g, o->topic)))
                continue;
            if (now_wall_ms - base < retention)
                continue;
            struct sl_OffsetCommitKey key;
            sl_OffsetCommitKey_init(&key);
            key.group = g->id;
            key.topic = o->topic;
            key.partition = o->partition;
            if (encode_key(&a, 1, &key, &recs[n]) == 0)
                n++;
            SL_INFO("group", "group %.*s: offset of %.*s-%d expired", SL_SLICE_FMT(g->id), SL_SLICE_FMT(o->topic),
                    o->partition);
            sl_offset_remove(g, o->topic, o->partition);
        }
    }
    /* Only a group whose last offsets expired now: an Empty group that never
     * committed (a pending KIP-394 member, a fresh consumer group) stays. */
    bool removable = !members && g->pending_n == 0 && g->offsets.n == 0 && n > 0;
    if (removable) {
        struct sl_GroupMetadataKey key;
        sl_GroupMetadataKey_init(&key);
        key.group = g->id;
        if (encode_key(&a, 2, &key, &recs[n]) == 0)
            n++;
        if (g->cg && sl_cgroup_tombstones(&a, g->id, &recs[n]) == 0)
            n += 2;
    }
    if (n > 0 && gc->store.write(gc->store.ctx, g->partition, recs, n, tombstones_written, NULL) < 0)
        SL_WARN("group", "group %.*s: expired offsets' tombstones not written", SL_SLICE_FMT(g->id));
    sl_arena_fini(&a);
    return removable;
}

void sl_gc_expire_offsets(struct sl_gc *gc, int64_t now_wall_ms)
{
    for (size_t i = 0; i < gc->groups.nbuckets; i++) {
        struct sl_gnode *nd = gc->groups.buckets[i], *next;
        for (; nd; nd = next) {
            next = nd->next;
            struct sl_group *g = (struct sl_group *)nd;
            if (gc->store.status(gc->store.ctx, g->partition) != 0)
                continue;
            if (expire_group(gc, g, now_wall_ms)) {
                SL_INFO("group", "group %.*s removed: empty with no offsets left", SL_SLICE_FMT(g->id));
                sl_group_destroy(gc, g);
            }
        }
    }
}

void sl_gc_expire_timer(struct sl_gc *gc, struct sl_gtimer *t)
{
    sl_gc_expire_offsets(gc, sl_clock_wall_ms());
    sl_gtimer_start(gc, t, gc->now_ms + gc->conf.offsets_retention_check_ms);
}
