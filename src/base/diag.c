/*
 * diag.c - leveled diagnostics on stderr, one write(2) per line so lines
 * from different threads never interleave.
 */
#include "base/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static enum sl_diag_level diag_level = SL_DIAG_INFO;
static bool diag_json;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

void sl_diag_set_level(enum sl_diag_level level) { diag_level = level; }
void sl_diag_set_json(bool json) { diag_json = json; }
bool sl_diag_enabled(enum sl_diag_level level) { return level <= diag_level; }

int sl_diag_parse_level(const char *s)
{
    for (int i = 0; i <= SL_DIAG_TRACE; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "WARNING") == 0)
        return SL_DIAG_WARN;
    return -1;
}

/* Appends s to out as a JSON string body (no quotes); returns bytes written. */
static size_t json_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    return n;
}

void sl_diag_log(enum sl_diag_level level, const char *module, const char *fmt, ...)
{
    if (!sl_diag_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));

    char line[1400];
    int n;
    if (diag_json) {
        char esc[1200];
        size_t e = json_escape(esc, sizeof(esc), msg);
        n = snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"module\":\"%s\",\"msg\":\"%.*s\"}\n",
                     when, level_names[level], module, (int)e, esc);
    } else {
        n = snprintf(line, sizeof(line), "%s %-5s %s: %s\n", when, level_names[level], module, msg);
    }
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

void sl_diag_assert_fail(const char *expr, const char *file, int line)
{
    sl_diag_log(SL_DIAG_ERROR, "assert", "assertion failed: %s at %s:%d", expr, file, line);
    abort();
}
