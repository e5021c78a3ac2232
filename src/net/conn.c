/*
 * conn.c - a connection's life and its input side: attaching to a loop,
 * reading, framing (4-byte big-endian size, then that many bytes),
 * dispatching requests in order, backpressure, idle sweep, close.
 *
 * Input buffers. A read goes into the loop's shared scratch buffer unless
 * the conn already holds undispatched bytes (rbuf, NET_RBUF_BYTES, allocated
 * only while it holds bytes), so thousands of idle conns cost no buffers.
 * A frame that does not fit NET_RBUF_BYTES is read straight into its own
 * buffer (big), which starts at max(64 KiB, 2 x bytes received) and doubles
 * as bytes arrive, never past the announced size: an announced 100 MiB
 * costs memory only as the bytes come. Each request's frame is copied once
 * (small) or handed over (big) to the request, so parked requests never pin
 * a shared buffer.
 *
 * TLS. On a TLS listener the conn's bytes go through tls.c: no frame is
 * read before the handshake is done, reads use tls_recv, and since bytes
 * OpenSSL already decrypted raise no epoll event, a conn with such bytes
 * is put on the flush list and read again next iteration
 * (conn_read_pending).
 *
 * Invariants: frames are dispatched in arrival order; nothing is dispatched
 * while paused (inflight_bytes >= max_inflight_bytes), while CLOSING, or
 * after DEAD; rbuf holds no complete frame unless paused or closing.
 * Thread: every function runs on conn->loop's thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/diag.h"
#include "net/net_int.h"

#define PARSE_DEAD SIZE_MAX /* parse_frames closed the conn */

void conn_touch(struct sl_conn *conn)
{
    conn->last_active_ms = sl_clock_mono_ms();
    sl_list_remove(&conn->link);
    sl_list_push_back(&conn->loop->conns, &conn->link);
}

/* Registers with epoll what the conn's state calls for. */
void conn_update_events(struct sl_conn *conn)
{
    if (conn->state == CONN_DEAD)
        return;
    uint32_t want = EPOLLRDHUP;
    if (conn->state == CONN_OPEN && !conn->paused && !conn->loop->stopping)
        want |= EPOLLIN;
    if (conn->want_write)
        want |= EPOLLOUT;
    if (conn->tls)
        want |= tls_events(conn);
    if (want == conn->ep_events)
        return;
    struct epoll_event e = {.events = want, .data.ptr = &conn->io};
    if (epoll_ctl(conn->loop->epfd, EPOLL_CTL_MOD, conn->io.fd, &e) == -1) {
        SL_WARN(NET_MOD, "epoll_ctl for %s: %s", conn->peer, strerror(errno));
        return;
    }
    conn->ep_events = want;
}

/* Takes a conn accepted by loop 0. Posted to (or called on) conn->loop. */
void conn_attach(void *arg)
{
    struct sl_conn *conn = arg;
    struct sl_loop *loop = conn->loop;
    sl_list_push_back(&loop->conns, &conn->link);
    loop->nconns++;
    conn->last_active_ms = sl_clock_mono_ms();
    if (loop->stopping || !atomic_load(&loop->running)) {
        conn_close(conn, "shutting down");
        return;
    }
    int rc = conn->lst->tls_ctx ? tls_conn_init(conn) : 0;
    if (rc < 0) {
        conn_close(conn, "out of memory for TLS");
        return;
    }
    rc = loop_epoll_add(loop, &conn->io, EPOLLIN | EPOLLRDHUP);
    if (rc < 0) {
        SL_WARN(NET_MOD, "epoll add for %s: %s", conn->peer, strerror(-rc));
        conn_close(conn, "epoll failed");
        return;
    }
    conn->ep_events = EPOLLIN | EPOLLRDHUP;
    SL_DEBUG(NET_MOD, "conn %llu from %s on loop %d", (unsigned long long)conn->id, conn->peer,
             loop->idx);
}

void slot_free(struct slot *slot)
{
    sl_arena_fini(&slot->req.arena);
    sl_obuf_fini(&slot->req.out);
    free(slot->big);
    slot->big = NULL;
    free(slot);
}

/* Closes the socket now; the conn is freed by conn_reap once no request is
 * pending. Harmless on a DEAD conn. */
void conn_close(struct sl_conn *conn, const char *why)
{
    struct sl_loop *loop = conn->loop;
    if (conn->state == CONN_DEAD)
        return;
    SL_DEBUG(NET_MOD, "closing conn %llu %s: %s", (unsigned long long)conn->id, conn->peer, why);
    conn->state = CONN_DEAD;
    tls_conn_close(conn); /* before the socket goes: close_notify */
    /* close() leaves the epoll set only with the last descriptor of the
     * socket; a copy held elsewhere (a forked child) would keep reporting
     * events for this conn after it is freed. */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, conn->io.fd, NULL);
    close(conn->io.fd);
    conn->io.fd = -1;
    sl_list_remove(&conn->link);
    sl_list_remove(&conn->flush_link);
    loop->nconns--;
    if (conn->lst)
        atomic_fetch_sub_explicit(&conn->lst->open, 1, memory_order_relaxed);
    net_ip_release(loop->net, conn);
    free(conn->rbuf);
    conn->rbuf = NULL;
    conn->rbuf_len = 0;
    free(conn->big);
    conn->big = NULL;
    struct sl_list *pos, *tmp;
    SL_LIST_FOREACH_SAFE(pos, tmp, &conn->slots)
    {
        struct slot *slot = SL_LIST_ENTRY(pos, struct slot, link);
        sl_list_remove(&slot->link);
        if (slot->state != SLOT_PENDING)
            slot_free(slot); /* pending ones: the handler still holds them */
    }
    conn->inflight_bytes = 0;
    conn->w_prefix_off = 0;
    conn->w_piece = NULL;
    if (conn->npending == 0)
        sl_list_push_back(&loop->zombies, &conn->link);
}

/* Frees dead conns with nothing pending. Thread: the loop's own (or main
 * once joined). */
void conn_reap(struct sl_loop *loop)
{
    struct sl_list *first;
    while ((first = sl_list_first(&loop->zombies))) {
        struct sl_conn *conn = SL_LIST_ENTRY(first, struct sl_conn, link);
        SL_ASSERT(conn->state == CONN_DEAD && conn->npending == 0);
        sl_list_remove(first);
        if (conn->user && conn->user_free)
            conn->user_free(conn->user);
        tls_conn_free(conn);
        free(conn);
    }
}

/* Hands one frame to the request function. big: the frame's own buffer
 * (taken over), or NULL to copy len bytes from src. */
static void dispatch(struct sl_conn *conn, const uint8_t *src, size_t len, uint8_t *big)
{
    struct sl_net *net = conn->loop->net;
    struct slot *slot = malloc(sizeof(*slot) + (big ? 0 : len));
    if (!slot) {
        free(big);
        SL_WARN(NET_MOD, "closing %s: out of memory for a %zu-byte request", conn->peer, len);
        conn_close(conn, "out of memory");
        return;
    }
    memset(slot, 0, sizeof(*slot));
    if (big) {
        slot->big = big;
        slot->req.frame = big;
    } else {
        memcpy(slot->data, src, len);
        slot->req.frame = slot->data;
    }
    slot->req.conn = conn;
    slot->req.loop = conn->loop;
    slot->req.frame_len = len;
    sl_arena_init(&slot->req.arena, 4 * len + (1u << 20));
    sl_obuf_init(&slot->req.out);
    slot->req.listener_data = conn->lst->listener_data;
    slot->req.recv_mono_ns = sl_clock_mono_ns();
    slot->state = SLOT_PENDING;
    slot->charge = len + 4 + SL_NET_REQ_OVERHEAD;
    sl_list_push_back(&conn->slots, &slot->link);
    conn->npending++;
    conn->inflight_bytes += slot->charge;
    if (conn->inflight_bytes >= net->conf.max_inflight_bytes) {
        conn->paused = true;
        conn_update_events(conn);
    }
    net->fn(net->ctx, &slot->req);
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Dispatches the complete frames in buf[0..len) while allowed; starts a big
 * frame if one begins there. Returns bytes consumed, or PARSE_DEAD if the
 * conn was closed (buf may be freed then). */
static size_t parse_frames(struct sl_conn *conn, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    while (conn->state == CONN_OPEN && !conn->paused && !conn->loop->stopping && len - off >= 4) {
        /* Read per frame: a request may lower or raise the cap for the next. */
        size_t max = conn->max_frame ? conn->max_frame : conn->loop->net->conf.max_request_bytes;
        int32_t size = (int32_t)be32(buf + off);
        if (size <= 0 || (size_t)size > max) {
            SL_WARN(NET_MOD, "closing %s: frame size %d outside 1..%zu (%s)", conn->peer, size, max,
                    conn->max_frame ? "the cap before authentication" : "socket.request.max.bytes");
            conn_close(conn, "bad frame size");
            return PARSE_DEAD;
        }
        size_t flen = (size_t)size, avail = len - off - 4;
        if (avail >= flen) {
            dispatch(conn, buf + off + 4, flen, NULL);
            if (conn->state == CONN_DEAD)
                return PARSE_DEAD;
            off += 4 + flen;
            continue;
        }
        if (4 + flen <= NET_RBUF_BYTES)
            break; /* the rest of a small frame comes into rbuf */
        size_t cap = avail * 2 > NET_RBUF_BYTES ? avail * 2 : NET_RBUF_BYTES;
        if (cap > flen)
            cap = flen;
        uint8_t *big = malloc(cap);
        if (!big) {
            SL_WARN(NET_MOD, "closing %s: out of memory for a %zu-byte frame", conn->peer, flen);
            conn_close(conn, "out of memory");
            return PARSE_DEAD;
        }
        memcpy(big, buf + off + 4, avail);
        conn->big = big;
        conn->big_len = flen;
        conn->big_have = avail;
        conn->big_cap = cap;
        off = len;
    }
    return off;
}

/* Keeps buf[used..len) in the conn's rbuf (buf is rbuf or the scratch). */
static void keep_leftover(struct sl_conn *conn, const uint8_t *buf, size_t len, size_t used)
{
    size_t left = len - used;
    if (left == 0) {
        free(conn->rbuf);
        conn->rbuf = NULL;
        conn->rbuf_len = 0;
        return;
    }
    if (buf == conn->rbuf) {
        memmove(conn->rbuf, buf + used, left);
    } else {
        SL_ASSERT(!conn->rbuf);
        if (!(conn->rbuf = malloc(NET_RBUF_BYTES))) {
            conn_close(conn, "out of memory");
            return;
        }
        memcpy(conn->rbuf, buf + used, left);
    }
    conn->rbuf_len = left;
}

/* read(2) on the socket, or through TLS. */
static ssize_t conn_recv(struct sl_conn *conn, void *buf, size_t cap)
{
    return conn->tls ? tls_recv(conn, buf, cap) : read(conn->io.fd, buf, cap);
}

static bool read_failed(struct sl_conn *conn, ssize_t n)
{
    if (n > 0)
        return false;
    if (n == 0) {
        conn_close(conn, "closed by peer");
        return true;
    }
    if (errno == EAGAIN || errno == EINTR)
        return true;
    SL_DEBUG(NET_MOD, "read from %s: %s", conn->peer, strerror(errno));
    conn_close(conn, "read error");
    return true;
}

/* Reads into the big frame buffer, growing it by doubling up to big_len. */
static void read_big(struct sl_conn *conn)
{
    if (conn->big_have == conn->big_cap) {
        size_t cap = conn->big_cap * 2 < conn->big_len ? conn->big_cap * 2 : conn->big_len;
        uint8_t *p = realloc(conn->big, cap);
        if (!p) {
            SL_WARN(NET_MOD, "closing %s: out of memory for a %zu-byte frame", conn->peer,
                    conn->big_len);
            conn_close(conn, "out of memory");
            return;
        }
        conn->big = p;
        conn->big_cap = cap;
    }
    ssize_t n = conn_recv(conn, conn->big + conn->big_have, conn->big_cap - conn->big_have);
    if (read_failed(conn, n))
        return;
    conn_touch(conn);
    conn->big_have += (size_t)n;
    if (conn->big_have == conn->big_len) {
        uint8_t *big = conn->big;
        size_t len = conn->big_len;
        conn->big = NULL;
        conn->big_len = conn->big_have = conn->big_cap = 0;
        dispatch(conn, NULL, len, big);
    }
}

/* One read per readiness event, so every conn of the loop gets its turn. */
static void conn_read_once(struct sl_conn *conn)
{
    if (conn->big) {
        read_big(conn);
        return;
    }
    uint8_t *buf = conn->rbuf ? conn->rbuf : conn->loop->scratch;
    size_t have = conn->rbuf ? conn->rbuf_len : 0;
    /* rbuf never fills: a small frame fits, and complete ones wait only while paused */
    SL_ASSERT(have < NET_RBUF_BYTES);
    ssize_t n = conn_recv(conn, buf + have, NET_RBUF_BYTES - have);
    if (read_failed(conn, n))
        return;
    conn_touch(conn);
    have += (size_t)n;
    size_t used = parse_frames(conn, buf, have);
    if (used == PARSE_DEAD || conn->state == CONN_DEAD)
        return;
    keep_leftover(conn, buf, have, used);
}

static bool conn_reading(const struct sl_conn *conn)
{
    return conn->state == CONN_OPEN && !conn->paused && !conn->loop->stopping;
}

static void conn_read(struct sl_conn *conn)
{
    conn_read_once(conn);
    /* decrypted bytes left inside OpenSSL: read them next iteration */
    if (conn->tls && conn_reading(conn) && tls_has_pending(conn))
        loop_schedule_flush(conn);
}

/* Reads what TLS holds decrypted, if reading is allowed. Called at the end of
 * conn_flush. */
void conn_read_pending(struct sl_conn *conn)
{
    if (conn->tls && conn_reading(conn) && tls_has_pending(conn))
        conn_read(conn);
}

/* Dispatches frames buffered while paused, then reads again if allowed.
 * Called when the inflight bytes dropped below the bound. */
void conn_input_resume(struct sl_conn *conn)
{
    if (conn->rbuf_len > 0) {
        size_t used = parse_frames(conn, conn->rbuf, conn->rbuf_len);
        if (used == PARSE_DEAD || conn->state == CONN_DEAD)
            return;
        keep_leftover(conn, conn->rbuf, conn->rbuf_len, used);
    }
    conn_update_events(conn);
}

void conn_on_events(struct sl_conn *conn, uint32_t events)
{
    if (conn->state == CONN_DEAD)
        return; /* closed earlier in this batch */
    if (events & EPOLLERR) {
        conn_close(conn, "socket error");
        return;
    }
    if (conn->tls) {
        if (!tls_established(conn)) {
            if (events & (EPOLLIN | EPOLLOUT)) {
                if (!tls_handshake(conn))
                    return; /* not yet, or closed */
            } else if (events & (EPOLLRDHUP | EPOLLHUP)) {
                conn_close(conn, "closed by peer during the TLS handshake");
                return;
            }
        }
        if ((events & EPOLLOUT) && tls_read_wants_write(conn))
            events |= EPOLLIN; /* SSL_read waited for writability */
        if ((events & EPOLLIN) && tls_write_wants_read(conn))
            loop_schedule_flush(conn); /* SSL_write waited for readability */
    }
    if (events & EPOLLOUT)
        loop_schedule_flush(conn);
    bool reading = conn_reading(conn);
    if ((events & EPOLLIN) && reading)
        conn_read(conn);
    else if (events & (EPOLLRDHUP | EPOLLHUP))
        conn_close(conn, "closed by peer");
}

/* Closes conns idle for idle_timeout_ms with nothing in flight. conns is
 * in order of last activity, so the walk stops at the first recent one. */
void conn_sweep_idle(struct sl_loop *loop, int64_t now_ms)
{
    int64_t idle = loop->net->conf.idle_timeout_ms;
    if (idle <= 0)
        return;
    struct sl_list *pos, *tmp;
    SL_LIST_FOREACH_SAFE(pos, tmp, &loop->conns)
    {
        struct sl_conn *conn = SL_LIST_ENTRY(pos, struct sl_conn, link);
        if (now_ms - conn->last_active_ms < idle)
            break;
        if (sl_list_empty(&conn->slots)) {
            SL_DEBUG(NET_MOD, "closing %s: idle for %lld ms", conn->peer,
                     (long long)(now_ms - conn->last_active_ms));
            conn_close(conn, "idle (connections.max.idle.ms)");
        }
    }
}

/* sl_net_stop began: read nothing more; close at once if nothing is queued,
 * else once the queue has been written (conn_flush). */
void conn_begin_drain(struct sl_conn *conn)
{
    if (conn->state == CONN_DEAD)
        return;
    if (sl_list_empty(&conn->slots)) {
        conn_close(conn, "shutting down");
        return;
    }
    conn_update_events(conn);
}

const char *sl_conn_peer(const struct sl_conn *conn) { return conn->peer; }
uint64_t sl_conn_id(const struct sl_conn *conn) { return conn->id; }
bool sl_conn_is_open(const struct sl_conn *conn) { return conn->state == CONN_OPEN; }

void *sl_conn_user(const struct sl_conn *conn) { return conn->user; }

void sl_conn_set_user(struct sl_conn *conn, void *user, void (*user_free)(void *user))
{
    conn->user = user;
    conn->user_free = user_free;
}

void sl_conn_set_max_frame(struct sl_conn *conn, size_t max_bytes) { conn->max_frame = max_bytes; }
