/*
 * hist.h - Prometheus histograms that any thread may update with relaxed
 * atomic adds and a scraper reads without a lock.
 *
 * A histogram counts integer observations (nanoseconds, bytes) into fixed
 * buckets with inclusive upper bounds; the last bucket is +Inf. Counts are
 * kept per bucket (not cumulative), so an observation is one atomic add to
 * its bucket and one to the sum. A reader sums them into Prometheus's
 * cumulative form; `count` is derived from the buckets, so _count always
 * equals the +Inf bucket even while writers race with the scrape (the sum
 * may lag by the observations in flight).
 */
#ifndef SL_METRICS_HIST_H
#define SL_METRICS_HIST_H

#include <stdint.h>

#define SL_HIST_MAX_BOUNDS 24

struct sl_hist_bounds {
    int n;                              /* finite bounds used in le[] */
    uint64_t le[SL_HIST_MAX_BOUNDS];    /* inclusive upper bounds, ascending, in the observed unit */
    double scale;                       /* exposition unit per observed unit (1e-9: ns -> seconds) */
};

struct sl_hist {
    const struct sl_hist_bounds *bounds; /* borrowed; static tables below */
    uint64_t counts[SL_HIST_MAX_BOUNDS + 1]; /* per bucket; [bounds->n] is +Inf; relaxed atomics */
    uint64_t sum;                        /* sum of observations, observed unit; relaxed atomic */
};

/* A consistent-enough copy for formatting: cumulative counts. */
struct sl_hist_snap {
    int n;                               /* finite bounds */
    uint64_t cum[SL_HIST_MAX_BOUNDS + 1]; /* cum[i] = observations <= le[i]; cum[n] = count */
    uint64_t count;                      /* == cum[n] */
    uint64_t sum;                        /* observed unit */
};

/* Request and fsync latencies, ns: 100 us .. 30 s. */
extern const struct sl_hist_bounds sl_hist_latency_ns;

void sl_hist_init(struct sl_hist *h, const struct sl_hist_bounds *bounds);

/* Index of the bucket that takes v. */
static inline int sl_hist_bucket(const struct sl_hist_bounds *b, uint64_t v)
{
    int i = 0;
    while (i < b->n && v > b->le[i])
        i++;
    return i;
}

/* Counts one observation. Thread: any; lock-free. */
static inline void sl_hist_observe(struct sl_hist *h, uint64_t v)
{
    __atomic_fetch_add(&h->counts[sl_hist_bucket(h->bounds, v)], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->sum, v, __ATOMIC_RELAXED);
}

/* Reads h into cumulative form. Thread: any. */
void sl_hist_read(const struct sl_hist *h, struct sl_hist_snap *out);

#endif
