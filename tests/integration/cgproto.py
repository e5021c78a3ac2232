"""
cgproto.py - hand-encoded KIP-848 requests for the integration tests:
ConsumerGroupHeartbeat v0-v1 and ConsumerGroupDescribe v0 (flexible: request
header v2, response header v1), plus OffsetFetch v9 for a group's committed
offsets. No Debian client speaks the consumer protocol yet, so the tests drive
it over harness.raw_request. Encoders follow Kafka's message JSON
(shared/kafka-protocol/message/ConsumerGroup*.json).

Topic ids are opaque 16-byte strings as the broker returns them; an
assignment is {topic_id: [partitions]}.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reader, compact_array, compact_string, int8, int16, int32, int64, raw_request, uvarint  # noqa: E402

CONSUMER_GROUP_HEARTBEAT, CONSUMER_GROUP_DESCRIBE, OFFSET_COMMIT, OFFSET_FETCH = 68, 69, 8, 9
LIST_GROUPS, DESCRIBE_GROUPS = 16, 15
TAGS = b"\x00"

INVALID_REQUEST, UNKNOWN_MEMBER_ID, GROUP_ID_NOT_FOUND = 42, 25, 69
INCONSISTENT_GROUP_PROTOCOL = 23
FENCED_MEMBER_EPOCH, UNRELEASED_INSTANCE_ID, UNSUPPORTED_ASSIGNOR, STALE_MEMBER_EPOCH = 110, 111, 112, 113


def _header_tags(resp):
    r = Reader(resp)
    r.int32()  # correlation id
    r.tagged_fields()
    return r


def _tp(topic_id, parts):
    return topic_id + compact_array(parts, int32) + TAGS


def heartbeat(port, group, member="", epoch=0, topics=None, regex=None, assignor=None, owned=None,
              rebalance_ms=-1, instance=None, rack=None, version=1):
    """owned: {topic_id: [partitions]} or None (not sent). Returns a dict with
    error, message, member, epoch, interval, assignment ({topic_id: [p]} or None)."""
    body = (compact_string(group) + compact_string(member) + int32(epoch) + compact_string(instance)
            + compact_string(rack) + int32(rebalance_ms) + compact_array(topics, compact_string))
    if version >= 1:
        body += compact_string(regex)
    body += compact_string(assignor)
    body += compact_array(None if owned is None else sorted(owned.items()), lambda kv: _tp(kv[0], kv[1]))
    body += TAGS
    resp = raw_request(port, CONSUMER_GROUP_HEARTBEAT, version, body, header_version=2)
    if resp is None:
        raise AssertionError("broker closed the connection on ConsumerGroupHeartbeat")
    r = _header_tags(resp)
    out = {}
    r.int32()  # throttle
    out["error"] = r.int16()
    out["message"] = r.compact_string()
    out["member"] = r.compact_string()
    out["epoch"] = r.int32()
    out["interval"] = r.int32()
    out["assignment"] = None
    if r.int8() >= 0:
        asg = {}

        def tp(r):
            tid = r.data[r.pos:r.pos + 16]
            r.pos += 16
            asg[tid] = r.compact_array(lambda r: r.int32())
            r.tagged_fields()
        r.compact_array(tp)
        r.tagged_fields()
        out["assignment"] = asg
    r.tagged_fields()
    return out


def describe(port, groups):
    """ConsumerGroupDescribe v0: {group: dict(error, state, epoch, assignment_epoch,
    assignor, members={member_id: dict(epoch, topics, regex, assigned, target)})};
    assignments as {topic_name: [partitions]}."""
    body = compact_array(groups, compact_string) + int8(0) + TAGS
    resp = raw_request(port, CONSUMER_GROUP_DESCRIBE, 0, body, header_version=2)
    if resp is None:
        raise AssertionError("broker closed the connection on ConsumerGroupDescribe")
    r = _header_tags(resp)
    r.int32()
    out = {}

    def assignment(r):
        a = {}

        def tp(r):
            r.pos += 16
            name = r.compact_string()
            a[name] = r.compact_array(lambda r: r.int32())
            r.tagged_fields()
        r.compact_array(tp)
        r.tagged_fields()
        return a

    def member(r):
        m = {}
        mid = r.compact_string()
        m["instance"] = r.compact_string()
        m["rack"] = r.compact_string()
        m["epoch"] = r.int32()
        m["client_id"] = r.compact_string()
        m["client_host"] = r.compact_string()
        m["topics"] = r.compact_array(lambda r: r.compact_string())
        m["regex"] = r.compact_string()
        m["assigned"] = assignment(r)
        m["target"] = assignment(r)
        r.tagged_fields()
        return mid, m

    def group(r):
        g = {"error": r.int16(), "message": r.compact_string()}
        gid = r.compact_string()
        g["state"] = r.compact_string()
        g["epoch"] = r.int32()
        g["assignment_epoch"] = r.int32()
        g["assignor"] = r.compact_string()
        g["members"] = dict(r.compact_array(member) or [])
        g["ops"] = r.int32()
        r.tagged_fields()
        out[gid] = g

    r.compact_array(group)
    return out


def offset_commit_v9(port, group, member, epoch, topic, partition, offset):
    """OffsetCommit v9 (flexible); returns the partition's error code."""
    part = int32(partition) + int64(offset) + int32(-1) + compact_string("") + TAGS
    body = (compact_string(group) + int32(epoch) + compact_string(member) + compact_string(None)
            + compact_array([topic], lambda t: compact_string(t) + compact_array([part]) + TAGS) + TAGS)
    resp = raw_request(port, OFFSET_COMMIT, 9, body, header_version=2)
    r = _header_tags(resp)
    r.int32()
    errs = []

    def p(r):
        r.int32()
        errs.append(r.int16())
        r.tagged_fields()

    def t(r):
        r.compact_string()
        r.compact_array(p)
        r.tagged_fields()
    r.compact_array(t)
    return errs[0]


def offset_fetch_v9(port, group, topic, partitions, member=None, epoch=-1):
    """OffsetFetch v9: (group error, {partition: (offset, error)})."""
    body = (compact_array([group], lambda g: compact_string(g) + compact_string(member) + int32(epoch)
                          + compact_array([topic], lambda t: compact_string(t)
                                          + compact_array(partitions, int32) + TAGS) + TAGS)
            + int8(0) + TAGS)
    resp = raw_request(port, OFFSET_FETCH, 9, body, header_version=2)
    r = _header_tags(resp)
    r.int32()
    res = {}
    gerr = [None]

    def p(r):
        idx = r.int32()
        off = r.int64()
        r.int32()
        r.compact_string()
        res[idx] = (off, r.int16())
        r.tagged_fields()

    def t(r):
        r.compact_string()
        r.compact_array(p)
        r.tagged_fields()

    def g(r):
        r.compact_string()
        r.compact_array(t)
        gerr[0] = r.int16()
        r.tagged_fields()
    r.compact_array(g)
    return gerr[0], res


def list_groups_v5(port):
    """ListGroups v5: {group: (state, type)}."""
    body = compact_array([], compact_string) + compact_array([], compact_string) + TAGS
    r = _header_tags(raw_request(port, LIST_GROUPS, 5, body, header_version=2))
    r.int32()
    r.int16()
    out = {}

    def g(r):
        gid = r.compact_string()
        r.compact_string()  # protocol type
        state = r.compact_string()
        typ = r.compact_string()
        out[gid] = (state, typ)
        r.tagged_fields()
    r.compact_array(g)
    return out


def count(asg):
    return sum(len(v) for v in (asg or {}).values())


def _unused():
    return uvarint, int16
