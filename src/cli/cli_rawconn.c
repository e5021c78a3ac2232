/*
 * cli_rawconn.c - a raw Kafka protocol connection for what librdkafka 2.0 does
 * not expose (AlterUserScramCredentials, DescribeUserScramCredentials):
 * requests encoded and responses decoded with src/proto/gen, on PLAINTEXT or
 * SASL_PLAINTEXT (SCRAM-SHA-256/512 or PLAIN, from the client configuration's
 * sasl.mechanisms, sasl.username, sasl.password). Every step is bounded by the
 * client's timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/arena.h"
#include "base/obuf.h"
#include "cli/cli_raw.h"
#include "proto/gen/SaslAuthenticate.h"
#include "proto/gen/SaslHandshake.h"
#include "proto/gen/api.h"
#include "proto/gen/header.h"
#include "security/scram.h"

struct sl_cli_raw_conn {
    int fd;
    int64_t deadline_us;  /* the whole session's bound */
    int32_t correlation;  /* last correlation id used */
};

static void conf_get(const struct sl_cli_client *cl, const char *key, char *out, size_t outlen)
{
    size_t sz = outlen;
    if (rd_kafka_conf_get(rd_kafka_conf(cl->rk), key, out, &sz) != RD_KAFKA_CONF_OK)
        out[0] = 0;
}

int sl_cli_raw_call(struct sl_cli_raw_conn *c, int16_t api_key, int16_t version, const void *req, void *resp,
                    struct sl_arena *a, char *err, size_t errlen)
{
    const struct sl_api_info *api = sl_api_get(api_key);
    struct sl_obuf b;
    uint8_t *out = NULL, *in = NULL;
    int rc = -EIO;
    sl_obuf_init(&b);
    struct sl_RequestHeader hdr;
    sl_RequestHeader_init(&hdr);
    hdr.RequestApiKey = api_key;
    hdr.RequestApiVersion = version;
    hdr.CorrelationId = ++c->correlation;
    hdr.ClientId = sl_slice_cstr("sluice");
    uint8_t *len_prefix = sl_obuf_append(&b, 4);
    if (!api || !len_prefix ||
        sl_RequestHeader_encode(&b, (int16_t)sl_api_request_header_version(api_key, version), &hdr) < 0 ||
        api->encode_request(&b, version, req) < 0) {
        snprintf(err, errlen, "cannot encode the request");
        goto out;
    }
    uint32_t body = (uint32_t)b.total_len - 4;
    len_prefix[0] = (uint8_t)(body >> 24);
    len_prefix[1] = (uint8_t)(body >> 16);
    len_prefix[2] = (uint8_t)(body >> 8);
    len_prefix[3] = (uint8_t)body;
    uint8_t lb[4];
    if (!(out = malloc(b.total_len)) || sl_obuf_flatten(&b, out) < 0 ||
        sl_cli_raw_io(c->fd, out, b.total_len, true, c->deadline_us) < 0 ||
        sl_cli_raw_io(c->fd, lb, 4, false, c->deadline_us) < 0) {
        snprintf(err, errlen, "the broker closed the connection or did not answer in time");
        goto out;
    }
    uint32_t rlen = (uint32_t)lb[0] << 24 | (uint32_t)lb[1] << 16 | (uint32_t)lb[2] << 8 | lb[3];
    if (rlen > (64u << 20) || !(in = malloc(rlen ? rlen : 1)) ||
        sl_cli_raw_io(c->fd, in, rlen, false, c->deadline_us) < 0) {
        snprintf(err, errlen, "the broker closed the connection or did not answer in time");
        goto out;
    }
    /* decode from a copy in the arena: the response's slices point into it */
    uint8_t *keep = rlen ? sl_arena_dup(a, in, rlen) : in;
    if (!keep) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    struct sl_kp_reader r;
    struct sl_ResponseHeader rh;
    sl_kp_reader_init(&r, keep, rlen, a);
    sl_ResponseHeader_init(&rh);
    api->response_init(resp);
    if (sl_ResponseHeader_decode(&r, (int16_t)sl_api_response_header_version(api_key, version), &rh) != SL_OK ||
        rh.CorrelationId != c->correlation || api->decode_response(&r, version, resp) != SL_OK) {
        snprintf(err, errlen, "malformed %s response", api->name);
        goto out;
    }
    rc = 0;
out:
    free(out);
    free(in);
    sl_obuf_fini(&b);
    return rc;
}

/* One SaslAuthenticate round: sends token, returns the server's bytes (arena). */
static int sasl_round(struct sl_cli_raw_conn *c, struct sl_slice token, struct sl_slice *reply, struct sl_arena *a,
                      char *err, size_t errlen)
{
    struct sl_SaslAuthenticateRequest req;
    struct sl_SaslAuthenticateResponse resp;
    sl_SaslAuthenticateRequest_init(&req);
    req.AuthBytes = token;
    if (sl_cli_raw_call(c, SL_API_SaslAuthenticate, 1, &req, &resp, a, err, errlen) < 0)
        return -EIO;
    if (resp.ErrorCode != 0) {
        snprintf(err, errlen, "SASL authentication failed: %.*s", SL_SLICE_FMT(resp.ErrorMessage));
        return -EACCES;
    }
    *reply = resp.AuthBytes;
    return 0;
}

/* Finds attribute k ("r", "s", "i") of a server-first message. */
static bool attr(struct sl_slice m, char k, char *out, size_t outlen)
{
    const char *p = (const char *)m.p, *end = p + m.len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        if (e - p >= 2 && p[0] == k && p[1] == '=' && (size_t)(e - p - 2) < outlen) {
            memcpy(out, p + 2, (size_t)(e - p - 2));
            out[e - p - 2] = 0;
            return true;
        }
        p = comma ? comma + 1 : end;
    }
    return false;
}

static int scram_login(struct sl_cli_raw_conn *c, int mech, const char *user, const char *password,
                       struct sl_arena *a, char *err, size_t errlen)
{
    uint8_t rnd[18];
    char nonce[32];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return -EIO;
    sl_base64_encode(rnd, sizeof(rnd), nonce); /* 24 chars, no ',' */
    char *first = sl_arena_printf(a, "n,,n=%s,r=%s", user, nonce);
    if (!first || strpbrk(user, ",=")) {
        snprintf(err, errlen, "user names with ',' or '=' are not supported here");
        return -EINVAL;
    }
    struct sl_slice sf;
    int rc = sasl_round(c, sl_slice_cstr(first), &sf, a, err, errlen);
    if (rc < 0)
        return rc;
    char r[512], s64[512], it[16];
    uint8_t salt[SL_SCRAM_SALT_MAX];
    int sl;
    long iters;
    if (!attr(sf, 'r', r, sizeof(r)) || !attr(sf, 's', s64, sizeof(s64)) || !attr(sf, 'i', it, sizeof(it)) ||
        strncmp(r, nonce, strlen(nonce)) != 0 || (sl = sl_base64_decode(s64, strlen(s64), salt, sizeof(salt))) <= 0 ||
        (iters = strtol(it, NULL, 10)) < 1 || iters > 1000000) {
        snprintf(err, errlen, "malformed SCRAM server-first message");
        return -EIO;
    }
    size_t kl = sl_scram_key_len(mech);
    uint8_t salted[SL_SCRAM_KEY_MAX], ck[SL_SCRAM_KEY_MAX], stored[SL_SCRAM_KEY_MAX], sig[SL_SCRAM_KEY_MAX];
    uint8_t sk[SL_SCRAM_KEY_MAX], ssig[SL_SCRAM_KEY_MAX], proof[SL_SCRAM_KEY_MAX];
    char *without = sl_arena_printf(a, "c=biws,r=%s", r);
    char *auth = sl_arena_printf(a, "%s,%.*s,%s", first + 3, SL_SLICE_FMT(sf), without ? without : "");
    if (!without || !auth ||
        sl_scram_salted_password(mech, (const uint8_t *)password, strlen(password), salt, (size_t)sl,
                                 (int32_t)iters, salted) < 0 ||
        sl_scram_hmac(mech, salted, kl, (const uint8_t *)"Client Key", 10, ck) < 0 ||
        sl_scram_hash(mech, ck, kl, stored) < 0 ||
        sl_scram_hmac(mech, stored, kl, (const uint8_t *)auth, strlen(auth), sig) < 0 ||
        sl_scram_hmac(mech, salted, kl, (const uint8_t *)"Server Key", 10, sk) < 0 ||
        sl_scram_hmac(mech, sk, kl, (const uint8_t *)auth, strlen(auth), ssig) < 0)
        return -EIO;
    for (size_t i = 0; i < kl; i++)
        proof[i] = ck[i] ^ sig[i];
    char p64[SL_SCRAM_KEY_MAX * 2], v64[SL_SCRAM_KEY_MAX * 2];
    sl_base64_encode(proof, kl, p64);
    sl_base64_encode(ssig, kl, v64);
    OPENSSL_cleanse(salted, sizeof(salted));
    char *final = sl_arena_printf(a, "%s,p=%s", without, p64);
    struct sl_slice sfin;
    if (!final || (rc = sasl_round(c, sl_slice_cstr(final), &sfin, a, err, errlen)) < 0)
        return rc < 0 ? rc : -ENOMEM;
    if (sfin.len != strlen(v64) + 2 || memcmp(sfin.p, "v=", 2) != 0 || memcmp(sfin.p + 2, v64, strlen(v64)) != 0) {
        snprintf(err, errlen, "the broker's SCRAM signature does not verify");
        return -EACCES;
    }
    return 0;
}

static int sasl_login(struct sl_cli_raw_conn *c, const struct sl_cli_client *cl, char *err, size_t errlen)
{
    char mech[64], user[256], password[512];
    conf_get(cl, "sasl.mechanisms", mech, sizeof(mech));
    conf_get(cl, "sasl.username", user, sizeof(user));
    conf_get(cl, "sasl.password", password, sizeof(password));
    struct sl_arena a;
    sl_arena_init(&a, 1u << 20);
    struct sl_SaslHandshakeRequest hreq;
    struct sl_SaslHandshakeResponse hresp;
    sl_SaslHandshakeRequest_init(&hreq);
    hreq.Mechanism = sl_slice_cstr(mech);
    int rc = sl_cli_raw_call(c, SL_API_SaslHandshake, 1, &hreq, &hresp, &a, err, errlen);
    if (rc == 0 && hresp.ErrorCode != 0) {
        snprintf(err, errlen, "the broker does not offer SASL mechanism %s (error %d)", mech, hresp.ErrorCode);
        rc = -EACCES;
    }
    int sm = sl_scram_mech_from_name(mech, strlen(mech));
    if (rc == 0 && sm != SL_SCRAM_UNKNOWN) {
        rc = scram_login(c, sm, user, password, &a, err, errlen);
    } else if (rc == 0 && strcmp(mech, "PLAIN") == 0) {
        size_t ul = strlen(user), pl = strlen(password);
        uint8_t *tok = sl_arena_alloc(&a, ul + pl + 2);
        struct sl_slice reply;
        if (!tok) {
            rc = -ENOMEM;
        } else {
            tok[0] = 0;
            memcpy(tok + 1, user, ul);
            tok[ul + 1] = 0;
            memcpy(tok + ul + 2, password, pl);
            rc = sasl_round(c, (struct sl_slice){tok, ul + pl + 2}, &reply, &a, err, errlen);
        }
    } else if (rc == 0) {
        snprintf(err, errlen, "SASL mechanism %s is not supported here (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)", mech);
        rc = -EINVAL;
    }
    OPENSSL_cleanse(password, sizeof(password));
    sl_arena_fini(&a);
    return rc;
}

int sl_cli_raw_open(const struct sl_cli_client *cl, struct sl_cli_raw_conn **out, char *err, size_t errlen)
{
    char proto[64] = "plaintext";
    conf_get(cl, "security.protocol", proto, sizeof(proto));
    bool sasl = strcasecmp(proto, "sasl_plaintext") == 0;
    *out = NULL;
    if (!sasl && strcasecmp(proto, "plaintext") != 0) {
        snprintf(err, errlen, "security.protocol %s is not supported by this command (PLAINTEXT, SASL_PLAINTEXT)",
                 proto);
        return -EINVAL;
    }
    struct sl_cli_raw_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->deadline_us = sl_cli_now_us() + (int64_t)cl->timeout_ms * 1000;
    c->fd = sl_cli_raw_dial(cl->bootstrap, c->deadline_us);
    if (c->fd < 0) {
        snprintf(err, errlen, "cannot connect to %s", cl->bootstrap);
        free(c);
        return -EIO;
    }
    int rc = sasl ? sasl_login(c, cl, err, errlen) : 0;
    if (rc < 0) {
        sl_cli_raw_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void sl_cli_raw_close(struct sl_cli_raw_conn *c)
{
    if (!c)
        return;
    close(c->fd);
    free(c);
}
