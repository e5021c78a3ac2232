/*
 * cli_perf.c - `sluice perf produce` and `sluice perf consume`, like
 * kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh: a progress line
 * every 5 s (records/sec, MB/sec, avg and max latency in that window) and a final
 * summary with p50/p95/p99/p99.9.
 *
 * Produce latency is send to acknowledgement. Consume latency is end to end:
 * arrival minus the record's CreateTime, meaningful when producer and consumer
 * clocks agree (one machine, or NTP).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct sl_cli_flag produce_flags[] = {
    {"topic", SL_CLI_ARG, "NAME", "topic to write to (required)"},
    {"num-records", SL_CLI_ARG, "N", "records to send (required)"},
    {"record-size", SL_CLI_ARG, "BYTES", "value size of each record (default 100)"},
    {"throughput", SL_CLI_ARG, "N", "records/sec cap; -1 = unlimited (required, as in Kafka)"},
    {"producer-props", SL_CLI_MULTI, "K=V", "producer config (Kafka names), e.g. acks=all"},
    {NULL},
};

static const struct sl_cli_flag consume_flags[] = {
    {"topic", SL_CLI_ARG, "NAME", "topic to read (required)"},
    {"messages", SL_CLI_ARG, "N", "records to read (required)"},
    {"num-records", SL_CLI_ARG, "N", NULL, "messages"},
    {"group", SL_CLI_ARG, "ID", "read as this group (default: assign partitions, no group)"},
    {"from-latest", SL_CLI_FLAG, NULL, "start at the end instead of the beginning"},
    {"consumer-props", SL_CLI_MULTI, "K=V", "consumer config (Kafka names)"},
    {NULL},
};

static const struct sl_cli_cmd produce_cmd = {
    "perf produce",
    "producer throughput and latency (kafka-producer-perf-test.sh)",
    "perf produce --topic NAME --num-records N --record-size BYTES --throughput N|-1\n"
    "             [--producer-props K=V ...]",
    produce_flags,
    "  sluice perf produce --topic bench --num-records 1000000 --record-size 100 --throughput -1\n"
    "  sluice perf produce --topic bench --num-records 50000 --record-size 1024 \\\n"
    "      --throughput 5000 --producer-props acks=all linger.ms=5 compression.type=lz4\n",
};

static const struct sl_cli_cmd consume_cmd = {
    "perf consume",
    "consumer throughput and end-to-end latency (kafka-consumer-perf-test.sh)",
    "perf consume --topic NAME --messages N [--group ID] [--timeout-ms MS]",
    consume_flags,
    "  sluice perf consume --topic bench --messages 1000000\n"
    "  sluice perf consume --topic bench --messages 50000 --group perf --timeout-ms 30000\n"
    "\n  --timeout-ms here ends the run when no record arrives for that long.\n",
};

/* Latencies (us) of every record and the current 5 s window. */
struct stats {
    int32_t *lat_us;   /* one per completed record */
    int64_t n, cap;    /* recorded, allocated */
    int64_t bytes, errors;
    int64_t start_us, win_start_us, win_n, win_bytes, win_sum_us, win_max_us;
    int64_t sum_us, max_us;
};

static struct stats *g_stats; /* the delivery callback's (one producer per process) */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void record(struct stats *s, int64_t lat_us, int64_t bytes)
{
    if (s->n < s->cap) {
        s->lat_us[s->n] = (int32_t)(lat_us > INT32_MAX ? INT32_MAX : lat_us);
    }
    s->n++;
    s->bytes += bytes;
    s->sum_us += lat_us;
    s->max_us = lat_us > s->max_us ? lat_us : s->max_us;
    s->win_n++;
    s->win_bytes += bytes;
    s->win_sum_us += lat_us;
    s->win_max_us = lat_us > s->win_max_us ? lat_us : s->win_max_us;
}

static void progress(struct stats *s, const char *verb, bool force)
{
    int64_t now = sl_cli_now_us();
    double secs = (double)(now - s->win_start_us) / 1e6;
    if (!force && secs < 5.0) {
        return;
    }
    if (s->win_n) {
        fprintf(stderr, "%lld records %s, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, "
                        "%.1f ms max latency.\n",
                (long long)s->win_n, verb, (double)s->win_n / secs,
                (double)s->win_bytes / secs / (1024 * 1024), (double)s->win_sum_us / (double)s->win_n / 1000,
                (double)s->win_max_us / 1000);
    }
    s->win_start_us = now;
    s->win_n = s->win_bytes = s->win_sum_us = s->win_max_us = 0;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void summary(struct stats *s, const char *verb, bool json)
{
    double secs = (double)(sl_cli_now_us() - s->start_us) / 1e6;
    int64_t kept = s->n < s->cap ? s->n : s->cap;
    qsort(s->lat_us, (size_t)kept, sizeof(int32_t), cmp_i32);
    double pct[4] = {0.5, 0.95, 0.99, 0.999}, v[4] = {0};
    for (int i = 0; i < 4 && kept; i++) {
        int64_t idx = (int64_t)(pct[i] * (double)kept);
        v[i] = (double)s->lat_us[idx < kept ? idx : kept - 1] / 1000;
    }
    double rps = secs > 0 ? (double)s->n / secs : 0, mbps = secs > 0 ? (double)s->bytes / secs / (1024 * 1024) : 0;
    double avg = s->n ? (double)s->sum_us / (double)s->n / 1000 : 0;
    if (json) {
        printf("{\"records\":%lld,\"errors\":%lld,\"seconds\":%.3f,\"records_per_sec\":%.1f,"
               "\"mb_per_sec\":%.2f,\"avg_latency_ms\":%.2f,\"max_latency_ms\":%.2f,\"p50_ms\":%.2f,"
               "\"p95_ms\":%.2f,\"p99_ms\":%.2f,\"p999_ms\":%.2f}\n",
               (long long)s->n, (long long)s->errors, secs, rps, mbps, avg, (double)s->max_us / 1000,
               v[0], v[1], v[2], v[3]);
        return;
    }
    printf("%lld records %s, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max "
           "latency, %.0f ms 50th, %.0f ms 95th, %.0f ms 99th, %.0f ms 99.9th.\n",
           (long long)s->n, verb, rps, mbps, avg, (double)s->max_us / 1000, v[0], v[1], v[2], v[3]);
}

static void stats_init(struct stats *s, int64_t n)
{
    memset(s, 0, sizeof(*s));
    s->cap = n;
    s->lat_us = calloc((size_t)(n > 0 ? n : 1), sizeof(int32_t));
    s->start_us = s->win_start_us = sl_cli_now_us();
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        if (g_stats->errors++ == 0) {
            char buf[256];
            fprintf(stderr, "error: a record was not written: %s\n", sl_cli_errstr(m->err, buf, sizeof(buf)));
        }
        return;
    }
    record(g_stats, sl_cli_now_us() - (int64_t)(intptr_t)m->_private, (int64_t)m->len);
}

static int props(const struct sl_cli_args *args, const char *flag, rd_kafka_conf_t *conf)
{
    int pos = 0, rc = 0;
    const char *kv;
    while (!rc && (kv = sl_cli_next(args, flag, &pos))) {
        char key[128];
        const char *v;
        if (!sl_cli_kv(kv, key, sizeof(key), &v)) {
            return sl_cli_usage(args, "--%s takes KEY=VALUE, not '%s'", flag, kv);
        }
        rc = strcmp(key, "bootstrap.servers") == 0 ? sl_cli_conf_set(conf, "bootstrap.servers", v, flag)
                                                   : sl_cli_conf_set(conf, key, v, flag);
    }
    return rc;
}

static int perf_produce(int argc, char **argv)
{
    struct sl_cli_args args;
    struct stats st;
    int64_t n, size, tput;
    struct sl_cli_client *cl = NULL;
    char *payload = NULL;
    int rc = sl_cli_parse(&produce_cmd, argc, argv, &args);
    if (rc != SL_CLI_CONTINUE) {
        goto out;
    }
    const char *topic = sl_cli_str(&args, "topic");
    if (!topic || !sl_cli_has(&args, "num-records") || !sl_cli_has(&args, "throughput")) {
        rc = sl_cli_usage(&args, "--topic, --num-records and --throughput are required");
        goto out;
    }
    if ((rc = sl_cli_int(&args, "num-records", 0, 1, 1000000000, &n)) ||
        (rc = sl_cli_int(&args, "record-size", 100, 0, 100 << 20, &size)) ||
        (rc = sl_cli_int(&args, "throughput", -1, -1, INT64_MAX, &tput))) {
        goto out;
    }
    rd_kafka_conf_t *conf = sl_cli_conf_new(&args, &rc);
    if (!conf) {
        goto out;
    }
    char tmo[32];
    snprintf(tmo, sizeof(tmo), "%d", sl_cli_timeout(&args));
    if ((rc = sl_cli_conf_set(conf, "message.timeout.ms", tmo, "--timeout-ms")) ||
        (rc = props(&args, "producer-props", conf))) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    if (!(cl = sl_cli_client_new(&args, RD_KAFKA_PRODUCER, conf, true, &rc))) {
        goto out;
    }
    payload = malloc((size_t)size + 1);
    srand((unsigned)time(NULL));
    for (int64_t i = 0; i < size; i++) {
        payload[i] = (char)('A' + rand() % 26); /* as Kafka's tool: random uppercase letters */
    }
    stats_init(&st, n);
    g_stats = &st;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    int64_t sent = 0;
    for (; sent < n && !stop && st.errors == 0; sent++) {
        if (tput > 0) { /* Kafka's ThroughputThrottler: sleep when ahead of schedule */
            int64_t due_us = st.start_us + sent * 1000000 / tput;
            int64_t ahead;
            while ((ahead = due_us - sl_cli_now_us()) > 0 && !stop) {
                /* poll returns early when it serves a delivery report */
                if (ahead >= 1000) {
                    rd_kafka_poll(cl->rk, (int)(ahead / 1000));
                } else {
                    usleep((useconds_t)ahead);
                }
            }
        }
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(cl->rk, RD_KAFKA_V_TOPIC(topic),
                                        RD_KAFKA_V_VALUE(payload, (size_t)size),
                                        RD_KAFKA_V_OPAQUE((void *)(intptr_t)sl_cli_now_us()),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(cl->rk, 10);
        }
        if (err) {
            char buf[256];
            rc = sl_cli_fail("cannot send to '%s': %s", topic, sl_cli_errstr(err, buf, sizeof(buf)));
            break;
        }
        rd_kafka_poll(cl->rk, 0);
        progress(&st, "sent", false);
    }
    while (rd_kafka_outq_len(cl->rk) > 0 && !stop) {
        rd_kafka_poll(cl->rk, 100);
        progress(&st, "sent", false);
    }
    summary(&st, "sent", sl_cli_json(&args));
    if (!rc && st.errors) {
        rc = sl_cli_fail("%lld of %lld records were not written", (long long)st.errors, (long long)sent);
    }
    free(st.lat_us);
out:
    free(payload);
    sl_cli_client_free(cl);
    sl_cli_args_fini(&args);
    return rc == SL_CLI_CONTINUE ? SL_CLI_OK : rc;
}

static int perf_consume(int argc, char **argv)
{
    struct sl_cli_args args;
    struct stats st;
    int64_t n;
    struct sl_cli_client *cl = NULL;
    int rc = sl_cli_parse(&consume_cmd, argc, argv, &args);
    if (rc != SL_CLI_CONTINUE) {
        goto out;
    }
    const char *topic = sl_cli_str(&args, "topic");
    const char *group = sl_cli_str(&args, "group");
    if (!topic || !sl_cli_has(&args, "messages")) {
        rc = sl_cli_usage(&args, "--topic and --messages are required");
        goto out;
    }
    if ((rc = sl_cli_int(&args, "messages", 0, 1, 1000000000, &n))) {
        goto out;
    }
    rd_kafka_conf_t *conf = sl_cli_conf_new(&args, &rc);
    if (!conf) {
        goto out;
    }
    char own[64];
    snprintf(own, sizeof(own), "sluice-perf-%d", (int)getpid());
    if ((rc = sl_cli_conf_set(conf, "group.id", group ? group : own, "--group")) ||
        (rc = sl_cli_conf_set(conf, "enable.auto.commit", group ? "true" : "false", "default")) ||
        (rc = sl_cli_conf_set(conf, "auto.offset.reset",
                              sl_cli_has(&args, "from-latest") ? "latest" : "earliest", "default")) ||
        (rc = props(&args, "consumer-props", conf))) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    if (!(cl = sl_cli_client_new(&args, RD_KAFKA_CONSUMER, conf, false, &rc))) {
        goto out;
    }
    rd_kafka_poll_set_consumer(cl->rk);
    cl->consumer_polls = true;
    const struct rd_kafka_metadata *md;
    if ((rc = sl_cli_metadata(cl, &md)) != 0) {
        goto out;
    }
    const struct rd_kafka_metadata_topic *t = sl_cli_md_topic(md, topic);
    if (!t || t->err) {
        rd_kafka_metadata_destroy(md);
        rc = sl_cli_fail("topic '%s' does not exist", topic);
        goto out;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(t->partition_cnt + 1);
    for (int p = 0; p < t->partition_cnt; p++) {
        rd_kafka_topic_partition_list_add(l, topic, t->partitions[p].id)->offset =
            sl_cli_has(&args, "from-latest") ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_resp_err_t err = group ? rd_kafka_subscribe(cl->rk, l) : rd_kafka_assign(cl->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        char buf[256];
        rc = sl_cli_fail("cannot start consuming: %s", sl_cli_errstr(err, buf, sizeof(buf)));
        goto out;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    stats_init(&st, n);
    int64_t last = sl_cli_now_us();
    while (st.n < n && !stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(cl->rk, 100);
        progress(&st, "consumed", false);
        if (!m) {
            if (sl_cli_now_us() - last > (int64_t)cl->timeout_ms * 1000) {
                fprintf(stderr, "warning: no record for %d ms; stopping after %lld of %lld\n",
                        cl->timeout_ms, (long long)st.n, (long long)n);
                break;
            }
            continue;
        }
        if (!m->err) {
            last = sl_cli_now_us();
            int64_t lat = (sl_cli_now_ms() - rd_kafka_message_timestamp(m, NULL)) * 1000;
            record(&st, lat < 0 ? 0 : lat, (int64_t)(m->len + m->key_len));
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            char buf[256];
            fprintf(stderr, "warning: %s\n", sl_cli_errstr(m->err, buf, sizeof(buf)));
        }
        rd_kafka_message_destroy(m);
    }
    summary(&st, "consumed", sl_cli_json(&args));
    free(st.lat_us);
    rd_kafka_consumer_close(cl->rk);
    rc = st.n < n && !stop ? SL_CLI_FAIL : SL_CLI_OK;
out:
    sl_cli_client_free(cl);
    sl_cli_args_fini(&args);
    return rc == SL_CLI_CONTINUE ? SL_CLI_OK : rc;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const struct sl_cli_cmd *cmd;
} subs[] = {
    {"produce", perf_produce, &produce_cmd},
    {"consume", perf_consume, &consume_cmd},
};

int sl_cli_perf(int argc, char **argv)
{
    for (size_t i = 0; argc > 0 && i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(argv[0], subs[i].name) == 0) {
            return subs[i].run(argc - 1, argv + 1);
        }
    }
    bool help = argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0);
    FILE *out = help ? stdout : stderr;
    if (!help) {
        fprintf(out, argc ? "sluice perf: unknown subcommand '%s'\n\n" : "sluice perf: give a subcommand\n\n",
                argc ? argv[0] : "");
    }
    fprintf(out, "sluice perf - performance tests\n\nSubcommands:\n");
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        fprintf(out, "  %-8s %s\n", subs[i].name, subs[i].cmd->summary);
    }
    fprintf(out, "\nExamples:\n%s%s\nRun 'sluice perf produce --help' for the options.\n",
            produce_cmd.examples, consume_cmd.examples);
    return help ? SL_CLI_OK : SL_CLI_USAGE;
}
