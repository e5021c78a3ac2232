/*
 * cli_configs.c - `sluice configs` (being written).
 */
#include "cli/cli.h"

int sl_cli_configs(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return sl_cli_fail("sluice configs is not written yet");
}
