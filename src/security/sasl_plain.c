/*
 * sasl_plain.c - the JAAS configuration parser and SASL PLAIN token checks
 * (sasl_plain.h). Input is untrusted operator or client text: every read is
 * bounded by len, and errors never echo option values (passwords).
 */
#include "security/sasl_plain.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

enum tok_kind { TOK_END, TOK_WORD, TOK_QUOTED, TOK_EQ, TOK_SEMI, TOK_BAD };

struct lexer {
    const char *p, *end;
    const char *start; /* of the text, for positions */
};

struct tok {
    enum tok_kind kind;
    char *text;   /* malloc'd for WORD and QUOTED */
    size_t pos;   /* offset where it began */
};

/* StreamTokenizer's word characters as Kafka sets them up: letters,
 * digits, '.', '-', '_', '$' and bytes from 160 up. */
static bool word_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '-' || c == '_' || c == '$' || c >= 160;
}

static void skip_space_and_comments(struct lexer *lx)
{
    for (;;) {
        while (lx->p < lx->end && (unsigned char)*lx->p <= ' ')
            lx->p++;
        if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '/') {
            while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r')
                lx->p++;
            continue;
        }
        if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '*') {
            const char *q = lx->p + 2;
            while (q + 1 < lx->end && !(q[0] == '*' && q[1] == '/'))
                q++;
            lx->p = q + 1 < lx->end ? q + 2 : lx->end; /* an unclosed comment runs to the end */
            continue;
        }
        return;
    }
}

static int next_tok(struct lexer *lx, struct tok *t)
{
    skip_space_and_comments(lx);
    t->text = NULL;
    t->pos = (size_t)(lx->p - lx->start);
    if (lx->p >= lx->end) {
        t->kind = TOK_END;
        return 0;
    }
    unsigned char c = (unsigned char)*lx->p;
    if (c == '=' || c == ';') {
        t->kind = c == '=' ? TOK_EQ : TOK_SEMI;
        lx->p++;
        return 0;
    }
    if (word_char(c)) {
        const char *s = lx->p;
        while (lx->p < lx->end && word_char((unsigned char)*lx->p))
            lx->p++;
        size_t n = (size_t)(lx->p - s);
        if (!(t->text = malloc(n + 1)))
            return -ENOMEM;
        memcpy(t->text, s, n);
        t->text[n] = 0;
        t->kind = TOK_WORD;
        return 0;
    }
    if (c == '"' || c == '\'') {
        char q = (char)c;
        lx->p++;
        /* the value is at most as long as the rest of the text */
        if (!(t->text = malloc((size_t)(lx->end - lx->p) + 1)))
            return -ENOMEM;
        size_t o = 0;
        for (;;) {
            if (lx->p >= lx->end || *lx->p == '\n' || *lx->p == '\r') {
                free(t->text);
                t->text = NULL;
                t->kind = TOK_BAD; /* unterminated, as StreamTokenizer ends a quote at a line end */
                return 0;
            }
            char ch = *lx->p++;
            if (ch == q)
                break;
            if (ch == '\\' && lx->p < lx->end) {
                char e = *lx->p++;
                switch (e) {
                case 'n': ch = '\n'; break;
                case 't': ch = '\t'; break;
                case 'r': ch = '\r'; break;
                case 'b': ch = '\b'; break;
                case 'f': ch = '\f'; break;
                case 'a': ch = '\a'; break;
                case 'v': ch = '\v'; break;
                default:
                    if (e >= '0' && e <= '7') { /* up to three octal digits, value < 256 */
                        int v = e - '0';
                        int maxd = e <= '3' ? 2 : 1;
                        for (int k = 0; k < maxd && lx->p < lx->end && *lx->p >= '0' && *lx->p <= '7'; k++)
                            v = v * 8 + (*lx->p++ - '0');
                        ch = (char)v;
                    } else {
                        ch = e;
                    }
                }
            }
            t->text[o++] = ch;
        }
        t->text[o] = 0;
        t->kind = TOK_QUOTED;
        return 0;
    }
    t->kind = TOK_BAD;
    return 0;
}

void sl_jaas_fini(struct sl_jaas *j)
{
    for (int i = 0; i < j->n; i++) {
        if (j->opts[i].value)
            OPENSSL_cleanse(j->opts[i].value, strlen(j->opts[i].value));
        free(j->opts[i].key);
        free(j->opts[i].value);
    }
    free(j->opts);
    j->opts = NULL;
    j->n = 0;
}

int sl_jaas_parse(const char *text, size_t len, struct sl_jaas *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    struct lexer lx = {text, text + len, text};
    struct tok t = {0}, v = {0};
    int cap = 0, rc = -EINVAL;
    const char *why = NULL;

    if ((rc = next_tok(&lx, &t)) < 0)
        goto fail;
    rc = -EINVAL;
    if (t.kind != TOK_WORD) {
        why = t.kind == TOK_END ? "no login module" : "expected a login module class name";
        goto fail;
    }
    if (strlen(t.text) >= sizeof(out->module)) {
        why = "login module class name too long";
        goto fail;
    }
    snprintf(out->module, sizeof(out->module), "%s", t.text);
    free(t.text);
    t.text = NULL;
    if ((rc = next_tok(&lx, &t)) < 0)
        goto fail;
    rc = -EINVAL;
    static const char *const flags[] = {"required", "requisite", "sufficient", "optional"};
    bool flag_ok = false;
    for (size_t i = 0; t.kind == TOK_WORD && i < 4; i++)
        if (strcasecmp(t.text, flags[i]) == 0) {
            snprintf(out->flag, sizeof(out->flag), "%s", flags[i]);
            flag_ok = true;
        }
    if (!flag_ok) {
        why = "expected a control flag (required, requisite, sufficient or optional)";
        goto fail;
    }
    free(t.text);
    t.text = NULL;
    for (;;) {
        if ((rc = next_tok(&lx, &t)) < 0)
            goto fail;
        rc = -EINVAL;
        if (t.kind == TOK_SEMI)
            break;
        if (t.kind != TOK_WORD) {
            why = t.kind == TOK_END ? "missing ';' at the end of the login module" : "expected an option name";
            goto fail;
        }
        struct tok eq;
        if ((rc = next_tok(&lx, &eq)) < 0)
            goto fail;
        rc = -EINVAL;
        if (eq.kind != TOK_EQ) {
            free(eq.text);
            why = "expected '=' after an option name";
            goto fail;
        }
        if ((rc = next_tok(&lx, &v)) < 0)
            goto fail;
        rc = -EINVAL;
        if (v.kind != TOK_WORD && v.kind != TOK_QUOTED) {
            why = v.kind == TOK_BAD ? "bad option value (an unterminated quote?)" : "expected an option value";
            goto fail;
        }
        if (out->n == cap) {
            int ncap = cap ? cap * 2 : 8;
            struct sl_jaas_option *o = realloc(out->opts, (size_t)ncap * sizeof(*o));
            if (!o) {
                rc = -ENOMEM;
                goto fail;
            }
            out->opts = o;
            cap = ncap;
        }
        out->opts[out->n].key = t.text;
        out->opts[out->n].value = v.text;
        out->n++;
        t.text = v.text = NULL;
    }
    if ((rc = next_tok(&lx, &t)) < 0)
        goto fail;
    rc = -EINVAL;
    if (t.kind != TOK_END) {
        why = "more than one login module (Kafka allows exactly one per sasl.jaas.config)";
        goto fail;
    }
    return 0;
fail:
    if (rc == -EINVAL)
        snprintf(err, errlen, "invalid JAAS configuration at character %zu: %s", t.pos, why ? why : "syntax error");
    else
        snprintf(err, errlen, "out of memory parsing a JAAS configuration");
    free(t.text);
    free(v.text);
    sl_jaas_fini(out);
    return rc;
}

const char *sl_jaas_option(const struct sl_jaas *j, const char *key)
{
    for (int i = j->n - 1; i >= 0; i--) /* the last one wins, as in a Java map */
        if (strcmp(j->opts[i].key, key) == 0)
            return j->opts[i].value;
    return NULL;
}

int sl_plain_parse(const uint8_t *in, size_t len, struct sl_slice *authzid, struct sl_slice *user,
                   struct sl_slice *password, const char **why)
{
    *why = "Invalid SASL/PLAIN response: expected 3 tokens";
    const uint8_t *z1 = in ? memchr(in, 0, len) : NULL;
    if (!z1)
        return -EINVAL;
    const uint8_t *z2 = memchr(z1 + 1, 0, len - (size_t)(z1 + 1 - in));
    if (!z2 || memchr(z2 + 1, 0, len - (size_t)(z2 + 1 - in)))
        return -EINVAL;
    *authzid = (struct sl_slice){in, (size_t)(z1 - in)};
    *user = (struct sl_slice){z1 + 1, (size_t)(z2 - z1 - 1)};
    *password = (struct sl_slice){z2 + 1, len - (size_t)(z2 + 1 - in)};
    if (user->len == 0) {
        *why = "Authentication failed: username not specified";
        return -EINVAL;
    }
    if (password->len == 0) {
        *why = "Authentication failed: password not specified";
        return -EINVAL;
    }
    if (authzid->len != 0 && !sl_slice_eq(*authzid, *user)) {
        *why = "Authentication failed: Client requested an authorization id that is different from username";
        return -EINVAL;
    }
    *why = NULL;
    return 0;
}

bool sl_plain_check(const struct sl_jaas *j, struct sl_slice user, struct sl_slice password)
{
    const char *expected = NULL;
    if (j && strcmp(j->module, SL_PLAIN_LOGIN_MODULE) == 0 && user.len < 512) {
        char key[520];
        snprintf(key, sizeof(key), "user_%.*s", SL_SLICE_FMT(user));
        if (strlen(key) == user.len + 5) /* no NUL inside the user name */
            expected = sl_jaas_option(j, key);
    }
    uint8_t a[32], b[32];
    unsigned int n;
    const char *e = expected ? expected : "\x01unknown user";
    if (EVP_Digest(e, strlen(e), a, &n, EVP_sha256(), NULL) != 1 ||
        EVP_Digest(password.p ? password.p : (const uint8_t *)"", password.len, b, &n, EVP_sha256(), NULL) != 1)
        return false;
    return CRYPTO_memcmp(a, b, sizeof(a)) == 0 && expected != NULL;
}
