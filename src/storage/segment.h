/*
 * segment.h - one log segment: <base>.log of record batches with its sparse
 * .index (int32 relative offset, int32 position; big-endian, 8 bytes) and
 * .timeindex (int64 timestamp, int32 relative offset; 12 bytes), as Kafka
 * lays them out. Internal to src/storage (log.c, recovery.c).
 *
 * Writer: the partition's single writer (log.c, partition lock held).
 * Readers: any thread, without the partition lock; they read only below the
 * published `size` and index counts (stored with release, read with acquire).
 * Invariant: every byte of .log below `size` belongs to a complete batch that
 * was validated (on append) or CRC-checked (on recovery); index entries
 * [0, idx_n) point at batch starts below `size`, in increasing order.
 * Lifetime: refcounted; the log holds one reference while the segment is in
 * its list, each sl_log_read file range holds one. A deleted segment's files
 * are unlinked at once and its fds closed at the last release.
 */
#ifndef SL_STORAGE_SEGMENT_H
#define SL_STORAGE_SEGMENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_SEG_IDX_ENTRY 8
#define SL_SEG_TIDX_ENTRY 12
#define SL_SEG_VERIFIED_MAX 8 /* CRC-checked ranges remembered per segment (verify.c) */

struct sl_seg {
    int64_t base_offset;          /* first offset this segment may hold */
    char *path;                   /* "<dir>/<20-digit base>" without extension */
    char suffix[16];              /* after the extension: "" live, ".cleaned", ".swap", ".deleted" */
    int log_fd;                   /* .log, -1 once closed (the indexes are only mapped) */
    _Atomic uint64_t size;        /* bytes of complete batches in .log */
    _Atomic int64_t next_offset;  /* offset after the last batch (base if empty) */
    uint8_t *idx_map;             /* .index mapping, idx_map_bytes long */
    size_t idx_map_bytes;         /* mapped bytes (preallocated for the active segment) */
    _Atomic uint32_t idx_n;       /* entries published in .index */
    uint8_t *tidx_map;            /* .timeindex mapping */
    size_t tidx_map_bytes;        /* mapped bytes */
    _Atomic uint32_t tidx_n;      /* entries published in .timeindex */
    _Atomic int64_t max_ts_ms;    /* largest batch maxTimestamp, -1 if none */
    _Atomic int64_t max_ts_offset; /* offset (last of the batch) holding max_ts_ms */
    int64_t last_tidx_ts_ms;      /* timestamp of the last .timeindex entry, -1 none */
    uint64_t bytes_since_index;   /* .log bytes appended since the last .index entry */
    int64_t first_append_ms;      /* wall ms of the first append (segment.ms), -1 none */
    bool active;                  /* indexes preallocated and writable */
    _Atomic int refs;             /* references; files closed at 0 */
    _Atomic bool deleted;         /* files unlinked */
    /* First-read CRC checks (verify.c). Bytes at or past trusted_from were
     * validated by this process (appended, or CRC-scanned by recovery);
     * bytes below it were found on disk and are checked before they are
     * first served. */
    _Atomic uint64_t trusted_from;
    pthread_mutex_t verify_mu;    /* guards verified[] and verified_n */
    struct { uint64_t lo, hi; } verified[SL_SEG_VERIFIED_MAX]; /* checked ranges below trusted_from */
    int verified_n;
    _Atomic uint64_t bad_logged;  /* position + 1 of the last corrupt batch logged, 0 none */
};

/* Test hook: while > 0, each sl_seg_write writes half the batch and fails
 * with -EIO (and decrements it), to exercise the rollback. */
extern _Atomic int sl_seg_test_fail_writes;

/* Opens (create true: creates) the segment files for base_offset in dir.
 * Active segments get indexes preallocated to index_bytes and mapped
 * writable. Index counts come from the files' sizes (trimmed files) and are
 * checked by recovery. *out has one reference. 0 or -errno. */
int sl_seg_open(const char *dir, int64_t base_offset, bool create, bool active,
                size_t index_bytes, struct sl_seg **out);
/* The same for files named <base>.log<suffix> etc. (the cleaner's ".cleaned"). */
int sl_seg_open_suffix(const char *dir, int64_t base_offset, const char *suffix, bool create,
                       bool active, size_t index_bytes, struct sl_seg **out);
/* Renames the three files from the current suffix to `suffix` (.index and
 * .timeindex first, .log last; a missing file is skipped). The open fds
 * keep reading the same data. Writer only. 0 or -errno. */
int sl_seg_rename_suffix(struct sl_seg *seg, const char *suffix);
void sl_seg_ref(struct sl_seg *seg);
/* Drops a reference; the last one closes the files (and frees). Thread: any. */
void sl_seg_release(struct sl_seg *seg);
/* Unlinks the files (with the current suffix); the segment stays readable
 * until its last release. */
void sl_seg_unlink(struct sl_seg *seg);

/* Writes one batch at `size` (does not publish it). On failure the file is
 * truncated back. 0, -ENOSPC, -EIO, ... Writer only. */
int sl_seg_write(struct sl_seg *seg, const uint8_t *batch, size_t len);
/* Indexes a batch written at position pos with last offset `last` and
 * maxTimestamp max_ts, following Kafka's rule (an entry once more than
 * interval bytes were appended since the last one), then publishes size and
 * next offset. Writer only. */
void sl_seg_publish(struct sl_seg *seg, uint64_t pos, size_t len, int64_t last, int64_t max_ts,
                    uint32_t interval_bytes);
/* Truncates the index files to n and tn entries (the mappings stay). Writer
 * only. 0 or -errno. */
int sl_seg_index_trim(struct sl_seg *seg, uint32_t n, uint32_t tn);
/* fdatasyncs both index files. 0 or -errno. */
int sl_seg_index_sync(struct sl_seg *seg);
/* Whether the indexes have room for another entry each. */
bool sl_seg_index_full(const struct sl_seg *seg);
/* Trims the indexes to their entries and maps them read-only: on roll and
 * close. 0 or -errno. Writer only. */
int sl_seg_seal(struct sl_seg *seg);
/* Makes a sealed segment writable again (open of the last segment). */
int sl_seg_unseal(struct sl_seg *seg, size_t index_bytes);
/* Truncates the segment to `pos` bytes with `next` as its next offset,
 * dropping index entries at or past pos. Writer only. */
int sl_seg_truncate(struct sl_seg *seg, uint64_t pos, int64_t next);
/* Resets both indexes to empty (before a rebuild). Writer only. */
void sl_seg_index_reset(struct sl_seg *seg);

/* Largest index entry with offset <= target: its file position (0 if none). Any thread. */
uint64_t sl_seg_lookup_pos(const struct sl_seg *seg, int64_t target);
/* Position to start scanning for the first batch with maxTimestamp >= ts. Any thread. */
uint64_t sl_seg_lookup_time_pos(const struct sl_seg *seg, int64_t ts_ms);

/* Checks the CRC of every batch in [start, *stop) that this process did
 * not write and has not checked before (start is a batch boundary). A
 * corrupt batch after start lowers *stop to it; a corrupt batch at start
 * returns -EBADMSG. Logs each corrupt batch once. 0, -EBADMSG, -errno.
 * Any thread (verify.c). */
int sl_seg_verify(struct sl_seg *seg, uint64_t start, uint64_t *stop);
/* Forgets what was checked at or past pos (truncation). Writer only. */
void sl_seg_verify_truncate(struct sl_seg *seg, uint64_t pos);

/* Reads the 61-byte header of the batch at pos (below limit). 0, -EBADMSG
 * when it does not fit or is malformed, -errno. Any thread. */
struct sl_batch_hdr;
int sl_seg_read_hdr(const struct sl_seg *seg, uint64_t pos, uint64_t limit,
                    struct sl_batch_hdr *hdr);

#endif
