/*
 * kp.c - the out-of-line Kafka protocol primitives (see kp.h): skipping a
 * tagged field section and writing a records field, which may move a chain
 * of file ranges into the output instead of copying bytes.
 */
#include "proto/kp.h"

int sl_kp_skip_tags(struct sl_kp_reader *r)
{
    uint32_t count;
    if (sl_kp_read_uvarint32(r, &count) < 0)
        return SL_EFRAME;
    /* Each tagged field takes at least two bytes (tag and size). */
    if ((uint64_t)count * 2 > sl_kp_left(r))
        return sl_kp_fail(r, "tagged field count beyond the bytes left");
    int64_t prev = -1;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t tag, size;
        if (sl_kp_read_tag(r, &tag, &size) < 0)
            return SL_EFRAME;
        /* KIP-482: tags appear in ascending order, each at most once. */
        if ((int64_t)tag <= prev)
            return sl_kp_fail(r, "tagged fields duplicate or out of order");
        prev = tag;
        r->p += size;
    }
    return SL_OK;
}

int sl_kp_write_records(struct sl_obuf *b, bool compact, bool nullable,
                        const struct sl_records *rec)
{
    if (!rec->chain)
        return sl_kp_write_bytes(b, compact, nullable, rec->mem);
    int rc = sl_kp_write_len(b, compact, true, (int32_t)rec->chain->total_len);
    if (rc < 0)
        return rc;
    sl_obuf_move(b, rec->chain);
    return 0;
}

int sl_kp_write_tagged(struct sl_obuf *b, uint32_t tag,
                       int (*write)(struct sl_obuf *b, int16_t version, const void *m),
                       int16_t version, const void *m)
{
    struct sl_obuf tmp;
    sl_obuf_init(&tmp);
    int rc = write(&tmp, version, m);
    if (rc == 0)
        rc = sl_kp_write_uvarint32(b, tag);
    if (rc == 0)
        rc = sl_kp_write_uvarint64(b, tmp.total_len);
    if (rc < 0) {
        sl_obuf_fini(&tmp);
        return rc;
    }
    sl_obuf_move(b, &tmp);
    return 0;
}
