"""
test_cli.py - the `sluice` command-line tool (build/sluice, $SLUICE) against a real
sluiced: every command and flag, the layouts shared with Kafka's shell tools
(kafka-topics.sh --describe, kafka-consumer-groups.sh --describe), exit codes
(0 ok, 1 failed, 2 usage) and bounded failure on unreachable brokers.

Run: /usr/bin/python3 tests/integration/test_cli.py [TestClass[.test_name]]
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import REPO, Broker  # noqa: E402

SLUICE = os.environ.get("SLUICE", str(REPO / "build" / "sluice"))
RUN_TIMEOUT_S = 60


def sluice(*args, bootstrap=None, input=None, timeout=RUN_TIMEOUT_S, env=None):
    """Runs sluice; returns CompletedProcess with text stdout/stderr."""
    if not os.path.exists(SLUICE):
        raise AssertionError("%s not found: build it with make build/sluice" % SLUICE)
    cmd = [SLUICE] + list(args)
    if bootstrap:
        cmd += ["--bootstrap-server", bootstrap]
    e = dict(os.environ)
    e.pop("SLUICE_BOOTSTRAP", None)
    e.update(env or {})
    return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=e)


class CliTest(unittest.TestCase):
    """One broker for the whole module, started by the first test that needs it."""

    broker = None
    start_error = None
    overrides = {"auto.create.topics.enable": "false"}

    def setUp(self):
        cls = CliTest
        if cls.start_error is not None:
            raise harness.BrokerError("shared broker failed to start (see the first failure)")
        if cls.broker is None:
            cls.broker = Broker(cls.overrides, name="cli")
            try:
                cls.broker.start()
            except Exception as e:
                cls.start_error = e
                raise

    def run_ok(self, *args, **kw):
        r = sluice(*args, bootstrap=self.broker.bootstrap, **kw)
        self.assertEqual(r.returncode, 0, "sluice %s failed:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def run_fail(self, code, *args, **kw):
        r = sluice(*args, bootstrap=self.broker.bootstrap, **kw)
        self.assertEqual(r.returncode, code, "sluice %s: expected exit %d, got %d\n%s%s"
                         % (" ".join(args), code, r.returncode, r.stdout, r.stderr))
        return r

    def topic(self, name, partitions=1, *extra):
        self.run_ok("topics", "--create", "--topic", name, "--partitions", str(partitions), *extra)
        return name

    def produce(self, topic, lines, *extra):
        return self.run_ok("produce", "--topic", topic, *extra, input="".join(l + "\n" for l in lines))

    def consume(self, topic, n, *extra):
        return self.run_ok("consume", "--topic", topic, "--from-beginning", "--max-messages", str(n),
                           "--timeout-ms", "10000", *extra)


def tearDownModule():
    if CliTest.broker is not None:
        CliTest.broker.cleanup()


# ---- no broker needed ----

class TestUsage(unittest.TestCase):
    COMMANDS = [["topics"], ["produce"], ["consume"], ["groups"], ["configs"], ["cluster"], ["offsets"],
                ["perf", "produce"], ["perf", "consume"]]

    def test_help_on_every_command_has_examples(self):
        for c in self.COMMANDS + [["perf"], []]:
            with self.subTest(cmd=c):
                r = sluice(*(c + ["--help"]))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("Examples:", r.stdout)
                self.assertIn("sluice", r.stdout)

    def test_bad_flags_exit_2(self):
        cases = [["nosuchcommand"], ["topics", "--bogus"], ["topics"], ["topics", "--list", "--create"],
                 ["topics", "--create"], ["topics", "--list", "--output", "yaml"],
                 ["topics", "--list", "--timeout-ms", "abc"], ["produce"], ["consume"],
                 ["produce", "--topic", "t", "--acks", "7"], ["groups"], ["groups", "--describe"],
                 ["configs", "--describe"], ["perf"], ["perf", "produce", "--topic", "t"],
                 ["offsets", "--time", "yesterday"], ["topics", "--describe", "--topic"],
                 ["consume", "--topic", "t", "--property", "print.colour=true"], []]
        for c in cases:
            with self.subTest(cmd=c):
                r = sluice(*c)
                self.assertEqual(r.returncode, 2, "%r: %s%s" % (c, r.stdout, r.stderr))
                self.assertTrue(r.stderr.strip(), "no message for %r" % c)
                self.assertNotIn("rdkafka", r.stderr)

    def test_refused_connection_fails_fast_with_a_sentence(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        for c in (["topics", "--list"], ["cluster"], ["groups", "--list"],
                  ["consume", "--topic", "t"], ["produce", "--topic", "t"]):
            with self.subTest(cmd=c):
                t0 = time.monotonic()
                r = sluice(*c, "--bootstrap-server", "127.0.0.1:%d" % port, "--timeout-ms", "5000",
                           input="x\n", timeout=20)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertLess(time.monotonic() - t0, 8)
                self.assertRegex(r.stderr, r"^error: .*(connection refused|cannot reach|no answer)")
                self.assertNotIn("%3|", r.stderr)

    def test_silent_broker_times_out_within_the_bound(self):
        # A listener that accepts and never answers: the tool must give up on time.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        try:
            t0 = time.monotonic()
            r = sluice("topics", "--list", "--bootstrap-server", "127.0.0.1:%d" % s.getsockname()[1],
                       "--timeout-ms", "1500", timeout=20)
            took = time.monotonic() - t0
        finally:
            s.close()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertLess(took, 6)
        self.assertIn("1500 ms", r.stderr)

    def test_default_bootstrap_comes_from_env(self):
        r = sluice("topics", "--list", "--timeout-ms", "2000", env={"SLUICE_BOOTSTRAP": "127.0.0.1:1"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("127.0.0.1:1", r.stderr)

    def test_command_config_problems(self):
        with tempfile.NamedTemporaryFile("w", suffix=".properties", delete=False) as f:
            f.write("# comment\nsecurity.protocol=NOT_A_PROTOCOL\n")
        try:
            r = sluice("topics", "--list", "--command-config", f.name)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("security.protocol", r.stderr)
        finally:
            os.unlink(f.name)
        r = sluice("topics", "--list", "--command-config", "/nonexistent/client.properties")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent/client.properties", r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".properties", delete=False) as f:
            f.write("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
                    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n"
                    "    username=\"alice\" password=\"s3cret\";\n"
                    "key.serializer=org.apache.kafka.common.serialization.StringSerializer\n")
        try:
            # Parsed and accepted (the connection itself then fails: nothing listens).
            r = sluice("topics", "--list", "--command-config", f.name, "--bootstrap-server", "127.0.0.1:1",
                       "--timeout-ms", "2000")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertNotIn("invalid value", r.stderr)
        finally:
            os.unlink(f.name)


# ---- topics ----

TOPIC_LINE = re.compile(r"^Topic: (\S+)\tTopicId: ([A-Za-z0-9_-]{22})\tPartitionCount: (\d+)\t"
                        r"ReplicationFactor: (\d+)\tConfigs: (.*)$")
PART_LINE = re.compile(r"^\tTopic: (\S+)\tPartition: (\d+)\tLeader: (\d+|none)\tReplicas: ([\d,]*)\tIsr: ([\d,]*)$")


class TestTopics(CliTest):
    def test_create_list_describe_in_kafka_topics_layout(self):
        self.assertIn("Created topic tp-a.", self.run_ok("topics", "--create", "--topic", "tp-a", "--partitions", "3",
                                                        "--replication-factor", "1",
                                                        "--config", "retention.ms=123456").stdout)
        self.assertIn("tp-a", self.run_ok("topics", "--list").stdout.split("\n"))
        out = self.run_ok("topics", "--describe", "--topic", "tp-a").stdout.rstrip("\n").split("\n")
        m = TOPIC_LINE.match(out[0])
        self.assertIsNotNone(m, out[0])
        self.assertEqual(m.group(1, 3, 4), ("tp-a", "3", "1"))
        self.assertIn("retention.ms=123456", m.group(5))
        self.assertEqual(len(out), 4)
        for i, line in enumerate(out[1:]):
            p = PART_LINE.match(line)
            self.assertIsNotNone(p, line)
            self.assertEqual(p.group(1, 2, 3, 4, 5), ("tp-a", str(i), "1", "1", "1"))

    def test_describe_json(self):
        self.topic("tp-json", 2)
        d = json.loads(self.run_ok("topics", "--describe", "--topic", "tp-json", "--output", "json").stdout)
        self.assertEqual(len(d), 1)
        self.assertEqual(d[0]["topic"], "tp-json")
        self.assertEqual(d[0]["partition_count"], 2)
        self.assertEqual(len(d[0]["topic_id"]), 22)
        self.assertEqual([p["partition"] for p in d[0]["partitions"]], [0, 1])
        self.assertEqual(json.loads(self.run_ok("topics", "--list", "--topic", "tp-json", "--output", "json").stdout),
                         ["tp-json"])

    def test_regex_topic_and_exclude_internal(self):
        self.topic("rx-1")
        self.topic("rx-2")
        out = self.run_ok("topics", "--list", "--topic", "rx-.*", "--exclude-internal").stdout.split()
        self.assertEqual(out, ["rx-1", "rx-2"])

    def test_create_twice_and_if_not_exists(self):
        self.topic("tp-dup")
        r = self.run_fail(1, "topics", "--create", "--topic", "tp-dup")
        self.assertRegex(r.stderr, r"^error: cannot create topic 'tp-dup': .*already exists")
        self.run_ok("topics", "--create", "--topic", "tp-dup", "--if-not-exists")

    def test_bad_config_value_fails_with_the_reason(self):
        r = self.run_fail(1, "topics", "--create", "--topic", "tp-bad", "--config", "retention.ms=abc")
        self.assertIn("retention.ms", r.stderr)
        self.assertNotIn("tp-bad", self.run_ok("topics", "--list").stdout.split())
        self.run_fail(2, "topics", "--create", "--topic", "tp-bad", "--config", "noequals")
        self.run_fail(2, "topics", "--create", "--topic", "tp-bad", "--partitions", "0")

    def test_alter_partitions(self):
        self.topic("tp-alter", 1)
        self.run_ok("topics", "--alter", "--topic", "tp-alter", "--partitions", "4")
        out = self.run_ok("topics", "--describe", "--topic", "tp-alter").stdout
        self.assertEqual(TOPIC_LINE.match(out.split("\n")[0]).group(3), "4")
        self.run_fail(1, "topics", "--alter", "--topic", "tp-alter", "--partitions", "2")
        self.run_fail(2, "topics", "--alter", "--topic", "tp-alter")

    def test_delete_and_if_exists(self):
        self.topic("tp-del")
        self.run_ok("topics", "--delete", "--topic", "tp-del")
        deadline = time.monotonic() + 10
        while "tp-del" in self.run_ok("topics", "--list").stdout.split() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertNotIn("tp-del", self.run_ok("topics", "--list").stdout.split())
        r = self.run_fail(1, "topics", "--delete", "--topic", "tp-del")
        self.assertIn("topic 'tp-del' does not exist", r.stderr)
        self.run_ok("topics", "--delete", "--topic", "tp-del", "--if-exists")

    def test_describe_unknown_topic(self):
        r = self.run_fail(1, "topics", "--describe", "--topic", "no-such-topic")
        self.assertEqual(r.stderr.strip(), "error: topic 'no-such-topic' does not exist")

    def test_under_replicated_and_unavailable_are_empty_on_a_healthy_broker(self):
        self.topic("tp-urp", 2)
        self.assertEqual(self.run_ok("topics", "--describe", "--under-replicated-partitions").stdout, "")
        self.assertEqual(self.run_ok("topics", "--describe", "--unavailable-partitions").stdout, "")


# ---- produce and consume ----

class TestProduceConsume(CliTest):
    def test_round_trip_values(self):
        t = self.topic("pc-plain")
        self.produce(t, ["one", "two", "three"])
        r = self.consume(t, 3)
        self.assertEqual(r.stdout, "one\ntwo\nthree\n")
        self.assertIn("Processed a total of 3 messages", r.stderr)

    def test_keys_headers_and_formatter(self):
        t = self.topic("pc-fmt")
        self.produce(t, ["h1:a,h2:b\tk1\tv1"], "--property", "parse.headers=true", "parse.key=true")
        self.produce(t, ["k2:v2"], "--property", "parse.key=true", "key.separator=:")
        r = self.consume(t, 2, "--property", "print.key=true", "print.partition=true", "print.offset=true",
                         "print.headers=true", "print.timestamp=true", "key.separator=|")
        lines = r.stdout.rstrip("\n").split("\n")
        self.assertRegex(lines[0], r"^CreateTime:\d{13}\|Partition:0\|Offset:0\|h1:a,h2:b\|k1\|v1$")
        self.assertRegex(lines[1], r"^CreateTime:\d{13}\|Partition:0\|Offset:1\|NO_HEADERS\|k2\|v2$")
        r = self.consume(t, 2, "--property", "print.key=true", "print.value=false")
        self.assertEqual(r.stdout, "k1\nk2\n")
        self.produce(t, ["NULL:x"], "--property", "parse.key=true", "key.separator=:", "null.marker=NULL")
        r = self.consume(t, 3, "--property", "print.key=true", "null.literal=<nil>")
        self.assertEqual(r.stdout.split("\n")[2], "<nil>\tx")

    def test_json_output(self):
        t = self.topic("pc-json")
        self.produce(t, ["k:v"], "--property", "parse.key=true", "key.separator=:", "--header", "src:web")
        m = json.loads(self.consume(t, 1, "--output", "json").stdout)
        self.assertEqual((m["topic"], m["partition"], m["offset"], m["key"], m["value"]), (t, 0, 0, "k", "v"))
        self.assertEqual(m["headers"], {"src": "web"})
        s = json.loads(self.produce(t, ["a", "b"], "--output", "json").stdout)
        self.assertEqual((s["produced"], s["failed"]), (2, 0))

    def test_partition_and_offset(self):
        t = self.topic("pc-part", 2)
        self.produce(t, ["p1-%d" % i for i in range(5)], "--partition", "1")
        r = self.run_ok("consume", "--topic", t, "--partition", "1", "--offset", "3", "--max-messages", "2",
                        "--timeout-ms", "10000")
        self.assertEqual(r.stdout, "p1-3\np1-4\n")
        r = self.run_ok("consume", "--topic", t, "--partition", "0", "--offset", "earliest", "--timeout-ms", "1500")
        self.assertEqual(r.stdout, "")
        self.run_fail(1, "consume", "--topic", t, "--partition", "7", "--timeout-ms", "1000")

    def test_acks_compression_sync_and_file(self):
        t = self.topic("pc-opts")
        for codec in ("gzip", "snappy", "lz4", "zstd"):
            self.produce(t, [codec], "--compression", codec, "--acks", "1")
        self.produce(t, ["sync1", "sync2"], "--sync", "--acks", "all")
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("from-file\n")
        try:
            self.run_ok("produce", "--topic", t, "--file", f.name)
        finally:
            os.unlink(f.name)
        r = self.consume(t, 7, "--isolation-level", "read_committed")
        self.assertEqual(r.stdout.split(), ["gzip", "snappy", "lz4", "zstd", "sync1", "sync2", "from-file"])

    def test_timeout_ms_ends_an_idle_consumer(self):
        t = self.topic("pc-idle")
        t0 = time.monotonic()
        r = self.run_ok("consume", "--topic", t, "--timeout-ms", "1000")
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIn("Processed a total of 0 messages", r.stderr)

    def test_sigint_exits_cleanly_with_a_count(self):
        t = self.topic("pc-sigint")
        self.produce(t, ["a", "b"])
        p = subprocess.Popen([SLUICE, "consume", "--topic", t, "--from-beginning", "--bootstrap-server",
                              self.broker.bootstrap], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 15
            line = ""
            # Wait for the first message to show the consumer is running.
            os.set_blocking(p.stdout.fileno(), True)
            line = p.stdout.readline()
            self.assertEqual(line, "a\n")
            self.assertLess(time.monotonic(), deadline)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=15)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("Processed a total of 2 messages", err)

    def test_unknown_topic(self):
        r = self.run_fail(1, "produce", "--topic", "pc-missing", input="x\n")
        self.assertEqual(r.stderr.strip(), "error: topic 'pc-missing' does not exist")
        r = self.run_fail(1, "consume", "--topic", "pc-missing", "--timeout-ms", "2000")
        self.assertEqual(r.stderr.strip(), "error: topic 'pc-missing' does not exist")

    def test_bad_lines_are_reported_and_the_rest_sent(self):
        t = self.topic("pc-badline")
        r = self.run_fail(1, "produce", "--topic", t, "--property", "parse.key=true", "key.separator=:",
                          input="k1:v1\nnokey\nk3:v3\n")
        self.assertIn("line 2: no key separator found", r.stderr)
        self.assertEqual(self.consume(t, 2).stdout, "v1\nv3\n")


# ---- groups ----

GROUP_HEADER = ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
                "CLIENT-ID"]


class TestGroups(CliTest):
    def committed_group(self, group, topic, n_consumed, n_total=10, partitions=1):
        self.topic(topic, partitions)
        self.produce(topic, [str(i) for i in range(n_total)], "--partition", "0")
        self.run_ok("consume", "--topic", topic, "--group", group, "--from-beginning", "--max-messages",
                    str(n_consumed), "--timeout-ms", "20000")

    def describe_rows(self, group):
        out = self.run_ok("groups", "--describe", "--group", group).stdout
        lines = [l for l in out.split("\n") if l.strip()]
        hdr = [l for l in lines if l.startswith("GROUP ")]
        self.assertEqual(len(hdr), 1, out)
        self.assertEqual(hdr[0].split(), GROUP_HEADER)
        # Kafka's layout: fixed columns (PARTITION 10 wide, offsets and lag 15 wide).
        self.assertEqual(hdr[0].index("CURRENT-OFFSET") - hdr[0].index("PARTITION"), 11)
        self.assertEqual(hdr[0].index("LAG") - hdr[0].index("LOG-END-OFFSET"), 16)
        rows = [l.split() for l in lines[lines.index(hdr[0]) + 1:]]
        return out, rows

    def test_describe_in_kafka_consumer_groups_layout(self):
        self.committed_group("g-desc", "gt-desc", 4)
        out, rows = self.describe_rows("g-desc")
        self.assertIn("Consumer group 'g-desc' has no active members.", out)
        self.assertEqual(rows, [["g-desc", "gt-desc", "0", "4", "10", "6", "-", "-", "-"]])
        j = json.loads(self.run_ok("groups", "--describe", "--group", "g-desc", "--output", "json").stdout)
        self.assertEqual((j[0]["current_offset"], j[0]["log_end_offset"], j[0]["lag"]), (4, 10, 6))

    def test_list_state_members(self):
        self.committed_group("g-list", "gt-list", 1)
        self.assertIn("g-list", self.run_ok("groups", "--list").stdout.split())
        out = self.run_ok("groups", "--list", "--state").stdout
        self.assertRegex(out, r"(?m)^GROUP\s+STATE$")
        self.assertRegex(out, r"(?m)^g-list\s+Empty$")
        out = self.run_ok("groups", "--describe", "--group", "g-list", "--state").stdout
        self.assertRegex(out, r"GROUP\s+COORDINATOR \(ID\)\s+ASSIGNMENT-STRATEGY\s+STATE\s+#MEMBERS")
        self.assertRegex(out, r"(?m)^g-list\s+127\.0\.0\.1:\d+ \(1\)\s+Empty\s+0$")
        out = self.run_ok("groups", "--describe", "--group", "g-list", "--members").stdout
        self.assertIn("Consumer group 'g-list' has no active members.", out)

    def test_active_member_shows_in_describe(self):
        self.topic("gt-live")
        self.produce("gt-live", ["x"])
        p = subprocess.Popen([SLUICE, "consume", "--topic", "gt-live", "--group", "g-live", "--from-beginning",
                              "--bootstrap-server", self.broker.bootstrap],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(p.stdout.readline(), "x\n")
            out = self.run_ok("groups", "--describe", "--group", "g-live", "--members", "--verbose").stdout
            self.assertRegex(out, r"GROUP\s+CONSUMER-ID\s+HOST\s+CLIENT-ID\s+#PARTITIONS\s+ASSIGNMENT")
            self.assertRegex(out, r"(?m)^g-live\s+\S+\s+\S+\s+sluice\s+1\s+gt-live\(0\)$")
            out = self.run_ok("groups", "--describe", "--group", "g-live").stdout
            self.assertRegex(out, r"(?m)^g-live\s+gt-live\s+0\s+\S+\s+1\s+\S+\s+\S+\s+\S+\s+sluice$")
            r = self.run_fail(1, "groups", "--reset-offsets", "--group", "g-live", "--topic", "gt-live",
                              "--to-earliest", "--execute")
            self.assertIn("inactive", r.stderr)
        finally:
            p.send_signal(signal.SIGINT)
            try:
                p.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def test_reset_offsets(self):
        self.committed_group("g-reset", "gt-reset", 5)
        # dry run (the default) changes nothing
        r = self.run_ok("groups", "--reset-offsets", "--group", "g-reset", "--topic", "gt-reset", "--to-earliest")
        self.assertIn("WARN: No action will be performed", r.stderr)
        self.assertRegex(r.stdout, r"GROUP\s+TOPIC\s+PARTITION\s+NEW-OFFSET\n(?:.*\n)?g-reset\s+gt-reset\s+0\s+0\n")
        self.assertEqual(self.describe_rows("g-reset")[1][0][3], "5")
        cases = [(["--to-earliest"], "0"), (["--to-latest"], "10"), (["--to-offset", "3"], "3"),
                 (["--shift-by", "2"], "5"), (["--shift-by", "-100"], "0"), (["--to-offset", "99"], "10"),
                 (["--to-datetime", "2000-01-01T00:00:00.000Z"], "0"),
                 (["--to-datetime", "2099-01-01T00:00:00Z"], "10")]
        for strategy, want in cases:
            with self.subTest(strategy=strategy):
                self.run_ok("groups", "--reset-offsets", "--group", "g-reset", "--topic", "gt-reset:0",
                            *strategy, "--execute")
                self.assertEqual(self.describe_rows("g-reset")[1][0][3], want)
        self.run_ok("groups", "--reset-offsets", "--group", "g-reset", "--all-topics", "--to-offset", "7",
                    "--execute")
        self.assertEqual(self.describe_rows("g-reset")[1][0][3], "7")
        self.run_fail(2, "groups", "--reset-offsets", "--group", "g-reset", "--topic", "gt-reset")
        self.run_fail(2, "groups", "--reset-offsets", "--group", "g-reset", "--to-earliest")
        self.run_fail(2, "groups", "--reset-offsets", "--group", "g-reset", "--topic", "gt-reset", "--to-datetime",
                      "last tuesday")
        self.run_fail(1, "groups", "--reset-offsets", "--group", "g-reset", "--topic", "gt-nope", "--to-earliest")

    def test_delete_and_unknown_group(self):
        self.committed_group("g-del", "gt-del", 1)
        r = self.run_ok("groups", "--delete", "--group", "g-del")
        self.assertIn("Deletion of requested consumer groups ('g-del') was successful.", r.stdout)
        self.assertNotIn("g-del", self.run_ok("groups", "--list").stdout.split())
        r = self.run_fail(1, "groups", "--describe", "--group", "g-never")
        self.assertIn("consumer group 'g-never' does not exist", r.stderr)


# ---- configs, cluster, offsets ----

class TestConfigs(CliTest):
    def test_describe_alter_delete_topic_configs(self):
        self.topic("cf-t", 1, "--config", "retention.ms=100000")
        out = self.run_ok("configs", "--describe", "--entity-type", "topics", "--entity-name", "cf-t").stdout
        self.assertEqual(out.split("\n")[0], "Dynamic configs for topic cf-t are:")
        self.assertIn("  retention.ms=100000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=100000",
                      out)
        r = self.run_ok("configs", "--alter", "--topic", "cf-t", "--add-config",
                        "cleanup.policy=[compact,delete],segment.ms=600000")
        self.assertIn("Completed updating config for topic cf-t.", r.stdout)
        out = self.run_ok("configs", "--describe", "--topic", "cf-t").stdout
        self.assertIn("cleanup.policy=compact,delete", out)
        self.assertIn("segment.ms=600000", out)
        self.assertIn("retention.ms=100000", out)  # kept: --alter only adds
        self.run_ok("configs", "--alter", "--topic", "cf-t", "--delete-config", "retention.ms")
        j = json.loads(self.run_ok("configs", "--describe", "--topic", "cf-t", "--output", "json").stdout)
        self.assertEqual(sorted(c["name"] for c in j["configs"]), ["cleanup.policy", "segment.ms"])
        allc = self.run_ok("configs", "--describe", "--topic", "cf-t", "--all").stdout
        self.assertTrue(allc.startswith("All configs for topic cf-t are:"))
        self.assertIn("retention.ms=", allc)

    def test_failures(self):
        self.topic("cf-f")
        r = self.run_fail(1, "configs", "--alter", "--topic", "cf-f", "--add-config", "retention.ms=abc")
        self.assertIn("retention.ms", r.stderr)
        self.run_fail(1, "configs", "--alter", "--topic", "cf-f", "--delete-config", "retention.ms")
        r = self.run_fail(1, "configs", "--describe", "--topic", "cf-none")
        self.assertIn("topic 'cf-none' does not exist", r.stderr)
        self.run_fail(2, "configs", "--describe", "--entity-type", "users", "--entity-name", "x")
        self.run_fail(2, "configs", "--alter", "--topic", "cf-f")

    def test_broker_configs(self):
        out = self.run_ok("configs", "--describe", "--entity-type", "brokers", "--entity-name", "1").stdout
        self.assertEqual(out.split("\n")[0], "Dynamic configs for broker 1 are:")
        out = self.run_ok("configs", "--describe", "--broker", "1", "--all").stdout
        self.assertIn("log.retention.hours=", out)


class TestClusterOffsets(CliTest):
    def test_cluster(self):
        out = self.run_ok("cluster").stdout
        self.assertRegex(out, r"(?m)^Cluster ID: \S{22}$")
        self.assertRegex(out, r"(?m)^Controller: 1$")
        self.assertRegex(out, r"(?m)^1\s+127\.0\.0\.1:%d\s+-" % self.broker.port)
        j = json.loads(self.run_ok("cluster", "--output", "json").stdout)
        self.assertEqual(j["controller"], 1)
        self.assertEqual([(b["id"], b["port"]) for b in j["brokers"]], [(1, self.broker.port)])

    def test_offsets(self):
        t = self.topic("of-t", 2)
        before = int(time.time() * 1000) - 1000
        self.produce(t, ["a", "b", "c"], "--partition", "0")
        self.assertEqual(self.run_ok("offsets", "--topic", t).stdout, "of-t:0:3\nof-t:1:0\n")
        self.assertEqual(self.run_ok("offsets", "--topic", t, "--time", "earliest").stdout, "of-t:0:0\nof-t:1:0\n")
        self.assertEqual(self.run_ok("offsets", "--topic", t, "--partitions", "0", "--time", str(before)).stdout,
                         "of-t:0:0\n")
        self.assertEqual(self.run_ok("offsets", "--topic", t, "--partitions", "0", "--time",
                                     "2099-01-01T00:00:00Z").stdout, "of-t:0:\n")
        j = json.loads(self.run_ok("offsets", "--topic", t, "--output", "json").stdout)
        self.assertEqual([o["offset"] for o in j], [3, 0])
        self.run_fail(1, "offsets", "--topic", "of-none")


class TestPerf(CliTest):
    def test_perf_produce_and_consume(self):
        t = self.topic("perf-t", 2)
        r = self.run_ok("perf", "produce", "--topic", t, "--num-records", "2000", "--record-size", "64",
                        "--throughput", "-1", "--producer-props", "acks=1", "linger.ms=1")
        self.assertRegex(r.stdout, r"^2000 records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency, "
                                   r"[\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99.9th.\n$")
        j = json.loads(self.run_ok("perf", "produce", "--topic", t, "--num-records", "50", "--record-size", "10",
                                   "--throughput", "100", "--output", "json").stdout)
        self.assertEqual((j["records"], j["errors"]), (50, 0))
        self.assertGreater(j["seconds"], 0.4)  # throttled to 100/s
        r = self.run_ok("perf", "consume", "--topic", t, "--messages", "2050", "--timeout-ms", "15000")
        self.assertRegex(r.stdout, r"^2050 records consumed, .* ms 99.9th.\n$")
        r = self.run_fail(1, "perf", "consume", "--topic", t, "--messages", "99999", "--timeout-ms", "1000")


if __name__ == "__main__":
    harness.main()
