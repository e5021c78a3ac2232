/*
 * compress.c - streaming, capped decoders and one-shot encoders for the four
 * Kafka batch codecs. Each decoder keeps `produced` <= cap_bytes; once the cap
 * is reached it probes for one more byte and fails with -EMSGSIZE if there is
 * one, so output is never written past the cap.
 */
#include "record/compress.h"

#include "base/varint.h"

#include <errno.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HDR 16          /* magic, int32 version, int32 compatible version */
#define XERIAL_BLOCK (32 << 10) /* block size we write, as snappy-java does */

struct sl_dstream {
    int codec;            /* enum sl_codec */
    const uint8_t *in;    /* compressed bytes, borrowed */
    size_t in_len;        /* bytes at in */
    size_t in_pos;        /* bytes of in consumed */
    size_t cap;           /* most bytes of output allowed */
    size_t produced;      /* bytes of output handed out */
    int err;              /* sticky error, 0 while healthy */
    bool done;            /* end of compressed data reached */
    z_stream z;           /* gzip */
    bool z_init;          /* z needs inflateEnd */
    LZ4F_dctx *lz4;       /* lz4 */
    ZSTD_DCtx *zstd;      /* zstd */
    bool xerial;          /* snappy framing detected */
    uint8_t *blk;         /* snappy: the decoded current block */
    size_t blk_len;       /* bytes decoded in blk */
    size_t blk_pos;       /* bytes of blk handed out */
    size_t blk_cap;       /* bytes allocated at blk */
};

const char *sl_codec_name(int codec)
{
    static const char *names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    return codec >= 0 && codec <= 4 ? names[codec] : "unknown";
}

int sl_dstream_new(int codec, const uint8_t *in, size_t len, size_t cap_bytes,
                   struct sl_dstream **out)
{
    struct sl_dstream *ds = calloc(1, sizeof(*ds));
    if (!ds)
        return -ENOMEM;
    ds->codec = codec;
    ds->in = in;
    ds->in_len = len;
    ds->cap = cap_bytes;
    switch (codec) {
    case SL_CODEC_GZIP:
        /* 15 + 32: accept gzip or zlib headers. */
        if (inflateInit2(&ds->z, 15 + 32) != Z_OK)
            goto nomem;
        ds->z_init = true;
        break;
    case SL_CODEC_SNAPPY:
        ds->xerial = len >= XERIAL_HDR && memcmp(in, xerial_magic, 8) == 0;
        if (ds->xerial)
            ds->in_pos = XERIAL_HDR;
        break;
    case SL_CODEC_LZ4:
        if (LZ4F_isError(LZ4F_createDecompressionContext(&ds->lz4, LZ4F_VERSION)))
            goto nomem;
        break;
    case SL_CODEC_ZSTD:
        if (!(ds->zstd = ZSTD_createDCtx()))
            goto nomem;
        ZSTD_DCtx_setParameter(ds->zstd, ZSTD_d_windowLogMax, SL_COMPRESS_ZSTD_WINDOW_LOG_MAX);
        break;
    default:
        free(ds);
        return -ENOTSUP;
    }
    *out = ds;
    return 0;
nomem:
    sl_dstream_free(ds);
    return -ENOMEM;
}

void sl_dstream_free(struct sl_dstream *ds)
{
    if (!ds)
        return;
    if (ds->z_init)
        inflateEnd(&ds->z);
    if (ds->lz4)
        LZ4F_freeDecompressionContext(ds->lz4);
    if (ds->zstd)
        ZSTD_freeDCtx(ds->zstd);
    free(ds->blk);
    free(ds);
}

size_t sl_dstream_produced(const struct sl_dstream *ds)
{
    return ds->produced;
}

/* Each codec step: decode up to n bytes into buf; returns count, 0 at end, -errno. */

static ssize_t gzip_read(struct sl_dstream *ds, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (ds->in_pos == ds->in_len)
            return ds->done || got ? (ssize_t)got : -EBADMSG;
        if (ds->done) {
            /* Another gzip member follows (GZIPInputStream reads them all). */
            if (inflateReset(&ds->z) != Z_OK)
                return -EBADMSG;
            ds->done = false;
        }
        size_t in_n = ds->in_len - ds->in_pos;
        size_t out_n = n - got;
        ds->z.next_in = (Bytef *)(ds->in + ds->in_pos);
        ds->z.avail_in = in_n > UINT32_MAX ? UINT32_MAX : (uInt)in_n;
        ds->z.next_out = buf + got;
        ds->z.avail_out = out_n > UINT32_MAX ? UINT32_MAX : (uInt)out_n;
        uInt in_before = ds->z.avail_in, out_before = ds->z.avail_out;
        int rc = inflate(&ds->z, Z_NO_FLUSH);
        ds->in_pos += in_before - ds->z.avail_in;
        got += out_before - ds->z.avail_out;
        if (rc == Z_STREAM_END)
            ds->done = true;
        else if (rc == Z_BUF_ERROR && in_before == ds->z.avail_in && out_before == ds->z.avail_out)
            return -EBADMSG; /* no progress possible */
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return rc == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
        if (ds->done && ds->in_pos == ds->in_len)
            break;
    }
    return (ssize_t)got;
}

static ssize_t lz4_read(struct sl_dstream *ds, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (ds->in_pos == ds->in_len)
            return ds->done || got ? (ssize_t)got : -EBADMSG;
        size_t dst_n = n - got, src_n = ds->in_len - ds->in_pos;
        size_t hint = LZ4F_decompress(ds->lz4, buf + got, &dst_n, ds->in + ds->in_pos, &src_n, NULL);
        if (LZ4F_isError(hint))
            return -EBADMSG;
        ds->in_pos += src_n;
        got += dst_n;
        ds->done = hint == 0; /* a frame ended; another may follow */
        if (dst_n == 0 && src_n == 0)
            return -EBADMSG;
        if (ds->done && ds->in_pos == ds->in_len)
            break;
    }
    return (ssize_t)got;
}

static ssize_t zstd_read(struct sl_dstream *ds, uint8_t *buf, size_t n)
{
    ZSTD_outBuffer ob = {buf, n, 0};
    while (ob.pos < n) {
        if (ds->in_pos == ds->in_len) {
            if (ds->done || ob.pos)
                break;
            /* Input consumed: the decoder may still hold buffered output. */
        }
        ZSTD_inBuffer ib = {ds->in, ds->in_len, ds->in_pos};
        size_t before_out = ob.pos, before_in = ib.pos;
        size_t rc = ZSTD_decompressStream(ds->zstd, &ob, &ib);
        if (ZSTD_isError(rc))
        {
            ZSTD_ErrorCode ec = ZSTD_getErrorCode(rc);
            if (ec == ZSTD_error_memory_allocation)
                return -ENOMEM;
            /* A window beyond our limit would cost memory beyond our cap. */
            return ec == ZSTD_error_frameParameter_windowTooLarge ? -EMSGSIZE : -EBADMSG;
        }
        ds->in_pos = ib.pos;
        ds->done = rc == 0;
        if (ob.pos == before_out && ib.pos == before_in) {
            if (ds->in_pos == ds->in_len && !ds->done)
                return ob.pos ? (ssize_t)ob.pos : -EBADMSG; /* truncated frame */
            if (ds->done)
                break;
        }
        if (ds->done && ds->in_pos == ds->in_len)
            break;
    }
    return (ssize_t)ob.pos;
}

/* Decodes the next snappy block (xerial) or the whole raw input into ds->blk. */
static int snappy_next_block(struct sl_dstream *ds)
{
    const uint8_t *src;
    size_t src_len;
    if (ds->xerial) {
        if (ds->in_len - ds->in_pos < 4)
            return -EBADMSG;
        uint32_t n = sl_be32(ds->in + ds->in_pos);
        if (n > ds->in_len - ds->in_pos - 4)
            return -EBADMSG;
        src = ds->in + ds->in_pos + 4;
        src_len = n;
        ds->in_pos += 4 + (size_t)n;
    } else {
        src = ds->in;
        src_len = ds->in_len;
        ds->in_pos = ds->in_len;
    }
    size_t ulen;
    if (snappy_uncompressed_length((const char *)src, src_len, &ulen) != SNAPPY_OK)
        return -EBADMSG;
    /* Check the declared size against the cap before allocating anything. */
    if (ulen > ds->cap - ds->produced)
        return -EMSGSIZE;
    if (ulen > ds->blk_cap) {
        uint8_t *p = realloc(ds->blk, ulen);
        if (!p)
            return -ENOMEM;
        ds->blk = p;
        ds->blk_cap = ulen;
    }
    size_t out_len = ulen;
    if (ulen && snappy_uncompress((const char *)src, src_len, (char *)ds->blk, &out_len) != SNAPPY_OK)
        return -EBADMSG;
    if (out_len != ulen)
        return -EBADMSG;
    ds->blk_len = ulen;
    ds->blk_pos = 0;
    return 0;
}

static ssize_t snappy_read(struct sl_dstream *ds, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (ds->blk_pos == ds->blk_len) {
            if (ds->in_pos == ds->in_len) {
                ds->done = true;
                break;
            }
            int rc = snappy_next_block(ds);
            if (rc < 0)
                return got ? (ssize_t)got : rc; /* reported on the next call */
            continue;
        }
        size_t k = ds->blk_len - ds->blk_pos;
        if (k > n - got)
            k = n - got;
        memcpy(buf + got, ds->blk + ds->blk_pos, k);
        ds->blk_pos += k;
        got += k;
    }
    return (ssize_t)got;
}

static ssize_t codec_read(struct sl_dstream *ds, uint8_t *buf, size_t n)
{
    switch (ds->codec) {
    case SL_CODEC_GZIP:
        return gzip_read(ds, buf, n);
    case SL_CODEC_SNAPPY:
        return snappy_read(ds, buf, n);
    case SL_CODEC_LZ4:
        return lz4_read(ds, buf, n);
    case SL_CODEC_ZSTD:
        return zstd_read(ds, buf, n);
    }
    return -ENOTSUP;
}

ssize_t sl_dstream_read(struct sl_dstream *ds, void *buf, size_t n)
{
    if (ds->err)
        return ds->err;
    if (n == 0)
        return 0;
    ssize_t rc;
    if (ds->produced == ds->cap) {
        /* At the cap: any further byte is one too many. */
        uint8_t probe;
        rc = codec_read(ds, &probe, 1);
        if (rc > 0)
            rc = -EMSGSIZE;
    } else {
        size_t room = ds->cap - ds->produced;
        rc = codec_read(ds, buf, n < room ? n : room);
        if (rc > 0)
            ds->produced += (size_t)rc;
    }
    if (rc < 0)
        ds->err = (int)rc;
    return rc;
}

int sl_compress_decode(int codec, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                       size_t *out_len)
{
    struct sl_dstream *ds;
    int rc = sl_dstream_new(codec, in, len, cap, &ds);
    if (rc < 0)
        return rc;
    size_t got = 0;
    for (;;) {
        /* At the cap, ask for one more byte: the stream reports -EMSGSIZE
         * if there is one (without writing it) or 0 at the end. */
        uint8_t probe;
        ssize_t n = got < cap ? sl_dstream_read(ds, out + got, cap - got)
                              : sl_dstream_read(ds, &probe, 1);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    sl_dstream_free(ds);
    *out_len = got;
    return rc;
}

/* ---- encoders ---- */

static int gzip_encode(int level, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, level ? level : 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    size_t bound = deflateBound(&z, (uLong)len) + 32;
    uint8_t *buf = malloc(bound);
    if (!buf) {
        deflateEnd(&z);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    size_t n = bound - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -EINVAL;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

static int snappy_encode(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    size_t nblocks = (len + XERIAL_BLOCK - 1) / XERIAL_BLOCK;
    size_t bound = XERIAL_HDR + nblocks * (4 + snappy_max_compressed_length(XERIAL_BLOCK));
    uint8_t *buf = malloc(bound);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, xerial_magic, 8);
    sl_put_be32(buf + 8, 1);
    sl_put_be32(buf + 12, 1);
    size_t pos = XERIAL_HDR;
    for (size_t off = 0; off < len; off += XERIAL_BLOCK) {
        size_t k = len - off < XERIAL_BLOCK ? len - off : XERIAL_BLOCK;
        size_t clen = bound - pos - 4;
        if (snappy_compress((const char *)in + off, k, (char *)buf + pos + 4, &clen) != SNAPPY_OK) {
            free(buf);
            return -EINVAL;
        }
        sl_put_be32(buf + pos, (uint32_t)clen);
        pos += 4 + clen;
    }
    *out = buf;
    *out_len = pos;
    return 0;
}

static int lz4_encode(int level, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockSizeID = LZ4F_max64KB; /* as the Java client writes */
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.compressionLevel = level;
    size_t bound = LZ4F_compressFrameBound(len, &prefs);
    uint8_t *buf = malloc(bound);
    if (!buf)
        return -ENOMEM;
    size_t n = LZ4F_compressFrame(buf, bound, in, len, &prefs);
    if (LZ4F_isError(n)) {
        free(buf);
        return -EINVAL;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

static int zstd_encode(int level, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    size_t bound = ZSTD_compressBound(len);
    uint8_t *buf = malloc(bound);
    if (!buf)
        return -ENOMEM;
    size_t n = ZSTD_compress(buf, bound, in, len, level ? level : 3);
    if (ZSTD_isError(n)) {
        free(buf);
        return -EINVAL;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

int sl_compress_encode(int codec, int level, const uint8_t *in, size_t len, uint8_t **out,
                       size_t *out_len)
{
    switch (codec) {
    case SL_CODEC_GZIP:
        return gzip_encode(level, in, len, out, out_len);
    case SL_CODEC_SNAPPY:
        return snappy_encode(in, len, out, out_len);
    case SL_CODEC_LZ4:
        return lz4_encode(level, in, len, out, out_len);
    case SL_CODEC_ZSTD:
        return zstd_encode(level, in, len, out, out_len);
    }
    return -ENOTSUP;
}
