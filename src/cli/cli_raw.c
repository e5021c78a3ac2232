/*
 * cli_raw.c - a single Metadata v12 round trip over a plain TCP socket, encoded
 * and decoded with src/proto/gen, so `topics --describe` can print TopicId and
 * `cluster` broker racks, which librdkafka 2.0's public API does not expose.
 * Every step is bounded by the client's timeout; any failure yields NULL.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/obuf.h"
#include "cli/cli_raw.h"
#include "proto/gen/Metadata.h"
#include "proto/gen/api.h"
#include "proto/gen/header.h"

struct sl_cli_raw_md {
    int ntopics;
    struct {
        char *name;
        char id[23]; /* base64url, as Kafka prints a Uuid */
    } *topics;
    int nbrokers;
    struct {
        int32_t id;
        char *rack; /* NULL when unset */
    } *brokers;
};

static void uuid_b64(const struct sl_uuid *u, char out[23])
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int o = 0;
    for (int i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)u->b[i] << 16;
        if (i + 1 < 16) {
            v |= (uint32_t)u->b[i + 1] << 8;
        }
        if (i + 2 < 16) {
            v |= u->b[i + 2];
        }
        int chars = i + 2 < 16 ? 4 : 2; /* 16 bytes = 5 groups of 3 + 1 byte */
        for (int c = 0; c < chars; c++) {
            out[o++] = tab[(v >> (18 - 6 * c)) & 63];
        }
    }
    out[o] = '\0';
}

static int wait_fd(int fd, short ev, int64_t deadline_us)
{
    int64_t left = (deadline_us - sl_cli_now_us()) / 1000;
    if (left <= 0) {
        return -ETIMEDOUT;
    }
    struct pollfd p = {fd, ev, 0};
    int n = poll(&p, 1, (int)left);
    return n > 0 ? 0 : -ETIMEDOUT;
}

int sl_cli_raw_io(int fd, uint8_t *buf, size_t len, bool wr, int64_t deadline_us)
{
    size_t done = 0;
    while (done < len) {
        if (wait_fd(fd, wr ? POLLOUT : POLLIN, deadline_us) < 0) {
            return -ETIMEDOUT;
        }
        ssize_t n = wr ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
                       : recv(fd, buf + done, len - done, 0);
        if (n <= 0) {
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            return -EIO;
        }
        done += (size_t)n;
    }
    return 0;
}

int sl_cli_raw_dial(const char *bootstrap, int64_t deadline_us)
{
    char hp[600];
    const char *s = strstr(bootstrap, "://");
    snprintf(hp, sizeof(hp), "%s", s ? s + 3 : bootstrap);
    hp[strcspn(hp, ",")] = '\0';
    char *colon = strrchr(hp, ':');
    if (!colon) {
        return -EINVAL;
    }
    *colon = '\0';
    char *host = hp;
    if (host[0] == '[') {
        host++;
        host[strcspn(host, "]")] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
        return -EINVAL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        return -EIO;
    }
    int err = 0;
    socklen_t el = sizeof(err);
    if (wait_fd(fd, POLLOUT, deadline_us) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
        close(fd);
        return -EIO;
    }
    return fd;
}

static bool plaintext(const struct sl_cli_client *cl)
{
    char proto[64] = "plaintext";
    size_t sz = sizeof(proto);
    rd_kafka_conf_get(rd_kafka_conf(cl->rk), "security.protocol", proto, &sz);
    return strcasecmp(proto, "plaintext") == 0;
}

static struct sl_cli_raw_md *copy_out(const struct sl_MetadataResponse *resp)
{
    struct sl_cli_raw_md *raw = calloc(1, sizeof(*raw));
    raw->topics = calloc((size_t)(resp->Topics_n > 0 ? resp->Topics_n : 1), sizeof(*raw->topics));
    for (int i = 0; i < resp->Topics_n; i++) {
        const struct sl_MetadataResponse_MetadataResponseTopic *t = &resp->Topics[i];
        if (!t->Name.p) {
            continue;
        }
        raw->topics[raw->ntopics].name = strndup((const char *)t->Name.p, t->Name.len);
        uuid_b64(&t->TopicId, raw->topics[raw->ntopics].id);
        raw->ntopics++;
    }
    raw->brokers = calloc((size_t)(resp->Brokers_n > 0 ? resp->Brokers_n : 1), sizeof(*raw->brokers));
    for (int i = 0; i < resp->Brokers_n; i++) {
        const struct sl_MetadataResponse_MetadataResponseBroker *b = &resp->Brokers[i];
        raw->brokers[i].id = b->NodeId;
        raw->brokers[i].rack = b->Rack.p ? strndup((const char *)b->Rack.p, b->Rack.len) : NULL;
        raw->nbrokers++;
    }
    return raw;
}

struct sl_cli_raw_md *sl_cli_raw_metadata(const struct sl_cli_client *cl)
{
    if (!plaintext(cl)) {
        return NULL;
    }
    int64_t deadline = sl_cli_now_us() + (int64_t)cl->timeout_ms * 1000;
    int fd = sl_cli_raw_dial(cl->bootstrap, deadline);
    if (fd < 0) {
        return NULL;
    }
    struct sl_obuf b;
    struct sl_arena arena;
    struct sl_cli_raw_md *raw = NULL;
    uint8_t *req = NULL, *resp = NULL;
    sl_obuf_init(&b);
    sl_arena_init(&arena, 256u << 20);
    struct sl_RequestHeader hdr;
    sl_RequestHeader_init(&hdr);
    hdr.RequestApiKey = 3; /* Metadata */
    hdr.RequestApiVersion = 12;
    hdr.CorrelationId = 1;
    hdr.ClientId = sl_slice_cstr("sluice");
    struct sl_MetadataRequest mreq;
    sl_MetadataRequest_init(&mreq);
    mreq.Topics_n = -1; /* all topics */
    uint8_t *len_prefix = sl_obuf_append(&b, 4);
    if (!len_prefix || sl_RequestHeader_encode(&b, 2, &hdr) < 0 ||
        sl_MetadataRequest_encode(&b, 12, &mreq) < 0) {
        goto out;
    }
    uint32_t body = (uint32_t)b.total_len - 4;
    len_prefix[0] = (uint8_t)(body >> 24);
    len_prefix[1] = (uint8_t)(body >> 16);
    len_prefix[2] = (uint8_t)(body >> 8);
    len_prefix[3] = (uint8_t)body;
    req = malloc(b.total_len);
    if (!req || sl_obuf_flatten(&b, req) < 0 || sl_cli_raw_io(fd, req, b.total_len, true, deadline) < 0) {
        goto out;
    }
    uint8_t lb[4];
    if (sl_cli_raw_io(fd, lb, 4, false, deadline) < 0) {
        goto out;
    }
    uint32_t rlen = (uint32_t)lb[0] << 24 | (uint32_t)lb[1] << 16 | (uint32_t)lb[2] << 8 | lb[3];
    if (rlen > (256u << 20) || !(resp = malloc(rlen ? rlen : 1)) ||
        sl_cli_raw_io(fd, resp, rlen, false, deadline) < 0) {
        goto out;
    }
    struct sl_kp_reader r;
    struct sl_ResponseHeader rh;
    struct sl_MetadataResponse mr;
    sl_kp_reader_init(&r, resp, rlen, &arena);
    sl_ResponseHeader_init(&rh);
    sl_MetadataResponse_init(&mr);
    if (sl_ResponseHeader_decode(&r, 1, &rh) == SL_OK && rh.CorrelationId == 1 &&
        sl_MetadataResponse_decode(&r, 12, &mr) == SL_OK) {
        raw = copy_out(&mr);
    }
out:
    free(req);
    free(resp);
    sl_obuf_fini(&b);
    sl_arena_fini(&arena);
    close(fd);
    return raw;
}

const char *sl_cli_raw_topic_id(const struct sl_cli_raw_md *raw, const char *topic)
{
    for (int i = 0; raw && i < raw->ntopics; i++) {
        if (strcmp(raw->topics[i].name, topic) == 0) {
            return raw->topics[i].id;
        }
    }
    return NULL;
}

const char *sl_cli_raw_rack(const struct sl_cli_raw_md *raw, int32_t broker_id)
{
    for (int i = 0; raw && i < raw->nbrokers; i++) {
        if (raw->brokers[i].id == broker_id) {
            return raw->brokers[i].rack;
        }
    }
    return NULL;
}

void sl_cli_raw_free(struct sl_cli_raw_md *raw)
{
    if (!raw) {
        return;
    }
    for (int i = 0; i < raw->ntopics; i++) {
        free(raw->topics[i].name);
    }
    for (int i = 0; i < raw->nbrokers; i++) {
        free(raw->brokers[i].rack);
    }
    free(raw->topics);
    free(raw->brokers);
    free(raw);
}

bool sl_cli_raw_possible(const struct sl_cli_client *cl) { return plaintext(cl); }

int sl_cli_raw_request(const struct sl_cli_client *cl, int16_t api_key, int16_t version, const void *req, void *resp,
                    struct sl_arena *arena)
{
    const struct sl_api_info *api = sl_api_get(api_key);
    if (!api || !plaintext(cl)) {
        return -ENOTSUP;
    }
    int64_t deadline = sl_cli_now_us() + (int64_t)cl->timeout_ms * 1000;
    int fd = sl_cli_raw_dial(cl->bootstrap, deadline);
    if (fd < 0) {
        return fd;
    }
    int rc = -EIO;
    struct sl_obuf b;
    uint8_t *out = NULL, *in = NULL;
    sl_obuf_init(&b);
    struct sl_RequestHeader hdr;
    sl_RequestHeader_init(&hdr);
    hdr.RequestApiKey = api_key;
    hdr.RequestApiVersion = version;
    hdr.CorrelationId = 1;
    hdr.ClientId = sl_slice_cstr("sluice");
    uint8_t *len_prefix = sl_obuf_append(&b, 4);
    if (!len_prefix || sl_RequestHeader_encode(&b, (int16_t)sl_api_request_header_version(api_key, version), &hdr) < 0 ||
        api->encode_request(&b, version, req) < 0) {
        goto out;
    }
    uint32_t body = (uint32_t)b.total_len - 4;
    len_prefix[0] = (uint8_t)(body >> 24);
    len_prefix[1] = (uint8_t)(body >> 16);
    len_prefix[2] = (uint8_t)(body >> 8);
    len_prefix[3] = (uint8_t)body;
    out = malloc(b.total_len);
    if (!out || sl_obuf_flatten(&b, out) < 0 || (rc = sl_cli_raw_io(fd, out, b.total_len, true, deadline)) < 0) {
        goto out;
    }
    uint8_t lb[4];
    if ((rc = sl_cli_raw_io(fd, lb, 4, false, deadline)) < 0) {
        goto out;
    }
    uint32_t rlen = (uint32_t)lb[0] << 24 | (uint32_t)lb[1] << 16 | (uint32_t)lb[2] << 8 | lb[3];
    rc = -EPROTO;
    if (rlen > (64u << 20) || !(in = sl_arena_alloc(arena, rlen ? rlen : 1)) ||
        sl_cli_raw_io(fd, in, rlen, false, deadline) < 0) {
        goto out;
    }
    struct sl_kp_reader r;
    struct sl_ResponseHeader rh;
    sl_kp_reader_init(&r, in, rlen, arena);
    sl_ResponseHeader_init(&rh);
    api->response_init(resp);
    if (sl_ResponseHeader_decode(&r, (int16_t)sl_api_response_header_version(api_key, version), &rh) == SL_OK &&
        rh.CorrelationId == 1 && api->decode_response(&r, version, resp) == SL_OK) {
        rc = 0;
    }
out:
    free(out);
    sl_obuf_fini(&b);
    close(fd);
    return rc;
}
