/*
 * limits.c - raising the open-file limit at start (limits.h).
 */
#include "server/limits.h"

#include <stdio.h>
#include <sys/resource.h>

#include "base/diag.h"

/* fs.nr_open: the most a process may ever hold; 0 when unreadable. */
static rlim_t nr_open(void)
{
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");
    unsigned long long v = 0;
    if (f) {
        if (fscanf(f, "%llu", &v) != 1)
            v = 0;
        fclose(f);
    }
    return (rlim_t)v;
}

int64_t sl_raise_nofile_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rlim_t want = SL_WANT_NOFILE, cap = nr_open();
    if (cap && want > cap)
        want = cap;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        struct rlimit up = {want, want};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) /* only with CAP_SYS_RESOURCE */
            rl = up;
    }
    if (rl.rlim_cur != rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY)
        return INT64_MAX;
    if (rl.rlim_cur < 65536)
        SL_WARN("server", "the open-file limit is %llu: each partition needs 1-3 files and each client a "
                "socket; raise it (ulimit -n, or LimitNOFILE= in a systemd unit) for many partitions",
                (unsigned long long)rl.rlim_cur);
    return (int64_t)rl.rlim_cur;
}
