/* test_kp.c - tests for the protocol primitives in src/proto/kp.{h,c}:
 * fixed-width ints, varints and their length limits, zigzag, classic and
 * compact strings/bytes/arrays, tagged field skipping. */
#include "testlib.h"

#include "proto/kp.h"

static struct sl_arena arena;

static void rd(struct sl_kp_reader *r, const void *p, size_t n)
{
    sl_kp_reader_init(r, p, n, &arena);
}

/* Writes with fn into a fresh obuf and flattens into out (max 64 bytes). */
static size_t flat(struct sl_obuf *b, uint8_t *out)
{
    size_t n = b->total_len;
    CHECK(n <= 64);
    CHECK_EQ(sl_obuf_flatten(b, out), 0);
    sl_obuf_fini(b);
    return n;
}

TEST(fixed_width_ints_are_big_endian)
{
    struct sl_obuf b;
    sl_obuf_init(&b);
    CHECK_EQ(sl_kp_write_i8(&b, -2), 0);
    CHECK_EQ(sl_kp_write_i16(&b, -2), 0);
    CHECK_EQ(sl_kp_write_i32(&b, 0x01020304), 0);
    CHECK_EQ(sl_kp_write_i64(&b, -1), 0);
    CHECK_EQ(sl_kp_write_u16(&b, 0xfffe), 0);
    CHECK_EQ(sl_kp_write_f64(&b, 1.5), 0);
    CHECK_EQ(sl_kp_write_bool(&b, true), 0);
    uint8_t out[64];
    size_t n = flat(&b, out);
    static const uint8_t want[] = {0xfe, 0xff, 0xfe, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xfe, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 1};
    CHECK_EQ(n, sizeof(want));
    CHECK_MEM(out, want, n);
    struct sl_kp_reader r;
    rd(&r, out, n);
    int8_t a;
    int16_t c;
    int32_t d;
    int64_t e;
    uint16_t f;
    double g;
    bool h;
    CHECK_EQ(sl_kp_read_i8(&r, &a), SL_OK);
    CHECK_EQ(sl_kp_read_i16(&r, &c), SL_OK);
    CHECK_EQ(sl_kp_read_i32(&r, &d), SL_OK);
    CHECK_EQ(sl_kp_read_i64(&r, &e), SL_OK);
    CHECK_EQ(sl_kp_read_u16(&r, &f), SL_OK);
    CHECK_EQ(sl_kp_read_f64(&r, &g), SL_OK);
    CHECK_EQ(sl_kp_read_bool(&r, &h), SL_OK);
    CHECK_EQ(a, -2);
    CHECK_EQ(c, -2);
    CHECK_EQ(d, 0x01020304);
    CHECK_EQ(e, -1);
    CHECK_EQ(f, 0xfffe);
    CHECK(g == 1.5);
    CHECK(h);
    CHECK(r.p == r.end);
    CHECK_EQ(sl_kp_read_i8(&r, &a), SL_EFRAME);
    CHECK(r.err != NULL);
}

TEST(truncated_fixed_width_reads_fail)
{
    static const uint8_t three[] = {1, 2, 3};
    struct sl_kp_reader r;
    int32_t v;
    int64_t w;
    struct sl_uuid u;
    rd(&r, three, 3);
    CHECK_EQ(sl_kp_read_i32(&r, &v), SL_EFRAME);
    rd(&r, three, 3);
    CHECK_EQ(sl_kp_read_i64(&r, &w), SL_EFRAME);
    rd(&r, three, 3);
    CHECK_EQ(sl_kp_read_uuid(&r, &u), SL_EFRAME);
}

TEST(uvarint_round_trip_and_sizes)
{
    static const uint64_t vals[] = {0, 1, 127, 128, 300, 16383, 16384, 0xffffffffu,
                                    UINT64_MAX / 3, UINT64_MAX};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct sl_obuf b;
        sl_obuf_init(&b);
        CHECK_EQ(sl_kp_write_uvarint64(&b, vals[i]), 0);
        CHECK_EQ(b.total_len, sl_kp_uvarint_size(vals[i]));
        uint8_t out[64];
        size_t n = flat(&b, out);
        struct sl_kp_reader r;
        uint64_t got;
        rd(&r, out, n);
        CHECK_EQ(sl_kp_read_uvarint64(&r, &got), SL_OK);
        CHECK(got == vals[i]);
        CHECK(r.p == r.end);
    }
    CHECK_EQ(sl_kp_uvarint_size(UINT64_MAX), 10);
    static const uint8_t v300[] = {0xac, 0x02};
    struct sl_kp_reader r;
    uint32_t u;
    rd(&r, v300, 2);
    CHECK_EQ(sl_kp_read_uvarint32(&r, &u), SL_OK);
    CHECK_EQ(u, 300);
}

TEST(uvarint32_longer_than_5_bytes_fails)
{
    static const uint8_t five[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    static const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    struct sl_kp_reader r;
    uint32_t u;
    rd(&r, five, sizeof(five));
    CHECK_EQ(sl_kp_read_uvarint32(&r, &u), SL_OK);
    CHECK_EQ(u, 0xffffffffu);
    rd(&r, six, sizeof(six));
    CHECK_EQ(sl_kp_read_uvarint32(&r, &u), SL_EFRAME);
    CHECK(strstr(r.err, "5 bytes") != NULL);
}

TEST(uvarint64_longer_than_10_bytes_fails)
{
    uint8_t eleven[11];
    memset(eleven, 0x80, sizeof(eleven));
    eleven[10] = 0x01;
    struct sl_kp_reader r;
    uint64_t u;
    rd(&r, eleven, sizeof(eleven));
    CHECK_EQ(sl_kp_read_uvarint64(&r, &u), SL_EFRAME);
    rd(&r, eleven + 1, 10); /* 10 bytes: accepted */
    CHECK_EQ(sl_kp_read_uvarint64(&r, &u), SL_OK);
}

TEST(truncated_varint_fails)
{
    static const uint8_t cont[] = {0x80, 0x80};
    struct sl_kp_reader r;
    uint32_t u;
    rd(&r, cont, sizeof(cont));
    CHECK_EQ(sl_kp_read_uvarint32(&r, &u), SL_EFRAME);
    rd(&r, cont, 0);
    CHECK_EQ(sl_kp_read_uvarint32(&r, &u), SL_EFRAME);
}

TEST(zigzag_varints)
{
    static const int64_t vals[] = {0, -1, 1, -64, 63, 64, INT32_MIN, INT32_MAX, INT64_MIN,
                                   INT64_MAX};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct sl_obuf b;
        sl_obuf_init(&b);
        CHECK_EQ(sl_kp_write_varint64(&b, vals[i]), 0);
        if (vals[i] >= INT32_MIN && vals[i] <= INT32_MAX)
            CHECK_EQ(sl_kp_write_varint32(&b, (int32_t)vals[i]), 0);
        uint8_t out[64];
        size_t n = flat(&b, out);
        struct sl_kp_reader r;
        int64_t got;
        rd(&r, out, n);
        CHECK_EQ(sl_kp_read_varint64(&r, &got), SL_OK);
        CHECK(got == vals[i]);
        if (vals[i] >= INT32_MIN && vals[i] <= INT32_MAX) {
            int32_t g32;
            CHECK_EQ(sl_kp_read_varint32(&r, &g32), SL_OK);
            CHECK_EQ(g32, vals[i]);
        }
        CHECK(r.p == r.end);
    }
    /* -1 is 0x01, 1 is 0x02 */
    struct sl_obuf b;
    sl_obuf_init(&b);
    CHECK_EQ(sl_kp_write_varint32(&b, -1), 0);
    CHECK_EQ(sl_kp_write_varint32(&b, 1), 0);
    uint8_t out[64];
    CHECK_EQ(flat(&b, out), 2);
    CHECK_EQ(out[0], 1);
    CHECK_EQ(out[1], 2);
}

TEST(classic_and_compact_strings)
{
    struct sl_obuf b;
    sl_obuf_init(&b);
    CHECK_EQ(sl_kp_write_string(&b, false, true, sl_slice_cstr("ab")), 0);
    CHECK_EQ(sl_kp_write_string(&b, false, true, (struct sl_slice){NULL, 0}), 0);
    CHECK_EQ(sl_kp_write_string(&b, true, true, sl_slice_cstr("ab")), 0);
    CHECK_EQ(sl_kp_write_string(&b, true, true, (struct sl_slice){NULL, 0}), 0);
    CHECK_EQ(sl_kp_write_string(&b, true, false, (struct sl_slice){NULL, 0}), 0); /* -> "" */
    CHECK_EQ(sl_kp_write_bytes(&b, false, false, sl_slice_cstr("x")), 0);
    uint8_t out[64];
    size_t n = flat(&b, out);
    static const uint8_t want[] = {0, 2, 'a', 'b', 0xff, 0xff, 3, 'a', 'b', 0, 1, 0, 0, 0, 1, 'x'};
    CHECK_EQ(n, sizeof(want));
    CHECK_MEM(out, want, n);
    struct sl_kp_reader r;
    struct sl_slice s;
    rd(&r, out, n);
    CHECK_EQ(sl_kp_read_string(&r, false, true, &s), SL_OK);
    CHECK(sl_slice_eq_cstr(s, "ab"));
    CHECK(s.p == out + 2);
    CHECK_EQ(sl_kp_read_string(&r, false, true, &s), SL_OK);
    CHECK(s.p == NULL);
    CHECK_EQ(sl_kp_read_string(&r, true, true, &s), SL_OK);
    CHECK(sl_slice_eq_cstr(s, "ab"));
    CHECK_EQ(sl_kp_read_string(&r, true, false, &s), SL_EFRAME); /* null, not nullable */
}

TEST(string_lengths_are_checked)
{
    static const uint8_t neg[] = {0xff, 0xfe, 'a'};
    static const uint8_t big[] = {0x00, 0x05, 'a'};
    static const uint8_t cbig[] = {0x06, 'a'};
    static const uint8_t bneg[] = {0xff, 0xff, 0xff, 0xfe};
    static const uint8_t chuge[] = {0xff, 0xff, 0xff, 0xff, 0x0f}; /* 2^32-1: > INT32_MAX */
    struct sl_kp_reader r;
    struct sl_slice s;
    rd(&r, neg, sizeof(neg));
    CHECK_EQ(sl_kp_read_string(&r, false, true, &s), SL_EFRAME);
    rd(&r, big, sizeof(big));
    CHECK_EQ(sl_kp_read_string(&r, false, true, &s), SL_EFRAME);
    rd(&r, cbig, sizeof(cbig));
    CHECK_EQ(sl_kp_read_string(&r, true, true, &s), SL_EFRAME);
    rd(&r, bneg, sizeof(bneg));
    CHECK_EQ(sl_kp_read_bytes(&r, false, true, &s), SL_EFRAME);
    rd(&r, chuge, sizeof(chuge));
    CHECK_EQ(sl_kp_read_bytes(&r, true, true, &s), SL_EFRAME);
}

TEST(array_counts_are_checked_against_the_bytes_left)
{
    static const uint8_t three[] = {0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    struct sl_kp_reader r;
    int32_t n;
    rd(&r, three, sizeof(three));
    CHECK_EQ(sl_kp_read_array_len(&r, false, false, 4, &n), SL_OK); /* 12 bytes left */
    CHECK_EQ(n, 3);
    rd(&r, three, sizeof(three));
    CHECK_EQ(sl_kp_read_array_len(&r, false, false, 5, &n), SL_EFRAME); /* 15 > 12 */
    static const uint8_t nul[] = {0xff, 0xff, 0xff, 0xff};
    rd(&r, nul, sizeof(nul));
    CHECK_EQ(sl_kp_read_array_len(&r, false, true, 4, &n), SL_OK);
    CHECK_EQ(n, -1);
    rd(&r, nul, sizeof(nul));
    CHECK_EQ(sl_kp_read_array_len(&r, false, false, 4, &n), SL_EFRAME);
    static const uint8_t cnul[] = {0x00};
    rd(&r, cnul, 1);
    CHECK_EQ(sl_kp_read_array_len(&r, true, true, 1, &n), SL_OK);
    CHECK_EQ(n, -1);
}

TEST(skip_tags_skips_unknown_fields_and_bounds_sizes)
{
    static const uint8_t two[] = {2, 0, 1, 'x', 7, 2, 'y', 'z', 'E'};
    struct sl_kp_reader r;
    rd(&r, two, sizeof(two));
    CHECK_EQ(sl_kp_skip_tags(&r), SL_OK);
    CHECK_EQ(*r.p, 'E');
    static const uint8_t over[] = {1, 0, 5, 'x'};
    rd(&r, over, sizeof(over));
    CHECK_EQ(sl_kp_skip_tags(&r), SL_EFRAME);
    static const uint8_t many[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0};
    rd(&r, many, sizeof(many));
    CHECK_EQ(sl_kp_skip_tags(&r), SL_EFRAME);
}

static int write_abc(struct sl_obuf *b, int16_t version, const void *m)
{
    (void)version;
    (void)m;
    return sl_obuf_put(b, "abc", 3);
}

TEST(write_tagged_prefixes_tag_and_size)
{
    struct sl_obuf b;
    sl_obuf_init(&b);
    CHECK_EQ(sl_kp_write_tagged(&b, 300, write_abc, 0, NULL), 0);
    uint8_t out[64];
    size_t n = flat(&b, out);
    static const uint8_t want[] = {0xac, 0x02, 3, 'a', 'b', 'c'};
    CHECK_EQ(n, sizeof(want));
    CHECK_MEM(out, want, n);
}

TEST(records_from_a_chain_are_moved)
{
    struct sl_obuf chain, b;
    sl_obuf_init(&chain);
    sl_obuf_init(&b);
    CHECK_EQ(sl_obuf_put(&chain, "RB", 2), 0);
    struct sl_records rec = {{NULL, 0}, &chain};
    CHECK_EQ(sl_kp_write_records(&b, true, true, &rec), 0);
    CHECK_EQ(chain.total_len, 0);
    struct sl_records none = {{NULL, 0}, NULL};
    CHECK_EQ(sl_kp_write_records(&b, false, true, &none), 0);
    uint8_t out[64];
    size_t n = flat(&b, out);
    static const uint8_t want[] = {3, 'R', 'B', 0xff, 0xff, 0xff, 0xff};
    CHECK_EQ(n, sizeof(want));
    CHECK_MEM(out, want, n);
    sl_obuf_fini(&chain);
}

TEST(uuid_zero)
{
    struct sl_uuid u;
    memset(&u, 0, sizeof(u));
    CHECK(sl_kp_uuid_is_zero(&u));
    u.b[9] = 1;
    CHECK(!sl_kp_uuid_is_zero(&u));
}
