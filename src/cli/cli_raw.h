/*
 * cli_raw.h - one Metadata v12 request sent with Sluice's own protocol codec, for
 * what librdkafka 2.0 does not expose: topic ids and broker racks.
 * Only on PLAINTEXT clusters (security.protocol unset or PLAINTEXT); elsewhere,
 * or when the request fails, callers get NULL and print the fields empty.
 */
#ifndef SL_CLI_RAW_H
#define SL_CLI_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"

struct sl_cli_raw_md;

/* Asks the first bootstrap server, bounded by the client's timeout. NULL if not
 * possible; never prints. */
struct sl_cli_raw_md *sl_cli_raw_metadata(const struct sl_cli_client *cl);
/* Kafka's printable topic id (base64url) or NULL. raw may be NULL. */
const char *sl_cli_raw_topic_id(const struct sl_cli_raw_md *raw, const char *topic);
/* A broker's rack or NULL. raw may be NULL. */
const char *sl_cli_raw_rack(const struct sl_cli_raw_md *raw, int32_t broker_id);
void sl_cli_raw_free(struct sl_cli_raw_md *raw);

/* A non-blocking TCP connection to the first server of bootstrap, or -errno. */
int sl_cli_raw_dial(const char *bootstrap, int64_t deadline_us);
/* Sends (wr) or receives exactly len bytes before deadline_us (sl_cli_now_us). 0 or -errno. */
int sl_cli_raw_io(int fd, uint8_t *buf, size_t len, bool wr, int64_t deadline_us);

/* A raw connection (cli_rawconn.c) to the first bootstrap server, for APIs
 * librdkafka 2.0 lacks. PLAINTEXT, or SASL_PLAINTEXT authenticated with the
 * client configuration's sasl.mechanisms / sasl.username / sasl.password
 * (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN). 0, or -errno with err. */
struct sl_cli_raw_conn;
struct sl_arena;
int sl_cli_raw_open(const struct sl_cli_client *cl, struct sl_cli_raw_conn **out, char *err, size_t errlen);
/* One request (a generated request struct) and its response (decoded into
 * resp, slices in arena a). 0, or -errno with err. */
int sl_cli_raw_call(struct sl_cli_raw_conn *c, int16_t api_key, int16_t version, const void *req, void *resp,
                    struct sl_arena *a, char *err, size_t errlen);
void sl_cli_raw_close(struct sl_cli_raw_conn *c);
/* Whether sl_cli_raw_request can reach the cluster (a PLAINTEXT client). */
bool sl_cli_raw_possible(const struct sl_cli_client *cl);

/* One request of any API (req: its generated request struct) to the first
 * bootstrap server, its response decoded into resp (the generated response
 * struct, initialized here) with strings in arena. Same limits as above.
 * 0, -ENOTSUP (not PLAINTEXT), -ETIMEDOUT, -EIO or -EPROTO; never prints. */
int sl_cli_raw_request(const struct sl_cli_client *cl, int16_t api_key, int16_t version, const void *req,
                       void *resp, struct sl_arena *arena);

#endif
