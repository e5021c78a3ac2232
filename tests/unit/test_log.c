/* test_log.c - tests for src/storage/log.c: append, read, roll, reopen,
 * offset_for_time, truncation, start offset, epochs, failed appends. */
#include "storage_util.h"

#include "storage/segment.h"

#include <errno.h>

TEST(append_read_reopen)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    CHECK_EQ(sl_log_end_offset(log), 0);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(append_n(log, 3, 1000 + i, 50), 3 * i);
    CHECK_EQ(sl_log_end_offset(log), 300);
    size_t len;
    int rc, nb;
    uint8_t *p = read_flat(log, 0, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(check_batches(p, len, 0, &nb), 300);
    CHECK_EQ(nb, 100);
    /* The active segment's indexes are preallocated while open. */
    CHECK_EQ(fsize(dir, "00000000000000000000.index"), 10485760);
    CHECK_EQ(fsize(dir, "00000000000000000000.timeindex"), 10485760 / 12 * 12);
    sl_log_close(log);
    CHECK_EQ(fsize(dir, "00000000000000000000.index") % 8, 0);
    CHECK(fsize(dir, "00000000000000000000.index") < 4096);
    CHECK(fsize(dir, ".sluice_cleanshutdown") == 0);

    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    CHECK(fsize(dir, ".sluice_cleanshutdown") == -1);
    CHECK_EQ(sl_log_end_offset(log), 300);
    size_t len2;
    uint8_t *p2 = read_flat(log, 0, INT64_MAX, 1 << 20, &len2, &rc);
    CHECK_EQ(len2, len);
    CHECK_MEM(p, p2, len);
    /* A read in the middle starts at the batch holding the offset. */
    free(p2);
    p2 = read_flat(log, 151, INT64_MAX, 1 << 20, &len2, &rc);
    CHECK_EQ(check_batches(p2, len2, 151, &nb), 300);
    CHECK_EQ(nb, 50);
    CHECK_EQ(append_n(log, 1, 5, 5), 300);
    free(p2);
    free(p);
    sl_log_close(log);
}

TEST(rolls_segments_and_reads_across_them)
{
    const char *dir = tmp_log_dir();
    struct sl_log_conf c = small_conf();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    for (int i = 0; i < 200; i++)
        append_n(log, 2, i, 1000);
    CHECK(sl_log_segment_count(log) > 3);
    /* Every offset reads back from the batch holding it, in any segment. */
    for (int64_t off = 0; off < 400; off += 7) {
        size_t len;
        int rc, nb;
        uint8_t *p = read_flat(log, off, INT64_MAX, 1, &len, &rc);
        CHECK_EQ(rc, 0);
        CHECK_EQ(check_batches(p, len, off, &nb), (off / 2) * 2 + 2);
        CHECK_EQ(nb, 1);
        free(p);
    }
    sl_log_close(log);
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_end_offset(log), 400);
    CHECK(sl_log_segment_count(log) > 3);
    size_t len;
    int rc, nb;
    uint8_t *p = read_flat(log, 399, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(check_batches(p, len, 399, &nb), 400);
    free(p);
    sl_log_close(log);
}

TEST(read_returns_whole_first_batch_beyond_max_bytes_and_respects_bounds)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    append_n(log, 5, 1, 10000);
    append_n(log, 5, 2, 10000);
    append_n(log, 5, 3, 10000);
    size_t len;
    int rc, nb;
    uint8_t *p = read_flat(log, 2, INT64_MAX, 100, &len, &rc);
    CHECK_EQ(rc, 0);
    CHECK(len > 50000);
    CHECK_EQ(check_batches(p, len, 2, &nb), 5);
    CHECK_EQ(nb, 1);
    free(p);
    /* max_bytes that fits two batches exactly */
    p = read_flat(log, 0, INT64_MAX, 2 * len, &len, &rc);
    CHECK_EQ(check_batches(p, len, 0, &nb), 10);
    CHECK_EQ(nb, 2);
    free(p);
    /* max_offset (high watermark) stops before the batch reaching it */
    p = read_flat(log, 0, 10, 1 << 20, &len, &rc);
    CHECK_EQ(check_batches(p, len, 0, &nb), 10);
    free(p);
    p = read_flat(log, 10, 10, 1 << 20, &len, &rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(len, 0);
    /* at the end: nothing; past it: out of range */
    p = read_flat(log, 15, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(len, 0);
    p = read_flat(log, 16, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(rc, -ERANGE);
    p = read_flat(log, -1, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(rc, -ERANGE);
    sl_log_close(log);
}

TEST(offset_for_time_and_max_timestamp)
{
    const char *dir = tmp_log_dir();
    struct sl_log_conf c = small_conf();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    int64_t o, ts;
    CHECK_EQ(sl_log_offset_for_time(log, 0, &o, &ts), -ENOENT);
    CHECK_EQ(sl_log_max_timestamp(log, &o, &ts), -ENOENT);
    for (int i = 0; i < 300; i++)
        append_n(log, 2, 1000 + 10 * i, 300); /* batch i: offsets 2i, 2i+1 */
    CHECK(sl_log_segment_count(log) > 2);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 300; i += 13) {
            CHECK_EQ(sl_log_offset_for_time(log, 1000 + 10 * i, &o, &ts), 0);
            CHECK_EQ(o, 2 * i);
            CHECK_EQ(ts, 1000 + 10 * i);
            CHECK_EQ(sl_log_offset_for_time(log, 1000 + 10 * i - 5, &o, &ts), 0);
            CHECK_EQ(o, 2 * i);
        }
        CHECK_EQ(sl_log_offset_for_time(log, 0, &o, &ts), 0);
        CHECK_EQ(o, 0);
        CHECK_EQ(sl_log_offset_for_time(log, 1000 + 10 * 299 + 1, &o, &ts), -ENOENT);
        CHECK_EQ(sl_log_max_timestamp(log, &o, &ts), 0);
        CHECK_EQ(ts, 1000 + 10 * 299);
        CHECK_EQ(o, 599);
        sl_log_close(log);
        CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    }
    sl_log_close(log);
}

TEST(failed_append_leaves_log_consistent)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    append_n(log, 4, 1, 100);
    off_t before = fsize(dir, "00000000000000000000.log");
    size_t len;
    uint8_t *p = mk_batch(3, 2, 100, &len);
    sl_seg_test_fail_writes = 1;
    int64_t base;
    CHECK_EQ(sl_log_append(log, p, len, 0, &base), -EIO);
    CHECK_EQ(sl_log_end_offset(log), 4);
    CHECK_EQ(fsize(dir, "00000000000000000000.log"), before);
    CHECK_EQ(sl_log_append(log, p, len, 0, &base), 0);
    CHECK_EQ(base, 4);
    free(p);
    int rc, nb;
    p = read_flat(log, 0, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(check_batches(p, len, 0, &nb), 7);
    CHECK_EQ(nb, 2);
    free(p);
    sl_log_close(log);
}

TEST(sync_publishes_durable_offset)
{
    const char *dir = tmp_log_dir();
    struct sl_log_conf c = small_conf();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_durable_offset(log), 0);
    for (int i = 0; i < 100; i++)
        append_n(log, 1, 1, 2000);
    CHECK_EQ(sl_log_durable_offset(log), 0);
    CHECK_EQ(sl_log_sync(log), 0);
    CHECK_EQ(sl_log_durable_offset(log), 100);
    sl_log_close(log);
}

TEST(advance_start_deletes_whole_segments_below)
{
    const char *dir = tmp_log_dir();
    struct sl_log_conf c = small_conf();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    for (int i = 0; i < 200; i++)
        append_n(log, 1, 1, 2000);
    size_t nseg = sl_log_segment_count(log);
    /* A reader holds a range of the first segment across its deletion. */
    struct sl_obuf held;
    sl_obuf_init(&held);
    CHECK_EQ(sl_log_read(log, 0, INT64_MAX, 1, &held), 0);
    CHECK_EQ(sl_log_advance_start(log, 150), 0);
    CHECK_EQ(sl_log_start_offset(log), 150);
    CHECK(sl_log_segment_count(log) < nseg);
    CHECK(fsize(dir, "00000000000000000000.log") == -1);
    uint8_t *flat = malloc(held.total_len);
    CHECK_EQ(sl_obuf_flatten(&held, flat), 0); /* still readable */
    int nb;
    CHECK_EQ(check_batches(flat, held.total_len, 0, &nb), 1);
    free(flat);
    sl_obuf_fini(&held);
    size_t len;
    int rc;
    uint8_t *p = read_flat(log, 149, INT64_MAX, 100, &len, &rc);
    CHECK_EQ(rc, -ERANGE);
    p = read_flat(log, 150, INT64_MAX, 100, &len, &rc);
    CHECK_EQ(check_batches(p, len, 150, &nb), 151);
    free(p);
    CHECK_EQ(sl_log_advance_start(log, 201), -ERANGE);
    sl_log_close(log);
    c.log_start_offset = 150;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_start_offset(log), 150);
    CHECK_EQ(sl_log_end_offset(log), 200);
    sl_log_close(log);
}

TEST(truncate_to_removes_batches_from_the_one_holding_offset)
{
    const char *dir = tmp_log_dir();
    struct sl_log_conf c = small_conf();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    for (int i = 0; i < 100; i++)
        append_n(log, 2, i, 1500);
    CHECK_EQ(sl_log_truncate_to(log, 151), 0); /* batch 150..151 goes */
    CHECK_EQ(sl_log_end_offset(log), 150);
    size_t len;
    int rc, nb;
    uint8_t *p = read_flat(log, 140, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(check_batches(p, len, 140, &nb), 150);
    free(p);
    CHECK_EQ(append_n(log, 1, 5, 10), 150);
    CHECK_EQ(sl_log_truncate_to(log, 20), 0);
    CHECK_EQ(sl_log_end_offset(log), 20);
    CHECK_EQ(append_n(log, 1, 5, 10), 20);
    sl_log_close(log);
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_end_offset(log), 21);
    p = read_flat(log, 0, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(check_batches(p, len, 0, &nb) > 0, 1);
    free(p);
    sl_log_close(log);
}

TEST(leader_epochs_are_cached_persisted_and_answered)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    int32_t epochs[] = {1, 1, 2, 2, 5};
    for (int i = 0; i < 5; i++) {
        size_t len;
        uint8_t *p = mk_batch(10, 1, 10, &len);
        CHECK_EQ(sl_log_append(log, p, len, epochs[i], NULL), 0);
        struct sl_batch_hdr h;
        CHECK_EQ(sl_batch_hdr_decode(p, len, &h), 0);
        CHECK_EQ(h.partition_leader_epoch, epochs[i]);
        free(p);
    }
    int64_t end;
    int32_t found;
    sl_log_end_offset_for_epoch(log, 5, &end, &found);
    CHECK_EQ(end, 50);
    CHECK_EQ(found, 5);
    sl_log_end_offset_for_epoch(log, 3, &end, &found);
    CHECK_EQ(end, 40);
    CHECK_EQ(found, 2);
    sl_log_end_offset_for_epoch(log, 1, &end, &found);
    CHECK_EQ(end, 20);
    CHECK_EQ(found, 1);
    sl_log_end_offset_for_epoch(log, 0, &end, &found);
    CHECK_EQ(end, -1);
    CHECK_EQ(found, -1);
    sl_log_close(log);
    char path[512], buf[128] = {0};
    snprintf(path, sizeof(path), "%s/leader-epoch-checkpoint", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    CHECK(fread(buf, 1, sizeof(buf) - 1, f) > 0);
    fclose(f);
    CHECK(strcmp(buf, "0\n3\n1 0\n2 20\n5 40\n") == 0);
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    CHECK_EQ(sl_log_latest_epoch(log), 5);
    CHECK_EQ(sl_log_truncate_to(log, 35), 0);
    CHECK_EQ(sl_log_latest_epoch(log), 2);
    sl_log_close(log);
}
