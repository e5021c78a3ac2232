/*
 * retention.c - time and size retention of one partition log (see
 * retention.h). The decision is a pure function over a snapshot of the
 * segment list, so it is tested without files; applying it runs under the
 * partition's lock on the retention thread and deletes through
 * sl_log_advance_start, which keeps deleted segments readable by fetches
 * that still reference them.
 */
#include "storage/retention.h"

#include "base/diag.h"
#include "storage/log_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

size_t sl_retention_plan(const struct sl_ret_seg *segs, size_t n, int64_t log_end, int64_t hwm,
                         int64_t now_ms, int64_t retention_ms, int64_t retention_bytes, bool *roll)
{
    *roll = false;
    if (n == 0 || (retention_ms < 0 && retention_bytes < 0))
        return 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += segs[i].size;
    int64_t diff = retention_bytes >= 0 ? (int64_t)total - retention_bytes : 0;
    size_t k = 0;
    for (; k < n; k++) {
        bool last = k + 1 == n;
        int64_t upper = last ? log_end : segs[k + 1].base_offset;
        if (upper > hwm || (last && segs[k].size == 0))
            break;
        bool by_time = retention_ms >= 0 && segs[k].max_ts_ms >= 0 &&
                       now_ms - segs[k].max_ts_ms > retention_ms;
        bool by_size = retention_bytes >= 0 && diff - (int64_t)segs[k].size >= 0;
        if (!by_time && !by_size)
            break;
        if (by_size)
            diff -= (int64_t)segs[k].size;
        else if (retention_bytes >= 0)
            diff -= (int64_t)segs[k].size; /* what time deletes counts toward size too */
    }
    if (k == n)
        *roll = true;
    return k;
}

/* The segment's largest timestamp; a segment without one is judged by its
 * file's modification time, as Kafka does. */
static int64_t seg_max_ts(struct sl_seg *seg)
{
    int64_t ts = atomic_load_explicit(&seg->max_ts_ms, memory_order_acquire);
    if (ts >= 0)
        return ts;
    struct stat st;
    if (fstat(seg->log_fd, &st) == -1)
        return -1;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

int sl_log_apply_retention(struct sl_log *log, int64_t now_ms, int64_t hwm, int64_t retention_ms,
                           int64_t retention_bytes, int64_t *new_start, size_t *deleted)
{
    *deleted = 0;
    *new_start = sl_log_start_offset(log);
    if (retention_ms < 0 && retention_bytes < 0)
        return 0;
    /* The writer lock is held: the list changes only under us or by the
     * cleaner's swap, which also holds the writer lock. */
    size_t n = log->nsegs;
    struct sl_ret_seg *v = malloc(n * sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct sl_seg *seg = log->segs[i];
        v[i] = (struct sl_ret_seg){seg->base_offset, atomic_load(&seg->size), seg_max_ts(seg)};
    }
    bool roll;
    int64_t end = sl_log_end_offset(log);
    size_t k = sl_retention_plan(v, n, end, hwm, now_ms, retention_ms, retention_bytes, &roll);
    free(v);
    if (k == 0)
        return 0;
    int rc;
    if (roll && (rc = sl_log_roll(log)) < 0)
        return rc;
    int64_t target = roll ? end : log->segs[k]->base_offset;
    size_t before = log->nsegs;
    if (target > sl_log_start_offset(log) && (rc = sl_log_advance_start(log, target)) < 0)
        return rc;
    *deleted = before - log->nsegs;
    *new_start = sl_log_start_offset(log);
    if (*deleted)
        SL_INFO("storage", "%s: retention deleted %zu segment(s), log start offset %" PRId64,
                log->dir, *deleted, *new_start);
    return 0;
}
