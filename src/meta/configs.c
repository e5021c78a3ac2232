/*
 * configs.c - configuration values in force, their sources and synonyms
 * (Kafka's ConfigHelper and DynamicBrokerConfig rules), and the checks of
 * dynamic broker updates. See configs.h for the precedence.
 */
#include "meta/configs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "meta/image.h"
#include "meta/topic_config.h"

const char *sl_cfg_dynamic_broker(const struct sl_image *img, const char *broker, const char *key)
{
    if (!img)
        return NULL;
    size_t bl = strlen(broker);
    for (int32_t i = 0; i < img->broker_configs_n; i++) {
        const char *k = img->broker_configs[i].key;
        if (strncmp(k, broker, bl) == 0 && k[bl] == ':' && strcmp(k + bl + 1, key) == 0)
            return img->broker_configs[i].value;
    }
    return NULL;
}

static void copy(char *out, size_t outlen, const char *s)
{
    snprintf(out, outlen, "%s", s);
}

/* Kafka's brokerConfigSynonyms: the keys that set the same thing, highest
 * precedence first. Returns the count (at least 1: the key itself). */
static int broker_synonyms(const char *key, const char *out[3])
{
    static const char *const chains[][4] = {
        {"log.retention.ms", "log.retention.minutes", "log.retention.hours", NULL},
        {"log.roll.ms", "log.roll.hours", NULL, NULL},
        {"log.roll.jitter.ms", "log.roll.jitter.hours", NULL, NULL},
        {"log.flush.interval.ms", "log.flush.scheduler.interval.ms", NULL, NULL},
    };
    for (size_t c = 0; c < sizeof(chains) / sizeof(chains[0]); c++) {
        bool member = false;
        for (int i = 0; chains[c][i]; i++)
            if (strcmp(chains[c][i], key) == 0)
                member = true;
        /* log.flush.scheduler.interval.ms is not itself a synonym head */
        if (member && !(c == 3 && strcmp(key, chains[c][0]) != 0)) {
            int n = 0;
            for (int i = 0; chains[c][i]; i++)
                out[n++] = chains[c][i];
            return n;
        }
    }
    out[0] = key;
    return 1;
}

/* The key's own value: dynamic per broker, dynamic default, static, default. */
static int own_broker_value(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                            const char *key, char *out, size_t outlen)
{
    char id[16];
    snprintf(id, sizeof(id), "%d", node_id);
    const char *v;
    if ((v = sl_cfg_dynamic_broker(img, id, key)) || (v = sl_cfg_dynamic_broker(img, "", key))) {
        copy(out, outlen, v);
        return 0;
    }
    int rc = sl_conf_get_string(conf, key, out, outlen);
    if (rc == SL_CONF_NULL)
        return 1;
    return rc < 0 ? rc : 0;
}

int sl_cfg_broker_value(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                        const char *key, char *out, size_t outlen)
{
    if (!sl_conf_key_find(key))
        return -ENOENT;
    int rc = own_broker_value(img, conf, node_id, key, out, outlen);
    /* Kafka: log.flush.interval.ms defaults to log.flush.scheduler.interval.ms */
    if (rc == 1 && strcmp(key, "log.flush.interval.ms") == 0)
        rc = own_broker_value(img, conf, node_id, "log.flush.scheduler.interval.ms", out, outlen);
    if (rc == 1)
        out[0] = 0;
    return rc;
}

int sl_cfg_topic_value(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                       const struct sl_image_topic *t, const char *key, char *out, size_t outlen)
{
    const struct sl_topic_config_key *k = sl_topic_config_find(key, strlen(key));
    if (!k)
        return -ENOENT;
    const char *v = t ? sl_image_topic_config(t, key) : NULL;
    if (v) {
        copy(out, outlen, v);
        return 0;
    }
    if (k->broker_key && sl_cfg_broker_value(img, conf, node_id, k->broker_key, out, outlen) == 0)
        return 0;
    copy(out, outlen, k->dflt ? k->dflt : "");
    return 0;
}

int64_t sl_cfg_topic_int(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                         const struct sl_image_topic *t, const char *key, int64_t dflt)
{
    char v[64], *end;
    if (sl_cfg_topic_value(img, conf, node_id, t, key, v, sizeof(v)) < 0 || !v[0])
        return dflt;
    long long x = strtoll(v, &end, 10);
    return *end ? dflt : (int64_t)x;
}

/* ---- describing ---------------------------------------------------------- */

static void add_synonym(struct sl_cfg_entry *e, const char *name, const char *value, int8_t source,
                        bool sensitive)
{
    if (e->synonyms_n >= SL_CFG_SYNONYMS_MAX)
        return;
    struct sl_cfg_synonym *s = &e->synonyms[e->synonyms_n++];
    s->name = name;
    s->source = source;
    s->null = sensitive || !value;
    copy(s->value, sizeof(s->value), s->null ? "" : value);
}

/* Kafka's configSynonyms(name, synonyms): source by source, then dropped up
 * to the first entry named `name`. */
static void broker_chain_synonyms(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                                  const char *name, bool sensitive, struct sl_cfg_entry *e)
{
    const char *syn[3];
    int ns = broker_synonyms(name, syn);
    char id[16];
    snprintf(id, sizeof(id), "%d", node_id);
    int first = e->synonyms_n;
    const char *v;
    char buf[SL_CFG_VALUE_MAX];
    for (int i = 0; i < ns; i++)
        if ((v = sl_cfg_dynamic_broker(img, id, syn[i])))
            add_synonym(e, syn[i], v, SL_CFG_SRC_DYNAMIC_BROKER, sensitive);
    for (int i = 0; i < ns; i++)
        if ((v = sl_cfg_dynamic_broker(img, "", syn[i])))
            add_synonym(e, syn[i], v, SL_CFG_SRC_DYNAMIC_DEFAULT_BROKER, sensitive);
    for (int i = 0; i < ns; i++)
        if (sl_conf_is_set(conf, syn[i])) {
            int rc = sl_conf_get_string(conf, syn[i], buf, sizeof(buf));
            add_synonym(e, syn[i], rc == 0 ? buf : NULL, SL_CFG_SRC_STATIC_BROKER, sensitive);
        }
    for (int i = 0; i < ns; i++) {
        const struct sl_conf_key *k = sl_conf_key_find(syn[i]);
        if (k && k->dflt)
            add_synonym(e, syn[i], k->dflt, SL_CFG_SRC_DEFAULT, sensitive);
    }
    int keep = first;
    while (keep < e->synonyms_n && strcmp(e->synonyms[keep].name, name) != 0)
        keep++;
    if (keep > first) {
        memmove(&e->synonyms[first], &e->synonyms[keep], sizeof(e->synonyms[0]) * (size_t)(e->synonyms_n - keep));
        e->synonyms_n -= keep - first;
    }
}

static bool is_sensitive(const struct sl_conf_key *k)
{
    return k->type == SL_CONF_PASSWORD || (k->flags & SL_CONF_SENSITIVE);
}

bool sl_cfg_describe_broker(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                            const struct sl_conf_key *k, bool per_broker, struct sl_cfg_entry *e)
{
    const char *dyn_default = sl_cfg_dynamic_broker(img, "", k->name);
    if (!per_broker && !dyn_default)
        return false;
    bool sensitive = is_sensitive(k);
    e->name = k->name;
    e->sensitive = sensitive;
    e->read_only = (k->flags & (SL_CONF_PER_BROKER | SL_CONF_CLUSTER_WIDE)) == 0;
    e->type = (int8_t)(k->type + 1);
    e->doc = k->doc;
    e->synonyms_n = 0;
    broker_chain_synonyms(img, conf, node_id, k->name, sensitive, e);
    if (!per_broker) {
        int j = 0;
        for (int i = 0; i < e->synonyms_n; i++)
            if (e->synonyms[i].source == SL_CFG_SRC_DYNAMIC_DEFAULT_BROKER)
                e->synonyms[j++] = e->synonyms[i];
        e->synonyms_n = j;
        copy(e->value, sizeof(e->value), dyn_default);
        e->null = sensitive;
    } else {
        int rc = own_broker_value(img, conf, node_id, k->name, e->value, sizeof(e->value));
        e->null = sensitive || rc != 0;
    }
    if (e->null)
        e->value[0] = 0;
    e->source = e->synonyms_n ? e->synonyms[0].source : SL_CFG_SRC_DEFAULT;
    return true;
}

void sl_cfg_describe_topic(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                           const struct sl_image_topic *t, const struct sl_topic_config_key *k,
                           struct sl_cfg_entry *e)
{
    sl_cfg_describe_topic_own(img, conf, node_id, k, t ? sl_image_topic_config(t, k->name) : NULL, e);
}

void sl_cfg_describe_topic_own(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                               const struct sl_topic_config_key *k, const char *own, struct sl_cfg_entry *e)
{
    bool sensitive = k->type == SL_CONF_PASSWORD;
    e->name = k->name;
    e->sensitive = sensitive;
    e->read_only = false;
    e->type = (int8_t)(k->type + 1);
    e->doc = k->doc;
    e->synonyms_n = 0;
    if (own)
        add_synonym(e, k->name, own, SL_CFG_SRC_DYNAMIC_TOPIC, sensitive);
    if (k->broker_key)
        broker_chain_synonyms(img, conf, node_id, k->broker_key, sensitive, e);
    if (own)
        copy(e->value, sizeof(e->value), own);
    else
        sl_cfg_topic_value(img, conf, node_id, NULL, k->name, e->value, sizeof(e->value));
    e->null = sensitive;
    if (e->null)
        e->value[0] = 0;
    e->source = e->synonyms_n ? e->synonyms[0].source : SL_CFG_SRC_DEFAULT;
}

/* ---- checking updates ---------------------------------------------------- */

int sl_cfg_check_broker(struct sl_conf *scratch, struct sl_slice key, const struct sl_slice *value,
                        bool per_broker, char *err, size_t errlen)
{
    char name[256];
    if (key.len >= sizeof(name)) {
        snprintf(err, errlen, "Unknown broker config name: %.*s", 200, (const char *)key.p);
        return -ENOENT;
    }
    memcpy(name, key.p, key.len);
    name[key.len] = 0;
    const struct sl_conf_key *k = sl_conf_key_find(name);
    if (!k) {
        snprintf(err, errlen, "Unknown broker config name: %s", name);
        return -ENOENT;
    }
    if (!(k->flags & (SL_CONF_PER_BROKER | SL_CONF_CLUSTER_WIDE))) {
        snprintf(err, errlen, "Cannot update these configs dynamically: Set(%s)", name);
        return -EPERM;
    }
    if (!per_broker && !(k->flags & SL_CONF_CLUSTER_WIDE)) {
        snprintf(err, errlen,
                 "Cannot update these configs at default cluster level, broker id must be specified: Set(%s)", name);
        return -EPERM;
    }
    if (!value)
        return 0;
    char *v = malloc(value->len + 1);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    memcpy(v, value->p, value->len);
    v[value->len] = 0;
    int rc = sl_conf_set(scratch, name, v, err, errlen);
    free(v);
    return rc < 0 ? -EINVAL : 0;
}

bool sl_cfg_is_list(int8_t resource_type, struct sl_slice key)
{
    if (resource_type == SL_CFG_RES_TOPIC) {
        const struct sl_topic_config_key *k = sl_topic_config_find((const char *)key.p, key.len);
        return k && k->type == SL_CONF_LIST;
    }
    char name[256];
    if (key.len >= sizeof(name))
        return false;
    memcpy(name, key.p, key.len);
    name[key.len] = 0;
    const struct sl_conf_key *k = sl_conf_key_find(name);
    return k && k->type == SL_CONF_LIST;
}

/* Calls fn on each trimmed, non-empty item of a comma-separated list. */
static void each_item(const char *p, size_t len, void (*fn)(void *arg, const char *s, size_t n), void *arg)
{
    const char *end = p + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *s = p;
        while (s < stop && *s == ' ')
            s++;
        const char *t = stop;
        while (t > s && t[-1] == ' ')
            t--;
        if (t > s)
            fn(arg, s, (size_t)(t - s));
        p = comma ? comma + 1 : end;
    }
}

struct list_acc {
    char *out;
    size_t outlen, len;
    bool overflow;
    struct sl_slice remove; /* SUBTRACT: the items to drop */
};

static void has_item_cb(void *arg, const char *s, size_t n)
{
    struct sl_slice *want = arg;
    if (want->p && n == want->len && memcmp(s, want->p, n) == 0)
        want->p = NULL; /* found */
}

static bool list_has(const char *list, size_t len, const char *s, size_t n)
{
    struct sl_slice want = {(const uint8_t *)s, n};
    each_item(list, len, has_item_cb, &want);
    return want.p == NULL;
}

static void append_cb(void *arg, const char *s, size_t n)
{
    struct list_acc *a = arg;
    if (list_has(a->out, a->len, s, n))
        return;
    if (a->len + n + 2 > a->outlen) {
        a->overflow = true;
        return;
    }
    if (a->len)
        a->out[a->len++] = ',';
    memcpy(a->out + a->len, s, n);
    a->len += n;
    a->out[a->len] = 0;
}

static void keep_cb(void *arg, const char *s, size_t n)
{
    struct list_acc *a = arg;
    if (list_has((const char *)a->remove.p, a->remove.len, s, n))
        return;
    if (a->len + n + 2 > a->outlen) {
        a->overflow = true;
        return;
    }
    if (a->len)
        a->out[a->len++] = ',';
    memcpy(a->out + a->len, s, n);
    a->len += n;
    a->out[a->len] = 0;
}

int sl_cfg_list_op(int op, const char *cur, struct sl_slice arg, char *out, size_t outlen)
{
    if (!outlen)
        return -ENOSPC;
    out[0] = 0;
    struct list_acc a = {out, outlen, 0, false, arg};
    if (op == SL_CFG_OP_APPEND) {
        each_item(cur, strlen(cur), append_cb, &a);
        each_item((const char *)arg.p, arg.len, append_cb, &a);
    } else {
        each_item(cur, strlen(cur), keep_cb, &a);
    }
    return a.overflow ? -ENOSPC : 0;
}
