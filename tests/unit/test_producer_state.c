/* test_producer_state.c - tests for src/storage/producer_state.c: sequence
 * rules, duplicates, epochs, transactions (first unstable offset, aborted
 * index), snapshots and the rebuild from the log. */
#include "storage_util.h"

#include "base/clock.h"
#include "proto/gen/errors.h"
#include "storage/producer_state.h"

#include <glob.h>

/* An idempotent (txn: transactional) batch of n records. */
static uint8_t *pbatch(int64_t pid, int16_t epoch, int32_t seq, int n, bool txn, size_t *len)
{
    struct sl_batch_build_opts o;
    sl_batch_build_opts_default(&o);
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    o.transactional = txn;
    struct sl_batch_builder b;
    sl_batch_builder_init(&b, &o);
    for (int i = 0; i < n; i++)
        CHECK_EQ(sl_batch_builder_add(&b, 1000, sl_slice_cstr("k"), sl_slice_cstr("v"), NULL, 0), 0);
    uint8_t *out;
    CHECK_EQ(sl_batch_builder_finish(&b, &out, len), 0);
    sl_batch_builder_fini(&b);
    return out;
}

/* Checks then appends like Produce; returns the check result, *base the offset. */
static int produce(struct sl_log *log, struct sl_pstate *ps, uint8_t *batch, size_t len, int64_t *base)
{
    struct sl_batch_hdr hdr;
    CHECK_EQ(sl_batch_hdr_decode(batch, len, &hdr), 0);
    int64_t last;
    int rc = sl_pstate_check(ps, &hdr, base, &last);
    if (rc)
        return rc;
    CHECK_EQ(sl_log_append(log, batch, len, 0, base), 0);
    sl_pstate_appended(ps, &hdr, batch, len, *base, sl_clock_wall_ms());
    return 0;
}

static int64_t marker(struct sl_log *log, struct sl_pstate *ps, int64_t pid, int16_t epoch, int16_t type)
{
    uint8_t *m;
    size_t len;
    CHECK_EQ(sl_batch_build_txn_marker(pid, epoch, type, 0, 1000, &m, &len), 0);
    struct sl_batch_hdr hdr;
    sl_batch_hdr_decode(m, len, &hdr);
    int64_t base;
    CHECK_EQ(sl_log_append(log, m, len, 0, &base), 0);
    sl_pstate_appended(ps, &hdr, m, len, base, sl_clock_wall_ms());
    free(m);
    return base;
}

TEST(duplicates_gaps_and_epochs)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_pstate *ps;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    CHECK_EQ(sl_pstate_open(dir, log, 0, &ps), 0);
    size_t len;
    int64_t base;
    uint8_t *b0 = pbatch(7, 0, 0, 3, false, &len);
    CHECK_EQ(produce(log, ps, b0, len, &base), 0);
    CHECK_EQ(base, 0);
    for (int i = 1; i <= 6; i++) { /* 6 more batches: the first falls out of the 5 kept */
        uint8_t *b = pbatch(7, 0, 3 * i, 3, false, &len);
        CHECK_EQ(produce(log, ps, b, len, &base), 0);
        CHECK_EQ(base, 3 * i);
        free(b);
    }
    uint8_t *b6 = pbatch(7, 0, 18, 3, false, &len);
    CHECK_EQ(produce(log, ps, b6, len, &base), SL_PSTATE_DUPLICATE);
    CHECK_EQ(base, 18);
    uint8_t *b2 = pbatch(7, 0, 6, 3, false, &len);
    CHECK_EQ(produce(log, ps, b2, len, &base), SL_PSTATE_DUPLICATE);
    CHECK_EQ(base, 6);
    CHECK_EQ(produce(log, ps, b0, len, &base), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER); /* too old */
    uint8_t *gap = pbatch(7, 0, 30, 1, false, &len);
    CHECK_EQ(produce(log, ps, gap, len, &base), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    uint8_t *e1 = pbatch(7, 1, 5, 1, false, &len);
    CHECK_EQ(produce(log, ps, e1, len, &base), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER); /* new epoch: seq 0 */
    uint8_t *e1ok = pbatch(7, 1, 0, 1, false, &len);
    CHECK_EQ(produce(log, ps, e1ok, len, &base), 0);
    uint8_t *old = pbatch(7, 0, 21, 1, false, &len);
    CHECK_EQ(produce(log, ps, old, len, &base), SL_KERR_INVALID_PRODUCER_EPOCH);
    uint8_t *unknown = pbatch(99, 3, 42, 1, false, &len); /* KIP-360: any sequence for a new producer */
    CHECK_EQ(produce(log, ps, unknown, len, &base), 0);
    free(b0), free(b6), free(b2), free(gap), free(e1), free(e1ok), free(old), free(unknown);
    sl_pstate_close(ps, true);
    sl_log_close(log);
}

TEST(transactions_move_the_first_unstable_offset_and_index_aborts)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_pstate *ps;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    CHECK_EQ(sl_pstate_open(dir, log, 0, &ps), 0);
    CHECK_EQ(sl_pstate_first_unstable(ps), INT64_MAX);
    size_t len;
    int64_t base;
    uint8_t *t1 = pbatch(1, 0, 0, 2, true, &len);
    CHECK_EQ(produce(log, ps, t1, len, &base), 0); /* 0-1 */
    uint8_t *t2 = pbatch(2, 0, 0, 2, true, &len);
    CHECK_EQ(produce(log, ps, t2, len, &base), 0); /* 2-3 */
    CHECK_EQ(sl_pstate_first_unstable(ps), 0);
    CHECK(sl_pstate_in_txn(ps, 1));
    uint8_t *plain = pbatch(1, 0, 2, 1, false, &len);
    CHECK_EQ(produce(log, ps, plain, len, &base), SL_KERR_INVALID_TXN_STATE);
    CHECK_EQ(marker(log, ps, 1, 0, SL_CONTROL_ABORT), 4);
    CHECK_EQ(sl_pstate_first_unstable(ps), 2);
    CHECK_EQ(marker(log, ps, 2, 0, SL_CONTROL_COMMIT), 5);
    CHECK_EQ(sl_pstate_first_unstable(ps), INT64_MAX);
    struct sl_pstate_aborted ab[4];
    CHECK_EQ(sl_pstate_aborted(ps, 0, 6, ab, 4), 1);
    CHECK_EQ(ab[0].producer_id, 1);
    CHECK_EQ(ab[0].first_offset, 0);
    CHECK_EQ(ab[0].last_offset, 4);
    CHECK_EQ(sl_pstate_aborted(ps, 5, 6, ab, 4), 0);
    /* an open transaction at the crash */
    uint8_t *t3 = pbatch(3, 0, 0, 1, true, &len);
    CHECK_EQ(produce(log, ps, t3, len, &base), 0);
    CHECK_EQ(base, 6);
    /* rebuilt from the log alone (no snapshot: as after kill -9) */
    sl_pstate_close(ps, false);
    CHECK_EQ(sl_pstate_open(dir, log, 0, &ps), 0);
    CHECK_EQ(sl_pstate_first_unstable(ps), 6);
    CHECK_EQ(sl_pstate_aborted(ps, 0, 7, ab, 4), 1);
    CHECK_EQ(ab[0].last_offset, 4);
    int64_t last;
    struct sl_batch_hdr hdr;
    sl_batch_hdr_decode(t2, len, &hdr);
    /* and from a snapshot */
    sl_pstate_close(ps, true);
    glob_t g;
    char pat[400];
    snprintf(pat, sizeof(pat), "%s/*.snapshot", dir);
    CHECK_EQ(glob(pat, 0, NULL, &g), 0);
    CHECK_EQ(g.gl_pathc, 1);
    globfree(&g);
    CHECK_EQ(sl_pstate_open(dir, log, 0, &ps), 0);
    CHECK_EQ(sl_pstate_first_unstable(ps), 6);
    CHECK_EQ(sl_pstate_aborted(ps, 0, 7, ab, 4), 1);
    CHECK_EQ(sl_pstate_check(ps, &hdr, &base, &last), SL_PSTATE_DUPLICATE);
    free(t1), free(t2), free(plain), free(t3);
    sl_pstate_close(ps, false);
    sl_log_close(log);
}

TEST(torn_snapshot_is_ignored)
{
    const char *dir = tmp_log_dir();
    struct sl_log *log;
    struct sl_pstate *ps;
    CHECK_EQ(sl_log_open(dir, NULL, &log), 0);
    CHECK_EQ(sl_pstate_open(dir, log, 0, &ps), 0);
    size_t len;
    int64_t base;
    uint8_t *b = pbatch(5, 0, 0, 2, false, &len);
    CHECK_EQ(produce(log, ps, b, len, &base), 0);
    sl_pstate_close(ps, true);
    char path[400];
    snprintf(path, sizeof(path), "%s/%020d.snapshot", dir, 2);
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK_EQ(pwrite(fd, "\xff", 1, 12), 1);
    close(fd);
    CHECK_EQ(sl_pstate_open(dir, log, 0, &ps), 0); /* falls back to scanning the log */
    CHECK(access(path, F_OK) != 0);
    int64_t last;
    struct sl_batch_hdr hdr;
    sl_batch_hdr_decode(b, len, &hdr);
    CHECK_EQ(sl_pstate_check(ps, &hdr, &base, &last), SL_PSTATE_DUPLICATE);
    CHECK_EQ(base, 0);
    free(b);
    sl_pstate_close(ps, false);
    sl_log_close(log);
}
