/*
 * tc_api.c - the transaction coordinator's APIs (InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn, EndTxn, TxnOffsetCommit, DescribeTransactions,
 * ListTransactions), run on the coordinator thread, and its periodic tick.
 */
#include "txn/tc_int.h"

/* ---- APIs ------------------------------------------------------------------------------- */

static int16_t check_producer(const struct txn *t, int64_t pid, int16_t epoch)
{
    if (!t || t->pid != pid)
        return SL_KERR_INVALID_PRODUCER_ID_MAPPING;
    if (epoch != t->epoch)
        return SL_KERR_PRODUCER_FENCED;
    if (t->state == TXN_PREPARE_COMMIT || t->state == TXN_PREPARE_ABORT)
        return SL_KERR_CONCURRENT_TRANSACTIONS;
    return 0;
}

static void do_init_pid(struct sl_tc *tc, struct sl_call *call)
{
    struct sl_InitProducerIdRequest *req = call->request;
    struct sl_InitProducerIdResponse *resp = call->response;
    const struct sl_conf *conf = tc->broker->conf;
    if (req->TransactionTimeoutMs <= 0 || (conf && req->TransactionTimeoutMs > conf->transaction_max_timeout_ms)) {
        resp->ErrorCode = SL_KERR_INVALID_TRANSACTION_TIMEOUT;
        return;
    }
    int32_t nparts = tc_txn_topic_partitions(tc, true);
    if (nparts <= 0) {
        resp->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
        return;
    }
    struct txn *t = tc_txn_find(tc, req->TransactionalId);
    bool fresh = !t;
    if (!t) {
        int64_t pid = sl_txn_pid_alloc_sync(tc->broker);
        if (pid < 0) {
            resp->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
            return;
        }
        t = tc_txn_add(tc, req->TransactionalId);
        t->log_partition = sl_group_partition(req->TransactionalId, nparts);
        t->pid = pid;
        t->epoch = 0;
        t->state = TXN_EMPTY;
        tc_v_set_epoch(pid, 0);
    } else {
        bool given = call->version >= 3 && req->ProducerId >= 0;
        if (given && !(req->ProducerId == t->pid && req->ProducerEpoch == t->epoch) &&
            !(req->ProducerId == t->prev_pid)) {
            resp->ErrorCode = SL_KERR_PRODUCER_FENCED;
            return;
        }
        if (t->state == TXN_PREPARE_COMMIT || t->state == TXN_PREPARE_ABORT) {
            if (tc_end_txn(tc, t, t->state == TXN_PREPARE_COMMIT) != 0) {
                resp->ErrorCode = SL_KERR_CONCURRENT_TRANSACTIONS;
                return;
            }
        } else if (t->state == TXN_ONGOING) {
            /* A new incarnation of the producer: fence the old one and abort its transaction. */
            if (tc_fence_and_abort(tc, t) != 0) {
                resp->ErrorCode = SL_KERR_CONCURRENT_TRANSACTIONS;
                return;
            }
        }
        if (tc_bump_epoch(tc, t) < 0) {
            resp->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
            return;
        }
        t->state = TXN_EMPTY;
    }
    t->timeout_ms = req->TransactionTimeoutMs;
    t->start_ms = -1;
    t->update_ms = sl_clock_wall_ms();
    if (tc_write_txn(tc, t) < 0) {
        if (fresh)
            tc_txn_remove(tc, t);
        resp->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
        return;
    }
    resp->ProducerId = t->pid;
    resp->ProducerEpoch = t->epoch;
}

/* Adds partitions to t (written once); the error for all of them, or 0. */
static int16_t add_partitions(struct sl_tc *tc, struct txn *t, const struct sl_slice *topics, const int32_t *parts,
                              int n)
{
    bool all_there = t->state == TXN_ONGOING;
    for (int i = 0; i < n && all_there; i++)
        all_there = tc_has_part(t, topics[i], parts[i]);
    if (all_there)
        return 0;
    int before = t->parts_n;
    enum txn_state was = t->state;
    int64_t was_start = t->start_ms;
    for (int i = 0; i < n; i++)
        tc_add_part(t, topics[i], parts[i]);
    if (t->state != TXN_ONGOING) {
        t->state = TXN_ONGOING;
        t->start_ms = sl_clock_wall_ms();
    }
    t->update_ms = sl_clock_wall_ms();
    if (tc_write_txn(tc, t) < 0) {
        while (t->parts_n > before)
            free(t->parts[--t->parts_n].topic);
        t->state = was;
        t->start_ms = was_start;
        return SL_KERR_COORDINATOR_NOT_AVAILABLE;
    }
    for (int i = before; i < t->parts_n; i++)
        tc_v_add_part(t->pid, t->epoch, t->parts[i].topic, t->parts[i].partition);
    return 0;
}

static bool partition_exists(const struct sl_image *img, struct sl_slice topic, int32_t partition)
{
    const struct sl_image_topic *t = sl_image_topic_by_name(img, topic);
    return t && partition >= 0 && partition < t->partitions_n;
}

/* One transaction of AddPartitionsToTxn: fills results (arena) and returns them. */
static struct sl_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult *
add_partitions_one(struct sl_tc *tc, struct sl_arena *a, struct sl_slice id, int64_t pid, int16_t epoch,
                   bool verify_only, const struct sl_AddPartitionsToTxnRequest_AddPartitionsToTxnTopic *topics,
                   int32_t nt)
{
    if (nt < 0)
        nt = 0;
    struct sl_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult *res =
        sl_arena_alloc(a, sizeof(*res) * (size_t)(nt + 1));
    int total = 0;
    for (int32_t i = 0; i < nt; i++)
        total += topics[i].Partitions_n > 0 ? topics[i].Partitions_n : 0;
    struct sl_slice *names = calloc((size_t)total + 1, sizeof(*names));
    int32_t *idx = calloc((size_t)total + 1, sizeof(*idx));
    int16_t *errs = calloc((size_t)total + 1, sizeof(*errs));
    if (!res || !names || !idx || !errs) {
        free(names);
        free(idx);
        free(errs);
        return NULL;
    }
    struct sl_image *img = sl_image_acquire();
    struct txn *t = tc_txn_find(tc, id);
    int16_t err = check_producer(t, pid, epoch);
    int k = 0;
    bool unknown = false;
    for (int32_t i = 0; i < nt; i++)
        for (int32_t j = 0; j < (topics[i].Partitions_n > 0 ? topics[i].Partitions_n : 0); j++) {
            names[k] = topics[i].Name;
            idx[k] = topics[i].Partitions[j];
            if (!partition_exists(img, names[k], idx[k]) || sl_slice_eq_cstr(names[k], TXN_TOPIC)) {
                errs[k] = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                unknown = true;
            }
            k++;
        }
    sl_image_release(img);
    if (!err && unknown) {
        for (int i = 0; i < k; i++)
            if (!errs[i])
                errs[i] = SL_KERR_OPERATION_NOT_ATTEMPTED;
    } else if (!err && verify_only) {
        for (int i = 0; i < k; i++)
            errs[i] = t->state == TXN_ONGOING && tc_has_part(t, names[i], idx[i]) ? 0 : SL_KERR_INVALID_TXN_STATE;
    } else {
        if (!err)
            err = add_partitions(tc, t, names, idx, k);
        for (int i = 0; i < k; i++)
            errs[i] = err;
    }
    k = 0;
    for (int32_t i = 0; i < nt; i++) {
        sl_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult_init(&res[i]);
        res[i].Name = topics[i].Name;
        int32_t np = topics[i].Partitions_n > 0 ? topics[i].Partitions_n : 0;
        res[i].ResultsByPartition = sl_arena_alloc(a, sizeof(*res[i].ResultsByPartition) * (size_t)(np + 1));
        res[i].ResultsByPartition_n = res[i].ResultsByPartition ? np : 0;
        for (int32_t j = 0; j < res[i].ResultsByPartition_n; j++, k++) {
            sl_AddPartitionsToTxnResponse_AddPartitionsToTxnPartitionResult_init(&res[i].ResultsByPartition[j]);
            res[i].ResultsByPartition[j].PartitionIndex = idx[k];
            res[i].ResultsByPartition[j].PartitionErrorCode = errs[k];
        }
    }
    free(names);
    free(idx);
    free(errs);
    return res;
}

static void do_add_partitions(struct sl_tc *tc, struct sl_call *call)
{
    struct sl_AddPartitionsToTxnRequest *req = call->request;
    struct sl_AddPartitionsToTxnResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    if (call->version <= 3) {
        resp->ResultsByTopicV3AndBelow =
            add_partitions_one(tc, a, req->V3AndBelowTransactionalId, req->V3AndBelowProducerId,
                               req->V3AndBelowProducerEpoch, false, req->V3AndBelowTopics, req->V3AndBelowTopics_n);
        resp->ResultsByTopicV3AndBelow_n = resp->ResultsByTopicV3AndBelow ? req->V3AndBelowTopics_n : 0;
        return;
    }
    int32_t n = req->Transactions_n > 0 ? req->Transactions_n : 0;
    resp->ResultsByTransaction = sl_arena_alloc(a, sizeof(*resp->ResultsByTransaction) * (size_t)(n + 1));
    if (!resp->ResultsByTransaction) {
        resp->ErrorCode = SL_KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    resp->ResultsByTransaction_n = n;
    for (int32_t i = 0; i < n; i++) {
        struct sl_AddPartitionsToTxnRequest_AddPartitionsToTxnTransaction *tr = &req->Transactions[i];
        struct sl_AddPartitionsToTxnResponse_AddPartitionsToTxnResult *r = &resp->ResultsByTransaction[i];
        sl_AddPartitionsToTxnResponse_AddPartitionsToTxnResult_init(r);
        r->TransactionalId = tr->TransactionalId;
        r->TopicResults = add_partitions_one(tc, a, tr->TransactionalId, tr->ProducerId, tr->ProducerEpoch,
                                             tr->VerifyOnly, tr->Topics, tr->Topics_n);
        r->TopicResults_n = r->TopicResults && tr->Topics_n > 0 ? tr->Topics_n : 0;
    }
}

static int32_t group_offsets_partition(struct sl_tc *tc, struct sl_slice group)
{
    int32_t n = tc_offsets_partitions();
    if (n <= 0)
        n = tc->broker->conf ? tc->broker->conf->offsets_topic_num_partitions : 50;
    return sl_group_partition(group, n);
}

static void do_add_offsets(struct sl_tc *tc, struct sl_call *call)
{
    struct sl_AddOffsetsToTxnRequest *req = call->request;
    struct sl_AddOffsetsToTxnResponse *resp = call->response;
    struct txn *t = tc_txn_find(tc, req->TransactionalId);
    int16_t err = check_producer(t, req->ProducerId, req->ProducerEpoch);
    if (!err) {
        struct sl_slice topic = sl_slice_cstr(OFFSETS_TOPIC);
        int32_t p = group_offsets_partition(tc, req->GroupId);
        err = add_partitions(tc, t, &topic, &p, 1);
    }
    resp->ErrorCode = err;
}

static void do_end_txn(struct sl_tc *tc, struct sl_call *call)
{
    struct sl_EndTxnRequest *req = call->request;
    struct sl_EndTxnResponse *resp = call->response;
    struct txn *t = tc_txn_find(tc, req->TransactionalId);
    resp->ProducerId = -1;
    resp->ProducerEpoch = -1;
    if (!t || t->pid != req->ProducerId) {
        resp->ErrorCode = SL_KERR_INVALID_PRODUCER_ID_MAPPING;
        return;
    }
    if (req->ProducerEpoch != t->epoch) {
        resp->ErrorCode = SL_KERR_PRODUCER_FENCED;
        return;
    }
    switch (t->state) {
    case TXN_ONGOING:
        resp->ErrorCode = tc_end_txn(tc, t, req->Committed);
        break;
    case TXN_PREPARE_COMMIT:
    case TXN_PREPARE_ABORT:
        resp->ErrorCode = (t->state == TXN_PREPARE_COMMIT) == req->Committed ? tc_end_txn(tc, t, req->Committed)
                                                                               : SL_KERR_INVALID_TXN_STATE;
        break;
    case TXN_COMPLETE_COMMIT: /* a retry of the EndTxn that did it */
        resp->ErrorCode = req->Committed ? 0 : SL_KERR_INVALID_TXN_STATE;
        break;
    case TXN_COMPLETE_ABORT:
        resp->ErrorCode = req->Committed ? SL_KERR_INVALID_TXN_STATE : 0;
        break;
    default:
        resp->ErrorCode = SL_KERR_INVALID_TXN_STATE;
        break;
    }
    resp->ProducerId = t->pid;
    resp->ProducerEpoch = t->epoch;
}

/* TxnOffsetCommit: the offsets go to __consumer_offsets now, as a
 * transactional batch of the producer (so the COMMIT/ABORT marker decides
 * them there, on reload too); the group coordinator applies them when the
 * transaction commits. */
static void do_txn_offset_commit(struct sl_tc *tc, struct sl_call *call)
{
    struct sl_TxnOffsetCommitRequest *req = call->request;
    struct sl_TxnOffsetCommitResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t nt = req->Topics_n > 0 ? req->Topics_n : 0;
    resp->Topics = sl_arena_alloc(a, sizeof(*resp->Topics) * (size_t)(nt + 1));
    if (!resp->Topics)
        return;
    resp->Topics_n = nt;
    struct txn *t = tc_txn_find(tc, req->TransactionalId);
    int16_t err = check_producer(t, req->ProducerId, req->ProducerEpoch);
    if (err == SL_KERR_PRODUCER_FENCED && t && req->ProducerEpoch < t->epoch)
        err = SL_KERR_PRODUCER_FENCED;
    int32_t gp = group_offsets_partition(tc, req->GroupId);
    if (!err && (t->state != TXN_ONGOING || !tc_has_part(t, sl_slice_cstr(OFFSETS_TOPIC), gp)))
        err = SL_KERR_INVALID_TXN_STATE; /* AddOffsetsToTxn first */
    struct sl_image *img = sl_image_acquire();
    int total = 0;
    for (int32_t i = 0; i < nt; i++)
        total += req->Topics[i].Partitions_n > 0 ? req->Topics[i].Partitions_n : 0;
    struct sl_batch_builder bb;
    struct sl_batch_build_opts o;
    sl_batch_build_opts_default(&o);
    if (t) {
        o.producer_id = t->pid;
        o.producer_epoch = t->epoch;
    }
    o.transactional = true;
    sl_batch_builder_init(&bb, &o);
    int added = 0, first_new = t ? t->offs_n : 0;
    int64_t now = sl_clock_wall_ms();
    for (int32_t i = 0; i < nt; i++) {
        struct sl_TxnOffsetCommitRequest_TxnOffsetCommitRequestTopic *rt = &req->Topics[i];
        struct sl_TxnOffsetCommitResponse_TxnOffsetCommitResponseTopic *r = &resp->Topics[i];
        sl_TxnOffsetCommitResponse_TxnOffsetCommitResponseTopic_init(r);
        r->Name = rt->Name;
        int32_t np = rt->Partitions_n > 0 ? rt->Partitions_n : 0;
        r->Partitions = sl_arena_alloc(a, sizeof(*r->Partitions) * (size_t)(np + 1));
        r->Partitions_n = r->Partitions ? np : 0;
        for (int32_t j = 0; j < r->Partitions_n; j++) {
            struct sl_TxnOffsetCommitRequest_TxnOffsetCommitRequestPartition *p = &rt->Partitions[j];
            sl_TxnOffsetCommitResponse_TxnOffsetCommitResponsePartition_init(&r->Partitions[j]);
            r->Partitions[j].PartitionIndex = p->PartitionIndex;
            int16_t e = err;
            if (!e && !partition_exists(img, rt->Name, p->PartitionIndex))
                e = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            r->Partitions[j].ErrorCode = e;
            if (e)
                continue;
            if (t->offs_n == t->offs_cap) {
                int nc = t->offs_cap ? t->offs_cap * 2 : 16;
                struct toffset *nv = realloc(t->offs, sizeof(*nv) * (size_t)nc);
                SL_ASSERT(nv != NULL);
                t->offs = nv;
                t->offs_cap = nc;
            }
            struct toffset *to = &t->offs[t->offs_n++];
            to->group = strndup((const char *)req->GroupId.p, req->GroupId.len);
            to->topic = strndup((const char *)rt->Name.p, rt->Name.len);
            to->partition = p->PartitionIndex;
            to->offset = p->CommittedOffset;
            to->leader_epoch = call->version >= 2 ? p->CommittedLeaderEpoch : -1;
            to->metadata = p->CommittedMetadata.p ? strndup((const char *)p->CommittedMetadata.p,
                                                            p->CommittedMetadata.len)
                                                  : NULL;
            struct sl_grec rec;
            if (tc_offset_record(to, now, &rec) == 0) {
                sl_batch_builder_add(&bb, now, rec.key, rec.value, NULL, 0);
                added++;
            }
            free((void *)rec.key.p);
            free((void *)rec.value.p);
        }
    }
    sl_image_release(img);
    int rc = 0;
    if (added) {
        uint8_t *batch = NULL;
        size_t len = 0;
        rc = sl_batch_builder_finish(&bb, &batch, &len);
        struct sl_part *part = rc == 0 ? tc_get_part(tc, sl_slice_cstr(OFFSETS_TOPIC), gp) : NULL;
        if (rc == 0 && !part)
            rc = -ENOENT;
        if (rc == 0)
            rc = tc_append(part, batch, len);
        if (rc == 0)
            rc = tc_sync_part(part);
        if (part)
            sl_part_unref(part);
        free(batch);
    }
    sl_batch_builder_fini(&bb);
    if (rc < 0) {
        SL_ERROR("txn", "TxnOffsetCommit of %.*s failed: %s", SL_SLICE_FMT(req->TransactionalId), strerror(-rc));
        while (t->offs_n > first_new) {
            struct toffset *to = &t->offs[--t->offs_n];
            free(to->group);
            free(to->topic);
            free(to->metadata);
        }
        for (int32_t i = 0; i < nt; i++)
            for (int32_t j = 0; j < resp->Topics[i].Partitions_n; j++)
                if (!resp->Topics[i].Partitions[j].ErrorCode)
                    resp->Topics[i].Partitions[j].ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
    }
}

static void do_describe(struct sl_tc *tc, struct sl_call *call)
{
    struct sl_DescribeTransactionsRequest *req = call->request;
    struct sl_DescribeTransactionsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t n = req->TransactionalIds_n > 0 ? req->TransactionalIds_n : 0;
    resp->TransactionStates = sl_arena_alloc(a, sizeof(*resp->TransactionStates) * (size_t)(n + 1));
    if (!resp->TransactionStates)
        return;
    resp->TransactionStates_n = n;
    for (int32_t i = 0; i < n; i++) {
        struct sl_DescribeTransactionsResponse_TransactionState *s = &resp->TransactionStates[i];
        sl_DescribeTransactionsResponse_TransactionState_init(s);
        s->TransactionalId = req->TransactionalIds[i];
        struct txn *t = tc_txn_find(tc, req->TransactionalIds[i]);
        if (!t) {
            s->ErrorCode = SL_KERR_TRANSACTIONAL_ID_NOT_FOUND;
            s->TransactionState = sl_slice_cstr("");
            s->Topics_n = 0;
            continue;
        }
        s->TransactionState = sl_slice_cstr(tc_state_names[t->state]);
        s->TransactionTimeoutMs = t->timeout_ms;
        s->TransactionStartTimeMs = t->start_ms;
        s->ProducerId = t->pid;
        s->ProducerEpoch = t->epoch;
        s->Topics = sl_arena_alloc(a, sizeof(*s->Topics) * (size_t)(t->parts_n + 1));
        s->Topics_n = 0;
        if (!s->Topics)
            continue;
        for (int j = 0; j < t->parts_n; j++) {
            struct sl_DescribeTransactionsResponse_TopicData *td = NULL;
            for (int32_t k = 0; k < s->Topics_n; k++)
                if (sl_slice_eq_cstr(s->Topics[k].Topic, t->parts[j].topic))
                    td = &s->Topics[k];
            if (!td) {
                td = &s->Topics[s->Topics_n++];
                sl_DescribeTransactionsResponse_TopicData_init(td);
                td->Topic = sl_arena_str(a, t->parts[j].topic);
                td->Partitions = sl_arena_alloc(a, sizeof(int32_t) * (size_t)(t->parts_n + 1));
                td->Partitions_n = 0;
            }
            if (td->Partitions)
                td->Partitions[td->Partitions_n++] = t->parts[j].partition;
        }
    }
}

static void do_list(struct sl_tc *tc, struct sl_call *call)
{
    struct sl_ListTransactionsRequest *req = call->request;
    struct sl_ListTransactionsResponse *resp = call->response;
    struct sl_arena *a = &call->req->arena;
    int32_t nf = req->StateFilters_n > 0 ? req->StateFilters_n : 0;
    resp->UnknownStateFilters = sl_arena_alloc(a, sizeof(struct sl_slice) * (size_t)(nf + 1));
    resp->UnknownStateFilters_n = 0;
    for (int32_t i = 0; i < nf && resp->UnknownStateFilters; i++) {
        bool known = false;
        for (size_t s = 0; s < sizeof(tc_state_names) / sizeof(tc_state_names[0]); s++)
            known |= sl_slice_eq_cstr(req->StateFilters[i], tc_state_names[s]);
        if (!known)
            resp->UnknownStateFilters[resp->UnknownStateFilters_n++] = req->StateFilters[i];
    }
    resp->TransactionStates = sl_arena_alloc(a, sizeof(*resp->TransactionStates) * (tc->n + 1));
    resp->TransactionStates_n = 0;
    if (!resp->TransactionStates)
        return;
    int64_t now = sl_clock_wall_ms();
    for (size_t b = 0; b < tc->nbuckets; b++)
        for (struct txn *t = tc->buckets[b]; t; t = t->next) {
            bool ok = nf == 0;
            for (int32_t i = 0; i < nf && !ok; i++)
                ok = sl_slice_eq_cstr(req->StateFilters[i], tc_state_names[t->state]);
            if (ok && req->ProducerIdFilters_n > 0) {
                ok = false;
                for (int32_t i = 0; i < req->ProducerIdFilters_n; i++)
                    ok |= req->ProducerIdFilters[i] == t->pid;
            }
            if (ok && call->version >= 1 && req->DurationFilter >= 0)
                ok = t->state == TXN_ONGOING && t->start_ms >= 0 && now - t->start_ms > req->DurationFilter;
            if (!ok)
                continue;
            struct sl_ListTransactionsResponse_TransactionState *s =
                &resp->TransactionStates[resp->TransactionStates_n++];
            sl_ListTransactionsResponse_TransactionState_init(s);
            s->TransactionalId = sl_arena_str(a, t->id);
            s->ProducerId = t->pid;
            s->TransactionState = sl_slice_cstr(tc_state_names[t->state]);
        }
}

void tc_run_call(struct sl_tc *tc, struct sl_call *call)
{
    switch (call->api_key) {
    case SL_API_InitProducerId:
        do_init_pid(tc, call);
        break;
    case SL_API_AddPartitionsToTxn:
        do_add_partitions(tc, call);
        break;
    case SL_API_AddOffsetsToTxn:
        do_add_offsets(tc, call);
        break;
    case SL_API_EndTxn:
        do_end_txn(tc, call);
        break;
    case SL_API_TxnOffsetCommit:
        do_txn_offset_commit(tc, call);
        break;
    case SL_API_DescribeTransactions:
        do_describe(tc, call);
        break;
    case SL_API_ListTransactions:
        do_list(tc, call);
        break;
    default:
        break;
    }
    sl_call_respond_later(call);
}

/* Aborts timed-out transactions and finishes any left in Prepare*. */
void tc_tick(struct sl_tc *tc)
{
    int64_t now = sl_clock_wall_ms();
    for (size_t b = 0; b < tc->nbuckets; b++)
        for (struct txn *t = tc->buckets[b]; t; t = t->next) {
            if (t->state == TXN_ONGOING && t->start_ms >= 0 && now - t->start_ms > t->timeout_ms) {
                SL_INFO("txn", "aborting transaction of %s (producer %lld epoch %d): timed out after %d ms", t->id,
                        (long long)t->pid, t->epoch, t->timeout_ms);
                tc_fence_and_abort(tc, t);
            } else if (t->state == TXN_PREPARE_COMMIT || t->state == TXN_PREPARE_ABORT) {
                tc_end_txn(tc, t, t->state == TXN_PREPARE_COMMIT);
            }
        }
}
