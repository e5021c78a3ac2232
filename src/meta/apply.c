/*
 * apply.c - one function per metadata record type, in a table indexed by
 * the record's apiKey.
 */
#include "meta/apply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "broker/topics.h"
#include "meta/acls.h"
#include "meta/image.h"
#include "proto/gen/meta_records.h"
#include "security/scram_store.h"

typedef int (*apply_fn)(struct sl_image_builder *b, const void *rec, int64_t offset);

static int apply_register_broker(struct sl_image_builder *b, const void *r, int64_t offset)
{
    const struct sl_RegisterBrokerRecord *rec = r;
    struct sl_image_broker br;
    memset(&br, 0, sizeof(br));
    br.id = rec->BrokerId;
    br.epoch = rec->BrokerEpoch >= 0 ? rec->BrokerEpoch : offset;
    br.incarnation = rec->IncarnationId;
    br.fenced = rec->Fenced;
    br.has_rack = rec->Rack.p != NULL;
    snprintf(br.rack, sizeof(br.rack), "%.*s", SL_SLICE_FMT(rec->Rack));
    for (int32_t i = 0; i < rec->EndPoints_n && br.endpoints_n < SL_IMAGE_MAX_ENDPOINTS; i++) {
        struct sl_image_endpoint *ep = &br.endpoints[br.endpoints_n++];
        snprintf(ep->name, sizeof(ep->name), "%.*s", SL_SLICE_FMT(rec->EndPoints[i].Name));
        snprintf(ep->host, sizeof(ep->host), "%.*s", SL_SLICE_FMT(rec->EndPoints[i].Host));
        ep->port = rec->EndPoints[i].Port;
        ep->security_protocol = rec->EndPoints[i].SecurityProtocol;
    }
    return sl_image_put_broker(b, &br);
}

static int apply_fence(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_FenceBrokerRecord *rec = r;
    return sl_image_fence_broker(b, rec->Id, true) == -ENOENT ? -EINVAL : 0;
}

static int apply_unfence(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_UnfenceBrokerRecord *rec = r;
    return sl_image_fence_broker(b, rec->Id, false) == -ENOENT ? -EINVAL : 0;
}

static int apply_topic(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_TopicRecord *rec = r;
    if (sl_topic_validate_name(rec->Name, NULL, 0) < 0)
        return -EINVAL;
    int rc = sl_image_add_topic(b, rec->Name, &rec->TopicId);
    return rc == -EEXIST ? -EINVAL : rc;
}

static int apply_remove_topic(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_RemoveTopicRecord *rec = r;
    int rc = sl_image_remove_topic(b, &rec->TopicId);
    return rc == -ENOENT ? -EINVAL : rc;
}

static int apply_partition(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_PartitionRecord *rec = r;
    struct sl_image_partition p = {
        .id = rec->PartitionId,
        .leader = rec->Leader,
        .leader_epoch = rec->LeaderEpoch,
        .partition_epoch = rec->PartitionEpoch,
        .replicas_n = rec->Replicas_n > 0 ? rec->Replicas_n : 0,
        .isr_n = rec->Isr_n > 0 ? rec->Isr_n : 0,
        .replicas = rec->Replicas,
        .isr = rec->Isr,
    };
    int rc = sl_image_put_partition(b, &rec->TopicId, &p);
    return rc == -ENOENT ? -EINVAL : rc;
}

static int apply_partition_change(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_PartitionChangeRecord *rec = r;
    const struct sl_image *img = sl_image_builder_peek(b);
    const struct sl_image_topic *t = sl_image_topic_by_id(img, &rec->TopicId);
    if (!t || rec->PartitionId < 0 || rec->PartitionId >= t->partitions_n)
        return -EINVAL;
    struct sl_image_partition p = t->partitions[rec->PartitionId];
    /* Kafka's rules: Leader -2 = unchanged, -1 = none; null arrays = unchanged.
     * A new leader bumps the leader epoch; every change bumps the partition epoch. */
    if (rec->Leader != -2 && rec->Leader != p.leader) {
        p.leader = rec->Leader;
        p.leader_epoch++;
    }
    if (rec->Isr_n >= 0) {
        p.isr = rec->Isr;
        p.isr_n = rec->Isr_n;
    }
    if (rec->Replicas_n >= 0) {
        p.replicas = rec->Replicas;
        p.replicas_n = rec->Replicas_n;
    }
    p.partition_epoch++;
    return sl_image_put_partition(b, &rec->TopicId, &p);
}

static int apply_config(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_ConfigRecord *rec = r;
    int rc = sl_image_set_config(b, rec->ResourceType, rec->ResourceName, rec->Name,
                                 rec->Value.p ? &rec->Value : NULL);
    return rc == -ENOENT ? -EINVAL : rc;
}

static int apply_feature(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_FeatureLevelRecord *rec = r;
    if (sl_slice_eq_cstr(rec->Name, "metadata.version"))
        return sl_image_set_metadata_version(b, rec->FeatureLevel);
    return 0;
}

static int apply_producer_ids(struct sl_image_builder *b, const void *r, int64_t offset)
{
    (void)offset;
    const struct sl_ProducerIdsRecord *rec = r;
    return sl_image_set_next_producer_id(b, rec->NextProducerId);
}

static const apply_fn apply_table[SL_META_RECORD_MAX + 1] = {
    [0] = apply_register_broker,   /* RegisterBrokerRecord */
    [2] = apply_topic,             /* TopicRecord */
    [3] = apply_partition,         /* PartitionRecord */
    [4] = apply_config,            /* ConfigRecord */
    [5] = apply_partition_change,  /* PartitionChangeRecord */
    [7] = apply_fence,             /* FenceBrokerRecord */
    [8] = apply_unfence,           /* UnfenceBrokerRecord */
    [9] = apply_remove_topic,      /* RemoveTopicRecord */
    [11] = sl_scram_apply_upsert,  /* UserScramCredentialRecord (security/scram_store.c) */
    [12] = apply_feature,          /* FeatureLevelRecord */
    [15] = apply_producer_ids,     /* ProducerIdsRecord */
    [22] = sl_scram_apply_remove,  /* RemoveUserScramCredentialRecord (security/scram_store.c) */
    [18] = sl_meta_apply_acl,      /* AccessControlEntryRecord (meta/acls.c) */
    [19] = sl_meta_apply_remove_acl, /* RemoveAccessControlEntryRecord */
};

int sl_meta_apply(struct sl_image_builder *b, int16_t type, int16_t version, const void *rec, int64_t offset)
{
    (void)version;
    if (type < 0 || type > SL_META_RECORD_MAX || !apply_table[type])
        return 0;
    int rc = apply_table[type](b, rec, offset);
    if (rc == -EINVAL) {
        const struct sl_meta_record_info *info = sl_meta_record_get(type);
        SL_ERROR("meta", "record %s at offset %lld contradicts the metadata image",
                 info && info->name ? info->name : "?", (long long)offset);
    }
    return rc;
}
