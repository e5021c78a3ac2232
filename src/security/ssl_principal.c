/*
 * ssl_principal.c - ssl.principal.mapping.rules (ssl_principal.h): parsing
 * Kafka's DEFAULT / RULE:pattern/replacement/[LU] list and applying it to a
 * certificate subject. A rule applies only when its pattern matches the whole
 * subject (Java's Matcher.matches()); the replacement then replaces that
 * match, with $n for groups.
 */
#include "security/ssl_principal.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_MAX 32
#define RULE_GROUPS 10 /* $0..$9 */

struct rule {
    bool is_default;   /* DEFAULT: the subject unchanged */
    regex_t re;        /* compiled pattern (not DEFAULT) */
    char *replacement; /* with $n references and \x escapes, as written */
    char fold;         /* 'L', 'U' or 0 */
};

struct sl_ssl_rules {
    int n;                      /* rules[] used */
    struct rule rules[RULES_MAX];
};

/* Copies s up to an unescaped '/' into a new string; *end is set past the
 * '/'. regex: drop the backslash of "\/" and "\," only (other escapes mean
 * something to regcomp); otherwise keep every escape for expand().
 * NULL when there is no closing '/' or out of memory. */
static char *read_part(const char *s, const char **end, bool regex)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (; *s && *s != '/'; s++) {
        if (*s == '\\' && s[1]) {
            if (!regex || (s[1] != '/' && s[1] != ','))
                *o++ = '\\';
            *o++ = *++s;
            continue;
        }
        *o++ = *s;
    }
    if (*s != '/') {
        free(out);
        return NULL;
    }
    *o = '\0';
    *end = s + 1;
    return out;
}

/* Java's lazy quantifiers have no POSIX form: read *? +? ?? as * + ?. */
static void drop_lazy(char *re)
{
    char *w = re;
    for (char *r = re; *r; r++) {
        if (*r == '\\' && r[1]) {
            *w++ = *r++;
            *w++ = *r;
            continue;
        }
        if (*r == '?' && r > re && (r[-1] == '*' || r[-1] == '+' || r[-1] == '?' || r[-1] == '}') &&
            !(r - 1 > re && r[-2] == '\\'))
            continue;
        *w++ = *r;
    }
    *w = '\0';
}

int sl_ssl_rules_parse(const char *spec, struct sl_ssl_rules **out, char *err, size_t errlen)
{
    struct sl_ssl_rules *rs = calloc(1, sizeof(*rs));
    const char *p = spec;
    *out = NULL;
    if (!rs)
        return -ENOMEM;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (rs->n == RULES_MAX) {
            snprintf(err, errlen, "ssl.principal.mapping.rules: more than %d rules", RULES_MAX);
            goto fail;
        }
        struct rule *r = &rs->rules[rs->n];
        const char *start = p;
        if (strncmp(p, "DEFAULT", 7) == 0) {
            r->is_default = true;
            p += 7;
        } else if (strncmp(p, "RULE:", 5) == 0) {
            char *pat = read_part(p + 5, &p, true);
            r->replacement = pat ? read_part(p, &p, false) : NULL;
            if (!pat || !r->replacement) {
                free(pat);
                snprintf(err, errlen,
                         "ssl.principal.mapping.rules: rule '%.80s' is not RULE:pattern/replacement/[LU]",
                         start);
                goto fail;
            }
            if (*p == 'L' || *p == 'U')
                r->fold = *p++;
            drop_lazy(pat);
            int rc = r->replacement ? regcomp(&r->re, pat, REG_EXTENDED) : REG_ESPACE;
            if (rc != 0) {
                char why[128];
                regerror(rc, &r->re, why, sizeof(why));
                snprintf(err, errlen, "ssl.principal.mapping.rules: bad pattern '%.80s': %s", pat,
                         why);
                free(pat);
                free(r->replacement);
                r->replacement = NULL;
                goto fail;
            }
            free(pat);
        } else {
            snprintf(err, errlen,
                     "ssl.principal.mapping.rules: '%.80s' is neither DEFAULT nor RULE:pattern/replacement/[LU]",
                     start);
            goto fail;
        }
        rs->n++;
        /* anything up to the next ',' is ignored, as Kafka does */
        while (*p && *p != ',')
            p++;
        if (*p == ',')
            p++;
    }
    if (rs->n == 0) {
        snprintf(err, errlen, "ssl.principal.mapping.rules is empty: use DEFAULT");
        goto fail;
    }
    *out = rs;
    return 0;
fail:
    sl_ssl_rules_free(rs);
    return -EINVAL;
}

/* Writes replacement with $n expanded from m over dn. false if out is too small. */
static bool expand(const char *rep, const char *dn, const regmatch_t *m, char *out, size_t outlen)
{
    size_t o = 0;
    for (const char *r = rep; *r; r++) {
        const char *src = r;
        size_t len = 1;
        if (*r == '\\' && r[1]) {
            src = ++r;
        } else if (*r == '$' && isdigit((unsigned char)r[1])) {
            int g = *++r - '0';
            if (g >= RULE_GROUPS || m[g].rm_so < 0) {
                len = 0;
            } else {
                src = dn + m[g].rm_so;
                len = (size_t)(m[g].rm_eo - m[g].rm_so);
            }
        }
        if (o + len >= outlen)
            return false;
        memcpy(out + o, src, len);
        o += len;
    }
    out[o] = '\0';
    return true;
}

int sl_ssl_rules_apply(const struct sl_ssl_rules *rules, const char *dn, char *out, size_t outlen)
{
    for (int i = 0; i < rules->n; i++) {
        const struct rule *r = &rules->rules[i];
        if (r->is_default) {
            if (strlen(dn) >= outlen)
                return -ENOSPC;
            strcpy(out, dn);
            return 0;
        }
        regmatch_t m[RULE_GROUPS];
        if (regexec(&r->re, dn, RULE_GROUPS, m, 0) != 0 || m[0].rm_so != 0 ||
            (size_t)m[0].rm_eo != strlen(dn))
            continue; /* only a match of the whole subject applies */
        if (!expand(r->replacement, dn, m, out, outlen))
            return -ENOSPC;
        for (char *c = out; *c; c++)
            *c = r->fold == 'L' ? (char)tolower((unsigned char)*c)
                 : r->fold == 'U' ? (char)toupper((unsigned char)*c)
                                  : *c;
        return 0;
    }
    return -ENOENT;
}

void sl_ssl_rules_free(struct sl_ssl_rules *rules)
{
    if (!rules)
        return;
    for (int i = 0; i < rules->n; i++) {
        if (!rules->rules[i].is_default) {
            regfree(&rules->rules[i].re);
            free(rules->rules[i].replacement);
        }
    }
    free(rules);
}
