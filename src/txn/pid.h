/*
 * pid.h - producer ids for InitProducerId, handed out from blocks of 1000
 * that the controller allocates in the metadata log (ProducerIdsRecord,
 * whose NextProducerId the image keeps), as Kafka's ProducerIdManager.
 * A restart never reuses an id: the rest of a block in use is skipped.
 */
#ifndef SL_TXN_PID_H
#define SL_TXN_PID_H

#include <stdbool.h>
#include <stdint.h>

struct sl_broker;

#define SL_TXN_PID_BLOCK 1000

/* Takes an id from the current block: true and *pid, or false when the
 * block is used up. Thread: any. */
bool sl_txn_pid_try(int64_t *pid);
/* Allocates an id, writing a new block through the controller if needed,
 * and calls done(arg, pid or -errno) on the controller thread (or at once
 * when the block had one). Thread: any but the controller. */
void sl_txn_pid_alloc(struct sl_broker *broker, void (*done)(void *arg, int64_t pid), void *arg);
/* The same, waiting for the answer. Thread: not a loop, not the controller. */
int64_t sl_txn_pid_alloc_sync(struct sl_broker *broker);

#endif
