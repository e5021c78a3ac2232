/*
 * configs.h - the configuration values in force, and where each comes from.
 *
 * Kafka's precedence (also MSK's), highest first:
 *   1 DYNAMIC_TOPIC_CONFIG          ConfigRecord on the topic
 *   2 DYNAMIC_BROKER_CONFIG         ConfigRecord on broker "<node.id>"
 *   3 DYNAMIC_DEFAULT_BROKER_CONFIG ConfigRecord on broker "" (<default>)
 *   4 STATIC_BROKER_CONFIG          server.properties / --override
 *   5 DEFAULT_CONFIG                Kafka's default
 * Dynamic configs live in the metadata image (img->broker_configs as
 * "<name>:<key>", topic configs on the topic); static ones in struct sl_conf.
 *
 * Synonyms follow Kafka's ConfigHelper: a topic key's synonyms are its
 * topic value, then the broker key that supplies its default with that key's
 * own synonym chain (log.retention.ms, log.retention.minutes,
 * log.retention.hours; log.roll.ms, log.roll.hours; ...), listed source by
 * source, and dropped up to the first entry carrying the key's own name.
 *
 * Thread: any; everything here reads an image the caller holds.
 */
#ifndef SL_META_CONFIGS_H
#define SL_META_CONFIGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

struct sl_conf;
struct sl_conf_key;
struct sl_image;
struct sl_image_topic;
struct sl_topic_config_key;

/* ConfigSource ids of DescribeConfigs v1+. */
#define SL_CFG_SRC_DYNAMIC_TOPIC 1
#define SL_CFG_SRC_DYNAMIC_BROKER 2
#define SL_CFG_SRC_DYNAMIC_DEFAULT_BROKER 3
#define SL_CFG_SRC_STATIC_BROKER 4
#define SL_CFG_SRC_DEFAULT 5

/* ConfigResource types. */
#define SL_CFG_RES_TOPIC 2
#define SL_CFG_RES_BROKER 4

/* IncrementalAlterConfigs operations. */
#define SL_CFG_OP_SET 0
#define SL_CFG_OP_DELETE 1
#define SL_CFG_OP_APPEND 2
#define SL_CFG_OP_SUBTRACT 3

#define SL_CFG_VALUE_MAX 1100  /* longest value shown (log.dirs, cipher suites) */
#define SL_CFG_SYNONYMS_MAX 16 /* 3 names x 4 sources, plus the topic's own */

struct sl_cfg_synonym {
    const char *name;            /* static string (a key table's name) */
    bool null;                   /* value is null (sensitive, or unset) */
    int8_t source;               /* SL_CFG_SRC_* */
    char value[SL_CFG_VALUE_MAX];
};

/* One DescribeConfigs entry. */
struct sl_cfg_entry {
    const char *name;            /* static string */
    bool null;                   /* value is null */
    char value[SL_CFG_VALUE_MAX];
    int8_t source;               /* SL_CFG_SRC_* */
    bool read_only;
    bool sensitive;
    int8_t type;                 /* DescribeConfigs ConfigType: 1 BOOLEAN .. 9 PASSWORD */
    const char *doc;             /* static string */
    int synonyms_n;
    struct sl_cfg_synonym synonyms[SL_CFG_SYNONYMS_MAX];
};

/* A dynamic broker config from the image: broker "" is <default>. NULL if unset. */
const char *sl_cfg_dynamic_broker(const struct sl_image *img, const char *broker, const char *key);

/* The broker key's value in force on node: dynamic per broker, dynamic
 * default, then static/default (a derived key's derived value). 0, or
 * 1 when the value is null (out = ""), -ENOENT for an unknown key. */
int sl_cfg_broker_value(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                        const char *key, char *out, size_t outlen);
/* The topic key's value in force for topic t (NULL: a topic with no
 * overrides) on node. 0, or -ENOENT for an unknown key. */
int sl_cfg_topic_value(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                       const struct sl_image_topic *t, const char *key, char *out, size_t outlen);
/* Integer shorthands of the above; dflt when unknown, null or unparsable. */
int64_t sl_cfg_topic_int(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                         const struct sl_image_topic *t, const char *key, int64_t dflt);

/* DescribeConfigs entries. broker: per_broker false is the <default>
 * resource, which lists only keys with a dynamic default (returns false for
 * the others: skip them). */
bool sl_cfg_describe_broker(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                            const struct sl_conf_key *k, bool per_broker, struct sl_cfg_entry *e);
void sl_cfg_describe_topic(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                           const struct sl_image_topic *t, const struct sl_topic_config_key *k,
                           struct sl_cfg_entry *e);
/* The same for a topic given its own value of k (NULL: none) rather than by
 * the image: CreateTopics, validateOnly included, reports what a
 * DescribeConfigs of the created topic would. */
void sl_cfg_describe_topic_own(const struct sl_image *img, const struct sl_conf *conf, int32_t node_id,
                               const struct sl_topic_config_key *k, const char *own, struct sl_cfg_entry *e);

/* Checks a dynamic broker config update. scratch: a copy of the static
 * configuration that the check may modify (sl_conf_set validates there).
 * per_broker: the resource is a broker id, not <default>. value NULL:
 * deletion (only the key is checked). 0; -ENOENT unknown key; -EPERM not
 * dynamically updatable (at this level); -EINVAL bad value. err names the
 * key in each case. */
int sl_cfg_check_broker(struct sl_conf *scratch, struct sl_slice key, const struct sl_slice *value,
                        bool per_broker, char *err, size_t errlen);
/* Whether the key's type is LIST (APPEND and SUBTRACT apply). */
bool sl_cfg_is_list(int8_t resource_type, struct sl_slice key);
/* APPEND / SUBTRACT: cur (a comma-separated list, may be empty) with the
 * items of arg added (each once, at the end) or removed. 0 or -ENOSPC. */
int sl_cfg_list_op(int op, const char *cur, struct sl_slice arg, char *out, size_t outlen);

#endif
