/* fuzz_meta_record.c - libFuzzer target: the metadata log's record decoder
 * and the image builder it feeds. A stream of framed KRaft metadata records
 * (each prefixed by a one-byte length) is decoded and applied in order; the
 * image must stay consistent whatever the records say. */
#include "base/diag.h"
#include "base/arena.h"
#include "meta/apply.h"
#include "meta/image.h"
#include "proto/gen/meta_records.h"
#include "proto/kp.h"

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
    struct sl_image_builder *b = sl_image_builder_new(NULL);
    if (!b)
        return 0;
    void *storage = malloc(SL_META_RECORD_STORAGE);
    size_t pos = 0;
    int64_t offset = 0;
    while (storage && pos < size) {
        size_t n = data[pos++];
        if (n > size - pos)
            n = size - pos;
        uint8_t *copy = malloc(n ? n : 1); /* exact bounds for ASan */
        memcpy(copy, data + pos, n);
        struct sl_arena arena;
        sl_arena_init(&arena, 1 << 20);
        struct sl_kp_reader r = {copy, copy + n, &arena, NULL};
        int16_t type, version;
        if (sl_meta_record_decode(&r, &type, &version, storage) == SL_OK)
            (void)sl_meta_apply(b, type, version, storage, offset++);
        sl_arena_fini(&arena);
        free(copy);
        pos += n;
    }
    free(storage);
    struct sl_image *img = sl_image_builder_finish(b, offset);
    if (img) {
        /* Both indexes must hold the same topics, each findable. */
        for (int32_t i = 0; i < img->topics_n; i++) {
            const struct sl_image_topic *t = img->by_name[i];
            if (sl_image_topic_by_id(img, &t->id) != t ||
                sl_image_topic_by_name(img, sl_slice_cstr(t->name)) != t)
                abort();
        }
        sl_image_release(img);
    }
    return 0;
}
