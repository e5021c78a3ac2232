/*
 * cli_client.c - librdkafka clients for `sluice`: configuration from Kafka's
 * Java-style client properties, quiet logging, and waits that are always bounded.
 *
 * A client.properties written for kafka-*.sh (or an MSK quick start) works as is:
 * the Java names that librdkafka spells differently are translated here
 * (sasl.jaas.config -> sasl.username/password, ssl.truststore.* -> ssl.ca.*,
 * PEM ssl.keystore.* -> ssl.certificate/key.*); Java-only keys (serializers,
 * callback classes) are ignored with a note; anything else is passed through.
 *
 * Connection problems surface through error_cb into struct sl_cli_client and are
 * reported as one sentence ("cannot reach ... : connection refused"), never as
 * librdkafka's log lines, which are silenced unless $SLUICE_DEBUG is set.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* Java client keys with no librdkafka meaning: accepted silently. */
static const char *const java_only[] = {
    "key.serializer", "value.serializer", "key.deserializer", "value.deserializer",
    "sasl.client.callback.handler.class", "sasl.login.callback.handler.class",
    "ssl.truststore.type", "ssl.keystore.type", "max.poll.records", "default.api.timeout.ms",
    "retry.backoff.ms.max", "buffer.memory", "max.block.ms", "delivery.timeout.ms", NULL,
};

/* Java names librdkafka spells differently, with values that carry over. */
static const struct {
    const char *java, *rdkafka;
} renames[] = {
    {"sasl.mechanism", "sasl.mechanisms"},
    {"ssl.key.password", "ssl.key.password"},
    {"ssl.truststore.certificates", "ssl.ca.pem"},
    {"ssl.keystore.certificate.chain", "ssl.certificate.pem"},
    {"ssl.keystore.key", "ssl.key.pem"},
    {"max.request.size", "message.max.bytes"},
    {"fetch.max.wait.ms", "fetch.wait.max.ms"},
    {"max.partition.fetch.bytes", "max.partition.fetch.bytes"},
    {NULL, NULL},
};

/* Values of sasl.jaas.config: `<LoginModule> required username="u" password="p";` */
static int set_jaas(rd_kafka_conf_t *conf, const char *val, const char *origin)
{
    if (strstr(val, "IAMLoginModule")) {
        return sl_cli_fail("%s: AWS IAM authentication (IAMLoginModule) is not supported; use "
                           "SASL/SCRAM credentials",
                           origin),
               SL_CLI_USAGE;
    }
    static const char *const keys[] = {"username", "password"};
    for (int k = 0; k < 2; k++) {
        char pat[16];
        snprintf(pat, sizeof(pat), "%s=", keys[k]);
        const char *p = strstr(val, pat);
        if (!p) {
            return sl_cli_fail("%s: sasl.jaas.config has no %s=\"...\"", origin, keys[k]),
                   SL_CLI_USAGE;
        }
        p += strlen(pat);
        char out[512];
        size_t n = 0;
        char quote = (*p == '"' || *p == '\'') ? *p++ : 0;
        while (*p && n + 1 < sizeof(out) && (quote ? *p != quote : (*p != ' ' && *p != ';'))) {
            if (*p == '\\' && p[1]) {
                p++;
            }
            out[n++] = *p++;
        }
        out[n] = '\0';
        char errstr[256];
        if (rd_kafka_conf_set(conf, k == 0 ? "sasl.username" : "sasl.password", out, errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            return sl_cli_fail("%s: %s", origin, errstr), SL_CLI_USAGE;
        }
    }
    return 0;
}

static int set_raw(rd_kafka_conf_t *conf, const char *key, const char *val, const char *origin)
{
    char errstr[512];
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key, val, errstr, sizeof(errstr));
    if (res == RD_KAFKA_CONF_UNKNOWN) {
        fprintf(stderr, "note: %s: ignoring unknown property '%s'\n", origin, key);
        return 0;
    }
    if (res != RD_KAFKA_CONF_OK) {
        return sl_cli_fail("%s: invalid value for %s: %s", origin, key, errstr), SL_CLI_USAGE;
    }
    return 0;
}

int sl_cli_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, const char *origin)
{
    for (int i = 0; java_only[i]; i++) {
        if (strcmp(key, java_only[i]) == 0) {
            return 0;
        }
    }
    for (int i = 0; renames[i].java; i++) {
        if (strcmp(key, renames[i].java) == 0) {
            return set_raw(conf, renames[i].rdkafka, val, origin);
        }
    }
    if (strcmp(key, "sasl.jaas.config") == 0) {
        return set_jaas(conf, val, origin);
    }
    if (strcmp(key, "ssl.truststore.location") == 0) {
        /* Kafka reads PEM truststores too (ssl.truststore.type=PEM); JKS cannot be read. */
        if (strstr(val, ".jks")) {
            return sl_cli_fail("%s: JKS truststores are not supported; give a PEM file "
                               "(ssl.truststore.type=PEM)",
                               origin),
                   SL_CLI_USAGE;
        }
        return set_raw(conf, "ssl.ca.location", val, origin);
    }
    if (strcmp(key, "ssl.keystore.location") == 0) {
        if (strstr(val, ".jks")) {
            return sl_cli_fail("%s: JKS keystores are not supported; give a PEM or PKCS#12 file",
                               origin),
                   SL_CLI_USAGE;
        }
        if (strstr(val, ".p12") || strstr(val, ".pfx")) {
            return set_raw(conf, "ssl.keystore.location", val, origin);
        }
        /* A PEM keystore holds the key and the certificate chain in one file. */
        int rc = set_raw(conf, "ssl.certificate.location", val, origin);
        return rc ? rc : set_raw(conf, "ssl.key.location", val, origin);
    }
    if (strcmp(key, "ssl.endpoint.identification.algorithm") == 0) {
        return set_raw(conf, key, *val ? val : "none", origin);
    }
    if (strcmp(key, "ssl.truststore.password") == 0) {
        return 0; /* PEM truststores have no password */
    }
    return set_raw(conf, key, val, origin);
}

/* Reads a Java properties file: key=value or key: value, # and ! comments,
 * backslash line continuations. */
static int read_props(rd_kafka_conf_t *conf, const char *path, char *bootstrap, size_t bsz)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return sl_cli_fail("cannot read --command-config %s: %s", path, strerror(errno));
    }
    char *line = NULL, *acc = NULL;
    size_t cap = 0, acclen = 0;
    int rc = 0, lineno = 0;
    while (rc == 0 && getline(&line, &cap, f) != -1) {
        lineno++;
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        char *s = line;
        while (isspace((unsigned char)*s)) {
            s++;
        }
        if (!acc && (*s == '#' || *s == '!' || *s == '\0')) {
            continue;
        }
        size_t sl = strlen(s);
        bool cont = sl > 0 && s[sl - 1] == '\\';
        if (cont) {
            s[--sl] = '\0';
        }
        acc = realloc(acc, acclen + sl + 1);
        memcpy(acc + acclen, s, sl + 1);
        acclen += sl;
        if (cont) {
            continue;
        }
        char *sep = acc + strcspn(acc, "=:");
        char origin[600];
        snprintf(origin, sizeof(origin), "%s line %d", path, lineno);
        if (!*sep) {
            rc = SL_CLI_USAGE;
            sl_cli_fail("%s: expected key=value", origin);
        } else {
            char *k = acc, *v = sep + 1, *ke = sep;
            *sep = '\0';
            while (ke > k && isspace((unsigned char)ke[-1])) {
                *--ke = '\0';
            }
            while (isspace((unsigned char)*v)) {
                v++;
            }
            char *ve = v + strlen(v);
            while (ve > v && isspace((unsigned char)ve[-1])) {
                *--ve = '\0';
            }
            if (strcmp(k, "bootstrap.servers") == 0) {
                snprintf(bootstrap, bsz, "%s", v);
            } else {
                rc = sl_cli_conf_set(conf, k, v, origin);
            }
        }
        free(acc);
        acc = NULL;
        acclen = 0;
    }
    free(acc);
    free(line);
    fclose(f);
    return rc;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (getenv("SLUICE_DEBUG")) {
        fprintf(stderr, "rdkafka %d %s: %s\n", level, fac, buf);
    }
}

/* "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused
 * (after 0ms in state CONNECT)" -> "connection refused". */
static void clean_reason(const char *in, char *out, size_t outsz)
{
    const char *p = in;
    const char *f = strstr(p, " failed: ");
    if (f) {
        p = f + 9;
    } else {
        const char *c = strstr(p, ": ");
        if (c && memchr(p, '/', (size_t)(c - p))) {
            p = c + 2; /* drop the "host:port/id: " prefix */
        }
    }
    snprintf(out, outsz, "%s", p);
    char *after = strstr(out, " (after ");
    if (after) {
        *after = '\0';
    }
    if (out[0] && isupper((unsigned char)out[0]) && !isupper((unsigned char)out[1])) {
        out[0] = (char)tolower((unsigned char)out[0]);
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct sl_cli_client *cl = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        cl->all_down = true;
        if (cl->errstr[0]) {
            return; /* keep the cause seen just before */
        }
    }
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL ||
        err == RD_KAFKA_RESP_ERR__FATAL) {
        cl->fatal = true;
    }
    cl->err = err;
    clean_reason(reason, cl->errstr, sizeof(cl->errstr));
}

rd_kafka_conf_t *sl_cli_conf_new(const struct sl_cli_args *args, int *rc)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char bootstrap[512] = "";
    const char *file = sl_cli_str(args, "command-config");
    *rc = 0;
    if (file && (*rc = read_props(conf, file, bootstrap, sizeof(bootstrap))) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    const char *bs = sl_cli_str(args, "bootstrap-server");
    if (!bs) {
        bs = bootstrap[0] ? bootstrap : getenv("SLUICE_BOOTSTRAP");
    }
    if (!bs || !*bs) {
        bs = SL_CLI_DEFAULT_BOOTSTRAP;
    }
    char errstr[256];
    rd_kafka_conf_set(conf, "client.id", "sluice", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof(errstr));
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bs, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        *rc = sl_cli_usage(args, "bad --bootstrap-server '%s': %s", bs, errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    return conf;
}

struct sl_cli_client *sl_cli_client_new(const struct sl_cli_args *args, rd_kafka_type_t type,
                                        rd_kafka_conf_t *conf, bool probe, int *rc)
{
    struct sl_cli_client *cl = calloc(1, sizeof(*cl));
    char errstr[512];
    size_t bsz = sizeof(cl->bootstrap);
    cl->args = args;
    cl->timeout_ms = sl_cli_timeout(args);
    rd_kafka_conf_get(conf, "bootstrap.servers", cl->bootstrap, &bsz);
    rd_kafka_conf_set_opaque(conf, cl);
    cl->rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!cl->rk) {
        rd_kafka_conf_destroy(conf);
        free(cl);
        *rc = sl_cli_fail("cannot create the client: %s", errstr);
        return NULL;
    }
    if (probe) {
        const struct rd_kafka_metadata *md;
        if ((*rc = sl_cli_metadata(cl, &md)) != 0) {
            sl_cli_client_free(cl);
            return NULL;
        }
        rd_kafka_metadata_destroy(md);
    }
    *rc = 0;
    return cl;
}

void sl_cli_client_free(struct sl_cli_client *cl)
{
    if (!cl) {
        return;
    }
    if (cl->rk) {
        rd_kafka_destroy(cl->rk);
        cl->rk = NULL;
    }
    free(cl);
}

void sl_cli_poll_errors(struct sl_cli_client *cl)
{
    /* error_cb runs from the main queue: consumers forward it to the consumer
     * queue, which only consumer_poll serves, so poll the right one. */
    if (rd_kafka_type(cl->rk) == RD_KAFKA_CONSUMER && cl->consumer_polls) {
        return;
    }
    rd_kafka_poll(cl->rk, 0);
}

int sl_cli_fail_conn(struct sl_cli_client *cl, const char *what)
{
    sl_cli_poll_errors(cl);
    if (cl->fatal) {
        return sl_cli_fail("%s: %s (bootstrap %s)", what, cl->errstr, cl->bootstrap);
    }
    if (cl->errstr[0]) {
        return sl_cli_fail("%s: cannot reach the cluster at %s: %s", what, cl->bootstrap,
                           cl->errstr);
    }
    return sl_cli_fail("%s: no answer from the cluster at %s within %d ms (raise --timeout-ms or "
                       "check --bootstrap-server)",
                       what, cl->bootstrap, cl->timeout_ms);
}

int sl_cli_metadata(struct sl_cli_client *cl, const struct rd_kafka_metadata **md)
{
    /* Short slices so a refused connection or a failed handshake ends the wait
     * early instead of running out the whole timeout. */
    int64_t deadline = sl_cli_now_us() + (int64_t)cl->timeout_ms * 1000;
    for (;;) {
        int64_t left_ms = (deadline - sl_cli_now_us()) / 1000;
        int slice = left_ms > 500 ? 500 : (int)(left_ms > 0 ? left_ms : 1);
        rd_kafka_resp_err_t err = rd_kafka_metadata(cl->rk, 1, NULL, md, slice);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            return 0;
        }
        sl_cli_poll_errors(cl);
        if (cl->fatal || (cl->all_down && cl->errstr[0]) || left_ms <= 0) {
            return sl_cli_fail_conn(cl, "cannot get cluster metadata");
        }
        if (err != RD_KAFKA_RESP_ERR__TIMED_OUT && err != RD_KAFKA_RESP_ERR__TRANSPORT) {
            char buf[256];
            return sl_cli_fail("cannot get cluster metadata: %s",
                               sl_cli_errstr(err, buf, sizeof(buf)));
        }
    }
}

const struct rd_kafka_metadata_topic *sl_cli_md_topic(const struct rd_kafka_metadata *md,
                                                      const char *topic)
{
    for (int i = 0; i < md->topic_cnt; i++) {
        if (strcmp(md->topics[i].topic, topic) == 0) {
            return &md->topics[i];
        }
    }
    return NULL;
}

rd_kafka_AdminOptions_t *sl_cli_admin_options(struct sl_cli_client *cl, rd_kafka_admin_op_t op)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(cl->rk, op);
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(o, cl->timeout_ms, errstr, sizeof(errstr));
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
        op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS) {
        rd_kafka_AdminOptions_set_operation_timeout(o, cl->timeout_ms, errstr, sizeof(errstr));
    }
    return o;
}

rd_kafka_event_t *sl_cli_admin_wait(struct sl_cli_client *cl, rd_kafka_queue_t *q, const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, cl->timeout_ms + 2000);
    if (!ev) {
        sl_cli_fail_conn(cl, what);
        return NULL;
    }
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    if (err) {
        char buf[256];
        if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
            sl_cli_fail_conn(cl, what);
        } else if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
                   err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION) {
            sl_cli_fail("%s: the broker does not support this request yet", what);
        } else {
            sl_cli_fail("%s: %s", what, sl_cli_errstr(err, buf, sizeof(buf)));
        }
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

const char *sl_cli_errstr(rd_kafka_resp_err_t err, char *buf, size_t bufsz)
{
    const char *s = rd_kafka_err2str(err);
    if (strncmp(s, "Broker: ", 8) == 0) {
        s += 8;
    } else if (strncmp(s, "Local: ", 7) == 0) {
        s += 7;
    }
    snprintf(buf, bufsz, "%s", s);
    if (buf[0] && isupper((unsigned char)buf[0]) && !isupper((unsigned char)buf[1])) {
        buf[0] = (char)tolower((unsigned char)buf[0]);
    }
    return buf;
}
