/*
 * test_net_limits.c - max.connection.creation.rate in the network layer over
 * real sockets on 127.0.0.1: connections over the rate are throttled (they
 * wait in the accept backlog and are served later), never refused; the burst
 * is one second's worth; 0 means unlimited; a negative rate is -EINVAL.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/net.h"
#include "testlib.h"

#define DEADLINE_MS 15000

static atomic_int served;

static void handler(void *ctx, struct sl_req *req)
{
    (void)ctx;
    CHECK(sl_obuf_put(&req->out, req->frame, req->frame_len) == 0);
    sl_req_respond(req);
    atomic_fetch_add(&served, 1);
}

static struct sl_net *start_net(struct sl_net_conf *conf, int *port)
{
    atomic_store(&served, 0);
    alarm(60);
    struct sl_net *net = NULL;
    CHECK(sl_net_new(conf, handler, NULL, &net) == 0);
    CHECK(sl_net_listen(net, "127.0.0.1", 0, NULL, port) == 0);
    CHECK(sl_net_start(net) == 0);
    return net;
}

/* connect() completes in the kernel (backlog) even when the broker does not
 * accept yet, so the moment a connection is served is the moment its echo
 * comes back. */
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

static void send_ping(int fd)
{
    uint8_t buf[] = {0, 0, 0, 2, 'E', '!'};
    CHECK(send(fd, buf, sizeof(buf), MSG_NOSIGNAL) == (ssize_t)sizeof(buf));
}

/* Waits for the 6-byte echo on fd; its arrival time in ms, or -1 on EOF or deadline. */
static int64_t wait_echo(int fd, int64_t deadline)
{
    uint8_t buf[6];
    size_t got = 0;
    while (got < sizeof(buf)) {
        int64_t left = deadline - sl_clock_mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        ssize_t r = recv(fd, buf + got, sizeof(buf) - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    CHECK(buf[4] == 'E' && buf[5] == '!');
    return sl_clock_mono_ms();
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Opens n connections at once, each sends a ping; returns the sorted serve times
 * relative to the start in t[] (all must be served: throttled, not refused). */
static void open_n(int port, int n, int64_t *t)
{
    int *fds = calloc((size_t)n, sizeof(int));
    CHECK(fds);
    int64_t t0 = sl_clock_mono_ms();
    for (int i = 0; i < n; i++) {
        fds[i] = cli_connect(port);
        send_ping(fds[i]);
    }
    int64_t deadline = t0 + DEADLINE_MS;
    for (int i = 0; i < n; i++) {
        int64_t at = wait_echo(fds[i], deadline);
        CHECK(at >= 0); /* not refused, not closed */
        t[i] = at - t0;
        close(fds[i]);
    }
    free(fds);
    qsort(t, (size_t)n, sizeof(t[0]), cmp64);
}

TEST(creation_rate_throttles_accepts_but_refuses_none)
{
    enum { RATE = 20, N = 50 };
    struct sl_net_conf conf = {.threads = 2, .max_connection_creation_rate = RATE};
    int port;
    struct sl_net *net = start_net(&conf, &port);
    int64_t t[N];
    open_n(port, N, t);
    /* the first second's worth are served at once (burst) */
    CHECK(t[RATE - 1] < 500);
    /* the rest at RATE per second: connection RATE + k no earlier than k / RATE s */
    for (int k = 1; RATE + k - 1 < N; k++)
        CHECK(t[RATE + k - 1] >= (int64_t)k * 1000 / RATE - 60);
    /* 30 over the burst at 20/s: about 1.5 s, not much more */
    CHECK(t[N - 1] >= 1400);
    CHECK(t[N - 1] < 4000);
    CHECK_EQ(atomic_load(&served), N);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(creation_rate_zero_is_unlimited)
{
    enum { N = 100 };
    struct sl_net_conf conf = {.threads = 2};
    int port;
    struct sl_net *net = start_net(&conf, &port);
    int64_t t[N];
    open_n(port, N, t);
    CHECK(t[N - 1] < 2000);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(creation_rate_refills_after_a_quiet_second)
{
    enum { RATE = 10 };
    struct sl_net_conf conf = {.threads = 1, .max_connection_creation_rate = RATE};
    int port;
    struct sl_net *net = start_net(&conf, &port);
    int64_t t[RATE];
    open_n(port, RATE, t);
    CHECK(t[RATE - 1] < 500);
    usleep(1100 * 1000); /* the burst credit refills at RATE per second */
    open_n(port, RATE, t);
    CHECK(t[RATE - 1] < 500);
    sl_net_stop(net, 1000);
    sl_net_free(net);
}

TEST(creation_rate_negative_is_einval)
{
    struct sl_net_conf conf = {.threads = 1, .max_connection_creation_rate = -1};
    struct sl_net *net = NULL;
    CHECK_EQ(sl_net_new(&conf, handler, NULL, &net), -EINVAL);
    CHECK(net == NULL);
}
