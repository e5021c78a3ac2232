/*
 * controller.h - the active controller of a single-voter quorum: the only
 * writer of __cluster_metadata. Work reaches it as operations queued to its
 * thread; each operation reads the latest image, appends the records of one
 * change as a single batch (atomic: all or nothing on recovery), syncs it,
 * applies it to a new image and publishes that image before it returns.
 *
 * Thread: sl_controller_open/register/close on main; sl_controller_submit
 * from any thread; everything else on the controller thread only.
 */
#ifndef SL_META_CONTROLLER_H
#define SL_META_CONTROLLER_H

#include <stddef.h>
#include <stdint.h>

struct sl_conf;
struct sl_broker;
struct sl_image;
struct sl_controller;

/* One metadata record to write: its type (the JSON apiKey), version and
 * generated struct (e.g. struct sl_TopicRecord). */
struct sl_meta_rec {
    int16_t type;
    int16_t version;
    const void *rec;
};

/* Opens dir/__cluster_metadata-0, replays it into the first image and
 * publishes it, and starts the controller thread. 0 or -errno with err. */
int  sl_controller_open(const struct sl_conf *conf, const char *dir, const char *cluster_id,
                        struct sl_broker *broker, struct sl_controller **out, char *err, size_t errlen);
/* Registers this node as a broker with the endpoints of broker->listeners
 * (RegisterBrokerRecord, unfenced), bootstrapping metadata.version on the
 * first start. Synchronous. */
int  sl_controller_register_broker(struct sl_controller *ctl, char *err, size_t errlen);
void sl_controller_close(struct sl_controller *ctl);

/* Runs fn(ctl, arg) on the controller thread, in submission order. */
void sl_controller_submit(struct sl_controller *ctl, void (*fn)(struct sl_controller *ctl, void *arg),
                          void *arg);
/* The latest image (borrowed; controller thread only). */
const struct sl_image *sl_controller_image(const struct sl_controller *ctl);
/* Writes records as one change: append, sync, apply, publish. 0 or -errno;
 * on error nothing was applied. Controller thread only. */
int  sl_controller_write(struct sl_controller *ctl, const struct sl_meta_rec *recs, int n);
/* Hands a write to the controller thread and waits for it. Not on the
 * controller thread itself. */
int  sl_controller_write_sync(struct sl_controller *ctl, const struct sl_meta_rec *recs, int n);
struct sl_broker *sl_controller_broker(const struct sl_controller *ctl);
const struct sl_conf *sl_controller_conf(const struct sl_controller *ctl);

#endif
