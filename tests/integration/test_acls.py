"""
test_acls.py - ACLs and their enforcement against real sluiced processes and
real clients: kafka-python's KafkaAdminClient and kafkajs create, describe and
delete ACLs; ACLs survive a restart; confluent-kafka (librdkafka) producers
and consumers, kafka-python and raw requests prove the authorizer's rules
(allow/deny per topic and group, prefixed patterns, hosts, DENY beats ALLOW,
super.users, allow.everyone.if.no.acl.found, idempotent and transactional
producers, a client Fetch posing as a replica - RELIABILITY.md rows
CVE-2018-1288 and CVE-2018-17196); `sluice acls` in kafka-acls.sh's layout.

On PLAINTEXT every connection is User:ANONYMOUS, so most enforcement tests
grant and refuse User:ANONYMOUS; TestTlsPrincipals proves per-user ACLs with
TLS client certificates (User:alice, User:bob). Each client is built by
client_conf() (aclproto.py) for a principal: aclproto.PRINCIPALS says how to
connect as each one (SASL users can be added there).

Run: /usr/bin/python3 tests/integration/test_acls.py [TestClass[.test_name]]
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataproto as d  # noqa: E402
import harness  # noqa: E402
from aclproto import *  # noqa: E402,F401,F403 - the helpers and Kafka's codes by name
from harness import Broker, int8, int16, int32, raw_request, string  # noqa: E402
from test_data import SharedBroker, create_topic  # noqa: E402


# ---- without an authorizer ---------------------------------------------------------------

class TestNoAuthorizer(SharedBroker):
    """authorizer.class.name empty: every request allowed, the ACL APIs say SECURITY_DISABLED."""

    def test_acl_apis_answer_security_disabled(self):
        err, acls = raw_describe_acls(self.broker.port)
        self.assertEqual((err, acls), (SECURITY_DISABLED, []))
        self.assertEqual([e for e, _ in raw_create_acls(self.broker.port, [
            (RES_TOPIC, "t", PAT_LITERAL, ANON, "*", OP_READ, PERM_ALLOW)])], [SECURITY_DISABLED])
        self.assertEqual([e for e, _ in raw_delete_acls(self.broker.port, [
            (RES_ANY, None, PAT_ANY, None, None, OP_ANY, PERM_ANY)])], [SECURITY_DISABLED])

    def test_kafka_python_sees_security_disabled(self):
        from kafka.errors import SecurityDisabledError
        a = admin(self.broker)
        try:
            with self.assertRaises(SecurityDisabledError):
                a.describe_acls(acl_filter())
        finally:
            a.close()

    def test_clients_work_without_acls(self):
        create_topic(self, self.broker, "noauth")
        self.assertEqual(produce_errors(self.broker, "noauth", 3), [])
        got, err = consume_group(self.broker, "noauth", "g-noauth", 3)
        self.assertIsNone(err)
        self.assertEqual(len(got), 3)


# ---- the ACL APIs -------------------------------------------------------------------------

class TestAclApis(SharedBroker):
    """The ACL APIs with User:ANONYMOUS a super user (it may manage ACLs)."""

    overrides = {"authorizer.class.name": AUTHORIZER, "super.users": "User:admin;" + ANON}

    def tearDown(self):
        remove_acls(self, self.broker, [acl_filter()])

    def test_kafka_python_create_describe_delete(self):
        a = admin(self.broker)
        try:
            acls = [acl(RES_TOPIC, "orders", OP_READ, principal="User:alice"),
                    acl(RES_TOPIC, "pay", OP_WRITE, PERM_DENY, principal="User:bob", host="10.0.0.1",
                        pattern=PAT_PREFIXED),
                    acl(RES_GROUP, "g1", OP_READ, principal="User:alice"),
                    acl(RES_CLUSTER, "kafka-cluster", OP_ALTER, principal="User:ops"),
                    acl(RES_TXN, "tx", OP_WRITE, principal="User:*")]
            res = a.create_acls(acls)
            self.assertEqual(res["failed"], [])
            self.assertEqual(len(res["succeeded"]), 5)
            got, err = a.describe_acls(acl_filter())
            self.assertEqual(err.__name__, "NoError")
            self.assertEqual(sorted(map(key, got)), sorted(map(key, acls)))
            # MATCH: what applies to topic "payments": the prefixed "pay" only
            got, _ = a.describe_acls(acl_filter(RES_TOPIC, "payments", PAT_MATCH))
            self.assertEqual([key(x) for x in got], [key(acls[1])])
            # principal filter
            got, _ = a.describe_acls(acl_filter(principal="User:alice"))
            self.assertEqual(sorted(map(key, got)), sorted([key(acls[0]), key(acls[2])]))
            # creating the same ACL again succeeds and adds nothing
            self.assertEqual(a.create_acls([acls[0]])["failed"], [])
            self.assertEqual(len(a.describe_acls(acl_filter())[0]), 5)
            # delete by filter: the matching ACLs are returned and gone
            res = a.delete_acls([acl_filter(RES_TOPIC)])
            _, matched, err = res[0]
            self.assertEqual(err.__name__, "NoError")
            self.assertEqual(sorted(key(m[0]) for m in matched), sorted([key(acls[0]), key(acls[1])]))
            got, _ = a.describe_acls(acl_filter())
            self.assertEqual(sorted(map(key, got)), sorted(map(key, acls[2:])))
        finally:
            a.close()

    def test_invalid_creations_and_filters_get_invalid_request(self):
        res = raw_create_acls(self.broker.port, [
            (RES_CLUSTER, "other-cluster", PAT_LITERAL, ANON, "*", OP_ALTER, PERM_ALLOW),
            (RES_TOPIC, "t", PAT_MATCH, ANON, "*", OP_READ, PERM_ALLOW),
            (RES_TOPIC, "t", PAT_LITERAL, ANON, "*", OP_ANY, PERM_ALLOW),
            (RES_TOPIC, "t", PAT_LITERAL, ANON, "*", OP_READ, PERM_ANY),
            (RES_ANY, "t", PAT_LITERAL, ANON, "*", OP_READ, PERM_ALLOW),
            (RES_TOPIC, "", PAT_LITERAL, ANON, "*", OP_READ, PERM_ALLOW),
            (RES_TOPIC, "t", PAT_LITERAL, "alice", "*", OP_READ, PERM_ALLOW),
            (RES_TOPIC, "good", PAT_LITERAL, ANON, "*", OP_READ, PERM_ALLOW),
            (9, "t", PAT_LITERAL, ANON, "*", OP_READ, PERM_ALLOW),
        ])
        self.assertEqual([e for e, _ in res], [INVALID_REQUEST] * 7 + [0, INVALID_REQUEST])
        self.assertIn("kafka-cluster", res[0][1])
        err, acls = raw_describe_acls(self.broker.port)
        self.assertEqual((err, [a[1] for a in acls]), (0, ["good"]))
        # filters with UNKNOWN (0) values
        self.assertEqual(raw_describe_acls(self.broker.port, rt=0)[0], INVALID_REQUEST)
        self.assertEqual(raw_describe_acls(self.broker.port, op=0)[0], INVALID_REQUEST)
        self.assertEqual(raw_describe_acls(self.broker.port, pattern=0)[0], INVALID_REQUEST)
        res = raw_delete_acls(self.broker.port, [(RES_ANY, None, PAT_ANY, None, None, 0, PERM_ANY),
                                                 (RES_TOPIC, "good", PAT_LITERAL, None, None, OP_ANY, PERM_ANY)])
        self.assertEqual(res[0], (INVALID_REQUEST, []))
        self.assertEqual(res[1][0], 0)
        self.assertEqual([m[3] for m in res[1][1]], ["good"])  # (error, message, type, name, ...)
        self.assertEqual(raw_describe_acls(self.broker.port), (0, []))

    def test_bad_input_is_refused_and_the_broker_carries_on(self):
        # out-of-range codes: INVALID_REQUEST, per item
        self.assertEqual(raw_describe_acls(self.broker.port, rt=127)[0], INVALID_REQUEST)
        self.assertEqual(raw_describe_acls(self.broker.port, perm=-1)[0], INVALID_REQUEST)
        res = raw_create_acls(self.broker.port, [(RES_TOPIC, "t", PAT_LITERAL, ANON, "*", 127, PERM_ALLOW),
                                                 (RES_TOPIC, "t", 127, ANON, "*", OP_READ, PERM_ALLOW)])
        self.assertEqual([e for e, _ in res], [INVALID_REQUEST] * 2)
        # a null where the schema allows none (the resource name) is broken framing: closed
        null_name = (int32(1) + int8(RES_TOPIC) + string(None) + int8(PAT_LITERAL) + string(ANON) + string("*")
                     + int8(OP_READ) + int8(PERM_ALLOW))
        self.assertIsNone(raw_request(self.broker.port, CREATE_ACLS, 1, null_name))
        res = raw_delete_acls(self.broker.port, [(RES_ANY, None, PAT_ANY, None, None, OP_ANY, 127)])
        self.assertEqual(res, [(INVALID_REQUEST, [])])
        # broken framing: an array longer than the bytes left closes the connection
        self.assertIsNone(raw_request(self.broker.port, CREATE_ACLS, 1, int32(1000000) + int8(2)))
        self.assertIsNone(raw_request(self.broker.port, DESCRIBE_ACLS, 1, int8(2) + int16(5000)))
        # v0 is gone (KIP-896): the connection closes, as for any unsupported version
        self.assertIsNone(raw_request(self.broker.port, DESCRIBE_ACLS, 0, int8(1) + string(None) + string(None)
                                      + string(None) + int8(1) + int8(1)))
        self.assertEqual(raw_describe_acls(self.broker.port), (0, []))
        self.assertTrue(self.broker.running())

    def test_kafkajs_create_describe_delete(self):
        # kafkajs' numeric enums are Kafka's codes
        entry = {"resourceType": RES_TOPIC, "resourceName": "js-topic", "resourcePatternType": PAT_PREFIXED,
                 "principal": "User:js", "host": "*", "operation": OP_READ, "permissionType": PERM_ALLOW}
        res = kafkajs(self.broker, {"op": "createAcls", "acl": [entry]})
        self.assertTrue(res["ok"], res)
        res = kafkajs(self.broker, {"op": "describeAcls", "resourceType": RES_TOPIC, "resourceName": "js-topic-x",
                                    "resourcePatternType": PAT_MATCH, "operation": OP_ANY,
                                    "permissionType": PERM_ANY})
        self.assertTrue(res["ok"], res)
        self.assertEqual(res["result"]["resources"], [
            {"resourceType": RES_TOPIC, "resourceName": "js-topic", "resourcePatternType": PAT_PREFIXED,
             "acls": [{"principal": "User:js", "host": "*", "operation": OP_READ, "permissionType": PERM_ALLOW}]}])
        res = kafkajs(self.broker, {"op": "deleteAcls", "filters": [
            {"resourceType": RES_ANY, "resourcePatternType": PAT_ANY, "operation": OP_ANY,
             "permissionType": PERM_ANY, "principal": "User:js"}]})
        self.assertTrue(res["ok"], res)
        self.assertEqual(len(res["result"]["filterResponses"][0]["matchingAcls"]), 1)
        self.assertEqual(raw_describe_acls(self.broker.port), (0, []))

    def test_super_user_bypasses_deny(self):
        create_topic(self, self.broker, "su-topic")
        add_acls(self, self.broker, [acl(RES_TOPIC, "su-topic", OP_ALL, PERM_DENY, principal="User:*")])
        self.assertEqual(produce_errors(self.broker, "su-topic", 2), [])
        got, err = consume_group(self.broker, "su-topic", "g-su", 2)
        self.assertEqual((len(got), err), (2, None))


class TestAclsSurviveRestart(unittest.TestCase):

    def test_acls_and_their_effect_survive_a_restart(self):
        b = Broker({"authorizer.class.name": AUTHORIZER, "super.users": ANON}, name="acl-restart").start()
        try:
            acls = [acl(RES_TOPIC, "keep", OP_WRITE), acl(RES_TOPIC, "keep", OP_DESCRIBE),
                    acl(RES_TOPIC, "gone", OP_READ, principal="User:x"),
                    acl(RES_CLUSTER, "kafka-cluster", OP_ALTER), acl(RES_CLUSTER, "kafka-cluster", OP_DESCRIBE)]
            add_acls(self, b, acls)
            create_topic(self, b, "keep")
            create_topic(self, b, "blocked")
            remove_acls(self, b, [acl_filter(RES_TOPIC, "gone", PAT_LITERAL)])
            before = sorted(raw_describe_acls(b.port)[1])
            self.assertEqual(len(before), 4)
            b.overrides = [(k, v) for k, v in b.overrides if k != "super.users"]
            b.restart()
            self.assertEqual(sorted(raw_describe_acls(b.port)[1]), before)
            # ANONYMOUS is no longer a super user: only the ACLs let it write
            self.assertEqual(produce_errors(b, "keep", 2), [])
            self.assertEqual(produce_errors(b, "blocked", 1), [TOPIC_AUTHORIZATION_FAILED])
        finally:
            b.cleanup()


# ---- enforcement ----------------------------------------------------------------------------

class TestEnforcement(unittest.TestCase):
    """User:ANONYMOUS may manage ACLs and create topics (ALTER, DESCRIBE, CREATE on
    the cluster, granted while it was a super user, kept across a restart) and
    nothing else unless a test grants it."""

    broker = None

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker({"authorizer.class.name": AUTHORIZER, "super.users": ANON}, name="acl-enforce")
        cls.broker.start()

        class T(unittest.TestCase):
            def runTest(self):
                pass
        t = T()
        add_acls(t, cls.broker, [acl(RES_CLUSTER, "kafka-cluster", op) for op in (OP_ALTER, OP_DESCRIBE, OP_CREATE)])
        cls.broker.overrides = [(k, v) for k, v in cls.broker.overrides if k != "super.users"]
        cls.broker.restart()

    @classmethod
    def tearDownClass(cls):
        if cls.broker is not None:
            cls.broker.cleanup()

    def setUp(self):
        self.assertTrue(self.broker.running(), "sluiced died:\n" + self.broker.report())

    def grant(self, *acls):
        add_acls(self, self.broker, list(acls))

    def topic(self, name, partitions=1):
        # CreateTopics answers once the partitions exist; the metadata wait of
        # create_topic() would need DESCRIBE, which these tests grant one by one
        res = d.create_topics(self.broker.port, [(name, partitions, 1)])
        self.assertEqual(res[name][0], 0, "CreateTopics %s: %r" % (name, res[name]))

    # -- produce --

    def test_producer_without_acl_gets_topic_authorization_failed(self):
        self.topic("nw-none")
        self.assertEqual(produce_errors(self.broker, "nw-none"), [TOPIC_AUTHORIZATION_FAILED])
        # DESCRIBE alone lets the client see the topic but not write it: the Produce itself is refused
        self.grant(acl(RES_TOPIC, "nw-none", OP_DESCRIBE))
        self.assertEqual(produce_errors(self.broker, "nw-none"), [TOPIC_AUTHORIZATION_FAILED])
        err, _, _ = d.produce(self.broker.port, "nw-none", 0, d.encode_batch([(b"k", b"v")]))
        self.assertEqual(err, TOPIC_AUTHORIZATION_FAILED)
        self.grant(acl(RES_TOPIC, "nw-none", OP_WRITE))
        self.assertEqual(produce_errors(self.broker, "nw-none", 3), [])

    def test_deny_beats_allow(self):
        self.topic("p-deny")
        self.grant(acl(RES_TOPIC, "p-", OP_ALL, pattern=PAT_PREFIXED),
                   acl(RES_TOPIC, "p-deny", OP_WRITE, PERM_DENY))
        self.assertEqual(produce_errors(self.broker, "p-deny"), [TOPIC_AUTHORIZATION_FAILED])
        # the deny is for WRITE only: READ still allowed by the prefixed ALL
        err, _, _ = d.fetch(self.broker.port, "p-deny", 0, 0)
        self.assertEqual(err, 0)

    def test_prefixed_pattern_covers_names_with_the_prefix(self):
        for t in ("pre-a", "pre-b", "prex"):
            self.topic(t)
        self.grant(acl(RES_TOPIC, "pre-", OP_WRITE, pattern=PAT_PREFIXED))
        self.assertEqual(produce_errors(self.broker, "pre-a"), [])
        self.assertEqual(produce_errors(self.broker, "pre-b"), [])
        self.assertEqual(produce_errors(self.broker, "prex"), [TOPIC_AUTHORIZATION_FAILED])

    def test_host_acls(self):
        self.topic("h-local")
        self.topic("h-other")
        self.grant(acl(RES_TOPIC, "h-local", OP_WRITE, host="127.0.0.1"),
                   acl(RES_TOPIC, "h-other", OP_WRITE, host="10.9.9.9"))
        self.assertEqual(produce_errors(self.broker, "h-local"), [])
        self.assertEqual(produce_errors(self.broker, "h-other"), [TOPIC_AUTHORIZATION_FAILED])

    def test_wildcard_principal_and_topic(self):
        self.topic("w-any")
        self.grant(acl(RES_TOPIC, "*", OP_DESCRIBE, principal="User:*"))
        self.assertEqual(produce_errors(self.broker, "w-any"), [TOPIC_AUTHORIZATION_FAILED])
        self.grant(acl(RES_TOPIC, "w-any", OP_WRITE, principal="User:*"))
        self.assertEqual(produce_errors(self.broker, "w-any"), [])

    # -- consume --

    def test_consumer_without_group_read_gets_group_authorization_failed(self):
        self.topic("c-grp")
        self.grant(acl(RES_TOPIC, "c-grp", OP_WRITE), acl(RES_TOPIC, "c-grp", OP_READ))
        self.assertEqual(produce_errors(self.broker, "c-grp", 4), [])
        got, err = consume_group(self.broker, "c-grp", "g-denied", 4)
        self.assertEqual((got, err), ([], GROUP_AUTHORIZATION_FAILED))
        # DESCRIBE finds the coordinator; joining still needs READ
        self.grant(acl(RES_GROUP, "g-describe-only", OP_DESCRIBE))
        got, err = consume_group(self.broker, "c-grp", "g-describe-only", 4)
        self.assertEqual((got, err), ([], GROUP_AUTHORIZATION_FAILED))
        self.assertEqual(raw_find_coordinator(self.broker.port, "g-describe-only"), 0)
        self.assertEqual(raw_find_coordinator(self.broker.port, "g-denied"), GROUP_AUTHORIZATION_FAILED)
        self.grant(acl(RES_GROUP, "g-allowed", OP_READ))
        got, err = consume_group(self.broker, "c-grp", "g-allowed", 4)
        self.assertEqual((len(got), err), (4, None))
        # the group's offsets were committed and can be read back (DESCRIBE implied by READ)
        from kafka import KafkaAdminClient
        a = KafkaAdminClient(**kp_conf(self.broker))
        try:
            offsets = a.list_consumer_group_offsets("g-allowed")
        finally:
            a.close()
        self.assertTrue(all(v.offset >= 0 for v in offsets.values()), offsets)

    def test_consumer_without_topic_read_gets_topic_authorization_failed(self):
        self.topic("c-topic")
        self.grant(acl(RES_TOPIC, "c-topic", OP_WRITE), acl(RES_GROUP, "g-ctopic", OP_READ))
        self.assertEqual(produce_errors(self.broker, "c-topic", 2), [])
        got, err = consume_group(self.broker, "c-topic", "g-ctopic", 2)
        self.assertEqual((got, err), ([], TOPIC_AUTHORIZATION_FAILED))
        err, _, _ = d.fetch(self.broker.port, "c-topic", 0, 0)
        self.assertEqual(err, TOPIC_AUTHORIZATION_FAILED)

    def test_fetch_posing_as_replica_is_refused(self):
        # CVE-2018-1288: replica_id >= 0 from a client, READ or not
        self.topic("f-replica")
        self.grant(acl(RES_TOPIC, "f-replica", OP_ALL))
        self.assertEqual(raw_fetch_as_replica(self.broker.port, "f-replica"), [(0, TOPIC_AUTHORIZATION_FAILED)])
        err, _, _ = d.fetch(self.broker.port, "f-replica", 0, 0)
        self.assertEqual(err, 0)

    # -- metadata --

    def test_metadata_hides_topics_that_may_not_be_described(self):
        self.topic("m-visible")
        self.topic("m-hidden")
        self.grant(acl(RES_TOPIC, "m-visible", OP_READ))  # READ implies DESCRIBE
        names = raw_metadata_all(self.broker.port)
        self.assertIn("m-visible", names)
        self.assertNotIn("m-hidden", names)
        from confluent_kafka.admin import AdminClient
        listed = AdminClient(client_conf(self.broker)).list_topics(timeout=10).topics
        self.assertIn("m-visible", listed)
        self.assertNotIn("m-hidden", listed)
        # named: refused, whether the topic exists or not
        md = d.metadata(self.broker.port, ["m-hidden", "m-nonexistent", "m-visible"])
        self.assertEqual(md["m-hidden"][0], TOPIC_AUTHORIZATION_FAILED)
        self.assertEqual(md["m-nonexistent"][0], TOPIC_AUTHORIZATION_FAILED)
        self.assertEqual(md["m-visible"], (0, [0]))

    def test_authorized_operations_in_metadata(self):
        self.topic("ops-t")
        self.grant(acl(RES_TOPIC, "ops-t", OP_READ), acl(RES_TOPIC, "ops-t", 11))
        topics, cluster = raw_metadata_ops(self.broker.port, ["ops-t"])
        self.assertEqual(topics["ops-t"], (0, bits(OP_READ, OP_DESCRIBE, 10, 11)))  # implied DESCRIBE(_CONFIGS)
        self.assertEqual(cluster, bits(OP_ALTER, OP_DESCRIBE, OP_CREATE))  # what this class granted

    def test_metadata_auto_creation_needs_create(self):
        self.grant(acl(RES_TOPIC, "ac-", OP_DESCRIBE, pattern=PAT_PREFIXED),
                   acl(RES_CLUSTER, "kafka-cluster", OP_CREATE, PERM_DENY))
        try:
            md = d.metadata(self.broker.port, ["ac-no"], allow_auto_create=True)
            self.assertEqual(md["ac-no"][0], TOPIC_AUTHORIZATION_FAILED)
            self.grant(acl(RES_TOPIC, "ac-yes", OP_CREATE))
            d.wait_for(lambda: d.metadata(self.broker.port, ["ac-yes"], allow_auto_create=True)["ac-yes"] == (0, [0]),
                       20, "auto-created topic ac-yes")
        finally:
            remove_acls(self, self.broker, [acl_filter(RES_CLUSTER, perm=PERM_DENY)])
        self.assertNotIn("ac-no", raw_metadata_all(self.broker.port))

    def test_topic_creation_and_deletion_need_their_acls(self):
        # CREATE on the cluster (granted in this class) or on the topic; deny the cluster's
        self.grant(acl(RES_CLUSTER, "kafka-cluster", OP_CREATE, PERM_DENY),
                   acl(RES_TOPIC, "ct-ok", OP_CREATE))
        try:
            res = d.create_topics(self.broker.port, [("ct-denied", 1, 1), ("ct-ok", 1, 1)])
        finally:
            remove_acls(self, self.broker, [acl_filter(RES_CLUSTER, perm=PERM_DENY)])
        self.assertEqual(res["ct-denied"][0], TOPIC_AUTHORIZATION_FAILED)
        self.assertEqual(res["ct-ok"][0], 0)
        from kafka.errors import TopicAuthorizationFailedError
        a = admin(self.broker)
        try:
            res = a.delete_topics(["ct-ok"])
            self.assertEqual(res.topic_error_codes[0][1], TOPIC_AUTHORIZATION_FAILED)
            self.grant(acl(RES_TOPIC, "ct-ok", OP_DELETE))
            res = a.delete_topics(["ct-ok"])
            self.assertEqual(res.topic_error_codes[0][1], 0)
        except TopicAuthorizationFailedError:
            pass  # older kafka-python raises instead of returning the code
        finally:
            a.close()

    def test_create_topics_reports_configs_only_with_describe_configs(self):
        from test_configs_dynamic import raw_create_topics_v7
        err, _, cfgs = raw_create_topics_v7(self.broker.port, "ctc-hidden", {"retention.ms": "100000"})
        self.assertEqual((err, cfgs), (0, {}))  # created; its configs not shown
        self.grant(acl(RES_TOPIC, "ctc-shown", 11))  # ALTER_CONFIGS implies DESCRIBE_CONFIGS
        err, _, cfgs = raw_create_topics_v7(self.broker.port, "ctc-shown", {"retention.ms": "100000"})
        self.assertEqual(err, 0)
        self.assertEqual(cfgs["retention.ms"][0], "100000")

    def test_describe_configs_needs_describe_configs(self):
        self.topic("cfg-t")
        from kafka.admin import ConfigResource, ConfigResourceType
        a = admin(self.broker)
        try:
            res = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "cfg-t")])
            self.assertEqual(res[0].resources[0][0], TOPIC_AUTHORIZATION_FAILED)
            self.grant(acl(RES_TOPIC, "cfg-t", 11))  # ALTER_CONFIGS implies DESCRIBE_CONFIGS
            res = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "cfg-t")])
            self.assertEqual(res[0].resources[0][0], 0)
        finally:
            a.close()

    # -- idempotent and transactional producers (CVE-2018-17196) --

    def test_idempotent_producer_needs_a_write_acl(self):
        self.topic("i-topic")
        # no WRITE anywhere for ANONYMOUS yet in this test's view? other tests may have granted some:
        # deny IDEMPOTENT_WRITE and WRITE on every topic and transactional id for this check
        self.grant(acl(RES_TOPIC, "*", OP_WRITE, PERM_DENY), acl(RES_TXN, "*", OP_WRITE, PERM_DENY))
        try:
            err, _, _ = init_producer_id(self.broker.port)
            self.assertEqual(err, CLUSTER_AUTHORIZATION_FAILED)
        finally:
            remove_acls(self, self.broker, [acl_filter(RES_TOPIC, "*", PAT_LITERAL, perm=PERM_DENY),
                                            acl_filter(RES_TXN, "*", PAT_LITERAL, perm=PERM_DENY)])
        # WRITE on one topic implies IDEMPOTENT_WRITE (KIP-679): librdkafka's idempotent producer works
        self.grant(acl(RES_TOPIC, "i-topic", OP_WRITE))
        self.assertEqual(produce_errors(self.broker, "i-topic", 3, **{"enable.idempotence": True}), [])

    def test_transactional_producer_without_acl_is_refused(self):
        from confluent_kafka import KafkaException, Producer
        self.topic("tx-topic")
        self.grant(acl(RES_TOPIC, "tx-topic", OP_WRITE))
        p = Producer(client_conf(self.broker, **{"transactional.id": "tx-denied", "message.timeout.ms": 15000}))
        with self.assertRaises(KafkaException) as cm:
            p.init_transactions(20)
        self.assertEqual(cm.exception.args[0].code(), TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        # a raw transactional batch naming no transactional id, or one not granted: refused
        self.assertEqual(d.produce(self.broker.port, "tx-topic", 0, transactional_batch())[0],
                         TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        resp = raw_request(self.broker.port, 0, 8, d.produce_body("tx-topic", [(0, transactional_batch())],
                                                                  transactional_id="tx-denied"))
        self.assertEqual(d.parse_produce_v8(resp)[("tx-topic", 0)][0], TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        # granted: a whole transaction commits
        self.grant(acl(RES_TXN, "tx-ok", OP_WRITE))
        p = Producer(client_conf(self.broker, **{"transactional.id": "tx-ok", "message.timeout.ms": 15000}))
        p.init_transactions(20)
        p.begin_transaction()
        p.produce("tx-topic", value=b"in-txn")
        p.commit_transaction(20)

    def test_transactions_are_listed_and_described_only_with_describe(self):
        from confluent_kafka import Producer
        self.topic("lt-topic")
        self.grant(acl(RES_TOPIC, "lt-topic", OP_WRITE), acl(RES_TXN, "lt-", OP_WRITE, pattern=PAT_PREFIXED))
        for tid in ("lt-seen", "lt-hidden"):
            p = Producer(client_conf(self.broker, **{"transactional.id": tid, "message.timeout.ms": 15000}))
            p.init_transactions(20)
            p.begin_transaction()
            p.produce("lt-topic", value=tid.encode())
            p.commit_transaction(20)
        self.assertTrue({"lt-seen", "lt-hidden"} <= set(raw_list_transactions(self.broker.port)))
        self.grant(acl(RES_TXN, "lt-hidden", OP_DESCRIBE, PERM_DENY))
        listed = raw_list_transactions(self.broker.port)
        self.assertIn("lt-seen", listed)
        self.assertNotIn("lt-hidden", listed)
        self.assertEqual(raw_describe_transactions(self.broker.port, ["lt-seen", "lt-hidden"]),
                         {"lt-seen": 0, "lt-hidden": TRANSACTIONAL_ID_AUTHORIZATION_FAILED})

    def test_kip848_heartbeat_and_describe(self):
        import cgproto
        self.topic("cg-topic")
        hb = cgproto.heartbeat(self.broker.port, "cg-group", "cg-member-1", 0, topics=["cg-topic"], rebalance_ms=30000, owned={})
        self.assertEqual(hb["error"], GROUP_AUTHORIZATION_FAILED)
        self.grant(acl(RES_GROUP, "cg-group", OP_READ))
        hb = cgproto.heartbeat(self.broker.port, "cg-group", "cg-member-1", 0, topics=["cg-topic"], rebalance_ms=30000, owned={})
        self.assertEqual(hb["error"], TOPIC_AUTHORIZATION_FAILED)  # may not describe a subscribed topic
        self.grant(acl(RES_TOPIC, "cg-topic", OP_READ))
        self.assertEqual(raw_find_coordinator(self.broker.port, "cg-group"), 0)
        hb = d.wait_for(lambda: (lambda h: h if h["error"] == 0 else None)(
            cgproto.heartbeat(self.broker.port, "cg-group", "cg-member-1", 0, topics=["cg-topic"], rebalance_ms=30000, owned={})), 20,
            "a member joined")
        self.assertEqual(hb["error"], 0)
        described = cgproto.describe(self.broker.port, ["cg-group"])
        self.assertEqual(described["cg-group"]["error"], 0)
        self.grant(acl(RES_GROUP, "cg-group", OP_DESCRIBE, PERM_DENY))
        self.assertEqual(cgproto.describe(self.broker.port, ["cg-group"])["cg-group"]["error"],
                         GROUP_AUTHORIZATION_FAILED)

    # -- groups --

    def test_list_groups_shows_only_describable_groups(self):
        self.topic("lg-topic")
        self.grant(acl(RES_TOPIC, "lg-topic", OP_ALL), acl(RES_GROUP, "lg-", OP_READ, pattern=PAT_PREFIXED))
        self.assertEqual(produce_errors(self.broker, "lg-topic", 1), [])
        for g in ("lg-seen", "lg-hidden"):
            got, err = consume_group(self.broker, "lg-topic", g, 1)
            self.assertEqual((len(got), err), (1, None))
        self.grant(acl(RES_GROUP, "lg-hidden", OP_DESCRIBE, PERM_DENY))
        # ANONYMOUS has DESCRIBE on the cluster here: it sees every group; take that away with a DENY
        self.grant(acl(RES_CLUSTER, "kafka-cluster", OP_DESCRIBE, PERM_DENY))
        try:
            a = admin(self.broker)
            try:
                groups = [g for g, _ in a.list_consumer_groups()]
                described = {g.group: g.state for g in a.describe_consumer_groups(["lg-seen"])}
            finally:
                a.close()
        finally:
            # DeleteAcls needs ALTER, not DESCRIBE, on the cluster
            remove_acls(self, self.broker, [acl_filter(RES_CLUSTER, perm=PERM_DENY)])
        self.assertIn("lg-seen", groups)
        self.assertNotIn("lg-hidden", groups)
        self.assertIn("lg-seen", described)

    def test_offset_commit_commits_the_allowed_topics_only(self):
        self.topic("oc-yes")
        self.topic("oc-no")
        self.assertEqual(raw_offset_commit(self.broker.port, "oc-group", {"oc-yes": 1, "oc-no": 1}),
                         {"oc-yes": GROUP_AUTHORIZATION_FAILED, "oc-no": GROUP_AUTHORIZATION_FAILED})
        self.grant(acl(RES_GROUP, "oc-group", OP_READ), acl(RES_TOPIC, "oc-yes", OP_READ))
        want = {"oc-yes": 0, "oc-no": TOPIC_AUTHORIZATION_FAILED}
        self.assertEqual(raw_find_coordinator(self.broker.port, "oc-group"), 0)
        # the first commit may find the offsets topic still being created (COORDINATOR_NOT_AVAILABLE)
        d.wait_for(lambda: raw_offset_commit(self.broker.port, "oc-group", {"oc-yes": 1, "oc-no": 1}) == want, 20,
                   "a commit of oc-yes only")
        from kafka import KafkaAdminClient
        a = KafkaAdminClient(**kp_conf(self.broker))
        try:
            committed = {tp.topic: om.offset for tp, om in a.list_consumer_group_offsets("oc-group").items()}
        finally:
            a.close()
        self.assertEqual(committed, {"oc-yes": 1})

    def test_group_deletion_and_description_per_group(self):
        from kafka.errors import GroupAuthorizationFailedError
        self.topic("dg-topic")
        self.grant(acl(RES_TOPIC, "dg-topic", OP_READ), acl(RES_GROUP, "dg-", OP_READ, pattern=PAT_PREFIXED))
        for g in ("dg-a", "dg-b"):
            self.assertEqual(raw_find_coordinator(self.broker.port, g), 0)
            # the first commit may find the offsets topic still being created (COORDINATOR_NOT_AVAILABLE)
            d.wait_for(lambda: raw_offset_commit(self.broker.port, g, {"dg-topic": 0}) == {"dg-topic": 0}, 20,
                       "offset commit of group %s" % g)
        self.grant(acl(RES_GROUP, "dg-a", OP_DELETE))
        a = admin(self.broker)
        try:
            res = {g: e.__name__ for g, e in a.delete_consumer_groups(["dg-a", "dg-b"])}
            self.assertEqual(res, {"dg-a": "NoError", "dg-b": "GroupAuthorizationFailedError"})
            # without DESCRIBE the client cannot even find the coordinator
            self.grant(acl(RES_GROUP, "dg-b", OP_DESCRIBE, PERM_DENY))
            with self.assertRaises(GroupAuthorizationFailedError):
                a.describe_consumer_groups(["dg-b"])
        finally:
            a.close()
        # DescribeGroups itself: per group
        self.assertEqual(raw_describe_groups(self.broker.port, ["dg-a", "dg-b"]),
                         {"dg-a": 0, "dg-b": GROUP_AUTHORIZATION_FAILED})

    def test_admin_apis_on_topics(self):
        from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions
        from kafka.errors import TopicAuthorizationFailedError
        self.topic("adm-t")
        a = admin(self.broker)
        try:
            res = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "adm-t", {"retention.ms": "100000"})])
            self.assertEqual(res.resources[0][0], TOPIC_AUTHORIZATION_FAILED)
            with self.assertRaises(TopicAuthorizationFailedError):
                a.create_partitions({"adm-t": NewPartitions(2)})
            self.assertEqual(raw_delete_records(self.broker.port, "adm-t", 0), TOPIC_AUTHORIZATION_FAILED)
            self.grant(acl(RES_TOPIC, "adm-t", 11), acl(RES_TOPIC, "adm-t", OP_ALTER),
                       acl(RES_TOPIC, "adm-t", OP_DELETE))
            res = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "adm-t", {"retention.ms": "100000"})])
            self.assertEqual(res.resources[0][0], 0)
            res = a.create_partitions({"adm-t": NewPartitions(2)})
            self.assertEqual(res.topic_errors[0][1], 0)
            self.assertEqual(raw_delete_records(self.broker.port, "adm-t", 0), 0)
            # broker configs and log dirs are the cluster's
            res = a.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")])
            self.assertEqual(res[0].resources[0][0], CLUSTER_AUTHORIZATION_FAILED)
        finally:
            a.close()
        self.assertEqual(raw_describe_log_dirs(self.broker.port), 1)  # DESCRIBE on the cluster is granted here
        self.grant(acl(RES_CLUSTER, "kafka-cluster", OP_DESCRIBE, PERM_DENY))
        try:
            self.assertEqual(raw_describe_log_dirs(self.broker.port), 0)
        finally:
            remove_acls(self, self.broker, [acl_filter(RES_CLUSTER, perm=PERM_DENY)])

    def test_transactional_offsets_need_group_read(self):
        from confluent_kafka import KafkaException, Producer, TopicPartition
        self.topic("txo-topic")
        self.grant(acl(RES_TOPIC, "txo-topic", OP_ALL), acl(RES_TXN, "txo-id", OP_WRITE))
        p = Producer(client_conf(self.broker, **{"transactional.id": "txo-id", "message.timeout.ms": 15000}))
        p.init_transactions(20)
        p.begin_transaction()
        p.produce("txo-topic", value=b"x")
        from confluent_kafka import Consumer
        meta = Consumer(client_conf(self.broker, **{"group.id": "txo-group"})).consumer_group_metadata()
        with self.assertRaises(KafkaException) as cm:
            p.send_offsets_to_transaction([TopicPartition("txo-topic", 0, 1)], meta, 20)
        self.assertEqual(cm.exception.args[0].code(), GROUP_AUTHORIZATION_FAILED)
        p.abort_transaction(20)

    def test_acl_apis_need_cluster_alter_and_describe(self):
        self.grant(acl(RES_CLUSTER, "kafka-cluster", OP_DESCRIBE, PERM_DENY))
        try:
            self.assertEqual(raw_describe_acls(self.broker.port)[0], CLUSTER_AUTHORIZATION_FAILED)
        finally:
            remove_acls(self, self.broker, [acl_filter(RES_CLUSTER, perm=PERM_DENY)])
        self.assertEqual(raw_describe_acls(self.broker.port)[0], 0)
        self.grant(acl(RES_CLUSTER, "kafka-cluster", OP_ALTER, PERM_DENY))
        res = raw_create_acls(self.broker.port, [(RES_TOPIC, "x", PAT_LITERAL, ANON, "*", OP_READ, PERM_ALLOW)])
        self.assertEqual([e for e, _ in res], [CLUSTER_AUTHORIZATION_FAILED])
        res = raw_delete_acls(self.broker.port, [(RES_ANY, None, PAT_ANY, None, None, OP_ANY, PERM_ANY)])
        self.assertEqual(res, [(CLUSTER_AUTHORIZATION_FAILED, [])])
        # locked out: only a restart with a super user can remove the DENY (as in Kafka)
        self.broker.overrides.append(("super.users", ANON))
        self.broker.restart()
        try:
            remove_acls(self, self.broker, [acl_filter(RES_CLUSTER, perm=PERM_DENY)])
        finally:
            self.broker.overrides = [(k, v) for k, v in self.broker.overrides if k != "super.users"]
            self.broker.restart()
        self.assertEqual(raw_describe_acls(self.broker.port)[0], 0)


class TestNothingGranted(unittest.TestCase):
    """The authorizer on and no ACL for User:ANONYMOUS: every API that needs one is refused."""

    def test_everything_is_refused_by_default(self):
        b = Broker({"authorizer.class.name": AUTHORIZER, "super.users": ANON}, name="acl-none")
        try:
            b.start()
            self.assertEqual(d.create_topics(b.port, [("nt", 1, 1)])["nt"][0], 0)
            b.overrides = [(k, v) for k, v in b.overrides if k != "super.users"]
            b.restart()
            self.assertEqual(d.produce(b.port, "nt", 0, d.encode_batch([(b"k", b"v")]))[0],
                             TOPIC_AUTHORIZATION_FAILED)
            self.assertEqual(d.fetch(b.port, "nt", 0, 0)[0], TOPIC_AUTHORIZATION_FAILED)
            self.assertEqual(d.list_offsets(b.port, "nt", 0)[0], TOPIC_AUTHORIZATION_FAILED)
            self.assertEqual(raw_metadata_all(b.port), {})
            self.assertEqual(d.create_topics(b.port, [("nt2", 1, 1)])["nt2"][0], TOPIC_AUTHORIZATION_FAILED)
            self.assertEqual(raw_find_coordinator(b.port, "g"), GROUP_AUTHORIZATION_FAILED)
            self.assertEqual(init_producer_id(b.port)[0], CLUSTER_AUTHORIZATION_FAILED)
            self.assertEqual(init_producer_id(b.port, "tx")[0], TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
            self.assertEqual(raw_describe_acls(b.port)[0], CLUSTER_AUTHORIZATION_FAILED)
            self.assertEqual(raw_describe_log_dirs(b.port), 0)
            self.assertEqual(raw_elect_leaders(b.port, "nt"), (CLUSTER_AUTHORIZATION_FAILED,
                                                              [(0, CLUSTER_AUTHORIZATION_FAILED)]))
            topics, cluster = raw_metadata_ops(b.port, ["nt"])
            self.assertEqual((topics["nt"][0], cluster), (TOPIC_AUTHORIZATION_FAILED, 0))
        finally:
            b.cleanup()


class TestTlsPrincipals(unittest.TestCase):
    """Per-user principals from TLS client certificates (ssl.client.auth=required,
    ssl.principal.mapping.rules CN -> name): User:alice and User:bob on the SSL
    listener, User:ANONYMOUS (a super user, for administration) on PLAINTEXT."""

    broker = None
    certs = None

    @classmethod
    def setUpClass(cls):
        import shutil
        import tempfile
        cls.certs = tempfile.mkdtemp(prefix="sluice-acl-tls-")
        try:
            make_test_certs(cls.certs, ["alice", "bob"])
        except (OSError, subprocess.CalledProcessError) as e:
            shutil.rmtree(cls.certs, ignore_errors=True)
            raise unittest.SkipTest("cannot make certificates with openssl: %s" % e)
        c = lambda n: os.path.join(cls.certs, n)  # noqa: E731
        cls.broker = Broker({"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
                             "ssl.keystore.type": "PEM", "ssl.keystore.location": c("server-store.pem"),
                             "ssl.truststore.type": "PEM", "ssl.truststore.location": c("ca.pem"),
                             "ssl.client.auth": "required",
                             "ssl.principal.mapping.rules": "RULE:^CN=([^,]*),.*$/$1/,DEFAULT",
                             "authorizer.class.name": AUTHORIZER, "super.users": ANON}, name="acl-tls")
        cls.broker.start()
        for user in ("alice", "bob"):
            PRINCIPALS["User:" + user] = (lambda u: lambda b: {
                "bootstrap.servers": "127.0.0.1:%d" % b.listeners["SSL"][1], "security.protocol": "SSL",
                "ssl.ca.location": c("ca.pem"), "ssl.certificate.location": c(u + ".pem"),
                "ssl.key.location": c(u + ".key")})(user)

    @classmethod
    def tearDownClass(cls):
        import shutil
        for user in ("alice", "bob"):
            PRINCIPALS.pop("User:" + user, None)
        if cls.broker is not None:
            cls.broker.cleanup()
        if cls.certs:
            shutil.rmtree(cls.certs, ignore_errors=True)

    def test_each_user_gets_what_its_acls_say(self):
        from confluent_kafka.admin import AdminClient
        self.assertEqual(d.create_topics(self.broker.port, [("tls-orders", 1, 1)])["tls-orders"][0], 0)
        add_acls(self, self.broker, [acl(RES_TOPIC, "tls-orders", OP_WRITE, principal="User:alice"),
                                     acl(RES_TOPIC, "tls-orders", OP_READ, principal="User:bob"),
                                     acl(RES_GROUP, "tls-bob", OP_READ, principal="User:bob")])
        self.assertEqual(produce_errors(self.broker, "tls-orders", 3, principal="User:alice"), [])
        self.assertEqual(produce_errors(self.broker, "tls-orders", 1, principal="User:bob"),
                         [TOPIC_AUTHORIZATION_FAILED])
        got, err = consume_group(self.broker, "tls-orders", "tls-bob", 3, principal="User:bob")
        self.assertEqual((len(got), err), (3, None))
        got, err = consume_group(self.broker, "tls-orders", "tls-alice", 3, principal="User:alice")
        self.assertEqual((got, err), ([], GROUP_AUTHORIZATION_FAILED))
        # what each one sees in Metadata: its own topic only (WRITE and READ imply DESCRIBE)
        for user in ("alice", "bob"):
            topics = AdminClient(client_conf(self.broker, "User:" + user)).list_topics(timeout=10).topics
            self.assertIn("tls-orders", topics, user)
        self.assertEqual(d.create_topics(self.broker.port, [("tls-other", 1, 1)])["tls-other"][0], 0)
        topics = AdminClient(client_conf(self.broker, "User:alice")).list_topics(timeout=10).topics
        self.assertNotIn("tls-other", topics)
        # a DENY for User:* beats alice's ALLOW; the PLAINTEXT super user is unaffected
        add_acls(self, self.broker, [acl(RES_TOPIC, "tls-orders", OP_WRITE, PERM_DENY, principal="User:*")])
        self.assertEqual(produce_errors(self.broker, "tls-orders", 1, principal="User:alice"),
                         [TOPIC_AUTHORIZATION_FAILED])
        self.assertEqual(produce_errors(self.broker, "tls-orders", 1), [])


def make_test_certs(directory, users):
    """A CA, a server certificate for 127.0.0.1 (key and chain in server-store.pem)
    and one client certificate per user (CN=<user>,OU=test,O=sluice)."""
    def openssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=directory)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ACL Test CA")
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, subj, ext in [("server", "/CN=localhost", "server.ext")] + [
            (u, "/O=sluice/OU=test/CN=" + u, None) for u in users]:
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", subj)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", *(["-extfile", ext] if ext else []))
    with open(os.path.join(directory, "server-store.pem"), "w") as out:
        for part in ("server.key", "server.pem"):
            with open(os.path.join(directory, part)) as f:
                out.write(f.read())


class TestAllowEveryoneIfNoAcl(SharedBroker):
    overrides = {"authorizer.class.name": AUTHORIZER, "allow.everyone.if.no.acl.found": "true"}

    def test_resources_without_acls_are_open_and_an_acl_closes_them(self):
        create_topic(self, self.broker, "open")
        self.assertEqual(produce_errors(self.broker, "open", 2), [])
        # the ACL APIs themselves: no ACL on the cluster, so allowed too
        res = raw_create_acls(self.broker.port, [(RES_TOPIC, "open", PAT_LITERAL, "User:someone", "*", OP_WRITE,
                                                  PERM_ALLOW)])
        self.assertEqual([e for e, _ in res], [0])
        self.assertEqual(produce_errors(self.broker, "open", 1), [TOPIC_AUTHORIZATION_FAILED])


# ---- sluice acls (the kafka-acls.sh of Sluice) --------------------------------------------

class TestCliAcls(SharedBroker):
    overrides = {"authorizer.class.name": AUTHORIZER, "super.users": ANON}

    def run_cli(self, code, *args):
        from test_cli import sluice
        r = sluice("acls", *args, bootstrap=self.broker.bootstrap)
        self.assertEqual(r.returncode, code, "sluice acls %s: exit %d\n%s%s"
                         % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def tearDown(self):
        remove_acls(self, self.broker, [acl_filter()])

    def test_add_list_remove_in_kafka_acls_layout(self):
        r = self.run_cli(0, "--add", "--allow-principal", "User:alice", "--allow-principal", "User:bob",
                         "--operation", "Read", "--operation", "Describe", "--topic", "orders")
        self.assertIn("Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, "
                      "patternType=LITERAL)`:", r.stdout)
        self.assertIn("(principal=User:bob, host=*, operation=DESCRIBE, permissionType=ALLOW)", r.stdout)
        self.run_cli(0, "--add", "--deny-principal", "User:mallory", "--deny-host", "10.0.0.9", "--operation", "All",
                     "--topic", "pay", "--resource-pattern-type", "prefixed")
        self.run_cli(0, "--add", "--allow-principal", "User:ops", "--operation", "Alter", "--cluster")
        self.run_cli(0, "--add", "--allow-principal", "User:alice", "--operation", "Read", "--group", "billing")
        self.assertEqual(sorted(raw_describe_acls(self.broker.port)[1]), sorted([
            (RES_TOPIC, "orders", PAT_LITERAL, "User:alice", "*", OP_READ, PERM_ALLOW),
            (RES_TOPIC, "orders", PAT_LITERAL, "User:alice", "*", OP_DESCRIBE, PERM_ALLOW),
            (RES_TOPIC, "orders", PAT_LITERAL, "User:bob", "*", OP_READ, PERM_ALLOW),
            (RES_TOPIC, "orders", PAT_LITERAL, "User:bob", "*", OP_DESCRIBE, PERM_ALLOW),
            (RES_TOPIC, "pay", PAT_PREFIXED, "User:mallory", "10.0.0.9", OP_ALL, PERM_DENY),
            (RES_CLUSTER, "kafka-cluster", PAT_LITERAL, "User:ops", "*", OP_ALTER, PERM_ALLOW),
            (RES_GROUP, "billing", PAT_LITERAL, "User:alice", "*", OP_READ, PERM_ALLOW)]))
        r = self.run_cli(0, "--list")
        self.assertIn("Current ACLs for resource `ResourcePattern(resourceType=CLUSTER, name=kafka-cluster, "
                      "patternType=LITERAL)`:", r.stdout)
        self.assertIn("(principal=User:mallory, host=10.0.0.9, operation=ALL, permissionType=DENY)", r.stdout)
        r = self.run_cli(0, "--list", "--topic", "payments", "--resource-pattern-type", "match", "--output", "json")
        self.assertEqual(json.loads(r.stdout), {"acls": [
            {"resourceType": "TOPIC", "name": "pay", "patternType": "PREFIXED", "principal": "User:mallory",
             "host": "10.0.0.9", "operation": "ALL", "permissionType": "DENY"}]})
        r = self.run_cli(0, "--list", "--principal", "User:bob", "--output", "json")
        self.assertEqual(len(json.loads(r.stdout)["acls"]), 2)
        # remove one principal's READ, then everything on the topic
        r = self.run_cli(0, "--remove", "--allow-principal", "User:bob", "--operation", "Read", "--topic", "orders")
        self.assertIn("(principal=User:bob, host=*, operation=READ, permissionType=ALLOW)", r.stdout)
        self.assertEqual(len([a for a in raw_describe_acls(self.broker.port)[1] if a[1] == "orders"]), 3)
        self.run_cli(0, "--remove", "--topic", "orders", "--force")
        self.assertEqual([a for a in raw_describe_acls(self.broker.port)[1] if a[1] == "orders"], [])

    def test_transactional_id_acls(self):
        # librdkafka 2.0 has no TRANSACTIONAL_ID: these go through Sluice's own codec
        r = self.run_cli(0, "--add", "--allow-principal", "User:app", "--operation", "Write", "--operation", "Describe",
                         "--transactional-id", "app-", "--resource-pattern-type", "prefixed", "--topic", "app-out")
        self.assertIn("ResourcePattern(resourceType=TRANSACTIONAL_ID, name=app-, patternType=PREFIXED)", r.stdout)
        self.assertEqual(sorted(a for a in raw_describe_acls(self.broker.port)[1] if a[0] == RES_TXN), [
            (RES_TXN, "app-", PAT_PREFIXED, "User:app", "*", OP_WRITE, PERM_ALLOW),
            (RES_TXN, "app-", PAT_PREFIXED, "User:app", "*", OP_DESCRIBE, PERM_ALLOW)])
        r = self.run_cli(0, "--list")  # all resources: the transactional ids with their type
        self.assertIn("ResourcePattern(resourceType=TRANSACTIONAL_ID, name=app-, patternType=PREFIXED)", r.stdout)
        self.assertIn("ResourcePattern(resourceType=TOPIC, name=app-out, patternType=PREFIXED)", r.stdout)
        self.assertNotIn("UNKNOWN", r.stdout)
        r = self.run_cli(0, "--list", "--transactional-id", "app-1", "--resource-pattern-type", "match",
                         "--output", "json")
        self.assertEqual(len(json.loads(r.stdout)["acls"]), 2)
        r = self.run_cli(0, "--remove", "--transactional-id", "app-", "--resource-pattern-type", "prefixed",
                         "--operation", "Describe")
        self.assertIn("operation=DESCRIBE", r.stdout)
        self.assertEqual([a for a in raw_describe_acls(self.broker.port)[1] if a[0] == RES_TXN],
                         [(RES_TXN, "app-", PAT_PREFIXED, "User:app", "*", OP_WRITE, PERM_ALLOW)])

    def test_usage_errors_exit_2(self):
        for args in (["--list", "--add"], ["--add", "--topic", "t"],
                     ["--add", "--allow-principal", "alice", "--topic", "t"],
                     ["--add", "--allow-principal", "User:a", "--operation", "Fly", "--topic", "t"],
                     ["--add", "--allow-principal", "User:a", "--operation", "Read", "--cluster"],
                     ["--add", "--allow-principal", "User:a", "--topic", "t", "--resource-pattern-type", "match"],
                     ["--add", "--allow-principal", "User:a", "--operation", "Read", "--transactional-id", "tx"],
                     ["--remove", "--allow-principal", "User:a"]):
            r = self.run_cli(2, *args)
            self.assertIn("sluice acls:", r.stderr)
        self.assertEqual(raw_describe_acls(self.broker.port), (0, []))

    def test_refusals_are_one_sentence_exit_1(self):
        from test_cli import sluice
        with Broker({}, name="cli-noauth") as b:  # started by the with
            r = sluice("acls", "--add", "--allow-principal", "User:a", "--topic", "t", bootstrap=b.bootstrap)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertRegex(r.stderr, r"^error: cannot add the ACL .*: No Authorizer is configured")
        self.run_cli(0, "--add", "--deny-principal", ANON, "--operation", "Alter", "--cluster")
        self.broker.overrides = [("authorizer.class.name", AUTHORIZER)]  # no super user now
        self.broker.restart()
        try:
            r = self.run_cli(1, "--add", "--allow-principal", "User:a", "--operation", "Read", "--topic", "t")
            self.assertRegex(r.stderr, r"^error: cannot add the ACL .*(?i:authoriz)")
        finally:
            self.broker.overrides = [("authorizer.class.name", AUTHORIZER), ("super.users", ANON)]
            self.broker.restart()


if __name__ == "__main__":
    harness.main()
