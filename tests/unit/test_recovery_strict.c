/* test_recovery_strict.c - sl_log_conf.strict_recovery (the metadata log):
 * after a crash a torn last batch is still truncated, but a CRC-bad batch with
 * data after it (in the middle of the log) fails the open with -EBADMSG and
 * leaves the files untouched, instead of dropping every committed batch after
 * it. Without the flag (partition logs) recovery truncates as before. */
#include "storage_util.h"

#include <errno.h>
#include <sys/wait.h>

/* Child: open, append n batches of 2 records (vsize bytes), sync, crash. */
static void crash_after_appends(const char *dir, int n, size_t vsize)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sl_log *log;
        if (sl_log_open(dir, NULL, &log) < 0)
            _exit(2);
        for (int i = 0; i < n; i++)
            append_n(log, 2, 1000 + i, vsize);
        if (sl_log_sync(log) < 0)
            _exit(3);
        _exit(0); /* no close: no clean-shutdown marker */
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static off_t seg_size(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/00000000000000000000.log", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return st.st_size;
}

static void flip_byte(const char *dir, off_t pos)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/00000000000000000000.log", dir);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    uint8_t b;
    CHECK(pread(fd, &b, 1, pos) == 1);
    b ^= 0x20;
    CHECK(pwrite(fd, &b, 1, pos) == 1);
    close(fd);
}

static struct sl_log_conf strict_conf(void)
{
    struct sl_log_conf c;
    sl_log_conf_default(&c);
    c.strict_recovery = true;
    return c;
}

TEST(strict_middle_corruption_refuses_and_keeps_the_files)
{
    const char *dir = tmp_log_dir();
    crash_after_appends(dir, 10, 100);
    off_t total = seg_size(dir), bsize = total / 10;
    flip_byte(dir, 4 * bsize + bsize - 10); /* the 5th of 10 batches */
    struct sl_log_conf c = strict_conf();
    struct sl_log *log = NULL;
    CHECK_EQ(sl_log_open(dir, &c, &log), -EBADMSG);
    CHECK(log == NULL);
    CHECK_EQ(seg_size(dir), total); /* nothing truncated */
}

TEST(strict_torn_or_corrupt_last_batch_is_still_truncated)
{
    const char *dir = tmp_log_dir();
    crash_after_appends(dir, 10, 100);
    off_t total = seg_size(dir), bsize = total / 10;
    flip_byte(dir, total - 10); /* the last batch: a torn tail */
    struct sl_log_conf c = strict_conf();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_end_offset(log), 18);
    CHECK_EQ(seg_size(dir), 9 * bsize);
    sl_log_close(log);
}

TEST(strict_half_written_last_batch_is_truncated)
{
    const char *dir = tmp_log_dir();
    crash_after_appends(dir, 10, 100);
    off_t total = seg_size(dir), bsize = total / 10;
    char path[512];
    snprintf(path, sizeof(path), "%s/00000000000000000000.log", dir);
    CHECK(truncate(path, total - bsize / 2) == 0);
    struct sl_log_conf c = strict_conf();
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, &c, &log), 0);
    CHECK_EQ(sl_log_end_offset(log), 18);
    sl_log_close(log);
}

TEST(without_strict_middle_corruption_still_truncates)
{
    const char *dir = tmp_log_dir();
    crash_after_appends(dir, 10, 100);
    off_t total = seg_size(dir), bsize = total / 10;
    flip_byte(dir, 4 * bsize + bsize - 10);
    struct sl_log *log;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    CHECK_EQ(sl_log_end_offset(log), 8);
    CHECK_EQ(seg_size(dir), 4 * bsize);
    sl_log_close(log);
}
