/*
 * arena.c - region allocator: a chain of chunks, each at least 4 KiB, bump
 * allocated; big allocations get a chunk of their own.
 */
#include "base/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_arena_chunk {
    struct sl_arena_chunk *next; /* older chunk */
    size_t size;                 /* usable bytes in data[] */
    size_t used;                 /* bytes handed out from data[] */
    _Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK_MIN 4096
#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

void sl_arena_init(struct sl_arena *a, size_t cap_bytes)
{
    a->head = NULL;
    a->used_bytes = 0;
    a->cap_bytes = cap_bytes;
    a->inline_used = 0;
}

void sl_arena_fini(struct sl_arena *a)
{
    struct sl_arena_chunk *c = a->head;
    while (c) {
        struct sl_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used_bytes = 0;
    a->inline_used = 0;
}

void *sl_arena_alloc(struct sl_arena *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL;
    n = ALIGN16(n ? n : 1);
    uintptr_t ib = (uintptr_t)a->inline_buf;
    size_t pad = (size_t)(ALIGN16(ib + a->inline_used) - (ib + a->inline_used));
    if (a->inline_used + pad + n <= sizeof(a->inline_buf)) {
        void *p = a->inline_buf + a->inline_used + pad;
        a->inline_used += pad + n;
        memset(p, 0, n);
        return p;
    }
    struct sl_arena_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > ARENA_CHUNK_MIN ? n : ARENA_CHUNK_MIN;
        if (a->head && size < a->head->size * 2 && a->head->size * 2 <= 1 << 20)
            size = a->head->size * 2;
        size_t total = sizeof(*c) + size;
        if (a->cap_bytes && a->used_bytes + total > a->cap_bytes)
            return NULL;
        c = malloc(total);
        if (!c)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
        a->used_bytes += total;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void *sl_arena_dup(struct sl_arena *a, const void *p, size_t n)
{
    void *q = sl_arena_alloc(a, n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *sl_arena_strdup(struct sl_arena *a, const char *s)
{
    return sl_arena_dup(a, s, strlen(s) + 1);
}

struct sl_slice sl_arena_str(struct sl_arena *a, const char *s)
{
    size_t n = strlen(s);
    const uint8_t *p = sl_arena_dup(a, s, n);
    return (struct sl_slice){p, p ? n : 0};
}

char *sl_arena_printf(struct sl_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = sl_arena_alloc(a, (size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
