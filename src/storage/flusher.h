/*
 * flusher.h - group commit: one background thread that fdatasyncs logs on
 * behalf of waiters, so an event loop never blocks on disk I/O.
 *
 * A waiter asks for a log to be durable up to `offset` (exclusive: usually
 * the end offset after its append). The flusher takes every queued request,
 * runs one sl_log_sync per log for all of them, and calls each done(arg, 0)
 * ON THE FLUSHER THREAD once sl_log_durable_offset(log) >= offset (err < 0
 * when the sync failed; -ERANGE if the log never reached offset). Requests
 * arriving during a sync wait for the next one. The caller posts the
 * completion back to its own loop (eventfd).
 * A log must stay open until all its requests have completed.
 */
#ifndef SL_STORAGE_FLUSHER_H
#define SL_STORAGE_FLUSHER_H

#include <stdint.h>

#include "metrics/hist.h"

struct sl_flusher;
struct sl_log;

/* Starts the thread. 0, -ENOMEM, -EAGAIN. */
int sl_flusher_new(struct sl_flusher **out);
/* Completes queued requests, stops and joins the thread, frees. */
void sl_flusher_free(struct sl_flusher *fl);
/* Queues a request; never blocks on I/O (a short mutex only). Thread: any.
 * Allocation failure calls done(arg, -ENOMEM) before returning. */
void sl_flusher_request(struct sl_flusher *fl, struct sl_log *log, int64_t offset,
                        void (*done)(void *arg, int err), void *arg);
/* Number of sl_log_sync calls made, for tests and metrics. */
uint64_t sl_flusher_syncs(struct sl_flusher *fl);
/* Time of each sl_log_sync (Kafka's LogFlushRateAndTimeMs), ns; read with
 * sl_hist_read from any thread. */
const struct sl_hist *sl_flusher_sync_hist(struct sl_flusher *fl);
/* Batch bytes made durable by this flusher's syncs. Thread: any. */
uint64_t sl_flusher_synced_bytes(struct sl_flusher *fl);

#endif
