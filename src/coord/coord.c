/*
 * coord.c - the coordinator thread: its queue and timed wait, the
 * __consumer_offsets store behind struct sl_gstore (append under the
 * partition's lock, sync by the flusher, completion back through the
 * queue), and loading a partition's groups and offsets from its log.
 * See coord.h for the threading model.
 */
#include "coord/coord.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/diag.h"
#include "base/list.h"
#include "broker/broker.h"
#include "broker/parts.h"
#include "conf/conf.h"
#include "coord/group_int.h"
#include "meta/image.h"
#include "proto/gen/api.h"
#include "proto/gen/errors.h"
#include "record/batch.h"
#include "storage/flusher.h"
#include "storage/log.h"

#define OFFSETS_TOPIC "__consumer_offsets"

struct cpart {                  /* one __consumer_offsets partition */
    struct sl_part *part;       /* referenced once loaded; NULL before */
    bool loaded;
};

struct completion {             /* a write made durable (or failed) */
    struct sl_list link;        /* in coord->done_q */
    struct sl_coord *coord;
    struct sl_part *part;       /* referenced */
    sl_gstore_done_fn done;
    void *arg;
    int err;
};

struct sl_coord {
    struct sl_broker *broker;
    pthread_t thread;
    pthread_mutex_t lock;       /* guards the queues and stopping */
    pthread_cond_t cond;        /* signalled when something is queued */
    struct sl_list op_q;        /* struct sl_gop, submitted */
    struct sl_list done_q;      /* struct completion */
    bool stopping;              /* no more ops accepted; thread exits once queues drain */
    /* coordinator thread only: */
    struct sl_gc gc;
    int32_t cparts_n;
    struct cpart *cparts;
};

/* ---- the store -------------------------------------------------------------------- */

static void flushed(void *arg, int err) /* Thread: flusher (or the writer on -ENOMEM). */
{
    struct completion *c = arg;
    if (err == 0)
        sl_part_advance_hwm(c->part, sl_log_durable_offset(c->part->log));
    c->err = err;
    struct sl_coord *coord = c->coord;
    pthread_mutex_lock(&coord->lock);
    sl_list_push_back(&coord->done_q, &c->link);
    pthread_cond_signal(&coord->cond);
    pthread_mutex_unlock(&coord->lock);
}

static int store_write(void *ctx, int32_t partition, const struct sl_grec *recs, int n, sl_gstore_done_fn done,
                       void *arg)
{
    struct sl_coord *coord = ctx;
    if (partition < 0 || partition >= coord->cparts_n || !coord->cparts[partition].part)
        return -ENOENT;
    struct sl_part *part = coord->cparts[partition].part;
    struct sl_batch_build_opts o;
    sl_batch_build_opts_default(&o);
    struct sl_batch_builder b;
    sl_batch_builder_init(&b, &o);
    int64_t now = sl_clock_wall_ms();
    for (int i = 0; i < n; i++)
        sl_batch_builder_add(&b, now, recs[i].key, recs[i].value, NULL, 0);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = sl_batch_builder_finish(&b, &buf, &len);
    sl_batch_builder_fini(&b);
    if (rc < 0)
        return rc;
    int64_t base = 0;
    pthread_mutex_lock(&part->lock);
    rc = sl_log_append(part->log, buf, len, __atomic_load_n(&part->leader_epoch, __ATOMIC_ACQUIRE), &base);
    pthread_mutex_unlock(&part->lock);
    free(buf);
    if (rc < 0) {
        SL_ERROR("coord", "append to %s-%d failed: %s", OFFSETS_TOPIC, partition, strerror(-rc));
        return rc;
    }
    struct completion *c = calloc(1, sizeof(*c));
    SL_ASSERT(c != NULL);
    c->coord = coord;
    c->part = part;
    __atomic_add_fetch(&part->refs, 1, __ATOMIC_ACQ_REL);
    c->done = done;
    c->arg = arg;
    sl_flusher_request(coord->broker->flusher, part->log, base + n, flushed, c);
    return 0;
}

static bool store_topic_exists(void *ctx, struct sl_slice topic, int32_t partition)
{
    (void)ctx;
    struct sl_image *img = sl_image_acquire();
    const struct sl_image_topic *t = img ? sl_image_topic_by_name(img, topic) : NULL;
    bool ok = t && partition >= 0 && partition < t->partitions_n;
    if (img)
        sl_image_release(img);
    return ok;
}

/* KIP-848 consumer groups: every topic but the internal ones. */
static int32_t store_topics(void *ctx, struct sl_arena *a, struct sl_gtopic **out)
{
    (void)ctx;
    struct sl_image *img = sl_image_acquire();
    int32_t n = 0;
    *out = NULL;
    if (!img)
        return 0;
    *out = sl_arena_alloc(a, sizeof(**out) * (size_t)(img->topics_n + 1));
    if (!*out) {
        sl_image_release(img);
        return -ENOMEM;
    }
    for (int32_t i = 0; i < img->topics_n; i++) {
        const struct sl_image_topic *t = img->by_name[i];
        if (t->name[0] == '_' && t->name[1] == '_')
            continue;
        size_t len = strlen(t->name);
        void *p = sl_arena_dup(a, t->name, len + 1);
        if (!p) {
            sl_image_release(img);
            return -ENOMEM;
        }
        (*out)[n++] = (struct sl_gtopic){(struct sl_slice){p, len}, t->id, t->partitions_n};
    }
    sl_image_release(img);
    return n;
}

/* Transactional offset commits seen while loading, by producer id, until
 * their COMMIT (applied) or ABORT (dropped) marker. */
struct txn_pending {
    struct txn_pending *next;
    int64_t producer_id;
    uint8_t *batch;             /* copy of the transactional batch */
    size_t len;
};

static void txn_apply(struct sl_coord *coord, int32_t partition, struct txn_pending *tp)
{
    struct sl_batch_iter it;
    if (sl_batch_iter_init(&it, tp->batch, tp->len, 0) == 0) {
        struct sl_record r;
        while (sl_batch_iter_next(&it, &r) == 1)
            sl_gc_replay(&coord->gc, partition, r.key, r.value);
    }
    sl_batch_iter_fini(&it);
}

/* A transactional data batch is kept; a marker applies or drops what its
 * producer kept. Returns the records applied. */
static long txn_batch(struct sl_coord *coord, struct txn_pending **txns, int32_t partition, const uint8_t *p,
                      size_t size, const struct sl_batch_hdr *hdr)
{
    if (!sl_batch_is_control(hdr)) {
        struct txn_pending *tp = calloc(1, sizeof(*tp));
        SL_ASSERT(tp != NULL);
        tp->producer_id = hdr->producer_id;
        tp->batch = malloc(size);
        SL_ASSERT(tp->batch != NULL);
        memcpy(tp->batch, p, size);
        tp->len = size;
        struct txn_pending **tail = txns;
        while (*tail)
            tail = &(*tail)->next;
        *tail = tp;
        return 0;
    }
    bool commit = false;
    struct sl_batch_iter it;
    if (sl_batch_iter_init(&it, p, size, 0) == 0) {
        struct sl_record r;
        if (sl_batch_iter_next(&it, &r) == 1 && r.key.p && r.key.len >= 4)
            commit = ((r.key.p[2] << 8) | r.key.p[3]) == SL_CONTROL_COMMIT;
    }
    sl_batch_iter_fini(&it);
    long n = 0;
    for (struct txn_pending **pp = txns; *pp;) {
        struct txn_pending *tp = *pp;
        if (tp->producer_id != hdr->producer_id) {
            pp = &tp->next;
            continue;
        }
        if (commit) {
            txn_apply(coord, partition, tp);
            n += tp->batch ? 1 : 0;
        }
        *pp = tp->next;
        free(tp->batch);
        free(tp);
    }
    return n;
}

/* Reads the whole partition back into group state. 0 or -errno. */
static int load_partition(struct sl_coord *coord, int32_t partition, struct sl_part *part)
{
    struct txn_pending *txns = NULL; /* open transactions' offsets (never applied if still open) */
    int64_t t0 = sl_clock_mono_ms();
    struct sl_log *log = part->log;
    int64_t off = sl_log_start_offset(log), end = sl_log_end_offset(log);
    long records = 0;
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
        SL_ASSERT(buf != NULL);
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
            if (sl_batch_is_transactional(&hdr)) {
                /* TxnOffsetCommit (txn/tc.c): applied when the COMMIT marker follows. */
                records += txn_batch(coord, &txns, partition, buf + pos, size, &hdr);
            } else if (!sl_batch_is_control(&hdr)) {
                struct sl_batch_iter it;
                if (sl_batch_iter_init(&it, buf + pos, size, 0) == 0) {
                    struct sl_record r;
                    while (sl_batch_iter_next(&it, &r) == 1) {
                        if (sl_gc_replay(&coord->gc, partition, r.key, r.value) < 0)
                            SL_WARN("coord", "%s-%d: skipping a bad record at offset %lld", OFFSETS_TOPIC,
                                    partition, (long long)r.offset);
                        records++;
                    }
                }
                sl_batch_iter_fini(&it);
            }
            next = sl_batch_last_offset(&hdr) + 1;
            pos += size;
        }
        free(buf);
        if (next <= off)
            break; /* no progress: never loop */
        off = next;
    }
    while (txns) {
        struct txn_pending *tp = txns;
        txns = tp->next;
        free(tp->batch);
        free(tp);
    }
    sl_gc_loaded(&coord->gc, partition);
    if (records)
        SL_INFO("coord", "loaded %ld records of %s-%d in %lld ms", records, OFFSETS_TOPIC, partition,
                (long long)(sl_clock_mono_ms() - t0));
    return rc < 0 ? rc : 0;
}

static void ensure_cparts(struct sl_coord *coord, int32_t n)
{
    if (n <= coord->cparts_n)
        return;
    struct cpart *c = realloc(coord->cparts, sizeof(*c) * (size_t)n);
    SL_ASSERT(c != NULL);
    memset(c + coord->cparts_n, 0, sizeof(*c) * (size_t)(n - coord->cparts_n));
    coord->cparts = c;
    coord->cparts_n = n;
}

static int16_t store_status(void *ctx, int32_t partition)
{
    struct sl_coord *coord = ctx;
    if (partition < coord->cparts_n && coord->cparts[partition].loaded)
        return 0;
    struct sl_image *img = sl_image_acquire();
    const struct sl_image_topic *t = img ? sl_image_topic_by_name(img, sl_slice_cstr(OFFSETS_TOPIC)) : NULL;
    if (!t || partition >= t->partitions_n) {
        if (img)
            sl_image_release(img);
        return SL_KERR_COORDINATOR_NOT_AVAILABLE;
    }
    if (coord->gc.conf.num_partitions != t->partitions_n && coord->gc.groups.n == 0)
        coord->gc.conf.num_partitions = t->partitions_n;
    ensure_cparts(coord, t->partitions_n);
    struct sl_part *part = coord->broker->parts ? sl_parts_get(coord->broker->parts, &t->id, partition) : NULL;
    sl_image_release(img);
    if (!part)
        return SL_KERR_NOT_COORDINATOR;
    if (load_partition(coord, partition, part) < 0) {
        sl_part_unref(part);
        return SL_KERR_COORDINATOR_NOT_AVAILABLE;
    }
    coord->cparts[partition].part = part;
    coord->cparts[partition].loaded = true;
    return 0;
}

static void load_all(struct sl_coord *coord)
{
    struct sl_image *img = sl_image_acquire();
    const struct sl_image_topic *t = img ? sl_image_topic_by_name(img, sl_slice_cstr(OFFSETS_TOPIC)) : NULL;
    int32_t n = t ? t->partitions_n : 0;
    if (img)
        sl_image_release(img);
    for (int32_t p = 0; p < n; p++)
        store_status(coord, p);
}

/* ---- the thread ------------------------------------------------------------------- */

#define COORD_CALL (-1) /* api_key of an sl_coord_call op */

struct coord_call {
    struct sl_gop op;           /* first: the queue holds &op */
    void (*fn)(struct sl_gc *gc, void *arg);
    void *arg;
};

static void run_op(struct sl_coord *coord, struct sl_gop *op)
{
    if (op->api_key == COORD_CALL) {
        struct coord_call *c = (struct coord_call *)op;
        c->fn(&coord->gc, c->arg);
        free(c);
        return;
    }
    if (op->api_key == SL_API_ListGroups)
        load_all(coord);
    sl_gc_handle(&coord->gc, op);
}

static void *coord_main(void *arg)
{
    struct sl_coord *coord = arg;
    coord->gc.now_ms = sl_clock_mono_ms();
    load_all(coord);
    pthread_mutex_lock(&coord->lock);
    for (;;) {
        while (sl_list_empty(&coord->op_q) && sl_list_empty(&coord->done_q) && !coord->stopping) {
            int64_t deadline = sl_gc_next_deadline(&coord->gc);
            if (deadline == INT64_MAX) {
                pthread_cond_wait(&coord->cond, &coord->lock);
                continue;
            }
            if (deadline <= sl_clock_mono_ms())
                break;
            struct timespec ts = {.tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000};
            if (pthread_cond_timedwait(&coord->cond, &coord->lock, &ts) == ETIMEDOUT)
                break;
        }
        bool stop = coord->stopping && sl_list_empty(&coord->op_q) && sl_list_empty(&coord->done_q);
        struct sl_list ops, dones;
        sl_list_init(&ops);
        sl_list_init(&dones);
        if (!sl_list_empty(&coord->op_q)) {
            ops = coord->op_q;
            ops.next->prev = &ops;
            ops.prev->next = &ops;
            sl_list_init(&coord->op_q);
        }
        if (!sl_list_empty(&coord->done_q)) {
            dones = coord->done_q;
            dones.next->prev = &dones;
            dones.prev->next = &dones;
            sl_list_init(&coord->done_q);
        }
        pthread_mutex_unlock(&coord->lock);
        if (stop)
            break;
        coord->gc.now_ms = sl_clock_mono_ms();
        struct sl_list *l;
        while ((l = sl_list_first(&dones))) {
            sl_list_remove(l);
            struct completion *c = SL_LIST_ENTRY(l, struct completion, link);
            c->done(&coord->gc, c->arg, c->err);
            sl_part_unref(c->part);
            free(c);
        }
        while ((l = sl_list_first(&ops))) {
            sl_list_remove(l);
            coord->gc.now_ms = sl_clock_mono_ms();
            run_op(coord, SL_LIST_ENTRY(l, struct sl_gop, link));
        }
        coord->gc.now_ms = sl_clock_mono_ms();
        sl_gc_tick(&coord->gc);
        pthread_mutex_lock(&coord->lock);
    }
    sl_gc_fini(&coord->gc);
    for (int32_t i = 0; i < coord->cparts_n; i++)
        if (coord->cparts[i].part)
            sl_part_unref(coord->cparts[i].part);
    free(coord->cparts);
    coord->cparts = NULL;
    coord->cparts_n = 0;
    return NULL;
}

/* The broker struct has no coordinator field: one coordinator per process. */
static pthread_mutex_t coord_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sl_coord *the_coord;

struct sl_coord *sl_coord_get(struct sl_broker *broker)
{
    struct sl_coord *coord = __atomic_load_n(&the_coord, __ATOMIC_ACQUIRE);
    if (coord)
        return coord;
    pthread_mutex_lock(&coord_lock);
    if (!the_coord) {
        coord = calloc(1, sizeof(*coord));
        SL_ASSERT(coord != NULL);
        coord->broker = broker;
        pthread_mutex_init(&coord->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&coord->cond, &ca);
        pthread_condattr_destroy(&ca);
        sl_list_init(&coord->op_q);
        sl_list_init(&coord->done_q);
        const struct sl_conf *c = broker->conf;
        struct sl_gconf gconf = {
            .num_partitions = c->offsets_topic_num_partitions,
            .initial_rebalance_delay_ms = c->group_initial_rebalance_delay_ms,
            .min_session_timeout_ms = c->group_min_session_timeout_ms,
            .max_session_timeout_ms = c->group_max_session_timeout_ms,
            .max_size = c->group_max_size,
            .offset_metadata_max_bytes = c->offset_metadata_max_bytes,
            .offsets_retention_ms = (int64_t)c->offsets_retention_minutes * 60000,
            .consumer_session_timeout_ms = c->group_consumer_session_timeout_ms,
            .consumer_heartbeat_interval_ms = c->group_consumer_heartbeat_interval_ms,
            .offsets_retention_check_ms = c->offsets_retention_check_interval_ms,
        };
        struct sl_gstore store = {
            .ctx = coord,
            .write = store_write,
            .status = store_status,
            .topic_exists = store_topic_exists,
            .topics = store_topics,
        };
        sl_gc_init(&coord->gc, &gconf, &store);
        int rc = pthread_create(&coord->thread, NULL, coord_main, coord);
        SL_ASSERT(rc == 0);
        __atomic_store_n(&the_coord, coord, __ATOMIC_RELEASE);
    }
    coord = the_coord;
    pthread_mutex_unlock(&coord_lock);
    return coord;
}

void sl_coord_submit(struct sl_coord *coord, struct sl_gop *op)
{
    pthread_mutex_lock(&coord->lock);
    if (coord->stopping) {
        pthread_mutex_unlock(&coord->lock);
        sl_gop_fail(op, SL_KERR_NOT_COORDINATOR);
        return;
    }
    sl_list_push_back(&coord->op_q, &op->link);
    pthread_cond_signal(&coord->cond);
    pthread_mutex_unlock(&coord->lock);
}

void sl_coord_call(struct sl_coord *coord, void (*fn)(struct sl_gc *gc, void *arg), void *arg)
{
    struct coord_call *c = calloc(1, sizeof(*c));
    SL_ASSERT(c != NULL);
    c->op.api_key = COORD_CALL;
    c->fn = fn;
    c->arg = arg;
    pthread_mutex_lock(&coord->lock);
    if (coord->stopping) {
        pthread_mutex_unlock(&coord->lock);
        free(c);
        fn(NULL, arg);
        return;
    }
    sl_list_push_back(&coord->op_q, &c->op.link);
    pthread_cond_signal(&coord->cond);
    pthread_mutex_unlock(&coord->lock);
}

void sl_coord_shutdown(void)
{
    pthread_mutex_lock(&coord_lock);
    struct sl_coord *coord = the_coord;
    if (coord) {
        pthread_mutex_lock(&coord->lock);
        coord->stopping = true;
        pthread_cond_signal(&coord->cond);
        pthread_mutex_unlock(&coord->lock);
        pthread_join(coord->thread, NULL);
        /* Kept allocated (stopping) so late submitters are answered. */
    }
    pthread_mutex_unlock(&coord_lock);
}
