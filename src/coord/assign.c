/*
 * assign.c - the uniform and range assignors and topic-partition sets.
 * See assign.h. Sizes are small (partitions of a group's subscriptions), so
 * sets are sorted arrays and searches are linear where that is simpler.
 */
#include "coord/assign.h"

#include <stdlib.h>
#include <string.h>

#include "base/diag.h"

static int ctp_cmp(const struct sl_uuid *t, int32_t p, const struct sl_ctp *b)
{
    int c = memcmp(t, &b->topic, sizeof(*t));
    if (c)
        return c;
    return p < b->partition ? -1 : p > b->partition;
}

void sl_tpset_clear(struct sl_tpset *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* Index of the first element >= (t, p). */
static int32_t lower(const struct sl_tpset *s, const struct sl_uuid *t, int32_t p)
{
    int32_t lo = 0, hi = s->n;
    while (lo < hi) {
        int32_t mid = (lo + hi) / 2;
        if (ctp_cmp(t, p, &s->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool sl_tpset_has(const struct sl_tpset *s, const struct sl_uuid *topic, int32_t partition)
{
    int32_t i = lower(s, topic, partition);
    return i < s->n && ctp_cmp(topic, partition, &s->v[i]) == 0;
}

void sl_tpset_add(struct sl_tpset *s, const struct sl_uuid *topic, int32_t partition)
{
    int32_t i = lower(s, topic, partition);
    if (i < s->n && ctp_cmp(topic, partition, &s->v[i]) == 0)
        return;
    if (s->n == s->cap) {
        int32_t cap = s->cap ? s->cap * 2 : 8;
        struct sl_ctp *v = realloc(s->v, sizeof(*v) * (size_t)cap);
        SL_ASSERT(v != NULL);
        s->v = v;
        s->cap = cap;
    }
    memmove(&s->v[i + 1], &s->v[i], sizeof(*s->v) * (size_t)(s->n - i));
    s->v[i].topic = *topic;
    s->v[i].partition = partition;
    s->n++;
}

void sl_tpset_copy(struct sl_tpset *dst, const struct sl_tpset *src)
{
    if (dst == src)
        return;
    dst->n = 0;
    for (int32_t i = 0; i < src->n; i++)
        sl_tpset_add(dst, &src->v[i].topic, src->v[i].partition);
}

bool sl_tpset_eq(const struct sl_tpset *a, const struct sl_tpset *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->v, b->v, sizeof(*a->v) * (size_t)a->n) == 0);
}

int32_t sl_tpset_partitions(const struct sl_tpset *s, const struct sl_uuid *topic, int32_t *out, int32_t cap)
{
    int32_t n = 0;
    for (int32_t i = lower(s, topic, INT32_MIN); i < s->n && memcmp(&s->v[i].topic, topic, sizeof(*topic)) == 0;
         i++)
        if (n < cap)
            out[n++] = s->v[i].partition;
    return n;
}

/* ---- range ----------------------------------------------------------------- */

void sl_assign_range(const struct sl_asg_topic *topics, int32_t topics_n, struct sl_asg_member *members,
                     int32_t members_n)
{
    for (int32_t m = 0; m < members_n; m++)
        members[m].out->n = 0;
    for (int32_t t = 0; t < topics_n; t++) {
        int32_t subs = 0;
        for (int32_t m = 0; m < members_n; m++)
            subs += members[m].subscribed[t];
        if (!subs)
            continue;
        int32_t per = topics[t].partitions / subs, extra = topics[t].partitions % subs, p = 0, k = 0;
        for (int32_t m = 0; m < members_n; m++) {
            if (!members[m].subscribed[t])
                continue;
            int32_t cnt = per + (k++ < extra);
            for (int32_t i = 0; i < cnt; i++)
                sl_tpset_add(members[m].out, &topics[t].id, p++);
        }
    }
}

/* ---- uniform ------------------------------------------------------------------- */

/*
 * Two passes, as Kafka's uniform assignment builders do in spirit:
 * 1. stickiness: each member keeps the partitions of its previous target it
 *    still subscribes to, up to its quota (floor(P/N), plus one for as many
 *    members as P % N allows), where P counts the partitions and N the members
 *    subscribed to anything;
 * 2. the rest go, partition by partition, to the subscribed member holding
 *    the fewest (ties: member order).
 * With identical subscriptions this is exactly balanced; with different ones
 * it is a greedy approximation of Kafka's heterogeneous builder.
 */
void sl_assign_uniform(const struct sl_asg_topic *topics, int32_t topics_n, struct sl_asg_member *members,
                       int32_t members_n)
{
    int64_t total = 0;
    int32_t active = 0;
    for (int32_t m = 0; m < members_n; m++) {
        members[m].out->n = 0;
        bool any = false;
        for (int32_t t = 0; t < topics_n; t++)
            any |= members[m].subscribed[t];
        active += any;
    }
    for (int32_t t = 0; t < topics_n; t++) {
        for (int32_t m = 0; m < members_n; m++)
            if (members[m].subscribed[t]) {
                total += topics[t].partitions;
                break;
            }
    }
    if (!active)
        return;
    int32_t quota = (int32_t)(total / active), extras = (int32_t)(total % active);
    /* owner per (topic, partition): index into members, -1 free */
    int32_t *base = calloc((size_t)topics_n + 1, sizeof(*base));
    SL_ASSERT(base != NULL);
    for (int32_t t = 0; t < topics_n; t++)
        base[t + 1] = base[t] + topics[t].partitions;
    int32_t *owner = malloc(sizeof(*owner) * ((size_t)base[topics_n] + 1));
    int32_t *count = calloc((size_t)members_n + 1, sizeof(*count));
    SL_ASSERT(owner != NULL && count != NULL);
    for (int32_t i = 0; i < base[topics_n]; i++)
        owner[i] = -1;
    for (int32_t m = 0; m < members_n; m++) {
        const struct sl_tpset *prev = members[m].prev;
        for (int32_t i = 0; prev && i < prev->n; i++) {
            for (int32_t t = 0; t < topics_n; t++) {
                if (memcmp(&topics[t].id, &prev->v[i].topic, sizeof(topics[t].id)) != 0)
                    continue;
                int32_t p = prev->v[i].partition;
                if (!members[m].subscribed[t] || p < 0 || p >= topics[t].partitions || owner[base[t] + p] >= 0)
                    break;
                if (count[m] < quota || (count[m] == quota && extras > 0)) {
                    if (count[m] == quota)
                        extras--;
                    owner[base[t] + p] = m;
                    count[m]++;
                }
                break;
            }
        }
    }
    for (int32_t t = 0; t < topics_n; t++)
        for (int32_t p = 0; p < topics[t].partitions; p++) {
            if (owner[base[t] + p] >= 0)
                continue;
            int32_t best = -1;
            for (int32_t m = 0; m < members_n; m++)
                if (members[m].subscribed[t] && (best < 0 || count[m] < count[best]))
                    best = m;
            if (best < 0)
                break; /* nobody subscribes to t */
            owner[base[t] + p] = best;
            count[best]++;
        }
    for (int32_t t = 0; t < topics_n; t++)
        for (int32_t p = 0; p < topics[t].partitions; p++)
            if (owner[base[t] + p] >= 0)
                sl_tpset_add(members[owner[base[t] + p]].out, &topics[t].id, p);
    free(base);
    free(owner);
    free(count);
}
