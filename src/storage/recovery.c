/*
 * recovery.c - bringing a log's segments to a consistent state at open.
 *
 * After a clean shutdown (marker present) the files are trusted: each
 * segment's next offset comes from its last index entry plus a header walk of
 * the tail, its max timestamp from the last .timeindex entry. Indexes that
 * are missing or inconsistent are rebuilt by a header walk.
 * After a crash, every segment holding offsets at or past the recovery point
 * (the last segment alone when unknown) is scanned batch by batch with the
 * CRC checked; the first torn or corrupt batch and everything after it,
 * including later segments, is removed. What was acknowledged was fsync'ed,
 * so it lies below the recovery point or in a batch that checks out.
 * Thread: the opener, before the log is visible to anyone else.
 */
#include "base/diag.h"
#include "base/varint.h"
#include "record/batch.h"
#include "storage/log_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sl_log_scan_segment(struct sl_log *log, struct sl_seg *seg, bool crc, uint64_t *bad_pos)
{
    int rc = 0;
    uint8_t *buf = NULL;
    size_t buf_cap = 0;
    uint64_t limit = atomic_load(&seg->size), pos = 0;
    if (!seg->active && (rc = sl_seg_unseal(seg, (size_t)log->conf.segment_index_bytes)) < 0)
        return rc;
    sl_seg_index_reset(seg);
    atomic_store(&seg->size, 0);
    atomic_store(&seg->next_offset, seg->base_offset);
    int64_t expect = seg->base_offset;
    while (pos < limit) {
        struct sl_batch_hdr h;
        rc = sl_seg_read_hdr(seg, pos, limit, &h);
        if (rc == -EBADMSG || (rc == 0 && h.base_offset < expect)) {
            rc = 0;
            break;
        }
        if (rc < 0)
            goto out;
        size_t size = sl_batch_size(&h);
        if (crc) {
            if (size > buf_cap) {
                uint8_t *nb = realloc(buf, size);
                if (!nb) {
                    rc = -ENOMEM;
                    goto out;
                }
                buf = nb;
                buf_cap = size;
            }
            ssize_t n = pread(seg->log_fd, buf, size, (off_t)pos);
            if (n < 0) {
                rc = -errno;
                goto out;
            }
            if ((size_t)n != size || sl_batch_compute_crc(buf, size) != h.crc)
                break;
            log->recovered_bytes += size;
        }
        sl_seg_publish(seg, pos, size, sl_batch_last_offset(&h), h.max_timestamp,
                       (uint32_t)log->conf.index_interval_bytes);
        pos += size;
        expect = sl_batch_last_offset(&h) + 1;
    }
    *bad_pos = pos;
    if (crc)
        atomic_store(&seg->trusted_from, 0); /* every batch kept was checked just now */
out:
    free(buf);
    return rc;
}

/* Checks a trusted segment's indexes; false when they need a rebuild. */
static bool index_ok(struct sl_log *log, struct sl_seg *seg)
{
    uint64_t size = atomic_load(&seg->size);
    uint32_t n = atomic_load(&seg->idx_n), tn = atomic_load(&seg->tidx_n);
    if (n == 0 && size > (uint64_t)log->conf.index_interval_bytes)
        return false;
    if (tn == 0 && size > 0)
        return false;
    int64_t prev_off = -1, prev_pos = -1;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = seg->idx_map + (size_t)i * SL_SEG_IDX_ENTRY;
        int64_t off = (int32_t)sl_be32(e), pos = (int32_t)sl_be32(e + 4);
        if (off <= prev_off || pos <= prev_pos || (uint64_t)pos >= size)
            return false;
        prev_off = off;
        prev_pos = pos;
    }
    int64_t prev_ts = INT64_MIN;
    prev_off = -1;
    for (uint32_t i = 0; i < tn; i++) {
        const uint8_t *e = seg->tidx_map + (size_t)i * SL_SEG_TIDX_ENTRY;
        int64_t ts = (int64_t)sl_be64(e), off = (int32_t)sl_be32(e + 8);
        if (ts < prev_ts || off < prev_off || off < 0)
            return false;
        prev_ts = ts;
        prev_off = off;
    }
    return true;
}

/* Trusted segment: next offset from the tail, max timestamp from .timeindex.
 * -EBADMSG when the tail does not walk cleanly. */
static int finish_from_index(struct sl_seg *seg)
{
    uint64_t size = atomic_load(&seg->size);
    uint32_t n = atomic_load(&seg->idx_n), tn = atomic_load(&seg->tidx_n);
    uint64_t pos = n ? sl_be32(seg->idx_map + (size_t)(n - 1) * SL_SEG_IDX_ENTRY + 4) : 0;
    int64_t next = seg->base_offset;
    while (pos < size) {
        struct sl_batch_hdr h;
        int rc = sl_seg_read_hdr(seg, pos, size, &h);
        if (rc < 0)
            return rc;
        next = sl_batch_last_offset(&h) + 1;
        pos += sl_batch_size(&h);
    }
    atomic_store(&seg->next_offset, next);
    if (tn) {
        const uint8_t *e = seg->tidx_map + (size_t)(tn - 1) * SL_SEG_TIDX_ENTRY;
        atomic_store(&seg->max_ts_ms, (int64_t)sl_be64(e));
        atomic_store(&seg->max_ts_offset, seg->base_offset + (int32_t)sl_be32(e + 8));
        seg->last_tidx_ts_ms = (int64_t)sl_be64(e);
    }
    return 0;
}

/* True if the bad batch at pos of seg is a torn tail: the log's last segment
 * and nothing whole after it (its header is short or it runs to or past EOF). */
static bool torn_tail(struct sl_seg *seg, bool last, uint64_t pos, uint64_t size)
{
    struct sl_batch_hdr h;
    if (!last)
        return false;
    if (sl_seg_read_hdr(seg, pos, size, &h) < 0)
        return true;
    return pos + sl_batch_size(&h) >= size;
}

int sl_log_recover(struct sl_log *log, bool clean)
{
    int64_t rp = log->conf.recovery_point;
    for (size_t i = 0; i < log->nsegs; i++) {
        struct sl_seg *seg = log->segs[i];
        bool last = i + 1 == log->nsegs;
        bool scan = !clean && (last || (rp >= 0 && log->segs[i + 1]->base_offset > rp));
        uint64_t size = atomic_load(&seg->size), bad = size;
        int rc;
        if (scan) {
            if ((rc = sl_log_scan_segment(log, seg, true, &bad)) < 0)
                return rc;
        } else if (!index_ok(log, seg) || finish_from_index(seg) < 0) {
            SL_WARN("storage", "%s: rebuilding .index/.timeindex of segment %" PRId64, log->dir,
                    seg->base_offset);
            if ((rc = sl_log_scan_segment(log, seg, false, &bad)) < 0)
                return rc;
        }
        if (bad < size && log->conf.strict_recovery && !torn_tail(seg, last, bad, size)) {
            SL_ERROR("storage",
                     "%s: segment %" PRId64 " has a corrupt batch at byte %" PRIu64 " of %" PRIu64
                     " with data after it (not a torn tail): refusing to truncate",
                     log->dir, seg->base_offset, bad, size);
            return -EBADMSG;
        }
        if (bad < size) {
            SL_WARN("storage",
                    "%s: segment %" PRId64 " torn or corrupt at byte %" PRIu64 " of %" PRIu64
                    ", truncating there (next offset %" PRId64 ")",
                    log->dir, seg->base_offset, bad, size, (int64_t)atomic_load(&seg->next_offset));
            if (ftruncate(seg->log_fd, (off_t)bad) == -1)
                return -errno;
            if (!last) {
                sl_log_drop_segments_from(log, i + 1);
                last = true;
            }
        }
        if (!last && (rc = sl_seg_seal(seg)) < 0)
            return rc;
        if (last && !seg->active &&
            (rc = sl_seg_unseal(seg, (size_t)log->conf.segment_index_bytes)) < 0)
            return rc;
    }
    return 0;
}
