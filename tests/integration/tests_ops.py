"""Integration tests: the operator listener, systemd and journald, SIGHUP reloads.

- ops_listen: plain HTTP /healthz, /readyz, /metrics on loopback; the exposition passes
  `promtool check metrics` (Debian's prometheus package) and its counters move with
  what the daemon does (a request, a flood of 429s, a consultation recorded, a TCP
  connection that never starts TLS, a failed handshake); /readyz turns 503 when
  PostgreSQL stops and 200 again when it is back, and 503 while the daemon drains.
- sd_notify: a NOTIFY_SOCKET of our own (AF_UNIX datagrams) receives READY=1,
  RELOADING=1 (with MONOTONIC_USEC) then READY=1 on SIGHUP, STOPPING=1 on SIGTERM.
- journald: with JOURNAL_STREAM set to stderr's device:inode every line starts with a
  syslog priority <N> and carries no timestamp; when it names another stream, lines
  keep their timestamp.
- SIGHUP: a reloadable option (a rate limit) changes behaviour at once; options that
  need a restart (workers, a secret) are logged by name, never by value.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from harness import Daemon, day, expect, free_port, new_ssin

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def ops_get(port, path, method="GET", timeout=5):
    """(status, content-type, body text) of one plain-HTTP request to the ops listener."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def parse(text):
    """[(name, {labels}, value)] of an exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        expect(m, f"not a sample line: {line!r}")
        labels = dict(LABEL.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def value(samples, name, **labels):
    """The sum of the samples of name whose labels include labels."""
    return sum(v for n, lab, v in samples
               if n == name and all(lab.get(k) == w for k, w in labels.items()))


def scrape(port):
    st, ctype, body = ops_get(port, "/metrics")
    expect(st == 200, f"/metrics: {st} {body[:300]!r}")
    return parse(body)


def wait_for(pred, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(step)
    return pred()


def log_text(env, d):
    p = env.tmp / f"{d.name}.log"
    return p.read_text(errors="replace") if p.exists() else ""


def run(env, tap):
    ops_port = free_port()
    overrides = dict(ops_listen=f"127.0.0.1:{ops_port}", rate_limit_provider_per_s=1,
                     rate_limit_provider_burst=3)
    d = Daemon(env, "ops", **overrides)

    @tap.case("medaidd starts with the operator listener on")
    def _():
        d.start()
        expect("operator listener on http://127.0.0.1:" in log_text(env, d),
               "no 'operator listener on' line in the log")

    @tap.case("GET /healthz: 200 ok, plain HTTP, no certificate")
    def _():
        st, ctype, body = ops_get(ops_port, "/healthz")
        expect(st == 200 and body.strip() == "ok", f"{st} {body!r}")
        expect(ctype.startswith("text/plain"), ctype)

    @tap.case("GET /readyz: 200 ready with the database up")
    def _():
        # the first answer over TLS shows one worker up; every worker's pool may
        # still be connecting (a loaded machine, a sanitizer build): ready within 10 s
        got = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(ops_get(ops_port, "/readyz")),
                       10)
        st, _, body = got if got else ops_get(ops_port, "/readyz")
        expect(st == 200 and body.strip() == "ready", f"{st} {body!r}")

    @tap.case("unknown path 404, POST 405 with Allow, HEAD /healthz 200 without a body")
    def _():
        st, _, _ = ops_get(ops_port, "/nope")
        expect(st == 404, f"/nope: {st}")
        st, _, _ = ops_get(ops_port, "/metrics", method="POST")
        expect(st == 405, f"POST /metrics: {st}")
        st, _, body = ops_get(ops_port, "/healthz", method="HEAD")
        expect(st == 200 and body == "", f"HEAD: {st} {body!r}")

    @tap.case("GET /metrics: Prometheus text 0.0.4 that promtool check metrics accepts")
    def _():
        d.request("admin", "GET", "/v1/health")
        # curl, as an operator would
        c = subprocess.run(["curl", "-sS", "--max-time", "10", "-D", "-",
                            f"http://127.0.0.1:{ops_port}/metrics"],
                           capture_output=True, timeout=30)
        expect(c.returncode == 0, f"curl exited {c.returncode}: {c.stderr!r}")
        head, _, body = c.stdout.decode().partition("\r\n\r\n")
        expect(head.startswith("HTTP/1.1 200"), f"curl: {c.stdout[:300]!r} {c.stderr!r}")
        ctype = next((ln.split(":", 1)[1].strip() for ln in head.split("\r\n")
                      if ln.lower().startswith("content-type:")), "")
        expect(ctype.startswith("text/plain") and "version=0.0.4" in ctype,
               f"Content-Type {ctype!r}")
        if os.environ.get("MEDAID_OPS_DUMP"):
            (env.tmp / "metrics.txt").write_text(body)
        promtool = shutil.which("promtool")
        expect(promtool, "promtool is not installed (Debian package prometheus; "
                         "scripts/lib.sh need_packages installs it)")
        p = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                           text=True, timeout=60)
        expect(p.returncode == 0, f"promtool check metrics exited {p.returncode}:\n"
                                  f"{p.stdout}\n{p.stderr}\n--- exposition:\n{body[:3000]}")
        names = {n for n, _, _ in parse(body)}
        for want in ("medaid_http_requests_total", "medaid_http_request_duration_seconds_bucket",
                     "medaid_http_requests_in_flight", "medaid_connections",
                     "medaid_tls_handshake_failures_total", "medaid_db_pool_connections",
                     "medaid_db_pool_waits_total", "medaid_db_errors_total",
                     "medaid_group_commit_batch_size_bucket", "medaid_http_unavailable_total",
                     "medaid_http_rate_limited_total", "medaid_audit_records_written_total"):
            expect(want in names, f"{want} missing from /metrics")

    @tap.case("a request increments its route/status counter and its latency histogram")
    def _():
        before = scrape(ops_port)
        for _ in range(3):
            r = d.request("admin", "GET", "/v1/health")
            expect(r.status == 200, repr(r))
        r = d.request("admin", "GET", "/v1/no-such-thing")
        expect(r.status == 404, repr(r))
        after = scrape(ops_port)
        lab = dict(method="GET", route="/v1/health", code="200")
        delta = (value(after, "medaid_http_requests_total", **lab)
                 - value(before, "medaid_http_requests_total", **lab))
        expect(delta == 3, f"GET /v1/health 200 moved by {delta}, not 3")
        hl = dict(method="GET", route="/v1/health")
        dc = (value(after, "medaid_http_request_duration_seconds_count", **hl)
              - value(before, "medaid_http_request_duration_seconds_count", **hl))
        expect(dc == 3, f"latency count moved by {dc}")
        inf = value(after, "medaid_http_request_duration_seconds_bucket", le="+Inf", **hl)
        expect(inf == value(after, "medaid_http_request_duration_seconds_count", **hl),
               "the +Inf bucket is not the count")
        nf = (value(after, "medaid_http_requests_total", route="none", code="404")
              - value(before, "medaid_http_requests_total", route="none", code="404"))
        expect(nf == 1, f"unrouted 404 moved by {nf}")
        expect(value(after, "medaid_db_pool_connections_up") >= 1, "no pool connection up")
        expect(value(after, "medaid_db_pools_down") == 0, "a pool is down")

    @tap.case("a consultation: audit records written and a group-commit batch counted")
    def _():
        before = scrape(ops_port)
        r = d.request("provider2", "POST", "/v1/coverage",
                      {"ssin": new_ssin(), "service_date": day(0),
                       "care_type": "general_practice"})
        expect(r.status == 200 and (r.json or {}).get("agreement"), repr(r))
        after = scrape(ops_port)
        w = (value(after, "medaid_audit_records_written_total", kind="consultation")
             - value(before, "medaid_audit_records_written_total", kind="consultation"))
        expect(w == 1, f"consultations written moved by {w}")
        b = (value(after, "medaid_group_commit_batch_size_count", queue="agreements")
             - value(before, "medaid_group_commit_batch_size_count", queue="agreements"))
        expect(b >= 1, f"agreement batches moved by {b}")

    @tap.case("a TCP connection that never starts TLS is counted in state handshake")
    def _():
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        try:
            got = wait_for(lambda: value(scrape(ops_port), "medaid_connections",
                                         state="handshake") >= 1, 5)
            expect(got, "medaid_connections{state=\"handshake\"} stayed 0")
        finally:
            s.close()

    @tap.case("a failed TLS handshake increments medaid_tls_handshake_failures_total")
    def _():
        before = value(scrape(ops_port), "medaid_tls_handshake_failures_total", reason="failed")
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP on the TLS port
            s.settimeout(5)
            try:
                s.recv(100)
            except OSError:
                pass
        finally:
            s.close()
        got = wait_for(lambda: value(scrape(ops_port), "medaid_tls_handshake_failures_total",
                                     reason="failed") > before, 5)
        expect(got, "handshake failures did not move")

    limited = [0]

    @tap.case("a flood over the provider's burst: the 429s are counted, one for one")
    def _():
        before = scrape(ops_port)
        with ThreadPoolExecutor(max_workers=6) as ex:
            rs = list(ex.map(lambda _: d.request("provider", "GET", "/v1/health"), range(12)))
        n429 = sum(r.status == 429 for r in rs)
        limited[0] = n429
        expect(n429 >= 3, f"expected 429s: {[r.status for r in rs]}")
        after = scrape(ops_port)
        delta = (value(after, "medaid_http_rate_limited_total")
                 - value(before, "medaid_http_rate_limited_total"))
        expect(delta == n429, f"medaid_http_rate_limited_total moved by {delta}, saw {n429}")
        rd = (value(after, "medaid_http_requests_total", route="/v1/health", code="429")
              - value(before, "medaid_http_requests_total", route="/v1/health", code="429"))
        expect(rd == n429, f"requests_total code=429 moved by {rd}")

    # ---- SIGHUP --------------------------------------------------------------------

    @tap.case("SIGHUP: a changed rate limit applies at once; workers and a secret need a "
              "restart and are logged by name only")
    def _():
        secret = "ops-secret-value-2f9c"
        env.write_conf("ops", dict(overrides, _port=d.port, rate_limit_provider_per_s=0,
                                   workers=3, log_hash_key=secret))
        d.signal(signal.SIGHUP)
        got = wait_for(lambda: "SIGHUP: TLS files reloaded" in log_text(env, d), 10)
        expect(got, "no reload line:\n" + d.tail())
        text = log_text(env, d)
        expect("applied: rate_limit_provider_per_s" in text, "reloaded option not listed:\n"
               + d.tail())
        expect("SIGHUP: workers changed; it takes effect at the next restart" in text,
               "no restart-needed line for workers:\n" + d.tail())
        expect("SIGHUP: log_hash_key changed; it takes effect at the next restart" in text,
               "no restart-needed line for log_hash_key:\n" + d.tail())
        expect(secret not in text, "the secret's value is in the log")
        with ThreadPoolExecutor(max_workers=6) as ex:
            rs = list(ex.map(lambda _: d.request("provider", "GET", "/v1/health"), range(12)))
        expect(all(r.status == 200 for r in rs),
               f"rate limit 0 (no limit) not applied: {[r.status for r in rs]}")

    @tap.case("SIGHUP with an invalid value: the running configuration stays")
    def _():
        env.write_conf("ops", dict(overrides, _port=d.port, rate_limit_provider_per_s=0,
                                   workers=3, log_level="loud"))
        d.signal(signal.SIGHUP)
        got = wait_for(lambda: "keeping the running configuration" in log_text(env, d), 10)
        expect(got, "no refusal line:\n" + d.tail())
        st, _, _ = ops_get(ops_port, "/healthz")
        expect(st == 200, f"healthz {st}")
        r = d.request("provider", "GET", "/v1/health")
        expect(r.status == 200, repr(r))

    # ---- readiness and the database -------------------------------------------------

    env.pg_stop("fast")
    try:
        @tap.case("PostgreSQL stopped: /readyz 503 with the reason, /healthz still 200")
        def _():
            got = wait_for(lambda: ops_get(ops_port, "/readyz")[0] == 503, 15)
            st, _, body = ops_get(ops_port, "/readyz")
            expect(got and st == 503 and "database" in body, f"readyz {st} {body!r}")
            st, _, _ = ops_get(ops_port, "/healthz")
            expect(st == 200, f"healthz {st}")
            m = scrape(ops_port)
            expect(value(m, "medaid_db_pools_down") >= 1, "medaid_db_pools_down is 0")

        @tap.case("PostgreSQL stopped: the 503s are counted")
        def _():
            before = value(scrape(ops_port), "medaid_http_unavailable_total")
            r = d.request("admin", "GET", "/v1/health", max_time=5)
            expect(r.status == 503, repr(r))
            after = value(scrape(ops_port), "medaid_http_unavailable_total")
            expect(after - before == 1, f"503s moved by {after - before}")
    finally:
        env.pg_start()

    @tap.case("PostgreSQL back: /readyz 200 again without a restart")
    def _():
        got = wait_for(lambda: ops_get(ops_port, "/readyz")[0] == 200, 30, step=0.5)
        expect(got, f"readyz still {ops_get(ops_port, '/readyz')}")

    @tap.case("SIGTERM with a request in flight: /readyz 503 draining, then exit 0")
    def _():
        s = d.tls_socket("admin")
        try:
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n")  # head unfinished
            time.sleep(0.3)
            d.signal(signal.SIGTERM)
            got = wait_for(lambda: ops_get(ops_port, "/readyz")[2].strip() == "draining", 5,
                           step=0.1)
            expect(got, f"readyz: {ops_get(ops_port, '/readyz')}")
            s.sendall(b"\r\n")
            s.settimeout(10)
            data = s.recv(4096)
            expect(data.startswith(b"HTTP/1.1 200"), f"the request in flight: {data[:100]!r}")
        finally:
            s.close()
        rc = d.proc.wait(20)
        expect(rc == 0, f"exit {rc}")
        rep = d.sanitizer_report()
        expect(not rep, rep)

    systemd(env, tap)


def systemd(env, tap):
    sock_path = str(env.tmp / "notify.sock")
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(sock_path)
    ns.settimeout(0.2)
    got = []

    def wait_msg(pred, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in got:
                if pred(m):
                    return m
            try:
                got.append(ns.recv(4096).decode())
            except socket.timeout:
                pass
        return next((m for m in got if pred(m)), None)

    d = Daemon(env, "notify", log_file="")
    d.extra_env = {"NOTIFY_SOCKET": sock_path, "JOURNAL_STREAM": "1:2"}
    stderr_text = lambda: d.stderr_path.read_text(errors="replace")  # noqa: E731

    try:
        @tap.case("sd_notify: READY=1 once listening with the pools connected")
        def _():
            d.start()
            m = wait_msg(lambda m: "READY=1" in m.split("\n"), 30)
            expect(m, f"no READY=1; got {got!r}")

        @tap.case("sd_notify: SIGHUP sends RELOADING=1 with MONOTONIC_USEC, then READY=1")
        def _():
            got.clear()
            d.signal(signal.SIGHUP)
            m = wait_msg(lambda m: "RELOADING=1" in m.split("\n"), 10)
            expect(m, f"no RELOADING=1; got {got!r}")
            expect(re.search(r"^MONOTONIC_USEC=\d+$", m, re.M), f"no MONOTONIC_USEC: {m!r}")
            i = got.index(m)
            r = wait_msg(lambda x: "READY=1" in x.split("\n") and got.index(x) > i, 10)
            expect(r, f"no READY=1 after the reload; got {got!r}")

        @tap.case("JOURNAL_STREAM naming another stream: lines keep their own timestamp")
        def _():
            lines = [ln for ln in stderr_text().splitlines() if ln.strip()]
            expect(lines, "no log on stderr")
            expect(all(STAMP.match(ln) for ln in lines),
                   f"a line without a timestamp: {lines[:5]!r}")

        @tap.case("sd_notify: SIGTERM sends STOPPING=1; exit 0")
        def _():
            got.clear()
            d.signal(signal.SIGTERM)
            m = wait_msg(lambda m: "STOPPING=1" in m.split("\n"), 10)
            expect(m, f"no STOPPING=1; got {got!r}")
            rc = d.proc.wait(20)
            expect(rc == 0, f"exit {rc}")
            rep = d.sanitizer_report()
            expect(not rep, rep)
    finally:
        d.kill()
        ns.close()

    j = Daemon(env, "journal", log_file="")
    # the daemon's stderr is this file (opened for appending): its device and inode
    j.stderr_path.touch()
    st = os.stat(j.stderr_path)
    j.extra_env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}

    @tap.case("JOURNAL_STREAM = stderr's dev:ino: every line has a <N> priority, no timestamp")
    def _():
        try:
            j.start()
            j.request("admin", "GET", "/v1/health")
            env.write_conf("journal", dict(log_file="", _port=j.port, workers=3))
            j.signal(signal.SIGHUP)  # a warning: workers needs a restart
            wait_for(lambda: "workers changed" in j.stderr_path.read_text(errors="replace"), 10)
            expect(j.stop() == 0, "exit status")
        finally:
            j.kill()
        rep = j.sanitizer_report()
        expect(not rep, rep)
        lines = [ln for ln in j.stderr_path.read_text(errors="replace").splitlines()
                 if ln.strip()]
        expect(lines, "no log on stderr")
        bad = [ln for ln in lines if not re.match(r"^<[3467]>", ln) or STAMP.match(ln[3:])]
        expect(not bad, f"lines without a priority or with a timestamp: {bad[:5]!r}")
        prios = {ln[:3] for ln in lines}
        expect({"<6>", "<7>", "<4>"} <= prios, f"priorities seen: {sorted(prios)}")
        expect(any(ln.startswith("<4>") and "workers changed" in ln for ln in lines),
               "the restart-needed warning is not <4>")
