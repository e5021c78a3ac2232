/*
 * coord.h - the group coordinator of one broker: a thread that owns all
 * group state (struct sl_gc, see group.h) and the __consumer_offsets
 * partitions it writes, loads and serves.
 *
 * Threads. One coordinator thread runs every group operation, timer and
 * write completion, in order, so group state needs no lock. Handlers on the
 * loop threads hand it operations with sl_coord_submit (a mutex-protected
 * queue and a condition variable; the wait is timed to the earliest group
 * timer). Answers go back by op->done, which the broker's handlers make post
 * to each request's own loop: members of one group usually sit on different
 * loops. Writes to __consumer_offsets are appended on the coordinator thread
 * (under the partition's lock, like Produce) and synced by the flusher,
 * whose completion comes back through the same queue. Loading a partition
 * reads its log on the coordinator thread; requests for it wait behind the
 * load in the queue instead of getting COORDINATOR_LOAD_IN_PROGRESS.
 *
 * Lifetime. The coordinator starts on first use (sl_coord_get) - the broker
 * struct has no field for it - and sl_coord_shutdown stops it: call it after
 * sl_flusher_free (so every write completion has been queued) and before
 * sl_net_free (the answers it sends are posted to the loops).
 */
#ifndef SL_COORD_COORD_H
#define SL_COORD_COORD_H

#include "coord/group.h"

struct sl_broker;
struct sl_coord;

/* The coordinator of broker, started on first call. Thread: any. */
struct sl_coord *sl_coord_get(struct sl_broker *broker);
/* Queues op; op->done runs on the coordinator thread (or on the calling
 * thread, with NOT_COORDINATOR, once the coordinator is stopping). Thread: any. */
void sl_coord_submit(struct sl_coord *coord, struct sl_gop *op);
/* Runs fn(gc, arg) on the coordinator thread, in queue order; when the
 * coordinator is stopping, fn(NULL, arg) runs on the calling thread instead
 * (to free arg). The transaction coordinator (txn/tc.c) applies the offsets
 * of a committed transaction this way. Thread: any. */
void sl_coord_call(struct sl_coord *coord, void (*fn)(struct sl_gc *gc, void *arg), void *arg);
/* Stops the coordinator if it was started: runs what is queued, answers
 * every parked operation with NOT_COORDINATOR, frees group state, joins the
 * thread. Thread: main, see above. */
void sl_coord_shutdown(void);

#endif
