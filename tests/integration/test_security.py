"""
test_security.py - TLS, SASL and ACLs together on one real sluiced, as an MSK
cluster with IAM off runs them: a SASL_SSL listener (SCRAM-SHA-512 over TLS),
SCRAM users as ACL principals, and the SCRAM credential APIs under the
authorizer.

  - kcat, confluent-kafka and kafka-python produce and consume over SASL_SSL;
    a wrong password is an authentication error, and the failure answer
    arrives through TLS before the close;
  - alice (WRITE and READ ACLs) and bob (none) log in with SCRAM over TLS:
    alice's writes land, bob's get TOPIC_AUTHORIZATION_FAILED, and Metadata
    shows bob nothing;
  - AlterUserScramCredentials / DescribeUserScramCredentials need ALTER /
    DESCRIBE on the cluster: refused with CLUSTER_AUTHORIZATION_FAILED for a
    principal without them, served for a super user;
  - a frame bigger than sasl.server.max.receive.size before authentication
    closes the TLS connection, and others are still served.

Run: /usr/bin/python3 tests/integration/test_security.py
"""

import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aclproto as ap  # noqa: E402
import harness  # noqa: E402
import test_acls  # noqa: E402
import test_sasl as ts  # noqa: E402
from harness import Broker  # noqa: E402

ALICE, BOB = ("alice", "alice-secret"), ("bob", "bob-secret")
SUPER = "User:admin"


def sasl_ssl_port(broker):
    return broker.listeners["SASL_SSL"][1]


def sasl_ssl_conf(broker, certs, user, password, mech="SCRAM-SHA-512"):
    return {"bootstrap.servers": "127.0.0.1:%d" % sasl_ssl_port(broker), "security.protocol": "SASL_SSL",
            "ssl.ca.location": os.path.join(certs, "ca.pem"), "sasl.mechanisms": mech,
            "sasl.username": user, "sasl.password": password}


class SecureBroker(unittest.TestCase):
    """PLAINTEXT (User:ANONYMOUS, no rights) and SASL_SSL (SCRAM-SHA-512)
    listeners, the authorizer on, admin a super user, alice and bob SCRAM
    users."""

    broker = None
    certs = None

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="sluice-sec-")
        try:
            test_acls.make_test_certs(cls.certs, [])
        except (OSError, subprocess.CalledProcessError) as e:
            shutil.rmtree(cls.certs, ignore_errors=True)
            raise unittest.SkipTest("cannot make certificates with openssl: %s" % e)
        c = lambda n: os.path.join(cls.certs, n)  # noqa: E731
        scram = []
        for user, password in (ALICE, BOB, ("admin", "admin-secret")):
            scram += ["--add-scram", "SCRAM-SHA-512=[name=%s,password=%s]" % (user, password)]
        cls.broker = Broker({"listeners": "PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
                             "ssl.keystore.type": "PEM", "ssl.keystore.location": c("server-store.pem"),
                             "sasl.enabled.mechanisms": "SCRAM-SHA-512",
                             "authorizer.class.name": ap.AUTHORIZER, "super.users": SUPER},
                            args=scram, name="security")
        cls.broker.start()
        for user, password in (ALICE, BOB, ("admin", "admin-secret")):
            ap.PRINCIPALS["User:" + user] = (lambda u, p: lambda b: sasl_ssl_conf(b, cls.certs, u, p))(user, password)

    @classmethod
    def tearDownClass(cls):
        for user in ("alice", "bob", "admin"):
            ap.PRINCIPALS.pop("User:" + user, None)
        if cls.broker is not None:
            cls.broker.cleanup()
        if cls.certs:
            shutil.rmtree(cls.certs, ignore_errors=True)

    def grant(self, acls):
        """Creates ACLs as the super user, over SASL_SSL."""
        from kafka import KafkaAdminClient
        a = KafkaAdminClient(**self.kp(("admin", "admin-secret")))
        try:
            res = a.create_acls(acls)
            self.assertEqual(res["failed"], [], "create_acls: %r" % (res["failed"],))
        finally:
            a.close()

    def kp(self, cred, mech="SCRAM-SHA-512"):
        ctx = ssl.create_default_context(cafile=os.path.join(self.certs, "ca.pem"))
        return {"bootstrap_servers": "127.0.0.1:%d" % sasl_ssl_port(self.broker), "security_protocol": "SASL_SSL",
                "ssl_context": ctx, "sasl_mechanism": mech, "sasl_plain_username": cred[0],
                "sasl_plain_password": cred[1], "request_timeout_ms": 20000, "api_version_auto_timeout_ms": 20000}

    def create_topic(self, name):
        from kafka.admin import NewTopic
        from kafka import KafkaAdminClient
        a = KafkaAdminClient(**self.kp(("admin", "admin-secret")))
        try:
            a.create_topics([NewTopic(name, 1, 1)])
        finally:
            a.close()


class TestSaslSsl(SecureBroker):
    def test_kcat_scram_over_tls_produce_and_consume_as_a_granted_user(self):
        t = "sec-kcat"
        self.create_topic(t)
        self.grant([ap.acl(ap.RES_TOPIC, t, ap.OP_WRITE, principal="User:alice"),
                    ap.acl(ap.RES_TOPIC, t, ap.OP_READ, principal="User:alice")])
        base = ["kcat", "-b", "127.0.0.1:%d" % sasl_ssl_port(self.broker), "-X", "security.protocol=SASL_SSL",
                "-X", "ssl.ca.location=" + os.path.join(self.certs, "ca.pem"), "-X", "sasl.mechanisms=SCRAM-SHA-512",
                "-X", "sasl.username=alice", "-X", "sasl.password=alice-secret"]
        p = subprocess.run(base + ["-P", "-t", t], input=b"one\ntwo\nthree\n", capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        p = subprocess.run(base + ["-C", "-t", t, "-o", "beginning", "-e", "-q"], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        self.assertEqual(p.stdout.split(), [b"one", b"two", b"three"])

    def test_confluent_kafka_wrong_password_over_tls_is_an_authentication_error(self):
        import confluent_kafka as ck
        errors = []
        conf = sasl_ssl_conf(self.broker, self.certs, "alice", "not-her-password")
        conf["error_cb"] = lambda e: errors.append(e)
        p = ck.Producer(conf)
        with self.assertRaises(ck.KafkaException):
            p.list_topics(timeout=5)
        # error callbacks are served by poll()
        ts.wait_until(lambda: p.poll(0.1) is not None and errors, 15, "an error callback")
        self.assertTrue(any(e.code() == ck.KafkaError._AUTHENTICATION for e in errors),
                        "no authentication error reported: %r" % errors)
        self.assertTrue(any("SCRAM-SHA-512" in e.str() for e in errors), [e.str() for e in errors])

    def test_kafka_python_scram_over_tls(self):
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition
        t = "sec-kp"
        self.create_topic(t)
        self.grant([ap.acl(ap.RES_TOPIC, t, ap.OP_WRITE, principal="User:alice"),
                    ap.acl(ap.RES_TOPIC, t, ap.OP_READ, principal="User:alice")])
        p = KafkaProducer(**self.kp(ALICE))
        try:
            p.send(t, b"over-tls").get(timeout=30)
        finally:
            p.close()
        c = KafkaConsumer(**self.kp(ALICE), consumer_timeout_ms=15000)
        try:
            c.assign([TopicPartition(t, 0)])
            c.seek_to_beginning()
            got = next(iter(c))
            self.assertEqual(got.value, b"over-tls")
        finally:
            c.close()

    def test_frame_over_the_pre_auth_cap_closes_the_tls_connection(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.certs, "ca.pem"))
        raw = socket.create_connection(("127.0.0.1", sasl_ssl_port(self.broker)), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        try:
            s.sendall(struct.pack(">i", 600 << 10) + b"\0" * 64)
            self.assertEqual(s.recv(16), b"", "the connection stayed open")
        except (ConnectionResetError, ssl.SSLError):
            pass
        finally:
            s.close()
        # others are still served (over TLS, authenticated)
        self.assertEqual(ap.produce_errors(self.broker, "sec-cap-after", 1, principal=SUPER), [])


class TestScramPrincipals(SecureBroker):
    def test_alice_writes_bob_is_refused_and_sees_nothing(self):
        from confluent_kafka.admin import AdminClient
        t = "sec-acl"
        self.create_topic(t)
        self.grant([ap.acl(ap.RES_TOPIC, t, ap.OP_WRITE, principal="User:alice"),
                    ap.acl(ap.RES_TOPIC, t, ap.OP_READ, principal="User:alice"),
                    ap.acl(ap.RES_GROUP, "sec-alice", ap.OP_READ, principal="User:alice")])
        self.assertEqual(ap.produce_errors(self.broker, t, 3, principal="User:alice"), [])
        self.assertEqual(ap.produce_errors(self.broker, t, 1, principal="User:bob"),
                         [ap.TOPIC_AUTHORIZATION_FAILED])
        got, err = ap.consume_group(self.broker, t, "sec-alice", 3, principal="User:alice")
        self.assertEqual((len(got), err), (3, None))
        bob_sees = AdminClient(ap.client_conf(self.broker, "User:bob")).list_topics(timeout=10).topics
        self.assertNotIn(t, bob_sees)
        alice_sees = AdminClient(ap.client_conf(self.broker, "User:alice")).list_topics(timeout=10).topics
        self.assertIn(t, alice_sees)

    def test_scram_credential_apis_need_the_cluster_acls(self):
        port = self.broker.port  # PLAINTEXT: User:ANONYMOUS, granted nothing
        err, res, _ = ts.describe_scram(port)
        self.assertEqual(err, ap.CLUSTER_AUTHORIZATION_FAILED)
        self.assertEqual(res, [])
        salted = ts.scram_salted("SCRAM-SHA-512", "carol-secret", b"salt-of-carol", 4096)
        got = ts.alter_scram(port, deletions=[("bob", 2)],
                             upsertions=[("carol", 2, 4096, b"salt-of-carol", salted)])
        self.assertEqual([(u, e) for u, e, _ in got],
                         [("bob", ap.CLUSTER_AUTHORIZATION_FAILED), ("carol", ap.CLUSTER_AUTHORIZATION_FAILED)])
        # nothing changed: bob still logs in, carol does not exist
        self.assertEqual(ap.produce_errors(self.broker, "sec-unknown-topic-for-bob", 1, principal="User:bob"),
                         [ap.TOPIC_AUTHORIZATION_FAILED])
        # ANONYMOUS granted DESCRIBE on the cluster may list the users (names and iterations only)
        self.grant([ap.acl(ap.RES_CLUSTER, "kafka-cluster", ap.OP_DESCRIBE)])
        err, res, raw = ts.describe_scram(port)
        self.assertEqual(err, 0)
        self.assertEqual(sorted(u for u, _, _, _ in res), ["admin", "alice", "bob"])
        self.assertNotIn(b"salt-of-carol", raw)


if __name__ == "__main__":
    harness.main()
