/*
 * tc_log.c - the transaction coordinator's log: __transaction_state (creating it,
 * writing a transaction's state, reading every partition back at start).
 */
#include "txn/tc_int.h"

/* ---- __transaction_state ------------------------------------------------------------- */

struct ctl_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    const struct sl_conf *conf;
    int16_t err;
};

static void create_txn_topic_op(struct sl_controller *ctl, void *arg)
{
    struct ctl_wait *w = arg;
    const struct sl_conf *conf = w->conf;
    int16_t err = 0;
    if (!sl_image_topic_by_name(sl_controller_image(ctl), sl_slice_cstr(TXN_TOPIC))) {
        char seg[32], isr[16];
        snprintf(seg, sizeof(seg), "%d", conf->transaction_state_log_segment_bytes);
        snprintf(isr, sizeof(isr), "%d", conf->transaction_state_log_min_isr);
        struct sl_slice ks[4] = {sl_slice_cstr("cleanup.policy"), sl_slice_cstr("compression.type"),
                                 sl_slice_cstr("segment.bytes"), sl_slice_cstr("min.insync.replicas")};
        struct sl_slice vs[4] = {sl_slice_cstr("compact"), sl_slice_cstr("uncompressed"), sl_slice_cstr(seg),
                                 sl_slice_cstr(isr)};
        struct sl_topic_spec spec = {
            .name = sl_slice_cstr(TXN_TOPIC),
            .partitions = conf->transaction_state_log_num_partitions,
            .replication_factor = conf->transaction_state_log_replication_factor,
            .configs_n = 4,
            .config_keys = ks,
            .config_values = vs,
        };
        struct sl_topic_result res;
        sl_ctl_create_topic(ctl, &spec, false, &res);
        if (res.error && res.error != SL_KERR_TOPIC_ALREADY_EXISTS) {
            SL_ERROR("txn", "cannot create %s: %s", TXN_TOPIC, res.message);
            err = SL_KERR_COORDINATOR_NOT_AVAILABLE;
        } else if (!res.error) {
            SL_INFO("txn", "created %s with %d partitions", TXN_TOPIC, res.partitions);
        }
    }
    pthread_mutex_lock(&w->lock);
    w->err = err;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* Number of partitions of __transaction_state, creating it on first use
 * (create) through the controller. 0 when it does not exist. */
int32_t tc_txn_topic_partitions(struct sl_tc *tc, bool create)
{
    if (tc->nparts > 0)
        return tc->nparts;
    struct sl_image *img = sl_image_acquire();
    const struct sl_image_topic *t = img ? sl_image_topic_by_name(img, sl_slice_cstr(TXN_TOPIC)) : NULL;
    int32_t n = t ? t->partitions_n : 0;
    if (img)
        sl_image_release(img);
    if (n == 0 && create && tc->broker->ctl) {
        struct ctl_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, tc->broker->conf, 0};
        sl_controller_submit(tc->broker->ctl, create_txn_topic_op, &w);
        pthread_mutex_lock(&w.lock);
        while (!w.done)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        return w.err ? 0 : tc_txn_topic_partitions(tc, false);
    }
    tc->nparts = n;
    return n;
}

struct sl_part *tc_get_part(struct sl_tc *tc, struct sl_slice topic, int32_t partition)
{
    struct sl_image *img = sl_image_acquire();
    const struct sl_image_topic *t = img ? sl_image_topic_by_name(img, topic) : NULL;
    struct sl_part *part = NULL;
    if (t && partition >= 0 && partition < t->partitions_n && tc->broker->parts)
        part = sl_parts_get(tc->broker->parts, &t->id, partition);
    if (img)
        sl_image_release(img);
    return part;
}

/* Appends one batch (producer state updated, as for Produce). 0 or -errno. */
int tc_append(struct sl_part *part, uint8_t *batch, size_t len)
{
    struct sl_batch_hdr hdr;
    sl_batch_hdr_decode(batch, len, &hdr);
    int64_t base;
    pthread_mutex_lock(&part->lock);
    int rc = sl_log_append(part->log, batch, len, __atomic_load_n(&part->leader_epoch, __ATOMIC_ACQUIRE), &base);
    if (rc == 0)
        sl_pstate_appended(part->pstate, &hdr, batch, len, base, sl_clock_wall_ms());
    pthread_mutex_unlock(&part->lock);
    return rc;
}

/* Makes the partition durable and publishes its new high watermark. */
int tc_sync_part(struct sl_part *part)
{
    int rc = sl_log_sync(part->log);
    if (rc == 0)
        sl_part_advance_hwm(part, sl_log_durable_offset(part->log));
    return rc;
}

int tc_flatten(struct sl_obuf *b, struct sl_slice *out)
{
    uint8_t *p = malloc(b->total_len + 1);
    int rc = p ? sl_obuf_flatten(b, p) : -ENOMEM;
    *out = (struct sl_slice){p, b->total_len};
    sl_obuf_fini(b);
    return rc;
}

/* Writes the txn's current state to __transaction_state, synced. */
int tc_write_txn(struct sl_tc *tc, struct txn *t)
{
    struct sl_TransactionLogKey key;
    sl_TransactionLogKey_init(&key);
    key.TransactionalId = sl_slice_cstr(t->id);
    struct sl_TransactionLogValue v;
    sl_TransactionLogValue_init(&v);
    v.ProducerId = t->pid;
    v.ProducerEpoch = t->epoch;
    v.TransactionTimeoutMs = t->timeout_ms;
    v.TransactionStatus = (int8_t)t->state;
    v.TransactionLastUpdateTimestampMs = t->update_ms;
    v.TransactionStartTimestampMs = t->start_ms;
    /* partitions grouped by topic */
    struct sl_TransactionLogValue_PartitionsSchema *ps = calloc((size_t)t->parts_n + 1, sizeof(*ps));
    int32_t *ids = calloc((size_t)t->parts_n + 1, sizeof(*ids));
    SL_ASSERT(ps && ids);
    int np = 0, used = 0;
    bool *done = calloc((size_t)t->parts_n + 1, sizeof(*done));
    SL_ASSERT(done != NULL);
    for (int i = 0; i < t->parts_n; i++) {
        if (done[i])
            continue;
        sl_TransactionLogValue_PartitionsSchema_init(&ps[np]);
        ps[np].Topic = sl_slice_cstr(t->parts[i].topic);
        ps[np].PartitionIds = ids + used;
        ps[np].PartitionIds_n = 0;
        for (int j = i; j < t->parts_n; j++)
            if (!done[j] && strcmp(t->parts[j].topic, t->parts[i].topic) == 0) {
                ids[used++] = t->parts[j].partition;
                ps[np].PartitionIds_n++;
                done[j] = true;
            }
        np++;
    }
    v.TransactionPartitions = ps;
    v.TransactionPartitions_n = np;
    struct sl_obuf b;
    struct sl_slice k = {0}, val = {0};
    sl_obuf_init(&b);
    int rc = sl_kp_write_i16(&b, 0) < 0 || sl_TransactionLogKey_encode(&b, 0, &key) < 0 ? -ENOMEM : 0;
    if (rc == 0)
        rc = tc_flatten(&b, &k);
    else
        sl_obuf_fini(&b);
    if (rc == 0) {
        sl_obuf_init(&b);
        rc = sl_kp_write_i16(&b, 0) < 0 || sl_TransactionLogValue_encode(&b, 0, &v) < 0 ? -ENOMEM : 0;
        if (rc == 0)
            rc = tc_flatten(&b, &val);
        else
            sl_obuf_fini(&b);
    }
    free(ps);
    free(ids);
    free(done);
    uint8_t *batch = NULL;
    size_t len = 0;
    if (rc == 0) {
        struct sl_batch_build_opts o;
        sl_batch_build_opts_default(&o);
        struct sl_batch_builder bb;
        sl_batch_builder_init(&bb, &o);
        sl_batch_builder_add(&bb, sl_clock_wall_ms(), k, val, NULL, 0);
        rc = sl_batch_builder_finish(&bb, &batch, &len);
        sl_batch_builder_fini(&bb);
    }
    free((void *)k.p);
    free((void *)val.p);
    if (rc < 0)
        return rc;
    struct sl_part *part = tc_get_part(tc, sl_slice_cstr(TXN_TOPIC), t->log_partition);
    if (!part) {
        free(batch);
        return -ENOENT;
    }
    rc = tc_append(part, batch, len);
    free(batch);
    if (rc == 0)
        rc = tc_sync_part(part);
    sl_part_unref(part);
    if (rc < 0)
        SL_ERROR("txn", "cannot write the state of %s: %s", t->id, strerror(-rc));
    return rc;
}


/* ---- loading ------------------------------------------------------------------------ */

static void replay_record(struct sl_tc *tc, int32_t partition, struct sl_slice key, struct sl_slice value)
{
    struct sl_arena a;
    sl_arena_init(&a, 1 << 20);
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, key.p, key.len, &a);
    int16_t kv;
    struct sl_TransactionLogKey k;
    sl_TransactionLogKey_init(&k);
    if (sl_kp_read_i16(&r, &kv) != SL_OK || kv != 0 || sl_TransactionLogKey_decode(&r, 0, &k) != SL_OK)
        goto out;
    struct txn *t = tc_txn_find(tc, k.TransactionalId);
    if (!value.p) {
        if (t)
            tc_txn_remove(tc, t);
        goto out;
    }
    sl_kp_reader_init(&r, value.p, value.len, &a);
    int16_t vv;
    struct sl_TransactionLogValue v;
    sl_TransactionLogValue_init(&v);
    if (sl_kp_read_i16(&r, &vv) != SL_OK || vv < 0 || vv > 1 || sl_TransactionLogValue_decode(&r, vv, &v) != SL_OK)
        goto out;
    if (!t)
        t = tc_txn_add(tc, k.TransactionalId);
    t->log_partition = partition;
    t->pid = v.ProducerId;
    t->epoch = v.ProducerEpoch;
    t->timeout_ms = v.TransactionTimeoutMs;
    t->state = v.TransactionStatus >= 0 && v.TransactionStatus <= 7 ? (enum txn_state)v.TransactionStatus : TXN_DEAD;
    t->update_ms = v.TransactionLastUpdateTimestampMs;
    t->start_ms = v.TransactionStartTimestampMs;
    tc_clear_parts(t);
    for (int32_t i = 0; i < v.TransactionPartitions_n; i++)
        for (int32_t j = 0; j < v.TransactionPartitions[i].PartitionIds_n; j++)
            tc_add_part(t, v.TransactionPartitions[i].Topic, v.TransactionPartitions[i].PartitionIds[j]);
out:
    sl_arena_fini(&a);
}

int tc_load_partition(struct sl_tc *tc, int32_t partition)
{
    struct sl_part *part = tc_get_part(tc, sl_slice_cstr(TXN_TOPIC), partition);
    if (!part)
        return -ENOENT;
    struct sl_log *log = part->log;
    int64_t off = sl_log_start_offset(log), end = sl_log_end_offset(log);
    int rc = 0;
    while (off < end) {
        struct sl_obuf ob;
        sl_obuf_init(&ob);
        rc = sl_log_read(log, off, end, 4u << 20, &ob);
        if (rc < 0 || ob.total_len == 0) {
            sl_obuf_fini(&ob);
            break;
        }
        size_t len = ob.total_len;
        uint8_t *buf = malloc(len);
        SL_ASSERT(buf != NULL);
        rc = sl_obuf_flatten(&ob, buf);
        sl_obuf_fini(&ob);
        if (rc < 0) {
            free(buf);
            break;
        }
        size_t pos = 0;
        int64_t next = off;
        while (pos + SL_BATCH_HEADER_SIZE <= len) {
            struct sl_batch_hdr hdr;
            sl_batch_hdr_decode(buf + pos, len - pos, &hdr);
            size_t size = sl_batch_size(&hdr);
            if (hdr.batch_length < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD || pos + size > len)
                break;
            if (!sl_batch_is_control(&hdr)) {
                struct sl_batch_iter it;
                if (sl_batch_iter_init(&it, buf + pos, size, 0) == 0) {
                    struct sl_record rec;
                    while (sl_batch_iter_next(&it, &rec) == 1)
                        if (rec.key.p)
                            replay_record(tc, partition, rec.key, rec.value);
                }
                sl_batch_iter_fini(&it);
            }
            next = sl_batch_last_offset(&hdr) + 1;
            pos += size;
        }
        free(buf);
        if (next <= off)
            break;
        off = next;
    }
    sl_part_unref(part);
    return rc < 0 && rc != -ERANGE ? rc : 0;
}
