/*
 * cli_raw.h - one Metadata v12 request sent with Sluice's own protocol codec, for
 * what librdkafka 2.0 does not expose: topic ids and broker racks.
 * Only on PLAINTEXT clusters (security.protocol unset or PLAINTEXT); elsewhere,
 * or when the request fails, callers get NULL and print the fields empty.
 */
#ifndef SL_CLI_RAW_H
#define SL_CLI_RAW_H

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

#endif
