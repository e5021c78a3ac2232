/*
 * loop.c - one event loop thread: epoll_wait, dispatching readiness to
 * listeners and connections, posted functions (mutex-protected FIFO woken by
 * an eventfd), timers, the flush list and the stop sequence.
 *
 * One iteration: wait (timeout = earliest timer, 0 if conns need flushing)
 * -> handle events -> run posts -> fire due timers -> flush the conns queued
 * during this iteration -> free dead conns. Conns re-queued for flushing
 * while flushing are handled next iteration, so one busy conn cannot starve
 * the others.
 *
 * Invariant: nothing here blocks except epoll_wait and the post mutex, which
 * is held only to link or unlink list nodes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/diag.h"
#include "net/net_int.h"

_Thread_local struct sl_loop *net_current_loop;

#define LOOP_EVENTS 256

struct sl_loop *sl_loop_current(void) { return net_current_loop; }

/* Thread: main, before the thread starts. 0 or -errno. */
int loop_init(struct sl_loop *loop, struct sl_net *net, int idx)
{
    int rc;
    memset(loop, 0, sizeof(*loop));
    loop->net = net;
    loop->idx = idx;
    loop->ev.kind = IO_EVENTFD;
    loop->ev.fd = -1;
    loop->epfd = -1;
    sl_list_init(&loop->conns);
    sl_list_init(&loop->flush);
    sl_list_init(&loop->zombies);
    pthread_mutex_init(&loop->post_mu, NULL);
    atomic_init(&loop->running, false);
    if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
        goto fail;
    if ((loop->ev.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
        goto fail;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &loop->ev};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->ev.fd, &e) == -1)
        goto fail;
    if (!(loop->scratch = malloc(NET_RBUF_BYTES))) {
        errno = ENOMEM;
        goto fail;
    }
    return 0;
fail:
    rc = -errno;
    loop_fini(loop);
    return rc;
}

/* Thread: main, after the thread is joined. */
void loop_fini(struct sl_loop *loop)
{
    loop_run_posts(loop);
    conn_reap(loop);
    if (loop->ev.fd != -1)
        close(loop->ev.fd);
    if (loop->epfd != -1)
        close(loop->epfd);
    loop->ev.fd = loop->epfd = -1;
    free(loop->scratch);
    loop->scratch = NULL;
    pthread_mutex_destroy(&loop->post_mu);
}

void sl_loop_post(struct sl_loop *loop, void (*fn)(void *arg), void *arg)
{
    struct post *p = malloc(sizeof(*p));
    SL_ASSERT(p != NULL);
    p->next = NULL;
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_lock(&loop->post_mu);
    bool was_empty = loop->post_head == NULL;
    if (loop->post_tail)
        loop->post_tail->next = p;
    else
        loop->post_head = p;
    loop->post_tail = p;
    pthread_mutex_unlock(&loop->post_mu);
    if (was_empty) {
        uint64_t one = 1;
        /* EAGAIN means the counter is already nonzero: the loop will wake. */
        while (write(loop->ev.fd, &one, sizeof(one)) == -1 && errno == EINTR)
            ;
    }
}

/* Runs what has been posted so far (not what those functions post). Thread:
 * the loop's own, or main once joined. */
void loop_run_posts(struct sl_loop *loop)
{
    pthread_mutex_lock(&loop->post_mu);
    struct post *p = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    pthread_mutex_unlock(&loop->post_mu);
    while (p) {
        struct post *next = p->next;
        p->fn(p->arg);
        free(p);
        p = next;
    }
}

/* Thread: the loop's own. 0 or -errno. */
int loop_epoll_add(struct sl_loop *loop, struct io *io, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = io};
    return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &e) == -1 ? -errno : 0;
}

/* Queues conn to be flushed at the end of this iteration. Thread: conn's loop. */
void loop_schedule_flush(struct sl_conn *conn)
{
    if (conn->state == CONN_DEAD)
        return;
    if (sl_list_empty(&conn->flush_link))
        sl_list_push_back(&conn->loop->flush, &conn->flush_link);
}

static void sweep_fire(void *arg)
{
    struct sl_loop *loop = arg;
    int64_t now = sl_clock_mono_ms();
    conn_sweep_idle(loop, now);
    int64_t idle = loop->net->conf.idle_timeout_ms;
    if (idle > 0 && !loop->stopping) {
        int64_t every = idle / 4 < 1000 ? idle / 4 : 1000;
        sl_timer_start(loop, &loop->sweep, now + (every > 10 ? every : 10), sweep_fire, loop);
    }
}

/* Begins the stop sequence on this loop. Posted by sl_net_stop. Thread: the
 * loop's own. */
void loop_begin_stop(void *arg)
{
    struct sl_loop *loop = arg;
    loop->stopping = true;
    sl_timer_stop(loop, &loop->sweep);
    if (loop->idx == 0)
        listeners_disable(loop->net);
    struct sl_list *pos, *tmp;
    SL_LIST_FOREACH_SAFE(pos, tmp, &loop->conns)
    {
        conn_begin_drain(SL_LIST_ENTRY(pos, struct sl_conn, link));
    }
}

static void flush_all(struct sl_loop *loop)
{
    struct sl_list batch;
    sl_list_init(&batch);
    if (sl_list_empty(&loop->flush))
        return;
    /* Move the list aside: conns queued while flushing wait for the next turn. */
    batch.next = loop->flush.next;
    batch.prev = loop->flush.prev;
    batch.next->prev = &batch;
    batch.prev->next = &batch;
    sl_list_init(&loop->flush);
    struct sl_list *first;
    while ((first = sl_list_first(&batch))) {
        sl_list_remove(first);
        conn_flush(SL_LIST_ENTRY(first, struct sl_conn, flush_link));
    }
}

static void handle_event(struct sl_loop *loop, struct epoll_event *e)
{
    struct io *io = e->data.ptr;
    switch (io->kind) {
    case IO_EVENTFD: {
        uint64_t n;
        while (read(loop->ev.fd, &n, sizeof(n)) == -1 && errno == EINTR)
            ;
        break; /* posts run after the events */
    }
    case IO_LISTENER:
        listener_on_ready((struct listener *)io);
        break;
    case IO_CONN:
        conn_on_events((struct sl_conn *)io, e->events);
        break;
    }
}

/* Closes whatever is left, fires armed timers so parked requests finish,
 * and runs posts until quiet. Thread: the loop's own, at exit. */
static void loop_finish(struct sl_loop *loop)
{
    struct sl_list *first;
    while ((first = sl_list_first(&loop->conns)))
        conn_close(SL_LIST_ENTRY(first, struct sl_conn, link), "shutting down");
    for (int round = 0; round < 1000; round++) {
        loop_run_posts(loop);
        timer_fire_all(loop);
        flush_all(loop);
        conn_reap(loop);
        pthread_mutex_lock(&loop->post_mu);
        bool quiet = loop->post_head == NULL;
        pthread_mutex_unlock(&loop->post_mu);
        if (quiet && !loop->timer_root)
            break;
    }
}

/* The thread body. Thread: the loop's own. */
void *loop_thread(void *arg)
{
    struct sl_loop *loop = arg;
    struct epoll_event events[LOOP_EVENTS];
    net_current_loop = loop;
    if (loop->net->conf.idle_timeout_ms > 0)
        sl_timer_start(loop, &loop->sweep, sl_clock_mono_ms() + 1000, sweep_fire, loop);
    for (;;) {
        int64_t now = sl_clock_mono_ms();
        if (loop->stopping && (sl_list_empty(&loop->conns) || now >= loop->stop_deadline_ms))
            break;
        int64_t next = timer_next_deadline(loop);
        if (loop->stopping && loop->stop_deadline_ms < next)
            next = loop->stop_deadline_ms;
        int timeout;
        if (!sl_list_empty(&loop->flush))
            timeout = 0;
        else if (next == INT64_MAX)
            timeout = -1;
        else if (next <= now)
            timeout = 0;
        else
            timeout = next - now > 60000 ? 60000 : (int)(next - now);
        int64_t idle_from = sl_clock_mono_ns();
        int n = epoll_wait(loop->epfd, events, LOOP_EVENTS, timeout);
        atomic_fetch_add_explicit(&loop->idle_ns, (uint64_t)(sl_clock_mono_ns() - idle_from),
                                  memory_order_relaxed);
        if (n == -1 && errno != EINTR) {
            SL_ERROR(NET_MOD, "loop %d: epoll_wait: %s", loop->idx, strerror(errno));
            SL_ASSERT(!"epoll_wait failed");
        }
        for (int i = 0; i < n; i++)
            handle_event(loop, &events[i]);
        loop_run_posts(loop);
        timer_run_due(loop, sl_clock_mono_ms());
        flush_all(loop);
        conn_reap(loop);
    }
    loop_finish(loop);
    atomic_store(&loop->running, false);
    net_current_loop = NULL;
    return NULL;
}
