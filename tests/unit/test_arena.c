/* test_arena.c - tests for src/base/arena.c and src/base/obuf.c */
#include "testlib.h"

#include "base/arena.h"
#include "base/obuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

TEST(allocations_are_aligned_zeroed_and_distinct)
{
    struct sl_arena a;
    sl_arena_init(&a, 0);
    uint8_t *prev = NULL;
    for (int i = 1; i < 2000; i += 7) {
        uint8_t *p = sl_arena_alloc(&a, (size_t)i);
        CHECK(p != NULL);
        CHECK(((uintptr_t)p & 15) == 0);
        for (int j = 0; j < i; j++)
            CHECK(p[j] == 0);
        memset(p, 0xab, (size_t)i);
        CHECK(p != prev);
        prev = p;
    }
    sl_arena_fini(&a);
}

TEST(cap_refuses_allocation_beyond_it)
{
    struct sl_arena a;
    sl_arena_init(&a, 64 * 1024);
    CHECK(sl_arena_alloc(&a, 1 << 20) == NULL);
    CHECK(sl_arena_alloc(&a, 1000) != NULL);
    int got = 0;
    while (sl_arena_alloc(&a, 1000))
        got++;
    CHECK(got < 64);
    sl_arena_fini(&a);
}

TEST(printf_formats_into_arena)
{
    struct sl_arena a;
    sl_arena_init(&a, 0);
    char *s = sl_arena_printf(&a, "%s-%d", "topic", 7);
    CHECK(strcmp(s, "topic-7") == 0);
    sl_arena_fini(&a);
}

static int released;
static void count_release(void *ref)
{
    (void)ref;
    released++;
}

TEST(obuf_chains_memory_and_file_ranges)
{
    char path[] = "/tmp/sl-obuf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    CHECK(write(fd, "0123456789", 10) == 10);

    struct sl_obuf b;
    sl_obuf_init(&b);
    uint8_t *len = sl_obuf_append(&b, 4);
    CHECK(sl_obuf_put(&b, "ab", 2) == 0);
    CHECK(sl_obuf_put_file(&b, fd, 3, 4, NULL, count_release) == 0);
    CHECK(sl_obuf_put(&b, "z", 1) == 0);
    memcpy(len, "LLLL", 4);
    CHECK_EQ(b.total_len, 11);
    uint8_t out[11];
    CHECK_EQ(sl_obuf_flatten(&b, out), 0);
    CHECK_MEM(out, "LLLLab3456z", 11);
    sl_obuf_fini(&b);
    CHECK_EQ(released, 1);
    close(fd);
}
