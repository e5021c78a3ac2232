"""
test_faults2.py - more single-node faults from RELIABILITY.md (R8, R9) on a real
sluiced:
  - bytes flipped while stopped in the tail batch, in a middle batch of an older
    segment, in an .index file and in the metadata log: no corrupt byte is ever
    served, a broken index is rebuilt, a corrupt metadata log refuses to start;
  - kill -9 within milliseconds of start while a large unclean log recovers,
    repeated, then a full start serves every acknowledged message;
  - the kill -9 checker of test_faults.py over >= 50 cycles with small segments,
    so kills land during segment rolls;
  - a read-only remount of the log dir (loop-mounted ext4; root only).

Run: /usr/bin/python3 tests/integration/test_faults2.py [TestClass[.test_name]]
"""

import glob
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataproto as d  # noqa: E402
import harness  # noqa: E402
import test_faults as tf  # noqa: E402
from harness import Broker  # noqa: E402

NOT_ENOUGH_REPLICAS = 19


def batch_positions(path):
    """[(file position, base offset, total length)] of each whole batch in a segment."""
    with open(path, "rb") as f:
        data = f.read()
    out, pos = [], 0
    while pos + 12 <= len(data):
        base, blen = struct.unpack(">qi", data[pos:pos + 12])
        if blen <= 0 or pos + 12 + blen > len(data):
            break
        out.append((pos, base, 12 + blen))
        pos += 12 + blen
    return out


def flip(path, pos, mask=0xff):
    with open(path, "r+b") as f:
        f.seek(pos)
        b = f.read(1)
        f.seek(pos)
        f.write(bytes([b[0] ^ mask]))


def segments(b, topic, partition=0):
    return sorted(glob.glob(os.path.join(b.data_dir, "%s-%d" % (topic, partition), "*.log")))


def produce_acked(test, b, topic, n, size=100, tag=b"v"):
    """Produces n one-record batches; returns {offset: batch bytes after the CRC}."""
    acked = {}
    for i in range(n):
        value = tag + b"%06d-" % i + os.urandom(size // 2).hex().encode()[:size]
        batch = d.encode_batch([(b"k%d" % i, value)])
        err, base, msg = d.produce(b.port, topic, 0, batch)
        test.assertEqual(err, 0, msg)
        acked[base] = batch[21:]
    return acked


def drain(port, topic, end, timeout=30):
    """Reads the partition from 0 with raw Fetch v4. Returns (served {offset: batch
    bytes after the CRC}, crc_bad [offsets], stop reason). Every served batch is
    checked against its CRC; reading stops at end, at an error or when no progress."""
    return drain_from(port, topic, 0, end, timeout)


def drain_from(port, topic, off, end, timeout=30):
    """drain() from offset off."""
    served, bad = {}, []
    deadline = time.monotonic() + timeout
    while off < end and time.monotonic() < deadline:
        err, hw, recs = d.fetch(port, topic, 0, off, partition_max_bytes=64 << 10)
        if err:
            return served, bad, "fetch at %d: error %d" % (off, err)
        got = list(d.iter_batches(recs or b""))
        if not got:
            return served, bad, "fetch at %d: no batch (high watermark %d)" % (off, hw)
        moved = False
        for base, blen, count, raw in got:
            if d.crc32c(raw[21:]) != int.from_bytes(raw[17:21], "big"):
                bad.append(base)
            last = base + struct.unpack(">i", raw[23:27])[0]
            if last >= off:
                served[base] = raw[21:]
                off = last + 1
                moved = True
        if not moved:
            return served, bad, "fetch at %d: no progress" % off
    return served, bad, "end" if off >= end else "timeout at %d" % off


def create_topic(test, b, name, partitions=1, configs=None):
    res = d.create_topics(b.port, [(name, partitions, 1, configs or {})])
    test.assertEqual(res[name][0], 0, "CreateTopics %s: %r" % (name, res[name]))
    d.wait_for(lambda: d.metadata(b.port, [name]).get(name) == (0, list(range(partitions))), 10,
               "topic %s in metadata" % name)


class _Base(unittest.TestCase):
    def broker(self, overrides=None, name="faults2"):
        b = Broker(overrides or {}, name=name)
        self.addCleanup(b.cleanup)
        return b

    def assert_nothing_corrupt_served(self, served, bad, acked, what):
        self.assertEqual(bad, [], "%s: batches with a bad CRC served at offsets %r" % (what, bad))
        wrong = [o for o in served if acked.get(o) != served[o]]
        self.assertEqual(wrong, [], "%s: served bytes differ from the acknowledged ones at offsets %r" % (what, wrong))


class TestCorruptionWhileStopped(_Base):
    """R9: bytes flipped while the broker is stopped."""

    def flip_and_check(self, kill, where):
        b = self.broker({"log.segment.bytes": 8192}, name="flip-%s" % where)
        b.start()
        t = "flip"
        create_topic(self, b, t)
        acked = produce_acked(self, b, t, 120)
        end = max(acked) + 1
        if kill:
            b.kill9()
        else:
            b.stop()
        segs = segments(b, t)
        self.assertGreaterEqual(len(segs), 3, "small segments expected: %r" % segs)
        if where == "tail":
            seg = segs[-1]
            pos, base, blen = batch_positions(seg)[-1]
        else:  # a middle batch of the first (older, rolled) segment
            seg = segs[0]
            bl = batch_positions(seg)
            pos, base, blen = bl[len(bl) // 2]
        flip(seg, pos + blen - 10)  # inside the record value
        b.start()
        served, bad, why = drain(b.port, t, end)
        self.assert_nothing_corrupt_served(served, bad, acked, where)
        self.assertNotIn(base, served, "%s: the corrupt batch at offset %d was served" % (where, base))
        before = [o for o in acked if o < base and o not in served]
        after = sorted(o for o in acked if o > base and o in served)
        print("\n%s corruption (%s) at offset %d of %d: %d served, %d after it; drain stopped: %s; "
              "lost before it: %d" % (where, "kill -9" if kill else "clean stop", base, end, len(served),
                                      len(after), why, len(before)), flush=True)
        self.assertEqual(before, [], "%s: batches before the corrupt one were lost: %r" % (where, before[:10]))
        if base + 1 < end:
            # a consumer that seeks past the corrupt batch reads the intact ones after it
            rest, bad2, why2 = drain_from(b.port, t, base + 1, end)
            self.assert_nothing_corrupt_served(rest, bad2, acked, where + " after seeking past it")
            self.assertEqual(sorted(rest), [o for o in sorted(acked) if o > base], why2)
        self.assertTrue(b.running())
        # the broker still takes writes on that partition
        err, _, msg = d.produce(b.port, t, 0, d.encode_batch([(b"k", b"after")]))
        self.assertEqual(err, 0, msg)

    def test_tail_batch_flipped_after_kill9_is_not_served(self):
        self.flip_and_check(True, "tail")

    # After a clean shutdown segments are trusted without a CRC scan (as in
    # Kafka), and below the recovery point nothing is scanned even after kill
    # -9; the bytes found on disk are CRC-checked on their first read instead
    # (storage/verify.c), so the corrupt batch is still never served.
    def test_tail_batch_flipped_after_clean_stop_is_not_served(self):
        self.flip_and_check(False, "tail")

    def test_middle_batch_of_older_segment_flipped_after_kill9_is_not_served(self):
        self.flip_and_check(True, "middle")

    def test_middle_batch_of_older_segment_flipped_after_clean_stop_is_not_served(self):
        self.flip_and_check(False, "middle")

    def test_one_clean_shutdown_marker_for_the_log_dir(self):
        """A clean stop leaves one marker in the log dir (as Kafka's
        .kafka_cleanshutdown), none per partition; a start removes it, so a
        kill -9 afterwards is recovered as unclean; nothing is lost either way."""
        b = self.broker(name="marker")
        b.start()
        t = "marker"
        create_topic(self, b, t, partitions=4)
        acked = produce_acked(self, b, t, 30)
        marker = os.path.join(b.data_dir, ".sluice_cleanshutdown")
        self.assertFalse(os.path.exists(marker), "marker present while running")
        b.stop()
        self.assertTrue(os.path.exists(marker), "no marker after a clean stop")
        per_part = glob.glob(os.path.join(b.data_dir, t + "-*", ".sluice_cleanshutdown"))
        self.assertEqual(per_part, [], "partition directories hold their own markers")
        b.start()
        self.assertFalse(os.path.exists(marker), "the marker survived a start")
        served, bad, why = drain(b.port, t, max(acked) + 1)
        self.assert_nothing_corrupt_served(served, bad, acked, "after a clean restart")
        self.assertEqual(sorted(served), sorted(acked), why)
        b.kill9()
        self.assertFalse(os.path.exists(marker))
        b.start()
        served, bad, why = drain(b.port, t, max(acked) + 1)
        self.assert_nothing_corrupt_served(served, bad, acked, "after kill -9")
        self.assertEqual(sorted(served), sorted(acked), why)

    def test_broken_index_is_rebuilt_and_every_offset_reads_right(self):
        b = self.broker({"log.segment.bytes": 16384, "log.index.interval.bytes": 100}, name="index")
        b.start()
        t = "idx"
        create_topic(self, b, t)
        acked = produce_acked(self, b, t, 150)
        end = max(acked) + 1
        b.stop()
        idx = sorted(glob.glob(os.path.join(b.data_dir, "%s-0" % t, "*.index")))
        sizes = [os.path.getsize(p) for p in idx]
        self.assertTrue(any(sizes), "no index entries written: %r" % list(zip(idx, sizes)))
        rnd = random.Random(7)
        for p, n in zip(idx, sizes):
            if n:  # garbage in every index that has entries, and a torn one
                with open(p, "r+b") as f:
                    f.write(bytes(rnd.randrange(256) for _ in range(n)))
        last = idx[-1]
        with open(last, "ab") as f:
            f.write(b"\x01\x02\x03")  # not a multiple of the entry size
        b.start()
        served, bad, why = drain(b.port, t, end)
        self.assert_nothing_corrupt_served(served, bad, acked, "index")
        self.assertEqual(sorted(served), sorted(acked), "drain: %s" % why)
        # random point reads land on the right batch
        for o in rnd.sample(sorted(acked), 40):
            err, hw, recs = d.fetch(b.port, t, 0, o, partition_max_bytes=1)
            self.assertEqual(err, 0)
            got = {base: raw[21:] for base, _, _, raw in d.iter_batches(recs)}
            self.assertEqual(got.get(o), acked[o], "fetch at %d after the index was broken" % o)

    def meta_log(self, b):
        logs = sorted(glob.glob(os.path.join(b.data_dir, "__cluster_metadata-0", "*.log")))
        self.assertTrue(logs, "no metadata log")
        return logs[-1]

    def meta_broker(self, kill=False):
        b = self.broker(name="metalog")
        b.start()
        for i in range(6):
            create_topic(self, b, "m%d" % i)
        if kill:
            b.kill9()
        else:
            b.stop()
        return b

    def test_metadata_log_corrupt_in_the_middle_refuses_to_start_with_a_clear_message(self):
        self.meta_middle_flip(self.meta_broker())

    # After kill -9 recovery CRC-scans the metadata log; it used to truncate at the
    # first bad batch and drop every committed batch after it (topics vanished
    # silently). Only a torn last batch may be truncated (strict_recovery).
    def test_metadata_log_corrupt_in_the_middle_after_kill9_refuses_to_start(self):
        self.meta_middle_flip(self.meta_broker(kill=True))

    def meta_middle_flip(self, b):
        log = self.meta_log(b)
        bl = batch_positions(log)
        self.assertGreaterEqual(len(bl), 4, "metadata batches: %r" % bl)
        pos, base, blen = bl[len(bl) // 2]
        flip(log, pos + blen - 3)
        with self.assertRaises(harness.BrokerError, msg="started on a metadata log with a CRC-bad batch in the "
                                                        "middle (offset %d of %d batches)" % (base, len(bl))):
            b.start()
        err = b.stderr_text().lower()
        self.assertTrue("metadata" in err or "__cluster_metadata" in err, err[-2000:])
        self.assertTrue(any(w in err for w in ("crc", "corrupt", "checksum")), err[-2000:])
        self.assertFalse(b.running())

    def test_metadata_log_torn_tail_batch_is_truncated_and_earlier_topics_survive(self):
        self.torn_meta_tail(self.meta_broker())

    def test_metadata_log_torn_tail_batch_after_kill9_is_truncated_and_earlier_topics_survive(self):
        self.torn_meta_tail(self.meta_broker(kill=True))

    def torn_meta_tail(self, b):
        log = self.meta_log(b)
        size = os.path.getsize(log)
        os.truncate(log, size - 5)  # the last batch torn, as by a crash mid-write
        b.start()
        md = d.metadata(b.port, ["m%d" % i for i in range(5)])
        for i in range(5):
            self.assertEqual(md.get("m%d" % i), (0, [0]), "topic m%d after a torn metadata tail: %r" % (i, md))


class TestKill9DuringRecovery(_Base):
    """R9: kill -9 within milliseconds of start, while a large unclean log
    recovers, several times; then a full start serves every acknowledged batch."""

    KILLS = 8

    def test_repeated_kill9_during_recovery_loses_nothing_acknowledged(self):
        # one big active segment: an unclean start CRC-scans all of it
        b = self.broker({"log.segment.bytes": 256 << 20}, name="recovery")
        b.start()
        t = "rec"
        create_topic(self, b, t)
        # about 24 MiB in 64 KiB batches of a few records each
        acked = {}
        big = os.urandom(16 << 10)
        for i in range(384):
            batch = d.encode_batch([(b"k%d-%d" % (i, j), big[j:] + b"%d" % i) for j in range(4)])
            err, base, msg = d.produce(b.port, t, 0, batch)
            self.assertEqual(err, 0, msg)
            acked[base] = batch[21:]
        end = max(acked) + 4
        b.kill9()  # unclean: the next start recovers the log
        rnd = random.Random(int(os.environ.get("SLUICE_SEED", "0")) or None)
        t0 = time.monotonic()
        b.start()
        full_recovery = time.monotonic() - t0
        b.kill9()
        for i in range(self.KILLS):
            b.spawn()
            time.sleep(rnd.uniform(0.002, max(0.02, full_recovery * 0.8)))  # the random kill moment
            b.kill9()
        t0 = time.monotonic()
        b.start()
        print("\nstart after kill -9 with ~24 MiB unclean: %.2f s; %d kills during recovery; final start %.2f s"
              % (full_recovery, self.KILLS, time.monotonic() - t0), flush=True)
        self.assertEqual(d.list_offsets(b.port, t, 0)[2], end)
        served, bad, why = drain(b.port, t, end, timeout=60)
        self.assert_nothing_corrupt_served(served, bad, acked, "recovery")
        self.assertEqual(sorted(served), sorted(acked), "drain: %s" % why)


class TestKill9FiftyCycles(tf.TestKill9UnderLoad):
    """The kill -9 checker of test_faults.py over >= 50 kill/restart cycles, with
    64 KiB segments so kills also land during segment rolls under load."""

    CYCLES = int(os.environ.get("SLUICE_KILL50_CYCLES", "50"))

    # the parent's own test runs in test_faults.py
    test_acked_writes_survive_repeated_kill9_exactly_once_in_order_at_their_offsets = None

    def test_50_kill9_cycles_with_segment_rolls_lose_and_duplicate_nothing(self):
        port = tf.free_port()
        b = Broker({"listeners": "PLAINTEXT://127.0.0.1:%d" % port, "log.segment.bytes": 65536},
                   name="kill9-50")
        self.addCleanup(b.cleanup)
        b.start()
        t = "k50"
        tf.create_topic(self, b, t, tf.PARTITIONS)
        stop = threading.Event()
        producers = [tf._Producer(i, b.bootstrap, t, stop) for i in range(tf.PRODUCERS)]
        for p in producers:
            p.start()
        rnd = random.Random(int(os.environ.get("SLUICE_SEED", "0")) or None)
        kills = acked_cycles = 0
        t_start = time.monotonic()
        while kills < self.CYCLES:
            n0 = sum(len(p.ok) for p in producers)
            for p in producers:
                self.assertIsNone(p.exc, "producer %d: %r" % (p.pid, p.exc))
            try:
                d.wait_for(lambda: sum(len(p.ok) for p in producers) > n0, 10, "acks after restart %d" % kills)
                acked_cycles += 1
            except AssertionError:
                pass
            time.sleep(rnd.uniform(0.05, 0.6))  # the random kill moment (not a wait for a condition)
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
        self.assertGreaterEqual(kills, 50)
        self.assertGreaterEqual(acked_cycles, kills // 2, "too few incarnations acknowledged writes")
        nsegs = sum(len(segments(b, t, p)) for p in range(tf.PARTITIONS))
        self.assertGreater(nsegs, tf.PARTITIONS * 2, "segments did not roll: %d segment files" % nsegs)
        print("\n%d segment files" % nsegs, flush=True)
        self.check(b, t, producers, kills, load_s)


class TestReadOnlyRemount(unittest.TestCase):
    """R8: `mount -o remount,ro` of the log dir's file system under a running broker."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to loop-mount and remount an ext4 file system (running as uid %d)"
                          % os.geteuid())
        for tool in ("mkfs.ext4", "mount", "umount"):
            if not shutil.which(tool):
                self.skipTest("%s not found" % tool)
        self.tmp = tempfile.mkdtemp(prefix="sluice-ro-")
        self.img = os.path.join(self.tmp, "fs.img")
        self.mnt = os.path.join(self.tmp, "mnt")
        self.mounted = False
        self.broker = None
        os.mkdir(self.mnt)
        subprocess.run(["truncate", "-s", "64M", self.img], check=True, timeout=30)
        subprocess.run(["mkfs.ext4", "-qF", "-m", "0", self.img], check=True, timeout=60)
        self.mount()

    def mount(self):
        p = subprocess.run(["mount", "-o", "loop,errors=remount-ro", self.img, self.mnt], capture_output=True,
                           timeout=30)
        if p.returncode != 0:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.skipTest("cannot loop-mount here: %s" % p.stderr.decode(errors="replace").strip())
        self.mounted = True

    def umount(self):
        for _ in range(20):
            if subprocess.run(["umount", self.mnt], capture_output=True, timeout=30).returncode == 0:
                break
            time.sleep(0.25)
        else:
            subprocess.run(["umount", "-l", self.mnt], capture_output=True, timeout=30)
        self.mounted = False

    def tearDown(self):
        if self.broker is not None:
            self.broker.cleanup()
        if self.mounted:
            subprocess.run(["mount", "-o", "remount,rw", self.mnt], capture_output=True, timeout=30)
            for _ in range(20):
                if subprocess.run(["umount", self.mnt], capture_output=True, timeout=30).returncode == 0:
                    break
                time.sleep(0.25)
            else:
                subprocess.run(["umount", "-l", self.mnt], capture_output=True, timeout=30)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def remount(self, mode):
        p = subprocess.run(["mount", "-o", "remount,%s" % mode, self.mnt], capture_output=True, timeout=30)
        return p.returncode, p.stderr.decode(errors="replace").strip()

    def test_remount_ro_is_storage_error_reads_go_on_and_writes_resume_after_rw(self):
        data = os.path.join(self.mnt, "data")
        self.broker = b = Broker({"log.dirs": data}, name="remount-ro")
        b.start()
        t = "ro"
        create_topic(self, b, t)
        value = os.urandom(4 << 10)
        for i in range(5):
            err, base, msg = d.produce(b.port, t, 0, d.encode_batch([(b"before", value)]))
            self.assertEqual((err, base), (0, i), msg)
        rc, msg = self.remount("ro")
        emergency = rc != 0
        if emergency:
            # ext4 refuses `remount,ro` while files are open for writing (EBUSY), so
            # the file system is made read-only the way a disk error does it:
            # errors=remount-ro plus ext4's trigger_fs_error (emergency_ro, which
            # only an unmount undoes)
            dev = os.path.basename(subprocess.run(["findmnt", "-no", "SOURCE", self.mnt], capture_output=True,
                                                  text=True, timeout=30).stdout.strip())
            trig = "/sys/fs/ext4/%s/trigger_fs_error" % dev
            if not os.path.exists(trig):
                self.skipTest("remount,ro refused (%s) and no %s" % (msg, trig))
            with open(trig, "w") as f:
                f.write("1")
        errs = []
        for i in range(20):
            err, base, msg = d.produce(b.port, t, 0, d.encode_batch([(b"during", value)]))
            errs.append(err)
            if err:
                break
        self.assertTrue(b.running(), "sluiced died on a read-only remount:\n" + b.report())
        self.assertIn(errs[-1], (d.KAFKA_STORAGE_ERROR, NOT_ENOUGH_REPLICAS), "produce errors: %r" % errs)
        end = 5 + errs.count(0)
        err, hw, recs = d.fetch(b.port, t, 0, 0)
        self.assertEqual((err, hw), (0, end))
        self.assertIn(value, list(d.iter_batches(recs))[0][3])
        self.assertEqual(harness.api_versions(b.port, version=3)[0], 0)
        if emergency:
            # emergency_ro cannot be remounted rw: stop, unmount, mount, start
            b.stop()
            self.umount()
            self.mount()
            b.start()
        else:
            rc, msg = self.remount("rw")
            self.assertEqual(rc, 0, msg)
        t0 = time.monotonic()
        res = d.wait_for(lambda: (lambda r: r if r[0] == 0 else None)(
            d.produce(b.port, t, 0, d.encode_batch([(b"after", value)]))), 10, "a produce to succeed after rw")
        print("\nwrites resumed %.1f s after remount,rw; errors while ro: %r" % (time.monotonic() - t0, errs),
              flush=True)
        self.assertEqual(res[1], end)
        b.restart()
        self.assertEqual(d.list_offsets(b.port, t, 0), (0, -1, end + 1))


if __name__ == "__main__":
    harness.main()
