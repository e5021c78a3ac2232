"""
harness.py - starts real sluiced processes for integration tests and speaks raw
Kafka protocol to them.

Run tests with Debian's /usr/bin/python3 (its python3-kafka and
python3-confluent-kafka live there). The broker binary is $SLUICED, default
build/asan/sluiced under the repository root.

Startup contract with sluiced: it prints one stdout line per listener,
    listening PLAINTEXT 127.0.0.1:<port>
(and "listening HTTP 127.0.0.1:<port>" for the admin/metrics listener, which the
harness also asks for on a free port, so brokers never fight over 9644)
and then a line starting with "ready" once it serves requests. Broker.start()
waits for that line (condition-based, with a timeout), capturing stderr to a file
that is shown when a test fails.

No broker outlives the test process: each is killed by PR_SET_PDEATHSIG when the
test process dies, by atexit, and by the context manager.
"""

import atexit
import ctypes
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SLUICED = os.environ.get("SLUICED", str(REPO / "build" / "asan" / "sluiced"))
READY_TIMEOUT_S = float(os.environ.get("SLUICE_READY_TIMEOUT", "30"))
TEST_TIMEOUT_S = int(os.environ.get("SLUICE_TEST_TIMEOUT", "180"))
STDERR_TAIL_LINES = 60

_LISTENING = re.compile(r"^listening (\S+) (\S+):(\d+)\s*$")
_live = []          # brokers whose process may be running
_all_brokers = []   # every broker created, for failure reports

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # Runs in the child between fork and exec: SIGKILL it when the test dies.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class BrokerError(Exception):
    pass


class Broker:
    """One sluiced process with its own temporary data directory.

    overrides: dict or list of (key, value), passed as --override key=value after
    the harness's own log.dirs and listeners (so a test may replace those too).
    args: extra arguments placed first (e.g. a properties file).
    """

    def __init__(self, overrides=None, args=None, name="sluiced", ready_timeout=READY_TIMEOUT_S, env=None):
        self.name = name
        self.overrides = list(overrides.items()) if isinstance(overrides, dict) else list(overrides or [])
        self.args = list(args or [])
        self.ready_timeout = ready_timeout
        self.env = dict(os.environ, **(env or {}))
        self.tmp = tempfile.mkdtemp(prefix="sluice-it-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.proc = None
        self.listeners = {}      # listener name -> (host, port) from the last start
        self.stdout_lines = []   # every stdout line of the current process
        self.starts = 0
        self._cond = threading.Condition()
        self._reader = None
        self._stderr_file = None
        _all_brokers.append(self)

    # ---- lifecycle ----

    def command(self):
        cmd = [SLUICED] + self.args
        cmd += ["--override", "log.dirs=" + self.data_dir,
                "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                "--override", "admin.listeners=http://127.0.0.1:0"]
        for k, v in self.overrides:
            cmd += ["--override", "%s=%s" % (k, v)]
        return cmd

    @property
    def stderr_path(self):
        return os.path.join(self.tmp, "stderr.%d.log" % self.starts)

    def spawn(self):
        """Starts the process without waiting for it to be ready."""
        if self.proc is not None and self.proc.poll() is None:
            raise BrokerError("%s is already running" % self.name)
        if not os.path.exists(SLUICED):
            raise BrokerError("%s not found: build it with make build/asan/sluiced or set SLUICED" % SLUICED)
        self.starts += 1
        self.listeners = {}
        self.stdout_lines = []
        self._stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr_file, env=self.env, cwd=self.tmp,
                                     preexec_fn=_die_with_parent)
        _live.append(self)
        self._reader = threading.Thread(target=self._read_stdout, args=(self.proc,), daemon=True)
        self._reader.start()
        return self

    def start(self):
        """Starts sluiced and waits until it prints "ready"."""
        self.spawn()
        deadline = time.monotonic() + self.ready_timeout
        with self._cond:
            while not self._ready_seen():
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise BrokerError("%s exited with %s before ready\n%s"
                                      % (self.name, self.proc.returncode, self.report()))
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill9()
                    raise BrokerError("%s not ready within %.0f s\n%s"
                                      % (self.name, self.ready_timeout, self.report()))
                self._cond.wait(min(left, 0.5))
        if "PLAINTEXT" not in self.listeners:
            raise BrokerError("%s printed ready without a 'listening PLAINTEXT host:port' line\n%s"
                              % (self.name, self.report()))
        return self

    def _ready_seen(self):
        return any(line.startswith("ready") for line in self.stdout_lines)

    def _read_stdout(self, proc):
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                m = _LISTENING.match(line)
                if m and not self._ready_seen():
                    host = m.group(2)
                    if host.startswith("[") and host.endswith("]"):
                        host = host[1:-1]
                    self.listeners[m.group(1)] = (host, int(m.group(3)))
                self.stdout_lines.append(line)
                self._cond.notify_all()
        proc.stdout.close()
        with self._cond:
            self._cond.notify_all()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout):
        """Waits for the process to exit; returns its exit code or None on timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends sig and waits up to timeout seconds; returns the exit code (negative:
        killed by that signal). Raises BrokerError if it does not exit in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.wait(timeout)
        if rc is None:
            self.kill9()
            raise BrokerError("%s did not exit within %s s of signal %d\n%s"
                              % (self.name, timeout, sig, self.report()))
        self._reaped()
        return rc

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reaped()

    def _reaped(self):
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None
        if self in _live:
            _live.remove(self)

    def restart(self, sig=signal.SIGTERM, timeout=10):
        """Stops (if running) and starts again on the same data directory; the port
        may change, as the listener asks for port 0."""
        if self.running():
            self.stop(sig, timeout)
        return self.start()

    def cleanup(self):
        self.kill9()
        if os.environ.get("SLUICE_KEEP_DATA"):
            return
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # ---- addresses ----

    @property
    def port(self):
        return self.listeners["PLAINTEXT"][1]

    @property
    def host(self):
        return self.listeners["PLAINTEXT"][0]

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    # ---- diagnostics ----

    def stderr_text(self, start=None):
        path = os.path.join(self.tmp, "stderr.%d.log" % (start or self.starts))
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def report(self):
        out = ["---- %s: %s" % (self.name, " ".join(self.command()))]
        out.append("---- stdout:")
        out += self.stdout_lines[-20:]
        for i in range(1, self.starts + 1):
            lines = self.stderr_text(i).splitlines()
            out.append("---- stderr (start %d, last %d of %d lines):" % (i, min(len(lines), STDERR_TAIL_LINES),
                                                                        len(lines)))
            out += lines[-STDERR_TAIL_LINES:]
        return "\n".join(out)


def run_sluiced(args, timeout=15, env=None):
    """Runs sluiced with args to completion (for configs that must fail, --help);
    returns (exit code, stdout, stderr). A timeout kills it and raises."""
    if not os.path.exists(SLUICED):
        raise BrokerError("%s not found" % SLUICED)
    tmp = tempfile.mkdtemp(prefix="sluice-it-")
    try:
        p = subprocess.run([SLUICED] + list(args), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                           cwd=tmp, env=dict(os.environ, **(env or {})), preexec_fn=_die_with_parent)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@atexit.register
def _kill_all():
    for b in list(_live):
        try:
            b.kill9()
        except Exception:
            pass


# ---- raw protocol ----

def int8(v):
    return struct.pack(">b", v)


def int16(v):
    return struct.pack(">h", v)


def int32(v):
    return struct.pack(">i", v)


def int64(v):
    return struct.pack(">q", v)


def uvarint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def string(s):
    """STRING / NULLABLE_STRING: int16 length (-1 for None), then UTF-8 bytes."""
    if s is None:
        return int16(-1)
    b = s.encode() if isinstance(s, str) else s
    return int16(len(b)) + b


def compact_string(s):
    """COMPACT_(NULLABLE_)STRING: uvarint length+1 (0 for None)."""
    if s is None:
        return uvarint(0)
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b


def array(items, enc=lambda x: x):
    """ARRAY: int32 count (-1 for None) then each encoded item."""
    if items is None:
        return int32(-1)
    return int32(len(items)) + b"".join(enc(i) for i in items)


def compact_array(items, enc=lambda x: x):
    if items is None:
        return uvarint(0)
    return uvarint(len(items) + 1) + b"".join(enc(i) for i in items)


TAGS_NONE = b"\x00"  # an empty tagged-field section


def request_header(api_key, version, correlation_id, client_id="raw", header_version=1):
    h = int16(api_key) + int16(version) + int32(correlation_id)
    if header_version >= 1:
        h += string(client_id)
    if header_version >= 2:
        h += TAGS_NONE
    return h


def frame(payload):
    return int32(len(payload)) + payload


class Reader:
    """Decodes a response: r = Reader(data); r.int32(); r.compact_array(lambda r: ...)."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("response truncated: need %d bytes at %d of %d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int8(self):
        return struct.unpack(">b", self._take(1))[0]

    def int16(self):
        return struct.unpack(">h", self._take(2))[0]

    def int32(self):
        return struct.unpack(">i", self._take(4))[0]

    def int64(self):
        return struct.unpack(">q", self._take(8))[0]

    def bool(self):
        return self._take(1) != b"\x00"

    def uvarint(self):
        shift = result = 0
        while True:
            b = self._take(1)[0]
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def string(self):
        n = self.int16()
        return None if n < 0 else self._take(n).decode()

    def compact_string(self):
        n = self.uvarint()
        return None if n == 0 else self._take(n - 1).decode()

    def array(self, fn):
        n = self.int32()
        return None if n < 0 else [fn(self) for _ in range(n)]

    def compact_array(self, fn):
        n = self.uvarint()
        return None if n == 0 else [fn(self) for _ in range(n - 1)]

    def tagged_fields(self):
        """Skips a tagged-field section; returns {tag: raw bytes}."""
        tags = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            tags[tag] = self._take(self.uvarint())
        return tags

    def remaining(self):
        return len(self.data) - self.pos


def connect(port, host="127.0.0.1", timeout=10):
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_exact(sock, n):
    """n bytes, or None if the peer closed (or reset) first."""
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except (ConnectionResetError, BrokenPipeError):
            return None
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def recv_response(sock):
    """One response frame's payload (correlation id first), or None if closed."""
    size = recv_exact(sock, 4)
    if size is None:
        return None
    n = struct.unpack(">i", size)[0]
    if n < 4:
        raise ValueError("response frame size %d" % n)
    return recv_exact(sock, n)


def send_all(sock, data):
    """Sends data; False if the peer already closed the connection."""
    try:
        sock.sendall(data)
        return True
    except (ConnectionResetError, BrokenPipeError):
        return False


def wait_closed(sock, timeout=10):
    """True once the peer closes the connection (EOF or reset) within timeout;
    False if it is still open then. Bytes received meanwhile are discarded."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


_correlation = random.Random(1234)


def raw_request(port, api_key, version, body, header_version=1, client_id="raw", correlation_id=None, timeout=10,
                host="127.0.0.1"):
    """Frames one request on a new connection and returns the response payload
    (everything after the 4-byte size, starting with the response header: the
    correlation id, checked against the request's, then a tag section for flexible
    responses other than ApiVersions), or None when the broker closed the
    connection instead of answering."""
    cid = _correlation.randrange(1, 1 << 30) if correlation_id is None else correlation_id
    with connect(port, host, timeout) as s:
        if not send_all(s, frame(request_header(api_key, version, cid, client_id, header_version) + body)):
            return None
        resp = recv_response(s)
    if resp is not None:
        got = struct.unpack(">i", resp[:4])[0]
        if got != cid:
            raise AssertionError("correlation id %d in response, %d sent" % (got, cid))
    return resp


# ---- ApiVersions ----

API_VERSIONS = 18
METADATA = 3
DESCRIBE_CLUSTER = 60


def api_versions_request_body(version):
    if version >= 3:
        return compact_string("sluice-harness") + compact_string("1.0") + TAGS_NONE
    return b""


def parse_api_versions(resp, version):
    """(error_code, {api_key: (min, max)}) from an ApiVersions response payload
    (header v0 always: just the correlation id)."""
    r = Reader(resp)
    r.int32()
    err = r.int16()
    if version >= 3:
        entries = r.compact_array(lambda r: (r.int16(), r.int16(), r.int16(), r.tagged_fields())[:3])
    else:
        entries = r.array(lambda r: (r.int16(), r.int16(), r.int16()))
    keys = {}
    for k, lo, hi in entries or []:
        if k in keys:
            raise AssertionError("ApiVersions lists api key %d twice" % k)
        keys[k] = (lo, hi)
    if version >= 1 and r.remaining() >= 4:
        r.int32()  # throttle_time_ms
    return err, keys


def api_versions(port, version=3, timeout=10):
    hv = 2 if version >= 3 else 1
    resp = raw_request(port, API_VERSIONS, version, api_versions_request_body(version), header_version=hv,
                       timeout=timeout)
    if resp is None:
        raise AssertionError("broker closed the connection on ApiVersions v%d" % version)
    return parse_api_versions(resp, version)


# ---- runner ----

class _TestTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _TestTimeout("test exceeded %d s (SLUICE_TEST_TIMEOUT)" % TEST_TIMEOUT_S)


class _Result(unittest.TextTestResult):
    def startTest(self, test):
        self._first_broker = len(_all_brokers)
        signal.alarm(TEST_TIMEOUT_S)
        super().startTest(test)

    def stopTest(self, test):
        signal.alarm(0)
        super().stopTest(test)

    def addError(self, test, err):
        super().addError(test, err)
        self._attach(self.errors)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._attach(self.failures)

    def _attach(self, lst):
        """Appends the stdout/stderr of brokers started by the failed test."""
        first = getattr(self, "_first_broker", 0)
        mine = [b for b in _all_brokers if b.starts and (b in _all_brokers[first:] or b.running())]
        reports = [b.report() for b in mine]
        if reports and lst:
            test, text = lst[-1]
            lst[-1] = (test, text + "\n" + "\n".join(reports))


def main():
    """Runs the calling module's tests verbosely and prints
    "<file>: N passed, N failed[, N skipped]" last."""
    signal.signal(signal.SIGALRM, _on_alarm)
    module = sys.modules["__main__"]
    loader = unittest.TestLoader()
    names = sys.argv[1:]
    suite = loader.loadTestsFromNames(names, module) if names else loader.loadTestsFromModule(module)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=_Result)
    result = runner.run(suite)
    # A test with failing subtests counts once; errors outside any test (class or
    # module fixtures) count as failures of their own.
    failing, outside = set(), 0
    for test, _ in result.failures + result.errors:
        test = getattr(test, "test_case", test)
        if isinstance(test, unittest.TestCase):
            failing.add(test.id())
        else:
            outside += 1
    # A test marked as an expected failure documents a known bug: it is
    # reported with the skipped ones, never counted as passed.
    known = len(result.expectedFailures)
    skipped = len(result.skipped) + known
    failing_run = len(failing) + len(result.unexpectedSuccesses)
    failed = failing_run + outside
    passed = max(result.testsRun - failing_run - skipped, 0)
    _kill_all()
    line = "%s: %d passed, %d failed" % (os.path.basename(module.__file__), passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    if known:
        print("%d known failure(s) marked expectedFailure are counted as skipped" % known, flush=True)
    sys.stdout.flush()
    print(line, flush=True)
    sys.exit(1 if failed else 0)
