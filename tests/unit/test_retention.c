/* test_retention.c - tests for src/storage/retention.c: the decision by
 * time and by size, the high watermark bound, the roll of an expired
 * active segment, and applying it to a real log. */
#include "storage_util.h"

#include "storage/retention.h"

#include <errno.h>

static const struct sl_ret_seg segs4[] = {
    {0, 1000, 100}, {10, 1000, 200}, {20, 1000, 300}, {30, 500, 400}, /* last = active */
};

TEST(time_deletes_oldest_expired_segments_only)
{
    bool roll;
    /* now 350, retention 100: segments with max ts < 250 go. */
    CHECK_EQ(sl_retention_plan(segs4, 4, 35, 35, 350, 100, -1, &roll), 2);
    CHECK(!roll);
    /* Stops at the first unexpired segment even if a later one is older. */
    struct sl_ret_seg odd[] = {{0, 10, 100}, {10, 10, 900}, {20, 10, 100}, {30, 10, 950}};
    CHECK_EQ(sl_retention_plan(odd, 4, 35, 35, 1000, 500, -1, &roll), 1);
    CHECK_EQ(sl_retention_plan(segs4, 4, 35, 35, 350, -1, -1, &roll), 0);
}

TEST(size_deletes_while_over_retention_bytes)
{
    bool roll;
    /* total 3500, retention 2000: the excess (1500) covers one whole
     * segment only (Kafka's rule: never go below retention.bytes). */
    CHECK_EQ(sl_retention_plan(segs4, 4, 35, 35, 0, -1, 2000, &roll), 1);
    CHECK_EQ(sl_retention_plan(segs4, 4, 35, 35, 0, -1, 1500, &roll), 2);
    CHECK_EQ(sl_retention_plan(segs4, 4, 35, 35, 0, -1, 2501, &roll), 0);
    CHECK_EQ(sl_retention_plan(segs4, 4, 35, 35, 0, -1, 3500, &roll), 0);
    CHECK_EQ(sl_retention_plan(segs4, 4, 35, 35, 0, -1, 0, &roll), 4);
    CHECK(roll);
}

TEST(never_past_the_high_watermark)
{
    bool roll;
    CHECK_EQ(sl_retention_plan(segs4, 4, 35, 15, 10000, 1, -1, &roll), 1);
    CHECK_EQ(sl_retention_plan(segs4, 4, 35, 0, 10000, 1, -1, &roll), 0);
    CHECK_EQ(sl_retention_plan(segs4, 4, 35, 35, 10000, 1, -1, &roll), 4);
    CHECK(roll);
    /* An empty active segment is never deleted (and needs no roll). */
    struct sl_ret_seg e[] = {{0, 10, 100}, {10, 0, -1}};
    CHECK_EQ(sl_retention_plan(e, 2, 10, 10, 10000, 1, -1, &roll), 1);
    CHECK(!roll);
}

TEST(applies_to_a_log_and_rolls_an_expired_active_segment)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf lc = small_conf();
    lc.segment_bytes = 4096;
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    for (int i = 0; i < 40; i++)
        append_n(log, 5, 1000 + i, 200); /* ~1.1 KiB batches: 3 per segment */
    size_t nseg = sl_log_segment_count(log);
    CHECK(nseg > 5);
    int64_t start;
    size_t deleted;
    /* Size: keep at most ~5 KiB. */
    CHECK_EQ(sl_log_apply_retention(log, 2000, 200, -1, 5000, &start, &deleted), 0);
    CHECK(deleted > 0);
    CHECK(sl_log_size_bytes(log) >= 5000 && sl_log_size_bytes(log) < 5000 + 4096);
    CHECK(start > 0);
    CHECK_EQ(sl_log_start_offset(log), start);
    size_t len;
    int rc, nb;
    uint8_t *p = read_flat(log, start, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(rc, 0);
    CHECK(len > 0);
    check_batches(p, len, start, &nb);
    free(p);
    p = read_flat(log, start - 1, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(rc, -ERANGE); /* a consumer below the start gets OFFSET_OUT_OF_RANGE */
    free(p);
    /* Time: everything expired, the active segment too -> rolled, all gone. */
    CHECK_EQ(sl_log_apply_retention(log, 1000000, 200, 1000, -1, &start, &deleted), 0);
    CHECK_EQ(start, 200);
    CHECK_EQ(sl_log_end_offset(log), 200);
    CHECK_EQ(sl_log_segment_count(log), 1);
    CHECK_EQ(append_n(log, 1, 5000, 10), 200);
    sl_log_close(log);
    /* The start offset survives a reopen through the checkpoint value. */
    lc.log_start_offset = 200;
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    CHECK_EQ(sl_log_start_offset(log), 200);
    CHECK_EQ(sl_log_end_offset(log), 201);
    sl_log_close(log);
}
