"""Integration tests: slow clients, PostgreSQL going away, shutdown with requests in flight."""

import json
import ssl
import time

from harness import Daemon, clean_exit, day, expect, new_ssin, read_http, started
from tests_api import coverage, decision_body, problem, still_serving


def slow_clients(env, tap):
    d = Daemon(env, "slow", request_timeout_ms=1500, idle_timeout_ms=4000)
    if not started(tap, d):
        return

    @tap.case("headers sent byte by byte slower than request_timeout_ms: closed (or 408)")
    def _():
        s = d.tls_socket("admin")
        req = b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 40 + b"\r\n\r\n"
        t0 = time.monotonic()
        closed = False
        got = b""
        served_meanwhile = []
        try:
            for i, byte in enumerate(req[:-4]):
                try:
                    s.sendall(bytes([byte]))
                except (ConnectionError, ssl.SSLError, OSError):
                    closed = True
                    break
                if i == 10:
                    r = d.request("auditor", "GET", "/v1/health", max_time=5)
                    served_meanwhile.append(r.status)
                got, closed = read_http(s, 0.25)
                if closed or got:
                    break
                if time.monotonic() - t0 > 10:
                    break
        finally:
            elapsed = time.monotonic() - t0
            s.close()
        expect(closed or got.startswith(b"HTTP/1.1 408"),
               f"still open after {elapsed:.1f}s, got {got[:200]!r}")
        expect(elapsed < 6, f"closed only after {elapsed:.1f}s (request_timeout_ms=1500)")
        expect(served_meanwhile in ([], [200]), f"others not served meanwhile: {served_meanwhile}")
        still_serving(d)

    @tap.case("an idle connection (no byte sent) is closed after idle/request timeout")
    def _():
        s = d.tls_socket("admin")
        t0 = time.monotonic()
        got, closed = read_http(s, 10)
        s.close()
        expect(closed, f"still open after {time.monotonic() - t0:.1f}s")
        still_serving(d)

    @tap.case("keep-alive: two requests on one connection")
    def _():
        s = d.tls_socket("admin")
        try:
            for _ in range(2):
                s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
                got, closed = read_http(s, 5)
                expect(got.startswith(b"HTTP/1.1 200"), f"got {got[:300]!r}")
        finally:
            s.close()

    clean_exit(tap, d)


def database_down(env, tap):
    d = Daemon(env, "database", db_retry_max_ms=1000, db_queue_timeout_ms=1000)
    if not started(tap, d):
        return
    ssin = new_ssin()

    @tap.case("a decision to ask about (before the outage)")
    def _():
        r = d.request("ocmw", "POST", "/v1/decisions", decision_body(ssin))
        expect(r.status == 201, repr(r))
        r = coverage(d, ssin, day(0))
        expect(r.status == 200 and (r.json or {}).get("covered") is True, repr(r))

    env.pg_stop("fast")
    try:
        @tap.case("PostgreSQL stopped: /v1/health 503 database_unavailable + Retry-After, fast")
        def _():
            r = d.request("admin", "GET", "/v1/health", max_time=3)
            problem(r, 503, "database_unavailable")
            expect(r.header("retry-after"), f"no Retry-After: {r!r}")
            expect(r.elapsed < 3, f"took {r.elapsed:.1f}s")

        @tap.case("PostgreSQL stopped: POST /v1/coverage 503 database_unavailable + Retry-After")
        def _():
            for _ in range(3):
                r = d.request("provider", "POST", "/v1/coverage",
                              {"ssin": ssin, "service_date": day(0),
                               "care_type": "general_practice"}, max_time=3)
                problem(r, 503, "database_unavailable")
                expect(r.header("retry-after"), f"no Retry-After: {r!r}")

        @tap.case("PostgreSQL stopped: POST /v1/decisions 503, GET decision 503")
        def _():
            r = d.request("ocmw", "POST", "/v1/decisions", decision_body(new_ssin()), max_time=3)
            problem(r, 503, "database_unavailable")
            r = d.request("auditor", "GET", "/v1/decisions/D1999-00000001", max_time=3)
            problem(r, 503, "database_unavailable")
    finally:
        env.pg_start()

    @tap.case("PostgreSQL back: health 200 again within 10 s, without restarting medaidd")
    def _():
        # Each worker's pool reconnects on its own backoff (db_retry_max_ms), and each
        # request is a new connection that the kernel hands to any worker: recovered
        # means 16 answers in a row are 200 (with 2 workers, all 16 land on one worker
        # with a chance of 2^-15), not just the first.
        t0 = time.monotonic()
        first = None
        in_a_row = 0
        while in_a_row < 16 and time.monotonic() - t0 < 15:
            r = d.request("admin", "GET", "/v1/health", max_time=3)
            if r.status == 200:
                in_a_row += 1
                first = first or time.monotonic() - t0
            else:
                in_a_row = 0
                time.sleep(0.25)
        expect(in_a_row == 16, f"after {time.monotonic() - t0:.1f}s: {r!r}")
        expect(first < 10.5, f"first 200 after {first:.1f}s")
        print(f"#   (first 200 after {first:.1f}s, every worker after "
              f"{time.monotonic() - t0:.1f}s)")

    @tap.case("PostgreSQL back: a coverage question works on every pooled connection")
    def _():
        for _ in range(8):
            r = coverage(d, ssin, day(0))
            expect(r.status == 200 and (r.json or {}).get("covered") is True, repr(r))

    clean_exit(tap, d)


def shutdown(env, tap):
    d = Daemon(env, "shutdown", shutdown_timeout_ms=3000, request_timeout_ms=30000)
    if not started(tap, d):
        return

    @tap.case("SIGTERM: the request in flight completes, a stalled one does not hold the exit")
    def _():
        body = json.dumps({"ssin": new_ssin(), "service_date": day(0),
                           "care_type": "general_practice"}).encode()
        head = (b"POST /v1/coverage HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n\r\n")
        a = d.tls_socket("provider")
        c = d.tls_socket("provider")
        try:
            a.sendall(head + body[:10])
            c.sendall(b"GET /v1/health HTTP/1.1\r\nHost: loc")
            time.sleep(0.5)
            t0 = time.monotonic()
            d.signal()
            time.sleep(0.3)
            a.sendall(body[10:])
            got, _closed = read_http(a, 5)
            expect(got.startswith(b"HTTP/1.1 200"), f"in-flight request got {got[:400]!r}")
            try:
                rc = d.proc.wait(3 + 4)
            except Exception:  # noqa: BLE001
                rc = None
            elapsed = time.monotonic() - t0
            expect(rc == 0, f"exit status {rc} after {elapsed:.1f}s\n{d.tail()}")
            expect(elapsed < 3 + 2, f"exit took {elapsed:.1f}s (shutdown_timeout_ms=3000)")
        finally:
            a.close()
            c.close()

    @tap.case("after shutdown: no sanitizer report")
    def _():
        if d.proc.poll() is None:
            d.kill()
        rep = d.sanitizer_report()
        expect(not rep, rep)

    d2 = Daemon(env, "shutdown2", shutdown_timeout_ms=3000)

    @tap.case("SIGTERM on an idle daemon with an open keep-alive connection: exit 0 quickly")
    def _():
        d2.start()
        s = d2.tls_socket("admin")
        try:
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            got, _ = read_http(s, 5)
            expect(got.startswith(b"HTTP/1.1 200"), f"got {got[:200]!r}")
            t0 = time.monotonic()
            d2.signal()
            rc = d2.proc.wait(10)
            expect(rc == 0, f"exit status {rc}")
            expect(time.monotonic() - t0 < 5, f"took {time.monotonic() - t0:.1f}s")
        finally:
            s.close()
            d2.kill()
        expect(not d2.sanitizer_report(), d2.sanitizer_report())
