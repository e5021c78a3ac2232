/*
 * group_int.h - what group.c (membership) and offsets.c (offsets, admin
 * APIs, records) share: the group, member and offset structs, the hash table
 * and timer heap, and owned-bytes helpers. Not for use outside src/coord.
 *
 * Ownership: every slice stored in these structs is malloc'd and owned by
 * the struct (bytes_dup / bytes_free); a NULL p means a null string.
 */
#ifndef SL_COORD_GROUP_INT_H
#define SL_COORD_GROUP_INT_H

#include "coord/group.h"

#include "base/diag.h"

#include <stdlib.h>
#include <string.h>

/* Kafka error codes that shared/kafka-protocol/errors.tsv leaves out (so the
 * generated errors.h lacks them); values from Kafka's Errors.java. */
#define SL_GERR_INCONSISTENT_GROUP_PROTOCOL 23
#define SL_GERR_INVALID_SESSION_TIMEOUT 26

struct sl_group;

struct sl_gproto {                  /* one protocol a member supports */
    struct sl_slice name;           /* owned */
    struct sl_slice metadata;       /* owned */
};

struct sl_member {
    struct sl_list link;            /* in group->members or group->pending */
    struct sl_group *group;
    struct sl_slice id;             /* owned */
    struct sl_slice instance_id;    /* owned; p == NULL for a dynamic member */
    struct sl_slice client_id;      /* owned */
    struct sl_slice client_host;    /* owned */
    int32_t session_ms;             /* session timeout */
    int32_t rebalance_ms;           /* rebalance timeout */
    int32_t protos_n;
    struct sl_gproto *protos;       /* owned array, preference order */
    struct sl_slice assignment;     /* owned; from the leader's SyncGroup */
    struct sl_gop *join;            /* parked JoinGroup, or NULL */
    struct sl_gop *sync;            /* parked SyncGroup, or NULL */
    bool pending_sync;              /* joined this generation, SyncGroup not seen yet */
    bool is_pending;                /* KIP-394: id handed out, not yet joined */
    struct sl_gtimer session;       /* heartbeat expiry (pending members: join expiry) */
};

struct sl_offset {                  /* a committed offset */
    struct sl_gnode node;           /* in group->offsets */
    struct sl_slice topic;          /* owned */
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;           /* -1 unknown */
    struct sl_slice metadata;       /* owned */
    int64_t commit_ts_ms;           /* wall clock */
};

struct sl_group {
    struct sl_gnode node;           /* in gc->groups */
    struct sl_gc *gc;
    struct sl_slice id;             /* owned */
    int32_t partition;              /* __consumer_offsets partition */
    enum sl_group_state state;
    enum sl_group_state prev_state;
    int32_t generation;
    struct sl_slice protocol_type;  /* owned; p == NULL when none */
    struct sl_slice protocol;       /* owned; selected protocol, p == NULL when none */
    struct sl_slice leader;         /* owned member id; p == NULL when none */
    struct sl_list members;         /* struct sl_member */
    int32_t members_n;
    struct sl_list pending;         /* struct sl_member with is_pending */
    int32_t pending_n;
    int32_t awaiting_join_n;        /* members with a parked JoinGroup */
    bool new_member_added;          /* a member joined during the initial delay */
    int32_t initial_remaining_ms;   /* InitialDelayedJoin: rebalance time left */
    struct sl_gtimer join_timer;    /* PreparingRebalance deadline */
    struct sl_gtimer sync_timer;    /* members that joined must SyncGroup by then */
    bool initial_join;              /* join_timer is an InitialDelayedJoin */
    int64_t state_ts_wall_ms;       /* when the state last changed (currentStateTimestamp) */
    struct sl_ghash offsets;        /* struct sl_offset by topic-partition */
    struct sl_cgroup *cg;           /* KIP-848 consumer group (cgroup.c); NULL: classic */
};

/* ---- owned bytes ---- */

static inline struct sl_slice bytes_dup(struct sl_slice s)
{
    if (!s.p)
        return (struct sl_slice){NULL, 0};
    uint8_t *p = malloc(s.len + 1);
    SL_ASSERT(p != NULL);
    memcpy(p, s.p, s.len);
    p[s.len] = 0;
    return (struct sl_slice){p, s.len};
}

static inline void bytes_free(struct sl_slice *s)
{
    free((void *)s->p);
    s->p = NULL;
    s->len = 0;
}

static inline void bytes_set(struct sl_slice *dst, struct sl_slice src)
{
    struct sl_slice n = bytes_dup(src);
    bytes_free(dst);
    *dst = n;
}

/* A copy in the operation's arena (responses outlive group state). */
struct sl_slice sl_gop_dup(struct sl_gop *op, struct sl_slice s);
/* A non-null slice (empty when s is null). */
static inline struct sl_slice nonnull(struct sl_slice s)
{
    return s.p ? s : (struct sl_slice){(const uint8_t *)"", 0};
}

/* ---- hash table ---- */

uint64_t sl_ghash_bytes(const void *p, size_t n, uint64_t seed);
void sl_ghash_insert(struct sl_ghash *h, struct sl_gnode *n);
void sl_ghash_remove(struct sl_ghash *h, struct sl_gnode *n);
void sl_ghash_free(struct sl_ghash *h); /* frees the buckets, not the nodes */
/* Iteration: for (i = 0; i < h->nbuckets; i++) for (n = h->buckets[i]; n; n = next) ... */

/* ---- timers ---- */

void sl_gtimer_init(struct sl_gtimer *t, void (*fn)(struct sl_gc *gc, struct sl_gtimer *t));
void sl_gtimer_start(struct sl_gc *gc, struct sl_gtimer *t, int64_t deadline_ms);
void sl_gtimer_stop(struct sl_gc *gc, struct sl_gtimer *t);

/* ---- groups ---- */

struct sl_group *sl_group_find(struct sl_gc *gc, struct sl_slice id);
struct sl_group *sl_group_create(struct sl_gc *gc, struct sl_slice id);
/* Removes a group with no members from gc and frees it (offsets too). */
void sl_group_destroy(struct sl_gc *gc, struct sl_group *g);
struct sl_member *sl_group_member(struct sl_group *g, struct sl_slice member_id);
/* The GroupMetadata record of the group as it stands. *rec in arena a. */
int sl_group_record(struct sl_group *g, struct sl_arena *a, struct sl_grec *rec);
/* Writes the group's metadata record; done may be NULL (fire and forget). */
void sl_group_store(struct sl_gc *gc, struct sl_group *g, sl_gstore_done_fn done, void *arg);
/* Member's metadata for protocol `name`, or a null slice. */
struct sl_slice sl_member_metadata(const struct sl_member *m, struct sl_slice name);
/* Whether any member's subscription (consumer protocol) includes topic. */
bool sl_group_subscribed(struct sl_group *g, struct sl_slice topic);

/* Membership operations (group.c). */
void sl_gc_join(struct sl_gc *gc, struct sl_gop *op);
void sl_gc_sync(struct sl_gc *gc, struct sl_gop *op);
void sl_gc_heartbeat(struct sl_gc *gc, struct sl_gop *op);
void sl_gc_leave(struct sl_gc *gc, struct sl_gop *op);
/* Offsets and admin (offsets.c). */
void sl_gc_offset_commit(struct sl_gc *gc, struct sl_gop *op);
void sl_gc_offset_fetch(struct sl_gc *gc, struct sl_gop *op);
void sl_gc_offset_delete(struct sl_gc *gc, struct sl_gop *op);
void sl_gc_describe(struct sl_gc *gc, struct sl_gop *op);
void sl_gc_list(struct sl_gc *gc, struct sl_gop *op);
void sl_gc_delete_groups(struct sl_gc *gc, struct sl_gop *op);
/* Frees the group's offsets table. */
void sl_group_offsets_free(struct sl_group *g);
/* Loading a group's metadata record (offsets.c -> group.c). */
void sl_group_load(struct sl_gc *gc, struct sl_group *g, const void *value /* GroupMetadataValue */);
/* Finishes every parked operation of the group with err (shutdown). */
void sl_group_fail_parked(struct sl_group *g, int16_t err);

#endif
