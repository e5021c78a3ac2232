"""
dataproto.py - hand-encoded data-path requests for the integration tests: record
batch v2 (with a pure-Python CRC32C), Produce v8, Fetch v4, ListOffsets v4,
CreateTopics v4 and Metadata v4, each over harness.raw_request. Used where a test
needs an exact error code or a batch no real client would send.

All encoders follow Apache Kafka's message definitions
(shared/kafka-protocol/message/*.json) at the versions named; none of these
versions is flexible, so requests use header v1 and responses header v0.
"""

import os
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Reader, array, int8, int16, int32, int64, raw_request, string  # noqa: E402

PRODUCE, FETCH, LIST_OFFSETS, METADATA, CREATE_TOPICS, DELETE_TOPICS = 0, 1, 2, 3, 19, 20
FIND_COORDINATOR, INIT_PRODUCER_ID = 10, 22

# Kafka error codes (shared/kafka-protocol/errors.tsv)
NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
LEADER_NOT_AVAILABLE = 5
MESSAGE_TOO_LARGE = 10
INVALID_TOPIC_EXCEPTION = 17
RECORD_LIST_TOO_LARGE = 18
INVALID_REQUIRED_ACKS = 21
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
INVALID_CONFIG = 40
KAFKA_STORAGE_ERROR = 56
UNSUPPORTED_COMPRESSION_TYPE = 76
INVALID_RECORD = 87

CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD = 0, 1, 2, 3, 4

# ---- CRC32C (Castagnoli, reflected polynomial 0x82F63B78) ----

_CRC32C_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _CRC32C_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value

# ---- record batch v2 ----


def zigzag_varint(v):
    return harness.uvarint((v << 1) ^ (v >> 63))


def _bytes_field(b):
    if b is None:
        return zigzag_varint(-1)
    return zigzag_varint(len(b)) + b


def encode_record(offset_delta, key, value, headers=(), ts_delta=0):
    body = int8(0) + zigzag_varint(ts_delta) + zigzag_varint(offset_delta)
    body += _bytes_field(key) + _bytes_field(value)
    body += zigzag_varint(len(headers))
    for hk, hv in headers:
        body += _bytes_field(hk) + _bytes_field(hv)
    return zigzag_varint(len(body)) + body


def encode_batch(records, attributes=0, base_ts=None, magic=2, records_count=None, last_offset_delta=None,
                 raw_records=None, fix_crc=True, producer_id=-1, producer_epoch=-1, base_sequence=-1,
                 compress=None):
    """records: [(key, value)] or [(key, value, headers)]; values as bytes or None.
    raw_records replaces the encoded (and possibly compressed) records area.
    compress: a function applied to the encoded records area (attributes must name
    the codec)."""
    if base_ts is None:
        base_ts = int(time.time() * 1000)
    if raw_records is None:
        area = b"".join(encode_record(i, r[0], r[1], r[2] if len(r) > 2 else ()) for i, r in enumerate(records))
        if compress:
            area = compress(area)
    else:
        area = raw_records
    n = len(records) if records_count is None else records_count
    lod = (len(records) - 1) if last_offset_delta is None else last_offset_delta
    after_crc = (int16(attributes) + int32(lod) + int64(base_ts) + int64(base_ts) + int64(producer_id)
                 + int16(producer_epoch) + int32(base_sequence) + int32(n) + area)
    crc = crc32c(after_crc) if fix_crc else 0
    after_len = int32(-1) + int8(magic) + struct.pack(">I", crc) + after_crc
    return int64(0) + int32(len(after_len)) + after_len


def batch_with_crc(batch, crc):
    return batch[:17] + struct.pack(">I", crc) + batch[21:]


def gzip_compress(data):
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


# ---- Produce v8 ----


def produce_body(topic, partition_records, acks=-1, timeout_ms=10000, transactional_id=None):
    """partition_records: [(partition, records bytes or None)]."""
    parts = b"".join(int32(p) + (int32(-1) if rec is None else int32(len(rec)) + rec)
                     for p, rec in partition_records)
    return (string(transactional_id) + int16(acks) + int32(timeout_ms)
            + int32(1) + string(topic) + int32(len(partition_records)) + parts)


def parse_produce_v8(resp):
    """{(topic, partition): (error, base_offset, error_message)}"""
    r = Reader(resp)
    r.int32()
    out = {}

    def part(r, topic):
        idx = r.int32()
        err = r.int16()
        base = r.int64()
        r.int64()  # log_append_time
        r.int64()  # log_start_offset
        r.array(lambda r: (r.int32(), r.string()))
        msg = r.string()
        out[(topic, idx)] = (err, base, msg)

    def topic(r):
        name = r.string()
        r.array(lambda r: part(r, name))

    r.array(topic)
    r.int32()  # throttle
    return out


def produce(port, topic, partition, records, acks=-1, timeout_ms=10000, version=8, sock_timeout=30):
    """One Produce v8 of one partition's records bytes; (error, base_offset, message),
    or None if the broker closed the connection."""
    resp = raw_request(port, PRODUCE, version, produce_body(topic, [(partition, records)], acks, timeout_ms),
                       timeout=sock_timeout)
    if resp is None:
        return None
    return parse_produce_v8(resp)[(topic, partition)]


# ---- ListOffsets v4 ----

LATEST, EARLIEST = -1, -2


def list_offsets(port, topic, partition, timestamp=LATEST):
    """(error, timestamp, offset)"""
    body = (int32(-1) + int8(0) + int32(1) + string(topic) + int32(1)
            + int32(partition) + int32(-1) + int64(timestamp))
    resp = raw_request(port, LIST_OFFSETS, 4, body)
    if resp is None:
        raise AssertionError("broker closed the connection on ListOffsets")
    r = Reader(resp)
    r.int32()
    r.int32()  # throttle
    res = []
    r.array(lambda r: (r.string(), r.array(lambda r: res.append((r.int32(), r.int16(), r.int64(), r.int64(),
                                                                 r.int32())))))
    _, err, ts, off, _ = res[0]
    return err, ts, off


# ---- Fetch v4 ----


def fetch_body(topic, partition, offset, max_wait_ms=0, min_bytes=1, max_bytes=52428800,
               partition_max_bytes=1048576):
    return (int32(-1) + int32(max_wait_ms) + int32(min_bytes) + int32(max_bytes) + int8(0)
            + int32(1) + string(topic) + int32(1) + int32(partition) + int64(offset) + int32(partition_max_bytes))


def fetch(port, topic, partition, offset, timeout=30, **kw):
    """(error, high_watermark, records bytes or None)"""
    resp = raw_request(port, FETCH, 4, fetch_body(topic, partition, offset, **kw), timeout=timeout)
    if resp is None:
        raise AssertionError("broker closed the connection on Fetch")
    r = Reader(resp)
    r.int32()
    r.int32()  # throttle
    res = []

    def part(r):
        idx, err, hw = r.int32(), r.int16(), r.int64()
        r.int64()  # last_stable_offset
        r.array(lambda r: (r.int64(), r.int64()))
        n = r.int32()
        recs = None if n < 0 else r._take(n)
        res.append((idx, err, hw, recs))

    r.array(lambda r: (r.string(), r.array(part)))
    _, err, hw, recs = res[0]
    return err, hw, recs


def iter_batches(data):
    """(base_offset, batch_length, records_count, raw batch) for each whole batch."""
    pos = 0
    while data and pos + 61 <= len(data):
        base, blen = struct.unpack(">qi", data[pos:pos + 12])
        if pos + 12 + blen > len(data):
            return
        count = struct.unpack(">i", data[pos + 57:pos + 61])[0]
        yield base, blen, count, data[pos:pos + 12 + blen]
        pos += 12 + blen


# ---- CreateTopics v4 / Metadata v4 ----


def create_topics(port, topics, validate_only=False, timeout_ms=10000, version=4):
    """topics: [(name, partitions, replication_factor, {config: value})];
    returns {name: (error, message)}."""
    def topic(t):
        name, parts, rf = t[0], t[1], t[2]
        cfg = t[3] if len(t) > 3 else {}
        return (string(name) + int32(parts) + int16(rf) + int32(0)
                + array(sorted(cfg.items()), lambda kv: string(kv[0]) + string(kv[1])))
    body = array(topics, topic) + int32(timeout_ms) + int8(1 if validate_only else 0)
    resp = raw_request(port, CREATE_TOPICS, version, body, timeout=30)
    if resp is None:
        raise AssertionError("broker closed the connection on CreateTopics")
    r = Reader(resp)
    r.int32()
    r.int32()  # throttle
    out = {}
    r.array(lambda r: out.__setitem__(r.string(), (r.int16(), r.string())))
    return out


def metadata(port, topics, allow_auto_create=False):
    """Metadata v4: {topic: (error, [partition index])}"""
    body = array(topics, string) + int8(1 if allow_auto_create else 0)
    resp = raw_request(port, METADATA, 4, body)
    if resp is None:
        raise AssertionError("broker closed the connection on Metadata")
    r = Reader(resp)
    r.int32()
    r.int32()  # throttle
    r.array(lambda r: (r.int32(), r.string(), r.int32(), r.string()))
    r.string()  # cluster id
    r.int32()  # controller
    out = {}

    def part(r):
        r.int16()  # error
        idx = r.int32()
        r.int32()  # leader
        r.array(lambda r: r.int32())
        r.array(lambda r: r.int32())
        return idx

    def topic(r):
        err, name = r.int16(), r.string()
        r.bool()  # is_internal
        out[name] = (err, sorted(r.array(part) or []))

    r.array(topic)
    return out


def wait_for(cond, timeout, what, interval=0.05):
    """Polls cond() until it returns a true value (returned) or timeout seconds pass
    (AssertionError naming what)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s (last: %r)" % (timeout, what, last))


def vm_kb(pid, field):
    """VmRSS / VmHWM of a process in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))
