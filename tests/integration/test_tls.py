"""
test_tls.py - TLS listeners (SSL, and the TLS under SASL_SSL) against real
clients: kcat, confluent-kafka (librdkafka), kafka-python, kafkajs and
Python's ssl module for raw frames. A CA, a server certificate (SAN
127.0.0.1 and localhost), client certificates and a second, untrusted CA
are made with the openssl command in a temporary directory at start.

Covered: produce and consume through each client, a fetch of several MiB
compared byte for byte (file pieces are read and encrypted, no sendfile),
pipelined requests over TLS 1.2 and 1.3, a PLAINTEXT listener beside the SSL
one, mutual TLS (ssl.client.auth=required: no certificate and a certificate
from another CA are refused, one from the trusted CA is served), key stores
(PEM file, encrypted PEM key, PKCS12, inline PEM, listener.name.* override),
start-up refusals (JKS, no key store, wrong passwords) and bad input on the
TLS port (plaintext Kafka bytes, garbage, half a ClientHello, a client that
never starts the handshake) while other clients are served, with the
failures counted in /metrics.

Run: /usr/bin/python3 tests/integration/test_tls.py [TestClass[.test_name]]
"""

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Broker  # noqa: E402
from test_data import JS_DIR, confluent_produce, confluent_read, create_topic, need_kafkajs, node  # noqa: E402

HANDSHAKE_TIMEOUT_MS = 3000
CERTS = None  # the directory of the certificates, made by setUpModule


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=CERTS)


def path(name):
    return os.path.join(CERTS, name)


def make_certs():
    """CA, other-CA, server (SAN 127.0.0.1, localhost), clients alice (trusted CA)
    and mallory (other CA), as PEM; the server key store as PEM, encrypted PEM and
    PKCS12."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca, cn in (("ca", "Sluice Test CA"), ("other-ca", "Other CA")):
        openssl("req", "-x509", *ec, "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2", "-subj", "/CN=" + cn)
    with open(path("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    certs = (("server", "/CN=localhost", "ca", "server.ext"),
             ("alice", "/O=acme/OU=eng/CN=alice", "ca", None),
             ("mallory", "/O=acme/OU=eng/CN=mallory", "other-ca", None))
    for name, subj, ca, ext in certs:
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", subj)
        extra = ["-extfile", ext] if ext else []
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", *extra)
    with open(path("server-store.pem"), "w") as out:
        for part in ("server.key", "server.pem"):
            with open(path(part)) as f:
                out.write(f.read())
    openssl("pkcs8", "-topk8", "-in", "server.key", "-v2", "aes-256-cbc", "-passout", "pass:keypw",
            "-out", "server-enc.key")
    with open(path("server-enc-store.pem"), "w") as out:
        for part in ("server-enc.key", "server.pem"):
            with open(path(part)) as f:
                out.write(f.read())
    openssl("pkcs12", "-export", "-inkey", "server.key", "-in", "server.pem", "-certfile", "ca.pem",
            "-passout", "pass:storepw", "-out", "server.p12")
    openssl("pkcs12", "-export", "-nokeys", "-in", "ca.pem", "-passout", "pass:trustpw", "-out", "trust.p12")


def setUpModule():
    global CERTS
    CERTS = tempfile.mkdtemp(prefix="sluice-tls-")
    make_certs()


def tearDownModule():
    if CERTS and not os.environ.get("SLUICE_KEEP_DATA"):
        shutil.rmtree(CERTS, ignore_errors=True)


def read(name):
    with open(path(name)) as f:
        return f.read()


def pem_store():
    return {"ssl.keystore.type": "PEM", "ssl.keystore.location": path("server-store.pem")}


def tls_broker(name, listeners="PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0", **extra):
    ov = {"listeners": listeners, "ssl.handshake.timeout.ms": str(HANDSHAKE_TIMEOUT_MS)}
    ov.update(pem_store())
    ov.update(extra)
    return Broker(ov, name=name)


def ssl_port(broker, listener="SSL"):
    return broker.listeners[listener][1]


def ssl_bootstrap(broker, listener="SSL"):
    return "127.0.0.1:%d" % ssl_port(broker, listener)


def kcat(args, timeout=60):
    p = subprocess.run(["kcat"] + args, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def kcat_ssl(broker, args, cert=None, timeout=60):
    base = ["-b", ssl_bootstrap(broker), "-X", "security.protocol=ssl", "-X", "ssl.ca.location=" + path("ca.pem"),
            "-m", "10"]
    if cert:
        base += ["-X", "ssl.certificate.location=" + path(cert + ".pem"), "-X", "ssl.key.location=" + path(cert + ".key")]
    return kcat(base + args, timeout)


def client_ctx(cert=None, version=None):
    ctx = ssl.create_default_context(cafile=path("ca.pem"))
    if cert:
        ctx.load_cert_chain(path(cert + ".pem"), path(cert + ".key"))
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def api_versions_frame(cid, version=0):
    return harness.frame(harness.request_header(harness.API_VERSIONS, version, cid, "tls-raw") +
                         harness.api_versions_request_body(version))


def tls_api_versions(port, cert=None, version=None, count=1, timeout=10):
    """Sends count pipelined ApiVersions v0 over TLS in one write; returns
    (negotiated TLS version, [correlation ids answered in order]). Raises
    ssl.SSLError / OSError / AssertionError when the server refuses."""
    ctx = client_ctx(cert, version)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(b"".join(api_versions_frame(1000 + i) for i in range(count)))
            got = []
            for _ in range(count):
                resp = harness.recv_response(s)
                if resp is None:
                    raise AssertionError("connection closed after %d of %d responses" % (len(got), count))
                err, apis = harness.parse_api_versions(resp, 0)
                assert err == 0 and harness.API_VERSIONS in apis, (err, apis)
                got.append(int.from_bytes(resp[:4], "big"))
            return s.version(), got


def refused(port, cert=None):
    """True if a TLS client with cert (or none) gets no ApiVersions answer."""
    try:
        tls_api_versions(port, cert=cert, timeout=10)
        return False
    except (ssl.SSLError, OSError, AssertionError):
        return True


def metric(broker, name, listener):
    url = "http://127.0.0.1:%d/metrics" % broker.listeners["HTTP"][1]
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    want = '%s{listener="%s"} ' % (name, listener)
    for line in text.splitlines():
        if line.startswith(want):
            return float(line[len(want):])
    return None


def need(test, tool):
    if not shutil.which(tool):
        test.skipTest("%s not installed: run scripts/setup.sh" % tool)


class SslBroker(unittest.TestCase):
    """One TLS broker per class, started by the first test's setUp."""

    extra = {}
    broker = None
    start_error = None

    def setUp(self):
        cls = type(self)
        if cls.start_error is not None:
            raise cls.start_error
        if cls.broker is None:
            cls.broker = tls_broker(cls.__name__, **cls.extra)
            try:
                cls.broker.start()
            except Exception as e:
                cls.start_error = e
                raise
        self.assertTrue(cls.broker.running(), "sluiced died:\n" + cls.broker.report())

    def tearDown(self):
        self.assertTrue(type(self).broker.running(), "sluiced died:\n" + type(self).broker.report())

    @classmethod
    def tearDownClass(cls):
        if cls.broker is not None:
            cls.broker.cleanup()
            cls.broker = None

    def ssl_conf(self, **extra):
        conf = {"bootstrap.servers": ssl_bootstrap(self.broker), "security.protocol": "SSL",
                "ssl.ca.location": path("ca.pem")}
        conf.update(extra)
        return conf


class TestSslClients(SslBroker):
    """Real clients over an SSL listener (server authentication only)."""

    def test_kcat_metadata_produce_and_consume_over_ssl(self):
        need(self, "kcat")
        create_topic(self, self.broker, "kc-tls")
        rc, out, err = kcat_ssl(self.broker, ["-L", "-t", "kc-tls"])
        self.assertEqual(rc, 0, err)
        self.assertIn(b"ssl://127.0.0.1:%d" % ssl_port(self.broker), out)
        self.assertIn(b"broker 1 at 127.0.0.1:%d" % ssl_port(self.broker), out,
                      "metadata over SSL advertises the SSL listener")
        lines = b"".join(b"tls-line-%d\n" % i for i in range(100))
        p = subprocess.run(["kcat", "-b", ssl_bootstrap(self.broker), "-X", "security.protocol=ssl",
                            "-X", "ssl.ca.location=" + path("ca.pem"), "-P", "-t", "kc-tls"],
                           input=lines, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        rc, out, err = kcat_ssl(self.broker, ["-C", "-t", "kc-tls", "-o", "beginning", "-e", "-q"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, lines)

    def test_confluent_kafka_fetch_of_several_mib_is_byte_for_byte(self):
        t = "ck-tls-big"
        create_topic(self, self.broker, t)
        values = [os.urandom(200 * 1024) for _ in range(40)]  # 8 MiB of incompressible data
        items = [(0, b"k%d" % i, v) for i, v in enumerate(values)]
        confluent_produce(self.broker, t, items, **self.ssl_conf(**{"message.max.bytes": 1000000}))
        got = confluent_read(self.broker, t, {0: len(values)},
                             **self.ssl_conf(**{"fetch.max.bytes": 16 << 20,
                                                "max.partition.fetch.bytes": 16 << 20}))
        self.assertEqual([m[0] for m in got[0]], list(range(len(values))))
        self.assertTrue(all(m[2] == v for m, v in zip(got[0], values)), "a value differs after the TLS fetch")
        # the same bytes over the PLAINTEXT listener (sendfile)
        plain = confluent_read(self.broker, t, {0: len(values)})
        self.assertEqual([m[2] for m in plain[0]], values)

    def test_kafka_python_produce_and_consume_over_ssl(self):
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition
        t = "kp-tls"
        create_topic(self, self.broker, t)
        common = dict(bootstrap_servers=ssl_bootstrap(self.broker), security_protocol="SSL",
                      ssl_cafile=path("ca.pem"), api_version_auto_timeout_ms=10000)
        prod = KafkaProducer(acks="all", request_timeout_ms=10000, **common)
        try:
            futs = [prod.send(t, key=b"k%d" % i, value=b"kp-tls-%d" % i, partition=0) for i in range(50)]
            prod.flush(timeout=30)
            offsets = [f.get(timeout=30).offset for f in futs]
        finally:
            prod.close(timeout=10)
        self.assertEqual(offsets, list(range(50)))
        cons = KafkaConsumer(group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
                             consumer_timeout_ms=20000, **common)
        try:
            cons.assign([TopicPartition(t, 0)])
            cons.seek_to_beginning()
            got = []
            for m in cons:
                got.append(m.value)
                if len(got) == 50:
                    break
        finally:
            cons.close()
        self.assertEqual(got, [b"kp-tls-%d" % i for i in range(50)])

    def test_kafkajs_produce_and_consume_in_a_group_over_ssl(self):
        need_kafkajs(self)
        t = "js-tls"
        create_topic(self, self.broker, t)
        rc, out, err = node("tls_roundtrip.js", ssl_bootstrap(self.broker), t, "js-tls-group", 30, path("ca.pem"),
                            timeout=120)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out.strip().splitlines()[-1]), ["tls-%d" % i for i in range(30)])

    def test_pipelined_requests_over_tls_1_2_and_1_3_answer_in_order(self):
        for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
            with self.subTest(version=name):
                got_version, cids = tls_api_versions(ssl_port(self.broker), version=version, count=200)
                self.assertEqual(got_version, name)
                self.assertEqual(cids, [1000 + i for i in range(200)])

    def test_plaintext_listener_beside_ssl_keeps_working(self):
        t = "plain-beside-ssl"
        create_topic(self, self.broker, t)
        confluent_produce(self.broker, t, [(0, b"p%d" % i, b"plain-%d" % i) for i in range(20)])
        got = confluent_read(self.broker, t, {0: 20}, **self.ssl_conf())
        self.assertEqual([m[2] for m in got[0]], [b"plain-%d" % i for i in range(20)])
        err, apis = harness.parse_api_versions(
            harness.raw_request(self.broker.port, harness.API_VERSIONS, 0, b""), 0)
        self.assertEqual(err, 0)
        # and the TLS port does not speak plaintext
        with harness.connect(ssl_port(self.broker)) as s:
            harness.send_all(s, api_versions_frame(7))
            self.assertTrue(harness.wait_closed(s, HANDSHAKE_TIMEOUT_MS / 1000 * 0.8),
                            "plaintext ApiVersions on the TLS port was not closed before the handshake timeout")


class TestSslBadInput(SslBroker):
    """Bad bytes on the TLS port close that connection, never the broker."""

    def failures(self):
        return metric(self.broker, "sluice_tls_handshake_failures_total", "SSL") or 0

    def assert_served(self):
        _, cids = tls_api_versions(ssl_port(self.broker), count=3)
        self.assertEqual(cids, [1000, 1001, 1002])

    def test_plaintext_api_versions_on_tls_port_is_closed_and_counted(self):
        before = self.failures()
        with harness.connect(ssl_port(self.broker)) as s:
            harness.send_all(s, api_versions_frame(42, 3))
            t0 = time.monotonic()
            self.assertTrue(harness.wait_closed(s, 10))
            self.assertLess(time.monotonic() - t0, HANDSHAKE_TIMEOUT_MS / 1000 * 0.8,
                            "closed by the handshake timeout, not by the failed handshake")
        deadline = time.monotonic() + 10
        while self.failures() < before + 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the counter (a condition), bounded
        self.assertGreaterEqual(self.failures(), before + 1)
        self.assert_served()

    def test_garbage_on_tls_port_is_closed(self):
        for junk in (os.urandom(4096), b"\x16\x03\x01\xff\xff" + b"\x00" * 100, b"GET / HTTP/1.1\r\n\r\n"):
            with self.subTest(junk=junk[:8]):
                with harness.connect(ssl_port(self.broker)) as s:
                    harness.send_all(s, junk)
                    self.assertTrue(harness.wait_closed(s, 10))
        self.assert_served()

    def test_half_client_hello_and_silent_client_are_closed_after_the_timeout_while_others_are_served(self):
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = client_ctx().wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        hello = outgoing.read()
        self.assertGreater(len(hello), 40)
        before = self.failures()
        half = harness.connect(ssl_port(self.broker))
        silent = harness.connect(ssl_port(self.broker))
        try:
            t0 = time.monotonic()
            harness.send_all(half, hello[:len(hello) // 2])
            # served meanwhile: TLS clients complete requests while the two wait
            for _ in range(3):
                self.assert_served()
            self.assertTrue(harness.wait_closed(half, 15), "half ClientHello never closed")
            self.assertTrue(harness.wait_closed(silent, 15), "silent client never closed")
            waited = time.monotonic() - t0
            self.assertGreaterEqual(waited, HANDSHAKE_TIMEOUT_MS / 1000 * 0.9,
                                    "closed before ssl.handshake.timeout.ms")
        finally:
            half.close()
            silent.close()
        self.assertGreaterEqual(self.failures(), before + 2)
        self.assert_served()

    def test_client_closing_mid_handshake_and_after_requests(self):
        for _ in range(20):
            with harness.connect(ssl_port(self.broker)) as s:
                harness.send_all(s, b"\x16\x03\x01")
        ctx = client_ctx()
        for _ in range(20):
            raw = socket.create_connection(("127.0.0.1", ssl_port(self.broker)), timeout=10)
            s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            s.sendall(b"".join(api_versions_frame(i) for i in range(50)))
            s.close()  # without reading the responses
        self.assert_served()


class TestMutualTls(SslBroker):
    """ssl.client.auth=required with a PEM trust store."""

    extra = {"ssl.client.auth": "required", "ssl.truststore.type": "PEM",
             "ssl.truststore.location": None, "log.level": "DEBUG"}

    @classmethod
    def setUpClass(cls):
        cls.extra = dict(cls.extra, **{"ssl.truststore.location": path("ca.pem")})

    def test_client_without_certificate_is_refused(self):
        self.assertTrue(refused(ssl_port(self.broker)))
        need(self, "kcat")
        rc, _, err = kcat_ssl(self.broker, ["-L"], timeout=60)
        self.assertNotEqual(rc, 0, "kcat without a certificate got metadata")

    def test_certificate_from_another_ca_is_refused(self):
        self.assertTrue(refused(ssl_port(self.broker), cert="mallory"))

    def test_certificate_from_the_trusted_ca_is_served_by_kcat_and_confluent_kafka(self):
        _, cids = tls_api_versions(ssl_port(self.broker), cert="alice", count=2)
        self.assertEqual(cids, [1000, 1001])
        need(self, "kcat")
        rc, out, err = kcat_ssl(self.broker, ["-L"], cert="alice")
        self.assertEqual(rc, 0, err)
        t = "mtls"
        create_topic(self, self.broker, t)
        conf = self.ssl_conf(**{"ssl.certificate.location": path("alice.pem"),
                                "ssl.key.location": path("alice.key")})
        confluent_produce(self.broker, t, [(0, b"a", b"from-alice")], **conf)
        got = confluent_read(self.broker, t, {0: 1}, **conf)
        self.assertEqual(got[0][0][2], b"from-alice")

    def test_subject_of_the_verified_certificate_is_read_in_rfc2253_form(self):
        tls_api_versions(ssl_port(self.broker), cert="alice")
        # the handshake is logged at DEBUG with the subject the principal is made from
        want = "client CN=alice,OU=eng,O=acme"
        deadline = time.monotonic() + 10
        while want not in self.broker.stderr_text() and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the log (a condition), bounded
        self.assertIn(want, self.broker.stderr_text())


class TestKeyStores(unittest.TestCase):
    """Each key store form starts a broker that serves TLS; each bad one refuses to start."""

    def serve(self, overrides, listener="SSL", listeners=None):
        ov = {"listeners": listeners or "PLAINTEXT://127.0.0.1:0,%s://127.0.0.1:0" % listener}
        ov.update(overrides)
        with Broker(ov, name="keystore") as b:
            version, cids = tls_api_versions(ssl_port(b, listener), count=2)
            self.assertEqual(cids, [1000, 1001])
            return b

    def refuse(self, overrides, *expect):
        args = ["--override", "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
                "--override", "admin.listeners=http://127.0.0.1:0"]
        tmp = tempfile.mkdtemp(prefix="sluice-tls-refuse-")
        try:
            args += ["--override", "log.dirs=" + tmp]
            for k, v in overrides.items():
                args += ["--override", "%s=%s" % (k, v)]
            rc, out, err = harness.run_sluiced(args, timeout=30)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertNotEqual(rc, 0, "sluiced started with %r" % overrides)
        self.assertNotIn("ready", out)
        for e in expect:
            self.assertIn(e, err)

    def test_pkcs12_key_store(self):
        self.serve({"ssl.keystore.type": "PKCS12", "ssl.keystore.location": path("server.p12"),
                    "ssl.keystore.password": "storepw"})

    def test_encrypted_pem_key_with_ssl_key_password(self):
        self.serve({"ssl.keystore.type": "PEM", "ssl.keystore.location": path("server-enc-store.pem"),
                    "ssl.key.password": "keypw"})

    def test_inline_pem_on_one_line_in_an_override(self):
        one_line = lambda s: " ".join(s.split("\n")).strip()  # noqa: E731
        self.serve({"ssl.keystore.type": "PEM", "ssl.keystore.certificate.chain": one_line(read("server.pem")),
                    "ssl.keystore.key": one_line(read("server.key"))})

    def test_inline_pem_continued_over_lines_in_a_properties_file(self):
        # Kafka's documented form (KIP-651): each PEM line ends with a backslash
        cont = lambda s: " \\\n    ".join(s.strip().split("\n"))  # noqa: E731
        props = path("inline.properties")
        with open(props, "w") as f:
            f.write("ssl.keystore.type=PEM\n")
            f.write("ssl.keystore.certificate.chain=" + cont(read("server.pem")) + "\n")
            f.write("ssl.keystore.key=" + cont(read("server.key")) + "\n")
        with Broker({"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0"}, args=[props], name="props") as b:
            self.assertEqual(tls_api_versions(ssl_port(b))[1], [1000])

    def test_listener_name_override_wins_over_the_global_key(self):
        self.serve({"ssl.keystore.type": "PEM", "ssl.keystore.location": path("does-not-exist.pem"),
                    "listener.name.ssl.ssl.keystore.location": path("server-store.pem")})
        self.refuse({"ssl.keystore.type": "PKCS12", "ssl.keystore.location": path("server.p12"),
                     "ssl.keystore.password": "storepw", "listener.name.ssl.ssl.keystore.password": "nope"},
                    "listener.name.ssl.ssl.keystore.password")

    def test_inline_and_pkcs12_trust_stores_verify_client_certificates(self):
        stores = ({"ssl.truststore.type": "PEM", "ssl.truststore.certificates": read("ca.pem")},
                  {"ssl.truststore.type": "PKCS12", "ssl.truststore.location": path("trust.p12"),
                   "ssl.truststore.password": "trustpw"})
        for store in stores:
            with self.subTest(store=store["ssl.truststore.type"]):
                ov = dict(pem_store(), listeners="PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
                          **{"ssl.client.auth": "required"}, **store)
                with Broker(ov, name="truststore") as b:
                    self.assertEqual(tls_api_versions(ssl_port(b), cert="alice")[1], [1000])
                    self.assertTrue(refused(ssl_port(b), cert="mallory"))
                    self.assertTrue(refused(ssl_port(b)))
        self.refuse(dict(pem_store(), **{"ssl.client.auth": "required", "ssl.truststore.type": "PKCS12",
                                         "ssl.truststore.location": path("trust.p12"),
                                         "ssl.truststore.password": "nope"}), "wrong ssl.truststore.password")
        self.refuse(dict(pem_store(), **{"ssl.client.auth": "required",
                                         "ssl.truststore.location": path("ca.pem")}), "ssl.truststore.type", "JKS")

    def test_sasl_ssl_listener_runs_tls(self):
        with Broker(dict(pem_store(), listeners="PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0"),
                    name="sasl-ssl") as b:
            version, _ = tls_api_versions(ssl_port(b, "SASL_SSL"))
            self.assertIn(version, ("TLSv1.2", "TLSv1.3"))
            with harness.connect(ssl_port(b, "SASL_SSL")) as s:
                harness.send_all(s, api_versions_frame(1))
                self.assertTrue(harness.wait_closed(s, 10), "plaintext served on a SASL_SSL listener")

    def test_enabled_protocols_tls_1_3_only_refuses_a_tls_1_2_client(self):
        ov = dict(pem_store(), **{"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
                                  "ssl.enabled.protocols": "TLSv1.3"})
        with Broker(ov, name="tls13") as b:
            with self.assertRaises(ssl.SSLError):
                tls_api_versions(ssl_port(b), version=ssl.TLSVersion.TLSv1_2)
            self.assertEqual(tls_api_versions(ssl_port(b), version=ssl.TLSVersion.TLSv1_3)[0], "TLSv1.3")

    def test_cipher_suites_by_java_name_are_the_only_ones_offered(self):
        ov = dict(pem_store(), **{"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
                                  "ssl.cipher.suites": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"})
        with Broker(ov, name="ciphers") as b:
            ctx = client_ctx(version=ssl.TLSVersion.TLSv1_2)
            with socket.create_connection(("127.0.0.1", ssl_port(b)), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    self.assertEqual(s.cipher()[0], "ECDHE-ECDSA-AES128-GCM-SHA256")
            # no TLS 1.3 suite listed: TLS 1.3 is off
            with self.assertRaises(ssl.SSLError):
                tls_api_versions(ssl_port(b), version=ssl.TLSVersion.TLSv1_3)
            ctx = client_ctx(version=ssl.TLSVersion.TLSv1_2)
            ctx.set_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384")
            with self.assertRaises(ssl.SSLError):
                with socket.create_connection(("127.0.0.1", ssl_port(b)), timeout=10) as raw:
                    ctx.wrap_socket(raw, server_hostname="127.0.0.1").close()
        self.refuse(dict(pem_store(), **{"ssl.cipher.suites": "TLS_NO_SUCH_CIPHER"}), "ssl.cipher.suites")

    def test_jks_is_refused_at_start_naming_the_key(self):
        self.refuse({"ssl.keystore.location": path("server.p12")}, "ssl.keystore.type", "JKS",
                    "Kafka's default")
        self.refuse({"ssl.keystore.type": "JKS", "ssl.keystore.location": path("server.p12")},
                    "ssl.keystore.type", "PKCS12")

    def test_no_key_store_is_refused_at_start(self):
        self.refuse({}, "listener SSL", "ssl.keystore.location")

    def test_wrong_passwords_are_refused_at_start(self):
        self.refuse({"ssl.keystore.type": "PKCS12", "ssl.keystore.location": path("server.p12"),
                     "ssl.keystore.password": "wrong"}, "wrong ssl.keystore.password")
        self.refuse({"ssl.keystore.type": "PEM", "ssl.keystore.location": path("server-enc-store.pem"),
                     "ssl.key.password": "wrong"}, "ssl.key.password")
        self.refuse({"ssl.keystore.type": "PEM", "ssl.keystore.location": path("server-enc-store.pem")},
                    "encrypted", "ssl.key.password")

    def test_mismatched_key_and_certificate_are_refused(self):
        one_line = lambda s: " ".join(s.split("\n")).strip()  # noqa: E731
        self.refuse({"ssl.keystore.type": "PEM", "ssl.keystore.certificate.chain": one_line(read("server.pem")),
                     "ssl.keystore.key": one_line(read("alice.key"))}, "does not match")

    def test_bad_client_auth_protocol_and_rules_are_refused(self):
        base = pem_store()
        self.refuse(dict(base, **{"listener.name.ssl.ssl.client.auth": "sometimes"}), "ssl.client.auth")
        self.refuse(dict(base, **{"ssl.enabled.protocols": "TLSv1.2,SSLv9"}), "ssl.enabled.protocols", "SSLv9")
        self.refuse(dict(base, **{"ssl.principal.mapping.rules": "RULE:^CN=(.*$/$1/"}),
                    "ssl.principal.mapping.rules")


if __name__ == "__main__":
    harness.main()
