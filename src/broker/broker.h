/*
 * broker.h - the broker: turns framed requests from the network layer into
 * calls of per-API handlers and encodes their responses.
 *
 * A call lives in its request's arena. A handler either answers at once
 * (sl_call_respond) or parks the call and answers later on the same loop
 * thread; it never blocks the loop.
 */
#ifndef SL_BROKER_BROKER_H
#define SL_BROKER_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/slice.h"
#include "net/net.h"
#include "proto/gen/api.h"

struct sl_conf;
struct sl_controller;
struct sl_parts;
struct sl_flusher;
struct sl_logmgr;
struct sl_metrics;
struct sl_acl_authorizer;

/* One configured Kafka listener; passed to the net layer as listener_data. */
struct sl_listener {
    char name[64];             /* e.g. PLAINTEXT */
    const char *protocol;      /* security protocol: "PLAINTEXT", "SSL", "SASL_PLAINTEXT" or
                                  "SASL_SSL" (listener.security.protocol.map) */
    char host[256];            /* bind host */
    int port;                  /* bound port (after sl_net_listen) */
    char adv_host[256];        /* advertised host */
    int adv_port;              /* advertised port */
    struct sl_ssl_rules *ssl_rules; /* SSL/SASL_SSL: ssl.principal.mapping.rules, else NULL */
};

struct sl_broker {
    const struct sl_conf *conf;     /* borrowed, outlives the broker */
    int32_t node_id;                /* node.id */
    struct sl_controller *ctl;      /* metadata writer (this node is the controller) */
    struct sl_parts *parts;         /* partitions hosted here */
    struct sl_flusher *flusher;     /* group commit */
    struct sl_logmgr *logmgr;       /* retention, cleaner, offset checkpoints (broker/logmgr.h) */
    struct sl_metrics *metrics;     /* request counters for /metrics (metrics/metrics.h), or NULL */
    struct sl_sasl *sasl;           /* SASL settings of the listeners (broker/sasl.h), or NULL */
    const struct sl_acl_authorizer *authz; /* ACL authorizer (broker/authz.h); NULL: no authorization */
    int listeners_n;
    struct sl_listener listeners[8];
};

struct sl_call {
    struct sl_req *req;             /* the network request; its arena holds the call */
    struct sl_broker *broker;
    const struct sl_api_info *api;
    int16_t api_key;
    int16_t version;
    int32_t correlation_id;
    struct sl_slice client_id;      /* slice into the request frame; may be null */
    void *request;                  /* decoded request struct */
    void *response;                 /* response struct, initialized with defaults */
    struct sl_listener *listener;   /* the listener the request arrived on */
    void *authz;                    /* broker/authz.h: what authorization decided on the loop for
                                       work finished on another thread; NULL: nothing refused */
    int64_t parked_ms;              /* time the request may wait by design (Fetch MaxWaitMs, a
                                       JoinGroup's rebalance): not counted as slow */
};

typedef void (*sl_handler_fn)(struct sl_call *call);

/* The net layer's request callback (ctx is the struct sl_broker). Thread: a loop. */
void sl_broker_on_request(void *ctx, struct sl_req *req);

/* Encodes call->response with its header and sends it. Thread: the call's loop. */
void sl_call_respond(struct sl_call *call);
/* Posts sl_call_respond to the call's loop: for work finished on another
 * thread (controller, coordinators). Thread: any. */
void sl_call_respond_later(struct sl_call *call);
/* Sends the response, then closes the connection (a failed SASL
 * authentication). Thread: the call's loop. */
void sl_call_respond_close(struct sl_call *call, const char *why);
/* Sends nothing (acks=0 produce). */
void sl_call_drop(struct sl_call *call);
/* A protocol error that Kafka answers by closing the connection. */
void sl_call_close(struct sl_call *call, const char *why);

/* Versions this broker implements for an API: false when not implemented. */
bool sl_broker_api_versions(int16_t api_key, int16_t *min, int16_t *max);

#endif
