"""Integration tests of issue 10's last gaps: the card for every provider kind (a principal
of each kind registered here), coverage-as-of judging the provider's kind and giving the caps
as the agreement's answer had them, problem details and field errors in the language asked."""

import json
import urllib.parse

from harness import PRINCIPALS, ROOT, Daemon, clean_exit, day, expect, lib, new_ssin, started
from tests_agreements import ask, cover, import_csv, person
from tests_audit import one
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
    as_of_tests(env, tap, d)
    language_tests(env, tap, d)
    missing_tests(env, tap, d)
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


# ---- coverage-as-of: the kind, the caps -----------------------------------------------------
SAMPLE = ROOT / "scripts" / "sample-tariffs.csv"
GP_ORG = PRINCIPALS["provider"][1]
HOSPITAL_ORG = PRINCIPALS["provider2"][1]
# a hospitalisation (patient share 1500 in the sample) with a 3000 room supplement
HOSP_ITEMS = [{"code": "590011", "quantity": 1, "supplements_cents": 3000,
               "supplement_type": "room"}]
HOSP_QS = "590011:1:3000:room"


def sample_with(fee, share):
    out = []
    for line in SAMPLE.read_text().splitlines():
        if line.startswith("590011,"):
            line = f"590011,2025-01-01,2027-12-31,{fee},{share},hospitalisation"
        out.append(line)
    return "\n".join(out) + "\n"


def known_of(env, number):
    """The agreement's known_at (UTC, microseconds); a refusal judged before any lookup (the
    provider's kind) has none: then the moment it was issued."""
    return one(env, "SELECT to_char(coalesce(known_at, issued_at) AT TIME ZONE 'UTC', "
                    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM agreement "
                    f"WHERE number = '{number}'")


def as_of(d, ssin, care_type, known, provider=None, items=None, lang=None):
    q = {"ssin": ssin, "service_date": day(0), "care_type": care_type, "known_at": known}
    if provider:
        q["provider"] = provider
    if items:
        q["items"] = items
    h = [f"Accept-Language: {lang}"] if lang else []
    r = d.request("auditor", "GET", "/v1/audit/coverage-as-of?" + urllib.parse.urlencode(q),
                  headers=h)
    expect(r.status == 200, repr(r))
    return r.json


def as_of_tests(env, tap, d):
    t0 = day(0)
    st = {}

    @tap.case("coverage-as-of at each agreement's known_at, with its provider: the agreement's "
              "answer exactly, caps included (patient share capped a month, supplements capped), "
              "across several agreements, a void and a tariff re-import; a GP's hospitalisation "
              "refused provider_kind_mismatch then and as of then")
    def _():
        expect(import_csv(d, SAMPLE.read_text()).status == 200, "the sample tariffs")
        s, _v = person(d, [cover("hospitalisation", ins="full", share="partial", cap=2000,
                                 supp="partial", supp_cap=2000, allowed=["room"]),
                           cover("ambulatory_hospital"), cover("general_practice")],
                   hosp=(100, 0))
        st["ssin"] = s
        got = []  # (who, org, care type, items, items qs, lang, answer, body)

        def asked(who, org, care_type="hospitalisation", items=HOSP_ITEMS, qs=HOSP_QS,
                  lang=None):
            r = ask(d, s, t0, care_type, items=items, who=who, lang=lang)
            expect(r.status == 200, repr(r))
            got.append((who, org, care_type, items, qs, lang, r.json, r.body))
            return r.json

        a1 = asked("provider2", HOSPITAL_ORG)
        a2 = asked("provider2", HOSPITAL_ORG, lang="de")
        r = import_csv(d, sample_with(9600, 1700))
        expect(r.status == 200, repr(r))
        v = d.request("provider2", "POST", f"/v1/agreements/{a1['agreement']}/void", {})
        expect(v.status == 200, repr(v))
        a3 = asked("provider2", HOSPITAL_ORG, lang="fr")
        gp = asked("provider", GP_ORG, lang="nl")
        gp2 = asked("provider", GP_ORG, "general_practice", [{"code": "101076"}], "101076")
        ps = [a["caps"]["patient_share"] for a in (a1, a2, a3)]
        expect([(c["used_cents"], c["granted_cents"], c["remaining_cents"]) for c in ps] ==
               [(0, 1500, 500), (1500, 500, 0), (500, 1500, 0)], f"caps: {ps!r}")
        sp = a3["caps"]["supplements"]
        expect((sp["cap_cents"], sp["granted_cents"]) == (2000, 2000), f"supplements: {sp!r}")
        expect(a3["items"][0]["fee_cents"] == 9600 and a1["items"][0]["fee_cents"] == 9000,
               "the re-import changed the amounts")
        expect(gp["covered"] is False and gp["reason"]["code"] == "provider_kind_mismatch" and
               gp2["covered"] is True, repr(gp))
        for who, org, ct, _items, qs, lang, a, body in got:
            n = a["agreement"]
            known = known_of(env, n)
            j = as_of(d, s, ct, known, provider=org, items=qs, lang=lang)
            # an as-of answer is computed again: no number, no signature
            sent = {k: x for k, x in json.loads(body).items()
                    if k not in ("agreement", "signature")}
            mine = {k: x for k, x in j.items() if k not in ("known_at", "tariff_version")}
            expect(json.dumps(mine, sort_keys=True) == json.dumps(sent, sort_keys=True),
                   f"{n} ({who}) at {known}:\nagreement {json.dumps(sent, sort_keys=True)}"
                   f"\nas-of     {json.dumps(mine, sort_keys=True)}")
            if "caps" in sent:
                expect(json.dumps(j["caps"]) == json.dumps(json.loads(body)["caps"]),
                       f"{n}: caps not byte-exact")
        st["gp"] = known_of(env, gp["agreement"])

    @tap.case("as-of without --provider does not judge the kind (covered); as the hospital it "
              "is covered; a number no provider principal had: not judged; the GP for general "
              "practice: covered")
    def _():
        s, known = st["ssin"], st["gp"]
        j = as_of(d, s, "hospitalisation", known)
        expect(j["covered"] is True, f"without a provider: {j!r}")
        j = as_of(d, s, "hospitalisation", known, provider=HOSPITAL_ORG)
        expect(j["covered"] is True, f"the hospital: {j!r}")
        j = as_of(d, s, "hospitalisation", known, provider="72099999999")
        expect(j["covered"] is True, f"an unknown number: {j!r}")
        j = as_of(d, s, "hospitalisation", known, provider=GP_ORG, lang="de")
        expect(j["covered"] is False and j["reason"]["code"] == "provider_kind_mismatch" and
               j["reason"]["message"] == j["reason"]["messages"]["de"], f"the GP: {j!r}")
        j = as_of(d, s, "general_practice", known, provider=GP_ORG)
        expect(j["covered"] is True, f"the GP, general practice: {j!r}")
        # before the GP principal existed, it had no kind: not judged
        j = as_of(d, s, "hospitalisation", "2001-01-01T00:00:00Z", provider=GP_ORG)
        expect(j["reason"]["code"] != "provider_kind_mismatch", f"in 2001: {j!r}")

    @tap.case("medaid audit as-of --provider: the GP asking hospitalisation is refused "
              "provider_kind_mismatch (exit 5)")
    def _():
        args = ["audit", "as-of", "--ssin", st["ssin"], "--date", t0, "--care-type",
                "hospitalisation", "--known-at", st["gp"]]
        p = d.client("auditor", *args, "--provider", GP_ORG)
        expect(p.returncode == 5 and "provider_kind_mismatch" in p.stdout,
               f"{p.returncode} {p.stdout} {p.stderr}")
        p = d.client("auditor", *args, "--provider", HOSPITAL_ORG)
        expect(p.returncode == 0, f"the hospital: {p.returncode} {p.stdout} {p.stderr}")

    @tap.case("the sample tariffs again, as the newest version")
    def _():
        r = import_csv(d, SAMPLE.read_text())
        expect(r.status == 200, repr(r))


# ---- problem details and field errors in the language asked --------------------------------
def language_tests(env, tap, d):
    @tap.case("a German 422: title, detail and every field error's message in German (the "
              "field and code unchanged); the same request in English as before; a French "
              "and a Dutch detail")
    def _():
        body = {"ssin": "85073003329", "care_type": "dentistry", "extra": 1}
        de = d.request("provider", "POST", "/v1/coverage", body,
                       headers=["Accept-Language: de-BE, fr;q=0.5"])
        en = d.request("provider", "POST", "/v1/coverage", body)
        for r in (de, en):
            expect(r.status == 422 and r.json.get("code") == "validation_failed", repr(r))
        j = de.json
        expect(j["title"] == "Validierung fehlgeschlagen" and
               j["detail"] == "die Frage ist unvollständig oder falsch", repr(j))
        want = {"care_type": "ist kein gültiger Wert",
                "service_date": "ist erforderlich",
                "extra": "ist kein bekanntes Feld"}
        got = {e["field"]: e["message"] for e in j["errors"]}
        expect(got == want, f"German field errors: {got!r}")
        expect([(e["field"], e["code"]) for e in j["errors"]] ==
               [(e["field"], e["code"]) for e in en.json["errors"]], "fields and codes differ")
        expect(en.json["detail"] == "the question is incomplete or wrong" and
               all(e["message"] != want.get(e["field"]) for e in en.json["errors"]) and
               not any(ch in json.dumps(en.json["errors"], ensure_ascii=False)
                       for ch in "äöüß"), f"English: {en.json!r}")
        r = d.request("provider", "GET", "/v1/agreements/A2026-99999999",
                      headers=["Accept-Language: fr"])
        expect(r.status == 404 and r.json["detail"] == "cet accord n'existe pas", repr(r))
        r = d.request("ocmw", "GET", "/v1/no/such/thing", headers=["Accept-Language: nl"])
        expect(r.status == 404 and r.json["detail"] == "deze bron bestaat niet", repr(r))


# ---- audit_missing in pages (schema/010) ---------------------------------------------------
WALK = """
CREATE FUNCTION pg_temp.walk(p_limit integer) RETURNS SETOF text LANGUAGE plpgsql AS $w$
DECLARE k text; after text; nxt text; r record;
BEGIN
    FOREACH k IN ARRAY ARRAY['decision_version', 'agreement'] LOOP
        after := NULL;
        LOOP
            nxt := NULL;
            FOR r IN SELECT * FROM audit_missing_page(k, after, p_limit) LOOP
                IF r.kind IS NOT NULL THEN
                    RETURN NEXT r.kind || ' ' || r.object || ' ' || r.records;
                ELSE
                    nxt := r.next_after;
                END IF;
            END LOOP;
            EXIT WHEN nxt IS NULL;
            after := nxt;
        END LOOP;
    END LOOP;
END
$w$;
"""


def missing_tests(env, tap, d):
    @tap.case("audit_missing in pages (schema/010): with records of two agreements and of "
              "two decision versions removed (in a transaction rolled back), walking the pages "
              "of 1, 2, 3 and 100000 gives exactly audit_missing's rows in its order; verify "
              "(paged in the daemon) intact again afterwards")
    def _():
        from tests_agreements import ask as ask_
        made = []
        for _ in range(3):
            s, v = person(d, [cover("general_practice")])
            a = ask_(d, s, day(0)).json["agreement"]
            made.append((v["id"], a))
        objs = [f"{made[0][0]}/1", f"{made[2][0]}/1", made[0][1], made[1][1]]
        inlist = ",".join(f"'{o}'" for o in objs)
        sql = ("BEGIN; ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; "
               f"DELETE FROM audit_log WHERE object IN ({inlist}); " + WALK +
               "SELECT (SELECT string_agg(kind || ' ' || object || ' ' || records, ';') "
               "FROM audit_missing(100000)) || '#' || "
               "(SELECT string_agg(w, ';') FROM pg_temp.walk(1) w) || '#' || "
               "(SELECT string_agg(w, ';') FROM pg_temp.walk(2) w) || '#' || "
               "(SELECT string_agg(w, ';') FROM pg_temp.walk(3) w) || '#' || "
               "(SELECT string_agg(w, ';') FROM pg_temp.walk(100000) w); ROLLBACK")
        out = env.superuser_psql(sql).splitlines()
        row = [x for x in out if "#" in x]
        expect(len(row) == 1, f"psql: {out!r}")
        whole, *pages = row[0].split("#")
        rows = whole.split(";")
        expect(len(rows) == 4 and {r.split(" ")[1] for r in rows} == set(objs) and
               all(r.endswith(" 0") for r in rows), f"audit_missing: {rows!r}")
        expect(all(p == whole for p in pages), f"pages: {pages!r} != {whole!r}")
        # the transaction held audit_log's lock: the daemon's writes queued behind it may
        # still be draining (503 database_timeout is then the right answer: retry)
        import time
        for _ in range(10):
            v = d.request("auditor", "GET", "/v1/audit/verify", max_time=30)
            if v.status != 503:
                break
            time.sleep(1)
        expect(v.status == 200 and v.json.get("intact") is True, f"after the rollback: {v!r}")
