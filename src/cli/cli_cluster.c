/*
 * cli_cluster.c - `sluice cluster` (being written).
 */
#include "cli/cli.h"

int sl_cli_cluster(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return sl_cli_fail("sluice cluster is not written yet");
}
