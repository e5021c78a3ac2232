/*
 * segment.c - one log segment: a .log file of record batches with its sparse
 * .index and .timeindex (see segment.h for the layout, threads and lifetime).
 * Invariant: every byte of .log below seg->size belongs to a complete batch
 * that was validated on append or CRC-checked on recovery.
 *
 * Index mappings are never moved or shrunk while readers may use them: the
 * active segment maps the preallocated size once, sealing only truncates the
 * file (readers never touch entries past the published count).
 */
#include "storage/segment.h"

#include "base/diag.h"
#include "base/varint.h"
#include "record/batch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Atomic int sl_seg_test_fail_writes;

static void file_path(const struct sl_seg *seg, const char *ext, char *path, size_t len)
{
    snprintf(path, len, "%s%s%s", seg->path, ext, seg->suffix);
}

static int open_file(const char *base, const char *ext, const char *suffix, bool create)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s%s%s", base, ext, suffix);
    return open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
}

/* Maps `bytes` of fd (0: no mapping). */
static int map_index(int fd, size_t bytes, uint8_t **map)
{
    *map = NULL;
    if (bytes == 0)
        return 0;
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return -errno;
    *map = m;
    return 0;
}

/* Index files are not kept open: the mapping is all that is read or written
 * (as Kafka does), so a partition costs one descriptor, its .log. Resizing
 * and syncing go by path. */
static int map_index_file(const struct sl_seg *seg, const char *ext, bool resize, size_t bytes,
                          uint64_t *size, uint8_t **map)
{
    char path[PATH_MAX];
    file_path(seg, ext, path, sizeof(path));
    int fd = open(path, O_RDWR | O_CLOEXEC | O_CREAT, 0644);
    if (fd == -1)
        return -errno;
    int rc = 0;
    struct stat st;
    if (resize && ftruncate(fd, (off_t)bytes) == -1)
        rc = -errno;
    else if (!resize && fstat(fd, &st) == -1)
        rc = -errno;
    if (rc == 0 && !resize)
        bytes = (size_t)st.st_size / (strcmp(ext, ".index") == 0 ? SL_SEG_IDX_ENTRY : SL_SEG_TIDX_ENTRY) *
                (strcmp(ext, ".index") == 0 ? SL_SEG_IDX_ENTRY : SL_SEG_TIDX_ENTRY);
    if (rc == 0 && size)
        *size = bytes;
    if (rc == 0 && map)
        rc = map_index(fd, bytes, map);
    close(fd);
    return rc;
}

int sl_seg_index_trim(struct sl_seg *seg, uint32_t n, uint32_t tn)
{
    char path[PATH_MAX];
    file_path(seg, ".index", path, sizeof(path));
    if (truncate(path, (off_t)n * SL_SEG_IDX_ENTRY) == -1)
        return -errno;
    file_path(seg, ".timeindex", path, sizeof(path));
    if (truncate(path, (off_t)tn * SL_SEG_TIDX_ENTRY) == -1)
        return -errno;
    return 0;
}

int sl_seg_index_sync(struct sl_seg *seg)
{
    static const char *const exts[] = {".index", ".timeindex"};
    for (int i = 0; i < 2; i++) {
        char path[PATH_MAX];
        file_path(seg, exts[i], path, sizeof(path));
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd == -1)
            return -errno;
        int rc = fdatasync(fd) == -1 ? -errno : 0;
        close(fd);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int file_size(int fd, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) == -1)
        return -errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

int sl_seg_open(const char *dir, int64_t base_offset, bool create, bool active,
                size_t index_bytes, struct sl_seg **out)
{
    return sl_seg_open_suffix(dir, base_offset, "", create, active, index_bytes, out);
}

int sl_seg_open_suffix(const char *dir, int64_t base_offset, const char *suffix, bool create,
                       bool active, size_t index_bytes, struct sl_seg **out)
{
    int rc;
    uint64_t log_size, idx_size, tidx_size;
    struct sl_seg *seg = calloc(1, sizeof(*seg));
    if (!seg)
        return -ENOMEM;
    seg->log_fd = -1;
    seg->base_offset = base_offset;
    atomic_init(&seg->refs, 1);
    pthread_mutex_init(&seg->verify_mu, NULL);
    atomic_init(&seg->max_ts_ms, -1);
    atomic_init(&seg->max_ts_offset, -1);
    atomic_init(&seg->next_offset, base_offset);
    seg->last_tidx_ts_ms = -1;
    seg->first_append_ms = -1;
    snprintf(seg->suffix, sizeof(seg->suffix), "%s", suffix);
    if (asprintf(&seg->path, "%s/%020" PRId64, dir, base_offset) < 0) {
        seg->path = NULL;
        rc = -ENOMEM;
        goto fail;
    }
    if ((seg->log_fd = open_file(seg->path, ".log", suffix, create)) == -1) {
        rc = -errno;
        goto fail;
    }
    if ((rc = file_size(seg->log_fd, &log_size)) < 0 ||
        (rc = map_index_file(seg, ".index", false, 0, &idx_size, NULL)) < 0 ||
        (rc = map_index_file(seg, ".timeindex", false, 0, &tidx_size, NULL)) < 0)
        goto fail;
    atomic_init(&seg->size, log_size);
    atomic_init(&seg->trusted_from, log_size); /* found on disk: checked on first read */
    atomic_init(&seg->idx_n, (uint32_t)(idx_size / SL_SEG_IDX_ENTRY));
    atomic_init(&seg->tidx_n, (uint32_t)(tidx_size / SL_SEG_TIDX_ENTRY));
    seg->idx_map_bytes = idx_size;
    seg->tidx_map_bytes = tidx_size;
    if (active) {
        if ((rc = sl_seg_unseal(seg, index_bytes)) < 0)
            goto fail;
    } else if ((rc = map_index_file(seg, ".index", true, idx_size, NULL, &seg->idx_map)) < 0 ||
               (rc = map_index_file(seg, ".timeindex", true, tidx_size, NULL, &seg->tidx_map)) < 0) {
        goto fail;
    }
    *out = seg;
    return 0;
fail:
    atomic_store(&seg->refs, 1);
    sl_seg_release(seg);
    return rc;
}

int sl_seg_unseal(struct sl_seg *seg, size_t index_bytes)
{
    size_t ib = index_bytes / SL_SEG_IDX_ENTRY * SL_SEG_IDX_ENTRY;
    size_t tb = index_bytes / SL_SEG_TIDX_ENTRY * SL_SEG_TIDX_ENTRY;
    uint32_t in = atomic_load(&seg->idx_n), tn = atomic_load(&seg->tidx_n);
    if ((size_t)in * SL_SEG_IDX_ENTRY > ib)
        in = (uint32_t)(ib / SL_SEG_IDX_ENTRY);
    if ((size_t)tn * SL_SEG_TIDX_ENTRY > tb)
        tn = (uint32_t)(tb / SL_SEG_TIDX_ENTRY);
    /* Only called before readers can see the segment: remapping is safe. */
    if (seg->idx_map)
        munmap(seg->idx_map, seg->idx_map_bytes);
    if (seg->tidx_map)
        munmap(seg->tidx_map, seg->tidx_map_bytes);
    seg->idx_map = seg->tidx_map = NULL;
    seg->idx_map_bytes = ib;
    seg->tidx_map_bytes = tb;
    int rc;
    if ((rc = map_index_file(seg, ".index", true, ib, NULL, &seg->idx_map)) < 0 ||
        (rc = map_index_file(seg, ".timeindex", true, tb, NULL, &seg->tidx_map)) < 0)
        return rc;
    atomic_store(&seg->idx_n, in);
    atomic_store(&seg->tidx_n, tn);
    if (tn)
        seg->last_tidx_ts_ms = (int64_t)sl_be64(seg->tidx_map + (size_t)(tn - 1) * SL_SEG_TIDX_ENTRY);
    seg->active = true;
    return 0;
}

void sl_seg_ref(struct sl_seg *seg)
{
    atomic_fetch_add_explicit(&seg->refs, 1, memory_order_relaxed);
}

void sl_seg_release(struct sl_seg *seg)
{
    if (atomic_fetch_sub_explicit(&seg->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (seg->idx_map)
        munmap(seg->idx_map, seg->idx_map_bytes);
    if (seg->tidx_map)
        munmap(seg->tidx_map, seg->tidx_map_bytes);
    if (seg->log_fd != -1)
        close(seg->log_fd);
    pthread_mutex_destroy(&seg->verify_mu);
    free(seg->path);
    free(seg);
}

void sl_seg_unlink(struct sl_seg *seg)
{
    static const char *exts[] = {".log", ".index", ".timeindex"};
    char path[PATH_MAX];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s%s", seg->path, exts[i], seg->suffix);
        if (unlink(path) == -1 && errno != ENOENT)
            SL_WARN("storage", "unlink %s: %s", path, strerror(errno));
    }
    atomic_store(&seg->deleted, true);
}

int sl_seg_rename_suffix(struct sl_seg *seg, const char *suffix)
{
    /* The .log goes last: recovery keys on it (a .log.swap means "finish"). */
    static const char *exts[] = {".index", ".timeindex", ".log"};
    char from[PATH_MAX], to[PATH_MAX];
    for (int i = 0; i < 3; i++) {
        snprintf(from, sizeof(from), "%s%s%s", seg->path, exts[i], seg->suffix);
        snprintf(to, sizeof(to), "%s%s%s", seg->path, exts[i], suffix);
        if (rename(from, to) == -1 && errno != ENOENT)
            return -errno;
    }
    snprintf(seg->suffix, sizeof(seg->suffix), "%s", suffix);
    return 0;
}

int sl_seg_write(struct sl_seg *seg, const uint8_t *batch, size_t len)
{
    uint64_t pos = atomic_load_explicit(&seg->size, memory_order_relaxed);
    size_t done = 0, want = len;
    bool inject = false;
    if (atomic_load(&sl_seg_test_fail_writes) > 0) {
        atomic_fetch_sub(&sl_seg_test_fail_writes, 1);
        want = len / 2;
        inject = true;
    }
    while (done < want) {
        ssize_t n = pwrite(seg->log_fd, batch + done, want - done, (off_t)(pos + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        done += (size_t)n;
    }
    if (!inject)
        return 0;
    errno = EIO;
fail:;
    int rc = -errno;
    /* Leave the file as it was: no partial batch past size. */
    if (ftruncate(seg->log_fd, (off_t)pos) == -1)
        SL_ERROR("storage", "%s.log: cannot truncate back a failed write: %s", seg->path,
                 strerror(errno));
    return rc;
}

bool sl_seg_index_full(const struct sl_seg *seg)
{
    return (size_t)(atomic_load(&seg->idx_n) + 1) * SL_SEG_IDX_ENTRY > seg->idx_map_bytes ||
           (size_t)(atomic_load(&seg->tidx_n) + 1) * SL_SEG_TIDX_ENTRY > seg->tidx_map_bytes;
}

static void tidx_append(struct sl_seg *seg, int64_t ts, int64_t offset)
{
    uint32_t tn = atomic_load_explicit(&seg->tidx_n, memory_order_relaxed);
    if (ts <= seg->last_tidx_ts_ms || (size_t)(tn + 1) * SL_SEG_TIDX_ENTRY > seg->tidx_map_bytes)
        return;
    uint8_t *e = seg->tidx_map + (size_t)tn * SL_SEG_TIDX_ENTRY;
    sl_put_be64(e, (uint64_t)ts);
    sl_put_be32(e + 8, (uint32_t)(offset - seg->base_offset));
    seg->last_tidx_ts_ms = ts;
    atomic_store_explicit(&seg->tidx_n, tn + 1, memory_order_release);
}

void sl_seg_publish(struct sl_seg *seg, uint64_t pos, size_t len, int64_t last, int64_t max_ts,
                    uint32_t interval_bytes)
{
    if (max_ts > atomic_load_explicit(&seg->max_ts_ms, memory_order_relaxed)) {
        atomic_store_explicit(&seg->max_ts_offset, last, memory_order_relaxed);
        atomic_store_explicit(&seg->max_ts_ms, max_ts, memory_order_release);
    }
    if (seg->bytes_since_index > interval_bytes) {
        uint32_t n = atomic_load_explicit(&seg->idx_n, memory_order_relaxed);
        if ((size_t)(n + 1) * SL_SEG_IDX_ENTRY <= seg->idx_map_bytes) {
            uint8_t *e = seg->idx_map + (size_t)n * SL_SEG_IDX_ENTRY;
            sl_put_be32(e, (uint32_t)(last - seg->base_offset));
            sl_put_be32(e + 4, (uint32_t)pos);
            atomic_store_explicit(&seg->idx_n, n + 1, memory_order_release);
        }
        tidx_append(seg, atomic_load(&seg->max_ts_ms), atomic_load(&seg->max_ts_offset));
        seg->bytes_since_index = 0;
    }
    seg->bytes_since_index += len;
    atomic_store_explicit(&seg->next_offset, last + 1, memory_order_release);
    atomic_store_explicit(&seg->size, pos + len, memory_order_release);
}

int sl_seg_seal(struct sl_seg *seg)
{
    if (!seg->active)
        return 0;
    /* Kafka adds the final max timestamp when a segment becomes inactive. */
    if (atomic_load(&seg->max_ts_ms) >= 0)
        tidx_append(seg, atomic_load(&seg->max_ts_ms), atomic_load(&seg->max_ts_offset));
    int rc = sl_seg_index_trim(seg, atomic_load(&seg->idx_n), atomic_load(&seg->tidx_n));
    if (rc < 0)
        return rc;
    seg->active = false;
    return 0;
}

void sl_seg_index_reset(struct sl_seg *seg)
{
    atomic_store(&seg->idx_n, 0);
    atomic_store(&seg->tidx_n, 0);
    atomic_store(&seg->max_ts_ms, -1);
    atomic_store(&seg->max_ts_offset, -1);
    seg->last_tidx_ts_ms = -1;
    seg->bytes_since_index = 0;
}

int sl_seg_truncate(struct sl_seg *seg, uint64_t pos, int64_t next)
{
    if (ftruncate(seg->log_fd, (off_t)pos) == -1)
        return -errno;
    sl_seg_verify_truncate(seg, pos);
    atomic_store(&seg->size, pos);
    atomic_store(&seg->next_offset, next);
    return 0;
}

uint64_t sl_seg_lookup_pos(const struct sl_seg *seg, int64_t target)
{
    uint32_t n = atomic_load_explicit(&seg->idx_n, memory_order_acquire);
    int64_t rel = target - seg->base_offset;
    uint32_t lo = 0, hi = n; /* find the last entry with offset <= rel */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((int64_t)sl_be32(seg->idx_map + (size_t)mid * SL_SEG_IDX_ENTRY) <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : sl_be32(seg->idx_map + (size_t)(lo - 1) * SL_SEG_IDX_ENTRY + 4);
}

uint64_t sl_seg_lookup_time_pos(const struct sl_seg *seg, int64_t ts_ms)
{
    uint32_t n = atomic_load_explicit(&seg->tidx_n, memory_order_acquire);
    uint32_t lo = 0, hi = n; /* the last entry with timestamp < ts_ms */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((int64_t)sl_be64(seg->tidx_map + (size_t)mid * SL_SEG_TIDX_ENTRY) < ts_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return 0;
    int64_t off = seg->base_offset +
                  sl_be32(seg->tidx_map + (size_t)(lo - 1) * SL_SEG_TIDX_ENTRY + 8);
    return sl_seg_lookup_pos(seg, off);
}

int sl_seg_read_hdr(const struct sl_seg *seg, uint64_t pos, uint64_t limit,
                    struct sl_batch_hdr *hdr)
{
    uint8_t buf[SL_BATCH_HEADER_SIZE];
    if (pos + SL_BATCH_HEADER_SIZE > limit)
        return -EBADMSG;
    ssize_t n = pread(seg->log_fd, buf, sizeof(buf), (off_t)pos);
    if (n < 0)
        return -errno;
    if (n != (ssize_t)sizeof(buf))
        return -EBADMSG;
    sl_batch_hdr_decode(buf, sizeof(buf), hdr);
    if (hdr->magic != SL_BATCH_MAGIC ||
        hdr->batch_length < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD ||
        pos + sl_batch_size(hdr) > limit || hdr->last_offset_delta < 0)
        return -EBADMSG;
    return 0;
}
