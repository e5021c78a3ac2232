/*
 * apply.h - applies one decoded metadata record to an image being built.
 * Shared by log replay at start-up and by the controller's writes, so an
 * image rebuilt from the log is exactly the image that was published.
 */
#ifndef SL_META_APPLY_H
#define SL_META_APPLY_H

#include <stdint.h>

struct sl_image_builder;

/* offset: the record's offset in __cluster_metadata (broker epochs).
 * 0, -EINVAL for a record that contradicts the image (logged), -ENOMEM.
 * Record types Sluice does not act on yet are accepted and ignored. */
int sl_meta_apply(struct sl_image_builder *b, int16_t type, int16_t version, const void *rec, int64_t offset);

#endif
