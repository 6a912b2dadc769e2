#!/usr/bin/env python3
"""stall_check: medaid-loadgen's open loop does not hide a stall of the server.

    python3 tests/bench/stall_check.py BUILD/tests/bench/medaid-loadgen

A small mutual-TLS HTTP/1.1 server on a free loopback port answers every
request at once, except that during one window of STALL seconds it answers
nothing (every answer waits for the end of the window, as a daemon stalled
by a lock or a full disk would). medaid-loadgen --rate runs against it; the
requests that fell due during the stall must count their wait from when they
were due, so the tail of the latency shows the stall: p99 and max at least
about STALL, the requests queued behind busy connections counted as late,
none lost. (A closed loop would send only one request per connection during
the stall and report a p99 of a few milliseconds; that is printed, not
asserted.) Needs the development CA of scripts/lib.sh (made into a temporary
directory). Timing is generous: only the stall's own length is relied on.
"""
import asyncio
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time

STALL = 1.0  # seconds without answers
STALL_AT = 3.0  # seconds after the server starts (the loadgen's warm-up is 1 s)
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def summary(out):
    line = [l for l in out.splitlines() if l.startswith("summary ")]
    assert line, out
    return dict(kv.split("=", 1) for kv in line[-1].split()[1:])


class Server:
    def __init__(self, certs):
        self.paths = set()
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(f"{certs}/server.crt", f"{certs}/server.key")
        self.ctx.load_verify_locations(f"{certs}/ca.crt")
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.t0 = None
        self.port = None
        self.ready = threading.Event()

    async def handle(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"GET "), head
                self.paths.add(head.split(b" ")[1].decode())
                now = time.monotonic() - self.t0
                if STALL_AT <= now < STALL_AT + STALL:
                    await asyncio.sleep(STALL_AT + STALL - now)
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def main(self, stop):
        srv = await asyncio.start_server(self.handle, "127.0.0.1", 0, ssl=self.ctx)
        self.port = srv.sockets[0].getsockname()[1]
        self.t0 = time.monotonic()
        self.ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        srv.close()

    def run(self, stop):
        asyncio.run(self.main(stop))


def run_loadgen(loadgen, certs, port, extra):
    cmd = [loadgen, "--url", f"https://127.0.0.1:{port}", "--cert", f"{certs}/provider2.crt",
           "--key", f"{certs}/provider2.key", "--ca", f"{certs}/ca.crt",
           "-c", "4", "-w", "1", "-d", "5", "--timeout", "10000"] + extra
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    print(p.stdout, end="")
    assert p.returncode == 0, (p.returncode, p.stderr)
    return summary(p.stdout)


def serve_and_run(loadgen, certs, extra):
    srv = Server(certs)
    stop = threading.Event()
    th = threading.Thread(target=srv.run, args=(stop,), daemon=True)
    th.start()
    assert srv.ready.wait(10)
    try:
        return run_loadgen(loadgen, certs, srv.port, extra), srv.paths
    finally:
        stop.set()
        th.join(10)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    loadgen = os.path.abspath(sys.argv[1])
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with tempfile.TemporaryDirectory() as tmp:
        certs = f"{tmp}/certs"
        subprocess.run(["bash", "-c", f'. "{root}/scripts/lib.sh" && dev_ca "{certs}"'],
                       check=True, capture_output=True)
        s, paths = serve_and_run(loadgen, certs, ["--get", "/v1/health", "--rate", "200"])
        assert s["mode"] == "open" and paths == {"/v1/health"}, (s, paths)
        stall_ms = STALL * 1000
        # a fifth of the window's requests fell due during the stall: they waited for it
        assert float(s["max_ms"]) >= 0.9 * stall_ms, s
        assert float(s["p99_ms"]) >= 0.5 * stall_ms, s
        assert int(s["late"]) > 0 and int(s["queued"]) > 0, s
        assert int(s["unanswered"]) == 0 and int(s["timeouts"]) == 0, s
        assert int(s["conn_errors"]) == 0 and int(s["non2xx"]) == 0, s
        assert int(s["requests"]) == int(s["due"]), s
        due = int(s["due"])
        assert 0.9 * 200 * 5 <= due <= 1.1 * 200 * 5, s  # the schedule: rate x duration
        with open(f"{tmp}/paths.txt", "w") as f:  # the closed loop GETs these, round-robin
            f.write("/v1/health\n\n/v1/agreements/A2026-00000001\r\n")
        c, paths = serve_and_run(loadgen, certs, ["--paths", f"{tmp}/paths.txt"])
        assert c["mode"] == "closed", c
        assert paths == {"/v1/health", "/v1/agreements/A2026-00000001"}, paths
        print(f"stall of {stall_ms:.0f} ms: open loop p99 {s['p99_ms']} ms, max {s['max_ms']} ms; "
              f"closed loop p99 {c['p99_ms']} ms, max {c['max_ms']} ms")
    print("ok")


if __name__ == "__main__":
    main()
