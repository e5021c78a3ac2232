/*
 * checkpoint.c - atomic text checkpoint files in Kafka's formats (see the
 * header). Readers reject anything but version 0 and a matching count.
 */
#include "storage/checkpoint.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sl_ckpt_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    int rc = fsync(fd) == -1 ? -errno : 0;
    close(fd);
    return rc;
}

int sl_ckpt_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    int fd = -1, rc;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof(dir), ".");
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
        goto fail;
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        done += (size_t)n;
    }
    if (fsync(fd) == -1)
        goto fail;
    if (close(fd) == -1) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) == -1)
        goto fail;
    return sl_ckpt_fsync_dir(dir);
fail:
    rc = -errno;
    if (fd != -1)
        close(fd);
    unlink(tmp);
    return rc;
}

/* Reads a whole small file into a NUL-terminated malloc'd string. */
static int slurp(const char *path, char **out)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len < cap - 1)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    if (!buf)
        return -ENOMEM;
    buf[len] = 0;
    *out = buf;
    return 0;
}

/* A growable text buffer. */
struct tbuf {
    char *p;
    size_t len, cap;
    int err;
};

__attribute__((format(printf, 2, 3))) static void tprintf(struct tbuf *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->err = -EINVAL;
            return;
        }
        if (t->p && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *np = realloc(t->p, cap);
        if (!np) {
            t->err = -ENOMEM;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
}

static int tbuf_write(struct tbuf *t, const char *path)
{
    int rc = t->err ? t->err : sl_ckpt_write_atomic(path, t->p, t->len);
    free(t->p);
    return rc;
}

int sl_ckpt_offsets_write(const char *path, const struct sl_ckpt_offset *e, size_t n)
{
    struct tbuf t = {0};
    tprintf(&t, "0\n%zu\n", n);
    for (size_t i = 0; i < n; i++)
        tprintf(&t, "%s %" PRId32 " %" PRId64 "\n", e[i].topic, e[i].partition, e[i].offset);
    return tbuf_write(&t, path);
}

/* Parses "0\n<count>\n" and returns the position after it; NULL if malformed. */
static char *parse_head(char *s, size_t *count)
{
    char *end;
    if (strncmp(s, "0\n", 2) != 0)
        return NULL;
    s += 2;
    unsigned long long c = strtoull(s, &end, 10);
    if (end == s || *end != '\n' || c > 10000000)
        return NULL;
    *count = (size_t)c;
    return end + 1;
}

int sl_ckpt_offsets_read(const char *path, struct sl_ckpt_offset **out, size_t *n)
{
    char *buf, *s;
    size_t count;
    int rc = slurp(path, &buf);
    if (rc < 0)
        return rc;
    struct sl_ckpt_offset *e = NULL;
    rc = -EBADMSG;
    if (!(s = parse_head(buf, &count)))
        goto out;
    if (count && !(e = calloc(count, sizeof(*e)))) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        char *nl = strchr(s, '\n');
        if (!nl)
            goto out;
        *nl = 0;
        char *sp2 = strrchr(s, ' ');
        if (!sp2)
            goto out;
        *sp2 = 0;
        char *sp1 = strrchr(s, ' ');
        if (!sp1 || (size_t)(sp1 - s) >= sizeof(e[i].topic) || sp1 == s)
            goto out;
        *sp1 = 0;
        char *end;
        memcpy(e[i].topic, s, (size_t)(sp1 - s) + 1);
        long p = strtol(sp1 + 1, &end, 10);
        if (*end || p < 0 || p > INT32_MAX)
            goto out;
        e[i].partition = (int32_t)p;
        long long off = strtoll(sp2 + 1, &end, 10);
        if (*end || end == sp2 + 1)
            goto out;
        e[i].offset = off;
        s = nl + 1;
    }
    *out = e;
    *n = count;
    e = NULL;
    rc = 0;
out:
    free(e);
    free(buf);
    return rc;
}

int sl_ckpt_epochs_write(const char *path, const struct sl_epoch_entry *e, size_t n)
{
    struct tbuf t = {0};
    tprintf(&t, "0\n%zu\n", n);
    for (size_t i = 0; i < n; i++)
        tprintf(&t, "%" PRId32 " %" PRId64 "\n", e[i].epoch, e[i].start_offset);
    return tbuf_write(&t, path);
}

int sl_ckpt_epochs_read(const char *path, struct sl_epoch_entry **out, size_t *n)
{
    char *buf, *s;
    size_t count;
    int rc = slurp(path, &buf);
    if (rc < 0)
        return rc;
    struct sl_epoch_entry *e = NULL;
    rc = -EBADMSG;
    if (!(s = parse_head(buf, &count)))
        goto out;
    if (count && !(e = calloc(count, sizeof(*e)))) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        char *end;
        long ep = strtol(s, &end, 10);
        if (end == s || *end != ' ' || ep < 0 || ep > INT32_MAX)
            goto out;
        s = end + 1;
        long long off = strtoll(s, &end, 10);
        if (end == s || *end != '\n' || off < 0)
            goto out;
        e[i].epoch = (int32_t)ep;
        e[i].start_offset = off;
        s = end + 1;
    }
    *out = e;
    *n = count;
    e = NULL;
    rc = 0;
out:
    free(e);
    free(buf);
    return rc;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sl_ckpt_partition_metadata_write(const char *dir, const uint8_t topic_id[16])
{
    char id[23], path[PATH_MAX], text[64];
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (int i = 0; i < 16; i++) {
        acc = (acc << 8) | topic_id[i];
        bits += 8;
        while (bits >= 6) {
            id[o++] = b64url[(acc >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    id[o++] = b64url[(acc << (6 - bits)) & 63]; /* 128 = 21*6 + 2 */
    id[o] = 0;
    snprintf(path, sizeof(path), "%s/partition.metadata", dir);
    int n = snprintf(text, sizeof(text), "version: 0\ntopic_id: %s\n", id);
    return sl_ckpt_write_atomic(path, text, (size_t)n);
}

int sl_ckpt_partition_metadata_read(const char *dir, uint8_t topic_id[16])
{
    char path[PATH_MAX], *buf;
    snprintf(path, sizeof(path), "%s/partition.metadata", dir);
    int rc = slurp(path, &buf);
    if (rc < 0)
        return rc;
    rc = -EBADMSG;
    const char *s = strstr(buf, "topic_id: ");
    if (strncmp(buf, "version: 0\n", 11) != 0 || !s)
        goto out;
    s += 10;
    uint32_t acc = 0;
    int bits = 0, o = 0;
    for (int i = 0; i < 22; i++) {
        const char *c = s[i] ? strchr(b64url, s[i]) : NULL;
        if (!c)
            goto out;
        acc = (acc << 6) | (uint32_t)(c - b64url);
        bits += 6;
        if (bits >= 8 && o < 16) {
            topic_id[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    rc = o == 16 ? 0 : -EBADMSG;
out:
    free(buf);
    return rc;
}
