/*
 * crc32c.c - CRC-32C with a hardware path (SSE4.2 crc32 instruction, three
 * independent streams interleaved to hide the instruction's 3-cycle latency,
 * combined with a GF(2) shift) and a slicing-by-8 table fallback.
 * Tables are built once by a constructor, before main(), so later calls from
 * any thread only read them.
 */
#include "base/crc32c.h"

#include <string.h>

#define POLY 0x82F63B78u

static uint32_t table[8][256];

/* Multiplies a by b modulo the CRC polynomial (both reflected). */
static uint32_t gf2_mult(uint32_t a, uint32_t b)
{
    uint32_t prod = 0;
    for (int i = 0; i < 32; i++) {
        if (a & 0x80000000u)
            prod ^= b;
        a <<= 1;
        b = (b >> 1) ^ ((b & 1) ? POLY : 0);
    }
    return prod;
}

/* x^(8*n) mod P in reflected form: the factor that moves a CRC over n zero bytes. */
static uint32_t xpow8n(size_t n)
{
    uint32_t r = 0x80000000u; /* x^0 */
    uint32_t sq = 0x00800000u; /* x^8 */
    while (n) {
        if (n & 1)
            r = gf2_mult(r, sq);
        sq = gf2_mult(sq, sq);
        n >>= 1;
    }
    return r;
}

/* Block length of each of the three interleaved streams, and the shift
 * constant for it, computed once. */
#define HW_BLOCK 4096
static uint32_t shift_block; /* x^(8*HW_BLOCK) */

__attribute__((constructor)) static void crc32c_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ ((c & 1) ? POLY : 0);
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = table[0][i];
        for (int t = 1; t < 8; t++) {
            c = table[0][c & 0xff] ^ (c >> 8);
            table[t][i] = c;
        }
    }
    shift_block = xpow8n(HW_BLOCK);
}

/* Raw (no inversion) table CRC. */
static uint32_t crc_sw_raw(uint32_t c, const uint8_t *p, size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c; /* little-endian: low 4 bytes take the CRC */
        c = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
            table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
            table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

uint32_t sl_crc32c_sw(uint32_t crc, const void *p, size_t n)
{
    return ~crc_sw_raw(~crc, p, n);
}

#if defined(__x86_64__)
#include <nmmintrin.h>

/* Moves crc over HW_BLOCK zero bytes: multiply by x^(8*HW_BLOCK). */
static uint32_t shift(uint32_t crc)
{
    return gf2_mult(crc, shift_block);
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw_raw(uint32_t c, const uint8_t *p,
                                                             size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8(c, *p++);
        n--;
    }
    /* Three streams of HW_BLOCK bytes each in parallel: a, b, c run
     * independently from zero and are shifted into place. */
    while (n >= 3 * HW_BLOCK) {
        uint64_t c0 = c, c1 = 0, c2 = 0;
        const uint8_t *p0 = p, *p1 = p + HW_BLOCK, *p2 = p + 2 * HW_BLOCK;
        for (size_t i = 0; i < HW_BLOCK; i += 8) {
            uint64_t w0, w1, w2;
            memcpy(&w0, p0 + i, 8);
            memcpy(&w1, p1 + i, 8);
            memcpy(&w2, p2 + i, 8);
            c0 = _mm_crc32_u64(c0, w0);
            c1 = _mm_crc32_u64(c1, w1);
            c2 = _mm_crc32_u64(c2, w2);
        }
        c = shift(shift((uint32_t)c0) ^ (uint32_t)c1) ^ (uint32_t)c2;
        p += 3 * HW_BLOCK;
        n -= 3 * HW_BLOCK;
    }
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c64 = _mm_crc32_u64(c64, w);
        p += 8;
        n -= 8;
    }
    c = (uint32_t)c64;
    while (n--)
        c = _mm_crc32_u8(c, *p++);
    return c;
}

uint32_t sl_crc32c(uint32_t crc, const void *p, size_t n)
{
    if (__builtin_cpu_supports("sse4.2"))
        return ~crc_hw_raw(~crc, p, n);
    return ~crc_sw_raw(~crc, p, n);
}
#else
uint32_t sl_crc32c(uint32_t crc, const void *p, size_t n)
{
    return ~crc_sw_raw(~crc, p, n);
}
#endif
