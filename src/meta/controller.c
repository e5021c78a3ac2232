/*
 * controller.c - the controller thread of a single-voter quorum. It owns
 * the metadata log; operations from loop threads queue here and run one at
 * a time, so every change sees the image left by the one before it.
 *
 * Write path: records -> one batch appended and synced (committed: this
 * node is the whole quorum) -> applied to a builder on the current image ->
 * new image published -> partitions synced to it. An operation that
 * returns from sl_controller_write has its change visible to every reader.
 */
#include "meta/controller.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "broker/broker.h"
#include "broker/parts.h"
#include "conf/conf.h"
#include "meta/apply.h"
#include "meta/image.h"
#include "meta/metalog.h"
#include "proto/gen/meta_records.h"

/* metadata.version written at bootstrap: Apache Kafka 3.7-IV4's level (19),
 * the newest whose records Sluice reads and writes. */
#define SL_METADATA_VERSION 19

struct op {
    struct op *next;
    void (*fn)(struct sl_controller *ctl, void *arg);
    void *arg;
};

struct sl_controller {
    const struct sl_conf *conf;   /* borrowed */
    struct sl_broker *broker;     /* borrowed */
    struct sl_metalog *ml;        /* owned */
    struct sl_image *image;       /* latest published image, referenced */
    char cluster_id[32];
    pthread_t thread;
    pthread_mutex_t lock;         /* guards head, tail, stopping */
    pthread_cond_t cond;
    struct op *head, *tail;       /* queued operations */
    bool stopping;
    bool started;
};

struct replay {
    struct sl_image_builder *b;
    int64_t last_offset;   /* offset of the last record applied, -1 none */
};

static int replay_one(void *arg, int16_t type, int16_t version, const void *rec, int64_t offset)
{
    struct replay *r = arg;
    r->last_offset = offset;
    return sl_meta_apply(r->b, type, version, rec, offset);
}

static void *controller_main(void *arg)
{
    struct sl_controller *ctl = arg;
    pthread_mutex_lock(&ctl->lock);
    for (;;) {
        while (!ctl->head && !ctl->stopping)
            pthread_cond_wait(&ctl->cond, &ctl->lock);
        struct op *o = ctl->head;
        if (!o)
            break; /* stopping and drained */
        ctl->head = o->next;
        if (!ctl->head)
            ctl->tail = NULL;
        pthread_mutex_unlock(&ctl->lock);
        o->fn(ctl, o->arg);
        free(o);
        pthread_mutex_lock(&ctl->lock);
    }
    pthread_mutex_unlock(&ctl->lock);
    return NULL;
}

int sl_controller_open(const struct sl_conf *conf, const char *dir, const char *cluster_id,
                       struct sl_broker *broker, struct sl_controller **out, char *err, size_t errlen)
{
    struct sl_controller *ctl = calloc(1, sizeof(*ctl));
    if (!ctl)
        return -ENOMEM;
    ctl->conf = conf;
    ctl->broker = broker;
    snprintf(ctl->cluster_id, sizeof(ctl->cluster_id), "%s", cluster_id);
    pthread_mutex_init(&ctl->lock, NULL);
    pthread_cond_init(&ctl->cond, NULL);

    int rc = sl_metalog_open(dir, &ctl->ml);
    if (rc < 0) {
        snprintf(err, errlen, "cannot open the metadata log in %s: %s", dir, strerror(-rc));
        goto fail;
    }
    struct sl_image_builder *b = sl_image_builder_new(NULL);
    if (!b) {
        rc = -ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    sl_image_set_cluster(b, ctl->cluster_id, conf->node_id);
    struct replay replay = {b, -1};
    rc = sl_metalog_replay(ctl->ml, replay_one, &replay);
    if (rc < 0) {
        sl_image_builder_free(b);
        snprintf(err, errlen, "the metadata log in %s/__cluster_metadata-0 is corrupt (%s); refusing to start",
                 dir, strerror(-rc));
        goto fail;
    }
    ctl->image = sl_image_builder_finish(b, replay.last_offset);
    if (!ctl->image) {
        rc = -ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    __atomic_add_fetch(&ctl->image->refs, 1, __ATOMIC_ACQ_REL);
    sl_image_publish(ctl->image);
    SL_INFO("meta", "metadata image at offset %lld: %d topics, %d brokers", (long long)ctl->image->offset,
            ctl->image->topics_n, ctl->image->brokers_n);
    if (broker && broker->parts && (rc = sl_parts_sync(broker->parts, ctl->image)) < 0) {
        snprintf(err, errlen, "cannot open partitions: %s", strerror(-rc));
        goto fail;
    }
    if (pthread_create(&ctl->thread, NULL, controller_main, ctl) != 0) {
        rc = -EAGAIN;
        snprintf(err, errlen, "cannot start the controller thread");
        goto fail;
    }
    ctl->started = true;
    *out = ctl;
    return 0;
fail:
    sl_controller_close(ctl);
    return rc;
}

void sl_controller_close(struct sl_controller *ctl)
{
    if (!ctl)
        return;
    if (ctl->started) {
        pthread_mutex_lock(&ctl->lock);
        ctl->stopping = true;
        pthread_cond_signal(&ctl->cond);
        pthread_mutex_unlock(&ctl->lock);
        pthread_join(ctl->thread, NULL);
    }
    if (ctl->ml)
        sl_metalog_close(ctl->ml);
    sl_image_release(ctl->image);
    pthread_mutex_destroy(&ctl->lock);
    pthread_cond_destroy(&ctl->cond);
    free(ctl);
}

void sl_controller_submit(struct sl_controller *ctl, void (*fn)(struct sl_controller *ctl, void *arg),
                          void *arg)
{
    struct op *o = malloc(sizeof(*o));
    SL_ASSERT(o != NULL);
    o->fn = fn;
    o->arg = arg;
    o->next = NULL;
    pthread_mutex_lock(&ctl->lock);
    if (ctl->tail)
        ctl->tail->next = o;
    else
        ctl->head = o;
    ctl->tail = o;
    pthread_cond_signal(&ctl->cond);
    pthread_mutex_unlock(&ctl->lock);
}

const struct sl_image *sl_controller_image(const struct sl_controller *ctl) { return ctl->image; }
struct sl_broker *sl_controller_broker(const struct sl_controller *ctl) { return ctl->broker; }
const struct sl_conf *sl_controller_conf(const struct sl_controller *ctl) { return ctl->conf; }

int sl_controller_write(struct sl_controller *ctl, const struct sl_meta_rec *recs, int n)
{
    if (n == 0)
        return 0;
    /* Apply first to a scratch builder: a change the image rejects is never logged. */
    struct sl_image_builder *b = sl_image_builder_new(ctl->image);
    if (!b)
        return -ENOMEM;
    int64_t base = sl_metalog_end_offset(ctl->ml);
    for (int i = 0; i < n; i++) {
        int rc = sl_meta_apply(b, recs[i].type, recs[i].version, recs[i].rec, base + i);
        if (rc < 0) {
            sl_image_builder_free(b);
            return rc;
        }
    }
    int64_t logged;
    int rc = sl_metalog_append(ctl->ml, recs, n, &logged);
    if (rc < 0) {
        sl_image_builder_free(b);
        SL_ERROR("meta", "cannot append to the metadata log: %s", strerror(-rc));
        return rc;
    }
    SL_ASSERT(logged == base);
    struct sl_image *img = sl_image_builder_finish(b, base + n - 1);
    if (!img)
        return -ENOMEM;
    sl_image_release(ctl->image);
    ctl->image = img;
    __atomic_add_fetch(&img->refs, 1, __ATOMIC_ACQ_REL);
    sl_image_publish(img);
    if (ctl->broker && ctl->broker->parts) {
        rc = sl_parts_sync(ctl->broker->parts, img);
        if (rc < 0)
            SL_ERROR("meta", "cannot bring partitions in line with metadata offset %lld: %s",
                     (long long)img->offset, strerror(-rc));
    }
    return 0;
}

/* A write handed to the controller thread by a thread that waits for it. */
struct sync_write {
    const struct sl_meta_rec *recs;
    int n;
    int rc;
    bool done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static void run_sync_write(struct sl_controller *ctl, void *arg)
{
    struct sync_write *w = arg;
    int rc = sl_controller_write(ctl, w->recs, w->n);
    pthread_mutex_lock(&w->lock);
    w->rc = rc;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int sl_controller_write_sync(struct sl_controller *ctl, const struct sl_meta_rec *recs, int n)
{
    struct sync_write w = {recs, n, 0, false, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    sl_controller_submit(ctl, run_sync_write, &w);
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    return w.rc;
}

/* Kafka's SecurityProtocol ids, as RegisterBrokerRecord carries them. */
static int16_t security_protocol_id(const char *protocol)
{
    static const char *const names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    for (int16_t i = 0; protocol && i < 4; i++)
        if (strcmp(protocol, names[i]) == 0)
            return i;
    return 0;
}

int sl_controller_register_broker(struct sl_controller *ctl, char *err, size_t errlen)
{
    struct sl_broker *broker = ctl->broker;
    struct sl_meta_rec recs[2];
    int n = 0;
    struct sl_FeatureLevelRecord fl;
    if (ctl->image->metadata_version == 0) {
        sl_FeatureLevelRecord_init(&fl);
        fl.Name = sl_slice_cstr("metadata.version");
        fl.FeatureLevel = SL_METADATA_VERSION;
        recs[n++] = (struct sl_meta_rec){12, 0, &fl};
    }
    struct sl_RegisterBrokerRecord rb;
    sl_RegisterBrokerRecord_init(&rb);
    struct sl_RegisterBrokerRecord_BrokerEndpoint eps[8];
    rb.BrokerId = ctl->conf->node_id;
    sl_uuid_random(&rb.IncarnationId);
    rb.BrokerEpoch = sl_metalog_end_offset(ctl->ml) + n;
    rb.Fenced = false;
    rb.Rack = ctl->conf->broker_rack[0] ? sl_slice_cstr(ctl->conf->broker_rack) : (struct sl_slice){NULL, 0};
    for (int i = 0; i < broker->listeners_n && i < 8; i++) {
        sl_RegisterBrokerRecord_BrokerEndpoint_init(&eps[i]);
        eps[i].Name = sl_slice_cstr(broker->listeners[i].name);
        eps[i].Host = sl_slice_cstr(broker->listeners[i].adv_host);
        eps[i].Port = (uint16_t)broker->listeners[i].adv_port;
        eps[i].SecurityProtocol = security_protocol_id(broker->listeners[i].protocol);
    }
    rb.EndPoints = eps;
    rb.EndPoints_n = broker->listeners_n < 8 ? broker->listeners_n : 8;
    recs[n++] = (struct sl_meta_rec){0, 1, &rb};

    int rc = sl_controller_write_sync(ctl, recs, n);
    if (rc < 0)
        snprintf(err, errlen, "cannot register node %d in the metadata log: %s", ctl->conf->node_id,
                 strerror(-rc));
    return rc;
}
