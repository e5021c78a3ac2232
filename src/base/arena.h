/*
 * arena.h - region allocator for everything a request decodes or builds.
 * Allocations are freed all at once by sl_arena_fini(). An arena has a byte
 * cap so a hostile request cannot make the broker allocate without bound:
 * past the cap, sl_arena_alloc() returns NULL and the caller fails the request.
 */
#ifndef SL_BASE_ARENA_H
#define SL_BASE_ARENA_H

#include <stddef.h>

#include "base/slice.h"

struct sl_arena_chunk;

struct sl_arena {
    struct sl_arena_chunk *head; /* newest chunk, allocation happens here */
    size_t used_bytes;           /* bytes handed out plus chunk overhead */
    size_t cap_bytes;            /* 0 = no cap */
    char inline_buf[512];        /* first small allocations need no malloc */
    size_t inline_used;          /* bytes used of inline_buf */
};

/* Initializes an arena in the caller's memory; cap_bytes 0 means no cap. */
void sl_arena_init(struct sl_arena *a, size_t cap_bytes);
/* Frees every allocation; the arena may be initialized again. */
void sl_arena_fini(struct sl_arena *a);
/* 16-byte aligned memory, zeroed; NULL when out of memory or over the cap. */
void *sl_arena_alloc(struct sl_arena *a, size_t n);
/* Copies n bytes into the arena; NULL as for sl_arena_alloc. */
void *sl_arena_dup(struct sl_arena *a, const void *p, size_t n);
/* Copies a C string; NULL as for sl_arena_alloc. */
char *sl_arena_strdup(struct sl_arena *a, const char *s);
/* A copy of a C string as a slice (without the NUL); {NULL, 0} when out
 * of memory. */
struct sl_slice sl_arena_str(struct sl_arena *a, const char *s);
/* printf into the arena; NULL as for sl_arena_alloc. */
char *sl_arena_printf(struct sl_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
