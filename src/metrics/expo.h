/*
 * expo.h - the Prometheus text exposition format (version 0.0.4), written
 * into a growable buffer: metric families (# HELP / # TYPE), samples with
 * escaped label values, and histograms as _bucket/_sum/_count series.
 *
 * Rules kept here: a family's samples follow its TYPE line with nothing of
 * another family between them; label values escape \ " and newline; le
 * values print the way Prometheus's own clients print them (0.005, +Inf).
 * The writer never fails midway: on allocation failure it sets oom and
 * drops further output, and the caller answers 500.
 */
#ifndef SL_METRICS_EXPO_H
#define SL_METRICS_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/hist.h"

struct sl_expo {
    char *buf;       /* output, NUL-terminated when len > 0; owned */
    size_t len;      /* bytes written */
    size_t cap;      /* bytes allocated */
    bool oom;        /* an allocation failed: output incomplete */
};

struct sl_label {
    const char *name;   /* [a-zA-Z_][a-zA-Z0-9_]* */
    const char *value;  /* any UTF-8; escaped on output */
};

void sl_expo_init(struct sl_expo *e);
void sl_expo_fini(struct sl_expo *e);
/* Takes the buffer (caller frees it with free()); e is empty afterwards. */
char *sl_expo_take(struct sl_expo *e, size_t *len);

/* "# HELP name help\n# TYPE name type\n"; type: counter, gauge, histogram, untyped. */
void sl_expo_family(struct sl_expo *e, const char *name, const char *type, const char *help);
/* name{labels} value, value an exact integer. */
void sl_expo_u64(struct sl_expo *e, const char *name, const struct sl_label *labels, int nlabels,
                 uint64_t v);
void sl_expo_i64(struct sl_expo *e, const char *name, const struct sl_label *labels, int nlabels,
                 int64_t v);
/* name{labels} value, a double (NaN and +/-Inf as Prometheus spells them). */
void sl_expo_f64(struct sl_expo *e, const char *name, const struct sl_label *labels, int nlabels,
                 double v);
/* name_bucket{labels,le="..."} for each bound and +Inf, then name_sum, name_count.
 * The family line is the caller's (type histogram). At most 7 labels. */
void sl_expo_hist(struct sl_expo *e, const char *name, const struct sl_label *labels, int nlabels,
                  const struct sl_hist_bounds *bounds, const struct sl_hist_snap *snap);

/* Formats a double the way the exposition wants it into out (>= 32 bytes). */
void sl_expo_fmt_double(double v, char *out, size_t outlen);

#endif
