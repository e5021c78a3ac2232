/*
 * test_ssl_principal.c - ssl.principal.mapping.rules (src/security/ssl_principal.c):
 * Kafka's DEFAULT and RULE:pattern/replacement/[LU] forms, with the cases
 * of Kafka's SslPrincipalMapperTest, and the bad rules it refuses.
 */
#include <errno.h>

#include "security/ssl_principal.h"
#include "testlib.h"

static char err[300];

/* Maps dn with rules; returns the principal name or a "<-errno>" marker. */
static const char *map(const char *rules, const char *dn)
{
    static char out[256];
    struct sl_ssl_rules *r = NULL;
    CHECK(sl_ssl_rules_parse(rules, &r, err, sizeof(err)) == 0);
    int rc = sl_ssl_rules_apply(r, dn, out, sizeof(out));
    if (rc < 0)
        snprintf(out, sizeof(out), "<%d>", rc);
    sl_ssl_rules_free(r);
    return out;
}

#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

TEST(default_keeps_the_subject)
{
    CHECK_STR(map("DEFAULT", "CN=alice,OU=eng,O=acme"), "CN=alice,OU=eng,O=acme");
}

TEST(first_matching_rule_decides_and_default_catches_the_rest)
{
    const char *rules = "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,DEFAULT";
    CHECK_STR(map(rules, "CN=kafka-server1,OU=ServiceUsers,O=Org,C=US"), "kafka-server1");
    CHECK_STR(map(rules, "CN=duke,OU=JavaSoft,O=Sun Microsystems"), "CN=duke,OU=JavaSoft,O=Sun Microsystems");
}

TEST(groups_and_lower_and_upper_case)
{
    const char *dn = "CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Palo Alto,ST=CA,C=US";
    CHECK_STR(map("RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L", dn), "duke@javasoft");
    CHECK_STR(map("RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/U", dn), "DUKE@JAVASOFT");
    CHECK_STR(map("RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$3 in $4/", dn),
              "Sun Microsystems in Palo Alto");
}

TEST(commas_in_a_pattern_spaces_around_rules_and_escaped_slashes)
{
    CHECK_STR(map("RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/", "CN=kafka,OU=x"), "kafka");
    CHECK_STR(map("  RULE:^CN=(.*),O=x$/u\\/$1/L ,  DEFAULT ", "CN=Bob,O=x"), "u/bob");
    CHECK_STR(map(" RULE:^O=(.*)$/$1/ , DEFAULT", "CN=Bob,O=x"), "CN=Bob,O=x");
}

TEST(only_a_match_of_the_whole_subject_applies)
{
    CHECK_STR(map("RULE:CN=([a-z]+)/$1/", "CN=bob,O=x"), "<-2>"); /* -ENOENT: no rule applies */
    CHECK_STR(map("RULE:CN=([a-z]+).*/$1/", "CN=bob,O=x"), "bob");
}

TEST(bad_rules_are_refused_with_the_key_in_the_message)
{
    static const char *bad[] = {"", "  ", "RULE:^CN=(.*)", "RULE:^CN=(.*)/$1", "garbage",
                                "RULE:^CN=(.*/$1/", "DEFAULT,RULE:x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sl_ssl_rules *r = (struct sl_ssl_rules *)1;
        err[0] = '\0';
        CHECK_EQ(sl_ssl_rules_parse(bad[i], &r, err, sizeof(err)), -EINVAL);
        CHECK(r == NULL);
        CHECK(strstr(err, "ssl.principal.mapping.rules") != NULL);
    }
}

TEST(a_result_too_long_for_the_buffer_is_enospc)
{
    struct sl_ssl_rules *r = NULL;
    char out[8];
    CHECK(sl_ssl_rules_parse("DEFAULT", &r, err, sizeof(err)) == 0);
    CHECK_EQ(sl_ssl_rules_apply(r, "CN=a-long-name", out, sizeof(out)), -ENOSPC);
    sl_ssl_rules_free(r);
}
