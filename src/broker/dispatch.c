/*
 * dispatch.c - from a request frame to a handler and back: reads the request
 * header, checks the API and version against what this broker implements,
 * decodes the body into the request's arena, calls the handler, and encodes
 * the response behind the right response header.
 *
 * Kafka's rules kept here: an unknown API key, an unsupported version (but
 * see ApiVersions) or an undecodable request closes the connection; an
 * ApiVersions request at a version we do not know is answered with
 * UNSUPPORTED_VERSION and a v0 body listing our versions (KIP-511), and its
 * response header is always v0.
 */
#include "broker/broker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/diag.h"
#include "broker/authz.h"
#include "broker/handlers.h"
#include "broker/sasl.h"
#include "conf/conf.h"
#include "metrics/metrics.h"
#include "proto/gen/errors.h"
#include "proto/gen/header.h"
#include "proto/kp.h"

struct handler {
    int16_t min, max;          /* versions implemented */
    sl_handler_fn fn;
};

/* What this broker implements: ApiVersions advertises exactly this table. */
static const struct handler handlers[SL_API_MAX + 1] = {
    [SL_API_ApiVersions] = {0, 4, sl_handle_ApiVersions},
    [SL_API_Metadata] = {0, 12, sl_handle_Metadata},
    [SL_API_DescribeCluster] = {0, 1, sl_handle_DescribeCluster},
    [SL_API_CreateTopics] = {2, 7, sl_handle_CreateTopics},
    [SL_API_DeleteTopics] = {1, 6, sl_handle_DeleteTopics},
    [SL_API_Produce] = {3, 11, sl_handle_Produce},
    [SL_API_Fetch] = {4, 16, sl_handle_Fetch},
    [SL_API_ListOffsets] = {1, 8, sl_handle_ListOffsets},
    [SL_API_OffsetForLeaderEpoch] = {2, 4, sl_handle_OffsetForLeaderEpoch},
    [SL_API_DescribeConfigs] = {1, 4, sl_handle_DescribeConfigs},
    [SL_API_AlterConfigs] = {0, 2, sl_handle_AlterConfigs},
    [SL_API_IncrementalAlterConfigs] = {0, 1, sl_handle_IncrementalAlterConfigs},
    [SL_API_CreatePartitions] = {0, 3, sl_handle_CreatePartitions},
    [SL_API_DeleteRecords] = {0, 2, sl_handle_DeleteRecords},
    [SL_API_DescribeLogDirs] = {0, 4, sl_handle_DescribeLogDirs},
    [SL_API_ElectLeaders] = {0, 2, sl_handle_ElectLeaders},
    [SL_API_FindCoordinator] = {0, 6, sl_handle_FindCoordinator},
    [SL_API_JoinGroup] = {0, 9, sl_handle_JoinGroup},
    [SL_API_SyncGroup] = {0, 5, sl_handle_SyncGroup},
    [SL_API_Heartbeat] = {0, 4, sl_handle_Heartbeat},
    [SL_API_LeaveGroup] = {0, 5, sl_handle_LeaveGroup},
    [SL_API_OffsetCommit] = {2, 9, sl_handle_OffsetCommit},
    [SL_API_OffsetFetch] = {1, 9, sl_handle_OffsetFetch},
    [SL_API_OffsetDelete] = {0, 0, sl_handle_OffsetDelete},
    [SL_API_DescribeGroups] = {0, 5, sl_handle_DescribeGroups},
    [SL_API_ListGroups] = {0, 5, sl_handle_ListGroups},
    [SL_API_DeleteGroups] = {0, 2, sl_handle_DeleteGroups},
    [SL_API_ConsumerGroupHeartbeat] = {0, 1, sl_handle_ConsumerGroupHeartbeat},
    [SL_API_ConsumerGroupDescribe] = {0, 0, sl_handle_ConsumerGroupDescribe},
    [SL_API_InitProducerId] = {0, 5, sl_handle_InitProducerId},
    [SL_API_AddPartitionsToTxn] = {0, 5, sl_handle_TxnCoordinator},
    [SL_API_AddOffsetsToTxn] = {0, 4, sl_handle_TxnCoordinator},
    [SL_API_EndTxn] = {0, 4, sl_handle_TxnCoordinator},
    [SL_API_TxnOffsetCommit] = {0, 4, sl_handle_TxnCoordinator},
    [SL_API_DescribeTransactions] = {0, 0, sl_handle_TxnCoordinator},
    [SL_API_ListTransactions] = {0, 1, sl_handle_TxnCoordinator},
    [SL_API_DescribeProducers] = {0, 0, sl_handle_DescribeProducers},
    /* Kafka 4.0 serves SaslHandshake 0-1 (v0, deprecated, is not among
     * KIP-896's removals) and SaslAuthenticate 0-2; docs/sasl.md. */
    [SL_API_SaslHandshake] = {0, 1, sl_handle_SaslHandshake},
    [SL_API_SaslAuthenticate] = {0, 2, sl_handle_SaslAuthenticate},
    [SL_API_AlterUserScramCredentials] = {0, 0, sl_handle_AlterUserScramCredentials},
    [SL_API_DescribeUserScramCredentials] = {0, 0, sl_handle_DescribeUserScramCredentials},
    [SL_API_CreateAcls] = {1, 3, sl_handle_CreateAcls},     /* v0 removed by KIP-896 */
    [SL_API_DescribeAcls] = {1, 3, sl_handle_DescribeAcls},
    [SL_API_DeleteAcls] = {1, 3, sl_handle_DeleteAcls},
};

bool sl_broker_api_versions(int16_t api_key, int16_t *min, int16_t *max)
{
    if (api_key < 0 || api_key > SL_API_MAX || !handlers[api_key].fn)
        return false;
    *min = handlers[api_key].min;
    /* KAFKA-18659: librdkafka before 2.10 compresses only when the broker
     * lists Produce from v0, so Kafka 4.0 advertises 0 while refusing
     * v0-v2 like any unsupported version. Sluice does the same (see
     * docs/compatibility.md). */
    if (api_key == SL_API_Produce)
        *min = 0;
    *max = handlers[api_key].max;
    return true;
}

static int16_t rd16(const uint8_t *p) { return (int16_t)(((uint16_t)p[0] << 8) | p[1]); }

void sl_broker_on_request(void *ctx, struct sl_req *req)
{
    struct sl_broker *broker = ctx;
    if (sl_sasl_raw_frame(broker, req))
        return; /* a raw SASL token after SaslHandshake v0 */
    if (req->frame_len < 8) {
        sl_req_close(req, "request shorter than its header");
        return;
    }
    int16_t key = rd16(req->frame), version = rd16(req->frame + 2);
    const struct sl_api_info *api = sl_api_get(key);
    if (!api || !handlers[key].fn) {
        char why[64];
        snprintf(why, sizeof(why), "unknown or unimplemented api key %d", key);
        sl_req_close(req, why);
        return;
    }
    bool unsupported = version < handlers[key].min || version > handlers[key].max;
    if (unsupported && key != SL_API_ApiVersions) {
        char why[96];
        snprintf(why, sizeof(why), "unsupported version %d of %s (we implement %d-%d)", version,
                 api->name, handlers[key].min, handlers[key].max);
        sl_req_close(req, why);
        return;
    }

    struct sl_call *call = sl_arena_alloc(&req->arena, sizeof(*call));
    if (!call) {
        sl_req_close(req, "out of memory for the request");
        return;
    }
    call->req = req;
    call->broker = broker;
    call->api = api;
    call->api_key = key;
    call->version = version;
    call->listener = req->listener_data;

    /* An ApiVersions request newer than ours: its header is read as the
     * newest header we know (v2 for flexible), its body is not read. */
    int16_t hv_version = unsupported ? handlers[key].max : version;
    struct sl_kp_reader r = {req->frame, req->frame + req->frame_len, &req->arena, NULL};
    struct sl_RequestHeader hdr;
    sl_RequestHeader_init(&hdr);
    if (sl_RequestHeader_decode(&r, (int16_t)sl_api_request_header_version(key, hv_version), &hdr) != SL_OK) {
        sl_req_close(req, r.err ? r.err : "malformed request header");
        return;
    }
    call->correlation_id = hdr.CorrelationId;
    call->client_id = hdr.ClientId;

    /* Every connection has a session (who it is); SASL listeners: nothing
     * but the handshake before authentication. */
    const char *denied = sl_sasl_gate(call);
    if (denied) {
        char why[224];
        snprintf(why, sizeof(why), "%s: %s", api->name, denied);
        sl_req_close(req, why);
        return;
    }

    call->response = sl_arena_alloc(&req->arena, api->response_size);
    if (!call->response) {
        sl_req_close(req, "out of memory for the response");
        return;
    }
    api->response_init(call->response);

    if (unsupported) {
        /* KIP-511: answer in v0 with the error and our versions. */
        call->version = 0;
        call->request = NULL;
        sl_handle_ApiVersions(call);
        return;
    }

    call->request = sl_arena_alloc(&req->arena, api->request_size);
    if (!call->request) {
        sl_req_close(req, "out of memory for the request");
        return;
    }
    api->request_init(call->request);
    if (api->decode_request(&r, version, call->request) != SL_OK) {
        char why[160];
        snprintf(why, sizeof(why), "malformed %s v%d request: %s", api->name, version,
                 r.err ? r.err : "decode failed");
        sl_req_close(req, why);
        return;
    }
    SL_DEBUG("broker", "%s v%d correlation=%d client=%.*s", api->name, version, hdr.CorrelationId,
             SL_SLICE_FMT(hdr.ClientId));
    handlers[key].fn(call);
}

/* Counts the answered request and logs it when slow: later than
 * log.slow.request.ms after its frame arrived, beyond any wait it asked for. */
static void account(struct sl_call *call, uint64_t response_bytes)
{
    struct sl_req *req = call->req;
    struct sl_broker *broker = call->broker;
    int64_t ns = sl_clock_mono_ns() - req->recv_mono_ns;
    if (ns < 0)
        ns = 0;
    if (broker->metrics)
        sl_metrics_request(broker->metrics, call->api_key, call->version, (uint64_t)ns,
                           (uint64_t)req->frame_len + 4, response_bytes);
    int64_t slow_ms = broker->conf ? broker->conf->log_slow_request_ms : -1;
    if (slow_ms >= 0 && ns / 1000000 - call->parked_ms >= slow_ms) {
        if (broker->metrics)
            __atomic_fetch_add(&broker->metrics->slow[call->api_key], 1, __ATOMIC_RELAXED);
        SL_WARN("request", "slow request api=%s version=%d correlation=%d client=%.*s peer=%s "
                "total_ms=%.3f parked_ms=%lld request_bytes=%zu response_bytes=%llu",
                call->api->name, call->version, call->correlation_id, SL_SLICE_FMT(call->client_id),
                sl_conn_peer(req->conn), (double)ns / 1e6, (long long)call->parked_ms,
                req->frame_len + 4, (unsigned long long)response_bytes);
    }
}

/* Encodes the response header and body into req->out; false (and the
 * connection closed) when out of memory. */
static bool encode(struct sl_call *call)
{
    if (call->authz)
        sl_authz_before_respond(call); /* authorization's last word on the answer (broker/authz.h) */
    struct sl_req *req = call->req;
    struct sl_ResponseHeader rh;
    sl_ResponseHeader_init(&rh);
    rh.CorrelationId = call->correlation_id;
    int hv = sl_api_response_header_version(call->api_key, call->version);
    if (sl_ResponseHeader_encode(&req->out, (int16_t)hv, &rh) < 0 ||
        call->api->encode_response(&req->out, call->version, call->response) < 0) {
        sl_req_close(req, "out of memory encoding the response");
        return false;
    }
    account(call, (uint64_t)req->out.total_len + 4);
    return true;
}

void sl_call_respond(struct sl_call *call)
{
    if (encode(call))
        sl_req_respond(call->req);
}

void sl_call_respond_close(struct sl_call *call, const char *why)
{
    if (encode(call))
        sl_req_respond_close(call->req, why);
}

static void respond_posted(void *arg) { sl_call_respond(arg); }

void sl_call_respond_later(struct sl_call *call) { sl_loop_post(call->req->loop, respond_posted, call); }

void sl_call_drop(struct sl_call *call)
{
    account(call, 0);
    sl_req_drop(call->req);
}

void sl_call_close(struct sl_call *call, const char *why) { sl_req_close(call->req, why); }
