/*
 * server.c - start-up and shut-down order of a sluiced process.
 *
 * Start: configuration -> log directory identity (meta.properties) ->
 * flusher -> controller (replays __cluster_metadata into the first image)
 * -> partitions (recovers the logs the image assigns here) -> listeners ->
 * broker registration -> event loops -> "ready".
 * Stop (SIGTERM/SIGINT): stop accepting and finish requests in flight,
 * then close partitions cleanly (so the next start skips recovery), then the
 * controller and the flusher. Signals are taken synchronously with sigwait
 * in the main thread; every other thread has them blocked.
 */
#include "server/server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/diag.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/sasl.h"
#include "broker/session.h"
#include "broker/logmgr.h"
#include "coord/coord.h"
#include "txn/tc.h"
#include "broker/parts.h"
#include "conf/conf.h"
#include "http/http.h"
#include "meta/controller.h"
#include "metrics/metrics.h"
#include "net/net.h"
#include "security/ssl_principal.h"
#include "security/scram_admin.h"
#include "server/limits.h"
#include "server/logdir.h"
#include "server/tls_conf.h"
#include "storage/flusher.h"

#define SHUTDOWN_GRACE_MS 10000

/* Whether the listener's security protocol runs over TLS. */
static bool listener_is_tls(const struct sl_listener *l)
{
    return l->protocol && (strcmp(l->protocol, "SSL") == 0 || strcmp(l->protocol, "SASL_SSL") == 0);
}

/* Binds one listener: a TLS one gets its SSL_CTX from the ssl.* keys (a
 * listener with no usable key store stops start-up). */
static int listen_one(struct sl_net *net, const struct sl_conf *conf, struct sl_listener *l, int *bound,
                      char *err, size_t errlen)
{
    if (!listener_is_tls(l))
        return sl_net_listen(net, l->host, l->port, l, bound);
    SSL_CTX *ctx = NULL;
    if (sl_tls_conf_ctx(conf, l->name, &ctx, err, errlen) < 0 ||
        sl_tls_conf_rules(conf, l->name, &l->ssl_rules, err, errlen) < 0) {
        SSL_CTX_free(ctx);
        return -EINVAL;
    }
    int rc = sl_net_listen_tls(net, l->host, l->port, l, ctx, bound);
    SSL_CTX_free(ctx); /* the net keeps its own reference */
    return rc;
}

/* First directory of log.dirs (a comma-separated list). */
static void first_log_dir(const char *dirs, char *out, size_t outlen)
{
    size_t n = strcspn(dirs, ",");
    snprintf(out, outlen, "%.*s", (int)n, dirs);
}

/* Copies a NUL-terminated string, truncating to fit. */
static void copy_str(char *dst, size_t dstlen, const char *src)
{
    size_t n = strnlen(src, dstlen - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

static int setup_listeners(struct sl_broker *broker, const struct sl_conf *conf, char *err, size_t errlen)
{
    struct sl_conf_listener ls[8], adv[8];
    int n = sl_conf_parse_listeners(conf->listeners, ls, 8, err, errlen);
    if (n < 0)
        return n;
    int an = 0;
    if (conf->advertised_listeners[0]) {
        an = sl_conf_parse_listeners(conf->advertised_listeners, adv, 8, err, errlen);
        if (an < 0)
            return an;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        /* The controller listener is not a Kafka client listener. */
        if (sl_conf_list_has(conf->controller_listener_names, ls[i].name))
            continue;
        struct sl_listener *l = &broker->listeners[k++];
        copy_str(l->name, sizeof(l->name), ls[i].name);
        l->protocol = sl_conf_security_protocol(conf, ls[i].name);
        copy_str(l->host, sizeof(l->host), ls[i].host);
        l->port = ls[i].port;
        l->adv_host[0] = 0;
        l->adv_port = -1;
        for (int j = 0; j < an; j++)
            if (strcmp(adv[j].name, ls[i].name) == 0) {
                copy_str(l->adv_host, sizeof(l->adv_host), adv[j].host);
                l->adv_port = adv[j].port;
            }
    }
    broker->listeners_n = k;
    if (k == 0) {
        snprintf(err, errlen, "listeners=%.200s names no Kafka listener", conf->listeners);
        return -EINVAL;
    }
    return 0;
}

int sl_server_main(int argc, char **argv)
{
    static struct sl_conf conf;
    char err[512] = "";
    int rc = 1;

    sl_conf_defaults(&conf);
    struct sl_scram_boot *scram_boot = NULL; /* --add-scram users (docs/sasl.md) */
    int scram_boot_n = 0;
    if (sl_scram_boot_take_args(&argc, argv, &scram_boot, &scram_boot_n, err, sizeof(err)) < 0) {
        fprintf(stderr, "sluiced: %s\n", err);
        return 2;
    }
    int crc = sl_conf_from_args(&conf, argc, argv, err, sizeof(err));
    if (crc != 0) {
        free(scram_boot);
        scram_boot = NULL;
    }
    if (crc == SL_CONF_HELP) {
        fputs(sl_conf_usage(), stdout);
        return 0;
    }
    if (crc == SL_CONF_VERSION) {
        printf("sluiced %s\n", sl_conf_version());
        return 0;
    }
    if (crc < 0) {
        fprintf(stderr, "sluiced: %s\n", err);
        return 2;
    }
    int lvl = sl_diag_parse_level(conf.log_level);
    sl_diag_set_level(lvl < 0 ? SL_DIAG_INFO : (enum sl_diag_level)lvl);
    sl_diag_set_json(strcmp(conf.log_format, "json") == 0);

    /* Signals are handled only by sigwait below; threads inherit the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int64_t t0 = sl_clock_mono_ms();
    sl_raise_nofile_limit();
    static struct sl_broker broker;
    broker.conf = &conf;
    broker.node_id = conf.node_id;
    struct sl_net *net = NULL;
    struct sl_http *http = NULL;
    char dir[1024];
    first_log_dir(conf.log_dirs, dir, sizeof(dir));

    char cluster_id[32];
    if (sl_logdir_prepare(dir, conf.node_id, conf.cluster_id, cluster_id, err, sizeof(err)) < 0) {
        SL_ERROR("server", "%s", err);
        return 1;
    }
    if (setup_listeners(&broker, &conf, err, sizeof(err)) < 0 ||
        sl_sasl_new(&broker, &broker.sasl, err, sizeof(err)) < 0) {
        SL_ERROR("server", "%s", err);
        free(scram_boot);
        return 2;
    }
    if (sl_authz_setup(&broker, err, sizeof(err)) < 0) {
        SL_ERROR("server", "%s", err);
        return 2;
    }
    if ((rc = sl_flusher_new(&broker.flusher)) < 0) {
        SL_ERROR("server", "cannot start the flusher: %s", strerror(-rc));
        return 1;
    }
    if ((rc = sl_parts_new(&broker, dir, &broker.parts)) < 0) {
        SL_ERROR("server", "cannot open partitions in %s: %s", dir, strerror(-rc));
        goto out;
    }
    /* HTTP comes up before recovery, so /v1/health/live answers and
     * /v1/health/ready says 503 until start-up has finished. */
    if ((rc = sl_metrics_new(&broker.metrics)) < 0 ||
        (rc = sl_http_start(conf.admin_listeners, &broker, &http, err, sizeof(err))) < 0) {
        SL_ERROR("server", "%s", rc == -ENOMEM ? "out of memory" : err);
        goto out;
    }
    if (http) {
        printf("listening HTTP %s:%d\n", sl_http_host(http), sl_http_port(http));
        fflush(stdout);
    }
    /* Before the controller opens partitions: they take their recovery
     * points and log start offsets from its checkpoint files. */
    if ((rc = sl_logmgr_new(&broker, dir, &broker.logmgr)) < 0) {
        SL_ERROR("server", "cannot start the log manager: %s", strerror(-rc));
        goto out;
    }
    if ((rc = sl_controller_open(&conf, dir, cluster_id, &broker, &broker.ctl, err, sizeof(err))) < 0) {
        SL_ERROR("server", "%s", err);
        goto out;
    }
    rc = sl_scram_boot_apply(broker.ctl, scram_boot, scram_boot_n, err, sizeof(err));
    free(scram_boot);
    scram_boot = NULL;
    if (rc < 0) {
        SL_ERROR("server", "%s", err);
        goto out;
    }
    if ((rc = sl_logmgr_start(broker.logmgr)) < 0) {
        SL_ERROR("server", "cannot start retention and cleaner threads: %s", strerror(-rc));
        goto out;
    }

    struct sl_net_conf nc = {
        .threads = conf.num_network_threads,
        .max_request_bytes = (size_t)conf.socket_request_max_bytes,
        .max_inflight_bytes = (size_t)conf.socket_request_max_bytes,
        .idle_timeout_ms = conf.connections_max_idle_ms,
        .max_connections = conf.max_connections == INT32_MAX ? 0 : conf.max_connections,
        .max_connections_per_ip = conf.max_connections_per_ip == INT32_MAX ? 0 : conf.max_connections_per_ip,
        .max_connection_creation_rate =
            conf.max_connection_creation_rate == INT32_MAX ? 0 : conf.max_connection_creation_rate,
        .tls_handshake_timeout_ms = conf.ssl_handshake_timeout_ms,
    };
    if ((rc = sl_net_new(&nc, sl_broker_on_request, &broker, &net)) < 0) {
        SL_ERROR("server", "cannot create event loops: %s", strerror(-rc));
        goto out;
    }
    sl_http_set_net(http, net);
    for (int i = 0; i < broker.listeners_n; i++) {
        struct sl_listener *l = &broker.listeners[i];
        int bound = 0;
        err[0] = '\0';
        if ((rc = listen_one(net, &conf, l, &bound, err, sizeof(err))) < 0) {
            if (err[0])
                SL_ERROR("server", "cannot start listener %s: %s", l->name, err);
            else
                SL_ERROR("server", "cannot listen on %s:%d for %s: %s", l->host, l->port, l->name, strerror(-rc));
            goto out;
        }
        l->port = bound;
        /* CVE-2022-34917: SASL listeners cap frames from the first one. */
        if (sl_listener_is_sasl(l))
            sl_net_listener_max_frame(net, l, (size_t)conf.sasl_server_max_receive_size);
        if (!l->adv_host[0])
            snprintf(l->adv_host, sizeof(l->adv_host), "%s",
                     (l->host[0] && strcmp(l->host, "0.0.0.0") && strcmp(l->host, "::")) ? l->host : "127.0.0.1");
        if (l->adv_port <= 0)
            l->adv_port = bound;
    }
    if ((rc = sl_controller_register_broker(broker.ctl, err, sizeof(err))) < 0) {
        SL_ERROR("server", "%s", err);
        goto out;
    }
    if ((rc = sl_net_start(net)) < 0) {
        SL_ERROR("server", "cannot start event loops: %s", strerror(-rc));
        goto out;
    }
    if ((rc = sl_txn_start(&broker)) < 0) {
        SL_ERROR("server", "cannot start the transaction coordinator: %s", strerror(-rc));
        goto out;
    }
    for (int i = 0; i < broker.listeners_n; i++)
        printf("listening %s %s:%d\n", broker.listeners[i].name, broker.listeners[i].adv_host,
               broker.listeners[i].adv_port);
    printf("ready: node %d of cluster %s started in %lld ms; connect with: kcat -b %s:%d -L\n", conf.node_id,
           cluster_id, (long long)(sl_clock_mono_ms() - t0), broker.listeners[0].adv_host,
           broker.listeners[0].adv_port);
    fflush(stdout);
    SL_INFO("server", "node %d ready, data in %s", conf.node_id, dir);
    sl_http_set_ready(http, true);

    int sig = 0;
    sigwait(&sigs, &sig);
    SL_INFO("server", "%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;
out:
    /* HTTP first: its handlers read the net layer, partitions, the flusher
     * and the group coordinator, so it stops before any of them. */
    sl_http_set_ready(http, false);
    sl_http_stop(http);
    /* Order matters: requests in flight still need the controller and the
     * flusher; their completions are posted to the loops, and after
     * sl_net_stop has joined the loop threads those posts run inside
     * sl_net_free, on this thread. Logs close last, cleanly. */
    if (net)
        sl_net_stop(net, SHUTDOWN_GRACE_MS);
    sl_txn_shutdown(); /* it still writes through the controller and the parts */
    if (broker.ctl)
        sl_controller_close(broker.ctl);
    if (broker.flusher)
        sl_flusher_free(broker.flusher);
    /* Parked joins and syncs are answered NOT_COORDINATOR; their posts run
     * in sl_net_free below. */
    sl_coord_shutdown();
    if (net)
        sl_net_free(net);
    /* Retention and cleaner stop before the logs close; the offset
     * checkpoints are written last, with everything synced. */
    sl_logmgr_free(broker.logmgr);
    broker.logmgr = NULL;
    if (broker.parts)
        sl_parts_free(broker.parts);
    for (int i = 0; i < broker.listeners_n; i++) {
        sl_ssl_rules_free(broker.listeners[i].ssl_rules);
        broker.listeners[i].ssl_rules = NULL;
    }
    sl_sasl_free(broker.sasl);
    broker.sasl = NULL;
    free(scram_boot);
    if (rc == 0)
        SL_INFO("server", "stopped cleanly");
    return rc < 0 ? 1 : rc;
}
