/* test_segment.c - tests for src/storage/segment.c: Kafka's file names and
 * index entry formats, index lookups, seal trimming, write rollback. */
#include "storage_util.h"

#include "base/varint.h"
#include "storage/segment.h"

#include <errno.h>
#include <sys/stat.h>

static struct sl_seg *new_seg(const char *dir, int64_t base)
{
    CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
    struct sl_seg *seg;
    CHECK_EQ(sl_seg_open(dir, base, true, true, 1200, &seg), 0);
    return seg;
}

/* Appends a batch as the log does, with offsets from seg->next_offset. */
static uint64_t put(struct sl_seg *seg, int n, int64_t ts, size_t vsize)
{
    size_t len;
    uint8_t *p = mk_batch(n, ts, vsize, &len);
    int64_t base = atomic_load(&seg->next_offset);
    sl_batch_set_base_offset(p, base);
    uint64_t pos = atomic_load(&seg->size);
    CHECK_EQ(sl_seg_write(seg, p, len), 0);
    sl_seg_publish(seg, pos, len, base + n - 1, ts, 100);
    free(p);
    return pos;
}

TEST(files_are_named_and_indexed_like_kafka)
{
    const char *dir = tmp_log_dir();
    struct sl_seg *seg = new_seg(dir, 1234);
    CHECK_EQ(fsize(dir, "00000000000000001234.log"), 0);
    CHECK_EQ(fsize(dir, "00000000000000001234.index"), 1200);
    CHECK_EQ(fsize(dir, "00000000000000001234.timeindex"), 1200);
    uint64_t pos[10];
    for (int i = 0; i < 10; i++)
        pos[i] = put(seg, 3, 500 + i, 200);
    /* One entry per batch after the first (each batch > 100 bytes):
     * (last offset of the batch - base, position of the batch). */
    CHECK_EQ(atomic_load(&seg->idx_n), 9);
    CHECK_EQ(sl_be32(seg->idx_map), 3 * 1 + 2);
    CHECK_EQ(sl_be32(seg->idx_map + 4), pos[1]);
    CHECK_EQ(atomic_load(&seg->tidx_n), 9);
    CHECK_EQ((int64_t)sl_be64(seg->tidx_map), 501); /* max so far, incl. this batch */
    CHECK_EQ(sl_be32(seg->tidx_map + 8), 5);
    for (int i = 0; i < 10; i++)
        for (int k = 0; k < 3; k++)
            CHECK(sl_seg_lookup_pos(seg, 1234 + 3 * i + k) <= pos[i]);
    CHECK_EQ(sl_seg_lookup_pos(seg, 1234 + 3 * 5 + 2), pos[5]);
    CHECK_EQ(sl_seg_lookup_pos(seg, 1234), 0);
    CHECK(sl_seg_lookup_time_pos(seg, 505) <= pos[5]);
    CHECK_EQ(sl_seg_seal(seg), 0);
    CHECK_EQ(fsize(dir, "00000000000000001234.index"), 9 * 8);
    CHECK_EQ(fsize(dir, "00000000000000001234.timeindex"), 9 * 12); /* max ts already indexed */
    struct sl_batch_hdr h;
    CHECK_EQ(sl_seg_read_hdr(seg, pos[3], atomic_load(&seg->size), &h), 0);
    CHECK_EQ(h.base_offset, 1234 + 9);
    CHECK_EQ(sl_seg_read_hdr(seg, pos[3] + 1, atomic_load(&seg->size), &h), -EBADMSG);
    sl_seg_release(seg);
}

TEST(index_fills_up)
{
    const char *dir = tmp_log_dir();
    struct sl_seg *seg = new_seg(dir, 0);
    int n = 0;
    while (!sl_seg_index_full(seg)) {
        put(seg, 1, n, 150);
        n++;
        CHECK(n < 1000);
    }
    CHECK_EQ(n, 1200 / 12 + 1);
    sl_seg_release(seg);
}

TEST(failed_write_truncates_back)
{
    const char *dir = tmp_log_dir();
    struct sl_seg *seg = new_seg(dir, 0);
    put(seg, 1, 1, 10);
    off_t before = fsize(dir, "00000000000000000000.log");
    size_t len;
    uint8_t *p = mk_batch(1, 1, 5000, &len);
    sl_seg_test_fail_writes = 1;
    CHECK_EQ(sl_seg_write(seg, p, len), -EIO);
    CHECK_EQ(fsize(dir, "00000000000000000000.log"), before);
    CHECK_EQ(atomic_load(&seg->size), (uint64_t)before);
    free(p);
    sl_seg_release(seg);
}
