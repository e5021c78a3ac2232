/*
 * h_produce.c - Produce: validate each partition's batch, append it under
 * the partition's lock, and answer once the flusher has made every append
 * durable (group commit). acks=0 is never answered, but the request stays
 * in flight until its data is synced, so the connection's in-flight bound
 * throttles a producer that does not wait.
 *
 *   handler (loop) --append--> flusher request per partition
 *   flusher thread: hwm advanced, parked fetches woken, pending-1
 *   last one: post finish to the loop -> respond / drop
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/diag.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "broker/parts.h"
#include "broker/produce_conv.h"
#include "broker/topics.h"
#include "meta/image.h"
#include "metrics/metrics.h"
#include "proto/gen/Produce.h"
#include "proto/gen/errors.h"
#include "record/batch.h"
#include "record/compress.h"
#include "storage/flusher.h"
#include "storage/log.h"
#include "storage/producer_state.h"
#include "txn/tc.h"

struct produce {
    struct sl_call *call;
    int pending;                 /* flushes outstanding + 1 while the handler runs; atomic */
    int16_t acks;
    bool parked;                 /* counted in the produce purgatory gauge */
};

struct produce_part {            /* one appended partition waiting for its sync */
    struct produce *pr;
    struct sl_part *part;        /* referenced */
    struct sl_ProduceResponse_PartitionProduceResponse *resp;
};

static void finish(void *arg)
{
    struct produce *pr = arg;
    if (pr->parked)
        sl_metrics_parked(pr->call->broker->metrics, SL_PURGATORY_PRODUCE, -1);
    if (pr->acks == 0)
        sl_call_drop(pr->call);
    else
        sl_call_respond(pr->call);
}

static void release(struct produce *pr)
{
    if (__atomic_sub_fetch(&pr->pending, 1, __ATOMIC_ACQ_REL) == 0)
        sl_loop_post(pr->call->req->loop, finish, pr);
}

/* Thread: flusher. */
static void flushed(void *arg, int err)
{
    struct produce_part *pp = arg;
    if (!pp->pr) { /* a background sync the producer did not wait for */
        if (err < 0)
            SL_ERROR("produce", "background sync of %s-%d failed: %s", pp->part->topic, pp->part->index,
                     strerror(-err));
        sl_part_unref(pp->part);
        free(pp);
        return;
    }
    if (err < 0) {
        pp->resp->ErrorCode = SL_KERR_KAFKA_STORAGE_ERROR;
        pp->resp->BaseOffset = -1;
        SL_ERROR("produce", "sync of %s-%d failed: %s", pp->part->topic, pp->part->index, strerror(-err));
    }
    sl_part_advance_hwm(pp->part, sl_log_durable_offset(pp->part->log));
    sl_part_unref(pp->part);
    release(pp->pr);
}

static int16_t append_one(struct produce *pr, const struct sl_image *img, struct sl_slice topic,
                          struct sl_ProduceRequest_PartitionProduceData *pd,
                          struct sl_ProduceResponse_PartitionProduceResponse *r)
{
    struct sl_call *call = pr->call;
    const struct sl_image_topic *t = sl_image_topic_by_name(img, topic);
    if (!t || pd->Index < 0 || pd->Index >= t->partitions_n)
        return SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (sl_topic_is_internal(topic))
        return SL_KERR_INVALID_TOPIC_EXCEPTION;
    struct sl_part *part = sl_parts_get(call->broker->parts, &t->id, pd->Index);
    if (!part)
        return SL_KERR_NOT_LEADER_OR_FOLLOWER;
    int16_t err = 0;
    struct sl_slice rec = pd->Records.mem;
    if (!rec.p || rec.len == 0) {
        err = SL_KERR_CORRUPT_MESSAGE;
        goto out;
    }
    struct sl_batch_opts opts = {
        .max_message_bytes = __atomic_load_n(&part->max_message_bytes, __ATOMIC_ACQUIRE),
    };
    struct sl_batch_hdr hdr;
    err = sl_batch_validate(rec.p, rec.len, &opts, &hdr);
    if (!err && sl_batch_codec(&hdr) == SL_CODEC_ZSTD && call->version < 7)
        err = SL_KERR_UNSUPPORTED_COMPRESSION_TYPE; /* zstd came with Produce v7 (KIP-110) */
    if (!err) /* compacted topics: keys; compression.type: conversion */
        err = sl_produce_convert(part, &call->req->arena, &rec, &hdr);
    if (err)
        goto out;
    /* The frame is this request's own copy: rewriting it in place is safe. */
    uint8_t *batch = (uint8_t *)rec.p;
    if (__atomic_load_n(&part->log_append_time, __ATOMIC_ACQUIRE)) {
        int64_t now = sl_clock_wall_ms();
        sl_batch_set_log_append_time(batch, rec.len, now);
        r->LogAppendTimeMs = now;
    }
    int64_t base, next;
    int rc = 0;
    pthread_mutex_lock(&part->lock);
    if (hdr.producer_id >= 0 || sl_batch_is_transactional(&hdr)) {
        /* Idempotence (storage/producer_state.h): a retry of one of the
         * producer's last batches gets its original offset, nothing appended. */
        int64_t dup_last;
        int chk = sl_pstate_check(part->pstate, &hdr, &base, &dup_last);
        /* KIP-890 part 1: a transactional batch only into a partition of the
         * producer's ongoing transaction. Checked under the partition lock,
         * which the coordinator takes to write its marker after closing the
         * transaction to writes, so no batch lands after the marker. */
        if (chk == 0 && sl_batch_is_transactional(&hdr))
            chk = sl_txn_verify(hdr.producer_id, hdr.producer_epoch, topic, pd->Index);
        if (chk == SL_PSTATE_DUPLICATE) {
            pthread_mutex_unlock(&part->lock);
            r->BaseOffset = base;
            r->LogStartOffset = sl_log_start_offset(part->log);
            next = dup_last + 1;
            goto durable;
        }
        if (chk) {
            pthread_mutex_unlock(&part->lock);
            err = (int16_t)chk;
            goto out;
        }
    }
    rc = sl_log_append(part->log, batch, rec.len, __atomic_load_n(&part->leader_epoch, __ATOMIC_ACQUIRE), &base);
    if (rc == 0)
        sl_pstate_appended(part->pstate, &hdr, batch, rec.len, base, sl_clock_wall_ms());
    pthread_mutex_unlock(&part->lock);
    if (rc < 0) {
        SL_ERROR("produce", "append to %s-%d failed: %s", part->topic, part->index, strerror(-rc));
        err = rc == -EMSGSIZE ? SL_KERR_MESSAGE_TOO_LARGE : SL_KERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    r->BaseOffset = base;
    __atomic_fetch_add(&part->bytes_in, (uint64_t)rec.len, __ATOMIC_RELAXED);
    __atomic_fetch_add(&part->messages_in, (uint64_t)(hdr.records_count > 0 ? hdr.records_count : 0),
                       __ATOMIC_RELAXED);
    r->LogStartOffset = sl_log_start_offset(part->log);
    next = base + hdr.last_offset_delta + 1;
durable:
    if (!__atomic_load_n(&part->flush_before_ack, __ATOMIC_ACQUIRE)) {
        /* Kafka's page-cache model, chosen by log.flush.interval.* or the
         * topic's flush.*: visible and acknowledged now, synced soon after. */
        sl_part_advance_hwm(part, next);
        struct produce_part *bg = malloc(sizeof(*bg));
        if (!bg) {
            sl_part_unref(part);
            return 0;
        }
        *bg = (struct produce_part){NULL, part, NULL};
        sl_flusher_request(call->broker->flusher, part->log, next, flushed, bg);
        return 0;
    }
    struct produce_part *pp = sl_arena_alloc(&call->req->arena, sizeof(*pp));
    SL_ASSERT(pp != NULL); /* the arena's cap leaves room for the response */
    pp->pr = pr;
    pp->part = part;
    pp->resp = r;
    __atomic_add_fetch(&pr->pending, 1, __ATOMIC_ACQ_REL);
    sl_flusher_request(call->broker->flusher, part->log, next, flushed, pp);
    return 0; /* the reference now belongs to pp */
out:
    sl_part_unref(part);
    return err;
}

/* Kafka's rule for transactional records (CVE-2018-17196): the request
 * must name its transactional id and the principal may WRITE it; otherwise
 * every partition is TRANSACTIONAL_ID_AUTHORIZATION_FAILED. Idempotent
 * records need IDEMPOTENT_WRITE on the cluster, which WRITE on the topic
 * implies (KIP-679), so the topic check covers them. */
static int16_t authorize_txn(struct sl_call *call, const struct sl_ProduceRequest *req)
{
    bool transactional = false;
    for (int32_t i = 0; i < req->TopicData_n && !transactional; i++)
        for (int32_t j = 0; j < req->TopicData[i].PartitionData_n && !transactional; j++) {
            struct sl_slice rec = req->TopicData[i].PartitionData[j].Records.mem;
            /* attributes: int16 at byte 21 of a v2 batch; 0x10 = transactional */
            transactional = rec.p && rec.len > 22 && (rec.p[22] & 0x10);
        }
    if (!transactional)
        return 0;
    if (!req->TransactionalId.p ||
        !sl_authz(call, NULL, SL_ACL_OP_WRITE, SL_ACL_RES_TRANSACTIONAL_ID, req->TransactionalId))
        return SL_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    return 0;
}

void sl_handle_Produce(struct sl_call *call)
{
    struct sl_ProduceRequest *req = call->request;
    struct sl_ProduceResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    struct produce *pr = sl_arena_alloc(a, sizeof(*pr));
    int32_t nt = req->TopicData_n > 0 ? req->TopicData_n : 0;
    resp->Responses = sl_arena_alloc(a, sizeof(*resp->Responses) * (size_t)(nt + 1));
    if (!pr || !resp->Responses) {
        sl_call_close(call, "out of memory for Produce");
        return;
    }
    pr->call = call;
    pr->pending = 1;
    pr->acks = req->Acks;
    bool bad_acks = req->Acks != 0 && req->Acks != 1 && req->Acks != -1;
    struct sl_image *img = sl_image_acquire();
    int16_t txn_denied = sl_authz_enabled(call) ? authorize_txn(call, req) : 0;
    resp->Responses_n = nt;
    for (int32_t i = 0; i < nt; i++) {
        struct sl_ProduceRequest_TopicProduceData *td = &req->TopicData[i];
        struct sl_ProduceResponse_TopicProduceResponse *tr = &resp->Responses[i];
        sl_ProduceResponse_TopicProduceResponse_init(tr);
        tr->Name = td->Name;
        int32_t np = td->PartitionData_n > 0 ? td->PartitionData_n : 0;
        tr->PartitionResponses = sl_arena_alloc(a, sizeof(*tr->PartitionResponses) * (size_t)(np + 1));
        if (!tr->PartitionResponses) {
            sl_image_release(img);
            sl_call_close(call, "out of memory for Produce");
            return;
        }
        tr->PartitionResponses_n = np;
        bool denied = false;
        for (int32_t j = 0; j < np; j++) {
            struct sl_ProduceResponse_PartitionProduceResponse *r = &tr->PartitionResponses[j];
            sl_ProduceResponse_PartitionProduceResponse_init(r);
            r->Index = td->PartitionData[j].Index;
            r->BaseOffset = -1;
            int16_t err;
            if (j == 0)
                denied = !sl_authz_topic(call, img, SL_ACL_OP_WRITE, td->Name);
            if (bad_acks)
                err = SL_KERR_INVALID_REQUIRED_ACKS;
            else if (txn_denied || denied)
                err = txn_denied ? txn_denied : SL_KERR_TOPIC_AUTHORIZATION_FAILED;
            else
                err = append_one(pr, img, td->Name, &td->PartitionData[j], r);
            r->ErrorCode = err;
        }
    }
    sl_image_release(img);
    if (__atomic_load_n(&pr->pending, __ATOMIC_ACQUIRE) > 1) {
        pr->parked = true; /* read by finish, which runs after this release */
        sl_metrics_parked(call->broker->metrics, SL_PURGATORY_PRODUCE, 1);
    }
    release(pr);
}
