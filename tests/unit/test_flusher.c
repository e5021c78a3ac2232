/* test_flusher.c - tests for src/storage/flusher.c: every request completes
 * on the flusher thread once the log is durable up to its offset, with fewer
 * syncs than requests (group commit), under many concurrent writers. */
#include "storage_util.h"

#include "storage/flusher.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

struct waiter {
    struct sl_log *log;     /* log waited on */
    int64_t offset;         /* wanted durable offset */
    pthread_t caller;       /* thread that asked */
    _Atomic int state;      /* 0 pending, 1 done ok, -1 done badly */
};

static _Atomic int completed;

static void on_done(void *arg, int err)
{
    struct waiter *w = arg;
    bool ok = err == 0 && sl_log_durable_offset(w->log) >= w->offset &&
              !pthread_equal(pthread_self(), w->caller);
    atomic_store(&w->state, ok ? 1 : -1);
    atomic_fetch_add(&completed, 1);
}

#define THREADS 8
#define PER_THREAD 200

struct writer {
    struct sl_log *log;        /* shared log */
    pthread_mutex_t *lock;     /* the partition lock */
    struct sl_flusher *fl;     /* shared flusher */
    struct waiter *w;          /* PER_THREAD waiters */
};

static void *writer_main(void *p)
{
    struct writer *wr = p;
    size_t len;
    uint8_t *b = mk_batch(1, 1, 100, &len);
    for (int i = 0; i < PER_THREAD; i++) {
        pthread_mutex_lock(wr->lock);
        CHECK_EQ(sl_log_append(wr->log, b, len, 0, NULL), 0);
        int64_t end = sl_log_end_offset(wr->log);
        pthread_mutex_unlock(wr->lock);
        wr->w[i] = (struct waiter){.log = wr->log, .offset = end, .caller = pthread_self()};
        sl_flusher_request(wr->fl, wr->log, end, on_done, &wr->w[i]);
    }
    free(b);
    return NULL;
}

TEST(many_threads_group_commit)
{
    struct sl_log *logs[2];
    const char *d0 = tmp_log_dir();
    CHECK_EQ(sl_log_open(d0, NULL, &logs[0]), 0);
    const char *d1 = tmp_log_dir();
    CHECK_EQ(sl_log_open(d1, NULL, &logs[1]), 0);
    pthread_mutex_t locks[2] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
    struct sl_flusher *fl;
    CHECK_EQ(sl_flusher_new(&fl), 0);
    struct writer wr[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        wr[t] = (struct writer){logs[t % 2], &locks[t % 2], fl, calloc(PER_THREAD, sizeof(struct waiter))};
        CHECK_EQ(pthread_create(&th[t], NULL, writer_main, &wr[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    while (atomic_load(&completed) < THREADS * PER_THREAD)
        sched_yield(); /* completions arrive on the flusher thread */
    uint64_t syncs = sl_flusher_syncs(fl);
    sl_flusher_free(fl);
    CHECK_EQ(atomic_load(&completed), THREADS * PER_THREAD);
    CHECK(syncs >= 1 && syncs <= THREADS * PER_THREAD);
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++)
            CHECK_EQ(atomic_load(&wr[t].w[i].state), 1);
        free(wr[t].w);
    }
    printf("flusher: %d requests from %d threads, %llu syncs\n", THREADS * PER_THREAD, THREADS,
           (unsigned long long)syncs);
    CHECK_EQ(sl_log_durable_offset(logs[0]), THREADS / 2 * PER_THREAD);
    sl_log_close(logs[0]);
    sl_log_close(logs[1]);
}

static _Atomic int order_err;
static void expect_range(void *arg, int err)
{
    (void)arg;
    atomic_store(&order_err, err);
    atomic_fetch_add(&completed, 1);
}

TEST(request_beyond_the_end_fails_with_erange)
{
    struct sl_log *log;
    CHECK_EQ(sl_log_open(tmp_log_dir(), NULL, &log), 0);
    append_n(log, 1, 1, 1);
    struct sl_flusher *fl;
    CHECK_EQ(sl_flusher_new(&fl), 0);
    sl_flusher_request(fl, log, 5, expect_range, NULL);
    sl_flusher_free(fl);
    CHECK_EQ(atomic_load(&completed), 1);
    CHECK_EQ(atomic_load(&order_err), -ERANGE);
    sl_log_close(log);
}

TEST(one_sync_covers_queued_waiters)
{
    struct sl_log *log;
    CHECK_EQ(sl_log_open(tmp_log_dir(), NULL, &log), 0);
    struct sl_flusher *fl;
    CHECK_EQ(sl_flusher_new(&fl), 0);
    struct waiter w[50];
    for (int i = 0; i < 50; i++)
        append_n(log, 1, 1, 10);
    for (int i = 0; i < 50; i++) {
        w[i] = (struct waiter){.log = log, .offset = i + 1, .caller = pthread_self()};
        sl_flusher_request(fl, log, i + 1, on_done, &w[i]);
    }
    sl_flusher_free(fl);
    CHECK_EQ(atomic_load(&completed), 50);
    for (int i = 0; i < 50; i++)
        CHECK_EQ(atomic_load(&w[i].state), 1);
    CHECK_EQ(sl_log_durable_offset(log), 50);
    sl_log_close(log);
}
