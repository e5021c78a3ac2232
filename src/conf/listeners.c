/*
 * listeners.c - the list-valued keys: listeners and advertised.listeners
 * (NAME://host:port), controller.quorum.voters (id@host:port),
 * listener.security.protocol.map, and comma-separated names such as
 * process.roles.
 */
#include "conf/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Splits "host:port" or "[v6]:port" (s, len) into host and port. */
static int parse_hostport(const char *s, size_t len, char *host, size_t hostlen, int *port, const char **why)
{
    const char *hs = s, *he, *ps;
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close) {
            *why = "unclosed '['";
            return -EINVAL;
        }
        hs = s + 1;
        he = close;
        if (close + 1 >= s + len || close[1] != ':') {
            *why = "missing port";
            return -EINVAL;
        }
        ps = close + 2;
    } else {
        const char *colon = memrchr(s, ':', len);
        if (!colon) {
            *why = "missing port";
            return -EINVAL;
        }
        he = colon;
        ps = colon + 1;
    }
    size_t hlen = (size_t)(he - hs);
    if (hlen >= hostlen) {
        *why = "host name too long";
        return -EINVAL;
    }
    for (const char *q = hs; q < he; q++)
        if (!isalnum((unsigned char)*q) && !strchr("-._:%", *q)) {
            *why = "invalid character in host";
            return -EINVAL;
        }
    size_t plen = (size_t)(s + len - ps);
    long p = 0;
    if (plen == 0 || plen > 5) {
        *why = plen ? "port must be 0-65535" : "missing port";
        return -EINVAL;
    }
    for (const char *q = ps; q < s + len; q++) {
        if (!isdigit((unsigned char)*q)) {
            *why = "port must be a number";
            return -EINVAL;
        }
        p = p * 10 + (*q - '0');
    }
    if (p > 65535) {
        *why = "port must be 0-65535";
        return -EINVAL;
    }
    memcpy(host, hs, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return 0;
}

/* Calls item(s, len) for each comma-separated, trimmed item of list; an empty list has
 * no items, an empty item in a non-empty list is an error. Returns the count or the
 * first negative result. */
static int for_each_item(const char *list, int (*item)(void *arg, int i, const char *s, size_t len), void *arg)
{
    const char *p = list;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return 0;
    int count = 0;
    for (;;) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        size_t len = n;
        while (len && isspace((unsigned char)*s)) {
            s++;
            len--;
        }
        while (len && isspace((unsigned char)s[len - 1]))
            len--;
        int rc = item(arg, count, s, len);
        if (rc < 0)
            return rc;
        count++;
        p += n;
        if (*p != ',')
            break;
        p++;
    }
    return count;
}

struct parse_ctx {
    void *out;       /* array of listeners or voters */
    int max;         /* capacity of out */
    char *err;       /* caller's message buffer */
    size_t errlen;   /* its size */
};

static int fail_item(struct parse_ctx *x, const char *s, size_t len, const char *why)
{
    snprintf(x->err, x->errlen, "'%.*s': %s", (int)(len > 80 ? 80 : len), s, why);
    return -EINVAL;
}

static int listener_item(void *arg, int i, const char *s, size_t len)
{
    struct parse_ctx *x = arg;
    struct sl_conf_listener *l = (struct sl_conf_listener *)x->out + i;
    const char *why = NULL;
    if (len == 0)
        return fail_item(x, s, len, "empty listener");
    if (i >= x->max)
        return fail_item(x, s, len, "too many listeners");
    const char *sep = NULL;
    for (size_t j = 0; j + 3 <= len; j++)
        if (memcmp(s + j, "://", 3) == 0) {
            sep = s + j;
            break;
        }
    if (!sep)
        return fail_item(x, s, len, "missing '://'");
    size_t nlen = (size_t)(sep - s);
    if (nlen == 0 || nlen >= sizeof(l->name))
        return fail_item(x, s, len, "listener name must be 1-63 characters");
    for (size_t j = 0; j < nlen; j++) {
        if (!isalnum((unsigned char)s[j]) && s[j] != '_' && s[j] != '-')
            return fail_item(x, s, len, "listener name may hold letters, digits, '_' and '-' only");
        l->name[j] = (char)toupper((unsigned char)s[j]);
    }
    l->name[nlen] = '\0';
    const char *hp = sep + 3;
    if (parse_hostport(hp, (size_t)(s + len - hp), l->host, sizeof(l->host), &l->port, &why) < 0)
        return fail_item(x, s, len, why);
    return 0;
}

int sl_conf_parse_listeners(const char *s, struct sl_conf_listener *out, int max, char *err, size_t errlen)
{
    struct parse_ctx x = {out, max, err, errlen};
    return for_each_item(s, listener_item, &x);
}

static int voter_item(void *arg, int i, const char *s, size_t len)
{
    struct parse_ctx *x = arg;
    struct sl_conf_voter *v = (struct sl_conf_voter *)x->out + i;
    const char *why = NULL;
    if (len == 0)
        return fail_item(x, s, len, "empty voter");
    if (i >= x->max)
        return fail_item(x, s, len, "too many voters");
    const char *at = memchr(s, '@', len);
    if (!at || at == s)
        return fail_item(x, s, len, "expected id@host:port");
    int64_t id = 0;
    for (const char *q = s; q < at; q++) {
        if (!isdigit((unsigned char)*q) || id > INT32_MAX / 10)
            return fail_item(x, s, len, "voter id must be an integer >= 0");
        id = id * 10 + (*q - '0');
    }
    if (id > INT32_MAX)
        return fail_item(x, s, len, "voter id must be an integer >= 0");
    if (parse_hostport(at + 1, (size_t)(s + len - at - 1), v->host, sizeof(v->host), &v->port, &why) < 0)
        return fail_item(x, s, len, why);
    if (v->host[0] == '\0')
        return fail_item(x, s, len, "missing host");
    if (v->port == 0)
        return fail_item(x, s, len, "port must be 1-65535");
    v->id = (int32_t)id;
    return 0;
}

int sl_conf_parse_voters(const char *s, struct sl_conf_voter *out, int max, char *err, size_t errlen)
{
    struct parse_ctx x = {out, max, err, errlen};
    return for_each_item(s, voter_item, &x);
}

const char *sl_conf_security_protocol(const struct sl_conf *c, const char *listener_name)
{
    static const char *const protos[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    size_t nlen = strlen(listener_name);
    const char *p = c->listener_security_protocol_map;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        size_t n = strcspn(p, ",");
        const char *colon = memchr(p, ':', n);
        if (colon && (size_t)(colon - p) == nlen && strncasecmp(p, listener_name, nlen) == 0) {
            const char *proto = colon + 1;
            size_t plen = (size_t)(p + n - proto);
            while (plen && isspace((unsigned char)proto[plen - 1]))
                plen--;
            for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
                if (strlen(protos[i]) == plen && strncasecmp(proto, protos[i], plen) == 0)
                    return protos[i];
            return NULL;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
        if (strcasecmp(listener_name, protos[i]) == 0)
            return protos[i];
    return NULL;
}

bool sl_conf_list_has(const char *list, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        size_t len = n;
        while (len && isspace((unsigned char)*s)) {
            s++;
            len--;
        }
        while (len && isspace((unsigned char)s[len - 1]))
            len--;
        if (len == nlen && strncasecmp(s, name, len) == 0)
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

bool sl_conf_has_role(const struct sl_conf *c, const char *role)
{
    return sl_conf_list_has(c->process_roles, role);
}
