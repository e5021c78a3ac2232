/*
 * pid.c - producer id blocks (see pid.h). The current block is a pair of
 * counters under one mutex; the controller thread writes the next block.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/diag.h"
#include "broker/broker.h"
#include "meta/controller.h"
#include "meta/image.h"
#include "proto/gen/meta_records.h"
#include "txn/pid.h"

static pthread_mutex_t pid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t pid_next, pid_end; /* [next, end) is ours; guarded by pid_lock */

bool sl_txn_pid_try(int64_t *pid)
{
    pthread_mutex_lock(&pid_lock);
    bool ok = pid_next < pid_end;
    if (ok)
        *pid = pid_next++;
    pthread_mutex_unlock(&pid_lock);
    return ok;
}

struct alloc {
    struct sl_broker *broker;
    void (*done)(void *arg, int64_t pid);
    void *arg;
};

/* Controller thread: a block may have arrived meanwhile; else write one. */
static void alloc_op(struct sl_controller *ctl, void *arg)
{
    struct alloc *a = arg;
    int64_t pid;
    if (!sl_txn_pid_try(&pid)) {
        const struct sl_image *img = sl_controller_image(ctl);
        int64_t first = img->next_producer_id > 0 ? img->next_producer_id : 0;
        const struct sl_image_broker *b = sl_image_broker(img, a->broker->node_id);
        struct sl_ProducerIdsRecord rec;
        sl_ProducerIdsRecord_init(&rec);
        rec.BrokerId = a->broker->node_id;
        rec.BrokerEpoch = b ? b->epoch : -1;
        rec.NextProducerId = first + SL_TXN_PID_BLOCK;
        struct sl_meta_rec mr = {15, 0, &rec};
        int rc = sl_controller_write(ctl, &mr, 1);
        if (rc < 0) {
            SL_ERROR("txn", "cannot allocate a producer id block: %d", rc);
            pid = rc;
        } else {
            pthread_mutex_lock(&pid_lock);
            pid_next = first + 1;
            pid_end = first + SL_TXN_PID_BLOCK;
            pthread_mutex_unlock(&pid_lock);
            pid = first;
            SL_INFO("txn", "producer id block [%lld, %lld)", (long long)first,
                    (long long)(first + SL_TXN_PID_BLOCK));
        }
    }
    a->done(a->arg, pid);
    free(a);
}

void sl_txn_pid_alloc(struct sl_broker *broker, void (*done)(void *arg, int64_t pid), void *arg)
{
    int64_t pid;
    if (sl_txn_pid_try(&pid)) {
        done(arg, pid);
        return;
    }
    struct alloc *a = malloc(sizeof(*a));
    if (!a) {
        done(arg, -ENOMEM);
        return;
    }
    *a = (struct alloc){broker, done, arg};
    sl_controller_submit(broker->ctl, alloc_op, a);
}

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int64_t pid;
};

static void sync_done(void *arg, int64_t pid)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->pid = pid;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int64_t sl_txn_pid_alloc_sync(struct sl_broker *broker)
{
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, -1};
    sl_txn_pid_alloc(broker, sync_done, &w);
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    return w.pid;
}
