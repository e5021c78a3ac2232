"""
test_configs_dynamic.py - dynamic configs reach the running broker without a
restart, as in Kafka: segment.bytes and segment.ms changed on a live topic
(or at the <default> broker) make the next appends roll segments;
log.retention.ms at <default> applies to a topic without its own
retention.ms; CreateTopics v7 reports each config with the value and source
DescribeConfigs gives (topic from the request, dynamic <default>, static,
default).

Segments are counted as the .log files in the partition directory. Every
wait is a bounded condition loop; the broker runs with a short
log.retention.check.interval.ms.

Run: /usr/bin/python3 tests/integration/test_configs_dynamic.py [TestClass[.test_name]]
"""

import glob
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataproto as d  # noqa: E402
import harness  # noqa: E402
from harness import TAGS_NONE, Reader, compact_array, compact_string, int8, int16, int32, raw_request  # noqa: E402
from test_configs import (BROKER, DELETE, SET, SRC_DEFAULT, SRC_DEFAULT_BROKER, SRC_STATIC, SRC_TOPIC,  # noqa: E402
                          TOPIC, kp_admin, kp_alter, raw_describe_configs_v4, raw_incremental_alter)
from test_data import SharedBroker, confluent_produce, create_topic  # noqa: E402

CREATE_TOPICS = 19
STATIC = {"log.retention.check.interval.ms": "200", "log.cleaner.delete.retention.ms": "3600000"}


def segments(broker, topic, partition=0):
    return len(glob.glob(os.path.join(broker.data_dir, "%s-%d" % (topic, partition), "*.log")))


def produce_each(broker, topic, n, size=1000, ts=None):
    """n records, one batch each."""
    items = [(0, b"k%d" % i, b"v" * size, None, ts) if ts else (0, b"k%d" % i, b"v" * size) for i in range(n)]
    return confluent_produce(broker, topic, items, **{"linger.ms": 0, "batch.num.messages": 1})


def earliest(broker, topic):
    err, _, off = d.list_offsets(broker.port, topic, 0, d.EARLIEST)
    assert err == 0, "ListOffsets earliest: error %d" % err
    return off


def raw_create_topics_v7(port, name, configs, validate_only=False):
    """CreateTopics v7 -> (error, message, {config: (value, read_only, source, sensitive)})."""
    cfg = lambda kv: compact_string(kv[0]) + compact_string(kv[1]) + TAGS_NONE  # noqa: E731
    topic = (compact_string(name) + int32(1) + int16(1) + compact_array([]) +
             compact_array(sorted(configs.items()), cfg) + TAGS_NONE)
    body = compact_array([topic]) + int32(10000) + int8(1 if validate_only else 0) + TAGS_NONE
    resp = raw_request(port, CREATE_TOPICS, 7, body, header_version=2, timeout=30)
    assert resp is not None, "broker closed the connection on CreateTopics"
    r = Reader(resp)
    r.int32()
    r.tagged_fields()
    r.int32()  # throttle

    def config(r):
        c = (r.compact_string(), r.compact_string(), r.bool(), r.int8(), r.bool())
        r.tagged_fields()
        return c

    def result(r):
        name = r.compact_string()
        r._take(16)  # topic id
        err, msg = r.int16(), r.compact_string()
        r.int32()
        r.int16()
        cfgs = r.compact_array(config)
        r.tagged_fields()
        return name, err, msg, cfgs
    (_n, err, msg, cfgs), = r.compact_array(result)
    return err, msg, {c[0]: c[1:] for c in cfgs or []}


class TestDynamicSegments(SharedBroker):
    overrides = STATIC

    def setUp(self):
        super().setUp()
        self.admin = kp_admin(self.broker)

    def tearDown(self):
        self.admin.close()

    def test_lowering_segment_bytes_rolls_a_live_topic(self):
        t = "dyn-segbytes"
        create_topic(self, self.broker, t)
        produce_each(self.broker, t, 10)
        self.assertEqual(segments(self.broker, t), 1)
        self.assertEqual(kp_alter(self.admin, TOPIC, t, {"segment.bytes": "4096"})[0], 0)
        produce_each(self.broker, t, 10)
        # ~1.1 KB batches: the full segment rolls at once, then every 3 batches.
        self.assertGreaterEqual(segments(self.broker, t), 4)
        # Deleted: back to the 1 GiB default, no more rolls.
        (err, msg, _t, _n), = raw_incremental_alter(self.broker.port, [(TOPIC, t, [("segment.bytes", DELETE, None)])])
        self.assertEqual(err, 0, msg)
        n = segments(self.broker, t)
        produce_each(self.broker, t, 10)
        self.assertEqual(segments(self.broker, t), n)

    def test_segment_bytes_at_default_broker_rolls_topics_without_their_own(self):
        t, own = "dyn-segbytes-default", "dyn-segbytes-own"
        create_topic(self, self.broker, t)
        create_topic(self, self.broker, own, configs={"segment.bytes": "1048576"})
        produce_each(self.broker, t, 5)
        port = self.broker.port
        (err, msg, _t, _n), = raw_incremental_alter(port, [(BROKER, "", [("log.segment.bytes", SET, "4096")])])
        self.assertEqual(err, 0, msg)
        try:
            produce_each(self.broker, t, 10)
            produce_each(self.broker, own, 10)
            self.assertGreaterEqual(segments(self.broker, t), 4)
            self.assertEqual(segments(self.broker, own), 1)
        finally:
            (err, msg, _t, _n), = raw_incremental_alter(port, [(BROKER, "", [("log.segment.bytes", DELETE, None)])])
            self.assertEqual(err, 0, msg)

    def test_segment_ms_rolls_a_live_topic(self):
        t = "dyn-segms"
        create_topic(self, self.broker, t)
        produce_each(self.broker, t, 1, size=100)
        time.sleep(0.5)
        produce_each(self.broker, t, 1, size=100)
        self.assertEqual(segments(self.broker, t), 1)
        self.assertEqual(kp_alter(self.admin, TOPIC, t, {"segment.ms": "300"})[0], 0)
        # The active segment is older than 300 ms: the next append rolls.
        produce_each(self.broker, t, 1, size=100)
        self.assertEqual(segments(self.broker, t), 2)
        deadline = time.monotonic() + 10
        while segments(self.broker, t) < 4 and time.monotonic() < deadline:
            time.sleep(0.35)
            produce_each(self.broker, t, 1, size=100)
        self.assertGreaterEqual(segments(self.broker, t), 4)

    def test_retention_ms_at_default_broker_applies_without_restart(self):
        t = "dyn-ret-default"
        create_topic(self, self.broker, t, configs={"segment.bytes": "4096"})
        old = int(time.time() * 1000) - 3600 * 1000
        produce_each(self.broker, t, 30, size=500, ts=old)
        produce_each(self.broker, t, 5, size=500)
        self.assertGreater(segments(self.broker, t), 3)
        time.sleep(1)  # five retention checks at 200 ms: the 7-day default keeps everything
        self.assertEqual(earliest(self.broker, t), 0)
        self.assertEqual(kp_alter(self.admin, BROKER, "", {"log.retention.ms": "60000"})[0], 0)
        try:
            d.wait_for(lambda: earliest(self.broker, t) >= 25, 15, "log start offset to advance by time")
            self.assertLessEqual(earliest(self.broker, t), 30)
        finally:
            self.assertEqual(kp_alter(self.admin, BROKER, "", {})[0], 0)


class TestCreateTopicsSources(SharedBroker):
    overrides = STATIC

    def check_against_describe(self, name, created):
        err, msg, described = raw_describe_configs_v4(self.broker.port, TOPIC, name, synonyms=False)
        self.assertEqual(err, 0, msg)
        self.assertEqual(set(created), set(described))
        for k, (value, read_only, source, sensitive) in created.items():
            e = described[k]
            self.assertEqual((value, read_only, source, sensitive),
                             (e["value"], e["read_only"], e["source"], e["sensitive"]), k)

    def test_create_topics_v7_reports_values_and_sources_like_describe_configs(self):
        port = self.broker.port
        (err, msg, _t, _n), = raw_incremental_alter(port, [(BROKER, "", [("message.max.bytes", SET, "2000000")])])
        self.assertEqual(err, 0, msg)
        try:
            for validate_only in (True, False):
                err, msg, cfg = raw_create_topics_v7(port, "dyn-create", {"retention.ms": "123456"}, validate_only)
                self.assertEqual(err, 0, msg)
                self.assertEqual(cfg["retention.ms"], ("123456", False, SRC_TOPIC, False))
                self.assertEqual(cfg["delete.retention.ms"], ("3600000", False, SRC_STATIC, False))
                self.assertEqual(cfg["max.message.bytes"], ("2000000", False, SRC_DEFAULT_BROKER, False))
                self.assertEqual(cfg["segment.bytes"], ("1073741824", False, SRC_DEFAULT, False))
                self.assertEqual(cfg["cleanup.policy"], ("delete", False, SRC_DEFAULT, False))
            d.wait_for(lambda: d.metadata(port, ["dyn-create"]).get("dyn-create") == (0, [0]), 10, "topic in metadata")
            self.check_against_describe("dyn-create", cfg)
        finally:
            (err, msg, _t, _n), = raw_incremental_alter(port, [(BROKER, "", [("message.max.bytes", DELETE, None)])])
            self.assertEqual(err, 0, msg)


if __name__ == "__main__":
    harness.main()
