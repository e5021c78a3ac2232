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
#include "broker/handlers.h"
#include "broker/parts.h"
#include "meta/image.h"
#include "proto/gen/InitProducerId.h"
#include "proto/gen/errors.h"
#include "txn/pid.h"
#include "txn/tc.h"

static void respond_on_loop(void *arg)
{
    sl_call_respond(arg);
}

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
    sl_loop_post(call->req->loop, respond_on_loop, call);
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
