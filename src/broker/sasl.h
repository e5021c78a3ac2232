/*
 * sasl.h - SASL authentication on SASL_PLAINTEXT / SASL_SSL listeners, as
 * Apache Kafka does it (h_sasl.c): SaslHandshake v0-1, SaslAuthenticate
 * v0-2, mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, re-authentication
 * (KIP-368), and the gate that keeps every other API away from a connection
 * until it has authenticated.
 *
 * Per listener: the enabled mechanisms (listener.name.<l>.sasl.enabled.mechanisms,
 * else sasl.enabled.mechanisms) and the PLAIN users (JAAS user_<name>="<password>"
 * options of listener.name.<l>.plain.sasl.jaas.config, else sasl.jaas.config).
 * SCRAM credentials come from the metadata image (security/scram_store.h).
 *
 * Thread: sl_sasl_new/free on main; the rest on the connection's loop.
 */
#ifndef SL_BROKER_SASL_H
#define SL_BROKER_SASL_H

#include <stddef.h>

#include "broker/broker.h"

struct sl_sasl;

/* Reads the SASL configuration of broker->listeners. 0, or -EINVAL with
 * err (an unusable mechanism list or JAAS text on a SASL listener), -ENOMEM. */
int sl_sasl_new(const struct sl_broker *broker, struct sl_sasl **out, char *err, size_t errlen);
void sl_sasl_free(struct sl_sasl *sasl);

/* Whether call may run now on its connection. NULL: go on; otherwise the
 * reason to close the connection (an API other than ApiVersions /
 * SaslHandshake before the handshake, other than SaslAuthenticate after it,
 * or any but SaslHandshake once the session expired). */
const char *sl_sasl_gate(struct sl_call *call);

/* A SaslHandshake v0 switched the connection to raw SASL tokens (frames
 * without a request header). true: this frame was such a token and req is
 * finished. Call before reading the request header. */
bool sl_sasl_raw_frame(struct sl_broker *broker, struct sl_req *req);

#endif
