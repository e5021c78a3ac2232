/*
 * http.c - the HTTP listener on libmicrohttpd: binding admin.listeners,
 * routing GET requests to /metrics, the health checks and the JSON API.
 * One internal polling thread serves every connection; a scrape formats on
 * that thread and never touches a loop thread.
 */
#include "http/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/diag.h"

#define JSON_TYPE "application/json"
#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

static void reply_text(struct http_reply *rep, int status, const char *type, const char *text)
{
    rep->status = status;
    rep->content_type = type;
    rep->body = strdup(text);
    rep->len = rep->body ? strlen(rep->body) : 0;
}

static void route(struct sl_http *http, const char *url, struct http_reply *rep)
{
    if (strcmp(url, "/metrics") == 0) {
        struct sl_expo e;
        sl_expo_init(&e);
        http_scrape(http, &e);
        if (e.oom) {
            sl_expo_fini(&e);
            reply_text(rep, 500, "text/plain", "out of memory\n");
            return;
        }
        rep->status = 200;
        rep->content_type = PROM_TYPE;
        rep->body = sl_expo_take(&e, &rep->len);
        if (!rep->body)
            reply_text(rep, 200, PROM_TYPE, "");
        return;
    }
    if (strcmp(url, "/v1/health/live") == 0) {
        reply_text(rep, 200, JSON_TYPE, "{\"status\":\"live\"}\n");
        return;
    }
    if (strcmp(url, "/v1/health/ready") == 0) {
        if (__atomic_load_n(&http->ready, __ATOMIC_ACQUIRE))
            reply_text(rep, 200, JSON_TYPE, "{\"status\":\"ready\"}\n");
        else
            reply_text(rep, 503, JSON_TYPE, "{\"status\":\"starting\"}\n");
        return;
    }
    if (strncmp(url, "/v1/", 4) == 0) {
        http_api(http, url + 3, rep);
        return;
    }
    reply_text(rep, 404, JSON_TYPE, "{\"error\":\"not found\"}\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    struct sl_http *http = cls;
    /* First call: headers only. Answer on the second, once any body is read. */
    if (*con_cls == NULL) {
        *con_cls = http;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* a body we do not use */
        return MHD_YES;
    }
    struct http_reply rep = {0};
    bool head = strcmp(method, "HEAD") == 0;
    if (strcmp(method, "GET") != 0 && !head)
        reply_text(&rep, 405, JSON_TYPE, "{\"error\":\"method not allowed\"}\n");
    else
        route(http, url, &rep);
    SL_DEBUG("http", "method=%s path=%s status=%d bytes=%zu", method, url, rep.status, rep.len);
    struct MHD_Response *resp;
    if (rep.body)
        resp = MHD_create_response_from_buffer(rep.len, rep.body, MHD_RESPMEM_MUST_FREE);
    else
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(rep.body);
        return MHD_NO;
    }
    if (rep.content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep.content_type);
    if (rep.status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result r = MHD_queue_response(mc, (unsigned)rep.status, resp);
    MHD_destroy_response(resp);
    return r;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    SL_WARN("http", "%s", msg);
}

/* "http://host:port[,...]": the first URL's host and port. */
static int parse_first_url(const char *s, char *host, size_t hostlen, int *port, char *err, size_t errlen)
{
    size_t n = strcspn(s, ",");
    char url[512];
    snprintf(url, sizeof(url), "%.*s", (int)(n < sizeof(url) - 1 ? n : sizeof(url) - 1), s);
    if (strncmp(url, "https://", 8) == 0) {
        snprintf(err, errlen, "admin.listeners=%s: https is not supported yet; use http://", url);
        return -ENOTSUP;
    }
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "admin.listeners=%s: expected http://host:port", url);
        return -EINVAL;
    }
    char *h = url + 7, *colon;
    if (*h == '[') {
        char *close = strchr(h, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errlen, "admin.listeners=%s: expected http://[v6addr]:port", url);
            return -EINVAL;
        }
        *close = 0;
        h++;
        colon = close + 1;
    } else if (!(colon = strrchr(h, ':'))) {
        snprintf(err, errlen, "admin.listeners=%s: expected http://host:port", url);
        return -EINVAL;
    }
    *colon = 0;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end && *end != '/') || p < 0 || p > 65535) {
        snprintf(err, errlen, "admin.listeners: bad port in %s", s);
        return -EINVAL;
    }
    if (strlen(h) >= hostlen) {
        snprintf(err, errlen, "admin.listeners: host too long");
        return -EINVAL;
    }
    memcpy(host, h, strlen(h) + 1);
    *port = (int)p;
    return 0;
}

int sl_http_start(const char *admin_listeners, struct sl_broker *broker, struct sl_http **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    if (!admin_listeners || !admin_listeners[0])
        return 0;
    struct sl_http *http = calloc(1, sizeof(*http));
    if (!http)
        return -ENOMEM;
    http->broker = broker;
    pthread_mutex_init(&http->scrape_mu, NULL);
    int port, rc;
    if ((rc = parse_first_url(admin_listeners, http->host, sizeof(http->host), &port, err, errlen)) < 0)
        goto fail;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int gai = getaddrinfo(http->host[0] ? http->host : NULL, portstr, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(err, errlen, "admin.listeners: cannot resolve %s: %s", http->host, gai_strerror(gai));
        rc = -EINVAL;
        goto fail;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    http->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, http,
                                 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                                 MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                 MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!http->mhd) {
        snprintf(err, errlen, "cannot listen on %s for HTTP (admin.listeners): address in use or not available",
                 admin_listeners);
        rc = -EADDRINUSE;
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->mhd, MHD_DAEMON_INFO_BIND_PORT);
    http->port = info ? info->port : port;
    if (!http->host[0])
        snprintf(http->host, sizeof(http->host), "0.0.0.0");
    http_groups_register(http);
    *out = http;
    return 0;
fail:
    pthread_mutex_destroy(&http->scrape_mu);
    free(http);
    return rc;
}

const char *sl_http_host(const struct sl_http *http) { return http->host; }
int sl_http_port(const struct sl_http *http) { return http->port; }

void sl_http_set_net(struct sl_http *http, struct sl_net *net)
{
    if (http)
        __atomic_store_n(&http->net, net, __ATOMIC_RELEASE);
}

void sl_http_set_ready(struct sl_http *http, bool ready)
{
    if (http)
        __atomic_store_n(&http->ready, ready, __ATOMIC_RELEASE);
}

void sl_http_stop(struct sl_http *http)
{
    if (!http)
        return;
    if (http->mhd)
        MHD_stop_daemon(http->mhd);
    pthread_mutex_destroy(&http->scrape_mu);
    free(http);
}
