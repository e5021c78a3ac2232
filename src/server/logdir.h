/*
 * logdir.h - the identity of a log directory: Kafka's meta.properties.
 *
 * Kafka keeps the cluster id and node id of a log directory in
 * meta.properties (written by kafka-storage format); no metadata record
 * carries the cluster id. Sluice writes the same file at first start, so a
 * directory that belongs to another node or cluster is refused rather than
 * silently mixed in. See docs/metadata.md.
 */
#ifndef SL_SERVER_LOGDIR_H
#define SL_SERVER_LOGDIR_H

#include <stddef.h>
#include <stdint.h>

/* Creates dir if needed; reads or writes dir/meta.properties. want_cluster_id
 * ("" for any) must match an existing one. The cluster id in force goes to
 * cluster_id_out (23 bytes). 0, or -errno with err set. */
int sl_logdir_prepare(const char *dir, int32_t node_id, const char *want_cluster_id,
                      char cluster_id_out[32], char *err, size_t errlen);

#endif
