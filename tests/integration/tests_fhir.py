#!/usr/bin/python3
"""Integration tests of issue 11 (part): HL7 FHIR R4 (docs/fhir.md).
POST /fhir/CoverageEligibilityRequest/$submit answers with the rules and the durable
agreement of /v1/coverage (the FHIR amounts are those of GET /v1/agreements/{n}), GET
/fhir/metadata is a CapabilityStatement, and every problem under /fhir is an
OperationOutcome. EVERY FHIR resource the daemon returns here is validated against the R4
JSON schema by an npm validator (scripts/lib.sh fhir_validator_dir)."""

import json
import os
import subprocess

from harness import Daemon, PRINCIPALS, clean_exit, day, expect, lib, new_ssin, started
from tests_agreements import SAMPLE, bad_ssin, capped_person, cover, import_csv, person

SUBMIT = "/fhir/CoverageEligibilityRequest/$submit"
SSIN_SYSTEM = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
CARE = "https://medaid.example/fhir/CodeSystem/care-type"
NOMEN = "https://www.ehealth.fgov.be/standards/fhir/CodeSystem/nihdi-nomenclature"
BENEFIT = "https://medaid.example/fhir/CodeSystem/benefit"
REFUSAL = "https://medaid.example/fhir/CodeSystem/refusal"
FHIR_CT = "application/fhir+json"


class Validator:
    """The npm FHIR R4 JSON-schema validator, run on every resource the daemon returned."""

    def __init__(self):
        p = lib("fhir_validator_dir", timeout=600)  # raises when npm fails
        self.node_path = os.path.join(p.stdout.strip(), "node_modules")
        self.script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fhir_validate.js")
        self.count = 0
        self.pending = []

    def flush(self):
        """Validate what the daemon returned since the last flush (one node run)."""
        pending, self.pending = self.pending, []
        if pending:
            self.check(*pending)

    def check(self, *resources):
        p = subprocess.run(["node", self.script], input=json.dumps(list(resources)),
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, NODE_PATH=self.node_path))
        expect(p.returncode == 0, f"validator: {p.stderr[-2000:]}")
        for res, errs in zip(resources, json.loads(p.stdout)):
            expect(errs == [], f"{res.get('resourceType')} does not validate: {errs[:5]} "
                               f"in {json.dumps(res)[:1500]}")
        self.count += len(resources)


V = [None]


def fhir(r, status, rtype):
    """r is an application/fhir+json answer with this status holding a valid rtype."""
    expect(r.status == status, f"expected {status} {rtype}, got {r!r}")
    ct = r.header("content-type") or ""
    expect(ct.startswith(FHIR_CT), f"Content-Type {ct!r}: {r!r}")
    j = r.json
    expect(isinstance(j, dict) and j.get("resourceType") == rtype, f"expected {rtype}: {r!r}")
    V[0].pending.append(j)  # validated by V[0].flush() at the end of the case
    return j


def fcase(tap, title):
    """A tap.case whose FHIR resources are all validated when it ends."""
    def deco(fn):
        def wrapped():
            V[0].pending = []
            fn()
            V[0].flush()
        wrapped.__name__ = fn.__name__
        return tap.case(title)(wrapped)
    return deco


def outcome(r, status, issue_code, expression=None, problem=None):
    j = fhir(r, status, "OperationOutcome")
    issues = j.get("issue") or []
    expect(any(i.get("code") == issue_code for i in issues), f"no issue {issue_code}: {j!r}")
    if expression:
        exprs = [e for i in issues for e in i.get("expression") or []]
        expect(expression in exprs, f"no issue at {expression}: {exprs!r}")
    if problem:
        codes = [c.get("code") for i in issues for c in (i.get("details") or {}).get("coding", [])]
        expect(problem in codes, f"no problem code {problem}: {j!r}")
    return j


def eligibility(ssin, date, care_type="general_practice", items=(), contained=False,
                identifier=None):
    """A CoverageEligibilityRequest; items: (code, quantity) or None for a category-only item."""
    ssin_id = {"system": SSIN_SYSTEM, "value": ssin}
    r = {"resourceType": "CoverageEligibilityRequest", "status": "active",
         "purpose": ["benefits", "validation"], "servicedDate": date,
         "created": day(0) + "T10:00:00Z", "insurer": {"display": "OCMW"}}
    if contained:
        r["contained"] = [{"resourceType": "Patient", "id": "p1", "identifier": [ssin_id]}]
        r["patient"] = {"reference": "#p1"}
    else:
        r["patient"] = {"identifier": ssin_id}
    if identifier:
        r["identifier"] = [{"system": "urn:example:his", "value": identifier}]
    cat = {"coding": [{"system": CARE, "code": care_type}]}
    r["item"] = []
    for it in items or [None]:
        e = {"category": cat}
        if it is not None:
            e["productOrService"] = {"coding": [{"system": NOMEN, "code": it[0]}]}
            e["quantity"] = {"value": it[1]}
        r["item"].append(e)
    return r


def submit(d, body, who="provider", headers=(), content_type=FHIR_CT):
    return d.request(who, "POST", SUBMIT, body, headers=headers, content_type=content_type)


def cents(money):
    expect(money.get("currency") == "EUR", f"currency: {money!r}")
    return round(money["value"] * 100)


def benefits(item):
    out = {}
    for b in item.get("benefit") or []:
        code = b["type"]["coding"][0]["code"]
        expect(b["type"]["coding"][0]["system"] == BENEFIT, repr(b))
        out[code] = {k: cents(v) for k, v in b.items() if k.endswith("Money")}
    return out


def response(r):
    j = fhir(r, 200, "CoverageEligibilityResponse")
    expect(j.get("preAuthRef") == j.get("id") and j["identifier"][0]["value"] == j["id"],
           f"preAuthRef/id/identifier: {j!r}")
    return j


def agreement_of(d, j):
    g = d.request("provider", "GET", f"/v1/agreements/{j['preAuthRef']}")
    expect(g.status == 200 and g.json.get("agreement") == j["preAuthRef"], f"agreement: {g!r}")
    # the resource carries the signed agreement: the same as GET gives, and it verifies
    ext = [x for x in j.get("extension", []) if x.get("url", "").endswith("/signed-agreement")]
    expect(len(ext) == 1, f"signed-agreement extension: {j.get('extension')!r}")
    expect(json.loads(ext[0]["valueString"]) == g.json, "the extension is the recorded agreement")
    keys = d.request("provider", "GET", "/v1/keys")
    expect(keys.status == 200, repr(keys))
    a = d.env.tmp / f"fhir-{j['preAuthRef']}.json"
    k = d.env.tmp / "fhir-keys.json"
    a.write_text(ext[0]["valueString"])
    k.write_bytes(keys.body)
    p = d.client("provider", "agreement", "verify", str(a), "--keys", str(k))
    expect(p.returncode == 0, f"verify the FHIR answer's agreement: {p.stdout}{p.stderr}")
    return g.json


def same_amounts(j, a):
    """The FHIR items are the agreement's items, code by code, cent for cent."""
    ins = j["insurance"][0]
    expect(ins["inforce"] is a["covered"], f"inforce {ins['inforce']} vs {a['covered']}")
    coded = [i for i in ins.get("item", []) if "productOrService" in i]
    expect(len(coded) == len(a.get("items", [])), f"items: {coded!r} vs {a.get('items')!r}")
    for fi, ai in zip(coded, a.get("items", [])):
        expect(fi["productOrService"]["coding"][0]["code"] == ai["code"], f"{fi!r} vs {ai!r}")
        if "refused" in ai:
            expect(fi.get("excluded") is True, repr(fi))
            ext = fi["extension"][0]["valueCodeableConcept"]["coding"][0]
            expect(ext == {"system": REFUSAL, "code": ai["refused"]["code"]}, repr(fi))
            continue
        b = benefits(fi)
        for part in ("fee", "state", "ocmw", "patient"):
            expect(b[part]["allowedMoney"] == ai[f"{part}_cents"], f"{part}: {b!r} vs {ai!r}")
    totals = [i for i in ins.get("item", []) if i.get("name") == "totals"]
    if "totals" in a:
        b = benefits(totals[0])
        for part in ("fee", "state", "ocmw", "patient"):
            expect(b[part]["allowedMoney"] == a["totals"][f"{part}_cents"], f"totals {part}")
    else:
        expect(totals == [], f"totals without amounts: {totals!r}")


def counts(env):
    return (env.psql("SELECT count(*) FROM agreement"), env.psql("SELECT count(*) FROM audit_log"))


def run(env, tap):
    d = Daemon(env, "fhir", workers=2, db_pool_size=4)
    if not started(tap, d):
        return
    r = import_csv(d, SAMPLE.read_text())
    expect(r.status == 200, f"tariffs: {r!r}")

    @tap.case("the npm FHIR R4 validator is installed (scripts/lib.sh fhir_validator_dir) and "
              "refuses an invalid resource")
    def _():
        V[0] = Validator()
        try:
            V[0].check({"resourceType": "CoverageEligibilityResponse", "status": "active"})
        except Exception:  # noqa: BLE001
            pass
        else:
            raise AssertionError("a response without patient/insurer/... validated")

    if V[0] is None:
        clean_exit(tap, d)
        return
    answers(env, tap, d)
    errors(env, tap, d)

    @tap.case("every FHIR resource returned was validated (at least 20)")
    def _():
        expect(V[0].count >= 20, f"only {V[0].count} validated")

    clean_exit(tap, d)
    throttled(env, tap)


def answers(env, tap, d):
    t0 = day(0)

    @fcase(tap, "GET /fhir/metadata: a CapabilityStatement (4.0.1, json, the $submit operation), "
              "for any role")
    def _():
        for who in ("provider", "auditor", "ocmw"):
            j = fhir(d.request(who, "GET", "/fhir/metadata"), 200, "CapabilityStatement")
            expect(j["fhirVersion"] == "4.0.1" and j["format"] == ["json"], repr(j))
            res = j["rest"][0]["resource"][0]
            expect(res["type"] == "CoverageEligibilityRequest"
                   and res["operation"][0]["name"] == "submit", repr(j))

    @fcase(tap, "covered, several items and one unknown code: outcome complete, the same amounts "
              "as /v1/coverage and as GET /v1/agreements/{preAuthRef}, recorded")
    def _():
        s, _v = person(d, [cover("general_practice", ins="full", share="full")])
        items = [("101076", 1), ("101032", 2), ("999999", 1)]
        before = int(env.psql("SELECT count(*) FROM agreement"))
        j = response(submit(d, eligibility(s, t0, items=items, identifier="his-1")))
        expect(int(env.psql("SELECT count(*) FROM agreement")) == before + 1, "one agreement")
        expect(j["outcome"] == "complete" and j["insurance"][0]["inforce"] is True, repr(j))
        expect(j["patient"]["identifier"] == {"system": SSIN_SYSTEM, "value": s}, repr(j))
        expect(j["request"]["identifier"]["value"] == "his-1", repr(j["request"]))
        expect(j["servicedDate"] == t0, repr(j))
        a = agreement_of(d, j)
        same_amounts(j, a)
        v1 = d.request("provider", "POST", "/v1/coverage",
                       {"ssin": s, "service_date": t0, "care_type": "general_practice",
                        "items": [{"code": c, "quantity": q} for c, q in items]})
        expect(v1.status == 200, repr(v1))
        # two agreements: their numbers and so their signatures differ
        other = ("agreement", "signature")
        strip = {k: v for k, v in v1.json.items() if k not in other}
        expect(strip == {k: v for k, v in a.items() if k not in other},
               f"/v1/coverage {v1.json!r} vs FHIR's agreement {a!r}")
        ins = j["insurance"][0]
        expect(ins["coverage"]["identifier"]["value"] == a["decision"]["id"], repr(ins))
        expect(ins["benefitPeriod"] == a["cover"]["period"], repr(ins))
        row = env.psql(f"SELECT covered, care_type FROM agreement "
                       f"WHERE number = '{j['preAuthRef']}'")
        expect(row == "t|general_practice", f"recorded {row!r}")

    @fcase(tap, "batch-like: many items and a contained Patient, in the order asked; a "
              "category-only item asks the care type without amounts")
    def _():
        s, _v = person(d, [cover("general_practice")])
        items = [("101032", 3), ("101076", 1), ("102771", 2), ("101076", 4)]
        j = response(submit(d, eligibility(s, t0, items=items, contained=True)))
        a = agreement_of(d, j)
        expect([i["code"] for i in a["items"]] == [c for c, _q in items], repr(a))
        same_amounts(j, a)
        j2 = response(submit(d, eligibility(s, t0)))
        a2 = agreement_of(d, j2)
        expect(a2["covered"] is True and "items" not in a2, repr(a2))
        same_amounts(j2, a2)

    @fcase(tap, "refused: no_decision and invalid_ssin give outcome error, inforce false, the "
              "refusal code in error[], and an agreement (preAuthRef) as on /v1/coverage")
    def _():
        for ssin, code in ((new_ssin(), "no_decision"), (bad_ssin(new_ssin()), "invalid_ssin")):
            j = response(submit(d, eligibility(ssin, t0, items=[("101076", 1)])))
            expect(j["outcome"] == "error" and j["insurance"][0]["inforce"] is False, repr(j))
            err = j["error"][0]["code"]["coding"][0]
            expect(err == {"system": REFUSAL, "code": code}, repr(j["error"]))
            a = agreement_of(d, j)
            expect(a["covered"] is False and a["reason"]["code"] == code, repr(a))
            expect(j["disposition"] == a["reason"]["message"], repr(j))
            same_amounts(j, a)

    @fcase(tap, "refused with a decision (care_type_absent): the decision and the OCMW are named")
    def _():
        s, v = person(d, [cover("pharmacy")])
        j = response(submit(d, eligibility(s, t0, items=[("101076", 1)])))
        a = agreement_of(d, j)
        expect(a["reason"]["code"] == "care_type_absent", repr(a))
        expect(j["insurance"][0]["coverage"]["identifier"]["value"] == v["id"], repr(j))
        expect(j["insurer"]["identifier"]["value"] == PRINCIPALS["ocmw"][1], repr(j))

    @fcase(tap, "partially capped: the monthly cap as allowedMoney/usedMoney (cap, used, granted, "
              "remaining), equal to the agreement's caps; a second answer sees the cap used")
    def _():
        s, _v = capped_person(d, 1000)
        j = response(submit(d, eligibility(s, t0, items=[("101076", 2)])))
        a = agreement_of(d, j)
        same_amounts(j, a)
        cap_items = [i for i in j["insurance"][0]["item"] if i.get("name") == "patient_share_cap"]
        expect(len(cap_items) == 1, repr(j))
        b = benefits(cap_items[0])
        c = a["caps"]["patient_share"]
        expect(b["cap"] == {"allowedMoney": c["cap_cents"], "usedMoney": c["used_cents"]}
               and b["granted"]["usedMoney"] == c["granted_cents"]
               and b["remaining"]["allowedMoney"] == c["remaining_cents"], f"{b!r} vs {c!r}")
        expect(c["cap_cents"] == 1000 and c["granted_cents"] == 1000, repr(c))
        j2 = response(submit(d, eligibility(s, t0, items=[("101076", 1)])))
        b2 = benefits([i for i in j2["insurance"][0]["item"]
                       if i.get("name") == "patient_share_cap"][0])
        expect(b2["cap"]["usedMoney"] == 1000 and b2["remaining"]["allowedMoney"] == 0, repr(b2))

    @fcase(tap, "Idempotency-Key is treated as on /v1/coverage (not used): two submits, two "
              "agreements; application/json is accepted as well")
    def _():
        s, _v = person(d, [cover("general_practice")])
        h = ["Idempotency-Key: fhir-1"]
        j1 = response(submit(d, eligibility(s, t0), headers=h))
        j2 = response(submit(d, eligibility(s, t0), headers=h, content_type="application/json"))
        expect(j1["preAuthRef"] != j2["preAuthRef"], "the same agreement twice")


def errors(env, tap, d):
    t0 = day(0)
    s = new_ssin()

    def bad(mutate):
        b = eligibility(s, t0, items=[("101076", 1)])
        mutate(b)
        return b

    cases = [
        ("resourceType", lambda b: b.update(resourceType="Patient")),
        ("CoverageEligibilityRequest.servicedDate", lambda b: b.pop("servicedDate")),
        ("CoverageEligibilityRequest.servicedDate", lambda b: b.update(servicedDate="2026-13-01")),
        ("CoverageEligibilityRequest.status", lambda b: b.update(status="cancelled")),
        ("CoverageEligibilityRequest.purpose", lambda b: b.update(purpose=["discovery"])),
        ("CoverageEligibilityRequest.patient.identifier",
         lambda b: b.update(patient={"identifier": {"system": "urn:other", "value": s}})),
        ("CoverageEligibilityRequest.patient.reference",
         lambda b: b.update(patient={"reference": "#nobody"})),
        ("CoverageEligibilityRequest.item[0].category",
         lambda b: b["item"][0]["category"]["coding"][0].update(code="dentistry")),
        ("CoverageEligibilityRequest.item[0].productOrService",
         lambda b: b["item"][0]["productOrService"]["coding"][0].update(code="12")),
        ("CoverageEligibilityRequest.item[0].quantity.value",
         lambda b: b["item"][0].update(quantity={"value": 0})),
        ("CoverageEligibilityRequest.item", lambda b: b.pop("item")),
        ("CoverageEligibilityRequest.created", lambda b: b.pop("created")),
    ]

    @fcase(tap, "not a valid CoverageEligibilityRequest: 422 OperationOutcome naming the element "
              "(FHIRPath); malformed JSON 400; nothing recorded (agreements, audit)")
    def _():
        before = counts(env)
        for expression, mutate in cases:
            r = submit(d, bad(mutate))
            j = fhir(r, 422, "OperationOutcome")
            exprs = [e for i in j["issue"] for e in i.get("expression") or []]
            expect(expression in exprs, f"{expression} not in {exprs!r}: {j!r}")
        outcome(submit(d, "{not json"), 400, "structure", problem="malformed_json")
        outcome(submit(d, "[]"), 400, "structure", problem="malformed_json")
        outcome(submit(d, "{}", content_type="text/plain"), 415, "not-supported")
        expect(counts(env) == before, f"recorded: {before} -> {counts(env)}")

    @fcase(tap, "unknown resource types and operations under /fhir: 404 OperationOutcome; a wrong "
              "method 405; another role 403; nothing recorded")
    def _():
        before = counts(env)
        body = eligibility(s, t0)
        outcome(d.request("provider", "POST", "/fhir/Patient/$submit", body,
                          content_type=FHIR_CT), 404, "not-found", problem="not_found")
        outcome(d.request("provider", "POST", "/fhir/CoverageEligibilityRequest/$validate", body,
                          content_type=FHIR_CT), 404, "not-found")
        outcome(d.request("provider", "GET", "/fhir/Coverage/1"), 404, "not-found")
        outcome(d.request("provider", "GET", "/fhir"), 404, "not-found")
        outcome(d.request("provider", "GET", SUBMIT), 405, "not-supported")
        outcome(submit(d, body, who="ocmw"), 403, "forbidden", problem="forbidden")
        outcome(submit(d, body, who="auditor"), 403, "forbidden")
        expect(counts(env) == before, f"recorded: {before} -> {counts(env)}")


def throttled(env, tap):
    d = Daemon(env, "fhir429", rate_limit_provider_per_s=1, rate_limit_provider_burst=2)
    if not started(tap, d):
        return

    @fcase(tap, "a rate limit under /fhir: 429 OperationOutcome (throttled) with Retry-After")
    def _():
        rs = [d.request("provider", "GET", "/fhir/metadata") for _ in range(6)]
        limited = [r for r in rs if r.status == 429]
        expect(limited, f"no 429 in {[r.status for r in rs]}")
        outcome(limited[0], 429, "throttled", problem="rate_limited")
        expect(limited[0].header("retry-after"), repr(limited[0]))

    clean_exit(tap, d)
