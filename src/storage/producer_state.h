/*
 * producer_state.h - one partition's producer state (Kafka's
 * ProducerStateManager): for each producer id, its epoch, the first/last
 * sequences and offsets of its last 5 batches (so a retried batch is
 * answered with its original offset), the coordinator epoch of its last
 * transaction marker and the first offset of its open transaction. From the
 * open transactions comes the partition's first unstable offset (the LSO is
 * min(that, hwm)); aborted transactions are kept for Fetch (read_committed)
 * and written to Kafka's `.txnindex` files.
 *
 * Persistence, as Kafka: `<offset, 20 digits>.snapshot` files (Kafka's
 * format v1: the state of every producer covering the log below offset),
 * written at a segment roll and on clean close. On open the newest snapshot
 * at or below the log end is loaded and only the batches after it are
 * scanned; without one the whole log is scanned.
 *
 * Threads and locks: every function but sl_pstate_first_unstable and
 * sl_pstate_aborted runs with the partition's writer lock held (the lock
 * the Produce path already holds for the append). The first unstable
 * offset is published with release semantics; the aborted list has its own
 * short mutex for readers.
 */
#ifndef SL_STORAGE_PRODUCER_STATE_H
#define SL_STORAGE_PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_log;
struct sl_batch_hdr;
struct sl_pstate;

#define SL_PSTATE_BATCHES 5       /* batches remembered per producer (Kafka's NUM_BATCHES_TO_RETAIN) */
#define SL_PSTATE_DUPLICATE (-1)  /* sl_pstate_check: a retry of a remembered batch */

/* Opens the state of the log in dir: loads the newest usable snapshot,
 * deletes snapshots beyond the log end, scans the rest of the log and reads
 * the `.txnindex` files. expiration_ms: producer.id.expiration.ms.
 * 0 or -errno. */
int  sl_pstate_open(const char *dir, struct sl_log *log, int64_t expiration_ms, struct sl_pstate **out);
/* Writes a snapshot at the log end (clean close) when write_snapshot, then frees. */
void sl_pstate_close(struct sl_pstate *ps, bool write_snapshot);

/* Checks an idempotent/transactional batch (hdr->producer_id >= 0) before it
 * is appended. Returns 0 (append it), SL_PSTATE_DUPLICATE (do not append:
 * *dup_base and *dup_last are the original batch's offsets), or a Kafka
 * error code: OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH,
 * INVALID_TXN_STATE (a non-transactional batch inside an open transaction),
 * INVALID_RECORD (transactional without a producer id). */
int  sl_pstate_check(struct sl_pstate *ps, const struct sl_batch_hdr *hdr, int64_t *dup_base, int64_t *dup_last);
/* Records a batch just appended at base_offset (client or control batch).
 * now_ms: wall clock, for expiry. Also writes a snapshot when the append
 * rolled the log to a new segment. */
void sl_pstate_appended(struct sl_pstate *ps, const struct sl_batch_hdr *hdr, const uint8_t *batch,
                        size_t len, int64_t base_offset, int64_t now_ms);

/* Whether producer_id has an open transaction here (KIP-890 verification). */
bool sl_pstate_in_txn(struct sl_pstate *ps, int64_t producer_id);
/* Epoch of a producer, -1 if unknown. */
int  sl_pstate_epoch(struct sl_pstate *ps, int64_t producer_id);

/* First offset of the oldest open transaction, INT64_MAX when none. Any thread. */
int64_t sl_pstate_first_unstable(const struct sl_pstate *ps);

struct sl_pstate_aborted {        /* one aborted transaction (a .txnindex entry) */
    int64_t producer_id;
    int64_t first_offset;
    int64_t last_offset;          /* offset of the ABORT marker */
    int64_t last_stable_offset;   /* LSO when the marker was written */
};

/* The aborted transactions overlapping [from, to): last_offset >= from and
 * first_offset < to, in marker order, at most cap of them into out.
 * Returns how many there are (may exceed cap: call again with more room).
 * Any thread. */
int  sl_pstate_aborted(struct sl_pstate *ps, int64_t from, int64_t to, struct sl_pstate_aborted *out, int cap);

/* Removes producers idle longer than the expiration (and not in a
 * transaction). Called from sl_pstate_appended now and then. */
void sl_pstate_expire(struct sl_pstate *ps, int64_t now_ms);

/* For DescribeProducers: calls fn for every producer. */
struct sl_pstate_info {
    int64_t producer_id;
    int16_t epoch;
    int32_t last_sequence;
    int64_t last_timestamp_ms;
    int32_t coordinator_epoch;
    int64_t txn_first_offset;     /* -1 when no open transaction */
};
void sl_pstate_each(struct sl_pstate *ps, void (*fn)(void *arg, const struct sl_pstate_info *info), void *arg);
size_t sl_pstate_count(const struct sl_pstate *ps);

#endif
