/* test_log_conf.c - tests for sl_log_set_conf (src/storage/log.c): segment
 * settings changed on an open log apply from the next append or roll, as a
 * dynamic topic config change does in Kafka. */
#include "storage_util.h"

#include <time.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The file name of segment `base` (a static buffer). */
static const char *seg_file(int64_t base, const char *ext)
{
    static char name[64];
    snprintf(name, sizeof(name), "%020lld.%s", (long long)base, ext);
    return name;
}

TEST(lowering_segment_bytes_rolls_at_the_next_append)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf c;
    sl_log_conf_default(&c);
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    for (int i = 0; i < 20; i++)
        append_n(log, 1, i, 1000);
    CHECK_EQ(sl_log_segment_count(log), 1);
    c.segment_bytes = 4096;
    sl_log_set_conf(log, &c);
    /* The active segment is already past the new size: the next append rolls. */
    append_n(log, 1, 20, 1000);
    CHECK_EQ(sl_log_segment_count(log), 2);
    for (int i = 0; i < 12; i++)
        append_n(log, 1, 21 + i, 1000);
    /* 13 batches of ~1.1 KB since the roll, 3 per 4 KB segment. */
    CHECK_EQ(sl_log_segment_count(log), 1 + 5);
    /* Raising it again stops the rolls. */
    c.segment_bytes = 1 << 30;
    sl_log_set_conf(log, &c);
    size_t n = sl_log_segment_count(log);
    for (int i = 0; i < 20; i++)
        append_n(log, 1, 40 + i, 1000);
    CHECK_EQ(sl_log_segment_count(log), n);
    /* Every offset still reads back. */
    size_t len;
    int rc, nb;
    uint8_t *p = read_flat(log, 0, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(rc, 0);
    CHECK(check_batches(p, len, 0, &nb) > 0);
    free(p);
    sl_log_close(log);
}

TEST(segment_ms_and_jitter_apply_to_the_active_segment)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    append_n(log, 1, 0, 100);
    sleep_ms(120);
    append_n(log, 1, 1, 100);
    CHECK_EQ(sl_log_segment_count(log), 1); /* 7 days by default */
    struct sl_log_conf c;
    sl_log_conf_default(&c);
    c.segment_ms = 100;
    sl_log_set_conf(log, &c);
    append_n(log, 1, 2, 100); /* the active segment is 120 ms old */
    CHECK_EQ(sl_log_segment_count(log), 2);
    append_n(log, 1, 3, 100);
    CHECK_EQ(sl_log_segment_count(log), 2);
    /* Jitter up to segment.ms: a segment rolls after at most segment.ms. */
    c.segment_jitter_ms = 1000;
    sl_log_set_conf(log, &c);
    for (int i = 0; i < 3; i++) {
        size_t n = sl_log_segment_count(log);
        sleep_ms(110);
        append_n(log, 1, 4 + i, 100);
        CHECK_EQ(sl_log_segment_count(log), n + 1);
    }
    sl_log_close(log);
}

TEST(index_interval_and_index_size_apply_dynamically)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf c;
    sl_log_conf_default(&c);
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    for (int i = 0; i < 10; i++)
        append_n(log, 1, i, 100); /* ~1.7 KB, below one 4 KB interval: no entry */
    /* An entry whenever more than interval bytes were appended since the last. */
    c.index_interval_bytes = 1;
    c.segment_index_bytes = 8192;
    sl_log_set_conf(log, &c);
    for (int i = 0; i < 10; i++)
        append_n(log, 1, 10 + i, 100);
    /* The active segment's index keeps its preallocated size... */
    CHECK_EQ(fsize(dir, seg_file(0, "index")), 10485760);
    CHECK_EQ(sl_log_roll(log), 0);
    /* ...a new one gets segment.index.bytes. */
    CHECK_EQ(fsize(dir, seg_file(20, "index")), 8192);
    /* Sealed: trimmed to its entries, one per batch appended after the change. */
    int64_t entries = fsize(dir, seg_file(0, "index")) / 8;
    CHECK(entries >= 9 && entries <= 11);
    sl_log_close(log);
    /* Reopened, the log's indexes check out. */
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_end_offset(log), 20);
    int64_t off, ts;
    CHECK_EQ(sl_log_offset_for_time(log, 15, &off, &ts), 0);
    CHECK_EQ(off, 15);
    sl_log_close(log);
}
