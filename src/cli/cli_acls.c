/*
 * cli_acls.c - `sluice acls`, the kafka-acls.sh of Sluice: --add, --remove and
 * --list ACLs with Kafka's flags, through librdkafka's admin ACL API
 * (CreateAcls, DeleteAcls, DescribeAcls). Output follows kafka-acls.sh:
 *   Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)`:
 *   	(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)
 *
 * librdkafka 2.0 knows the resource types TOPIC, GROUP and CLUSTER (its
 * "BROKER") and the operations up to IDEMPOTENT_WRITE only; transactional-id
 * ACLs are refused with a sentence naming what can be used instead.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "security/acl.h"

static const struct sl_cli_flag flags[] = {
    {"add", SL_CLI_FLAG, NULL, "add ACLs"},
    {"remove", SL_CLI_FLAG, NULL, "remove the ACLs that match"},
    {"list", SL_CLI_FLAG, NULL, "list ACLs (all, or of the given resources)"},
    {"allow-principal", SL_CLI_LIST, "PRINCIPAL", "User:name or User:* to allow (repeatable)"},
    {"deny-principal", SL_CLI_LIST, "PRINCIPAL", "User:name or User:* to deny (repeatable)"},
    {"allow-host", SL_CLI_LIST, "HOST", "IP the allow principals connect from (default *)"},
    {"deny-host", SL_CLI_LIST, "HOST", "IP the deny principals connect from (default *)"},
    {"principal", SL_CLI_LIST, "PRINCIPAL", "--list: only ACLs of this principal"},
    {"operation", SL_CLI_LIST, "OP", "Read, Write, Create, Delete, Alter, Describe, ClusterAction, "
                                     "DescribeConfigs, AlterConfigs, IdempotentWrite, All (default All)"},
    {"topic", SL_CLI_LIST, "NAME", "a topic resource (* for every topic)"},
    {"group", SL_CLI_LIST, "NAME", "a consumer group resource (* for every group)"},
    {"cluster", SL_CLI_FLAG, NULL, "the cluster resource"},
    {"transactional-id", SL_CLI_LIST, "ID", "a transactional id resource (not with librdkafka 2.0)"},
    {"resource-pattern-type", SL_CLI_ARG, "TYPE",
     "literal (default), prefixed; for --list/--remove also any, match"},
    {"force", SL_CLI_FLAG, NULL, "accepted for kafka-acls.sh compatibility (never prompts)"},
    {NULL},
};

static const struct sl_cli_cmd cmd = {
    "acls",
    "add, remove and list ACLs (kafka-acls.sh)",
    "acls --add --allow-principal|--deny-principal P [--allow-host H] [--operation OP]...\n"
    "     --topic T | --group G | --cluster [--resource-pattern-type literal|prefixed]\n"
    "acls --remove [principal, host, operation as for --add] --topic T | --group G | --cluster\n"
    "acls --list [--topic T | --group G | --cluster] [--principal P]\n"
    "     [--resource-pattern-type any|match|literal|prefixed]",
    flags,
    "  sluice acls --add --allow-principal User:alice --operation Read --operation Describe \\\n"
    "      --topic orders\n"
    "  sluice acls --add --allow-principal User:alice --operation Read --group billing\n"
    "  sluice acls --add --deny-principal User:mallory --deny-host 10.0.0.9 --operation All \\\n"
    "      --topic pay --resource-pattern-type prefixed\n"
    "  sluice acls --add --allow-principal User:ops --operation Alter --cluster\n"
    "  sluice acls --list --topic orders --resource-pattern-type match\n"
    "  sluice acls --remove --allow-principal User:alice --operation Read --topic orders\n",
};

struct resource {
    rd_kafka_ResourceType_t type;
    const char *name;
};

#define MAX_RESOURCES 64

/* The resources named on the command line; n = 0 when none. */
static int resources(const struct sl_cli_args *args, struct resource *out, int *n)
{
    *n = 0;
    if (sl_cli_has(args, "transactional-id")) {
        return sl_cli_usage(args, "transactional-id ACLs cannot be expressed with librdkafka 2.0; "
                                  "manage them with kafka-acls.sh or another Kafka admin client");
    }
    static const struct {
        const char *flag;
        rd_kafka_ResourceType_t type;
    } kinds[] = {{"topic", RD_KAFKA_RESOURCE_TOPIC}, {"group", RD_KAFKA_RESOURCE_GROUP}};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        int pos = 0;
        const char *v;
        while ((v = sl_cli_next(args, kinds[k].flag, &pos))) {
            if (*n == MAX_RESOURCES) {
                return sl_cli_usage(args, "at most %d resources at once", MAX_RESOURCES);
            }
            if (!*v) {
                return sl_cli_usage(args, "--%s needs a non-empty name", kinds[k].flag);
            }
            out[(*n)++] = (struct resource){kinds[k].type, v};
        }
    }
    if (sl_cli_has(args, "cluster")) {
        if (*n == MAX_RESOURCES) {
            return sl_cli_usage(args, "at most %d resources at once", MAX_RESOURCES);
        }
        out[(*n)++] = (struct resource){RD_KAFKA_RESOURCE_BROKER, SL_ACL_CLUSTER_NAME};
    }
    return 0;
}

/* Kafka's ResourceType names; librdkafka calls CLUSTER "BROKER". */
static const char *restype_name(rd_kafka_ResourceType_t t)
{
    return t == RD_KAFKA_RESOURCE_BROKER ? "CLUSTER" : sl_acl_resource_type_name((int8_t)t);
}

/* Operations from --operation (def when none given); n ops into ops. */
static int operations(const struct sl_cli_args *args, rd_kafka_AclOperation_t def, rd_kafka_AclOperation_t *ops,
                      int *n)
{
    *n = 0;
    int pos = 0;
    const char *v;
    while ((v = sl_cli_next(args, "operation", &pos))) {
        int op = sl_acl_op_parse(v);
        if (op < SL_ACL_OP_ALL || op >= RD_KAFKA_ACL_OPERATION__CNT) {
            return sl_cli_usage(args, "unknown or unsupported --operation '%s'", v);
        }
        if (*n < 16) {
            ops[(*n)++] = (rd_kafka_AclOperation_t)op;
        }
    }
    if (*n == 0) {
        ops[(*n)++] = def;
    }
    return 0;
}

static int pattern_type(const struct sl_cli_args *args, bool filter, bool named, rd_kafka_ResourcePatternType_t *pt)
{
    const char *v = sl_cli_str(args, "resource-pattern-type");
    if (!v) {
        *pt = filter && !named ? RD_KAFKA_RESOURCE_PATTERN_ANY : RD_KAFKA_RESOURCE_PATTERN_LITERAL;
        return 0;
    }
    int p = sl_acl_pattern_type_parse(v);
    if (p < SL_ACL_PAT_ANY || (!filter && p != SL_ACL_PAT_LITERAL && p != SL_ACL_PAT_PREFIXED)) {
        return sl_cli_usage(args, "--resource-pattern-type must be %s, not '%s'",
                            filter ? "any, match, literal or prefixed" : "literal or prefixed", v);
    }
    *pt = (rd_kafka_ResourcePatternType_t)p;
    return 0;
}

static void print_pattern(rd_kafka_ResourceType_t t, const char *name, rd_kafka_ResourcePatternType_t pt)
{
    printf("ResourcePattern(resourceType=%s, name=%s, patternType=%s)", restype_name(t), name,
           sl_acl_pattern_type_name((int8_t)pt));
}

static void print_entry(const rd_kafka_AclBinding_t *b)
{
    printf(" \t(principal=%s, host=%s, operation=%s, permissionType=%s) \n", rd_kafka_AclBinding_principal(b),
           rd_kafka_AclBinding_host(b), sl_acl_op_name((int8_t)rd_kafka_AclBinding_operation(b)),
           sl_acl_perm_name((int8_t)rd_kafka_AclBinding_permission_type(b)));
}

static void json_binding(const rd_kafka_AclBinding_t *b)
{
    printf("{\"resourceType\":\"%s\",\"name\":", restype_name(rd_kafka_AclBinding_restype(b)));
    sl_cli_jstr(stdout, rd_kafka_AclBinding_name(b), -1);
    printf(",\"patternType\":\"%s\",\"principal\":",
           sl_acl_pattern_type_name((int8_t)rd_kafka_AclBinding_resource_pattern_type(b)));
    sl_cli_jstr(stdout, rd_kafka_AclBinding_principal(b), -1);
    printf(",\"host\":");
    sl_cli_jstr(stdout, rd_kafka_AclBinding_host(b), -1);
    printf(",\"operation\":\"%s\",\"permissionType\":\"%s\"}",
           sl_acl_op_name((int8_t)rd_kafka_AclBinding_operation(b)),
           sl_acl_perm_name((int8_t)rd_kafka_AclBinding_permission_type(b)));
}

/* Prints bindings grouped by resource pattern, as kafka-acls.sh --list does. */
static void print_grouped(const rd_kafka_AclBinding_t **acls, size_t n, const char *heading)
{
    bool *done = calloc(n + 1, sizeof(bool));
    for (size_t i = 0; done && i < n; i++) {
        if (done[i]) {
            continue;
        }
        rd_kafka_ResourceType_t t = rd_kafka_AclBinding_restype(acls[i]);
        rd_kafka_ResourcePatternType_t pt = rd_kafka_AclBinding_resource_pattern_type(acls[i]);
        const char *name = rd_kafka_AclBinding_name(acls[i]);
        printf("%s `", heading);
        print_pattern(t, name, pt);
        printf("`: \n");
        for (size_t j = i; j < n; j++) {
            if (!done[j] && rd_kafka_AclBinding_restype(acls[j]) == t &&
                rd_kafka_AclBinding_resource_pattern_type(acls[j]) == pt &&
                strcmp(rd_kafka_AclBinding_name(acls[j]), name) == 0) {
                print_entry(acls[j]);
                done[j] = true;
            }
        }
        printf("\n");
    }
    free(done);
}

/* ---- --add ----------------------------------------------------------------------- */

struct side {
    const char *principal_flag, *host_flag;
    rd_kafka_AclPermissionType_t perm;
};

static const struct side sides[2] = {
    {"allow-principal", "allow-host", RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW},
    {"deny-principal", "deny-host", RD_KAFKA_ACL_PERMISSION_TYPE_DENY},
};

/* Every (principal, host, operation) of the command line for one resource;
 * filter: hosts default to NULL (any) instead of "*". */
static int bindings(const struct sl_cli_args *args, const struct resource *r, rd_kafka_ResourcePatternType_t pt,
                    const rd_kafka_AclOperation_t *ops, int nops, bool filter, rd_kafka_AclBinding_t ***out,
                    size_t *n, size_t *cap)
{
    char errstr[256];
    for (int s = 0; s < 2; s++) {
        int ppos = 0;
        const char *principal;
        while ((principal = sl_cli_next(args, sides[s].principal_flag, &ppos))) {
            if (!strchr(principal, ':')) {
                return sl_cli_usage(args, "principal '%s' must be Type:name, e.g. User:alice", principal);
            }
            int hpos = 0;
            const char *host = sl_cli_next(args, sides[s].host_flag, &hpos);
            const char *first_host = host;
            do {
                for (int o = 0; o < nops; o++) {
                    if (*n == *cap) {
                        *cap = *cap ? *cap * 2 : 16;
                        *out = realloc(*out, sizeof(**out) * *cap);
                    }
                    const char *h = host ? host : (filter ? NULL : "*");
                    rd_kafka_AclBinding_t *b =
                        filter ? rd_kafka_AclBindingFilter_new(r->type, r->name, pt, principal, h, ops[o],
                                                               sides[s].perm, errstr, sizeof(errstr))
                               : rd_kafka_AclBinding_new(r->type, r->name, pt, principal, h, ops[o],
                                                         sides[s].perm, errstr, sizeof(errstr));
                    if (!b) {
                        return sl_cli_usage(args, "%s", errstr);
                    }
                    (*out)[(*n)++] = b;
                }
            } while (first_host && (host = sl_cli_next(args, sides[s].host_flag, &hpos)));
        }
    }
    return 0;
}

static int check_ops_for(const struct sl_cli_args *args, const struct resource *r, const rd_kafka_AclOperation_t *ops,
                         int nops)
{
    int8_t rt = r->type == RD_KAFKA_RESOURCE_BROKER ? SL_ACL_RES_CLUSTER : (int8_t)r->type;
    for (int o = 0; o < nops; o++) {
        if (ops[o] != RD_KAFKA_ACL_OPERATION_ALL && !(sl_acl_supported_ops(rt) & (1 << ops[o]))) {
            return sl_cli_usage(args, "ACLs of %s resources cannot have operation %s", restype_name(r->type),
                                sl_acl_op_name((int8_t)ops[o]));
        }
    }
    return 0;
}

static int add(struct sl_cli_client *cl, const struct sl_cli_args *args, const struct resource *res, int nres)
{
    rd_kafka_AclOperation_t ops[16];
    int nops, rc;
    rd_kafka_ResourcePatternType_t pt;
    if ((rc = operations(args, RD_KAFKA_ACL_OPERATION_ALL, ops, &nops)) || (rc = pattern_type(args, false, true, &pt))) {
        return rc;
    }
    rd_kafka_AclBinding_t **acls = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < nres && rc == 0; i++) {
        if ((rc = check_ops_for(args, &res[i], ops, nops)) == 0) {
            rc = bindings(args, &res[i], pt, ops, nops, false, &acls, &n, &cap);
        }
    }
    if (rc == 0 && n == 0) {
        rc = sl_cli_usage(args, "--add needs --allow-principal or --deny-principal");
    }
    if (rc == 0) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
        rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_CREATEACLS);
        rd_kafka_CreateAcls(cl->rk, acls, n, o, q);
        rd_kafka_event_t *ev = sl_cli_admin_wait(cl, q, "cannot add the ACLs");
        rc = ev ? 0 : SL_CLI_FAIL;
        if (ev) {
            size_t nr;
            const rd_kafka_acl_result_t **rr = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &nr);
            for (size_t i = 0; i < nr && rc == 0; i++) {
                const rd_kafka_error_t *err = rd_kafka_acl_result_error(rr[i]);
                if (err) {
                    rc = sl_cli_fail("cannot add the ACL (principal=%s, host=%s, operation=%s) on %s %s: %s",
                                     rd_kafka_AclBinding_principal(acls[i]), rd_kafka_AclBinding_host(acls[i]),
                                     sl_acl_op_name((int8_t)rd_kafka_AclBinding_operation(acls[i])),
                                     restype_name(rd_kafka_AclBinding_restype(acls[i])),
                                     rd_kafka_AclBinding_name(acls[i]), rd_kafka_error_string(err));
                }
            }
            if (rc == 0 && sl_cli_json(args)) {
                printf("{\"added\":[");
                for (size_t i = 0; i < n; i++) {
                    fputs(i ? "," : "", stdout);
                    json_binding(acls[i]);
                }
                printf("]}\n");
            } else if (rc == 0) {
                print_grouped((const rd_kafka_AclBinding_t **)acls, n, "Adding ACLs for resource");
            }
            rd_kafka_event_destroy(ev);
        }
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
    }
    rd_kafka_AclBinding_destroy_array(acls, n);
    free(acls);
    return rc;
}

/* ---- --list and --remove ------------------------------------------------------------ */

static int list(struct sl_cli_client *cl, const struct sl_cli_args *args, const struct resource *res, int nres)
{
    rd_kafka_ResourcePatternType_t pt;
    int rc = pattern_type(args, true, nres > 0, &pt);
    if (rc) {
        return rc;
    }
    struct resource any = {RD_KAFKA_RESOURCE_ANY, NULL};
    if (nres == 0) {
        res = &any;
        nres = 1;
    }
    int ppos = 0;
    const char *principal = sl_cli_next(args, "principal", &ppos);
    if (sl_cli_json(args)) {
        printf("{\"acls\":[");
    }
    bool first = true;
    for (int i = 0; i < nres && rc == 0; i++) {
        char errstr[256];
        rd_kafka_AclBindingFilter_t *f =
            rd_kafka_AclBindingFilter_new(res[i].type, res[i].name, pt, principal, NULL, RD_KAFKA_ACL_OPERATION_ANY,
                                          RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr));
        if (!f) {
            rc = sl_cli_usage(args, "%s", errstr);
            break;
        }
        rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
        rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_DESCRIBEACLS);
        rd_kafka_DescribeAcls(cl->rk, f, o, q);
        rd_kafka_event_t *ev = sl_cli_admin_wait(cl, q, "cannot list the ACLs");
        rc = ev ? 0 : SL_CLI_FAIL;
        if (ev) {
            size_t nr;
            const rd_kafka_AclBinding_t **acls =
                rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &nr);
            if (sl_cli_json(args)) {
                for (size_t k = 0; k < nr; k++) {
                    fputs(first ? "" : ",", stdout);
                    first = false;
                    json_binding(acls[k]);
                }
            } else {
                print_grouped(acls, nr, "Current ACLs for resource");
            }
            rd_kafka_event_destroy(ev);
        }
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
        rd_kafka_AclBinding_destroy(f);
    }
    if (sl_cli_json(args)) {
        printf("]}\n");
    }
    return rc;
}

static int remove_acls(struct sl_cli_client *cl, const struct sl_cli_args *args, const struct resource *res, int nres)
{
    if (nres == 0) {
        return sl_cli_usage(args, "--remove needs a resource: --topic, --group or --cluster");
    }
    rd_kafka_AclOperation_t ops[16];
    int nops, rc;
    rd_kafka_ResourcePatternType_t pt;
    if ((rc = operations(args, RD_KAFKA_ACL_OPERATION_ANY, ops, &nops)) || (rc = pattern_type(args, true, true, &pt))) {
        return rc;
    }
    rd_kafka_AclBindingFilter_t **filters = NULL;
    size_t n = 0, cap = 0;
    char errstr[256];
    bool principals = sl_cli_has(args, "allow-principal") || sl_cli_has(args, "deny-principal");
    for (int i = 0; i < nres && rc == 0; i++) {
        if (principals) {
            rc = bindings(args, &res[i], pt, ops, nops, true, &filters, &n, &cap);
            continue;
        }
        /* no principal: every ACL of the resource (for the given operations) */
        for (int o = 0; o < nops && rc == 0; o++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                filters = realloc(filters, sizeof(*filters) * cap);
            }
            filters[n] = rd_kafka_AclBindingFilter_new(res[i].type, res[i].name, pt, NULL, NULL, ops[o],
                                                       RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr));
            if (!filters[n]) {
                rc = sl_cli_usage(args, "%s", errstr);
            } else {
                n++;
            }
        }
    }
    if (rc == 0) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
        rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_DELETEACLS);
        rd_kafka_DeleteAcls(cl->rk, filters, n, o, q);
        rd_kafka_event_t *ev = sl_cli_admin_wait(cl, q, "cannot remove the ACLs");
        rc = ev ? 0 : SL_CLI_FAIL;
        if (ev) {
            size_t nr;
            const rd_kafka_DeleteAcls_result_response_t **rr =
                rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &nr);
            if (sl_cli_json(args)) {
                printf("{\"removed\":[");
            }
            bool first = true;
            for (size_t i = 0; i < nr && rc == 0; i++) {
                const rd_kafka_error_t *err = rd_kafka_DeleteAcls_result_response_error(rr[i]);
                if (err) {
                    rc = sl_cli_fail("cannot remove the ACLs: %s", rd_kafka_error_string(err));
                    break;
                }
                size_t nm;
                const rd_kafka_AclBinding_t **m = rd_kafka_DeleteAcls_result_response_matching_acls(rr[i], &nm);
                if (sl_cli_json(args)) {
                    for (size_t k = 0; k < nm; k++) {
                        fputs(first ? "" : ",", stdout);
                        first = false;
                        json_binding(m[k]);
                    }
                } else {
                    print_grouped(m, nm, "Removed ACLs for resource");
                }
            }
            if (sl_cli_json(args)) {
                printf("]}\n");
            }
            rd_kafka_event_destroy(ev);
        }
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
    }
    rd_kafka_AclBinding_destroy_array(filters, n);
    free(filters);
    return rc;
}

int sl_cli_acls(int argc, char **argv)
{
    struct sl_cli_args args;
    int rc = sl_cli_parse(&cmd, argc, argv, &args);
    if (rc != SL_CLI_CONTINUE) {
        goto out;
    }
    int actions = sl_cli_has(&args, "add") + sl_cli_has(&args, "remove") + sl_cli_has(&args, "list");
    if (actions != 1) {
        rc = sl_cli_usage(&args, "give one of --add, --remove or --list");
        goto out;
    }
    struct resource res[MAX_RESOURCES];
    int nres;
    if ((rc = resources(&args, res, &nres)) != 0) {
        goto out;
    }
    if (sl_cli_has(&args, "add") && nres == 0) {
        rc = sl_cli_usage(&args, "--add needs a resource: --topic, --group or --cluster");
        goto out;
    }
    rd_kafka_conf_t *conf = sl_cli_conf_new(&args, &rc);
    struct sl_cli_client *cl = conf ? sl_cli_client_new(&args, RD_KAFKA_PRODUCER, conf, true, &rc) : NULL;
    if (cl) {
        if (sl_cli_has(&args, "add")) {
            rc = add(cl, &args, res, nres);
        } else if (sl_cli_has(&args, "remove")) {
            rc = remove_acls(cl, &args, res, nres);
        } else {
            rc = list(cl, &args, res, nres);
        }
        sl_cli_client_free(cl);
    }
out:
    sl_cli_args_fini(&args);
    return rc;
}
