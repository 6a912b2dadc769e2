"""Integration tests: SIGTERM under load loses no request; the pid file goes on every exit.

Every request a client wrote must be answered (200 or 503; the last one on a connection
with Connection: close), unless it provably was never sent: the connection was refused,
or the server had already closed it cleanly (TLS close_notify / EOF seen before the
request was written). A request written and then met by EOF is LOST: the test fails.
"""

import json
import random
import select
import signal
import socket
import ssl
import threading
import time

from harness import Daemon, day, expect, new_ssin, read_http

RUNS = 10            # daemon runs, one SIGTERM each
BUSY = 6             # keep-alive clients sending back to back across the signal
IDLE = 4             # kept-alive clients that send one request 0-300 ms after the signal
LATE_IDLE_S = 2.5    # a kept-alive client that waits past the drain grace (1 s)


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = {}
        self.problems = []

    def add(self, key, k=1):
        with self.lock:
            self.n[key] = self.n.get(key, 0) + k

    def bad(self, text):
        with self.lock:
            self.problems.append(text)
        self.add("LOST")

    def get(self, key):
        return self.n.get(key, 0)


def request_bytes(i):
    """A health check or a coverage question (a database round trip), keep-alive."""
    if i % 2 == 0:
        return b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
    body = json.dumps({"ssin": new_ssin(), "service_date": day(0),
                       "care_type": "general_practice"}).encode()
    return (b"POST /v1/coverage HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def closed_by_server(s):
    """True when the server has already ended the connection (before we write)."""
    try:
        r, _, _ = select.select([s], [], [], 0)
    except (OSError, ValueError):
        return True
    if not r and not s.pending():
        return False
    s.settimeout(0.05)
    try:
        data = s.recv(1)
    except (socket.timeout, ssl.SSLWantReadError):
        return False
    except (ConnectionError, ssl.SSLError, OSError):
        return True
    if data == b"":
        return True
    raise AssertionError(f"unsolicited bytes from the server: {data!r}")


def parse(resp):
    head = resp.partition(b"\r\n\r\n")[0].decode(errors="replace").split("\r\n")
    try:
        status = int(head[0].split()[1])
    except (IndexError, ValueError):
        status = 0
    close = any(line.lower().startswith("connection:") and "close" in line.lower()
                for line in head[1:])
    return status, close


def exchange(s, req, tally, who):
    """Write one request (unless the server closed first) and read its answer.
    Returns 'answered', 'answered-close', or 'not-sent'; a lost request is tallied bad."""
    if closed_by_server(s):
        tally.add("not sent: closed cleanly by the server before the request")
        return "not-sent"
    try:
        s.sendall(req)
    except (ConnectionError, ssl.SSLError, OSError) as e:
        # the write itself failed: the server had closed; nothing was delivered
        tally.add("not sent: write refused")
        return f"not-sent ({e.__class__.__name__})"
    tally.add("written")
    got, _closed = read_http(s, 15)
    status, close = parse(got)
    if not got or status == 0 or (b"\r\n\r\n" not in got):
        tally.bad(f"{who}: request written, got {got[:120]!r}")
        return "lost"
    if status not in (200, 503):
        tally.bad(f"{who}: status {status}: {got[:200]!r}")
        return "lost"
    tally.add(f"answered {status}")
    if close:
        tally.add("answered with Connection: close")
        return "answered-close"
    return "answered"


def one_run(env, name, tally, second_term=False):
    d = Daemon(env, name, shutdown_timeout_ms=5000, log_level="info")
    d.start()
    pid_file = env.tmp / f"{name}.pid"
    expect(pid_file.read_text().strip() == str(d.proc.pid),
           f"pid file {pid_file}: {pid_file.read_text()!r}, pid {d.proc.pid}")
    signalled = threading.Event()
    t_signal = [0.0]
    stop = time.monotonic() + 20
    errors = []

    def connect(label):
        try:
            return d.tls_socket("provider")
        except OSError as e:
            errors.append(f"{label}: connect before the signal: {e!r}")
            return None

    def busy(k):
        s = connect(f"busy {k}")
        if s is None:
            return
        try:
            i = k
            after = 0
            while time.monotonic() < stop:
                res = exchange(s, request_bytes(i), tally, f"busy{k}")
                i += 1
                if signalled.is_set():
                    after += 1
                if res != "answered":
                    break
                if signalled.is_set() and time.monotonic() - t_signal[0] > 3:
                    tally.bad(f"busy{k}: still kept alive 3 s after SIGTERM")
                    break
            tally.add("busy clients' requests sent after SIGTERM", after)
            if res == "answered-close" and signalled.is_set():
                tally.add("busy clients ended by an answer with Connection: close")
        finally:
            s.close()

    # the idle connections' first answers come before the signal: under load (the
    # sanitizer runs side by side) their threads may start later than the 0.6 s below
    idle_ready = threading.Semaphore(0)

    def idle(k, delay):
        s = connect(f"idle {k}")
        if s is None:
            idle_ready.release()
            return
        try:
            try:
                res = exchange(s, request_bytes(0), tally, f"idle{k}-before")
            finally:
                idle_ready.release()
            expect(res == "answered", f"idle {k}: before the signal: {res}")
            signalled.wait(15)
            time.sleep(delay)
            res = exchange(s, request_bytes(k), tally, f"idle{k}-after{delay:.2f}s")
            if delay < 0.5:
                if res == "answered":
                    # served before the worker began to drain: the connection is
                    # then closed cleanly after the grace, between requests
                    t0 = time.monotonic()
                    while not closed_by_server(s) and time.monotonic() - t0 < 5:
                        time.sleep(0.05)
                    if time.monotonic() - t0 >= 5:
                        tally.bad(f"idle{k}: kept alive 5 s after SIGTERM")
                    tally.add("answered without close (before the drain), then closed cleanly")
                elif res != "answered-close":
                    tally.bad(f"idle{k}: sent {delay:.2f}s after SIGTERM: {res}")
            elif res != "not-sent":
                tally.bad(f"idle{k}: waited {delay:.2f}s (past the grace): {res}")
        except Exception as e:  # noqa: BLE001
            errors.append(f"idle {k}: {e!r}")
        finally:
            s.close()

    def newcomer(k):
        """A new connection just after the signal: refused, or served."""
        time.sleep(0.01 * k)
        try:
            s = d.tls_socket("provider", timeout=5)
        except (OSError, ssl.SSLError):
            tally.add("not sent: new connection refused after SIGTERM")
            return
        try:
            res = exchange(s, b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n", tally,
                           f"new{k}")
            tally.add(f"new connection after SIGTERM: {res.split(' ')[0]}")
        finally:
            s.close()

    threads = [threading.Thread(target=busy, args=(k,)) for k in range(BUSY)]
    delays = [0.0] + [random.uniform(0, 0.3) for _ in range(IDLE - 1)]
    threads += [threading.Thread(target=idle, args=(k, delays[k])) for k in range(IDLE)]
    threads.append(threading.Thread(target=idle, args=(IDLE, LATE_IDLE_S)))
    # a kept-alive connection whose complete request is in the socket as the signal comes
    buffered = d.tls_socket("provider")
    expect(exchange(buffered, request_bytes(0), tally, "buffered-before") == "answered",
           "buffered: first request")
    for t in threads:
        t.start()
    time.sleep(0.6)  # load before the signal
    for _ in range(IDLE + 1):
        if not idle_ready.acquire(timeout=10):
            errors.append("an idle connection had no first answer within 10 s")
            break
    buffered.sendall(request_bytes(1))
    tally.add("written")
    t_signal[0] = time.monotonic()
    d.signal()
    if second_term:
        time.sleep(0.05)
        d.signal()
    signalled.set()
    news = [threading.Thread(target=newcomer, args=(k,)) for k in range(3)]
    for t in news:
        t.start()
    if not second_term:
        got, _ = read_http(buffered, 15)
        status, close = parse(got)
        if status not in (200, 503):
            tally.bad(f"buffered request (in the socket at SIGTERM): {got[:200]!r}")
        else:
            tally.add(f"answered {status}")
            tally.add("answered with Connection: close" if close else
                      "answered without close (before the drain), then closed cleanly")
    buffered.close()
    try:
        rc = d.proc.wait(20)
    except Exception:  # noqa: BLE001
        rc = None
    exit_s = time.monotonic() - t_signal[0]
    for t in threads + news:
        t.join(30)
    d.kill()
    rep = d.sanitizer_report()
    return rc, exit_s, pid_file.exists(), errors, rep, d


def run(env, tap):
    tally = Tally()
    results = []

    @tap.case(f"{RUNS} SIGTERMs under load: every request written is answered "
              "(200/503, the last with Connection: close), none lost")
    def _():
        for i in range(RUNS):
            results.append(one_run(env, f"term{i}", tally))
        bad = [f"run {i}: exit {rc}" for i, (rc, *_r) in enumerate(results) if rc != 0]
        bad += [f"run {i}: pid file left" for i, r in enumerate(results) if r[2]]
        bad += [f"run {i}: {e}" for i, r in enumerate(results) for e in r[3]]
        bad += [f"run {i}: sanitizer: {r[4][:500]}" for i, r in enumerate(results) if r[4]]
        exits = sorted(r[1] for r in results)
        for k in sorted(tally.n):
            print(f"#   {k}: {tally.n[k]}")
        print(f"#   exit after SIGTERM: {exits[0]:.2f}-{exits[-1]:.2f}s")
        expect(tally.get("LOST") == 0, f"{tally.get('LOST')} request(s) lost:\n"
               + "\n".join(tally.problems[:30]))
        expect(not bad, "\n".join(bad[:30]))
        expect(tally.get("busy clients ended by an answer with Connection: close") >= RUNS,
               "busy clients were not told Connection: close")
        expect(tally.get("not sent: closed cleanly by the server before the request") >= RUNS,
               "the idle connection past the grace was not closed cleanly")

    @tap.case("second SIGTERM under load: exit 1 at once, and the pid file is removed")
    def _():
        rc, exit_s, pid_left, errors, rep, d = one_run(env, "term-twice", Tally(),
                                                       second_term=True)
        expect(rc == 1, f"exit status {rc}\n{d.tail()}")
        expect(exit_s < 5, f"took {exit_s:.1f}s")
        expect(not pid_left, "the pid file stayed behind")

    @tap.case("SIGINT on an idle daemon: exit 0, pid file removed")
    def _():
        d = Daemon(env, "term-int", log_level="info")
        d.start()
        d.signal(signal.SIGINT)
        rc = d.proc.wait(15)
        d.kill()
        expect(rc == 0, f"exit status {rc}")
        expect(not (env.tmp / "term-int.pid").exists(), "the pid file stayed behind")
