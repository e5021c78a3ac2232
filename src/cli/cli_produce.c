/*
 * cli_produce.c - `sluice produce`, the console producer: one message per line of
 * stdin (or --file), parsed as kafka-console-producer.sh's LineMessageReader does:
 *   [headers<headers.delimiter>][key<key.separator>]value
 * with parse.headers / parse.key, headers as k:v,k:v and null.marker for nulls.
 *
 * Every message's outcome is checked: a line that cannot be parsed or a message
 * the cluster did not take is named on stderr (line number and why) and makes the
 * exit status 1; the rest are still sent. Keys are partitioned with murmur2, as
 * the Java producer does, so keyed messages land where Kafka's tools put them.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct sl_cli_flag flags[] = {
    {"topic", SL_CLI_ARG, "NAME", "topic to write to (required)"},
    {"file", SL_CLI_ARG, "PATH", "read lines from this file instead of stdin"},
    {"property", SL_CLI_MULTI, "K=V",
     "line reader: parse.key, key.separator, parse.headers, headers.delimiter, "
     "headers.separator, headers.key.separator, null.marker, ignore.error"},
    {"reader-property", SL_CLI_MULTI, "K=V", NULL, "property"},
    {"header", SL_CLI_LIST, "K:V", "add this header to every message (repeatable)"},
    {"producer-property", SL_CLI_MULTI, "K=V", "producer config (Kafka names), e.g. linger.ms=5"},
    {"acks", SL_CLI_ARG, "all|-1|0|1", "acknowledgements to wait for (default all)"},
    {"request-required-acks", SL_CLI_ARG, "ACKS", NULL, "acks"},
    {"compression", SL_CLI_ARG, "none|gzip|snappy|lz4|zstd", "batch compression (default none)"},
    {"compression-codec", SL_CLI_ARG, "CODEC", NULL, "compression"},
    {"partition", SL_CLI_ARG, "N", "write every message to this partition"},
    {"sync", SL_CLI_FLAG, NULL, "wait for each message's acknowledgement before the next"},
    {NULL},
};

static const struct sl_cli_cmd cmd = {
    "produce",
    "write lines from stdin or a file to a topic (console producer)",
    "produce --topic NAME [--file PATH] [--property parse.key=true key.separator=:] [--sync]",
    flags,
    "  echo 'hello' | sluice produce --topic orders\n"
    "  printf 'k1:v1\\nk2:v2\\n' | sluice produce --topic orders \\\n"
    "      --property parse.key=true key.separator=:\n"
    "  printf 'trace:1,src:web\\tk1\\tv1\\n' | sluice produce --topic orders \\\n"
    "      --property parse.headers=true parse.key=true\n"
    "  sluice produce --topic orders --file events.txt --acks 1 --compression zstd\n"
    "  sluice produce --topic orders --sync --command-config client.properties < lines\n",
};

struct reader {
    bool parse_key, parse_headers, ignore_error;
    const char *key_sep, *hdr_delim, *hdr_sep, *hdr_kv_sep, *null_marker;
};

struct state {
    long sent, delivered, failed;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* The delivery callback's counters: the handle's opaque is the client (for
 * error_cb), so the one producer of this process keeps them here. */
static struct state *g_state;

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    long line = (long)(intptr_t)m->_private;
    if (m->err) {
        char buf[256];
        const char *why = m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT
                              ? "not acknowledged within the timeout (--timeout-ms)"
                              : sl_cli_errstr(m->err, buf, sizeof(buf));
        fprintf(stderr, "error: line %ld was not written to %s: %s\n", line,
                rd_kafka_topic_name(m->rkt), why);
        g_state->failed++;
    } else {
        g_state->delivered++;
    }
}

static bool is_true(const char *v)
{
    return v && strcasecmp(v, "true") == 0;
}

static int read_props(const struct sl_cli_args *args, struct reader *rd)
{
    *rd = (struct reader){false, false, false, "\t", "\t", ",", ":", NULL};
    int pos = 0;
    const char *kv;
    while ((kv = sl_cli_next(args, "property", &pos))) {
        char key[128];
        const char *v;
        if (!sl_cli_kv(kv, key, sizeof(key), &v)) {
            return sl_cli_usage(args, "--property takes KEY=VALUE, not '%s'", kv);
        }
        static const char *const names[] = {"parse.key", "parse.headers", "ignore.error"};
        bool *bools[] = {&rd->parse_key, &rd->parse_headers, &rd->ignore_error};
        static const char *const snames[] = {"key.separator", "headers.delimiter",
                                             "headers.separator", "headers.key.separator",
                                             "null.marker"};
        const char **strs[] = {&rd->key_sep, &rd->hdr_delim, &rd->hdr_sep, &rd->hdr_kv_sep,
                               &rd->null_marker};
        bool known = false;
        for (int i = 0; i < 3; i++) {
            if (strcmp(key, names[i]) == 0) {
                *bools[i] = is_true(v);
                known = true;
            }
        }
        for (int i = 0; i < 5; i++) {
            if (strcmp(key, snames[i]) == 0) {
                if (!*v && i < 4) {
                    return sl_cli_usage(args, "--property %s must not be empty", key);
                }
                *strs[i] = v;
                known = true;
            }
        }
        if (!known) {
            return sl_cli_usage(args, "unknown --property '%s' (see --help)", key);
        }
    }
    return 0;
}

static bool is_null(const struct reader *rd, const char *s)
{
    return rd->null_marker && strcmp(s, rd->null_marker) == 0;
}

/* Adds "k<kv>v" headers from the text s (NUL-terminated, modified in place). */
static int add_headers(rd_kafka_headers_t *hdrs, char *s, const char *sep, const char *kvsep,
                       const struct reader *rd)
{
    if (!*s) {
        return 0;
    }
    size_t seplen = strlen(sep);
    for (char *h = s; h;) {
        char *next = strstr(h, sep);
        if (next) {
            *next = '\0';
            next += seplen;
        }
        char *colon = strstr(h, kvsep);
        if (!colon) {
            return -1;
        }
        *colon = '\0';
        const char *val = colon + strlen(kvsep);
        if (rd && is_null(rd, val)) {
            rd_kafka_header_add(hdrs, h, -1, NULL, 0);
        } else {
            rd_kafka_header_add(hdrs, h, -1, val, (ssize_t)strlen(val));
        }
        h = next;
    }
    return 0;
}

/* Parses one line and hands it to librdkafka. 0, or -1 after reporting the line. */
static int produce_line(struct sl_cli_client *cl, const struct sl_cli_args *args,
                        const struct reader *rd, const char *topic, int32_t partition, char *line,
                        long lineno, bool sync)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(4);
    char *rest = line;
    const char *why = NULL;
    if (rd->parse_headers) {
        char *d = strstr(rest, rd->hdr_delim);
        if (!d) {
            why = "no headers delimiter found";
        } else {
            *d = '\0';
            if (add_headers(hdrs, rest, rd->hdr_sep, rd->hdr_kv_sep, rd) != 0) {
                why = "a header has no key separator";
            }
            rest = d + strlen(rd->hdr_delim);
        }
    }
    int pos = 0;
    const char *fixed;
    while (!why && (fixed = sl_cli_next(args, "header", &pos))) {
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s", fixed);
        add_headers(hdrs, buf, "\x01", ":", NULL);
    }
    const char *key = NULL, *value = rest;
    if (!why && rd->parse_key) {
        char *k = strstr(rest, rd->key_sep);
        if (k) {
            *k = '\0';
            key = rest;
            value = k + strlen(rd->key_sep);
        } else if (!rd->ignore_error) {
            why = "no key separator found";
        }
    }
    if (why) {
        rd_kafka_headers_destroy(hdrs);
        fprintf(stderr, "error: line %ld: %s\n", lineno, why);
        return -1;
    }
    if (key && is_null(rd, key)) {
        key = NULL;
    }
    if (is_null(rd, value)) {
        value = NULL;
    }
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            cl->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
            RD_KAFKA_V_VALUE((void *)value, value ? strlen(value) : 0),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)(intptr_t)lineno),
            RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(cl->rk, 100);
            continue;
        }
        if (err) {
            char buf[256];
            rd_kafka_headers_destroy(hdrs);
            fprintf(stderr, "error: line %ld: %s\n", lineno, sl_cli_errstr(err, buf, sizeof(buf)));
            return -1;
        }
        break; /* hdrs now belong to the message */
    }
    if (sync) {
        rd_kafka_flush(cl->rk, cl->timeout_ms);
    } else {
        rd_kafka_poll(cl->rk, 0);
    }
    return 0;
}

/* A missing topic is an error up front (unless the broker creates it on first
 * use), instead of a timeout per message. */
static int check_topic(struct sl_cli_client *cl, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(cl->rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int rc = SL_CLI_OK;
    int64_t deadline = sl_cli_now_us() + (int64_t)cl->timeout_ms * 1000;
    rd_kafka_resp_err_t err;
    /* A topic the broker just auto-created has no leader for a moment. */
    while ((err = rd_kafka_metadata(cl->rk, 0, rkt, &md, cl->timeout_ms)) == 0 &&
           md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE &&
           sl_cli_now_us() < deadline) {
        rd_kafka_metadata_destroy(md);
        md = NULL;
        rd_kafka_poll(cl->rk, 100);
    }
    if (err) {
        sl_cli_poll_errors(cl);
        rc = sl_cli_fail_conn(cl, "cannot get topic metadata");
    } else if (md->topic_cnt == 1 && md->topics[0].err) {
        char buf[256];
        rc = md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                 ? sl_cli_fail("topic '%s' does not exist", topic)
                 : sl_cli_fail("cannot write to topic '%s': %s", topic,
                               sl_cli_errstr(md->topics[0].err, buf, sizeof(buf)));
    }
    if (md) {
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return rc;
}

static int configure(const struct sl_cli_args *args, rd_kafka_conf_t *conf)
{
    char tmo[32];
    snprintf(tmo, sizeof(tmo), "%d", sl_cli_timeout(args));
    const char *acks = sl_cli_str(args, "acks");
    const char *comp = sl_cli_str(args, "compression");
    int rc = sl_cli_conf_set(conf, "partitioner", "murmur2_random", "default");
    if (!rc) {
        rc = sl_cli_conf_set(conf, "message.timeout.ms", tmo, "--timeout-ms");
    }
    if (!rc && sl_cli_has(args, "sync")) {
        rc = sl_cli_conf_set(conf, "linger.ms", "0", "--sync");
    }
    int pos = 0;
    const char *kv;
    while (!rc && (kv = sl_cli_next(args, "producer-property", &pos))) {
        char key[128];
        const char *v;
        if (!sl_cli_kv(kv, key, sizeof(key), &v)) {
            return sl_cli_usage(args, "--producer-property takes KEY=VALUE, not '%s'", kv);
        }
        rc = sl_cli_conf_set(conf, key, v, "--producer-property");
    }
    if (!rc && acks) {
        if (strcmp(acks, "all") && strcmp(acks, "-1") && strcmp(acks, "0") && strcmp(acks, "1")) {
            return sl_cli_usage(args, "--acks must be all, -1, 0 or 1, not '%s'", acks);
        }
        rc = sl_cli_conf_set(conf, "acks", strcmp(acks, "all") ? acks : "-1", "--acks");
    }
    if (!rc && comp) {
        static const char *const ok[] = {"none", "gzip", "snappy", "lz4", "zstd"};
        bool known = false;
        for (int i = 0; i < 5; i++) {
            known |= strcmp(comp, ok[i]) == 0;
        }
        if (!known) {
            return sl_cli_usage(args, "--compression must be none, gzip, snappy, lz4 or zstd");
        }
        rc = sl_cli_conf_set(conf, "compression.codec", comp, "--compression");
    }
    return rc;
}

int sl_cli_produce(int argc, char **argv)
{
    struct sl_cli_args args;
    struct reader rd;
    struct state st = {0};
    int64_t part;
    FILE *in = stdin;
    int rc = sl_cli_parse(&cmd, argc, argv, &args);
    if (rc != SL_CLI_CONTINUE) {
        goto out;
    }
    const char *topic = sl_cli_str(&args, "topic");
    if (!topic) {
        rc = sl_cli_usage(&args, "--topic is required");
        goto out;
    }
    if ((rc = read_props(&args, &rd)) != 0 ||
        (rc = sl_cli_int(&args, "partition", -1, 0, INT32_MAX, &part)) != 0) {
        goto out;
    }
    rd_kafka_conf_t *conf = sl_cli_conf_new(&args, &rc);
    if (!conf) {
        goto out;
    }
    if ((rc = configure(&args, conf)) != 0) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    g_state = &st;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    struct sl_cli_client *cl = sl_cli_client_new(&args, RD_KAFKA_PRODUCER, conf, false, &rc);
    if (!cl) {
        goto out;
    }
    const char *file = sl_cli_str(&args, "file");
    if ((rc = check_topic(cl, topic)) == 0 && file && !(in = fopen(file, "r"))) {
        rc = sl_cli_fail("cannot read --file %s: %s", file, strerror(errno));
        in = stdin;
    }
    if (rc == 0) {
        struct sigaction sa = {.sa_handler = on_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long lineno = 0, bad = 0;
        while (!stop && (n = getline(&line, &cap, in)) != -1) {
            lineno++;
            if (n > 0 && line[n - 1] == '\n') {
                line[--n] = '\0';
            }
            if (produce_line(cl, &args, &rd, topic, (int32_t)part, line, lineno,
                             sl_cli_has(&args, "sync")) != 0) {
                bad++;
            } else {
                st.sent++;
            }
        }
        free(line);
        rd_kafka_flush(cl->rk, cl->timeout_ms + 1000);
        long lost = st.sent - st.delivered - st.failed;
        if (lost > 0) {
            fprintf(stderr, "error: %ld messages were not acknowledged in time\n", lost);
        }
        if (sl_cli_json(&args)) {
            printf("{\"topic\":");
            sl_cli_jstr(stdout, topic, -1);
            printf(",\"lines\":%ld,\"produced\":%ld,\"failed\":%ld}\n", lineno, st.delivered,
                   lineno - st.delivered);
        }
        rc = (bad || st.failed || lost > 0) ? SL_CLI_FAIL : SL_CLI_OK;
    }
    if (in != stdin) {
        fclose(in);
    }
    sl_cli_client_free(cl);
out:
    sl_cli_args_fini(&args);
    return rc;
}
