"""Integration tests of issue 4: tariffs (import, look-up), amounts per item (the split
state / OCMW / patient), refusal reasons and their languages, agreements (byte for byte,
never changed, void), the monthly patient-share cap (month boundary, 64 concurrent
questions, voiding gives the amount back), batches, and the medaid client's commands.

Every expected amount is computed here, independently, from the formula of DOMAIN.md
and the tariffs of scripts/sample-tariffs.csv."""

import calendar
import datetime
import json
import re

from harness import (
    Daemon, Failure, PRINCIPALS, ROOT, clean_exit, day, expect, lib, new_ssin, started, today,
)
from tests_api import not_covered, problem, still_serving
from tests_lifecycle import act, concurrent_raw, create, editable, ok_version, put, raw_http

SAMPLE = ROOT / "scripts" / "sample-tariffs.csv"
PROVIDER_ORG = PRINCIPALS["provider"][1]
PROVIDER2_ORG = PRINCIPALS["provider2"][1]
AGREEMENT_RE = re.compile(r"^A[0-9]{4}-[0-9]{8}$")
REASONS = ("invalid_ssin", "service_date_in_future", "service_date_too_old", "deceased",
           "no_decision", "no_active_decision", "suspended", "care_type_absent",
           "care_type_inactive", "provider_not_designated")


# ---- the sample tariffs, read independently of the daemon ---------------------------------
def sample_lines():
    out = []
    for line in SAMPLE.read_text().splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("code,"):
            continue
        code, start, end, fee, share, types = line.split(",")
        out.append({"code": code, "period": {"start": start, "end": end},
                    "fee_cents": int(fee), "patient_share_cents": int(share),
                    "care_types": types.split("|")})
    return out


TARIFFS = sample_lines()


def tariff(code, date, care_type):
    """(fee, share) of the code on that date for that care type, or None."""
    for t in TARIFFS:
        if (t["code"] == code and t["period"]["start"] <= date <= t["period"]["end"]
                and care_type in t["care_types"]):
            return t["fee_cents"], t["patient_share_cents"]
    return None


def pct(amount, p):
    """p % of amount, 50 % rounded half up (integer cents)."""
    return {0: 0, 50: (amount + 1) // 2, 100: amount}[p]


class Split:
    """The expected split of the items of one answer (DOMAIN.md 'How amounts are split')."""

    def __init__(self, date, care_type, state, pays, cap_left=0, supp_cap=0, allowed=()):
        self.date, self.care_type = date, care_type
        self.state_ins, self.state_pat = state
        self.pays = pays
        self.cap_left, self.supp_left, self.allowed = cap_left, supp_cap, set(allowed)

    def item(self, code, quantity=1, supplements=None, stype=None):
        t = tariff(code, self.date, self.care_type)
        if t is None:
            return {"code": code, "quantity": quantity, "refused": "unknown_code"}
        fee, share = t[0] * quantity, t[1] * quantity
        ins = fee - share
        state = pct(ins, self.state_ins) + pct(share, self.state_pat)
        ins_left, share_left = ins - pct(ins, self.state_ins), share - pct(share, self.state_pat)
        ocmw = {"none": 0, "full": ins_left, "partial": (ins_left + 1) // 2}[
            self.pays["insurance_part"]]
        mode = self.pays["patient_share"]
        if mode == "full":
            ocmw += share_left
        elif mode == "partial":
            got = min(share_left, self.cap_left)
            self.cap_left -= got
            ocmw += got
        s = supplements or 0
        mode = self.pays["supplements"]
        if mode == "full":
            ocmw += s
        elif mode == "partial" and stype in self.allowed:
            got = min(s, self.supp_left)
            self.supp_left -= got
            ocmw += got
        out = {"code": code, "quantity": quantity, "fee_cents": fee, "state_cents": state,
               "ocmw_cents": ocmw, "patient_cents": fee + s - state - ocmw}
        if supplements is not None:
            out["supplements_cents"] = s
        return out


def totals(items):
    keys = ("fee_cents", "state_cents", "ocmw_cents", "patient_cents")
    t = {k: sum(i[k] for i in items if "refused" not in i) for k in keys}
    if any("supplements_cents" in i for i in items):
        t["supplements_cents"] = sum(i.get("supplements_cents", 0) for i in items
                                     if "refused" not in i)
    return t


def sums_hold(j):
    """state + ocmw + patient == fee + supplements, on every item and on the totals."""
    for where, x in [(f"items[{n}]", i) for n, i in enumerate(j.get("items") or [])] + \
            [("totals", j.get("totals"))]:
        if x is None or "refused" in x:
            continue
        lhs = x["state_cents"] + x["ocmw_cents"] + x["patient_cents"]
        rhs = x["fee_cents"] + x.get("supplements_cents", 0)
        expect(lhs == rhs, f"{where}: state+ocmw+patient {lhs} != fee+supplements {rhs}: {j!r}")
        expect(min(x["state_cents"], x["ocmw_cents"], x["patient_cents"]) >= 0,
               f"{where}: a negative part: {j!r}")


def check_items(j, expected):
    """The answer's items and totals are exactly the expected ones."""
    sums_hold(j)
    got = j.get("items")
    expect(isinstance(got, list) and len(got) == len(expected), f"items: {j!r}")
    for n, (e, g) in enumerate(zip(expected, got)):
        if "refused" in e:
            expect(g.get("code") == e["code"] and g.get("quantity") == e["quantity"]
                   and (g.get("refused") or {}).get("code") == "unknown_code"
                   and (g.get("refused") or {}).get("message")
                   and "fee_cents" not in g, f"items[{n}]: expected refused {e!r}, got {g!r}")
        else:
            expect(g == e, f"items[{n}]: expected\n{e!r}\ngot\n{g!r}")
    t = totals(expected)
    expect(j.get("totals") == t, f"totals: expected {t!r}, got {j.get('totals')!r}")


# ---- decisions ------------------------------------------------------------------------
def cover(ct, ins="none", share="full", supp="none", cap=None, supp_cap=None, allowed=None,
          designated=(), start=-10, end=170):
    c = {"care_type": ct, "period": {"start": day(start), "end": day(end)},
         "ocmw_pays": {"insurance_part": ins, "patient_share": share, "supplements": supp},
         "prescription_required": False, "convention": False,
         "designated_providers": list(designated)}
    if cap is not None:
        c["patient_share_cap_cents"] = cap
    if supp_cap is not None:
        c["supplements_cap_cents"] = supp_cap
    if allowed is not None:
        c["allowed_supplement_types"] = list(allowed)
    return c


def decision(ssin, covers, other=(100, 0), hosp=(100, 100), amb=(100, 100), start=-10,
             end=170):
    return {
        "kind": "coverage",
        "beneficiary": {"ssin": ssin, "death_date": None},
        "period": {"start": day(start), "end": day(end)},
        "reference": f"IT/A/{ssin[-5:]}",
        "urgent_attestation_required": False,
        "state_share": {
            "hospitalisation": {"insurance_pct": hosp[0], "patient_share_pct": hosp[1]},
            "ambulatory_hospital": {"insurance_pct": amb[0], "patient_share_pct": amb[1]},
            "other": {"insurance_pct": other[0], "patient_share_pct": other[1]},
        },
        "covers": covers,
    }


def person(d, covers, **kw):
    s = new_ssin()
    return s, create(d, "ocmw", decision(s, covers, **kw))


def bad_ssin(s):
    return s[:9] + f"{(int(s[9:]) + 1) % 100:02d}"


def months_back(d, n):
    y, m = d.year, d.month - n
    while m < 1:
        m += 12
        y -= 1
    return datetime.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


# ---- questions --------------------------------------------------------------------------
def question(ssin, date, care_type="general_practice", items=None):
    q = {"ssin": ssin, "service_date": date, "care_type": care_type}
    if items is not None:
        q["items"] = items
    return q


def ask(d, ssin, date, care_type="general_practice", items=None, who="provider", lang=None):
    h = [f"Accept-Language: {lang}"] if lang else []
    return d.request(who, "POST", "/v1/coverage", question(ssin, date, care_type, items),
                     headers=h)


def answer(r):
    """A 200 coverage answer with a well-formed agreement number."""
    expect(r.status == 200, f"coverage: expected 200, got {r!r}")
    j = r.json
    expect(isinstance(j, dict) and AGREEMENT_RE.match(j.get("agreement") or ""),
           f"no agreement number A<year>-<8 digits>: {r!r}")
    return j


def covered_items(r, expected):
    j = answer(r)
    expect(j.get("covered") is True, f"expected covered: {j!r}")
    check_items(j, expected)
    return j


def get_agreement(d, n, who="provider"):
    return d.request(who, "GET", f"/v1/agreements/{n}")


def same_bytes(d, r, who="provider"):
    """GET /v1/agreements/{n} returns the POST answer's body byte for byte."""
    n = answer(r)["agreement"]
    g = get_agreement(d, n, who)
    expect(g.status == 200, f"GET agreement {n} as {who}: {g!r}")
    expect(g.body == r.body, f"GET {n} as {who} differs from the answer sent:\n"
           f"sent {r.body!r}\ngot  {g.body!r}")
    return g


def reason_in_languages(d, ssin, date, code, care_type="general_practice", who="provider"):
    """The reason `code`, with an English message (also with Accept-Language: en), a
    Dutch and a French one, all different; each answer is an agreement."""
    msgs = {}
    for lang in (None, "en", "nl", "fr"):
        r = ask(d, ssin, date, care_type, who=who, lang=lang)
        not_covered(r, code)
        msgs[lang] = answer(r)["reason"]["message"]
    expect(msgs[None] == msgs["en"], f"{code}: default and en messages differ: {msgs!r}")
    expect(len({msgs["en"], msgs["nl"], msgs["fr"]}) == 3,
           f"{code}: en / nl / fr messages not all different: {msgs!r}")
    return msgs


# ---------------------------------------------------------------------------------------
def run(env, tap):
    d = Daemon(env, "agreements", workers=4, db_pool_size=8, max_body_bytes=4 * 1048576)

    if not started(tap, d):
        return

    tariff_tests(env, tap, d)
    split_tests(env, tap, d)
    reason_tests(env, tap, d)
    agreement_tests(env, tap, d)
    cap_tests(env, tap, d)
    batch_tests(env, tap, d)
    if env.medaid.exists():
        client_tests(env, tap, d)
    else:
        tap.result(False, "medaid client", f"{env.medaid} is missing")

    clean_exit(tap, d)


# ---- tariffs ------------------------------------------------------------------------------
def import_csv(d, text, who="admin"):
    return d.request(who, "PUT", "/v1/tariffs", text, content_type="text/csv")


def without_version(j):
    """A tariff answer without the version fields (schema/009: every import is a version,
    numbered, in force from a moment); those are checked by tests_tariffv.py."""
    if not isinstance(j, dict):
        return j
    ok = isinstance(j.get("version"), int) and j["version"] > 0 and "in_force_at" in j
    return {k: v for k, v in j.items() if k not in ("version", "in_force_at")} if ok else j


def tariff_tests(env, tap, d):
    sample = SAMPLE.read_text()
    header = "code,start,end,fee_cents,patient_share_cents,care_types\n"

    def lines_of(code, date=None, who="auditor"):
        r = d.request(who, "GET", f"/v1/tariffs/{code}" + (f"?date={date}" if date else ""))
        return r

    def unchanged():
        r = lines_of("101076")
        expect(r.status == 200 and len((r.json or {}).get("tariffs") or []) == 2,
               f"the previous table is not intact (101076): {r!r}")
        problem(lines_of("123456"), 404, "not_found")

    @tap.case("PUT /v1/tariffs (CSV, # comments) as admin: 200 {imported: 11}, the sample")
    def _():
        r = import_csv(d, sample)
        expect(r.status == 200 and without_version(r.json) == {"imported": len(TARIFFS)},
               f"expected {{'imported': {len(TARIFFS)}}}: {r!r}")

    @tap.case("GET /v1/tariffs/{code} (ocmw, provider, auditor, admin): every line as imported")
    def _():
        want = [t for t in TARIFFS if t["code"] == "101076"]
        for who in ("ocmw", "provider", "auditor", "admin"):
            r = lines_of("101076", who=who)
            expect(r.status == 200, f"{who}: {r!r}")
            expect(without_version(r.json) == {"code": "101076", "tariffs": want},
                   f"{who}: expected {want!r}\ngot {r.json!r}")
        r = lines_of("102771")
        expect(((r.json or {}).get("tariffs") or [{}])[0].get("care_types")
               == ["ambulatory_hospital", "general_practice"], f"care types: {r!r}")

    @tap.case("GET /v1/tariffs/{code}?date=: the line of that day; no line that day or an "
              "unknown code: 404")
    def _():
        r = lines_of("101076", "2026-06-15")
        expect(r.status == 200 and [t["fee_cents"] for t in r.json["tariffs"]] == [3000],
               f"2026-06-15: {r!r}")
        r = lines_of("101076", "2025-12-31")
        expect(r.status == 200 and [t["fee_cents"] for t in r.json["tariffs"]] == [2950],
               f"2025-12-31: {r!r}")
        problem(lines_of("101076", "2024-12-31"), 404, "not_found")
        problem(lines_of("999999"), 404, "not_found")

    @tap.case("PUT /v1/tariffs as ocmw, provider, auditor: 403 forbidden, table unchanged")
    def _():
        for who in ("ocmw", "provider", "auditor"):
            problem(import_csv(d, header + "123456,2026-01-01,2026-12-31,100,10,pharmacy\n",
                               who=who), 403, "forbidden")
        unchanged()

    bad = {
        "fee not a number": "123456,2026-01-01,2026-12-31,abc,10,pharmacy",
        "share above the fee": "123456,2026-01-01,2026-12-31,100,200,pharmacy",
        "unknown care type": "123456,2026-01-01,2026-12-31,100,10,dentistry",
        "end before start": "123456,2026-12-31,2026-01-01,100,10,pharmacy",
        "code of 5 digits": "12345,2026-01-01,2026-12-31,100,10,pharmacy",
        "missing column": "123456,2026-01-01,2026-12-31,100,pharmacy",
    }

    @tap.case("PUT /v1/tariffs with one invalid line among valid ones (6 kinds): 422 "
              "validation_failed with errors[], nothing imported")
    def _():
        for name, line in bad.items():
            r = import_csv(d, header + "123457,2026-01-01,2026-12-31,100,10,pharmacy\n"
                           + line + "\n")
            j = problem(r, 422, "validation_failed")
            expect(j.get("errors"), f"{name}: no errors[]: {j!r}")
            problem(lines_of("123457"), 404, "not_found")
        unchanged()

    @tap.case("PUT /v1/tariffs with overlapping periods of one code: 422 overlapping_period, "
              "nothing imported")
    def _():
        r = import_csv(d, sample + "123456,2026-01-01,2026-06-30,100,10,pharmacy\n"
                       "123456,2026-06-30,2026-12-31,110,10,pharmacy\n")
        problem(r, 422, "validation_failed", field_code="overlapping_period")
        unchanged()

    @tap.case("PUT /v1/tariffs as JSON: a new version with only its lines; the sample CSV "
              "again is the newest version")
    def _():
        one = [{"code": "123456", "period": {"start": "2026-01-01", "end": "2027-12-31"},
                "fee_cents": 1000, "patient_share_cents": 100,
                "care_types": ["general_practice", "pharmacy"]}]
        r = d.request("admin", "PUT", "/v1/tariffs", one)
        expect(r.status == 200 and without_version(r.json) == {"imported": 1}, repr(r))
        r = lines_of("123456")
        expect(r.status == 200 and without_version(r.json) == {"code": "123456", "tariffs": one},
               repr(r))
        problem(lines_of("101076"), 404, "not_found")
        r = import_csv(d, sample)
        expect(r.status == 200 and without_version(r.json) == {"imported": len(TARIFFS)},
               repr(r))
        unchanged()


# ---- amounts --------------------------------------------------------------------------
def split_tests(env, tap, d):
    t0 = day(0)

    @tap.case("items, general_practice (state: insurance 100 %, share 0 %; OCMW: share full): "
              "101076 and 101032 x2 split exactly, totals, sums hold")
    def _():
        s, _v = person(d, [cover("general_practice", ins="none", share="full")])
        sp = Split(t0, "general_practice", (100, 0),
                   {"insurance_part": "none", "patient_share": "full", "supplements": "none"})
        exp = [sp.item("101076"), sp.item("101032", 2)]
        r = ask(d, s, t0, items=[{"code": "101076", "quantity": 1},
                                 {"code": "101032", "quantity": 2}])
        j = covered_items(r, exp)
        expect(j["totals"]["patient_cents"] == 0 and j["totals"]["ocmw_cents"] == 600 + 1802,
               f"totals: {j!r}")

    @tap.case("items, 50 % rounding (state 50/50, OCMW insurance partial, share none): "
              "101032 odd amounts rounded half up, the residue on the patient")
    def _():
        s, _v = person(d, [cover("general_practice", ins="partial", share="none")],
                       other=(50, 50))
        sp = Split(t0, "general_practice", (50, 50),
                   {"insurance_part": "partial", "patient_share": "none", "supplements": "none"})
        exp = [sp.item("101032"), sp.item("102771", 3), sp.item("101076")]
        # by hand for 101032: state 1806 + 451, OCMW half of 1805 = 903, patient 1352
        expect(exp[0]["state_cents"] == 2257 and exp[0]["ocmw_cents"] == 903
               and exp[0]["patient_cents"] == 1352, f"test arithmetic: {exp[0]!r}")
        r = ask(d, s, t0, items=[{"code": "101032"}, {"code": "102771", "quantity": 3},
                                 {"code": "101076", "quantity": 1}])
        covered_items(r, exp)

    @tap.case("items, hospitalisation supplements partial (cap 3000 per answer, room only): "
              "capped, other type not paid, wrong care type and unknown code refused per item")
    def _():
        s, _v = person(d, [cover("hospitalisation", ins="full", share="full", supp="partial",
                                 supp_cap=3000, allowed=["room"]),
                           cover("ambulatory_hospital", ins="partial", share="none")],
                       hosp=(50, 0), amb=(100, 50))
        sp = Split(t0, "hospitalisation", (50, 0),
                   {"insurance_part": "full", "patient_share": "full", "supplements": "partial"},
                   supp_cap=3000, allowed=["room"])
        items = [{"code": "590011", "quantity": 1, "supplements_cents": 2500,
                  "supplement_type": "room"},
                 {"code": "590011", "quantity": 1, "supplements_cents": 2500,
                  "supplement_type": "room"},
                 {"code": "590011", "quantity": 2, "supplements_cents": 1000,
                  "supplement_type": "phone"},
                 {"code": "101076", "quantity": 1},
                 {"code": "999999", "quantity": 4}]
        exp = [sp.item(i["code"], i["quantity"], i.get("supplements_cents"),
                       i.get("supplement_type")) for i in items]
        expect([e.get("patient_cents") for e in exp[:3]] == [0, 2000, 1000],
               f"test arithmetic: {exp!r}")
        j = covered_items(ask(d, s, t0, "hospitalisation", items, who="provider2"), exp)
        expect(j["totals"]["supplements_cents"] == 6000, f"totals: {j!r}")
        # the next answer has its own supplements cap
        sp2 = Split(t0, "hospitalisation", (50, 0), sp.pays, supp_cap=3000, allowed=["room"])
        covered_items(ask(d, s, t0, "hospitalisation", items[:1], who="provider2"),
                      [sp2.item("590011", 1, 2500, "room")])
        # ambulatory_hospital: its own domain (state 100/50), supplements none
        sa = Split(t0, "ambulatory_hospital", (100, 50),
                   {"insurance_part": "partial", "patient_share": "none", "supplements": "none"})
        exp = [sa.item("597011", 1, 1000, "room"), sa.item("102771", 1)]
        expect(exp[0]["patient_cents"] == 1500, f"test arithmetic: {exp!r}")
        covered_items(ask(d, s, t0, "ambulatory_hospital",
                          [{"code": "597011", "supplements_cents": 1000,
                            "supplement_type": "room"}, {"code": "102771"}], who="provider2"),
                      exp)

    @tap.case("items, hospitalisation supplements full: all supplements on the OCMW, never on "
              "the state")
    def _():
        s, _v = person(d, [cover("hospitalisation", ins="none", share="none", supp="full"),
                           cover("ambulatory_hospital")], hosp=(100, 100))
        sp = Split(t0, "hospitalisation", (100, 100),
                   {"insurance_part": "none", "patient_share": "none", "supplements": "full"})
        exp = [sp.item("590011", 1, 4321, "tv")]
        expect(exp[0]["state_cents"] == 9000 and exp[0]["ocmw_cents"] == 4321,
               f"test arithmetic: {exp!r}")
        covered_items(ask(d, s, t0, "hospitalisation",
                          [{"code": "590011", "supplements_cents": 4321,
                            "supplement_type": "tv"}], who="provider2"), exp)

    @tap.case("a covered answer without items has neither items nor totals; a not-covered "
              "answer to a question with items has no amounts")
    def _():
        s, _v = person(d, [cover("general_practice")])
        j = answer(ask(d, s, t0))
        expect(j.get("covered") is True and "items" not in j and "totals" not in j, repr(j))
        j = answer(ask(d, s, t0, "pharmacy", [{"code": "770011"}], who="provider2"))
        expect(j.get("covered") is False and "items" not in j and "totals" not in j, repr(j))


# ---- refusal reasons -------------------------------------------------------------------------
def reason_tests(env, tap, d):
    t0 = day(0)
    boundary = months_back(today(), 2)
    too_old = (boundary - datetime.timedelta(days=1)).isoformat()

    @tap.case("no_decision: English (default and en), Dutch, French messages, all different")
    def _():
        reason_in_languages(d, new_ssin(), t0, "no_decision")

    @tap.case("invalid_ssin and service_date_in_future, in three languages")
    def _():
        reason_in_languages(d, bad_ssin(new_ssin()), t0, "invalid_ssin")
        reason_in_languages(d, new_ssin(), day(1), "service_date_in_future")

    @tap.case(f"service_date_too_old: {too_old} (more than 2 calendar months back) refused; "
              f"{boundary.isoformat()} is not too old")
    def _():
        s, _v = person(d, [cover("general_practice")], start=-60)
        reason_in_languages(d, s, too_old, "service_date_too_old")
        j = answer(ask(d, s, boundary.isoformat()))
        expect((j.get("reason") or {}).get("code") != "service_date_too_old",
               f"{boundary} is exactly 2 months back: {j!r}")
        expect(j.get("covered") is (boundary.isoformat() >= day(-60)),
               f"{boundary}: {j!r}")

    @tap.case("care_type_inactive: the cover ended 3 days ago (decision still running); "
              "5 days ago covered")
    def _():
        s, _v = person(d, [cover("general_practice", start=-10, end=-3), cover("pharmacy")])
        reason_in_languages(d, s, t0, "care_type_inactive")
        expect(answer(ask(d, s, day(-5))).get("covered") is True, "day -5 not covered")

    @tap.case("provider_not_designated: the cover names only provider2; provider refused, "
              "provider2 covered")
    def _():
        s, _v = person(d, [cover("miscellaneous", designated=[PROVIDER2_ORG])])
        reason_in_languages(d, s, t0, "provider_not_designated", care_type="miscellaneous")
        j = answer(ask(d, s, t0, "miscellaneous", who="provider2"))
        expect(j.get("covered") is True, f"provider2: {j!r}")

    @tap.case("deceased, no_active_decision, suspended, care_type_absent: messages in three "
              "languages")
    def _():
        s, v1 = person(d, [cover("general_practice"), cover("pharmacy")])
        reason_in_languages(d, s, day(-20), "no_active_decision")
        reason_in_languages(d, s, t0, "care_type_absent", care_type="miscellaneous")
        ok_version(act(d, "ocmw", v1["id"], "suspend"), 200, v1["id"], 2, "suspended")
        reason_in_languages(d, s, t0, "suspended")
        s2, v2 = person(d, [cover("general_practice")])
        b = editable(v2)
        b["beneficiary"]["death_date"] = day(-1)
        ok_version(put(d, "ocmw", v2["id"], b, if_match=1), 200, v2["id"], 2, "active")
        reason_in_languages(d, s2, t0, "deceased")

    @tap.case("precedence where two reasons apply: invalid_ssin > in_future, in_future > "
              "no_decision, too_old > no_decision, deceased > care_type_absent, suspended > "
              "care_type_absent, care_type_inactive > provider_not_designated")
    def _():
        not_covered(ask(d, bad_ssin(new_ssin()), day(3)), "invalid_ssin")
        not_covered(ask(d, new_ssin(), day(1)), "service_date_in_future")
        not_covered(ask(d, new_ssin(), too_old), "service_date_too_old")
        s, v1 = person(d, [cover("general_practice", start=-10, end=-3,
                                 designated=[PROVIDER2_ORG]), cover("pharmacy")])
        not_covered(ask(d, s, t0), "care_type_inactive")
        not_covered(ask(d, s, day(-5)), "provider_not_designated")
        ok_version(act(d, "ocmw", v1["id"], "suspend"), 200, v1["id"], 2, "suspended")
        not_covered(ask(d, s, t0, "miscellaneous"), "suspended")
        s2, v2 = person(d, [cover("general_practice")])
        b = editable(v2)
        b["beneficiary"]["death_date"] = day(-1)
        ok_version(put(d, "ocmw", v2["id"], b, if_match=1), 200, v2["id"], 2, "active")
        not_covered(ask(d, s2, t0, "miscellaneous"), "deceased")
        not_covered(ask(d, s2, day(-30)), "no_active_decision")

    @tap.case("refused item: unknown_code message follows Accept-Language too")
    def _():
        s, _v = person(d, [cover("general_practice")])
        msgs = {}
        for lang in ("en", "nl", "fr"):
            j = answer(ask(d, s, t0, items=[{"code": "999999"}], lang=lang))
            expect(j.get("covered") is True, repr(j))
            it = (j.get("items") or [{}])[0]
            expect((it.get("refused") or {}).get("code") == "unknown_code", repr(j))
            msgs[lang] = it["refused"].get("message")
        expect(len(set(msgs.values())) == 3 and all(msgs.values()), f"messages: {msgs!r}")


# ---- agreements --------------------------------------------------------------------------
def agreement_tests(env, tap, d):
    t0 = day(0)
    st = {}

    @tap.case("a second certificate of the provider's organisation is registered")
    def _():
        lib(f'_ca_leaf "{env.certs}" providerb "/O=medaid tests/CN=providerb" '
            f'"${{_client_ext[@]}}"')
        env.principal_add("providerb", "provider", PROVIDER_ORG)
        expect(d.request("providerb", "GET", "/v1/health").status == 200, "providerb refused")

    @tap.case("GET /v1/agreements/{n}: byte for byte the answer sent (covered with items, "
              "not covered, Dutch) to the provider, its organisation, the auditor")
    def _():
        s, v1 = person(d, [cover("general_practice", share="partial", cap=700),
                           cover("pharmacy")])
        st.update(ssin=s, v1=v1)
        r1 = ask(d, s, t0, items=[{"code": "101076"}, {"code": "999999"}])
        expect(answer(r1).get("covered") is True, repr(r1))
        r2 = ask(d, s, t0, "miscellaneous", lang="nl")
        not_covered(r2, "care_type_absent")
        r3 = ask(d, bad_ssin(s), t0, lang="fr")
        not_covered(r3, "invalid_ssin")
        for r in (r1, r2, r3):
            for who in ("provider", "providerb", "auditor"):
                g = same_bytes(d, r, who)
                expect(g.header("agreement-voided-at") is None, f"voided? {g!r}")
        st["r1"] = r1

    @tap.case("GET /v1/agreements/{n}: another provider 404, an OCMW 403, unknown number 404")
    def _():
        n = answer(st["r1"])["agreement"]
        problem(get_agreement(d, n, "provider2"), 404, "not_found")
        problem(get_agreement(d, n, "ocmw"), 403, "forbidden")
        problem(get_agreement(d, "A1999-99999999"), 404, "not_found")
        problem(get_agreement(d, "nonsense"), 404, "not_found", d)

    @tap.case("a later change of the decision (cover removed, then suspended) never changes a "
              "recorded answer")
    def _():
        s, v1 = st["ssin"], st["v1"]
        b = editable(v1)
        b["covers"] = [c for c in b["covers"] if c["care_type"] != "general_practice"]
        ok_version(put(d, "ocmw", v1["id"], b, if_match=1), 200, v1["id"], 2, "active")
        not_covered(ask(d, s, t0), "care_type_absent")
        same_bytes(d, st["r1"])
        ok_version(act(d, "ocmw", v1["id"], "suspend"), 200, v1["id"], 3, "suspended")
        same_bytes(d, st["r1"], "auditor")

    @tap.case("POST /v1/agreements/{n}/void: provider2 404, ocmw 403; the provider 200 "
              "{agreement, voided_at}; twice 409 invalid_status")
    def _():
        r = st["r1"]
        n = answer(r)["agreement"]
        problem(d.request("provider2", "POST", f"/v1/agreements/{n}/void", {}), 404, "not_found")
        problem(d.request("ocmw", "POST", f"/v1/agreements/{n}/void", {}), 403, "forbidden")
        problem(d.request("provider", "POST", "/v1/agreements/A1999-99999999/void", {}), 404,
                "not_found")
        g = get_agreement(d, n)
        expect(g.status == 200 and g.header("agreement-voided-at") is None,
               f"voided by someone else: {g!r}")
        v = d.request("provider", "POST", f"/v1/agreements/{n}/void", {})
        expect(v.status == 200, repr(v))
        j = v.json or {}
        expect(set(j) == {"agreement", "voided_at"} and j["agreement"] == n
               and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", j.get("voided_at") or ""),
               f"void answer: {v!r}")
        st["voided_at"] = j["voided_at"]
        problem(d.request("provider", "POST", f"/v1/agreements/{n}/void", {}), 409,
                "invalid_status")
        problem(d.request("provider", "POST", f"/v1/agreements/{n}/void"), 409,
                "invalid_status", d)

    @tap.case("GET of a voided agreement: the same bytes, plus Agreement-Voided-At (= voided_at)")
    def _():
        for who in ("provider", "auditor"):
            g = same_bytes(d, st["r1"], who)
            expect(g.header("agreement-voided-at") == st["voided_at"],
                   f"Agreement-Voided-At {g.header('agreement-voided-at')!r}, void answer said "
                   f"{st['voided_at']!r}")


# ---- the monthly cap --------------------------------------------------------------------------
def capped_person(d, cap, start=-10):
    s, v = person(d, [cover("general_practice", ins="none", share="partial", cap=cap,
                            start=start)], other=(0, 0), start=start)
    return s, v


def ocmw_of(r):
    j = answer(r)
    expect(j.get("covered") is True, f"not covered: {j!r}")
    sums_hold(j)
    return j["totals"]["ocmw_cents"], j


def cap_tests(env, tap, d):
    t0 = day(0)
    last_prev = (today().replace(day=1) - datetime.timedelta(days=1)).isoformat()

    def fee_share(code, date):
        return tariff(code, date, "general_practice")

    @tap.case("cap 1000, share 600 a question: 600, 400, 0 (items split exactly); void the "
              "first: 600 again, then 0; cap_usage and agreement.cap_cents agree")
    def _():
        s, _v = capped_person(d, 1000)
        fee, share = fee_share("101076", t0)
        got, answers = [], []
        for _ in range(3):
            r = ask(d, s, t0, items=[{"code": "101076"}])
            o, j = ocmw_of(r)
            got.append(o)
            answers.append(r)
        expect(got == [min(share, 1000), max(0, min(share, 1000 - share)),
                       max(0, 1000 - 2 * share)] == [600, 400, 0], f"OCMW parts: {got}")
        for o, r in zip(got, answers):
            it = r.json["items"][0]
            expect(it == {"code": "101076", "quantity": 1, "fee_cents": fee, "state_cents": 0,
                          "ocmw_cents": o, "patient_cents": fee - o}, f"item: {it!r}")
        n1 = answer(answers[0])["agreement"]
        v = d.request("provider", "POST", f"/v1/agreements/{n1}/void", {})
        expect(v.status == 200, f"void: {v!r}")
        o4, _ = ocmw_of(ask(d, s, t0, items=[{"code": "101076"}]))
        o5, _ = ocmw_of(ask(d, s, t0, items=[{"code": "101076"}]))
        expect((o4, o5) == (600, 0), f"after the void: {o4}, {o5} (expected 600, 0)")
        used = env.psql(f"SELECT used_cents FROM cap_usage WHERE ssin = '{s}'")
        caps = env.psql("SELECT coalesce(sum(cap_cents), 0) FROM agreement a WHERE ssin = "
                        f"'{s}' AND NOT EXISTS (SELECT 1 FROM agreement_void v "
                        "WHERE v.number = a.number)")
        expect(used == "1000" and caps == "1000", f"cap_usage {used!r}, sum of cap_cents "
               f"of agreements not voided {caps!r} (expected 1000, 1000)")

    @tap.case("cap over several items of one answer: 101076 + 101032 x2 with cap 1000: OCMW "
              "1000 in total, every item sums")
    def _():
        s, _v = capped_person(d, 1000)
        r = ask(d, s, t0, items=[{"code": "101076"}, {"code": "101032", "quantity": 2}])
        o, j = ocmw_of(r)
        expect(o == 1000, f"OCMW {o}: {j!r}")
        sp = [600, 1802]
        for it, share in zip(j["items"], sp):
            expect(0 <= it["ocmw_cents"] <= share and it["state_cents"] == 0, f"item {it!r}")
        o2, _ = ocmw_of(ask(d, s, t0, items=[{"code": "101076"}]))
        expect(o2 == 0, f"cap already used, OCMW {o2}")

    @tap.case(f"month boundary: {last_prev} (previous month) has its own cap")
    def _():
        s, _v = capped_person(d, 1000, start=-40)
        items = [{"code": "101076", "quantity": 2}]
        a, _ = ocmw_of(ask(d, s, t0, items=items))
        b, _ = ocmw_of(ask(d, s, t0, items=items))
        c, _ = ocmw_of(ask(d, s, last_prev, items=items))
        e, _ = ocmw_of(ask(d, s, last_prev, items=items))
        f, _ = ocmw_of(ask(d, s, t0, items=items))
        expect((a, b, c, e, f) == (1000, 0, 1000, 0, 0),
               f"this month, this month, last month, last month, this month: {(a, b, c, e, f)}")
        rows = env.psql(f"SELECT month, used_cents FROM cap_usage WHERE ssin = '{s}' ORDER BY 1")
        expect(rows == f"{last_prev[:8]}01|1000\n{t0[:8]}01|1000", f"cap_usage rows: {rows!r}")

    @tap.case("64 simultaneous questions (own TLS connections, released together), cap 10000, "
              "share 600 each: all 200 with distinct agreements, OCMW total exactly 10000; "
              "database agrees")
    def _():
        s, _v = capped_person(d, 10000)
        body = json.dumps(question(s, t0, items=[{"code": "101076"}])).encode()
        req = raw_http("POST", "/v1/coverage", body)
        results = concurrent_raw(d, ["provider"] * 64, req)
        bad = [(st, b[:300]) for st, b in results if st != 200]
        expect(not bad, f"{len(bad)} of 64 not 200: {bad[:3]!r}")
        answers = [json.loads(b) for _st, b in results]
        nums = [a.get("agreement") for a in answers]
        expect(all(AGREEMENT_RE.match(n or "") for n in nums) and len(set(nums)) == 64,
               f"agreement numbers: {nums!r}")
        total = 0
        for a in answers:
            expect(a.get("covered") is True, f"not covered: {a!r}")
            sums_hold(a)
            o = a["items"][0]["ocmw_cents"]
            expect(0 <= o <= 600, f"OCMW {o} of a 600 share: {a!r}")
            total += o
        expect(total == 10000, f"sum of OCMW parts over 64 answers: {total} (cap 10000)")
        caps = env.psql(f"SELECT coalesce(sum(cap_cents), 0), count(*) FROM agreement "
                        f"WHERE ssin = '{s}'")
        used = env.psql(f"SELECT used_cents FROM cap_usage WHERE ssin = '{s}'")
        expect(caps == f"{total}|64" and used == str(total),
               f"sum(cap_cents)|count {caps!r}, cap_usage {used!r}, answers granted {total}")

    @tap.case("64 simultaneous questions, cap 100000 (not reachable): every answer gets the "
              "whole share, cap_usage 38400")
    def _():
        s, _v = capped_person(d, 100000)
        body = json.dumps(question(s, t0, items=[{"code": "101076"}])).encode()
        results = concurrent_raw(d, ["provider"] * 64, raw_http("POST", "/v1/coverage", body))
        expect(all(st == 200 for st, _b in results), f"not all 200: {results[:2]!r}")
        parts = [json.loads(b)["items"][0]["ocmw_cents"] for _st, b in results]
        expect(parts == [600] * 64, f"OCMW parts: {sorted(set(parts))!r}")
        used = env.psql(f"SELECT used_cents FROM cap_usage WHERE ssin = '{s}'")
        expect(used == "38400", f"cap_usage {used!r}")
        still_serving(d)

    @tap.case("64 simultaneous questions for one person whose patient share is paid in full "
              "(no cap at all): all 200, covered, each with the whole share")
    def _():
        s, _v = person(d, [cover("general_practice", ins="none", share="full")], other=(0, 0))
        body = json.dumps(question(s, t0, items=[{"code": "101076"}])).encode()
        results = concurrent_raw(d, ["provider"] * 64, raw_http("POST", "/v1/coverage", body))
        bad = [(st, b[:300]) for st, b in results if st != 200]
        expect(not bad, f"{len(bad)} of 64 not 200 (no cap is involved), e.g. {bad[:2]!r}")
        parts = [json.loads(b)["items"][0]["ocmw_cents"] for _st, b in results]
        expect(parts == [600] * 64, f"OCMW parts: {sorted(set(parts))!r}")


# ---- batches --------------------------------------------------------------------------------
def batch_tests(env, tap, d):
    t0 = day(0)

    @tap.case("POST /v1/coverage/batch with 0 or 1001 questions: 422 validation_failed; "
              "as ocmw: 403")
    def _():
        q = question(new_ssin(), t0)
        problem(d.request("provider", "POST", "/v1/coverage/batch", {"questions": []}), 422,
                "validation_failed")
        problem(d.request("provider", "POST", "/v1/coverage/batch",
                          {"questions": [q] * 1001}), 422, "validation_failed")
        problem(d.request("ocmw", "POST", "/v1/coverage/batch", {"questions": [q]}), 403,
                "forbidden", d)

    @tap.case("batch of 1000 (mix of persons, dates, care types, codes, invalid questions): "
              "1000 answers in order, 1000 distinct agreements, 20 GET back byte for byte")
    def _():
        a, _ = person(d, [cover("general_practice")], other=(100, 0))
        b, _ = person(d, [cover("general_practice", ins="full", share="full")], other=(50, 50))
        qs, kinds = [], []
        for i in range(1000):
            k = i % 8
            date = day(-(i % 7))
            if k == 0:
                q = question(bad_ssin(a), date)
            elif k == 1:
                q = question(new_ssin(), date)
            elif k == 2:
                q = question(a, date, items=[{"code": "101076", "quantity": 1 + i % 3}])
            elif k == 3:
                q = question(b, date, items=[{"code": "101032", "quantity": 2}])
            elif k == 4:
                q = question(a, date, "miscellaneous")
            elif k == 5:
                q = question(a, day(1 + i % 5))
            elif k == 6:
                q = question(a, date, "dentistry")
            else:
                q = question(a, date, items=[{"code": "999999"}, {"code": "101032"}])
            qs.append(q)
            kinds.append(k)
        r = d.request("provider", "POST", "/v1/coverage/batch", {"questions": qs}, max_time=120)
        expect(r.status == 200, repr(r))
        ans = (r.json or {}).get("answers")
        expect(isinstance(ans, list) and len(ans) == 1000, f"answers: {repr(r)[:500]}")
        reasons = {0: "invalid_ssin", 1: "no_decision", 4: "care_type_absent",
                   5: "service_date_in_future"}
        nums = []

        def one(i, q, k, x):
            where = f"answers[{i}] ({q!r})"
            if k == 6:
                expect(set(x) == {"error"} and x["error"].get("code") == "validation_failed",
                       f"{where}: expected an error: {x!r}")
                return
            expect(AGREEMENT_RE.match(x.get("agreement") or ""), f"{where}: {x!r}")
            nums.append((i, x["agreement"]))
            if k in reasons:
                expect(x.get("covered") is False and x["reason"]["code"] == reasons[k],
                       f"{where}: expected {reasons[k]}: {x!r}")
                return
            expect(x.get("covered") is True, f"{where}: expected covered: {x!r}")
            if k == 2:
                sp = Split(q["service_date"], "general_practice", (100, 0),
                           {"insurance_part": "none", "patient_share": "full",
                            "supplements": "none"})
                check_items(x, [sp.item("101076", q["items"][0]["quantity"])])
            elif k == 3:
                sp = Split(q["service_date"], "general_practice", (50, 50),
                           {"insurance_part": "full", "patient_share": "full",
                            "supplements": "none"})
                check_items(x, [sp.item("101032", 2)])
            else:
                sp = Split(q["service_date"], "general_practice", (100, 0),
                           {"insurance_part": "none", "patient_share": "full",
                            "supplements": "none"})
                check_items(x, [sp.item("999999"), sp.item("101032")])

        wrong = []
        for i, (q, k, x) in enumerate(zip(qs, kinds, ans)):
            try:
                one(i, q, k, x)
            except Failure as e:
                wrong.append(str(e))
        if not len({n for _i, n in nums}) == len(nums) == 875:
            wrong.insert(0, f"{len(nums)} agreements, {len({n for _i, n in nums})} distinct "
                         "(expected 875)")
        # each agreement is the answer to its own question: the database says whose and when
        arr = "{" + ",".join(n for _i, n in nums) + "}"
        rows = env.psql("SELECT number, ssin, service_date, care_type FROM agreement "
                        f"WHERE number = ANY('{arr}'::text[])")
        got = {ln.split("|")[0]: ln.split("|")[1:] for ln in rows.splitlines()}
        for i, n in nums:
            q = qs[i]
            expect(got.get(n) == [q["ssin"], q["service_date"], q["care_type"]],
                   f"answers[{i}] {n}: recorded {got.get(n)!r}, asked {q!r}")
        for i, n in nums[::len(nums) // 20][:20]:
            g = get_agreement(d, n)
            expect(g.status == 200 and g.body in r.body, f"answers[{i}] {n}: GET {g!r} is not "
                   "byte for byte inside the batch answer")
            expect(json.loads(g.body) == ans[i], f"answers[{i}] {n}: GET differs")
        expect(not wrong, f"{len(wrong)} of 1000 answers wrong; the first:\n"
               + "\n".join(wrong[:4]))

    @tap.case("batch of 400 questions for one person, patient share paid in full (no cap): "
              "400 covered answers, none refused for contention")
    def _():
        s, _v = person(d, [cover("general_practice", ins="none", share="full")], other=(0, 0))
        qs = [question(s, day(-(i % 9)), items=[{"code": "101076"}]) for i in range(400)]
        r = d.request("provider", "POST", "/v1/coverage/batch", {"questions": qs}, max_time=120)
        expect(r.status == 200, repr(r))
        ans = (r.json or {}).get("answers") or []
        expect(len(ans) == 400, f"{len(ans)} answers")
        bad = [(i, a) for i, a in enumerate(ans) if a.get("covered") is not True]
        expect(not bad, f"{len(bad)} of 400 not covered answers, e.g. {bad[:2]!r}")
        parts = {a["items"][0]["ocmw_cents"] for a in ans}
        expect(parts == {600}, f"OCMW parts {parts!r}")

    @tap.case("batch of 400 questions for one person with a partial cap of 1000000 (never "
              "reached): 400 covered answers with the whole share; cap_usage 240000")
    def _():
        s, _v = capped_person(d, 1000000)
        qs = [question(s, day(-(i % 9)), items=[{"code": "101076"}]) for i in range(400)]
        r = d.request("provider", "POST", "/v1/coverage/batch", {"questions": qs}, max_time=120)
        expect(r.status == 200, repr(r))
        ans = (r.json or {}).get("answers") or []
        expect(len(ans) == 400, f"{len(ans)} answers")
        bad = [(i, a) for i, a in enumerate(ans) if a.get("covered") is not True]
        expect(not bad, f"{len(bad)} of 400 not covered answers, e.g. {bad[:2]!r}")
        parts = {a["items"][0]["ocmw_cents"] for a in ans}
        expect(parts == {600}, f"OCMW parts {parts!r}")
        used = env.psql(f"SELECT sum(used_cents) FROM cap_usage WHERE ssin = '{s}'")
        expect(used == "240000", f"cap_usage {used!r}")

    @tap.case("batch: a malformed question in the list gets an error in its slot, the others "
              "are answered")
    def _():
        qs = [question(new_ssin(), t0), {"ssin": 5}, question(new_ssin(), t0, items="x"),
              question(new_ssin(), t0)]
        r = d.request("provider", "POST", "/v1/coverage/batch", {"questions": qs})
        expect(r.status == 200, repr(r))
        ans = r.json.get("answers") or []
        expect(len(ans) == 4, repr(r))
        expect(ans[0].get("reason", {}).get("code") == "no_decision"
               and ans[3].get("reason", {}).get("code") == "no_decision", repr(r))
        expect("error" in ans[1] and "error" in ans[2] and "agreement" not in ans[1], repr(r))


# ---- the medaid client -------------------------------------------------------------------------
def client_tests(env, tap, d):
    t0 = day(0)
    cs = {}

    def out(p):
        return f"exit {p.returncode}\nstdout: {p.stdout[:3000]}\nstderr: {p.stderr[:2000]}"

    @tap.case("medaid coverage --item 101076 --item 101032:2: exit 0, the items split exactly")
    def _():
        s, _v = person(d, [cover("general_practice")], other=(100, 0))
        cs["ssin"] = s
        p = d.client("provider", "coverage", "--ssin", s, "--date", t0, "--care-type",
                     "general_practice", "--item", "101076", "--item", "101032:2")
        expect(p.returncode == 0, out(p))
        j = json.loads(p.stdout)
        sp = Split(t0, "general_practice", (100, 0),
                   {"insurance_part": "none", "patient_share": "full", "supplements": "none"})
        check_items(j, [sp.item("101076"), sp.item("101032", 2)])
        cs["n"] = j["agreement"]

    @tap.case("medaid coverage --format table: the item lines and totals in euros")
    def _():
        p = d.client("provider", "coverage", "--ssin", cs["ssin"], "--date", t0,
                     "--care-type", "general_practice", "--item", "101076",
                     "--item", "101032:2", "--item", "999999", "--format", "table")
        expect(p.returncode == 0, out(p))
        lines = p.stdout.splitlines()
        l1 = [ln.split() for ln in lines if ln.startswith("101076")]
        l2 = [ln.split() for ln in lines if ln.startswith("101032")]
        l3 = [ln for ln in lines if ln.startswith("999999")]
        tot = [ln.split() for ln in lines if ln.startswith("total")]
        expect(l1 and l1[0] == ["101076", "1", "30.00", "24.00", "6.00", "0.00"], out(p))
        expect(l2 and l2[0] == ["101032", "2", "90.24", "72.22", "18.02", "0.00"], out(p))
        expect(l3 and "unknown_code" in l3[0], out(p))
        expect(tot and tot[0] == ["total", "120.24", "96.22", "24.02", "0.00"], out(p))
        expect(re.search(r"(?m)^agreement\s+A\d{4}-\d{8}$", p.stdout), out(p))

    @tap.case("medaid agreement show N: exit 0, the answer exactly as given; another provider "
              "exit 2")
    def _():
        g = get_agreement(d, cs["n"])
        expect(g.status == 200, repr(g))
        p = d.client("provider", "agreement", "show", cs["n"])
        expect(p.returncode == 0, out(p))
        expect(p.stdout.rstrip("\n") == g.body.decode().rstrip("\n"), out(p))
        p = d.client("provider2", "agreement", "show", cs["n"])
        expect(p.returncode == 2, out(p))

    @tap.case("medaid agreement void N: exit 0 {agreement, voided_at}; again exit 2; show "
              "--format table mentions the void")
    def _():
        p = d.client("provider", "agreement", "void", cs["n"])
        expect(p.returncode == 0, out(p))
        j = json.loads(p.stdout)
        expect(j.get("agreement") == cs["n"] and j.get("voided_at"), out(p))
        p = d.client("provider", "agreement", "void", cs["n"])
        expect(p.returncode == 2, out(p))
        p = d.client("provider", "agreement", "show", cs["n"], "--format", "table")
        expect(p.returncode == 0 and re.search(r"(?mi)^voided at\s+\S", p.stdout), out(p))

    @tap.case("medaid tariffs import FILE.csv: admin exit 0 {imported: 11}; provider exit 2")
    def _():
        p = d.client("admin", "tariffs", "import", str(SAMPLE))
        expect(p.returncode == 0 and without_version(json.loads(p.stdout)) ==
               {"imported": len(TARIFFS)}, out(p))
        p = d.client("provider", "tariffs", "import", str(SAMPLE))
        expect(p.returncode == 2, out(p))

    @tap.case("medaid tariffs show 101076 --date D: the line of that day; unknown code exit 2")
    def _():
        p = d.client("provider", "tariffs", "show", "101076", "--date", t0)
        expect(p.returncode == 0, out(p))
        want = [t for t in TARIFFS if t["code"] == "101076"
                and t["period"]["start"] <= t0 <= t["period"]["end"]]
        expect(without_version(json.loads(p.stdout)) == {"code": "101076", "tariffs": want},
               out(p))
        p = d.client("provider", "tariffs", "show", "999999", "--date", t0)
        expect(p.returncode == 2, out(p))

    @tap.case("medaid coverage-batch: NDJSON in, one answer per line in order on stdout, "
              "nothing on stderr without --progress; each GETs back")
    def _():
        s = cs["ssin"]
        qs = [question(s, t0, items=[{"code": "101076"}]), question(new_ssin(), t0),
              question(bad_ssin(s), t0), question(s, t0, "miscellaneous"),
              question(s, day(1))]
        stdin = "\n".join(json.dumps(q) for q in qs) + "\n"
        p = d.client("provider", "coverage-batch", stdin=stdin)
        expect(p.returncode == 0, out(p))
        expect(p.stderr == "", f"stderr not empty: {out(p)}")
        lines = p.stdout.splitlines()
        expect(len(lines) == 5, out(p))
        got = [json.loads(ln) for ln in lines]
        expect(got[0].get("covered") is True
               and [g.get("reason", {}).get("code") for g in got[1:]]
               == ["no_decision", "invalid_ssin", "care_type_absent", "service_date_in_future"],
               out(p))
        for ln, g in zip(lines, got):
            r = get_agreement(d, g["agreement"])
            expect(r.status == 200 and json.loads(r.body) == g, f"{g['agreement']}: {r!r}")

    @tap.case("medaid coverage-batch --batch-size 2 --progress: 5 answers in order, progress "
              "on stderr only; an invalid question: its error line, exit 2")
    def _():
        s = cs["ssin"]
        qs = [question(new_ssin(), t0) for _ in range(4)] + [question(s, t0)]
        stdin = "".join(json.dumps(q) + "\n" for q in qs)
        p = d.client("provider", "coverage-batch", "--batch-size", "2", "--progress",
                     stdin=stdin)
        expect(p.returncode == 0, out(p))
        lines = p.stdout.splitlines()
        expect(len(lines) == 5 and all(json.loads(ln).get("agreement") for ln in lines)
               and json.loads(lines[4]).get("covered") is True, out(p))
        expect("answered" in p.stderr and "answered" not in p.stdout, out(p))
        bad = stdin + json.dumps(question(s, t0, "dentistry")) + "\n"
        p = d.client("provider", "coverage-batch", stdin=bad)
        expect(p.returncode == 2, out(p))
        lines = p.stdout.splitlines()
        expect(len(lines) == 6 and "error" in json.loads(lines[5]), out(p))
