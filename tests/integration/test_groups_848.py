"""
test_groups_848.py - KIP-848 consumer groups at the protocol level (no Debian
client speaks ConsumerGroupHeartbeat yet): members join with epoch 0 and
converge through reconciliation (a partition moves only once its previous
owner released it), leave with -1, get fenced on stale epochs, expire after
the session timeout; ConsumerGroupDescribe, ListGroups, the range assignor,
regex subscriptions, the classic/consumer conflict, OffsetCommit v9 member
epochs, and offsets.retention.minutes expiry.

Run: /usr/bin/python3 tests/integration/test_groups_848.py [TestClass[.test_name]]
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cgproto as c  # noqa: E402
import dataproto as d  # noqa: E402
import harness  # noqa: E402
import test_groups as tg  # noqa: E402
from harness import Broker  # noqa: E402

OVERRIDES = {"group.consumer.session.timeout.ms": "2500", "group.consumer.heartbeat.interval.ms": "500",
             "group.initial.rebalance.delay.ms": "100"}


class SharedBroker(unittest.TestCase):
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
                # As a client does first: creates __consumer_offsets, starts the coordinator.
                d.wait_for(lambda: tg.find_coordinator_v2(cls.broker.port, "any")[0] == 0, 20, "coordinator")
            except Exception as e:
                cls.start_error = e
                raise
        self.assertTrue(cls.broker.running(), "sluiced died:\n" + cls.broker.report())

    @classmethod
    def tearDownClass(cls):
        if cls.broker is not None:
            cls.broker.cleanup()
            cls.broker = None

    def topic(self, name, partitions):
        res = d.create_topics(self.broker.port, [(name, partitions, 1)])
        self.assertIn(res[name][0], (0, 36), res)
        d.wait_for(lambda: d.metadata(self.broker.port, [name]).get(name, (1,))[0] == 0, 10, "topic " + name)

    def join(self, group, member, topics=None, regex=None, assignor=None):
        r = c.heartbeat(self.broker.port, group, member, 0, topics=topics, regex=regex, assignor=assignor,
                        owned={}, rebalance_ms=30000)
        self.assertEqual(r["error"], 0, r)
        return r

    def beat(self, group, st):
        """One heartbeat of member state st (dict member, epoch, owned); applies
        the answer as a client would: owned := assignment when one is sent."""
        r = c.heartbeat(self.broker.port, group, st["member"], st["epoch"], owned=st["owned"])
        self.assertEqual(r["error"], 0, r)
        st["epoch"] = r["epoch"]
        if r["assignment"] is not None:
            st["owned"] = r["assignment"]
        return r

    def converge(self, group, members, rounds=10):
        for _ in range(rounds):
            for st in members:
                self.beat(group, st)
        return members


class TestConsumerGroupHeartbeat(SharedBroker):
    def two_members(self, group, topic, assignor=None):
        self.topic(topic, 6)
        a = self.join(group, "member-a", topics=[topic], assignor=assignor)
        sa = {"member": "member-a", "epoch": a["epoch"], "owned": a["assignment"]}
        self.assertEqual(c.count(a["assignment"]), 6, a)
        b = self.join(group, "member-b", topics=[topic], assignor=assignor)
        sb = {"member": "member-b", "epoch": b["epoch"], "owned": b["assignment"]}
        return sa, sb, b

    def test_two_members_converge_to_three_partitions_each(self):
        sa, sb, b = self.two_members("g848-two", "t848-two")
        # The second member gets nothing until the first has released its half.
        self.assertEqual(c.count(b["assignment"]), 0, b)
        self.beat("g848-two", sb)
        self.assertEqual(c.count(sb["owned"]), 0, sb)
        ra = self.beat("g848-two", sa)  # told to keep 3 (revoke 3), epoch unchanged
        self.assertEqual(c.count(ra["assignment"]), 3, ra)
        self.beat("g848-two", sa)  # acknowledges: owned now the 3 it kept
        self.beat("g848-two", sb)
        self.assertEqual(c.count(sb["owned"]), 3, sb)
        self.converge("g848-two", [sa, sb], 2)
        pa = {(t, p) for t, ps in sa["owned"].items() for p in ps}
        pb = {(t, p) for t, ps in sb["owned"].items() for p in ps}
        self.assertEqual(len(pa), 3)
        self.assertEqual(len(pb), 3)
        self.assertFalse(pa & pb)
        self.assertEqual(sa["epoch"], sb["epoch"])
        g = c.describe(self.broker.port, ["g848-two"])["g848-two"]
        self.assertEqual(g["error"], 0, g)
        self.assertEqual(g["state"], "Stable", g)
        self.assertEqual(g["assignor"], "uniform")
        self.assertEqual(sorted(g["members"]), ["member-a", "member-b"])
        for mid, m in g["members"].items():
            self.assertEqual(m["topics"], ["t848-two"])
            self.assertEqual(sum(len(v) for v in m["assigned"].values()), 3, m)
            self.assertEqual(m["assigned"], m["target"])
            self.assertEqual(m["epoch"], g["epoch"])
        lg = c.list_groups_v5(self.broker.port)
        self.assertEqual(lg.get("g848-two"), ("Stable", "consumer"), lg)

        # member-a leaves: member-b gets all six.
        r = c.heartbeat(self.broker.port, "g848-two", "member-a", -1)
        self.assertEqual((r["error"], r["epoch"]), (0, -1), r)
        self.converge("g848-two", [sb], 2)
        self.assertEqual(c.count(sb["owned"]), 6, sb)

        # Fencing: an old epoch, an epoch from the future, an unknown member.
        r = c.heartbeat(self.broker.port, "g848-two", "member-b", sb["epoch"] - 2, owned={})
        self.assertEqual(r["error"], c.FENCED_MEMBER_EPOCH, r)
        r = c.heartbeat(self.broker.port, "g848-two", "member-b", sb["epoch"] + 1)
        self.assertEqual(r["error"], c.FENCED_MEMBER_EPOCH, r)
        r = c.heartbeat(self.broker.port, "g848-two", "nobody", 3)
        self.assertEqual(r["error"], c.UNKNOWN_MEMBER_ID, r)

    def test_range_assignor_gives_contiguous_ranges(self):
        sa, sb, _ = self.two_members("g848-range", "t848-range", assignor="range")
        self.converge("g848-range", [sa, sb], 4)
        g = c.describe(self.broker.port, ["g848-range"])["g848-range"]
        self.assertEqual(g["assignor"], "range")
        self.assertEqual(g["members"]["member-a"]["assigned"], {"t848-range": [0, 1, 2]}, g)
        self.assertEqual(g["members"]["member-b"]["assigned"], {"t848-range": [3, 4, 5]}, g)

    def test_regex_subscription(self):
        self.topic("rx848-a", 2)
        self.topic("rx848-b", 1)
        a = self.join("g848-regex", "m", regex="rx848-.*")
        self.assertEqual(c.count(a["assignment"]), 3, a)
        g = c.describe(self.broker.port, ["g848-regex"])["g848-regex"]
        self.assertEqual(g["members"]["m"]["regex"], "rx848-.*")
        self.assertEqual(sorted(g["members"]["m"]["assigned"]), ["rx848-a", "rx848-b"])

    def test_errors_as_kafka_returns_them(self):
        port = self.broker.port
        self.assertEqual(c.heartbeat(port, "g848-none", "m", 5)["error"], c.GROUP_ID_NOT_FOUND)
        r = c.heartbeat(port, "g848-err", "m", 0, topics=["x"], owned={}, rebalance_ms=1000, assignor="sticky")
        self.assertEqual(r["error"], c.UNSUPPORTED_ASSIGNOR, r)
        r = c.heartbeat(port, "g848-err", "", 0, topics=["x"], owned={}, rebalance_ms=1000)
        self.assertEqual(r["error"], c.INVALID_REQUEST, r)  # v1: the member id is the client's
        r = c.heartbeat(port, "g848-err", "", 0, topics=["x"], owned={}, rebalance_ms=1000, version=0)
        self.assertEqual(r["error"], 0, r)  # v0: the coordinator makes one
        self.assertTrue(r["member"])
        r = c.heartbeat(port, "g848-static", "s1", 0, topics=["x"], owned={}, rebalance_ms=1000, instance="i1")
        self.assertEqual(r["error"], 0, r)
        r = c.heartbeat(port, "g848-static", "s2", 0, topics=["x"], owned={}, rebalance_ms=1000, instance="i1")
        self.assertEqual(r["error"], c.UNRELEASED_INSTANCE_ID, r)
        r = c.heartbeat(port, "g848-static", "s1", -2, instance="i1")
        self.assertEqual((r["error"], r["epoch"]), (0, -2), r)
        r = c.heartbeat(port, "g848-static", "s2", 0, topics=["x"], owned={}, rebalance_ms=1000, instance="i1")
        self.assertEqual(r["error"], 0, r)

    def test_commit_v9_checks_member_epoch(self):
        self.topic("t848-commit", 1)
        a = self.join("g848-commit", "m", topics=["t848-commit"])
        port = self.broker.port
        self.assertEqual(c.offset_commit_v9(port, "g848-commit", "m", a["epoch"], "t848-commit", 0, 7), 0)
        self.assertEqual(c.offset_commit_v9(port, "g848-commit", "m", a["epoch"] + 1, "t848-commit", 0, 8),
                         c.STALE_MEMBER_EPOCH)
        self.assertEqual(c.offset_commit_v9(port, "g848-commit", "x", a["epoch"], "t848-commit", 0, 8),
                         c.UNKNOWN_MEMBER_ID)
        err, res = c.offset_fetch_v9(port, "g848-commit", "t848-commit", [0])
        self.assertEqual((err, res[0]), (0, (7, 0)))

    def test_session_timeout_removes_a_silent_member(self):
        self.topic("t848-sess", 4)
        a = self.join("g848-sess", "quiet", topics=["t848-sess"])
        b = self.join("g848-sess", "alive", topics=["t848-sess"])
        sb = {"member": "alive", "epoch": b["epoch"], "owned": b["assignment"]}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.beat("g848-sess", sb)
            if c.count(sb["owned"]) == 4:
                break
            time.sleep(0.3)
        self.assertEqual(c.count(sb["owned"]), 4, sb)
        self.assertGreater(a["epoch"], 0)
        g = c.describe(self.broker.port, ["g848-sess"])["g848-sess"]
        self.assertEqual(sorted(g["members"]), ["alive"])

    def test_classic_and_consumer_groups_conflict(self):
        port = self.broker.port
        self.join("g848-conflict", "m", topics=["x"])
        # JoinGroup (classic) on a consumer group with members.
        j = tg.join_v5(port, "g848-conflict", "")
        self.assertEqual(j["error"], c.INCONSISTENT_GROUP_PROTOCOL, j)
        d2 = c.describe(port, ["g848-nope"])["g848-nope"]
        self.assertEqual(d2["error"], c.GROUP_ID_NOT_FOUND)


class TestRestart(SharedBroker):
    def test_state_survives_a_restart(self):
        self.topic("t848-restart", 4)
        a = self.join("g848-restart", "m1", topics=["t848-restart"])
        st = {"member": "m1", "epoch": a["epoch"], "owned": a["assignment"]}
        self.beat("g848-restart", st)
        before = c.describe(self.broker.port, ["g848-restart"])["g848-restart"]
        self.broker.restart()
        after = c.describe(self.broker.port, ["g848-restart"])["g848-restart"]
        self.assertEqual(after["error"], 0, after)
        self.assertEqual(after["epoch"], before["epoch"])
        self.assertEqual(after["members"]["m1"]["assigned"], before["members"]["m1"]["assigned"])
        r = self.beat("g848-restart", st)
        self.assertEqual(r["epoch"], st["epoch"])


class TestOffsetsExpiry(SharedBroker):
    overrides = dict(OVERRIDES, **{"offsets.retention.minutes": "1", "offsets.retention.check.interval.ms": "1000"})

    def test_empty_group_offsets_expire_and_live_groups_stay(self):
        port = self.broker.port
        self.topic("t848-exp", 1)
        a = self.join("g848-live", "m", topics=["t848-exp"])
        st = {"member": "m", "epoch": a["epoch"], "owned": a["assignment"]}
        self.assertEqual(c.offset_commit_v9(port, "g848-live", "m", st["epoch"], "t848-exp", 0, 5), 0)
        # a standalone commit (generation -1, no member): the group stays Empty
        self.assertEqual(c.offset_commit_v9(port, "g848-gone", "", -1, "t848-exp", 0, 9), 0)
        self.assertEqual(c.offset_fetch_v9(port, "g848-gone", "t848-exp", [0])[1][0], (9, 0))
        deadline = time.monotonic() + 100
        while time.monotonic() < deadline:
            self.beat("g848-live", st)
            if c.offset_fetch_v9(port, "g848-gone", "t848-exp", [0])[1][0][0] == -1:
                break
            time.sleep(1)
        self.assertEqual(c.offset_fetch_v9(port, "g848-gone", "t848-exp", [0])[1][0][0], -1)
        self.assertEqual(c.offset_fetch_v9(port, "g848-live", "t848-exp", [0])[1][0], (5, 0))
        self.assertNotIn("g848-gone", c.list_groups_v5(port))


if __name__ == "__main__":
    harness.main()
