/*
 * acl.c - Kafka's ACL model, the indexed ACL set and the authorizer's
 * decision (see acl.h for the rules).
 *
 * Index: every ACL is in `by_id` (sorted by id: removal by id, stable
 * iteration) and in one group of a chained hash table keyed by (resource
 * type, pattern type, name). For PREFIXED patterns the set also keeps, per
 * resource type, the distinct prefix lengths in use with their counts, so a
 * lookup probes only lengths that exist.
 * Invariant: a group is never empty (it is unlinked with its last ACL), and
 * prefix_lens[t] counts exactly the PREFIXED ACLs of type t by name length.
 */
#include "security/acl.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- names ------------------------------------------------------------ */

static const char *const res_names[] = {
    "UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"};
static const char *const pat_names[] = {"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"};
static const char *const op_names[] = {"UNKNOWN",
                                       "ANY",
                                       "ALL",
                                       "READ",
                                       "WRITE",
                                       "CREATE",
                                       "DELETE",
                                       "ALTER",
                                       "DESCRIBE",
                                       "CLUSTER_ACTION",
                                       "DESCRIBE_CONFIGS",
                                       "ALTER_CONFIGS",
                                       "IDEMPOTENT_WRITE",
                                       "CREATE_TOKENS",
                                       "DESCRIBE_TOKENS"};
static const char *const perm_names[] = {"UNKNOWN", "ANY", "DENY", "ALLOW"};

#define NAME_OF(table, v)                                                                          \
    ((v) >= 0 && (size_t)(v) < sizeof(table) / sizeof(table[0]) ? table[v] : "UNKNOWN")

const char *sl_acl_resource_type_name(int8_t type)
{
    return NAME_OF(res_names, type);
}
const char *sl_acl_pattern_type_name(int8_t type)
{
    return NAME_OF(pat_names, type);
}
const char *sl_acl_op_name(int8_t op)
{
    return NAME_OF(op_names, op);
}
const char *sl_acl_perm_name(int8_t perm)
{
    return NAME_OF(perm_names, perm);
}

/* Case-insensitive, underscores optional on either side: "ClusterAction"
 * equals "CLUSTER_ACTION". */
static bool name_eq(const char *s, const char *name)
{
    for (;;) {
        while (*s == '_')
            s++;
        while (*name == '_')
            name++;
        if (!*s || !*name)
            return !*s && !*name;
        if (toupper((unsigned char)*s) != *name)
            return false;
        s++;
        name++;
    }
}

static int parse_in(const char *const *table, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (name_eq(s, table[i]))
            return i;
    return -1;
}

#define PARSE(table, s) parse_in(table, (int)(sizeof(table) / sizeof(table[0])), s)
int sl_acl_resource_type_parse(const char *s)
{
    return PARSE(res_names, s);
}
int sl_acl_pattern_type_parse(const char *s)
{
    return PARSE(pat_names, s);
}
int sl_acl_op_parse(const char *s)
{
    return PARSE(op_names, s);
}
int sl_acl_perm_parse(const char *s)
{
    return PARSE(perm_names, s);
}

/* --- validation and filters ------------------------------------------ */

static bool slice_is(struct sl_slice s, const char *c)
{
    return s.p && sl_slice_eq_cstr(s, c);
}

const char *sl_acl_validate_binding(const struct sl_acl_binding *b)
{
    if (b->resource_type < SL_ACL_RES_TOPIC || b->resource_type > SL_ACL_RES_MAX)
        return "Invalid resourceType";
    if (b->pattern_type != SL_ACL_PAT_LITERAL && b->pattern_type != SL_ACL_PAT_PREFIXED)
        return "Invalid patternType";
    if (b->op < SL_ACL_OP_ALL || b->op > SL_ACL_OP_MAX)
        return "Invalid operation";
    if (b->perm != SL_ACL_PERM_ALLOW && b->perm != SL_ACL_PERM_DENY)
        return "Invalid permissionType";
    if (!b->name.p || b->name.len == 0)
        return "Resource name should not be empty";
    if (b->resource_type == SL_ACL_RES_CLUSTER && !slice_is(b->name, SL_ACL_CLUSTER_NAME))
        return "The only valid name for the CLUSTER resource is kafka-cluster";
    if (!b->principal.p || !memchr(b->principal.p, ':', b->principal.len))
        return "Could not parse principal (no colon is present separating the principal type from "
               "the principal name)";
    if (b->principal.p[0] == ':')
        return "Could not parse principal (empty principal type)";
    if (!b->host.p || b->host.len == 0)
        return "Invalid host: empty";
    return NULL;
}

const char *sl_acl_validate_filter(const struct sl_acl_binding *f)
{
    if (f->resource_type <= SL_ACL_RES_UNKNOWN || f->resource_type > SL_ACL_RES_MAX ||
        f->pattern_type <= SL_ACL_PAT_UNKNOWN || f->pattern_type > SL_ACL_PAT_PREFIXED)
        return "Unknown patternFilter.";
    if (f->op <= SL_ACL_OP_UNKNOWN || f->op > SL_ACL_OP_MAX || f->perm <= SL_ACL_PERM_UNKNOWN ||
        f->perm > SL_ACL_PERM_ALLOW)
        return "Unknown entryFilter.";
    return NULL;
}

static bool slice_eq_str(struct sl_slice s, const char *c)
{
    return sl_slice_eq_cstr(s, c);
}

static bool starts_with(struct sl_slice s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && memcmp(s.p, prefix, n) == 0;
}

bool sl_acl_filter_matches(const struct sl_acl_binding *f, const struct sl_acl *acl)
{
    /* ResourcePatternFilter.matches */
    if (f->resource_type != SL_ACL_RES_ANY && f->resource_type != acl->resource_type)
        return false;
    if (f->pattern_type != SL_ACL_PAT_ANY && f->pattern_type != SL_ACL_PAT_MATCH &&
        f->pattern_type != acl->pattern_type)
        return false;
    if (f->name.p) {
        if (f->pattern_type == SL_ACL_PAT_ANY || f->pattern_type == acl->pattern_type) {
            if (!slice_eq_str(f->name, acl->name))
                return false;
        } else if (acl->pattern_type == SL_ACL_PAT_LITERAL) {
            if (!slice_eq_str(f->name, acl->name) && strcmp(acl->name, SL_ACL_WILDCARD) != 0)
                return false;
        } else if (!starts_with(f->name, acl->name)) {
            return false;
        }
    }
    /* AccessControlEntryFilter.matches */
    if (f->principal.p && !slice_eq_str(f->principal, acl->principal))
        return false;
    if (f->host.p && !slice_eq_str(f->host, acl->host))
        return false;
    if (f->op != SL_ACL_OP_ANY && f->op != acl->op)
        return false;
    if (f->perm != SL_ACL_PERM_ANY && f->perm != acl->perm)
        return false;
    return true;
}

bool sl_acl_equals(const struct sl_acl *acl, const struct sl_acl_binding *b)
{
    return acl->resource_type == b->resource_type && acl->pattern_type == b->pattern_type &&
           acl->op == b->op && acl->perm == b->perm && slice_eq_str(b->name, acl->name) &&
           slice_eq_str(b->principal, acl->principal) && slice_eq_str(b->host, acl->host);
}

#define OPBIT(o) (1 << SL_ACL_OP_##o)

int32_t sl_acl_supported_ops(int8_t resource_type)
{
    switch (resource_type) {
    case SL_ACL_RES_TOPIC:
        return OPBIT(READ) | OPBIT(WRITE) | OPBIT(CREATE) | OPBIT(DESCRIBE) | OPBIT(DELETE) |
               OPBIT(ALTER) | OPBIT(DESCRIBE_CONFIGS) | OPBIT(ALTER_CONFIGS);
    case SL_ACL_RES_GROUP:
        return OPBIT(READ) | OPBIT(DESCRIBE) | OPBIT(DELETE);
    case SL_ACL_RES_CLUSTER:
        return OPBIT(CREATE) | OPBIT(CLUSTER_ACTION) | OPBIT(DESCRIBE_CONFIGS) |
               OPBIT(ALTER_CONFIGS) | OPBIT(IDEMPOTENT_WRITE) | OPBIT(ALTER) | OPBIT(DESCRIBE);
    case SL_ACL_RES_TRANSACTIONAL_ID:
        return OPBIT(DESCRIBE) | OPBIT(WRITE);
    case SL_ACL_RES_DELEGATION_TOKEN:
        return OPBIT(DESCRIBE);
    case SL_ACL_RES_USER:
        return OPBIT(CREATE_TOKENS) | OPBIT(DESCRIBE_TOKENS);
    default:
        return 0;
    }
}

/* --- the set ----------------------------------------------------------- */

struct group {
    struct group *next; /* hash chain */
    uint64_t hash;
    int8_t resource_type, pattern_type;
    size_t name_len;
    const char *name; /* borrowed from acls[0] and kept equal across them */
    struct sl_acl **acls;
    int32_t n, cap;
};

struct prefix_len {
    size_t len;    /* a PREFIXED name length in use */
    int32_t count; /* ACLs with it */
};

struct sl_acl_set {
    int refs;              /* atomic */
    struct sl_acl **by_id; /* sorted by id */
    size_t n, cap;
    struct group **buckets; /* power of two */
    size_t nbuckets, ngroups;
    struct prefix_len *prefix_lens[SL_ACL_RES_MAX + 1]; /* sorted by len */
    int32_t prefix_lens_n[SL_ACL_RES_MAX + 1];
};

static uint64_t key_hash(int8_t rt, int8_t pt, const uint8_t *name, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    h = (h ^ (uint8_t)rt) * 1099511628211ull;
    h = (h ^ (uint8_t)pt) * 1099511628211ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ name[i]) * 1099511628211ull;
    return h;
}

static struct group *group_find(const struct sl_acl_set *s, int8_t rt, int8_t pt,
                                const uint8_t *name, size_t len)
{
    if (!s || !s->nbuckets)
        return NULL;
    uint64_t h = key_hash(rt, pt, name, len);
    for (struct group *g = s->buckets[h & (s->nbuckets - 1)]; g; g = g->next)
        if (g->hash == h && g->resource_type == rt && g->pattern_type == pt && g->name_len == len &&
            memcmp(g->name, name, len) == 0)
            return g;
    return NULL;
}

static int rehash(struct sl_acl_set *s, size_t nb)
{
    struct group **nbk = calloc(nb, sizeof(*nbk));
    if (!nbk)
        return -ENOMEM;
    for (size_t i = 0; i < s->nbuckets; i++) {
        struct group *g = s->buckets[i];
        while (g) {
            struct group *next = g->next;
            g->next = nbk[g->hash & (nb - 1)];
            nbk[g->hash & (nb - 1)] = g;
            g = next;
        }
    }
    free(s->buckets);
    s->buckets = nbk;
    s->nbuckets = nb;
    return 0;
}

static int prefix_count(struct sl_acl_set *s, int8_t rt, size_t len, int delta)
{
    struct prefix_len *v = s->prefix_lens[rt];
    int32_t n = s->prefix_lens_n[rt], i = 0;
    while (i < n && v[i].len < len)
        i++;
    if (i < n && v[i].len == len) {
        v[i].count += delta;
        if (v[i].count == 0) {
            memmove(&v[i], &v[i + 1], sizeof(*v) * (size_t)(n - i - 1));
            s->prefix_lens_n[rt]--;
        }
        return 0;
    }
    if (delta < 0)
        return 0;
    struct prefix_len *nv = realloc(v, sizeof(*v) * (size_t)(n + 1));
    if (!nv)
        return -ENOMEM;
    memmove(&nv[i + 1], &nv[i], sizeof(*nv) * (size_t)(n - i));
    nv[i] = (struct prefix_len){len, delta};
    s->prefix_lens[rt] = nv;
    s->prefix_lens_n[rt]++;
    return 0;
}

struct sl_acl_set *sl_acl_set_new(void)
{
    struct sl_acl_set *s = calloc(1, sizeof(*s));
    if (s)
        s->refs = 1;
    return s;
}

struct sl_acl_set *sl_acl_set_ref(struct sl_acl_set *s)
{
    if (s)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    return s;
}

static void set_free(struct sl_acl_set *s)
{
    for (size_t i = 0; i < s->nbuckets; i++) {
        struct group *g = s->buckets[i];
        while (g) {
            struct group *next = g->next;
            free(g->acls);
            free(g);
            g = next;
        }
    }
    for (size_t i = 0; i < s->n; i++)
        free(s->by_id[i]);
    for (int t = 0; t <= SL_ACL_RES_MAX; t++)
        free(s->prefix_lens[t]);
    free(s->buckets);
    free(s->by_id);
    free(s);
}

void sl_acl_set_unref(struct sl_acl_set *s)
{
    if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
        set_free(s);
}

static size_t id_pos(const struct sl_acl_set *s, const struct sl_uuid *id, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(id->b, s->by_id[mid]->id.b, 16);
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

static struct sl_acl *acl_make(const struct sl_uuid *id, const struct sl_acl_binding *b)
{
    size_t sz = sizeof(struct sl_acl) + b->name.len + b->principal.len + b->host.len + 3;
    struct sl_acl *a = malloc(sz);
    if (!a)
        return NULL;
    char *p = (char *)(a + 1);
    a->id = *id;
    a->resource_type = b->resource_type;
    a->pattern_type = b->pattern_type;
    a->op = b->op;
    a->perm = b->perm;
    struct sl_slice parts[3] = {b->name, b->principal, b->host};
    const char **dst[3] = {&a->name, &a->principal, &a->host};
    for (int i = 0; i < 3; i++) {
        if (parts[i].len)
            memcpy(p, parts[i].p, parts[i].len);
        p[parts[i].len] = '\0';
        *dst[i] = p;
        p += parts[i].len + 1;
    }
    return a;
}

static struct sl_acl_binding binding_of(const struct sl_acl *a)
{
    return (struct sl_acl_binding){a->resource_type,
                                   a->pattern_type,
                                   sl_slice_cstr(a->name),
                                   sl_slice_cstr(a->principal),
                                   sl_slice_cstr(a->host),
                                   a->op,
                                   a->perm};
}

/* Indexes a (already in by_id) in its group. */
static int index_add(struct sl_acl_set *s, struct sl_acl *a)
{
    size_t len = strlen(a->name);
    struct group *g =
        group_find(s, a->resource_type, a->pattern_type, (const uint8_t *)a->name, len);
    if (!g) {
        if (s->ngroups + 1 > s->nbuckets * 3 / 4 &&
            rehash(s, s->nbuckets ? s->nbuckets * 2 : 16) < 0)
            return -ENOMEM;
        g = calloc(1, sizeof(*g));
        if (!g)
            return -ENOMEM;
        g->hash = key_hash(a->resource_type, a->pattern_type, (const uint8_t *)a->name, len);
        g->resource_type = a->resource_type;
        g->pattern_type = a->pattern_type;
        g->name_len = len;
        g->name = a->name;
        if (a->pattern_type == SL_ACL_PAT_PREFIXED &&
            prefix_count(s, a->resource_type, len, 0) < 0) {
            free(g);
            return -ENOMEM;
        }
        size_t bi = g->hash & (s->nbuckets - 1);
        g->next = s->buckets[bi];
        s->buckets[bi] = g;
        s->ngroups++;
    }
    if (g->n == g->cap) {
        int32_t cap = g->cap ? g->cap * 2 : 4;
        struct sl_acl **v = realloc(g->acls, sizeof(*v) * (size_t)cap);
        if (!v)
            return -ENOMEM;
        g->acls = v;
        g->cap = cap;
    }
    g->acls[g->n++] = a;
    if (a->pattern_type == SL_ACL_PAT_PREFIXED)
        prefix_count(s, a->resource_type, len, +1); /* entry exists: cannot fail */
    return 0;
}

static void index_remove(struct sl_acl_set *s, const struct sl_acl *a)
{
    size_t len = strlen(a->name);
    struct group *g =
        group_find(s, a->resource_type, a->pattern_type, (const uint8_t *)a->name, len);
    if (!g)
        return;
    for (int32_t i = 0; i < g->n; i++) {
        if (g->acls[i] == a) {
            memmove(&g->acls[i], &g->acls[i + 1], sizeof(*g->acls) * (size_t)(g->n - i - 1));
            g->n--;
            break;
        }
    }
    if (a->pattern_type == SL_ACL_PAT_PREFIXED)
        prefix_count(s, a->resource_type, len, -1);
    if (g->n > 0) {
        g->name = g->acls[0]->name; /* a's memory goes away */
        return;
    }
    struct group **pp = &s->buckets[g->hash & (s->nbuckets - 1)];
    while (*pp != g)
        pp = &(*pp)->next;
    *pp = g->next;
    free(g->acls);
    free(g);
    s->ngroups--;
}

static int insert(struct sl_acl_set *s, const struct sl_uuid *id, const struct sl_acl_binding *b)
{
    bool found;
    size_t pos = id_pos(s, id, &found);
    if (found)
        return -EEXIST;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct sl_acl **v = realloc(s->by_id, sizeof(*v) * cap);
        if (!v)
            return -ENOMEM;
        s->by_id = v;
        s->cap = cap;
    }
    struct sl_acl *a = acl_make(id, b);
    if (!a)
        return -ENOMEM;
    if (index_add(s, a) < 0) {
        free(a);
        return -ENOMEM;
    }
    memmove(&s->by_id[pos + 1], &s->by_id[pos], sizeof(*s->by_id) * (s->n - pos));
    s->by_id[pos] = a;
    s->n++;
    return 0;
}

/* Makes *s private to the caller: a copy when someone else holds it. */
static int own(struct sl_acl_set **s)
{
    if (*s && __atomic_load_n(&(*s)->refs, __ATOMIC_ACQUIRE) == 1)
        return 0;
    struct sl_acl_set *c = sl_acl_set_new();
    if (!c)
        return -ENOMEM;
    for (size_t i = 0; *s && i < (*s)->n; i++) {
        struct sl_acl_binding b = binding_of((*s)->by_id[i]);
        if (insert(c, &(*s)->by_id[i]->id, &b) < 0) {
            set_free(c);
            return -ENOMEM;
        }
    }
    sl_acl_set_unref(*s);
    *s = c;
    return 0;
}

int sl_acl_set_add(struct sl_acl_set **s, const struct sl_uuid *id, const struct sl_acl_binding *b)
{
    if (sl_acl_validate_binding(b))
        return -EINVAL;
    if (*s) {
        bool found;
        id_pos(*s, id, &found);
        if (found)
            return -EEXIST;
    }
    int rc = own(s);
    return rc < 0 ? rc : insert(*s, id, b);
}

int sl_acl_set_remove(struct sl_acl_set **s, const struct sl_uuid *id)
{
    bool found = false;
    if (*s)
        id_pos(*s, id, &found);
    if (!found)
        return -ENOENT;
    int rc = own(s);
    if (rc < 0)
        return rc;
    size_t pos = id_pos(*s, id, &found);
    struct sl_acl *a = (*s)->by_id[pos];
    index_remove(*s, a);
    memmove(&(*s)->by_id[pos], &(*s)->by_id[pos + 1], sizeof(*(*s)->by_id) * ((*s)->n - pos - 1));
    (*s)->n--;
    free(a);
    return 0;
}

size_t sl_acl_set_count(const struct sl_acl_set *s)
{
    return s ? s->n : 0;
}

const struct sl_acl *sl_acl_set_at(const struct sl_acl_set *s, size_t i)
{
    return s->by_id[i];
}

const struct sl_acl *sl_acl_set_find(const struct sl_acl_set *s, const struct sl_acl_binding *b)
{
    const struct group *g =
        group_find(s, b->resource_type, b->pattern_type, b->name.p, b->name.len);
    for (int32_t i = 0; g && i < g->n; i++)
        if (sl_acl_equals(g->acls[i], b))
            return g->acls[i];
    return NULL;
}

/* --- authorization ------------------------------------------------- */

int sl_acl_authorizer_init(struct sl_acl_authorizer *az, const char *class_name,
                           const char *super_users, bool allow_if_no_acl, char *err, size_t errlen)
{
    memset(az, 0, sizeof(*az));
    az->enabled = class_name && class_name[0];
    az->allow_if_no_acl = allow_if_no_acl;
    const char *p = super_users ? super_users : "";
    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *q = p;
        while (len && isspace((unsigned char)*q)) {
            q++;
            len--;
        }
        while (len && isspace((unsigned char)q[len - 1]))
            len--;
        if (len) {
            if (az->super_users_n == SL_ACL_MAX_SUPER_USERS || len >= sizeof(az->super_users[0]) ||
                !memchr(q, ':', len) || q[0] == ':') {
                snprintf(err, errlen,
                         "super.users: '%.*s' is not a principal (User:name), or too many",
                         (int)len, q);
                return -EINVAL;
            }
            memcpy(az->super_users[az->super_users_n], q, len);
            az->super_users[az->super_users_n++][len] = '\0';
        }
        p = end ? end + 1 : p + strlen(p);
    }
    return 0;
}

bool sl_acl_is_super_user(const struct sl_acl_authorizer *az, const char *principal)
{
    for (int i = 0; i < az->super_users_n; i++)
        if (strcmp(az->super_users[i], principal) == 0)
            return true;
    return false;
}

static bool allow_covers(int8_t acl_op, int8_t op)
{
    if (acl_op == op || acl_op == SL_ACL_OP_ALL)
        return true;
    if (op == SL_ACL_OP_DESCRIBE)
        return acl_op == SL_ACL_OP_READ || acl_op == SL_ACL_OP_WRITE ||
               acl_op == SL_ACL_OP_DELETE || acl_op == SL_ACL_OP_ALTER;
    if (op == SL_ACL_OP_DESCRIBE_CONFIGS)
        return acl_op == SL_ACL_OP_ALTER_CONFIGS;
    return false;
}

static bool principal_matches(const struct sl_acl *a, const char *principal)
{
    return strcmp(a->principal, principal) == 0 ||
           strcmp(a->principal, SL_ACL_WILDCARD_PRINCIPAL) == 0;
}

static bool host_matches(const struct sl_acl *a, const char *host)
{
    return strcmp(a->host, SL_ACL_WILDCARD) == 0 || strcmp(a->host, host) == 0;
}

enum verdict { V_NONE, V_ALLOW, V_DENY };

/* Folds a group's ACLs into the verdict so far; *found when it has any. */
static enum verdict check_group(const struct group *g, const char *principal, const char *host,
                                int8_t op, enum verdict v, bool *found)
{
    if (!g)
        return v;
    *found = true;
    for (int32_t i = 0; i < g->n; i++) {
        const struct sl_acl *a = g->acls[i];
        if (!principal_matches(a, principal) || !host_matches(a, host))
            continue;
        if (a->perm == SL_ACL_PERM_DENY && (a->op == op || a->op == SL_ACL_OP_ALL))
            return V_DENY;
        if (a->perm == SL_ACL_PERM_ALLOW && allow_covers(a->op, op))
            v = V_ALLOW;
    }
    return v;
}

bool sl_acl_authorize(const struct sl_acl_authorizer *az, const struct sl_acl_set *s,
                      const char *principal, const char *host, int8_t op, int8_t rt,
                      struct sl_slice name)
{
    if (sl_acl_is_super_user(az, principal))
        return true;
    bool found = false;
    enum verdict v = V_NONE;
    if (s && rt >= 0 && rt <= SL_ACL_RES_MAX) {
        v = check_group(group_find(s, rt, SL_ACL_PAT_LITERAL, name.p, name.len), principal, host,
                        op, v, &found);
        if (v != V_DENY)
            v = check_group(group_find(s, rt, SL_ACL_PAT_LITERAL, (const uint8_t *)"*", 1),
                            principal, host, op, v, &found);
        for (int32_t i = 0; v != V_DENY && i < s->prefix_lens_n[rt]; i++) {
            size_t len = s->prefix_lens[rt][i].len;
            if (len > name.len)
                break;
            v = check_group(group_find(s, rt, SL_ACL_PAT_PREFIXED, name.p, len), principal, host,
                            op, v, &found);
        }
    }
    if (v == V_DENY)
        return false;
    if (v == V_ALLOW)
        return true;
    return !found && az->allow_if_no_acl;
}

static bool str_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool sl_acl_authorize_any(const struct sl_acl_authorizer *az, const struct sl_acl_set *s,
                          const char *principal, const char *host, int8_t op, int8_t rt)
{
    if (sl_acl_is_super_user(az, principal))
        return true;
    size_t n = sl_acl_set_count(s), nd = 0;
    bool any_of_type = false, allowed = false;
    /* One pass collects the DENYs that concern this principal, host and
     * operation (few, in practice); a DENY on LITERAL "*" denies the type. */
    const struct sl_acl **denies = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct sl_acl *a = s->by_id[i];
        if (a->resource_type != rt)
            continue;
        any_of_type = true;
        if (a->perm != SL_ACL_PERM_DENY || (a->op != op && a->op != SL_ACL_OP_ALL) ||
            !principal_matches(a, principal) || !host_matches(a, host))
            continue;
        if (a->pattern_type == SL_ACL_PAT_LITERAL && strcmp(a->name, SL_ACL_WILDCARD) == 0) {
            free(denies);
            return false;
        }
        if (!denies && !(denies = malloc(sizeof(*denies) * n)))
            return false; /* out of memory: deny */
        denies[nd++] = a;
    }
    if (!any_of_type) {
        free(denies);
        return az->allow_if_no_acl;
    }
    /* Then any ALLOW that no collected DENY pattern covers. */
    for (size_t i = 0; i < n && !allowed; i++) {
        const struct sl_acl *a = s->by_id[i];
        if (a->resource_type != rt || a->perm != SL_ACL_PERM_ALLOW || !allow_covers(a->op, op) ||
            !principal_matches(a, principal) || !host_matches(a, host))
            continue;
        bool denied = false;
        for (size_t j = 0; j < nd && !denied; j++) {
            const struct sl_acl *d = denies[j];
            if (d->pattern_type == SL_ACL_PAT_PREFIXED)
                denied = str_starts(a->name, d->name);
            else if (a->pattern_type == SL_ACL_PAT_LITERAL)
                denied = strcmp(a->name, d->name) == 0;
        }
        allowed = !denied;
    }
    free(denies);
    return allowed;
}
