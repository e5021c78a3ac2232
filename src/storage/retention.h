/*
 * retention.h - deleting whole old segments of a partition log, as Kafka's
 * retention.ms (judged by each segment's largest timestamp) and
 * retention.bytes (per partition) ask. Segments go from the oldest, only
 * while each one qualifies, and only below the high watermark; the active
 * segment goes only when all of the log qualifies, after a roll (so the
 * log keeps a fresh, empty active segment and the end offset).
 */
#ifndef SL_STORAGE_RETENTION_H
#define SL_STORAGE_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_log;

/* What the decision needs to know of one segment. */
struct sl_ret_seg {
    int64_t base_offset; /* first offset the segment may hold */
    uint64_t size;       /* bytes of batches */
    int64_t max_ts_ms;   /* largest timestamp (file mtime when it has none), -1 unknown */
};

/* Kafka's deletableSegments for the time and size rules together. segs[n-1]
 * is the active segment; log_end the LEO; hwm bounds what may go (a segment
 * goes only if everything in it is below hwm). retention_ms / retention_bytes
 * < 0 disable a rule. Returns how many segments from the oldest may be
 * deleted; *roll is set when that is all of them (the active one included:
 * roll first, then delete). Pure. */
size_t sl_retention_plan(const struct sl_ret_seg *segs, size_t n, int64_t log_end, int64_t hwm,
                         int64_t now_ms, int64_t retention_ms, int64_t retention_bytes, bool *roll);

/* Applies the plan to log: rolls when needed, then advances the log start
 * offset to the first kept segment (sl_log_advance_start deletes the rest).
 * *new_start gets the log start offset afterwards, *deleted the segments
 * removed. Writer only (the partition's lock held). 0 or -errno. */
int sl_log_apply_retention(struct sl_log *log, int64_t now_ms, int64_t hwm, int64_t retention_ms,
                           int64_t retention_bytes, int64_t *new_start, size_t *deleted);

#endif
