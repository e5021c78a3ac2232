/*
 * session.c - per-connection sessions (session.h): made on a connection's
 * first request, freed with the connection.
 */
#include "broker/session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "security/ssl_principal.h"

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

/* SSL listener: a verified client certificate's subject, through
 * ssl.principal.mapping.rules, is the principal (Kafka's
 * DefaultKafkaPrincipalBuilder); no certificate leaves User:ANONYMOUS. On
 * SASL_SSL the SASL exchange decides (sl_conn_tls_subject stays readable).
 * -EACCES when no rule maps the subject: Kafka fails the authentication. */
static int tls_principal(struct sl_call *call, struct sl_conn *conn, struct sl_session *s)
{
    const char *dn = sl_conn_tls_subject(conn);
    const struct sl_listener *l = call->listener;
    if (!dn || !l || !l->protocol || strcmp(l->protocol, "SSL") != 0)
        return 0;
    char name[SL_PRINCIPAL_MAX - 5];
    int rc = 0;
    if (l->ssl_rules)
        rc = sl_ssl_rules_apply(l->ssl_rules, dn, name, sizeof(name));
    else if (strlen(dn) < sizeof(name))
        strcpy(name, dn); /* DEFAULT */
    else
        rc = -ENOSPC;
    if (rc < 0) {
        SL_WARN("session", "%s: certificate subject '%s' maps to no principal (%s)", sl_conn_peer(conn), dn,
                rc == -ENOENT ? "no ssl.principal.mapping.rules rule applies" : "too long");
        return -EACCES;
    }
    snprintf(s->principal, sizeof(s->principal), "User:%s", name);
    return 0;
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
    if (tls_principal(call, conn, s) < 0) {
        free(s);
        return NULL;
    }
    sl_conn_set_user(conn, s, session_free);
    return s;
}
