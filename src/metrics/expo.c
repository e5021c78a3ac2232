/*
 * expo.c - Prometheus text exposition writer (see expo.h).
 */
#include "metrics/expo.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_expo_init(struct sl_expo *e) { *e = (struct sl_expo){0}; }

void sl_expo_fini(struct sl_expo *e)
{
    free(e->buf);
    *e = (struct sl_expo){0};
}

char *sl_expo_take(struct sl_expo *e, size_t *len)
{
    char *b = e->buf;
    *len = e->len;
    *e = (struct sl_expo){0};
    return b;
}

static bool reserve(struct sl_expo *e, size_t more)
{
    if (e->oom)
        return false;
    if (e->len + more + 1 <= e->cap)
        return true;
    size_t cap = e->cap ? e->cap : 16384;
    while (cap < e->len + more + 1)
        cap *= 2;
    char *nb = realloc(e->buf, cap);
    if (!nb) {
        e->oom = true;
        return false;
    }
    e->buf = nb;
    e->cap = cap;
    return true;
}

static void put(struct sl_expo *e, const char *s, size_t n)
{
    if (!reserve(e, n))
        return;
    memcpy(e->buf + e->len, s, n);
    e->len += n;
    e->buf[e->len] = 0;
}

static void puts_(struct sl_expo *e, const char *s) { put(e, s, strlen(s)); }

/* Label values escape backslash, double quote and newline; HELP text
 * escapes backslash and newline only. */
static void put_escaped(struct sl_expo *e, const char *s, bool quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (*s == '"' && quote)
            rep = "\\\"";
        if (rep) {
            put(e, run, (size_t)(s - run));
            puts_(e, rep);
            run = s + 1;
        }
    }
    put(e, run, (size_t)(s - run));
}

void sl_expo_family(struct sl_expo *e, const char *name, const char *type, const char *help)
{
    puts_(e, "# HELP ");
    puts_(e, name);
    puts_(e, " ");
    put_escaped(e, help, false);
    puts_(e, "\n# TYPE ");
    puts_(e, name);
    puts_(e, " ");
    puts_(e, type);
    puts_(e, "\n");
}

static void put_series(struct sl_expo *e, const char *name, const char *suffix,
                       const struct sl_label *labels, int nlabels, const char *le)
{
    puts_(e, name);
    if (suffix)
        puts_(e, suffix);
    if (nlabels > 0 || le) {
        puts_(e, "{");
        for (int i = 0; i < nlabels; i++) {
            if (i)
                puts_(e, ",");
            puts_(e, labels[i].name);
            puts_(e, "=\"");
            put_escaped(e, labels[i].value ? labels[i].value : "", true);
            puts_(e, "\"");
        }
        if (le) {
            if (nlabels)
                puts_(e, ",");
            puts_(e, "le=\"");
            puts_(e, le);
            puts_(e, "\"");
        }
        puts_(e, "}");
    }
    puts_(e, " ");
}

void sl_expo_fmt_double(double v, char *out, size_t outlen)
{
    if (isnan(v)) {
        snprintf(out, outlen, "NaN");
    } else if (isinf(v)) {
        snprintf(out, outlen, v > 0 ? "+Inf" : "-Inf");
    } else {
        /* The shortest %g that reads back as the same double. */
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(out, outlen, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
}

void sl_expo_u64(struct sl_expo *e, const char *name, const struct sl_label *labels, int nlabels,
                 uint64_t v)
{
    char num[32];
    put_series(e, name, NULL, labels, nlabels, NULL);
    snprintf(num, sizeof(num), "%" PRIu64 "\n", v);
    puts_(e, num);
}

void sl_expo_i64(struct sl_expo *e, const char *name, const struct sl_label *labels, int nlabels,
                 int64_t v)
{
    char num[32];
    put_series(e, name, NULL, labels, nlabels, NULL);
    snprintf(num, sizeof(num), "%" PRId64 "\n", v);
    puts_(e, num);
}

void sl_expo_f64(struct sl_expo *e, const char *name, const struct sl_label *labels, int nlabels,
                 double v)
{
    char num[40];
    put_series(e, name, NULL, labels, nlabels, NULL);
    sl_expo_fmt_double(v, num, sizeof(num));
    puts_(e, num);
    puts_(e, "\n");
}

void sl_expo_hist(struct sl_expo *e, const char *name, const struct sl_label *labels, int nlabels,
                  const struct sl_hist_bounds *bounds, const struct sl_hist_snap *snap)
{
    char le[40], num[40];
    for (int i = 0; i <= snap->n; i++) {
        if (i < snap->n)
            sl_expo_fmt_double((double)bounds->le[i] * bounds->scale, le, sizeof(le));
        else
            snprintf(le, sizeof(le), "+Inf");
        put_series(e, name, "_bucket", labels, nlabels, le);
        snprintf(num, sizeof(num), "%" PRIu64 "\n", snap->cum[i]);
        puts_(e, num);
    }
    put_series(e, name, "_sum", labels, nlabels, NULL);
    sl_expo_fmt_double((double)snap->sum * bounds->scale, num, sizeof(num));
    puts_(e, num);
    puts_(e, "\n");
    put_series(e, name, "_count", labels, nlabels, NULL);
    snprintf(num, sizeof(num), "%" PRIu64 "\n", snap->count);
    puts_(e, num);
}
