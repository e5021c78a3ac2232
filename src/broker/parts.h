/*
 * parts.h - the partitions this broker hosts: one log each, opened when the
 * metadata image assigns the partition here and closed (and its directory
 * deleted in the background) when the topic goes away.
 *
 * The high watermark. On one node it is the durable end offset: a fetch
 * never returns a batch that a crash could still take away, so a consumer
 * never sees data that was not acknowledged. It advances when the flusher
 * has synced an append; fetches parked on the partition are woken then.
 *
 * Threads. sl_parts_sync runs on the controller thread; lookups and appends
 * on the loop threads; hwm updates on the flusher thread.
 */
#ifndef SL_BROKER_PARTS_H
#define SL_BROKER_PARTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "proto/kp.h"

struct sl_broker;
struct sl_image;
struct sl_log;
struct sl_loop;

/* A parked fetch (or anything else) waiting for a partition's hwm to move. */
struct sl_part_waiter {
    struct sl_list link;       /* in part->waiters, under part->lock */
    struct sl_loop *loop;      /* where fn runs */
    void (*fn)(void *arg);     /* posted to loop once, then the waiter is unlinked */
    void *arg;
};

/* A partition's effective retention, compaction and compression configs,
 * written by apply_configs on every image change (relaxed atomics: each
 * field stands alone), read by the log manager's threads and Produce. */
struct sl_part_cleanup {
    int64_t retention_ms;          /* retention.ms; < 0 forever */
    int64_t retention_bytes;       /* retention.bytes; < 0 unlimited */
    bool policy_delete;            /* cleanup.policy has "delete" */
    bool policy_compact;           /* cleanup.policy has "compact" */
    int64_t delete_retention_ms;   /* delete.retention.ms: tombstones kept */
    int64_t min_compaction_lag_ms; /* min.compaction.lag.ms */
    int64_t max_compaction_lag_ms; /* max.compaction.lag.ms */
    int32_t min_cleanable_permille; /* min.cleanable.dirty.ratio * 1000 */
    int32_t codec;                 /* compression.type: -1 producer, else enum sl_codec */
    int64_t cleaner_offset;        /* first dirty offset (cleaner thread; -1 none) */
};

struct sl_part {
    int refs;                  /* registry + holders; atomic */
    struct sl_uuid topic_id;
    char topic[256];           /* topic name */
    int32_t index;             /* partition index */
    struct sl_log *log;        /* owned; closed with the last reference */
    struct sl_pstate *pstate;  /* producer state (storage/producer_state.h); owned; part->lock */
    struct sl_broker *broker;
    pthread_mutex_t lock;      /* serializes appends; guards waiters */
    struct sl_list waiters;    /* struct sl_part_waiter, woken when hwm moves */
    int32_t leader_epoch;      /* from the image; atomic */
    int64_t hwm;               /* high watermark; atomic (acquire/release) */
    int32_t max_message_bytes; /* max.message.bytes in force; atomic */
    bool log_append_time;      /* message.timestamp.type=LogAppendTime; atomic */
    bool flush_before_ack;     /* acknowledge only synced data (see conf.h); atomic */
    bool deleted;              /* topic deleted: directory removed at last unref */
    struct sl_part_cleanup cleanup; /* retention/compaction/compression (broker/logmgr.c) */
    char dir[1100];            /* partition directory */
    /* Counters for /metrics (BrokerTopicMetrics, summed per topic at scrape);
     * relaxed atomic adds on the data path, read by the HTTP thread. */
    uint64_t bytes_in;         /* record batch bytes appended by Produce */
    uint64_t messages_in;      /* records appended by Produce */
    uint64_t bytes_out;        /* record bytes sent by Fetch */
};

struct sl_parts;

int  sl_parts_new(struct sl_broker *broker, const char *dir, struct sl_parts **out);
/* Closes every log cleanly (next start skips recovery). Thread: main, after the loops stopped. */
void sl_parts_free(struct sl_parts *parts);
/* Opens, updates and closes partitions to match img. Thread: controller. */
int  sl_parts_sync(struct sl_parts *parts, const struct sl_image *img);
/* The partition, referenced; NULL if not hosted here. Thread: any. */
struct sl_part *sl_parts_get(struct sl_parts *parts, const struct sl_uuid *topic_id, int32_t index);
void sl_part_unref(struct sl_part *p);
/* Number of partitions hosted. */
int  sl_parts_count(struct sl_parts *parts);
/* Every hosted partition, each referenced, in a new array (free() it after
 * sl_part_unref on each). For scrapers: the registry lock is held only to
 * copy the pointers. 0 or -ENOMEM. Thread: any. */
int  sl_parts_snapshot(struct sl_parts *parts, struct sl_part ***out, int *n);

static inline int64_t sl_part_hwm(const struct sl_part *p) { return __atomic_load_n(&p->hwm, __ATOMIC_ACQUIRE); }
/* Raises hwm to at least offset and wakes the waiters. Thread: any. */
void sl_part_advance_hwm(struct sl_part *p, int64_t offset);
/* Parks w until hwm moves (returns false, w not added, when hwm already > seen). Thread: w->loop. */
bool sl_part_wait(struct sl_part *p, struct sl_part_waiter *w, int64_t seen_hwm);
/* Unparks w. true: it was still parked. false: it was already woken and
 * its fn is on the way to w->loop, so w must stay valid until fn runs.
 * Thread: w->loop. */
bool sl_part_unwait(struct sl_part *p, struct sl_part_waiter *w);

#endif
