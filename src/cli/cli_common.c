/*
 * cli_common.c - the flag parser, --help, usage/failure sentences and output
 * helpers shared by every `sluice` command.
 *
 * Flags are Kafka's long options (--bootstrap-server, --topic ...), as the shell
 * tools take them, plus "--name=value". Every command also accepts the common
 * flags below; an unknown flag or a stray word is a usage error (exit 2).
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const struct sl_cli_flag common_flags[] = {
    {"bootstrap-server", SL_CLI_ARG, "HOST:PORT[,...]",
     "brokers to connect to (default $SLUICE_BOOTSTRAP, then " SL_CLI_DEFAULT_BOOTSTRAP ")"},
    {"command-config", SL_CLI_ARG, "FILE",
     "client properties (security.protocol, sasl.*, ssl.*) as Kafka's tools read them"},
    {"producer.config", SL_CLI_ARG, "FILE", NULL, "command-config"},
    {"consumer.config", SL_CLI_ARG, "FILE", NULL, "command-config"},
    {"admin.config", SL_CLI_ARG, "FILE", NULL, "command-config"},
    {"timeout-ms", SL_CLI_ARG, "MS",
     "give up after this long without an answer (default 15000)"},
    {"output", SL_CLI_ARG, "text|json", "output format (default text)"},
    {"help", SL_CLI_FLAG, NULL, "show this help"},
    {NULL},
};

static const struct sl_cli_flag *find_in(const struct sl_cli_flag *t, const char *name, size_t len)
{
    for (; t && t->name; t++) {
        if (strlen(t->name) == len && memcmp(t->name, name, len) == 0) {
            return t;
        }
    }
    return NULL;
}

static const struct sl_cli_flag *find_flag(const struct sl_cli_cmd *cmd, const char *name, size_t len)
{
    const struct sl_cli_flag *f = find_in(cmd->flags, name, len);
    if (!f) {
        f = find_in(common_flags, name, len);
    }
    if (f && f->alias_of) {
        return find_flag(cmd, f->alias_of, strlen(f->alias_of));
    }
    return f;
}

static void push(struct sl_cli_args *args, const struct sl_cli_flag *f, const char *value)
{
    args->v = realloc(args->v, sizeof(*args->v) * (size_t)(args->n + 1));
    if (!args->v) {
        abort();
    }
    args->v[args->n].flag = f;
    args->v[args->n].value = value;
    args->n++;
}

int sl_cli_parse(const struct sl_cli_cmd *cmd, int argc, char **argv, struct sl_cli_args *args)
{
    args->cmd = cmd;
    args->v = NULL;
    args->n = 0;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (strncmp(w, "--", 2) != 0 || w[2] == '\0') {
            if (strcmp(w, "-h") == 0) {
                sl_cli_help(cmd, stdout);
                return SL_CLI_OK;
            }
            return sl_cli_usage(args, "unexpected argument '%s'", w);
        }
        const char *name = w + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct sl_cli_flag *f = find_flag(cmd, name, len);
        if (!f) {
            return sl_cli_usage(args, "unknown option '--%.*s'", (int)len, name);
        }
        if (f->kind == SL_CLI_FLAG) {
            if (eq) {
                return sl_cli_usage(args, "option '--%s' takes no value", f->name);
            }
            if (strcmp(f->name, "help") == 0) {
                sl_cli_help(cmd, stdout);
                return SL_CLI_OK;
            }
            push(args, f, NULL);
            continue;
        }
        if (eq) {
            push(args, f, eq + 1);
            continue;
        }
        if (i + 1 >= argc) {
            return sl_cli_usage(args, "option '--%s' needs a value (%s)", f->name, f->metavar);
        }
        push(args, f, argv[++i]);
        while (f->kind == SL_CLI_MULTI && i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
            push(args, f, argv[++i]);
        }
    }
    const char *out = sl_cli_str(args, "output");
    if (out && strcmp(out, "text") != 0 && strcmp(out, "json") != 0) {
        return sl_cli_usage(args, "--output must be text or json, not '%s'", out);
    }
    int64_t t;
    if (sl_cli_int(args, "timeout-ms", SL_CLI_DEFAULT_TIMEOUT_MS, 1, 86400000, &t) != 0) {
        return SL_CLI_USAGE;
    }
    return SL_CLI_CONTINUE;
}

void sl_cli_args_fini(struct sl_cli_args *args)
{
    free(args->v);
    args->v = NULL;
    args->n = 0;
}

static void help_flags(const struct sl_cli_flag *t, FILE *out)
{
    for (; t && t->name; t++) {
        if (t->alias_of || !t->help) {
            continue;
        }
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s%s", t->name, t->metavar ? " " : "",
                 t->metavar ? t->metavar : "", t->kind == SL_CLI_MULTI ? " ..." : "");
        if (strlen(left) > 28) {
            fprintf(out, "  %s\n  %-28s %s\n", left, "", t->help);
        } else {
            fprintf(out, "  %-28s %s\n", left, t->help);
        }
    }
}

void sl_cli_help(const struct sl_cli_cmd *cmd, FILE *out)
{
    fprintf(out, "sluice %s - %s\n\nUsage:\n", cmd->name, cmd->summary);
    const char *u = cmd->usage;
    while (u && *u) {
        const char *nl = strchr(u, '\n');
        size_t len = nl ? (size_t)(nl - u) : strlen(u);
        fprintf(out, "  sluice %.*s\n", (int)len, u);
        u += len + (nl ? 1 : 0);
    }
    if (cmd->flags && cmd->flags->name) {
        fprintf(out, "\nOptions:\n");
        help_flags(cmd->flags, out);
    }
    fprintf(out, "\nCommon options:\n");
    help_flags(common_flags, out);
    if (cmd->examples) {
        fprintf(out, "\nExamples:\n%s", cmd->examples);
    }
    fprintf(out, "\nExit status: 0 ok, 1 the operation failed, 2 usage error.\n");
}

bool sl_cli_has(const struct sl_cli_args *args, const char *name)
{
    for (int i = 0; i < args->n; i++) {
        if (strcmp(args->v[i].flag->name, name) == 0) {
            return true;
        }
    }
    return false;
}

const char *sl_cli_str(const struct sl_cli_args *args, const char *name)
{
    const char *last = NULL;
    for (int i = 0; i < args->n; i++) {
        if (strcmp(args->v[i].flag->name, name) == 0) {
            last = args->v[i].value;
        }
    }
    return last;
}

const char *sl_cli_next(const struct sl_cli_args *args, const char *name, int *pos)
{
    for (; *pos < args->n; (*pos)++) {
        if (strcmp(args->v[*pos].flag->name, name) == 0) {
            return args->v[(*pos)++].value;
        }
    }
    return NULL;
}

int sl_cli_int(const struct sl_cli_args *args, const char *name, int64_t def, int64_t min,
               int64_t max, int64_t *out)
{
    const char *s = sl_cli_str(args, name);
    *out = def;
    if (!s) {
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        return sl_cli_usage(args, "--%s must be an integer from %lld to %lld, not '%s'", name,
                            (long long)min, (long long)max, s);
    }
    *out = v;
    return 0;
}

int sl_cli_usage(const struct sl_cli_args *args, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sluice %s: ", args->cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'sluice %s --help' for usage.\n", args->cmd->name);
    return SL_CLI_USAGE;
}

int sl_cli_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return SL_CLI_FAIL;
}

bool sl_cli_json(const struct sl_cli_args *args)
{
    const char *o = sl_cli_str(args, "output");
    return o && strcmp(o, "json") == 0;
}

int sl_cli_timeout(const struct sl_cli_args *args)
{
    int64_t t;
    if (sl_cli_int(args, "timeout-ms", SL_CLI_DEFAULT_TIMEOUT_MS, 1, 86400000, &t) != 0) {
        return SL_CLI_DEFAULT_TIMEOUT_MS; /* validated by sl_cli_parse */
    }
    return (int)t;
}

bool sl_cli_kv(const char *word, char *key, size_t keysz, const char **val)
{
    const char *eq = strchr(word, '=');
    if (!eq || eq == word || (size_t)(eq - word) >= keysz) {
        return false;
    }
    memcpy(key, word, (size_t)(eq - word));
    key[eq - word] = '\0';
    *val = eq + 1;
    return true;
}

int sl_cli_match(const char *pattern, const char *name)
{
    if (strcmp(pattern, name) == 0) {
        return 1;
    }
    if (!strpbrk(pattern, "*?+[](){}|^$\\.")) {
        return 0;
    }
    char buf[1100];
    regex_t re;
    snprintf(buf, sizeof(buf), "^(%s)$", pattern);
    if (regcomp(&re, buf, REG_EXTENDED | REG_NOSUB) != 0) {
        return -1;
    }
    int rc = regexec(&re, name, 0, NULL, 0) == 0;
    regfree(&re);
    return rc;
}

void sl_cli_jstr(FILE *f, const char *s, long len)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    size_t n = len < 0 ? strlen(s) : (size_t)len;
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c == '\r') {
            fputs("\\r", f);
        } else if (c == '\t') {
            fputs("\\t", f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f); /* UTF-8 passes through; invalid bytes are the data's */
        }
    }
    fputc('"', f);
}

void sl_cli_write(FILE *f, const void *p, size_t len)
{
    if (len) {
        fwrite(p, 1, len, f);
    }
}

int64_t sl_cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_cli_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sl_cli_parse_time(const char *s)
{
    char *end;
    if (*s && strspn(s, "0123456789") == strlen(s)) {
        return strtoll(s, &end, 10);
    }
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) {
        return -1;
    }
    int64_t ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            if (digits < 3) {
                ms = ms * 10 + (*p - '0');
            }
            digits++;
            p++;
        }
        for (; digits < 3; digits++) {
            ms *= 10;
        }
    }
    int64_t off_s = 0;
    bool local = true;
    if (*p == 'Z') {
        local = false;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 && sscanf(p + 1, "%2d%2d", &hh, &mm) != 2) {
            return -1;
        }
        off_s = sign * (hh * 3600 + mm * 60);
        local = false;
        p += strlen(p);
    }
    if (*p) {
        return -1;
    }
    time_t t;
    if (local) {
        tm.tm_isdst = -1;
        t = mktime(&tm); /* Kafka's tools read a datetime without zone as local time */
    } else {
        t = timegm(&tm) - off_s;
    }
    return (int64_t)t * 1000 + ms;
}
