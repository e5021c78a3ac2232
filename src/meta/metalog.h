/*
 * metalog.h - the __cluster_metadata log: KRaft metadata records, each the
 * value of one record in a record batch, one batch per change, stored with
 * the same segment files as any partition.
 */
#ifndef SL_META_METALOG_H
#define SL_META_METALOG_H

#include <stdint.h>

#include "meta/controller.h"

struct sl_metalog;

typedef int (*sl_metalog_fn)(void *arg, int16_t type, int16_t version, const void *rec, int64_t offset);

/* Opens (creating or recovering) dir/__cluster_metadata-0. */
int  sl_metalog_open(const char *dir, struct sl_metalog **out);
/* Calls fn for every record from the start, in order. A batch that fails to
 * decode stops the replay with -EBADMSG: a metadata log is never guessed at. */
int  sl_metalog_replay(struct sl_metalog *ml, sl_metalog_fn fn, void *arg);
/* Appends recs as one batch and syncs it. The offset of recs[0] goes to
 * *base_offset. 0 or -errno (nothing appended). */
int  sl_metalog_append(struct sl_metalog *ml, const struct sl_meta_rec *recs, int n, int64_t *base_offset);
void sl_metalog_close(struct sl_metalog *ml);
/* The offset the next record will get. */
int64_t sl_metalog_end_offset(const struct sl_metalog *ml);

#endif
