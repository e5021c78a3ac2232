/*
 * h_fetch.c - Fetch for consumers: batches straight from the segment files
 * (file ranges sent with sendfile), up to the high watermark, parked until
 * MinBytes arrive or MaxWaitMs passes.
 *
 * A parked fetch:
 *
 *   handler -> read -> enough? ---yes---------------------------> respond
 *                        | no
 *                        v
 *   PARKED: a waiter on each partition + a timer
 *        wake(fp): re-read -> enough? yes -> finish
 *                                     no  -> re-park fp
 *        timer:    finish
 *   finish: stop the timer, unpark every waiter; a waiter already woken
 *   has its wake() in flight to this loop, so answer only when the last of
 *   those has run (f->inflight == 0).
 *
 * Fetch sessions (KIP-227) are declined: the response always carries
 * SessionId 0, so clients send full fetch requests, as Kafka allows.
 */
#include <errno.h>
#include <string.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/diag.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "broker/parts.h"
#include "meta/image.h"
#include "metrics/metrics.h"
#include "proto/gen/Fetch.h"
#include "proto/gen/errors.h"
#include "storage/log.h"
#include "storage/producer_state.h"

struct fetch;

struct fetch_part {
    struct fetch *f;
    struct sl_part *part;                 /* referenced, or NULL (error) */
    struct sl_FetchRequest_FetchPartition *req;
    struct sl_FetchResponse_PartitionData *resp;
    struct sl_obuf chain;                 /* records read: file ranges */
    struct sl_part_waiter w;
    bool parked;                          /* w is linked on the partition */
};

struct fetch {
    struct sl_call *call;
    struct fetch_part *fp;
    int32_t n;
    struct sl_timer timer;
    int inflight;                         /* wake() calls posted but not yet run, once finishing */
    bool finishing;
    bool parked;                          /* counted in the fetch purgatory gauge */
};

/* read_committed: the aborted transactions overlapping [from, to), for
 * the consumer to drop (Kafka's AbortedTransactions). */
static void aborted_txns(struct fetch_part *fp, int64_t from, int64_t to)
{
    struct sl_pstate_aborted stack[16], *ab = stack;
    int n = sl_pstate_aborted(fp->part->pstate, from, to, ab, 16);
    struct sl_FetchResponse_PartitionData *r = fp->resp;
    r->AbortedTransactions_n = 0;
    if (n == 0)
        return;
    struct sl_arena *a = &fp->f->call->req->arena;
    if (n > 16) {
        int cap = n + 16; /* more may have been added meanwhile */
        if (!(ab = sl_arena_alloc(a, sizeof(*ab) * (size_t)cap)))
            return;
        n = sl_pstate_aborted(fp->part->pstate, from, to, ab, cap);
        if (n > cap)
            n = cap;
    }
    r->AbortedTransactions = sl_arena_alloc(a, sizeof(*r->AbortedTransactions) * (size_t)n);
    if (!r->AbortedTransactions)
        return;
    for (int i = 0; i < n; i++) {
        sl_FetchResponse_AbortedTransaction_init(&r->AbortedTransactions[i]);
        r->AbortedTransactions[i].ProducerId = ab[i].producer_id;
        r->AbortedTransactions[i].FirstOffset = ab[i].first_offset;
    }
    r->AbortedTransactions_n = n;
}

static void read_part(struct fetch_part *fp, int64_t *budget, bool *first)
{
    struct sl_FetchResponse_PartitionData *r = fp->resp;
    struct sl_part *part = fp->part;
    sl_obuf_fini(&fp->chain);
    /* Always a record set, empty on errors: Kafka never sends null records,
     * and librdkafka fails to parse a partition that has them. */
    r->Records.chain = &fp->chain;
    r->Records.mem = (struct sl_slice){NULL, 0};
    if (!part)
        return;
    int64_t hwm = sl_part_hwm(part);
    int64_t start = sl_log_start_offset(part->log);
    int64_t end = sl_log_end_offset(part->log);
    /* The last stable offset: below the first open transaction, at most hwm.
     * read_committed reads up to it (storage/producer_state.h). */
    int64_t lso = sl_pstate_first_unstable(part->pstate);
    if (lso > hwm)
        lso = hwm;
    bool committed = ((struct sl_FetchRequest *)fp->f->call->request)->IsolationLevel == 1;
    r->HighWatermark = hwm;
    r->LastStableOffset = lso;
    r->LogStartOffset = start;
    r->ErrorCode = SL_KERR_NONE;
    int64_t off = fp->req->FetchOffset;
    if (off < start || off > end) {
        r->ErrorCode = SL_KERR_OFFSET_OUT_OF_RANGE;
        return;
    }
    r->Records.chain = &fp->chain;
    int64_t limit = committed ? lso : hwm;
    if (committed && off < limit)
        aborted_txns(fp, off, limit);
    if (off >= limit || (*budget <= 0 && !*first))
        return;
    int64_t max = fp->req->PartitionMaxBytes;
    if (max > *budget)
        max = *budget;
    if (max <= 0)
        max = 1; /* the first batch is returned whole anyway */
    int rc = sl_log_read(part->log, off, limit, (size_t)max, &fp->chain);
    if (rc == -ERANGE) {
        sl_obuf_fini(&fp->chain);
        r->ErrorCode = SL_KERR_OFFSET_OUT_OF_RANGE;
        return;
    }
    if (rc < 0) {
        /* -EBADMSG: the next batch is corrupt on disk (storage/verify.c);
         * it is never served. */
        sl_obuf_fini(&fp->chain);
        r->ErrorCode = rc == -EBADMSG ? SL_KERR_CORRUPT_MESSAGE : SL_KERR_KAFKA_STORAGE_ERROR;
        return;
    }
    if (fp->chain.total_len) {
        *budget -= (int64_t)fp->chain.total_len;
        *first = false;
    }
}

/* Re-reads every partition; returns the bytes gathered, or -1 if a partition
 * carries an error (which answers the fetch at once, as Kafka does). */
static int64_t read_all(struct fetch *f)
{
    struct sl_FetchRequest *req = f->call->request;
    int64_t budget = req->MaxBytes > 0 ? req->MaxBytes : 0;
    bool first = true, err = false;
    int64_t total = 0;
    for (int32_t i = 0; i < f->n; i++) {
        struct fetch_part *fp = &f->fp[i];
        if (!fp->part)
            continue;
        read_part(fp, &budget, &first);
        total += (int64_t)fp->chain.total_len;
        err |= fp->resp->ErrorCode != 0;
    }
    return err ? -1 : total;
}

static void complete(struct fetch *f)
{
    if (f->parked)
        sl_metrics_parked(f->call->broker->metrics, SL_PURGATORY_FETCH, -1);
    for (int32_t i = 0; i < f->n; i++) {
        struct sl_part *part = f->fp[i].part;
        if (part && f->fp[i].chain.total_len)
            __atomic_fetch_add(&part->bytes_out, (uint64_t)f->fp[i].chain.total_len, __ATOMIC_RELAXED);
        sl_part_unref(part);
    }
    /* The encoder moves each chain's pieces into the response. */
    sl_call_respond(f->call);
    /* Chains are empty after the move; nothing else to free. */
}

static void finish(struct fetch *f)
{
    f->finishing = true;
    sl_timer_stop(f->call->req->loop, &f->timer);
    for (int32_t i = 0; i < f->n; i++) {
        struct fetch_part *fp = &f->fp[i];
        if (!fp->parked)
            continue;
        if (sl_part_unwait(fp->part, &fp->w))
            fp->parked = false;
        else
            f->inflight++;
    }
    if (f->inflight == 0)
        complete(f);
}

static bool satisfied(struct fetch *f, int64_t bytes)
{
    struct sl_FetchRequest *req = f->call->request;
    return bytes < 0 || bytes >= req->MinBytes || req->MaxWaitMs <= 0;
}

static void wake(void *arg);

/* Parks every partition; false when one moved meanwhile (read again). */
static bool park(struct fetch *f)
{
    for (int32_t i = 0; i < f->n; i++) {
        struct fetch_part *fp = &f->fp[i];
        if (!fp->part || fp->parked)
            continue;
        fp->w.loop = f->call->req->loop;
        fp->w.fn = wake;
        fp->w.arg = fp;
        sl_list_init(&fp->w.link);
        int64_t seen = fp->resp->HighWatermark;
        if (!sl_part_wait(fp->part, &fp->w, seen))
            return false;
        fp->parked = true;
    }
    return true;
}

static void wake(void *arg)
{
    struct fetch_part *fp = arg;
    struct fetch *f = fp->f;
    fp->parked = false;
    if (f->finishing) {
        if (--f->inflight == 0)
            complete(f);
        return;
    }
    for (;;) {
        if (satisfied(f, read_all(f))) {
            finish(f);
            return;
        }
        if (park(f))
            return;
    }
}

static void timed_out(void *arg)
{
    finish(arg);
}

void sl_handle_Fetch(struct sl_call *call)
{
    struct sl_FetchRequest *req = call->request;
    struct sl_FetchResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    struct fetch *f = sl_arena_alloc(a, sizeof(*f));
    int32_t nt = req->Topics_n > 0 ? req->Topics_n : 0, n = 0;
    for (int32_t i = 0; i < nt; i++)
        n += req->Topics[i].Partitions_n > 0 ? req->Topics[i].Partitions_n : 0;
    resp->Responses = sl_arena_alloc(a, sizeof(*resp->Responses) * (size_t)(nt + 1));
    struct fetch_part *fps = sl_arena_alloc(a, sizeof(*fps) * (size_t)(n + 1));
    if (!f || !resp->Responses || !fps) {
        sl_call_close(call, "out of memory for Fetch");
        return;
    }
    f->call = call;
    f->fp = fps;
    f->n = n;
    sl_timer_init(&f->timer);
    resp->SessionId = 0;
    resp->ErrorCode = SL_KERR_NONE;
    if (req->SessionId != 0) {
        /* We never hand out sessions, so an incremental fetch names none of ours. */
        resp->ErrorCode = SL_KERR_FETCH_SESSION_ID_NOT_FOUND;
        resp->Responses_n = 0;
        sl_call_respond(call);
        return;
    }
    int32_t replica = call->version >= 15 ? req->ReplicaState.ReplicaId : req->ReplicaId;
    struct sl_image *img = sl_image_acquire();
    resp->Responses_n = nt;
    int32_t k = 0;
    for (int32_t i = 0; i < nt; i++) {
        struct sl_FetchRequest_FetchTopic *rt = &req->Topics[i];
        struct sl_FetchResponse_FetchableTopicResponse *tr = &resp->Responses[i];
        sl_FetchResponse_FetchableTopicResponse_init(tr);
        tr->Topic = rt->Topic;
        tr->TopicId = rt->TopicId;
        const struct sl_image_topic *t = call->version >= 13 ? sl_image_topic_by_id(img, &rt->TopicId)
                                                            : sl_image_topic_by_name(img, rt->Topic);
        /* READ on the topic; by name before existence, as Kafka (by id: only known ids). */
        bool denied = (call->version < 13 || t) &&
                      !sl_authz_topic(call, img, SL_ACL_OP_READ, t ? sl_slice_cstr(t->name) : rt->Topic);
        int32_t np = rt->Partitions_n > 0 ? rt->Partitions_n : 0;
        tr->Partitions = sl_arena_alloc(a, sizeof(*tr->Partitions) * (size_t)(np + 1));
        if (!tr->Partitions) {
            for (int32_t j = 0; j < k; j++)
                sl_part_unref(fps[j].part);
            sl_image_release(img);
            sl_call_close(call, "out of memory for Fetch");
            return;
        }
        tr->Partitions_n = np;
        for (int32_t j = 0; j < np; j++) {
            struct fetch_part *fp = &fps[k++];
            fp->f = f;
            fp->req = &rt->Partitions[j];
            fp->resp = &tr->Partitions[j];
            sl_obuf_init(&fp->chain);
            sl_FetchResponse_PartitionData_init(fp->resp);
            struct sl_FetchResponse_PartitionData *r = fp->resp;
            r->PartitionIndex = fp->req->Partition;
            r->HighWatermark = -1;
            r->AbortedTransactions_n = -1;
            r->Records.chain = &fp->chain;
            if (replica >= 0 || denied) {
                /* replica_id >= 0 is a follower's fetch (CVE-2018-1288): Sluice
                 * serves none to clients, ClusterAction or not */
                r->ErrorCode = SL_KERR_TOPIC_AUTHORIZATION_FAILED;
            } else if (!t) {
                r->ErrorCode = call->version >= 13 ? SL_KERR_UNKNOWN_TOPIC_ID : SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else if (fp->req->Partition < 0 || fp->req->Partition >= t->partitions_n) {
                r->ErrorCode = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else if (!(fp->part = sl_parts_get(call->broker->parts, &t->id, fp->req->Partition))) {
                r->ErrorCode = SL_KERR_NOT_LEADER_OR_FOLLOWER;
            } else {
                int32_t epoch = __atomic_load_n(&fp->part->leader_epoch, __ATOMIC_ACQUIRE);
                int32_t want = fp->req->CurrentLeaderEpoch;
                if (want >= 0 && want < epoch)
                    r->ErrorCode = SL_KERR_FENCED_LEADER_EPOCH;
                else if (want > epoch)
                    r->ErrorCode = SL_KERR_UNKNOWN_LEADER_EPOCH;
                if (r->ErrorCode) {
                    sl_part_unref(fp->part);
                    fp->part = NULL;
                }
            }
        }
    }
    sl_image_release(img);
    bool errors = false;
    for (int32_t i = 0; i < n; i++)
        errors |= fps[i].resp->ErrorCode != 0;
    int64_t bytes = read_all(f);
    if (errors || satisfied(f, bytes)) {
        complete(f);
        return;
    }
    for (;;) {
        if (park(f))
            break;
        if (satisfied(f, read_all(f))) {
            finish(f);
            return;
        }
    }
    f->parked = true;
    sl_metrics_parked(call->broker->metrics, SL_PURGATORY_FETCH, 1);
    call->parked_ms = req->MaxWaitMs;
    sl_timer_start(call->req->loop, &f->timer, sl_clock_mono_ms() + req->MaxWaitMs, timed_out, f);
}
