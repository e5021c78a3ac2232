/*
 * cli_offsets.c - `sluice offsets` (being written).
 */
#include "cli/cli.h"

int sl_cli_offsets(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return sl_cli_fail("sluice offsets is not written yet");
}
