/* fuzz_request.c - libFuzzer target for the generated request codec.
 * Input: int16 api key, int16 version (both folded into a valid pair), then
 * the request header and body exactly as they follow the size prefix on the
 * wire. Whatever decodes must re-encode, decode again and re-encode to the
 * same bytes; the decoder must never read past the input or allocate past
 * the arena cap. The odd bit of the version also decodes the bytes as a
 * response, which the inter-broker client and tools parse. */
#include "base/diag.h"
#include "base/arena.h"
#include "base/obuf.h"
#include "proto/gen/all.h"
#include "proto/kp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CAP (1u << 20)

static uint8_t *flat(struct sl_obuf *b)
{
    uint8_t *p = malloc(b->total_len + 1);
    if (!p || sl_obuf_flatten(b, p) != 0)
        abort();
    return p;
}

/* decode(in) -> encode -> decode -> encode: the two encodings are equal. */
static void check_roundtrip(int (*dec)(struct sl_kp_reader *, int16_t, void *),
                            int (*enc)(struct sl_obuf *, int16_t, const void *), size_t size,
                            int16_t v, const void *m1)
{
    struct sl_obuf b1, b2;
    sl_obuf_init(&b1);
    sl_obuf_init(&b2);
    if (enc(&b1, v, m1) != 0)
        abort();
    uint8_t *p1 = flat(&b1);
    struct sl_arena a;
    sl_arena_init(&a, 0);
    void *m2 = calloc(1, size);
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, p1, b1.total_len, &a);
    if (dec(&r, v, m2) != SL_OK || r.p != r.end)
        abort();
    if (enc(&b2, v, m2) != 0)
        abort();
    uint8_t *p2 = flat(&b2);
    if (b1.total_len != b2.total_len || memcmp(p1, p2, b1.total_len) != 0)
        abort();
    free(p1);
    free(p2);
    free(m2);
    sl_arena_fini(&a);
    sl_obuf_fini(&b1);
    sl_obuf_fini(&b2);
}

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
    if (size < 4)
        return 0;
    int16_t key = (int16_t)(((data[0] << 8) | data[1]) % (SL_API_MAX + 1));
    const struct sl_api_info *api = sl_api_get(key);
    if (!api)
        return 0;
    unsigned raw_v = (unsigned)((data[2] << 8) | data[3]);
    int16_t v = (int16_t)(api->min_version + (raw_v >> 1) % (api->max_version - api->min_version + 1));
    bool as_response = raw_v & 1;

    /* Copy so reads past the input are caught exactly. */
    size -= 4;
    uint8_t *p = malloc(size ? size : 1);
    memcpy(p, data + 4, size);

    struct sl_arena a;
    sl_arena_init(&a, ARENA_CAP);
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, p, size, &a);
    void *m = calloc(1, as_response ? api->response_size : api->request_size);
    if (!as_response) {
        struct sl_RequestHeader h;
        int hv = sl_api_request_header_version(key, v);
        if (sl_RequestHeader_decode(&r, (int16_t)hv, &h) == SL_OK &&
            api->decode_request(&r, v, m) == SL_OK)
            check_roundtrip(api->decode_request, api->encode_request, api->request_size, v, m);
    } else {
        struct sl_ResponseHeader h;
        int hv = sl_api_response_header_version(key, v);
        if (sl_ResponseHeader_decode(&r, (int16_t)hv, &h) == SL_OK &&
            api->decode_response(&r, v, m) == SL_OK)
            check_roundtrip(api->decode_response, api->encode_response, api->response_size, v, m);
    }
    if (a.used_bytes > ARENA_CAP)
        abort();
    free(m);
    sl_arena_fini(&a);
    free(p);
    return 0;
}
