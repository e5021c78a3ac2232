/*
 * produce_conv.h - the topic's say over a validated Produce batch before it
 * is appended: a compacted topic (cleanup.policy has "compact") refuses
 * records without a key, and a topic whose compression.type is not
 * "producer" gets the batch in that codec (Kafka's broker-side
 * recompression). A batch already in the topic's codec, or any batch of a
 * "producer" topic, is stored byte-for-byte: the fast path costs two loads.
 */
#ifndef SL_BROKER_PRODUCE_CONV_H
#define SL_BROKER_PRODUCE_CONV_H

#include <stdint.h>

#include "base/slice.h"

struct sl_arena;
struct sl_batch_hdr;
struct sl_part;

/* rec: the batch (validated; hdr its header). On conversion rec points to
 * the converted batch in arena a and hdr is updated. Returns a Kafka error:
 * 0, INVALID_RECORD (a keyless record for a compacted topic),
 * MESSAGE_TOO_LARGE (the converted batch passes max.message.bytes),
 * CORRUPT_MESSAGE (records that do not decode). Thread: the request's loop. */
int16_t sl_produce_convert(struct sl_part *part, struct sl_arena *a, struct sl_slice *rec,
                           struct sl_batch_hdr *hdr);

#endif
