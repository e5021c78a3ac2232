/*
 * verify.c - CRC checks of log bytes on their first read.
 *
 * A segment opened after a clean shutdown, or lying below the recovery
 * point, is trusted without a scan (as in Kafka), so opening a large log
 * costs nothing. Fetch serves batches zero-copy and does not look at them;
 * without a check, a byte flipped on disk while the broker was stopped would
 * reach consumers. So the bytes this process did not write itself (below the
 * segment's trusted_from) are CRC-checked before they are first served, and
 * each checked range is remembered; bytes appended by this process were
 * validated on append and are never read twice. A corrupt batch is never
 * served: the read stops before it, and a read that starts at it fails with
 * -EBADMSG (Fetch answers CORRUPT_MESSAGE for that partition).
 */
#include "storage/segment.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/diag.h"
#include "record/batch.h"

#define VERIFY_CHUNK (64 * 1024)

/* Whether [lo, hi) lies inside one remembered range; else moves *lo past a
 * range that covers it. Caller holds verify_mu. */
static bool covered(const struct sl_seg *seg, uint64_t *lo, uint64_t hi)
{
    for (int i = 0; i < seg->verified_n; i++) {
        if (seg->verified[i].lo <= *lo && *lo < seg->verified[i].hi) {
            if (hi <= seg->verified[i].hi)
                return true;
            *lo = seg->verified[i].hi;
            i = -1; /* ranges are disjoint but unordered: look again from the new start */
        }
    }
    return false;
}

/* Remembers [lo, hi), merged with the ranges it touches; when the table is
 * full the shortest range is forgotten (it is checked again if read again).
 * Caller holds verify_mu. */
static void remember(struct sl_seg *seg, uint64_t lo, uint64_t hi)
{
    int n = 0;
    for (int i = 0; i < seg->verified_n; i++) {
        if (seg->verified[i].hi >= lo && seg->verified[i].lo <= hi) {
            if (seg->verified[i].lo < lo)
                lo = seg->verified[i].lo;
            if (seg->verified[i].hi > hi)
                hi = seg->verified[i].hi;
        } else {
            seg->verified[n++] = seg->verified[i];
        }
    }
    if (n == SL_SEG_VERIFIED_MAX) {
        int shortest = 0;
        for (int i = 1; i < n; i++)
            if (seg->verified[i].hi - seg->verified[i].lo <
                seg->verified[shortest].hi - seg->verified[shortest].lo)
                shortest = i;
        seg->verified[shortest] = seg->verified[--n];
    }
    seg->verified[n].lo = lo;
    seg->verified[n].hi = hi;
    seg->verified_n = n + 1;
}

/* CRC of bytes [pos, pos + len) of the segment's .log. 0 or -errno. */
static int crc_range(const struct sl_seg *seg, uint64_t pos, size_t len, uint32_t *crc)
{
    uint8_t buf[VERIFY_CHUNK];
    uint32_t c = 0;
    while (len > 0) {
        size_t want = len < sizeof(buf) ? len : sizeof(buf);
        ssize_t n = pread(seg->log_fd, buf, want, (off_t)pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        c = sl_crc32c(c, buf, (size_t)n);
        pos += (uint64_t)n;
        len -= (size_t)n;
    }
    *crc = c;
    return 0;
}

/* 0 when the batch at pos is whole and its CRC matches (*size set), 1 when
 * it is corrupt, -errno on a read error. */
static int check_batch(const struct sl_seg *seg, uint64_t pos, uint64_t limit, size_t *size)
{
    struct sl_batch_hdr h;
    int rc = sl_seg_read_hdr(seg, pos, limit, &h);
    if (rc == -EBADMSG)
        return 1;
    if (rc < 0)
        return rc;
    *size = sl_batch_size(&h);
    uint32_t crc;
    if ((rc = crc_range(seg, pos + SL_BATCH_OFF_ATTRIBUTES, *size - SL_BATCH_OFF_ATTRIBUTES, &crc)) < 0)
        return rc;
    return crc == h.crc ? 0 : 1;
}

int sl_seg_verify(struct sl_seg *seg, uint64_t start, uint64_t *stop)
{
    uint64_t trusted = atomic_load_explicit(&seg->trusted_from, memory_order_acquire);
    if (start >= trusted)
        return 0;
    uint64_t end = *stop < trusted ? *stop : trusted, from = start;
    pthread_mutex_lock(&seg->verify_mu);
    bool done = covered(seg, &from, end);
    pthread_mutex_unlock(&seg->verify_mu);
    if (done || from >= end)
        return 0;

    uint64_t limit = atomic_load_explicit(&seg->size, memory_order_acquire), pos = from;
    int rc = 0;
    while (pos < end) {
        size_t size = 0;
        if ((rc = check_batch(seg, pos, limit, &size)) != 0)
            break;
        pos += size;
    }
    if (pos > from) {
        pthread_mutex_lock(&seg->verify_mu);
        remember(seg, from, pos);
        pthread_mutex_unlock(&seg->verify_mu);
    }
    if (rc < 0)
        return rc;
    if (rc == 1) {
        uint64_t was = atomic_exchange(&seg->bad_logged, pos + 1);
        if (was != pos + 1)
            SL_ERROR("storage", "%s.log%s: the batch at position %" PRIu64 " fails its CRC check; it is "
                     "not served (reads stop before it)", seg->path, seg->suffix, pos);
        if (pos == start)
            return -EBADMSG;
        *stop = pos;
    }
    return 0;
}

void sl_seg_verify_truncate(struct sl_seg *seg, uint64_t pos)
{
    if (atomic_load(&seg->trusted_from) > pos)
        atomic_store(&seg->trusted_from, pos);
    pthread_mutex_lock(&seg->verify_mu);
    int n = 0;
    for (int i = 0; i < seg->verified_n; i++) {
        if (seg->verified[i].lo >= pos)
            continue;
        seg->verified[n] = seg->verified[i];
        if (seg->verified[n].hi > pos)
            seg->verified[n].hi = pos;
        n++;
    }
    seg->verified_n = n;
    pthread_mutex_unlock(&seg->verify_mu);
}
