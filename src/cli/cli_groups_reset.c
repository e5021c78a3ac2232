/*
 * cli_groups_reset.c - `sluice groups --reset-offsets`: computes new committed
 * offsets for a group's partitions and, with --execute, commits them
 * (AlterConsumerGroupOffsets). As kafka-consumer-groups.sh: the group must be
 * inactive (Empty or Dead), new offsets stay within [earliest, latest], a dry run
 * is the default, and the plan prints as GROUP TOPIC PARTITION NEW-OFFSET.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_groups.h"

enum strategy { TO_EARLIEST, TO_LATEST, TO_CURRENT, TO_OFFSET, SHIFT_BY, TO_DATETIME };

static const struct {
    const char *flag;
    enum strategy s;
} strategies[] = {
    {"to-earliest", TO_EARLIEST}, {"to-latest", TO_LATEST},   {"to-current", TO_CURRENT},
    {"to-offset", TO_OFFSET},     {"shift-by", SHIFT_BY},     {"to-datetime", TO_DATETIME},
};

/* Partitions to reset: --all-topics = those with committed offsets; else each
 * --topic T or T:p,p (all of T's partitions when none are named). */
static int targets(struct sl_cli_client *cl, const struct sl_cli_args *args,
                   const struct sl_cli_ginfo *gi, rd_kafka_topic_partition_list_t *out)
{
    if (sl_cli_has(args, "all-topics")) {
        for (int i = 0; i < gi->nrows; i++) {
            if (gi->rows[i].current >= 0) {
                rd_kafka_topic_partition_list_add(out, gi->rows[i].topic, gi->rows[i].partition);
            }
        }
        return 0;
    }
    const struct rd_kafka_metadata *md;
    int rc = sl_cli_metadata(cl, &md);
    if (rc) {
        return rc;
    }
    int pos = 0;
    const char *spec;
    while (!rc && (spec = sl_cli_next(args, "topic", &pos))) {
        char topic[512];
        snprintf(topic, sizeof(topic), "%s", spec);
        char *colon = strchr(topic, ':');
        if (colon) {
            *colon++ = '\0';
        }
        const struct rd_kafka_metadata_topic *t = sl_cli_md_topic(md, topic);
        if (!t || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            rc = sl_cli_fail("topic '%s' does not exist", topic);
            break;
        }
        if (!colon) {
            for (int p = 0; p < t->partition_cnt; p++) {
                rd_kafka_topic_partition_list_add(out, topic, t->partitions[p].id);
            }
            continue;
        }
        for (char *tok = strtok(colon, ","); tok; tok = strtok(NULL, ",")) {
            char *end;
            long p = strtol(tok, &end, 10);
            if (*end || end == tok || p < 0) {
                rc = sl_cli_usage(args, "bad partition '%s' in --topic %s", tok, spec);
                break;
            }
            if (p >= t->partition_cnt) {
                rc = sl_cli_fail("topic '%s' has no partition %ld", topic, p);
                break;
            }
            rd_kafka_topic_partition_list_add(out, topic, (int32_t)p);
        }
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Sets each element's offset to the new one. */
static int plan(struct sl_cli_client *cl, const struct sl_cli_args *args, enum strategy s,
                const struct sl_cli_ginfo *gi, rd_kafka_topic_partition_list_t *l)
{
    int64_t arg = 0;
    if (s == TO_OFFSET || s == SHIFT_BY) {
        int rc = sl_cli_int(args, s == TO_OFFSET ? "to-offset" : "shift-by", 0,
                            s == TO_OFFSET ? 0 : INT64_MIN + 1, INT64_MAX, &arg);
        if (rc) {
            return rc;
        }
    }
    rd_kafka_topic_partition_list_t *times = NULL;
    if (s == TO_DATETIME) {
        int64_t ts = sl_cli_parse_time(sl_cli_str(args, "to-datetime"));
        if (ts < 0) {
            return sl_cli_usage(args, "--to-datetime takes YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm]");
        }
        times = rd_kafka_topic_partition_list_copy(l);
        for (int i = 0; i < times->cnt; i++) {
            times->elems[i].offset = ts;
        }
        rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(cl->rk, times, cl->timeout_ms);
        if (err) {
            char buf[256];
            rd_kafka_topic_partition_list_destroy(times);
            return sl_cli_fail("cannot look up offsets by time: %s",
                               sl_cli_errstr(err, buf, sizeof(buf)));
        }
    }
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *p = &l->elems[i];
        int64_t lo, hi, cur = -1;
        if (rd_kafka_query_watermark_offsets(cl->rk, p->topic, p->partition, &lo, &hi,
                                             cl->timeout_ms) != 0) {
            if (times) {
                rd_kafka_topic_partition_list_destroy(times);
            }
            return sl_cli_fail("cannot read the offsets of %s-%d", p->topic, p->partition);
        }
        for (int r = 0; r < gi->nrows; r++) {
            if (gi->rows[r].partition == p->partition && strcmp(gi->rows[r].topic, p->topic) == 0) {
                cur = gi->rows[r].current;
            }
        }
        int64_t base = cur >= 0 ? cur : hi; /* no commit yet: the consumer would start at the end */
        int64_t v = s == TO_EARLIEST  ? lo
                    : s == TO_LATEST  ? hi
                    : s == TO_CURRENT ? base
                    : s == TO_OFFSET  ? arg
                    : s == SHIFT_BY   ? base + arg
                                      : (times->elems[i].offset >= 0 ? times->elems[i].offset : hi);
        p->offset = clamp(v, lo, hi);
    }
    if (times) {
        rd_kafka_topic_partition_list_destroy(times);
    }
    return 0;
}

static void print_plan(const char *group, const rd_kafka_topic_partition_list_t *l, bool json,
                       bool *first)
{
    int wg = (int)strlen(group) > 15 ? (int)strlen(group) : 15, wt = 15;
    for (int i = 0; i < l->cnt; i++) {
        int n = (int)strlen(l->elems[i].topic);
        wt = n > wt ? n : wt;
    }
    if (!json) {
        printf("\n%-*s %-*s %-10s %s\n", wg, "GROUP", wt, "TOPIC", "PARTITION", "NEW-OFFSET");
    }
    for (int i = 0; i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &l->elems[i];
        if (json) {
            printf("%s{\"group\":", *first ? "" : ",");
            *first = false;
            sl_cli_jstr(stdout, group, -1);
            printf(",\"topic\":");
            sl_cli_jstr(stdout, p->topic, -1);
            printf(",\"partition\":%d,\"new_offset\":%lld}", p->partition, (long long)p->offset);
        } else {
            printf("%-*s %-*s %-10d %lld\n", wg, group, wt, p->topic, p->partition,
                   (long long)p->offset);
        }
    }
}

static int commit(struct sl_cli_client *cl, const char *group, const rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_AlterConsumerGroupOffsets_t *a = rd_kafka_AlterConsumerGroupOffsets_new(group, l);
    rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
    rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
    char what[512];
    snprintf(what, sizeof(what), "cannot commit the new offsets of group '%s'", group);
    rd_kafka_AlterConsumerGroupOffsets(cl->rk, &a, 1, o, q);
    rd_kafka_event_t *ev = sl_cli_admin_wait(cl, q, what);
    int rc = ev ? 0 : SL_CLI_FAIL;
    if (ev) {
        size_t n;
        const rd_kafka_group_result_t **g = rd_kafka_AlterConsumerGroupOffsets_result_groups(
            rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
        const rd_kafka_error_t *e = n ? rd_kafka_group_result_error(g[0]) : NULL;
        const rd_kafka_topic_partition_list_t *res = n ? rd_kafka_group_result_partitions(g[0]) : NULL;
        if (e) {
            rc = sl_cli_fail("%s: %s", what, rd_kafka_error_string(e));
        }
        for (int i = 0; !rc && res && i < res->cnt; i++) {
            if (res->elems[i].err) {
                char buf[256];
                rc = sl_cli_fail("%s: %s-%d: %s", what, res->elems[i].topic,
                                 res->elems[i].partition,
                                 sl_cli_errstr(res->elems[i].err, buf, sizeof(buf)));
            }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_AlterConsumerGroupOffsets_destroy(a);
    return rc;
}

static int chosen_strategy(const struct sl_cli_args *args)
{
    int chosen = -1, count = 0;
    for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++) {
        if (sl_cli_has(args, strategies[i].flag)) {
            chosen = (int)i;
            count++;
        }
    }
    if (count != 1) {
        sl_cli_usage(args, "--reset-offsets needs exactly one of --to-earliest, --to-latest, "
                           "--to-current, --to-offset, --shift-by, --to-datetime");
        return -1;
    }
    return chosen;
}

int sl_cli_groups_reset_check(const struct sl_cli_args *args)
{
    if (chosen_strategy(args) < 0) {
        return SL_CLI_USAGE;
    }
    if (sl_cli_has(args, "topic") == sl_cli_has(args, "all-topics")) {
        return sl_cli_usage(args, "--reset-offsets needs --topic or --all-topics");
    }
    if (!sl_cli_has(args, "group")) {
        return sl_cli_usage(args, "--reset-offsets needs --group");
    }
    if (sl_cli_has(args, "execute") && sl_cli_has(args, "dry-run")) {
        return sl_cli_usage(args, "give --dry-run or --execute, not both");
    }
    if (sl_cli_has(args, "to-datetime") && sl_cli_parse_time(sl_cli_str(args, "to-datetime")) < 0) {
        return sl_cli_usage(args, "--to-datetime takes YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm]");
    }
    int64_t v;
    if (sl_cli_int(args, "to-offset", 0, 0, INT64_MAX, &v) ||
        sl_cli_int(args, "shift-by", 0, INT64_MIN + 1, INT64_MAX, &v)) {
        return SL_CLI_USAGE;
    }
    return 0;
}

int sl_cli_groups_reset(struct sl_cli_client *cl, const struct sl_cli_args *args)
{
    int chosen = chosen_strategy(args);
    bool execute = sl_cli_has(args, "execute");
    if (!execute && !sl_cli_has(args, "dry-run")) {
        fprintf(stderr, "WARN: No action will be performed as the --execute option is missing. "
                        "In a future major release, the default behavior of this command will be "
                        "to prompt the user before executing the reset rather than doing a dry "
                        "run. You should add the --dry-run option explicitly if you are "
                        "scripting this command and want to keep the current default "
                        "behavior without prompting.\n");
    }
    bool json = sl_cli_json(args), first = true;
    int rc = 0, pos = 0;
    const char *group;
    if (json) {
        printf("[");
    }
    while (!rc && (group = sl_cli_next(args, "group", &pos))) {
        struct sl_cli_ginfo gi;
        if ((rc = sl_cli_group_describe(cl, group, &gi)) != 0) {
            break;
        }
        rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(gi.desc);
        if (st != RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY && st != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD) {
            rc = sl_cli_fail("assignments can only be reset if the group '%s' is inactive, but "
                             "the current state is %s",
                             group, rd_kafka_consumer_group_state_name(st));
        }
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
        if (!rc && (rc = targets(cl, args, &gi, l)) == 0 &&
            (rc = plan(cl, args, strategies[chosen].s, &gi, l)) == 0) {
            if (execute && l->cnt) {
                rc = commit(cl, group, l);
            }
            if (!rc) {
                print_plan(group, l, json, &first);
            }
        }
        rd_kafka_topic_partition_list_destroy(l);
        sl_cli_ginfo_fini(&gi);
    }
    if (json) {
        printf("]\n");
    }
    return rc;
}
