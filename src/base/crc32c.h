/*
 * crc32c.h - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of Kafka record batch v2.
 *
 * sl_crc32c() continues a CRC: pass 0 to start, and the previous result to
 * extend it over more bytes (the pre/post inversion happens inside), so
 * sl_crc32c(sl_crc32c(0, a, n), b, m) == CRC of a||b.
 * Uses the SSE4.2 crc32 instruction when the CPU has it (checked at run time),
 * otherwise a slicing-by-8 table. Thread: any; no state after first use.
 */
#ifndef SL_BASE_CRC32C_H
#define SL_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t sl_crc32c(uint32_t crc, const void *p, size_t n);
/* The portable table path, exposed so tests can compare both paths. */
uint32_t sl_crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
