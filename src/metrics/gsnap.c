/*
 * gsnap.c - building and freeing group snapshots (see gsnap.h).
 */
#include "metrics/gsnap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sl_gsnap_init(struct sl_gsnap *snap) { *snap = (struct sl_gsnap){0}; }

static char *dup_slice(struct sl_slice s)
{
    char *p = malloc(s.len + 1);
    if (p) {
        if (s.len)
            memcpy(p, s.p, s.len);
        p[s.len] = 0;
    }
    return p;
}

/* Grows *v (elements of size sz) to hold n + 1. */
static int grow(void **v, int32_t *cap, int32_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    int32_t nc = *cap ? *cap * 2 : 8;
    void *nv = realloc(*v, (size_t)nc * sz);
    if (!nv)
        return -ENOMEM;
    *v = nv;
    *cap = nc;
    return 0;
}

struct sl_gsnap_group *sl_gsnap_add_group(struct sl_gsnap *snap, struct sl_slice id, const char *state,
                                          struct sl_slice protocol_type, struct sl_slice protocol,
                                          int32_t generation)
{
    if (grow((void **)&snap->groups, &snap->groups_cap, snap->groups_n, sizeof(*snap->groups)) < 0)
        return NULL;
    struct sl_gsnap_group *g = &snap->groups[snap->groups_n];
    *g = (struct sl_gsnap_group){0};
    g->id = dup_slice(id);
    g->state = dup_slice(sl_slice_cstr(state ? state : ""));
    g->protocol_type = dup_slice(protocol_type);
    g->protocol = dup_slice(protocol);
    g->generation = generation;
    if (!g->id || !g->state || !g->protocol_type || !g->protocol) {
        free(g->id);
        free(g->state);
        free(g->protocol_type);
        free(g->protocol);
        return NULL;
    }
    snap->groups_n++;
    return g;
}

int sl_gsnap_add_member(struct sl_gsnap_group *g, struct sl_slice member_id, struct sl_slice client_id,
                        struct sl_slice client_host)
{
    if (grow((void **)&g->members, &g->members_cap, g->members_n, sizeof(*g->members)) < 0)
        return -ENOMEM;
    struct sl_gsnap_member *m = &g->members[g->members_n];
    m->member_id = dup_slice(member_id);
    m->client_id = dup_slice(client_id);
    m->client_host = dup_slice(client_host);
    if (!m->member_id || !m->client_id || !m->client_host) {
        free(m->member_id);
        free(m->client_id);
        free(m->client_host);
        return -ENOMEM;
    }
    g->members_n++;
    return 0;
}

int sl_gsnap_add_offset(struct sl_gsnap_group *g, struct sl_slice topic, int32_t partition,
                        int64_t committed)
{
    if (grow((void **)&g->offsets, &g->offsets_cap, g->offsets_n, sizeof(*g->offsets)) < 0)
        return -ENOMEM;
    struct sl_gsnap_offset *o = &g->offsets[g->offsets_n];
    if (!(o->topic = dup_slice(topic)))
        return -ENOMEM;
    o->partition = partition;
    o->committed = committed;
    g->offsets_n++;
    return 0;
}

void sl_gsnap_fini(struct sl_gsnap *snap)
{
    for (int32_t i = 0; i < snap->groups_n; i++) {
        struct sl_gsnap_group *g = &snap->groups[i];
        for (int32_t j = 0; j < g->members_n; j++) {
            free(g->members[j].member_id);
            free(g->members[j].client_id);
            free(g->members[j].client_host);
        }
        for (int32_t j = 0; j < g->offsets_n; j++)
            free(g->offsets[j].topic);
        free(g->members);
        free(g->offsets);
        free(g->id);
        free(g->state);
        free(g->protocol_type);
        free(g->protocol);
    }
    free(snap->groups);
    *snap = (struct sl_gsnap){0};
}
