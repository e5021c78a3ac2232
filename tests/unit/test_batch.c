/* test_batch.c - tests for src/record/batch.c and builder.c: validation of a
 * builder batch and a hand-assembled golden batch, each corruption rejected
 * with Kafka's code, iteration of compressed batches, rewrites, markers. */
#include "testlib.h"

#include "base/crc32c.h"
#include "base/varint.h"
#include "proto/gen/errors.h"
#include "record/batch.h"
#include "record/compress.h"

#include <errno.h>

/* One record, key "k", value "v", no headers; offsets 0, timestamp 1000,
 * not idempotent, leader epoch -1: every byte written from the spec. */
static size_t golden(uint8_t *b)
{
    static const uint8_t hdr[61] = {
        0, 0, 0, 0, 0, 0, 0, 0,             /* baseOffset 0 */
        0, 0, 0, 58,                        /* batchLength = 70 - 12 */
        0xff, 0xff, 0xff, 0xff,             /* partitionLeaderEpoch -1 */
        2,                                  /* magic */
        0, 0, 0, 0,                         /* crc, set below */
        0, 0,                               /* attributes */
        0, 0, 0, 0,                         /* lastOffsetDelta */
        0, 0, 0, 0, 0, 0, 0x03, 0xe8,       /* baseTimestamp 1000 */
        0, 0, 0, 0, 0, 0, 0x03, 0xe8,       /* maxTimestamp 1000 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producerId -1 */
        0xff, 0xff,                         /* producerEpoch -1 */
        0xff, 0xff, 0xff, 0xff,             /* baseSequence -1 */
        0, 0, 0, 1,                         /* recordsCount */
    };
    static const uint8_t rec[9] = {
        0x10,      /* length 8 (zigzag) */
        0,         /* attributes */
        0,         /* timestampDelta 0 */
        0,         /* offsetDelta 0 */
        0x02, 'k', /* key length 1 */
        0x02, 'v', /* value length 1 */
        0,         /* headers 0 */
    };
    memcpy(b, hdr, 61);
    memcpy(b + 61, rec, 9);
    sl_put_be32(b + 17, sl_crc32c(0, b + 21, 70 - 21));
    return 70;
}

static uint8_t *build(int codec, int n, size_t *len)
{
    struct sl_batch_build_opts o;
    sl_batch_build_opts_default(&o);
    o.codec = codec;
    struct sl_batch_builder b;
    sl_batch_builder_init(&b, &o);
    for (int i = 0; i < n; i++) {
        char k[16], v[64];
        snprintf(k, sizeof(k), "key-%d", i);
        snprintf(v, sizeof(v), "value-%d-%s", i, "xxxxxxxxxxxxxxxxxxxxxxxx");
        struct sl_record_header h[2] = {
            {sl_slice_cstr("h1"), sl_slice_cstr("one")},
            {sl_slice_cstr("h2"), {NULL, 0}},
        };
        CHECK_EQ(sl_batch_builder_add(&b, 5000 + i, i == 1 ? (struct sl_slice){NULL, 0}
                                                            : sl_slice_cstr(k),
                                      sl_slice_cstr(v), h, i % 3), 0);
    }
    uint8_t *out;
    CHECK_EQ(sl_batch_builder_finish(&b, &out, len), 0);
    sl_batch_builder_fini(&b);
    return out;
}

TEST(golden_batch_validates_and_matches_builder)
{
    uint8_t g[70];
    CHECK_EQ(golden(g), 70);
    struct sl_batch_hdr h;
    CHECK_EQ(sl_batch_validate(g, 70, NULL, &h), 0);
    CHECK_EQ(h.records_count, 1);
    CHECK_EQ(h.base_timestamp, 1000);
    CHECK_EQ(h.producer_id, -1);
    CHECK_EQ(h.partition_leader_epoch, -1);

    struct sl_batch_builder b;
    sl_batch_builder_init(&b, NULL);
    CHECK_EQ(sl_batch_builder_add(&b, 1000, sl_slice_cstr("k"), sl_slice_cstr("v"), NULL, 0), 0);
    uint8_t *out;
    size_t len;
    CHECK_EQ(sl_batch_builder_finish(&b, &out, &len), 0);
    sl_batch_builder_fini(&b);
    CHECK_EQ(len, 70);
    CHECK_MEM(out, g, 70);
    free(out);
}

TEST(builder_batches_validate_and_iterate_for_every_codec)
{
    for (int codec = 0; codec <= 4; codec++) {
        size_t len;
        uint8_t *p = build(codec, 50, &len);
        struct sl_batch_hdr h;
        CHECK_EQ(sl_batch_validate(p, len, NULL, &h), 0);
        CHECK_EQ(sl_batch_codec(&h), codec);
        CHECK_EQ(h.records_count, 50);
        CHECK_EQ(h.last_offset_delta, 49);
        CHECK_EQ(h.max_timestamp, 5049);
        struct sl_batch_iter it;
        CHECK_EQ(sl_batch_iter_init(&it, p, len, 0), 0);
        struct sl_record r;
        int i = 0, rc;
        while ((rc = sl_batch_iter_next(&it, &r)) == 1) {
            CHECK_EQ(r.offset, i);
            CHECK_EQ(r.timestamp, 5000 + i);
            char v[64];
            snprintf(v, sizeof(v), "value-%d-%s", i, "xxxxxxxxxxxxxxxxxxxxxxxx");
            CHECK(sl_slice_eq_cstr(r.value, v));
            if (i == 1)
                CHECK(r.key.p == NULL);
            CHECK_EQ(r.headers_n, i % 3);
            const uint8_t *hp = r.headers.p;
            struct sl_record_header hh;
            int n = 0;
            while (sl_record_header_next(&hp, r.headers.p + r.headers.len, &hh) == 1) {
                CHECK(sl_slice_eq_cstr(hh.key, n == 0 ? "h1" : "h2"));
                CHECK(n == 0 ? sl_slice_eq_cstr(hh.value, "one") : hh.value.p == NULL);
                n++;
            }
            CHECK_EQ(n, i % 3);
            i++;
        }
        CHECK_EQ(rc, 0);
        CHECK_EQ(i, 50);
        sl_batch_iter_fini(&it);
        free(p);
    }
}

static int16_t v(const uint8_t *p, size_t len)
{
    return sl_batch_validate(p, len, NULL, NULL);
}

static void recrc(uint8_t *p, size_t len)
{
    sl_put_be32(p + 17, sl_batch_compute_crc(p, len));
}

TEST(rejects_each_corruption_with_kafkas_code)
{
    uint8_t g[70], c[200];
    golden(g);
    /* bad crc: a flipped byte in the value */
    memcpy(c, g, 70);
    c[68] ^= 1;
    CHECK_EQ(v(c, 70), SL_KERR_CORRUPT_MESSAGE);
    /* a flipped crc byte */
    memcpy(c, g, 70);
    c[18] ^= 0x40;
    CHECK_EQ(v(c, 70), SL_KERR_CORRUPT_MESSAGE);
    /* length field larger than the bytes (truncated batch) */
    CHECK_EQ(v(g, 69), SL_KERR_CORRUPT_MESSAGE);
    CHECK_EQ(v(g, 30), SL_KERR_CORRUPT_MESSAGE);
    CHECK_EQ(v(g, 5), SL_KERR_CORRUPT_MESSAGE);
    /* length field smaller than the header */
    memcpy(c, g, 70);
    sl_put_be32(c + 8, 20);
    CHECK_EQ(v(c, 70), SL_KERR_CORRUPT_MESSAGE);
    /* wrong records count, CRC fixed so only the count is wrong */
    memcpy(c, g, 70);
    sl_put_be32(c + 57, 2);
    recrc(c, 70);
    CHECK_EQ(v(c, 70), SL_KERR_CORRUPT_MESSAGE);
    /* count and lastOffsetDelta agree, but there is one record */
    sl_put_be32(c + 23, 1);
    recrc(c, 70);
    CHECK_EQ(v(c, 70), SL_KERR_CORRUPT_MESSAGE);
    /* zero records */
    memcpy(c, g, 70);
    sl_put_be32(c + 57, 0);
    sl_put_be32(c + 23, (uint32_t)-1);
    recrc(c, 70);
    CHECK_EQ(v(c, 70), SL_KERR_CORRUPT_MESSAGE);
    /* offset delta 1 for the first record */
    memcpy(c, g, 70);
    c[64] = 2;
    recrc(c, 70);
    CHECK_EQ(v(c, 70), SL_KERR_CORRUPT_MESSAGE);
    /* record length says more than there is */
    memcpy(c, g, 70);
    c[61] = 0x12;
    recrc(c, 70);
    CHECK_EQ(v(c, 70), SL_KERR_CORRUPT_MESSAGE);
    /* key length past the record */
    memcpy(c, g, 70);
    c[65] = 0x20;
    recrc(c, 70);
    CHECK_EQ(v(c, 70), SL_KERR_CORRUPT_MESSAGE);
    /* trailing byte after the last record inside the batch */
    memcpy(c, g, 70);
    c[70] = 0;
    sl_put_be32(c + 8, 59);
    recrc(c, 71);
    CHECK_EQ(v(c, 71), SL_KERR_CORRUPT_MESSAGE);
    /* magic 1 and 0 */
    memcpy(c, g, 70);
    c[16] = 1;
    CHECK_EQ(v(c, 70), SL_KERR_INVALID_RECORD);
    /* unknown codec 7 */
    memcpy(c, g, 70);
    c[22] = 7;
    recrc(c, 70);
    CHECK_EQ(v(c, 70), SL_KERR_CORRUPT_MESSAGE);
    /* two batches */
    memcpy(c, g, 70);
    memcpy(c + 70, g, 70);
    CHECK_EQ(v(c, 140), SL_KERR_INVALID_RECORD);
    CHECK_EQ(sl_batch_check_single(c, 140), SL_KERR_INVALID_RECORD);
    CHECK_EQ(sl_batch_check_single(c, 70), 0);
    CHECK_EQ(sl_batch_check_single(c, 69), SL_KERR_CORRUPT_MESSAGE);
    /* larger than max.message.bytes */
    struct sl_batch_opts o = {.max_message_bytes = 69};
    CHECK_EQ(sl_batch_validate(g, 70, &o, NULL), SL_KERR_MESSAGE_TOO_LARGE);
    o.max_message_bytes = 70;
    CHECK_EQ(sl_batch_validate(g, 70, &o, NULL), 0);
    /* the original still passes */
    CHECK_EQ(v(g, 70), 0);
}

TEST(every_truncation_and_byte_flip_is_rejected)
{
    size_t len;
    uint8_t *p = build(SL_CODEC_NONE, 5, &len);
    for (size_t n = 0; n < len; n++)
        CHECK(v(p, n) != 0);
    for (size_t i = 12; i < len; i++) {
        if (i >= 12 && i < 16)
            continue; /* partitionLeaderEpoch is not covered by the CRC */
        p[i] ^= 0x10;
        CHECK(v(p, len) != 0);
        p[i] ^= 0x10;
    }
    CHECK_EQ(v(p, len), 0);
    free(p);
}

TEST(control_batch_from_client_is_invalid_record)
{
    uint8_t *p;
    size_t len;
    CHECK_EQ(sl_batch_build_txn_marker(42, 3, SL_CONTROL_COMMIT, 7, 1234, &p, &len), 0);
    struct sl_batch_hdr h;
    CHECK_EQ(sl_batch_validate(p, len, NULL, &h), SL_KERR_INVALID_RECORD);
    struct sl_batch_opts o = {.allow_control = true};
    CHECK_EQ(sl_batch_validate(p, len, &o, &h), 0);
    CHECK(sl_batch_is_control(&h));
    CHECK(sl_batch_is_transactional(&h));
    CHECK_EQ(h.producer_id, 42);
    CHECK_EQ(h.producer_epoch, 3);
    struct sl_batch_iter it;
    struct sl_record r;
    CHECK_EQ(sl_batch_iter_init(&it, p, len, 0), 0);
    CHECK_EQ(sl_batch_iter_next(&it, &r), 1);
    CHECK_EQ(r.key.len, 4);
    CHECK_MEM(r.key.p, "\0\0\0\1", 4);
    CHECK_EQ(r.value.len, 6);
    CHECK_MEM(r.value.p, "\0\0\0\0\0\7", 6);
    CHECK_EQ(sl_batch_iter_next(&it, &r), 0);
    sl_batch_iter_fini(&it);
    free(p);
}

/* Many large zero values compress to little; validate with a small cap. */
TEST(compressed_bomb_is_rejected_without_exceeding_cap)
{
    static const int codecs[] = {SL_CODEC_GZIP, SL_CODEC_SNAPPY, SL_CODEC_LZ4, SL_CODEC_ZSTD};
    uint8_t *zeros = calloc(1, 64 << 10);
    for (int c = 0; c < 4; c++) {
        struct sl_batch_build_opts o;
        sl_batch_build_opts_default(&o);
        o.codec = codecs[c];
        struct sl_batch_builder b;
        sl_batch_builder_init(&b, &o);
        for (int i = 0; i < 64; i++)
            CHECK_EQ(sl_batch_builder_add(&b, 1, (struct sl_slice){NULL, 0},
                                          (struct sl_slice){zeros, 64 << 10}, NULL, 0), 0);
        uint8_t *p;
        size_t len;
        CHECK_EQ(sl_batch_builder_finish(&b, &p, &len), 0);
        sl_batch_builder_fini(&b);
        CHECK(len < (4 << 20) / 16); /* 4 MiB of records compress well */
        struct sl_batch_opts vo = {.decompress_cap_bytes = 1 << 20};
        CHECK_EQ(sl_batch_validate(p, len, &vo, NULL), SL_KERR_MESSAGE_TOO_LARGE);
        vo.decompress_cap_bytes = 8 << 20;
        CHECK_EQ(sl_batch_validate(p, len, &vo, NULL), 0);
        struct sl_batch_iter it;
        CHECK_EQ(sl_batch_iter_init(&it, p, len, 1 << 20), -EMSGSIZE);
        sl_batch_iter_fini(&it);
        free(p);
    }
    free(zeros);
}

TEST(rewrites_keep_the_batch_valid)
{
    size_t len;
    uint8_t *p = build(SL_CODEC_LZ4, 3, &len);
    sl_batch_set_base_offset(p, 1000);
    sl_batch_set_leader_epoch(p, 9);
    struct sl_batch_hdr h;
    CHECK_EQ(sl_batch_validate(p, len, NULL, &h), 0);
    CHECK_EQ(h.base_offset, 1000);
    CHECK_EQ(h.partition_leader_epoch, 9);
    CHECK_EQ(sl_batch_last_offset(&h), 1002);
    sl_batch_set_log_append_time(p, len, 777777);
    CHECK_EQ(sl_batch_validate(p, len, NULL, &h), 0);
    CHECK(sl_batch_is_log_append_time(&h));
    CHECK_EQ(h.max_timestamp, 777777);
    CHECK_EQ(h.base_timestamp, 5000);
    CHECK_EQ(sl_batch_codec(&h), SL_CODEC_LZ4);
    struct sl_batch_iter it;
    struct sl_record r;
    CHECK_EQ(sl_batch_iter_init(&it, p, len, 0), 0);
    CHECK_EQ(sl_batch_iter_next(&it, &r), 1);
    CHECK_EQ(r.timestamp, 777777);
    CHECK_EQ(r.offset, 1000);
    sl_batch_iter_fini(&it);
    free(p);
}

TEST(varints_round_trip_and_reject_overlong)
{
    int64_t vals[] = {0, 1, -1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint8_t buf[10];
        size_t n = sl_varint_write_i64(buf, vals[i]);
        CHECK_EQ(n, sl_varint_size_i64(vals[i]));
        const uint8_t *p = buf;
        int64_t got;
        CHECK_EQ(sl_varint_read_i64(&p, buf + n, &got), 0);
        CHECK_EQ(got, vals[i]);
        CHECK(p == buf + n);
        p = buf;
        CHECK_EQ(sl_varint_read_i64(&p, buf + n - 1, &got), -1);
        if (vals[i] >= INT32_MIN && vals[i] <= INT32_MAX) {
            n = sl_varint_write_i32(buf, (int32_t)vals[i]);
            int32_t g32;
            p = buf;
            CHECK_EQ(sl_varint_read_i32(&p, buf + n, &g32), 0);
            CHECK_EQ(g32, vals[i]);
        }
    }
    uint8_t over[6] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    const uint8_t *p = over;
    int32_t g;
    CHECK_EQ(sl_varint_read_i32(&p, over + 6, &g), -1);
}

TEST(iterating_offsets_and_timestamps_at_int64_limits_is_defined)
{
    /* Found by fuzz_batch: the iterator walks batches that failed (or never
     * had) validation, so base offset + delta and base timestamp + delta may
     * overflow; they must wrap, not be undefined (UBSan aborts this test). */
    size_t len;
    uint8_t *b = build(SL_CODEC_NONE, 3, &len);
    sl_put_be64(b, (uint64_t)INT64_MAX);                 /* base offset */
    sl_put_be64(b + SL_BATCH_OFF_BASE_TS, (uint64_t)INT64_MAX);         /* base timestamp */
    struct sl_batch_iter it;
    CHECK_EQ(sl_batch_iter_init(&it, b, len, 1 << 20), 0);
    struct sl_record r;
    int n = 0;
    while (sl_batch_iter_next(&it, &r) == 1)
        n++;
    CHECK_EQ(n, 3);
    sl_batch_iter_fini(&it);
    struct sl_batch_hdr h;
    CHECK_EQ(sl_batch_hdr_decode(b, len, &h), 0);
    CHECK_EQ(sl_batch_last_offset(&h), INT64_MIN + 1); /* wrapped: rejected by any offset check */
    free(b);
}
