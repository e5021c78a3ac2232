/*
 * obuf.h - an output chain: the bytes of one or more responses as a list of
 * memory pieces and file ranges. The encoder appends memory; Fetch appends
 * file ranges of log segments, which the network layer sends with sendfile(2)
 * so record data never passes through user space.
 *
 * Memory returned by sl_obuf_append() never moves: a caller may keep the
 * pointer to patch a length prefix after encoding what follows it.
 */
#ifndef SL_BASE_OBUF_H
#define SL_BASE_OBUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Called once when the chain no longer needs a file range (sent or dropped). */
typedef void (*sl_obuf_release_fn)(void *ref);

struct sl_obuf_piece {
    struct sl_obuf_piece *next;
    size_t len;                 /* bytes of output in this piece */
    int fd;                     /* -1: memory in data[]; else a file range */
    off_t file_pos;             /* file range start (fd >= 0) */
    void *ref;                  /* passed to release (fd >= 0) */
    sl_obuf_release_fn release; /* may be NULL */
    size_t cap;                 /* bytes allocated in data[] (memory piece) */
    _Alignas(8) uint8_t data[];
};

struct sl_obuf {
    struct sl_obuf_piece *head; /* first piece to send */
    struct sl_obuf_piece *tail; /* last piece, appended to */
    size_t total_len;           /* bytes in all pieces */
};

void sl_obuf_init(struct sl_obuf *b);
/* Frees memory pieces and releases file ranges. */
void sl_obuf_fini(struct sl_obuf *b);
/* Appends n bytes and returns them to be filled; NULL when out of memory. */
uint8_t *sl_obuf_append(struct sl_obuf *b, size_t n);
/* Appends a copy of n bytes; 0 or -ENOMEM. */
int sl_obuf_put(struct sl_obuf *b, const void *p, size_t n);
/* Appends len bytes of fd from file_pos. The chain borrows fd and calls
 * release(ref) when done with it. 0 or -ENOMEM (release is called then too). */
int sl_obuf_put_file(struct sl_obuf *b, int fd, off_t file_pos, size_t len, void *ref,
                     sl_obuf_release_fn release);
/* Moves all of src to the end of dst; src is left empty. */
void sl_obuf_move(struct sl_obuf *dst, struct sl_obuf *src);
/* Copies the whole chain, file ranges read with pread, into out (total_len
 * bytes). For TLS connections and tests. 0 or -errno. */
int sl_obuf_flatten(const struct sl_obuf *b, uint8_t *out);

#endif
