/*
 * test_scram.c - src/security/scram.c, sasl_plain.c, scram_store.c and the
 * --add-scram parser of scram_admin.c: RFC 5802 (SCRAM-SHA-1's exchange
 * shape) and RFC 7677 (SCRAM-SHA-256) test vectors, the server exchange
 * against a client built from the primitives, every refusal, base64, the
 * JAAS grammar and PLAIN tokens, and the image's credential set.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "meta/apply.h"
#include "meta/image.h"
#include "proto/gen/meta_records.h"
#include "security/sasl_plain.h"
#include "security/scram.h"
#include "security/scram_admin.h"
#include "security/scram_store.h"
#include "testlib.h"

#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

/* RFC 7677 section 3: user "user", password "pencil", salt
 * W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations, client nonce
 * rOprNGfwEbeRWgbNEkqO, server nonce suffix %hvYDpWUa2RaTCAfuxFIlj)hNlF$k0. */
static const char *const R7677_CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
static const char *const R7677_SERVER_FIRST =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
static const char *const R7677_CLIENT_FINAL =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
static const char *const R7677_SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

/* Client proof and server signature from the primitives, as a client computes them. */
static void client_proof(int mech, const char *password, const uint8_t *salt, size_t salt_len, int iters,
                         const char *auth, uint8_t *proof, uint8_t *server_sig)
{
    size_t kl = sl_scram_key_len(mech);
    uint8_t salted[64], ck[64], stored[64], sig[64], sk[64];
    CHECK_EQ(sl_scram_salted_password(mech, (const uint8_t *)password, strlen(password), salt, salt_len, iters,
                                      salted), 0);
    CHECK_EQ(sl_scram_hmac(mech, salted, kl, (const uint8_t *)"Client Key", 10, ck), 0);
    CHECK_EQ(sl_scram_hash(mech, ck, kl, stored), 0);
    CHECK_EQ(sl_scram_hmac(mech, stored, kl, (const uint8_t *)auth, strlen(auth), sig), 0);
    for (size_t i = 0; i < kl; i++)
        proof[i] = ck[i] ^ sig[i];
    CHECK_EQ(sl_scram_hmac(mech, salted, kl, (const uint8_t *)"Server Key", 10, sk), 0);
    CHECK_EQ(sl_scram_hmac(mech, sk, kl, (const uint8_t *)auth, strlen(auth), server_sig), 0);
}

TEST(rfc7677_sha256_vector)
{
    uint8_t salt[32];
    const char *s64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
    int sl = sl_base64_decode(s64, strlen(s64), salt, sizeof(salt));
    CHECK_EQ(sl, 16);
    char auth[512];
    snprintf(auth, sizeof(auth), "%s,%s,%s", R7677_CLIENT_FIRST + 3, R7677_SERVER_FIRST,
             "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    uint8_t proof[64], sig[64];
    client_proof(SL_SCRAM_SHA_256, "pencil", salt, (size_t)sl, 4096, auth, proof, sig);
    char p64[128], v64[128];
    sl_base64_encode(proof, 32, p64);
    sl_base64_encode(sig, 32, v64);
    CHECK_STR(p64, strstr(R7677_CLIENT_FINAL, "p=") + 2);
    CHECK_STR(v64, R7677_SERVER_FINAL + 2);
}

TEST(rfc5802_exchange_shape_with_sha256)
{
    /* RFC 5802's example (SCRAM-SHA-1, user "user", password "pencil", salt
     * QSXCR+Q6sek8bf92, 4096 iterations): SHA-1 is not a Kafka mechanism, so
     * check the parsers on its messages, and its proof and server signature
     * with the same formulas over OpenSSL's SHA-1. */
    uint8_t salt[32];
    int sl = sl_base64_decode("QSXCR+Q6sek8bf92", 16, salt, sizeof(salt));
    CHECK_EQ(sl, 12);
    char back[32];
    sl_base64_encode(salt, 12, back);
    CHECK_STR(back, "QSXCR+Q6sek8bf92");
    struct sl_scram_client_first cf;
    const char *why;
    const char *first = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
    CHECK_EQ(sl_scram_parse_client_first(first, strlen(first), &cf, &why), 0);
    CHECK_EQ(cf.user_len, 4);
    CHECK_EQ(cf.nonce_len, 24);
    const char *fin = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    struct sl_scram_client_final ff;
    CHECK_EQ(sl_scram_parse_client_final(fin, strlen(fin), &ff, &why), 0);
    CHECK_EQ(ff.nonce_len, 24 + 18);
    CHECK_EQ(ff.without_proof_len, strlen("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j"));
    CHECK(memcmp(ff.proof, "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", ff.proof_len) == 0);
    uint8_t salted[20], ck[20], stored[20], sig[20], sk[20], proof[20], ssig[20];
    unsigned n;
    CHECK(PKCS5_PBKDF2_HMAC("pencil", 6, salt, sl, 4096, EVP_sha1(), 20, salted) == 1);
    HMAC(EVP_sha1(), salted, 20, (const uint8_t *)"Client Key", 10, ck, &n);
    EVP_Digest(ck, 20, stored, &n, EVP_sha1(), NULL);
    char auth[400];
    snprintf(auth, sizeof(auth), "%.*s,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,%.*s",
             (int)cf.bare_len, cf.bare, (int)ff.without_proof_len, ff.without_proof);
    HMAC(EVP_sha1(), stored, 20, (const uint8_t *)auth, strlen(auth), sig, &n);
    for (int i = 0; i < 20; i++)
        proof[i] = ck[i] ^ sig[i];
    char p64[64];
    sl_base64_encode(proof, 20, p64);
    CHECK_STR(p64, "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    HMAC(EVP_sha1(), salted, 20, (const uint8_t *)"Server Key", 10, sk, &n);
    HMAC(EVP_sha1(), sk, 20, (const uint8_t *)auth, strlen(auth), ssig, &n);
    sl_base64_encode(ssig, 20, p64);
    CHECK_STR(p64, "rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}

/* --- the server exchange ----------------------------------------------------- */

static struct sl_scram_cred g_cred;
static bool g_have;

static bool lookup(void *arg, const char *user, int mech, struct sl_scram_cred *out)
{
    (void)arg;
    if (!g_have || strcmp(user, "user") != 0 || mech != g_cred.mech)
        return false;
    *out = g_cred;
    return true;
}

static const uint8_t SECRET[32] = "0123456789abcdef0123456789abcdef";

static int step(struct sl_scram_server *s, const char *msg, char *out, size_t outlen)
{
    uint8_t *o = NULL;
    size_t ol = 0;
    int rc = sl_scram_server_step(s, (const uint8_t *)msg, strlen(msg), lookup, NULL, SECRET, sizeof(SECRET), &o, &ol);
    if (out) {
        snprintf(out, outlen, "%.*s", (int)ol, o ? (const char *)o : "");
    }
    free(o);
    return rc;
}

/* Runs a whole exchange as the RFC 7677 client would (with a fresh server
 * nonce), with the final message altered by how. Returns step 2's rc. */
static int exchange(const char *password, const char *client_first, int how, char *err_out)
{
    struct sl_scram_server s;
    sl_scram_server_init(&s, SL_SCRAM_SHA_256);
    char sf[512];
    int rc = step(&s, client_first, sf, sizeof(sf));
    if (rc < 0) {
        snprintf(err_out, 256, "%s", s.error);
        sl_scram_server_fini(&s);
        return rc;
    }
    /* parse r= and s= */
    char nonce[256], salt64[256];
    CHECK(sscanf(sf, "r=%255[^,],s=%255[^,],i=", nonce, salt64) == 2);
    uint8_t salt[128];
    int sl = sl_base64_decode(salt64, strlen(salt64), salt, sizeof(salt));
    CHECK(sl > 0);
    const char *gs2 = strchr(client_first + 2, ',') + 1;
    char gs2h[64];
    snprintf(gs2h, sizeof(gs2h), "%.*s", (int)(gs2 - client_first), client_first);
    char cb[96];
    sl_base64_encode((const uint8_t *)gs2h, strlen(gs2h), cb);
    char without[600];
    if (how == 1)
        snprintf(without, sizeof(without), "c=%s,r=%sX", cb, nonce); /* nonce altered */
    else if (how == 2)
        snprintf(without, sizeof(without), "c=biws,r=%s", nonce);   /* wrong channel binding for an a= header */
    else
        snprintf(without, sizeof(without), "c=%s,r=%s", cb, nonce);
    char auth[1400];
    snprintf(auth, sizeof(auth), "%s,%s,%s", gs2, sf, without);
    uint8_t proof[64], sig[64];
    client_proof(SL_SCRAM_SHA_256, password, salt, (size_t)sl, 4096, auth, proof, sig);
    char p64[128];
    sl_base64_encode(proof, 32, p64);
    char fin[800];
    snprintf(fin, sizeof(fin), "%s,p=%s", without, p64);
    char sfin[256];
    rc = step(&s, fin, sfin, sizeof(sfin));
    snprintf(err_out, 256, "%s", rc < 0 ? s.error : "");
    if (rc == 0) {
        char v64[128];
        sl_base64_encode(sig, 32, v64);
        CHECK(strncmp(sfin, "v=", 2) == 0);
        CHECK_STR(sfin + 2, v64);
        CHECK(s.state == SL_SCRAM_DONE);
        CHECK_STR(s.user, "user");
    }
    sl_scram_server_fini(&s);
    return rc;
}

static void set_user_pencil(void)
{
    uint8_t salt[16];
    CHECK_EQ(sl_base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof(salt)), 16);
    CHECK_EQ(sl_scram_cred_make(SL_SCRAM_SHA_256, (const uint8_t *)"pencil", 6, salt, 16, 4096, &g_cred), 0);
    g_have = true;
}

TEST(server_accepts_right_password_and_signs)
{
    set_user_pencil();
    char err[256];
    CHECK_EQ(exchange("pencil", R7677_CLIENT_FIRST, 0, err), 0);
    CHECK_EQ(exchange("pencil", "n,a=user,n=user,r=abc", 0, err), 0); /* authzid = user */
    CHECK_EQ(exchange("pencil", "y,,n=user,r=abc", 0, err), 0);
}

TEST(server_refuses_wrong_password_and_unknown_user_alike)
{
    set_user_pencil();
    char e1[256], e2[256];
    CHECK_EQ(exchange("pencil2", R7677_CLIENT_FIRST, 0, e1), -EACCES);
    CHECK_EQ(exchange("pencil", "n,,n=nobody,r=abc", 0, e2), -EACCES);
    CHECK_STR(e1, e2);
    CHECK(strstr(e1, "invalid credentials") != NULL);
}

TEST(server_refuses_bad_nonce_authzid_binding)
{
    set_user_pencil();
    char err[256];
    CHECK_EQ(exchange("pencil", R7677_CLIENT_FIRST, 1, err), -EACCES);
    CHECK(strstr(err, "nonce") != NULL);
    CHECK_EQ(exchange("pencil", "n,a=admin,n=user,r=abc", 0, err), -EACCES);
    CHECK(strstr(err, "authorization id") != NULL);
    CHECK_EQ(exchange("pencil", "n,a=user,n=user,r=abc", 2, err), -EACCES); /* c= must match the header */
    CHECK_EQ(exchange("pencil", "p=tls-unique,,n=user,r=abc", 0, err), -EACCES);
    CHECK(strstr(err, "channel binding") != NULL);
}

TEST(server_unknown_user_fake_salt_is_stable_and_iterations_default)
{
    g_have = false;
    char sf1[512], sf2[512];
    struct sl_scram_server s;
    sl_scram_server_init(&s, SL_SCRAM_SHA_512);
    CHECK_EQ(step(&s, "n,,n=ghost,r=abc", sf1, sizeof(sf1)), 0);
    CHECK(s.fake);
    sl_scram_server_fini(&s);
    sl_scram_server_init(&s, SL_SCRAM_SHA_512);
    CHECK_EQ(step(&s, "n,,n=ghost,r=xyz", sf2, sizeof(sf2)), 0);
    sl_scram_server_fini(&s);
    CHECK_STR(strstr(sf1, ",s="), strstr(sf2, ",s="));
    CHECK(strstr(sf1, ",i=4096") != NULL);
}

TEST(server_rejects_messages_after_the_end_and_malformed)
{
    set_user_pencil();
    const char *bad_first[] = {"", "n", "n,", "n,,", "n,,n=", "n,,n=user", "n,,n=user,r=", "n,,r=abc,n=user",
                               "q,,n=user,r=a", "n,a=,n=user,r=a", "n,,n=u=2X,r=a", "n,,n=user,r=a,b",
                               "n,,n=user,r=a b", "n,,m=x,n=user,r=a", "n,,n=user,r=a,tokenauth=true"};
    for (size_t i = 0; i < sizeof(bad_first) / sizeof(bad_first[0]); i++) {
        struct sl_scram_server s;
        sl_scram_server_init(&s, SL_SCRAM_SHA_256);
        CHECK_EQ(step(&s, bad_first[i], NULL, 0), -EACCES);
        CHECK(s.state == SL_SCRAM_FAILED);
        CHECK_EQ(step(&s, "n,,n=user,r=a", NULL, 0), -EACCES); /* stays failed */
        sl_scram_server_fini(&s);
    }
    const char *bad_final[] = {"", "c=biws", "c=biws,r=x", "r=x,c=biws,p=AA==", "c=biws,r=x,p=", "c=biws,r=x,p=AA==,z=1",
                               "c=biws,r=x,p=%%%%"};
    for (size_t i = 0; i < sizeof(bad_final) / sizeof(bad_final[0]); i++) {
        struct sl_scram_server s;
        sl_scram_server_init(&s, SL_SCRAM_SHA_256);
        CHECK_EQ(step(&s, "n,,n=user,r=a", NULL, 0), 0);
        CHECK_EQ(step(&s, bad_final[i], NULL, 0), -EACCES);
        sl_scram_server_fini(&s);
    }
}

TEST(saslname_escapes)
{
    char out[16];
    CHECK_EQ(sl_scram_saslname_decode("a=2Cb=3Dc", 9, out, sizeof(out)), 5);
    CHECK_STR(out, "a,b=c");
    CHECK_EQ(sl_scram_saslname_decode("a=2", 3, out, sizeof(out)), -EINVAL);
    CHECK_EQ(sl_scram_saslname_decode("a=41", 4, out, sizeof(out)), -EINVAL);
    CHECK_EQ(sl_scram_saslname_decode("0123456789abcdef", 16, out, sizeof(out)), -EINVAL); /* too long */
}

TEST(base64_round_trip_and_refusals)
{
    uint8_t in[7] = {0, 1, 2, 253, 254, 255, 7}, out[16];
    char enc[32];
    for (size_t n = 0; n <= 7; n++) {
        size_t el = sl_base64_encode(in, n, enc);
        CHECK_EQ(el, (n + 2) / 3 * 4);
        CHECK_EQ(sl_base64_decode(enc, el, out, sizeof(out)), (int)n);
        CHECK(n == 0 || memcmp(in, out, n) == 0);
    }
    CHECK_EQ(sl_base64_decode("abc", 3, out, sizeof(out)), -EINVAL);
    CHECK_EQ(sl_base64_decode("ab=c", 4, out, sizeof(out)), -EINVAL);
    CHECK_EQ(sl_base64_decode("a===", 4, out, sizeof(out)), -EINVAL);
    CHECK_EQ(sl_base64_decode("ab!d", 4, out, sizeof(out)), -EINVAL);
    CHECK_EQ(sl_base64_decode("AAAAAAAA", 8, out, 5), -EINVAL); /* output too small */
}

/* --- JAAS and PLAIN ---------------------------------------------------------------- */

TEST(jaas_kafka_examples)
{
    struct sl_jaas j;
    char err[256];
    const char *t = "org.apache.kafka.common.security.plain.PlainLoginModule required\n"
                    "    username=\"admin\" /* comment */ password=\"admin-secret\"\n"
                    "    user_admin=\"admin-secret\" // line comment\n"
                    "    user_alice='alice \\\"x\\\" \\101' user_$bob-1.x=word;  \n";
    CHECK_EQ(sl_jaas_parse(t, strlen(t), &j, err, sizeof(err)), 0);
    CHECK_STR(j.module, SL_PLAIN_LOGIN_MODULE);
    CHECK_STR(j.flag, "required");
    CHECK_EQ(j.n, 5);
    CHECK_STR(sl_jaas_option(&j, "user_alice"), "alice \"x\" A");
    CHECK_STR(sl_jaas_option(&j, "user_$bob-1.x"), "word");
    CHECK(sl_plain_check(&j, sl_slice_cstr("admin"), sl_slice_cstr("admin-secret")));
    CHECK(!sl_plain_check(&j, sl_slice_cstr("admin"), sl_slice_cstr("admin-secreT")));
    CHECK(!sl_plain_check(&j, sl_slice_cstr("nobody"), sl_slice_cstr("admin-secret")));
    CHECK(!sl_plain_check(&j, sl_slice_cstr("admin"), sl_slice_cstr("")));
    sl_jaas_fini(&j);
    const char *flag = "x.Y Optional;";
    CHECK_EQ(sl_jaas_parse(flag, strlen(flag), &j, err, sizeof(err)), 0);
    CHECK_STR(j.flag, "optional");
    CHECK_EQ(j.n, 0);
    CHECK(!sl_plain_check(&j, sl_slice_cstr("a"), sl_slice_cstr("b"))); /* not PlainLoginModule */
    sl_jaas_fini(&j);
}

TEST(jaas_refusals_never_echo_values)
{
    const char *bad[] = {"", "  ", ";", "m", "m required", "m required a=\"x\"", "m maybe;", "m required a;",
                         "m required a=;", "m required =b;", "m required a=\"unterminated;",
                         "m required a=\"x\nx\";", "m required; n required;", "m required a=b; junk",
                         "m required a=b c=d e", "\"m\" required;", "m required a=\"secretpw\" b;"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sl_jaas j;
        char err[256] = "";
        CHECK_EQ(sl_jaas_parse(bad[i], strlen(bad[i]), &j, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "secretpw") == NULL);
        CHECK(err[0] != 0);
        CHECK(j.opts == NULL && j.n == 0);
    }
}

TEST(plain_tokens)
{
    struct sl_slice z, u, p;
    const char *why;
    CHECK_EQ(sl_plain_parse((const uint8_t *)"\0bob\0pw", 7, &z, &u, &p, &why), 0);
    CHECK(sl_slice_eq_cstr(u, "bob") && sl_slice_eq_cstr(p, "pw") && z.len == 0);
    CHECK_EQ(sl_plain_parse((const uint8_t *)"bob\0bob\0pw", 10, &z, &u, &p, &why), 0);
    CHECK_EQ(sl_plain_parse((const uint8_t *)"adm\0bob\0pw", 10, &z, &u, &p, &why), -EINVAL);
    CHECK(strstr(why, "authorization id") != NULL);
    CHECK_EQ(sl_plain_parse((const uint8_t *)"\0\0pw", 4, &z, &u, &p, &why), -EINVAL);
    CHECK_EQ(sl_plain_parse((const uint8_t *)"\0bob\0", 5, &z, &u, &p, &why), -EINVAL);
    CHECK_EQ(sl_plain_parse((const uint8_t *)"\0bob\0pw\0", 8, &z, &u, &p, &why), -EINVAL);
    CHECK_EQ(sl_plain_parse((const uint8_t *)"bob", 3, &z, &u, &p, &why), -EINVAL);
    CHECK_EQ(sl_plain_parse(NULL, 0, &z, &u, &p, &why), -EINVAL);
}

/* --- the image's credential set ------------------------------------------------------ */

static int apply_upsert(struct sl_image_builder *b, const char *user, int mech, int iters)
{
    struct sl_scram_cred c;
    int real = sl_scram_key_len(mech) ? mech : SL_SCRAM_SHA_256; /* keys for an unknown mechanism too */
    CHECK_EQ(sl_scram_cred_make(real, (const uint8_t *)"pw", 2, (const uint8_t *)"salt", 4, iters, &c), 0);
    size_t kl = sl_scram_key_len(real);
    struct sl_UserScramCredentialRecord r;
    sl_UserScramCredentialRecord_init(&r);
    r.Name = sl_slice_cstr(user);
    r.Mechanism = (int8_t)mech;
    r.Salt = (struct sl_slice){c.salt, c.salt_len};
    r.StoredKey = (struct sl_slice){c.stored_key, kl};
    r.ServerKey = (struct sl_slice){c.server_key, kl};
    r.Iterations = iters;
    return sl_meta_apply(b, 11, 0, &r, 0);
}

static int apply_remove(struct sl_image_builder *b, const char *user, int mech)
{
    struct sl_RemoveUserScramCredentialRecord r;
    sl_RemoveUserScramCredentialRecord_init(&r);
    r.Name = sl_slice_cstr(user);
    r.Mechanism = (int8_t)mech;
    return sl_meta_apply(b, 22, 0, &r, 0);
}

TEST(image_set_is_copied_on_change_and_shared_otherwise)
{
    struct sl_image_builder *b = sl_image_builder_new(NULL);
    CHECK_EQ(apply_upsert(b, "bob", SL_SCRAM_SHA_512, 4096), 0);
    CHECK_EQ(apply_upsert(b, "alice", SL_SCRAM_SHA_512, 4096), 0);
    CHECK_EQ(apply_upsert(b, "alice", SL_SCRAM_SHA_256, 8192), 0);
    CHECK_EQ(apply_upsert(b, "alice", SL_SCRAM_SHA_256, 5000), 0); /* replaces */
    struct sl_image *img1 = sl_image_builder_finish(b, 3);
    CHECK_EQ(img1->scram->n, 3);
    struct sl_scram_cred c;
    CHECK(sl_scram_find(img1, "alice", SL_SCRAM_SHA_256, &c) && c.iterations == 5000);
    CHECK(!sl_scram_find(img1, "bob", SL_SCRAM_SHA_256, &c));
    CHECK(!sl_scram_find(img1, "alic", SL_SCRAM_SHA_512, &c));
    int32_t first;
    CHECK_EQ(sl_scram_user_entries(img1->scram, "alice", 5, &first), 2);
    CHECK_EQ(first, 0);

    struct sl_image_builder *b2 = sl_image_builder_new(img1);
    CHECK(sl_image_builder_peek(b2)->scram == img1->scram); /* shared */
    CHECK_EQ(apply_remove(b2, "alice", SL_SCRAM_SHA_512), 0);
    CHECK_EQ(apply_remove(b2, "alice", SL_SCRAM_SHA_512), -EINVAL); /* gone */
    CHECK_EQ(apply_remove(b2, "carol", SL_SCRAM_SHA_256), -EINVAL);
    CHECK_EQ(apply_upsert(b2, "dave", 3, 4096), -EINVAL);          /* unknown mechanism */
    struct sl_image *img2 = sl_image_builder_finish(b2, 4);
    CHECK(sl_scram_find(img1, "alice", SL_SCRAM_SHA_512, &c)); /* the old image is untouched */
    CHECK(!sl_scram_find(img2, "alice", SL_SCRAM_SHA_512, &c));
    CHECK(sl_scram_find(img2, "bob", SL_SCRAM_SHA_512, &c));
    sl_image_release(img1);
    sl_image_release(img2);
}

/* --- --add-scram ----------------------------------------------------------------------- */

TEST(add_scram_argument_syntax)
{
    struct sl_scram_boot bt;
    char err[256];
    CHECK_EQ(sl_scram_boot_parse("SCRAM-SHA-512=[name=alice,password=alice-secret]", &bt, err, sizeof(err)), 0);
    CHECK_STR(bt.user, "alice");
    CHECK_EQ(bt.cred.mech, SL_SCRAM_SHA_512);
    CHECK_EQ(bt.cred.iterations, 4096);
    CHECK_EQ(bt.cred.salt_len, 32);
    /* Kafka's documented saltedpassword form (RFC 7677 values) gives the RFC's keys */
    CHECK_EQ(sl_scram_boot_parse("SCRAM-SHA-256=[name=user,password=\"pencil\",salt=\"W22ZaJ0SNY7soEsUEjb6gQ==\","
                                 "iterations=4096]", &bt, err, sizeof(err)), 0);
    set_user_pencil();
    CHECK(memcmp(bt.cred.stored_key, g_cred.stored_key, 32) == 0);
    CHECK(memcmp(bt.cred.server_key, g_cred.server_key, 32) == 0);
    const char *bad[] = {"SCRAM-SHA-1=[name=a,password=b]", "SCRAM-SHA-256=name=a,password=b",
                         "SCRAM-SHA-256=[name=a,password=b", "SCRAM-SHA-256=[name=a]", "SCRAM-SHA-256=[password=b]",
                         "SCRAM-SHA-256=[name=a,password=b,iterations=4095]",
                         "SCRAM-SHA-256=[name=a,password=b,iterations=99999]",
                         "SCRAM-SHA-256=[name=a,password=b,salt=!!]", "SCRAM-SHA-256=[name=a,password=b,foo=c]",
                         "SCRAM-SHA-256=[name=a,password=b,saltedpassword=AAAA]",
                         "SCRAM-SHA-256=[name=\"a,password=b]", "SCRAM-SHA-256=[name=a,password=b]x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(sl_scram_boot_parse(bad[i], &bt, err, sizeof(err)), -EINVAL);
}
