/*
 * diag.h - diagnostics: leveled log lines on stderr and assertions that stay
 * on in release builds. "log" in Sluice means the commit log; this is diag.
 *
 * A line reads: 2026-11-24T02:30:00.123Z INFO  net: accepted fd=7 peer=127.0.0.1:5000
 * With log.format=json each line is one JSON object instead.
 */
#ifndef SL_BASE_DIAG_H
#define SL_BASE_DIAG_H

#include <stdbool.h>

enum sl_diag_level {
    SL_DIAG_OFF = -1, /* for sl_diag_set_level only: print nothing (fuzz targets) */
    SL_DIAG_ERROR = 0,
    SL_DIAG_WARN = 1,
    SL_DIAG_INFO = 2,
    SL_DIAG_DEBUG = 3,
    SL_DIAG_TRACE = 4,
};

/* Sets the most verbose level printed. Thread: main, before loops start. */
void sl_diag_set_level(enum sl_diag_level level);
/* Parses "ERROR", "WARN", "INFO", "DEBUG", "TRACE" (any case); -1 if unknown. */
int sl_diag_parse_level(const char *s);
/* Selects JSON lines (true) or text lines (false). */
void sl_diag_set_json(bool json);
bool sl_diag_enabled(enum sl_diag_level level);
/* Writes one line. Thread: any; lines from different threads never interleave. */
void sl_diag_log(enum sl_diag_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SL_ERROR(mod, ...) sl_diag_log(SL_DIAG_ERROR, mod, __VA_ARGS__)
#define SL_WARN(mod, ...) sl_diag_log(SL_DIAG_WARN, mod, __VA_ARGS__)
#define SL_INFO(mod, ...) sl_diag_log(SL_DIAG_INFO, mod, __VA_ARGS__)
#define SL_DEBUG(mod, ...)                                                                         \
    do {                                                                                           \
        if (sl_diag_enabled(SL_DIAG_DEBUG))                                                        \
            sl_diag_log(SL_DIAG_DEBUG, mod, __VA_ARGS__);                                          \
    } while (0)

_Noreturn void sl_diag_assert_fail(const char *expr, const char *file, int line);

/* Always on, also in release builds: a broken invariant stops the process
 * before it can corrupt data. */
#define SL_ASSERT(e) ((e) ? (void)0 : sl_diag_assert_fail(#e, __FILE__, __LINE__))

#endif
