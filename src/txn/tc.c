/*
 * tc.c - the transaction coordinator (see tc.h).
 */
#include "txn/tc.h"

#include "broker/broker.h"
#include "proto/gen/InitProducerId.h"
#include "proto/gen/errors.h"

void sl_txn_handle(struct sl_call *call)
{
    struct sl_InitProducerIdResponse *resp = call->response;
    resp->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
    sl_call_respond(call);
}
