"""
test_data.py - end-to-end tests of the data path (topics, Produce, Fetch,
ListOffsets) with real, unmodified Kafka clients (kcat, confluent-kafka,
kafka-python, kafkajs) against real sluiced processes, plus hand-built bad
batches over raw sockets (RELIABILITY.md, "Bad input", Produce rows).

Consumers use explicit assignment (no consumer groups) unless a test says
otherwise. Every wait is bounded and condition-based.

Run: /usr/bin/python3 tests/integration/test_data.py [TestClass[.test_name]]
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataproto as d  # noqa: E402
import harness  # noqa: E402
from harness import Broker  # noqa: E402

CLIENT_TIMEOUT_S = 60
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


# ---- shared fixtures and client helpers ----

class SharedBroker(unittest.TestCase):
    """One broker for a class's tests, started by the first test's setUp (a start
    failure fails each test rather than an uncounted class fixture)."""

    overrides = {}
    broker = None
    start_error = None

    def setUp(self):
        cls = type(self)
        if cls.start_error is not None:
            raise cls.start_error
        if cls.broker is None:
            cls.broker = Broker(cls.overrides, name=cls.__name__)
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


def need_kcat(test):
    if not shutil.which("kcat"):
        test.skipTest("kcat not installed: run scripts/setup.sh")


def kcat(args, stdin=b"", timeout=CLIENT_TIMEOUT_S):
    p = subprocess.run(["kcat"] + args, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def create_topic(test, broker, name, partitions=1, configs=None):
    res = d.create_topics(broker.port, [(name, partitions, 1, configs or {})])
    test.assertEqual(res[name][0], 0, "CreateTopics %s: %r" % (name, res[name]))
    # wait until the topic's partitions are in metadata (condition, bounded)
    d.wait_for(lambda: d.metadata(broker.port, [name]).get(name) == (0, list(range(partitions))), 10,
               "topic %s in metadata" % name)


def producer_conf(broker, **extra):
    conf = {"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5, "socket.timeout.ms": 10000,
            "message.timeout.ms": 30000, "client.id": "sluice-it", "log_level": 3}
    conf.update(extra)
    return conf


def consumer_conf(broker, **extra):
    # group.id is required by confluent-kafka; with assign() and auto commit off no
    # group protocol is needed to consume.
    conf = {"bootstrap.servers": broker.bootstrap, "group.id": "sluice-it-assign", "enable.auto.commit": False,
            "enable.auto.offset.store": False, "auto.offset.reset": "earliest", "socket.timeout.ms": 10000,
            "client.id": "sluice-it", "log_level": 3}
    conf.update(extra)
    return conf


def confluent_produce(broker, topic, items, timeout=90, **conf):
    """items: [(partition, key, value[, headers[, timestamp_ms]])]; returns the
    delivery reports [(partition, offset)] in item order; fails on any error."""
    from confluent_kafka import Producer
    p = Producer(producer_conf(broker, **conf))
    reports = [None] * len(items)
    errors = []

    def make_cb(i):
        def cb(err, msg):
            if err is not None:
                errors.append((i, err))
            reports[i] = (msg.partition(), msg.offset())
        return cb

    for i, it in enumerate(items):
        kw = {"partition": it[0], "key": it[1], "value": it[2], "on_delivery": make_cb(i)}
        if len(it) > 3 and it[3]:
            kw["headers"] = it[3]
        if len(it) > 4:
            kw["timestamp"] = it[4]
        while True:
            try:
                p.produce(topic, **kw)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(timeout)
    if left:
        raise AssertionError("%d messages not delivered within %d s" % (left, timeout))
    if errors:
        raise AssertionError("%d delivery errors, first: %r" % (len(errors), errors[:3]))
    return reports


def confluent_read(broker, topic, ends, starts=None, timeout=90, **conf):
    """Reads each partition p of ends {p: end offset} from starts[p] (default the
    beginning) up to end; returns {p: [(offset, key, value, headers, timestamp)]}."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer(consumer_conf(broker, **conf))
    got = {p: [] for p in ends}
    try:
        c.assign([TopicPartition(topic, p, (starts or {}).get(p, OFFSET_BEGINNING)) for p in ends])
        deadline = time.monotonic() + timeout
        # a start beyond the end is read from wherever auto.offset.reset puts it
        pending = {p for p in ends if ends[p] > 0 and (starts or {}).get(p) != ends[p]}
        while pending and time.monotonic() < deadline:
            for m in c.consume(10000, 0.5):
                if m.error():
                    raise AssertionError("consume error: %s" % m.error())
                got[m.partition()].append((m.offset(), m.key(), m.value(), m.headers(), m.timestamp()[1]))
                if m.offset() >= ends[m.partition()] - 1:
                    pending.discard(m.partition())
        if pending:
            raise AssertionError("partitions %s not read to their ends %r within %d s (got %r)"
                                 % (sorted(pending), ends, timeout, {p: len(v) for p, v in got.items()}))
    finally:
        c.close()
    return got


def api_keys(broker):
    err, keys = harness.api_versions(broker.port, version=3)
    return keys


def kafka_python_admin(bootstrap):
    from kafka import KafkaAdminClient
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000,
                            api_version_auto_timeout_ms=10000, client_id="sluice-it")


# ---- kcat ----

class TestKcat(SharedBroker):
    overrides = {"message.max.bytes": 2097152}

    def setUp(self):
        need_kcat(self)
        super().setUp()

    def consume_json(self, topic, offset="beginning", partition=0, extra=()):
        rc, out, err = kcat(["-C", "-b", self.broker.bootstrap, "-t", topic, "-p", str(partition), "-o", str(offset),
                             "-e", "-J", "-m", "10", "-q"] + list(extra))
        self.assertEqual(rc, 0, err)
        return [json.loads(line) for line in out.decode().splitlines() if line.strip()]

    def test_kcat_keys_headers_and_null_values_round_trip(self):
        t = "kcat-khn"
        create_topic(self, self.broker, t)
        rc, _, err = kcat(["-P", "-b", self.broker.bootstrap, "-t", t, "-p", "0", "-K:", "-Z", "-H", "h1=v1",
                           "-H", "h2=v2", "-m", "10"], stdin=b"k1:v1\nk2:\nk3:v3\n")
        self.assertEqual(rc, 0, err)
        # without -Z an empty value is an empty string, not null
        rc, _, err = kcat(["-P", "-b", self.broker.bootstrap, "-t", t, "-p", "0", "-K:", "-m", "10"],
                          stdin=b"k4:\n")
        self.assertEqual(rc, 0, err)
        msgs = self.consume_json(t)
        self.assertEqual([(m["offset"], m["key"], m["payload"]) for m in msgs],
                         [(0, "k1", "v1"), (1, "k2", None), (2, "k3", "v3"), (3, "k4", "")])
        for m in msgs[:3]:
            self.assertEqual(m.get("headers"), ["h1", "v1", "h2", "v2"], m)
        self.assertFalse(msgs[3].get("headers"), msgs[3])

    def test_kcat_one_mib_message_round_trips_byte_for_byte(self):
        t = "kcat-big"
        create_topic(self, self.broker, t)
        value = os.urandom(1 << 20)
        with tempfile.NamedTemporaryFile(prefix="sluice-it-") as f:
            f.write(value)
            f.flush()
            rc, _, err = kcat(["-P", "-b", self.broker.bootstrap, "-t", t, "-p", "0", "-m", "10",
                               "-X", "message.max.bytes=2097152", f.name])
        self.assertEqual(rc, 0, err)
        rc, out, err = kcat(["-C", "-b", self.broker.bootstrap, "-t", t, "-p", "0", "-o", "beginning", "-c", "1",
                             "-e", "-q", "-f", "%s", "-m", "10"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out), len(value))
        self.assertTrue(out == value, "1 MiB value differs after the round trip")
        self.assertEqual(d.list_offsets(self.broker.port, t, 0), (0, -1, 1))

    def test_kcat_consume_from_beginning_end_absolute_and_relative_offsets(self):
        t = "kcat-offsets"
        create_topic(self, self.broker, t)
        rc, _, err = kcat(["-P", "-b", self.broker.bootstrap, "-t", t, "-p", "0", "-m", "10"],
                          stdin="".join("m%d\n" % i for i in range(10)).encode())
        self.assertEqual(rc, 0, err)
        payloads = lambda msgs: [(m["offset"], m["payload"]) for m in msgs]  # noqa: E731
        self.assertEqual(payloads(self.consume_json(t, "beginning")), [(i, "m%d" % i) for i in range(10)])
        self.assertEqual(payloads(self.consume_json(t, 7)), [(i, "m%d" % i) for i in (7, 8, 9)])
        self.assertEqual(payloads(self.consume_json(t, -3)), [(i, "m%d" % i) for i in (7, 8, 9)])
        self.assertEqual(payloads(self.consume_json(t, "end")), [])
        # -o end while a message arrives: kcat (no -e) must get exactly it
        p = subprocess.Popen(["kcat", "-C", "-b", self.broker.bootstrap, "-t", t, "-p", "0", "-o", "end", "-c", "1",
                              "-J", "-q", "-m", "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # produce until kcat (which started at the end) sees one: its start
            # offset is fixed only once it has fetched, so keep producing
            deadline = time.monotonic() + 30
            n = 0
            while p.poll() is None and time.monotonic() < deadline:
                rc, _, err = kcat(["-P", "-b", self.broker.bootstrap, "-t", t, "-p", "0", "-m", "10"],
                                  stdin=b"late%d\n" % n)
                self.assertEqual(rc, 0, err)
                n += 1
                try:
                    p.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
            out, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err)
        m = json.loads(out.decode().strip().splitlines()[-1])
        self.assertGreaterEqual(m["offset"], 10)
        self.assertEqual(m["payload"], "late%d" % (m["offset"] - 10))

    def test_kcat_query_offsets_for_times(self):
        t = "kcat-times"
        create_topic(self, self.broker, t)
        base = int(time.time() * 1000) - 60000
        confluent_produce(self.broker, t, [(0, None, b"t%d" % i, None, base + 1000 * i) for i in range(5)])

        def query(ts):
            rc, out, err = kcat(["-Q", "-b", self.broker.bootstrap, "-t", "%s:0:%d" % (t, ts), "-m", "10"])
            self.assertEqual(rc, 0, err)
            line = out.decode().strip()
            self.assertIn("[0]", line)
            return int(line.split("offset")[-1].strip().split()[0])

        self.assertEqual(query(base - 5000), 0)
        self.assertEqual(query(base), 0)
        self.assertEqual(query(base + 2500), 3)
        self.assertEqual(query(base + 4000), 4)
        self.assertEqual(query(base + 999999), -1)


# ---- confluent-kafka ----

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


class TestConfluentKafka(SharedBroker):
    def test_every_codec_100k_messages_read_exactly_once_in_order(self):
        from confluent_kafka.admin import AdminClient, NewTopic
        t = "ck-codecs"
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, "socket.timeout.ms": 10000})
        admin.create_topics([NewTopic(t, 3, 1)], operation_timeout=10)[t].result(timeout=30)
        md = admin.list_topics(t, timeout=10)
        self.assertEqual(sorted(md.topics[t].partitions), [0, 1, 2])
        per_codec = 20000  # 5 codecs x 20000 = 100k messages
        expected = {0: [], 1: [], 2: []}
        first_offset = {}
        for codec in CODECS:
            items = [(s % 3, b"%s-%d" % (codec.encode(), s), b"%s:%06d:payload" % (codec.encode(), s))
                     for s in range(per_codec)]
            reports = confluent_produce(self.broker, t, items, **{"compression.type": codec,
                                                                   "linger.ms": 20})
            for it, rep in zip(items, reports):
                self.assertEqual(rep[0], it[0])
                expected[it[0]].append((rep[1], it[1], it[2]))
            first_offset[codec] = reports[0][1]  # partition 0
        ends = {}
        for p in expected:
            offs = [e[0] for e in expected[p]]
            self.assertEqual(offs, list(range(len(offs))), "delivery offsets of partition %d are not 0..n-1" % p)
            ends[p] = len(offs)
            self.assertEqual(d.list_offsets(self.broker.port, t, p)[2], ends[p])
        got = confluent_read(self.broker, t, ends, timeout=120)
        for p in expected:
            self.assertEqual(len(got[p]), len(expected[p]), "partition %d" % p)
            self.assertTrue([g[:3] for g in got[p]] == expected[p],
                            "partition %d: messages differ from what was produced (first difference at index %r)"
                            % (p, next((i for i, (a, b) in enumerate(zip(got[p], expected[p])) if a[:3] != b),
                                       None)))
        # The batches are stored as received, so each codec's batches still
        # carry that codec. (librdkafka <= 2.11 only compresses gzip/snappy/lz4
        # when the broker advertises Produce v0, as Kafka 4.0 does for this reason:
        # KAFKA-18659; otherwise it silently sends them uncompressed.) A batch
        # built before the client learnt the broker's versions may still go out
        # uncompressed, so each codec's range must hold at least one batch of it.
        wrong = []
        order = sorted(first_offset.items(), key=lambda kv: kv[1])
        for i, (codec, off) in enumerate(order):
            stop = order[i + 1][1] if i + 1 < len(order) else ends[0]
            seen = set()
            while off < stop:
                err, _, recs = d.fetch(self.broker.port, t, 0, off)
                self.assertEqual(err, 0)
                batches = [b for b in d.iter_batches(recs) if b[0] + b[2] > off]
                self.assertTrue(batches, "no batch holding offset %d" % off)
                for b in batches:
                    if b[0] < stop:
                        seen.add(b[3][22] & 7)
                off = batches[-1][0] + batches[-1][2]
            if CODEC_IDS[codec] not in seen:
                wrong.append("%s stored as codecs %s" % (codec, sorted(seen)))
        keys = api_keys(self.broker)
        self.assertEqual(wrong, [], "producer compression not applied (ApiVersions Produce %r)" % (keys.get(0),))

    def test_offsets_for_times(self):
        from confluent_kafka import Consumer, TopicPartition
        t = "ck-times"
        create_topic(self, self.broker, t)
        base = int(time.time() * 1000) - 60000
        confluent_produce(self.broker, t, [(0, None, b"v%d" % i, None, base + 1000 * i) for i in range(5)])
        c = Consumer(consumer_conf(self.broker))
        try:
            for ts, want in [(base - 1, 0), (base, 0), (base + 2500, 3), (base + 4000, 4), (base + 10 ** 6, -1)]:
                with self.subTest(ts=ts - base):
                    r = c.offsets_for_times([TopicPartition(t, 0, ts)], timeout=10)
                    self.assertIsNone(r[0].error)
                    self.assertEqual(r[0].offset, want)
            lo, hi = c.get_watermark_offsets(TopicPartition(t, 0), timeout=10)
            self.assertEqual((lo, hi), (0, 5))
        finally:
            c.close()

    def test_admin_create_then_delete_topic_disappears_from_metadata(self):
        from confluent_kafka import KafkaError, KafkaException
        from confluent_kafka.admin import AdminClient, NewTopic
        t = "ck-admin"
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, "socket.timeout.ms": 10000})
        admin.create_topics([NewTopic(t, 3, 1)], operation_timeout=10)[t].result(timeout=30)
        d.wait_for(lambda: t in admin.list_topics(timeout=10).topics, 10, "topic in metadata")
        self.assertEqual(len(admin.list_topics(timeout=10).topics[t].partitions), 3)
        with self.assertRaises(KafkaException) as cm:
            admin.create_topics([NewTopic(t, 3, 1)], operation_timeout=10)[t].result(timeout=30)
        self.assertEqual(cm.exception.args[0].code(), KafkaError.TOPIC_ALREADY_EXISTS)
        confluent_produce(self.broker, t, [(p, None, b"x") for p in range(3)])
        admin.delete_topics([t], operation_timeout=10)[t].result(timeout=30)
        d.wait_for(lambda: t not in admin.list_topics(timeout=10).topics, 10, "deleted topic gone from metadata")
        self.assertEqual(d.metadata(self.broker.port, [t])[t][0], d.UNKNOWN_TOPIC_OR_PARTITION)
        self.assertEqual(d.list_offsets(self.broker.port, t, 0)[0], d.UNKNOWN_TOPIC_OR_PARTITION)
        # the name can be used again, and the new topic starts empty
        admin.create_topics([NewTopic(t, 2, 1)], operation_timeout=10)[t].result(timeout=30)
        d.wait_for(lambda: d.metadata(self.broker.port, [t]).get(t) == (0, [0, 1]), 10, "re-created topic")
        self.assertEqual(d.list_offsets(self.broker.port, t, 0), (0, -1, 0))


# ---- kafka-python ----

class TestKafkaPython(SharedBroker):
    def test_admin_create_topics_and_delete_topics(self):
        from kafka.admin import NewTopic
        from kafka.errors import TopicAlreadyExistsError
        admin = kafka_python_admin(self.broker.bootstrap)
        try:
            admin.create_topics([NewTopic("kp-admin-a", 2, 1), NewTopic("kp-admin-b", 1, 1)], timeout_ms=10000)
            d.wait_for(lambda: {"kp-admin-a", "kp-admin-b"} <= set(admin.list_topics()), 10, "topics listed")
            self.assertEqual(d.metadata(self.broker.port, ["kp-admin-a"])["kp-admin-a"], (0, [0, 1]))
            with self.assertRaises(TopicAlreadyExistsError):
                admin.create_topics([NewTopic("kp-admin-a", 2, 1)], timeout_ms=10000)
            admin.delete_topics(["kp-admin-a"], timeout_ms=10000)
            d.wait_for(lambda: "kp-admin-a" not in admin.list_topics(), 10, "deleted topic gone")
            self.assertIn("kp-admin-b", admin.list_topics())
        finally:
            admin.close()

    def test_producer_and_assigned_consumer_round_trip(self):
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition
        t = "kp-rt"
        create_topic(self, self.broker, t, 2)
        sent = {}
        for codec in (None, "gzip"):
            prod = KafkaProducer(bootstrap_servers=self.broker.bootstrap, acks="all", compression_type=codec,
                                 request_timeout_ms=10000, api_version_auto_timeout_ms=10000, linger_ms=5)
            try:
                futs = []
                for i in range(200):
                    key = b"%s-%d" % ((codec or "none").encode(), i)
                    futs.append((key, prod.send(t, key=key, value=b"value-" + key, partition=i % 2,
                                                headers=[("n", b"%d" % i)])))
                prod.flush(timeout=30)
                for key, f in futs:
                    md = f.get(timeout=30)
                    sent[(md.partition, md.offset)] = key
            finally:
                prod.close(timeout=10)
        self.assertEqual(len(sent), 400)
        cons = KafkaConsumer(bootstrap_servers=self.broker.bootstrap, group_id=None, enable_auto_commit=False,
                             request_timeout_ms=15000, api_version_auto_timeout_ms=10000,
                             fetch_max_wait_ms=200)
        got = {}
        try:
            tps = [TopicPartition(t, 0), TopicPartition(t, 1)]
            cons.assign(tps)
            cons.seek_to_beginning(*tps)
            deadline = time.monotonic() + 60
            while len(got) < 400 and time.monotonic() < deadline:
                for tp, recs in cons.poll(timeout_ms=500).items():
                    for r in recs:
                        self.assertNotIn((r.partition, r.offset), got, "offset read twice")
                        got[(r.partition, r.offset)] = (r.key, r.value, r.headers)
        finally:
            cons.close()
        self.assertEqual(set(got), set(sent))
        for po, key in sent.items():
            k, v, h = got[po]
            self.assertEqual((k, v), (key, b"value-" + key))
            self.assertEqual(h, [("n", key.split(b"-")[1])])


# ---- kafkajs ----

def need_kafkajs(test):
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "kafkajs")):
        test.skipTest("kafkajs not installed: run scripts/setup.sh")


def node(script, *args, timeout=CLIENT_TIMEOUT_S):
    p = subprocess.run(["node", os.path.join(JS_DIR, script)] + [str(a) for a in args], capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


class TestKafkajs(SharedBroker):
    def setUp(self):
        need_kafkajs(self)
        super().setUp()

    def test_kafkajs_producer_acks_all_then_read_by_librdkafka(self):
        t = "js-produce"
        create_topic(self, self.broker, t, 2)
        rc, out, err = node("data_produce.js", self.broker.bootstrap, t, 50)
        self.assertEqual(rc, 0, err)
        res = json.loads(out.strip().splitlines()[-1])
        # kafkajs reports the base offset per partition of each send() call
        self.assertEqual(sorted(r["partition"] for r in res), [0, 1])
        for r in res:
            self.assertEqual(r["errorCode"], 0)
            self.assertEqual(r["baseOffset"], "0")
        got = confluent_read(self.broker, t, {0: 25, 1: 25})
        for p in (0, 1):
            self.assertEqual([(o, k, v) for o, k, v, _, _ in got[p]],
                             [(i, b"k%d" % (2 * i + p), b"js-%d" % (2 * i + p)) for i in range(25)])

    def test_kafkajs_consumer_group_reads_everything(self):
        keys = api_keys(self.broker)
        missing = [name for name, k in (("FindCoordinator", 10), ("JoinGroup", 11), ("SyncGroup", 14),
                                        ("Heartbeat", 12), ("OffsetCommit", 8), ("OffsetFetch", 9))
                   if k not in keys]
        if missing:
            self.skipTest("consumer groups not advertised yet (ApiVersions lacks %s); kafkajs consumers need them"
                          % ", ".join(missing))
        t = "js-consume"
        create_topic(self, self.broker, t, 2)
        confluent_produce(self.broker, t, [(i % 2, b"k%d" % i, b"v%d" % i) for i in range(40)])
        rc, out, err = node("data_consume.js", self.broker.bootstrap, t, "sluice-it-js", 40, timeout=90)
        self.assertEqual(rc, 0, err)
        msgs = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(sorted((m["key"], m["value"]) for m in msgs),
                         sorted(("k%d" % i, "v%d" % i) for i in range(40)))
        for p in (0, 1):
            offs = [int(m["offset"]) for m in msgs if m["partition"] == p]
            self.assertEqual(offs, list(range(20)))


# ---- restarts ----

class TestRestart(unittest.TestCase):
    def produce_and_check_restart(self, how):
        with Broker(name="restart-" + how) as b:
            t = "rs"
            create_topic(self, b, t, 3)
            items = [(i % 3, b"k%d" % i, b"v%05d" % i) for i in range(3000)]
            reports = confluent_produce(b, t, items[:1500], **{"compression.type": "lz4"})
            reports += confluent_produce(b, t, items[1500:])
            ends = {p: d.list_offsets(b.port, t, p)[2] for p in range(3)}
            self.assertEqual(sum(ends.values()), 3000)
            if how == "sigterm":
                self.assertEqual(b.stop(signal.SIGTERM, timeout=15), 0)
            else:
                b.kill9()
            b.start()
            for p in range(3):
                self.assertEqual(d.list_offsets(b.port, t, p), (0, -1, ends[p]), "partition %d end" % p)
                self.assertEqual(d.list_offsets(b.port, t, p, d.EARLIEST)[2], 0)
            got = confluent_read(b, t, ends)
            by_po = {(p, o): (k, v) for p in got for o, k, v, _, _ in got[p]}
            self.assertEqual(len(by_po), 3000)
            for it, (p, off) in zip(items, reports):
                self.assertEqual(by_po.get((p, off)), (it[1], it[2]), "partition %d offset %d" % (p, off))
            # appends continue at the old end
            rep = confluent_produce(b, t, [(p, None, b"after") for p in range(3)])
            self.assertEqual([o for _, o in rep], [ends[p] for p in range(3)])
            return b.stderr_text()

    def test_data_survives_sigterm_restart_at_the_same_offsets_without_recovery(self):
        stderr = self.produce_and_check_restart("sigterm")
        # after a clean shutdown the log is trusted, not re-scanned or repaired
        for marker in ("rebuilding", "torn or corrupt"):
            self.assertNotIn(marker, stderr)

    def test_acknowledged_data_survives_kill9_restart_at_the_same_offsets(self):
        self.produce_and_check_restart("kill9")


# ---- Produce semantics ----

class TestProduceSemantics(unittest.TestCase):
    def test_acks_0_1_and_all_are_all_readable(self):
        with Broker(name="acks") as b:
            t = "acks"
            create_topic(self, b, t)
            for acks in ("0", "1", "all"):
                confluent_produce(b, t, [(0, None, b"%s-%d" % (acks.encode(), i)) for i in range(100)], acks=acks)
            # acks=0 over a raw socket: no response; the record still lands
            end = d.list_offsets(b.port, t, 0)[2]
            with harness.connect(b.port) as s:
                body = d.produce_body(t, [(0, d.encode_batch([(None, b"raw-acks0")]))], acks=0)
                self.assertTrue(harness.send_all(s, harness.frame(harness.request_header(d.PRODUCE, 8, 77)
                                                                  + body)))
                d.wait_for(lambda: d.list_offsets(b.port, t, 0)[2] == end + 1, 10, "acks=0 record appended")
                # the next request on that connection is answered (no response was owed for acks=0)
                self.assertTrue(harness.send_all(s, harness.frame(harness.request_header(harness.API_VERSIONS, 0,
                                                                                         78))))
                resp = harness.recv_response(s)
                self.assertIsNotNone(resp)
                self.assertEqual(harness.Reader(resp).int32(), 78)
            got = confluent_read(b, t, {0: end + 1})[0]
            values = [v for _, _, v, _, _ in got]
            self.assertEqual(len(values), 301)
            for acks in ("0", "1", "all"):
                mine = [v for v in values if v.startswith(acks.encode() + b"-")]
                self.assertEqual(mine, [b"%s-%d" % (acks.encode(), i) for i in range(100)], "acks=%s" % acks)
            self.assertEqual(values[-1], b"raw-acks0")

    def test_produce_to_unknown_topic_without_auto_create_is_unknown_topic_or_partition(self):
        from confluent_kafka import KafkaError, Producer
        with Broker({"auto.create.topics.enable": "false"}, name="no-auto-create") as b:
            err, _, _ = d.produce(b.port, "nope", 0, d.encode_batch([(None, b"x")]))
            self.assertEqual(err, d.UNKNOWN_TOPIC_OR_PARTITION)
            # Metadata asking for auto-creation does not create it either
            self.assertEqual(d.metadata(b.port, ["nope"], allow_auto_create=True)["nope"][0],
                             d.UNKNOWN_TOPIC_OR_PARTITION)
            self.assertEqual(d.metadata(b.port, ["nope"])["nope"][0], d.UNKNOWN_TOPIC_OR_PARTITION)
            # a real producer's delivery fails (it never sees the topic)
            p = Producer(producer_conf(b, **{"message.timeout.ms": 3000}))
            errors = []
            p.produce("nope", b"x", on_delivery=lambda err, msg: errors.append(err))
            self.assertEqual(p.flush(15), 0)
            self.assertEqual(len(errors), 1)
            self.assertIsNotNone(errors[0])
            self.assertIn(errors[0].code(), (KafkaError._UNKNOWN_TOPIC, KafkaError.UNKNOWN_TOPIC_OR_PART,
                                             KafkaError._MSG_TIMED_OUT))
            # and an existing topic's partition that does not exist
            create_topic(self, b, "one", 1)
            self.assertEqual(d.produce(b.port, "one", 5, d.encode_batch([(None, b"x")]))[0],
                             d.UNKNOWN_TOPIC_OR_PARTITION)

    def test_metadata_auto_creates_topic_with_num_partitions(self):
        with Broker({"auto.create.topics.enable": "true", "num.partitions": 4}, name="auto-create") as b:
            d.wait_for(lambda: d.metadata(b.port, ["auto1"], allow_auto_create=True)["auto1"] == (0, [0, 1, 2, 3]),
                       10, "auto-created topic with 4 partitions")
            # not asking for creation creates nothing
            self.assertEqual(d.metadata(b.port, ["auto2"])["auto2"][0], d.UNKNOWN_TOPIC_OR_PARTITION)
            # Produce itself never creates topics (Kafka creates only on Metadata)
            self.assertEqual(d.produce(b.port, "auto3", 0, d.encode_batch([(None, b"x")]))[0],
                             d.UNKNOWN_TOPIC_OR_PARTITION)
            # a real producer writing to a new topic gets it created and delivered
            rep = confluent_produce(b, "auto4", [(3, None, b"x")])
            self.assertEqual(rep, [(3, 0)])
            self.assertEqual(d.metadata(b.port, ["auto4"])["auto4"], (0, [0, 1, 2, 3]))


# ---- CreateTopics errors ----

class TestCreateTopicsErrors(SharedBroker):
    def create(self, name, partitions=1, rf=1, configs=None, validate_only=False):
        return d.create_topics(self.broker.port, [(name, partitions, rf, configs or {})],
                               validate_only=validate_only)[name][0]

    def assert_absent(self, name):
        # Kafka answers Metadata for an illegal name with INVALID_TOPIC_EXCEPTION
        self.assertIn(d.metadata(self.broker.port, [name]).get(name, (d.UNKNOWN_TOPIC_OR_PARTITION,))[0],
                      (d.UNKNOWN_TOPIC_OR_PARTITION, d.INVALID_TOPIC_EXCEPTION), "topic %r exists" % name)

    def test_existing_topic_is_topic_already_exists(self):
        self.assertEqual(self.create("ct-exists"), 0)
        self.assertEqual(self.create("ct-exists"), d.TOPIC_ALREADY_EXISTS)
        self.assertEqual(self.create("ct-exists", partitions=5), d.TOPIC_ALREADY_EXISTS)
        self.assertEqual(d.metadata(self.broker.port, ["ct-exists"])["ct-exists"], (0, [0]))

    def test_replication_factor_3_on_one_node_is_invalid_replication_factor(self):
        self.assertEqual(self.create("ct-rf3", rf=3), d.INVALID_REPLICATION_FACTOR)
        self.assert_absent("ct-rf3")

    def test_invalid_names_are_invalid_topic_exception(self):
        for name in ("bad name!", "..", ".", "a" * 250, "", "x/y"):
            with self.subTest(name=name[:20]):
                self.assertEqual(self.create(name), d.INVALID_TOPIC_EXCEPTION)
        self.assertEqual(self.create("a" * 249), 0)  # 249 is the longest legal name
        self.assert_absent("bad name!")

    def test_zero_partitions_is_invalid_partitions(self):
        self.assertEqual(self.create("ct-p0", partitions=0), d.INVALID_PARTITIONS)
        self.assert_absent("ct-p0")

    def test_unknown_or_invalid_config_is_invalid_config(self):
        self.assertEqual(self.create("ct-cfg", configs={"no.such.config": "1"}), d.INVALID_CONFIG)
        self.assertEqual(self.create("ct-cfg2", configs={"retention.ms": "abc"}), d.INVALID_CONFIG)
        self.assert_absent("ct-cfg")
        self.assert_absent("ct-cfg2")
        self.assertEqual(self.create("ct-cfg3", configs={"retention.ms": "60000"}), 0)

    def test_validate_only_creates_nothing(self):
        self.assertEqual(self.create("ct-validate", partitions=2, validate_only=True), 0)
        self.assert_absent("ct-validate")
        self.assertEqual(self.create("ct-validate-rf", rf=3, validate_only=True), d.INVALID_REPLICATION_FACTOR)
        self.assertEqual(self.create("ct-validate", partitions=2), 0)  # not TOPIC_ALREADY_EXISTS
        self.assertEqual(d.metadata(self.broker.port, ["ct-validate"])["ct-validate"], (0, [0, 1]))

    def test_mixed_request_creates_only_the_valid_topic(self):
        res = d.create_topics(self.broker.port, [("ct-mix-ok", 1, 1), ("ct-mix-bad", 1, 3), ("bad name!", 1, 1)])
        self.assertEqual({k: v[0] for k, v in res.items()},
                         {"ct-mix-ok": 0, "ct-mix-bad": d.INVALID_REPLICATION_FACTOR,
                          "bad name!": d.INVALID_TOPIC_EXCEPTION})
        self.assertEqual(d.metadata(self.broker.port, ["ct-mix-ok"])["ct-mix-ok"], (0, [0]))
        self.assert_absent("ct-mix-bad")


# ---- bad batches over raw sockets ----

BOMB_BYTES = 512 << 20  # what the bombs inflate to


def bomb_record_prefix(value_len):
    """The start of one record whose value is value_len bytes (the zeros follow)."""
    body_len = 1 + 1 + 1 + 1 + len(d.zigzag_varint(value_len)) + value_len + 1
    return (d.zigzag_varint(body_len) + b"\x00" + d.zigzag_varint(0) + d.zigzag_varint(0) + d.zigzag_varint(-1)
            + d.zigzag_varint(value_len))


_bombs = {}


def gzip_bomb():
    if "gzip" not in _bombs:
        import zlib
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        out = [c.compress(bomb_record_prefix(BOMB_BYTES))]
        zeros = bytes(1 << 20)
        for _ in range(BOMB_BYTES >> 20):
            out.append(c.compress(zeros))
        out.append(c.compress(b"\x00"))  # headers count
        out.append(c.flush())
        _bombs["gzip"] = b"".join(out)
    return _bombs["gzip"]


def zstd_frame(blocks):
    """A zstd frame (no content size, 128 KiB window) of blocks: ("raw", bytes) or
    ("rle", byte, count), count <= 128 KiB."""
    out = bytearray(b"\x28\xb5\x2f\xfd" + b"\x00" + b"\x38")
    for i, blk in enumerate(blocks):
        last = 1 if i == len(blocks) - 1 else 0
        if blk[0] == "raw":
            hdr = last | (0 << 1) | (len(blk[1]) << 3)
            out += hdr.to_bytes(3, "little") + blk[1]
        else:
            hdr = last | (1 << 1) | (blk[2] << 3)
            out += hdr.to_bytes(3, "little") + bytes([blk[1]])
    return bytes(out)


def zstd_raw(data):
    return zstd_frame([("raw", data[i:i + 65536]) for i in range(0, len(data), 65536)] or [("raw", b"")])


def zstd_bomb():
    blk = 128 << 10
    return zstd_frame([("raw", bomb_record_prefix(BOMB_BYTES))] + [("rle", 0, blk)] * (BOMB_BYTES // blk)
                      + [("raw", b"\x00")])


class TestBadBatches(SharedBroker):
    """Each bad Produce gets its documented error on that partition, appends
    nothing, and leaves the broker serving the next valid produce and others."""

    T = "bad"

    def setUp(self):
        super().setUp()
        if not getattr(type(self), "_topic_made", False):
            create_topic(self, self.broker, self.T)
            create_topic(self, self.broker, "bad-small", configs={"max.message.bytes": "20000"})
            type(self)._topic_made = True
        self.n = 0

    def latest(self, topic=None):
        err, _, off = d.list_offsets(self.broker.port, topic or self.T, 0)
        self.assertEqual(err, 0)
        return off

    def assert_rejected(self, records, codes, topic=None, acks=-1, version=8, what=""):
        topic = topic or self.T
        before = self.latest(topic)
        res = d.produce(self.broker.port, topic, 0, records, acks=acks, version=version)
        self.assertIsNotNone(res, "%s: broker closed the connection instead of answering" % what)
        self.assertIn(res[0], codes, "%s: error %d, message %r" % (what, res[0], res[2]))
        self.assertTrue(self.broker.running(), "sluiced died:\n" + self.broker.report())
        self.assertEqual(self.latest(topic), before, "%s: something was appended" % what)
        self.assert_still_works(topic, before)
        return res

    def assert_still_works(self, topic, end):
        self.n += 1
        value = b"good-after-%d" % self.n
        err, base, msg = d.produce(self.broker.port, topic, 0, d.encode_batch([(b"k", value)]))
        self.assertEqual((err, base), (0, end), msg)
        # another client on another connection is served and reads it back
        err, hw, recs = d.fetch(self.broker.port, topic, 0, end)
        self.assertEqual((err, hw), (0, end + 1))
        batches = list(d.iter_batches(recs))
        self.assertEqual(len(batches), 1)
        self.assertIn(value, batches[0][3])
        self.assertEqual(d.crc32c(batches[0][3][21:]), int.from_bytes(batches[0][3][17:21], "big"))

    def good(self, n=2):
        return d.encode_batch([(b"k%d" % i, b"v%d" % i) for i in range(n)])

    def test_crc_mismatch_is_corrupt_message(self):
        b = self.good()
        crc = int.from_bytes(b[17:21], "big")
        self.assert_rejected(d.batch_with_crc(b, crc ^ 1), (d.CORRUPT_MESSAGE,), what="crc")
        # a flipped byte in a record (CRC left as it was)
        flipped = bytearray(b)
        flipped[-3] ^= 0x40
        self.assert_rejected(bytes(flipped), (d.CORRUPT_MESSAGE,), what="flipped byte")

    def test_batch_length_not_matching_the_bytes_is_rejected(self):
        b = self.good()
        blen = int.from_bytes(b[8:12], "big")
        longer = b[:8] + (blen + 5).to_bytes(4, "big") + b[12:]
        self.assert_rejected(longer, (d.CORRUPT_MESSAGE,), what="length beyond the bytes")
        shorter = b[:8] + (blen - 5).to_bytes(4, "big") + b[12:]
        self.assert_rejected(shorter, (d.CORRUPT_MESSAGE, d.INVALID_RECORD), what="length short of the bytes")
        self.assert_rejected(b[:40], (d.CORRUPT_MESSAGE,), what="truncated header")

    def test_wrong_record_count_is_corrupt_message(self):
        recs = [(b"a", b"1"), (b"b", b"2")]
        # count and last offset delta agree with each other but not with the records
        self.assert_rejected(d.encode_batch(recs, records_count=3, last_offset_delta=2),
                             (d.CORRUPT_MESSAGE, d.INVALID_RECORD), what="count 3 for 2 records")
        self.assert_rejected(d.encode_batch(recs, records_count=1, last_offset_delta=0),
                             (d.CORRUPT_MESSAGE, d.INVALID_RECORD), what="count 1 for 2 records")
        self.assert_rejected(d.encode_batch(recs, records_count=3),
                             (d.CORRUPT_MESSAGE, d.INVALID_RECORD), what="count 3, last offset delta 1")
        self.assert_rejected(d.encode_batch([], records_count=0, last_offset_delta=0),
                             (d.CORRUPT_MESSAGE, d.INVALID_RECORD), what="empty batch")

    def test_magic_1_is_invalid_record(self):
        b = bytearray(self.good())
        b[16] = 1
        self.assert_rejected(bytes(b), (d.INVALID_RECORD,), what="magic 1")
        b[16] = 0
        self.assert_rejected(bytes(b), (d.INVALID_RECORD,), what="magic 0")

    def test_two_batches_in_one_partition_is_invalid_record(self):
        self.assert_rejected(self.good() + self.good(), (d.INVALID_RECORD,), what="two batches")

    def test_control_batch_from_a_client_is_invalid_record(self):
        # attributes bit 5: control; a COMMIT marker record (key: version 0, type 1)
        ctl = d.encode_batch([(b"\x00\x00\x00\x01", b"\x00\x00\x00\x00\x00\x00")], attributes=0x20 | 0x10,
                             producer_id=1000, producer_epoch=0)
        self.assert_rejected(ctl, (d.INVALID_RECORD,), what="control batch")

    def test_acks_5_is_invalid_required_acks(self):
        self.assert_rejected(self.good(), (d.INVALID_REQUIRED_ACKS,), acks=5, what="acks=5")
        self.assert_rejected(self.good(), (d.INVALID_REQUIRED_ACKS,), acks=-2, what="acks=-2")

    def test_batch_larger_than_max_message_bytes_is_message_too_large(self):
        big = d.encode_batch([(None, bytes(1100000))])  # broker default message.max.bytes 1048588
        self.assert_rejected(big, (d.MESSAGE_TOO_LARGE,), what="1.1 MB batch")
        # the topic's max.message.bytes (20000) applies to its partitions
        self.assert_rejected(d.encode_batch([(None, bytes(30000))]), (d.MESSAGE_TOO_LARGE,), topic="bad-small",
                             what="30 kB batch, topic max 20000")
        end = self.latest("bad-small")
        err, base, msg = d.produce(self.broker.port, "bad-small", 0, d.encode_batch([(None, bytes(15000))]))
        self.assertEqual((err, base), (0, end), msg)

    def test_zstd_below_produce_v7_is_unsupported_compression_type(self):
        b = d.encode_batch([(b"k", b"v")], attributes=d.CODEC_ZSTD, compress=zstd_raw)
        before = self.latest()
        resp = harness.raw_request(self.broker.port, d.PRODUCE, 5, d.produce_body(self.T, [(0, b)]))
        self.assertIsNotNone(resp)
        r = harness.Reader(resp)
        r.int32()
        parts = []
        r.array(lambda r: (r.string(), r.array(lambda r: parts.append((r.int32(), r.int16(), r.int64(), r.int64(),
                                                                       r.int64())))))
        self.assertEqual(parts[0][1], d.UNSUPPORTED_COMPRESSION_TYPE)
        self.assertEqual(self.latest(), before)
        # the same hand-made zstd batch at v8 is valid: the frame itself is fine
        err, base, msg = d.produce(self.broker.port, self.T, 0, b)
        self.assertEqual((err, base), (0, before), msg)

    def assert_bomb_rejected(self, codec, payload, valid_compress):
        # first show this codec's hand-made encoding is accepted when honest
        end = self.latest()
        honest = d.encode_batch([(b"k", b"honest " + codec.encode())], attributes=CODEC_IDS[codec],
                                compress=valid_compress)
        err, base, msg = d.produce(self.broker.port, self.T, 0, honest)
        self.assertEqual((err, base), (0, end), "honest %s batch: %r" % (codec, msg))
        pid = self.broker.proc.pid
        hwm_before = d.vm_kb(pid, "VmHWM")
        bomb = d.encode_batch([(None, None)], attributes=CODEC_IDS[codec], raw_records=payload)
        self.assertLess(len(bomb), 1048588)
        t0 = time.monotonic()
        self.assert_rejected(bomb, (d.CORRUPT_MESSAGE, d.MESSAGE_TOO_LARGE), what="%s bomb (%d bytes -> %d MiB)"
                             % (codec, len(bomb), BOMB_BYTES >> 20))
        self.assertLess(time.monotonic() - t0, 30)
        grown_mib = (d.vm_kb(pid, "VmHWM") - hwm_before) / 1024
        self.assertLess(grown_mib, 128, "%s bomb raised the broker's peak RSS by %.0f MiB" % (codec, grown_mib))

    def test_gzip_compression_bomb_is_rejected_with_bounded_rss(self):
        self.assert_bomb_rejected("gzip", gzip_bomb(), d.gzip_compress)

    def test_zstd_compression_bomb_is_rejected_with_bounded_rss(self):
        self.assert_bomb_rejected("zstd", zstd_bomb(), zstd_raw)

    def test_bad_partition_in_a_request_does_not_affect_the_good_one(self):
        create_topic(self, self.broker, "bad-two", 2)
        bad = d.batch_with_crc(self.good(), 0)
        resp = harness.raw_request(self.broker.port, d.PRODUCE, 8,
                                   d.produce_body("bad-two", [(0, bad), (1, self.good(3))]))
        self.assertIsNotNone(resp)
        res = d.parse_produce_v8(resp)
        self.assertEqual(res[("bad-two", 0)][0], d.CORRUPT_MESSAGE)
        self.assertEqual(res[("bad-two", 1)][:2], (0, 0))
        self.assertEqual(self.latest("bad-two"), 0)
        self.assertEqual(d.list_offsets(self.broker.port, "bad-two", 1)[2], 3)

    def test_null_records_is_rejected_without_append(self):
        res = self.assert_rejected(None, (d.CORRUPT_MESSAGE, d.INVALID_RECORD), what="null records")
        self.assertNotEqual(res[0], 0)


# ---- Fetch semantics ----

class TestFetchSemantics(SharedBroker):
    def test_long_poll_consumer_gets_a_message_produced_1s_later_at_once(self):
        from confluent_kafka import Consumer, TopicPartition
        t = "lp-client"
        create_topic(self, self.broker, t)
        c = Consumer(consumer_conf(self.broker, **{"fetch.wait.max.ms": 5000, "fetch.min.bytes": 1}))
        try:
            c.assign([TopicPartition(t, 0, 0)])
            # let the consumer connect and park its first Fetch
            self.assertIsNone(c.poll(1.0))
            t0 = time.monotonic()
            timer = threading.Timer(1.0, lambda: confluent_produce(self.broker, t, [(0, None, b"wake")]))
            timer.start()
            msg = None
            while msg is None and time.monotonic() - t0 < 8:
                msg = c.poll(0.1)
            elapsed = time.monotonic() - t0
            timer.join(10)
        finally:
            c.close()
        self.assertIsNotNone(msg, "no message within 8 s")
        self.assertIsNone(msg.error())
        self.assertEqual(msg.value(), b"wake")
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 2.5, "a parked fetch was not woken by the produce")

    def test_raw_fetch_waits_for_max_wait_then_is_woken_by_data(self):
        t = "lp-raw"
        create_topic(self, self.broker, t)
        t0 = time.monotonic()
        err, hw, recs = d.fetch(self.broker.port, t, 0, 0, max_wait_ms=1000)
        elapsed = time.monotonic() - t0
        self.assertEqual((err, hw), (0, 0))
        self.assertFalse(recs)
        self.assertGreaterEqual(elapsed, 0.9, "an empty fetch returned before max_wait_ms")
        self.assertLess(elapsed, 4)
        timer = threading.Timer(0.5, lambda: d.produce(self.broker.port, t, 0, d.encode_batch([(None, b"x")])))
        timer.start()
        t0 = time.monotonic()
        err, hw, recs = d.fetch(self.broker.port, t, 0, 0, max_wait_ms=5000)
        elapsed = time.monotonic() - t0
        timer.join(10)
        self.assertEqual((err, hw), (0, 1))
        self.assertEqual(len(list(d.iter_batches(recs))), 1)
        self.assertLess(elapsed, 2.5)

    def test_fetch_beyond_the_end_is_offset_out_of_range_and_clients_reset(self):
        from confluent_kafka import Consumer, TopicPartition
        t = "oor"
        create_topic(self, self.broker, t)
        confluent_produce(self.broker, t, [(0, None, b"m%d" % i) for i in range(5)])
        self.assertEqual(d.fetch(self.broker.port, t, 0, 105)[0], d.OFFSET_OUT_OF_RANGE)
        self.assertEqual(d.fetch(self.broker.port, t, 0, -5)[0], d.OFFSET_OUT_OF_RANGE)
        err, hw, recs = d.fetch(self.broker.port, t, 0, 5)  # at the end: fine, empty
        self.assertEqual((err, hw), (0, 5))
        # auto.offset.reset=earliest: the client starts over at 0
        got = confluent_read(self.broker, t, {0: 5}, starts={0: 105}, timeout=30)
        self.assertEqual([o for o, *_ in got[0]], [0, 1, 2, 3, 4])
        # auto.offset.reset=latest: only what is produced after the reset
        c = Consumer(consumer_conf(self.broker, **{"auto.offset.reset": "latest"}))
        try:
            c.assign([TopicPartition(t, 0, 105)])
            msg = None
            deadline = time.monotonic() + 30
            n = 0
            while msg is None and time.monotonic() < deadline:
                # keep producing until the consumer, once reset to the end, sees one
                confluent_produce(self.broker, t, [(0, None, b"late%d" % n)])
                n += 1
                msg = c.poll(1.0)
            self.assertIsNotNone(msg)
            self.assertIsNone(msg.error())
            self.assertGreaterEqual(msg.offset(), 5)
            self.assertEqual(msg.value(), b"late%d" % (msg.offset() - 5))
        finally:
            c.close()

    def test_max_bytes_smaller_than_the_first_batch_still_returns_it(self):
        t = "first-batch"
        create_topic(self, self.broker, t)
        value = os.urandom(10000)
        confluent_produce(self.broker, t, [(0, b"big", value), (0, b"small", b"s")], **{"linger.ms": 0,
                                                                                       "batch.num.messages": 1})
        err, hw, recs = d.fetch(self.broker.port, t, 0, 0, max_bytes=100, partition_max_bytes=100)
        self.assertEqual((err, hw), (0, 2))
        batches = list(d.iter_batches(recs))
        self.assertTrue(batches, "no whole batch returned (%d bytes)" % len(recs or b""))
        self.assertEqual(batches[0][0], 0)
        self.assertIn(value, batches[0][3])
        got = confluent_read(self.broker, t, {0: 2}, timeout=30, **{"fetch.max.bytes": 1000,
                                                                     "message.max.bytes": 1000,
                                                                     "max.partition.fetch.bytes": 100})
        self.assertEqual([(o, k, v) for o, k, v, _, _ in got[0]], [(0, b"big", value), (1, b"small", b"s")])


if __name__ == "__main__":
    harness.main()
