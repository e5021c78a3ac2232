/* storage_util.h - helpers shared by the storage tests: temp dirs, batches,
 * flattening reads. Header-only so each test binary stays one .c file. */
#ifndef SL_TEST_STORAGE_UTIL_H
#define SL_TEST_STORAGE_UTIL_H

#include "testlib.h"

#include "base/obuf.h"
#include "record/batch.h"
#include "storage/log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char test_dir[256];

/* A fresh partition directory under /tmp. */
static inline const char *tmp_log_dir(void)
{
    char base[] = "/tmp/sl-log-XXXXXX";
    CHECK(mkdtemp(base) != NULL);
    snprintf(test_dir, sizeof(test_dir), "%s/topic-0", base);
    return test_dir;
}

/* A batch of n records with values of vsize bytes and timestamp ts. */
static inline uint8_t *mk_batch(int n, int64_t ts, size_t vsize, size_t *len)
{
    struct sl_batch_builder b;
    sl_batch_builder_init(&b, NULL);
    uint8_t *val = malloc(vsize + 1);
    memset(val, 'v', vsize);
    for (int i = 0; i < n; i++)
        CHECK_EQ(sl_batch_builder_add(&b, ts, sl_slice_cstr("k"), (struct sl_slice){val, vsize},
                                      NULL, 0), 0);
    uint8_t *out;
    CHECK_EQ(sl_batch_builder_finish(&b, &out, len), 0);
    sl_batch_builder_fini(&b);
    free(val);
    return out;
}

static inline int64_t append_n(struct sl_log *log, int n, int64_t ts, size_t vsize)
{
    size_t len;
    uint8_t *p = mk_batch(n, ts, vsize, &len);
    int64_t base;
    CHECK_EQ(sl_log_append(log, p, len, 0, &base), 0);
    free(p);
    return base;
}

/* Reads and flattens; returns malloc'd bytes (or NULL if empty). */
static inline uint8_t *read_flat(struct sl_log *log, int64_t off, int64_t max_off, size_t max_bytes,
                          size_t *len, int *rc)
{
    struct sl_obuf ob;
    sl_obuf_init(&ob);
    *rc = sl_log_read(log, off, max_off, max_bytes, &ob);
    *len = ob.total_len;
    uint8_t *p = NULL;
    if (*len) {
        p = malloc(*len);
        CHECK_EQ(sl_obuf_flatten(&ob, p), 0);
    }
    sl_obuf_fini(&ob);
    return p;
}

/* Walks flattened batches: checks each CRC and that offsets run on from
 * `first`; returns the offset after the last batch. */
static inline int64_t check_batches(const uint8_t *p, size_t len, int64_t first, int *nbatches)
{
    size_t pos = 0;
    int64_t next = first;
    *nbatches = 0;
    while (pos < len) {
        struct sl_batch_hdr h;
        CHECK_EQ(sl_batch_hdr_decode(p + pos, len - pos, &h), 0);
        CHECK(pos + sl_batch_size(&h) <= len);
        CHECK_EQ(sl_batch_compute_crc(p + pos, sl_batch_size(&h)), h.crc);
        if (*nbatches == 0)
            CHECK(h.base_offset <= first && sl_batch_last_offset(&h) >= first);
        else
            CHECK_EQ(h.base_offset, next);
        next = sl_batch_last_offset(&h) + 1;
        pos += sl_batch_size(&h);
        (*nbatches)++;
    }
    return next;
}

static inline off_t fsize(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static inline struct sl_log_conf small_conf(void)
{
    struct sl_log_conf c;
    sl_log_conf_default(&c);
    c.segment_bytes = 64 << 10;
    c.segment_index_bytes = 4096;
    c.index_interval_bytes = 1024;
    return c;
}

#endif
