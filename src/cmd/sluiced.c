/*
 * sluiced.c - the Sluice server: parses the configuration, recovers the
 * metadata log and partitions, starts the network loops, and waits for
 * SIGTERM or SIGINT to shut down cleanly. main() only; the work is in
 * src/server/.
 */
#include <stdio.h>

#include "server/server.h"

int main(int argc, char **argv)
{
    return sl_server_main(argc, argv);
}
