/*
 * compress.h - the record batch codecs: gzip (zlib), snappy (xerial framing as
 * the Java client and librdkafka write it, raw snappy also accepted on decode),
 * lz4 (LZ4 frame format) and zstd.
 *
 * Decoding is streaming and capped: a decoder never produces, and never
 * allocates for, more than cap_bytes of output, so a compression bomb (a few
 * KiB inflating to GiBs) costs at most the cap and then fails with -EMSGSIZE.
 * Memory held by a decoder besides the caller's buffer: zlib ~40 KiB; lz4 up
 * to 4 MiB (max block size); zstd at most 2^SL_COMPRESS_ZSTD_WINDOW_LOG_MAX
 * window (frames asking for more fail); snappy one block (bounded by the cap).
 *
 * Thread: any; a decoder belongs to one thread at a time.
 */
#ifndef SL_RECORD_COMPRESS_H
#define SL_RECORD_COMPRESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Kafka's attribute values (bits 0..2 of the batch attributes). */
enum sl_codec {
    SL_CODEC_NONE = 0,
    SL_CODEC_GZIP = 1,
    SL_CODEC_SNAPPY = 2,
    SL_CODEC_LZ4 = 3,
    SL_CODEC_ZSTD = 4,
};

#define SL_COMPRESS_ZSTD_WINDOW_LOG_MAX 24 /* 16 MiB: covers zstd levels 1..19 */

struct sl_dstream;

/* Starts decoding `len` bytes at `in` (borrowed until sl_dstream_free).
 * 0, -ENOTSUP (unknown codec or SL_CODEC_NONE), -ENOMEM. */
int sl_dstream_new(int codec, const uint8_t *in, size_t len, size_t cap_bytes,
                   struct sl_dstream **out);
/* Writes up to n decoded bytes to buf. Returns the count (> 0), 0 at the end
 * of the compressed data, -EMSGSIZE when the output would pass cap_bytes,
 * -EBADMSG for corrupt or truncated input, -ENOMEM. After an error every
 * further call returns the same error. */
ssize_t sl_dstream_read(struct sl_dstream *ds, void *buf, size_t n);
/* Total bytes decoded so far. */
size_t sl_dstream_produced(const struct sl_dstream *ds);
void sl_dstream_free(struct sl_dstream *ds);

/* One-shot decode of all of `in` into out[0..cap). *out_len gets the size.
 * Errors as for sl_dstream_read. */
int sl_compress_decode(int codec, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                       size_t *out_len);

/* Compresses `len` bytes into a new malloc'd buffer (*out, caller frees).
 * level: codec level, or 0 for the codec's default (Kafka's defaults: gzip 6,
 * lz4 9 is not used by clients so lz4 fast, zstd 3). Snappy is written with
 * xerial framing, 32 KiB blocks. 0, -ENOTSUP, -ENOMEM, -EINVAL. */
int sl_compress_encode(int codec, int level, const uint8_t *in, size_t len, uint8_t **out,
                       size_t *out_len);

/* "none", "gzip", "snappy", "lz4", "zstd"; "unknown" otherwise. */
const char *sl_codec_name(int codec);

#endif
