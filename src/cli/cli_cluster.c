/*
 * cli_cluster.c - `sluice cluster`: the cluster id, the active controller and the
 * brokers (id, host:port, rack). Racks come from a raw Metadata v12 request
 * (cli_raw.c) on PLAINTEXT clusters; elsewhere they print as "-".
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_raw.h"

static const struct sl_cli_flag flags[] = {{NULL}};

static const struct sl_cli_cmd cmd = {
    "cluster",
    "cluster id, controller and brokers",
    "cluster [--bootstrap-server HOST:PORT] [--output json]",
    flags,
    "  sluice cluster\n"
    "  sluice cluster --output json --command-config client.properties\n",
};

static int cmp_broker(const void *a, const void *b)
{
    return ((const rd_kafka_metadata_broker_t *)a)->id - ((const rd_kafka_metadata_broker_t *)b)->id;
}

int sl_cli_cluster(int argc, char **argv)
{
    struct sl_cli_args args;
    int rc = sl_cli_parse(&cmd, argc, argv, &args);
    if (rc != SL_CLI_CONTINUE) {
        sl_cli_args_fini(&args);
        return rc;
    }
    rd_kafka_conf_t *conf = sl_cli_conf_new(&args, &rc);
    struct sl_cli_client *cl = conf ? sl_cli_client_new(&args, RD_KAFKA_PRODUCER, conf, false, &rc) : NULL;
    const struct rd_kafka_metadata *md;
    if (cl && (rc = sl_cli_metadata(cl, &md)) == 0) {
        char *id = rd_kafka_clusterid(cl->rk, cl->timeout_ms);
        int32_t ctl = rd_kafka_controllerid(cl->rk, cl->timeout_ms);
        struct sl_cli_raw_md *raw = sl_cli_raw_metadata(cl);
        rd_kafka_metadata_broker_t *b = malloc(sizeof(*b) * (size_t)(md->broker_cnt + 1));
        memcpy(b, md->brokers, sizeof(*b) * (size_t)md->broker_cnt);
        qsort(b, (size_t)md->broker_cnt, sizeof(*b), cmp_broker);
        if (sl_cli_json(&args)) {
            printf("{\"cluster_id\":");
            sl_cli_jstr(stdout, id, -1);
            printf(",\"controller\":%d,\"brokers\":[", ctl);
            for (int i = 0; i < md->broker_cnt; i++) {
                printf("%s{\"id\":%d,\"host\":", i ? "," : "", b[i].id);
                sl_cli_jstr(stdout, b[i].host, -1);
                printf(",\"port\":%d,\"rack\":", b[i].port);
                sl_cli_jstr(stdout, sl_cli_raw_rack(raw, b[i].id), -1);
                printf("}");
            }
            printf("]}\n");
        } else {
            printf("Cluster ID: %s\nController: %d\nBrokers: %d\n\n", id ? id : "-", ctl,
                   md->broker_cnt);
            printf("%-6s %-30s %s\n", "ID", "HOST:PORT", "RACK");
            for (int i = 0; i < md->broker_cnt; i++) {
                char hp[300];
                const char *rack = sl_cli_raw_rack(raw, b[i].id);
                snprintf(hp, sizeof(hp), "%s:%d", b[i].host, b[i].port);
                printf("%-6d %-30s %s%s\n", b[i].id, hp, rack ? rack : "-",
                       b[i].id == ctl ? "   (controller)" : "");
            }
        }
        free(b);
        sl_cli_raw_free(raw);
        if (id) {
            rd_kafka_mem_free(cl->rk, id);
        }
        rd_kafka_metadata_destroy(md);
    }
    sl_cli_client_free(cl);
    sl_cli_args_fini(&args);
    return rc;
}
