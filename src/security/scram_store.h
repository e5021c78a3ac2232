/*
 * scram_store.h - the SCRAM credentials of the metadata image: an immutable,
 * reference-counted set of (user, mechanism) -> credential, built by
 * applying UserScramCredentialRecord / RemoveUserScramCredentialRecord.
 * The image holds one pointer to it (struct sl_image.scram); a change makes
 * a new set and leaves the old one to the images that still hold it.
 *
 * Thread: a published set is read from any thread without locks; sets are
 * built on the metadata writer only.
 */
#ifndef SL_SECURITY_SCRAM_STORE_H
#define SL_SECURITY_SCRAM_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "security/scram.h"

struct sl_image;
struct sl_image_builder;

struct sl_scram_entry {
    char *user;                 /* malloc'd */
    struct sl_scram_cred cred;  /* cred.mech is the second sort key */
};

struct sl_scram_set {
    int refs;                   /* images holding it; atomic */
    int32_t n;
    struct sl_scram_entry *v;   /* sorted by user, then mechanism */
};

/* Reference counting (NULL is the empty set and is ignored). */
struct sl_scram_set *sl_scram_set_ref(struct sl_scram_set *set);
void sl_scram_set_unref(struct sl_scram_set *set);

/* The credential of user for mech in the image's set: true and *out filled. */
bool sl_scram_find(const struct sl_image *img, const char *user, int mech, struct sl_scram_cred *out);
/* Entries of user (first index and count), in mechanism order; 0 when none. */
int32_t sl_scram_user_entries(const struct sl_scram_set *set, const char *user, size_t user_len,
                              int32_t *first);

/* Metadata record appliers (meta/apply.c's table): rec is a struct
 * sl_UserScramCredentialRecord / sl_RemoveUserScramCredentialRecord.
 * 0, -EINVAL when the record contradicts the image (unknown mechanism,
 * removing what does not exist), -ENOMEM. */
int sl_scram_apply_upsert(struct sl_image_builder *b, const void *rec, int64_t offset);
int sl_scram_apply_remove(struct sl_image_builder *b, const void *rec, int64_t offset);

#endif
