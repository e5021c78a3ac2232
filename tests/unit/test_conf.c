/* test_conf.c - tests for src/conf/ (conf.c, keys.c, props.c) */
#include "testlib.h"

#include "conf/conf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

static struct sl_conf conf; /* big: keep it off the stack */
static char err[1024];

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (strcmp(a_, b_) != 0) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", expected \"%s\"\n", __FILE__,  \
                    __LINE__, #a, a_, b_);                                                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static int load(const char *text)
{
    return sl_conf_load_buffer(&conf, "test.properties", text, strlen(text), err, sizeof(err));
}

static int set(const char *k, const char *v)
{
    err[0] = '\0';
    return sl_conf_set(&conf, k, v, err, sizeof(err));
}

static const char *get(const char *k)
{
    static char out[2048];
    int rc = sl_conf_get_string(&conf, k, out, sizeof(out));
    CHECK(rc == 0 || rc == SL_CONF_NULL);
    return out;
}

TEST(key_table_is_sorted_unique_and_every_default_validates)
{
    size_t n;
    const struct sl_conf_key *keys = sl_conf_keys(&n);
    CHECK(n > 100 && n <= SL_CONF_MAX_KEYS);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(keys[i - 1].name, keys[i].name) >= 0) {
            fprintf(stderr, "out of order: %s, %s\n", keys[i - 1].name, keys[i].name);
            CHECK(0);
        }
        CHECK(keys[i].doc && keys[i].doc[0]);
        CHECK(sl_conf_key_find(keys[i].name) == &keys[i]);
        kept += keys[i].size == 0;
        sl_conf_defaults(&conf);
        if (keys[i].dflt)
            CHECK_EQ(set(keys[i].name, keys[i].dflt), 0);
    }
    CHECK(kept <= SL_CONF_KEPT_MAX);
    CHECK(sl_conf_key_find("no.such.key") == NULL);
}

TEST(defaults_match_kafka_and_sluice_choices)
{
    sl_conf_defaults(&conf);
    CHECK_EQ(conf.node_id, 1);
    CHECK_STR(conf.process_roles, "broker,controller");
    CHECK_STR(conf.listeners, "PLAINTEXT://127.0.0.1:9092");
    CHECK_STR(conf.advertised_listeners, "");
    CHECK_STR(conf.log_dirs, "./data");
    CHECK_EQ(conf.num_network_threads, 0);
    CHECK_EQ(conf.num_io_threads, 8);
    CHECK_EQ(conf.socket_request_max_bytes, 104857600);
    CHECK_EQ(conf.connections_max_idle_ms, 600000);
    CHECK_EQ(conf.max_connections, INT32_MAX);
    CHECK_EQ(conf.max_connections_per_ip, INT32_MAX);
    CHECK_EQ(conf.num_partitions, 1);
    CHECK_EQ(conf.default_replication_factor, 1);
    CHECK(conf.auto_create_topics_enable);
    CHECK(conf.delete_topic_enable);
    CHECK_EQ(conf.log_segment_bytes, 1073741824);
    CHECK_EQ(conf.log_roll_ms, 168LL * 3600000);
    CHECK_EQ(conf.log_retention_ms, 168LL * 3600000);
    CHECK_EQ(conf.log_retention_bytes, -1);
    CHECK_EQ(conf.log_retention_check_interval_ms, 300000);
    CHECK_EQ(conf.log_index_interval_bytes, 4096);
    CHECK_EQ(conf.log_index_size_max_bytes, 10485760);
    CHECK_EQ(conf.log_flush_interval_messages, INT64_MAX);
    CHECK_EQ(conf.log_flush_interval_ms, -1);
    CHECK(conf.log_flush_before_ack);
    CHECK_EQ(conf.message_max_bytes, 1048588);
    CHECK_STR(conf.log_cleanup_policy, "delete");
    CHECK_STR(conf.compression_type, "producer");
    CHECK_STR(conf.log_message_timestamp_type, "CreateTime");
    CHECK_EQ(conf.min_insync_replicas, 1);
    CHECK_EQ(conf.offsets_topic_num_partitions, 50);
    CHECK_EQ(conf.offsets_retention_minutes, 10080);
    CHECK_EQ(conf.group_initial_rebalance_delay_ms, 3000);
    CHECK_EQ(conf.group_min_session_timeout_ms, 6000);
    CHECK_EQ(conf.group_max_session_timeout_ms, 1800000);
    CHECK_EQ(conf.transaction_state_log_num_partitions, 50);
    CHECK_EQ(conf.transactional_id_expiration_ms, 604800000);
    CHECK_EQ(conf.transaction_max_timeout_ms, 900000);
    CHECK_EQ(conf.producer_id_expiration_ms, 86400000);
    CHECK_STR(conf.cluster_id, "");
    CHECK_STR(conf.log_level, "INFO");
    CHECK_STR(conf.log_format, "text");
    CHECK_STR(conf.admin_listeners, "http://127.0.0.1:9644");
    CHECK_EQ(sl_conf_validate(&conf, err, sizeof(err)), 0);
    CHECK(!sl_conf_is_set(&conf, "num.partitions"));
}

TEST(file_parsing_handles_comments_separators_continuations_and_escapes)
{
    sl_conf_defaults(&conf);
    const char *text = "# a comment\n"
                       "   ! another comment \\\n"
                       "num.partitions=3\n"
                       "\n"
                       "  default.replication.factor : 1  \n"
                       "broker.rack   use1-az1\n"
                       "log.dirs=/a,\\\n"
                       "         /b,\\\n"
                       "   /c\n"
                       "ssl.cipher.suites = tab\\tx\\u00e9\\uD83D\\uDE00\\=\\:\\\\\\ end\n"
                       "sasl.enabled.mechanisms\\u003dx=PLAIN\r\n"
                       "auto.create.topics.enable:FALSE\r"
                       "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.Foo required;\n"
                       "log.retention.hours=1\\\\\n"
                       "log.retention.hours=2";
    CHECK_EQ(load(text), -EINVAL); /* "1\\" is the value "1\": not an integer */
    CHECK(strstr(err, "test.properties:14: invalid value '1\\' for log.retention.hours") != NULL);
    /* everything before line 14 applied */
    CHECK_EQ(conf.num_partitions, 3);
    CHECK_EQ(conf.default_replication_factor, 1);
    CHECK_STR(conf.broker_rack, "use1-az1");
    CHECK_STR(conf.log_dirs, "/a,/b,/c");
    CHECK_STR(conf.ssl_cipher_suites, "tab\tx\xc3\xa9\xf0\x9f\x98\x80=:\\ end");
    CHECK(!conf.auto_create_topics_enable);
    CHECK_STR(get("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"), "org.Foo required;");
    CHECK_STR(conf.sasl_enabled_mechanisms, "GSSAPI"); /* the key was "...mechanisms=x" */
}

TEST(comment_with_trailing_backslash_does_not_continue)
{
    sl_conf_defaults(&conf);
    CHECK_EQ(load("# comment \\\nnum.partitions=4\nkey.with.no.value\n"), 0);
    CHECK_EQ(conf.num_partitions, 4);
}

TEST(malformed_unicode_escape_is_an_error_with_line)
{
    sl_conf_defaults(&conf);
    CHECK_EQ(load("num.partitions=2\nbroker.rack=\\u12G4\n"), -EINVAL);
    CHECK(strstr(err, "test.properties:2") != NULL);
    CHECK(strstr(err, "\\uXXXX") != NULL);
}

TEST(load_file_reads_a_file_and_reports_missing_ones)
{
    char path[] = "/tmp/test_conf_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = "node.id=7\nlog.segment.bytes=1048576\n";
    CHECK_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
    close(fd);
    sl_conf_defaults(&conf);
    CHECK_EQ(sl_conf_load_file(&conf, path, err, sizeof(err)), 0);
    CHECK_EQ(conf.node_id, 7);
    CHECK_EQ(conf.log_segment_bytes, 1048576);
    unlink(path);
    CHECK_EQ(sl_conf_load_file(&conf, path, err, sizeof(err)), -ENOENT);
    CHECK(strstr(err, path) != NULL);
}

TEST(overrides_beat_the_file_and_apply_in_order)
{
    char path[] = "/tmp/test_conf_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = "num.partitions=3\nnode.id=5\nlog.retention.ms=1000\n";
    CHECK_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
    close(fd);
    char *argv[] = {"sluiced", path, "--override", "num.partitions=6", "--override=num.partitions=9",
                    "--override", "log.retention.hours=1", "--override", " broker.rack = az-2 ", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 9, argv, err, sizeof(err)), 0);
    unlink(path);
    CHECK_EQ(conf.num_partitions, 9);
    CHECK_EQ(conf.node_id, 5);
    CHECK_EQ(conf.log_retention_ms, 1000); /* ms from the file still beats hours */
    CHECK_STR(conf.broker_rack, "az-2");
    CHECK(sl_conf_is_set(&conf, "num.partitions"));
}

TEST(from_args_help_version_and_errors)
{
    char *help[] = {"sluiced", "--override", "num.partitions=2", "-h", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 4, help, err, sizeof(err)), SL_CONF_HELP);
    char *help2[] = {"sluiced", "--help", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 2, help2, err, sizeof(err)), SL_CONF_HELP);
    CHECK(strstr(sl_conf_usage(), "--override") != NULL);
    char *ver[] = {"sluiced", "--version", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 2, ver, err, sizeof(err)), SL_CONF_VERSION);
    CHECK(sl_conf_version()[0] != '\0');

    char *none[] = {"sluiced", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 1, none, err, sizeof(err)), 0);
    CHECK_EQ(conf.num_partitions, 1);

    char *bad[] = {"sluiced", "--override", "num.partitions=abc", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 3, bad, err, sizeof(err)), -EINVAL);
    CHECK_STR(err, "invalid value 'abc' for num.partitions: expected an integer >= 1");

    char *noeq[] = {"sluiced", "--override", "num.partitions", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 3, noeq, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "key=value") != NULL);
    char *dangling[] = {"sluiced", "--override", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 2, dangling, err, sizeof(err)), -EINVAL);
    char *opt[] = {"sluiced", "--frobnicate", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 2, opt, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "--frobnicate") != NULL);
    char *two[] = {"sluiced", "a.properties", "b.properties", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 3, two, err, sizeof(err)), -EINVAL);
    char *missing[] = {"sluiced", "/nonexistent/server.properties", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 2, missing, err, sizeof(err)), -ENOENT);

    char *unknown[] = {"sluiced", "--override", "foo.bar=1", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 3, unknown, err, sizeof(err)), 0);

    char *cross[] = {"sluiced", "--override", "process.roles=broker", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 3, cross, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "controller.quorum.voters") != NULL);
}

TEST(each_kind_of_invalid_value_gives_its_sentence)
{
    static const struct {
        const char *key, *value, *msg;
    } cases[] = {
        {"num.partitions", "abc", "invalid value 'abc' for num.partitions: expected an integer >= 1"},
        {"num.partitions", "0", "invalid value '0' for num.partitions: expected an integer >= 1"},
        {"num.partitions", "", "invalid value '' for num.partitions: expected an integer >= 1"},
        {"num.partitions", "1.5", "invalid value '1.5' for num.partitions: expected an integer >= 1"},
        {"num.partitions", "0x10", "invalid value '0x10' for num.partitions: expected an integer >= 1"},
        {"num.partitions", "99999999999",
         "invalid value '99999999999' for num.partitions: expected an integer in [1, 2147483647]"},
        {"log.segment.bytes", "13", "invalid value '13' for log.segment.bytes: expected an integer >= 14"},
        {"log.retention.bytes", "99999999999999999999",
         "invalid value '99999999999999999999' for log.retention.bytes: expected an integer in "
         "[-9223372036854775808, 9223372036854775807]"},
        {"compression.gzip.level", "10",
         "invalid value '10' for compression.gzip.level: expected an integer in [-1, 9]"},
        {"offsets.topic.replication.factor", "40000",
         "invalid value '40000' for offsets.topic.replication.factor: expected an integer in [1, 32767]"},
        {"auto.create.topics.enable", "yes",
         "invalid value 'yes' for auto.create.topics.enable: expected true or false"},
        {"auto.create.topics.enable", "1", "invalid value '1' for auto.create.topics.enable: expected true or false"},
        {"compression.type", "brotli",
         "invalid value 'brotli' for compression.type: expected one of: uncompressed, zstd, lz4, snappy, gzip, "
         "producer"},
        {"log.cleanup.policy", "delete,bogus",
         "invalid value 'delete,bogus' for log.cleanup.policy: expected a comma-separated list of: delete, "
         "compact"},
        {"log.cleaner.min.cleanable.ratio", "1.5",
         "invalid value '1.5' for log.cleaner.min.cleanable.ratio: expected a number in [0, 1]"},
        {"log.cleaner.io.buffer.load.factor", "x",
         "invalid value 'x' for log.cleaner.io.buffer.load.factor: expected a number"},
        {"log.level", "LOUD",
         "invalid value 'LOUD' for log.level: expected one of ERROR, WARN, INFO, DEBUG, TRACE"},
        {"log.format", "xml", "invalid value 'xml' for log.format: expected one of: text, json"},
        {"process.roles", "broker,broker",
         "invalid value 'broker,broker' for process.roles: expected \"broker\", \"controller\" or "
         "\"broker,controller\""},
        {"listeners", "PLAINTEXT://localhost",
         "invalid value 'PLAINTEXT://localhost' for listeners: expected NAME://host:port,... "
         "('PLAINTEXT://localhost': missing port)"},
        {"broker.rack",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "invalid value 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
         "for broker.rack: longer than 63 bytes"},
        {"ssl.keystore.password", "", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sl_conf_defaults(&conf);
        if (!cases[i].msg) {
            CHECK_EQ(set(cases[i].key, cases[i].value), 0);
            continue;
        }
        CHECK_EQ(set(cases[i].key, cases[i].value), -EINVAL);
        if (strcmp(err, cases[i].msg) != 0) {
            fprintf(stderr, "got:      %s\nexpected: %s\n", err, cases[i].msg);
            CHECK(0);
        }
        CHECK(!sl_conf_is_set(&conf, cases[i].key));
    }
}

TEST(failed_set_keeps_previous_value_and_passwords_are_not_echoed)
{
    sl_conf_defaults(&conf);
    CHECK_EQ(set("num.partitions", "4"), 0);
    CHECK_EQ(set("num.partitions", "-4"), -EINVAL);
    CHECK_EQ(conf.num_partitions, 4);
    CHECK_EQ(set("compression.type", "nope"), -EINVAL);
    CHECK_STR(conf.compression_type, "producer");
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_EQ(set("ssl.key.password", big), -EINVAL);
    CHECK(strstr(err, "xxxx") == NULL);
    CHECK(strstr(err, "ssl.key.password") != NULL);
    CHECK_EQ(set("ssl.key.password", " secret "), 0);
    CHECK_STR(conf.ssl_key_password, " secret "); /* passwords are not trimmed */
}

TEST(booleans_are_case_insensitive_and_values_trimmed)
{
    sl_conf_defaults(&conf);
    CHECK_EQ(set("delete.topic.enable", "FaLsE"), 0);
    CHECK(!conf.delete_topic_enable);
    CHECK_EQ(set("delete.topic.enable", " TRUE\t"), 0);
    CHECK(conf.delete_topic_enable);
    CHECK_EQ(set("num.partitions", "  +12 "), 0);
    CHECK_EQ(conf.num_partitions, 12);
    CHECK_EQ(set("log.cleanup.policy", "compact, delete"), 0);
    CHECK_EQ(set("remote.log.storage.system.enable", "TRUE"), 0);
    CHECK_STR(get("remote.log.storage.system.enable"), "true");
}

TEST(unknown_key_returns_one_and_changes_nothing)
{
    sl_conf_defaults(&conf);
    CHECK_EQ(set("foo.bar", "1"), SL_CONF_UNKNOWN);
    CHECK_EQ(set("zookeeper.connect", "localhost:2181"), SL_CONF_UNKNOWN);
    CHECK_EQ(sl_conf_validate(&conf, err, sizeof(err)), 0);
    CHECK_EQ(load("foo.bar=1\nnum.partitions=2\n"), 0);
    CHECK_EQ(conf.num_partitions, 2);
}

TEST(listener_parsing_names_hosts_ports_and_ipv6)
{
    struct sl_conf_listener l[8];
    int n = sl_conf_parse_listeners(
        "PLAINTEXT://127.0.0.1:9092, ssl://:9094,Internal_1://[::1]:0,SASL_SSL://[fe80::1%eth0]:9096,"
        "EXT://broker-1.example.com:19092,RAW6://::1:9097",
        l, 8, err, sizeof(err));
    CHECK_EQ(n, 6);
    CHECK_STR(l[0].name, "PLAINTEXT");
    CHECK_STR(l[0].host, "127.0.0.1");
    CHECK_EQ(l[0].port, 9092);
    CHECK_STR(l[1].name, "SSL");
    CHECK_STR(l[1].host, "");
    CHECK_EQ(l[1].port, 9094);
    CHECK_STR(l[2].name, "INTERNAL_1");
    CHECK_STR(l[2].host, "::1");
    CHECK_EQ(l[2].port, 0);
    CHECK_STR(l[3].host, "fe80::1%eth0");
    CHECK_EQ(l[3].port, 9096);
    CHECK_STR(l[4].host, "broker-1.example.com");
    CHECK_STR(l[5].host, "::1"); /* Kafka's regex accepts unbracketed IPv6 too */
    CHECK_EQ(l[5].port, 9097);
    CHECK_EQ(sl_conf_parse_listeners("", l, 8, err, sizeof(err)), 0);
    CHECK_EQ(sl_conf_parse_listeners("  ", l, 8, err, sizeof(err)), 0);
}

TEST(malformed_listeners_are_rejected_with_a_reason)
{
    static const struct {
        const char *s, *why;
    } bad[] = {
        {"127.0.0.1:9092", "missing '://'"},
        {"PLAINTEXT://127.0.0.1", "missing port"},
        {"PLAINTEXT://127.0.0.1:", "missing port"},
        {"PLAINTEXT://127.0.0.1:70000", "port must be 0-65535"},
        {"PLAINTEXT://127.0.0.1:123456", "port must be 0-65535"},
        {"PLAINTEXT://127.0.0.1:-1", "port must be a number"},
        {"PLAINTEXT://host:abc", "port must be a number"},
        {"PLAINTEXT://[::1:9092", "unclosed '['"},
        {"PLAINTEXT://[::1]9092", "missing port"},
        {"://127.0.0.1:9092", "listener name must be 1-63 characters"},
        {"PLAIN TEXT://h:1", "listener name may hold"},
        {"PLAINTEXT://h/x:1", "invalid character in host"},
        {"PLAINTEXT://h:1,,SSL://h:2", "empty listener"},
        {"A://h:1,B://h:2,C://h:3", "too many listeners"},
    };
    struct sl_conf_listener l[2];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        int n = sl_conf_parse_listeners(bad[i].s, l, 2, err, sizeof(err));
        if (n != -EINVAL || !strstr(err, bad[i].why)) {
            fprintf(stderr, "'%s': got %d '%s', expected '%s'\n", bad[i].s, n, err, bad[i].why);
            CHECK(0);
        }
    }
}

TEST(voter_parsing)
{
    struct sl_conf_voter v[4];
    CHECK_EQ(sl_conf_parse_voters("1@127.0.0.1:9093, 2@[::1]:9093,3@c3:19093", v, 4, err, sizeof(err)), 3);
    CHECK_EQ(v[0].id, 1);
    CHECK_STR(v[1].host, "::1");
    CHECK_EQ(v[2].port, 19093);
    CHECK_EQ(sl_conf_parse_voters("x@h:1", v, 4, err, sizeof(err)), -EINVAL);
    CHECK_EQ(sl_conf_parse_voters("1h:1", v, 4, err, sizeof(err)), -EINVAL);
    CHECK_EQ(sl_conf_parse_voters("1@h:0", v, 4, err, sizeof(err)), -EINVAL);
    CHECK_EQ(sl_conf_parse_voters("1@:9093", v, 4, err, sizeof(err)), -EINVAL);
    CHECK_EQ(sl_conf_parse_voters("99999999999@h:1", v, 4, err, sizeof(err)), -EINVAL);
}

TEST(retention_precedence_ms_then_minutes_then_hours)
{
    sl_conf_defaults(&conf);
    CHECK_EQ(set("log.retention.hours", "2"), 0);
    CHECK_EQ(conf.log_retention_ms, 2LL * 3600000);
    CHECK_EQ(set("log.retention.minutes", "3"), 0);
    CHECK_EQ(conf.log_retention_ms, 3LL * 60000);
    CHECK_EQ(set("log.retention.hours", "5"), 0); /* hours set later still loses to minutes */
    CHECK_EQ(conf.log_retention_ms, 3LL * 60000);
    CHECK_EQ(set("log.retention.ms", "1234"), 0);
    CHECK_EQ(conf.log_retention_ms, 1234);
    CHECK_EQ(set("log.retention.minutes", "7"), 0);
    CHECK_EQ(conf.log_retention_ms, 1234);
    CHECK_EQ(set("log.retention.ms", "-1"), 0);
    CHECK_EQ(conf.log_retention_ms, -1);

    sl_conf_defaults(&conf);
    CHECK_EQ(load("log.retention.ms=500\nlog.retention.hours=1\n"), 0);
    CHECK_EQ(conf.log_retention_ms, 500);
    sl_conf_defaults(&conf);
    CHECK_EQ(set("log.retention.hours", "-1"), 0);
    CHECK_EQ(conf.log_retention_ms, -1);
    CHECK_STR(get("log.retention.ms"), "-1");
}

TEST(roll_and_dir_precedence)
{
    sl_conf_defaults(&conf);
    CHECK_EQ(set("log.roll.hours", "1"), 0);
    CHECK_EQ(conf.log_roll_ms, 3600000);
    CHECK_EQ(set("log.roll.ms", "100"), 0);
    CHECK_EQ(set("log.roll.hours", "2"), 0);
    CHECK_EQ(conf.log_roll_ms, 100);
    CHECK_EQ(set("log.roll.jitter.hours", "1"), 0);
    CHECK_EQ(conf.log_roll_jitter_ms, 3600000);
    CHECK_EQ(set("log.dir", "/x"), 0);
    CHECK_STR(conf.log_dirs, "/x");
    CHECK_EQ(set("log.dirs", "/y,/z"), 0);
    CHECK_EQ(set("log.dir", "/w"), 0);
    CHECK_STR(conf.log_dirs, "/y,/z");
    CHECK_EQ(set("log.dirs", ""), -EINVAL);
}

TEST(flush_settings_decide_fsync_before_ack)
{
    sl_conf_defaults(&conf);
    CHECK(conf.log_flush_before_ack);
    CHECK_EQ(set("log.flush.interval.ms", "0"), 0);
    CHECK(conf.log_flush_before_ack);
    CHECK_EQ(set("log.flush.interval.ms", "1000"), 0);
    CHECK(!conf.log_flush_before_ack);
    sl_conf_defaults(&conf);
    CHECK_EQ(set("log.flush.interval.messages", "1"), 0);
    CHECK(conf.log_flush_before_ack);
    CHECK_EQ(set("log.flush.interval.messages", "10000"), 0);
    CHECK(!conf.log_flush_before_ack);
}

TEST(get_string_formats_every_kind)
{
    sl_conf_defaults(&conf);
    char out[64];
    CHECK_STR(get("num.partitions"), "1");
    CHECK_STR(get("auto.create.topics.enable"), "true");
    CHECK_STR(get("log.segment.bytes"), "1073741824");
    CHECK_STR(get("log.cleaner.min.cleanable.ratio"), "0.5");
    CHECK_STR(get("log.cleaner.io.buffer.load.factor"), "0.9");
    CHECK_STR(get("compression.zstd.level"), "3");
    CHECK_STR(get("log.retention.ms"), "604800000");
    CHECK_STR(get("log.dirs"), "./data");
    CHECK_STR(get("listeners"), "PLAINTEXT://127.0.0.1:9092");
    CHECK_EQ(sl_conf_get_string(&conf, "broker.rack", out, sizeof(out)), SL_CONF_NULL);
    CHECK_STR(out, "");
    CHECK_EQ(sl_conf_get_string(&conf, "log.flush.interval.ms", out, sizeof(out)), SL_CONF_NULL);
    CHECK_EQ(sl_conf_get_string(&conf, "sasl.jaas.config", out, sizeof(out)), SL_CONF_NULL);
    CHECK_EQ(sl_conf_get_string(&conf, "no.such.key", out, sizeof(out)), -ENOENT);
    CHECK_EQ(sl_conf_get_string(&conf, "listeners", out, 5), -ENOSPC);
    CHECK_EQ(set("broker.rack", "az1"), 0);
    CHECK_STR(get("broker.rack"), "az1");
    CHECK_EQ(set("compression.zstd.level", "-5"), 0);
    CHECK_STR(get("compression.zstd.level"), "-5");
    CHECK_EQ(set("log.cleaner.min.cleanable.ratio", "0.25"), 0);
    CHECK_STR(get("log.cleaner.min.cleanable.ratio"), "0.25");
    CHECK_EQ(set("log.flush.interval.ms", "5"), 0);
    CHECK_STR(get("log.flush.interval.ms"), "5");
    CHECK_EQ(set("listener.name.ssl.ssl.keystore.location", "/k.pem"), 0);
    CHECK_EQ(set("listener.name.ssl.ssl.keystore.location", "/k2.pem"), 0);
    CHECK_EQ(conf.n_prefixed, 1);
    CHECK_STR(get("listener.name.ssl.ssl.keystore.location"), "/k2.pem");
    CHECK_EQ(set("listener.name.ssl", "x"), -EINVAL);
    const struct sl_conf_key *k = sl_conf_key_find("sasl.jaas.config");
    CHECK(k && k->type == SL_CONF_PASSWORD && (k->flags & SL_CONF_SENSITIVE));
}

static int validate_with(const char *const *kv)
{
    sl_conf_defaults(&conf);
    for (; kv[0]; kv += 2)
        if (set(kv[0], kv[1]) != 0) {
            fprintf(stderr, "set %s=%s: %s\n", kv[0], kv[1], err);
            CHECK(0);
        }
    err[0] = '\0';
    return sl_conf_validate(&conf, err, sizeof(err));
}

TEST(cross_key_validation)
{
    static const struct {
        const char *kv[9];
        const char *why; /* NULL: valid */
    } cases[] = {
        {{"listeners", "PLAINTEXT://:9092,SSL://:9092", NULL}, "both use port 9092"},
        {{"listeners", "PLAINTEXT://:0,SSL://:0", NULL}, NULL},
        {{"listeners", "PLAINTEXT://:1,plaintext://:2", NULL}, "twice"},
        {{"listeners", "PLAINTEXT://:1,FOO://:2", NULL}, "listener FOO has no security protocol"},
        {{"listeners", "PLAINTEXT://:1,FOO://:2", "listener.security.protocol.map", "FOO:SSL,PLAINTEXT:PLAINTEXT",
          NULL},
         NULL},
        {{"listeners", "", NULL}, "listeners is empty"},
        {{"advertised.listeners", "SSL://h:1", NULL}, "not in listeners"},
        {{"advertised.listeners", "PLAINTEXT://0.0.0.0:9092", NULL}, "routable"},
        {{"advertised.listeners", "PLAINTEXT://broker1:9092", NULL}, NULL},
        {{"process.roles", "broker", NULL}, "controller.quorum.voters"},
        {{"process.roles", "broker", "controller.quorum.voters", "2@h:9093", NULL}, NULL},
        {{"controller.quorum.voters", "2@h:9093", NULL}, "node.id 1 is not in controller.quorum.voters"},
        {{"controller.quorum.voters", "1@h:9093,1@g:9093", NULL}, "twice"},
        {{"controller.quorum.voters", "1@h:9093,2@g:9093", NULL}, "controller.listener.names is empty"},
        {{"controller.quorum.voters", "1@h:9093,2@g:9093", "controller.listener.names", "CONTROLLER", NULL},
         "names no listener"},
        {{"controller.quorum.voters", "1@h:9093,2@g:9093", "controller.listener.names", "CONTROLLER", "listeners",
          "PLAINTEXT://:9092,CONTROLLER://:9093", "listener.security.protocol.map",
          "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT", NULL},
         NULL},
        {{"broker.id", "2", NULL}, "broker.id 2 differs from node.id 1"},
        {{"broker.id", "1", NULL}, NULL},
        {{"inter.broker.listener.name", "INTERNAL", NULL}, "inter-broker listener INTERNAL"},
        {{"inter.broker.listener.name", "PLAINTEXT", "security.inter.broker.protocol", "PLAINTEXT", NULL},
         "only one of"},
        {{"listeners", "SSL://:9094", NULL}, "inter-broker listener PLAINTEXT"},
        {{"listeners", "SSL://:9094", "security.inter.broker.protocol", "SSL", NULL}, NULL},
        {{"group.min.session.timeout.ms", "10", "group.max.session.timeout.ms", "5", NULL}, "exceeds"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = validate_with(cases[i].kv);
        bool ok = cases[i].why ? rc == -EINVAL && strstr(err, cases[i].why) : rc == 0;
        if (!ok) {
            fprintf(stderr, "case %zu: rc %d '%s', expected '%s'\n", i, rc, err,
                    cases[i].why ? cases[i].why : "valid");
            CHECK(0);
        }
    }
}

TEST(security_protocol_lookup)
{
    sl_conf_defaults(&conf);
    CHECK_STR(sl_conf_security_protocol(&conf, "plaintext"), "PLAINTEXT");
    CHECK_STR(sl_conf_security_protocol(&conf, "SASL_SSL"), "SASL_SSL");
    CHECK(sl_conf_security_protocol(&conf, "CONTROLLER") == NULL);
    CHECK_EQ(set("listener.security.protocol.map", "CONTROLLER:PLAINTEXT, EXT:sasl_ssl"), 0);
    CHECK_STR(sl_conf_security_protocol(&conf, "ext"), "SASL_SSL");
    CHECK_STR(sl_conf_security_protocol(&conf, "CONTROLLER"), "PLAINTEXT");
    CHECK_EQ(set("listener.security.protocol.map", "X:TLS"), -EINVAL);
    CHECK(sl_conf_has_role(&conf, "broker") && sl_conf_has_role(&conf, "controller"));
}

TEST(integration_harness_command_line_validates)
{
    /* what tests/integration/harness.py passes to every sluiced */
    char *argv[] = {"sluiced", "--override", "log.dirs=/tmp/sluice-it-x/data", "--override",
                    "listeners=PLAINTEXT://127.0.0.1:0", "--override", "socket.request.max.bytes=1048576",
                    "--override", "node.id=3", NULL};
    CHECK_EQ(sl_conf_from_args(&conf, 9, argv, err, sizeof(err)), 0);
    struct sl_conf_listener l[4];
    CHECK_EQ(sl_conf_parse_listeners(conf.listeners, l, 4, err, sizeof(err)), 1);
    CHECK_EQ(l[0].port, 0);
    CHECK_EQ(conf.socket_request_max_bytes, 1048576);
    CHECK_STR(conf.log_dirs, "/tmp/sluice-it-x/data");
    CHECK_EQ(conf.node_id, 3);
}

TEST(tls_keys_inline_pem_and_handshake_timeout)
{
    sl_conf_defaults(&conf);
    CHECK_EQ(conf.ssl_handshake_timeout_ms, 10000);
    CHECK_STR(conf.ssl_principal_mapping_rules, "DEFAULT");
    CHECK_STR(conf.ssl_protocol, "TLSv1.3");
    CHECK_EQ(set("ssl.handshake.timeout.ms", "0"), -EINVAL);
    CHECK(strstr(err, "ssl.handshake.timeout.ms") != NULL);
    CHECK_EQ(set("ssl.handshake.timeout.ms", "2500"), 0);
    CHECK_EQ(conf.ssl_handshake_timeout_ms, 2500);
    /* an inline PEM chain is longer than a kept value (511 bytes) */
    char pem[3001];
    memset(pem, 'A', sizeof(pem) - 1);
    pem[sizeof(pem) - 1] = '\0';
    memcpy(pem, "-----BEGIN CERTIFICATE-----", 27);
    CHECK_EQ(set("ssl.keystore.certificate.chain", pem), 0);
    CHECK_EQ(strlen(conf.ssl_keystore_certificate_chain), 3000);
    CHECK_EQ(set("ssl.truststore.certificates", pem), 0);
    CHECK_EQ(set("ssl.keystore.key", pem), 0);
    const struct sl_conf_key *k = sl_conf_key_find("ssl.keystore.key");
    CHECK(k && (k->flags & SL_CONF_SENSITIVE));
    k = sl_conf_key_find("ssl.handshake.timeout.ms");
    CHECK(k && (k->flags & SL_CONF_SLUICE));
}
