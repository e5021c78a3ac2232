/*
 * ctl_partitions.h - controller operations on existing topics' partitions:
 * CreatePartitions (increase only) and leader elections (ElectLeaders).
 * They run on the controller thread and write PartitionRecord /
 * PartitionChangeRecord with Kafka's checks and error codes.
 */
#ifndef SL_META_CTL_PARTITIONS_H
#define SL_META_CTL_PARTITIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

struct sl_controller;

struct sl_partitions_spec {
    struct sl_slice name;            /* topic */
    int32_t count;                   /* the new total partition count */
    int32_t assignments_n;           /* -1: none given, else one per new partition */
    const int32_t *const *assignments;   /* [new partition] -> broker ids */
    const int32_t *assignment_sizes;     /* [new partition] -> number of ids */
};

/* Grows a topic to spec->count partitions (validate_only: checks only).
 * Returns the Kafka error code, with message when non-zero. Controller
 * thread. */
int16_t sl_ctl_create_partitions(struct sl_controller *ctl, const struct sl_partitions_spec *spec,
                                 bool validate_only, char *message, size_t msglen);

/* Elects a leader for one partition: election_type 0 = preferred replica,
 * 1 = unclean (any live replica when no leader). NONE, ELECTION_NOT_NEEDED,
 * PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE,
 * UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST. Controller thread. */
int16_t sl_ctl_elect_leader(struct sl_controller *ctl, struct sl_slice topic, int32_t partition,
                            int8_t election_type, char *message, size_t msglen);

#endif
