/*
 * varint.h - zigzag varints (Protobuf encoding) as used inside Kafka records:
 * varint = zigzag int32 in at most 5 bytes, varlong = zigzag int64 in at most
 * 10 bytes. Readers take a cursor and an end pointer and never read past end;
 * they return 0, or -1 for truncated or overlong input (cursor unchanged).
 * Writers need room for SL_VARINT_MAX bytes and return the bytes written.
 * Protocol-level primitives (unsigned varints of flexible versions) live in
 * src/proto/kp.h; these are the record-field helpers.
 */
#ifndef SL_BASE_VARINT_H
#define SL_BASE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define SL_VARINT_MAX 10 /* bytes of the longest varlong */

/* Unsigned varint of at most max_bytes; the bits beyond 64 must be zero. */
static inline int sl_uvarint_read(const uint8_t **pp, const uint8_t *end, int max_bytes,
                                  uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (p >= end)
            return -1;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            *pp = p;
            return 0;
        }
    }
    return -1;
}

static inline int sl_varint_read_i64(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
    uint64_t u;
    if (sl_uvarint_read(pp, end, 10, &u) < 0)
        return -1;
    *out = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
    return 0;
}

static inline int sl_varint_read_i32(const uint8_t **pp, const uint8_t *end, int32_t *out)
{
    const uint8_t *p = *pp;
    uint64_t u;
    if (sl_uvarint_read(&p, end, 5, &u) < 0 || u > 0xffffffffu)
        return -1;
    uint32_t u32 = (uint32_t)u;
    *out = (int32_t)((u32 >> 1) ^ (~(u32 & 1) + 1));
    *pp = p;
    return 0;
}

static inline size_t sl_uvarint_write(uint8_t *p, uint64_t u)
{
    size_t n = 0;
    while (u >= 0x80) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

static inline uint64_t sl_zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline size_t sl_varint_write_i64(uint8_t *p, int64_t v)
{
    return sl_uvarint_write(p, sl_zigzag64(v));
}

static inline size_t sl_varint_write_i32(uint8_t *p, int32_t v)
{
    return sl_uvarint_write(p, (uint32_t)(((uint32_t)v << 1) ^ (uint32_t)(v >> 31)));
}

static inline size_t sl_uvarint_size(uint64_t u)
{
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

static inline size_t sl_varint_size_i64(int64_t v)
{
    return sl_uvarint_size(sl_zigzag64(v));
}

/* Big-endian fixed-width helpers for batch headers and index entries. */
static inline uint16_t sl_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t sl_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t sl_be64(const uint8_t *p)
{
    return ((uint64_t)sl_be32(p) << 32) | sl_be32(p + 4);
}
static inline void sl_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void sl_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void sl_put_be64(uint8_t *p, uint64_t v)
{
    sl_put_be32(p, (uint32_t)(v >> 32));
    sl_put_be32(p + 4, (uint32_t)v);
}

#endif
