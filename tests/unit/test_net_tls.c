/*
 * test_net_tls.c - the network layer's TLS transport (src/net/tls.c) over
 * real sockets on 127.0.0.1 with an OpenSSL client in the test: pipelined
 * frames, file pieces (pread + SSL_write), decrypted bytes left inside
 * OpenSSL while reading is paused, a slow reader (WANT_WRITE), the
 * handshake timeout, client certificate subjects, close_notify and the
 * memory an idle TLS connection costs; and the broker session's principal
 * made from the client certificate (src/broker/session.c) on such a
 * connection. Certificates are made with the openssl command in a
 * temporary directory.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/clock.h"
#include "broker/session.h"
#include "net/net.h"
#include "security/ssl_principal.h"
#include "testlib.h"

#define DEADLINE_MS 20000

size_t __sanitizer_get_current_allocated_bytes(void);

static char dir[64];

static const char *in_dir(const char *name)
{
    static char p[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
    return p[k];
}

static void sh(const char *cmd)
{
    char full[1024];
    snprintf(full, sizeof(full), "cd %s && %s >/dev/null 2>&1", dir, cmd);
    CHECK(system(full) == 0);
}

/* Removes the certificates' directory; also at exit, so a failed CHECK leaves nothing. */
static void rm_certs(void)
{
    char cmd[128];
    if (!dir[0])
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    dir[0] = '\0';
    if (system(cmd) != 0)
        fprintf(stderr, "%s failed\n", cmd);
}

/* ca.pem; server.pem/key (SAN 127.0.0.1); alice.pem/key signed by the CA. */
static void make_certs(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sluice-test-tls-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    atexit(rm_certs);
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "openssl req -x509 %s -keyout ca.key -out ca.pem -days 1 -subj /CN=ca", ec);
    sh(cmd);
    FILE *f = fopen(in_dir("san.ext"), "w");
    CHECK(f && fputs("subjectAltName=IP:127.0.0.1\n", f) >= 0 && fclose(f) == 0);
    snprintf(cmd, sizeof(cmd), "openssl req %s -keyout server.key -out server.csr -subj /CN=localhost", ec);
    sh(cmd);
    sh("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
       "-days 1 -extfile san.ext");
    snprintf(cmd, sizeof(cmd), "openssl req %s -keyout alice.key -out alice.csr -subj /O=acme/OU=eng/CN=alice",
             ec);
    sh(cmd);
    sh("openssl x509 -req -in alice.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out alice.pem -days 1");
}


static SSL_CTX *server_ctx(bool verify_client)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    CHECK(ctx);
    CHECK(SSL_CTX_use_certificate_chain_file(ctx, in_dir("server.pem")) == 1);
    CHECK(SSL_CTX_use_PrivateKey_file(ctx, in_dir("server.key"), SSL_FILETYPE_PEM) == 1);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (verify_client) {
        CHECK(SSL_CTX_load_verify_locations(ctx, in_dir("ca.pem"), NULL) == 1);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"t", 1);
    }
    return ctx;
}

/* ---- the server side ---- */

struct tctx {
    atomic_int dispatched;  /* frames seen */
    int file_fd;            /* file piece source */
    size_t file_len;        /* bytes in it */
    int64_t delay_ms;       /* answer each request this much later (timer) */
    char subject[256];      /* sl_conn_tls_subject of the last request, or "(null)" */
    atomic_int is_tls;      /* sl_conn_is_tls of the last request */
    struct sl_listener *session_listener; /* if set: make a broker session as from this listener */
    char principal[512];    /* that session's principal, or "(no session)" */
    int auth_state;         /* and its state */
};

static struct tctx T;

static void respond(struct sl_req *req)
{
    if (req->frame_len == 1 && req->frame[0] == 'X') {
        sl_req_close(req, "test asked to close");
        return;
    }
    if (req->frame_len == 1 && req->frame[0] == 'F') {
        CHECK(sl_obuf_put(&req->out, "head", 4) == 0);
        CHECK(sl_obuf_put_file(&req->out, T.file_fd, 0, T.file_len, NULL, NULL) == 0);
        CHECK(sl_obuf_put(&req->out, "tail", 4) == 0);
    } else {
        CHECK(sl_obuf_put(&req->out, req->frame, req->frame_len) == 0);
    }
    sl_req_respond(req);
}

static void timer_fire(void *arg)
{
    respond(arg);
}

static void handler(void *ctx, struct sl_req *req)
{
    CHECK(ctx == &T);
    atomic_fetch_add(&T.dispatched, 1);
    const char *s = sl_conn_tls_subject(req->conn);
    snprintf(T.subject, sizeof(T.subject), "%s", s ? s : "(null)");
    atomic_store(&T.is_tls, sl_conn_is_tls(req->conn));
    if (T.session_listener) {
        struct sl_call call = {.req = req, .listener = T.session_listener};
        struct sl_session *ss = sl_call_session(&call);
        snprintf(T.principal, sizeof(T.principal), "%s", ss ? ss->principal : "(no session)");
        T.auth_state = ss ? (int)ss->state : -1;
    }
    if (T.delay_ms > 0) {
        struct sl_timer *t = sl_arena_alloc(&req->arena, sizeof(*t));
        CHECK(t);
        sl_timer_init(t);
        sl_timer_start(req->loop, t, sl_clock_mono_ms() + T.delay_ms, timer_fire, req);
        return;
    }
    respond(req);
}

/* Starts a net with a TLS listener (and a plaintext one in *plain_port if not NULL). */
static struct sl_net *start(struct sl_net_conf *conf, bool verify_client, int *port, int *plain_port)
{
    memset(&T, 0, sizeof(T));
    T.file_fd = -1;
    alarm(120);
    make_certs();
    struct sl_net *net = NULL;
    CHECK(sl_net_new(conf, handler, &T, &net) == 0);
    SSL_CTX *ctx = server_ctx(verify_client);
    CHECK(sl_net_listen_tls(net, "127.0.0.1", 0, &T, ctx, port) == 0);
    SSL_CTX_free(ctx); /* the net holds its own reference */
    if (plain_port)
        CHECK(sl_net_listen(net, "127.0.0.1", 0, &T, plain_port) == 0);
    CHECK(sl_net_start(net) == 0);
    return net;
}

static void stop(struct sl_net *net)
{
    sl_net_stop(net, 1000);
    sl_net_free(net);
    rm_certs();
}

/* ---- the client side ---- */

static int cli_rcvbuf; /* SO_RCVBUF for new client sockets, set before connect; 0 = default */

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    if (cli_rcvbuf)
        CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cli_rcvbuf, sizeof(cli_rcvbuf)) == 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    struct timeval tv = {DEADLINE_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

struct cli {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
};

/* A blocking TLS client; cert NULL for none. false if the handshake fails. */
static bool cli_open(struct cli *c, int port, const char *cert)
{
    c->ctx = SSL_CTX_new(TLS_client_method());
    CHECK(c->ctx);
    CHECK(SSL_CTX_load_verify_locations(c->ctx, in_dir("ca.pem"), NULL) == 1);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (cert) {
        char pem[32], key[32];
        snprintf(pem, sizeof(pem), "%s.pem", cert);
        snprintf(key, sizeof(key), "%s.key", cert);
        CHECK(SSL_CTX_use_certificate_file(c->ctx, in_dir(pem), SSL_FILETYPE_PEM) == 1);
        CHECK(SSL_CTX_use_PrivateKey_file(c->ctx, in_dir(key), SSL_FILETYPE_PEM) == 1);
    }
    c->fd = tcp_connect(port);
    c->ssl = SSL_new(c->ctx);
    CHECK(c->ssl);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set1_host(c->ssl, "127.0.0.1");
    return SSL_connect(c->ssl) == 1;
}

static void cli_close(struct cli *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    close(c->fd);
}

static void cli_write(struct cli *c, const void *p, size_t n)
{
    size_t w;
    CHECK(SSL_write_ex(c->ssl, p, n, &w) == 1 && w == n);
}

/* Reads exactly n bytes; false on EOF or error. */
static bool cli_read(struct cli *c, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        size_t r;
        if (SSL_read_ex(c->ssl, b, n, &r) != 1)
            return false;
        b += r;
        n -= r;
    }
    return true;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Appends a frame of n bytes, byte i = (seed + i) & 0xff. */
static void make_frame(uint8_t *buf, size_t *off, uint32_t n, uint32_t seed)
{
    put_be32(buf + *off, n);
    for (uint32_t i = 0; i < n; i++)
        buf[*off + 4 + i] = (uint8_t)(seed + i);
    *off += 4 + n;
}

/* Reads one response and checks it is the echo of frame (n, seed). */
static void expect_echo(struct cli *c, uint32_t n, uint32_t seed)
{
    uint8_t h[4];
    CHECK(cli_read(c, h, 4));
    CHECK_EQ((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3], n);
    uint8_t *b = malloc(n);
    CHECK(b);
    CHECK(cli_read(c, b, n));
    for (uint32_t i = 0; i < n; i++)
        CHECK_EQ(b[i], (uint8_t)(seed + i));
    free(b);
}

static void roundtrip(int port)
{
    struct cli c;
    CHECK(cli_open(&c, port, NULL));
    uint8_t f[64];
    size_t off = 0;
    make_frame(f, &off, 10, 3);
    cli_write(&c, f, off);
    expect_echo(&c, 10, 3);
    cli_close(&c);
}

/* True once fd reads EOF or an error within ms. */
static bool wait_closed(int fd, int ms)
{
    int64_t deadline = sl_clock_mono_ms() + ms;
    uint8_t buf[4096];
    for (;;) {
        int64_t left = deadline - sl_clock_mono_ms();
        if (left <= 0)
            return false;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        if (recv(fd, buf, sizeof(buf), 0) <= 0)
            return true;
    }
}

/* ---- tests ---- */

TEST(pipelined_frames_of_every_size_echo_in_order_over_tls)
{
    struct sl_net_conf conf = {.threads = 2};
    int port;
    struct sl_net *net = start(&conf, false, &port, NULL);
    struct cli c;
    CHECK(cli_open(&c, port, NULL));
    static const uint32_t sizes[] = {1, 100, 16380, 16384, 70000, 3, 200000, 65531, 7};
    size_t total = 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        total += 4 + sizes[i];
    uint8_t *buf = malloc(total);
    size_t off = 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        make_frame(buf, &off, sizes[i], (uint32_t)i);
    cli_write(&c, buf, off);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        expect_echo(&c, sizes[i], (uint32_t)i);
    CHECK_EQ(atomic_load(&T.is_tls), 1);
    CHECK(strcmp(T.subject, "(null)") == 0); /* no client certificate */
    free(buf);
    cli_close(&c);
    stop(net);
}

TEST(file_pieces_are_read_and_encrypted_intact_for_a_slow_reader)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start(&conf, false, &port, NULL);
    char path[] = "/tmp/sluice-test-tls-file-XXXXXX";
    T.file_fd = mkstemp(path);
    CHECK(T.file_fd >= 0);
    unlink(path);
    T.file_len = 3000000 + 17;
    uint8_t *fdata = malloc(T.file_len);
    for (size_t i = 0; i < T.file_len; i++)
        fdata[i] = (uint8_t)(i * 7 + i / 251);
    CHECK(write(T.file_fd, fdata, T.file_len) == (ssize_t)T.file_len);
    struct cli c;
    cli_rcvbuf = 8192; /* a small receive window: the server meets WANT_WRITE */
    CHECK(cli_open(&c, port, NULL));
    uint8_t req[] = {0, 0, 0, 1, 'F', 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 1, 'F'};
    cli_write(&c, req, sizeof(req));
    uint8_t *got = malloc(T.file_len + 8);
    for (int k = 0; k < 2; k++) {
        uint8_t h[4];
        CHECK(cli_read(&c, h, 4));
        CHECK_EQ((size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3], T.file_len + 8);
        CHECK(cli_read(&c, got, T.file_len + 8));
        CHECK_MEM(got, "head", 4);
        CHECK_MEM(got + 4, fdata, T.file_len);
        CHECK_MEM(got + 4 + T.file_len, "tail", 4);
        if (k == 0) {
            uint8_t hi[6];
            CHECK(cli_read(&c, hi, 6));
            CHECK_MEM(hi, "\0\0\0\2hi", 6);
        }
    }
    free(got);
    free(fdata);
    cli_close(&c);
    close(T.file_fd);
    stop(net);
}

TEST(decrypted_bytes_left_in_openssl_are_read_while_backpressure_pauses)
{
    /* A tiny inflight bound and late answers pause reading again and again
     * with bytes already decrypted inside OpenSSL (no epoll event for them). */
    struct sl_net_conf conf = {.threads = 1, .max_inflight_bytes = 6000};
    int port;
    struct sl_net *net = start(&conf, false, &port, NULL);
    T.delay_ms = 2;
    struct cli c;
    CHECK(cli_open(&c, port, NULL));
    enum { N = 400 };
    uint8_t *buf = malloc(N * (4 + 997));
    size_t off = 0;
    for (uint32_t i = 0; i < N; i++)
        make_frame(buf, &off, 997, i);
    cli_write(&c, buf, off); /* one write: records arrive together */
    for (uint32_t i = 0; i < N; i++)
        expect_echo(&c, 997, i);
    CHECK_EQ(atomic_load(&T.dispatched), N);
    free(buf);
    cli_close(&c);
    stop(net);
}

TEST(a_record_split_by_the_read_buffer_end_is_read_without_a_socket_event)
{
    /* 60000 bytes (one frame, incomplete) wait in the 64 KiB read buffer when
     * a 16000-byte record brings its end and six more frames: 15536 bytes fit,
     * the last 464 stay decrypted inside OpenSSL with the socket empty. */
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start(&conf, false, &port, NULL);
    struct cli c;
    CHECK(cli_open(&c, port, NULL));
    uint8_t *buf = malloc(66000);
    size_t off = 0;
    make_frame(buf, &off, 59996, 0);
    for (uint32_t i = 1; i <= 6; i++)
        make_frame(buf, &off, 996, i);
    CHECK_EQ(off, 66000);
    cli_write(&c, buf, 50000);
    cli_write(&c, buf + 50000, 16000); /* one record */
    expect_echo(&c, 59996, 0);
    for (uint32_t i = 1; i <= 6; i++)
        expect_echo(&c, 996, i);
    free(buf);
    cli_close(&c);
    stop(net);
}

TEST(silent_and_half_handshakes_close_after_the_timeout_while_others_are_served)
{
    struct sl_net_conf conf = {.threads = 1, .tls_handshake_timeout_ms = 400};
    int port;
    struct sl_net *net = start(&conf, false, &port, NULL);
    int64_t t0 = sl_clock_mono_ms();
    int silent = tcp_connect(port), half = tcp_connect(port);
    CHECK(send(half, "\x16\x03\x01\x02\x00\x01", 6, MSG_NOSIGNAL) == 6);
    for (int i = 0; i < 5; i++)
        roundtrip(port);
    CHECK(wait_closed(silent, DEADLINE_MS));
    CHECK(wait_closed(half, DEADLINE_MS));
    CHECK(sl_clock_mono_ms() - t0 >= 380);
    struct sl_net_listener_stats st[2];
    CHECK_EQ(sl_net_listener_stats(net, st, 2), 1);
    CHECK(st[0].tls);
    CHECK_EQ(st[0].tls_handshake_failures, 2);
    roundtrip(port);
    close(silent);
    close(half);
    stop(net);
}

TEST(plaintext_frame_on_tls_port_closes_at_once)
{
    struct sl_net_conf conf = {.threads = 1, .tls_handshake_timeout_ms = 10000};
    int port;
    struct sl_net *net = start(&conf, false, &port, NULL);
    int fd = tcp_connect(port);
    int64_t t0 = sl_clock_mono_ms();
    uint8_t f[16];
    size_t off = 0;
    make_frame(f, &off, 10, 0);
    CHECK(send(fd, f, off, MSG_NOSIGNAL) == (ssize_t)off);
    CHECK(wait_closed(fd, DEADLINE_MS));
    CHECK(sl_clock_mono_ms() - t0 < 5000);
    CHECK_EQ(atomic_load(&T.dispatched), 0);
    roundtrip(port);
    close(fd);
    stop(net);
}

TEST(client_certificate_subject_in_rfc2253_form_and_plaintext_conn_has_none)
{
    struct sl_net_conf conf = {.threads = 1};
    int port, plain;
    struct sl_net *net = start(&conf, true, &port, &plain);
    struct cli c;
    CHECK(cli_open(&c, port, "alice"));
    uint8_t f[16];
    size_t off = 0;
    make_frame(f, &off, 5, 1);
    cli_write(&c, f, off);
    expect_echo(&c, 5, 1);
    CHECK(strcmp(T.subject, "CN=alice,OU=eng,O=acme") == 0);
    cli_close(&c);
    /* requested, not presented: served, no subject */
    CHECK(cli_open(&c, port, NULL));
    cli_write(&c, f, off);
    expect_echo(&c, 5, 1);
    CHECK(strcmp(T.subject, "(null)") == 0);
    cli_close(&c);
    int fd = tcp_connect(plain);
    CHECK(send(fd, f, off, MSG_NOSIGNAL) == (ssize_t)off);
    uint8_t resp[9];
    CHECK(recv(fd, resp, sizeof(resp), MSG_WAITALL) == (ssize_t)sizeof(resp));
    CHECK_EQ(atomic_load(&T.is_tls), 0);
    CHECK(strcmp(T.subject, "(null)") == 0);
    close(fd);
    stop(net);
}

TEST(sl_req_close_sends_earlier_responses_then_close_notify)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start(&conf, false, &port, NULL);
    struct cli c;
    CHECK(cli_open(&c, port, NULL));
    uint8_t f[32];
    size_t off = 0;
    make_frame(f, &off, 3, 9);
    memcpy(f + off, "\0\0\0\1X", 5);
    off += 5;
    cli_write(&c, f, off);
    expect_echo(&c, 3, 9);
    uint8_t b;
    size_t r;
    CHECK(SSL_read_ex(c.ssl, &b, 1, &r) == 0);
    CHECK_EQ(SSL_get_error(c.ssl, 0), SSL_ERROR_ZERO_RETURN); /* close_notify, not a bare EOF */
    cli_close(&c);
    stop(net);
}

TEST(stop_flushes_a_parked_response_over_tls)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start(&conf, false, &port, NULL);
    T.delay_ms = 300;
    struct cli c;
    CHECK(cli_open(&c, port, NULL));
    uint8_t f[16];
    size_t off = 0;
    make_frame(f, &off, 4, 2);
    cli_write(&c, f, off);
    while (atomic_load(&T.dispatched) < 1) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* re-check the condition every ms */
    }
    sl_net_stop(net, 5000);
    expect_echo(&c, 4, 2);
    cli_close(&c);
    sl_net_free(net);
    rm_certs();
}

TEST(idle_tls_connection_memory_is_bounded)
{
    enum { CONNS = 40 };
    int portp[2], ready[2], go[2];
    CHECK(pipe(portp) == 0 && pipe(ready) == 0 && pipe(go) == 0);
    /* The clients live in a child, so only the server's memory counts. It is
     * forked before the server's thread and sockets exist: a fork while
     * another thread holds an allocator lock deadlocks the child, and a
     * child holding copies of the server's sockets keeps them in its epoll
     * set. */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int port;
        CHECK(read(portp[0], &port, sizeof(port)) == (ssize_t)sizeof(port));
        CHECK(read(portp[0], dir, sizeof(dir)) == (ssize_t)sizeof(dir)); /* made by start() */
        struct cli cs[CONNS];
        for (int i = 0; i < CONNS; i++) {
            CHECK(cli_open(&cs[i], port, NULL));
            uint8_t f[16];
            size_t off = 0;
            make_frame(f, &off, 8, (uint32_t)i);
            cli_write(&cs[i], f, off);
            expect_echo(&cs[i], 8, (uint32_t)i);
        }
        CHECK(write(ready[1], "r", 1) == 1);
        char x;
        CHECK(read(go[0], &x, 1) == 1);
        _exit(0);
    }
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start(&conf, false, &port, NULL);
    roundtrip(port); /* OpenSSL's lazily built tables are made */
    size_t before = __sanitizer_get_current_allocated_bytes();
    CHECK(write(portp[1], &port, sizeof(port)) == (ssize_t)sizeof(port));
    CHECK(write(portp[1], dir, sizeof(dir)) == (ssize_t)sizeof(dir));
    char x;
    CHECK(read(ready[0], &x, 1) == 1);
    CHECK_EQ(atomic_load(&T.dispatched), CONNS + 1);
    size_t after = __sanitizer_get_current_allocated_bytes();
    size_t per_conn = (after - before) / CONNS;
    fprintf(stderr, "idle TLS connection after one request: %zu bytes of heap each\n", per_conn);
    CHECK(per_conn < 48 * 1024);
    CHECK(write(go[1], "g", 1) == 1);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    stop(net);
}

/* One request from a client with cert (or none) to a listener of protocol
 * with rules; the principal of the session made for it. */
static const char *principal_of(int port, struct sl_listener *l, const char *cert)
{
    T.session_listener = l;
    struct cli c;
    CHECK(cli_open(&c, port, cert));
    uint8_t f[16];
    size_t off = 0;
    make_frame(f, &off, 2, 0);
    cli_write(&c, f, off);
    expect_echo(&c, 2, 0);
    cli_close(&c);
    return T.principal;
}

TEST(broker_session_principal_is_the_mapped_certificate_subject_on_ssl_only)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start(&conf, true, &port, NULL);
    char err[200];
    struct sl_ssl_rules *dflt = NULL, *rule = NULL, *none = NULL;
    CHECK(sl_ssl_rules_parse("DEFAULT", &dflt, err, sizeof(err)) == 0);
    CHECK(sl_ssl_rules_parse("RULE:^CN=([^,]+),OU=eng,.*$/$1/U", &rule, err, sizeof(err)) == 0);
    CHECK(sl_ssl_rules_parse("RULE:^CN=nobody$/x/", &none, err, sizeof(err)) == 0);
    struct sl_listener ssl_l = {.name = "SSL", .protocol = "SSL", .ssl_rules = dflt};
    CHECK(strcmp(principal_of(port, &ssl_l, "alice"), "User:CN=alice,OU=eng,O=acme") == 0);
    CHECK_EQ(T.auth_state, SL_AUTH_AUTHENTICATED);
    CHECK(strcmp(principal_of(port, &ssl_l, NULL), "User:ANONYMOUS") == 0);
    ssl_l.ssl_rules = rule;
    CHECK(strcmp(principal_of(port, &ssl_l, "alice"), "User:ALICE") == 0);
    ssl_l.ssl_rules = none; /* no rule applies: no principal, no session */
    CHECK(strcmp(principal_of(port, &ssl_l, "alice"), "(no session)") == 0);
    struct sl_listener sasl_ssl = {.name = "SASL_SSL", .protocol = "SASL_SSL", .ssl_rules = dflt};
    CHECK(strcmp(principal_of(port, &sasl_ssl, "alice"), "User:ANONYMOUS") == 0); /* SASL decides */
    CHECK_EQ(T.auth_state, SL_AUTH_HANDSHAKE);
    stop(net); /* sessions are freed with their conns */
    sl_ssl_rules_free(dflt);
    sl_ssl_rules_free(rule);
    sl_ssl_rules_free(none);
}
