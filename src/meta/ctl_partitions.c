/*
 * ctl_partitions.c - CreatePartitions and leader elections on the
 * controller thread.
 *
 * New partitions get the replication factor of partition 0 and are placed
 * like ctl_topics.c places a new topic's (round robin over live brokers in
 * id order, first replica leads), unless the request assigns them.
 */
#include "meta/ctl_partitions.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "meta/controller.h"
#include "meta/image.h"
#include "proto/gen/errors.h"
#include "proto/gen/meta_records.h"

#define MAX_PARTITIONS 100000

static int16_t fail(char *message, size_t msglen, int16_t error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int16_t fail(char *message, size_t msglen, int16_t error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, msglen, fmt, ap);
    va_end(ap);
    return error;
}

static bool live(const struct sl_image *img, int32_t id)
{
    const struct sl_image_broker *b = sl_image_broker(img, id);
    return b && !b->fenced;
}

int16_t sl_ctl_create_partitions(struct sl_controller *ctl, const struct sl_partitions_spec *spec,
                                 bool validate_only, char *message, size_t msglen)
{
    const struct sl_image *img = sl_controller_image(ctl);
    message[0] = 0;
    const struct sl_image_topic *t = sl_image_topic_by_name(img, spec->name);
    if (!t)
        return fail(message, msglen, SL_KERR_UNKNOWN_TOPIC_OR_PARTITION, "The topic '%.*s' does not exist.",
                    SL_SLICE_FMT(spec->name));
    int32_t cur = t->partitions_n;
    if (spec->count < cur)
        return fail(message, msglen, SL_KERR_INVALID_PARTITIONS,
                    "The topic %s currently has %d partition(s); %d would not be an increase.", t->name, cur,
                    spec->count);
    if (spec->count == cur)
        return fail(message, msglen, SL_KERR_INVALID_PARTITIONS, "Topic already has %d partition(s).", cur);
    if (spec->count > MAX_PARTITIONS)
        return fail(message, msglen, SL_KERR_INVALID_PARTITIONS, "Number of partitions %d is above the limit of %d.",
                    spec->count, MAX_PARTITIONS);
    int32_t add = spec->count - cur;
    int32_t rf = cur > 0 ? t->partitions[0].replicas_n : 1;
    if (spec->assignments_n >= 0) {
        if (spec->assignments_n != add)
            return fail(message, msglen, SL_KERR_INVALID_REPLICA_ASSIGNMENT,
                        "Attempted to add %d additional partition(s), but only %d assignment(s) were specified.",
                        add, spec->assignments_n);
        for (int32_t p = 0; p < add; p++) {
            int32_t n = spec->assignment_sizes[p];
            if (n <= 0)
                return fail(message, msglen, SL_KERR_INVALID_REPLICA_ASSIGNMENT,
                            "The manual partition assignment includes an empty replica list.");
            if (n != rf)
                return fail(message, msglen, SL_KERR_INVALID_REPLICA_ASSIGNMENT,
                            "Inconsistent replication factor between partitions, partition 0 has %d while "
                            "partitions [%d] have replication factors [%d], respectively.",
                            rf, cur + p, n);
            for (int32_t r = 0; r < n; r++) {
                int32_t id = spec->assignments[p][r];
                if (!live(img, id))
                    return fail(message, msglen, SL_KERR_INVALID_REPLICA_ASSIGNMENT,
                                "The manual partition assignment includes broker %d, but no such broker is "
                                "registered.", id);
                for (int32_t q = 0; q < r; q++)
                    if (spec->assignments[p][q] == id)
                        return fail(message, msglen, SL_KERR_INVALID_REPLICA_ASSIGNMENT,
                                    "The manual partition assignment includes the broker %d more than once.", id);
            }
        }
    }
    int32_t brokers[64], nb = 0;
    for (int32_t i = 0; i < img->brokers_n && nb < 64; i++)
        if (!img->brokers[i].fenced)
            brokers[nb++] = img->brokers[i].id;
    if (spec->assignments_n < 0 && rf > nb)
        return fail(message, msglen, SL_KERR_INVALID_REPLICATION_FACTOR,
                    "Unable to replicate the partition %d time(s): The target replication factor of %d cannot be "
                    "reached because only %d broker(s) are registered.", rf, rf, nb);
    if (validate_only)
        return SL_KERR_NONE;

    struct sl_meta_rec *recs = calloc((size_t)add, sizeof(*recs));
    struct sl_PartitionRecord *prs = calloc((size_t)add, sizeof(*prs));
    int32_t *reps = calloc((size_t)add * (size_t)rf, sizeof(int32_t));
    int16_t err = SL_KERR_NONE;
    if (!recs || !prs || !reps) {
        err = fail(message, msglen, SL_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        goto out;
    }
    int32_t start = (int32_t)(t->id.b[15] % (nb ? nb : 1));
    for (int32_t i = 0; i < add; i++) {
        int32_t p = cur + i;
        int32_t *r = &reps[(size_t)i * (size_t)rf];
        for (int32_t k = 0; k < rf; k++)
            r[k] = spec->assignments_n >= 0 ? spec->assignments[i][k] : brokers[(p + start + k) % nb];
        sl_PartitionRecord_init(&prs[i]);
        prs[i].PartitionId = p;
        prs[i].TopicId = t->id;
        prs[i].Replicas = r;
        prs[i].Replicas_n = rf;
        prs[i].Isr = r;
        prs[i].Isr_n = rf;
        prs[i].RemovingReplicas_n = 0;
        prs[i].AddingReplicas_n = 0;
        prs[i].Leader = r[0];
        recs[i] = (struct sl_meta_rec){3, 0, &prs[i]};
    }
    int rc = sl_controller_write(ctl, recs, add);
    if (rc < 0) {
        err = fail(message, msglen, rc == -ENOSPC || rc == -EIO ? SL_KERR_KAFKA_STORAGE_ERROR : SL_KERR_UNKNOWN_SERVER_ERROR,
                   "cannot write the partitions to the metadata log: %s", strerror(-rc));
        goto out;
    }
    SL_INFO("meta", "topic %.*s grown from %d to %d partition(s)", SL_SLICE_FMT(spec->name), cur, spec->count);
out:
    free(recs);
    free(prs);
    free(reps);
    return err;
}

static bool in_isr(const struct sl_image_partition *p, int32_t id)
{
    for (int32_t i = 0; i < p->isr_n; i++)
        if (p->isr[i] == id)
            return true;
    return false;
}

int16_t sl_ctl_elect_leader(struct sl_controller *ctl, struct sl_slice topic, int32_t partition,
                            int8_t election_type, char *message, size_t msglen)
{
    const struct sl_image *img = sl_controller_image(ctl);
    message[0] = 0;
    const struct sl_image_topic *t = sl_image_topic_by_name(img, topic);
    if (!t || partition < 0 || partition >= t->partitions_n)
        return fail(message, msglen, SL_KERR_UNKNOWN_TOPIC_OR_PARTITION,
                    "The partition %.*s-%d does not exist.", SL_SLICE_FMT(topic), partition);
    const struct sl_image_partition *p = &t->partitions[partition];
    int32_t leader = -1;
    if (election_type == 0) {
        int32_t preferred = p->replicas_n > 0 ? p->replicas[0] : -1;
        if (preferred >= 0 && p->leader == preferred)
            return fail(message, msglen, SL_KERR_ELECTION_NOT_NEEDED,
                        "Leader election not needed for topic partition");
        if (preferred < 0 || !live(img, preferred) || !in_isr(p, preferred))
            return fail(message, msglen, SL_KERR_PREFERRED_LEADER_NOT_AVAILABLE,
                        "Failed to elect leader for partition %s-%d under strategy "
                        "PreferredReplicaPartitionLeaderElectionStrategy", t->name, partition);
        leader = preferred;
    } else if (election_type == 1) {
        if (p->leader >= 0 && live(img, p->leader))
            return fail(message, msglen, SL_KERR_ELECTION_NOT_NEEDED,
                        "Leader election not needed for topic partition");
        for (int32_t i = 0; i < p->replicas_n && leader < 0; i++)
            if (live(img, p->replicas[i]) && in_isr(p, p->replicas[i]))
                leader = p->replicas[i];
        for (int32_t i = 0; i < p->replicas_n && leader < 0; i++)
            if (live(img, p->replicas[i]))
                leader = p->replicas[i];
        if (leader < 0)
            return fail(message, msglen, SL_KERR_ELIGIBLE_LEADERS_NOT_AVAILABLE,
                        "Failed to elect leader for partition %s-%d under strategy "
                        "UncleanPartitionLeaderElectionStrategy", t->name, partition);
    } else {
        return fail(message, msglen, SL_KERR_INVALID_REQUEST, "Unknown election type %d", election_type);
    }
    struct sl_PartitionChangeRecord rec;
    sl_PartitionChangeRecord_init(&rec);
    rec.TopicId = t->id;
    rec.PartitionId = partition;
    rec.Leader = leader;
    int32_t isr[1] = {leader};
    if (!in_isr(p, leader)) { /* unclean: the new leader is the whole ISR */
        rec.Isr = isr;
        rec.Isr_n = 1;
    }
    struct sl_meta_rec r = {5, 0, &rec};
    int rc = sl_controller_write(ctl, &r, 1);
    if (rc < 0)
        return fail(message, msglen, SL_KERR_UNKNOWN_SERVER_ERROR, "cannot write the election: %s", strerror(-rc));
    SL_INFO("meta", "elected broker %d leader of %s-%d", leader, t->name, partition);
    return SL_KERR_NONE;
}
