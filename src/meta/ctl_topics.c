/*
 * ctl_topics.c - topic creation and deletion on the controller thread.
 *
 * Replica placement: partition p of a topic with replication factor r gets
 * the r live brokers starting at (p + start) mod n in broker-id order, as
 * Kafka's non-rack-aware assignment does; the first replica leads.
 */
#include "meta/ctl_topics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "broker/topics.h"
#include "conf/conf.h"
#include "meta/controller.h"
#include "meta/image.h"
#include "meta/topic_config.h"
#include "proto/gen/errors.h"
#include "proto/gen/meta_records.h"

#define MAX_PARTITIONS 100000

static void fail(struct sl_topic_result *res, int16_t error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct sl_topic_result *res, int16_t error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    res->error = error;
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
}

static int32_t live_brokers(const struct sl_image *img, int32_t *ids, int32_t max)
{
    int32_t n = 0;
    for (int32_t i = 0; i < img->brokers_n && n < max; i++)
        if (!img->brokers[i].fenced)
            ids[n++] = img->brokers[i].id;
    return n;
}

void sl_ctl_create_topic(struct sl_controller *ctl, const struct sl_topic_spec *spec, bool validate_only,
                         struct sl_topic_result *res)
{
    const struct sl_conf *conf = sl_controller_conf(ctl);
    const struct sl_image *img = sl_controller_image(ctl);
    memset(res, 0, sizeof(*res));
    char err[256];

    if (sl_topic_validate_name(spec->name, err, sizeof(err)) < 0) {
        fail(res, SL_KERR_INVALID_TOPIC_EXCEPTION, "%s", err);
        return;
    }
    if (sl_image_topic_by_name(img, spec->name)) {
        fail(res, SL_KERR_TOPIC_ALREADY_EXISTS, "Topic '%.*s' already exists.", SL_SLICE_FMT(spec->name));
        return;
    }
    for (int32_t i = 0; i < img->topics_n; i++) {
        struct sl_slice other = sl_slice_cstr(img->by_name[i]->name);
        if (sl_topic_names_collide(spec->name, other)) {
            fail(res, SL_KERR_INVALID_TOPIC_EXCEPTION,
                 "Topic '%.*s' collides with existing topic: %s", SL_SLICE_FMT(spec->name), img->by_name[i]->name);
            return;
        }
    }

    int32_t brokers[64];
    int32_t nb = live_brokers(img, brokers, 64);
    int32_t parts = spec->partitions;
    int16_t rf = spec->replication_factor;
    if (spec->assignments_n > 0) {
        if (parts != -1 || rf != -1) {
            fail(res, SL_KERR_INVALID_REQUEST,
                 "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
            return;
        }
        parts = spec->assignments_n;
        rf = (int16_t)spec->assignment_sizes[0];
        for (int32_t p = 0; p < parts; p++) {
            if (spec->assignment_sizes[p] != rf || rf <= 0) {
                fail(res, SL_KERR_INVALID_REPLICA_ASSIGNMENT,
                     "All partitions should have the same number of replicas");
                return;
            }
            for (int32_t r = 0; r < rf; r++) {
                const struct sl_image_broker *b = sl_image_broker(img, spec->assignments[p][r]);
                if (!b || b->fenced) {
                    fail(res, SL_KERR_INVALID_REPLICA_ASSIGNMENT,
                         "The manual partition assignment includes broker %d, but no such broker is registered.",
                         spec->assignments[p][r]);
                    return;
                }
                for (int32_t q = 0; q < r; q++)
                    if (spec->assignments[p][q] == spec->assignments[p][r]) {
                        fail(res, SL_KERR_INVALID_REPLICA_ASSIGNMENT,
                             "The manual partition assignment includes the broker %d more than once.",
                             spec->assignments[p][r]);
                        return;
                    }
            }
        }
    }
    if (parts == -1)
        parts = conf->num_partitions;
    if (rf == -1)
        rf = conf->default_replication_factor;
    if (parts <= 0 || parts > MAX_PARTITIONS) {
        fail(res, SL_KERR_INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value.");
        if (parts > MAX_PARTITIONS)
            snprintf(res->message, sizeof(res->message), "Number of partitions %d is above the limit of %d.",
                     parts, MAX_PARTITIONS);
        return;
    }
    if (rf <= 0) {
        fail(res, SL_KERR_INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0.");
        return;
    }
    if (rf > nb) {
        fail(res, SL_KERR_INVALID_REPLICATION_FACTOR,
             "Unable to replicate the partition %d time(s): The target replication factor of %d cannot be "
             "reached because only %d broker(s) are registered.",
             rf, rf, nb);
        return;
    }
    for (int32_t i = 0; i < spec->configs_n; i++) {
        struct sl_slice k = spec->config_keys[i], v = spec->config_values[i];
        if (!v.p)
            continue;
        if (sl_topic_config_check((const char *)k.p, k.len, (const char *)v.p, v.len, err, sizeof(err)) < 0) {
            fail(res, SL_KERR_INVALID_CONFIG, "%s", err);
            return;
        }
        for (int32_t j = 0; j < i; j++)
            if (sl_slice_eq(spec->config_keys[j], k)) {
                fail(res, SL_KERR_INVALID_CONFIG, "Duplicate config key %.*s", SL_SLICE_FMT(k));
                return;
            }
    }
    res->partitions = parts;
    res->replication_factor = rf;
    if (validate_only)
        return;

    /* One change: the topic, its partitions and its configs, all or nothing. */
    int n = 1 + parts + spec->configs_n;
    struct sl_meta_rec *recs = calloc((size_t)n, sizeof(*recs));
    struct sl_PartitionRecord *prs = calloc((size_t)parts, sizeof(*prs));
    struct sl_ConfigRecord *crs = calloc((size_t)(spec->configs_n + 1), sizeof(*crs));
    int32_t *reps = calloc((size_t)parts * (size_t)rf, sizeof(int32_t));
    if (!recs || !prs || !crs || !reps) {
        fail(res, SL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        goto out;
    }
    struct sl_TopicRecord tr;
    sl_TopicRecord_init(&tr);
    tr.Name = spec->name;
    do {
        sl_uuid_random(&tr.TopicId);
    } while (sl_image_topic_by_id(img, &tr.TopicId));
    int k = 0;
    recs[k++] = (struct sl_meta_rec){2, 0, &tr};
    int32_t start = (int32_t)(tr.TopicId.b[15] % (nb ? nb : 1));
    for (int32_t p = 0; p < parts; p++) {
        int32_t *r = &reps[(size_t)p * (size_t)rf];
        for (int32_t i = 0; i < rf; i++)
            r[i] = spec->assignments_n > 0 ? spec->assignments[p][i] : brokers[(p + start + i) % nb];
        sl_PartitionRecord_init(&prs[p]);
        prs[p].PartitionId = p;
        prs[p].TopicId = tr.TopicId;
        prs[p].Replicas = r;
        prs[p].Replicas_n = rf;
        prs[p].Isr = r;
        prs[p].Isr_n = rf;
        prs[p].RemovingReplicas_n = 0;
        prs[p].AddingReplicas_n = 0;
        prs[p].Leader = r[0];
        prs[p].LeaderEpoch = 0;
        prs[p].PartitionEpoch = 0;
        recs[k++] = (struct sl_meta_rec){3, 0, &prs[p]};
    }
    for (int32_t i = 0; i < spec->configs_n; i++) {
        if (!spec->config_values[i].p)
            continue;
        sl_ConfigRecord_init(&crs[i]);
        crs[i].ResourceType = 2; /* TOPIC */
        crs[i].ResourceName = spec->name;
        crs[i].Name = spec->config_keys[i];
        crs[i].Value = spec->config_values[i];
        recs[k++] = (struct sl_meta_rec){4, 0, &crs[i]};
    }
    int rc = sl_controller_write(ctl, recs, k);
    if (rc < 0) {
        fail(res, rc == -ENOSPC || rc == -EIO ? SL_KERR_KAFKA_STORAGE_ERROR : SL_KERR_UNKNOWN_SERVER_ERROR,
             "cannot write the topic to the metadata log: %s", strerror(-rc));
        goto out;
    }
    res->id = tr.TopicId;
    SL_INFO("meta", "created topic %.*s with %d partition(s), replication factor %d", SL_SLICE_FMT(spec->name),
            parts, rf);
out:
    free(recs);
    free(prs);
    free(crs);
    free(reps);
}

void sl_ctl_delete_topic(struct sl_controller *ctl, struct sl_slice name, const struct sl_uuid *id,
                         struct sl_topic_result *res)
{
    const struct sl_conf *conf = sl_controller_conf(ctl);
    const struct sl_image *img = sl_controller_image(ctl);
    memset(res, 0, sizeof(*res));
    const struct sl_image_topic *t = name.p ? sl_image_topic_by_name(img, name) : sl_image_topic_by_id(img, id);
    if (!t) {
        if (name.p)
            fail(res, SL_KERR_UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
        else
            fail(res, SL_KERR_UNKNOWN_TOPIC_ID, "This server does not host this topic ID.");
        return;
    }
    res->id = t->id;
    if (!conf->delete_topic_enable) {
        fail(res, SL_KERR_TOPIC_DELETION_DISABLED, "Topic deletion is disabled.");
        return;
    }
    struct sl_RemoveTopicRecord rt;
    sl_RemoveTopicRecord_init(&rt);
    rt.TopicId = t->id;
    struct sl_meta_rec rec = {9, 0, &rt};
    char tname[256];
    snprintf(tname, sizeof(tname), "%s", t->name);
    int rc = sl_controller_write(ctl, &rec, 1);
    if (rc < 0) {
        fail(res, SL_KERR_KAFKA_STORAGE_ERROR, "cannot write to the metadata log: %s", strerror(-rc));
        return;
    }
    SL_INFO("meta", "deleted topic %s", tname);
}
