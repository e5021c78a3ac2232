/* test_codec.c - tests for the generated codec in src/proto/gen: every message
 * round-trips at every version, golden bytes assembled by hand from the
 * protocol guide decode and re-encode exactly, and malformed lengths fail
 * with SL_EFRAME before anything is allocated. */
#include "testlib.h"

#include "base/arena.h"
#include "base/obuf.h"
#include "proto/gen/all.h"
#include "proto/gen/fill.h"
#include "proto/kp.h"

#include <stdlib.h>

/* Flattens b into a malloc'd buffer (*len bytes). */
static uint8_t *flat(struct sl_obuf *b, size_t *len)
{
    *len = b->total_len;
    uint8_t *p = malloc(b->total_len + 1);
    CHECK(p != NULL);
    CHECK_EQ(sl_obuf_flatten(b, p), 0);
    return p;
}

/* Encode a filled struct, decode it, encode again: same bytes, all consumed. */
static void roundtrip(const struct sl_gen_msg *g, int16_t v, int mode)
{
    struct sl_arena a;
    sl_arena_init(&a, 0);
    void *m1 = calloc(1, g->size), *m2 = calloc(1, g->size);
    CHECK(m1 && m2);
    g->fill(m1, &a, mode);

    struct sl_obuf b1, b2;
    sl_obuf_init(&b1);
    sl_obuf_init(&b2);
    CHECK_EQ(g->encode(&b1, v, m1), 0);
    size_t n1, n2;
    uint8_t *p1 = flat(&b1, &n1);

    struct sl_kp_reader r;
    sl_kp_reader_init(&r, p1, n1, &a);
    int rc = g->decode(&r, v, m2);
    if (rc != SL_OK || r.p != r.end)
        fprintf(stderr, "%s v%d mode %d: rc %d err %s left %zu\n", g->name, v, mode, rc,
                r.err ? r.err : "-", (size_t)(r.end - r.p));
    CHECK_EQ(rc, SL_OK);
    CHECK(r.p == r.end);

    CHECK_EQ(g->encode(&b2, v, m2), 0);
    uint8_t *p2 = flat(&b2, &n2);
    if (n1 != n2 || memcmp(p1, p2, n1) != 0)
        fprintf(stderr, "%s v%d mode %d: re-encoded %zu bytes differ from %zu\n", g->name, v, mode,
                n2, n1);
    CHECK_EQ(n1, n2);
    CHECK_MEM(p1, p2, n1);

    /* Every proper prefix is truncated input: never SL_OK with bytes missing. */
    if (mode == 0 && n1 < 4096) {
        for (size_t cut = 0; cut < n1; cut++) {
            struct sl_arena a2;
            sl_arena_init(&a2, 0);
            uint8_t *q = malloc(cut + 1);
            memcpy(q, p1, cut);
            sl_kp_reader_init(&r, q, cut, &a2);
            rc = g->decode(&r, v, m2);
            /* A prefix may be a complete message only if the tail is all
             * tagged-section/defaults; with mode 0 every field is set, so
             * decoding a prefix must fail. */
            if (rc == SL_OK)
                fprintf(stderr, "%s v%d: prefix of %zu/%zu decoded\n", g->name, v, cut, n1);
            CHECK_EQ(rc, SL_EFRAME);
            CHECK(r.err != NULL);
            free(q);
            sl_arena_fini(&a2);
        }
    }
    free(p1);
    free(p2);
    sl_obuf_fini(&b1);
    sl_obuf_fini(&b2);
    free(m1);
    free(m2);
    sl_arena_fini(&a);
}

TEST(every_message_round_trips_at_every_version)
{
    size_t versions = 0;
    CHECK(sl_gen_msgs_n > 240);
    for (size_t i = 0; i < sl_gen_msgs_n; i++) {
        const struct sl_gen_msg *g = &sl_gen_msgs[i];
        for (int v = g->min_version; v <= g->max_version; v++) {
            roundtrip(g, (int16_t)v, 0);
            roundtrip(g, (int16_t)v, 1);
            versions++;
        }
    }
    fprintf(stderr, "%zu message versions\n", versions);
    CHECK(versions > 700);
}

TEST(api_table_matches_the_json)
{
    const struct sl_api_info *p = sl_api_get(SL_API_Produce);
    CHECK(p != NULL);
    CHECK(strcmp(p->name, "Produce") == 0);
    CHECK_EQ(p->min_version, 0);
    CHECK_EQ(p->max_version, 11);
    CHECK_EQ(p->flexible_min, 9);
    CHECK(p->listeners & SL_API_LISTENER_BROKER);
    CHECK_EQ(p->request_size, sizeof(struct sl_ProduceRequest));
    CHECK_EQ(SL_API_Fetch, 1);
    CHECK_EQ(SL_API_ApiVersions, 18);
    CHECK(sl_api_get(-1) == NULL);
    CHECK(sl_api_get(SL_API_MAX + 1) == NULL);
    CHECK(sl_api_get(SL_API_MAX) != NULL);
    CHECK_EQ(sl_api_request_header_version(SL_API_ApiVersions, 3), 2);
    CHECK_EQ(sl_api_request_header_version(SL_API_ApiVersions, 2), 1);
    CHECK_EQ(sl_api_request_header_version(SL_API_ControlledShutdown, 0), 0);
    CHECK_EQ(sl_api_response_header_version(SL_API_ApiVersions, 3), 0);
    CHECK_EQ(sl_api_response_header_version(SL_API_Metadata, 9), 1);
    CHECK_EQ(sl_api_response_header_version(SL_API_Metadata, 8), 0);
    const struct sl_api_info *vote = sl_api_get(SL_API_Vote);
    CHECK(vote && (vote->listeners & SL_API_LISTENER_CONTROLLER));
}

TEST(error_codes_and_names)
{
    CHECK_EQ(SL_KERR_NONE, 0);
    CHECK_EQ(SL_KERR_UNKNOWN_SERVER_ERROR, -1);
    CHECK_EQ(SL_KERR_OFFSET_OUT_OF_RANGE, 1);
    CHECK_EQ(SL_KERR_UNKNOWN_TOPIC_OR_PARTITION, 3);
    CHECK(strcmp(sl_kerr_name(SL_KERR_NOT_LEADER_OR_FOLLOWER), "NOT_LEADER_OR_FOLLOWER") == 0);
    CHECK(strncmp(sl_kerr_message(1), "The requested offset", 20) == 0);
    CHECK(strcmp(sl_kerr_name(-2), "UNKNOWN") == 0);
    CHECK(strcmp(sl_kerr_name(32000), "UNKNOWN") == 0);
    CHECK(strcmp(sl_kerr_message(0), "") == 0);
}

/* Decodes header (at hv) + body of api/version from buf, re-encodes both and
 * checks the bytes are identical. */
static void golden(const uint8_t *buf, size_t len, int16_t api, int16_t v, void *req,
                   struct sl_RequestHeader *h, struct sl_arena *a)
{
    const struct sl_api_info *info = sl_api_get(api);
    int hv = sl_api_request_header_version(api, v);
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, buf, len, a);
    CHECK_EQ(sl_RequestHeader_decode(&r, (int16_t)hv, h), SL_OK);
    CHECK_EQ(h->RequestApiKey, api);
    CHECK_EQ(h->RequestApiVersion, v);
    int rc = info->decode_request(&r, v, req);
    if (rc != SL_OK)
        fprintf(stderr, "golden: %s\n", r.err);
    CHECK_EQ(rc, SL_OK);
    CHECK(r.p == r.end);

    struct sl_obuf b;
    sl_obuf_init(&b);
    CHECK_EQ(sl_RequestHeader_encode(&b, (int16_t)hv, h), 0);
    CHECK_EQ(info->encode_request(&b, v, req), 0);
    size_t n;
    uint8_t *p = flat(&b, &n);
    CHECK_EQ(n, len);
    CHECK_MEM(p, buf, len);
    free(p);
    sl_obuf_fini(&b);
}

/* ApiVersions v3 as librdkafka 2.0.2 sends it: request header v2 (classic
 * int16 client id, then an empty tagged section), compact strings in the body. */
static const uint8_t apiversions_v3[] = {
    0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,          /* key 18, v3, correlation 1 */
    0x00, 0x07, 'r', 'd', 'k', 'a', 'f', 'k', 'a',           /* ClientId "rdkafka" */
    0x00,                                                    /* header tagged fields */
    0x0b, 'l', 'i', 'b', 'r', 'd', 'k', 'a', 'f', 'k', 'a', /* ClientSoftwareName */
    0x06, '2', '.', '0', '.', '2',                           /* ClientSoftwareVersion */
    0x00,                                                    /* body tagged fields */
};

TEST(golden_apiversions_v3_from_librdkafka)
{
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_RequestHeader h;
    struct sl_ApiVersionsRequest req;
    golden(apiversions_v3, sizeof(apiversions_v3), SL_API_ApiVersions, 3, &req, &h, &a);
    CHECK_EQ(h.CorrelationId, 1);
    CHECK(sl_slice_eq_cstr(h.ClientId, "rdkafka"));
    CHECK(sl_slice_eq_cstr(req.ClientSoftwareName, "librdkafka"));
    CHECK(sl_slice_eq_cstr(req.ClientSoftwareVersion, "2.0.2"));
    /* The slices point into the input: nothing copied. */
    CHECK(req.ClientSoftwareName.p == apiversions_v3 + 19);
    sl_arena_fini(&a);
}

/* Metadata v1 as kafka-python sends it for one topic. */
static const uint8_t metadata_v1[] = {
    0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* key 3, v1, correlation 2 */
    0x00, 0x0c, 'k', 'a', 'f', 'k', 'a', '-', 'p', 'y', 't', 'h', 'o', 'n',
    0x00, 0x00, 0x00, 0x01,                         /* Topics: 1 */
    0x00, 0x04, 't', 'e', 's', 't',                 /* Name */
};

TEST(golden_metadata_v1_from_kafka_python)
{
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_RequestHeader h;
    struct sl_MetadataRequest req;
    golden(metadata_v1, sizeof(metadata_v1), SL_API_Metadata, 1, &req, &h, &a);
    CHECK(sl_slice_eq_cstr(h.ClientId, "kafka-python"));
    CHECK_EQ(req.Topics_n, 1);
    CHECK(sl_slice_eq_cstr(req.Topics[0].Name, "test"));
    CHECK_EQ(req.AllowAutoTopicCreation, true); /* v4+ field: its default */
    sl_arena_fini(&a);
}

TEST(metadata_v1_null_topics_means_all)
{
    static const uint8_t body[] = {0xff, 0xff, 0xff, 0xff};
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_MetadataRequest req;
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, body, sizeof(body), &a);
    CHECK_EQ(sl_MetadataRequest_decode(&r, 1, &req), SL_OK);
    CHECK_EQ(req.Topics_n, -1);
    /* v0 does not allow null topics */
    sl_kp_reader_init(&r, body, sizeof(body), &a);
    CHECK_EQ(sl_MetadataRequest_decode(&r, 0, &req), SL_EFRAME);
    sl_arena_fini(&a);
}

static const uint8_t produce_v7[] = {
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x05, /* key 0, v7, correlation 5 */
    0x00, 0x01, 'p',                                /* ClientId */
    0xff, 0xff,                                     /* TransactionalId null */
    0xff, 0xff,                                     /* Acks -1 */
    0x00, 0x00, 0x03, 0xe8,                         /* TimeoutMs 1000 */
    0x00, 0x00, 0x00, 0x01,                         /* TopicData: 1 */
    0x00, 0x01, 't',                                /* Name */
    0x00, 0x00, 0x00, 0x01,                         /* PartitionData: 1 */
    0x00, 0x00, 0x00, 0x02,                         /* Index 2 */
    0x00, 0x00, 0x00, 0x04, 'A', 'B', 'C', 'D',     /* Records */
};

TEST(golden_produce_v7)
{
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_RequestHeader h;
    struct sl_ProduceRequest req;
    golden(produce_v7, sizeof(produce_v7), SL_API_Produce, 7, &req, &h, &a);
    CHECK(req.TransactionalId.p == NULL);
    CHECK_EQ(req.Acks, -1);
    CHECK_EQ(req.TimeoutMs, 1000);
    CHECK_EQ(req.TopicData_n, 1);
    CHECK(sl_slice_eq_cstr(req.TopicData[0].Name, "t"));
    CHECK_EQ(req.TopicData[0].PartitionData_n, 1);
    CHECK_EQ(req.TopicData[0].PartitionData[0].Index, 2);
    struct sl_slice rec = req.TopicData[0].PartitionData[0].Records.mem;
    CHECK_EQ(rec.len, 4);
    CHECK(rec.p == produce_v7 + sizeof(produce_v7) - 4);
    sl_arena_fini(&a);
}

TEST(produce_records_chain_is_moved_into_the_output)
{
    struct sl_obuf chain, b;
    sl_obuf_init(&chain);
    sl_obuf_init(&b);
    CHECK_EQ(sl_obuf_put(&chain, "BATCH", 5), 0);
    struct sl_ProduceResponse resp;
    sl_ProduceResponse_init(&resp);
    struct sl_FetchResponse fr;
    sl_FetchResponse_init(&fr);
    struct sl_FetchResponse_FetchableTopicResponse t;
    sl_FetchResponse_FetchableTopicResponse_init(&t);
    struct sl_FetchResponse_PartitionData pd;
    sl_FetchResponse_PartitionData_init(&pd);
    pd.Records.chain = &chain;
    t.Partitions = &pd;
    t.Partitions_n = 1;
    fr.Responses = &t;
    fr.Responses_n = 1;
    CHECK_EQ(sl_FetchResponse_encode(&b, 4, &fr), 0);
    CHECK_EQ(chain.total_len, 0);
    size_t n;
    uint8_t *p = flat(&b, &n);
    CHECK(n > 9);
    CHECK_MEM(p + n - 9, "\x00\x00\x00\x05" "BATCH", 9);
    free(p);
    sl_obuf_fini(&b);
    sl_obuf_fini(&chain);
    (void)resp;
}

/* Decodes body as api/version; expects SL_EFRAME with nothing allocated. */
static void expect_eframe(int16_t api, int16_t v, const uint8_t *body, size_t len)
{
    const struct sl_api_info *info = sl_api_get(api);
    struct sl_arena a;
    sl_arena_init(&a, 0);
    void *m = calloc(1, info->request_size);
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, body, len, &a);
    CHECK_EQ(info->decode_request(&r, v, m), SL_EFRAME);
    CHECK(r.err != NULL);
    CHECK_EQ(a.used_bytes, 0);
    CHECK_EQ(a.inline_used, 0);
    free(m);
    sl_arena_fini(&a);
}

TEST(negative_string_length_is_a_frame_error)
{
    /* Produce v3 TransactionalId (nullable) with length -2 */
    static const uint8_t body[] = {0xff, 0xfe, 't', 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0};
    expect_eframe(SL_API_Produce, 3, body, sizeof(body));
}

TEST(array_count_beyond_the_bytes_left_allocates_nothing)
{
    static const uint8_t body[] = {0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 't'};
    expect_eframe(SL_API_Metadata, 1, body, sizeof(body));
    /* 2 elements of at least 2 bytes cannot fit in 3 bytes */
    static const uint8_t body2[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 't'};
    expect_eframe(SL_API_Metadata, 1, body2, sizeof(body2));
    /* compact count: 1000 topics in 10 bytes (Metadata v9 is flexible) */
    static const uint8_t body3[] = {0xe9, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_eframe(SL_API_Metadata, 9, body3, sizeof(body3));
}

TEST(six_byte_uvarint_is_a_frame_error)
{
    static const uint8_t body[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 'x', 0x01, 0x00};
    expect_eframe(SL_API_ApiVersions, 3, body, sizeof(body));
}

TEST(truncated_body_is_a_frame_error)
{
    const uint8_t *body = produce_v7 + 14;
    size_t len = sizeof(produce_v7) - 14;
    for (size_t cut = 0; cut < len; cut++) {
        struct sl_arena a;
        sl_arena_init(&a, 0);
        struct sl_ProduceRequest req;
        struct sl_kp_reader r;
        sl_kp_reader_init(&r, body, cut, &a);
        CHECK_EQ(sl_ProduceRequest_decode(&r, 7, &req), SL_EFRAME);
        sl_arena_fini(&a);
    }
}

TEST(null_non_nullable_string_in_flexible_version_is_a_frame_error)
{
    static const uint8_t body[] = {0x00, 0x06, '2', '.', '0', '.', '2', 0x00};
    expect_eframe(SL_API_ApiVersions, 3, body, sizeof(body));
}

TEST(tagged_field_overrunning_is_a_frame_error)
{
    static const uint8_t body[] = {0x02, 'a', 0x02, 'b', 0x01, 0x05, 0x64, 0x00, 0x00};
    expect_eframe(SL_API_ApiVersions, 3, body, sizeof(body));
    /* the same with a size that fits decodes and skips the unknown tag */
    static const uint8_t ok[] = {0x02, 'a', 0x02, 'b', 0x01, 0x05, 0x02, 0x00, 0x00};
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_ApiVersionsRequest req;
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, ok, sizeof(ok), &a);
    CHECK_EQ(sl_ApiVersionsRequest_decode(&r, 3, &req), SL_OK);
    CHECK(r.p == r.end);
    sl_arena_fini(&a);
}

TEST(arena_cap_turns_a_large_array_into_a_frame_error)
{
    /* 600 topics of 2 bytes each fit the input but not a 4 KiB arena */
    size_t len = 4 + 600 * 2;
    uint8_t *body = calloc(1, len);
    body[2] = 600 >> 8;
    body[3] = 600 & 0xff;
    struct sl_arena a;
    sl_arena_init(&a, 4096);
    struct sl_MetadataRequest req;
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, body, len, &a);
    CHECK_EQ(sl_MetadataRequest_decode(&r, 1, &req), SL_EFRAME);
    CHECK(strstr(r.err, "arena") != NULL);
    sl_arena_fini(&a);
    sl_arena_init(&a, 0);
    sl_kp_reader_init(&r, body, len, &a);
    CHECK_EQ(sl_MetadataRequest_decode(&r, 1, &req), SL_OK);
    CHECK_EQ(req.Topics_n, 600);
    sl_arena_fini(&a);
    free(body);
}

TEST(tagged_fields_written_only_when_not_default)
{
    /* FetchRequest v12+: ClusterId is tag 0 (default null). */
    struct sl_FetchRequest req;
    sl_FetchRequest_init(&req);
    CHECK(req.ClusterId.p == NULL);
    CHECK_EQ(req.ReplicaId, -1);
    struct sl_obuf b1, b2;
    sl_obuf_init(&b1);
    sl_obuf_init(&b2);
    CHECK_EQ(sl_FetchRequest_encode(&b1, 12, &req), 0);
    req.ClusterId = sl_slice_cstr("abc");
    CHECK_EQ(sl_FetchRequest_encode(&b2, 12, &req), 0);
    /* tag 0, size 4, compact "abc"; count goes from 0 to 1 */
    CHECK_EQ(b2.total_len, b1.total_len + 6);
    size_t n;
    uint8_t *p = flat(&b2, &n);
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct sl_FetchRequest back;
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, p, n, &a);
    CHECK_EQ(sl_FetchRequest_decode(&r, 12, &back), SL_OK);
    CHECK(sl_slice_eq_cstr(back.ClusterId, "abc"));
    free(p);
    sl_arena_fini(&a);
    sl_obuf_fini(&b1);
    sl_obuf_fini(&b2);
}

TEST(metadata_record_framing)
{
    struct sl_TopicRecord t;
    sl_TopicRecord_init(&t);
    t.Name = sl_slice_cstr("orders");
    t.TopicId.b[15] = 7;
    struct sl_obuf b;
    sl_obuf_init(&b);
    CHECK_EQ(sl_meta_record_encode(&b, 2, 0, &t), 0);
    CHECK_EQ(sl_meta_record_encode(&b, 2, 9, &t), -EINVAL);
    size_t n;
    uint8_t *p = flat(&b, &n);
    /* frame version 1, apiKey 2, version 0, compact "orders", uuid, no tags */
    static const uint8_t want[] = {1, 2, 0, 7, 'o', 'r', 'd', 'e', 'r', 's',
                                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0};
    CHECK_EQ(n, sizeof(want));
    CHECK_MEM(p, want, n);
    struct sl_arena a;
    sl_arena_init(&a, 0);
    _Alignas(16) uint8_t storage[SL_META_RECORD_STORAGE];
    int16_t type, version;
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, p, n, &a);
    CHECK_EQ(sl_meta_record_decode(&r, &type, &version, storage), SL_OK);
    CHECK_EQ(type, 2);
    CHECK_EQ(version, 0);
    CHECK(sl_slice_eq_cstr(((struct sl_TopicRecord *)storage)->Name, "orders"));
    p[0] = 0; /* frame version 0 is refused, as by Kafka */
    sl_kp_reader_init(&r, p, n, &a);
    CHECK_EQ(sl_meta_record_decode(&r, &type, &version, storage), SL_EFRAME);
    free(p);
    sl_arena_fini(&a);
    sl_obuf_fini(&b);
}

TEST(consumer_offsets_key_and_value)
{
    struct sl_OffsetCommitKey k;
    sl_OffsetCommitKey_init(&k);
    k.group = sl_slice_cstr("g");
    k.topic = sl_slice_cstr("t");
    k.partition = 3;
    struct sl_obuf b;
    sl_obuf_init(&b);
    CHECK_EQ(sl_coord_key_encode(&b, 1, &k), 0);
    size_t n;
    uint8_t *p = flat(&b, &n);
    static const uint8_t want[] = {0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 3};
    CHECK_EQ(n, sizeof(want));
    CHECK_MEM(p, want, n);
    struct sl_arena a;
    sl_arena_init(&a, 0);
    _Alignas(16) uint8_t storage[SL_COORD_KEY_STORAGE];
    int16_t type;
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, p, n, &a);
    CHECK_EQ(sl_coord_key_decode(&r, &type, storage), SL_OK);
    CHECK_EQ(type, 1);
    CHECK_EQ(((struct sl_OffsetCommitKey *)storage)->partition, 3);
    CHECK(sl_coord_record_get(2) != NULL);
    CHECK(strcmp(sl_coord_record_get(2)->value.name, "GroupMetadataValue") == 0);
    free(p);
    sl_arena_fini(&a);
    sl_obuf_fini(&b);
}
