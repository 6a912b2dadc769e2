"""Integration tests: what a failover does to medaidd's connections, on the one cluster of
the run (the full failover, with pg_auto_failover, is scripts/ha-test).

- a multi-host connection string whose first host does not answer at all (a machine gone:
  its SYNs are dropped, no refusal): the pool still reaches the second host, because a
  timed-out attempt makes the next one start one host further in the list;
- a primary that becomes read-only under open connections (what a demotion, or
  pg_auto_failover's stop_replication, does: default_transaction_read_only on, reloaded):
  a write gets 503 database_unavailable (never 500), the connection is dropped, and with
  target_session_attrs=read-write no new connection is kept until the server accepts
  writes again; then the service comes back by itself."""

import socket
import time

from harness import Daemon, clean_exit, expect, new_ssin, started
from tests_api import decision_body, problem


class BlackHole:
    """A loopback port whose accept queue is full: a connection attempt hangs (the
    kernel drops its SYN), as to a machine that is gone."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.fillers = []
        for _ in range(8):  # fill the queue (never accepted)
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(s)
        time.sleep(0.2)

    def hangs(self):
        s = socket.socket()
        s.settimeout(1.0)
        try:
            s.connect(("127.0.0.1", self.port))
            return False
        except (socket.timeout, TimeoutError):
            return True
        except OSError:
            return False
        finally:
            s.close()

    def close(self):
        for s in self.fillers + [self.listener]:
            s.close()


def run(env, tap):
    multi_host(env, tap)
    read_only(env, tap)


def multi_host(env, tap):
    hole = BlackHole()
    try:
        @tap.case("the black hole: a connection to it hangs (the test's own premise)")
        def _():
            expect(hole.hangs(), "a connection to the full accept queue did not hang")

        database = (f"host=127.0.0.1,{env.sock} port={hole.port},{env.port} dbname=medaid "
                    "user=medaid_app target_session_attrs=read-write")
        d = Daemon(env, "failover-hosts", database=database, db_connect_timeout_ms=500,
                   db_retry_max_ms=200)
        if not started(tap, d):
            return

        @tap.case("multi-host string, first host a black hole: the daemon reaches the second "
                  "host and records a decision")
        def _():
            r = d.request("ocmw", "POST", "/v1/decisions", decision_body(new_ssin()))
            expect(r.status == 201, repr(r))

        clean_exit(tap, d)
    finally:
        hole.close()


def read_only(env, tap):
    database = env.database + " target_session_attrs=read-write"
    d = Daemon(env, "failover-ro", database=database, db_connect_timeout_ms=1000,
               db_retry_max_ms=300, workers=1)
    if not started(tap, d):
        return
    ssin = new_ssin()

    @tap.case("before: a decision recorded (connections open)")
    def _():
        r = d.request("ocmw", "POST", "/v1/decisions", decision_body(new_ssin()))
        expect(r.status == 201, repr(r))

    def set_read_only(on):
        sql = ("ALTER SYSTEM SET default_transaction_read_only = on" if on
               else "ALTER SYSTEM RESET default_transaction_read_only")
        env.superuser_psql(sql)
        env.superuser_psql("SELECT pg_reload_conf()")

    key = f"failover-{ssin}"
    try:
        set_read_only(True)
        time.sleep(1.0)  # the reload reaches every backend

        @tap.case("the primary turned read-only under open connections: a write gets 503 "
                  "problem+json database_unavailable, never 500")
        def _():
            for _ in range(3):
                r = d.request("ocmw", "POST", "/v1/decisions", decision_body(ssin),
                              headers=(f"Idempotency-Key: {key}",))
                problem(r, 503, "database_unavailable")
                expect(r.header("retry-after"), f"no Retry-After: {r!r}")

        @tap.case("the read-only server's connections were dropped, not kept for writes "
                  "(log: read-only or shutting down)")
        def _():
            log = (env.tmp / "failover-ro.log").read_text(errors="replace")
            expect("read-only or shutting down" in log, d.tail())
    finally:
        set_read_only(False)

    @tap.case("writes accepted again: the same write (same Idempotency-Key) is recorded "
              "once, within a few seconds, without a restart")
    def _():
        deadline = time.monotonic() + 20
        r = None
        while time.monotonic() < deadline:
            r = d.request("ocmw", "POST", "/v1/decisions", decision_body(ssin),
                          headers=(f"Idempotency-Key: {key}",))
            if r.status == 201:
                break
            time.sleep(0.2)
        expect(r is not None and r.status == 201, repr(r))
        n = env.psql(f"SELECT count(*) FROM decision WHERE ssin = '{ssin}'")
        expect(n == "1", f"{n} decisions for the SSIN")

    clean_exit(tap, d)
