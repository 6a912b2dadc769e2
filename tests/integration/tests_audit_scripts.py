"""Integration tests: the worked audit scripts of docs/auditing.md (docs/examples/).

Builds known data on a live medaidd (decisions of two OCMWs, coverage questions with
service dates last month, this month and before, changes this week), runs each script
as a subprocess with the auditor's certificate (MEDAID_* environment, the project's
client as MEDAID and on PATH), and checks its output exactly.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import time

from harness import (
    Daemon, PRINCIPALS, ROOT, clean_exit, expect, free_port, new_ssin, started, today,
)
from tests_api import decision_body

EXAMPLES = ROOT / "docs" / "examples"
WHO_CONSULTED = EXAMPLES / "who-consulted.sh"
OCMW_CHANGES = EXAMPLES / "ocmw-changes.sh"
CONSISTENT = EXAMPLES / "agreement-consistent.py"
REJECTED = EXAMPLES / "rejected-lines.sh"
REJECTED_CURL = EXAMPLES / "rejected-lines-curl.sh"
SCRIPTS = (WHO_CONSULTED, OCMW_CHANGES, CONSISTENT, REJECTED, REJECTED_CURL)
REJECTED_HEADER = "invoice,invoice_date,line,agreement,code,reason"

OCMW_X = PRINCIPALS["ocmw"][1]
OCMW_Y = PRINCIPALS["ocmw2"][1]
PROVIDER = PRINCIPALS["provider"][1]
PROVIDER2 = PRINCIPALS["provider2"][1]
WHO_HEADER = "provider,agreement,issued_at,service_date,outcome"


# ---------------------------------------------------------------------------
def script(env, d, *args, who="auditor", url=None):
    """Run one example script as principal `who`: (exit status, stdout, stderr)."""
    crt, key = env.cert(who)
    e = dict(os.environ)
    e.update({
        "HOME": str(env.home),
        "XDG_CONFIG_HOME": str(env.home / ".config"),
        "MEDAID_URL": url or d.url,
        "MEDAID_CERT": str(crt),
        "MEDAID_KEY": str(key),
        "MEDAID_CA": str(env.certs / "ca.crt"),
        "MEDAID": str(env.medaid),
        "PATH": f"{env.medaid.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "LC_ALL": "C.UTF-8",
    })
    e.pop("MEDAID_CONFIG", None)
    cmd = [str(args[0])] if str(args[0]).endswith(".sh") else [sys.executable, str(args[0])]
    p = subprocess.run(cmd + [str(a) for a in args[1:]], capture_output=True, text=True, env=e,
                       stdin=subprocess.DEVNULL, timeout=120)
    return p.returncode, p.stdout, p.stderr


def show(rc, out, err):
    return f"exit {rc}\n--- stdout\n{out}--- stderr\n{err}"


def create(d, who, body):
    r = d.request(who, "POST", "/v1/decisions", body)
    expect(r.status == 201 and isinstance(r.json, dict), f"create: {r!r}")
    return r.json


def change(d, who, did, verb, version, body=None):
    """suspend / resume / stop (POST) or update (PUT) with If-Match."""
    if verb == "update":
        r = d.request(who, "PUT", f"/v1/decisions/{did}", body, headers=[f"If-Match: {version}"])
    else:
        r = d.request(who, "POST", f"/v1/decisions/{did}/{verb}", body if body else {},
                      headers=[f"If-Match: {version}"])
    expect(r.status == 200 and (r.json or {}).get("version") == version + 1,
           f"{verb} {did}: {r!r}")
    return r.json


def ask(d, who, ssin, service_date, care_type="general_practice"):
    r = d.request(who, "POST", "/v1/coverage",
                  {"ssin": ssin, "service_date": service_date.isoformat(),
                   "care_type": care_type})
    expect(r.status == 200 and isinstance((r.json or {}).get("agreement"), str),
           f"coverage: {r!r}")
    return r.json


def outcome(answer):
    return "covered" if answer.get("covered") else answer["reason"]["code"]


def audit_list(d, path, query):
    """Every item of an audit list, page after page (the JSON form, not the stream)."""
    items, cursor = [], None
    for _ in range(10000):
        q = query + (f"&cursor={cursor}" if cursor else "") + "&limit=1000"
        r = d.request("auditor", "GET", f"{path}?{q}", max_time=60)
        expect(r.status == 200 and isinstance(r.json, dict), f"{path}: {r!r}")
        items += r.json["items"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("too many pages")


def offset(date):
    return (date - today()).days


# ---------------------------------------------------------------------------
def run(env, tap):
    d = Daemon(env, "audit_scripts")

    if not started(tap, d):
        return

    @tap.case("the scripts and their tools are there (medaid, curl, jq)")
    def _():
        for p in SCRIPTS:
            expect(p.exists() and os.access(p, os.X_OK), f"{p} missing or not executable")
        expect(env.medaid.exists(), f"{env.medaid} is missing")
        for tool in ("curl", "jq", "bash"):
            expect(shutil.which(tool), f"{tool} is not installed (jq: MEDAID_PACKAGES)")

    @tap.case("docs/auditing.md holds each of the scripts verbatim")
    def _():
        doc = (ROOT / "docs" / "auditing.md").read_text()
        for p in SCRIPTS:
            lang = "python" if p.suffix == ".py" else "bash"
            block = f"```{lang}\n{p.read_text()}```\n"
            expect(block in doc, f"docs/auditing.md does not hold {p.name} as it is")

    # ---- the data -----------------------------------------------------------------
    t = today()
    first_this = t.replace(day=1)
    last_prev = first_this - datetime.timedelta(days=1)
    first_prev = last_prev.replace(day=1)
    # a decision starts at most 60 days back; last month's service dates lie after it
    start = max(first_prev, t - datetime.timedelta(days=60))
    l1, l2 = last_prev, last_prev - datetime.timedelta(days=5)
    before = first_prev - datetime.timedelta(days=1)  # the month before last
    st = {}
    a, b, c = new_ssin(), new_ssin(), new_ssin()

    @tap.case("data: decisions of two OCMWs, questions last month, this month and before, "
              "changes this week")
    def _():
        # versions 1 (before any question)
        body_a = decision_body(a, start=offset(start), end=170,
                               covers=("general_practice", "miscellaneous"))
        st["d1"] = create(d, "ocmw", body_a)
        st["d2"] = create(d, "ocmw", decision_body(c, start=-5, end=100))
        st["d3"] = create(d, "ocmw2", decision_body(b, start=offset(start), end=100))
        time.sleep(1.1)  # questions in a later second than the versions they rest on
        q = st["q"] = []  # (who, ssin, service date, care type, answer), in issue order
        for who, ssin, date, ct in [
                ("provider", a, l2, "general_practice"),     # last month, covered
                ("provider2", a, l1, "miscellaneous"),       # last month, other provider
                ("provider2", a, l1, "pharmacy"),            # last month, care_type_absent
                ("provider", a, t, "general_practice"),      # this month (today)
                ("provider", a, first_this, "general_practice"),  # this month, first day
                ("provider", a, before, "general_practice"),  # the month before last
                ("provider", b, l1, "general_practice"),     # someone else, last month
        ]:
            q.append((who, ssin, date, ct, ask(d, who, ssin, date, ct)))
        expect(outcome(q[0][4]) == "covered" and outcome(q[1][4]) == "covered"
               and outcome(q[2][4]) == "care_type_absent" and outcome(q[3][4]) == "covered",
               f"unexpected answers: {[x[4] for x in q]!r}")
        time.sleep(1.1)
        # changes this week, each in its own second from here on
        st["since"] = change(d, "ocmw", st["d2"]["id"], "suspend", 1)["recorded_at"]
        change(d, "ocmw", st["d2"]["id"], "resume", 2)
        change(d, "ocmw", st["d2"]["id"], "stop", 3, {"end": (t + datetime.timedelta(
            days=30)).isoformat()})
        change(d, "ocmw2", st["d3"]["id"], "suspend", 1)
        # a later change of the decision the first answers rested on: from today,
        # prescriptions are required and the decision lasts longer
        new = decision_body(a, start=offset(start), end=200)
        new["covers"][0]["prescription_required"] = True
        st["d1v2"] = change(d, "ocmw", st["d1"]["id"], "update", 1, new)
        time.sleep(1.1)
        st["after"] = ask(d, "provider", a, t)
        expect(st["after"].get("covered") and st["after"]["decision"]["version"] == 2
               and st["after"]["cover"]["prescription_required"] is True,
               f"answer after the change: {st['after']!r}")

    if "after" not in st:
        return
    q = st["q"]

    # ---- who-consulted.sh ---------------------------------------------------------
    def consultations(ssin):
        return {i["agreement"]: i for i in audit_list(d, "/v1/audit/consultations",
                                                      f"ssin={ssin}")}

    @tap.case("who-consulted.sh SSIN: CSV header, then exactly last month's consultations "
              "of that person (provider, agreement, issued_at, service_date, outcome), "
              "in issue order; exit 0")
    def _():
        items = consultations(a)
        want = [WHO_HEADER]
        for who, ssin, date, ct, ans in q:
            if ssin == a and first_prev <= date <= last_prev:
                n = ans["agreement"]
                want.append(f"{PRINCIPALS[who][1]},{n},{items[n]['issued_at']},"
                            f"{date.isoformat()},{outcome(ans)}")
        expect(len(want) == 4, f"expected three rows: {want}")
        rc, out, err = script(env, d, WHO_CONSULTED, a)
        expect(rc == 0 and err == "", show(rc, out, err))
        expect(out == "\n".join(want) + "\n",
               "output differs:\n" + out + "--- expected\n" + "\n".join(want))
        for who, ssin, date, ct, ans in q:
            if not first_prev <= date <= last_prev:
                expect(ans["agreement"] not in out, f"{date} listed:\n{out}")

    @tap.case("who-consulted.sh SSIN YYYY-MM (this month): today's and the first day's, "
              "also the one after the decision changed; none of last month")
    def _():
        rc, out, err = script(env, d, WHO_CONSULTED, a, t.strftime("%Y-%m"))
        expect(rc == 0, show(rc, out, err))
        got = [line.split(",")[1] for line in out.splitlines()[1:]]
        want = [x[4]["agreement"] for x in q if x[1] == a and x[2] >= first_this]
        want.append(st["after"]["agreement"])
        expect(out.splitlines()[0] == WHO_HEADER and got == want, f"{want}\n{out}")

    @tap.case("who-consulted.sh for a person nobody asked about: the header alone, exit 0")
    def _():
        rc, out, err = script(env, d, WHO_CONSULTED, new_ssin())
        expect(rc == 0 and out == WHO_HEADER + "\n", show(rc, out, err))

    @tap.case("who-consulted.sh errors: no argument / bad SSIN exit 1, a provider's "
              "certificate exit 2 (refused), server down exit 3; nothing on stdout")
    def _():
        for args in ((), ("12345",), (a, "2026-13")):
            rc, out, err = script(env, d, WHO_CONSULTED, *args)
            expect(rc == 1 and out == "" and err, show(rc, out, err))
        rc, out, err = script(env, d, WHO_CONSULTED, a, who="provider")
        expect(rc == 2 and out == "" and "403" in err, show(rc, out, err))
        rc, out, err = script(env, d, WHO_CONSULTED, a,
                              url=f"https://localhost:{free_port()}")
        expect(rc == 3 and out == "" and err, show(rc, out, err))

    # ---- ocmw-changes.sh ----------------------------------------------------------
    now = datetime.datetime.now(datetime.timezone.utc)
    monday = (now.date() - datetime.timedelta(days=now.weekday())).isoformat() + "T00:00:00Z"

    def expected_changes(ocmw, since):
        """What ocmw-changes.sh should print, from the paged JSON list."""
        by = {}
        for v in audit_list(d, "/v1/audit/decisions", f"ocmw={ocmw}&changed_since={since}"):
            by.setdefault(v["decision"], []).append(v)
        lines = []
        for did in sorted(by):
            vs = sorted(by[did], key=lambda v: v["version"])
            lines.append(f"{did}\t{len(vs)}\t{','.join(v['change'] for v in vs)}\t"
                         f"{vs[-1]['status']}")
        return lines

    @tap.case("ocmw-changes.sh KBO: one line per decision of that OCMW changed this week "
              "(id, versions, changes, last status), the same as the paged list; exit 0")
    def _():
        rc, out, err = script(env, d, OCMW_CHANGES, OCMW_X)
        expect(rc == 0 and err == "", show(rc, out, err))
        lines = out.splitlines()
        d1, d2, d3 = st["d1"]["id"], st["d2"]["id"], st["d3"]["id"]
        expect(f"{d1}\t2\tcreate,update\tactive" in lines, f"{d1} not as expected:\n{out}")
        expect(f"{d2}\t4\tcreate,suspend,resume,stop\tstopped" in lines,
               f"{d2} not as expected:\n{out}")
        expect(not any(line.startswith(d3) for line in lines), f"{d3} (other OCMW) listed")
        expect(lines == expected_changes(OCMW_X, monday),
               f"differs from the paged list:\n{out}--- expected\n"
               + "\n".join(expected_changes(OCMW_X, monday)))
        other = {v["decision"] for v in audit_list(d, "/v1/audit/decisions", f"ocmw={OCMW_Y}")}
        expect(not other & {line.split("\t")[0] for line in lines},
               f"decisions of {OCMW_Y} listed:\n{out}")

    @tap.case("ocmw-changes.sh for the other OCMW: its own decision (create,suspend), "
              "none of the first")
    def _():
        rc, out, err = script(env, d, OCMW_CHANGES, OCMW_Y)
        expect(rc == 0, show(rc, out, err))
        lines = out.splitlines()
        expect(f"{st['d3']['id']}\t2\tcreate,suspend\tsuspended" in lines, out)
        expect(not any(line.startswith((st["d1"]["id"], st["d2"]["id"])) for line in lines),
               out)
        expect(lines == expected_changes(OCMW_Y, monday), out)

    @tap.case("ocmw-changes.sh KBO SINCE: only the versions recorded since then")
    def _():
        rc, out, err = script(env, d, OCMW_CHANGES, OCMW_X, st["since"])
        expect(rc == 0, show(rc, out, err))
        lines = out.splitlines()
        expect(f"{st['d1']['id']}\t1\tupdate\tactive" in lines, out)
        expect(f"{st['d2']['id']}\t3\tsuspend,resume,stop\tstopped" in lines, out)
        expect(lines == expected_changes(OCMW_X, st["since"]), out)
        rc, out, err = script(env, d, OCMW_CHANGES, OCMW_X, "2999-01-01")
        expect(rc == 0 and out == "", show(rc, out, err))

    @tap.case("ocmw-changes.sh errors: bad KBO exit 1; invalid KBO check digits exit 2 "
              "(refused); a provider's certificate exit 2; server down exit 3")
    def _():
        for args in ((), ("12345",), (OCMW_X, "yesterday")):
            rc, out, err = script(env, d, OCMW_CHANGES, *args)
            expect(rc == 1 and out == "" and err, show(rc, out, err))
        rc, out, err = script(env, d, OCMW_CHANGES, "0212345678")
        expect(rc == 2 and out == "" and ("400" in err or "422" in err), show(rc, out, err))
        rc, out, err = script(env, d, OCMW_CHANGES, OCMW_X, who="provider")
        expect(rc == 2 and out == "" and "403" in err, show(rc, out, err))
        rc, out, err = script(env, d, OCMW_CHANGES, OCMW_X,
                              url=f"https://localhost:{free_port()}")
        expect(rc == 3 and out == "" and err, show(rc, out, err))

    # ---- agreement-consistent.py --------------------------------------------------
    @tap.case("agreement-consistent.py: an agreement issued before the decision changed "
              "is consistent with the data of its day (exit 0, \"consistent\")")
    def _():
        n = q[3][4]["agreement"]  # today, version 1, then the decision changed
        expect(q[3][4]["decision"]["version"] == 1, repr(q[3][4]))
        rc, out, err = script(env, d, CONSISTENT, n)
        expect(rc == 0 and out == "consistent\n" and err == "", show(rc, out, err))

    @tap.case("agreement-consistent.py: consistent for last month's, another provider's, "
              "a refusal (care_type_absent), the month before last, and the answer "
              "after the change")
    def _():
        for ans in [x[4] for x in q] + [st["after"]]:
            rc, out, err = script(env, d, CONSISTENT, ans["agreement"])
            expect(rc == 0 and out == "consistent\n",
                   f"{ans['agreement']} ({outcome(ans)}): " + show(rc, out, err))

    @tap.case("agreement-consistent.py: create, ask, suspend, ask, resume at once (likely "
              "within one second; issued_at is given to the second): both consistent")
    def _():
        s = new_ssin()
        dec = create(d, "ocmw", decision_body(s, start=-3, end=60))
        g1 = ask(d, "provider", s, t)
        change(d, "ocmw", dec["id"], "suspend", 1)
        g2 = ask(d, "provider2", s, t, "miscellaneous")  # the hospital: a care type it asks
        change(d, "ocmw", dec["id"], "resume", 2)
        expect(outcome(g1) == "covered" and outcome(g2) == "suspended", f"{g1!r}\n{g2!r}")
        for g in (g1, g2):
            rc, out, err = script(env, d, CONSISTENT, g["agreement"])
            expect(rc == 0 and out == "consistent\n", f"{g['agreement']}: " + show(rc, out, err))

    @tap.case("agreement-consistent.py errors: bad number, unknown agreement, a provider's "
              "certificate, server down: exit 2, nothing on stdout")
    def _():
        for args in ((), ("42",)):
            rc, out, err = script(env, d, CONSISTENT, *args)
            expect(rc == 2 and out == "" and "usage" in err, show(rc, out, err))
        rc, out, err = script(env, d, CONSISTENT, "A1999-99999999")
        expect(rc == 2 and out == "" and "404" in err, show(rc, out, err))
        rc, out, err = script(env, d, CONSISTENT, q[0][4]["agreement"], who="ocmw")
        expect(rc == 2 and out == "" and err, show(rc, out, err))
        rc, out, err = script(env, d, CONSISTENT, q[0][4]["agreement"],
                              url=f"https://localhost:{free_port()}")
        expect(rc == 2 and out == "" and err, show(rc, out, err))

    rejected_lines_tests(env, tap, d)
    clean_exit(tap, d)


# ---- rejected-lines.sh, rejected-lines-curl.sh -----------------------------------------
def rejected_lines_tests(env, tap, d):
    from tests_invoices import SAMPLE, add_fund, agreement, full, line, submit
    from tests_agreements import import_csv

    st = {}
    m = today().strftime("%Y-%m")

    @tap.case("data: invoices of two providers this month, with lines rejected for five "
              "reasons, one invoice all accepted")
    def _():
        add_fund(env)
        r = import_csv(d, SAMPLE.read_text())
        expect(r.status == 200, f"import: {r!r}")
        a1, i1, _ = agreement(d)
        a2, i2, _ = agreement(d)
        a3, _, _ = agreement(d)
        b1, _, _ = agreement(d, who="provider2", care_type="miscellaneous")  # a hospital
        v = d.request("provider", "POST", f"/v1/agreements/{a3}/void", {})
        expect(v.status == 200, f"void: {v!r}")
        answers = []
        for who, lines in [
                ("provider", [full(a1, i1, "101076"),
                              line(a1, "101032", 1, i1["101032"]["state_cents"] + 1, 0),
                              line(b1, "101076", 1, 0, 0)]),
                ("provider", [line(a3, "101076", 1, 0, 0), line(a1, "101076", 1, 0, 0)]),
                ("provider", [full(a2, i2, "101076")]),
                ("provider2", [line(b1, "999999", 1, 0, 0)]),
        ]:
            r = submit(d, lines, who=who)
            expect(r.status == 201, f"invoice: {r!r}")
            answers.append(r.json)
        got = [[ln["rejected"]["code"] if not ln["accepted"] else "accepted" for ln in a["lines"]]
               for a in answers]
        expect(got == [["accepted", "amount_exceeded", "unknown_agreement"],
                       ["agreement_void", "quantity_exceeded"], ["accepted"],
                       ["code_not_agreed"]], f"outcomes {got}")
        st["answers"] = answers

    if "answers" not in st:
        return

    def want(org):
        rows = [REJECTED_HEADER]
        for a in sorted(st["answers"], key=lambda a: a["invoice"]):
            if a["provider"] != org:
                continue
            for ln in a["lines"]:
                if not ln["accepted"]:
                    rows.append(f"{a['invoice']},{a['invoice_date']},{ln['line']},"
                                f"{ln['agreement']},{ln['code']},{ln['rejected']['code']}")
        return "\n".join(rows) + "\n"

    @tap.case("rejected-lines.sh and rejected-lines-curl.sh PROVIDER YYYY-MM (this month): "
              "exactly that provider's rejected lines, in order, the same from both; exit 0")
    def _():
        for org, n in ((PROVIDER, 4), (PROVIDER2, 1)):
            w = want(org)
            expect(len(w.splitlines()) == n + 1, w)
            for sc in (REJECTED, REJECTED_CURL):
                rc, out, err = script(env, d, sc, org, m)
                expect(rc == 0 and err == "", f"{sc.name}: " + show(rc, out, err))
                expect(out == w, f"{sc.name} {org}:\n{out}--- expected\n{w}")

    @tap.case("rejected-lines*.sh PROVIDER (last month: no invoices then), and the fund's "
              "certificate: the header alone / the same rows")
    def _():
        for sc in (REJECTED, REJECTED_CURL):
            rc, out, err = script(env, d, sc, PROVIDER)
            expect(rc == 0 and out == REJECTED_HEADER + "\n", f"{sc.name}: " + show(rc, out, err))
            rc, out, err = script(env, d, sc, PROVIDER, m, who="fund")
            expect(rc == 0 and out == want(PROVIDER), f"{sc.name} fund: " + show(rc, out, err))

    @tap.case("rejected-lines*.sh errors: usage exit 1, a provider's certificate exit 2 "
              "(403), server down exit 3; nothing on stdout")
    def _():
        for sc in (REJECTED, REJECTED_CURL):
            for args in ((), ("12345",), (PROVIDER, "2026-13")):
                rc, out, err = script(env, d, sc, *args)
                expect(rc == 1 and out == "" and err, f"{sc.name} {args}: " + show(rc, out, err))
            rc, out, err = script(env, d, sc, PROVIDER, m, who="provider")
            expect(rc == 2 and out == "" and "403" in err, f"{sc.name}: " + show(rc, out, err))
            rc, out, err = script(env, d, sc, PROVIDER, m, url=f"https://localhost:{free_port()}")
            expect(rc == 3 and out == "" and err, f"{sc.name}: " + show(rc, out, err))
