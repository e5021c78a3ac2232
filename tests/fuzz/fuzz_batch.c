/* fuzz_batch.c - libFuzzer target: record batch validation (with a small
 * decompression cap), iteration of whatever validates or not, header walks.
 * Any crash, sanitizer report or cap overrun is a bug. */
#include "base/diag.h"
#include "record/batch.h"
#include "record/compress.h"

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
    /* Copy so reads past the input are caught exactly. */
    uint8_t *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    struct sl_batch_opts o = {.decompress_cap_bytes = 1 << 20, .allow_control = size & 1};
    struct sl_batch_hdr h;
    (void)sl_batch_validate(p, size, &o, &h);
    o.skip_records = true;
    (void)sl_batch_validate(p, size, &o, &h);
    (void)sl_batch_check_single(p, size);

    /* Iterate even batches that fail the CRC: the iterator must be safe on
     * anything (readers of the log trust the CRC, but not blindly). */
    struct sl_batch_iter it;
    if (sl_batch_iter_init(&it, p, size, 1 << 20) == 0) {
        struct sl_record r;
        while (sl_batch_iter_next(&it, &r) == 1) {
            const uint8_t *hp = r.headers.p;
            struct sl_record_header hh;
            while (hp && sl_record_header_next(&hp, r.headers.p + r.headers.len, &hh) == 1)
                ;
        }
    }
    sl_batch_iter_fini(&it);

    /* The raw decoders, codec from the first byte. */
    if (size > 1) {
        uint8_t out[4096];
        size_t out_len;
        (void)sl_compress_decode(1 + data[0] % 4, p + 1, size - 1, out, sizeof(out), &out_len);
    }
    free(p);
    return 0;
}
