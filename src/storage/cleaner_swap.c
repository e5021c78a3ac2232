/*
 * cleaner_swap.c - putting a cleaned segment in place of the segments it
 * was made from, crash-safe at every step, and finishing or rolling back an
 * interrupted swap when a log is opened (Kafka's replaceSegments and the
 * swap-file handling of its LogLoader). See cleaner.h for the sequence.
 *
 * On disk, at any instant one of these holds for a group based at B:
 *   a. old segments live, maybe B.*.cleaned        -> recovery deletes .cleaned
 *   b. B.log.swap complete (synced before the rename), old segments live or
 *      already renamed .deleted                    -> recovery deletes old
 *      segments inside [B, end of swap) and renames the swap into place
 *   c. new B.log in place, maybe .deleted leftovers -> recovery deletes them
 * In memory the old segments stay in the list (readable through their open
 * fds whatever their names) until the new one is in place, then they leave
 * it under segs_lock; fetches holding them keep reading until released.
 */
#include "storage/cleaner.h"

#include "base/diag.h"
#include "record/batch.h"
#include "storage/log_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sl_clean_test_crash_at;

static void crash_point(int at)
{
    if (sl_clean_test_crash_at == at)
        _exit(0);
}

int sl_log_swap_cleaned(struct sl_log *log, struct sl_seg *cs, struct sl_seg **olds, size_t k,
                        pthread_mutex_t *writer_lock)
{
    int rc = 0;
    crash_point(1);
    if (writer_lock)
        pthread_mutex_lock(writer_lock);
    /* Still there, consecutive, and not the active segment? */
    size_t j = 0;
    bool ok = false;
    pthread_mutex_lock(&log->segs_lock);
    for (; j < log->nsegs; j++)
        if (log->segs[j] == olds[0])
            break;
    if (j + k < log->nsegs) {
        ok = true;
        for (size_t i = 0; i < k; i++)
            ok = ok && log->segs[j + i] == olds[i];
    }
    pthread_mutex_unlock(&log->segs_lock);
    if (!ok) {
        rc = -ECANCELED;
        goto abort;
    }
    if ((rc = sl_seg_rename_suffix(cs, ".swap")) < 0 || (rc = sl_ckpt_fsync_dir(log->dir)) < 0)
        goto abort;
    crash_point(2);
    /* Past the commit point: from here on, go forward (a restart would too). */
    for (size_t i = 0; i < k; i++) {
        if ((rc = sl_seg_rename_suffix(olds[i], ".deleted")) < 0)
            goto stuck;
        crash_point(3);
    }
    crash_point(4);
    if ((rc = sl_seg_rename_suffix(cs, "")) < 0)
        goto stuck;
    crash_point(5);
    if ((rc = sl_ckpt_fsync_dir(log->dir)) < 0)
        goto stuck;
    pthread_mutex_lock(&log->segs_lock);
    log->segs[j] = cs;
    memmove(log->segs + j + 1, log->segs + j + k, (log->nsegs - j - k) * sizeof(*log->segs));
    log->nsegs -= k - 1;
    pthread_mutex_unlock(&log->segs_lock);
    if (writer_lock)
        pthread_mutex_unlock(writer_lock);
    for (size_t i = 0; i < k; i++) {
        sl_seg_unlink(olds[i]);     /* the .deleted files */
        sl_seg_release(olds[i]);    /* the log's reference */
        sl_seg_release(olds[i]);    /* the cleaner's */
    }
    sl_ckpt_fsync_dir(log->dir);
    return 0;
stuck:
    /* A rename failed after the commit point. The files say "finish the
     * swap", which the next open does; until then the old segments stay in
     * the list and readable through their fds. */
    SL_ERROR("storage", "%s: cleaner swap at %" PRId64 " failed (%s); completed at next open",
             log->dir, cs->base_offset, strerror(-rc));
    if (writer_lock)
        pthread_mutex_unlock(writer_lock);
    sl_seg_release(cs);
    for (size_t i = 0; i < k; i++)
        sl_seg_release(olds[i]);
    return rc;
abort:
    if (writer_lock)
        pthread_mutex_unlock(writer_lock);
    sl_seg_unlink(cs);
    sl_seg_release(cs);
    for (size_t i = 0; i < k; i++)
        sl_seg_release(olds[i]);
    return rc;
}

/* ---- recovery ---- */

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* "<20 digits><rest>" -> base offset; -1 when not shaped so. */
static int64_t name_base(const char *name, const char *rest)
{
    if (strspn(name, "0123456789") != 20 || strcmp(name + 20, rest) != 0)
        return -1;
    return strtoll(name, NULL, 10);
}

/* Next offset of a .log.swap file: after its last whole batch. */
static int64_t swap_next_offset(const char *path, int64_t base)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return base;
    int64_t next = base;
    off_t pos = 0;
    for (;;) {
        uint8_t buf[SL_BATCH_HEADER_SIZE];
        struct sl_batch_hdr h;
        if (pread(fd, buf, sizeof(buf), pos) != (ssize_t)sizeof(buf) ||
            sl_batch_hdr_decode(buf, sizeof(buf), &h) < 0 || h.magic != SL_BATCH_MAGIC ||
            h.batch_length < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD)
            break;
        next = sl_batch_last_offset(&h) + 1;
        pos += (off_t)sl_batch_size(&h);
    }
    close(fd);
    return next;
}

static void unlink_in(const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (unlink(path) == -1 && errno != ENOENT)
        SL_WARN("storage", "unlink %s: %s", path, strerror(errno));
}

static int list_names(const char *dir, char ***out, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 32;
            char **nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                rc = -ENOMEM;
                break;
            }
            v = nv;
        }
        if (!(v[cnt] = strdup(de->d_name))) {
            rc = -ENOMEM;
            break;
        }
        cnt++;
    }
    closedir(d);
    *out = v;
    *n = cnt;
    return rc;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int sl_log_finish_swaps(const char *dir)
{
    char **names = NULL;
    size_t n = 0;
    int rc = list_names(dir, &names, &n);
    if (rc < 0) {
        free_names(names, n);
        return rc;
    }
    bool changed = false;
    /* Roll back unfinished cleanings; drop what finished swaps left behind. */
    for (size_t i = 0; i < n; i++)
        if (has_suffix(names[i], ".cleaned") || has_suffix(names[i], ".deleted")) {
            unlink_in(dir, names[i]);
            changed = true;
        }
    /* Finish every committed swap. */
    for (size_t i = 0; i < n; i++) {
        int64_t base = name_base(names[i], ".log.swap");
        if (base < 0)
            continue;
        char path[PATH_MAX], to[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        int64_t next = swap_next_offset(path, base);
        for (size_t k = 0; k < n; k++) {
            int64_t b = name_base(names[k], ".log");
            if (b < 0 || b < base || (b != base && b >= next))
                continue;
            char stem[32];
            snprintf(stem, sizeof(stem), "%020" PRId64, b);
            static const char *exts[] = {".log", ".index", ".timeindex"};
            for (int e = 0; e < 3; e++) {
                char nm[64];
                snprintf(nm, sizeof(nm), "%s%s", stem, exts[e]);
                unlink_in(dir, nm);
            }
        }
        static const char *idx[] = {".index", ".timeindex"};
        for (int e = 0; e < 2; e++) {
            snprintf(path, sizeof(path), "%s/%020" PRId64 "%s.swap", dir, base, idx[e]);
            snprintf(to, sizeof(to), "%s/%020" PRId64 "%s", dir, base, idx[e]);
            if (rename(path, to) == -1 && errno != ENOENT)
                SL_WARN("storage", "rename %s: %s", path, strerror(errno));
        }
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        snprintf(to, sizeof(to), "%s/%020" PRId64 ".log", dir, base);
        if (rename(path, to) == -1) {
            rc = -errno;
            SL_ERROR("storage", "rename %s: %s", path, strerror(errno));
            break;
        }
        SL_WARN("storage", "%s: completed an interrupted cleaner swap at %" PRId64, dir, base);
        changed = true;
    }
    /* Index .swap files without their .log.swap are strays. */
    for (size_t i = 0; i < n && rc == 0; i++)
        if (has_suffix(names[i], ".index.swap") || has_suffix(names[i], ".timeindex.swap")) {
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
            if (access(path, F_OK) == 0) {
                unlink(path);
                changed = true;
            }
        }
    free_names(names, n);
    if (rc == 0 && changed)
        rc = sl_ckpt_fsync_dir(dir);
    return rc < 0 ? rc : changed;
}
