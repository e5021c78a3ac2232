/*
 * h_admin.c - partition administration: CreatePartitions, DeleteRecords,
 * DescribeLogDirs and ElectLeaders.
 *
 * CreatePartitions and ElectLeaders change metadata, so they run on the
 * controller thread (ctl_partitions.c) and post the answer back to the
 * request's loop. DeleteRecords moves a hosted partition's log start under
 * its lock, on the loop (sl_log_advance_start only unlinks whole segments);
 * DescribeLogDirs reads the image, the registry and the directory sizes.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "base/arena.h"
#include "base/diag.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "broker/parts.h"
#include "conf/conf.h"
#include "meta/controller.h"
#include "meta/ctl_partitions.h"
#include "meta/image.h"
#include "proto/gen/CreatePartitions.h"
#include "proto/gen/DeleteRecords.h"
#include "proto/gen/DescribeLogDirs.h"
#include "proto/gen/ElectLeaders.h"
#include "proto/gen/errors.h"
#include "storage/log.h"

/* ---- CreatePartitions --------------------------------------------------- */

static void create_partitions_op(struct sl_controller *ctl, void *arg)
{
    struct sl_call *call = arg;
    const struct sl_CreatePartitionsRequest *req = call->request;
    struct sl_CreatePartitionsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t n = req->Topics_n > 0 ? req->Topics_n : 0;
    resp->Results = sl_arena_alloc(a, sizeof(*resp->Results) * (size_t)(n + 1));
    if (!resp->Results)
        n = 0;
    resp->Results_n = n;
    for (int32_t i = 0; i < n; i++) {
        const struct sl_CreatePartitionsRequest_CreatePartitionsTopic *t = &req->Topics[i];
        struct sl_CreatePartitionsResponse_CreatePartitionsTopicResult *r = &resp->Results[i];
        sl_CreatePartitionsResponse_CreatePartitionsTopicResult_init(r);
        r->Name = t->Name;
        char msg[320];
        if (sl_authz_denied(call, i)) {
            r->ErrorCode = SL_KERR_TOPIC_AUTHORIZATION_FAILED;
            continue;
        }
        bool dup = false;
        for (int32_t j = 0; j < n; j++)
            if (j != i && sl_slice_eq(req->Topics[j].Name, t->Name))
                dup = true;
        if (dup) {
            r->ErrorCode = SL_KERR_INVALID_REQUEST;
            r->ErrorMessage = sl_arena_str(a, "Duplicate topic in request.");
            continue;
        }
        struct sl_partitions_spec spec = {.name = t->Name, .count = t->Count, .assignments_n = t->Assignments_n};
        int32_t na = t->Assignments_n > 0 ? t->Assignments_n : 0;
        const int32_t **as = sl_arena_alloc(a, sizeof(*as) * (size_t)(na + 1));
        int32_t *sizes = sl_arena_alloc(a, sizeof(*sizes) * (size_t)(na + 1));
        if (!as || !sizes) {
            r->ErrorCode = SL_KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        for (int32_t j = 0; j < na; j++) {
            as[j] = t->Assignments[j].BrokerIds;
            sizes[j] = t->Assignments[j].BrokerIds_n > 0 ? t->Assignments[j].BrokerIds_n : 0;
        }
        spec.assignments = as;
        spec.assignment_sizes = sizes;
        r->ErrorCode = sl_ctl_create_partitions(ctl, &spec, req->ValidateOnly, msg, sizeof(msg));
        if (r->ErrorCode) {
            r->ErrorMessage = sl_arena_str(a, msg);
            SL_INFO("meta", "CreatePartitions %.*s refused: %s", SL_SLICE_FMT(t->Name), msg);
        }
    }
    sl_call_respond_later(call);
}

void sl_handle_CreatePartitions(struct sl_call *call)
{
    const struct sl_CreatePartitionsRequest *req = call->request;
    if (sl_authz_enabled(call) && req->Topics_n > 0) { /* ALTER on each topic */
        bool *denied = sl_authz_deny_map(call, req->Topics_n);
        if (!denied) {
            sl_call_close(call, "out of memory for CreatePartitions");
            return;
        }
        for (int32_t i = 0; i < req->Topics_n; i++)
            denied[i] = !sl_authz_topic(call, NULL, SL_ACL_OP_ALTER, req->Topics[i].Name);
    }
    sl_controller_submit(call->broker->ctl, create_partitions_op, call);
}

/* ---- DeleteRecords ------------------------------------------------------ */

/* Deletes records below offset (-1: the high watermark) in one partition. */
static int16_t delete_records(struct sl_call *call, const struct sl_image *img, struct sl_slice topic,
                              int32_t index, int64_t offset, int64_t *low_watermark)
{
    *low_watermark = -1;
    const struct sl_image_topic *t = sl_image_topic_by_name(img, topic);
    if (!t || index < 0 || index >= t->partitions_n)
        return SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (t->partitions[index].leader != call->broker->node_id)
        return SL_KERR_NOT_LEADER_OR_FOLLOWER;
    struct sl_part *p = sl_parts_get(call->broker->parts, &t->id, index);
    if (!p)
        return SL_KERR_NOT_LEADER_OR_FOLLOWER;
    int16_t err = SL_KERR_NONE;
    pthread_mutex_lock(&p->lock);
    int64_t hwm = sl_part_hwm(p);
    if (offset == -1)
        offset = hwm;
    if (offset < 0 || offset > hwm) {
        err = SL_KERR_OFFSET_OUT_OF_RANGE;
    } else {
        int rc = sl_log_advance_start(p->log, offset);
        if (rc < 0) {
            SL_WARN("broker", "DeleteRecords on %s-%d failed: %s", p->topic, p->index, strerror(-rc));
            err = rc == -ERANGE ? SL_KERR_OFFSET_OUT_OF_RANGE : SL_KERR_KAFKA_STORAGE_ERROR;
        }
    }
    *low_watermark = sl_log_start_offset(p->log);
    pthread_mutex_unlock(&p->lock);
    sl_part_unref(p);
    if (err == SL_KERR_OFFSET_OUT_OF_RANGE)
        *low_watermark = -1;
    return err;
}

void sl_handle_DeleteRecords(struct sl_call *call)
{
    const struct sl_DeleteRecordsRequest *req = call->request;
    struct sl_DeleteRecordsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t n = req->Topics_n > 0 ? req->Topics_n : 0;
    resp->Topics = sl_arena_alloc(a, sizeof(*resp->Topics) * (size_t)(n + 1));
    struct sl_image *img = sl_image_acquire();
    if (!resp->Topics || !img) {
        if (img)
            sl_image_release(img);
        sl_call_close(call, "out of memory deleting records");
        return;
    }
    resp->Topics_n = n;
    for (int32_t i = 0; i < n; i++) {
        const struct sl_DeleteRecordsRequest_DeleteRecordsTopic *t = &req->Topics[i];
        struct sl_DeleteRecordsResponse_DeleteRecordsTopicResult *rt = &resp->Topics[i];
        sl_DeleteRecordsResponse_DeleteRecordsTopicResult_init(rt);
        rt->Name = t->Name;
        int32_t np = t->Partitions_n > 0 ? t->Partitions_n : 0;
        rt->Partitions = sl_arena_alloc(a, sizeof(*rt->Partitions) * (size_t)(np + 1));
        rt->Partitions_n = rt->Partitions ? np : 0;
        bool denied = !sl_authz_topic(call, img, SL_ACL_OP_DELETE, t->Name);
        for (int32_t j = 0; j < rt->Partitions_n; j++) {
            struct sl_DeleteRecordsResponse_DeleteRecordsPartitionResult *rp = &rt->Partitions[j];
            sl_DeleteRecordsResponse_DeleteRecordsPartitionResult_init(rp);
            rp->PartitionIndex = t->Partitions[j].PartitionIndex;
            if (denied) {
                rp->ErrorCode = SL_KERR_TOPIC_AUTHORIZATION_FAILED;
                rp->LowWatermark = -1;
                continue;
            }
            rp->ErrorCode = delete_records(call, img, t->Name, rp->PartitionIndex, t->Partitions[j].Offset,
                                           &rp->LowWatermark);
        }
    }
    sl_image_release(img);
    sl_call_respond(call);
}

/* ---- DescribeLogDirs ---------------------------------------------------- */

/* Bytes of the partition's segment files (Kafka's Log.size). */
static int64_t partition_size(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".log") != 0)
            continue;
        char path[1400];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0)
            total += st.st_size;
    }
    closedir(d);
    return total;
}

static bool partition_wanted(const struct sl_DescribeLogDirsRequest *req, const char *topic, int32_t index)
{
    if (req->Topics_n < 0)
        return true;
    for (int32_t i = 0; i < req->Topics_n; i++) {
        if (!sl_slice_eq_cstr(req->Topics[i].Topic, topic))
            continue;
        for (int32_t j = 0; j < req->Topics[i].Partitions_n; j++)
            if (req->Topics[i].Partitions[j] == index)
                return true;
    }
    return false;
}

void sl_handle_DescribeLogDirs(struct sl_call *call)
{
    const struct sl_DescribeLogDirsRequest *req = call->request;
    struct sl_DescribeLogDirsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    char dirs[1100], abs[PATH_MAX];
    if (sl_conf_get_string(call->broker->conf, "log.dirs", dirs, sizeof(dirs)) != 0)
        snprintf(dirs, sizeof(dirs), "%s", call->broker->conf->log_dir);
    dirs[strcspn(dirs, ",")] = 0; /* partitions live in the first directory */
    const char *logdir = realpath(dirs, abs) ? abs : dirs;

    if (!sl_authz_cluster(call, SL_ACL_OP_DESCRIBE)) {
        resp->ErrorCode = SL_KERR_CLUSTER_AUTHORIZATION_FAILED; /* v3+; before: just no results */
        resp->Results_n = 0;
        sl_call_respond(call);
        return;
    }
    struct sl_image *img = sl_image_acquire();
    resp->Results = sl_arena_alloc(a, sizeof(*resp->Results));
    struct sl_DescribeLogDirsResponse_DescribeLogDirsResult *r = resp->Results;
    if (!r || !img) {
        if (img)
            sl_image_release(img);
        sl_call_close(call, "out of memory describing log dirs");
        return;
    }
    resp->Results_n = 1;
    sl_DescribeLogDirsResponse_DescribeLogDirsResult_init(r);
    r->LogDir = sl_arena_str(a, logdir);
    struct statvfs vfs;
    if (statvfs(logdir, &vfs) == 0) {
        r->TotalBytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
        r->UsableBytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
    } else {
        r->ErrorCode = SL_KERR_KAFKA_STORAGE_ERROR;
    }
    r->Topics = sl_arena_alloc(a, sizeof(*r->Topics) * (size_t)(img->topics_n + 1));
    r->Topics_n = 0;
    for (int32_t i = 0; r->Topics && i < img->topics_n; i++) {
        const struct sl_image_topic *t = img->by_name[i];
        struct sl_DescribeLogDirsResponse_DescribeLogDirsTopic *rt = &r->Topics[r->Topics_n];
        sl_DescribeLogDirsResponse_DescribeLogDirsTopic_init(rt);
        rt->Name = sl_slice_cstr(t->name);
        rt->Partitions = sl_arena_alloc(a, sizeof(*rt->Partitions) * (size_t)(t->partitions_n + 1));
        rt->Partitions_n = 0;
        for (int32_t k = 0; rt->Partitions && k < t->partitions_n; k++) {
            if (!partition_wanted(req, t->name, k))
                continue;
            struct sl_part *p = sl_parts_get(call->broker->parts, &t->id, k);
            if (!p)
                continue;
            struct sl_DescribeLogDirsResponse_DescribeLogDirsPartition *rp = &rt->Partitions[rt->Partitions_n++];
            sl_DescribeLogDirsResponse_DescribeLogDirsPartition_init(rp);
            rp->PartitionIndex = k;
            rp->PartitionSize = partition_size(p->dir);
            int64_t lag = sl_log_end_offset(p->log) - sl_part_hwm(p);
            rp->OffsetLag = lag > 0 ? lag : 0;
            rp->IsFutureKey = false;
            sl_part_unref(p);
        }
        if (rt->Partitions_n > 0) {
            /* the name must outlive the image */
            rt->Name = sl_arena_str(a, t->name);
            r->Topics_n++;
        }
    }
    sl_image_release(img);
    sl_call_respond(call);
}

/* ---- ElectLeaders ------------------------------------------------------- */

static void elect_leaders_op(struct sl_controller *ctl, void *arg)
{
    struct sl_call *call = arg;
    const struct sl_ElectLeadersRequest *req = call->request;
    struct sl_ElectLeadersResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int8_t type = call->version >= 1 ? req->ElectionType : 0;
    char msg[320];
    resp->ErrorCode = SL_KERR_NONE;
    if (req->TopicPartitions_n < 0) {
        /* Every partition; those that already have their leader are left
         * out of the answer, as Kafka does. The image changes as leaders are
         * written, so work from the names of a snapshot of it. */
        const struct sl_image *img = sl_controller_image(ctl);
        int32_t nt = img->topics_n;
        char **names = sl_arena_alloc(a, sizeof(*names) * (size_t)(nt + 1));
        int32_t *counts = sl_arena_alloc(a, sizeof(*counts) * (size_t)(nt + 1));
        resp->ReplicaElectionResults = sl_arena_alloc(a, sizeof(*resp->ReplicaElectionResults) * (size_t)(nt + 1));
        resp->ReplicaElectionResults_n = 0;
        if (!names || !counts || !resp->ReplicaElectionResults)
            nt = 0;
        for (int32_t i = 0; i < nt; i++) {
            names[i] = sl_arena_strdup(a, img->by_name[i]->name);
            counts[i] = img->by_name[i]->partitions_n;
        }
        for (int32_t i = 0; i < nt; i++) {
            if (!names[i])
                continue;
            struct sl_ElectLeadersResponse_ReplicaElectionResult *rt =
                &resp->ReplicaElectionResults[resp->ReplicaElectionResults_n];
            sl_ElectLeadersResponse_ReplicaElectionResult_init(rt);
            rt->Topic = sl_slice_cstr(names[i]);
            rt->PartitionResult = sl_arena_alloc(a, sizeof(*rt->PartitionResult) * (size_t)(counts[i] + 1));
            rt->PartitionResult_n = 0;
            for (int32_t k = 0; rt->PartitionResult && k < counts[i]; k++) {
                int16_t err = sl_ctl_elect_leader(ctl, rt->Topic, k, type, msg, sizeof(msg));
                if (err == SL_KERR_ELECTION_NOT_NEEDED)
                    continue;
                struct sl_ElectLeadersResponse_PartitionResult *rp = &rt->PartitionResult[rt->PartitionResult_n++];
                sl_ElectLeadersResponse_PartitionResult_init(rp);
                rp->PartitionId = k;
                rp->ErrorCode = err;
                if (err)
                    rp->ErrorMessage = sl_arena_str(a, msg);
            }
            if (rt->PartitionResult_n > 0)
                resp->ReplicaElectionResults_n++;
        }
    } else {
        int32_t nt = req->TopicPartitions_n;
        resp->ReplicaElectionResults = sl_arena_alloc(a, sizeof(*resp->ReplicaElectionResults) * (size_t)(nt + 1));
        resp->ReplicaElectionResults_n = resp->ReplicaElectionResults ? nt : 0;
        for (int32_t i = 0; i < resp->ReplicaElectionResults_n; i++) {
            const struct sl_ElectLeadersRequest_TopicPartitions *tp = &req->TopicPartitions[i];
            struct sl_ElectLeadersResponse_ReplicaElectionResult *rt = &resp->ReplicaElectionResults[i];
            sl_ElectLeadersResponse_ReplicaElectionResult_init(rt);
            rt->Topic = tp->Topic;
            int32_t np = tp->Partitions_n > 0 ? tp->Partitions_n : 0;
            rt->PartitionResult = sl_arena_alloc(a, sizeof(*rt->PartitionResult) * (size_t)(np + 1));
            rt->PartitionResult_n = rt->PartitionResult ? np : 0;
            for (int32_t k = 0; k < rt->PartitionResult_n; k++) {
                struct sl_ElectLeadersResponse_PartitionResult *rp = &rt->PartitionResult[k];
                sl_ElectLeadersResponse_PartitionResult_init(rp);
                rp->PartitionId = tp->Partitions[k];
                rp->ErrorCode = sl_ctl_elect_leader(ctl, tp->Topic, tp->Partitions[k], type, msg, sizeof(msg));
                if (rp->ErrorCode)
                    rp->ErrorMessage = sl_arena_str(a, msg);
            }
        }
    }
    sl_call_respond_later(call);
}

/* Without ALTER on the cluster: the top-level error and every named
 * partition failed, as Kafka answers. */
static void elect_leaders_denied(struct sl_call *call)
{
    const struct sl_ElectLeadersRequest *req = call->request;
    struct sl_ElectLeadersResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    resp->ErrorCode = SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
    int32_t nt = req->TopicPartitions_n > 0 ? req->TopicPartitions_n : 0;
    resp->ReplicaElectionResults = sl_arena_alloc(a, sizeof(*resp->ReplicaElectionResults) * (size_t)(nt + 1));
    resp->ReplicaElectionResults_n = resp->ReplicaElectionResults ? nt : 0;
    for (int32_t i = 0; i < resp->ReplicaElectionResults_n; i++) {
        const struct sl_ElectLeadersRequest_TopicPartitions *tp = &req->TopicPartitions[i];
        struct sl_ElectLeadersResponse_ReplicaElectionResult *rt = &resp->ReplicaElectionResults[i];
        sl_ElectLeadersResponse_ReplicaElectionResult_init(rt);
        rt->Topic = tp->Topic;
        int32_t np = tp->Partitions_n > 0 ? tp->Partitions_n : 0;
        rt->PartitionResult = sl_arena_alloc(a, sizeof(*rt->PartitionResult) * (size_t)(np + 1));
        rt->PartitionResult_n = rt->PartitionResult ? np : 0;
        for (int32_t k = 0; k < rt->PartitionResult_n; k++) {
            sl_ElectLeadersResponse_PartitionResult_init(&rt->PartitionResult[k]);
            rt->PartitionResult[k].PartitionId = tp->Partitions[k];
            rt->PartitionResult[k].ErrorCode = SL_KERR_CLUSTER_AUTHORIZATION_FAILED;
        }
    }
    sl_call_respond(call);
}

void sl_handle_ElectLeaders(struct sl_call *call)
{
    if (!sl_authz_cluster(call, SL_ACL_OP_ALTER)) {
        elect_leaders_denied(call);
        return;
    }
    sl_controller_submit(call->broker->ctl, elect_leaders_op, call);
}
