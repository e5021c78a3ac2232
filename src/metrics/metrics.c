/*
 * metrics.c - the broker's counters (see metrics.h) and process statistics
 * read from /proc/self at scrape time.
 */
#include "metrics/metrics.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/clock.h"

int sl_metrics_new(struct sl_metrics **out)
{
    struct sl_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->start_wall_ms = sl_clock_wall_ms();
    m->start_mono_ns = sl_clock_mono_ns();
    for (int k = 0; k <= SL_API_MAX; k++)
        for (int v = 0; v < SL_METRICS_VERSIONS; v++)
            m->req[k][v].latency.bounds = &sl_hist_latency_ns;
    pthread_mutex_init(&m->groups_mu, NULL);
    *out = m;
    return 0;
}

void sl_metrics_free(struct sl_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->groups_mu);
    free(m);
}

void sl_metrics_set_groups(struct sl_metrics *m, sl_gsnap_fn fn, void *ctx)
{
    pthread_mutex_lock(&m->groups_mu);
    m->groups_fn = fn;
    m->groups_ctx = ctx;
    pthread_mutex_unlock(&m->groups_mu);
}

int sl_metrics_groups(struct sl_metrics *m, struct sl_gsnap *snap)
{
    int rc = -ENOTSUP;
    pthread_mutex_lock(&m->groups_mu);
    if (m->groups_fn)
        rc = m->groups_fn(m->groups_ctx, snap);
    pthread_mutex_unlock(&m->groups_mu);
    return rc;
}

int sl_metrics_proc(struct sl_proc_stats *out)
{
    *out = (struct sl_proc_stats){0};
    char buf[2048];
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return -errno;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    /* Fields after the command, which is in parentheses and may hold spaces. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -EINVAL;
    unsigned long utime = 0, stime = 0, vsize = 0;
    long threads = 0, rss_pages = 0;
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime cutime cstime priority nice num_threads itrealvalue
     * starttime vsize rss */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %ld %*d "
                      "%*u %lu %ld",
               &utime, &stime, &threads, &vsize, &rss_pages) != 5)
        return -EINVAL;
    long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    out->cpu_seconds = (double)(utime + stime) / (double)(hz > 0 ? hz : 100);
    out->rss_bytes = (uint64_t)rss_pages * (uint64_t)(page > 0 ? page : 4096);
    out->vsize_bytes = vsize;
    out->threads = threads;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *e;
        int64_t fds = 0;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                fds++;
        closedir(d);
        out->open_fds = fds - 1; /* the directory stream's own fd */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        out->max_fds = rl.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_cur;
    return 0;
}
