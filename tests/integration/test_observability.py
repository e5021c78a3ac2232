"""
test_observability.py - the broker's built-in monitoring against real tools: a
real Prometheus server (Debian's `prometheus`) scraping sluiced's /metrics every
second, `promtool check metrics` on the exposition, the health endpoints around
start-up, the JSON admin API beside what confluent-kafka's AdminClient reports,
consumer lag of a committed group, the Grafana dashboard's metric names, and the
slow-request log in JSON lines.

Every wait is condition-based and bounded.

Run: /usr/bin/python3 tests/integration/test_observability.py [TestClass[.test_name]]
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Broker  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARD = os.path.join(REPO, "deploy", "grafana", "sluice.json")
PROM_CONFIG = os.path.join(REPO, "deploy", "prometheus", "prometheus.yml")


def wait_for(cond, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = cond()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - keep polling, report the last
            last = e
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s (last: %r)" % (timeout, what, last))


def http_get(port, path, timeout=10):
    """(status, body bytes, content type) of GET 127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Content-Type", "")


def http_port(broker):
    return broker.listeners["HTTP"][1]


def parse_exposition(text):
    """{(name, frozenset(labels.items())): value} and {family: type}."""
    samples, types = {}, {}
    label_re = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", line)
        assert m, "bad exposition line: %r" % line
        labels = frozenset(label_re.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, types


def sample(samples, name, **labels):
    want = frozenset((k, str(v)) for k, v in labels.items())
    return samples.get((name, want))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def admin(broker):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": broker.bootstrap, "socket.timeout.ms": 10000, "log_level": 3})


def create_topic(broker, name, partitions):
    from confluent_kafka.admin import NewTopic
    a = admin(broker)
    futs = a.create_topics([NewTopic(name, partitions, 1)], operation_timeout=15)
    futs[name].result(30)
    wait_for(lambda: len(admin(broker).list_topics(name, timeout=10).topics[name].partitions) == partitions,
             20, "topic %s in metadata" % name)


def produce(broker, topic, n, size=100, partition=None):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5, "log_level": 3,
                  "message.timeout.ms": 30000})
    errors = []
    for i in range(n):
        kw = {"value": b"x" * size, "key": b"k%d" % i,
              "on_delivery": lambda err, msg: errors.append(err) if err else None}
        if partition is not None:
            kw["partition"] = partition
        while True:
            try:
                p.produce(topic, **kw)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(60)
    assert left == 0 and not errors, "produce: %d left, errors %r" % (left, errors[:3])


class Prometheus:
    """A real Prometheus server on 127.0.0.1 scraping one target every second."""

    def __init__(self, target_port):
        self.tmp = tempfile.mkdtemp(prefix="sluice-prom-")
        self.port = free_port()
        cfg = os.path.join(self.tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: sluice\n    scrape_interval: 1s\n    scrape_timeout: 1s\n"
                    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % target_port)
        self.log = open(os.path.join(self.tmp, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(self.tmp, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, cwd=self.tmp,
            preexec_fn=harness._die_with_parent)
        wait_for(lambda: self.proc.poll() is None and http_get(self.port, "/-/ready", timeout=2)[0] == 200, 30,
                 "prometheus ready")

    def query(self, promql):
        """The instant vector of promql as [(labels, float value)]."""
        st, body, _ = http_get(self.port, "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        res = json.loads(body)
        assert st == 200 and res["status"] == "success", "query %s: %s %r" % (promql, st, res)
        return [(r["metric"], float(r["value"][1])) for r in res["data"]["result"]]

    def value(self, promql):
        r = self.query(promql)
        return r[0][1] if r else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class MonitoredBroker(unittest.TestCase):
    """One broker and one Prometheus scraping it, shared by the class's tests."""

    broker = None
    prom = None
    start_error = None

    def setUp(self):
        cls = type(self)
        if cls.start_error is not None:
            raise cls.start_error
        if cls.broker is None:
            try:
                cls.broker = Broker({"num.partitions": 1}, name="observability").start()
                self.assertIn("HTTP", cls.broker.listeners, "no 'listening HTTP' line")
                if shutil.which("prometheus"):
                    cls.prom = Prometheus(http_port(cls.broker))
            except Exception as e:
                cls.start_error = e
                raise
        self.assertTrue(cls.broker.running(), "sluiced died:\n" + cls.broker.report())

    @classmethod
    def tearDownClass(cls):
        if cls.prom is not None:
            cls.prom.stop()
            cls.prom = None
        if cls.broker is not None:
            cls.broker.cleanup()
            cls.broker = None

    def scrape(self):
        st, body, ctype = http_get(http_port(self.broker), "/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        return body.decode()

    def need_prometheus(self):
        if self.prom is None:
            self.skipTest("prometheus not installed: run scripts/setup.sh")

    # ---- against a real Prometheus ----

    def test_prometheus_sees_messages_in_rate_and_request_latency_histogram(self):
        self.need_prometheus()
        create_topic(self.broker, "obs-rate", 3)
        wait_for(lambda: self.prom.value('up{job="sluice"}') == 1, 30, "target up in prometheus")
        # Produce over a few scrapes so rate() has two samples that differ.
        deadline = time.monotonic() + 60
        rate = None
        while time.monotonic() < deadline:
            produce(self.broker, "obs-rate", 200)
            rate = self.prom.value('sum(rate(kafka_server_brokertopicmetrics_messagesin_total{topic="obs-rate"}[10s]))')
            if rate and rate > 0:
                break
            time.sleep(0.5)
        self.assertTrue(rate and rate > 0, "messages-in rate for obs-rate: %r" % rate)
        count = wait_for(lambda: self.prom.value(
            'sum(kafka_network_requestmetrics_totaltime_seconds_count{request="Produce"})'), 20, "produce count")
        self.assertGreater(count, 0)
        buckets = self.prom.query('kafka_network_requestmetrics_totaltime_seconds_bucket{request="Produce"}')
        les = {b[0]["le"] for b in buckets}
        self.assertIn("+Inf", les)
        self.assertGreater(len(les), 10)
        p99 = wait_for(lambda: self.prom.value(
            'histogram_quantile(0.99, sum by (le) (rate(kafka_network_requestmetrics_totaltime_seconds_bucket'
            '{request="Produce"}[10s])))'), 20, "produce p99")
        self.assertGreater(p99, 0)
        self.assertLess(p99, 30)
        fsync = wait_for(lambda: self.prom.value('kafka_log_logflushstats_logflush_seconds_count'), 20, "fsyncs")
        self.assertGreater(fsync, 0)

    def test_consumer_lag_of_a_committed_paused_group(self):
        from confluent_kafka import Consumer, KafkaException, TopicPartition
        create_topic(self.broker, "obs-lag", 1)
        produce(self.broker, "obs-lag", 100, partition=0)
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "obs-lag-group",
                      "enable.auto.commit": False, "auto.offset.reset": "earliest", "log_level": 3,
                      "session.timeout.ms": 30000})
        try:
            c.assign([TopicPartition("obs-lag", 0, 0)])
            got = 0
            deadline = time.monotonic() + 30
            while got < 40 and time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is not None and not m.error():
                    got += 1
            self.assertEqual(got, 40)
            try:
                c.commit(offsets=[TopicPartition("obs-lag", 0, 40)], asynchronous=False)
            except KafkaException as e:
                self.skipTest("consumer groups: OffsetCommit failed (%s)" % e)
            c.pause([TopicPartition("obs-lag", 0)])
            # The committed offset and the end as the Kafka client sees them.
            committed = c.committed([TopicPartition("obs-lag", 0)], timeout=30)[0].offset
            self.assertEqual(committed, 40)
            _, high = c.get_watermark_offsets(TopicPartition("obs-lag", 0), timeout=30)
            self.assertEqual(high, 100)
            real_lag = high - committed

            def lag_now():
                s, _ = parse_exposition(self.scrape())
                return sample(s, "kafka_consumergroup_lag", consumergroup="obs-lag-group", topic="obs-lag",
                              partition=0)
            self.assertEqual(wait_for(lambda: lag_now() is not None and lag_now(), 20, "lag series"), real_lag)
            st, body, _ = http_get(http_port(self.broker), "/v1/groups/obs-lag-group")
            self.assertEqual(st, 200, body)
            g = json.loads(body)
            self.assertEqual([(o["topic"], o["partition"], o["committed_offset"], o["lag"]) for o in g["offsets"]],
                             [("obs-lag", 0, 40, real_lag)])
            st, body, _ = http_get(http_port(self.broker), "/v1/groups")
            self.assertIn("obs-lag-group", [x["group_id"] for x in json.loads(body)])
            if self.prom is not None:
                v = wait_for(lambda: self.prom.value(
                    'kafka_consumergroup_lag{consumergroup="obs-lag-group",topic="obs-lag",partition="0"}'),
                    20, "lag in prometheus")
                self.assertEqual(v, real_lag)
        finally:
            c.close()

    # ---- the exposition itself ----

    def test_promtool_accepts_the_exposition(self):
        if not shutil.which("promtool"):
            self.skipTest("promtool not installed (Debian package prometheus): run scripts/setup.sh")
        create_topic(self.broker, "obs-lint", 2)
        produce(self.broker, "obs-lint", 50)
        self.scrape()  # the idle-ratio gauge needs a previous scrape
        text = self.scrape()
        p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, "promtool:\n%s%s" % (p.stdout.decode(), p.stderr.decode()))

    def test_counters_match_what_was_produced_and_fetched(self):
        from confluent_kafka import Consumer, TopicPartition
        create_topic(self.broker, "obs-count", 2)
        produce(self.broker, "obs-count", 30, size=100, partition=0)
        produce(self.broker, "obs-count", 20, size=100, partition=1)
        s, types = parse_exposition(self.scrape())
        self.assertEqual(sample(s, "kafka_server_brokertopicmetrics_messagesin_total", topic="obs-count"), 50)
        self.assertEqual(types["kafka_server_brokertopicmetrics_messagesin_total"], "counter")
        self.assertEqual(sample(s, "kafka_log_log_logendoffset", topic="obs-count", partition=0), 30)
        self.assertEqual(sample(s, "kafka_log_log_logendoffset", topic="obs-count", partition=1), 20)
        self.assertEqual(sample(s, "kafka_log_log_logstartoffset", topic="obs-count", partition=0), 0)
        size = sample(s, "kafka_log_log_size", topic="obs-count", partition=0) + \
            sample(s, "kafka_log_log_size", topic="obs-count", partition=1)
        self.assertEqual(sample(s, "kafka_server_brokertopicmetrics_bytesin_total", topic="obs-count"), size)
        self.assertGreater(size, 50 * 100)
        self.assertEqual(sample(s, "kafka_log_log_numlogsegments", topic="obs-count", partition=0), 1)
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "obs-count-reader",
                      "enable.auto.commit": False, "log_level": 3})
        try:
            c.assign([TopicPartition("obs-count", 0, 0), TopicPartition("obs-count", 1, 0)])
            got = 0
            deadline = time.monotonic() + 30
            while got < 50 and time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is not None and not m.error():
                    got += 1
            self.assertEqual(got, 50)
        finally:
            c.close()
        s, _ = parse_exposition(self.scrape())
        self.assertGreaterEqual(sample(s, "kafka_server_brokertopicmetrics_bytesout_total", topic="obs-count"), size)
        self.assertGreaterEqual(sample(s, "kafka_server_replicamanager_partitioncount"), 2)
        self.assertEqual(sample(s, "kafka_server_replicamanager_underreplicatedpartitions"), 0)
        self.assertEqual(sample(s, "kafka_controller_kafkacontroller_offlinepartitionscount"), 0)
        self.assertEqual(sample(s, "kafka_controller_kafkacontroller_activecontrollercount"), 1)
        self.assertGreater(sample(s, "kafka_server_socket_server_metrics_connection_creation_total",
                                  listener="PLAINTEXT"), 0)
        self.assertGreater(sample(s, "kafka_network_requestmetrics_requests_total", request="Fetch",
                                  version=self._fetch_version(s)), 0)
        self.assertGreater(sample(s, "process_resident_memory_bytes"), 0)
        self.assertGreater(sample(s, "process_open_fds"), 0)
        self.assertGreater(sample(s, "sluice_log_flush_bytes_total"), 0)

    @staticmethod
    def _fetch_version(s):
        return next(dict(labels)["version"] for (name, labels) in s
                    if name == "kafka_network_requestmetrics_requests_total" and ("request", "Fetch") in labels)

    def test_dashboard_queries_only_name_exported_metrics(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        exprs = []

        def walk(panels):
            for p in panels:
                exprs.extend(t["expr"] for t in p.get("targets", []))
                walk(p.get("panels", []))
        walk(dash["panels"])
        self.assertGreater(len(exprs), 10)
        titles = " ".join(p.get("title", "") for p in dash["panels"]).lower()
        for what in ("bytes in", "latency", "partitions", "lag", "log size"):
            self.assertIn(what, titles)
        self.scrape()
        _, types = parse_exposition(self.scrape())
        exported = set()
        for name, typ in types.items():
            exported.add(name)
            if typ == "histogram":
                exported.update({name + "_bucket", name + "_sum", name + "_count"})
        # Metric names in PromQL: identifiers not inside {...} or [...], not
        # followed by "(" (functions) and not keywords.
        keywords = {"sum", "by", "rate", "histogram_quantile", "max", "min", "avg", "count", "without", "on",
                    "irate", "increase", "topk", "le", "and", "or", "unless"}
        names = set()
        for e in exprs:
            bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\([a-z_, ]*\)(?=\s*\()|\"[^\"]*\"", " ", e)
            for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare):
                tok = m.group(0)
                if tok in keywords or bare[m.end():].lstrip().startswith("("):
                    continue
                if re.match(r"^\d", tok):
                    continue
                names.add(tok)
        self.assertTrue(names)
        missing = sorted(n for n in names if n not in exported)
        self.assertEqual(missing, [], "dashboard names metrics the broker does not export")
        with open(PROM_CONFIG) as f:
            self.assertIn("/metrics", f.read())

    # ---- JSON admin API ----

    def test_json_endpoints_match_the_admin_client(self):
        create_topic(self.broker, "obs-json", 4)
        md = admin(self.broker).list_topics(timeout=10)
        port = http_port(self.broker)
        st, body, ctype = http_get(port, "/v1/cluster")
        self.assertEqual(st, 200)
        self.assertEqual(ctype, "application/json")
        cl = json.loads(body)
        self.assertEqual(cl["cluster_id"], md.cluster_id)
        self.assertEqual(cl["controller_id"], md.controller_id)
        st, body, _ = http_get(port, "/v1/brokers")
        brokers = json.loads(body)
        self.assertEqual(sorted((b["id"], b["host"], b["port"]) for b in brokers),
                         sorted((b.id, b.host, b.port) for b in md.brokers.values()))
        st, body, _ = http_get(port, "/v1/topics")
        topics = {t["name"]: t["partitions"] for t in json.loads(body)}
        want = {name: len(t.partitions) for name, t in md.topics.items()}
        self.assertEqual({k: v for k, v in topics.items() if k in want}, want)
        self.assertEqual(topics["obs-json"], 4)
        st, body, _ = http_get(port, "/v1/topics/obs-json")
        self.assertEqual(st, 200)
        t = json.loads(body)
        self.assertEqual([p["partition"] for p in t["partitions"]], [0, 1, 2, 3])
        for p in t["partitions"]:
            mp = md.topics["obs-json"].partitions[p["partition"]]
            self.assertEqual((p["leader"], p["replicas"], p["isr"]), (mp.leader, mp.replicas, mp.isrs))
            self.assertEqual(p["log_end_offset"], 0)
        self.assertEqual(http_get(port, "/v1/topics/no-such-topic")[0], 404)
        self.assertEqual(http_get(port, "/v1/nothing-here")[0], 404)
        self.assertEqual(http_get(port, "/nothing")[0], 404)


class StartupHealthTest(unittest.TestCase):
    """Readiness around start-up: live answers as soon as HTTP listens, ready
    only once logs are recovered and the broker registered."""

    def test_ready_flips_to_200_only_after_start_up(self):
        b = Broker({"num.partitions": 1}, name="health")
        try:
            b.start()
            # Many partitions and an unclean stop make the next start-up recover
            # every log, which takes a while, with HTTP already up.
            from confluent_kafka.admin import NewTopic
            a = admin(b)
            futs = a.create_topics([NewTopic("h%d" % i, 20, 1) for i in range(15)], operation_timeout=30)
            for f in futs.values():
                f.result(60)
            produce(b, "h0", 100)
            del a, futs
            b.kill9()
            b.spawn()
            codes = []
            deadline = time.monotonic() + 60
            with b._cond:
                wait = lambda: "HTTP" in b.listeners or b.proc.poll() is not None  # noqa: E731
                while not wait() and time.monotonic() < deadline:
                    b._cond.wait(0.05)
            self.assertIn("HTTP", b.listeners, "no 'listening HTTP' line before ready:\n" + b.report())
            port = b.listeners["HTTP"][1]
            while time.monotonic() < deadline:
                ready_printed = b._ready_seen()
                try:
                    live = http_get(port, "/v1/health/live", timeout=2)[0]
                    ready = http_get(port, "/v1/health/ready", timeout=2)[0]
                except (urllib.error.URLError, ConnectionError, socket.timeout):
                    continue
                self.assertEqual(live, 200)
                codes.append((ready, ready_printed))
                if ready == 200:
                    break
            self.assertTrue(codes and codes[-1][0] == 200, "never ready: %r\n%s" % (codes[-5:], b.report()))
            self.assertTrue(all(c in (200, 503) for c, _ in codes), codes)
            # 200 never came before start-up finished: the "ready" line is
            # printed before the flag is set.
            wait_for(b._ready_seen, 5, "ready line")
            first_200 = next(i for i, (c, _) in enumerate(codes) if c == 200)
            self.assertTrue(all(c == 503 for c, _ in codes[:first_200]))
            self.assertGreater(first_200, 0, "start-up finished before the first probe; no 503 seen: %r" % codes)
        finally:
            b.cleanup()


class LogFormatTest(unittest.TestCase):
    def test_slow_request_log_in_json_lines(self):
        with Broker({"log.format": "json", "log.slow.request.ms": 0}, name="json-log") as b:
            admin(b).list_topics(timeout=10)
            def slow_lines():
                out = []
                for line in b.stderr_text().splitlines():
                    rec = json.loads(line)  # every line is one JSON object
                    self.assertEqual(set(rec), {"ts", "level", "module", "msg"})
                    if "slow request" in rec["msg"]:
                        out.append(rec)
                return out
            recs = wait_for(slow_lines, 10, "a slow-request line")
            rec = next(r for r in recs if "api=Metadata" in r["msg"])
            self.assertEqual(rec["level"], "WARN")
            self.assertEqual(rec["module"], "request")
            fields = dict(kv.split("=", 1) for kv in rec["msg"].split() if "=" in kv)
            for k in ("api", "version", "correlation", "client", "peer", "total_ms", "request_bytes"):
                self.assertIn(k, fields)
            self.assertRegex(rec["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def test_no_slow_request_lines_under_the_default_threshold(self):
        with Broker({}, name="quiet-log") as b:
            admin(b).list_topics(timeout=10)
            time.sleep(0.2)
            self.assertNotIn("slow request", b.stderr_text())


if __name__ == "__main__":
    harness.main()
