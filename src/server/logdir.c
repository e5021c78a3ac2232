/*
 * logdir.c - meta.properties: read, check, or create it atomically.
 */
#include "server/logdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "meta/image.h"
#include "storage/checkpoint.h"

static int mkdir_p(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Finds "key=value" in a properties text; copies the value. */
static int prop_get(const char *text, const char *key, char *out, size_t outlen)
{
    size_t kl = strlen(key);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, kl) == 0 && line[kl] == '=') {
            const char *v = line + kl + 1;
            size_t n = strcspn(v, "\r\n");
            snprintf(out, outlen, "%.*s", (int)n, v);
            return 0;
        }
    }
    return -ENOENT;
}

int sl_logdir_prepare(const char *dir, int32_t node_id, const char *want_cluster_id,
                      char cluster_id_out[32], char *err, size_t errlen)
{
    int rc = mkdir_p(dir);
    if (rc < 0) {
        snprintf(err, errlen, "cannot create log directory %s: %s", dir, strerror(-rc));
        return rc;
    }
    char path[1100];
    snprintf(path, sizeof(path), "%s/meta.properties", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char text[4096];
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = 0;
        char cid[64], nid[32];
        if (prop_get(text, "cluster.id", cid, sizeof(cid)) < 0 || prop_get(text, "node.id", nid, sizeof(nid)) < 0) {
            snprintf(err, errlen, "%s lacks cluster.id or node.id; refusing to guess", path);
            return -EINVAL;
        }
        if (atoi(nid) != node_id) {
            snprintf(err, errlen, "%s belongs to node.id %s, but this node is %d", path, nid, node_id);
            return -EINVAL;
        }
        if (want_cluster_id && want_cluster_id[0] && strcmp(want_cluster_id, cid) != 0) {
            snprintf(err, errlen, "%s belongs to cluster %s, but cluster.id is %s", path, cid, want_cluster_id);
            return -EINVAL;
        }
        if (strlen(cid) >= 32) {
            snprintf(err, errlen, "%s has a cluster.id longer than 31 characters", path);
            return -EINVAL;
        }
        memcpy(cluster_id_out, cid, strlen(cid) + 1);
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -errno;
    }
    struct sl_uuid u, dirid;
    if (want_cluster_id && want_cluster_id[0]) {
        if (sl_uuid_from_base64(want_cluster_id, &u) < 0) {
            snprintf(err, errlen, "invalid value '%s' for cluster.id: expected 22 base64url characters (a UUID)",
                     want_cluster_id);
            return -EINVAL;
        }
    } else {
        sl_uuid_random(&u);
    }
    sl_uuid_random(&dirid);
    char cid[32], did[23];
    sl_uuid_to_base64(&u, cid);
    if (want_cluster_id && want_cluster_id[0]) /* kept as given, as Kafka does */
        snprintf(cid, sizeof(cid), "%.22s", want_cluster_id);
    sl_uuid_to_base64(&dirid, did);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof(when), "%a %b %d %H:%M:%S UTC %Y", gmtime(&now));
    char text[512];
    snprintf(text, sizeof(text), "#\n#%s\ncluster.id=%s\ndirectory.id=%s\nnode.id=%d\nversion=1\n", when, cid, did,
             node_id);
    if ((rc = sl_ckpt_write_atomic(path, text, strlen(text))) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
        return rc;
    }
    snprintf(cluster_id_out, 32, "%s", cid);
    return 0;
}
