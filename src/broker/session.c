/*
 * session.c - per-connection sessions (session.h): made on a connection's
 * first request, freed with the connection.
 */
#include "broker/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

bool sl_listener_is_sasl(const struct sl_listener *l)
{
    return l && l->protocol && strncmp(l->protocol, "SASL_", 5) == 0;
}

static void session_free(void *arg)
{
    struct sl_session *s = arg;
    if (s->sasl && s->sasl_free)
        s->sasl_free(s->sasl);
    free(s);
}

struct sl_session *sl_call_session(struct sl_call *call)
{
    struct sl_conn *conn = call->req->conn;
    struct sl_session *s = sl_conn_user(conn);
    if (s)
        return s;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->listener = call->listener;
    s->state = sl_listener_is_sasl(call->listener) ? SL_AUTH_HANDSHAKE : SL_AUTH_AUTHENTICATED;
    snprintf(s->principal, sizeof(s->principal), "User:ANONYMOUS");
    sl_conn_set_user(conn, s, session_free);
    /* CVE-2022-34917: until SASL completes, frames are capped at
     * sasl.server.max.receive.size. The listener applies the same cap from
     * the first frame (sl_net_listener_max_frame); h_sasl.c lifts it. */
    if (s->state != SL_AUTH_AUTHENTICATED && call->broker && call->broker->conf)
        sl_conn_set_max_frame(conn, (size_t)call->broker->conf->sasl_server_max_receive_size);
    return s;
}
