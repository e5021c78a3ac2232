/*
 * handlers.h - one handler per Kafka API, each in the file of its API family.
 * Thread: the loop that read the request; a handler never blocks.
 */
#ifndef SL_BROKER_HANDLERS_H
#define SL_BROKER_HANDLERS_H

#include "broker/broker.h"

/* h_cluster.c */
void sl_handle_ApiVersions(struct sl_call *call);
void sl_handle_Metadata(struct sl_call *call);
void sl_handle_DescribeCluster(struct sl_call *call);

#endif
