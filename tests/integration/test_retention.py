"""
test_retention.py - data kept exactly as long as configured, end to end with
real clients against real sluiced processes: retention by time and by size
(consumers from the beginning start at the new log start, below it
OFFSET_OUT_OF_RANGE), log start offsets across restarts (the checkpoint
files), log compaction (latest value per key, tombstones, offsets kept, kill
-9 while cleaning), broker-side recompression (compression.type) and keyless
records refused by compacted topics.

Every wait is a bounded condition loop; the broker runs with short
log.retention.check.interval.ms and log.cleaner.backoff.ms.

Run: /usr/bin/python3 tests/integration/test_retention.py [TestClass[.test_name]]
"""

import os
import random
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataproto as d  # noqa: E402
import harness  # noqa: E402
from harness import Broker  # noqa: E402
from test_data import confluent_produce, confluent_read, create_topic, SharedBroker  # noqa: E402

OVERRIDES = {"log.retention.check.interval.ms": "200", "log.cleaner.backoff.ms": "200"}
OFFSET_OUT_OF_RANGE = 1
INVALID_RECORD = 87


def earliest(broker, topic, partition=0):
    err, _, off = d.list_offsets(broker.port, topic, partition, d.EARLIEST)
    assert err == 0, "ListOffsets earliest: error %d" % err
    return off


def latest(broker, topic, partition=0):
    err, _, off = d.list_offsets(broker.port, topic, partition, d.LATEST)
    assert err == 0, "ListOffsets latest: error %d" % err
    return off


def checkpoint(broker, name):
    """{(topic, partition): offset} of a log-dir checkpoint file."""
    out = {}
    with open(os.path.join(broker.data_dir, name)) as f:
        lines = f.read().split("\n")
    assert lines[0] == "0", lines[:2]
    for line in lines[2:2 + int(lines[1])]:
        t, p, o = line.split(" ")
        out[(t, int(p))] = int(o)
    return out


class Retention(SharedBroker):
    overrides = OVERRIDES

    def test_retention_by_time_consumer_from_beginning_starts_at_new_log_start(self):
        t = "ret-time"
        create_topic(self, self.broker, t, configs={"retention.ms": "60000", "segment.bytes": "4096"})
        old = int(time.time() * 1000) - 3600 * 1000
        value = b"x" * 500
        # An hour old: expired as soon as their segments are closed.
        confluent_produce(self.broker, t, [(0, b"old-%d" % i, value, None, old + i) for i in range(60)])
        fresh = confluent_produce(self.broker, t, [(0, b"new-%d" % i, value) for i in range(20)])
        first_new = fresh[0][1]
        end = latest(self.broker, t)
        d.wait_for(lambda: earliest(self.broker, t) > 0, 15, "log start offset to advance by time")
        start = earliest(self.broker, t)
        # Whole segments go: the one holding the first new record stays.
        self.assertLessEqual(start, first_new)
        self.assertGreater(start, first_new - 10)
        err, _, _ = d.fetch(self.broker.port, t, 0, start - 1)
        self.assertEqual(err, OFFSET_OUT_OF_RANGE)
        got = confluent_read(self.broker, t, {0: end})[0]
        self.assertEqual(got[0][0], start)
        self.assertEqual([o for o, *_ in got], list(range(start, end)))
        self.assertEqual([k for _, k, *_ in got if k.startswith(b"new-")], [b"new-%d" % i for i in range(20)])

    def test_retention_by_time_removes_an_expired_active_segment(self):
        t = "ret-time-all"
        create_topic(self, self.broker, t, configs={"retention.ms": "1000"})
        confluent_produce(self.broker, t, [(0, b"k", b"v%d" % i) for i in range(30)])
        d.wait_for(lambda: earliest(self.broker, t) == 30, 15, "the whole log to expire")
        self.assertEqual(latest(self.broker, t), 30)
        # Keep what comes next: with retention.ms=1000 a slow consumer could
        # otherwise find the new record expired before it reads it.
        from confluent_kafka.admin import AdminClient, ConfigResource
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        res = ConfigResource(ConfigResource.Type.TOPIC, t, set_config={"retention.ms": "3600000"})
        for f in admin.alter_configs([res]).values():
            f.result(timeout=15)
        rep = confluent_produce(self.broker, t, [(0, b"k", b"after")])
        self.assertEqual(rep[0][1], 30)
        got = confluent_read(self.broker, t, {0: 31})[0]
        self.assertEqual([(o, v) for o, _, v, _, _ in got], [(30, b"after")])

    def test_retention_by_bytes(self):
        t = "ret-bytes"
        create_topic(self, self.broker, t, configs={"retention.bytes": "20000", "segment.bytes": "4096"})
        reps = confluent_produce(self.broker, t, [(0, b"k%d" % i, b"y" * 1000) for i in range(100)],
                                 **{"linger.ms": 0, "batch.num.messages": 1})
        end = reps[-1][1] + 1
        d.wait_for(lambda: earliest(self.broker, t) > 50, 15, "log start offset to advance by size")
        start = earliest(self.broker, t)
        # ~20 KB kept of ~110 KB: between 20000 bytes and one segment more.
        self.assertGreater(end - start, 15)
        self.assertLess(end - start, 24)
        err, _, _ = d.fetch(self.broker.port, t, 0, start - 1)
        self.assertEqual(err, OFFSET_OUT_OF_RANGE)
        got = confluent_read(self.broker, t, {0: end})[0]
        self.assertEqual([o for o, *_ in got], list(range(start, end)))


class StartOffsetPersistence(unittest.TestCase):
    def test_log_start_and_recovery_point_survive_restarts(self):
        with Broker(OVERRIDES, name="ckpt") as b:
            t = "ckpt-topic"
            create_topic(self, b, t, configs={"retention.bytes": "10000", "segment.bytes": "3000"})
            confluent_produce(b, t, [(0, b"k", b"z" * 700) for _ in range(60)],
                              **{"linger.ms": 0, "batch.num.messages": 1})
            # Retention deletes the oldest segment while the rest still holds
            # retention.bytes; wait until it has nothing left to delete, so the
            # log start compared across the restarts below is final.
            pdir = os.path.join(b.data_dir, t + "-0")

            def retention_done():
                logs = sorted(f for f in os.listdir(pdir) if f.endswith(".log"))
                sizes = [os.path.getsize(os.path.join(pdir, f)) for f in logs]
                return earliest(b, t) > 0 and sum(sizes) - sizes[0] < 10000

            d.wait_for(retention_done, 15, "retention to advance the log start as far as it goes")
            start = earliest(b, t)
            b.restart()
            self.assertEqual(checkpoint(b, "log-start-offset-checkpoint")[(t, 0)], start)
            self.assertEqual(checkpoint(b, "recovery-point-offset-checkpoint")[(t, 0)], 60)
            self.assertEqual(earliest(b, t), start)
            self.assertEqual(latest(b, t), 60)
            self.assertNotIn("torn or corrupt", b.stderr_text())
            b.kill9()
            b.start()
            self.assertEqual(earliest(b, t), start)
            self.assertEqual(latest(b, t), 60)
            got = confluent_read(b, t, {0: 60})[0]
            self.assertEqual(got[0][0], start)


N_KEYS = 1000
N_RECORDS = 100000


def compaction_items():
    """N_RECORDS updates over N_KEYS keys; the last update of every 10th key
    is a tombstone. Returns (items, expected {key: value or None})."""
    items, expect = [], {}
    for i in range(N_RECORDS):
        k = i % N_KEYS
        last_round = i >= N_RECORDS - N_KEYS
        v = None if (last_round and k % 10 == 0) else b"v-%d-%d" % (k, i)
        key = b"key-%04d" % k
        items.append((0, key, v))
        expect[key] = v
    return items, expect


def cleaned_up_to(broker, topic):
    """The end of the last cleaned range logged for topic-0, -1 if none."""
    ends = [int(m) for m in re.findall(r"cleaned %s-0 \[\d+, (\d+)\)" % re.escape(topic), broker.stderr_text())]
    return max(ends) if ends else -1


def read_all(test, broker, topic, end):
    got = confluent_read(broker, topic, {0: end}, timeout=120)[0]
    offsets = [o for o, *_ in got]
    test.assertEqual(offsets, sorted(set(offsets)), "offsets strictly increase")
    return got


class Compaction(SharedBroker):
    overrides = dict(OVERRIDES)

    def compacted_topic(self, name, **extra):
        configs = {"cleanup.policy": "compact", "segment.bytes": "262144", "segment.ms": "1000",
                   "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "0"}
        configs.update(extra)
        create_topic(self, self.broker, name, configs=configs)

    def roll_with_sentinel(self, topic):
        # segment.ms passes, then one more record rolls the segment holding the data.
        time.sleep(1.2)
        return confluent_produce(self.broker, topic, [(0, b"zz-sentinel", b"s")])[0][1]

    def test_latest_value_per_key_tombstones_removed_offsets_kept(self):
        t = "compact-100k"
        self.compacted_topic(t)
        items, expect = compaction_items()
        reps = confluent_produce(self.broker, t, items, timeout=180, **{"compression.type": "lz4"})
        want_off = {}
        for (p, key, v), (_, off) in zip(items, reps):
            want_off[key] = off
        sentinel = self.roll_with_sentinel(t)
        d.wait_for(lambda: cleaned_up_to(self.broker, t) >= sentinel, 60, "the cleaner to reach the sentinel")
        got = read_all(self, self.broker, t, sentinel + 1)
        live = {k: v for k, v in expect.items() if v is not None}
        data = [(o, k, v) for o, k, v, _, _ in got if k != b"zz-sentinel"]
        self.assertEqual(len(data), len(live), "exactly one record per live key")
        self.assertEqual({k: v for _, k, v in data}, live)
        for o, k, _ in data:
            self.assertEqual(o, want_off[k], "offset of %r kept" % k)
        self.assertEqual(got[-1][0], sentinel)
        self.assertEqual(earliest(self.broker, t), 0)

    def test_record_without_key_is_invalid_record(self):
        t = "compact-nokey"
        self.compacted_topic(t)
        res = d.produce(self.broker.port, t, 0, d.encode_batch([(None, b"no key")]))
        self.assertEqual(res[0], INVALID_RECORD)
        res = d.produce(self.broker.port, t, 0, d.encode_batch([(b"k", b"v"), (None, b"no key")]))
        self.assertEqual(res[0], INVALID_RECORD)
        res = d.produce(self.broker.port, t, 0, d.encode_batch([(b"k", b"v")]))
        self.assertEqual(res[0], 0)
        # Compressed too (the check looks inside).
        res = d.produce(self.broker.port, t, 0, d.encode_batch([(None, b"z")], attributes=1,
                                                                compress=d.gzip_compress))
        self.assertEqual(res[0], INVALID_RECORD)


class CompactionCrash(unittest.TestCase):
    def test_kill9_during_cleaning_leaves_a_consistent_log(self):
        """The topic is filled under cleanup.policy=delete, then switched to
        compact; the broker is killed -9 the moment a cleaner file (.cleaned,
        .swap, .deleted) shows in the partition directory, several times;
        after each restart every key's latest value must still be there."""
        from confluent_kafka.admin import AdminClient, ConfigResource
        compact = {"cleanup.policy": "compact", "segment.bytes": "65536", "min.cleanable.dirty.ratio": "0.01",
                   "delete.retention.ms": "0"}
        with Broker(OVERRIDES, name="compact-crash") as b:
            t = "compact-crash"
            create_topic(self, b, t, configs=dict(compact, **{"cleanup.policy": "delete"}))
            pad = b"p" * 150
            items = [(0, b"key-%04d" % (i % N_KEYS), None if (i >= 59000 and i % 10 == 0) else b"v-%d-" % i + pad)
                     for i in range(60000)]
            reps = confluent_produce(b, t, items, timeout=180, **{"compression.type": "gzip"})
            # One more record rolls the last data segment (segment.ms).
            admin = AdminClient({"bootstrap.servers": b.bootstrap})
            admin.alter_configs([ConfigResource("topic", t, set_config=dict(compact, **{"segment.ms": "500"}))])[
                ConfigResource("topic", t)].result(timeout=30)
            del admin
            time.sleep(0.7)
            end = confluent_produce(b, t, [(0, b"zz-sentinel", b"s")])[0][1] + 1
            self.assertEqual(end, reps[-1][1] + 2)
            expect = {}
            for (_, k, v), (_, off) in zip(items, reps):
                expect[k] = (off, v)
            expect[b"zz-sentinel"] = (end - 1, b"s")
            pdir = os.path.join(b.data_dir, t + "-0")
            kills = 0
            for i in range(3):
                deadline = time.monotonic() + (20 if i == 0 else 5)
                hit = False
                while time.monotonic() < deadline and not hit:
                    try:
                        hit = any(f.endswith((".cleaned", ".swap", ".deleted")) for f in os.listdir(pdir))
                    except FileNotFoundError:
                        pass
                if not hit:
                    break
                b.kill9()
                kills += 1
                b.start()
                self.check_latest(b, t, end, expect)
            self.assertGreaterEqual(kills, 1, "no cleaning was caught in the act")
            d.wait_for(lambda: cleaned_up_to(b, t) >= end - 1, 60, "a complete cleaning after the kills")
            b.restart()
            got = self.check_latest(b, t, end, expect)
            self.assertEqual(len(got), len([v for _, v in expect.values() if v is not None]))
            leftovers = [f for f in os.listdir(pdir) if f.endswith((".cleaned", ".swap", ".deleted"))]
            self.assertEqual(leftovers, [])

    def check_latest(self, b, t, end, expect):
        """Every key's latest record is readable at its offset (older ones may remain)."""
        self.assertEqual(latest(b, t), end)
        got = read_all(self, b, t, end)
        last = {}
        for o, k, v, _, _ in got:
            last[k] = (o, v)
        live = {k: ov for k, ov in expect.items() if ov[1] is not None}
        self.assertEqual({k: ov for k, ov in last.items() if ov[1] is not None}, live)
        return got


class Recompression(SharedBroker):
    overrides = OVERRIDES

    def test_zstd_topic_converts_gzip_and_uncompressed_batches(self):
        t = "recompress-zstd"
        create_topic(self, self.broker, t, configs={"compression.type": "zstd"})
        recs_a = [(b"a%d" % i, b"gzip-value-%d" % i * 3, [(b"h", b"%d" % i)]) for i in range(50)]
        recs_b = [(b"b%d" % i, None if i == 3 else b"plain-%d" % i) for i in range(10)]
        ts = int(time.time() * 1000) - 5000
        res = d.produce(self.broker.port, t, 0, d.encode_batch(recs_a, attributes=1, base_ts=ts,
                                                                compress=d.gzip_compress,
                                                                producer_id=-1))
        self.assertEqual(res[0], 0)
        res = d.produce(self.broker.port, t, 0, d.encode_batch(recs_b, base_ts=ts + 1))
        self.assertEqual(res[0], 0)
        # A producer-side lz4 batch from librdkafka too.
        confluent_produce(self.broker, t, [(0, b"c%d" % i, b"lz4-%d" % i) for i in range(20)],
                          **{"compression.type": "lz4"})
        err, hw, data = d.fetch(self.broker.port, t, 0, 0)
        self.assertEqual(err, 0)
        batches = list(d.iter_batches(data))
        self.assertGreaterEqual(len(batches), 3)
        for base, _, count, raw in batches:
            attrs = int.from_bytes(raw[21:23], "big")
            self.assertEqual(attrs & 7, 4, "batch at %d is zstd" % base)
            self.assertEqual(int.from_bytes(raw[17:21], "big"), d.crc32c(raw[21:]))
        self.assertEqual([(b, c) for b, _, c, _ in batches[:2]], [(0, 50), (50, 10)])
        got = confluent_read(self.broker, t, {0: hw})[0]
        self.assertEqual([(o, k, v) for o, k, v, _, _ in got[:60]],
                         [(i, k, v) for i, (k, v, *_) in enumerate(recs_a + recs_b)])
        self.assertEqual(got[5][3], [("h", b"5")])
        self.assertEqual(got[0][4], ts)
        self.assertEqual([v for _, _, v, _, _ in got[60:]], [b"lz4-%d" % i for i in range(20)])

    def test_producer_topic_stores_batches_byte_for_byte(self):
        t = "recompress-producer"
        create_topic(self, self.broker, t)
        batch = d.encode_batch([(b"k", b"v" * 100)] * 5, attributes=1, compress=d.gzip_compress)
        self.assertEqual(d.produce(self.broker.port, t, 0, batch)[0], 0)
        err, _, data = d.fetch(self.broker.port, t, 0, 0)
        raw = list(d.iter_batches(data))[0][3]
        # Only baseOffset and partitionLeaderEpoch may differ.
        self.assertEqual(raw[16:], batch[16:])


if __name__ == "__main__":
    harness.main()
