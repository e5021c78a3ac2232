/*
 * tls_conf.h - the SSL_CTX of a TLS listener (SSL or SASL_SSL), built from
 * Kafka's ssl.* keys. Each key is read first as
 * listener.name.<listener name, lower-case>.<key>, then as the global key
 * (Kafka's rule). See docs/tls.md for what each key does.
 *
 * Thread: main, at start-up.
 */
#ifndef SL_SERVER_TLS_CONF_H
#define SL_SERVER_TLS_CONF_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "conf/conf.h"

struct sl_ssl_rules;

/* Builds the server context of listener (its name as in listeners=). 0 and
 * *out (the caller owns one reference), or -EINVAL with err a sentence
 * naming the key at fault (no usable key store, JKS, a wrong password, a
 * key that does not match its certificate, an unknown protocol or cipher). */
int sl_tls_conf_ctx(const struct sl_conf *conf, const char *listener, SSL_CTX **out, char *err,
                    size_t errlen);

/* Parses the listener's ssl.principal.mapping.rules. 0 and *out, or -EINVAL
 * with err. */
int sl_tls_conf_rules(const struct sl_conf *conf, const char *listener, struct sl_ssl_rules **out,
                      char *err, size_t errlen);

#endif
