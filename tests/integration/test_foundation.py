"""
test_foundation.py - end-to-end tests of the foundation: a single sluiced answers
ApiVersions, Metadata and DescribeCluster for real clients (kcat, kafka-python,
confluent-kafka, kafkajs) and over raw sockets, survives bad input, and starts,
stops and restarts cleanly.

Run: /usr/bin/python3 tests/integration/test_foundation.py [TestClass[.test_name]]
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (API_VERSIONS, DESCRIBE_CLUSTER, METADATA, Broker, Reader, array, connect,  # noqa: E402
                     frame, int16, int32, raw_request, recv_response, request_header, send_all, string,
                     wait_closed)

CLIENT_TIMEOUT_S = 30          # bound on any one client subprocess
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
UNSUPPORTED_VERSION = 35


def kafka_python_admin(bootstrap):
    from kafka import KafkaAdminClient
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000, api_version_auto_timeout_ms=10000,
                            client_id="sluice-it")


def confluent_metadata(bootstrap):
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000,
                         "client.id": "sluice-it"})
    return admin.list_topics(timeout=10)


def assert_served(test, broker):
    """Another client, on a new connection, still gets an ApiVersions answer."""
    test.assertTrue(broker.running(), "sluiced died:\n" + broker.report())
    err, keys = harness.api_versions(broker.port, version=0)
    test.assertEqual(err, 0)
    test.assertIn(API_VERSIONS, keys)


class SharedBroker(unittest.TestCase):
    """One broker for the tests of a class, started by the first test's setUp (so a
    broker that fails to start fails each test, not an uncounted class fixture)."""

    overrides = {}
    broker = None
    start_error = None

    def setUp(self):
        cls = type(self)
        if cls.start_error is not None:
            raise harness.BrokerError("shared broker failed to start (see the first failure)")
        if cls.broker is None:
            cls.broker = Broker(cls.overrides, name=cls.__name__)
            try:
                cls.broker.start()
            except Exception as e:
                cls.start_error = e
                raise

    @classmethod
    def tearDownClass(cls):
        if cls.broker is not None:
            cls.broker.cleanup()


class TestClients(SharedBroker):
    def test_kcat_lists_broker_1_and_controller(self):
        if not shutil.which("kcat"):
            self.skipTest("kcat not installed: run scripts/setup.sh")
        b = self.broker
        p = subprocess.run(["kcat", "-L", "-J", "-b", b.bootstrap, "-m", "10"], capture_output=True,
                           timeout=CLIENT_TIMEOUT_S)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        md = json.loads(p.stdout)
        self.assertEqual(md["brokers"], [{"id": 1, "name": "127.0.0.1:%d" % b.port}])
        self.assertEqual(md["controllerid"], 1)
        self.assertEqual(md["originating_broker"]["id"], 1)
        self.assertIsInstance(md["topics"], list)

    def test_kafka_python_describe_cluster_and_list_topics(self):
        admin = kafka_python_admin(self.broker.bootstrap)
        try:
            cluster = admin.describe_cluster()
            self.assertIsInstance(cluster["cluster_id"], str)
            self.assertTrue(cluster["cluster_id"])
            self.assertEqual(cluster["controller_id"], 1)
            brokers = [(x["node_id"], x["host"], x["port"]) for x in cluster["brokers"]]
            self.assertEqual(brokers, [(1, "127.0.0.1", self.broker.port)])
            self.assertIsInstance(admin.list_topics(), list)
        finally:
            admin.close()

    def test_confluent_kafka_list_topics(self):
        md = confluent_metadata(self.broker.bootstrap)
        self.assertTrue(md.cluster_id)
        self.assertEqual(md.controller_id, 1)
        self.assertEqual(sorted(md.brokers), [1])
        self.assertEqual((md.brokers[1].host, md.brokers[1].port), ("127.0.0.1", self.broker.port))

    def test_clients_agree_on_the_cluster_id(self):
        md = confluent_metadata(self.broker.bootstrap)
        admin = kafka_python_admin(self.broker.bootstrap)
        try:
            self.assertEqual(admin.describe_cluster()["cluster_id"], md.cluster_id)
        finally:
            admin.close()

    def test_kafkajs_describe_cluster(self):
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "kafkajs")):
            self.skipTest("kafkajs not installed: run scripts/setup.sh")
        p = subprocess.run(["node", os.path.join(JS_DIR, "describe_cluster.js"), self.broker.bootstrap],
                           capture_output=True, timeout=CLIENT_TIMEOUT_S)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        cluster = json.loads(p.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(cluster["brokers"], [{"nodeId": 1, "host": "127.0.0.1", "port": self.broker.port}])
        self.assertEqual(cluster["controller"], 1)
        self.assertTrue(cluster["clusterId"])


class TestApiVersions(SharedBroker):
    def test_v3_lists_api_versions_metadata_and_describe_cluster(self):
        err, keys = harness.api_versions(self.broker.port, version=3)
        self.assertEqual(err, 0)
        self.assertEqual(keys[API_VERSIONS], (0, 4))
        self.assertIn(METADATA, keys)
        self.assertIn(DESCRIBE_CLUSTER, keys)
        for k, (lo, hi) in keys.items():
            self.assertLessEqual(lo, hi, "api key %d" % k)
            self.assertGreaterEqual(lo, 0, "api key %d" % k)

    def test_every_version_0_to_4_answers(self):
        for v in range(0, 5):
            with self.subTest(version=v):
                err, keys = harness.api_versions(self.broker.port, version=v)
                self.assertEqual(err, 0)
                self.assertEqual(keys[API_VERSIONS], (0, 4))

    def test_unsupported_version_gets_error_35_with_a_v0_body(self):
        # KIP-511: a client newer than the broker sends its own latest version (here
        # v99, flexible: header v2); the broker answers UNSUPPORTED_VERSION in a v0
        # body that still lists what it supports, so the client can downgrade.
        resp = raw_request(self.broker.port, API_VERSIONS, 99, harness.api_versions_request_body(3),
                           header_version=2)
        self.assertIsNotNone(resp, "broker closed the connection instead of answering")
        err, keys = harness.parse_api_versions(resp, 0)
        self.assertEqual(err, UNSUPPORTED_VERSION)
        self.assertEqual(keys.get(API_VERSIONS), (0, 4))
        self.assertIn(METADATA, keys)

    def test_two_requests_on_one_connection_answer_in_order(self):
        with connect(self.broker.port) as s:
            body = harness.api_versions_request_body(3)
            reqs = frame(request_header(API_VERSIONS, 3, 7, "a", 2) + body)
            reqs += frame(request_header(API_VERSIONS, 0, 8, "b", 1))
            self.assertTrue(send_all(s, reqs))
            first, second = recv_response(s), recv_response(s)
        self.assertIsNotNone(first)
        self.assertIsNotNone(second)
        self.assertEqual(Reader(first).int32(), 7)
        self.assertEqual(Reader(second).int32(), 8)


class TestBadInput(SharedBroker):
    """Each bad input closes its own connection; the broker lives on and serves
    another client."""

    MAX = 1048576
    overrides = {"socket.request.max.bytes": MAX}

    def send_then_expect_close(self, data, what):
        with connect(self.broker.port) as s:
            send_all(s, data)
            self.assertTrue(wait_closed(s, 10), "%s: connection still open after 10 s" % what)
        assert_served(self, self.broker)

    def test_garbage_bytes(self):
        rnd = random.Random(42)
        junk = bytes(rnd.randrange(256) for _ in range(300))
        # a plausible size, then an unknown api key and noise
        self.send_then_expect_close(int32(296) + b"\x7f\x7f" + junk[:294], "garbage after a valid size")

    def test_http_request(self):
        self.send_then_expect_close(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP request")

    def test_frame_length_minus_one(self):
        self.send_then_expect_close(int32(-1) + b"\x00" * 16, "frame length -1")

    def test_frame_length_zero(self):
        self.send_then_expect_close(int32(0) + b"\x00" * 16, "frame length 0")

    def test_frame_larger_than_socket_request_max_bytes(self):
        # announce 2 MiB but send only a little: the broker must close on the size alone
        self.send_then_expect_close(int32(2 * self.MAX) + request_header(API_VERSIONS, 0, 1), "2 MiB frame")

    def test_frame_at_socket_request_max_bytes_is_read_not_rejected_for_size(self):
        # exactly the limit is allowed: a full-size ApiVersions v0 request with
        # trailing bytes; whatever the broker answers, it must read it all and
        # still serve others (Kafka ignores trailing bytes of v0 ApiVersions)
        payload = request_header(API_VERSIONS, 0, 5)
        payload += b"\x00" * (self.MAX - len(payload))
        with connect(self.broker.port, timeout=20) as s:
            self.assertTrue(send_all(s, frame(payload)))
            recv_response(s)
        assert_served(self, self.broker)

    def test_truncated_request_then_close(self):
        with connect(self.broker.port) as s:
            self.assertTrue(send_all(s, int32(100) + b"\x00\x12\x00\x00" + b"\x00" * 16))
        assert_served(self, self.broker)
        # and a truncated request left hanging does not stop others either
        with connect(self.broker.port) as s:
            self.assertTrue(send_all(s, int32(100) + b"\x00\x12\x00\x00" + b"\x00" * 16))
            assert_served(self, self.broker)

    def test_unknown_api_key_closes(self):
        self.assertIsNone(raw_request(self.broker.port, 9999, 0, b""))
        assert_served(self, self.broker)

    def test_metadata_at_unsupported_version_closes(self):
        self.assertIsNone(raw_request(self.broker.port, METADATA, 99, array([])))
        assert_served(self, self.broker)

    def test_string_length_overrunning_the_frame_closes(self):
        # client_id says 500 bytes, the frame holds 3
        payload = int16(API_VERSIONS) + int16(0) + int32(11) + int16(500) + b"abc"
        with connect(self.broker.port) as s:
            send_all(s, frame(payload))
            self.assertIsNone(recv_response(s))
        assert_served(self, self.broker)

    def test_metadata_topic_name_overrunning_the_frame_closes(self):
        # Metadata v4: topics [name], allow_auto_topic_creation; the name claims 200 bytes
        body = int32(1) + int16(200) + b"t"
        self.assertIsNone(raw_request(self.broker.port, METADATA, 4, body))
        assert_served(self, self.broker)

    def test_many_bad_connections_in_a_row(self):
        for i in range(50):
            with connect(self.broker.port) as s:
                send_all(s, int32(-1 - i))
                self.assertTrue(wait_closed(s, 10))
        assert_served(self, self.broker)


class TestLifecycle(unittest.TestCase):
    def test_sigterm_exits_0_within_10_s(self):
        with Broker(name="sigterm") as b:
            assert_served(self, b)
            idle = connect(b.port)  # an idle client must not hold up shutdown
            try:
                self.assertEqual(b.stop(signal.SIGTERM, timeout=10), 0)
            finally:
                idle.close()

    def test_sigint_exits_0_within_10_s(self):
        with Broker(name="sigint") as b:
            assert_served(self, b)
            self.assertEqual(b.stop(signal.SIGINT, timeout=10), 0)

    def test_invalid_config_exits_nonzero_naming_the_key(self):
        rc, out, err = harness.run_sluiced(["--override", "num.partitions=abc", "--override",
                                            "listeners=PLAINTEXT://127.0.0.1:0"])
        self.assertNotEqual(rc, 0)
        self.assertGreater(rc, 0, "killed by a signal, not an orderly exit:\n" + err)
        self.assertIn("num.partitions", err)
        self.assertIn("abc", err)
        self.assertNotIn("ready", out)

    def test_invalid_properties_file_exits_nonzero_naming_file_and_line(self):
        with _TmpDir() as tmp:
            path = os.path.join(tmp, "server.properties")
            with open(path, "w") as f:
                f.write("# comment\nlog.segment.bytes=10\n")
            rc, out, err = harness.run_sluiced([path, "--override", "listeners=PLAINTEXT://127.0.0.1:0"])
        self.assertGreater(rc, 0, err)
        self.assertIn("log.segment.bytes", err)
        self.assertIn(":2", err)

    def test_unknown_key_only_warns(self):
        with Broker({"foo.bar.baz": "1"}, name="unknown-key") as b:
            assert_served(self, b)
            self.assertIn("foo.bar.baz", b.stderr_text())

    def test_properties_file_with_overrides(self):
        with _TmpDir() as tmp:
            path = os.path.join(tmp, "server.properties")
            with open(path, "w") as f:
                f.write("node.id=9\nnum.partitions=\\\n   2\n")
            with Broker({"node.id": 4}, args=[path], name="props") as b:
                md = confluent_metadata(b.bootstrap)
                self.assertEqual(sorted(md.brokers), [4])
                self.assertEqual(md.controller_id, 4)

    def test_help_exits_0_with_usage(self):
        rc, out, err = harness.run_sluiced(["--help"])
        self.assertEqual(rc, 0, err)
        self.assertIn("--override", out + err)

    def test_restart_keeps_cluster_id_and_node_id(self):
        with Broker({"node.id": 3}, name="restart") as b:
            before = confluent_metadata(b.bootstrap)
            self.assertTrue(before.cluster_id)
            self.assertEqual(sorted(before.brokers), [3])
            b.restart()
            after = confluent_metadata(b.bootstrap)
            self.assertEqual(after.cluster_id, before.cluster_id)
            self.assertEqual(sorted(after.brokers), [3])
            self.assertEqual(after.controller_id, 3)
            self.assertEqual(after.brokers[3].port, b.port)

    def test_kill9_then_restart_keeps_cluster_id(self):
        with Broker(name="kill9") as b:
            before = confluent_metadata(b.bootstrap).cluster_id
            b.kill9()
            b.start()
            self.assertEqual(confluent_metadata(b.bootstrap).cluster_id, before)

    def test_two_brokers_have_distinct_generated_cluster_ids(self):
        with Broker(name="one") as a, Broker(name="two") as b:
            self.assertNotEqual(confluent_metadata(a.bootstrap).cluster_id,
                                confluent_metadata(b.bootstrap).cluster_id)

    def test_configured_cluster_id_is_used(self):
        cid = "MkU3OEVBNTcwNTJENDM2Qk"
        with Broker({"cluster.id": cid}, name="cluster-id") as b:
            self.assertEqual(confluent_metadata(b.bootstrap).cluster_id, cid)


class _TmpDir:
    def __enter__(self):
        import tempfile
        self.path = tempfile.mkdtemp(prefix="sluice-it-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
        return False


if __name__ == "__main__":
    harness.main()
