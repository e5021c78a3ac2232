/*
 * tc_end.c - ending a transaction: markers on its partitions, its offsets made
 * visible to the group coordinator, epoch bumps and fencing.
 */
#include "txn/tc_int.h"

/* ---- markers and the end of a transaction -------------------------------------------- */

struct offsets_apply {          /* committed offsets for the group coordinator's thread */
    int32_t partition;          /* __consumer_offsets partition */
    int n;
    struct sl_grec *recs;       /* malloc'd keys and values */
};

static void apply_offsets_on_coord(struct sl_gc *gc, void *arg)
{
    struct offsets_apply *a = arg;
    for (int i = 0; i < a->n; i++) {
        if (gc)
            sl_gc_replay(gc, a->partition, a->recs[i].key, a->recs[i].value);
        free((void *)a->recs[i].key.p);
        free((void *)a->recs[i].value.p);
    }
    free(a->recs);
    free(a);
}

/* An OffsetCommit record (key type 1, value version 3) as the group coordinator writes it. */
int tc_offset_record(const struct toffset *o, int64_t now_ms, struct sl_grec *rec)
{
    struct sl_OffsetCommitKey key;
    sl_OffsetCommitKey_init(&key);
    key.group = sl_slice_cstr(o->group);
    key.topic = sl_slice_cstr(o->topic);
    key.partition = o->partition;
    struct sl_OffsetCommitValue v;
    sl_OffsetCommitValue_init(&v);
    v.offset = o->offset;
    v.leaderEpoch = o->leader_epoch;
    v.metadata = o->metadata ? sl_slice_cstr(o->metadata) : sl_slice_cstr("");
    v.commitTimestamp = now_ms;
    struct sl_obuf b;
    sl_obuf_init(&b);
    int rc = sl_coord_key_encode(&b, 1, &key);
    rc = rc == 0 ? tc_flatten(&b, &rec->key) : (sl_obuf_fini(&b), rc);
    if (rc == 0) {
        sl_obuf_init(&b);
        rc = sl_coord_value_encode(&b, 1, 3, &v);
        rc = rc == 0 ? tc_flatten(&b, &rec->value) : (sl_obuf_fini(&b), rc);
    }
    return rc;
}

/* After a COMMIT marker on __consumer_offsets-partition: the group
 * coordinator applies the transaction's offsets of groups there. */
static void publish_offsets(struct sl_tc *tc, struct txn *t, int32_t partition, int32_t offsets_parts)
{
    struct offsets_apply *a = calloc(1, sizeof(*a));
    SL_ASSERT(a != NULL);
    a->partition = partition;
    a->recs = calloc((size_t)t->offs_n + 1, sizeof(*a->recs));
    SL_ASSERT(a->recs != NULL);
    int64_t now = sl_clock_wall_ms();
    for (int i = 0; i < t->offs_n; i++) {
        if (sl_group_partition(sl_slice_cstr(t->offs[i].group), offsets_parts) != partition)
            continue;
        if (tc_offset_record(&t->offs[i], now, &a->recs[a->n]) == 0)
            a->n++;
    }
    if (a->n == 0) {
        apply_offsets_on_coord(NULL, a);
        return;
    }
    sl_coord_call(sl_coord_get(tc->broker), apply_offsets_on_coord, a);
}

int32_t tc_offsets_partitions(void)
{
    struct sl_image *img = sl_image_acquire();
    const struct sl_image_topic *t = img ? sl_image_topic_by_name(img, sl_slice_cstr(OFFSETS_TOPIC)) : NULL;
    int32_t n = t ? t->partitions_n : 0;
    if (img)
        sl_image_release(img);
    return n;
}

/* Writes the markers of t (its epoch) to every partition of the transaction. */
static int write_markers(struct sl_tc *tc, struct txn *t, bool commit)
{
    int rc = 0;
    struct sl_part **parts = calloc((size_t)t->parts_n + 1, sizeof(*parts));
    SL_ASSERT(parts != NULL);
    for (int i = 0; i < t->parts_n; i++) {
        struct sl_part *part = tc_get_part(tc, sl_slice_cstr(t->parts[i].topic), t->parts[i].partition);
        if (!part)
            continue; /* deleted meanwhile: nothing to mark */
        uint8_t *batch;
        size_t len;
        int r = sl_batch_build_txn_marker(t->pid, t->epoch, commit ? SL_CONTROL_COMMIT : SL_CONTROL_ABORT, 0,
                                          sl_clock_wall_ms(), &batch, &len);
        if (r == 0) {
            r = tc_append(part, batch, len);
            free(batch);
        }
        if (r < 0) {
            SL_ERROR("txn", "marker to %s-%d for %s failed: %s", part->topic, part->index, t->id, strerror(-r));
            rc = r;
            sl_part_unref(part);
            continue;
        }
        parts[i] = part;
    }
    int32_t offs_n = tc_offsets_partitions();
    for (int i = 0; i < t->parts_n; i++) {
        if (!parts[i])
            continue;
        int r = tc_sync_part(parts[i]);
        if (r < 0)
            rc = r;
        else if (commit && t->offs_n > 0 && strcmp(t->parts[i].topic, OFFSETS_TOPIC) == 0)
            publish_offsets(tc, t, t->parts[i].partition, offs_n);
        sl_part_unref(parts[i]);
    }
    free(parts);
    return rc;
}

/* Ongoing -> Prepare* -> markers -> Complete*. */
int16_t tc_end_txn(struct sl_tc *tc, struct txn *t, bool commit)
{
    SL_ASSERT(t->state == TXN_ONGOING || t->state == TXN_PREPARE_COMMIT || t->state == TXN_PREPARE_ABORT);
    tc_v_clear_pid(t->pid); /* from here on, no more writes to the transaction */
    if (t->state == TXN_ONGOING) {
        t->state = commit ? TXN_PREPARE_COMMIT : TXN_PREPARE_ABORT;
        t->update_ms = sl_clock_wall_ms();
        if (tc_write_txn(tc, t) < 0) {
            t->state = TXN_ONGOING;
            return SL_KERR_COORDINATOR_NOT_AVAILABLE;
        }
    }
    commit = t->state == TXN_PREPARE_COMMIT;
    if (write_markers(tc, t, commit) < 0)
        return SL_KERR_COORDINATOR_NOT_AVAILABLE; /* stays Prepare*: retried by the tc_tick */
    t->state = commit ? TXN_COMPLETE_COMMIT : TXN_COMPLETE_ABORT;
    tc_clear_parts(t);
    tc_clear_offsets(t);
    t->update_ms = sl_clock_wall_ms();
    tc_write_txn(tc, t); /* a lost Complete record is redone from the Prepare one after a restart */
    SL_DEBUG("txn", "%s: %s (producer %lld epoch %d)", t->id, commit ? "committed" : "aborted", (long long)t->pid,
             t->epoch);
    return 0;
}

/* Bumps the epoch (a new producer id when it would overflow). */
int tc_bump_epoch(struct sl_tc *tc, struct txn *t)
{
    if (t->epoch >= INT16_MAX - 1 || t->pid < 0) {
        int64_t pid = sl_txn_pid_alloc_sync(tc->broker);
        if (pid < 0)
            return (int)pid;
        t->prev_pid = t->pid;
        t->pid = pid;
        t->epoch = 0;
    } else {
        t->epoch++;
    }
    tc_v_set_epoch(t->pid, t->epoch);
    return 0;
}

/* Aborts an ongoing transaction with a bumped epoch, fencing its producer. */
int16_t tc_fence_and_abort(struct sl_tc *tc, struct txn *t)
{
    if (t->state == TXN_ONGOING && tc_bump_epoch(tc, t) < 0)
        return SL_KERR_COORDINATOR_NOT_AVAILABLE;
    return tc_end_txn(tc, t, false);
}
