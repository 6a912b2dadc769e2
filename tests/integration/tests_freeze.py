"""Integration tests: a database that does not answer (frozen by SIGSTOP, or a write held
by a lock) costs a request at most db_wait_timeout_ms: 503 database_timeout, the loop
keeps serving, a write's unknown outcome is resolved by its Idempotency-Key, and the
pool comes back by itself once the server answers again.

Times are measured and printed, never asserted as speeds: what is asserted is that the
answers arrive while the database is still frozen (or the lock still held)."""

import json
import os
import signal
import subprocess
import threading
import time

from harness import Daemon, Resp, clean_exit, day, expect, new_ssin, read_http, started
from tests_api import decision_body, problem

WAIT_MS = 3000  # db_wait_timeout_ms of this daemon (a wide window on a loaded machine)
CAP_S = 25      # how long a freeze is held at most, waiting for the answers


class KeepAlive:
    """One TLS connection reused for several requests (its principal stays cached, so a
    request's only database statements are its handler's)."""

    def __init__(self, d, who):
        self.sock = d.tls_socket(who, timeout=10)

    def request(self, method, path, body=None, headers=(), timeout=CAP_S):
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
        for h in headers:
            head += h + "\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        t0 = time.monotonic()
        self.sock.sendall(head.encode() + b"\r\n" + data)
        raw, closed = read_http(self.sock, timeout)
        return Answer(raw, time.monotonic() - t0, closed)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Answer(Resp):
    """A raw HTTP answer read from a KeepAlive connection, with when it arrived."""

    def __init__(self, raw, elapsed, closed):
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        try:
            status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            status = 0
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        super().__init__(0, status, headers, body, "", elapsed)
        self.closed = closed
        self.done_at = time.monotonic()


def code_of(r):
    return (r.json or {}).get("code")


def timeout_503(r, what, detail_has=None):
    """r is 503 database_timeout with Retry-After (and, if given, a detail saying so)."""
    expect(r.status == 503 and code_of(r) == "database_timeout",
           f"{what}: expected 503 database_timeout, got {r!r}")
    expect(r.header("retry-after"), f"{what}: no Retry-After: {r!r}")
    detail = (r.json or {}).get("detail") or ""
    for s in detail_has or ():
        expect(s in detail, f"{what}: the detail does not say {s!r}: {detail!r}")


def cluster_pids(env):
    """The postmaster of the run's cluster and every process it started."""
    pm = int((env.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pm)], capture_output=True,
                         text=True).stdout
    return pm, [int(x) for x in out.split()]


class Frozen:
    """SIGSTOP the postmaster, then its children; SIGCONT them all on exit (always)."""

    def __init__(self, env):
        self.env = env
        self.pids = []

    def __enter__(self):
        pm, _ = cluster_pids(self.env)
        os.kill(pm, signal.SIGSTOP)  # first: it starts no new backend meanwhile
        self.pids.append(pm)
        _, kids = cluster_pids(self.env)
        for p in kids:
            try:
                os.kill(p, signal.SIGSTOP)
                self.pids.append(p)
            except ProcessLookupError:
                pass
        self.at = time.monotonic()
        return self

    def __exit__(self, *exc):
        for p in reversed(self.pids):
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.thawed_at = time.monotonic()
        return False


def in_thread(fn):
    box = {}

    def run():
        try:
            box["r"] = fn()
        except Exception as e:  # noqa: BLE001 - reported by the case that joins
            box["e"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def joined(t, box, what):
    t.join(CAP_S + 5)
    expect(not t.is_alive(), f"{what}: no answer after {CAP_S + 5}s")
    if "e" in box:
        raise box["e"]
    return box["r"]


def healthy_again(d, limit=40):
    t0 = time.monotonic()
    while True:
        r = d.request("admin", "GET", "/v1/health", max_time=5)
        if r.status == 200 or time.monotonic() - t0 > limit:
            return r, time.monotonic() - t0
        time.sleep(0.25)


def decisions_of(env, ssin):
    return int(env.psql(f"SELECT count(*) FROM decision WHERE ssin = '{ssin}'"))


class Locked:
    """A transaction of the schema owner holding LOCK TABLE table IN EXCLUSIVE MODE for
    hold_s seconds (reads go on, writes to the table wait)."""

    def __init__(self, env, table, hold_s):
        self.env, self.table, self.hold_s = env, table, hold_s

    def __enter__(self):
        env = self.env
        sql = (f"BEGIN; LOCK TABLE {self.table} IN EXCLUSIVE MODE; "
               f"SELECT pg_sleep({self.hold_s}); COMMIT;")
        self.proc = subprocess.Popen(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(env.sock), "-p",
             str(env.port), "-U", "medaid", "-d", "medaid", "-c", sql],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = env.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                           f"WHERE c.relname = '{self.table}' AND l.mode = 'ExclusiveLock' "
                           "AND l.granted")
            if got == "1":
                return self
            time.sleep(0.1)
        self.proc.kill()
        raise AssertionError(f"the lock on {self.table} was not taken")

    def release_wait(self):
        self.proc.wait(self.hold_s + 30)
        self.released_at = time.monotonic()

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            try:
                self.release_wait()
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return False


def run(env, tap):
    d = Daemon(env, "freeze", workers=1, db_pool_size=2, db_wait_timeout_ms=WAIT_MS,
               db_statement_timeout_ms=30000, db_queue_timeout_ms=1000,
               db_connect_timeout_ms=1000, db_retry_max_ms=500, principal_cache_ms=600000,
               request_timeout_ms=60000, idle_timeout_ms=120000)
    if not started(tap, d):
        return
    ssin = new_ssin()
    state = {}

    @tap.case("before the freeze: a decision, keep-alive connections with their principal "
              "looked up")
    def _():
        r = d.request("ocmw", "POST", "/v1/decisions", decision_body(ssin))
        expect(r.status == 201, repr(r))
        for who in ("admin", "ocmw", "provider"):
            c = KeepAlive(d, who)
            r = c.request("GET", "/v1/health")
            expect(r.status == 200, f"{who}: {r!r}")
            state[who] = c

    if len(state) < 3:
        return
    key1 = f"freeze-{new_ssin()}"
    ssin1 = new_ssin()
    answers = {}

    @tap.case(f"PostgreSQL frozen (SIGSTOP): requests get 503 database_timeout within "
              f"db_wait_timeout_ms ({WAIT_MS} ms), while it is still frozen; the loop serves "
              f"a request that needs no database meanwhile")
    def _():
        with Frozen(env) as fz:
            # two statements that reach the pool's two (idle, "up") connections
            ta, ba = in_thread(lambda: state["admin"].request("GET", "/v1/health"))
            tb, bb = in_thread(lambda: state["ocmw"].request(
                "POST", "/v1/decisions", decision_body(ssin1),
                headers=(f"Idempotency-Key: {key1}",)))
            time.sleep(0.3)
            # no database needed: refused by the framing before any principal lookup
            s = d.tls_socket("auditor")
            t0 = time.monotonic()
            s.sendall(b"NOT-HTTP\r\n\r\n")
            raw, _ = read_http(s, CAP_S)
            no_db = Answer(raw, time.monotonic() - t0, True)
            s.close()
            ra = joined(ta, ba, "health")
            rb = joined(tb, bb, "decision")
            # more, now that the pool's connections were dropped
            rc = state["provider"].request("POST", "/v1/coverage", {
                "ssin": ssin, "service_date": day(0), "care_type": "general_practice"})
            rn = d.request("auditor", "GET", f"/v1/beneficiaries/{ssin}/decisions",
                           max_time=CAP_S)
            still_frozen = time.monotonic()
        answers.update(health=ra, decision=rb, coverage=rc, newconn=rn)
        print(f"#   (frozen {fz.thawed_at - fz.at:.1f}s; answered after: health "
              f"{ra.elapsed:.2f}s, keyed decision {rb.elapsed:.2f}s, coverage {rc.elapsed:.2f}s "
              f"({code_of(rc)}), new connection {rn.elapsed:.2f}s "
              f"({(rn.json or {}).get('code')}), no-database request {no_db.elapsed:.2f}s)")
        expect(no_db.status == 400, f"the request that needs no database: {no_db!r}")
        expect(no_db.done_at < min(ra.done_at, rb.done_at),
               f"the no-database request was answered only after the database waits ended "
               f"({no_db!r}, {ra!r})")
        for name, r in (("health", ra), ("decision", rb), ("coverage", rc)):
            expect(r.done_at <= still_frozen, f"{name}: answered after the thaw: {r!r}")
        timeout_503(ra, "GET /v1/health", ["did not answer in time", "nothing was changed"])
        # the keyed write's first statement is its (read-only) idempotency lookup
        timeout_503(rb, "POST /v1/decisions", ["nothing was changed"])
        # the pool dropped both connections: later questions meet a pool that is
        # reconnecting (fast 503 database_unavailable) or a timed-out attempt
        for name, r in (("coverage", rc), ("new connection", rn)):
            expect(r.status == 503 and code_of(r) in ("database_timeout",
                                                      "database_unavailable"),
                   f"{name}: expected a 503 database problem, got {r!r}")
        expect(rc.header("retry-after"), f"coverage: no Retry-After: {rc!r}")

    @tap.case("after SIGCONT: health 200 again without restarting medaidd; the keep-alive "
              "connections that got 503s still serve")
    def _():
        r, took = healthy_again(d)
        print(f"#   (healthy {took:.1f}s after the thaw)")
        expect(r.status == 200, f"after {took:.1f}s: {r!r}")
        expect(d.proc.poll() is None, "medaidd exited")
        for who in ("admin", "ocmw", "provider"):
            r = state[who].request("GET", "/v1/health")
            expect(r.status == 200, f"{who}'s keep-alive connection: {r!r}")

    @tap.case("after SIGCONT: the decision retried with the same Idempotency-Key is created "
              "once; again, the first answer")
    def _():
        r1 = d.request("ocmw", "POST", "/v1/decisions", decision_body(ssin1),
                       headers=(f"Idempotency-Key: {key1}",))
        expect(r1.status == 201, repr(r1))
        r2 = d.request("ocmw", "POST", "/v1/decisions", decision_body(ssin1),
                       headers=(f"Idempotency-Key: {key1}",))
        expect(r2.status == 201 and r2.body == r1.body, f"replay differs: {r1!r} {r2!r}")
        expect(decisions_of(env, ssin1) == 1, f"{decisions_of(env, ssin1)} decisions")

    @tap.case("after SIGCONT: coverage works on every pooled connection")
    def _():
        for _ in range(6):
            r = d.request("provider", "POST", "/v1/coverage",
                          {"ssin": ssin, "service_date": day(0), "care_type": "general_practice"})
            expect(r.status == 200 and (r.json or {}).get("covered") is True, repr(r))

    key2 = f"held-{new_ssin()}"
    ssin2 = new_ssin()

    @tap.case("a write held by a lock past db_wait_timeout_ms: 503 database_timeout saying the "
              "outcome is unknown and a retry with the same Idempotency-Key is safe; the retry "
              "gives the one decision")
    def _():
        with Locked(env, "decision", hold_s=WAIT_MS / 1000 + 4) as lk:
            r = state["ocmw"].request("POST", "/v1/decisions", decision_body(ssin2),
                                      headers=(f"Idempotency-Key: {key2}",))
            answered = time.monotonic()
            lk.release_wait()
        print(f"#   (answered after {r.elapsed:.2f}s; lock released "
              f"{lk.released_at - answered:.1f}s later)")
        expect(answered < lk.released_at, "answered only once the lock was released")
        timeout_503(r, "the held write", ["outcome is unknown", "Idempotency-Key"])
        # the server went on with the statement the daemon gave up on
        time.sleep(0.5)
        before = decisions_of(env, ssin2)
        print(f"#   (the abandoned write {'was' if before else 'was not'} committed by the "
              "server afterwards)")
        r1 = d.request("ocmw", "POST", "/v1/decisions", decision_body(ssin2),
                       headers=(f"Idempotency-Key: {key2}",))
        expect(r1.status == 201, repr(r1))
        expect(decisions_of(env, ssin2) == 1, f"{decisions_of(env, ssin2)} decisions")
        if before:
            stored = env.psql(f"SELECT id FROM decision WHERE ssin = '{ssin2}'")
            expect((r1.json or {}).get("id") == stored,
                   f"the retry did not answer the committed decision {stored}: {r1!r}")

    @tap.case("group commit held by a lock: every answer of the batch fails (database_timeout "
              "or, queued behind it, database_unavailable), none is acknowledged")
    def _():
        qs = [{"ssin": new_ssin(), "service_date": day(0), "care_type": "general_practice"}
              for _ in range(6)]
        with Locked(env, "agreement", hold_s=WAIT_MS / 1000 + 4) as lk:
            r = state["provider"].request("POST", "/v1/coverage/batch", {"questions": qs})
            answered = time.monotonic()
            lk.release_wait()
        print(f"#   (batch answered after {r.elapsed:.2f}s, while the lock was held: "
              f"{answered < lk.released_at})")
        expect(answered < lk.released_at, "answered only once the lock was released")
        expect(r.status == 200, repr(r))
        ans = (r.json or {}).get("answers") or []
        expect(len(ans) == len(qs), f"answers: {r!r}")
        codes = [((a or {}).get("error") or {}).get("code") for a in ans]
        expect(not any("agreement" in (a or {}) for a in ans), f"acknowledged: {ans!r}")
        expect(all(c in ("database_timeout", "database_unavailable") for c in codes),
               f"codes {codes}")
        expect("database_timeout" in codes, f"no database_timeout among {codes}")
        for a in ans:
            e = a["error"]
            if e["code"] == "database_timeout":
                expect("outcome is unknown" in (e.get("detail") or ""), f"detail: {e!r}")
        time.sleep(0.5)
        n = int(env.psql("SELECT count(*) FROM agreement WHERE ssin IN ("
                         + ",".join(f"'{q['ssin']}'" for q in qs) + ")"))
        print(f"#   ({n} of the {len(qs)} undelivered answers were recorded by the server "
              "after the daemon gave up)")
        # only a statement that was sent may have been recorded: an answer that said
        # database_unavailable (never sent) must not be
        expect(n <= codes.count("database_timeout"),
               f"{n} recorded, but only {codes.count('database_timeout')} had an unknown "
               f"outcome: {codes}")

    @tap.case("after the locks: health and coverage work again")
    def _():
        r, took = healthy_again(d)
        expect(r.status == 200, f"after {took:.1f}s: {r!r}")
        for _ in range(4):
            r = d.request("provider", "POST", "/v1/coverage",
                          {"ssin": ssin, "service_date": day(0), "care_type": "general_practice"})
            expect(r.status == 200, repr(r))

    for c in state.values():
        c.close()
    clean_exit(tap, d)


if __name__ == "__main__":
    raise SystemExit("run through tests/integration/run.py --only freeze")

