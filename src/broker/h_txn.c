/*
 * h_txn.c - InitProducerId, and the transaction APIs handed to the
 * transaction coordinator (txn/tc.h): AddPartitionsToTxn, AddOffsetsToTxn,
 * EndTxn, TxnOffsetCommit, DescribeTransactions, ListTransactions; and
 * DescribeProducers, answered here from each partition's producer state.
 *
 * A non-transactional InitProducerId gets a fresh producer id with epoch 0
 * (Kafka's rule for idempotent producers, also when they bump the epoch
 * after KIP-360); the id block comes from the controller (txn/pid.h), and
 * when a new block must be written the answer is posted back to the loop.
 */
#include <string.h>

#include "base/arena.h"
#include "base/diag.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "broker/parts.h"
#include "meta/image.h"
#include "proto/gen/DescribeProducers.h"
#include "proto/gen/InitProducerId.h"
#include "proto/gen/errors.h"
#include "storage/producer_state.h"
#include "txn/pid.h"
#include "txn/tc.h"

static void pid_done(void *arg, int64_t pid)
{
    struct sl_call *call = arg;
    struct sl_InitProducerIdResponse *resp = call->response;
    if (pid < 0) {
        resp->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        resp->ProducerId = pid;
        resp->ProducerEpoch = 0;
    }
    sl_call_respond_later(call);
}

void sl_handle_InitProducerId(struct sl_call *call)
{
    struct sl_InitProducerIdRequest *req = call->request;
    struct sl_InitProducerIdResponse *resp = call->response;
    resp->ProducerId = -1;
    resp->ProducerEpoch = -1;
    if (req->TransactionalId.p && req->TransactionalId.len == 0) {
        resp->ErrorCode = SL_KERR_INVALID_REQUEST;
        sl_call_respond(call);
        return;
    }
    if (sl_authz_txn_pre(call))
        return; /* refused and answered */
    if (req->TransactionalId.p) {
        sl_txn_handle(call);
        return;
    }
    int64_t pid;
    if (sl_txn_pid_try(&pid)) {
        resp->ProducerId = pid;
        resp->ProducerEpoch = 0;
        sl_call_respond(call);
        return;
    }
    sl_txn_pid_alloc(call->broker, pid_done, call);
}

/* AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit,
 * DescribeTransactions, ListTransactions: the coordinator thread's. */
void sl_handle_TxnCoordinator(struct sl_call *call)
{
    if (sl_authz_txn_pre(call))
        return; /* refused and answered */
    sl_txn_handle(call);
}

/* ---- DescribeProducers ------------------------------------------------------------- */

struct collect {
    struct sl_arena *a;
    struct sl_DescribeProducersResponse_PartitionResponse *r;
    int32_t cap;
};

static void collect_one(void *arg, const struct sl_pstate_info *info)
{
    struct collect *c = arg;
    if (c->r->ActiveProducers_n >= c->cap)
        return;
    struct sl_DescribeProducersResponse_ProducerState *s = &c->r->ActiveProducers[c->r->ActiveProducers_n++];
    sl_DescribeProducersResponse_ProducerState_init(s);
    s->ProducerId = info->producer_id;
    s->ProducerEpoch = info->epoch;
    s->LastSequence = info->last_sequence;
    s->LastTimestamp = info->last_timestamp_ms;
    s->CoordinatorEpoch = info->coordinator_epoch;
    s->CurrentTxnStartOffset = info->txn_first_offset;
}

void sl_handle_DescribeProducers(struct sl_call *call)
{
    struct sl_DescribeProducersRequest *req = call->request;
    struct sl_DescribeProducersResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t nt = req->Topics_n > 0 ? req->Topics_n : 0;
    resp->Topics = sl_arena_alloc(a, sizeof(*resp->Topics) * (size_t)(nt + 1));
    if (!resp->Topics) {
        sl_call_close(call, "out of memory for DescribeProducers");
        return;
    }
    resp->Topics_n = nt;
    struct sl_image *img = sl_image_acquire();
    for (int32_t i = 0; i < nt; i++) {
        struct sl_DescribeProducersRequest_TopicRequest *rt = &req->Topics[i];
        struct sl_DescribeProducersResponse_TopicResponse *tr = &resp->Topics[i];
        sl_DescribeProducersResponse_TopicResponse_init(tr);
        tr->Name = rt->Name;
        int32_t np = rt->PartitionIndexes_n > 0 ? rt->PartitionIndexes_n : 0;
        tr->Partitions = sl_arena_alloc(a, sizeof(*tr->Partitions) * (size_t)(np + 1));
        tr->Partitions_n = tr->Partitions ? np : 0;
        const struct sl_image_topic *t = sl_image_topic_by_name(img, rt->Name);
        bool denied = !sl_authz_topic(call, img, SL_ACL_OP_READ, rt->Name);
        for (int32_t j = 0; j < tr->Partitions_n; j++) {
            struct sl_DescribeProducersResponse_PartitionResponse *r = &tr->Partitions[j];
            sl_DescribeProducersResponse_PartitionResponse_init(r);
            r->PartitionIndex = rt->PartitionIndexes[j];
            r->ActiveProducers_n = 0;
            struct sl_part *part = NULL;
            if (denied) {
                r->ErrorCode = SL_KERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            if (!t || r->PartitionIndex < 0 || r->PartitionIndex >= t->partitions_n) {
                r->ErrorCode = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (!(part = sl_parts_get(call->broker->parts, &t->id, r->PartitionIndex))) {
                r->ErrorCode = SL_KERR_NOT_LEADER_OR_FOLLOWER;
                continue;
            }
            pthread_mutex_lock(&part->lock);
            struct collect c = {a, r, (int32_t)sl_pstate_count(part->pstate)};
            r->ActiveProducers = sl_arena_alloc(a, sizeof(*r->ActiveProducers) * (size_t)(c.cap + 1));
            if (r->ActiveProducers)
                sl_pstate_each(part->pstate, collect_one, &c);
            pthread_mutex_unlock(&part->lock);
            sl_part_unref(part);
        }
    }
    sl_image_release(img);
    sl_call_respond(call);
}
