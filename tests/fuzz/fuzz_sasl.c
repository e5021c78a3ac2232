/* fuzz_sasl.c - libFuzzer target: the SASL input parsers fed arbitrary
 * bytes. The first byte picks one: SCRAM client-first and client-final
 * parsers, a whole server exchange (client-first, then client-final, as
 * the broker runs it), the PLAIN token, the JAAS configuration parser (with
 * a PLAIN check against what it parsed), base64, saslname decoding and the
 * --add-scram argument. Any crash or sanitizer report is a bug; refusals
 * are expected. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "security/sasl_plain.h"
#include "security/scram.h"
#include "security/scram_admin.h"

static bool lookup(void *arg, const char *user, int mech, struct sl_scram_cred *out)
{
    (void)arg;
    /* "user" has a (cheap) credential for both mechanisms; others are unknown */
    if (strcmp(user, "user") != 0)
        return false;
    return sl_scram_cred_make(mech, (const uint8_t *)"pencil", 6, (const uint8_t *)"salt", 4, 1, out) == 0;
}

/* Nothing here should log, but keep any diagnostics off the disk and stderr,
 * as every fuzz target does. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sl_diag_set_level(SL_DIAG_OFF);
    return 0;
}

static const uint8_t SECRET[32] = "fuzz-secret-fuzz-secret-fuzz-sec";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t which = data[0] % 8;
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    const char *why;
    switch (which) {
    case 0: {
        struct sl_scram_client_first cf;
        (void)sl_scram_parse_client_first((const char *)in, n, &cf, &why);
        break;
    }
    case 1: {
        struct sl_scram_client_final cf;
        (void)sl_scram_parse_client_final((const char *)in, n, &cf, &why);
        break;
    }
    case 2: { /* exchange: client-first up to the first 0xff byte, client-final after it */
        const uint8_t *sep = memchr(in, 0xff, n);
        size_t first_len = sep ? (size_t)(sep - in) : n;
        struct sl_scram_server s;
        sl_scram_server_init(&s, (n & 1) ? SL_SCRAM_SHA_256 : SL_SCRAM_SHA_512);
        uint8_t *out = NULL;
        size_t out_len = 0;
        if (sl_scram_server_step(&s, in, first_len, lookup, NULL, SECRET, sizeof(SECRET), &out, &out_len) == 0 &&
            sep) {
            free(out);
            out = NULL;
            (void)sl_scram_server_step(&s, sep + 1, n - first_len - 1, lookup, NULL, SECRET, sizeof(SECRET), &out,
                                       &out_len);
        }
        free(out);
        sl_scram_server_fini(&s);
        break;
    }
    case 3: {
        struct sl_slice z, u, p;
        (void)sl_plain_parse(in, n, &z, &u, &p, &why);
        break;
    }
    case 4: {
        struct sl_jaas j;
        char err[256];
        if (sl_jaas_parse((const char *)in, n, &j, err, sizeof(err)) == 0) {
            for (int i = 0; i < j.n; i++)
                if (strncmp(j.opts[i].key, "user_", 5) == 0)
                    (void)sl_plain_check(&j, sl_slice_cstr(j.opts[i].key + 5), sl_slice_cstr(j.opts[i].value));
            (void)sl_jaas_option(&j, "user_admin");
            sl_jaas_fini(&j);
        }
        break;
    }
    case 5: {
        uint8_t out[256];
        int k = sl_base64_decode((const char *)in, n, out, sizeof(out));
        if (k >= 0) {
            char *enc = malloc(((size_t)k + 2) / 3 * 4 + 1);
            if (enc) {
                sl_base64_encode(out, (size_t)k, enc);
                free(enc);
            }
        }
        break;
    }
    case 6: {
        char out[64];
        (void)sl_scram_saslname_decode((const char *)in, n, out, sizeof(out));
        break;
    }
    case 7: {
        if (n > 4096)
            break;
        char *s = malloc(n + 1);
        if (!s)
            break;
        memcpy(s, in, n);
        s[n] = 0;
        /* cap the PBKDF2 cost the input can ask for: iterations stay <= 16384 by the parser */
        struct sl_scram_boot bt;
        char err[256];
        (void)sl_scram_boot_parse(s, &bt, err, sizeof(err));
        free(s);
        break;
    }
    }
    return 0;
}
