"""
test_groups.py - consumer groups and committed offsets end to end: real clients
(confluent-kafka, kcat, kafka-python, kafkajs) consume in groups against a real
sluiced, rebalance when members come and go, resume from committed offsets after
the consumer or the broker restarts (SIGTERM and kill -9), and administer groups;
bad cases over the raw protocol get Kafka's error codes.

Run: /usr/bin/python3 tests/integration/test_groups.py [TestClass[.test_name]]
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataproto as d  # noqa: E402
import harness  # noqa: E402
from harness import Broker, Reader, array, int8, int16, int32, int64, raw_request, string  # noqa: E402

CLIENT_TIMEOUT_S = 60
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
# A short initial delay keeps the tests quick; Kafka's default is 3000 ms.
OVERRIDES = {"group.initial.rebalance.delay.ms": "300"}

FIND_COORDINATOR, JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, SYNC_GROUP = 10, 11, 12, 13, 14
OFFSET_COMMIT, OFFSET_FETCH = 8, 9
ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS = 22, 25, 27
MEMBER_ID_REQUIRED, FENCED_INSTANCE_ID, INVALID_SESSION_TIMEOUT = 79, 82, 26


class SharedBroker(unittest.TestCase):
    """One broker for a class's tests, started by the first test's setUp."""

    overrides = OVERRIDES
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


def create_topic(test, broker, name, partitions=1):
    res = d.create_topics(broker.port, [(name, partitions, 1, {})])
    test.assertEqual(res[name][0], 0, "CreateTopics %s: %r" % (name, res[name]))
    d.wait_for(lambda: d.metadata(broker.port, [name]).get(name) == (0, list(range(partitions))), 10,
               "topic %s in metadata" % name)


def produce(broker, topic, items):
    """items: [(partition, key, value)], acks=all through confluent-kafka."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5, "log_level": 3})
    errors = []
    for part, k, v in items:
        p.produce(topic, key=k, value=v, partition=part,
                  on_delivery=lambda err, msg: err is not None and errors.append(err))
        p.poll(0)
    if p.flush(60):
        raise AssertionError("messages not delivered")
    if errors:
        raise AssertionError("delivery errors: %r" % errors[:3])


def group_conf(broker, group, **extra):
    conf = {"bootstrap.servers": broker.bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
            "client.id": "sluice-it", "log_level": 3}
    conf.update(extra)
    return conf


class PollingConsumer(threading.Thread):
    """A confluent-kafka group member polled on its own thread; remembers its
    current assignment and what it consumed."""

    def __init__(self, broker, group, topic, **conf):
        super().__init__(daemon=True)
        from confluent_kafka import Consumer
        self.consumer = Consumer(group_conf(broker, group, **conf))
        self.consumer.subscribe([topic])
        self.assigned = set()
        self.messages = []
        self.error = None
        self._stop = threading.Event()
        self._closed = threading.Event()

    def run(self):
        try:
            while not self._stop.is_set():
                m = self.consumer.poll(0.2)
                if m is not None and not m.error():
                    self.messages.append((m.partition(), m.offset()))
                self.assigned = {tp.partition for tp in self.consumer.assignment()}
            self.consumer.close()
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self._closed.set()

    def close(self, timeout=30):
        self._stop.set()
        self._closed.wait(timeout)


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def consume_n(broker, group, topic, n, timeout=60, commit=True, **conf):
    """Reads n messages with a fresh group consumer, commits them (sync), closes;
    returns [(partition, offset, value)]."""
    from confluent_kafka import Consumer
    c = Consumer(group_conf(broker, group, **conf))
    got = []
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            got.append((m.partition(), m.offset(), m.value()))
            if commit:
                c.commit(message=m, asynchronous=False)
    finally:
        c.close()
    if len(got) < n:
        raise AssertionError("read %d of %d messages within %ds" % (len(got), n, timeout))
    return got


def committed(broker, group, topic, partitions):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer(group_conf(broker, group))
    try:
        res = c.committed([TopicPartition(topic, p) for p in partitions], timeout=20)
        return {tp.partition: tp.offset for tp in res}
    finally:
        c.close()


# ---- confluent-kafka -------------------------------------------------------

class TestConfluentGroups(SharedBroker):
    def test_three_consumers_split_six_partitions_and_rebalance_when_one_leaves(self):
        t = "grp-six"
        create_topic(self, self.broker, t, 6)
        produce(self.broker, t, [(i % 6, b"k%d" % i, b"v%d" % i) for i in range(60)])
        members = [PollingConsumer(self.broker, "g-six", t) for _ in range(3)]
        for m in members:
            m.start()
        try:
            def split():
                sets = [m.assigned for m in members]
                return (all(sets) and sum(len(s) for s in sets) == 6
                        and set().union(*sets) == set(range(6)))
            wait_for(split, 45, "three members to own distinct partitions covering all 6")
            gone = members.pop(0)
            moved = set(gone.assigned)
            gone.close()
            self.assertIsNone(gone.error)

            def resplit():
                sets = [m.assigned for m in members]
                return (all(sets) and sum(len(s) for s in sets) == 6
                        and set().union(*sets) == set(range(6)))
            wait_for(resplit, 45, "partitions %s to move to the two remaining members" % sorted(moved))
            wait_for(lambda: sum(len(m.messages) for m in members + [gone]) >= 60, 30, "all 60 messages")
        finally:
            for m in members:
                m.close()
        for m in members:
            self.assertIsNone(m.error)

    def test_commit_then_new_consumer_resumes_at_committed_offset(self):
        t = "grp-resume"
        create_topic(self, self.broker, t, 1)
        produce(self.broker, t, [(0, None, b"m%d" % i) for i in range(10)])
        first = consume_n(self.broker, "g-resume", t, 4)
        self.assertEqual([o for _, o, _ in first], [0, 1, 2, 3])
        self.assertEqual(committed(self.broker, "g-resume", t, [0]), {0: 4})
        second = consume_n(self.broker, "g-resume", t, 6)
        self.assertEqual([o for _, o, _ in second], list(range(4, 10)))

    def test_admin_list_groups_describes_members_and_assignment(self):
        # Debian's confluent-kafka 1.7 has AdminClient.list_groups (ListGroups +
        # DescribeGroups); deletion is tested with kafka-python's admin below.
        from confluent_kafka.admin import AdminClient
        t = "grp-admin"
        create_topic(self, self.broker, t, 2)
        produce(self.broker, t, [(i % 2, None, b"x") for i in range(4)])
        consume_n(self.broker, "g-admin-done", t, 4)
        live = PollingConsumer(self.broker, "g-admin-live", t)
        live.start()
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, "log_level": 3})
        try:
            wait_for(lambda: live.assigned == {0, 1}, 30, "the live member's assignment")
            groups = {g.id: g for g in admin.list_groups(timeout=10)}
            self.assertEqual(groups["g-admin-done"].state, "Empty")
            self.assertEqual(groups["g-admin-done"].members, [])
            g = groups["g-admin-live"]
            self.assertEqual((g.state, g.protocol_type, g.protocol), ("Stable", "consumer", "range"))
            self.assertEqual(len(g.members), 1)
            m = g.members[0]
            self.assertEqual(m.client_id, "sluice-it")
            self.assertEqual(m.client_host, "/127.0.0.1")
            self.assertIn(t.encode(), m.metadata)     # the member's subscription
            self.assertIn(t.encode(), m.assignment)   # the leader's assignment
        finally:
            live.close()


# ---- broker restarts -----------------------------------------------------------

class TestRestart(unittest.TestCase):
    def check_commit_survives(self, how):
        b = Broker(OVERRIDES, name="groups-" + how)
        try:
            b.start()
            t = "grp-restart"
            create_topic(self, b, t, 3)
            produce(b, t, [(i % 3, None, b"r%d" % i) for i in range(30)])
            read = consume_n(b, "g-restart", t, 12)
            expect = {p: max([o + 1 for q, o, _ in read if q == p], default=-1001) for p in range(3)}
            before = committed(b, "g-restart", t, [0, 1, 2])
            self.assertEqual(before, expect)  # -1001: nothing committed
            if how == "kill9":
                b.kill9()
                b.start()
            else:
                b.restart()
            self.assertEqual(committed(b, "g-restart", t, [0, 1, 2]), before)
            rest = consume_n(b, "g-restart", t, 18)
            # exactly what was not committed, nothing read twice
            self.assertEqual(sorted((q, o) for q, o, _ in rest),
                             [(p, o) for p in range(3) for o in range(max(before[p], 0), 10)])
        finally:
            b.cleanup()

    def test_committed_offsets_survive_sigterm_restart(self):
        self.check_commit_survives("sigterm")

    def test_committed_offsets_survive_kill9(self):
        self.check_commit_survives("kill9")


# ---- kcat, kafka-python, kafkajs --------------------------------------------------

class TestOtherClients(SharedBroker):
    def test_kcat_balanced_consumer_resumes_from_committed_offset(self):
        if not shutil.which("kcat"):
            self.skipTest("kcat not installed: run scripts/setup.sh")
        t = "grp-kcat"
        create_topic(self, self.broker, t, 2)
        produce(self.broker, t, [(i % 2, None, b"a%d" % i) for i in range(10)])

        def run():
            p = subprocess.run(["kcat", "-b", self.broker.bootstrap, "-G", "g-kcat", "-X",
                                "auto.offset.reset=earliest", "-e", "-q", "-f", "%p:%o:%s\\n", t],
                               capture_output=True, timeout=CLIENT_TIMEOUT_S)
            self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
            return [line.split(":", 2)[2] for line in p.stdout.decode().splitlines() if line]

        first = run()
        self.assertEqual(len(first), 10, first)
        produce(self.broker, t, [(i % 2, None, b"b%d" % i) for i in range(4)])
        second = run()
        self.assertEqual(sorted(second), ["b0", "b1", "b2", "b3"])

    def test_kafka_python_consumer_group_consumes_and_commits(self):
        from kafka import KafkaConsumer, TopicPartition
        t = "grp-kpy"
        create_topic(self, self.broker, t, 2)
        produce(self.broker, t, [(i % 2, None, b"p%d" % i) for i in range(20)])
        c = KafkaConsumer(t, bootstrap_servers=self.broker.bootstrap, group_id="g-kpy",
                          auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=20000,
                          session_timeout_ms=6000, heartbeat_interval_ms=500, request_timeout_ms=15000,
                          api_version_auto_timeout_ms=10000)
        got = []
        try:
            for m in c:
                got.append((m.partition, m.offset))
                if len(got) == 20:
                    break
            c.commit()
            self.assertEqual(c.committed(TopicPartition(t, 0)), 10)
        finally:
            c.close()
        self.assertEqual(sorted(got), sorted((i % 2, i // 2) for i in range(20)))
        self.assertEqual(committed(self.broker, "g-kpy", t, [0, 1]), {0: 10, 1: 10})

    def test_kafka_python_admin_lists_describes_and_deletes(self):
        from kafka import KafkaAdminClient
        t = "grp-kpy-admin"
        create_topic(self, self.broker, t, 1)
        produce(self.broker, t, [(0, None, b"q")])
        consume_n(self.broker, "g-kpy-admin", t, 1)
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap, request_timeout_ms=10000,
                                 api_version_auto_timeout_ms=10000)
        try:
            groups = dict(admin.list_consumer_groups())
            self.assertEqual(groups.get("g-kpy-admin"), "consumer")
            (desc,) = admin.describe_consumer_groups(["g-kpy-admin"])
            self.assertEqual(desc.state, "Empty")
            self.assertEqual(desc.protocol_type, "consumer")
            offsets = admin.list_consumer_group_offsets("g-kpy-admin")
            self.assertEqual({tp.partition: om.offset for tp, om in offsets.items() if tp.topic == t}, {0: 1})
            res = {g: getattr(e, "__name__", type(e).__name__)
                   for g, e in admin.delete_consumer_groups(["g-kpy-admin", "g-kpy-none"])}
            self.assertEqual(res, {"g-kpy-admin": "NoError", "g-kpy-none": "GroupIdNotFoundError"})
            self.assertNotIn("g-kpy-admin", dict(admin.list_consumer_groups()))
        finally:
            admin.close()

    def test_kafkajs_consumer_commits_and_a_second_run_resumes(self):
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "kafkajs")):
            self.skipTest("kafkajs not installed: run scripts/setup.sh")
        t = "grp-js"
        create_topic(self, self.broker, t, 2)
        produce(self.broker, t, [(i % 2, b"k%d" % i, b"j%d" % i) for i in range(20)])

        def run(n):
            p = subprocess.run(["node", os.path.join(JS_DIR, "group_consume.js"), self.broker.bootstrap, t,
                                "g-js", str(n)], capture_output=True, timeout=90)
            self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
            return json.loads(p.stdout.decode().strip().splitlines()[-1])

        first = run(20)
        self.assertEqual(sorted(m["value"] for m in first), sorted("j%d" % i for i in range(20)))
        produce(self.broker, t, [(i % 2, b"n%d" % i, b"new%d" % i) for i in range(6)])
        second = run(6)
        self.assertEqual(sorted(m["value"] for m in second), sorted("new%d" % i for i in range(6)))
        self.assertEqual(committed(self.broker, "g-js", t, [0, 1]), {0: 13, 1: 13})


# ---- raw protocol --------------------------------------------------------------------

def bytes_(b):
    return int32(-1) if b is None else int32(len(b)) + b


def subscription(topics):
    return int16(0) + array([string(x) for x in topics]) + bytes_(b"")


def join_v5(port, group, member, instance=None, session=10000, rebalance=10000, ptype="consumer", timeout=20):
    body = (string(group) + int32(session) + int32(rebalance) + string(member) + string(instance) +
            string(ptype) + array([string("range") + bytes_(subscription(["t"]))]))
    r = Reader(raw_request(port, JOIN_GROUP, 5, body, timeout=timeout))
    r.int32()  # correlation id
    r.int32()  # throttle
    err, gen = r.int16(), r.int32()
    proto, leader, member_id = r.string(), r.string(), r.string()
    members = r.array(lambda r: (r.string(), r.string(), r.int32() and None))
    return {"error": err, "generation": gen, "protocol": proto, "leader": leader, "member": member_id,
            "members": members}


def sync_v3(port, group, gen, member, assignments=()):
    body = (string(group) + int32(gen) + string(member) + string(None) +
            array([string(m) + bytes_(a) for m, a in assignments]))
    r = Reader(raw_request(port, SYNC_GROUP, 3, body))
    r.int32()
    r.int32()
    return r.int16()


def heartbeat_v3(port, group, gen, member, instance=None):
    r = Reader(raw_request(port, HEARTBEAT, 3, string(group) + int32(gen) + string(member) + string(instance)))
    r.int32()
    r.int32()
    return r.int16()


def commit_v7(port, group, gen, member, topic, partition, offset):
    body = (string(group) + int32(gen) + string(member) + string(None) +
            array([string(topic) + array([int32(partition) + int64(offset) + int32(-1) + string("")])]))
    r = Reader(raw_request(port, OFFSET_COMMIT, 7, body))
    r.int32()
    r.int32()
    topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int16()))))
    return topics[0][1][0][1]


def find_coordinator_v2(port, key, key_type=0):
    r = Reader(raw_request(port, FIND_COORDINATOR, 2, string(key) + int8(key_type)))
    r.int32()
    r.int32()
    err = r.int16()
    r.string()
    return err, r.int32(), r.string(), r.int32()


class TestRawProtocol(SharedBroker):
    def joined(self, group):
        port = self.broker.port
        first = join_v5(port, group, "")
        self.assertEqual(first["error"], MEMBER_ID_REQUIRED)
        self.assertTrue(first["member"].startswith("raw-"), first)
        j = join_v5(port, group, first["member"])
        self.assertEqual(j["error"], 0, j)
        self.assertEqual(j["leader"], first["member"])
        self.assertEqual(len(j["members"]), 1)
        return j

    def test_find_coordinator_is_this_node_for_groups_and_transactions(self):
        for key_type in (0, 1):
            err, node, host, port = find_coordinator_v2(self.broker.port, "some-key", key_type)
            self.assertEqual((err, host, port), (0, self.broker.host, self.broker.port))
        self.assertEqual(find_coordinator_v2(self.broker.port, "k", 7)[0], 42)  # INVALID_REQUEST

    def test_join_sync_heartbeat_and_their_errors(self):
        port = self.broker.port
        d.create_topics(port, [("t", 1, 1, {})])
        j = self.joined("raw-g")
        me, gen = j["member"], j["generation"]
        self.assertEqual(gen, 1)
        self.assertEqual(j["protocol"], "range")
        self.assertEqual(sync_v3(port, "raw-g", gen, me, [(me, b"assignment")]), 0)
        self.assertEqual(heartbeat_v3(port, "raw-g", gen, me), 0)
        self.assertEqual(heartbeat_v3(port, "raw-g", gen - 1, me), ILLEGAL_GENERATION)
        self.assertEqual(heartbeat_v3(port, "raw-g", gen, "raw-nobody"), UNKNOWN_MEMBER_ID)
        self.assertEqual(heartbeat_v3(port, "raw-none", 1, me), UNKNOWN_MEMBER_ID)
        self.assertEqual(sync_v3(port, "raw-g", gen + 5, me), ILLEGAL_GENERATION)
        self.assertEqual(commit_v7(port, "raw-g", gen - 1, me, "t", 0, 3), ILLEGAL_GENERATION)
        self.assertEqual(commit_v7(port, "raw-g", gen, "raw-nobody", "t", 0, 3), UNKNOWN_MEMBER_ID)
        self.assertEqual(commit_v7(port, "raw-g", gen, me, "t", 0, 3), 0)
        self.assertEqual(join_v5(port, "raw-g", "raw-nobody")["error"], UNKNOWN_MEMBER_ID)
        self.assertEqual(join_v5(port, "raw-g2", "", session=10)["error"], INVALID_SESSION_TIMEOUT)
        # LeaveGroup v3 of the only member empties the group.
        body = string("raw-g") + array([string(me) + string(None)])
        r = Reader(raw_request(port, LEAVE_GROUP, 3, body))
        r.int32()
        r.int32()
        self.assertEqual(r.int16(), 0)
        self.assertEqual(r.array(lambda r: (r.string(), r.string(), r.int16())), [(me, None, 0)])
        self.assertEqual(heartbeat_v3(port, "raw-g", gen, me), UNKNOWN_MEMBER_ID)

    def test_static_member_replaced_fences_old_member_id(self):
        port = self.broker.port
        j = join_v5(port, "raw-static", "", instance="inst-a")
        self.assertEqual(j["error"], 0, j)
        old = j["member"]
        self.assertEqual(sync_v3(port, "raw-static", j["generation"], old, [(old, b"x")]), 0)
        j2 = join_v5(port, "raw-static", "", instance="inst-a")
        self.assertEqual(j2["error"], 0, j2)
        self.assertNotEqual(j2["member"], old)
        self.assertEqual(heartbeat_v3(port, "raw-static", j["generation"], old, "inst-a"), FENCED_INSTANCE_ID)
        self.assertEqual(heartbeat_v3(port, "raw-static", j2["generation"], j2["member"], "inst-a"), 0)


if __name__ == "__main__":
    harness.main()
