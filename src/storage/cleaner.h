/*
 * cleaner.h - log compaction of one partition log (Kafka's log cleaner):
 * keeps the latest record of every key, drops tombstones once they are
 * older than delete.retention.ms, and preserves offsets (the holes are
 * normal; batches keep their base offset and lastOffsetDelta).
 *
 * A pass: snapshot the segment list -> the cleanable range (closed segments
 * wholly below max_offset and older than min.compaction.lag.ms) -> dirty
 * ratio check (min.cleanable.dirty.ratio, or max.compaction.lag.ms passed)
 * -> offset map (key -> latest offset) over the dirty part -> each group of
 * segments from the log start is rewritten into <base>.log.cleaned (+ its
 * .index/.timeindex), synced, and swapped in (cleaner_swap.c):
 *
 *   .cleaned --rename--> .swap        commit point: from here recovery finishes
 *   old segments --rename--> .deleted
 *   .swap --rename--> final name      (.index, .timeindex, then .log)
 *   segment list updated; old files unlinked, still readable by holders
 *
 * Recovery at open (sl_log_finish_swaps) does what Kafka's does: deletes
 * .cleaned and .deleted files, and for every .log.swap deletes the old
 * segments its offsets cover and renames it into place.
 *
 * Threads: the cleaner thread reads segment files without any lock and
 * takes writer_lock (the partition's lock) only for the swap, where it
 * checks that the segments it cleaned are still in the log (retention or
 * truncation may have removed them meanwhile: the group is then dropped).
 */
#ifndef SL_STORAGE_CLEANER_H
#define SL_STORAGE_CLEANER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_log;
struct sl_seg;

struct sl_clean_conf {
    int64_t now_ms;                /* wall clock of this pass */
    int64_t delete_retention_ms;   /* delete.retention.ms: tombstones kept this long */
    int64_t min_compaction_lag_ms; /* min.compaction.lag.ms: newer segments not cleaned */
    int64_t max_compaction_lag_ms; /* max.compaction.lag.ms: dirty data older forces a pass */
    double min_cleanable_ratio;    /* min.cleanable.dirty.ratio */
    int64_t max_offset;            /* clean only segments wholly below (hwm, durable offset) */
    size_t map_max_entries;        /* offset map bound (log.cleaner.dedupe.buffer.size / 24); 0 = default */
    bool force;                    /* clean whatever the ratio (tests, admin) */
    const _Atomic bool *stop;      /* polled between batches; NULL = never */
    pthread_mutex_t *writer_lock;  /* the partition's lock, for the swap; NULL = caller is the writer */
};

struct sl_clean_stats {
    int64_t first_dirty;       /* where the dirty part started */
    int64_t clean_end;         /* cleaned up to here: the next pass's first dirty offset */
    double dirty_ratio;        /* dirty bytes / cleanable bytes before the pass */
    uint64_t bytes_read;       /* batch bytes read */
    uint64_t bytes_written;    /* batch bytes written to cleaned segments */
    uint64_t records_removed;  /* records (and tombstones) dropped */
    uint64_t tombstones_removed; /* of which tombstones */
    size_t segments_swapped;   /* cleaned segments swapped in */
};

#define SL_CLEAN_DEFAULT_MAP_ENTRIES (4u << 20)

/* One cleaning pass. first_dirty: the previous pass's clean_end (-1 none:
 * everything is dirty). 0 cleaned; -EAGAIN nothing to clean (below the
 * ratio, no closed segment); -ECANCELED stopped or the log changed;
 * -errno. st may be NULL. */
int sl_log_clean(struct sl_log *log, const struct sl_clean_conf *conf, int64_t first_dirty,
                 struct sl_clean_stats *st);

/* Swaps the cleaned segment cs (files "<base>.*.cleaned", complete and
 * synced) in place of the k segments olds (consecutive in the log). Takes
 * writer_lock (NULL: the caller holds it). Consumes cs and the caller's
 * references on olds. 0, -ECANCELED (olds no longer in the log), -errno. */
int sl_log_swap_cleaned(struct sl_log *log, struct sl_seg *cs, struct sl_seg **olds, size_t k,
                        pthread_mutex_t *writer_lock);

/* At open, before the segments are listed: deletes *.cleaned and *.deleted
 * files and completes every *.log.swap. 1 when something was changed, 0
 * when nothing was to do, -errno. */
int sl_log_finish_swaps(const char *dir);

/* Test hook: when > 0, the swap calls _exit(0) at that point (1 cleaned
 * files synced, 2 renamed to .swap, 3 first old segment renamed .deleted,
 * 4 all old segments .deleted, 5 .swap renamed into place), to exercise
 * recovery at every step. */
extern int sl_clean_test_crash_at;

#endif
