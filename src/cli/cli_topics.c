/*
 * cli_topics.c - `sluice topics`, the kafka-topics.sh of Sluice: --create, --list,
 * --describe, --alter (partition count) and --delete.
 *
 * As in kafka-topics.sh, --topic is a regular expression for --list, --describe,
 * --alter and --delete (a plain name matches itself), and --describe prints
 *   Topic: t	TopicId: id	PartitionCount: n	ReplicationFactor: r	Configs: k=v,...
 *   	Topic: t	Partition: 0	Leader: 1	Replicas: 1	Isr: 1
 * where Configs lists the non-default configs (DescribeConfigs).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_raw.h"

static const struct sl_cli_flag flags[] = {
    {"create", SL_CLI_FLAG, NULL, "create a topic"},
    {"list", SL_CLI_FLAG, NULL, "list topic names"},
    {"describe", SL_CLI_FLAG, NULL, "describe topics: partitions, leaders, replicas, configs"},
    {"alter", SL_CLI_FLAG, NULL, "raise a topic's partition count"},
    {"delete", SL_CLI_FLAG, NULL, "delete topics"},
    {"topic", SL_CLI_ARG, "NAME|REGEX", "the topic (a regex for list/describe/alter/delete)"},
    {"partitions", SL_CLI_ARG, "N", "partition count (create, alter)"},
    {"replication-factor", SL_CLI_ARG, "N", "replicas per partition (create)"},
    {"config", SL_CLI_LIST, "KEY=VALUE", "a topic config for --create (repeatable)"},
    {"if-not-exists", SL_CLI_FLAG, NULL, "create: succeed if the topic already exists"},
    {"if-exists", SL_CLI_FLAG, NULL, "alter/delete/describe: succeed if no topic matches"},
    {"under-replicated-partitions", SL_CLI_FLAG, NULL,
     "describe: only partitions whose ISR is smaller than the replica set"},
    {"unavailable-partitions", SL_CLI_FLAG, NULL, "describe: only partitions without a leader"},
    {"exclude-internal", SL_CLI_FLAG, NULL, "list/describe: leave out internal (__) topics"},
    {NULL},
};

static const struct sl_cli_cmd cmd = {
    "topics",
    "create, list, describe, alter and delete topics (kafka-topics.sh)",
    "topics --create --topic NAME [--partitions N] [--replication-factor N] [--config K=V ...]\n"
    "topics --list [--topic REGEX]\n"
    "topics --describe [--topic REGEX] [--under-replicated-partitions]\n"
    "topics --alter --topic REGEX --partitions N\n"
    "topics --delete --topic REGEX [--if-exists]",
    flags,
    "  sluice topics --create --topic orders --partitions 6 --replication-factor 3 \\\n"
    "      --config retention.ms=86400000 --config cleanup.policy=compact\n"
    "  sluice topics --list\n"
    "  sluice topics --describe --topic orders\n"
    "  sluice topics --describe --under-replicated-partitions\n"
    "  sluice topics --alter --topic orders --partitions 12\n"
    "  sluice topics --delete --topic 'test-.*' --if-exists\n"
    "  sluice topics --list --output json --command-config client.properties\n",
};

static bool is_internal(const char *t)
{
    return strncmp(t, "__", 2) == 0;
}

/* Topics named by --topic (all when absent), sorted by name. */
struct match {
    const struct rd_kafka_metadata_topic **t;
    int n;
};

static int cmp_topic(const void *a, const void *b)
{
    const struct rd_kafka_metadata_topic *x = *(const struct rd_kafka_metadata_topic *const *)a;
    const struct rd_kafka_metadata_topic *y = *(const struct rd_kafka_metadata_topic *const *)b;
    return strcmp(x->topic, y->topic);
}

static int match_topics(const struct sl_cli_args *args, const struct rd_kafka_metadata *md,
                        struct match *m)
{
    const char *pat = sl_cli_str(args, "topic");
    if (pat && sl_cli_match(pat, "") < 0) {
        return sl_cli_usage(args, "--topic '%s' is not a valid regular expression", pat);
    }
    m->t = calloc((size_t)md->topic_cnt + 1, sizeof(*m->t));
    m->n = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const char *name = md->topics[i].topic;
        if (md->topics[i].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            continue;
        }
        if (sl_cli_has(args, "exclude-internal") && is_internal(name)) {
            continue;
        }
        if (pat && sl_cli_match(pat, name) != 1) {
            continue;
        }
        m->t[m->n++] = &md->topics[i];
    }
    qsort(m->t, (size_t)m->n, sizeof(*m->t), cmp_topic);
    return 0;
}

static void print_ids(FILE *f, const int32_t *ids, int n, bool json)
{
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s%d", i ? "," : "", ids[i]);
    }
    (void)json;
}

/* ---- --create ---- */

static int create(struct sl_cli_client *cl, const struct sl_cli_args *args)
{
    const char *topic = sl_cli_str(args, "topic");
    int64_t parts, rf;
    if (!topic) {
        return sl_cli_usage(args, "--create needs --topic");
    }
    if (sl_cli_int(args, "partitions", -1, 1, 1000000, &parts) ||
        sl_cli_int(args, "replication-factor", -1, 1, 32767, &rf)) {
        return SL_CLI_USAGE;
    }
    char errstr[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(topic, (int)parts, (int)rf, errstr, sizeof(errstr));
    if (!nt) {
        return sl_cli_usage(args, "%s", errstr);
    }
    int pos = 0;
    const char *kv;
    while ((kv = sl_cli_next(args, "config", &pos))) {
        char key[256];
        const char *val;
        if (!sl_cli_kv(kv, key, sizeof(key), &val)) {
            rd_kafka_NewTopic_destroy(nt);
            return sl_cli_usage(args, "--config takes KEY=VALUE, not '%s'", kv);
        }
        rd_kafka_NewTopic_set_config(nt, key, val);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
    rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(cl->rk, &nt, 1, o, q);
    char what[512];
    snprintf(what, sizeof(what), "cannot create topic '%s'", topic);
    rd_kafka_event_t *ev = sl_cli_admin_wait(cl, q, what);
    int rc = SL_CLI_FAIL;
    if (ev) {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t err = n ? rd_kafka_topic_result_error(res[0]) : 0;
        bool existed = err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
        if (err && !(existed && sl_cli_has(args, "if-not-exists"))) {
            const char *msg = rd_kafka_topic_result_error_string(res[0]);
            char buf[256];
            sl_cli_fail("%s: %s", what, msg && *msg ? msg : sl_cli_errstr(err, buf, sizeof(buf)));
        } else if (sl_cli_json(args)) {
            printf("{\"topic\":");
            sl_cli_jstr(stdout, topic, -1);
            printf(",\"created\":%s}\n", existed ? "false" : "true");
            rc = SL_CLI_OK;
        } else {
            if (!existed) {
                printf("Created topic %s.\n", topic);
            }
            rc = SL_CLI_OK;
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* ---- --list ---- */

static int list(struct sl_cli_client *cl, const struct sl_cli_args *args)
{
    const struct rd_kafka_metadata *md;
    struct match m;
    int rc = sl_cli_metadata(cl, &md);
    if (rc) {
        return rc;
    }
    if ((rc = match_topics(args, md, &m)) == 0) {
        if (sl_cli_json(args)) {
            printf("[");
            for (int i = 0; i < m.n; i++) {
                printf(i ? "," : "");
                sl_cli_jstr(stdout, m.t[i]->topic, -1);
            }
            printf("]\n");
        } else {
            for (int i = 0; i < m.n; i++) {
                printf("%s\n", m.t[i]->topic);
            }
        }
        free(m.t);
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

/* ---- --describe ---- */

/* Non-default configs of each topic as "k=v,k=v" (DescribeConfigs); empty strings
 * when the broker cannot say, as describing partitions does not depend on it. */
static char **topic_configs(struct sl_cli_client *cl, const struct match *m, bool json)
{
    char **out = calloc((size_t)m->n + 1, sizeof(*out));
    if (m->n == 0) {
        return out;
    }
    rd_kafka_ConfigResource_t **res = calloc((size_t)m->n, sizeof(*res));
    for (int i = 0; i < m->n; i++) {
        res[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, m->t[i]->topic);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
    rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(cl->rk, res, (size_t)m->n, o, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, cl->timeout_ms + 2000);
    if (ev && !rd_kafka_event_error(ev)) {
        size_t n;
        const rd_kafka_ConfigResource_t **rr =
            rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
        for (size_t r = 0; r < n; r++) {
            int idx = -1;
            for (int i = 0; i < m->n; i++) {
                if (strcmp(m->t[i]->topic, rd_kafka_ConfigResource_name(rr[r])) == 0) {
                    idx = i;
                }
            }
            if (idx < 0 || rd_kafka_ConfigResource_error(rr[r])) {
                continue;
            }
            size_t ne;
            const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(rr[r], &ne);
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            int k = 0;
            for (size_t j = 0; j < ne; j++) {
                if (rd_kafka_ConfigEntry_is_default(e[j])) {
                    continue;
                }
                const char *v = rd_kafka_ConfigEntry_is_sensitive(e[j])
                                    ? NULL
                                    : rd_kafka_ConfigEntry_value(e[j]);
                if (json) {
                    fprintf(f, "%s", k ? "," : "");
                    sl_cli_jstr(f, rd_kafka_ConfigEntry_name(e[j]), -1);
                    fputc(':', f);
                    sl_cli_jstr(f, v, -1);
                } else {
                    fprintf(f, "%s%s=%s", k ? "," : "", rd_kafka_ConfigEntry_name(e[j]),
                            v ? v : "<sensitive>");
                }
                k++;
            }
            fclose(f);
            out[idx] = buf;
        }
    }
    if (ev) {
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy_array(res, (size_t)m->n);
    free(res);
    return out;
}

static int cmp_part(const void *a, const void *b)
{
    return ((const rd_kafka_metadata_partition_t *)a)->id -
           ((const rd_kafka_metadata_partition_t *)b)->id;
}

static void describe_json(const struct match *m, char **configs, const struct sl_cli_raw_md *raw,
                          bool only_bad)
{
    printf("[");
    for (int i = 0; i < m->n; i++) {
        const struct rd_kafka_metadata_topic *t = m->t[i];
        const char *id = sl_cli_raw_topic_id(raw, t->topic);
        printf("%s{\"topic\":", i ? "," : "");
        sl_cli_jstr(stdout, t->topic, -1);
        printf(",\"topic_id\":");
        sl_cli_jstr(stdout, id, -1);
        printf(",\"partition_count\":%d,\"replication_factor\":%d,\"configs\":{%s},"
               "\"partitions\":[",
               t->partition_cnt, t->partition_cnt ? t->partitions[0].replica_cnt : 0,
               configs[i] ? configs[i] : "");
        int k = 0;
        for (int p = 0; p < t->partition_cnt; p++) {
            const rd_kafka_metadata_partition_t *pp = &t->partitions[p];
            if (only_bad && pp->isr_cnt >= pp->replica_cnt && pp->leader >= 0) {
                continue;
            }
            printf("%s{\"partition\":%d,\"leader\":%d,\"replicas\":[", k++ ? "," : "", pp->id,
                   pp->leader);
            print_ids(stdout, pp->replicas, pp->replica_cnt, true);
            printf("],\"isr\":[");
            print_ids(stdout, pp->isrs, pp->isr_cnt, true);
            printf("]}");
        }
        printf("]}");
    }
    printf("]\n");
}

static int describe(struct sl_cli_client *cl, const struct sl_cli_args *args)
{
    const struct rd_kafka_metadata *md;
    struct match m;
    int rc = sl_cli_metadata(cl, &md);
    if (rc || (rc = match_topics(args, md, &m)) != 0) {
        if (!rc) {
            rd_kafka_metadata_destroy(md);
        }
        return rc;
    }
    const char *pat = sl_cli_str(args, "topic");
    if (pat && m.n == 0 && !sl_cli_has(args, "if-exists")) {
        free(m.t);
        rd_kafka_metadata_destroy(md);
        return sl_cli_fail("topic '%s' does not exist", pat);
    }
    for (int i = 0; i < m.n; i++) { /* librdkafka keeps the broker's order */
        qsort(((struct rd_kafka_metadata_topic *)m.t[i])->partitions,
              (size_t)m.t[i]->partition_cnt, sizeof(rd_kafka_metadata_partition_t), cmp_part);
    }
    bool urp = sl_cli_has(args, "under-replicated-partitions");
    bool unavail = sl_cli_has(args, "unavailable-partitions");
    bool filtered = urp || unavail;
    char **configs = filtered ? calloc((size_t)m.n + 1, sizeof(char *))
                              : topic_configs(cl, &m, sl_cli_json(args));
    struct sl_cli_raw_md *raw = filtered ? NULL : sl_cli_raw_metadata(cl);
    if (sl_cli_json(args)) {
        describe_json(&m, configs, raw, filtered);
    } else {
        for (int i = 0; i < m.n; i++) {
            const struct rd_kafka_metadata_topic *t = m.t[i];
            if (!filtered) {
                const char *id = sl_cli_raw_topic_id(raw, t->topic);
                printf("Topic: %s\tTopicId: %s\tPartitionCount: %d\tReplicationFactor: %d\t"
                       "Configs: %s\n",
                       t->topic, id ? id : "", t->partition_cnt,
                       t->partition_cnt ? t->partitions[0].replica_cnt : 0,
                       configs[i] ? configs[i] : "");
            }
            for (int p = 0; p < t->partition_cnt; p++) {
                const rd_kafka_metadata_partition_t *pp = &t->partitions[p];
                bool is_urp = pp->isr_cnt < pp->replica_cnt;
                bool is_unavail = pp->leader < 0;
                if (filtered && !((urp && is_urp) || (unavail && is_unavail))) {
                    continue;
                }
                printf("\tTopic: %s\tPartition: %d\tLeader: ", t->topic, pp->id);
                if (pp->leader < 0) {
                    printf("none");
                } else {
                    printf("%d", pp->leader);
                }
                printf("\tReplicas: ");
                print_ids(stdout, pp->replicas, pp->replica_cnt, false);
                printf("\tIsr: ");
                print_ids(stdout, pp->isrs, pp->isr_cnt, false);
                printf("\n");
            }
        }
    }
    for (int i = 0; i < m.n; i++) {
        free(configs[i]);
    }
    free(configs);
    sl_cli_raw_free(raw);
    free(m.t);
    rd_kafka_metadata_destroy(md);
    return SL_CLI_OK;
}

/* ---- --delete and --alter: on every topic --topic matches ---- */

static int matched_or_fail(struct sl_cli_client *cl, const struct sl_cli_args *args,
                           const struct rd_kafka_metadata **md, struct match *m)
{
    const char *pat = sl_cli_str(args, "topic");
    if (!pat) {
        return sl_cli_usage(args, "this action needs --topic");
    }
    int rc = sl_cli_metadata(cl, md);
    if (rc) {
        return rc;
    }
    if ((rc = match_topics(args, *md, m)) != 0) {
        rd_kafka_metadata_destroy(*md);
        return rc;
    }
    if (m->n == 0) {
        free(m->t);
        rd_kafka_metadata_destroy(*md);
        return sl_cli_has(args, "if-exists") ? SL_CLI_OK
                                             : sl_cli_fail("topic '%s' does not exist", pat);
    }
    return SL_CLI_CONTINUE;
}

static int report_results(const rd_kafka_topic_result_t **res, size_t n, const char *verb,
                          const char *done, const struct sl_cli_args *args)
{
    int rc = SL_CLI_OK;
    if (sl_cli_json(args)) {
        printf("[");
    }
    for (size_t i = 0; i < n; i++) {
        const char *t = rd_kafka_topic_result_name(res[i]);
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
        const char *msg = rd_kafka_topic_result_error_string(res[i]);
        char buf[256];
        if (err) {
            sl_cli_fail("cannot %s topic '%s': %s", verb, t,
                        msg && *msg ? msg : sl_cli_errstr(err, buf, sizeof(buf)));
            rc = SL_CLI_FAIL;
        }
        if (sl_cli_json(args)) {
            printf("%s{\"topic\":", i ? "," : "");
            sl_cli_jstr(stdout, t, -1);
            printf(",\"ok\":%s}", err ? "false" : "true");
        } else if (!err) {
            printf("%s topic %s.\n", done, t);
        }
    }
    if (sl_cli_json(args)) {
        printf("]\n");
    }
    return rc;
}

static int delete(struct sl_cli_client *cl, const struct sl_cli_args *args)
{
    const struct rd_kafka_metadata *md;
    struct match m;
    int rc = matched_or_fail(cl, args, &md, &m);
    if (rc != SL_CLI_CONTINUE) {
        return rc;
    }
    rd_kafka_DeleteTopic_t **dt = calloc((size_t)m.n, sizeof(*dt));
    for (int i = 0; i < m.n; i++) {
        dt[i] = rd_kafka_DeleteTopic_new(m.t[i]->topic);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
    rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopics(cl->rk, dt, (size_t)m.n, o, q);
    rd_kafka_event_t *ev = sl_cli_admin_wait(cl, q, "cannot delete topics");
    rc = SL_CLI_FAIL;
    if (ev) {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        rc = report_results(res, n, "delete", "Deleted", args);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy_array(dt, (size_t)m.n);
    free(dt);
    free(m.t);
    rd_kafka_metadata_destroy(md);
    return rc;
}

static int alter(struct sl_cli_client *cl, const struct sl_cli_args *args)
{
    int64_t parts;
    if (sl_cli_has(args, "config")) {
        return sl_cli_usage(args, "--alter changes partition counts; change configs with "
                                  "'sluice configs --alter --entity-type topics ...'");
    }
    if (sl_cli_int(args, "partitions", -1, 1, 1000000, &parts)) {
        return SL_CLI_USAGE;
    }
    if (parts < 0) {
        return sl_cli_usage(args, "--alter needs --partitions");
    }
    const struct rd_kafka_metadata *md;
    struct match m;
    int rc = matched_or_fail(cl, args, &md, &m);
    if (rc != SL_CLI_CONTINUE) {
        return rc;
    }
    rd_kafka_NewPartitions_t **np = calloc((size_t)m.n, sizeof(*np));
    char errstr[256];
    for (int i = 0; i < m.n; i++) {
        np[i] = rd_kafka_NewPartitions_new(m.t[i]->topic, (size_t)parts, errstr, sizeof(errstr));
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
    rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    rd_kafka_CreatePartitions(cl->rk, np, (size_t)m.n, o, q);
    rd_kafka_event_t *ev = sl_cli_admin_wait(cl, q, "cannot add partitions");
    rc = SL_CLI_FAIL;
    if (ev) {
        size_t n;
        const rd_kafka_topic_result_t **res = rd_kafka_CreatePartitions_result_topics(
            rd_kafka_event_CreatePartitions_result(ev), &n);
        rc = report_results(res, n, "alter", "Altered", args);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewPartitions_destroy_array(np, (size_t)m.n);
    free(np);
    free(m.t);
    rd_kafka_metadata_destroy(md);
    return rc;
}

/* Checks of the command line made before connecting, so usage errors exit 2. */
static int check_create(const struct sl_cli_args *args)
{
    int64_t v;
    if (!sl_cli_str(args, "topic")) {
        return sl_cli_usage(args, "--create needs --topic");
    }
    return sl_cli_int(args, "partitions", -1, 1, 1000000, &v) ||
                   sl_cli_int(args, "replication-factor", -1, 1, 32767, &v)
               ? SL_CLI_USAGE
               : 0;
}

static int check_alter(const struct sl_cli_args *args)
{
    int64_t v;
    if (!sl_cli_str(args, "topic")) {
        return sl_cli_usage(args, "--alter needs --topic");
    }
    if (sl_cli_has(args, "config")) {
        return sl_cli_usage(args, "--alter changes partition counts; change configs with "
                                  "'sluice configs --alter --entity-type topics ...'");
    }
    if (sl_cli_int(args, "partitions", -1, 1, 1000000, &v)) {
        return SL_CLI_USAGE;
    }
    return v < 0 ? sl_cli_usage(args, "--alter needs --partitions") : 0;
}

static int check_delete(const struct sl_cli_args *args)
{
    return sl_cli_str(args, "topic") ? 0 : sl_cli_usage(args, "--delete needs --topic");
}

static const struct {
    const char *flag;
    int (*check)(const struct sl_cli_args *args); /* may be NULL */
    int (*fn)(struct sl_cli_client *cl, const struct sl_cli_args *args);
} actions[] = {
    {"create", check_create, create}, {"list", NULL, list},
    {"describe", NULL, describe},     {"alter", check_alter, alter},
    {"delete", check_delete, delete},
};

int sl_cli_topics(int argc, char **argv)
{
    struct sl_cli_args args;
    int rc = sl_cli_parse(&cmd, argc, argv, &args);
    if (rc != SL_CLI_CONTINUE) {
        sl_cli_args_fini(&args);
        return rc;
    }
    int chosen = -1, count = 0;
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        if (sl_cli_has(&args, actions[i].flag)) {
            chosen = (int)i;
            count++;
        }
    }
    if (count != 1) {
        rc = sl_cli_usage(&args, "give exactly one of --create, --list, --describe, --alter, "
                                 "--delete");
    } else if (sl_cli_str(&args, "topic") && sl_cli_match(sl_cli_str(&args, "topic"), "") < 0) {
        rc = sl_cli_usage(&args, "--topic '%s' is not a valid regular expression",
                          sl_cli_str(&args, "topic"));
    } else if (!actions[chosen].check || (rc = actions[chosen].check(&args)) == 0) {
        rd_kafka_conf_t *conf = sl_cli_conf_new(&args, &rc);
        struct sl_cli_client *cl =
            conf ? sl_cli_client_new(&args, RD_KAFKA_PRODUCER, conf, true, &rc) : NULL;
        if (cl) {
            rc = actions[chosen].fn(cl, &args);
            sl_cli_client_free(cl);
        }
    }
    sl_cli_args_fini(&args);
    return rc;
}
