/*
 * builder.c - builds v2 record batches for the broker's own writes: metadata
 * records, transaction markers, __consumer_offsets records. Records are
 * encoded uncompressed into a growing buffer; finish() writes the 61-byte
 * header in front, compresses the records if asked, and sets the CRC.
 * Invariant: buf[0..len) is a sequence of complete encoded records.
 */
#include "record/batch.h"

#include "base/varint.h"
#include "record/compress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sl_batch_build_opts_default(struct sl_batch_build_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->partition_leader_epoch = -1;
    o->producer_id = -1;
    o->producer_epoch = -1;
    o->base_sequence = -1;
}

void sl_batch_builder_init(struct sl_batch_builder *b, const struct sl_batch_build_opts *opts)
{
    memset(b, 0, sizeof(*b));
    if (opts)
        b->opts = *opts;
    else
        sl_batch_build_opts_default(&b->opts);
}

static int reserve(struct sl_batch_builder *b, size_t n)
{
    if (b->cap - b->len >= n)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    uint8_t *p = realloc(b->buf, cap);
    if (!p)
        return -ENOMEM;
    b->buf = p;
    b->cap = cap;
    return 0;
}

static size_t put_bytes(uint8_t *p, struct sl_slice s)
{
    if (!s.p)
        return sl_varint_write_i32(p, -1);
    size_t n = sl_varint_write_i32(p, (int32_t)s.len);
    if (s.len)
        memcpy(p + n, s.p, s.len);
    return n + s.len;
}

int sl_batch_builder_add(struct sl_batch_builder *b, int64_t ts_ms, struct sl_slice key,
                         struct sl_slice value, const struct sl_record_header *hdrs,
                         int32_t hdrs_n)
{
    if (b->err)
        return b->err;
    if (b->count == INT32_MAX || key.len > INT32_MAX / 2 || value.len > INT32_MAX / 2) {
        b->err = -EOVERFLOW;
        return b->err;
    }
    if (b->count == 0)
        b->base_ts = b->max_ts = ts_ms;
    /* Body size: everything after the length varint. */
    size_t body = 1 + sl_varint_size_i64(ts_ms - b->base_ts) + sl_varint_size_i64(b->count) +
                  5 + key.len + 5 + value.len + 5;
    for (int32_t i = 0; i < hdrs_n; i++)
        body += 10 + hdrs[i].key.len + hdrs[i].value.len;
    if (body > INT32_MAX / 2 || reserve(b, body + 5) < 0) {
        b->err = body > INT32_MAX / 2 ? -EOVERFLOW : -ENOMEM;
        return b->err;
    }
    /* Encode the body 5 bytes in, then move it behind its exact length. */
    uint8_t *start = b->buf + b->len, *p = start + 5;
    *p++ = 0; /* attributes */
    p += sl_varint_write_i64(p, ts_ms - b->base_ts);
    p += sl_varint_write_i32(p, b->count);
    p += put_bytes(p, key);
    p += put_bytes(p, value);
    p += sl_varint_write_i32(p, hdrs_n);
    for (int32_t i = 0; i < hdrs_n; i++) {
        struct sl_slice k = hdrs[i].key;
        if (!k.p)
            k = sl_slice_cstr("");
        p += put_bytes(p, k);
        p += put_bytes(p, hdrs[i].value);
    }
    size_t blen = (size_t)(p - (start + 5));
    uint8_t lenbuf[5];
    size_t ln = sl_varint_write_i32(lenbuf, (int32_t)blen);
    memmove(start + ln, start + 5, blen);
    memcpy(start, lenbuf, ln);
    b->len += ln + blen;
    if (ts_ms > b->max_ts)
        b->max_ts = ts_ms;
    b->count++;
    return 0;
}

int sl_batch_builder_finish(struct sl_batch_builder *b, uint8_t **out, size_t *out_len)
{
    if (b->err)
        return b->err;
    if (b->count == 0)
        return -EINVAL;
    const uint8_t *recs = b->buf;
    size_t recs_len = b->len;
    uint8_t *z = NULL;
    int codec = b->opts.codec;
    if (codec != 0) {
        int rc = sl_compress_encode(codec, b->opts.level, b->buf, b->len, &z, &recs_len);
        if (rc < 0)
            return rc;
        recs = z;
    }
    size_t size = SL_BATCH_HEADER_SIZE + recs_len;
    if (size - SL_BATCH_LOG_OVERHEAD > INT32_MAX) {
        free(z);
        return -EOVERFLOW;
    }
    uint8_t *p = malloc(size);
    if (!p) {
        free(z);
        return -ENOMEM;
    }
    int16_t attrs = (int16_t)(codec & SL_BATCH_ATTR_CODEC_MASK);
    if (b->opts.transactional)
        attrs |= SL_BATCH_ATTR_TRANSACTIONAL;
    if (b->opts.control)
        attrs |= SL_BATCH_ATTR_CONTROL;
    sl_put_be64(p + SL_BATCH_OFF_BASE_OFFSET, (uint64_t)b->opts.base_offset);
    sl_put_be32(p + SL_BATCH_OFF_LENGTH, (uint32_t)(size - SL_BATCH_LOG_OVERHEAD));
    sl_put_be32(p + SL_BATCH_OFF_LEADER_EPOCH, (uint32_t)b->opts.partition_leader_epoch);
    p[SL_BATCH_OFF_MAGIC] = SL_BATCH_MAGIC;
    sl_put_be16(p + SL_BATCH_OFF_ATTRIBUTES, (uint16_t)attrs);
    sl_put_be32(p + SL_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(b->count - 1));
    sl_put_be64(p + SL_BATCH_OFF_BASE_TS, (uint64_t)b->base_ts);
    sl_put_be64(p + SL_BATCH_OFF_MAX_TS, (uint64_t)b->max_ts);
    sl_put_be64(p + SL_BATCH_OFF_PRODUCER_ID, (uint64_t)b->opts.producer_id);
    sl_put_be16(p + SL_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)b->opts.producer_epoch);
    sl_put_be32(p + SL_BATCH_OFF_BASE_SEQ, (uint32_t)b->opts.base_sequence);
    sl_put_be32(p + SL_BATCH_OFF_RECORDS_COUNT, (uint32_t)b->count);
    memcpy(p + SL_BATCH_HEADER_SIZE, recs, recs_len);
    sl_put_be32(p + SL_BATCH_OFF_CRC, sl_batch_compute_crc(p, size));
    free(z);
    *out = p;
    *out_len = size;
    return 0;
}

void sl_batch_builder_fini(struct sl_batch_builder *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
}

int sl_batch_build_txn_marker(int64_t producer_id, int16_t producer_epoch, int16_t type,
                              int32_t coordinator_epoch, int64_t ts_ms, uint8_t **out,
                              size_t *out_len)
{
    struct sl_batch_build_opts o;
    sl_batch_build_opts_default(&o);
    o.producer_id = producer_id;
    o.producer_epoch = producer_epoch;
    o.transactional = true;
    o.control = true;
    uint8_t key[4], value[6];
    sl_put_be16(key, 0); /* version */
    sl_put_be16(key + 2, (uint16_t)type);
    sl_put_be16(value, 0); /* version */
    sl_put_be32(value + 2, (uint32_t)coordinator_epoch);
    struct sl_batch_builder b;
    sl_batch_builder_init(&b, &o);
    int rc = sl_batch_builder_add(&b, ts_ms, (struct sl_slice){key, 4},
                                  (struct sl_slice){value, 6}, NULL, 0);
    if (rc == 0)
        rc = sl_batch_builder_finish(&b, out, out_len);
    sl_batch_builder_fini(&b);
    return rc;
}
