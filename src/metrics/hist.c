/*
 * hist.c - bucket tables and the reader of lock-free histograms (hist.h).
 */
#include "metrics/hist.h"

#include <string.h>

/* Kafka's request times span sub-millisecond produces to 30 s long polls. */
const struct sl_hist_bounds sl_hist_latency_ns = {
    .n = 17,
    .le = {100000ULL, 250000ULL, 500000ULL, 1000000ULL, 2500000ULL, 5000000ULL, 10000000ULL,
           25000000ULL, 50000000ULL, 100000000ULL, 250000000ULL, 500000000ULL, 1000000000ULL,
           2500000000ULL, 5000000000ULL, 10000000000ULL, 30000000000ULL},
    .scale = 1e-9,
};

void sl_hist_init(struct sl_hist *h, const struct sl_hist_bounds *bounds)
{
    memset(h, 0, sizeof(*h));
    h->bounds = bounds;
}

void sl_hist_read(const struct sl_hist *h, struct sl_hist_snap *out)
{
    int n = h->bounds->n;
    uint64_t acc = 0;
    out->n = n;
    for (int i = 0; i <= n; i++) {
        acc += __atomic_load_n(&h->counts[i], __ATOMIC_RELAXED);
        out->cum[i] = acc;
    }
    out->count = acc;
    out->sum = __atomic_load_n(&h->sum, __ATOMIC_RELAXED);
}
