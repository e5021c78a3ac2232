/*
 * tc.h - the transaction coordinator: transactional ids, their producer ids
 * and epochs, and the state machine of their transactions, kept in
 * __transaction_state.
 */
#ifndef SL_TXN_TC_H
#define SL_TXN_TC_H

struct sl_call;

/* Takes over a transactional InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn, EndTxn, TxnOffsetCommit, DescribeTransactions or
 * ListTransactions call and answers it on its loop. Thread: a loop. */
void sl_txn_handle(struct sl_call *call);

#endif
