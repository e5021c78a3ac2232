/*
 * cli_consume.c - `sluice consume`, the console consumer. Prints each message as
 * kafka-console-consumer.sh's DefaultMessageFormatter does (print.timestamp,
 * print.partition, print.offset, print.headers, print.key, print.value, in that
 * order, joined by key.separator, ended by line.separator), or one JSON object
 * per line with --output json. On exit - --max-messages reached, no message for
 * --timeout-ms, or SIGINT/SIGTERM - it prints "Processed a total of N messages"
 * on stderr and exits 0.
 *
 * Without --group it assigns the partitions itself (no group coordinator, no
 * committed offsets: what Kafka's tool does with a throw-away group, minus the
 * join); with --group it subscribes and commits as a group member.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct sl_cli_flag flags[] = {
    {"topic", SL_CLI_ARG, "NAME", "topic to read"},
    {"include", SL_CLI_ARG, "REGEX", "read every topic matching this regular expression"},
    {"group", SL_CLI_ARG, "ID", "consume as a member of this group (commits offsets)"},
    {"from-beginning", SL_CLI_FLAG, NULL, "start at the earliest offset (default: the end)"},
    {"offset", SL_CLI_ARG, "earliest|latest|N", "start offset for the assigned partitions"},
    {"partition", SL_CLI_ARG, "N", "read only this partition"},
    {"max-messages", SL_CLI_ARG, "N", "exit after N messages"},
    {"isolation-level", SL_CLI_ARG, "read_committed|read_uncommitted",
     "whether to show aborted transactional messages (default read_uncommitted)"},
    {"property", SL_CLI_MULTI, "K=V",
     "formatter: print.key, print.timestamp, print.partition, print.offset, print.headers, "
     "print.value, key.separator, line.separator, headers.separator, null.literal"},
    {"formatter-property", SL_CLI_MULTI, "K=V", NULL, "property"},
    {"consumer-property", SL_CLI_MULTI, "K=V", "consumer config (Kafka names)"},
    {"formatter", SL_CLI_ARG, "CLASS", "accepted for compatibility: DefaultMessageFormatter"},
    {"skip-message-on-error", SL_CLI_FLAG, NULL, "accepted for compatibility"},
    {NULL},
};

static const struct sl_cli_cmd cmd = {
    "consume",
    "print a topic's messages (console consumer)",
    "consume --topic NAME [--from-beginning] [--max-messages N] [--timeout-ms MS]\n"
    "consume --topic NAME --partition N --offset earliest|latest|N\n"
    "consume --topic NAME --group ID",
    flags,
    "  sluice consume --topic orders --from-beginning\n"
    "  sluice consume --topic orders --from-beginning --max-messages 10 \\\n"
    "      --property print.key=true print.offset=true key.separator=' | '\n"
    "  sluice consume --topic orders --partition 0 --offset 42 --timeout-ms 5000\n"
    "  sluice consume --topic orders --group billing --isolation-level read_committed\n"
    "  sluice consume --include 'orders-.*' --from-beginning --output json\n"
    "\n  --timeout-ms here is Kafka's: exit when no message arrives for that long\n"
    "  (default: wait for messages until interrupted).\n",
};

struct fmt {
    bool ts, partition, offset, headers, key, value;
    const char *key_sep, *line_sep, *hdr_sep, *null_lit;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int read_fmt(const struct sl_cli_args *args, struct fmt *f)
{
    *f = (struct fmt){false, false, false, false, false, true, "\t", "\n", ",", "null"};
    static const char *const bnames[] = {"print.timestamp", "print.partition", "print.offset",
                                         "print.headers",   "print.key",       "print.value"};
    bool *bools[] = {&f->ts, &f->partition, &f->offset, &f->headers, &f->key, &f->value};
    static const char *const snames[] = {"key.separator", "line.separator", "headers.separator",
                                         "null.literal"};
    const char **strs[] = {&f->key_sep, &f->line_sep, &f->hdr_sep, &f->null_lit};
    int pos = 0;
    const char *kv;
    while ((kv = sl_cli_next(args, "property", &pos))) {
        char key[128];
        const char *v;
        bool known = false;
        if (!sl_cli_kv(kv, key, sizeof(key), &v)) {
            return sl_cli_usage(args, "--property takes KEY=VALUE, not '%s'", kv);
        }
        for (int i = 0; i < 6; i++) {
            if (strcmp(key, bnames[i]) == 0) {
                *bools[i] = strcasecmp(v, "true") == 0;
                known = true;
            }
        }
        for (int i = 0; i < 4; i++) {
            if (strcmp(key, snames[i]) == 0) {
                *strs[i] = v;
                known = true;
            }
        }
        /* Deserializer settings of the Java formatter mean nothing for bytes out. */
        if (!known && !strstr(key, "deserializer")) {
            return sl_cli_usage(args, "unknown formatter --property '%s' (see --help)", key);
        }
    }
    return 0;
}

/* Kafka's writeSeparator: key.separator between columns, line.separator last. */
static void sep(const struct fmt *f, bool more)
{
    fputs(more ? f->key_sep : f->line_sep, stdout);
}

static void print_text(const struct fmt *f, const rd_kafka_message_t *m)
{
    if (f->ts) {
        rd_kafka_timestamp_type_t tt;
        int64_t ts = rd_kafka_message_timestamp(m, &tt);
        if (tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) {
            fputs("NO_TIMESTAMP", stdout);
        } else {
            printf("%s:%lld", tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "LogAppendTime" : "CreateTime",
                   (long long)ts);
        }
        sep(f, f->partition || f->offset || f->headers || f->key || f->value);
    }
    if (f->partition) {
        printf("Partition:%d", m->partition);
        sep(f, f->offset || f->headers || f->key || f->value);
    }
    if (f->offset) {
        printf("Offset:%lld", (long long)m->offset);
        sep(f, f->headers || f->key || f->value);
    }
    if (f->headers) {
        rd_kafka_headers_t *h = NULL;
        const char *name;
        const void *val;
        size_t sz;
        if (rd_kafka_message_headers(m, &h) != 0 || rd_kafka_header_cnt(h) == 0) {
            fputs("NO_HEADERS", stdout);
        } else {
            for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &sz) == 0; i++) {
                printf("%s%s:", i ? f->hdr_sep : "", name);
                if (val) {
                    sl_cli_write(stdout, val, sz);
                } else {
                    fputs(f->null_lit, stdout);
                }
            }
        }
        sep(f, f->key || f->value);
    }
    if (f->key) {
        if (m->key) {
            sl_cli_write(stdout, m->key, m->key_len);
        } else {
            fputs(f->null_lit, stdout);
        }
        sep(f, f->value);
    }
    if (f->value) {
        if (m->payload) {
            sl_cli_write(stdout, m->payload, m->len);
        } else {
            fputs(f->null_lit, stdout);
        }
        fputs(f->line_sep, stdout);
    }
}

static void print_json(const rd_kafka_message_t *m)
{
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    printf("{\"topic\":");
    sl_cli_jstr(stdout, rd_kafka_topic_name(m->rkt), -1);
    printf(",\"partition\":%d,\"offset\":%lld,\"timestamp\":%lld,\"key\":", m->partition,
           (long long)m->offset, (long long)ts);
    sl_cli_jstr(stdout, m->key, m->key ? (long)m->key_len : -1);
    printf(",\"value\":");
    sl_cli_jstr(stdout, m->payload, m->payload ? (long)m->len : -1);
    printf(",\"headers\":{");
    rd_kafka_headers_t *h = NULL;
    const char *name;
    const void *val;
    size_t sz;
    if (rd_kafka_message_headers(m, &h) == 0) {
        for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &sz) == 0; i++) {
            printf(i ? "," : "");
            sl_cli_jstr(stdout, name, -1);
            fputc(':', stdout);
            sl_cli_jstr(stdout, val, val ? (long)sz : -1);
        }
    }
    printf("}}\n");
}

static int configure(const struct sl_cli_args *args, rd_kafka_conf_t *conf)
{
    const char *group = sl_cli_str(args, "group");
    const char *iso = sl_cli_str(args, "isolation-level");
    int rc = 0;
    if (iso && strcmp(iso, "read_committed") && strcmp(iso, "read_uncommitted")) {
        return sl_cli_usage(args, "--isolation-level must be read_committed or read_uncommitted");
    }
    if (iso) {
        rc = sl_cli_conf_set(conf, "isolation.level", iso, "--isolation-level");
    }
    if (!rc) {
        /* librdkafka's assign() wants a group.id even though it joins nothing;
         * without --group the id is never used for a join or a commit. */
        char own[64];
        snprintf(own, sizeof(own), "sluice-console-%d", (int)getpid());
        rc = sl_cli_conf_set(conf, "group.id", group ? group : own, "--group");
    }
    if (!rc) {
        rc = sl_cli_conf_set(conf, "enable.auto.commit", group ? "true" : "false", "default");
    }
    if (!rc) {
        rc = sl_cli_conf_set(conf, "auto.offset.reset",
                             sl_cli_has(args, "from-beginning") ? "earliest" : "latest", "default");
    }
    int pos = 0;
    const char *kv;
    while (!rc && (kv = sl_cli_next(args, "consumer-property", &pos))) {
        char key[128];
        const char *v;
        if (!sl_cli_kv(kv, key, sizeof(key), &v)) {
            return sl_cli_usage(args, "--consumer-property takes KEY=VALUE, not '%s'", kv);
        }
        rc = sl_cli_conf_set(conf, key, v, "--consumer-property");
    }
    return rc;
}

/* Start offset for assigned partitions: --offset, else --from-beginning, else end. */
static int start_offset(const struct sl_cli_args *args, int64_t *off)
{
    const char *o = sl_cli_str(args, "offset");
    *off = sl_cli_has(args, "from-beginning") ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    if (!o) {
        return 0;
    }
    if (strcmp(o, "earliest") == 0) {
        *off = RD_KAFKA_OFFSET_BEGINNING;
    } else if (strcmp(o, "latest") == 0) {
        *off = RD_KAFKA_OFFSET_END;
    } else {
        char *end;
        long long v = strtoll(o, &end, 10);
        if (*end || end == o || v < 0) {
            return sl_cli_usage(args, "--offset must be earliest, latest or an offset >= 0");
        }
        *off = v;
    }
    return 0;
}

/* Subscribes (--group) or assigns partitions itself. */
static int attach(struct sl_cli_client *cl, const struct sl_cli_args *args)
{
    const char *topic = sl_cli_str(args, "topic");
    const char *include = sl_cli_str(args, "include");
    int64_t part, off;
    int rc;
    if ((rc = sl_cli_int(args, "partition", -1, 0, INT32_MAX, &part)) != 0 ||
        (rc = start_offset(args, &off)) != 0) {
        return rc;
    }
    if (sl_cli_str(args, "group") && (part >= 0 || sl_cli_has(args, "offset"))) {
        return sl_cli_usage(args, "--partition and --offset cannot be used with --group");
    }
    const struct rd_kafka_metadata *md;
    if ((rc = sl_cli_metadata(cl, &md)) != 0) {
        return rc;
    }
    const struct rd_kafka_metadata_topic *t = topic ? sl_cli_md_topic(md, topic) : NULL;
    if (topic && (!t || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)) {
        rd_kafka_metadata_destroy(md);
        return sl_cli_fail("topic '%s' does not exist", topic);
    }
    if (t && part >= t->partition_cnt) {
        rc = sl_cli_fail("topic '%s' has no partition %lld (it has %d)", topic, (long long)part,
                         t->partition_cnt);
        rd_kafka_metadata_destroy(md);
        return rc;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    rd_kafka_resp_err_t err;
    char buf[1100];
    if (sl_cli_str(args, "group")) {
        if (include) {
            snprintf(buf, sizeof(buf), "^%s", include);
        }
        rd_kafka_topic_partition_list_add(l, include ? buf : topic, RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(cl->rk, l);
    } else {
        for (int i = 0; i < md->topic_cnt; i++) {
            const struct rd_kafka_metadata_topic *mt = &md->topics[i];
            bool want = topic ? mt == t : sl_cli_match(include, mt->topic) == 1;
            for (int p = 0; want && p < mt->partition_cnt; p++) {
                if (part < 0 || mt->partitions[p].id == part) {
                    rd_kafka_topic_partition_list_add(l, mt->topic, mt->partitions[p].id)->offset =
                        off;
                }
            }
        }
        err = rd_kafka_assign(cl->rk, l);
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_metadata_destroy(md);
    if (err) {
        return sl_cli_fail("cannot start consuming: %s", sl_cli_errstr(err, buf, sizeof(buf)));
    }
    return 0;
}

static int loop(struct sl_cli_client *cl, const struct sl_cli_args *args, const struct fmt *f,
                int64_t max, long *count)
{
    bool json = sl_cli_json(args);
    bool idle_exit = sl_cli_has(args, "timeout-ms");
    int64_t last = sl_cli_now_us();
    while (!stop && (max < 0 || *count < max)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(cl->rk, 100);
        if (!m) {
            fflush(stdout);
            if (idle_exit && sl_cli_now_us() - last > (int64_t)cl->timeout_ms * 1000) {
                break;
            }
            continue;
        }
        if (m->err) {
            char buf[256];
            rd_kafka_resp_err_t err = m->err;
            if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                rd_kafka_message_destroy(m);
                continue;
            }
            const char *msg = rd_kafka_message_errstr(m);
            bool fatal = err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                         err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                         err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
                         err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION;
            if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
                fprintf(stderr, "warning: lost the connection to the cluster, retrying\n");
            } else {
                fprintf(stderr, "%s: %s\n", fatal ? "error" : "warning",
                        msg && *msg ? msg : sl_cli_errstr(err, buf, sizeof(buf)));
            }
            rd_kafka_message_destroy(m);
            if (fatal) {
                return SL_CLI_FAIL;
            }
            continue;
        }
        last = sl_cli_now_us();
        if (json) {
            print_json(m);
        } else {
            print_text(f, m);
        }
        (*count)++;
        rd_kafka_message_destroy(m);
    }
    return SL_CLI_OK;
}

int sl_cli_consume(int argc, char **argv)
{
    struct sl_cli_args args;
    struct fmt f;
    struct sl_cli_client *cl = NULL;
    int64_t max;
    long count = 0;
    int rc = sl_cli_parse(&cmd, argc, argv, &args);
    if (rc != SL_CLI_CONTINUE) {
        goto out;
    }
    if (!!sl_cli_str(&args, "topic") == !!sl_cli_str(&args, "include")) {
        rc = sl_cli_usage(&args, "give one of --topic or --include");
        goto out;
    }
    const char *formatter = sl_cli_str(&args, "formatter");
    if (formatter && !strstr(formatter, "DefaultMessageFormatter")) {
        rc = sl_cli_usage(&args, "only the DefaultMessageFormatter is available");
        goto out;
    }
    if ((rc = read_fmt(&args, &f)) != 0 ||
        (rc = sl_cli_int(&args, "max-messages", -1, 1, INT64_MAX, &max)) != 0) {
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
    if (!(cl = sl_cli_client_new(&args, RD_KAFKA_CONSUMER, conf, false, &rc))) {
        goto out;
    }
    rd_kafka_poll_set_consumer(cl->rk);
    cl->consumer_polls = true;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if ((rc = attach(cl, &args)) == 0) {
        rc = loop(cl, &args, &f, max, &count);
        fflush(stdout);
        fprintf(stderr, "Processed a total of %ld messages\n", count);
    }
    rd_kafka_consumer_close(cl->rk);
out:
    sl_cli_client_free(cl);
    sl_cli_args_fini(&args);
    return rc;
}
