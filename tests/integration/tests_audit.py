"""Integration tests of the audit trail (issue 5): one record per write (and none for a
refused write or a read), the daemon's role cannot alter the trail, the hash chains
after thousands of concurrent writes (checked by the daemon and, independently, here),
tampering found at the right record (as the superuser), "what did the registry answer
at time T" against the agreements actually issued, the auditors' lists (filters,
paging, streams, the medaid client's formats), who may read them, and privacy.

The tampering cases run as the cluster's superuser with the append-only trigger
disabled, on a copy of the trail that is put back after each case (and checked
intact again), so the groups that run later find the trail as it was."""

import datetime
import hashlib
import http.client
import json
import re
import ssl
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from harness import Daemon, PRINCIPALS, ROOT, clean_exit, day, expect, lib, new_ssin, started
from tests_api import decision_body, problem, still_serving
from tests_lifecycle import act, create, current, editable, ok_version, put

OCMW_ORG = PRINCIPALS["ocmw"][1]
OCMW2_ORG = PRINCIPALS["ocmw2"][1]
PROVIDER_ORG = PRINCIPALS["provider"][1]
PROVIDER2_ORG = PRINCIPALS["provider2"][1]
ADMIN_ORG = PRINCIPALS["admin"][1]
SAMPLE = ROOT / "scripts" / "sample-tariffs.csv"
SEP = "\x1f"
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
TS_US_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
CONSULTATION_KEYS = ["agreement", "issued_at", "known_at", "provider", "ssin", "service_date",
                     "care_type", "covered", "reason", "decision", "decision_version", "ocmw",
                     "voided_at", "kind"]
DECISION_KEYS = ["decision", "version", "change", "status", "ocmw", "ssin", "kind", "period",
                 "recorded_at", "recorded_by"]
CSV_CONSULTATIONS = ("agreement,issued_at,known_at,provider,ssin,service_date,care_type,covered,"
                     "reason,decision,decision_version,ocmw,voided_at")
CSV_DECISIONS = ("decision,version,change,status,ocmw,ssin,kind,period_start,period_end,"
                 "recorded_at,recorded_by_principal,recorded_by_role,recorded_by_organisation")
ENDPOINTS = ("/v1/audit/verify", "/v1/audit/consultations", "/v1/audit/decisions",
             "/v1/audit/coverage-as-of")


# ---- the trail, read straight from the database (as the owner) ---------------------------
def q(env, sql):
    """Rows of a query as the owner, fields split on an unlikely separator."""
    out = env.psql_as("medaid", sql, sep=SEP).stdout
    return [line.split(SEP) for line in out.splitlines() if line]


def one(env, sql):
    return q(env, sql)[0][0]


CHAINS = 16
ZERO_HASH = "0" * 64


def count_max(env):
    c, m = q(env, "SELECT count(*), coalesce(max(seq), 0) FROM audit_log")[0]
    return int(c), int(m)


def heads(env):
    """audit_head: {chain: (last_chain_seq, last_seq, last_hash)}."""
    return {int(r[0]): (int(r[1]), int(r[2]), r[3]) for r in q(
        env, "SELECT chain, last_chain_seq, last_seq, last_hash FROM audit_head ORDER BY chain")}


def chained(env):
    """The records the heads account for: the sum of every chain's last_chain_seq."""
    return sum(h[0] for h in heads(env).values())


def anchor(hd):
    """verify's last_hash: SHA-256 over the heads' hashes concatenated in chain order."""
    return hashlib.sha256("".join(hd[c][2] for c in sorted(hd)).encode()).hexdigest()


def principal_id(env, name):
    return int(one(env, f"SELECT id FROM principal WHERE name = 'integration {name}'"))


class Trail:
    """Records written between two moments: `with Trail(env) as t: ...; t.records`.

    The new records are those past each chain's head as it was at the start; they
    must be all that count(*) grew by, follow their chain's head without a gap (and
    move it), and carry seq numbers above every earlier one (seq may have gaps)."""

    def __init__(self, env):
        self.env = env

    def __enter__(self):
        self.count, self.seq = count_max(self.env)
        self.heads = heads(self.env)
        return self

    def __exit__(self, *exc):
        return False

    @property
    def records(self):
        past = " OR ".join(f"(chain = {c} AND chain_seq > {h[0]})"
                           for c, h in sorted(self.heads.items()))
        rows = q(self.env, "SELECT seq, chain, chain_seq, coalesce(principal_id::text, ''), "
                           "organisation, action, object, detail FROM audit_log "
                           f"WHERE {past} ORDER BY seq")
        recs = [{"seq": int(r[0]), "chain": int(r[1]), "chain_seq": int(r[2]),
                 "principal": int(r[3]) if r[3] else None, "organisation": r[4],
                 "action": r[5], "object": r[6], "detail": json.loads(r[7])} for r in rows]
        c, m = count_max(self.env)
        expect(c - self.count == len(recs),
               f"count(*) {self.count} -> {c}, but {len(recs)} records past the heads "
               f"{self.heads!r}")
        expect(all(r["seq"] > self.seq for r in recs) and
               m == max([self.seq] + [r["seq"] for r in recs]),
               f"max(seq) {self.seq} -> {m}, new records' seq "
               f"{[r['seq'] for r in recs][:10]}")
        now = heads(self.env)
        for ch, (n0, s0, h0) in self.heads.items():
            mine = [r for r in recs if r["chain"] == ch]
            got = sorted(r["chain_seq"] for r in mine)
            expect(got == list(range(n0 + 1, n0 + 1 + len(mine))),
                   f"chain {ch}: head was at {n0}, new chain_seq {got[:10]}")
            want = (n0 + len(mine), max([s0] + [r["seq"] for r in mine]))
            expect(now[ch][:2] == want and (mine or now[ch][2] == h0),
                   f"chain {ch}: head {now[ch]!r}, expected {want} after {len(mine)} "
                   "record(s)")
        return recs

    def none(self, what):
        recs = self.records
        expect(not recs, f"{what} left {len(recs)} audit record(s): {recs[:3]!r}")

    def exactly_one(self, action, obj, org, principal="-"):
        recs = self.records
        expect(len(recs) == 1, f"expected exactly one record {action} {obj}, got {len(recs)}: "
               f"{recs[:4]!r}")
        r = recs[0]
        expect(r["action"] == action and r["object"] == obj and r["organisation"] == org,
               f"expected ({action}, {obj}, {org}), got {r!r}")
        if principal != "-":
            expect(r["principal"] == principal, f"principal_id: expected {principal}: {r!r}")
        return r


# ---- HTTP helpers --------------------------------------------------------------------------
def qs(**params):
    return urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})


def get_json(d, path, who="auditor", max_time=60):
    r = d.request(who, "GET", path, max_time=max_time)
    expect(r.status == 200, f"GET {path}: {r!r}")
    expect(isinstance(r.json, dict), f"GET {path}: not a JSON object: {r!r}")
    return r.json


def verify(d):
    return get_json(d, "/v1/audit/verify")


def stream(d, kind, max_time=120, **filters):
    """Every item of an audit list, streamed (NDJSON): (raw lines, items, response)."""
    path = f"/v1/audit/{kind}" + (f"?{qs(**filters)}" if filters else "")
    r = d.request("auditor", "GET", path, headers=["Accept: application/x-ndjson"],
                  max_time=max_time)
    expect(r.status == 200, f"stream {path}: {r!r}")
    ct = r.header("content-type") or ""
    expect(ct.startswith("application/x-ndjson"), f"stream {path}: Content-Type {ct!r}")
    expect((r.header("transfer-encoding") or "").lower() == "chunked",
           f"stream {path}: not chunked: {r.headers!r}")
    text = r.body.decode()
    expect(text == "" or text.endswith("\n"), f"stream {path} does not end with a newline: "
           f"{text[-200:]!r}")
    lines = text.splitlines()
    items = []
    for n, line in enumerate(lines):
        try:
            items.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"stream {path}: line {n} is not JSON: {line[:300]!r}")
        expect(isinstance(items[-1], dict) and "error" not in items[-1],
               f"stream {path}: line {n}: {line[:300]!r}")
    return lines, items, r


def pages(d, kind, limit, **filters):
    """Every item of an audit list, page after page (limit, cursor)."""
    items, cursors, cursor = [], [], None
    for _ in range(100000):
        path = f"/v1/audit/{kind}?{qs(limit=limit, cursor=cursor, **filters)}"
        j = get_json(d, path)
        expect(set(j) == {"items", "next_cursor"}, f"page {path}: members {sorted(j)}")
        expect(isinstance(j["items"], list) and len(j["items"]) <= limit,
               f"page {path}: {len(j['items'])} items for limit {limit}")
        items += j["items"]
        cursor = j["next_cursor"]
        if cursor is None:
            return items, cursors
        expect(isinstance(cursor, str) and cursor not in cursors,
               f"page {path}: next_cursor {cursor!r} repeated or not a string")
        expect(len(j["items"]) == limit, f"a short page ({len(j['items'])}) with a next_cursor")
        cursors.append(cursor)
    raise AssertionError("endless paging")


def numbers(items):
    return [i.get("agreement") for i in items]


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def next_second():
    """Sleep past the next whole second (timestamps shown to the second are then ordered)."""
    t = time.time()
    time.sleep(1.05 - (t - int(t)))


def issued_at_us(env, number):
    return one(env, "SELECT to_char(issued_at AT TIME ZONE 'UTC', "
                    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM agreement "
                    f"WHERE number = '{number}'")


def known_at_us(env, number):
    """agreement.known_at (UTC, microseconds) from the database; '' when NULL."""
    return one(env, "SELECT coalesce(to_char(known_at AT TIME ZONE 'UTC', "
                    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '') FROM agreement "
                    f"WHERE number = '{number}'")


def listed_times(d, ssin):
    """{agreement: (issued_at, known_at)} as /v1/audit/consultations lists them."""
    _, items, _ = stream(d, "consultations", ssin=ssin)
    return {i["agreement"]: (i["issued_at"], i["known_at"]) for i in items}


def ask(d, ssin, date=None, care_type="general_practice", who="provider"):
    r = d.request(who, "POST", "/v1/coverage",
                  {"ssin": ssin, "service_date": date or day(0), "care_type": care_type})
    expect(r.status == 200 and isinstance(r.json, dict) and r.json.get("agreement"),
           f"coverage: {r!r}")
    return r.json


def reason_code(j):
    r = j.get("reason")
    return r.get("code") if isinstance(r, dict) else r


class Client:
    """A kept-alive HTTPS connection (Python ssl) for the heavy workloads."""

    def __init__(self, env, d, who):
        crt, key = env.cert(who)
        self.ctx = ssl.create_default_context(cafile=str(env.certs / "ca.crt"))
        self.ctx.load_cert_chain(str(crt), str(key))
        self.port = d.port
        self.c = None
        self.retries = 0

    def req(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPSConnection("localhost", self.port, context=self.ctx,
                                                     timeout=120)
            try:
                data = json.dumps(body).encode() if body is not None else None
                h = {"Content-Type": "application/json"} if data is not None else {}
                h.update(headers or {})
                self.c.request(method, path, body=data, headers=h)
                r = self.c.getresponse()
                b = r.read()
                if (r.getheader("Connection") or "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, (json.loads(b) if b else None)
            except (http.client.RemoteDisconnected, ConnectionError):
                self.c.close()
                self.c = None
                if attempt:
                    raise
                self.retries += 1
        raise AssertionError("unreachable")

    def close(self):
        if self.c is not None:
            self.c.close()


def daemon_rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def sanitized(pid):
    try:
        return "libasan" in open(f"/proc/{pid}/maps").read()
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
def run(env, tap):
    d = Daemon(env, "audit", workers=4, db_pool_size=8, max_body_bytes=4 * 1048576)

    if not started(tap, d):
        return

    st = {"ssins_in_queries": [], "marker": f"AUDITBODYMARKER{int(time.time() * 1000)}"}
    grant_tests(env, tap, d)
    one_record_tests(env, tap, d, st)
    asof_tests(env, tap, d, st)
    concurrency_tests(env, tap, d, st)
    list_tests(env, tap, d, st)
    client_tests(env, tap, d, st)
    role_tests(env, tap, d)
    tamper_tests(env, tap, d)
    privacy_tests(env, tap, d, st)

    clean_exit(tap, d)


# ---- the daemon's role cannot alter the trail -------------------------------------------
def grant_tests(env, tap, d):
    @tap.case("as medaid_app (the daemon's role): UPDATE / DELETE / TRUNCATE / INSERT "
              "audit_log and audit_head, audit_append(), the sequence audit_seq all refused "
              "(permission denied); trail, heads and sequence unchanged")
    def _():
        # at least one record to aim at
        create(d, "ocmw", decision_body(new_ssin()))
        first = one(env, "SELECT min(seq) FROM audit_log")
        before = q(env, "SELECT seq, chain, chain_seq, hash FROM audit_log ORDER BY seq")
        head = q(env, "SELECT chain, last_chain_seq, last_seq, last_hash FROM audit_head "
                      "ORDER BY chain")
        expect(len(head) == CHAINS, f"{len(head)} chain heads, expected {CHAINS}")
        seq_state = q(env, "SELECT last_value, is_called FROM audit_seq")
        allowed = []
        for sql in (f"UPDATE audit_log SET organisation = 'x' WHERE seq = {first}",
                    f"UPDATE audit_log SET chain_seq = chain_seq + 1 WHERE seq = {first}",
                    "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)",
                    "TRUNCATE audit_log",
                    "UPDATE audit_head SET last_seq = last_seq + 1",
                    "UPDATE audit_head SET last_hash = repeat('0', 64) WHERE chain = 0",
                    "DELETE FROM audit_head",
                    "TRUNCATE audit_head",
                    "INSERT INTO audit_head VALUES (16, 0, 0, repeat('0', 64))",
                    "INSERT INTO audit_log SELECT seq + 1000000, chain, chain_seq + 1000000, "
                    "recorded_at, principal_id, organisation, action, object, detail, "
                    f"prev_hash, hash FROM audit_log WHERE seq = {first}",
                    "SELECT audit_append(NULL, 'host', 'x.y', 'z', '{}')",
                    "SELECT nextval('audit_seq')",
                    "SELECT setval('audit_seq', 1)"):
            p = env.psql_as("medaid_app", sql, check=False)
            if not (p.returncode != 0 and "permission denied" in p.stderr):
                allowed.append(f"as medaid_app, {sql!r}: exit {p.returncode}, "
                               f"{(p.stderr.strip() or p.stdout.strip())!r}")
        expect(not allowed, "\n".join(allowed))
        expect(q(env, "SELECT seq, chain, chain_seq, hash FROM audit_log ORDER BY seq")
               == before, "the trail changed")
        expect(q(env, "SELECT chain, last_chain_seq, last_seq, last_hash FROM audit_head "
                      "ORDER BY chain") == head, "the heads changed")
        expect(q(env, "SELECT last_value, is_called FROM audit_seq") == seq_state,
               f"the sequence audit_seq moved: {seq_state!r} -> "
               f"{q(env, 'SELECT last_value, is_called FROM audit_seq')!r}")
        # and the owner, too, is stopped by the append-only trigger
        p = env.psql_as("medaid", f"UPDATE audit_log SET organisation = 'x' WHERE seq = {first}",
                        check=False)
        expect(p.returncode != 0, f"the owner could UPDATE audit_log: {p.stdout!r}")


# ---- test 1: one record per write ---------------------------------------------------------
def one_record_tests(env, tap, d, st):
    ids = {w: principal_id(env, w) for w in ("ocmw", "provider", "admin")}

    @tap.case("decision create / PUT / suspend / resume / stop: one record each "
              "(decision.<change>, D…/version, the OCMW, its principal, detail status)")
    def _():
        s = new_ssin()
        body = decision_body(s, covers=("general_practice", "pharmacy"))
        with Trail(env) as t:
            v1 = create(d, "ocmw", body)
            did = v1["id"]
            r = t.exactly_one("decision.create", f"{did}/1", OCMW_ORG, ids["ocmw"])
            expect(r["detail"].get("status") == "active" and
                   r["detail"].get("start") == day(-10) and r["detail"].get("end") == day(170)
                   and HASH_RE.match(r["detail"].get("body_sha256") or ""),
                   f"detail: {r['detail']!r}")
        b = editable(v1)
        b["reference"] = "IT/audit/updated"
        steps = [("update", lambda: put(d, "ocmw", did, b, if_match=1), 2, "active"),
                 ("suspend", lambda: act(d, "ocmw", did, "suspend", {}), 3, "suspended"),
                 ("resume", lambda: act(d, "ocmw", did, "resume", {}), 4, "active"),
                 ("stop", lambda: act(d, "ocmw", did, "stop", {"end": day(20)}), 5, "stopped")]
        for change, fn, version, status in steps:
            with Trail(env) as t:
                ok_version(fn(), 200, did, version, status)
                r = t.exactly_one(f"decision.{change}", f"{did}/{version}", OCMW_ORG,
                                  ids["ocmw"])
                expect(r["detail"].get("status") == status, f"{change}: detail {r['detail']!r}")
        st["stopped"] = did

    @tap.case("coverage answers covered and not covered: one agreement.issue each (number, "
              "provider's organisation, detail covered/reason/decision/version)")
    def _():
        s = new_ssin()
        v1 = create(d, "ocmw", decision_body(s))
        with Trail(env) as t:
            j = ask(d, s)
            expect(j.get("covered") is True, f"expected covered: {j!r}")
            r = t.exactly_one("agreement.issue", j["agreement"], PROVIDER_ORG, ids["provider"])
            det = r["detail"]
            expect(det.get("covered") is True and det.get("reason") is None
                   and det.get("decision") == v1["id"] and det.get("decision_version") == 1
                   and det.get("service_date") == day(0)
                   and det.get("care_type") == "general_practice", f"detail {det!r}")
        with Trail(env) as t:
            j = ask(d, s, care_type="miscellaneous")
            expect(j.get("covered") is False and reason_code(j) == "care_type_absent", repr(j))
            r = t.exactly_one("agreement.issue", j["agreement"], PROVIDER_ORG, ids["provider"])
            expect(r["detail"].get("covered") is False
                   and r["detail"].get("reason") == "care_type_absent", f"detail {r['detail']!r}")
        with Trail(env) as t:
            j = ask(d, new_ssin(), care_type="pharmacy", who="provider2")
            expect(reason_code(j) == "no_decision", repr(j))
            r = t.exactly_one("agreement.issue", j["agreement"], PROVIDER2_ORG)
            expect(r["detail"].get("decision") is None, f"detail {r['detail']!r}")
        st["one_person"] = s

    @tap.case("batch of 12 questions (10 answered, 2 invalid): exactly the 10 agreements, one "
              "record each, nothing for the 2")
    def _():
        s = st["one_person"]
        qs_ = [{"ssin": s, "service_date": day(-k), "care_type": "general_practice"}
               for k in range(10)]
        qs_.insert(3, {"ssin": s, "service_date": "2026-02-30", "care_type": "general_practice"})
        qs_.insert(7, {"ssin": s, "care_type": "general_practice"})
        with Trail(env) as t:
            r = d.request("provider", "POST", "/v1/coverage/batch", {"questions": qs_})
            expect(r.status == 200, repr(r))
            ans = (r.json or {}).get("answers") or []
            expect(len(ans) == 12, f"answers: {r!r}")
            nums = [a["agreement"] for a in ans if "agreement" in a]
            expect(len(nums) == 10 and "error" in ans[3] and "error" in ans[7],
                   f"agreements {nums}, answers 3/7 {ans[3]!r} {ans[7]!r}")
            recs = t.records
            expect(len(recs) == 10, f"{len(recs)} records for 10 agreements: {recs[:3]!r}")
            expect(sorted(x["object"] for x in recs) == sorted(nums)
                   and all(x["action"] == "agreement.issue" for x in recs)
                   and all(x["organisation"] == PROVIDER_ORG for x in recs),
                   f"records {[(x['action'], x['object']) for x in recs]} agreements {nums}")
        st["batch_numbers"] = nums

    @tap.case("void: one agreement.void record (number, provider); voiding again (409): none")
    def _():
        n = st["batch_numbers"][0]
        with Trail(env) as t:
            r = d.request("provider", "POST", f"/v1/agreements/{n}/void", {})
            expect(r.status == 200, repr(r))
            t.exactly_one("agreement.void", n, PROVIDER_ORG, ids["provider"])
        with Trail(env) as t:
            problem(d.request("provider", "POST", f"/v1/agreements/{n}/void", {}), 409,
                    "invalid_status")
            t.none("a second void")

    @tap.case("tariff import: one tariffs.import record (tariffs/<id>, admin, lines, sha256)")
    def _():
        text = SAMPLE.read_text()
        with Trail(env) as t:
            r = d.request("admin", "PUT", "/v1/tariffs", text, content_type="text/csv")
            expect(r.status == 200, repr(r))
            recs = t.records
            expect(len(recs) == 1, f"{len(recs)} records: {recs!r}")
            x = recs[0]
            expect(x["action"] == "tariffs.import" and re.match(r"^tariffs/\d+$", x["object"])
                   and x["organisation"] == ADMIN_ORG and x["principal"] == ids["admin"]
                   and x["detail"].get("lines") == r.json.get("imported")
                   and x["detail"].get("sha256") == hashlib.sha256(text.encode()).hexdigest(),
                   f"record {x!r}, answer {r.json!r}")

    @tap.case("medaidd principal add / revoke: one record each (host, no principal); adding "
              "the same again or revoking twice: none")
    def _():
        lib(f'_ca_leaf "{env.certs}" auditnew "/O=medaid tests/CN=auditnew" '
            '"${_client_ext[@]}"')
        crt = env.certs / "auditnew.crt"
        with Trail(env) as t:
            p = env.medaidd_cmd("principal", "add", "--cert", str(crt), "--role", "provider",
                                "--org", PROVIDER2_ORG, "--kind", "hospital",
                                "--name", "integration auditnew")
            expect(p.returncode == 0, f"principal add: {p.returncode} {p.stderr}")
            pid = one(env, "SELECT id FROM principal WHERE name = 'integration auditnew'")
            r = t.exactly_one("principal.add", f"principal/{pid}", "host", None)
            expect(r["detail"].get("role") == "provider"
                   and r["detail"].get("organisation") == PROVIDER2_ORG, repr(r))
        with Trail(env) as t:
            p = env.medaidd_cmd("principal", "add", "--cert", str(crt), "--role", "provider",
                                "--org", PROVIDER2_ORG, "--kind", "hospital",
                                "--name", "integration auditnew")
            expect(p.returncode == 0, f"principal add again: {p.returncode} {p.stderr}")
            t.none("adding an already registered principal")
        with Trail(env) as t:
            p = env.medaidd_cmd("principal", "revoke", "--cert", str(crt))
            expect(p.returncode == 0, f"principal revoke: {p.returncode} {p.stderr}")
            t.exactly_one("principal.revoke", f"principal/{pid}", "host", None)
        with Trail(env) as t:
            p = env.medaidd_cmd("principal", "revoke", "--cert", str(crt))
            expect(p.returncode != 0, f"revoke twice: exit {p.returncode}")
            t.none("revoking a revoked principal")

    @tap.case("refused writes leave no record: 422, 409 overlap, 409 invalid_status, 412, "
              "404 (another OCMW), 403, 400")
    def _():
        s = new_ssin()
        v1 = create(d, "ocmw", decision_body(s))
        did = v1["id"]
        bad = decision_body(s)
        bad["period"]["end"] = day(-20)  # before its start
        with Trail(env) as t:
            r = d.request("ocmw", "POST", "/v1/decisions", bad)
            expect(r.status == 422, f"expected 422: {r!r}")
            r = d.request("ocmw2", "POST", "/v1/decisions", decision_body(s))
            expect(r.status == 409, f"expected 409 overlap: {r!r}")
            problem(act(d, "ocmw", did, "resume", {}), 409, "invalid_status")
            b = editable(v1)
            b["reference"] = "IT/audit/stale"
            problem(put(d, "ocmw", did, b, if_match=7), 412, "version_mismatch")
            problem(act(d, "ocmw", did, "suspend", {}, if_match=3), 412, "version_mismatch")
            problem(act(d, "ocmw2", did, "suspend", {}), 404, "not_found")
            problem(d.request("provider", "POST", "/v1/decisions", decision_body(new_ssin())),
                    403, "forbidden")
            problem(d.request("ocmw", "PUT", "/v1/tariffs", "code,start\n1,2\n",
                              content_type="text/csv"), 403, "forbidden")
            r = d.request("provider", "POST", "/v1/coverage", "{not json")
            expect(r.status == 400, f"malformed coverage question: {r!r}")
            r = d.request("provider", "POST", "/v1/coverage",
                          {"ssin": s, "service_date": "2026-13-01", "care_type": "pharmacy"})
            expect(r.status in (400, 422), f"invalid coverage question: {r!r}")
            r = d.request("admin", "PUT", "/v1/tariffs", "code,start,end\nnonsense\n",
                          content_type="text/csv")
            expect(400 <= r.status < 500, f"invalid tariffs: {r!r}")
            t.none("refused writes")
        expect(current(d, did)["version"] == 1, "a version was recorded")

    @tap.case("every read of a person's data leaves exactly one read record (who, what, "
              "the SSIN): decision, history, beneficiary, agreement, the audit lists and "
              "as-of; tariffs, health and verify (no person's data) leave none")
    def _():
        # Issue "Hold under attack and faults" item 8 reversed what this case asserted
        # ("reads leave no record"): the domain asks for every read of a person's data.
        did = st["stopped"]
        s = st["one_person"]
        n = st["batch_numbers"][1]
        ds = one(env, f"SELECT ssin FROM decision WHERE id = '{did}'")
        orgs = {w: PRINCIPALS[w][1] for w in ("ocmw", "provider", "auditor")}
        pids = {w: principal_id(env, w) for w in orgs}
        asof = "/v1/audit/coverage-as-of?" + qs(ssin=s, service_date=day(0),
                                                care_type="general_practice",
                                                known_at=utc_now())
        for who, path, action, obj, ssin in [
                ("ocmw", f"/v1/decisions/{did}", "read.decision", f"{did}/5", ds),
                ("ocmw", f"/v1/decisions/{did}?version=2", "read.decision", f"{did}/2", ds),
                ("auditor", f"/v1/decisions/{did}/history", "read.history", did, ds),
                ("ocmw", f"/v1/beneficiaries/{s}/decisions", "read.beneficiary", "beneficiary",
                 s),
                ("provider", f"/v1/agreements/{n}", "read.agreement", n, s),
                ("auditor", f"/v1/agreements/{n}", "read.agreement", n, s),
                ("auditor", f"/v1/audit/consultations?ssin={s}", "read.audit.consultations",
                 "/v1/audit/consultations", s),
                ("auditor", "/v1/audit/consultations", "read.audit.consultations",
                 "/v1/audit/consultations", None),
                ("auditor", f"/v1/audit/decisions?ssin={s}", "read.audit.decisions",
                 "/v1/audit/decisions", s),
                ("auditor", asof, "read.audit.coverage_as_of", "/v1/audit/coverage-as-of", s)]:
            with Trail(env) as t:
                r = d.request(who, "GET", path)
                expect(r.status == 200, f"{who} GET {path}: {r!r}")
                rec = t.exactly_one(action, obj, orgs[who], pids[who])
                expect(rec["detail"] == {"ssin": ssin}, f"GET {path}: detail {rec['detail']!r}")
        with Trail(env) as t:
            stream(d, "consultations", ssin=s)
            rec = t.exactly_one("read.audit.consultations", "/v1/audit/consultations",
                                orgs["auditor"], pids["auditor"])
            expect(rec["detail"] == {"ssin": s}, f"stream: detail {rec['detail']!r}")
        with Trail(env) as t:
            for who, path in [("provider", "/v1/tariffs/101076"), ("admin", "/v1/health"),
                              ("auditor", "/v1/audit/verify")]:
                r = d.request(who, "GET", path)
                expect(r.status == 200, f"{who} GET {path}: {r!r}")
            # a read that finds nothing (another OCMW, no such agreement) reads no one
            problem(d.request("ocmw2", "GET", f"/v1/decisions/{did}"), 404, "not_found")
            problem(d.request("provider2", "GET", f"/v1/agreements/{n}"), 404, "not_found")
            t.none("reads of no person's data")
        st["ssins_in_queries"].append(s)


# ---- test 4: as-of against the agreements issued at the time -------------------------------
def asof_tests(env, tap, d, st):
    ag = []  # (agreement answer, client time just after it, who)

    def as_of(ssin, known_at, provider=None, date=None, care_type="general_practice"):
        path = "/v1/audit/coverage-as-of?" + qs(ssin=ssin, service_date=date or day(0),
                                                 care_type=care_type, known_at=known_at,
                                                 provider=provider)
        return get_json(d, path)

    def asked(s, care_type="general_practice", who="provider"):
        j = ask(d, s, care_type=care_type, who=who)
        ag.append((j, utc_now(), who, care_type))
        return j

    @tap.case("a decision through create, PUT (cover removed), suspend, resume, PUT "
              "(designated provider), PUT (end today), stop; a coverage question after each")
    def _():
        s = new_ssin()
        st["asof_ssin"] = s
        st["asof_before"] = utc_now()
        next_second()
        v1 = create(d, "ocmw", decision_body(s, covers=("general_practice", "pharmacy",
                                                       "miscellaneous")))
        did = v1["id"]
        next_second()
        expect(asked(s)["covered"] is True, repr(ag[-1]))
        expect(asked(s, "pharmacy", who="provider2")["covered"] is True, repr(ag[-1]))
        b = editable(v1)
        b["covers"] = [c for c in b["covers"] if c["care_type"] != "pharmacy"]
        ok_version(put(d, "ocmw", did, b, if_match=1), 200, did, 2, "active")
        next_second()
        expect(reason_code(asked(s, "pharmacy", who="provider2")) == "care_type_absent",
               repr(ag[-1]))
        expect(asked(s)["covered"] is True, repr(ag[-1]))
        ok_version(act(d, "ocmw", did, "suspend", {}), 200, did, 3, "suspended")
        next_second()
        expect(reason_code(asked(s)) == "suspended", repr(ag[-1]))
        ok_version(act(d, "ocmw", did, "resume", {}), 200, did, 4, "active")
        next_second()
        expect(asked(s)["covered"] is True, repr(ag[-1]))
        # designation: on miscellaneous, which the GP and the hospital may both ask
        b = editable(current(d, did))
        misc = [c for c in b["covers"] if c["care_type"] == "miscellaneous"][0]
        misc["designated_providers"] = [PROVIDER2_ORG]
        ok_version(put(d, "ocmw", did, b, if_match=4), 200, did, 5, "active")
        next_second()
        expect(reason_code(asked(s, "miscellaneous")) == "provider_not_designated",
               repr(ag[-1]))
        expect(asked(s, "miscellaneous", who="provider2")["covered"] is True, repr(ag[-1]))
        b = editable(current(d, did))
        b["period"]["end"] = day(0)
        for c in b["covers"]:
            c["designated_providers"] = []
            c["period"]["end"] = day(0)
        ok_version(put(d, "ocmw", did, b, if_match=5), 200, did, 6, "active")
        next_second()
        expect(asked(s)["covered"] is True, repr(ag[-1]))
        ok_version(act(d, "ocmw", did, "stop", {"end": day(0)}), 200, did, 7, "stopped")
        next_second()
        asked(s)
        st["asof_did"] = did
        st["asof_ag"] = ag

    def compare(known, j, a, who, what):
        dec_a = (j.get("decision") or {})
        dec_b = (a.get("decision") or {})
        expect(a.get("covered") == j.get("covered") and reason_code(a) == reason_code(j)
               and dec_a.get("id") == dec_b.get("id")
               and dec_a.get("version") == dec_b.get("version"),
               f"{what} known_at={known}: agreement {j['agreement']} said covered="
               f"{j.get('covered')} reason={reason_code(j)} decision={dec_a.get('id')}/"
               f"{dec_a.get('version')}, as-of says covered={a.get('covered')} reason="
               f"{reason_code(a)} decision={dec_b.get('id')}/{dec_b.get('version')}: {a!r}")

    @tap.case("as-of, known_at = each agreement's known_at (from /v1/audit/consultations) and "
              "provider = its provider: covered, reason and decision version as the agreement")
    def _():
        expect(st.get("asof_ag"), "no agreements")
        j = get_json(d, "/v1/audit/consultations?" + qs(ssin=st["asof_ssin"]))
        listed = {i["agreement"]: i for i in j["items"]}
        expect(len(listed) == len(st["asof_ag"]), f"{len(listed)} consultations listed for "
               f"{len(st['asof_ag'])} agreements")
        for ans, _, who, ct in st["asof_ag"]:
            item = listed[ans["agreement"]]
            known = item["known_at"]
            expect(isinstance(known, str) and TS_US_RE.match(known)
                   and TS_US_RE.match(item["issued_at"]) and known <= item["issued_at"],
                   f"{ans['agreement']}: known_at {known!r}, issued_at {item['issued_at']!r} "
                   "(both with microseconds, known_at not after issued_at)")
            a = as_of(st["asof_ssin"], known, PRINCIPALS[who][1], care_type=ct)
            compare(known, ans, a, who, "known_at")
            expect(a.get("known_at") == known, f"known_at echoed {a.get('known_at')!r}, "
                   f"asked {known!r}")

    @tap.case("as-of, known_at = the moment just after each answer (microseconds): the same")
    def _():
        expect(st.get("asof_ag"), "no agreements")
        for ans, t, who, ct in st["asof_ag"]:
            compare(t, ans, as_of(st["asof_ssin"], t, PRINCIPALS[who][1], care_type=ct), ans,
                    "just after")

    @tap.case("as-of, known_at = the exact known_at and issued_at (µs, from the database; "
              "nothing was written in between here): the same (the versions recorded "
              "before, and only those)")
    def _():
        expect(st.get("asof_ag"), "no agreements")
        listed = listed_times(d, st["asof_ssin"])
        for ans, _, who, ct in st["asof_ag"]:
            known = known_at_us(env, ans["agreement"])
            issued = issued_at_us(env, ans["agreement"])
            expect(listed.get(ans["agreement"]) == (issued, known),
                   f"{ans['agreement']}: listed {listed.get(ans['agreement'])!r}, database "
                   f"({issued!r}, {known!r})")
            compare(known, ans, as_of(st["asof_ssin"], known, PRINCIPALS[who][1], care_type=ct),
                    who, "exact known_at")
            compare(issued, ans, as_of(st["asof_ssin"], issued, PRINCIPALS[who][1],
                                       care_type=ct), who, "exact issued_at")

    @tap.case("as-of before the decision existed: no_decision (service_date_in_future when "
              "the service is after known_at's day); without provider, a designated "
              "provider is not judged (covered); with provider: provider_not_designated")
    def _():
        s = st["asof_ssin"]
        a = as_of(s, st["asof_before"])
        expect(a.get("covered") is False and reason_code(a) == "no_decision", repr(a))
        a = as_of(s, "2000-01-01T00:00:00Z", date="2000-01-01")
        expect(reason_code(a) == "no_decision", repr(a))
        # "today" is the calendar day of known_at: today's service is then in the future
        a = as_of(s, "2000-01-01T00:00:00Z")
        expect(reason_code(a) == "service_date_in_future", repr(a))
        # the designated-provider version (5) is the one known just after its answer
        j, t, who, ct = [x for x in st["asof_ag"]
                         if reason_code(x[0]) == "provider_not_designated"][0]
        a = as_of(s, t, care_type=ct)
        expect(a.get("covered") is True and (a.get("decision") or {}).get("version") == 5,
               f"without provider: {a!r}")
        a = as_of(s, t, PROVIDER_ORG, care_type=ct)
        expect(reason_code(a) == "provider_not_designated", f"with {PROVIDER_ORG}: {a!r}")
        a = as_of(s, t, PROVIDER2_ORG, care_type=ct)
        expect(a.get("covered") is True, f"with {PROVIDER2_ORG}: {a!r}")

    @tap.case("as-of under a race: suspend/resume toggled while questions are asked (>= 1.5 s); "
              "for every agreement, as-of at its known_at (from /v1/audit/consultations) "
              "gives its answer and version")
    def _():
        s = new_ssin()
        did = create(d, "ocmw", decision_body(s))["id"]
        stop = threading.Event()
        out = {"versions": 1, "answers": [], "errors": []}

        def toggle():
            o = Client(env, d, "ocmw")
            try:
                verb = "suspend"
                while not stop.is_set():
                    status, j = o.req("POST", f"/v1/decisions/{did}/{verb}", {})
                    if status != 200:
                        out["errors"].append((verb, status, j))
                        return
                    out["versions"] += 1
                    verb = "resume" if verb == "suspend" else "suspend"
            finally:
                o.close()

        def asker():
            p = Client(env, d, "provider")
            try:
                while not stop.is_set():
                    status, j = p.req("POST", "/v1/coverage", {
                        "ssin": s, "service_date": day(0), "care_type": "general_practice"})
                    if status != 200:
                        out["errors"].append(("coverage", status, j))
                        return
                    out["answers"].append(j)
            finally:
                p.close()

        ts = [threading.Thread(target=toggle)] + [threading.Thread(target=asker)
                                                   for _ in range(3)]
        for t in ts:
            t.start()
        # at least 1.5 s, and on until the race had enough turns (a machine loaded by
        # the sanitizer runs side by side is slower), at most 15 s
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15 and not out["errors"] and not (
                time.monotonic() - t0 >= 1.5 and out["versions"] > 20
                and len(out["answers"]) > 50):
            time.sleep(0.1)
        stop.set()
        for t in ts:
            t.join()
        expect(not out["errors"], f"errors: {out['errors'][:3]!r}")
        listed = listed_times(d, s)
        expect(len(listed) == len(out["answers"]) and
               all(j["agreement"] in listed for j in out["answers"]),
               f"{len(listed)} consultations listed for {len(out['answers'])} answers")
        nulls = [n for n, (_, k) in listed.items() if not (isinstance(k, str)
                                                             and TS_US_RE.match(k))]
        expect(not nulls, f"agreements without a known_at: {nulls[:5]!r}")
        a_ = Client(env, d, "auditor")
        wrong = []
        try:
            for j in out["answers"]:
                known = listed[j["agreement"]][1]
                status, a = a_.req("GET", "/v1/audit/coverage-as-of?" + qs(
                    ssin=s, service_date=day(0), care_type="general_practice", known_at=known,
                    provider=PROVIDER_ORG))
                expect(status == 200, f"as-of: {status} {a!r}")
                if (a.get("covered"), reason_code(a), (a.get("decision") or {}).get("version")) \
                        != (j.get("covered"), reason_code(j), (j.get("decision") or {}).get(
                            "version")):
                    wrong.append(f"{j['agreement']} known at {known}: agreement "
                                 f"{reason_code(j) or 'covered'} v"
                                 f"{(j.get('decision') or {}).get('version')}, as-of "
                                 f"{reason_code(a) or 'covered'} v"
                                 f"{(a.get('decision') or {}).get('version')}")
        finally:
            a_.close()
        print(f"#   {out['versions']} versions, {len(out['answers'])} answers, "
              f"{len(wrong)} differ")
        expect(out["versions"] > 20 and len(out["answers"]) > 50,
               f"too little load: {out['versions']} versions, {len(out['answers'])} answers")
        expect(not wrong, f"{len(wrong)} of {len(out['answers'])} agreements differ from "
               "as-of at their known_at:\n" + "\n".join(wrong[:10]))
        st["ssins_in_queries"].append(s)

    @tap.case("as-of asks get no agreement and leave one read record (not an "
              "agreement.issue); bad parameters: 400 invalid_parameter")
    def _():
        s = st["asof_ssin"]
        with Trail(env) as t:
            a = as_of(s, utc_now())
            expect("agreement" not in a, f"as-of gave an agreement: {a!r}")
            rec = t.exactly_one("read.audit.coverage_as_of", "/v1/audit/coverage-as-of",
                                PRINCIPALS["auditor"][1])
            expect(rec["detail"] == {"ssin": s}, f"as-of: detail {rec['detail']!r}")
        for params, field in [(dict(service_date=day(0), care_type="pharmacy",
                                    known_at=utc_now()), "ssin"),
                              (dict(ssin=s, care_type="pharmacy", known_at=utc_now()),
                               "service_date"),
                              (dict(ssin=s, service_date=day(0), care_type="dentistry",
                                    known_at=utc_now()), "care_type"),
                              (dict(ssin=s, service_date=day(0), care_type="pharmacy"),
                               "known_at"),
                              (dict(ssin=s, service_date=day(0), care_type="pharmacy",
                                    known_at="yesterday"), "known_at")]:
            problem(d.request("auditor", "GET", "/v1/audit/coverage-as-of?" + qs(**params)),
                    400, "invalid_parameter", field=field)
        st["ssins_in_queries"].append(s)


# ---- test 2: the chain after thousands of concurrent writes --------------------------------
def concurrency_tests(env, tap, d, st):
    @tap.case("8 clients × (creates, updates, questions, batches) at once: every write "
              "answered, one record each (≥ 3000 records)")
    def _():
        threads, rounds, batch = 8, 12, 40
        people = [[(new_ssin(), new_ssin()) for _ in range(rounds)] for _ in range(threads)]
        c0, s0 = count_max(env)
        h0 = chained(env)
        t0 = time.monotonic()

        def work(i):
            o = Client(env, d, "ocmw" if i % 2 else "ocmw2")
            p = Client(env, d, "provider" if i % 3 else "provider2")
            done, errors = 0, []
            try:
                for k in range(rounds):
                    s, nobody = people[i][k]
                    status, j = o.req("POST", "/v1/decisions", decision_body(s))
                    if status != 201:
                        errors.append(("create", status, j))
                        continue
                    done += 1
                    for who_s in (s, nobody):
                        status, a = p.req("POST", "/v1/coverage",
                                          {"ssin": who_s, "service_date": day(0),
                                           "care_type": "general_practice"})
                        if status == 200 and a.get("agreement"):
                            done += 1
                        else:
                            errors.append(("coverage", status, a))
                    b = editable(j)
                    b["reference"] = f"IT/audit/load/{i}/{k}"
                    status, u = o.req("PUT", f"/v1/decisions/{j['id']}", b,
                                      headers={"If-Match": "1"})
                    if status == 200:
                        done += 1
                    else:
                        errors.append(("put", status, u))
                    qs_ = [{"ssin": (s, nobody)[n % 2], "service_date": day(-(n % 5)),
                            "care_type": ("general_practice", "pharmacy")[n % 3 == 0]}
                           for n in range(batch)]
                    status, r = p.req("POST", "/v1/coverage/batch", {"questions": qs_})
                    ans = (r or {}).get("answers") or []
                    got = sum(1 for a in ans if a.get("agreement"))
                    if status != 200 or got != batch:
                        errors.append(("batch", status, str(r)[:300]))
                    done += got
            finally:
                o.close()
                p.close()
            return done, errors, o.retries + p.retries

        with ThreadPoolExecutor(max_workers=threads) as ex:
            res = list(ex.map(work, range(threads)))
        dt = time.monotonic() - t0
        done = sum(r[0] for r in res)
        errors = [e for r in res for e in r[1]]
        retries = sum(r[2] for r in res)
        c1, s1 = count_max(env)
        h1 = chained(env)
        print(f"#   {done} writes from {threads} clients in {dt:.1f}s "
              f"({done / dt:.0f}/s), {retries} reconnects")
        expect(not errors, f"{len(errors)} writes failed, e.g. {errors[:3]!r}")
        expect(done >= 3000, f"only {done} writes")
        # seq may skip numbers (an append rolled back with its change), the chains may not
        expect(c1 - c0 == done and h1 - h0 == done and s1 - s0 >= done,
               f"{done} writes answered, but {c1 - c0} records added, the heads' chain_seq "
               f"sum {h0} -> {h1}, max seq {s0} -> {s1}"
               f"{' (with reconnects)' if retries else ''}")
        st["load_done"] = done

    @tap.case("GET /v1/audit/verify: intact, 16 chains, records == count(*) == sum of the "
              "heads' last_chain_seq, last_seq == max(seq), last_hash == sha256 over the 16 "
              "head hashes; every chain's chain_seq gapless from 1 up to its head")
    def _():
        v = verify(d)
        c, m = count_max(env)
        hd = heads(env)
        expect(v.get("intact") is True, f"verify: {v!r}")
        expect(set(v) == {"intact", "records", "last_seq", "last_hash", "chains", "heads"},
               f"members: {v!r}")
        # the heads the walk was checked against are the database's heads
        expect([(x["chain"], x["chain_seq"], x["seq"], x["hash"]) for x in v["heads"]] ==
               [(ch, n, ls, h) for ch, (n, ls, h) in sorted(hd.items())],
               f"verify heads {v['heads']!r} differ from audit_head {hd!r}")
        expect(v["chains"] == CHAINS and sorted(hd) == list(range(CHAINS)),
               f"verify chains {v['chains']!r}, heads {sorted(hd)}")
        per = {int(r[0]): tuple(int(x) for x in r[1:]) for r in q(
            env, "SELECT chain, count(*), min(chain_seq), max(chain_seq), max(seq) "
                 "FROM audit_log GROUP BY chain")}
        expect(set(per) <= set(hd), f"records in chains without a head: {sorted(per)}")
        wrong = []
        for ch, (n, ls, h) in hd.items():
            cnt, lo, hi, ms = per.get(ch, (0, 1, 0, 0))
            if not (cnt == hi == n and lo == 1 and ms == ls):
                wrong.append(f"chain {ch}: {cnt} records, chain_seq {lo}..{hi}, max seq {ms}; "
                             f"head last_chain_seq {n}, last_seq {ls}")
            if n == 0 and (ls != 0 or h != ZERO_HASH):
                wrong.append(f"chain {ch}: empty, head {hd[ch]!r}")
        expect(not wrong, "\n".join(wrong))
        expect(v["records"] == c == sum(h[0] for h in hd.values()),
               f"verify records {v['records']}, count(*) {c}, heads "
               f"{sum(h[0] for h in hd.values())}")
        expect(v["last_seq"] == m == max(h[1] for h in hd.values()),
               f"verify last_seq {v['last_seq']}, max(seq) {m}, heads' max last_seq "
               f"{max(h[1] for h in hd.values())}")
        expect(HASH_RE.match(v["last_hash"] or "") and v["last_hash"] == anchor(hd),
               f"last_hash {v['last_hash']!r}, sha256 over the head hashes {anchor(hd)!r}")
        # concurrent writers do not queue behind one chain
        used = sum(1 for h in hd.values() if h[0] > 0)
        expect(used > 1, f"only {used} chain(s) in use after the concurrent load")
        gaps = m - c
        if gaps:
            print(f"#   note: {gaps} seq number(s) unused (appends rolled back)")
        st["intact"] = v

    @tap.case("the chains recomputed here: hash = sha256(prev_hash || audit_canonical(...)), "
              "each prev_hash the previous hash of its chain (64 zeros first), chain_seq "
              "1..n and seq increasing along each chain, each chain ending at its head")
    def _():
        rows = q(env, "SELECT chain, chain_seq, seq, audit_canonical(seq, chain, chain_seq, "
                      "recorded_at, principal_id, organisation, action, object, detail), "
                      "prev_hash, hash FROM audit_log ORDER BY chain, chain_seq")
        prev = {ch: ZERO_HASH for ch in range(CHAINS)}
        n = {ch: 0 for ch in range(CHAINS)}
        last = {ch: 0 for ch in range(CHAINS)}
        for ch, cs, seq, canon, ph, h in rows:
            ch, cs, seq = int(ch), int(cs), int(seq)
            expect(ch in prev, f"record {seq} in chain {ch}")
            expect(cs == n[ch] + 1, f"chain {ch}: record {seq} has chain_seq {cs} after "
                   f"{n[ch]}")
            expect(seq > last[ch], f"chain {ch}: record {seq} (chain_seq {cs}) after seq "
                   f"{last[ch]}")
            expect(ph == prev[ch], f"record {seq}: prev_hash {ph} != previous hash of chain "
                   f"{ch} {prev[ch]}")
            want = hashlib.sha256((prev[ch] + canon).encode()).hexdigest()
            expect(h == want, f"record {seq}: hash {h} != sha256(prev || canonical) {want}")
            prev[ch], n[ch], last[ch] = h, cs, seq
        hd = heads(env)
        for ch in range(CHAINS):
            expect(hd[ch] == (n[ch], last[ch], prev[ch]),
                   f"chain {ch} ends at ({n[ch]}, {last[ch]}, {prev[ch]}), head {hd[ch]!r}")
        expect(anchor(hd) == st.get("intact", {}).get("last_hash"),
               "the anchor over the heads differs from verify's last_hash")

    @tap.case("every decision version and every agreement (of the whole run) has exactly one "
              "record, and every agreement.issue / decision.* record its row")
    def _():
        bad = q(env, "SELECT v.decision_id || '/' || v.version, count(l.seq) "
                     "FROM decision_version v LEFT JOIN audit_log l "
                     "ON l.object = v.decision_id || '/' || v.version "
                     "AND l.action = 'decision.' || v.change "
                     "GROUP BY 1 HAVING count(l.seq) <> 1 LIMIT 5")
        expect(not bad, f"decision versions without exactly one record: {bad!r}")
        bad = q(env, "SELECT a.number, count(l.seq) FROM agreement a LEFT JOIN audit_log l "
                     "ON l.object = a.number AND l.action = 'agreement.issue' "
                     "GROUP BY 1 HAVING count(l.seq) <> 1 LIMIT 5")
        expect(not bad, f"agreements without exactly one record: {bad!r}")
        bad = q(env, "SELECT l.seq, l.object FROM audit_log l WHERE (l.action = "
                     "'agreement.issue' AND NOT EXISTS (SELECT 1 FROM agreement a WHERE "
                     "a.number = l.object)) OR (l.action LIKE 'decision.%' AND NOT EXISTS "
                     "(SELECT 1 FROM decision_version v WHERE v.decision_id || '/' || "
                     "v.version = l.object)) LIMIT 5")
        expect(not bad, f"records without their row: {bad!r}")
        bad = q(env, "SELECT a.number FROM agreement_void a LEFT JOIN audit_log l "
                     "ON l.object = a.number AND l.action = 'agreement.void' "
                     "GROUP BY 1 HAVING count(l.seq) <> 1 LIMIT 5")
        expect(not bad, f"voids without exactly one record: {bad!r}")
        inv = int(one(env, "SELECT count(*) FROM (SELECT recorded_at < lag(recorded_at) OVER "
                           "(ORDER BY seq) AS back FROM audit_log) x WHERE back"))
        if inv:
            print(f"#   note: recorded_at goes backwards along seq {inv} time(s) "
                  "(audit_append takes clock_timestamp() before it locks the head)")


# ---- test 5: lists -------------------------------------------------------------------------
def list_tests(env, tap, d, st):
    data = {}

    @tap.case("consultation data with known values: 2 persons, 2 OCMWs, 2 providers, 3 service "
              "dates, covered / care_type_absent / no_decision / suspended")
    def _():
        s1, s2, s3 = new_ssin(), new_ssin(), new_ssin()
        data.update(s1=s1, s2=s2, s3=s3)
        d1 = create(d, "ocmw", decision_body(s1))
        d2 = create(d, "ocmw2", decision_body(s2, covers=("pharmacy",)))
        data["d1"], data["d2"] = d1["id"], d2["id"]
        a = {}
        a["s1_today"] = ask(d, s1)["agreement"]
        a["s1_m3"] = ask(d, s1, day(-3))["agreement"]
        a["s1_pharm"] = ask(d, s1, care_type="miscellaneous")["agreement"]
        data["t_mid"] = utc_now()
        a["s2_today"] = ask(d, s2, care_type="pharmacy", who="provider2")["agreement"]
        a["s2_m1"] = ask(d, s2, day(-1), care_type="pharmacy", who="provider2")["agreement"]
        a["s3"] = ask(d, s3)["agreement"]
        ok_version(act(d, "ocmw2", d2["id"], "suspend", {}), 200, d2["id"], 2, "suspended")
        a["s2_susp"] = ask(d, s2, care_type="miscellaneous")["agreement"]
        data["a"] = a
        st["ssins_in_queries"] += [s1, s2, s3]

    def cons(**f):
        _, items, _ = stream(d, "consultations", **f)
        j = get_json(d, "/v1/audit/consultations?" + qs(limit=1000, **f))
        expect(j["items"] == items, f"page and stream differ for {f!r}")
        return numbers(items)

    @tap.case("consultations: each item has exactly the documented members in order and the "
              "values of its agreement")
    def _():
        a = data["a"]
        r = d.request("auditor", "GET", "/v1/audit/consultations?" + qs(ssin=data["s1"]))
        expect(r.status == 200, repr(r))
        raw_items = json.loads(r.body, object_pairs_hook=lambda kv: kv)[0][1]
        for kv in raw_items:
            expect([k for k, _ in kv] == CONSULTATION_KEYS, f"members {[k for k, _ in kv]}")
        items = {i["agreement"]: i for i in r.json["items"]}
        x = items[a["s1_today"]]
        expect(x["provider"] == PROVIDER_ORG and x["ssin"] == data["s1"]
               and x["service_date"] == day(0) and x["care_type"] == "general_practice"
               and x["covered"] is True and x["reason"] is None and x["decision"] == data["d1"]
               and x["decision_version"] == 1 and x["ocmw"] == OCMW_ORG
               and x["voided_at"] is None and TS_US_RE.match(x["issued_at"])
               and isinstance(x["known_at"], str) and TS_US_RE.match(x["known_at"])
               and x["known_at"] <= x["issued_at"]
               and (x["issued_at"], x["known_at"]) == (issued_at_us(env, x["agreement"]),
                                                      known_at_us(env, x["agreement"])),
               f"item {x!r}")
        x = items[a["s1_pharm"]]
        expect(x["covered"] is False and x["reason"] == "care_type_absent", f"item {x!r}")
        j = get_json(d, "/v1/audit/consultations?" + qs(ssin=data["s3"]))
        x = j["items"][0]
        expect(len(j["items"]) == 1 and x["reason"] == "no_decision" and x["decision"] is None
               and x["decision_version"] is None and x["ocmw"] is None
               and TS_US_RE.match(x["known_at"] or ""), f"items {j!r}")
        # answered without a lookup (the service date is in the future): no known_at
        s4 = new_ssin()
        st["ssins_in_queries"].append(s4)
        fut = ask(d, s4, day(30))
        expect(reason_code(fut) == "service_date_in_future", f"future service: {fut!r}")
        j = get_json(d, "/v1/audit/consultations?" + qs(ssin=s4))
        expect([(i["agreement"], i["known_at"], i["reason"]) for i in j["items"]]
               == [(fut["agreement"], None, "service_date_in_future")]
               and TS_US_RE.match(j["items"][0]["issued_at"]), f"items {j!r}")
        n = st["batch_numbers"][0]  # voided in the one-record tests
        j = get_json(d, "/v1/audit/consultations?" + qs(ssin=st["one_person"]))
        v = [i for i in j["items"] if i["agreement"] == n]
        expect(v and v[0]["voided_at"], f"voided agreement {n}: {v!r}")

    @tap.case("consultations filters: ssin, provider, ocmw, service_from/to (inclusive), "
              "outcome, recorded_from (incl.) / recorded_to (excl.) select exactly the "
              "expected agreements (page == stream)")
    def _():
        a, s1, s2, s3 = data["a"], data["s1"], data["s2"], data["s3"]
        exp = [
            (dict(ssin=s1), ["s1_today", "s1_m3", "s1_pharm"]),
            (dict(ssin=s2), ["s2_today", "s2_m1", "s2_susp"]),
            (dict(ssin=s1, outcome="covered"), ["s1_today", "s1_m3"]),
            (dict(ssin=s1, outcome="not_covered"), ["s1_pharm"]),
            (dict(ssin=s1, outcome="care_type_absent"), ["s1_pharm"]),
            (dict(ssin=s1, outcome="suspended"), []),
            (dict(ssin=s2, outcome="suspended"), ["s2_susp"]),
            (dict(ssin=s3, outcome="no_decision"), ["s3"]),
            (dict(ssin=s2, provider=PROVIDER2_ORG), ["s2_today", "s2_m1"]),
            (dict(ssin=s2, provider=PROVIDER_ORG), ["s2_susp"]),
            (dict(ssin=s2, ocmw=OCMW2_ORG), ["s2_today", "s2_m1", "s2_susp"]),
            (dict(ssin=s2, ocmw=OCMW_ORG), []),
            (dict(ssin=s1, service_from=day(-3), service_to=day(-3)), ["s1_m3"]),
            (dict(ssin=s1, service_to=day(-1)), ["s1_m3"]),
            (dict(ssin=s1, service_from=day(-2)), ["s1_today", "s1_pharm"]),
            (dict(ssin=s2, service_from=day(-1), service_to=day(-1)), ["s2_m1"]),
            (dict(ssin=s1, recorded_to=data["t_mid"]), ["s1_today", "s1_m3", "s1_pharm"]),
            (dict(ssin=s1, recorded_from=data["t_mid"]), []),
            (dict(ssin=s2, recorded_from=data["t_mid"]), ["s2_today", "s2_m1", "s2_susp"]),
        ]
        exact = issued_at_us(env, a["s1_m3"])
        exp += [(dict(ssin=s1, recorded_to=exact), ["s1_today"]),
                (dict(ssin=s1, recorded_from=exact), ["s1_m3", "s1_pharm"])]
        wrong = []
        for f, keys in exp:
            got = cons(**f)
            want = sorted(a[k] for k in keys)
            if got != want:
                wrong.append(f"{f!r}: expected {want}, got {got}")
        expect(not wrong, "\n".join(wrong))

    @tap.case("consultations filters over the whole table agree with SQL (ocmw, provider, "
              "outcome, service dates)")
    def _():
        checks = [
            (dict(ocmw=OCMW2_ORG), "d.ocmw = '%s'" % OCMW2_ORG),
            (dict(provider=PROVIDER2_ORG), "a.provider_org = '%s'" % PROVIDER2_ORG),
            (dict(outcome="not_covered"), "NOT a.covered"),
            (dict(outcome="no_decision"), "a.reason = 'no_decision'"),
            (dict(service_from=day(-2), service_to=day(-1)),
             f"a.service_date BETWEEN '{day(-2)}' AND '{day(-1)}'"),
        ]
        for f, where in checks:
            want = [r[0] for r in q(env, "SELECT a.number FROM agreement a LEFT JOIN decision d "
                                         f"ON d.id = a.decision_id WHERE {where} "
                                         "ORDER BY a.number")]
            _, items, _ = stream(d, "consultations", **f)
            got = numbers(items)
            expect(got == want, f"{f!r}: {len(got)} items, SQL {len(want)}; first difference "
                   f"{next(((g, w) for g, w in zip(got, want) if g != w), None)}")
            expect(want, f"{f!r}: SQL found nothing (test data?)")

    @tap.case("consultations paging (limit 3, 97 and 1000, cursor): every item exactly once, in "
              "number order, the same items as the stream")
    def _():
        f = dict(ssin=st["one_person"])
        _, items, _ = stream(d, "consultations", **f)
        p3, cur = pages(d, "consultations", 3, **f)
        expect(p3 == items, f"limit 3: {len(p3)} items, stream {len(items)}")
        expect(len(cur) >= 3, f"only {len(cur)} cursors: too few items to test paging")
        _, items, _ = stream(d, "consultations", ocmw=OCMW_ORG)
        p97, cur = pages(d, "consultations", 97, ocmw=OCMW_ORG)
        expect(p97 == items, f"limit 97: {len(p97)} items, stream {len(items)}")
        nums = numbers(items)
        expect(nums == sorted(nums) and len(set(nums)) == len(nums), "order / duplicates")
        expect(len(cur) >= 3, f"only {len(cur)} cursors: too few items to test paging")
        _, all_items, _ = stream(d, "consultations")
        p1000, _ = pages(d, "consultations", 1000)
        expect(p1000 == all_items, f"limit 1000: {len(p1000)} items, stream {len(all_items)}")
        total = int(one(env, "SELECT count(*) FROM agreement"))
        expect(len(all_items) == total, f"{len(all_items)} listed, {total} agreements")

    @tap.case("a stream of ≥ 5000 consultations arrives whole (line count == agreements), "
              "the daemon's memory stays bounded")
    def _():
        p = Client(env, d, "provider")
        try:
            persons = [new_ssin() for _ in range(20)]
            for _ in range(20):
                if int(one(env, "SELECT count(*) FROM agreement")) >= 5200:
                    break
                qs_ = [{"ssin": persons[n % 20], "service_date": day(-(n % 30)),
                        "care_type": "pharmacy"} for n in range(1000)]
                status, r = p.req("POST", "/v1/coverage/batch", {"questions": qs_})
                expect(status == 200, f"batch: {status} {str(r)[:300]}")
        finally:
            p.close()
        total = int(one(env, "SELECT count(*) FROM agreement"))
        expect(total >= 5000, f"only {total} agreements")
        pid = d.proc.pid
        rss0 = daemon_rss_kb(pid)
        peak = [rss0 or 0]
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                v = daemon_rss_kb(pid)
                if v:
                    peak[0] = max(peak[0], v)
                time.sleep(0.01)

        w = threading.Thread(target=watch)
        w.start()
        try:
            lines, items, _ = stream(d, "consultations")
        finally:
            stop.set()
            w.join()
        expect(len(lines) == total, f"{len(lines)} lines for {total} agreements")
        nums = numbers(items)
        expect(len(set(nums)) == total and nums == sorted(nums), "duplicates or disorder")
        growth = (peak[0] - (rss0 or 0)) // 1024
        print(f"#   {total} lines; daemon VmRSS {rss0 // 1024 if rss0 else '?'} MB -> peak "
              f"{peak[0] // 1024} MB")
        if not sanitized(pid):
            expect(peak[0] < 200 * 1024, f"daemon VmRSS peaked at {peak[0] // 1024} MB")
        expect(growth < 150, f"daemon VmRSS grew by {growth} MB during the stream")
        st["stream_lines"] = lines

    @tap.case("clients that leave in the middle of a stream (10, reading 0 or 64 KiB): the "
              "daemon goes on serving, the next stream is whole")
    def _():
        req = (b"GET /v1/audit/consultations HTTP/1.1\r\nHost: localhost\r\n"
               b"Accept: application/x-ndjson\r\n\r\n")
        for n in range(10):
            sock = d.tls_socket("auditor")
            try:
                sock.sendall(req)
                got = b""
                while n % 2 and len(got) < 65536:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            finally:
                sock.close()
        still_serving(d)
        lines, _, _ = stream(d, "consultations")
        expect(lines == st["stream_lines"], f"{len(lines)} lines after the dropped clients, "
               f"{len(st['stream_lines'])} before")

    @tap.case("decisions: one item per version with the documented members; filters ssin, "
              "ocmw, status, changed_since (inclusive) exact")
    def _():
        did = st["stopped"]  # create, update, suspend, resume, stop
        s = one(env, f"SELECT ssin FROM decision WHERE id = '{did}'")
        st["ssins_in_queries"].append(s)
        r = d.request("auditor", "GET", "/v1/audit/decisions?" + qs(ssin=s))
        expect(r.status == 200, repr(r))
        raw_items = json.loads(r.body, object_pairs_hook=lambda kv: kv)[0][1]
        for kv in raw_items:
            expect([k for k, _ in kv] == DECISION_KEYS, f"members {[k for k, _ in kv]}")
        items = r.json["items"]
        expect([(i["decision"], i["version"], i["change"], i["status"]) for i in items]
               == [(did, 1, "create", "active"), (did, 2, "update", "active"),
                   (did, 3, "suspend", "suspended"), (did, 4, "resume", "active"),
                   (did, 5, "stop", "stopped")], f"items {items!r}")
        oid = principal_id(env, "ocmw")
        for i in items:
            expect(i["ocmw"] == OCMW_ORG and i["ssin"] == s and i["kind"] == "coverage"
                   and i["recorded_by"] == {"principal": oid, "role": "ocmw",
                                            "organisation": OCMW_ORG}
                   and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", i["recorded_at"]),
                   f"item {i!r}")
        expect(items[4]["period"] == {"start": day(-10), "end": day(20)}, f"{items[4]!r}")

        def dec(**f):
            _, it, _ = stream(d, "decisions", **f)
            j = get_json(d, "/v1/audit/decisions?" + qs(limit=1000, **f))
            expect(j["items"] == it, f"page and stream differ for {f!r}")
            return [(i["decision"], i["version"]) for i in it]

        v3 = one(env, "SELECT to_char(recorded_at AT TIME ZONE 'UTC', "
                      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM decision_version "
                      f"WHERE decision_id = '{did}' AND version = 3")
        exp = [(dict(ssin=s, status="suspended"), [3]), (dict(ssin=s, status="active"), [1, 2, 4]),
               (dict(ssin=s, status="stopped"), [5]), (dict(ssin=s, ocmw=OCMW_ORG),
                                                        [1, 2, 3, 4, 5]),
               (dict(ssin=s, ocmw=OCMW2_ORG), []), (dict(ssin=s, changed_since=v3), [3, 4, 5])]
        wrong = []
        for f, vs in exp:
            got = dec(**f)
            if got != [(did, v) for v in vs]:
                wrong.append(f"{f!r}: expected versions {vs}, got {got}")
        expect(not wrong, "\n".join(wrong))
        want = int(one(env, "SELECT count(*) FROM decision_version v JOIN decision d ON "
                            f"d.id = v.decision_id WHERE d.ocmw = '{OCMW2_ORG}' "
                            "AND v.status = 'active'"))
        got = dec(ocmw=OCMW2_ORG, status="active")
        expect(len(got) == want and want > 0, f"ocmw2 active: {len(got)} items, SQL {want}")

    @tap.case("decisions paging (limit 53, cursor) == stream == count(decision_version), in "
              "recording order, each version once")
    def _():
        _, items, _ = stream(d, "decisions")
        p53, cur = pages(d, "decisions", 53)
        expect(p53 == items, f"limit 53: {len(p53)} items, stream {len(items)}")
        keys = [(i["decision"], i["version"]) for i in items]
        total = int(one(env, "SELECT count(*) FROM decision_version"))
        expect(len(set(keys)) == len(keys) == total, f"{len(keys)} items "
               f"({len(set(keys))} distinct), {total} versions")
        rec = [i["recorded_at"] for i in items]
        expect(rec == sorted(rec), "not in recording order")
        expect(len(cur) >= 5, f"only {len(cur)} pages")

    @tap.case("bad filters, limit 0 / 1001, a cursor it never gave: 400 invalid_parameter")
    def _():
        for kind, params, field in [
                ("consultations", dict(ssin="12345678901"), "ssin"),
                ("consultations", dict(outcome="maybe"), "outcome"),
                ("consultations", dict(service_from="2026-02-30"), "service_from"),
                ("consultations", dict(recorded_to="noon"), "recorded_to"),
                ("consultations", dict(limit=0), "limit"),
                ("consultations", dict(limit=1001), "limit"),
                ("consultations", dict(cursor="x"), "cursor"),
                ("decisions", dict(status="sleeping"), "status"),
                ("decisions", dict(changed_since="2026-13-01"), "changed_since"),
                ("decisions", dict(cursor="A2026-00000001"), "cursor")]:
            problem(d.request("auditor", "GET", f"/v1/audit/{kind}?{qs(**params)}"), 400,
                    "invalid_parameter", field=field)
        still_serving(d)


# ---- test 5 (client) ----------------------------------------------------------------------
def client_tests(env, tap, d, st):
    def cli(*args, timeout=120):
        return d.client("auditor", *args, timeout=timeout)

    @tap.case("medaid audit consultations --format csv: the documented header, one row per "
              "item, values as the JSON items")
    def _():
        s = st["one_person"]
        p = cli("--format", "csv", "audit", "consultations", "--ssin", s)
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        lines = p.stdout.split("\n")
        expect(lines[-1] == "", "output does not end with LF")
        lines = lines[:-1]
        expect(lines[0] == CSV_CONSULTATIONS, f"header {lines[0]!r}")
        _, items, _ = stream(d, "consultations", ssin=s)
        expect(len(lines) - 1 == len(items), f"{len(lines) - 1} rows, {len(items)} items")

        def cell(v):
            return "" if v is None else ("true" if v is True else "false" if v is False
                                         else str(v))
        for row, it in zip(lines[1:], items):
            # the CSV keeps its documented columns (kind is in the JSON items only)
            want = ",".join(cell(it[k]) for k in CONSULTATION_KEYS if k != "kind")
            expect(row == want, f"row {row!r}\nexpected {want!r}")

    @tap.case("medaid audit decisions --format csv: the documented header and one row per "
              "version")
    def _():
        s = one(env, f"SELECT ssin FROM decision WHERE id = '{st['stopped']}'")
        p = cli("--format", "csv", "audit", "decisions", "--ssin", s)
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        lines = p.stdout.splitlines()
        expect(lines and lines[0] == CSV_DECISIONS, f"header {lines[:1]!r}")
        expect(len(lines) == 6 and all(x.split(",")[0] == st["stopped"] for x in lines[1:]),
               f"rows {lines!r}")
        expect([x.split(",")[2] for x in lines[1:]] ==
               ["create", "update", "suspend", "resume", "stop"], f"rows {lines!r}")

    @tap.case("medaid audit consultations --format ndjson: byte for byte the stream (≥ 5000 "
              "lines); --format json: the same items as one array")
    def _():
        lines = st.get("stream_lines")
        expect(lines, "no stream from the earlier test")
        p = cli("--format", "ndjson", "audit", "consultations")
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-500:]}")
        got = p.stdout.splitlines()
        expect(got == lines, f"{len(got)} lines, stream {len(lines)}; first difference "
               f"{next(((g, w) for g, w in zip(got, lines) if g != w), None)}")
        p = cli("audit", "consultations")
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-500:]}")
        arr = json.loads(p.stdout)
        expect(arr == [json.loads(x) for x in lines], f"json: {len(arr)} items")

    @tap.case("medaid audit verify exits 0 (intact); medaid audit as-of exits 0 covered, "
              "5 not covered")
    def _():
        p = cli("audit", "verify")
        expect(p.returncode == 0, f"verify: exit {p.returncode}: {p.stdout} {p.stderr}")
        expect(json.loads(p.stdout).get("intact") is True, p.stdout)
        s = st["asof_ssin"]
        ans, t, who, ct = st["asof_ag"][0]  # covered, version 1
        p = cli("audit", "as-of", "--ssin", s, "--date", day(0), "--care-type", ct,
                "--known-at", t)
        expect(p.returncode == 0, f"as-of covered: exit {p.returncode}: {p.stdout} {p.stderr}")
        expect(json.loads(p.stdout).get("covered") is True, p.stdout)
        p = cli("audit", "as-of", "--ssin", s, "--date", day(0), "--care-type",
                "general_practice", "--known-at", st["asof_before"])
        expect(p.returncode == 5, f"as-of not covered: exit {p.returncode}: {p.stdout} "
               f"{p.stderr}")
        expect(reason_code(json.loads(p.stdout)) == "no_decision", p.stdout)


# ---- test 6: who may read the trail --------------------------------------------------------
def role_tests(env, tap, d):
    @tap.case("provider, ocmw, admin on each audit endpoint (JSON and NDJSON): 403 forbidden")
    def _():
        s = new_ssin()
        params = {"/v1/audit/coverage-as-of": "?" + qs(ssin=s, service_date=day(0),
                                                        care_type="pharmacy",
                                                        known_at=utc_now())}
        for who in ("provider", "provider2", "ocmw", "ocmw2", "admin"):
            for ep in ENDPOINTS:
                path = ep + params.get(ep, "")
                problem(d.request(who, "GET", path), 403, "forbidden")
                if ep in ("/v1/audit/consultations", "/v1/audit/decisions"):
                    problem(d.request(who, "GET", path,
                                      headers=["Accept: application/x-ndjson"]), 403,
                            "forbidden")
        still_serving(d)

    @tap.case("the medaid client as provider: audit verify / consultations exit 2")
    def _():
        for args in (("audit", "verify"), ("--format", "ndjson", "audit", "consultations"),
                     ("audit", "decisions")):
            p = d.client("provider", *args)
            expect(p.returncode == 2 and "403" in p.stderr,
                   f"{args}: exit {p.returncode}, {p.stdout[:200]!r} {p.stderr!r}")


# ---- test 3: tampering ---------------------------------------------------------------------
COPY = "audit_tamper_copy"


def tamper_tests(env, tap, d):
    sup = env.superuser_psql
    state = {}

    def restore():
        sup(f"BEGIN; ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; "
            f"DELETE FROM audit_log; INSERT INTO audit_log SELECT * FROM {COPY}; "
            f"ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only; COMMIT")

    def tamper(sql):
        sup(f"BEGIN; ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; {sql}; "
            f"ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only; COMMIT")

    def broken(want, what):
        """want: (broken_at seq, chain, records_checked, reason)."""
        seq, chain, checked, reason = want
        v = verify(d)
        expect(v == {"intact": False, "records_checked": checked, "broken_at": seq,
                     "chain": chain, "reason": reason},
               f"{what}: expected broken_at {seq} in chain {chain} ({reason}), "
               f"records_checked {checked}; got {v!r}")

    def intact_again(what):
        v = verify(d)
        expect(v == state["intact"], f"after restoring ({what}): {v!r}, expected "
               f"{state['intact']!r}")

    @tap.case("tampering set-up: the trail intact, a copy of it kept (as superuser)")
    def _():
        v = verify(d)
        expect(v.get("intact") is True and v["records"] > 4100,
               f"verify {v!r} (need > 4100 records for the page-boundary cases)")
        state["intact"] = v
        sup(f"DROP TABLE IF EXISTS {COPY}; CREATE TABLE {COPY} AS SELECT * FROM audit_log")
        expect(int(sup(f"SELECT count(*) FROM {COPY}")) == v["records"], "copy incomplete")
        # the records in verify's order: chain by chain, each in chain_seq order
        order = [tuple(int(x) for x in line.split("|")) for line in sup(
            f"SELECT seq, chain, chain_seq FROM {COPY} ORDER BY chain, chain_seq").splitlines()]
        hd = heads(env)
        expect(len(order) == v["records"], "records moved during the set-up")
        # the last record written (highest seq) ends its chain, which has 3 records or more
        top = max(order)
        p = order.index(top)
        expect(hd[top[1]][:2] == (top[2], top[0]) and order[p - 2][1] == top[1],
               f"the record with the highest seq {top!r} is not its chain's last or the "
               f"chain is short: {order[p - 2:p + 2]!r}, head {hd[top[1]]!r}")
        state.update(order=order, heads=hd, n=v["records"])

    if "n" not in state:
        return
    n = state["n"]
    mid = n // 2
    order = state["order"]
    hd = state["heads"]
    pos = {r[0]: p for p, r in enumerate(order)}

    def seq(p):
        return order[p][0]

    def chain(p):
        return order[p][1]

    def last_of_chain(p):
        return p + 1 == len(order) or chain(p + 1) != chain(p)

    def inner(p):
        """The first position from p whose record has a successor in its chain."""
        while last_of_chain(p):
            p += 1
        return p

    def changed(p, reason="hash_mismatch"):
        """A column of the record at p changed: broken at it, the records before counted."""
        return (seq(p), chain(p), p, reason)

    def deleted(p):
        """The record at p deleted: a gap at the next record of its chain, or, when it was
        the chain's last, at the seq the chain's head holds."""
        at = hd[chain(p)][1] if last_of_chain(p) else seq(p + 1)
        return (at, chain(p), p, "gap")

    top = max(pos)          # the last record written, the last of its chain (set-up)
    pt = pos[top]
    ct = chain(pt)
    k_del, k_rec, k_swap = inner(mid + 13), inner(mid + 30), inner(mid + 40)

    def recompute(s_):
        return (f"UPDATE audit_log SET organisation = CASE organisation WHEN 'host' THEN "
                f"'0200000142' ELSE 'host' END WHERE seq = {s_}; UPDATE audit_log SET hash = "
                f"encode(sha256(convert_to(prev_hash || audit_canonical(seq, chain, chain_seq, "
                f"recorded_at, principal_id, organisation, action, object, detail), 'UTF8')), "
                f"'hex') WHERE seq = {s_}")

    def swap(col, a, b):
        return (f"UPDATE audit_log SET {col} = -1 WHERE seq = {a}; "
                f"UPDATE audit_log SET {col} = (SELECT {col} FROM {COPY} WHERE seq = {a}) "
                f"WHERE seq = {b}; UPDATE audit_log SET {col} = (SELECT {col} FROM {COPY} "
                f"WHERE seq = {b}) WHERE {col} = -1")

    # (what, [(sql, expected (broken_at, chain, records_checked, reason))])
    cases = [
        ("organisation of record k (middle)",
         [(f"UPDATE audit_log SET organisation = '0200000142' WHERE seq = {seq(mid)}",
           changed(mid))]),
        ("detail of record k (one character)",
         [(f"UPDATE audit_log SET detail = replace(detail, '\"', ' \"') "
           f"WHERE seq = {seq(mid + 7)}", changed(mid + 7))]),
        ("recorded_at of record k (+1 µs)",
         [(f"UPDATE audit_log SET recorded_at = recorded_at + interval '1 microsecond' "
           f"WHERE seq = {seq(mid - 5)}", changed(mid - 5))]),
        ("action of the first record (chain 0, chain_seq 1)",
         [(f"UPDATE audit_log SET action = CASE action WHEN 'principal.change' THEN "
           f"'principal.add' ELSE 'principal.change' END WHERE seq = {seq(0)}",
           changed(0))]),
        ("principal_id of record k",
         [(f"UPDATE audit_log SET principal_id = coalesce(principal_id, 0) + 1 "
           f"WHERE seq = {seq(mid + 1)}", changed(mid + 1))]),
        ("hash of record k",
         [(f"UPDATE audit_log SET hash = repeat('a', 64) WHERE seq = {seq(mid + 3)}",
           changed(mid + 3))]),
        ("hash of the last record (the highest seq)",
         [(f"UPDATE audit_log SET hash = repeat('b', 64) WHERE seq = {top}", changed(pt))]),
        ("prev_hash of record k",
         [(f"UPDATE audit_log SET prev_hash = repeat('c', 64) WHERE seq = {seq(mid + 11)}",
           changed(mid + 11, "link_mismatch"))]),
        ("record k deleted (middle of its chain: gap at the chain's next record)",
         [(f"DELETE FROM audit_log WHERE seq = {seq(k_del)}", deleted(k_del))]),
        ("the last record deleted (its chain's head is ahead)",
         [(f"DELETE FROM audit_log WHERE seq = {top}", (hd[ct][1], ct, pt, "gap"))]),
        ("the last 3 records of a chain deleted",
         [(f"DELETE FROM audit_log WHERE chain = {ct} AND chain_seq > {hd[ct][0] - 3}",
           (hd[ct][1], ct, pt - 2, "gap"))]),
        ("record 2000 in verify's order changed (end of the first verify page)",
         [(f"UPDATE audit_log SET object = object || 'x' WHERE seq = {seq(1999)}",
           changed(1999))]),
        ("record 2001 in verify's order deleted (start of the second page)",
         [(f"DELETE FROM audit_log WHERE seq = {seq(2000)}", deleted(2000))]),
        ("record 4001 in verify's order changed (third page)",
         [(f"UPDATE audit_log SET organisation = CASE organisation WHEN 'host' THEN "
           f"'0200000142' ELSE 'host' END WHERE seq = {seq(4000)}", changed(4000))]),
        ("two records changed: the first in verify's order is reported",
         [(f"UPDATE audit_log SET detail = detail || ' ' WHERE seq IN "
           f"({seq(mid + 20)}, {seq(mid - 20)})", changed(mid - 20))]),
        ("record k changed and its hash recomputed (link_mismatch at the next record of its "
         "chain; the last of a chain: hash_mismatch, its head holds the old hash)",
         [(recompute(seq(k_rec)), (seq(k_rec + 1), chain(k_rec), k_rec + 1, "link_mismatch")),
          # the record itself is consistent, but its head holds the old hash
          (recompute(top), (top, ct, pt, "hash_mismatch"))]),
        ("two records swapped (seq exchanged: hash_mismatch at the first in verify's order, "
         "which now bears the other's seq; chain_seq exchanged: link_mismatch)",
         [(swap("seq", seq(k_swap), seq(k_swap + 1)),
           (seq(k_swap + 1), chain(k_swap), k_swap, "hash_mismatch")),
          (swap("chain_seq", seq(k_swap), seq(k_swap + 1)),
           (seq(k_swap + 1), chain(k_swap), k_swap, "link_mismatch"))]),
    ]
    for what, rounds in cases:
        @tap.case(f"tampering: {what} -> verify broken at the expected record; restored: "
                  "intact again")
        def _(what=what, rounds=rounds):
            for sql, want in rounds:
                try:
                    tamper(sql)
                    broken(want, what)
                finally:
                    restore()
                intact_again(what)

    @tap.case("medaid audit verify: exit 5 with the chain broken (table: 'broken at record "
              "k (reason) in chain c'), 0 once restored")
    def _():
        p_ = mid + 50
        k, c = seq(p_), chain(p_)
        try:
            tamper(f"UPDATE audit_log SET organisation = CASE organisation WHEN 'host' THEN "
                   f"'0200000142' ELSE 'host' END WHERE seq = {k}")
            p = d.client("auditor", "audit", "verify")
            expect(p.returncode == 5, f"exit {p.returncode}: {p.stdout} {p.stderr}")
            j = json.loads(p.stdout)
            expect(j.get("broken_at") == k and j.get("chain") == c, p.stdout)
            p = d.client("auditor", "--format", "table", "audit", "verify")
            expect(p.returncode == 5 and
                   f"broken at record {k} (hash_mismatch) in chain {c}" in p.stdout,
                   f"table: exit {p.returncode}: {p.stdout!r}")
        finally:
            restore()
        p = d.client("auditor", "audit", "verify")
        expect(p.returncode == 0, f"restored: exit {p.returncode}: {p.stdout} {p.stderr}")

    @tap.case("after tampering: the copy dropped, the trail as before, writes chain on, "
              "verify intact")
    def _():
        sup(f"DROP TABLE IF EXISTS {COPY}")
        trig = sup("SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_log_append_only'")
        expect(trig == "O", f"append-only trigger state {trig!r}")
        create(d, "ocmw", decision_body(new_ssin()))
        v = verify(d)
        expect(v.get("intact") is True and v["records"] == state["n"] + 1, f"verify {v!r}")


# ---- test 7: privacy -----------------------------------------------------------------------
def privacy_tests(env, tap, d, st):
    @tap.case("the daemon log holds no SSIN asked about in audit query strings and no request "
              "body text (a marker in a decision and in a refused one)")
    def _():
        m = st["marker"]
        s = new_ssin()
        create(d, "ocmw", decision_body(s, reference=f"IT/{m}/ok"))
        bad = decision_body(new_ssin(), reference=f"IT/{m}/refused")
        bad["period"]["end"] = day(-30)
        r = d.request("ocmw", "POST", "/v1/decisions", bad)
        expect(r.status == 422, repr(r))
        r = d.request("provider", "POST", "/v1/coverage", f'{{"ssin": "{s}", "x": "{m}", '
                      '"service_date": 7}')
        expect(r.status in (400, 422), repr(r))
        get_json(d, "/v1/audit/consultations?" + qs(ssin=s))
        get_json(d, "/v1/audit/decisions?" + qs(ssin=s))
        get_json(d, "/v1/audit/coverage-as-of?" + qs(ssin=s, service_date=day(0),
                                                       care_type="general_practice",
                                                       known_at=utc_now()))
        problem(d.request("auditor", "GET", "/v1/audit/consultations?" +
                          qs(ssin=s[:10] + "0" if s[10] != "0" else s[:10] + "1")),
                400, "invalid_parameter")
        time.sleep(0.3)
        texts = [(p.name, p.read_text(errors="replace"))
                 for p in (env.tmp / "audit.log", d.stderr_path) if p.exists()]
        expect(texts, "no daemon log")
        found = []
        for name, text in texts:
            if m in text:
                found.append(f"{name}: body marker")
            for x in set(st["ssins_in_queries"] + [s]):
                if x in text:
                    found.append(f"{name}: SSIN {x}")
            orgs = {org for _, org in PRINCIPALS.values()}
            for line in text.splitlines():
                if "/v1/audit/" not in line:
                    continue
                ids = set(re.findall(r"(?<!\w)\d{11}(?!\w)", line)) - orgs
                if ids:
                    found.append(f"{name}: 11 digits {sorted(ids)} in {line[:200]!r}")
                    break
        expect(not found, "; ".join(found[:10]))
