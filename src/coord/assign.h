/*
 * assign.h - KIP-848 server-side assignors ("uniform", "range") and the
 * topic-partition sets they and the reconciliation (cgroup.c) work on.
 *
 * Pure functions: no group state, no clock, no I/O. An assignor gets the
 * subscribed topics (id, partition count) and the members (sorted by id,
 * each with its subscriptions and its previous target assignment) and
 * fills one set per member.
 * Invariant of every result: each partition of a topic with at least one
 * subscriber is assigned to exactly one member that subscribes to it.
 */
#ifndef SL_COORD_ASSIGN_H
#define SL_COORD_ASSIGN_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/kp.h"

struct sl_ctp {                     /* one topic-partition */
    struct sl_uuid topic;
    int32_t partition;
};

struct sl_tpset {                   /* a set, kept sorted by (topic, partition); owns v */
    struct sl_ctp *v;
    int32_t n, cap;
};

void sl_tpset_clear(struct sl_tpset *s);        /* frees v */
bool sl_tpset_has(const struct sl_tpset *s, const struct sl_uuid *topic, int32_t partition);
void sl_tpset_add(struct sl_tpset *s, const struct sl_uuid *topic, int32_t partition);
void sl_tpset_copy(struct sl_tpset *dst, const struct sl_tpset *src);
bool sl_tpset_eq(const struct sl_tpset *a, const struct sl_tpset *b);
/* Partitions of the topic in s, in order, written to out (cap n); returns the count. */
int32_t sl_tpset_partitions(const struct sl_tpset *s, const struct sl_uuid *topic, int32_t *out, int32_t cap);

struct sl_asg_topic {
    struct sl_uuid id;
    int32_t partitions;
};

struct sl_asg_member {
    const bool *subscribed;         /* [topics_n]: subscribes to topic i */
    const struct sl_tpset *prev;    /* previous target assignment (stickiness), may be NULL */
    struct sl_tpset *out;           /* result, cleared first */
};

/* Kafka's UniformAssignor: balanced (counts differ by at most one among
 * members with the same subscriptions), sticky to prev. */
void sl_assign_uniform(const struct sl_asg_topic *topics, int32_t topics_n, struct sl_asg_member *members,
                       int32_t members_n);
/* Kafka's RangeAssignor: per topic, contiguous ranges to the subscribers in
 * member order, the first (partitions % subscribers) getting one more. */
void sl_assign_range(const struct sl_asg_topic *topics, int32_t topics_n, struct sl_asg_member *members,
                     int32_t members_n);

#endif
