/*
 * log.c - one partition's log: opening (then recovery.c), append with segment
 * roll, lock-free reads of file ranges, sync, truncation, start offset
 * advance and the leader epoch cache.
 *
 * Publication order on append: bytes written -> index entries -> segment
 * size -> LEO (release). A reader that acquires the LEO sees the bytes and
 * indexes below it. Segments are referenced by readers, so deletion (start
 * offset advance, truncation) never pulls a file out from under a sendfile.
 */
#include "base/clock.h"
#include "base/diag.h"
#include "base/varint.h"
#include "record/batch.h"
#include "storage/cleaner.h"
#include "storage/log_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sl_log_conf_default(struct sl_log_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->segment_bytes = 1073741824;
    conf->segment_ms = 7LL * 24 * 3600 * 1000;
    conf->segment_index_bytes = 10485760;
    conf->index_interval_bytes = 4096;
    conf->flush_messages = INT64_MAX;
    conf->flush_ms = INT64_MAX;
    conf->recovery_point = -1;
    conf->log_start_offset = -1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Base offsets of the <20 digits>.log files in dir, sorted. */
static int list_segments(const char *dir, int64_t **out, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    int64_t *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (strlen(name) != 24 || strcmp(name + 20, ".log") != 0 ||
            strspn(name, "0123456789") != 20)
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                rc = -ENOMEM;
                break;
            }
            v = nv;
        }
        v[cnt++] = strtoll(name, NULL, 10);
    }
    closedir(d);
    if (rc < 0) {
        free(v);
        return rc;
    }
    if (cnt > 1)
        qsort(v, cnt, sizeof(*v), cmp_i64);
    *out = v;
    *n = cnt;
    return 0;
}

static int segs_push(struct sl_log *log, struct sl_seg *seg)
{
    pthread_mutex_lock(&log->segs_lock);
    if (log->nsegs == log->segs_cap) {
        size_t cap = log->segs_cap ? log->segs_cap * 2 : 8;
        struct sl_seg **ns = realloc(log->segs, cap * sizeof(*ns));
        if (!ns) {
            pthread_mutex_unlock(&log->segs_lock);
            return -ENOMEM;
        }
        log->segs = ns;
        log->segs_cap = cap;
    }
    log->segs[log->nsegs++] = seg;
    pthread_mutex_unlock(&log->segs_lock);
    return 0;
}

void sl_log_drop_segments_from(struct sl_log *log, size_t i)
{
    pthread_mutex_lock(&log->segs_lock);
    size_t n = log->nsegs;
    log->nsegs = i;
    pthread_mutex_unlock(&log->segs_lock);
    for (size_t k = i; k < n; k++) {
        sl_seg_unlink(log->segs[k]);
        sl_seg_release(log->segs[k]);
        log->segs[k] = NULL;
    }
}

static char *path_in(const struct sl_log *log, const char *name)
{
    char *p;
    return asprintf(&p, "%s/%s", log->dir, name) < 0 ? NULL : p;
}

static int load_epochs(struct sl_log *log)
{
    char *path = path_in(log, "leader-epoch-checkpoint");
    if (!path)
        return -ENOMEM;
    int rc = sl_ckpt_epochs_read(path, &log->epochs, &log->nepochs);
    free(path);
    if (rc == -ENOENT || rc == -EBADMSG) {
        if (rc == -EBADMSG)
            SL_WARN("storage", "%s: malformed leader-epoch-checkpoint, starting empty", log->dir);
        log->epochs = NULL;
        log->nepochs = 0;
        return 0;
    }
    log->epochs_cap = log->nepochs;
    return rc;
}

static int save_epochs(struct sl_log *log)
{
    char *path = path_in(log, "leader-epoch-checkpoint");
    if (!path)
        return -ENOMEM;
    int rc = sl_ckpt_epochs_write(path, log->epochs, log->nepochs);
    free(path);
    if (rc < 0)
        SL_ERROR("storage", "%s: writing leader-epoch-checkpoint: %s", log->dir, strerror(-rc));
    return rc;
}

/* Drops cache entries at or past end (after truncation). */
static void epochs_truncate_end(struct sl_log *log, int64_t end)
{
    size_t n = log->nepochs;
    while (log->nepochs && log->epochs[log->nepochs - 1].start_offset >= end)
        log->nepochs--;
    if (n != log->nepochs)
        save_epochs(log);
}

static void draw_jitter(struct sl_log *log);

int sl_log_open(const char *dir, const struct sl_log_conf *conf, struct sl_log **out)
{
    int rc;
    int64_t *bases = NULL;
    size_t nbases = 0;
    char *marker = NULL;
    struct sl_log *log = calloc(1, sizeof(*log));
    if (!log)
        return -ENOMEM;
    pthread_mutex_init(&log->segs_lock, NULL);
    pthread_mutex_init(&log->sync_lock, NULL);
    if (conf)
        log->conf = *conf;
    else
        sl_log_conf_default(&log->conf);
    if (!(log->dir = strdup(dir)) || !(marker = path_in(log, SL_LOG_CLEAN_SHUTDOWN_FILE))) {
        rc = -ENOMEM;
        goto fail;
    }
    if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
        rc = -errno;
        goto fail;
    }
    /* A cleaner swap cut short is finished (or rolled back) first. */
    int swaps = sl_log_finish_swaps(dir);
    if (swaps < 0) {
        rc = swaps;
        goto fail;
    }
    if ((rc = list_segments(dir, &bases, &nbases)) < 0)
        goto fail;
    bool own = log->conf.shutdown_marker == SL_LOG_MARKER_OWN;
    bool clean = swaps == 0 && (own ? access(marker, F_OK) == 0 : log->conf.shutdown_marker == SL_LOG_MARKER_CLEAN);
    if (clean && own) {
        /* From here on a crash must recover: the marker goes first, durably. */
        if (unlink(marker) == -1 || (rc = sl_ckpt_fsync_dir(dir)) < 0) {
            rc = rc < 0 ? rc : -errno;
            goto fail;
        }
    }
    for (size_t i = 0; i < nbases; i++) {
        struct sl_seg *seg;
        if ((rc = sl_seg_open(dir, bases[i], false, false, 0, &seg)) < 0)
            goto fail;
        if ((rc = segs_push(log, seg)) < 0) {
            sl_seg_release(seg);
            goto fail;
        }
    }
    if (log->nsegs == 0) {
        struct sl_seg *seg;
        int64_t base = log->conf.log_start_offset > 0 ? log->conf.log_start_offset : 0;
        if ((rc = sl_seg_open(dir, base, true, false, 0, &seg)) < 0)
            goto fail;
        if ((rc = segs_push(log, seg)) < 0) {
            sl_seg_release(seg);
            goto fail;
        }
        atomic_store(&log->dir_dirty, true);
        clean = true; /* nothing to scan */
    }
    if ((rc = sl_log_recover(log, clean)) < 0)
        goto fail;
    struct sl_seg *active = log->segs[log->nsegs - 1];
    int64_t leo = atomic_load(&active->next_offset);
    int64_t start = log->segs[0]->base_offset;
    if (log->conf.log_start_offset > start)
        start = log->conf.log_start_offset < leo ? log->conf.log_start_offset : leo;
    atomic_store(&log->start_offset, start);
    atomic_store(&log->end_offset, leo);
    /* What recovery kept is on disk now; make it durable before saying so
     * (after a clean shutdown it already is). */
    if (!clean && fdatasync(active->log_fd) == -1) {
        rc = -errno;
        goto fail;
    }
    atomic_store(&log->durable_offset, leo);
    draw_jitter(log);
    if ((rc = load_epochs(log)) < 0)
        goto fail;
    epochs_truncate_end(log, leo + 1);
    free(bases);
    free(marker);
    *out = log;
    return 0;
fail:
    SL_ERROR("storage", "%s: open failed: %s", dir, strerror(-rc));
    free(bases);
    free(marker);
    if (log->segs)
        for (size_t i = 0; i < log->nsegs; i++)
            sl_seg_release(log->segs[i]);
    free(log->segs);
    free(log->epochs);
    free(log->dir);
    pthread_mutex_destroy(&log->segs_lock);
    pthread_mutex_destroy(&log->sync_lock);
    free(log);
    return rc;
}

int sl_log_close(struct sl_log *log)
{
    if (!log)
        return 0;
    bool own = log->conf.shutdown_marker == SL_LOG_MARKER_OWN;
    int rc = sl_log_sync(log);
    struct sl_seg *active = log->segs[log->nsegs - 1];
    if (rc == 0)
        rc = sl_seg_seal(active);
    if (rc == 0 && own)
        rc = sl_seg_index_sync(active);
    if (rc == 0 && own) {
        char *marker = path_in(log, SL_LOG_CLEAN_SHUTDOWN_FILE);
        rc = marker ? sl_ckpt_write_atomic(marker, "", 0) : -ENOMEM;
        free(marker);
    }
    if (rc < 0)
        SL_WARN("storage", "%s: unclean close (%s): next open recovers", log->dir, strerror(-rc));
    for (size_t i = 0; i < log->nsegs; i++)
        sl_seg_release(log->segs[i]);
    free(log->segs);
    free(log->epochs);
    free(log->dir);
    pthread_mutex_destroy(&log->segs_lock);
    pthread_mutex_destroy(&log->sync_lock);
    free(log);
    return rc;
}

int64_t sl_log_end_offset(const struct sl_log *log)
{
    return atomic_load_explicit(&log->end_offset, memory_order_acquire);
}

int64_t sl_log_start_offset(const struct sl_log *log)
{
    return atomic_load_explicit(&log->start_offset, memory_order_acquire);
}

int64_t sl_log_durable_offset(const struct sl_log *log)
{
    return atomic_load_explicit(&log->durable_offset, memory_order_acquire);
}

uint64_t sl_log_recovered_bytes(const struct sl_log *log)
{
    return log->recovered_bytes;
}

uint64_t sl_log_size_bytes(struct sl_log *log)
{
    uint64_t n = 0;
    pthread_mutex_lock(&log->segs_lock);
    for (size_t i = 0; i < log->nsegs; i++)
        n += atomic_load_explicit(&log->segs[i]->size, memory_order_acquire);
    pthread_mutex_unlock(&log->segs_lock);
    return n;
}

uint64_t sl_log_synced_bytes(const struct sl_log *log)
{
    return atomic_load_explicit(&log->synced_bytes, memory_order_relaxed);
}

size_t sl_log_segment_count(struct sl_log *log)
{
    pthread_mutex_lock(&log->segs_lock);
    size_t n = log->nsegs;
    pthread_mutex_unlock(&log->segs_lock);
    return n;
}

/* Kafka's per-segment roll jitter: uniform in [0, min(jitter, segment.ms)). */
static void draw_jitter(struct sl_log *log)
{
    int64_t j = log->conf.segment_jitter_ms, ms = log->conf.segment_ms;
    if (j > ms)
        j = ms;
    if (j <= 0) {
        log->roll_jitter_ms = 0;
        return;
    }
    uint64_t x = (uint64_t)sl_clock_mono_ns() ^ ((uint64_t)(uintptr_t)log << 17);
    x ^= x >> 33; /* splitmix64 finalizer */
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    log->roll_jitter_ms = (int64_t)(x % (uint64_t)j);
}

void sl_log_set_conf(struct sl_log *log, const struct sl_log_conf *conf)
{
    log->conf.segment_bytes = conf->segment_bytes;
    log->conf.segment_ms = conf->segment_ms;
    log->conf.segment_jitter_ms = conf->segment_jitter_ms;
    log->conf.segment_index_bytes = conf->segment_index_bytes;
    log->conf.index_interval_bytes = conf->index_interval_bytes;
    log->conf.flush_messages = conf->flush_messages;
    log->conf.flush_ms = conf->flush_ms;
    /* The active segment keeps its jitter unless it no longer fits (Kafka
     * draws it per segment), so it stays in [0, min(jitter, segment.ms)). */
    int64_t bound = conf->segment_jitter_ms < conf->segment_ms ? conf->segment_jitter_ms : conf->segment_ms;
    if (log->roll_jitter_ms > 0 && log->roll_jitter_ms >= bound)
        draw_jitter(log);
}

static int roll(struct sl_log *log, int64_t base)
{
    struct sl_seg *old = log->segs[log->nsegs - 1], *seg;
    int rc = sl_seg_open(log->dir, base, true, true, (size_t)log->conf.segment_index_bytes, &seg);
    if (rc < 0)
        return rc;
    if ((rc = segs_push(log, seg)) < 0) {
        sl_seg_unlink(seg);
        sl_seg_release(seg);
        return rc;
    }
    atomic_store(&log->dir_dirty, true);
    draw_jitter(log);
    /* The old segment's data is synced by the next sl_log_sync (its offsets
     * are above the durable offset); trimming the indexes is safe now. */
    if ((rc = sl_seg_seal(old)) < 0)
        SL_WARN("storage", "%s: trimming indexes of %" PRId64 ": %s", log->dir,
                old->base_offset, strerror(-rc));
    return 0;
}

int sl_log_roll(struct sl_log *log)
{
    if (atomic_load_explicit(&log->segs[log->nsegs - 1]->size, memory_order_relaxed) == 0)
        return 0;
    return roll(log, sl_log_end_offset(log));
}

int sl_log_append(struct sl_log *log, uint8_t *batch, size_t len, int32_t leader_epoch,
                  int64_t *base_offset_out)
{
    struct sl_batch_hdr h;
    SL_ASSERT(sl_batch_hdr_decode(batch, len, &h) == 0 && sl_batch_size(&h) == len);
    int64_t base = atomic_load_explicit(&log->end_offset, memory_order_relaxed);
    int64_t last = base + h.last_offset_delta;
    struct sl_seg *seg = log->segs[log->nsegs - 1];
    uint64_t size = atomic_load_explicit(&seg->size, memory_order_relaxed);
    int64_t now = sl_clock_wall_ms();
    if (size > 0 &&
        (size + len > (uint64_t)log->conf.segment_bytes || sl_seg_index_full(seg) ||
         last - seg->base_offset > INT32_MAX ||
         (seg->first_append_ms >= 0 &&
          now - seg->first_append_ms > log->conf.segment_ms - log->roll_jitter_ms))) {
        int rc = roll(log, base);
        if (rc < 0)
            return rc;
        seg = log->segs[log->nsegs - 1];
        size = 0;
    }
    sl_batch_set_base_offset(batch, base);
    if (leader_epoch >= 0)
        sl_batch_set_leader_epoch(batch, leader_epoch);
    int rc = sl_seg_write(seg, batch, len);
    if (rc < 0) {
        SL_ERROR("storage", "%s: append at %" PRId64 ": %s", log->dir, base, strerror(-rc));
        return rc;
    }
    sl_seg_publish(seg, size, len, last, h.max_timestamp, (uint32_t)log->conf.index_interval_bytes);
    if (seg->first_append_ms < 0)
        seg->first_append_ms = now;
    if (leader_epoch >= 0 &&
        (log->nepochs == 0 || leader_epoch > log->epochs[log->nepochs - 1].epoch)) {
        if (log->nepochs == log->epochs_cap) {
            size_t cap = log->epochs_cap ? log->epochs_cap * 2 : 8;
            struct sl_epoch_entry *ne = realloc(log->epochs, cap * sizeof(*ne));
            if (ne) {
                log->epochs = ne;
                log->epochs_cap = cap;
            }
        }
        if (log->nepochs < log->epochs_cap) {
            log->epochs[log->nepochs++] = (struct sl_epoch_entry){leader_epoch, base};
            save_epochs(log);
        }
    }
    atomic_store_explicit(&log->end_offset, last + 1, memory_order_release);
    atomic_fetch_add_explicit(&log->appended_bytes, len, memory_order_relaxed);
    if (base_offset_out)
        *base_offset_out = base;
    return 0;
}

/* The segment that holds `offset` (the last with base <= offset), referenced.
 * NULL when none. */
static struct sl_seg *seg_for(struct sl_log *log, int64_t offset, size_t *idx)
{
    struct sl_seg *seg = NULL;
    pthread_mutex_lock(&log->segs_lock);
    size_t lo = 0, hi = log->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->segs[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        seg = log->segs[lo - 1];
        sl_seg_ref(seg);
        if (idx)
            *idx = lo - 1;
    }
    pthread_mutex_unlock(&log->segs_lock);
    return seg;
}

/* The segment after index idx, referenced; NULL when none. */
static struct sl_seg *seg_after(struct sl_log *log, struct sl_seg *prev)
{
    struct sl_seg *seg = NULL;
    pthread_mutex_lock(&log->segs_lock);
    for (size_t i = 0; i + 1 < log->nsegs; i++) {
        if (log->segs[i] == prev) {
            seg = log->segs[i + 1];
            sl_seg_ref(seg);
            break;
        }
    }
    pthread_mutex_unlock(&log->segs_lock);
    return seg;
}

static void release_range(void *ref)
{
    sl_seg_release(ref);
}

int sl_log_read(struct sl_log *log, int64_t offset, int64_t max_offset, size_t max_bytes,
                struct sl_obuf *out)
{
    int64_t end = sl_log_end_offset(log);
    if (offset < sl_log_start_offset(log) || offset > end)
        return -ERANGE;
    if (max_offset > end)
        max_offset = end;
    if (offset >= max_offset)
        return 0;
    struct sl_seg *seg = seg_for(log, offset, NULL);
    int rc = 0;
    while (seg) {
        uint64_t limit = atomic_load_explicit(&seg->size, memory_order_acquire);
        uint64_t pos = sl_seg_lookup_pos(seg, offset), start = UINT64_MAX, stop = pos;
        while (pos < limit) {
            struct sl_batch_hdr h;
            if ((rc = sl_seg_read_hdr(seg, pos, limit, &h)) < 0)
                break;
            size_t size = sl_batch_size(&h);
            int64_t last = sl_batch_last_offset(&h);
            if (last >= max_offset)
                break;
            if (last >= offset) {
                if (start == UINT64_MAX)
                    start = pos;
                else if (pos + size - start > max_bytes)
                    break;
            }
            pos += size;
            if (start != UINT64_MAX)
                stop = pos;
            if (start != UINT64_MAX && stop - start >= max_bytes)
                break;
        }
        if (rc < 0) {
            /* A malformed header in bytes found on disk is corruption; in
             * bytes this process wrote, an I/O fault. */
            if (rc == -EBADMSG && pos >= atomic_load(&seg->trusted_from))
                rc = -EIO;
            sl_seg_release(seg);
            return rc;
        }
        if (start != UINT64_MAX) {
            if ((rc = sl_seg_verify(seg, start, &stop)) < 0) {
                sl_seg_release(seg);
                return rc;
            }
            return sl_obuf_put_file(out, seg->log_fd, (off_t)start, stop - start, seg,
                                    release_range);
        }
        /* offset lies past this segment's batches: the next segment has it
         * (a compacted segment may end, or be empty, well before the next
         * one's base; the active segment has no next and ends the read). */
        if (pos < limit) {
            sl_seg_release(seg);
            return 0;
        }
        struct sl_seg *next = seg_after(log, seg);
        sl_seg_release(seg);
        seg = next;
    }
    return 0;
}

int sl_log_offset_for_time(struct sl_log *log, int64_t ts_ms, int64_t *offset, int64_t *ts_out)
{
    int64_t end = sl_log_end_offset(log), start = sl_log_start_offset(log);
    struct sl_seg *seg = seg_for(log, start, NULL);
    while (seg) {
        if (atomic_load_explicit(&seg->max_ts_ms, memory_order_acquire) >= ts_ms) {
            uint64_t limit = atomic_load_explicit(&seg->size, memory_order_acquire);
            uint64_t pos = sl_seg_lookup_time_pos(seg, ts_ms);
            while (pos < limit) {
                struct sl_batch_hdr h;
                int rc = sl_seg_read_hdr(seg, pos, limit, &h);
                if (rc < 0) {
                    sl_seg_release(seg);
                    return rc;
                }
                if (h.base_offset >= end)
                    break;
                if (h.max_timestamp >= ts_ms && sl_batch_last_offset(&h) >= start) {
                    *offset = h.base_offset > start ? h.base_offset : start;
                    *ts_out = h.max_timestamp;
                    sl_seg_release(seg);
                    return 0;
                }
                pos += sl_batch_size(&h);
            }
        }
        struct sl_seg *next = seg_after(log, seg);
        sl_seg_release(seg);
        seg = next;
    }
    return -ENOENT;
}

int sl_log_max_timestamp(struct sl_log *log, int64_t *offset, int64_t *ts)
{
    int64_t best = -1, best_off = -1;
    pthread_mutex_lock(&log->segs_lock);
    for (size_t i = 0; i < log->nsegs; i++) {
        int64_t t = atomic_load_explicit(&log->segs[i]->max_ts_ms, memory_order_acquire);
        if (t > best) {
            best = t;
            best_off = atomic_load(&log->segs[i]->max_ts_offset);
        }
    }
    pthread_mutex_unlock(&log->segs_lock);
    if (best_off < 0)
        return -ENOENT;
    *offset = best_off;
    *ts = best;
    return 0;
}

int sl_log_sync(struct sl_log *log)
{
    int rc = 0;
    pthread_mutex_lock(&log->sync_lock);
    /* Read before the LEO: appends count their bytes after moving it, so
     * these bytes are all below target (metrics only). */
    uint64_t appended = atomic_load_explicit(&log->appended_bytes, memory_order_relaxed);
    int64_t target = sl_log_end_offset(log);
    int64_t durable = sl_log_durable_offset(log);
    if (target <= durable)
        goto out;
    /* Every segment that may hold offsets in [durable, target). */
    struct sl_seg *seg = seg_for(log, durable, NULL);
    while (seg && rc == 0) {
        if (fdatasync(seg->log_fd) == -1)
            rc = -errno;
        struct sl_seg *next = seg_after(log, seg);
        sl_seg_release(seg);
        seg = next;
    }
    if (seg)
        sl_seg_release(seg);
    if (rc == 0 && atomic_exchange(&log->dir_dirty, false) && (rc = sl_ckpt_fsync_dir(log->dir)) < 0)
        atomic_store(&log->dir_dirty, true);
    if (rc == 0) {
        /* Truncation may have lowered the end meanwhile: never publish past it. */
        int64_t end = sl_log_end_offset(log);
        atomic_store_explicit(&log->durable_offset, target < end ? target : end,
                              memory_order_release);
        if (appended > atomic_load_explicit(&log->synced_bytes, memory_order_relaxed))
            atomic_store_explicit(&log->synced_bytes, appended, memory_order_relaxed);
    }
out:
    pthread_mutex_unlock(&log->sync_lock);
    if (rc < 0)
        SL_ERROR("storage", "%s: sync: %s", log->dir, strerror(-rc));
    return rc;
}

/* ---- truncation, start offset, epochs ---- */

int sl_log_truncate_to(struct sl_log *log, int64_t offset)
{
    int64_t end = sl_log_end_offset(log);
    if (offset >= end)
        return 0;
    if (offset < sl_log_start_offset(log))
        return -ERANGE;
    size_t k;
    struct sl_seg *seg = seg_for(log, offset, &k);
    if (!seg)
        return -ERANGE;
    sl_seg_release(seg); /* the log's own reference keeps it */
    sl_log_drop_segments_from(log, k + 1);
    /* The first batch reaching offset, and the new end there. */
    uint64_t limit = atomic_load(&seg->size), pos = sl_seg_lookup_pos(seg, offset);
    int64_t new_end = atomic_load(&seg->next_offset);
    while (pos < limit) {
        struct sl_batch_hdr h;
        int rc = sl_seg_read_hdr(seg, pos, limit, &h);
        if (rc < 0)
            return rc;
        if (sl_batch_last_offset(&h) >= offset) {
            new_end = h.base_offset;
            break;
        }
        pos += sl_batch_size(&h);
    }
    atomic_store_explicit(&log->end_offset, new_end, memory_order_release);
    int64_t durable = sl_log_durable_offset(log);
    if (durable > new_end)
        atomic_store(&log->durable_offset, new_end);
    int rc = sl_seg_truncate(seg, pos, new_end);
    if (rc < 0)
        return rc;
    /* Drop index entries at or past the cut (earlier ones stay valid). */
    uint32_t n = atomic_load(&seg->idx_n);
    while (n && sl_be32(seg->idx_map + (size_t)(n - 1) * SL_SEG_IDX_ENTRY + 4) >= pos)
        n--;
    atomic_store(&seg->idx_n, n);
    uint32_t tn = atomic_load(&seg->tidx_n);
    while (tn && seg->base_offset + (int32_t)sl_be32(seg->tidx_map +
                                                     (size_t)(tn - 1) * SL_SEG_TIDX_ENTRY + 8) >=
                     new_end)
        tn--;
    atomic_store(&seg->tidx_n, tn);
    seg->last_tidx_ts_ms = tn ? (int64_t)sl_be64(seg->tidx_map + (size_t)(tn - 1) * SL_SEG_TIDX_ENTRY) : -1;
    atomic_store(&seg->max_ts_ms, seg->last_tidx_ts_ms);
    atomic_store(&seg->max_ts_offset,
                 tn ? seg->base_offset + (int32_t)sl_be32(seg->tidx_map + (size_t)(tn - 1) * SL_SEG_TIDX_ENTRY + 8) : -1);
    seg->bytes_since_index = 0;
    if (!seg->active) {
        /* A sealed segment keeps its mapping (readers may use it): trim its
         * index files and start a fresh active segment at the new end. */
        if ((rc = sl_seg_index_trim(seg, n, tn)) < 0)
            return rc;
        if ((rc = roll(log, new_end)) < 0)
            return rc;
    }
    epochs_truncate_end(log, new_end);
    return 0;
}

int sl_log_advance_start(struct sl_log *log, int64_t offset)
{
    if (offset > sl_log_end_offset(log))
        return -ERANGE;
    if (offset <= sl_log_start_offset(log))
        return 0;
    atomic_store_explicit(&log->start_offset, offset, memory_order_release);
    /* Delete whole segments below the new start; never the active one. */
    size_t del = 0;
    pthread_mutex_lock(&log->segs_lock);
    while (del + 1 < log->nsegs && log->segs[del + 1]->base_offset <= offset)
        del++;
    struct sl_seg **gone = NULL;
    if (del && (gone = malloc(del * sizeof(*gone)))) {
        memcpy(gone, log->segs, del * sizeof(*gone));
        memmove(log->segs, log->segs + del, (log->nsegs - del) * sizeof(*gone));
        log->nsegs -= del;
    }
    pthread_mutex_unlock(&log->segs_lock);
    for (size_t i = 0; gone && i < del; i++) {
        sl_seg_unlink(gone[i]);
        sl_seg_release(gone[i]);
    }
    free(gone);
    /* Kafka's truncateFromStart: epochs below the start collapse onto it. */
    size_t keep = 0;
    while (keep + 1 < log->nepochs && log->epochs[keep + 1].start_offset <= offset)
        keep++;
    if (keep || (log->nepochs && log->epochs[0].start_offset < offset)) {
        memmove(log->epochs, log->epochs + keep, (log->nepochs - keep) * sizeof(*log->epochs));
        log->nepochs -= keep;
        if (log->epochs[0].start_offset < offset)
            log->epochs[0].start_offset = offset;
        save_epochs(log);
    }
    return 0;
}

void sl_log_end_offset_for_epoch(struct sl_log *log, int32_t epoch, int64_t *end_offset,
                                 int32_t *found_epoch)
{
    *end_offset = -1;
    *found_epoch = -1;
    size_t n = log->nepochs;
    if (n == 0 || epoch < log->epochs[0].epoch)
        return;
    size_t i = n;
    while (i > 0 && log->epochs[i - 1].epoch > epoch)
        i--;
    /* epochs[i-1] is the largest epoch <= the requested one. */
    *found_epoch = log->epochs[i - 1].epoch;
    *end_offset = i == n ? sl_log_end_offset(log) : log->epochs[i].start_offset;
}

int32_t sl_log_latest_epoch(const struct sl_log *log)
{
    return log->nepochs ? log->epochs[log->nepochs - 1].epoch : -1;
}
