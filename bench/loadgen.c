/* loadgen.c - Sluice's load generator, a plain librdkafka client.
 *
 * The same program drives Sluice, any Kafka broker, and librdkafka's in-memory
 * mock cluster (the client-bound ceiling: no network stack beyond loopback, no
 * disk). Every scenario prints one JSON object on stdout; diagnostics go to
 * stderr. Every wait is bounded (timeout=SECONDS per scenario).
 *
 * Usage:  loadgen [GLOBAL key=value...] SCENARIO [key=value...] [SCENARIO ...]
 *
 * Globals:  bootstrap=HOST:PORT  or  mock=BROKERS (start an in-process mock
 *           cluster that lives for the whole run), label=TEXT (copied into JSON),
 *           budget=SECONDS (skip the scenarios that would start after it),
 *           fetchwait=MS (consumer fetch.wait.max.ms, default 100),
 *           ssl_ca=PEM (connect with security.protocol=ssl, trusting that CA)
 * A CreateTopics that times out or fails as a whole is not retried by later
 * create scenarios; consume never waits for more than this run produced.
 * Scenarios:
 *   create   topic=T parts=P | prefix=P first=N n=N parts=P   (admin CreateTopics)
 *   produce  topic=T parts=P size=B count=N acks=1|-1 linger=MS batch=BYTES
 *   consume  topic=T parts=P count=N            (from the beginning, until N read)
 *   e2e      topic=T parts=P size=B rate=MSG/S seconds=S warmup=S acks=A linger=MS
 *   offsets  topic=T parts=P                    (sum of high watermarks)
 *   spawn    port=P reps=N cmd="PROG ARG..."    (startup time to first accepted
 *            connection, median of N; cmd is split on spaces)
 *   serve    seconds=S   (with mock=N: print "listening PLAINTEXT <addr>" and
 *            "ready" like sluiced, then keep the mock cluster up; for testing)
 * Common:    timeout=SECONDS (default 60)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAXKV 32

struct kv {
    const char *k, *v;
};
struct scen {
    const char *name;
    struct kv kv[MAXKV];
    int nkv;
};

static const char *g_bootstrap;
static const char *g_label = "";
static const char *g_fetch_wait = "100";
static const char *g_ssl_ca;       /* ssl_ca=PEM: TLS to the brokers */
static const char *g_id = ""; /* id=... of the scenario running */
static char g_create_failed[300];  /* a CreateTopics that timed out or is unsupported */
static int64_t g_budget_end;       /* budget=SECONDS: skip scenarios after this */

/* Messages acknowledged per topic in this run: consume waits for no more. */
static struct {
    char topic[128];
    long long delivered;
} g_produced[64];
static int g_nproduced;

static void note_produced(const char *topic, long long n)
{
    for (int i = 0; i < g_nproduced; i++)
        if (!strcmp(g_produced[i].topic, topic)) {
            g_produced[i].delivered += n;
            return;
        }
    if (g_nproduced < 64) {
        snprintf(g_produced[g_nproduced].topic, sizeof g_produced[0].topic, "%s", topic);
        g_produced[g_nproduced++].delivered = n;
    }
}

static long long produced(const char *topic)
{
    for (int i = 0; i < g_nproduced; i++)
        if (!strcmp(g_produced[i].topic, topic)) return g_produced[i].delivered;
    return -1;
}
static rd_kafka_t *g_mock_rk;
static rd_kafka_mock_cluster_t *g_mock;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *opt(const struct scen *s, const char *k, const char *def)
{
    for (int i = 0; i < s->nkv; i++)
        if (!strcmp(s->kv[i].k, k)) return s->kv[i].v;
    return def;
}
static long long opti(const struct scen *s, const char *k, long long def)
{
    const char *v = opt(s, k, NULL);
    return v ? strtoll(v, NULL, 0) : def;
}
static double optd(const struct scen *s, const char *k, double def)
{
    const char *v = opt(s, k, NULL);
    return v ? strtod(v, NULL) : def;
}

/* JSON-escape into a static buffer (error strings only). */
static const char *jstr(const char *in)
{
    static char buf[4][512];
    static int n;
    char *o = buf[n++ & 3];
    size_t j = 0;
    for (; in && *in && j < 500; in++) {
        unsigned char c = (unsigned char)*in;
        if (c == '"' || c == '\\') {
            o[j++] = '\\';
            o[j++] = (char)c;
        } else if (c < 0x20) {
            o[j++] = ' ';
        } else {
            o[j++] = (char)c;
        }
    }
    o[j] = 0;
    return o;
}

static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void logcb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 4 || getenv("LOADGEN_DEBUG")) fprintf(stderr, "loadgen: rdkafka %s: %s\n", fac, buf);
}

static int set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "loadgen: %s=%s: %s\n", k, v, err);
        return -1;
    }
    return 0;
}

static rd_kafka_conf_t *base_conf(void)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    set(c, "bootstrap.servers", g_bootstrap);
    set(c, "client.id", "sluice-loadgen");
    set(c, "socket.timeout.ms", "10000");
    set(c, "api.version.request.timeout.ms", "5000");
    set(c, "topic.metadata.refresh.interval.ms", "5000");
    set(c, "log.connection.close", "false");
    if (g_ssl_ca) {
        set(c, "security.protocol", "ssl");
        set(c, "ssl.ca.location", g_ssl_ca);
    }
    if (getenv("LOADGEN_DEBUG")) set(c, "debug", getenv("LOADGEN_DEBUG"));
    rd_kafka_conf_set_log_cb(c, logcb);
    return c;
}

static rd_kafka_t *mk(rd_kafka_type_t type, rd_kafka_conf_t *c)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) fprintf(stderr, "loadgen: rd_kafka_new: %s\n", err);
    return rk;
}

/* ---------------------------------------------------------------- create */

static int create_topics(const struct scen *s, char *errbuf, size_t errlen, int *created)
{
    int parts = (int)opti(s, "parts", 1);
    int timeout = (int)opti(s, "timeout", 60);
    const char *topic = opt(s, "topic", NULL);
    const char *prefix = opt(s, "prefix", "t-");
    int first = (int)opti(s, "first", 0), n = topic ? 1 : (int)opti(s, "n", 1);
    int chunk = (int)opti(s, "chunk", 100);
    *created = 0;
    errbuf[0] = 0;

    if (g_mock) {
        for (int i = 0; i < n; i++) {
            char name[256];
            if (topic)
                snprintf(name, sizeof name, "%s", topic);
            else
                snprintf(name, sizeof name, "%s%05d", prefix, first + i);
            rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(g_mock, name, parts, 1);
            if (e) {
                snprintf(errbuf, errlen, "%s", rd_kafka_err2str(e));
                return -1;
            }
            (*created)++;
        }
        return 0;
    }

    if (g_create_failed[0]) {
        snprintf(errbuf, errlen, "skipped, earlier %s", g_create_failed);
        return -1;
    }
    rd_kafka_conf_t *c = base_conf();
    rd_kafka_t *rk = mk(RD_KAFKA_PRODUCER, c);
    if (!rk) {
        snprintf(errbuf, errlen, "client creation failed");
        return -1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int64_t deadline = now_ns() + (int64_t)timeout * 1000000000LL;
    int rc = 0;
    for (int base = 0; base < n && rc == 0; base += chunk) {
        int m = n - base < chunk ? n - base : chunk;
        rd_kafka_NewTopic_t **nt = calloc((size_t)m, sizeof *nt);
        for (int i = 0; i < m; i++) {
            char name[256], e[256];
            if (topic)
                snprintf(name, sizeof name, "%s", topic);
            else
                snprintf(name, sizeof name, "%s%05d", prefix, first + base + i);
            nt[i] = rd_kafka_NewTopic_new(name, parts, 1, e, sizeof e);
        }
        rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        char e[256];
        int tmo = timeout * 1000 < 15000 ? timeout * 1000 : 15000;
        rd_kafka_AdminOptions_set_request_timeout(ao, tmo, e, sizeof e);
        rd_kafka_AdminOptions_set_operation_timeout(ao, tmo, e, sizeof e);
        rd_kafka_CreateTopics(rk, nt, (size_t)m, ao, q);
        rd_kafka_event_t *ev = NULL;
        while (!ev && now_ns() < deadline) ev = rd_kafka_queue_poll(q, 200);
        if (!ev) {
            snprintf(errbuf, errlen, "CreateTopics: no answer within %ds", timeout);
            snprintf(g_create_failed, sizeof g_create_failed, "%s", errbuf);
            rc = -1;
        } else if (rd_kafka_event_error(ev)) {
            snprintf(errbuf, errlen, "CreateTopics: %s: %s",
                     rd_kafka_err2name(rd_kafka_event_error(ev)), rd_kafka_event_error_string(ev));
            snprintf(g_create_failed, sizeof g_create_failed, "%s", errbuf);
            rc = -1;
        } else {
            const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
            size_t cnt;
            const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
            for (size_t i = 0; i < cnt; i++) {
                rd_kafka_resp_err_t te = rd_kafka_topic_result_error(tr[i]);
                if (te == RD_KAFKA_RESP_ERR_NO_ERROR || te == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                    (*created)++;
                } else if (rc == 0) {
                    const char *es = rd_kafka_topic_result_error_string(tr[i]);
                    snprintf(errbuf, errlen, "CreateTopics %s: %s%s%s", rd_kafka_topic_result_name(tr[i]),
                             rd_kafka_err2name(te), es ? ": " : "", es ? es : "");
                    rc = -1;
                }
            }
        }
        if (ev) rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(ao);
        rd_kafka_NewTopic_destroy_array(nt, (size_t)m);
        free(nt);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

static void sc_create(const struct scen *s)
{
    char err[600];
    int created;
    int64_t t0 = now_ns();
    int rc = create_topics(s, err, sizeof err, &created);
    double secs = (double)(now_ns() - t0) / 1e9;
    emit("{\"scenario\":\"create\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":%s,\"topics\":%d,\"parts\":%lld,\"seconds\":%.3f,"
         "\"error\":\"%s\"}",
         jstr(g_label), jstr(g_id), rc == 0 ? "true" : "false", created, opti(s, "parts", 1), secs, jstr(err));
}

/* ---------------------------------------------------------------- produce */

struct pstate {
    atomic_llong delivered, errors, bytes;
    char first_err[256];
    atomic_int have_err;
    double *ack_us; /* e2e only: per sequence number, acknowledgement latency */
    long long total;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct pstate *ps = opaque;
    if (m->err) {
        if (!atomic_exchange(&ps->have_err, 1))
            snprintf(ps->first_err, sizeof ps->first_err, "%s: %s", rd_kafka_err2name(m->err),
                     rd_kafka_err2str(m->err));
        atomic_fetch_add(&ps->errors, 1);
    } else {
        atomic_fetch_add(&ps->delivered, 1);
        atomic_fetch_add(&ps->bytes, (long long)m->len);
        if (ps->ack_us && m->len >= 16) {
            int64_t sent;
            long long seq;
            memcpy(&sent, m->payload, 8);
            memcpy(&seq, (char *)m->payload + 8, 8);
            if (seq >= 0 && seq < ps->total) ps->ack_us[seq] = (double)(now_ns() - sent) / 1000.0;
        }
    }
}

static rd_kafka_t *mk_producer(const struct scen *s, struct pstate *ps, const char *linger_def)
{
    rd_kafka_conf_t *c = base_conf();
    char buf[64];
    set(c, "acks", opt(s, "acks", "1"));
    set(c, "linger.ms", opt(s, "linger", linger_def));
    set(c, "batch.size", opt(s, "batch", "1000000"));
    set(c, "compression.codec", "none");
    set(c, "enable.idempotence", opt(s, "idempotence", "false"));
    set(c, "queue.buffering.max.messages", "1000000");
    set(c, "queue.buffering.max.kbytes", "1048576");
    set(c, "max.in.flight.requests.per.connection", opt(s, "inflight", "5"));
    snprintf(buf, sizeof buf, "%lld", opti(s, "timeout", 60) * 1000);
    set(c, "message.timeout.ms", buf);
    set(c, "request.timeout.ms", "15000");
    rd_kafka_conf_set_opaque(c, ps);
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    return mk(RD_KAFKA_PRODUCER, c);
}

static void sc_produce(const struct scen *s)
{
    const char *topic = opt(s, "topic", "bench");
    int parts = (int)opti(s, "parts", 1);
    long long size = opti(s, "size", 1024), count = opti(s, "count", 100000);
    int timeout = (int)opti(s, "timeout", 60);
    struct pstate ps = {0};
    char err[300] = "";
    rd_kafka_t *rk = mk_producer(s, &ps, "5");
    if (!rk) {
        emit("{\"scenario\":\"produce\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":false,\"error\":\"client creation failed\"}",
             jstr(g_label), jstr(g_id));
        return;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    char *payload = malloc((size_t)size);
    for (long long i = 0; i < size; i++) payload[i] = (char)('a' + i % 26);

    int64_t t0 = now_ns(), deadline = t0 + (int64_t)timeout * 1000000000LL;
    long long sent = 0;
    int timed_out = 0;
    while (sent < count) {
        /* Payload is shared and never changes: no copy, no free. */
        if (rd_kafka_produce(rkt, (int32_t)(sent % parts), 0, payload, (size_t)size, NULL, 0, NULL) == -1) {
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 1);
            } else {
                snprintf(err, sizeof err, "produce(): %s", rd_kafka_err2str(e));
                break;
            }
        } else {
            sent++;
            if ((sent & 1023) == 0) rd_kafka_poll(rk, 0);
        }
        if ((sent & 1023) == 0 && now_ns() > deadline) {
            timed_out = 1;
            break;
        }
        /* A broker that refuses everything: stop early instead of pushing on. */
        if (atomic_load(&ps.errors) > 1000 && atomic_load(&ps.delivered) == 0) break;
    }
    while (atomic_load(&ps.delivered) + atomic_load(&ps.errors) < sent) {
        if (now_ns() > deadline) {
            timed_out = 1;
            break;
        }
        rd_kafka_poll(rk, 50);
    }
    int64_t t1 = now_ns();
    if (timed_out) {
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(rk, 100);
    }
    long long d = atomic_load(&ps.delivered), ne = atomic_load(&ps.errors);
    double secs = (double)(t1 - t0) / 1e9;
    if (!err[0] && ps.have_err) snprintf(err, sizeof err, "%s", ps.first_err);
    if (!err[0] && timed_out) snprintf(err, sizeof err, "timeout after %ds", timeout);
    note_produced(topic, d);
    int ok = d == count && ne == 0;
    emit("{\"scenario\":\"produce\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":%s,\"topic\":\"%s\",\"acks\":%s,\"size\":%lld,"
         "\"parts\":%d,\"linger_ms\":%s,\"count\":%lld,\"delivered\":%lld,\"errors\":%lld,\"seconds\":%.4f,"
         "\"msgs_per_s\":%.1f,\"mib_per_s\":%.2f,\"error\":\"%s\"}",
         jstr(g_label), jstr(g_id), ok ? "true" : "false", jstr(topic), opt(s, "acks", "1"), size, parts,
         opt(s, "linger", "5"), count, d, ne, secs, secs > 0 ? d / secs : 0,
         secs > 0 ? (double)d * (double)size / secs / 1048576.0 : 0, jstr(err));
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(payload);
}

/* ---------------------------------------------------------------- consume */

static rd_kafka_t *mk_consumer(int eof)
{
    rd_kafka_conf_t *c = base_conf();
    set(c, "enable.partition.eof", eof ? "true" : "false");
    set(c, "fetch.wait.max.ms", g_fetch_wait);
    set(c, "fetch.min.bytes", "1");
    set(c, "fetch.message.max.bytes", "1048576");
    set(c, "queued.min.messages", "100000");
    set(c, "queued.max.messages.kbytes", "262144");
    set(c, "enable.auto.commit", "false");
    set(c, "enable.auto.offset.store", "false");
    return mk(RD_KAFKA_CONSUMER, c);
}

static void sc_consume(const struct scen *s)
{
    const char *topic = opt(s, "topic", "bench");
    int parts = (int)opti(s, "parts", 1);
    long long count = opti(s, "count", 100000);
    int timeout = (int)opti(s, "timeout", 60);
    long long have = produced(topic);
    if (have == 0) {
        emit("{\"scenario\":\"consume\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":false,\"topic\":\"%s\","
             "\"error\":\"skipped: nothing was produced to %s in this run\"}",
             jstr(g_label), jstr(g_id), jstr(topic), jstr(topic));
        return;
    }
    long long asked = count;
    if (have > 0 && have < count && !opti(s, "rewind", 0)) count = have;
    /* rewind=1: on reaching the end of a partition, seek back to its start and
     * read it again. For the mock cluster, which keeps only the last ~5 MiB of
     * each partition: the client-side consume ceiling without a 5 MiB cap. */
    int rewind = (int)opti(s, "rewind", 0);
    long long rewinds = 0;
    char err[300] = "";
    rd_kafka_t *rk = mk_consumer(rewind);
    if (!rk) {
        emit("{\"scenario\":\"consume\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":false,\"error\":\"client creation failed\"}",
             jstr(g_label), jstr(g_id));
        return;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int64_t tstart = now_ns(), deadline = tstart + (int64_t)timeout * 1000000000LL, t0 = 0, t1 = 0;
    for (int p = 0; p < parts; p++) rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, q);
    rd_kafka_message_t *msgs[1024];
    long long got = 0, bytes = 0;
    while (got < count && now_ns() < deadline) {
        /* librdkafka 2.x waits for a full batch or the timeout: keep it short. */
        ssize_t n = rd_kafka_consume_batch_queue(q, 10, msgs, 1024);
        for (ssize_t i = 0; i < n; i++) {
            if (msgs[i]->err) {
                if (msgs[i]->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    if (rewind) {
                        rd_kafka_seek(rkt, msgs[i]->partition, RD_KAFKA_OFFSET_BEGINNING, 0);
                        rewinds++;
                    }
                } else if (!err[0]) {
                    snprintf(err, sizeof err, "%s: %s", rd_kafka_err2name(msgs[i]->err),
                             rd_kafka_message_errstr(msgs[i]));
                }
            } else {
                if (!t0) t0 = now_ns();
                got++;
                bytes += (long long)msgs[i]->len;
            }
            rd_kafka_message_destroy(msgs[i]);
        }
    }
    t1 = now_ns();
    if (got < count && !err[0]) snprintf(err, sizeof err, "timeout after %ds", timeout);
    if (count < asked && !err[0])
        snprintf(err, sizeof err, "read all, but only %lld of %lld messages were produced", count, asked);
    for (int p = 0; p < parts; p++) rd_kafka_consume_stop(rkt, p);
    double secs = t0 ? (double)(t1 - t0) / 1e9 : 0;
    emit("{\"scenario\":\"consume\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":%s,\"topic\":\"%s\",\"parts\":%d,\"count\":%lld,"
         "\"received\":%lld,\"bytes\":%lld,\"first_msg_after_s\":%.4f,\"seconds\":%.4f,\"msgs_per_s\":%.1f,"
         "\"mib_per_s\":%.2f,\"rewinds\":%lld,\"error\":\"%s\"}",
         jstr(g_label), jstr(g_id), got >= count && count == asked ? "true" : "false", jstr(topic), parts, count,
         got, bytes,
         t0 ? (double)(t0 - tstart) / 1e9 : -1.0, secs, secs > 0 ? got / secs : 0,
         secs > 0 ? (double)bytes / secs / 1048576.0 : 0, rewinds, jstr(err));
    rd_kafka_queue_destroy(q);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

/* ---------------------------------------------------------------- e2e */

struct e2e {
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    long long total, warm;
    int64_t deadline;
    double *lat_us; /* indexed by sequence number, <0 = not received */
    atomic_llong received;
    atomic_int stop;
    char err[300];
};

static void *e2e_consumer(void *arg)
{
    struct e2e *e = arg;
    while (!atomic_load(&e->stop) && atomic_load(&e->received) < e->total && now_ns() < e->deadline) {
        /* One message at a time: the batch call waits to fill its batch. */
        rd_kafka_message_t *m = rd_kafka_consume_queue(e->q, 20);
        int64_t t = now_ns();
        if (m) {
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && !e->err[0])
                    snprintf(e->err, sizeof e->err, "consume: %s", rd_kafka_err2name(m->err));
            } else if (m->len >= 16) {
                int64_t sent;
                long long seq;
                memcpy(&sent, m->payload, 8);
                memcpy(&seq, (char *)m->payload + 8, 8);
                if (seq >= 0 && seq < e->total && e->lat_us[seq] < 0) {
                    e->lat_us[seq] = (double)(t - sent) / 1000.0;
                    atomic_fetch_add(&e->received, 1);
                }
            }
            rd_kafka_message_destroy(m);
        }
    }
    return NULL;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void sc_e2e(const struct scen *s)
{
    const char *topic = opt(s, "topic", "bench-e2e");
    int parts = (int)opti(s, "parts", 1);
    long long size = opti(s, "size", 1024);
    double rate = optd(s, "rate", 5000), seconds = optd(s, "seconds", 10), warmup = optd(s, "warmup", 1);
    int timeout = (int)opti(s, "timeout", 60);
    if (size < 16) size = 16;
    struct e2e e = {0};
    e.total = (long long)(rate * (seconds + warmup));
    e.warm = (long long)(rate * warmup);
    e.lat_us = malloc(sizeof(double) * (size_t)e.total);
    for (long long i = 0; i < e.total; i++) e.lat_us[i] = -1;
    e.deadline = now_ns() + (int64_t)timeout * 1000000000LL;

    struct pstate ps = {0};
    ps.total = e.total;
    ps.ack_us = malloc(sizeof(double) * (size_t)e.total);
    for (long long i = 0; i < e.total; i++) ps.ack_us[i] = -1;
    rd_kafka_t *prk = mk_producer(s, &ps, "0");
    e.rk = mk_consumer(0);
    if (!prk || !e.rk) {
        emit("{\"scenario\":\"e2e\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":false,\"error\":\"client creation failed\"}",
             jstr(g_label), jstr(g_id));
        return;
    }
    rd_kafka_topic_t *ckt = rd_kafka_topic_new(e.rk, topic, NULL);
    e.q = rd_kafka_queue_new(e.rk);
    for (int p = 0; p < parts; p++) rd_kafka_consume_start_queue(ckt, p, RD_KAFKA_OFFSET_BEGINNING, e.q);
    pthread_t th;
    pthread_create(&th, NULL, e2e_consumer, &e);

    rd_kafka_topic_t *pkt = rd_kafka_topic_new(prk, topic, NULL);
    char *payload = calloc(1, (size_t)size);
    int64_t t0 = now_ns();
    long long i;
    for (i = 0; i < e.total; i++) {
        int64_t due = t0 + (int64_t)((double)i * 1e9 / rate);
        struct timespec ts = {(time_t)(due / 1000000000LL), (long)(due % 1000000000LL)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
        /* Latency is counted from the intended send time (no coordinated omission). */
        memcpy(payload, &due, 8);
        memcpy(payload + 8, &i, 8);
        while (rd_kafka_produce(pkt, (int32_t)(i % parts), RD_KAFKA_MSG_F_COPY, payload, (size_t)size, NULL, 0,
                                NULL) == -1 &&
               now_ns() < e.deadline)
            rd_kafka_poll(prk, 1);
        rd_kafka_poll(prk, 0);
        if (now_ns() > e.deadline) break;
        if (atomic_load(&ps.errors) > 100 && atomic_load(&ps.delivered) == 0) break;
    }
    long long sent = i;
    while (atomic_load(&ps.delivered) + atomic_load(&ps.errors) < sent && now_ns() < e.deadline)
        rd_kafka_poll(prk, 20);
    /* Give the consumer until the deadline (or 5 s after the last ack) to catch up. */
    int64_t catchup = now_ns() + 5000000000LL;
    while (atomic_load(&e.received) < sent && now_ns() < e.deadline && now_ns() < catchup) usleep(10000);
    atomic_store(&e.stop, 1);
    pthread_join(th, NULL);

    /* Percentiles over the measured (post-warm-up) messages. */
    long long n = 0, lost = 0;
    double *v = malloc(sizeof(double) * (size_t)(e.total + 1));
    for (long long k = e.warm; k < sent; k++) {
        if (e.lat_us[k] >= 0)
            v[n++] = e.lat_us[k];
        else
            lost++;
    }
    long long na = 0;
    double *va = malloc(sizeof(double) * (size_t)(e.total + 1));
    for (long long k = e.warm; k < sent; k++)
        if (ps.ack_us[k] >= 0) va[na++] = ps.ack_us[k];
    qsort(v, (size_t)n, sizeof(double), cmpd);
    qsort(va, (size_t)na, sizeof(double), cmpd);
#define PCT(p) (n ? v[(long long)((double)(n - 1) * (p))] : -1.0)
#define APCT(p) (na ? va[(long long)((double)(na - 1) * (p))] : -1.0)
    char err[300] = "";
    if (ps.have_err)
        snprintf(err, sizeof err, "%s", ps.first_err);
    else if (e.err[0])
        snprintf(err, sizeof err, "%s", e.err);
    else if (lost)
        snprintf(err, sizeof err, "%lld messages not received in time", lost);
    int ok = n > 0 && lost == 0 && atomic_load(&ps.errors) == 0;
    emit("{\"scenario\":\"e2e\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":%s,\"topic\":\"%s\",\"parts\":%d,\"size\":%lld,"
         "\"acks\":%s,\"linger_ms\":%s,\"rate\":%.0f,\"seconds\":%.1f,\"measured\":%lld,\"lost\":%lld,"
         "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
         "\"ack_p50_us\":%.1f,\"ack_p99_us\":%.1f,\"ack_max_us\":%.1f,\"error\":\"%s\"}",
         jstr(g_label), jstr(g_id), ok ? "true" : "false", jstr(topic), parts, size, opt(s, "acks", "1"), opt(s, "linger", "0"),
         rate, seconds, n, lost, PCT(0.50), PCT(0.99), PCT(0.999), n ? v[n - 1] : -1.0, APCT(0.50), APCT(0.99),
         na ? va[na - 1] : -1.0, jstr(err));
    free(v);
    free(va);
    free(ps.ack_us);
    for (int p = 0; p < parts; p++) rd_kafka_consume_stop(ckt, p);
    rd_kafka_purge(prk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(prk, 10);
    rd_kafka_topic_destroy(pkt);
    rd_kafka_destroy(prk);
    rd_kafka_queue_destroy(e.q);
    rd_kafka_topic_destroy(ckt);
    rd_kafka_destroy(e.rk);
    free(payload);
    free(e.lat_us);
}

/* ---------------------------------------------------------------- offsets */

static void sc_offsets(const struct scen *s)
{
    const char *topic = opt(s, "topic", "bench");
    int parts = (int)opti(s, "parts", 1);
    int timeout = (int)opti(s, "timeout", 30);
    rd_kafka_t *rk = mk_consumer(0);
    long long sum = 0;
    char err[300] = "";
    int64_t t0 = now_ns();
    for (int p = 0; rk && p < parts; p++) {
        int64_t lo = -1, hi = -1;
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        /* Retry while the broker is still loading (bounded). */
        while (now_ns() - t0 < (int64_t)timeout * 1000000000LL) {
            e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000);
            if (!e) break;
            usleep(100000);
        }
        if (e) {
            snprintf(err, sizeof err, "partition %d: %s", p, rd_kafka_err2name(e));
            break;
        }
        sum += hi;
    }
    emit("{\"scenario\":\"offsets\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":%s,\"topic\":\"%s\",\"parts\":%d,"
         "\"high_watermark_sum\":%lld,\"seconds\":%.4f,\"error\":\"%s\"}",
         jstr(g_label), jstr(g_id), err[0] ? "false" : "true", jstr(topic), parts, sum, (double)(now_ns() - t0) / 1e9, jstr(err));
    if (rk) rd_kafka_destroy(rk);
}

/* ---------------------------------------------------------------- spawn */

static int try_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
    return rc == 0;
}

static void sc_spawn(const struct scen *s)
{
    int port = (int)opti(s, "port", 9092), reps = (int)opti(s, "reps", 10);
    int timeout = (int)opti(s, "timeout", 10);
    char *cmd = strdup(opt(s, "cmd", ""));
    char *argv[64];
    int argc = 0;
    for (char *t = strtok(cmd, " "); t && argc < 63; t = strtok(NULL, " ")) argv[argc++] = t;
    argv[argc] = NULL;
    double ms[64];
    int n = 0;
    char err[300] = "";
    if (!argc) snprintf(err, sizeof err, "no cmd");
    if (try_connect(port)) snprintf(err, sizeof err, "port %d already accepts before spawn", port);
    for (int r = 0; r < reps && r < 64 && !err[0]; r++) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int64_t t0 = now_ns(), dl = t0 + (int64_t)timeout * 1000000000LL;
        if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
            snprintf(err, sizeof err, "spawn %s: %s", argv[0], strerror(errno));
            posix_spawn_file_actions_destroy(&fa);
            break;
        }
        posix_spawn_file_actions_destroy(&fa);
        int up = 0, status;
        while (now_ns() < dl) {
            if (try_connect(port)) {
                up = 1;
                break;
            }
            if (waitpid(pid, &status, WNOHANG) == pid) {
                if (WIFEXITED(status))
                    snprintf(err, sizeof err, "exited with %d before accepting a connection", WEXITSTATUS(status));
                else
                    snprintf(err, sizeof err, "killed by signal %d before accepting a connection", WTERMSIG(status));
                pid = 0;
                break;
            }
            usleep(100);
        }
        int64_t t1 = now_ns();
        if (up)
            ms[n++] = (double)(t1 - t0) / 1e6;
        else if (!err[0])
            snprintf(err, sizeof err, "no connection accepted within %ds", timeout);
        if (pid > 0) {
            kill(pid, SIGTERM);
            int64_t kdl = now_ns() + 3000000000LL;
            while (waitpid(pid, &status, WNOHANG) != pid) {
                if (now_ns() > kdl) {
                    kill(pid, SIGKILL);
                    waitpid(pid, &status, 0);
                    break;
                }
                usleep(1000);
            }
        }
        /* Wait until the port is free again before the next round. */
        int64_t pdl = now_ns() + 3000000000LL;
        while (try_connect(port) && now_ns() < pdl) usleep(1000);
    }
    double first = n ? ms[0] : -1;
    qsort(ms, (size_t)n, sizeof(double), cmpd);
    emit("{\"scenario\":\"spawn\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":%s,\"reps\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f,"
         "\"max_ms\":%.3f,\"first_ms\":%.3f,\"error\":\"%s\"}",
         jstr(g_label), jstr(g_id), n == reps ? "true" : "false", n, n ? ms[n / 2] : -1.0, n ? ms[0] : -1.0,
         n ? ms[n - 1] : -1.0, first, jstr(err));
    free(cmd);
}

/* ---------------------------------------------------------------- serve */

/* serve seconds=S: print sluiced's start-up lines for the mock cluster and keep
 * it up. With BENCH_SLUICED pointing at a script that runs `loadgen mock=1 serve`,
 * bench/run's Sluice path can be checked without a working broker. */
static void sc_serve(const struct scen *s)
{
    if (!g_mock) {
        fprintf(stderr, "loadgen: serve needs mock=N\n");
        return;
    }
    printf("listening PLAINTEXT %s\nready\n", g_bootstrap);
    fflush(stdout);
    sleep((unsigned)opti(s, "seconds", 600));
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    static struct scen sc[256];
    int nsc = 0;
    struct scen glob = {0};
    struct scen *cur = &glob;
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            if (nsc == 256) break;
            cur = &sc[nsc++];
            cur->name = argv[i];
            cur->nkv = 0;
            continue;
        }
        if (cur->nkv == MAXKV) continue;
        *eq = 0;
        cur->kv[cur->nkv++] = (struct kv){argv[i], eq + 1};
    }
    if (!nsc) {
        fprintf(stderr, "usage: loadgen [bootstrap=H:P|mock=N] [label=X] SCENARIO [k=v...] ...\n"
                        "scenarios: create produce consume e2e offsets spawn (see bench/loadgen.c)\n");
        return 2;
    }
    g_label = opt(&glob, "label", "");
    g_fetch_wait = opt(&glob, "fetchwait", "100");
    g_ssl_ca = opt(&glob, "ssl_ca", NULL);
    if (opti(&glob, "budget", 0) > 0) g_budget_end = now_ns() + opti(&glob, "budget", 0) * 1000000000LL;
    g_bootstrap = opt(&glob, "bootstrap", "127.0.0.1:9092");
    if (opt(&glob, "mock", NULL)) {
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(c, logcb);
        g_mock_rk = mk(RD_KAFKA_PRODUCER, c);
        if (!g_mock_rk) return 1;
        g_mock = rd_kafka_mock_cluster_new(g_mock_rk, (int)opti(&glob, "mock", 1));
        if (!g_mock) {
            fprintf(stderr, "loadgen: rd_kafka_mock_cluster_new failed\n");
            return 1;
        }
        g_bootstrap = rd_kafka_mock_cluster_bootstraps(g_mock);
        fprintf(stderr, "loadgen: mock cluster at %s\n", g_bootstrap);
    }
    for (int i = 0; i < nsc; i++) {
        const struct scen *s = &sc[i];
        g_id = opt(s, "id", s->name);
        if (g_budget_end && now_ns() > g_budget_end) {
            emit("{\"scenario\":\"%s\",\"label\":\"%s\",\"id\":\"%s\",\"ok\":false,"
                 "\"error\":\"skipped: time budget of the run used up\"}",
                 s->name, jstr(g_label), jstr(g_id));
            continue;
        }
        if (!strcmp(s->name, "create"))
            sc_create(s);
        else if (!strcmp(s->name, "produce"))
            sc_produce(s);
        else if (!strcmp(s->name, "consume"))
            sc_consume(s);
        else if (!strcmp(s->name, "e2e"))
            sc_e2e(s);
        else if (!strcmp(s->name, "offsets"))
            sc_offsets(s);
        else if (!strcmp(s->name, "spawn"))
            sc_spawn(s);
        else if (!strcmp(s->name, "serve"))
            sc_serve(s);
        else
            fprintf(stderr, "loadgen: unknown scenario %s\n", s->name);
    }
    if (g_mock) rd_kafka_mock_cluster_destroy(g_mock);
    if (g_mock_rk) rd_kafka_destroy(g_mock_rk);
    return 0;
}
