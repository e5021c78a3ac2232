/*
 * kp.h - Kafka protocol primitives: bounds-checked readers over a request
 * buffer and writers onto an output chain. The generated codec in
 * src/proto/gen/ is made of calls to these; hand-written code (record batch
 * framing, metadata record framing, the network layer) uses them too.
 *
 * Readers: every function checks the bytes left before it reads, never
 * trusts a length, and on failure sets r->err to a static string and returns
 * SL_EFRAME; r->p is unspecified after a failure. Strings, bytes and records
 * are slices into the buffer being read, never copied. Arrays are allocated
 * by the generated code in r->arena after sl_kp_read_array_len() has checked
 * count * min_elem_size <= bytes left.
 *
 * Writers append to a struct sl_obuf and return 0 or -ENOMEM.
 *
 * Wire formats (Kafka protocol guide, "Protocol Primitive Types"):
 *   classic string   int16 length (-1 = null) + bytes
 *   classic bytes    int32 length (-1 = null) + bytes
 *   classic array    int32 count (-1 = null) + elements
 *   compact *        unsigned varint (length + 1), 0 = null
 *   tagged fields    uvarint count, then per field: uvarint tag, uvarint size, data
 *
 * Thread: any; a reader or obuf is used by one thread at a time.
 */
#ifndef SL_PROTO_KP_H
#define SL_PROTO_KP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "base/obuf.h"
#include "base/slice.h"

enum { SL_OK = 0, SL_AGAIN = 1, SL_EFRAME = -1 }; /* decoder results */

struct sl_uuid {
    uint8_t b[16]; /* big-endian bytes as on the wire; all zero = Uuid.ZERO_UUID */
};

struct sl_records { /* a "records" field */
    struct sl_slice mem;   /* decode: slice into the request buffer (p==NULL: null).
                              encode: bytes to copy when chain is NULL */
    struct sl_obuf *chain; /* encode only: when non-NULL, its pieces (possibly file
                              ranges) are MOVED into the output after the length prefix
                              (chain->total_len bytes); the chain is left empty */
};

struct sl_kp_reader {
    const uint8_t *p, *end;  /* unread bytes */
    struct sl_arena *arena;  /* arrays are allocated here */
    const char *err;         /* why decoding failed (static string), for the log line */
};

/* Starts reading len bytes at p; arrays go to arena (borrowed). */
static inline void sl_kp_reader_init(struct sl_kp_reader *r, const void *p, size_t len,
                                     struct sl_arena *arena)
{
    r->p = (const uint8_t *)p;
    r->end = r->p + len;
    r->arena = arena;
    r->err = NULL;
}

static inline size_t sl_kp_left(const struct sl_kp_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Records why decoding failed; always returns SL_EFRAME. */
static inline int sl_kp_fail(struct sl_kp_reader *r, const char *why)
{
    r->err = why;
    return SL_EFRAME;
}

/* ---- fixed-width readers (big-endian) ---- */

static inline int sl_kp_read_u8(struct sl_kp_reader *r, uint8_t *v)
{
    if (r->p >= r->end)
        return sl_kp_fail(r, "truncated int8");
    *v = *r->p++;
    return SL_OK;
}

static inline int sl_kp_read_i8(struct sl_kp_reader *r, int8_t *v)
{
    uint8_t u;
    if (sl_kp_read_u8(r, &u) < 0)
        return SL_EFRAME;
    *v = (int8_t)u;
    return SL_OK;
}

static inline int sl_kp_read_bool(struct sl_kp_reader *r, bool *v)
{
    uint8_t u;
    if (sl_kp_read_u8(r, &u) < 0)
        return SL_EFRAME;
    *v = u != 0;
    return SL_OK;
}

static inline int sl_kp_read_u16(struct sl_kp_reader *r, uint16_t *v)
{
    if (sl_kp_left(r) < 2)
        return sl_kp_fail(r, "truncated int16");
    *v = (uint16_t)((uint16_t)r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return SL_OK;
}

static inline int sl_kp_read_i16(struct sl_kp_reader *r, int16_t *v)
{
    uint16_t u;
    if (sl_kp_read_u16(r, &u) < 0)
        return SL_EFRAME;
    *v = (int16_t)u;
    return SL_OK;
}

static inline int sl_kp_read_u32(struct sl_kp_reader *r, uint32_t *v)
{
    if (sl_kp_left(r) < 4)
        return sl_kp_fail(r, "truncated int32");
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    return SL_OK;
}

static inline int sl_kp_read_i32(struct sl_kp_reader *r, int32_t *v)
{
    uint32_t u;
    if (sl_kp_read_u32(r, &u) < 0)
        return SL_EFRAME;
    *v = (int32_t)u;
    return SL_OK;
}

static inline int sl_kp_read_u64(struct sl_kp_reader *r, uint64_t *v)
{
    if (sl_kp_left(r) < 8)
        return sl_kp_fail(r, "truncated int64");
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | r->p[i];
    r->p += 8;
    *v = u;
    return SL_OK;
}

static inline int sl_kp_read_i64(struct sl_kp_reader *r, int64_t *v)
{
    uint64_t u;
    if (sl_kp_read_u64(r, &u) < 0)
        return SL_EFRAME;
    *v = (int64_t)u;
    return SL_OK;
}

static inline int sl_kp_read_f64(struct sl_kp_reader *r, double *v)
{
    uint64_t u;
    if (sl_kp_read_u64(r, &u) < 0)
        return SL_EFRAME;
    memcpy(v, &u, sizeof(*v));
    return SL_OK;
}

static inline int sl_kp_read_uuid(struct sl_kp_reader *r, struct sl_uuid *v)
{
    if (sl_kp_left(r) < 16)
        return sl_kp_fail(r, "truncated uuid");
    memcpy(v->b, r->p, 16);
    r->p += 16;
    return SL_OK;
}

/* ---- varints (protobuf style; signed ones zigzag-encoded) ---- */

/* At most 5 bytes, as Kafka's ByteUtils.readUnsignedVarint. */
static inline int sl_kp_read_uvarint32(struct sl_kp_reader *r, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < 5; i++) {
        if (r->p >= r->end)
            return sl_kp_fail(r, "truncated varint");
        uint8_t c = *r->p++;
        x |= (uint32_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            *v = x;
            return SL_OK;
        }
    }
    return sl_kp_fail(r, "varint longer than 5 bytes");
}

/* At most 10 bytes, as Kafka's ByteUtils.readUnsignedVarlong. */
static inline int sl_kp_read_uvarint64(struct sl_kp_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (r->p >= r->end)
            return sl_kp_fail(r, "truncated varlong");
        uint8_t c = *r->p++;
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            *v = x;
            return SL_OK;
        }
    }
    return sl_kp_fail(r, "varlong longer than 10 bytes");
}

static inline int sl_kp_read_varint32(struct sl_kp_reader *r, int32_t *v)
{
    uint32_t u;
    if (sl_kp_read_uvarint32(r, &u) < 0)
        return SL_EFRAME;
    *v = (int32_t)((u >> 1) ^ (~(u & 1) + 1));
    return SL_OK;
}

static inline int sl_kp_read_varint64(struct sl_kp_reader *r, int64_t *v)
{
    uint64_t u;
    if (sl_kp_read_uvarint64(r, &u) < 0)
        return SL_EFRAME;
    *v = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
    return SL_OK;
}

/* ---- lengths, strings, bytes, arrays ---- */

/* Reads a string/bytes/array length: classic int16 (string) or int32, or a
 * compact uvarint (length+1). *len is -1 for null. Fails on lengths < -1 and
 * on null when !nullable. Does not check the bytes left. */
static inline int sl_kp_read_len(struct sl_kp_reader *r, bool compact, bool wide, bool nullable,
                                 int32_t *len)
{
    int32_t n;
    if (compact) {
        uint32_t u;
        if (sl_kp_read_uvarint32(r, &u) < 0)
            return SL_EFRAME;
        if (u > (uint32_t)INT32_MAX)
            return sl_kp_fail(r, "compact length too large");
        n = (int32_t)u - 1;
    } else if (wide) {
        if (sl_kp_read_i32(r, &n) < 0)
            return SL_EFRAME;
    } else {
        int16_t s;
        if (sl_kp_read_i16(r, &s) < 0)
            return SL_EFRAME;
        n = s;
    }
    if (n < -1)
        return sl_kp_fail(r, "negative length");
    if (n == -1 && !nullable)
        return sl_kp_fail(r, "null in a non-nullable field");
    *len = n;
    return SL_OK;
}

static inline int sl_kp_read_blob(struct sl_kp_reader *r, bool compact, bool wide, bool nullable,
                                  struct sl_slice *out)
{
    int32_t n;
    if (sl_kp_read_len(r, compact, wide, nullable, &n) < 0)
        return SL_EFRAME;
    if (n < 0) {
        out->p = NULL;
        out->len = 0;
        return SL_OK;
    }
    if ((size_t)n > sl_kp_left(r))
        return sl_kp_fail(r, "length beyond the bytes left");
    out->p = r->p;
    out->len = (size_t)n;
    r->p += n;
    return SL_OK;
}

/* A string: classic int16 length or compact. p == NULL for null. */
static inline int sl_kp_read_string(struct sl_kp_reader *r, bool compact, bool nullable,
                                    struct sl_slice *out)
{
    return sl_kp_read_blob(r, compact, false, nullable, out);
}

/* Bytes: classic int32 length or compact. p == NULL for null. */
static inline int sl_kp_read_bytes(struct sl_kp_reader *r, bool compact, bool nullable,
                                   struct sl_slice *out)
{
    return sl_kp_read_blob(r, compact, true, nullable, out);
}

static inline int sl_kp_read_records(struct sl_kp_reader *r, bool compact, bool nullable,
                                     struct sl_records *out)
{
    out->chain = NULL;
    return sl_kp_read_blob(r, compact, true, nullable, &out->mem);
}

/* An array count (-1 = null), checked so that count * min_elem_size fits in
 * the bytes left: nothing is allocated for a count the input cannot hold. */
static inline int sl_kp_read_array_len(struct sl_kp_reader *r, bool compact, bool nullable,
                                       size_t min_elem_size, int32_t *n)
{
    if (sl_kp_read_len(r, compact, true, nullable, n) < 0)
        return SL_EFRAME;
    if (*n > 0 && (uint64_t)*n * (min_elem_size ? min_elem_size : 1) > sl_kp_left(r))
        return sl_kp_fail(r, "array count beyond the bytes left");
    return SL_OK;
}

/* Allocates n elements of size sz in r->arena (NULL for n <= 0). */
static inline int sl_kp_alloc_array(struct sl_kp_reader *r, int32_t n, size_t sz, void **out)
{
    *out = NULL;
    if (n <= 0)
        return SL_OK;
    if (!(*out = sl_arena_alloc(r->arena, (size_t)n * sz)))
        return sl_kp_fail(r, "arena cap reached");
    return SL_OK;
}

/* Reads one tagged field header; checks that size fits in the bytes left. */
static inline int sl_kp_read_tag(struct sl_kp_reader *r, uint32_t *tag, uint32_t *size)
{
    if (sl_kp_read_uvarint32(r, tag) < 0 || sl_kp_read_uvarint32(r, size) < 0)
        return SL_EFRAME;
    if (*size > sl_kp_left(r))
        return sl_kp_fail(r, "tagged field beyond the bytes left");
    return SL_OK;
}

/* Reads and skips a whole tagged field section. */
int sl_kp_skip_tags(struct sl_kp_reader *r);

/* ---- writers ---- */

static inline int sl_kp_write_u8(struct sl_obuf *b, uint8_t v)
{
    uint8_t *q = sl_obuf_append(b, 1);
    if (!q)
        return -ENOMEM;
    q[0] = v;
    return 0;
}

static inline int sl_kp_write_i8(struct sl_obuf *b, int8_t v)
{
    return sl_kp_write_u8(b, (uint8_t)v);
}

static inline int sl_kp_write_bool(struct sl_obuf *b, bool v)
{
    return sl_kp_write_u8(b, v ? 1 : 0);
}

static inline int sl_kp_write_u16(struct sl_obuf *b, uint16_t v)
{
    uint8_t *q = sl_obuf_append(b, 2);
    if (!q)
        return -ENOMEM;
    q[0] = (uint8_t)(v >> 8);
    q[1] = (uint8_t)v;
    return 0;
}

static inline int sl_kp_write_i16(struct sl_obuf *b, int16_t v)
{
    return sl_kp_write_u16(b, (uint16_t)v);
}

/* Stores a big-endian int32 at q (for patching a length prefix). */
static inline void sl_kp_put_u32(uint8_t *q, uint32_t v)
{
    q[0] = (uint8_t)(v >> 24);
    q[1] = (uint8_t)(v >> 16);
    q[2] = (uint8_t)(v >> 8);
    q[3] = (uint8_t)v;
}

static inline int sl_kp_write_u32(struct sl_obuf *b, uint32_t v)
{
    uint8_t *q = sl_obuf_append(b, 4);
    if (!q)
        return -ENOMEM;
    sl_kp_put_u32(q, v);
    return 0;
}

static inline int sl_kp_write_i32(struct sl_obuf *b, int32_t v)
{
    return sl_kp_write_u32(b, (uint32_t)v);
}

static inline int sl_kp_write_u64(struct sl_obuf *b, uint64_t v)
{
    uint8_t *q = sl_obuf_append(b, 8);
    if (!q)
        return -ENOMEM;
    for (int i = 7; i >= 0; i--, v >>= 8)
        q[i] = (uint8_t)v;
    return 0;
}

static inline int sl_kp_write_i64(struct sl_obuf *b, int64_t v)
{
    return sl_kp_write_u64(b, (uint64_t)v);
}

static inline int sl_kp_write_f64(struct sl_obuf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return sl_kp_write_u64(b, u);
}

static inline int sl_kp_write_uuid(struct sl_obuf *b, const struct sl_uuid *v)
{
    return sl_obuf_put(b, v->b, 16);
}

/* Bytes an unsigned varint takes on the wire. */
static inline size_t sl_kp_uvarint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline int sl_kp_write_uvarint64(struct sl_obuf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    return sl_obuf_put(b, tmp, n);
}

static inline int sl_kp_write_uvarint32(struct sl_obuf *b, uint32_t v)
{
    return sl_kp_write_uvarint64(b, v);
}

static inline int sl_kp_write_varint32(struct sl_obuf *b, int32_t v)
{
    return sl_kp_write_uvarint64(b, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

static inline int sl_kp_write_varint64(struct sl_obuf *b, int64_t v)
{
    return sl_kp_write_uvarint64(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Writes a length prefix; len -1 is null (caller decides nullability). */
static inline int sl_kp_write_len(struct sl_obuf *b, bool compact, bool wide, int32_t len)
{
    if (compact)
        return sl_kp_write_uvarint32(b, (uint32_t)(len + 1));
    if (wide)
        return sl_kp_write_i32(b, len);
    return sl_kp_write_i16(b, (int16_t)len);
}

/* A slice with p == NULL is null when nullable, else written empty. */
static inline int sl_kp_write_blob(struct sl_obuf *b, bool compact, bool wide, bool nullable,
                                   struct sl_slice s)
{
    if (!s.p)
        return sl_kp_write_len(b, compact, wide, nullable ? -1 : 0);
    int rc = sl_kp_write_len(b, compact, wide, (int32_t)s.len);
    if (rc < 0)
        return rc;
    return sl_obuf_put(b, s.p, s.len);
}

static inline int sl_kp_write_string(struct sl_obuf *b, bool compact, bool nullable,
                                     struct sl_slice s)
{
    return sl_kp_write_blob(b, compact, false, nullable, s);
}

static inline int sl_kp_write_bytes(struct sl_obuf *b, bool compact, bool nullable,
                                    struct sl_slice s)
{
    return sl_kp_write_blob(b, compact, true, nullable, s);
}

/* Array count; n < 0 is null when nullable, else written as empty. */
static inline int sl_kp_write_array_len(struct sl_obuf *b, bool compact, bool nullable, int32_t n)
{
    if (n < 0)
        n = nullable ? -1 : 0;
    return sl_kp_write_len(b, compact, true, n);
}

/* True for the all-zero uuid (Kafka's Uuid.ZERO_UUID, the default). */
static inline bool sl_kp_uuid_is_zero(const struct sl_uuid *u)
{
    static const struct sl_uuid zero;
    return memcmp(u->b, zero.b, 16) == 0;
}

/* Writes one tagged field: uvarint tag, uvarint size, then what write(b,
 * version, m) produces (encoded aside first to learn its size). */
int sl_kp_write_tagged(struct sl_obuf *b, uint32_t tag,
                       int (*write)(struct sl_obuf *b, int16_t version, const void *m),
                       int16_t version, const void *m);

/* Records: from rec->chain (moved, left empty) when set, else rec->mem. */
int sl_kp_write_records(struct sl_obuf *b, bool compact, bool nullable,
                        const struct sl_records *rec);

#endif
