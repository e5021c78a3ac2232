/*
 * cli_produce.c - `sluice produce` (being written).
 */
#include "cli/cli.h"

int sl_cli_produce(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return sl_cli_fail("sluice produce is not written yet");
}
