/* test_recovery.c - tests for src/storage/recovery.c and checkpoint.c: torn
 * tails, corrupt batches, lost or damaged indexes, the clean-shutdown fast
 * path, recovery points, checkpoint file formats. A crash is a child process
 * that appends and _exits without closing the log. */
#include "storage_util.h"

#include "base/clock.h"
#include "storage/checkpoint.h"

#include <errno.h>
#include <sys/wait.h>

/* Child: open, append n batches of 2 records (vsize bytes), sync, crash. */
static void crash_after_appends(const char *dir, const struct sl_log_conf *c, int n, size_t vsize)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sl_log *log;
        if (sl_log_open(dir, c, &log) < 0)
            _exit(2);
        for (int i = 0; i < n; i++)
            append_n(log, 2, 1000 + i, vsize);
        if (sl_log_sync(log) < 0)
            _exit(3);
        _exit(0); /* no close: no marker, indexes untrimmed */
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void append_bytes(const char *dir, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, p, n) == (ssize_t)n);
    close(fd);
}

static void flip_byte(const char *dir, const char *name, off_t pos)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    uint8_t b;
    CHECK(pread(fd, &b, 1, pos) == 1);
    b ^= 0x20;
    CHECK(pwrite(fd, &b, 1, pos) == 1);
    close(fd);
}

/* Reads everything, segment by segment (a read stays within one). */
static void check_all(struct sl_log *log, int64_t end)
{
    int64_t next = 0;
    while (next < end) {
        size_t len;
        int rc, nb;
        uint8_t *p = read_flat(log, next, INT64_MAX, 64 << 20, &len, &rc);
        CHECK_EQ(rc, 0);
        CHECK(len > 0);
        next = check_batches(p, len, next, &nb);
        free(p);
    }
    CHECK_EQ(next, end);
    CHECK_EQ(sl_log_end_offset(log), end);
}

TEST(torn_tail_is_truncated_on_reopen)
{
    const char *dir = tmp_log_dir();
    crash_after_appends(dir, NULL, 10, 100);
    off_t good = fsize(dir, "00000000000000000000.log");
    /* Half a batch at the end, as a crash mid-write leaves it. */
    size_t len;
    uint8_t *p = mk_batch(2, 5, 100, &len);
    append_bytes(dir, "00000000000000000000.log", p, len / 2);
    free(p);
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    CHECK(sl_log_recovered_bytes(log) > 0);
    CHECK_EQ(sl_log_end_offset(log), 20);
    CHECK_EQ(fsize(dir, "00000000000000000000.log"), good);
    check_all(log, 20);
    CHECK_EQ(append_n(log, 1, 1, 1), 20);
    sl_log_close(log);
}

TEST(flipped_byte_truncates_from_that_batch)
{
    const char *dir = tmp_log_dir();
    crash_after_appends(dir, NULL, 10, 100);
    /* Each batch has the same size: damage the value of the 7th batch. */
    off_t total = fsize(dir, "00000000000000000000.log");
    off_t bsize = total / 10;
    flip_byte(dir, "00000000000000000000.log", 6 * bsize + bsize - 10);
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    CHECK_EQ(sl_log_end_offset(log), 12);
    CHECK_EQ(fsize(dir, "00000000000000000000.log"), 6 * bsize);
    check_all(log, 12);
    sl_log_close(log);
}

TEST(corruption_in_a_middle_segment_drops_later_segments)
{
    const char *dir = tmp_log_dir();
    struct sl_log_conf c = small_conf();
    crash_after_appends(dir, &c, 100, 2000);
    /* Recovery point 0: every segment is scanned. */
    c.recovery_point = 0;
    size_t blen;
    free(mk_batch(2, 1, 2000, &blen));
    flip_byte(dir, "00000000000000000000.log", (off_t)blen + 3000); /* second batch */
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_segment_count(log), 1);
    CHECK_EQ(sl_log_end_offset(log), 2);
    check_all(log, 2);
    sl_log_close(log);
}

TEST(index_is_rebuilt_when_deleted_or_corrupted)
{
    const char *dir = tmp_log_dir();
    struct sl_log_conf c = small_conf();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    for (int i = 0; i < 100; i++)
        append_n(log, 2, 1000 + i, 1000);
    sl_log_close(log);
    off_t idx = fsize(dir, "00000000000000000000.index");
    CHECK(idx > 8);
    char path[512];
    snprintf(path, sizeof(path), "%s/00000000000000000000.index", dir);
    CHECK_EQ(unlink(path), 0);
    /* and garbage in the second segment's index */
    snprintf(path, sizeof(path), "%s/00000000000000000000.log", dir);
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_recovered_bytes(log), 0); /* clean: no CRC scan */
    CHECK_EQ(sl_log_end_offset(log), 200);
    for (int64_t off = 0; off < 200; off += 9) {
        size_t len;
        int rc, nb;
        uint8_t *p = read_flat(log, off, INT64_MAX, 1, &len, &rc);
        CHECK_EQ(check_batches(p, len, off, &nb), off / 2 * 2 + 2);
        free(p);
    }
    int64_t o, ts;
    CHECK_EQ(sl_log_offset_for_time(log, 1010, &o, &ts), 0);
    CHECK_EQ(o, 20);
    sl_log_close(log);
    CHECK_EQ(fsize(dir, "00000000000000000000.index"), idx);

    /* Garbage entries: positions past the log. */
    snprintf(path, sizeof(path), "%s/00000000000000000000.index", dir);
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "\0\0\0\5\x7f\0\0\0", 8, 0) == 8);
    close(fd);
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    for (int64_t off = 0; off < 200; off += 9) {
        size_t len;
        int rc, nb;
        uint8_t *p = read_flat(log, off, INT64_MAX, 1, &len, &rc);
        CHECK_EQ(rc, 0);
        CHECK_EQ(check_batches(p, len, off, &nb), off / 2 * 2 + 2);
        free(p);
    }
    sl_log_close(log);
}

TEST(crash_leaves_untrimmed_indexes_that_recovery_fixes)
{
    const char *dir = tmp_log_dir();
    struct sl_log_conf c = small_conf();
    crash_after_appends(dir, &c, 120, 1000);
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_end_offset(log), 240);
    check_all(log, 240);
    int64_t o, ts;
    CHECK_EQ(sl_log_offset_for_time(log, 1100, &o, &ts), 0);
    CHECK_EQ(o, 200);
    sl_log_close(log);
}

TEST(clean_shutdown_skips_the_scan)
{
    const char *dir = tmp_log_dir();
    struct sl_log_conf c;
    sl_log_conf_default(&c);
    c.segment_bytes = 16 << 20;
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    size_t len;
    uint8_t *p = mk_batch(16, 1, 4000, &len);
    int64_t bytes = 0;
    while (bytes < (96 << 20)) {
        CHECK_EQ(sl_log_append(log, p, len, 0, NULL), 0);
        bytes += (int64_t)len;
    }
    free(p);
    int64_t end = sl_log_end_offset(log);
    sl_log_close(log);
    int64_t t0 = sl_clock_mono_ns();
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    int64_t t1 = sl_clock_mono_ns();
    CHECK_EQ(sl_log_recovered_bytes(log), 0);
    CHECK_EQ(sl_log_end_offset(log), end);
    /* Simulate a crash: drop the marker the close writes. */
    sl_log_close(log);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, SL_LOG_CLEAN_SHUTDOWN_FILE);
    CHECK_EQ(unlink(path), 0);
    int64_t t2 = sl_clock_mono_ns();
    c.recovery_point = 0;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    int64_t t3 = sl_clock_mono_ns();
    CHECK_EQ((int64_t)sl_log_recovered_bytes(log), bytes);
    CHECK_EQ(sl_log_end_offset(log), end);
    printf("open of a %lld MiB log: clean %.1f ms, full recovery %.1f ms (asan build)\n",
           (long long)(bytes >> 20), (t1 - t0) / 1e6, (t3 - t2) / 1e6);
    sl_log_close(log);
}

TEST(corrupt_batch_found_on_disk_is_never_served)
{
    /* After a clean close the segment is trusted without a scan; the batch
     * flipped while "stopped" must still never be read back. */
    const char *dir = tmp_log_dir();
    struct sl_log_conf c = small_conf();
    c.segment_bytes = 1 << 20;
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    size_t bsize;
    uint8_t *one = mk_batch(2, 1000, 500, &bsize);
    free(one);
    for (int i = 0; i < 10; i++)
        append_n(log, 2, 1000 + i, 500);
    sl_log_close(log);
    flip_byte(dir, "00000000000000000000.log", (off_t)(6 * bsize + bsize - 10)); /* offsets 12-13 */
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_recovered_bytes(log), 0); /* trusted: no scan at open */
    size_t len;
    int rc;
    for (int pass = 0; pass < 2; pass++) { /* the second pass uses the remembered check */
        uint8_t *p = read_flat(log, 0, INT64_MAX, 1 << 20, &len, &rc);
        CHECK_EQ(rc, 0);
        int nb;
        CHECK_EQ(check_batches(p, len, 0, &nb), 12); /* stops before the corrupt batch */
        CHECK_EQ(nb, 6);
        free(p);
        p = read_flat(log, 12, INT64_MAX, 1 << 20, &len, &rc);
        CHECK_EQ(rc, -EBADMSG);
        free(p);
        p = read_flat(log, 13, INT64_MAX, 1 << 20, &len, &rc);
        CHECK_EQ(rc, -EBADMSG);
        free(p);
        p = read_flat(log, 14, INT64_MAX, 1 << 20, &len, &rc); /* later batches are intact */
        CHECK_EQ(rc, 0);
        CHECK_EQ(check_batches(p, len, 14, &nb), 20);
        free(p);
    }
    /* Appends after the open are served as written. */
    append_n(log, 2, 2000, 500);
    uint8_t *p = read_flat(log, 20, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(rc, 0);
    int nb;
    CHECK_EQ(check_batches(p, len, 20, &nb), 22);
    free(p);
    sl_log_close(log);
}

TEST(recovery_point_limits_the_scan)
{
    const char *dir = tmp_log_dir();
    struct sl_log_conf c = small_conf();
    crash_after_appends(dir, &c, 100, 2000);
    c.recovery_point = 190;
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK(sl_log_recovered_bytes(log) > 0);
    uint64_t partial = sl_log_recovered_bytes(log);
    CHECK_EQ(sl_log_end_offset(log), 200);
    sl_log_close(log);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, SL_LOG_CLEAN_SHUTDOWN_FILE);
    CHECK_EQ(unlink(path), 0);
    c.recovery_point = 0;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    uint64_t full = sl_log_recovered_bytes(log);
    CHECK(partial < full / 2);
    CHECK_EQ(full, 100 * (uint64_t)(fsize(dir, "00000000000000000000.log") / 16));
    sl_log_close(log);
}

TEST(checkpoint_files_use_kafkas_formats)
{
    const char *dir = tmp_log_dir();
    CHECK_EQ(mkdir(dir, 0755), 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/recovery-point-offset-checkpoint", dir);
    struct sl_ckpt_offset e[2] = {{"orders", 0, 42}, {"my.topic_x", 17, 9000000000LL}};
    CHECK_EQ(sl_ckpt_offsets_write(path, e, 2), 0);
    char buf[256] = {0};
    FILE *f = fopen(path, "r");
    CHECK(fread(buf, 1, sizeof(buf) - 1, f) > 0);
    fclose(f);
    CHECK(strcmp(buf, "0\n2\norders 0 42\nmy.topic_x 17 9000000000\n") == 0);
    struct sl_ckpt_offset *r;
    size_t n;
    CHECK_EQ(sl_ckpt_offsets_read(path, &r, &n), 0);
    CHECK_EQ(n, 2);
    CHECK(strcmp(r[1].topic, "my.topic_x") == 0);
    CHECK_EQ(r[1].partition, 17);
    CHECK_EQ(r[1].offset, 9000000000LL);
    free(r);
    f = fopen(path, "w");
    fputs("0\n3\norders 0 42\n", f);
    fclose(f);
    CHECK_EQ(sl_ckpt_offsets_read(path, &r, &n), -EBADMSG);
    snprintf(path, sizeof(path), "%s/nothing", dir);
    CHECK_EQ(sl_ckpt_offsets_read(path, &r, &n), -ENOENT);

    uint8_t id[16], back[16];
    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)(i * 17 + 3);
    CHECK_EQ(sl_ckpt_partition_metadata_write(dir, id), 0);
    snprintf(path, sizeof(path), "%s/partition.metadata", dir);
    f = fopen(path, "r");
    memset(buf, 0, sizeof(buf));
    CHECK(fread(buf, 1, sizeof(buf) - 1, f) > 0);
    fclose(f);
    CHECK(strncmp(buf, "version: 0\ntopic_id: ", 21) == 0);
    CHECK_EQ(strlen(buf), 21 + 22 + 1);
    CHECK_EQ(sl_ckpt_partition_metadata_read(dir, back), 0);
    CHECK_MEM(id, back, 16);
}
