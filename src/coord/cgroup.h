/*
 * cgroup.h - KIP-848 consumer groups ("consumer" group type) inside the
 * group coordinator: ConsumerGroupHeartbeat and ConsumerGroupDescribe as
 * Kafka 4.0 answers them. Not for use outside src/coord.
 *
 * A consumer group is a struct sl_group (same table, same id space as
 * classic groups, same offsets) whose cg field is set. Thread: the
 * coordinator's (see group.h); nothing here is locked.
 *
 * Epochs. The group epoch is bumped on every change of membership,
 * subscriptions or subscribed topics' metadata. The target assignment is
 * recomputed by the group's assignor when it lags the group epoch and then
 * carries that epoch (the assignment epoch). Each member converges to its
 * target through its own heartbeats (reconcile() in cgroup.c):
 *
 *   STABLE --(epoch < target epoch, some owned partitions left the target)--> UNREVOKED_PARTITIONS
 *   STABLE --(epoch < target epoch, a target partition still owned by another)--> UNRELEASED_PARTITIONS
 *   UNREVOKED_PARTITIONS --(heartbeat's TopicPartitions no longer hold them)--> STABLE / UNRELEASED
 *   UNRELEASED_PARTITIONS --(previous owner released them)--> STABLE
 *
 * The member epoch moves to the target epoch only once nothing is left to
 * revoke, and a partition is handed out only when no other member holds it
 * (assigned or pending revocation).
 */
#ifndef SL_COORD_CGROUP_H
#define SL_COORD_CGROUP_H

#include "coord/assign.h"
#include "coord/group_int.h"

enum sl_cmember_state {
    SL_CMEMBER_STABLE,
    SL_CMEMBER_UNREVOKED_PARTITIONS,
    SL_CMEMBER_UNRELEASED_PARTITIONS,
};

struct sl_cmember {
    struct sl_list link;            /* in cg->members */
    struct sl_cgroup *cg;
    struct sl_slice id;             /* owned */
    struct sl_slice instance_id;    /* owned; NULL p: dynamic member */
    struct sl_slice rack_id;        /* owned */
    struct sl_slice client_id;      /* owned */
    struct sl_slice client_host;    /* owned */
    int32_t epoch;                  /* member epoch; -2: static member left temporarily */
    int32_t prev_epoch;             /* epoch before the last bump (a lost response is tolerated) */
    int32_t rebalance_ms;           /* rebalance timeout */
    enum sl_cmember_state state;
    struct sl_slice *topics;        /* owned array of owned names: subscribed topics */
    int32_t topics_n;
    struct sl_slice regex;          /* owned; SubscribedTopicRegex, NULL p: none */
    struct sl_slice assignor;       /* owned; ServerAssignor asked for, NULL p: none */
    struct sl_tpset target;         /* target assignment */
    struct sl_tpset assigned;       /* current assignment (what the member may own) */
    struct sl_tpset revoking;       /* partitions pending revocation */
    struct sl_gtimer session;       /* heartbeat expiry */
};

struct sl_cgroup {
    struct sl_group *g;             /* owner */
    int32_t epoch;                  /* group epoch */
    int32_t target_epoch;           /* assignment epoch */
    uint64_t meta_hash;             /* of the subscribed topics' metadata at the last bump */
    char assignor[16];              /* assignor of the last target computation */
    struct sl_list members;         /* struct sl_cmember */
    int32_t members_n;
};

/* Operations (by api key, from sl_gc_handle). */
void sl_gc_consumer_heartbeat(struct sl_gc *gc, struct sl_gop *op);
void sl_gc_consumer_describe(struct sl_gc *gc, struct sl_gop *op);
/* Fills op's response with err (sl_gop_fail for the two APIs above). */
void sl_cgroup_fail_fill(struct sl_gop *op, int16_t err);
/* Frees g->cg (members, timers) and sets it NULL. */
void sl_cgroup_free(struct sl_gc *gc, struct sl_group *g);
/* Kafka's state name of a consumer group: Empty, Assigning, Reconciling, Stable. */
const char *sl_cgroup_state(const struct sl_cgroup *cg);
/* Whether a member's target/current assignment holds topic (by name); for
 * offset expiry of live groups. */
bool sl_cgroup_subscribed(struct sl_gc *gc, struct sl_group *g, struct sl_slice topic);
/* OffsetCommit/OffsetFetch v9 checks for a consumer group: 0,
 * UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH. */
int16_t sl_cgroup_check_epoch(struct sl_group *g, struct sl_slice member_id, int32_t epoch);

/* Member table helpers (cgroup.c) for cgroup_store.c. */
void sl_cgroup_new(struct sl_group *g); /* g->cg, empty, epoch 0 */
struct sl_cmember *sl_cmember_find(struct sl_cgroup *cg, struct sl_slice id);
struct sl_cmember *sl_cmember_add(struct sl_cgroup *cg, struct sl_slice id); /* kept sorted by id */
void sl_cmember_free(struct sl_gc *gc, struct sl_cmember *m);                /* already unlinked */

/* Persistence (cgroup_store.c): writes the group's ConsumerGroup* records
 * (metadata, target assignment metadata, and each member's metadata, target
 * and current assignment) to __consumer_offsets, fire and forget, plus
 * tombstones for member gone_id when its p is not NULL. */
void sl_cgroup_store(struct sl_gc *gc, struct sl_group *g, struct sl_slice gone_id);
/* Loading: applies one record of types 3-8 (value.p NULL: tombstone). 0 or -EBADMSG. */
int sl_cgroup_replay(struct sl_gc *gc, int32_t partition, int16_t type, const void *key, struct sl_slice value);
/* After a partition's load: starts the loaded members' session timers. */
void sl_cgroup_loaded(struct sl_gc *gc, struct sl_group *g);
/* Tombstones of a removed consumer group's group-level records into recs (2 records). */
int sl_cgroup_tombstones(struct sl_arena *a, struct sl_slice group_id, struct sl_grec *recs);

/* Pure reconciliation step, exposed for tests: moves m toward its target
 * at target_epoch. owned: the heartbeat's TopicPartitions (NULL: not sent).
 * taken(t, p, arg): whether another member holds (t, p). */
void sl_cgroup_reconcile(struct sl_cmember *m, int32_t target_epoch, const struct sl_tpset *owned,
                         bool (*taken)(const struct sl_uuid *t, int32_t p, void *arg), void *arg);

#endif
