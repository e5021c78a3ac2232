/*
 * group.h - the classic group coordinator's state: groups, their members and
 * committed offsets, and the operations of the group APIs (JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, OffsetDelete,
 * DescribeGroups, ListGroups, DeleteGroups) as Kafka 4.0 answers them.
 *
 * This module is single-threaded and does no I/O: one thread (the
 * coordinator thread, see coord.h; or a unit test) owns a struct sl_gc and
 * calls everything here. Time is gc->now_ms, set by the caller; timers fire
 * from sl_gc_tick(). Records for __consumer_offsets go out through
 * gc->store.write and their completion comes back later as a call of the
 * done function the write was given (never from inside write).
 *
 * An operation (struct sl_gop) carries a decoded request and the response to
 * fill. It is finished exactly once by calling op->done, now or later (a
 * parked JoinGroup or SyncGroup, or an OffsetCommit waiting for its record to
 * be durable). Everything put in a response is copied into op->arena, since
 * group state changes after the operation finishes.
 *
 * Group states (Kafka's ClassicGroupState), with the function of each
 * transition; each of them asserts the state it starts from:
 *
 *                      +------------------ remove_member / expiry (last one) ------+
 *                      |                                                           |
 *                      v        prepare_rebalance                                  |
 *   (new) ------> [ Empty ] -------------------------> [ PreparingRebalance ] <----+----+
 *                   |   ^                                 |       |    ^               |
 *   delete_group    |   +-- complete_join (no members) ---+       |    |               |
 *                   v                                             |    | prepare_      |
 *               [ Dead ]          complete_join (members) ------->+    | rebalance     |
 *                                                                 v    |               |
 *                                                  [ CompletingRebalance ]             |
 *                                                                 |                    |
 *                                  complete_sync (leader's        |                    |
 *                                  assignment durable)            v                    |
 *                                                            [ Stable ] ---------------+
 *                                                              prepare_rebalance (join with new
 *                                                              metadata, leader rejoin, leave,
 *                                                              session expiry, missed sync)
 *
 * Empty:               no members; offsets may be committed with generation -1.
 * PreparingRebalance:  waiting for every member to (re)join, bounded by the
 *                      largest rebalance timeout (or group.initial.rebalance.
 *                      delay.ms, extended while new members arrive, for a
 *                      group that was Empty).
 * CompletingRebalance: joins answered; waiting for the leader's SyncGroup.
 * Stable:              assignment handed out; heartbeats keep members alive.
 * Dead:                deleted; never seen by a client (the group is freed).
 */
#ifndef SL_COORD_GROUP_H
#define SL_COORD_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/list.h"
#include "base/slice.h"
#include "proto/kp.h"

enum sl_group_state {
    SL_GROUP_EMPTY,
    SL_GROUP_PREPARING_REBALANCE,
    SL_GROUP_COMPLETING_REBALANCE,
    SL_GROUP_STABLE,
    SL_GROUP_DEAD,
};

/* Kafka's name of a state ("PreparingRebalance"). */
const char *sl_group_state_name(enum sl_group_state s);

struct sl_gc;

/* One operation of a group API. The caller fills the public fields; the
 * coordinator owns the rest until done runs. */
struct sl_gop {
    int16_t api_key;            /* SL_API_JoinGroup, ... */
    int16_t version;            /* request version */
    void *request;              /* decoded request; borrowed until done */
    void *response;             /* response struct, already _init'ed */
    struct sl_arena *arena;     /* response allocations (the request's arena) */
    struct sl_slice client_id;  /* request header client id (borrowed) */
    struct sl_slice client_host;/* peer address without port (borrowed) */
    void (*done)(struct sl_gop *op); /* response complete: send it. Called once. */
    void *ctx;                  /* for done */
    /* private to the coordinator */
    struct sl_list link;        /* coordinator queue */
    int pending;                /* writes outstanding (multi-group deletes) */
};

/* A record for __consumer_offsets: key and value as Kafka frames them
 * (int16 type/version prefix + message). value.p == NULL: a tombstone. */
struct sl_grec {
    struct sl_slice key;
    struct sl_slice value;
};

struct sl_gtopic {                  /* a topic as consumer groups see it */
    struct sl_slice name;
    struct sl_uuid id;
    int32_t partitions;
};

typedef void (*sl_gstore_done_fn)(struct sl_gc *gc, void *arg, int err);

/* Where the coordinator's records go and what it asks of the rest of the
 * broker. Every function runs on the coordinator thread. */
struct sl_gstore {
    void *ctx;
    /* Appends recs as one batch to __consumer_offsets partition `partition`
     * and arranges for done(gc, arg, err) to be called once the batch is
     * durable (err 0) or failed (-errno) - later, never from inside write.
     * Returns 0, or -errno when nothing was written (done is not called). */
    int (*write)(void *ctx, int32_t partition, const struct sl_grec *recs, int n,
                 sl_gstore_done_fn done, void *arg);
    /* Whether this node coordinates `partition` of __consumer_offsets now:
     * 0, SL_KERR_NOT_COORDINATOR, SL_KERR_COORDINATOR_LOAD_IN_PROGRESS or
     * SL_KERR_COORDINATOR_NOT_AVAILABLE. May load the partition first. */
    int16_t (*status)(void *ctx, int32_t partition);
    /* Whether topic-partition exists (OffsetCommit answers
     * UNKNOWN_TOPIC_OR_PARTITION otherwise). */
    bool (*topic_exists)(void *ctx, struct sl_slice topic, int32_t partition);
    /* KIP-848: every topic (name, id, partition count), copied into arena a,
     * sorted by name; returns the count or -ENOMEM. May be NULL (no topics). */
    int32_t (*topics)(void *ctx, struct sl_arena *a, struct sl_gtopic **out);
};

struct sl_gconf {
    int32_t num_partitions;             /* offsets.topic.num.partitions (of the topic in force) */
    int32_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms */
    int32_t min_session_timeout_ms;     /* group.min.session.timeout.ms */
    int32_t max_session_timeout_ms;     /* group.max.session.timeout.ms */
    int32_t max_size;                   /* group.max.size */
    int32_t offset_metadata_max_bytes;  /* offset.metadata.max.bytes */
    int64_t offsets_retention_ms;       /* offsets.retention.minutes, in ms */
    int32_t consumer_session_timeout_ms;   /* group.consumer.session.timeout.ms */
    int32_t consumer_heartbeat_interval_ms;/* group.consumer.heartbeat.interval.ms */
    int64_t offsets_retention_check_ms;    /* offsets.retention.check.interval.ms; 0: no periodic expiry */
};

/* A timer of the coordinator's heap (intrusive; arming allocates nothing). */
struct sl_gtimer {
    int64_t deadline_ms;                /* fires when gc->now_ms >= this */
    int32_t idx;                        /* position in the heap, -1 when disarmed */
    void (*fn)(struct sl_gc *gc, struct sl_gtimer *t);
};

struct sl_ghash {                       /* chained hash table of intrusive nodes */
    struct sl_gnode **buckets;
    size_t nbuckets;                    /* power of two, or 0 */
    size_t n;                           /* nodes */
};

struct sl_gnode {
    struct sl_gnode *next;
    uint64_t hash;
};

struct sl_gc {
    struct sl_gconf conf;
    struct sl_gstore store;
    int64_t now_ms;                     /* monotonic ms; the caller sets it */
    struct sl_ghash groups;             /* struct sl_group by id */
    struct sl_gtimer **heap;            /* min-heap of armed timers */
    int32_t heap_n, heap_cap;
    uint64_t seq;                       /* for unique member ids in tests */
    bool stopped;                       /* sl_gc_fini ran: answer nothing more */
    struct sl_gtimer expire_timer;      /* offsets.retention.check.interval.ms (expire.c) */
};

/* Initializes gc (conf and store copied). */
void sl_gc_init(struct sl_gc *gc, const struct sl_gconf *conf, const struct sl_gstore *store);
/* Answers every parked operation with COORDINATOR_NOT_AVAILABLE... as Kafka
 * does when it loses a partition (NOT_COORDINATOR), then frees all state.
 * Pending write completions may still arrive; they find nothing to do. */
void sl_gc_fini(struct sl_gc *gc);

/* Runs one operation (by op->api_key). */
void sl_gc_handle(struct sl_gc *gc, struct sl_gop *op);
/* Fills op's response with error `err` everywhere Kafka puts a group error
 * and calls op->done. Any thread that owns op. */
void sl_gop_fail(struct sl_gop *op, int16_t err);

/* offsets.retention.minutes: expires offsets and removes groups left with
 * none, as of wall-clock now_wall_ms (expire.c). Also run every
 * conf.offsets_retention_check_ms by gc's own timer. */
void sl_gc_expire_offsets(struct sl_gc *gc, int64_t now_wall_ms);

/* Fires timers due at gc->now_ms. */
void sl_gc_tick(struct sl_gc *gc);
/* The earliest armed deadline, or INT64_MAX. */
int64_t sl_gc_next_deadline(const struct sl_gc *gc);

/* The __consumer_offsets partition of a group: Kafka's
 * Utils.abs(groupId.hashCode()) % partitions, with Java's String.hashCode
 * over the UTF-16 code units of the id. */
int32_t sl_group_partition(struct sl_slice group_id, int32_t partitions);

/* Loading: applies one __consumer_offsets record read back from `partition`
 * (value.p == NULL for a tombstone). Unknown record types are skipped.
 * 0 or -EBADMSG. */
int sl_gc_replay(struct sl_gc *gc, int32_t partition, struct sl_slice key, struct sl_slice value);
/* After the last record of a partition: starts the session timers of the
 * members of groups loaded from it. */
void sl_gc_loaded(struct sl_gc *gc, int32_t partition);

/* For tests and DescribeGroups: the state of a group, or -1 if unknown. */
int sl_gc_group_state(struct sl_gc *gc, struct sl_slice group_id);
/* Committed offset of a group's topic-partition, or -1. */
int64_t sl_gc_committed(struct sl_gc *gc, struct sl_slice group_id, struct sl_slice topic, int32_t partition);

#endif
