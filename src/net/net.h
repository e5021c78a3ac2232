/*
 * net.h - the network layer: N event-loop threads, each with its own epoll
 * instance and its own connections, that read length-prefixed Kafka frames,
 * hand each one to a request function on the thread that read it, and write
 * the responses back in request order.
 *
 * Threads. sl_net_new/listen/start/stop/free run on the main thread. The
 * request function, sl_req_*, sl_timer_* and the sl_conn_* accessors run on
 * the loop thread that owns the connection (req->loop). sl_loop_post is the
 * one call that is safe from any thread. Nothing on a loop thread may block.
 *
 * Accepting. Every listening socket is watched by loop 0 only; it accepts,
 * applies max.connections / max.connections.per.ip and hands each new
 * connection to the loops round-robin (through sl_loop_post). One acceptor
 * keeps the balance exact and the limits simple; accepting is cheap next to
 * serving, so it is not a bottleneck. See docs/net.md.
 *
 * Request lifecycle:
 *
 *   frame complete --> request fn(ctx, req) --> handler finishes it, once:
 *                                                  sl_req_respond  (response queued)
 *                                                  sl_req_drop     (no response)
 *                                                  sl_req_close    (close the conn)
 *
 *   A request may be finished inside the request fn or later (parked), from
 *   a timer or a posted function on the same loop. Every dispatched request
 *   takes a slot in its connection's queue in arrival order; responses are
 *   written from the head of that queue only while the head is ready, so
 *   they go out in request order even when handlers finish out of order.
 *
 *   If the connection dies (peer closed, error, idle, stop) while requests
 *   are parked, those requests and their memory stay valid: the handler
 *   still finishes each of them exactly once, and respond/drop/close on a
 *   dead connection just frees the request. The connection's memory lives
 *   until its last parked request is finished.
 *
 * Backpressure. Each request is charged its frame bytes plus a fixed
 * overhead (SL_NET_REQ_OVERHEAD) until its response has been written (or it
 * was dropped). While a connection's charge is at or above
 * max_inflight_bytes it reads nothing more; it resumes when responses go
 * out.
 *
 * Shutdown. sl_net_stop closes the listeners, stops reading, lets requests
 * in flight finish and their responses flush until grace_ms, then closes
 * every connection, fires every timer still armed (so parked requests
 * finish, on dead connections) and runs posted functions, and joins the
 * threads. After the threads are joined, functions posted to a loop (for
 * example a flusher's completion) run on the thread that calls sl_net_stop
 * or sl_net_free; finishing requests there is allowed. Nothing may post
 * after sl_net_free.
 */
#ifndef SL_NET_NET_H
#define SL_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/obuf.h"

struct sl_net;
struct sl_loop;
struct sl_conn;

struct sl_net_conf {
    int threads;               /* event loops; 0 = number of online CPUs */
    size_t max_request_bytes;  /* socket.request.max.bytes; 0 = 100 MiB. A frame longer than
                                  this closes the connection */
    size_t max_inflight_bytes; /* per connection: request bytes received but not yet answered;
                                  reading pauses at or above it and resumes when responses go
                                  out. 0 = max_request_bytes */
    int64_t idle_timeout_ms;   /* connections.max.idle.ms; 0 = 600000, < 0 = never */
    int max_connections;       /* max.connections; 0 = unlimited; over it new connections are
                                  closed at once */
    int max_connections_per_ip; /* max.connections.per.ip; 0 = unlimited */
    int max_connection_creation_rate; /* max.connection.creation.rate: accepts per second per
                                  listener; 0 = unlimited. Over it new connections are not
                                  refused: the listener stops accepting until the rate allows
                                  (they wait in the kernel's accept backlog), up to one
                                  second's worth in a burst, as Kafka throttles accepts. */
    int64_t tls_handshake_timeout_ms; /* a TLS connection that has not finished its handshake
                                  within this is closed; 0 = 10000. Capped by idle_timeout_ms. */
};

/* Bytes charged per request on top of its frame, for the slot, arena header
 * and response chain head: so many tiny requests also hit the inflight bound. */
#define SL_NET_REQ_OVERHEAD 1024

/* One request: owned by the net layer; valid until respond/drop/close. */
struct sl_req {
    struct sl_conn *conn;  /* the connection it came in on (maybe dead by the time it finishes) */
    struct sl_loop *loop;  /* the loop thread that owns conn */
    const uint8_t *frame;  /* request bytes after the 4-byte size prefix; valid until the req is
                              finished */
    size_t frame_len;      /* bytes at frame */
    struct sl_arena arena; /* per-request allocations, capped at 4 * frame_len + 1 MiB; freed
                              when the req is finished */
    struct sl_obuf out;    /* the handler writes the response here WITHOUT the 4-byte size; the
                              net layer prepends it */
    void *listener_data;   /* the opaque pointer given to sl_net_listen for its listener */
    int64_t recv_mono_ns;  /* sl_clock_mono_ns() when the frame was complete */
    void *user;            /* free for the handler */
};

/* Called on the loop thread for every complete frame; must not block. It
 * must finish req exactly once, now or later (see the lifecycle above). */
typedef void (*sl_net_request_fn)(void *ctx, struct sl_req *req);

/* Creates the loops (not yet running). conf is copied. 0, -EINVAL, -ENOMEM,
 * or -errno from epoll/eventfd. Thread: main. */
int sl_net_new(const struct sl_net_conf *conf, sl_net_request_fn fn, void *ctx,
               struct sl_net **out);

/* Binds and listens. host "127.0.0.1"/"0.0.0.0"/"::"/"localhost"/"" (all,
 * dual stack when IPv6 is there); port 0 picks a free port, returned in
 * *bound_port (may be NULL). listener_data is handed to every request of
 * this listener. At most 16 listeners. Called before sl_net_start.
 * 0 or -errno. Thread: main. */
int sl_net_listen(struct sl_net *net, const char *host, int port, void *listener_data,
                  int *bound_port);

/* Same, for a TLS listener: every connection runs a TLS server handshake
 * with ctx (an SSL_CTX; the net takes its own reference) before any frame is
 * read, and its bytes go through OpenSSL both ways (file pieces are read
 * with pread and encrypted: no sendfile). A connection that has not finished
 * the handshake within tls_handshake_timeout_ms, or fails it (a plaintext
 * client, a bad or missing client certificate), is closed. See docs/tls.md.
 * 0 or -errno. Thread: main. */
struct ssl_ctx_st;
int sl_net_listen_tls(struct sl_net *net, const char *host, int port, void *listener_data,
                      struct ssl_ctx_st *ctx, int *bound_port);

/* Starts the loop threads. 0 or -errno. Thread: main. */
int sl_net_start(struct sl_net *net);

/* Stops accepting, lets requests in flight finish and their responses flush
 * for up to grace_ms, closes everything, joins the threads. Returns within
 * about grace_ms plus the time parked requests take to finish when their
 * timers fire. Idempotent. Thread: main. */
void sl_net_stop(struct sl_net *net, int64_t grace_ms);

/* Stops (grace 0) if still running, then frees everything. Thread: main. */
void sl_net_free(struct sl_net *net);

struct sl_loop *sl_net_loop(struct sl_net *net, int i);
int sl_net_loop_count(struct sl_net *net);

/* Counters for /metrics. Thread: any (relaxed atomic reads), between
 * sl_net_new and sl_net_free. */
struct sl_net_listener_stats {
    void *listener_data;   /* as given to sl_net_listen */
    int port;              /* bound port */
    int64_t open;          /* connections open now */
    uint64_t accepted;     /* connections accepted since start (not those refused by limits) */
    bool tls;              /* a TLS listener */
    uint64_t tls_handshake_failures; /* TLS handshakes failed or timed out since start */
};
/* Fills out[0..max) with the listeners' counters; returns how many listeners there are. */
int sl_net_listener_stats(struct sl_net *net, struct sl_net_listener_stats *out, int max);
/* Nanoseconds loop i has spent waiting in epoll_wait since it started. */
uint64_t sl_net_loop_idle_ns(struct sl_net *net, int i);

/* Finishing a request. Thread: req->loop (or the stopping thread once the
 * loops are joined). */

/* req->out is complete; it is sent in request order. req is freed: do not
 * touch it after. */
void sl_req_respond(struct sl_req *req);
/* No response (Produce acks=0); frees req. */
void sl_req_drop(struct sl_req *req);
/* Framing or protocol error: logs why (with the peer) and closes the
 * connection once the responses queued before this request are sent; no
 * more requests are read. Frees req. */
void sl_req_close(struct sl_req *req, const char *why);

/* Runs fn(arg) on loop's thread soon, in posting order. Safe from any
 * thread. Never fails (aborts if out of memory). */
void sl_loop_post(struct sl_loop *loop, void (*fn)(void *arg), void *arg);

/* The loop whose thread is calling, or NULL off the loop threads. */
struct sl_loop *sl_loop_current(void);

/* A timer: caller-owned, intrusive (a node of the loop's pairing heap), so
 * arming one allocates nothing. Zero it (or sl_timer_init) before first use.
 * Fields are the loop's; read none of them. */
struct sl_timer {
    struct sl_timer *child;   /* first child in the heap */
    struct sl_timer *next;    /* next sibling */
    struct sl_timer *prev;    /* previous sibling, or the parent for a first child */
    int64_t deadline_mono_ms; /* fires when sl_clock_mono_ms() >= this */
    void (*fn)(void *arg);    /* called once on the loop thread, disarmed first */
    void *arg;                /* given to fn */
    bool armed;               /* in the heap */
};

static inline void sl_timer_init(struct sl_timer *t)
{
    *t = (struct sl_timer){0};
}

/* Arms t (re-arms it if armed) to call fn(arg) at deadline_mono_ms (ms, the
 * sl_clock_mono_ms clock); a deadline in the past fires on the next loop
 * iteration. Thread: the loop's own. */
void sl_timer_start(struct sl_loop *loop, struct sl_timer *t, int64_t deadline_mono_ms,
                    void (*fn)(void *arg), void *arg);
/* Disarms t; harmless if not armed. Thread: the loop's own. */
void sl_timer_stop(struct sl_loop *loop, struct sl_timer *t);

/* "127.0.0.1:53211" or "[::1]:53211". Thread: conn's loop. */
const char *sl_conn_peer(const struct sl_conn *conn);
/* Unique within this sl_net, never 0. */
uint64_t sl_conn_id(const struct sl_conn *conn);
/* false once the connection is closed or closing. Thread: conn's loop. */
bool sl_conn_is_open(const struct sl_conn *conn);

/* Whether the connection runs over TLS. Thread: conn's loop. */
bool sl_conn_is_tls(const struct sl_conn *conn);
/* The subject of the client certificate OpenSSL verified during the TLS
 * handshake, in RFC 2253 form as Java's X500Principal.getName() gives it
 * ("CN=alice,OU=eng,O=acme"); NULL when the connection is not TLS or the
 * client sent no certificate. Valid as long as the conn's memory. Thread:
 * conn's loop. */
const char *sl_conn_tls_subject(const struct sl_conn *conn);

/* Per-connection state of the request function (for the broker: who the
 * client authenticated as). user_free(user) runs when the connection's
 * memory goes, after its last request is finished. Thread: conn's loop. */
void *sl_conn_user(const struct sl_conn *conn);
void sl_conn_set_user(struct sl_conn *conn, void *user, void (*user_free)(void *user));

/* Caps the size of the frames this connection may send next (for example
 * sasl.server.max.receive.size until SASL authentication completes); a
 * longer frame closes it. 0 restores socket.request.max.bytes. Takes effect
 * from the next frame read. Thread: conn's loop. */
void sl_conn_set_max_frame(struct sl_conn *conn, size_t max_bytes);

#endif
