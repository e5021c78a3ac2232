/*
 * cli_offsets.c - `sluice offsets`, like kafka-get-offsets.sh: for each partition
 * of the chosen topics, the earliest or latest offset, or the first offset whose
 * timestamp is at or after --time. Prints topic:partition:offset lines.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct sl_cli_flag flags[] = {
    {"topic", SL_CLI_ARG, "NAME|REGEX", "topics (default: all but internal ones)"},
    {"partitions", SL_CLI_ARG, "P,P", "only these partitions"},
    {"time", SL_CLI_ARG, "earliest|latest|-1|-2|MS|DATETIME",
     "which offset (default latest); a time gives the first offset at or after it"},
    {NULL},
};

static const struct sl_cli_cmd cmd = {
    "offsets",
    "earliest, latest or by-time offsets per partition (kafka-get-offsets.sh)",
    "offsets [--topic NAME|REGEX] [--partitions P,P] [--time earliest|latest|MS|DATETIME]",
    flags,
    "  sluice offsets --topic orders\n"
    "  sluice offsets --topic orders --time earliest\n"
    "  sluice offsets --topic orders --partitions 0,1 --time 2024-01-31T00:00:00Z\n"
    "  sluice offsets --output json\n",
};

static bool want_partition(const char *list, int32_t p)
{
    if (!list) {
        return true;
    }
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", list);
    char *save;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (atoi(t) == p) {
            return true;
        }
    }
    return false;
}

static int cmp_tp(const void *a, const void *b)
{
    const rd_kafka_topic_partition_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : x->partition - y->partition;
}

int sl_cli_offsets(int argc, char **argv)
{
    struct sl_cli_args args;
    int rc = sl_cli_parse(&cmd, argc, argv, &args);
    if (rc != SL_CLI_CONTINUE) {
        sl_cli_args_fini(&args);
        return rc;
    }
    const char *time = sl_cli_str(&args, "time");
    const char *topic = sl_cli_str(&args, "topic");
    const char *parts = sl_cli_str(&args, "partitions");
    int64_t ts = -1; /* -1 latest, -2 earliest, else ms */
    if (parts && strspn(parts, "0123456789,") != strlen(parts)) {
        rc = sl_cli_usage(&args, "--partitions takes a comma-separated list of numbers");
    } else if (time && (strcmp(time, "earliest") == 0 || strcmp(time, "-2") == 0)) {
        ts = -2;
    } else if (time && strcmp(time, "latest") != 0 && strcmp(time, "-1") != 0 &&
               (ts = sl_cli_parse_time(time)) < 0) {
        rc = sl_cli_usage(&args, "--time takes earliest, latest, -1, -2, ms since the epoch or "
                                 "YYYY-MM-DDTHH:mm:SS[.sss][Z]");
    }
    rd_kafka_conf_t *conf = rc == SL_CLI_CONTINUE ? sl_cli_conf_new(&args, &rc) : NULL;
    struct sl_cli_client *cl = conf ? sl_cli_client_new(&args, RD_KAFKA_PRODUCER, conf, false, &rc) : NULL;
    const struct rd_kafka_metadata *md;
    if (cl && (rc = sl_cli_metadata(cl, &md)) == 0) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
        for (int i = 0; i < md->topic_cnt; i++) {
            const struct rd_kafka_metadata_topic *t = &md->topics[i];
            if (t->err || (topic ? sl_cli_match(topic, t->topic) != 1 : strncmp(t->topic, "__", 2) == 0)) {
                continue;
            }
            for (int p = 0; p < t->partition_cnt; p++) {
                if (want_partition(parts, t->partitions[p].id)) {
                    rd_kafka_topic_partition_list_add(l, t->topic, t->partitions[p].id)->offset = ts;
                }
            }
        }
        rd_kafka_metadata_destroy(md);
        if (topic && l->cnt == 0) {
            rc = sl_cli_fail("topic '%s' does not exist (or has no such partitions)", topic);
        } else if (ts >= 0) {
            rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(cl->rk, l, cl->timeout_ms);
            char buf[256];
            if (err) {
                rc = sl_cli_fail("cannot look up offsets by time: %s", sl_cli_errstr(err, buf, sizeof(buf)));
            }
        } else {
            for (int i = 0; i < l->cnt && !rc; i++) {
                int64_t lo, hi;
                rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
                    cl->rk, l->elems[i].topic, l->elems[i].partition, &lo, &hi, cl->timeout_ms);
                char buf[256];
                if (err) {
                    rc = sl_cli_fail("cannot read the offsets of %s-%d: %s", l->elems[i].topic,
                                     l->elems[i].partition, sl_cli_errstr(err, buf, sizeof(buf)));
                }
                l->elems[i].offset = ts == -2 ? lo : hi;
            }
        }
        if (!rc) {
            qsort(l->elems, (size_t)l->cnt, sizeof(*l->elems), cmp_tp);
            if (sl_cli_json(&args)) {
                printf("[");
            }
            for (int i = 0; i < l->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &l->elems[i];
                if (sl_cli_json(&args)) {
                    printf("%s{\"topic\":", i ? "," : "");
                    sl_cli_jstr(stdout, p->topic, -1);
                    printf(",\"partition\":%d,\"offset\":", p->partition);
                    p->offset >= 0 ? printf("%lld}", (long long)p->offset) : printf("null}");
                } else if (p->offset >= 0) {
                    printf("%s:%d:%lld\n", p->topic, p->partition, (long long)p->offset);
                } else {
                    printf("%s:%d:\n", p->topic, p->partition); /* no message at or after --time */
                }
            }
            if (sl_cli_json(&args)) {
                printf("]\n");
            }
        }
        rd_kafka_topic_partition_list_destroy(l);
    }
    sl_cli_client_free(cl);
    sl_cli_args_fini(&args);
    return rc == SL_CLI_CONTINUE ? SL_CLI_OK : rc;
}
