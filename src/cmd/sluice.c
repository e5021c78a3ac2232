/*
 * sluice.c - main() of the `sluice` command-line tool: finds the command in a
 * table and hands it the rest of the command line. The commands live in
 * src/cli/ (one file per family); see docs/cli.md.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"topics", sl_cli_topics, "create, list, describe, alter and delete topics (kafka-topics.sh)"},
    {"produce", sl_cli_produce, "write lines from stdin or a file to a topic (console producer)"},
    {"consume", sl_cli_consume, "print a topic's messages (console consumer)"},
    {"groups", sl_cli_groups, "list, describe, delete consumer groups, reset their offsets"},
    {"configs", sl_cli_configs, "describe and alter topic and broker configs (kafka-configs.sh)"},
    {"cluster", sl_cli_cluster, "cluster id, controller and brokers"},
    {"offsets", sl_cli_offsets, "earliest, latest or by-time offsets per partition"},
    {"perf", sl_cli_perf, "producer and consumer performance tests"},
    {"users", sl_cli_users, "list, add, change and delete SCRAM users"},
    {"acls", sl_cli_acls, "add, remove and list ACLs (kafka-acls.sh)"},
};

static void usage(FILE *out)
{
    fprintf(out, "sluice - command-line tool for Sluice and any Kafka-compatible cluster\n\n"
                 "Usage: sluice COMMAND [OPTIONS]   (sluice COMMAND --help for each)\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(out, "\nEvery command takes --bootstrap-server (default $SLUICE_BOOTSTRAP, then "
                 "127.0.0.1:9092),\n--command-config FILE (Kafka client properties), "
                 "--timeout-ms and --output text|json.\n\n"
                 "Examples:\n"
                 "  sluice topics --create --topic orders --partitions 3\n"
                 "  echo hello | sluice produce --topic orders\n"
                 "  sluice consume --topic orders --from-beginning --max-messages 1\n"
                 "  sluice groups --describe --group billing\n"
                 "\nExit status: 0 ok, 1 the operation failed, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SL_CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return SL_CLI_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("sluice 0.1 (librdkafka %s)\n", rd_kafka_version_str());
        return SL_CLI_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return commands[i].run(argc - 2, argv + 2);
        }
    }
    fprintf(stderr, "sluice: unknown command '%s'\nRun 'sluice --help' for the commands.\n", name);
    return SL_CLI_USAGE;
}
