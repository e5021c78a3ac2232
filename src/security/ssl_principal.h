/*
 * ssl_principal.h - ssl.principal.mapping.rules: turns the subject of a TLS
 * client certificate (RFC 2253, "CN=alice,OU=eng,O=acme") into the name of a
 * Kafka principal, as Kafka's SslPrincipalMapper does.
 *
 * Rules, comma-separated, tried in order; the first whose pattern matches the
 * whole subject decides:
 *   DEFAULT                         the subject as it is
 *   RULE:pattern/replacement/[L|U]  pattern a regular expression, replacement
 *                                   with $1..$9 for groups, then optionally
 *                                   lower- or upper-cased
 * '/' and ',' inside a pattern or replacement are escaped with a backslash.
 * Patterns are POSIX extended regular expressions (regex.h), not Java's:
 * lazy quantifiers (*? +? ??) are read as greedy ones, and \d \w \s are not
 * supported. See docs/tls.md.
 *
 * Thread: parse on one thread; apply from any thread (read-only).
 */
#ifndef SL_SECURITY_SSL_PRINCIPAL_H
#define SL_SECURITY_SSL_PRINCIPAL_H

#include <stddef.h>

struct sl_ssl_rules;

/* Parses spec; 0 and *out (free with sl_ssl_rules_free), or -EINVAL with err
 * naming the bad rule, or -ENOMEM. */
int sl_ssl_rules_parse(const char *spec, struct sl_ssl_rules **out, char *err, size_t errlen);

/* Maps dn to a principal name in out. 0, -ENOENT when no rule applies
 * (Kafka then fails the authentication), -ENOSPC when out is too small. */
int sl_ssl_rules_apply(const struct sl_ssl_rules *rules, const char *dn, char *out, size_t outlen);

void sl_ssl_rules_free(struct sl_ssl_rules *rules);

#endif
