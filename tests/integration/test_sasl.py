"""
test_sasl.py - SASL authentication on a SASL_PLAINTEXT listener, end to end:
kcat (SCRAM-SHA-512), confluent-kafka (SCRAM-SHA-256, PLAIN), kafka-python
(SCRAM-SHA-512, PLAIN; it uses SaslHandshake v0 with raw tokens) and kafkajs
(scram-sha-256/512, plain) produce and consume; wrong passwords fail with an
authentication error in each client; raw-socket bad cases (requests before
the handshake, unknown mechanism, oversized pre-auth frames, SCRAM nonce
mismatch and replay, wrong proof, unknown user, authzid mismatch, channel
binding) get Kafka's error code and a closed connection; a PLAINTEXT
listener beside the SASL one needs no authentication; SCRAM users made with
AlterUserScramCredentials or `sluiced --add-scram` log in, survive a restart
and cannot log in once deleted; DescribeUserScramCredentials shows
mechanisms and iterations only; re-authentication (KIP-368) keeps a
connection alive past connections.max.reauth.ms and its absence closes it.

Every wait is a bounded condition loop.

Run: /usr/bin/python3 tests/integration/test_sasl.py [TestClass[.test_name]]
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataproto as d  # noqa: E402
import harness  # noqa: E402
from harness import (TAGS_NONE, Broker, Reader, array, compact_array, compact_string, connect, frame,  # noqa: E402
                     int8, int16, int32, recv_response, request_header, send_all, string, wait_closed)
from test_data import create_topic, need_kafkajs, need_kcat, node  # noqa: E402

SASL_HANDSHAKE = 17
SASL_AUTHENTICATE = 36
METADATA = 3
API_VERSIONS = 18
ALTER_SCRAM = 51
DESCRIBE_SCRAM = 50

ERR_UNSUPPORTED_SASL_MECHANISM = 33
ERR_ILLEGAL_SASL_STATE = 34
ERR_SASL_AUTHENTICATION_FAILED = 58
ERR_RESOURCE_NOT_FOUND = 91
ERR_DUPLICATE_RESOURCE = 92
ERR_UNACCEPTABLE_CREDENTIAL = 93

SCRAM_256, SCRAM_512 = 1, 2
JAAS_PLAIN = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
              'user_bob="bob-secret" user_eve="eve \\"quoted\\" secret";')
CLIENT_TIMEOUT_S = 60
BAD_CREDENTIALS = "Authentication failed during authentication due to invalid credentials with SASL mechanism %s"


def sasl_overrides(**extra):
    o = {"listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
         "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
         "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS_PLAIN}
    o.update(extra)
    return o


def sasl_port(broker):
    return broker.listeners["SASL_PLAINTEXT"][1]


def sasl_bootstrap(broker):
    return "127.0.0.1:%d" % sasl_port(broker)


class SaslBroker(unittest.TestCase):
    """One broker with PLAINTEXT and SASL_PLAINTEXT listeners, alice bootstrapped
    with both SCRAM mechanisms, bob and eve as PLAIN users."""

    overrides = sasl_overrides()
    args = ["--add-scram", "SCRAM-SHA-512=[name=alice,password=alice-secret]",
            "--add-scram", "SCRAM-SHA-256=[name=alice,iterations=8192,password=alice-secret]"]
    broker = None
    start_error = None

    def setUp(self):
        cls = type(self)
        if cls.start_error is not None:
            raise cls.start_error
        if cls.broker is None:
            cls.broker = Broker(cls.overrides, args=cls.args, name=cls.__name__)
            try:
                cls.broker.start()
            except Exception as e:
                cls.start_error = e
                raise
        self.assertTrue(cls.broker.running(), "sluiced died:\n" + cls.broker.report())

    @classmethod
    def tearDownClass(cls):
        if cls.broker is not None:
            cls.broker.cleanup()
            cls.broker = None


# ---- raw SASL -------------------------------------------------------------------

class Conn:
    """One raw connection speaking SaslHandshake v1 / SaslAuthenticate v1."""

    def __init__(self, port):
        self.s = connect(port)
        self.cid = 0

    def close(self):
        self.s.close()

    def request(self, api_key, version, body, header_version=1):
        self.cid += 1
        if not send_all(self.s, frame(request_header(api_key, version, self.cid, "sasl-it", header_version) + body)):
            return None
        resp = recv_response(self.s)
        if resp is not None:
            assert struct.unpack(">i", resp[:4])[0] == self.cid, "correlation id mismatch"
        return resp

    def handshake(self, mechanism, version=1):
        """(error, [mechanisms]) or None when closed."""
        resp = self.request(SASL_HANDSHAKE, version, string(mechanism))
        if resp is None:
            return None
        r = Reader(resp)
        r.int32()
        return r.int16(), r.array(lambda r: r.string())

    def authenticate(self, data, version=1):
        """(error, message, auth_bytes, session_lifetime_ms) or None when closed."""
        if version >= 2:
            body = compact_bytes(data) + TAGS_NONE
            resp = self.request(SASL_AUTHENTICATE, version, body, header_version=2)
        else:
            resp = self.request(SASL_AUTHENTICATE, version, int32(len(data)) + data)
        if resp is None:
            return None
        r = Reader(resp)
        r.int32()
        if version >= 2:
            r.tagged_fields()
            err = r.int16()
            msg = r.compact_string()
            n = r.uvarint()
            auth = r._take(n - 1) if n else None
        else:
            err = r.int16()
            msg = r.string()
            n = r.int32()
            auth = r._take(n) if n >= 0 else None
        lifetime = r.int64() if version >= 1 else 0
        return err, msg, auth, lifetime

    def metadata(self):
        """Metadata v1 for no topics: True when answered."""
        return self.request(METADATA, 1, int32(0)) is not None


def compact_bytes(b):
    return harness.uvarint(len(b) + 1) + b


def saslname(u):
    return u.replace("=", "=3D").replace(",", "=2C")


class ScramClient:
    def __init__(self, mech, user, password, nonce="rOprNGfwEbeRWgbNEkqO", authzid=None, gs2=None):
        self.hname = "sha256" if mech == "SCRAM-SHA-256" else "sha512"
        self.user, self.password, self.cnonce = user, password, nonce
        self.gs2 = gs2 if gs2 is not None else ("n,a=%s," % saslname(authzid) if authzid else "n,,")
        self.bare = "n=%s,r=%s" % (saslname(user), nonce)

    def first(self):
        return (self.gs2 + self.bare).encode()

    def final(self, server_first, nonce=None, proof_xor=0):
        server_first = server_first.decode()
        attrs = dict(a.split("=", 1) for a in server_first.split(","))
        salt, it = base64.b64decode(attrs["s"]), int(attrs["i"])
        salted = hashlib.pbkdf2_hmac(self.hname, self.password.encode(), salt, it)
        ck = hmac.new(salted, b"Client Key", self.hname).digest()
        stored = hashlib.new(self.hname, ck).digest()
        self.server_key = hmac.new(salted, b"Server Key", self.hname).digest()
        without = "c=%s,r=%s" % (base64.b64encode(self.gs2.encode()).decode(), nonce or attrs["r"])
        self.auth_message = "%s,%s,%s" % (self.bare, server_first, without)
        sig = hmac.new(stored, self.auth_message.encode(), self.hname).digest()
        proof = bytes(a ^ b for a, b in zip(ck, sig))
        if proof_xor:
            proof = bytes([proof[0] ^ proof_xor]) + proof[1:]
        return (without + ",p=" + base64.b64encode(proof).decode()).encode()

    def verify(self, server_final):
        want = hmac.new(self.server_key, self.auth_message.encode(), self.hname).digest()
        return server_final.decode() == "v=" + base64.b64encode(want).decode()


def scram_login(port, mech, user, password, version=1):
    """Full SCRAM exchange on a new connection: (conn, final result)."""
    c = Conn(port)
    hs = c.handshake(mech)
    assert hs is not None and hs[0] == 0, "handshake %s: %r" % (mech, hs)
    sc = ScramClient(mech, user, password)
    r1 = c.authenticate(sc.first(), version)
    assert r1 is not None and r1[0] == 0, "client-first: %r" % (r1,)
    r2 = c.authenticate(sc.final(r1[2]), version)
    if r2 is not None and r2[0] == 0:
        assert sc.verify(r2[2]), "server signature does not verify"
    return c, r2


def scram_salted(mech, password, salt, iterations):
    return hashlib.pbkdf2_hmac("sha256" if mech == SCRAM_256 else "sha512", password.encode(), salt, iterations)


def alter_scram(port, deletions=(), upsertions=()):
    """AlterUserScramCredentials v0 (flexible). deletions: [(name, mech)];
    upsertions: [(name, mech, iterations, salt, salted_password)].
    Returns {user: (error, message)} in order, as a list of tuples."""
    dele = lambda x: compact_string(x[0]) + int8(x[1]) + TAGS_NONE  # noqa: E731
    ups = lambda x: (compact_string(x[0]) + int8(x[1]) + int32(x[2]) + compact_bytes(x[3]) +  # noqa: E731
                     compact_bytes(x[4]) + TAGS_NONE)
    body = compact_array(list(deletions), dele) + compact_array(list(upsertions), ups) + TAGS_NONE
    resp = harness.raw_request(port, ALTER_SCRAM, 0, body, header_version=2, timeout=30)
    assert resp is not None, "broker closed the connection on AlterUserScramCredentials"
    r = Reader(resp)
    r.int32()
    r.tagged_fields()
    r.int32()  # throttle
    res = r.compact_array(lambda r: (r.compact_string(), r.int16(), r.compact_string(), r.tagged_fields())[:3])
    return [(u, e, m) for u, e, m in res]


def describe_scram(port, users=None):
    """DescribeUserScramCredentials v0 -> (error, [(user, error, message, [(mech, iterations)])]), raw bytes."""
    ulist = None if users is None else [compact_string(u) + TAGS_NONE for u in users]
    body = (harness.uvarint(0) if ulist is None else compact_array(ulist)) + TAGS_NONE
    resp = harness.raw_request(port, DESCRIBE_SCRAM, 0, body, header_version=2, timeout=30)
    assert resp is not None, "broker closed the connection on DescribeUserScramCredentials"
    r = Reader(resp)
    r.int32()
    r.tagged_fields()
    r.int32()
    err = r.int16()
    r.compact_string()
    res = r.compact_array(lambda r: (r.compact_string(), r.int16(), r.compact_string(),
                                     r.compact_array(lambda r: (r.int8(), r.int32(), r.tagged_fields())[:2]) or [],
                                     r.tagged_fields())[:4])
    return err, res or [], resp


def http_metrics(broker):
    host, port = broker.listeners["HTTP"]
    with urllib.request.urlopen("http://%s:%d/metrics" % (host, port), timeout=10) as r:
        return r.read().decode()


def metric(broker, name):
    m = re.search(r"^%s (\d+)" % re.escape(name), http_metrics(broker), re.M)
    return int(m.group(1)) if m else None


def failed_auths(broker):
    return metric(broker, "kafka_server_socket_server_metrics_failed_authentication_total")


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


def kcat_sasl(broker, mech, user, password, args, stdin=b""):
    cmd = ["kcat", "-b", sasl_bootstrap(broker), "-X", "security.protocol=SASL_PLAINTEXT",
           "-X", "sasl.mechanisms=" + mech, "-X", "sasl.username=" + user, "-X", "sasl.password=" + password] + args
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=CLIENT_TIMEOUT_S)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def confluent_conf(broker, mech, user, password, **extra):
    conf = {"bootstrap.servers": sasl_bootstrap(broker), "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanisms": mech, "sasl.username": user, "sasl.password": password,
            "socket.timeout.ms": 10000, "log_level": 3}
    conf.update(extra)
    return conf


def confluent_roundtrip(test, broker, mech, user, password, topic, value):
    import confluent_kafka as ck
    p = ck.Producer(confluent_conf(broker, mech, user, password, acks="all", **{"message.timeout.ms": 30000}))
    reports = []
    p.produce(topic, value, on_delivery=lambda err, msg: reports.append((err, msg.offset() if msg else None)))
    p.flush(40)
    test.assertEqual(len(reports), 1, "no delivery report")
    test.assertIsNone(reports[0][0], "delivery error: %r" % (reports[0][0],))
    c = ck.Consumer(confluent_conf(broker, mech, user, password, **{"group.id": "sasl-ck", "enable.auto.commit": False,
                                                                      "auto.offset.reset": "earliest"}))
    try:
        c.assign([ck.TopicPartition(topic, 0, 0)])
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            m = c.poll(1.0)
            if m is not None and not m.error() and m.value() == value:
                return
        test.fail("confluent-kafka %s did not read back its message" % mech)
    finally:
        c.close()


def kafka_python_read(broker, mech, user, password, topic):
    import kafka
    c = kafka.KafkaConsumer(topic, bootstrap_servers=sasl_bootstrap(broker), security_protocol="SASL_PLAINTEXT",
                            sasl_mechanism=mech, sasl_plain_username=user, sasl_plain_password=password,
                            auto_offset_reset="earliest", consumer_timeout_ms=10000, api_version_auto_timeout_ms=10000)
    try:
        return [m.value for m in c]
    finally:
        c.close()


def kafka_python_produce(broker, mech, user, password, topic, value):
    import kafka
    p = kafka.KafkaProducer(bootstrap_servers=sasl_bootstrap(broker), security_protocol="SASL_PLAINTEXT",
                            sasl_mechanism=mech, sasl_plain_username=user, sasl_plain_password=password,
                            acks="all", api_version_auto_timeout_ms=10000)
    try:
        p.send(topic, value).get(timeout=30)
    finally:
        p.close()


# ---- real clients -----------------------------------------------------------------

class TestClients(SaslBroker):
    def test_kcat_scram_sha_512_produce_consume(self):
        need_kcat(self)
        create_topic(self, self.broker, "sasl-kcat")
        rc, _, err = kcat_sasl(self.broker, "SCRAM-SHA-512", "alice", "alice-secret",
                               ["-P", "-t", "sasl-kcat", "-p", "0"], stdin=b"one\ntwo\n")
        self.assertEqual(rc, 0, err)
        rc, out, err = kcat_sasl(self.broker, "SCRAM-SHA-512", "alice", "alice-secret",
                                 ["-C", "-t", "sasl-kcat", "-p", "0", "-o", "beginning", "-e", "-q"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split(), [b"one", b"two"])

    def test_kcat_wrong_password_is_an_authentication_error(self):
        need_kcat(self)
        before = failed_auths(self.broker)
        rc, _, err = kcat_sasl(self.broker, "SCRAM-SHA-512", "alice", "wrong", ["-L", "-m", "5"])
        self.assertNotEqual(rc, 0)
        self.assertIn("SASL authentication error", err)
        self.assertIn(BAD_CREDENTIALS % "SCRAM-SHA-512", err)
        wait_until(lambda: failed_auths(self.broker) > before, 10, "failed-authentication-total to grow")

    def test_confluent_kafka_scram_sha_256_and_plain(self):
        create_topic(self, self.broker, "sasl-ck")
        confluent_roundtrip(self, self.broker, "SCRAM-SHA-256", "alice", "alice-secret", "sasl-ck", b"via-scram256")
        confluent_roundtrip(self, self.broker, "PLAIN", "bob", "bob-secret", "sasl-ck", b"via-plain")
        # a password with quotes, escaped in the JAAS text
        confluent_roundtrip(self, self.broker, "PLAIN", "eve", 'eve "quoted" secret', "sasl-ck", b"via-eve")

    def test_confluent_kafka_wrong_password_reports_authentication_error(self):
        import confluent_kafka as ck
        for mech, user in (("SCRAM-SHA-256", "alice"), ("PLAIN", "bob")):
            errors = []
            conf = confluent_conf(self.broker, mech, user, "wrong", error_cb=lambda e: errors.append(e))
            p = ck.Producer(conf)
            with self.assertRaises(ck.KafkaException):
                p.list_topics(timeout=5)
            wait_until(lambda: p.poll(0.1) is not None and errors, 15, "an error callback")
            self.assertTrue(any(e.code() == ck.KafkaError._AUTHENTICATION for e in errors),
                            "%s: errors %r" % (mech, errors))
            self.assertTrue(any("Authentication failed" in e.str() for e in errors), errors)

    def test_kafka_python_scram_sha_512_and_plain(self):
        create_topic(self, self.broker, "sasl-kp")
        kafka_python_produce(self.broker, "SCRAM-SHA-512", "alice", "alice-secret", "sasl-kp", b"kp-scram")
        kafka_python_produce(self.broker, "PLAIN", "bob", "bob-secret", "sasl-kp", b"kp-plain")
        self.assertEqual(kafka_python_read(self.broker, "SCRAM-SHA-512", "alice", "alice-secret", "sasl-kp"),
                         [b"kp-scram", b"kp-plain"])
        self.assertEqual(kafka_python_read(self.broker, "PLAIN", "bob", "bob-secret", "sasl-kp"),
                         [b"kp-scram", b"kp-plain"])

    def test_kafka_python_wrong_password_fails(self):
        # kafka-python 2.0.2 uses SaslHandshake v0, whose raw tokens carry no
        # error: the broker closes the connection, the client sees no broker.
        import kafka
        before = failed_auths(self.broker)
        with self.assertRaises(kafka.errors.NoBrokersAvailable):
            kafka_python_read(self.broker, "SCRAM-SHA-512", "alice", "wrong", "sasl-kp")
        wait_until(lambda: failed_auths(self.broker) > before, 10, "failed-authentication-total to grow")

    def test_kafkajs_scram_and_plain(self):
        need_kafkajs(self)
        create_topic(self, self.broker, "sasl-js")
        for mech, user, pw in (("scram-sha-256", "alice", "alice-secret"), ("scram-sha-512", "alice", "alice-secret"),
                               ("plain", "bob", "bob-secret")):
            rc, out, err = node("sasl_client.js", sasl_bootstrap(self.broker), mech, user, pw, "sasl-js", "js-" + mech)
            self.assertEqual(rc, 0, err)
            self.assertEqual(json.loads(out.strip().splitlines()[-1]), {"ok": True, "value": "js-" + mech}, out + err)

    def test_kafkajs_wrong_password_reports_authentication_error(self):
        need_kafkajs(self)
        for mech in ("scram-sha-256", "scram-sha-512"):
            rc, out, err = node("sasl_client.js", sasl_bootstrap(self.broker), mech, "alice", "wrong", "sasl-js", "x")
            res = json.loads(out.strip().splitlines()[-1])
            self.assertFalse(res["ok"])
            self.assertEqual(res["name"], "KafkaJSSASLAuthenticationError", res)
            self.assertIn(BAD_CREDENTIALS % mech.upper(), res["message"])

    def test_sluice_cli_with_a_java_style_command_config(self):
        from test_cli import sluice
        with tempfile.NamedTemporaryFile("w", suffix=".properties", delete=False) as f:
            f.write("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
                    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n"
                    "    username=\"alice\" password=\"alice-secret\";\n")
        try:
            r = sluice("cluster", "--command-config", f.name, bootstrap=sasl_bootstrap(self.broker))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("Brokers: 1", r.stdout)
            self.assertIn("127.0.0.1:%d" % sasl_port(self.broker), r.stdout)
            with open(f.name, "a") as g:
                g.write("sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                        "username=\"alice\" password=\"wrong\";\n")
            r = sluice("cluster", "--command-config", f.name, "--timeout-ms", "5000",
                       bootstrap=sasl_bootstrap(self.broker))
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("uthentication", r.stderr)
        finally:
            os.unlink(f.name)

    def test_plaintext_listener_needs_no_authentication(self):
        c = Conn(self.broker.port)
        try:
            self.assertTrue(c.metadata(), "PLAINTEXT listener closed an unauthenticated Metadata")
            # SaslHandshake on a non-SASL listener: ILLEGAL_SASL_STATE, connection kept
            self.assertEqual(c.handshake("PLAIN")[0], ERR_ILLEGAL_SASL_STATE)
            self.assertTrue(c.metadata())
        finally:
            c.close()

    def test_api_versions_lists_sasl_apis(self):
        _, keys = harness.api_versions(sasl_port(self.broker))
        self.assertEqual(keys[SASL_HANDSHAKE], (0, 1))
        self.assertEqual(keys[SASL_AUTHENTICATE], (0, 2))
        self.assertEqual(keys[ALTER_SCRAM], (0, 0))
        self.assertEqual(keys[DESCRIBE_SCRAM], (0, 0))


# ---- raw bad cases -------------------------------------------------------------------

class TestRawProtocol(SaslBroker):
    def assert_failed_then_closed(self, c, res, message=None):
        self.assertIsNotNone(res, "closed without the SASL_AUTHENTICATION_FAILED response")
        self.assertEqual(res[0], ERR_SASL_AUTHENTICATION_FAILED, res)
        if message is not None:
            self.assertEqual(res[1], message)
        self.assertTrue(wait_closed(c.s, 10), "connection still open after the failure")

    def test_scram_login_v0_v1_v2(self):
        for version in (0, 1, 2):
            for mech in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
                c, res = scram_login(sasl_port(self.broker), mech, "alice", "alice-secret", version)
                try:
                    self.assertEqual(res[0], 0, res)
                    self.assertEqual(res[3], 0, "SessionLifetimeMs without connections.max.reauth.ms")
                    self.assertTrue(c.metadata(), "Metadata refused after authentication")
                finally:
                    c.close()

    def test_iterations_of_the_credential_are_sent(self):
        c = Conn(sasl_port(self.broker))
        try:
            c.handshake("SCRAM-SHA-256")
            res = c.authenticate(ScramClient("SCRAM-SHA-256", "alice", "x").first())
            self.assertIn(b",i=8192", res[2])
        finally:
            c.close()

    def test_metadata_before_handshake_closes(self):
        c = Conn(sasl_port(self.broker))
        try:
            self.assertFalse(c.metadata())
            self.assertTrue(wait_closed(c.s, 5))
        finally:
            c.close()

    def test_api_versions_then_metadata_closes(self):
        c = Conn(sasl_port(self.broker))
        try:
            self.assertIsNotNone(c.request(API_VERSIONS, 0, b""), "ApiVersions refused before the handshake")
            self.assertFalse(c.metadata())
        finally:
            c.close()

    def test_authenticate_before_handshake_closes(self):
        c = Conn(sasl_port(self.broker))
        try:
            self.assertIsNone(c.authenticate(b"\0bob\0bob-secret"))
        finally:
            c.close()

    def test_other_api_after_handshake_closes(self):
        c = Conn(sasl_port(self.broker))
        try:
            self.assertEqual(c.handshake("PLAIN")[0], 0)
            self.assertFalse(c.metadata())
        finally:
            c.close()
        c = Conn(sasl_port(self.broker))
        try:
            self.assertEqual(c.handshake("PLAIN")[0], 0)
            self.assertIsNone(c.handshake("PLAIN"), "a second SaslHandshake was answered")
        finally:
            c.close()

    def test_unknown_mechanism_answers_33_then_closes(self):
        for mech in ("GSSAPI", "scram-sha-256", "SCRAM-SHA-1", ""):
            c = Conn(sasl_port(self.broker))
            try:
                err, mechs = c.handshake(mech)
                self.assertEqual(err, ERR_UNSUPPORTED_SASL_MECHANISM, mech)
                self.assertEqual(mechs, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
                self.assertTrue(wait_closed(c.s, 10), "open after UNSUPPORTED_SASL_MECHANISM")
            finally:
                c.close()

    def oversized(self, first):
        """A 600 KiB frame before authentication closes; another client is served."""
        c = Conn(sasl_port(self.broker))
        try:
            if not first:
                self.assertIsNotNone(c.request(API_VERSIONS, 0, b""))
            # only the size prefix and part of the body: the cap acts on the prefix
            send_all(c.s, int32(600 * 1024) + request_header(API_VERSIONS, 0, 99) + b"x" * 4096)
            self.assertTrue(wait_closed(c.s, 10), "a 600 KiB frame before authentication was not refused")
        finally:
            c.close()
        other, res = scram_login(sasl_port(self.broker), "SCRAM-SHA-512", "alice", "alice-secret")
        try:
            self.assertEqual(res[0], 0)
            self.assertTrue(other.metadata())
        finally:
            other.close()

    def test_oversized_first_frame_closes(self):
        self.oversized(first=True)

    def test_oversized_frame_after_api_versions_closes(self):
        self.oversized(first=False)

    def test_100_mib_frame_before_authentication_closes_at_once(self):
        # CVE-2022-34917: only the size prefix is sent; the broker must not wait for the body
        c = Conn(sasl_port(self.broker))
        try:
            t0 = time.monotonic()
            send_all(c.s, int32(100 * 1024 * 1024))
            self.assertTrue(wait_closed(c.s, 10))
            self.assertLess(time.monotonic() - t0, 2.0, "the broker waited for the body")
        finally:
            c.close()
        # the PLAINTEXT listener takes the same announcement (it is within socket.request.max.bytes)
        c = Conn(self.broker.port)
        try:
            send_all(c.s, int32(100 * 1024 * 1024))
            self.assertFalse(wait_closed(c.s, 1), "PLAINTEXT listener refused a frame within its cap")
        finally:
            c.close()

    def test_oversized_frame_during_exchange_closes(self):
        c = Conn(sasl_port(self.broker))
        try:
            self.assertEqual(c.handshake("SCRAM-SHA-512")[0], 0)
            self.assertIsNone(c.authenticate(b"n,,n=alice,r=" + b"a" * (600 * 1024)))
        finally:
            c.close()

    def test_large_frame_after_authentication_is_served(self):
        c, res = scram_login(sasl_port(self.broker), "SCRAM-SHA-512", "alice", "alice-secret")
        try:
            self.assertEqual(res[0], 0)
            # ApiVersions v3 with a 600 KiB client software name: no longer capped
            body = compact_string("x" * (600 * 1024)) + compact_string("1.0") + TAGS_NONE
            self.assertIsNotNone(c.request(API_VERSIONS, 3, body, header_version=2),
                                 "the pre-authentication cap was not lifted")
        finally:
            c.close()

    def test_plain_wrong_password_and_unknown_user_same_message(self):
        msgs = []
        for user, pw in (("bob", "wrong"), ("nobody", "bob-secret")):
            c = Conn(sasl_port(self.broker))
            try:
                self.assertEqual(c.handshake("PLAIN")[0], 0)
                res = c.authenticate(("\0%s\0%s" % (user, pw)).encode())
                self.assert_failed_then_closed(c, res)
                msgs.append(res[1])
            finally:
                c.close()
        self.assertEqual(msgs[0], msgs[1])

    def test_plain_authzid_mismatch_fails(self):
        c = Conn(sasl_port(self.broker))
        try:
            c.handshake("PLAIN")
            self.assert_failed_then_closed(c, c.authenticate(b"admin\0bob\0bob-secret"))
        finally:
            c.close()
        c = Conn(sasl_port(self.broker))  # authzid equal to the user is fine
        try:
            c.handshake("PLAIN")
            self.assertEqual(c.authenticate(b"bob\0bob\0bob-secret")[0], 0)
        finally:
            c.close()

    def test_plain_malformed_tokens_fail(self):
        for token in (b"", b"bob", b"\0bob", b"\0bob\0", b"\0\0pw", b"a\0b\0c\0d"):
            c = Conn(sasl_port(self.broker))
            try:
                c.handshake("PLAIN")
                self.assert_failed_then_closed(c, c.authenticate(token))
            finally:
                c.close()

    def scram_start(self, mech="SCRAM-SHA-512", user="alice", password="alice-secret", **kw):
        c = Conn(sasl_port(self.broker))
        self.assertEqual(c.handshake(mech)[0], 0)
        sc = ScramClient(mech, user, password, **kw)
        r1 = c.authenticate(sc.first())
        return c, sc, r1

    def test_scram_wrong_proof_fails(self):
        c, sc, r1 = self.scram_start()
        try:
            self.assert_failed_then_closed(c, c.authenticate(sc.final(r1[2], proof_xor=1)),
                                           BAD_CREDENTIALS % "SCRAM-SHA-512")
        finally:
            c.close()

    def test_failure_response_is_delayed(self):
        # connection.failed.authentication.delay.ms (100 by default, KIP-306)
        c, sc, r1 = self.scram_start(password="wrong")
        try:
            final = sc.final(r1[2])
            t0 = time.monotonic()
            res = c.authenticate(final)
            elapsed = time.monotonic() - t0
            self.assert_failed_then_closed(c, res)
            self.assertGreaterEqual(elapsed, 0.095, "failure answered without the delay")
        finally:
            c.close()

    def test_scram_unknown_user_same_error_as_wrong_password(self):
        results = []
        for user, pw in (("alice", "wrong"), ("nobody", "alice-secret")):
            c, sc, r1 = self.scram_start(user=user, password=pw)
            try:
                self.assertEqual(r1[0], 0, "client-first of %s refused: %r" % (user, r1))
                attrs = dict(a.split("=", 1) for a in r1[2].decode().split(","))
                results.append(int(attrs["i"]))
                res = c.authenticate(sc.final(r1[2]))
                self.assert_failed_then_closed(c, res, BAD_CREDENTIALS % "SCRAM-SHA-512")
            finally:
                c.close()
        self.assertEqual(results, [4096, 4096], "iterations differ between a known and an unknown user")
        # the fake salt of an unknown user is stable, like a real one
        salts = []
        for _ in range(2):
            c, sc, r1 = self.scram_start(user="nobody")
            salts.append(dict(a.split("=", 1) for a in r1[2].decode().split(","))["s"])
            c.close()
        self.assertEqual(salts[0], salts[1])

    def test_scram_nonce_mismatch_fails(self):
        c, sc, r1 = self.scram_start()
        try:
            self.assert_failed_then_closed(c, c.authenticate(sc.final(r1[2], nonce=sc.cnonce + "forged")))
        finally:
            c.close()
        c, sc, r1 = self.scram_start()  # the client nonce alone (server part dropped)
        try:
            self.assert_failed_then_closed(c, c.authenticate(sc.final(r1[2], nonce=sc.cnonce)))
        finally:
            c.close()

    def test_scram_replayed_client_final_fails(self):
        c, sc, r1 = self.scram_start()
        final = sc.final(r1[2])
        res = c.authenticate(final)
        self.assertEqual(res[0], 0, res)
        c.close()
        # the same client-final on a new exchange with the same client nonce
        c2, sc2, r2 = self.scram_start()
        try:
            self.assertEqual(r2[0], 0)
            self.assertNotEqual(r1[2], r2[2], "server-first repeated: server nonce not fresh")
            self.assert_failed_then_closed(c2, c2.authenticate(final))
        finally:
            c2.close()

    def test_librdkafka_nonce_form_accepted_only_with_this_exchanges_nonce(self):
        # librdkafka < 2.6.1 repeats the client nonce in front of the full nonce
        c, sc, r1 = self.scram_start()
        try:
            full = dict(a.split("=", 1) for a in r1[2].decode().split(","))["r"]
            self.assertEqual(c.authenticate(sc.final(r1[2], nonce=sc.cnonce + full))[0], 0)
        finally:
            c.close()
        c, sc, r1 = self.scram_start()
        try:
            full = dict(a.split("=", 1) for a in r1[2].decode().split(","))["r"]
            self.assert_failed_then_closed(c, c.authenticate(sc.final(r1[2], nonce="x" + sc.cnonce + full)))
        finally:
            c.close()

    def test_scram_authzid_mismatch_fails(self):
        c, sc, r1 = self.scram_start(authzid="admin")
        try:
            self.assert_failed_then_closed(c, r1)
        finally:
            c.close()
        c, sc, r1 = self.scram_start(authzid="alice")  # equal to the user: fine
        try:
            self.assertEqual(r1[0], 0)
            self.assertEqual(c.authenticate(sc.final(r1[2]))[0], 0)
        finally:
            c.close()

    def test_scram_channel_binding_refused(self):
        c, sc, r1 = self.scram_start(gs2="p=tls-unique,,")
        try:
            self.assert_failed_then_closed(c, r1)
        finally:
            c.close()
        c, sc, r1 = self.scram_start(gs2="y,,")  # "y": client could, server does not: allowed
        try:
            self.assertEqual(r1[0], 0)
            self.assertEqual(c.authenticate(sc.final(r1[2]))[0], 0)
        finally:
            c.close()

    def test_scram_malformed_client_first_fails(self):
        for msg in (b"", b"n,,", b"n,,r=abc", b"n,,n=alice", b"x,,n=alice,r=abc", b"n,,m=ext,n=alice,r=a",
                    b"n,,n=al=ZZice,r=abc", b"n,,n=alice,r=abc,tokenauth=true", b"n,,n=alice,r=a\x00b"):
            c = Conn(sasl_port(self.broker))
            try:
                c.handshake("SCRAM-SHA-256")
                self.assert_failed_then_closed(c, c.authenticate(msg))
            finally:
                c.close()

    def test_failed_authentications_are_counted(self):
        before = failed_auths(self.broker)
        ok_before = metric(self.broker, "kafka_server_socket_server_metrics_successful_authentication_total")
        c, sc, r1 = self.scram_start(password="wrong")
        c.authenticate(sc.final(r1[2]))
        c.close()
        c, res = scram_login(sasl_port(self.broker), "SCRAM-SHA-512", "alice", "alice-secret")
        c.close()
        wait_until(lambda: failed_auths(self.broker) >= before + 1, 10, "failed counter")
        wait_until(lambda: metric(self.broker, "kafka_server_socket_server_metrics_successful_authentication_total")
                   >= ok_before + 1, 10, "successful counter")


# ---- credential management ---------------------------------------------------------------

class TestScramCredentials(SaslBroker):
    def test_alter_login_describe_delete(self):
        port = self.broker.port  # the admin APIs are served on every listener
        salt = b"dave-salt-0123"
        res = alter_scram(port, upsertions=[("dave", SCRAM_256, 4096, salt, scram_salted(SCRAM_256, "dave-pw", salt, 4096))])
        self.assertEqual(res, [("dave", 0, None)])
        c, r = scram_login(sasl_port(self.broker), "SCRAM-SHA-256", "dave", "dave-pw")
        c.close()
        self.assertEqual(r[0], 0, "a user added with AlterUserScramCredentials cannot log in")
        # no SCRAM-SHA-512 credential for dave
        c, r = scram_login(sasl_port(self.broker), "SCRAM-SHA-512", "dave", "dave-pw")
        c.close()
        self.assertEqual(r[0], ERR_SASL_AUTHENTICATION_FAILED)

        err, results, raw = describe_scram(port, ["dave", "alice"])
        self.assertEqual(err, 0)
        self.assertEqual(results, [("dave", 0, None, [(SCRAM_256, 4096)]),
                                   ("alice", 0, None, [(SCRAM_256, 8192), (SCRAM_512, 4096)])])
        self.assertNotIn(salt, raw, "DescribeUserScramCredentials leaks the salt")
        salted = scram_salted(SCRAM_256, "dave-pw", salt, 4096)
        stored = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
        server = hmac.new(salted, b"Server Key", "sha256").digest()
        for secret in (salted, stored, server):
            self.assertNotIn(secret[:8], raw, "DescribeUserScramCredentials leaks key material")
        err, results, _ = describe_scram(port)  # all users
        self.assertIn(("dave", 0, None, [(SCRAM_256, 4096)]), results)
        self.assertIn("alice", [r[0] for r in results])

        self.assertEqual(alter_scram(port, deletions=[("dave", SCRAM_256)]), [("dave", 0, None)])
        c, r = scram_login(sasl_port(self.broker), "SCRAM-SHA-256", "dave", "dave-pw")
        c.close()
        self.assertEqual(r[0], ERR_SASL_AUTHENTICATION_FAILED, "a deleted user can still log in")
        err, results, _ = describe_scram(port, ["dave"])
        self.assertEqual(results[0][1], ERR_RESOURCE_NOT_FOUND)

    def test_kcat_logs_in_with_a_user_from_alter(self):
        need_kcat(self)
        salt = os.urandom(16)
        res = alter_scram(self.broker.port, upsertions=[
            ("frank", SCRAM_512, 4096, salt, scram_salted(SCRAM_512, "frank-pw", salt, 4096))])
        self.assertEqual(res[0][1], 0)
        rc, _, err = kcat_sasl(self.broker, "SCRAM-SHA-512", "frank", "frank-pw", ["-L", "-m", "10"])
        self.assertEqual(rc, 0, err)

    def test_alter_errors(self):
        port = self.broker.port
        s = b"salt"
        sp = scram_salted(SCRAM_256, "pw", s, 4096)
        cases = [
            (dict(upsertions=[("", SCRAM_256, 4096, s, sp)]), ERR_UNACCEPTABLE_CREDENTIAL),
            (dict(upsertions=[("g1", SCRAM_256, 4095, s, sp)]), ERR_UNACCEPTABLE_CREDENTIAL),
            (dict(upsertions=[("g1", SCRAM_256, 16385, s, sp)]), ERR_UNACCEPTABLE_CREDENTIAL),
            (dict(upsertions=[("g1", 0, 4096, s, sp)]), ERR_UNSUPPORTED_SASL_MECHANISM),
            (dict(upsertions=[("g1", 3, 4096, s, sp)]), ERR_UNSUPPORTED_SASL_MECHANISM),
            (dict(upsertions=[("g1", SCRAM_256, 4096, b"", sp)]), ERR_UNACCEPTABLE_CREDENTIAL),
            (dict(deletions=[("nobody", SCRAM_256)]), ERR_RESOURCE_NOT_FOUND),
            (dict(deletions=[("alice", 7)]), ERR_UNSUPPORTED_SASL_MECHANISM),
            (dict(upsertions=[("g1", SCRAM_256, 4096, s, sp), ("g1", SCRAM_512, 4096, s, sp)]), ERR_DUPLICATE_RESOURCE),
            (dict(deletions=[("alice", SCRAM_256)], upsertions=[("alice", SCRAM_256, 4096, s, sp)]),
             ERR_DUPLICATE_RESOURCE),
        ]
        for kw, want in cases:
            res = alter_scram(port, **kw)
            self.assertEqual(len(res), 1, (kw, res))
            self.assertEqual(res[0][1], want, (kw, res))
            self.assertTrue(res[0][2], "no error message for %r" % (kw,))
        # nothing of the refused requests was applied
        err, results, _ = describe_scram(port, ["g1"])
        self.assertEqual(results[0][1], ERR_RESOURCE_NOT_FOUND)
        c, r = scram_login(sasl_port(self.broker), "SCRAM-SHA-256", "alice", "alice-secret")
        c.close()
        self.assertEqual(r[0], 0, "a refused deletion removed alice's credential")
        # one good and one bad user in one request: the good one is applied
        res = dict((u, e) for u, e, _ in alter_scram(port, upsertions=[("g2", SCRAM_256, 4096, s, sp),
                                                                       ("g3", SCRAM_256, 10, s, sp)]))
        self.assertEqual(res, {"g2": 0, "g3": ERR_UNACCEPTABLE_CREDENTIAL})

    def test_describe_errors(self):
        err, results, _ = describe_scram(self.broker.port, ["nobody", "alice", "alice"])
        self.assertEqual(err, 0)
        self.assertEqual([(u, e) for u, e, _, _ in results], [("nobody", ERR_RESOURCE_NOT_FOUND),
                                                              ("alice", ERR_DUPLICATE_RESOURCE)])


class TestUsersCli(SaslBroker):
    """`sluice users`: AlterUserScramCredentials / DescribeUserScramCredentials from the CLI."""

    def admin_config(self, password="alice-secret"):
        f = tempfile.NamedTemporaryFile("w", suffix=".properties", delete=False)
        f.write("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                "username=\"alice\" password=\"%s\";\n" % password)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_add_list_describe_delete(self):
        from test_cli import sluice
        plain = "127.0.0.1:%d" % self.broker.port
        r = sluice("users", "--add", "--user", "kim", "--password", "kim-pw", "--mechanism", "SCRAM-SHA-256",
                   "--iterations", "5000", bootstrap=plain)
        self.assertEqual(r.returncode, 0, r.stderr)
        c, res = scram_login(sasl_port(self.broker), "SCRAM-SHA-256", "kim", "kim-pw")
        c.close()
        self.assertEqual(res[0], 0, "a user added with `sluice users --add` cannot log in")
        # over the SASL listener, authenticated as alice
        cfg = self.admin_config()
        r = sluice("users", "--list", "--output", "json", "--command-config", cfg, bootstrap=sasl_bootstrap(self.broker))
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json.loads(r.stdout)
        self.assertIn({"user": "kim", "mechanism": "SCRAM-SHA-256", "iterations": 5000}, rows)
        self.assertIn({"user": "alice", "mechanism": "SCRAM-SHA-512", "iterations": 4096}, rows)
        r = sluice("users", "--delete", "--user", "kim", "--mechanism", "SCRAM-SHA-256", "--command-config", cfg,
                   bootstrap=sasl_bootstrap(self.broker))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = sluice("users", "--describe", "--user", "kim", bootstrap=plain)
        self.assertEqual(r.returncode, 1)
        self.assertIn("(error 91)", r.stderr)

    def test_errors(self):
        from test_cli import sluice
        plain = "127.0.0.1:%d" % self.broker.port
        r = sluice("users", "--add", "--user", "x", "--password", "p", "--iterations", "100", bootstrap=plain)
        self.assertEqual(r.returncode, 2)
        r = sluice("users", "--add", "--user", "x", bootstrap=plain)
        self.assertEqual(r.returncode, 2)
        r = sluice("users", "--list", "--delete", bootstrap=plain)
        self.assertEqual(r.returncode, 2)
        r = sluice("users", "--delete", "--user", "nobody", bootstrap=plain)
        self.assertEqual(r.returncode, 1)
        self.assertIn("(error 91)", r.stderr)
        r = sluice("users", "--list", "--command-config", self.admin_config("wrong"), "--timeout-ms", "5000",
                   bootstrap=sasl_bootstrap(self.broker))
        self.assertEqual(r.returncode, 1)
        self.assertIn(BAD_CREDENTIALS % "SCRAM-SHA-512", r.stderr)


class TestPersistence(unittest.TestCase):
    def test_credentials_survive_restart_and_bootstrap_only_adds(self):
        b = Broker(sasl_overrides(), args=["--add-scram", "SCRAM-SHA-256=[name=henry,password=first-pw]"],
                   name="persist")
        with b:
            salt = b"ivy-salt"
            self.assertEqual(alter_scram(b.port, upsertions=[
                ("ivy", SCRAM_512, 4096, salt, scram_salted(SCRAM_512, "ivy-pw", salt, 4096))])[0][1], 0)
            self.assertEqual(alter_scram(b.port, deletions=[("henry", SCRAM_256)])[0][1], 0)
            # restart with --add-scram for henry (again, new password) and a salt given in base64
            b.args = ["--add-scram", "SCRAM-SHA-256=[name=henry,password=second-pw]",
                      "--add-scram", 'SCRAM-SHA-512=[name=ivy,password=other]',
                      "--add-scram", 'SCRAM-SHA-512=[name=jack,iterations=5000,salt="c2FsdA==",password=jack-pw]']
            b.restart()
            for mech, user, pw, want in (("SCRAM-SHA-512", "ivy", "ivy-pw", 0),          # survived
                                         ("SCRAM-SHA-512", "ivy", "other", ERR_SASL_AUTHENTICATION_FAILED),
                                         ("SCRAM-SHA-256", "henry", "second-pw", 0),   # re-added: was absent
                                         ("SCRAM-SHA-512", "jack", "jack-pw", 0)):
                c, r = scram_login(sasl_port(b), mech, user, pw)
                c.close()
                self.assertEqual(r[0], want, "%s %s %s: %r" % (mech, user, pw, r))
            _, results, _ = describe_scram(b.port, ["jack"])
            self.assertEqual(results[0][3], [(SCRAM_512, 5000)])
            # henry deleted again, restart without --add-scram: stays deleted
            self.assertEqual(alter_scram(b.port, deletions=[("henry", SCRAM_256)])[0][1], 0)
            b.args = []
            b.restart()
            c, r = scram_login(sasl_port(b), "SCRAM-SHA-256", "henry", "second-pw")
            c.close()
            self.assertEqual(r[0], ERR_SASL_AUTHENTICATION_FAILED)


class TestReauthentication(unittest.TestCase):
    LIFETIME_MS = 3000

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(sasl_overrides(**{"connections.max.reauth.ms": str(cls.LIFETIME_MS)}),
                            args=["--add-scram", "SCRAM-SHA-512=[name=alice,password=alice-secret]"], name="reauth")
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.cleanup()

    def test_session_lifetime_then_reauthentication(self):
        port = sasl_port(self.broker)
        c, res = scram_login(port, "SCRAM-SHA-512", "alice", "alice-secret")
        try:
            self.assertEqual(res[0], 0)
            self.assertEqual(res[3], self.LIFETIME_MS)
            deadline = time.monotonic() + self.LIFETIME_MS / 1000.0
            # re-authenticate on the same connection halfway through the session
            wait_until(lambda: time.monotonic() > deadline - self.LIFETIME_MS / 2000.0, 5, "half the session")
            self.assertEqual(c.handshake("SCRAM-SHA-512")[0], 0)
            sc = ScramClient("SCRAM-SHA-512", "alice", "alice-secret", nonce="reauthnonce")
            r1 = c.authenticate(sc.first())
            r2 = c.authenticate(sc.final(r1[2]))
            self.assertEqual(r2[0], 0, r2)
            self.assertEqual(r2[3], self.LIFETIME_MS)
            wait_until(lambda: time.monotonic() > deadline + 0.2, 5, "the first session's end")
            self.assertTrue(c.metadata(), "closed although re-authenticated")
        finally:
            c.close()

    def test_expired_session_closes(self):
        c, res = scram_login(sasl_port(self.broker), "SCRAM-SHA-512", "alice", "alice-secret")
        try:
            self.assertTrue(c.metadata())
            deadline = time.monotonic() + res[3] / 1000.0 + 0.2
            wait_until(lambda: time.monotonic() > deadline, 5, "the session's end")
            self.assertFalse(c.metadata(), "a request after the session ended was served")
        finally:
            c.close()

    def test_reauthentication_with_another_mechanism_or_user_fails(self):
        c, res = scram_login(sasl_port(self.broker), "SCRAM-SHA-512", "alice", "alice-secret")
        try:
            err, _ = c.handshake("PLAIN")
            self.assertEqual(err, ERR_ILLEGAL_SASL_STATE)
            self.assertTrue(wait_closed(c.s, 10))
        finally:
            c.close()

    def test_kafkajs_reauthenticates_on_its_connections(self):
        need_kafkajs(self)
        create_topic(self, self.broker, "reauth-js")
        ok = "kafka_server_socket_server_metrics_successful_authentication_total"
        conns = 'kafka_server_socket_server_metrics_connection_creation_total{listener="SASL_PLAINTEXT"}'
        before, conns_before = metric(self.broker, ok), metric(self.broker, conns)
        log_start = len(self.broker.stderr_text())
        pause = self.LIFETIME_MS + 1500  # past the first session's end
        rc, out, err = node("sasl_client.js", sasl_bootstrap(self.broker), "scram-sha-512", "alice", "alice-secret",
                            "reauth-js", "again", pause)
        self.assertEqual(json.loads(out.strip().splitlines()[-1]), {"ok": True, "value": "again"}, out + err)
        log = self.broker.stderr_text()[log_start:]
        self.assertNotIn("SASL session expired", log, "kafkajs was disconnected instead of re-authenticating")
        # more authentications than connections: some were re-authentications
        auths, new_conns = metric(self.broker, ok) - before, metric(self.broker, conns) - conns_before
        self.assertGreater(auths, new_conns, "no re-authentication (%d auths, %d connections)" % (auths, new_conns))
        sys.stderr.write("[%d auths on %d connections] " % (auths, new_conns))

    def test_kcat_works_with_session_lifetime(self):
        need_kcat(self)
        create_topic(self, self.broker, "reauth-kcat")
        rc, _, err = kcat_sasl(self.broker, "SCRAM-SHA-512", "alice", "alice-secret",
                               ["-P", "-t", "reauth-kcat", "-p", "0"], stdin=b"r1\n")
        self.assertEqual(rc, 0, err)


class TestListenerConfig(unittest.TestCase):
    def test_per_listener_mechanisms(self):
        b = Broker(sasl_overrides(**{"listener.name.sasl_plaintext.sasl.enabled.mechanisms": "SCRAM-SHA-256"}),
                   name="perlistener")
        with b:
            c = Conn(sasl_port(b))
            try:
                err, mechs = c.handshake("SCRAM-SHA-512")
                self.assertEqual((err, mechs), (ERR_UNSUPPORTED_SASL_MECHANISM, ["SCRAM-SHA-256"]))
            finally:
                c.close()

    def test_default_mechanism_is_scram_sha_512(self):
        b = Broker({"listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0"}, name="defaults")
        with b:
            c = Conn(sasl_port(b))
            try:
                self.assertEqual(c.handshake("SCRAM-SHA-512"), (0, ["SCRAM-SHA-512"]))
            finally:
                c.close()

    def test_bad_configurations_refuse_to_start(self):
        base = ["--override", "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
                "--override", "admin.listeners="]
        cases = [
            (["--override", "sasl.enabled.mechanisms=GSSAPI"], "GSSAPI"),
            (["--override", "sasl.enabled.mechanisms=PLAIN"], "JAAS"),
            (["--override", "sasl.enabled.mechanisms=PLAIN", "--override",
              "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain."
              "PlainLoginModule required user_a=\"x\""], "missing ';'"),
            (["--add-scram", "SCRAM-SHA-1=[name=a,password=b]"], "--add-scram"),
            (["--add-scram", "SCRAM-SHA-256=[name=a,password=b,iterations=100]"], "iterations"),
            (["--add-scram", "SCRAM-SHA-256=[password=b]"], "name"),
        ]
        for extra, want in cases:
            with self.subTest(extra=extra):
                rc, out, err = harness.run_sluiced(base + extra)
                self.assertNotEqual(rc, 0, out + err)
                self.assertIn(want, err)


if __name__ == "__main__":
    harness.main()
