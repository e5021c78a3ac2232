/*
 * timer.c - per-loop timers as an intrusive pairing heap: arming, disarming
 * and firing allocate nothing, insert is O(1), removing the earliest or any
 * timer O(log n) amortized. Thousands of parked fetches each hold one.
 *
 * Invariants: loop->timer_root is the earliest armed timer (or NULL) and has
 * prev == NULL; every other armed timer has prev != NULL; t->armed is true
 * exactly while t is in the heap. All of it is touched by the loop's own
 * thread only (or the stopping thread once the loop is joined).
 */
#include <stdint.h>

#include "base/clock.h"
#include "base/diag.h"
#include "net/net_int.h"

/* Melds two heaps (roots with no siblings); returns the new root. */
static struct sl_timer *meld(struct sl_timer *a, struct sl_timer *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (b->deadline_mono_ms < a->deadline_mono_ms) {
        struct sl_timer *t = a;
        a = b;
        b = t;
    }
    b->next = a->child;
    if (a->child)
        a->child->prev = b;
    b->prev = a;
    a->child = b;
    a->next = a->prev = NULL;
    return a;
}

/* Two-pass pairing of a sibling list; returns one heap. */
static struct sl_timer *merge_pairs(struct sl_timer *first)
{
    struct sl_timer *pairs = NULL;
    while (first) {
        struct sl_timer *a = first, *b = a->next, *rest = b ? b->next : NULL;
        a->next = a->prev = NULL;
        if (b) {
            b->next = b->prev = NULL;
            a = meld(a, b);
        }
        a->next = pairs; /* stack of pairs, last pair on top */
        pairs = a;
        first = rest;
    }
    struct sl_timer *root = NULL;
    while (pairs) {
        struct sl_timer *n = pairs->next;
        pairs->next = NULL;
        root = meld(root, pairs);
        pairs = n;
    }
    return root;
}

static void heap_remove(struct sl_loop *loop, struct sl_timer *t)
{
    if (t == loop->timer_root) {
        loop->timer_root = merge_pairs(t->child);
    } else {
        if (t->prev->child == t)
            t->prev->child = t->next;
        else
            t->prev->next = t->next;
        if (t->next)
            t->next->prev = t->prev;
        t->next = t->prev = NULL;
        loop->timer_root = meld(loop->timer_root, merge_pairs(t->child));
    }
    if (loop->timer_root)
        loop->timer_root->prev = NULL;
    t->child = t->next = t->prev = NULL;
    t->armed = false;
}

void sl_timer_start(struct sl_loop *loop, struct sl_timer *t, int64_t deadline_mono_ms,
                    void (*fn)(void *arg), void *arg)
{
    SL_ASSERT(net_current_loop == loop || !atomic_load(&loop->running));
    if (t->armed)
        heap_remove(loop, t);
    t->child = t->next = t->prev = NULL;
    t->deadline_mono_ms = deadline_mono_ms;
    t->fn = fn;
    t->arg = arg;
    t->armed = true;
    loop->timer_root = meld(loop->timer_root, t);
}

void sl_timer_stop(struct sl_loop *loop, struct sl_timer *t)
{
    SL_ASSERT(net_current_loop == loop || !atomic_load(&loop->running));
    if (t->armed)
        heap_remove(loop, t);
}

/* Fires every timer due at now_ms, earliest first. A timer re-armed by its
 * own fn for a time <= now_ms waits for the next iteration (bounded work). */
void timer_run_due(struct sl_loop *loop, int64_t now_ms)
{
    int budget = 100000;
    while (loop->timer_root && loop->timer_root->deadline_mono_ms <= now_ms && budget-- > 0) {
        struct sl_timer *t = loop->timer_root;
        heap_remove(loop, t);
        t->fn(t->arg);
    }
}

int64_t timer_next_deadline(struct sl_loop *loop)
{
    return loop->timer_root ? loop->timer_root->deadline_mono_ms : INT64_MAX;
}

/* At shutdown: fires every armed timer now, earliest first, so parked
 * requests finish; timers armed by those callbacks fire too (bounded). */
void timer_fire_all(struct sl_loop *loop)
{
    int budget = 1000000;
    while (loop->timer_root && budget-- > 0) {
        struct sl_timer *t = loop->timer_root;
        heap_remove(loop, t);
        t->fn(t->arg);
    }
}
