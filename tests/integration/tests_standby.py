"""Integration tests of auditors' reads on a hot standby (issue 13, "Reads on a
standby"): with read_database set, GET /v1/audit/verify, consultations, decisions,
reads and coverage-as-of are answered from a streaming standby of the test cluster
and say up to when it had replayed (Medaid-Replica-Replay); writes, coverage and the
read-audit records stay on the primary; while the standby is down the auditors' reads
go to the primary, and come back to the standby when it returns.

The standby is made here: pg_basebackup -R of the test cluster (as the cluster's
owner) into the run's temp dir, started on its own port of the same Unix socket
directory, and always stopped at the end of the group."""

import datetime
import re
import time

from harness import Daemon, clean_exit, expect, free_port, lib, new_ssin, started
from tests_anchor import genkey
from tests_api import decision_body
from tests_audit import ask, qs
from tests_lifecycle import create
from tests_ops import ops_get

TS_US_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
HEADER = "Medaid-Replica-Replay"


def parse_ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


class Standby:
    """A streaming hot standby of env's cluster."""

    def __init__(self, env):
        self.env = env
        self.dir = env.tmp / "standby"
        self.port = free_port()  # names its socket: the cluster listens on no TCP address
        self.made = False

    @property
    def conninfo(self):
        return f"host={self.env.sock} port={self.port} dbname=medaid user=medaid_app"

    def create(self):
        env = self.env
        real = lib(f'_pg_real "{env.pgdata}"').stdout.strip()
        # the test cluster trusts local connections; replication ones too now
        lib(f"grep -q '^local replication all trust' '{real}/pg_hba.conf' || "
            f"echo 'local replication all trust' >> '{real}/pg_hba.conf'")
        env.superuser_psql("SELECT pg_reload_conf()")
        lib(f'mkdir -p "{self.dir}"; chmod 700 "{self.dir}"; '
            f'if [ "$(id -u)" -eq 0 ]; then chown postgres: "{self.dir}"; fi')
        self.made = True
        lib(f'_pg_as_owner "$(pg_bindir)/pg_basebackup" -D "{self.dir}" -R -X stream '
            f'--checkpoint=fast -h "{env.sock}" -p {env.port} -U "$(_pg_owner)"', timeout=300)
        lib(f"printf '%s\\n' '# ---- standby (tests_standby.py) ----' 'port = {self.port}' "
            f"'hot_standby = on' >> '{self.dir}/postgresql.conf'")
        self.start()

    def start(self):
        lib(f'pg_cluster_start "{self.dir}"')

    def stop(self, mode="immediate"):
        if self.made:
            lib(f'pg_cluster_stop "{self.dir}" {mode}', timeout=90)

    def sql(self, text):
        """One value (or lines) from the standby, as the cluster's superuser."""
        quoted = text.replace("'", "'\\''")
        p = lib(f"_pg_psql '{self.env.sock}' {self.port} medaid -At -c '{quoted}'")
        return p.stdout.strip()


def primary_one(env, sql):
    return env.psql(sql)


def audit_decisions(d, ssin):
    return d.request("auditor", "GET", "/v1/audit/decisions?" + qs(ssin=ssin))


def wait_for(what, fn, timeout=60, step=0.25):
    """fn() until it returns a true value; the last value, or a failure after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def run(env, tap):
    sb = Standby(env)
    try:
        _run(env, tap, sb)
    finally:
        try:
            sb.stop()
        except Exception as e:  # noqa: BLE001 - the tear-down goes on
            print(f"# standby stop: {e}")


def _run(env, tap, sb):
    @tap.case("a streaming hot standby of the test cluster (pg_basebackup -R) is up and in "
              "recovery, its WAL receiver streaming")
    def _():
        sb.create()
        expect(sb.sql("SELECT pg_is_in_recovery()") == "t", "the standby is not in recovery")
        wait_for("the WAL receiver", lambda: sb.sql(
            "SELECT status FROM pg_stat_wal_receiver") == "streaming", timeout=60)

    if sb.sql("SELECT pg_is_in_recovery()") != "t":
        return
    key = genkey(env, "standby-signing")
    ops_port = free_port()
    d = Daemon(env, "standby", read_database=sb.conninfo, audit_signing_key=key,
               audit_checkpoint_interval_s=0, ops_listen=f"127.0.0.1:{ops_port}")
    if not started(tap, d):
        return
    st = {}

    @tap.case("auditors' reads are answered by the standby: Medaid-Replica-Replay (RFC 3339 "
              "UTC, microseconds) on verify, the lists and coverage-as-of, no later than the "
              "standby's own last replay; not on a provider's coverage question")
    def _():
        s = new_ssin()
        create(d, "ocmw", decision_body(s))  # a transaction for the standby to replay
        r = wait_for("the header on an auditor's list",
                     lambda: (lambda x: x if x.header(HEADER) else None)(audit_decisions(d, s)))
        expect(r.status == 200 and TS_US_RE.match(r.header(HEADER)), repr(r))
        replayed = sb.sql("SELECT to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', "
                          "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        expect(parse_ts(r.header(HEADER)) <= parse_ts(replayed),
               f"header {r.header(HEADER)} after the standby's replay {replayed}")
        paths = ["/v1/audit/verify",
                 "/v1/audit/consultations?" + qs(ssin=s),
                 "/v1/audit/reads?" + qs(ssin=s),
                 "/v1/audit/coverage-as-of?" + qs(ssin=s, service_date=datetime.date.today()
                                                  .isoformat(), care_type="general_practice",
                                                  known_at=datetime.date.today().isoformat())]
        for p in paths:
            x = d.request("auditor", "GET", p)
            expect(x.status == 200 and x.header(HEADER), f"GET {p}: {x!r}")
        expect(d.request("auditor", "GET", "/v1/audit/verify").json.get("intact") is True,
               "verify on the standby: not intact")
        c = d.request("provider", "POST", "/v1/coverage",
                      {"ssin": s, "service_date": datetime.date.today().isoformat(),
                       "care_type": "general_practice"})
        expect(c.status == 200 and c.header(HEADER) is None, f"coverage: {c!r}")
        st["ssin"] = s

    @tap.case("the standby serves them: its pg_stat_database counters move with an auditor's "
              "reads, and with replay paused the auditor sees the older state and the older "
              "replay time, while a write, a coverage answer and the read record succeed on "
              "the primary")
    def _():
        def commits():
            return int(sb.sql("SELECT xact_commit FROM pg_stat_database "
                              "WHERE datname = 'medaid'"))
        before = commits()
        for _ in range(5):
            expect(audit_decisions(d, st["ssin"]).status == 200, "list")
        # the counters are flushed by the backends at the end of their transactions, at
        # most every second or so; five statements are more than the probe's one a second
        wait_for("the standby's commit count", lambda: commits() >= before + 5, timeout=15)
        sb.sql("SELECT pg_wal_replay_pause()")
        try:
            wait_for("replay paused",
                     lambda: sb.sql("SELECT pg_get_wal_replay_pause_state()") == "paused")
            # the probe has seen the paused replay time when two answers agree a second apart
            time.sleep(1.5)
            h1 = audit_decisions(d, st["ssin"]).header(HEADER)
            s = new_ssin()
            dec = create(d, "ocmw", decision_body(s))
            j = ask(d, s)
            expect(j.get("covered") is True, f"coverage on the primary: {j!r}")
            reads_before = int(primary_one(env, "SELECT count(*) FROM audit_log "
                                                "WHERE action = 'read.audit.decisions'"))
            r = audit_decisions(d, s)
            expect(r.status == 200 and r.json["items"] == [],
                   f"the auditor sees the decision made after the pause: {r!r}")
            expect(r.header(HEADER) == h1 and parse_ts(h1) < parse_ts(dec["recorded_at"]),
                   f"replay time {r.header(HEADER)!r} (before: {h1!r}), decision recorded at "
                   f"{dec['recorded_at']}")
            c = d.request("auditor", "GET", "/v1/audit/consultations?" + qs(ssin=s))
            expect(c.status == 200 and c.json["items"] == [], f"consultations: {c!r}")
            # an auditor's history and lookup come from the standby too; the OCMW that
            # wrote the decision reads it back from the primary
            h = d.request("auditor", "GET", f"/v1/decisions/{dec['id']}/history")
            expect(h.status == 404 and h.header(HEADER) == h1, f"auditor's history: {h!r}")
            b = d.request("auditor", "GET", f"/v1/beneficiaries/{s}/decisions")
            expect(b.status == 200 and b.json["decisions"] == [] and b.header(HEADER) == h1,
                   f"auditor's lookup: {b!r}")
            o = d.request("ocmw", "GET", f"/v1/decisions/{dec['id']}/history")
            expect(o.status == 200 and o.header(HEADER) is None, f"OCMW's history: {o!r}")
            o = d.request("ocmw", "GET", f"/v1/beneficiaries/{s}/decisions")
            expect(o.status == 200 and len(o.json["decisions"]) == 1 and o.header(HEADER) is None,
                   f"OCMW's lookup: {o!r}")
            month = datetime.date.today().strftime("%Y-%m")
            for who, want in (("auditor", h1), ("ocmw", None)):
                m = d.request(who, "GET", f"/v1/statements?month={month}")
                expect(m.status == 200 and m.header(HEADER) == want, f"{who}'s statement: {m!r}")
            expect(primary_one(env, f"SELECT count(*) FROM agreement WHERE number = "
                                    f"'{j['agreement']}'") == "1", "the agreement on the primary")
            reads_after = int(primary_one(env, "SELECT count(*) FROM audit_log "
                                               "WHERE action = 'read.audit.decisions'"))
            expect(reads_after == reads_before + 1,
                   f"read records on the primary: {reads_before} -> {reads_after}")
        finally:
            sb.sql("SELECT pg_wal_replay_resume()")
        r = wait_for("the decision on the standby after resume", lambda: (
            lambda x: x if x.status == 200 and len(x.json["items"]) == 1 else None)(
                audit_decisions(d, s)))
        h2 = wait_for("the replay time past the decision", lambda: (
            lambda x: x.header(HEADER) if x.header(HEADER) and parse_ts(x.header(HEADER)) >=
            parse_ts(dec["recorded_at"]) else None)(audit_decisions(d, s)))
        expect(parse_ts(h2) > parse_ts(h1), f"replay time {h2} not after {h1}")
        st["late"] = s

    @tap.case("with replay paused, a checkpoint made after it: POST /v1/audit/verify with "
              "it is intact (read on the primary: the standby would look cut off behind it), "
              "GET verify is intact up to the standby's replay; the checkpoint, the tree "
              "head and the write carry no replay header")
    def _():
        sb.sql("SELECT pg_wal_replay_pause()")
        try:
            wait_for("replay paused",
                     lambda: sb.sql("SELECT pg_get_wal_replay_pause_state()") == "paused")
            s = new_ssin()
            r = d.request("ocmw", "POST", "/v1/decisions", decision_body(s))
            expect(r.status == 201 and r.header(HEADER) is None, repr(r))
            ask(d, s)
            cp = d.request("auditor", "POST", "/v1/audit/checkpoint", {})
            expect(cp.status == 201 and cp.header(HEADER) is None, repr(cp))
            v = d.request("auditor", "POST", "/v1/audit/verify", cp.json)
            expect(v.status == 200 and v.json.get("intact") is True and
                   v.json.get("anchor") and v.header(HEADER) is None, repr(v))
            g = d.request("auditor", "GET", "/v1/audit/verify")
            expect(g.status == 200 and g.json.get("intact") is True and g.header(HEADER),
                   repr(g))
            behind = {h["chain"]: h["chain_seq"] for h in g.json["heads"]}
            expect(any(behind[h["chain"]] < h["chain_seq"] for h in cp.json["heads"]),
                   f"the standby's heads {g.json['heads']!r} are not behind the checkpoint")
            x = d.request("auditor", "GET", "/v1/audit/checkpoint")
            expect(x.status == 200 and x.header(HEADER) is None, repr(x))
            t = d.request("auditor", "GET", "/v1/audit/tree-head")
            expect(t.status < 500 and t.header(HEADER) is None, repr(t))
        finally:
            sb.sql("SELECT pg_wal_replay_resume()")

    @tap.case("the standby stopped: the auditors' reads go to the primary (the newest state, "
              "no replay header) within seconds, a 503 at most in between; verify intact; "
              "readiness unaffected")
    def _():
        sb.stop("immediate")
        s = new_ssin()
        create(d, "ocmw", decision_body(s))
        seen = []

        def on_primary():
            x = audit_decisions(d, s)
            seen.append(x.status)
            expect(x.status in (200, 503), f"while the standby went away: {x!r}")
            return x if x.status == 200 and x.header(HEADER) is None else None
        r = wait_for("an answer from the primary", on_primary, timeout=20)
        expect(len(r.json["items"]) == 1, f"the newest decision: {r!r}")
        for _ in range(5):
            x = audit_decisions(d, s)
            expect(x.status == 200 and x.header(HEADER) is None, repr(x))
        v = d.request("auditor", "GET", "/v1/audit/verify")
        expect(v.status == 200 and v.json.get("intact") is True and v.header(HEADER) is None,
               repr(v))
        h = d.request("admin", "GET", "/v1/health")
        expect(h.status == 200, f"health with the standby down: {h!r}")
        ready, _, body = ops_get(ops_port, "/readyz")
        expect(ready == 200, f"/readyz with the standby down: {ready} {body!r}")

    @tap.case("the standby back: the auditors' reads return to it (the replay header again)")
    def _():
        sb.start()
        s = st["late"]
        r = wait_for("the header again", lambda: (
            lambda x: x if x.status == 200 and x.header(HEADER) else None)(
                audit_decisions(d, s)), timeout=60)
        expect(len(r.json["items"]) == 1, repr(r))

    @tap.case("the log says when the auditors' reads went to the standby and back")
    def _():
        text = (env.tmp / "standby.log").read_text(errors="replace")
        expect("auditors' reads on the standby" in text, "no log line for the standby")
        expect("auditors' reads back on the primary" in text, "no log line for the fallback")

    clean_exit(tap, d)
