/*
 * metalog.c - __cluster_metadata on disk: one record batch per change, each
 * record's value a framed KRaft metadata record (see docs/codec.md), in an
 * ordinary partition log, so recovery and CRC checks are the log's own.
 */
#include "meta/metalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/obuf.h"
#include "proto/gen/meta_records.h"
#include "proto/kp.h"
#include "record/batch.h"
#include "storage/log.h"

/* The quorum epoch written into each batch's partitionLeaderEpoch: a single
 * voter never changes epoch. */
#define METALOG_EPOCH 1
#define METALOG_READ_BYTES (4u << 20)

struct sl_metalog {
    struct sl_log *log;
};

int sl_metalog_open(const char *dir, struct sl_metalog **out)
{
    struct sl_metalog *ml = calloc(1, sizeof(*ml));
    if (!ml)
        return -ENOMEM;
    char path[1200];
    snprintf(path, sizeof(path), "%s/__cluster_metadata-0", dir);
    struct sl_log_conf lc;
    sl_log_conf_default(&lc);
    lc.strict_recovery = true; /* committed metadata is never truncated away, only a torn tail */
    int rc = sl_log_open(path, &lc, &ml->log);
    if (rc < 0) {
        free(ml);
        return rc;
    }
    *out = ml;
    return 0;
}

void sl_metalog_close(struct sl_metalog *ml)
{
    if (!ml)
        return;
    sl_log_close(ml->log);
    free(ml);
}

int64_t sl_metalog_end_offset(const struct sl_metalog *ml) { return sl_log_end_offset(ml->log); }

static int replay_batch(const uint8_t *p, size_t len, sl_metalog_fn fn, void *arg)
{
    struct sl_batch_iter it;
    int rc = sl_batch_iter_init(&it, p, len, 0);
    struct sl_arena arena;
    sl_arena_init(&arena, 0);
    void *storage = NULL;
    if (rc < 0)
        goto out;
    if (sl_batch_is_control(&it.hdr))
        goto out; /* KRaft control records (leader change, snapshots) carry no state here */
    storage = malloc(SL_META_RECORD_STORAGE);
    if (!storage) {
        rc = -ENOMEM;
        goto out;
    }
    struct sl_record rec;
    while ((rc = sl_batch_iter_next(&it, &rec)) == 1) {
        struct sl_kp_reader r = {rec.value.p, rec.value.p + rec.value.len, &arena, NULL};
        int16_t type, version;
        if (!rec.value.p || sl_meta_record_decode(&r, &type, &version, storage) != SL_OK) {
            SL_ERROR("meta", "undecodable metadata record at offset %lld: %s", (long long)rec.offset,
                     r.err ? r.err : "null value");
            rc = -EBADMSG;
            goto out;
        }
        if ((rc = fn(arg, type, version, storage, rec.offset)) < 0) {
            rc = rc == -ENOMEM ? rc : -EBADMSG;
            goto out;
        }
    }
out:
    free(storage);
    sl_arena_fini(&arena);
    sl_batch_iter_fini(&it);
    return rc < 0 ? rc : 0;
}

int sl_metalog_replay(struct sl_metalog *ml, sl_metalog_fn fn, void *arg)
{
    int64_t offset = sl_log_start_offset(ml->log);
    int64_t end = sl_log_end_offset(ml->log);
    uint8_t *buf = NULL;
    int rc = 0;
    while (offset < end) {
        struct sl_obuf ob;
        sl_obuf_init(&ob);
        rc = sl_log_read(ml->log, offset, end, METALOG_READ_BYTES, &ob);
        if (rc < 0 || ob.total_len == 0) {
            sl_obuf_fini(&ob);
            rc = rc < 0 ? rc : -EBADMSG;
            break;
        }
        free(buf);
        buf = malloc(ob.total_len);
        size_t len = ob.total_len;
        rc = buf ? sl_obuf_flatten(&ob, buf) : -ENOMEM;
        sl_obuf_fini(&ob);
        if (rc < 0)
            break;
        size_t pos = 0;
        while (pos + SL_BATCH_HEADER_SIZE <= len) {
            struct sl_batch_hdr hdr;
            sl_batch_hdr_decode(buf + pos, len - pos, &hdr);
            size_t size = sl_batch_size(&hdr);
            if (hdr.batch_length < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD || size > len - pos) {
                rc = -EBADMSG;
                break;
            }
            if (sl_batch_last_offset(&hdr) >= offset) {
                /* After a clean shutdown recovery trusts the files without a CRC
                 * check: a corrupt batch must refuse the start, never be applied. */
                if (sl_batch_compute_crc(buf + pos, size) != hdr.crc) {
                    SL_ERROR("meta", "metadata batch at offset %lld fails its CRC check: corrupt metadata log",
                             (long long)hdr.base_offset);
                    rc = -EBADMSG;
                    break;
                }
                if ((rc = replay_batch(buf + pos, size, fn, arg)) < 0)
                    break;
                offset = sl_batch_last_offset(&hdr) + 1;
            }
            pos += size;
        }
        if (rc < 0)
            break;
        if (pos == 0) {
            rc = -EBADMSG;
            break;
        }
    }
    free(buf);
    return rc;
}

int sl_metalog_append(struct sl_metalog *ml, const struct sl_meta_rec *recs, int n, int64_t *base_offset)
{
    struct sl_batch_build_opts o;
    sl_batch_build_opts_default(&o);
    o.partition_leader_epoch = METALOG_EPOCH;
    struct sl_batch_builder bb;
    sl_batch_builder_init(&bb, &o);
    int64_t now = sl_clock_wall_ms();
    int rc = 0;
    uint8_t *batch = NULL;
    size_t len = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        struct sl_obuf ob;
        sl_obuf_init(&ob);
        rc = sl_meta_record_encode(&ob, recs[i].type, recs[i].version, recs[i].rec);
        uint8_t *val = rc == 0 ? malloc(ob.total_len ? ob.total_len : 1) : NULL;
        if (rc == 0 && !val)
            rc = -ENOMEM;
        if (rc == 0)
            rc = sl_obuf_flatten(&ob, val);
        if (rc == 0)
            rc = sl_batch_builder_add(&bb, now, (struct sl_slice){NULL, 0},
                                      (struct sl_slice){val, ob.total_len}, NULL, 0);
        free(val);
        sl_obuf_fini(&ob);
    }
    if (rc == 0)
        rc = sl_batch_builder_finish(&bb, &batch, &len);
    sl_batch_builder_fini(&bb);
    if (rc == 0)
        rc = sl_log_append(ml->log, batch, len, METALOG_EPOCH, base_offset);
    if (rc == 0 && (rc = sl_log_sync(ml->log)) < 0)
        sl_log_truncate_to(ml->log, *base_offset); /* not durable: not committed */
    free(batch);
    return rc;
}
