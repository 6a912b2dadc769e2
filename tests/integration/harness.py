"""Integration harness: a throwaway PostgreSQL cluster, a dev CA, real medaidd
processes, and the clients that talk to them (curl, medaid, openssl, Python ssl).

Standard library only (Debian's /usr/bin/python3), but for contract.py, which checks
every answer against proto/openapi.yaml with python3-jsonschema and python3-yaml
(scripts/lib.sh's packages). The PostgreSQL and CA parts are done by scripts/lib.sh,
so the tests exercise the same code as scripts/demo.
"""

import datetime
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import contract  # every answer of Daemon.request is checked against proto/openapi.yaml

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "scripts" / "lib.sh"
BRUSSELS = ZoneInfo("Europe/Brussels")

# (name, role, organisation) of the principals every test may use. Since providers have a
# kind (migration 007), "provider", the one most tests ask general practice as, is the GP
# (10012345678, general_practitioner) and "provider2" the hospital (71012345678, hospital):
# hospital care is asked as provider2 (scripts/lib.sh's demo names them the other way round)
PRINCIPALS = {
    "ocmw": ("ocmw", "0212345668"),
    "ocmw2": ("ocmw", "0207123407"),
    "provider": ("provider", "10012345678"),
    "provider2": ("provider", "71012345678"),
    "auditor": ("auditor", "0209876524"),
    "admin": ("admin", "0200000142"),
}
# the kind of each provider principal (medaidd principal add --kind): the hospital may ask
# hospital care, the GP general practice (DOMAIN.md "Provider kinds")
PROVIDER_KINDS = {
    "provider": "general_practitioner",
    "provider2": "hospital",
}


def provider_kind_of(org):
    """The kind a provider with that number is registered as, unless a test says otherwise:
    hospital for a NIHII starting 710/720, else general_practitioner (as migration 007)."""
    return "hospital" if org[:3] in ("710", "720") else "general_practitioner"


class Failure(Exception):
    """A failed expectation inside a test."""


def expect(cond, message):
    if not cond:
        raise Failure(message)


def started(tap, d):
    """The test case that starts daemon d; True when it is then serving."""
    @tap.case("medaidd starts and answers /v1/health")
    def _():
        d.start()

    return d.proc is not None and d.proc.poll() is None


def clean_exit(tap, d, limit=20):
    """The test case that stops daemon d: exit status 0 on SIGTERM, no sanitizer report."""
    @tap.case("medaidd exits 0 on SIGTERM, no sanitizer report")
    def _():
        rc = d.stop(timeout=limit)
        expect(rc == 0, f"exit status {rc}\n{d.tail()}")
        rep = d.sanitizer_report()
        expect(not rep, rep)


def today():
    """The business 'today': the date in Europe/Brussels."""
    return datetime.datetime.now(BRUSSELS).date()


def day(offset):
    return (today() + datetime.timedelta(days=offset)).isoformat()


def ssin_check(n9):
    return 97 - (int(n9) % 97)


_ssin_counter = [0]
USED_SSINS = []


def new_ssin():
    """A fresh valid SSIN (born 1930-1999), different on every call and every run."""
    _ssin_counter[0] += 1
    seed = (int(time.time()) * 131 + os.getpid() * 7 + _ssin_counter[0] * 7919) % 10_000_000
    born = datetime.date(1930, 1, 1) + datetime.timedelta(days=seed % 25000)
    seq = (seed // 25000) % 997 + 1
    n9 = born.strftime("%y%m%d") + f"{seq:03d}"
    s = n9 + f"{ssin_check(n9):02d}"
    USED_SSINS.append(s)
    return s


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, check=True, timeout=120, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{cmd!r} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def lib(script, timeout=300):
    """Run bash with scripts/lib.sh sourced."""
    return run(["bash", "-c", f'set -euo pipefail; . "{LIB}"; {script}'], timeout=timeout)


# ---------------------------------------------------------------------------
class Env:
    """Everything one run shares: temp dir, cluster, certificates, binaries."""

    def __init__(self, build):
        self.build = Path(build).resolve()
        self.medaidd = self.build / "daemon" / "medaidd"
        self.medaid = self.build / "client" / "medaid"
        expect(self.medaidd.exists(), f"{self.medaidd} is missing (build first)")
        self.tmp = Path(tempfile.mkdtemp(prefix="medaid-it-", dir="/tmp"))
        os.chmod(self.tmp, 0o755)  # the postgres user must reach the cluster
        self.pgdata = self.tmp / "pg"
        self.sock = self.tmp / "run"
        self.port = 5433
        self.certs = self.tmp / "certs"
        self.daemons = []
        # the daemon runs as its own role; migrations and principals as the owner
        self.database = f"host={self.sock} port={self.port} dbname=medaid user=medaid_app"
        self.owner_database = f"host={self.sock} port={self.port} dbname=medaid user=medaid"
        self.home = self.tmp / "home"
        self.home.mkdir()

    # -- set-up ---------------------------------------------------------------
    def setup(self):
        lib(f'pg_cluster_init "{self.pgdata}" "{self.sock}" {self.port} test')
        lib(f'dev_ca "{self.certs}"; _ca_leaf "{self.certs}" revokee '
            f'"/O=medaid tests/CN=revokee" "${{_client_ext[@]}}"')
        self.conf = self.write_conf("admin-cli", {})
        p = run([str(self.medaidd), "migrate", "-c", str(self.conf)], check=False,
                cwd=str(ROOT), env=self.daemon_env())
        expect(p.returncode == 0, f"medaidd migrate exited {p.returncode}: {p.stderr[-2000:]}")
        for name, (role, org) in PRINCIPALS.items():
            self.principal_add(name, role, org)
        self.principal_add("revokee", "provider", PRINCIPALS["provider"][1])

    def principal_add(self, name, role, org, kind=None):
        if role == "provider" and kind is None:
            kind = PROVIDER_KINDS.get(name) or provider_kind_of(org)
        p = run([str(self.medaidd), "principal", "add", "-c", str(self.conf),
                 "--cert", str(self.cert(name)[0]), "--role", role, "--org", org,
                 *(["--kind", kind] if kind else []),
                 "--name", f"integration {name}"], check=False, cwd=str(ROOT),
                env=self.daemon_env())
        expect(p.returncode == 0, f"principal add {name}: exit {p.returncode}: {p.stderr[-1000:]}")
        return p

    def medaidd_cmd(self, *args):
        return run([str(self.medaidd), *args, "-c", str(self.conf)], check=False,
                   cwd=str(ROOT), env=self.daemon_env())

    def daemon_env(self):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1:halt_on_error=1")
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        env["TZ"] = "UTC"
        return env

    def write_conf(self, name, overrides):
        port = overrides.pop("_port", None) or free_port()
        opts = {
            "listen": f"127.0.0.1:{port}",
            "workers": 2,
            "tls_cert": self.certs / "server.crt",
            "tls_key": self.certs / "server.key",
            "tls_ca": self.certs / "ca.crt",
            "database": self.database,
            "owner_database": self.owner_database,
            "db_pool_size": 2,
            "principal_cache_ms": 0,
            "timezone": "Europe/Brussels",
            "schema_dir": ROOT / "schema",
            "log_level": "debug",
            "log_file": self.tmp / f"{name}.log",
            "pid_file": self.tmp / f"{name}.pid",
            # every answer is signed (scripts/lib.sh dev_ca makes the key)
            "agreement_signing_key": self.certs / "agreement-signing.pem",
            "ops_listen": "",  # the operator listener: on only where a test asks (tests_ops)
        }
        opts.update(overrides)
        path = self.tmp / f"{name}.conf"
        with open(path, "w") as f:
            f.write(f"# integration test config: {name}\n")
            for k, v in opts.items():
                f.write(f"{k} = {v}\n" if isinstance(v, int) else f'{k} = "{v}"\n')
        return path

    def cert(self, name):
        if name == "other":
            d = self.certs / "other-ca"
            return d / "client.crt", d / "client.key"
        return self.certs / f"{name}.crt", self.certs / f"{name}.key"

    def psql(self, sql):
        p = run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.sock),
                 "-p", str(self.port), "-U", "medaid", "-d", "medaid", "-c", sql])
        return p.stdout.strip()

    def psql_as(self, user, sql, check=True, sep="|"):
        """psql as another role of the cluster (e.g. medaid_app, the daemon's own);
        returns the CompletedProcess (check=False: also when it failed)."""
        return run(["psql", "-X", "-At", "-F", sep, "-v", "ON_ERROR_STOP=1", "-h",
                    str(self.sock), "-p", str(self.port), "-U", user, "-d", "medaid",
                    "-c", sql], check=check)

    def superuser_psql(self, sql):
        """psql as the cluster's superuser (scripts/lib.sh _pg_psql); returns stdout."""
        quoted = sql.replace("'", "'\\''")
        p = lib(f"_pg_psql '{self.sock}' {self.port} medaid -At -c '{quoted}'")
        return p.stdout.strip()

    def table_counts(self):
        out = self.psql(
            "SELECT table_schema || '.' || table_name, "
            "(xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', "
            "table_schema, table_name), false, true, '')))[1]::text "
            "FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")
        return dict(line.split("|", 1) for line in out.splitlines() if "|" in line)

    def pg_stop(self, mode="fast"):
        lib(f'pg_cluster_stop "{self.pgdata}" {mode}')

    def pg_start(self):
        lib(f'pg_cluster_start "{self.pgdata}"')

    # -- tear-down ------------------------------------------------------------
    def teardown(self, keep=False):
        for d in self.daemons:
            d.kill()
        try:
            lib(f'pg_cluster_stop "{self.pgdata}" immediate', timeout=60)
        except Exception as e:  # noqa: BLE001 - tear-down goes on
            print(f"# pg stop: {e}")
        if keep:
            print(f"# kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def logs(self):
        """All log text the daemons wrote (log files and stderr)."""
        out = []
        for p in sorted(self.tmp.glob("*.log")) + sorted(self.tmp.glob("*.stderr")):
            try:
                out.append((p.name, p.read_text(errors="replace")))
            except OSError:
                pass
        return out


# ---------------------------------------------------------------------------
class Resp:
    def __init__(self, rc, status, headers, body, stderr, elapsed):
        self.rc = rc
        self.status = status
        self.headers = headers
        self.body = body
        self.stderr = stderr
        self.elapsed = elapsed

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        b = self.body[:600].decode(errors="replace")
        return (f"<curl rc={self.rc} status={self.status} headers={self.headers} "
                f"body={b!r} stderr={self.stderr.strip()[:300]!r} t={self.elapsed:.2f}s>")


class Daemon:
    def __init__(self, env, name, **overrides):
        self.env = env
        self.name = name
        self.port = free_port()
        overrides["_port"] = self.port
        self.conf = env.write_conf(name, overrides)
        self.proc = None
        self.stderr_path = env.tmp / f"{name}.stderr"
        env.daemons.append(self)
        self._n = 0
        self.extra_env = {}  # added to the daemon's environment (NOTIFY_SOCKET, ...)

    def start(self, wait=30):
        self.stderr_file = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([str(self.env.medaidd), "-c", str(self.conf)],
                                     stdin=subprocess.DEVNULL, stdout=self.stderr_file,
                                     stderr=subprocess.STDOUT, cwd=str(ROOT),
                                     env={**self.env.daemon_env(), **self.extra_env})
        deadline = time.monotonic() + wait
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"medaidd ({self.name}) exited {self.proc.returncode} at start:\n"
                              + self.tail())
            last = self.request("admin", "GET", "/v1/health", max_time=3)
            if last.status == 200:
                return self
            time.sleep(0.2)
        raise Failure(f"medaidd ({self.name}) not healthy after {wait}s: {last!r}\n" + self.tail())

    def tail(self, n=30):
        text = ""
        for p in (self.env.tmp / f"{self.name}.log", self.stderr_path):
            if p.exists():
                text += f"--- {p.name}\n" + "\n".join(
                    p.read_text(errors="replace").splitlines()[-n:]) + "\n"
        return text

    @property
    def url(self):
        return f"https://localhost:{self.port}"

    def curl_base(self, who, max_time):
        args = ["curl", "-sS", "--max-time", str(max_time),
                "--resolve", f"localhost:{self.port}:127.0.0.1",
                "--cacert", str(self.env.certs / "ca.crt"), "-H", "Expect:"]
        if who:
            crt, key = self.env.cert(who)
            args += ["--cert", str(crt), "--key", str(key)]
        return args

    def request(self, who, method, path, body=None, headers=(), content_type="application/json",
                max_time=10):
        """One HTTPS request with curl; body may be bytes, str or a JSON value."""
        self._n += 1
        tag = f"{threading.get_ident()}-{self._n}"
        hfile = self.env.tmp / f"h-{tag}"
        bfile = self.env.tmp / f"b-{tag}"
        dfile = self.env.tmp / f"d-{tag}"
        args = self.curl_base(who, max_time) + ["-X", method, "-D", str(hfile), "-o", str(bfile),
                                                "-w", "%{http_code}"]
        for h in headers:
            args += ["-H", h]
        if body is not None:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            dfile.write_bytes(body)
            args += ["--data-binary", f"@{dfile}"]
            if content_type:
                args += ["-H", f"Content-Type: {content_type}"]
        args.append(self.url + path)
        t0 = time.monotonic()
        p = subprocess.run(args, capture_output=True, stdin=subprocess.DEVNULL,
                           timeout=max_time + 20)
        elapsed = time.monotonic() - t0
        try:
            status = int(p.stdout.decode().strip() or 0)
        except ValueError:
            status = 0
        headers_out = {}
        if hfile.exists():
            for line in hfile.read_text(errors="replace").splitlines():
                if line.startswith("HTTP/"):
                    headers_out = {}
                elif ":" in line:
                    k, v = line.split(":", 1)
                    headers_out[k.strip().lower()] = v.strip()
        body_out = bfile.read_bytes() if bfile.exists() else b""
        for f in (hfile, bfile, dfile):
            try:
                f.unlink()
            except FileNotFoundError:
                pass
        if p.returncode == 0 or status:
            contract.check(method, path, status, headers_out, body_out)
        return Resp(p.returncode, status, headers_out, body_out,
                    p.stderr.decode(errors="replace"), elapsed)

    def client(self, who, *args, stdin=None, timeout=30):
        """Run the project's medaid client as principal `who`."""
        crt, key = self.env.cert(who)
        env = dict(os.environ)
        env.update({
            "HOME": str(self.env.home),
            "XDG_CONFIG_HOME": str(self.env.home / ".config"),
            "MEDAID_URL": self.url,
            "MEDAID_CERT": str(crt),
            "MEDAID_KEY": str(key),
            "MEDAID_CA": str(self.env.certs / "ca.crt"),
        })
        env.pop("MEDAID_CONFIG", None)
        return subprocess.run([str(self.env.medaid), *args], input=stdin, capture_output=True,
                              text=True, env=env, timeout=timeout)

    def tls_socket(self, who, timeout=10):
        """A raw TLS connection (Python ssl) for hand-made HTTP."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.sslsocket_class = _RecordingSSLSocket  # read_http checks the answers
        ctx.load_verify_locations(str(self.env.certs / "ca.crt"))
        if who:
            crt, key = self.env.cert(who)
            ctx.load_cert_chain(str(crt), str(key))
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return ctx.wrap_socket(raw, server_hostname="localhost")

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM, wait; returns the exit status (None if it had to be killed)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if getattr(self, "stderr_file", None):
            self.stderr_file.close()
            self.stderr_file = None

    def sanitizer_report(self):
        if not self.stderr_path.exists():
            return ""
        text = self.stderr_path.read_text(errors="replace")
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "SUMMARY: UndefinedBehaviorSanitizer", "WARNING: ThreadSanitizer",
                       "ERROR: ThreadSanitizer"):
            i = text.find(marker)
            if i >= 0:
                return text[max(0, i - 200):i + 3000]
        return ""


class _RecordingSSLSocket(contract.RecordingSocket, ssl.SSLSocket):
    """An SSLSocket that remembers its request lines (contract.check_stream)."""


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


def read_http(sock, timeout):
    """Read until the peer closes or a full response head (+ Content-Length body) is in."""
    sock.settimeout(0.2)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            chunk = None
        except (ConnectionError, ssl.SSLError, OSError):
            return data, True
        if chunk == b"":
            contract.check_stream(sock, data)
            return data, True
        if chunk:
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip() or 0)
                if len(body) >= length:
                    contract.check_stream(sock, data)
                    return data, False
    contract.check_stream(sock, data)
    return data, False
