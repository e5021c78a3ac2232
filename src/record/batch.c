/*
 * batch.c - record batch v2 decoding, validation and iteration.
 *
 * Validation walks every record without materialising the records: for a
 * compressed batch it pulls decompressed bytes through a 16 KiB window from a
 * capped sl_dstream, so its memory is constant and its work is bounded by
 * decompress_cap_bytes. Iteration (for the broker's own readers) decompresses
 * the whole records area into a buffer it owns, bounded by the same kind of cap.
 */
#include "record/batch.h"

#include "base/crc32c.h"
#include "base/varint.h"
#include "proto/gen/errors.h"
#include "record/compress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_MESSAGE_BYTES 1048588 /* Kafka's max.message.bytes default */
#define WINDOW 16384                      /* validation read window, bytes */

int sl_batch_hdr_decode(const uint8_t *p, size_t len, struct sl_batch_hdr *hdr)
{
    if (len < SL_BATCH_HEADER_SIZE)
        return -EBADMSG;
    hdr->base_offset = (int64_t)sl_be64(p + SL_BATCH_OFF_BASE_OFFSET);
    hdr->batch_length = (int32_t)sl_be32(p + SL_BATCH_OFF_LENGTH);
    hdr->partition_leader_epoch = (int32_t)sl_be32(p + SL_BATCH_OFF_LEADER_EPOCH);
    hdr->magic = (int8_t)p[SL_BATCH_OFF_MAGIC];
    hdr->crc = sl_be32(p + SL_BATCH_OFF_CRC);
    hdr->attributes = (int16_t)sl_be16(p + SL_BATCH_OFF_ATTRIBUTES);
    hdr->last_offset_delta = (int32_t)sl_be32(p + SL_BATCH_OFF_LAST_OFFSET_DELTA);
    hdr->base_timestamp = (int64_t)sl_be64(p + SL_BATCH_OFF_BASE_TS);
    hdr->max_timestamp = (int64_t)sl_be64(p + SL_BATCH_OFF_MAX_TS);
    hdr->producer_id = (int64_t)sl_be64(p + SL_BATCH_OFF_PRODUCER_ID);
    hdr->producer_epoch = (int16_t)sl_be16(p + SL_BATCH_OFF_PRODUCER_EPOCH);
    hdr->base_sequence = (int32_t)sl_be32(p + SL_BATCH_OFF_BASE_SEQ);
    hdr->records_count = (int32_t)sl_be32(p + SL_BATCH_OFF_RECORDS_COUNT);
    return 0;
}

uint32_t sl_batch_compute_crc(const uint8_t *p, size_t size)
{
    return sl_crc32c(0, p + SL_BATCH_OFF_ATTRIBUTES, size - SL_BATCH_OFF_ATTRIBUTES);
}

int16_t sl_batch_check_single(const uint8_t *p, size_t len)
{
    if (len < SL_BATCH_LOG_OVERHEAD)
        return SL_KERR_CORRUPT_MESSAGE;
    int32_t blen = (int32_t)sl_be32(p + SL_BATCH_OFF_LENGTH);
    if (blen < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD)
        return SL_KERR_CORRUPT_MESSAGE;
    size_t size = SL_BATCH_LOG_OVERHEAD + (size_t)blen;
    if (size > len)
        return SL_KERR_CORRUPT_MESSAGE;
    if (size < len)
        return SL_KERR_INVALID_RECORD;
    return 0;
}

/* ---- a reader over the records area: memory, or a decompressing stream ---- */

struct rd {
    const uint8_t *p;      /* next unread byte */
    const uint8_t *end;    /* end of the bytes available now */
    struct sl_dstream *ds; /* NULL: p..end is everything */
    uint8_t *win;          /* WINDOW bytes when ds != NULL */
    uint64_t consumed;     /* bytes consumed since the start */
    int err;               /* first stream error (-EMSGSIZE, -EBADMSG, ...) */
};

/* Makes at least `want` bytes available if the input has them. 0 when it
 * does, -1 when the input ends sooner or the stream fails (r->err set). */
static int rd_fill(struct rd *r, size_t want)
{
    size_t have = (size_t)(r->end - r->p);
    if (have >= want)
        return 0;
    if (!r->ds || r->err)
        return -1;
    memmove(r->win, r->p, have);
    r->p = r->win;
    r->end = r->win + have;
    while ((size_t)(r->end - r->p) < want) {
        ssize_t n = sl_dstream_read(r->ds, (uint8_t *)r->end, WINDOW - (size_t)(r->end - r->p));
        if (n < 0) {
            r->err = (int)n;
            return -1;
        }
        if (n == 0)
            return -1;
        r->end += n;
    }
    return 0;
}

static int rd_varint32(struct rd *r, int32_t *v)
{
    rd_fill(r, 5); /* fewer may remain at the end: the parse below decides */
    const uint8_t *before = r->p;
    if (sl_varint_read_i32(&r->p, r->end, v) < 0)
        return -1;
    r->consumed += (uint64_t)(r->p - before);
    return 0;
}

static int rd_varint64(struct rd *r, int64_t *v)
{
    rd_fill(r, 10);
    const uint8_t *before = r->p;
    if (sl_varint_read_i64(&r->p, r->end, v) < 0)
        return -1;
    r->consumed += (uint64_t)(r->p - before);
    return 0;
}

/* Consumes n bytes; *at gets them when they are contiguous in memory mode. */
static int rd_skip(struct rd *r, size_t n, const uint8_t **at)
{
    if (!r->ds) {
        if ((size_t)(r->end - r->p) < n)
            return -1;
        if (at)
            *at = r->p;
        r->p += n;
        r->consumed += n;
        return 0;
    }
    while (n) {
        if (r->p == r->end && rd_fill(r, 1) < 0)
            return -1;
        size_t k = (size_t)(r->end - r->p);
        if (k > n)
            k = n;
        r->p += k;
        r->consumed += k;
        n -= k;
    }
    return 0;
}

/* Parses one record, checking every length against the record's own length.
 * rec may be NULL (validation); slices are filled in memory mode only.
 * 0, or -1 when malformed/truncated (r->err tells a stream failure apart). */
static int parse_record(struct rd *r, struct sl_record *rec)
{
    int32_t len, klen, vlen, hn;
    int64_t ts_delta;
    int32_t off_delta;
    const uint8_t *kp = NULL, *vp = NULL, *hp = NULL;
    if (rd_varint32(r, &len) < 0 || len < 6)
        return -1;
    uint64_t start = r->consumed;
    uint64_t limit = start + (uint64_t)len;
    if (rd_fill(r, 1) < 0)
        return -1;
    int8_t attrs = (int8_t)*r->p++;
    r->consumed++;
    if (rd_varint64(r, &ts_delta) < 0 || rd_varint32(r, &off_delta) < 0)
        return -1;
    if (rd_varint32(r, &klen) < 0 || klen < -1 || r->consumed + (uint64_t)(klen > 0 ? klen : 0) > limit)
        return -1;
    if (klen > 0 && rd_skip(r, (size_t)klen, &kp) < 0)
        return -1;
    if (klen == 0)
        kp = r->p; /* empty, not null */
    if (rd_varint32(r, &vlen) < 0 || vlen < -1 || r->consumed + (uint64_t)(vlen > 0 ? vlen : 0) > limit)
        return -1;
    if (vlen > 0 && rd_skip(r, (size_t)vlen, &vp) < 0)
        return -1;
    if (vlen == 0)
        vp = r->p;
    if (rd_varint32(r, &hn) < 0 || hn < 0 || (uint64_t)hn > limit - r->consumed)
        return -1;
    hp = r->p;
    uint64_t hstart = r->consumed;
    for (int32_t i = 0; i < hn; i++) {
        int32_t hk, hv;
        if (rd_varint32(r, &hk) < 0 || hk < 0 || r->consumed + (uint64_t)hk > limit)
            return -1;
        if (rd_skip(r, (size_t)hk, NULL) < 0)
            return -1;
        if (rd_varint32(r, &hv) < 0 || hv < -1 || r->consumed + (uint64_t)(hv > 0 ? hv : 0) > limit)
            return -1;
        if (hv > 0 && rd_skip(r, (size_t)hv, NULL) < 0)
            return -1;
    }
    if (r->consumed != limit)
        return -1;
    if (rec) {
        rec->attributes = attrs;
        rec->ts_delta = ts_delta;
        rec->offset_delta = off_delta;
        rec->key.p = klen >= 0 ? kp : NULL;
        rec->key.len = klen > 0 ? (size_t)klen : 0;
        rec->value.p = vlen >= 0 ? vp : NULL;
        rec->value.len = vlen > 0 ? (size_t)vlen : 0;
        rec->headers_n = hn;
        rec->headers.p = hp;
        rec->headers.len = (size_t)(r->consumed - hstart);
    } else {
        (void)attrs;
    }
    return off_delta;
}

/* Walks all records of a validated header; returns a Kafka code. */
static int16_t validate_records(const uint8_t *p, size_t size, const struct sl_batch_hdr *hdr,
                                size_t cap)
{
    struct rd r = {.p = p + SL_BATCH_HEADER_SIZE, .end = p + size};
    uint8_t *win = NULL;
    int16_t kerr = 0;
    int codec = sl_batch_codec(hdr);
    if (codec != SL_CODEC_NONE) {
        int rc = sl_dstream_new(codec, r.p, (size_t)(r.end - r.p), cap, &r.ds);
        if (rc < 0)
            return rc == -ENOMEM ? SL_KERR_UNKNOWN_SERVER_ERROR : SL_KERR_CORRUPT_MESSAGE;
        if (!(win = malloc(WINDOW))) {
            kerr = SL_KERR_UNKNOWN_SERVER_ERROR;
            goto out;
        }
        r.win = win;
        r.p = r.end = win;
    }
    for (int32_t i = 0; i < hdr->records_count; i++) {
        int rc = parse_record(&r, NULL);
        if (r.err) {
            kerr = r.err == -EMSGSIZE  ? SL_KERR_MESSAGE_TOO_LARGE
                   : r.err == -ENOMEM ? SL_KERR_UNKNOWN_SERVER_ERROR
                                      : SL_KERR_CORRUPT_MESSAGE;
            goto out;
        }
        /* parse_record returns the offset delta, or -1 when malformed. */
        if (rc != i) {
            kerr = SL_KERR_CORRUPT_MESSAGE;
            goto out;
        }
    }
    /* Nothing may follow the last record. */
    if (rd_fill(&r, 1) == 0)
        kerr = SL_KERR_CORRUPT_MESSAGE;
    else if (r.err)
        kerr = r.err == -EMSGSIZE ? SL_KERR_MESSAGE_TOO_LARGE : SL_KERR_CORRUPT_MESSAGE;
out:
    sl_dstream_free(r.ds);
    free(win);
    return kerr;
}

int16_t sl_batch_validate(const uint8_t *p, size_t len, const struct sl_batch_opts *opts,
                          struct sl_batch_hdr *hdr_out)
{
    struct sl_batch_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    size_t max_bytes = opts->max_message_bytes > 0 ? (size_t)opts->max_message_bytes
                                                   : DEFAULT_MAX_MESSAGE_BYTES;
    size_t cap = opts->decompress_cap_bytes ? opts->decompress_cap_bytes
                                            : SL_BATCH_DEFAULT_DECOMPRESS_CAP;
    if (len > SL_BATCH_OFF_MAGIC && p[SL_BATCH_OFF_MAGIC] != SL_BATCH_MAGIC)
        return SL_KERR_INVALID_RECORD;
    int16_t kerr = sl_batch_check_single(p, len);
    if (kerr)
        return kerr;
    struct sl_batch_hdr hdr;
    if (sl_batch_hdr_decode(p, len, &hdr) < 0)
        return SL_KERR_CORRUPT_MESSAGE;
    if (len > max_bytes)
        return SL_KERR_MESSAGE_TOO_LARGE;
    if (sl_batch_compute_crc(p, len) != hdr.crc)
        return SL_KERR_CORRUPT_MESSAGE;
    if (sl_batch_is_control(&hdr) && !opts->allow_control)
        return SL_KERR_INVALID_RECORD;
    if (hdr.records_count <= 0 || hdr.last_offset_delta != hdr.records_count - 1)
        return SL_KERR_CORRUPT_MESSAGE;
    if (sl_batch_codec(&hdr) > SL_CODEC_ZSTD)
        return SL_KERR_CORRUPT_MESSAGE;
    /* Each record takes at least 7 bytes uncompressed: a count beyond that
     * is a lie a walk would only discover after the cap's worth of work. */
    if (sl_batch_codec(&hdr) == SL_CODEC_NONE &&
        (size_t)hdr.records_count > (len - SL_BATCH_HEADER_SIZE) / 7)
        return SL_KERR_CORRUPT_MESSAGE;
    if (!opts->skip_records) {
        kerr = validate_records(p, len, &hdr, cap);
        if (kerr)
            return kerr;
    }
    if (hdr_out)
        *hdr_out = hdr;
    return 0;
}

/* ---- iteration ---- */

int sl_batch_iter_init(struct sl_batch_iter *it, const uint8_t *p, size_t len, size_t cap_bytes)
{
    memset(it, 0, sizeof(*it));
    if (sl_batch_hdr_decode(p, len, &it->hdr) < 0 || it->hdr.magic != SL_BATCH_MAGIC ||
        it->hdr.batch_length < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD ||
        sl_batch_size(&it->hdr) > len || it->hdr.records_count < 0)
        return -EBADMSG;
    size_t size = sl_batch_size(&it->hdr);
    it->p = p + SL_BATCH_HEADER_SIZE;
    it->end = p + size;
    int codec = sl_batch_codec(&it->hdr);
    if (codec == SL_CODEC_NONE)
        return 0;
    size_t cap = cap_bytes ? cap_bytes : SL_BATCH_DEFAULT_DECOMPRESS_CAP;
    struct sl_dstream *ds;
    int rc = sl_dstream_new(codec, it->p, (size_t)(it->end - it->p), cap, &ds);
    if (rc < 0)
        return rc;
    /* Grow geometrically from a guess, never past the cap (+1 to probe). */
    size_t alloc = 4 * (size_t)(it->end - it->p) + 4096, used = 0;
    for (;;) {
        if (alloc > cap)
            alloc = cap;
        uint8_t *nb = realloc(it->buf, alloc ? alloc : 1);
        if (!nb) {
            rc = -ENOMEM;
            break;
        }
        it->buf = nb;
        uint8_t probe;
        ssize_t n = used < alloc ? sl_dstream_read(ds, it->buf + used, alloc - used)
                                 : sl_dstream_read(ds, &probe, 1);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used == alloc && alloc < cap)
            alloc *= 2;
    }
    sl_dstream_free(ds);
    it->p = it->buf;
    it->end = it->buf + used;
    return rc;
}

int sl_batch_iter_next(struct sl_batch_iter *it, struct sl_record *rec)
{
    if (it->i >= it->hdr.records_count)
        return 0;
    struct rd r = {.p = it->p, .end = it->end};
    int rc = parse_record(&r, rec);
    if (rc < 0)
        return -EBADMSG;
    it->p = r.p;
    it->i++;
    rec->offset = sl_wrap_add64(it->hdr.base_offset, rec->offset_delta);
    rec->timestamp = sl_batch_is_log_append_time(&it->hdr) ? it->hdr.max_timestamp
                                                           : sl_wrap_add64(it->hdr.base_timestamp, rec->ts_delta);
    return 1;
}

void sl_batch_iter_fini(struct sl_batch_iter *it)
{
    free(it->buf);
    it->buf = NULL;
}

int sl_record_header_next(const uint8_t **pp, const uint8_t *end, struct sl_record_header *h)
{
    const uint8_t *p = *pp;
    int32_t kl, vl;
    if (p == end)
        return 0;
    if (sl_varint_read_i32(&p, end, &kl) < 0 || kl < 0 || (size_t)(end - p) < (size_t)kl)
        return -EBADMSG;
    h->key.p = p;
    h->key.len = (size_t)kl;
    p += kl;
    if (sl_varint_read_i32(&p, end, &vl) < 0 || vl < -1 ||
        (vl > 0 && (size_t)(end - p) < (size_t)vl))
        return -EBADMSG;
    h->value.p = vl >= 0 ? p : NULL;
    h->value.len = vl > 0 ? (size_t)vl : 0;
    p += vl > 0 ? vl : 0;
    *pp = p;
    return 1;
}

/* ---- rewrites ---- */

void sl_batch_set_base_offset(uint8_t *p, int64_t base_offset)
{
    sl_put_be64(p + SL_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void sl_batch_set_leader_epoch(uint8_t *p, int32_t epoch)
{
    sl_put_be32(p + SL_BATCH_OFF_LEADER_EPOCH, (uint32_t)epoch);
}

void sl_batch_set_log_append_time(uint8_t *p, size_t size, int64_t now_ms)
{
    uint16_t attrs = sl_be16(p + SL_BATCH_OFF_ATTRIBUTES);
    sl_put_be16(p + SL_BATCH_OFF_ATTRIBUTES, attrs | SL_BATCH_ATTR_LOG_APPEND_TIME);
    sl_put_be64(p + SL_BATCH_OFF_MAX_TS, (uint64_t)now_ms);
    sl_put_be32(p + SL_BATCH_OFF_CRC, sl_batch_compute_crc(p, size));
}
