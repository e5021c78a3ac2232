/*
 * metrics.h - the broker's own counters: what the data path counts as it
 * goes (requests per API and version with their latency and bytes, parked
 * requests, slow requests), plus where /metrics finds the consumer groups.
 *
 * Cost on the data path: a relaxed atomic add per counter touched, and one
 * histogram observation per response; nothing locks, nothing formats. Per
 * partition and per topic counters live in struct sl_part (broker/parts.h),
 * connection counts in the net layer, fsync times in the flusher; the
 * scraper (src/http/scrape.c) gathers them all at scrape time only.
 *
 * Threads: sl_metrics_request and the purgatory gauges from the loops (and
 * the stopping thread); readers from the HTTP thread. The group provider is
 * set by the coordinator at any time, under a mutex only the HTTP side and
 * the setter take.
 */
#ifndef SL_METRICS_METRICS_H
#define SL_METRICS_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/gsnap.h"
#include "metrics/hist.h"
#include "proto/gen/api.h"

#define SL_METRICS_VERSIONS 24 /* request versions counted separately; higher ones share the last */

struct sl_metrics_req {
    struct sl_hist latency;       /* ns from frame complete to response queued (Kafka's TotalTimeMs) */
    uint64_t request_bytes;       /* request frames incl. size prefix; relaxed atomic */
    uint64_t response_bytes;      /* responses incl. size prefix; relaxed atomic */
};

enum sl_purgatory {
    SL_PURGATORY_PRODUCE,         /* produce requests waiting for their fsync (acks) */
    SL_PURGATORY_FETCH,           /* fetches parked for MinBytes / MaxWaitMs */
    SL_PURGATORY_N,
};

struct sl_metrics {
    int64_t start_wall_ms;        /* process start, ms since the epoch */
    int64_t start_mono_ns;        /* process start, sl_clock_mono_ns */
    struct sl_metrics_req req[SL_API_MAX + 1][SL_METRICS_VERSIONS]; /* by api key, version */
    uint64_t slow[SL_API_MAX + 1];  /* responses later than log.slow.request.ms; relaxed atomic */
    int64_t purgatory[SL_PURGATORY_N]; /* requests parked now; relaxed atomic */
    uint64_t auth_ok;             /* successful SASL authentications; relaxed atomic */
    uint64_t auth_failed;         /* failed SASL authentications; relaxed atomic */
    pthread_mutex_t groups_mu;    /* guards groups_fn, groups_ctx */
    sl_gsnap_fn groups_fn;        /* the group coordinator's snapshot provider, or NULL */
    void *groups_ctx;             /* for groups_fn */
};

/* Allocates zeroed counters (large: about 1 MiB of mostly untouched pages). */
int  sl_metrics_new(struct sl_metrics **out);
void sl_metrics_free(struct sl_metrics *m);

/* Counts one answered request. Thread: any. */
static inline void sl_metrics_request(struct sl_metrics *m, int16_t api_key, int16_t version,
                                      uint64_t latency_ns, uint64_t request_bytes,
                                      uint64_t response_bytes)
{
    if (api_key < 0 || api_key > SL_API_MAX || version < 0)
        return;
    struct sl_metrics_req *r =
        &m->req[api_key][version < SL_METRICS_VERSIONS ? version : SL_METRICS_VERSIONS - 1];
    sl_hist_observe(&r->latency, latency_ns);
    __atomic_fetch_add(&r->request_bytes, request_bytes, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->response_bytes, response_bytes, __ATOMIC_RELAXED);
}

/* A request entered (delta 1) or left (-1) a purgatory. Thread: any. */
static inline void sl_metrics_parked(struct sl_metrics *m, enum sl_purgatory which, int delta)
{
    if (m)
        __atomic_fetch_add(&m->purgatory[which], delta, __ATOMIC_RELAXED);
}

/* Registers (fn non-NULL) or removes the group snapshot provider. The
 * coordinator removes it before it frees ctx. Thread: any. */
void sl_metrics_set_groups(struct sl_metrics *m, sl_gsnap_fn fn, void *ctx);
/* Fills snap from the provider: 0, -ENOTSUP (no group coordinator), or the
 * provider's -errno. Holds groups_mu across the call so the provider cannot
 * be removed under it. Thread: HTTP. */
int  sl_metrics_groups(struct sl_metrics *m, struct sl_gsnap *snap);

/* The process, as Prometheus's client libraries name it (process_*). */
struct sl_proc_stats {
    double cpu_seconds;           /* user + system */
    uint64_t rss_bytes;           /* resident set */
    uint64_t vsize_bytes;         /* virtual memory */
    int64_t open_fds;             /* entries in /proc/self/fd */
    int64_t max_fds;              /* RLIMIT_NOFILE soft limit */
    int64_t threads;              /* threads in the process */
};

/* Reads /proc/self. 0 or -errno. Thread: any. */
int sl_metrics_proc(struct sl_proc_stats *out);

#endif
