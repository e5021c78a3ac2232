/*
 * topic_config.h - Kafka's topic-level configuration keys: their types,
 * valid values and the broker key that supplies each default (retention.ms
 * falls back to log.retention.ms, and so on).
 */
#ifndef SL_META_TOPIC_CONFIG_H
#define SL_META_TOPIC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

struct sl_topic_config_key {
    const char *name;        /* topic key, e.g. "retention.ms" */
    enum sl_conf_type type;  /* Kafka's ConfigDef type */
    const char *broker_key;  /* broker key holding the default, or NULL */
    const char *dflt;        /* default when broker_key is NULL */
    int64_t min, max;        /* numeric range, inclusive */
    const char *allowed;     /* comma-separated allowed values (STRING, LIST), or NULL */
    const char *doc;         /* one line */
};

const struct sl_topic_config_key *sl_topic_config_keys(size_t *n);
const struct sl_topic_config_key *sl_topic_config_find(const char *name, size_t len);
/* 0 when value is valid for the key; -ENOENT for an unknown key, -EINVAL
 * for a bad value; err says which in Kafka's words. */
int  sl_topic_config_check(const char *name, size_t name_len, const char *value, size_t value_len,
                           char *err, size_t errlen);
/* The default of a topic key from the broker configuration. */
int  sl_topic_config_default(const struct sl_conf *conf, const struct sl_topic_config_key *k, char *out,
                             size_t outlen);

#endif
