"""
test_txn.py - idempotent producers and transactions (exactly-once) against
real sluiced processes: raw batches for the sequence rules (duplicate ->
original offset, gap -> OUT_OF_ORDER_SEQUENCE_NUMBER, stale epoch), producer
state rebuilt after restarts and kill -9 (snapshots at segment rolls), and
real clients: confluent-kafka (librdkafka) and kafkajs, idempotent and
transactional; read_committed consumers (RELIABILITY.md R11, R13, T1-T6).

Run: /usr/bin/python3 tests/integration/test_txn.py [TestClass[.test_name]]
"""

import glob
import os
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataproto as d  # noqa: E402
import harness  # noqa: E402
from harness import Broker  # noqa: E402
from harness import int16, int32, int64, string  # noqa: E402
from test_data import SharedBroker, consumer_conf, create_topic, producer_conf  # noqa: E402

INIT_PRODUCER_ID = 22
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fixed_port_broker(name, **overrides):
    """A broker that keeps its port across restarts (clients keep their bootstrap)."""
    overrides["listeners"] = "PLAINTEXT://127.0.0.1:%d" % free_port()
    return Broker(overrides, name=name)


def init_producer_id(port, transactional_id=None, timeout_ms=60000):
    """InitProducerId v0: (error, producer_id, epoch)."""
    resp = d.raw_request(port, INIT_PRODUCER_ID, 0, string(transactional_id) + int32(timeout_ms))
    r = d.Reader(resp)
    r.int32()
    r.int32()  # throttle
    return r.int16(), r.int64(), r.int16()


def idem_batch(pid, epoch, seq, n, tag=b"v"):
    return d.encode_batch([(None, tag + b"-%d" % (seq + i)) for i in range(n)], producer_id=pid,
                          producer_epoch=epoch, base_sequence=seq)


def consume_all(broker, topic, partitions, expect, isolation="read_uncommitted", timeout=60):
    """Values read from offset 0 of each partition until `expect` messages (or
    the partitions' ends once expect is None and nothing arrives for 3 s)."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer(consumer_conf(broker, **{"isolation.level": isolation}))
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout
    quiet = time.monotonic()
    try:
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                if expect is None and time.monotonic() - quiet > 3:
                    break
                continue
            if m.error():
                continue
            quiet = time.monotonic()
            out.append((m.partition(), m.offset(), m.value()))
            if expect is not None and len(out) >= expect:
                break
    finally:
        c.close()
    return out


class RawIdempotence(SharedBroker):
    def test_init_producer_id_gives_distinct_ids(self):
        ids = set()
        for _ in range(3):
            err, pid, epoch = init_producer_id(self.broker.port)
            self.assertEqual((err, epoch), (0, 0))
            self.assertGreaterEqual(pid, 0)
            ids.add(pid)
        self.assertEqual(len(ids), 3)

    def test_duplicate_batch_gets_its_original_offset(self):
        create_topic(self, self.broker, "idem-dup")
        _, pid, epoch = init_producer_id(self.broker.port)
        port = self.broker.port
        self.assertEqual(d.produce(port, "idem-dup", 0, d.encode_batch([(None, b"other")]))[:2], (0, 0))
        first = idem_batch(pid, epoch, 0, 3)
        self.assertEqual(d.produce(port, "idem-dup", 0, first)[:2], (0, 1))
        self.assertEqual(d.produce(port, "idem-dup", 0, idem_batch(pid, epoch, 3, 2))[:2], (0, 4))
        # retries of either of the last batches: original offsets, nothing appended
        self.assertEqual(d.produce(port, "idem-dup", 0, first)[:2], (0, 1))
        self.assertEqual(d.produce(port, "idem-dup", 0, idem_batch(pid, epoch, 3, 2))[:2], (0, 4))
        self.assertEqual(d.list_offsets(port, "idem-dup", 0)[2], 6)

    def test_sequence_gap_is_out_of_order(self):
        create_topic(self, self.broker, "idem-gap")
        _, pid, epoch = init_producer_id(self.broker.port)
        port = self.broker.port
        self.assertEqual(d.produce(port, "idem-gap", 0, idem_batch(pid, epoch, 0, 2))[0], 0)
        self.assertEqual(d.produce(port, "idem-gap", 0, idem_batch(pid, epoch, 5, 1))[0],
                         OUT_OF_ORDER_SEQUENCE_NUMBER)
        self.assertEqual(d.produce(port, "idem-gap", 0, idem_batch(pid, epoch, 2, 1))[:2], (0, 2))
        self.assertEqual(d.list_offsets(port, "idem-gap", 0)[2], 3)

    def test_stale_epoch_is_rejected(self):
        create_topic(self, self.broker, "idem-epoch")
        _, pid, _ = init_producer_id(self.broker.port)
        port = self.broker.port
        self.assertEqual(d.produce(port, "idem-epoch", 0, idem_batch(pid, 2, 0, 1))[0], 0)
        self.assertEqual(d.produce(port, "idem-epoch", 0, idem_batch(pid, 1, 1, 1))[0], INVALID_PRODUCER_EPOCH)
        # a new epoch must start at sequence 0
        self.assertEqual(d.produce(port, "idem-epoch", 0, idem_batch(pid, 3, 7, 1))[0],
                         OUT_OF_ORDER_SEQUENCE_NUMBER)
        self.assertEqual(d.produce(port, "idem-epoch", 0, idem_batch(pid, 3, 0, 1))[:2], (0, 1))


class ProducerStateRecovery(unittest.TestCase):
    def test_state_survives_restart_and_kill9(self):
        with Broker(name="pstate-restart") as b:
            create_topic(self, b, "ps-r", configs={"segment.bytes": "4096"})
            _, pid, epoch = init_producer_id(b.port)
            offsets = []
            for i in range(40):  # ~200 bytes each: rolls several segments
                err, base, _ = d.produce(b.port, "ps-r", 0, idem_batch(pid, epoch, i * 2, 2, b"x" * 100))
                self.assertEqual(err, 0)
                offsets.append(base)
            part_dir = os.path.join(b.data_dir, "ps-r-0")
            self.assertTrue(glob.glob(os.path.join(part_dir, "*.snapshot")), "no snapshot written at a roll")
            for restart in (b.restart, lambda: (b.kill9(), b.start())):
                restart()
                # the last 5 batches are still known: retries get their offsets
                for i in range(35, 40):
                    batch = idem_batch(pid, epoch, i * 2, 2, b"x" * 100)
                    self.assertEqual(d.produce(b.port, "ps-r", 0, batch)[:2], (0, offsets[i]))
                self.assertEqual(d.produce(b.port, "ps-r", 0, idem_batch(pid, epoch, 200, 1))[0],
                                 OUT_OF_ORDER_SEQUENCE_NUMBER)
            self.assertEqual(d.list_offsets(b.port, "ps-r", 0)[2], 80)

    def test_kill9_without_snapshot_rescans(self):
        with Broker(name="pstate-rescan") as b:
            create_topic(self, b, "ps-s")
            _, pid, epoch = init_producer_id(b.port)
            self.assertEqual(d.produce(b.port, "ps-s", 0, idem_batch(pid, epoch, 0, 3))[:2], (0, 0))
            b.kill9()
            b.start()
            self.assertEqual(d.produce(b.port, "ps-s", 0, idem_batch(pid, epoch, 0, 3))[:2], (0, 0))
            self.assertEqual(d.produce(b.port, "ps-s", 0, idem_batch(pid, epoch, 3, 1))[:2], (0, 3))

    def test_producer_id_expiry(self):
        with Broker({"producer.id.expiration.ms": "1000"}, name="pstate-expiry") as b:
            create_topic(self, b, "ps-x")
            _, pid, epoch = init_producer_id(b.port)
            self.assertEqual(d.produce(b.port, "ps-x", 0, idem_batch(pid, epoch, 0, 1))[0], 0)
            time.sleep(1.2)
            b.restart()  # expiry runs on load too: the state is gone, any sequence is accepted (KIP-360)
            self.assertEqual(d.produce(b.port, "ps-x", 0, idem_batch(pid, epoch, 9, 1))[0], 0)


class ConfluentIdempotent(unittest.TestCase):
    def test_idempotent_producer_across_restart(self):
        from confluent_kafka import Producer
        with fixed_port_broker("idem-confluent") as b:
            create_topic(self, b, "idem-c", partitions=2)
            p = Producer(producer_conf(b, **{"enable.idempotence": True, "linger.ms": 2, "retries": 1000000,
                                              "retry.backoff.ms": 50, "message.timeout.ms": 60000}))
            errors = []
            n = 6000

            def cb(err, msg):
                if err is not None:
                    errors.append(err)

            for i in range(n):
                while True:
                    try:
                        p.produce("idem-c", value=b"%d" % i, partition=i % 2, on_delivery=cb)
                        break
                    except BufferError:
                        p.poll(0.05)
                if i == n // 2:
                    p.poll(0)
                    b.restart()
                p.poll(0)
            self.assertEqual(p.flush(90), 0)
            self.assertEqual(errors, [])
            got = consume_all(b, "idem-c", 2, n)
            vals = [int(v) for _, _, v in got]
            self.assertEqual(len(vals), n, "duplicates or losses")
            self.assertEqual(sorted(vals), list(range(n)))
            for part in (0, 1):
                seq = [int(v) for p_, _, v in got if p_ == part]
                self.assertEqual(seq, sorted(seq), "order within partition %d" % part)


def list_offsets_isolation(port, topic, partition, isolation):
    """ListOffsets v4 latest with an isolation level: the offset."""
    body = (int32(-1) + bytes([isolation]) + int32(1) + string(topic) + int32(1)
            + int32(partition) + int32(-1) + int64(-1))
    resp = d.raw_request(port, d.LIST_OFFSETS, 4, body)
    r = d.Reader(resp)
    r.int32()
    r.int32()
    res = []
    r.array(lambda r: (r.string(), r.array(lambda r: res.append((r.int32(), r.int16(), r.int64(), r.int64(),
                                                                 r.int32())))))
    return res[0][3]


# ---- stray and late transactional batches (RELIABILITY.md bad-input row) ----

ADD_PARTITIONS_TO_TXN, END_TXN = 24, 26
INVALID_TXN_STATE = 48
TRANSACTIONAL = 0x10


def add_partitions_to_txn(port, tid, pid, epoch, topic, partitions):
    """AddPartitionsToTxn v2: {partition: error}."""
    body = (string(tid) + int64(pid) + int16(epoch) + int32(1) + string(topic)
            + int32(len(partitions)) + b"".join(int32(p) for p in partitions))
    r = d.Reader(d.raw_request(port, ADD_PARTITIONS_TO_TXN, 2, body))
    r.int32()
    r.int32()  # throttle
    out = {}
    r.array(lambda r: (r.string(), r.array(lambda r: out.__setitem__(r.int32(), r.int16()))))
    return out


def end_txn(port, tid, pid, epoch, commit):
    """EndTxn v2: the error code."""
    r = d.Reader(d.raw_request(port, END_TXN, 2, string(tid) + int64(pid) + int16(epoch) + bytes([commit])))
    r.int32()
    r.int32()  # throttle
    return r.int16()


def txn_batch(pid, epoch, seq, tag):
    return d.encode_batch([(None, tag)], attributes=TRANSACTIONAL, producer_id=pid, producer_epoch=epoch,
                          base_sequence=seq)


def txn_produce(port, tid, topic, batch):
    resp = d.raw_request(port, d.PRODUCE, 8, d.produce_body(topic, [(0, batch)], -1, 10000, tid))
    return d.parse_produce_v8(resp)[(topic, 0)]


class RawStrayTransactionalBatches(SharedBroker):
    """A transactional batch the coordinator does not expect is refused and
    nothing is appended (KIP-890 part 1 verification)."""

    def end(self, topic):
        return d.list_offsets(self.broker.port, topic, 0)[2]

    def test_batch_for_a_partition_never_added_is_invalid_txn_state(self):
        port, t = self.broker.port, "stray-never-added"
        create_topic(self, self.broker, t)
        err, pid, epoch = init_producer_id(port, "stray-1")
        self.assertEqual(err, 0)
        got = txn_produce(port, "stray-1", t, txn_batch(pid, epoch, 0, b"stray"))
        self.assertEqual(got[0], INVALID_TXN_STATE, got)
        self.assertEqual(self.end(t), 0, "the stray batch was appended")

    def test_batch_with_an_unknown_producer_id_is_refused(self):
        port, t = self.broker.port, "stray-unknown-pid"
        create_topic(self, self.broker, t)
        got = txn_produce(port, "never-initialised", t, txn_batch(987654321, 0, 0, b"stray"))
        self.assertIn(got[0], (INVALID_TXN_STATE, INVALID_PRODUCER_EPOCH), got)
        self.assertEqual(self.end(t), 0)

    def test_late_batch_after_commit_and_old_epoch_after_reinit_are_refused(self):
        port, t, tid = self.broker.port, "stray-late", "stray-late-1"
        create_topic(self, self.broker, t)
        err, pid, epoch = init_producer_id(port, tid)
        self.assertEqual(err, 0)
        self.assertEqual(add_partitions_to_txn(port, tid, pid, epoch, t, [0]), {0: 0})
        self.assertEqual(txn_produce(port, tid, t, txn_batch(pid, epoch, 0, b"in-txn"))[:2], (0, 0))
        self.assertEqual(end_txn(port, tid, pid, epoch, True), 0)
        # the commit marker is written: the last stable offset passes it
        d.wait_for(lambda: list_offsets_isolation(port, t, 0, 1) == 2, 15, "the commit marker")
        # a late batch of the finished transaction (next sequence, same epoch)
        got = txn_produce(port, tid, t, txn_batch(pid, epoch, 1, b"late"))
        self.assertEqual(got[0], INVALID_TXN_STATE, got)
        self.assertEqual(self.end(t), 2, "the late batch was appended")
        # a new InitProducerId bumps the epoch: a batch of the old epoch is fenced
        err, pid2, epoch2 = init_producer_id(port, tid)
        self.assertEqual((err, pid2), (0, pid))
        self.assertGreater(epoch2, epoch)
        self.assertEqual(add_partitions_to_txn(port, tid, pid2, epoch2, t, [0]), {0: 0})
        got = txn_produce(port, tid, t, txn_batch(pid, epoch, 1, b"zombie"))
        self.assertEqual(got[0], INVALID_PRODUCER_EPOCH, got)
        self.assertEqual(self.end(t), 2, "the zombie batch was appended")
        # the new epoch writes from sequence 0
        self.assertEqual(txn_produce(port, tid, t, txn_batch(pid2, epoch2, 0, b"new"))[0], 0)
        self.assertEqual(end_txn(port, tid, pid2, epoch2, False), 0)


def txn_producer(broker, tid, **extra):
    from confluent_kafka import Producer
    conf = producer_conf(broker, **{"transactional.id": tid, "transaction.timeout.ms": 30000, "linger.ms": 5})
    conf.update(extra)
    conf["message.timeout.ms"] = min(conf["message.timeout.ms"], conf["transaction.timeout.ms"])
    p = Producer(conf)
    p.init_transactions(30)
    return p


class ConfluentTransactions(SharedBroker):
    def test_commit_and_abort_read_committed(self):
        create_topic(self, self.broker, "tx-ca", partitions=2)
        p = txn_producer(self.broker, "tx-ca-1")
        p.begin_transaction()
        for i in range(10):
            p.produce("tx-ca", value=b"c1-%d" % i, partition=i % 2)
        p.commit_transaction(30)
        p.begin_transaction()
        for i in range(10):
            p.produce("tx-ca", value=b"a-%d" % i, partition=i % 2)
        p.flush(30)
        p.abort_transaction(30)
        p.begin_transaction()
        for i in range(10):
            p.produce("tx-ca", value=b"c2-%d" % i, partition=i % 2)
        p.commit_transaction(30)
        committed = consume_all(self.broker, "tx-ca", 2, None, "read_committed", timeout=30)
        vals = sorted(v for _, _, v in committed)
        self.assertEqual(vals, sorted([b"c1-%d" % i for i in range(10)] + [b"c2-%d" % i for i in range(10)]))
        uncommitted = consume_all(self.broker, "tx-ca", 2, None, "read_uncommitted", timeout=30)
        self.assertEqual(len(uncommitted), 30)
        for part in (0, 1):
            self.assertEqual(list_offsets_isolation(self.broker.port, "tx-ca", part, 1),
                             list_offsets_isolation(self.broker.port, "tx-ca", part, 0))

    def test_open_transaction_holds_the_lso(self):
        create_topic(self, self.broker, "tx-lso")
        port = self.broker.port
        self.assertEqual(d.produce(port, "tx-lso", 0, d.encode_batch([(None, b"plain")]))[:2], (0, 0))
        p = txn_producer(self.broker, "tx-lso-1")
        p.begin_transaction()
        p.produce("tx-lso", value=b"open", partition=0)
        p.flush(30)
        d.wait_for(lambda: d.list_offsets(port, "tx-lso", 0)[2] == 2, 10, "hwm 2")
        self.assertEqual(list_offsets_isolation(port, "tx-lso", 0, 1), 1)  # LSO stops at the open transaction
        p.commit_transaction(30)
        self.assertEqual(list_offsets_isolation(port, "tx-lso", 0, 1), 3)  # past the marker

    def test_zombie_is_fenced(self):
        from confluent_kafka import KafkaException
        create_topic(self, self.broker, "tx-z")
        p1 = txn_producer(self.broker, "tx-z-1")
        p1.begin_transaction()
        p1.produce("tx-z", value=b"zombie", partition=0)
        p1.flush(30)
        p2 = txn_producer(self.broker, "tx-z-1")  # fences p1 and aborts its transaction
        p2.begin_transaction()
        p2.produce("tx-z", value=b"new", partition=0)
        p2.commit_transaction(30)
        with self.assertRaises(KafkaException) as cm:
            p1.produce("tx-z", value=b"zombie2", partition=0)
            p1.commit_transaction(30)
        err = cm.exception.args[0]
        self.assertTrue(err.fatal() or err.txn_requires_abort(), str(err))
        vals = [v for _, _, v in consume_all(self.broker, "tx-z", 1, None, "read_committed", timeout=30)]
        self.assertEqual(vals, [b"new"])


class TransactionCrash(unittest.TestCase):
    def test_kill9_mid_transaction_aborts_on_timeout(self):
        with fixed_port_broker("tx-kill9") as b:
            create_topic(self, b, "tx-k")
            p = txn_producer(b, "tx-k-1", **{"transaction.timeout.ms": 4000, "socket.timeout.ms": 4000})
            p.begin_transaction()
            for i in range(5):
                p.produce("tx-k", value=b"lost-%d" % i, partition=0)
            p.flush(30)
            p2 = txn_producer(b, "tx-k-2")
            p2.begin_transaction()
            p2.produce("tx-k", value=b"kept", partition=0)
            p2.commit_transaction(30)
            b.kill9()
            del p
            b.start()
            end = d.list_offsets(b.port, "tx-k", 0)[2]
            self.assertEqual(list_offsets_isolation(b.port, "tx-k", 0, 1), 0)
            # transaction.timeout.ms later the coordinator aborts: the LSO reaches the end
            d.wait_for(lambda: list_offsets_isolation(b.port, "tx-k", 0, 1) > end, 20, "LSO past the aborted txn")
            vals = [v for _, _, v in consume_all(b, "tx-k", 1, None, "read_committed", timeout=30)]
            self.assertEqual(vals, [b"kept"])
            b.restart()  # the aborted index (.txnindex) survives a restart
            vals = [v for _, _, v in consume_all(b, "tx-k", 1, None, "read_committed", timeout=30)]
            self.assertEqual(vals, [b"kept"])
            self.assertTrue(glob.glob(os.path.join(b.data_dir, "tx-k-0", "*.txnindex")))


class ConsumeTransformProduce(unittest.TestCase):
    """RELIABILITY.md T3: copy 100k records in transactions of ~750 with
    send_offsets_to_transaction; the output equals the input, 0 duplicates."""

    N = int(os.environ.get("SLUICE_TXN_COPY_N", "100000"))
    BATCH = 750

    def test_copy_exactly_once(self):
        from confluent_kafka import Consumer, Producer, TopicPartition
        with Broker(name="tx-copy") as b:
            create_topic(self, b, "cp-in", partitions=3)
            create_topic(self, b, "cp-out", partitions=3)
            p = Producer(producer_conf(b, **{"linger.ms": 20, "enable.idempotence": True,
                                              "queue.buffering.max.messages": 200000}))
            for i in range(self.N):
                while True:
                    try:
                        p.produce("cp-in", value=b"%d" % i, partition=i % 3)
                        break
                    except BufferError:
                        p.poll(0.05)
            self.assertEqual(p.flush(120), 0)
            c = Consumer(consumer_conf(b, **{"group.id": "cp-group", "enable.auto.commit": False,
                                              "isolation.level": "read_committed",
                                              "session.timeout.ms": 10000}))
            c.subscribe(["cp-in"])
            tp = txn_producer(b, "cp-txn")
            copied = 0
            deadline = time.monotonic() + 600
            while copied < self.N and time.monotonic() < deadline:
                msgs = c.consume(self.BATCH, 1.0)
                msgs = [m for m in msgs if not m.error()]
                if not msgs:
                    continue
                tp.begin_transaction()
                for m in msgs:
                    tp.produce("cp-out", value=m.value(), partition=m.partition())
                positions = c.position(c.assignment())
                tp.send_offsets_to_transaction(positions, c.consumer_group_metadata(), 30)
                tp.commit_transaction(60)
                copied += len(msgs)
            self.assertEqual(copied, self.N, "copied before the deadline")
            committed = c.committed([TopicPartition("cp-in", i) for i in range(3)], 30)
            c.close()
            self.assertEqual(sum(t.offset for t in committed), self.N, "committed offsets cover the input")
            out = consume_all(b, "cp-out", 3, self.N, "read_committed", timeout=180)
            vals = [int(v) for _, _, v in out]
            self.assertEqual(len(vals), self.N)
            self.assertEqual(len(set(vals)), self.N, "duplicates in the output")
            self.assertEqual(sorted(vals), list(range(self.N)))


class Kafkajs(SharedBroker):
    def test_idempotent_and_transactional(self):
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "kafkajs")):
            self.skipTest("kafkajs not installed: run scripts/setup.sh")
        create_topic(self, self.broker, "js-tx", partitions=2)
        p = subprocess.run(["node", os.path.join(JS_DIR, "txn_produce.js"), self.broker.bootstrap, "js-tx", "20"],
                           capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        committed = sorted(v for _, _, v in consume_all(self.broker, "js-tx", 2, None, "read_committed", timeout=30))
        want = sorted([b"idem-%d" % i for i in range(20)] + [b"commit-%d" % i for i in range(20)])
        self.assertEqual(committed, want)
        self.assertEqual(len(consume_all(self.broker, "js-tx", 2, None, "read_uncommitted", timeout=30)), 60)


if __name__ == "__main__":
    harness.main()
