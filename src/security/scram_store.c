/*
 * scram_store.c - the image's SCRAM credential set (scram_store.h): lookups
 * and the two metadata record appliers. Each change copies the set
 * (O(credentials)): credentials change rarely, lookups happen at every login.
 */
#include "security/scram_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "meta/image.h"
#include "proto/gen/meta_records.h"

struct sl_scram_set *sl_scram_set_ref(struct sl_scram_set *set)
{
    if (set)
        __atomic_add_fetch(&set->refs, 1, __ATOMIC_ACQ_REL);
    return set;
}

static void set_free(struct sl_scram_set *set)
{
    for (int32_t i = 0; i < set->n; i++) {
        free(set->v[i].user);
        OPENSSL_cleanse(&set->v[i].cred, sizeof(set->v[i].cred));
    }
    free(set->v);
    free(set);
}

void sl_scram_set_unref(struct sl_scram_set *set)
{
    if (set && __atomic_sub_fetch(&set->refs, 1, __ATOMIC_ACQ_REL) == 0)
        set_free(set);
}

/* Compares (user[0..len), mech) with an entry. */
static int cmp_key(const char *user, size_t len, int mech, const struct sl_scram_entry *e)
{
    size_t el = strlen(e->user);
    int c = memcmp(user, e->user, len < el ? len : el);
    if (c)
        return c;
    if (len != el)
        return len < el ? -1 : 1;
    return mech - e->cred.mech;
}

/* Index of the first entry >= (user, mech). */
static int32_t lower_bound(const struct sl_scram_set *set, const char *user, size_t len, int mech)
{
    int32_t lo = 0, hi = set ? set->n : 0;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (cmp_key(user, len, mech, &set->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool sl_scram_find(const struct sl_image *img, const char *user, int mech, struct sl_scram_cred *out)
{
    const struct sl_scram_set *set = img ? img->scram : NULL;
    if (!set)
        return false;
    size_t len = strlen(user);
    int32_t i = lower_bound(set, user, len, mech);
    if (i < set->n && cmp_key(user, len, mech, &set->v[i]) == 0) {
        *out = set->v[i].cred;
        return true;
    }
    return false;
}

int32_t sl_scram_user_entries(const struct sl_scram_set *set, const char *user, size_t user_len, int32_t *first)
{
    if (!set)
        return 0;
    int32_t i = lower_bound(set, user, user_len, 0), j = i;
    while (j < set->n && strlen(set->v[j].user) == user_len && memcmp(set->v[j].user, user, user_len) == 0)
        j++;
    *first = i;
    return j - i;
}

/* A copy of set with room for one more entry; NULL on -ENOMEM. */
static struct sl_scram_set *set_copy(const struct sl_scram_set *set)
{
    struct sl_scram_set *c = calloc(1, sizeof(*c));
    int32_t n = set ? set->n : 0;
    if (!c)
        return NULL;
    c->refs = 1;
    c->v = calloc((size_t)n + 1, sizeof(*c->v));
    if (!c->v) {
        free(c);
        return NULL;
    }
    for (int32_t i = 0; i < n; i++) {
        c->v[i].cred = set->v[i].cred;
        if (!(c->v[i].user = strdup(set->v[i].user))) {
            set_free(c);
            return NULL;
        }
        c->n = i + 1;
    }
    return c;
}

int sl_scram_apply_upsert(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_UserScramCredentialRecord *rec = r;
    size_t kl = sl_scram_key_len(rec->Mechanism);
    if (kl == 0 || rec->Name.len == 0 || rec->Name.len > SL_SCRAM_USER_MAX || memchr(rec->Name.p, 0, rec->Name.len) ||
        rec->Salt.len == 0 || rec->Salt.len > SL_SCRAM_SALT_MAX || rec->StoredKey.len != kl ||
        rec->ServerKey.len != kl || rec->Iterations < 1)
        return -EINVAL;
    const struct sl_scram_set *old = sl_image_builder_peek(b)->scram;
    struct sl_scram_set *set = set_copy(old);
    if (!set)
        return -ENOMEM;
    const char *user = (const char *)rec->Name.p;
    int32_t i = lower_bound(set, user, rec->Name.len, rec->Mechanism);
    bool replace = i < set->n && cmp_key(user, rec->Name.len, rec->Mechanism, &set->v[i]) == 0;
    if (!replace) {
        char *u = malloc(rec->Name.len + 1);
        if (!u) {
            set_free(set);
            return -ENOMEM;
        }
        memcpy(u, user, rec->Name.len);
        u[rec->Name.len] = 0;
        memmove(&set->v[i + 1], &set->v[i], (size_t)(set->n - i) * sizeof(set->v[0]));
        set->v[i].user = u;
        set->n++;
    }
    struct sl_scram_cred *c = &set->v[i].cred;
    memset(c, 0, sizeof(*c));
    c->mech = rec->Mechanism;
    c->iterations = rec->Iterations;
    c->salt_len = rec->Salt.len;
    memcpy(c->salt, rec->Salt.p, rec->Salt.len);
    memcpy(c->stored_key, rec->StoredKey.p, kl);
    memcpy(c->server_key, rec->ServerKey.p, kl);
    return sl_image_set_scram(b, set);
}

int sl_scram_apply_remove(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_RemoveUserScramCredentialRecord *rec = r;
    const struct sl_scram_set *old = sl_image_builder_peek(b)->scram;
    if (!old || !rec->Name.p)
        return -EINVAL;
    const char *user = (const char *)rec->Name.p;
    int32_t i = lower_bound(old, user, rec->Name.len, rec->Mechanism);
    if (i >= old->n || cmp_key(user, rec->Name.len, rec->Mechanism, &old->v[i]) != 0)
        return -EINVAL;
    struct sl_scram_set *set = set_copy(old);
    if (!set)
        return -ENOMEM;
    free(set->v[i].user);
    memmove(&set->v[i], &set->v[i + 1], (size_t)(set->n - i - 1) * sizeof(set->v[0]));
    set->n--;
    return sl_image_set_scram(b, set);
}
