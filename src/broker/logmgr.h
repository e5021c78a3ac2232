/*
 * logmgr.h - the background work on the hosted partition logs (Kafka's
 * LogManager and LogCleaner), on two threads of its own so the event loops
 * never wait for it (DESIGN principle 5):
 *   retention thread: every log.retention.check.interval.ms applies
 *     retention.ms / retention.bytes to partitions whose cleanup.policy has
 *     "delete"; every 60 s (and at close) writes the log dir's
 *     recovery-point-offset-checkpoint, log-start-offset-checkpoint and
 *     cleaner-offset-checkpoint.
 *   cleaner thread (log.cleaner.enable): compacts partitions whose
 *     cleanup.policy has "compact", backing off log.cleaner.backoff.ms when
 *     nothing was dirty enough.
 * Both take a reference on each partition they work on and its lock only
 * for the moment a segment list changes.
 *
 * Start-up: sl_logmgr_new reads the checkpoint files; partitions opened
 * until sl_logmgr_start take their recovery point, log start and cleaner
 * offsets from them (sl_logmgr_initial). Stop: sl_logmgr_free before the
 * partitions close.
 */
#ifndef SL_BROKER_LOGMGR_H
#define SL_BROKER_LOGMGR_H

#include <stdint.h>

struct sl_broker;
struct sl_conf;
struct sl_image;
struct sl_image_topic;
struct sl_part_cleanup;
struct sl_logmgr;

/* Reads the checkpoint files of log dir `dir`. 0 or -ENOMEM. Thread: main. */
int  sl_logmgr_new(struct sl_broker *broker, const char *dir, struct sl_logmgr **out);
/* Starts the threads; offsets read at start-up are no longer handed out. */
int  sl_logmgr_start(struct sl_logmgr *lm);
/* Stops the threads, syncs every log and writes the checkpoint files.
 * Thread: main, after the loops and before sl_parts_free. */
void sl_logmgr_free(struct sl_logmgr *lm);

/* The recovery point, log start offset and cleaner offset checkpointed for a
 * partition (-1 each when unknown or after sl_logmgr_start). lm may be NULL. */
void sl_logmgr_initial(struct sl_logmgr *lm, const char *topic, int32_t partition, int64_t *recovery_point,
                       int64_t *log_start_offset, int64_t *cleaner_offset);
/* Writes the three checkpoint files now. 0 or -errno. Thread: any (serialized). */
int  sl_logmgr_checkpoint(struct sl_logmgr *lm);

/* Computes a partition's effective retention, compaction and compression
 * configs (topic value, else the broker's dynamic or static one) into c. Thread: controller
 * (parts.c apply_configs). */
void sl_logmgr_apply_configs(struct sl_part_cleanup *c, const struct sl_image *img, int32_t node,
                             const struct sl_image_topic *t, const struct sl_conf *conf);
/* compression.type -> -1 (producer) or enum sl_codec (uncompressed = 0); -2 unknown. */
int  sl_logmgr_codec(const char *compression_type);

#endif
