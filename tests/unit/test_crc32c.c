/* test_crc32c.c - tests for src/base/crc32c.c: RFC 3720 B.4 vectors, both paths agree. */
#include "testlib.h"

#include "base/crc32c.h"
#include "base/clock.h"

TEST(rfc3720_vectors)
{
    uint8_t buf[48];
    memset(buf, 0, 32);
    CHECK_EQ(sl_crc32c(0, buf, 32), 0x8A9136AA);
    CHECK_EQ(sl_crc32c_sw(0, buf, 32), 0x8A9136AA);
    memset(buf, 0xff, 32);
    CHECK_EQ(sl_crc32c(0, buf, 32), 0x62A8AB43);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    CHECK_EQ(sl_crc32c(0, buf, 32), 0x46DD794E);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    CHECK_EQ(sl_crc32c(0, buf, 32), 0x113FDB5C);
    static const uint8_t iscsi[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK_EQ(sl_crc32c(0, iscsi, 48), 0xD9963A56);
    CHECK_EQ(sl_crc32c(0, "123456789", 9), 0xE3069283);
    CHECK_EQ(sl_crc32c_sw(0, "123456789", 9), 0xE3069283);
    CHECK_EQ(sl_crc32c(0, "", 0), 0);
}

TEST(chaining_equals_one_pass)
{
    const char *s = "123456789";
    CHECK_EQ(sl_crc32c(sl_crc32c(0, s, 4), s + 4, 5), 0xE3069283);
}

TEST(hardware_and_table_agree_on_all_lengths_and_alignments)
{
    size_t n = 3 * 4096 * 2 + 123;
    uint8_t *buf = malloc(n + 8);
    uint32_t x = 12345;
    for (size_t i = 0; i < n + 8; i++) {
        x = x * 1103515245 + 12345;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; len < 100; len++)
            CHECK_EQ(sl_crc32c(7, buf + off, len), sl_crc32c_sw(7, buf + off, len));
        CHECK_EQ(sl_crc32c(0, buf + off, n), sl_crc32c_sw(0, buf + off, n));
        CHECK_EQ(sl_crc32c(0, buf + off, 3 * 4096), sl_crc32c_sw(0, buf + off, 3 * 4096));
    }
    int64_t t0 = sl_clock_mono_ns();
    uint32_t c = 0;
    for (int i = 0; i < 200; i++)
        c = sl_crc32c(c, buf, n);
    int64_t t1 = sl_clock_mono_ns();
    for (int i = 0; i < 200; i++)
        c = sl_crc32c_sw(c, buf, n);
    int64_t t2 = sl_clock_mono_ns();
    printf("crc32c: hw %.2f GB/s, table %.2f GB/s (asan build)\n", 200.0 * n / (t1 - t0),
           200.0 * n / (t2 - t1));
    free(buf);
}
