/*
 * http_int.h - state shared by the HTTP server (http.c), the scraper
 * (scrape.c) and the JSON admin API (api.c). Not for use outside src/http.
 */
#ifndef SL_HTTP_HTTP_INT_H
#define SL_HTTP_HTTP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"
#include "metrics/expo.h"

struct MHD_Daemon;

struct sl_http {
    struct MHD_Daemon *mhd;        /* the server; its thread calls the handlers */
    struct sl_broker *broker;      /* borrowed; outlives the server */
    struct sl_net *net;            /* borrowed, or NULL; atomic pointer */
    bool ready;                    /* start-up finished; atomic */
    char host[256];                /* bound host */
    int port;                      /* bound port */
    pthread_mutex_t scrape_mu;     /* guards the idle-ratio memory below */
    int64_t last_scrape_ns;        /* mono ns of the previous scrape, 0 none */
    uint64_t last_idle_ns[64];     /* per loop idle ns at the previous scrape */
};

/* A response body: owned text (free()) and its status and type. */
struct http_reply {
    int status;                    /* 200, 404, 503, ... */
    const char *content_type;      /* static string */
    char *body;                    /* malloc'ed */
    size_t len;                    /* bytes at body */
};

/* scrape.c: the whole /metrics exposition into e. */
void http_scrape(struct sl_http *http, struct sl_expo *e);

/* groups.c: registers the coordinator-backed group snapshot with the
 * broker's metrics unless another provider is set. */
void http_groups_register(struct sl_http *http);

/* api.c: answers GET path under /v1/ (path without the "/v1" prefix). */
void http_api(struct sl_http *http, const char *path, struct http_reply *rep);

#endif
