/*
 * session.h - what the broker knows about one client connection: who it is
 * (its Kafka principal) and how far SASL authentication has got.
 *
 * A session is made on the first request of a connection and lives as long
 * as the connection's memory (net: sl_conn_set_user). Handlers read the
 * principal to authorize; the SASL handlers move the state along.
 *
 *   listener PLAINTEXT / SSL:            AUTHENTICATED from the start
 *                                        (User:ANONYMOUS, or the TLS client
 *                                        certificate's subject)
 *   listener SASL_PLAINTEXT / SASL_SSL:  HANDSHAKE -> AUTHENTICATING -> AUTHENTICATED
 *
 * Thread: the connection's loop.
 */
#ifndef SL_BROKER_SESSION_H
#define SL_BROKER_SESSION_H

#include <stdbool.h>

#include "broker/broker.h"

enum sl_auth_state {
    SL_AUTH_HANDSHAKE,      /* SASL listener: only ApiVersions and SaslHandshake are allowed */
    SL_AUTH_AUTHENTICATING, /* SaslHandshake done: only SaslAuthenticate is allowed */
    SL_AUTH_AUTHENTICATED,  /* every API, as principal */
};

#define SL_PRINCIPAL_MAX 512

struct sl_session {
    enum sl_auth_state state;
    char principal[SL_PRINCIPAL_MAX]; /* "User:ANONYMOUS", "User:alice", "User:CN=x,O=y" */
    const struct sl_listener *listener; /* where the connection came in */
    void *sasl;                          /* the SASL exchange in progress (h_sasl.c), or NULL */
    void (*sasl_free)(void *sasl);       /* frees sasl */
};

/* The session of the call's connection, made on first use. NULL when out of
 * memory, or when the TLS client certificate maps to no principal
 * (ssl.principal.mapping.rules): the caller closes the connection. */
struct sl_session *sl_call_session(struct sl_call *call);

/* Whether the listener authenticates with SASL. */
bool sl_listener_is_sasl(const struct sl_listener *l);

#endif
