/*
 * cli_users.c - `sluice users`: SCRAM users of the cluster, listed, added,
 * changed and deleted with DescribeUserScramCredentials and
 * AlterUserScramCredentials (what `kafka-configs.sh --entity-type users` does).
 * librdkafka 2.0 has neither API, so the requests go over a raw connection
 * (cli_rawconn.c: PLAINTEXT or SASL_PLAINTEXT). The password never leaves this
 * process: the salted password is computed here, as Kafka's Admin client does.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/arena.h"
#include "cli/cli.h"
#include "cli/cli_raw.h"
#include "proto/gen/AlterUserScramCredentials.h"
#include "proto/gen/DescribeUserScramCredentials.h"
#include "proto/gen/api.h"
#include "security/scram.h"

static const struct sl_cli_flag flags[] = {
    {"list", SL_CLI_FLAG, NULL, "every user with SCRAM credentials, with mechanisms and iterations"},
    {"describe", SL_CLI_FLAG, NULL, "the credentials of --user"},
    {"add", SL_CLI_FLAG, NULL, "add or change the credential of --user for --mechanism"},
    {"delete", SL_CLI_FLAG, NULL, "delete the credential of --user for --mechanism"},
    {"user", SL_CLI_ARG, "NAME", "the user"},
    {"password", SL_CLI_ARG, "PASSWORD", "the new password (--add)"},
    {"mechanism", SL_CLI_ARG, "SCRAM-SHA-256|SCRAM-SHA-512", "default SCRAM-SHA-512"},
    {"iterations", SL_CLI_ARG, "N", "PBKDF2 iterations, 4096 to 16384 (default 4096)"},
    {NULL},
};

static const struct sl_cli_cmd cmd = {
    "users",
    "list, add, change and delete SCRAM users (kafka-configs.sh --entity-type users)",
    "users --list | --describe --user NAME\n"
    "users --add --user NAME --password PASSWORD [--mechanism M] [--iterations N]\n"
    "users --delete --user NAME [--mechanism M]",
    flags,
    "  sluice users --add --user alice --password alice-secret\n"
    "  sluice users --list --command-config admin.properties\n"
    "  sluice users --delete --user alice --mechanism SCRAM-SHA-512\n",
};

static void print_results(const struct sl_cli_args *args, const struct sl_DescribeUserScramCredentialsResponse *r)
{
    bool json = sl_cli_json(args);
    if (json)
        printf("[");
    else
        printf("%-30s %-15s %s\n", "USER", "MECHANISM", "ITERATIONS");
    int shown = 0;
    for (int32_t i = 0; i < r->Results_n; i++) {
        const struct sl_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult *u = &r->Results[i];
        for (int32_t k = 0; u->ErrorCode == 0 && k < u->CredentialInfos_n; k++) {
            const char *m = sl_scram_mech_name(u->CredentialInfos[k].Mechanism);
            if (json) {
                printf("%s{\"user\":", shown++ ? "," : "");
                sl_cli_jstr(stdout, (const char *)u->User.p, (long)u->User.len);
                printf(",\"mechanism\":");
                sl_cli_jstr(stdout, m ? m : "UNKNOWN", -1);
                printf(",\"iterations\":%d}", u->CredentialInfos[k].Iterations);
            } else {
                printf("%-30.*s %-15s %d\n", SL_SLICE_FMT(u->User), m ? m : "UNKNOWN",
                       u->CredentialInfos[k].Iterations);
            }
        }
    }
    if (json)
        printf("]\n");
}

static int describe(const struct sl_cli_args *args, struct sl_cli_raw_conn *c, const char *user, struct sl_arena *a)
{
    struct sl_DescribeUserScramCredentialsRequest req;
    struct sl_DescribeUserScramCredentialsResponse resp;
    struct sl_DescribeUserScramCredentialsRequest_UserName name;
    char err[512];
    sl_DescribeUserScramCredentialsRequest_init(&req);
    if (user) {
        sl_DescribeUserScramCredentialsRequest_UserName_init(&name);
        name.Name = sl_slice_cstr(user);
        req.Users = &name;
        req.Users_n = 1;
    } else {
        req.Users_n = -1; /* every user */
    }
    if (sl_cli_raw_call(c, SL_API_DescribeUserScramCredentials, 0, &req, &resp, a, err, sizeof(err)) < 0)
        return sl_cli_fail("describing SCRAM users: %s", err);
    if (resp.ErrorCode)
        return sl_cli_fail("describing SCRAM users: %.*s (error %d)", SL_SLICE_FMT(resp.ErrorMessage), resp.ErrorCode);
    if (user && resp.Results_n == 1 && resp.Results[0].ErrorCode)
        return sl_cli_fail("user %s: %.*s (error %d)", user, SL_SLICE_FMT(resp.Results[0].ErrorMessage),
                           resp.Results[0].ErrorCode);
    print_results(args, &resp);
    return SL_CLI_OK;
}

static int alter(struct sl_cli_raw_conn *c, const char *user, int mech, const char *password, int32_t iterations,
                 struct sl_arena *a)
{
    struct sl_AlterUserScramCredentialsRequest req;
    struct sl_AlterUserScramCredentialsResponse resp;
    struct sl_AlterUserScramCredentialsRequest_ScramCredentialDeletion del;
    struct sl_AlterUserScramCredentialsRequest_ScramCredentialUpsertion up;
    uint8_t salt[32], salted[SL_SCRAM_KEY_MAX];
    char err[512];
    sl_AlterUserScramCredentialsRequest_init(&req);
    req.Deletions_n = 0;
    req.Upsertions_n = 0;
    if (password) {
        if (RAND_bytes(salt, sizeof(salt)) != 1 ||
            sl_scram_salted_password(mech, (const uint8_t *)password, strlen(password), salt, sizeof(salt),
                                     iterations, salted) < 0)
            return sl_cli_fail("cannot derive the salted password");
        sl_AlterUserScramCredentialsRequest_ScramCredentialUpsertion_init(&up);
        up.Name = sl_slice_cstr(user);
        up.Mechanism = (int8_t)mech;
        up.Iterations = iterations;
        up.Salt = (struct sl_slice){salt, sizeof(salt)};
        up.SaltedPassword = (struct sl_slice){salted, sl_scram_key_len(mech)};
        req.Upsertions = &up;
        req.Upsertions_n = 1;
    } else {
        sl_AlterUserScramCredentialsRequest_ScramCredentialDeletion_init(&del);
        del.Name = sl_slice_cstr(user);
        del.Mechanism = (int8_t)mech;
        req.Deletions = &del;
        req.Deletions_n = 1;
    }
    int rc = sl_cli_raw_call(c, SL_API_AlterUserScramCredentials, 0, &req, &resp, a, err, sizeof(err));
    OPENSSL_cleanse(salted, sizeof(salted));
    if (rc < 0)
        return sl_cli_fail("altering user %s: %s", user, err);
    for (int32_t i = 0; i < resp.Results_n; i++)
        if (resp.Results[i].ErrorCode)
            return sl_cli_fail("user %s: %.*s (error %d)", user, SL_SLICE_FMT(resp.Results[i].ErrorMessage),
                               resp.Results[i].ErrorCode);
    if (resp.Results_n < 1)
        return sl_cli_fail("user %s: the broker answered no result", user);
    printf("%s %s credential of user %s\n", password ? "Set" : "Deleted", sl_scram_mech_name(mech), user);
    return SL_CLI_OK;
}

int sl_cli_users(int argc, char **argv)
{
    struct sl_cli_args args;
    int rc = sl_cli_parse(&cmd, argc, argv, &args);
    if (rc != SL_CLI_CONTINUE) {
        sl_cli_args_fini(&args);
        return rc;
    }
    const char *user = sl_cli_str(&args, "user"), *password = sl_cli_str(&args, "password");
    const char *mname = sl_cli_str(&args, "mechanism");
    int modes = sl_cli_has(&args, "list") + sl_cli_has(&args, "describe") + sl_cli_has(&args, "add") +
                sl_cli_has(&args, "delete");
    int mech = mname ? sl_scram_mech_from_name(mname, strlen(mname)) : SL_SCRAM_SHA_512;
    int64_t iterations = 0;
    struct sl_cli_client *cl = NULL;
    struct sl_cli_raw_conn *c = NULL;
    struct sl_arena a;
    sl_arena_init(&a, 64u << 20);
    if (modes != 1) {
        rc = sl_cli_usage(&args, "give one of --list, --describe, --add, --delete");
    } else if (!sl_cli_has(&args, "list") && (!user || !*user)) {
        rc = sl_cli_usage(&args, "--user is required");
    } else if (mech == SL_SCRAM_UNKNOWN) {
        rc = sl_cli_usage(&args, "--mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512");
    } else if (sl_cli_has(&args, "add") && !password) {
        rc = sl_cli_usage(&args, "--add needs --password");
    } else if ((rc = sl_cli_int(&args, "iterations", SL_SCRAM_DEFAULT_ITERATIONS, SL_SCRAM_MIN_ITERATIONS,
                                SL_SCRAM_MAX_ITERATIONS, &iterations)) == 0) {
        rd_kafka_conf_t *conf = sl_cli_conf_new(&args, &rc);
        cl = conf ? sl_cli_client_new(&args, RD_KAFKA_PRODUCER, conf, false, &rc) : NULL;
        char err[512];
        if (cl && sl_cli_raw_open(cl, &c, err, sizeof(err)) < 0)
            rc = sl_cli_fail("%s", err);
        else if (cl && sl_cli_has(&args, "list"))
            rc = describe(&args, c, NULL, &a);
        else if (cl && sl_cli_has(&args, "describe"))
            rc = describe(&args, c, user, &a);
        else if (cl)
            rc = alter(c, user, mech, sl_cli_has(&args, "add") ? password : NULL, (int32_t)iterations, &a);
    }
    sl_cli_raw_close(c);
    sl_cli_client_free(cl);
    sl_arena_fini(&a);
    sl_cli_args_fini(&args);
    return rc;
}
