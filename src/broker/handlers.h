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

/* h_topics.c */
void sl_handle_CreateTopics(struct sl_call *call);
void sl_handle_DeleteTopics(struct sl_call *call);

/* h_configs.c */
void sl_handle_DescribeConfigs(struct sl_call *call);
void sl_handle_AlterConfigs(struct sl_call *call);
void sl_handle_IncrementalAlterConfigs(struct sl_call *call);

/* h_admin.c */
void sl_handle_CreatePartitions(struct sl_call *call);
void sl_handle_DeleteRecords(struct sl_call *call);
void sl_handle_DescribeLogDirs(struct sl_call *call);
void sl_handle_ElectLeaders(struct sl_call *call);

/* h_produce.c */
void sl_handle_Produce(struct sl_call *call);

/* h_fetch.c */
void sl_handle_Fetch(struct sl_call *call);

/* h_offsets.c */
void sl_handle_ListOffsets(struct sl_call *call);
void sl_handle_OffsetForLeaderEpoch(struct sl_call *call);

/* h_group.c */
void sl_handle_FindCoordinator(struct sl_call *call);
void sl_handle_JoinGroup(struct sl_call *call);
void sl_handle_SyncGroup(struct sl_call *call);
void sl_handle_Heartbeat(struct sl_call *call);
void sl_handle_LeaveGroup(struct sl_call *call);
void sl_handle_OffsetCommit(struct sl_call *call);
void sl_handle_OffsetFetch(struct sl_call *call);
void sl_handle_OffsetDelete(struct sl_call *call);
void sl_handle_DescribeGroups(struct sl_call *call);
void sl_handle_ListGroups(struct sl_call *call);
void sl_handle_DeleteGroups(struct sl_call *call);
void sl_handle_ConsumerGroupHeartbeat(struct sl_call *call);
void sl_handle_ConsumerGroupDescribe(struct sl_call *call);

/* h_txn.c */
void sl_handle_InitProducerId(struct sl_call *call);
void sl_handle_TxnCoordinator(struct sl_call *call); /* the txn/tc.h APIs */
void sl_handle_DescribeProducers(struct sl_call *call);

/* h_sasl.c (see broker/sasl.h) */
void sl_handle_SaslHandshake(struct sl_call *call);
void sl_handle_SaslAuthenticate(struct sl_call *call);
void sl_handle_AlterUserScramCredentials(struct sl_call *call);
void sl_handle_DescribeUserScramCredentials(struct sl_call *call);
/* h_acls.c */
void sl_handle_CreateAcls(struct sl_call *call);
void sl_handle_DescribeAcls(struct sl_call *call);
void sl_handle_DeleteAcls(struct sl_call *call);

#endif
