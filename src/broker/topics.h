/*
 * topics.h - topic names as Kafka rules them, internal topics, and
 * auto-creation on Metadata.
 */
#ifndef SL_BROKER_TOPICS_H
#define SL_BROKER_TOPICS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/slice.h"

struct sl_broker;

#define SL_TOPIC_NAME_MAX 249

/* 0 when name is a legal topic name; otherwise -EINVAL with err set (if given)
 * to Kafka's reason: empty, "." or "..", longer than 249, or a character
 * outside [a-zA-Z0-9._-]. */
int  sl_topic_validate_name(struct sl_slice name, char *err, size_t errlen);
/* __consumer_offsets and __transaction_state. */
bool sl_topic_is_internal(struct sl_slice name);
/* Kafka's collision rule: '.' and '_' are the same in metric names. */
bool sl_topic_names_collide(struct sl_slice a, struct sl_slice b);
/* Asks the controller to create the topic with the broker's defaults when
 * auto.create.topics.enable is on; true when a creation was requested (or
 * is already under way). Thread: any loop. */
bool sl_topic_autocreate(struct sl_broker *broker, struct sl_slice name);

#endif
