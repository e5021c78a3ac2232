/*
 * scram.c - SCRAM-SHA-256/512 (RFC 5802, RFC 7677): primitives over
 * OpenSSL, the client message parsers and the server side of an exchange.
 * See scram.h for the state diagram.
 *
 * Invariants: nothing the client sent is trusted past its parse; the
 * client-final nonce must equal the nonce this exchange sent (so a
 * client-final replayed into a new exchange fails, CVE-2024-56128); the
 * proof check is constant time (CVE-2021-38153); an unknown user fails at
 * the same point, after the same work, with the same message as a wrong
 * password.
 */
#include "security/scram.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define SERVER_NONCE_BYTES 24

const char *sl_scram_mech_name(int mech)
{
    return mech == SL_SCRAM_SHA_256 ? "SCRAM-SHA-256" : mech == SL_SCRAM_SHA_512 ? "SCRAM-SHA-512" : NULL;
}

int sl_scram_mech_from_name(const char *name, size_t len)
{
    if (len == 13 && memcmp(name, "SCRAM-SHA-256", 13) == 0)
        return SL_SCRAM_SHA_256;
    if (len == 13 && memcmp(name, "SCRAM-SHA-512", 13) == 0)
        return SL_SCRAM_SHA_512;
    return SL_SCRAM_UNKNOWN;
}

size_t sl_scram_key_len(int mech)
{
    return mech == SL_SCRAM_SHA_256 ? 32 : mech == SL_SCRAM_SHA_512 ? 64 : 0;
}

static const EVP_MD *md_of(int mech)
{
    return mech == SL_SCRAM_SHA_256 ? EVP_sha256() : mech == SL_SCRAM_SHA_512 ? EVP_sha512() : NULL;
}

int sl_scram_salted_password(int mech, const uint8_t *password, size_t password_len, const uint8_t *salt,
                             size_t salt_len, int32_t iterations, uint8_t *out)
{
    const EVP_MD *md = md_of(mech);
    if (!md || iterations < 1 || password_len > INT32_MAX || salt_len > INT32_MAX)
        return -EINVAL;
    if (PKCS5_PBKDF2_HMAC((const char *)(password ? password : (const uint8_t *)""), (int)password_len, salt,
                          (int)salt_len, iterations, md, (int)sl_scram_key_len(mech), out) != 1)
        return -EIO;
    return 0;
}

int sl_scram_hmac(int mech, const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len,
                  uint8_t *out)
{
    const EVP_MD *md = md_of(mech);
    unsigned int n = 0;
    if (!md || key_len > INT32_MAX)
        return -EINVAL;
    if (!HMAC(md, key, (int)key_len, data, data_len, out, &n) || n != sl_scram_key_len(mech))
        return -EIO;
    return 0;
}

int sl_scram_hash(int mech, const uint8_t *data, size_t len, uint8_t *out)
{
    const EVP_MD *md = md_of(mech);
    unsigned int n = 0;
    if (!md)
        return -EINVAL;
    if (EVP_Digest(data, len, out, &n, md, NULL) != 1 || n != sl_scram_key_len(mech))
        return -EIO;
    return 0;
}

/* Keys from a salted password. */
static int cred_from_salted(int mech, const uint8_t *salted, size_t salted_len, struct sl_scram_cred *c)
{
    uint8_t client_key[SL_SCRAM_KEY_MAX];
    size_t kl = sl_scram_key_len(mech);
    int rc;
    if ((rc = sl_scram_hmac(mech, salted, salted_len, (const uint8_t *)"Client Key", 10, client_key)) < 0 ||
        (rc = sl_scram_hash(mech, client_key, kl, c->stored_key)) < 0 ||
        (rc = sl_scram_hmac(mech, salted, salted_len, (const uint8_t *)"Server Key", 10, c->server_key)) < 0)
        return rc;
    OPENSSL_cleanse(client_key, sizeof(client_key));
    return 0;
}

int sl_scram_cred_make(int mech, const uint8_t *password, size_t password_len, const uint8_t *salt,
                       size_t salt_len, int32_t iterations, struct sl_scram_cred *out)
{
    memset(out, 0, sizeof(*out));
    if (!md_of(mech) || iterations < 1)
        return -EINVAL;
    out->mech = mech;
    out->iterations = iterations;
    if (salt) {
        if (salt_len == 0 || salt_len > SL_SCRAM_SALT_MAX)
            return -EINVAL;
        memcpy(out->salt, salt, salt_len);
        out->salt_len = salt_len;
    } else {
        out->salt_len = 32;
        if (RAND_bytes(out->salt, 32) != 1)
            return -EIO;
    }
    uint8_t salted[SL_SCRAM_KEY_MAX];
    int rc = sl_scram_salted_password(mech, password, password_len, out->salt, out->salt_len, iterations,
                                      salted);
    if (rc == 0)
        rc = cred_from_salted(mech, salted, sl_scram_key_len(mech), out);
    OPENSSL_cleanse(salted, sizeof(salted));
    return rc;
}

int sl_scram_cred_from_salted(int mech, const uint8_t *salted, size_t salted_len, const uint8_t *salt,
                              size_t salt_len, int32_t iterations, struct sl_scram_cred *out)
{
    memset(out, 0, sizeof(*out));
    if (!md_of(mech) || iterations < 1 || salt_len == 0 || salt_len > SL_SCRAM_SALT_MAX || salted_len == 0)
        return -EINVAL;
    out->mech = mech;
    out->iterations = iterations;
    memcpy(out->salt, salt, salt_len);
    out->salt_len = salt_len;
    return cred_from_salted(mech, salted, salted_len, out);
}

/* --- base64 ----------------------------------------------------------- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t sl_base64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int sl_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_max)
{
    if (n % 4 != 0)
        return -EINVAL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in[i + k];
            if (c == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad) {
                return -EINVAL; /* data after padding */
            } else if ((v[k] = b64val(c)) < 0) {
                return -EINVAL;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        int bytes = 3 - pad;
        if (o + (size_t)bytes > out_max)
            return -EINVAL;
        out[o++] = (uint8_t)(w >> 16);
        if (bytes > 1)
            out[o++] = (uint8_t)(w >> 8);
        if (bytes > 2)
            out[o++] = (uint8_t)w;
    }
    return (int)o;
}

/* --- parsers ------------------------------------------------------------ */

int sl_scram_saslname_decode(const char *in, size_t len, char *out, size_t out_max)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == ',' || c == '\0')
            return -EINVAL;
        if (c == '=') {
            if (i + 2 >= len)
                return -EINVAL;
            if (in[i + 1] == '2' && in[i + 2] == 'C')
                c = ',';
            else if (in[i + 1] == '3' && in[i + 2] == 'D')
                c = '=';
            else
                return -EINVAL;
            i += 2;
        }
        if (o + 1 >= out_max)
            return -EINVAL;
        out[o++] = c;
    }
    if (out_max)
        out[o] = 0;
    return (int)o;
}

/* The attribute at *pos: "<letter>=value" up to the next ',' or the end.
 * Moves *pos past the value (onto the ',' or the end). */
static int attr(const char *in, size_t len, size_t *pos, char *name, const char **val, size_t *vlen)
{
    size_t p = *pos;
    if (p + 2 > len || in[p + 1] != '=')
        return -EINVAL;
    *name = in[p];
    size_t start = p + 2, end = start;
    while (end < len && in[end] != ',')
        end++;
    *val = in + start;
    *vlen = end - start;
    *pos = end;
    return 0;
}

static bool printable_nonce(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
            return false;
    return true;
}

int sl_scram_parse_client_first(const char *in, size_t len, struct sl_scram_client_first *out,
                                const char **why)
{
    memset(out, 0, sizeof(*out));
    *why = "invalid client-first message";
    if (len == 0 || memchr(in, '\0', len))
        return -EINVAL;
    /* gs2-header = gs2-cbind-flag "," [ authzid ] "," */
    if (in[0] == 'p') {
        *why = "channel binding is not supported";
        return -EINVAL;
    }
    if ((in[0] != 'n' && in[0] != 'y') || len < 2 || in[1] != ',')
        return -EINVAL;
    size_t p = 2;
    if (p < len && in[p] != ',') {
        char n;
        if (attr(in, len, &p, &n, &out->authzid, &out->authzid_len) < 0 || n != 'a' || out->authzid_len == 0)
            return -EINVAL;
    }
    if (p >= len || in[p] != ',')
        return -EINVAL;
    p++;
    out->gs2 = in;
    out->gs2_len = p;
    out->bare = in + p;
    out->bare_len = len - p;
    /* client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions] */
    char n;
    const char *v;
    size_t vl;
    if (p < len && in[p] == 'm') {
        *why = "mandatory extensions are not supported";
        return -EINVAL;
    }
    if (attr(in, len, &p, &n, &v, &vl) < 0 || n != 'n' || vl == 0)
        return -EINVAL;
    out->user = v;
    out->user_len = vl;
    if (p >= len || in[p] != ',')
        return -EINVAL;
    p++;
    if (attr(in, len, &p, &n, &v, &vl) < 0 || n != 'r' || !printable_nonce(v, vl))
        return -EINVAL;
    out->nonce = v;
    out->nonce_len = vl;
    /* extensions: key=value pairs (Kafka's ScramExtensions); only tokenauth means something */
    while (p < len) {
        if (in[p] != ',')
            return -EINVAL;
        p++;
        size_t start = p, end = p;
        while (end < len && in[end] != ',')
            end++;
        const char *eq = memchr(in + start, '=', end - start);
        if (!eq || eq == in + start)
            return -EINVAL;
        if ((size_t)(eq - (in + start)) == 9 && memcmp(in + start, "tokenauth", 9) == 0) {
            *why = "delegation tokens are not supported";
            return -EINVAL;
        }
        p = end;
    }
    *why = NULL;
    return 0;
}

int sl_scram_parse_client_final(const char *in, size_t len, struct sl_scram_client_final *out,
                                const char **why)
{
    memset(out, 0, sizeof(*out));
    *why = "invalid client-final message";
    if (len == 0 || memchr(in, '\0', len))
        return -EINVAL;
    size_t p = 0;
    char n;
    const char *v;
    size_t vl;
    if (attr(in, len, &p, &n, &v, &vl) < 0 || n != 'c')
        return -EINVAL;
    out->cbind = v;
    out->cbind_len = vl;
    if (p >= len || in[p] != ',')
        return -EINVAL;
    p++;
    if (attr(in, len, &p, &n, &v, &vl) < 0 || n != 'r' || !printable_nonce(v, vl))
        return -EINVAL;
    out->nonce = v;
    out->nonce_len = vl;
    /* [extensions] then ",p=proof" last */
    for (;;) {
        if (p >= len || in[p] != ',')
            return -EINVAL;
        size_t comma = p;
        p++;
        if (attr(in, len, &p, &n, &v, &vl) < 0)
            return -EINVAL;
        if (n == 'p') {
            if (p != len || vl == 0)
                return -EINVAL;
            out->without_proof = in;
            out->without_proof_len = comma;
            out->proof = v;
            out->proof_len = vl;
            *why = NULL;
            return 0;
        }
    }
}

/* --- server exchange ---------------------------------------------------- */

void sl_scram_server_init(struct sl_scram_server *s, int mech)
{
    memset(s, 0, sizeof(*s));
    s->mech = mech;
    s->state = SL_SCRAM_FIRST;
}

void sl_scram_server_fini(struct sl_scram_server *s)
{
    free(s->client_first_bare);
    free(s->server_first);
    free(s->nonce);
    s->client_first_bare = s->server_first = s->nonce = NULL;
    OPENSSL_cleanse(&s->cred, sizeof(s->cred));
}

static int fail(struct sl_scram_server *s, const char *why)
{
    s->state = SL_SCRAM_FAILED;
    snprintf(s->error, sizeof(s->error), "%s", why);
    return -EACCES;
}

static int fail_credentials(struct sl_scram_server *s)
{
    char msg[256];
    snprintf(msg, sizeof(msg), SL_SCRAM_BAD_CREDENTIALS, sl_scram_mech_name(s->mech));
    return fail(s, msg);
}

/* A credential for a user who has none: salt = HMAC(secret, mech|user),
 * keys random, so the exchange runs its course and the proof never matches. */
static int fake_cred(struct sl_scram_server *s, const uint8_t *secret, size_t secret_len)
{
    struct sl_scram_cred *c = &s->cred;
    memset(c, 0, sizeof(*c));
    c->mech = s->mech;
    c->iterations = SL_SCRAM_DEFAULT_ITERATIONS;
    uint8_t buf[SL_SCRAM_USER_MAX + 2];
    size_t ul = strlen(s->user);
    buf[0] = (uint8_t)s->mech;
    memcpy(buf + 1, s->user, ul);
    uint8_t mac[SL_SCRAM_KEY_MAX];
    int rc = sl_scram_hmac(SL_SCRAM_SHA_256, secret, secret_len, buf, ul + 1, mac);
    if (rc < 0)
        return rc;
    c->salt_len = 32;
    memcpy(c->salt, mac, 32);
    if (RAND_bytes(c->stored_key, SL_SCRAM_KEY_MAX) != 1 || RAND_bytes(c->server_key, SL_SCRAM_KEY_MAX) != 1)
        return -EIO;
    return 0;
}

static char *dup_mem(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = 0;
    }
    return d;
}

static int step_first(struct sl_scram_server *s, const char *in, size_t len, sl_scram_lookup_fn lookup,
                      void *lookup_arg, const uint8_t *secret, size_t secret_len, uint8_t **out,
                      size_t *out_len)
{
    struct sl_scram_client_first cf;
    const char *why;
    if (sl_scram_parse_client_first(in, len, &cf, &why) < 0)
        return fail(s, why);
    if (cf.gs2_len >= sizeof(s->gs2_header))
        return fail(s, "invalid client-first message");
    if (sl_scram_saslname_decode(cf.user, cf.user_len, s->user, sizeof(s->user)) < 0)
        return fail(s, "invalid user name");
    if (cf.authzid) {
        /* CVE-2017-12610: an authorization id other than the user is refused. */
        char authzid[SL_SCRAM_USER_MAX + 1];
        if (sl_scram_saslname_decode(cf.authzid, cf.authzid_len, authzid, sizeof(authzid)) < 0 ||
            strcmp(authzid, s->user) != 0)
            return fail(s, "Authentication failed: Client requested an authorization id that is different from username");
    }
    memcpy(s->gs2_header, cf.gs2, cf.gs2_len);
    s->gs2_header[cf.gs2_len] = 0;
    if (!lookup(lookup_arg, s->user, s->mech, &s->cred) || s->cred.mech != s->mech) {
        s->fake = true;
        if (fake_cred(s, secret, secret_len) < 0)
            return fail(s, "internal error");
    }
    uint8_t rnd[SERVER_NONCE_BYTES];
    char rnd64[SERVER_NONCE_BYTES * 2];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return fail(s, "internal error");
    sl_base64_encode(rnd, sizeof(rnd), rnd64); /* 24 bytes: no padding, never ',' */
    char salt64[SL_SCRAM_SALT_MAX * 2];
    sl_base64_encode(s->cred.salt, s->cred.salt_len, salt64);
    size_t nl = cf.nonce_len + strlen(rnd64);
    s->nonce = malloc(nl + 1);
    s->client_first_bare = dup_mem(cf.bare, cf.bare_len);
    size_t sfl = nl + strlen(salt64) + 32;
    s->server_first = malloc(sfl);
    if (!s->nonce || !s->client_first_bare || !s->server_first)
        return fail(s, "out of memory");
    snprintf(s->nonce, nl + 1, "%.*s%s", (int)cf.nonce_len, cf.nonce, rnd64);
    s->client_nonce_len = cf.nonce_len;
    int n = snprintf(s->server_first, sfl, "r=%s,s=%s,i=%d", s->nonce, salt64, (int)s->cred.iterations);
    *out = (uint8_t *)dup_mem(s->server_first, (size_t)n);
    if (!*out)
        return fail(s, "out of memory");
    *out_len = (size_t)n;
    s->state = SL_SCRAM_FINAL;
    return 0;
}

static int step_final(struct sl_scram_server *s, const char *in, size_t len, uint8_t **out, size_t *out_len)
{
    struct sl_scram_client_final cf;
    const char *why;
    if (sl_scram_parse_client_final(in, len, &cf, &why) < 0)
        return fail(s, why);
    /* CVE-2024-56128: the nonce must be the one this exchange sent (client
     * nonce + server nonce). librdkafka before 2.6.1 sends the client nonce
     * once more in front of it (librdkafka#4895); that exact form is accepted
     * too: it still carries this exchange's fresh server nonce, so a
     * client-final replayed into another exchange fails all the same. */
    size_t nl = strlen(s->nonce), cl = s->client_nonce_len;
    bool nonce_ok = cf.nonce_len == nl && memcmp(cf.nonce, s->nonce, nl) == 0;
    bool librdkafka_form = cf.nonce_len == cl + nl && memcmp(cf.nonce, s->nonce, cl) == 0 &&
                           memcmp(cf.nonce + cl, s->nonce, nl) == 0;
    if (!nonce_ok && !librdkafka_form)
        return fail(s, "Authentication failed: Invalid nonce");
    /* c= is the base64 of the gs2 header sent in the client-first (no channel binding data). */
    uint8_t cb[sizeof(s->gs2_header)];
    int cbl = sl_base64_decode(cf.cbind, cf.cbind_len, cb, sizeof(cb));
    if (cbl < 0 || (size_t)cbl != strlen(s->gs2_header) || memcmp(cb, s->gs2_header, (size_t)cbl) != 0)
        return fail(s, "Authentication failed: Invalid channel binding");
    size_t kl = sl_scram_key_len(s->mech);
    uint8_t proof[SL_SCRAM_KEY_MAX * 2];
    int pl = sl_base64_decode(cf.proof, cf.proof_len, proof, sizeof(proof));
    if (pl < 0)
        return fail(s, "invalid client-final message");
    /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
    size_t al = strlen(s->client_first_bare) + strlen(s->server_first) + cf.without_proof_len + 2;
    char *auth = malloc(al + 1);
    if (!auth)
        return fail(s, "out of memory");
    snprintf(auth, al + 1, "%s,%s,%.*s", s->client_first_bare, s->server_first, (int)cf.without_proof_len,
             cf.without_proof);
    uint8_t sig[SL_SCRAM_KEY_MAX], client_key[SL_SCRAM_KEY_MAX], stored[SL_SCRAM_KEY_MAX];
    int rc = sl_scram_hmac(s->mech, s->cred.stored_key, kl, (const uint8_t *)auth, al, sig);
    for (size_t i = 0; i < kl; i++)
        client_key[i] = (uint8_t)(((size_t)pl == kl ? proof[i] : 0) ^ sig[i]);
    if (rc == 0)
        rc = sl_scram_hash(s->mech, client_key, kl, stored);
    bool ok = rc == 0 && CRYPTO_memcmp(stored, s->cred.stored_key, kl) == 0;
    ok = ok && (size_t)pl == kl && !s->fake;
    uint8_t server_sig[SL_SCRAM_KEY_MAX];
    if (ok)
        rc = sl_scram_hmac(s->mech, s->cred.server_key, kl, (const uint8_t *)auth, al, server_sig);
    free(auth);
    if (!ok || rc < 0)
        return fail_credentials(s);
    char sig64[SL_SCRAM_KEY_MAX * 2];
    sl_base64_encode(server_sig, kl, sig64);
    size_t ol = strlen(sig64) + 2;
    char *msg = malloc(ol + 1);
    if (!msg)
        return fail(s, "out of memory");
    snprintf(msg, ol + 1, "v=%s", sig64);
    *out = (uint8_t *)msg;
    *out_len = ol;
    s->state = SL_SCRAM_DONE;
    return 0;
}

int sl_scram_server_step(struct sl_scram_server *s, const uint8_t *in, size_t in_len,
                         sl_scram_lookup_fn lookup, void *lookup_arg, const uint8_t *secret,
                         size_t secret_len, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    switch (s->state) {
    case SL_SCRAM_FIRST:
        return step_first(s, (const char *)in, in_len, lookup, lookup_arg, secret, secret_len, out, out_len);
    case SL_SCRAM_FINAL:
        return step_final(s, (const char *)in, in_len, out, out_len);
    default:
        return fail(s, "unexpected SASL message after the exchange ended");
    }
}
