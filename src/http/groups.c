/*
 * groups.c - the consumer-group snapshot behind /metrics and /v1/groups,
 * taken through the group coordinator's own operations: ListGroups, then
 * DescribeGroups and OffsetFetch (all topics) for the groups listed, each
 * submitted to the coordinator thread (coord/coord.h) while the HTTP thread
 * waits for its answer. The coordinator stays the only owner of group
 * state; what comes back is copied into a struct sl_gsnap.
 *
 * The wait has no timeout: the coordinator answers every operation, also
 * while it stops (NOT_COORDINATOR), and the HTTP server is stopped before
 * the coordinator is shut down.
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "broker/broker.h"
#include "coord/coord.h"
#include "http/http_int.h"
#include "metrics/gsnap.h"
#include "metrics/metrics.h"
#include "proto/gen/DescribeGroups.h"
#include "proto/gen/ListGroups.h"
#include "proto/gen/OffsetFetch.h"
#include "proto/gen/api.h"

struct waiter {
    struct sl_gop op;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;             /* op->done ran; mu */
};

static void on_done(struct sl_gop *op) /* Thread: the coordinator. */
{
    struct waiter *w = op->ctx;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Runs one operation on the coordinator and waits for its answer. */
static void run(struct sl_coord *coord, int16_t api_key, int16_t version, void *request, void *response,
                struct sl_arena *arena)
{
    struct waiter w = {0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    w.op.api_key = api_key;
    w.op.version = version;
    w.op.request = request;
    w.op.response = response;
    w.op.arena = arena;
    w.op.client_id = sl_slice_cstr("sluice-http");
    w.op.client_host = sl_slice_cstr("127.0.0.1");
    w.op.done = on_done;
    w.op.ctx = &w;
    sl_coord_submit(coord, &w.op);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
}

static int snapshot(void *ctx, struct sl_gsnap *snap)
{
    struct sl_broker *broker = ctx;
    struct sl_coord *coord = sl_coord_get(broker);
    if (!coord)
        return -ENOTSUP;
    struct sl_arena arena;
    sl_arena_init(&arena, 0);
    int rc = 0;

    struct sl_ListGroupsRequest lreq;
    struct sl_ListGroupsResponse lresp;
    sl_ListGroupsRequest_init(&lreq);
    sl_ListGroupsResponse_init(&lresp);
    lreq.StatesFilter_n = 0;
    run(coord, SL_API_ListGroups, 4, &lreq, &lresp, &arena);
    if (lresp.ErrorCode) {
        rc = -EAGAIN;
        goto out;
    }
    int32_t n = lresp.Groups_n > 0 ? lresp.Groups_n : 0;
    if (n == 0)
        goto out;

    struct sl_slice *ids = sl_arena_alloc(&arena, sizeof(*ids) * (size_t)n);
    struct sl_OffsetFetchRequest_OffsetFetchRequestGroup *fgs = sl_arena_alloc(&arena, sizeof(*fgs) * (size_t)n);
    if (!ids || !fgs) {
        rc = -ENOMEM;
        goto out;
    }
    for (int32_t i = 0; i < n; i++) {
        ids[i] = lresp.Groups[i].GroupId;
        sl_OffsetFetchRequest_OffsetFetchRequestGroup_init(&fgs[i]);
        fgs[i].GroupId = ids[i];
        fgs[i].Topics_n = -1; /* every topic */
    }
    struct sl_DescribeGroupsRequest dreq;
    struct sl_DescribeGroupsResponse dresp;
    sl_DescribeGroupsRequest_init(&dreq);
    sl_DescribeGroupsResponse_init(&dresp);
    dreq.Groups = ids;
    dreq.Groups_n = n;
    run(coord, SL_API_DescribeGroups, 4, &dreq, &dresp, &arena);

    struct sl_OffsetFetchRequest freq;
    struct sl_OffsetFetchResponse fresp;
    sl_OffsetFetchRequest_init(&freq);
    sl_OffsetFetchResponse_init(&fresp);
    freq.Groups = fgs;
    freq.Groups_n = n;
    run(coord, SL_API_OffsetFetch, 8, &freq, &fresp, &arena);

    for (int32_t i = 0; i < dresp.Groups_n && rc == 0; i++) {
        const struct sl_DescribeGroupsResponse_DescribedGroup *dg = &dresp.Groups[i];
        if (dg->ErrorCode)
            continue; /* gone since the listing */
        char state[64];
        snprintf(state, sizeof(state), "%.*s", SL_SLICE_FMT(dg->GroupState));
        struct sl_gsnap_group *g =
            sl_gsnap_add_group(snap, dg->GroupId, state, dg->ProtocolType, dg->ProtocolData, -1);
        if (!g) {
            rc = -ENOMEM;
            break;
        }
        for (int32_t m = 0; m < dg->Members_n && rc == 0; m++)
            rc = sl_gsnap_add_member(g, dg->Members[m].MemberId, dg->Members[m].ClientId, dg->Members[m].ClientHost);
        for (int32_t k = 0; k < fresp.Groups_n && rc == 0; k++) {
            const struct sl_OffsetFetchResponse_OffsetFetchResponseGroup *fg = &fresp.Groups[k];
            if (fg->ErrorCode || !sl_slice_eq(fg->GroupId, dg->GroupId))
                continue;
            for (int32_t t = 0; t < fg->Topics_n && rc == 0; t++)
                for (int32_t p = 0; p < fg->Topics[t].Partitions_n && rc == 0; p++) {
                    const struct sl_OffsetFetchResponse_OffsetFetchResponsePartitions *fp = &fg->Topics[t].Partitions[p];
                    if (fp->ErrorCode == 0)
                        rc = sl_gsnap_add_offset(g, fg->Topics[t].Name, fp->PartitionIndex, fp->CommittedOffset);
                }
        }
    }
out:
    sl_arena_fini(&arena);
    return rc;
}

void http_groups_register(struct sl_http *http)
{
    struct sl_metrics *m = http->broker->metrics;
    if (!m)
        return;
    pthread_mutex_lock(&m->groups_mu);
    bool has = m->groups_fn != NULL;
    pthread_mutex_unlock(&m->groups_mu);
    if (!has)
        sl_metrics_set_groups(m, snapshot, http->broker);
}
