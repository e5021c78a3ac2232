/*
 * h_sasl.c - SASL authentication (broker/sasl.h): SaslHandshake,
 * SaslAuthenticate, the v0 raw-token exchange, the gate in front of every
 * other API, and the SCRAM credential APIs (AlterUserScramCredentials,
 * DescribeUserScramCredentials).
 *
 * A connection of a SASL listener (struct sl_session, session.h):
 *
 *   HANDSHAKE --SaslHandshake(enabled mechanism)--> AUTHENTICATING
 *   AUTHENTICATING --SaslAuthenticate: last step ok--> AUTHENTICATED (frame cap lifted)
 *   AUTHENTICATING --SaslAuthenticate: more steps----> AUTHENTICATING
 *   AUTHENTICATED --SaslHandshake (connections.max.reauth.ms > 0)--> AUTHENTICATING (re-auth)
 *   unknown mechanism: UNSUPPORTED_SASL_MECHANISM, then close
 *   failed step:       SASL_AUTHENTICATION_FAILED with a message, then close
 *   anything else the gate does not allow: close
 *
 * SaslHandshake v0 (kafka-python 2.0, old Java clients): the tokens that
 * follow are raw frames without a request header, answered by raw frames
 * (an empty one for PLAIN's success); a failure closes the connection.
 *
 * Thread: the connection's loop; AlterUserScramCredentials runs on the
 * controller thread and is answered on the loop.
 */
#include "broker/sasl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/clock.h"
#include "base/diag.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "broker/session.h"
#include "conf/conf.h"
#include "meta/controller.h"
#include "meta/image.h"
#include "metrics/metrics.h"
#include "proto/gen/AlterUserScramCredentials.h"
#include "proto/gen/DescribeUserScramCredentials.h"
#include "proto/gen/SaslAuthenticate.h"
#include "proto/gen/SaslHandshake.h"
#include "proto/gen/errors.h"
#include "security/sasl_plain.h"
#include "security/scram.h"
#include "security/scram_admin.h"
#include "security/scram_store.h"

#define MOD "sasl"

/* Mechanisms, in the order the handshake lists them. */
enum { MECH_PLAIN, MECH_SCRAM_SHA_256, MECH_SCRAM_SHA_512, MECH_N };
static const char *const mech_names[MECH_N] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

/* SASL settings of one listener. */
struct lcfg {
    const struct sl_listener *l;  /* borrowed from the broker */
    unsigned mechs;               /* bit per MECH_* enabled */
    bool have_jaas;               /* jaas holds a parsed PLAIN JAAS config */
    struct sl_jaas jaas;          /* PLAIN users: user_<name>="<password>" */
};

struct sl_sasl {
    int n;
    struct lcfg v[8];             /* one per SASL listener */
    uint8_t secret[32];           /* seeds the fake salts of unknown SCRAM users */
    int64_t reauth_ms;            /* connections.max.reauth.ms; 0 = sessions never expire */
};

/* The SASL side of a session (session->sasl), for the connection's life. */
struct exch {
    int mech;                     /* MECH_* of the exchange in progress */
    bool raw;                     /* SaslHandshake v0: raw tokens follow */
    bool reauth;                  /* re-authenticating an authenticated connection */
    bool scram_live;              /* scram is initialised */
    struct sl_scram_server scram; /* the SCRAM exchange in progress */
    int auth_mech;                /* mechanism of the authenticated session, -1 none */
    int64_t expiry_mono_ms;       /* end of the authenticated session, 0 = never */
};

/* --- configuration -------------------------------------------------------- */

static int mech_index(const char *s, size_t len)
{
    for (int i = 0; i < MECH_N; i++)
        if (len == strlen(mech_names[i]) && memcmp(s, mech_names[i], len) == 0)
            return i;
    return -1;
}

/* Reads listener.name.<l>.<key> (any case of l), else the plain key; "" when neither is set. */
static void listener_value(const struct sl_conf *c, const char *lname, const char *key, char *out, size_t outlen)
{
    char full[256];
    snprintf(full, sizeof(full), "listener.name.%s.%s", lname, key);
    if (sl_conf_get_string(c, full, out, outlen) == 0)
        return;
    if (sl_conf_get_string(c, key, out, outlen) != 0)
        out[0] = 0;
}

static int parse_mechs(const char *list, unsigned *mechs, char *err, size_t errlen, const char *lname)
{
    *mechs = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        size_t len = n;
        while (len && (*s == ' ' || *s == '\t'))
            s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len) {
            int m = mech_index(s, len);
            if (m < 0) {
                snprintf(err, errlen, "listener %s: SASL mechanism '%.*s' is not implemented (PLAIN, "
                         "SCRAM-SHA-256, SCRAM-SHA-512)", lname, (int)len, s);
                return -EINVAL;
            }
            *mechs |= 1u << m;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int sl_sasl_new(const struct sl_broker *broker, struct sl_sasl **out, char *err, size_t errlen)
{
    struct sl_sasl *sasl = calloc(1, sizeof(*sasl));
    int rc = 0;
    if (!sasl)
        return -ENOMEM;
    if (RAND_bytes(sasl->secret, sizeof(sasl->secret)) != 1) {
        snprintf(err, errlen, "cannot draw random bytes for SASL");
        free(sasl);
        return -EIO;
    }
    const struct sl_conf *c = broker->conf;
    sasl->reauth_ms = c->connections_max_reauth_ms;
    char val[SL_CONF_KEPT_LEN + 8];
    for (int i = 0; i < broker->listeners_n && sasl->n < 8; i++) {
        const struct sl_listener *l = &broker->listeners[i];
        if (!sl_listener_is_sasl(l))
            continue;
        struct lcfg *lc = &sasl->v[sasl->n++];
        lc->l = l;
        char lname[64];
        for (size_t k = 0; k < sizeof(lname); k++) {
            lname[k] = (char)((l->name[k] >= 'A' && l->name[k] <= 'Z') ? l->name[k] + 32 : l->name[k]);
            if (!l->name[k])
                break;
        }
        listener_value(c, lname, "sasl.enabled.mechanisms", val, sizeof(val));
        if ((rc = parse_mechs(val, &lc->mechs, err, errlen, l->name)) < 0)
            goto fail;
        if (!lc->mechs) {
            snprintf(err, errlen, "listener %s is %s but enables no SASL mechanism (sasl.enabled.mechanisms)",
                     l->name, l->protocol);
            rc = -EINVAL;
            goto fail;
        }
        listener_value(c, lname, "plain.sasl.jaas.config", val, sizeof(val));
        if (!val[0])
            listener_value(c, lname, "sasl.jaas.config", val, sizeof(val));
        if (val[0]) {
            char why[256];
            if ((rc = sl_jaas_parse(val, strlen(val), &lc->jaas, why, sizeof(why))) < 0) {
                snprintf(err, errlen, "listener %s: %s", l->name, why);
                goto fail;
            }
            lc->have_jaas = true;
        }
        if ((lc->mechs & (1u << MECH_PLAIN)) &&
            (!lc->have_jaas || strcmp(lc->jaas.module, SL_PLAIN_LOGIN_MODULE) != 0)) {
            snprintf(err, errlen, "listener %s enables PLAIN but has no %s JAAS configuration "
                     "(listener.name.%s.plain.sasl.jaas.config)", l->name, SL_PLAIN_LOGIN_MODULE, lname);
            rc = -EINVAL;
            goto fail;
        }
        SL_INFO(MOD, "listener %s: SASL mechanisms%s%s%s", l->name,
                lc->mechs & 1 ? " PLAIN" : "", lc->mechs & 2 ? " SCRAM-SHA-256" : "",
                lc->mechs & 4 ? " SCRAM-SHA-512" : "");
    }
    OPENSSL_cleanse(val, sizeof(val));
    *out = sasl;
    return 0;
fail:
    OPENSSL_cleanse(val, sizeof(val));
    sl_sasl_free(sasl);
    return rc;
}

void sl_sasl_free(struct sl_sasl *sasl)
{
    if (!sasl)
        return;
    for (int i = 0; i < sasl->n; i++)
        if (sasl->v[i].have_jaas)
            sl_jaas_fini(&sasl->v[i].jaas);
    OPENSSL_cleanse(sasl->secret, sizeof(sasl->secret));
    free(sasl);
}

static const struct lcfg *lcfg_of(const struct sl_broker *broker, const struct sl_listener *l)
{
    const struct sl_sasl *sasl = broker->sasl;
    for (int i = 0; sasl && i < sasl->n; i++)
        if (sasl->v[i].l == l)
            return &sasl->v[i];
    return NULL;
}

/* --- per-connection exchange ------------------------------------------------ */

static void exch_free(void *arg)
{
    struct exch *x = arg;
    if (x->scram_live)
        sl_scram_server_fini(&x->scram);
    free(x);
}

static struct exch *exch_of(struct sl_session *s)
{
    if (!s->sasl) {
        struct exch *x = calloc(1, sizeof(*x));
        if (!x)
            return NULL;
        x->auth_mech = -1;
        s->sasl = x;
        s->sasl_free = exch_free;
    }
    return s->sasl;
}

static bool expired(const struct exch *x)
{
    return x && x->expiry_mono_ms > 0 && sl_clock_mono_ms() >= x->expiry_mono_ms;
}

static void count(struct sl_broker *broker, bool ok)
{
    if (broker->metrics)
        __atomic_fetch_add(ok ? &broker->metrics->auth_ok : &broker->metrics->auth_failed, 1, __ATOMIC_RELAXED);
}

static bool scram_lookup(void *arg, const char *user, int mech, struct sl_scram_cred *out)
{
    (void)arg;
    struct sl_image *img = sl_image_acquire();
    bool ok = sl_scram_find(img, user, mech, out);
    sl_image_release(img);
    return ok;
}

/* The session is authenticated as principal: lift the frame cap, start the lifetime. */
static void authenticated(struct sl_broker *broker, struct sl_conn *conn, struct sl_session *s, struct exch *x)
{
    s->state = SL_AUTH_AUTHENTICATED;
    x->auth_mech = x->mech;
    x->reauth = false;
    x->expiry_mono_ms = broker->sasl && broker->sasl->reauth_ms > 0 ? sl_clock_mono_ms() + broker->sasl->reauth_ms : 0;
    if (x->scram_live) {
        sl_scram_server_fini(&x->scram);
        x->scram_live = false;
    }
    sl_conn_set_max_frame(conn, 0);
    count(broker, true);
}

/* Sets the principal of a successful step; a re-authentication must keep it. */
static int set_principal(struct sl_session *s, struct exch *x, const char *user, size_t len, const char **err)
{
    char p[SL_PRINCIPAL_MAX];
    if (len + 6 > sizeof(p)) {
        *err = "Authentication failed: user name too long";
        return -EACCES;
    }
    snprintf(p, sizeof(p), "User:%.*s", (int)len, user);
    if (x->auth_mech >= 0 && strcmp(p, s->principal) != 0) {
        *err = "Cannot change principals during re-authentication";
        return -EACCES;
    }
    memcpy(s->principal, p, sizeof(p));
    return 0;
}

/* One client token. 0: *out (arena) goes back and the exchange goes on or
 * is done (*done); -EACCES: failed, *err says why. */
static int exch_step(struct sl_broker *broker, const struct lcfg *lc, struct sl_session *s, struct exch *x,
                     struct sl_arena *a, struct sl_slice in, struct sl_slice *out, bool *done, const char **err)
{
    *out = (struct sl_slice){(const uint8_t *)"", 0};
    *done = false;
    if (x->mech == MECH_PLAIN) {
        struct sl_slice authzid, user, password;
        if (sl_plain_parse(in.p, in.len, &authzid, &user, &password, err) < 0)
            return -EACCES;
        if (!sl_plain_check(lc && lc->have_jaas ? &lc->jaas : NULL, user, password)) {
            *err = "Authentication failed: Invalid username or password";
            return -EACCES;
        }
        if (set_principal(s, x, (const char *)user.p, user.len, err) < 0)
            return -EACCES;
        *done = true;
        return 0;
    }
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    const uint8_t *secret = broker->sasl ? broker->sasl->secret : (const uint8_t *)"";
    int rc = sl_scram_server_step(&x->scram, in.p ? in.p : (const uint8_t *)"", in.len, scram_lookup, NULL,
                                  secret, broker->sasl ? sizeof(broker->sasl->secret) : 0, &msg, &msg_len);
    if (rc < 0) {
        char *e = sl_arena_strdup(a, x->scram.error);
        *err = e ? e : "Authentication failed";
        return -EACCES;
    }
    void *copy = sl_arena_dup(a, msg, msg_len);
    free(msg);
    if (!copy) {
        *err = "out of memory";
        return -EACCES;
    }
    *out = (struct sl_slice){copy, msg_len};
    if (x->scram.state == SL_SCRAM_DONE) {
        if (set_principal(s, x, x->scram.user, strlen(x->scram.user), err) < 0)
            return -EACCES;
        *done = true;
    }
    return 0;
}

/* --- failures ------------------------------------------------------------------ */

/* A failed authentication, answered (or, for raw v0 tokens, closed) after
 * connection.failed.authentication.delay.ms, as Kafka does (KIP-306), so
 * guessing passwords gains nothing from speed. The request stays parked
 * meanwhile; its arena holds the timer. */
struct delayed_failure {
    struct sl_timer timer;
    struct sl_call *call;    /* answer with call->response, then close; or NULL */
    struct sl_req *req;      /* raw token: close without an answer */
    const char *why;         /* for the log; lives in the request's arena or is static */
};

static void delayed_failure_fire(void *arg)
{
    struct delayed_failure *d = arg;
    if (d->call)
        sl_call_respond_close(d->call, d->why);
    else
        sl_req_close(d->req, d->why);
}

static void fail_later(struct sl_broker *broker, struct sl_req *req, struct sl_call *call, const char *why)
{
    int32_t ms = broker->conf ? broker->conf->connection_failed_authentication_delay_ms : 0;
    struct delayed_failure *d = ms > 0 ? sl_arena_alloc(&req->arena, sizeof(*d)) : NULL;
    count(broker, false);
    if (!d) {
        struct delayed_failure now = {.call = call, .req = req, .why = why};
        delayed_failure_fire(&now);
        return;
    }
    sl_timer_init(&d->timer);
    d->call = call;
    d->req = req;
    d->why = why;
    if (call)
        call->parked_ms = ms; /* by design: not a slow request */
    sl_timer_start(req->loop, &d->timer, sl_clock_mono_ms() + ms, delayed_failure_fire, d);
}

/* --- the gate --------------------------------------------------------------- */

const char *sl_sasl_gate(struct sl_call *call)
{
    /* Every listener: on SSL, no session means no ssl.principal.mapping.rules
     * rule maps the client certificate, which Kafka fails as authentication. */
    struct sl_session *s = sl_call_session(call);
    if (!s)
        return "no session for the connection (out of memory, or no ssl.principal.mapping.rules rule "
               "maps the client certificate)";
    if (!sl_listener_is_sasl(call->listener))
        return NULL;
    const struct exch *x = s->sasl;
    int16_t key = call->api_key;
    switch (s->state) {
    case SL_AUTH_HANDSHAKE:
        if (key == SL_API_ApiVersions || key == SL_API_SaslHandshake)
            return NULL;
        return key == SL_API_SaslAuthenticate ? "SaslAuthenticate before SaslHandshake"
                                               : "request before SASL authentication";
    case SL_AUTH_AUTHENTICATING:
        if (key == SL_API_SaslAuthenticate)
            return NULL;
        if (x && x->reauth && !expired(x) && key != SL_API_SaslHandshake)
            return NULL; /* the previous session still runs while it re-authenticates */
        return "request other than SaslAuthenticate during SASL authentication";
    case SL_AUTH_AUTHENTICATED:
        if (expired(x) && key != SL_API_SaslHandshake)
            return "SASL session expired (connections.max.reauth.ms) without re-authentication";
        return NULL;
    }
    return "bad session state";
}

/* --- SaslHandshake ------------------------------------------------------------ */

void sl_handle_SaslHandshake(struct sl_call *call)
{
    const struct sl_SaslHandshakeRequest *req = call->request;
    struct sl_SaslHandshakeResponse *resp = call->response;
    const struct lcfg *lc = lcfg_of(call->broker, call->listener);
    if (!lc) { /* not a SASL listener: Kafka answers ILLEGAL_SASL_STATE */
        resp->ErrorCode = SL_KERR_ILLEGAL_SASL_STATE;
        resp->Mechanisms_n = 0;
        sl_call_respond(call);
        return;
    }
    struct sl_session *s = sl_call_session(call);
    struct exch *x = s ? exch_of(s) : NULL;
    if (!x) {
        sl_call_close(call, "out of memory for the SASL exchange");
        return;
    }
    resp->Mechanisms = sl_arena_alloc(&call->req->arena, sizeof(*resp->Mechanisms) * MECH_N);
    if (!resp->Mechanisms) {
        sl_call_close(call, "out of memory");
        return;
    }
    resp->Mechanisms_n = 0;
    for (int m = 0; m < MECH_N; m++)
        if (lc->mechs & (1u << m))
            resp->Mechanisms[resp->Mechanisms_n++] = sl_slice_cstr(mech_names[m]);
    if (s->state == SL_AUTH_AUTHENTICATED) {
        if (!call->broker->sasl || call->broker->sasl->reauth_ms <= 0) {
            /* Re-authentication is off (connections.max.reauth.ms = 0). */
            resp->ErrorCode = SL_KERR_ILLEGAL_SASL_STATE;
            sl_call_respond(call);
            return;
        }
        x->reauth = true;
    }
    int m = req->Mechanism.p ? mech_index((const char *)req->Mechanism.p, req->Mechanism.len) : -1;
    if (m < 0 || !(lc->mechs & (1u << m))) {
        resp->ErrorCode = SL_KERR_UNSUPPORTED_SASL_MECHANISM;
        fail_later(call->broker, call->req, call, "unsupported SASL mechanism");
        return;
    }
    if (x->reauth && m != x->auth_mech) {
        resp->ErrorCode = SL_KERR_ILLEGAL_SASL_STATE;
        fail_later(call->broker, call->req, call, "SASL mechanism changed during re-authentication");
        return;
    }
    if (x->scram_live)
        sl_scram_server_fini(&x->scram);
    x->scram_live = false;
    x->mech = m;
    x->raw = call->version == 0;
    if (m != MECH_PLAIN) {
        sl_scram_server_init(&x->scram, m == MECH_SCRAM_SHA_256 ? SL_SCRAM_SHA_256 : SL_SCRAM_SHA_512);
        x->scram_live = true;
    }
    s->state = SL_AUTH_AUTHENTICATING;
    resp->ErrorCode = 0;
    sl_call_respond(call);
}

/* --- SaslAuthenticate --------------------------------------------------------- */

void sl_handle_SaslAuthenticate(struct sl_call *call)
{
    const struct sl_SaslAuthenticateRequest *req = call->request;
    struct sl_SaslAuthenticateResponse *resp = call->response;
    struct sl_session *s = sl_call_session(call);
    struct exch *x = s ? s->sasl : NULL;
    const struct lcfg *lc = lcfg_of(call->broker, call->listener);
    if (!lc || !s || !x || s->state != SL_AUTH_AUTHENTICATING || x->raw) {
        /* Kafka answers a SaslAuthenticate outside an exchange (after
         * authentication, or on a non-SASL listener) with ILLEGAL_SASL_STATE. */
        resp->ErrorCode = SL_KERR_ILLEGAL_SASL_STATE;
        resp->ErrorMessage = sl_slice_cstr("SaslAuthenticate request received outside a SASL exchange");
        if (lc)
            sl_call_respond_close(call, "SaslAuthenticate outside a SASL exchange");
        else
            sl_call_respond(call);
        return;
    }
    struct sl_slice out;
    bool done;
    const char *err = NULL;
    if (exch_step(call->broker, lc, s, x, &call->req->arena, req->AuthBytes, &out, &done, &err) < 0) {
        resp->ErrorCode = SL_KERR_SASL_AUTHENTICATION_FAILED;
        resp->ErrorMessage = sl_arena_str(&call->req->arena, err);
        resp->AuthBytes = (struct sl_slice){(const uint8_t *)"", 0};
        SL_INFO(MOD, "authentication failed from %s with %s: %s", sl_conn_peer(call->req->conn),
                mech_names[x->mech], err);
        fail_later(call->broker, call->req, call, "SASL authentication failed");
        return;
    }
    resp->AuthBytes = out;
    if (done) {
        authenticated(call->broker, call->req->conn, s, x);
        if (x->expiry_mono_ms > 0)
            resp->SessionLifetimeMs = call->broker->sasl->reauth_ms;
        SL_DEBUG(MOD, "%s authenticated as %s with %s", sl_conn_peer(call->req->conn), s->principal,
                 mech_names[x->mech]);
    }
    sl_call_respond(call);
}

/* --- SaslHandshake v0: raw tokens --------------------------------------------- */

bool sl_sasl_raw_frame(struct sl_broker *broker, struct sl_req *req)
{
    const struct sl_listener *l = req->listener_data;
    if (!sl_listener_is_sasl(l))
        return false;
    struct sl_session *s = sl_conn_user(req->conn);
    struct exch *x = s ? s->sasl : NULL;
    if (!s || !x || s->state != SL_AUTH_AUTHENTICATING || !x->raw)
        return false;
    const struct lcfg *lc = lcfg_of(broker, l);
    struct sl_slice out;
    bool done;
    const char *err = NULL;
    struct sl_slice in = {req->frame, req->frame_len};
    if (exch_step(broker, lc, s, x, &req->arena, in, &out, &done, &err) < 0) {
        char *why = sl_arena_printf(&req->arena, "SASL authentication failed (SaslHandshake v0): %s", err);
        fail_later(broker, req, NULL, why ? why : "SASL authentication failed");
        return true;
    }
    if (out.len && sl_obuf_put(&req->out, out.p, out.len) < 0) {
        sl_req_close(req, "out of memory");
        return true;
    }
    if (done)
        authenticated(broker, req->conn, s, x);
    sl_req_respond(req);
    return true;
}

/* --- SCRAM credential APIs ---------------------------------------------------- */

static void alter_op(struct sl_controller *ctl, void *arg)
{
    struct sl_call *call = arg;
    sl_scram_ctl_alter(ctl, call->request, call->response, &call->req->arena);
    sl_call_respond_later(call);
}

/* Without ALTER on the cluster, every user of the request gets
 * CLUSTER_AUTHORIZATION_FAILED, once, as Kafka answers. */
static void alter_refused(struct sl_call *call)
{
    const struct sl_AlterUserScramCredentialsRequest *req = call->request;
    struct sl_AlterUserScramCredentialsResponse *resp = call->response;
    int32_t nd = req->Deletions_n > 0 ? req->Deletions_n : 0, nu = req->Upsertions_n > 0 ? req->Upsertions_n : 0;
    resp->Results = sl_arena_alloc(&call->req->arena, sizeof(*resp->Results) * (size_t)(nd + nu + 1));
    if (!resp->Results) {
        sl_call_close(call, "out of memory for the response");
        return;
    }
    resp->Results_n = 0;
    for (int32_t i = 0; i < nd + nu; i++) {
        struct sl_slice user = i < nd ? req->Deletions[i].Name : req->Upsertions[i - nd].Name;
        bool seen = false;
        for (int32_t k = 0; k < resp->Results_n && !seen; k++)
            seen = sl_slice_eq(resp->Results[k].User, user);
        if (seen)
            continue;
        struct sl_AlterUserScramCredentialsResponse_AlterUserScramCredentialsResult *r = &resp->Results[resp->Results_n++];
        sl_AlterUserScramCredentialsResponse_AlterUserScramCredentialsResult_init(r);
        r->User = user;
        r->ErrorCode = SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
    }
    sl_call_respond(call);
}

void sl_handle_AlterUserScramCredentials(struct sl_call *call)
{
    if (!sl_authz_cluster(call, SL_ACL_OP_ALTER)) {
        alter_refused(call);
        return;
    }
    sl_controller_submit(call->broker->ctl, alter_op, call);
}

void sl_handle_DescribeUserScramCredentials(struct sl_call *call)
{
    if (!sl_authz_cluster(call, SL_ACL_OP_DESCRIBE)) {
        struct sl_DescribeUserScramCredentialsResponse *resp = call->response;
        resp->ErrorCode = SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
        resp->ErrorMessage = sl_slice_cstr("DESCRIBE on the cluster is required");
        sl_call_respond(call);
        return;
    }
    struct sl_image *img = sl_image_acquire();
    sl_scram_describe(img, call->request, call->response, &call->req->arena);
    sl_image_release(img);
    sl_call_respond(call);
}
