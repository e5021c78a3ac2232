/*
 * tc_state.c - the transaction coordinator's state table (transactional ids and
 * their partitions) and the verification table Produce consults without
 * waiting for the coordinator thread (KIP-890).
 */
#include "txn/tc_int.h"

const char *const tc_state_names[8] = {"Empty",          "Ongoing",       "PrepareCommit", "PrepareAbort",
                                       "CompleteCommit", "CompleteAbort", "Dead",          "PrepareEpochFence"};

/* ---- state table ------------------------------------------------------------------ */

static uint64_t hash_id(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

struct txn *tc_txn_find(struct sl_tc *tc, struct sl_slice id)
{
    if (!tc->nbuckets)
        return NULL;
    for (struct txn *t = tc->buckets[hash_id((const char *)id.p, id.len) & (tc->nbuckets - 1)]; t; t = t->next)
        if (strlen(t->id) == id.len && memcmp(t->id, id.p, id.len) == 0)
            return t;
    return NULL;
}

struct txn *tc_txn_add(struct sl_tc *tc, struct sl_slice id)
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

void tc_clear_parts(struct txn *t)
{
    for (int i = 0; i < t->parts_n; i++)
        free(t->parts[i].topic);
    t->parts_n = 0;
}

void tc_clear_offsets(struct txn *t)
{
    for (int i = 0; i < t->offs_n; i++) {
        free(t->offs[i].group);
        free(t->offs[i].topic);
        free(t->offs[i].metadata);
    }
    t->offs_n = 0;
}

void tc_txn_remove(struct sl_tc *tc, struct txn *t)
{
    struct txn **pp = &tc->buckets[hash_id(t->id, strlen(t->id)) & (tc->nbuckets - 1)];
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = t->next;
        tc->n--;
    }
    tc_clear_parts(t);
    tc_clear_offsets(t);
    free(t->parts);
    free(t->offs);
    free(t->id);
    free(t);
}

bool tc_has_part(const struct txn *t, struct sl_slice topic, int32_t partition)
{
    for (int i = 0; i < t->parts_n; i++)
        if (t->parts[i].partition == partition && sl_slice_eq_cstr(topic, t->parts[i].topic))
            return true;
    return false;
}

void tc_add_part(struct txn *t, struct sl_slice topic, int32_t partition)
{
    if (tc_has_part(t, topic, partition))
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

void tc_v_set_epoch(int64_t pid, int16_t epoch)
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

void tc_v_add_part(int64_t pid, int16_t epoch, const char *topic, int32_t partition)
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

void tc_v_clear_pid(int64_t pid)
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
