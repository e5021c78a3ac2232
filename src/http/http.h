/*
 * http.h - the broker's HTTP listener (admin.listeners, default
 * http://127.0.0.1:9644): Prometheus /metrics, health checks and a read-only
 * admin API in JSON.
 *
 *   GET /metrics              Prometheus text exposition (scrape.c)
 *   GET /v1/health/live       200 while the process runs
 *   GET /v1/health/ready      200 once logs are recovered and the broker is
 *                             registered (sl_http_set_ready), 503 before
 *   GET /v1/cluster, /v1/brokers, /v1/topics, /v1/topics/{name},
 *       /v1/groups, /v1/groups/{id}              JSON (api.c)
 *
 * Threads. libmicrohttpd serves on its own thread, off the Kafka data path:
 * handlers read the metadata image (acquire/release, never a lock),
 * reference partitions from a snapshot of the registry (its lock held only
 * to copy pointers) and relaxed atomic counters, and format with no lock
 * held. sl_http_start/stop and the setters run on the main thread.
 */
#ifndef SL_HTTP_HTTP_H
#define SL_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct sl_broker;
struct sl_net;
struct sl_http;

/* Binds the first URL of admin.listeners ("http://host:port"; port 0 picks
 * a free one) and starts serving. An empty value disables HTTP: 0 with
 * *out NULL. 0, or -errno with err set (address in use, https asked). */
int sl_http_start(const char *admin_listeners, struct sl_broker *broker, struct sl_http **out,
                  char *err, size_t errlen);
/* Bound host and port, as "listening HTTP host:port" prints them. */
const char *sl_http_host(const struct sl_http *http);
int sl_http_port(const struct sl_http *http);
/* The network layer, for connection and loop metrics; NULL before it exists
 * and before it is freed. Thread: main. */
void sl_http_set_net(struct sl_http *http, struct sl_net *net);
/* Start-up finished (ready true) or shutting down (false). Thread: any. */
void sl_http_set_ready(struct sl_http *http, bool ready);
/* Stops the server thread and frees. NULL is fine. Thread: main. */
void sl_http_stop(struct sl_http *http);

#endif
