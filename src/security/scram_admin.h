/*
 * scram_admin.h - managing SCRAM credentials: AlterUserScramCredentials
 * (checks and metadata records, on the controller thread),
 * DescribeUserScramCredentials (read from the image), and the start-up
 * bootstrap `sluiced --add-scram 'SCRAM-SHA-256=[name=alice,password=...]'`
 * (the syntax of Kafka's `kafka-storage format --add-scram`).
 */
#ifndef SL_SECURITY_SCRAM_ADMIN_H
#define SL_SECURITY_SCRAM_ADMIN_H

#include <stddef.h>

#include "base/arena.h"
#include "proto/gen/AlterUserScramCredentials.h"
#include "proto/gen/DescribeUserScramCredentials.h"
#include "security/scram.h"

struct sl_controller;
struct sl_image;

/* Kafka's checks, then one change (one batch, synced) with a
 * UserScramCredentialRecord or RemoveUserScramCredentialRecord per
 * accepted item; fills resp->Results (one per user, in request order) from
 * arena a. Controller thread. */
void sl_scram_ctl_alter(struct sl_controller *ctl, const struct sl_AlterUserScramCredentialsRequest *req,
                        struct sl_AlterUserScramCredentialsResponse *resp, struct sl_arena *a);

/* Fills resp from img: mechanisms and iterations only (never salts or
 * keys). Users null or empty = every user with a credential. */
void sl_scram_describe(const struct sl_image *img, const struct sl_DescribeUserScramCredentialsRequest *req,
                       struct sl_DescribeUserScramCredentialsResponse *resp, struct sl_arena *a);

/* One --add-scram argument, parsed and derived. */
struct sl_scram_boot {
    char user[SL_SCRAM_USER_MAX + 1];
    struct sl_scram_cred cred;
};

/* Parses "SCRAM-SHA-512=[name=alice,password=alice-secret]" with optional
 * iterations=N, salt=<base64> and saltedpassword=<base64> (instead of
 * password); values may be in double quotes. 0 or -EINVAL with err. */
int sl_scram_boot_parse(const char *spec, struct sl_scram_boot *out, char *err, size_t errlen);

/* Takes every "--add-scram SPEC" / "--add-scram=SPEC" out of argv (argc
 * and argv are compacted, argv[argc] = NULL) and parses each into *out
 * (malloc'd array of *n; free()). 0 or -EINVAL with err. */
int sl_scram_boot_take_args(int *argc, char **argv, struct sl_scram_boot **out, int *n, char *err,
                            size_t errlen);

/* Writes the credentials the current image does not have yet (a user's
 * existing credential for that mechanism is left alone). Not on the
 * controller thread. 0 or -errno with err. */
int sl_scram_boot_apply(struct sl_controller *ctl, const struct sl_scram_boot *v, int n, char *err,
                        size_t errlen);

#endif
