/* test_rebuild.c - tests for src/record/rebuild.c: recompression keeps
 * every record field and the producer fields, and makes a valid batch. */
#include "testlib.h"

#include "base/varint.h"
#include "record/batch.h"
#include "record/compress.h"
#include "record/rebuild.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *sample(int codec, size_t *len)
{
    struct sl_batch_build_opts o;
    sl_batch_build_opts_default(&o);
    o.codec = codec;
    o.producer_id = 4242;
    o.producer_epoch = 7;
    o.base_sequence = 99;
    o.transactional = true;
    struct sl_batch_builder b;
    sl_batch_builder_init(&b, &o);
    struct sl_record_header h = {sl_slice_cstr("hk"), sl_slice_cstr("hv")};
    for (int i = 0; i < 50; i++) {
        char k[16], v[64];
        snprintf(k, sizeof(k), "key-%d", i);
        snprintf(v, sizeof(v), "value-%d-xxxxxxxxxxxxxxxxxxxxxxxx", i);
        CHECK_EQ(sl_batch_builder_add(&b, 1000 + i * 3, sl_slice_cstr(k),
                                      i == 7 ? (struct sl_slice){NULL, 0} : sl_slice_cstr(v), &h, i % 2),
                 0);
    }
    uint8_t *out;
    CHECK_EQ(sl_batch_builder_finish(&b, &out, len), 0);
    sl_batch_builder_fini(&b);
    sl_batch_set_base_offset(out, 500);
    return out;
}

static void same_records(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    struct sl_batch_iter ia, ib;
    struct sl_record ra, rb;
    CHECK_EQ(sl_batch_iter_init(&ia, a, alen, 0), 0);
    CHECK_EQ(sl_batch_iter_init(&ib, b, blen, 0), 0);
    CHECK_EQ(ia.hdr.base_offset, ib.hdr.base_offset);
    CHECK_EQ(ia.hdr.last_offset_delta, ib.hdr.last_offset_delta);
    CHECK_EQ(ia.hdr.base_timestamp, ib.hdr.base_timestamp);
    CHECK_EQ(ia.hdr.max_timestamp, ib.hdr.max_timestamp);
    CHECK_EQ(ia.hdr.producer_id, ib.hdr.producer_id);
    CHECK_EQ(ia.hdr.producer_epoch, ib.hdr.producer_epoch);
    CHECK_EQ(ia.hdr.base_sequence, ib.hdr.base_sequence);
    CHECK_EQ(ia.hdr.records_count, ib.hdr.records_count);
    CHECK_EQ(sl_batch_is_transactional(&ia.hdr), sl_batch_is_transactional(&ib.hdr));
    int n = 0;
    while (sl_batch_iter_next(&ia, &ra) == 1) {
        CHECK_EQ(sl_batch_iter_next(&ib, &rb), 1);
        CHECK_EQ(ra.offset, rb.offset);
        CHECK_EQ(ra.timestamp, rb.timestamp);
        CHECK_EQ(ra.key.len, rb.key.len);
        CHECK_MEM(ra.key.p, rb.key.p, ra.key.len);
        CHECK_EQ(ra.value.p == NULL, rb.value.p == NULL);
        CHECK_EQ(ra.value.len, rb.value.len);
        if (ra.value.p)
            CHECK_MEM(ra.value.p, rb.value.p, ra.value.len);
        CHECK_EQ(ra.headers_n, rb.headers_n);
        CHECK_EQ(ra.headers.len, rb.headers.len);
        n++;
    }
    CHECK_EQ(n, 50);
    sl_batch_iter_fini(&ia);
    sl_batch_iter_fini(&ib);
}

TEST(recompress_between_every_codec_keeps_records)
{
    for (int from = 0; from <= 4; from++) {
        size_t len;
        uint8_t *src = sample(from, &len);
        for (int to = 0; to <= 4; to++) {
            uint8_t *out;
            size_t olen;
            CHECK_EQ(sl_batch_recompress(src, len, to, 0, &out, &olen), 0);
            struct sl_batch_hdr h;
            CHECK_EQ(sl_batch_validate(out, olen, NULL, &h), 0); /* CRC, records, codec */
            CHECK_EQ(sl_batch_codec(&h), to);
            same_records(src, len, out, olen);
            free(out);
        }
        free(src);
    }
}

TEST(rebuild_with_a_subset_keeps_last_offset_delta)
{
    size_t len;
    uint8_t *src = sample(SL_CODEC_GZIP, &len);
    struct sl_batch_iter it;
    struct sl_record r;
    CHECK_EQ(sl_batch_iter_init(&it, src, len, 0), 0);
    /* Keep the records with an even offset delta, as encoded. */
    uint8_t *keep = malloc(len * 8);
    size_t klen = 0;
    int32_t kept = 0;
    const uint8_t *at = it.p;
    while (sl_batch_iter_next(&it, &r) == 1) {
        if (r.offset_delta % 2 == 0) {
            memcpy(keep + klen, at, (size_t)(it.p - at));
            klen += (size_t)(it.p - at);
            kept++;
        }
        at = it.p;
    }
    sl_batch_iter_fini(&it);
    uint8_t *out;
    size_t olen;
    CHECK_EQ(sl_batch_rebuild(src, keep, klen, kept, SL_CODEC_GZIP, 0, &out, &olen), 0);
    struct sl_batch_hdr h;
    CHECK_EQ(sl_batch_hdr_decode(out, olen, &h), 0);
    CHECK_EQ(h.crc, sl_batch_compute_crc(out, olen));
    CHECK_EQ(h.records_count, 25);
    CHECK_EQ(h.last_offset_delta, 49);
    CHECK_EQ(h.base_offset, 500);
    CHECK_EQ(sl_batch_iter_init(&it, out, olen, 0), 0);
    int64_t expect = 500;
    while (sl_batch_iter_next(&it, &r) == 1) {
        CHECK_EQ(r.offset, expect);
        expect += 2;
    }
    sl_batch_iter_fini(&it);
    free(out);
    free(keep);
    free(src);
}
