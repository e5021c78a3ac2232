/*
 * test_net.c - the network layer over real sockets on 127.0.0.1: framing,
 * response order with parked requests, bad frames, big frames, sendfile,
 * backpressure, idle timeout, stop, connection limits.
 * Waiting is on conditions (poll on sockets, counters) with an overall
 * deadline; alarm() turns a hang into a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/net.h"
#include "testlib.h"

#define DEADLINE_MS 10000

/* From the ASan runtime the unit tests are built with: bytes malloc'd now. */
size_t __sanitizer_get_current_allocated_bytes(void);

/* ---- client helpers ---- */

static int cli_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        CHECK(w > 0);
        b += w;
        n -= (size_t)w;
    }
}

/* Reads exactly n bytes; 0, or -1 on EOF/error/deadline. */
static int recv_all(int fd, void *p, size_t n, int timeout_ms)
{
    uint8_t *b = p;
    int64_t deadline = sl_clock_mono_ms() + timeout_ms;
    while (n > 0) {
        int64_t left = deadline - sl_clock_mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        ssize_t r = recv(fd, b, n, 0);
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Reads one response frame into a malloc'd buffer. 0 or -1. */
static int recv_frame(int fd, uint8_t **out, size_t *len)
{
    uint8_t h[4];
    if (recv_all(fd, h, 4, DEADLINE_MS) < 0)
        return -1;
    *len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
    *out = malloc(*len + 1);
    CHECK(*out);
    if (recv_all(fd, *out, *len, DEADLINE_MS) < 0) {
        free(*out);
        return -1;
    }
    return 0;
}

/* True if the server closes fd (EOF or reset) within timeout_ms; data read
 * meanwhile is discarded. */
static bool wait_closed(int fd, int timeout_ms)
{
    int64_t deadline = sl_clock_mono_ms() + timeout_ms;
    uint8_t buf[4096];
    for (;;) {
        int64_t left = deadline - sl_clock_mono_ms();
        if (left <= 0)
            return false;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0)
            return true;
    }
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Appends a frame of n bytes, byte i = (seed + i) & 0xff, to buf at *off. */
static void make_frame(uint8_t *buf, size_t *off, uint32_t n, uint32_t seed)
{
    put_be32(buf + *off, n);
    for (uint32_t i = 0; i < n; i++)
        buf[*off + 4 + i] = (uint8_t)(seed + i);
    *off += 4 + n;
}

static bool wait_until(atomic_int *v, int want, int timeout_ms)
{
    int64_t deadline = sl_clock_mono_ms() + timeout_ms;
    while (atomic_load(v) < want) {
        if (sl_clock_mono_ms() > deadline)
            return false;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* re-check the condition every ms */
    }
    return true;
}

/* ---- server helpers ---- */

struct tctx {
    atomic_int dispatched;     /* frames seen by the handler */
    atomic_int finished;       /* requests finished */
    int mode;                  /* handler behaviour, per test */
    pthread_mutex_t mu;        /* guards held[] */
    struct sl_req *held[1024]; /* parked requests */
    int nheld;                 /* held[] used */
    int file_fd;               /* for the sendfile test */
};

static struct tctx T;

static void echo(struct sl_req *req)
{
    CHECK(sl_obuf_put(&req->out, req->frame, req->frame_len) == 0);
    sl_req_respond(req);
    atomic_fetch_add(&T.finished, 1);
}

enum { MODE_ECHO, MODE_PARK_ODD, MODE_HOLD_ALL, MODE_FILE, MODE_CLOSE_ON_X, MODE_TIMER, MODE_BIGRESP };

static atomic_int released_files; /* file piece release callbacks */

static void file_release(void *ref)
{
    CHECK(ref == &T);
    atomic_fetch_add(&released_files, 1);
}

static void timer_respond(void *arg)
{
    echo(arg);
}

static void handler(void *ctx, struct sl_req *req)
{
    CHECK(ctx == &T);
    CHECK(req->listener_data == (void *)&T);
    CHECK(sl_loop_current() == req->loop);
    int n = atomic_fetch_add(&T.dispatched, 1);
    switch (T.mode) {
    case MODE_ECHO:
        echo(req);
        break;
    case MODE_PARK_ODD:
    case MODE_HOLD_ALL:
        if ((T.mode == MODE_PARK_ODD && n % 2 == 0) ||
            (T.mode == MODE_HOLD_ALL && req->frame[0] == 'E')) {
            echo(req);
            break;
        }
        pthread_mutex_lock(&T.mu);
        CHECK(T.nheld < 1024);
        T.held[T.nheld++] = req;
        pthread_mutex_unlock(&T.mu);
        break;
    case MODE_FILE:
        if (req->frame[0] == 'e') { /* empty response */
            sl_req_respond(req);
            break;
        }
        if (req->frame[0] == 'z') { /* empty file pieces around memory */
            CHECK(sl_obuf_put_file(&req->out, T.file_fd, 0, 0, &T, file_release) == 0);
            CHECK(sl_obuf_put(&req->out, "mid", 3) == 0);
            CHECK(sl_obuf_put_file(&req->out, T.file_fd, 5, 0, &T, file_release) == 0);
            sl_req_respond(req);
            break;
        }
        CHECK(sl_obuf_put(&req->out, "head", 4) == 0);
        CHECK(sl_obuf_put_file(&req->out, T.file_fd, 1000, 200000, &T, file_release) == 0);
        CHECK(sl_obuf_put(&req->out, "tail", 4) == 0);
        sl_req_respond(req);
        break;
    case MODE_TIMER: {
        /* frame: 4-byte big-endian delay in ms */
        uint32_t ms = (uint32_t)req->frame[0] << 24 | (uint32_t)req->frame[1] << 16 |
                      (uint32_t)req->frame[2] << 8 | req->frame[3];
        struct sl_timer *t = sl_arena_alloc(&req->arena, sizeof(*t));
        CHECK(t);
        sl_timer_start(req->loop, t, sl_clock_mono_ms() + ms, timer_respond, req);
        break;
    }
    case MODE_BIGRESP:
        if (req->frame[0] == 'B') { /* 8 MiB in 1 MiB pieces, byte k = k % 251 */
            for (size_t k = 0; k < 8; k++) {
                uint8_t *p = sl_obuf_append(&req->out, 1u << 20);
                CHECK(p);
                for (size_t j = 0; j < (1u << 20); j++)
                    p[j] = (uint8_t)(((k << 20) + j) % 251);
            }
            sl_req_respond(req);
        } else {
            echo(req);
        }
        break;
    case MODE_CLOSE_ON_X:
        if (req->frame_len == 1 && req->frame[0] == 'X') {
            sl_req_close(req, "test asked to close");
        } else if (req->frame_len == 1 && req->frame[0] == 'Y') { /* answer, then close */
            CHECK(sl_obuf_put(&req->out, "y", 1) == 0);
            sl_req_respond_close(req, "test asked to answer and close");
        } else {
            if (req->frame_len == 1 && req->frame[0] == 'L') /* lift the frame cap */
                sl_conn_set_max_frame(req->conn, 0);
            echo(req);
        }
        break;
    }
}

static struct sl_net *start_net(struct sl_net_conf *conf, int mode, int *port)
{
    memset(&T, 0, sizeof(T));
    pthread_mutex_init(&T.mu, NULL);
    T.mode = mode;
    T.file_fd = -1;
    alarm(60);
    struct sl_net *net = NULL;
    CHECK(sl_net_new(conf, handler, &T, &net) == 0);
    CHECK(sl_net_listen(net, "127.0.0.1", 0, &T, port) == 0);
    CHECK(*port > 0);
    CHECK(sl_net_start(net) == 0);
    return net;
}

/* ---- tests ---- */

TEST(echo_pipelined_frames_come_back_in_order)
{
    struct sl_net_conf conf = {.threads = 2};
    int port;
    struct sl_net *net = start_net(&conf, MODE_ECHO, &port);
    int fds[3];
    for (int c = 0; c < 3; c++)
        fds[c] = cli_connect(port);
    enum { N = 300 };
    size_t cap = (size_t)N * (4 + 3000), off = 0;
    uint8_t *buf = malloc(cap);
    for (int i = 0; i < N; i++)
        make_frame(buf, &off, (uint32_t)(1 + (i * 37) % 3000), (uint32_t)i);
    for (int c = 0; c < 3; c++)
        send_all(fds[c], buf, off); /* all frames in one write */
    for (int c = 0; c < 3; c++) {
        for (int i = 0; i < N; i++) {
            uint8_t *resp;
            size_t len;
            CHECK(recv_frame(fds[c], &resp, &len) == 0);
            CHECK_EQ(len, 1 + (i * 37) % 3000);
            for (size_t k = 0; k < len; k++)
                CHECK_EQ(resp[k], (uint8_t)(i + k));
            free(resp);
        }
        close(fds[c]);
    }
    free(buf);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

/* Runs on the loop: finishes a held request (echo). */
static void complete_post(void *arg)
{
    echo(arg);
}

static void *complete_reversed(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&T.mu);
    for (int i = T.nheld - 1; i >= 0; i--)
        sl_loop_post(T.held[i]->loop, complete_post, T.held[i]);
    T.nheld = 0;
    pthread_mutex_unlock(&T.mu);
    return NULL;
}

TEST(parked_requests_finished_out_of_order_answer_in_request_order)
{
    struct sl_net_conf conf = {.threads = 2};
    int port;
    struct sl_net *net = start_net(&conf, MODE_PARK_ODD, &port);
    int fd = cli_connect(port);
    enum { N = 101 };
    uint8_t buf[N * 104];
    size_t off = 0;
    for (int i = 0; i < N; i++)
        make_frame(buf, &off, (uint32_t)(1 + i), (uint32_t)i);
    send_all(fd, buf, off);
    CHECK(wait_until(&T.dispatched, N, DEADLINE_MS));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, complete_reversed, NULL) == 0);
    pthread_join(th, NULL);
    for (int i = 0; i < N; i++) {
        uint8_t *resp;
        size_t len;
        CHECK(recv_frame(fd, &resp, &len) == 0);
        CHECK_EQ(len, 1 + i);
        CHECK_EQ(resp[0], (uint8_t)i);
        free(resp);
    }
    close(fd);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

static void bad_size_closes(int32_t size)
{
    struct sl_net_conf conf = {.threads = 1, .max_request_bytes = 1 << 20};
    int port;
    struct sl_net *net = start_net(&conf, MODE_ECHO, &port);
    int bad = cli_connect(port), good = cli_connect(port);
    uint8_t hdr[4];
    put_be32(hdr, (uint32_t)size);
    send_all(bad, hdr, 4);
    CHECK(wait_closed(bad, DEADLINE_MS));
    uint8_t buf[64];
    size_t off = 0;
    make_frame(buf, &off, 10, 7);
    send_all(good, buf, off);
    uint8_t *resp;
    size_t len;
    CHECK(recv_frame(good, &resp, &len) == 0);
    CHECK_EQ(len, 10);
    CHECK_MEM(resp, buf + 4, 10);
    free(resp);
    CHECK_EQ(atomic_load(&T.dispatched), 1);
    close(bad);
    close(good);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(frame_size_minus_one_closes_while_others_are_served) { bad_size_closes(-1); }
TEST(frame_size_zero_closes_while_others_are_served) { bad_size_closes(0); }
TEST(frame_size_over_max_closes_while_others_are_served) { bad_size_closes((1 << 20) + 1); }
TEST(frame_size_2gib_closes_while_others_are_served) { bad_size_closes(INT32_MAX); }

TEST(one_mib_frame_written_one_byte_at_a_time)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_ECHO, &port);
    int fd = cli_connect(port);
    size_t n = 1 << 20, off = 0;
    uint8_t *buf = malloc(4 + n);
    make_frame(buf, &off, (uint32_t)n, 3);
    for (size_t i = 0; i < off; i++)
        send_all(fd, buf + i, 1);
    uint8_t *resp;
    size_t len;
    CHECK(recv_frame(fd, &resp, &len) == 0);
    CHECK_EQ(len, n);
    CHECK_MEM(resp, buf + 4, n);
    CHECK_EQ(atomic_load(&T.dispatched), 1);
    free(resp);
    free(buf);
    close(fd);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(big_frames_between_small_ones_in_one_write)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_ECHO, &port);
    int fd = cli_connect(port);
    uint32_t sizes[] = {5, 70000, 1, 65532, 65533, 3u << 20, 9};
    size_t total = 0, off = 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        total += 4 + sizes[i];
    uint8_t *buf = malloc(total);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        make_frame(buf, &off, sizes[i], (uint32_t)i * 11);
    send_all(fd, buf, off);
    off = 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t *resp;
        size_t len;
        CHECK(recv_frame(fd, &resp, &len) == 0);
        CHECK_EQ(len, sizes[i]);
        CHECK_MEM(resp, buf + off + 4, len);
        off += 4 + len;
        free(resp);
    }
    free(buf);
    close(fd);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(file_piece_is_sent_intact)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_FILE, &port);
    char path[] = "/tmp/sluice-test-net-XXXXXX";
    T.file_fd = mkstemp(path);
    CHECK(T.file_fd >= 0);
    unlink(path);
    size_t flen = 300000;
    uint8_t *fdata = malloc(flen);
    for (size_t i = 0; i < flen; i++)
        fdata[i] = (uint8_t)(i * 7 + i / 251);
    CHECK(write(T.file_fd, fdata, flen) == (ssize_t)flen);
    int fd = cli_connect(port);
    uint8_t req[64];
    size_t off = 0;
    make_frame(req, &off, 3, 0);
    make_frame(req, &off, 3, 0); /* two: the second follows a file piece */
    uint8_t more[] = {0, 0, 0, 1, 'z', 0, 0, 0, 1, 'e', 0, 0, 0, 1, 'z'};
    memcpy(req + off, more, sizeof(more));
    off += sizeof(more);
    send_all(fd, req, off);
    for (int k = 0; k < 2; k++) {
        uint8_t *resp;
        size_t len;
        CHECK(recv_frame(fd, &resp, &len) == 0);
        CHECK_EQ(len, 4 + 200000 + 4);
        CHECK_MEM(resp, "head", 4);
        CHECK_MEM(resp + 4, fdata + 1000, 200000);
        CHECK_MEM(resp + 4 + 200000, "tail", 4);
        free(resp);
    }
    uint8_t tail[4 + 3 + 4 + 4 + 3];
    CHECK(recv_all(fd, tail, sizeof(tail), DEADLINE_MS) == 0);
    CHECK_MEM(tail, "\0\0\0\3mid\0\0\0\0\0\0\0\3mid", sizeof(tail));
    CHECK_EQ(atomic_load(&released_files), 6);
    close(fd);
    sl_net_stop(net, 1000);
    sl_net_free(net);
    close(T.file_fd);
    free(fdata);
}

struct open_probe {
    struct sl_req *req; /* a held request of the conn */
    atomic_int *out;    /* 1 open, 0 closed */
};

static void probe_open(void *arg)
{
    struct open_probe *p = arg;
    atomic_store(p->out, sl_conn_is_open(p->req->conn) ? 1 : 0);
}

/* Polls, on the loop thread, until req's conn is closed. */
static bool wait_conn_closed(struct sl_req *req)
{
    atomic_int state = 1;
    struct open_probe probe = {req, &state};
    int64_t deadline = sl_clock_mono_ms() + DEADLINE_MS;
    while (sl_clock_mono_ms() < deadline) {
        atomic_int done = -1;
        atomic_store(&state, -1);
        sl_loop_post(req->loop, probe_open, &probe);
        while (atomic_load(&state) == -1)
            ;
        (void)done;
        if (atomic_load(&state) == 0)
            return true;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void finish_variously(void *arg)
{
    struct sl_req *req = arg;
    int k = req->frame[0];
    if (k % 3 == 0) {
        CHECK(sl_obuf_put(&req->out, "x", 1) == 0);
        sl_req_respond(req);
    } else if (k % 3 == 1) {
        sl_req_drop(req);
    } else {
        sl_req_close(req, "late close");
    }
    atomic_fetch_add(&T.finished, 1);
}

TEST(peer_closes_while_requests_are_parked)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_HOLD_ALL, &port);
    int fd = cli_connect(port);
    uint8_t buf[256];
    size_t off = 0;
    for (int i = 0; i < 6; i++)
        make_frame(buf, &off, 20, (uint32_t)i * 20);
    send_all(fd, buf, off);
    CHECK(wait_until(&T.dispatched, 6, DEADLINE_MS));
    close(fd);
    CHECK(wait_conn_closed(T.held[0]));
    for (int i = 0; i < 6; i++)
        sl_loop_post(T.held[i]->loop, finish_variously, T.held[i]);
    CHECK(wait_until(&T.finished, 6, DEADLINE_MS));
    sl_net_stop(net, 1000);
    sl_net_free(net); /* ASan reports a leaked conn or slot */
}

TEST(sl_req_close_sends_earlier_responses_then_closes)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_CLOSE_ON_X, &port);
    int fd = cli_connect(port);
    uint8_t buf[] = {0, 0, 0, 1, 'a', 0, 0, 0, 1, 'X', 0, 0, 0, 1, 'b'};
    send_all(fd, buf, sizeof(buf));
    uint8_t *resp;
    size_t len;
    CHECK(recv_frame(fd, &resp, &len) == 0);
    CHECK_EQ(len, 1);
    CHECK_EQ(resp[0], 'a');
    free(resp);
    CHECK(wait_closed(fd, DEADLINE_MS));
    CHECK_EQ(atomic_load(&T.dispatched), 2); /* 'b' is never read */
    close(fd);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(sl_req_respond_close_sends_its_response_then_closes)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_CLOSE_ON_X, &port);
    int fd = cli_connect(port);
    uint8_t buf[] = {0, 0, 0, 1, 'a', 0, 0, 0, 1, 'Y', 0, 0, 0, 1, 'b'};
    send_all(fd, buf, sizeof(buf));
    uint8_t *resp;
    size_t len;
    for (int i = 0; i < 2; i++) {
        CHECK(recv_frame(fd, &resp, &len) == 0);
        CHECK_EQ(len, 1);
        CHECK_EQ(resp[0], i == 0 ? 'a' : 'y');
        free(resp);
    }
    CHECK(wait_closed(fd, DEADLINE_MS));
    CHECK_EQ(atomic_load(&T.dispatched), 2); /* 'b' is never read */
    close(fd);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(listener_frame_cap_applies_from_the_first_frame_until_lifted)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    memset(&T, 0, sizeof(T));
    T.mode = MODE_CLOSE_ON_X;
    alarm(60);
    struct sl_net *net = NULL;
    CHECK(sl_net_new(&conf, handler, &T, &net) == 0);
    CHECK(sl_net_listen(net, "127.0.0.1", 0, &T, &port) == 0);
    CHECK_EQ(sl_net_listener_max_frame(net, &T, 64), 0);
    CHECK_EQ(sl_net_listener_max_frame(net, (void *)&port, 64), -ENOENT);
    CHECK(sl_net_start(net) == 0);
    uint8_t big[4 + 65];
    memset(big, 'z', sizeof(big));
    put_be32(big, 65);
    int fd = cli_connect(port); /* first frame over the cap: closed */
    send_all(fd, big, sizeof(big));
    CHECK(wait_closed(fd, DEADLINE_MS));
    close(fd);
    CHECK_EQ(atomic_load(&T.dispatched), 0);
    fd = cli_connect(port); /* lifted by the handler: the same frame is served */
    uint8_t lift[] = {0, 0, 0, 1, 'L'};
    send_all(fd, lift, sizeof(lift));
    send_all(fd, big, sizeof(big));
    uint8_t *resp;
    size_t len;
    CHECK(recv_frame(fd, &resp, &len) == 0 && len == 1);
    free(resp);
    CHECK(recv_frame(fd, &resp, &len) == 0 && len == 65);
    free(resp);
    close(fd);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

/* Round trip of an 'E' (echoed at once) frame: the loop has run since. */
static void echo_roundtrip(int fd)
{
    uint8_t buf[] = {0, 0, 0, 2, 'E', '!'};
    send_all(fd, buf, sizeof(buf));
    uint8_t *resp;
    size_t len;
    CHECK(recv_frame(fd, &resp, &len) == 0);
    CHECK_EQ(len, 2);
    CHECK_MEM(resp, "E!", 2);
    free(resp);
}

static void release_held_one(void)
{
    pthread_mutex_lock(&T.mu);
    CHECK(T.nheld > 0);
    struct sl_req *req = T.held[0];
    memmove(T.held, T.held + 1, sizeof(T.held[0]) * (size_t)--T.nheld);
    pthread_mutex_unlock(&T.mu);
    sl_loop_post(req->loop, complete_post, req);
}

TEST(backpressure_pauses_reading_until_responses_go_out)
{
    /* One request's charge (frame + overhead) reaches the bound: one at a time. */
    struct sl_net_conf conf = {.threads = 1, .max_inflight_bytes = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_HOLD_ALL, &port);
    int a = cli_connect(port), b = cli_connect(port);
    enum { N = 10 };
    uint8_t buf[N * 40];
    size_t off = 0;
    for (int i = 0; i < N; i++)
        make_frame(buf, &off, 30, (uint32_t)i); /* first byte i, never 'E' */
    send_all(a, buf, off);
    CHECK(wait_until(&T.dispatched, 1, DEADLINE_MS));
    echo_roundtrip(b);
    CHECK_EQ(atomic_load(&T.dispatched), 2); /* a's 1 + b's 1: a is paused */
    int seen = 2;
    for (int i = 1; i < N; i++) {
        release_held_one();
        seen++;
        CHECK(wait_until(&T.dispatched, seen, DEADLINE_MS));
        echo_roundtrip(b);
        seen++;
        CHECK_EQ(atomic_load(&T.dispatched), seen);
    }
    release_held_one();
    for (int i = 0; i < N; i++) {
        uint8_t *resp;
        size_t len;
        CHECK(recv_frame(a, &resp, &len) == 0);
        CHECK_EQ(len, 30);
        CHECK_EQ(resp[0], i);
        free(resp);
    }
    close(a);
    close(b);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(idle_connection_is_closed_but_not_one_with_a_request_in_flight)
{
    struct sl_net_conf conf = {.threads = 1, .idle_timeout_ms = 300};
    int port;
    struct sl_net *net = start_net(&conf, MODE_HOLD_ALL, &port);
    int busy = cli_connect(port);
    uint8_t buf[] = {0, 0, 0, 1, 'h'};
    send_all(busy, buf, sizeof(buf));
    CHECK(wait_until(&T.dispatched, 1, DEADLINE_MS));
    int64_t t0 = sl_clock_mono_ms();
    int idle = cli_connect(port);
    CHECK(wait_closed(idle, DEADLINE_MS));
    CHECK(sl_clock_mono_ms() - t0 >= 250);
    /* Two more sweeps: busy must survive them. */
    int idle2 = cli_connect(port);
    CHECK(wait_closed(idle2, DEADLINE_MS));
    release_held_one();
    uint8_t *resp;
    size_t len;
    CHECK(recv_frame(busy, &resp, &len) == 0);
    CHECK_EQ(resp[0], 'h');
    free(resp);
    close(idle);
    close(idle2);
    close(busy);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

static void send_delay_frame(int fd, uint32_t ms)
{
    uint8_t buf[8];
    put_be32(buf, 4);
    put_be32(buf + 4, ms);
    send_all(fd, buf, 8);
}

TEST(stop_lets_a_request_in_flight_finish_within_grace)
{
    struct sl_net_conf conf = {.threads = 2};
    int port;
    struct sl_net *net = start_net(&conf, MODE_TIMER, &port);
    int fd = cli_connect(port), idle = cli_connect(port);
    send_delay_frame(fd, 300);
    CHECK(wait_until(&T.dispatched, 1, DEADLINE_MS));
    int64_t t0 = sl_clock_mono_ms();
    sl_net_stop(net, 5000);
    int64_t took = sl_clock_mono_ms() - t0;
    CHECK(took < 4000);
    CHECK_EQ(atomic_load(&T.finished), 1);
    uint8_t *resp;
    size_t len;
    CHECK(recv_frame(fd, &resp, &len) == 0); /* sent before the close */
    CHECK_EQ(len, 4);
    free(resp);
    CHECK(wait_closed(fd, DEADLINE_MS));
    CHECK(wait_closed(idle, DEADLINE_MS));
    close(fd);
    close(idle);
    sl_net_free(net);
}

TEST(stop_is_bounded_when_a_request_outlives_grace)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_TIMER, &port);
    int fd = cli_connect(port);
    send_delay_frame(fd, 60000);
    CHECK(wait_until(&T.dispatched, 1, DEADLINE_MS));
    int64_t t0 = sl_clock_mono_ms();
    sl_net_stop(net, 200);
    int64_t took = sl_clock_mono_ms() - t0;
    CHECK(took >= 150 && took < 3000);
    CHECK_EQ(atomic_load(&T.finished), 1); /* its timer fired at shutdown */
    CHECK(wait_closed(fd, DEADLINE_MS));
    close(fd);
    sl_net_free(net);
}

/* True when a fresh connection gets an echo back (not closed). */
static bool echo_works(int port)
{
    int fd = cli_connect(port);
    uint8_t buf[] = {0, 0, 0, 1, 'q'};
    send_all(fd, buf, sizeof(buf));
    uint8_t *resp;
    size_t len;
    bool ok = recv_frame(fd, &resp, &len) == 0;
    if (ok)
        free(resp);
    close(fd);
    return ok;
}

static void check_limit(struct sl_net_conf *conf)
{
    int port;
    struct sl_net *net = start_net(conf, MODE_ECHO, &port);
    int a = cli_connect(port), b = cli_connect(port);
    echo_roundtrip(a);
    echo_roundtrip(b);
    int c = cli_connect(port);
    CHECK(wait_closed(c, DEADLINE_MS));
    echo_roundtrip(a);
    close(c);
    close(b);
    /* b's slot frees once the server has seen the close. */
    int64_t deadline = sl_clock_mono_ms() + DEADLINE_MS;
    bool ok = false;
    while (!ok && sl_clock_mono_ms() < deadline)
        ok = echo_works(port);
    CHECK(ok);
    close(a);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(max_connections_closes_new_connections_over_it)
{
    struct sl_net_conf conf = {.threads = 2, .max_connections = 2};
    check_limit(&conf);
}

TEST(max_connections_per_ip_closes_new_connections_over_it)
{
    struct sl_net_conf conf = {.threads = 2, .max_connections_per_ip = 2};
    check_limit(&conf);
}

TEST(listen_rejects_after_start_and_reports_port)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_ECHO, &port);
    int p2 = 0;
    CHECK(sl_net_listen(net, "127.0.0.1", 0, NULL, &p2) == -EINVAL);
    CHECK_EQ(sl_net_loop_count(net), 1);
    CHECK(sl_net_loop(net, 0) != NULL);
    sl_net_free(net); /* stops too */
}

TEST(announced_huge_frame_allocates_only_what_arrives)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_ECHO, &port);
    int a = cli_connect(port), b = cli_connect(port);
    echo_roundtrip(b); /* both attached, loop warmed up */
    size_t before = __sanitizer_get_current_allocated_bytes();
    uint8_t buf[4 + 1000];
    put_be32(buf, 100u << 20); /* announces 100 MiB, sends 1000 bytes */
    memset(buf + 4, 'x', 1000);
    send_all(a, buf, sizeof(buf));
    for (int i = 0; i < 3; i++)
        echo_roundtrip(b);
    size_t after = __sanitizer_get_current_allocated_bytes();
    CHECK(after < before + (1u << 20));
    CHECK_EQ(atomic_load(&T.dispatched), 4);
    close(a);
    close(b);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(idle_crowd_and_slow_loris_do_not_stall_others)
{
    struct sl_net_conf conf = {.threads = 2};
    int port;
    struct sl_net *net = start_net(&conf, MODE_ECHO, &port);
    enum { IDLE = 300 };
    int idle[IDLE];
    for (int i = 0; i < IDLE; i++)
        idle[i] = cli_connect(port);
    int loris = cli_connect(port), loris2 = cli_connect(port);
    uint8_t part[] = {0, 0, 1, 0, 'a', 'b'}; /* 256-byte frame, 2 bytes of it */
    send_all(loris, part, sizeof(part));
    uint8_t big[] = {0, 0x10, 0, 0, 'a'}; /* 1 MiB frame, 1 byte of it */
    send_all(loris2, big, sizeof(big));
    int fd = cli_connect(port);
    for (int i = 0; i < 50; i++) {
        echo_roundtrip(fd);
        send_all(loris, "c", 1); /* one more byte now and then */
    }
    CHECK_EQ(atomic_load(&T.dispatched), 50);
    close(fd);
    close(loris);
    close(loris2);
    for (int i = 0; i < IDLE; i++)
        close(idle[i]);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(large_responses_to_a_slow_reader_do_not_block_others)
{
    struct sl_net_conf conf = {.threads = 1};
    int port;
    struct sl_net *net = start_net(&conf, MODE_BIGRESP, &port);
    int slow = cli_connect(port), other = cli_connect(port);
    uint8_t reqs[] = {0, 0, 0, 1, 'B', 0, 0, 0, 1, 'B', 0, 0, 0, 1, 'B'};
    send_all(slow, reqs, sizeof(reqs));
    CHECK(wait_until(&T.dispatched, 3, DEADLINE_MS));
    for (int i = 0; i < 5; i++)
        echo_roundtrip(other); /* served while 24 MiB wait for slow */
    for (int r = 0; r < 3; r++) {
        uint8_t *resp;
        size_t len;
        CHECK(recv_frame(slow, &resp, &len) == 0);
        CHECK_EQ(len, 8u << 20);
        for (size_t j = 0; j < len; j++)
            if (resp[j] != (uint8_t)(j % 251))
                CHECK(!"response bytes differ");
        free(resp);
    }
    close(slow);
    close(other);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}
