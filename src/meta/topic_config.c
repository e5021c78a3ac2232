/*
 * topic_config.c - the topic configuration table and its checks.
 */
#include "meta/topic_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LMAX INT64_MAX
#define IMAX INT32_MAX

static const struct sl_topic_config_key keys[] = {
    {"cleanup.policy", SL_CONF_LIST, "log.cleanup.policy", NULL, 0, 0, "delete,compact",
     "Retention policy for old log segments: delete, compact or both."},
    {"compression.type", SL_CONF_STRING, "compression.type", NULL, 0, 0,
     "uncompressed,zstd,lz4,snappy,gzip,producer", "Final compression type of the topic's batches."},
    {"delete.retention.ms", SL_CONF_LONG, "log.cleaner.delete.retention.ms", NULL, 0, LMAX, NULL,
     "How long tombstones are kept in compacted topics."},
    {"file.delete.delay.ms", SL_CONF_LONG, "log.segment.delete.delay.ms", NULL, 0, LMAX, NULL,
     "Time to wait before deleting a file from the filesystem."},
    {"flush.messages", SL_CONF_LONG, "log.flush.interval.messages", NULL, 1, LMAX, NULL,
     "Messages accumulated before the log is synced."},
    {"flush.ms", SL_CONF_LONG, "log.flush.interval.ms", NULL, 0, LMAX, NULL,
     "Time between syncs of the log."},
    {"follower.replication.throttled.replicas", SL_CONF_LIST, NULL, "", 0, 0, NULL,
     "Replicas whose follower replication is throttled."},
    {"index.interval.bytes", SL_CONF_INT, "log.index.interval.bytes", NULL, 0, IMAX, NULL,
     "Bytes between offset index entries."},
    {"leader.replication.throttled.replicas", SL_CONF_LIST, NULL, "", 0, 0, NULL,
     "Replicas whose leader replication is throttled."},
    {"local.retention.bytes", SL_CONF_LONG, "log.local.retention.bytes", NULL, -2, LMAX, NULL,
     "Local log size kept before tiered storage takes over."},
    {"local.retention.ms", SL_CONF_LONG, "log.local.retention.ms", NULL, -2, LMAX, NULL,
     "Local log age kept before tiered storage takes over."},
    {"max.compaction.lag.ms", SL_CONF_LONG, "log.cleaner.max.compaction.lag.ms", NULL, 1, LMAX, NULL,
     "Longest time a message stays ineligible for compaction."},
    {"max.message.bytes", SL_CONF_INT, "message.max.bytes", NULL, 0, IMAX, NULL,
     "Largest record batch size allowed."},
    {"message.downconversion.enable", SL_CONF_BOOLEAN, NULL, "true", 0, 0, NULL,
     "Accepted for compatibility; Sluice never down-converts."},
    {"message.format.version", SL_CONF_STRING, NULL, "3.0-IV1", 0, 0, NULL,
     "Deprecated: record batches are always magic 2."},
    {"message.timestamp.after.max.ms", SL_CONF_LONG, "log.message.timestamp.after.max.ms", NULL, 0, LMAX, NULL,
     "Largest allowed timestamp ahead of the broker's clock."},
    {"message.timestamp.before.max.ms", SL_CONF_LONG, "log.message.timestamp.before.max.ms", NULL, 0, LMAX,
     NULL, "Largest allowed timestamp behind the broker's clock."},
    {"message.timestamp.difference.max.ms", SL_CONF_LONG, NULL, "9223372036854775807", 0,
     LMAX, NULL, "Deprecated: see message.timestamp.before/after.max.ms."},
    {"message.timestamp.type", SL_CONF_STRING, "log.message.timestamp.type", NULL, 0, 0,
     "CreateTime,LogAppendTime", "Whether record timestamps are the producer's or the broker's."},
    {"min.cleanable.dirty.ratio", SL_CONF_DOUBLE, "log.cleaner.min.cleanable.ratio", NULL, 0, 1, NULL,
     "Dirty share of the log that makes it eligible for cleaning."},
    {"min.compaction.lag.ms", SL_CONF_LONG, "log.cleaner.min.compaction.lag.ms", NULL, 0, LMAX, NULL,
     "Shortest time a message stays uncompacted."},
    {"min.insync.replicas", SL_CONF_INT, "min.insync.replicas", NULL, 1, IMAX, NULL,
     "Replicas that must acknowledge an acks=all write."},
    {"preallocate", SL_CONF_BOOLEAN, "log.preallocate", NULL, 0, 0, NULL,
     "Preallocate segment files."},
    {"remote.storage.enable", SL_CONF_BOOLEAN, NULL, "false", 0, 0, NULL,
     "Tiered storage for this topic."},
    {"retention.bytes", SL_CONF_LONG, "log.retention.bytes", NULL, INT64_MIN, LMAX, NULL,
     "Largest size of a partition before old segments are deleted; -1 = no limit."},
    {"retention.ms", SL_CONF_LONG, "log.retention.ms", NULL, -1, LMAX, NULL,
     "Longest time a segment is kept; -1 = forever."},
    {"segment.bytes", SL_CONF_INT, "log.segment.bytes", NULL, 14, IMAX, NULL,
     "Segment file size."},
    {"segment.index.bytes", SL_CONF_INT, "log.index.size.max.bytes", NULL, 4, IMAX, NULL,
     "Offset index file size."},
    {"segment.jitter.ms", SL_CONF_LONG, "log.roll.jitter.ms", NULL, 0, LMAX, NULL,
     "Random jitter subtracted from segment.ms."},
    {"segment.ms", SL_CONF_LONG, "log.roll.ms", NULL, 1, LMAX, NULL,
     "Time after which a segment is rolled even if not full."},
    {"unclean.leader.election.enable", SL_CONF_BOOLEAN, "unclean.leader.election.enable", NULL, 0, 0, NULL,
     "Allow out-of-sync replicas to become leader."},
};

const struct sl_topic_config_key *sl_topic_config_keys(size_t *n)
{
    *n = sizeof(keys) / sizeof(keys[0]);
    return keys;
}

const struct sl_topic_config_key *sl_topic_config_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
            return &keys[i];
    return NULL;
}

static bool in_list(const char *allowed, const char *v, size_t len)
{
    const char *p = allowed;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == len && strncasecmp(p, v, len) == 0)
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

int sl_topic_config_check(const char *name, size_t name_len, const char *value, size_t value_len,
                          char *err, size_t errlen)
{
    const struct sl_topic_config_key *k = sl_topic_config_find(name, name_len);
    if (!k) {
        snprintf(err, errlen, "Unknown topic config name: %.*s", (int)name_len, name);
        return -ENOENT;
    }
    char v[512];
    if (value_len >= sizeof(v))
        goto bad;
    memcpy(v, value, value_len);
    v[value_len] = 0;
    char *end;
    switch (k->type) {
    case SL_CONF_BOOLEAN:
        if (strcasecmp(v, "true") != 0 && strcasecmp(v, "false") != 0)
            goto bad;
        return 0;
    case SL_CONF_INT:
    case SL_CONF_SHORT:
    case SL_CONF_LONG: {
        if (!v[0])
            goto bad;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || *end || x < k->min || x > k->max)
            goto bad;
        return 0;
    }
    case SL_CONF_DOUBLE: {
        if (!v[0])
            goto bad;
        double d = strtod(v, &end);
        if (*end || d < (double)k->min || d > (double)k->max)
            goto bad;
        return 0;
    }
    case SL_CONF_LIST:
        if (!k->allowed)
            return 0;
        for (const char *p = v; *p;) {
            while (*p == ' ')
                p++;
            size_t n = strcspn(p, ",");
            size_t t = n;
            while (t && p[t - 1] == ' ')
                t--;
            if (!in_list(k->allowed, p, t))
                goto bad;
            p += n;
            if (*p == ',')
                p++;
        }
        return 0;
    default:
        if (k->allowed && !in_list(k->allowed, v, strlen(v)))
            goto bad;
        return 0;
    }
bad:
    if (k->allowed)
        snprintf(err, errlen, "Invalid value %.*s for configuration %s: String must be one of: %s",
                 (int)(value_len > 200 ? 200 : value_len), value, k->name, k->allowed);
    else if (k->type == SL_CONF_BOOLEAN)
        snprintf(err, errlen, "Invalid value %.*s for configuration %s: Expected value to be either true or false",
                 (int)(value_len > 200 ? 200 : value_len), value, k->name);
    else
        snprintf(err, errlen, "Invalid value %.*s for configuration %s: expected a number in [%lld, %lld]",
                 (int)(value_len > 200 ? 200 : value_len), value, k->name, (long long)k->min, (long long)k->max);
    return -EINVAL;
}

int sl_topic_config_default(const struct sl_conf *conf, const struct sl_topic_config_key *k, char *out,
                            size_t outlen)
{
    if (k->broker_key) {
        int rc = sl_conf_get_string(conf, k->broker_key, out, outlen);
        if (rc >= 0)
            return 0;
    }
    snprintf(out, outlen, "%s", k->dflt ? k->dflt : "");
    return 0;
}
