/*
 * conf.h - the server's configuration: Apache Kafka's broker keys (server.properties
 * style), their types, defaults and ranges, parsed from a Java .properties file and
 * "--override key=value" arguments.
 *
 * Every key lives in one table (keys.c) with Kafka's type, its default as a string,
 * its range and a documentation line; DescribeConfigs reads the same table. Keys
 * Sluice uses have a typed field in struct sl_conf; keys accepted for compatibility
 * but not used yet are validated by type all the same and kept as strings.
 *
 * Precedence (Kafka's): log.retention.ms > log.retention.minutes > log.retention.hours,
 * log.roll.ms > log.roll.hours, log.roll.jitter.ms > log.roll.jitter.hours,
 * log.dirs > log.dir. Order of assignment does not matter, only which keys were set.
 *
 * Durability (Sluice's semantics for log.flush.interval.*): by default, with neither
 * key set, a produce request is acknowledged only after its batches are fsynced
 * (group commit by the flusher thread). Setting log.flush.interval.ms > 0 or
 * log.flush.interval.messages > 1 opts into Kafka's model: acknowledge once the data
 * is written to the page cache and fsync when either threshold is reached.
 * log.flush.interval.ms=0 or log.flush.interval.messages=1 keep fsync-before-ack.
 * The derived field log_flush_before_ack holds the outcome.
 *
 * Thread: a struct sl_conf is filled on the main thread before the loops start and
 * read-only afterwards. It is large (about 100 KiB with the kept strings): give it
 * static or heap storage rather than a thread's stack.
 */
#ifndef SL_CONF_CONF_H
#define SL_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_CONF_UNKNOWN 1 /* sl_conf_set: key not in the table (the caller warns) */
#define SL_CONF_HELP 2    /* sl_conf_from_args: -h/--help given; print sl_conf_usage() */
#define SL_CONF_VERSION 3 /* sl_conf_from_args: --version given */
#define SL_CONF_NULL 1    /* sl_conf_get_string: the key's value is null (unset, no default) */

#define SL_CONF_MAX_KEYS 320   /* capacity of the set-bitmap; keys.c asserts the table fits */
#define SL_CONF_KEPT_MAX 96    /* keys kept as strings only */
#define SL_CONF_KEPT_LEN 512   /* bytes per kept value, NUL included */
#define SL_CONF_PREFIXED_MAX 32 /* "listener.name.<listener>.<key>" entries kept */

enum sl_conf_type {
    SL_CONF_BOOLEAN,
    SL_CONF_STRING,
    SL_CONF_INT,
    SL_CONF_SHORT,
    SL_CONF_LONG,
    SL_CONF_DOUBLE,
    SL_CONF_LIST,
    SL_CONF_CLASS,
    SL_CONF_PASSWORD,
};

/* Kafka's "Dynamic Update Mode" column, plus whether the value is secret. */
#define SL_CONF_READ_ONLY 0x0      /* needs a restart to change */
#define SL_CONF_PER_BROKER 0x1     /* may be updated per broker */
#define SL_CONF_CLUSTER_WIDE 0x2   /* may be updated as a cluster-wide default */
#define SL_CONF_SENSITIVE 0x4      /* never shown: passwords, JAAS configs */
#define SL_CONF_DERIVED 0x8        /* value computed from a precedence chain when unset */
#define SL_CONF_SLUICE 0x10        /* Sluice's own key, not Apache Kafka's */

/* Checks a (trimmed) value; on failure writes what is allowed ("expected ...") to
 * err and returns -EINVAL. */
typedef int (*sl_conf_check_fn)(const char *value, char *err, size_t errlen);

struct sl_conf_key {
    const char *name;        /* Kafka's key, e.g. "log.segment.bytes" */
    enum sl_conf_type type;  /* Kafka's ConfigDef type */
    const char *dflt;        /* default as Kafka prints it; NULL = null */
    size_t offset;           /* offsetof the field in struct sl_conf (size 0: kept) */
    size_t size;             /* sizeof the field; 0 = stored in kept[] as a string */
    int64_t min, max;        /* integer range, inclusive (DOUBLE: same, as doubles) */
    const char *allowed;     /* comma-separated allowed values for STRING/LIST, or NULL */
    sl_conf_check_fn check;  /* extra check for STRING/LIST values, or NULL */
    unsigned flags;          /* SL_CONF_* mode flags above */
    const char *doc;         /* one line of documentation */
};

struct sl_conf {
    /* ---- node and roles ---- */
    int32_t node_id;                  /* node.id; default 1 (Kafka: required) */
    char process_roles[32];           /* process.roles: "broker,controller" (default), "broker", "controller" */
    char cluster_id[64];              /* cluster.id (Sluice): empty = generate at first start */
    char broker_rack[64];             /* broker.rack: availability zone; empty = none */

    /* ---- listeners ---- */
    char listeners[512];              /* listeners: "PLAINTEXT://127.0.0.1:9092"; port 0 = pick a free port */
    char advertised_listeners[512];   /* advertised.listeners: "" = same as listeners */
    char listener_security_protocol_map[512]; /* listener.security.protocol.map: NAME:PROTOCOL,... */
    char controller_listener_names[128]; /* controller.listener.names: "" = none (single-node quorum) */
    char inter_broker_listener_name[64];  /* inter.broker.listener.name: "" = from security.inter.broker.protocol */
    char controller_quorum_voters[512];   /* controller.quorum.voters: id@host:port,...; "" = this node alone */
    char controller_quorum_bootstrap_servers[512]; /* controller.quorum.bootstrap.servers: host:port,... */
    char admin_listeners[256];        /* admin.listeners (Sluice): "http://127.0.0.1:9644" */

    /* ---- network ---- */
    int32_t num_network_threads;      /* num.network.threads: event loops; 0 (default) = number of cores */
    int32_t num_io_threads;           /* num.io.threads: accepted for compatibility (8) */
    int32_t socket_send_buffer_bytes; /* socket.send.buffer.bytes: SO_SNDBUF, bytes; -1 = OS default */
    int32_t socket_receive_buffer_bytes; /* socket.receive.buffer.bytes: SO_RCVBUF, bytes; -1 = OS default */
    int64_t socket_request_max_bytes; /* socket.request.max.bytes: largest request frame, bytes (104857600) */
    int32_t socket_listen_backlog_size; /* socket.listen.backlog.size: listen(2) backlog (50) */
    int32_t queued_max_requests;      /* queued.max.requests: in-flight requests per loop (500) */
    int64_t connections_max_idle_ms;  /* connections.max.idle.ms: idle connections closed after, ms (600000) */
    int32_t max_connections;          /* max.connections: per broker (Int.MAX) */
    int32_t max_connections_per_ip;   /* max.connections.per.ip (Int.MAX) */
    int32_t max_connection_creation_rate; /* max.connection.creation.rate: accepts/s per listener (Int.MAX) */

    /* ---- topics ---- */
    int32_t num_partitions;           /* num.partitions: for auto-created topics (1) */
    int16_t default_replication_factor; /* default.replication.factor (1) */
    bool auto_create_topics_enable;   /* auto.create.topics.enable (true) */
    bool delete_topic_enable;         /* delete.topic.enable (true) */
    int32_t min_insync_replicas;      /* min.insync.replicas (1) */
    bool unclean_leader_election_enable; /* unclean.leader.election.enable (false) */
    bool auto_leader_rebalance_enable;   /* auto.leader.rebalance.enable (true) */

    /* ---- log ---- */
    char log_dirs[1024];              /* log.dirs, else log.dir: comma-separated directories ("./data") */
    char log_dir[1024];               /* log.dir: used when log.dirs is unset ("./data") */
    int64_t log_segment_bytes;        /* log.segment.bytes: segment size, bytes (1073741824) */
    int64_t log_roll_ms;              /* log.roll.ms, else log.roll.hours * 3600000 (168 h), ms */
    int32_t log_roll_hours;           /* log.roll.hours (168) */
    int64_t log_roll_jitter_ms;       /* log.roll.jitter.ms, else log.roll.jitter.hours * 3600000, ms */
    int32_t log_roll_jitter_hours;    /* log.roll.jitter.hours (0) */
    int64_t log_retention_ms;         /* log.retention.ms, else .minutes, else .hours (168); -1 = forever */
    int32_t log_retention_minutes;    /* log.retention.minutes (null) */
    int32_t log_retention_hours;      /* log.retention.hours (168) */
    int64_t log_retention_bytes;      /* log.retention.bytes: per partition, bytes; -1 = unlimited */
    int64_t log_retention_check_interval_ms; /* log.retention.check.interval.ms (300000) */
    int64_t log_segment_delete_delay_ms; /* log.segment.delete.delay.ms (60000) */
    int32_t log_index_interval_bytes; /* log.index.interval.bytes: bytes between index entries (4096) */
    int32_t log_index_size_max_bytes; /* log.index.size.max.bytes: index file size, bytes (10485760) */
    int64_t log_flush_interval_messages; /* log.flush.interval.messages (Long.MAX = not set); see top */
    int64_t log_flush_interval_ms;    /* log.flush.interval.ms; -1 = null (not set); see top */
    bool log_flush_before_ack;        /* derived: fsync before acknowledging; see top */
    bool log_preallocate;             /* log.preallocate (false) */
    int32_t num_recovery_threads_per_data_dir; /* num.recovery.threads.per.data.dir (2) */
    int32_t message_max_bytes;        /* message.max.bytes: largest record batch, bytes (1048588) */
    char log_cleanup_policy[32];      /* log.cleanup.policy: "delete", "compact" or both */
    char compression_type[16];        /* compression.type: producer, uncompressed, gzip, snappy, lz4, zstd */
    char log_message_timestamp_type[16]; /* log.message.timestamp.type: CreateTime or LogAppendTime */
    int64_t log_message_timestamp_before_max_ms; /* log.message.timestamp.before.max.ms (Long.MAX) */
    int64_t log_message_timestamp_after_max_ms;  /* log.message.timestamp.after.max.ms (3600000) */
    bool log_cleaner_enable;          /* log.cleaner.enable (true) */
    int32_t log_cleaner_threads;      /* log.cleaner.threads (1) */
    int64_t log_cleaner_delete_retention_ms; /* log.cleaner.delete.retention.ms: tombstones kept, ms (86400000) */
    int64_t log_cleaner_min_compaction_lag_ms; /* log.cleaner.min.compaction.lag.ms (0) */
    int64_t log_cleaner_max_compaction_lag_ms; /* log.cleaner.max.compaction.lag.ms (Long.MAX) */
    double log_cleaner_min_cleanable_ratio;    /* log.cleaner.min.cleanable.ratio (0.5) */
    int64_t log_cleaner_backoff_ms;   /* log.cleaner.backoff.ms (15000) */

    /* ---- replication ---- */
    int32_t num_replica_fetchers;     /* num.replica.fetchers (1) */
    int32_t replica_fetch_max_bytes;  /* replica.fetch.max.bytes, bytes (1048576) */
    int32_t replica_fetch_wait_max_ms; /* replica.fetch.wait.max.ms (500) */
    int32_t replica_fetch_min_bytes;  /* replica.fetch.min.bytes (1) */
    int32_t replica_fetch_response_max_bytes; /* replica.fetch.response.max.bytes (10485760) */
    int64_t replica_lag_time_max_ms;  /* replica.lag.time.max.ms: ISR shrink after, ms (30000) */
    int32_t replica_socket_timeout_ms; /* replica.socket.timeout.ms (30000) */

    /* ---- KRaft ---- */
    char metadata_log_dir[1024];      /* metadata.log.dir: "" = first of log.dirs */
    int32_t metadata_log_segment_bytes; /* metadata.log.segment.bytes (1073741824) */
    int64_t metadata_log_max_record_bytes_between_snapshots; /* (20971520) */
    int64_t metadata_max_retention_ms;   /* metadata.max.retention.ms (604800000) */
    int64_t metadata_max_retention_bytes; /* metadata.max.retention.bytes (104857600) */
    int32_t controller_quorum_election_timeout_ms; /* controller.quorum.election.timeout.ms (1000) */
    int32_t controller_quorum_fetch_timeout_ms;    /* controller.quorum.fetch.timeout.ms (2000) */
    int32_t controller_quorum_election_backoff_max_ms; /* controller.quorum.election.backoff.max.ms (1000) */
    int32_t controller_quorum_request_timeout_ms;  /* controller.quorum.request.timeout.ms (2000) */
    int32_t controller_quorum_retry_backoff_ms;    /* controller.quorum.retry.backoff.ms (20) */
    int32_t controller_quorum_append_linger_ms;    /* controller.quorum.append.linger.ms (25) */
    int32_t broker_heartbeat_interval_ms; /* broker.heartbeat.interval.ms (2000) */
    int32_t broker_session_timeout_ms;    /* broker.session.timeout.ms: fenced after, ms (9000) */

    /* ---- groups and offsets ---- */
    int32_t offsets_topic_num_partitions; /* offsets.topic.num.partitions (50) */
    int16_t offsets_topic_replication_factor; /* offsets.topic.replication.factor (Sluice 1, Kafka 3) */
    int32_t offsets_topic_segment_bytes; /* offsets.topic.segment.bytes (104857600) */
    int32_t offsets_retention_minutes;    /* offsets.retention.minutes (10080) */
    int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms (600000) */
    int32_t offsets_commit_timeout_ms;    /* offsets.commit.timeout.ms (5000) */
    int32_t offset_metadata_max_bytes;    /* offset.metadata.max.bytes (4096) */
    int32_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms (3000) */
    int32_t group_min_session_timeout_ms; /* group.min.session.timeout.ms (6000) */
    int32_t group_max_session_timeout_ms; /* group.max.session.timeout.ms (1800000) */
    int32_t group_max_size;               /* group.max.size (Int.MAX) */
    char group_coordinator_rebalance_protocols[64]; /* group.coordinator.rebalance.protocols */
    int32_t group_consumer_session_timeout_ms;   /* group.consumer.session.timeout.ms (45000) */
    int32_t group_consumer_heartbeat_interval_ms; /* group.consumer.heartbeat.interval.ms (5000) */

    /* ---- transactions ---- */
    int32_t transaction_state_log_num_partitions; /* transaction.state.log.num.partitions (50) */
    int16_t transaction_state_log_replication_factor; /* (Sluice 1, Kafka 3) */
    int32_t transaction_state_log_min_isr;  /* transaction.state.log.min.isr (Sluice 1, Kafka 2) */
    int32_t transaction_state_log_segment_bytes; /* transaction.state.log.segment.bytes (104857600) */
    int64_t transactional_id_expiration_ms; /* transactional.id.expiration.ms (604800000) */
    int32_t transaction_max_timeout_ms;     /* transaction.max.timeout.ms (900000) */
    int64_t producer_id_expiration_ms;      /* producer.id.expiration.ms (86400000) */

    /* ---- requests ---- */
    int32_t fetch_max_bytes;              /* fetch.max.bytes: per fetch response, bytes (57671680) */
    int32_t max_incremental_fetch_session_cache_slots; /* (1000) */

    /* ---- security ---- */
    char security_inter_broker_protocol[32]; /* security.inter.broker.protocol (PLAINTEXT) */
    char sasl_enabled_mechanisms[128];    /* sasl.enabled.mechanisms (Sluice SCRAM-SHA-512, Kafka GSSAPI) */
    int32_t sasl_server_max_receive_size; /* sasl.server.max.receive.size: frame cap before auth, bytes (524288) */
    int64_t connections_max_reauth_ms;    /* connections.max.reauth.ms: SASL session lifetime, ms; 0 = none */
    int32_t connection_failed_authentication_delay_ms; /* connection.failed.authentication.delay.ms (100) */
    char sasl_mechanism_inter_broker_protocol[32]; /* (GSSAPI) */
    char ssl_keystore_location[512];      /* ssl.keystore.location: PEM or PKCS12 file */
    char ssl_keystore_type[16];           /* ssl.keystore.type (JKS; Sluice reads PEM, PKCS12) */
    char ssl_keystore_password[256];      /* ssl.keystore.password (secret) */
    char ssl_key_password[256];           /* ssl.key.password (secret) */
    char ssl_truststore_location[512];    /* ssl.truststore.location */
    char ssl_truststore_type[16];         /* ssl.truststore.type (JKS) */
    char ssl_truststore_password[256];    /* ssl.truststore.password (secret) */
    char ssl_client_auth[16];             /* ssl.client.auth: none, requested, required */
    char ssl_enabled_protocols[64];       /* ssl.enabled.protocols (TLSv1.2,TLSv1.3) */
    char ssl_cipher_suites[1024];         /* ssl.cipher.suites ("" = library default) */
    char ssl_keystore_certificate_chain[4096]; /* ssl.keystore.certificate.chain: inline PEM (secret) */
    char ssl_keystore_key[4096];          /* ssl.keystore.key: inline PEM private key (secret) */
    char ssl_truststore_certificates[4096]; /* ssl.truststore.certificates: inline PEM (secret) */
    char ssl_principal_mapping_rules[1024]; /* ssl.principal.mapping.rules (DEFAULT) */
    char ssl_protocol[16];                /* ssl.protocol (TLSv1.3) */
    int64_t ssl_handshake_timeout_ms;     /* ssl.handshake.timeout.ms (Sluice): TLS handshake bound (10000) */
    char authorizer_class_name[256];      /* authorizer.class.name ("" = no ACL checks) */
    char super_users[512];                /* super.users: User:a;User:b */
    bool allow_everyone_if_no_acl_found;  /* allow.everyone.if.no.acl.found (false) */

    /* ---- diagnostics (Sluice) ---- */
    char log_level[16];               /* log.level: ERROR, WARN, INFO (default), DEBUG, TRACE */
    char log_format[16];              /* log.format: text (default) or json */
    int64_t log_slow_request_ms;      /* log.slow.request.ms: slow-request log threshold, ms (1000); -1 = off */

    /* ---- bookkeeping, not keys ---- */
    uint64_t set_bits[(SL_CONF_MAX_KEYS + 63) / 64]; /* key index set explicitly (not default) */
    char kept[SL_CONF_KEPT_MAX][SL_CONF_KEPT_LEN];   /* values of keys without a typed field */
    struct {
        char key[160];    /* full key, e.g. listener.name.sasl_ssl.ssl.keystore.location */
        char value[SL_CONF_KEPT_LEN]; /* its value as given (trimmed) */
    } prefixed[SL_CONF_PREFIXED_MAX];
    int n_prefixed;                   /* entries used in prefixed[] */
};

struct sl_conf_listener {
    char name[64];   /* listener name, upper-cased as Kafka normalises it */
    char host[256];  /* host or address without brackets; "" = all interfaces */
    int port;        /* 0..65535; 0 = pick a free port */
};

struct sl_conf_voter {
    int32_t id;      /* node.id of the voter */
    char host[256];  /* host or address without brackets */
    int port;        /* 1..65535 */
};

/* Fills every key with its default. */
void sl_conf_defaults(struct sl_conf *c);

/* Applies key=value (the value is trimmed, except passwords). Returns 0; -EINVAL with
 * err a full sentence naming the key, the value and what is allowed ("invalid value
 * 'abc' for num.partitions: expected an integer >= 1"); or SL_CONF_UNKNOWN for a key
 * not in the table (the caller warns). "listener.name.*" keys are kept as strings. */
int sl_conf_set(struct sl_conf *c, const char *key, const char *value, char *err, size_t errlen);

/* Parses a server.properties file (Java .properties syntax: # and ! comments, key=value
 * / key:value / key value, backslash continuation, escapes incl. \uXXXX, whitespace
 * trimming) and applies each key with sl_conf_set. Unknown keys are warned about
 * with SL_WARN("conf", ...). 0, or -errno / -EINVAL with err naming file and line. */
int sl_conf_load_file(struct sl_conf *c, const char *path, char *err, size_t errlen);

/* Same, from a buffer; name is used in messages. */
int sl_conf_load_buffer(struct sl_conf *c, const char *name, const char *buf, size_t len, char *err,
                        size_t errlen);

/* argv as main() gets it (argv[0] is the program): an optional properties file, then
 * any number of "--override key=value" (also "--override=key=value"); -h/--help
 * returns SL_CONF_HELP, --version SL_CONF_VERSION. Starts from sl_conf_defaults()
 * and ends with sl_conf_validate(). 0, or -EINVAL (or -errno of the file) with err. */
int sl_conf_from_args(struct sl_conf *c, int argc, char **argv, char *err, size_t errlen);

/* The usage text printed for --help. */
const char *sl_conf_usage(void);
/* Sluice's version string, printed for --version. */
const char *sl_conf_version(void);

/* Cross-key validation after everything is set: listeners parse and are distinct,
 * roles valid, node.id >= 0 and among the voters of a controller, ... */
int sl_conf_validate(const struct sl_conf *c, char *err, size_t errlen);

/* "PLAINTEXT://127.0.0.1:9092,SSL://:9094,INTERNAL://[::1]:9095" -> name, host, port.
 * Returns the count (0 for an empty string) or -EINVAL with err. */
int sl_conf_parse_listeners(const char *s, struct sl_conf_listener *out, int max, char *err,
                            size_t errlen);

/* "1@host:9093,2@[::1]:9093" -> id, host, port. The count or -EINVAL with err. */
int sl_conf_parse_voters(const char *s, struct sl_conf_voter *out, int max, char *err, size_t errlen);

/* The security protocol of a listener name per listener.security.protocol.map (or the
 * name itself when it is a protocol): "PLAINTEXT", "SSL", "SASL_PLAINTEXT",
 * "SASL_SSL", or NULL when unmapped. Case-insensitive on the name. */
const char *sl_conf_security_protocol(const struct sl_conf *c, const char *listener_name);

/* Whether process.roles includes role ("broker" or "controller"). */
bool sl_conf_has_role(const struct sl_conf *c, const char *role);
/* Whether the comma-separated list holds name (case-insensitive, items trimmed). */
bool sl_conf_list_has(const char *list, const char *name);

/* The key table, in Kafka's alphabetical order. */
const struct sl_conf_key *sl_conf_keys(size_t *n);
/* The table entry for key, or NULL. */
const struct sl_conf_key *sl_conf_key_find(const char *key);
/* Whether key was set explicitly (file or override) rather than defaulted. */
bool sl_conf_is_set(const struct sl_conf *c, const char *key);

/* The current value of key as a string, as DescribeConfigs shows it (secrets too: the
 * caller masks SL_CONF_SENSITIVE keys). 0; SL_CONF_NULL (out = "") when the value is
 * null; -ENOENT for an unknown key; -ENOSPC if it does not fit in out. */
int sl_conf_get_string(const struct sl_conf *c, const char *key, char *out, size_t outlen);

#endif
