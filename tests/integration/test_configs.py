"""
test_configs.py - configuration and admin APIs end to end with real clients:
DescribeConfigs / AlterConfigs (kafka-python, confluent-kafka, kafkajs),
IncrementalAlterConfigs, DescribeConfigs v4 and the <default> broker (raw
protocol: no Debian client here sends them), precedence and sources
(topic > broker > <default> > static > default) with synonyms, validation,
changes that take effect without a restart and survive one, CreatePartitions
(kafka-python, confluent-kafka), DeleteRecords (kafkajs; raw v2),
DescribeLogDirs and ElectLeaders (kafka-python's protocol classes; raw v4/v2).

Run: /usr/bin/python3 tests/integration/test_configs.py [TestClass[.test_name]]
"""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (TAGS_NONE, Broker, Reader, array, compact_array, compact_string, int8, int16,  # noqa: E402
                     int32, int64, raw_request, string)

CLIENT_TIMEOUT_S = 30
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")

INVALID_CONFIG = 40
INVALID_REQUEST = 42
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_PARTITIONS = 37
OFFSET_OUT_OF_RANGE = 1
ELECTION_NOT_NEEDED = 84
MESSAGE_TOO_LARGE = 10

TOPIC, BROKER = 2, 4
RTYPE_NAMES = {TOPIC: "TOPIC", BROKER: "BROKER"}  # kafka-python's ConfigResourceType names
SRC_TOPIC, SRC_BROKER, SRC_DEFAULT_BROKER, SRC_STATIC, SRC_DEFAULT = 1, 2, 3, 4, 5

DESCRIBE_CONFIGS, ALTER_CONFIGS, INCREMENTAL_ALTER_CONFIGS = 32, 33, 44
DELETE_RECORDS, DESCRIBE_LOG_DIRS, ELECT_LEADERS, CREATE_PARTITIONS = 21, 35, 43, 37
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


# ---- clients ----

def kp_admin(broker):
    from kafka import KafkaAdminClient
    return KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000,
                            api_version_auto_timeout_ms=10000, client_id="sluice-it")


def kp_describe(admin, rtype, name, keys=None, synonyms=True):
    """{key: (value, read_only, source, sensitive, [(name, value, source)])} via kafka-python."""
    from kafka.admin import ConfigResource
    res = ConfigResource(RTYPE_NAMES[rtype], name, configs=dict.fromkeys(keys) if keys else None)
    resp = admin.describe_configs([res], include_synonyms=synonyms)
    (err, msg, _type, _name, entries), = resp[0].resources
    if err:
        raise AssertionError("DescribeConfigs %s: %d %s" % (name, err, msg))
    return {e[0]: (e[1], e[2], e[3], e[4], [tuple(s) for s in e[5]]) for e in entries}


def kp_alter(admin, rtype, name, configs):
    """(error_code, error_message) of a legacy AlterConfigs via kafka-python."""
    from kafka.admin import ConfigResource
    resp = admin.alter_configs([ConfigResource(RTYPE_NAMES[rtype], name, configs=configs)])
    (err, msg, _type, _name), = resp.resources
    return err, msg


def cf_admin(broker):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": broker.bootstrap, "socket.timeout.ms": 10000, "client.id": "sluice-it",
                        "log_level": 3})


def cf_produce(broker, topic, value, partition=0):
    """Produces one message with confluent-kafka; returns (error code or None, offset)."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "acks": "all", "client.id": "sluice-it",
                  "message.timeout.ms": 20000, "log_level": 3})
    out = []
    p.produce(topic, value=value, partition=partition,
              on_delivery=lambda err, msg: out.append((err.code() if err else None, msg.offset())))
    left = p.flush(30)
    if left or not out:
        raise AssertionError("no delivery report within 30 s")
    return out[0]


def cf_read_from_beginning(broker, topic, partition, count, timeout=30):
    """The offsets of the first `count` messages a consumer starting from the beginning reads."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "sluice-it-cfg", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "client.id": "sluice-it", "log_level": 3})
    got = []
    try:
        c.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            for m in c.consume(count, 0.5):
                if m.error():
                    raise AssertionError("consume error: %s" % m.error())
                got.append(m.offset())
    finally:
        c.close()
    return got


def kafkajs(broker, op):
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "kafkajs")):
        raise unittest.SkipTest("kafkajs not installed (npm, tests/integration/js): run scripts/setup.sh")
    p = subprocess.run(["node", os.path.join(JS_DIR, "admin_ops.js"), broker.bootstrap, json.dumps(op)],
                       capture_output=True, timeout=CLIENT_TIMEOUT_S, cwd=JS_DIR)
    if p.returncode != 0:
        raise AssertionError("kafkajs failed: %s" % p.stderr.decode(errors="replace"))
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def create_topic(admin, name, partitions=1, configs=None):
    from kafka.admin import NewTopic
    resp = admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs or {})])
    assert resp.topic_errors[0][1] == 0, resp


# ---- kafka-python protocol classes for APIs its admin client lacks ----

def kp_classes():
    from kafka.protocol.api import Request, Response
    from kafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Int64, Schema, String

    class DeleteRecordsResponse_v0(Response):
        API_KEY, API_VERSION = DELETE_RECORDS, 0
        SCHEMA = Schema(('throttle_time_ms', Int32),
                        ('topics', Array(('name', String('utf-8')),
                                         ('partitions', Array(('partition_index', Int32), ('low_watermark', Int64),
                                                              ('error_code', Int16))))))

    class DeleteRecordsRequest_v0(Request):
        API_KEY, API_VERSION, RESPONSE_TYPE = DELETE_RECORDS, 0, DeleteRecordsResponse_v0
        SCHEMA = Schema(('topics', Array(('name', String('utf-8')),
                                         ('partitions', Array(('partition_index', Int32), ('offset', Int64))))),
                        ('timeout_ms', Int32))

    class DescribeLogDirsResponse_v1(Response):
        API_KEY, API_VERSION = DESCRIBE_LOG_DIRS, 1
        SCHEMA = Schema(('throttle_time_ms', Int32),
                        ('results', Array(('error_code', Int16), ('log_dir', String('utf-8')),
                                          ('topics', Array(('name', String('utf-8')),
                                                           ('partitions', Array(('partition_index', Int32),
                                                                                ('partition_size', Int64),
                                                                                ('offset_lag', Int64),
                                                                                ('is_future_key', Boolean))))))))

    class DescribeLogDirsRequest_v1(Request):
        API_KEY, API_VERSION, RESPONSE_TYPE = DESCRIBE_LOG_DIRS, 1, DescribeLogDirsResponse_v1
        SCHEMA = Schema(('topics', Array(('topic', String('utf-8')), ('partitions', Array(Int32)))))

    class ElectLeadersResponse_v1(Response):
        API_KEY, API_VERSION = ELECT_LEADERS, 1
        SCHEMA = Schema(('throttle_time_ms', Int32), ('error_code', Int16),
                        ('replica_election_results',
                         Array(('topic', String('utf-8')),
                               ('partition_result', Array(('partition_id', Int32), ('error_code', Int16),
                                                          ('error_message', String('utf-8')))))))

    class ElectLeadersRequest_v1(Request):
        API_KEY, API_VERSION, RESPONSE_TYPE = ELECT_LEADERS, 1, ElectLeadersResponse_v1
        SCHEMA = Schema(('election_type', Int8),
                        ('topic_partitions', Array(('topic', String('utf-8')), ('partitions', Array(Int32)))),
                        ('timeout_ms', Int32))

    return DeleteRecordsRequest_v0, DescribeLogDirsRequest_v1, ElectLeadersRequest_v1


def kp_send(admin, request):
    """Sends a request to broker 1 through kafka-python's client; returns the decoded response."""
    future = admin._send_request_to_node(1, request)
    admin._wait_for_futures([future])
    return future.value


# ---- raw flexible-version requests ----

def body_header_skip(resp):
    """A Reader past a flexible response header (correlation id + tags)."""
    r = Reader(resp)
    r.int32()
    r.tagged_fields()
    return r


def raw_incremental_alter(port, resources, validate_only=False, version=1):
    """resources: [(type, name, [(key, op, value)])] -> [(error, message, type, name)]"""
    if version >= 1:
        def cfg(c):
            return compact_string(c[0]) + int8(c[1]) + compact_string(c[2]) + TAGS_NONE

        def res(x):
            return int8(x[0]) + compact_string(x[1]) + compact_array(x[2], cfg) + TAGS_NONE
        body = compact_array(resources, res) + int8(1 if validate_only else 0) + TAGS_NONE
        resp = raw_request(port, INCREMENTAL_ALTER_CONFIGS, version, body, header_version=2)
        r = body_header_skip(resp)
        r.int32()
        out = r.compact_array(lambda r: (r.int16(), r.compact_string(), r.int8(), r.compact_string(),
                                         r.tagged_fields())[:4])
    else:
        def cfg(c):
            return string(c[0]) + int8(c[1]) + string(c[2])

        def res(x):
            return int8(x[0]) + string(x[1]) + array(x[2], cfg)
        body = array(resources, res) + int8(1 if validate_only else 0)
        resp = raw_request(port, INCREMENTAL_ALTER_CONFIGS, version, body)
        r = Reader(resp)
        r.int32()
        r.int32()
        out = r.array(lambda r: (r.int16(), r.string(), r.int8(), r.string()))
    return out


def raw_describe_configs_v4(port, rtype, name, keys=None, synonyms=True, documentation=True):
    """-> (error, message, {key: dict(value, read_only, source, sensitive, synonyms, type, doc)})"""
    res = int8(rtype) + compact_string(name) + compact_array(keys, compact_string) + TAGS_NONE
    body = compact_array([res]) + int8(1 if synonyms else 0) + int8(1 if documentation else 0) + TAGS_NONE
    resp = raw_request(port, DESCRIBE_CONFIGS, 4, body, header_version=2)
    r = body_header_skip(resp)
    r.int32()

    def syn(r):
        s = (r.compact_string(), r.compact_string(), r.int8())
        r.tagged_fields()
        return s

    def entry(r):
        e = {"name": r.compact_string(), "value": r.compact_string(), "read_only": r.bool(), "source": r.int8(),
             "sensitive": r.bool(), "synonyms": r.compact_array(syn), "type": r.int8(), "doc": r.compact_string()}
        r.tagged_fields()
        return e

    def result(r):
        x = (r.int16(), r.compact_string(), r.int8(), r.compact_string(), r.compact_array(entry))
        r.tagged_fields()
        return x
    (err, msg, _t, _n, entries), = r.compact_array(result)
    return err, msg, {e["name"]: e for e in entries or []}


def raw_delete_records_v2(port, topic, partitions):
    """partitions [(index, offset)] -> [(index, low_watermark, error)]"""
    part = lambda p: int32(p[0]) + int64(p[1]) + TAGS_NONE  # noqa: E731
    body = compact_array([compact_string(topic) + compact_array(partitions, part) + TAGS_NONE]) + int32(10000) + TAGS_NONE
    r = body_header_skip(raw_request(port, DELETE_RECORDS, 2, body, header_version=2))
    r.int32()

    def p(r):
        x = (r.int32(), r.int64(), r.int16())
        r.tagged_fields()
        return x

    def t(r):
        x = (r.compact_string(), r.compact_array(p))
        r.tagged_fields()
        return x
    (_name, parts), = r.compact_array(t)
    return parts


def raw_describe_log_dirs_v4(port):
    body = compact_array(None) + TAGS_NONE
    r = body_header_skip(raw_request(port, DESCRIBE_LOG_DIRS, 4, body, header_version=2))
    r.int32()
    top_err = r.int16()

    def p(r):
        x = (r.int32(), r.int64(), r.int64(), r.bool())
        r.tagged_fields()
        return x

    def t(r):
        x = (r.compact_string(), r.compact_array(p))
        r.tagged_fields()
        return x

    def res(r):
        x = {"error": r.int16(), "dir": r.compact_string(), "topics": r.compact_array(t), "total": r.int64(),
             "usable": r.int64()}
        r.tagged_fields()
        return x
    return top_err, r.compact_array(res)


def raw_elect_leaders_v2(port, topic_partitions, election_type=0):
    tp = lambda x: compact_string(x[0]) + compact_array(x[1], int32) + TAGS_NONE  # noqa: E731
    body = int8(election_type) + compact_array(topic_partitions, tp) + int32(10000) + TAGS_NONE
    r = body_header_skip(raw_request(port, ELECT_LEADERS, 2, body, header_version=2))
    r.int32()
    top = r.int16()

    def p(r):
        x = (r.int32(), r.int16(), r.compact_string())
        r.tagged_fields()
        return x

    def t(r):
        x = (r.compact_string(), r.compact_array(p))
        r.tagged_fields()
        return x
    return top, r.compact_array(t)


class SharedBroker(unittest.TestCase):
    """One broker per class, started by the first test's setUp."""

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
        self.admin = kp_admin(self.broker)

    def tearDown(self):
        self.admin.close()

    @classmethod
    def tearDownClass(cls):
        if cls.broker is not None:
            cls.broker.cleanup()


# ---- topic configs ----

class TestTopicConfigs(SharedBroker):
    overrides = {"log.segment.bytes": 536870912}

    def test_kafka_python_describes_sources_and_synonyms(self):
        create_topic(self.admin, "cfg-desc", configs={"retention.ms": "12345"})
        cfg = kp_describe(self.admin, TOPIC, "cfg-desc")
        value, read_only, source, sensitive, syns = cfg["retention.ms"]
        self.assertEqual((value, read_only, source, sensitive), ("12345", False, SRC_TOPIC, False))
        self.assertEqual(syns[0], ("retention.ms", "12345", SRC_TOPIC))
        # static server.properties value, then Kafka's default, as synonyms
        self.assertEqual(cfg["segment.bytes"][:3], ("536870912", False, SRC_STATIC))
        self.assertEqual(cfg["segment.bytes"][4], [("log.segment.bytes", "536870912", SRC_STATIC),
                                                   ("log.segment.bytes", "1073741824", SRC_DEFAULT)])
        self.assertEqual(cfg["cleanup.policy"][:3], ("delete", False, SRC_DEFAULT))
        self.assertEqual(cfg["max.message.bytes"][4], [("message.max.bytes", "1048588", SRC_DEFAULT)])
        # only the keys asked for
        self.assertEqual(sorted(kp_describe(self.admin, TOPIC, "cfg-desc", keys=["retention.ms", "nope"])),
                         ["retention.ms"])

    def test_kafka_python_alter_replaces_all_dynamic_configs(self):
        create_topic(self.admin, "cfg-alter", configs={"retention.ms": "1000"})
        self.assertEqual(kp_alter(self.admin, TOPIC, "cfg-alter", {"cleanup.policy": "compact",
                                                                    "max.message.bytes": "5000"})[0], 0)
        cfg = kp_describe(self.admin, TOPIC, "cfg-alter")
        self.assertEqual(cfg["cleanup.policy"][:3], ("compact", False, SRC_TOPIC))
        self.assertEqual(cfg["max.message.bytes"][:3], ("5000", False, SRC_TOPIC))
        # legacy AlterConfigs: keys not given go back to their defaults
        self.assertEqual(cfg["retention.ms"][0], "604800000")
        self.assertEqual(cfg["retention.ms"][2], SRC_DEFAULT)

    def test_confluent_kafka_alter_and_describe(self):
        from confluent_kafka.admin import ConfigResource, ConfigSource
        create_topic(self.admin, "cfg-cf")
        a = cf_admin(self.broker)
        fs = a.alter_configs([ConfigResource("topic", "cfg-cf", set_config={"retention.bytes": "1048576",
                                                                            "segment.ms": "60000"})])
        for f in fs.values():
            self.assertIsNone(f.result(timeout=20))
        fs = a.describe_configs([ConfigResource("topic", "cfg-cf")])
        cfg = list(fs.values())[0].result(timeout=20)
        self.assertEqual(cfg["retention.bytes"].value, "1048576")
        self.assertEqual(cfg["retention.bytes"].source, ConfigSource.DYNAMIC_TOPIC_CONFIG.value)
        self.assertEqual(cfg["segment.ms"].value, "60000")
        self.assertFalse(cfg["segment.ms"].is_read_only)
        self.assertFalse(cfg["segment.ms"].is_sensitive)
        self.assertEqual(cfg["compression.type"].value, "producer")
        self.assertEqual(cfg["compression.type"].source, ConfigSource.DEFAULT_CONFIG.value)
        self.assertEqual(cfg["segment.bytes"].source, ConfigSource.STATIC_BROKER_CONFIG.value)
        # the same values read by kafkajs
        out = kafkajs(self.broker, {"op": "describeConfigs", "includeSynonyms": True,
                                    "resources": [{"type": TOPIC, "name": "cfg-cf"}]})
        self.assertTrue(out["ok"], out)
        entries = {e["configName"]: e for e in out["result"]["resources"][0]["configEntries"]}
        self.assertEqual(entries["retention.bytes"]["configValue"], "1048576")
        self.assertEqual(entries["retention.bytes"]["configSource"], SRC_TOPIC)

    def test_invalid_values_are_refused_naming_the_key(self):
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import ConfigResource
        create_topic(self.admin, "cfg-bad", configs={"retention.ms": "777"})
        for key, value in [("retention.ms", "abc"), ("retention.ms", "-5"), ("max.message.bytes", "3000000000"),
                           ("cleanup.policy", "shred"), ("min.cleanable.dirty.ratio", "2"),
                           ("unclean.leader.election.enable", "maybe"), ("no.such.config", "1")]:
            err, msg = kp_alter(self.admin, TOPIC, "cfg-bad", {key: value})
            self.assertEqual(err, INVALID_CONFIG, (key, value, msg))
            self.assertIn(key, msg)
        a = cf_admin(self.broker)
        fs = a.alter_configs([ConfigResource("topic", "cfg-bad", set_config={"segment.bytes": "1"})])
        with self.assertRaises(KafkaException) as cm:
            list(fs.values())[0].result(timeout=20)
        self.assertEqual(cm.exception.args[0].code(), INVALID_CONFIG)
        self.assertIn("segment.bytes", cm.exception.args[0].str())
        # nothing changed
        self.assertEqual(kp_describe(self.admin, TOPIC, "cfg-bad")["retention.ms"][:3], ("777", False, SRC_TOPIC))

    def test_unknown_topic(self):
        from kafka.admin import ConfigResource
        resp = self.admin.describe_configs([ConfigResource("TOPIC", "no-such-topic")])
        self.assertEqual(resp[0].resources[0][0], UNKNOWN_TOPIC_OR_PARTITION)
        self.assertEqual(kp_alter(self.admin, TOPIC, "no-such-topic", {"retention.ms": "1"})[0],
                         UNKNOWN_TOPIC_OR_PARTITION)
        (err, _m, _t, _n), = raw_incremental_alter(self.broker.port, [(TOPIC, "no-such-topic",
                                                                      [("retention.ms", SET, "1")])])
        self.assertEqual(err, UNKNOWN_TOPIC_OR_PARTITION)

    def test_incremental_alter_set_delete_append_subtract(self):
        port = self.broker.port
        create_topic(self.admin, "cfg-inc", configs={"retention.ms": "1000"})
        for version in (0, 1):
            (err, msg, _t, name), = raw_incremental_alter(port, [(TOPIC, "cfg-inc", [
                ("max.message.bytes", SET, "4000"), ("retention.ms", DELETE, None),
                ("cleanup.policy", APPEND, "compact")])], version=version)
            self.assertEqual((err, name), (0, "cfg-inc"), msg)
            cfg = kp_describe(self.admin, TOPIC, "cfg-inc")
            self.assertEqual(cfg["max.message.bytes"][:3], ("4000", False, SRC_TOPIC))
            self.assertEqual(cfg["retention.ms"][2], SRC_DEFAULT)
            # APPEND starts from the default "delete"
            self.assertEqual(cfg["cleanup.policy"][:3], ("delete,compact", False, SRC_TOPIC))
            (err, msg, _t, _n), = raw_incremental_alter(port, [(TOPIC, "cfg-inc", [
                ("cleanup.policy", SUBTRACT, "delete"), ("retention.ms", SET, "1000")])], version=version)
            self.assertEqual(err, 0, msg)
            cfg = kp_describe(self.admin, TOPIC, "cfg-inc")
            self.assertEqual(cfg["cleanup.policy"][0], "compact")
            self.assertEqual(cfg["retention.ms"][0], "1000")
            (err, msg, _t, _n), = raw_incremental_alter(port, [(TOPIC, "cfg-inc", [
                ("cleanup.policy", DELETE, None), ("max.message.bytes", DELETE, None)])], version=version)
            self.assertEqual(err, 0, msg)
        # APPEND on a key that is not a list, unknown keys, bad values, bad ops, duplicates
        cases = [([("retention.ms", APPEND, "5")], INVALID_CONFIG, "retention.ms"),
                 ([("bogus.key", SET, "5")], INVALID_CONFIG, "bogus.key"),
                 ([("segment.ms", SET, "0")], INVALID_CONFIG, "segment.ms"),
                 ([("retention.ms", 9, "5")], INVALID_REQUEST, "retention.ms"),
                 ([("retention.ms", SET, "5"), ("retention.ms", DELETE, None)], INVALID_REQUEST, "duplicate"),
                 ([("retention.ms", SET, None)], INVALID_REQUEST, "retention.ms")]
        for ops, code, word in cases:
            (err, msg, _t, _n), = raw_incremental_alter(port, [(TOPIC, "cfg-inc", ops)])
            self.assertEqual(err, code, (ops, msg))
            self.assertIn(word, msg)
        # validate_only checks but does not change
        (err, msg, _t, _n), = raw_incremental_alter(port, [(TOPIC, "cfg-inc", [("retention.ms", SET, "5")])],
                                                     validate_only=True)
        self.assertEqual(err, 0, msg)
        self.assertEqual(kp_describe(self.admin, TOPIC, "cfg-inc")["retention.ms"][0], "1000")

    def test_describe_configs_v4_types_and_documentation(self):
        create_topic(self.admin, "cfg-v4", configs={"cleanup.policy": "compact"})
        err, msg, cfg = raw_describe_configs_v4(self.broker.port, TOPIC, "cfg-v4")
        self.assertEqual(err, 0, msg)
        e = cfg["cleanup.policy"]
        self.assertEqual((e["value"], e["source"], e["type"]), ("compact", SRC_TOPIC, 7))  # LIST
        self.assertTrue(e["doc"])
        self.assertEqual(cfg["retention.ms"]["type"], 5)  # LONG
        self.assertEqual(cfg["max.message.bytes"]["type"], 3)  # INT
        self.assertEqual(cfg["preallocate"]["type"], 1)  # BOOLEAN
        self.assertEqual(cfg["min.cleanable.dirty.ratio"]["type"], 6)  # DOUBLE
        err, msg, cfg = raw_describe_configs_v4(self.broker.port, TOPIC, "cfg-v4", keys=["retention.ms"],
                                                synonyms=False, documentation=False)
        self.assertEqual(list(cfg), ["retention.ms"])
        self.assertIsNone(cfg["retention.ms"]["doc"])
        self.assertEqual(cfg["retention.ms"]["synonyms"], [])

    def test_topic_config_change_takes_effect_without_restart(self):
        create_topic(self.admin, "cfg-live")
        big = b"x" * 3000
        self.assertEqual(cf_produce(self.broker, "cfg-live", big)[0], None)
        self.assertEqual(kp_alter(self.admin, TOPIC, "cfg-live", {"max.message.bytes": "1000"})[0], 0)
        self.assertEqual(cf_produce(self.broker, "cfg-live", big)[0], MESSAGE_TOO_LARGE)
        self.assertEqual(cf_produce(self.broker, "cfg-live", b"small")[0], None)
        (err, msg, _t, _n), = raw_incremental_alter(self.broker.port, [(TOPIC, "cfg-live",
                                                                       [("max.message.bytes", DELETE, None)])])
        self.assertEqual(err, 0, msg)
        self.assertEqual(cf_produce(self.broker, "cfg-live", big)[0], None)


# ---- broker configs ----

class TestBrokerConfigs(SharedBroker):
    overrides = {"message.max.bytes": 1500000, "ssl.keystore.password": "hunter2"}

    def test_precedence_topic_broker_default_static_default(self):
        create_topic(self.admin, "cfg-prec")
        port = self.broker.port

        def topic_mmb():
            return kp_describe(self.admin, TOPIC, "cfg-prec", keys=["max.message.bytes"])["max.message.bytes"]

        def broker_mmb():
            return kp_describe(self.admin, BROKER, "1", keys=["message.max.bytes"])["message.max.bytes"]

        self.assertEqual(broker_mmb()[:3], ("1500000", False, SRC_STATIC))
        self.assertEqual(topic_mmb()[:3], ("1500000", False, SRC_STATIC))
        # <default> (kafka-python can alter the empty broker name)
        self.assertEqual(kp_alter(self.admin, BROKER, "", {"message.max.bytes": "1600000"})[0], 0)
        self.assertEqual(broker_mmb()[:3], ("1600000", False, SRC_DEFAULT_BROKER))
        self.assertEqual(topic_mmb()[:3], ("1600000", False, SRC_DEFAULT_BROKER))
        # this broker
        (err, msg, _t, _n), = raw_incremental_alter(port, [(BROKER, "1", [("message.max.bytes", SET, "1700000")])])
        self.assertEqual(err, 0, msg)
        v = broker_mmb()
        self.assertEqual(v[:3], ("1700000", False, SRC_BROKER))
        self.assertEqual(v[4], [("message.max.bytes", "1700000", SRC_BROKER),
                                ("message.max.bytes", "1600000", SRC_DEFAULT_BROKER),
                                ("message.max.bytes", "1500000", SRC_STATIC),
                                ("message.max.bytes", "1048588", SRC_DEFAULT)])
        self.assertEqual(topic_mmb()[:3], ("1700000", False, SRC_BROKER))
        # the topic's own value wins
        self.assertEqual(kp_alter(self.admin, TOPIC, "cfg-prec", {"max.message.bytes": "1800000"})[0], 0)
        v = topic_mmb()
        self.assertEqual(v[:3], ("1800000", False, SRC_TOPIC))
        self.assertEqual([s[2] for s in v[4]], [SRC_TOPIC, SRC_BROKER, SRC_DEFAULT_BROKER, SRC_STATIC, SRC_DEFAULT])
        # and back down the chain
        self.assertEqual(kp_alter(self.admin, TOPIC, "cfg-prec", {})[0], 0)
        (err, msg, _t, _n), = raw_incremental_alter(port, [(BROKER, "1", [("message.max.bytes", DELETE, None)])])
        self.assertEqual(err, 0, msg)
        self.assertEqual(topic_mmb()[:3], ("1600000", False, SRC_DEFAULT_BROKER))
        (err, msg, _t, _n), = raw_incremental_alter(port, [(BROKER, "", [("message.max.bytes", DELETE, None)])])
        self.assertEqual(err, 0, msg)
        self.assertEqual(topic_mmb()[:3], ("1500000", False, SRC_STATIC))

    def test_confluent_kafka_alters_and_describes_this_broker(self):
        from confluent_kafka.admin import ConfigResource, ConfigSource
        a = cf_admin(self.broker)
        fs = a.alter_configs([ConfigResource("broker", "1", set_config={"log.cleaner.threads": "3"})])
        for f in fs.values():
            self.assertIsNone(f.result(timeout=20))
        cfg = list(a.describe_configs([ConfigResource("broker", "1")]).values())[0].result(timeout=20)
        self.assertEqual(cfg["log.cleaner.threads"].value, "3")
        self.assertEqual(cfg["log.cleaner.threads"].source, ConfigSource.DYNAMIC_BROKER_CONFIG.value)
        self.assertTrue(cfg["log.dirs"].is_read_only)
        self.assertEqual(cfg["log.dirs"].source, ConfigSource.STATIC_BROKER_CONFIG.value)
        self.assertFalse(cfg["message.max.bytes"].is_read_only)
        pw = cfg["ssl.keystore.password"]
        self.assertTrue(pw.is_sensitive)
        self.assertIsNone(pw.value)
        self.assertEqual(pw.source, ConfigSource.STATIC_BROKER_CONFIG.value)
        fs = a.alter_configs([ConfigResource("broker", "1", set_config={})])
        for f in fs.values():
            self.assertIsNone(f.result(timeout=20))

    def test_default_broker_resource_lists_only_dynamic_defaults(self):
        port = self.broker.port
        (err, msg, _t, _n), = raw_incremental_alter(port, [(BROKER, "", [("log.cleaner.backoff.ms", SET, "20000")])])
        self.assertEqual(err, 0, msg)
        try:
            err, msg, cfg = raw_describe_configs_v4(port, BROKER, "")
            self.assertEqual(err, 0, msg)
            self.assertEqual(list(cfg), ["log.cleaner.backoff.ms"])
            e = cfg["log.cleaner.backoff.ms"]
            self.assertEqual((e["value"], e["source"], e["read_only"], e["type"]),
                             ("20000", SRC_DEFAULT_BROKER, False, 5))
            self.assertEqual(e["synonyms"], [("log.cleaner.backoff.ms", "20000", SRC_DEFAULT_BROKER)])
            err, msg, cfg = raw_describe_configs_v4(port, BROKER, "1", keys=["log.cleaner.backoff.ms"])
            self.assertEqual(cfg["log.cleaner.backoff.ms"]["source"], SRC_DEFAULT_BROKER)
        finally:
            raw_incremental_alter(port, [(BROKER, "", [("log.cleaner.backoff.ms", DELETE, None)])])
        # another broker's id cannot be described here; a non-number is no broker
        err, msg, _cfg = raw_describe_configs_v4(port, BROKER, "7")
        self.assertEqual(err, INVALID_REQUEST)
        err, msg, _cfg = raw_describe_configs_v4(port, BROKER, "abc")
        self.assertEqual(err, INVALID_REQUEST)

    def test_read_only_and_invalid_broker_keys_are_refused(self):
        port = self.broker.port
        cases = [("1", "log.dirs", "/tmp/elsewhere", "Cannot update these configs dynamically"),
                 ("", "node.id", "5", "Cannot update these configs dynamically"),
                 ("", "listeners", "PLAINTEXT://127.0.0.1:1", "broker id must be specified"),
                 ("1", "message.max.bytes", "big", "message.max.bytes"),
                 ("", "log.segment.bytes", "13", "log.segment.bytes"),
                 ("1", "compression.type", "brotli", "compression.type"),
                 ("1", "no.such.broker.key", "1", "no.such.broker.key")]
        for name, key, value, word in cases:
            (err, msg, _t, _n), = raw_incremental_alter(port, [(BROKER, name, [(key, SET, value)])])
            self.assertEqual(err, INVALID_CONFIG, (key, msg))
            self.assertIn(word, msg)
            self.assertIn(key, msg)
        err, msg = kp_alter(self.admin, BROKER, "1", {"log.dirs": "/tmp/x"})
        self.assertEqual(err, INVALID_CONFIG)
        self.assertIn("log.dirs", msg)
        (err, msg, _t, _n), = raw_incremental_alter(port, [(BROKER, "x1", [("message.max.bytes", SET, "1")])])
        self.assertEqual(err, INVALID_REQUEST)
        # nothing was stored
        err, msg, cfg = raw_describe_configs_v4(port, BROKER, "")
        self.assertEqual(cfg, {})

    def test_dynamic_default_takes_effect_without_restart(self):
        create_topic(self.admin, "cfg-dyn-default")
        big = b"y" * 4000
        self.assertEqual(cf_produce(self.broker, "cfg-dyn-default", big)[0], None)
        self.assertEqual(kp_alter(self.admin, BROKER, "", {"message.max.bytes": "2000"})[0], 0)
        try:
            self.assertEqual(cf_produce(self.broker, "cfg-dyn-default", big)[0], MESSAGE_TOO_LARGE)
        finally:
            self.assertEqual(kp_alter(self.admin, BROKER, "", {})[0], 0)
        self.assertEqual(cf_produce(self.broker, "cfg-dyn-default", big)[0], None)


class TestRestart(unittest.TestCase):
    def test_configs_survive_a_restart(self):
        with Broker(name="cfg-restart") as b:
            admin = kp_admin(b)
            try:
                create_topic(admin, "cfg-keep", configs={"retention.ms": "4242"})
                self.assertEqual(kp_alter(admin, TOPIC, "cfg-keep", {"max.message.bytes": "1000",
                                                                     "cleanup.policy": "compact"})[0], 0)
                self.assertEqual(kp_alter(admin, BROKER, "", {"log.cleaner.threads": "4"})[0], 0)
                self.assertEqual(kp_alter(admin, BROKER, "1", {"log.cleaner.backoff.ms": "16000"})[0], 0)
            finally:
                admin.close()
            b.restart()
            admin = kp_admin(b)
            try:
                cfg = kp_describe(admin, TOPIC, "cfg-keep")
                self.assertEqual(cfg["max.message.bytes"][:3], ("1000", False, SRC_TOPIC))
                self.assertEqual(cfg["cleanup.policy"][:3], ("compact", False, SRC_TOPIC))
                self.assertEqual(cfg["retention.ms"][2], SRC_DEFAULT)  # replaced by the legacy alter
                bc = kp_describe(admin, BROKER, "1", keys=["log.cleaner.threads", "log.cleaner.backoff.ms"])
                self.assertEqual(bc["log.cleaner.threads"][:3], ("4", False, SRC_DEFAULT_BROKER))
                self.assertEqual(bc["log.cleaner.backoff.ms"][:3], ("16000", False, SRC_BROKER))
            finally:
                admin.close()
            # and it is enforced after the restart
            self.assertEqual(cf_produce(b, "cfg-keep", b"z" * 3000)[0], MESSAGE_TOO_LARGE)


# ---- partitions and records ----

class TestPartitionAdmin(SharedBroker):
    def test_create_partitions_grows_the_topic_for_producers(self):
        from confluent_kafka.admin import NewPartitions
        from kafka.admin import NewPartitions as KpNewPartitions
        create_topic(self.admin, "cp-grow")
        resp = self.admin.create_partitions({"cp-grow": KpNewPartitions(3)})
        self.assertEqual(resp.topic_errors[0][1], 0, resp)
        a = cf_admin(self.broker)
        for f in a.create_partitions([NewPartitions("cp-grow", 5)]).values():
            self.assertIsNone(f.result(timeout=20))
        md = a.list_topics("cp-grow", timeout=10).topics["cp-grow"]
        self.assertEqual(sorted(md.partitions), [0, 1, 2, 3, 4])
        for p in (2, 4):
            err, off = cf_produce(self.broker, "cp-grow", b"to-%d" % p, partition=p)
            self.assertEqual((err, off), (None, 0))
        self.assertEqual(cf_read_from_beginning(self.broker, "cp-grow", 4, 1), [0])

    def test_create_partitions_refuses_what_kafka_refuses(self):
        from kafka.protocol.admin import CreatePartitionsRequest_v1
        create_topic(self.admin, "cp-bad", partitions=2)

        def grow(n, validate_only=False, assignments=None, topic="cp-bad"):
            # kafka-python's create_partitions raises on the first error: send its request directly
            req = CreatePartitionsRequest_v1([(topic, (n, assignments))], 10000, validate_only)
            return kp_send(self.admin, req).topic_errors[0][1:]
        err, msg = grow(1)
        self.assertEqual(err, INVALID_PARTITIONS)
        self.assertIn("would not be an increase", msg)
        err, msg = grow(2)
        self.assertEqual(err, INVALID_PARTITIONS)
        self.assertEqual(grow(4, validate_only=True)[0], 0)
        self.assertEqual(len(self.admin.describe_topics(["cp-bad"])[0]["partitions"]), 2)
        self.assertEqual(grow(3, assignments=[[7]])[0], 39)  # INVALID_REPLICA_ASSIGNMENT: no broker 7
        self.assertEqual(grow(4, assignments=[[1]])[0], 39)  # one assignment for two partitions
        self.assertEqual(grow(3, assignments=[[1]])[0], 0)
        self.assertEqual(grow(3, topic="no-such-topic")[0], UNKNOWN_TOPIC_OR_PARTITION)

    def test_delete_records_advances_the_log_start(self):
        create_topic(self.admin, "dr-topic")
        for i in range(10):
            self.assertEqual(cf_produce(self.broker, "dr-topic", b"m%d" % i)[1], i)
        out = kafkajs(self.broker, {"op": "deleteTopicRecords", "topic": "dr-topic",
                                    "partitions": [{"partition": 0, "offset": "4"}]})
        self.assertTrue(out["ok"], out)
        out = kafkajs(self.broker, {"op": "fetchTopicOffsets", "topic": "dr-topic"})
        self.assertEqual((out["result"][0]["low"], out["result"][0]["high"]), ("4", "10"))
        # consumers from the beginning start at the new log start
        self.assertEqual(cf_read_from_beginning(self.broker, "dr-topic", 0, 6), [4, 5, 6, 7, 8, 9])
        # kafka-python's protocol classes (v0) and raw v2: below the start is a no-op, -1 is the HWM
        DeleteRecords, _, _ = kp_classes()
        resp = kp_send(self.admin, DeleteRecords([("dr-topic", [(0, 2)])], 10000))
        self.assertEqual(resp.topics[0][1], [(0, 4, 0)])
        self.assertEqual(raw_delete_records_v2(self.broker.port, "dr-topic", [(0, 7)]), [(0, 7, 0)])
        self.assertEqual(raw_delete_records_v2(self.broker.port, "dr-topic", [(0, 11), (1, 0)]),
                         [(0, -1, OFFSET_OUT_OF_RANGE), (1, -1, UNKNOWN_TOPIC_OR_PARTITION)])
        self.assertEqual(raw_delete_records_v2(self.broker.port, "dr-topic", [(0, -1)]), [(0, 10, 0)])
        out = kafkajs(self.broker, {"op": "fetchTopicOffsets", "topic": "dr-topic"})
        self.assertEqual(out["result"][0]["low"], "10")
        self.assertEqual(cf_produce(self.broker, "dr-topic", b"after")[1], 10)
        self.assertEqual(cf_read_from_beginning(self.broker, "dr-topic", 0, 1), [10])

    def test_describe_log_dirs_lists_partitions(self):
        create_topic(self.admin, "ld-topic", partitions=2)
        cf_produce(self.broker, "ld-topic", b"v" * 500, partition=1)
        _, DescribeLogDirs, _ = kp_classes()
        resp = kp_send(self.admin, DescribeLogDirs([("ld-topic", [0, 1])]))
        (err, log_dir, topics), = resp.results
        self.assertEqual(err, 0)
        self.assertEqual(os.path.realpath(log_dir), os.path.realpath(self.broker.data_dir))
        (name, parts), = topics
        self.assertEqual(name, "ld-topic")
        parts = {p[0]: p for p in parts}
        self.assertEqual(sorted(parts), [0, 1])
        self.assertEqual(parts[0][1:], (0, 0, False))
        self.assertGreater(parts[1][1], 500)
        self.assertEqual(parts[1][2], 0)
        # all topics (null), v4 with the volume's sizes
        resp = kp_send(self.admin, DescribeLogDirs(None))
        self.assertIn("ld-topic", [t[0] for t in resp.results[0][2]])
        top_err, results = raw_describe_log_dirs_v4(self.broker.port)
        self.assertEqual(top_err, 0)
        (res,) = results
        self.assertEqual(res["error"], 0)
        self.assertGreater(res["total"], 0)
        self.assertGreater(res["usable"], 0)
        self.assertLessEqual(res["usable"], res["total"])
        self.assertIn("ld-topic", [t[0] for t in res["topics"]])

    def test_elect_leaders_on_one_node(self):
        create_topic(self.admin, "el-topic", partitions=2)
        _, _, ElectLeaders = kp_classes()
        resp = kp_send(self.admin, ElectLeaders(0, [("el-topic", [0, 1, 5])], 10000))
        self.assertEqual(resp.error_code, 0)
        (topic, results), = resp.replica_election_results
        self.assertEqual(topic, "el-topic")
        codes = {p[0]: p[1] for p in results}
        self.assertEqual(codes, {0: ELECTION_NOT_NEEDED, 1: ELECTION_NOT_NEEDED, 5: UNKNOWN_TOPIC_OR_PARTITION})
        # every partition: those that need no election are left out
        resp = kp_send(self.admin, ElectLeaders(0, None, 10000))
        self.assertEqual((resp.error_code, resp.replica_election_results), (0, []))
        top, results = raw_elect_leaders_v2(self.broker.port, [("el-topic", [1])])
        self.assertEqual(top, 0)
        self.assertEqual(results, [("el-topic", [(1, ELECTION_NOT_NEEDED, results[0][1][0][2])])])
        top, results = raw_elect_leaders_v2(self.broker.port, [("el-topic", [0])], election_type=1)
        self.assertEqual(results[0][1][0][1], ELECTION_NOT_NEEDED)


if __name__ == "__main__":
    harness.main()
