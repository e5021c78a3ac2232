/*
 * cli_groups.h - what `sluice groups` --describe and --reset-offsets share: a
 * group's description with its committed and log-end offsets per partition.
 */
#ifndef SL_CLI_GROUPS_H
#define SL_CLI_GROUPS_H

#include "cli/cli.h"

struct sl_cli_grow {
    const char *topic;
    int32_t partition;
    int64_t current, lo, hi; /* -1: unknown */
    const rd_kafka_MemberDescription_t *member;
};

struct sl_cli_ginfo { /* one described group; owns its events */
    rd_kafka_event_t *desc_ev, *off_ev;
    const rd_kafka_ConsumerGroupDescription_t *desc;
    const rd_kafka_topic_partition_list_t *committed; /* may be NULL */
    struct sl_cli_grow *rows;
    int nrows;
};

/* Describes group and fills rows (committed or assigned partitions, sorted),
 * each with its watermarks. Prints why on failure. */
int sl_cli_group_describe(struct sl_cli_client *cl, const char *group, struct sl_cli_ginfo *gi);
void sl_cli_ginfo_fini(struct sl_cli_ginfo *gi);
/* Validates the reset flags without a client: 0 or SL_CLI_USAGE. */
int sl_cli_groups_reset_check(const struct sl_cli_args *args);
int sl_cli_groups_reset(struct sl_cli_client *cl, const struct sl_cli_args *args);

#endif
