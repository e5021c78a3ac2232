/*
 * flusher.c - the group-commit thread (see flusher.h).
 * States of a request: queued (fl->head list, under fl->mu) -> taken by the
 * thread into a round -> completed (done called) or, when the sync of its
 * round did not cover it, queued again for the next round.
 */
#include "storage/flusher.h"

#include "base/clock.h"
#include "base/diag.h"
#include "storage/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

struct flush_req {
    struct flush_req *next;            /* queue link */
    struct sl_log *log;                /* log to make durable */
    int64_t offset;                    /* durable offset wanted (exclusive) */
    void (*done)(void *arg, int err);  /* completion, flusher thread */
    void *arg;                         /* for done */
};

struct sl_flusher {
    pthread_t thread;         /* the flusher */
    pthread_mutex_t mu;       /* guards head, tail, stop */
    pthread_cond_t cv;        /* signalled on a new request or stop */
    struct flush_req *head;   /* queued requests, oldest first */
    struct flush_req *tail;   /* newest */
    bool stop;                /* free() asked the thread to finish */
    _Atomic uint64_t syncs;   /* sl_log_sync calls */
    struct sl_hist sync_ns;   /* duration of each sl_log_sync, ns */
    _Atomic uint64_t synced_bytes; /* bytes made durable by our syncs */
};

/* sl_log_sync, timed and counted for /metrics. Thread: the flusher. */
static int timed_sync(struct sl_flusher *fl, struct sl_log *log)
{
    uint64_t before = sl_log_synced_bytes(log);
    int64_t t0 = sl_clock_mono_ns();
    int rc = sl_log_sync(log);
    int64_t ns = sl_clock_mono_ns() - t0;
    sl_hist_observe(&fl->sync_ns, (uint64_t)(ns > 0 ? ns : 0));
    uint64_t after = sl_log_synced_bytes(log);
    if (after > before)
        atomic_fetch_add_explicit(&fl->synced_bytes, after - before, memory_order_relaxed);
    atomic_fetch_add(&fl->syncs, 1);
    return rc;
}

static int cmp_log(const void *a, const void *b)
{
    const struct flush_req *x = *(struct flush_req *const *)a, *y = *(struct flush_req *const *)b;
    return (uintptr_t)x->log < (uintptr_t)y->log ? -1 : (uintptr_t)x->log > (uintptr_t)y->log;
}

static void enqueue(struct sl_flusher *fl, struct flush_req *r)
{
    r->next = NULL;
    if (fl->tail)
        fl->tail->next = r;
    else
        fl->head = r;
    fl->tail = r;
}

/* One round: a sync per distinct log, then completions. */
static void run_round(struct sl_flusher *fl, struct flush_req *list)
{
    size_t n = 0;
    for (struct flush_req *r = list; r; r = r->next)
        n++;
    struct flush_req **v = malloc(n * sizeof(*v));
    if (!v) {
        /* Without memory for sorting, go one by one. */
        while (list) {
            struct flush_req *r = list;
            list = r->next;
            int rc = sl_log_durable_offset(r->log) >= r->offset ? 0 : timed_sync(fl, r->log);
            r->done(r->arg, rc);
            free(r);
        }
        return;
    }
    size_t i = 0;
    for (struct flush_req *r = list; r; r = r->next)
        v[i++] = r;
    qsort(v, n, sizeof(*v), cmp_log);
    struct flush_req *again = NULL;
    for (size_t s = 0; s < n;) {
        size_t e = s;
        int64_t want = 0;
        while (e < n && v[e]->log == v[s]->log) {
            if (v[e]->offset > want)
                want = v[e]->offset;
            e++;
        }
        struct sl_log *log = v[s]->log;
        int rc = 0;
        if (sl_log_durable_offset(log) < want) {
            rc = timed_sync(fl, log);
        }
        int64_t durable = sl_log_durable_offset(log), end = sl_log_end_offset(log);
        for (size_t k = s; k < e; k++) {
            struct flush_req *r = v[k];
            if (durable >= r->offset || rc < 0 || r->offset > end) {
                r->done(r->arg, durable >= r->offset ? 0 : rc < 0 ? rc : -ERANGE);
                free(r);
            } else {
                r->next = again; /* appended after the sync read the end */
                again = r;
            }
        }
        s = e;
    }
    free(v);
    if (again) {
        pthread_mutex_lock(&fl->mu);
        while (again) {
            struct flush_req *r = again;
            again = r->next;
            enqueue(fl, r);
        }
        pthread_mutex_unlock(&fl->mu);
    }
}

static void *flusher_main(void *p)
{
    struct sl_flusher *fl = p;
    pthread_mutex_lock(&fl->mu);
    for (;;) {
        while (!fl->head && !fl->stop)
            pthread_cond_wait(&fl->cv, &fl->mu);
        if (!fl->head)
            break; /* stop with nothing queued */
        struct flush_req *list = fl->head;
        fl->head = fl->tail = NULL;
        pthread_mutex_unlock(&fl->mu);
        run_round(fl, list);
        pthread_mutex_lock(&fl->mu);
    }
    pthread_mutex_unlock(&fl->mu);
    return NULL;
}

int sl_flusher_new(struct sl_flusher **out)
{
    struct sl_flusher *fl = calloc(1, sizeof(*fl));
    if (!fl)
        return -ENOMEM;
    pthread_mutex_init(&fl->mu, NULL);
    pthread_cond_init(&fl->cv, NULL);
    sl_hist_init(&fl->sync_ns, &sl_hist_latency_ns);
    int rc = pthread_create(&fl->thread, NULL, flusher_main, fl);
    if (rc != 0) {
        pthread_mutex_destroy(&fl->mu);
        pthread_cond_destroy(&fl->cv);
        free(fl);
        return -rc;
    }
    *out = fl;
    return 0;
}

void sl_flusher_free(struct sl_flusher *fl)
{
    if (!fl)
        return;
    pthread_mutex_lock(&fl->mu);
    fl->stop = true;
    pthread_cond_signal(&fl->cv);
    pthread_mutex_unlock(&fl->mu);
    pthread_join(fl->thread, NULL);
    pthread_mutex_destroy(&fl->mu);
    pthread_cond_destroy(&fl->cv);
    free(fl);
}

void sl_flusher_request(struct sl_flusher *fl, struct sl_log *log, int64_t offset,
                        void (*done)(void *arg, int err), void *arg)
{
    struct flush_req *r = malloc(sizeof(*r));
    if (!r) {
        done(arg, -ENOMEM);
        return;
    }
    *r = (struct flush_req){.log = log, .offset = offset, .done = done, .arg = arg};
    pthread_mutex_lock(&fl->mu);
    SL_ASSERT(!fl->stop);
    enqueue(fl, r);
    pthread_cond_signal(&fl->cv);
    pthread_mutex_unlock(&fl->mu);
}

uint64_t sl_flusher_syncs(struct sl_flusher *fl)
{
    return atomic_load(&fl->syncs);
}

const struct sl_hist *sl_flusher_sync_hist(struct sl_flusher *fl) { return &fl->sync_ns; }

uint64_t sl_flusher_synced_bytes(struct sl_flusher *fl)
{
    return atomic_load_explicit(&fl->synced_bytes, memory_order_relaxed);
}
