"""
aclproto.py - helpers of test_acls.py: clients built for a principal
(client_conf for librdkafka, kp_conf for kafka-python), ACLs and filters for
kafka-python's admin client, and raw requests for what no client here sends
(DescribeAcls with bad filters, a Fetch posing as a replica, transactional
batches without a transactional id, ...). Kafka's numeric codes by name.
"""

import json
import os
import subprocess
import time
import unittest

import dataproto as d
from harness import TAGS_NONE, Reader, array, compact_array, compact_string, int8, int32, int64, \
    raw_request, string

ANON = "User:ANONYMOUS"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")

# Kafka's codes
TOPIC_AUTHORIZATION_FAILED = 29
GROUP_AUTHORIZATION_FAILED = 30
CLUSTER_AUTHORIZATION_FAILED = 31
INVALID_REQUEST = 42
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
SECURITY_DISABLED = 54
FETCH, METADATA, CREATE_ACLS, DESCRIBE_ACLS, DELETE_ACLS = 1, 3, 30, 29, 31
RES_ANY, RES_TOPIC, RES_GROUP, RES_CLUSTER, RES_TXN = 1, 2, 3, 4, 5
PAT_ANY, PAT_MATCH, PAT_LITERAL, PAT_PREFIXED = 1, 2, 3, 4
OP_ANY, OP_ALL, OP_READ, OP_WRITE, OP_CREATE, OP_DELETE, OP_ALTER, OP_DESCRIBE = 1, 2, 3, 4, 5, 6, 7, 8
OP_DESCRIBE_CONFIGS, OP_IDEMPOTENT_WRITE = 10, 12
PERM_ANY, PERM_DENY, PERM_ALLOW = 1, 2, 3


# ---- clients for a principal -------------------------------------------------------

# How to connect as a principal other than User:ANONYMOUS: principal ->
# function(broker) returning librdkafka settings (bootstrap servers, security
# protocol, credentials). Tests register theirs (TLS client certificates today,
# SASL users later).
PRINCIPALS = {}


def client_conf(broker, principal=ANON, **extra):
    """librdkafka configuration of a client that connects as principal."""
    conf = {"bootstrap.servers": broker.bootstrap, "socket.timeout.ms": 10000, "client.id": "sluice-acl-it",
            "log_level": 3}
    if principal != ANON:
        if principal not in PRINCIPALS:
            raise unittest.SkipTest("no way to connect as %s registered" % principal)
        conf.update(PRINCIPALS[principal](broker))
    conf.update(extra)
    return conf


def kp_conf(broker, principal=ANON):
    """kafka-python keyword arguments of a client that connects as principal."""
    if principal != ANON:
        raise unittest.SkipTest("connections are User:ANONYMOUS until the broker authenticates clients")
    return {"bootstrap_servers": broker.bootstrap, "request_timeout_ms": 10000,
            "api_version_auto_timeout_ms": 10000, "client_id": "sluice-acl-it"}


def admin(broker, principal=ANON):
    from kafka import KafkaAdminClient
    return KafkaAdminClient(**kp_conf(broker, principal))


def acl(resource_type, name, op, perm=PERM_ALLOW, principal=ANON, host="*", pattern=PAT_LITERAL):
    from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, \
        ResourceType
    return ACL(principal, host, ACLOperation(op), ACLPermissionType(perm),
               ResourcePattern(ResourceType(resource_type), name, ACLResourcePatternType(pattern)))


def acl_filter(resource_type=RES_ANY, name=None, pattern=PAT_ANY, principal=None, host=None, op=OP_ANY,
               perm=PERM_ANY):
    from kafka.admin import ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, \
        ResourcePatternFilter, ResourceType
    return ACLFilter(principal, host, ACLOperation(op), ACLPermissionType(perm),
                     ResourcePatternFilter(ResourceType(resource_type), name, ACLResourcePatternType(pattern)))


def key(a):
    return (a.resource_pattern.resource_type.value, a.resource_pattern.resource_name,
            a.resource_pattern.pattern_type.value, a.principal, a.host, a.operation.value, a.permission_type.value)


def add_acls(test, broker, acls):
    a = admin(broker)
    try:
        res = a.create_acls(acls)
        test.assertEqual(res["failed"], [], "create_acls failed: %r" % (res["failed"],))
    finally:
        a.close()


def remove_acls(test, broker, filters):
    a = admin(broker)
    try:
        for _, _, err in a.delete_acls(filters):
            test.assertEqual(err.__name__, "NoError")
    finally:
        a.close()


def produce_errors(broker, topic, n=1, principal=ANON, timeout=30, **extra):
    """Produces n messages with librdkafka; returns the delivery errors' codes
    (empty when all were written)."""
    from confluent_kafka import Producer
    conf = client_conf(broker, principal, **{"message.timeout.ms": 15000, "acks": "all", "linger.ms": 0})
    conf.update(extra)
    p = Producer(conf)
    errs = []
    for i in range(n):
        p.produce(topic, value=b"v%d" % i, on_delivery=lambda err, msg: errs.append(err.code() if err else None))
    left = p.flush(timeout)
    assert left == 0, "%d messages undelivered within %d s" % (left, timeout)
    return [e for e in errs if e is not None]


def consume_group(broker, topic, group, want, principal=ANON, timeout=30):
    """Subscribes in a group; returns (values read, first error code or None).
    Stops at want values or the first error."""
    from confluent_kafka import Consumer
    c = Consumer(client_conf(broker, principal, **{"group.id": group, "auto.offset.reset": "earliest",
                                                    "session.timeout.ms": 6000}))
    got, err = [], None
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(got) < want and err is None and time.monotonic() < deadline:
            for m in c.consume(10, 0.5):
                if m.error():
                    if m.error().code() in (TOPIC_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED):
                        err = m.error().code()
                        break
                    continue
                got.append(m.value())
    finally:
        c.close()
    return got, err


# ---- raw requests ----------------------------------------------------------------------

def raw_describe_acls(port, rt=RES_ANY, name=None, pattern=PAT_ANY, principal=None, host=None, op=OP_ANY,
                      perm=PERM_ANY):
    """DescribeAcls v1: (error, [(rt, name, pattern, principal, host, op, perm)])."""
    body = int8(rt) + string(name) + int8(pattern) + string(principal) + string(host) + int8(op) + int8(perm)
    resp = raw_request(port, DESCRIBE_ACLS, 1, body)
    assert resp is not None, "broker closed the connection on DescribeAcls"
    r = Reader(resp)
    r.int32()
    r.int32()  # throttle
    err = r.int16()
    r.string()
    out = []

    def resource(r):
        rt_, nm, pt = r.int8(), r.string(), r.int8()
        r.array(lambda r: out.append((rt_, nm, pt, r.string(), r.string(), r.int8(), r.int8())))

    r.array(resource)
    return err, out


def raw_create_acls(port, creations):
    """CreateAcls v1: [(error, message)] for [(rt, name, pattern, principal, host, op, perm)]."""
    def enc(c):
        return int8(c[0]) + string(c[1]) + int8(c[2]) + string(c[3]) + string(c[4]) + int8(c[5]) + int8(c[6])
    resp = raw_request(port, CREATE_ACLS, 1, array(creations, enc))
    assert resp is not None, "broker closed the connection on CreateAcls"
    r = Reader(resp)
    r.int32()
    r.int32()
    return r.array(lambda r: (r.int16(), r.string()))


def raw_delete_acls(port, filters):
    """DeleteAcls v1: [(error, [matching acl])]."""
    def enc(c):
        return int8(c[0]) + string(c[1]) + int8(c[2]) + string(c[3]) + string(c[4]) + int8(c[5]) + int8(c[6])
    resp = raw_request(port, DELETE_ACLS, 1, array(filters, enc))
    assert resp is not None, "broker closed the connection on DeleteAcls"
    r = Reader(resp)
    r.int32()
    r.int32()

    def fr(r):
        err = r.int16()
        r.string()
        m = r.array(lambda r: (r.int16(), r.string(), r.int8(), r.string(), r.int8(), r.string(), r.string(),
                               r.int8(), r.int8()))
        return err, m
    return r.array(fr)


def raw_fetch_as_replica(port, topic, replica_id=1):
    """Fetch v4 with replica_id set: [(partition, error)]."""
    body = (int32(replica_id) + int32(0) + int32(1) + int32(1048576) + int8(0)
            + int32(1) + string(topic) + int32(1) + int32(0) + int64(0) + int32(1048576))
    resp = raw_request(port, FETCH, 4, body)
    assert resp is not None, "broker closed the connection on Fetch"
    r = Reader(resp)
    r.int32()
    r.int32()
    out = []

    def part(r):
        idx, err = r.int32(), r.int16()
        r.int64()
        r.int64()
        r.array(lambda r: (r.int64(), r.int64()))
        n = r.int32()
        if n > 0:
            r._take(n)
        out.append((idx, err))

    r.array(lambda r: (r.string(), r.array(part)))
    return out


def raw_metadata_all(port):
    """Metadata v4 for every topic: {name: error}."""
    body = int32(-1) + int8(0)
    resp = raw_request(port, METADATA, 4, body)
    r = Reader(resp)
    r.int32()
    r.int32()
    r.array(lambda r: (r.int32(), r.string(), r.int32(), r.string()))
    r.string()
    r.int32()
    out = {}

    def topic(r):
        err, name = r.int16(), r.string()
        r.bool()
        r.array(lambda r: (r.int16(), r.int32(), r.int32(), r.array(lambda r: r.int32()),
                           r.array(lambda r: r.int32())))
        out[name] = err

    r.array(topic)
    return out


def raw_metadata_ops(port, topics):
    """Metadata v8 with authorized operations: ({topic: (error, ops)}, cluster ops)."""
    body = array(topics, string) + int8(0) + int8(1) + int8(1)
    resp = raw_request(port, METADATA, 8, body)
    r = Reader(resp)
    r.int32()
    r.int32()
    r.array(lambda r: (r.int32(), r.string(), r.int32(), r.string()))
    r.string()
    r.int32()
    out = {}

    def topic(r):
        err, name = r.int16(), r.string()
        r.bool()
        r.array(lambda r: (r.int16(), r.int32(), r.int32(), r.int32(), r.array(lambda r: r.int32()),
                           r.array(lambda r: r.int32()), r.array(lambda r: r.int32())))
        out[name] = (err, r.int32())

    r.array(topic)
    return out, r.int32()


def raw_list_transactions(port):
    """ListTransactions v0 (flexible): {transactional id: state}."""
    resp = raw_request(port, 66, 0, compact_array([]) + compact_array([]) + TAGS_NONE, header_version=2)
    r = Reader(resp)
    r.int32()
    r.tagged_fields()
    r.int32()
    assert r.int16() == 0
    r.compact_array(lambda r: r.compact_string())
    out = {}

    def state(r):
        tid, _, st = r.compact_string(), r.int64(), r.compact_string()
        r.tagged_fields()
        out[tid] = st

    r.compact_array(state)
    return out


def raw_describe_transactions(port, ids):
    """DescribeTransactions v0 (flexible): {transactional id: error}."""
    resp = raw_request(port, 65, 0, compact_array(ids, compact_string) + TAGS_NONE, header_version=2)
    r = Reader(resp)
    r.int32()
    r.tagged_fields()
    r.int32()
    out = {}

    def state(r):
        err, tid = r.int16(), r.compact_string()
        r.compact_string()
        r.int32()
        r.int64()
        r.int64()
        r.int16()
        r.compact_array(lambda r: (r.compact_string(), r.compact_array(lambda r: r.int32()), r.tagged_fields()))
        r.tagged_fields()
        out[tid] = err

    r.compact_array(state)
    return out


def bits(*ops):
    return sum(1 << o for o in ops)


def transactional_batch():
    # attributes 0x10: transactional; producer id/epoch as a real one would send
    return d.encode_batch([(b"k", b"v")], attributes=0x10, producer_id=1000, producer_epoch=0, base_sequence=0)


def kafkajs(broker, op):
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "kafkajs")):
        raise unittest.SkipTest("kafkajs not installed: run scripts/setup.sh")
    p = subprocess.run(["node", os.path.join(JS_DIR, "admin_ops.js"), broker.bootstrap, json.dumps(op)],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def raw_offset_commit(port, group, offsets):
    """OffsetCommit v2 of {topic: offset} (partition 0), outside any generation:
    {topic: error}."""
    topic = lambda kv: string(kv[0]) + array([kv[1]], lambda o: int32(0) + int64(o) + string(""))  # noqa: E731
    body = string(group) + int32(-1) + string("") + int64(-1) + array(sorted(offsets.items()), topic)
    resp = raw_request(port, 8, 2, body)
    r = Reader(resp)
    r.int32()  # correlation id (v2 has no throttle time)
    out = {}
    r.array(lambda r: (lambda name: r.array(lambda r: out.__setitem__(name, (r.int32(), r.int16())[1])))(r.string()))
    return out


def raw_find_coordinator(port, group):
    """FindCoordinator v0 (creates the offsets topic on first use): error."""
    resp = raw_request(port, 10, 0, string(group))
    r = Reader(resp)
    r.int32()
    return r.int16()


def raw_describe_groups(port, groups):
    """DescribeGroups v0: {group: error}."""
    resp = raw_request(port, 15, 0, array(groups, string))
    r = Reader(resp)
    r.int32()
    out = {}

    def group(r):
        err, name = r.int16(), r.string()
        r.string()
        r.string()
        r.string()
        r.array(lambda r: (r.string(), r.string(), r.string(), r._take(r.int32()), r._take(r.int32())))
        out[name] = err

    r.array(group)
    return out


def raw_delete_records(port, topic, offset):
    """DeleteRecords v0 of partition 0: error."""
    body = array([topic], lambda t: string(t) + array([0], lambda p: int32(p) + int64(offset))) + int32(10000)
    resp = raw_request(port, 21, 0, body)
    r = Reader(resp)
    r.int32()
    r.int32()
    out = []
    r.array(lambda r: (r.string(), r.array(lambda r: out.append((r.int32(), r.int64(), r.int16())))))
    return out[0][2]


def raw_describe_log_dirs(port):
    """DescribeLogDirs v1, every topic: number of log dirs answered."""
    resp = raw_request(port, 35, 1, int32(-1))
    r = Reader(resp)
    r.int32()
    r.int32()
    return r.int32()


def init_producer_id(port, transactional_id=None, timeout_ms=60000):
    """InitProducerId v0: (error, producer_id, epoch)."""
    resp = raw_request(port, 22, 0, string(transactional_id) + int32(timeout_ms))
    r = Reader(resp)
    r.int32()
    r.int32()
    return r.int16(), r.int64(), r.int16()


def raw_elect_leaders(port, topic):
    """ElectLeaders v1 (preferred) of partition 0: (error, [(partition, error)])."""
    body = int8(0) + array([topic], lambda t: string(t) + array([0], int32)) + int32(10000)
    resp = raw_request(port, 43, 1, body)
    r = Reader(resp)
    r.int32()
    r.int32()
    err = r.int16()
    parts = []
    r.array(lambda r: (r.string(), r.array(lambda r: parts.append((r.int32(), r.int16(), r.string())))))
    return err, [(p, e) for p, e, _ in parts]
