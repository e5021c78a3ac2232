/*
 * logmgr.c - retention, compaction and offset checkpoints for the hosted
 * partitions (see logmgr.h).
 *
 * Locks: lm->lock guards the stop flag and the condition the threads sleep
 * on, and serializes checkpoint writes (ckpt_lock). Partition work takes
 * part->lock only around sl_log_apply_retention and inside the cleaner's
 * swap. The startup offsets table is read-only once built and dropped by
 * sl_logmgr_start (only the opener, the controller thread, reads it before).
 */
#include "broker/logmgr.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/diag.h"
#include "broker/broker.h"
#include "broker/parts.h"
#include "conf/conf.h"
#include "meta/configs.h"
#include "meta/image.h"
#include "record/compress.h"
#include "storage/checkpoint.h"
#include "storage/cleaner.h"
#include "storage/log.h"
#include "storage/producer_state.h"
#include "storage/retention.h"

#define CHECKPOINT_INTERVAL_MS 60000 /* log.flush.offset.checkpoint.interval.ms */

static const char *const ckpt_names[3] = {
    "recovery-point-offset-checkpoint",
    "log-start-offset-checkpoint",
    "cleaner-offset-checkpoint",
};

struct sl_logmgr {
    struct sl_broker *broker;
    char dir[1024];                    /* the log dir */
    struct sl_ckpt_offset *init[3];    /* startup offsets per file (ckpt_names order); NULL after start */
    size_t init_n[3];
    pthread_mutex_t lock;              /* guards stop; cond */
    pthread_cond_t cond;               /* signalled at stop */
    pthread_mutex_t ckpt_lock;         /* one checkpoint write at a time */
    _Atomic bool stop;                 /* threads exit; polled by the cleaner between batches */
    pthread_t retention_thread, cleaner_thread;
    bool retention_started, cleaner_started;
};

int sl_logmgr_codec(const char *v)
{
    static const char *const names[] = {"uncompressed", "gzip", "snappy", "lz4", "zstd"};
    if (!strcmp(v, "producer"))
        return -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(v, names[i]))
            return i;
    return strcmp(v, "none") == 0 ? 0 : -2;
}

void sl_logmgr_apply_configs(struct sl_part_cleanup *c, const struct sl_image *img, int32_t node,
                             const struct sl_image_topic *t, const struct sl_conf *conf)
{
#define INT(key, dflt) sl_cfg_topic_int(img, conf, node, t, key, dflt)
    __atomic_store_n(&c->retention_ms, INT("retention.ms", conf->log_retention_ms), __ATOMIC_RELAXED);
    __atomic_store_n(&c->retention_bytes, INT("retention.bytes", conf->log_retention_bytes), __ATOMIC_RELAXED);
    __atomic_store_n(&c->delete_retention_ms, INT("delete.retention.ms", conf->log_cleaner_delete_retention_ms),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&c->min_compaction_lag_ms,
                     INT("min.compaction.lag.ms", conf->log_cleaner_min_compaction_lag_ms), __ATOMIC_RELAXED);
    __atomic_store_n(&c->max_compaction_lag_ms,
                     INT("max.compaction.lag.ms", conf->log_cleaner_max_compaction_lag_ms), __ATOMIC_RELAXED);
#undef INT
    char v[64];
    const char *pol = conf->log_cleanup_policy;
    if (sl_cfg_topic_value(img, conf, node, t, "cleanup.policy", v, sizeof(v)) == 0)
        pol = v;
    __atomic_store_n(&c->policy_delete, strstr(pol, "delete") != NULL, __ATOMIC_RELAXED);
    __atomic_store_n(&c->policy_compact, strstr(pol, "compact") != NULL, __ATOMIC_RELAXED);
    double ratio = conf->log_cleaner_min_cleanable_ratio;
    if (sl_cfg_topic_value(img, conf, node, t, "min.cleanable.dirty.ratio", v, sizeof(v)) == 0 && v[0])
        ratio = strtod(v, NULL);
    __atomic_store_n(&c->min_cleanable_permille, (int32_t)(ratio * 1000 + 0.5), __ATOMIC_RELAXED);
    const char *ct = conf->compression_type;
    if (sl_cfg_topic_value(img, conf, node, t, "compression.type", v, sizeof(v)) == 0 && v[0])
        ct = v;
    int codec = sl_logmgr_codec(ct);
    __atomic_store_n(&c->codec, codec < -1 ? -1 : codec, __ATOMIC_RELAXED);
}

int sl_logmgr_new(struct sl_broker *broker, const char *dir, struct sl_logmgr **out)
{
    struct sl_logmgr *lm = calloc(1, sizeof(*lm));
    if (!lm)
        return -ENOMEM;
    lm->broker = broker;
    snprintf(lm->dir, sizeof(lm->dir), "%s", dir);
    pthread_mutex_init(&lm->lock, NULL);
    pthread_mutex_init(&lm->ckpt_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&lm->cond, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < 3; i++) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/%s", dir, ckpt_names[i]);
        int rc = sl_ckpt_offsets_read(path, &lm->init[i], &lm->init_n[i]);
        if (rc == -EBADMSG)
            SL_WARN("logmgr", "%s is malformed: ignored (recovery scans more)", path);
        else if (rc < 0 && rc != -ENOENT)
            SL_WARN("logmgr", "reading %s: %s", path, strerror(-rc));
        if (rc < 0) {
            lm->init[i] = NULL;
            lm->init_n[i] = 0;
        }
    }
    *out = lm;
    return 0;
}

static int64_t lookup(const struct sl_ckpt_offset *v, size_t n, const char *topic, int32_t partition)
{
    for (size_t i = 0; v && i < n; i++)
        if (v[i].partition == partition && strcmp(v[i].topic, topic) == 0)
            return v[i].offset;
    return -1;
}

void sl_logmgr_initial(struct sl_logmgr *lm, const char *topic, int32_t partition, int64_t *recovery_point,
                       int64_t *log_start_offset, int64_t *cleaner_offset)
{
    int64_t *outs[3] = {recovery_point, log_start_offset, cleaner_offset};
    for (int i = 0; i < 3; i++)
        if (outs[i])
            *outs[i] = lm ? lookup(lm->init[i], lm->init_n[i], topic, partition) : -1;
}

int sl_logmgr_checkpoint(struct sl_logmgr *lm)
{
    struct sl_part **v;
    int n, rc;
    if ((rc = sl_parts_snapshot(lm->broker->parts, &v, &n)) < 0)
        return rc;
    struct sl_ckpt_offset *e[3];
    size_t en[3] = {0, 0, 0};
    for (int f = 0; f < 3; f++)
        e[f] = calloc((size_t)n + 1, sizeof(**e));
    if (!e[0] || !e[1] || !e[2]) {
        rc = -ENOMEM;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        struct sl_part *p = v[i];
        int64_t off[3] = {sl_log_durable_offset(p->log), sl_log_start_offset(p->log),
                          __atomic_load_n(&p->cleanup.cleaner_offset, __ATOMIC_RELAXED)};
        for (int f = 0; f < 3; f++) {
            if (off[f] < 0)
                continue;
            struct sl_ckpt_offset *c = &e[f][en[f]++];
            snprintf(c->topic, sizeof(c->topic), "%s", p->topic);
            c->partition = p->index;
            c->offset = off[f];
        }
    }
    pthread_mutex_lock(&lm->ckpt_lock);
    for (int f = 0; f < 3 && rc == 0; f++) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/%s", lm->dir, ckpt_names[f]);
        rc = sl_ckpt_offsets_write(path, e[f], en[f]);
        if (rc < 0)
            SL_ERROR("logmgr", "writing %s: %s", path, strerror(-rc));
    }
    pthread_mutex_unlock(&lm->ckpt_lock);
out:
    for (int f = 0; f < 3; f++)
        free(e[f]);
    for (int i = 0; i < n; i++)
        sl_part_unref(v[i]);
    free(v);
    return rc;
}

/* Sleeps until stop or ms pass; true when stopping. */
static bool sleep_ms(struct sl_logmgr *lm, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&lm->lock);
    while (!atomic_load(&lm->stop))
        if (pthread_cond_timedwait(&lm->cond, &lm->lock, &ts) == ETIMEDOUT)
            break;
    bool stop = atomic_load(&lm->stop);
    pthread_mutex_unlock(&lm->lock);
    return stop;
}

static void retention_pass(struct sl_logmgr *lm)
{
    struct sl_part **v;
    int n;
    if (sl_parts_snapshot(lm->broker->parts, &v, &n) < 0)
        return;
    int64_t now = sl_clock_wall_ms();
    for (int i = 0; i < n && !atomic_load(&lm->stop); i++) {
        struct sl_part *p = v[i];
        struct sl_part_cleanup *c = &p->cleanup;
        if (!__atomic_load_n(&c->policy_delete, __ATOMIC_RELAXED))
            continue;
        int64_t rms = __atomic_load_n(&c->retention_ms, __ATOMIC_RELAXED);
        int64_t rbytes = __atomic_load_n(&c->retention_bytes, __ATOMIC_RELAXED);
        int64_t start;
        size_t deleted;
        pthread_mutex_lock(&p->lock);
        int rc = sl_log_apply_retention(p->log, now, sl_part_hwm(p), rms, rbytes, &start, &deleted);
        pthread_mutex_unlock(&p->lock);
        if (rc < 0)
            SL_ERROR("logmgr", "retention of %s-%d: %s", p->topic, p->index, strerror(-rc));
    }
    for (int i = 0; i < n; i++)
        sl_part_unref(v[i]);
    free(v);
}

static void *retention_main(void *arg)
{
    struct sl_logmgr *lm = arg;
    const struct sl_conf *conf = lm->broker->conf;
    int64_t interval = conf->log_retention_check_interval_ms > 0 ? conf->log_retention_check_interval_ms : 300000;
    int64_t next_ret = sl_clock_mono_ms() + interval, next_ckpt = sl_clock_mono_ms() + CHECKPOINT_INTERVAL_MS;
    for (;;) {
        int64_t now = sl_clock_mono_ms();
        int64_t wake = next_ret < next_ckpt ? next_ret : next_ckpt;
        if (sleep_ms(lm, wake - now))
            break;
        now = sl_clock_mono_ms();
        if (now >= next_ret) {
            retention_pass(lm);
            next_ret = now + interval;
        }
        if (now >= next_ckpt) {
            sl_logmgr_checkpoint(lm);
            next_ckpt = now + CHECKPOINT_INTERVAL_MS;
        }
    }
    return NULL;
}

/* One cleaning pass over every compacted partition; true when any was cleaned. */
static bool clean_pass(struct sl_logmgr *lm)
{
    struct sl_part **v;
    int n;
    if (sl_parts_snapshot(lm->broker->parts, &v, &n) < 0)
        return false;
    bool any = false;
    for (int i = 0; i < n && !atomic_load(&lm->stop); i++) {
        struct sl_part *p = v[i];
        struct sl_part_cleanup *c = &p->cleanup;
        if (!__atomic_load_n(&c->policy_compact, __ATOMIC_RELAXED))
            continue;
        /* Never past the first unstable offset (open transactions), the
         * high watermark or what is synced. */
        int64_t hwm = sl_part_hwm(p), durable = sl_log_durable_offset(p->log);
        int64_t lso = p->pstate ? sl_pstate_first_unstable(p->pstate) : INT64_MAX;
        if (lso < hwm)
            hwm = lso;
        struct sl_clean_conf cc = {
            .now_ms = sl_clock_wall_ms(),
            .delete_retention_ms = __atomic_load_n(&c->delete_retention_ms, __ATOMIC_RELAXED),
            .min_compaction_lag_ms = __atomic_load_n(&c->min_compaction_lag_ms, __ATOMIC_RELAXED),
            .max_compaction_lag_ms = __atomic_load_n(&c->max_compaction_lag_ms, __ATOMIC_RELAXED),
            .min_cleanable_ratio = __atomic_load_n(&c->min_cleanable_permille, __ATOMIC_RELAXED) / 1000.0,
            .max_offset = hwm < durable ? hwm : durable,
            .stop = &lm->stop,
            .writer_lock = &p->lock,
        };
        struct sl_clean_stats st;
        int64_t first_dirty = __atomic_load_n(&c->cleaner_offset, __ATOMIC_RELAXED);
        int64_t t0 = sl_clock_mono_ms();
        int rc = sl_log_clean(p->log, &cc, first_dirty, &st);
        if (rc == 0) {
            __atomic_store_n(&c->cleaner_offset, st.clean_end, __ATOMIC_RELAXED);
            SL_INFO("logmgr",
                    "cleaned %s-%d [%" PRId64 ", %" PRId64 ") in %" PRId64 " ms: dirty ratio %.2f, %" PRIu64
                    " records removed (%" PRIu64 " tombstones), %" PRIu64 " -> %" PRIu64 " bytes",
                    p->topic, p->index, st.first_dirty, st.clean_end, sl_clock_mono_ms() - t0, st.dirty_ratio,
                    st.records_removed, st.tombstones_removed, st.bytes_read, st.bytes_written);
            any = true;
        } else if (rc != -EAGAIN && rc != -ECANCELED) {
            SL_ERROR("logmgr", "cleaning %s-%d: %s", p->topic, p->index, strerror(-rc));
        }
    }
    for (int i = 0; i < n; i++)
        sl_part_unref(v[i]);
    free(v);
    return any;
}

static void *cleaner_main(void *arg)
{
    struct sl_logmgr *lm = arg;
    int64_t backoff = lm->broker->conf->log_cleaner_backoff_ms > 0 ? lm->broker->conf->log_cleaner_backoff_ms
                                                                     : 15000;
    while (!atomic_load(&lm->stop)) {
        if (!clean_pass(lm) && sleep_ms(lm, backoff))
            break;
    }
    return NULL;
}

int sl_logmgr_start(struct sl_logmgr *lm)
{
    for (int i = 0; i < 3; i++) {
        free(lm->init[i]);
        lm->init[i] = NULL;
        lm->init_n[i] = 0;
    }
    int rc = pthread_create(&lm->retention_thread, NULL, retention_main, lm);
    if (rc)
        return -rc;
    lm->retention_started = true;
    if (lm->broker->conf->log_cleaner_enable) {
        if ((rc = pthread_create(&lm->cleaner_thread, NULL, cleaner_main, lm)))
            return -rc;
        lm->cleaner_started = true;
    }
    return 0;
}

void sl_logmgr_free(struct sl_logmgr *lm)
{
    if (!lm)
        return;
    pthread_mutex_lock(&lm->lock);
    atomic_store(&lm->stop, true);
    pthread_cond_broadcast(&lm->cond);
    pthread_mutex_unlock(&lm->lock);
    if (lm->retention_started)
        pthread_join(lm->retention_thread, NULL);
    if (lm->cleaner_started)
        pthread_join(lm->cleaner_thread, NULL);
    /* Clean shutdown: everything appended becomes the recovery point. */
    if (lm->broker->parts) {
        struct sl_part **v;
        int n;
        if (sl_parts_snapshot(lm->broker->parts, &v, &n) == 0) {
            for (int i = 0; i < n; i++) {
                sl_log_sync(v[i]->log);
                sl_part_unref(v[i]);
            }
            free(v);
        }
        sl_logmgr_checkpoint(lm);
    }
    for (int i = 0; i < 3; i++)
        free(lm->init[i]);
    pthread_cond_destroy(&lm->cond);
    pthread_mutex_destroy(&lm->lock);
    pthread_mutex_destroy(&lm->ckpt_lock);
    free(lm);
}
