/*
 * obuf.c - output chain of memory pieces and file ranges.
 */
#include "base/obuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OBUF_PIECE_MIN 2048

void sl_obuf_init(struct sl_obuf *b)
{
    b->head = b->tail = NULL;
    b->total_len = 0;
}

static void piece_free(struct sl_obuf_piece *p)
{
    if (p->fd >= 0 && p->release)
        p->release(p->ref);
    free(p);
}

void sl_obuf_fini(struct sl_obuf *b)
{
    struct sl_obuf_piece *p = b->head;
    while (p) {
        struct sl_obuf_piece *next = p->next;
        piece_free(p);
        p = next;
    }
    sl_obuf_init(b);
}

static void link_piece(struct sl_obuf *b, struct sl_obuf_piece *p)
{
    p->next = NULL;
    if (b->tail)
        b->tail->next = p;
    else
        b->head = p;
    b->tail = p;
}

uint8_t *sl_obuf_append(struct sl_obuf *b, size_t n)
{
    struct sl_obuf_piece *t = b->tail;
    if (!t || t->fd >= 0 || t->cap - t->len < n) {
        size_t cap = n > OBUF_PIECE_MIN ? n : OBUF_PIECE_MIN;
        t = malloc(sizeof(*t) + cap);
        if (!t)
            return NULL;
        t->len = 0;
        t->fd = -1;
        t->file_pos = 0;
        t->ref = NULL;
        t->release = NULL;
        t->cap = cap;
        link_piece(b, t);
    }
    uint8_t *p = t->data + t->len;
    t->len += n;
    b->total_len += n;
    return p;
}

int sl_obuf_put(struct sl_obuf *b, const void *p, size_t n)
{
    uint8_t *q = sl_obuf_append(b, n);
    if (!q)
        return -ENOMEM;
    if (n)
        memcpy(q, p, n);
    return 0;
}

int sl_obuf_put_file(struct sl_obuf *b, int fd, off_t file_pos, size_t len, void *ref,
                     sl_obuf_release_fn release)
{
    struct sl_obuf_piece *p = malloc(sizeof(*p));
    if (!p) {
        if (release)
            release(ref);
        return -ENOMEM;
    }
    p->len = len;
    p->fd = fd;
    p->file_pos = file_pos;
    p->ref = ref;
    p->release = release;
    p->cap = 0;
    link_piece(b, p);
    b->total_len += len;
    return 0;
}

void sl_obuf_move(struct sl_obuf *dst, struct sl_obuf *src)
{
    if (!src->head)
        return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    dst->total_len += src->total_len;
    sl_obuf_init(src);
}

int sl_obuf_flatten(const struct sl_obuf *b, uint8_t *out)
{
    for (const struct sl_obuf_piece *p = b->head; p; p = p->next) {
        if (p->fd < 0) {
            memcpy(out, p->data, p->len);
        } else {
            size_t done = 0;
            while (done < p->len) {
                ssize_t r = pread(p->fd, out + done, p->len - done, p->file_pos + (off_t)done);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0)
                    return -errno;
                if (r == 0)
                    return -EIO;
                done += (size_t)r;
            }
        }
        out += p->len;
    }
    return 0;
}
