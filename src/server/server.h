/*
 * server.h - assembles one sluiced process from its modules and runs it
 * until SIGTERM or SIGINT.
 */
#ifndef SL_SERVER_SERVER_H
#define SL_SERVER_SERVER_H

/* The whole life of sluiced; returns the process exit code. Thread: main. */
int sl_server_main(int argc, char **argv);

#endif
