/*
 * cli_configs.c - `sluice configs`, the kafka-configs.sh of Sluice, for topics and
 * brokers: --describe [--all] prints
 *   Dynamic configs for topic t are:
 *     retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}
 * and --alter --add-config k=v,k2=[a,b] --delete-config k3 changes them.
 *
 * librdkafka 2.0 has no IncrementalAlterConfigs, so --alter reads the entity's
 * dynamic configs, applies the change and writes the whole set back with
 * AlterConfigs (what kafka-configs.sh did before KIP-339). Two concurrent
 * --alter runs on one entity can therefore lose one's change.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct sl_cli_flag flags[] = {
    {"describe", SL_CLI_FLAG, NULL, "show configs"},
    {"alter", SL_CLI_FLAG, NULL, "change configs"},
    {"entity-type", SL_CLI_ARG, "topics|brokers", "kind of entity"},
    {"entity-name", SL_CLI_ARG, "NAME", "topic name or broker id"},
    {"entity-default", SL_CLI_FLAG, NULL, "brokers: the cluster-wide default"},
    {"topic", SL_CLI_ARG, "NAME", "same as --entity-type topics --entity-name NAME"},
    {"broker", SL_CLI_ARG, "ID", "same as --entity-type brokers --entity-name ID"},
    {"all", SL_CLI_FLAG, NULL, "describe: every config, defaults included"},
    {"add-config", SL_CLI_LIST, "K=V,K2=[A,B]", "configs to set"},
    {"delete-config", SL_CLI_LIST, "K,K2", "configs to remove (back to the default)"},
    {NULL},
};

static const struct sl_cli_cmd cmd = {
    "configs",
    "describe and alter topic and broker configs (kafka-configs.sh)",
    "configs --describe --entity-type topics|brokers [--entity-name NAME] [--all]\n"
    "configs --alter --entity-type topics|brokers --entity-name NAME\n"
    "        [--add-config K=V,...] [--delete-config K,...]",
    flags,
    "  sluice configs --describe --entity-type topics --entity-name orders\n"
    "  sluice configs --describe --topic orders --all\n"
    "  sluice configs --alter --entity-type topics --entity-name orders \\\n"
    "      --add-config retention.ms=86400000,cleanup.policy=[compact,delete]\n"
    "  sluice configs --alter --topic orders --delete-config retention.ms\n"
    "  sluice configs --describe --entity-type brokers --entity-name 1\n"
    "  sluice configs --alter --entity-type brokers --entity-default \\\n"
    "      --add-config log.retention.ms=604800000\n",
};

struct entity {
    rd_kafka_ResourceType_t type;
    const char *kind;  /* "topic", "broker" */
    const char *name;  /* "" for the broker default */
    char label[300];   /* "topic t", "broker 1", "brokers in the cluster" */
};

static int entity(const struct sl_cli_args *args, struct entity *e)
{
    const char *type = sl_cli_str(args, "entity-type");
    const char *name = sl_cli_str(args, "entity-name");
    if (sl_cli_str(args, "topic")) {
        type = "topics";
        name = sl_cli_str(args, "topic");
    } else if (sl_cli_str(args, "broker")) {
        type = "brokers";
        name = sl_cli_str(args, "broker");
    }
    if (!type) {
        return sl_cli_usage(args, "give --entity-type topics|brokers (or --topic / --broker)");
    }
    if (strcmp(type, "topics") == 0 || strcmp(type, "topic") == 0) {
        e->type = RD_KAFKA_RESOURCE_TOPIC;
        e->kind = "topic";
    } else if (strcmp(type, "brokers") == 0 || strcmp(type, "broker") == 0) {
        e->type = RD_KAFKA_RESOURCE_BROKER;
        e->kind = "broker";
    } else {
        return sl_cli_usage(args, "--entity-type must be topics or brokers, not '%s'", type);
    }
    if (sl_cli_has(args, "entity-default")) {
        if (e->type != RD_KAFKA_RESOURCE_BROKER || name) {
            return sl_cli_usage(args, "--entity-default goes with --entity-type brokers alone");
        }
        name = "";
    }
    if (!name) {
        return sl_cli_usage(args, "give --entity-name (or --entity-default for brokers)");
    }
    e->name = name;
    if (*name) {
        snprintf(e->label, sizeof(e->label), "%s %s", e->kind, name);
    } else {
        snprintf(e->label, sizeof(e->label), "brokers in the cluster");
    }
    return 0;
}

/* Entries the entity itself sets (what kafka-configs.sh shows without --all). */
static bool own_source(const struct entity *e, rd_kafka_ConfigSource_t src)
{
    if (e->type == RD_KAFKA_RESOURCE_TOPIC) {
        return src == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
    }
    return *e->name ? src == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG
                    : src == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG;
}

/* DescribeConfigs of one entity; *ev owns the result. */
static int fetch(struct sl_cli_client *cl, const struct entity *e, rd_kafka_event_t **ev,
                 const rd_kafka_ConfigEntry_t ***entries, size_t *n)
{
    char what[400];
    snprintf(what, sizeof(what), "cannot describe the configs of %s", e->label);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(e->type, e->name);
    rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
    rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    if (e->type == RD_KAFKA_RESOURCE_BROKER && *e->name) {
        char errstr[128];
        rd_kafka_AdminOptions_set_broker(o, atoi(e->name), errstr, sizeof(errstr));
    }
    rd_kafka_DescribeConfigs(cl->rk, &res, 1, o, q);
    *ev = sl_cli_admin_wait(cl, q, what);
    int rc = *ev ? 0 : SL_CLI_FAIL;
    if (*ev) {
        size_t nr;
        const rd_kafka_ConfigResource_t **rr = rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(*ev), &nr);
        rd_kafka_resp_err_t err = nr ? rd_kafka_ConfigResource_error(rr[0]) : RD_KAFKA_RESP_ERR__FAIL;
        if (err) {
            char buf[256];
            const char *msg = nr ? rd_kafka_ConfigResource_error_string(rr[0]) : NULL;
            rc = err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                     ? sl_cli_fail("topic '%s' does not exist", e->name)
                     : sl_cli_fail("%s: %s", what, msg && *msg ? msg : sl_cli_errstr(err, buf, sizeof(buf)));
            rd_kafka_event_destroy(*ev);
            *ev = NULL;
        } else {
            *entries = (const rd_kafka_ConfigEntry_t **)rd_kafka_ConfigResource_configs(rr[0], n);
        }
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    return rc;
}

static void print_entry(const rd_kafka_ConfigEntry_t *c, bool json, bool first)
{
    bool sens = rd_kafka_ConfigEntry_is_sensitive(c);
    const char *v = sens ? NULL : rd_kafka_ConfigEntry_value(c);
    size_t ns;
    const rd_kafka_ConfigEntry_t **syn = rd_kafka_ConfigEntry_synonyms(c, &ns);
    if (json) {
        printf("%s{\"name\":", first ? "" : ",");
        sl_cli_jstr(stdout, rd_kafka_ConfigEntry_name(c), -1);
        printf(",\"value\":");
        sl_cli_jstr(stdout, v, -1);
        printf(",\"source\":");
        sl_cli_jstr(stdout, rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(c)), -1);
        printf(",\"sensitive\":%s,\"read_only\":%s}", sens ? "true" : "false",
               rd_kafka_ConfigEntry_is_read_only(c) ? "true" : "false");
        return;
    }
    printf("  %s=%s sensitive=%s synonyms={", rd_kafka_ConfigEntry_name(c), v ? v : "null",
           sens ? "true" : "false");
    for (size_t i = 0; i < ns; i++) {
        const char *sv = rd_kafka_ConfigEntry_is_sensitive(syn[i]) ? NULL
                                                                    : rd_kafka_ConfigEntry_value(syn[i]);
        printf("%s%s:%s=%s", i ? ", " : "", rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(syn[i])),
               rd_kafka_ConfigEntry_name(syn[i]), sv ? sv : "null");
    }
    printf("}\n");
}

static int describe(struct sl_cli_client *cl, const struct sl_cli_args *args, const struct entity *e)
{
    rd_kafka_event_t *ev;
    const rd_kafka_ConfigEntry_t **c;
    size_t n;
    int rc = fetch(cl, e, &ev, &c, &n);
    if (rc) {
        return rc;
    }
    bool all = sl_cli_has(args, "all"), json = sl_cli_json(args), first = true;
    if (json) {
        printf("{\"entity_type\":\"%ss\",\"entity_name\":", e->kind);
        sl_cli_jstr(stdout, e->name, -1);
        printf(",\"configs\":[");
    } else if (*e->name) {
        printf("%s configs for %s are:\n", all ? "All" : "Dynamic", e->label);
    } else {
        printf("Default configs for brokers in the cluster are:\n");
    }
    for (size_t i = 0; i < n; i++) {
        if (all || own_source(e, rd_kafka_ConfigEntry_source(c[i]))) {
            print_entry(c[i], json, first);
            first = false;
        }
    }
    if (json) {
        printf("]}\n");
    }
    rd_kafka_event_destroy(ev);
    return 0;
}

/* Splits "k=v,k2=[a,b]" into the resource: commas inside [] belong to the value,
 * and the brackets go (Kafka's list syntax). */
static int add_configs(const struct sl_cli_args *args, const char *spec, char ***kv, int *n)
{
    char *s = strdup(spec), *p = s;
    while (*p) {
        char *start = p;
        int depth = 0;
        while (*p && (depth || *p != ',')) {
            depth += *p == '[' ? 1 : *p == ']' ? -1 : 0;
            p++;
        }
        if (*p) {
            *p++ = '\0';
        }
        char *eq = strchr(start, '=');
        if (!eq || eq == start) {
            free(s);
            return sl_cli_usage(args, "--add-config takes K=V[,K=V], not '%s'", start);
        }
        char *v = eq + 1;
        size_t vl = strlen(v);
        if (vl >= 2 && v[0] == '[' && v[vl - 1] == ']') {
            memmove(v, v + 1, vl - 2);
            v[vl - 2] = '\0';
        }
        *kv = realloc(*kv, sizeof(char *) * (size_t)(*n + 1));
        (*kv)[(*n)++] = strdup(start);
    }
    free(s);
    return 0;
}

static int alter(struct sl_cli_client *cl, const struct sl_cli_args *args, const struct entity *e)
{
    char **adds = NULL;
    int nadd = 0, pos = 0, rc = 0;
    const char *spec;
    while (!rc && (spec = sl_cli_next(args, "add-config", &pos))) {
        rc = add_configs(args, spec, &adds, &nadd);
    }
    if (!rc && !nadd && !sl_cli_has(args, "delete-config")) {
        rc = sl_cli_usage(args, "--alter needs --add-config or --delete-config");
    }
    rd_kafka_event_t *ev = NULL;
    const rd_kafka_ConfigEntry_t **c = NULL;
    size_t n = 0;
    if (!rc) {
        rc = fetch(cl, e, &ev, &c, &n);
    }
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(e->type, e->name);
    /* Keep what the entity sets now, minus deletions and the keys being added. */
    for (size_t i = 0; !rc && i < n; i++) {
        const char *name = rd_kafka_ConfigEntry_name(c[i]);
        bool drop = !own_source(e, rd_kafka_ConfigEntry_source(c[i]));
        for (int a = 0; a < nadd; a++) {
            drop |= strncmp(adds[a], name, strlen(name)) == 0 && adds[a][strlen(name)] == '=';
        }
        int dp = 0;
        while ((spec = sl_cli_next(args, "delete-config", &dp))) {
            char *copy = strdup(spec), *save;
            for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
                drop |= strcmp(k, name) == 0;
            }
            free(copy);
        }
        if (!drop) {
            rd_kafka_ConfigResource_set_config(res, name, rd_kafka_ConfigEntry_value(c[i]));
        }
    }
    /* A key to delete must be set on the entity now, as kafka-configs.sh checks. */
    int dp = 0;
    while (!rc && (spec = sl_cli_next(args, "delete-config", &dp))) {
        char *copy = strdup(spec), *save;
        for (char *k = strtok_r(copy, ",", &save); k && !rc; k = strtok_r(NULL, ",", &save)) {
            bool found = false;
            for (size_t i = 0; i < n; i++) {
                found |= strcmp(rd_kafka_ConfigEntry_name(c[i]), k) == 0 &&
                         own_source(e, rd_kafka_ConfigEntry_source(c[i]));
            }
            if (!found) {
                rc = sl_cli_fail("invalid config(s): %s is not set on %s", k, e->label);
            }
        }
        free(copy);
    }
    for (int a = 0; !rc && a < nadd; a++) {
        char *eq = strchr(adds[a], '=');
        *eq = '\0';
        rd_kafka_ConfigResource_set_config(res, adds[a], eq + 1);
        *eq = '=';
    }
    if (!rc) {
        char what[400];
        snprintf(what, sizeof(what), "cannot alter the configs of %s", e->label);
        rd_kafka_queue_t *q = rd_kafka_queue_new(cl->rk);
        rd_kafka_AdminOptions_t *o = sl_cli_admin_options(cl, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
        if (e->type == RD_KAFKA_RESOURCE_BROKER && *e->name) {
            char errstr[128];
            rd_kafka_AdminOptions_set_broker(o, atoi(e->name), errstr, sizeof(errstr));
        }
        rd_kafka_AlterConfigs(cl->rk, &res, 1, o, q);
        rd_kafka_event_t *aev = sl_cli_admin_wait(cl, q, what);
        rc = aev ? 0 : SL_CLI_FAIL;
        if (aev) {
            size_t nr;
            const rd_kafka_ConfigResource_t **rr = rd_kafka_AlterConfigs_result_resources(
                rd_kafka_event_AlterConfigs_result(aev), &nr);
            rd_kafka_resp_err_t err = nr ? rd_kafka_ConfigResource_error(rr[0]) : 0;
            if (err) {
                char buf[256];
                const char *msg = rd_kafka_ConfigResource_error_string(rr[0]);
                rc = sl_cli_fail("%s: %s", what, msg && *msg ? msg : sl_cli_errstr(err, buf, sizeof(buf)));
            } else if (sl_cli_json(args)) {
                printf("{\"altered\":true}\n");
            } else {
                printf("Completed updating config for %s.\n", *e->name ? e->label : "broker default");
            }
            rd_kafka_event_destroy(aev);
        }
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
    }
    rd_kafka_ConfigResource_destroy(res);
    if (ev) {
        rd_kafka_event_destroy(ev);
    }
    for (int a = 0; a < nadd; a++) {
        free(adds[a]);
    }
    free(adds);
    return rc;
}

int sl_cli_configs(int argc, char **argv)
{
    struct sl_cli_args args;
    struct entity e;
    int rc = sl_cli_parse(&cmd, argc, argv, &args);
    if (rc != SL_CLI_CONTINUE) {
        goto out;
    }
    if (sl_cli_has(&args, "describe") == sl_cli_has(&args, "alter")) {
        rc = sl_cli_usage(&args, "give one of --describe or --alter");
        goto out;
    }
    if ((rc = entity(&args, &e)) != 0) {
        goto out;
    }
    rd_kafka_conf_t *conf = sl_cli_conf_new(&args, &rc);
    struct sl_cli_client *cl = conf ? sl_cli_client_new(&args, RD_KAFKA_PRODUCER, conf, true, &rc) : NULL;
    if (cl) {
        rc = sl_cli_has(&args, "describe") ? describe(cl, &args, &e) : alter(cl, &args, &e);
        sl_cli_client_free(cl);
    }
out:
    sl_cli_args_fini(&args);
    return rc;
}
