/*
 * props.c - Java .properties syntax, as java.util.Properties.load reads it, feeding
 * each key=value to sl_conf_set.
 *
 *   - natural lines end in \n, \r or \r\n; a line ending in an odd number of
 *     backslashes continues on the next, whose leading whitespace is dropped;
 *   - lines whose first non-blank character is # or ! are comments (never continued);
 *   - the key ends at the first unescaped '=', ':' or whitespace; whitespace and one
 *     '=' or ':' separate it from the value;
 *   - escapes: \t \n \r \f, \uXXXX (UTF-8 encoded; surrogate pairs combined), and a
 *     backslash before any other character stands for that character.
 * Bytes are taken as UTF-8 rather than Java's ISO-8859-1, as every config file
 * Sluice will meet is ASCII or UTF-8.
 */
#include "conf/conf.h"

#include "base/diag.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROPS_FILE_MAX (16 << 20) /* largest properties file read, bytes */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\f';
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Reads \uXXXX at s (pointing after "\u"); -1 if malformed. */
static int32_t read_u4(const char *s, const char *end)
{
    if (end - s < 4)
        return -1;
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Unescapes [s, end) into out (at least 4 * (end - s) + 1 bytes: escapes never grow
 * beyond that). -EINVAL on a malformed \uXXXX. */
static int unescape(const char *s, const char *end, char *out)
{
    size_t n = 0;
    while (s < end) {
        char ch = *s++;
        if (ch != '\\' || s == end) {
            out[n++] = ch;
            continue;
        }
        ch = *s++;
        static const char from[] = "tnrf", to[] = "\t\n\r\f";
        const char *m = strchr(from, ch);
        if (ch != '\0' && m) {
            out[n++] = to[m - from];
        } else if (ch == 'u') {
            int32_t cp = read_u4(s, end);
            if (cp < 0)
                return -EINVAL;
            s += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                int32_t lo = read_u4(s + 2, end);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    s += 6;
                }
            }
            n += put_utf8(out + n, (uint32_t)cp);
        } else {
            out[n++] = ch;
        }
    }
    out[n] = '\0';
    return 0;
}

/* Applies one logical line (escapes still in it, continuations joined). */
static int apply_line(struct sl_conf *c, const char *name, int lineno, const char *line, size_t len, char *err,
                      size_t errlen)
{
    size_t key_len = 0, value_start = len;
    bool has_sep = false, preceding_backslash = false;
    while (key_len < len) {
        char ch = line[key_len];
        if ((ch == '=' || ch == ':') && !preceding_backslash) {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if (is_blank(ch) && !preceding_backslash) {
            value_start = key_len + 1;
            break;
        }
        preceding_backslash = ch == '\\' ? !preceding_backslash : false;
        key_len++;
    }
    while (value_start < len) {
        char ch = line[value_start];
        if (!is_blank(ch)) {
            if (!has_sep && (ch == '=' || ch == ':'))
                has_sep = true;
            else
                break;
        }
        value_start++;
    }
    char *key = malloc(4 * key_len + 1);
    char *value = malloc(4 * (len - value_start) + 1);
    int rc = -ENOMEM;
    if (!key || !value) {
        snprintf(err, errlen, "%s:%d: out of memory", name, lineno);
        goto out;
    }
    if (unescape(line, line + key_len, key) < 0 || unescape(line + value_start, line + len, value) < 0) {
        snprintf(err, errlen, "%s:%d: malformed \\uXXXX escape", name, lineno);
        rc = -EINVAL;
        goto out;
    }
    char why[600];
    rc = sl_conf_set(c, key, value, why, sizeof(why));
    if (rc == SL_CONF_UNKNOWN) {
        SL_WARN("conf", "%s:%d: unknown configuration key '%s' ignored", name, lineno, key);
        rc = 0;
    } else if (rc < 0) {
        snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
    }
out:
    free(key);
    free(value);
    return rc;
}

int sl_conf_load_buffer(struct sl_conf *c, const char *name, const char *buf, size_t len, char *err,
                        size_t errlen)
{
    /* The logical line is assembled here; it never exceeds the input's size. */
    char *line = malloc(len + 1);
    if (!line) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    const char *p = buf, *end = buf + len;
    int lineno = 0, rc = 0;
    while (p < end && rc == 0) {
        /* one logical line */
        size_t n = 0;
        int start_line = ++lineno;
        bool first = true, continued;
        do {
            continued = false;
            while (p < end && is_blank(*p))
                p++;
            const char *s = p;
            while (p < end && *p != '\n' && *p != '\r')
                p++;
            const char *e = p;
            if (p < end && *p == '\r') {
                p++;
                if (p < end && *p == '\n')
                    p++;
            } else if (p < end) {
                p++;
            }
            if (first && s < e && (*s == '#' || *s == '!'))
                s = e; /* a comment, never continued */
            size_t backslashes = 0;
            for (const char *q = e; q > s && q[-1] == '\\'; q--)
                backslashes++;
            if (backslashes % 2 == 1) {
                e--;
                continued = true;
            }
            memcpy(line + n, s, (size_t)(e - s));
            n += (size_t)(e - s);
            if (continued && p < end)
                lineno++;
            first = false;
        } while (continued && p < end);
        if (n > 0)
            rc = apply_line(c, name, start_line, line, n, err, errlen);
    }
    free(line);
    return rc;
}

int sl_conf_load_file(struct sl_conf *c, const char *path, char *err, size_t errlen)
{
    int rc;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd == -1 || fstat(fd, &st) == -1)
        goto fail;
    if (st.st_size > PROPS_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, PROPS_FILE_MAX);
        close(fd);
        return -EFBIG;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        errno = ENOMEM;
        goto fail;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1)
            goto fail;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    rc = sl_conf_load_buffer(c, path, buf, got, err, errlen);
    free(buf);
    return rc;
fail:
    rc = -errno;
    snprintf(err, errlen, "cannot read configuration file %s: %s", path, strerror(errno));
    if (fd != -1)
        close(fd);
    free(buf);
    return rc;
}
