#!/usr/bin/python3
"""Integration tests of the client (issue 11, part "Client"): PKCS#12 and encrypted PEM
keys with a pass phrase from a file or MEDAID_KEY_PASSWORD (never in argv or any output),
--retry with backoff on 429 and on 503 while PostgreSQL is down (a retried write is
recorded once), indented JSON on a terminal, profiles and their precedence, and the bash
completion generated from the client's own command table."""

import json
import os
import pty
import select
import subprocess
import threading
import time

from harness import Daemon, clean_exit, expect, new_ssin, started
from tests_api import decision_body

PASSWORD = "s3cret-Phrase-7f1e"


def client_env(d, who, **extra):
    crt, key = d.env.cert(who)
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("MEDAID_"):
            del env[k]
    env.update({
        "HOME": str(d.env.home),
        "XDG_CONFIG_HOME": str(d.env.home / ".config"),
        "MEDAID_URL": d.url,
        "MEDAID_CERT": str(crt),
        "MEDAID_KEY": str(key),
        "MEDAID_CA": str(d.env.certs / "ca.crt"),
    })
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def medaid(d, args, env, stdin=None, timeout=60):
    return subprocess.run([str(d.env.medaid), *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=timeout)


def no_secret(p, what):
    for name, text in (("stdout", p.stdout), ("stderr", p.stderr)):
        expect(PASSWORD not in text, f"{what}: the pass phrase appears on {name}")


def run(env, tap):
    d = Daemon(env, "client", rate_limit_admin_per_s=1, rate_limit_admin_burst=1,
               db_retry_max_ms=1000, db_queue_timeout_ms=1000)
    if not started(tap, d):
        return
    key_tests(env, tap, d)
    retry_tests(env, tap, d)
    tty_tests(env, tap, d)
    profile_tests(env, tap, d)
    list_tests(env, tap, d)
    completion_tests(env, tap, d)
    clean_exit(tap, d)


# ---- PKCS#12 and encrypted keys --------------------------------------------------------
def key_tests(env, tap, d):
    crt, key = env.cert("auditor")
    p12 = env.tmp / "auditor.p12"
    enc = env.tmp / "auditor-enc.key"
    pwfile = env.tmp / "auditor.pass"
    badfile = env.tmp / "wrong.pass"
    pwfile.write_text(PASSWORD + "\n")
    badfile.write_text("not-the-phrase\n")
    os.chmod(pwfile, 0o600)
    # the pass phrase goes to openssl by a file too, never in argv
    subprocess.run(["openssl", "pkcs12", "-export", "-in", str(crt), "-inkey", str(key),
                    "-out", str(p12), "-passout", f"file:{pwfile}"], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(key), "-aes256", "-out", str(enc),
                    "-passout", f"file:{pwfile}"], check=True, capture_output=True)

    @tap.case("PKCS#12 (--cert-type P12 --key-password-file): audit decisions --limit 1 answers")
    def _():
        e = client_env(d, "auditor", MEDAID_KEY=None)
        p = medaid(d, ["--cert-type", "P12", "--cert", str(p12), "--key-password-file",
                       str(pwfile), "audit", "decisions", "--limit", "1"], e)
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        expect(json.loads(p.stdout), p.stdout)
        no_secret(p, "p12")

    @tap.case("PKCS#12 from the environment (MEDAID_CERT_TYPE, MEDAID_KEY_PASSWORD)")
    def _():
        e = client_env(d, "auditor", MEDAID_KEY=None, MEDAID_CERT=str(p12),
                       MEDAID_CERT_TYPE="P12", MEDAID_KEY_PASSWORD=PASSWORD)
        p = medaid(d, ["audit", "decisions", "--limit", "1"], e)
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        no_secret(p, "p12 env")

    @tap.case("encrypted PEM key (openssl pkey -aes256): with MEDAID_KEY_PASSWORD and with "
              "--key-password-file")
    def _():
        e = client_env(d, "auditor", MEDAID_KEY=str(enc), MEDAID_KEY_PASSWORD=PASSWORD)
        p = medaid(d, ["audit", "decisions", "--limit", "1"], e)
        expect(p.returncode == 0, f"env: exit {p.returncode}: {p.stderr}")
        e = client_env(d, "auditor", MEDAID_KEY=str(enc))
        p = medaid(d, ["--key-password-file", str(pwfile), "audit", "decisions", "--limit", "1"], e)
        expect(p.returncode == 0, f"file: exit {p.returncode}: {p.stderr}")
        no_secret(p, "pem")

    @tap.case("wrong or missing pass phrase: exit 1 (local error), a clear message, no "
              "pass phrase in the output, nothing sent")
    def _():
        cases = [
            (["--key-password-file", str(badfile)], client_env(d, "auditor", MEDAID_KEY=str(enc))),
            ([], client_env(d, "auditor", MEDAID_KEY=str(enc))),
            (["--cert-type", "P12", "--cert", str(p12), "--key-password-file", str(badfile)],
             client_env(d, "auditor", MEDAID_KEY=None)),
            (["--cert-type", "P12", "--cert", str(p12)],
             client_env(d, "auditor", MEDAID_KEY=None, MEDAID_KEY_PASSWORD="wrong")),
        ]
        for args, e in cases:
            p = medaid(d, [*args, "audit", "decisions", "--limit", "1"], e)
            expect(p.returncode == 1, f"{args}: exit {p.returncode}: {p.stderr}")
            expect("pass phrase" in p.stderr, f"{args}: unclear message: {p.stderr}")
            expect(p.stdout == "", f"{args}: stdout {p.stdout!r}")
            expect("not-the-phrase" not in p.stderr + p.stdout, f"{args}: phrase shown")
            no_secret(p, str(args))

    @tap.case("the pass phrase is not in the client's argv while it runs (/proc/PID/cmdline)")
    def _():
        # a listener that never answers keeps the client waiting
        import socket
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        try:
            e = client_env(d, "auditor", MEDAID_KEY=None, MEDAID_URL=f"https://127.0.0.1:{port}")
            proc = subprocess.Popen([str(env.medaid), "--timeout", "3", "--cert-type", "P12",
                                     "--cert", str(p12), "--key-password-file", str(pwfile),
                                     "health"], env=e, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            time.sleep(0.5)
            cmdline = open(f"/proc/{proc.pid}/cmdline", "rb").read().decode(errors="replace")
            ps = subprocess.run(["ps", "-o", "args=", "-p", str(proc.pid)],
                                capture_output=True, text=True).stdout
            out, err = proc.communicate(timeout=30)
            expect(PASSWORD not in cmdline and PASSWORD not in ps, f"argv: {cmdline!r}")
            expect("health" in cmdline, f"not the client's argv? {cmdline!r}")
            expect(PASSWORD not in out + err, "pass phrase in the output")
        finally:
            srv.close()

    @tap.case("no option takes the pass phrase itself")
    def _():
        words = medaid(d, ["--completion-words"], client_env(d, "auditor")).stdout
        opts = [w.split()[1] for w in words.splitlines() if w.startswith("option ")]
        bad = [o for o in opts if "pass" in o and not o.endswith("-file")]
        expect("--key-password-file" in opts and not bad, f"options: {opts}")


# ---- retries ----------------------------------------------------------------------------
def retries_of(p):
    return [ln for ln in p.stderr.splitlines() if ln.startswith("medaid: retrying (")]


def retry_tests(env, tap, d):
    log = env.tmp / "client.log"

    @tap.case("--retry on 429 (rate limit 1/s): the client waits (Retry-After) and succeeds; "
              "without --retry exit 2")
    def _():
        e = client_env(d, "admin")
        time.sleep(1.2)
        first = medaid(d, ["health"], e)
        second = medaid(d, ["health"], e)
        expect(first.returncode == 0, f"first: {first.returncode} {first.stderr}")
        expect(second.returncode == 2 and "429" in second.stderr,
               f"second without --retry: {second.returncode} {second.stderr}")
        # three at once with a bucket of one: at least two are refused and retried
        procs = [subprocess.Popen([str(env.medaid), "--retry", "5", "--request-id",
                                   f"retry-429-{i}", "health"], env=e, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for i in range(3)]
        outs = [(pr.wait(timeout=120), *pr.communicate()) for pr in procs]
        expect(all(rc == 0 for rc, _, _ in outs), f"with --retry: {outs}")
        retried = [ln for _, _, err in outs for ln in err.splitlines()
                   if ln.startswith("medaid: retrying (HTTP 429)")]
        expect(len(retried) >= 2, f"retries: {outs}")
        text = log.read_text(errors="replace")
        seen = sum(text.count(f"retry-429-{i}") for i in range(3))
        expect(seen == 0 or seen >= 3 + len(retried),
               f"the daemon logged {seen} lines for {3 + len(retried)} attempts")

    @tap.case("--retry: a write during a database outage is retried with the same "
              "Idempotency-Key until PostgreSQL is back, and recorded once")
    def _():
        ssin = new_ssin()
        body = json.dumps(decision_body(ssin))
        key = f"client-retry-{ssin}"
        e = client_env(d, "ocmw")
        env.pg_stop("fast")
        started_pg = []

        def restart():
            time.sleep(3)
            env.pg_start()
            started_pg.append(True)
        t = threading.Thread(target=restart)
        t.start()
        try:
            p = medaid(d, ["--retry", "8", "decision", "create", "-", "--idempotency-key", key],
                       e, stdin=body, timeout=120)
        finally:
            t.join()
        expect(started_pg, "PostgreSQL was not restarted")
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        r = retries_of(p)
        expect(len(r) >= 1 and any("HTTP 503" in x for x in r), f"no 503 retry: {p.stderr}")
        dec = json.loads(p.stdout)
        rows = env.psql(f"SELECT count(*) FROM decision WHERE ssin = '{ssin}'")
        expect(rows == "1", f"{rows} decisions recorded for the retried write")
        rows = env.psql(f"SELECT count(*) FROM idempotency_key WHERE key = '{key}'")
        expect(rows == "1", f"{rows} idempotency rows")
        expect(dec.get("id"), repr(dec))
        # the same key again: the first answer, still one decision
        p2 = medaid(d, ["decision", "create", "-", "--idempotency-key", key], e, stdin=body)
        expect(p2.returncode == 0 and json.loads(p2.stdout).get("id") == dec["id"],
               f"replay: {p2.returncode} {p2.stdout} {p2.stderr}")
        rows = env.psql(f"SELECT count(*) FROM decision WHERE ssin = '{ssin}'")
        expect(rows == "1", f"{rows} decisions after the replay")

    @tap.case("--retry: a POST without an Idempotency-Key (coverage) is not retried")
    def _():
        env.pg_stop("fast")
        try:
            e = client_env(d, "provider")
            p = medaid(d, ["--retry", "3", "coverage", "--ssin", new_ssin(), "--date",
                           time.strftime("%Y-%m-%d"), "--care-type", "general_practice"], e)
        finally:
            env.pg_start()
        expect(p.returncode == 4, f"exit {p.returncode}: {p.stderr}")
        expect(not retries_of(p), f"retried: {p.stderr}")

    @tap.case("--retry on a connection failure: N more attempts, then exit 3")
    def _():
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        e = client_env(d, "admin", MEDAID_URL=f"https://127.0.0.1:{port}")
        p = medaid(d, ["--retry", "2", "health"], e)
        expect(p.returncode == 3, f"exit {p.returncode}: {p.stderr}")
        r = retries_of(p)
        expect(len(r) == 2 and "attempt 3 of 3" in r[1], f"retries: {p.stderr}")

    @tap.case("--retry: bad values are usage errors (exit 1)")
    def _():
        for v in ("-1", "11", "x"):
            p = medaid(d, ["--retry", v, "health"], client_env(d, "admin"))
            expect(p.returncode == 1 and "--retry" in p.stderr, f"{v}: {p.returncode}")

    @tap.case("PostgreSQL back after the outages: health 200")
    def _():
        deadline = time.monotonic() + 30
        while True:
            p = medaid(d, ["--retry", "5", "health"], client_env(d, "admin"))
            if p.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")


# ---- terminal ---------------------------------------------------------------------------
def on_pty(argv, env, timeout=30):
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace").replace("\r\n", "\n")


def tty_tests(env, tap, d):
    @tap.case("json on a terminal is indented; in a pipe compact, one line, as received")
    def _():
        e = client_env(d, "auditor")
        rc, out = on_pty([str(env.medaid), "audit", "decisions", "--limit", "1"], e)
        expect(rc == 0, f"pty: exit {rc}: {out}")
        lines = out.strip().splitlines()
        expect(len(lines) > 2 and lines[1].startswith(("\t", " ")), f"not indented: {out!r}")
        j = json.loads(out)
        p = medaid(d, ["audit", "decisions", "--limit", "1"], e)
        expect(p.returncode == 0 and len(p.stdout.strip().splitlines()) == 1, p.stdout)
        expect(json.loads(p.stdout) == j, "the same document")

    @tap.case("table on a terminal stays a table; ndjson on a terminal stays one line each")
    def _():
        e = client_env(d, "admin")
        time.sleep(1.2)
        rc, out = on_pty([str(env.medaid), "--retry", "3", "--format", "table", "health"], e)
        expect(rc == 0 and "{" not in out, f"table: {rc} {out!r}")


# ---- profiles ---------------------------------------------------------------------------
def profile_tests(env, tap, d):
    conf = env.tmp / "profiles.conf"
    crt, key = env.cert("auditor")
    conf.write_text(
        "# top level: a url that does not answer, table\n"
        "url = https://127.0.0.1:9\n"
        "format = table\n"
        f"ca = {env.certs / 'ca.crt'}\n"
        "timeout = 5\n"
        "\n[profile live]\n"
        f"url = {d.url}\n"
        f"cert = {crt}\n"
        f"key = {key}\n"
        "format = json\n"
        "lang = nl\n"
        "\n[profile other]\n"
        "url = https://127.0.0.1:10\n")

    def e(**kw):
        base = client_env(d, "auditor", MEDAID_URL=None, MEDAID_CERT=None, MEDAID_KEY=None,
                          MEDAID_CA=None, MEDAID_CONFIG=str(conf))
        base.update({k: v for k, v in kw.items() if v is not None})
        return base

    @tap.case("profiles: --profile live uses its url, cert and format; MEDAID_PROFILE too")
    def _():
        p = medaid(d, ["--profile", "live", "audit", "decisions", "--limit", "1"], e())
        expect(p.returncode == 0 and p.stdout.startswith("{"), f"{p.returncode} {p.stderr}")
        p = medaid(d, ["audit", "decisions", "--limit", "1"], e(MEDAID_PROFILE="live"))
        expect(p.returncode == 0 and p.stdout.startswith("{"), f"{p.returncode} {p.stderr}")

    @tap.case("profiles: without a profile, the top level (url that does not answer: exit 3)")
    def _():
        p = medaid(d, ["audit", "decisions", "--limit", "1"], e(MEDAID_CERT=str(crt), MEDAID_KEY=str(key)))
        expect(p.returncode == 3, f"{p.returncode} {p.stderr}")

    @tap.case("precedence: argv > env > profile > top level > built-in")
    def _():
        # format: profile json over top-level table
        p = medaid(d, ["--profile", "live", "audit", "decisions", "--limit", "1"], e())
        expect(p.stdout.startswith("{"), p.stdout)
        # env over profile
        p = medaid(d, ["--profile", "live", "audit", "decisions", "--limit", "1"], e(MEDAID_FORMAT="table"))
        expect(p.returncode == 0 and not p.stdout.startswith("{"), p.stdout)
        # argv over env
        p = medaid(d, ["--profile", "live", "--format", "json", "audit", "decisions", "--limit", "1"],
                   e(MEDAID_FORMAT="table"))
        expect(p.stdout.startswith("{"), p.stdout)
        # --profile over MEDAID_PROFILE
        p = medaid(d, ["--profile", "live", "audit", "decisions", "--limit", "1"], e(MEDAID_PROFILE="other"))
        expect(p.returncode == 0, f"{p.returncode} {p.stderr}")
        # env url over the profile's
        p = medaid(d, ["--profile", "live", "audit", "decisions", "--limit", "1"],
                   e(MEDAID_URL="https://127.0.0.1:9"))
        expect(p.returncode == 3, f"env url: {p.returncode}")
        # argv url over env
        p = medaid(d, ["--profile", "live", "--url", d.url, "audit", "decisions", "--limit", "1"],
                   e(MEDAID_URL="https://127.0.0.1:9"))
        expect(p.returncode == 0, f"argv url: {p.returncode} {p.stderr}")

    @tap.case("profiles: the profile's lang, timeout and retry are read and checked")
    def _():
        for k, v in (("lang", "xx"), ("timeout", "0"), ("retry", "99"), ("cert_type", "DER")):
            f = env.tmp / f"prof-{k}.conf"
            f.write_text(f"[profile p]\n{k} = {v}\n")
            p = medaid(d, ["--profile", "p", "health"], e(MEDAID_CONFIG=str(f)))
            opt = "--" + k.replace("_", "-")
            expect(p.returncode == 1 and opt in p.stderr and v in p.stderr,
                   f"{k}: {p.returncode} {p.stderr}")
            p = medaid(d, ["health"], e(MEDAID_CONFIG=str(f)))
            expect(p.returncode != 1 or opt not in p.stderr, f"{k} outside its profile used")

    @tap.case("profiles: an unknown profile, or a bad line, is a local error (exit 1)")
    def _():
        p = medaid(d, ["--profile", "nope", "health"], e())
        expect(p.returncode == 1 and "no [profile nope]" in p.stderr, p.stderr)
        bad = env.tmp / "bad-profile.conf"
        bad.write_text("[profile]\n")
        p = medaid(d, ["health"], e(MEDAID_CONFIG=str(bad)))
        expect(p.returncode == 1 and "profile" in p.stderr, p.stderr)

    @tap.case("profiles: a default format a command does not take falls back to json")
    def _():
        p = medaid(d, ["--profile", "live", "health"], e(MEDAID_FORMAT="csv"))
        expect(p.returncode == 0 and p.stdout.startswith("{"), f"{p.returncode} {p.stderr}")
        p = medaid(d, ["--profile", "live", "--format", "csv", "health"], e())
        expect(p.returncode == 1, f"argv csv: {p.returncode}")


# ---- lists ------------------------------------------------------------------------------
def list_tests(env, tap, d):
    import csv
    import io
    from tests_agreements import SAMPLE, import_csv
    ssin = new_ssin()
    eo = client_env(d, "ocmw")
    p = medaid(d, ["decision", "create", "-"], eo, stdin=json.dumps(decision_body(ssin)))
    expect(p.returncode == 0, f"create: {p.stderr}")
    dec = json.loads(p.stdout)
    p = medaid(d, ["decision", "suspend", dec["id"]], eo)
    expect(p.returncode == 0, f"suspend: {p.stderr}")
    r = import_csv(d, SAMPLE.read_text())
    expect(r.status == 200, f"tariffs: {r!r}")
    code = next(ln for ln in SAMPLE.read_text().splitlines()
                if ln[:6].isdigit()).split(",")[0]
    # audit reads first: the ocmw's reads below are recorded in the trail it lists
    p = medaid(d, ["decision", "history", dec["id"]], eo)
    expect(p.returncode == 0, f"history: {p.stderr}")
    time.sleep(2)
    cases = [
        ("auditor", ["audit", "reads", "--ssin", ssin], None, None),
        ("ocmw", ["decision", "history", dec["id"]], "versions", 2),
        ("ocmw", ["beneficiary", "decisions", ssin], "decisions", 1),
        ("auditor", ["tariffs", "show", code], None, None),
    ]

    @tap.case("csv and ndjson on every list command: one line per item, the same items as json")
    def _():
        for who, args, member, n in cases:
            e = client_env(d, who)
            pj = medaid(d, args, e)
            expect(pj.returncode == 0, f"{args}: {pj.returncode} {pj.stderr}")
            j = json.loads(pj.stdout)
            items = j if isinstance(j, list) else (
                j[member] if member else next(v for v in j.values() if isinstance(v, list)))
            expect(items, f"{args}: an empty list proves nothing")
            if n is not None:
                expect(len(items) == n, f"{args}: {len(items)} items")
            pn = medaid(d, ["--format", "ndjson", *args], e)
            expect(pn.returncode == 0, f"{args} ndjson: {pn.stderr}")
            lines = [json.loads(x) for x in pn.stdout.splitlines()]
            # audit reads records each call of itself: its list grows by one each time
            grows = args[:2] == ["audit", "reads"]
            expect(lines[:len(items)] == items and (grows or len(lines) == len(items)),
                   f"{args}: ndjson {lines} != json {items}")
            pc = medaid(d, ["--format", "csv", *args], e)
            expect(pc.returncode == 0, f"{args} csv: {pc.stderr}")
            rows = list(csv.DictReader(io.StringIO(pc.stdout)))
            expect(len(rows) == len(items) + (2 if grows else 0),
                   f"{args}: {len(rows)} csv rows for {len(items)}")
            for row, it in zip(rows, items):
                for k, v in it.items():
                    want = "" if v is None else v if isinstance(v, str) else json.dumps(
                        v, separators=(",", ":"))
                    if isinstance(v, (dict, list)):
                        want = json.loads(row[k]) == v and row[k]
                    expect(row[k] == want, f"{args}: {k}: {row[k]!r} != {want!r}")

    @tap.case("csv and ndjson on the paged lists (audit, invoice list, statement) still taken")
    def _():
        for who, args in (("auditor", ["audit", "decisions", "--ssin", ssin]),
                          ("auditor", ["audit", "consultations", "--limit", "5"])):
            p = medaid(d, ["--format", "ndjson", *args], client_env(d, who))
            expect(p.returncode == 0, f"{args}: {p.returncode} {p.stderr}")
            for x in p.stdout.splitlines():
                json.loads(x)


# ---- completion -------------------------------------------------------------------------
def completion_tests(env, tap, d):
    from harness import ROOT
    comp = ROOT / "client" / "medaid.bash-completion"

    def complete(*words):
        script = (f"source '{comp}'\n"
                  f"COMP_WORDS=({' '.join(repr(w) for w in words)}); "
                  f"COMP_CWORD={len(words) - 1}; COMPREPLY=(); _medaid; "
                  "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
        e = client_env(d, "admin")
        e["PATH"] = f"{env.medaid.parent}:{e['PATH']}"
        p = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                           env=e, timeout=30)
        expect(p.returncode == 0, p.stderr)
        return set(p.stdout.split())

    @tap.case("bash completion: every command of the client's table, every global option")
    def _():
        words = medaid(d, ["--completion-words"], client_env(d, "admin")).stdout.splitlines()
        helptext = medaid(d, ["--help"], client_env(d, "admin")).stdout
        groups = complete("medaid", "")
        missing = []
        for w in words:
            f = w.split()
            if f[0] == "group":
                if f[1] not in groups:
                    missing.append(w)
                expect(f"  {f[1]}" in helptext, f"{f[1]} not in --help")
            elif f[0] == "command":
                if f[2] not in complete("medaid", f[1], ""):
                    missing.append(w)
        opts = complete("medaid", "--")
        missing += [w for w in words if w.startswith("option ") and w.split()[1] not in opts]
        expect(not missing, f"not completed: {missing}")
        # every command of --help is in the words
        for line in helptext.split("Commands:")[1].split("Options")[0].splitlines():
            if line.startswith("  ") and not line.startswith("      "):
                f = line.split()
                ok = any(w == f"group {f[0]}" for w in words)
                expect(ok, f"{f[0]} missing from --completion-words")

    @tap.case("bash completion: command options and option values")
    def _():
        expect("--idempotency-key" in complete("medaid", "decision", "create", "--"), "copt")
        expect("--ssin" in complete("medaid", "coverage", "--"), "coverage --ssin")
        expect(complete("medaid", "--format", "") == {"json", "table", "ndjson", "csv"}, "fmt")
        expect(complete("medaid", "--cert-type", "") == {"PEM", "P12"}, "cert-type")
