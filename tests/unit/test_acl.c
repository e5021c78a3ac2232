/*
 * test_acl.c - src/security/acl.c: validation, filters, the indexed set
 * (copy on write, removal) and every authorization rule.
 */
#include <errno.h>

#include "security/acl.h"
#include "testlib.h"

static struct sl_uuid uid(int n)
{
    struct sl_uuid u;
    memset(&u, 0, sizeof(u));
    u.b[15] = (uint8_t)n;
    u.b[14] = (uint8_t)(n >> 8);
    return u;
}

static struct sl_acl_binding bind(int8_t rt, int8_t pt, const char *name, const char *principal,
                                  const char *host, int8_t op, int8_t perm)
{
    return (struct sl_acl_binding){
        rt, pt, sl_slice_cstr(name), sl_slice_cstr(principal), sl_slice_cstr(host), op, perm};
}

static int next_id = 1;

static void add(struct sl_acl_set **s, int8_t rt, int8_t pt, const char *name,
                const char *principal, const char *host, int8_t op, int8_t perm)
{
    struct sl_uuid id = uid(next_id++);
    struct sl_acl_binding b = bind(rt, pt, name, principal, host, op, perm);
    CHECK_EQ(sl_acl_set_add(s, &id, &b), 0);
}

static struct sl_acl_authorizer az_plain(void)
{
    struct sl_acl_authorizer az;
    char err[128];
    CHECK_EQ(sl_acl_authorizer_init(&az, "StandardAuthorizer", "", false, err, sizeof(err)), 0);
    return az;
}

#define T SL_ACL_RES_TOPIC
#define G SL_ACL_RES_GROUP
#define LIT SL_ACL_PAT_LITERAL
#define PRE SL_ACL_PAT_PREFIXED
#define ALLOW SL_ACL_PERM_ALLOW
#define DENY SL_ACL_PERM_DENY
#define ALICE "User:alice"
#define LOCAL "127.0.0.1"

static bool may(const struct sl_acl_authorizer *az, const struct sl_acl_set *s, const char *p,
                const char *host, int8_t op, int8_t rt, const char *name)
{
    return sl_acl_authorize(az, s, p, host, op, rt, sl_slice_cstr(name));
}

TEST(names_round_trip)
{
    CHECK_EQ(sl_acl_op_parse("ClusterAction"), SL_ACL_OP_CLUSTER_ACTION);
    CHECK_EQ(sl_acl_op_parse("describe_configs"), SL_ACL_OP_DESCRIBE_CONFIGS);
    CHECK_EQ(sl_acl_op_parse("IdempotentWrite"), SL_ACL_OP_IDEMPOTENT_WRITE);
    CHECK_EQ(sl_acl_op_parse("Frobnicate"), -1);
    CHECK_EQ(sl_acl_resource_type_parse("TransactionalId"), SL_ACL_RES_TRANSACTIONAL_ID);
    CHECK_EQ(sl_acl_pattern_type_parse("prefixed"), SL_ACL_PAT_PREFIXED);
    CHECK_EQ(sl_acl_perm_parse("Deny"), SL_ACL_PERM_DENY);
    for (int op = 0; op <= SL_ACL_OP_MAX; op++)
        CHECK_EQ(sl_acl_op_parse(sl_acl_op_name((int8_t)op)), op);
    CHECK(strcmp(sl_acl_op_name(99), "UNKNOWN") == 0);
}

TEST(validate_binding_rejects_what_kafka_rejects)
{
    struct sl_acl_binding b = bind(T, LIT, "t", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    CHECK(sl_acl_validate_binding(&b) == NULL);
    b.pattern_type = SL_ACL_PAT_MATCH;
    CHECK(sl_acl_validate_binding(&b) != NULL);
    b.pattern_type = SL_ACL_PAT_ANY;
    CHECK(sl_acl_validate_binding(&b) != NULL);
    b = bind(T, LIT, "t", ALICE, "*", SL_ACL_OP_ANY, ALLOW);
    CHECK(sl_acl_validate_binding(&b) != NULL);
    b = bind(T, LIT, "t", ALICE, "*", 15, ALLOW);
    CHECK(sl_acl_validate_binding(&b) != NULL);
    b = bind(T, LIT, "t", ALICE, "*", SL_ACL_OP_READ, SL_ACL_PERM_ANY);
    CHECK(sl_acl_validate_binding(&b) != NULL);
    b = bind(SL_ACL_RES_ANY, LIT, "t", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    CHECK(sl_acl_validate_binding(&b) != NULL);
    b = bind(8, LIT, "t", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    CHECK(sl_acl_validate_binding(&b) != NULL);
    b = bind(T, LIT, "", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    CHECK(sl_acl_validate_binding(&b) != NULL);
    b = bind(T, LIT, "t", "alice", "*", SL_ACL_OP_READ, ALLOW);
    CHECK(sl_acl_validate_binding(&b) != NULL);
    b = bind(SL_ACL_RES_CLUSTER, LIT, "other", ALICE, "*", SL_ACL_OP_ALTER, ALLOW);
    CHECK(sl_acl_validate_binding(&b) != NULL);
    b = bind(SL_ACL_RES_CLUSTER, LIT, "kafka-cluster", ALICE, "*", SL_ACL_OP_ALTER, ALLOW);
    CHECK(sl_acl_validate_binding(&b) == NULL);
}

TEST(validate_filter_rejects_unknown)
{
    struct sl_acl_binding f = {SL_ACL_RES_ANY, SL_ACL_PAT_ANY, {0}, {0}, {0},
                               SL_ACL_OP_ANY,  SL_ACL_PERM_ANY};
    CHECK(sl_acl_validate_filter(&f) == NULL);
    f.resource_type = SL_ACL_RES_UNKNOWN;
    CHECK(sl_acl_validate_filter(&f) != NULL);
    f.resource_type = SL_ACL_RES_ANY;
    f.pattern_type = 0;
    CHECK(sl_acl_validate_filter(&f) != NULL);
    f.pattern_type = SL_ACL_PAT_MATCH;
    f.op = 0;
    CHECK(sl_acl_validate_filter(&f) != NULL);
    f.op = SL_ACL_OP_READ;
    f.perm = 9;
    CHECK(sl_acl_validate_filter(&f) != NULL);
}

TEST(filter_matching_follows_kafka)
{
    struct sl_acl_set *s = NULL;
    add(&s, T, LIT, "orders", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    add(&s, T, LIT, "*", ALICE, "*", SL_ACL_OP_WRITE, ALLOW);
    add(&s, T, PRE, "ord", "User:bob", "10.0.0.1", SL_ACL_OP_READ, DENY);
    add(&s, G, LIT, "orders", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    const struct sl_acl *lit = sl_acl_set_find(
        s, &(struct sl_acl_binding){T, LIT, sl_slice_cstr("orders"), sl_slice_cstr(ALICE),
                                    sl_slice_cstr("*"), SL_ACL_OP_READ, ALLOW});
    const struct sl_acl *wild = sl_acl_set_find(
        s, &(struct sl_acl_binding){T, LIT, sl_slice_cstr("*"), sl_slice_cstr(ALICE),
                                    sl_slice_cstr("*"), SL_ACL_OP_WRITE, ALLOW});
    const struct sl_acl *pre = sl_acl_set_find(
        s, &(struct sl_acl_binding){T, PRE, sl_slice_cstr("ord"), sl_slice_cstr("User:bob"),
                                    sl_slice_cstr("10.0.0.1"), SL_ACL_OP_READ, DENY});
    CHECK(lit && wild && pre);

    struct sl_acl_binding f = {T,   SL_ACL_PAT_MATCH, sl_slice_cstr("orders"), {0},
                               {0}, SL_ACL_OP_ANY,    SL_ACL_PERM_ANY};
    CHECK(sl_acl_filter_matches(&f, lit) && sl_acl_filter_matches(&f, wild) &&
          sl_acl_filter_matches(&f, pre));
    f.name = sl_slice_cstr("other");
    CHECK(!sl_acl_filter_matches(&f, lit) && sl_acl_filter_matches(&f, wild) &&
          !sl_acl_filter_matches(&f, pre));
    /* ANY: exact name, any pattern type */
    f.pattern_type = SL_ACL_PAT_ANY;
    f.name = sl_slice_cstr("ord");
    CHECK(!sl_acl_filter_matches(&f, lit) && !sl_acl_filter_matches(&f, wild) &&
          sl_acl_filter_matches(&f, pre));
    /* LITERAL with a name: exactly that literal */
    f.pattern_type = LIT;
    f.name = sl_slice_cstr("orders");
    CHECK(sl_acl_filter_matches(&f, lit) && !sl_acl_filter_matches(&f, wild) &&
          !sl_acl_filter_matches(&f, pre));
    /* null name: every pattern of that type */
    f.name = (struct sl_slice){0};
    CHECK(sl_acl_filter_matches(&f, lit) && sl_acl_filter_matches(&f, wild) &&
          !sl_acl_filter_matches(&f, pre));
    /* entry filters */
    f = (struct sl_acl_binding){SL_ACL_RES_ANY, SL_ACL_PAT_ANY, {0}, sl_slice_cstr("User:bob"), {0},
                                SL_ACL_OP_ANY,  SL_ACL_PERM_ANY};
    CHECK(!sl_acl_filter_matches(&f, lit) && sl_acl_filter_matches(&f, pre));
    f.principal = (struct sl_slice){0};
    f.host = sl_slice_cstr("10.0.0.1");
    CHECK(!sl_acl_filter_matches(&f, lit) && sl_acl_filter_matches(&f, pre));
    f.host = (struct sl_slice){0};
    f.op = SL_ACL_OP_WRITE;
    CHECK(!sl_acl_filter_matches(&f, lit) && sl_acl_filter_matches(&f, wild));
    f.op = SL_ACL_OP_ANY;
    f.perm = DENY;
    CHECK(!sl_acl_filter_matches(&f, lit) && sl_acl_filter_matches(&f, pre));
    f.perm = SL_ACL_PERM_ANY;
    f.resource_type = G;
    CHECK(!sl_acl_filter_matches(&f, lit));
    sl_acl_set_unref(s);
}

TEST(set_add_remove_and_duplicate_ids)
{
    struct sl_acl_set *s = NULL;
    struct sl_uuid a = uid(7), b = uid(3);
    struct sl_acl_binding x = bind(T, LIT, "t", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    struct sl_acl_binding bad = bind(T, SL_ACL_PAT_MATCH, "t", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    CHECK_EQ(sl_acl_set_add(&s, &a, &bad), -EINVAL);
    CHECK_EQ(sl_acl_set_add(&s, &a, &x), 0);
    CHECK_EQ(sl_acl_set_add(&s, &a, &x), -EEXIST);
    CHECK_EQ(sl_acl_set_add(&s, &b, &x), 0);
    CHECK_EQ(sl_acl_set_count(s), 2);
    CHECK(memcmp(sl_acl_set_at(s, 0)->id.b, b.b, 16) == 0); /* id order */
    struct sl_acl_authorizer az = az_plain();
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "t"));
    CHECK_EQ(sl_acl_set_remove(&s, &a), 0);
    CHECK_EQ(sl_acl_set_remove(&s, &a), -ENOENT);
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "t"));
    CHECK_EQ(sl_acl_set_remove(&s, &b), 0);
    CHECK_EQ(sl_acl_set_count(s), 0);
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "t"));
    CHECK(sl_acl_set_find(s, &x) == NULL);
    sl_acl_set_unref(s);
}

TEST(shared_set_is_copied_on_write)
{
    struct sl_acl_set *s = NULL;
    add(&s, T, LIT, "t", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    struct sl_acl_set *old = sl_acl_set_ref(s);
    add(&s, T, PRE, "x", ALICE, "*", SL_ACL_OP_WRITE, ALLOW);
    CHECK(s != old);
    CHECK_EQ(sl_acl_set_count(old), 1);
    CHECK_EQ(sl_acl_set_count(s), 2);
    struct sl_acl_authorizer az = az_plain();
    CHECK(!may(&az, old, ALICE, LOCAL, SL_ACL_OP_WRITE, T, "xy"));
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, T, "xy"));
    struct sl_uuid first = sl_acl_set_at(old, 0)->id;
    struct sl_acl_set *keep = sl_acl_set_ref(s);
    CHECK_EQ(sl_acl_set_remove(&s, &first), 0);
    CHECK_EQ(sl_acl_set_count(keep), 2);
    CHECK_EQ(sl_acl_set_count(s), 1);
    CHECK(may(&az, keep, ALICE, LOCAL, SL_ACL_OP_READ, T, "t"));
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "t"));
    sl_acl_set_unref(old);
    sl_acl_set_unref(keep);
    sl_acl_set_unref(s);
}

TEST(no_acl_denies_unless_allow_everyone)
{
    struct sl_acl_authorizer az = az_plain();
    CHECK(!may(&az, NULL, ALICE, LOCAL, SL_ACL_OP_READ, T, "t"));
    az.allow_if_no_acl = true;
    CHECK(may(&az, NULL, ALICE, LOCAL, SL_ACL_OP_READ, T, "t"));
    struct sl_acl_set *s = NULL;
    /* an ACL for someone else on the resource: "found", so allow-everyone no longer applies */
    add(&s, T, LIT, "t", "User:bob", "*", SL_ACL_OP_READ, ALLOW);
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "t"));
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "u"));
    /* a prefixed ACL counts as found for the names it covers */
    add(&s, T, PRE, "pay", "User:bob", "*", SL_ACL_OP_READ, ALLOW);
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "payments"));
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "pa"));
    sl_acl_set_unref(s);
}

TEST(literal_wildcard_and_prefixed_apply)
{
    struct sl_acl_authorizer az = az_plain();
    struct sl_acl_set *s = NULL;
    add(&s, T, LIT, "orders", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    add(&s, T, LIT, "*", ALICE, "*", SL_ACL_OP_WRITE, ALLOW);
    add(&s, T, PRE, "pay", ALICE, "*", SL_ACL_OP_DELETE, ALLOW);
    add(&s, T, PRE, "payments.eu", ALICE, "*", SL_ACL_OP_CREATE, ALLOW);
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "orders"));
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "orders2"));
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "order"));
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, T, "anything"));
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_DELETE, T, "pay"));
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_DELETE, T, "payments"));
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_DELETE, T, "pa"));
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_DELETE, T, "xpay"));
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_CREATE, T, "payments.eu.1"));
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_CREATE, T, "payments.us"));
    /* a literal "*" name in a PREFIXED pattern is just the character */
    add(&s, G, PRE, "*", ALICE, "*", SL_ACL_OP_READ, ALLOW);
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, G, "g"));
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, G, "*g"));
    /* resource types are separate */
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, G, "orders"));
    sl_acl_set_unref(s);
}

TEST(principal_and_host_must_match)
{
    struct sl_acl_authorizer az = az_plain();
    struct sl_acl_set *s = NULL;
    add(&s, T, LIT, "t", ALICE, "127.0.0.1", SL_ACL_OP_READ, ALLOW);
    add(&s, T, LIT, "u", "User:*", "*", SL_ACL_OP_READ, ALLOW);
    CHECK(may(&az, s, ALICE, "127.0.0.1", SL_ACL_OP_READ, T, "t"));
    CHECK(!may(&az, s, ALICE, "10.1.2.3", SL_ACL_OP_READ, T, "t"));
    CHECK(!may(&az, s, "User:bob", "127.0.0.1", SL_ACL_OP_READ, T, "t"));
    CHECK(!may(&az, s, "User:alice2", "127.0.0.1", SL_ACL_OP_READ, T, "t"));
    CHECK(may(&az, s, "User:bob", "10.1.2.3", SL_ACL_OP_READ, T, "u"));
    CHECK(may(&az, s, "User:ANONYMOUS", "::1", SL_ACL_OP_READ, T, "u"));
    sl_acl_set_unref(s);
}

TEST(deny_beats_allow)
{
    struct sl_acl_authorizer az = az_plain();
    struct sl_acl_set *s = NULL;
    add(&s, T, LIT, "*", "User:*", "*", SL_ACL_OP_ALL, ALLOW);
    add(&s, T, PRE, "secret", ALICE, "*", SL_ACL_OP_READ, DENY);
    add(&s, T, LIT, "hosty", ALICE, "10.0.0.9", SL_ACL_OP_ALL, DENY);
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "public"));
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "secret.x"));
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, T, "secret.x")); /* deny is per operation */
    CHECK(may(&az, s, "User:bob", LOCAL, SL_ACL_OP_READ, T, "secret.x"));
    CHECK(!may(&az, s, ALICE, "10.0.0.9", SL_ACL_OP_WRITE, T, "hosty")); /* deny ALL */
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, T, "hosty"));
    /* a DENY READ does not deny DESCRIBE (implication works for ALLOW only) */
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_DESCRIBE, T, "secret.x"));
    /* DENY for User:* applies to everyone */
    add(&s, T, LIT, "closed", "User:*", "*", SL_ACL_OP_WRITE, DENY);
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, T, "closed"));
    sl_acl_set_unref(s);
}

TEST(implied_operations)
{
    struct sl_acl_authorizer az = az_plain();
    struct sl_acl_set *s = NULL;
    int8_t implies_describe[] = {SL_ACL_OP_READ, SL_ACL_OP_WRITE, SL_ACL_OP_DELETE,
                                 SL_ACL_OP_ALTER};
    char name[16];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        add(&s, T, LIT, name, ALICE, "*", implies_describe[i], ALLOW);
        CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_DESCRIBE, T, name));
    }
    add(&s, T, LIT, "c", ALICE, "*", SL_ACL_OP_ALTER_CONFIGS, ALLOW);
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_DESCRIBE_CONFIGS, T, "c"));
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_DESCRIBE, T, "c"));
    add(&s, T, LIT, "d", ALICE, "*", SL_ACL_OP_DESCRIBE, ALLOW);
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "d"));
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_CREATE, T, "t0"));
    add(&s, T, LIT, "all", ALICE, "*", SL_ACL_OP_ALL, ALLOW);
    for (int op = SL_ACL_OP_READ; op <= SL_ACL_OP_MAX; op++)
        CHECK(may(&az, s, ALICE, LOCAL, (int8_t)op, T, "all"));
    sl_acl_set_unref(s);
}

TEST(super_users_bypass)
{
    struct sl_acl_authorizer az;
    char err[128];
    CHECK_EQ(sl_acl_authorizer_init(&az, "x", " User:admin ; User:ops;", false, err, sizeof(err)),
             0);
    CHECK(az.enabled);
    CHECK_EQ(az.super_users_n, 2);
    struct sl_acl_set *s = NULL;
    add(&s, T, LIT, "t", "User:*", "*", SL_ACL_OP_ALL, DENY);
    CHECK(may(&az, s, "User:admin", LOCAL, SL_ACL_OP_WRITE, T, "t"));
    CHECK(may(&az, s, "User:ops", LOCAL, SL_ACL_OP_CLUSTER_ACTION, SL_ACL_RES_CLUSTER,
              "kafka-cluster"));
    CHECK(!may(&az, s, "User:admin2", LOCAL, SL_ACL_OP_WRITE, T, "t"));
    CHECK(sl_acl_authorize_any(&az, s, "User:admin", LOCAL, SL_ACL_OP_WRITE, T));
    CHECK_EQ(sl_acl_authorizer_init(&az, "x", "admin", false, err, sizeof(err)), -EINVAL);
    CHECK_EQ(sl_acl_authorizer_init(&az, "", "", false, err, sizeof(err)), 0);
    CHECK(!az.enabled);
    sl_acl_set_unref(s);
}

TEST(authorize_any_kip679)
{
    struct sl_acl_authorizer az = az_plain();
    struct sl_acl_set *s = NULL;
    CHECK(!sl_acl_authorize_any(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, T));
    add(&s, T, LIT, "t", ALICE, "*", SL_ACL_OP_WRITE, ALLOW);
    CHECK(sl_acl_authorize_any(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, T));
    CHECK(!sl_acl_authorize_any(&az, s, "User:bob", LOCAL, SL_ACL_OP_WRITE, T));
    CHECK(
        !sl_acl_authorize_any(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, SL_ACL_RES_TRANSACTIONAL_ID));
    /* a DENY covering the only ALLOW takes it away */
    add(&s, T, PRE, "t", ALICE, "*", SL_ACL_OP_WRITE, DENY);
    CHECK(!sl_acl_authorize_any(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, T));
    add(&s, T, PRE, "u", ALICE, "*", SL_ACL_OP_ALL, ALLOW);
    CHECK(sl_acl_authorize_any(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, T));
    /* a DENY on the literal wildcard denies the type */
    add(&s, T, LIT, "*", ALICE, "*", SL_ACL_OP_WRITE, DENY);
    CHECK(!sl_acl_authorize_any(&az, s, ALICE, LOCAL, SL_ACL_OP_WRITE, T));
    sl_acl_set_unref(s);
}

TEST(many_prefixes_and_removal_keep_index_consistent)
{
    struct sl_acl_authorizer az = az_plain();
    struct sl_acl_set *s = NULL;
    char name[32];
    struct sl_uuid ids[200];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        ids[i] = uid(1000 + i);
        struct sl_acl_binding b =
            bind(T, i % 2 ? PRE : LIT, name, ALICE, "*", SL_ACL_OP_READ, ALLOW);
        CHECK_EQ(sl_acl_set_add(&s, &ids[i], &b), 0);
    }
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "p1xyz")); /* PREFIXED p1 */
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "p2"));    /* LITERAL p2 */
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "p2x"));
    for (int i = 0; i < 200; i++)
        if (i != 199)
            CHECK_EQ(sl_acl_set_remove(&s, &ids[i]), 0);
    CHECK_EQ(sl_acl_set_count(s), 1);
    CHECK(!may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "p1xyz"));
    CHECK(may(&az, s, ALICE, LOCAL, SL_ACL_OP_READ, T, "p199abc"));
    sl_acl_set_unref(s);
}

TEST(supported_ops_bits)
{
    int32_t t = sl_acl_supported_ops(T);
    CHECK(t & (1 << SL_ACL_OP_READ));
    CHECK(!(t & (1 << SL_ACL_OP_CLUSTER_ACTION)));
    CHECK(sl_acl_supported_ops(SL_ACL_RES_CLUSTER) & (1 << SL_ACL_OP_IDEMPOTENT_WRITE));
    CHECK_EQ(sl_acl_supported_ops(G), (1 << 3) | (1 << 8) | (1 << 6));
}

/* ---- the ACL records in the metadata image (meta/acls.c through apply.c) ---- */

#include "meta/apply.h"
#include "meta/image.h"
#include "proto/gen/meta_records.h"

static struct sl_AccessControlEntryRecord ace(int id, const char *name, int8_t pattern)
{
    struct sl_AccessControlEntryRecord r;
    sl_AccessControlEntryRecord_init(&r);
    r.Id = uid(id);
    r.ResourceType = T;
    r.ResourceName = sl_slice_cstr(name);
    r.PatternType = pattern;
    r.Principal = sl_slice_cstr(ALICE);
    r.Host = sl_slice_cstr("*");
    r.Operation = SL_ACL_OP_WRITE;
    r.PermissionType = ALLOW;
    return r;
}

TEST(records_apply_to_images_which_share_unchanged_sets)
{
    struct sl_acl_authorizer az = az_plain();
    struct sl_image_builder *b = sl_image_builder_new(NULL);
    struct sl_AccessControlEntryRecord r1 = ace(1, "orders", LIT), r2 = ace(2, "pay", PRE);
    CHECK_EQ(sl_meta_apply(b, 18, 0, &r1, 0), 0);
    CHECK_EQ(sl_meta_apply(b, 18, 0, &r2, 1), 0);
    struct sl_image *img1 = sl_image_builder_finish(b, 1);
    CHECK(img1 != NULL);
    CHECK_EQ(sl_acl_set_count(img1->acls), 2);
    CHECK(may(&az, img1->acls, ALICE, LOCAL, SL_ACL_OP_WRITE, T, "payments"));

    /* an image built on it without ACL records shares the set */
    b = sl_image_builder_new(img1);
    struct sl_image *img2 = sl_image_builder_finish(b, 2);
    CHECK(img2->acls == img1->acls);

    /* removing copies: the older image keeps what it had */
    b = sl_image_builder_new(img2);
    struct sl_RemoveAccessControlEntryRecord rm;
    sl_RemoveAccessControlEntryRecord_init(&rm);
    rm.Id = uid(2);
    CHECK_EQ(sl_meta_apply(b, 19, 0, &rm, 3), 0);
    struct sl_image *img3 = sl_image_builder_finish(b, 3);
    CHECK(img3->acls != img2->acls);
    CHECK_EQ(sl_acl_set_count(img3->acls), 1);
    CHECK_EQ(sl_acl_set_count(img2->acls), 2);
    CHECK(!may(&az, img3->acls, ALICE, LOCAL, SL_ACL_OP_WRITE, T, "payments"));
    CHECK(may(&az, img2->acls, ALICE, LOCAL, SL_ACL_OP_WRITE, T, "payments"));

    /* records that contradict the image: a taken id, an unknown id, a bad binding */
    b = sl_image_builder_new(img3);
    CHECK_EQ(sl_meta_apply(b, 18, 0, &r1, 4), -EINVAL);
    CHECK_EQ(sl_meta_apply(b, 19, 0, &rm, 4), -EINVAL);
    struct sl_AccessControlEntryRecord bad = ace(9, "x", SL_ACL_PAT_MATCH);
    CHECK_EQ(sl_meta_apply(b, 18, 0, &bad, 4), -EINVAL);
    sl_image_builder_free(b);
    sl_image_release(img1);
    sl_image_release(img2);
    sl_image_release(img3);
}
