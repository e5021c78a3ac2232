/*
 * tc.h - the transaction coordinator: transactional ids, their producer ids
 * and epochs, and the state machine of their transactions, kept in the
 * compacted topic __transaction_state (TransactionLogKey/Value records,
 * partition = abs(javaHash(transactional.id)) % partitions), as Kafka's
 * TransactionCoordinator.
 *
 * Transaction states (Kafka's TransactionState; the number is the
 * TransactionStatus stored in the log), with the function of each move:
 *
 *   (none) --init_pid--> Empty --add_partitions--> Ongoing
 *   Ongoing --end_txn--> PrepareCommit --markers--> CompleteCommit
 *   Ongoing --end_txn / timeout / init_pid (fencing)--> PrepareAbort --markers--> CompleteAbort
 *   Complete* / Empty --add_partitions--> Ongoing;  --init_pid--> Empty (epoch + 1)
 *
 * Every move is written (and synced) to __transaction_state before it is
 * acknowledged. Markers (COMMIT/ABORT control batches) are written to every
 * partition of the transaction, __consumer_offsets included, between the
 * Prepare and the Complete record; a restart finds a Prepare record and
 * finishes the job before the broker says ready.
 *
 * Threads. One coordinator thread owns the state and does all I/O
 * (appends and fsyncs of its own, blocking that thread only); loop threads
 * hand it calls and get the answer posted back. sl_txn_verify runs on the
 * loops (Produce) against a small table of ongoing transactions' partitions
 * and producer epochs that the coordinator thread keeps up to date under a
 * mutex it never holds across I/O.
 */
#ifndef SL_TXN_TC_H
#define SL_TXN_TC_H

#include <stdint.h>

#include "base/slice.h"

struct sl_call;
struct sl_broker;

/* Starts the coordinator: loads __transaction_state if it exists and
 * completes transactions found half-way (Prepare*). Thread: main, after the
 * partitions are open and the loops started, before "ready". 0 or -errno. */
int  sl_txn_start(struct sl_broker *broker);
/* Stops the coordinator thread after answering what is queued. Thread:
 * main, after sl_net_stop and before the controller closes. */
void sl_txn_shutdown(void);

/* Takes over a transactional InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn, EndTxn, TxnOffsetCommit, DescribeTransactions or
 * ListTransactions call and answers it on its loop. Thread: a loop. */
void sl_txn_handle(struct sl_call *call);

/* KIP-890 part 1: may a transactional batch of producer_id/epoch be
 * appended to topic-partition? 0 when the partition is in the producer's
 * ongoing transaction, else INVALID_PRODUCER_EPOCH (stale epoch) or
 * INVALID_TXN_STATE. Thread: any (a loop, on Produce). */
int16_t sl_txn_verify(int64_t producer_id, int16_t epoch, struct sl_slice topic, int32_t partition);

#endif
