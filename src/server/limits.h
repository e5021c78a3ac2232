/*
 * limits.h - process resource limits the broker needs: every partition holds
 * open files (a segment's .log, and the active segment's indexes), every
 * client a socket, so the default soft limit on open files (often 1024) runs
 * out long before memory does.
 */
#ifndef SL_SERVER_LIMITS_H
#define SL_SERVER_LIMITS_H

#include <stdint.h>

/* Raises the soft RLIMIT_NOFILE to the hard limit, and, when the process may
 * (root or CAP_SYS_RESOURCE), both to SL_WANT_NOFILE (capped by
 * fs.nr_open). Returns the soft limit in force afterwards. Thread: main,
 * before other threads start. */
int64_t sl_raise_nofile_limit(void);

#define SL_WANT_NOFILE 1048576

#endif
