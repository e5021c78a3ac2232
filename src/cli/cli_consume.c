/*
 * cli_consume.c - `sluice consume` (being written).
 */
#include "cli/cli.h"

int sl_cli_consume(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return sl_cli_fail("sluice consume is not written yet");
}
