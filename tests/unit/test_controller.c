/* test_controller.c - tests for src/meta/controller.c, metalog.c, apply.c and ctl_topics.c */
#include "testlib.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include "broker/broker.h"
#include "conf/conf.h"
#include "meta/controller.h"
#include "meta/ctl_topics.h"
#include "meta/image.h"
#include "proto/gen/errors.h"

static char dir[64];
static struct sl_conf conf;
static struct sl_broker broker;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes the test's directory when the test process exits. */
static void cleanup(void)
{
    if (dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    atexit(cleanup);
    snprintf(dir, sizeof(dir), "/tmp/sl-ctl-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    sl_conf_defaults(&conf);
    broker.conf = &conf;
    broker.node_id = conf.node_id;
    broker.listeners_n = 1;
    snprintf(broker.listeners[0].name, sizeof(broker.listeners[0].name), "PLAINTEXT");
    snprintf(broker.listeners[0].adv_host, sizeof(broker.listeners[0].adv_host), "127.0.0.1");
    broker.listeners[0].adv_port = 19092;
}

static struct sl_controller *open_ctl(void)
{
    struct sl_controller *ctl = NULL;
    char err[256];
    int rc = sl_controller_open(&conf, dir, "AAAAAAAAAAEAAAAAAAAAAQ", &broker, &ctl, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "open: %s\n", err);
    CHECK_EQ(rc, 0);
    return ctl;
}

struct create_arg {
    const char *name;
    int32_t partitions;
    int16_t rf;
    struct sl_topic_result res;
};

static void create_op(struct sl_controller *ctl, void *arg)
{
    struct create_arg *c = arg;
    struct sl_topic_spec spec = {.name = sl_slice_cstr(c->name), .partitions = c->partitions,
                                 .replication_factor = c->rf};
    sl_ctl_create_topic(ctl, &spec, false, &c->res);
}

/* Runs an operation on the controller thread and waits for it: a second,
 * empty write-sync queued behind it returns only after it ran. */
static void run_op(struct sl_controller *ctl, void (*fn)(struct sl_controller *, void *), void *arg)
{
    sl_controller_submit(ctl, fn, arg);
    CHECK_EQ(sl_controller_write_sync(ctl, NULL, 0), 0);
}

TEST(registration_and_topics_survive_a_restart)
{
    setup();
    struct sl_controller *ctl = open_ctl();
    char err[256];
    CHECK_EQ(sl_controller_register_broker(ctl, err, sizeof(err)), 0);
    struct create_arg c = {"orders", 3, 1, {0}};
    run_op(ctl, create_op, &c);
    CHECK_EQ(c.res.error, 0);
    CHECK_EQ(c.res.partitions, 3);
    struct sl_image *img = sl_image_acquire();
    const struct sl_image_topic *t = sl_image_topic_by_name(img, sl_slice_cstr("orders"));
    CHECK(t != NULL);
    CHECK_EQ(t->partitions_n, 3);
    CHECK_EQ(t->partitions[2].leader, conf.node_id);
    struct sl_uuid id = t->id;
    sl_image_release(img);
    sl_controller_close(ctl);

    ctl = open_ctl();
    img = sl_image_acquire();
    t = sl_image_topic_by_name(img, sl_slice_cstr("orders"));
    CHECK(t != NULL);
    CHECK_MEM(t->id.b, id.b, 16);
    CHECK_EQ(t->partitions_n, 3);
    const struct sl_image_broker *b = sl_image_broker(img, conf.node_id);
    CHECK(b != NULL);
    CHECK_EQ(b->endpoints[0].port, 19092);
    CHECK(img->metadata_version > 0);
    sl_image_release(img);
    sl_controller_close(ctl);
    sl_image_publish(NULL);
}

TEST(create_refuses_what_kafka_refuses)
{
    setup();
    struct sl_controller *ctl = open_ctl();
    char err[256];
    CHECK_EQ(sl_controller_register_broker(ctl, err, sizeof(err)), 0);
    struct create_arg ok = {"a.b", 1, -1, {0}};
    run_op(ctl, create_op, &ok);
    CHECK_EQ(ok.res.error, 0);
    struct create_arg cases[] = {
        {"a.b", 1, 1, {0}},      /* exists */
        {"a_b", 1, 1, {0}},      /* collides with a.b */
        {"bad name", 1, 1, {0}}, /* illegal character */
        {"x", 0, 1, {0}},        /* no partitions */
        {"y", 1, 3, {0}},        /* more replicas than brokers */
    };
    int16_t want[] = {SL_KERR_TOPIC_ALREADY_EXISTS, SL_KERR_INVALID_TOPIC_EXCEPTION,
                      SL_KERR_INVALID_TOPIC_EXCEPTION, SL_KERR_INVALID_PARTITIONS,
                      SL_KERR_INVALID_REPLICATION_FACTOR};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_op(ctl, create_op, &cases[i]);
        CHECK_EQ(cases[i].res.error, want[i]);
        CHECK(cases[i].res.message[0] != 0);
    }
    struct sl_image *img = sl_image_acquire();
    CHECK_EQ(img->topics_n, 1);
    sl_image_release(img);
    sl_controller_close(ctl);
    sl_image_publish(NULL);
}

TEST(torn_tail_of_metadata_log_drops_only_that_change)
{
    setup();
    struct sl_controller *ctl = open_ctl();
    char err[256];
    CHECK_EQ(sl_controller_register_broker(ctl, err, sizeof(err)), 0);
    struct create_arg c = {"t", 1, 1, {0}};
    run_op(ctl, create_op, &c);
    sl_controller_close(ctl);
    /* Flip a byte inside the last batch's records (past its 61-byte header). */
    char seg[256];
    snprintf(seg, sizeof(seg), "%s/__cluster_metadata-0/00000000000000000000.log", dir);
    FILE *f = fopen(seg, "r+b");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size - 5, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, size - 5, SEEK_SET);
    fputc(ch ^ 0xff, f);
    fclose(f);
    /* Unclean marker removal forces a CRC scan; the broken batch is a torn
     * tail and is dropped, so the topic is gone but start-up succeeds. */
    char marker[256];
    snprintf(marker, sizeof(marker), "%s/__cluster_metadata-0/.sluice_cleanshutdown", dir);
    unlink(marker);
    ctl = open_ctl();
    struct sl_image *img = sl_image_acquire();
    CHECK(sl_image_topic_by_name(img, sl_slice_cstr("t")) == NULL);
    CHECK(sl_image_broker(img, conf.node_id) != NULL);
    sl_image_release(img);
    sl_controller_close(ctl);
    sl_image_publish(NULL);
}

TEST(writes_after_a_restart_continue_the_log)
{
    setup();
    struct sl_controller *ctl = open_ctl();
    char err[256];
    CHECK_EQ(sl_controller_register_broker(ctl, err, sizeof(err)), 0);
    struct create_arg a = {"one", 1, 1, {0}};
    run_op(ctl, create_op, &a);
    CHECK_EQ(a.res.error, 0);
    sl_controller_close(ctl);
    ctl = open_ctl();
    struct sl_image *img = sl_image_acquire();
    int64_t before = img->offset;
    CHECK(before >= 2);
    sl_image_release(img);
    CHECK_EQ(sl_controller_register_broker(ctl, err, sizeof(err)), 0);
    struct create_arg b = {"two", 2, 1, {0}};
    run_op(ctl, create_op, &b);
    CHECK_EQ(b.res.error, 0);
    img = sl_image_acquire();
    CHECK(img->offset > before);
    CHECK(sl_image_topic_by_name(img, sl_slice_cstr("one")) != NULL);
    CHECK(sl_image_topic_by_name(img, sl_slice_cstr("two")) != NULL);
    sl_image_release(img);
    sl_controller_close(ctl);
    sl_image_publish(NULL);
}
