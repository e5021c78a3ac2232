/* test_image.c - tests for src/meta/image.c */
#include "testlib.h"

#include <errno.h>

#include "meta/image.h"

static struct sl_uuid uuid_n(uint8_t n)
{
    struct sl_uuid u = {{0}};
    u.b[0] = 0x10;
    u.b[15] = n;
    return u;
}

static void add_topic(struct sl_image_builder *b, const char *name, uint8_t id, int parts)
{
    struct sl_uuid u = uuid_n(id);
    CHECK_EQ(sl_image_add_topic(b, sl_slice_cstr(name), &u), 0);
    for (int i = 0; i < parts; i++) {
        int32_t reps[1] = {1};
        struct sl_image_partition p = {.id = i, .leader = 1, .leader_epoch = 0, .replicas_n = 1,
                                       .isr_n = 1, .replicas = reps, .isr = reps};
        CHECK_EQ(sl_image_put_partition(b, &u, &p), 0);
    }
}

TEST(topics_are_found_by_name_and_id)
{
    struct sl_image_builder *b = sl_image_builder_new(NULL);
    add_topic(b, "zeta", 3, 2);
    add_topic(b, "alpha", 9, 1);
    add_topic(b, "mid", 1, 3);
    struct sl_uuid dup = uuid_n(1);
    CHECK_EQ(sl_image_add_topic(b, sl_slice_cstr("other"), &dup), -EEXIST);
    struct sl_image *img = sl_image_builder_finish(b, 7);
    CHECK_EQ(img->topics_n, 3);
    CHECK(strcmp(img->by_name[0]->name, "alpha") == 0);
    CHECK(strcmp(img->by_name[2]->name, "zeta") == 0);
    const struct sl_image_topic *t = sl_image_topic_by_name(img, sl_slice_cstr("mid"));
    CHECK(t && t->partitions_n == 3);
    struct sl_uuid u9 = uuid_n(9);
    CHECK(sl_image_topic_by_id(img, &u9) == sl_image_topic_by_name(img, sl_slice_cstr("alpha")));
    CHECK(sl_image_topic_by_name(img, sl_slice_cstr("nope")) == NULL);
    CHECK_EQ(img->offset, 7);
    sl_image_release(img);
}

TEST(next_image_shares_unchanged_topics_and_copies_changed_ones)
{
    struct sl_image_builder *b = sl_image_builder_new(NULL);
    add_topic(b, "a", 1, 1);
    add_topic(b, "b", 2, 1);
    struct sl_image *one = sl_image_builder_finish(b, 1);

    b = sl_image_builder_new(one);
    struct sl_uuid ub = uuid_n(2);
    int32_t reps[1] = {1};
    struct sl_image_partition p = {.id = 1, .leader = 1, .replicas_n = 1, .isr_n = 1, .replicas = reps, .isr = reps};
    CHECK_EQ(sl_image_put_partition(b, &ub, &p), 0);
    struct sl_slice v = sl_slice_cstr("compact");
    CHECK_EQ(sl_image_set_config(b, 2, sl_slice_cstr("b"), sl_slice_cstr("cleanup.policy"), &v), 0);
    struct sl_image *two = sl_image_builder_finish(b, 2);

    const struct sl_image_topic *a1 = sl_image_topic_by_name(one, sl_slice_cstr("a"));
    const struct sl_image_topic *a2 = sl_image_topic_by_name(two, sl_slice_cstr("a"));
    CHECK(a1 == a2);
    const struct sl_image_topic *b1 = sl_image_topic_by_name(one, sl_slice_cstr("b"));
    const struct sl_image_topic *b2 = sl_image_topic_by_name(two, sl_slice_cstr("b"));
    CHECK(b1 != b2);
    CHECK_EQ(b1->partitions_n, 1);
    CHECK_EQ(b2->partitions_n, 2);
    CHECK(sl_image_topic_config(b1, "cleanup.policy") == NULL);
    CHECK(strcmp(sl_image_topic_config(b2, "cleanup.policy"), "compact") == 0);
    sl_image_release(one);
    CHECK_EQ(sl_image_topic_by_name(two, sl_slice_cstr("a"))->partitions_n, 1);
    sl_image_release(two);
}

TEST(removed_topic_disappears_from_both_indexes)
{
    struct sl_image_builder *b = sl_image_builder_new(NULL);
    add_topic(b, "a", 1, 1);
    add_topic(b, "b", 2, 1);
    struct sl_uuid ua = uuid_n(1);
    CHECK_EQ(sl_image_remove_topic(b, &ua), 0);
    CHECK_EQ(sl_image_remove_topic(b, &ua), -ENOENT);
    struct sl_image *img = sl_image_builder_finish(b, 3);
    CHECK_EQ(img->topics_n, 1);
    CHECK(sl_image_topic_by_id(img, &ua) == NULL);
    CHECK(sl_image_topic_by_name(img, sl_slice_cstr("a")) == NULL);
    sl_image_release(img);
}

TEST(published_image_outlives_publication_while_held)
{
    struct sl_image_builder *b = sl_image_builder_new(NULL);
    sl_image_set_cluster(b, "abc", 1);
    sl_image_publish(sl_image_builder_finish(b, 0));
    struct sl_image *held = sl_image_acquire();
    b = sl_image_builder_new(held);
    sl_image_set_cluster(b, "def", 1);
    sl_image_publish(sl_image_builder_finish(b, 1));
    CHECK(strcmp(held->cluster_id, "abc") == 0);
    struct sl_image *now = sl_image_acquire();
    CHECK(strcmp(now->cluster_id, "def") == 0);
    sl_image_release(held);
    sl_image_release(now);
    sl_image_publish(NULL);
}

TEST(uuid_base64_round_trips_as_kafka_prints_it)
{
    struct sl_uuid u;
    for (int i = 0; i < 100; i++) {
        sl_uuid_random(&u);
        char s[23];
        sl_uuid_to_base64(&u, s);
        CHECK_EQ(strlen(s), 22);
        struct sl_uuid back;
        CHECK_EQ(sl_uuid_from_base64(s, &back), 0);
        CHECK_MEM(back.b, u.b, 16);
    }
    /* Kafka's Uuid.toString of 00000000-0000-0001-0000-000000000001 */
    struct sl_uuid one = {{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}};
    char s[23];
    sl_uuid_to_base64(&one, s);
    CHECK(strcmp(s, "AAAAAAAAAAEAAAAAAAAAAQ") == 0);
    CHECK(sl_uuid_from_base64("short", &u) < 0);
    CHECK(sl_uuid_from_base64("AAAAAAAAAAEAAAAAAAA*AQ", &u) < 0);
}
