/*
 * conf.c - applying, reading and validating configuration values through the key
 * table (keys.c), and the command line (listener and voter lists: listeners.c).
 *
 * A value is parsed by its key's Kafka type, checked against the key's range or
 * allowed values, then stored in the key's typed field or, for keys without one, as
 * a canonical string in conf->kept[]. After every assignment the derived fields
 * (precedence chains, see conf.h) are recomputed, so assignment order never matters.
 */
#include "conf/conf.h"

#include "base/diag.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef SL_VERSION
#define SL_VERSION "0.1.0"
#endif

#define SHOWN_VALUE_MAX 80 /* longest value echoed in an error message */

/* ---- table access ---- */

const struct sl_conf_key *sl_conf_key_find(const char *key)
{
    size_t n;
    const struct sl_conf_key *keys = sl_conf_keys(&n);
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(key, keys[mid].name);
        if (cmp == 0)
            return &keys[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static size_t key_index(const struct sl_conf_key *k)
{
    size_t n;
    return (size_t)(k - sl_conf_keys(&n));
}

static bool bit_get(const struct sl_conf *c, size_t i)
{
    return (c->set_bits[i / 64] >> (i % 64)) & 1;
}

static bool key_set(const struct sl_conf *c, const char *name)
{
    const struct sl_conf_key *k = sl_conf_key_find(name);
    SL_ASSERT(k != NULL);
    return bit_get(c, key_index(k));
}

bool sl_conf_is_set(const struct sl_conf *c, const char *key)
{
    const struct sl_conf_key *k = sl_conf_key_find(key);
    return k && bit_get(c, key_index(k));
}

/* The kept[] slot of a key without a typed field: its rank among such keys. */
static char *kept_slot(const struct sl_conf *c, const struct sl_conf_key *k)
{
    size_t n;
    const struct sl_conf_key *keys = sl_conf_keys(&n);
    size_t slot = 0;
    for (const struct sl_conf_key *q = keys; q < k; q++)
        if (q->size == 0)
            slot++;
    SL_ASSERT(slot < SL_CONF_KEPT_MAX);
    return (char *)c->kept[slot];
}

static void *field(struct sl_conf *c, const struct sl_conf_key *k)
{
    return (char *)c + k->offset;
}

static const void *cfield(const struct sl_conf *c, const struct sl_conf_key *k)
{
    return (const char *)c + k->offset;
}

/* ---- parsing values by type ---- */

static bool is_integer_type(enum sl_conf_type t)
{
    return t == SL_CONF_INT || t == SL_CONF_SHORT || t == SL_CONF_LONG;
}

static bool is_string_type(enum sl_conf_type t)
{
    return t == SL_CONF_STRING || t == SL_CONF_LIST || t == SL_CONF_CLASS || t == SL_CONF_PASSWORD;
}

/* The range a type can hold at all. */
static void type_range(enum sl_conf_type t, int64_t *lo, int64_t *hi)
{
    static const struct {
        int64_t lo, hi;
    } ranges[] = {
        [SL_CONF_SHORT] = {INT16_MIN, INT16_MAX},
        [SL_CONF_INT] = {INT32_MIN, INT32_MAX},
        [SL_CONF_LONG] = {INT64_MIN, INT64_MAX},
    };
    *lo = ranges[t].lo;
    *hi = ranges[t].hi;
}

/* "an integer >= 1", "an integer in [-1, 9]", ... */
static void describe_int_range(const struct sl_conf_key *k, bool out_of_type, char *out, size_t outlen)
{
    int64_t tlo, thi;
    type_range(k->type, &tlo, &thi);
    if (k->min == tlo && k->max == thi && !out_of_type)
        snprintf(out, outlen, "expected an integer");
    else if (k->max == thi && !out_of_type)
        snprintf(out, outlen, "expected an integer >= %" PRId64, k->min);
    else if (k->min == tlo && !out_of_type)
        snprintf(out, outlen, "expected an integer <= %" PRId64, k->max);
    else
        snprintf(out, outlen, "expected an integer in [%" PRId64 ", %" PRId64 "]", k->min, k->max);
}

static int parse_int(const struct sl_conf_key *k, const char *v, int64_t *out, char *why, size_t whylen)
{
    const char *p = v;
    if (*p == '+' || *p == '-')
        p++;
    bool digits = *p != '\0';
    for (; *p; p++)
        if (!isdigit((unsigned char)*p))
            digits = false;
    if (!digits) {
        describe_int_range(k, false, why, whylen);
        return -EINVAL;
    }
    errno = 0;
    long long x = strtoll(v, NULL, 10);
    int64_t tlo, thi;
    type_range(k->type, &tlo, &thi);
    if (errno == ERANGE || x < tlo || x > thi) {
        describe_int_range(k, true, why, whylen);
        return -EINVAL;
    }
    if (x < k->min || x > k->max) {
        describe_int_range(k, false, why, whylen);
        return -EINVAL;
    }
    *out = x;
    return 0;
}

static int parse_double(const struct sl_conf_key *k, const char *v, double *out, char *why, size_t whylen)
{
    bool ranged = k->min != 0 || k->max != 0;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    bool ok = *v && *end == '\0' && !isnan(x) && !isspace((unsigned char)*v);
    if (ok && ranged && (x < (double)k->min || x > (double)k->max))
        ok = false;
    if (!ok) {
        if (ranged)
            snprintf(why, whylen, "expected a number in [%" PRId64 ", %" PRId64 "]", k->min, k->max);
        else
            snprintf(why, whylen, "expected a number");
        return -EINVAL;
    }
    *out = x;
    return 0;
}

/* Whether the item [s, s+len) is one of the comma-separated allowed values. */
static bool allowed_has(const char *allowed, const char *s, size_t len)
{
    const char *p = allowed;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, s, len) == 0)
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

static void describe_allowed(const char *allowed, bool list, char *out, size_t outlen)
{
    char buf[256];
    size_t n = 0;
    for (const char *p = allowed; *p && n + 3 < sizeof(buf); p++) {
        buf[n++] = *p;
        if (*p == ',')
            buf[n++] = ' ';
    }
    buf[n] = '\0';
    snprintf(out, outlen, list ? "expected a comma-separated list of: %s" : "expected one of: %s", buf);
}

static int check_allowed(const struct sl_conf_key *k, const char *v, char *why, size_t whylen)
{
    bool ok = true;
    if (k->type == SL_CONF_LIST) {
        const char *p = v;
        for (;;) {
            size_t n = strcspn(p, ",");
            const char *s = p;
            size_t len = n;
            while (len && isspace((unsigned char)*s)) {
                s++;
                len--;
            }
            while (len && isspace((unsigned char)s[len - 1]))
                len--;
            if (!allowed_has(k->allowed, s, len))
                ok = false;
            p += n;
            if (*p != ',')
                break;
            p++;
        }
    } else {
        ok = allowed_has(k->allowed, v, strlen(v));
    }
    if (!ok) {
        describe_allowed(k->allowed, k->type == SL_CONF_LIST, why, whylen);
        return -EINVAL;
    }
    return 0;
}

/* Parses v by k's type and stores it. On failure writes what is allowed to why. */
static int parse_store(struct sl_conf *c, const struct sl_conf_key *k, const char *v, char *why, size_t whylen)
{
    char *kept = k->size == 0 ? kept_slot(c, k) : NULL;
    if (k->type == SL_CONF_BOOLEAN) {
        bool b;
        if (strcasecmp(v, "true") == 0)
            b = true;
        else if (strcasecmp(v, "false") == 0)
            b = false;
        else {
            snprintf(why, whylen, "expected true or false");
            return -EINVAL;
        }
        if (kept)
            snprintf(kept, SL_CONF_KEPT_LEN, "%s", b ? "true" : "false");
        else
            *(bool *)field(c, k) = b;
        return 0;
    }
    if (is_integer_type(k->type)) {
        int64_t x;
        int rc = parse_int(k, v, &x, why, whylen);
        if (rc < 0)
            return rc;
        if (kept) {
            snprintf(kept, SL_CONF_KEPT_LEN, "%" PRId64, x);
            return 0;
        }
        void *f = field(c, k);
        if (k->size == sizeof(int16_t))
            *(int16_t *)f = (int16_t)x;
        else if (k->size == sizeof(int32_t))
            *(int32_t *)f = (int32_t)x;
        else
            *(int64_t *)f = x;
        return 0;
    }
    if (k->type == SL_CONF_DOUBLE) {
        double x;
        int rc = parse_double(k, v, &x, why, whylen);
        if (rc < 0)
            return rc;
        if (kept)
            snprintf(kept, SL_CONF_KEPT_LEN, "%s", v);
        else
            *(double *)field(c, k) = x;
        return 0;
    }
    SL_ASSERT(is_string_type(k->type));
    if (k->allowed && check_allowed(k, v, why, whylen) < 0)
        return -EINVAL;
    if (k->check && k->check(v, why, whylen) < 0)
        return -EINVAL;
    size_t cap = kept ? SL_CONF_KEPT_LEN : k->size;
    size_t len = strlen(v);
    if (len >= cap) {
        snprintf(why, whylen, "longer than %zu bytes", cap - 1);
        return -EINVAL;
    }
    memcpy(kept ? kept : (char *)field(c, k), v, len + 1);
    return 0;
}

/* Stores the "null" of a key whose default is null. */
static void store_null(struct sl_conf *c, const struct sl_conf_key *k)
{
    if (k->size == 0) {
        kept_slot(c, k)[0] = '\0';
        return;
    }
    void *f = field(c, k);
    if (is_string_type(k->type))
        ((char *)f)[0] = '\0';
    else if (k->type == SL_CONF_BOOLEAN)
        *(bool *)f = false;
    else if (k->type == SL_CONF_DOUBLE)
        *(double *)f = -1;
    else if (k->size == sizeof(int16_t))
        *(int16_t *)f = -1;
    else if (k->size == sizeof(int32_t))
        *(int32_t *)f = -1;
    else
        *(int64_t *)f = -1;
}

/* Recomputes the fields that follow Kafka's precedence chains (see conf.h). */
static void derive(struct sl_conf *c)
{
    if (!key_set(c, "log.dirs"))
        memcpy(c->log_dirs, c->log_dir, sizeof(c->log_dirs));
    if (!key_set(c, "log.roll.ms"))
        c->log_roll_ms = (int64_t)c->log_roll_hours * 3600000;
    if (!key_set(c, "log.roll.jitter.ms"))
        c->log_roll_jitter_ms = (int64_t)c->log_roll_jitter_hours * 3600000;
    if (!key_set(c, "log.retention.ms")) {
        if (key_set(c, "log.retention.minutes"))
            c->log_retention_ms = (int64_t)c->log_retention_minutes * 60000;
        else
            c->log_retention_ms = (int64_t)c->log_retention_hours * 3600000;
    }
    if (c->log_retention_ms < 0)
        c->log_retention_ms = -1; /* Kafka: any negative retention means forever */
    bool by_time = key_set(c, "log.flush.interval.ms") && c->log_flush_interval_ms > 0;
    bool by_count = c->log_flush_interval_messages > 1 && c->log_flush_interval_messages != INT64_MAX;
    c->log_flush_before_ack = !by_time && !by_count;
}

void sl_conf_defaults(struct sl_conf *c)
{
    memset(c, 0, sizeof(*c));
    size_t n;
    const struct sl_conf_key *keys = sl_conf_keys(&n);
    for (size_t i = 0; i < n; i++) {
        char why[256];
        if (keys[i].dflt == NULL) {
            store_null(c, &keys[i]);
            continue;
        }
        int rc = parse_store(c, &keys[i], keys[i].dflt, why, sizeof(why));
        if (rc < 0)
            SL_ERROR("conf", "default of %s does not validate: %s", keys[i].name, why);
        SL_ASSERT(rc == 0);
    }
    derive(c);
}

/* Copies s without leading and trailing whitespace into out. */
static int trim_copy(const char *s, char *out, size_t outlen)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len >= outlen)
        return -ENOSPC;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

static void show_value(const char *v, char *out, size_t outlen)
{
    size_t len = strlen(v);
    bool cut = len > SHOWN_VALUE_MAX;
    if (cut)
        len = SHOWN_VALUE_MAX;
    SL_ASSERT(outlen >= SHOWN_VALUE_MAX + 4);
    memcpy(out, v, len);
    memcpy(out + len, cut ? "..." : "", cut ? 4 : 1);
}

static int set_prefixed(struct sl_conf *c, const char *key, const char *value, char *err, size_t errlen)
{
    /* listener.name.<listener>.<key>: both parts present */
    const char *rest = key + strlen("listener.name.");
    const char *dot = strchr(rest, '.');
    char v[SL_CONF_KEPT_LEN];
    if (!dot || dot == rest || dot[1] == '\0' || strlen(key) >= sizeof(c->prefixed[0].key)) {
        snprintf(err, errlen, "invalid key '%s': expected listener.name.<listener>.<key>", key);
        return -EINVAL;
    }
    if (trim_copy(value, v, sizeof(v)) < 0) {
        snprintf(err, errlen, "invalid value for %s: longer than %d bytes", key, SL_CONF_KEPT_LEN - 1);
        return -EINVAL;
    }
    int i;
    for (i = 0; i < c->n_prefixed; i++)
        if (strcasecmp(c->prefixed[i].key, key) == 0)
            break;
    if (i == c->n_prefixed) {
        if (c->n_prefixed == SL_CONF_PREFIXED_MAX) {
            snprintf(err, errlen, "too many listener.name.* keys: at most %d are supported",
                     SL_CONF_PREFIXED_MAX);
            return -EINVAL;
        }
        c->n_prefixed++;
    }
    snprintf(c->prefixed[i].key, sizeof(c->prefixed[i].key), "%s", key);
    memcpy(c->prefixed[i].value, v, sizeof(v));
    return 0;
}

int sl_conf_set(struct sl_conf *c, const char *key, const char *value, char *err, size_t errlen)
{
    if (strncmp(key, "listener.name.", strlen("listener.name.")) == 0)
        return set_prefixed(c, key, value, err, errlen);
    const struct sl_conf_key *k = sl_conf_key_find(key);
    if (!k)
        return SL_CONF_UNKNOWN;
    char v[4096];
    char why[400];
    char shown[SHOWN_VALUE_MAX + 8];
    bool secret = k->type == SL_CONF_PASSWORD;
    int rc;
    if (secret) {
        rc = strlen(value) < sizeof(v) ? 0 : -ENOSPC;
        if (rc == 0)
            memcpy(v, value, strlen(value) + 1);
    } else {
        rc = trim_copy(value, v, sizeof(v));
    }
    if (rc < 0)
        snprintf(why, sizeof(why), "longer than %zu bytes", sizeof(v) - 1);
    else
        rc = parse_store(c, k, v, why, sizeof(why));
    if (rc < 0) {
        if (secret)
            snprintf(err, errlen, "invalid value (hidden) for %s: %s", key, why);
        else {
            show_value(rc == -ENOSPC ? value : v, shown, sizeof(shown));
            snprintf(err, errlen, "invalid value '%s' for %s: %s", shown, key, why);
        }
        /* parse_store stores only on success: the previous value stands */
        return -EINVAL;
    }
    size_t i = key_index(k);
    c->set_bits[i / 64] |= UINT64_C(1) << (i % 64);
    derive(c);
    return 0;
}

/* Shortest "%g" that reads back as the same double, like Java's Double.toString. */
static void format_double(double x, char *out, size_t outlen)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, outlen, "%.*g", prec, x);
        if (strtod(out, NULL) == x)
            return;
    }
}

int sl_conf_get_string(const struct sl_conf *c, const char *key, char *out, size_t outlen)
{
    int n;
    const struct sl_conf_key *k = sl_conf_key_find(key);
    if (!k) {
        for (int i = 0; i < c->n_prefixed; i++)
            if (strcasecmp(c->prefixed[i].key, key) == 0) {
                n = snprintf(out, outlen, "%s", c->prefixed[i].value);
                return n >= 0 && (size_t)n < outlen ? 0 : -ENOSPC;
            }
        return -ENOENT;
    }
    if (!bit_get(c, key_index(k)) && k->dflt == NULL && !(k->flags & SL_CONF_DERIVED)) {
        if (outlen)
            out[0] = '\0';
        return SL_CONF_NULL;
    }
    if (k->size == 0) {
        n = snprintf(out, outlen, "%s", kept_slot(c, k));
    } else if (k->type == SL_CONF_BOOLEAN) {
        n = snprintf(out, outlen, "%s", *(const bool *)cfield(c, k) ? "true" : "false");
    } else if (is_integer_type(k->type)) {
        int64_t x;
        if (k->size == sizeof(int16_t))
            x = *(const int16_t *)cfield(c, k);
        else if (k->size == sizeof(int32_t))
            x = *(const int32_t *)cfield(c, k);
        else
            x = *(const int64_t *)cfield(c, k);
        n = snprintf(out, outlen, "%" PRId64, x);
    } else if (k->type == SL_CONF_DOUBLE) {
        char buf[64];
        format_double(*(const double *)cfield(c, k), buf, sizeof(buf));
        n = snprintf(out, outlen, "%s", buf);
    } else {
        n = snprintf(out, outlen, "%s", (const char *)cfield(c, k));
    }
    return n >= 0 && (size_t)n < outlen ? 0 : -ENOSPC;
}

/* ---- cross-key validation ---- */

#define MAX_LISTENERS 32
#define MAX_VOTERS 64

static int listeners_find(const struct sl_conf_listener *l, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(l[i].name, name) == 0)
            return i;
    return -1;
}

int sl_conf_validate(const struct sl_conf *c, char *err, size_t errlen)
{
    struct sl_conf_listener ls[MAX_LISTENERS], adv[MAX_LISTENERS];
    struct sl_conf_voter vs[MAX_VOTERS];
    char why[256];
    bool broker = sl_conf_has_role(c, "broker");
    bool controller = sl_conf_has_role(c, "controller");

    if (!broker && !controller) {
        snprintf(err, errlen, "process.roles '%s' names no role: expected broker, controller or both",
                 c->process_roles);
        return -EINVAL;
    }
    if (c->node_id < 0) {
        snprintf(err, errlen, "node.id %d is invalid: expected an integer >= 0", c->node_id);
        return -EINVAL;
    }
    if (sl_conf_is_set(c, "broker.id")) {
        char bid[32];
        sl_conf_get_string(c, "broker.id", bid, sizeof(bid));
        if (atoi(bid) != c->node_id) {
            snprintf(err, errlen, "broker.id %s differs from node.id %d: set only node.id, or both equal", bid,
                     c->node_id);
            return -EINVAL;
        }
    }

    int nl = sl_conf_parse_listeners(c->listeners, ls, MAX_LISTENERS, why, sizeof(why));
    if (nl < 0) {
        snprintf(err, errlen, "invalid value '%s' for listeners: %s", c->listeners, why);
        return -EINVAL;
    }
    if (nl == 0) {
        snprintf(err, errlen, "listeners is empty: expected at least one NAME://host:port");
        return -EINVAL;
    }
    for (int i = 0; i < nl; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(ls[i].name, ls[j].name) == 0) {
                snprintf(err, errlen, "listeners names %s twice: each listener needs its own name", ls[i].name);
                return -EINVAL;
            }
            if (ls[i].port != 0 && ls[i].port == ls[j].port) {
                snprintf(err, errlen, "listeners %s and %s both use port %d: each listener needs its own port",
                         ls[j].name, ls[i].name, ls[i].port);
                return -EINVAL;
            }
        }
        if (!sl_conf_security_protocol(c, ls[i].name)) {
            snprintf(err, errlen,
                     "listener %s has no security protocol: add %s:<PROTOCOL> to listener.security.protocol.map",
                     ls[i].name, ls[i].name);
            return -EINVAL;
        }
    }

    int na = sl_conf_parse_listeners(c->advertised_listeners, adv, MAX_LISTENERS, why, sizeof(why));
    if (na < 0) {
        snprintf(err, errlen, "invalid value '%s' for advertised.listeners: %s", c->advertised_listeners, why);
        return -EINVAL;
    }
    for (int i = 0; i < na; i++) {
        if (listeners_find(ls, nl, adv[i].name) < 0) {
            snprintf(err, errlen, "advertised.listeners names %s, which is not in listeners", adv[i].name);
            return -EINVAL;
        }
        if (strcmp(adv[i].host, "0.0.0.0") == 0 || strcmp(adv[i].host, "::") == 0 || adv[i].port == 0) {
            snprintf(err, errlen, "advertised.listeners %s must give a routable host and a port other than 0",
                     adv[i].name);
            return -EINVAL;
        }
    }

    /* controller listeners: names are listed in controller.listener.names */
    for (int i = 0; i < nl; i++) {
        bool is_ctl = sl_conf_list_has(c->controller_listener_names, ls[i].name);
        if (is_ctl && !controller) {
            snprintf(err, errlen,
                     "listener %s is in controller.listener.names but process.roles '%s' has no controller role",
                     ls[i].name, c->process_roles);
            return -EINVAL;
        }
        if (is_ctl && listeners_find(adv, na, ls[i].name) >= 0) {
            snprintf(err, errlen, "advertised.listeners must not name the controller listener %s", ls[i].name);
            return -EINVAL;
        }
    }

    int nv = sl_conf_parse_voters(c->controller_quorum_voters, vs, MAX_VOTERS, why, sizeof(why));
    if (nv < 0) {
        snprintf(err, errlen, "invalid value '%s' for controller.quorum.voters: %s", c->controller_quorum_voters,
                 why);
        return -EINVAL;
    }
    for (int i = 0; i < nv; i++)
        for (int j = 0; j < i; j++)
            if (vs[i].id == vs[j].id) {
                snprintf(err, errlen, "controller.quorum.voters lists node %d twice", vs[i].id);
                return -EINVAL;
            }
    if (controller && nv > 0) {
        bool found = false;
        for (int i = 0; i < nv; i++)
            found |= vs[i].id == c->node_id;
        if (!found) {
            snprintf(err, errlen,
                     "node.id %d is not in controller.quorum.voters: a controller must be one of the voters",
                     c->node_id);
            return -EINVAL;
        }
    }
    if (controller && (nv > 1 || c->controller_quorum_bootstrap_servers[0]) && !c->controller_listener_names[0]) {
        snprintf(err, errlen, "controller.listener.names is empty: a controller in a multi-node quorum needs a "
                              "listener for it");
        return -EINVAL;
    }
    if (controller && c->controller_listener_names[0]) {
        bool any = false;
        for (int i = 0; i < nl; i++)
            any |= sl_conf_list_has(c->controller_listener_names, ls[i].name);
        if (!any) {
            snprintf(err, errlen, "controller.listener.names '%s' names no listener in listeners",
                     c->controller_listener_names);
            return -EINVAL;
        }
    }
    if (!controller && nv == 0 && !c->controller_quorum_bootstrap_servers[0]) {
        snprintf(err, errlen, "a broker-only node needs controller.quorum.voters or "
                              "controller.quorum.bootstrap.servers to find the controllers");
        return -EINVAL;
    }

    if (broker) {
        if (c->inter_broker_listener_name[0] && sl_conf_is_set(c, "security.inter.broker.protocol")) {
            snprintf(err, errlen, "set only one of inter.broker.listener.name and security.inter.broker.protocol");
            return -EINVAL;
        }
        const char *ibl =
            c->inter_broker_listener_name[0] ? c->inter_broker_listener_name : c->security_inter_broker_protocol;
        bool found = false;
        for (int i = 0; i < nl; i++)
            if (!sl_conf_list_has(c->controller_listener_names, ls[i].name))
                found |= strcasecmp(ls[i].name, ibl) == 0;
        if (!found) {
            snprintf(err, errlen,
                     "the inter-broker listener %s is not a broker listener in listeners: set "
                     "inter.broker.listener.name to one of them",
                     ibl);
            return -EINVAL;
        }
    }

    if (c->group_min_session_timeout_ms > c->group_max_session_timeout_ms) {
        snprintf(err, errlen, "group.min.session.timeout.ms %d exceeds group.max.session.timeout.ms %d",
                 c->group_min_session_timeout_ms, c->group_max_session_timeout_ms);
        return -EINVAL;
    }
    return 0;
}

/* ---- command line ---- */

const char *sl_conf_usage(void)
{
    return "usage: sluiced [server.properties] [--override key=value ...]\n"
           "\n"
           "Starts a Sluice node. Configuration uses Apache Kafka's broker keys:\n"
           "the properties file is read first, then each --override in order.\n"
           "With no arguments: a single-node cluster (broker and controller) on\n"
           "PLAINTEXT://127.0.0.1:9092 with its data in ./data.\n"
           "\n"
           "  --override key=value   set one key (repeatable)\n"
           "  --add-scram 'SCRAM-SHA-512=[name=alice,password=alice-secret]'\n"
           "                         create a SCRAM user at start-up unless it exists\n"
           "                         (repeatable; also iterations=, salt=, saltedpassword=)\n"
           "  -h, --help             this text\n"
           "  --version              print the version\n";
}

static int apply_override(struct sl_conf *c, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    char key[256];
    if (!eq || eq == kv) {
        snprintf(err, errlen, "--override expects key=value, got '%s'", kv);
        return -EINVAL;
    }
    size_t klen = (size_t)(eq - kv);
    if (klen >= sizeof(key)) {
        snprintf(err, errlen, "--override key too long in '%.64s...'", kv);
        return -EINVAL;
    }
    memcpy(key, kv, klen);
    key[klen] = '\0';
    char tkey[256];
    trim_copy(key, tkey, sizeof(tkey));
    if (!tkey[0]) {
        snprintf(err, errlen, "--override expects key=value, got '%s'", kv);
        return -EINVAL;
    }
    int rc = sl_conf_set(c, tkey, eq + 1, err, errlen);
    if (rc == SL_CONF_UNKNOWN) {
        SL_WARN("conf", "unknown configuration key '%s' ignored", tkey);
        return 0;
    }
    return rc;
}

int sl_conf_from_args(struct sl_conf *c, int argc, char **argv, char *err, size_t errlen)
{
    const char *file = NULL;
    sl_conf_defaults(c);
    /* pass 1: syntax, help, version, the file */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return SL_CONF_HELP;
        if (strcmp(a, "--version") == 0)
            return SL_CONF_VERSION;
        if (strcmp(a, "--override") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--override expects key=value");
                return -EINVAL;
            }
            i++;
        } else if (strncmp(a, "--override=", 11) == 0) {
            continue;
        } else if (a[0] == '-' && a[1] != '\0') {
            snprintf(err, errlen, "unknown option '%s' (see --help)", a);
            return -EINVAL;
        } else if (file || i != 1) {
            snprintf(err, errlen, "unexpected argument '%s': the properties file comes first, once", a);
            return -EINVAL;
        } else {
            file = a;
        }
    }
    if (file) {
        int rc = sl_conf_load_file(c, file, err, errlen);
        if (rc < 0)
            return rc;
    }
    /* pass 2: overrides, in order */
    for (int i = 1; i < argc; i++) {
        const char *kv = NULL;
        if (strcmp(argv[i], "--override") == 0)
            kv = argv[++i];
        else if (strncmp(argv[i], "--override=", 11) == 0)
            kv = argv[i] + 11;
        if (!kv)
            continue;
        int rc = apply_override(c, kv, err, errlen);
        if (rc < 0)
            return rc;
    }
    return sl_conf_validate(c, err, errlen);
}

const char *sl_conf_version(void)
{
    return SL_VERSION;
}
