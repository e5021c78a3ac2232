/* natsgen.c - NATS JetStream publisher/consumer for the peer comparison in
 * bench/run, on Debian's C client (libnats-dev, nats.c 3.4).
 *
 *   natsgen URL produce SUBJECT SIZE COUNT MAXPENDING TIMEOUT_S
 *   natsgen URL consume SUBJECT COUNT TIMEOUT_S
 *
 * produce creates (or reuses) the file-backed stream BENCH on SUBJECT, then
 * publishes COUNT messages with js_PublishAsync (at most MAXPENDING awaiting
 * their ack) and counts the acknowledgements: a JetStream ack means the message
 * was stored by the stream. consume reads the stream from its first message
 * with a pull consumer, in batches of 1000. One JSON object on stdout.
 */
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static atomic_llong acked, failed;
static char first_err[256];

static void ack_cb(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)closure;
    if (pa) {
        atomic_fetch_add(&acked, 1);
    } else {
        if (atomic_fetch_add(&failed, 1) == 0 && pae)
            snprintf(first_err, sizeof first_err, "%s", pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
    }
    natsMsg_Destroy(msg);
}

static void fail(const char *what, natsStatus s)
{
    printf("{\"scenario\":\"nats\",\"ok\":false,\"error\":\"%s: %s\"}\n", what, natsStatus_GetText(s));
    exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: natsgen URL produce SUBJECT SIZE COUNT MAXPENDING TIMEOUT_S\n"
                        "       natsgen URL consume SUBJECT COUNT TIMEOUT_S\n");
        return 2;
    }
    const char *url = argv[1], *mode = argv[2], *subj = argv[3];
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsOptions jo;
    natsStatus s;
    natsOptions *no = NULL;
    natsOptions_Create(&no);
    natsOptions_SetURL(no, url);
    natsOptions_SetTimeout(no, 5000);
    if ((s = natsConnection_Connect(&nc, no)) != NATS_OK) fail("connect", s);
    jsOptions_Init(&jo);
    jo.Wait = 10000;

    if (!strcmp(mode, "produce") && argc >= 8) {
        long long size = atoll(argv[4]), count = atoll(argv[5]);
        int maxpending = atoi(argv[6]), timeout = atoi(argv[7]);
        jo.PublishAsync.MaxPending = maxpending;
        jo.PublishAsync.AckHandler = ack_cb;
        if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK) fail("jetstream", s);
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        sc.Name = "BENCH";
        const char *subjects[] = {subj};
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        jsErrCode jerr = 0;
        jsStreamInfo *si = NULL;
        s = js_AddStream(&si, js, &sc, NULL, &jerr);
        if (s != NATS_OK && jerr != JSStreamNameExistErr) fail("add stream", s);
        if (si) jsStreamInfo_Destroy(si);

        char *payload = malloc((size_t)size);
        memset(payload, 'n', (size_t)size);
        int64_t t0 = now_ns(), deadline = t0 + (int64_t)timeout * 1000000000LL;
        long long sent = 0;
        for (; sent < count && now_ns() < deadline; sent++) {
            s = js_PublishAsync(js, subj, payload, (int)size, NULL);
            if (s != NATS_OK) {
                snprintf(first_err, sizeof first_err, "publish: %s", natsStatus_GetText(s));
                break;
            }
        }
        jsPubOptions po;
        jsPubOptions_Init(&po);
        int64_t left = (deadline - now_ns()) / 1000000;
        po.MaxWait = left > 100 ? left : 100;
        js_PublishAsyncComplete(js, &po);
        int64_t t1 = now_ns();
        double secs = (double)(t1 - t0) / 1e9;
        long long a = atomic_load(&acked), f = atomic_load(&failed);
        if (!first_err[0] && a < count) snprintf(first_err, sizeof first_err, "timeout after %ds", timeout);
        printf("{\"scenario\":\"produce\",\"ok\":%s,\"size\":%lld,\"count\":%lld,\"delivered\":%lld,"
               "\"errors\":%lld,\"max_pending\":%d,\"seconds\":%.4f,\"msgs_per_s\":%.1f,\"mib_per_s\":%.2f,"
               "\"error\":\"%s\"}\n",
               a == count ? "true" : "false", size, count, a, f, maxpending, secs, a / secs,
               (double)a * (double)size / secs / 1048576.0, first_err);
        free(payload);
    } else if (!strcmp(mode, "consume") && argc >= 6) {
        long long count = atoll(argv[4]);
        int timeout = atoi(argv[5]);
        if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK) fail("jetstream", s);
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Config.DeliverPolicy = js_DeliverAll;
        so.Config.AckPolicy = js_AckNone;
        natsSubscription *sub = NULL;
        jsErrCode jerr = 0;
        s = js_PullSubscribe(&sub, js, subj, "benchpull", &jo, &so, &jerr);
        if (s != NATS_OK) {
            /* Some servers want explicit acks on pull consumers: ack the batch's last. */
            so.Config.AckPolicy = js_AckAll;
            s = js_PullSubscribe(&sub, js, subj, "benchpull2", &jo, &so, &jerr);
        }
        if (s != NATS_OK) fail("pull subscribe", s);
        int64_t tstart = now_ns(), deadline = tstart + (int64_t)timeout * 1000000000LL, t0 = 0;
        long long got = 0, bytes = 0;
        while (got < count && now_ns() < deadline) {
            natsMsgList list = {0};
            s = natsSubscription_Fetch(&list, sub, 1000, 1000, &jerr);
            if (s != NATS_OK && s != NATS_TIMEOUT) {
                snprintf(first_err, sizeof first_err, "fetch: %s", natsStatus_GetText(s));
                break;
            }
            if (list.Count && !t0) t0 = now_ns();
            for (int i = 0; i < list.Count; i++) {
                got++;
                bytes += natsMsg_GetDataLength(list.Msgs[i]);
            }
            if (list.Count && so.Config.AckPolicy == js_AckAll) natsMsg_Ack(list.Msgs[list.Count - 1], NULL);
            natsMsgList_Destroy(&list);
        }
        int64_t t1 = now_ns();
        double secs = t0 ? (double)(t1 - t0) / 1e9 : 0;
        if (!first_err[0] && got < count) snprintf(first_err, sizeof first_err, "timeout after %ds", timeout);
        printf("{\"scenario\":\"consume\",\"ok\":%s,\"count\":%lld,\"received\":%lld,\"bytes\":%lld,"
               "\"seconds\":%.4f,\"msgs_per_s\":%.1f,\"mib_per_s\":%.2f,\"error\":\"%s\"}\n",
               got >= count ? "true" : "false", count, got, bytes, secs, secs > 0 ? got / secs : 0,
               secs > 0 ? (double)bytes / secs / 1048576.0 : 0, first_err);
        natsSubscription_Destroy(sub);
    } else {
        fprintf(stderr, "natsgen: bad arguments\n");
        return 2;
    }
    fflush(stdout);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(no);
    nats_Close();
    return 0;
}
