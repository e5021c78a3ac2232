/*
 * producer_state.c - per-partition producer state: the idempotence checks
 * of the Produce path, open transactions (first unstable offset), aborted
 * transactions (.txnindex), snapshots and the rebuild from the log on open.
 * See producer_state.h.
 *
 * Invariants (under the partition's writer lock):
 *   - an entry's batches are ring-ordered oldest..newest, all of e->epoch;
 *   - e->txn_first >= 0 exactly when the producer has an entry in ps->open;
 *   - ps->first_unstable == min(open[].first_offset), INT64_MAX when none;
 *   - ps->aborted is ordered by last_offset (markers are appended in order).
 */
#include "storage/producer_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/crc32c.h"
#include "base/diag.h"
#include "proto/gen/errors.h"
#include "record/batch.h"
#include "storage/log.h"
#include "storage/log_int.h"

struct pbatch {
    int32_t first_seq, last_seq;
    int64_t first_offset, last_offset;
};

struct entry {
    struct entry *next;           /* hash chain */
    int64_t producer_id;
    int16_t epoch;                /* -1: unknown (restored without epoch) */
    int32_t coordinator_epoch;    /* of the last marker, -1 */
    int64_t last_ts_ms;           /* wall clock of the last append, for expiry */
    int64_t txn_first;            /* first offset of the open transaction, -1 */
    uint8_t nb;                   /* batches held */
    uint8_t head;                 /* index of the oldest */
    struct pbatch b[SL_PSTATE_BATCHES];
};

struct open_txn {
    int64_t producer_id;
    int64_t first_offset;
};

struct sl_pstate {
    char *dir;
    struct sl_log *log;
    int64_t expiration_ms;        /* producer.id.expiration.ms */
    struct entry **buckets;
    size_t nbuckets, n;           /* power of two; entries */
    struct open_txn *open;        /* open transactions */
    size_t open_n, open_cap;
    int64_t first_unstable;       /* atomic; INT64_MAX when no open transaction */
    pthread_mutex_t ab_lock;      /* guards aborted for readers */
    struct sl_pstate_aborted *aborted;
    size_t ab_n, ab_cap;
    size_t last_nsegs;            /* segments seen at the last append: a change means a roll */
    int64_t last_expire_ms;       /* wall clock of the last expiry pass */
    bool loading;                 /* rebuilding from the log: write no files */
};

#define SNAPSHOT_VERSION 1
#define SNAPSHOT_HDR 10           /* version int16, crc uint32, count int32 */
#define SNAPSHOT_ENTRY 46
#define TXNINDEX_ENTRY 34
#define EXPIRE_CHECK_MS 60000

/* ---- big-endian helpers -------------------------------------------------------- */

static void be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}
static uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static uint64_t rd64(const uint8_t *p) { return ((uint64_t)rd32(p) << 32) | rd32(p + 4); }

/* ---- the hash table ------------------------------------------------------------ */

static size_t slot(const struct sl_pstate *ps, int64_t pid)
{
    uint64_t h = (uint64_t)pid * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (ps->nbuckets - 1);
}

static struct entry *find(const struct sl_pstate *ps, int64_t pid)
{
    if (!ps->nbuckets)
        return NULL;
    for (struct entry *e = ps->buckets[slot(ps, pid)]; e; e = e->next)
        if (e->producer_id == pid)
            return e;
    return NULL;
}

static int grow(struct sl_pstate *ps)
{
    size_t nb = ps->nbuckets ? ps->nbuckets * 2 : 16;
    struct entry **nv = calloc(nb, sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    struct entry **old = ps->buckets;
    size_t on = ps->nbuckets;
    ps->buckets = nv;
    ps->nbuckets = nb;
    for (size_t i = 0; i < on; i++) {
        struct entry *e = old[i];
        while (e) {
            struct entry *next = e->next;
            size_t s = slot(ps, e->producer_id);
            e->next = nv[s];
            nv[s] = e;
            e = next;
        }
    }
    free(old);
    return 0;
}

static struct entry *find_or_add(struct sl_pstate *ps, int64_t pid)
{
    struct entry *e = find(ps, pid);
    if (e)
        return e;
    if (ps->n + 1 > ps->nbuckets && grow(ps) < 0)
        return NULL;
    e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->producer_id = pid;
    e->epoch = -1;
    e->coordinator_epoch = -1;
    e->txn_first = -1;
    size_t s = slot(ps, pid);
    e->next = ps->buckets[s];
    ps->buckets[s] = e;
    ps->n++;
    return e;
}

static void remove_entry(struct sl_pstate *ps, struct entry *e)
{
    struct entry **pp = &ps->buckets[slot(ps, e->producer_id)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = e->next;
        ps->n--;
    }
    free(e);
}

static const struct pbatch *last_batch(const struct entry *e)
{
    return e->nb ? &e->b[(e->head + e->nb - 1) % SL_PSTATE_BATCHES] : NULL;
}

static void push_batch(struct entry *e, const struct pbatch *b)
{
    if (e->nb == SL_PSTATE_BATCHES) {
        e->b[e->head] = *b;
        e->head = (uint8_t)((e->head + 1) % SL_PSTATE_BATCHES);
    } else {
        e->b[(e->head + e->nb) % SL_PSTATE_BATCHES] = *b;
        e->nb++;
    }
}

/* Kafka's DefaultRecordBatch.incrementSequence: sequences wrap past INT32_MAX to 0. */
static int32_t seq_add(int32_t seq, int32_t inc)
{
    if (seq > INT32_MAX - inc)
        return inc - (INT32_MAX - seq) - 1;
    return seq + inc;
}

static bool in_sequence(int32_t last, int32_t next)
{
    return next == last + 1 || (next == 0 && last == INT32_MAX);
}

/* ---- open and aborted transactions ---------------------------------------------- */

static void publish_first_unstable(struct sl_pstate *ps)
{
    int64_t m = INT64_MAX;
    for (size_t i = 0; i < ps->open_n; i++)
        if (ps->open[i].first_offset < m)
            m = ps->open[i].first_offset;
    __atomic_store_n(&ps->first_unstable, m, __ATOMIC_RELEASE);
}

static void open_add(struct sl_pstate *ps, int64_t pid, int64_t first)
{
    if (ps->open_n == ps->open_cap) {
        size_t nc = ps->open_cap ? ps->open_cap * 2 : 8;
        struct open_txn *nv = realloc(ps->open, nc * sizeof(*nv));
        SL_ASSERT(nv != NULL);
        ps->open = nv;
        ps->open_cap = nc;
    }
    ps->open[ps->open_n++] = (struct open_txn){pid, first};
    publish_first_unstable(ps);
}

static void open_remove(struct sl_pstate *ps, int64_t pid)
{
    for (size_t i = 0; i < ps->open_n; i++)
        if (ps->open[i].producer_id == pid) {
            ps->open[i] = ps->open[--ps->open_n];
            break;
        }
    publish_first_unstable(ps);
}

static int64_t active_base(struct sl_pstate *ps)
{
    struct sl_log *log = ps->log;
    return log->nsegs ? log->segs[log->nsegs - 1]->base_offset : 0;
}

static void txnindex_path(const struct sl_pstate *ps, int64_t base, char *out, size_t n)
{
    snprintf(out, n, "%s/%020" PRId64 ".txnindex", ps->dir, base);
}

static void encode_aborted(uint8_t *p, const struct sl_pstate_aborted *a)
{
    be16(p, 0);
    be64(p + 2, (uint64_t)a->producer_id);
    be64(p + 10, (uint64_t)a->first_offset);
    be64(p + 18, (uint64_t)a->last_offset);
    be64(p + 26, (uint64_t)a->last_stable_offset);
}

static void txnindex_append(struct sl_pstate *ps, int64_t seg_base, const struct sl_pstate_aborted *a)
{
    char path[1400];
    txnindex_path(ps, seg_base, path, sizeof(path));
    uint8_t rec[TXNINDEX_ENTRY];
    encode_aborted(rec, a);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec))
        SL_WARN("pstate", "cannot append to %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

static void aborted_add(struct sl_pstate *ps, const struct sl_pstate_aborted *a)
{
    pthread_mutex_lock(&ps->ab_lock);
    if (ps->ab_n == ps->ab_cap) {
        size_t nc = ps->ab_cap ? ps->ab_cap * 2 : 16;
        struct sl_pstate_aborted *nv = realloc(ps->aborted, nc * sizeof(*nv));
        SL_ASSERT(nv != NULL);
        ps->aborted = nv;
        ps->ab_cap = nc;
    }
    ps->aborted[ps->ab_n++] = *a;
    pthread_mutex_unlock(&ps->ab_lock);
}

int sl_pstate_aborted(struct sl_pstate *ps, int64_t from, int64_t to, struct sl_pstate_aborted *out, int cap)
{
    int k = 0;
    pthread_mutex_lock(&ps->ab_lock);
    size_t lo = 0, hi = ps->ab_n;
    while (lo < hi) { /* first with last_offset >= from */
        size_t mid = lo + (hi - lo) / 2;
        if (ps->aborted[mid].last_offset < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < ps->ab_n; i++)
        if (ps->aborted[i].first_offset < to) {
            if (k < cap)
                out[k] = ps->aborted[i];
            k++;
        }
    pthread_mutex_unlock(&ps->ab_lock);
    return k;
}

int64_t sl_pstate_first_unstable(const struct sl_pstate *ps)
{
    return __atomic_load_n(&ps->first_unstable, __ATOMIC_ACQUIRE);
}

/* ---- snapshots ------------------------------------------------------------------ */

static int snapshot_path(const struct sl_pstate *ps, int64_t off, char *out, size_t n)
{
    return snprintf(out, n, "%s/%020" PRId64 ".snapshot", ps->dir, off);
}

static bool parse_numbered(const char *name, const char *suffix, int64_t *off)
{
    size_t sl = strlen(suffix);
    if (strlen(name) != 20 + sl || strcmp(name + 20, suffix) != 0)
        return false;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        v = v * 10 + (name[i] - '0');
    }
    *off = v;
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Offsets of the files dir/<20 digits><suffix>, ascending, in a malloc'd array. */
static int list_numbered(const char *dir, const char *suffix, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        int64_t off;
        if (!parse_numbered(de->d_name, suffix, &off))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            int64_t *nv = realloc(*out, cap * sizeof(**out));
            if (!nv) {
                closedir(d);
                return -ENOMEM;
            }
            *out = nv;
        }
        (*out)[(*n)++] = off;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof(**out), cmp_i64);
    return 0;
}

/* Writes <off>.snapshot (via a temporary and a rename) and keeps the newest
 * two. Not synced: a torn snapshot fails its CRC and is skipped on open. */
static uint8_t *put_entry(uint8_t *p, const struct entry *e, const struct pbatch *b)
{
    be64(p, (uint64_t)e->producer_id);
    be16(p + 8, (uint16_t)e->epoch);
    be32(p + 10, (uint32_t)(b ? b->last_seq : -1));
    be64(p + 14, (uint64_t)(b ? b->last_offset : -1));
    be32(p + 22, (uint32_t)(b ? (int32_t)(b->last_offset - b->first_offset) : 0));
    be64(p + 26, (uint64_t)e->last_ts_ms);
    be32(p + 34, (uint32_t)e->coordinator_epoch);
    be64(p + 38, (uint64_t)e->txn_first);
    return p + SNAPSHOT_ENTRY;
}

/* Writes <off>.snapshot (via a temporary and a rename) and keeps the newest
 * two. Not synced: a torn snapshot fails its CRC and is skipped on open.
 * Kafka's format holds one entry per producer, its last batch; we write one
 * entry per remembered batch, oldest first, so retries of any of the last 5
 * batches are still recognized after a restart. A Kafka reader keeps the
 * last entry of each producer, which is exactly its own snapshot. */
static void write_snapshot(struct sl_pstate *ps, int64_t off)
{
    size_t count = 0;
    for (size_t i = 0; i < ps->nbuckets; i++)
        for (struct entry *e = ps->buckets[i]; e; e = e->next)
            count += e->nb ? e->nb : 1;
    size_t len = SNAPSHOT_HDR + count * SNAPSHOT_ENTRY;
    uint8_t *buf = malloc(len);
    if (!buf)
        return;
    uint8_t *p = buf + SNAPSHOT_HDR;
    for (size_t i = 0; i < ps->nbuckets; i++)
        for (struct entry *e = ps->buckets[i]; e; e = e->next) {
            if (!e->nb)
                p = put_entry(p, e, NULL);
            for (int k = 0; k < e->nb; k++)
                p = put_entry(p, e, &e->b[(e->head + k) % SL_PSTATE_BATCHES]);
        }
    be16(buf, SNAPSHOT_VERSION);
    be32(buf + 6, (uint32_t)count);
    be32(buf + 2, sl_crc32c(0, buf + 6, len - 6));
    char path[1400], tmp[1410];
    snapshot_path(ps, off, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write(fd, buf, len) == (ssize_t)len;
    if (fd >= 0)
        close(fd);
    free(buf);
    if (!ok || rename(tmp, path) != 0) {
        SL_WARN("pstate", "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return;
    }
    int64_t *offs;
    size_t n;
    if (list_numbered(ps->dir, ".snapshot", &offs, &n) == 0) {
        for (size_t i = 0; i + 2 < n; i++) {
            snapshot_path(ps, offs[i], path, sizeof(path));
            unlink(path);
        }
    }
    free(offs);
}

/* Loads one snapshot file; -EBADMSG when torn or of an unknown version. */
static int load_snapshot(struct sl_pstate *ps, int64_t off, int64_t now_ms)
{
    char path[1400];
    snapshot_path(ps, off, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    off_t size = lseek(fd, 0, SEEK_END);
    uint8_t *buf = size >= SNAPSHOT_HDR && size < (64 << 20) ? malloc((size_t)size) : NULL;
    bool ok = buf && pread(fd, buf, (size_t)size, 0) == size;
    close(fd);
    if (!ok) {
        free(buf);
        return -EBADMSG;
    }
    size_t len = (size_t)size;
    uint32_t count = rd32(buf + 6);
    if (rd16(buf) != SNAPSHOT_VERSION || rd32(buf + 2) != sl_crc32c(0, buf + 6, len - 6) ||
        (uint64_t)count * SNAPSHOT_ENTRY != len - SNAPSHOT_HDR) {
        free(buf);
        return -EBADMSG;
    }
    const uint8_t *p = buf + SNAPSHOT_HDR;
    for (uint32_t i = 0; i < count; i++, p += SNAPSHOT_ENTRY) {
        struct entry *e = find_or_add(ps, (int64_t)rd64(p));
        if (!e) {
            free(buf);
            return -ENOMEM;
        }
        e->epoch = (int16_t)rd16(p + 8);
        int32_t last_seq = (int32_t)rd32(p + 10);
        int64_t last_off = (int64_t)rd64(p + 14);
        int32_t delta = (int32_t)rd32(p + 22);
        e->last_ts_ms = (int64_t)rd64(p + 26);
        if (e->last_ts_ms > now_ms)
            e->last_ts_ms = now_ms;
        e->coordinator_epoch = (int32_t)rd32(p + 34);
        bool was_open = e->txn_first >= 0;
        e->txn_first = (int64_t)rd64(p + 38);
        if (last_off >= 0 && last_seq >= 0) {
            struct pbatch b = {last_seq - delta >= 0 ? last_seq - delta : 0, last_seq, last_off - delta, last_off};
            push_batch(e, &b);
        }
        if (e->txn_first >= 0 && !was_open)
            open_add(ps, e->producer_id, e->txn_first);
    }
    free(buf);
    return 0;
}

/* ---- checks and updates ---------------------------------------------------------- */

int sl_pstate_check(struct sl_pstate *ps, const struct sl_batch_hdr *hdr, int64_t *dup_base, int64_t *dup_last)
{
    bool txn = sl_batch_is_transactional(hdr);
    if (hdr->producer_id < 0)
        return txn ? SL_KERR_INVALID_RECORD : 0;
    struct entry *e = find(ps, hdr->producer_id);
    if (!e) /* Kafka 4.0 (KIP-360): an unknown producer may start at any sequence */
        return 0;
    int32_t first = hdr->base_sequence, last = seq_add(first, hdr->last_offset_delta);
    if (hdr->producer_epoch == e->epoch) {
        for (int i = 0; i < e->nb; i++) {
            const struct pbatch *b = &e->b[(e->head + i) % SL_PSTATE_BATCHES];
            if (b->first_seq == first && b->last_seq == last) {
                *dup_base = b->first_offset;
                *dup_last = b->last_offset;
                return SL_PSTATE_DUPLICATE;
            }
        }
    }
    if (hdr->producer_epoch < e->epoch)
        return SL_KERR_INVALID_PRODUCER_EPOCH;
    if (hdr->producer_epoch != e->epoch) {
        if (first != 0 && e->epoch != -1)
            return SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    } else {
        const struct pbatch *b = last_batch(e);
        if (!in_sequence(b ? b->last_seq : -1, first))
            return SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    }
    if (!txn && e->txn_first >= 0)
        return SL_KERR_INVALID_TXN_STATE; /* a plain write inside this producer's open transaction */
    return 0;
}

/* The control record's type (SL_CONTROL_*) and coordinator epoch; -1 when unreadable. */
static int marker_type(const uint8_t *batch, size_t len, int32_t *coord_epoch)
{
    struct sl_batch_iter it;
    int type = -1;
    *coord_epoch = -1;
    if (sl_batch_iter_init(&it, batch, len, 1 << 16) == 0) {
        struct sl_record r;
        if (sl_batch_iter_next(&it, &r) == 1 && r.key.p && r.key.len >= 4) {
            type = (int16_t)rd16(r.key.p + 2);
            if (r.value.p && r.value.len >= 6)
                *coord_epoch = (int32_t)rd32(r.value.p + 2);
        }
    }
    sl_batch_iter_fini(&it);
    return type;
}

static void apply_batch(struct sl_pstate *ps, const struct sl_batch_hdr *hdr, const uint8_t *batch, size_t len,
                        int64_t base, int64_t now_ms)
{
    struct entry *e = find_or_add(ps, hdr->producer_id);
    if (!e) {
        SL_ERROR("pstate", "out of memory for producer %" PRId64, hdr->producer_id);
        return;
    }
    int64_t last_off = base + hdr->last_offset_delta;
    if (sl_batch_is_control(hdr)) {
        int32_t ce;
        int type = marker_type(batch, len, &ce);
        if (e->txn_first >= 0) {
            int64_t first = e->txn_first;
            e->txn_first = -1;
            open_remove(ps, e->producer_id);
            if (type == SL_CONTROL_ABORT) {
                int64_t fu = sl_pstate_first_unstable(ps);
                struct sl_pstate_aborted a = {e->producer_id, first, last_off,
                                              fu == INT64_MAX ? last_off + 1 : fu};
                aborted_add(ps, &a);
                if (!ps->loading)
                    txnindex_append(ps, active_base(ps), &a);
            }
        }
        if (hdr->producer_epoch > e->epoch) {
            e->epoch = hdr->producer_epoch;
            e->nb = e->head = 0;
        }
        if (ce >= 0)
            e->coordinator_epoch = ce;
    } else {
        if (hdr->producer_epoch != e->epoch) {
            e->epoch = hdr->producer_epoch;
            e->nb = e->head = 0;
        }
        struct pbatch b = {hdr->base_sequence, seq_add(hdr->base_sequence, hdr->last_offset_delta), base, last_off};
        push_batch(e, &b);
        if (sl_batch_is_transactional(hdr) && e->txn_first < 0) {
            e->txn_first = base;
            open_add(ps, e->producer_id, base);
        }
    }
    e->last_ts_ms = now_ms;
}

void sl_pstate_appended(struct sl_pstate *ps, const struct sl_batch_hdr *hdr, const uint8_t *batch, size_t len,
                        int64_t base_offset, int64_t now_ms)
{
    if (hdr->producer_id >= 0)
        apply_batch(ps, hdr, batch, len, base_offset, now_ms);
    size_t nsegs = ps->log->nsegs;
    if (nsegs != ps->last_nsegs) {
        bool rolled = nsegs > ps->last_nsegs;
        ps->last_nsegs = nsegs;
        if (rolled)
            write_snapshot(ps, sl_log_end_offset(ps->log));
    }
    if (now_ms - ps->last_expire_ms >= EXPIRE_CHECK_MS)
        sl_pstate_expire(ps, now_ms);
}

void sl_pstate_expire(struct sl_pstate *ps, int64_t now_ms)
{
    ps->last_expire_ms = now_ms;
    for (size_t i = 0; i < ps->nbuckets; i++) {
        struct entry *e = ps->buckets[i];
        while (e) {
            struct entry *next = e->next;
            if (e->txn_first < 0 && now_ms - e->last_ts_ms >= ps->expiration_ms)
                remove_entry(ps, e);
            e = next;
        }
    }
}

bool sl_pstate_in_txn(struct sl_pstate *ps, int64_t producer_id)
{
    struct entry *e = find(ps, producer_id);
    return e && e->txn_first >= 0;
}

int sl_pstate_epoch(struct sl_pstate *ps, int64_t producer_id)
{
    struct entry *e = find(ps, producer_id);
    return e ? e->epoch : -1;
}

size_t sl_pstate_count(const struct sl_pstate *ps) { return ps->n; }

void sl_pstate_each(struct sl_pstate *ps, void (*fn)(void *arg, const struct sl_pstate_info *info), void *arg)
{
    for (size_t i = 0; i < ps->nbuckets; i++)
        for (struct entry *e = ps->buckets[i]; e; e = e->next) {
            const struct pbatch *b = last_batch(e);
            struct sl_pstate_info info = {e->producer_id, e->epoch, b ? b->last_seq : -1, e->last_ts_ms,
                                          e->coordinator_epoch, e->txn_first};
            fn(arg, &info);
        }
}

/* ---- open: snapshot, txnindex, scan ------------------------------------------------ */

/* Replays the batches of [from, end) into the state. */
static int scan_log(struct sl_pstate *ps, int64_t from, int64_t now_ms)
{
    struct sl_log *log = ps->log;
    int64_t off = from, end = sl_log_end_offset(log);
    int rc = 0;
    while (off < end) {
        struct sl_obuf ob;
        sl_obuf_init(&ob);
        rc = sl_log_read(log, off, end, 4u << 20, &ob);
        if (rc < 0 || ob.total_len == 0) {
            sl_obuf_fini(&ob);
            break;
        }
        size_t len = ob.total_len;
        uint8_t *buf = malloc(len);
        if (!buf) {
            sl_obuf_fini(&ob);
            return -ENOMEM;
        }
        rc = sl_obuf_flatten(&ob, buf);
        sl_obuf_fini(&ob);
        if (rc < 0) {
            free(buf);
            break;
        }
        size_t pos = 0;
        int64_t next = off;
        while (pos + SL_BATCH_HEADER_SIZE <= len) {
            struct sl_batch_hdr hdr;
            sl_batch_hdr_decode(buf + pos, len - pos, &hdr);
            size_t size = sl_batch_size(&hdr);
            if (hdr.batch_length < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD || pos + size > len)
                break;
            if (hdr.producer_id >= 0 && sl_batch_last_offset(&hdr) >= from)
                /* Rescanned producers count as active now: a batch's own
                 * timestamp is the client's and may be far in the past. */
                apply_batch(ps, &hdr, buf + pos, size, hdr.base_offset, now_ms);
            next = sl_batch_last_offset(&hdr) + 1;
            pos += size;
        }
        free(buf);
        if (next <= off)
            break;
        off = next;
    }
    return rc < 0 && rc != -ERANGE ? rc : 0;
}

/* Reads every .txnindex entry that ends below `below` (later ones come back
 * from the scan). Returns whether some file held an entry at or beyond it. */
static bool load_txnindex(struct sl_pstate *ps, int64_t below)
{
    int64_t *bases;
    size_t n;
    bool stale = false;
    if (list_numbered(ps->dir, ".txnindex", &bases, &n) < 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char path[1400];
        txnindex_path(ps, bases[i], path, sizeof(path));
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        uint8_t rec[TXNINDEX_ENTRY];
        while (read(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec)) {
            struct sl_pstate_aborted a = {(int64_t)rd64(rec + 2), (int64_t)rd64(rec + 10), (int64_t)rd64(rec + 18),
                                          (int64_t)rd64(rec + 26)};
            if (a.last_offset < below)
                aborted_add(ps, &a);
            else
                stale = true;
        }
        close(fd);
    }
    free(bases);
    return stale;
}

/* Rewrites the .txnindex files from memory: each entry in the file of the
 * segment holding its marker. */
static void rewrite_txnindex(struct sl_pstate *ps)
{
    int64_t *bases;
    size_t n;
    char path[1400];
    if (list_numbered(ps->dir, ".txnindex", &bases, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            txnindex_path(ps, bases[i], path, sizeof(path));
            unlink(path);
        }
    }
    free(bases);
    struct sl_log *log = ps->log;
    for (size_t i = 0; i < ps->ab_n; i++) {
        int64_t seg_base = 0;
        for (size_t s = 0; s < log->nsegs; s++)
            if (log->segs[s]->base_offset <= ps->aborted[i].last_offset)
                seg_base = log->segs[s]->base_offset;
        txnindex_append(ps, seg_base, &ps->aborted[i]);
    }
}

static int cmp_aborted(const void *a, const void *b)
{
    const struct sl_pstate_aborted *x = a, *y = b;
    return x->last_offset < y->last_offset ? -1 : x->last_offset > y->last_offset;
}

int sl_pstate_open(const char *dir, struct sl_log *log, int64_t expiration_ms, struct sl_pstate **out)
{
    struct sl_pstate *ps = calloc(1, sizeof(*ps));
    if (!ps || !(ps->dir = strdup(dir))) {
        free(ps);
        return -ENOMEM;
    }
    ps->log = log;
    ps->expiration_ms = expiration_ms > 0 ? expiration_ms : 86400000;
    ps->first_unstable = INT64_MAX;
    pthread_mutex_init(&ps->ab_lock, NULL);
    ps->loading = true;
    int64_t now = sl_clock_wall_ms();
    int64_t start = sl_log_start_offset(log), end = sl_log_end_offset(log), from = start;
    int64_t *offs;
    size_t n;
    bool loaded = false;
    if (list_numbered(dir, ".snapshot", &offs, &n) == 0) {
        for (size_t i = n; i-- > 0;) {
            char path[1400];
            snapshot_path(ps, offs[i], path, sizeof(path));
            if (offs[i] > end || offs[i] < start) {
                unlink(path); /* beyond a truncated tail, or below the log start */
                continue;
            }
            if (loaded)
                continue; /* an older one: keep it, as Kafka keeps a few */
            /* The CRC is checked before anything is taken from the file. */
            if (load_snapshot(ps, offs[i], now) == 0) {
                from = offs[i];
                loaded = true;
            } else {
                SL_WARN("pstate", "deleting unreadable snapshot %s", path);
                unlink(path);
            }
        }
    }
    free(offs);
    bool stale = load_txnindex(ps, from);
    size_t from_files = ps->ab_n;
    int rc = scan_log(ps, from, now);
    if (rc < 0) {
        sl_pstate_close(ps, false);
        return rc;
    }
    if (ps->ab_n > 1)
        qsort(ps->aborted, ps->ab_n, sizeof(*ps->aborted), cmp_aborted);
    if (stale || ps->ab_n != from_files)
        rewrite_txnindex(ps);
    ps->last_nsegs = log->nsegs;
    sl_pstate_expire(ps, now);
    ps->loading = false;
    if (end > start)
        SL_DEBUG("pstate", "%s: %zu producers, %zu open transactions, scanned from %" PRId64, dir, ps->n,
                 ps->open_n, from);
    *out = ps;
    return 0;
}

void sl_pstate_close(struct sl_pstate *ps, bool write)
{
    if (!ps)
        return;
    if (write) {
        /* A snapshot at the log end already holds this state (only appends
         * change it): keep it, as Kafka does, rather than rewrite it. */
        int64_t end = sl_log_end_offset(ps->log);
        char path[1400];
        snapshot_path(ps, end, path, sizeof(path));
        if (access(path, F_OK) != 0)
            write_snapshot(ps, end);
    }
    for (size_t i = 0; i < ps->nbuckets; i++) {
        struct entry *e = ps->buckets[i];
        while (e) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(ps->buckets);
    free(ps->open);
    free(ps->aborted);
    pthread_mutex_destroy(&ps->ab_lock);
    free(ps->dir);
    free(ps);
}
