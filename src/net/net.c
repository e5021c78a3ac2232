/*
 * net.c - the network layer as a whole: configuration defaults, creating
 * the loops, starting their threads and the bounded stop sequence.
 *
 * States: new --sl_net_start--> started --sl_net_stop--> stopped --sl_net_free.
 * Thread: main for everything here.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "base/clock.h"
#include "base/diag.h"
#include "net/net_int.h"

int sl_net_new(const struct sl_net_conf *conf, sl_net_request_fn fn, void *ctx,
               struct sl_net **out)
{
    int rc = 0;
    struct sl_net *net = NULL;
    *out = NULL;
    if (!conf || !fn || conf->threads < 0 || conf->max_connections < 0 ||
        conf->max_connections_per_ip < 0 || conf->max_connection_creation_rate < 0 ||
        conf->max_request_bytes > INT32_MAX)
        return -EINVAL;
    if (!(net = calloc(1, sizeof(*net))))
        return -ENOMEM;
    net->conf = *conf;
    if (net->conf.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        net->conf.threads = n > 0 ? (int)n : 1;
    }
    if (net->conf.max_request_bytes == 0)
        net->conf.max_request_bytes = 100u << 20;
    if (net->conf.max_inflight_bytes == 0)
        net->conf.max_inflight_bytes = net->conf.max_request_bytes;
    if (net->conf.idle_timeout_ms == 0)
        net->conf.idle_timeout_ms = 600000;
    if (net->conf.tls_handshake_timeout_ms <= 0)
        net->conf.tls_handshake_timeout_ms = 10000;
    if (net->conf.idle_timeout_ms > 0 && net->conf.tls_handshake_timeout_ms > net->conf.idle_timeout_ms)
        net->conf.tls_handshake_timeout_ms = net->conf.idle_timeout_ms;
    net->fn = fn;
    net->ctx = ctx;
    atomic_init(&net->nconns, 0);
    atomic_init(&net->next_conn_id, 0);
    pthread_mutex_init(&net->ip_mu, NULL);
    if (!(net->loops = calloc((size_t)net->conf.threads, sizeof(*net->loops)))) {
        rc = -ENOMEM;
        goto fail;
    }
    for (int i = 0; i < net->conf.threads; i++) {
        if ((rc = loop_init(&net->loops[i], net, i)) < 0)
            goto fail;
        net->nloops++;
    }
    *out = net;
    return 0;
fail:
    sl_net_free(net);
    return rc;
}

int sl_net_start(struct sl_net *net)
{
    int rc = 0;
    sigset_t block, old;
    if (net->started)
        return -EINVAL;
    net->started = true;
    listeners_enable(net);
    /* Loop threads never take SIGPIPE: a peer gone mid-sendfile is EPIPE. */
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (int i = 0; i < net->nloops; i++) {
        struct sl_loop *loop = &net->loops[i];
        atomic_store(&loop->running, true);
        int e = pthread_create(&loop->thread, NULL, loop_thread, loop);
        if (e != 0) {
            atomic_store(&loop->running, false);
            rc = -e;
            break;
        }
        loop->started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0) {
        SL_ERROR(NET_MOD, "starting loop threads: %s", strerror(-rc));
        sl_net_stop(net, 0);
        return rc;
    }
    SL_INFO(NET_MOD, "%d network threads started", net->nloops);
    return 0;
}

void sl_net_stop(struct sl_net *net, int64_t grace_ms)
{
    if (!net->started || net->stopped)
        return;
    net->stopped = true;
    int64_t deadline = sl_clock_mono_ms() + (grace_ms > 0 ? grace_ms : 0);
    for (int i = 0; i < net->nloops; i++) {
        struct sl_loop *loop = &net->loops[i];
        if (!loop->started)
            continue;
        loop->stop_deadline_ms = deadline; /* published by the post mutex */
        sl_loop_post(loop, loop_begin_stop, loop);
    }
    for (int i = 0; i < net->nloops; i++) {
        struct sl_loop *loop = &net->loops[i];
        if (loop->started)
            pthread_join(loop->thread, NULL);
        loop->started = false;
    }
    /* Loops are gone: what was posted meanwhile runs here. */
    for (int i = 0; i < net->nloops; i++) {
        loop_run_posts(&net->loops[i]);
        conn_reap(&net->loops[i]);
    }
    for (int i = 0; i < net->nlisteners; i++) {
        if (net->listeners[i].io.fd != -1)
            close(net->listeners[i].io.fd);
        net->listeners[i].io.fd = -1;
    }
    SL_INFO(NET_MOD, "network threads stopped");
}

void sl_net_free(struct sl_net *net)
{
    if (!net)
        return;
    sl_net_stop(net, 0);
    for (int i = 0; i < net->nloops; i++)
        loop_fini(&net->loops[i]);
    for (int i = 0; i < net->nlisteners; i++) {
        if (net->listeners[i].io.fd != -1)
            close(net->listeners[i].io.fd);
        SSL_CTX_free(net->listeners[i].tls_ctx); /* NULL-safe */
    }
    for (int i = 0; i < NET_IP_BUCKETS; i++) {
        while (net->ip_table[i]) {
            struct ip_count *e = net->ip_table[i];
            net->ip_table[i] = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&net->ip_mu);
    free(net->loops);
    free(net);
}

struct sl_loop *sl_net_loop(struct sl_net *net, int i)
{
    SL_ASSERT(i >= 0 && i < net->nloops);
    return &net->loops[i];
}

int sl_net_loop_count(struct sl_net *net) { return net->nloops; }

int sl_net_listener_stats(struct sl_net *net, struct sl_net_listener_stats *out, int max)
{
    for (int i = 0; i < net->nlisteners && i < max; i++) {
        struct listener *l = &net->listeners[i];
        out[i] = (struct sl_net_listener_stats){
            .listener_data = l->listener_data,
            .port = l->port,
            .open = atomic_load_explicit(&l->open, memory_order_relaxed),
            .accepted = atomic_load_explicit(&l->accepted, memory_order_relaxed),
            .tls = l->tls_ctx != NULL,
            .tls_handshake_failures =
                atomic_load_explicit(&l->tls_handshake_failures, memory_order_relaxed),
        };
    }
    return net->nlisteners;
}

uint64_t sl_net_loop_idle_ns(struct sl_net *net, int i)
{
    SL_ASSERT(i >= 0 && i < net->nloops);
    return atomic_load_explicit(&net->loops[i].idle_ns, memory_order_relaxed);
}
