/*
 * cli_groups.c - `sluice groups`, the kafka-consumer-groups.sh of Sluice:
 * --list [--state], --describe [--members [--verbose] | --state], --delete and
 * --reset-offsets (--to-earliest/--to-latest/--to-offset/--shift-by/--to-datetime,
 * --dry-run by default, --execute to apply).
 *
 * --describe prints Kafka's table, column for column:
 *   GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
 * with the widths kafka-consumer-groups.sh computes (at least 15, else the widest
 * value) and "-" where there is no value.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_groups.h"

static const struct sl_cli_flag flags[] = {
    {"list", SL_CLI_FLAG, NULL, "list groups"},
    {"describe", SL_CLI_FLAG, NULL, "offsets and lag per partition (or --members, --state)"},
    {"delete", SL_CLI_FLAG, NULL, "delete groups (they must have no members)"},
    {"reset-offsets", SL_CLI_FLAG, NULL, "reset committed offsets (dry run unless --execute)"},
    {"group", SL_CLI_LIST, "ID", "the group (repeatable)"},
    {"all-groups", SL_CLI_FLAG, NULL, "every group (describe, delete, reset-offsets)"},
    {"members", SL_CLI_FLAG, NULL, "describe: members instead of offsets"},
    {"verbose", SL_CLI_FLAG, NULL, "describe --members: with their assignments"},
    {"state", SL_CLI_FLAG, NULL, "describe: the group's state; list: with states"},
    {"offsets", SL_CLI_FLAG, NULL, "describe: offsets and lag (the default)"},
    {"topic", SL_CLI_LIST, "NAME[:P,P]", "reset-offsets: topic, optionally some partitions"},
    {"all-topics", SL_CLI_FLAG, NULL, "reset-offsets: every topic the group has offsets for"},
    {"to-earliest", SL_CLI_FLAG, NULL, "reset to the earliest offset"},
    {"to-latest", SL_CLI_FLAG, NULL, "reset to the latest offset"},
    {"to-current", SL_CLI_FLAG, NULL, "reset to the committed offset"},
    {"to-offset", SL_CLI_ARG, "N", "reset to this offset (kept within earliest..latest)"},
    {"shift-by", SL_CLI_ARG, "N", "move the committed offset by N (may be negative)"},
    {"to-datetime", SL_CLI_ARG, "YYYY-MM-DDTHH:mm:SS.sss", "reset to the first offset at or after"},
    {"dry-run", SL_CLI_FLAG, NULL, "show the new offsets only (the default)"},
    {"execute", SL_CLI_FLAG, NULL, "commit the new offsets"},
    {NULL},
};

static const struct sl_cli_cmd cmd = {
    "groups",
    "list, describe, delete consumer groups, reset their offsets (kafka-consumer-groups.sh)",
    "groups --list [--state]\n"
    "groups --describe --group ID [--members [--verbose] | --state]\n"
    "groups --delete --group ID\n"
    "groups --reset-offsets --group ID --topic T[:P,P] | --all-topics\n"
    "       --to-earliest | --to-latest | --to-offset N | --shift-by N | --to-datetime T\n"
    "       [--dry-run | --execute]",
    flags,
    "  sluice groups --list\n"
    "  sluice groups --describe --group billing\n"
    "  sluice groups --describe --group billing --members --verbose\n"
    "  sluice groups --describe --all-groups --state\n"
    "  sluice groups --reset-offsets --group billing --topic orders --to-earliest --execute\n"
    "  sluice groups --reset-offsets --group billing --topic orders:0,1 --shift-by -10\n"
    "  sluice groups --reset-offsets --group billing --all-topics \\\n"
    "      --to-datetime 2024-01-31T00:00:00.000Z --execute\n"
    "  sluice groups --delete --group old-group\n",
};

#define DASH "-"

static int wait_ev(struct sl_cli_client *cl, rd_kafka_queue_t *q, const char *what,
                   rd_kafka_event_t **ev)
{
    *ev = sl_cli_admin_wait(cl, q, what);
    return *ev ? 0 : SL_CLI_FAIL;
}

static int group_ids(struct sl_cli_client *cl, const struct sl_cli_args *args, char ***ids, int *n);

/* ---- --list ---- */

static int list(struct sl_cli_client *cl, const struct sl_cli_args *args)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
    rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(cl->rk, o, q);
    rd_kafka_event_t *ev;
    int rc = wait_ev(cl, q, "cannot list groups", &ev);
    if (!rc) {
        const rd_kafka_ListConsumerGroups_result_t *r = rd_kafka_event_ListConsumerGroups_result(ev);
        size_t n, nerr;
        const rd_kafka_ConsumerGroupListing_t **g = rd_kafka_ListConsumerGroups_result_valid(r, &n);
        const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(r, &nerr);
        for (size_t i = 0; i < nerr; i++) {
            fprintf(stderr, "warning: a broker did not list its groups: %s\n",
                    rd_kafka_error_string(errs[i]));
        }
        if (nerr && !n) {
            rc = sl_cli_fail("cannot list groups: no broker answered");
        }
        bool state = sl_cli_has(args, "state");
        int w = 15;
        for (size_t i = 0; i < n; i++) {
            int l = (int)strlen(rd_kafka_ConsumerGroupListing_group_id(g[i]));
            w = l > w ? l : w;
        }
        if (sl_cli_json(args)) {
            printf("[");
        } else if (state) {
            printf("%-*s %s\n", w, "GROUP", "STATE");
        }
        for (size_t i = 0; i < n; i++) {
            const char *id = rd_kafka_ConsumerGroupListing_group_id(g[i]);
            const char *st =
                rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(g[i]));
            if (sl_cli_json(args)) {
                printf("%s{\"group\":", i ? "," : "");
                sl_cli_jstr(stdout, id, -1);
                printf(",\"state\":");
                sl_cli_jstr(stdout, st, -1);
                printf("}");
            } else if (state) {
                printf("%-*s %s\n", w, id, st);
            } else {
                printf("%s\n", id);
            }
        }
        if (sl_cli_json(args)) {
            printf("]\n");
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* ---- what --describe and --reset-offsets need: description and offsets ---- */

void sl_cli_ginfo_fini(struct sl_cli_ginfo *gi)
{
    if (gi->desc_ev) {
        rd_kafka_event_destroy(gi->desc_ev);
    }
    if (gi->off_ev) {
        rd_kafka_event_destroy(gi->off_ev);
    }
    free(gi->rows);
    memset(gi, 0, sizeof(*gi));
}

static struct sl_cli_grow *row_for(struct sl_cli_ginfo *gi, const char *topic, int32_t partition)
{
    for (int i = 0; i < gi->nrows; i++) {
        if (gi->rows[i].partition == partition && strcmp(gi->rows[i].topic, topic) == 0) {
            return &gi->rows[i];
        }
    }
    gi->rows = realloc(gi->rows, sizeof(*gi->rows) * (size_t)(gi->nrows + 1));
    struct sl_cli_grow *r = &gi->rows[gi->nrows++];
    *r = (struct sl_cli_grow){topic, partition, -1, -1, -1, NULL};
    return r;
}

static int cmp_row(const void *a, const void *b)
{
    const struct sl_cli_grow *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : x->partition - y->partition;
}

int sl_cli_group_describe(struct sl_cli_client *cl, const char *group, struct sl_cli_ginfo *gi)
{
    char what[512];
    snprintf(what, sizeof(what), "cannot describe group '%s'", group);
    memset(gi, 0, sizeof(*gi));
    rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
    rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(cl->rk, &group, 1, o, q);
    int rc = wait_ev(cl, q, what, &gi->desc_ev);
    rd_kafka_AdminOptions_destroy(o);
    if (!rc) {
        size_t n;
        const rd_kafka_ConsumerGroupDescription_t **d = rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(gi->desc_ev), &n);
        const rd_kafka_error_t *e = n ? rd_kafka_ConsumerGroupDescription_error(d[0]) : NULL;
        if (!n || e) {
            rc = sl_cli_fail("%s: %s", what, e ? rd_kafka_error_string(e) : "no answer");
        } else {
            gi->desc = d[0];
        }
    }
    if (!rc) {
        rd_kafka_ListConsumerGroupOffsets_t *l = rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
        o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
        rd_kafka_ListConsumerGroupOffsets(cl->rk, &l, 1, o, q);
        rc = wait_ev(cl, q, what, &gi->off_ev);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_ListConsumerGroupOffsets_destroy(l);
    }
    if (!rc) {
        size_t n;
        const rd_kafka_group_result_t **g = rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(gi->off_ev), &n);
        if (n && !rd_kafka_group_result_error(g[0])) {
            gi->committed = rd_kafka_group_result_partitions(g[0]);
        }
    }
    rd_kafka_queue_destroy(q);
    if (rc) {
        return rc;
    }
    for (int i = 0; gi->committed && i < gi->committed->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &gi->committed->elems[i];
        if (!p->err && p->offset >= 0) {
            row_for(gi, p->topic, p->partition)->current = p->offset;
        }
    }
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(gi->desc);
    for (size_t m = 0; m < nm; m++) {
        const rd_kafka_MemberDescription_t *md =
            rd_kafka_ConsumerGroupDescription_member(gi->desc, m);
        const rd_kafka_topic_partition_list_t *a =
            rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
        for (int i = 0; a && i < a->cnt; i++) {
            row_for(gi, a->elems[i].topic, a->elems[i].partition)->member = md;
        }
    }
    for (int i = 0; i < gi->nrows; i++) {
        struct sl_cli_grow *r = &gi->rows[i];
        if (rd_kafka_query_watermark_offsets(cl->rk, r->topic, r->partition, &r->lo, &r->hi,
                                             cl->timeout_ms) != 0) {
            r->lo = r->hi = -1;
        }
    }
    qsort(gi->rows, (size_t)gi->nrows, sizeof(*gi->rows), cmp_row);
    return 0;
}

static const char *state_name(const struct sl_cli_ginfo *gi)
{
    return rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(gi->desc));
}

static int maxw(int w, const char *s)
{
    int l = s ? (int)strlen(s) : 1;
    return l > w ? l : w;
}

static void fmt_i64(char *buf, size_t sz, int64_t v)
{
    if (v < 0) {
        snprintf(buf, sz, DASH);
    } else {
        snprintf(buf, sz, "%lld", (long long)v);
    }
}

static void print_offsets(const char *group, const struct sl_cli_ginfo *gi, bool json, bool *first)
{
    if (json) {
        for (int i = 0; i < gi->nrows; i++) {
            const struct sl_cli_grow *r = &gi->rows[i];
            printf("%s{\"group\":", *first ? "" : ",");
            *first = false;
            sl_cli_jstr(stdout, group, -1);
            printf(",\"topic\":");
            sl_cli_jstr(stdout, r->topic, -1);
            printf(",\"partition\":%d,\"current_offset\":", r->partition);
            r->current >= 0 ? printf("%lld", (long long)r->current) : printf("null");
            printf(",\"log_end_offset\":");
            r->hi >= 0 ? printf("%lld", (long long)r->hi) : printf("null");
            printf(",\"lag\":");
            r->current >= 0 && r->hi >= 0 ? printf("%lld", (long long)(r->hi - r->current))
                                          : printf("null");
            const rd_kafka_MemberDescription_t *m = r->member;
            printf(",\"consumer_id\":");
            sl_cli_jstr(stdout, m ? rd_kafka_MemberDescription_consumer_id(m) : NULL, -1);
            printf(",\"host\":");
            sl_cli_jstr(stdout, m ? rd_kafka_MemberDescription_host(m) : NULL, -1);
            printf(",\"client_id\":");
            sl_cli_jstr(stdout, m ? rd_kafka_MemberDescription_client_id(m) : NULL, -1);
            printf("}");
        }
        return;
    }
    if (rd_kafka_ConsumerGroupDescription_member_count(gi->desc) == 0) {
        printf("\nConsumer group '%s' has no active members.\n", group);
    }
    int wg = maxw(15, group), wt = 15, wc = 15, wh = 15;
    for (int i = 0; i < gi->nrows; i++) {
        const rd_kafka_MemberDescription_t *m = gi->rows[i].member;
        wt = maxw(wt, gi->rows[i].topic);
        wc = maxw(wc, m ? rd_kafka_MemberDescription_consumer_id(m) : DASH);
        wh = maxw(wh, m ? rd_kafka_MemberDescription_host(m) : DASH);
    }
    printf("\n%-*s %-*s %-10s %-15s %-15s %-15s %-*s %-*s %s\n", wg, "GROUP", wt, "TOPIC",
           "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", wc, "CONSUMER-ID", wh, "HOST",
           "CLIENT-ID");
    for (int i = 0; i < gi->nrows; i++) {
        const struct sl_cli_grow *r = &gi->rows[i];
        const rd_kafka_MemberDescription_t *m = r->member;
        char cur[24], leo[24], lag[24];
        fmt_i64(cur, sizeof(cur), r->current);
        fmt_i64(leo, sizeof(leo), r->hi);
        fmt_i64(lag, sizeof(lag), r->current >= 0 && r->hi >= 0 ? r->hi - r->current : -1);
        printf("%-*s %-*s %-10d %-15s %-15s %-15s %-*s %-*s %s\n", wg, group, wt, r->topic,
               r->partition, cur, leo, lag, wc, m ? rd_kafka_MemberDescription_consumer_id(m) : DASH,
               wh, m ? rd_kafka_MemberDescription_host(m) : DASH,
               m ? rd_kafka_MemberDescription_client_id(m) : DASH);
    }
}

static void print_members(const char *group, const struct sl_cli_ginfo *gi, bool verbose, bool json,
                          bool *first)
{
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(gi->desc);
    int wg = maxw(15, group), wc = 15, wh = 15, wi = 15;
    for (size_t i = 0; i < nm; i++) {
        const rd_kafka_MemberDescription_t *m = rd_kafka_ConsumerGroupDescription_member(gi->desc, i);
        wc = maxw(wc, rd_kafka_MemberDescription_consumer_id(m));
        wh = maxw(wh, rd_kafka_MemberDescription_host(m));
        wi = maxw(wi, rd_kafka_MemberDescription_client_id(m));
    }
    if (!json) {
        if (nm == 0) {
            printf("\nConsumer group '%s' has no active members.\n", group);
            return;
        }
        printf("\n%-*s %-*s %-*s %-*s %-15s%s\n", wg, "GROUP", wc, "CONSUMER-ID", wh, "HOST", wi,
               "CLIENT-ID", "#PARTITIONS", verbose ? " ASSIGNMENT" : "");
    }
    for (size_t i = 0; i < nm; i++) {
        const rd_kafka_MemberDescription_t *m = rd_kafka_ConsumerGroupDescription_member(gi->desc, i);
        const rd_kafka_topic_partition_list_t *a =
            rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
        int np = a ? a->cnt : 0;
        if (json) {
            printf("%s{\"group\":", *first ? "" : ",");
            *first = false;
            sl_cli_jstr(stdout, group, -1);
            printf(",\"consumer_id\":");
            sl_cli_jstr(stdout, rd_kafka_MemberDescription_consumer_id(m), -1);
            printf(",\"host\":");
            sl_cli_jstr(stdout, rd_kafka_MemberDescription_host(m), -1);
            printf(",\"client_id\":");
            sl_cli_jstr(stdout, rd_kafka_MemberDescription_client_id(m), -1);
            printf(",\"partitions\":%d}", np);
            continue;
        }
        printf("%-*s %-*s %-*s %-*s %-15d", wg, group, wc, rd_kafka_MemberDescription_consumer_id(m),
               wh, rd_kafka_MemberDescription_host(m), wi, rd_kafka_MemberDescription_client_id(m),
               np);
        if (verbose) {
            /* Kafka's form: topic(0,1),other(2) */
            printf(" ");
            for (int j = 0; j < np; j++) {
                bool new_topic = j == 0 || strcmp(a->elems[j].topic, a->elems[j - 1].topic) != 0;
                bool end_topic = j == np - 1 || strcmp(a->elems[j].topic, a->elems[j + 1].topic) != 0;
                if (new_topic) {
                    printf("%s%s(", j ? "," : "", a->elems[j].topic);
                } else {
                    printf(",");
                }
                printf("%d%s", a->elems[j].partition, end_topic ? ")" : "");
            }
            if (np == 0) {
                printf(DASH);
            }
        }
        printf("\n");
    }
}

static void print_state(const char *group, const struct sl_cli_ginfo *gi, bool json, bool *first)
{
    const rd_kafka_Node_t *c = rd_kafka_ConsumerGroupDescription_coordinator(gi->desc);
    char coord[300];
    snprintf(coord, sizeof(coord), "%s:%u (%d)", c ? rd_kafka_Node_host(c) : "?",
             c ? rd_kafka_Node_port(c) : 0, c ? rd_kafka_Node_id(c) : -1);
    const char *assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(gi->desc);
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(gi->desc);
    if (json) {
        printf("%s{\"group\":", *first ? "" : ",");
        *first = false;
        sl_cli_jstr(stdout, group, -1);
        printf(",\"coordinator\":");
        sl_cli_jstr(stdout, coord, -1);
        printf(",\"assignment_strategy\":");
        sl_cli_jstr(stdout, assignor && *assignor ? assignor : NULL, -1);
        printf(",\"state\":");
        sl_cli_jstr(stdout, state_name(gi), -1);
        printf(",\"members\":%zu}", nm);
        return;
    }
    int wg = maxw(15, group), wc = maxw(25, coord);
    printf("\n%-*s %-*s %-20s %-15s %s\n", wg, "GROUP", wc, "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY",
           "STATE", "#MEMBERS");
    printf("%-*s %-*s %-20s %-15s %zu\n", wg, group, wc, coord, assignor && *assignor ? assignor : "",
           state_name(gi), nm);
}

static int describe(struct sl_cli_client *cl, const struct sl_cli_args *args)
{
    char **ids;
    int n, rc = group_ids(cl, args, &ids, &n);
    if (rc) {
        return rc;
    }
    bool json = sl_cli_json(args), first = true;
    if (json) {
        printf("[");
    }
    for (int i = 0; i < n && !rc; i++) {
        struct sl_cli_ginfo gi;
        if ((rc = sl_cli_group_describe(cl, ids[i], &gi)) != 0) {
            break;
        }
        if (rd_kafka_ConsumerGroupDescription_state(gi.desc) == RD_KAFKA_CONSUMER_GROUP_STATE_DEAD &&
            gi.nrows == 0) {
            rc = sl_cli_fail("consumer group '%s' does not exist", ids[i]);
        } else if (sl_cli_has(args, "members")) {
            print_members(ids[i], &gi, sl_cli_has(args, "verbose"), json, &first);
        } else if (sl_cli_has(args, "state")) {
            print_state(ids[i], &gi, json, &first);
        } else {
            print_offsets(ids[i], &gi, json, &first);
        }
        sl_cli_ginfo_fini(&gi);
    }
    if (json) {
        printf("]\n");
    }
    for (int i = 0; i < n; i++) {
        free(ids[i]);
    }
    free(ids);
    return rc;
}

/* --group values, or with --all-groups every group the cluster lists. */
static int group_ids(struct sl_cli_client *cl, const struct sl_cli_args *args, char ***ids, int *n)
{
    *ids = NULL;
    *n = 0;
    if (!sl_cli_has(args, "all-groups")) {
        int pos = 0;
        const char *g;
        while ((g = sl_cli_next(args, "group", &pos))) {
            *ids = realloc(*ids, sizeof(char *) * (size_t)(*n + 1));
            (*ids)[(*n)++] = strdup(g);
        }
        return *n ? 0 : sl_cli_usage(args, "give --group ID or --all-groups");
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
    rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(cl->rk, o, q);
    rd_kafka_event_t *ev;
    int rc = wait_ev(cl, q, "cannot list groups", &ev);
    if (!rc) {
        size_t cnt;
        const rd_kafka_ConsumerGroupListing_t **g = rd_kafka_ListConsumerGroups_result_valid(
            rd_kafka_event_ListConsumerGroups_result(ev), &cnt);
        *ids = calloc(cnt + 1, sizeof(char *));
        for (size_t i = 0; i < cnt; i++) {
            (*ids)[(*n)++] = strdup(rd_kafka_ConsumerGroupListing_group_id(g[i]));
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* ---- --delete ---- */

static int delete(struct sl_cli_client *cl, const struct sl_cli_args *args)
{
    char **ids;
    int n, rc = group_ids(cl, args, &ids, &n);
    if (rc) {
        return rc;
    }
    rd_kafka_DeleteGroup_t **dg = calloc((size_t)n + 1, sizeof(*dg));
    for (int i = 0; i < n; i++) {
        dg[i] = rd_kafka_DeleteGroup_new(ids[i]);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
    rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_DELETEGROUPS);
    rd_kafka_DeleteGroups(cl->rk, dg, (size_t)n, o, q);
    rd_kafka_event_t *ev;
    if ((rc = wait_ev(cl, q, "cannot delete groups", &ev)) == 0) {
        size_t cnt;
        const rd_kafka_group_result_t **r =
            rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            const rd_kafka_error_t *e = rd_kafka_group_result_error(r[i]);
            const char *g = rd_kafka_group_result_name(r[i]);
            if (e) {
                rc = sl_cli_fail("consumer group '%s' could not be deleted: %s", g,
                                 rd_kafka_error_string(e));
            } else if (!sl_cli_json(args)) {
                printf("Deletion of requested consumer groups ('%s') was successful.\n", g);
            }
        }
        if (sl_cli_json(args)) {
            printf("{\"deleted\":%s}\n", rc ? "false" : "true");
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteGroup_destroy_array(dg, (size_t)n);
    free(dg);
    for (int i = 0; i < n; i++) {
        free(ids[i]);
    }
    free(ids);
    return rc;
}

/* Checks of the command line made before connecting, so usage errors exit 2. */
static int need_groups(const struct sl_cli_args *args)
{
    return sl_cli_has(args, "group") || sl_cli_has(args, "all-groups")
               ? 0
               : sl_cli_usage(args, "give --group ID or --all-groups");
}

static const struct {
    const char *flag;
    int (*check)(const struct sl_cli_args *args); /* may be NULL */
    int (*fn)(struct sl_cli_client *cl, const struct sl_cli_args *args);
} actions[] = {
    {"list", NULL, list},
    {"describe", need_groups, describe},
    {"delete", need_groups, delete},
    {"reset-offsets", sl_cli_groups_reset_check, sl_cli_groups_reset},
};

int sl_cli_groups(int argc, char **argv)
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
        rc = sl_cli_usage(&args, "give exactly one of --list, --describe, --delete, "
                                 "--reset-offsets");
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
