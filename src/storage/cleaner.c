/*
 * cleaner.c - one compaction pass over a partition log (see cleaner.h):
 * the cleanable range and dirty ratio, the offset map, and rewriting each
 * group of segments into a .cleaned segment. The swap and its recovery are
 * in cleaner_swap.c.
 *
 * Record retention rule (Kafka's shouldRetainRecord): a record without a
 * key is dropped; a record whose key appears at a higher offset in the
 * offset map is dropped; a tombstone (null value) that survives that is
 * dropped once its timestamp is older than delete.retention.ms. Control
 * batches are kept whole. A batch keeping all its records is copied
 * byte-for-byte; one keeping some is rebuilt around the kept records as
 * encoded (same codec, offsets, timestamps and producer fields); one keeping
 * none is dropped.
 */
#include "storage/cleaner.h"

#include "base/diag.h"
#include "record/batch.h"
#include "record/rebuild.h"
#include "storage/log_int.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- offset map: 128-bit key hash -> latest offset (as Kafka's SkimpyOffsetMap) ---- */

struct omap_entry {
    uint64_t h1, h2;  /* key hash; h1 == 0 && h2 == 0 marks a free slot */
    int64_t offset;   /* latest offset of the key */
};

struct omap {
    struct omap_entry *v; /* cap slots */
    size_t cap;           /* power of two */
    size_t n;             /* used slots */
    size_t max;           /* bound on n */
};

static uint64_t murmur64(const uint8_t *p, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    uint64_t h = seed ^ (len * m);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t k;
        memcpy(&k, p + i, 8);
        k *= m;
        k ^= k >> 47;
        k *= m;
        h ^= k;
        h *= m;
    }
    uint64_t t = 0;
    for (size_t j = len - i; j > 0; j--)
        t = (t << 8) | p[i + j - 1];
    if (len - i) {
        h ^= t;
        h *= m;
    }
    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;
    return h;
}

static void key_hash(const uint8_t *k, size_t len, uint64_t *h1, uint64_t *h2)
{
    *h1 = murmur64(k, len, 0x9e3779b97f4a7c15ULL);
    *h2 = murmur64(k, len, 0x243f6a8885a308d3ULL);
    if (*h1 == 0 && *h2 == 0)
        *h2 = 1;
}

static struct omap_entry *omap_slot(struct omap *m, uint64_t h1, uint64_t h2)
{
    size_t mask = m->cap - 1, i = (size_t)h1 & mask;
    for (;;) {
        struct omap_entry *e = &m->v[i];
        if ((e->h1 == 0 && e->h2 == 0) || (e->h1 == h1 && e->h2 == h2))
            return e;
        i = (i + 1) & mask;
    }
}

static int omap_grow(struct omap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    struct omap_entry *v = calloc(cap, sizeof(*v));
    if (!v)
        return -ENOMEM;
    struct omap old = *m;
    m->v = v;
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.v[i].h1 || old.v[i].h2)
            *omap_slot(m, old.v[i].h1, old.v[i].h2) = old.v[i];
    free(old.v);
    return 0;
}

/* 0, -ENOSPC when the map is at its bound (the key is not added). */
static int omap_put(struct omap *m, const uint8_t *k, size_t len, int64_t offset)
{
    uint64_t h1, h2;
    key_hash(k, len, &h1, &h2);
    if (m->cap == 0 || (m->n + 1) * 4 > m->cap * 3) {
        int rc = omap_grow(m);
        if (rc < 0)
            return rc;
    }
    struct omap_entry *e = omap_slot(m, h1, h2);
    if (e->h1 == 0 && e->h2 == 0) {
        if (m->n >= m->max)
            return -ENOSPC;
        m->n++;
        e->h1 = h1;
        e->h2 = h2;
    }
    e->offset = offset;
    return 0;
}

static int64_t omap_get(const struct omap *m, const uint8_t *k, size_t len)
{
    if (m->cap == 0)
        return -1;
    uint64_t h1, h2;
    key_hash(k, len, &h1, &h2);
    const struct omap_entry *e = omap_slot((struct omap *)m, h1, h2);
    return (e->h1 || e->h2) ? e->offset : -1;
}

/* ---- reading batches of a segment ---- */

struct reader {
    struct sl_seg *seg;
    uint64_t pos, limit; /* next batch, end of the segment */
    uint8_t *buf;        /* the current batch (owned) */
    size_t cap;          /* bytes allocated in buf */
};

/* 1 with buf holding one whole batch (*len bytes, *hdr decoded), 0 at the
 * end, -errno. */
static int reader_next(struct reader *r, struct sl_batch_hdr *hdr, size_t *len)
{
    if (r->pos >= r->limit)
        return 0;
    int rc = sl_seg_read_hdr(r->seg, r->pos, r->limit, hdr);
    if (rc < 0)
        return rc == -EBADMSG ? -EIO : rc;
    size_t size = sl_batch_size(hdr);
    if (size > r->cap) {
        uint8_t *nb = realloc(r->buf, size);
        if (!nb)
            return -ENOMEM;
        r->buf = nb;
        r->cap = size;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(r->seg->log_fd, r->buf + done, size - done, (off_t)(r->pos + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    /* A batch corrupted on disk must not be laundered into a new batch with
     * a valid CRC: the cleaning stops and the segment stays as it is. */
    if (sl_batch_compute_crc(r->buf, size) != hdr->crc) {
        SL_ERROR("cleaner", "%s.log: the batch at position %llu fails its CRC check; not cleaning",
                 r->seg->path, (unsigned long long)r->pos);
        return -EBADMSG;
    }
    r->pos += size;
    *len = size;
    return 1;
}

static bool stopped(const struct sl_clean_conf *conf)
{
    return conf->stop && atomic_load_explicit(conf->stop, memory_order_relaxed);
}

/* Adds every keyed record of seg to the map. -ENOSPC when the map filled. */
static int map_segment(struct omap *m, struct sl_seg *seg, const struct sl_clean_conf *conf,
                       struct sl_clean_stats *st)
{
    struct reader r = {seg, 0, atomic_load(&seg->size), NULL, 0};
    struct sl_batch_hdr h;
    size_t len;
    int rc;
    while ((rc = reader_next(&r, &h, &len)) == 1) {
        if (stopped(conf)) {
            rc = -ECANCELED;
            break;
        }
        st->bytes_read += len;
        if (sl_batch_is_control(&h))
            continue;
        struct sl_batch_iter it;
        struct sl_record rec;
        if ((rc = sl_batch_iter_init(&it, r.buf, len, 0)) == 0) {
            while ((rc = sl_batch_iter_next(&it, &rec)) == 1)
                if (rec.key.p && (rc = omap_put(m, rec.key.p, rec.key.len, rec.offset)) < 0)
                    break;
        }
        sl_batch_iter_fini(&it);
        if (rc < 0)
            break;
    }
    free(r.buf);
    return rc < 0 ? rc : 0;
}

/* ---- rewriting a group of segments ---- */

struct kept {
    uint8_t *buf; /* kept records, as encoded */
    size_t len, cap;
};

static int kept_add(struct kept *k, const uint8_t *p, size_t n)
{
    if (k->len + n > k->cap) {
        size_t cap = k->cap ? k->cap : 4096;
        while (cap < k->len + n)
            cap *= 2;
        uint8_t *nb = realloc(k->buf, cap);
        if (!nb)
            return -ENOMEM;
        k->buf = nb;
        k->cap = cap;
    }
    memcpy(k->buf + k->len, p, n);
    k->len += n;
    return 0;
}

static int write_batch(struct sl_log *log, struct sl_seg *cs, const uint8_t *b, size_t len,
                       struct sl_clean_stats *st)
{
    struct sl_batch_hdr h;
    sl_batch_hdr_decode(b, len, &h);
    uint64_t pos = atomic_load(&cs->size);
    int rc = sl_seg_write(cs, b, len);
    if (rc < 0)
        return rc;
    sl_seg_publish(cs, pos, len, sl_batch_last_offset(&h), h.max_timestamp,
                   (uint32_t)log->conf.index_interval_bytes);
    st->bytes_written += len;
    return 0;
}

/* Filters one batch (r->buf, len bytes) into cs. */
static int clean_batch(struct sl_log *log, struct sl_seg *cs, const struct omap *m,
                       const struct sl_clean_conf *conf, const uint8_t *b, size_t len,
                       const struct sl_batch_hdr *h, struct kept *k, struct sl_clean_stats *st)
{
    if (sl_batch_is_control(h))
        return write_batch(log, cs, b, len, st);
    struct sl_batch_iter it;
    struct sl_record rec;
    int rc = sl_batch_iter_init(&it, b, len, 0);
    int32_t count = 0;
    uint64_t tomb = 0;
    k->len = 0;
    while (rc == 0) {
        const uint8_t *at = it.p;
        int more = sl_batch_iter_next(&it, &rec);
        if (more <= 0) {
            rc = more;
            break;
        }
        bool keep = rec.key.p != NULL;
        if (keep) {
            int64_t latest = omap_get(m, rec.key.p, rec.key.len);
            keep = latest <= rec.offset;
        }
        if (keep && !rec.value.p && conf->delete_retention_ms >= 0 &&
            conf->now_ms - rec.timestamp > conf->delete_retention_ms) {
            keep = false;
            tomb++;
        }
        if (keep) {
            rc = kept_add(k, at, (size_t)(it.p - at));
            count++;
        }
    }
    int codec = sl_batch_codec(h);
    sl_batch_iter_fini(&it);
    if (rc < 0)
        return rc;
    st->records_removed += (uint64_t)(h->records_count - count);
    st->tombstones_removed += tomb;
    if (count == h->records_count)
        return write_batch(log, cs, b, len, st);
    if (count == 0)
        return 0;
    uint8_t *nb;
    size_t nlen;
    if ((rc = sl_batch_rebuild(b, k->buf, k->len, count, codec, 0, &nb, &nlen)) < 0)
        return rc;
    rc = write_batch(log, cs, nb, nlen, st);
    free(nb);
    return rc;
}

static int sync_seg(struct sl_seg *seg)
{
    if (fdatasync(seg->log_fd) == -1)
        return -errno;
    return sl_seg_index_sync(seg);
}

/* Rewrites g[0..k) into one cleaned segment and swaps it in. */
static int clean_group(struct sl_log *log, struct sl_seg **g, size_t k, const struct omap *m,
                       const struct sl_clean_conf *conf, struct sl_clean_stats *st)
{
    struct sl_seg *cs = NULL;
    char path[PATH_MAX];
    static const char *exts[] = {".log", ".index", ".timeindex"};
    for (int i = 0; i < 3; i++) { /* a previous attempt's leftovers */
        snprintf(path, sizeof(path), "%s/%020" PRId64 "%s.cleaned", log->dir, g[0]->base_offset,
                 exts[i]);
        unlink(path);
    }
    int rc = sl_seg_open_suffix(log->dir, g[0]->base_offset, ".cleaned", true, true,
                                (size_t)log->conf.segment_index_bytes, &cs);
    if (rc < 0)
        return rc;
    struct kept kb = {0};
    for (size_t i = 0; i < k && rc == 0; i++) {
        struct reader r = {g[i], 0, atomic_load(&g[i]->size), NULL, 0};
        struct sl_batch_hdr h;
        size_t len;
        while ((rc = reader_next(&r, &h, &len)) == 1) {
            if (stopped(conf)) {
                rc = -ECANCELED;
                break;
            }
            if ((rc = clean_batch(log, cs, m, conf, r.buf, len, &h, &kb, st)) < 0)
                break;
        }
        free(r.buf);
    }
    free(kb.buf);
    if (rc == 0 && (rc = sl_seg_seal(cs)) == 0)
        rc = sync_seg(cs);
    if (rc < 0) {
        sl_seg_unlink(cs);
        sl_seg_release(cs);
        for (size_t i = 0; i < k; i++)
            sl_seg_release(g[i]);
        return rc;
    }
    /* The swap takes over cs and the references on g. */
    rc = sl_log_swap_cleaned(log, cs, g, k, conf->writer_lock);
    if (rc == 0)
        st->segments_swapped++;
    return rc;
}

/* Base timestamp of the segment's first batch, -1 when empty. */
static int64_t first_ts(struct sl_seg *seg)
{
    struct sl_batch_hdr h;
    if (sl_seg_read_hdr(seg, 0, atomic_load(&seg->size), &h) < 0)
        return -1;
    return h.base_timestamp;
}

int sl_log_clean(struct sl_log *log, const struct sl_clean_conf *conf, int64_t first_dirty,
                 struct sl_clean_stats *st_out)
{
    struct sl_clean_stats st = {.first_dirty = first_dirty, .clean_end = -1};
    struct omap m = {.max = conf->map_max_entries ? conf->map_max_entries
                                                  : SL_CLEAN_DEFAULT_MAP_ENTRIES};
    int rc = 0;
    pthread_mutex_lock(&log->segs_lock);
    size_t n = log->nsegs, used = 0; /* used: references handed to the swap */
    struct sl_seg **segs = malloc(n * sizeof(*segs));
    if (segs)
        for (size_t i = 0; i < n; i++) {
            segs[i] = log->segs[i];
            sl_seg_ref(segs[i]);
        }
    pthread_mutex_unlock(&log->segs_lock);
    if (!segs)
        return -ENOMEM;
    /* Cleanable: closed segments wholly below max_offset and old enough. */
    size_t cnt = 0;
    while (cnt + 1 < n && segs[cnt + 1]->base_offset <= conf->max_offset &&
           (conf->min_compaction_lag_ms <= 0 ||
            atomic_load(&segs[cnt]->max_ts_ms) <= conf->now_ms - conf->min_compaction_lag_ms))
        cnt++;
    if (cnt == 0) {
        rc = -EAGAIN;
        goto out;
    }
    int64_t clean_end = segs[cnt]->base_offset;
    if (first_dirty < segs[0]->base_offset)
        first_dirty = segs[0]->base_offset;
    st.first_dirty = first_dirty;
    if (first_dirty >= clean_end) {
        rc = -EAGAIN;
        goto out;
    }
    size_t d = 0;
    while (d + 1 < cnt && segs[d + 1]->base_offset <= first_dirty)
        d++;
    uint64_t dirty = 0, total = 0;
    for (size_t i = 0; i < cnt; i++) {
        uint64_t sz = atomic_load(&segs[i]->size);
        total += sz;
        if (i >= d)
            dirty += sz;
    }
    st.dirty_ratio = total ? (double)dirty / (double)total : 0;
    int64_t ts = first_ts(segs[d]);
    bool overdue = conf->max_compaction_lag_ms >= 0 && conf->max_compaction_lag_ms < INT64_MAX &&
                   ts >= 0 && conf->now_ms - ts > conf->max_compaction_lag_ms;
    if (!conf->force && !overdue && st.dirty_ratio < conf->min_cleanable_ratio) {
        rc = -EAGAIN;
        goto out;
    }
    /* The offset map over the dirty part; when it fills, clean only up to
     * the segment it filled in (Kafka stops at a segment boundary; the first
     * dirty segment is always taken whole, its unmapped keys simply kept). */
    for (size_t i = d; i < cnt; i++) {
        rc = map_segment(&m, segs[i], conf, &st);
        if (rc == -ENOSPC) {
            cnt = i > d ? i : i + 1;
            clean_end = segs[cnt]->base_offset;
            rc = 0;
            break;
        }
        if (rc < 0)
            goto out;
    }
    /* Groups from the log start, each at most segment.bytes and an int32 of offsets. */
    for (size_t i = 0; i < cnt && rc == 0;) {
        size_t j = i + 1;
        uint64_t sum = atomic_load(&segs[i]->size);
        while (j < cnt && sum + atomic_load(&segs[j]->size) <= (uint64_t)log->conf.segment_bytes &&
               segs[j + 1]->base_offset - 1 - segs[i]->base_offset <= INT32_MAX) {
            sum += atomic_load(&segs[j]->size);
            j++;
        }
        rc = clean_group(log, segs + i, j - i, &m, conf, &st);
        used = j;
        i = j;
    }
    if (rc == 0)
        st.clean_end = clean_end;
out:
    for (size_t i = used; i < n; i++)
        sl_seg_release(segs[i]);
    free(segs);
    free(m.v);
    if (st_out)
        *st_out = st;
    return rc;
}
