/*
 * cli.h - what every `sluice` command shares: flag tables and their parser, the
 * client configuration (--bootstrap-server, --command-config read with the Java
 * client's property names, as Kafka's shell tools read it), librdkafka handles
 * whose every wait is bounded, error sentences, and text/JSON output.
 *
 * Exit codes, the same for every command: SL_CLI_OK (0) success, SL_CLI_FAIL (1)
 * the operation failed (one sentence on stderr naming what and why),
 * SL_CLI_USAGE (2) the command line or a property is wrong.
 *
 * Thread: main thread only (the tool is single-threaded; librdkafka's threads
 * call back only through the queues polled here).
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { SL_CLI_CONTINUE = -1, SL_CLI_OK = 0, SL_CLI_FAIL = 1, SL_CLI_USAGE = 2 };

#define SL_CLI_DEFAULT_BOOTSTRAP "127.0.0.1:9092"
#define SL_CLI_DEFAULT_TIMEOUT_MS 15000

enum sl_cli_kind {
    SL_CLI_FLAG,  /* --name, no value */
    SL_CLI_ARG,   /* --name VALUE; the last one wins */
    SL_CLI_LIST,  /* --name VALUE, repeatable */
    SL_CLI_MULTI, /* --name V1 V2 ..., repeatable: takes words up to the next --flag */
};

struct sl_cli_flag {
    const char *name;     /* long name without "--"; NULL ends a table */
    enum sl_cli_kind kind;
    const char *metavar;  /* shown in --help; NULL for SL_CLI_FLAG */
    const char *help;     /* one line */
    const char *alias_of; /* when set, this name means that flag (help hides it) */
};

/* One command or subcommand, described for the parser and for --help. */
struct sl_cli_cmd {
    const char *name;                /* as typed: "topics", "perf produce" */
    const char *summary;             /* one line for `sluice --help` */
    const char *usage;               /* synopsis lines, each after "sluice " */
    const struct sl_cli_flag *flags; /* own flags; the common ones are added */
    const char *examples;            /* shown under "Examples:" */
};

struct sl_cli_val {
    const struct sl_cli_flag *flag; /* canonical flag (aliases resolved) */
    const char *value;              /* borrowed from argv; NULL for SL_CLI_FLAG */
};

struct sl_cli_args {
    const struct sl_cli_cmd *cmd;
    struct sl_cli_val *v; /* every value in command-line order; owned */
    int n;
};

/* A client and what its error callback saw. Owned by the command that made it. */
struct sl_cli_client {
    rd_kafka_t *rk;
    const struct sl_cli_args *args;
    char bootstrap[512];      /* the servers asked for, for messages */
    int timeout_ms;           /* bound on connecting and on each admin call */
    rd_kafka_resp_err_t err;  /* last error from error_cb, 0 if none */
    char errstr[512];         /* its reason, cleaned of librdkafka decoration */
    bool all_down;            /* every bootstrap broker refused or failed */
    bool fatal;               /* authentication, TLS or a fatal producer error */
    bool consumer_polls;      /* main queue forwarded to the consumer's (poll_set_consumer) */
};

/* ---- flags (cli_common.c) ---- */

/* Parses argv (after the command words) against cmd's flags and the common ones.
 * Returns SL_CLI_CONTINUE to go on, SL_CLI_OK after printing --help, or
 * SL_CLI_USAGE after printing why. args->v must be freed with sl_cli_args_fini. */
int sl_cli_parse(const struct sl_cli_cmd *cmd, int argc, char **argv, struct sl_cli_args *args);
void sl_cli_args_fini(struct sl_cli_args *args);
void sl_cli_help(const struct sl_cli_cmd *cmd, FILE *out);

bool sl_cli_has(const struct sl_cli_args *args, const char *name);
const char *sl_cli_str(const struct sl_cli_args *args, const char *name); /* last or NULL */
/* Iterates the values of a LIST/MULTI flag: start with *pos = 0. */
const char *sl_cli_next(const struct sl_cli_args *args, const char *name, int *pos);
/* Reads an integer flag into *out (def when absent). SL_CLI_USAGE if malformed. */
int sl_cli_int(const struct sl_cli_args *args, const char *name, int64_t def, int64_t min,
               int64_t max, int64_t *out);
/* Prints "sluice <cmd>: <message>" and a pointer to --help; returns SL_CLI_USAGE. */
int sl_cli_usage(const struct sl_cli_args *args, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "error: <message>" on stderr; returns SL_CLI_FAIL. */
int sl_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool sl_cli_json(const struct sl_cli_args *args);
int sl_cli_timeout(const struct sl_cli_args *args);
/* Splits "k=v" into a key copy and a value pointer; false without '='. */
bool sl_cli_kv(const char *word, char *key, size_t keysz, const char **val);

/* 1 when name is pattern or fully matches it as an extended regular expression
 * (as Kafka's tools treat --topic/--include), 0 when not, -1 if pattern is bad. */
int sl_cli_match(const char *pattern, const char *name);

/* ---- client (cli_client.c) ---- */

/* A librdkafka conf from --bootstrap-server (else the file's bootstrap.servers,
 * else $SLUICE_BOOTSTRAP, else 127.0.0.1:9092), --command-config and quiet
 * logging. Returns NULL after printing why (*rc = SL_CLI_USAGE or SL_CLI_FAIL). */
rd_kafka_conf_t *sl_cli_conf_new(const struct sl_cli_args *args, int *rc);
/* Sets one property, translating the Java client's names and values
 * (sasl.jaas.config, ssl.truststore.location, ...). origin names where it came
 * from for the message. Returns 0 or SL_CLI_USAGE after printing why. */
int sl_cli_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, const char *origin);
/* Makes the handle (takes ownership of conf) and, when probe is set, waits at
 * most --timeout-ms for the cluster to answer. NULL after printing why. */
struct sl_cli_client *sl_cli_client_new(const struct sl_cli_args *args, rd_kafka_type_t type,
                                        rd_kafka_conf_t *conf, bool probe, int *rc);
void sl_cli_client_free(struct sl_cli_client *cl);
/* Cluster metadata (all topics) within the timeout; prints why on failure. */
int sl_cli_metadata(struct sl_cli_client *cl, const struct rd_kafka_metadata **md);
const struct rd_kafka_metadata_topic *sl_cli_md_topic(const struct rd_kafka_metadata *md,
                                                      const char *topic);
/* Admin options bounded by the client's timeout. */
rd_kafka_AdminOptions_t *sl_cli_admin_options(struct sl_cli_client *cl, rd_kafka_admin_op_t op);
/* Waits for an admin result on q, bounded; NULL after printing why (what = the
 * operation, for the message). */
rd_kafka_event_t *sl_cli_admin_wait(struct sl_cli_client *cl, rd_kafka_queue_t *q,
                                    const char *what);
/* Kafka error text without librdkafka's "Broker: " prefix, lowercased first. */
const char *sl_cli_errstr(rd_kafka_resp_err_t err, char *buf, size_t bufsz);
/* Serves the main queue so error_cb sees connection errors. */
void sl_cli_poll_errors(struct sl_cli_client *cl);
/* Fails with a sentence for a connection-level problem seen by the client. */
int sl_cli_fail_conn(struct sl_cli_client *cl, const char *what);

/* ---- output (cli_common.c) ---- */

/* Writes s (len bytes, or strlen when len < 0) as a JSON string; NULL -> null. */
void sl_cli_jstr(FILE *f, const char *s, long len);
/* Writes bytes for a terminal: as they are (the console tools do the same). */
void sl_cli_write(FILE *f, const void *p, size_t len);
int64_t sl_cli_now_ms(void);
int64_t sl_cli_now_us(void);
/* Parses a Kafka-tool datetime ("2024-01-31T10:00:00[.SSS][Z|+hh:mm]") or ms
 * since the epoch. -1 on error. */
int64_t sl_cli_parse_time(const char *s);

/* ---- commands (one file each) ---- */

int sl_cli_topics(int argc, char **argv);
int sl_cli_produce(int argc, char **argv);
int sl_cli_consume(int argc, char **argv);
int sl_cli_groups(int argc, char **argv);
int sl_cli_configs(int argc, char **argv);
int sl_cli_cluster(int argc, char **argv);
int sl_cli_users(int argc, char **argv); /* cli_users.c */
int sl_cli_offsets(int argc, char **argv);
int sl_cli_perf(int argc, char **argv);
int sl_cli_acls(int argc, char **argv);

#endif
