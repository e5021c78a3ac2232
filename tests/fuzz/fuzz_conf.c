/* fuzz_conf.c - libFuzzer target: the server.properties parser and every
 * key's value checks, fed arbitrary text. Any crash or sanitizer report is
 * a bug; errors are expected. */
#include "base/diag.h"
#include "conf/conf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The code under test logs what it rejects; millions of inputs would fill the
 * disk with it, and libFuzzer reports on stderr too. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sl_diag_set_level(SL_DIAG_OFF);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sl_conf c;
    char err[512];
    sl_conf_defaults(&c);
    if (sl_conf_load_buffer(&c, "fuzz.properties", (const char *)data, size, err, sizeof(err)) == 0)
        (void)sl_conf_validate(&c, err, sizeof(err));
    struct sl_conf_listener ls[8];
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    (void)sl_conf_parse_listeners(s, ls, 8, err, sizeof(err));
    struct sl_conf_voter vs[8];
    (void)sl_conf_parse_voters(s, vs, 8, err, sizeof(err));
    free(s);
    return 0;
}
