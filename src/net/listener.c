/*
 * listener.c - listening sockets and accepting. Loop 0 alone watches the
 * listeners; it accepts, enforces max.connections (an atomic count over all
 * loops) and max.connections.per.ip (a small hash under ip_mu, touched once
 * per accept and once per close), and hands connections to the loops
 * round-robin. Running out of file descriptors pauses a listener for 100 ms
 * instead of spinning on a level-triggered event.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "base/clock.h"
#include "base/diag.h"
#include "net/net_int.h"

static int bind_one(const struct sockaddr *sa, socklen_t salen, bool dual)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -errno;
    int one = 1, zero = 0, rc;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
        goto fail;
    if (sa->sa_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual ? &zero : &one, sizeof(int)) == -1)
        goto fail;
    if (bind(fd, sa, salen) == -1)
        goto fail;
    if (listen(fd, SOMAXCONN) == -1)
        goto fail;
    return fd;
fail:
    rc = -errno;
    close(fd);
    return rc;
}

static int listen_common(struct sl_net *net, const char *host, int port, void *listener_data,
                         SSL_CTX *tls_ctx, int *bound_port)
{
    int fd = -EADDRNOTAVAIL;
    if (net->started || net->nlisteners == NET_MAX_LISTENERS || port < 0 || port > 65535)
        return -EINVAL;
    if (!host || !*host) {
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                                  .sin6_addr = IN6ADDR_ANY_INIT};
        fd = bind_one((struct sockaddr *)&a6, sizeof(a6), true);
        if (fd < 0) {
            struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                     .sin_addr.s_addr = htonl(INADDR_ANY)};
            fd = bind_one((struct sockaddr *)&a4, sizeof(a4), false);
        }
    } else {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
        struct addrinfo *res = NULL;
        char portstr[16];
        snprintf(portstr, sizeof(portstr), "%d", port);
        int g = getaddrinfo(host, portstr, &hints, &res);
        if (g != 0) {
            SL_ERROR(NET_MOD, "listen %s:%d: %s", host, port, gai_strerror(g));
            return -EADDRNOTAVAIL;
        }
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            bool any6 = ai->ai_family == AF_INET6 &&
                        IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
            fd = bind_one(ai->ai_addr, ai->ai_addrlen, any6);
        }
        freeaddrinfo(res);
    }
    if (fd < 0) {
        SL_ERROR(NET_MOD, "listen %s:%d: %s", host ? host : "", port, strerror(-fd));
        return fd;
    }
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    int p = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                     : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    struct listener *lst = &net->listeners[net->nlisteners++];
    memset(lst, 0, sizeof(*lst));
    lst->io.kind = IO_LISTENER;
    lst->io.fd = fd;
    lst->net = net;
    lst->listener_data = listener_data;
    lst->port = p;
    if (tls_ctx) {
        SSL_CTX_up_ref(tls_ctx);
        lst->tls_ctx = tls_ctx;
    }
    if (bound_port)
        *bound_port = p;
    SL_INFO(NET_MOD, "listening on %s:%d%s", host && *host ? host : "*", p, tls_ctx ? " (TLS)" : "");
    return 0;
}

int sl_net_listen(struct sl_net *net, const char *host, int port, void *listener_data,
                  int *bound_port)
{
    return listen_common(net, host, port, listener_data, NULL, bound_port);
}

int sl_net_listen_tls(struct sl_net *net, const char *host, int port, void *listener_data,
                      SSL_CTX *ctx, int *bound_port)
{
    if (!ctx)
        return -EINVAL;
    return listen_common(net, host, port, listener_data, ctx, bound_port);
}

static void listener_enable(struct listener *lst)
{
    struct sl_loop *loop0 = &lst->net->loops[0];
    if (lst->in_epoll || lst->io.fd == -1)
        return;
    int rc = loop_epoll_add(loop0, &lst->io, EPOLLIN);
    if (rc < 0)
        SL_ERROR(NET_MOD, "listener port %d: epoll: %s", lst->port, strerror(-rc));
    else
        lst->in_epoll = true;
}

static void listener_disable(struct listener *lst)
{
    if (!lst->in_epoll)
        return;
    epoll_ctl(lst->net->loops[0].epfd, EPOLL_CTL_DEL, lst->io.fd, NULL);
    lst->in_epoll = false;
}

static void listener_retry(void *arg)
{
    struct listener *lst = arg;
    if (!lst->net->loops[0].stopping)
        listener_enable(lst);
}

/* Thread: loop 0. */
void listeners_enable(struct sl_net *net)
{
    for (int i = 0; i < net->nlisteners; i++)
        listener_enable(&net->listeners[i]);
}

/* Thread: loop 0. */
void listeners_disable(struct sl_net *net)
{
    for (int i = 0; i < net->nlisteners; i++) {
        sl_timer_stop(&net->loops[0], &net->listeners[i].retry);
        listener_disable(&net->listeners[i]);
    }
}

static void to_v6(const struct sockaddr_storage *ss, struct sockaddr_in6 *out)
{
    memset(out, 0, sizeof(*out));
    out->sin6_family = AF_INET6;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;
        out->sin6_addr.s6_addr[10] = 0xff;
        out->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&out->sin6_addr.s6_addr[12], &a4->sin_addr, 4);
        out->sin6_port = a4->sin_port;
    } else {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
        out->sin6_addr = a6->sin6_addr;
        out->sin6_port = a6->sin6_port;
    }
}

static void format_peer(const struct sockaddr_in6 *a, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
        inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, ntohs(a->sin6_port));
    } else {
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "[%s]:%u", host, ntohs(a->sin6_port));
    }
}

static unsigned ip_hash(const struct in6_addr *a)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ a->s6_addr[i]) * 16777619u;
    return h % NET_IP_BUCKETS;
}

/* Counts one connection from addr; false (nothing counted) when that would
 * exceed max. Thread: loop 0. Locks: takes ip_mu. */
static bool ip_acquire(struct sl_net *net, const struct in6_addr *addr, int max)
{
    bool ok = false;
    pthread_mutex_lock(&net->ip_mu);
    struct ip_count **pp = &net->ip_table[ip_hash(addr)], *e = *pp;
    while (e && memcmp(&e->addr.sin6_addr, addr, sizeof(*addr)) != 0)
        e = e->next;
    if (!e) {
        if (!(e = calloc(1, sizeof(*e))))
            goto out;
        e->addr.sin6_addr = *addr;
        e->next = *pp;
        *pp = e;
    }
    if (e->count < max) {
        e->count++;
        ok = true;
    }
out:
    pthread_mutex_unlock(&net->ip_mu);
    return ok;
}

/* Uncounts conn (if it was counted) and the global count. Thread: any loop.
 * Locks: takes ip_mu. */
void net_ip_release(struct sl_net *net, struct sl_conn *conn)
{
    atomic_fetch_sub(&net->nconns, 1);
    if (!conn->counted_ip)
        return;
    conn->counted_ip = false;
    pthread_mutex_lock(&net->ip_mu);
    struct ip_count **pp = &net->ip_table[ip_hash(&conn->peer_addr.sin6_addr)];
    while (*pp && memcmp(&(*pp)->addr.sin6_addr, &conn->peer_addr.sin6_addr,
                         sizeof(struct in6_addr)) != 0)
        pp = &(*pp)->next;
    if (*pp && --(*pp)->count == 0) {
        struct ip_count *e = *pp;
        *pp = e->next;
        free(e);
    }
    pthread_mutex_unlock(&net->ip_mu);
}

static void limit_warn(struct sl_net *net, const char *peer, const char *what)
{
    int64_t now = sl_clock_mono_ms();
    if (now - net->last_limit_warn_ms >= 1000) {
        net->last_limit_warn_ms = now;
        SL_WARN(NET_MOD, "closing new connection from %s: over %s", peer, what);
    }
}

/* max.connection.creation.rate as a GCRA with one second of burst: true if one
 * more accept is allowed now (and charges it); otherwise false with *retry_ms
 * set to when it will be. Thread: loop 0. */
static bool listener_rate_take(struct listener *lst, int64_t *retry_ms)
{
    int rate = lst->net->conf.max_connection_creation_rate;
    if (rate <= 0)
        return true;
    int64_t now = sl_clock_mono_ns();
    int64_t interval = 1000000000LL / rate;
    if (interval < 1)
        interval = 1;
    int64_t tau = 1000000000LL - interval; /* burst tolerance: rate accepts back to back */
    if (lst->rate_tat_ns < now)
        lst->rate_tat_ns = now;
    if (lst->rate_tat_ns - now > tau) {
        *retry_ms = (lst->rate_tat_ns - tau + 999999) / 1000000;
        return false;
    }
    lst->rate_tat_ns += interval;
    return true;
}

/* Gives back the charge of an accept that found no connection. Thread: loop 0. */
static void listener_rate_refund(struct listener *lst)
{
    int rate = lst->net->conf.max_connection_creation_rate;
    if (rate > 0)
        lst->rate_tat_ns -= 1000000000LL / rate > 0 ? 1000000000LL / rate : 1;
}

/* Accepts a batch; sets up each conn and hands it to a loop. Thread: loop 0. */
void listener_on_ready(struct listener *lst)
{
    struct sl_net *net = lst->net;
    for (int i = 0; i < NET_ACCEPT_BATCH; i++) {
        int64_t retry_ms;
        if (!listener_rate_take(lst, &retry_ms)) {
            /* throttle, do not refuse: pending connections wait in the backlog */
            listener_disable(lst);
            sl_timer_start(&net->loops[0], &lst->retry, retry_ms, listener_retry, lst);
            return;
        }
        struct sockaddr_storage ss;
        socklen_t sslen = sizeof(ss);
        int fd = accept4(lst->io.fd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1) {
            int err = errno;
            listener_rate_refund(lst);
            errno = err;
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                SL_WARN(NET_MOD, "accept on port %d: %s; pausing accepts for 100 ms", lst->port,
                        strerror(errno));
                listener_disable(lst);
                sl_timer_start(&net->loops[0], &lst->retry, sl_clock_mono_ms() + 100,
                               listener_retry, lst);
            } else if (errno != EAGAIN) {
                SL_WARN(NET_MOD, "accept on port %d: %s", lst->port, strerror(errno));
            }
            return;
        }
        struct sockaddr_in6 peer;
        char peer_str[64];
        to_v6(&ss, &peer);
        format_peer(&peer, peer_str, sizeof(peer_str));
        int max = net->conf.max_connections;
        if (atomic_fetch_add(&net->nconns, 1) >= max && max > 0) {
            atomic_fetch_sub(&net->nconns, 1);
            limit_warn(net, peer_str, "max.connections");
            close(fd);
            continue;
        }
        bool counted_ip = false;
        if (net->conf.max_connections_per_ip > 0) {
            if (!ip_acquire(net, &peer.sin6_addr, net->conf.max_connections_per_ip)) {
                atomic_fetch_sub(&net->nconns, 1);
                limit_warn(net, peer_str, "max.connections.per.ip");
                close(fd);
                continue;
            }
            counted_ip = true;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct sl_conn *conn = calloc(1, sizeof(*conn));
        if (!conn) {
            SL_WARN(NET_MOD, "accept from %s: out of memory", peer_str);
            struct sl_conn tmp = {.counted_ip = counted_ip, .peer_addr = peer};
            net_ip_release(net, &tmp);
            close(fd);
            continue;
        }
        conn->io.kind = IO_CONN;
        conn->io.fd = fd;
        conn->lst = lst;
        atomic_fetch_add_explicit(&lst->open, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&lst->accepted, 1, memory_order_relaxed);
        conn->id = atomic_fetch_add(&net->next_conn_id, 1) + 1;
        conn->state = CONN_OPEN;
        conn->peer_addr = peer;
        conn->counted_ip = counted_ip;
        memcpy(conn->peer, peer_str, sizeof(conn->peer));
        sl_list_init(&conn->link);
        sl_list_init(&conn->flush_link);
        sl_list_init(&conn->slots);
        struct sl_loop *loop = &net->loops[net->next_loop++ % (unsigned)net->nloops];
        conn->loop = loop;
        if (loop == &net->loops[0])
            conn_attach(conn);
        else
            sl_loop_post(loop, conn_attach, conn);
    }
}
