/*
 * cli_perf.c - `sluice perf` (being written).
 */
#include "cli/cli.h"

int sl_cli_perf(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return sl_cli_fail("sluice perf is not written yet");
}
