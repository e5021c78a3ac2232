/* test_compress.c - tests for src/record/compress.c: round trips for every
 * codec, xerial and raw snappy, compression bombs stop at the cap, corrupt input. */
#include "testlib.h"

#include "record/compress.h"

#include <errno.h>
#include <snappy-c.h>

static const int codecs[] = {SL_CODEC_GZIP, SL_CODEC_SNAPPY, SL_CODEC_LZ4, SL_CODEC_ZSTD};

static uint8_t *sample(size_t n)
{
    uint8_t *p = malloc(n);
    uint32_t x = 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245 + 12345;
        p[i] = (i % 7 == 0) ? (uint8_t)(x >> 16) : (uint8_t)('a' + i % 13);
    }
    return p;
}

TEST(round_trip_every_codec)
{
    size_t sizes[] = {0, 1, 100, 32 * 1024, 32 * 1024 + 1, 300000};
    for (size_t c = 0; c < 4; c++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            size_t n = sizes[s];
            uint8_t *in = sample(n);
            uint8_t *enc;
            size_t enc_len, dec_len;
            CHECK_EQ(sl_compress_encode(codecs[c], 0, in, n, &enc, &enc_len), 0);
            uint8_t *dec = malloc(n + 1);
            CHECK_EQ(sl_compress_decode(codecs[c], enc, enc_len, dec, n + 1, &dec_len), 0);
            CHECK_EQ(dec_len, n);
            CHECK(n == 0 || memcmp(in, dec, n) == 0);
            /* An exact-size output buffer also works. */
            CHECK_EQ(sl_compress_decode(codecs[c], enc, enc_len, dec, n, &dec_len), 0);
            CHECK_EQ(dec_len, n);
            free(enc);
            free(dec);
            free(in);
        }
    }
}

TEST(snappy_writes_xerial_framing_and_reads_raw)
{
    uint8_t *in = sample(100000);
    uint8_t *enc;
    size_t enc_len, dec_len;
    CHECK_EQ(sl_compress_encode(SL_CODEC_SNAPPY, 0, in, 100000, &enc, &enc_len), 0);
    CHECK_MEM(enc, "\x82SNAPPY\0", 8);
    CHECK_MEM(enc + 8, "\0\0\0\1\0\0\0\1", 8);
    free(enc);
    size_t raw_len = snappy_max_compressed_length(100000);
    char *raw = malloc(raw_len);
    CHECK(snappy_compress((const char *)in, 100000, raw, &raw_len) == SNAPPY_OK);
    uint8_t *dec = malloc(100000);
    CHECK_EQ(sl_compress_decode(SL_CODEC_SNAPPY, (uint8_t *)raw, raw_len, dec, 100000, &dec_len), 0);
    CHECK_EQ(dec_len, 100000);
    CHECK_MEM(dec, in, 100000);
    free(raw);
    free(dec);
    free(in);
}

/* A bomb: 8 MiB of zeros compressed (a few KiB for most codecs) decoded with a
 * 64 KiB cap into a buffer of exactly the cap (ASan catches any overrun). */
TEST(compression_bomb_stops_at_cap)
{
    size_t big = 8 << 20, cap = 64 << 10;
    uint8_t *zeros = calloc(1, big);
    for (size_t c = 0; c < 4; c++) {
        uint8_t *enc;
        size_t enc_len, dec_len = 0;
        /* snappy's ratio is bounded (~21x), so give it its own, smaller bomb */
        size_t n = codecs[c] == SL_CODEC_SNAPPY ? 20000 : big;
        CHECK_EQ(sl_compress_encode(codecs[c], 0, zeros, n, &enc, &enc_len), 0);
        CHECK(codecs[c] == SL_CODEC_SNAPPY ? enc_len < 4096 : enc_len <= 40 << 10);
        size_t this_cap = codecs[c] == SL_CODEC_SNAPPY ? 1024 : cap;
        uint8_t *out = malloc(this_cap);
        CHECK_EQ(sl_compress_decode(codecs[c], enc, enc_len, out, this_cap, &dec_len), -EMSGSIZE);
        CHECK(dec_len <= this_cap);
        free(out);
        free(enc);
    }
    free(zeros);
}

TEST(streaming_reader_bounds_total_output)
{
    size_t big = 4 << 20;
    uint8_t *zeros = calloc(1, big);
    uint8_t *enc;
    size_t enc_len;
    CHECK_EQ(sl_compress_encode(SL_CODEC_ZSTD, 0, zeros, big, &enc, &enc_len), 0);
    CHECK(enc_len < 1024);
    struct sl_dstream *ds;
    CHECK_EQ(sl_dstream_new(SL_CODEC_ZSTD, enc, enc_len, 100000, &ds), 0);
    uint8_t buf[4096];
    ssize_t n;
    size_t total = 0;
    while ((n = sl_dstream_read(ds, buf, sizeof(buf))) > 0)
        total += (size_t)n;
    CHECK_EQ(n, -EMSGSIZE);
    CHECK_EQ(total, 100000);
    CHECK_EQ(sl_dstream_read(ds, buf, 1), -EMSGSIZE);
    sl_dstream_free(ds);
    free(enc);
    free(zeros);
}

TEST(corrupt_and_truncated_input_fail)
{
    uint8_t *in = sample(50000);
    for (size_t c = 0; c < 4; c++) {
        uint8_t *enc;
        size_t enc_len, dec_len;
        CHECK_EQ(sl_compress_encode(codecs[c], 0, in, 50000, &enc, &enc_len), 0);
        uint8_t *out = malloc(60000);
        /* truncated */
        CHECK(sl_compress_decode(codecs[c], enc, enc_len / 2, out, 60000, &dec_len) < 0);
        /* garbage */
        memset(enc, 0x5a, enc_len);
        CHECK(sl_compress_decode(codecs[c], enc, enc_len, out, 60000, &dec_len) < 0);
        /* empty input is not a valid stream */
        CHECK(sl_compress_decode(codecs[c], enc, 0, out, 60000, &dec_len) < 0 || dec_len == 0);
        free(out);
        free(enc);
    }
    uint8_t b[1];
    size_t l;
    CHECK_EQ(sl_compress_decode(7, b, 1, b, 1, &l), -ENOTSUP);
    free(in);
}
