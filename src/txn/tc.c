/*
 * tc.c - the transaction coordinator (see tc.h for the states and threads).
 *
 * All state belongs to the coordinator thread. Invariants:
 *   - a txn in Ongoing has start_ms set and at least one partition;
 *   - a txn in Empty/Complete* has no partitions and no pending offsets;
 *   - tc->loaded: every __transaction_state partition has been read back.
 */
#include "txn/tc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/list.h"
#include "broker/broker.h"
#include "broker/parts.h"
#include "conf/conf.h"
#include "coord/coord.h"
#include "meta/controller.h"
#include "meta/ctl_topics.h"
#include "meta/image.h"
#include "proto/gen/AddOffsetsToTxn.h"
#include "proto/gen/AddPartitionsToTxn.h"
#include "proto/gen/DescribeTransactions.h"
#include "proto/gen/EndTxn.h"
#include "proto/gen/InitProducerId.h"
#include "proto/gen/ListTransactions.h"
#include "proto/gen/TxnOffsetCommit.h"
#include "proto/gen/api.h"
#include "proto/gen/coord_records.h"
#include "proto/gen/errors.h"
#include "proto/kp.h"
#include "record/batch.h"
#include "storage/log.h"
#include "storage/producer_state.h"
#include "txn/pid.h"

#define TXN_TOPIC "__transaction_state"
#define OFFSETS_TOPIC "__consumer_offsets"
#define TICK_MS 1000 /* timeout checks (Kafka: transaction.abort.timed.out.transaction.cleanup.interval.ms) */

enum txn_state {
    TXN_EMPTY = 0,
    TXN_ONGOING = 1,
    TXN_PREPARE_COMMIT = 2,
    TXN_PREPARE_ABORT = 3,
    TXN_COMPLETE_COMMIT = 4,
    TXN_COMPLETE_ABORT = 5,
    TXN_DEAD = 6,
    TXN_PREPARE_EPOCH_FENCE = 7,
};

static const char *const state_names[] = {"Empty",          "Ongoing",       "PrepareCommit", "PrepareAbort",
                                          "CompleteCommit", "CompleteAbort", "Dead",          "PrepareEpochFence"};

struct tpart {                  /* a partition in a transaction */
    char *topic;
    int32_t partition;
};

struct toffset {                /* an offset committed in the transaction, visible at commit */
    char *group;
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;             /* NULL: null metadata */
};

struct txn {
    struct txn *next;           /* hash chain */
    char *id;                   /* transactional.id */
    int32_t log_partition;      /* its __transaction_state partition */
    int64_t pid;                /* producer id in use */
    int64_t prev_pid;           /* the one before an id change, -1 */
    int16_t epoch;              /* current producer epoch */
    int32_t timeout_ms;         /* transaction.timeout.ms of the producer */
    enum txn_state state;
    struct tpart *parts;
    int parts_n, parts_cap;
    struct toffset *offs;
    int offs_n, offs_cap;
    int64_t start_ms;           /* wall clock: transaction start, -1 */
    int64_t update_ms;          /* wall clock: last change */
};

struct tc_req {
    struct sl_list link;
    struct sl_call *call;
};

struct sl_tc {
    struct sl_broker *broker;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t qlock;      /* guards q, stopping */
    pthread_cond_t cond;
    struct sl_list q;           /* struct tc_req */
    bool stopping;
    struct txn **buckets;
    size_t nbuckets, n;
    int32_t nparts;             /* partitions of __transaction_state, 0 before it exists */
    int64_t next_tick_ms;       /* monotonic */
};

static struct sl_tc *the_tc;

/* ---- state table ------------------------------------------------------------------ */

static uint64_t hash_id(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static struct txn *txn_find(struct sl_tc *tc, struct sl_slice id)
{
    if (!tc->nbuckets)
        return NULL;
    for (struct txn *t = tc->buckets[hash_id((const char *)id.p, id.len) & (tc->nbuckets - 1)]; t; t = t->next)
        if (strlen(t->id) == id.len && memcmp(t->id, id.p, id.len) == 0)
            return t;
    return NULL;
}

static struct txn *txn_add(struct sl_tc *tc, struct sl_slice id)
{
    if (tc->n + 1 > tc->nbuckets) {
        size_t nb = tc->nbuckets ? tc->nbuckets * 2 : 64;
        struct txn **nv = calloc(nb, sizeof(*nv));
        SL_ASSERT(nv != NULL);
        for (size_t i = 0; i < tc->nbuckets; i++) {
            struct txn *t = tc->buckets[i];
            while (t) {
                struct txn *next = t->next;
                size_t s = hash_id(t->id, strlen(t->id)) & (nb - 1);
                t->next = nv[s];
                nv[s] = t;
                t = next;
            }
        }
        free(tc->buckets);
        tc->buckets = nv;
        tc->nbuckets = nb;
    }
    struct txn *t = calloc(1, sizeof(*t));
    SL_ASSERT(t != NULL);
    t->id = strndup((const char *)id.p, id.len);
    SL_ASSERT(t->id != NULL);
    t->pid = -1;
    t->prev_pid = -1;
    t->epoch = -1;
    t->start_ms = -1;
    size_t s = hash_id(t->id, id.len) & (tc->nbuckets - 1);
    t->next = tc->buckets[s];
    tc->buckets[s] = t;
    tc->n++;
    return t;
}

static void clear_parts(struct txn *t)
{
    for (int i = 0; i < t->parts_n; i++)
        free(t->parts[i].topic);
    t->parts_n = 0;
}

static void clear_offsets(struct txn *t)
{
    for (int i = 0; i < t->offs_n; i++) {
        free(t->offs[i].group);
        free(t->offs[i].topic);
        free(t->offs[i].metadata);
    }
    t->offs_n = 0;
}

static void txn_remove(struct sl_tc *tc, struct txn *t)
{
    struct txn **pp = &tc->buckets[hash_id(t->id, strlen(t->id)) & (tc->nbuckets - 1)];
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = t->next;
        tc->n--;
    }
    clear_parts(t);
    clear_offsets(t);
    free(t->parts);
    free(t->offs);
    free(t->id);
    free(t);
}

static bool has_part(const struct txn *t, struct sl_slice topic, int32_t partition)
{
    for (int i = 0; i < t->parts_n; i++)
        if (t->parts[i].partition == partition && sl_slice_eq_cstr(topic, t->parts[i].topic))
            return true;
    return false;
}

static void add_part(struct txn *t, struct sl_slice topic, int32_t partition)
{
    if (has_part(t, topic, partition))
        return;
    if (t->parts_n == t->parts_cap) {
        int nc = t->parts_cap ? t->parts_cap * 2 : 8;
        struct tpart *nv = realloc(t->parts, sizeof(*nv) * (size_t)nc);
        SL_ASSERT(nv != NULL);
        t->parts = nv;
        t->parts_cap = nc;
    }
    char *name = strndup((const char *)topic.p, topic.len);
    SL_ASSERT(name != NULL);
    t->parts[t->parts_n++] = (struct tpart){name, partition};
}

/* ---- the verification table (KIP-890) ------------------------------------------------------
 * What Produce may ask on a loop thread without waiting for the coordinator
 * thread (which does I/O): the partitions of ongoing transactions and the
 * current epoch of every transactional producer id. Written only by the
 * coordinator thread; vlock is never held across I/O. */

struct vpart {
    int64_t pid;
    int16_t epoch;
    char *topic;                /* owned */
    int32_t partition;
};

struct vepoch {
    int64_t pid;
    int16_t epoch;
};

static pthread_mutex_t vlock = PTHREAD_MUTEX_INITIALIZER;
static struct vpart *vparts;    /* guarded by vlock */
static size_t vparts_n, vparts_cap;
static struct vepoch *vepochs;  /* guarded by vlock */
static size_t vepochs_n, vepochs_cap;

static void v_set_epoch(int64_t pid, int16_t epoch)
{
    pthread_mutex_lock(&vlock);
    size_t i = 0;
    while (i < vepochs_n && vepochs[i].pid != pid)
        i++;
    if (i == vepochs_n) {
        if (vepochs_n == vepochs_cap) {
            size_t nc = vepochs_cap ? vepochs_cap * 2 : 64;
            struct vepoch *nv = realloc(vepochs, nc * sizeof(*nv));
            SL_ASSERT(nv != NULL);
            vepochs = nv;
            vepochs_cap = nc;
        }
        vepochs_n++;
    }
    vepochs[i] = (struct vepoch){pid, epoch};
    pthread_mutex_unlock(&vlock);
}

static void v_add_part(int64_t pid, int16_t epoch, const char *topic, int32_t partition)
{
    char *name = strdup(topic);
    SL_ASSERT(name != NULL);
    pthread_mutex_lock(&vlock);
    if (vparts_n == vparts_cap) {
        size_t nc = vparts_cap ? vparts_cap * 2 : 64;
        struct vpart *nv = realloc(vparts, nc * sizeof(*nv));
        SL_ASSERT(nv != NULL);
        vparts = nv;
        vparts_cap = nc;
    }
    vparts[vparts_n++] = (struct vpart){pid, epoch, name, partition};
    pthread_mutex_unlock(&vlock);
}

static void v_clear_pid(int64_t pid)
{
    pthread_mutex_lock(&vlock);
    for (size_t i = 0; i < vparts_n;) {
        if (vparts[i].pid == pid) {
            free(vparts[i].topic);
            vparts[i] = vparts[--vparts_n];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&vlock);
}

int16_t sl_txn_verify(int64_t producer_id, int16_t epoch, struct sl_slice topic, int32_t partition)
{
    int16_t err = SL_KERR_INVALID_TXN_STATE;
    pthread_mutex_lock(&vlock);
    for (size_t i = 0; i < vepochs_n; i++)
        if (vepochs[i].pid == producer_id && epoch < vepochs[i].epoch)
            err = SL_KERR_INVALID_PRODUCER_EPOCH;
    for (size_t i = 0; i < vparts_n && err == SL_KERR_INVALID_TXN_STATE; i++)
        if (vparts[i].pid == producer_id && vparts[i].epoch == epoch && vparts[i].partition == partition &&
            sl_slice_eq_cstr(topic, vparts[i].topic))
            err = 0;
    pthread_mutex_unlock(&vlock);
    return err;
}

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
static int32_t txn_topic_partitions(struct sl_tc *tc, bool create)
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
        return w.err ? 0 : txn_topic_partitions(tc, false);
    }
    tc->nparts = n;
    return n;
}

static struct sl_part *get_part(struct sl_tc *tc, struct sl_slice topic, int32_t partition)
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
static int append(struct sl_part *part, uint8_t *batch, size_t len)
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
static int sync_part(struct sl_part *part)
{
    int rc = sl_log_sync(part->log);
    if (rc == 0)
        sl_part_advance_hwm(part, sl_log_durable_offset(part->log));
    return rc;
}

static int flatten(struct sl_obuf *b, struct sl_slice *out)
{
    uint8_t *p = malloc(b->total_len + 1);
    int rc = p ? sl_obuf_flatten(b, p) : -ENOMEM;
    *out = (struct sl_slice){p, b->total_len};
    sl_obuf_fini(b);
    return rc;
}

/* Writes the txn's current state to __transaction_state, synced. */
static int write_txn(struct sl_tc *tc, struct txn *t)
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
        rc = flatten(&b, &k);
    else
        sl_obuf_fini(&b);
    if (rc == 0) {
        sl_obuf_init(&b);
        rc = sl_kp_write_i16(&b, 0) < 0 || sl_TransactionLogValue_encode(&b, 0, &v) < 0 ? -ENOMEM : 0;
        if (rc == 0)
            rc = flatten(&b, &val);
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
    struct sl_part *part = get_part(tc, sl_slice_cstr(TXN_TOPIC), t->log_partition);
    if (!part) {
        free(batch);
        return -ENOENT;
    }
    rc = append(part, batch, len);
    free(batch);
    if (rc == 0)
        rc = sync_part(part);
    sl_part_unref(part);
    if (rc < 0)
        SL_ERROR("txn", "cannot write the state of %s: %s", t->id, strerror(-rc));
    return rc;
}

/* ---- markers and the end of a transaction -------------------------------------------- */

struct offsets_apply {          /* committed offsets for the group coordinator's thread */
    int32_t partition;          /* __consumer_offsets partition */
    int n;
    struct sl_grec *recs;       /* malloc'd keys and values */
};

static void apply_offsets_on_coord(struct sl_gc *gc, void *arg)
{
    struct offsets_apply *a = arg;
    for (int i = 0; i < a->n; i++) {
        if (gc)
            sl_gc_replay(gc, a->partition, a->recs[i].key, a->recs[i].value);
        free((void *)a->recs[i].key.p);
        free((void *)a->recs[i].value.p);
    }
    free(a->recs);
    free(a);
}

/* An OffsetCommit record (key type 1, value version 3) as the group coordinator writes it. */
static int offset_record(const struct toffset *o, int64_t now_ms, struct sl_grec *rec)
{
    struct sl_OffsetCommitKey key;
    sl_OffsetCommitKey_init(&key);
    key.group = sl_slice_cstr(o->group);
    key.topic = sl_slice_cstr(o->topic);
    key.partition = o->partition;
    struct sl_OffsetCommitValue v;
    sl_OffsetCommitValue_init(&v);
    v.offset = o->offset;
    v.leaderEpoch = o->leader_epoch;
    v.metadata = o->metadata ? sl_slice_cstr(o->metadata) : sl_slice_cstr("");
    v.commitTimestamp = now_ms;
    struct sl_obuf b;
    sl_obuf_init(&b);
    int rc = sl_coord_key_encode(&b, 1, &key);
    rc = rc == 0 ? flatten(&b, &rec->key) : (sl_obuf_fini(&b), rc);
    if (rc == 0) {
        sl_obuf_init(&b);
        rc = sl_coord_value_encode(&b, 1, 3, &v);
        rc = rc == 0 ? flatten(&b, &rec->value) : (sl_obuf_fini(&b), rc);
    }
    return rc;
}

/* After a COMMIT marker on __consumer_offsets-partition: the group
 * coordinator applies the transaction's offsets of groups there. */
static void publish_offsets(struct sl_tc *tc, struct txn *t, int32_t partition, int32_t offsets_parts)
{
    struct offsets_apply *a = calloc(1, sizeof(*a));
    SL_ASSERT(a != NULL);
    a->partition = partition;
    a->recs = calloc((size_t)t->offs_n + 1, sizeof(*a->recs));
    SL_ASSERT(a->recs != NULL);
    int64_t now = sl_clock_wall_ms();
    for (int i = 0; i < t->offs_n; i++) {
        if (sl_group_partition(sl_slice_cstr(t->offs[i].group), offsets_parts) != partition)
            continue;
        if (offset_record(&t->offs[i], now, &a->recs[a->n]) == 0)
            a->n++;
    }
    if (a->n == 0) {
        apply_offsets_on_coord(NULL, a);
        return;
    }
    sl_coord_call(sl_coord_get(tc->broker), apply_offsets_on_coord, a);
}

static int32_t offsets_partitions(void)
{
    struct sl_image *img = sl_image_acquire();
    const struct sl_image_topic *t = img ? sl_image_topic_by_name(img, sl_slice_cstr(OFFSETS_TOPIC)) : NULL;
    int32_t n = t ? t->partitions_n : 0;
    if (img)
        sl_image_release(img);
    return n;
}

/* Writes the markers of t (its epoch) to every partition of the transaction. */
static int write_markers(struct sl_tc *tc, struct txn *t, bool commit)
{
    int rc = 0;
    struct sl_part **parts = calloc((size_t)t->parts_n + 1, sizeof(*parts));
    SL_ASSERT(parts != NULL);
    for (int i = 0; i < t->parts_n; i++) {
        struct sl_part *part = get_part(tc, sl_slice_cstr(t->parts[i].topic), t->parts[i].partition);
        if (!part)
            continue; /* deleted meanwhile: nothing to mark */
        uint8_t *batch;
        size_t len;
        int r = sl_batch_build_txn_marker(t->pid, t->epoch, commit ? SL_CONTROL_COMMIT : SL_CONTROL_ABORT, 0,
                                          sl_clock_wall_ms(), &batch, &len);
        if (r == 0) {
            r = append(part, batch, len);
            free(batch);
        }
        if (r < 0) {
            SL_ERROR("txn", "marker to %s-%d for %s failed: %s", part->topic, part->index, t->id, strerror(-r));
            rc = r;
            sl_part_unref(part);
            continue;
        }
        parts[i] = part;
    }
    int32_t offs_n = offsets_partitions();
    for (int i = 0; i < t->parts_n; i++) {
        if (!parts[i])
            continue;
        int r = sync_part(parts[i]);
        if (r < 0)
            rc = r;
        else if (commit && t->offs_n > 0 && strcmp(t->parts[i].topic, OFFSETS_TOPIC) == 0)
            publish_offsets(tc, t, t->parts[i].partition, offs_n);
        sl_part_unref(parts[i]);
    }
    free(parts);
    return rc;
}

/* Ongoing -> Prepare* -> markers -> Complete*. */
static int16_t end_txn(struct sl_tc *tc, struct txn *t, bool commit)
{
    SL_ASSERT(t->state == TXN_ONGOING || t->state == TXN_PREPARE_COMMIT || t->state == TXN_PREPARE_ABORT);
    v_clear_pid(t->pid); /* from here on, no more writes to the transaction */
    if (t->state == TXN_ONGOING) {
        t->state = commit ? TXN_PREPARE_COMMIT : TXN_PREPARE_ABORT;
        t->update_ms = sl_clock_wall_ms();
        if (write_txn(tc, t) < 0) {
            t->state = TXN_ONGOING;
            return SL_KERR_COORDINATOR_NOT_AVAILABLE;
        }
    }
    commit = t->state == TXN_PREPARE_COMMIT;
    if (write_markers(tc, t, commit) < 0)
        return SL_KERR_COORDINATOR_NOT_AVAILABLE; /* stays Prepare*: retried by the tick */
    t->state = commit ? TXN_COMPLETE_COMMIT : TXN_COMPLETE_ABORT;
    clear_parts(t);
    clear_offsets(t);
    t->update_ms = sl_clock_wall_ms();
    write_txn(tc, t); /* a lost Complete record is redone from the Prepare one after a restart */
    SL_DEBUG("txn", "%s: %s (producer %lld epoch %d)", t->id, commit ? "committed" : "aborted", (long long)t->pid,
             t->epoch);
    return 0;
}

/* Bumps the epoch (a new producer id when it would overflow). */
static int bump_epoch(struct sl_tc *tc, struct txn *t)
{
    if (t->epoch >= INT16_MAX - 1 || t->pid < 0) {
        int64_t pid = sl_txn_pid_alloc_sync(tc->broker);
        if (pid < 0)
            return (int)pid;
        t->prev_pid = t->pid;
        t->pid = pid;
        t->epoch = 0;
    } else {
        t->epoch++;
    }
    v_set_epoch(t->pid, t->epoch);
    return 0;
}

/* Aborts an ongoing transaction with a bumped epoch, fencing its producer. */
static int16_t fence_and_abort(struct sl_tc *tc, struct txn *t)
{
    if (t->state == TXN_ONGOING && bump_epoch(tc, t) < 0)
        return SL_KERR_COORDINATOR_NOT_AVAILABLE;
    return end_txn(tc, t, false);
}

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
    int32_t nparts = txn_topic_partitions(tc, true);
    if (nparts <= 0) {
        resp->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
        return;
    }
    struct txn *t = txn_find(tc, req->TransactionalId);
    bool fresh = !t;
    if (!t) {
        int64_t pid = sl_txn_pid_alloc_sync(tc->broker);
        if (pid < 0) {
            resp->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
            return;
        }
        t = txn_add(tc, req->TransactionalId);
        t->log_partition = sl_group_partition(req->TransactionalId, nparts);
        t->pid = pid;
        t->epoch = 0;
        t->state = TXN_EMPTY;
        v_set_epoch(pid, 0);
    } else {
        bool given = call->version >= 3 && req->ProducerId >= 0;
        if (given && !(req->ProducerId == t->pid && req->ProducerEpoch == t->epoch) &&
            !(req->ProducerId == t->prev_pid)) {
            resp->ErrorCode = SL_KERR_PRODUCER_FENCED;
            return;
        }
        if (t->state == TXN_PREPARE_COMMIT || t->state == TXN_PREPARE_ABORT) {
            if (end_txn(tc, t, t->state == TXN_PREPARE_COMMIT) != 0) {
                resp->ErrorCode = SL_KERR_CONCURRENT_TRANSACTIONS;
                return;
            }
        } else if (t->state == TXN_ONGOING) {
            /* A new incarnation of the producer: fence the old one and abort its transaction. */
            if (fence_and_abort(tc, t) != 0) {
                resp->ErrorCode = SL_KERR_CONCURRENT_TRANSACTIONS;
                return;
            }
        }
        if (bump_epoch(tc, t) < 0) {
            resp->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
            return;
        }
        t->state = TXN_EMPTY;
    }
    t->timeout_ms = req->TransactionTimeoutMs;
    t->start_ms = -1;
    t->update_ms = sl_clock_wall_ms();
    if (write_txn(tc, t) < 0) {
        if (fresh)
            txn_remove(tc, t);
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
        all_there = has_part(t, topics[i], parts[i]);
    if (all_there)
        return 0;
    int before = t->parts_n;
    enum txn_state was = t->state;
    int64_t was_start = t->start_ms;
    for (int i = 0; i < n; i++)
        add_part(t, topics[i], parts[i]);
    if (t->state != TXN_ONGOING) {
        t->state = TXN_ONGOING;
        t->start_ms = sl_clock_wall_ms();
    }
    t->update_ms = sl_clock_wall_ms();
    if (write_txn(tc, t) < 0) {
        while (t->parts_n > before)
            free(t->parts[--t->parts_n].topic);
        t->state = was;
        t->start_ms = was_start;
        return SL_KERR_COORDINATOR_NOT_AVAILABLE;
    }
    for (int i = before; i < t->parts_n; i++)
        v_add_part(t->pid, t->epoch, t->parts[i].topic, t->parts[i].partition);
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
    struct txn *t = txn_find(tc, id);
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
            errs[i] = t->state == TXN_ONGOING && has_part(t, names[i], idx[i]) ? 0 : SL_KERR_INVALID_TXN_STATE;
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
    int32_t n = offsets_partitions();
    if (n <= 0)
        n = tc->broker->conf ? tc->broker->conf->offsets_topic_num_partitions : 50;
    return sl_group_partition(group, n);
}

static void do_add_offsets(struct sl_tc *tc, struct sl_call *call)
{
    struct sl_AddOffsetsToTxnRequest *req = call->request;
    struct sl_AddOffsetsToTxnResponse *resp = call->response;
    struct txn *t = txn_find(tc, req->TransactionalId);
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
    struct txn *t = txn_find(tc, req->TransactionalId);
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
        resp->ErrorCode = end_txn(tc, t, req->Committed);
        break;
    case TXN_PREPARE_COMMIT:
    case TXN_PREPARE_ABORT:
        resp->ErrorCode = (t->state == TXN_PREPARE_COMMIT) == req->Committed ? end_txn(tc, t, req->Committed)
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
    struct txn *t = txn_find(tc, req->TransactionalId);
    int16_t err = check_producer(t, req->ProducerId, req->ProducerEpoch);
    if (err == SL_KERR_PRODUCER_FENCED && t && req->ProducerEpoch < t->epoch)
        err = SL_KERR_PRODUCER_FENCED;
    int32_t gp = group_offsets_partition(tc, req->GroupId);
    if (!err && (t->state != TXN_ONGOING || !has_part(t, sl_slice_cstr(OFFSETS_TOPIC), gp)))
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
            if (offset_record(to, now, &rec) == 0) {
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
        struct sl_part *part = rc == 0 ? get_part(tc, sl_slice_cstr(OFFSETS_TOPIC), gp) : NULL;
        if (rc == 0 && !part)
            rc = -ENOENT;
        if (rc == 0)
            rc = append(part, batch, len);
        if (rc == 0)
            rc = sync_part(part);
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
        struct txn *t = txn_find(tc, req->TransactionalIds[i]);
        if (!t) {
            s->ErrorCode = SL_KERR_TRANSACTIONAL_ID_NOT_FOUND;
            s->TransactionState = sl_slice_cstr("");
            s->Topics_n = 0;
            continue;
        }
        s->TransactionState = sl_slice_cstr(state_names[t->state]);
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
        for (size_t s = 0; s < sizeof(state_names) / sizeof(state_names[0]); s++)
            known |= sl_slice_eq_cstr(req->StateFilters[i], state_names[s]);
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
                ok = sl_slice_eq_cstr(req->StateFilters[i], state_names[t->state]);
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
            s->TransactionState = sl_slice_cstr(state_names[t->state]);
        }
}

static void run_call(struct sl_tc *tc, struct sl_call *call)
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
static void tick(struct sl_tc *tc)
{
    int64_t now = sl_clock_wall_ms();
    for (size_t b = 0; b < tc->nbuckets; b++)
        for (struct txn *t = tc->buckets[b]; t; t = t->next) {
            if (t->state == TXN_ONGOING && t->start_ms >= 0 && now - t->start_ms > t->timeout_ms) {
                SL_INFO("txn", "aborting transaction of %s (producer %lld epoch %d): timed out after %d ms", t->id,
                        (long long)t->pid, t->epoch, t->timeout_ms);
                fence_and_abort(tc, t);
            } else if (t->state == TXN_PREPARE_COMMIT || t->state == TXN_PREPARE_ABORT) {
                end_txn(tc, t, t->state == TXN_PREPARE_COMMIT);
            }
        }
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
    struct txn *t = txn_find(tc, k.TransactionalId);
    if (!value.p) {
        if (t)
            txn_remove(tc, t);
        goto out;
    }
    sl_kp_reader_init(&r, value.p, value.len, &a);
    int16_t vv;
    struct sl_TransactionLogValue v;
    sl_TransactionLogValue_init(&v);
    if (sl_kp_read_i16(&r, &vv) != SL_OK || vv < 0 || vv > 1 || sl_TransactionLogValue_decode(&r, vv, &v) != SL_OK)
        goto out;
    if (!t)
        t = txn_add(tc, k.TransactionalId);
    t->log_partition = partition;
    t->pid = v.ProducerId;
    t->epoch = v.ProducerEpoch;
    t->timeout_ms = v.TransactionTimeoutMs;
    t->state = v.TransactionStatus >= 0 && v.TransactionStatus <= 7 ? (enum txn_state)v.TransactionStatus : TXN_DEAD;
    t->update_ms = v.TransactionLastUpdateTimestampMs;
    t->start_ms = v.TransactionStartTimestampMs;
    clear_parts(t);
    for (int32_t i = 0; i < v.TransactionPartitions_n; i++)
        for (int32_t j = 0; j < v.TransactionPartitions[i].PartitionIds_n; j++)
            add_part(t, v.TransactionPartitions[i].Topic, v.TransactionPartitions[i].PartitionIds[j]);
out:
    sl_arena_fini(&a);
}

static int load_partition(struct sl_tc *tc, int32_t partition)
{
    struct sl_part *part = get_part(tc, sl_slice_cstr(TXN_TOPIC), partition);
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

/* ---- thread and entry points ---------------------------------------------------------- */

static void *tc_main(void *arg)
{
    struct sl_tc *tc = arg;
    pthread_mutex_lock(&tc->qlock);
    for (;;) {
        while (sl_list_empty(&tc->q) && !tc->stopping) {
            int64_t now = sl_clock_mono_ms();
            if (now >= tc->next_tick_ms)
                break;
            struct timespec ts = {.tv_sec = tc->next_tick_ms / 1000, .tv_nsec = (tc->next_tick_ms % 1000) * 1000000};
            pthread_cond_timedwait(&tc->cond, &tc->qlock, &ts);
        }
        struct sl_list *l = sl_list_first(&tc->q);
        if (l)
            sl_list_remove(l);
        bool stop = !l && tc->stopping;
        pthread_mutex_unlock(&tc->qlock);
        if (stop)
            break;
        if (l) {
            struct tc_req *r = SL_LIST_ENTRY(l, struct tc_req, link);
            struct sl_call *call = r->call;
            free(r);
            run_call(tc, call);
        }
        if (sl_clock_mono_ms() >= tc->next_tick_ms) {
            tc->next_tick_ms = sl_clock_mono_ms() + TICK_MS;
            tick(tc);
        }
        pthread_mutex_lock(&tc->qlock);
    }
    return NULL;
}

int sl_txn_start(struct sl_broker *broker)
{
    struct sl_tc *tc = calloc(1, sizeof(*tc));
    if (!tc)
        return -ENOMEM;
    tc->broker = broker;
    pthread_mutex_init(&tc->qlock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&tc->cond, &ca);
    pthread_condattr_destroy(&ca);
    sl_list_init(&tc->q);
    int32_t n = txn_topic_partitions(tc, false);
    for (int32_t p = 0; p < n; p++)
        if (load_partition(tc, p) < 0)
            SL_WARN("txn", "cannot load %s-%d", TXN_TOPIC, p);
    for (size_t b = 0; b < tc->nbuckets; b++)
        for (struct txn *t = tc->buckets[b]; t; t = t->next) {
            v_set_epoch(t->pid, t->epoch);
            if (t->state == TXN_ONGOING)
                for (int i = 0; i < t->parts_n; i++)
                    v_add_part(t->pid, t->epoch, t->parts[i].topic, t->parts[i].partition);
        }
    if (tc->n)
        SL_INFO("txn", "loaded %zu transactional ids", tc->n);
    tick(tc); /* finish what a crash left in Prepare*, abort what timed out */
    tc->next_tick_ms = sl_clock_mono_ms() + TICK_MS;
    if (pthread_create(&tc->thread, NULL, tc_main, tc) != 0) {
        free(tc);
        return -EAGAIN;
    }
    tc->thread_started = true;
    __atomic_store_n(&the_tc, tc, __ATOMIC_RELEASE);
    return 0;
}

void sl_txn_shutdown(void)
{
    struct sl_tc *tc = __atomic_load_n(&the_tc, __ATOMIC_ACQUIRE);
    if (!tc || !tc->thread_started)
        return;
    pthread_mutex_lock(&tc->qlock);
    tc->stopping = true;
    pthread_cond_signal(&tc->cond);
    pthread_mutex_unlock(&tc->qlock);
    pthread_join(tc->thread, NULL);
    tc->thread_started = false;
    /* Kept allocated: a late caller finds it stopping. */
}

static void fail_call(struct sl_call *call)
{
    /* Every response of these APIs has a top-level or per-item error the
     * client retries after finding the coordinator again. */
    switch (call->api_key) {
    case SL_API_InitProducerId:
        ((struct sl_InitProducerIdResponse *)call->response)->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
        break;
    case SL_API_AddOffsetsToTxn:
        ((struct sl_AddOffsetsToTxnResponse *)call->response)->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
        break;
    case SL_API_EndTxn:
        ((struct sl_EndTxnResponse *)call->response)->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
        break;
    case SL_API_ListTransactions:
        ((struct sl_ListTransactionsResponse *)call->response)->ErrorCode = SL_KERR_COORDINATOR_NOT_AVAILABLE;
        break;
    default:
        break; /* empty result lists */
    }
    sl_call_respond(call);
}

void sl_txn_handle(struct sl_call *call)
{
    struct sl_tc *tc = __atomic_load_n(&the_tc, __ATOMIC_ACQUIRE);
    struct tc_req *r = tc ? malloc(sizeof(*r)) : NULL;
    if (!r) {
        fail_call(call);
        return;
    }
    r->call = call;
    pthread_mutex_lock(&tc->qlock);
    if (tc->stopping) {
        pthread_mutex_unlock(&tc->qlock);
        free(r);
        fail_call(call);
        return;
    }
    sl_list_push_back(&tc->q, &r->link);
    pthread_cond_signal(&tc->cond);
    pthread_mutex_unlock(&tc->qlock);
}
