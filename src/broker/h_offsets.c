/*
 * h_offsets.c - ListOffsets (earliest, latest, max timestamp, by time) and
 * OffsetForLeaderEpoch, answered from the partition's log and indexes.
 * Offsets past the high watermark are never revealed to clients.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/arena.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "broker/parts.h"
#include "meta/image.h"
#include "proto/gen/ListOffsets.h"
#include "proto/gen/OffsetForLeaderEpoch.h"
#include "proto/gen/errors.h"
#include "record/batch.h"
#include "storage/log.h"
#include "storage/producer_state.h"

#define LATEST -1
#define EARLIEST -2
#define MAX_TIMESTAMP -3
#define EARLIEST_LOCAL -4

/* The hosted partition, or an error code. DESCRIBE on the topic comes
 * first, as in Kafka (ListOffsets and a consumer's OffsetForLeaderEpoch). */
static int16_t lookup(struct sl_call *call, const struct sl_image *img, struct sl_slice topic, int32_t index,
                      int32_t current_epoch, struct sl_part **out)
{
    *out = NULL;
    if (!sl_authz_topic(call, img, SL_ACL_OP_DESCRIBE, topic))
        return SL_KERR_TOPIC_AUTHORIZATION_FAILED;
    const struct sl_image_topic *t = sl_image_topic_by_name(img, topic);
    if (!t || index < 0 || index >= t->partitions_n)
        return SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    struct sl_part *p = sl_parts_get(call->broker->parts, &t->id, index);
    if (!p)
        return SL_KERR_NOT_LEADER_OR_FOLLOWER;
    int32_t epoch = __atomic_load_n(&p->leader_epoch, __ATOMIC_ACQUIRE);
    if (current_epoch >= 0 && current_epoch != epoch) {
        sl_part_unref(p);
        return current_epoch < epoch ? SL_KERR_FENCED_LEADER_EPOCH : SL_KERR_UNKNOWN_LEADER_EPOCH;
    }
    *out = p;
    return 0;
}

/* The batch at batch_offset narrowed to one record: the first whose
 * timestamp is >= ts (exact false) or == ts (exact true), as Kafka answers
 * per record while the indexes know batches. 0, or -ENOENT. */
static int find_in_batch(struct sl_log *log, int64_t batch_offset, int64_t hwm, int64_t ts, bool exact,
                         int64_t *offset, int64_t *ts_out)
{
    struct sl_obuf ob;
    sl_obuf_init(&ob);
    int rc = sl_log_read(log, batch_offset, hwm, 1, &ob);
    uint8_t *buf = NULL;
    size_t len = ob.total_len; /* sl_obuf_fini below clears it */
    if (rc == 0 && ob.total_len >= SL_BATCH_HEADER_SIZE && (buf = malloc(ob.total_len)))
        rc = sl_obuf_flatten(&ob, buf);
    else
        rc = rc < 0 ? rc : -ENOENT;
    sl_obuf_fini(&ob);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    struct sl_batch_hdr h;
    sl_batch_hdr_decode(buf, SL_BATCH_HEADER_SIZE, &h);
    size_t size = sl_batch_size(&h);
    struct sl_batch_iter it = {0}; /* fini is safe even when init is not reached */
    rc = -ENOENT;
    if (size <= len && sl_batch_iter_init(&it, buf, size, 0) == 0) {
        struct sl_record r;
        while (sl_batch_iter_next(&it, &r) == 1) {
            if (r.offset >= hwm)
                break;
            if (exact ? r.timestamp == ts : r.timestamp >= ts) {
                *offset = r.offset;
                *ts_out = r.timestamp;
                rc = 0;
                break;
            }
        }
    }
    sl_batch_iter_fini(&it);
    free(buf);
    return rc;
}

static void list_one(struct sl_part *p, int64_t ts, bool read_committed,
                     struct sl_ListOffsetsResponse_ListOffsetsPartitionResponse *r)
{
    int64_t hwm = sl_part_hwm(p);
    if (read_committed && sl_pstate_first_unstable(p->pstate) < hwm)
        hwm = sl_pstate_first_unstable(p->pstate); /* the last stable offset bounds read_committed */
    r->LeaderEpoch = __atomic_load_n(&p->leader_epoch, __ATOMIC_ACQUIRE);
    r->Timestamp = -1;
    switch (ts) {
    case LATEST:
        r->Offset = hwm;
        return;
    case EARLIEST:
    case EARLIEST_LOCAL:
        r->Offset = sl_log_start_offset(p->log);
        return;
    case MAX_TIMESTAMP: {
        int64_t off, t;
        if (sl_log_max_timestamp(p->log, &off, &t) == 0 && off < hwm) {
            int64_t roff, rts;
            if (find_in_batch(p->log, off, hwm, t, true, &roff, &rts) == 0)
                off = roff;
            r->Offset = off;
            r->Timestamp = t;
        } else {
            r->Offset = -1;
        }
        return;
    }
    default: {
        int64_t off, t;
        int rc = ts >= 0 ? sl_log_offset_for_time(p->log, ts, &off, &t) : -EINVAL;
        if (rc == 0 && off < hwm)
            rc = find_in_batch(p->log, off, hwm, ts, false, &off, &t);
        if (rc == 0 && off < hwm) {
            r->Offset = off;
            r->Timestamp = t;
        } else if (rc == -EINVAL) {
            r->ErrorCode = SL_KERR_INVALID_REQUEST;
        } else {
            r->Offset = -1; /* no record at or after ts */
        }
    }
    }
}

void sl_handle_ListOffsets(struct sl_call *call)
{
    struct sl_ListOffsetsRequest *req = call->request;
    struct sl_ListOffsetsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t nt = req->Topics_n > 0 ? req->Topics_n : 0;
    resp->Topics = sl_arena_alloc(a, sizeof(*resp->Topics) * (size_t)(nt + 1));
    if (!resp->Topics)
        goto nomem;
    resp->Topics_n = nt;
    struct sl_image *img = sl_image_acquire();
    for (int32_t i = 0; i < nt; i++) {
        struct sl_ListOffsetsRequest_ListOffsetsTopic *rt = &req->Topics[i];
        struct sl_ListOffsetsResponse_ListOffsetsTopicResponse *tr = &resp->Topics[i];
        sl_ListOffsetsResponse_ListOffsetsTopicResponse_init(tr);
        tr->Name = rt->Name;
        int32_t np = rt->Partitions_n > 0 ? rt->Partitions_n : 0;
        tr->Partitions = sl_arena_alloc(a, sizeof(*tr->Partitions) * (size_t)(np + 1));
        if (!tr->Partitions) {
            sl_image_release(img);
            goto nomem;
        }
        tr->Partitions_n = np;
        for (int32_t j = 0; j < np; j++) {
            struct sl_ListOffsetsRequest_ListOffsetsPartition *rp = &rt->Partitions[j];
            struct sl_ListOffsetsResponse_ListOffsetsPartitionResponse *r = &tr->Partitions[j];
            sl_ListOffsetsResponse_ListOffsetsPartitionResponse_init(r);
            r->PartitionIndex = rp->PartitionIndex;
            struct sl_part *p;
            r->ErrorCode = lookup(call, img, rt->Name, rp->PartitionIndex, rp->CurrentLeaderEpoch, &p);
            if (p) {
                list_one(p, rp->Timestamp, call->version >= 2 && req->IsolationLevel == 1, r);
                sl_part_unref(p);
            }
        }
    }
    sl_image_release(img);
    sl_call_respond(call);
    return;
nomem:
    sl_call_close(call, "out of memory for ListOffsets");
}

void sl_handle_OffsetForLeaderEpoch(struct sl_call *call)
{
    struct sl_OffsetForLeaderEpochRequest *req = call->request;
    struct sl_OffsetForLeaderEpochResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t nt = req->Topics_n > 0 ? req->Topics_n : 0;
    resp->Topics = sl_arena_alloc(a, sizeof(*resp->Topics) * (size_t)(nt + 1));
    if (!resp->Topics)
        goto nomem;
    resp->Topics_n = nt;
    /* a follower's request (v3+ ReplicaId >= 0) needs CLUSTER_ACTION, as in Kafka */
    bool follower_denied = call->version >= 3 && req->ReplicaId >= 0 &&
                           !sl_authz_cluster(call, SL_ACL_OP_CLUSTER_ACTION);
    struct sl_image *img = sl_image_acquire();
    for (int32_t i = 0; i < nt; i++) {
        struct sl_OffsetForLeaderEpochRequest_OffsetForLeaderTopic *rt = &req->Topics[i];
        struct sl_OffsetForLeaderEpochResponse_OffsetForLeaderTopicResult *tr = &resp->Topics[i];
        sl_OffsetForLeaderEpochResponse_OffsetForLeaderTopicResult_init(tr);
        tr->Topic = rt->Topic;
        int32_t np = rt->Partitions_n > 0 ? rt->Partitions_n : 0;
        tr->Partitions = sl_arena_alloc(a, sizeof(*tr->Partitions) * (size_t)(np + 1));
        if (!tr->Partitions) {
            sl_image_release(img);
            goto nomem;
        }
        tr->Partitions_n = np;
        for (int32_t j = 0; j < np; j++) {
            struct sl_OffsetForLeaderEpochRequest_OffsetForLeaderPartition *rp = &rt->Partitions[j];
            struct sl_OffsetForLeaderEpochResponse_EpochEndOffset *r = &tr->Partitions[j];
            sl_OffsetForLeaderEpochResponse_EpochEndOffset_init(r);
            r->Partition = rp->Partition;
            struct sl_part *p = NULL;
            if (follower_denied)
                r->ErrorCode = SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
            else
                r->ErrorCode = lookup(call, img, rt->Topic, rp->Partition, rp->CurrentLeaderEpoch, &p);
            if (!p)
                continue;
            int64_t end;
            int32_t found;
            pthread_mutex_lock(&p->lock);
            sl_log_end_offset_for_epoch(p->log, rp->LeaderEpoch, &end, &found);
            pthread_mutex_unlock(&p->lock);
            r->LeaderEpoch = found;
            r->EndOffset = end;
            sl_part_unref(p);
        }
    }
    sl_image_release(img);
    sl_call_respond(call);
    return;
nomem:
    sl_call_close(call, "out of memory for OffsetForLeaderEpoch");
}
