/*
 * scrape.c - GET /metrics: gathers the counters the data path keeps (per
 * partition in struct sl_part, per API in struct sl_metrics, per listener
 * and loop in the net layer, fsync times in the flusher), state computed
 * from the metadata image, the consumer groups and the process, and writes
 * them in Prometheus's text format under the names a Kafka user knows from
 * the JMX exporter (kafka_server_brokertopicmetrics_bytesin_total, ...).
 *
 * Never blocks the data path: partitions come from sl_parts_snapshot (the
 * registry lock is held only to copy pointers), counters are relaxed atomic
 * loads, the image is a reference, and all formatting happens with no lock
 * held. A family's samples are written together, as the format requires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "broker/broker.h"
#include "broker/parts.h"
#include "conf/conf.h"
#include "http/http_int.h"
#include "meta/image.h"
#include "metrics/metrics.h"
#include "net/net.h"
#include "storage/flusher.h"
#include "storage/log.h"

static void scrape_process(struct sl_http *http, struct sl_expo *e)
{
    struct sl_metrics *m = http->broker->metrics;
    struct sl_proc_stats ps;
    sl_expo_family(e, "sluice_build_info", "gauge", "Sluice version of this broker.");
    sl_expo_u64(e, "sluice_build_info", (struct sl_label[]){{"version", sl_conf_version()}}, 1, 1);
    if (m) {
        sl_expo_family(e, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch.");
        sl_expo_f64(e, "process_start_time_seconds", NULL, 0, (double)m->start_wall_ms / 1000.0);
        sl_expo_family(e, "sluice_uptime_seconds", "gauge", "Seconds since the process started.");
        sl_expo_f64(e, "sluice_uptime_seconds", NULL, 0, (double)(sl_clock_mono_ns() - m->start_mono_ns) / 1e9);
    }
    if (sl_metrics_proc(&ps) < 0)
        return;
    sl_expo_family(e, "process_cpu_seconds_total", "counter", "User and system CPU time spent, seconds.");
    sl_expo_f64(e, "process_cpu_seconds_total", NULL, 0, ps.cpu_seconds);
    sl_expo_family(e, "process_resident_memory_bytes", "gauge", "Resident memory size, bytes.");
    sl_expo_u64(e, "process_resident_memory_bytes", NULL, 0, ps.rss_bytes);
    sl_expo_family(e, "process_virtual_memory_bytes", "gauge", "Virtual memory size, bytes.");
    sl_expo_u64(e, "process_virtual_memory_bytes", NULL, 0, ps.vsize_bytes);
    sl_expo_family(e, "process_open_fds", "gauge", "Open file descriptors.");
    sl_expo_i64(e, "process_open_fds", NULL, 0, ps.open_fds);
    sl_expo_family(e, "process_max_fds", "gauge", "Limit of open file descriptors.");
    sl_expo_i64(e, "process_max_fds", NULL, 0, ps.max_fds);
    sl_expo_family(e, "process_threads", "gauge", "Threads in the process.");
    sl_expo_i64(e, "process_threads", NULL, 0, ps.threads);
}

/* ---- partitions and topics ---- */

enum part_field { PF_BYTES_IN, PF_MESSAGES_IN, PF_BYTES_OUT };

static uint64_t part_counter(const struct sl_part *p, enum part_field f)
{
    const uint64_t *c = f == PF_BYTES_IN ? &p->bytes_in : f == PF_MESSAGES_IN ? &p->messages_in : &p->bytes_out;
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* The registry is sorted by (topic id, index): a topic's partitions are
 * adjacent, so a per-topic sum is one pass. */
static void topic_family(struct sl_expo *e, struct sl_part **v, int n, const char *name, const char *help,
                         enum part_field f)
{
    sl_expo_family(e, name, "counter", help);
    for (int i = 0; i < n;) {
        uint64_t sum = 0;
        int j = i;
        for (; j < n && memcmp(v[j]->topic_id.b, v[i]->topic_id.b, 16) == 0; j++)
            sum += part_counter(v[j], f);
        sl_expo_u64(e, name, (struct sl_label[]){{"topic", v[i]->topic}}, 1, sum);
        i = j;
    }
}

struct part_row {                /* values read once per partition */
    uint64_t size;
    uint64_t segments;
    int64_t start, end, hwm;
};

static void scrape_partitions(struct sl_http *http, struct sl_expo *e)
{
    struct sl_part **v = NULL;
    int n = 0;
    if (!http->broker->parts || sl_parts_snapshot(http->broker->parts, &v, &n) < 0)
        return;
    /* Deleted partitions are on their way out: leave them out. */
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (__atomic_load_n(&v[i]->deleted, __ATOMIC_ACQUIRE) || !v[i]->log)
            sl_part_unref(v[i]);
        else
            v[k++] = v[i];
    }
    n = k;
    topic_family(e, v, n, "kafka_server_brokertopicmetrics_bytesin_total",
                 "Record batch bytes produced to the topic on this broker (BytesInPerSec).", PF_BYTES_IN);
    topic_family(e, v, n, "kafka_server_brokertopicmetrics_messagesin_total",
                 "Records produced to the topic on this broker (MessagesInPerSec).", PF_MESSAGES_IN);
    topic_family(e, v, n, "kafka_server_brokertopicmetrics_bytesout_total",
                 "Record bytes fetched from the topic on this broker (BytesOutPerSec).", PF_BYTES_OUT);

    struct part_row *rows = calloc((size_t)n + 1, sizeof(*rows));
    if (rows) {
        for (int i = 0; i < n; i++) {
            struct sl_log *log = v[i]->log;
            rows[i].size = sl_log_size_bytes(log);
            rows[i].segments = sl_log_segment_count(log);
            rows[i].start = sl_log_start_offset(log);
            rows[i].end = sl_log_end_offset(log);
            rows[i].hwm = sl_part_hwm(v[i]);
        }
        static const struct {
            const char *name, *help;
            size_t off;
            bool u;
        } fams[] = {
            {"kafka_log_log_size", "Bytes of the partition's log segments (Log Size).", offsetof(struct part_row, size), true},
            {"kafka_log_log_numlogsegments", "Segments of the partition's log.", offsetof(struct part_row, segments), true},
            {"kafka_log_log_logstartoffset", "First offset in the partition's log.", offsetof(struct part_row, start), false},
            {"kafka_log_log_logendoffset", "Next offset to be written to the partition's log.", offsetof(struct part_row, end), false},
            {"kafka_cluster_partition_highwatermark", "High watermark: offsets below it are committed and readable.",
             offsetof(struct part_row, hwm), false},
        };
        for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
            sl_expo_family(e, fams[f].name, "gauge", fams[f].help);
            for (int i = 0; i < n; i++) {
                char idx[16];
                snprintf(idx, sizeof(idx), "%d", v[i]->index);
                struct sl_label l[] = {{"topic", v[i]->topic}, {"partition", idx}};
                const char *p = (const char *)&rows[i] + fams[f].off;
                if (fams[f].u)
                    sl_expo_u64(e, fams[f].name, l, 2, *(const uint64_t *)p);
                else
                    sl_expo_i64(e, fams[f].name, l, 2, *(const int64_t *)p);
            }
        }
        free(rows);
    }
    for (int i = 0; i < n; i++)
        sl_part_unref(v[i]);
    free(v);
}

/* ---- requests ---- */

static void scrape_requests(struct sl_http *http, struct sl_expo *e)
{
    struct sl_metrics *m = http->broker->metrics;
    if (!m)
        return;
    /* One read per (api, version) so every family shows the same counts. */
    struct row {
        int16_t key, version;
        struct sl_hist_snap snap;
        uint64_t req_bytes, resp_bytes;
    };
    size_t cap = 64, n = 0;
    struct row *rows = malloc(cap * sizeof(*rows));
    if (!rows)
        return;
    for (int k = 0; k <= SL_API_MAX; k++) {
        if (!sl_api_table[k].name)
            continue;
        for (int ver = 0; ver < SL_METRICS_VERSIONS; ver++) {
            struct sl_metrics_req *r = &m->req[k][ver];
            struct sl_hist_snap s;
            sl_hist_read(&r->latency, &s);
            if (s.count == 0)
                continue;
            if (n == cap) {
                struct row *nr = realloc(rows, cap * 2 * sizeof(*rows));
                if (!nr)
                    break;
                rows = nr;
                cap *= 2;
            }
            rows[n++] = (struct row){(int16_t)k, (int16_t)ver, s,
                                     __atomic_load_n(&r->request_bytes, __ATOMIC_RELAXED),
                                     __atomic_load_n(&r->response_bytes, __ATOMIC_RELAXED)};
        }
    }
    static const char *const names[] = {
        "kafka_network_requestmetrics_requests_total",
        "kafka_network_requestmetrics_totaltime_seconds",
        "kafka_network_requestmetrics_requestbytes_total",
        "kafka_network_requestmetrics_responsebytes_total",
    };
    static const char *const types[] = {"counter", "histogram", "counter", "counter"};
    static const char *const helps[] = {
        "Requests answered, by API and version (RequestsPerSec).",
        "Time from a request's arrival to its response being queued, seconds (TotalTimeMs).",
        "Request bytes received, size prefix included.",
        "Response bytes sent, size prefix included.",
    };
    for (int f = 0; f < 4; f++) {
        sl_expo_family(e, names[f], types[f], helps[f]);
        for (size_t i = 0; i < n; i++) {
            char ver[16];
            snprintf(ver, sizeof(ver), "%d", rows[i].version);
            struct sl_label l[] = {{"request", sl_api_table[rows[i].key].name}, {"version", ver}};
            if (f == 0)
                sl_expo_u64(e, names[f], l, 2, rows[i].snap.count);
            else if (f == 1)
                sl_expo_hist(e, names[f], l, 2, &sl_hist_latency_ns, &rows[i].snap);
            else
                sl_expo_u64(e, names[f], l, 2, f == 2 ? rows[i].req_bytes : rows[i].resp_bytes);
        }
    }
    free(rows);
    sl_expo_family(e, "sluice_slow_requests_total", "counter",
                   "Responses sent later than log.slow.request.ms after their request arrived.");
    for (int k = 0; k <= SL_API_MAX; k++) {
        uint64_t c = __atomic_load_n(&m->slow[k], __ATOMIC_RELAXED);
        if (c && sl_api_table[k].name)
            sl_expo_u64(e, "sluice_slow_requests_total", (struct sl_label[]){{"request", sl_api_table[k].name}}, 1, c);
    }
    sl_expo_family(e, "kafka_server_delayedoperationpurgatory_purgatorysize", "gauge",
                   "Requests parked now: Produce waiting for durability, Fetch for data or MaxWaitMs.");
    sl_expo_i64(e, "kafka_server_delayedoperationpurgatory_purgatorysize",
                (struct sl_label[]){{"delayed_operation", "Produce"}}, 1,
                __atomic_load_n(&m->purgatory[SL_PURGATORY_PRODUCE], __ATOMIC_RELAXED));
    sl_expo_i64(e, "kafka_server_delayedoperationpurgatory_purgatorysize",
                (struct sl_label[]){{"delayed_operation", "Fetch"}}, 1,
                __atomic_load_n(&m->purgatory[SL_PURGATORY_FETCH], __ATOMIC_RELAXED));
}

/* ---- network ---- */

static void scrape_network(struct sl_http *http, struct sl_expo *e)
{
    struct sl_net *net = __atomic_load_n(&http->net, __ATOMIC_ACQUIRE);
    if (!net)
        return;
    struct sl_net_listener_stats ls[16];
    int n = sl_net_listener_stats(net, ls, 16);
    if (n > 16)
        n = 16;
    sl_expo_family(e, "kafka_server_socket_server_metrics_connections", "gauge",
                   "Connections open now, by listener.");
    for (int i = 0; i < n; i++) {
        const struct sl_listener *l = ls[i].listener_data;
        sl_expo_i64(e, "kafka_server_socket_server_metrics_connections",
                    (struct sl_label[]){{"listener", l ? l->name : "unknown"}}, 1, ls[i].open);
    }
    sl_expo_family(e, "kafka_server_socket_server_metrics_connection_creation_total", "counter",
                   "Connections accepted since start, by listener.");
    for (int i = 0; i < n; i++) {
        const struct sl_listener *l = ls[i].listener_data;
        sl_expo_u64(e, "kafka_server_socket_server_metrics_connection_creation_total",
                    (struct sl_label[]){{"listener", l ? l->name : "unknown"}}, 1, ls[i].accepted);
    }
    sl_expo_family(e, "sluice_tls_handshake_failures_total", "counter",
                   "TLS handshakes failed or timed out since start, by TLS listener.");
    for (int i = 0; i < n; i++) {
        const struct sl_listener *l = ls[i].listener_data;
        if (ls[i].tls)
            sl_expo_u64(e, "sluice_tls_handshake_failures_total",
                        (struct sl_label[]){{"listener", l ? l->name : "unknown"}}, 1,
                        ls[i].tls_handshake_failures);
    }
    int loops = sl_net_loop_count(net);
    if (loops > 64)
        loops = 64;
    uint64_t idle[64];
    sl_expo_family(e, "kafka_network_processor_idle_seconds_total", "counter",
                   "Time each network thread (event loop) spent waiting for work, seconds.");
    for (int i = 0; i < loops; i++) {
        idle[i] = sl_net_loop_idle_ns(net, i);
        char id[16];
        snprintf(id, sizeof(id), "%d", i);
        sl_expo_f64(e, "kafka_network_processor_idle_seconds_total", (struct sl_label[]){{"network_processor", id}},
                    1, (double)idle[i] / 1e9);
    }
    /* Kafka's gauge: average idle fraction of the network threads, here over
     * the time since the previous scrape. */
    pthread_mutex_lock(&http->scrape_mu);
    int64_t now = sl_clock_mono_ns();
    if (http->last_scrape_ns && now > http->last_scrape_ns && loops > 0) {
        double sum = 0;
        for (int i = 0; i < loops; i++)
            sum += (double)(idle[i] - http->last_idle_ns[i]) / (double)(now - http->last_scrape_ns);
        double avg = sum / loops;
        sl_expo_family(e, "kafka_network_socketserver_networkprocessoravgidlepercent", "gauge",
                       "Average fraction of time the network threads were idle since the previous scrape (0..1).");
        sl_expo_f64(e, "kafka_network_socketserver_networkprocessoravgidlepercent", NULL, 0,
                    avg < 0 ? 0 : avg > 1 ? 1 : avg);
    }
    http->last_scrape_ns = now;
    memcpy(http->last_idle_ns, idle, sizeof(uint64_t) * (size_t)loops);
    pthread_mutex_unlock(&http->scrape_mu);
}

/* ---- state from the metadata image ---- */

static bool in_list(const int32_t *v, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (v[i] == id)
            return true;
    return false;
}

static void scrape_image(struct sl_http *http, struct sl_expo *e)
{
    struct sl_image *img = sl_image_acquire();
    if (!img)
        return;
    int32_t me = http->broker->node_id;
    int64_t parts = 0, leaders = 0, urp = 0, under_min_isr = 0, offline = 0, global_parts = 0;
    int64_t fenced = 0, active = 0;
    for (int32_t b = 0; b < img->brokers_n; b++)
        if (img->brokers[b].fenced)
            fenced++;
        else
            active++;
    int32_t min_isr_default = http->broker->conf ? http->broker->conf->min_insync_replicas : 1;
    for (int32_t t = 0; t < img->topics_n; t++) {
        const struct sl_image_topic *topic = img->by_name[t];
        int32_t min_isr = min_isr_default;
        const char *mi = sl_image_topic_config(topic, "min.insync.replicas");
        if (mi)
            min_isr = atoi(mi);
        for (int32_t p = 0; p < topic->partitions_n; p++) {
            const struct sl_image_partition *ip = &topic->partitions[p];
            global_parts++;
            const struct sl_image_broker *lb = ip->leader >= 0 ? sl_image_broker(img, ip->leader) : NULL;
            if (!lb || lb->fenced)
                offline++;
            if (in_list(ip->replicas, ip->replicas_n, me))
                parts++;
            if (ip->leader == me) {
                leaders++;
                if (ip->isr_n < ip->replicas_n)
                    urp++;
                if (ip->isr_n < min_isr)
                    under_min_isr++;
            }
        }
    }
    const struct {
        const char *name, *help;
        int64_t v;
    } g[] = {
        {"kafka_server_replicamanager_partitioncount", "Partitions with a replica on this broker.", parts},
        {"kafka_server_replicamanager_leadercount", "Partitions this broker leads.", leaders},
        {"kafka_server_replicamanager_underreplicatedpartitions",
         "Partitions led here whose ISR is smaller than their replica set.", urp},
        {"kafka_server_replicamanager_underminisrpartitioncount",
         "Partitions led here whose ISR is below min.insync.replicas.", under_min_isr},
        {"kafka_controller_kafkacontroller_offlinepartitionscount",
         "Partitions without an active leader, cluster-wide.", offline},
        {"kafka_controller_kafkacontroller_activecontrollercount", "1 on the active controller.",
         img->controller_id == me ? 1 : 0},
        {"kafka_controller_kafkacontroller_globaltopiccount", "Topics in the cluster.", img->topics_n},
        {"kafka_controller_kafkacontroller_globalpartitioncount", "Partitions in the cluster.", global_parts},
        {"kafka_controller_kafkacontroller_activebrokercount", "Registered brokers not fenced.", active},
        {"kafka_controller_kafkacontroller_fencedbrokercount", "Registered brokers fenced.", fenced},
        {"sluice_metadata_applied_offset", "Last __cluster_metadata offset applied to the image.", img->offset},
    };
    sl_image_release(img);
    for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
        sl_expo_family(e, g[i].name, "gauge", g[i].help);
        sl_expo_i64(e, g[i].name, NULL, 0, g[i].v);
    }
}

/* ---- storage ---- */

static void scrape_flusher(struct sl_http *http, struct sl_expo *e)
{
    struct sl_flusher *fl = http->broker->flusher;
    if (!fl)
        return;
    const struct sl_hist *h = sl_flusher_sync_hist(fl);
    struct sl_hist_snap s;
    sl_hist_read(h, &s);
    sl_expo_family(e, "kafka_log_logflushstats_logflush_seconds", "histogram",
                   "Time of each log flush (fdatasync of a partition's new data), seconds (LogFlushRateAndTimeMs).");
    sl_expo_hist(e, "kafka_log_logflushstats_logflush_seconds", NULL, 0, h->bounds, &s);
    sl_expo_family(e, "sluice_log_flush_bytes_total", "counter", "Record batch bytes made durable by log flushes.");
    sl_expo_u64(e, "sluice_log_flush_bytes_total", NULL, 0, sl_flusher_synced_bytes(fl));
}

/* ---- consumer groups ---- */

static int64_t hwm_of(const struct sl_image *img, struct sl_parts *parts, const char *topic, int32_t index)
{
    const struct sl_image_topic *t = sl_image_topic_by_name(img, sl_slice_cstr(topic));
    if (!t || !parts)
        return -1;
    struct sl_part *p = sl_parts_get(parts, &t->id, index);
    if (!p)
        return -1;
    int64_t hwm = sl_part_hwm(p);
    sl_part_unref(p);
    return hwm;
}

static void scrape_groups(struct sl_http *http, struct sl_expo *e)
{
    struct sl_metrics *m = http->broker->metrics;
    if (!m)
        return;
    struct sl_gsnap snap;
    sl_gsnap_init(&snap);
    int rc = sl_metrics_groups(m, &snap);
    sl_expo_family(e, "sluice_group_coordinator_available", "gauge",
                   "1 when this broker's group coordinator answered the scrape.");
    sl_expo_u64(e, "sluice_group_coordinator_available", NULL, 0, rc == 0);
    if (rc < 0) {
        sl_gsnap_fini(&snap);
        return;
    }
    static const char *const states[] = {"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"};
    sl_expo_family(e, "kafka_server_group_coordinator_metrics_groups", "gauge",
                   "Consumer groups coordinated by this broker, by state.");
    for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
        uint64_t c = 0;
        for (int32_t i = 0; i < snap.groups_n; i++)
            c += strcmp(snap.groups[i].state, states[s]) == 0;
        sl_expo_u64(e, "kafka_server_group_coordinator_metrics_groups",
                    (struct sl_label[]){{"state", states[s]}}, 1, c);
    }
    sl_expo_family(e, "kafka_consumergroup_members", "gauge", "Members of the consumer group.");
    for (int32_t i = 0; i < snap.groups_n; i++)
        sl_expo_i64(e, "kafka_consumergroup_members", (struct sl_label[]){{"consumergroup", snap.groups[i].id}}, 1,
                    snap.groups[i].members_n);
    struct sl_image *img = sl_image_acquire();
    for (int pass = 0; pass < 2 && img; pass++) {
        const char *name = pass ? "kafka_consumergroup_lag" : "kafka_consumergroup_current_offset";
        sl_expo_family(e, name, "gauge",
                       pass ? "High watermark minus the group's committed offset, by partition."
                            : "The group's committed offset, by partition.");
        for (int32_t i = 0; i < snap.groups_n; i++) {
            const struct sl_gsnap_group *g = &snap.groups[i];
            for (int32_t j = 0; j < g->offsets_n; j++) {
                const struct sl_gsnap_offset *o = &g->offsets[j];
                if (o->committed < 0)
                    continue; /* nothing committed */
                char idx[16];
                snprintf(idx, sizeof(idx), "%d", o->partition);
                struct sl_label l[] = {{"consumergroup", g->id}, {"topic", o->topic}, {"partition", idx}};
                if (!pass) {
                    sl_expo_i64(e, name, l, 3, o->committed);
                    continue;
                }
                int64_t hwm = hwm_of(img, http->broker->parts, o->topic, o->partition);
                if (hwm < 0)
                    continue; /* partition not hosted here */
                sl_expo_i64(e, name, l, 3, hwm > o->committed ? hwm - o->committed : 0);
            }
        }
    }
    if (img)
        sl_image_release(img);
    sl_gsnap_fini(&snap);
}

void http_scrape(struct sl_http *http, struct sl_expo *e)
{
    scrape_process(http, e);
    scrape_requests(http, e);
    scrape_network(http, e);
    scrape_image(http, e);
    scrape_partitions(http, e);
    scrape_flusher(http, e);
    scrape_groups(http, e);
}
