"""Integration tests: unauthenticated connections cannot lock real clients out.

An attacker (one thread, non-blocking sockets, loopback only) tries to hold 2,000 plain
TCP connections that never start TLS and 1,000 "slow TLS" connections that send a
ClientHello one byte a second, from 100 source addresses in 127.0.0.0/8, reopening
what the daemon closes (at most REFILL_PER_TICK every 0.1 s, for a bounded time).
Meanwhile real mTLS clients (Python ssl, curl, openssl s_client) from 127.0.0.1 open
new connections and send requests: at least 99 % must succeed.

File descriptors: this process raises its own RLIMIT_NOFILE to 8192 (it needs about
3,100; as root the hard limit is raised too, so it works on CI as it is); the daemon
is started with a soft limit of 1024 and must raise its own.
"""

import random
import resource
import selectors
import subprocess
import socket
import ssl
import threading
import time

from harness import Daemon, expect, read_http
from tests_api import s_client

PLAIN = 2000
SLOW = 1000
PLAIN_SOURCES = [f"127.0.1.{i}" for i in range(1, 51)]
SLOW_SOURCES = [f"127.0.2.{i}" for i in range(1, 51)]
REFILL_PER_TICK = 150
FLOOD_S = 25  # the longest the attack lasts
NOFILE = 8192


def raise_own_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= NOFILE:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, max(hard, NOFILE)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    expect(resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= PLAIN + SLOW + 200,
           f"RLIMIT_NOFILE {resource.getrlimit(resource.RLIMIT_NOFILE)}: the flood test needs "
           f"ulimit -n >= {PLAIN + SLOW + 200} (run as root, or raise the hard limit)")


def client_hello():
    """The bytes of a real TLS ClientHello (never completed)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


class Attacker:
    """Holds (tries to hold) PLAIN + SLOW unauthenticated connections to port."""

    def __init__(self, port, plain=PLAIN, slow=SLOW, plain_sources=PLAIN_SOURCES,
                 slow_sources=SLOW_SOURCES, refill=True):
        self.port = port
        self.hello = client_hello()
        self.want = [("plain", plain_sources[i % len(plain_sources)]) for i in range(plain)]
        self.want += [("slow", slow_sources[i % len(slow_sources)]) for i in range(slow)]
        self.refill = refill
        self.sel = selectors.DefaultSelector()
        self.open = {}  # fd -> [sock, kind, src, sent bytes, slot]
        self.down = list(range(len(self.want)))  # slots to (re)open
        self.opened = 0
        self.closed_by_server = 0
        self.max_open = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def finish(self):
        self.stop.set()
        self.thread.join(30)
        for fd, ent in list(self.open.items()):
            try:
                self.sel.unregister(ent[0])
            except (KeyError, ValueError):
                pass
            ent[0].close()
        self.open.clear()
        self.sel.close()

    def connect(self, slot):
        kind, src = self.want[slot]
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((src, 0))
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port))
        except OSError:
            s.close()
            self.down.append(slot)
            return
        self.open[s.fileno()] = [s, kind, src, 0, slot]
        self.sel.register(s, selectors.EVENT_READ)
        self.opened += 1

    def lost(self, fd):
        ent = self.open.pop(fd)
        try:
            self.sel.unregister(ent[0])
        except (KeyError, ValueError):
            pass
        ent[0].close()
        self.closed_by_server += 1
        if self.refill:
            self.down.append(ent[4])

    def loop(self):
        deadline = time.monotonic() + FLOOD_S + 10
        first = True
        next_drip = time.monotonic()
        while not self.stop.is_set() and time.monotonic() < deadline:
            n = len(self.down) if first else min(REFILL_PER_TICK, len(self.down))
            first = False
            for _ in range(n):
                self.connect(self.down.pop(0))
            self.max_open = max(self.max_open, len(self.open))
            tick_end = time.monotonic() + 0.1
            while time.monotonic() < tick_end:
                for key, _ev in self.sel.select(max(0.0, tick_end - time.monotonic())):
                    fd = key.fileobj.fileno()
                    if fd not in self.open:
                        continue
                    try:
                        data = key.fileobj.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        self.lost(fd)
            if time.monotonic() >= next_drip:  # slow TLS: one more byte a second
                next_drip = time.monotonic() + 1.0
                for fd, ent in list(self.open.items()):
                    if ent[1] != "slow" or ent[3] >= len(self.hello) - 1:
                        continue
                    try:
                        ent[3] += ent[0].send(self.hello[ent[3]:ent[3] + 1])
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        self.lost(fd)


def open_connections(port, socks_from, n):
    """Plain connections from one address; returns the sockets."""
    out = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((socks_from, 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        out.append(s)
    return out


def still_open(socks):
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            n += s.recv(1) != b""
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


def real_client(d, n, results, lock):
    """n new mTLS connections, two requests each (the second kept alive)."""
    for _ in range(n):
        ok = 0
        t0 = time.monotonic()
        try:
            s = d.tls_socket("admin", timeout=10)
            try:
                for last in (False, True):
                    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n"
                              + (b"Connection: close\r\n" if last else b"") + b"\r\n")
                    got, _ = read_http(s, 10)
                    ok += got.startswith(b"HTTP/1.1 200")
            finally:
                s.close()
        except (OSError, ssl.SSLError) as e:
            with lock:
                results.setdefault("errors", []).append(repr(e)[:160])
        with lock:
            results["connections"] = results.get("connections", 0) + 1
            results["connections_ok"] = results.get("connections_ok", 0) + (ok > 0)
            results["requests"] = results.get("requests", 0) + 2
            results["requests_ok"] = results.get("requests_ok", 0) + ok
            results.setdefault("times", []).append(time.monotonic() - t0)
        time.sleep(random.uniform(0, 0.05))


def log_lines(d):
    p = d.env.tmp / f"{d.name}.log"
    return p.read_text(errors="replace").splitlines() if p.exists() else []


def run(env, tap):
    raise_own_nofile()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # the daemon starts with the usual soft limit and must raise its own
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    d = Daemon(env, "flood", log_level="info", max_handshakes_per_address=16)
    try:
        @tap.case("medaidd starts with a soft RLIMIT_NOFILE of 1024 and raises it")
        def _():
            d.start()
            lim = open(f"/proc/{d.proc.pid}/limits").read()
            line = [x for x in lim.splitlines() if x.startswith("Max open files")][0]
            expect(int(line.split()[3]) > 2 * 1024, f"daemon limit: {line}")
            expect(any("RLIMIT_NOFILE raised" in x for x in log_lines(d)), d.tail())
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if d.proc is None or d.proc.poll() is not None:
        return

    @tap.case("a plain TCP connection that never starts TLS is closed after "
              "tls_handshake_timeout_ms (3 s)")
    def _():
        s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        t0 = time.monotonic()
        try:
            data = s.recv(1)
        except OSError:
            data = b""
        dt = time.monotonic() - t0
        s.close()
        expect(data == b"" and 2.0 < dt < 8, f"closed after {dt:.1f}s, got {data!r}")

    @tap.case("max_handshakes_per_address: 300 sockets from one address hold at most "
              "2 x 16; a real client still gets in")
    def _():
        socks = open_connections(d.port, "127.0.3.1", 300)
        try:
            time.sleep(0.5)
            n = still_open(socks)
            r = d.request("admin", "GET", "/v1/health", max_time=10)
            expect(n <= 2 * 16, f"{n} still open")
            expect(r.status == 200, repr(r))
            print(f"#   ({n} of 300 still open after 0.5 s)")
        finally:
            for s in socks:
                s.close()

    stats = {}

    @tap.case(f"{PLAIN} plain-TCP + {SLOW} slow-TLS connections held open: >= 99 % of real "
              "clients' new connections and requests succeed (Python ssl, curl, s_client)")
    def _():
        before = len(log_lines(d))
        atk = Attacker(d.port).start()
        t_attack = time.monotonic()
        try:
            time.sleep(3)  # the attack is in full swing
            results, lock = {}, threading.Lock()
            threads = [threading.Thread(target=real_client, args=(d, 30, results, lock))
                       for _ in range(4)]
            for t in threads:
                t.start()
            curl_ok = 0
            for _ in range(10):
                r = d.request("admin", "GET", "/v1/health", max_time=10)
                curl_ok += r.status == 200
            sc_ok = 0
            for _ in range(5):
                out, _err = s_client(d, "admin")
                sc_ok += "HTTP/1.1 200" in out
            for t in threads:
                t.join(FLOOD_S + 30)
            held = atk.max_open
        finally:
            atk.finish()
        flood_s = time.monotonic() - t_attack
        conns = results.get("connections", 0) + 10 + 5
        conns_ok = results.get("connections_ok", 0) + curl_ok + sc_ok
        reqs = results.get("requests", 0) + 10 + 5
        reqs_ok = results.get("requests_ok", 0) + curl_ok + sc_ok
        times = sorted(results.get("times", [0]))
        stats.update(flood_s=flood_s, conns=conns, conns_ok=conns_ok, reqs=reqs,
                     reqs_ok=reqs_ok, opened=atk.opened, closed=atk.closed_by_server,
                     held=held, p50=times[len(times) // 2], p99=times[int(len(times) * 0.99)],
                     errors=results.get("errors", [])[:5])
        time.sleep(1.5)  # the last once-a-second report
        new = log_lines(d)[before:]
        stats["log_lines"] = len(new)
        stats["report_lines"] = sum(" connections: " in x for x in new)
        stats["evicted"] = sum(int(w) for x in new if " connections: " in x
                               for w, nxt in zip(x.split(), x.split()[1:])
                               if w.isdigit() and nxt.startswith("unfinished"))
        for k, v in stats.items():
            print(f"#   {k}: {v}")
        expect(conns_ok >= 0.99 * conns, f"connections: {conns_ok}/{conns} {stats}")
        expect(reqs_ok >= 0.99 * reqs, f"requests: {reqs_ok}/{reqs}")
        expect(atk.opened >= PLAIN + SLOW, f"the attack opened only {atk.opened}")
        expect(stats["evicted"] >= 1000, f"few evictions reported: {stats}")

    @tap.case("the flood is logged as counts, at most one line a second per worker")
    def _():
        expect(stats, "no flood figures")
        per_s = 2 * (stats["flood_s"] + 3)
        expect(stats["report_lines"] >= 1, "the flood was not reported at all")
        expect(stats["report_lines"] <= per_s, f"{stats['report_lines']} report lines")
        # the rest: one access line per real request, and a few others
        expect(stats["log_lines"] <= stats["report_lines"] + stats["reqs"] + 20,
               f"{stats['log_lines']} log lines during the flood")

    @tap.case("after the flood: a real client is served, and medaidd exits 0 on SIGTERM")
    def _():
        r = d.request("admin", "GET", "/v1/health", max_time=10)
        expect(r.status == 200, repr(r))
        rc = d.stop(timeout=20)
        expect(rc == 0, f"exit status {rc}\n{d.tail()}")
        expect(not d.sanitizer_report(), d.sanitizer_report())

    d2 = Daemon(env, "flood-fd", log_level="info")

    @tap.case("out of descriptors (RLIMIT_NOFILE 150) under a flood: accept errors are "
              "counted, the daemon survives and serves again")
    def _():
        d2.start()
        try:
            p = subprocess.run(["prlimit", "--pid", str(d2.proc.pid), "--nofile=150:150"],
                               capture_output=True, text=True, timeout=10)
            expect(p.returncode == 0, f"prlimit: {p.stderr}")
            atk = Attacker(d2.port, plain=600, slow=0, refill=False).start()
            time.sleep(2)
            atk.finish()
            expect(d2.proc.poll() is None, f"medaidd died: {d2.proc.returncode}\n{d2.tail()}")
            t0 = time.monotonic()
            r = d2.request("admin", "GET", "/v1/health", max_time=10)
            while r.status != 200 and time.monotonic() - t0 < 10:
                time.sleep(0.5)
                r = d2.request("admin", "GET", "/v1/health", max_time=10)
            expect(r.status == 200, repr(r))
            expect(any(" accept error(s)" in x for x in log_lines(d2)),
                   "accept errors not reported\n" + d2.tail())
            rc = d2.stop(timeout=20)
            expect(rc == 0, f"exit status {rc}\n{d2.tail()}")
        finally:
            d2.kill()
