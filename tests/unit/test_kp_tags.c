/* test_kp_tags.c - sl_kp_skip_tags: KIP-482 tag order (ascending, no
 * duplicates) and the count capped by the bytes left; and array count bounds
 * that must not refuse valid minimal encodings (fuzz_request regression). */
#include "base/arena.h"
#include "proto/gen/DeleteGroups.h"
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

/* fuzz_request found it (tests/fuzz/corpus/request/deletegroups_v2_empty_names):
 * a flexible string array's element was bounded at 2 bytes (the int16 length
 * of the non-flexible versions), so 20 empty compact names (1 byte each) in 22
 * bytes were refused as "array count beyond the bytes left". */
TEST(flexible_array_of_empty_compact_strings_decodes)
{
    uint8_t p[23];
    p[0] = 21; /* compact array: 20 elements */
    for (int i = 1; i <= 20; i++)
        p[i] = 1; /* "" */
    p[21] = 0; /* tags */
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_kp_reader r = {p, p + 22, &a, NULL};
    struct sl_DeleteGroupsRequest m;
    CHECK_EQ(sl_DeleteGroupsRequest_decode(&r, 2, &m), SL_OK);
    CHECK_EQ(m.GroupsNames_n, 20);
    CHECK(r.p == p + 22);
    sl_arena_fini(&a);
    /* the count is still bounded by the bytes left: 21 names in 22 bytes is not */
    p[0] = 22;
    sl_arena_init(&a, 0);
    struct sl_kp_reader r2 = {p, p + 21, &a, NULL};
    CHECK(sl_DeleteGroupsRequest_decode(&r2, 2, &m) < 0);
    sl_arena_fini(&a);
}
