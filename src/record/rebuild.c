/*
 * rebuild.c - re-encoding a batch around its records as they are encoded
 * (see rebuild.h). The iterator's buffer already holds the decompressed
 * records, so conversion is one decode and one encode.
 */
#include "record/rebuild.h"

#include "base/varint.h"
#include "record/batch.h"
#include "record/compress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sl_batch_rebuild(const uint8_t *src, const uint8_t *recs, size_t len, int32_t count, int codec,
                     int level, uint8_t **out, size_t *out_len)
{
    uint8_t *z = NULL;
    size_t zlen = len;
    const uint8_t *body = recs;
    if (codec != 0 && len > 0) {
        int rc = sl_compress_encode(codec, level, recs, len, &z, &zlen);
        if (rc < 0)
            return rc;
        body = z;
    }
    size_t size = SL_BATCH_HEADER_SIZE + zlen;
    if (size - SL_BATCH_LOG_OVERHEAD > INT32_MAX) {
        free(z);
        return -EOVERFLOW;
    }
    uint8_t *p = malloc(size);
    if (!p) {
        free(z);
        return -ENOMEM;
    }
    memcpy(p, src, SL_BATCH_HEADER_SIZE);
    uint16_t attrs = sl_be16(src + SL_BATCH_OFF_ATTRIBUTES);
    attrs = (uint16_t)((attrs & ~SL_BATCH_ATTR_CODEC_MASK) | (codec & SL_BATCH_ATTR_CODEC_MASK));
    sl_put_be16(p + SL_BATCH_OFF_ATTRIBUTES, attrs);
    sl_put_be32(p + SL_BATCH_OFF_LENGTH, (uint32_t)(size - SL_BATCH_LOG_OVERHEAD));
    sl_put_be32(p + SL_BATCH_OFF_RECORDS_COUNT, (uint32_t)count);
    if (zlen)
        memcpy(p + SL_BATCH_HEADER_SIZE, body, zlen);
    sl_put_be32(p + SL_BATCH_OFF_CRC, sl_batch_compute_crc(p, size));
    free(z);
    *out = p;
    *out_len = size;
    return 0;
}

int sl_batch_recompress(const uint8_t *batch, size_t len, int codec, size_t cap_bytes,
                        uint8_t **out, size_t *out_len)
{
    struct sl_batch_iter it;
    int rc = sl_batch_iter_init(&it, batch, len, cap_bytes);
    if (rc == 0)
        rc = sl_batch_rebuild(batch, it.p, (size_t)(it.end - it.p), it.hdr.records_count, codec, 0,
                              out, out_len);
    sl_batch_iter_fini(&it);
    return rc;
}
