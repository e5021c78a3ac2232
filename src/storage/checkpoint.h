/*
 * checkpoint.h - Kafka's small text files beside the logs, written atomically
 * (write <path>.tmp, fsync, rename over <path>, fsync the directory) so a crash
 * leaves either the old or the new file, never a mix:
 *   <logdir>/recovery-point-offset-checkpoint, <logdir>/log-start-offset-checkpoint
 *       "0\n<count>\n<topic> <partition> <offset>\n..."
 *   <partition dir>/leader-epoch-checkpoint  "0\n<count>\n<epoch> <start offset>\n..."
 *   <partition dir>/partition.metadata       "version: 0\ntopic_id: <base64url uuid>\n"
 * Thread: any; callers serialize writes to one file.
 */
#ifndef SL_STORAGE_CHECKPOINT_H
#define SL_STORAGE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

/* Replaces `path` with `len` bytes atomically and durably. 0 or -errno. */
int sl_ckpt_write_atomic(const char *path, const void *data, size_t len);

struct sl_ckpt_offset {
    char topic[256];   /* topic name, NUL-terminated */
    int32_t partition; /* partition index */
    int64_t offset;    /* recovery point or log start offset */
};

/* Writes the offsets file. 0 or -errno. */
int sl_ckpt_offsets_write(const char *path, const struct sl_ckpt_offset *e, size_t n);
/* Reads it into a new malloc'd array (*out, caller frees; NULL when n == 0).
 * 0, -ENOENT (no file), -EBADMSG (malformed), -ENOMEM. */
int sl_ckpt_offsets_read(const char *path, struct sl_ckpt_offset **out, size_t *n);

struct sl_epoch_entry {
    int32_t epoch;        /* leader epoch */
    int64_t start_offset; /* first offset written in that epoch */
};

int sl_ckpt_epochs_write(const char *path, const struct sl_epoch_entry *e, size_t n);
/* 0, -ENOENT, -EBADMSG, -ENOMEM; *out malloc'd (caller frees). */
int sl_ckpt_epochs_read(const char *path, struct sl_epoch_entry **out, size_t *n);

/* partition.metadata with the topic id (16 bytes). */
int sl_ckpt_partition_metadata_write(const char *dir, const uint8_t topic_id[16]);
/* 0, -ENOENT, -EBADMSG. */
int sl_ckpt_partition_metadata_read(const char *dir, uint8_t topic_id[16]);

/* fsyncs a directory (after creating, renaming or unlinking in it). */
int sl_ckpt_fsync_dir(const char *dir);

#endif
