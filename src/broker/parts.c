/*
 * parts.c - the registry of hosted partitions: a sorted array of
 * referenced partitions, looked up under a read lock held for one binary
 * search, and changed only by the controller thread in sl_parts_sync.
 */
#include "broker/parts.h"

#include <dirent.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "broker/broker.h"
#include "broker/logmgr.h"
#include "conf/conf.h"
#include "meta/configs.h"
#include "meta/image.h"
#include "net/net.h"
#include "storage/checkpoint.h"
#include "storage/log.h"
#include "storage/producer_state.h"

struct sl_parts {
    struct sl_broker *broker;
    char dir[1024];               /* the log directory */
    pthread_rwlock_t lock;        /* guards v, n */
    struct sl_part **v;           /* sorted by (topic_id, index) */
    int n, cap;
    /* One clean-shutdown marker for the whole log dir, as Kafka keeps
     * (.sluice_cleanshutdown in the log dir): written once every partition
     * log closed cleanly and the file system is synced, removed at start.
     * Logs opened by the first sync (the start-up load) trust their files
     * when it was there; logs opened later never do. */
    bool dir_clean;               /* the marker was there at start */
    bool loaded;                  /* the first sync ran */
    _Atomic int live_logs;        /* partition logs open */
    _Atomic bool close_failed;    /* a partition log did not close cleanly */
};

static int cmp_key(const struct sl_uuid *id, int32_t index, const struct sl_part *p)
{
    int c = memcmp(id->b, p->topic_id.b, 16);
    if (c)
        return c;
    return index < p->index ? -1 : index > p->index;
}

static int find(struct sl_parts *parts, const struct sl_uuid *id, int32_t index, bool *found)
{
    int lo = 0, hi = parts->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = cmp_key(id, index, parts->v[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

int sl_parts_new(struct sl_broker *broker, const char *dir, struct sl_parts **out)
{
    struct sl_parts *parts = calloc(1, sizeof(*parts));
    if (!parts)
        return -ENOMEM;
    parts->broker = broker;
    snprintf(parts->dir, sizeof(parts->dir), "%s", dir);
    pthread_rwlock_init(&parts->lock, NULL);
    char marker[1100];
    snprintf(marker, sizeof(marker), "%s/%s", dir, SL_LOG_CLEAN_SHUTDOWN_FILE);
    if (access(marker, F_OK) == 0) {
        /* From here on a crash must recover: the marker goes first, durably. */
        int rc = unlink(marker) == -1 ? -errno : sl_ckpt_fsync_dir(dir);
        if (rc < 0) {
            SL_ERROR("parts", "cannot remove %s: %s", marker, strerror(-rc));
            pthread_rwlock_destroy(&parts->lock);
            free(parts);
            return rc;
        }
        parts->dir_clean = true;
    }
    *out = parts;
    return 0;
}

/* Deletes a directory tree (partition directories hold only files). */
static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char f[1400];
            snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
            unlink(f);
        }
        closedir(d);
    }
    rmdir(path);
}

void sl_part_unref(struct sl_part *p)
{
    if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    sl_pstate_close(p->pstate, p->log && !p->deleted);
    p->pstate = NULL;
    if (p->log) {
        struct sl_parts *parts = p->broker->parts;
        if (sl_log_close(p->log) < 0 && parts)
            atomic_store(&parts->close_failed, true);
        if (parts)
            atomic_fetch_sub(&parts->live_logs, 1);
    }
    if (p->deleted) {
        /* Kafka renames to <dir>.<id>-delete and removes it later; the rename
         * already happened in sync, so only the removal is left. */
        remove_dir(p->dir);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void sl_parts_free(struct sl_parts *parts)
{
    if (!parts)
        return;
    for (int i = 0; i < parts->n; i++)
        sl_part_unref(parts->v[i]);
    int live = atomic_load(&parts->live_logs);
    if (live == 0 && !atomic_load(&parts->close_failed)) {
        /* Every .log is synced; one syncfs makes the indexes and directories
         * durable too, instead of a sync per file. Then the marker. */
        char marker[1100];
        snprintf(marker, sizeof(marker), "%s/%s", parts->dir, SL_LOG_CLEAN_SHUTDOWN_FILE);
        int fd = open(parts->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int rc = fd < 0 || syncfs(fd) == -1 ? -errno : sl_ckpt_write_atomic(marker, "", 0);
        if (fd >= 0)
            close(fd);
        if (rc < 0)
            SL_WARN("parts", "cannot write %s (%s): the next start recovers every partition", marker,
                    strerror(-rc));
    } else {
        SL_WARN("parts", "%d partition log(s) still open or not closed cleanly: the next start recovers "
                "every partition", live);
    }
    free(parts->v);
    pthread_rwlock_destroy(&parts->lock);
    free(parts);
}

int sl_parts_count(struct sl_parts *parts)
{
    pthread_rwlock_rdlock(&parts->lock);
    int n = parts->n;
    pthread_rwlock_unlock(&parts->lock);
    return n;
}

int sl_parts_snapshot(struct sl_parts *parts, struct sl_part ***out, int *n)
{
    pthread_rwlock_rdlock(&parts->lock);
    struct sl_part **v = malloc(sizeof(*v) * (size_t)(parts->n + 1));
    if (!v) {
        pthread_rwlock_unlock(&parts->lock);
        return -ENOMEM;
    }
    for (int i = 0; i < parts->n; i++) {
        v[i] = parts->v[i];
        __atomic_add_fetch(&v[i]->refs, 1, __ATOMIC_ACQ_REL);
    }
    *n = parts->n;
    pthread_rwlock_unlock(&parts->lock);
    *out = v;
    return 0;
}

struct sl_part *sl_parts_get(struct sl_parts *parts, const struct sl_uuid *topic_id, int32_t index)
{
    pthread_rwlock_rdlock(&parts->lock);
    bool found;
    int i = find(parts, topic_id, index, &found);
    struct sl_part *p = found ? parts->v[i] : NULL;
    if (p)
        __atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
    pthread_rwlock_unlock(&parts->lock);
    return p;
}

/* Effective topic configs: the topic's value, else the broker's dynamic
 * (per broker, then <default>) or static one (meta/configs.h). Applied at
 * open and again on every image change, so dynamic changes take effect
 * without a restart. */
static void apply_configs(struct sl_part *p, const struct sl_image *img, const struct sl_image_topic *t,
                          const struct sl_conf *conf, struct sl_log_conf *lc)
{
    int32_t node = p->broker->node_id;
    int64_t mmb = sl_cfg_topic_int(img, conf, node, t, "max.message.bytes", conf->message_max_bytes);
    __atomic_store_n(&p->max_message_bytes, (int32_t)mmb, __ATOMIC_RELEASE);
    char v[32];
    bool lat = sl_cfg_topic_value(img, conf, node, t, "message.timestamp.type", v, sizeof(v)) == 0 &&
               strcmp(v, "LogAppendTime") == 0;
    __atomic_store_n(&p->log_append_time, lat, __ATOMIC_RELEASE);
    sl_logmgr_apply_configs(&p->cleanup, img, node, t, conf);
    /* Segment settings: into lc before the log is opened, else into the open
     * log under the writer's lock, for the next append (Kafka's
     * LogConfig update on a topic or broker config change). */
    struct sl_log_conf now;
    if (!lc) {
        sl_log_conf_default(&now);
        lc = &now;
    }
    lc->segment_bytes = sl_cfg_topic_int(img, conf, node, t, "segment.bytes", conf->log_segment_bytes);
    lc->segment_ms = sl_cfg_topic_int(img, conf, node, t, "segment.ms", conf->log_roll_ms);
    lc->segment_jitter_ms = sl_cfg_topic_int(img, conf, node, t, "segment.jitter.ms", conf->log_roll_jitter_ms);
    lc->index_interval_bytes =
        (int32_t)sl_cfg_topic_int(img, conf, node, t, "index.interval.bytes", conf->log_index_interval_bytes);
    lc->segment_index_bytes =
        sl_cfg_topic_int(img, conf, node, t, "segment.index.bytes", conf->log_index_size_max_bytes);
    if (lc == &now && p->log) {
        pthread_mutex_lock(&p->lock);
        sl_log_set_conf(p->log, &now);
        pthread_mutex_unlock(&p->lock);
    }
}

static void write_partition_metadata(const char *dir, const struct sl_uuid *id)
{
    char path[1200], text[64], b64[23];
    snprintf(path, sizeof(path), "%s/partition.metadata", dir);
    if (access(path, F_OK) == 0)
        return;
    sl_uuid_to_base64(id, b64);
    int n = snprintf(text, sizeof(text), "version: 0\ntopic_id: %s\n", b64);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    /* Not synced: the topic id's record is the metadata log; this file is
     * Kafka's cross-check, written again at the next open if a crash lost it. */
    if (write(fd, text, (size_t)n) != n)
        SL_WARN("parts", "cannot write %s: %s", path, strerror(errno));
    close(fd);
}

static int open_part(struct sl_parts *parts, const struct sl_image *img, const struct sl_image_topic *t,
                     const struct sl_image_partition *ip, struct sl_part **out)
{
    struct sl_part *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->refs = 1;
    p->topic_id = t->id;
    snprintf(p->topic, sizeof(p->topic), "%s", t->name);
    p->index = ip->id;
    p->broker = parts->broker;
    p->leader_epoch = ip->leader_epoch;
    pthread_mutex_init(&p->lock, NULL);
    sl_list_init(&p->waiters);
    snprintf(p->dir, sizeof(p->dir), "%s/%s-%d", parts->dir, t->name, ip->id);
    struct sl_log_conf lc;
    sl_log_conf_default(&lc);
    apply_configs(p, img, t, parts->broker->conf, &lc);
    /* Checkpointed at the last run (start-up only; -1 otherwise). */
    sl_logmgr_initial(parts->broker->logmgr, p->topic, p->index, &lc.recovery_point, &lc.log_start_offset,
                      &p->cleanup.cleaner_offset);
    lc.shutdown_marker = !parts->loaded && parts->dir_clean ? SL_LOG_MARKER_CLEAN : SL_LOG_MARKER_UNCLEAN;
    int rc = sl_log_open(p->dir, &lc, &p->log);
    if (rc < 0) {
        SL_ERROR("parts", "cannot open partition %s: %s", p->dir, strerror(-rc));
        pthread_mutex_destroy(&p->lock);
        free(p);
        return rc;
    }
    rc = sl_pstate_open(p->dir, p->log, parts->broker->conf ? parts->broker->conf->producer_id_expiration_ms : 0,
                        &p->pstate);
    if (rc < 0) {
        SL_ERROR("parts", "cannot load the producer state of %s: %s", p->dir, strerror(-rc));
        sl_log_close(p->log);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return rc;
    }
    atomic_fetch_add(&parts->live_logs, 1);
    write_partition_metadata(p->dir, &t->id);
    /* Everything recovered from disk is durable. */
    p->hwm = sl_log_end_offset(p->log);
    *out = p;
    return 0;
}

static bool hosted_here(const struct sl_image_partition *ip, int32_t node)
{
    for (int32_t r = 0; r < ip->replicas_n; r++)
        if (ip->replicas[r] == node)
            return true;
    return false;
}

int sl_parts_sync(struct sl_parts *parts, const struct sl_image *img)
{
    int32_t node = parts->broker->node_id;
    int want = 0;
    for (int32_t i = 0; i < img->topics_n; i++)
        want += img->by_id[i]->partitions_n;
    struct sl_part **nv = calloc((size_t)want + 1, sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    int nn = 0, rc = 0;
    /* by_id order with partitions ascending is exactly the registry's order. */
    for (int32_t i = 0; i < img->topics_n; i++) {
        const struct sl_image_topic *t = img->by_id[i];
        for (int32_t k = 0; k < t->partitions_n; k++) {
            const struct sl_image_partition *ip = &t->partitions[k];
            if (!hosted_here(ip, node))
                continue;
            struct sl_part *p = sl_parts_get(parts, &t->id, ip->id);
            if (p) {
                __atomic_store_n(&p->leader_epoch, ip->leader_epoch, __ATOMIC_RELEASE);
                apply_configs(p, img, t, parts->broker->conf, NULL);
            } else if ((rc = open_part(parts, img, t, ip, &p)) < 0) {
                continue; /* logged; the partition stays offline */
            }
            nv[nn++] = p;
        }
    }
    parts->loaded = true;
    pthread_rwlock_wrlock(&parts->lock);
    struct sl_part **old = parts->v;
    int on = parts->n;
    parts->v = nv;
    parts->n = nn;
    parts->cap = want;
    pthread_rwlock_unlock(&parts->lock);
    /* Drop the registry's references on the old array; partitions gone from
     * the image are deleted once their last holder lets go. */
    for (int i = 0, j = 0; i < on; i++) {
        struct sl_part *p = old[i];
        while (j < nn && cmp_key(&nv[j]->topic_id, nv[j]->index, p) < 0)
            j++;
        if (!(j < nn && nv[j] == p)) {
            char moved[1200], b64[23];
            sl_uuid_to_base64(&p->topic_id, b64);
            snprintf(moved, sizeof(moved), "%s.%s-delete", p->dir, b64);
            if (strlen(moved) < sizeof(p->dir) && rename(p->dir, moved) == 0)
                memcpy(p->dir, moved, strlen(moved) + 1);
            p->deleted = true;
            SL_INFO("parts", "partition %s-%d removed", p->topic, p->index);
        }
        sl_part_unref(p);
    }
    free(old);
    return rc;
}

void sl_part_advance_hwm(struct sl_part *p, int64_t offset)
{
    int64_t cur = __atomic_load_n(&p->hwm, __ATOMIC_ACQUIRE);
    while (offset > cur && !__atomic_compare_exchange_n(&p->hwm, &cur, offset, false, __ATOMIC_ACQ_REL,
                                                        __ATOMIC_ACQUIRE))
        ;
    if (offset <= cur)
        return;
    pthread_mutex_lock(&p->lock);
    while (!sl_list_empty(&p->waiters)) {
        struct sl_list *l = p->waiters.next;
        sl_list_remove(l);
        struct sl_part_waiter *w = SL_LIST_ENTRY(l, struct sl_part_waiter, link);
        sl_loop_post(w->loop, w->fn, w->arg);
    }
    pthread_mutex_unlock(&p->lock);
}

bool sl_part_wait(struct sl_part *p, struct sl_part_waiter *w, int64_t seen_hwm)
{
    pthread_mutex_lock(&p->lock);
    if (sl_part_hwm(p) > seen_hwm) {
        pthread_mutex_unlock(&p->lock);
        return false;
    }
    sl_list_push_back(&p->waiters, &w->link);
    pthread_mutex_unlock(&p->lock);
    return true;
}

bool sl_part_unwait(struct sl_part *p, struct sl_part_waiter *w)
{
    pthread_mutex_lock(&p->lock);
    bool parked = !sl_list_empty(&w->link);
    if (parked)
        sl_list_remove(&w->link);
    pthread_mutex_unlock(&p->lock);
    return parked;
}
