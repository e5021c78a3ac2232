/*
 * net_int.h - the network layer's private types, shared by loop.c, timer.c,
 * listener.c, conn.c, write.c, tls.c and net.c. Nothing outside src/net
 * includes it.
 *
 * Ownership. A loop owns its epoll and eventfd, its connections (conns), and
 * a conn owns its queue of request slots. A slot is the request's memory;
 * while PENDING, the handler holds it (and the conn stays allocated even
 * after it is closed: conn->npending counts those slots).
 *
 * Connection states:
 *
 *   OPEN --(sl_req_close, stop)--> CLOSING --(queue before the marker sent)--> DEAD
 *   OPEN --(EOF, error, bad frame, idle, grace over)-------------------------> DEAD
 *
 *   conn_close() is the only way to DEAD; it closes the socket at once. A
 *   DEAD conn is freed (conn_reap) at a safe point of the loop iteration
 *   once npending is 0.
 */
#ifndef SL_NET_NET_INT_H
#define SL_NET_NET_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "base/list.h"
#include "net/net.h"

#define NET_MOD "net"
#define NET_RBUF_BYTES (64 * 1024) /* receive buffer; larger frames get their own buffer */
#define NET_MAX_LISTENERS 16
#define NET_ACCEPT_BATCH 64    /* accepts per readiness event, so serving is not starved */
#define NET_WRITE_BATCH (4u << 20) /* bytes per flush before yielding to other conns */
#define NET_IOV_MAX 64

enum io_kind { IO_EVENTFD, IO_LISTENER, IO_CONN };

/* What an epoll_event's data.ptr points at: first member of its owner. */
struct io {
    enum io_kind kind; /* which owner this is embedded in */
    int fd;            /* -1 once closed */
};

struct post {
    struct post *next;     /* FIFO link */
    void (*fn)(void *arg); /* what to run */
    void *arg;             /* given to fn */
};

struct sl_loop {
    struct io ev;                /* eventfd: wakes epoll_wait for posts; kind IO_EVENTFD */
    struct sl_net *net;          /* owner */
    int idx;                     /* 0..nloops-1; loop 0 accepts */
    int epfd;                    /* this loop's epoll instance */
    pthread_t thread;            /* valid when started */
    bool started;                /* thread created */
    atomic_bool running;         /* thread is inside loop_run */
    pthread_mutex_t post_mu;     /* guards post_head/post_tail */
    struct post *post_head;      /* posted functions, oldest first; post_mu */
    struct post *post_tail;      /* last posted; post_mu */
    struct sl_timer *timer_root; /* pairing heap of armed timers, earliest first */
    struct sl_list conns;        /* open and closing conns, least recently active first */
    struct sl_list flush;        /* conns with output or completions to process */
    struct sl_list zombies;      /* dead conns with nothing pending: freed by conn_reap */
    uint8_t *scratch;            /* NET_RBUF_BYTES read buffer shared by the loop's conns */
    bool stopping;               /* sl_net_stop began: no reading, close when drained */
    int64_t stop_deadline_ms;    /* mono ms after which everything is closed */
    struct sl_timer sweep;       /* idle sweep timer */
    int nconns;                  /* conns on the list */
    _Atomic uint64_t idle_ns;    /* time spent in epoll_wait, for /metrics; written by the loop only */
};

struct listener {
    struct io io;          /* kind IO_LISTENER */
    struct sl_net *net;    /* owner */
    void *listener_data;   /* handed to each request */
    int port;              /* bound port */
    bool in_epoll;         /* registered with loop 0 */
    struct sl_timer retry; /* re-enable after EMFILE/ENFILE */
    atomic_int open;       /* connections open from this listener, for /metrics */
    _Atomic uint64_t accepted; /* connections accepted (and kept) since start, for /metrics */
    int64_t rate_tat_ns;   /* max.connection.creation.rate: theoretical arrival time of the
                              next accept (GCRA); loop 0 only */
    struct ssl_ctx_st *tls_ctx; /* SSL_CTX of a TLS listener (a reference), or NULL */
    _Atomic uint64_t tls_handshake_failures; /* handshakes failed or timed out, for /metrics */
};

/* Per-IP connection counts (only with max_connections_per_ip). */
struct ip_count {
    struct ip_count *next;     /* hash chain */
    struct sockaddr_in6 addr;  /* v4 stored as v4-mapped v6; port 0 */
    int count;                 /* open connections from addr */
};
#define NET_IP_BUCKETS 1024

struct sl_net {
    struct sl_net_conf conf;  /* with defaults filled in */
    sl_net_request_fn fn;     /* request function */
    void *ctx;                /* given to fn */
    int nloops;               /* loops[] length */
    struct sl_loop *loops;    /* the loops */
    struct listener listeners[NET_MAX_LISTENERS]; /* bound sockets */
    int nlisteners;           /* listeners[] used */
    unsigned next_loop;       /* round-robin for new conns; loop 0 thread only */
    atomic_int nconns;        /* connections open across all loops */
    atomic_uint_fast64_t next_conn_id; /* last conn id handed out */
    pthread_mutex_t ip_mu;    /* guards ip_table */
    struct ip_count *ip_table[NET_IP_BUCKETS]; /* per-IP counts; ip_mu */
    bool started;             /* sl_net_start ran */
    bool stopped;             /* sl_net_stop ran */
    int64_t last_limit_warn_ms; /* rate limit for "over max.connections"; loop 0 only */
};

enum conn_state { CONN_OPEN, CONN_CLOSING, CONN_DEAD };

enum slot_state {
    SLOT_PENDING, /* dispatched; the handler holds it */
    SLOT_READY,   /* response in req.out, waiting to be written */
    SLOT_CLOSE,   /* sl_req_close marker: close the conn when it reaches the head */
};

/* One request: the public sl_req plus queue bookkeeping. Small frames live
 * in data[] right after it; big ones in their own buffer (big). */
struct slot {
    struct sl_req req;       /* what the handler sees; first member */
    struct sl_list link;     /* in conn->slots (while the conn is not DEAD) */
    enum slot_state state;   /* see above */
    size_t charge;           /* bytes counted in conn->inflight_bytes */
    uint8_t prefix[4];       /* big-endian response size, set by respond */
    uint8_t *big;            /* frame buffer when not in data[]; NULL after finish */
    _Alignas(16) uint8_t data[];
};

struct sl_conn {
    struct io io;              /* socket; kind IO_CONN; fd -1 once DEAD */
    struct sl_loop *loop;      /* owner */
    struct listener *lst;      /* listener it came in on */
    uint64_t id;               /* sl_conn_id */
    enum conn_state state;     /* see the diagram */
    struct sl_list link;       /* in loop->conns (LRU) or loop->zombies */
    struct sl_list flush_link; /* in loop->flush when queued */
    struct sl_list slots;      /* requests in arrival order (not when DEAD) */
    int npending;              /* slots in SLOT_PENDING, also after DEAD */
    size_t inflight_bytes;     /* sum of slot charges on the queue */
    bool paused;               /* reading stopped for backpressure */
    bool want_write;           /* a write hit EAGAIN: EPOLLOUT registered */
    uint32_t ep_events;        /* events registered with epoll */
    int64_t last_active_ms;    /* mono ms of the last byte read or written */
    /* input */
    uint8_t *rbuf;             /* NET_RBUF_BYTES, bytes not yet dispatched; NULL when empty */
    size_t rbuf_len;           /* bytes in rbuf */
    uint8_t *big;              /* frame being received into its own buffer, or NULL */
    size_t big_len;            /* its announced length, bytes */
    size_t big_have;           /* bytes received into big */
    size_t big_cap;            /* bytes allocated at big */
    /* output cursor into the head slot */
    size_t w_prefix_off;       /* bytes of the head's prefix sent (0..4) */
    struct sl_obuf_piece *w_piece; /* head piece being sent, once the prefix is done */
    size_t w_piece_off;        /* bytes of w_piece sent */
    struct sockaddr_in6 peer_addr; /* peer (v4 as v4-mapped) for per-IP counts */
    bool counted_ip;           /* counted in net->ip_table */
    char peer[64];             /* "ip:port" */
    size_t max_frame;          /* frame cap for this conn; 0 = conf.max_request_bytes */
    void *user;                /* sl_conn_set_user: the request function's per-conn state */
    void (*user_free)(void *user); /* frees user when the conn's memory goes */
    struct tls *tls;           /* TLS state (tls.c) on a TLS listener's conn, else NULL */
};

/* loop.c */
extern _Thread_local struct sl_loop *net_current_loop;
int loop_init(struct sl_loop *loop, struct sl_net *net, int idx);
void loop_fini(struct sl_loop *loop);
void *loop_thread(void *arg);
void loop_run_posts(struct sl_loop *loop);
void loop_begin_stop(void *arg);
int loop_epoll_add(struct sl_loop *loop, struct io *io, uint32_t events);
void loop_schedule_flush(struct sl_conn *conn);

/* timer.c */
void timer_run_due(struct sl_loop *loop, int64_t now_ms);
int64_t timer_next_deadline(struct sl_loop *loop); /* INT64_MAX when none */
void timer_fire_all(struct sl_loop *loop);

/* listener.c */
void listener_on_ready(struct listener *lst);
void listeners_enable(struct sl_net *net);
void listeners_disable(struct sl_net *net);
void net_ip_release(struct sl_net *net, struct sl_conn *conn);

/* conn.c */
void conn_attach(void *arg);
void conn_on_events(struct sl_conn *conn, uint32_t events);
void conn_close(struct sl_conn *conn, const char *why);
void conn_update_events(struct sl_conn *conn);
void conn_touch(struct sl_conn *conn);
void conn_input_resume(struct sl_conn *conn);
void conn_reap(struct sl_loop *loop);
void conn_sweep_idle(struct sl_loop *loop, int64_t now_ms);
void conn_begin_drain(struct sl_conn *conn);
void slot_free(struct slot *slot);

void conn_read_pending(struct sl_conn *conn);

/* write.c */
void conn_flush(struct sl_conn *conn);

/* tls.c: the TLS transport of a conn whose listener has a tls_ctx. */
struct tls;
int tls_conn_init(struct sl_conn *conn);  /* at attach: SSL object, handshake timer; 0 or -ENOMEM */
void tls_conn_close(struct sl_conn *conn); /* at close: close_notify (best effort), frees the SSL */
void tls_conn_free(struct sl_conn *conn);  /* at reap: the rest (subject) */
bool tls_established(const struct sl_conn *conn);
/* Drives the handshake one step; true once established (false: not yet, or closed). */
bool tls_handshake(struct sl_conn *conn);
uint32_t tls_events(const struct sl_conn *conn); /* epoll events TLS itself waits for */
bool tls_read_wants_write(const struct sl_conn *conn);
bool tls_write_wants_read(const struct sl_conn *conn);
/* Decrypted bytes wait inside OpenSSL: no epoll event will announce them. */
bool tls_has_pending(const struct sl_conn *conn);
/* Like read(2): bytes > 0, 0 at EOF, -1 with errno (EAGAIN when it would block). */
ssize_t tls_recv(struct sl_conn *conn, void *buf, size_t cap);
/* Like write.c's write_some, through SSL_write: bytes or -errno (-EAGAIN). */
ssize_t tls_write_some(struct sl_conn *conn, size_t budget);
void tls_flush_done(struct sl_conn *conn); /* frees the staging buffer once output is drained */

#endif
