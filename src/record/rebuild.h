/*
 * rebuild.h - re-encoding a stored record batch without touching its
 * records: the log cleaner keeps a subset of a batch's records, Produce
 * converts a batch to the topic's compression.type. Records are copied as
 * encoded (offset deltas, timestamp deltas, keys, values, headers
 * byte-for-byte); the header keeps baseOffset, partitionLeaderEpoch,
 * lastOffsetDelta, both timestamps, the timestamp type, the transactional
 * and control bits and the producer id/epoch/base sequence; only the codec
 * bits, recordsCount, batchLength and the CRC change.
 * Thread: any; no shared state.
 */
#ifndef SL_RECORD_REBUILD_H
#define SL_RECORD_REBUILD_H

#include <stddef.h>
#include <stdint.h>

/* Builds a batch from the 61-byte header of `src` and `count` encoded
 * records recs[0..len), compressed with codec (enum sl_codec; level 0 =
 * default). *out is malloc'd (caller frees). 0, -ENOMEM, -EOVERFLOW, -ENOTSUP. */
int sl_batch_rebuild(const uint8_t *src, const uint8_t *recs, size_t len, int32_t count, int codec,
                     int level, uint8_t **out, size_t *out_len);

/* Converts one whole batch (len bytes, validated) to codec: its records are
 * decompressed (at most cap_bytes, 0 = the default cap) and re-encoded.
 * 0, -EBADMSG, -EMSGSIZE, -ENOMEM, -ENOTSUP. */
int sl_batch_recompress(const uint8_t *batch, size_t len, int codec, size_t cap_bytes,
                        uint8_t **out, size_t *out_len);

#endif
