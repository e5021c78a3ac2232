/* test_cleaner.c - tests for src/storage/cleaner.c and cleaner_swap.c: the
 * latest value per key, tombstones, offsets, batch validity (codec and
 * producer fields kept), the dirty ratio, readers holding replaced
 * segments, and recovery after a crash at each step of the swap. */
#include "storage_util.h"

#include "record/compress.h"
#include "storage/cleaner.h"
#include "storage/log_int.h"
#include "storage/segment.h"

#include <dirent.h>
#include <errno.h>
#include <sys/wait.h>

#define NKEYS 20

/* A batch of n records, keys "k<i % NKEYS>" from `first`, value "v<seq>"
 * (a tombstone when seq % tomb_every == tomb_every - 1 and tomb_every > 0). */
static uint8_t *keyed_batch(int first, int n, int tomb_every, int codec, int64_t ts, size_t *len)
{
    struct sl_batch_build_opts o;
    sl_batch_build_opts_default(&o);
    o.codec = codec;
    o.producer_id = 77;
    o.producer_epoch = 3;
    o.base_sequence = first;
    struct sl_batch_builder b;
    sl_batch_builder_init(&b, &o);
    for (int i = first; i < first + n; i++) {
        char k[16], v[16];
        snprintf(k, sizeof(k), "k%d", i % NKEYS);
        snprintf(v, sizeof(v), "v%d", i);
        bool tomb = tomb_every > 0 && i % tomb_every == tomb_every - 1;
        CHECK_EQ(sl_batch_builder_add(&b, ts, sl_slice_cstr(k),
                                      tomb ? (struct sl_slice){NULL, 0} : sl_slice_cstr(v), NULL, 0),
                 0);
    }
    uint8_t *out;
    CHECK_EQ(sl_batch_builder_finish(&b, &out, len), 0);
    sl_batch_builder_fini(&b);
    return out;
}

/* Appends `total` records in batches of `per`, rolling every `roll_every` batches. */
static void fill(struct sl_log *log, int total, int per, int roll_every, int tomb_every, int codec,
                 int64_t ts)
{
    for (int i = 0, nb = 0; i < total; i += per, nb++) {
        size_t len;
        uint8_t *p = keyed_batch(i, per, tomb_every, codec, ts, &len);
        CHECK_EQ(sl_log_append(log, p, len, 0, NULL), 0);
        free(p);
        if (roll_every && nb % roll_every == roll_every - 1)
            CHECK_EQ(sl_log_roll(log), 0);
    }
}

struct seen {
    int64_t offset[NKEYS]; /* latest offset seen per key, -1 none */
    int value[NKEYS];      /* its value number, -1 tombstone */
    int count[NKEYS];      /* records seen per key */
    int records;           /* records seen */
    int64_t last_offset;   /* offsets strictly increase */
    int codec_seen;        /* codec of the last batch */
};

/* Reads every record from the log start; checks each batch's CRC and that
 * offsets increase. */
static void read_all(struct sl_log *log, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < NKEYS; i++)
        s->offset[i] = -1;
    s->last_offset = -1;
    int64_t off = sl_log_start_offset(log), end = sl_log_end_offset(log);
    while (off < end) {
        size_t len;
        int rc;
        uint8_t *p = read_flat(log, off, INT64_MAX, 1 << 20, &len, &rc);
        CHECK_EQ(rc, 0);
        CHECK(len > 0);
        size_t pos = 0;
        while (pos < len) {
            struct sl_batch_hdr h;
            CHECK_EQ(sl_batch_hdr_decode(p + pos, len - pos, &h), 0);
            CHECK_EQ(sl_batch_compute_crc(p + pos, sl_batch_size(&h)), h.crc);
            CHECK_EQ(h.producer_id, 77);
            CHECK_EQ(h.producer_epoch, 3);
            s->codec_seen = sl_batch_codec(&h);
            struct sl_batch_iter it;
            struct sl_record r;
            CHECK_EQ(sl_batch_iter_init(&it, p + pos, sl_batch_size(&h), 0), 0);
            int n = 0;
            while ((rc = sl_batch_iter_next(&it, &r)) == 1) {
                CHECK(r.offset > s->last_offset);
                CHECK(r.offset <= sl_batch_last_offset(&h));
                s->last_offset = r.offset;
                int k = atoi((const char *)r.key.p + 1);
                CHECK(k >= 0 && k < NKEYS);
                s->offset[k] = r.offset;
                s->value[k] = r.value.p ? atoi((const char *)r.value.p + 1) : -1;
                s->count[k]++;
                s->records++;
                n++;
            }
            CHECK_EQ(rc, 0);
            CHECK_EQ(n, h.records_count);
            sl_batch_iter_fini(&it);
            off = sl_batch_last_offset(&h) + 1;
            pos += sl_batch_size(&h);
        }
        free(p);
    }
}

static struct sl_clean_conf clean_conf(void)
{
    struct sl_clean_conf c = {
        .now_ms = 100000,
        .delete_retention_ms = 86400000,
        .max_compaction_lag_ms = INT64_MAX,
        .min_cleanable_ratio = 0.5,
        .max_offset = INT64_MAX,
    };
    return c;
}

static int count_suffix(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *e;
    int n = 0;
    size_t m = strlen(suffix);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l >= m && strcmp(e->d_name + l - m, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

TEST(keeps_latest_value_per_key_and_offsets)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf lc = small_conf();
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    fill(log, 1000, 10, 5, 0, 0, 1000); /* 100 batches, 20 segments + active */
    struct seen before, after;
    read_all(log, &before);
    CHECK_EQ(before.records, 1000);
    struct sl_clean_conf cc = clean_conf();
    struct sl_clean_stats st;
    CHECK_EQ(sl_log_clean(log, &cc, -1, &st), 0);
    CHECK_EQ(st.first_dirty, 0);
    CHECK_EQ(st.clean_end, 1000); /* the active segment is empty after the last roll */
    CHECK(st.segments_swapped >= 1);
    read_all(log, &after);
    CHECK_EQ(after.records, NKEYS);
    for (int k = 0; k < NKEYS; k++) {
        CHECK_EQ(after.count[k], 1);
        CHECK_EQ(after.offset[k], before.offset[k]); /* same offset as before */
        CHECK_EQ(after.value[k], before.value[k]);
    }
    CHECK_EQ(sl_log_end_offset(log), 1000);
    CHECK_EQ(count_suffix(dir, ".cleaned") + count_suffix(dir, ".swap") + count_suffix(dir, ".deleted"), 0);
    /* Nothing dirty left: a second pass has nothing to do. */
    CHECK_EQ(sl_log_clean(log, &cc, st.clean_end, NULL), -EAGAIN);
    sl_log_close(log);
    /* Clean reopen trusts the cleaned segments. */
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    read_all(log, &after);
    CHECK_EQ(after.records, NKEYS);
    CHECK_EQ(sl_log_end_offset(log), 1000);
    sl_log_close(log);
}

TEST(compressed_batches_stay_in_their_codec)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf lc = small_conf();
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    fill(log, 400, 40, 2, 0, SL_CODEC_ZSTD, 1000);
    struct seen before, after;
    read_all(log, &before);
    struct sl_clean_conf cc = clean_conf();
    CHECK_EQ(sl_log_clean(log, &cc, -1, NULL), 0);
    read_all(log, &after);
    CHECK_EQ(after.records, NKEYS);
    CHECK_EQ(after.codec_seen, SL_CODEC_ZSTD);
    for (int k = 0; k < NKEYS; k++)
        CHECK_EQ(after.offset[k], before.offset[k]);
    sl_log_close(log);
}

TEST(tombstones_removed_after_delete_retention_only)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf lc = small_conf();
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    /* Tombstones on every 3rd record: keys whose last record is one. */
    fill(log, 60, 10, 1, 3, 0, 1000);
    struct seen before, after;
    read_all(log, &before);
    int tombs = 0;
    for (int k = 0; k < NKEYS; k++)
        tombs += before.value[k] == -1;
    CHECK(tombs > 0);
    struct sl_clean_conf cc = clean_conf();
    cc.now_ms = 1000 + 500; /* tombstones are 500 ms old, kept for a day */
    CHECK_EQ(sl_log_clean(log, &cc, -1, NULL), 0);
    read_all(log, &after);
    CHECK_EQ(after.records, NKEYS);
    /* Later, past delete.retention.ms: the tombstones go, live keys stay. */
    cc.now_ms = 1000 + 86400000 + 1;
    cc.force = true;
    CHECK_EQ(sl_log_clean(log, &cc, -1, NULL), 0);
    read_all(log, &after);
    CHECK_EQ(after.records, NKEYS - tombs);
    for (int k = 0; k < NKEYS; k++) {
        if (before.value[k] == -1)
            CHECK_EQ(after.count[k], 0);
        else
            CHECK_EQ(after.offset[k], before.offset[k]);
    }
    sl_log_close(log);
}

TEST(dirty_ratio_and_compaction_lag_gate_a_pass)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf lc = small_conf();
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    fill(log, 200, 10, 2, 0, 0, 1000);
    struct sl_clean_conf cc = clean_conf();
    struct sl_clean_stats st;
    /* min.compaction.lag.ms: every segment is too recent. */
    cc.min_compaction_lag_ms = 1000000;
    CHECK_EQ(sl_log_clean(log, &cc, -1, NULL), -EAGAIN);
    cc.min_compaction_lag_ms = 0;
    /* Below the high watermark only: nothing wholly below offset 5. */
    cc.max_offset = 5;
    CHECK_EQ(sl_log_clean(log, &cc, -1, NULL), -EAGAIN);
    cc.max_offset = INT64_MAX;
    CHECK_EQ(sl_log_clean(log, &cc, -1, &st), 0);
    /* A little new data: the dirty ratio is low, no pass... */
    fill(log, 20, 10, 2, 0, 0, 1000);
    cc.min_cleanable_ratio = 0.9;
    CHECK_EQ(sl_log_clean(log, &cc, st.clean_end, NULL), -EAGAIN);
    /* ...unless max.compaction.lag.ms has passed for it. */
    cc.max_compaction_lag_ms = 10;
    CHECK_EQ(sl_log_clean(log, &cc, st.clean_end, NULL), 0);
    sl_log_close(log);
}

TEST(reader_of_a_replaced_segment_keeps_reading)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf lc = small_conf();
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    fill(log, 200, 10, 4, 0, 0, 1000);
    struct sl_obuf ob;
    sl_obuf_init(&ob);
    CHECK_EQ(sl_log_read(log, 0, INT64_MAX, 1 << 20, &ob), 0);
    size_t len = ob.total_len;
    CHECK(len > 0);
    struct sl_clean_conf cc = clean_conf();
    CHECK_EQ(sl_log_clean(log, &cc, -1, NULL), 0);
    CHECK_EQ(count_suffix(dir, ".deleted"), 0);
    /* The range taken before the swap still reads the old, whole batches. */
    uint8_t *p = malloc(len);
    CHECK_EQ(sl_obuf_flatten(&ob, p), 0);
    int nb;
    CHECK_EQ(check_batches(p, len, 0, &nb), 40);
    free(p);
    sl_obuf_fini(&ob);
    sl_log_close(log);
}

TEST(swap_cancelled_when_retention_removed_the_segments)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf lc = small_conf();
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    fill(log, 100, 10, 2, 0, 0, 1000);
    struct sl_seg *cs, *old[1];
    CHECK_EQ(sl_seg_open_suffix(dir, 0, ".cleaned", true, true, 4096, &cs), 0);
    CHECK_EQ(sl_seg_seal(cs), 0);
    old[0] = log->segs[0];
    sl_seg_ref(old[0]);
    CHECK_EQ(sl_log_advance_start(log, 40), 0); /* segment 0 is gone */
    CHECK_EQ(sl_log_swap_cleaned(log, cs, old, 1, NULL), -ECANCELED);
    CHECK_EQ(count_suffix(dir, ".cleaned"), 0);
    CHECK_EQ(sl_log_start_offset(log), 40);
    sl_log_close(log);
}

/* Cleans in a child that dies at crash point `at`; reopens in the parent
 * and checks the log: every key's latest value readable at its offset, the
 * end offset kept, no cleaner files left. Returns the records read. */
static int crash_and_recover(int at, void (*tamper)(const char *dir))
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf lc = small_conf();
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    fill(log, 1000, 10, 5, 0, 0, 1000);
    struct seen before, after;
    read_all(log, &before);
    sl_log_close(log);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sl_log *l2;
        if (sl_log_open(dir, &lc, &l2) < 0)
            _exit(3);
        sl_clean_test_crash_at = at;
        struct sl_clean_conf cc = clean_conf();
        sl_log_clean(l2, &cc, -1, NULL);
        _exit(2); /* the crash point was not reached */
    }
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    if (tamper)
        tamper(dir);
    lc.recovery_point = -1;
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    CHECK_EQ(count_suffix(dir, ".cleaned") + count_suffix(dir, ".swap") + count_suffix(dir, ".deleted"), 0);
    CHECK_EQ(sl_log_end_offset(log), 1000);
    read_all(log, &after);
    for (int k = 0; k < NKEYS; k++) {
        CHECK_EQ(after.offset[k], before.offset[k]);
        CHECK_EQ(after.value[k], before.value[k]);
    }
    /* And it still cleans (and appends) normally afterwards. */
    struct sl_clean_conf cc = clean_conf();
    cc.force = true;
    CHECK_EQ(sl_log_clean(log, &cc, -1, NULL), 0);
    fill(log, 10, 10, 0, 0, 0, 1000);
    read_all(log, &after);
    CHECK_EQ(after.records, NKEYS + 10);
    sl_log_close(log);
    return after.records;
}

TEST(crash_after_cleaned_files_rolls_back)
{
    crash_and_recover(1, NULL);
}

TEST(crash_after_rename_to_swap_completes)
{
    crash_and_recover(2, NULL);
}

TEST(crash_after_first_old_segment_deleted_completes)
{
    crash_and_recover(3, NULL);
}

TEST(crash_after_all_old_segments_deleted_completes)
{
    crash_and_recover(4, NULL);
}

static void indexes_renamed(const char *dir)
{
    /* The crash hit between the index renames and the .log rename. */
    char a[512], b[512];
    snprintf(a, sizeof(a), "%s/00000000000000000000.index.swap", dir);
    snprintf(b, sizeof(b), "%s/00000000000000000000.index", dir);
    CHECK_EQ(rename(a, b), 0);
}

TEST(crash_between_index_and_log_rename_completes)
{
    crash_and_recover(4, indexes_renamed);
}

TEST(crash_after_swap_in_place_keeps_new_segment)
{
    crash_and_recover(5, NULL);
}

TEST(reads_skip_segments_emptied_by_cleaning)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_log_conf lc = small_conf();
    lc.segment_bytes = 2048; /* one group per input segment: empty outputs stay */
    CHECK_EQ(sl_log_open(dir, &lc, &log), 0);
    fill(log, 400, 20, 1, 0, 0, 1000); /* every key rewritten in each segment */
    struct seen before, after;
    read_all(log, &before);
    struct sl_clean_conf cc = clean_conf();
    CHECK_EQ(sl_log_clean(log, &cc, -1, NULL), 0);
    CHECK(sl_log_segment_count(log) > 2);
    /* From the start (an empty segment) and from inside a gap. */
    read_all(log, &after);
    CHECK_EQ(after.records, NKEYS);
    for (int k = 0; k < NKEYS; k++)
        CHECK_EQ(after.offset[k], before.offset[k]);
    size_t len;
    int rc;
    uint8_t *p = read_flat(log, 5, INT64_MAX, 1 << 20, &len, &rc);
    CHECK_EQ(rc, 0);
    CHECK(len > 0);
    struct sl_batch_hdr h;
    CHECK_EQ(sl_batch_hdr_decode(p, len, &h), 0);
    CHECK(h.base_offset >= 380);
    free(p);
    sl_log_close(log);
}
