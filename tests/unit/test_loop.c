/*
 * test_loop.c - event loop machinery without sockets: timers (the pairing
 * heap: order, stop, re-arm, many at once, firing at shutdown) and
 * sl_loop_post from other threads.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/net.h"
#include "testlib.h"

#define DEADLINE_MS 10000

static void no_requests(void *ctx, struct sl_req *req)
{
    (void)ctx;
    (void)req;
    CHECK(!"no request expected");
}

static struct sl_net *start_loops(int threads)
{
    alarm(60);
    struct sl_net_conf conf = {.threads = threads};
    struct sl_net *net;
    CHECK(sl_net_new(&conf, no_requests, NULL, &net) == 0);
    CHECK(sl_net_start(net) == 0);
    return net;
}

static bool wait_until(atomic_int *v, int want)
{
    int64_t deadline = sl_clock_mono_ms() + DEADLINE_MS;
    while (atomic_load(v) < want) {
        if (sl_clock_mono_ms() > deadline)
            return false;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* re-check the condition every ms */
    }
    return true;
}

/* Runs fn(arg) on loop and waits for it to return. */
struct call {
    void (*fn)(void *);
    void *arg;
    atomic_int done;
};

static void call_trampoline(void *arg)
{
    struct call *c = arg;
    c->fn(c->arg);
    atomic_store(&c->done, 1);
}

static void run_on(struct sl_loop *loop, void (*fn)(void *), void *arg)
{
    struct call c = {fn, arg, 0};
    sl_loop_post(loop, call_trampoline, &c);
    CHECK(wait_until(&c.done, 1));
}

enum { NT = 2000 };

struct tstate {
    struct sl_loop *loop;
    struct sl_timer timers[NT];
    int64_t deadline[NT];   /* as armed last */
    bool stopped[NT];       /* disarmed, must not fire */
    int order[NT];          /* indices in firing order */
    atomic_int fired;       /* timers fired */
    int bad;                /* fired although stopped */
};

static struct tstate S;

static void on_timer(void *arg)
{
    int i = (int)(intptr_t)arg;
    CHECK(sl_loop_current() == S.loop);
    int n = atomic_load(&S.fired);
    if (S.stopped[i])
        S.bad++;
    S.order[n] = i;
    atomic_store(&S.fired, n + 1);
}

static void arm_random(void *arg)
{
    int64_t now = sl_clock_mono_ms();
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < NT; i++) {
        S.deadline[i] = now + 20 + rand_r(&seed) % 300;
        sl_timer_start(S.loop, &S.timers[i], S.deadline[i], on_timer, (void *)(intptr_t)i);
    }
    /* re-arm a third to new deadlines, stop another third */
    for (int i = 0; i < NT; i += 3) {
        S.deadline[i] = now + 20 + rand_r(&seed) % 300;
        sl_timer_start(S.loop, &S.timers[i], S.deadline[i], on_timer, (void *)(intptr_t)i);
    }
    for (int i = 1; i < NT; i += 3) {
        sl_timer_stop(S.loop, &S.timers[i]);
        sl_timer_stop(S.loop, &S.timers[i]); /* twice is harmless */
        S.stopped[i] = true;
    }
}

TEST(timers_fire_in_deadline_order_and_stopped_ones_never)
{
    struct sl_net *net = start_loops(1);
    memset(&S, 0, sizeof(S));
    S.loop = sl_net_loop(net, 0);
    run_on(S.loop, arm_random, (void *)42);
    int want = NT - (NT + 1) / 3;
    CHECK(wait_until(&S.fired, want));
    sl_net_stop(net, 0);
    CHECK_EQ(atomic_load(&S.fired), want);
    CHECK_EQ(S.bad, 0);
    for (int n = 1; n < want; n++)
        CHECK(S.deadline[S.order[n - 1]] <= S.deadline[S.order[n]]);
    sl_net_free(net);
}

static void arm_far(void *arg)
{
    (void)arg;
    sl_timer_init(&S.timers[0]);
    S.deadline[0] = sl_clock_mono_ms() + 3600 * 1000;
    sl_timer_start(S.loop, &S.timers[0], S.deadline[0], on_timer, (void *)(intptr_t)0);
}

TEST(armed_timers_fire_when_the_net_stops)
{
    struct sl_net *net = start_loops(1);
    memset(&S, 0, sizeof(S));
    S.loop = sl_net_loop(net, 0);
    run_on(S.loop, arm_far, NULL);
    int64_t t0 = sl_clock_mono_ms();
    sl_net_stop(net, 0);
    CHECK(sl_clock_mono_ms() - t0 < 2000);
    CHECK_EQ(atomic_load(&S.fired), 1);
    sl_net_free(net);
}

enum { POSTERS = 4, POSTS = 20000 };

static int last_seq[POSTERS];
static atomic_int posted_runs;
static atomic_int post_errors;

struct post_msg {
    int thread, seq;
};

static void on_post(void *arg)
{
    struct post_msg *m = arg;
    if (m->seq != last_seq[m->thread] + 1)
        atomic_fetch_add(&post_errors, 1);
    last_seq[m->thread] = m->seq;
    free(m);
    atomic_fetch_add(&posted_runs, 1);
}

static struct sl_loop *post_target;

static void *poster(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 1; i <= POSTS; i++) {
        struct post_msg *m = malloc(sizeof(*m));
        m->thread = t;
        m->seq = i;
        sl_loop_post(post_target, on_post, m);
    }
    return NULL;
}

TEST(posts_from_many_threads_all_run_in_each_posters_order)
{
    struct sl_net *net = start_loops(2);
    post_target = sl_net_loop(net, 1);
    pthread_t th[POSTERS];
    for (int t = 0; t < POSTERS; t++)
        CHECK(pthread_create(&th[t], NULL, poster, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < POSTERS; t++)
        pthread_join(th[t], NULL);
    CHECK(wait_until(&posted_runs, POSTERS * POSTS));
    CHECK_EQ(atomic_load(&post_errors), 0);
    sl_net_stop(net, 0);
    sl_net_free(net);
}

static atomic_int late_runs;
static void late(void *arg)
{
    (void)arg;
    atomic_fetch_add(&late_runs, 1);
}

TEST(posts_after_stop_run_on_the_stopping_thread)
{
    struct sl_net *net = start_loops(1);
    sl_net_stop(net, 0);
    sl_loop_post(sl_net_loop(net, 0), late, NULL);
    CHECK_EQ(atomic_load(&late_runs), 0);
    sl_net_free(net);
    CHECK_EQ(atomic_load(&late_runs), 1);
}
