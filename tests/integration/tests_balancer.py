"""Integration tests: two medaidd on one database behind HAProxy (TCP mode, PROXY protocol v2).

HAProxy (Debian's) passes the mutual TLS through untouched and puts a PROXY v2 header
before it (`send-proxy-v2`); each medaidd accepts it on its `proxy_listen` listener,
trusting 127.0.0.1 (`proxy_trusted`). Three HAProxy frontends: one balancing over both
daemons (round robin, health-checked), one to each daemon alone, so that a test can send
a retry to the other instance on purpose. What is checked:

- the daemon logs the real client (curl's own source port), and the per-address cap
  (max_handshakes_per_address) counts each client address, not HAProxy's;
- an idempotent retry on the other instance returns the first answer, byte for byte;
- two conflicting decisions at once, one through each instance: one 201, one 409;
- the monthly cap holds over concurrent questions spread over both instances;
- one instance killed (SIGKILL): the health check moves the traffic, the other serves;
- a PROXY header from an untrusted peer is refused; malformed, oversized and truncated
  headers close their connection and the daemon goes on serving.
"""

import os
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from harness import Daemon, clean_exit, day, expect, free_port, new_ssin, started
from tests_agreements import SAMPLE, cover, decision, question
from tests_api import decision_body

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
_local = threading.local()  # per thread: curl's source address and port


def v2_header(src=("127.0.0.1", 40000), dst=("127.0.0.1", 8443), cmd=0x21, fam=0x11,
              tlvs=b"", length=None):
    """A PROXY protocol v2 header, TCP over IPv4 by default."""
    body = b""
    if fam == 0x11:
        body = (socket.inet_aton(src[0]) + socket.inet_aton(dst[0])
                + struct.pack("!HH", src[1], dst[1]))
    body += tlvs
    n = len(body) if length is None else length
    return SIG + bytes([cmd, fam]) + struct.pack("!H", n) + body


class Front(Daemon):
    """An HAProxy frontend, asked like a daemon (Daemon.request over its port)."""

    def __init__(self, env, name, port):  # noqa: D107 - no daemon of its own
        self.env = env
        self.name = name
        self.port = port
        self.proc = None
        self._n = 0
        self.stderr_path = env.tmp / f"{name}.stderr"

    def curl_base(self, who, max_time):
        args = super().curl_base(who, max_time)
        src = getattr(_local, "src", None)
        if src:
            args += ["--interface", src]
        lport = getattr(_local, "local_port", None)
        if lport:
            args += ["--local-port", str(lport)]
        return args


def as_source(src=None, local_port=None):
    _local.src = src
    _local.local_port = local_port


class Haproxy:
    def __init__(self, env, a_port, b_port):
        self.env = env
        self.all, self.to_a, self.to_b = free_port(), free_port(), free_port()
        self.cfg = env.tmp / "haproxy.cfg"
        server = "send-proxy-v2 check inter 300 fall 2 rise 2"
        self.cfg.write_text(f"""# written by tests_balancer.py
global
    maxconn 4096

defaults
    mode tcp
    timeout connect 3s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch

frontend all
    bind 127.0.0.1:{self.all}
    default_backend both

frontend to_a
    bind 127.0.0.1:{self.to_a}
    default_backend a

frontend to_b
    bind 127.0.0.1:{self.to_b}
    default_backend b

backend both
    balance roundrobin
    server a 127.0.0.1:{a_port} {server}
    server b 127.0.0.1:{b_port} {server}

backend a
    server a 127.0.0.1:{a_port} send-proxy-v2

backend b
    server b 127.0.0.1:{b_port} send-proxy-v2
""")
        self.proc = None
        self.log = env.tmp / "haproxy.stderr"

    def start(self):
        exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
        p = subprocess.run([exe, "-c", "-f", str(self.cfg)], capture_output=True, text=True,
                           timeout=30)
        expect(p.returncode == 0, f"haproxy -c: {p.stdout}{p.stderr}")
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([exe, "-db", "-f", str(self.cfg)], stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            expect(self.proc.poll() is None, f"haproxy exited {self.proc.returncode}: "
                   f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.all), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("haproxy does not listen")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "logf", None):
            self.logf.close()
            self.logf = None


def log_text(d):
    p = d.env.tmp / f"{d.name}.log"
    return p.read_text(errors="replace") if p.exists() else ""


def wait_log(d, needle, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in log_text(d):
            return True
        time.sleep(0.1)
    return False


def closed_within(sock, timeout):
    """True when the peer closes (EOF or reset) within timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, min(0.5, deadline - time.monotonic())))
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            return True
        if data == b"":
            return True
    return False


def tls_health(env, raw, who="admin"):
    """GET /v1/health over an already connected (and PROXY-headed) socket: the status."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(env.certs / "ca.crt"))
    crt, key = env.cert(who)
    ctx.load_cert_chain(str(crt), str(key))
    raw.settimeout(10)
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    line = data.split(b"\r\n", 1)[0]
    return int(line.split()[1]) if line.startswith(b"HTTP/1.1 ") else 0


def run(env, tap):
    if not (shutil.which("haproxy") or os.path.exists("/usr/sbin/haproxy")):
        tap.result(False, "haproxy is installed (scripts/lib.sh need_packages)",
                   "haproxy not found")
        return
    pa, pb, pc = free_port(), free_port(), free_port()
    common = {"workers": 1, "db_pool_size": 4, "proxy_trusted": "127.0.0.1, ::1",
              "max_handshakes_per_address": 2, "tls_handshake_timeout_ms": 5000}
    a = Daemon(env, "bal_a", proxy_listen=f"127.0.0.1:{pa}", **common)
    b = Daemon(env, "bal_b", proxy_listen=f"127.0.0.1:{pb}", **common)
    if not started(tap, a) or not started(tap, b):
        return
    h = Haproxy(env, pa, pb)
    try:
        @tap.case("haproxy (mode tcp, send-proxy-v2) starts in front of both daemons")
        def _():
            h.start()

        if h.proc is None or h.proc.poll() is not None:
            return
        fa, fb, fall = (Front(env, "via_a", h.to_a), Front(env, "via_b", h.to_b),
                        Front(env, "via_all", h.all))
        balanced_tests(env, tap, a, b, fa, fb, fall)
        header_tests(env, tap, a, pa, fa)
        failover_tests(env, tap, a, b, fall)
    finally:
        as_source()
        h.stop()
    clean_exit(tap, a)

    @tap.case("the killed instance left no sanitizer report")
    def _():
        rep = b.sanitizer_report()
        expect(not rep, rep)

    untrusted_tests(env, tap, pc)


def balanced_tests(env, tap, a, b, fa, fb, fall):
    @tap.case("through haproxy, mTLS end to end: the daemon logs curl's own address and port "
              "(from the PROXY header), not haproxy's")
    def _():
        lport = free_port()
        as_source("127.0.0.1", lport)
        try:
            r = fa.request("admin", "GET", "/v1/health")
        finally:
            as_source()
        expect(r.status == 200, repr(r))
        expect(wait_log(a, f" 127.0.0.1:{lport} admin:"),
               f"no log line of 127.0.0.1:{lport} (curl's port):\n{a.tail()}")

    @tap.case("max_handshakes_per_address counts the real client: 5 silent connections from "
              "127.0.0.2 lose their 3 oldest, the one from 127.0.0.3 (older) stays")
    def _():
        socks = []
        try:
            other = socket.socket()
            other.bind(("127.0.0.3", 0))
            other.connect(("127.0.0.1", fa.port))
            socks.append(other)
            time.sleep(0.3)
            mine = []
            for _ in range(5):
                s = socket.socket()
                s.bind(("127.0.0.2", 0))
                s.connect(("127.0.0.1", fa.port))
                socks.append(s)
                mine.append(s)
                time.sleep(0.15)
            time.sleep(0.8)
            closed = [closed_within(s, 0.3) for s in mine]
            expect(closed == [True, True, True, False, False],
                   f"127.0.0.2's five (oldest first) closed: {closed}")
            expect(not closed_within(other, 0.3), "127.0.0.3's only connection was closed: "
                   "the cap counted haproxy's address, not the client's")
        finally:
            for s in socks:
                s.close()

    @tap.case("an idempotent decision write retried on the other instance returns the first "
              "answer, byte for byte; one decision recorded")
    def _():
        s = new_ssin()
        body = decision_body(s)
        key = [f"Idempotency-Key: bal-{s}"]
        r1 = fa.request("ocmw", "POST", "/v1/decisions", body, headers=key)
        expect(r1.status == 201, f"first, through a: {r1!r}")
        r2 = fb.request("ocmw", "POST", "/v1/decisions", body, headers=key)
        expect(r2.status == 201 and r2.body == r1.body,
               f"retry through b: {r2!r}\nfirst: {r1.body!r}")
        n = env.psql(f"SELECT count(*) FROM decision WHERE ssin = '{s}'")
        expect(n == "1", f"{n} decisions")
        rid = r2.header("x-request-id") or ""
        expect(not rid or wait_log(b, rid), "the retry did not reach b")

    @tap.case("overlap race across the instances, 6 rounds: two conflicting decisions at "
              "once (ocmw through a, ocmw2 through b): exactly one 201 and one 409 "
              "decision_overlap, one decision")
    def _():
        for rnd in range(6):
            s = new_ssin()
            bodies = [decision_body(s, reference=f"IT/BA/{rnd}"),
                      decision_body(s, reference=f"IT/BB/{rnd}")]
            gate = threading.Barrier(2)

            def go(i):
                as_source(f"127.0.0.{20 + i}")
                gate.wait()
                f, who = (fa, "ocmw") if i == 0 else (fb, "ocmw2")
                return f.request(who, "POST", "/v1/decisions", bodies[i])

            with ThreadPoolExecutor(2) as ex:
                rs = list(ex.map(go, range(2)))
            st = sorted(r.status for r in rs)
            expect(st == [201, 409], f"round {rnd}: statuses {st}: {rs!r}")
            loser = [r for r in rs if r.status == 409][0]
            expect((loser.json or {}).get("code") == "decision_overlap", repr(loser))
            n = env.psql(f"SELECT count(*) FROM decision WHERE ssin = '{s}'")
            expect(n == "1", f"round {rnd}: {n} decisions")

    @tap.case("monthly cap across the instances: 16 questions at once (8 through each), cap "
              "3000, share 600 each: the OCMW parts sum to exactly 3000, cap_usage 3000")
    def _():
        imp = fa.request("admin", "PUT", "/v1/tariffs", SAMPLE.read_text(), content_type="text/csv")
        expect(imp.status in (200, 201), f"tariff import: {imp!r}")
        s = new_ssin()
        dec = decision(s, [cover("general_practice", ins="none", share="partial", cap=3000)],
                       other=(0, 0))
        r = fa.request("ocmw", "POST", "/v1/decisions", dec)
        expect(r.status == 201, f"decision: {r!r}")
        q = question(s, day(0), items=[{"code": "101076"}])
        gate = threading.Barrier(16)

        def go(i):
            as_source(f"127.0.0.{40 + i}")
            gate.wait()
            return (fa if i % 2 else fb).request("provider", "POST", "/v1/coverage", q,
                                                 max_time=30)

        with ThreadPoolExecutor(16) as ex:
            rs = list(ex.map(go, range(16)))
        bad = [r for r in rs if r.status != 200]
        expect(not bad, f"{len(bad)} of 16 not 200: {bad[:2]!r}")
        parts = [r.json["items"][0]["ocmw_cents"] for r in rs]
        expect(all(0 <= p <= 600 for p in parts) and sum(parts) == 3000,
               f"OCMW parts {parts} (sum {sum(parts)}, cap 3000)")
        used = env.psql(f"SELECT used_cents FROM cap_usage WHERE ssin = '{s}'")
        expect(used == "3000", f"cap_usage {used!r}")
        for d in (a, b):
            expect(log_text(d).count("POST /v1/coverage 200") >= 8,
                   f"{d.name} answered fewer than 8 of the questions")


def header_tests(env, tap, a, pa, fa):
    def connect():
        return socket.create_connection(("127.0.0.1", pa), timeout=5)

    cases = [
        ("a TLS ClientHello without a header", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
        ("the text form (v1)", b"PROXY TCP4 127.0.0.1 127.0.0.1 40000 8443\r\n"),
        ("version 1 in the binary form", SIG + b"\x11\x11\x00\x0c" + b"\x00" * 12),
        ("an oversized header (length 65535)", v2_header(length=65535)),
        ("a TLV overrunning the header", v2_header(tlvs=b"\x04\x00\x09ab")),
        ("UDP over IPv4", v2_header(fam=0x12) + b"\x00" * 12),
        ("an unknown command", v2_header(cmd=0x2F)),
    ]
    for what, data in cases:
        @tap.case(f"proxy_listen: {what}: the connection is closed")
        def _(data=data):
            with connect() as s:
                s.sendall(data)
                expect(closed_within(s, 5), "not closed within 5 s")

    @tap.case("proxy_listen: a truncated header (20 of 28 bytes, then silence) is closed by "
              "the timeout (tls_handshake_timeout_ms 5000)")
    def _():
        with connect() as s:
            s.sendall(v2_header()[:20])
            expect(closed_within(s, 20), "not closed within 20 s")

    @tap.case("proxy_listen: a header in three pieces 0.3 s apart, then TLS: 200, and the log "
              "names the header's client 198.51.100.7:4242")
    def _():
        hdr = v2_header(src=("198.51.100.7", 4242), tlvs=b"\x04\x00\x03abc")
        with connect() as s:
            for piece in (hdr[:5], hdr[5:17], hdr[17:]):
                s.sendall(piece)
                time.sleep(0.3)
            st = tls_health(env, s)
        expect(st == 200, f"status {st}")
        expect(wait_log(a, " 198.51.100.7:4242 admin:"), f"no log line of the client:\n"
               f"{a.tail()}")

    @tap.case("proxy_listen: a LOCAL header (a balancer's own check) keeps the socket's "
              "address")
    def _():
        with connect() as s:
            port = s.getsockname()[1]
            s.sendall(v2_header(cmd=0x20, fam=0x00))
            st = tls_health(env, s)
        expect(st == 200, f"status {st}")
        expect(wait_log(a, f" 127.0.0.1:{port} admin:"), f"no log line of 127.0.0.1:{port}")

    @tap.case("after the bad headers the daemon still serves through haproxy, and logged "
              "them as counts")
    def _():
        r = fa.request("admin", "GET", "/v1/health")
        expect(r.status == 200, repr(r))
        expect(a.proc.poll() is None, "medaidd exited")
        expect(wait_log(a, "without a valid PROXY v2 header"),
               f"no count of the bad headers in the log:\n{a.tail()}")


def failover_tests(env, tap, a, b, fall):
    @tap.case("balanced: 10 requests through the balancing frontend, both instances answer")
    def _():
        before = [log_text(d).count("GET /v1/health 200") for d in (a, b)]
        for i in range(10):
            as_source(f"127.0.0.{60 + i}")
            r = fall.request("admin", "GET", "/v1/health")
            expect(r.status == 200, f"request {i}: {r!r}")
        as_source()
        after = [log_text(d).count("GET /v1/health 200") for d in (a, b)]
        expect(all(x > y for x, y in zip(after, before)),
               f"health answers per instance before {before}, after {after}")

    @tap.case("one instance killed (SIGKILL): after a short bound (3 s) every request through "
              "the balancer succeeds (the health check moved the traffic)")
    def _():
        b.proc.kill()
        b.proc.wait()
        t0 = time.monotonic()
        early = []
        while time.monotonic() - t0 < 3:
            early.append(fall.request("admin", "GET", "/v1/health", max_time=5).status)
        rs = [fall.request("admin", "GET", "/v1/health", max_time=5) for _ in range(20)]
        bad = [r for r in rs if r.status != 200]
        expect(not bad, f"{len(bad)} of 20 failed after 3 s: {bad[:2]!r}")
        print(f"#   within the first 3 s: {early.count(200)} of {len(early)} answered 200")
        s = new_ssin()
        w = fall.request("ocmw", "POST", "/v1/decisions", decision_body(s))
        expect(w.status == 201, f"a write after the failover: {w!r}")


def untrusted_tests(env, tap, pc):
    c = Daemon(env, "bal_untrusted", workers=1, proxy_listen=f"127.0.0.1:{pc}",
               proxy_trusted="192.0.2.1, 2001:db8::/32")
    if not started(tap, c):
        return

    @tap.case("a PROXY header from a peer outside proxy_trusted: closed at once, logged; the "
              "daemon serves on")
    def _():
        with socket.create_connection(("127.0.0.1", pc), timeout=5) as s:
            try:
                s.sendall(v2_header(src=("203.0.113.9", 5555)))
            except OSError:
                pass
            expect(closed_within(s, 5), "not closed")
        expect(wait_log(c, "outside proxy_trusted"), f"not logged:\n{c.tail()}")
        expect("203.0.113.9" not in log_text(c), "the untrusted header's address was used")
        r = c.request("admin", "GET", "/v1/health")
        expect(r.status == 200, repr(r))

    clean_exit(tap, c)
