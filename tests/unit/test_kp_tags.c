/* test_kp_tags.c - sl_kp_skip_tags: KIP-482 tag order (ascending, no
 * duplicates) and the count capped by the bytes left. */
#include "base/arena.h"
#include "proto/kp.h"
#include "testlib.h"

static int skip(const uint8_t *p, size_t n)
{
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_kp_reader r = {p, p + n, &a, NULL};
    int rc = sl_kp_skip_tags(&r);
    if (rc == SL_OK)
        CHECK(r.p == p + n);
    sl_arena_fini(&a);
    return rc;
}

TEST(ascending_tags_are_skipped)
{
    const uint8_t p[] = {3, 0, 1, 'a', 1, 0, 7, 2, 'b', 'c'};
    CHECK_EQ(skip(p, sizeof(p)), SL_OK);
    const uint8_t none[] = {0};
    CHECK_EQ(skip(none, sizeof(none)), SL_OK);
}

TEST(duplicate_tag_is_an_error)
{
    const uint8_t p[] = {2, 5, 1, 'a', 5, 1, 'b'};
    CHECK(skip(p, sizeof(p)) < 0);
}

TEST(descending_tags_are_an_error)
{
    const uint8_t p[] = {2, 6, 0, 5, 0};
    CHECK(skip(p, sizeof(p)) < 0);
}

TEST(millions_announced_with_few_bytes_is_an_error)
{
    /* 5,000,000 as a uvarint, then one field */
    const uint8_t p[] = {0xc0, 0x96, 0xb1, 0x02, 0, 0};
    CHECK(skip(p, sizeof(p)) < 0);
}

TEST(tag_size_beyond_the_bytes_left_is_an_error)
{
    const uint8_t p[] = {1, 0, 0x80, 0x80, 0x40, 'x'};
    CHECK(skip(p, sizeof(p)) < 0);
}
