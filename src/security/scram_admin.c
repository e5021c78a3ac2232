/*
 * scram_admin.c - AlterUserScramCredentials, DescribeUserScramCredentials
 * and the --add-scram start-up bootstrap (scram_admin.h). Error codes and
 * messages follow Kafka's ScramControlManager and its broker handler.
 */
#include "security/scram_admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "meta/controller.h"
#include "meta/image.h"
#include "proto/gen/errors.h"
#include "proto/gen/meta_records.h"
#include "security/scram_store.h"

#define REC_UPSERT 11 /* UserScramCredentialRecord */
#define REC_REMOVE 22 /* RemoveUserScramCredentialRecord */

/* --- AlterUserScramCredentials ----------------------------------------- */

/* One user of the request: its result and the records it asks for. */
struct user_result {
    struct sl_slice user;
    int16_t error;
    const char *message;
    int items;           /* deletions + upsertions naming this user */
};

static int find_user(struct user_result *v, int n, struct sl_slice user)
{
    for (int i = 0; i < n; i++)
        if (sl_slice_eq(v[i].user, user))
            return i;
    return -1;
}

static bool cred_exists(const struct sl_image *img, struct sl_slice user, int mech)
{
    int32_t first;
    int32_t n = sl_scram_user_entries(img->scram, (const char *)user.p, user.len, &first);
    for (int32_t i = 0; i < n; i++)
        if (img->scram->v[first + i].cred.mech == mech)
            return true;
    return false;
}

static void set_error(struct user_result *u, int16_t error, const char *message)
{
    if (u->error == 0) {
        u->error = error;
        u->message = message;
    }
}

void sl_scram_ctl_alter(struct sl_controller *ctl, const struct sl_AlterUserScramCredentialsRequest *req,
                        struct sl_AlterUserScramCredentialsResponse *resp, struct sl_arena *a)
{
    const struct sl_image *img = sl_controller_image(ctl);
    int32_t nd = req->Deletions_n > 0 ? req->Deletions_n : 0;
    int32_t nu = req->Upsertions_n > 0 ? req->Upsertions_n : 0;
    struct user_result *users = sl_arena_alloc(a, sizeof(*users) * (size_t)(nd + nu + 1));
    struct sl_meta_rec *recs = sl_arena_alloc(a, sizeof(*recs) * (size_t)(nd + nu + 1));
    struct sl_UserScramCredentialRecord *ups = sl_arena_alloc(a, sizeof(*ups) * (size_t)(nu + 1));
    struct sl_RemoveUserScramCredentialRecord *dels = sl_arena_alloc(a, sizeof(*dels) * (size_t)(nd + 1));
    struct sl_scram_cred *creds = sl_arena_alloc(a, sizeof(*creds) * (size_t)(nu + 1));
    resp->Results_n = 0;
    if (!users || !recs || !ups || !dels || !creds)
        return; /* the arena is capped by the request size: nothing sensible to answer */
    int n = 0;
    for (int32_t i = 0; i < nd + nu; i++) {
        struct sl_slice name = i < nd ? req->Deletions[i].Name : req->Upsertions[i - nd].Name;
        int k = find_user(users, n, name);
        if (k < 0) {
            k = n++;
            users[k] = (struct user_result){name, 0, NULL, 0};
        }
        users[k].items++;
    }
    for (int k = 0; k < n; k++)
        if (users[k].items > 1)
            set_error(&users[k], SL_KERR_DUPLICATE_RESOURCE,
                      "A user credential cannot be altered twice in the same request");
    for (int32_t i = 0; i < nd; i++) {
        const struct sl_AlterUserScramCredentialsRequest_ScramCredentialDeletion *d = &req->Deletions[i];
        struct user_result *u = &users[find_user(users, n, d->Name)];
        if (!d->Name.p || d->Name.len == 0)
            set_error(u, SL_KERR_UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
        else if (sl_scram_key_len(d->Mechanism) == 0)
            set_error(u, SL_KERR_UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
        else if (!cred_exists(img, d->Name, d->Mechanism))
            set_error(u, SL_KERR_RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist");
    }
    for (int32_t i = 0; i < nu; i++) {
        const struct sl_AlterUserScramCredentialsRequest_ScramCredentialUpsertion *up = &req->Upsertions[i];
        struct user_result *u = &users[find_user(users, n, up->Name)];
        if (!up->Name.p || up->Name.len == 0)
            set_error(u, SL_KERR_UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
        else if (up->Name.len > SL_SCRAM_USER_MAX || memchr(up->Name.p, 0, up->Name.len))
            set_error(u, SL_KERR_UNACCEPTABLE_CREDENTIAL, "Username is too long or contains a NUL byte");
        else if (sl_scram_key_len(up->Mechanism) == 0)
            set_error(u, SL_KERR_UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
        else if (up->Iterations < SL_SCRAM_MIN_ITERATIONS)
            set_error(u, SL_KERR_UNACCEPTABLE_CREDENTIAL, "Too few iterations");
        else if (up->Iterations > SL_SCRAM_MAX_ITERATIONS)
            set_error(u, SL_KERR_UNACCEPTABLE_CREDENTIAL, "Too many iterations");
        else if (up->Salt.len == 0 || up->Salt.len > SL_SCRAM_SALT_MAX)
            set_error(u, SL_KERR_UNACCEPTABLE_CREDENTIAL, "Salt must be 1 to 128 bytes");
        else if (up->SaltedPassword.len == 0)
            set_error(u, SL_KERR_UNACCEPTABLE_CREDENTIAL, "Salted password must not be empty");
    }
    /* Records for the users without error, in request order. */
    int nrec = 0;
    for (int32_t i = 0; i < nd; i++) {
        const struct sl_AlterUserScramCredentialsRequest_ScramCredentialDeletion *d = &req->Deletions[i];
        if (users[find_user(users, n, d->Name)].error)
            continue;
        sl_RemoveUserScramCredentialRecord_init(&dels[i]);
        dels[i].Name = d->Name;
        dels[i].Mechanism = d->Mechanism;
        recs[nrec++] = (struct sl_meta_rec){REC_REMOVE, 0, &dels[i]};
    }
    for (int32_t i = 0; i < nu; i++) {
        const struct sl_AlterUserScramCredentialsRequest_ScramCredentialUpsertion *up = &req->Upsertions[i];
        struct user_result *u = &users[find_user(users, n, up->Name)];
        if (u->error)
            continue;
        if (sl_scram_cred_from_salted(up->Mechanism, up->SaltedPassword.p, up->SaltedPassword.len, up->Salt.p,
                                      up->Salt.len, up->Iterations, &creds[i]) < 0) {
            set_error(u, SL_KERR_UNKNOWN_SERVER_ERROR, "Cannot derive the credential");
            continue;
        }
        size_t kl = sl_scram_key_len(up->Mechanism);
        sl_UserScramCredentialRecord_init(&ups[i]);
        ups[i].Name = up->Name;
        ups[i].Mechanism = up->Mechanism;
        ups[i].Salt = up->Salt;
        ups[i].StoredKey = (struct sl_slice){creds[i].stored_key, kl};
        ups[i].ServerKey = (struct sl_slice){creds[i].server_key, kl};
        ups[i].Iterations = up->Iterations;
        recs[nrec++] = (struct sl_meta_rec){REC_UPSERT, 0, &ups[i]};
    }
    int rc = sl_controller_write(ctl, recs, nrec);
    for (int32_t i = 0; i < nu; i++)
        OPENSSL_cleanse(&creds[i], sizeof(creds[i]));
    resp->Results = sl_arena_alloc(a, sizeof(*resp->Results) * (size_t)(n + 1));
    if (!resp->Results)
        return;
    resp->Results_n = n;
    for (int k = 0; k < n; k++) {
        struct sl_AlterUserScramCredentialsResponse_AlterUserScramCredentialsResult *r = &resp->Results[k];
        sl_AlterUserScramCredentialsResponse_AlterUserScramCredentialsResult_init(r);
        r->User = users[k].user;
        if (users[k].error == 0 && rc < 0)
            set_error(&users[k], SL_KERR_UNKNOWN_SERVER_ERROR, "The metadata log could not be written");
        r->ErrorCode = users[k].error;
        r->ErrorMessage = users[k].message ? sl_slice_cstr(users[k].message) : (struct sl_slice){NULL, 0};
    }
}

/* --- DescribeUserScramCredentials --------------------------------------- */

static void describe_user(const struct sl_scram_set *set, struct sl_slice user,
                          struct sl_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult *r,
                          struct sl_arena *a)
{
    sl_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult_init(r);
    r->User = user;
    r->ErrorMessage = (struct sl_slice){NULL, 0}; /* null unless an error, as Kafka */
    int32_t first = 0, n = sl_scram_user_entries(set, (const char *)user.p, user.len, &first);
    if (n == 0) {
        r->ErrorCode = SL_KERR_RESOURCE_NOT_FOUND;
        r->ErrorMessage = sl_slice_cstr("Attempt to describe a user credential that does not exist");
        r->CredentialInfos_n = 0;
        return;
    }
    r->CredentialInfos = sl_arena_alloc(a, sizeof(*r->CredentialInfos) * (size_t)n);
    if (!r->CredentialInfos) {
        r->ErrorCode = SL_KERR_UNKNOWN_SERVER_ERROR;
        r->CredentialInfos_n = 0;
        return;
    }
    r->CredentialInfos_n = n;
    for (int32_t i = 0; i < n; i++) {
        sl_DescribeUserScramCredentialsResponse_CredentialInfo_init(&r->CredentialInfos[i]);
        r->CredentialInfos[i].Mechanism = (int8_t)set->v[first + i].cred.mech;
        r->CredentialInfos[i].Iterations = set->v[first + i].cred.iterations;
    }
}

void sl_scram_describe(const struct sl_image *img, const struct sl_DescribeUserScramCredentialsRequest *req,
                       struct sl_DescribeUserScramCredentialsResponse *resp, struct sl_arena *a)
{
    const struct sl_scram_set *set = img ? img->scram : NULL;
    resp->Results_n = 0;
    resp->ErrorMessage = (struct sl_slice){NULL, 0};
    if (req->Users_n <= 0) {
        /* every user: distinct names of the sorted set */
        int32_t total = set ? set->n : 0, n = 0;
        resp->Results = sl_arena_alloc(a, sizeof(*resp->Results) * (size_t)(total + 1));
        if (!resp->Results)
            return;
        for (int32_t i = 0; i < total; i++) {
            if (i > 0 && strcmp(set->v[i].user, set->v[i - 1].user) == 0)
                continue;
            struct sl_slice u = sl_arena_str(a, set->v[i].user);
            describe_user(set, u, &resp->Results[n++], a);
        }
        resp->Results_n = n;
        return;
    }
    int32_t n = 0;
    resp->Results = sl_arena_alloc(a, sizeof(*resp->Results) * (size_t)req->Users_n);
    if (!resp->Results)
        return;
    for (int32_t i = 0; i < req->Users_n; i++) {
        struct sl_slice name = req->Users[i].Name;
        int32_t dup = -1;
        for (int32_t k = 0; k < n; k++)
            if (sl_slice_eq(resp->Results[k].User, name))
                dup = k;
        if (dup >= 0) {
            resp->Results[dup].ErrorCode = SL_KERR_DUPLICATE_RESOURCE;
            resp->Results[dup].ErrorMessage =
                sl_slice_cstr("Cannot describe SCRAM credentials for the same user twice in a single request");
            resp->Results[dup].CredentialInfos_n = 0;
            continue;
        }
        if (!name.p) {
            name = sl_slice_cstr("");
        }
        describe_user(set, name, &resp->Results[n++], a);
    }
    resp->Results_n = n;
}

/* --- --add-scram bootstrap ---------------------------------------------- */

/* Reads a value at *p: "quoted" (no escapes) or up to ',' / ']'. */
static int boot_value(const char **p, char *out, size_t outlen)
{
    const char *s = *p;
    size_t n;
    if (*s == '"') {
        const char *e = strchr(s + 1, '"');
        if (!e)
            return -EINVAL;
        n = (size_t)(e - s - 1);
        if (n >= outlen)
            return -EINVAL;
        memcpy(out, s + 1, n);
        *p = e + 1;
    } else {
        n = strcspn(s, ",]");
        if (n >= outlen)
            return -EINVAL;
        memcpy(out, s, n);
        *p = s + n;
    }
    out[n] = 0;
    return 0;
}

int sl_scram_boot_parse(const char *spec, struct sl_scram_boot *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *eq = strchr(spec, '=');
    int mech = eq ? sl_scram_mech_from_name(spec, (size_t)(eq - spec)) : SL_SCRAM_UNKNOWN;
    if (mech == SL_SCRAM_UNKNOWN) {
        snprintf(err, errlen, "--add-scram: expected SCRAM-SHA-256=[...] or SCRAM-SHA-512=[...]");
        return -EINVAL;
    }
    const char *p = eq + 1;
    if (*p++ != '[') {
        snprintf(err, errlen, "--add-scram: expected '[' after %s=", sl_scram_mech_name(mech));
        return -EINVAL;
    }
    char password[1024] = "", salt64[512] = "", salted64[512] = "", iters[32] = "";
    bool have_password = false, have_salted = false;
    for (;;) {
        char key[32];
        size_t kn = strcspn(p, "=,]");
        if (p[kn] != '=' || kn == 0 || kn >= sizeof(key)) {
            snprintf(err, errlen, "--add-scram: expected key=value inside [...]");
            return -EINVAL;
        }
        memcpy(key, p, kn);
        key[kn] = 0;
        p += kn + 1;
        char *dst;
        size_t dlen;
        if (strcmp(key, "name") == 0)
            dst = out->user, dlen = sizeof(out->user);
        else if (strcmp(key, "password") == 0)
            dst = password, dlen = sizeof(password), have_password = true;
        else if (strcmp(key, "salt") == 0)
            dst = salt64, dlen = sizeof(salt64);
        else if (strcmp(key, "saltedpassword") == 0)
            dst = salted64, dlen = sizeof(salted64), have_salted = true;
        else if (strcmp(key, "iterations") == 0)
            dst = iters, dlen = sizeof(iters);
        else {
            snprintf(err, errlen, "--add-scram: unknown key '%s' (name, password, iterations, salt, saltedpassword)",
                     key);
            return -EINVAL;
        }
        if (boot_value(&p, dst, dlen) < 0) {
            snprintf(err, errlen, "--add-scram: bad or too long value for %s", key);
            return -EINVAL;
        }
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ']' && p[1] == '\0')
            break;
        snprintf(err, errlen, "--add-scram: expected ',' or a final ']'");
        return -EINVAL;
    }
    if (!out->user[0]) {
        snprintf(err, errlen, "--add-scram: name= is required and must not be empty");
        return -EINVAL;
    }
    if (have_password == have_salted) {
        snprintf(err, errlen, "--add-scram: give either password= or saltedpassword= (with salt=)");
        return -EINVAL;
    }
    int32_t iterations = SL_SCRAM_DEFAULT_ITERATIONS;
    if (iters[0]) {
        char *end;
        long v = strtol(iters, &end, 10);
        if (*end || v < SL_SCRAM_MIN_ITERATIONS || v > SL_SCRAM_MAX_ITERATIONS) {
            snprintf(err, errlen, "--add-scram: iterations must be %d to %d", SL_SCRAM_MIN_ITERATIONS,
                     SL_SCRAM_MAX_ITERATIONS);
            return -EINVAL;
        }
        iterations = (int32_t)v;
    }
    uint8_t salt[SL_SCRAM_SALT_MAX], salted[512];
    int sl = 0, sdl = 0;
    if (salt64[0] && (sl = sl_base64_decode(salt64, strlen(salt64), salt, sizeof(salt))) <= 0) {
        snprintf(err, errlen, "--add-scram: salt must be base64 of 1 to %d bytes", SL_SCRAM_SALT_MAX);
        return -EINVAL;
    }
    int rc;
    if (have_salted) {
        if (!salt64[0] || (sdl = sl_base64_decode(salted64, strlen(salted64), salted, sizeof(salted))) <= 0) {
            snprintf(err, errlen, "--add-scram: saltedpassword needs salt= and must be base64");
            return -EINVAL;
        }
        rc = sl_scram_cred_from_salted(mech, salted, (size_t)sdl, salt, (size_t)sl, iterations, &out->cred);
    } else {
        rc = sl_scram_cred_make(mech, (const uint8_t *)password, strlen(password), salt64[0] ? salt : NULL,
                                (size_t)sl, iterations, &out->cred);
    }
    OPENSSL_cleanse(password, sizeof(password));
    OPENSSL_cleanse(salted, sizeof(salted));
    if (rc < 0) {
        snprintf(err, errlen, "--add-scram: cannot derive the credential: %s", strerror(-rc));
        return rc;
    }
    return 0;
}

int sl_scram_boot_apply(struct sl_controller *ctl, const struct sl_scram_boot *v, int n, char *err, size_t errlen)
{
    if (n <= 0)
        return 0;
    struct sl_UserScramCredentialRecord *ups = calloc((size_t)n, sizeof(*ups));
    struct sl_meta_rec *recs = calloc((size_t)n, sizeof(*recs));
    if (!ups || !recs) {
        free(ups);
        free(recs);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct sl_image *img = sl_image_acquire();
    int nrec = 0;
    for (int i = 0; i < n; i++) {
        struct sl_scram_cred have;
        bool dup = false;
        for (int k = 0; k < i; k++)
            dup = dup || (strcmp(v[k].user, v[i].user) == 0 && v[k].cred.mech == v[i].cred.mech);
        if (dup || sl_scram_find(img, v[i].user, v[i].cred.mech, &have))
            continue; /* present: --add-scram only bootstraps */
        size_t kl = sl_scram_key_len(v[i].cred.mech);
        sl_UserScramCredentialRecord_init(&ups[nrec]);
        ups[nrec].Name = sl_slice_cstr(v[i].user);
        ups[nrec].Mechanism = (int8_t)v[i].cred.mech;
        ups[nrec].Salt = (struct sl_slice){v[i].cred.salt, v[i].cred.salt_len};
        ups[nrec].StoredKey = (struct sl_slice){v[i].cred.stored_key, kl};
        ups[nrec].ServerKey = (struct sl_slice){v[i].cred.server_key, kl};
        ups[nrec].Iterations = v[i].cred.iterations;
        recs[nrec] = (struct sl_meta_rec){REC_UPSERT, 0, &ups[nrec]};
        nrec++;
    }
    sl_image_release(img);
    int rc = nrec ? sl_controller_write_sync(ctl, recs, nrec) : 0;
    if (rc < 0)
        snprintf(err, errlen, "cannot write the --add-scram credentials to the metadata log: %s", strerror(-rc));
    free(ups);
    free(recs);
    return rc;
}

int sl_scram_boot_take_args(int *argc, char **argv, struct sl_scram_boot **out, int *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    int w = 1, rc = 0;
    for (int i = 1; i < *argc; i++) {
        const char *spec = NULL;
        if (strcmp(argv[i], "--add-scram") == 0) {
            if (i + 1 >= *argc) {
                snprintf(err, errlen, "--add-scram expects 'SCRAM-SHA-512=[name=...,password=...]'");
                rc = -EINVAL;
                break;
            }
            spec = argv[++i];
        } else if (strncmp(argv[i], "--add-scram=", 12) == 0) {
            spec = argv[i] + 12;
        } else {
            argv[w++] = argv[i];
            continue;
        }
        struct sl_scram_boot *v = realloc(*out, sizeof(**out) * (size_t)(*n + 1));
        if (!v) {
            snprintf(err, errlen, "out of memory");
            rc = -ENOMEM;
            break;
        }
        *out = v;
        if ((rc = sl_scram_boot_parse(spec, &v[*n], err, errlen)) < 0)
            break;
        (*n)++;
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    argv[w] = NULL;
    *argc = w;
    return 0;
}
