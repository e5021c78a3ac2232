/*
 * tls.c - the TLS transport of a connection that came in on a listener
 * given an SSL_CTX (sl_net_listen_tls): a non-blocking server handshake
 * driven by the loop's readiness events and bounded by a timer, reads
 * through SSL_read, writes through SSL_write from a staging buffer, and a
 * best-effort close_notify.
 *
 *   HANDSHAKE --SSL_do_handshake ok--> ESTABLISHED --conn_close--> closed
 *   HANDSHAKE --error / timer / EOF-------------------------------> closed
 *
 * Writes. SSL_write must be retried with the same bytes after WANT_WRITE,
 * so output is staged: up to TLS_WBUF_BYTES from the write cursor (the
 * 4-byte prefixes, memory pieces, and file pieces read with pread, since
 * sendfile cannot encrypt and this kernel has no kTLS) are copied into
 * wbuf, and the cursor moves only once SSL_write took them all. Until
 * then wbuf is retried unchanged; the queue ahead of the cursor never
 * changes under it (responses are only appended, pending slots are never
 * in front of ready ones).
 *
 * Reads. Bytes OpenSSL has already decrypted raise no epoll event:
 * conn.c asks tls_has_pending after each read and reads again on the next
 * loop iteration (through the flush list) while there are some.
 *
 * Memory per connection: the SSL object (OpenSSL releases its record
 * buffers while idle, SSL_MODE_RELEASE_BUFFERS), struct tls, and wbuf only
 * while responses are queued. Measured in tests/unit/test_net_tls.c.
 *
 * Thread: the connection's loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/clock.h"
#include "base/diag.h"
#include "net/net_int.h"

#define TLS_WBUF_BYTES (64 * 1024) /* staged plaintext per SSL_write: four full records */

struct tls {
    SSL *ssl;                /* NULL once closed */
    bool established;        /* handshake done */
    bool fatal;              /* a fatal TLS error: no close_notify */
    bool hs_want_write;      /* the handshake waits for the socket to be writable */
    bool read_wants_write;   /* SSL_read returned WANT_WRITE */
    bool write_wants_read;   /* SSL_write returned WANT_READ */
    struct sl_timer hs_timer; /* closes the conn when the handshake takes too long */
    uint8_t *wbuf;           /* staged plaintext (TLS_WBUF_BYTES), or NULL */
    size_t wbuf_len;         /* bytes staged: SSL_write is retried with exactly these */
    char *subject;           /* verified client certificate's subject, RFC 2253, or NULL */
};

/* The OpenSSL error queue as one line, cleared. */
static const char *ssl_errors(char *buf, size_t cap)
{
    unsigned long e, last = 0;
    buf[0] = '\0';
    while ((e = ERR_get_error()) != 0)
        last = e;
    if (last)
        ERR_error_string_n(last, buf, cap);
    else
        snprintf(buf, cap, "%s", errno ? strerror(errno) : "connection closed");
    return buf;
}

static void hs_fail(struct sl_conn *conn, const char *why)
{
    struct tls *tls = conn->tls;
    tls->fatal = true;
    atomic_fetch_add_explicit(&conn->lst->tls_handshake_failures, 1, memory_order_relaxed);
    SL_INFO(NET_MOD, "TLS handshake with %s failed: %s", conn->peer, why);
    conn_close(conn, "TLS handshake failed");
}

static void hs_timeout(void *arg)
{
    struct sl_conn *conn = arg;
    if (conn->state == CONN_DEAD)
        return;
    hs_fail(conn, "not completed in time (ssl.handshake.timeout.ms)");
}

int tls_conn_init(struct sl_conn *conn)
{
    struct tls *tls = calloc(1, sizeof(*tls));
    if (!tls)
        return -ENOMEM;
    ERR_clear_error();
    if (!(tls->ssl = SSL_new(conn->lst->tls_ctx)) || SSL_set_fd(tls->ssl, conn->io.fd) != 1) {
        char e[256];
        SL_WARN(NET_MOD, "TLS for %s: %s", conn->peer, ssl_errors(e, sizeof(e)));
        SSL_free(tls->ssl);
        free(tls);
        return -ENOMEM;
    }
    SSL_set_accept_state(tls->ssl);
    conn->tls = tls;
    int64_t t = conn->loop->net->conf.tls_handshake_timeout_ms;
    sl_timer_start(conn->loop, &tls->hs_timer, sl_clock_mono_ms() + t, hs_timeout, conn);
    return 0;
}

void tls_conn_close(struct sl_conn *conn)
{
    struct tls *tls = conn->tls;
    if (!tls || !tls->ssl)
        return;
    sl_timer_stop(conn->loop, &tls->hs_timer);
    if (tls->established && !tls->fatal) {
        /* close_notify, best effort: one try on the non-blocking socket */
        ERR_clear_error();
        SSL_shutdown(tls->ssl);
    }
    ERR_clear_error();
    SSL_free(tls->ssl);
    tls->ssl = NULL;
    free(tls->wbuf);
    tls->wbuf = NULL;
    tls->wbuf_len = 0;
}

void tls_conn_free(struct sl_conn *conn)
{
    if (!conn->tls)
        return;
    tls_conn_close(conn);
    free(conn->tls->subject);
    free(conn->tls);
    conn->tls = NULL;
}

bool tls_established(const struct sl_conn *conn) { return conn->tls->established; }

/* Records the client certificate's subject if OpenSSL verified it. */
static void keep_subject(struct tls *tls)
{
    X509 *cert = SSL_get0_peer_certificate(tls->ssl);
    if (!cert || SSL_get_verify_result(tls->ssl) != X509_V_OK)
        return;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    /* RFC 2253, as Java's X500Principal.getName(): most specific RDN first,
     * no spaces after commas, UTF-8 kept. */
    unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, flags) >= 0) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        if (n >= 0 && (tls->subject = malloc((size_t)n + 1))) {
            memcpy(tls->subject, p, (size_t)n);
            tls->subject[n] = '\0';
        }
    }
    BIO_free(b);
}

bool tls_handshake(struct sl_conn *conn)
{
    struct tls *tls = conn->tls;
    char e[256];
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(tls->ssl);
    if (r == 1) {
        tls->established = true;
        tls->hs_want_write = false;
        sl_timer_stop(conn->loop, &tls->hs_timer);
        keep_subject(tls);
        conn_touch(conn);
        SL_DEBUG(NET_MOD, "TLS %s with %s (%s)%s%s", SSL_get_version(tls->ssl), conn->peer,
                 SSL_get_cipher_name(tls->ssl), tls->subject ? " client " : "",
                 tls->subject ? tls->subject : "");
        conn_update_events(conn);
        return true;
    }
    switch (SSL_get_error(tls->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        tls->hs_want_write = false;
        break;
    case SSL_ERROR_WANT_WRITE:
        tls->hs_want_write = true;
        break;
    case SSL_ERROR_SYSCALL:
        if (errno == EAGAIN || errno == EINTR)
            break;
        /* fall through */
    default:
        hs_fail(conn, ssl_errors(e, sizeof(e)));
        return false;
    }
    conn_update_events(conn);
    return false;
}

uint32_t tls_events(const struct sl_conn *conn)
{
    const struct tls *tls = conn->tls;
    if (!tls->established)
        return EPOLLIN | (tls->hs_want_write ? EPOLLOUT : 0);
    return (tls->read_wants_write ? EPOLLOUT : 0) | (tls->write_wants_read ? EPOLLIN : 0);
}

bool tls_read_wants_write(const struct sl_conn *conn) { return conn->tls->read_wants_write; }
bool tls_write_wants_read(const struct sl_conn *conn) { return conn->tls->write_wants_read; }

bool tls_has_pending(const struct sl_conn *conn)
{
    return conn->tls && conn->tls->ssl && conn->tls->established && SSL_pending(conn->tls->ssl) > 0;
}

ssize_t tls_recv(struct sl_conn *conn, void *buf, size_t cap)
{
    struct tls *tls = conn->tls;
    size_t got = 0;
    tls->read_wants_write = false;
    while (got < cap) {
        size_t n = 0;
        ERR_clear_error();
        errno = 0;
        int r = SSL_read_ex(tls->ssl, (uint8_t *)buf + got, cap - got, &n);
        if (r == 1) {
            got += n;
            continue;
        }
        if (got > 0)
            return (ssize_t)got; /* the condition shows again on the next read */
        char e[256];
        switch (SSL_get_error(tls->ssl, r)) {
        case SSL_ERROR_WANT_WRITE:
            tls->read_wants_write = true;
            /* fall through */
        case SSL_ERROR_WANT_READ:
            errno = EAGAIN;
            return -1;
        case SSL_ERROR_ZERO_RETURN:
            return 0; /* close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
        case SSL_ERROR_SYSCALL:
            if (errno == EAGAIN || errno == EINTR)
                return -1;
            tls->fatal = true;
            if (errno == 0)
                return 0;
            return -1;
        default:
            tls->fatal = true;
            SL_DEBUG(NET_MOD, "TLS read from %s: %s", conn->peer, ssl_errors(e, sizeof(e)));
            errno = EPROTO;
            return -1;
        }
    }
    return (ssize_t)got;
}

/* Reads len bytes of fd at pos into dst. 0, -EIO for a short file, or -errno. */
static int pread_all(int fd, uint8_t *dst, size_t len, off_t pos)
{
    while (len > 0) {
        ssize_t n = pread(fd, dst, len, pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        dst += n;
        len -= (size_t)n;
        pos += n;
    }
    return 0;
}

/* Copies up to cap bytes of ready output from the write cursor into wbuf,
 * moving nothing. Bytes staged or -errno. */
static ssize_t stage(struct sl_conn *conn, size_t cap)
{
    uint8_t *w = conn->tls->wbuf;
    size_t len = 0;
    bool first = true;
    struct sl_list *pos;
    SL_LIST_FOREACH(pos, &conn->slots)
    {
        struct slot *s = SL_LIST_ENTRY(pos, struct slot, link);
        if (s->state != SLOT_READY || len == cap)
            break;
        struct sl_obuf_piece *p = s->req.out.head;
        size_t poff = 0, prefix_off = first ? conn->w_prefix_off : 0;
        if (prefix_off < 4) {
            size_t take = 4 - prefix_off < cap - len ? 4 - prefix_off : cap - len;
            memcpy(w + len, s->prefix + prefix_off, take);
            len += take;
        } else {
            p = conn->w_piece;
            poff = conn->w_piece_off;
        }
        first = false;
        for (; p && len < cap; p = p->next, poff = 0) {
            size_t take = p->len - poff < cap - len ? p->len - poff : cap - len;
            if (take == 0)
                continue;
            if (p->fd >= 0) {
                int rc = pread_all(p->fd, w + len, take, p->file_pos + (off_t)poff);
                if (rc < 0) {
                    SL_ERROR(NET_MOD, "response to %s: reading fd %d at %lld: %s", conn->peer,
                             p->fd, (long long)(p->file_pos + (off_t)poff), strerror(-rc));
                    return rc;
                }
            } else {
                memcpy(w + len, p->data + poff, take);
            }
            len += take;
        }
    }
    return (ssize_t)len;
}

ssize_t tls_write_some(struct sl_conn *conn, size_t budget)
{
    struct tls *tls = conn->tls;
    if (tls->wbuf_len == 0) {
        if (!tls->wbuf && !(tls->wbuf = malloc(TLS_WBUF_BYTES)))
            return -ENOMEM;
        ssize_t n = stage(conn, budget < TLS_WBUF_BYTES ? budget : TLS_WBUF_BYTES);
        if (n <= 0)
            return n < 0 ? n : -EIO;
        tls->wbuf_len = (size_t)n;
    }
    tls->write_wants_read = false;
    ERR_clear_error();
    errno = 0;
    size_t wrote = 0;
    int r = SSL_write_ex(tls->ssl, tls->wbuf, tls->wbuf_len, &wrote);
    if (r == 1) {
        SL_ASSERT(wrote == tls->wbuf_len); /* no SSL_MODE_ENABLE_PARTIAL_WRITE */
        tls->wbuf_len = 0;
        return (ssize_t)wrote;
    }
    char e[256];
    switch (SSL_get_error(tls->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        tls->write_wants_read = true;
        /* fall through */
    case SSL_ERROR_WANT_WRITE:
        return -EAGAIN;
    case SSL_ERROR_SYSCALL:
        if (errno == EAGAIN || errno == EINTR)
            return -EAGAIN;
        tls->fatal = true;
        return errno ? -errno : -EPIPE;
    default:
        tls->fatal = true;
        SL_DEBUG(NET_MOD, "TLS write to %s: %s", conn->peer, ssl_errors(e, sizeof(e)));
        return -EPROTO;
    }
}

void tls_flush_done(struct sl_conn *conn)
{
    struct tls *tls = conn->tls;
    if (tls->wbuf && tls->wbuf_len == 0 && sl_list_empty(&conn->slots)) {
        free(tls->wbuf);
        tls->wbuf = NULL;
    }
}

const char *sl_conn_tls_subject(const struct sl_conn *conn)
{
    return conn->tls ? conn->tls->subject : NULL;
}

bool sl_conn_is_tls(const struct sl_conn *conn) { return conn->tls != NULL; }
