/*
 * api.c - the read-only admin API under /v1, in JSON (jansson): cluster,
 * brokers and topics from the metadata image, partition log state from the
 * partitions hosted here, groups from the group coordinator's snapshot.
 * Shapes follow what Kafka's admin clients report (describeCluster,
 * describeTopics, describeConsumerGroups), with Kafka's field names where
 * they have one.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/parts.h"
#include "broker/topics.h"
#include "http/http_int.h"
#include "meta/image.h"
#include "metrics/metrics.h"
#include "storage/log.h"

static void reply_json(struct http_reply *rep, int status, json_t *j)
{
    rep->status = status;
    rep->content_type = "application/json";
    rep->body = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(j);
    if (!rep->body) {
        rep->status = 500;
        rep->body = strdup("{\"error\":\"out of memory\"}");
    }
    if (rep->body) {
        size_t n = strlen(rep->body);
        char *b = realloc(rep->body, n + 2);
        if (b) {
            b[n] = '\n';
            b[n + 1] = 0;
            rep->body = b;
            n++;
        }
        rep->len = n;
    }
}

static void reply_error(struct http_reply *rep, int status, const char *msg)
{
    reply_json(rep, status, json_pack("{s:s}", "error", msg));
}

static const char *const protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};

static json_t *broker_json(const struct sl_image *img, const struct sl_image_broker *b)
{
    json_t *eps = json_array();
    for (int i = 0; i < b->endpoints_n; i++) {
        const struct sl_image_endpoint *ep = &b->endpoints[i];
        int16_t sp = ep->security_protocol;
        json_array_append_new(eps, json_pack("{s:s,s:s,s:i,s:s}", "listener", ep->name, "host", ep->host, "port",
                                             ep->port, "security_protocol",
                                             sp >= 0 && sp < 4 ? protocols[sp] : "UNKNOWN"));
    }
    json_t *j = json_pack("{s:i,s:I,s:b,s:b,s:o}", "id", b->id, "epoch", (json_int_t)b->epoch, "fenced", b->fenced,
                          "controller", img->controller_id == b->id, "endpoints", eps);
    json_object_set_new(j, "rack", b->has_rack ? json_string(b->rack) : json_null());
    if (b->endpoints_n > 0) {
        json_object_set_new(j, "host", json_string(b->endpoints[0].host));
        json_object_set_new(j, "port", json_integer(b->endpoints[0].port));
    }
    return j;
}

static json_t *brokers_json(const struct sl_image *img)
{
    json_t *a = json_array();
    for (int32_t i = 0; i < img->brokers_n; i++)
        json_array_append_new(a, broker_json(img, &img->brokers[i]));
    return a;
}

static int32_t replication_factor(const struct sl_image_topic *t)
{
    return t->partitions_n > 0 ? t->partitions[0].replicas_n : 0;
}

static json_t *int_array(const int32_t *v, int32_t n)
{
    json_t *a = json_array();
    for (int32_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *topic_summary(const struct sl_image_topic *t)
{
    char id[23];
    sl_uuid_to_base64(&t->id, id);
    return json_pack("{s:s,s:s,s:i,s:i,s:b}", "name", t->name, "topic_id", id, "partitions", t->partitions_n,
                     "replication_factor", replication_factor(t), "internal",
                     sl_topic_is_internal(sl_slice_cstr(t->name)));
}

static json_t *topic_detail(struct sl_http *http, const struct sl_image_topic *t)
{
    json_t *j = topic_summary(t);
    json_t *parts = json_array();
    for (int32_t p = 0; p < t->partitions_n; p++) {
        const struct sl_image_partition *ip = &t->partitions[p];
        json_t *pj = json_pack("{s:i,s:i,s:i,s:o,s:o}", "partition", ip->id, "leader", ip->leader, "leader_epoch",
                               ip->leader_epoch, "replicas", int_array(ip->replicas, ip->replicas_n), "isr",
                               int_array(ip->isr, ip->isr_n));
        struct sl_part *part = http->broker->parts ? sl_parts_get(http->broker->parts, &t->id, ip->id) : NULL;
        if (part && part->log) {
            json_object_set_new(pj, "log_start_offset", json_integer(sl_log_start_offset(part->log)));
            json_object_set_new(pj, "log_end_offset", json_integer(sl_log_end_offset(part->log)));
            json_object_set_new(pj, "high_watermark", json_integer(sl_part_hwm(part)));
            json_object_set_new(pj, "size_bytes", json_integer((json_int_t)sl_log_size_bytes(part->log)));
            json_object_set_new(pj, "segments", json_integer((json_int_t)sl_log_segment_count(part->log)));
        }
        sl_part_unref(part);
        json_array_append_new(parts, pj);
    }
    json_object_set_new(j, "partitions", parts);
    json_object_set_new(j, "partition_count", json_integer(t->partitions_n));
    json_t *cfg = json_object();
    for (int32_t i = 0; i < t->configs_n; i++)
        json_object_set_new(cfg, t->configs[i].key, json_string(t->configs[i].value));
    json_object_set_new(j, "configs", cfg);
    return j;
}

static void cluster(struct sl_http *http, const struct sl_image *img, struct http_reply *rep)
{
    int64_t partitions = 0, offline = 0;
    for (int32_t t = 0; t < img->topics_n; t++) {
        const struct sl_image_topic *topic = img->by_name[t];
        partitions += topic->partitions_n;
        for (int32_t p = 0; p < topic->partitions_n; p++) {
            const struct sl_image_broker *lb =
                topic->partitions[p].leader >= 0 ? sl_image_broker(img, topic->partitions[p].leader) : NULL;
            offline += !lb || lb->fenced;
        }
    }
    json_t *j = json_pack("{s:s,s:i,s:i,s:I,s:i,s:I,s:I,s:i,s:o}", "cluster_id", img->cluster_id, "controller_id",
                          img->controller_id, "node_id", http->broker->node_id, "metadata_offset",
                          (json_int_t)img->offset, "topics", img->topics_n, "partitions", (json_int_t)partitions,
                          "offline_partitions", (json_int_t)offline, "metadata_version", img->metadata_version,
                          "brokers", brokers_json(img));
    reply_json(rep, 200, j);
}

static json_t *group_json(struct sl_http *http, const struct sl_image *img, const struct sl_gsnap_group *g,
                          bool detail)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", "group_id", g->id, "state", g->state, "protocol_type",
                          g->protocol_type, "protocol", g->protocol, "generation", g->generation, "members",
                          g->members_n);
    if (!detail)
        return j;
    json_t *ms = json_array();
    for (int32_t i = 0; i < g->members_n; i++)
        json_array_append_new(ms, json_pack("{s:s,s:s,s:s}", "member_id", g->members[i].member_id, "client_id",
                                            g->members[i].client_id, "client_host", g->members[i].client_host));
    json_object_set_new(j, "member_list", ms);
    json_t *os = json_array();
    for (int32_t i = 0; i < g->offsets_n; i++) {
        const struct sl_gsnap_offset *o = &g->offsets[i];
        json_t *oj = json_pack("{s:s,s:i,s:I}", "topic", o->topic, "partition", o->partition, "committed_offset",
                               (json_int_t)o->committed);
        const struct sl_image_topic *t = sl_image_topic_by_name(img, sl_slice_cstr(o->topic));
        struct sl_part *p = t && http->broker->parts ? sl_parts_get(http->broker->parts, &t->id, o->partition) : NULL;
        if (p) {
            int64_t hwm = sl_part_hwm(p);
            json_object_set_new(oj, "high_watermark", json_integer(hwm));
            if (o->committed >= 0)
                json_object_set_new(oj, "lag", json_integer(hwm > o->committed ? hwm - o->committed : 0));
            sl_part_unref(p);
        }
        json_array_append_new(os, oj);
    }
    json_object_set_new(j, "offsets", os);
    return j;
}

static void groups(struct sl_http *http, const struct sl_image *img, const char *id, struct http_reply *rep)
{
    struct sl_gsnap snap;
    sl_gsnap_init(&snap);
    int rc = http->broker->metrics ? sl_metrics_groups(http->broker->metrics, &snap) : -ENOTSUP;
    if (rc < 0) {
        sl_gsnap_fini(&snap);
        reply_error(rep, 503, rc == -ENOTSUP ? "no group coordinator on this broker" : strerror(-rc));
        return;
    }
    if (id) {
        for (int32_t i = 0; i < snap.groups_n; i++)
            if (strcmp(snap.groups[i].id, id) == 0) {
                reply_json(rep, 200, group_json(http, img, &snap.groups[i], true));
                sl_gsnap_fini(&snap);
                return;
            }
        sl_gsnap_fini(&snap);
        reply_error(rep, 404, "no such group");
        return;
    }
    json_t *a = json_array();
    for (int32_t i = 0; i < snap.groups_n; i++)
        json_array_append_new(a, group_json(http, img, &snap.groups[i], false));
    sl_gsnap_fini(&snap);
    reply_json(rep, 200, a);
}

void http_api(struct sl_http *http, const char *path, struct http_reply *rep)
{
    struct sl_image *img = sl_image_acquire();
    if (!img) {
        reply_error(rep, 503, "metadata not loaded yet");
        return;
    }
    if (strcmp(path, "/cluster") == 0) {
        cluster(http, img, rep);
    } else if (strcmp(path, "/brokers") == 0) {
        reply_json(rep, 200, brokers_json(img));
    } else if (strcmp(path, "/topics") == 0 || strcmp(path, "/topics/") == 0) {
        json_t *a = json_array();
        for (int32_t t = 0; t < img->topics_n; t++)
            json_array_append_new(a, topic_summary(img->by_name[t]));
        reply_json(rep, 200, a);
    } else if (strncmp(path, "/topics/", 8) == 0) {
        const struct sl_image_topic *t = sl_image_topic_by_name(img, sl_slice_cstr(path + 8));
        if (t)
            reply_json(rep, 200, topic_detail(http, t));
        else
            reply_error(rep, 404, "no such topic");
    } else if (strcmp(path, "/groups") == 0 || strcmp(path, "/groups/") == 0) {
        groups(http, img, NULL, rep);
    } else if (strncmp(path, "/groups/", 8) == 0) {
        groups(http, img, path + 8, rep);
    } else {
        reply_error(rep, 404, "not found");
    }
    sl_image_release(img);
}
