/*
 * batch.h - Kafka record batch v2 (magic 2): header decoding, Produce-time
 * validation, record iteration (also of compressed batches), in-place rewrites
 * (base offset, partition leader epoch, LogAppendTime) and a batch builder.
 *
 * Byte layout (big-endian), offsets in bytes from the batch start:
 *    0 baseOffset int64       8 batchLength int32 (bytes after this field)
 *   12 partitionLeaderEpoch  16 magic int8      17 crc uint32 (CRC-32C of 21..end)
 *   21 attributes int16      23 lastOffsetDelta 27 baseTimestamp 35 maxTimestamp
 *   43 producerId int64      51 producerEpoch   53 baseSequence  57 recordsCount
 *   61 records (compressed as one stream when attributes & 7 != 0)
 * A record: length varint, attributes int8, timestampDelta varlong,
 * offsetDelta varint, keyLength varint, key, valueLength varint, value,
 * headersCount varint, headers (keyLength varint >= 0, key, valueLength varint, value).
 *
 * Thread: any; nothing here has shared state.
 */
#ifndef SL_RECORD_BATCH_H
#define SL_RECORD_BATCH_H

#include "base/slice.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_BATCH_HEADER_SIZE 61
#define SL_BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength: batch size = 12 + batchLength */
#define SL_BATCH_MAGIC 2

#define SL_BATCH_OFF_BASE_OFFSET 0
#define SL_BATCH_OFF_LENGTH 8
#define SL_BATCH_OFF_LEADER_EPOCH 12
#define SL_BATCH_OFF_MAGIC 16
#define SL_BATCH_OFF_CRC 17
#define SL_BATCH_OFF_ATTRIBUTES 21
#define SL_BATCH_OFF_LAST_OFFSET_DELTA 23
#define SL_BATCH_OFF_BASE_TS 27
#define SL_BATCH_OFF_MAX_TS 35
#define SL_BATCH_OFF_PRODUCER_ID 43
#define SL_BATCH_OFF_PRODUCER_EPOCH 51
#define SL_BATCH_OFF_BASE_SEQ 53
#define SL_BATCH_OFF_RECORDS_COUNT 57

#define SL_BATCH_ATTR_CODEC_MASK 0x07
#define SL_BATCH_ATTR_LOG_APPEND_TIME 0x08 /* timestampType: 1 = LogAppendTime */
#define SL_BATCH_ATTR_TRANSACTIONAL 0x10
#define SL_BATCH_ATTR_CONTROL 0x20
#define SL_BATCH_ATTR_DELETE_HORIZON 0x40

/* Default cap on the decompressed size of one batch's records, for
 * validation and iteration: a batch that inflates past it is rejected
 * (MESSAGE_TOO_LARGE), so a compression bomb costs at most this much work
 * and, when iterating, this much memory. Validation itself streams through a
 * 16 KiB window and never holds the decompressed records. */
#define SL_BATCH_DEFAULT_DECOMPRESS_CAP (64u << 20)

struct sl_batch_hdr { /* decoded v2 batch header, all fields */
    int64_t base_offset;            /* offset of the first record */
    int32_t batch_length;           /* bytes after this field */
    int32_t partition_leader_epoch; /* set by the leader on append */
    int8_t magic;                   /* 2 */
    uint32_t crc;                   /* CRC-32C of bytes 21..end */
    int16_t attributes;             /* SL_BATCH_ATTR_* */
    int32_t last_offset_delta;      /* records_count - 1 when not compacted */
    int64_t base_timestamp;         /* ms since epoch; first record's */
    int64_t max_timestamp;          /* ms; largest in batch, or append time */
    int64_t producer_id;            /* -1 when not idempotent */
    int16_t producer_epoch;         /* -1 when not idempotent */
    int32_t base_sequence;          /* -1 when not idempotent */
    int32_t records_count;          /* records in the batch */
};

static inline int sl_batch_codec(const struct sl_batch_hdr *hdr)
{
    return hdr->attributes & SL_BATCH_ATTR_CODEC_MASK;
}
static inline bool sl_batch_is_transactional(const struct sl_batch_hdr *hdr)
{
    return hdr->attributes & SL_BATCH_ATTR_TRANSACTIONAL;
}
static inline bool sl_batch_is_control(const struct sl_batch_hdr *hdr)
{
    return hdr->attributes & SL_BATCH_ATTR_CONTROL;
}
static inline bool sl_batch_is_log_append_time(const struct sl_batch_hdr *hdr)
{
    return hdr->attributes & SL_BATCH_ATTR_LOG_APPEND_TIME;
}
/* Two's-complement addition: fields of a batch not yet validated (or read
 * back from a damaged file) may hold anything, and an overflowing signed add
 * is undefined behaviour; the result is then nonsense that checks reject. */
static inline int64_t sl_wrap_add64(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static inline int64_t sl_batch_last_offset(const struct sl_batch_hdr *hdr)
{
    return sl_wrap_add64(hdr->base_offset, hdr->last_offset_delta);
}
/* Total bytes of the batch: 12 + batchLength. */
static inline size_t sl_batch_size(const struct sl_batch_hdr *hdr)
{
    return SL_BATCH_LOG_OVERHEAD + (size_t)(uint32_t)hdr->batch_length;
}

/* Decodes the 61-byte header. Checks nothing but len: 0, or -EBADMSG when
 * len < SL_BATCH_HEADER_SIZE. */
int sl_batch_hdr_decode(const uint8_t *p, size_t len, struct sl_batch_hdr *hdr);
/* Computes the CRC-32C over bytes 21..size of a batch of `size` bytes. */
uint32_t sl_batch_compute_crc(const uint8_t *p, size_t size);

struct sl_batch_opts {
    int32_t max_message_bytes;   /* max.message.bytes: batch size limit; 0 = 1048588 */
    size_t decompress_cap_bytes; /* 0 = SL_BATCH_DEFAULT_DECOMPRESS_CAP */
    bool allow_control;          /* false for Produce from clients */
    bool skip_records;           /* check only the header and CRC (no record walk) */
};

/* Validates the records field of one Produce partition: exactly one batch
 * covering p[0..len). Returns a Kafka error code:
 *   0                  ok, *hdr filled (hdr may be NULL)
 *   CORRUPT_MESSAGE    bad CRC, batchLength not matching len, too short,
 *                      records count / lastOffsetDelta inconsistent, a record
 *                      truncated or malformed, offset deltas not 0..n-1,
 *                      corrupt compressed data, unknown codec
 *   INVALID_RECORD     magic != 2, a control batch when !allow_control, more
 *                      than one batch (Produce v3+ rule)
 *   MESSAGE_TOO_LARGE  batch > max_message_bytes, or records inflating past
 *                      decompress_cap_bytes
 * opts may be NULL for the defaults. */
int16_t sl_batch_validate(const uint8_t *p, size_t len, const struct sl_batch_opts *opts,
                          struct sl_batch_hdr *hdr);

/* The one-batch rule alone: 0, INVALID_RECORD if p[0..len) holds more than one
 * batch (or trailing bytes), CORRUPT_MESSAGE if it holds less than one. */
int16_t sl_batch_check_single(const uint8_t *p, size_t len);

/* ---- iteration ---- */

struct sl_record {
    int8_t attributes;       /* unused by Kafka, kept as read */
    int64_t ts_delta;        /* ms relative to base_timestamp */
    int64_t offset_delta;    /* relative to base_offset */
    int64_t offset;          /* base_offset + offset_delta */
    int64_t timestamp;       /* ms: base + delta, or max_timestamp for LogAppendTime */
    struct sl_slice key;     /* p == NULL for a null key */
    struct sl_slice value;   /* p == NULL for a null value (tombstone) */
    int32_t headers_n;       /* number of headers */
    struct sl_slice headers; /* encoded headers; walk with sl_record_header_next */
};

struct sl_record_header {
    struct sl_slice key;   /* header key (never null) */
    struct sl_slice value; /* p == NULL for a null value */
};

/* Iterates the records of one batch. Slices point into the batch (or into
 * the decompressed copy the iterator owns) and last until sl_batch_iter_fini. */
struct sl_batch_iter {
    struct sl_batch_hdr hdr; /* the batch's header */
    uint8_t *buf;            /* decompressed records (owned), NULL if uncompressed */
    const uint8_t *p;        /* next record */
    const uint8_t *end;      /* end of the records */
    int32_t i;               /* records returned so far */
};

/* Starts iterating the batch at p (len bytes, one whole batch; the CRC is not
 * checked, validate first). Compressed records are decompressed into a
 * buffer of at most cap_bytes (0 = SL_BATCH_DEFAULT_DECOMPRESS_CAP).
 * 0, -EBADMSG (malformed, corrupt compression), -EMSGSIZE (over the cap),
 * -ENOTSUP (unknown codec), -ENOMEM. Call sl_batch_iter_fini in every case. */
int sl_batch_iter_init(struct sl_batch_iter *it, const uint8_t *p, size_t len, size_t cap_bytes);
/* 1 with *rec filled, 0 after the last record, -EBADMSG on a malformed record. */
int sl_batch_iter_next(struct sl_batch_iter *it, struct sl_record *rec);
void sl_batch_iter_fini(struct sl_batch_iter *it);
/* Walks encoded headers: 1 with *h filled and *pp advanced, 0 at end, -EBADMSG. */
int sl_record_header_next(const uint8_t **pp, const uint8_t *end, struct sl_record_header *h);

/* ---- in-place rewrites (the leader's append path) ---- */

/* Sets baseOffset; not covered by the CRC. */
void sl_batch_set_base_offset(uint8_t *p, int64_t base_offset);
/* Sets partitionLeaderEpoch; not covered by the CRC. */
void sl_batch_set_leader_epoch(uint8_t *p, int32_t epoch);
/* LogAppendTime as Kafka does it: sets the timestampType bit, maxTimestamp =
 * now_ms (baseTimestamp and records unchanged), and recomputes the CRC. */
void sl_batch_set_log_append_time(uint8_t *p, size_t size, int64_t now_ms);

/* ---- builder (metadata records, control markers, __consumer_offsets) ---- */

struct sl_batch_build_opts {
    int64_t base_offset;            /* usually 0; the log assigns offsets */
    int32_t partition_leader_epoch; /* -1 unless known */
    int64_t producer_id;            /* -1 when not idempotent */
    int16_t producer_epoch;         /* -1 when not idempotent */
    int32_t base_sequence;          /* -1 when not idempotent */
    bool transactional;             /* sets isTransactional */
    bool control;                   /* sets isControlBatch */
    int codec;                      /* enum sl_codec */
    int level;                      /* codec level, 0 = default */
};

/* Fills opts with the defaults for a plain, non-idempotent batch. */
void sl_batch_build_opts_default(struct sl_batch_build_opts *o);

struct sl_batch_builder {
    struct sl_batch_build_opts opts; /* copied at init */
    uint8_t *buf;                    /* uncompressed records (owned) */
    size_t len;                      /* bytes used in buf */
    size_t cap;                      /* bytes allocated in buf */
    int64_t base_ts;                 /* first record's timestamp, ms */
    int64_t max_ts;                  /* largest timestamp, ms */
    int32_t count;                   /* records added */
    int err;                         /* sticky -ENOMEM/-EOVERFLOW */
};

void sl_batch_builder_init(struct sl_batch_builder *b, const struct sl_batch_build_opts *opts);
/* Appends a record. key/value with p == NULL are null. 0, -ENOMEM, -EOVERFLOW. */
int sl_batch_builder_add(struct sl_batch_builder *b, int64_t ts_ms, struct sl_slice key,
                         struct sl_slice value, const struct sl_record_header *hdrs,
                         int32_t hdrs_n);
/* Produces the batch into a new malloc'd buffer (*out, caller frees).
 * 0, -EINVAL (no records), -ENOMEM, or the sticky error of an add. */
int sl_batch_builder_finish(struct sl_batch_builder *b, uint8_t **out, size_t *out_len);
void sl_batch_builder_fini(struct sl_batch_builder *b);

/* Control record type in the key of an end-transaction marker. */
#define SL_CONTROL_ABORT 0
#define SL_CONTROL_COMMIT 1
/* Builds a COMMIT or ABORT marker batch: transactional control batch with
 * one record, key (version 0, type), value (version 0, coordinator epoch). */
int sl_batch_build_txn_marker(int64_t producer_id, int16_t producer_epoch, int16_t type,
                              int32_t coordinator_epoch, int64_t ts_ms, uint8_t **out,
                              size_t *out_len);

#endif
