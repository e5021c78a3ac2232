/*
 * produce_conv.c - compacted-topic key check and broker-side recompression
 * of Produce batches (see produce_conv.h). The records are re-encoded as
 * they came (record/rebuild.h): offset deltas, timestamps, headers and the
 * producer id/epoch/sequence stay, only the codec and the CRC change.
 */
#include "broker/produce_conv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "broker/parts.h"
#include "proto/gen/errors.h"
#include "record/batch.h"
#include "record/rebuild.h"

static int16_t check_keys(const struct sl_slice *rec)
{
    struct sl_batch_iter it;
    struct sl_record r;
    int rc = sl_batch_iter_init(&it, rec->p, rec->len, 0);
    int16_t err = 0;
    if (rc == 0)
        while ((rc = sl_batch_iter_next(&it, &r)) == 1)
            if (!r.key.p) {
                err = SL_KERR_INVALID_RECORD;
                break;
            }
    sl_batch_iter_fini(&it);
    if (!err && rc < 0)
        err = rc == -EMSGSIZE ? SL_KERR_MESSAGE_TOO_LARGE : SL_KERR_CORRUPT_MESSAGE;
    return err;
}

int16_t sl_produce_convert(struct sl_part *part, struct sl_arena *a, struct sl_slice *rec,
                           struct sl_batch_hdr *hdr)
{
    bool compact = __atomic_load_n(&part->cleanup.policy_compact, __ATOMIC_RELAXED);
    int codec = __atomic_load_n(&part->cleanup.codec, __ATOMIC_RELAXED);
    bool convert = codec >= 0 && codec != sl_batch_codec(hdr) && !sl_batch_is_control(hdr);
    if (!compact && !convert)
        return 0;
    int16_t err;
    if (compact && (err = check_keys(rec)))
        return err;
    if (!convert)
        return 0;
    uint8_t *out;
    size_t len;
    int rc = sl_batch_recompress(rec->p, rec->len, codec, 0, &out, &len);
    if (rc < 0)
        return rc == -EMSGSIZE ? SL_KERR_MESSAGE_TOO_LARGE : SL_KERR_CORRUPT_MESSAGE;
    int32_t mmb = __atomic_load_n(&part->max_message_bytes, __ATOMIC_ACQUIRE);
    uint8_t *copy = len <= (size_t)(mmb > 0 ? mmb : 1048588) ? sl_arena_dup(a, out, len) : NULL;
    free(out);
    if (!copy)
        return SL_KERR_MESSAGE_TOO_LARGE;
    sl_batch_hdr_decode(copy, len, hdr);
    rec->p = copy;
    rec->len = len;
    return 0;
}
