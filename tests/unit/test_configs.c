/* test_configs.c - tests for src/meta/configs.c (precedence, sources,
 * synonyms, checks of dynamic updates) and topic_config.c's checks. */
#include "testlib.h"

#include <errno.h>

#include "conf/conf.h"
#include "meta/configs.h"
#include "meta/image.h"
#include "meta/topic_config.h"

static struct sl_conf *new_conf(void)
{
    struct sl_conf *c = malloc(sizeof(*c));
    CHECK(c);
    sl_conf_defaults(c);
    return c;
}

static void set_static(struct sl_conf *c, const char *k, const char *v)
{
    char err[256];
    CHECK_EQ(sl_conf_set(c, k, v, err, sizeof(err)), 0);
}

static void set_dyn(struct sl_image_builder *b, int8_t type, const char *res, const char *k, const char *v)
{
    struct sl_slice val = sl_slice_cstr(v);
    CHECK_EQ(sl_image_set_config(b, type, sl_slice_cstr(res), sl_slice_cstr(k), &val), 0);
}

static struct sl_image_builder *with_topic(const char *name)
{
    struct sl_image_builder *b = sl_image_builder_new(NULL);
    struct sl_uuid u = {{0}};
    u.b[0] = 7;
    CHECK_EQ(sl_image_add_topic(b, sl_slice_cstr(name), &u), 0);
    return b;
}

static const struct sl_topic_config_key *tkey(const char *name)
{
    const struct sl_topic_config_key *k = sl_topic_config_find(name, strlen(name));
    CHECK(k);
    return k;
}

TEST(topic_value_follows_kafka_precedence)
{
    struct sl_conf *conf = new_conf();
    struct sl_cfg_entry *e = malloc(sizeof(*e));
    char v[64];

    /* 5: Kafka's default */
    struct sl_image_builder *b = with_topic("t");
    struct sl_image *img = sl_image_builder_finish(b, 1);
    const struct sl_image_topic *t = sl_image_topic_by_name(img, sl_slice_cstr("t"));
    sl_cfg_describe_topic(img, conf, 1, t, tkey("max.message.bytes"), e);
    CHECK(strcmp(e->value, "1048588") == 0);
    CHECK_EQ(e->source, SL_CFG_SRC_DEFAULT);
    CHECK_EQ(e->synonyms_n, 1);
    CHECK(strcmp(e->synonyms[0].name, "message.max.bytes") == 0);
    CHECK_EQ(e->synonyms[0].source, SL_CFG_SRC_DEFAULT);
    CHECK_EQ(e->type, 3); /* INT */
    sl_image_release(img);

    /* 4: static server.properties */
    set_static(conf, "message.max.bytes", "2000000");
    b = with_topic("t");
    img = sl_image_builder_finish(b, 1);
    t = sl_image_topic_by_name(img, sl_slice_cstr("t"));
    sl_cfg_describe_topic(img, conf, 1, t, tkey("max.message.bytes"), e);
    CHECK(strcmp(e->value, "2000000") == 0);
    CHECK_EQ(e->source, SL_CFG_SRC_STATIC_BROKER);
    CHECK_EQ(e->synonyms_n, 2);
    CHECK_EQ(e->synonyms[1].source, SL_CFG_SRC_DEFAULT);
    sl_image_release(img);

    /* 3: dynamic <default>; 2: dynamic for this broker (not another one); 1: topic */
    b = with_topic("t");
    set_dyn(b, SL_CFG_RES_BROKER, "", "message.max.bytes", "3000000");
    img = sl_image_builder_finish(b, 1);
    CHECK_EQ(sl_cfg_topic_int(img, conf, 1, sl_image_topic_by_name(img, sl_slice_cstr("t")), "max.message.bytes", 0),
             3000000);
    sl_image_release(img);

    b = with_topic("t");
    set_dyn(b, SL_CFG_RES_BROKER, "", "message.max.bytes", "3000000");
    set_dyn(b, SL_CFG_RES_BROKER, "2", "message.max.bytes", "5000000");
    set_dyn(b, SL_CFG_RES_BROKER, "1", "message.max.bytes", "4000000");
    img = sl_image_builder_finish(b, 1);
    t = sl_image_topic_by_name(img, sl_slice_cstr("t"));
    sl_cfg_describe_topic(img, conf, 1, t, tkey("max.message.bytes"), e);
    CHECK(strcmp(e->value, "4000000") == 0);
    CHECK_EQ(e->source, SL_CFG_SRC_DYNAMIC_BROKER);
    CHECK_EQ(e->synonyms_n, 4);
    CHECK_EQ(e->synonyms[0].source, SL_CFG_SRC_DYNAMIC_BROKER);
    CHECK_EQ(e->synonyms[1].source, SL_CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    CHECK(strcmp(e->synonyms[1].value, "3000000") == 0);
    CHECK_EQ(e->synonyms[2].source, SL_CFG_SRC_STATIC_BROKER);
    CHECK_EQ(e->synonyms[3].source, SL_CFG_SRC_DEFAULT);
    sl_image_release(img);

    b = with_topic("t");
    set_dyn(b, SL_CFG_RES_BROKER, "1", "message.max.bytes", "4000000");
    set_dyn(b, SL_CFG_RES_TOPIC, "t", "max.message.bytes", "1000");
    img = sl_image_builder_finish(b, 1);
    t = sl_image_topic_by_name(img, sl_slice_cstr("t"));
    sl_cfg_describe_topic(img, conf, 1, t, tkey("max.message.bytes"), e);
    CHECK(strcmp(e->value, "1000") == 0);
    CHECK_EQ(e->source, SL_CFG_SRC_DYNAMIC_TOPIC);
    CHECK(strcmp(e->synonyms[0].name, "max.message.bytes") == 0);
    CHECK(strcmp(e->synonyms[1].name, "message.max.bytes") == 0);
    CHECK_EQ(sl_cfg_topic_value(img, conf, 1, t, "max.message.bytes", v, sizeof(v)), 0);
    CHECK(strcmp(v, "1000") == 0);
    CHECK_EQ(sl_cfg_topic_value(img, conf, 1, t, "no.such.key", v, sizeof(v)), -ENOENT);
    sl_image_release(img);
    free(e);
    free(conf);
}

TEST(retention_ms_synonyms_follow_kafka_chain_rules)
{
    struct sl_conf *conf = new_conf();
    struct sl_cfg_entry *e = malloc(sizeof(*e));
    set_static(conf, "log.retention.hours", "1");
    struct sl_image *img = sl_image_builder_finish(with_topic("t"), 1);
    const struct sl_image_topic *t = sl_image_topic_by_name(img, sl_slice_cstr("t"));
    /* The value comes from log.retention.hours; like Kafka, the synonym list
     * is cut to start at log.retention.ms, so it is empty here. */
    sl_cfg_describe_topic(img, conf, 1, t, tkey("retention.ms"), e);
    CHECK(strcmp(e->value, "3600000") == 0);
    CHECK_EQ(e->synonyms_n, 0);
    CHECK_EQ(e->source, SL_CFG_SRC_DEFAULT);
    sl_image_release(img);

    struct sl_image_builder *b = with_topic("t");
    set_dyn(b, SL_CFG_RES_BROKER, "", "log.retention.ms", "1234");
    img = sl_image_builder_finish(b, 1);
    t = sl_image_topic_by_name(img, sl_slice_cstr("t"));
    sl_cfg_describe_topic(img, conf, 1, t, tkey("retention.ms"), e);
    CHECK(strcmp(e->value, "1234") == 0);
    CHECK_EQ(e->source, SL_CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    /* log.retention.ms (default), log.retention.hours (static), log.retention.hours (default) */
    CHECK_EQ(e->synonyms_n, 3);
    CHECK(strcmp(e->synonyms[1].name, "log.retention.hours") == 0);
    CHECK_EQ(e->synonyms[1].source, SL_CFG_SRC_STATIC_BROKER);
    CHECK(strcmp(e->synonyms[2].value, "168") == 0);
    sl_image_release(img);
    free(e);
    free(conf);
}

TEST(broker_describe_marks_read_only_sensitive_and_default_view)
{
    struct sl_conf *conf = new_conf();
    struct sl_cfg_entry *e = malloc(sizeof(*e));
    set_static(conf, "ssl.keystore.password", "secret");
    struct sl_image_builder *b = sl_image_builder_new(NULL);
    set_dyn(b, SL_CFG_RES_BROKER, "", "log.cleaner.threads", "2");
    struct sl_image *img = sl_image_builder_finish(b, 1);

    CHECK(sl_cfg_describe_broker(img, conf, 1, sl_conf_key_find("ssl.keystore.password"), true, e));
    CHECK(e->sensitive && e->null);
    CHECK_EQ(e->source, SL_CFG_SRC_STATIC_BROKER);
    CHECK(e->synonyms[0].null);

    CHECK(sl_cfg_describe_broker(img, conf, 1, sl_conf_key_find("log.dirs"), true, e));
    CHECK(e->read_only);
    CHECK(sl_cfg_describe_broker(img, conf, 1, sl_conf_key_find("log.cleaner.threads"), true, e));
    CHECK(!e->read_only);
    CHECK(strcmp(e->value, "2") == 0);
    CHECK_EQ(e->source, SL_CFG_SRC_DYNAMIC_DEFAULT_BROKER);

    /* <default>: only keys with a dynamic default, only that synonym */
    CHECK(!sl_cfg_describe_broker(img, conf, 1, sl_conf_key_find("log.dirs"), false, e));
    CHECK(sl_cfg_describe_broker(img, conf, 1, sl_conf_key_find("log.cleaner.threads"), false, e));
    CHECK_EQ(e->synonyms_n, 1);
    CHECK_EQ(e->source, SL_CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    sl_image_release(img);
    free(e);
    free(conf);
}

TEST(dynamic_broker_updates_are_checked_like_kafka)
{
    struct sl_conf *conf = new_conf();
    char err[320];
    struct sl_slice v;
#define CHK(key, val, per_broker) \
    (v = sl_slice_cstr(val), sl_cfg_check_broker(conf, sl_slice_cstr(key), &v, per_broker, err, sizeof(err)))
    CHECK_EQ(CHK("message.max.bytes", "2000000", false), 0);
    CHECK_EQ(CHK("message.max.bytes", "abc", true), -EINVAL);
    CHECK(strstr(err, "message.max.bytes"));
    CHECK_EQ(CHK("log.segment.bytes", "10", true), -EINVAL); /* below 14 */
    CHECK(strstr(err, "log.segment.bytes"));
    CHECK_EQ(CHK("log.dirs", "/tmp/x", true), -EPERM);
    CHECK(strstr(err, "Cannot update these configs dynamically: Set(log.dirs)"));
    CHECK_EQ(CHK("listeners", "PLAINTEXT://:9092", false), -EPERM); /* per broker only */
    CHECK(strstr(err, "broker id must be specified"));
    CHECK_EQ(CHK("no.such.key", "1", true), -ENOENT);
    CHECK(strstr(err, "no.such.key"));
    CHECK_EQ(CHK("compression.type", "brotli", false), -EINVAL);
    CHECK_EQ(sl_cfg_check_broker(conf, sl_slice_cstr("log.dirs"), NULL, true, err, sizeof(err)), -EPERM);
#undef CHK
    free(conf);
}

TEST(topic_values_are_checked_with_kafka_types_and_ranges)
{
    char err[300];
#define TCHK(k, v) sl_topic_config_check(k, strlen(k), v, strlen(v), err, sizeof(err))
    CHECK_EQ(TCHK("retention.ms", "-1"), 0);
    CHECK_EQ(TCHK("retention.ms", "-2"), -EINVAL);
    CHECK(strstr(err, "retention.ms"));
    CHECK_EQ(TCHK("max.message.bytes", "12x"), -EINVAL);
    CHECK_EQ(TCHK("max.message.bytes", "3000000000"), -EINVAL); /* beyond INT */
    CHECK_EQ(TCHK("cleanup.policy", "compact,delete"), 0);
    CHECK_EQ(TCHK("cleanup.policy", "shred"), -EINVAL);
    CHECK(strstr(err, "cleanup.policy"));
    CHECK_EQ(TCHK("min.cleanable.dirty.ratio", "1.5"), -EINVAL);
    CHECK_EQ(TCHK("preallocate", "yes"), -EINVAL);
    CHECK_EQ(TCHK("bogus.key", "1"), -ENOENT);
    CHECK(strstr(err, "bogus.key"));
#undef TCHK
}

TEST(list_append_and_subtract_keep_order_and_uniqueness)
{
    char out[128];
    CHECK_EQ(sl_cfg_list_op(SL_CFG_OP_APPEND, "delete", sl_slice_cstr("compact"), out, sizeof(out)), 0);
    CHECK(strcmp(out, "delete,compact") == 0);
    CHECK_EQ(sl_cfg_list_op(SL_CFG_OP_APPEND, "delete,compact", sl_slice_cstr("compact, delete"), out, sizeof(out)), 0);
    CHECK(strcmp(out, "delete,compact") == 0);
    CHECK_EQ(sl_cfg_list_op(SL_CFG_OP_SUBTRACT, "delete,compact", sl_slice_cstr("delete"), out, sizeof(out)), 0);
    CHECK(strcmp(out, "compact") == 0);
    CHECK_EQ(sl_cfg_list_op(SL_CFG_OP_SUBTRACT, "", sl_slice_cstr("delete"), out, sizeof(out)), 0);
    CHECK(strcmp(out, "") == 0);
    CHECK_EQ(sl_cfg_list_op(SL_CFG_OP_APPEND, "", sl_slice_cstr("a,b"), out, 3), -ENOSPC);
    CHECK(sl_cfg_is_list(SL_CFG_RES_TOPIC, sl_slice_cstr("cleanup.policy")));
    CHECK(!sl_cfg_is_list(SL_CFG_RES_TOPIC, sl_slice_cstr("retention.ms")));
    CHECK(!sl_cfg_is_list(SL_CFG_RES_BROKER, sl_slice_cstr("message.max.bytes")));
}

TEST(every_topic_key_default_comes_from_a_known_broker_key)
{
    size_t n;
    const struct sl_topic_config_key *keys = sl_topic_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        if (keys[i].broker_key && !sl_conf_key_find(keys[i].broker_key)) {
            fprintf(stderr, "%s -> %s unknown\n", keys[i].name, keys[i].broker_key);
            CHECK(0);
        }
    }
}
