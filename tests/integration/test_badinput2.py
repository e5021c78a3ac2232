"""
test_badinput2.py - the rows of RELIABILITY.md's bad-input table that
test_foundation.py / test_data.py do not cover yet, as raw-socket tests on one
real sluiced (docs/reliability.md maps every row to its test):
  over-long varints, null where not nullable, lengths < -1, millions of tagged
  fields and duplicate tags in a request header, an API not on this listener
  (Vote), slowloris plus 10k idle sockets while a normal client is served (RSS per
  hostile connection), snappy and lz4 compression bombs (gzip and zstd are in
  test_data.py), and max.connection.creation.rate measured from outside.

Run: /usr/bin/python3 tests/integration/test_badinput2.py [TestClass[.test_name]]
"""

import os
import resource
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataproto as d  # noqa: E402
import harness  # noqa: E402
from harness import (API_VERSIONS, METADATA, Broker, array, compact_string, connect, frame, int16, int32,  # noqa: E402
                     raw_request, recv_response, request_header, send_all, string, uvarint, wait_closed)

VOTE = 52
CREATE_TOPICS = 19


def _raise_nofile(need=12000):
    # before any broker starts, so sluiced inherits the limit too
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
        except (ValueError, OSError):
            pass


_raise_nofile()


def assert_served(test, b):
    err, keys = harness.api_versions(b.port, version=3)
    test.assertEqual(err, 0)
    test.assertIn(API_VERSIONS, keys)
    test.assertTrue(b.running(), "sluiced died:\n" + b.report())


class SharedBroker(unittest.TestCase):
    broker = None
    overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(cls.overrides, name=cls.__name__)

    @classmethod
    def tearDownClass(cls):
        cls.broker.cleanup()

    def setUp(self):
        if not self.broker.running():
            self.broker.start()

    def expect_close(self, payload, what):
        with connect(self.broker.port) as s:
            send_all(s, frame(payload))
            self.assertTrue(wait_closed(s, 10), "%s: connection still open after 10 s" % what)
        assert_served(self, self.broker)


def flex_header(api_key, version, tags=b"\x00", cid=7):
    """Request header v2: key, version, correlation id, client_id (int16 string), tags."""
    return int16(api_key) + int16(version) + int32(cid) + string("raw") + tags


class TestMalformedRequests(SharedBroker):
    def test_varint_longer_than_5_bytes_in_a_compact_string_length_closes(self):
        # ApiVersions v3 client_software_name: a 6-byte unsigned varint
        body = b"\x80\x80\x80\x80\x80\x01" + b"x" * 16
        self.expect_close(flex_header(API_VERSIONS, 3) + body, "6-byte varint")

    def test_varint_longer_than_10_bytes_in_the_tag_count_closes(self):
        self.expect_close(flex_header(API_VERSIONS, 3, tags=b"\xff" * 11 + b"\x01") + b"\x00" * 8,
                          "11-byte varint tag count")

    def test_null_topic_name_in_create_topics_closes(self):
        # CreateTopics v4: topics [name STRING (not nullable) ...]
        body = int32(1) + int16(-1) + int32(1) + int16(1) + int32(0) + int32(0) + int32(10000) + b"\x00"
        with connect(self.broker.port) as s:
            send_all(s, frame(request_header(CREATE_TOPICS, 4, 3) + body))
            resp = recv_response(s)
        self.assertIsNone(resp, "CreateTopics with a null (non-nullable) name was answered: %r" % (resp,))
        assert_served(self, self.broker)

    def test_array_length_minus_2_closes(self):
        self.assertIsNone(raw_request(self.broker.port, METADATA, 4, int32(-2) + b"\x00"))
        assert_served(self, self.broker)

    def test_string_length_minus_2_closes(self):
        self.assertIsNone(raw_request(self.broker.port, METADATA, 4, int32(1) + int16(-2) + b"\x00"))
        assert_served(self, self.broker)

    def test_client_id_length_minus_2_closes(self):
        payload = int16(API_VERSIONS) + int16(0) + int32(9) + int16(-2)
        with connect(self.broker.port) as s:
            send_all(s, frame(payload))
            self.assertIsNone(recv_response(s))
        assert_served(self, self.broker)

    def test_millions_of_tagged_fields_in_the_header_closes_at_once_without_allocating(self):
        pid = self.broker.proc.pid
        before = d.vm_kb(pid, "VmHWM")
        t0 = time.monotonic()
        # 5,000,000 tags announced, a few bytes present: capped by the bytes left
        self.expect_close(flex_header(API_VERSIONS, 3, tags=uvarint(5000000) + b"\x00\x00\x01\x00")
                          + compact_string("x") + compact_string("1") + b"\x00", "5M tags")
        self.assertLess(time.monotonic() - t0, 5)
        self.assertLess(d.vm_kb(pid, "VmHWM") - before, 16 << 10, "peak RSS grew on a 5M-tag header")

    def test_many_real_tagged_fields_in_a_frame_are_bounded(self):
        # 100k one-byte tags that do fit in the frame: answered or closed, bounded
        tags = uvarint(100000) + b"".join(uvarint(i) + b"\x00" for i in range(100000))
        pid = self.broker.proc.pid
        before = d.vm_kb(pid, "VmHWM")
        with connect(self.broker.port) as s:
            send_all(s, frame(flex_header(API_VERSIONS, 3, tags=tags) + compact_string("x") + compact_string("1")
                              + b"\x00"))
            recv_response(s)
        self.assertLess(d.vm_kb(pid, "VmHWM") - before, 64 << 10)
        assert_served(self, self.broker)

    def test_duplicate_tag_in_the_header_closes(self):
        tags = uvarint(2) + uvarint(5) + uvarint(1) + b"a" + uvarint(5) + uvarint(1) + b"b"
        self.expect_close(flex_header(API_VERSIONS, 3, tags=tags) + compact_string("x") + compact_string("1")
                          + b"\x00", "duplicate tag")

    def test_tags_out_of_order_in_the_header_close(self):
        tags = uvarint(2) + uvarint(6) + uvarint(0) + uvarint(5) + uvarint(0)
        self.expect_close(flex_header(API_VERSIONS, 3, tags=tags) + compact_string("x") + compact_string("1")
                          + b"\x00", "descending tags")

    def test_tag_size_beyond_the_frame_closes(self):
        tags = uvarint(1) + uvarint(0) + uvarint(1 << 20) + b"abc"
        self.expect_close(flex_header(API_VERSIONS, 3, tags=tags), "oversized tag")

    def test_vote_is_not_on_the_client_listener_and_closes(self):
        # Vote v0: cluster_id, topics [...]; whatever the body, it is a controller API
        body = string("c") + int32(0)
        self.assertIsNone(raw_request(self.broker.port, VOTE, 0, body))
        assert_served(self, self.broker)


class TestHostileCrowd(SharedBroker):
    overrides = {"connections.max.idle.ms": 600000}
    IDLE = int(os.environ.get("SLUICE_HALF_OPEN", "10000"))

    def test_slowloris_and_10k_idle_sockets_while_a_normal_client_is_served(self):
        n = min(self.IDLE, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 300)
        b = self.broker
        pid = b.proc.pid
        assert_served(self, b)
        rss0 = d.vm_kb(pid, "VmRSS")
        socks = []
        try:
            for i in range(n):
                s = socket.socket()
                s.settimeout(10)
                s.connect(("127.0.0.1", b.port))
                if i % 2:
                    s.send(b"\x00\x00")  # half a size prefix, then nothing
                socks.append(s)
            # slowloris: 100 connections dribbling one byte of a 1 MiB frame at a time
            loris = []
            for _ in range(100):
                s = socket.create_connection(("127.0.0.1", b.port), timeout=10)
                s.send(int32(1 << 20))
                loris.append(s)
            socks += loris
            t0 = time.monotonic()
            worst = 0
            while time.monotonic() - t0 < 3:
                for s in loris:
                    s.send(b"x")
                t1 = time.monotonic()
                assert_served(self, b)
                worst = max(worst, time.monotonic() - t1)
                time.sleep(0.2)
            rss1 = d.vm_kb(pid, "VmRSS")
            per = (rss1 - rss0) * 1024.0 / len(socks)
            print("\n%d hostile connections: broker RSS %d -> %d KiB (%.0f bytes each); worst ApiVersions %.3f s"
                  % (len(socks), rss0, rss1, per, worst), flush=True)
            self.assertGreaterEqual(n, 2000, "too few file descriptors to judge")
            self.assertLess(worst, 2.0)
            self.assertLess(per, 16 << 10, "%.0f bytes of RSS per hostile connection" % per)
        finally:
            for s in socks:
                s.close()
        assert_served(self, b)


# ---- compression bombs for the codecs test_data.py does not cover ----

BOMB = 256 << 20


def record_prefix(value_len):
    body_len = 1 + 1 + 1 + 1 + len(d.zigzag_varint(value_len)) + value_len + 1
    return (d.zigzag_varint(body_len) + b"\x00" + d.zigzag_varint(0) + d.zigzag_varint(0) + d.zigzag_varint(-1)
            + d.zigzag_varint(value_len))


def xxh32(data, seed=0):
    p1, p2, p3, p4, p5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
    m = 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & m
    assert len(data) < 16
    h = (seed + p5 + len(data)) & m
    i = 0
    while i + 4 <= len(data):
        h = (h + struct.unpack("<I", data[i:i + 4])[0] * p3) & m
        h = (rotl(h, 17) * p4) & m
        i += 4
    for c in data[i:]:
        h = (h + c * p5) & m
        h = (rotl(h, 11) * p1) & m
    h ^= h >> 15
    h = (h * p2) & m
    h ^= h >> 13
    h = (h * p3) & m
    h ^= h >> 16
    return h


def lz4_frame(blocks):
    """An LZ4 frame: independent blocks, 4 MiB max, no checksums; blocks are
    (raw bytes, stored uncompressed) or lz4 block bytes."""
    flg, bd = 0x60, 0x70
    out = struct.pack("<I", 0x184D2204) + bytes([flg, bd, (xxh32(bytes([flg, bd])) >> 8) & 0xFF])
    for kind, data in blocks:
        size = len(data) | (0x80000000 if kind == "raw" else 0)
        out += struct.pack("<I", size) + data
    return out + b"\x00\x00\x00\x00"


def lz4_honest(area):
    return lz4_frame([("raw", area)])


def lz4_rle_block(ext):
    # one zero literal, then a match at offset 1 of 4 + 15 + 255 * ext bytes, then 5 literals
    return b"\x1f\x00\x01\x00" + b"\xff" * ext + b"\x00" + b"\x50" + b"\x00" * 5


def lz4_bomb():
    ext = 16000
    per = 1 + 4 + 15 + 255 * ext + 5
    nblk = BOMB // per
    return lz4_frame([("raw", record_prefix(nblk * per))] + [("lz4", lz4_rle_block(ext))] * nblk)


def snappy_raw(area):
    n = len(area)
    assert 0 < n <= 256
    lit = bytes([((n - 1) << 2) if n <= 60 else 60 << 2]) + (bytes([n - 1]) if n > 60 else b"")
    return uvarint(n) + lit + area


def snappy_bomb():
    # raw snappy declaring 256 MiB; copy-2 ops (64 bytes at offset 1) fill 1 MiB of input
    prefix = record_prefix(BOMB)
    ops = b"\xfe\x01\x00" * ((1000 << 10) // 3)
    return uvarint(BOMB + len(prefix)) + bytes([(len(prefix) - 1) << 2]) + prefix + ops


class TestCompressionBombs(SharedBroker):
    T = "bombs"

    def setUp(self):
        super().setUp()
        if not getattr(type(self), "_made", False):
            res = d.create_topics(self.broker.port, [(self.T, 1, 1, {})])
            self.assertEqual(res[self.T][0], 0)
            d.wait_for(lambda: d.metadata(self.broker.port, [self.T]).get(self.T) == (0, [0]), 10, "topic")
            type(self)._made = True

    def latest(self):
        return d.list_offsets(self.broker.port, self.T, 0)[2]

    def check(self, codec_id, name, honest_fn, bomb_area):
        end = self.latest()
        honest = d.encode_batch([(b"k", b"honest " + name.encode())], attributes=codec_id, compress=honest_fn)
        err, base, msg = d.produce(self.broker.port, self.T, 0, honest)
        self.assertEqual((err, base), (0, end), "honest %s batch: %r" % (name, msg))
        pid = self.broker.proc.pid
        hwm = d.vm_kb(pid, "VmHWM")
        bomb = d.encode_batch([(None, None)], attributes=codec_id, raw_records=bomb_area)
        self.assertLess(len(bomb), 1048588)
        t0 = time.monotonic()
        res = d.produce(self.broker.port, self.T, 0, bomb)
        self.assertIsNotNone(res, "%s bomb: connection closed" % name)
        self.assertIn(res[0], (d.CORRUPT_MESSAGE, d.MESSAGE_TOO_LARGE, d.INVALID_RECORD),
                      "%s bomb: %r" % (name, res))
        grown = (d.vm_kb(pid, "VmHWM") - hwm) / 1024
        print("\n%s bomb (%d bytes): error %d in %.2f s, peak RSS +%.0f MiB"
              % (name, len(bomb), res[0], time.monotonic() - t0, grown), flush=True)
        self.assertLess(grown, 128)
        self.assertEqual(self.latest(), end + 1)
        assert_served(self, self.broker)

    def test_lz4_compression_bomb_is_rejected_with_bounded_rss(self):
        self.check(3, "lz4", lz4_honest, lz4_bomb())

    def test_snappy_compression_bomb_is_rejected_with_bounded_rss(self):
        self.check(2, "snappy", snappy_raw, snappy_bomb())


class TestConnectionCreationRate(unittest.TestCase):
    """max.connection.creation.rate: connections over the rate wait (accepts
    are throttled), none is refused; the accepted rate is measured from outside."""

    RATE = 20
    N = 60

    def test_connections_faster_than_the_rate_are_throttled_not_refused(self):
        b = Broker({"max.connection.creation.rate": self.RATE}, name="conn-rate")
        self.addCleanup(b.cleanup)
        b.start()
        time.sleep(1.1)  # the start's own connections (none) and a full burst credit
        socks, served = [], []
        t0 = time.monotonic()
        try:
            for i in range(self.N):
                s = socket.create_connection(("127.0.0.1", b.port), timeout=15)
                s.settimeout(15)
                s.sendall(frame(request_header(API_VERSIONS, 0, i + 1)))
                socks.append(s)
            for s in socks:
                resp = recv_response(s)
                self.assertIsNotNone(resp, "a connection over the rate was refused or closed")
                served.append(time.monotonic() - t0)
        finally:
            for s in socks:
                s.close()
        served.sort()
        over = served[self.RATE:]
        rate = (len(over) - 1) / (over[-1] - over[0]) if len(over) > 1 else 0
        print("\n%d connections opened at once: first %d served within %.2f s, the rest at %.1f/s (limit %d/s); "
              "last at %.2f s" % (self.N, self.RATE, served[self.RATE - 1], rate, self.RATE, served[-1]),
              flush=True)
        self.assertLess(served[self.RATE - 1], 1.0, "the one-second burst was not served at once")
        self.assertLess(rate, self.RATE * 1.25)
        self.assertGreater(rate, self.RATE * 0.6)
        self.assertGreaterEqual(served[-1], (self.N - self.RATE) / self.RATE * 0.9)


if __name__ == "__main__":
    harness.main()
