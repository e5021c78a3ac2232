/*
 * ctl_topics.h - controller operations on topics: create (CreateTopics and
 * auto-creation) and delete. They run on the controller thread and turn a
 * request into TopicRecord / PartitionRecord / ConfigRecord /
 * RemoveTopicRecord writes, with Kafka's checks and error codes.
 */
#ifndef SL_META_CTL_TOPICS_H
#define SL_META_CTL_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"
#include "proto/kp.h"

struct sl_controller;

struct sl_topic_spec {
    struct sl_slice name;
    int32_t partitions;          /* -1 = num.partitions */
    int16_t replication_factor;  /* -1 = default.replication.factor */
    int32_t assignments_n;       /* explicit replica assignment, or 0 */
    const int32_t *const *assignments;   /* [partition] -> broker ids */
    const int32_t *assignment_sizes;     /* [partition] -> number of ids */
    int32_t configs_n;
    const struct sl_slice *config_keys;
    const struct sl_slice *config_values; /* p == NULL: null value (ignored) */
};

struct sl_topic_result {
    int16_t error;               /* Kafka error code */
    char message[256];           /* ErrorMessage when error != 0 */
    struct sl_uuid id;           /* the new topic's id */
    int32_t partitions;          /* resolved partition count */
    int16_t replication_factor;  /* resolved replication factor */
};

/* Creates one topic (validate_only: checks only). Controller thread. */
void sl_ctl_create_topic(struct sl_controller *ctl, const struct sl_topic_spec *spec, bool validate_only,
                         struct sl_topic_result *res);
/* Deletes a topic by name (name.p != NULL) or id. Controller thread. */
void sl_ctl_delete_topic(struct sl_controller *ctl, struct sl_slice name, const struct sl_uuid *id,
                         struct sl_topic_result *res);

#endif
