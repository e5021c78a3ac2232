/*
 * write.c - a connection's output side and the ends of a request's life:
 * sl_req_respond/drop/close, and conn_flush, which writes ready responses
 * from the head of the queue in request order.
 *
 * Memory pieces of consecutive ready responses are gathered into one
 * sendmsg (up to NET_IOV_MAX iovecs); a file piece at the cursor goes out
 * with sendfile(2). Partial writes leave a cursor (w_prefix_off, w_piece,
 * w_piece_off) into the head slot; EAGAIN registers EPOLLOUT. One flush
 * writes at most NET_WRITE_BATCH bytes and then yields to the loop's other
 * conns. A response is charged to inflight_bytes until its last byte is
 * written, so a slow reader also pauses its own requests. On a TLS conn
 * tls_write_some takes write_some's place (tls.c: staged SSL_write, file
 * pieces read with pread).
 *
 * Thread: conn->loop's thread (or the stopping thread once it is joined,
 * when every conn is already DEAD).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "base/clock.h"
#include "base/diag.h"
#include "net/net_int.h"

static struct slot *req_slot(struct sl_req *req)
{
    return (struct slot *)req; /* req is the first member */
}

static void check_thread(struct sl_req *req)
{
    SL_ASSERT(net_current_loop == req->loop || !atomic_load(&req->loop->running));
}

/* A pending request finished on a dead conn: free it, and the conn with the
 * last one. */
static void finish_on_dead(struct sl_conn *conn, struct slot *slot)
{
    slot_free(slot);
    if (conn->npending == 0)
        sl_list_push_back(&conn->loop->zombies, &conn->link);
}

/* The request bytes and arena are not needed once a response is built. */
static void release_input(struct slot *slot)
{
    sl_arena_fini(&slot->req.arena);
    free(slot->big);
    slot->big = NULL;
    slot->req.frame = NULL;
}

void sl_req_respond(struct sl_req *req)
{
    struct slot *slot = req_slot(req);
    struct sl_conn *conn = req->conn;
    check_thread(req);
    SL_ASSERT(slot->state == SLOT_PENDING && conn->npending > 0);
    conn->npending--;
    if (conn->state == CONN_DEAD) {
        finish_on_dead(conn, slot);
        return;
    }
    release_input(slot);
    size_t len = req->out.total_len;
    if (len > INT32_MAX) {
        SL_ERROR(NET_MOD, "closing %s: a %zu-byte response cannot be framed", conn->peer, len);
        sl_obuf_fini(&req->out);
        slot->state = SLOT_CLOSE;
        conn->state = CONN_CLOSING;
        conn_update_events(conn);
    } else {
        slot->prefix[0] = (uint8_t)(len >> 24);
        slot->prefix[1] = (uint8_t)(len >> 16);
        slot->prefix[2] = (uint8_t)(len >> 8);
        slot->prefix[3] = (uint8_t)len;
        slot->state = SLOT_READY;
    }
    loop_schedule_flush(conn);
}

void sl_req_drop(struct sl_req *req)
{
    struct slot *slot = req_slot(req);
    struct sl_conn *conn = req->conn;
    check_thread(req);
    SL_ASSERT(slot->state == SLOT_PENDING && conn->npending > 0);
    conn->npending--;
    if (conn->state == CONN_DEAD) {
        finish_on_dead(conn, slot);
        return;
    }
    /* No response, so no place in the order: leave the queue now. A pending
     * slot is never under the write cursor. */
    sl_list_remove(&slot->link);
    conn->inflight_bytes -= slot->charge;
    slot_free(slot);
    loop_schedule_flush(conn); /* may resume reading or finish a drain */
}

void sl_req_close(struct sl_req *req, const char *why)
{
    struct slot *slot = req_slot(req);
    struct sl_conn *conn = req->conn;
    check_thread(req);
    SL_ASSERT(slot->state == SLOT_PENDING && conn->npending > 0);
    SL_WARN(NET_MOD, "closing %s: %s", conn->peer, why ? why : "protocol error");
    conn->npending--;
    if (conn->state == CONN_DEAD) {
        finish_on_dead(conn, slot);
        return;
    }
    release_input(slot);
    sl_obuf_fini(&req->out);
    slot->state = SLOT_CLOSE;
    if (conn->state == CONN_OPEN)
        conn->state = CONN_CLOSING;
    conn_update_events(conn);
    loop_schedule_flush(conn);
}

static struct slot *head_slot(struct sl_conn *conn)
{
    struct sl_list *first = sl_list_first(&conn->slots);
    return first ? SL_LIST_ENTRY(first, struct slot, link) : NULL;
}

/* Moves the cursor over n written bytes, freeing completed responses. */
static void advance(struct sl_conn *conn, size_t n)
{
    while (n > 0) {
        struct slot *s = head_slot(conn);
        SL_ASSERT(s && s->state == SLOT_READY);
        if (conn->w_prefix_off < 4) {
            size_t take = 4 - conn->w_prefix_off < n ? 4 - conn->w_prefix_off : n;
            conn->w_prefix_off += take;
            n -= take;
            if (conn->w_prefix_off < 4)
                return;
            conn->w_piece = s->req.out.head;
            conn->w_piece_off = 0;
        }
        while (conn->w_piece) {
            size_t rem = conn->w_piece->len - conn->w_piece_off;
            if (rem > n) {
                conn->w_piece_off += n;
                return;
            }
            n -= rem;
            conn->w_piece = conn->w_piece->next;
            conn->w_piece_off = 0;
        }
        /* the head response is complete */
        sl_list_remove(&s->link);
        conn->inflight_bytes -= s->charge;
        slot_free(s);
        conn->w_prefix_off = 0;
        conn->w_piece = NULL;
        conn->w_piece_off = 0;
    }
}

/* Writes once from the cursor: a gather of memory pieces, or a sendfile of
 * the file piece at the cursor. Bytes written or -errno (-EIO: a file range
 * shorter than promised). */
static ssize_t write_some(struct sl_conn *conn, size_t budget)
{
    struct iovec iov[NET_IOV_MAX];
    int cnt = 0;
    size_t total = 0, file_off = 0;
    struct sl_obuf_piece *file = NULL; /* the file piece at the cursor, when nothing precedes it */
    bool first = true;
    struct sl_list *pos;
    SL_LIST_FOREACH(pos, &conn->slots)
    {
        struct slot *s = SL_LIST_ENTRY(pos, struct slot, link);
        if (s->state != SLOT_READY || cnt == NET_IOV_MAX || total >= budget)
            break;
        struct sl_obuf_piece *p = s->req.out.head;
        size_t poff = 0, prefix_off = first ? conn->w_prefix_off : 0;
        if (prefix_off < 4) {
            iov[cnt].iov_base = s->prefix + prefix_off;
            iov[cnt++].iov_len = 4 - prefix_off;
            total += 4 - prefix_off;
        } else {
            p = conn->w_piece;
            poff = conn->w_piece_off;
        }
        first = false;
        for (; p; p = p->next, poff = 0) {
            if (p->len == poff)
                continue; /* empty pieces, of either kind, send nothing */
            if (p->fd >= 0) {
                if (cnt == 0) {
                    file = p;
                    file_off = poff;
                }
                goto gathered;
            }
            if (cnt == NET_IOV_MAX || total >= budget)
                goto gathered;
            iov[cnt].iov_base = p->data + poff;
            iov[cnt++].iov_len = p->len - poff;
            total += p->len - poff;
        }
    }
gathered:
    for (;;) {
        ssize_t n;
        if (cnt > 0) {
            struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
            n = sendmsg(conn->io.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        } else {
            struct sl_obuf_piece *p = file;
            SL_ASSERT(p && p->fd >= 0 && file_off < p->len);
            size_t want = p->len - file_off;
            if (want > budget)
                want = budget;
            if (want > (1u << 30))
                want = 1u << 30;
            off_t off = p->file_pos + (off_t)file_off;
            n = sendfile(conn->io.fd, p->fd, &off, want);
            if (n == 0) {
                SL_ERROR(NET_MOD, "response to %s: file range ends early (fd %d at %lld)",
                         conn->peer, p->fd, (long long)off);
                return -EIO;
            }
        }
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return -errno;
    }
}

/* Writes what is ready, then resumes reading or finishes a drain as the
 * state calls for. Thread: conn's loop. */
void conn_flush(struct sl_conn *conn)
{
    struct sl_loop *loop = conn->loop;
    size_t budget = NET_WRITE_BATCH;
    bool blocked = false;
    if (conn->state == CONN_DEAD)
        return;
    if (conn->tls && !tls_established(conn))
        return; /* nothing to write before the handshake; it drives itself */
    for (;;) {
        struct slot *s = head_slot(conn);
        if (!s || s->state == SLOT_PENDING)
            break;
        if (s->state == SLOT_CLOSE) {
            conn_close(conn, "closed by the request handler");
            return;
        }
        if (budget == 0) {
            loop_schedule_flush(conn); /* more next iteration */
            break;
        }
        ssize_t n = conn->tls ? tls_write_some(conn, budget) : write_some(conn, budget);
        if (n == -EAGAIN) {
            blocked = true;
            break;
        }
        if (n < 0) {
            SL_DEBUG(NET_MOD, "write to %s: %s", conn->peer, strerror((int)-n));
            conn_close(conn, "write error");
            return;
        }
        conn_touch(conn);
        advance(conn, (size_t)n);
        budget -= (size_t)n < budget ? (size_t)n : budget;
    }
    conn->want_write = blocked;
    if (conn->paused && conn->inflight_bytes < loop->net->conf.max_inflight_bytes) {
        conn->paused = false;
        conn_input_resume(conn); /* may dispatch, respond, even close */
        if (conn->state == CONN_DEAD)
            return;
    }
    if (conn->tls)
        tls_flush_done(conn);
    conn_update_events(conn);
    if (loop->stopping && sl_list_empty(&conn->slots)) {
        conn_close(conn, "shutting down");
        return;
    }
    conn_read_pending(conn);
}
