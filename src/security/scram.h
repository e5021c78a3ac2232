/*
 * scram.h - SCRAM (RFC 5802, RFC 7677) for SASL: the primitives (salted
 * password, client/server keys, signatures, base64) over OpenSSL, the
 * stored credential, and the server side of one exchange.
 *
 * Server exchange (struct sl_scram_server):
 *
 *   FIRST --sl_scram_server_step(client-first)--> FINAL   (answers server-first)
 *   FINAL --sl_scram_server_step(client-final)--> DONE    (answers server-final) or FAILED
 *   any   --malformed or refused message--------> FAILED
 *
 * An unknown user goes through the same steps with a fake credential (salt
 * derived from a server secret and the user name, the default iteration
 * count), so it costs the same and fails with the same message as a wrong
 * password. Proofs are compared with CRYPTO_memcmp.
 */
#ifndef SL_SECURITY_SCRAM_H
#define SL_SECURITY_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka's ScramMechanism type codes, as in UserScramCredentialRecord.Mechanism. */
#define SL_SCRAM_UNKNOWN 0
#define SL_SCRAM_SHA_256 1
#define SL_SCRAM_SHA_512 2

#define SL_SCRAM_MIN_ITERATIONS 4096  /* Kafka's minimum for SCRAM-SHA-256/512 */
#define SL_SCRAM_MAX_ITERATIONS 16384 /* Kafka's maximum (AlterUserScramCredentials) */
#define SL_SCRAM_DEFAULT_ITERATIONS 4096
#define SL_SCRAM_KEY_MAX 64            /* bytes of a SHA-512 digest */
#define SL_SCRAM_SALT_MAX 128          /* longest salt accepted, bytes */
#define SL_SCRAM_USER_MAX 256          /* longest user name, bytes */

/* The message every credential failure answers with, whatever the cause
 * (unknown user, wrong password), so a client cannot tell them apart. */
#define SL_SCRAM_BAD_CREDENTIALS "Authentication failed during authentication due to invalid credentials with SASL mechanism %s"

/* "SCRAM-SHA-256" / "SCRAM-SHA-512", or NULL. */
const char *sl_scram_mech_name(int mech);
/* The mechanism named by name[0..len) (exact, upper-case as Kafka spells it), or SL_SCRAM_UNKNOWN. */
int sl_scram_mech_from_name(const char *name, size_t len);
/* Digest length of the mechanism's hash, bytes (32 or 64); 0 if unknown. */
size_t sl_scram_key_len(int mech);

/* A stored credential: what UserScramCredentialRecord carries. */
struct sl_scram_cred {
    int mech;                             /* SL_SCRAM_SHA_256 / _512 */
    int32_t iterations;                   /* PBKDF2 iterations */
    uint8_t salt[SL_SCRAM_SALT_MAX];      /* salt bytes */
    size_t salt_len;                      /* 1..SL_SCRAM_SALT_MAX */
    uint8_t stored_key[SL_SCRAM_KEY_MAX]; /* H(HMAC(SaltedPassword, "Client Key")) */
    uint8_t server_key[SL_SCRAM_KEY_MAX]; /* HMAC(SaltedPassword, "Server Key") */
};

/* Derives a credential from a password. salt NULL: 32 random bytes.
 * 0, -EINVAL (mechanism, salt length, iterations < 1), -EIO (OpenSSL). */
int sl_scram_cred_make(int mech, const uint8_t *password, size_t password_len, const uint8_t *salt,
                       size_t salt_len, int32_t iterations, struct sl_scram_cred *out);

/* The same from a SaltedPassword (AlterUserScramCredentials sends that,
 * never the password). 0 or -EINVAL (empty salt or salted password). */
int sl_scram_cred_from_salted(int mech, const uint8_t *salted, size_t salted_len, const uint8_t *salt,
                              size_t salt_len, int32_t iterations, struct sl_scram_cred *out);

/* SaltedPassword = PBKDF2-HMAC(password, salt, iterations); out holds key_len bytes. 0 or -EIO. */
int sl_scram_salted_password(int mech, const uint8_t *password, size_t password_len, const uint8_t *salt,
                             size_t salt_len, int32_t iterations, uint8_t *out);
/* HMAC with the mechanism's hash; out holds key_len bytes. 0 or -EIO. */
int sl_scram_hmac(int mech, const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len,
                  uint8_t *out);
/* The mechanism's hash; out holds key_len bytes. 0 or -EIO. */
int sl_scram_hash(int mech, const uint8_t *data, size_t len, uint8_t *out);

/* Standard base64 with padding. encode writes 4*ceil(n/3) chars and a NUL;
 * returns the length. decode returns bytes written, or -EINVAL for bad
 * input (wrong alphabet, length or padding) or an output over out_max. */
size_t sl_base64_encode(const uint8_t *in, size_t n, char *out);
int sl_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_max);

/* Looks a user's credential up: true and *out filled if the user has one for mech. */
typedef bool (*sl_scram_lookup_fn)(void *arg, const char *user, int mech, struct sl_scram_cred *out);

enum sl_scram_state { SL_SCRAM_FIRST, SL_SCRAM_FINAL, SL_SCRAM_DONE, SL_SCRAM_FAILED };

struct sl_scram_server {
    enum sl_scram_state state;
    int mech;
    char user[SL_SCRAM_USER_MAX + 1];     /* decoded saslname of the client-first */
    bool fake;                            /* user unknown: the exchange will fail */
    struct sl_scram_cred cred;            /* the user's credential, or the fake one */
    char gs2_header[SL_SCRAM_USER_MAX * 3 + 16]; /* "n,," or "n,a=...," as received */
    char *client_first_bare;              /* malloc'd: "n=...,r=..." */
    char *server_first;                   /* malloc'd: "r=...,s=...,i=..." */
    char *nonce;                          /* malloc'd: client nonce + server nonce */
    size_t client_nonce_len;              /* bytes of the client's part of nonce */
    char error[256];                      /* why it failed, for the client (FAILED) */
};

/* Starts an exchange for mech (SL_SCRAM_SHA_256/_512). */
void sl_scram_server_init(struct sl_scram_server *s, int mech);
void sl_scram_server_fini(struct sl_scram_server *s);

/* One client message in, one server message out (malloc'd in *out, *out_len
 * bytes; NULL when failed). Returns 0 when the exchange goes on or is DONE,
 * -EACCES when it FAILED (s->error says why; nothing to send). Unknown users
 * get a fake credential derived from secret. */
int sl_scram_server_step(struct sl_scram_server *s, const uint8_t *in, size_t in_len,
                         sl_scram_lookup_fn lookup, void *lookup_arg, const uint8_t *secret,
                         size_t secret_len, uint8_t **out, size_t *out_len);

/* Parsed pieces of the client's messages (exposed for tests and fuzzing).
 * Slices point into the input. */
struct sl_scram_client_first {
    const char *gs2;      size_t gs2_len;     /* gs2 header including its final ',' */
    const char *authzid;  size_t authzid_len; /* a= value (still escaped), NULL when absent */
    const char *bare;     size_t bare_len;    /* client-first-message-bare */
    const char *user;     size_t user_len;    /* n= value (still escaped) */
    const char *nonce;    size_t nonce_len;   /* r= value */
};
/* 0 or -EINVAL with *why set. Refuses channel binding ("p="), the reserved
 * "m=" attribute and the tokenauth extension (no delegation tokens). */
int sl_scram_parse_client_first(const char *in, size_t len, struct sl_scram_client_first *out,
                                const char **why);

struct sl_scram_client_final {
    const char *cbind;    size_t cbind_len;   /* c= value (base64) */
    const char *nonce;    size_t nonce_len;   /* r= value */
    const char *without_proof; size_t without_proof_len; /* everything before ",p=" */
    const char *proof;    size_t proof_len;   /* p= value (base64) */
};
int sl_scram_parse_client_final(const char *in, size_t len, struct sl_scram_client_final *out,
                                const char **why);

/* Decodes a saslname ("=2C" -> ",", "=3D" -> "="); -EINVAL for any other
 * '=' escape, a ',' or a NUL, or an output over out_max - 1. Returns the length. */
int sl_scram_saslname_decode(const char *in, size_t len, char *out, size_t out_max);

#endif
