/*
 * gsnap.h - a snapshot of consumer groups for /metrics (group counts by
 * state, consumer lag) and the /v1/groups admin API.
 *
 * The group coordinator owns its state on its own thread; the HTTP thread
 * never reads it directly. Instead the coordinator registers a provider
 * (sl_metrics_set_groups in metrics.h) that fills a snapshot on request:
 * typically by posting to the coordinator thread, copying each group with
 * the builder calls below, and signalling the waiting HTTP thread. Strings
 * are copied, so the snapshot outlives any change to the groups.
 *
 * Lag is not in the snapshot: the HTTP side computes it as the partition's
 * high watermark minus the committed offset, at scrape time.
 */
#ifndef SL_METRICS_GSNAP_H
#define SL_METRICS_GSNAP_H

#include <stdint.h>

#include "base/slice.h"

struct sl_gsnap_offset {
    char *topic;               /* owned */
    int32_t partition;
    int64_t committed;         /* committed offset */
};

struct sl_gsnap_member {
    char *member_id;           /* owned */
    char *client_id;           /* owned */
    char *client_host;         /* owned */
};

struct sl_gsnap_group {
    char *id;                  /* group id; owned */
    char *state;               /* Kafka's name: Empty, Stable, PreparingRebalance, ...; owned */
    char *protocol_type;       /* "consumer", "" for offsets-only groups; owned */
    char *protocol;            /* assignor chosen, "" when none; owned */
    int32_t generation;        /* generation id, -1 none */
    int32_t members_n, members_cap;
    struct sl_gsnap_member *members;
    int32_t offsets_n, offsets_cap;
    struct sl_gsnap_offset *offsets;
};

struct sl_gsnap {
    int32_t groups_n, groups_cap;
    struct sl_gsnap_group *groups;
};

/* Filled by a provider; ctx is the provider's. 0 or -errno. Runs on an HTTP
 * thread: it may block briefly (ask its own thread and wait), never on I/O. */
typedef int (*sl_gsnap_fn)(void *ctx, struct sl_gsnap *snap);

void sl_gsnap_init(struct sl_gsnap *snap);
void sl_gsnap_fini(struct sl_gsnap *snap);

/* Builders: copy every string; NULL / -ENOMEM when out of memory. The
 * returned group stays valid until the next sl_gsnap_add_group. */
struct sl_gsnap_group *sl_gsnap_add_group(struct sl_gsnap *snap, struct sl_slice id, const char *state,
                                          struct sl_slice protocol_type, struct sl_slice protocol,
                                          int32_t generation);
int sl_gsnap_add_member(struct sl_gsnap_group *g, struct sl_slice member_id, struct sl_slice client_id,
                        struct sl_slice client_host);
int sl_gsnap_add_offset(struct sl_gsnap_group *g, struct sl_slice topic, int32_t partition,
                        int64_t committed);

#endif
