"""Integration tests of reads in the audit trail (issue "Hold under attack and faults",
item 8): every read of a person's data leaves one read record before it is answered,
written with the per-turn group commit; a read whose record cannot be written gives
no data; auditors list who read a person's data (GET /v1/audit/reads, `medaid audit
reads`)."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

from harness import PRINCIPALS, Daemon, expect, new_ssin
from tests_api import decision_body, problem
from tests_audit import ask, one, principal_id, q
from tests_lifecycle import create

TS_US_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
FN = "audit_append_reads(bigint[], text[], text[], text[])"


def reads(d, ssin, who="auditor", **params):
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    return d.request(who, "GET", f"/v1/audit/reads?ssin={ssin}{extra}")


def run(env, tap):
    d = Daemon(env, "reads")

    @tap.case("medaidd starts and answers /v1/health")
    def _():
        d.start()

    if d.proc is None or d.proc.poll() is not None:
        return
    st = {}
    pid = {w: principal_id(env, w) for w in ("ocmw", "provider", "auditor")}

    @tap.case("GET /v1/audit/reads?ssin: the person's coverage question and every read of "
              "their data, in order, with who (principal, role, organisation) and when; "
              "another person's reads not listed; the query itself is listed")
    def _():
        s, other = new_ssin(), new_ssin()
        dec = create(d, "ocmw", decision_body(s))
        create(d, "ocmw", decision_body(other))
        j = ask(d, s)
        ask(d, other)
        expect(d.request("ocmw", "GET", f"/v1/decisions/{dec['id']}").status == 200, "read")
        expect(d.request("auditor", "GET", f"/v1/beneficiaries/{s}/decisions").status == 200,
               "lookup")
        expect(d.request("ocmw", "GET", f"/v1/beneficiaries/{other}/decisions").status == 200,
               "lookup of the other person")
        r = reads(d, s)
        expect(r.status == 200, repr(r))
        items = r.json["items"]
        got = [(i["action"], i["object"], i["principal"], i["role"], i["organisation"])
               for i in items]
        want = [("agreement.issue", j["agreement"], pid["provider"], "provider",
                 PRINCIPALS["provider"][1]),
                ("read.decision", f"{dec['id']}/1", pid["ocmw"], "ocmw", PRINCIPALS["ocmw"][1]),
                ("read.beneficiary", "beneficiary", pid["auditor"], "auditor",
                 PRINCIPALS["auditor"][1]),
                ("read.audit.reads", "/v1/audit/reads", pid["auditor"], "auditor",
                 PRINCIPALS["auditor"][1])]
        expect(got == want, f"reads of {s}: {got!r}, expected {want!r}")
        expect(r.json["next_cursor"] is None, repr(r.json))
        seqs = [i["seq"] for i in items]
        expect(seqs == sorted(seqs) and all(TS_US_RE.match(i["recorded_at"]) for i in items),
               f"seq order and recorded_at: {items!r}")
        expect(all("ssin" not in i for i in items), "the items repeat the SSIN")
        st["s"], st["n"] = s, len(items)

    @tap.case("reads: limit and cursor page through the list (each query is one more read)")
    def _():
        s = st["s"]
        r1 = reads(d, s, limit=2)
        expect(r1.status == 200 and len(r1.json["items"]) == 2 and r1.json["next_cursor"],
               repr(r1))
        r2 = reads(d, s, cursor=r1.json["next_cursor"])
        expect(r2.status == 200, repr(r2))
        acts = [i["action"] for i in r2.json["items"]]
        expect(acts == ["read.beneficiary"] + ["read.audit.reads"] * 3,
               f"page 2: {acts!r}")
        expect(str(r1.json["items"][-1]["seq"]) == r1.json["next_cursor"], repr(r1.json))

    @tap.case("reads: 400 without or with a bad ssin, a bad limit or cursor, an unknown "
              "parameter; 403 for every role but auditor")
    def _():
        problem(d.request("auditor", "GET", "/v1/audit/reads"), 400, "invalid_parameter")
        problem(reads(d, "12345678901"), 400, "invalid_parameter")
        problem(reads(d, st["s"], limit=0), 400, "invalid_parameter")
        problem(reads(d, st["s"], cursor="x1"), 400, "invalid_parameter")
        problem(reads(d, st["s"], since="2026-01-01"), 400, "unknown_parameter")
        for who in ("ocmw", "provider", "admin"):
            problem(reads(d, st["s"], who=who), 403, "forbidden")

    @tap.case("medaid audit reads --ssin: the list as JSON (exit 0); without --ssin: usage")
    def _():
        p = d.client("auditor", "audit", "reads", "--ssin", st["s"])
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        acts = [i["action"] for i in json.loads(p.stdout)["items"]]
        expect(acts[:3] == ["agreement.issue", "read.decision", "read.beneficiary"],
               f"{acts!r}")
        p = d.client("auditor", "audit", "reads")
        expect(p.returncode == 1 and "--ssin" in p.stderr, f"exit {p.returncode}: {p.stderr}")

    @tap.case("40 concurrent reads: exactly 40 read records, each committed before its answer")
    def _():
        s = new_ssin()
        dec = create(d, "ocmw", decision_body(s))
        base = int(one(env, "SELECT count(*) FROM audit_log WHERE action = 'read.decision'"))

        def get(_):
            r = d.request("ocmw", "GET", f"/v1/decisions/{dec['id']}")
            # the record is in the trail when the answer is
            n = int(one(env, "SELECT count(*) FROM audit_log WHERE action = 'read.decision' "
                             f"AND object = '{dec['id']}/1'"))
            return r.status, n

        with ThreadPoolExecutor(8) as ex:
            res = list(ex.map(get, range(40)))
        expect(all(st_ == 200 for st_, _ in res), repr(res[:5]))
        expect(all(n >= 1 for _, n in res), f"an answer came before its record: {res!r}")
        now = int(one(env, "SELECT count(*) FROM audit_log WHERE action = 'read.decision'"))
        expect(now - base == 40, f"{now - base} read records for 40 reads")

    @tap.case("a read whose record cannot be written is not answered with data (500), and "
              "leaves nothing; once it can, the read works again")
    def _():
        s = new_ssin()
        dec = create(d, "ocmw", decision_body(s))
        env.psql_as("medaid", f"REVOKE EXECUTE ON FUNCTION {FN} FROM medaid_app")
        try:
            r = d.request("ocmw", "GET", f"/v1/decisions/{dec['id']}")
            expect(r.status == 500 and s.encode() not in r.body, f"{r!r}")
        finally:
            env.psql_as("medaid", f"GRANT EXECUTE ON FUNCTION {FN} TO medaid_app")
        n = q(env, f"SELECT count(*) FROM audit_log WHERE object = '{dec['id']}/1' "
                   "AND action = 'read.decision'")[0][0]
        expect(n == "0", f"{n} read records for a refused read")
        expect(d.request("ocmw", "GET", f"/v1/decisions/{dec['id']}").status == 200, "again")

    @tap.case("the daemon's role cannot append anything but read records, nor for a "
              "principal that does not exist")
    def _():
        for args in (f"ARRAY[{pid['ocmw']}]::bigint[], ARRAY['decision.create'], ARRAY['x'], "
                     "ARRAY['{}']",
                     "ARRAY[999999]::bigint[], ARRAY['read.decision'], ARRAY['x'], ARRAY['{}']"):
            p = env.psql_as("medaid_app", f"SELECT audit_append_reads({args})", check=False)
            expect(p.returncode != 0 and ("not a read record" in p.stderr
                                          or "no such principal" in p.stderr),
                   f"{args}: {p.returncode} {p.stderr}")

    @tap.case("medaidd stops cleanly")
    def _():
        rc = d.stop()
        expect(rc == 0, f"exit {rc}")
