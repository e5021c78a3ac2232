/*
 * log.h - one partition's log: a directory <topic>-<partition>/ of segments
 * in Kafka's layout (see docs/storage.md).
 *
 * Threads and locks: a single writer (append, roll, truncate_to,
 * advance_start, close) under the partition's lock, owned by the caller.
 * Readers (read, offset_for_time, max_timestamp, the offset getters) run on
 * any thread without that lock: they see data up to the offsets published
 * with release semantics and take a short internal mutex only to pick a
 * segment and reference it, never across I/O. sl_log_sync runs on the
 * flusher thread, concurrently with the writer and readers.
 */
#ifndef SL_STORAGE_LOG_H
#define SL_STORAGE_LOG_H

#include "base/obuf.h"

#include <stddef.h>
#include <stdint.h>

struct sl_log;

struct sl_log_conf {
    int64_t segment_bytes;        /* log.segment.bytes, 1 GiB */
    int64_t segment_ms;           /* log.roll.ms, 7 days */
    int64_t segment_jitter_ms;    /* log.roll.jitter.ms, 0: random ms subtracted from segment_ms per segment */
    int64_t segment_index_bytes;  /* log.index.size.max.bytes, 10 MiB */
    int32_t index_interval_bytes; /* log.index.interval.bytes, 4096 */
    int64_t flush_messages;       /* log.flush.interval.messages (for the caller's policy) */
    int64_t flush_ms;             /* log.flush.interval.ms (for the caller's policy) */
    int64_t recovery_point;       /* from recovery-point-offset-checkpoint; -1 unknown */
    int64_t log_start_offset;     /* from log-start-offset-checkpoint; -1 unknown */
    bool strict_recovery;         /* a corrupt batch found by recovery that is not a torn last
                                     batch (data follows it) fails the open with -EBADMSG
                                     instead of truncating it and all after (metadata log) */
    int shutdown_marker;          /* SL_LOG_MARKER_OWN (the default): the log keeps its own
                                     clean-shutdown marker in its directory. Otherwise the
                                     caller keeps one marker for a whole log dir and says
                                     whether the last shutdown was clean (_CLEAN, _UNCLEAN):
                                     the log writes no marker, and close syncs the .log only
                                     (the caller syncs the file system, then writes its marker) */
};

void sl_log_conf_default(struct sl_log_conf *conf);

/* Replaces the segment settings (segment_bytes, segment_ms,
 * segment_jitter_ms, segment_index_bytes, index_interval_bytes, flush_*)
 * of an open log, as a dynamic topic config change does in Kafka: the next
 * append decides a roll and places index entries with them; a new
 * segment's index size and jitter apply from the next roll (the active
 * segment's preallocated index keeps its size). recovery_point and
 * log_start_offset are ignored. Writer only (the partition's lock). */
void sl_log_set_conf(struct sl_log *log, const struct sl_log_conf *conf);

/* Opens the log in dir (created if missing), recovering it as needed: with
 * the clean-shutdown marker the files are trusted (indexes rebuilt only when
 * missing or inconsistent); otherwise every segment from the recovery point
 * (or the last segment when unknown) is CRC-scanned, a torn or corrupt tail
 * truncated and later segments deleted. 0 or -errno. */
int sl_log_open(const char *dir, const struct sl_log_conf *conf, struct sl_log **out);
/* Clean close: sync, trim indexes, write the clean-shutdown marker (with
 * SL_LOG_MARKER_OWN), free. 0, or -errno when the close was not clean (the
 * next open recovers). */
int sl_log_close(struct sl_log *log);

/* Appends one validated batch (batch[0..len), modified in place: baseOffset
 * := end offset, partitionLeaderEpoch := leader_epoch unless it is < 0).
 * Rolls the segment when full or old. On -ENOSPC/-EIO the log is as before.
 * Writer only. */
int sl_log_append(struct sl_log *log, uint8_t *batch, size_t len, int32_t leader_epoch,
                  int64_t *base_offset_out);

/* Starts a new active segment at the end offset unless the active one is
 * empty (retention of an expired active segment, Kafka's roll()). Writer
 * only. 0 or -errno. */
int sl_log_roll(struct sl_log *log);

int64_t sl_log_end_offset(const struct sl_log *log);     /* LEO; acquire */
int64_t sl_log_start_offset(const struct sl_log *log);   /* acquire */
int64_t sl_log_durable_offset(const struct sl_log *log); /* all below is fdatasync'ed */

/* Appends to out the file ranges of the batches from the one containing
 * `offset`, stopping before a batch whose last offset is >= max_offset, at
 * most max_bytes except that the first batch is always whole. Stays within
 * one segment (as Kafka does); nothing is appended at the end of the log.
 * Each range references its segment until released. Bytes read from disk
 * that this process did not write are CRC-checked on their first read
 * (verify.c): the read stops before a corrupt batch. 0, -ERANGE (offset
 * outside [start, end]), -EBADMSG (the first batch is corrupt), -errno.
 * Any thread. */
int sl_log_read(struct sl_log *log, int64_t offset, int64_t max_offset, size_t max_bytes,
                struct sl_obuf *out);

/* First offset of the first batch with maxTimestamp >= ts_ms (*ts_out = that
 * maxTimestamp). -ENOENT when none. Any thread. */
int sl_log_offset_for_time(struct sl_log *log, int64_t ts_ms, int64_t *offset, int64_t *ts_out);
/* Largest timestamp in the log and the offset holding it (ListOffsets -3).
 * -ENOENT when the log is empty. Any thread. */
int sl_log_max_timestamp(struct sl_log *log, int64_t *offset, int64_t *ts);

/* fdatasyncs what is unsynced and publishes the durable offset. Thread: the
 * flusher (or any one thread at a time; serialized internally). */
int sl_log_sync(struct sl_log *log);

/* Removes every batch with offsets >= offset (the batch containing it too).
 * Readers must be bounded below the new end (they are: the high watermark
 * never exceeds it). Writer only. 0, -ERANGE, -errno. */
int sl_log_truncate_to(struct sl_log *log, int64_t offset);
/* Moves the log start offset up (DeleteRecords, retention) and deletes the
 * segments wholly below it. Writer only. 0, -ERANGE, -errno. */
int sl_log_advance_start(struct sl_log *log, int64_t offset);

/* Leader epoch cache, for OffsetForLeaderEpoch. *end_offset is the start of
 * the first epoch after the largest epoch <= `epoch` (the LEO for the latest),
 * *found_epoch that epoch; both -1 when epoch is below every known epoch.
 * Writer lock. */
void sl_log_end_offset_for_epoch(struct sl_log *log, int32_t epoch, int64_t *end_offset,
                                 int32_t *found_epoch);
int32_t sl_log_latest_epoch(const struct sl_log *log); /* -1 when none */

/* Bytes CRC-scanned by recovery when the log was opened (0 after a clean
 * shutdown), for tests and metrics. */
uint64_t sl_log_recovered_bytes(const struct sl_log *log);
/* Number of segments. Any thread. */
size_t sl_log_segment_count(struct sl_log *log);
/* Bytes of complete batches in all segments (Kafka's Log Size). Any thread;
 * takes the segment-list mutex for the sum only. */
uint64_t sl_log_size_bytes(struct sl_log *log);
/* Bytes appended since open that a completed sync has made durable, for
 * the flusher's bytes-synced counter. Any thread. */
uint64_t sl_log_synced_bytes(const struct sl_log *log);

#define SL_LOG_CLEAN_SHUTDOWN_FILE ".sluice_cleanshutdown"

enum { SL_LOG_MARKER_OWN = 0, SL_LOG_MARKER_CLEAN, SL_LOG_MARKER_UNCLEAN };

#endif
