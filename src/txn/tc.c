/*
 * tc.c - the transaction coordinator (see tc.h for the states and threads):
 * its thread, queue and entry points. The state table, log, markers and APIs
 * are in tc_state.c, tc_log.c, tc_end.c and tc_api.c (tc_int.h).
 *
 * All state belongs to the coordinator thread. Invariants:
 *   - a txn in Ongoing has start_ms set and at least one partition;
 *   - a txn in Empty/Complete* has no partitions and no pending offsets;
 *   - tc->loaded: every __transaction_state partition has been read back.
 */
#include "txn/tc_int.h"

static struct sl_tc *the_tc;

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
            tc_run_call(tc, call);
        }
        if (sl_clock_mono_ms() >= tc->next_tick_ms) {
            tc->next_tick_ms = sl_clock_mono_ms() + TICK_MS;
            tc_tick(tc);
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
    int32_t n = tc_txn_topic_partitions(tc, false);
    for (int32_t p = 0; p < n; p++)
        if (tc_load_partition(tc, p) < 0)
            SL_WARN("txn", "cannot load %s-%d", TXN_TOPIC, p);
    for (size_t b = 0; b < tc->nbuckets; b++)
        for (struct txn *t = tc->buckets[b]; t; t = t->next) {
            tc_v_set_epoch(t->pid, t->epoch);
            if (t->state == TXN_ONGOING)
                for (int i = 0; i < t->parts_n; i++)
                    tc_v_add_part(t->pid, t->epoch, t->parts[i].topic, t->parts[i].partition);
        }
    if (tc->n)
        SL_INFO("txn", "loaded %zu transactional ids", tc->n);
    tc_tick(tc); /* finish what a crash left in Prepare*, abort what timed out */
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

