/*
 * list.h - intrusive doubly linked circular list (libuv queue.h style).
 * Embed a struct sl_list in the element; an empty list points at itself.
 * No allocation ever happens here.
 */
#ifndef SL_BASE_LIST_H
#define SL_BASE_LIST_H

#include <stddef.h>
#include <stdbool.h>

struct sl_list {
    struct sl_list *prev, *next;
};

#define SL_LIST_ENTRY(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define SL_LIST_FOREACH(pos, head) for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)
#define SL_LIST_FOREACH_SAFE(pos, tmp, head)                                                       \
    for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); (pos) = (tmp), (tmp) = (pos)->next)

static inline void sl_list_init(struct sl_list *l) { l->prev = l->next = l; }
static inline bool sl_list_empty(const struct sl_list *l) { return l->next == l; }

/* Inserts n before at (at the tail when at is the head). */
static inline void sl_list_insert_before(struct sl_list *at, struct sl_list *n)
{
    n->next = at;
    n->prev = at->prev;
    at->prev->next = n;
    at->prev = n;
}

static inline void sl_list_push_back(struct sl_list *head, struct sl_list *n)
{
    sl_list_insert_before(head, n);
}

static inline void sl_list_push_front(struct sl_list *head, struct sl_list *n)
{
    sl_list_insert_before(head->next, n);
}

/* Unlinks n and leaves it as an empty list, so a second remove is harmless. */
static inline void sl_list_remove(struct sl_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    sl_list_init(n);
}

static inline struct sl_list *sl_list_first(struct sl_list *head)
{
    return sl_list_empty(head) ? NULL : head->next;
}

#endif
