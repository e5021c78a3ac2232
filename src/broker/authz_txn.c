/*
 * authz_txn.c - Kafka's ACL rules for InitProducerId and the transaction
 * APIs, checked on the loop before the transaction coordinator (txn/tc.c)
 * sees the request:
 *
 *   InitProducerId          transactional: WRITE on the transactional id;
 *                           idempotent: IDEMPOTENT_WRITE on the cluster, or
 *                           WRITE on some topic or transactional id (KIP-679)
 *   AddPartitionsToTxn      WRITE transactional id; WRITE on each topic (one
 *                           refused topic fails the request: the others get
 *                           OPERATION_NOT_ATTEMPTED); v4+ (broker to broker)
 *                           needs CLUSTER_ACTION
 *   AddOffsetsToTxn         WRITE transactional id; READ group
 *   EndTxn                  WRITE transactional id
 *   TxnOffsetCommit         WRITE transactional id; READ group; READ on each
 *                           topic (refused topics fail, the rest commit)
 *   DescribeTransactions    DESCRIBE per transactional id
 *   ListTransactions        only ids the principal may DESCRIBE
 *
 * Thread: the call's loop.
 */
#include <string.h>

#include "base/arena.h"
#include "broker/authz.h"
#include "proto/gen/AddOffsetsToTxn.h"
#include "proto/gen/AddPartitionsToTxn.h"
#include "proto/gen/DescribeTransactions.h"
#include "proto/gen/EndTxn.h"
#include "proto/gen/InitProducerId.h"
#include "proto/gen/ListTransactions.h"
#include "proto/gen/TxnOffsetCommit.h"
#include "proto/gen/errors.h"

#define TXN_DENIED SL_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED

static bool txn_ok(struct sl_call *call, int8_t op, struct sl_slice id)
{
    return id.p && sl_authz(call, NULL, op, SL_ACL_RES_TRANSACTIONAL_ID, id);
}

/* ---- AddPartitionsToTxn (v0-3: one transaction, from the client) ------------ */

static bool add_partitions_refuse(struct sl_call *call)
{
    const struct sl_AddPartitionsToTxnRequest *req = call->request;
    struct sl_AddPartitionsToTxnResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    if (call->version >= 4) {
        if (sl_authz_cluster(call, SL_ACL_OP_CLUSTER_ACTION))
            return false;
        resp->ErrorCode = SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
        resp->ResultsByTransaction_n = 0;
        sl_call_respond(call);
        return true;
    }
    bool txn_denied = !txn_ok(call, SL_ACL_OP_WRITE, req->V3AndBelowTransactionalId);
    int32_t nt = req->V3AndBelowTopics_n > 0 ? req->V3AndBelowTopics_n : 0;
    bool *topic_denied = sl_arena_alloc(a, sizeof(bool) * (size_t)(nt + 1));
    if (!topic_denied) {
        sl_call_close(call, "out of memory authorizing AddPartitionsToTxn");
        return true;
    }
    bool any = txn_denied;
    for (int32_t i = 0; i < nt; i++) {
        topic_denied[i] =
            !sl_authz_topic(call, NULL, SL_ACL_OP_WRITE, req->V3AndBelowTopics[i].Name);
        any |= topic_denied[i];
    }
    if (!any)
        return false;
    resp->ResultsByTopicV3AndBelow =
        sl_arena_alloc(a, sizeof(*resp->ResultsByTopicV3AndBelow) * (size_t)(nt + 1));
    if (!resp->ResultsByTopicV3AndBelow) {
        sl_call_close(call, "out of memory authorizing AddPartitionsToTxn");
        return true;
    }
    resp->ResultsByTopicV3AndBelow_n = nt;
    for (int32_t i = 0; i < nt; i++) {
        const struct sl_AddPartitionsToTxnRequest_AddPartitionsToTxnTopic *t =
            &req->V3AndBelowTopics[i];
        struct sl_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult *r =
            &resp->ResultsByTopicV3AndBelow[i];
        sl_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult_init(r);
        r->Name = t->Name;
        int32_t np = t->Partitions_n > 0 ? t->Partitions_n : 0;
        r->ResultsByPartition =
            sl_arena_alloc(a, sizeof(*r->ResultsByPartition) * (size_t)(np + 1));
        r->ResultsByPartition_n = r->ResultsByPartition ? np : 0;
        int16_t err = txn_denied        ? TXN_DENIED
                      : topic_denied[i] ? SL_KERR_TOPIC_AUTHORIZATION_FAILED
                                        : SL_KERR_OPERATION_NOT_ATTEMPTED;
        for (int32_t j = 0; j < r->ResultsByPartition_n; j++) {
            sl_AddPartitionsToTxnResponse_AddPartitionsToTxnPartitionResult_init(
                &r->ResultsByPartition[j]);
            r->ResultsByPartition[j].PartitionIndex = t->Partitions[j];
            r->ResultsByPartition[j].PartitionErrorCode = err;
        }
    }
    sl_call_respond(call);
    return true;
}

/* ---- TxnOffsetCommit ------------------------------------------------------- */

struct txn_stripped {
    struct sl_TxnOffsetCommitRequest_TxnOffsetCommitRequestTopic *topics; /* refused */
    int32_t n;
    int16_t err;
};

static void txn_offset_commit_post(struct sl_call *call)
{
    struct sl_authz_state *as = call->authz;
    struct txn_stripped *st = as->stripped;
    struct sl_TxnOffsetCommitResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t have = resp->Topics_n > 0 ? resp->Topics_n : 0;
    struct sl_TxnOffsetCommitResponse_TxnOffsetCommitResponseTopic *all =
        sl_arena_alloc(a, sizeof(*all) * (size_t)(have + st->n + 1));
    if (!all)
        return;
    if (have)
        memcpy(all, resp->Topics, sizeof(*all) * (size_t)have);
    for (int32_t i = 0; i < st->n; i++) {
        struct sl_TxnOffsetCommitResponse_TxnOffsetCommitResponseTopic *t = &all[have + i];
        sl_TxnOffsetCommitResponse_TxnOffsetCommitResponseTopic_init(t);
        t->Name = st->topics[i].Name;
        int32_t np = st->topics[i].Partitions_n > 0 ? st->topics[i].Partitions_n : 0;
        t->Partitions = sl_arena_alloc(a, sizeof(*t->Partitions) * (size_t)(np + 1));
        t->Partitions_n = t->Partitions ? np : 0;
        for (int32_t j = 0; j < t->Partitions_n; j++) {
            sl_TxnOffsetCommitResponse_TxnOffsetCommitResponsePartition_init(&t->Partitions[j]);
            t->Partitions[j].PartitionIndex = st->topics[i].Partitions[j].PartitionIndex;
            t->Partitions[j].ErrorCode = st->err;
        }
    }
    resp->Topics = all;
    resp->Topics_n = have + st->n;
}

static bool txn_offset_commit_refuse(struct sl_call *call)
{
    struct sl_TxnOffsetCommitRequest *req = call->request;
    struct sl_TxnOffsetCommitResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int16_t whole = 0;
    if (!txn_ok(call, SL_ACL_OP_WRITE, req->TransactionalId))
        whole = TXN_DENIED;
    else if (!sl_authz_group(call, SL_ACL_OP_READ, req->GroupId))
        whole = SL_KERR_GROUP_AUTHORIZATION_FAILED;
    int32_t n = req->Topics_n > 0 ? req->Topics_n : 0;
    struct sl_authz_state *as = sl_authz_state(call);
    struct txn_stripped *st = sl_arena_alloc(a, sizeof(*st));
    if (!as || !st || !(st->topics = sl_arena_alloc(a, sizeof(*st->topics) * (size_t)(n + 1)))) {
        sl_call_close(call, "out of memory authorizing TxnOffsetCommit");
        return true;
    }
    st->err = whole ? whole : SL_KERR_TOPIC_AUTHORIZATION_FAILED;
    int32_t kept = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!whole && sl_authz_topic(call, NULL, SL_ACL_OP_READ, req->Topics[i].Name))
            req->Topics[kept++] = req->Topics[i];
        else
            st->topics[st->n++] = req->Topics[i];
    }
    if (st->n == 0 && !whole)
        return false;
    req->Topics_n = kept;
    as->stripped = st;
    as->post = txn_offset_commit_post;
    if (kept == 0) { /* nothing left for the coordinator */
        resp->Topics_n = 0;
        sl_call_respond(call);
        return true;
    }
    return false;
}

/* ---- describing and listing -------------------------------------------- */

static void describe_transactions_post(struct sl_call *call)
{
    struct sl_DescribeTransactionsResponse *resp = call->response;
    for (int32_t i = 0; i < resp->TransactionStates_n; i++) {
        struct sl_DescribeTransactionsResponse_TransactionState *s = &resp->TransactionStates[i];
        if (txn_ok(call, SL_ACL_OP_DESCRIBE, s->TransactionalId))
            continue;
        struct sl_slice id = s->TransactionalId;
        sl_DescribeTransactionsResponse_TransactionState_init(s);
        s->TransactionalId = id;
        s->ErrorCode = TXN_DENIED;
        s->TransactionState = sl_slice_cstr("");
        s->ProducerId = -1;
        s->ProducerEpoch = -1;
        s->Topics_n = 0;
    }
}

static void list_transactions_post(struct sl_call *call)
{
    struct sl_ListTransactionsResponse *resp = call->response;
    int32_t kept = 0;
    for (int32_t i = 0; i < resp->TransactionStates_n; i++)
        if (txn_ok(call, SL_ACL_OP_DESCRIBE, resp->TransactionStates[i].TransactionalId))
            resp->TransactionStates[kept++] = resp->TransactionStates[i];
    resp->TransactionStates_n = kept;
}

static bool set_post(struct sl_call *call, void (*post)(struct sl_call *call))
{
    struct sl_authz_state *as = sl_authz_state(call);
    if (!as) {
        sl_call_close(call, "out of memory authorizing a transaction request");
        return true;
    }
    as->post = post;
    return false;
}

/* ---- entry point ------------------------------------------------------------ */

static bool refuse(struct sl_call *call, int16_t *code, int16_t err)
{
    *code = err;
    sl_call_respond(call);
    return true;
}

bool sl_authz_txn_pre(struct sl_call *call)
{
    if (!sl_authz_enabled(call))
        return false;
    switch (call->api_key) {
    case SL_API_InitProducerId: {
        const struct sl_InitProducerIdRequest *req = call->request;
        struct sl_InitProducerIdResponse *resp = call->response;
        if (req->TransactionalId.p) {
            if (!txn_ok(call, SL_ACL_OP_WRITE, req->TransactionalId))
                return refuse(call, &resp->ErrorCode, TXN_DENIED);
            return false;
        }
        if (!sl_authz_cluster(call, SL_ACL_OP_IDEMPOTENT_WRITE) &&
            !sl_authz_any(call, SL_ACL_OP_WRITE, SL_ACL_RES_TOPIC) &&
            !sl_authz_any(call, SL_ACL_OP_WRITE, SL_ACL_RES_TRANSACTIONAL_ID))
            return refuse(call, &resp->ErrorCode, SL_KERR_CLUSTER_AUTHORIZATION_FAILED);
        return false;
    }
    case SL_API_AddPartitionsToTxn:
        return add_partitions_refuse(call);
    case SL_API_AddOffsetsToTxn: {
        const struct sl_AddOffsetsToTxnRequest *req = call->request;
        struct sl_AddOffsetsToTxnResponse *resp = call->response;
        if (!txn_ok(call, SL_ACL_OP_WRITE, req->TransactionalId))
            return refuse(call, &resp->ErrorCode, TXN_DENIED);
        if (!sl_authz_group(call, SL_ACL_OP_READ, req->GroupId))
            return refuse(call, &resp->ErrorCode, SL_KERR_GROUP_AUTHORIZATION_FAILED);
        return false;
    }
    case SL_API_EndTxn: {
        const struct sl_EndTxnRequest *req = call->request;
        struct sl_EndTxnResponse *resp = call->response;
        if (!txn_ok(call, SL_ACL_OP_WRITE, req->TransactionalId)) {
            resp->ProducerId = -1;
            resp->ProducerEpoch = -1;
            return refuse(call, &resp->ErrorCode, TXN_DENIED);
        }
        return false;
    }
    case SL_API_TxnOffsetCommit:
        return txn_offset_commit_refuse(call);
    case SL_API_DescribeTransactions:
        return set_post(call, describe_transactions_post);
    case SL_API_ListTransactions:
        return set_post(call, list_transactions_post);
    default:
        return false;
    }
}
