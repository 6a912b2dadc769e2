"""Integration tests of issue 10's last gaps: the card for every provider kind (a principal
of each kind registered here), coverage-as-of judging the provider's kind and giving the caps
as the agreement's answer had them, problem details and field errors in the language asked."""

import json

from harness import PRINCIPALS, Daemon, clean_exit, day, expect, lib, new_ssin, started
from tests_agreements import cover, person
from tests_invoices import kbo

# every kind proto/provider_kind knows, an organisation number of the right form for it,
# and the care types DOMAIN.md ("Provider kinds") lets it ask, in the order of the eight
CARE_TYPES = ("hospitalisation", "ambulatory_hospital", "general_practice", "paramedical",
              "pharmacy", "prosthesis", "medical_transport", "miscellaneous")
KINDS = {
    "hospital": ("72012345678", ("hospitalisation", "ambulatory_hospital", "pharmacy",
                                 "medical_transport", "miscellaneous")),
    "general_practitioner": ("10087654321", ("general_practice", "miscellaneous")),
    "pharmacy": ("30012345678", ("pharmacy",)),
    "paramedical": ("50012345678", ("paramedical",)),
    "medical_transport": (kbo("04123456"), ("medical_transport",)),
    "prosthesis": (kbo("04654321"), ("prosthesis",)),
}
AMOUNT_KEYS = ("fee_cents", "state_cents", "ocmw_cents", "patient_cents", "cap_cents",
               "patient_share_cap_cents", "supplements_cap_cents", "designated_providers")


def who_of(kind):
    return f"gaps-{kind.replace('_', '-')}"


def add_kind_principals(env):
    for kind, (org, _types) in KINDS.items():
        name = who_of(kind)
        if not env.cert(name)[0].exists():
            lib(f'_ca_leaf "{env.certs}" {name} "/O=medaid tests/CN={name}" '
                '"${_client_ext[@]}"')
        env.principal_add(name, "provider", org, kind=kind)


def card(d, ssin, who, **q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    return d.request(who, "GET", f"/v1/beneficiaries/{ssin}/card?{qs}")


def run(env, tap):
    d = Daemon(env, "gaps", workers=2)
    if not started(tap, d):
        return
    add_kind_principals(env)
    card_tests(env, tap, d)
    clean_exit(tap, d)


def card_tests(env, tap, d):
    t0 = day(0)

    @tap.case("the card for every provider kind: exactly the covers of the care types that "
              "kind may ask (in their order), designated yes/no for that provider, the "
              "decision, version and OCMW; the other care types of the kind not covered with "
              "their reason; never an amount nor a list")
    def _():
        # every care type covered but miscellaneous; the designation names the pharmacy
        # (pharmacy), the paramedic (paramedical) and the transport firm (transport) only
        pharm, para, transp = (KINDS[k][0] for k in ("pharmacy", "paramedical",
                                                     "medical_transport"))
        covers = [cover("hospitalisation"), cover("ambulatory_hospital"),
                  cover("general_practice", share="partial", cap=1000),
                  cover("paramedical", designated=[para]),
                  cover("pharmacy", designated=[pharm, "72099999999"]),
                  cover("prosthesis"), cover("medical_transport", designated=[transp])]
        s, v = person(d, covers)
        designated = {"paramedical": {para}, "pharmacy": {pharm, "72099999999"},
                      "medical_transport": {transp}}
        for kind, (org, types) in KINDS.items():
            r = card(d, s, who_of(kind), date=t0)
            expect(r.status == 200, f"{kind}: {r!r}")
            j = r.json
            text = json.dumps(j)
            expect(not any(k in text for k in AMOUNT_KEYS), f"{kind}: amounts: {text}")
            expect(j["provider_kind"] == kind and j["ssin"] == s and j["from"] == t0 and
                   j["to"] == t0, f"{kind}: {j!r}")
            want = [t for t in CARE_TYPES if t in types and t != "miscellaneous"]
            got = [c["care_type"] for c in j["covers"]]
            expect(got == want, f"{kind}: covers {got!r}, want {want!r}")
            for c in j["covers"]:
                ds = designated.get(c["care_type"])
                expect(c["designated"] is (ds is None or org in ds) and
                       c["decision"] == {"id": v["id"], "version": 1,
                                         "ocmw": PRINCIPALS["ocmw"][1]} and
                       c["period"] == {"start": day(-10), "end": day(170)} and
                       c["prescription_required"] is False and c["convention"] is False and
                       c["urgent_attestation_required"] is False, f"{kind}: {c!r}")
            nc = [(n["care_type"], n["reason"]["code"]) for n in j["not_covered"]]
            want_nc = [("miscellaneous", "care_type_absent")] if "miscellaneous" in types \
                else []
            expect(nc == want_nc, f"{kind}: not covered {nc!r}, want {want_nc!r}")
            row = env.psql("SELECT provider_org, covered FROM card_consultation WHERE "
                           f"number = '{j['consultation']}'")
            expect(row == f"{org}|t", f"{kind}: recorded {row!r}")

    @tap.case("the card for a kind whose care types the person has no cover for: no covers, "
              "each care type of the kind with care_type_absent (recorded as not covered); "
              "and for a person without any decision: no_decision")
    def _():
        s, _v = person(d, [cover("general_practice"), cover("pharmacy")])
        for kind in ("prosthesis", "paramedical", "medical_transport"):
            j = card(d, s, who_of(kind), date=t0).json
            expect(j["covers"] == [] and
                   [(n["care_type"], n["reason"]["code"]) for n in j["not_covered"]] ==
                   [(kind, "care_type_absent")], f"{kind}: {j!r}")
            row = env.psql("SELECT covered, reasons FROM card_consultation WHERE "
                           f"number = '{j['consultation']}'")
            expect(row == "f|{care_type_absent}", f"{kind}: recorded {row!r}")
        j = card(d, s, who_of("pharmacy"), date=t0).json
        expect([c["care_type"] for c in j["covers"]] == ["pharmacy"] and
               j["not_covered"] == [], repr(j))
        j = card(d, new_ssin(), who_of("hospital"), date=t0).json
        expect(j["covers"] == [] and [(n["care_type"], n["reason"]["code"])
                                      for n in j["not_covered"]] ==
               [(t, "no_decision") for t in KINDS["hospital"][1]], repr(j))
