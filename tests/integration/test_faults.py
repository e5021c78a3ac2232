"""
test_faults.py - fault tests of the data path on one real sluiced
(RELIABILITY.md): kill -9 under acks=all load with a checker of every
acknowledged write, and a full disk (ENOSPC on a loop-mounted ext4 log dir).

Run: /usr/bin/python3 tests/integration/test_faults.py [TestClass[.test_name]]
"""

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataproto as d  # noqa: E402
import harness  # noqa: E402
from harness import Broker  # noqa: E402

MIN_KILLS = int(os.environ.get("SLUICE_KILL_CYCLES", "10"))
LOAD_S = float(os.environ.get("SLUICE_KILL_LOAD_S", "45"))  # at least this long under kills
PRODUCERS = 3
PARTITIONS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_topic(test, broker, name, partitions=1):
    res = d.create_topics(broker.port, [(name, partitions, 1, {})])
    test.assertEqual(res[name][0], 0, "CreateTopics %s: %r" % (name, res[name]))
    d.wait_for(lambda: d.metadata(broker.port, [name]).get(name) == (0, list(range(partitions))), 10,
               "topic %s in metadata" % name)


def analyze(log, producers, problems):
    """The checker (RELIABILITY.md C1-C6 for one node): log is {partition: {offset:
    value}} as drained, producers carry pid, sent, ok {seq: (partition, offset, t)}
    and failed {seq: error}. Appends anomalies to problems; returns the acked count."""
    where = {}  # value -> [(partition, offset)]
    for p in log:
        for o, v in log[p].items():
            where.setdefault(v, []).append((p, o))
    by_pid = {pr.pid: pr for pr in producers}
    for v, locs in where.items():
        try:
            pid, seq = int(v[1:v.index(b"-")]), int(v[v.index(b"-") + 1:])
            pr = by_pid[pid]
        except (ValueError, KeyError):
            problems.append("C3: phantom value %r at %r" % (v[:40], locs))
            continue
        if seq >= pr.sent or locs[0][0] != seq % PARTITIONS:
            problems.append("C3: phantom value %r at %r" % (v, locs))
        if len(locs) > 1:
            problems.append("duplicate: %r at %r (never sent twice: no retries)" % (v, locs))
        if seq in pr.failed:
            problems.append("C5: definitely failed %r visible at %r" % (v, locs))
    n_ok = 0
    for pr in producers:
        last = {}
        for seq in sorted(pr.ok):
            part, off, _ = pr.ok[seq]
            n_ok += 1
            v = b"P%d-%08d" % (pr.pid, seq)
            got = log[part].get(off)
            if got != v:
                problems.append("C2: acked %r at partition %d offset %d, log has %r there%s"
                                % (v, part, off, got, "" if v not in where else " (found at %r)" % where[v]))
            if part in last and off <= last[part]:
                problems.append("C6: producer %d seq %d acked at offset %d, not above %d"
                                % (pr.pid, seq, off, last[part]))
            last[part] = off
    return n_ok


class _Producer(threading.Thread):
    """One confluent-kafka producer (acks=all, no retries, so nothing it sends is
    ever sent twice) writing values P<id>-<seq> to partition seq % PARTITIONS and
    logging every outcome: ok (partition, offset), fail (definite) or info."""

    DEFINITE = None  # filled lazily: error codes that mean "not written"

    def __init__(self, pid, bootstrap, topic, stop):
        super().__init__(daemon=True, name="producer-%d" % pid)
        self.pid, self.bootstrap, self.topic, self.stop_ev = pid, bootstrap, topic, stop
        self.sent = 0
        self.ok = {}      # seq -> (partition, offset, ack time)
        self.failed = {}  # seq -> error (definite)
        self.info = {}    # seq -> error (indeterminate)
        self.exc = None

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by the test
            self.exc = e

    def _run(self):
        from confluent_kafka import KafkaError, Producer
        definite = {KafkaError.INVALID_RECORD, KafkaError.INVALID_MSG, KafkaError.MSG_SIZE_TOO_LARGE,
                    KafkaError.INVALID_REQUIRED_ACKS}
        p = Producer({"bootstrap.servers": self.bootstrap, "acks": "all", "enable.idempotence": False,
                      "message.send.max.retries": 0, "linger.ms": 2, "message.timeout.ms": 5000,
                      "request.timeout.ms": 3000, "socket.timeout.ms": 3000, "reconnect.backoff.ms": 20,
                      "reconnect.backoff.max.ms": 200, "client.id": "k9-%d" % self.pid, "log_level": 0,
                      "queue.buffering.max.messages": 20000})

        def cb(err, msg):
            seq = int(msg.value().split(b"-")[1])
            if err is None:
                self.ok[seq] = (msg.partition(), msg.offset(), time.monotonic())
            elif err.code() in definite:
                self.failed[seq] = err
            else:
                self.info[seq] = err

        while not self.stop_ev.is_set():
            for _ in range(10):
                seq = self.sent
                try:
                    p.produce(self.topic, value=b"P%d-%08d" % (self.pid, seq), partition=seq % PARTITIONS,
                              on_delivery=cb)
                except BufferError:
                    break
                self.sent += 1
            p.poll(0.01)
        left = p.flush(20)
        if left:
            raise AssertionError("producer %d: %d messages still queued 20 s after the load ended" % (self.pid, left))


class TestKill9UnderLoad(unittest.TestCase):
    def test_acked_writes_survive_repeated_kill9_exactly_once_in_order_at_their_offsets(self):
        port = free_port()
        b = Broker({"listeners": "PLAINTEXT://127.0.0.1:%d" % port}, name="kill9-load")
        self.addCleanup(b.cleanup)  # after the failure report, which shows the broker's stderr
        b.start()
        self.assertEqual(b.port, port)
        t = "k9"
        create_topic(self, b, t, PARTITIONS)
        stop = threading.Event()
        producers = [_Producer(i, b.bootstrap, t, stop) for i in range(PRODUCERS)]
        for p in producers:
            p.start()
        rnd = random.Random(int(os.environ.get("SLUICE_SEED", "0")) or None)
        acked_cycles = 0
        kills = 0
        t_start = time.monotonic()
        cycle = 0
        while cycle < MIN_KILLS or (time.monotonic() - t_start < LOAD_S and cycle < 40):
            cycle += 1
            # wait for this incarnation to acknowledge something, then a random
            # moment while the load is running
            n0 = sum(len(p.ok) for p in producers)
            for p in producers:
                self.assertIsNone(p.exc, "producer %d: %r" % (p.pid, p.exc))
            try:
                d.wait_for(lambda: sum(len(p.ok) for p in producers) > n0, 15, "acks after restart %d" % cycle)
                acked_cycles += 1
            except AssertionError:
                pass
            time.sleep(rnd.uniform(0.1, 2.0))  # the random kill moment (not a wait for a condition)
            b.kill9()
            kills += 1
            b.start()
            self.assertEqual(b.port, port)
        n0 = sum(len(p.ok) for p in producers)
        d.wait_for(lambda: sum(len(p.ok) for p in producers) > n0, 15, "acks after the last restart")
        stop.set()
        for p in producers:
            p.join(40)
            self.assertFalse(p.is_alive(), "producer %d did not finish" % p.pid)
            self.assertIsNone(p.exc, "producer %d: %r" % (p.pid, p.exc))
        load_s = time.monotonic() - t_start
        self.assertGreaterEqual(kills, MIN_KILLS)
        self.assertGreaterEqual(acked_cycles, kills // 2,
                                "too few incarnations acknowledged writes: the test proved little")
        self.check(b, t, producers, kills, load_s)

    def check(self, b, t, producers, kills, load_s):
        from confluent_kafka import Consumer, TopicPartition
        ends = {p: d.list_offsets(b.port, t, p)[2] for p in range(PARTITIONS)}
        starts = {p: d.list_offsets(b.port, t, p, d.EARLIEST)[2] for p in range(PARTITIONS)}
        self.assertEqual(starts, {p: 0 for p in range(PARTITIONS)})
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "k9-check", "enable.auto.commit": False,
                      "enable.auto.offset.store": False, "auto.offset.reset": "error", "log_level": 3})
        log = {p: {} for p in range(PARTITIONS)}  # partition -> offset -> value
        problems = []
        try:
            c.assign([TopicPartition(t, p, 0) for p in range(PARTITIONS)])
            pending = {p for p in ends if ends[p] > 0}
            nxt = {p: 0 for p in range(PARTITIONS)}
            deadline = time.monotonic() + 60
            while pending and time.monotonic() < deadline:
                for m in c.consume(10000, 0.5):
                    if m.error():
                        raise AssertionError("drain: %s" % m.error())
                    p, o = m.partition(), m.offset()
                    if o != nxt[p]:
                        problems.append("C8: partition %d read offset %d after %d" % (p, o, nxt[p] - 1))
                    nxt[p] = o + 1
                    if o in log[p]:
                        problems.append("C1: partition %d offset %d read twice" % (p, o))
                    log[p][o] = m.value()
                    if o >= ends[p] - 1:
                        pending.discard(p)
            self.assertFalse(pending, "unseen: partitions %s not drained to %r within 60 s" % (pending, ends))
        finally:
            c.close()
        n_ok = analyze(log, producers, problems)
        sent = sum(pr.sent for pr in producers)
        n_info = sum(len(pr.info) for pr in producers)
        n_fail = sum(len(pr.failed) for pr in producers)
        print("\nkill -9 x%d in %.0f s: %d sent, %d acked, %d indeterminate, %d failed; log ends %r; %d problems"
              % (kills, load_s, sent, n_ok, n_info, n_fail, ends, len(problems)), flush=True)
        self.assertGreater(n_ok, 1000, "too few acknowledged writes to judge")
        self.assertEqual(problems[:20], [], "%d anomalies" % len(problems))


class TestChecker(unittest.TestCase):
    """Synthetic histories with each anomaly: the kill -9 checker must catch them
    (and pass a clean one), or its PASS means nothing."""

    class P:
        def __init__(self, pid, sent, ok, failed=()):
            self.pid, self.sent, self.failed = pid, sent, set(failed)
            self.ok = {seq: (part, off, 0.0) for seq, (part, off) in ok.items()}

    def run_checker(self, log, producers):
        problems = []
        analyze(log, producers, problems)
        return problems

    def clean(self):
        # producer 0 sent seq 0..5 to partitions seq % 3; all acked at offsets 0, 1
        log = {0: {0: b"P0-00000000", 1: b"P0-00000003"}, 1: {0: b"P0-00000001", 1: b"P0-00000004"},
               2: {0: b"P0-00000002", 1: b"P0-00000005"}}
        ok = {0: (0, 0), 1: (1, 0), 2: (2, 0), 3: (0, 1), 4: (1, 1), 5: (2, 1)}
        return log, ok

    def test_clean_history_passes(self):
        log, ok = self.clean()
        self.assertEqual(self.run_checker(log, [self.P(0, 6, ok)]), [])

    def test_lost_acked_write_is_caught(self):
        log, ok = self.clean()
        del log[1][1]
        self.assertTrue(any(p.startswith("C2") for p in self.run_checker(log, [self.P(0, 6, ok)])))

    def test_acked_write_at_another_offset_is_caught(self):
        log, ok = self.clean()
        log[0] = {0: b"P0-00000003", 1: b"P0-00000000"}
        self.assertTrue(any(p.startswith("C2") for p in self.run_checker(log, [self.P(0, 6, ok)])))

    def test_duplicate_is_caught(self):
        log, ok = self.clean()
        log[0][2] = b"P0-00000003"
        self.assertTrue(any(p.startswith("duplicate") for p in self.run_checker(log, [self.P(0, 6, ok)])))

    def test_phantom_is_caught(self):
        log, ok = self.clean()
        log[2][2] = b"P0-00000099"
        log[2][3] = b"garbage"
        self.assertEqual(sum(p.startswith("C3") for p in self.run_checker(log, [self.P(0, 6, ok)])), 2)

    def test_visible_definite_failure_is_caught(self):
        log, ok = self.clean()
        del ok[5]
        self.assertTrue(any(p.startswith("C5") for p in self.run_checker(log, [self.P(0, 6, ok, failed=[5])])))

    def test_acked_offsets_not_rising_with_sequence_is_caught(self):
        log, ok = self.clean()
        log[0] = {0: b"P0-00000003", 1: b"P0-00000000"}
        ok[0], ok[3] = (0, 1), (0, 0)
        self.assertTrue(any(p.startswith("C6") for p in self.run_checker(log, [self.P(0, 6, ok)])))


class TestDiskFull(unittest.TestCase):
    """RELIABILITY.md R8 on one node: ENOSPC on the log dir."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to loop-mount a small ext4 file system (running as uid %d)" % os.geteuid())
        for tool in ("mkfs.ext4", "mount", "umount"):
            if not shutil.which(tool):
                self.skipTest("%s not found" % tool)
        self.tmp = tempfile.mkdtemp(prefix="sluice-enospc-")
        self.img = os.path.join(self.tmp, "fs.img")
        self.mnt = os.path.join(self.tmp, "mnt")
        self.mounted = False
        self.broker = None
        os.mkdir(self.mnt)
        subprocess.run(["truncate", "-s", "128M", self.img], check=True, timeout=30)
        subprocess.run(["mkfs.ext4", "-qF", "-m", "0", self.img], check=True, timeout=60)
        p = subprocess.run(["mount", "-o", "loop", self.img, self.mnt], capture_output=True, timeout=30)
        if p.returncode != 0:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.skipTest("cannot loop-mount here: %s" % p.stderr.decode(errors="replace").strip())
        self.mounted = True

    def tearDown(self):
        if self.broker is not None:
            self.broker.cleanup()
        if self.mounted:
            for _ in range(20):
                if subprocess.run(["umount", self.mnt], capture_output=True, timeout=30).returncode == 0:
                    break
                time.sleep(0.25)  # a just-killed process may still hold the mount
            else:
                subprocess.run(["umount", "-l", self.mnt], capture_output=True, timeout=30)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fill(self, path):
        """Writes zeros to path until the file system is full."""
        with open(path, "wb") as f:
            for chunk in (1 << 20, 4096):
                buf = bytes(chunk)
                while True:
                    try:
                        f.write(buf)
                        f.flush()
                    except OSError:
                        break
            try:
                os.fsync(f.fileno())
            except OSError:
                pass

    def test_enospc_is_kafka_storage_error_reads_go_on_and_writes_resume_after_space_is_freed(self):
        data = os.path.join(self.mnt, "data")
        self.broker = b = Broker({"log.dirs": data}, name="enospc")
        b.start()
        t = "full"
        create_topic(self, b, t)
        value = os.urandom(64 << 10)
        for i in range(3):
            err, base, msg = d.produce(b.port, t, 0, d.encode_batch([(b"before", value)]))
            self.assertEqual((err, base), (0, i), msg)
        ballast = os.path.join(self.mnt, "ballast")
        self.fill(ballast)
        end = 3
        first_error = None
        for i in range(200):
            err, base, msg = d.produce(b.port, t, 0, d.encode_batch([(b"during", value)]))
            if err:
                first_error = (err, msg)
                break
            self.assertEqual(base, end)
            end += 1
        self.assertIsNotNone(first_error, "200 produces of 64 KiB all succeeded on a full disk")
        self.assertEqual(first_error[0], d.KAFKA_STORAGE_ERROR, "error on ENOSPC: %r" % (first_error,))
        self.assertTrue(b.running(), "sluiced died on ENOSPC:\n" + b.report())
        # nothing half-appended, and reads are still served
        self.assertEqual(d.list_offsets(b.port, t, 0), (0, -1, end))
        err, hw, recs = d.fetch(b.port, t, 0, 0)
        self.assertEqual((err, hw), (0, end))
        batches = list(d.iter_batches(recs))
        self.assertGreaterEqual(len(batches), 1)
        self.assertIn(value, batches[0][3])
        err, _ = harness.api_versions(b.port, version=3)
        self.assertEqual(err, 0)
        # free the space: writes resume within 10 s, at the old end
        os.unlink(ballast)
        t0 = time.monotonic()
        res = d.wait_for(lambda: (lambda r: r if r[0] == 0 else None)(
            d.produce(b.port, t, 0, d.encode_batch([(b"after", value)]))), 10, "a produce to succeed after rm")
        print("\nwrites resumed %.1f s after the ballast was removed" % (time.monotonic() - t0), flush=True)
        self.assertEqual(res[1], end)
        err, hw, recs = d.fetch(b.port, t, 0, end)
        self.assertEqual((err, hw), (0, end + 1))
        self.assertIn(b"after", list(d.iter_batches(recs))[0][3])
        # and the data survives a restart intact
        b.restart()
        self.assertEqual(d.list_offsets(b.port, t, 0), (0, -1, end + 1))


if __name__ == "__main__":
    harness.main()
