/*
 * log_int.h - the log's state, shared by log.c (append, read, sync) and
 * recovery.c (open-time scan). Not for use outside src/storage.
 */
#ifndef SL_STORAGE_LOG_INT_H
#define SL_STORAGE_LOG_INT_H

#include "storage/checkpoint.h"
#include "storage/log.h"
#include "storage/segment.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct sl_log {
    char *dir;                      /* partition directory */
    struct sl_log_conf conf;        /* copied at open, segment settings by sl_log_set_conf; writer */
    int64_t roll_jitter_ms;         /* the active segment's share of conf.segment_jitter_ms; writer */
    pthread_mutex_t segs_lock;      /* guards segs/nsegs (the array, not segment data) */
    struct sl_seg **segs;           /* by base offset; the last one is active */
    size_t nsegs;                   /* segments in segs */
    size_t segs_cap;                /* slots allocated in segs */
    _Atomic int64_t end_offset;     /* LEO, published after the data */
    _Atomic int64_t start_offset;   /* log start offset */
    _Atomic int64_t durable_offset; /* everything below is fdatasync'ed */
    pthread_mutex_t sync_lock;      /* one sync at a time */
    _Atomic bool dir_dirty;         /* a segment was created since the last sync */
    struct sl_epoch_entry *epochs;  /* leader epoch cache, increasing; writer lock */
    size_t nepochs;                 /* entries in epochs */
    size_t epochs_cap;              /* slots allocated in epochs */
    uint64_t recovered_bytes;       /* bytes CRC-scanned at open */
    _Atomic uint64_t appended_bytes; /* batch bytes appended since open, added after the LEO moves */
    _Atomic uint64_t synced_bytes;  /* appended_bytes covered by completed syncs; sync_lock */
};

/* Recovers the opened segments (recovery.c). clean: the marker was present. */
int sl_log_recover(struct sl_log *log, bool clean);
/* Walks the segment's batches from pos 0, rebuilding its indexes and stats;
 * crc: also verify each batch's CRC. Stops at the first bad batch and
 * reports its position in *bad_pos (size when all good). */
int sl_log_scan_segment(struct sl_log *log, struct sl_seg *seg, bool crc, uint64_t *bad_pos);
/* Removes segs[i..] from the list and unlinks them. Writer. */
void sl_log_drop_segments_from(struct sl_log *log, size_t i);

#endif
