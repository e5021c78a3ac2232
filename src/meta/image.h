/*
 * image.h - the metadata image: an immutable snapshot of cluster state
 * (brokers, topics, partitions, configs) built by applying metadata records
 * from __cluster_metadata, and published by pointer swap.
 *
 * Readers take a reference with sl_image_acquire() and never see a half-made
 * change; writers build a new image from the old one with a builder, which
 * shares every unchanged topic with its predecessor (topics are immutable and
 * reference counted), so a change costs O(topics) pointer copies, not a deep
 * copy of every partition.
 */
#ifndef SL_META_IMAGE_H
#define SL_META_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/slice.h"
#include "proto/kp.h"

#define SL_IMAGE_MAX_ENDPOINTS 8

struct sl_scram_set;

struct sl_image_endpoint {
    char name[64];             /* listener name, e.g. PLAINTEXT */
    char host[256];            /* advertised host */
    int port;                  /* advertised port */
    int16_t security_protocol; /* 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL */
};

struct sl_image_broker {
    int32_t id;                /* node.id */
    int64_t epoch;             /* broker epoch: the metadata offset of its registration */
    struct sl_uuid incarnation;/* changes at every process start */
    char rack[64];             /* broker.rack, "" when none */
    bool has_rack;             /* false: rack is null */
    bool fenced;               /* fenced brokers lead nothing */
    int endpoints_n;
    struct sl_image_endpoint endpoints[SL_IMAGE_MAX_ENDPOINTS];
};

struct sl_image_partition {
    int32_t id;                /* partition index */
    int32_t leader;            /* broker id, -1 none */
    int32_t leader_epoch;
    int32_t partition_epoch;
    int32_t replicas_n, isr_n;
    int32_t *replicas;         /* preferred order */
    int32_t *isr;
};

struct sl_image_config {
    char *key;
    char *value;
};

struct sl_image_topic {
    int refs;                  /* images sharing this topic; atomic */
    char *name;
    struct sl_uuid id;
    int32_t partitions_n;
    struct sl_image_partition *partitions; /* index == partition id */
    int32_t partitions_cap;                /* entries allocated at partitions (the builder's) */
    int32_t configs_n;
    struct sl_image_config *configs;       /* dynamic topic configs, sorted by key */
};

struct sl_image {
    int refs;                      /* holders of this image; atomic */
    int64_t offset;                /* last __cluster_metadata offset applied, -1 none */
    char cluster_id[32];           /* base64url, 22 chars */
    int32_t controller_id;         /* active controller, -1 unknown */
    int16_t metadata_version;      /* metadata.version feature level, 0 none */
    int64_t next_producer_id;      /* first producer id not yet handed out in a block */
    int32_t brokers_n;
    struct sl_image_broker *brokers;        /* sorted by id */
    int32_t topics_n;
    struct sl_image_topic **by_name;        /* sorted by name */
    struct sl_image_topic **by_id;          /* sorted by id */
    int32_t broker_configs_n;
    struct sl_image_config *broker_configs; /* dynamic configs of this broker and <default>, "id:key" sorted */
    struct sl_scram_set *scram;             /* SCRAM credentials (security/scram_store.h), NULL = none */
    struct sl_acl_set *acls;                /* ACLs (security/acl.h), shared between images; NULL none */
};

/* Publication. Thread: any. */
void sl_image_publish(struct sl_image *img);         /* takes ownership; the previous one is released */
struct sl_image *sl_image_acquire(void);             /* the current image, referenced; never NULL after the first publish */
void sl_image_release(struct sl_image *img);

/* Lookups on an image (borrowed results, valid while img is held). */
const struct sl_image_topic *sl_image_topic_by_name(const struct sl_image *img, struct sl_slice name);
const struct sl_image_topic *sl_image_topic_by_id(const struct sl_image *img, const struct sl_uuid *id);
const struct sl_image_broker *sl_image_broker(const struct sl_image *img, int32_t id);
const char *sl_image_topic_config(const struct sl_image_topic *t, const char *key); /* NULL if unset */

/* Building the next image. Thread: the metadata writer only. */
struct sl_image_builder;
struct sl_acl_set;
struct sl_image_builder *sl_image_builder_new(const struct sl_image *base); /* base may be NULL */
int  sl_image_set_cluster(struct sl_image_builder *b, const char *cluster_id, int32_t controller_id);
int  sl_image_set_metadata_version(struct sl_image_builder *b, int16_t level);
int  sl_image_set_next_producer_id(struct sl_image_builder *b, int64_t next);
/* The image as built so far (borrowed; valid until the next builder call). */
const struct sl_image *sl_image_builder_peek(const struct sl_image_builder *b);
/* The ACL set being built, for meta/acls.c to change with sl_acl_set_add/remove. */
struct sl_acl_set **sl_image_builder_acls(struct sl_image_builder *b);
int  sl_image_put_broker(struct sl_image_builder *b, const struct sl_image_broker *broker);
int  sl_image_fence_broker(struct sl_image_builder *b, int32_t id, bool fenced);
int  sl_image_add_topic(struct sl_image_builder *b, struct sl_slice name, const struct sl_uuid *id);
int  sl_image_remove_topic(struct sl_image_builder *b, const struct sl_uuid *id);
/* Adds or replaces one partition of a topic (PartitionRecord / PartitionChangeRecord applied by the caller). */
int  sl_image_put_partition(struct sl_image_builder *b, const struct sl_uuid *topic_id,
                            const struct sl_image_partition *p);
/* Sets (value non-NULL) or deletes a dynamic config. type: 2 TOPIC, 4 BROKER (Kafka's ConfigResource types). */
int  sl_image_set_config(struct sl_image_builder *b, int8_t type, struct sl_slice name,
                         struct sl_slice key, const struct sl_slice *value);
/* Replaces the SCRAM credential set (takes ownership of set's reference). */
int  sl_image_set_scram(struct sl_image_builder *b, struct sl_scram_set *set);
/* Finishes: returns the new image (refs 1) and frees the builder. NULL on -ENOMEM. */
struct sl_image *sl_image_builder_finish(struct sl_image_builder *b, int64_t offset);
void sl_image_builder_free(struct sl_image_builder *b);

/* Kafka's printable form of a uuid: base64url without padding (22 chars + NUL). */
void sl_uuid_to_base64(const struct sl_uuid *u, char out[23]);
int  sl_uuid_from_base64(const char *s, struct sl_uuid *u);
void sl_uuid_random(struct sl_uuid *u);

#endif
