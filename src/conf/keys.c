/*
 * keys.c - the configuration key table: Apache Kafka's broker keys with Kafka's type,
 * default (Sluice's where it departs; each departure is documented on its line), range
 * and one documentation line, plus Sluice's own keys (flagged SL_CONF_SLUICE).
 *
 * Invariants (checked by tests/unit/test_conf.c): names are sorted and unique; every
 * default passes its own validation; kept keys (no typed field) number at most
 * SL_CONF_KEPT_MAX; the table has at most SL_CONF_MAX_KEYS entries.
 */
#include "conf/conf.h"

#include "base/diag.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define F(field) offsetof(struct sl_conf, field), sizeof(((struct sl_conf *)0)->field)
#define KEPT 0, 0
#define I32 INT32_MIN, INT32_MAX
#define I64 INT64_MIN, INT64_MAX
#define I16 INT16_MIN, INT16_MAX
#define NR 0, 0 /* no range: not a number */
#define INTMAX "2147483647"
#define LONGMAX "9223372036854775807"

#define RO SL_CONF_READ_ONLY
#define PB SL_CONF_PER_BROKER
#define CW (SL_CONF_PER_BROKER | SL_CONF_CLUSTER_WIDE)
#define SENS SL_CONF_SENSITIVE
#define DER SL_CONF_DERIVED
#define SLU SL_CONF_SLUICE

#define BOOL SL_CONF_BOOLEAN
#define STR SL_CONF_STRING
#define INT SL_CONF_INT
#define SHORT SL_CONF_SHORT
#define LONG SL_CONF_LONG
#define DBL SL_CONF_DOUBLE
#define LIST SL_CONF_LIST
#define CLASS SL_CONF_CLASS
#define PASS SL_CONF_PASSWORD

#define PROTOCOLS "PLAINTEXT,SSL,SASL_PLAINTEXT,SASL_SSL"

static int check_listeners(const char *v, char *err, size_t errlen)
{
    struct sl_conf_listener l[32];
    char why[200];
    if (sl_conf_parse_listeners(v, l, 32, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "expected NAME://host:port,... (%s)", why);
        return -EINVAL;
    }
    return 0;
}

static int check_voters(const char *v, char *err, size_t errlen)
{
    struct sl_conf_voter vs[64];
    char why[200];
    if (sl_conf_parse_voters(v, vs, 64, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "expected id@host:port,... (%s)", why);
        return -EINVAL;
    }
    return 0;
}

/* Walks a comma-separated list; fn judges each trimmed item. */
static int each_item(const char *v, int (*fn)(const char *item, size_t len))
{
    const char *p = v;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *s = p;
        while (len && isspace((unsigned char)*s)) {
            s++;
            len--;
        }
        while (len && isspace((unsigned char)s[len - 1]))
            len--;
        int rc = fn(s, len);
        if (rc < 0)
            return rc;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

static bool is_name(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

static int item_hostport(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    const char *colon = memrchr(s, ':', len);
    if (!colon || colon == s || colon == s + len - 1)
        return -EINVAL;
    int port = 0;
    for (const char *q = colon + 1; q < s + len; q++) {
        if (!isdigit((unsigned char)*q))
            return -EINVAL;
        port = port * 10 + (*q - '0');
        if (port > 65535)
            return -EINVAL;
    }
    return port >= 1 ? 0 : -EINVAL;
}

static int check_hostports(const char *v, char *err, size_t errlen)
{
    if (each_item(v, item_hostport) < 0) {
        snprintf(err, errlen, "expected host:port,... with ports 1-65535");
        return -EINVAL;
    }
    return 0;
}

static int item_name(const char *s, size_t len)
{
    return is_name(s, len) ? 0 : -EINVAL;
}

static int check_names(const char *v, char *err, size_t errlen)
{
    if (each_item(v, item_name) < 0) {
        snprintf(err, errlen, "expected listener names (letters, digits, '_', '-') separated by commas");
        return -EINVAL;
    }
    return 0;
}

static int check_name(const char *v, char *err, size_t errlen)
{
    if (*v && !is_name(v, strlen(v))) {
        snprintf(err, errlen, "expected a listener name (letters, digits, '_', '-')");
        return -EINVAL;
    }
    return 0;
}

static int item_protocol_pair(const char *s, size_t len)
{
    const char *colon = memchr(s, ':', len);
    if (!colon || !is_name(s, (size_t)(colon - s)))
        return -EINVAL;
    size_t plen = len - (size_t)(colon - s) - 1;
    static const char *const protos[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
        if (strlen(protos[i]) == plen && strncasecmp(colon + 1, protos[i], plen) == 0)
            return 0;
    return -EINVAL;
}

static int check_protocol_map(const char *v, char *err, size_t errlen)
{
    if (each_item(v, item_protocol_pair) < 0) {
        snprintf(err, errlen, "expected NAME:PROTOCOL,... with PROTOCOL one of " PROTOCOLS);
        return -EINVAL;
    }
    return 0;
}

static int check_roles(const char *v, char *err, size_t errlen)
{
    int broker = 0, controller = 0, other = 0;
    const char *p = v;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *s = p;
        size_t n = len;
        while (n && isspace((unsigned char)*s)) {
            s++;
            n--;
        }
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        if (n == 6 && strncmp(s, "broker", 6) == 0)
            broker++;
        else if (n == 10 && strncmp(s, "controller", 10) == 0)
            controller++;
        else
            other++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (other || broker > 1 || controller > 1 || broker + controller == 0) {
        snprintf(err, errlen, "expected \"broker\", \"controller\" or \"broker,controller\"");
        return -EINVAL;
    }
    return 0;
}

static int check_log_level(const char *v, char *err, size_t errlen)
{
    if (sl_diag_parse_level(v) < 0) {
        snprintf(err, errlen, "expected one of ERROR, WARN, INFO, DEBUG, TRACE");
        return -EINVAL;
    }
    return 0;
}

static int check_cluster_id(const char *v, char *err, size_t errlen)
{
    if (!*v || is_name(v, strlen(v)))
        return 0;
    snprintf(err, errlen, "expected letters, digits, '_' and '-' only (Kafka's is 22 base64url characters)");
    return -EINVAL;
}

static int item_dir(const char *s, size_t len)
{
    (void)s;
    return len ? 0 : -EINVAL;
}

static int check_dirs(const char *v, char *err, size_t errlen)
{
    if (!*v || each_item(v, item_dir) < 0) {
        snprintf(err, errlen, "expected one or more directories separated by commas");
        return -EINVAL;
    }
    return 0;
}

static int item_url(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    size_t skip;
    if (len > 7 && strncmp(s, "http://", 7) == 0)
        skip = 7;
    else if (len > 8 && strncmp(s, "https://", 8) == 0)
        skip = 8;
    else
        return -EINVAL;
    const char *hp = s + skip;
    size_t n = len - skip;
    if (n && hp[n - 1] == '/')
        n--;
    const char *colon = memrchr(hp, ':', n);
    if (!colon || colon == hp + n - 1)
        return -EINVAL;
    int port = 0;
    for (const char *q = colon + 1; q < hp + n; q++) {
        if (!isdigit((unsigned char)*q))
            return -EINVAL;
        port = port * 10 + (*q - '0');
        if (port > 65535)
            return -EINVAL;
    }
    return 0;
}

static int check_urls(const char *v, char *err, size_t errlen)
{
    if (each_item(v, item_url) < 0) {
        snprintf(err, errlen, "expected http://host:port or https://host:port, separated by commas");
        return -EINVAL;
    }
    return 0;
}

/* Sorted by name (checked by a unit test). Columns: name, type, default, field, range,
 * allowed values, check, mode flags, documentation. */
static const struct sl_conf_key conf_keys[] = {
    {"admin.listeners", STR, "http://127.0.0.1:9644", F(admin_listeners), NR, NULL, check_urls, RO | SLU,
     "HTTP listeners for the admin API, Prometheus /metrics and the console; empty disables them."},
    {"advertised.listeners", STR, NULL, F(advertised_listeners), NR, NULL, check_listeners, PB,
     "Listeners given to clients in metadata, NAME://host:port,...; unset = listeners."},
    {"allow.everyone.if.no.acl.found", BOOL, "false", F(allow_everyone_if_no_acl_found), NR, NULL, NULL, RO,
     "With an authorizer, allow access to resources that have no ACL."},
    {"alter.config.policy.class.name", CLASS, NULL, KEPT, NR, NULL, NULL, RO,
     "Policy class for AlterConfigs validation (accepted, not used)."},
    {"authorizer.class.name", STR, "", F(authorizer_class_name), NR, NULL, NULL, RO,
     "Authorizer class; any non-empty value enables Sluice's ACL authorizer."},
    {"auto.create.topics.enable", BOOL, "true", F(auto_create_topics_enable), NR, NULL, NULL, RO,
     "Create a topic when a client asks for metadata of one that does not exist."},
    {"auto.leader.rebalance.enable", BOOL, "true", F(auto_leader_rebalance_enable), NR, NULL, NULL, RO,
     "Move leadership back to the preferred replica periodically."},
    {"background.threads", INT, "10", KEPT, 1, INT32_MAX, NULL, NULL, CW,
     "Threads for background processing (accepted, Sluice sizes its own)."},
    {"broker.heartbeat.interval.ms", INT, "2000", F(broker_heartbeat_interval_ms), 1, INT32_MAX, NULL, NULL, RO,
     "Milliseconds between broker heartbeats to the controller."},
    {"broker.id", INT, "-1", KEPT, -1, INT32_MAX, NULL, NULL, RO,
     "Legacy broker id; if set it must equal node.id."},
    {"broker.rack", STR, NULL, F(broker_rack), NR, NULL, NULL, RO,
     "Rack (availability zone) of this broker, for rack-aware replica placement."},
    {"broker.session.timeout.ms", INT, "9000", F(broker_session_timeout_ms), 1, INT32_MAX, NULL, NULL, RO,
     "A broker without a heartbeat for this long is fenced, ms."},
    {"cluster.id", STR, "", F(cluster_id), NR, NULL, check_cluster_id, RO | SLU,
     "Cluster id; empty generates one at first start, kept in the metadata log."},
    {"compression.gzip.level", INT, "-1", KEPT, -1, 9, NULL, NULL, CW,
     "Compression level for gzip when the broker recompresses."},
    {"compression.lz4.level", INT, "9", KEPT, 1, 17, NULL, NULL, CW,
     "Compression level for lz4 when the broker recompresses."},
    {"compression.type", STR, "producer", F(compression_type), NR,
     "uncompressed,zstd,lz4,snappy,gzip,producer", NULL, CW,
     "Final compression of a topic's data; producer keeps what the producer sent."},
    {"compression.zstd.level", INT, "3", KEPT, -131072, 22, NULL, NULL, CW,
     "Compression level for zstd when the broker recompresses."},
    {"config.providers", LIST, "", KEPT, NR, NULL, NULL, RO,
     "Configuration providers (accepted, not used)."},
    {"connection.failed.authentication.delay.ms", INT, "100", KEPT, 0, INT32_MAX, NULL, NULL, RO,
     "Delay before closing a connection after failed authentication, ms."},
    {"connections.max.idle.ms", LONG, "600000", F(connections_max_idle_ms), I64, NULL, NULL, RO,
     "Idle connections are closed after this many milliseconds."},
    {"connections.max.reauth.ms", LONG, "0", KEPT, I64, NULL, NULL, RO,
     "Maximum session lifetime before SASL reauthentication, ms; 0 = none."},
    {"controller.listener.names", STR, NULL, F(controller_listener_names), NR, NULL, check_names, RO,
     "Names of the listeners used by the controller quorum."},
    {"controller.quorum.append.linger.ms", INT, "25", F(controller_quorum_append_linger_ms), 0, INT32_MAX, NULL,
     NULL, RO, "How long the quorum leader waits to batch metadata writes, ms."},
    {"controller.quorum.bootstrap.servers", LIST, "", F(controller_quorum_bootstrap_servers), NR, NULL,
     check_hostports, RO, "host:port list of controllers to discover the quorum (KIP-853)."},
    {"controller.quorum.election.backoff.max.ms", INT, "1000", F(controller_quorum_election_backoff_max_ms), 0,
     INT32_MAX, NULL, NULL, RO, "Maximum backoff before starting a new election, ms."},
    {"controller.quorum.election.timeout.ms", INT, "1000", F(controller_quorum_election_timeout_ms), 0,
     INT32_MAX, NULL, NULL, RO, "Time without a leader before an election, ms."},
    {"controller.quorum.fetch.timeout.ms", INT, "2000", F(controller_quorum_fetch_timeout_ms), 0, INT32_MAX,
     NULL, NULL, RO, "Time without a successful fetch from the leader before voting, ms."},
    {"controller.quorum.request.timeout.ms", INT, "2000", F(controller_quorum_request_timeout_ms), 0, INT32_MAX,
     NULL, NULL, RO, "Timeout of quorum requests, ms."},
    {"controller.quorum.retry.backoff.ms", INT, "20", F(controller_quorum_retry_backoff_ms), 0, INT32_MAX, NULL,
     NULL, RO, "Backoff before retrying a failed quorum request, ms."},
    {"controller.quorum.voters", LIST, "", F(controller_quorum_voters), NR, NULL, check_voters, RO,
     "Static quorum voters id@host:port,...; empty = this node is the only voter."},
    {"create.topic.policy.class.name", CLASS, NULL, KEPT, NR, NULL, NULL, RO,
     "Policy class for CreateTopics validation (accepted, not used)."},
    {"default.replication.factor", INT, "1", F(default_replication_factor), 1, INT16_MAX, NULL, NULL, RO,
     "Replication factor of auto-created topics."},
    {"delete.records.purgatory.purge.interval.requests", INT, "1", KEPT, I32, NULL, NULL, RO,
     "Purge interval of the delete-records purgatory (accepted, not used)."},
    {"delete.topic.enable", BOOL, "true", F(delete_topic_enable), NR, NULL, NULL, RO,
     "Allow DeleteTopics."},
    {"early.start.listeners", STR, NULL, KEPT, NR, NULL, check_names, RO,
     "Listeners started before authorizer initialisation (accepted, not used)."},
    {"fetch.max.bytes", INT, "57671680", F(fetch_max_bytes), 1024, INT32_MAX, NULL, NULL, RO,
     "Maximum bytes returned by one fetch request."},
    {"fetch.purgatory.purge.interval.requests", INT, "1000", KEPT, I32, NULL, NULL, RO,
     "Purge interval of the fetch purgatory (accepted, not used)."},
    {"group.consumer.assignors", LIST, "uniform,range", KEPT, NR, NULL, NULL, RO,
     "Server-side assignors of the consumer group protocol (KIP-848)."},
    {"group.consumer.heartbeat.interval.ms", INT, "5000", F(group_consumer_heartbeat_interval_ms), 1, INT32_MAX,
     NULL, NULL, RO, "Heartbeat interval of consumer-protocol group members, ms."},
    {"group.consumer.max.size", INT, INTMAX, KEPT, 1, INT32_MAX, NULL, NULL, RO,
     "Maximum members of a consumer-protocol group."},
    {"group.consumer.session.timeout.ms", INT, "45000", F(group_consumer_session_timeout_ms), 1, INT32_MAX,
     NULL, NULL, RO, "Session timeout of consumer-protocol group members, ms."},
    {"group.coordinator.rebalance.protocols", LIST, "classic,consumer", F(group_coordinator_rebalance_protocols),
     NR, "classic,consumer,share", NULL, RO, "Group protocols the coordinator accepts."},
    {"group.initial.rebalance.delay.ms", INT, "3000", F(group_initial_rebalance_delay_ms), 0, INT32_MAX, NULL,
     NULL, RO, "Delay of the first rebalance of a new classic group, ms."},
    {"group.max.session.timeout.ms", INT, "1800000", F(group_max_session_timeout_ms), I32, NULL, NULL, RO,
     "Largest session timeout a classic group member may ask for, ms."},
    {"group.max.size", INT, INTMAX, F(group_max_size), 1, INT32_MAX, NULL, NULL, RO,
     "Maximum members of a classic group."},
    {"group.min.session.timeout.ms", INT, "6000", F(group_min_session_timeout_ms), I32, NULL, NULL, RO,
     "Smallest session timeout a classic group member may ask for, ms."},
    {"initial.broker.registration.timeout.ms", INT, "60000", KEPT, I32, NULL, NULL, RO,
     "How long a broker waits for its first registration, ms."},
    {"inter.broker.listener.name", STR, NULL, F(inter_broker_listener_name), NR, NULL, check_name, RO,
     "Listener used between brokers; exclusive with security.inter.broker.protocol."},
    {"leader.imbalance.check.interval.seconds", LONG, "300", KEPT, 1, INT64_MAX, NULL, NULL, RO,
     "Seconds between checks for leader imbalance."},
    {"leader.imbalance.per.broker.percentage", INT, "10", KEPT, I32, NULL, NULL, RO,
     "Leader imbalance allowed per broker, percent."},
    {"listener.security.protocol.map", STR, "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT",
     F(listener_security_protocol_map), NR, NULL, check_protocol_map, PB,
     "Security protocol of each listener name, NAME:PROTOCOL,..."},
    {"listeners", STR, "PLAINTEXT://127.0.0.1:9092", F(listeners), NR, NULL, check_listeners, PB,
     "Listeners NAME://host:port,...; Sluice's default binds loopback (Kafka's binds all interfaces); "
     "port 0 picks a free port."},
    {"log.cleaner.backoff.ms", LONG, "15000", F(log_cleaner_backoff_ms), 0, INT64_MAX, NULL, NULL, CW,
     "Sleep of the cleaner when there is nothing to clean, ms."},
    {"log.cleaner.dedupe.buffer.size", LONG, "134217728", KEPT, I64, NULL, NULL, CW,
     "Memory for log deduplication across all cleaner threads, bytes."},
    {"log.cleaner.delete.retention.ms", LONG, "86400000", F(log_cleaner_delete_retention_ms), 0, INT64_MAX, NULL,
     NULL, CW, "How long tombstones are kept in compacted topics, ms."},
    {"log.cleaner.enable", BOOL, "true", F(log_cleaner_enable), NR, NULL, NULL, RO,
     "Run the log cleaner (compaction)."},
    {"log.cleaner.io.buffer.load.factor", DBL, "0.9", KEPT, NR, NULL, NULL, CW,
     "Load factor of the cleaner's dedupe buffer."},
    {"log.cleaner.io.buffer.size", INT, "524288", KEPT, 0, INT32_MAX, NULL, NULL, CW,
     "I/O buffer memory of the cleaner, bytes."},
    {"log.cleaner.io.max.bytes.per.second", DBL, "1.7976931348623157E308", KEPT, NR, NULL, NULL, CW,
     "Throttle of cleaner I/O, bytes per second."},
    {"log.cleaner.max.compaction.lag.ms", LONG, LONGMAX, F(log_cleaner_max_compaction_lag_ms), 1, INT64_MAX, NULL,
     NULL, CW, "Longest a record stays ineligible for compaction, ms."},
    {"log.cleaner.min.cleanable.ratio", DBL, "0.5", F(log_cleaner_min_cleanable_ratio), 0, 1, NULL, NULL, CW,
     "Minimum dirty/total ratio before a log is compacted."},
    {"log.cleaner.min.compaction.lag.ms", LONG, "0", F(log_cleaner_min_compaction_lag_ms), 0, INT64_MAX, NULL,
     NULL, CW, "Shortest a record stays uncompacted, ms."},
    {"log.cleaner.threads", INT, "1", F(log_cleaner_threads), 0, INT32_MAX, NULL, NULL, CW,
     "Number of cleaner threads."},
    {"log.cleanup.policy", LIST, "delete", F(log_cleanup_policy), NR, "delete,compact", NULL, CW,
     "Default cleanup policy: delete, compact, or both."},
    {"log.dir", STR, "./data", F(log_dir), NR, NULL, check_dirs, RO,
     "Data directory, used when log.dirs is unset (Sluice's default ./data; Kafka's /tmp/kafka-logs)."},
    {"log.dir.failure.timeout.ms", LONG, "30000", KEPT, 1, INT64_MAX, NULL, NULL, RO,
     "Time a broker waits after a log dir failure before shutting down, ms."},
    {"log.dirs", STR, NULL, F(log_dirs), NR, NULL, check_dirs, RO | DER,
     "Comma-separated data directories; when unset, log.dir."},
    {"log.flush.interval.messages", LONG, LONGMAX, F(log_flush_interval_messages), 1, INT64_MAX, NULL, NULL, CW,
     "Flush after this many messages; when set > 1, acknowledgements no longer wait for fsync."},
    {"log.flush.interval.ms", LONG, NULL, F(log_flush_interval_ms), 0, INT64_MAX, NULL, NULL, CW,
     "Flush at least this often, ms; when set > 0, acknowledgements no longer wait for fsync. "
     "Unset (Sluice's default): fsync before acknowledging."},
    {"log.flush.offset.checkpoint.interval.ms", INT, "60000", KEPT, 0, INT32_MAX, NULL, NULL, RO,
     "How often the recovery point is checkpointed, ms."},
    {"log.flush.scheduler.interval.ms", LONG, LONGMAX, KEPT, I64, NULL, NULL, RO,
     "How often the flusher checks whether a log needs flushing, ms."},
    {"log.flush.start.offset.checkpoint.interval.ms", INT, "60000", KEPT, 0, INT32_MAX, NULL, NULL, RO,
     "How often the log start offset is checkpointed, ms."},
    {"log.format", STR, "text", F(log_format), NR, "text,json", NULL, RO | SLU,
     "Format of diagnostic lines on stderr: text or json."},
    {"log.index.interval.bytes", INT, "4096", F(log_index_interval_bytes), 0, INT32_MAX, NULL, NULL, CW,
     "Bytes of batches between two offset index entries."},
    {"log.index.size.max.bytes", INT, "10485760", F(log_index_size_max_bytes), 4, INT32_MAX, NULL, NULL, CW,
     "Maximum size of an offset index file, bytes."},
    {"log.level", STR, "INFO", F(log_level), NR, NULL, check_log_level, RO | SLU,
     "Most verbose diagnostic level printed: ERROR, WARN, INFO, DEBUG or TRACE."},
    {"log.local.retention.bytes", LONG, "-2", KEPT, -2, INT64_MAX, NULL, NULL, CW,
     "Local retention with tiered storage, bytes; -2 = log.retention.bytes."},
    {"log.local.retention.ms", LONG, "-2", KEPT, -2, INT64_MAX, NULL, NULL, CW,
     "Local retention with tiered storage, ms; -2 = log.retention.ms."},
    {"log.message.timestamp.after.max.ms", LONG, "3600000", F(log_message_timestamp_after_max_ms), 0, INT64_MAX,
     NULL, NULL, CW, "How far a CreateTime timestamp may lie in the future, ms."},
    {"log.message.timestamp.before.max.ms", LONG, LONGMAX, F(log_message_timestamp_before_max_ms), 0, INT64_MAX,
     NULL, NULL, CW, "How far a CreateTime timestamp may lie in the past, ms."},
    {"log.message.timestamp.type", STR, "CreateTime", F(log_message_timestamp_type), NR,
     "CreateTime,LogAppendTime", NULL, CW, "Timestamp kept in batches: CreateTime or LogAppendTime."},
    {"log.preallocate", BOOL, "false", F(log_preallocate), NR, NULL, NULL, CW,
     "Preallocate segment files."},
    {"log.retention.bytes", LONG, "-1", F(log_retention_bytes), I64, NULL, NULL, CW,
     "Maximum size of a partition before old segments are deleted, bytes; -1 = unlimited."},
    {"log.retention.check.interval.ms", LONG, "300000", F(log_retention_check_interval_ms), 1, INT64_MAX, NULL,
     NULL, RO, "How often retention is enforced, ms."},
    {"log.retention.hours", INT, "168", F(log_retention_hours), I32, NULL, NULL, RO,
     "Retention in hours, used when log.retention.ms and .minutes are unset."},
    {"log.retention.minutes", INT, NULL, F(log_retention_minutes), I32, NULL, NULL, RO,
     "Retention in minutes, used when log.retention.ms is unset."},
    {"log.retention.ms", LONG, NULL, F(log_retention_ms), I64, NULL, NULL, CW | DER,
     "Retention, ms; -1 = forever; when unset, log.retention.minutes or .hours."},
    {"log.roll.hours", INT, "168", F(log_roll_hours), 1, INT32_MAX, NULL, NULL, RO,
     "Roll a new segment after this many hours, used when log.roll.ms is unset."},
    {"log.roll.jitter.hours", INT, "0", F(log_roll_jitter_hours), 0, INT32_MAX, NULL, NULL, RO,
     "Jitter subtracted from the roll time, hours."},
    {"log.roll.jitter.ms", LONG, NULL, F(log_roll_jitter_ms), I64, NULL, NULL, CW | DER,
     "Jitter subtracted from the roll time, ms; when unset, log.roll.jitter.hours."},
    {"log.roll.ms", LONG, NULL, F(log_roll_ms), I64, NULL, NULL, CW | DER,
     "Roll a new segment after this many ms; when unset, log.roll.hours."},
    {"log.segment.bytes", INT, "1073741824", F(log_segment_bytes), 14, INT32_MAX, NULL, NULL, CW,
     "Size of a log segment file, bytes."},
    {"log.segment.delete.delay.ms", LONG, "60000", F(log_segment_delete_delay_ms), 0, INT64_MAX, NULL, NULL, CW,
     "Delay before a deleted segment's files are removed, ms."},
    {"log.slow.request.ms", LONG, "1000", F(log_slow_request_ms), -1, INT64_MAX, NULL, NULL, RO | SLU,
     "Log a WARN line for each request answered later than this after it arrived, ms "
     "(time a fetch or join waits by design excluded); 0 = every request, -1 = never."},
    {"max.connection.creation.rate", INT, INTMAX, F(max_connection_creation_rate), 0, INT32_MAX, NULL, NULL, CW,
     "New connections accepted per second per listener; over it accepts wait (throttled, not refused)."},
    {"max.connections", INT, INTMAX, F(max_connections), 0, INT32_MAX, NULL, NULL, CW,
     "Maximum connections to the broker."},
    {"max.connections.per.ip", INT, INTMAX, F(max_connections_per_ip), 0, INT32_MAX, NULL, NULL, CW,
     "Maximum connections from one IP address."},
    {"max.connections.per.ip.overrides", STR, "", KEPT, NR, NULL, NULL, CW,
     "Per-IP or hostname overrides of max.connections.per.ip, host:count,..."},
    {"max.incremental.fetch.session.cache.slots", INT, "1000", F(max_incremental_fetch_session_cache_slots), 0,
     INT32_MAX, NULL, NULL, RO, "Incremental fetch sessions kept."},
    {"message.max.bytes", INT, "1048588", F(message_max_bytes), 0, INT32_MAX, NULL, NULL, CW,
     "Largest record batch accepted, bytes."},
    {"metadata.log.dir", STR, NULL, F(metadata_log_dir), NR, NULL, NULL, RO,
     "Directory of the __cluster_metadata log; unset = first of log.dirs."},
    {"metadata.log.max.record.bytes.between.snapshots", LONG, "20971520",
     F(metadata_log_max_record_bytes_between_snapshots), 1, INT64_MAX, NULL, NULL, RO,
     "Metadata log bytes between snapshots."},
    {"metadata.log.max.snapshot.interval.ms", LONG, "3600000", KEPT, 0, INT64_MAX, NULL, NULL, RO,
     "Maximum time between metadata snapshots, ms."},
    {"metadata.log.segment.bytes", INT, "1073741824", F(metadata_log_segment_bytes), 12, INT32_MAX, NULL, NULL, RO,
     "Segment size of the metadata log, bytes."},
    {"metadata.max.retention.bytes", LONG, "104857600", F(metadata_max_retention_bytes), I64, NULL, NULL, RO,
     "Metadata log bytes retained beyond the latest snapshot."},
    {"metadata.max.retention.ms", LONG, "604800000", F(metadata_max_retention_ms), I64, NULL, NULL, RO,
     "How long metadata log segments are retained, ms."},
    {"metric.reporters", LIST, "", KEPT, NR, NULL, NULL, CW,
     "Metric reporter classes (accepted, not used; Sluice serves /metrics)."},
    {"metrics.num.samples", INT, "2", KEPT, 1, INT32_MAX, NULL, NULL, RO,
     "Samples kept to compute metrics."},
    {"metrics.recording.level", STR, "INFO", KEPT, NR, "INFO,DEBUG,TRACE", NULL, RO,
     "Highest recording level of metrics."},
    {"metrics.sample.window.ms", LONG, "30000", KEPT, 1, INT64_MAX, NULL, NULL, RO,
     "Window of a metrics sample, ms."},
    {"min.insync.replicas", INT, "1", F(min_insync_replicas), 1, INT32_MAX, NULL, NULL, CW,
     "Replicas that must have a batch before acks=all succeeds."},
    {"node.id", INT, "1", F(node_id), 0, INT32_MAX, NULL, NULL, RO,
     "Id of this node in the cluster (Sluice's default 1; Kafka requires it)."},
    {"num.io.threads", INT, "8", F(num_io_threads), 1, INT32_MAX, NULL, NULL, CW,
     "Request handler threads (accepted; Sluice handles requests on the network threads)."},
    {"num.network.threads", INT, "0", F(num_network_threads), 0, INT32_MAX, NULL, NULL, CW,
     "Event-loop threads; 0 (Sluice's default) = number of cores (Kafka's default 3)."},
    {"num.partitions", INT, "1", F(num_partitions), 1, INT32_MAX, NULL, NULL, RO,
     "Partitions of auto-created topics."},
    {"num.recovery.threads.per.data.dir", INT, "2", F(num_recovery_threads_per_data_dir), 1, INT32_MAX, NULL, NULL,
     CW, "Threads per data directory for log recovery at startup."},
    {"num.replica.fetchers", INT, "1", F(num_replica_fetchers), I32, NULL, NULL, CW,
     "Fetcher threads per source broker."},
    {"offset.metadata.max.bytes", INT, "4096", F(offset_metadata_max_bytes), I32, NULL, NULL, RO,
     "Largest metadata string of a committed offset, bytes."},
    {"offsets.commit.timeout.ms", INT, "5000", F(offsets_commit_timeout_ms), 1, INT32_MAX, NULL, NULL, RO,
     "Offset commits wait this long for replication, ms."},
    {"offsets.load.buffer.size", INT, "5242880", KEPT, 1, INT32_MAX, NULL, NULL, RO,
     "Read size when loading offsets into the cache, bytes."},
    {"offsets.retention.check.interval.ms", LONG, "600000", F(offsets_retention_check_interval_ms), 1, INT64_MAX,
     NULL, NULL, RO, "How often stale offsets are expired, ms."},
    {"offsets.retention.minutes", INT, "10080", F(offsets_retention_minutes), 1, INT32_MAX, NULL, NULL, RO,
     "Committed offsets of an empty group are kept this long, minutes."},
    {"offsets.topic.compression.codec", INT, "0", KEPT, 0, 4, NULL, NULL, RO,
     "Compression codec of the offsets topic."},
    {"offsets.topic.num.partitions", INT, "50", F(offsets_topic_num_partitions), 1, INT32_MAX, NULL, NULL, RO,
     "Partitions of __consumer_offsets."},
    {"offsets.topic.replication.factor", SHORT, "1", F(offsets_topic_replication_factor), 1, INT16_MAX, NULL, NULL,
     RO, "Replication factor of __consumer_offsets (Sluice's default 1 so a single node works; Kafka's 3)."},
    {"offsets.topic.segment.bytes", INT, "104857600", F(offsets_topic_segment_bytes), 1, INT32_MAX, NULL, NULL, RO,
     "Segment size of __consumer_offsets, bytes."},
    {"password.encoder.secret", PASS, NULL, KEPT, NR, NULL, NULL, RO | SENS,
     "Secret for encoding dynamic passwords (accepted, not used)."},
    {"principal.builder.class", CLASS,
     "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder", KEPT, NR, NULL, NULL, PB,
     "Principal builder (accepted; Sluice uses Kafka's default rules)."},
    {"process.roles", LIST, "broker,controller", F(process_roles), NR, NULL, check_roles, RO,
     "Roles of this node: broker, controller, or both (Sluice's default both)."},
    {"producer.id.expiration.check.interval.ms", INT, "600000", KEPT, 1, INT32_MAX, NULL, NULL, RO,
     "How often expired producer ids are removed, ms."},
    {"producer.id.expiration.ms", INT, "86400000", F(producer_id_expiration_ms), 1, INT32_MAX, NULL, NULL, CW,
     "Producer id state is kept this long after its last write, ms."},
    {"producer.purgatory.purge.interval.requests", INT, "1000", KEPT, I32, NULL, NULL, RO,
     "Purge interval of the producer purgatory (accepted, not used)."},
    {"queued.max.requests", INT, "500", F(queued_max_requests), 1, INT32_MAX, NULL, NULL, RO,
     "Requests queued before the network threads stop reading."},
    {"quota.window.num", INT, "11", KEPT, 1, INT32_MAX, NULL, NULL, RO,
     "Samples kept for client quotas."},
    {"quota.window.size.seconds", INT, "1", KEPT, 1, INT32_MAX, NULL, NULL, RO,
     "Time span of each quota sample, seconds."},
    {"remote.log.storage.system.enable", BOOL, "false", KEPT, NR, NULL, NULL, RO,
     "Enable tiered storage."},
    {"replica.fetch.backoff.ms", INT, "1000", KEPT, 0, INT32_MAX, NULL, NULL, RO,
     "Sleep after a fetch partition error, ms."},
    {"replica.fetch.max.bytes", INT, "1048576", F(replica_fetch_max_bytes), 0, INT32_MAX, NULL, NULL, RO,
     "Bytes a follower fetches per partition."},
    {"replica.fetch.min.bytes", INT, "1", F(replica_fetch_min_bytes), I32, NULL, NULL, RO,
     "Minimum bytes of a follower fetch response."},
    {"replica.fetch.response.max.bytes", INT, "10485760", F(replica_fetch_response_max_bytes), 0, INT32_MAX, NULL,
     NULL, RO, "Bytes of a whole follower fetch response."},
    {"replica.fetch.wait.max.ms", INT, "500", F(replica_fetch_wait_max_ms), I32, NULL, NULL, RO,
     "Longest a follower fetch waits on the leader, ms."},
    {"replica.high.watermark.checkpoint.interval.ms", LONG, "5000", KEPT, I64, NULL, NULL, RO,
     "How often the high watermark is checkpointed, ms."},
    {"replica.lag.time.max.ms", LONG, "30000", F(replica_lag_time_max_ms), I64, NULL, NULL, RO,
     "A follower behind for this long leaves the ISR, ms."},
    {"replica.selector.class", CLASS, NULL, KEPT, NR, NULL, NULL, RO,
     "Replica selector for follower fetching (accepted, not used)."},
    {"replica.socket.timeout.ms", INT, "30000", F(replica_socket_timeout_ms), I32, NULL, NULL, RO,
     "Socket timeout of follower fetches, ms."},
    {"sasl.enabled.mechanisms", LIST, "GSSAPI", F(sasl_enabled_mechanisms), NR, NULL, NULL, PB,
     "SASL mechanisms enabled (Sluice implements PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)."},
    {"sasl.jaas.config", PASS, NULL, KEPT, NR, NULL, NULL, PB | SENS,
     "JAAS login context for SASL connections."},
    {"sasl.kerberos.service.name", STR, NULL, KEPT, NR, NULL, NULL, PB,
     "Kerberos service name (accepted, not used)."},
    {"sasl.mechanism.controller.protocol", STR, "GSSAPI", KEPT, NR, NULL, NULL, RO,
     "SASL mechanism of controller connections."},
    {"sasl.mechanism.inter.broker.protocol", STR, "GSSAPI", F(sasl_mechanism_inter_broker_protocol), NR, NULL, NULL,
     PB, "SASL mechanism between brokers."},
    {"sasl.server.max.receive.size", INT, "524288", KEPT, I32, NULL, NULL, RO,
     "Largest SASL packet before authentication, bytes."},
    {"security.inter.broker.protocol", STR, "PLAINTEXT", F(security_inter_broker_protocol), NR, PROTOCOLS, NULL, RO,
     "Security protocol between brokers; exclusive with inter.broker.listener.name."},
    {"socket.listen.backlog.size", INT, "50", F(socket_listen_backlog_size), 1, INT32_MAX, NULL, NULL, RO,
     "listen(2) backlog of each listener."},
    {"socket.receive.buffer.bytes", INT, "102400", F(socket_receive_buffer_bytes), I32, NULL, NULL, RO,
     "SO_RCVBUF of accepted sockets, bytes; -1 = OS default."},
    {"socket.request.max.bytes", INT, "104857600", F(socket_request_max_bytes), 1, INT32_MAX, NULL, NULL, RO,
     "Largest request frame, bytes; larger ones close the connection."},
    {"socket.send.buffer.bytes", INT, "102400", F(socket_send_buffer_bytes), I32, NULL, NULL, RO,
     "SO_SNDBUF of accepted sockets, bytes; -1 = OS default."},
    {"ssl.cipher.suites", LIST, "", F(ssl_cipher_suites), NR, NULL, NULL, PB,
     "Cipher suites enabled; empty = OpenSSL's defaults."},
    {"ssl.client.auth", STR, "none", F(ssl_client_auth), NR, "required,requested,none", NULL, PB,
     "Whether TLS clients must present a certificate."},
    {"ssl.enabled.protocols", LIST, "TLSv1.2,TLSv1.3", F(ssl_enabled_protocols), NR, NULL, NULL, PB,
     "TLS protocol versions enabled."},
    {"ssl.endpoint.identification.algorithm", STR, "https", KEPT, NR, NULL, NULL, PB,
     "Hostname verification of peers; empty disables it."},
    {"ssl.handshake.timeout.ms", LONG, "10000", F(ssl_handshake_timeout_ms), 1, INT64_MAX, NULL, NULL, RO | SLU,
     "A TLS connection that has not finished its handshake within this is closed, ms; at most connections.max.idle.ms."},
    {"ssl.key.password", PASS, NULL, F(ssl_key_password), NR, NULL, NULL, PB | SENS,
     "Password of the private key."},
    {"ssl.keymanager.algorithm", STR, "SunX509", KEPT, NR, NULL, NULL, PB,
     "Key manager algorithm (accepted, not used)."},
    {"ssl.keystore.certificate.chain", PASS, NULL, F(ssl_keystore_certificate_chain), NR, NULL, NULL, PB | SENS,
     "PEM certificate chain given inline."},
    {"ssl.keystore.key", PASS, NULL, F(ssl_keystore_key), NR, NULL, NULL, PB | SENS,
     "PEM private key given inline."},
    {"ssl.keystore.location", STR, NULL, F(ssl_keystore_location), NR, NULL, NULL, PB,
     "Key store file."},
    {"ssl.keystore.password", PASS, NULL, F(ssl_keystore_password), NR, NULL, NULL, PB | SENS,
     "Password of the key store file."},
    {"ssl.keystore.type", STR, "JKS", F(ssl_keystore_type), NR, NULL, NULL, PB,
     "Key store format (Sluice reads PEM and PKCS12)."},
    {"ssl.principal.mapping.rules", STR, "DEFAULT", F(ssl_principal_mapping_rules), NR, NULL, NULL, RO,
     "Rules mapping certificate names to principals."},
    {"ssl.protocol", STR, "TLSv1.3", F(ssl_protocol), NR, NULL, NULL, PB,
     "TLS protocol used to build the context."},
    {"ssl.provider", STR, NULL, KEPT, NR, NULL, NULL, PB,
     "Security provider (accepted, not used)."},
    {"ssl.secure.random.implementation", STR, NULL, KEPT, NR, NULL, NULL, PB,
     "SecureRandom implementation (accepted, not used)."},
    {"ssl.trustmanager.algorithm", STR, "PKIX", KEPT, NR, NULL, NULL, PB,
     "Trust manager algorithm (accepted, not used)."},
    {"ssl.truststore.certificates", PASS, NULL, F(ssl_truststore_certificates), NR, NULL, NULL, PB | SENS,
     "PEM trusted certificates given inline."},
    {"ssl.truststore.location", STR, NULL, F(ssl_truststore_location), NR, NULL, NULL, PB,
     "Trust store file."},
    {"ssl.truststore.password", PASS, NULL, F(ssl_truststore_password), NR, NULL, NULL, PB | SENS,
     "Password of the trust store file."},
    {"ssl.truststore.type", STR, "JKS", F(ssl_truststore_type), NR, NULL, NULL, PB,
     "Trust store format (Sluice reads PEM and PKCS12)."},
    {"super.users", STR, "", F(super_users), NR, NULL, NULL, RO,
     "Principals allowed everything, User:a;User:b."},
    {"transaction.abort.timed.out.transaction.cleanup.interval.ms", INT, "10000", KEPT, 1, INT32_MAX, NULL, NULL,
     RO, "How often timed-out transactions are aborted, ms."},
    {"transaction.max.timeout.ms", INT, "900000", F(transaction_max_timeout_ms), 1, INT32_MAX, NULL, NULL, RO,
     "Largest transaction timeout a producer may ask for, ms."},
    {"transaction.remove.expired.transaction.cleanup.interval.ms", INT, "3600000", KEPT, 1, INT32_MAX, NULL, NULL,
     RO, "How often expired transactional ids are removed, ms."},
    {"transaction.state.log.load.buffer.size", INT, "5242880", KEPT, 1, INT32_MAX, NULL, NULL, RO,
     "Read size when loading transaction state, bytes."},
    {"transaction.state.log.min.isr", INT, "1", F(transaction_state_log_min_isr), 1, INT32_MAX, NULL, NULL, RO,
     "min.insync.replicas of __transaction_state (Sluice's default 1; Kafka's 2)."},
    {"transaction.state.log.num.partitions", INT, "50", F(transaction_state_log_num_partitions), 1, INT32_MAX, NULL,
     NULL, RO, "Partitions of __transaction_state."},
    {"transaction.state.log.replication.factor", SHORT, "1", F(transaction_state_log_replication_factor), 1,
     INT16_MAX, NULL, NULL, RO,
     "Replication factor of __transaction_state (Sluice's default 1 so a single node works; Kafka's 3)."},
    {"transaction.state.log.segment.bytes", INT, "104857600", F(transaction_state_log_segment_bytes), 1, INT32_MAX,
     NULL, NULL, RO, "Segment size of __transaction_state, bytes."},
    {"transactional.id.expiration.ms", INT, "604800000", F(transactional_id_expiration_ms), 1, INT32_MAX, NULL,
     NULL, CW, "An idle transactional id expires after this long, ms."},
    {"unclean.leader.election.enable", BOOL, "false", F(unclean_leader_election_enable), NR, NULL, NULL, CW,
     "Allow a replica outside the ISR to become leader, at the risk of data loss."},
};

_Static_assert(sizeof(conf_keys) / sizeof(conf_keys[0]) <= SL_CONF_MAX_KEYS, "raise SL_CONF_MAX_KEYS");

const struct sl_conf_key *sl_conf_keys(size_t *n)
{
    *n = sizeof(conf_keys) / sizeof(conf_keys[0]);
    return conf_keys;
}
