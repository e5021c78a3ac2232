/*
 * slice.h - a borrowed view of bytes: pointer and length, never NUL-terminated.
 * A slice never owns its memory; whoever hands one out says how long it lives.
 */
#ifndef SL_BASE_SLICE_H
#define SL_BASE_SLICE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdbool.h>

struct sl_slice {
    const uint8_t *p; /* first byte; NULL for a null (absent) string or bytes */
    size_t len;       /* bytes at p */
};

/* A slice over a C string (borrowed). */
static inline struct sl_slice sl_slice_cstr(const char *s)
{
    struct sl_slice sl = {(const uint8_t *)s, s ? strlen(s) : 0};
    return sl;
}

static inline bool sl_slice_eq(struct sl_slice a, struct sl_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool sl_slice_eq_cstr(struct sl_slice a, const char *s)
{
    return sl_slice_eq(a, sl_slice_cstr(s));
}

/* printf("%.*s", SL_SLICE_FMT(s)) */
#define SL_SLICE_FMT(s) (int)(s).len, (const char *)((s).p ? (s).p : (const uint8_t *)"")

#endif
