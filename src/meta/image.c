/*
 * image.c - immutable metadata images, their builder and publication.
 *
 * Invariants of a finished image: brokers sorted by id; by_name sorted by
 * name and by_id sorted by id, both holding the same topics; a topic's
 * partitions array is indexed by partition id with no holes.
 *
 * Publication: acquire takes a short mutex to read the pointer and count a
 * reference, so an image is never freed under a reader; no reader ever
 * waits on a writer's work, which happens before the swap.
 */
#include "meta/image.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/diag.h"
#include "security/scram_store.h"
#include "security/acl.h"

static pthread_mutex_t publish_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sl_image *current;

/* --- topics ----------------------------------------------------------- */

static void topic_free(struct sl_image_topic *t)
{
    for (int32_t i = 0; i < t->partitions_n; i++) {
        free(t->partitions[i].replicas);
        free(t->partitions[i].isr);
    }
    for (int32_t i = 0; i < t->configs_n; i++) {
        free(t->configs[i].key);
        free(t->configs[i].value);
    }
    free(t->partitions);
    free(t->configs);
    free(t->name);
    free(t);
}

static void topic_unref(struct sl_image_topic *t)
{
    if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
        topic_free(t);
}

static int32_t *dup_ints(const int32_t *v, int32_t n)
{
    int32_t *c = malloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
    if (c && n > 0)
        memcpy(c, v, sizeof(int32_t) * (size_t)n);
    return c;
}

static int partition_copy(struct sl_image_partition *dst, const struct sl_image_partition *src)
{
    *dst = *src;
    dst->replicas = dup_ints(src->replicas, src->replicas_n);
    dst->isr = dup_ints(src->isr, src->isr_n);
    if (!dst->replicas || !dst->isr) {
        free(dst->replicas);
        free(dst->isr);
        dst->replicas = dst->isr = NULL;
        return -ENOMEM;
    }
    return 0;
}

static int config_copy(struct sl_image_config *dst, const struct sl_image_config *src)
{
    dst->key = strdup(src->key);
    dst->value = strdup(src->value);
    if (!dst->key || !dst->value) {
        free(dst->key);
        free(dst->value);
        return -ENOMEM;
    }
    return 0;
}

/* A private, writable copy of t (refs 1), with room for `partitions` partitions. */
static struct sl_image_topic *topic_clone(const struct sl_image_topic *t, int32_t partitions)
{
    struct sl_image_topic *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->refs = 1;
    c->id = t->id;
    c->name = strdup(t->name);
    int32_t n = partitions > t->partitions_n ? partitions : t->partitions_n;
    c->partitions = calloc((size_t)(n > 0 ? n : 1), sizeof(*c->partitions));
    c->partitions_cap = n > 0 ? n : 1;
    c->configs = calloc((size_t)(t->configs_n > 0 ? t->configs_n : 1), sizeof(*c->configs));
    if (!c->name || !c->partitions || !c->configs)
        goto fail;
    for (int32_t i = 0; i < t->partitions_n; i++) {
        if (partition_copy(&c->partitions[i], &t->partitions[i]) < 0)
            goto fail;
        c->partitions_n = i + 1;
    }
    for (int32_t i = 0; i < t->configs_n; i++) {
        if (config_copy(&c->configs[i], &t->configs[i]) < 0)
            goto fail;
        c->configs_n = i + 1;
    }
    return c;
fail:
    topic_free(c);
    return NULL;
}

/* --- images ----------------------------------------------------------- */

static void image_free(struct sl_image *img)
{
    for (int32_t i = 0; i < img->topics_n; i++)
        topic_unref(img->by_name[i]);
    for (int32_t i = 0; i < img->broker_configs_n; i++) {
        free(img->broker_configs[i].key);
        free(img->broker_configs[i].value);
    }
    free(img->broker_configs);
    sl_scram_set_unref(img->scram);
    sl_acl_set_unref(img->acls);
    free(img->by_name);
    free(img->by_id);
    free(img->brokers);
    free(img);
}

void sl_image_release(struct sl_image *img)
{
    if (img && __atomic_sub_fetch(&img->refs, 1, __ATOMIC_ACQ_REL) == 0)
        image_free(img);
}

void sl_image_publish(struct sl_image *img)
{
    pthread_mutex_lock(&publish_lock);
    struct sl_image *old = current;
    current = img;
    pthread_mutex_unlock(&publish_lock);
    sl_image_release(old);
}

struct sl_image *sl_image_acquire(void)
{
    pthread_mutex_lock(&publish_lock);
    struct sl_image *img = current;
    if (img)
        __atomic_add_fetch(&img->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&publish_lock);
    return img;
}

static int cmp_slice_name(struct sl_slice a, const char *b)
{
    size_t bl = strlen(b);
    size_t n = a.len < bl ? a.len : bl;
    int c = n ? memcmp(a.p, b, n) : 0;
    if (c)
        return c;
    return a.len < bl ? -1 : a.len > bl;
}

static int32_t find_by_name(struct sl_image_topic *const *v, int32_t n, struct sl_slice name,
                            bool *found)
{
    int32_t lo = 0, hi = n;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = cmp_slice_name(name, v[mid]->name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

static int32_t find_by_id(struct sl_image_topic *const *v, int32_t n, const struct sl_uuid *id,
                          bool *found)
{
    int32_t lo = 0, hi = n;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = memcmp(id->b, v[mid]->id.b, 16);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

const struct sl_image_topic *sl_image_topic_by_name(const struct sl_image *img, struct sl_slice name)
{
    bool found;
    int32_t i = find_by_name(img->by_name, img->topics_n, name, &found);
    return found ? img->by_name[i] : NULL;
}

const struct sl_image_topic *sl_image_topic_by_id(const struct sl_image *img, const struct sl_uuid *id)
{
    bool found;
    int32_t i = find_by_id(img->by_id, img->topics_n, id, &found);
    return found ? img->by_id[i] : NULL;
}

const struct sl_image_broker *sl_image_broker(const struct sl_image *img, int32_t id)
{
    for (int32_t i = 0; i < img->brokers_n; i++)
        if (img->brokers[i].id == id)
            return &img->brokers[i];
    return NULL;
}

const char *sl_image_topic_config(const struct sl_image_topic *t, const char *key)
{
    for (int32_t i = 0; i < t->configs_n; i++)
        if (strcmp(t->configs[i].key, key) == 0)
            return t->configs[i].value;
    return NULL;
}

/* --- builder ---------------------------------------------------------- */

struct sl_image_builder {
    struct sl_image *img;   /* being built: topics referenced, arrays owned */
    int32_t topics_cap;     /* capacity of by_name / by_id */
    int32_t brokers_cap;
    bool failed;            /* an allocation failed: finish returns NULL */
};

struct sl_image_builder *sl_image_builder_new(const struct sl_image *base)
{
    struct sl_image_builder *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    struct sl_image *img = calloc(1, sizeof(*img));
    if (!img) {
        free(b);
        return NULL;
    }
    b->img = img;
    img->refs = 1;
    img->offset = -1;
    img->controller_id = -1;
    if (!base)
        return b;
    memcpy(img->cluster_id, base->cluster_id, sizeof(img->cluster_id));
    img->controller_id = base->controller_id;
    img->metadata_version = base->metadata_version;
    img->next_producer_id = base->next_producer_id;
    img->offset = base->offset;
    img->scram = sl_scram_set_ref(base->scram);
    img->acls = sl_acl_set_ref(base->acls);
    b->topics_cap = base->topics_n;
    b->brokers_cap = base->brokers_n;
    img->by_name = calloc((size_t)(b->topics_cap + 1), sizeof(*img->by_name));
    img->by_id = calloc((size_t)(b->topics_cap + 1), sizeof(*img->by_id));
    img->brokers = calloc((size_t)(b->brokers_cap + 1), sizeof(*img->brokers));
    img->broker_configs = calloc((size_t)(base->broker_configs_n + 1), sizeof(*img->broker_configs));
    if (!img->by_name || !img->by_id || !img->brokers || !img->broker_configs)
        goto fail;
    for (int32_t i = 0; i < base->topics_n; i++) {
        img->by_name[i] = base->by_name[i];
        img->by_id[i] = base->by_id[i];
        __atomic_add_fetch(&base->by_name[i]->refs, 1, __ATOMIC_ACQ_REL);
        img->topics_n = i + 1;
    }
    if (base->brokers_n)
        memcpy(img->brokers, base->brokers, sizeof(*img->brokers) * (size_t)base->brokers_n);
    img->brokers_n = base->brokers_n;
    for (int32_t i = 0; i < base->broker_configs_n; i++) {
        if (config_copy(&img->broker_configs[i], &base->broker_configs[i]) < 0)
            goto fail;
        img->broker_configs_n = i + 1;
    }
    return b;
fail:
    sl_image_builder_free(b);
    return NULL;
}

void sl_image_builder_free(struct sl_image_builder *b)
{
    if (!b)
        return;
    image_free(b->img);
    free(b);
}

struct sl_image *sl_image_builder_finish(struct sl_image_builder *b, int64_t offset)
{
    if (b->failed) {
        sl_image_builder_free(b);
        return NULL;
    }
    struct sl_image *img = b->img;
    img->offset = offset;
    free(b);
    return img;
}

int sl_image_set_scram(struct sl_image_builder *b, struct sl_scram_set *set)
{
    sl_scram_set_unref(b->img->scram);
    b->img->scram = set;
    return 0;
}

int sl_image_set_cluster(struct sl_image_builder *b, const char *cluster_id, int32_t controller_id)
{
    if (cluster_id)
        snprintf(b->img->cluster_id, sizeof(b->img->cluster_id), "%s", cluster_id);
    b->img->controller_id = controller_id;
    return 0;
}

int sl_image_set_metadata_version(struct sl_image_builder *b, int16_t level)
{
    b->img->metadata_version = level;
    return 0;
}

int sl_image_set_next_producer_id(struct sl_image_builder *b, int64_t next)
{
    b->img->next_producer_id = next;
    return 0;
}

const struct sl_image *sl_image_builder_peek(const struct sl_image_builder *b) { return b->img; }

struct sl_acl_set **sl_image_builder_acls(struct sl_image_builder *b) { return &b->img->acls; }

int sl_image_put_broker(struct sl_image_builder *b, const struct sl_image_broker *broker)
{
    struct sl_image *img = b->img;
    int32_t i = 0;
    while (i < img->brokers_n && img->brokers[i].id < broker->id)
        i++;
    if (i < img->brokers_n && img->brokers[i].id == broker->id) {
        img->brokers[i] = *broker;
        return 0;
    }
    if (img->brokers_n == b->brokers_cap) {
        int32_t cap = b->brokers_cap * 2 + 4;
        struct sl_image_broker *v = realloc(img->brokers, sizeof(*v) * (size_t)cap);
        if (!v) {
            b->failed = true;
            return -ENOMEM;
        }
        img->brokers = v;
        b->brokers_cap = cap;
    }
    memmove(&img->brokers[i + 1], &img->brokers[i], sizeof(*img->brokers) * (size_t)(img->brokers_n - i));
    img->brokers[i] = *broker;
    img->brokers_n++;
    return 0;
}

int sl_image_fence_broker(struct sl_image_builder *b, int32_t id, bool fenced)
{
    for (int32_t i = 0; i < b->img->brokers_n; i++)
        if (b->img->brokers[i].id == id) {
            b->img->brokers[i].fenced = fenced;
            return 0;
        }
    return -ENOENT;
}

static int grow_topics(struct sl_image_builder *b)
{
    struct sl_image *img = b->img;
    if (img->topics_n < b->topics_cap)
        return 0;
    int32_t cap = b->topics_cap * 2 + 8;
    struct sl_image_topic **n1 = realloc(img->by_name, sizeof(*n1) * (size_t)cap);
    if (!n1)
        return -ENOMEM;
    img->by_name = n1;
    struct sl_image_topic **n2 = realloc(img->by_id, sizeof(*n2) * (size_t)cap);
    if (!n2)
        return -ENOMEM;
    img->by_id = n2;
    b->topics_cap = cap;
    return 0;
}

int sl_image_add_topic(struct sl_image_builder *b, struct sl_slice name, const struct sl_uuid *id)
{
    struct sl_image *img = b->img;
    bool found_name, found_id;
    int32_t ni = find_by_name(img->by_name, img->topics_n, name, &found_name);
    int32_t ii = find_by_id(img->by_id, img->topics_n, id, &found_id);
    if (found_name || found_id)
        return -EEXIST;
    if (grow_topics(b) < 0)
        goto nomem;
    struct sl_image_topic *t = calloc(1, sizeof(*t));
    if (!t)
        goto nomem;
    t->refs = 1;
    t->id = *id;
    t->name = strndup((const char *)name.p, name.len);
    if (!t->name) {
        free(t);
        goto nomem;
    }
    memmove(&img->by_name[ni + 1], &img->by_name[ni], sizeof(t) * (size_t)(img->topics_n - ni));
    img->by_name[ni] = t;
    memmove(&img->by_id[ii + 1], &img->by_id[ii], sizeof(t) * (size_t)(img->topics_n - ii));
    img->by_id[ii] = t;
    img->topics_n++;
    return 0;
nomem:
    b->failed = true;
    return -ENOMEM;
}

int sl_image_remove_topic(struct sl_image_builder *b, const struct sl_uuid *id)
{
    struct sl_image *img = b->img;
    bool found;
    int32_t ii = find_by_id(img->by_id, img->topics_n, id, &found);
    if (!found)
        return -ENOENT;
    struct sl_image_topic *t = img->by_id[ii];
    struct sl_slice name = sl_slice_cstr(t->name);
    int32_t ni = find_by_name(img->by_name, img->topics_n, name, &found);
    SL_ASSERT(found && img->by_name[ni] == t);
    memmove(&img->by_id[ii], &img->by_id[ii + 1], sizeof(t) * (size_t)(img->topics_n - ii - 1));
    memmove(&img->by_name[ni], &img->by_name[ni + 1], sizeof(t) * (size_t)(img->topics_n - ni - 1));
    img->topics_n--;
    topic_unref(t);
    return 0;
}

/* Makes the topic at by_id[ii] private to this builder (copy on write). */
static struct sl_image_topic *own_topic(struct sl_image_builder *b, int32_t ii, int32_t partitions)
{
    struct sl_image *img = b->img;
    struct sl_image_topic *t = img->by_id[ii];
    if (__atomic_load_n(&t->refs, __ATOMIC_ACQUIRE) == 1) {
        /* Already this builder's: grow in place, geometrically, so a topic
         * of n partitions is built in O(n), not O(n^2). */
        if (partitions > t->partitions_cap) {
            int32_t cap = t->partitions_cap * 2 > partitions ? t->partitions_cap * 2 : partitions;
            struct sl_image_partition *np = realloc(t->partitions, sizeof(*np) * (size_t)cap);
            if (!np)
                return NULL;
            memset(np + t->partitions_cap, 0, sizeof(*np) * (size_t)(cap - t->partitions_cap));
            t->partitions = np;
            t->partitions_cap = cap;
        }
        return t;
    }
    struct sl_image_topic *c = topic_clone(t, partitions);
    if (!c)
        return NULL;
    bool found;
    int32_t ni = find_by_name(img->by_name, img->topics_n, sl_slice_cstr(t->name), &found);
    SL_ASSERT(found);
    img->by_name[ni] = c;
    img->by_id[ii] = c;
    topic_unref(t);
    return c;
}

int sl_image_put_partition(struct sl_image_builder *b, const struct sl_uuid *topic_id,
                           const struct sl_image_partition *p)
{
    bool found;
    int32_t ii = find_by_id(b->img->by_id, b->img->topics_n, topic_id, &found);
    if (!found)
        return -ENOENT;
    if (p->id < 0 || p->id > b->img->by_id[ii]->partitions_n)
        return -EINVAL; /* partitions are added in order, without holes */
    struct sl_image_topic *t = own_topic(b, ii, p->id + 1);
    if (!t)
        goto nomem;
    struct sl_image_partition np;
    if (partition_copy(&np, p) < 0)
        goto nomem;
    if (p->id < t->partitions_n) {
        free(t->partitions[p->id].replicas);
        free(t->partitions[p->id].isr);
    } else {
        t->partitions_n = p->id + 1;
    }
    t->partitions[p->id] = np;
    return 0;
nomem:
    b->failed = true;
    return -ENOMEM;
}

/* Sets or deletes key in a sorted config array. */
static int config_put(struct sl_image_config **v, int32_t *n, struct sl_slice key,
                      const struct sl_slice *value)
{
    int32_t i = 0;
    while (i < *n && cmp_slice_name(key, (*v)[i].key) > 0)
        i++;
    bool exists = i < *n && cmp_slice_name(key, (*v)[i].key) == 0;
    if (!value) {
        if (exists) {
            free((*v)[i].key);
            free((*v)[i].value);
            memmove(&(*v)[i], &(*v)[i + 1], sizeof(**v) * (size_t)(*n - i - 1));
            (*n)--;
        }
        return 0;
    }
    char *val = strndup(value->p ? (const char *)value->p : "", value->len);
    if (!val)
        return -ENOMEM;
    if (exists) {
        free((*v)[i].value);
        (*v)[i].value = val;
        return 0;
    }
    char *k = strndup((const char *)key.p, key.len);
    struct sl_image_config *nv = realloc(*v, sizeof(**v) * (size_t)(*n + 1));
    if (!k || !nv) {
        free(k);
        free(val);
        if (nv)
            *v = nv;
        return -ENOMEM;
    }
    *v = nv;
    memmove(&nv[i + 1], &nv[i], sizeof(*nv) * (size_t)(*n - i));
    nv[i].key = k;
    nv[i].value = val;
    (*n)++;
    return 0;
}

int sl_image_set_config(struct sl_image_builder *b, int8_t type, struct sl_slice name,
                        struct sl_slice key, const struct sl_slice *value)
{
    int rc;
    if (type == 2) { /* TOPIC */
        bool found;
        int32_t ni = find_by_name(b->img->by_name, b->img->topics_n, name, &found);
        if (!found)
            return -ENOENT;
        bool found_id;
        int32_t ii = find_by_id(b->img->by_id, b->img->topics_n, &b->img->by_name[ni]->id, &found_id);
        struct sl_image_topic *t = own_topic(b, ii, 0);
        if (!t)
            goto nomem;
        rc = config_put(&t->configs, &t->configs_n, key, value);
    } else if (type == 4) { /* BROKER: stored as "<name>:<key>", name "" = <default> */
        char full[512];
        int n = snprintf(full, sizeof(full), "%.*s:%.*s", SL_SLICE_FMT(name), SL_SLICE_FMT(key));
        if (n < 0 || (size_t)n >= sizeof(full))
            return -EINVAL;
        rc = config_put(&b->img->broker_configs, &b->img->broker_configs_n,
                        (struct sl_slice){(const uint8_t *)full, (size_t)n}, value);
    } else {
        return -EINVAL;
    }
    if (rc == -ENOMEM)
        goto nomem;
    return rc;
nomem:
    b->failed = true;
    return -ENOMEM;
}

/* --- uuids ------------------------------------------------------------ */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void sl_uuid_to_base64(const struct sl_uuid *u, char out[23])
{
    int o = 0;
    for (int i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)u->b[i] << 16;
        if (i + 1 < 16)
            v |= (uint32_t)u->b[i + 1] << 8;
        if (i + 2 < 16)
            v |= u->b[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < 16)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < 16)
            out[o++] = b64url[v & 63];
    }
    out[o] = 0;
}

static int b64val(char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    if (!p && c == '+')
        return 62;
    if (!p && c == '/')
        return 63;
    return p ? (int)(p - b64url) : -1;
}

int sl_uuid_from_base64(const char *s, struct sl_uuid *u)
{
    size_t len = strlen(s);
    while (len && s[len - 1] == '=')
        len--;
    if (len != 22)
        return -EINVAL;
    uint8_t out[18] = {0};
    int o = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        int k;
        for (k = 0; k < 4; k++) {
            int x = i + (size_t)k < len ? b64val(s[i + (size_t)k]) : 0;
            if (x < 0)
                return -EINVAL;
            v = (v << 6) | (uint32_t)x;
        }
        out[o++] = (uint8_t)(v >> 16);
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)v;
    }
    memcpy(u->b, out, 16);
    return 0;
}

void sl_uuid_random(struct sl_uuid *u)
{
    do {
        size_t got = 0;
        while (got < 16) {
            ssize_t r = getrandom(u->b + got, 16 - got, 0);
            if (r > 0)
                got += (size_t)r;
        }
        u->b[6] = (uint8_t)((u->b[6] & 0x0f) | 0x40); /* version 4 */
        u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80);
    } while (u->b[0] == 0 && u->b[1] == 0); /* Kafka reserves ids starting with zeros */
}
