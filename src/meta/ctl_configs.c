/*
 * ctl_configs.c - AlterConfigs and IncrementalAlterConfigs on the
 * controller thread.
 *
 * A resource's dynamic configs are read from the image into a small map,
 * the operations are applied to it, every resulting value is checked
 * (topic keys by topic_config.c, broker keys by the broker key table on a
 * scratch copy of the static configuration), and the difference is written
 * as ConfigRecords (null value = delete) in one change. Nothing is written
 * when validate_only is set or nothing changed.
 */
#include "meta/ctl_configs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "conf/conf.h"
#include "meta/configs.h"
#include "meta/controller.h"
#include "meta/image.h"
#include "meta/topic_config.h"
#include "proto/gen/errors.h"
#include "proto/gen/meta_records.h"

static void fail(struct sl_cfg_result *res, int16_t error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct sl_cfg_result *res, int16_t error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    res->error = error;
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
}

struct kv {
    char *key;
    char *value;          /* NULL: absent (deleted) */
};

struct cmap {
    struct kv *v;
    int32_t n, cap;
};

static void cmap_free(struct cmap *m)
{
    for (int32_t i = 0; i < m->n; i++) {
        free(m->v[i].key);
        free(m->v[i].value);
    }
    free(m->v);
    m->v = NULL;
    m->n = m->cap = 0;
}

static struct kv *cmap_find(const struct cmap *m, const char *key, size_t len)
{
    for (int32_t i = 0; i < m->n; i++)
        if (strlen(m->v[i].key) == len && memcmp(m->v[i].key, key, len) == 0)
            return &m->v[i];
    return NULL;
}

/* Sets (value non-NULL) or clears key. 0 or -ENOMEM. */
static int cmap_put(struct cmap *m, const char *key, size_t klen, const char *value, size_t vlen)
{
    struct kv *e = cmap_find(m, key, klen);
    if (!e) {
        if (m->n == m->cap) {
            int32_t cap = m->cap ? m->cap * 2 : 16;
            struct kv *nv = realloc(m->v, sizeof(*nv) * (size_t)cap);
            if (!nv)
                return -ENOMEM;
            m->v = nv;
            m->cap = cap;
        }
        e = &m->v[m->n];
        e->key = strndup(key, klen);
        e->value = NULL;
        if (!e->key)
            return -ENOMEM;
        m->n++;
    }
    free(e->value);
    e->value = NULL;
    if (value && !(e->value = strndup(value, vlen)))
        return -ENOMEM;
    return 0;
}

/* The resource's current dynamic configs. */
static int load_current(const struct sl_image *img, int8_t type, const struct sl_image_topic *t,
                        struct sl_slice name, struct cmap *m)
{
    if (type == SL_CFG_RES_TOPIC) {
        for (int32_t i = 0; i < t->configs_n; i++)
            if (cmap_put(m, t->configs[i].key, strlen(t->configs[i].key), t->configs[i].value,
                         strlen(t->configs[i].value)) < 0)
                return -ENOMEM;
        return 0;
    }
    for (int32_t i = 0; i < img->broker_configs_n; i++) {
        const char *k = img->broker_configs[i].key;
        if (strlen(k) > name.len && k[name.len] == ':' && memcmp(k, name.p, name.len) == 0) {
            const char *key = k + name.len + 1;
            if (cmap_put(m, key, strlen(key), img->broker_configs[i].value, strlen(img->broker_configs[i].value)) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

/* What a key falls back to without a dynamic value on this resource:
 * APPEND and SUBTRACT start from it. */
static void inherited(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id, int8_t type,
                      struct sl_slice name, const char *key, char *out, size_t outlen)
{
    out[0] = 0;
    if (type == SL_CFG_RES_TOPIC) {
        sl_cfg_topic_value(img, conf, node_id, NULL, key, out, outlen);
        return;
    }
    const char *v = name.len ? sl_cfg_dynamic_broker(img, "", key) : NULL;
    if (v)
        snprintf(out, outlen, "%s", v);
    else if (sl_conf_get_string(conf, key, out, outlen) != 0)
        out[0] = 0;
}

static bool valid_broker_name(struct sl_slice name)
{
    if (name.len == 0)
        return true;
    if (name.len > 10)
        return false;
    long long id = 0;
    for (size_t i = 0; i < name.len; i++) {
        if (name.p[i] < '0' || name.p[i] > '9')
            return false;
        id = id * 10 + (name.p[i] - '0');
    }
    return id <= INT32_MAX;
}

/* Checks one resulting value (or a deletion: value NULL). */
static int check_value(int8_t type, struct sl_conf *scratch, struct sl_slice name, const char *key,
                       const char *value, struct sl_cfg_result *res)
{
    char err[300];
    size_t klen = strlen(key);
    if (type == SL_CFG_RES_TOPIC) {
        if (!value) {
            if (!sl_topic_config_find(key, klen)) {
                fail(res, SL_KERR_INVALID_CONFIG, "Unknown topic config name: %s", key);
                return -1;
            }
            return 0;
        }
        if (sl_topic_config_check(key, klen, value, strlen(value), err, sizeof(err)) < 0) {
            fail(res, SL_KERR_INVALID_CONFIG, "%s", err);
            return -1;
        }
        return 0;
    }
    struct sl_slice v = sl_slice_cstr(value ? value : "");
    if (sl_cfg_check_broker(scratch, sl_slice_cstr(key), value ? &v : NULL, name.len > 0, err, sizeof(err)) < 0) {
        fail(res, SL_KERR_INVALID_CONFIG, "Invalid config value for resource ConfigResource(type=BROKER, name='%.*s'): %s",
             SL_SLICE_FMT(name), err);
        return -1;
    }
    return 0;
}

void sl_ctl_alter_configs(struct sl_controller *ctl, int8_t type, struct sl_slice name,
                          const struct sl_cfg_alter *ops, int32_t n, bool incremental, bool validate_only,
                          struct sl_cfg_result *res)
{
    const struct sl_conf *conf = sl_controller_conf(ctl);
    const struct sl_image *img = sl_controller_image(ctl);
    struct sl_broker *broker = sl_controller_broker(ctl);
    int32_t node_id = conf->node_id;
    (void)broker;
    memset(res, 0, sizeof(*res));
    struct cmap cur = {0}, next = {0};
    struct sl_conf *scratch = NULL;
    struct sl_meta_rec *recs = NULL;
    struct sl_ConfigRecord *crs = NULL;
    char *buf = NULL;
    const struct sl_image_topic *t = NULL;

    if (type == SL_CFG_RES_TOPIC) {
        t = sl_image_topic_by_name(img, name);
        if (!t) {
            fail(res, SL_KERR_UNKNOWN_TOPIC_OR_PARTITION, "Topic %.*s does not exist.", SL_SLICE_FMT(name));
            return;
        }
    } else if (type == SL_CFG_RES_BROKER) {
        if (!valid_broker_name(name)) {
            fail(res, SL_KERR_INVALID_REQUEST, "Invalid broker name %.*s", SL_SLICE_FMT(name));
            return;
        }
    } else {
        fail(res, SL_KERR_INVALID_REQUEST, "Unsupported resource type %d for altering configs", type);
        return;
    }
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j < i; j++)
            if (sl_slice_eq(ops[i].key, ops[j].key)) {
                fail(res, SL_KERR_INVALID_REQUEST, "Error due to duplicate config keys");
                return;
            }

    scratch = malloc(sizeof(*scratch));
    buf = malloc(SL_CFG_VALUE_MAX * 2);
    if (!scratch || !buf || load_current(img, type, t, name, &cur) < 0 ||
        (incremental && load_current(img, type, t, name, &next) < 0)) {
        fail(res, SL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        goto out;
    }
    memcpy(scratch, conf, sizeof(*scratch));

    for (int32_t i = 0; i < n; i++) {
        const struct sl_cfg_alter *op = &ops[i];
        char key[256];
        if (op->key.len == 0 || op->key.len >= sizeof(key) || memchr(op->key.p, 0, op->key.len)) {
            fail(res, SL_KERR_INVALID_CONFIG, "Invalid config name '%.*s'", (int)(op->key.len > 200 ? 200 : op->key.len),
                 op->key.p ? (const char *)op->key.p : "");
            goto out;
        }
        memcpy(key, op->key.p, op->key.len);
        key[op->key.len] = 0;
        int rc = 0;
        switch (op->op) {
        case SL_CFG_OP_SET:
            if (!op->value.p) {
                fail(res, SL_KERR_INVALID_REQUEST, "Null value not supported for : %s", key);
                goto out;
            }
            if (check_value(type, scratch, name, key, NULL, res) < 0)
                goto out;
            rc = cmap_put(&next, key, op->key.len, (const char *)op->value.p, op->value.len);
            break;
        case SL_CFG_OP_DELETE:
            if (check_value(type, scratch, name, key, NULL, res) < 0)
                goto out;
            rc = cmap_put(&next, key, op->key.len, NULL, 0);
            break;
        case SL_CFG_OP_APPEND:
        case SL_CFG_OP_SUBTRACT: {
            if (check_value(type, scratch, name, key, NULL, res) < 0)
                goto out;
            if (!sl_cfg_is_list(type, op->key)) {
                fail(res, SL_KERR_INVALID_CONFIG, "Config value %s is not allowed for config key %s because its type is not LIST.",
                     op->op == SL_CFG_OP_APPEND ? "append" : "subtract", key);
                goto out;
            }
            struct kv *e = cmap_find(&next, key, op->key.len);
            char *base = buf + SL_CFG_VALUE_MAX;
            if (e && e->value)
                snprintf(base, SL_CFG_VALUE_MAX, "%s", e->value);
            else
                inherited(img, conf, node_id, type, name, key, base, SL_CFG_VALUE_MAX);
            struct sl_slice arg = op->value.p ? op->value : sl_slice_cstr("");
            if (sl_cfg_list_op(op->op, base, arg, buf, SL_CFG_VALUE_MAX) < 0) {
                fail(res, SL_KERR_INVALID_CONFIG, "Value of %s would be too long", key);
                goto out;
            }
            rc = cmap_put(&next, key, op->key.len, buf, strlen(buf));
            break;
        }
        default:
            fail(res, SL_KERR_INVALID_REQUEST, "Unknown alter configs operation %d for %s", op->op, key);
            goto out;
        }
        if (rc < 0) {
            fail(res, SL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
            goto out;
        }
    }
    /* Check every value that would be in force, in request order. */
    for (int32_t i = 0; i < next.n; i++)
        if (next.v[i].value && check_value(type, scratch, name, next.v[i].key, next.v[i].value, res) < 0)
            goto out;
    if (validate_only)
        goto out;

    /* The difference: changed or new keys, then keys that went away. */
    int32_t cap = next.n + cur.n;
    recs = calloc((size_t)cap + 1, sizeof(*recs));
    crs = calloc((size_t)cap + 1, sizeof(*crs));
    if (!recs || !crs) {
        fail(res, SL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        goto out;
    }
    int k = 0;
    for (int32_t i = 0; i < next.n; i++) {
        struct kv *e = &next.v[i];
        struct kv *old = cmap_find(&cur, e->key, strlen(e->key));
        const char *ov = old ? old->value : NULL;
        if ((!ov && !e->value) || (ov && e->value && strcmp(ov, e->value) == 0))
            continue;
        sl_ConfigRecord_init(&crs[k]);
        crs[k].ResourceType = type;
        crs[k].ResourceName = name;
        crs[k].Name = sl_slice_cstr(e->key);
        crs[k].Value = e->value ? sl_slice_cstr(e->value) : (struct sl_slice){NULL, 0};
        recs[k] = (struct sl_meta_rec){4, 0, &crs[k]};
        k++;
    }
    for (int32_t i = 0; i < cur.n; i++) {
        if (cmap_find(&next, cur.v[i].key, strlen(cur.v[i].key)))
            continue;
        sl_ConfigRecord_init(&crs[k]);
        crs[k].ResourceType = type;
        crs[k].ResourceName = name;
        crs[k].Name = sl_slice_cstr(cur.v[i].key);
        crs[k].Value = (struct sl_slice){NULL, 0};
        recs[k] = (struct sl_meta_rec){4, 0, &crs[k]};
        k++;
    }
    if (k == 0)
        goto out;
    int rc = sl_controller_write(ctl, recs, k);
    if (rc < 0) {
        fail(res, rc == -ENOSPC || rc == -EIO ? SL_KERR_KAFKA_STORAGE_ERROR : SL_KERR_UNKNOWN_SERVER_ERROR,
             "cannot write the configs to the metadata log: %s", strerror(-rc));
        goto out;
    }
    SL_INFO("meta", "altered %d config(s) of %s %s%.*s", k, type == SL_CFG_RES_TOPIC ? "topic" : "broker",
            type == SL_CFG_RES_BROKER && name.len == 0 ? "<default>" : "", SL_SLICE_FMT(name));
out:
    cmap_free(&cur);
    cmap_free(&next);
    free(scratch);
    free(buf);
    free(recs);
    free(crs);
}
