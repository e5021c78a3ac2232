/*
 * tls_conf.c - building a TLS listener's SSL_CTX from Kafka's ssl.* keys
 * (tls_conf.h): the key store (PEM file, PKCS12 file, or inline PEM per
 * KIP-651), the trust store (PEM, PKCS12, inline PEM), ssl.client.auth,
 * ssl.enabled.protocols / ssl.protocol and ssl.cipher.suites. Every refusal
 * is a sentence naming the key, since it stops the broker at start-up.
 */
#include "server/tls_conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "security/ssl_principal.h"

#define STORE_MAX_BYTES (1 << 20) /* key and trust store files are small */

/* One ssl.* key's value for a listener, and the key it came from. */
struct kv {
    char key[200];   /* the key the value came from, for messages */
    char val[4096];  /* value ("" when unset) */
    bool set;        /* explicitly set (listener override or global) */
};

static void get(const struct sl_conf *conf, const char *listener, const char *key, struct kv *out)
{
    char lower[64];
    size_t i;
    for (i = 0; listener[i] && i < sizeof(lower) - 1; i++)
        lower[i] = (char)tolower((unsigned char)listener[i]);
    lower[i] = '\0';
    snprintf(out->key, sizeof(out->key), "listener.name.%s.%s", lower, key);
    if (sl_conf_get_string(conf, out->key, out->val, sizeof(out->val)) == 0) {
        out->set = true;
        return;
    }
    snprintf(out->key, sizeof(out->key), "%s", key);
    int rc = sl_conf_get_string(conf, key, out->val, sizeof(out->val));
    if (rc != 0)
        out->val[0] = '\0';
    out->set = rc == 0 && sl_conf_is_set(conf, key);
}

/* The last OpenSSL error as text, queue cleared. */
static const char *ossl_why(void)
{
    static _Thread_local char buf[256];
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    if (!last)
        return "unknown error";
    ERR_error_string_n(last, buf, sizeof(buf));
    return buf;
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pass = u;
    if (!pass)
        return 0; /* never prompt on a terminal */
    int n = (int)strlen(pass);
    if (n > size)
        n = size;
    memcpy(buf, pass, (size_t)n);
    return n;
}

/* Reads a whole store file. A malloc'd buffer (NUL-terminated) or NULL with err. */
static char *read_file(const char *path, const char *key, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f) {
        snprintf(err, errlen, "cannot open %s=%s: %s", key, path, strerror(errno));
        return NULL;
    }
    if (!(buf = malloc(STORE_MAX_BYTES + 1))) {
        snprintf(err, errlen, "out of memory reading %s", key);
        fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, STORE_MAX_BYTES + 1, f);
    bool bad = ferror(f) || *len > STORE_MAX_BYTES;
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "cannot read %s=%s (%s)", key, path,
                 *len > STORE_MAX_BYTES ? "larger than 1 MiB" : "read error");
        free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

/* A memory BIO holding pem with every block's body re-wrapped at 64
 * columns: inline PEM values often come on one line (properties files join
 * continued lines), which OpenSSL's reader does not take. Blocks with
 * headers (Proc-Type:) are copied as they are. */
static BIO *pem_bio(const char *pem)
{
    BIO *b = BIO_new(BIO_s_mem());
    const char *p = pem;
    if (!b)
        return NULL;
    for (;;) {
        const char *begin = strstr(p, "-----BEGIN ");
        if (!begin)
            break;
        const char *hend = strstr(begin + 11, "-----");
        if (!hend)
            break;
        hend += 5;
        const char *end = strstr(hend, "-----END ");
        if (!end)
            break;
        const char *eend = strstr(end + 9, "-----");
        if (!eend)
            break;
        eend += 5;
        BIO_write(b, begin, (int)(hend - begin));
        BIO_write(b, "\n", 1);
        if (memchr(hend, ':', (size_t)(end - hend))) {
            BIO_write(b, hend, (int)(end - hend));
            BIO_write(b, "\n", 1);
        } else {
            int col = 0;
            for (const char *c = hend; c < end; c++) {
                if (isspace((unsigned char)*c))
                    continue;
                BIO_write(b, c, 1);
                if (++col == 64) {
                    BIO_write(b, "\n", 1);
                    col = 0;
                }
            }
            if (col)
                BIO_write(b, "\n", 1);
        }
        BIO_write(b, end, (int)(eend - end));
        BIO_write(b, "\n", 1);
        p = eend;
    }
    return b;
}

/* Certificates in PEM text, in order. NULL (none, or out of memory) or a stack. */
static STACK_OF(X509) *pem_certs(const char *pem)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    BIO *b = pem_bio(pem);
    X509 *x;
    if (!certs || !b) {
        sk_X509_free(certs);
        BIO_free(b);
        return NULL;
    }
    while ((x = PEM_read_bio_X509(b, NULL, pass_cb, NULL)))
        sk_X509_push(certs, x);
    ERR_clear_error(); /* the end of the input reads as an error */
    BIO_free(b);
    if (sk_X509_num(certs) == 0) {
        sk_X509_free(certs);
        return NULL;
    }
    return certs;
}

/* The key store: leaf certificate, chain, private key. */
struct keystore {
    EVP_PKEY *key;
    X509 *cert;
    STACK_OF(X509) *chain; /* may be NULL */
};

static void keystore_fini(struct keystore *ks)
{
    EVP_PKEY_free(ks->key);
    X509_free(ks->cert);
    sk_X509_pop_free(ks->chain, X509_free);
}

/* From PEM text: certificates (leaf first) and a private key, maybe
 * encrypted with pass. what/keykey name the keys for messages. */
static int keystore_pem(const char *pem, const char *what, const char *pass, const char *passkey,
                        struct keystore *ks, char *err, size_t errlen)
{
    STACK_OF(X509) *certs = pem_certs(pem);
    if (!certs) {
        snprintf(err, errlen, "%s holds no PEM certificate", what);
        return -EINVAL;
    }
    ks->cert = sk_X509_shift(certs);
    ks->chain = certs;
    BIO *b = pem_bio(pem);
    if (!b) {
        snprintf(err, errlen, "out of memory reading %s", what);
        return -EINVAL;
    }
    bool encrypted = strstr(pem, "ENCRYPTED") != NULL;
    ERR_clear_error();
    ks->key = PEM_read_bio_PrivateKey(b, NULL, pass_cb, (void *)(pass[0] ? pass : NULL));
    BIO_free(b);
    if (!ks->key) {
        if (encrypted && !pass[0])
            snprintf(err, errlen, "the private key in %s is encrypted and %s is not set", what,
                     passkey);
        else if (encrypted)
            snprintf(err, errlen, "cannot decrypt the private key in %s: wrong %s? (%s)", what,
                     passkey, ossl_why());
        else
            snprintf(err, errlen, "%s holds no readable PEM private key (%s)", what, ossl_why());
        return -EINVAL;
    }
    return 0;
}

static int keystore_p12(const char *path, const char *key, const char *pass, const char *passkey,
                        struct keystore *ks, char *err, size_t errlen)
{
    BIO *b = BIO_new_file(path, "rb");
    if (!b) {
        snprintf(err, errlen, "cannot open %s=%s: %s", key, path, strerror(errno));
        return -EINVAL;
    }
    PKCS12 *p12 = d2i_PKCS12_bio(b, NULL);
    BIO_free(b);
    if (!p12) {
        snprintf(err, errlen, "%s=%s is not a PKCS12 file (%s)", key, path, ossl_why());
        return -EINVAL;
    }
    int rc = 0;
    if (!PKCS12_verify_mac(p12, pass, -1)) {
        snprintf(err, errlen, "wrong %s for %s=%s (the PKCS12 integrity check fails)", passkey, key,
                 path);
        rc = -EINVAL;
    } else if (!PKCS12_parse(p12, pass, &ks->key, &ks->cert, &ks->chain)) {
        snprintf(err, errlen, "cannot read %s=%s with %s (%s)", key, path, passkey, ossl_why());
        rc = -EINVAL;
    }
    PKCS12_free(p12);
    return rc;
}

static bool type_is(const struct kv *t, const char *name) { return strcasecmp(t->val, name) == 0; }

static int refuse_jks(const struct kv *type, const char *location_key, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "%s is %s%s: Sluice cannot read Java KeyStores; set %s to PKCS12 or PEM "
             "(convert with: keytool -importkeystore -deststoretype PKCS12) for %s",
             type->key, type->val, type->set ? "" : " (Kafka's default)", type->key, location_key);
    return -EINVAL;
}

static int load_keystore(const struct sl_conf *conf, const char *l, SSL_CTX *ctx, char *err,
                         size_t errlen)
{
    struct kv type, loc, pass, keypass, chain, key;
    struct keystore ks = {0};
    int rc = -EINVAL;
    get(conf, l, "ssl.keystore.type", &type);
    get(conf, l, "ssl.keystore.location", &loc);
    get(conf, l, "ssl.keystore.password", &pass);
    get(conf, l, "ssl.key.password", &keypass);
    get(conf, l, "ssl.keystore.certificate.chain", &chain);
    get(conf, l, "ssl.keystore.key", &key);
    if (chain.val[0] || key.val[0]) {
        if (!chain.val[0] || !key.val[0]) {
            snprintf(err, errlen, "listener %s: set both %s and %s (inline PEM) or neither", l,
                     chain.val[0] ? key.key : chain.key, chain.val[0] ? chain.key : key.key);
            return -EINVAL;
        }
        if (loc.val[0]) {
            snprintf(err, errlen, "listener %s: set %s or inline %s, not both", l, loc.key,
                     chain.key);
            return -EINVAL;
        }
        if (!type_is(&type, "PEM")) {
            snprintf(err, errlen, "listener %s: %s must be PEM with inline %s (it is %s)", l,
                     type.key, chain.key, type.val);
            return -EINVAL;
        }
        size_t n = strlen(chain.val) + strlen(key.val) + 2;
        char *both = malloc(n);
        if (!both)
            return -ENOMEM;
        snprintf(both, n, "%s\n%s", chain.val, key.val);
        rc = keystore_pem(both, key.key, keypass.val, keypass.key, &ks, err, errlen);
        OPENSSL_cleanse(both, n);
        free(both);
    } else if (!loc.val[0]) {
        snprintf(err, errlen,
                 "listener %s is a TLS listener but has no key store: set %s (or inline PEM in "
                 "ssl.keystore.certificate.chain and ssl.keystore.key)",
                 l, loc.key);
        return -EINVAL;
    } else if (type_is(&type, "JKS")) {
        return refuse_jks(&type, loc.key, err, errlen);
    } else if (type_is(&type, "PKCS12")) {
        rc = keystore_p12(loc.val, loc.key, pass.val, pass.key, &ks, err, errlen);
    } else if (type_is(&type, "PEM")) {
        size_t len;
        char *pem = read_file(loc.val, loc.key, &len, err, errlen);
        if (!pem)
            return -EINVAL;
        char what[700];
        snprintf(what, sizeof(what), "%.190s=%.500s", loc.key, loc.val);
        /* Kafka's PEM key stores take ssl.key.password; ssl.keystore.password is the fallback */
        const struct kv *kp = keypass.val[0] ? &keypass : &pass;
        rc = keystore_pem(pem, what, kp->val, keypass.key, &ks, err, errlen);
        OPENSSL_cleanse(pem, len);
        free(pem);
    } else {
        snprintf(err, errlen, "listener %s: %s=%s is not supported (use PEM or PKCS12)", l,
                 type.key, type.val);
        return -EINVAL;
    }
    if (rc < 0)
        goto out;
    rc = -EINVAL;
    if (!ks.cert || !ks.key) {
        snprintf(err, errlen, "listener %s: the key store (%s) has no %s", l,
                 loc.val[0] ? loc.key : chain.key, ks.cert ? "private key" : "certificate");
        goto out;
    }
    ERR_clear_error();
    if (SSL_CTX_use_certificate(ctx, ks.cert) != 1) {
        snprintf(err, errlen, "listener %s: the key store's certificate is unusable: %s", l,
                 ossl_why());
        goto out;
    }
    if (X509_check_private_key(ks.cert, ks.key) != 1) {
        snprintf(err, errlen, "listener %s: the private key does not match the certificate in %s",
                 l, loc.val[0] ? loc.key : chain.key);
        goto out;
    }
    if (SSL_CTX_use_PrivateKey(ctx, ks.key) != 1) {
        snprintf(err, errlen, "listener %s: the key store's private key is unusable: %s", l,
                 ossl_why());
        goto out;
    }
    for (int i = 0; ks.chain && i < sk_X509_num(ks.chain); i++)
        SSL_CTX_add1_chain_cert(ctx, sk_X509_value(ks.chain, i));
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "listener %s: the private key does not match the certificate in %s",
                 l, loc.val[0] ? loc.key : chain.key);
        goto out;
    }
    rc = 0;
out:
    keystore_fini(&ks);
    return rc;
}

/* Trusted certificates for client certificates, and the CA names sent to clients. */
static int load_truststore(const struct sl_conf *conf, const char *l, SSL_CTX *ctx, char *err,
                           size_t errlen)
{
    struct kv type, loc, pass, inline_certs;
    STACK_OF(X509) *certs = NULL;
    get(conf, l, "ssl.truststore.type", &type);
    get(conf, l, "ssl.truststore.location", &loc);
    get(conf, l, "ssl.truststore.password", &pass);
    get(conf, l, "ssl.truststore.certificates", &inline_certs);
    if (inline_certs.val[0]) {
        if (loc.val[0]) {
            snprintf(err, errlen, "listener %s: set %s or inline %s, not both", l, loc.key,
                     inline_certs.key);
            return -EINVAL;
        }
        if (!(certs = pem_certs(inline_certs.val))) {
            snprintf(err, errlen, "%s holds no PEM certificate", inline_certs.key);
            return -EINVAL;
        }
    } else if (!loc.val[0]) {
        SSL_CTX_set_default_verify_paths(ctx); /* the system's CAs, as Java's cacerts */
        return 0;
    } else if (type_is(&type, "JKS")) {
        return refuse_jks(&type, loc.key, err, errlen);
    } else if (type_is(&type, "PEM")) {
        size_t len;
        char *pem = read_file(loc.val, loc.key, &len, err, errlen);
        if (!pem)
            return -EINVAL;
        certs = pem_certs(pem);
        free(pem);
        if (!certs) {
            snprintf(err, errlen, "%s=%s holds no PEM certificate", loc.key, loc.val);
            return -EINVAL;
        }
    } else if (type_is(&type, "PKCS12")) {
        struct keystore ts = {0};
        int rc = keystore_p12(loc.val, loc.key, pass.val, pass.key, &ts, err, errlen);
        if (rc < 0) {
            keystore_fini(&ts);
            return rc;
        }
        certs = ts.chain ? ts.chain : sk_X509_new_null();
        ts.chain = NULL;
        if (certs && ts.cert) {
            sk_X509_push(certs, ts.cert);
            ts.cert = NULL;
        }
        keystore_fini(&ts);
        if (!certs || sk_X509_num(certs) == 0) {
            sk_X509_free(certs);
            snprintf(err, errlen, "%s=%s holds no certificate", loc.key, loc.val);
            return -EINVAL;
        }
    } else {
        snprintf(err, errlen, "listener %s: %s=%s is not supported (use PEM or PKCS12)", l,
                 type.key, type.val);
        return -EINVAL;
    }
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    for (int i = 0; i < sk_X509_num(certs); i++) {
        X509 *x = sk_X509_value(certs, i);
        X509_STORE_add_cert(store, x);
        X509_NAME *n = names ? X509_NAME_dup(X509_get_subject_name(x)) : NULL;
        if (n)
            sk_X509_NAME_push(names, n);
    }
    ERR_clear_error(); /* a duplicate certificate is not an error */
    if (names)
        SSL_CTX_set_client_CA_list(ctx, names); /* takes names */
    sk_X509_pop_free(certs, X509_free);
    return 0;
}

static const struct {
    const char *name;
    int version;
} versions[] = {
    {"TLSv1", TLS1_VERSION},
    {"TLSv1.1", TLS1_1_VERSION},
    {"TLSv1.2", TLS1_2_VERSION},
    {"TLSv1.3", TLS1_3_VERSION},
};

static int version_of(const char *name)
{
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
        if (strcasecmp(name, versions[i].name) == 0)
            return versions[i].version;
    return 0;
}

/* ssl.enabled.protocols: the lowest to the highest listed (gaps are not
 * kept); ssl.protocol must name a known protocol. */
static int set_protocols(const struct sl_conf *conf, const char *l, SSL_CTX *ctx, char *err,
                         size_t errlen)
{
    struct kv en, proto;
    get(conf, l, "ssl.enabled.protocols", &en);
    get(conf, l, "ssl.protocol", &proto);
    if (proto.val[0] && !version_of(proto.val) && strcasecmp(proto.val, "TLS") != 0) {
        snprintf(err, errlen, "%s=%s is not supported (TLSv1.2, TLSv1.3 or TLS)", proto.key,
                 proto.val);
        return -EINVAL;
    }
    int lo = 0, hi = 0;
    char *save = NULL, *tok;
    for (tok = strtok_r(en.val, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        int v = version_of(tok);
        if (!v) {
            snprintf(err, errlen, "%s: '%s' is not a TLS version (TLSv1.2, TLSv1.3)", en.key, tok);
            return -EINVAL;
        }
        lo = !lo || v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (!lo) {
        snprintf(err, errlen, "%s is empty: enable TLSv1.2 and/or TLSv1.3", en.key);
        return -EINVAL;
    }
    if (SSL_CTX_set_min_proto_version(ctx, lo) != 1 || SSL_CTX_set_max_proto_version(ctx, hi) != 1) {
        snprintf(err, errlen, "%s: %s", en.key, ossl_why());
        return -EINVAL;
    }
    return 0;
}

/* ssl.cipher.suites: IANA names as Java uses them (TLS_ECDHE_RSA_WITH_...)
 * or OpenSSL's names; TLS 1.3 suites (TLS_AES_...) go to the TLS 1.3 list. */
static int set_ciphers(const struct sl_conf *conf, const char *l, SSL_CTX *ctx, char *err,
                       size_t errlen)
{
    struct kv cs;
    get(conf, l, "ssl.cipher.suites", &cs);
    if (!cs.val[0])
        return 0;
    char v12[4096] = "", v13[1024] = "";
    char *save = NULL, *tok;
    for (tok = strtok_r(cs.val, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        bool is13 = strncmp(tok, "TLS_AES_", 8) == 0 || strncmp(tok, "TLS_CHACHA20_", 13) == 0;
        const char *name = tok;
        if (!is13) {
            const char *os = OPENSSL_cipher_name(tok);
            if (os && strcmp(os, "(NONE)") != 0)
                name = os;
        }
        char *dst = is13 ? v13 : v12;
        size_t cap = is13 ? sizeof(v13) : sizeof(v12), len = strlen(dst);
        snprintf(dst + len, cap - len, "%s%s", len ? ":" : "", name);
    }
    ERR_clear_error();
    if (SSL_CTX_set_ciphersuites(ctx, v13) != 1) {
        snprintf(err, errlen, "%s: unknown TLS 1.3 cipher suite in '%s'", cs.key, v13);
        return -EINVAL;
    }
    if (v12[0]) {
        if (SSL_CTX_set_cipher_list(ctx, v12) != 1) {
            snprintf(err, errlen, "%s: no known cipher suite in '%s'", cs.key, v12);
            return -EINVAL;
        }
    } else {
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION); /* no TLS 1.2 suite listed */
    }
    if (!v13[0] && SSL_CTX_get_max_proto_version(ctx) != TLS1_2_VERSION)
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION); /* no TLS 1.3 suite listed */
    return 0;
}

int sl_tls_conf_ctx(const struct sl_conf *conf, const char *listener, SSL_CTX **out, char *err,
                    size_t errlen)
{
    struct kv auth;
    *out = NULL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot create a TLS context: %s", ossl_why());
        return -ENOMEM;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    static const unsigned char sid[] = "sluice";
    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
    if (load_keystore(conf, listener, ctx, err, errlen) < 0 ||
        set_protocols(conf, listener, ctx, err, errlen) < 0 ||
        set_ciphers(conf, listener, ctx, err, errlen) < 0)
        goto fail;
    get(conf, listener, "ssl.client.auth", &auth);
    int mode = SSL_VERIFY_NONE;
    if (strcasecmp(auth.val, "required") == 0)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    else if (strcasecmp(auth.val, "requested") == 0)
        mode = SSL_VERIFY_PEER;
    else if (strcasecmp(auth.val, "none") != 0 && auth.val[0]) {
        snprintf(err, errlen, "%s=%s: expected none, requested or required", auth.key, auth.val);
        goto fail;
    }
    if (mode != SSL_VERIFY_NONE && load_truststore(conf, listener, ctx, err, errlen) < 0)
        goto fail;
    SSL_CTX_set_verify(ctx, mode, NULL);
    *out = ctx;
    return 0;
fail:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return -EINVAL;
}

int sl_tls_conf_rules(const struct sl_conf *conf, const char *listener, struct sl_ssl_rules **out,
                      char *err, size_t errlen)
{
    struct kv rules;
    get(conf, listener, "ssl.principal.mapping.rules", &rules);
    char why[300];
    if (sl_ssl_rules_parse(rules.val[0] ? rules.val : "DEFAULT", out, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", rules.key, why);
        return -EINVAL;
    }
    return 0;
}
