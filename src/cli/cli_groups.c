/*
 * cli_groups.c - `sluice groups` (being written).
 */
#include "cli/cli.h"

int sl_cli_groups(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return sl_cli_fail("sluice groups is not written yet");
}
