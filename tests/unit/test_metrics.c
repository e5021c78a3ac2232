/*
 * test_metrics.c - src/metrics: histogram buckets and reads, the Prometheus
 * text exposition (families, label escaping, number formats, histograms),
 * group snapshots, process statistics.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>

#include "metrics/expo.h"
#include "metrics/gsnap.h"
#include "metrics/hist.h"
#include "metrics/metrics.h"
#include "testlib.h"

static const struct sl_hist_bounds small = {.n = 3, .le = {10, 100, 1000}, .scale = 1e-3};

TEST(hist_puts_each_value_in_the_first_bucket_whose_bound_holds_it)
{
    CHECK_EQ(sl_hist_bucket(&small, 0), 0);
    CHECK_EQ(sl_hist_bucket(&small, 10), 0);   /* bounds are inclusive, like le */
    CHECK_EQ(sl_hist_bucket(&small, 11), 1);
    CHECK_EQ(sl_hist_bucket(&small, 1000), 2);
    CHECK_EQ(sl_hist_bucket(&small, 1001), 3); /* +Inf */
}

TEST(hist_read_is_cumulative_and_count_equals_the_inf_bucket)
{
    struct sl_hist h;
    sl_hist_init(&h, &small);
    uint64_t vals[] = {1, 10, 50, 500, 5000, 7};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        sl_hist_observe(&h, vals[i]);
    struct sl_hist_snap s;
    sl_hist_read(&h, &s);
    CHECK_EQ(s.n, 3);
    CHECK_EQ(s.cum[0], 3);
    CHECK_EQ(s.cum[1], 4);
    CHECK_EQ(s.cum[2], 5);
    CHECK_EQ(s.cum[3], 6);
    CHECK_EQ(s.count, 6);
    CHECK_EQ(s.sum, 1 + 10 + 50 + 500 + 5000 + 7);
}

static struct sl_hist shared;

static void *observer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++)
        sl_hist_observe(&shared, (uint64_t)(i % 2000));
    return NULL;
}

TEST(hist_counts_every_observation_from_concurrent_threads)
{
    sl_hist_init(&shared, &small);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, observer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    struct sl_hist_snap s;
    sl_hist_read(&shared, &s);
    CHECK_EQ(s.count, 400000);
    CHECK_EQ(s.cum[0], 4 * 50 * 11); /* 0..10 in every 2000 */
}

TEST(latency_bounds_are_ascending_and_in_nanoseconds)
{
    const struct sl_hist_bounds *b = &sl_hist_latency_ns;
    CHECK(b->n > 10 && b->n <= SL_HIST_MAX_BOUNDS);
    for (int i = 1; i < b->n; i++)
        CHECK(b->le[i] > b->le[i - 1]);
    CHECK_EQ(b->le[0], 100000); /* 100 us */
    CHECK(b->scale == 1e-9);
}

static char *expo_text(struct sl_expo *e)
{
    CHECK(!e->oom);
    return e->buf ? e->buf : "";
}

TEST(expo_writes_help_type_and_samples)
{
    struct sl_expo e;
    sl_expo_init(&e);
    sl_expo_family(&e, "x_total", "counter", "Things.\nMore \\ text.");
    sl_expo_u64(&e, "x_total", NULL, 0, 18446744073709551615ULL);
    sl_expo_i64(&e, "x_total", (struct sl_label[]){{"topic", "a"}, {"partition", "0"}}, 2, -1);
    CHECK(strcmp(expo_text(&e), "# HELP x_total Things.\\nMore \\\\ text.\n"
                                "# TYPE x_total counter\n"
                                "x_total 18446744073709551615\n"
                                "x_total{topic=\"a\",partition=\"0\"} -1\n") == 0);
    sl_expo_fini(&e);
}

TEST(expo_escapes_label_values)
{
    struct sl_expo e;
    sl_expo_init(&e);
    sl_expo_u64(&e, "g", (struct sl_label[]){{"consumergroup", "a\"b\\c\nd"}}, 1, 1);
    CHECK(strcmp(expo_text(&e), "g{consumergroup=\"a\\\"b\\\\c\\nd\"} 1\n") == 0);
    sl_expo_fini(&e);
}

TEST(expo_formats_doubles_shortest_and_special_values)
{
    char b[40];
    sl_expo_fmt_double(0.005, b, sizeof(b));
    CHECK(strcmp(b, "0.005") == 0);
    sl_expo_fmt_double(1e-4, b, sizeof(b));
    CHECK(strcmp(b, "0.0001") == 0);
    sl_expo_fmt_double(30, b, sizeof(b));
    CHECK(strcmp(b, "30") == 0);
    sl_expo_fmt_double(0.1 + 0.2, b, sizeof(b));
    CHECK(strtod(b, NULL) == 0.1 + 0.2);
    sl_expo_fmt_double(NAN, b, sizeof(b));
    CHECK(strcmp(b, "NaN") == 0);
    sl_expo_fmt_double(INFINITY, b, sizeof(b));
    CHECK(strcmp(b, "+Inf") == 0);
    sl_expo_fmt_double(-INFINITY, b, sizeof(b));
    CHECK(strcmp(b, "-Inf") == 0);
}

TEST(expo_writes_a_histogram_as_cumulative_buckets_sum_and_count)
{
    struct sl_hist h;
    sl_hist_init(&h, &small);
    sl_hist_observe(&h, 5);
    sl_hist_observe(&h, 50);
    sl_hist_observe(&h, 5000);
    struct sl_hist_snap s;
    sl_hist_read(&h, &s);
    struct sl_expo e;
    sl_expo_init(&e);
    sl_expo_family(&e, "lat_seconds", "histogram", "Latency.");
    sl_expo_hist(&e, "lat_seconds", (struct sl_label[]){{"request", "Produce"}}, 1, &small, &s);
    CHECK(strcmp(expo_text(&e), "# HELP lat_seconds Latency.\n"
                                "# TYPE lat_seconds histogram\n"
                                "lat_seconds_bucket{request=\"Produce\",le=\"0.01\"} 1\n"
                                "lat_seconds_bucket{request=\"Produce\",le=\"0.1\"} 2\n"
                                "lat_seconds_bucket{request=\"Produce\",le=\"1\"} 2\n"
                                "lat_seconds_bucket{request=\"Produce\",le=\"+Inf\"} 3\n"
                                "lat_seconds_sum{request=\"Produce\"} 5.055\n"
                                "lat_seconds_count{request=\"Produce\"} 3\n") == 0);
    sl_expo_fini(&e);
}

TEST(expo_histogram_without_labels_has_only_le)
{
    struct sl_hist h;
    sl_hist_init(&h, &small);
    struct sl_hist_snap s;
    sl_hist_read(&h, &s);
    struct sl_expo e;
    sl_expo_init(&e);
    sl_expo_hist(&e, "f", NULL, 0, &small, &s);
    CHECK(strstr(expo_text(&e), "f_bucket{le=\"+Inf\"} 0\nf_sum 0\nf_count 0\n") != NULL);
    sl_expo_fini(&e);
}

TEST(expo_grows_past_its_first_buffer)
{
    struct sl_expo e;
    sl_expo_init(&e);
    for (int i = 0; i < 10000; i++)
        sl_expo_u64(&e, "kafka_log_log_size", (struct sl_label[]){{"topic", "some-topic"}, {"partition", "7"}}, 2,
                    (uint64_t)i);
    CHECK(!e.oom);
    size_t len;
    char *buf = sl_expo_take(&e, &len);
    CHECK(len > 10000 * 40);
    CHECK(strlen(buf) == len);
    CHECK(e.buf == NULL && e.len == 0);
    free(buf);
}

TEST(gsnap_copies_groups_members_and_offsets)
{
    struct sl_gsnap s;
    sl_gsnap_init(&s);
    char id[] = "g1";
    struct sl_gsnap_group *g =
        sl_gsnap_add_group(&s, sl_slice_cstr(id), "Stable", sl_slice_cstr("consumer"), sl_slice_cstr("range"), 3);
    CHECK(g != NULL);
    id[0] = 'X'; /* the snapshot holds its own copy */
    CHECK(sl_gsnap_add_member(g, sl_slice_cstr("m-1"), sl_slice_cstr("c"), sl_slice_cstr("/127.0.0.1")) == 0);
    for (int p = 0; p < 20; p++)
        CHECK(sl_gsnap_add_offset(g, sl_slice_cstr("t"), p, 100 + p) == 0);
    CHECK(sl_gsnap_add_group(&s, (struct sl_slice){NULL, 0}, "Empty", (struct sl_slice){NULL, 0},
                             (struct sl_slice){NULL, 0}, -1) != NULL);
    CHECK_EQ(s.groups_n, 2);
    CHECK(strcmp(s.groups[0].id, "g1") == 0);
    CHECK(strcmp(s.groups[0].state, "Stable") == 0);
    CHECK_EQ(s.groups[0].offsets_n, 20);
    CHECK_EQ(s.groups[0].offsets[19].committed, 119);
    CHECK(strcmp(s.groups[1].id, "") == 0);
    sl_gsnap_fini(&s);
    CHECK_EQ(s.groups_n, 0);
}

static int fake_provider(void *ctx, struct sl_gsnap *snap)
{
    (*(int *)ctx)++;
    return sl_gsnap_add_group(snap, sl_slice_cstr("g"), "Empty", sl_slice_cstr(""), sl_slice_cstr(""), -1) ? 0
                                                                                                          : -ENOMEM;
}

TEST(metrics_groups_uses_the_registered_provider_and_reports_its_absence)
{
    struct sl_metrics *m;
    CHECK(sl_metrics_new(&m) == 0);
    struct sl_gsnap s;
    sl_gsnap_init(&s);
    CHECK_EQ(sl_metrics_groups(m, &s), -ENOTSUP);
    int calls = 0;
    sl_metrics_set_groups(m, fake_provider, &calls);
    CHECK_EQ(sl_metrics_groups(m, &s), 0);
    CHECK_EQ(calls, 1);
    CHECK_EQ(s.groups_n, 1);
    sl_gsnap_fini(&s);
    sl_metrics_set_groups(m, NULL, NULL);
    CHECK_EQ(sl_metrics_groups(m, &s), -ENOTSUP);
    sl_metrics_free(m);
}

TEST(metrics_request_counts_by_api_and_version_and_clamps_high_versions)
{
    struct sl_metrics *m;
    CHECK(sl_metrics_new(&m) == 0);
    sl_metrics_request(m, SL_API_Produce, 9, 2000000, 100, 50);
    sl_metrics_request(m, SL_API_Produce, 9, 3000000, 100, 50);
    sl_metrics_request(m, SL_API_Fetch, 500, 1, 1, 1);   /* shares the last slot */
    sl_metrics_request(m, -1, 0, 1, 1, 1);              /* ignored */
    sl_metrics_request(m, SL_API_MAX + 1, 0, 1, 1, 1);  /* ignored */
    struct sl_hist_snap s;
    sl_hist_read(&m->req[SL_API_Produce][9].latency, &s);
    CHECK_EQ(s.count, 2);
    CHECK_EQ(s.sum, 5000000);
    CHECK_EQ(m->req[SL_API_Produce][9].request_bytes, 200);
    CHECK_EQ(m->req[SL_API_Produce][9].response_bytes, 100);
    sl_hist_read(&m->req[SL_API_Fetch][SL_METRICS_VERSIONS - 1].latency, &s);
    CHECK_EQ(s.count, 1);
    sl_metrics_parked(m, SL_PURGATORY_FETCH, 1);
    sl_metrics_parked(m, SL_PURGATORY_FETCH, 1);
    sl_metrics_parked(m, SL_PURGATORY_FETCH, -1);
    CHECK_EQ(m->purgatory[SL_PURGATORY_FETCH], 1);
    sl_metrics_free(m);
}

TEST(proc_stats_read_this_process)
{
    struct sl_proc_stats ps;
    CHECK(sl_metrics_proc(&ps) == 0);
    CHECK(ps.rss_bytes > 0);
    CHECK(ps.open_fds >= 3);
    CHECK(ps.threads >= 1);
    CHECK(ps.cpu_seconds >= 0);
}
