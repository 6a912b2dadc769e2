#!/usr/bin/python3
"""Integration tests of issue 10 (part): provider kinds (medaidd principal add --kind,
provider_kind_mismatch in its place in the precedence), the state of the monthly cap in
coverage answers (several agreements, a void, concurrent questions), and the provider's
view of the card (GET /v1/beneficiaries/{ssin}/card, its consultation number, in the audit
trail and in /v1/audit/consultations)."""

import json
import re

from harness import (
    Daemon, PRINCIPALS, clean_exit, day, expect, lib, new_ssin, started,
)
from tests_agreements import (
    SAMPLE, ask, bad_ssin, capped_person, cover, import_csv, person, question,
)
from tests_api import not_covered, problem
from tests_lifecycle import concurrent_raw, editable, ok_version, put, raw_http

GP_ORG = PRINCIPALS["provider"][1]        # general_practitioner
HOSPITAL_ORG = PRINCIPALS["provider2"][1]  # hospital
CARD_RE = re.compile(r"^C[0-9]{4}-[0-9]{8}$")
AMOUNT_KEYS = ("fee_cents", "state_cents", "ocmw_cents", "patient_cents", "cap_cents",
               "patient_share_cap_cents", "supplements_cap_cents", "designated_providers")


def run(env, tap):
    d = Daemon(env, "kinds", workers=4, db_pool_size=8)
    if not started(tap, d):
        return
    r = import_csv(d, SAMPLE.read_text())
    expect(r.status == 200, f"tariffs: {r!r}")
    kind_tests(env, tap, d)
    cap_tests(env, tap, d)
    card_tests(env, tap, d)
    clean_exit(tap, d)


def reason(r):
    expect(r.status == 200, repr(r))
    return ((r.json or {}).get("reason") or {}).get("code") if not r.json.get("covered") else None


# ---- kinds --------------------------------------------------------------------------------
def kind_tests(env, tap, d):
    t0 = day(0)

    @tap.case("a GP asking hospitalisation: refused provider_kind_mismatch (an agreement, with "
              "a message); the hospital is covered; the GP is covered for general practice")
    def _():
        s, _v = person(d, [cover("hospitalisation"), cover("ambulatory_hospital"),
                           cover("general_practice")])
        r = ask(d, s, t0, "hospitalisation", who="provider")
        not_covered(r, "provider_kind_mismatch")
        expect(re.match(r"^A[0-9]{4}-[0-9]{8}$", r.json.get("agreement") or "")
               and r.json["reason"].get("message"), repr(r))
        row = env.psql(f"SELECT reason FROM agreement WHERE number = '{r.json['agreement']}'")
        expect(row == "provider_kind_mismatch", f"recorded reason {row!r}")
        expect(ask(d, s, t0, "hospitalisation", who="provider2").json.get("covered") is True,
               "the hospital asking hospitalisation")
        expect(ask(d, s, t0, who="provider").json.get("covered") is True, "the GP, GP care")
        not_covered(ask(d, s, t0, who="provider2"), "provider_kind_mismatch")
        # a batch is judged the same way, question by question
        b = d.request("provider", "POST", "/v1/coverage/batch",
                      {"questions": [question(s, t0, "hospitalisation"), question(s, t0)]})
        codes = [a.get("covered") or a["reason"]["code"] for a in (b.json or {})["answers"]]
        expect(codes == ["provider_kind_mismatch", True], f"batch: {codes!r}")

    @tap.case("precedence with two reasons: service_date_too_old > provider_kind_mismatch > "
              "deceased > no_decision; invalid_ssin > provider_kind_mismatch")
    def _():
        too_old = day(-75)
        not_covered(ask(d, new_ssin(), too_old, "hospitalisation"), "service_date_too_old")
        not_covered(ask(d, new_ssin(), t0, "hospitalisation"), "provider_kind_mismatch")
        not_covered(ask(d, bad_ssin(new_ssin()), t0, "hospitalisation"), "invalid_ssin")
        s, v = person(d, [cover("general_practice"), cover("pharmacy")])
        b = editable(v)
        b["beneficiary"]["death_date"] = day(-1)
        ok_version(put(d, "ocmw", v["id"], b, if_match=1), 200, v["id"], 2, "active")
        not_covered(ask(d, s, t0, "pharmacy"), "provider_kind_mismatch")   # GP: both apply
        not_covered(ask(d, s, t0, "pharmacy", who="provider2"), "deceased")
        not_covered(ask(d, s, t0), "deceased")

    @tap.case("medaidd principal add: a provider needs --kind, other roles take none, a "
              "hospital needs 710/720, transport a KBO number; list shows the kind")
    def _():
        for n in ("kindx", "kindy"):
            lib(f'_ca_leaf "{env.certs}" {n} "/O=medaid tests/CN={n}" "${{_client_ext[@]}}"')
        crt = str(env.certs / "kindx.crt")

        def add(*a):
            return env.medaidd_cmd("principal", "add", "--cert", crt, *a)
        for args, why in ((("--role", "provider", "--org", GP_ORG), "needs --kind"),
                          (("--role", "ocmw", "--org", "0212345668", "--kind", "hospital"),
                           "for providers only"),
                          (("--role", "provider", "--org", GP_ORG, "--kind", "hospital"),
                           "710 or 720"),
                          (("--role", "provider", "--org", GP_ORG, "--kind", "medical_transport"),
                           "KBO"),
                          (("--role", "provider", "--org", GP_ORG, "--kind", "dentist"),
                           "unknown kind")):
            p = add(*args)
            expect(p.returncode == 1 and why in p.stderr, f"{args}: {p.returncode} {p.stderr}")
        n = env.psql("SELECT count(*) FROM principal WHERE name LIKE '%kindx%'")
        expect(n == "0", f"nothing registered: {n}")
        env.principal_add("kindy", "provider", "0212345668", kind="medical_transport")
        p = env.medaidd_cmd("principal", "list")
        line = [x for x in p.stdout.splitlines() if "integration kindy" in x]
        expect(p.returncode == 0 and line and " medical_transport " in line[0], p.stdout)
        hosp = [x for x in p.stdout.splitlines() if "integration provider2 " in x]
        expect(hosp and " hospital " in hosp[0], f"provider2 listed as hospital: {p.stdout}")
        rec = env.psql("SELECT detail FROM audit_log WHERE action = 'principal.add' "
                       "ORDER BY seq DESC LIMIT 1")
        expect(json.loads(rec).get("kind") == "medical_transport", f"trail: {rec}")
        s, _v = person(d, [cover("medical_transport", designated=["0212345668"]),
                           cover("general_practice")])
        expect(ask(d, s, t0, "medical_transport", who="kindy").json.get("covered") is True,
               "the transport firm asking transport")
        not_covered(ask(d, s, t0, who="kindy"), "provider_kind_mismatch")


# ---- caps ---------------------------------------------------------------------------------
def caps_of(j):
    return (j.get("caps") or {}).get("patient_share")


def cap_tests(env, tap, d):
    t0 = day(0)
    items = [{"code": "101076"}]  # patient share 600

    @tap.case("cap 1000, share 600: three answers say used/granted/remaining 0/600/400, "
              "600/400/0, 1000/0/0; void the first; the next says 400/600/0; each agrees with "
              "the agreements recorded before it")
    def _():
        s, _v = capped_person(d, 1000)
        got = []
        for _ in range(3):
            j = ask(d, s, t0, items=items).json
            got.append(j)
        st = [caps_of(j) for j in got]
        want = [(1000, 0, 600, 400), (1000, 600, 400, 0), (1000, 1000, 0, 0)]
        expect([(c["cap_cents"], c["used_cents"], c["granted_cents"], c["remaining_cents"])
                for c in st] == want, f"caps: {st!r}")
        expect([j["totals"]["ocmw_cents"] for j in got] == [600, 400, 0], repr(got))
        v = d.request("provider", "POST", f"/v1/agreements/{got[0]['agreement']}/void")
        expect(v.status == 200, repr(v))
        j = ask(d, s, t0, items=items).json
        c = caps_of(j)
        expect((c["used_cents"], c["granted_cents"], c["remaining_cents"]) == (400, 600, 0),
               f"after the void: {c!r}")
        # independently: what the month's agreements (not voided) granted before this one
        before = env.psql(
            "SELECT coalesce(sum(a.cap_cents), 0) FROM agreement a WHERE a.ssin = "
            f"'{s}' AND a.number < '{j['agreement']}' AND NOT EXISTS (SELECT 1 FROM "
            "agreement_void v WHERE v.number = a.number)")
        expect(before == "400", f"granted before it, from the table: {before}")
        # the GET gives the same bytes, the cap state included
        g = d.request("provider", "GET", f"/v1/agreements/{j['agreement']}")
        expect(g.json == j, f"GET: {g!r}")
        # a cover paid in full has no cap: no caps
        s2, _ = person(d, [cover("general_practice", share="full")])
        expect("caps" not in ask(d, s2, t0, items=items).json, "no cap, no caps")

    @tap.case("40 simultaneous questions, cap 10000: every answer's used_cents is what the "
              "agreements numbered before it granted; used + granted + remaining = cap")
    def _():
        s, _v = capped_person(d, 10000)
        body = json.dumps(question(s, t0, items=items)).encode()
        res = concurrent_raw(d, ["provider"] * 40, raw_http("POST", "/v1/coverage", body))
        bad = [(st, b[:200]) for st, b in res if st != 200]
        expect(not bad, f"not 200: {bad[:3]!r}")
        ans = sorted((json.loads(b) for _st, b in res), key=lambda a: a["agreement"])
        granted_before = 0
        for a in ans:
            c = caps_of(a)
            expect(c["used_cents"] == granted_before and c["granted_cents"] ==
                   a["totals"]["ocmw_cents"] and c["cap_cents"] == 10000 and
                   c["used_cents"] + c["granted_cents"] + c["remaining_cents"] == 10000,
                   f"{a['agreement']}: {c!r} (granted before: {granted_before})")
            granted_before += c["granted_cents"]
        expect(granted_before == 10000, f"granted in all: {granted_before}")
        used = env.psql(f"SELECT used_cents FROM cap_usage WHERE ssin = '{s}'")
        expect(used == "10000", f"cap_usage {used}")


# ---- the card -----------------------------------------------------------------------------
def card(d, ssin, who="provider", **q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    return d.request(who, "GET", f"/v1/beneficiaries/{ssin}/card" + (f"?{qs}" if qs else ""))


def no_amounts(j):
    text = json.dumps(j)
    expect(not any(k in text for k in AMOUNT_KEYS), f"amounts or lists in a card: {text}")


def card_tests(env, tap, d):
    t0 = day(0)
    st = {}

    @tap.case("the card for the GP and for the hospital: the covers each kind may ask, "
              "designated yes/no, decision and version, OCMW; other care types with their "
              "reasons; never an amount; its own consultation number, recorded and in the trail")
    def _():
        s, v = person(d, [cover("general_practice", share="partial", cap=1000,
                                designated=[GP_ORG]),
                          cover("hospitalisation", designated=["71099999999"]),
                          cover("ambulatory_hospital"), cover("pharmacy", start=-10, end=-2)])
        st.update(ssin=s, v=v)
        r = card(d, s, date=t0)
        expect(r.status == 200 and CARD_RE.match(r.json.get("consultation") or ""), repr(r))
        j = r.json
        no_amounts(j)
        expect(j["ssin"] == s and j["from"] == t0 and j["to"] == t0 and
               j["provider_kind"] == "general_practitioner", repr(j))
        expect([c["care_type"] for c in j["covers"]] == ["general_practice"], repr(j))
        c = j["covers"][0]
        expect(c["designated"] is True and c["decision"] == {"id": v["id"], "version": 1,
                                                            "ocmw": PRINCIPALS["ocmw"][1]}
               and c["period"] == {"start": day(-10), "end": day(170)}
               and c["prescription_required"] is False and c["convention"] is False
               and c["urgent_attestation_required"] is False, repr(c))
        expect([(n["care_type"], n["reason"]["code"]) for n in j["not_covered"]] ==
               [("miscellaneous", "care_type_absent")], repr(j))
        h = card(d, s, who="provider2", date=t0).json
        st["hospital"] = h["consultation"]
        no_amounts(h)
        expect(h["provider_kind"] == "hospital" and
               [(c["care_type"], c["designated"]) for c in h["covers"]] ==
               [("hospitalisation", False), ("ambulatory_hospital", True)], repr(h))
        expect(sorted((n["care_type"], n["reason"]["code"]) for n in h["not_covered"]) ==
               [("medical_transport", "care_type_absent"),
                ("miscellaneous", "care_type_absent"),
                ("pharmacy", "care_type_inactive")], repr(h))
        row = env.psql("SELECT provider_org, ssin, date_from, date_to, covered, reasons, answer "
                       f"FROM card_consultation WHERE number = '{j['consultation']}'")
        expect(row == f"{GP_ORG}|{s}|{t0}|{t0}|t|{{care_type_absent}}|{r.body.decode()}",
               f"recorded: {row!r}")
        rec = env.psql("SELECT organisation, detail FROM audit_log WHERE action = "
                       f"'card.consult' AND object = '{j['consultation']}'")
        org, detail = rec.split("|", 1)
        expect(org == GP_ORG and json.loads(detail)["ssin"] == s, f"trail: {rec!r}")
        st["gp"] = j["consultation"]

    @tap.case("the card over a period: runs of days (a cover that ended, days in the future, "
              "the version of each day); at most 31 days")
    def _():
        s, v = person(d, [cover("pharmacy", start=-10, end=-3)], start=-10, end=30)
        r = card(d, s, who="provider2", **{"from": day(-5), "to": day(2)})
        expect(r.status == 200, repr(r))
        j = r.json
        ph = [(c["from"], c["to"]) for c in j["covers"] if c["care_type"] == "pharmacy"]
        expect(ph == [(day(-5), day(-3))], f"pharmacy covered: {ph!r}: {j!r}")
        nph = [(n["from"], n["to"], n["reason"]["code"]) for n in j["not_covered"]
               if n["care_type"] == "pharmacy"]
        expect(nph == [(day(-2), day(0), "care_type_inactive"),
                       (day(1), day(2), "service_date_in_future")], f"{nph!r}")
        ok31 = card(d, s, who="provider2", **{"from": day(-30), "to": day(0)})
        expect(ok31.status == 200, f"31 days: {ok31!r}")
        problem(card(d, s, **{"from": day(-31), "to": day(0)}), 400, "invalid_parameter")
        problem(card(d, s, **{"from": day(0), "to": day(-1)}), 400, "invalid_parameter")
        problem(card(d, s, **{"from": day(0)}), 400, "invalid_parameter")
        problem(card(d, s, date=t0, to=t0), 400, "invalid_parameter")
        problem(card(d, s), 400, "invalid_parameter")
        problem(card(d, s, date="2026-13-01"), 400, "invalid_parameter")
        problem(card(d, bad_ssin(s), date=t0), 400, "invalid_parameter")
        problem(card(d, s, who="ocmw", date=t0), 403, "forbidden")
        problem(card(d, s, who="auditor", date=t0), 403, "forbidden")
        # a person without any decision: every care type of the kind, no_decision
        n = card(d, new_ssin(), date=t0).json
        expect(n["covers"] == [] and {x["reason"]["code"] for x in n["not_covered"]} ==
               {"no_decision"}, repr(n))

    @tap.case("GET /v1/audit/consultations lists card consultations (kind card) next to "
              "coverage answers (kind coverage), filtered by SSIN, provider and outcome")
    def _():
        s = st["ssin"]
        ask(d, s, t0)
        r = d.request("auditor", "GET", f"/v1/audit/consultations?ssin={s}")
        items = (r.json or {}).get("items") or []
        kinds = [(i["kind"], i.get("agreement") or i.get("consultation")) for i in items]
        cards = [n for k, n in kinds if k == "card"]
        expect(cards == [st["gp"], st["hospital"]] and
               any(k == "coverage" for k, _n in kinds), f"items: {kinds!r}")
        c = [i for i in items if i["kind"] == "card"][0]
        expect(c["provider"] == GP_ORG and c["covered"] is True and c["from"] == t0 and
               c["reasons"] == ["care_type_absent"], repr(c))
        r = d.request("auditor", "GET",
                      f"/v1/audit/consultations?ssin={s}&provider={HOSPITAL_ORG}"
                      "&outcome=care_type_inactive")
        got = [i.get("consultation") for i in (r.json or {}).get("items") or []]
        expect(got == [st["hospital"]], f"filtered: {r!r}")
        r = d.request("auditor", "GET", f"/v1/audit/consultations?cursor={st['gp']}&ssin={s}")
        got = [i.get("consultation") for i in (r.json or {}).get("items") or []]
        expect(r.status == 200 and got == [st["hospital"]], f"after the cursor: {r!r}")

    @tap.case("medaid card SSIN --date D (and --from/--to): the table; audit as-of --provider "
              "judges the designation")
    def _():
        s = st["ssin"]
        p = d.client("provider", "--format", "table", "card", s, "--date", t0)
        expect(p.returncode == 0 and "general_practice" in p.stdout and "consultation C" in
               p.stdout and "care_type_absent" in p.stdout, f"{p.returncode} {p.stdout}")
        p = d.client("provider", "--format", "json", "card", s, "--from", day(-1), "--to", t0)
        expect(p.returncode == 0 and CARD_RE.match(json.loads(p.stdout)["consultation"]),
               p.stdout)
        p = d.client("provider", "card", s)
        expect(p.returncode == 1 and "--date" in p.stderr, f"no date: {p.returncode} {p.stderr}")
        known = env.psql("SELECT to_char(now() AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        args = ["audit", "as-of", "--ssin", s, "--date", t0, "--care-type", "general_practice",
                "--known-at", known]
        p = d.client("auditor", *args, "--provider", GP_ORG)
        expect(p.returncode == 0, f"designated provider: {p.returncode} {p.stdout}")
        p = d.client("auditor", *args, "--provider", "10099999999")
        expect(p.returncode == 5 and "provider_not_designated" in p.stdout,
               f"another provider: {p.returncode} {p.stdout}")
