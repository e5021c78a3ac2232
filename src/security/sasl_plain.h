/*
 * sasl_plain.h - SASL PLAIN (RFC 4616) and the JAAS configuration text that
 * Kafka brokers read PLAIN users from:
 *
 *   org.apache.kafka.common.security.plain.PlainLoginModule required
 *       user_alice="alice-secret" user_bob="bob-secret";
 *
 * The JAAS parser follows Kafka's JaasConfig (java.io.StreamTokenizer):
 * exactly one login module, a control flag (required, requisite,
 * sufficient, optional), options key=value with the value a word or a
 * quoted string ('...' or "..." with backslash escapes), a final ';', and
 * // and slash-star comments anywhere.
 */
#ifndef SL_SECURITY_SASL_PLAIN_H
#define SL_SECURITY_SASL_PLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

#define SL_PLAIN_LOGIN_MODULE "org.apache.kafka.common.security.plain.PlainLoginModule"

struct sl_jaas_option {
    char *key;   /* malloc'd */
    char *value; /* malloc'd, escapes resolved */
};

struct sl_jaas {
    char module[256];              /* login module class */
    char flag[16];                 /* control flag, lower-case */
    int n;                         /* options */
    struct sl_jaas_option *opts;   /* malloc'd array of n */
};

/* Parses text[0..len). 0, or -EINVAL with err saying where and why (never
 * quoting option values, which hold passwords), or -ENOMEM. On success the
 * caller frees with sl_jaas_fini; on failure nothing is left allocated. */
int sl_jaas_parse(const char *text, size_t len, struct sl_jaas *out, char *err, size_t errlen);
void sl_jaas_fini(struct sl_jaas *j);
/* The value of option key, or NULL. Borrowed from j. */
const char *sl_jaas_option(const struct sl_jaas *j, const char *key);

/* Splits a PLAIN token "authzid NUL authcid NUL passwd" (slices into in).
 * 0, or -EINVAL with *why: not exactly three parts, an empty user or
 * password, or an authzid that is neither empty nor the user
 * (CVE-2017-12610). */
int sl_plain_parse(const uint8_t *in, size_t len, struct sl_slice *authzid, struct sl_slice *user,
                   struct sl_slice *password, const char **why);

/* Whether password matches the JAAS option user_<user> of a PlainLoginModule
 * config. The comparison takes the same time whether or not the user
 * exists and whatever the lengths (both sides are hashed first). */
bool sl_plain_check(const struct sl_jaas *j, struct sl_slice user, struct sl_slice password);

#endif
