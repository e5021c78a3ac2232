/*
 * tc_int.h - the transaction coordinator's private types and the functions its
 * files share (tc.c: thread and entry points; tc_state.c: state and verification
 * tables; tc_log.c: __transaction_state; tc_end.c: markers and the end of a
 * transaction; tc_api.c: the APIs). Nothing outside src/txn includes it.
 * Thread: the coordinator thread, except where a function says otherwise.
 */
#ifndef SL_TXN_TC_INT_H
#define SL_TXN_TC_INT_H

#include "txn/tc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/list.h"
#include "broker/broker.h"
#include "broker/parts.h"
#include "conf/conf.h"
#include "coord/coord.h"
#include "meta/controller.h"
#include "meta/ctl_topics.h"
#include "meta/image.h"
#include "proto/gen/AddOffsetsToTxn.h"
#include "proto/gen/AddPartitionsToTxn.h"
#include "proto/gen/DescribeTransactions.h"
#include "proto/gen/EndTxn.h"
#include "proto/gen/InitProducerId.h"
#include "proto/gen/ListTransactions.h"
#include "proto/gen/TxnOffsetCommit.h"
#include "proto/gen/api.h"
#include "proto/gen/coord_records.h"
#include "proto/gen/errors.h"
#include "proto/kp.h"
#include "record/batch.h"
#include "storage/log.h"
#include "storage/producer_state.h"
#include "txn/pid.h"

#define TXN_TOPIC "__transaction_state"
#define OFFSETS_TOPIC "__consumer_offsets"
#define TICK_MS 1000 /* timeout checks (Kafka: transaction.abort.timed.out.transaction.cleanup.interval.ms) */

enum txn_state {
    TXN_EMPTY = 0,
    TXN_ONGOING = 1,
    TXN_PREPARE_COMMIT = 2,
    TXN_PREPARE_ABORT = 3,
    TXN_COMPLETE_COMMIT = 4,
    TXN_COMPLETE_ABORT = 5,
    TXN_DEAD = 6,
    TXN_PREPARE_EPOCH_FENCE = 7,
};

extern const char *const tc_state_names[8]; /* Kafka's names of enum txn_state */

struct tpart {                  /* a partition in a transaction */
    char *topic;
    int32_t partition;
};

struct toffset {                /* an offset committed in the transaction, visible at commit */
    char *group;
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;             /* NULL: null metadata */
};

struct txn {
    struct txn *next;           /* hash chain */
    char *id;                   /* transactional.id */
    int32_t log_partition;      /* its __transaction_state partition */
    int64_t pid;                /* producer id in use */
    int64_t prev_pid;           /* the one before an id change, -1 */
    int16_t epoch;              /* current producer epoch */
    int32_t timeout_ms;         /* transaction.timeout.ms of the producer */
    enum txn_state state;
    struct tpart *parts;
    int parts_n, parts_cap;
    struct toffset *offs;
    int offs_n, offs_cap;
    int64_t start_ms;           /* wall clock: transaction start, -1 */
    int64_t update_ms;          /* wall clock: last change */
};

struct tc_req {
    struct sl_list link;
    struct sl_call *call;
};

struct sl_tc {
    struct sl_broker *broker;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t qlock;      /* guards q, stopping */
    pthread_cond_t cond;
    struct sl_list q;           /* struct tc_req */
    bool stopping;
    struct txn **buckets;
    size_t nbuckets, n;
    int32_t nparts;             /* partitions of __transaction_state, 0 before it exists */
    int64_t next_tick_ms;       /* monotonic */
};

/* tc_state.c: transactional ids (hash table) and their partitions */
struct txn *tc_txn_find(struct sl_tc *tc, struct sl_slice id);   /* NULL when unknown */
struct txn *tc_txn_add(struct sl_tc *tc, struct sl_slice id);    /* a new Empty txn; NULL on ENOMEM */
void tc_txn_remove(struct sl_tc *tc, struct txn *t);             /* unlinks and frees t */
bool tc_has_part(const struct txn *t, struct sl_slice topic, int32_t partition);
void tc_add_part(struct txn *t, struct sl_slice topic, int32_t partition);
void tc_clear_parts(struct txn *t);
void tc_clear_offsets(struct txn *t);
/* The verification table (KIP-890) that sl_txn_verify reads from the loops:
 * a producer id's current epoch and the partitions of its ongoing
 * transaction. Written only by the coordinator thread. */
void tc_v_set_epoch(int64_t pid, int16_t epoch);
void tc_v_add_part(int64_t pid, int16_t epoch, const char *topic, int32_t partition);
void tc_v_clear_pid(int64_t pid);

/* tc_log.c */
/* Writes the txn's current state to __transaction_state, synced. */
int tc_write_txn(struct sl_tc *tc, struct txn *t);
/* Makes the partition durable and publishes its new high watermark. */
int tc_sync_part(struct sl_part *part);
/* Number of partitions of __transaction_state, creating it on first use
 * (create) through the controller. 0 when it does not exist. */
int32_t tc_txn_topic_partitions(struct sl_tc *tc, bool create);
/* Reads one __transaction_state partition back into the state table. */
int tc_load_partition(struct sl_tc *tc, int32_t partition);
/* Appends one batch (producer state updated, as for Produce). 0 or -errno. */
int tc_append(struct sl_part *part, uint8_t *batch, size_t len);
/* Moves b's bytes into one malloc'd slice (the caller frees out->p) and finishes b. 0 or -ENOMEM. */
int tc_flatten(struct sl_obuf *b, struct sl_slice *out);
/* The hosted partition, referenced (sl_part_unref), or NULL. */
struct sl_part *tc_get_part(struct sl_tc *tc, struct sl_slice topic, int32_t partition);

/* tc_end.c */
/* Partitions of __consumer_offsets in the current image; 0 before it exists. */
int32_t tc_offsets_partitions(void);
/* Ongoing -> Prepare* -> markers -> Complete*. */
int16_t tc_end_txn(struct sl_tc *tc, struct txn *t, bool commit);
/* Aborts an ongoing transaction with a bumped epoch, fencing its producer. */
int16_t tc_fence_and_abort(struct sl_tc *tc, struct txn *t);
/* An OffsetCommit record (key type 1, value version 3) as the group coordinator writes it. */
int tc_offset_record(const struct toffset *o, int64_t now_ms, struct sl_grec *rec);
/* Bumps the epoch (a new producer id when it would overflow). */
int tc_bump_epoch(struct sl_tc *tc, struct txn *t);

/* tc_api.c */
/* Runs one queued API call and answers it. */
void tc_run_call(struct sl_tc *tc, struct sl_call *call);
/* Aborts timed-out transactions and finishes any left in Prepare*. */
void tc_tick(struct sl_tc *tc);

#endif
